#!/bin/sh
# lib/ keeps its layers: core (descriptors, codec, errors, capabilities,
# dissector) needs nothing of transport or runtime, transport nothing of
# runtime, and the client library nothing of runtime -- in the archives'
# symbols (nm) and in the headers' includes; core links only libc and
# json-c; no source file includes a header that includes its own header
# back.  Usage: lib_layers.sh SOURCE-TREE BUILD-DIR
set -u
root=${1:?usage: lib_layers.sh SOURCE-TREE BUILD-DIR}
b=${2:?build dir}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

defs() { nm -g --defined-only "$1" | awk 'NF == 3 {print $3}' | sort -u; }
needs() { nm -u "$1" | awk '$1 == "U" {print $2}' | sort -u; }
defs "$b/libvfu.a" >"$tmp/core"
defs "$b/libvfutransport.a" >"$tmp/transport"
defs "$b/libvfurt.a" >"$tmp/runtime"
[ -s "$tmp/core" ] && [ -s "$tmp/transport" ] && [ -s "$tmp/runtime" ] || { echo "FAIL: an archive is missing or empty"; exit 1; }
cat "$tmp/transport" "$tmp/runtime" | sort -u >"$tmp/above_core"
# layer LIB SYMBOLS-IT-MUST-NOT-NEED WHAT
layer() {
    bad=$(needs "$1" | comm -12 - "$2" | head -5 | tr '\n' ' ')
    [ -z "$bad" ] || fail "${1##*/} needs $3: $bad"
}
layer "$b/libvfu.a" "$tmp/above_core" "transport or runtime symbols"
layer "$b/libvfutransport.a" "$tmp/runtime" "runtime symbols"
layer "$b/libvfuclient.a" "$tmp/runtime" "runtime symbols"
# core's other needs are libc's and json-c's (no cbor_)
extra=$(needs "$b/libvfu.a" | comm -23 - "$tmp/core" | grep -E '^(cbor_|vfu_)' | head -5 | tr '\n' ' ')
[ -z "$extra" ] || fail "libvfu.a needs $extra"

# every archive exports under one prefix of its own, so a program that
# links several (the harness links them all) meets no clash, and a symbol
# says where it lives.  The core, transport, client and runtime archives
# share the installed vfu_ (their layering is checked above).
for pair in libvfu:vfu_ libvfutransport:vfu_ libvfuclient:vfu_ libvfurt:vfu_ libvfusrv:srv_ \
    libtoydev:toydev_ libvfufuzz:fuzz_ libvfuharness:vfh_ libvfureport:vfr_; do
    a=$b/${pair%%:*}.a pre=${pair#*:}
    [ -f "$a" ] || { fail "${a##*/} not built"; continue; }
    # (ASan adds __odr_asan.NAME beside each global: not ours)
    bad=$(defs "$a" | grep -v -e "^$pre" -e "^__odr_asan" | head -5 | tr '\n' ' ')
    [ -z "$bad" ] || fail "${a##*/} exports symbols without $pre: $bad"
done

# headers: a layer includes only its own and lower layers' headers.  The
# public ones (include/vfu) belong to core but for transport's and the
# client's; the umbrella vfu.h to none
hdrs() { for f in "$root"/lib/"$1"/*.h; do basename "$f"; done; }
{ hdrs transport; echo vfu_transport.h; echo vfu_client.h; } >"$tmp/h_transport"
hdrs runtime >"$tmp/h_runtime"
cat "$tmp/h_transport" "$tmp/h_runtime" >"$tmp/h_above_core"
incl() { sed -n 's/^#include "\([^"]*\)".*/\1/p' "$@" | sort -u; }
bad=$(incl "$root"/lib/core/*.[ch] | comm -12 - "$(sort -o "$tmp/s1" "$tmp/h_above_core"; echo "$tmp/s1")" | tr '\n' ' ')
[ -z "$bad" ] || fail "lib/core includes $bad"
bad=$(incl "$root"/lib/transport/*.[ch] | comm -12 - "$(sort -o "$tmp/s2" "$tmp/h_runtime"; echo "$tmp/s2")" | tr '\n' ' ')
[ -z "$bad" ] || fail "lib/transport includes $bad"
# the public headers include one another, the generated ids and the system's
# headers only: nothing of lib/ (so they install as they are)
bad=$(incl "$root"/include/vfu/*.h | grep -v -x -e 'vfu_proto.h' $(for f in "$root"/include/vfu/*.h; do printf ' -e %s' "${f##*/}"; done) | tr '\n' ' ')
[ -z "$bad" ] || fail "include/vfu includes $bad"

# the generated tables' storage (struct vfu_spec in lib/core/spec_tables.h) is
# the core's own: everything else reads them through vfu_spec.h's functions,
# so the aggregate can change shape without a program noticing.  Tests may
# look inside (white-box), and the generator writes the tables.
# (the tracked sources; outside git, every source but the build trees')
sources() {
    git ls-files '*.c' '*.h' 2>/dev/null ||
        find . -name 'build*' -prune -o -name '*.[ch]' -print | sed 's|^\./||'
}
bad=$(cd "$root" && grep -lE '#include "spec_tables\.h"|&vfu_spec\b|\bvfu_spec\.[a-gi-z_]|\bvfu_spec\.h[a-z_]' \
        $(sources) |
      grep -v -e '^lib/core/' -e '^tests/' -e '^spec/specgen' | tr '\n' ' ')
[ -z "$bad" ] || fail "outside lib/core, these read the tables' aggregate instead of vfu_spec.h: $bad"

# no X.c includes a header that (directly or not) includes X.h
path_of() {
    for d in include/vfu lib/core lib/transport lib/runtime clients servers harness fuzz tools reports bench spec/specgen; do [ -f "$root/$d/$1" ] && { echo "$root/$d/$1"; return; }; done
}
closure() {   # every header reached from header $1 (names, space-separated)
    seen=" $1 " grew=1
    while [ $grew -eq 1 ]; do
        grew=0
        for h in $seen; do
            p=$(path_of "$h")
            [ -n "$p" ] || continue
            for i in $(incl "$p"); do
                case $seen in *" $i "*) ;; *) seen="$seen$i " grew=1 ;; esac
            done
        done
    done
    echo "$seen"
}
# every program's and library's source (tests are single files)
for c in "$root"/lib/*/*.c "$root"/clients/*.c "$root"/servers/*.c "$root"/harness/*.c "$root"/fuzz/*.c \
    "$root"/tools/*.c "$root"/reports/*.c "$root"/bench/*.c "$root"/spec/specgen/*.c; do
    # a module's header is X.h, or vfu_X.h when it is public
    own=$(basename "$c" .c).h
    [ -n "$(path_of "$own")" ] || own=vfu_$own
    [ -n "$(path_of "$own")" ] || continue
    for h in $(incl "$c"); do
        [ "$h" = "$own" ] && continue
        # the module's own internal header (mutate_int.h for mutate.c) may
        # include its public one: that is one module, not a cycle
        case $h in "$(basename "$c" .c)"_int.h | "$(basename "$c" .c)"_priv.h) continue ;; esac
        case $(closure "$h") in *" $own "*) fail "${c#"$root"/} includes $h, which includes $own back" ;; esac
    done
done

[ "$fails" -eq 0 ] && echo "lib_layers: all passed"
[ "$fails" -eq 0 ]
