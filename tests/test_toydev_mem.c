/* The toy device's region and IRQ descriptions, BAR2 memory shared through
 * its memfd, reset to power-on values, and file descriptor hygiene. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <linux/pci_regs.h>

#include "toydev_fake.h"


static void region_info(void **state)
{
    struct toydev *d = ((struct fx *)*state)->d;
    const uint32_t rw = VFU_REGION_INFO_FLAGS_READ | VFU_REGION_INFO_FLAGS_WRITE;
    struct toydev_region r;
    for (unsigned i = 0; i < TOYDEV_NUM_REGIONS; i++) {
        toydev_region_info(d, i, &r);
        switch (i) {
        case VFU_PCI_REGION_BAR0:
        case VFU_PCI_REGION_BAR4:
        case VFU_PCI_REGION_CONFIG:
            assert_int_equal(r.size, 4096);
            assert_int_equal(r.flags, rw);
            assert_int_equal(r.fd, -1);
            assert_int_equal(r.nsparse, 0);
            break;
        case VFU_PCI_REGION_BAR2: {
            assert_int_equal(r.size, 65536);
            assert_int_equal(r.flags, rw | VFU_REGION_INFO_FLAGS_MMAP);
            assert_true(r.fd >= 0);
            struct stat st;
            assert_int_equal(fstat(r.fd, &st), 0);
            assert_int_equal(st.st_size, 65536);
            assert_int_equal(r.fd_offset, 0);
            assert_int_equal(r.nsparse, 1);
            assert_int_equal(r.sparse[0].offset, 4096);
            assert_int_equal(r.sparse[0].size, 65536 - 4096);
            break;
        }
        default:
            assert_int_equal(r.size, 0);
            assert_int_equal(r.flags, 0);
            assert_int_equal(r.fd, -1);
        }
    }
}

static void irq_info(void **state)
{
    (void)state;
    const uint32_t efd = VFU_IRQ_INFO_FLAGS_EVENTFD;
    static const struct { unsigned index; uint32_t count, flags; } want[] = {
        {VFU_PCI_IRQ_INTX, 1,
         VFU_IRQ_INFO_FLAGS_EVENTFD | VFU_IRQ_INFO_FLAGS_MASKABLE | VFU_IRQ_INFO_FLAGS_AUTOMASKED},
        {VFU_PCI_IRQ_MSI, 1, VFU_IRQ_INFO_FLAGS_EVENTFD | VFU_IRQ_INFO_FLAGS_NORESIZE},
        {VFU_PCI_IRQ_MSIX, 4, VFU_IRQ_INFO_FLAGS_EVENTFD | VFU_IRQ_INFO_FLAGS_NORESIZE},
        {VFU_PCI_IRQ_ERR, 1, VFU_IRQ_INFO_FLAGS_EVENTFD},
        {VFU_PCI_IRQ_REQ, 1, VFU_IRQ_INFO_FLAGS_EVENTFD},
    };
    assert_int_equal(TOYDEV_NUM_IRQS, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        struct toydev_irq irq;
        toydev_irq_info(want[i].index, &irq);
        assert_int_equal(irq.count, want[i].count);
        assert_int_equal(irq.flags, want[i].flags);
        assert_true(irq.flags & efd);
    }
}

static uint8_t *map_bar2(struct toydev *d)
{
    struct toydev_region r;
    toydev_region_info(d, VFU_PCI_REGION_BAR2, &r);
    void *p = mmap(NULL, r.size, PROT_READ | PROT_WRITE, MAP_SHARED, r.fd, (off_t)r.fd_offset);
    assert_true(p != MAP_FAILED);
    return p;
}

static void bar2_shared_with_mmap(void **state)
{
    struct toydev *d = ((struct fx *)*state)->d;
    uint8_t *m = map_bar2(d);
    uint8_t buf[65536];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 13 + 1);
    /* region writes show through the mapping, in the trapped page and beyond */
    assert_int_equal(toydev_access(d, BAR2, 0, buf, 16, true), 0);
    assert_int_equal(toydev_access(d, BAR2, 4093, buf, 7, true), 0);
    assert_int_equal(toydev_access(d, BAR2, 65535, buf, 1, true), 0);
    assert_memory_equal(m, buf, 16);
    assert_memory_equal(m + 4093, buf, 7);
    assert_int_equal(m[65535], buf[0]);
    /* and mapping writes show through region reads */
    m[30000] = 0xab;
    m[30001] = 0xcd;
    uint8_t two[2];
    assert_int_equal(toydev_access(d, BAR2, 30000, two, 2, false), 0);
    assert_int_equal(two[0], 0xab);
    assert_int_equal(two[1], 0xcd);
    /* the whole BAR in one access */
    assert_int_equal(toydev_access(d, BAR2, 0, buf, sizeof buf, true), 0);
    assert_memory_equal(m, buf, sizeof buf);
    memset(buf, 0, sizeof buf);
    assert_int_equal(toydev_access(d, BAR2, 0, buf, sizeof buf, false), 0);
    assert_memory_equal(m, buf, sizeof buf);
    /* but not past its end */
    assert_int_equal(toydev_access(d, BAR2, 65535, buf, 2, false), EINVAL);
    assert_int_equal(toydev_access(d, BAR2, 65536, buf, 1, true), EINVAL);
    assert_int_equal(toydev_access(d, BAR2, 1, buf, sizeof buf, true), EINVAL);
    assert_int_equal(toydev_access(d, BAR2, 0, buf, 0, false), EINVAL);
    assert_int_equal(toydev_access(d, BAR2, UINT64_MAX, buf, 2, false), EINVAL);
    munmap(m, 65536);
}

