/* The client judge (harness/cjudge.c) fed messages directly: what it learns
 * from the server's replies, and which check each bad client message
 * breaks, with no client or server process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "cjudge.h"

struct fix {
    struct cj_tally t;
    struct cj_conn j;
    uint8_t buf[512];
    struct vfu_enc e;
    uint16_t id;
};

static int setup(void **state)
{
    static struct fix f;
    memset(&f, 0, sizeof f);
    vfh_cj_conn_init(&f.j, &f.t, "test", 3000);
    *state = &f;
    return 0;
}

static void begin(struct fix *f, uint16_t cmd, bool reply, uint16_t id)
{
    vfu_enc_begin(&f->e, f->buf, sizeof f->buf, cmd, reply, id);
}

static void client(struct fix *f, unsigned nfds)
{
    struct vfu_error err;
    assert_true(vfu_enc_finish(&f->e, &err));
    vfh_cj_client_msg(&f->j, f->e.buf, f->e.len, nfds);
}

static void server(struct fix *f)
{
    struct vfu_error err;
    assert_true(vfu_enc_finish(&f->e, &err));
    vfh_cj_server_msg(&f->j, f->e.buf, f->e.len);
}

/* VERSION both ways, with the server's limits; then DEVICE_GET_INFO */
static void open_session(struct fix *f, const char *srv_json)
{
    static const char cj[] = "{\"capabilities\":{\"max_msg_fds\":8}}";
    begin(f, VFU_CMD_VERSION, false, 1);
    vfu_enc_set(&f->e, VFU_F_VERSION_MAJOR, 0);
    vfu_enc_set(&f->e, VFU_F_VERSION_MINOR, 1);
    vfu_enc_data(&f->e, VFU_F_VERSION_DATA, cj, sizeof cj);
    client(f, 0);
    begin(f, VFU_CMD_VERSION, true, 1);
    vfu_enc_set(&f->e, VFU_F_VERSION_MAJOR, 0);
    vfu_enc_set(&f->e, VFU_F_VERSION_MINOR, 1);
    vfu_enc_data(&f->e, VFU_F_VERSION_DATA, srv_json, strlen(srv_json) + 1);
    server(f);
    begin(f, VFU_CMD_DEVICE_GET_INFO, false, 2);
    client(f, 0);
    begin(f, VFU_CMD_DEVICE_GET_INFO, true, 2);
    vfu_enc_set(&f->e, VFU_F_DEVICE_INFO_NUM_REGIONS, 9);
    vfu_enc_set(&f->e, VFU_F_DEVICE_INFO_NUM_IRQS, 5);
    server(f);
}

static unsigned long broken(struct fix *f, enum cj_check c) { return f->t.broken[c]; }

static unsigned long total_broken(struct fix *f)
{
    unsigned long n = 0;
    for (int c = 0; c < CJ__COUNT; c++) n += f->t.broken[c];
    return n;
}

static void test_clean_session_breaks_nothing(void **state)
{
    struct fix *f = *state;
    open_session(f, "{\"capabilities\":{\"max_msg_fds\":8}}");
    assert_int_equal(total_broken(f), 0);
    assert_int_equal(f->t.applied[CJ_VERSION_FIRST], 1);
    assert_true(f->t.applied[CJ_LAYOUT] >= 2);
}

static void test_first_message_not_version(void **state)
{
    struct fix *f = *state;
    begin(f, VFU_CMD_DEVICE_GET_INFO, false, 1);
    client(f, 0);
    assert_int_equal(broken(f, CJ_VERSION_FIRST), 1);
    assert_non_null(strstr(f->t.first[CJ_VERSION_FIRST], "DEVICE_GET_INFO"));
}

