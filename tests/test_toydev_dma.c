/* The toy device's BAR0 registers and DMA engine, its MSI-X BAR, and which
 * interrupt a finished copy raises. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <linux/pci_regs.h>

#include "toydev_fake.h"

static int setup(void **state)
{
    if (fx_setup(state) != 0) return -1;
    struct fx *x = *state;
    /* most tests want a device allowed to master the bus */
    return wr(x->d, CFG, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2) != 0 ? -1 : 0;
}


static void fill(struct fake *f, uint64_t addr, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        f->mem[addr - GUEST_BASE + i] = (uint8_t)(i * 31 + seed + (i >> 9));
}

/* SRC as one qword, DST as two dwords, then LEN and the doorbell */
static void copy(struct toydev *d, uint64_t src, uint64_t dst, uint32_t len)
{
    assert_int_equal(wr(d, BAR0, TOYDEV_REG_SRC, src, 8), 0);
    assert_int_equal(wr(d, BAR0, TOYDEV_REG_DST, (uint32_t)dst, 4), 0);
    assert_int_equal(wr(d, BAR0, TOYDEV_REG_DST + 4, dst >> 32, 4), 0);
    assert_int_equal(wr(d, BAR0, TOYDEV_REG_LEN, len, 4), 0);
    assert_int_equal(wr(d, BAR0, TOYDEV_REG_DOORBELL, 1, 4), 0);
}

static void msix_vector0_ctrl(struct toydev *d, uint32_t ctrl)
{
    assert_int_equal(wr(d, BAR4, PCI_MSIX_ENTRY_VECTOR_CTRL, ctrl, 4), 0);
}

static void set_cfg16(struct toydev *d, unsigned off, uint16_t v)
{
    assert_int_equal(wr(d, CFG, off, v, 2), 0);
}

static void registers(void **state)
{
    struct toydev *d = ((struct fx *)*state)->d;
    assert_int_equal(rd(d, BAR0, TOYDEV_REG_ID, 4), 0x31796f74);
    assert_int_equal(wr(d, BAR0, TOYDEV_REG_ID, 0, 4), 0);
    assert_int_equal(rd(d, BAR0, TOYDEV_REG_ID, 4), TOYDEV_ID_VALUE);
    assert_int_equal(wr(d, BAR0, TOYDEV_REG_ERRNO, 5, 4), 0);
    assert_int_equal(rd(d, BAR0, TOYDEV_REG_ERRNO, 4), 0);

    /* 64-bit registers through 8, 4, 2 and 1-byte accesses */
    assert_int_equal(wr(d, BAR0, TOYDEV_REG_SRC, 0x1122334455667788ull, 8), 0);
    assert_int_equal(rd(d, BAR0, TOYDEV_REG_SRC + 4, 4), 0x11223344);
    assert_int_equal(rd(d, BAR0, TOYDEV_REG_SRC + 2, 2), 0x5566);
    assert_int_equal(wr(d, BAR0, TOYDEV_REG_SRC + 3, 0xaa, 1), 0);
    assert_int_equal(rd(d, BAR0, TOYDEV_REG_SRC, 8), 0x11223344aa667788ull);
    assert_int_equal(wr(d, BAR0, TOYDEV_REG_DST + 4, 0xcafe, 4), 0);
    assert_int_equal(rd(d, BAR0, TOYDEV_REG_DST, 8), 0x0000cafe00000000ull);

    for (unsigned i = 0; i < TOYDEV_SCRATCH_COUNT; i++)
        assert_int_equal(wr(d, BAR0, TOYDEV_REG_SCRATCH + 8 * i, 0x0101010101010101ull * (i + 1), 8), 0);
    for (unsigned i = 0; i < TOYDEV_SCRATCH_COUNT; i++)
        assert_int_equal(rd(d, BAR0, TOYDEV_REG_SCRATCH + 8 * i, 8), 0x0101010101010101ull * (i + 1));
    assert_int_equal(wr(d, BAR0, TOYDEV_REG_SCRATCH + 8 * 7 + 4, 0xdeadbeef, 4), 0);
    assert_int_equal(rd(d, BAR0, TOYDEV_REG_SCRATCH + 8 * 7, 8), 0xdeadbeef08080808ull);

    /* a qword read over LEN and DOORBELL: the doorbell reads 0 */
    assert_int_equal(wr(d, BAR0, TOYDEV_REG_LEN, 0x1234, 4), 0);
    assert_int_equal(rd(d, BAR0, TOYDEV_REG_LEN, 8), 0x1234);

    /* holes read 0 and ignore writes */
    static const unsigned holes[] = {0x28, 0x40, 0xf8, 0x140, 0x800, 0xff8};
    for (size_t i = 0; i < sizeof holes / sizeof holes[0]; i++) {
        assert_int_equal(wr(d, BAR0, holes[i], ~0ull, 8), 0);
        assert_int_equal(rd(d, BAR0, holes[i], 8), 0);
    }
}

