/* The server core in-process: device info, region info and I/O fds,
 * region access, REGION_WRITE_MULTI, DEVICE_RESET. */
#include "srv_harness.h"

#include <sys/stat.h>

static int region_info(struct h *h, uint32_t index, uint32_t argsz)
{
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_DEVICE_GET_REGION_INFO);
    vfu_enc_set(&e, VFU_F_REGION_INFO_REQ_ARGSZ, argsz);
    vfu_enc_set(&e, VFU_F_REGION_INFO_REQ_INDEX, index);
    h_call(h, &e);
    return h_errno(h);
}

static void device_info(void **state)
{
    (void)state;
    struct h *h = h_ready();
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_DEVICE_GET_INFO);
    vfu_enc_set(&e, VFU_F_DEVICE_INFO_REQ_ARGSZ, 64);
    h_call(h, &e);
    assert_int_equal(h_errno(h), 0);
    assert_int_equal(vfu_get(&h->r, VFU_F_DEVICE_INFO_ARGSZ), 16);
    assert_int_equal(vfu_get(&h->r, VFU_F_DEVICE_INFO_FLAGS), VFU_DEVICE_INFO_FLAGS_RESET | VFU_DEVICE_INFO_FLAGS_PCI);
    assert_int_equal(vfu_get(&h->r, VFU_F_DEVICE_INFO_NUM_REGIONS), 9);
    assert_int_equal(vfu_get(&h->r, VFU_F_DEVICE_INFO_NUM_IRQS), 5);
    h_begin(h, &e, VFU_CMD_DEVICE_GET_INFO);
    assert_true(vfu_enc_finish(&e, NULL));
    vfu_enc_set(&e, VFU_F_DEVICE_INFO_REQ_ARGSZ, 15);
    h_feed(h, e.buf, e.len, NULL, 0);
    assert_int_equal(h_errno(h), EINVAL);
    h_free(h);
}

