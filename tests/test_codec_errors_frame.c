/* Framing and header errors: each rule of the header, broken on purpose by
 * one crafted message, gives its own error code naming the command and the
 * header field at fault. */
#include "codec_cases.h"

#include <errno.h>
#include <string.h>

/* a valid DMA_MAP request (client -> server) */
static size_t dma_map(struct vfu_enc *e, uint8_t *buf, size_t cap)
{
    vfu_enc_begin(e, buf, cap, VFU_CMD_DMA_MAP, false, 1);
    vfu_enc_set(e, VFU_F_DMA_MAP_FLAGS, VFU_DMA_MAP_FLAGS_READ);
    vfu_enc_set(e, VFU_F_DMA_MAP_ADDRESS, 0x10000);
    vfu_enc_set(e, VFU_F_DMA_MAP_SIZE, 0x1000);
    struct vfu_error err;
    assert_true(vfu_enc_finish(e, &err));
    struct vfu_msg m;
    assert_true(vfu_decode(&m, buf, e->len, NULL, 0, NULL, VFU_ROLE_SERVER, &err));
    return e->len;
}

static void hdr_short(void **state)
{
    (void)state;
    uint8_t buf[64];
    struct vfu_enc e;
    dma_map(&e, buf, sizeof buf);
    for (size_t n = 0; n < VFU_HDR_SIZE; n++)
        codec_expect_error(buf, n, NULL, 0, NULL, VFU_ROLE_SERVER, VFU_E_HDR_SHORT, -1, -1);
    struct vfu_hdr h;
    struct vfu_error err;
    assert_false(vfu_hdr_decode(buf, VFU_HDR_SIZE - 1, &h, &err));
    assert_int_equal(err.code, VFU_E_HDR_SHORT);
    assert_int_equal(err.got, VFU_HDR_SIZE - 1);
    assert_int_equal(err.want, VFU_HDR_SIZE);
}

static void size_below_hdr(void **state)
{
    (void)state;
    uint8_t buf[64];
    struct vfu_enc e;
    size_t len = dma_map(&e, buf, sizeof buf);
    for (uint64_t sz = 0; sz < VFU_HDR_SIZE; sz++) {
        codec_patch_size(buf, sz);
        codec_expect_error(buf, len, NULL, 0, NULL, VFU_ROLE_SERVER, VFU_E_SIZE_BELOW_HDR, VFU_CMD_DMA_MAP,
                           VFU_F_HEADER_MSG_SIZE);
        /* framing refuses it before reading the rest */
        uint32_t ms;
        struct vfu_error err;
        assert_false(vfu_frame_size(buf, NULL, &ms, &err));
        assert_int_equal(err.code, VFU_E_SIZE_BELOW_HDR);
        assert_int_equal(err.field, VFU_F_HEADER_MSG_SIZE);
    }
}

static void size_limit(void **state)
{
    (void)state;
    uint8_t buf[64];
    struct vfu_enc e;
    size_t len = dma_map(&e, buf, sizeof buf);
    struct vfu_limits lim;
    vfu_limits_default(&lim);
    lim.max_msg_size = (uint32_t)len - 1;
    codec_expect_error(buf, len, NULL, 0, &lim, VFU_ROLE_SERVER, VFU_E_SIZE_LIMIT, VFU_CMD_DMA_MAP,
                       VFU_F_HEADER_MSG_SIZE);
    lim.max_msg_size = (uint32_t)len;
    struct vfu_msg m;
    struct vfu_error err;
    assert_true(vfu_decode(&m, buf, len, NULL, 0, &lim, VFU_ROLE_SERVER, &err));

    /* framing checks the announced size before anything is read or allocated */
    codec_patch_size(buf, UINT32_MAX);
    uint32_t ms;
    assert_false(vfu_frame_size(buf, &lim, &ms, &err));
    assert_int_equal(err.code, VFU_E_SIZE_LIMIT);
    assert_int_equal(err.cmd, VFU_CMD_DMA_MAP);
    assert_int_equal(err.got, UINT32_MAX);
    assert_int_equal(err.want, len);
    vfu_limits_default(&lim);
    codec_expect_error(buf, len, NULL, 0, &lim, VFU_ROLE_SERVER, VFU_E_SIZE_LIMIT, VFU_CMD_DMA_MAP,
                       VFU_F_HEADER_MSG_SIZE);
}

