/* Errors of the numbers a peer sends about its own message: counts and
 * lengths that run past the payload, argsz against its rule, the number of
 * file descriptors, and transfer sizes above max_data_xfer_size.  Each is a
 * number a server would otherwise trust to index or allocate. */
#include "codec_cases.h"

static uint8_t buf[CODEC_BUF];
static struct vfu_enc e;
static struct vfu_limits lim;

#define BEGIN(cmd, reply) vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_##cmd, reply, 1)
#define TO_SERVER VFU_ROLE_SERVER
#define TO_CLIENT VFU_ROLE_CLIENT

static int setup(void **state)
{
    (void)state;
    codec_case_limits(&lim);
    return 0;
}

static size_t done(enum vfu_role to)
{
    struct vfu_error err;
    assert_true(vfu_enc_finish(&e, &err));
    codec_expect_ok(buf, e.len, e.fds, e.nfds, &lim, to);
    return e.len;
}

static void bad(size_t len, enum vfu_role to, enum vfu_errc code, int field)
{
    codec_expect_error(buf, len, e.fds, e.nfds, &lim, to, code, e.cmd, field);
}

static void bad_fds(size_t len, const int *fds, unsigned nfds, enum vfu_role to, int field)
{
    codec_expect_error(buf, len, fds, nfds, &lim, to, VFU_E_FDS, e.cmd, field);
}

/* ------------------------------------------------------ overruns --- */

static void data_overrun(void **state)
{
    (void)state;
    static const uint8_t d[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    BEGIN(REGION_WRITE, false);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_REGION, VFU_PCI_REGION_BAR0);
    vfu_enc_data(&e, VFU_F_REGION_ACCESS_DATA_DATA, d, sizeof d);
    size_t len = done(TO_SERVER);
    const uint64_t counts[] = {sizeof d + 1, UINT32_MAX};
    for (size_t i = 0; i < 2; i++) {
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_COUNT, counts[i]);
        bad(len, TO_SERVER, VFU_E_ARRAY_OVERRUN, VFU_F_REGION_ACCESS_DATA_COUNT);
    }

    /* a u64 count near the top cannot wrap an offset */
    BEGIN(DMA_WRITE, false);
    vfu_enc_data(&e, VFU_F_DMA_ACCESS_DATA_DATA, d, sizeof d);
    len = done(TO_CLIENT);
    vfu_enc_set(&e, VFU_F_DMA_ACCESS_DATA_COUNT, UINT64_MAX);
    bad(len, TO_CLIENT, VFU_E_ARRAY_OVERRUN, VFU_F_DMA_ACCESS_DATA_COUNT);

    BEGIN(MIG_DATA_READ, true);
    vfu_enc_data(&e, VFU_F_MIG_DATA_DATA, d, sizeof d);
    len = done(TO_CLIENT);
    vfu_enc_set(&e, VFU_F_MIG_DATA_SIZE, sizeof d + 1);
    bad(len, TO_CLIENT, VFU_E_ARRAY_OVERRUN, VFU_F_MIG_DATA_SIZE);

    /* the data arm of SET_IRQS is sized by count */
    BEGIN(DEVICE_SET_IRQS, false);
    vfu_enc_set(&e, VFU_F_SET_IRQS_FLAGS, VFU_IRQ_SET_FLAGS_DATA_BOOL | VFU_IRQ_SET_FLAGS_ACTION_TRIGGER);
    vfu_enc_data(&e, VFU_F_SET_IRQS_DATA, d, 4);
    len = done(TO_SERVER);
    vfu_enc_set(&e, VFU_F_SET_IRQS_COUNT, 5);
    bad(len, TO_SERVER, VFU_E_ARRAY_OVERRUN, VFU_F_SET_IRQS_COUNT);
}

