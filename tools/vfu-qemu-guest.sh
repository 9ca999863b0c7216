#!/bin/sh
# Plays a guest for QEMU's vfio-user-pci client, with no guest OS: QEMU
# runs under the qtest accelerator and this script writes qtest commands
# on its stdin (PCI config cycles through ports 0xcf8/0xcfc, BAR sizing,
# MMIO).  So that `vfu-conform --client` can judge QEMU:
#
#   vfu-conform --client 'sh tools/vfu-qemu-guest.sh /path/to/qemu-system-x86_64 {socket}'
#
# The device sits at 00:04.0; its BAR0 is placed at 0xe0000000.  QEMU
# keeps running after the script's commands end (vfu-conform stops it).
set -eu
qemu=${1:?usage: vfu-qemu-guest.sh QEMU SOCKET}
sock=${2:?usage: vfu-qemu-guest.sh QEMU SOCKET}
# config address of 00:04.0, register $1
cfg() { printf 'outl 0xcf8 0x%x\n' $((0x80000000 | (4 << 11) | $1)); }
guest() {
    cfg 0x00; echo 'inl 0xcfc'                       # vendor and device ID
    cfg 0x08; echo 'inl 0xcfc'                       # class and revision
    cfg 0x10; echo 'outl 0xcfc 0xffffffff'           # BAR0 sizing
    cfg 0x10; echo 'inl 0xcfc'
    cfg 0x10; echo 'outl 0xcfc 0xe0000000'           # BAR0 placed
    cfg 0x04; echo 'outw 0xcfc 0x0006'               # memory space and bus master on
    echo 'readl 0xe0000000'
    echo 'writel 0xe0000000 0x0'
    echo 'readl 0xe0000004'
    cfg 0x04; echo 'outw 0xcfc 0x0000'               # and off again
    # qtest reads its stdin to the end before QEMU is stopped
    sleep 1
}
guest | exec "$qemu" -machine q35 -accel qtest -qtest stdio -display none -nodefaults -m 128M \
    -device "{\"driver\":\"vfio-user-pci\",\"id\":\"vfu0\",\"addr\":\"0x4\",\"socket\":{\"type\":\"unix\",\"path\":\"$sock\"}}"
