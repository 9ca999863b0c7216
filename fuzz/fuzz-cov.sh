#!/bin/sh
# make fuzz-cov: what a corpus reaches, in lines and branches of our code.
# Every target, built with gcc --coverage (build/fuzz-cov), replays its
# inputs from each corpus root given (a root holds one directory per target:
# corpus/seeds, corpus/regressions, build/corpus, a libFuzzer or afl-fuzz
# campaign's output laid out the same way); then lcov captures the counts,
# and the summary is printed for servers/, lib/, clients/ and harness/ with
# a genhtml site in build/fuzz-cov/html.
#
#   fuzz-cov.sh BUILD_DIR "TARGETS" ROOT...
set -eu
b=${1:?usage: fuzz-cov.sh BUILD_DIR TARGETS ROOT...}
targets=${2:?}
shift 2
lcov -q --zerocounters -d "$b" >/dev/null
for t in $targets; do
    dirs=
    for root in "$@"; do
        [ -d "$root/$t" ] && dirs="$dirs $root/$t"
        # afl-fuzz output: ROOT/T/default/queue
        [ -d "$root/$t/default/queue" ] && dirs="$dirs $root/$t/default/queue"
    done
    [ -n "$dirs" ] || { echo "fuzz-cov: $t: no inputs under $*"; continue; }
    # shellcheck disable=SC2086
    VFU_FUZZ_QUIET=1 "$b/fuzz-replay/fuzz_$t" $dirs 2>&1 | sed "s/^/fuzz-cov: $t: /"
done
info=$b/fuzz-cov.info
lcov -q --capture -d "$b" --rc lcov_branch_coverage=1 -o "$info.all" >/dev/null 2>&1
lcov -q --extract "$info.all" '*/servers/*' '*/lib/*' '*/clients/*' '*/harness/*' --rc lcov_branch_coverage=1 -o "$info" >/dev/null 2>&1
for d in servers lib clients harness; do
    lcov -q --extract "$info" "*/$d/*" --rc lcov_branch_coverage=1 -o "$info.$d" >/dev/null 2>&1
    lcov --summary "$info.$d" --rc lcov_branch_coverage=1 2>&1 |
        sed -n "s/^ *\(lines\|functions\|branches\)\.*: */\1 /p" | tr '\n' ';' | sed "s/;/; /g; s/^/fuzz-cov: $d\/: /; s/; $/\n/"
done
genhtml -q --branch-coverage -o "$b/html" "$info" >/dev/null 2>&1 && echo "fuzz-cov: $b/html/index.html"