static void array_overrun(void **state)
{
    (void)state;
    BEGIN(REGION_WRITE_MULTI, false);
    for (int i = 0; i < 3; i++) vfu_enc_elem(&e, VFU_F_WRITE_MULTI_WRS);
    size_t len = done(TO_SERVER);
    const uint64_t counts[] = {4, 1ULL << 60, UINT64_MAX};
    for (size_t i = 0; i < 3; i++) {
        vfu_enc_set(&e, VFU_F_WRITE_MULTI_WR_CNT, counts[i]);
        bad(len, TO_SERVER, VFU_E_ARRAY_OVERRUN, VFU_F_WRITE_MULTI_WR_CNT);
    }

    BEGIN(DEVICE_GET_REGION_IO_FDS, true);
    vfu_enc_elem(&e, VFU_F_REGION_IO_FDS_SUB_REGIONS);
    vfu_enc_elem(&e, VFU_F_REGION_IO_FDS_SUB_REGIONS);
    vfu_enc_fd(&e, 9);
    len = done(TO_CLIENT);
    vfu_enc_set(&e, VFU_F_REGION_IO_FDS_COUNT, 3);
    bad(len, TO_CLIENT, VFU_E_ARRAY_OVERRUN, VFU_F_REGION_IO_FDS_COUNT);

    BEGIN(DEVICE_FEATURE, false);
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_REQ_FLAGS, VFU_DEVICE_FEATURE_DMA_LOGGING_START | VFU_DEVICE_FEATURE_FLAGS_SET);
    vfu_enc_struct(&e, VFU_S_DMA_LOGGING_CONTROL);
    vfu_enc_set(&e, VFU_F_DMA_LOGGING_CONTROL_PAGE_SIZE, 4096);
    vfu_enc_elem(&e, VFU_F_DMA_LOGGING_CONTROL_RANGES);
    len = done(TO_SERVER);
    vfu_enc_set(&e, VFU_F_DMA_LOGGING_CONTROL_NUM_RANGES, UINT32_MAX);
    bad(len, TO_SERVER, VFU_E_ARRAY_OVERRUN, VFU_F_DMA_LOGGING_CONTROL_NUM_RANGES);
}

static void bitmap_overrun(void **state)
{
    (void)state;
    static const uint64_t words[2] = {1, 2};
    BEGIN(DEVICE_FEATURE, true);
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_FLAGS, VFU_DEVICE_FEATURE_DMA_LOGGING_REPORT | VFU_DEVICE_FEATURE_FLAGS_GET);
    vfu_enc_struct(&e, VFU_S_DMA_LOGGING_REPORT);
    vfu_enc_set(&e, VFU_F_DMA_LOGGING_REPORT_LENGTH, 128 * 4096);
    vfu_enc_set(&e, VFU_F_DMA_LOGGING_REPORT_PAGE_SIZE, 4096);
    vfu_enc_data(&e, VFU_F_DMA_LOGGING_REPORT_BITMAP, words, sizeof words);
    size_t len = done(TO_CLIENT);
    /* one page more needs a third word; the largest length with 1-byte pages
     * needs 2^58 words, which must not wrap */
    vfu_enc_set(&e, VFU_F_DMA_LOGGING_REPORT_LENGTH, 128 * 4096 + 1);
    bad(len, TO_CLIENT, VFU_E_ARRAY_OVERRUN, VFU_F_DMA_LOGGING_REPORT_LENGTH);
    vfu_enc_set(&e, VFU_F_DMA_LOGGING_REPORT_LENGTH, UINT64_MAX);
    vfu_enc_set(&e, VFU_F_DMA_LOGGING_REPORT_PAGE_SIZE, 1);
    bad(len, TO_CLIENT, VFU_E_ARRAY_OVERRUN, VFU_F_DMA_LOGGING_REPORT_LENGTH);
    /* fewer pages than words sent is a long payload, not a short one */
    vfu_enc_set(&e, VFU_F_DMA_LOGGING_REPORT_LENGTH, 64 * 4096);
    vfu_enc_set(&e, VFU_F_DMA_LOGGING_REPORT_PAGE_SIZE, 4096);
    bad(len, TO_CLIENT, VFU_E_PAYLOAD_LONG, -1);
}

/* --------------------------------------------------------- argsz --- */