static void reset_to_power_on(void **state)
{
    struct fx *x = *state;
    struct toydev *d = x->d, *fresh = toydev_create(&fake_ops, x->f, NULL);
    assert_non_null(fresh);
    uint8_t power_on[4096], now[4096];
    assert_int_equal(toydev_access(fresh, CFG, 0, power_on, sizeof power_on, false), 0);

    /* move everything away from power-on */
    assert_int_equal(wr(d, CFG, PCI_COMMAND, PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY, 2), 0);
    assert_int_equal(wr(d, CFG, PCI_BASE_ADDRESS_0, 0xfe000000, 4), 0);
    assert_int_equal(wr(d, CFG, PCI_BASE_ADDRESS_2, 0xffffffff, 4), 0);
    assert_int_equal(wr(d, CFG, 0x50 + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, 2), 0);
    assert_int_equal(wr(d, CFG, 0x70 + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 2), 0);
    assert_int_equal(wr(d, BAR4, PCI_MSIX_ENTRY_VECTOR_CTRL, 0, 4), 0);
    assert_int_equal(wr(d, BAR4, PCI_MSIX_ENTRY_DATA, 0x77, 4), 0);
    assert_int_equal(wr(d, BAR0, TOYDEV_REG_SCRATCH, 0x99, 8), 0);
    assert_int_equal(wr(d, BAR0, TOYDEV_REG_SRC, 0, 8), 0);   /* unmapped: error path */
    assert_int_equal(wr(d, BAR0, TOYDEV_REG_LEN, 8, 4), 0);
    assert_int_equal(wr(d, BAR0, TOYDEV_REG_DOORBELL, 1, 4), 0);
    assert_int_equal(rd(d, BAR4, TOYDEV_MSIX_PBA_OFFSET, 4), 1);
    assert_int_equal(rd(d, BAR0, TOYDEV_REG_ERRNO, 4), EFAULT);
    uint8_t ones[64];
    memset(ones, 0xff, sizeof ones);
    assert_int_equal(toydev_access(d, BAR2, 65536 - 64, ones, 64, true), 0);
    assert_int_equal(toydev_access(d, CFG, 0, now, sizeof now, false), 0);
    assert_memory_not_equal(now, power_on, sizeof now);

    toydev_reset(d);
    assert_int_equal(toydev_access(d, CFG, 0, now, sizeof now, false), 0);
    assert_memory_equal(now, power_on, sizeof now);
    assert_int_equal(rd(d, CFG, PCI_BASE_ADDRESS_0, 4), 0);
    static const unsigned regs[] = {TOYDEV_REG_SRC, TOYDEV_REG_DST, TOYDEV_REG_LEN,
                                    TOYDEV_REG_STATUS, TOYDEV_REG_IRQ_CAUSE, TOYDEV_REG_ERRNO};
    for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++)
        assert_int_equal(rd(d, BAR0, regs[i], 4), 0);
    for (unsigned i = 0; i < TOYDEV_SCRATCH_COUNT; i++)
        assert_int_equal(rd(d, BAR0, TOYDEV_REG_SCRATCH + 8 * i, 8), 0);
    assert_int_equal(rd(d, BAR0, TOYDEV_REG_ID, 4), TOYDEV_ID_VALUE);
    for (unsigned v = 0; v < TOYDEV_MSIX_VECTORS; v++) {
        assert_int_equal(rd(d, BAR4, v * 16, 8), 0);
        assert_int_equal(rd(d, BAR4, v * 16 + 8, 8), (uint64_t)PCI_MSIX_ENTRY_CTRL_MASKBIT << 32);
    }
    assert_int_equal(rd(d, BAR4, TOYDEV_MSIX_PBA_OFFSET, 8), 0);
    uint8_t *m = map_bar2(d);
    for (size_t i = 0; i < 65536; i++)
        assert_int_equal(m[i], 0);
    munmap(m, 65536);
    toydev_destroy(fresh);
}

static int count_fds(void)
{
    DIR *dir = opendir("/proc/self/fd");
    assert_non_null(dir);
    int n = 0;
    while (readdir(dir))
        n++;
    closedir(dir);
    return n;
}

static void fd_hygiene(void **state)
{
    struct fake *f = ((struct fx *)*state)->f;
    int before = count_fds();
    struct toydev *d[3];
    for (int i = 0; i < 3; i++) {
        d[i] = toydev_create(&fake_ops, f, NULL);
        assert_non_null(d[i]);
    }
    assert_int_equal(count_fds(), before + 3);
    struct toydev_region r;
    toydev_region_info(d[1], VFU_PCI_REGION_BAR2, &r);
    /* the memfd does not leak into exec()ed programs */
    assert_true(fcntl(r.fd, F_GETFD) & FD_CLOEXEC);
    for (int i = 0; i < 3; i++)
        toydev_destroy(d[i]);
    assert_int_equal(count_fds(), before);
    assert_int_equal(fcntl(r.fd, F_GETFD), -1);

    /* refused creations leak nothing either */
    struct toydev_ops no_irq = fake_ops;
    no_irq.irq = NULL;
    int err = 0;
    assert_null(toydev_create(&no_irq, f, &err));
    assert_int_equal(err, EINVAL);
    err = 0;
    assert_null(toydev_create(NULL, f, &err));
    assert_int_equal(err, EINVAL);
    assert_int_equal(count_fds(), before);
    toydev_destroy(NULL);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(region_info), T(irq_info), T(bar2_shared_with_mmap), T(reset_to_power_on), T(fd_hygiene),
    };
    return cmocka_run_group_tests_name("toydev memory and lifecycle", tests, NULL, NULL);
}
