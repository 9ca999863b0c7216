#!/bin/sh
# make fuzz-afl: afl-fuzz on one target for SECONDS, with the cmplog
# build beside the plain one (afl-fuzz -c).  The spec-aware custom mutator
# is used when its library exists (built by the mutator's make target at
# $AFL_MUTATOR, default build/fuzz/libvfu-mutator-afl.so); without it
# AFL++ mutates bytes only, and this says so.  Usage: fuzz-afl.sh TARGET SECONDS
set -u
t=$1 secs=$2
bin=build/fuzz-afl/fuzz_$t cmplog=build/fuzz-afl-cmplog/fuzz_$t
out=build/fuzz-afl/out/$t
mutator=${AFL_MUTATOR:-build/fuzz/libvfu-mutator-afl.so}
[ -x "$bin" ] && [ -x "$cmplog" ] || { echo "fuzz-afl: $bin or $cmplog missing (make fuzz-afl-build)" >&2; exit 1; }
seeds=corpus/seeds/$t
[ -d "build/corpus/$t" ] && seeds=build/corpus/$t
rm -rf "$out"
mkdir -p "$out"
# the mutator reads and writes sessions (lib/runtime/fuzz_session.h): it serves the
# session targets; the others take JSON, scenario text, CBOR or one message
# and get AFL++'s own mutation (with the dictionary)
case $t in
    server_session) export VFU_MUT_TARGET=server
        # the reference device's regions (servers/toydev.h): config, BAR0, BAR2, BAR4
        export VFU_MUT_REGIONS=7:4096,0:4096,2:65536,4:4096 ;;
    client) export VFU_MUT_TARGET=client ;;
    *) mutator= ;;
esac
if [ -z "$mutator" ]; then
    echo "fuzz-afl: $t does not take sessions: AFL++'s own mutation"
elif [ -f "$mutator" ]; then
    echo "fuzz-afl: custom mutator $mutator"
    export AFL_CUSTOM_MUTATOR_LIBRARY="$(cd "$(dirname "$mutator")" && pwd)/$(basename "$mutator")"
else
    echo "fuzz-afl: no custom mutator at $mutator: byte mutation only"
fi
dict=
[ -f "build/corpus/$t.dict" ] && dict="-x build/corpus/$t.dict"
# no CPU binding on a shared machine; no UI; ASan needs no memory limit
export AFL_NO_AFFINITY=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
# shellcheck disable=SC2086
nice afl-fuzz -i "$seeds" -o "$out" -V "$secs" -m none -t 10000 -c "$cmplog" $dict -- "$bin" >"$out.log" 2>&1
rc=$?
stats=$out/default/fuzzer_stats
if [ -f "$stats" ]; then
    grep -E "^(execs_done|execs_per_sec|edges_found|total_edges|saved_crashes|saved_hangs|corpus_count)" "$stats" |
        sed "s/^/fuzz-afl: $t: /"
fi
crashes=$(ls "$out"/default/crashes/id* 2>/dev/null | head -n 1)
if [ -n "$crashes" ]; then
    echo "fuzz-afl: $t: crash: $crashes"
    echo "    replay: build/fuzz/fuzz_$t $crashes   (or build/fuzz-replay/fuzz_$t $crashes)"
    exit 1
fi
[ $rc -eq 0 ] || { tail -n 20 "$out.log"; exit 1; }
