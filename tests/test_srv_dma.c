/* The server core in-process: DMA_MAP / DMA_UNMAP rules, the device's DMA
 * through both paths, and dirty page logging. */
#include "srv_harness.h"

#include <sys/eventfd.h>

#define MAPPED 0x10000000ull   /* memfd-backed window */

static int unmap(struct h *h, uint64_t addr, uint64_t size, uint32_t flags, uint32_t argsz)
{
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_DMA_UNMAP);
    if (argsz) vfu_enc_set(&e, VFU_F_DMA_UNMAP_ARGSZ, argsz);
    vfu_enc_set(&e, VFU_F_DMA_UNMAP_FLAGS, flags);
    vfu_enc_set(&e, VFU_F_DMA_UNMAP_ADDRESS, addr);
    vfu_enc_set(&e, VFU_F_DMA_UNMAP_SIZE, size);
    h_call(h, &e);
    return h_errno(h);
}

static void map_rules(void **state)
{
    (void)state;
    struct h *h = h_ready();
    const uint32_t RW = VFU_DMA_MAP_FLAGS_READ | VFU_DMA_MAP_FLAGS_WRITE;
    assert_int_equal(h_map(h, 0x1000, 0, 0, RW, -1), EINVAL);            /* size 0 */
    assert_int_equal(h_map(h, 0x1800, 0x1000, 0, RW, -1), EINVAL);       /* unaligned address */
    assert_int_equal(h_map(h, 0x1000, 0x800, 0, RW, -1), EINVAL);        /* unaligned size */
    assert_int_equal(h_map(h, 0xfffffffffffff000ull, 0x2000, 0, RW, -1), EINVAL); /* wraps */
    assert_int_equal(h_map(h, 0x1000, 0x1000, 0x1000, RW, -1), EINVAL);  /* offset, no fd */
    assert_int_equal(h_map(h, 0xfffffffffffff000ull, 0x1000, 0, RW, -1), 0); /* the very top */
    assert_int_equal(h_map(h, 0x10000, 0x4000, 0, RW, -1), 0);
    assert_int_equal(h_map(h, 0x13000, 0x1000, 0, RW, -1), EEXIST);      /* inside */
    assert_int_equal(h_map(h, 0xf000, 0x2000, 0, RW, -1), EEXIST);       /* straddles the start */
    assert_int_equal(h_map(h, 0x10000, 0x4000, 0, RW, -1), EEXIST);      /* the same again */
    assert_int_equal(h_map(h, 0x14000, 0x1000, 0, RW, -1), 0);           /* adjacent is fine */
    assert_int_equal(h_map(h, 0xe000, 0x2000, 0, RW, -1), 0);
    int fd = h_memfd(0x2000);
    assert_int_equal(h_map(h, MAPPED, 0x4000, 0, RW, fd), EINVAL);       /* past the file's end */
    assert_int_equal(h_map(h, MAPPED, 0x1000, 0x1000, RW, fd), 0);
    assert_int_equal(h_map(h, MAPPED + 0x10000, 0x1000, 0xffffffffffffff00ull, RW, fd), EINVAL);
    /* a file opened read-only cannot back a writable shared mapping */
    int ro = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    assert_int_equal(h_map(h, MAPPED + 0x20000, 0x1000, 0, RW, ro), EACCES);
    assert_int_equal(h_map(h, MAPPED + 0x20000, 0x1000, 0, VFU_DMA_MAP_FLAGS_READ, ro), 0);
    close(ro);
    close(fd);
    h_free(h);
}

static void max_dma_maps(void **state)
{
    (void)state;
    struct srv_opts o;
    srv_opts_default(&o);
    o.max_dma_maps = 3;
    struct h *h = h_new_opts(&o);
    h_version(h, NULL);
    for (unsigned i = 0; i < 3; i++) assert_int_equal(h_map(h, i * 0x1000, 0x1000, 0, 1, -1), 0);
    assert_int_equal(h_map(h, 0x10000, 0x1000, 0, 1, -1), ENOSPC);
    assert_int_equal(unmap(h, 0x1000, 0x1000, 0, 0), 0);
    assert_int_equal(h_map(h, 0x10000, 0x1000, 0, 1, -1), 0);
    h_free(h);
}

static void pgsizes_set_alignment(void **state)
{
    (void)state;
    struct srv_opts o;
    srv_opts_default(&o);
    o.pgsizes = 0x10000 | 0x200000;
    struct h *h = h_new_opts(&o);
    h_version(h, NULL);
    assert_int_equal(h_map(h, 0x1000, 0x10000, 0, 1, -1), EINVAL);
    assert_int_equal(h_map(h, 0x10000, 0x1000, 0, 1, -1), EINVAL);
    assert_int_equal(h_map(h, 0x10000, 0x10000, 0, 1, -1), 0);
    h_free(h);
}

