#!/bin/sh
# vfu-fuzz from the command line, against the reference server: each seeded
# fault here that kills or hangs it (crash-on-zero-count-read, hang-on-reset)
# and two protocol faults (error-reply-with-payload, reply-to-noreply) plus
# the fd leak are found within 60 s, each with a minimized trace that
# `vfu-conform replay --server` reproduces on the faulty server and not on
# the clean one; the clean server gives nothing in 60 s; --emit-scenario
# makes a scenario vfu-conform runs.  The runs go in parallel (about a minute
# in all: the clean run).  Usage: vfufuzz_cli.sh vfu-fuzz vfu-refserver vfu-conform
set -u
FZ=${1:?usage: vfufuzz_cli.sh vfu-fuzz vfu-refserver vfu-conform}
SRV=${2:?refserver}
CONFORM=${3:?vfu-conform}
tmp=$(mktemp -d)
pids=
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
fails=0

fail() { echo "FAIL $*"; fails=$((fails + 1)); }

# fault -> the kind its finding must have
cases="crash-on-zero-count-read:crash-SIGABRT
hang-on-reset:hang-DEVICE_RESET
error-reply-with-payload:violation-DECODE
reply-to-noreply:violation-NO_REPLY_ANSWERED
fd-leak-per-dma-map:leak-fd"

for c in $cases; do
    f=${c%%:*}
    "$FZ" --server "$SRV --fault=$f" -o "$tmp/$f" --seconds 60 --seed 7 --timeout 300 \
        --exit-on-finding >"$tmp/$f.out" 2>&1 &
    pids="$pids $!"
done
"$FZ" --server "$SRV" -o "$tmp/clean" --seconds 60 --seed 7 --timeout 1000 >"$tmp/clean.out" 2>&1 &
pids="$pids $!"
rc_all=0
for p in $pids; do wait "$p" || true; done
pids=

# the clean server: nothing found, exit 0, the summary line
"$FZ" --server "$SRV" -o "$tmp/clean2" --sessions 50 --seed 8 >"$tmp/clean2.out" 2>&1 ||
    fail "clean server (50 sessions): exit $?: $(tail -3 "$tmp/clean2.out")"
if [ -n "$(ls "$tmp/clean/findings")" ]; then
    fail "clean server: findings $(ls "$tmp/clean/findings")"
    for d in "$tmp"/clean/findings/*; do sed 's/^/  | /' "$d/README"; done
fi
grep -q "sessions, .*/s, queue" "$tmp/clean.out" || fail "clean server: no summary line: $(tail -2 "$tmp/clean.out")"

for c in $cases; do
    f=${c%%:*} want=${c#*:}
    d=$(ls -d "$tmp/$f/findings/$want"* 2>/dev/null | head -1)
    if [ -z "$d" ]; then
        fail "$f: no finding $want*: $(ls "$tmp/$f/findings" 2>/dev/null | tr '\n' ' ')"
        sed 's/^/  | /' "$tmp/$f.out" | tail -5
        continue
    fi
    for x in input original trace.cbor README stderr.txt; do
        [ -e "$d/$x" ] || fail "$f: $d/$x missing"
    done
    [ "$(wc -c <"$d/input")" -le "$(wc -c <"$d/original")" ] || fail "$f: minimized input larger than the original"
    case $want in
    leak-*) continue ;;   # the trace shows one session; the leak is across runs
    esac
    grep -q "trace check: replay: reproduced" "$d/README" || fail "$f: $(grep 'trace check' "$d/README")"
    # the trace replays on the faulty server, and not on the clean one
    "$CONFORM" replay "$d/trace.cbor" --server "$SRV --fault=$f" --timeout 500 >"$tmp/$f.replay" 2>&1 ||
        fail "$f: vfu-conform replay did not reproduce: $(tail -2 "$tmp/$f.replay")"
    if "$CONFORM" replay "$d/trace.cbor" --server "$SRV" --timeout 500 >"$tmp/$f.replay2" 2>&1; then
        fail "$f: the trace replays the same on the clean server too"
    fi
done

# --emit-scenario: the crash as a scenario that fails on the faulty server
# and passes on the clean one
d=$(ls -d "$tmp/crash-on-zero-count-read/findings/crash-"* 2>/dev/null | head -1)
if [ -n "$d" ]; then
    "$FZ" --emit-scenario "$d/input" --id REGION_READ.fuzz.regression >"$tmp/r.scn" || fail "emit-scenario: exit $?"
    "$CONFORM" --server "$SRV" --scenarios "$tmp/r.scn" >"$tmp/r.out" 2>&1 ||
        fail "emitted scenario fails on the clean server: $(tail -3 "$tmp/r.out")"
    if "$CONFORM" --server "$SRV --fault=crash-on-zero-count-read" --scenarios "$tmp/r.scn" >"$tmp/r2.out" 2>&1; then
        fail "emitted scenario passes on the faulty server"
    fi
fi

# --jobs 2: two instances in the sync layout, each with its own server,
# reading each other's queues; one SIGTERM to the parent stops both and
# leaves no server running
"$FZ" --server "$SRV" --jobs 2 -o "$tmp/jobs" --seconds 7 --seed 5 --timeout 300 >"$tmp/jobs.out" 2>&1 ||
    fail "--jobs 2: exit $?: $(tail -3 "$tmp/jobs.out")"
for k in 0 1; do
    [ -d "$tmp/jobs/vfu-$k/queue" ] || fail "--jobs 2: no $tmp/jobs/vfu-$k/queue"
done
[ "$(grep -c 'sessions, .*/s, queue' "$tmp/jobs.out")" -eq 2 ] || fail "--jobs 2: not two summary lines: $(tail -4 "$tmp/jobs.out")"
ls "$tmp"/jobs/vfu-*/queue | grep -q ',sync' || fail "--jobs 2: no instance kept an input read from the other"
"$FZ" --server "$SRV" --jobs 2 -o "$tmp/jobs2" --seed 5 --timeout 300 >"$tmp/jobs2.out" 2>&1 &
jp=$!
sleep 2
kill -TERM $jp
t0=$(date +%s)
wait $jp
[ $(( $(date +%s) - t0 )) -le 3 ] || fail "--jobs 2: SIGTERM took more than 3 s"
[ "$(grep -c 'sessions, .*/s, queue' "$tmp/jobs2.out")" -eq 2 ] || fail "--jobs 2 stopped: not two summary lines: $(tail -4 "$tmp/jobs2.out")"
sleep 0.2
if pgrep -f "$SRV --socket-path=[^ ]*vfu-fuzz-" >/dev/null 2>&1; then fail "--jobs 2 stopped: a server still runs"; fi
"$FZ" --connect /tmp/x.sock --jobs 2 >/dev/null 2>&1; [ $? -eq 2 ] || fail "--jobs with --connect: want exit 2"

# bad command lines
"$FZ" >/dev/null 2>&1; [ $? -eq 2 ] || fail "no server: want exit 2"
"$FZ" --server "$SRV" --timeout 0 >/dev/null 2>&1; [ $? -eq 2 ] || fail "--timeout 0: want exit 2"
"$FZ" --server /nonexistent/server -o "$tmp/none" --seconds 1 >"$tmp/none.out" 2>&1
[ $? -eq 2 ] || fail "missing server: want exit 2"
grep -q "would not start" "$tmp/none.out" || fail "missing server: $(cat "$tmp/none.out")"

[ "$fails" -eq 0 ] && echo "vfufuzz_cli: all passed"
[ "$fails" -eq 0 ]
