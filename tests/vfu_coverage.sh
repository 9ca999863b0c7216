#!/bin/sh
# reports/vfu-coverage end to end, on the reference server built with gcc
# --coverage: the counters are written and captured with branches, genhtml
# pages exist where the HTML report links, a server that ignores SIGTERM
# (killed, counts lost) is said to be so, a crashing one too, and bad
# input is refused.  Without lcov: skipped (failed in CI), as
# report_html_browser.sh does without Chromium.
#
#   vfu_coverage.sh SRC_ROOT TOOLS_DIR COV_BUILD_DIR
# TOOLS_DIR holds vfu-conform and libvfu-gcov-flush.so; COV_BUILD_DIR the
# coverage build of vfu-refserver (and its .gcno files).
set -u
SRC=${1:?usage: vfu_coverage.sh SRC_ROOT TOOLS_DIR COV_BUILD_DIR}
TOOLS=${2:?tools dir}
COV=${3:?coverage build dir}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL vfu_coverage: $*"; fails=$((fails + 1)); }
# lcov comes with tools/setup-deps.sh --ci: absent, a skip that says so,
# but a failure in CI (CI or VFU_CI set)
if ! command -v lcov >/dev/null || ! command -v genhtml >/dev/null; then
    if [ -n "${CI:-}${VFU_CI:-}" ]; then
        echo "FAIL vfu_coverage: lcov is not installed (tools/setup-deps.sh --ci installs it)"
        exit 1
    fi
    echo "SKIP vfu_coverage: lcov is not installed (apt-get install lcov, or tools/setup-deps.sh --ci)"
    exit 0
fi

cover() {
    out=$1
    shift
    sh "$SRC/reports/vfu-coverage" --gcov-dir "$COV" --source-dir "$SRC" --extract '*/servers/*' \
        --tools "$TOOLS" --out "$out" "$@" >"$out.log" 2>&1
}

# --- a clean run: every process wrote its counters
mkdir -p "$tmp/a"
cover "$tmp/a" --server "$COV/vfu-refserver" --conform-args "--only VERSION.* --timeout 500" ||
    { fail "clean run: exit $?"; sed 's/^/  | /' "$tmp/a.log" | tail -5; }
grep -q "every one exited and wrote its counters" "$tmp/a.log" || fail "clean run: processes not accounted: $(grep processes "$tmp/a.log")"
info=$tmp/a/coverage.info
grep -q "^SF:$SRC/servers/srv_version.c\$" "$info" || fail "no record of servers/srv_version.c"
lh=$(sed -n "\|^SF:$SRC/servers/srv_version.c\$|,/end_of_record/s/^LH:\([0-9]*\)/\1/p" "$info")
[ "${lh:-0}" -gt 10 ] || fail "srv_version.c: $lh lines hit: the counters were not written"
grep -q '^BRDA:' "$info" || fail "no branch records"
grep -q '^SF:.*/lib/' "$info" && fail "--extract did not leave lib/ out"
[ -s "$tmp/a/html/index.html" ] || fail "no genhtml site"
# every link the report makes into genhtml's pages leads to a page
grep -o 'href="html/[^"]*"' "$tmp/a/report.html" | sed 's/href="//; s/"$//' >"$tmp/links"
[ -s "$tmp/links" ] || fail "the report links to no genhtml page"
while read -r l; do [ -f "$tmp/a/$l" ] || fail "the report links to $l, which genhtml did not write"; done <"$tmp/links"
grep -q 'servers/srv_version.c.gcov.html' "$tmp/links" || fail "no link to srv_version.c's page"
grep -q 'id="spec-coverage"' "$tmp/a/report.html" || fail "the report has no spec coverage"
# the server as the user named it, and what ran (wrapped in env LD_PRELOAD=...)
grep -q "<tr><th>server</th><td>$COV/vfu-refserver</td></tr>" "$tmp/a/report.html" || fail "the report does not name the server as given"
grep -q '<tr><th>run as</th><td>env LD_PRELOAD=' "$tmp/a/report.html" || fail "the report does not say how the server ran"
[ -s "$tmp/a/speccov.json" ] || fail "no speccov.json"

# --- a server that crashes once: its counts are lost, and that is said
mkdir -p "$tmp/b"
cover "$tmp/b" --server "$COV/vfu-refserver --fault=crash-on-zero-count-read" --conform-args "--only REGION_READ.* --timeout 300" ||
    fail "crashing server: exit $?"
grep -Eq "[1-9][0-9]* were killed or crashed before exit\(\), and their counts are lost" "$tmp/b.log" ||
    fail "crashing server: the lost counters are not said: $(grep processes "$tmp/b.log")"
grep -q 'counts are lost' "$tmp/b/report.html" || fail "crashing server: the report does not say so"

# --- a server that ignores SIGTERM is killed: no counter at all, said
mkdir -p "$tmp/s"
cover "$tmp/s" --server "$COV/vfu-refserver --fault=sigterm-ignored" --conform-args "--only VERSION.proposal.accepted --timeout 300"
[ $? -eq 2 ] || fail "sigterm-ignored: no counters, yet not an error"
grep -q "killed or crashed before exit(), and their counts are lost" "$tmp/s.log" ||
    fail "sigterm-ignored: the lost counters are not said: $(tail -n 2 "$tmp/s.log")"

# --- bad input
cover "$tmp/c" --server "$COV/vfu-refserver" --gcov-dir "$tmp"
[ $? -eq 2 ] || fail "a directory without .gcno: not refused"
grep -q "holds no .gcno file" "$tmp/c.log" || fail "no .gcno: unclear error: $(cat "$tmp/c.log")"
sh "$SRC/reports/vfu-coverage" --server x >"$tmp/d.log" 2>&1
[ $? -eq 2 ] && grep -q "give --server CMD, --gcov-dir DIR and --out DIR" "$tmp/d.log" || fail "missing options: not refused clearly"

[ "$fails" -eq 0 ] && echo "vfu_coverage: all passed"
[ "$fails" -eq 0 ]
