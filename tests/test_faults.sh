#!/bin/sh
# The proof that the conformance suite bites: the reference server passes
# every scenario, and every fault seeded into it (vfu-refserver --fault
# NAME) makes at least one scenario fail.  Prints the table fault ->
# failing scenario ids and writes it to TABLE; each fault's TAP report is
# kept in fault-runs/ beside it.
#
# Usage: test_faults.sh VFU_CONFORM VFU_REFSERVER SCENARIO_DIR TABLE
# Environment: FAULT_JOBS  fault runs at once (default 16: a run spends its
#              time in the scenarios' own waits, hardly any on a CPU)
#              FAULT_TIMEOUT_MS  vfu-conform --timeout of the fault runs
#              (default 1000: every scenario a fault silences costs it once;
#              a late answer there can only add failures to a failing run)
#              REF_TIMEOUT_MS  the same for the reference run (default 5000:
#              generous, sanitized binaries are slow, and nothing waits it out)
set -u

# one fault's run, when the script calls itself through xargs
if [ "${1:-}" = "--one" ]; then
    conform=$2 srv=$3 scn=$4 dir=$5 timeout=$6 fault=$7
    "$conform" --server "$srv --fault=$fault" --scenarios "$scn" --generated --timeout "$timeout" \
        --format tap >"$dir/$fault.tap" 2>"$dir/$fault.err"
    echo $? >"$dir/$fault.rc"
    exit 0
fi

CONFORM=${1:?usage: test_faults.sh vfu-conform vfu-refserver scenario-dir table}
SRV=${2:?vfu-refserver}
SCN=${3:?scenario dir}
TABLE=${4:?table file}
JOBS=${FAULT_JOBS:-16}
TIMEOUT=${FAULT_TIMEOUT_MS:-1000}
REF_TIMEOUT=${REF_TIMEOUT_MS:-5000}
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# each fault's report stays beside the table, for the reasons behind it
runs=$(dirname "$TABLE")/fault-runs
rm -rf "$runs" && mkdir -p "$runs" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# ids of the scenarios that failed the run (MUST/SHOULD; INFO findings are
# TAP TODO lines and fail nothing)
failing_ids() { sed -n '/# TODO/d; s/^not ok [0-9]* - \([^ ]*\).*/\1/p' "$1"; }

# --- the command line of the faults -----------------------------------
"$SRV" --fault=list >"$tmp/list" 2>"$tmp/list.err" || fail "--fault=list exited $?"
faults=$(awk 'NF { print $1 }' "$tmp/list")
n=$(printf '%s\n' $faults | grep -c .)
[ "$n" -ge 25 ] || fail "only $n seeded faults listed (at least 25 wanted)"
dups=$(printf '%s\n' $faults | sort | uniq -d)
[ -z "$dups" ] || fail "fault names listed twice: $dups"
"$SRV" --fault=no-such-fault --socket-path="$tmp/s" >/dev/null 2>"$tmp/bad.err"
rc=$?
[ "$rc" -eq 2 ] || fail "an unknown fault exited $rc, want 2"
grep -q "unknown fault 'no-such-fault'" "$tmp/bad.err" || fail "an unknown fault is not named on stderr"
for f in $faults; do
    grep -q "^$f " "$tmp/bad.err" || { fail "the list after an unknown fault lacks $f"; break; }
done

# --- (a) the reference server passes everything ----------------------
"$CONFORM" --server "$SRV" --scenarios "$SCN" --generated --timeout "$REF_TIMEOUT" --format tap >"$tmp/ref.tap" 2>"$tmp/ref.err"
rc=$?
[ "$rc" -eq 0 ] || fail "the reference server: vfu-conform exited $rc, want 0"
if grep -q '^not ok' "$tmp/ref.tap"; then
    fail "the reference server fails scenarios (INFO ones included):"
    grep '^not ok' "$tmp/ref.tap" | sed 's/^/  | /'
