#!/bin/sh
# vfu-conform --client: our scripted client passes every check and
# personality; each of its seeded faults (vfu-client --fault NAME) fails
# the check that keeps the rule it breaks; a client that crashes, never
# connects or is given a bad command line gets the exit status of a
# server run in the same plight; nothing is left behind.
# Usage: conform_client.sh vfu-conform vfu-client
set -u
CLI=${1:?usage: conform_client.sh vfu-conform vfu-client}
CLIENT=${2:?vfu-client}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TMPDIR="$tmp"
fails=0 name=
fail() { echo "FAIL $name: $*"; fails=$((fails + 1)); }
run() {
    name=$1 want=$2
    shift 2
    "$CLI" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ "$rc" -eq "$want" ] || { fail "exit $rc, want $want"; sed 's/^/  | /' "$tmp/out" "$tmp/err" | head -30; }
}
has() { grep -qF -- "$1" "$tmp/out" || fail "stdout lacks '$1'"; }
err_has() { grep -qF -- "$1" "$tmp/err" || fail "stderr lacks '$1'"; }

# the clean client: every check passes or does not apply, every personality passes
run clean 0 --client "$CLIENT" --format tap
has "ok 1 - client.VERSION.first"
! grep -q '^not ok' "$tmp/out" || fail "a result failed: $(grep '^not ok' "$tmp/out" | head -3)"
grep -q '^ok .* - client.personality.dma-messages$' "$tmp/out" || fail "dma-messages did not pass"
grep -q '^ok .* - client.reply.answered$' "$tmp/out" || fail "the DMA replies were not judged"

# each seeded fault, and the check it must fail (a MUST or SHOULD: exit 1)
while read -r fault check; do
    # the checks over two sessions: the default one and the one where the
    # server reads memory by messages (the DMA reply faults need it)
    run "fault $fault" 1 --client "$CLIENT --fault $fault" --format tap --client-idle 300 \
        --only "client.[!p]*" --only client.personality.dma-messages
    grep -q "^not ok [0-9]* - $check\$" "$tmp/out" || fail "$check did not fail"
done <<'TABLE'
no-version client.VERSION.first
version-twice client.VERSION.once
bad-version-json client.VERSION.data
device-info-nonzero client.request.must-be-zero
region-info-flags client.request.must-be-zero
padded-request client.request.padding
read-past-end client.REGION.bounds
xfer-over-limit client.xfer.max_data_xfer_size
dma-map-argsz client.request.argsz
dma-map-two-fds client.fds.per-command
dma-map-overlap client.DMA_MAP.overlap
dma-map-unaligned client.DMA_MAP.pgsize
dma-unmap-mismatch client.DMA_UNMAP.match
set-irqs-range client.SET_IRQS.range
dma-reply-msg-id client.reply.msg_id
dma-reply-count client.reply.echo
TABLE
# answered half a second late: judged with a timeout shorter than that
run "fault dma-reply-late" 1 --client "$CLIENT --fault dma-reply-late" --format tap --timeout 200 \
    --client-idle 300 --only "client.[!p]*" --only client.personality.dma-messages
grep -q "^not ok [0-9]* - client.reply.timely\$" "$tmp/out" || fail "client.reply.timely did not fail"
# every fault the client has is in the table
for f in $("$CLIENT" --fault list); do
    grep -q -e "^$f " -e "fault $f\"" "$0" || { name="fault table"; fail "$f is not checked"; }
done

# a padded request is reported and the session goes on to the end
run "padded, continued" 1 --client "$CLIENT --fault padded-request" --format json
grep -q '"id": *"client.DMA_UNMAP.match", *"section"[^}]*"verdict": *"PASS"' "$tmp/out" ||
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=[x for x in d["results"] if x["id"]=="client.DMA_UNMAP.match"][0]; sys.exit(r["verdict"]!="PASS")' "$tmp/out" ||
    fail "the session stopped at the padded request"

# traces: the session of a failure is kept, named in the report, and reads back
run "trace" 1 --client "$CLIENT --fault dma-unmap-mismatch" --only "client.[!p]*" --client-idle 300 \
    --trace-dir "$tmp/traces" --format json
[ -s "$tmp/traces/client.personality.default.cbor" ] || fail "no trace of the failing session"
grep -q '"trace": *"[^"]*client.personality.default.cbor"' "$tmp/out" || fail "the failing check names no trace"
"$CLI" replay "$tmp/traces/client.personality.default.cbor" >"$tmp/replay" 2>&1 || fail "replay of the trace failed"
grep -q 'tx  main  DMA_UNMAP request' "$tmp/replay" || fail "the client's DMA_UNMAP is not in the trace as sent"
rm -rf "$tmp/traces"
# the HTML report of a client run names the failing check
run "html" 1 --client "$CLIENT --fault dma-unmap-mismatch" --only "client.[!p]*" --client-idle 300 --html "$tmp/c.html"
grep -q 'client.DMA_UNMAP.match' "$tmp/c.html" || fail "the HTML report lacks the failing check"
rm -f "$tmp/c.html"

# a client that crashes: a failed personality, with its output
cat >"$tmp/crash.sh" <<'SH'
#!/bin/sh
echo "about to crash" >&2
kill -SEGV $$
SH
run "never connects" 2 --client "sh $tmp/crash.sh {socket}"
err_has "never connected"
err_has "SIGSEGV"

# bad command lines
run "client and server" 2 --client "$CLIENT" --server x
err_has "not with --server"
run "client idle" 2 --client "$CLIENT" --client-idle 0
err_has "--client-idle"
run "list" 0 --list --client "$CLIENT"
has "client.DMA_UNMAP.match"
has "client.personality.slow-replies"

# nothing left behind: no socket directory, no client process
[ -z "$(ls -A "$tmp" | grep -v -e '^out$' -e '^err$' -e '^crash.sh$' -e '^replay$')" ] || { name=leftovers; fail "left in TMPDIR: $(ls -A "$tmp")"; }
! pgrep -f "$CLIENT --fault" >/dev/null || { name=leftovers; fail "a client still runs"; }

[ "$fails" -eq 0 ] && echo "conform_client: all passed" || echo "conform_client: $fails failed"
[ "$fails" -eq 0 ]
