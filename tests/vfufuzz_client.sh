#!/bin/sh
# vfu-fuzz --client from the command line: a client with a planted bug
# (tests/helpers/fragile_client.c) is found within 60 s, crash and hang
# each, with a minimized input that --run reproduces; our scripted client
# (vfu-client) gives nothing for a few seconds; nothing is left behind (no
# process, no temporary directory), also when vfu-fuzz is stopped by
# SIGTERM.  Usage: vfufuzz_client.sh vfu-fuzz vfu-client fragile-client
set -u
FZ=${1:?usage: vfufuzz_client.sh vfu-fuzz vfu-client fragile-client}
CLI=${2:?vfu-client}
FRAG=${3:?fragile-client}
tmp=$(mktemp -d)
export TMPDIR="$tmp/t"
mkdir "$TMPDIR"
pids=
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }

for m in trusts-count:client-crash-SIGABRT-DEVICE_GET_INFO hang-on-error:client-hang-DEVICE_GET_INFO; do
    mode=${m%%:*}
    "$FZ" --client "$FRAG $mode {socket}" -o "$tmp/$mode" --seconds 60 --seed 3 --timeout 200 \
        --exit-on-finding >"$tmp/$mode.out" 2>&1 &
    pids="$pids $!"
done
"$FZ" --client "$CLI --timeout 100 {socket}" -o "$tmp/clean" --seconds 5 --seed 3 --timeout 200 >"$tmp/clean.out" 2>&1 &
cpid=$!
pids="$pids $cpid"
for p in $pids; do wait "$p" || true; done
pids=

wait "$cpid" 2>/dev/null
[ -z "$(ls "$tmp/clean/findings" 2>/dev/null)" ] || fail "vfu-client: findings $(ls "$tmp/clean/findings")"
grep -q "sessions, .*/s, queue" "$tmp/clean.out" || fail "vfu-client: no summary line: $(tail -2 "$tmp/clean.out")"
grep -q "answered [1-9][0-9]* requests" "$tmp/clean.out" || fail "vfu-client: no plain session recorded: $(head -2 "$tmp/clean.out")"

for m in trusts-count:client-crash-SIGABRT-DEVICE_GET_INFO hang-on-error:client-hang-DEVICE_GET_INFO; do
    mode=${m%%:*} want=${m#*:}
    d=$(ls -d "$tmp/$mode/findings/$want"* 2>/dev/null | head -1)
    if [ -z "$d" ]; then
        fail "$mode: no finding $want: $(ls "$tmp/$mode/findings" 2>/dev/null | tr '\n' ' ')"
        tail -5 "$tmp/$mode.out" | sed 's/^/  | /'
        continue
    fi
    for x in input original README stderr.txt; do [ -e "$d/$x" ] || fail "$mode: $d/$x missing"; done
    [ "$(wc -c <"$d/input")" -le "$(wc -c <"$d/original")" ] || fail "$mode: minimized input larger than the original"
    out=$("$FZ" --client "$FRAG $mode {socket}" --timeout 200 --run "$d/input" 2>/dev/null)
    rc=$?
    [ $rc -eq 1 ] || fail "$mode: --run exit $rc, want 1 ($out)"
    case $out in "$want"*) ;; *) fail "$mode: --run gave '$out', want $want";; esac
    # the plain session on the same client is no finding
    : >"$tmp/empty"
    "$FZ" --client "$FRAG $mode {socket}" --timeout 200 --run "$tmp/empty" >/dev/null 2>&1 ||
        fail "$mode: the empty input (the reference server's own answers) is a finding"
done

# a stop by SIGTERM: exit soon, the summary, nothing left behind
"$FZ" --client "$FRAG hang-on-error {socket}" -o "$tmp/stop" --timeout 200 >"$tmp/stop.out" 2>&1 &
p=$!
sleep 1
kill -TERM $p
t0=$(date +%s)
wait $p
[ $(( $(date +%s) - t0 )) -le 3 ] || fail "SIGTERM: took more than 3 s to stop"
grep -q "sessions, .*/s, queue" "$tmp/stop.out" || fail "SIGTERM: no summary line: $(tail -2 "$tmp/stop.out")"

sleep 0.2
left=$(ls -A "$TMPDIR")
[ -z "$left" ] || fail "left in TMPDIR: $left"
# (of this run: the socket path names our TMPDIR; a loaded machine gets a
# moment for the kill to land)
for mode in trusts-count hang-on-error; do
    n=0
    while pgrep -f "fragile-client $mode $TMPDIR" >/dev/null 2>&1 && [ $n -lt 20 ]; do sleep 0.1; n=$((n + 1)); done
    if pgrep -f "fragile-client $mode $TMPDIR" >/dev/null 2>&1; then fail "a fragile-client $mode process is still running"; fi
done

[ $fails -eq 0 ] && echo "vfufuzz_client: ok"
exit $((fails > 0))
