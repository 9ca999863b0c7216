#!/bin/sh
# make bench-vfufuzz: vfu-fuzz's sessions per second against a server, next
# to the ceiling measured in the same run: the plainest client (connect,
# VERSION, one message, close) driving sessions one at a time against the
# same server started the same way (bench_sessions).  Servers: the
# reference server, and VFU_BENCH_SERVER when set (a command with
# {socket}, e.g. libvfio-user's samples/gpio-pci-idio-16 {socket}).
#
#   bench_vfufuzz.sh BENCH_SESSIONS VFU_FUZZ REFSERVER SECONDS
set -u
bs=${1:?usage: bench_vfufuzz.sh BENCH_SESSIONS VFU_FUZZ REFSERVER SECONDS}
fz=${2:?}
ref=${3:?}
secs=${4:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rate_of() { sed -n 's/.* rate \([0-9.]*\).*/\1/p' "$1"; }
fz_rate() { sed -n 's/^\([0-9]*\) sessions, \([0-9.]*\)\/s,.*/\2/p' "$1" | tail -n 1; }
printf '%-44s %14s %14s %8s\n' "server (${secs} s each)" "plain client/s" "vfu-fuzz/s" "ratio"
run() {
    name=$1 cmd=$2
    "$bs" "$secs" "$cmd" >"$tmp/plain" 2>&1 || { echo "$name: the plain client failed: $(cat "$tmp/plain")"; return 1; }
    # findings are not minimized here: the figure is the fuzzing's own rate
    "$fz" --server "$cmd" -o "$tmp/out" --seconds "$secs" --seed 1 --no-minimize --no-verify >"$tmp/fz" 2>&1
    p=$(rate_of "$tmp/plain") f=$(fz_rate "$tmp/fz")
    [ -n "$f" ] || { echo "$name: vfu-fuzz gave no rate: $(tail -n 3 "$tmp/fz")"; return 1; }
    printf '%-44s %14s %14s %7.3fx\n' "$name" "$p" "$f" "$(echo "$f $p" | awk '{ if ($2 > 0) print $1 / $2; else print 0 }')"
    grep -q "ends after each client" "$tmp/plain" && echo "  (this server ends after each client: both restart it every session)"
    rm -rf "$tmp/out"
}
rc=0
run "vfu-refserver" "$ref" || rc=1
if [ -n "${VFU_BENCH_SERVER:-}" ]; then run "$(echo "$VFU_BENCH_SERVER" | awk '{print $1}' | xargs basename)" "$VFU_BENCH_SERVER" || rc=1; fi
echo "(the plain client sends VERSION and one DEVICE_GET_INFO; a vfu-fuzz session sends a mutated"
echo " sequence of messages with real fds and serves DMA, so the ratio is what the fuzzing costs)"
exit $rc
