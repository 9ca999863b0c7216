#!/bin/sh
# vfu-conform from the command line: exit statuses, scenario selection,
# expected failures, report output, traces, the progress line, and servers
# that cannot be used.  Usage: conform_cli.sh vfu-conform vfu-refserver SCENARIO_DIR
set -u
CLI=${1:?usage: conform_cli.sh vfu-conform vfu-refserver scenario-dir}
SRV=${2:?refserver}
SCN=${3:?scenario dir}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 name=

fail() { echo "FAIL $name: $*"; fails=$((fails + 1)); }
run() {
    name=$1 want=$2
    shift 2
    "$CLI" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ "$rc" -eq "$want" ] || { fail "exit $rc, want $want"; sed 's/^/  | /' "$tmp/out" "$tmp/err" | head -20; }
}
has() { grep -qF -- "$1" "$tmp/out" || fail "stdout lacks '$1'"; }
hasnt() { ! grep -qF -- "$1" "$tmp/out" || fail "stdout has '$1'"; }
err_has() { grep -qF -- "$1" "$tmp/err" || fail "stderr lacks '$1'"; }
err_empty() { [ ! -s "$tmp/err" ] || fail "stderr not empty: $(head -c 200 "$tmp/err")"; }

cat >"$tmp/w.scn" <<'SCN'
scenario W.overlap
  section VFIO_USER_DMA_MAP
  map a 0x100000 0x4000 memfd
  send DMA_MAP flags=READ|WRITE address=0x102000 size=0x4000 fd=memfd
  expect error ENOENT
end

scenario W.pass
  section S
  send DEVICE_GET_INFO
  expect ok num_regions=$num_regions
end

scenario W.info
  section S
  level INFO
  send DEVICE_GET_INFO
  expect error
end
SCN

# --- the bundled scenarios, found beside the program, all pass
run bundled 0 --server "$SRV"
has "result: PASS"
has " passed"
grep -Eq '[0-9]+ scenarios in [0-9.]+ s' "$tmp/out" || fail "no total time"
err_empty   # not a terminal: no progress line

# --- a wrong scenario fails with its reason; INFO findings never fail a run
run wrong 1 --server "$SRV" --scenarios "$tmp/w.scn"
has "step 3 ($tmp/w.scn:5): expected error ENOENT, got error reply EEXIST"
run only 0 --server "$SRV" --scenarios "$tmp/w.scn" --only 'W.p*' --only W.info
has "W.info"
hasnt "W.overlap"
run skip 0 --server "$SRV" --scenarios "$tmp/w.scn" --skip W.overlap --format tap
has "1..2"
has "ok 1 - W.pass"
run none 2 --server "$SRV" --scenarios "$tmp/w.scn" --only 'nothing*'
err_has "no scenario selected"

# --- expected failures: they do not fail the run; one that passes is XPASS
printf '# known problems\nW.overlap   # ENOENT vs EEXIST\n\nW.pa?s\n' >"$tmp/xf"
run xfail 0 --server "$SRV" --scenarios "$tmp/w.scn" --xfail "$tmp/xf" --format tap
has "not ok 1 - W.overlap # TODO xfail"
has "ok 2 - W.pass # TODO xpass"
printf 'W.overlap extra\n' >"$tmp/xf2"
run xfail-bad 2 --server "$SRV" --scenarios "$tmp/w.scn" --xfail "$tmp/xf2"
err_has "$tmp/xf2:1: one id or pattern per line"
run xfail-missing 2 --server "$SRV" --scenarios "$tmp/w.scn" --xfail "$tmp/nope"
err_has "--xfail $tmp/nope: No such file or directory"

# --- formats, --output, --trace-dir (kept for failures only)
run json 1 --server "$SRV" --scenarios "$tmp/w.scn" --format json --output "$tmp/r.json" --trace-dir "$tmp/tr"
[ -s "$tmp/out" ] && fail "report went to stdout"
grep -q '"W.overlap"' "$tmp/r.json" || fail "json report lacks W.overlap"
[ -s "$tmp/tr/W.overlap.cbor" ] || fail "no trace of the failure"
[ -e "$tmp/tr/W.pass.cbor" ] && fail "a trace of a passing scenario was kept"
grep -q "W.overlap.cbor" "$tmp/r.json" || fail "the report does not name the trace"
run junit 1 --server "$SRV" --scenarios "$tmp/w.scn" --format junit
has "<testsuite"
has "<failure"