static void size_mismatch(void **state)
{
    (void)state;
    uint8_t buf[64];
    struct vfu_enc e;
    size_t len = dma_map(&e, buf, sizeof buf);
    codec_patch_size(buf, len + 1);
    codec_expect_error(buf, len, NULL, 0, NULL, VFU_ROLE_SERVER, VFU_E_SIZE_MISMATCH, VFU_CMD_DMA_MAP,
                       VFU_F_HEADER_MSG_SIZE);
    codec_patch_size(buf, len);
    codec_expect_error(buf, len + 8, NULL, 0, NULL, VFU_ROLE_SERVER, VFU_E_SIZE_MISMATCH, VFU_CMD_DMA_MAP,
                       VFU_F_HEADER_MSG_SIZE);
}

static void unknown_cmd(void **state)
{
    (void)state;
    /* 14 was DIRTY_PAGES, gone from the protocol; 19 and up are not assigned */
    const unsigned bad[] = {0, 14, VFU_CMD_MAX + 1, 0xffff};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t buf[VFU_HDR_SIZE];
        struct vfu_enc e;
        struct vfu_error err;
        vfu_enc_begin(&e, buf, sizeof buf, (uint16_t)bad[i], false, 1);
        assert_true(vfu_enc_finish(&e, &err));
        codec_expect_error(buf, e.len, NULL, 0, NULL, VFU_ROLE_ANY, VFU_E_UNKNOWN_CMD, (int)bad[i],
                           VFU_F_HEADER_COMMAND);
    }
    /* the error reply to an unknown command still decodes: header only */
    uint8_t rbuf[VFU_HDR_SIZE + 4];
    struct vfu_enc r;
    struct vfu_error err;
    struct vfu_msg m;
    vfu_enc_error(&r, rbuf, sizeof rbuf, 0x7777, 9, 95 /* EOPNOTSUPP */);
    assert_true(vfu_enc_finish(&r, &err));
    assert_true(vfu_decode(&m, rbuf, r.len, NULL, 0, NULL, VFU_ROLE_CLIENT, &err));
    assert_true(m.is_error);
    assert_null(m.cmd);
    assert_int_equal(m.hdr.error, 95);
    /* but only as a bare header */
    vfu_write_uint(rbuf + 4, 4, VFU_HDR_SIZE + 4);
    assert_false(vfu_decode(&m, rbuf, VFU_HDR_SIZE + 4, NULL, 0, NULL, VFU_ROLE_CLIENT, &err));
    assert_int_equal(err.code, VFU_E_ERROR_PAYLOAD);
}

static void direction(void **state)
{
    (void)state;
    uint8_t buf[64];
    struct vfu_enc e;
    size_t len = dma_map(&e, buf, sizeof buf);
    codec_expect_error(buf, len, NULL, 0, NULL, VFU_ROLE_CLIENT, VFU_E_DIRECTION, VFU_CMD_DMA_MAP,
                       VFU_F_HEADER_COMMAND);

    /* DMA_READ goes the other way: the server asks, the client replies */
    struct vfu_error err;
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DMA_READ, false, 2);
    vfu_enc_set(&e, VFU_F_DMA_ACCESS_COUNT, 8);
    assert_true(vfu_enc_finish(&e, &err));
    codec_expect_error(buf, e.len, NULL, 0, NULL, VFU_ROLE_SERVER, VFU_E_DIRECTION, VFU_CMD_DMA_READ,
                       VFU_F_HEADER_COMMAND);
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DMA_READ, true, 2);
    vfu_enc_data(&e, VFU_F_DMA_ACCESS_DATA_DATA, NULL, 8);
    assert_true(vfu_enc_finish(&e, &err));
    codec_expect_error(buf, e.len, NULL, 0, NULL, VFU_ROLE_CLIENT, VFU_E_DIRECTION, VFU_CMD_DMA_READ,
                       VFU_F_HEADER_COMMAND);
    struct vfu_msg m;
    assert_true(vfu_decode(&m, buf, e.len, NULL, 0, NULL, VFU_ROLE_SERVER, &err));
}

static void msg_type(void **state)
{
    (void)state;
    uint8_t buf[64];
    struct vfu_enc e;
    size_t len = dma_map(&e, buf, sizeof buf);
    for (uint64_t t = VFU_MSG_TYPE_REPLY + 1; t <= VFU_HDR_FLAGS_TYPE_MASK; t++) {
        vfu_enc_hdr(&e, VFU_F_HEADER_FLAGS, t << VFU_HDR_FLAGS_TYPE_SHIFT);
        codec_expect_error(buf, len, NULL, 0, NULL, VFU_ROLE_ANY, VFU_E_MSG_TYPE, VFU_CMD_DMA_MAP,
                           VFU_F_HEADER_FLAGS);
    }
}

