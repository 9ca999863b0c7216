#!/bin/sh
# make check: each fuzz target (built with fuzz/driver_main.c, sanitized)
# runs over its checked-in seeds and the regression inputs of the bugs the
# fuzzers found.  Usage: test_fuzz_replay.sh BINDIR CORPUSDIR "TARGETS"
bindir=$1 corpus=$2 targets=$3
fail=0
for t in $targets; do
    dirs=
    for d in "$corpus/seeds/$t" "$corpus/regressions/$t"; do
        [ -d "$d" ] && dirs="$dirs $d"
    done
    if [ -z "$dirs" ]; then
        echo "fuzz_replay: $t: no seeds in $corpus/seeds/$t"
        fail=1
        continue
    fi
    # shellcheck disable=SC2086
    if ! out=$("$bindir/fuzz_$t" $dirs 2>&1); then
        echo "$out" | tail -n 30
        echo "fuzz_replay: $t: FAILED (replay: $bindir/fuzz_$t$dirs)"
        fail=1
    else
        echo "fuzz_replay: $t:" $(echo "$out" | grep -c inputs) "dirs," \
            $(echo "$out" | awk '/inputs$/ {n += $(NF-1)} END {print n}') inputs
    fi
done
exit $fail
