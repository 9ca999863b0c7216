/* The encoder's own errors: a message that does not fit the buffer
 * (ENC_SPACE) and a field that is not in the message being built
 * (ENC_FIELD).  The first error sticks: later calls change nothing and
 * vfu_enc_finish reports it, with the command and the field. */
#include "codec_cases.h"
#include "spec_tables.h"

#include <string.h>

static void expect_enc_error(struct vfu_enc *e, enum vfu_errc code, int cmd, int field)
{
    struct vfu_error err;
    assert_false(vfu_enc_finish(e, &err));
    if (err.code != code || err.cmd != cmd || err.field != field) {
        char s[256];
        vfu_error_str(&err, s, sizeof s);
        fail_msg("want %s on %d field %d, got %s (cmd %d field %d)", vfu_errc_name(code), cmd, field, s, err.cmd,
                 err.field);
    }
}

static void space(void **state)
{
    (void)state;
    uint8_t buf[CODEC_BUF];
    struct vfu_enc e;
    /* no room for the header */
    vfu_enc_begin(&e, buf, VFU_HDR_SIZE - 1, VFU_CMD_DEVICE_RESET, false, 1);
    expect_enc_error(&e, VFU_E_ENC_SPACE, VFU_CMD_DEVICE_RESET, -1);
    /* header but not the body */
    vfu_enc_begin(&e, buf, VFU_HDR_SIZE + VFU_SIZE_DMA_MAP - 1, VFU_CMD_DMA_MAP, false, 1);
    expect_enc_error(&e, VFU_E_ENC_SPACE, VFU_CMD_DMA_MAP, -1);
    vfu_enc_begin(&e, buf, VFU_HDR_SIZE + VFU_SIZE_DMA_MAP, VFU_CMD_DMA_MAP, false, 1);
    struct vfu_error err;
    assert_true(vfu_enc_finish(&e, &err));
    /* a tail that does not fit, named by its field */
    vfu_enc_begin(&e, buf, 64, VFU_CMD_REGION_WRITE, false, 1);
    vfu_enc_data(&e, VFU_F_REGION_ACCESS_DATA_DATA, NULL, 64);
    expect_enc_error(&e, VFU_E_ENC_SPACE, VFU_CMD_REGION_WRITE, VFU_F_REGION_ACCESS_DATA_DATA);
    vfu_enc_begin(&e, buf, VFU_HDR_SIZE + VFU_SIZE_WRITE_MULTI + VFU_SIZE_WRITE_MULTI_ENTRY, VFU_CMD_REGION_WRITE_MULTI,
                  false, 1);
    vfu_enc_elem(&e, VFU_F_WRITE_MULTI_WRS);
    vfu_enc_elem(&e, VFU_F_WRITE_MULTI_WRS);
    expect_enc_error(&e, VFU_E_ENC_SPACE, VFU_CMD_REGION_WRITE_MULTI, VFU_F_WRITE_MULTI_WRS);
    vfu_enc_begin(&e, buf, VFU_HDR_SIZE + VFU_SIZE_REGION_INFO + 4, VFU_CMD_DEVICE_GET_REGION_INFO, true, 1);
    vfu_enc_chain_cap(&e, VFU_F_REGION_INFO_CAPS, VFU_REGION_CAP_ID_TYPE);
    expect_enc_error(&e, VFU_E_ENC_SPACE, VFU_CMD_DEVICE_GET_REGION_INFO, VFU_F_REGION_INFO_CAPS);
}

