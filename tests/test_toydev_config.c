/* The toy device's configuration space: identity, register semantics
 * (read-only, writable, write-1-to-clear), BAR sizing, the capability list
 * and the access rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <linux/pci_regs.h>

#include "toydev_fake.h"


static void identity(void **state)
{
    struct toydev *d = ((struct fx *)*state)->d;
    assert_int_equal(rd(d, CFG, PCI_VENDOR_ID, 2), 0x1234);
    assert_int_equal(rd(d, CFG, PCI_DEVICE_ID, 2), 0x11f0);
    assert_int_equal(rd(d, CFG, PCI_VENDOR_ID, 4), 0x11f01234);
    /* class 0xff0000 in the top 24 bits, revision below */
    assert_int_equal(rd(d, CFG, PCI_CLASS_REVISION, 4), 0xff000000u | TOYDEV_REVISION);
    assert_int_equal(rd(d, CFG, PCI_CLASS_DEVICE, 2), 0xff00);
    assert_int_equal(rd(d, CFG, PCI_HEADER_TYPE, 1), 0);
    assert_int_equal(rd(d, CFG, PCI_SUBSYSTEM_VENDOR_ID, 2), TOYDEV_SUBSYS_VENDOR_ID);
    assert_int_equal(rd(d, CFG, PCI_SUBSYSTEM_ID, 2), TOYDEV_SUBSYS_ID);
    assert_int_equal(rd(d, CFG, PCI_CAPABILITY_LIST, 1), 0x40);
    assert_int_equal(rd(d, CFG, PCI_STATUS, 2), PCI_STATUS_CAP_LIST);
    assert_int_equal(rd(d, CFG, PCI_COMMAND, 2), 0);
    assert_int_equal(rd(d, CFG, PCI_INTERRUPT_PIN, 1), 1);
    assert_int_equal(rd(d, CFG, PCI_ROM_ADDRESS, 4), 0);
}

static void read_only_fields(void **state)
{
    struct toydev *d = ((struct fx *)*state)->d;
    static const unsigned ro[][2] = {
        {PCI_VENDOR_ID, 2}, {PCI_DEVICE_ID, 2}, {PCI_CLASS_REVISION, 4},
        {PCI_HEADER_TYPE, 1}, {PCI_SUBSYSTEM_VENDOR_ID, 4}, {PCI_CAPABILITY_LIST, 1},
        {PCI_INTERRUPT_PIN, 1}, {PCI_ROM_ADDRESS, 4}, {0x40, 2}, {0x50, 2}, {0x70, 2},
        {0x80, 4}, {0x40 + PCI_PM_PMC, 2}, {0x70 + PCI_MSIX_TABLE, 4},
        {0x70 + PCI_MSIX_PBA, 4}, {0x80 + PCI_EXP_DEVCAP, 4}, {0x80 + PCI_EXP_LNKSTA, 2},
        {0x100, 4}, {0xffc, 4},
    };
    for (size_t i = 0; i < sizeof ro / sizeof ro[0]; i++) {
        unsigned off = ro[i][0], n = ro[i][1];
        uint64_t before = rd(d, CFG, off, n);
        assert_int_equal(wr(d, CFG, off, 0xffffffff, n), 0);
        assert_int_equal(rd(d, CFG, off, n), before);
        assert_int_equal(wr(d, CFG, off, 0, n), 0);
        assert_int_equal(rd(d, CFG, off, n), before);
    }
}