fi
# every scenario either passed or was skipped with its reason
planned=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$tmp/ref.tap")
passed=$(grep -c '^ok [0-9]* - [^ ]*$' "$tmp/ref.tap")
skipped=$(grep -c '^ok [0-9]* - [^ ]* # SKIP .' "$tmp/ref.tap")
[ -n "$planned" ] && [ "$planned" -gt 0 ] || fail "the reference run planned no scenario"
[ "$((passed + skipped))" = "${planned:-x}" ] ||
    fail "the reference run: $passed passed + $skipped skipped with a reason of ${planned:-?} scenarios"

# the max_dma_maps scenario holds for any limit it can reach and skips the rest
one=DMA_MAP.max_dma_maps.ENOSPC
"$CONFORM" --server "$SRV --max-dma-maps=3" --scenarios "$SCN" --only "$one" --format tap >"$tmp/m3.tap" 2>&1 ||
    fail "$one with max_dma_maps 3: $(grep -m1 '^not ok\|message' "$tmp/m3.tap")"
"$CONFORM" --server "$SRV --max-dma-maps=1000" --scenarios "$SCN" --only "$one" --format tap >"$tmp/m1000.tap" 2>&1
grep -q "^ok 1 - $one # SKIP .*max_dma_maps" "$tmp/m1000.tap" || fail "$one with max_dma_maps 1000 is not skipped"

# --- (b) every seeded fault is caught ----------------------------------
printf '%s\n' $faults | xargs -P "$JOBS" -I{} sh "$SELF" --one "$CONFORM" "$SRV" "$SCN" "$runs" "$TIMEOUT" {}

{
    printf '%-34s %5s  %s\n' "fault" "fails" "failing scenarios"
    for f in $faults; do
        ids=$(failing_ids "$runs/$f.tap" | tr '\n' ' ')
        count=$(failing_ids "$runs/$f.tap" | grep -c .)
        printf '%-34s %5s  %s\n' "$f" "$count" "${ids:-NONE}"
    done
} >"$TABLE"

for f in $faults; do
    rc=$(cat "$runs/$f.rc" 2>/dev/null || echo "?")
    count=$(failing_ids "$runs/$f.tap" | grep -c .)
    if [ "$rc" != 1 ] || [ "$count" -eq 0 ]; then
        fail "--fault=$f: vfu-conform exited $rc with $count failing scenarios (want exit 1, at least one FAIL)"
        sed 's/^/  | /' "$runs/$f.err" | tail -5
    fi
done

# --- (c) faults only the generated boundary scenarios catch -------------
# (harness/gen.h): with --no-generated the hand-written scenarios pass
# against each, and what fails with them is a generated scenario
# (COMMAND.bounds.PLACE.FORM, SESSION.second-client.KIND.*,
# SESSION.disconnect.KIND.*), so the generation is what bites
gen_only="set-irqs-wrap32 region-offset-trunc32 region-bar-end-refused dma-unmap-addr-trunc32 dma-overlap-readonly-unchecked
    config-write-count-from-payload set-irqs-eventfd-last-dropped dirty-report-pages-trunc32
    dma-map-offset-trunc32 second-client-replaces-first"
for f in $gen_only; do
    printf '%s\n' $faults | grep -qx "$f" || { fail "generated-only fault $f is not in --fault=list"; continue; }
    "$CONFORM" --server "$SRV --fault=$f" --scenarios "$SCN" --no-generated --timeout "$TIMEOUT" --format tap \
        >"$runs/$f.hand.tap" 2>&1
    rc=$?
    [ "$rc" -eq 0 ] || fail "--fault=$f: the hand-written scenarios alone exited $rc (want 0: only generated ones catch it): $(failing_ids "$runs/$f.hand.tap" | tr '\n' ' ')"
    other=$(failing_ids "$runs/$f.tap" | grep -Ev '\.bounds\.|^SESSION\.(second-client|disconnect)\.' | tr '\n' ' ')
    [ -z "$other" ] || fail "--fault=$f: caught by scenarios that are not generated: $other"
done

# the table, each row cut to what a terminal shows; all of it is in TABLE
cut -c1-160 "$TABLE"
echo "(full table: $TABLE; each run's report: $runs/FAULT.tap)"
if [ "$fails" -ne 0 ]; then
    echo "test_faults: $fails failure(s)"
    exit 1
fi
echo "test_faults: the reference passes; all $n seeded faults caught"
