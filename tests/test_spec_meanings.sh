#!/bin/sh
# Field meanings in the spec file (role=, space=, span=, bound=): the
# generator refuses a meaning that does not hold together, naming the line,
# and writes the meanings it accepts into the tables.
# Environment: SPECGEN (set by the launcher make writes).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
specgen=${SPECGEN:-$root/build/specgen}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# refused NAME SED-SCRIPT MESSAGE: the edited spec is refused with MESSAGE
refused() {
    sed "$2" "$root/spec/vfio-user.spec" >"$tmp/$1.spec"
    cmp -s "$tmp/$1.spec" "$root/spec/vfio-user.spec" && { fail "$1: the edit changed nothing"; return; }
    if "$specgen" "$tmp/$1.spec" "$tmp/$1.h" "$tmp/$1.c" 2>"$tmp/$1.err"; then
        fail "$1: accepted"
    elif ! grep -q "$3" "$tmp/$1.err"; then
        fail "$1: wrong message: $(cat "$tmp/$1.err")"
    elif ! grep -q "$1.spec:[0-9][0-9]*: " "$tmp/$1.err"; then
        fail "$1: no file:line in: $(cat "$tmp/$1.err")"
    fi
}

refused role 's/u32 region role=index space=regions/u32 region role=indx space=regions/' "unknown role 'indx'"
refused space 's/u64 address role=address space=dma span=size/u64 address role=address space=heap span=size/' "unknown space 'heap'"
refused span 's/u64 size role=length$/u64 size role=length span=address/' "span= belongs to an offset or address"
refused place 's/u64 offset role=offset space=region:region span=count/u64 offset role=offset space=region:count span=count/' "which is not role=index"
refused bound 's/bound=migration.pgsize/bound=migration.nosuch/' "no capability 'migration.nosuch'"
refused norole 's/u32 num_regions role=count space=regions/u32 num_regions space=regions/' "space= needs a role="
refused needscap 's/needs-cap write_multiple/needs-cap max_msg_fds/' "needs-cap max_msg_fds: not a boolean capability"
refused needsnone 's/needs-cap write_multiple/needs-cap write_many/' "no capability 'write_many'"

# accepted: the tables carry the meanings (region_access.offset: role
# offset, space region named by field region, span count)
"$specgen" "$root/spec/vfio-user.spec" "$tmp/ok.h" "$tmp/ok.c" || fail "the real spec is refused"
off=$(sed -n 's/^ *VFU_F_REGION_ACCESS_OFFSET = \([0-9]*\),$/\1/p' "$tmp/ok.h")
reg=$(sed -n 's/^ *VFU_F_REGION_ACCESS_REGION = \([0-9]*\),$/\1/p' "$tmp/ok.h")
cnt=$(sed -n 's/^ *VFU_F_REGION_ACCESS_COUNT = \([0-9]*\),$/\1/p' "$tmp/ok.h")
[ -n "$off" ] && [ -n "$reg" ] && [ -n "$cnt" ] || fail "field ids not found"
# the field's row, by its designated initializers: role, space,
# space_field, span_field, bound_cap, count_of
row=$(awk -v id="[$off]" 'index($0, id " = {") { on = 1 } on { printf "%s ", $0 } on && /},$/ { exit }' "$tmp/ok.c")
got=$(echo "$row" | grep -o '\.\(role\|space\|space_field\|span_field\|bound_cap\|count_of\) = -\{0,1\}[0-9]*' | tr '\n' ' ')
want=".role = 1 .space = 1 .space_field = $reg .span_field = $cnt .bound_cap = -1 .count_of = -1 "
[ "$got" = "$want" ] || fail "region_access.offset meaning: '$got'"

[ "$fails" -eq 0 ] && echo "spec meanings: all checks passed"
[ "$fails" -eq 0 ]