static void region_infos(void **state)
{
    (void)state;
    struct h *h = h_ready();
    assert_int_equal(region_info(h, 9, 32), EINVAL);
    /* argsz below the fixed part: the codec's rule */
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_DEVICE_GET_REGION_INFO);
    assert_true(vfu_enc_finish(&e, NULL));
    vfu_enc_set(&e, VFU_F_REGION_INFO_REQ_ARGSZ, 31);
    h_feed(h, e.buf, e.len, NULL, 0);
    assert_int_equal(h_errno(h), EINVAL);

    /* BAR0: trapped, no fd, no caps */
    assert_int_equal(region_info(h, VFU_PCI_REGION_BAR0, 256), 0);
    assert_int_equal(vfu_get(&h->r, VFU_F_REGION_INFO_SIZE), 4096);
    assert_int_equal(vfu_get(&h->r, VFU_F_REGION_INFO_FLAGS), VFU_REGION_INFO_FLAGS_READ | VFU_REGION_INFO_FLAGS_WRITE);
    assert_int_equal(vfu_get(&h->r, VFU_F_REGION_INFO_ARGSZ), 32);
    assert_int_equal(h->nrfds, 0);

    /* BAR2 with room: the sparse cap and the memfd */
    assert_int_equal(region_info(h, VFU_PCI_REGION_BAR2, 256), 0);
    uint32_t flags = (uint32_t)vfu_get(&h->r, VFU_F_REGION_INFO_FLAGS);
    assert_true(flags & VFU_REGION_INFO_FLAGS_MMAP);
    assert_true(flags & VFU_REGION_INFO_FLAGS_CAPS);
    uint64_t full = vfu_get(&h->r, VFU_F_REGION_INFO_ARGSZ);
    assert_int_equal(full, h->r.payload_len);
    assert_int_equal(vfu_get(&h->r, VFU_F_REGION_INFO_CAP_OFFSET), 32);
    assert_int_equal(vfu_get(&h->r, VFU_F_REGION_CAP_HEADER_ID), VFU_REGION_CAP_ID_SPARSE_MMAP);
    assert_int_equal(vfu_get(&h->r, VFU_F_REGION_CAP_HEADER_VERSION), 1);
    uint32_t n = vfu_count(&h->r, VFU_F_CAP_SPARSE_MMAP_AREAS);
    assert_true(n >= 1);
    /* the first page stays trapped */
    assert_true(vfu_elem_get(&h->r, VFU_F_CAP_SPARSE_MMAP_AREAS, 0, VFU_F_SPARSE_MMAP_AREA_OFFSET) >= 4096);
    assert_int_equal(h->nrfds, 1);
    /* the fd maps BAR2: what we write through REGION_WRITE shows there */
    h_wr(h, VFU_PCI_REGION_BAR2, 0x2000, 0xabcdef0123456789ull, 8);
    assert_int_equal(region_info(h, VFU_PCI_REGION_BAR2, 256), 0);
    uint64_t off = vfu_get(&h->r, VFU_F_REGION_INFO_OFFSET);
    uint8_t *p = mmap(NULL, 65536, PROT_READ, MAP_SHARED, h->rfds[0], (off_t)off);
    assert_true(p != MAP_FAILED);
    uint64_t v;
    memcpy(&v, p + 0x2000, 8);
    assert_int_equal(v, 0xabcdef0123456789ull);
    munmap(p, 65536);

    /* too small for the chain: argsz says the full size, no caps, no fd */
    assert_int_equal(region_info(h, VFU_PCI_REGION_BAR2, 32), 0);
    assert_int_equal(vfu_get(&h->r, VFU_F_REGION_INFO_ARGSZ), full);
    assert_int_equal(h->r.payload_len, 32);
    assert_false(vfu_get(&h->r, VFU_F_REGION_INFO_FLAGS) & VFU_REGION_INFO_FLAGS_CAPS);
    assert_int_equal(vfu_get(&h->r, VFU_F_REGION_INFO_CAP_OFFSET), 0);
    assert_true(vfu_get(&h->r, VFU_F_REGION_INFO_FLAGS) & VFU_REGION_INFO_FLAGS_MMAP);
    assert_int_equal(h->nrfds, 0);
    assert_int_equal(region_info(h, VFU_PCI_REGION_BAR2, (uint32_t)full - 1), 0);
    assert_int_equal(h->r.payload_len, 32);

    /* an empty index */
    assert_int_equal(region_info(h, VFU_PCI_REGION_BAR1, 32), 0);
    assert_int_equal(vfu_get(&h->r, VFU_F_REGION_INFO_SIZE), 0);
    assert_int_equal(region_info(h, VFU_PCI_REGION_CONFIG, 32), 0);
    assert_int_equal(vfu_get(&h->r, VFU_F_REGION_INFO_SIZE), 4096);
    h_free(h);

    /* a client that takes no fds is not offered mmap */
    h = h_new();
    h_version(h, "{\"capabilities\":{\"max_msg_fds\":0}}");
    assert_int_equal(region_info(h, VFU_PCI_REGION_BAR2, 256), 0);
    assert_false(vfu_get(&h->r, VFU_F_REGION_INFO_FLAGS) & VFU_REGION_INFO_FLAGS_MMAP);
    assert_int_equal(h->nrfds, 0);
    h_free(h);
}

static int io_fds(struct h *h, uint32_t index, uint32_t argsz)
{
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_DEVICE_GET_REGION_IO_FDS);
    vfu_enc_set(&e, VFU_F_REGION_IO_FDS_REQ_ARGSZ, argsz);
    vfu_enc_set(&e, VFU_F_REGION_IO_FDS_REQ_INDEX, index);
    h_call(h, &e);
    return h_errno(h);
}