static void access_rules(void **state)
{
    struct toydev *d = ((struct fx *)*state)->d;
    uint8_t b[16] = {0};
    static const struct { uint64_t off; uint32_t n; } bad[] = {
        {0, 3}, {0, 16}, {0, 0}, {2, 4}, {4, 8}, {1, 2}, {4096, 1}, {4095, 2},
        {4092, 8}, {UINT64_MAX - 3, 4},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(toydev_access(d, BAR0, bad[i].off, b, bad[i].n, false), EINVAL);
        assert_int_equal(toydev_access(d, BAR0, bad[i].off, b, bad[i].n, true), EINVAL);
    }
    assert_int_equal(toydev_access(d, BAR0, 4088, b, 8, true), 0);
    assert_int_equal(toydev_access(d, BAR0, 4095, b, 1, false), 0);
    /* a refused doorbell write does not run the engine */
    assert_int_equal(wr(d, BAR0, TOYDEV_REG_LEN, 0, 4), 0);
    b[0] = 1;
    assert_int_equal(toydev_access(d, BAR0, TOYDEV_REG_DOORBELL + 1, b, 4, true), EINVAL);
    assert_int_equal(rd(d, BAR0, TOYDEV_REG_STATUS, 4), 0);
}

static void copy_with_intx(void **state)
{
    struct fx *x = *state;
    const uint32_t len = 200 * 1024;    /* several engine chunks */
    fill(x->f, GUEST_BASE, len, 7);
    copy(x->d, GUEST_BASE, GUEST_BASE + 0x100000, len);
    assert_memory_equal(x->f->mem + 0x100000, x->f->mem, len);
    assert_int_equal(rd(x->d, BAR0, TOYDEV_REG_STATUS, 4), TOYDEV_STATUS_DONE);
    assert_int_equal(rd(x->d, BAR0, TOYDEV_REG_IRQ_CAUSE, 4), TOYDEV_STATUS_DONE);
    assert_int_equal(rd(x->d, BAR0, TOYDEV_REG_ERRNO, 4), 0);
    assert_true(x->f->reads >= 4);
    assert_true(x->f->max_chunk <= 64 * 1024);
    assert_int_equal(x->f->nirq, 1);
    assert_int_equal(x->f->irq[0].index, VFU_PCI_IRQ_INTX);
    assert_int_equal(x->f->irq[0].sub, 0);
}

