/* VFU_DEC_ZERO_PADDING: what the codec calls padding (zero bytes after a
 * fixed structure, or after a header-only command), what it still refuses
 * under the option (non-zero bytes, bytes after counted data or an array),
 * and that the strict decoder is unchanged. */
#include "codec_cases.h"

static uint8_t buf[CODEC_BUF];
static struct vfu_enc e;

#define BEGIN(cmd, reply) vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_##cmd, reply, 7)

static size_t done(void)
{
    struct vfu_error err;
    assert_true(vfu_enc_finish(&e, &err));
    return e.len;
}

static bool lenient(struct vfu_msg *m, size_t len, enum vfu_role to, struct vfu_error *err)
{
    return vfu_decode_opt(m, buf, len, e.fds, e.nfds, NULL, to, VFU_DEC_ZERO_PADDING, err);
}

/* the sample client's DEVICE_GET_REGION_INFO: 32-byte request, argsz 64,
 * sent as argsz bytes */
static void region_info_padded_to_argsz(void **state)
{
    (void)state;
    BEGIN(DEVICE_GET_REGION_INFO, false);
    vfu_enc_set(&e, VFU_F_REGION_INFO_REQ_ARGSZ, 64);
    vfu_enc_set(&e, VFU_F_REGION_INFO_REQ_INDEX, 2);
    size_t len = codec_extend(buf, done(), 64 - VFU_SIZE_REGION_INFO_REQ);
    struct vfu_msg m;
    struct vfu_error err;
    /* strict: refused as before */
    codec_expect_error(buf, len, NULL, 0, NULL, VFU_ROLE_SERVER, VFU_E_PAYLOAD_LONG,
                       VFU_CMD_DEVICE_GET_REGION_INFO, -1);
    assert_true(lenient(&m, len, VFU_ROLE_SERVER, &err));
    assert_int_equal(m.padding, 64 - VFU_SIZE_REGION_INFO_REQ);
    assert_int_equal(m.payload_len, 64);
    assert_int_equal(vfu_get(&m, VFU_F_REGION_INFO_REQ_INDEX), 2);
    assert_int_equal(vfu_get(&m, VFU_F_REGION_INFO_REQ_ARGSZ), 64);

    /* one non-zero byte anywhere in the padding: too long, as strict */
    for (size_t at = VFU_HDR_SIZE + VFU_SIZE_REGION_INFO_REQ; at < len; at += 7) {
        buf[at] = 0x01;
        assert_false(lenient(&m, len, VFU_ROLE_SERVER, &err));
        assert_int_equal(err.code, VFU_E_PAYLOAD_LONG);
        buf[at] = 0;
    }
}

/* an unpadded message decodes with padding 0 under the option */
static void no_padding_is_zero(void **state)
{
    (void)state;
    BEGIN(DEVICE_GET_REGION_INFO, false);
    vfu_enc_set(&e, VFU_F_REGION_INFO_REQ_ARGSZ, 64);
    size_t len = done();
    struct vfu_msg m;
    struct vfu_error err;
    assert_true(lenient(&m, len, VFU_ROLE_SERVER, &err));
    assert_int_equal(m.padding, 0);
}

/* argsz that must equal the payload may count the padding or not; any
 * other value is still wrong */
static void argsz_self_with_padding(void **state)
{
    (void)state;
    struct vfu_msg m;
    struct vfu_error err;
    BEGIN(DMA_MAP, false);
    vfu_enc_set(&e, VFU_F_DMA_MAP_ADDRESS, 0x10000);
    vfu_enc_set(&e, VFU_F_DMA_MAP_SIZE, 0x1000);
    size_t base = done();
    size_t len = codec_extend(buf, base, 8);
    /* argsz of the structure alone */
    assert_true(lenient(&m, len, VFU_ROLE_SERVER, &err));
    assert_int_equal(m.padding, 8);
    /* argsz of the padded payload */
    vfu_enc_set(&e, VFU_F_DMA_MAP_ARGSZ, len - VFU_HDR_SIZE);
    assert_true(lenient(&m, len, VFU_ROLE_SERVER, &err));
    /* neither */
    vfu_enc_set(&e, VFU_F_DMA_MAP_ARGSZ, len - VFU_HDR_SIZE - 4);
    assert_false(lenient(&m, len, VFU_ROLE_SERVER, &err));
    assert_int_equal(err.code, VFU_E_ARGSZ);
}

/* a header-only command with zero bytes after the header */
static void header_only_command(void **state)
{
    (void)state;
    BEGIN(DEVICE_RESET, false);
    size_t len = codec_extend(buf, done(), 4);
    struct vfu_msg m;
    struct vfu_error err;
    codec_expect_error(buf, len, NULL, 0, NULL, VFU_ROLE_SERVER, VFU_E_PAYLOAD_LONG,
                       VFU_CMD_DEVICE_RESET, -1);
    assert_true(lenient(&m, len, VFU_ROLE_SERVER, &err));
    assert_int_equal(m.padding, 4);
    buf[len - 1] = 0x80;
    assert_false(lenient(&m, len, VFU_ROLE_SERVER, &err));
    assert_int_equal(err.code, VFU_E_PAYLOAD_LONG);
}

/* after counted data or an array, trailing bytes are a count that
 * disagrees with the payload, zero or not */
static void counted_tails_are_not_padded(void **state)
{
    (void)state;
    struct vfu_msg m;
    struct vfu_error err;
    BEGIN(REGION_WRITE, false);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_OFFSET, 0x100);
    vfu_enc_data(&e, VFU_F_REGION_ACCESS_DATA_DATA, "\1\2\3\4", 4);
    size_t len = codec_extend(buf, done(), 4);
    assert_false(lenient(&m, len, VFU_ROLE_SERVER, &err));
    assert_int_equal(err.code, VFU_E_PAYLOAD_LONG);

    BEGIN(REGION_WRITE_MULTI, false);
    vfu_enc_elem(&e, VFU_F_WRITE_MULTI_WRS);
    vfu_enc_set(&e, VFU_F_WRITE_MULTI_ENTRY_COUNT, 4);
    len = codec_extend(buf, done(), 8);
    assert_false(lenient(&m, len, VFU_ROLE_SERVER, &err));
    assert_int_equal(err.code, VFU_E_PAYLOAD_LONG);
}

/* the option changes nothing else: every valid case decodes the same, with
 * padding 0 */
static void cases_unchanged(void **state)
{
    (void)state;
    struct vfu_limits lim;
    codec_case_limits(&lim);
    for (size_t i = 0; i < codec_ncases; i++) {
        const struct codec_case *c = &codec_cases[i];
        int fds[VFU_MAX_FDS];
        unsigned nfds;
        size_t len = codec_case_encode(c, buf, sizeof buf, fds, &nfds);
        struct vfu_msg m;
        struct vfu_error err;
        if (!vfu_decode_opt(&m, buf, len, fds, nfds, &lim, codec_case_receiver(c), VFU_DEC_ZERO_PADDING, &err))
            fail_msg("%s: %s", c->name, vfu_errc_name(err.code));
        assert_int_equal(m.padding, 0);
        c->check(&m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(region_info_padded_to_argsz),
        cmocka_unit_test(no_padding_is_zero),
        cmocka_unit_test(argsz_self_with_padding),
        cmocka_unit_test(header_only_command),
        cmocka_unit_test(counted_tails_are_not_padded),
        cmocka_unit_test(cases_unchanged),
    };
    return cmocka_run_group_tests_name("codec zero padding", tests, NULL, NULL);
}
