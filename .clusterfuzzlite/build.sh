#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build: the fuzz targets of fuzz/ under the
# contract's $CC $CXX $CFLAGS $LIB_FUZZING_ENGINE $OUT (and $SRC, $WORK
# when set).  Produces in $OUT, for each target T:
#   fuzz_T                     the fuzzer
#   fuzz_T_seed_corpus.zip     corpus/seeds/T and corpus/regressions/T
#   fuzz_T.dict                the dictionary vfu-corpus makes from the spec tables
#   fuzz_T.options             libFuzzer options (max_len, timeout)
# Run from the source tree's top (OSS-Fuzz does: WORKDIR is the project).
cd "$(dirname "$0")/.."
work=${WORK:-/tmp}/vfu-cflite
targets="decode server_session client caps scn trace"
# json-c and libcbor linked statically where an archive exists: the
# runner image that executes the fuzzers has neither shared library
static_libs=
for l in json-c cbor; do
    a=$($CC -print-file-name="lib$l.a")
    if [ -f "$a" ]; then static_libs="$static_libs $a"; else static_libs="$static_libs -l$l"; fi
done
# under libFuzzer the session targets carry the spec-aware custom mutator
# (fuzz/mutator_libfuzzer.c); other engines mutate in their own way
mut=0
[ "${FUZZING_ENGINE:-libfuzzer}" = libfuzzer ] && mut=1
CFLAGS="$CFLAGS" LDFLAGS="$CFLAGS" make -j"$(nproc)" BUILD="$work/build" CC="$CC" SANITIZE=0 \
    FUZZ_ENGINE="$LIB_FUZZING_ENGINE" FUZZ_LD="$CXX" LIB_LDLIBS="$static_libs" FUZZ_CUSTOM_MUTATOR=$mut fuzz-engine-bins
# the dictionary tool is a build tool: plain flags, no engine
env -u CFLAGS -u CXXFLAGS -u LDFLAGS make -j"$(nproc)" BUILD="$work/host" CC="$CC" SANITIZE=0 \
    "$work/host/vfu-corpus"
for t in $targets; do
    cp "$work/build/fuzz_$t" "$OUT/"
    "$work/host/vfu-corpus" dict "$t" >"$OUT/fuzz_$t.dict"
    printf '[libfuzzer]\nmax_len = 8192\ntimeout = 10\n' >"$OUT/fuzz_$t.options"
    rm -f "$OUT/fuzz_${t}_seed_corpus.zip"
    dirs=corpus/seeds/$t
    [ -d "corpus/regressions/$t" ] && dirs="$dirs corpus/regressions/$t"
    # shellcheck disable=SC2086
    zip -q -j "$OUT/fuzz_${t}_seed_corpus.zip" $(find $dirs -type f)
done
