#!/bin/sh
# The test runner itself (tests/run-tests.sh): TAP lines for a pass, a
# failure (with the program's output as diagnostics) and a timeout, the
# jobs run side by side, the logs kept, the summary line last, and the
# exit status.  Usage: run_tests_self.sh RUN-TESTS
set -u
RT=${1:?usage: run_tests_self.sh run-tests.sh}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
mk() { printf '#!/bin/sh\n%s\n' "$2" >"$tmp/$1"; chmod +x "$tmp/$1"; }
mk pass 'echo fine; exit 0'
mk broken 'echo "what broke" >&2; exit 3'
mk stuck 'sleep 60'
mk slow1 'sleep 1'
mk slow2 'sleep 1'
start=$(date +%s)
TEST_JOBS=4 TEST_TIMEOUT=2 TEST_LOGS="$tmp/logs" "$RT" "$tmp/pass" "$tmp/broken" "$tmp/stuck" "$tmp/slow1" "$tmp/slow2" >"$tmp/out" 2>&1
rc=$?
took=$(( $(date +%s) - start ))
[ "$rc" -eq 1 ] || fail "exit $rc, want 1"
head -n 2 "$tmp/out" | tr '\n' ' ' | grep -q '^TAP version 13 1\.\.5 $' || fail "no TAP header and plan"
grep -q '^ok [0-9]* - pass$' "$tmp/out" || fail "no ok line for pass"
grep -q '^not ok [0-9]* - broken # exit status 3$' "$tmp/out" || fail "no not-ok line for broken"
grep -q '^# what broke$' "$tmp/out" || fail "broken's output not shown"
grep -q '^not ok [0-9]* - stuck # timed out after 2 s$' "$tmp/out" || fail "no timeout for stuck"
[ "$(tail -n 1 "$tmp/out")" = "make check: 3 passed, 2 failed" ] || fail "last line: $(tail -n 1 "$tmp/out")"
[ -s "$tmp/logs/pass.log" ] || fail "no log kept"
# five programs, four at a time, the longest bounded at 2 s: well under 5 s
[ "$took" -le 4 ] || fail "took $took s: not run side by side"
# numbers run 1..5 in the order of the lines
[ "$(grep -c '^\(not \)\{0,1\}ok ' "$tmp/out")" -eq 5 ] || fail "not five result lines"
TEST_JOBS=x "$RT" "$tmp/pass" >/dev/null 2>&1 && fail "TEST_JOBS=x accepted"
[ "$fails" -eq 0 ] && echo "run_tests_self: all passed"
[ "$fails" -eq 0 ]
