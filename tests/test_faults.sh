#!/bin/sh
# Proof that the conformance suite bites: the reference server passes every
# bundled scenario, and each seeded fault (vfu-refserver --fault=list) makes
# at least one scenario fail.  Prints the fault -> failing scenarios table
# and keeps it in FAULT_TABLE.
#   test_faults.sh VFU_CONFORM VFU_REFSERVER FAULT_TABLE
set -u
conform=$1 server=$2 table=$3
# sanitized binaries are slow: a generous reply timeout, bounded all the same
timeout_ms=5000
bad=0

out=$("$conform" --timeout $timeout_ms --server "$server" 2>&1)
rc=$?
if [ $rc -ne 0 ]; then
    echo "FAIL: the unmodified reference server does not pass (exit $rc):"
    echo "$out" | grep -E '^(FAIL|ERROR|XPASS) ' -A3
    bad=1
else
    echo "ok: reference server: $(echo "$out" | grep ' scenarios in ')"
fi

: >"$table"
for f in $("$server" --fault=list | awk '{print $1}'); do
    # --fail-fast: a fault that breaks every reply would otherwise cost one
    # timeout per scenario; the first scenario it fails is the proof
    out=$(timeout 300 "$conform" --fail-fast --timeout $timeout_ms --server "$server --fault=$f" 2>&1)
    rc=$?
    caught=$(echo "$out" | awk '/^FAIL /{print $2}' | tr '\n' ' ')
    if [ $rc -ne 1 ] || [ -z "$caught" ]; then
        echo "FAIL: fault $f is not caught (exit $rc)"
        bad=1
    fi
    printf '%-30s %s\n' "$f" "${caught:-(none)}" | tee -a "$table"
done
n=$(wc -l <"$table")
[ $bad -eq 0 ] && echo "ok: all $n seeded faults caught"
exit $bad
