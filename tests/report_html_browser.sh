#!/bin/sh
# The HTML report as a person sees it: a real run against the reference
# server with a seeded fault, its report rendered by headless Chromium, and
# the DOM after the page's script ran read back: the page loaded and its
# script ran without an error, the counts shown equal the JSON report's,
# every failing scenario's verdict links to its entry, and opening that
# link shows its wire trace dissected field by field.
#
#   report_html_browser.sh vfu-conform vfu-refserver
#
# Chromium absent: a failure in CI (CI or VFU_CI set), else a skip that says
# so.  VFU_CHROMIUM names another binary.
set -u
CLI=${1:?usage: report_html_browser.sh vfu-conform vfu-refserver}
SRV=${2:?refserver}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL report_html_browser: $*"; fails=$((fails + 1)); }

browser=${VFU_CHROMIUM:-}
[ -n "$browser" ] || browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    if [ -n "${CI:-}${VFU_CI:-}" ]; then
        echo "FAIL report_html_browser: chromium is not installed (tools/setup-deps.sh --ci installs it)"
        exit 1
    fi
    echo "SKIP report_html_browser: chromium is not installed (apt-get install chromium, or tools/setup-deps.sh --ci)"
    exit 0
fi

# what the browser shows after load; its own chatter (dbus, gpu) to a log
dom() {
    timeout 60 "$browser" --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$tmp/profile" \
        --virtual-time-budget=5000 --dump-dom "$1" 2>>"$tmp/chromium.log"
}

# a fault that fails some MUST scenarios: replies with a wrong message id
"$CLI" --server "$SRV --fault=wrong-msg-id" --only 'HEADER.*' --only 'DMA_MAP.header*' --timeout 500 \
    --format json --output "$tmp/r.json" --html "$tmp/r.html" >"$tmp/out" 2>&1
rc=$?
[ "$rc" -eq 1 ] || { fail "vfu-conform exit $rc, want 1"; sed 's/^/  | /' "$tmp/out" | head; exit 1; }

dom "file://$tmp/r.html" >"$tmp/dom.html" || { fail "chromium could not render the report: $(tail -n 3 "$tmp/chromium.log")"; exit 1; }
grep -q '<body[^>]*data-ready="1"' "$tmp/dom.html" || fail "the page's script did not run to its end"
grep -q '<pre id="script-errors"></pre>' "$tmp/dom.html" || fail "script errors: $(sed -n 's/.*<pre id="script-errors">\([^<]*\)<.*/\1/p' "$tmp/dom.html")"

# the counts shown, against the JSON report's
for k in total pass fail skip xfail xpass error; do
    want=$(sed -n "/\"counts\"/,/}/s/^ *\"$k\": *\([0-9]*\).*/\1/p" "$tmp/r.json")
    shown=$(sed -n "s/.*id=\"count-$k\">\([0-9]*\)<.*/\1/p" "$tmp/dom.html")
    [ -n "$want" ] && [ "$want" = "$shown" ] || fail "count $k: page shows '$shown', the JSON report says '$want'"
done
nfail=$(sed -n '/"counts"/,/}/s/^ *"fail": *\([0-9]*\).*/\1/p' "$tmp/r.json")
[ "${nfail:-0}" -gt 0 ] || fail "the seeded fault failed no scenario: nothing to look at"

# the first failing scenario: its row links to its entry, the entry opens
# from that link with the trace dissected (the request's fields by name)
id=$(grep -o '"id": *"[^"]*"' "$tmp/r.json" | sed 's/"id": *"//; s/"$//' | while read -r i; do
    grep -A12 "\"id\": *\"$i\"" "$tmp/r.json" | grep -q '"verdict": *"FAIL"' && { echo "$i"; break; }
done)
[ -n "$id" ] || fail "no failing scenario in the JSON report"
anchor=$(grep -o "<a class=\"to-trace\" href=\"#r[0-9]*\">FAIL</a>" "$tmp/dom.html" | head -n 1 | sed 's/.*href="#\(r[0-9]*\)".*/\1/')
[ -n "$anchor" ] || fail "no FAIL verdict links to its entry"
dom "file://$tmp/r.html#$anchor" >"$tmp/dom2.html" || fail "chromium could not open #$anchor"
entry=$(sed -n "/<details class=\"failure\" id=\"$anchor\"/,/<\/details>\$/p" "$tmp/dom2.html")
printf '%s\n' "$entry" | grep -q "<details class=\"failure\" id=\"$anchor\" open=\"\"" || fail "following the link did not open entry $anchor"
printf '%s\n' "$entry" | grep -q '<div class="trace"><b>wire trace</b>' || fail "entry $anchor shows no wire trace"
printf '%s\n' "$entry" | grep -Eq '^ +@0 +u16 +msg_id +0x[0-9a-f]+' || fail "entry $anchor: the trace is not dissected field by field (no header msg_id line)"
printf '%s\n' "$entry" | grep -q 'class="reason"' || fail "entry $anchor shows no reason"
grep -q "<b>$id</b>" "$tmp/dom.html" || fail "the failing scenario $id has no entry"

# a page whose script breaks is caught: the check above is not vacuous
sed 's/document.body.setAttribute/document.body.noSuchFunction()||document.body.setAttribute/' "$tmp/r.html" >"$tmp/broken.html"
dom "file://$tmp/broken.html" >"$tmp/dom3.html"
! grep -q 'data-ready="1"' "$tmp/dom3.html" || fail "a broken script still marked the page ready"

[ "$fails" -eq 0 ] && echo "ok report_html_browser: $nfail failures shown, counts agree, the trace of $id opens from its verdict"
[ "$fails" -eq 0 ]