static void argsz_self(void **state)
{
    (void)state;
    BEGIN(DMA_MAP, false);
    size_t len = done(TO_SERVER);
    const uint64_t a[] = {0, VFU_SIZE_DMA_MAP - 1, VFU_SIZE_DMA_MAP + 1, UINT32_MAX};
    for (size_t i = 0; i < 4; i++) {
        vfu_enc_set(&e, VFU_F_DMA_MAP_ARGSZ, a[i]);
        bad(len, TO_SERVER, VFU_E_ARGSZ, VFU_F_DMA_MAP_ARGSZ);
    }

    BEGIN(DEVICE_SET_IRQS, false);
    vfu_enc_set(&e, VFU_F_SET_IRQS_FLAGS, VFU_IRQ_SET_FLAGS_DATA_BOOL | VFU_IRQ_SET_FLAGS_ACTION_UNMASK);
    vfu_enc_data(&e, VFU_F_SET_IRQS_DATA, NULL, 2);
    len = done(TO_SERVER);
    vfu_enc_set(&e, VFU_F_SET_IRQS_ARGSZ, VFU_SIZE_SET_IRQS);   /* without the data */
    bad(len, TO_SERVER, VFU_E_ARGSZ, VFU_F_SET_IRQS_ARGSZ);
}

static void argsz_reply_max(void **state)
{
    (void)state;
    /* the client must leave room for at least the reply's fixed part */
    BEGIN(DEVICE_GET_INFO, false);
    size_t len = done(TO_SERVER);
    vfu_enc_set(&e, VFU_F_DEVICE_INFO_REQ_ARGSZ, VFU_SIZE_DEVICE_INFO - 1);
    bad(len, TO_SERVER, VFU_E_ARGSZ, VFU_F_DEVICE_INFO_REQ_ARGSZ);
    vfu_enc_set(&e, VFU_F_DEVICE_INFO_REQ_ARGSZ, 4096);   /* more is fine */
    codec_expect_ok(buf, len, NULL, 0, &lim, TO_SERVER);

    BEGIN(DEVICE_GET_REGION_INFO, false);
    len = done(TO_SERVER);
    vfu_enc_set(&e, VFU_F_REGION_INFO_REQ_ARGSZ, VFU_SIZE_REGION_INFO - 1);
    bad(len, TO_SERVER, VFU_E_ARGSZ, VFU_F_REGION_INFO_REQ_ARGSZ);

    BEGIN(DEVICE_FEATURE, false);
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_REQ_FLAGS, VFU_DEVICE_FEATURE_MIGRATION | VFU_DEVICE_FEATURE_FLAGS_GET);
    len = done(TO_SERVER);
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_REQ_ARGSZ, 0);
    bad(len, TO_SERVER, VFU_E_ARGSZ, VFU_F_DEVICE_FEATURE_REQ_ARGSZ);
}

static void argsz_full(void **state)
{
    (void)state;
    BEGIN(DEVICE_GET_INFO, true);
    size_t len = done(TO_CLIENT);
    vfu_enc_set(&e, VFU_F_DEVICE_INFO_ARGSZ, VFU_SIZE_DEVICE_INFO + 4);
    bad(len, TO_CLIENT, VFU_E_ARGSZ, VFU_F_DEVICE_INFO_ARGSZ);

    BEGIN(DEVICE_GET_REGION_IO_FDS, true);
    vfu_enc_elem(&e, VFU_F_REGION_IO_FDS_SUB_REGIONS);
    vfu_enc_fd(&e, 9);
    len = done(TO_CLIENT);
    vfu_enc_set(&e, VFU_F_REGION_IO_FDS_ARGSZ, len - VFU_HDR_SIZE - 1);
    bad(len, TO_CLIENT, VFU_E_ARGSZ, VFU_F_REGION_IO_FDS_ARGSZ);

    BEGIN(MIG_DATA_READ, true);
    vfu_enc_data(&e, VFU_F_MIG_DATA_DATA, NULL, 16);
    len = done(TO_CLIENT);
    vfu_enc_set(&e, VFU_F_MIG_DATA_ARGSZ, VFU_SIZE_MIG_DATA);
    bad(len, TO_CLIENT, VFU_E_ARGSZ, VFU_F_MIG_DATA_ARGSZ);

    /* DEVICE_FEATURE's SET and PROBE replies repeat the request's payload,
     * argsz included: above the payload is fine, below it is not */
    BEGIN(DEVICE_FEATURE, true);
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_FLAGS, VFU_DEVICE_FEATURE_MIGRATION | VFU_DEVICE_FEATURE_FLAGS_PROBE);
    len = done(TO_CLIENT);
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_ARGSZ, 0xffffffff);
    codec_expect_ok(buf, len, e.fds, e.nfds, NULL, TO_CLIENT);
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_ARGSZ, len - VFU_HDR_SIZE - 1);
    bad(len, TO_CLIENT, VFU_E_ARGSZ, VFU_F_DEVICE_FEATURE_ARGSZ);
}