static void unmap_rules(void **state)
{
    (void)state;
    struct h *h = h_ready();
    assert_int_equal(h_map(h, 0x10000, 0x4000, 0, 3, -1), 0);
    assert_int_equal(unmap(h, 0x10000, 0x1000, 0, 0), ENOENT);   /* part of it */
    assert_int_equal(unmap(h, 0x11000, 0x3000, 0, 0), ENOENT);
    assert_int_equal(unmap(h, 0x20000, 0x4000, 0, 0), ENOENT);   /* nothing there */
    assert_int_equal(unmap(h, 0, 0, 0, 0), ENOENT);
    /* the reply echoes the request, argsz as sent */
    assert_int_equal(unmap(h, 0x10000, 0x4000, 0, 64), 0);
    assert_int_equal(vfu_get(&h->r, VFU_F_DMA_UNMAP_ARGSZ), 64);
    assert_int_equal(vfu_get(&h->r, VFU_F_DMA_UNMAP_ADDRESS), 0x10000);
    assert_int_equal(vfu_get(&h->r, VFU_F_DMA_UNMAP_SIZE), 0x4000);
    assert_int_equal(unmap(h, 0x10000, 0x4000, 0, 0), ENOENT);   /* gone */
    /* ALL: address and size must be 0 */
    assert_int_equal(h_map(h, 0x10000, 0x1000, 0, 3, -1), 0);
    assert_int_equal(h_map(h, 0x20000, 0x1000, 0, 3, -1), 0);
    assert_int_equal(unmap(h, 0x10000, 0x1000, VFU_DMA_UNMAP_FLAGS_ALL, 0), EINVAL);
    assert_int_equal(unmap(h, 0, 0, VFU_DMA_UNMAP_FLAGS_ALL, 0), 0);
    assert_int_equal(vfu_get(&h->r, VFU_F_DMA_UNMAP_FLAGS), VFU_DMA_UNMAP_FLAGS_ALL);
    assert_int_equal(h_map(h, 0x10000, 0x1000, 0, 3, -1), 0);    /* free again */
    h_free(h);
}

/* memfd window at MAPPED, message window at H_GUEST */
static uint8_t *two_windows(struct h *h, int *memfd)
{
    *memfd = h_memfd(0x100000);
    assert_int_equal(h_map(h, MAPPED, 0x100000, 0, 3, *memfd), 0);
    assert_int_equal(h_map(h, H_GUEST, H_GUEST_SIZE, 0, 3, -1), 0);
    uint8_t *p = mmap(NULL, 0x100000, PROT_READ | PROT_WRITE, MAP_SHARED, *memfd, 0);
    assert_true(p != MAP_FAILED);
    h_enable_dma_msix(h);
    return p;
}

static void device_dma_both_paths(void **state)
{
    (void)state;
    struct h *h = h_ready();
    int memfd;
    uint8_t *mem = two_windows(h, &memfd);
    int efd = eventfd(0, EFD_CLOEXEC);
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_DEVICE_SET_IRQS);
    vfu_enc_set(&e, VFU_F_SET_IRQS_FLAGS, VFU_IRQ_SET_FLAGS_DATA_EVENTFD | VFU_IRQ_SET_FLAGS_ACTION_TRIGGER);
    vfu_enc_set(&e, VFU_F_SET_IRQS_INDEX, VFU_PCI_IRQ_MSIX);
    vfu_enc_set(&e, VFU_F_SET_IRQS_COUNT, 1);
    h_call_fds(h, &e, &efd, 1);
    assert_int_equal(h_errno(h), 0);

    /* mapped -> messages: DMA_WRITEs of at most the client's 1 MiB */
    for (unsigned i = 0; i < 0x30000; i++) mem[i] = (uint8_t)(i * 7 + 1);
    assert_int_equal(h_copy(h, MAPPED, H_GUEST + 0x1000, 0x30000), TOYDEV_STATUS_DONE);
    assert_memory_equal(h->guest + 0x1000, mem, 0x30000);
    assert_true(h->dma_writes > 0);
    assert_int_equal(h_eventfd_count(efd), 1);
    /* messages -> mapped */
    for (unsigned i = 0; i < 0x2000; i++) h->guest[0x80000 + i] = (uint8_t)(i ^ 0x5a);
    assert_int_equal(h_copy(h, H_GUEST + 0x80000, MAPPED + 0x50000, 0x2000), TOYDEV_STATUS_DONE);
    assert_memory_equal(mem + 0x50000, h->guest + 0x80000, 0x2000);
    assert_true(h->dma_reads > 0);
    assert_int_equal(h_eventfd_count(efd), 1);
    /* unmapped source: the device reports EFAULT */
    assert_int_equal(h_copy(h, 0x7000000, MAPPED, 16), TOYDEV_STATUS_ERROR);
    assert_int_equal(h_rd(h, VFU_PCI_REGION_BAR0, TOYDEV_REG_ERRNO, 4), EFAULT);
    munmap(mem, 0x100000);
    close(memfd);
    close(efd);
    h_free(h);
}

