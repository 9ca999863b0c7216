#!/usr/bin/env bash
# Runs the test programs given, TEST_JOBS at a time (default: the number of
# processors), each bounded by TEST_TIMEOUT seconds (default 900: the
# slowest, sanitized, take about a minute), and prints TAP (version 13) as
# they end: "ok N - name" or "not ok N - name", with the tail of a failing
# program's output as diagnostics.  Every program's whole output is kept in
# TEST_LOGS (default: test-logs beside the first program).  The last line is
# "make check: N passed, N failed", the summary CI reads.
set -u
jobs=${TEST_JOBS:-$(nproc 2>/dev/null || echo 2)}
limit=${TEST_TIMEOUT:-900}
case $jobs in '' | *[!0-9]* | 0) echo "run-tests: TEST_JOBS must be a positive number" >&2; exit 2 ;; esac
case $limit in '' | *[!0-9]* | 0) echo "run-tests: TEST_TIMEOUT must be a positive number of seconds" >&2; exit 2 ;; esac
[ $# -gt 0 ] || { echo "run-tests: no test programs" >&2; exit 2; }
first=$1
logs=${TEST_LOGS:-$(dirname "$first")/test-logs}
mkdir -p "$logs" || exit 2
state=$(mktemp -d) || exit 2
# a stop (Ctrl-C, SIGTERM) takes the running tests with it
cleanup() { rm -rf "$state"; }
stop() {
    trap - INT TERM
    kill $(jobs -p) 2>/dev/null
    wait 2>/dev/null
    cleanup
    exit 130
}
trap stop INT TERM
trap cleanup EXIT

echo "TAP version 13"
echo "1..$#"
passed=0 failed=0 n=0 names=

# one test in the background: its output in the log, its status in $state
start() {
    local t=$1 i=$2 name=${1##*/}
    (
        timeout -k 10 "$limit" "$t" >"$logs/$name.log" 2>&1
        rc=$?
        # the name first, the status last and whole: report() takes a
        # test as ended once its .rc exists
        echo "$name" >"$state/$i.name"
        echo "$rc" >"$state/$i.tmp" && mv "$state/$i.tmp" "$state/$i.rc"
    ) &
}

# the ends so far, reported once each
report() {
    local f i rc name
    for f in "$state"/*.rc; do
        [ -e "$f" ] || continue
        i=${f##*/}; i=${i%.rc}
        rc=$(cat "$f"); name=$(cat "$state/$i.name")
        rm -f "$f" "$state/$i.name"
        n=$((n + 1))
        if [ "$rc" -eq 0 ]; then
            passed=$((passed + 1))
            echo "ok $n - $name"
        else
            failed=$((failed + 1)); names="$names $name"
            why="exit status $rc"
            [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && why="timed out after $limit s"
            echo "not ok $n - $name # $why"
            tail -n 60 "$logs/$name.log" | sed 's/^/# /'
        fi
    done
}

i=0
for t in "$@"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
        wait -n 2>/dev/null
        report
    done
    i=$((i + 1))
    start "$t" "$i"
done
wait
report

[ -n "$names" ] && echo "failed programs:$names (logs in $logs)"
echo "make check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