static void test_must_be_zero_and_padding(void **state)
{
    struct fix *f = *state;
    open_session(f, "{}");
    begin(f, VFU_CMD_DEVICE_GET_INFO, false, 3);
    vfu_enc_set(&f->e, VFU_F_DEVICE_INFO_REQ_NUM_IRQS, 1);
    client(f, 0);
    assert_int_equal(broken(f, CJ_MBZ), 1);
    /* 8 zero bytes past a REGION_INFO request: padding, judged further */
    begin(f, VFU_CMD_DEVICE_GET_REGION_INFO, false, 4);
    vfu_enc_set(&f->e, VFU_F_REGION_INFO_REQ_INDEX, 12);
    struct vfu_error err;
    assert_true(vfu_enc_finish(&f->e, &err));
    memset(f->buf + f->e.len, 0, 8);
    vfu_enc_hdr(&f->e, VFU_F_HEADER_MSG_SIZE, f->e.len + 8);
    vfh_cj_client_msg(&f->j, f->buf, f->e.len + 8, 0);
    assert_int_equal(broken(f, CJ_PADDING), 1);
    assert_int_equal(broken(f, CJ_LAYOUT), 0);
    /* and still judged: region 12 of 9 */
    assert_int_equal(broken(f, CJ_REGION_INDEX), 1);
}

static void test_xfer_and_fds_limits_follow_the_server(void **state)
{
    struct fix *f = *state;
    open_session(f, "{\"capabilities\":{\"max_msg_fds\":1,\"max_data_xfer_size\":64}}");
    begin(f, VFU_CMD_REGION_READ, false, 3);
    vfu_enc_set(&f->e, VFU_F_REGION_ACCESS_COUNT, 64);
    client(f, 0);
    assert_int_equal(broken(f, CJ_XFER_MAX), 0);
    begin(f, VFU_CMD_REGION_READ, false, 4);
    vfu_enc_set(&f->e, VFU_F_REGION_ACCESS_COUNT, 65);
    client(f, 0);
    assert_int_equal(broken(f, CJ_XFER_MAX), 1);
    begin(f, VFU_CMD_DEVICE_GET_INFO, false, 5);
    client(f, 2);
    assert_int_equal(broken(f, CJ_FDS_MAX), 1);
}

static void map(struct fix *f, uint16_t id, uint64_t addr, uint64_t size, bool ok)
{
    begin(f, VFU_CMD_DMA_MAP, false, id);
    vfu_enc_set(&f->e, VFU_F_DMA_MAP_FLAGS, VFU_DMA_MAP_FLAGS_READ);
    vfu_enc_set(&f->e, VFU_F_DMA_MAP_ADDRESS, addr);
    vfu_enc_set(&f->e, VFU_F_DMA_MAP_SIZE, size);
    client(f, 0);
    if (ok) {
        begin(f, VFU_CMD_DMA_MAP, true, id);
        server(f);
    } else {
        struct vfu_enc x;
        vfu_enc_error(&x, f->buf, sizeof f->buf, VFU_CMD_DMA_MAP, id, 28);
        vfh_cj_server_msg(&f->j, x.buf, x.len);
    }
}

static void unmap(struct fix *f, uint16_t id, uint64_t addr, uint64_t size)
{
    begin(f, VFU_CMD_DMA_UNMAP, false, id);
    vfu_enc_set(&f->e, VFU_F_DMA_UNMAP_ADDRESS, addr);
    vfu_enc_set(&f->e, VFU_F_DMA_UNMAP_SIZE, size);
    client(f, 0);
}

static void test_dma_windows(void **state)
{
    struct fix *f = *state;
    open_session(f, "{\"capabilities\":{\"max_dma_maps\":2}}");
    map(f, 3, 0x10000, 0x4000, true);
    map(f, 4, 0x12000, 0x4000, false);   /* overlaps: refused */
    assert_int_equal(broken(f, CJ_DMA_MAP_OVERLAP), 1);
    map(f, 5, 0x20800, 0x1000, false);   /* off the 4 KiB page size */
    assert_int_equal(broken(f, CJ_DMA_MAP_ALIGN), 1);
    /* the refused maps left one window: an unmap of a refused one, and an
     * inexact one, match nothing; the real one does */
    unmap(f, 6, 0x12000, 0x4000);
    unmap(f, 7, 0x10000, 0x2000);
    assert_int_equal(broken(f, CJ_DMA_UNMAP_MATCH), 2);
    unmap(f, 8, 0x10000, 0x4000);
    assert_int_equal(broken(f, CJ_DMA_UNMAP_MATCH), 2);
}

