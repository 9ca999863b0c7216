#!/bin/sh
# make bench-fuzz: the mutator's speed against plain byte mutation, then the
# session target (bench/fuzz_session_min.c: the reference server) fuzzed by
# libFuzzer for SECONDS with and without the custom mutator, both runs at
# once (the same load on both), from the same seeds, with the same -seed.
#
#   bench_fuzz.sh BENCH_MUTATE BIN_DIR SECONDS
set -eu
mut=${1:?usage: bench_fuzz.sh BENCH_MUTATE BIN_DIR SECONDS}
dir=${2:?}
secs=${3:?}
tmp=$(mktemp -d)
pids=
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || :; done
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

"$mut"
echo
mkdir "$tmp/seeds"
"$mut" --seeds "$tmp/seeds"
nseeds=$(ls "$tmp/seeds" | wc -l)

for v in plain mut; do
    mkdir "$tmp/corpus-$v"
    # -close_fd_mask=2: the server's log lines go nowhere; libFuzzer's stay
    nice "$dir/fuzz_session_$v" -max_total_time="$secs" -print_final_stats=1 -seed=1 \
        -max_len=4096 -timeout=10 -rss_limit_mb=2048 -close_fd_mask=2 \
        "$tmp/corpus-$v" "$tmp/seeds" >"$tmp/$v.log" 2>&1 &
    pids="$pids $!"
done
rc=0
for p in $pids; do wait "$p" || rc=$?; done
pids=
[ "$rc" -eq 0 ] || { echo "a fuzzing run failed (exit $rc):"; tail -n 30 "$tmp"/*.log; exit 1; }

# the last status line (cov: edges, ft: features, corp: units) and the
# final stats
field() { grep -E '^#[0-9]+' "$1" | tail -n 1 | sed -n "s/.* $2: \([0-9]*\).*/\1/p"; }
stat() { sed -n "s/^stat::$2: *//p" "$1" | tail -n 1; }
echo "session target (reference server), $secs s each, run side by side, $nseeds seed sessions:"
printf '  %-28s %8s %8s %8s %10s %10s\n' mutation "cov" "ft" "corpus" "exec/s" "execs"
for v in plain mut; do
    name="plain libFuzzer"
    [ "$v" = mut ] && name="vfu mutator (custom)"
    printf '  %-28s %8s %8s %8s %10s %10s\n' "$name" "$(field "$tmp/$v.log" cov)" "$(field "$tmp/$v.log" ft)" \
        "$(field "$tmp/$v.log" corp)" "$(stat "$tmp/$v.log" average_exec_per_sec)" \
        "$(stat "$tmp/$v.log" number_of_executed_units)"
done
echo "(cov: edges reached; ft: libFuzzer's features; the issue's figure is BENCH_FUZZ_SECONDS=300)"