static void dma_permissions_and_failures(void **state)
{
    (void)state;
    struct h *h = h_ready();
    int memfd = h_memfd(0x4000);
    assert_int_equal(h_map(h, MAPPED, 0x4000, 0, VFU_DMA_MAP_FLAGS_READ, memfd), 0);
    assert_int_equal(h_map(h, H_GUEST, 0x4000, 0, VFU_DMA_MAP_FLAGS_WRITE, -1), 0);
    h_enable_dma_msix(h);
    /* writing a read-only window */
    assert_int_equal(h_copy(h, MAPPED, MAPPED + 0x1000, 16), TOYDEV_STATUS_ERROR);
    assert_int_equal(h_rd(h, VFU_PCI_REGION_BAR0, TOYDEV_REG_ERRNO, 4), EPERM);
    /* reading a write-only one */
    assert_int_equal(h_copy(h, H_GUEST, MAPPED, 16), TOYDEV_STATUS_ERROR);
    assert_int_equal(h_rd(h, VFU_PCI_REGION_BAR0, TOYDEV_REG_ERRNO, 4), EPERM);
    assert_int_equal(h->dma_reads, 0);
    /* the client answers with an error, or with the wrong count */
    h->dma_errno = ENXIO;
    assert_int_equal(h_copy(h, MAPPED, H_GUEST, 16), TOYDEV_STATUS_ERROR);
    assert_int_equal(h_rd(h, VFU_PCI_REGION_BAR0, TOYDEV_REG_ERRNO, 4), ENXIO);
    h->dma_errno = 0;
    h->dma_bad_count = true;
    assert_int_equal(h_copy(h, MAPPED, H_GUEST, 16), TOYDEV_STATUS_ERROR);
    assert_int_equal(h_rd(h, VFU_PCI_REGION_BAR0, TOYDEV_REG_ERRNO, 4), EIO);
    h->dma_bad_count = false;
    assert_int_equal(h_copy(h, MAPPED, H_GUEST, 16), TOYDEV_STATUS_DONE);
    /* the client shrinks the file under the mapping: EFAULT, not SIGBUS */
    srv_sigbus_guard_install();
    assert_int_equal(ftruncate(memfd, 0), 0);
    assert_int_equal(h_copy(h, MAPPED, H_GUEST, 16), TOYDEV_STATUS_ERROR);
    assert_int_equal(h_rd(h, VFU_PCI_REGION_BAR0, TOYDEV_REG_ERRNO, 4), EFAULT);
    close(memfd);
    h_free(h);
}

static void chunks_follow_client_xfer(void **state)
{
    (void)state;
    struct h *h = h_new();
    h_version(h, "{\"capabilities\":{\"max_data_xfer_size\":4096}}");
    assert_int_equal(h_map(h, H_GUEST, 0x10000, 0, 3, -1), 0);
    h_enable_dma_msix(h);
    assert_int_equal(h_copy(h, H_GUEST, H_GUEST + 0x8000, 0x8000), TOYDEV_STATUS_DONE);
    assert_int_equal(h->max_chunk, 4096);
    assert_int_equal(h->dma_reads, 8);
    assert_int_equal(h->dma_writes, 8);
    /* a transport failure ends the session */
    h->dma_dead = true;
    h_wr(h, VFU_PCI_REGION_BAR0, TOYDEV_REG_SRC, H_GUEST, 8);
    h_wr(h, VFU_PCI_REGION_BAR0, TOYDEV_REG_DST, H_GUEST + 0x8000, 8);
    h_wr(h, VFU_PCI_REGION_BAR0, TOYDEV_REG_LEN, 16, 4);
    struct vfu_enc e;
    uint32_t one = 1;
    h_begin(h, &e, VFU_CMD_REGION_WRITE);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_OFFSET, TOYDEV_REG_DOORBELL);
    vfu_enc_data(&e, VFU_F_REGION_ACCESS_DATA_DATA, &one, 4);
    assert_int_equal(h_call(h, &e), SRV_CLOSE);
    h_free(h);
}