# --- the HTML report beside another format: every trace read (spec
# coverage), the temporary ones removed; and rendered again from the JSON
ls -d /tmp/vfu-conform-traces-* >"$tmp/before" 2>/dev/null
run html 1 --server "$SRV" --scenarios "$tmp/w.scn" --format tap --html "$tmp/r.html" --speccov "$tmp/sc.json"
has "not ok 1 - W.overlap"
grep -q 'id="count-failing">1<' "$tmp/r.html" || fail "html: the failure is not counted"
grep -q '<details class="failure" id="r0">' "$tmp/r.html" || fail "html: no entry for W.overlap"
grep -Eq '^ +@0 +u16 +msg_id ' "$tmp/r.html" || fail "html: the trace is not dissected"
grep -q '"command": *"DMA_MAP"' "$tmp/sc.json" || fail "speccov: no DMA_MAP"
ls -d /tmp/vfu-conform-traces-* >"$tmp/after" 2>/dev/null
cmp -s "$tmp/before" "$tmp/after" || fail "html: a temporary trace directory was left behind"
run html-format 1 --server "$SRV" --scenarios "$tmp/w.scn" --format html
has "<!DOCTYPE html>"
has 'id="spec-coverage"'
run report-again 0 report "$tmp/r.json" --html "$tmp/again.html"
grep -q 'id="count-failing">1<' "$tmp/again.html" || fail "report: the failure is not counted"
grep -q 'Not taken in this run' "$tmp/again.html" || fail "report: code coverage claimed without --lcov"
printf 'SF:/src/a.c\nLF:10\nLH:9\nBRF:4\nBRH:1\nend_of_record\n' >"$tmp/cov.info"
run report-lcov 0 report "$tmp/r.json" --html "$tmp/cov.html" --lcov "$tmp/cov.info" --lcov-prefix /src --genhtml html
grep -q '<a href="html/a.c.gcov.html">a.c</a></td><td>90.0% <small>(9/10)</small></td><td>25.0% <small>(1/4)</small>' "$tmp/cov.html" ||
    fail "report: the lcov figures are not shown file by file"
printf 'SF:/src/a.c\nLF:10\nLH:5\nBRF:4\nBRH:0\nend_of_record\n' >"$tmp/suite.info"
run report-suite 0 report "$tmp/r.json" --html "$tmp/cov2.html" --lcov "$tmp/cov.info" --lcov-suite "$tmp/suite.info" --lcov-prefix /src
grep -q '<td>a.c</td><td>90.0% <small>(9/10)</small></td><td>25.0% <small>(1/4)</small></td><td>50.0% <small>(5/10)</small></td><td>0.0% <small>(0/4)</small></td>' "$tmp/cov2.html" ||
    fail "report: the suite's figures are not shown beside"
printf '{"format": "other"}\n' >"$tmp/notours.json"
run report-bad 2 report "$tmp/notours.json" --html "$tmp/x.html"
err_has "not a vfu-conform JSON report"
run report-none 2 report "$tmp/r.json"
err_has "give one JSON report and --html FILE"

# --- --connect to a server we started ourselves
"$SRV" --socket-path="$tmp/sock" 2>"$tmp/srv.err" &
spid=$!
for i in 1 2 3 4 5 6 7 8 9 10; do [ -S "$tmp/sock" ] && break; sleep 0.1; done
run connect 0 --connect "$tmp/sock" --scenarios "$tmp/w.scn" --only W.pass
has "1 passed"
# restart needs a server we started: skipped with the reason
run connect-restart 2 --connect "$tmp/sock" --scenarios "$SCN/multi.scn" --only SESSION.restart.clean --format tap
has "# SKIP needs vfu-conform to start the server (--server)"
kill "$spid"; wait "$spid" 2>/dev/null

# --- the progress line: only on a terminal, one line rewritten
if command -v script >/dev/null 2>&1; then
    name=progress
    script -qec "\"$CLI\" --server \"$SRV\" --scenarios \"$tmp/w.scn\" --output \"$tmp/p.txt\"" "$tmp/typescript" >/dev/null 2>&1
    grep -q '\[3/3\]' "$tmp/typescript" || fail "no progress line on a terminal"
    grep -q 'W.info' "$tmp/p.txt" || fail "report missing with progress"
fi

# --- could not run: status 2
run no-target 2 --scenarios "$tmp/w.scn"
err_has "give one of --server CMD, --connect PATH or --client CMD"
run both 2 --server "$SRV" --connect /x
run bad-option 2 --frobnicate
err_has "unknown option --frobnicate"
run bad-timeout 2 --server "$SRV" --timeout 0
err_has "--timeout 0: milliseconds from 1 to 600000"
run bad-format 2 --server "$SRV" --format xml
err_has "--format xml: human, tap, junit, json or html"
run no-server 2 --server "$tmp/no-such-server" --scenarios "$tmp/w.scn"
err_has "the server would not start"
run server-exits 2 --server "/bin/false" --scenarios "$tmp/w.scn"
err_has "the server would not start"
run no-socket 2 --connect "$tmp/no-sock" --scenarios "$tmp/w.scn"
err_has "cannot reach $tmp/no-sock: No such file or directory"
printf 'scenario X\n  section S\n  send NOPE\nend\n' >"$tmp/bad.scn"
run bad-scenario 2 --server "$SRV" --scenarios "$tmp/bad.scn"
err_has "$tmp/bad.scn:3: unknown command 'NOPE'"
run scenarios-missing 2 --server "$SRV" --scenarios "$tmp/none"
err_has "$tmp/none: cannot open: No such file or directory"

