#!/bin/sh
# make install into a staging DESTDIR: the files land where they should,
# the libraries export only prefixed symbols, a
# program of one's own builds against the installed headers and libraries
# through pkg-config and decodes a message, man finds the pages, the
# installed vfu-conform finds its scenarios and passes the installed
# reference server, and make uninstall takes it all away again.
# Usage: install_test.sh SOURCE-TREE [BUILD-DIR [CC]]
set -u
root=${1:?usage: install_test.sh SOURCE-TREE [BUILD-DIR]}
build=${2:-build}
cc=${3:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stage=$tmp/stage prefix=/opt/vfu
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# a make of its own: not the sanitized settings of the make check that
# runs this test (MAKEFLAGS carries SANITIZE=1), which would rebuild
# the plain tree's stale objects sanitized
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$root" BUILD="$build" CC="$cc" SANITIZE= install DESTDIR="$stage" PREFIX="$prefix" >"$tmp/log" 2>&1 ||
    { cat "$tmp/log"; echo "FAIL: make install"; exit 1; }
p=$stage$prefix
for f in bin/vfu-conform bin/vfu-refserver bin/vfu-fuzz bin/vfu-spec bin/vfu-client bin/vfu-qemu-guest \
    lib/libvfu.a lib/libvfuclient.a lib/pkgconfig/vfu-conform.pc include/vfu/vfu.h \
    include/vfu/vfu_proto.h include/vfu/vfu_client.h include/vfu/vfu_spec.h share/man/man1/vfu-conform.1 \
    share/vfu-conform/scenarios/dma.scn share/vfu-conform/seeds; do
    [ -e "$p/$f" ] || fail "$f not installed"
done
# the pkg-config file names the prefix, not the staging directory
grep -q "^prefix=$prefix\$" "$p/lib/pkgconfig/vfu-conform.pc" || fail "vfu-conform.pc: wrong prefix"

# every global symbol the installed libraries define carries their prefix
for a in "$p/lib/libvfu.a" "$p/lib/libvfutransport.a" "$p/lib/libvfuclient.a"; do
    bad=$(nm -g --defined-only "$a" 2>/dev/null | awk 'NF == 3 {print $3}' | grep -v -E '^(vfu_|VFU_)' | head -5)
    [ -z "$bad" ] || fail "${a##*/} exports unprefixed symbols: $bad"
done
# the reference server does not need the trace library
if command -v ldd >/dev/null 2>&1; then
    ! ldd "$p/bin/vfu-refserver" | grep -q cbor || fail "vfu-refserver links libcbor"
fi

# a program of one's own, against the installed headers and libraries only
cat >"$tmp/mine.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <vfu/vfu.h>
int main(void)
{
    /* the tables through functions: DMA_MAP's request, field by field */
    int sid = vfu_cmd_by_name("DMA_MAP")->sid[0];
    const struct vfu_struct_desc *sd = vfu_struct(sid);
    unsigned w = 0;
    for (unsigned i = 0; i < sd->nfields; i++) w += vfu_field(sd->first_field + (int)i)->width;
    if (sid != VFU_S_DMA_MAP || w != VFU_SIZE_DMA_MAP || vfu_struct_size(sid) != (int)w) return 2;
    uint8_t buf[64];
    struct vfu_enc e;
    struct vfu_error err;
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_GET_INFO, false, 7);
    if (!vfu_enc_finish(&e, &err)) return 1;
    struct vfu_msg m;
    struct vfu_limits lim;
    vfu_limits_default(&lim);
    if (!vfu_decode(&m, buf, e.len, NULL, 0, &lim, VFU_ROLE_SERVER, &err)) return 1;
    printf("%s %u\n", vfu_cmd_name(m.hdr.cmd), m.hdr.msg_id);
    return 0;
}
C
flags=$(PKG_CONFIG_SYSROOT_DIR="$stage" PKG_CONFIG_PATH="$p/lib/pkgconfig" pkg-config --cflags --libs vfu-conform) ||
    fail "pkg-config does not know vfu-conform"
case $flags in *"$stage"*) ;; *) fail "pkg-config flags do not point into the install: $flags" ;; esac
# -I. would see the source tree's headers: build elsewhere
(cd "$tmp" && cc -std=c11 -D_GNU_SOURCE -o mine mine.c $flags) 2>"$tmp/cc" || { cat "$tmp/cc"; fail "cannot build against the install"; }
[ "$("$tmp/mine" 2>&1)" = "DEVICE_GET_INFO 7" ] || fail "the program built against the install: $("$tmp/mine" 2>&1)"

# each installed header stands alone, and none reaches the library's
# internal table layout
for h in "$p"/include/vfu/*.h; do
    printf '#include <vfu/%s>\nint main(void) { return 0; }\n' "${h##*/}" >"$tmp/alone.c"
    (cd "$tmp" && cc -std=c11 -Wall -Wextra -Werror -c -o alone.o alone.c $(PKG_CONFIG_SYSROOT_DIR="$stage" PKG_CONFIG_PATH="$p/lib/pkgconfig" pkg-config --cflags vfu-conform)) 2>"$tmp/cc" ||
        { head -5 "$tmp/cc"; fail "installed ${h##*/} does not compile on its own"; }
done
! grep -l -e '#include "spec_tables.h"' -e 'struct vfu_spec {' "$p"/include/vfu/*.h >/dev/null 2>&1 || fail "an installed header exposes the table aggregate"

# every installed program has its page
for b in "$p"/bin/*; do
    [ -f "$p/share/man/man1/${b##*/}.1" ] || fail "${b##*/} installed without a man page"
done
# man finds the pages
if command -v man >/dev/null 2>&1; then
    MANPAGER=cat man -M "$p/share/man" vfu-conform 2>"$tmp/man" | grep -q 'vfu-conform - check a vfio-user server' ||
        fail "man vfu-conform: $(head -c 200 "$tmp/man")"
else
    echo "install_test: no man on this machine: the pages are checked by their presence only"
fi

# the installed vfu-conform finds its bundled scenarios and passes the installed server
(cd "$tmp" && "$p/bin/vfu-conform" --server "$p/bin/vfu-refserver" --format tap >"$tmp/tap" 2>"$tmp/err")
rc=$?
[ "$rc" -eq 0 ] || { head -20 "$tmp/err"; fail "installed vfu-conform vs installed vfu-refserver: exit $rc"; }
n=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$tmp/tap")
[ "${n:-0}" -ge 200 ] || fail "the installed run had ${n:-no} scenarios"
"$p/bin/vfu-conform" --client "$p/bin/vfu-client" --only 'client.[!p]*' --client-idle 300 >/dev/null 2>&1 ||
    fail "installed vfu-conform --client vs installed vfu-client"

env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$root" BUILD="$build" CC="$cc" uninstall DESTDIR="$stage" PREFIX="$prefix" >"$tmp/log" 2>&1 || fail "make uninstall"
left=$(find "$stage" -type f | head -5)
[ -z "$left" ] || fail "left after uninstall: $left"

[ "$fails" -eq 0 ] && echo "install_test: all passed"
[ "$fails" -eq 0 ]