/* ----------------------------------------------------------- fds --- */

static void fds(void **state)
{
    (void)state;
    const int two[2] = {7, 8}, three[3] = {7, 8, 9};

    /* DMA_MAP: none or one */
    BEGIN(DMA_MAP, false);
    size_t len = done(TO_SERVER);
    codec_expect_ok(buf, len, two, 1, &lim, TO_SERVER);
    bad_fds(len, two, 2, TO_SERVER, -1);

    /* REGION_WRITE: none */
    BEGIN(REGION_WRITE, false);
    len = done(TO_SERVER);
    bad_fds(len, two, 1, TO_SERVER, -1);

    /* SET_IRQS: count eventfds, or none to disable them; none without DATA_EVENTFD */
    BEGIN(DEVICE_SET_IRQS, false);
    vfu_enc_set(&e, VFU_F_SET_IRQS_FLAGS, VFU_IRQ_SET_FLAGS_DATA_EVENTFD | VFU_IRQ_SET_FLAGS_ACTION_TRIGGER);
    vfu_enc_set(&e, VFU_F_SET_IRQS_COUNT, 3);
    len = done(TO_SERVER);
    codec_expect_ok(buf, len, three, 3, &lim, TO_SERVER);
    bad_fds(len, three, 2, TO_SERVER, VFU_F_SET_IRQS_COUNT);
    vfu_enc_set(&e, VFU_F_SET_IRQS_FLAGS, VFU_IRQ_SET_FLAGS_DATA_NONE | VFU_IRQ_SET_FLAGS_ACTION_TRIGGER);
    codec_expect_ok(buf, len, NULL, 0, &lim, TO_SERVER);
    bad_fds(len, three, 1, TO_SERVER, VFU_F_SET_IRQS_COUNT);

    /* REGION_INFO reply: exactly one when MMAP is set, named by its flags */
    BEGIN(DEVICE_GET_REGION_INFO, true);
    vfu_enc_set(&e, VFU_F_REGION_INFO_FLAGS, VFU_REGION_INFO_FLAGS_READ | VFU_REGION_INFO_FLAGS_MMAP);
    vfu_enc_fd(&e, 7);
    len = done(TO_CLIENT);
    codec_expect_ok(buf, len, two, 1, &lim, TO_CLIENT);
    bad_fds(len, NULL, 0, TO_CLIENT, VFU_F_REGION_INFO_FLAGS);
    bad_fds(len, two, 2, TO_CLIENT, VFU_F_REGION_INFO_FLAGS);
    vfu_enc_set(&e, VFU_F_REGION_INFO_FLAGS, VFU_REGION_INFO_FLAGS_READ);
    bad_fds(len, two, 1, TO_CLIENT, VFU_F_REGION_INFO_FLAGS);

    /* a REGION_INFO reply cut short by a small argsz may leave the fd out */
    BEGIN(DEVICE_GET_REGION_INFO, true);
    vfu_enc_set(&e, VFU_F_REGION_INFO_FLAGS, VFU_REGION_INFO_FLAGS_READ | VFU_REGION_INFO_FLAGS_MMAP);
    vfu_enc_set(&e, VFU_F_REGION_INFO_ARGSZ, VFU_SIZE_REGION_INFO + 32);
    vfu_enc_set(&e, VFU_F_REGION_INFO_CAP_OFFSET, VFU_SIZE_REGION_INFO);
    len = done(TO_CLIENT);
    codec_expect_ok(buf, len, two, 1, &lim, TO_CLIENT);
    bad_fds(len, two, 2, TO_CLIENT, VFU_F_REGION_INFO_FLAGS);
}

