/* The server core in-process: VERSION negotiation, the gate before it,
 * decode failures, No_reply, unknown commands. */
#include "srv_harness.h"

#include <sys/socket.h>

#include "vfu_caps.h"

static void reply_caps(struct h *h, struct vfu_caps *c)
{
    uint32_t n;
    const uint8_t *j = vfu_data(&h->r, VFU_F_VERSION_DATA, &n);
    struct vfu_error err;
    vfu_caps_init(c);
    assert_non_null(j);
    assert_true(vfu_caps_parse(c, (const char *)j, n - 1, true, &err));
}

static void command_before_version(void **state)
{
    (void)state;
    struct h *h = h_new();
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_DEVICE_GET_INFO);
    assert_int_equal(h_call(h, &e), SRV_CONTINUE);
    assert_int_equal(h_errno(h), EINVAL);
    /* still open: VERSION may follow */
    assert_int_equal(h_version(h, NULL), SRV_CONTINUE);
    assert_int_equal(h_errno(h), 0);
    h_free(h);
}

static void major_mismatch_closes(void **state)
{
    (void)state;
    struct h *h = h_new();
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_VERSION);
    vfu_enc_set(&e, VFU_F_VERSION_MAJOR, VFU_PROTO_MAJOR + 1);
    assert_int_equal(h_call(h, &e), SRV_CLOSE);
    assert_true(h_errno(h) != 0);
    assert_false(srv_negotiated(h->s));
    h_free(h);
}

static void minor_is_the_lower(void **state)
{
    (void)state;
    struct h *h = h_new();
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_VERSION);
    vfu_enc_set(&e, VFU_F_VERSION_MAJOR, VFU_PROTO_MAJOR);
    vfu_enc_set(&e, VFU_F_VERSION_MINOR, 999);
    h_call(h, &e);
    assert_int_equal(h_errno(h), 0);
    assert_int_equal(vfu_get(&h->r, VFU_F_VERSION_MINOR), VFU_PROTO_MINOR);
    assert_int_equal(vfu_get(&h->r, VFU_F_VERSION_MAJOR), VFU_PROTO_MAJOR);
    h_free(h);

    h = h_new();
    h_begin(h, &e, VFU_CMD_VERSION);
    vfu_enc_set(&e, VFU_F_VERSION_MAJOR, VFU_PROTO_MAJOR);
    vfu_enc_set(&e, VFU_F_VERSION_MINOR, 0);
    h_call(h, &e);
    assert_int_equal(vfu_get(&h->r, VFU_F_VERSION_MINOR), 0);
    h_free(h);
}

static void caps_are_a_subset(void **state)
{
    (void)state;
    struct h *h = h_new();
    h_version(h, "{\"capabilities\":{\"max_data_xfer_size\":4096,\"pgsizes\":4096}}");
    assert_int_equal(h_errno(h), 0);
    struct vfu_caps c;
    reply_caps(h, &c);
    assert_true(c.present[VFU_CAP_MAX_DATA_XFER_SIZE]);
    assert_int_equal(c.v[VFU_CAP_MAX_DATA_XFER_SIZE], VFU_DEFAULT_MAX_DATA_XFER_SIZE);
    assert_true(c.present[VFU_CAP_PGSIZES]);
    assert_false(c.present[VFU_CAP_MAX_MSG_FDS]);
    assert_false(c.present[VFU_CAP_TWIN_SOCKET]);
    assert_false(c.present[VFU_CAP_MIGRATION]);
    assert_false(c.present[VFU_CAP_WRITE_MULTIPLE]);
    assert_int_equal(h->nrfds, 0);
    struct vfu_caps prop;
    struct vfu_error err;
    vfu_caps_init(&prop);
    assert_true(vfu_caps_parse(&prop, "{\"capabilities\":{\"max_data_xfer_size\":4096,\"pgsizes\":4096}}",
                               strlen("{\"capabilities\":{\"max_data_xfer_size\":4096,\"pgsizes\":4096}}"),
                               false, &err));
    assert_true(vfu_caps_check_subset(&prop, &c, &err));
    h_free(h);
}

