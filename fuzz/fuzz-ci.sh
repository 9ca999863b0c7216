#!/bin/sh
# make fuzz-ci: the CI fuzz job.  Builds the libFuzzer targets (make fuzz)
# and the seeds (make corpus), replays every seed and regression input,
# then fuzzes each target for SECONDS.  Fails on any crash, hang (-timeout),
# leak (LeakSanitizer, or an fd a target's check finds open), out-of-memory
# or sanitizer report, printing the reproducer's path and a one-line
# replay command.  Usage: fuzz-ci.sh SECONDS [TARGET...]
set -u
secs=${1:-60}
shift || true
targets=${*:-decode server_session client caps scn trace}
bin=build/fuzz
work=build/fuzz-ci
make -s fuzz >/dev/null || { echo "fuzz-ci: make fuzz failed" >&2; exit 1; }
make -s corpus >/dev/null || { echo "fuzz-ci: make corpus failed" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work"
fail=0
report() {   # target, log, artifact dir
    art=$(ls -t "$3"/crash-* "$3"/leak-* "$3"/timeout-* "$3"/oom-* "$3"/slow-unit-* 2>/dev/null | head -n 1)
    echo "fuzz-ci: $1: FAILED"
    grep -E "ERROR:|SUMMARY:|fuzz: |fuzz_[a-z]+: " "$2" | head -n 5 | sed 's/^/    /'
    if [ -n "$art" ]; then
        echo "    reproducer: $art"
        env=
        [ -n "${VFU_FUZZ_FAULTS:-}" ] && env="VFU_FUZZ_FAULTS=$VFU_FUZZ_FAULTS "
        echo "    replay: $env$bin/fuzz_$1 $art"
    else
        echo "    no reproducer written; log: $2"
    fi
}
for t in $targets; do
    art="$work/artifacts/$t"
    mkdir -p "$art" "$work/corpus/$t"
    dirs="corpus/seeds/$t build/corpus/$t"
    [ -d "corpus/regressions/$t" ] && dirs="$dirs corpus/regressions/$t"
    # 1. replay: every seed and regression input, once
    # shellcheck disable=SC2086
    if ! "$bin/fuzz_$t" -runs=0 -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$art/" \
        $dirs >"$work/$t.replay.log" 2>&1; then
        report "$t" "$work/$t.replay.log" "$art"
        fail=1
        continue
    fi
    # 2. fuzz: new inputs go to the work corpus, the seeds stay as they are
    # shellcheck disable=SC2086
    if "$bin/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
        -dict="build/corpus/$t.dict" -artifact_prefix="$art/" -print_final_stats=1 \
        "$work/corpus/$t" $dirs >"$work/$t.log" 2>&1; then
        line=$(grep -E "DONE" "$work/$t.log" | tail -n 1)
        execs=$(grep -E "stat::number_of_executed_units" "$work/$t.log" | awk '{print $2}')
        rate=$(grep -E "stat::average_exec_per_sec" "$work/$t.log" | awk '{print $2}')
        cov=$(echo "$line" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
        printf 'fuzz-ci: %-15s ok: %ss, %s runs, %s exec/s, %s edges\n' "$t" "$secs" "$execs" "$rate" "$cov"
    else
        report "$t" "$work/$t.log" "$art"
        fail=1
    fi
done
[ $fail -eq 0 ] && echo "fuzz-ci: passed (${secs}s per target)" || echo "fuzz-ci: FAILED"
exit $fail