/* ---- dirty logging ---- */

static int feature(struct h *h, uint32_t flags, uint32_t argsz, void (*fill)(struct vfu_enc *, void *),
                   void *arg)
{
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_DEVICE_FEATURE);
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_REQ_FLAGS, flags);
    if (argsz) vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_REQ_ARGSZ, argsz);
    if (fill) fill(&e, arg);
    h_call(h, &e);
    return h_errno(h);
}

struct ctl { uint64_t page_size; unsigned n; uint64_t r[4][2]; };

static void fill_ctl(struct vfu_enc *e, void *arg)
{
    struct ctl *c = arg;
    vfu_enc_struct(e, VFU_S_DMA_LOGGING_CONTROL);
    vfu_enc_set(e, VFU_F_DMA_LOGGING_CONTROL_PAGE_SIZE, c->page_size);
    for (unsigned i = 0; i < c->n; i++) {
        vfu_enc_elem(e, VFU_F_DMA_LOGGING_CONTROL_RANGES);
        vfu_enc_set(e, VFU_F_DMA_LOGGING_RANGE_IOVA, c->r[i][0]);
        vfu_enc_set(e, VFU_F_DMA_LOGGING_RANGE_LENGTH, c->r[i][1]);
    }
}

struct rep { uint64_t iova, length, page_size; };

static void fill_rep(struct vfu_enc *e, void *arg)
{
    struct rep *r = arg;
    vfu_enc_struct(e, VFU_S_DMA_LOGGING_REPORT_REQ);
    vfu_enc_set(e, VFU_F_DMA_LOGGING_REPORT_REQ_IOVA, r->iova);
    vfu_enc_set(e, VFU_F_DMA_LOGGING_REPORT_REQ_LENGTH, r->length);
    vfu_enc_set(e, VFU_F_DMA_LOGGING_REPORT_REQ_PAGE_SIZE, r->page_size);
}

#define START (VFU_DEVICE_FEATURE_DMA_LOGGING_START | VFU_DEVICE_FEATURE_FLAGS_SET)
#define STOP (VFU_DEVICE_FEATURE_DMA_LOGGING_STOP | VFU_DEVICE_FEATURE_FLAGS_SET)
#define REPORT (VFU_DEVICE_FEATURE_DMA_LOGGING_REPORT | VFU_DEVICE_FEATURE_FLAGS_GET)

/* the report's bitmap as one u64 (reports here cover at most 64 pages) */
static uint64_t report(struct h *h, uint64_t iova, uint64_t length, uint64_t ps)
{
    struct rep r = {iova, length, ps};
    assert_int_equal(feature(h, REPORT, 4096, fill_rep, &r), 0);
    uint32_t n;
    const uint8_t *b = vfu_data(&h->r, VFU_F_DMA_LOGGING_REPORT_BITMAP, &n);
    assert_int_equal(vfu_get(&h->r, VFU_F_DMA_LOGGING_REPORT_IOVA), iova);
    assert_int_equal(vfu_get(&h->r, VFU_F_DMA_LOGGING_REPORT_PAGE_SIZE), ps);
    uint64_t w = 0;
    memcpy(&w, b, n < 8 ? n : 8);
    return w;
}

