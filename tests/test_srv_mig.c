/* The server core in-process: DEVICE_FEATURE migration features, the v2
 * state machine, and the MIG_DATA stream between two servers. */
#include "srv_harness.h"

#include <sys/eventfd.h>

#define F_GET VFU_DEVICE_FEATURE_FLAGS_GET
#define F_SET VFU_DEVICE_FEATURE_FLAGS_SET
#define F_PROBE VFU_DEVICE_FEATURE_FLAGS_PROBE
#define MIG VFU_DEVICE_FEATURE_MIGRATION
#define STATE VFU_DEVICE_FEATURE_MIG_DEVICE_STATE

enum { ERROR = 0, STOP, RUNNING, STOP_COPY, RESUMING, RUNNING_P2P, PRE_COPY, PRE_COPY_P2P };

static int feat(struct h *h, uint32_t flags, uint32_t argsz)
{
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_DEVICE_FEATURE);
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_REQ_FLAGS, flags);
    if (argsz) vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_REQ_ARGSZ, argsz);
    h_call(h, &e);
    return h_errno(h);
}

static int set_state(struct h *h, uint32_t st)
{
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_DEVICE_FEATURE);
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_REQ_FLAGS, STATE | F_SET);
    vfu_enc_struct(&e, VFU_S_FEATURE_MIG_STATE);
    vfu_enc_set(&e, VFU_F_FEATURE_MIG_STATE_DEVICE_STATE, st);
    vfu_enc_set(&e, VFU_F_FEATURE_MIG_STATE_DATA_FD, 0xfffffffe);
    assert_true(vfu_enc_finish(&e, NULL));
    /* argsz: exactly the reply size, as the reply echoes the request */
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_REQ_ARGSZ, 16);
    h_feed(h, e.buf, e.len, NULL, 0);
    int r = h_errno(h);
    if (!r) {
        assert_int_equal(vfu_get(&h->r, VFU_F_FEATURE_MIG_STATE_DEVICE_STATE), st);
        assert_int_equal(vfu_get(&h->r, VFU_F_FEATURE_MIG_STATE_DATA_FD), 0xfffffffe);
        assert_int_equal(vfu_get(&h->r, VFU_F_DEVICE_FEATURE_ARGSZ), 16);
    }
    return r;
}

static uint32_t get_state(struct h *h)
{
    assert_int_equal(feat(h, STATE | F_GET, 16), 0);
    return (uint32_t)vfu_get(&h->r, VFU_F_FEATURE_MIG_STATE_DEVICE_STATE);
}

static void features(void **state)
{
    (void)state;
    struct h *h = h_ready();
    assert_int_equal(feat(h, MIG | F_GET, 16), 0);
    assert_int_equal(vfu_get(&h->r, VFU_F_FEATURE_MIGRATION_FLAGS),
                     VFU_MIGRATION_FLAGS_STOP_COPY | VFU_MIGRATION_FLAGS_PRE_COPY);
    assert_int_equal(feat(h, MIG | F_GET, 8), EINVAL);        /* argsz too small for the data */
    assert_int_equal(feat(h, MIG | F_PROBE, 8), 0);
    assert_int_equal(vfu_get(&h->r, VFU_F_DEVICE_FEATURE_FLAGS), MIG | F_PROBE);
    assert_int_equal(feat(h, MIG | F_PROBE | F_GET, 8), 0);
    assert_int_equal(feat(h, MIG | F_PROBE | F_SET, 8), EINVAL);
    assert_int_equal(feat(h, STATE | F_PROBE | F_GET | F_SET, 8), 0);
    assert_int_equal(feat(h, VFU_DEVICE_FEATURE_DMA_LOGGING_REPORT | F_PROBE | F_SET, 8), EINVAL);
    assert_int_equal(feat(h, VFU_DEVICE_FEATURE_DMA_LOGGING_START | F_PROBE | F_SET, 8), 0);
    assert_int_equal(get_state(h), RUNNING);
    assert_int_equal(vfu_get(&h->r, VFU_F_FEATURE_MIG_STATE_DATA_FD), 0xffffffff);
    assert_int_equal(feat(h, STATE | F_GET, 8), EINVAL);
    h_free(h);

    /* --migration=off: no feature at all */
    struct srv_opts o;
    srv_opts_default(&o);
    o.migration = false;
    h = h_new_opts(&o);
    h_version(h, NULL);
    assert_int_equal(feat(h, MIG | F_GET, 16), ENOTSUP);
    assert_int_equal(feat(h, STATE | F_PROBE, 16), ENOTSUP);
    assert_int_equal(feat(h, VFU_DEVICE_FEATURE_DMA_LOGGING_STOP | F_SET, 16), ENOTSUP);
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_MIG_DATA_READ);
    vfu_enc_set(&e, VFU_F_MIG_DATA_REQ_SIZE, 8);
    vfu_enc_set(&e, VFU_F_MIG_DATA_REQ_ARGSZ, 16);
    h_call(h, &e);
    assert_int_equal(h_errno(h), ENOTSUP);
    h_free(h);
}