static void twin_socket_only_when_asked(void **state)
{
    (void)state;
    struct h *h = h_new();
    h_version(h, "{\"capabilities\":{\"twin_socket\":{\"supported\":true}}}");
    assert_int_equal(h_errno(h), 0);
    struct vfu_caps c;
    reply_caps(h, &c);
    assert_true(c.v[VFU_CAP_TWIN_SOCKET_SUPPORTED]);
    assert_true(c.present[VFU_CAP_TWIN_SOCKET_FD_INDEX]);
    assert_int_equal(c.v[VFU_CAP_TWIN_SOCKET_FD_INDEX], 0);
    assert_int_equal(h->nrfds, 1);
    /* the fd is the other end of the server's twin socket */
    assert_true(h->twin_fd >= 0);
    assert_int_equal(send(h->rfds[0], "x", 1, 0), 1);
    char b;
    assert_int_equal(recv(h->twin_fd, &b, 1, 0), 1);
    h_free(h);

    /* not proposed: no twin, no fd */
    h = h_new();
    h_version(h, "{\"capabilities\":{\"max_msg_fds\":4}}");
    assert_int_equal(h->nrfds, 0);
    assert_int_equal(h->twin_fd, -1);
    h_free(h);

    /* proposed, but turned off here */
    struct srv_opts o;
    srv_opts_default(&o);
    o.twin_socket = false;
    h = h_new_opts(&o);
    h_version(h, "{\"capabilities\":{\"twin_socket\":{\"supported\":true}}}");
    assert_int_equal(h_errno(h), 0);
    reply_caps(h, &c);
    assert_false(c.present[VFU_CAP_TWIN_SOCKET_SUPPORTED] && c.v[VFU_CAP_TWIN_SOCKET_SUPPORTED]);
    assert_int_equal(h->nrfds, 0);
    h_free(h);
}

static void bad_json_closes(void **state)
{
    (void)state;
    const char *bad[] = {"{not json", "[1,2]", "{\"capabilities\":{\"max_msg_fds\":\"many\"}}",
                         "{\"capabilities\":{\"twin_socket\":{\"supported\":3}}}"};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct h *h = h_new();
        assert_int_equal(h_version(h, bad[i]), SRV_CLOSE);
        assert_int_equal(h_errno(h), EINVAL);
        h_free(h);
    }
}

static void second_version_refused(void **state)
{
    (void)state;
    struct h *h = h_ready();
    assert_int_equal(h_version(h, NULL), SRV_CONTINUE);
    assert_int_equal(h_errno(h), EINVAL);
    h_free(h);
}

static void version_with_fd_refused(void **state)
{
    (void)state;
    struct h *h = h_new();
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_VERSION);
    int fd = h_memfd(4096);
    assert_int_equal(h_call_fds(h, &e, &fd, 1), SRV_CLOSE);
    assert_int_equal(h_errno(h), EINVAL);
    close(fd);
    h_free(h);
}

/* the limits follow what our reply said */
static void receive_limits_follow_negotiation(void **state)
{
    (void)state;
    struct srv_opts o;
    srv_opts_default(&o);
    o.max_data_xfer_size = 4096;
    struct h *h = h_new_opts(&o);
    h_version(h, "{\"capabilities\":{\"max_data_xfer_size\":65536}}");
    assert_int_equal(srv_rx_limits(h->s)->max_data_xfer_size, 4096);
    uint8_t buf[8192];
    assert_int_equal(h_region_rw(h, VFU_PCI_REGION_BAR2, 0, buf, 4096, false), 0);
    assert_int_equal(h_region_rw(h, VFU_PCI_REGION_BAR2, 0, buf, 4097, false), E2BIG);
    h_free(h);

    /* not proposed: we could not state ours, so the default binds us */
    h = h_new_opts(&o);
    h_version(h, NULL);
    assert_int_equal(srv_rx_limits(h->s)->max_data_xfer_size, VFU_DEFAULT_MAX_DATA_XFER_SIZE);
    assert_int_equal(h_region_rw(h, VFU_PCI_REGION_BAR2, 0, buf, 8192, false), 0);
    h_free(h);
}

static void decode_failures_get_their_errno(void **state)
{
    (void)state;
    struct h *h = h_ready();
    struct vfu_enc e;
    /* reserved DMA_MAP flag */
    h_begin(h, &e, VFU_CMD_DMA_MAP);
    vfu_enc_set(&e, VFU_F_DMA_MAP_SIZE, 4096);
    assert_true(vfu_enc_finish(&e, NULL));
    vfu_enc_set(&e, VFU_F_DMA_MAP_FLAGS, 0x80);
    h_feed(h, e.buf, e.len, NULL, 0);
    assert_int_equal(h_errno(h), EINVAL);
    /* DMA_READ sent to the server */
    h_begin(h, &e, VFU_CMD_DMA_READ);
    h_call(h, &e);
    assert_int_equal(h_errno(h), EINVAL);
    /* unknown command */
    uint8_t raw[VFU_HDR_SIZE];
    struct vfu_hdr hd = {7, 14, VFU_HDR_SIZE, VFU_MSG_TYPE_COMMAND, 0};
    vfu_hdr_encode(raw, &hd);
    assert_int_equal(h_feed(h, raw, sizeof raw, NULL, 0), SRV_CONTINUE);
    assert_int_equal(h_errno(h), ENOTSUP);
    assert_int_equal(h->r.hdr.msg_id, 7);
    /* a truncated header cannot be answered: the stream is lost */
    assert_int_equal(h_feed(h, raw, 8, NULL, 0), SRV_CLOSE);
    /* msg_size that disagrees with the bytes */
    hd.msg_size = 100;
    vfu_hdr_encode(raw, &hd);
    assert_int_equal(h_feed(h, raw, sizeof raw, NULL, 0), SRV_CLOSE);
    h_free(h);
}