static void reserved_header_flags(void **state)
{
    (void)state;
    uint8_t buf[64];
    struct vfu_enc e;
    size_t len = dma_map(&e, buf, sizeof buf);
    /* every bit the header does not define */
    for (int b = 0; b < 32; b++) {
        uint64_t bit = 1ULL << b;
        if (bit & VFU_HDR_FLAGS_KNOWN) continue;
        vfu_enc_hdr(&e, VFU_F_HEADER_FLAGS, VFU_MSG_TYPE_COMMAND | bit);
        codec_expect_error(buf, len, NULL, 0, NULL, VFU_ROLE_SERVER, VFU_E_RESERVED_FLAGS, VFU_CMD_DMA_MAP,
                           VFU_F_HEADER_FLAGS);
    }
    /* Error means nothing in a command, No_reply nothing in a reply */
    vfu_enc_hdr(&e, VFU_F_HEADER_FLAGS, VFU_MSG_TYPE_COMMAND | VFU_HDR_FLAGS_ERROR);
    codec_expect_error(buf, len, NULL, 0, NULL, VFU_ROLE_SERVER, VFU_E_RESERVED_FLAGS, VFU_CMD_DMA_MAP,
                       VFU_F_HEADER_FLAGS);
    struct vfu_error err;
    uint8_t r[VFU_HDR_SIZE];
    vfu_enc_begin(&e, r, sizeof r, VFU_CMD_DMA_MAP, true, 1);
    assert_true(vfu_enc_finish(&e, &err));
    vfu_enc_hdr(&e, VFU_F_HEADER_FLAGS, VFU_MSG_TYPE_REPLY | VFU_HDR_FLAGS_NO_REPLY);
    codec_expect_error(r, e.len, NULL, 0, NULL, VFU_ROLE_CLIENT, VFU_E_RESERVED_FLAGS, VFU_CMD_DMA_MAP,
                       VFU_F_HEADER_FLAGS);
    /* while No_reply on a command is allowed */
    dma_map(&e, buf, sizeof buf);
    vfu_enc_hdr(&e, VFU_F_HEADER_FLAGS, VFU_MSG_TYPE_COMMAND | VFU_HDR_FLAGS_NO_REPLY);
    struct vfu_msg m;
    assert_true(vfu_decode(&m, buf, len, NULL, 0, NULL, VFU_ROLE_SERVER, &err));
}

static void error_field_in_command(void **state)
{
    (void)state;
    uint8_t buf[64];
    struct vfu_enc e;
    size_t len = dma_map(&e, buf, sizeof buf);
    vfu_enc_hdr(&e, VFU_F_HEADER_ERROR, EINVAL);
    codec_expect_error(buf, len, NULL, 0, NULL, VFU_ROLE_SERVER, VFU_E_MBZ, VFU_CMD_DMA_MAP, VFU_F_HEADER_ERROR);
}

static void error_payload(void **state)
{
    (void)state;
    uint8_t buf[VFU_HDR_SIZE + 8] = {0};
    struct vfu_enc e;
    vfu_enc_error(&e, buf, sizeof buf, VFU_CMD_DEVICE_GET_INFO, 5, EPERM);
    struct vfu_error err;
    assert_true(vfu_enc_finish(&e, &err));
    /* an error reply is the header and nothing else */
    codec_patch_size(buf, sizeof buf);
    codec_expect_error(buf, sizeof buf, NULL, 0, NULL, VFU_ROLE_CLIENT, VFU_E_ERROR_PAYLOAD,
                       VFU_CMD_DEVICE_GET_INFO, -1);
    /* and carries no fd */
    codec_patch_size(buf, VFU_HDR_SIZE);
    int fd = 3;
    codec_expect_error(buf, VFU_HDR_SIZE, &fd, 1, NULL, VFU_ROLE_CLIENT, VFU_E_FDS, VFU_CMD_DEVICE_GET_INFO, -1);
}

static void fds_over_limit(void **state)
{
    (void)state;
    uint8_t buf[64];
    struct vfu_enc e;
    size_t len = dma_map(&e, buf, sizeof buf);
    int fds[VFU_DEFAULT_MAX_MSG_FDS + 1] = {0};
    /* more fds than negotiated, whatever the command allows */
    codec_expect_error(buf, len, fds, VFU_DEFAULT_MAX_MSG_FDS + 1, NULL, VFU_ROLE_SERVER, VFU_E_FDS,
                       VFU_CMD_DMA_MAP, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hdr_short),
        cmocka_unit_test(size_below_hdr),
        cmocka_unit_test(size_limit),
        cmocka_unit_test(size_mismatch),
        cmocka_unit_test(unknown_cmd),
        cmocka_unit_test(direction),
        cmocka_unit_test(msg_type),
        cmocka_unit_test(reserved_header_flags),
        cmocka_unit_test(error_field_in_command),
        cmocka_unit_test(error_payload),
        cmocka_unit_test(fds_over_limit),
    };
    return cmocka_run_group_tests_name("codec frame errors", tests, NULL, NULL);
}