/* IO_FDS reply: one to count, none when the sub-regions were left out */
static void io_fds_reply_fds(void **state)
{
    (void)state;
    const int three[3] = {7, 8, 9};
    BEGIN(DEVICE_GET_REGION_IO_FDS, true);
    vfu_enc_elem(&e, VFU_F_REGION_IO_FDS_SUB_REGIONS);
    vfu_enc_elem(&e, VFU_F_REGION_IO_FDS_SUB_REGIONS);
    vfu_enc_fd(&e, 7);
    struct vfu_error err;
    assert_true(vfu_enc_finish(&e, &err));
    codec_expect_ok(buf, e.len, three, 1, &lim, TO_CLIENT);
    codec_expect_ok(buf, e.len, three, 2, &lim, TO_CLIENT);
    bad_fds(e.len, NULL, 0, TO_CLIENT, VFU_F_REGION_IO_FDS_COUNT);
    bad_fds(e.len, three, 3, TO_CLIENT, VFU_F_REGION_IO_FDS_COUNT);
}

/* ---------------------------------------------------------- xfer --- */

static void xfer_limit(void **state)
{
    (void)state;
    BEGIN(REGION_READ, false);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_COUNT, lim.max_data_xfer_size);
    size_t len = done(TO_SERVER);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_COUNT, lim.max_data_xfer_size + 1);
    bad(len, TO_SERVER, VFU_E_XFER_LIMIT, VFU_F_REGION_ACCESS_COUNT);
    /* 0 turns the check off (before negotiation, in tools) */
    struct vfu_limits off = lim;
    off.max_data_xfer_size = 0;
    codec_expect_ok(buf, len, NULL, 0, &off, TO_SERVER);

    /* data that is all there but more than negotiated */
    BEGIN(REGION_WRITE, false);
    vfu_enc_data(&e, VFU_F_REGION_ACCESS_DATA_DATA, NULL, 64);
    len = done(TO_SERVER);
    struct vfu_limits small = lim;
    small.max_data_xfer_size = 63;
    codec_expect_error(buf, len, NULL, 0, &small, TO_SERVER, VFU_E_XFER_LIMIT, VFU_CMD_REGION_WRITE,
                       VFU_F_REGION_ACCESS_DATA_COUNT);

    BEGIN(DMA_READ, false);
    vfu_enc_set(&e, VFU_F_DMA_ACCESS_COUNT, 64);
    len = done(TO_CLIENT);
    codec_expect_error(buf, len, NULL, 0, &small, TO_CLIENT, VFU_E_XFER_LIMIT, VFU_CMD_DMA_READ,
                       VFU_F_DMA_ACCESS_COUNT);

    BEGIN(DMA_WRITE, true);
    vfu_enc_set(&e, VFU_F_DMA_WRITE_ACK_COUNT, 64);
    len = done(TO_SERVER);
    codec_expect_error(buf, len, NULL, 0, &small, TO_SERVER, VFU_E_XFER_LIMIT, VFU_CMD_DMA_WRITE,
                       VFU_F_DMA_WRITE_ACK_COUNT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(data_overrun),
        cmocka_unit_test(array_overrun),
        cmocka_unit_test(bitmap_overrun),
        cmocka_unit_test(argsz_self),
        cmocka_unit_test(argsz_reply_max),
        cmocka_unit_test(argsz_full),
        cmocka_unit_test(fds),
        cmocka_unit_test(io_fds_reply_fds),
        cmocka_unit_test(xfer_limit),
    };
    return cmocka_run_group_tests_name("codec count errors", tests, setup, NULL);
}