static void state_machine(void **state)
{
    (void)state;
    struct h *h = h_ready();
    static const uint32_t all[] = {STOP, RUNNING, STOP_COPY, RESUMING, PRE_COPY};
    /* every settable state reaches every other, except STOP_COPY -> PRE_COPY */
    for (unsigned i = 0; i < 5; i++) {
        for (unsigned k = 0; k < 5; k++) {
            /* from RUNNING, whatever the last pair left */
            struct vfu_enc r;
            h_begin(h, &r, VFU_CMD_DEVICE_RESET);
            h_call(h, &r);
            assert_int_equal(get_state(h), RUNNING);
            /* leaving RESUMING needs data to load: migrate_between_servers */
            if (all[i] == RESUMING && all[k] != RESUMING) continue;
            assert_int_equal(set_state(h, all[i]), 0);
            int want = all[i] == STOP_COPY && all[k] == PRE_COPY ? EINVAL : 0;
            assert_int_equal(set_state(h, all[k]), want);
            assert_int_equal(get_state(h), want ? all[i] : all[k]);
        }
    }
    /* never settable */
    assert_int_equal(set_state(h, RUNNING), 0);
    assert_int_equal(set_state(h, ERROR), EINVAL);
    assert_int_equal(set_state(h, RUNNING_P2P), EINVAL);
    assert_int_equal(set_state(h, PRE_COPY_P2P), EINVAL);
    assert_int_equal(set_state(h, 8), EINVAL);
    /* RESUMING with nothing delivered cannot leave towards STOP */
    assert_int_equal(set_state(h, RESUMING), 0);
    assert_int_equal(set_state(h, STOP), EINVAL);
    assert_int_equal(get_state(h), RESUMING);
    assert_int_equal(set_state(h, RUNNING), EINVAL);
    /* DEVICE_RESET is the way out */
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_DEVICE_RESET);
    h_call(h, &e);
    assert_int_equal(get_state(h), RUNNING);
    h_free(h);
}

/* MIG_DATA_READ until a short read; returns the bytes */
static size_t read_all(struct h *h, uint8_t *out, size_t cap, uint32_t chunk)
{
    size_t n = 0;
    for (;;) {
        struct vfu_enc e;
        h_begin(h, &e, VFU_CMD_MIG_DATA_READ);
        vfu_enc_set(&e, VFU_F_MIG_DATA_REQ_SIZE, chunk);
        vfu_enc_set(&e, VFU_F_MIG_DATA_REQ_ARGSZ, 8 + chunk);
        h_call(h, &e);
        assert_int_equal(h_errno(h), 0);
        uint32_t got;
        const uint8_t *d = vfu_data(&h->r, VFU_F_MIG_DATA_DATA, &got);
        assert_int_equal(vfu_get(&h->r, VFU_F_MIG_DATA_SIZE), got);
        assert_int_equal(vfu_get(&h->r, VFU_F_MIG_DATA_ARGSZ), 8 + got);
        assert_true(n + got <= cap);
        memcpy(out + n, d, got);
        n += got;
        if (got < chunk) return n;
    }
}

