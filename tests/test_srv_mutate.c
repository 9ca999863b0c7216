/* Seeded mutations of valid requests fed to the server core: whatever
 * arrives, the server answers (or ends the session) without crashing, and
 * holds no more fds afterwards than a clean session does. */
#include "srv_harness.h"

#include <dirent.h>
#include <sys/eventfd.h>

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n - 1;   /* the directory itself */
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

/* a valid request of every command the client sends */
static size_t seed(struct h *h, unsigned which, struct vfu_enc *e)
{
    switch (which % 15) {
    case 0:
        h_begin(h, e, VFU_CMD_DMA_MAP);
        vfu_enc_set(e, VFU_F_DMA_MAP_FLAGS, 3);
        vfu_enc_set(e, VFU_F_DMA_MAP_ADDRESS, 0x100000);
        vfu_enc_set(e, VFU_F_DMA_MAP_SIZE, 0x1000);
        break;
    case 1:
        h_begin(h, e, VFU_CMD_DMA_UNMAP);
        vfu_enc_set(e, VFU_F_DMA_UNMAP_ADDRESS, 0x100000);
        vfu_enc_set(e, VFU_F_DMA_UNMAP_SIZE, 0x1000);
        break;
    case 2: h_begin(h, e, VFU_CMD_DEVICE_GET_INFO); break;
    case 3:
        h_begin(h, e, VFU_CMD_DEVICE_GET_REGION_INFO);
        vfu_enc_set(e, VFU_F_REGION_INFO_REQ_ARGSZ, 256);
        vfu_enc_set(e, VFU_F_REGION_INFO_REQ_INDEX, VFU_PCI_REGION_BAR2);
        break;
    case 4:
        h_begin(h, e, VFU_CMD_DEVICE_GET_REGION_IO_FDS);
        vfu_enc_set(e, VFU_F_REGION_IO_FDS_REQ_ARGSZ, 256);
        break;
    case 5:
        h_begin(h, e, VFU_CMD_DEVICE_GET_IRQ_INFO);
        vfu_enc_set(e, VFU_F_IRQ_INFO_REQ_INDEX, 2);
        break;
    case 6:
        h_begin(h, e, VFU_CMD_DEVICE_SET_IRQS);
        vfu_enc_set(e, VFU_F_SET_IRQS_FLAGS, VFU_IRQ_SET_FLAGS_DATA_BOOL | VFU_IRQ_SET_FLAGS_ACTION_TRIGGER);
        vfu_enc_set(e, VFU_F_SET_IRQS_INDEX, 2);
        vfu_enc_set(e, VFU_F_SET_IRQS_COUNT, 2);
        vfu_enc_data(e, VFU_F_SET_IRQS_DATA, "\1\1", 2);
        break;
    case 7:
        h_begin(h, e, VFU_CMD_REGION_READ);
        vfu_enc_set(e, VFU_F_REGION_ACCESS_OFFSET, TOYDEV_REG_SCRATCH);
        vfu_enc_set(e, VFU_F_REGION_ACCESS_COUNT, 8);
        break;
    case 8: {
        uint64_t v = next();
        h_begin(h, e, VFU_CMD_REGION_WRITE);
        vfu_enc_set(e, VFU_F_REGION_ACCESS_DATA_OFFSET, next() % 2 ? TOYDEV_REG_DOORBELL : TOYDEV_REG_SRC);
        vfu_enc_data(e, VFU_F_REGION_ACCESS_DATA_DATA, &v, 4);
        break;
    }
    case 9: h_begin(h, e, VFU_CMD_DEVICE_RESET); break;
    case 10:
        h_begin(h, e, VFU_CMD_REGION_WRITE_MULTI);
        vfu_enc_elem(e, VFU_F_WRITE_MULTI_WRS);
        vfu_enc_set(e, VFU_F_WRITE_MULTI_ENTRY_OFFSET, TOYDEV_REG_SCRATCH);
        vfu_enc_set(e, VFU_F_WRITE_MULTI_ENTRY_COUNT, 8);
        break;
    case 11:
        h_begin(h, e, VFU_CMD_DEVICE_FEATURE);
        vfu_enc_set(e, VFU_F_DEVICE_FEATURE_REQ_ARGSZ, 64);
        vfu_enc_set(e, VFU_F_DEVICE_FEATURE_REQ_FLAGS, VFU_DEVICE_FEATURE_MIG_DEVICE_STATE | VFU_DEVICE_FEATURE_FLAGS_SET);
        vfu_enc_struct(e, VFU_S_FEATURE_MIG_STATE);
        vfu_enc_set(e, VFU_F_FEATURE_MIG_STATE_DEVICE_STATE, 1 + next() % 6);
        break;
    case 12:
        h_begin(h, e, VFU_CMD_DEVICE_FEATURE);
        vfu_enc_set(e, VFU_F_DEVICE_FEATURE_REQ_ARGSZ, 64);
        vfu_enc_set(e, VFU_F_DEVICE_FEATURE_REQ_FLAGS, VFU_DEVICE_FEATURE_DMA_LOGGING_START | VFU_DEVICE_FEATURE_FLAGS_SET);
        vfu_enc_struct(e, VFU_S_DMA_LOGGING_CONTROL);
        vfu_enc_set(e, VFU_F_DMA_LOGGING_CONTROL_PAGE_SIZE, 4096);
        vfu_enc_elem(e, VFU_F_DMA_LOGGING_CONTROL_RANGES);
        vfu_enc_set(e, VFU_F_DMA_LOGGING_RANGE_LENGTH, 0x10000);
        break;
    case 13:
        h_begin(h, e, VFU_CMD_MIG_DATA_READ);
        vfu_enc_set(e, VFU_F_MIG_DATA_REQ_ARGSZ, 4096);
        vfu_enc_set(e, VFU_F_MIG_DATA_REQ_SIZE, 1024);
        break;
    default:
        h_begin(h, e, VFU_CMD_MIG_DATA_WRITE);
        vfu_enc_data(e, VFU_F_MIG_DATA_DATA, "SRVM\0\0\0\0", 8);
        break;
    }
    assert_true(vfu_enc_finish(e, NULL));
    return e->len;
}