static void region_io_fds(void **state)
{
    (void)state;
    struct h *h = h_ready();
    assert_int_equal(io_fds(h, 9, 16), EINVAL);
    assert_int_equal(io_fds(h, VFU_PCI_REGION_BAR2, 256), 0);
    assert_int_equal(vfu_get(&h->r, VFU_F_REGION_IO_FDS_COUNT), 0);
    assert_int_equal(h->nrfds, 0);
    /* too small: count and argsz, no array, no fd */
    assert_int_equal(io_fds(h, VFU_PCI_REGION_BAR0, 16), 0);
    assert_int_equal(vfu_get(&h->r, VFU_F_REGION_IO_FDS_COUNT), 1);
    assert_int_equal(vfu_get(&h->r, VFU_F_REGION_IO_FDS_ARGSZ), 16 + 40);
    assert_true(h->r.truncated);
    assert_int_equal(h->nrfds, 0);
    assert_int_equal(srv_ioeventfd(h->s), -1);
    assert_int_equal(io_fds(h, VFU_PCI_REGION_BAR0, 56), 0);
    assert_int_equal(vfu_count(&h->r, VFU_F_REGION_IO_FDS_SUB_REGIONS), 1);
    assert_int_equal(vfu_elem_get(&h->r, VFU_F_REGION_IO_FDS_SUB_REGIONS, 0, VFU_F_SUB_REGION_OFFSET), TOYDEV_REG_DOORBELL);
    assert_int_equal(vfu_elem_get(&h->r, VFU_F_REGION_IO_FDS_SUB_REGIONS, 0, VFU_F_SUB_REGION_SIZE), 4);
    assert_int_equal(vfu_elem_get(&h->r, VFU_F_REGION_IO_FDS_SUB_REGIONS, 0, VFU_F_SUB_REGION_TYPE), VFU_IO_FD_TYPE_IOEVENTFD);
    assert_int_equal(vfu_elem_get(&h->r, VFU_F_REGION_IO_FDS_SUB_REGIONS, 0, VFU_F_IOEVENTFD_FLAGS), VFU_IOEVENTFD_FLAGS_DATAMATCH);
    assert_int_equal(vfu_elem_get(&h->r, VFU_F_REGION_IO_FDS_SUB_REGIONS, 0, VFU_F_IOEVENTFD_DATAMATCH), 1);
    assert_int_equal(h->nrfds, 1);
    int server_fd = srv_ioeventfd(h->s);
    assert_true(server_fd >= 0);
    /* asked again: the same eventfd */
    int mine = fcntl(h->rfds[0], F_DUPFD_CLOEXEC, 0);
    assert_int_equal(io_fds(h, VFU_PCI_REGION_BAR0, 56), 0);
    assert_int_equal(srv_ioeventfd(h->s), server_fd);
    /* signalling it rings the doorbell: a copy with nothing mapped fails */
    h_enable_dma_msix(h);
    h_wr(h, VFU_PCI_REGION_BAR0, TOYDEV_REG_LEN, 16, 4);
    uint64_t one = 1;
    assert_int_equal(write(mine, &one, 8), 8);
    assert_int_equal(srv_ioevent(h->s), SRV_CONTINUE);
    assert_int_equal(h_rd(h, VFU_PCI_REGION_BAR0, TOYDEV_REG_STATUS, 4), TOYDEV_STATUS_ERROR);
    close(mine);
    /* gone with the client */
    srv_disconnect(h->s);
    assert_int_equal(srv_ioeventfd(h->s), -1);
    h_free(h);
}

static void region_access(void **state)
{
    (void)state;
    struct h *h = h_ready();
    uint8_t buf[64] = {0};
    assert_int_equal(h_rd(h, VFU_PCI_REGION_BAR0, TOYDEV_REG_ID, 4), TOYDEV_ID_VALUE);
    assert_int_equal(h_rd(h, VFU_PCI_REGION_CONFIG, 0, 2), TOYDEV_VENDOR_ID);
    assert_int_equal(h_region_rw(h, VFU_PCI_REGION_BAR0, 0, buf, 0, false), EINVAL);   /* count 0 */
    assert_int_equal(h_region_rw(h, VFU_PCI_REGION_BAR0, 0, buf, 0, true), EINVAL);
    assert_int_equal(h_region_rw(h, 9, 0, buf, 4, false), EINVAL);
    assert_int_equal(h_region_rw(h, VFU_PCI_REGION_BAR1, 0, buf, 4, false), EINVAL);   /* size 0 */
    assert_int_equal(h_region_rw(h, VFU_PCI_REGION_BAR0, 4092, buf, 8, false), EINVAL);
    assert_int_equal(h_region_rw(h, VFU_PCI_REGION_BAR0, 4096, buf, 4, true), EINVAL);
    assert_int_equal(h_region_rw(h, VFU_PCI_REGION_BAR0, UINT64_MAX - 1, buf, 4, false), EINVAL);
    assert_int_equal(h_region_rw(h, VFU_PCI_REGION_BAR0, 1, buf, 4, false), EINVAL);  /* device: unaligned */
    /* the reply echoes offset, region and count */
    struct vfu_enc e;
    uint32_t v = 7;
    h_begin(h, &e, VFU_CMD_REGION_WRITE);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_OFFSET, TOYDEV_REG_SCRATCH + 8);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_REGION, VFU_PCI_REGION_BAR0);
    vfu_enc_data(&e, VFU_F_REGION_ACCESS_DATA_DATA, &v, 4);
    h_call(h, &e);
    assert_int_equal(h_errno(h), 0);
    assert_int_equal(vfu_get(&h->r, VFU_F_REGION_ACCESS_OFFSET), TOYDEV_REG_SCRATCH + 8);
    assert_int_equal(vfu_get(&h->r, VFU_F_REGION_ACCESS_REGION), VFU_PCI_REGION_BAR0);
    assert_int_equal(vfu_get(&h->r, VFU_F_REGION_ACCESS_COUNT), 4);
    /* whole-region BAR2 transfers */
    uint8_t *big = malloc(65536), *back = malloc(65536);
    for (unsigned i = 0; i < 65536; i++) big[i] = (uint8_t)(i * 13);
    assert_int_equal(h_region_rw(h, VFU_PCI_REGION_BAR2, 0, big, 65536, true), 0);
    assert_int_equal(h_region_rw(h, VFU_PCI_REGION_BAR2, 0, back, 65536, false), 0);
    assert_memory_equal(big, back, 65536);
    free(big);
    free(back);
    h_free(h);
}