static int write_chunk(struct h *h, const uint8_t *d, uint32_t n)
{
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_MIG_DATA_WRITE);
    vfu_enc_set(&e, VFU_F_MIG_DATA_ARGSZ, 8 + n);
    vfu_enc_data(&e, VFU_F_MIG_DATA_DATA, d, n);
    h_call(h, &e);
    return h_errno(h);
}

/* RUNNING -> STOP_COPY goes through STOP, never through PRE_COPY (no
 * saving state inside a path): one snapshot record, where the way through
 * PRE_COPY gives two. */
static void shortest_path_avoids_saving_states(void **state)
{
    (void)state;
    struct h *h = h_ready();
    uint8_t *buf = malloc(1u << 20);
    assert_int_equal(set_state(h, STOP_COPY), 0);
    size_t direct = read_all(h, buf, 1u << 20, 65536);
    assert_int_equal(set_state(h, RUNNING), 0);
    assert_int_equal(set_state(h, PRE_COPY), 0);
    assert_int_equal(set_state(h, STOP_COPY), 0);
    size_t via = read_all(h, buf, 1u << 20, 65536);
    assert_true(direct > 0);
    assert_int_equal(via, 2 * direct);
    /* PRE_COPY -> STOP goes through RUNNING: the stream ends with the session */
    assert_int_equal(set_state(h, RUNNING), 0);
    assert_int_equal(set_state(h, PRE_COPY), 0);
    assert_int_equal(set_state(h, STOP), 0);
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_MIG_DATA_READ);
    vfu_enc_set(&e, VFU_F_MIG_DATA_REQ_SIZE, 16);
    vfu_enc_set(&e, VFU_F_MIG_DATA_REQ_ARGSZ, 24);
    h_call(h, &e);
    assert_int_equal(h_errno(h), EINVAL);
    free(buf);
    h_free(h);
}

static void migrate_between_servers(void **state)
{
    (void)state;
    struct h *src = h_ready(), *dst = h_ready();
    for (unsigned i = 0; i < TOYDEV_SCRATCH_COUNT; i++)
        h_wr(src, VFU_PCI_REGION_BAR0, TOYDEV_REG_SCRATCH + 8 * i, 0x0101010101010101ull * (i + 1), 8);
    uint8_t pat[4096];
    for (unsigned i = 0; i < sizeof pat; i++) pat[i] = (uint8_t)(i * 31 + 7);
    assert_int_equal(h_region_rw(src, VFU_PCI_REGION_BAR2, 0x3000, pat, sizeof pat, true), 0);

    /* reads outside the saving states */
    struct vfu_enc e;
    h_begin(src, &e, VFU_CMD_MIG_DATA_READ);
    vfu_enc_set(&e, VFU_F_MIG_DATA_REQ_SIZE, 16);
    vfu_enc_set(&e, VFU_F_MIG_DATA_REQ_ARGSZ, 24);
    h_call(src, &e);
    assert_int_equal(h_errno(src), EINVAL);

    size_t cap = 4 * 1024 * 1024, n = 0;
    uint8_t *stream = malloc(cap);
    assert_int_equal(set_state(src, PRE_COPY), 0);
    n += read_all(src, stream + n, cap - n, 4096);
    assert_true(n > 0);
    /* changed during pre-copy: the final record carries it */
    h_wr(src, VFU_PCI_REGION_BAR0, TOYDEV_REG_SCRATCH, 0xfeedfacecafebeefull, 8);
    assert_int_equal(set_state(src, STOP_COPY), 0);
    /* argsz too small for the size asked, and size above the limit */
    h_begin(src, &e, VFU_CMD_MIG_DATA_READ);
    vfu_enc_set(&e, VFU_F_MIG_DATA_REQ_SIZE, 64);
    vfu_enc_set(&e, VFU_F_MIG_DATA_REQ_ARGSZ, 32);
    h_call(src, &e);
    assert_int_equal(h_errno(src), EINVAL);
    h_begin(src, &e, VFU_CMD_MIG_DATA_READ);
    vfu_enc_set(&e, VFU_F_MIG_DATA_REQ_SIZE, (2u << 20));
    vfu_enc_set(&e, VFU_F_MIG_DATA_REQ_ARGSZ, 8 + (2u << 20));
    h_call(src, &e);
    assert_int_equal(h_errno(src), EINVAL);
    n += read_all(src, stream + n, cap - n, 1000);
    assert_int_equal(set_state(src, STOP), 0);

    /* MIG_DATA_WRITE only in RESUMING */
    assert_int_equal(write_chunk(dst, stream, 16), EINVAL);
    assert_int_equal(set_state(dst, RESUMING), 0);
    for (size_t off = 0; off < n; off += 3000)
        assert_int_equal(write_chunk(dst, stream + off, (uint32_t)(n - off < 3000 ? n - off : 3000)), 0);
    assert_int_equal(set_state(dst, RUNNING), 0);
    assert_int_equal(h_rd(dst, VFU_PCI_REGION_BAR0, TOYDEV_REG_SCRATCH, 8), 0xfeedfacecafebeefull);
    for (unsigned i = 1; i < TOYDEV_SCRATCH_COUNT; i++)
        assert_int_equal(h_rd(dst, VFU_PCI_REGION_BAR0, TOYDEV_REG_SCRATCH + 8 * i, 8),
                         0x0101010101010101ull * (i + 1));
    uint8_t back[4096];
    assert_int_equal(h_region_rw(dst, VFU_PCI_REGION_BAR2, 0x3000, back, sizeof back, false), 0);
    assert_memory_equal(back, pat, sizeof pat);

    /* damaged data: the SET fails, the device stays in RESUMING unchanged */
    assert_int_equal(set_state(dst, STOP), 0);
    assert_int_equal(set_state(dst, RESUMING), 0);
    stream[n / 2] ^= 0xff;
    assert_int_equal(write_chunk(dst, stream, (uint32_t)(n - 1)), 0);
    assert_int_equal(set_state(dst, STOP), EINVAL);
    assert_int_equal(get_state(dst), RESUMING);
    assert_int_equal(h_rd(dst, VFU_PCI_REGION_BAR0, TOYDEV_REG_SCRATCH, 8), 0xfeedfacecafebeefull);
    /* more than any stream may hold */
    uint8_t *junk = calloc(1, 1u << 20);
    int r = 0;
    for (unsigned i = 0; i < 4 && !r; i++) r = write_chunk(dst, junk, 1u << 20);
    assert_int_equal(r, ENOSPC);
    free(junk);
    free(stream);
    h_free(src);
    h_free(dst);
}