static void intx_disabled_raises_nothing(void **state)
{
    struct fx *x = *state;
    set_cfg16(x->d, PCI_COMMAND, PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
    fill(x->f, GUEST_BASE, 64, 1);
    copy(x->d, GUEST_BASE, GUEST_BASE + 4096, 64);
    assert_memory_equal(x->f->mem + 4096, x->f->mem, 64);
    assert_int_equal(rd(x->d, BAR0, TOYDEV_REG_IRQ_CAUSE, 4), TOYDEV_STATUS_DONE);
    assert_int_equal(x->f->nirq, 0);
}

static void copy_with_msi(void **state)
{
    struct fx *x = *state;
    set_cfg16(x->d, 0x50 + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE);
    fill(x->f, GUEST_BASE, 100, 2);
    copy(x->d, GUEST_BASE, GUEST_BASE + 8192, 100);
    assert_memory_equal(x->f->mem + 8192, x->f->mem, 100);
    assert_int_equal(x->f->nirq, 1);
    assert_int_equal(x->f->irq[0].index, VFU_PCI_IRQ_MSI);
    assert_int_equal(x->f->irq[0].sub, 0);
}

static void copy_with_msix(void **state)
{
    struct fx *x = *state;
    /* MSI-X wins over MSI when both are enabled */
    set_cfg16(x->d, 0x50 + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE);
    set_cfg16(x->d, 0x70 + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE);
    msix_vector0_ctrl(x->d, 0);
    copy(x->d, GUEST_BASE, GUEST_BASE + 8192, 8);
    assert_int_equal(x->f->nirq, 1);
    assert_int_equal(x->f->irq[0].index, VFU_PCI_IRQ_MSIX);
    assert_int_equal(x->f->irq[0].sub, 0);
    assert_int_equal(rd(x->d, BAR4, TOYDEV_MSIX_PBA_OFFSET, 4), 0);
}

static void msix_masked_sets_pending(void **state)
{
    struct fx *x = *state;
    set_cfg16(x->d, 0x70 + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE);
    /* vectors are masked from power-on */
    assert_int_equal(rd(x->d, BAR4, PCI_MSIX_ENTRY_VECTOR_CTRL, 4), PCI_MSIX_ENTRY_CTRL_MASKBIT);
    copy(x->d, GUEST_BASE, GUEST_BASE + 8192, 8);
    assert_int_equal(x->f->nirq, 0);
    assert_int_equal(rd(x->d, BAR4, TOYDEV_MSIX_PBA_OFFSET, 4), 1);
    assert_int_equal(rd(x->d, BAR4, TOYDEV_MSIX_PBA_OFFSET, 8), 1);
    /* unmasking the vector sends the pending message */
    msix_vector0_ctrl(x->d, 0);
    assert_int_equal(x->f->nirq, 1);
    assert_int_equal(x->f->irq[0].index, VFU_PCI_IRQ_MSIX);
    assert_int_equal(rd(x->d, BAR4, TOYDEV_MSIX_PBA_OFFSET, 4), 0);

    /* same through the function mask */
    set_cfg16(x->d, 0x70 + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    copy(x->d, GUEST_BASE, GUEST_BASE + 8192, 8);
    assert_int_equal(x->f->nirq, 1);
    assert_int_equal(rd(x->d, BAR4, TOYDEV_MSIX_PBA_OFFSET, 4), 1);
    set_cfg16(x->d, 0x70 + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE);
    assert_int_equal(x->f->nirq, 2);
    assert_int_equal(x->f->irq[1].index, VFU_PCI_IRQ_MSIX);
    assert_int_equal(rd(x->d, BAR4, TOYDEV_MSIX_PBA_OFFSET, 4), 0);
}

static void bus_master_off_is_eperm(void **state)
{
    struct fx *x = *state;
    set_cfg16(x->d, PCI_COMMAND, PCI_COMMAND_MEMORY);
    fill(x->f, GUEST_BASE, 64, 3);
    copy(x->d, GUEST_BASE, GUEST_BASE + 4096, 64);
    assert_int_equal(x->f->reads + x->f->writes, 0);
    assert_int_equal(x->f->mem[4096], 0);
    assert_int_equal(rd(x->d, BAR0, TOYDEV_REG_STATUS, 4), TOYDEV_STATUS_ERROR);
    assert_int_equal(rd(x->d, BAR0, TOYDEV_REG_IRQ_CAUSE, 4), TOYDEV_STATUS_ERROR);
    assert_int_equal(rd(x->d, BAR0, TOYDEV_REG_ERRNO, 4), EPERM);
    /* refused before any transaction: no master abort */
    assert_int_equal(rd(x->d, CFG, PCI_STATUS, 2), PCI_STATUS_CAP_LIST);
    assert_int_equal(x->f->nirq, 1);
    assert_int_equal(x->f->irq[0].index, VFU_PCI_IRQ_INTX);
}

static void dma_read_failure(void **state)
{
    struct fx *x = *state;
    x->f->read_rc = ENXIO;
    copy(x->d, GUEST_BASE, GUEST_BASE + 4096, 64);
    assert_int_equal(x->f->writes, 0);
    assert_int_equal(rd(x->d, BAR0, TOYDEV_REG_STATUS, 4), TOYDEV_STATUS_ERROR);
    assert_int_equal(rd(x->d, BAR0, TOYDEV_REG_ERRNO, 4), ENXIO);
    assert_int_equal(rd(x->d, CFG, PCI_STATUS, 2),
                     PCI_STATUS_CAP_LIST | PCI_STATUS_REC_MASTER_ABORT);
    assert_int_equal(x->f->nirq, 1);
    /* an op returning something that is no errno reads as EIO */
    x->f->read_rc = 100000;
    copy(x->d, GUEST_BASE, GUEST_BASE + 4096, 64);
    assert_int_equal(rd(x->d, BAR0, TOYDEV_REG_ERRNO, 4), EIO);
}

static void dma_write_failure_and_unmapped(void **state)
{
    struct fx *x = *state;
    x->f->write_rc = EROFS;
    copy(x->d, GUEST_BASE, GUEST_BASE + 4096, 64);
    assert_int_equal(rd(x->d, BAR0, TOYDEV_REG_ERRNO, 4), EROFS);
    x->f->write_rc = 0;
    /* destination running off the end of guest memory: the fake says EFAULT */
    assert_int_equal(wr(x->d, BAR0, TOYDEV_REG_STATUS, 3, 4), 0);
    copy(x->d, GUEST_BASE, GUEST_BASE + GUEST_SIZE - 16, 64);
    assert_int_equal(rd(x->d, BAR0, TOYDEV_REG_STATUS, 4), TOYDEV_STATUS_ERROR);
    assert_int_equal(rd(x->d, BAR0, TOYDEV_REG_ERRNO, 4), EFAULT);
}

static void length_rules(void **state)
{
    struct fx *x = *state;
    copy(x->d, GUEST_BASE, GUEST_BASE + 4096, 0);
    assert_int_equal(rd(x->d, BAR0, TOYDEV_REG_STATUS, 4), TOYDEV_STATUS_DONE);
    assert_int_equal(x->f->reads + x->f->writes, 0);
    assert_int_equal(x->f->nirq, 1);

    assert_int_equal(wr(x->d, BAR0, TOYDEV_REG_STATUS, TOYDEV_STATUS_DONE, 4), 0);
    copy(x->d, GUEST_BASE, GUEST_BASE + 4096, TOYDEV_DMA_MAX + 1);
    assert_int_equal(rd(x->d, BAR0, TOYDEV_REG_STATUS, 4), TOYDEV_STATUS_ERROR);
    assert_int_equal(rd(x->d, BAR0, TOYDEV_REG_ERRNO, 4), EINVAL);

    /* exactly the maximum is fine */
    fill(x->f, GUEST_BASE, TOYDEV_DMA_MAX, 9);
    assert_int_equal(wr(x->d, BAR0, TOYDEV_REG_STATUS, ~0u, 4), 0);
    copy(x->d, GUEST_BASE, GUEST_BASE + TOYDEV_DMA_MAX, TOYDEV_DMA_MAX);
    assert_int_equal(rd(x->d, BAR0, TOYDEV_REG_STATUS, 4), TOYDEV_STATUS_DONE);
    assert_memory_equal(x->f->mem + TOYDEV_DMA_MAX, x->f->mem, TOYDEV_DMA_MAX);

    /* a source range wrapping past 2^64 */
    assert_int_equal(wr(x->d, BAR0, TOYDEV_REG_STATUS, ~0u, 4), 0);
    unsigned reads = x->f->reads;
    copy(x->d, UINT64_MAX - 8, GUEST_BASE, 64);
    assert_int_equal(rd(x->d, BAR0, TOYDEV_REG_ERRNO, 4), EINVAL);
    assert_int_equal(x->f->reads, reads);
}

static void status_and_doorbell(void **state)
{
    struct fx *x = *state;
    copy(x->d, GUEST_BASE, GUEST_BASE + 4096, 8);
    set_cfg16(x->d, PCI_COMMAND, 0);
    assert_int_equal(wr(x->d, BAR0, TOYDEV_REG_DOORBELL, 1, 4), 0);
    const uint32_t both = TOYDEV_STATUS_DONE | TOYDEV_STATUS_ERROR;
    assert_int_equal(rd(x->d, BAR0, TOYDEV_REG_STATUS, 4), both);
    assert_int_equal(rd(x->d, BAR0, TOYDEV_REG_IRQ_CAUSE, 4), both);
    /* write 1 to clear, one bit at a time, each register on its own */
    assert_int_equal(wr(x->d, BAR0, TOYDEV_REG_STATUS, 0, 4), 0);
    assert_int_equal(wr(x->d, BAR0, TOYDEV_REG_STATUS, TOYDEV_STATUS_DONE, 4), 0);
    assert_int_equal(rd(x->d, BAR0, TOYDEV_REG_STATUS, 4), TOYDEV_STATUS_ERROR);
    assert_int_equal(rd(x->d, BAR0, TOYDEV_REG_IRQ_CAUSE, 4), both);
    assert_int_equal(wr(x->d, BAR0, TOYDEV_REG_IRQ_CAUSE, TOYDEV_STATUS_ERROR, 4), 0);
    assert_int_equal(rd(x->d, BAR0, TOYDEV_REG_IRQ_CAUSE, 4), TOYDEV_STATUS_DONE);
    /* one qword write clears both */
    assert_int_equal(wr(x->d, BAR0, TOYDEV_REG_STATUS, ~0ull, 8), 0);
    assert_int_equal(rd(x->d, BAR0, TOYDEV_REG_STATUS, 8), 0);

    /* the doorbell only rings on bit 0; it reads 0 */
    unsigned nirq = x->f->nirq;
    assert_int_equal(wr(x->d, BAR0, TOYDEV_REG_DOORBELL, 0, 4), 0);
    assert_int_equal(wr(x->d, BAR0, TOYDEV_REG_DOORBELL, 2, 4), 0);
    assert_int_equal(rd(x->d, BAR0, TOYDEV_REG_DOORBELL, 4), 0);
    assert_int_equal(rd(x->d, BAR0, TOYDEV_REG_STATUS, 4), 0);
    assert_int_equal(x->f->nirq, nirq);

    /* LEN and DOORBELL in one qword: the new LEN is used */
    set_cfg16(x->d, PCI_COMMAND, PCI_COMMAND_MASTER);
    fill(x->f, GUEST_BASE, 32, 5);
    memset(x->f->mem + 4096, 0, 64);
    assert_int_equal(wr(x->d, BAR0, TOYDEV_REG_LEN, 1ull << 32 | 32, 8), 0);
    assert_int_equal(rd(x->d, BAR0, TOYDEV_REG_STATUS, 4), TOYDEV_STATUS_DONE);
    assert_memory_equal(x->f->mem + 4096, x->f->mem, 32);
    assert_int_equal(x->f->mem[4096 + 32], 0);
}

static void msix_table_rules(void **state)
{
    struct toydev *d = ((struct fx *)*state)->d;
    uint8_t b[8] = {0};
    for (unsigned v = 0; v < TOYDEV_MSIX_VECTORS; v++) {
        unsigned e = v * PCI_MSIX_ENTRY_SIZE;
        assert_int_equal(wr(d, BAR4, e + PCI_MSIX_ENTRY_LOWER_ADDR, 0xfee00003u + v, 4), 0);
        assert_int_equal(wr(d, BAR4, e + PCI_MSIX_ENTRY_UPPER_ADDR, 0x10 + v, 4), 0);
        assert_int_equal(wr(d, BAR4, e + PCI_MSIX_ENTRY_DATA, 0x4000 + v, 4), 0);
        assert_int_equal(wr(d, BAR4, e + PCI_MSIX_ENTRY_VECTOR_CTRL, 0xfffffffe, 4), 0);
    }
    for (unsigned v = 0; v < TOYDEV_MSIX_VECTORS; v++) {
        unsigned e = v * PCI_MSIX_ENTRY_SIZE;
        /* the address is dword aligned; only the mask bit of control is writable */
        assert_int_equal(rd(d, BAR4, e, 8), (uint64_t)(0x10 + v) << 32 | ((0xfee00003u + v) & ~3u));
        assert_int_equal(rd(d, BAR4, e + PCI_MSIX_ENTRY_DATA, 4), 0x4000 + v);
        assert_int_equal(rd(d, BAR4, e + PCI_MSIX_ENTRY_VECTOR_CTRL, 4), 0);
    }
    /* a qword write covers data and control */
    assert_int_equal(wr(d, BAR4, PCI_MSIX_ENTRY_DATA, 1ull << 32 | 0x55, 8), 0);
    assert_int_equal(rd(d, BAR4, PCI_MSIX_ENTRY_VECTOR_CTRL, 4), 1);
    assert_int_equal(rd(d, BAR4, PCI_MSIX_ENTRY_DATA, 4), 0x55);
    /* the PBA is read-only; other bytes read 0 */
    assert_int_equal(wr(d, BAR4, TOYDEV_MSIX_PBA_OFFSET, ~0ull, 8), 0);
    assert_int_equal(rd(d, BAR4, TOYDEV_MSIX_PBA_OFFSET, 8), 0);
    assert_int_equal(wr(d, BAR4, 0x400, ~0ull, 8), 0);
    assert_int_equal(rd(d, BAR4, 0x400, 8), 0);
    /* sizes: 4 or 8, aligned, inside the BAR */
    assert_int_equal(toydev_access(d, BAR4, 0, b, 2, false), EINVAL);
    assert_int_equal(toydev_access(d, BAR4, 0, b, 1, true), EINVAL);
    assert_int_equal(toydev_access(d, BAR4, 2, b, 4, false), EINVAL);
    assert_int_equal(toydev_access(d, BAR4, 4, b, 8, false), EINVAL);
    assert_int_equal(toydev_access(d, BAR4, 4096, b, 4, false), EINVAL);
    assert_int_equal(toydev_access(d, BAR4, 4092, b, 4, false), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(registers), T(access_rules), T(copy_with_intx), T(intx_disabled_raises_nothing),
        T(copy_with_msi), T(copy_with_msix), T(msix_masked_sets_pending),
        T(bus_master_off_is_eperm), T(dma_read_failure), T(dma_write_failure_and_unmapped),
        T(length_rules), T(status_and_doorbell), T(msix_table_rules),
    };
    return cmocka_run_group_tests_name("toydev dma", tests, NULL, NULL);
}