# --- --list, --help, --version
run list 0 --list
has "DMA_MAP.overlap.EEXIST"
grep -Eq '^DMA_MAP\.overlap\.EEXIST +MUST +VFIO_USER_DMA_MAP$' "$tmp/out" || fail "list line format"
err_has "listed with --server or --connect"
# with a server, the boundary scenarios made for its device too: every
# region the reference device has (0, 2, 4 and 7), in ids that name it
run list-generated 0 --list --server "$SRV"
has "DMA_MAP.overlap.EEXIST"
for r in 0 2 4 7; do has "REGION_READ.bounds.r$r.one-past-end"; done
hasnt "REGION_READ.bounds.r1."
grep -Eq '^REGION_WRITE\.bounds\.r7\.alias32-start +MUST +VFIO_USER_REGION_WRITE$' "$tmp/out" || fail "generated list line format"
# the same device, the same ids, run after run
cp "$tmp/out" "$tmp/list1"
run list-generated-again 0 --list --server "$SRV"
cmp -s "$tmp/out" "$tmp/list1" || fail "the generated ids changed between two listings"
# given files only, unless --generated adds them; --no-generated never
run list-files 0 --list --server "$SRV" --scenarios "$tmp/w.scn"
hasnt ".bounds."
run list-files-gen 0 --list --server "$SRV" --scenarios "$tmp/w.scn" --generated
has "REGION_READ.bounds.r0.one-past-end"
run list-nogen 0 --list --server "$SRV" --no-generated
hasnt ".bounds."
run gen-both 2 --list --generated --no-generated
run help 0 --help
has "usage: vfu-conform"
run version 0 --version
has "vfu-conform"
# one version, from include/vfu/vfu_version.h, for every program
ver=$(sed -n 's/^#define VFU_VERSION "\(.*\)"$/\1/p' "$(dirname "$0")/../include/vfu/vfu_version.h")
[ -n "$ver" ] || fail "no VFU_VERSION in include/vfu/vfu_version.h"
[ "$(cat "$tmp/out")" = "vfu-conform $ver" ] || fail "--version says '$(cat "$tmp/out")', want 'vfu-conform $ver'"
name=refserver-version
[ "$("$SRV" --version 2>&1)" = "vfu-refserver $ver" ] || fail "vfu-refserver --version: '$("$SRV" --version 2>&1)'"
run help-exit 0 --help
has "exit status: 0 no MUST or SHOULD scenario failed"
# an option missing its value says so (not "unknown option")
run server-no-arg 2 --server
err_has "--server needs a value"
run timeout-no-arg 2 --scenarios "$tmp/w.scn" --timeout
err_has "--timeout needs a value"

# --- paths in reports: resolved, and each location printed once
mkdir -p "$tmp/sub"
run path-normal 1 --server "$SRV" --scenarios "$tmp/sub/../w.scn" --only W.overlap
hasnt "/sub/../"
has "($tmp/w.scn:5)"
[ "$(grep -c "w.scn:5" "$tmp/out")" -eq 1 ] || fail "the location is printed $(grep -c "w.scn:5" "$tmp/out") times"
# a path inside the current directory is shown relative to it
name=path-relative
(cd "$tmp" && "$CLI" --server "$SRV" --scenarios ./sub/../w.scn --only W.overlap >"$tmp/out" 2>"$tmp/err")
has "step 3 (w.scn:5)"

# --- replay of a kept trace: printed, and played against the server again
run replay 0 replay "$tmp/tr/W.overlap.cbor"
has "DMA_MAP"
has "VERSION"
run replay-print 0 replay --print "$tmp/tr/W.overlap.cbor"
has "DMA_MAP"
run replay-server 0 replay "$tmp/tr/W.overlap.cbor" --server "$SRV" --timeout 2000
# a server that answers otherwise: the replay says it diverged
run replay-diverges 1 replay "$tmp/tr/W.overlap.cbor" --server "$SRV --max-msg-fds=4" --timeout 2000
run replay-help 0 replay --help
has "usage: vfu-conform replay"
has "exit status: 0 the trace was printed"
has "--print"
run replay-missing 2 replay "$tmp/nope.cbor"
run replay-usage 2 replay
err_has "vfu-conform replay --help"
run replay-both 2 replay "$tmp/tr/W.overlap.cbor" --server "$SRV" --connect /x

echo "conform_cli: $fails failed"
[ "$fails" -eq 0 ]