static void mutated_requests(void **state)
{
    (void)state;
    int base = open_fds();
    struct h *h = h_ready();
    int memfd = h_memfd(0x10000);
    assert_int_equal(h_map(h, 0x10000000, 0x10000, 0, 3, memfd), 0);
    assert_int_equal(h_map(h, H_GUEST, 0x10000, 0, 3, -1), 0);
    h_enable_dma_msix(h);
    int efd = eventfd(0, EFD_CLOEXEC);
    unsigned closes = 0, errors = 0;
    for (unsigned i = 0; i < 20000; i++) {
        struct vfu_enc e;
        size_t len = seed(h, next(), &e);
        uint8_t *b = h->req;
        unsigned flips = 1 + next() % 4;
        for (unsigned f = 0; f < flips; f++) {
            size_t at = next() % len;
            /* header fields less often: mostly the payload's rules */
            if (at < VFU_HDR_SIZE && next() % 4) at = VFU_HDR_SIZE + next() % (len - VFU_HDR_SIZE + (len == VFU_HDR_SIZE));
            if (at < len) b[at] ^= (uint8_t)(1u << (next() % 8));
        }
        if (next() % 16 == 0 && len > VFU_HDR_SIZE + 1) len -= 1 + next() % 4;   /* short */
        int fds[2] = {memfd, efd};
        unsigned nfds = next() % 8 == 0 ? 1 + next() % 2 : 0;
        enum srv_verdict v = h_feed(h, b, len, fds, nfds);
        if (h->nout && h->r.is_error) errors++;
        if (v == SRV_CLOSE || !srv_negotiated(h->s)) {
            closes++;
            srv_disconnect(h->s);
            h_version(h, "{\"capabilities\":{\"max_msg_fds\":8,\"write_multiple\":true}}");
            h_map(h, 0x10000000, 0x10000, 0, 3, memfd);
            h_map(h, H_GUEST, 0x10000, 0, 3, -1);
        }
    }
    assert_true(errors > 1000);
    h_clear_out(h);
    srv_disconnect(h->s);
    close(efd);
    close(memfd);
    for (unsigned i = 0; i < h->nrfds; i++) close(h->rfds[i]);
    h->nrfds = 0;
    h_free(h);
    assert_int_equal(open_fds(), base);
    (void)closes;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mutated_requests),
    };
    return cmocka_run_group_tests_name("srv_mutate", tests, NULL, NULL);
}