static void wrong_field(void **state)
{
    (void)state;
    uint8_t buf[CODEC_BUF];
    struct vfu_enc e;
    /* a field of another message */
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DMA_MAP, false, 1);
    vfu_enc_set(&e, VFU_F_DMA_UNMAP_ADDRESS, 1);
    expect_enc_error(&e, VFU_E_ENC_FIELD, VFU_CMD_DMA_MAP, VFU_F_DMA_UNMAP_ADDRESS);
    /* the reply's struct while building the request */
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_GET_INFO, false, 1);
    vfu_enc_set(&e, VFU_F_DEVICE_INFO_NUM_REGIONS, 9);
    expect_enc_error(&e, VFU_E_ENC_FIELD, VFU_CMD_DEVICE_GET_INFO, VFU_F_DEVICE_INFO_NUM_REGIONS);
    /* an integer setter on a tail, a tail setter on an integer */
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_VERSION, false, 1);
    vfu_enc_set(&e, VFU_F_VERSION_DATA, 1);
    expect_enc_error(&e, VFU_E_ENC_FIELD, VFU_CMD_VERSION, VFU_F_VERSION_DATA);
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_VERSION, false, 1);
    vfu_enc_data(&e, VFU_F_VERSION_MAJOR, "x", 1);
    expect_enc_error(&e, VFU_E_ENC_FIELD, VFU_CMD_VERSION, VFU_F_VERSION_MAJOR);
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_GET_REGION_IO_FDS, true, 1);
    vfu_enc_elem(&e, VFU_F_REGION_IO_FDS_COUNT);
    expect_enc_error(&e, VFU_E_ENC_FIELD, VFU_CMD_DEVICE_GET_REGION_IO_FDS, VFU_F_REGION_IO_FDS_COUNT);
    /* an element field before any element */
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_REGION_WRITE_MULTI, false, 1);
    vfu_enc_set(&e, VFU_F_WRITE_MULTI_ENTRY_OFFSET, 1);
    expect_enc_error(&e, VFU_E_ENC_FIELD, VFU_CMD_REGION_WRITE_MULTI, VFU_F_WRITE_MULTI_ENTRY_OFFSET);
    /* more bytes than a fixed byte field holds */
    uint8_t nine[9] = {0};
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_REGION_WRITE_MULTI, false, 1);
    vfu_enc_elem(&e, VFU_F_WRITE_MULTI_WRS);
    vfu_enc_bytes(&e, VFU_F_WRITE_MULTI_ENTRY_DATA, nine, sizeof nine);
    expect_enc_error(&e, VFU_E_ENC_FIELD, VFU_CMD_REGION_WRITE_MULTI, VFU_F_WRITE_MULTI_ENTRY_DATA);
    /* a capability the chain does not list, and a chain on the wrong struct */
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_GET_REGION_INFO, true, 1);
    vfu_enc_chain_cap(&e, VFU_F_REGION_INFO_CAPS, 3);
    expect_enc_error(&e, VFU_E_ENC_FIELD, VFU_CMD_DEVICE_GET_REGION_INFO, VFU_F_REGION_CAP_HEADER_ID);
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_GET_REGION_INFO, false, 1);
    vfu_enc_chain_cap(&e, VFU_F_REGION_INFO_CAPS, VFU_REGION_CAP_ID_TYPE);
    expect_enc_error(&e, VFU_E_ENC_FIELD, VFU_CMD_DEVICE_GET_REGION_INFO, VFU_F_REGION_INFO_CAPS);
    /* ids that are no field or struct at all */
    const int ids[] = {-1, VFU_F__COUNT, 0x7fff};
    for (int i = 0; i < 3; i++) {
        vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DMA_MAP, false, 1);
        vfu_enc_set(&e, ids[i], 1);
        expect_enc_error(&e, VFU_E_ENC_FIELD, VFU_CMD_DMA_MAP, ids[i]);
        vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DMA_MAP, false, 1);
        assert_null(vfu_enc_data(&e, ids[i], "x", 1));
        expect_enc_error(&e, VFU_E_ENC_FIELD, VFU_CMD_DMA_MAP, ids[i]);
        vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DMA_MAP, false, 1);
        vfu_enc_elem(&e, ids[i]);
        expect_enc_error(&e, VFU_E_ENC_FIELD, VFU_CMD_DMA_MAP, ids[i]);
        vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DMA_MAP, false, 1);
        vfu_enc_chain_cap(&e, ids[i], 1);
        expect_enc_error(&e, VFU_E_ENC_FIELD, VFU_CMD_DMA_MAP, ids[i]);
    }
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_FEATURE, false, 1);
    vfu_enc_struct(&e, VFU_S__COUNT);
    expect_enc_error(&e, VFU_E_ENC_FIELD, VFU_CMD_DEVICE_FEATURE, -1);
}

static void sticky(void **state)
{
    (void)state;
    uint8_t buf[CODEC_BUF];
    memset(buf, 0xaa, sizeof buf);
    struct vfu_enc e;
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DMA_MAP, false, 1);
    vfu_enc_set(&e, VFU_F_DMA_MAP_SIZE, 0x1000);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_COUNT, 1);   /* first error */
    size_t len = e.len;
    vfu_enc_set(&e, VFU_F_DMA_MAP_ADDRESS, 0x2000);   /* ignored */
    vfu_enc_data(&e, VFU_F_VERSION_DATA, "x", 1);     /* ignored, not a second error */
    vfu_enc_fd(&e, 3);
    assert_int_equal(e.len, len);
    assert_int_equal(e.nfds, 0);
    expect_enc_error(&e, VFU_E_ENC_FIELD, VFU_CMD_DMA_MAP, VFU_F_REGION_ACCESS_COUNT);
    const struct vfu_field_desc *f = &vfu_spec.fields[VFU_F_DMA_MAP_ADDRESS];
    assert_int_equal(vfu_read_uint(buf + VFU_HDR_SIZE + f->offset, f->width), 0);
    /* vfu_enc_begin starts afresh */
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DMA_MAP, false, 1);
    struct vfu_error err;
    assert_true(vfu_enc_finish(&e, &err));
    assert_int_equal(err.code, VFU_OK);
}

static void too_many_fds(void **state)
{
    (void)state;
    uint8_t buf[CODEC_BUF];
    struct vfu_enc e;
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_SET_IRQS, false, 1);
    for (int i = 0; i < VFU_MAX_FDS; i++) vfu_enc_fd(&e, i);
    assert_int_equal(e.nfds, VFU_MAX_FDS);
    vfu_enc_fd(&e, VFU_MAX_FDS);
    assert_int_equal(e.nfds, VFU_MAX_FDS);
    expect_enc_error(&e, VFU_E_FDS, VFU_CMD_DEVICE_SET_IRQS, -1);
}

