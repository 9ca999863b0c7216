#!/bin/sh
# make check: .clusterfuzzlite/build.sh run locally under the OSS-Fuzz /
# ClusterFuzzLite contract ($CC $CXX $CFLAGS $LIB_FUZZING_ENGINE $OUT $WORK
# as the base-builder image sets them for libFuzzer + ASan), then each
# fuzzer it made runs its seed corpus and 200 fuzzing runs with its
# dictionary; the session targets must carry the custom mutator.  When clang's libFuzzer is missing it says SKIP and why, and
# passes (run-tests.sh knows no skip status).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/vfu-cflite-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
if ! printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' |
    clang -fsanitize=fuzzer -x c - -o "$tmp/probe" 2>/dev/null; then
    echo "cflite: SKIP: clang with libFuzzer (-fsanitize=fuzzer) not found"
    exit 0
fi
mkdir -p "$tmp/out" "$tmp/work"
export CC=clang CXX=clang++ OUT="$tmp/out" WORK="$tmp/work" SRC="$top"
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address,undefined -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link"
export LIB_FUZZING_ENGINE="-fsanitize=fuzzer"
if ! (cd "$top" && nice bash .clusterfuzzlite/build.sh) >"$tmp/build.log" 2>&1; then
    tail -n 30 "$tmp/build.log"
    echo "cflite: FAILED: build.sh"
    exit 1
fi
fail=0
for t in decode server_session client caps scn trace; do
    f="$OUT/fuzz_$t"
    for x in "$f" "${f}_seed_corpus.zip" "$f.dict" "$f.options"; do
        [ -s "$x" ] || { echo "cflite: FAILED: $x missing or empty"; fail=1; }
    done
    [ -x "$f" ] || continue
    # the session targets carry the spec-aware mutator under libFuzzer
    case $t in server_session|client)
        nm "$f" 2>/dev/null | grep -q ' T LLVMFuzzerCustomMutator$' ||
            { echo "cflite: FAILED: fuzz_$t has no LLVMFuzzerCustomMutator"; fail=1; } ;;
    esac
    mkdir -p "$tmp/seeds/$t"
    (cd "$tmp/seeds/$t" && unzip -q "${f}_seed_corpus.zip")
    if ! "$f" -runs=200 -max_len=8192 -dict="$f.dict" "$tmp/seeds/$t" >"$tmp/$t.log" 2>&1; then
        tail -n 20 "$tmp/$t.log"
        echo "cflite: FAILED: fuzz_$t"
        fail=1
    elif ! grep -q "Done 200 runs\|DONE" "$tmp/$t.log"; then
        echo "cflite: FAILED: fuzz_$t did not fuzz"; fail=1
    fi
done
[ $fail -eq 0 ] && echo "cflite: build.sh made 6 working fuzzers"
exit $fail
