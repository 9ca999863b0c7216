#!/bin/sh
# Proves the spec file drives the codec: one edit to a copy of
# spec/vfio-user.spec, regenerated with specgen and compiled with the
# unchanged lib/core/codec.c, changes what the codec accepts.
#
#   1. `u64 size` -> `u32 size` in struct dma_map: VFU_SIZE_DMA_MAP goes
#      32 -> 28; the 48-byte DMA_MAP the real tables accept is refused, a
#      44-byte one is accepted and reads back the same values.
#      The bundled scenarios loaded against the edited tables send the
#      new size where they say $sizeof.dma_map (28 instead of 32).
#   2. `u64 flags` -> `u32 flags` in struct feature_migration (8 -> 4
#      bytes): DEVICE_FEATURE.get.migration, whose argsz is the sum
#      $sizeof.device_feature+$sizeof.feature_migration, sends 12 instead
#      of 16 (a sum follows a width change of the struct after the header).
#   3. the `when IOREGIONFD` arm removed from sub_region: a REGION_IO_FDS
#      reply with an ioregionfd sub-region, accepted by the real tables, is
#      refused with NO_VARIANT on its type (the one decoder error the real
#      tables cannot produce: every selector value has an arm).
#
# Environment (set by the launcher make writes; defaults for a manual run
# from the top of the tree): SPECGEN, CC, PROBE_CFLAGS.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
specgen=${SPECGEN:-$root/build/specgen}
cc=${CC:-cc}
cflags=${PROBE_CFLAGS:--O1 -g}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
pass() { echo "ok: $*"; }

# variant NAME SED-SCRIPT: an edited copy of the spec, its tables, a probe
variant() {
    d=$tmp/$1
    mkdir -p "$d"
    sed "$2" "$root/spec/vfio-user.spec" > "$d/vfio-user.spec"
    # how many lines of the spec the edit changed or removed
    n=$(diff "$root/spec/vfio-user.spec" "$d/vfio-user.spec" | grep -c '^<' || true)
    if [ "$1" != real ] && [ "$n" -eq 0 ]; then
        echo "FAIL: $1: the edit matched nothing in the spec"; exit 1
    fi
    "$specgen" "$d/vfio-user.spec" "$d/vfu_proto.h" "$d/vfu_proto.c"
    # shellcheck disable=SC2086  # cflags is a list of flags
    $cc $cflags -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I"$d" -I"$root/include/vfu" -I"$root/lib/core" -o "$d/probe" \
        "$root/tests/spec_width_probe.c" "$root"/lib/core/*.c \
        "$d/vfu_proto.c" -ljson-c
    # the bundled scenarios' loader against the same tables
    # shellcheck disable=SC2086
    $cc $cflags -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I"$d" -I"$root/include/vfu" -I"$root/lib/core" -I"$root/lib/transport" -I"$root/lib/runtime" \
        -I"$root/harness" -I"$root/clients" -o "$d/scn" "$root/tests/spec_width_scn.c" "$root"/harness/scn_*.c \
        "$root"/lib/core/*.c "$root/clients/client_viol.c" "$d/vfu_proto.c" -ljson-c
    echo "$n"
}

expect() {   # expect WHAT GOT PATTERN
    case $2 in
    $3) pass "$1: $2" ;;
    *) fail "$1: got '$2', want '$3'" ;;
    esac
}

variant real '' > /dev/null
n=$(variant width '/^struct dma_map$/,/^end$/ s/^\( *\)u64 size\( .*\)\{0,1\}$/\1u32 size\2/')
expect "width edit touches one line" "$n" 1
n=$(variant featwidth '/^struct feature_migration$/,/^end$/ s/^\( *\)u64 flags\( .*\)\{0,1\}$/\1u32 flags\2/')
expect "feature width edit touches one line" "$n" 1
n=$(variant noarm '/^struct sub_region$/,/^end$/ { /when IOREGIONFD/d; }')
expect "arm edit touches one line" "$n" 1

real=$tmp/real/probe width=$tmp/width/probe noarm=$tmp/noarm/probe

expect "real VFU_SIZE_DMA_MAP" "$($real size)" 32
expect "edited VFU_SIZE_DMA_MAP" "$($width size)" 28

$real dma-map "$tmp/m48"
$width dma-map "$tmp/m44"
expect "real encoder's DMA_MAP length" "$(wc -c < "$tmp/m48" | tr -d ' ')" 48
expect "edited encoder's DMA_MAP length" "$(wc -c < "$tmp/m44" | tr -d ' ')" 44

values='flags=0x3 offset=0x1000 address=0x7f0000000000 size=0x200000'
expect "real tables, 48 bytes" "$($real decode "$tmp/m48")" "OK argsz=0x20 $values"
expect "edited tables, 48 bytes" "$($width decode "$tmp/m48")" "ERR PAYLOAD_LONG -"
expect "edited tables, 44 bytes" "$($width decode "$tmp/m44")" "OK argsz=0x1c $values"
expect "real tables, 44 bytes" "$($real decode "$tmp/m44")" "ERR PAYLOAD_SHORT size"

# the scenarios follow: DMA_MAP.argsz.exact sends $sizeof.dma_map
expect "real tables, the scenario's argsz" "$("$tmp/real/scn" "$root/harness/scenarios")" "argsz 32"
expect "edited tables, the scenario's argsz" "$("$tmp/width/scn" "$root/harness/scenarios")" "argsz 28"

# and a sum of two structs' sizes follows the second one's width
expect "real tables, DEVICE_FEATURE's argsz" "$("$tmp/real/scn" "$root/harness/scenarios" DEVICE_FEATURE.get.migration)" "argsz 16"
expect "edited feature_migration, DEVICE_FEATURE's argsz" \
    "$("$tmp/featwidth/scn" "$root/harness/scenarios" DEVICE_FEATURE.get.migration)" "argsz 12"

$real io-fds "$tmp/iofds"
expect "real tables, ioregionfd" "$($real decode "$tmp/iofds")" "OK argsz=0x38 flags=0 index=0 count=0x1"
expect "arm removed, ioregionfd" "$($noarm decode "$tmp/iofds")" "ERR NO_VARIANT type"

[ "$fails" -eq 0 ] || { echo "test_spec_width: $fails failed"; exit 1; }
echo "test_spec_width: all passed"