/* finish fills argsz by the command's rule and counts from what was
 * appended, but leaves alone a value the caller set (to craft bad ones) */
static void finish_fills(void **state)
{
    (void)state;
    uint8_t buf[CODEC_BUF];
    struct vfu_enc e;
    struct vfu_error err;
    struct vfu_msg m;
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_REGION_WRITE, false, 1);
    vfu_enc_data(&e, VFU_F_REGION_ACCESS_DATA_DATA, NULL, 6);
    vfu_enc_data(&e, VFU_F_REGION_ACCESS_DATA_DATA, NULL, 2);   /* appends */
    assert_true(vfu_enc_finish(&e, &err));
    assert_int_equal(e.len, VFU_HDR_SIZE + VFU_SIZE_REGION_ACCESS_DATA + 8);
    assert_true(vfu_decode(&m, buf, e.len, NULL, 0, NULL, VFU_ROLE_SERVER, &err));
    assert_int_equal(vfu_get(&m, VFU_F_REGION_ACCESS_DATA_COUNT), 8);
    assert_int_equal(vfu_get(&m, VFU_F_HEADER_MSG_SIZE), e.len);

    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_REGION_WRITE, false, 1);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_COUNT, 9);
    vfu_enc_data(&e, VFU_F_REGION_ACCESS_DATA_DATA, NULL, 8);
    assert_true(vfu_enc_finish(&e, &err));
    codec_expect_error(buf, e.len, NULL, 0, NULL, VFU_ROLE_SERVER, VFU_E_ARRAY_OVERRUN, VFU_CMD_REGION_WRITE,
                       VFU_F_REGION_ACCESS_DATA_COUNT);

    /* reply-max: the reply's size; self and full: the payload */
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_GET_IRQ_INFO, false, 1);
    assert_true(vfu_enc_finish(&e, &err));
    assert_true(vfu_decode(&m, buf, e.len, NULL, 0, NULL, VFU_ROLE_SERVER, &err));
    assert_int_equal(vfu_get(&m, VFU_F_IRQ_INFO_REQ_ARGSZ), VFU_SIZE_IRQ_INFO);
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_GET_REGION_IO_FDS, true, 1);
    for (int i = 0; i < 3; i++) vfu_enc_elem(&e, VFU_F_REGION_IO_FDS_SUB_REGIONS);
    vfu_enc_fd(&e, 5);
    assert_true(vfu_enc_finish(&e, &err));
    assert_true(vfu_decode(&m, buf, e.len, e.fds, e.nfds, NULL, VFU_ROLE_CLIENT, &err));
    assert_int_equal(vfu_get(&m, VFU_F_REGION_IO_FDS_ARGSZ), e.len - VFU_HDR_SIZE);
    assert_int_equal(vfu_get(&m, VFU_F_REGION_IO_FDS_COUNT), 3);
}

/* Accessors asked for what a message does not hold answer 0 / NULL. */
static void accessors_out_of_range(void **state)
{
    (void)state;
    uint8_t buf[CODEC_BUF];
    struct vfu_enc e;
    struct vfu_error err;
    struct vfu_msg m;
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_REGION_WRITE_MULTI, false, 1);
    vfu_enc_elem(&e, VFU_F_WRITE_MULTI_WRS);
    vfu_enc_set(&e, VFU_F_WRITE_MULTI_ENTRY_OFFSET, 0x77);
    assert_true(vfu_enc_finish(&e, &err));
    assert_true(vfu_decode(&m, buf, e.len, NULL, 0, NULL, VFU_ROLE_SERVER, &err));
    assert_int_equal(vfu_elem_get(&m, VFU_F_WRITE_MULTI_WRS, 0, VFU_F_WRITE_MULTI_ENTRY_OFFSET), 0x77);
    const int ids[] = {-1, VFU_F__COUNT, 0x7fff};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(vfu_get(&m, ids[i]), 0);
        assert_false(vfu_has(&m, ids[i]));
        assert_int_equal(vfu_elem_get(&m, VFU_F_WRITE_MULTI_WRS, 0, ids[i]), 0);
        assert_int_equal(vfu_elem_get(&m, ids[i], 0, VFU_F_WRITE_MULTI_ENTRY_OFFSET), 0);
        assert_int_equal(vfu_count(&m, ids[i]), 0);
        uint32_t n = 1;
        assert_null(vfu_data(&m, ids[i], &n));
        assert_int_equal(n, 0);
        assert_int_equal(vfu_part_get(&m, &m.parts[0], ids[i]), 0);
    }
    assert_int_equal(vfu_elem_get(&m, VFU_F_WRITE_MULTI_WRS, 1, VFU_F_WRITE_MULTI_ENTRY_OFFSET), 0);
    assert_int_equal(vfu_get(&m, VFU_F_DMA_MAP_SIZE), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(space),
        cmocka_unit_test(wrong_field),
        cmocka_unit_test(sticky),
        cmocka_unit_test(too_many_fds),
        cmocka_unit_test(finish_fills),
        cmocka_unit_test(accessors_out_of_range),
    };
    return cmocka_run_group_tests_name("codec encoder", tests, NULL, NULL);
}