/* no DMA and no interrupts while stopped; held interrupts go out on RUNNING */
static void stopped_device_is_quiet(void **state)
{
    (void)state;
    struct h *h = h_ready();
    assert_int_equal(h_map(h, H_GUEST, 0x10000, 0, 3, -1), 0);
    h_enable_dma_msix(h);
    int efd = eventfd(0, EFD_CLOEXEC);
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_DEVICE_SET_IRQS);
    vfu_enc_set(&e, VFU_F_SET_IRQS_FLAGS, VFU_IRQ_SET_FLAGS_DATA_EVENTFD | VFU_IRQ_SET_FLAGS_ACTION_TRIGGER);
    vfu_enc_set(&e, VFU_F_SET_IRQS_INDEX, VFU_PCI_IRQ_MSIX);
    vfu_enc_set(&e, VFU_F_SET_IRQS_COUNT, 1);
    h_call_fds(h, &e, &efd, 1);
    assert_int_equal(set_state(h, STOP), 0);
    assert_int_equal(h_copy(h, H_GUEST, H_GUEST + 0x1000, 16), TOYDEV_STATUS_ERROR);
    assert_int_equal(h_rd(h, VFU_PCI_REGION_BAR0, TOYDEV_REG_ERRNO, 4), EBUSY);
    assert_int_equal(h->dma_reads, 0);
    assert_int_equal(h_eventfd_count(efd), 0);
    assert_int_equal(set_state(h, RUNNING), 0);
    assert_int_equal(h_eventfd_count(efd), 1);
    close(efd);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(features),
        cmocka_unit_test(state_machine),
        cmocka_unit_test(shortest_path_avoids_saving_states),
        cmocka_unit_test(migrate_between_servers),
        cmocka_unit_test(stopped_device_is_quiet),
    };
    return cmocka_run_group_tests_name("srv_mig", tests, NULL, NULL);
}