static void write_multi(void **state)
{
    (void)state;
    struct h *h = h_ready();
    struct vfu_enc e;
    const struct { uint64_t off; uint32_t region, count; uint64_t v; } w[] = {
        {TOYDEV_REG_SCRATCH, VFU_PCI_REGION_BAR0, 8, 0x1111111111111111ull},
        {TOYDEV_REG_SCRATCH + 8, VFU_PCI_REGION_BAR0, 4, 0x22222222},
        {TOYDEV_REG_SCRATCH + 16, VFU_PCI_REGION_BAR0, 9, 0},   /* count above 8 */
        {TOYDEV_REG_SCRATCH + 24, VFU_PCI_REGION_BAR0, 8, 0x4444444444444444ull},
    };
    for (unsigned n = 2; n <= 4; n += 2) {
        h_begin(h, &e, VFU_CMD_REGION_WRITE_MULTI);
        for (unsigned i = 0; i < n; i++) {
            vfu_enc_elem(&e, VFU_F_WRITE_MULTI_WRS);
            vfu_enc_set(&e, VFU_F_WRITE_MULTI_ENTRY_OFFSET, w[i].off);
            vfu_enc_set(&e, VFU_F_WRITE_MULTI_ENTRY_REGION, w[i].region);
            vfu_enc_set(&e, VFU_F_WRITE_MULTI_ENTRY_COUNT, w[i].count);
            vfu_enc_bytes(&e, VFU_F_WRITE_MULTI_ENTRY_DATA, &w[i].v, 8);
        }
        h_call(h, &e);
        if (n == 2) {
            assert_int_equal(h_errno(h), 0);
            assert_int_equal(vfu_get(&h->r, VFU_F_WRITE_MULTI_ACK_WR_CNT), 2);
        } else {
            assert_int_equal(h_errno(h), EINVAL);
        }
    }
    assert_int_equal(h_rd(h, VFU_PCI_REGION_BAR0, TOYDEV_REG_SCRATCH, 8), 0x1111111111111111ull);
    assert_int_equal(h_rd(h, VFU_PCI_REGION_BAR0, TOYDEV_REG_SCRATCH + 8, 4), 0x22222222);
    /* stopped at the third: the fourth never happened */
    assert_int_equal(h_rd(h, VFU_PCI_REGION_BAR0, TOYDEV_REG_SCRATCH + 24, 8), 0);
    h_free(h);

    /* not negotiated */
    h = h_new();
    h_version(h, NULL);
    h_begin(h, &e, VFU_CMD_REGION_WRITE_MULTI);
    h_call(h, &e);
    assert_int_equal(h_errno(h), ENOTSUP);
    h_free(h);
}

static void device_reset(void **state)
{
    (void)state;
    struct h *h = h_ready();
    h_wr(h, VFU_PCI_REGION_BAR0, TOYDEV_REG_SCRATCH, 5, 8);
    assert_int_equal(h_map(h, 0x10000, 0x1000, 0, 3, -1), 0);
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_DEVICE_RESET);
    h_call(h, &e);
    assert_int_equal(h_errno(h), 0);
    assert_int_equal(h->r.payload_len, 0);
    assert_int_equal(h_rd(h, VFU_PCI_REGION_BAR0, TOYDEV_REG_SCRATCH, 8), 0);
    /* DMA maps survive a reset */
    assert_int_equal(h_map(h, 0x10000, 0x1000, 0, 3, -1), EEXIST);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(device_info),
        cmocka_unit_test(region_infos),
        cmocka_unit_test(region_io_fds),
        cmocka_unit_test(region_access),
        cmocka_unit_test(write_multi),
        cmocka_unit_test(device_reset),
    };
    return cmocka_run_group_tests_name("srv_region", tests, NULL, NULL);
}