static void dirty_logging(void **state)
{
    (void)state;
    struct h *h = h_ready();
    int memfd;
    uint8_t *mem = two_windows(h, &memfd);
    struct rep rq = {MAPPED, 0x10000, 4096};
    assert_int_equal(feature(h, REPORT, 4096, fill_rep, &rq), EINVAL);   /* not started */

    struct ctl c = {4096, 0, {{0}}};
    assert_int_equal(feature(h, START, 0, fill_ctl, &c), EINVAL);   /* argsz below the reply */
    assert_int_equal(feature(h, START, 64, fill_ctl, &c), 0);
    assert_int_equal(vfu_get(&h->r, VFU_F_DMA_LOGGING_CONTROL_PAGE_SIZE), 4096);
    assert_int_equal(feature(h, START, 64, fill_ctl, &c), EBUSY);   /* already */

    /* device writes pages 1..2 of the mapped window, and 3 of the other */
    assert_int_equal(h_copy(h, H_GUEST, MAPPED + 0x1800, 0x1000), TOYDEV_STATUS_DONE);
    assert_int_equal(h_copy(h, MAPPED, H_GUEST + 0x3000, 0x10), TOYDEV_STATUS_DONE);
    assert_int_equal(report(h, MAPPED, 0x10000, 4096), 0x6);
    assert_int_equal(report(h, MAPPED, 0x10000, 4096), 0);           /* reading cleared it */
    assert_int_equal(report(h, H_GUEST, 0x8000, 4096), 0x8);
    /* a coarser report unit: both pages fall in unit 0 of 16 KiB */
    assert_int_equal(h_copy(h, H_GUEST, MAPPED + 0x1800, 0x1000), TOYDEV_STATUS_DONE);
    assert_int_equal(report(h, MAPPED, 0x10000, 0x4000), 0x1);
    /* finer: one 4 KiB page is two 2 KiB bits, bits outside the range zero */
    assert_int_equal(h_copy(h, H_GUEST, MAPPED + 0x1000, 0x10), TOYDEV_STATUS_DONE);
    assert_int_equal(report(h, MAPPED + 0x800, 0x2000, 2048), 0x6);
    /* a report that covers part of a dirty page leaves it dirty */
    assert_int_equal(h_copy(h, H_GUEST, MAPPED + 0x1000, 0x10), TOYDEV_STATUS_DONE);
    assert_int_equal(report(h, MAPPED + 0x1800, 0x1000, 2048), 0x1);
    assert_int_equal(report(h, MAPPED, 0x10000, 4096), 0x2);
    /* bad reports */
    struct rep bad[] = {{MAPPED, 0x1000, 3000}, {MAPPED, 0, 4096}, {0xfffffffffffff000ull, 0x2000, 4096}};
    for (unsigned i = 0; i < 3; i++) assert_int_equal(feature(h, REPORT, 4096, fill_rep, &bad[i]), EINVAL);
    struct rep big = {0, 1ull << 40, 4096};   /* a 32 MiB bitmap */
    assert_int_equal(feature(h, REPORT, 4096, fill_rep, &big), E2BIG);
    struct rep small = {MAPPED, 0x10000, 4096};
    assert_int_equal(feature(h, REPORT, 32, fill_rep, &small), EINVAL);   /* argsz below 32+8 */

    /* STOP, with or without the control structure */
    assert_int_equal(feature(h, STOP, 0, NULL, NULL), 0);
    assert_int_equal(feature(h, REPORT, 4096, fill_rep, &rq), EINVAL);
    assert_int_equal(feature(h, STOP, 64, fill_ctl, &c), 0);
    assert_int_equal(vfu_get(&h->r, VFU_F_DMA_LOGGING_CONTROL_PAGE_SIZE), 4096);

    /* ranges limit what is logged; a small hint page size is raised */
    struct ctl cr = {512, 1, {{MAPPED + 0x4000, 0x4000}}};
    assert_int_equal(feature(h, START, 64, fill_ctl, &cr), 0);
    assert_int_equal(vfu_get(&h->r, VFU_F_DMA_LOGGING_CONTROL_PAGE_SIZE), 4096);
    assert_int_equal(vfu_get(&h->r, VFU_F_DMA_LOGGING_CONTROL_NUM_RANGES), 1);
    assert_int_equal(h_copy(h, H_GUEST, MAPPED, 0x8000), TOYDEV_STATUS_DONE);
    assert_int_equal(report(h, MAPPED, 0x10000, 4096), 0xf0);
    assert_int_equal(feature(h, STOP, 0, NULL, NULL), 0);
    struct ctl zero = {4096, 1, {{MAPPED, 0}}};
    assert_int_equal(feature(h, START, 64, fill_ctl, &zero), EINVAL);
    struct ctl ps0 = {0, 0, {{0}}};
    assert_int_equal(feature(h, START, 64, fill_ctl, &ps0), EINVAL);
    /* DEVICE_RESET stops logging */
    assert_int_equal(feature(h, START, 64, fill_ctl, &c), 0);
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_DEVICE_RESET);
    h_call(h, &e);
    assert_int_equal(h_errno(h), 0);
    assert_int_equal(feature(h, REPORT, 4096, fill_rep, &rq), EINVAL);
    munmap(mem, 0x100000);
    close(memfd);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(map_rules),
        cmocka_unit_test(max_dma_maps),
        cmocka_unit_test(pgsizes_set_alignment),
        cmocka_unit_test(unmap_rules),
        cmocka_unit_test(device_dma_both_paths),
        cmocka_unit_test(dma_permissions_and_failures),
        cmocka_unit_test(chunks_follow_client_xfer),
        cmocka_unit_test(dirty_logging),
    };
    return cmocka_run_group_tests_name("srv_dma", tests, NULL, NULL);
}