static void no_reply_is_honoured(void **state)
{
    (void)state;
    struct h *h = h_ready();
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_DEVICE_GET_INFO);
    vfu_enc_set(&e, VFU_F_DEVICE_INFO_REQ_ARGSZ, 16);
    assert_true(vfu_enc_finish(&e, NULL));
    vfu_enc_hdr(&e, VFU_F_HEADER_FLAGS, VFU_HDR_FLAGS_NO_REPLY);
    h_feed(h, e.buf, e.len, NULL, 0);
    assert_int_equal(h->nout, 0);
    /* failures too */
    uint32_t v = 0;
    h_begin(h, &e, VFU_CMD_REGION_WRITE);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_REGION, 99);
    vfu_enc_data(&e, VFU_F_REGION_ACCESS_DATA_DATA, &v, 4);
    assert_true(vfu_enc_finish(&e, NULL));
    vfu_enc_hdr(&e, VFU_F_HEADER_FLAGS, VFU_HDR_FLAGS_NO_REPLY);
    h_feed(h, e.buf, e.len, NULL, 0);
    assert_int_equal(h->nout, 0);
    /* but the write happened when it could */
    v = 0x5a5a5a5a;
    h_begin(h, &e, VFU_CMD_REGION_WRITE);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_REGION, VFU_PCI_REGION_BAR0);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_OFFSET, TOYDEV_REG_SCRATCH);
    vfu_enc_data(&e, VFU_F_REGION_ACCESS_DATA_DATA, &v, 4);
    assert_true(vfu_enc_finish(&e, NULL));
    vfu_enc_hdr(&e, VFU_F_HEADER_FLAGS, VFU_HDR_FLAGS_NO_REPLY);
    h_feed(h, e.buf, e.len, NULL, 0);
    assert_int_equal(h->nout, 0);
    assert_int_equal(h_rd(h, VFU_PCI_REGION_BAR0, TOYDEV_REG_SCRATCH, 4), 0x5a5a5a5a);
    h_free(h);
}

static void unknown_feature_is_enotsup(void **state)
{
    (void)state;
    struct h *h = h_ready();
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_DEVICE_FEATURE);
    assert_true(vfu_enc_finish(&e, NULL));
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_REQ_FLAGS, 3 | VFU_DEVICE_FEATURE_FLAGS_GET);
    h_feed(h, e.buf, e.len, NULL, 0);
    assert_int_equal(h_errno(h), ENOTSUP);
    h_free(h);
}

static void disconnect_forgets_the_session(void **state)
{
    (void)state;
    struct h *h = h_ready();
    h_wr(h, VFU_PCI_REGION_BAR0, TOYDEV_REG_SCRATCH, 0x1122334455667788ull, 8);
    srv_disconnect(h->s);
    assert_false(srv_negotiated(h->s));
    h_version(h, NULL);
    assert_int_equal(h_errno(h), 0);
    /* the device kept its state */
    assert_int_equal(h_rd(h, VFU_PCI_REGION_BAR0, TOYDEV_REG_SCRATCH, 8), 0x1122334455667788ull);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(command_before_version),
        cmocka_unit_test(major_mismatch_closes),
        cmocka_unit_test(minor_is_the_lower),
        cmocka_unit_test(caps_are_a_subset),
        cmocka_unit_test(twin_socket_only_when_asked),
        cmocka_unit_test(bad_json_closes),
        cmocka_unit_test(second_version_refused),
        cmocka_unit_test(version_with_fd_refused),
        cmocka_unit_test(receive_limits_follow_negotiation),
        cmocka_unit_test(decode_failures_get_their_errno),
        cmocka_unit_test(no_reply_is_honoured),
        cmocka_unit_test(unknown_feature_is_enotsup),
        cmocka_unit_test(disconnect_forgets_the_session),
    };
    return cmocka_run_group_tests_name("srv_version", tests, NULL, NULL);
}