static void test_replies_to_our_requests(void **state)
{
    struct fix *f = *state;
    open_session(f, "{}");
    begin(f, VFU_CMD_DMA_READ, false, 7);
    vfu_enc_set(&f->e, VFU_F_DMA_ACCESS_ADDRESS, 0x1000);
    vfu_enc_set(&f->e, VFU_F_DMA_ACCESS_COUNT, 4);
    server(f);
    /* a reply to msg_id 8, which we never sent */
    begin(f, VFU_CMD_DMA_READ, true, 8);
    vfu_enc_set(&f->e, VFU_F_DMA_ACCESS_DATA_ADDRESS, 0x1000);
    vfu_enc_set(&f->e, VFU_F_DMA_ACCESS_DATA_COUNT, 4);
    vfu_enc_data(&f->e, VFU_F_DMA_ACCESS_DATA_DATA, "abcd", 4);
    client(f, 0);
    assert_int_equal(broken(f, CJ_REPLY_ID), 1);
    /* the right id, the wrong address */
    begin(f, VFU_CMD_DMA_READ, true, 7);
    vfu_enc_set(&f->e, VFU_F_DMA_ACCESS_DATA_ADDRESS, 0x2000);
    vfu_enc_set(&f->e, VFU_F_DMA_ACCESS_DATA_COUNT, 4);
    vfu_enc_data(&f->e, VFU_F_DMA_ACCESS_DATA_DATA, "abcd", 4);
    client(f, 0);
    assert_int_equal(broken(f, CJ_REPLY_ECHO), 1);
    vfh_cj_conn_end(&f->j);
    assert_int_equal(broken(f, CJ_REPLY_ANSWERED), 0);
    /* one more request, never answered */
    begin(f, VFU_CMD_DMA_WRITE, false, 9);
    vfu_enc_set(&f->e, VFU_F_DMA_ACCESS_DATA_ADDRESS, 0x1000);
    vfu_enc_set(&f->e, VFU_F_DMA_ACCESS_DATA_COUNT, 1);
    vfu_enc_data(&f->e, VFU_F_DMA_ACCESS_DATA_DATA, "z", 1);
    server(f);
    vfh_cj_conn_end(&f->j);
    assert_int_equal(broken(f, CJ_REPLY_ANSWERED), 1);
}

static void test_checks_table_is_complete(void **state)
{
    (void)state;
    for (int c = 0; c < CJ__COUNT; c++) {
        assert_non_null(vfh_cj_checks[c].id);
        assert_non_null(vfh_cj_checks[c].rule);
        assert_int_equal(strncmp(vfh_cj_checks[c].id, "client.", 7), 0);
        /* a rule beyond the spec is never a MUST */
        if (strstr(vfh_cj_checks[c].rule, "beyond the spec")) assert_int_not_equal(vfh_cj_checks[c].level, VFU_LEVEL_MUST);
        for (int d = 0; d < c; d++) assert_string_not_equal(vfh_cj_checks[c].id, vfh_cj_checks[d].id);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_clean_session_breaks_nothing, setup),
        cmocka_unit_test_setup(test_first_message_not_version, setup),
        cmocka_unit_test_setup(test_must_be_zero_and_padding, setup),
        cmocka_unit_test_setup(test_xfer_and_fds_limits_follow_the_server, setup),
        cmocka_unit_test_setup(test_dma_windows, setup),
        cmocka_unit_test_setup(test_replies_to_our_requests, setup),
        cmocka_unit_test(test_checks_table_is_complete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