static void command_register(void **state)
{
    struct toydev *d = ((struct fx *)*state)->d;
    assert_int_equal(wr(d, CFG, PCI_COMMAND, 0xffff, 2), 0);
    /* no I/O BAR: I/O Space stays 0; legacy bits stay 0 */
    assert_int_equal(rd(d, CFG, PCI_COMMAND, 2),
                     PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |
                         PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
    assert_int_equal(wr(d, CFG, PCI_COMMAND, PCI_COMMAND_MASTER, 2), 0);
    assert_int_equal(rd(d, CFG, PCI_COMMAND, 2), PCI_COMMAND_MASTER);
    /* a byte write touches only its byte */
    assert_int_equal(wr(d, CFG, PCI_COMMAND + 1, PCI_COMMAND_INTX_DISABLE >> 8, 1), 0);
    assert_int_equal(rd(d, CFG, PCI_COMMAND, 2), PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
    assert_int_equal(wr(d, CFG, PCI_INTERRUPT_LINE, 0x0b, 1), 0);
    assert_int_equal(rd(d, CFG, PCI_INTERRUPT_LINE, 1), 0x0b);
}

/* the device sets Received Master Abort when a DMA transaction fails */
static void fail_a_dma(struct toydev *d)
{
    assert_int_equal(wr(d, CFG, PCI_COMMAND, PCI_COMMAND_MASTER, 2), 0);
    assert_int_equal(wr(d, BAR0, TOYDEV_REG_SRC, 0 /* not guest memory */, 8), 0);
    assert_int_equal(wr(d, BAR0, TOYDEV_REG_DST, GUEST_BASE, 8), 0);
    assert_int_equal(wr(d, BAR0, TOYDEV_REG_LEN, 16, 4), 0);
    assert_int_equal(wr(d, BAR0, TOYDEV_REG_DOORBELL, 1, 4), 0);
}

static void status_write_one_to_clear(void **state)
{
    struct toydev *d = ((struct fx *)*state)->d;
    const unsigned abort = PCI_STATUS_REC_MASTER_ABORT;
    fail_a_dma(d);
    assert_int_equal(rd(d, CFG, PCI_STATUS, 2), PCI_STATUS_CAP_LIST | abort);
    /* writing 0s, or 1s to other bits, clears nothing; CAP_LIST is read-only */
    assert_int_equal(wr(d, CFG, PCI_STATUS, 0, 2), 0);
    assert_int_equal(wr(d, CFG, PCI_STATUS, (uint16_t)~abort, 2), 0);
    assert_int_equal(rd(d, CFG, PCI_STATUS, 2), PCI_STATUS_CAP_LIST | abort);
    /* a dword write at COMMAND reaches STATUS too: command written, abort cleared */
    assert_int_equal(wr(d, CFG, PCI_COMMAND, (uint32_t)abort << 16 | PCI_COMMAND_MEMORY, 4), 0);
    assert_int_equal(rd(d, CFG, PCI_COMMAND, 4),
                     (uint32_t)PCI_STATUS_CAP_LIST << 16 | PCI_COMMAND_MEMORY);
    fail_a_dma(d);
    assert_int_equal(wr(d, CFG, PCI_STATUS + 1, abort >> 8, 1), 0);
    assert_int_equal(rd(d, CFG, PCI_STATUS, 2), PCI_STATUS_CAP_LIST);
}

static void power_management(void **state)
{
    struct toydev *d = ((struct fx *)*state)->d;
    const unsigned ctrl = 0x40 + PCI_PM_CTRL;
    assert_int_equal(rd(d, CFG, 0x40 + PCI_PM_PMC, 2) & PCI_PM_CAP_VER_MASK, 3);
    assert_int_equal(rd(d, CFG, ctrl, 2), PCI_PM_CTRL_NO_SOFT_RESET);
    assert_int_equal(wr(d, CFG, ctrl, 3, 2), 0);     /* D3hot */
    assert_int_equal(rd(d, CFG, ctrl, 2), PCI_PM_CTRL_NO_SOFT_RESET | 3);
    assert_int_equal(wr(d, CFG, ctrl, 1, 2), 0);     /* D1: unsupported, ignored */
    assert_int_equal(rd(d, CFG, ctrl, 2), PCI_PM_CTRL_NO_SOFT_RESET | 3);
    assert_int_equal(wr(d, CFG, ctrl, 0xfff0, 2), 0);  /* D0; other bits read-only */
    assert_int_equal(rd(d, CFG, ctrl, 2), PCI_PM_CTRL_NO_SOFT_RESET);
}

static void msi_and_msix_controls(void **state)
{
    struct toydev *d = ((struct fx *)*state)->d;
    const unsigned msi = 0x50, msix = 0x70;
    assert_int_equal(rd(d, CFG, msi + PCI_MSI_FLAGS, 2), PCI_MSI_FLAGS_64BIT);
    assert_int_equal(wr(d, CFG, msi + PCI_MSI_FLAGS, 0xffff, 2), 0);
    /* only Enable moves: one vector, so Multiple Message Enable stays 0 */
    assert_int_equal(rd(d, CFG, msi + PCI_MSI_FLAGS, 2), PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_ENABLE);
    assert_int_equal(wr(d, CFG, msi + PCI_MSI_ADDRESS_LO, 0xfee01237, 4), 0);
    assert_int_equal(rd(d, CFG, msi + PCI_MSI_ADDRESS_LO, 4), 0xfee01234);
    assert_int_equal(wr(d, CFG, msi + PCI_MSI_ADDRESS_HI, 0xabcdef01, 4), 0);
    assert_int_equal(rd(d, CFG, msi + PCI_MSI_ADDRESS_HI, 4), 0xabcdef01);
    assert_int_equal(wr(d, CFG, msi + PCI_MSI_DATA_64, 0xffffffff, 4), 0);
    assert_int_equal(rd(d, CFG, msi + PCI_MSI_DATA_64, 4), 0xffff);

    assert_int_equal(rd(d, CFG, msix + PCI_MSIX_FLAGS, 2), TOYDEV_MSIX_VECTORS - 1);
    assert_int_equal(wr(d, CFG, msix + PCI_MSIX_FLAGS, 0xffff, 2), 0);
    assert_int_equal(rd(d, CFG, msix + PCI_MSIX_FLAGS, 2),
                     PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL | (TOYDEV_MSIX_VECTORS - 1));
    assert_int_equal(wr(d, CFG, msix + PCI_MSIX_FLAGS, 0, 2), 0);
    assert_int_equal(rd(d, CFG, msix + PCI_MSIX_FLAGS, 2), TOYDEV_MSIX_VECTORS - 1);
}

static void express_registers(void **state)
{
    struct toydev *d = ((struct fx *)*state)->d;
    const unsigned e = 0x80;
    assert_int_equal(rd(d, CFG, e + PCI_EXP_FLAGS, 2) & PCI_EXP_FLAGS_TYPE,
                     PCI_EXP_TYPE_ENDPOINT << 4);
    assert_int_equal(rd(d, CFG, e + PCI_EXP_FLAGS, 2) & PCI_EXP_FLAGS_VERS, 2);
    assert_int_equal(wr(d, CFG, e + PCI_EXP_DEVCTL, 0xffff, 2), 0);
    /* FLR, AUX power and extended tags are not supported, so stay 0 */
    assert_int_equal(rd(d, CFG, e + PCI_EXP_DEVCTL, 2), 0x78ff);
    assert_int_equal(wr(d, CFG, e + PCI_EXP_DEVSTA, 0xffff, 2), 0);
    assert_int_equal(rd(d, CFG, e + PCI_EXP_DEVSTA, 2), 0);
}

static uint32_t size_bar(struct toydev *d, unsigned off)
{
    assert_int_equal(wr(d, CFG, off, 0xffffffff, 4), 0);
    return (uint32_t)rd(d, CFG, off, 4);
}

static void bar_sizing(void **state)
{
    struct toydev *d = ((struct fx *)*state)->d;
    assert_int_equal(rd(d, CFG, PCI_BASE_ADDRESS_2, 4),
                     PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH);
    assert_int_equal(size_bar(d, PCI_BASE_ADDRESS_0), 0xfffff000u);     /* 4 KiB, 32-bit */
    assert_int_equal(size_bar(d, PCI_BASE_ADDRESS_1), 0);               /* unused */
    assert_int_equal(size_bar(d, PCI_BASE_ADDRESS_2), 0xffff000cu);     /* 64 KiB, 64-bit pf */
    assert_int_equal(size_bar(d, PCI_BASE_ADDRESS_3), 0xffffffffu);     /* upper half */
    assert_int_equal(size_bar(d, PCI_BASE_ADDRESS_4), 0xfffff000u);
    assert_int_equal(size_bar(d, PCI_BASE_ADDRESS_5), 0);
    assert_int_equal(size_bar(d, PCI_ROM_ADDRESS), 0);

    /* assigning addresses: the low bits below the size and the type bits stay */
    assert_int_equal(wr(d, CFG, PCI_BASE_ADDRESS_0, 0xfebf1fff, 4), 0);
    assert_int_equal(rd(d, CFG, PCI_BASE_ADDRESS_0, 4), 0xfebf1000u);
    assert_int_equal(wr(d, CFG, PCI_BASE_ADDRESS_2, 0x12345678, 4), 0);
    assert_int_equal(wr(d, CFG, PCI_BASE_ADDRESS_3, 0x9, 4), 0);
    assert_int_equal(rd(d, CFG, PCI_BASE_ADDRESS_2, 8), 0x000000091234000cull);
    assert_int_equal(wr(d, CFG, PCI_BASE_ADDRESS_4, 0, 4), 0);
    assert_int_equal(wr(d, CFG, PCI_BASE_ADDRESS_4 + 1, 0xff, 1), 0);
    assert_int_equal(rd(d, CFG, PCI_BASE_ADDRESS_4, 4), 0x0000f000u);
    assert_int_equal(wr(d, CFG, PCI_BASE_ADDRESS_1, 0x80000000, 4), 0);
    assert_int_equal(rd(d, CFG, PCI_BASE_ADDRESS_1, 4), 0);
}

static void capability_walk(void **state)
{
    struct toydev *d = ((struct fx *)*state)->d;
    static const struct { unsigned off, id; } want[] = {
        {0x40, PCI_CAP_ID_PM}, {0x50, PCI_CAP_ID_MSI}, {0x70, PCI_CAP_ID_MSIX},
        {0x80, PCI_CAP_ID_EXP},
    };
    assert_true(rd(d, CFG, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
    unsigned ptr = (unsigned)rd(d, CFG, PCI_CAPABILITY_LIST, 1), n = 0;
    while (ptr != 0) {
        assert_true(n < sizeof want / sizeof want[0]);
        assert_int_equal(ptr % 4, 0);
        assert_true(ptr >= PCI_STD_HEADER_SIZEOF && ptr < 0x100);
        assert_int_equal(ptr, want[n].off);
        assert_int_equal(rd(d, CFG, ptr, 1), want[n].id);
        ptr = (unsigned)rd(d, CFG, ptr + PCI_CAP_LIST_NEXT, 1);
        n++;
    }
    assert_int_equal(n, 4);
    /* MSI-X table and PBA both live in BAR4 */
    assert_int_equal(rd(d, CFG, 0x70 + PCI_MSIX_TABLE, 4), 4);
    assert_int_equal(rd(d, CFG, 0x70 + PCI_MSIX_PBA, 4), TOYDEV_MSIX_PBA_OFFSET | 4);
    /* 1 MSI vector: Multiple Message Capable = 0 */
    assert_int_equal(rd(d, CFG, 0x50 + PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_QMASK, 0);
    /* no extended capabilities */
    assert_int_equal(rd(d, CFG, 0x100, 4), 0);
}

static void access_rules(void **state)
{
    struct toydev *d = ((struct fx *)*state)->d;
    uint8_t all[TOYDEV_CONFIG_SIZE], b[8] = {0};
    /* a read of the whole space in one go agrees with dword reads */
    assert_int_equal(toydev_access(d, CFG, 0, all, sizeof all, false), 0);
    for (unsigned off = 0; off < sizeof all; off += 4)
        assert_int_equal(le32(all + off), rd(d, CFG, off, 4));
    /* unimplemented areas read 0 */
    for (unsigned off = 0xc0; off < sizeof all; off++)
        assert_int_equal(all[off], 0);
    assert_int_equal(toydev_access(d, CFG, 0x3e, b, 8, false), 0);  /* any span */
    assert_int_equal(toydev_access(d, CFG, 0xff8, b, 8, false), 0);
    assert_int_equal(toydev_access(d, CFG, 0xffc, b, 8, false), EINVAL);
    assert_int_equal(toydev_access(d, CFG, 4096, b, 1, false), EINVAL);
    assert_int_equal(toydev_access(d, CFG, 0, b, 0, false), EINVAL);
    assert_int_equal(toydev_access(d, CFG, UINT64_MAX - 1, b, 4, false), EINVAL);
    /* writes: 1, 2 or 4 bytes, naturally aligned */
    assert_int_equal(toydev_access(d, CFG, 0xfff, b, 1, true), 0);
    assert_int_equal(toydev_access(d, CFG, 0x3c, b, 3, true), EINVAL);
    assert_int_equal(toydev_access(d, CFG, 0x3d, b, 2, true), EINVAL);
    assert_int_equal(toydev_access(d, CFG, 0x06, b, 4, true), EINVAL);
    assert_int_equal(toydev_access(d, CFG, 0x10, b, 8, true), EINVAL);
    assert_int_equal(toydev_access(d, CFG, 0x1000, b, 4, true), EINVAL);
    assert_int_equal(toydev_access(d, CFG, 0, b, 0, true), EINVAL);
    /* a refused write changed nothing */
    assert_int_equal(wr(d, CFG, PCI_COMMAND, 0x0006, 2), 0);
    b[0] = 0;
    assert_int_equal(toydev_access(d, CFG, PCI_COMMAND, b, 8, true), EINVAL);
    assert_int_equal(rd(d, CFG, PCI_COMMAND, 2), 0x0006);
    /* regions that do not exist */
    for (unsigned r = 0; r < 12; r++)
        if (r != BAR0 && r != BAR2 && r != BAR4 && r != CFG)
            assert_int_equal(toydev_access(d, r, 0, b, 4, false), EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(identity, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(read_only_fields, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(command_register, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(status_write_one_to_clear, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(power_management, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(msi_and_msix_controls, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(express_registers, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(bar_sizing, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(capability_walk, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(access_rules, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests_name("toydev config", tests, NULL, NULL);
}
