/* Every command, both ways: what vfu_enc_* writes, vfu_decode accepts at the
 * side that receives it, and every field reads back as it was written. */
#include "codec_cases.h"
#include "spec_tables.h"

#include <errno.h>
#include <stdlib.h>

static void round_trip(void **state)
{
    const struct codec_case *c = *state;
    uint8_t buf[CODEC_BUF];
    int fds[VFU_MAX_FDS];
    unsigned nfds;
    size_t len = codec_case_encode(c, buf, sizeof buf, fds, &nfds);
    struct vfu_limits lim;
    codec_case_limits(&lim);

    struct vfu_msg m;
    struct vfu_error err;
    uint8_t *copy;
    bool ok = codec_decode_copy(&m, &copy, buf, len, fds, nfds, &lim, codec_case_receiver(c), &err);
    if (!ok) {
        char s[256];
        vfu_error_str(&err, s, sizeof s);
        free(copy);
        fail_msg("%s: %s", c->name, s);
    }
    assert_int_equal(err.code, VFU_OK);
    assert_int_equal(m.hdr.msg_id, 0x4242);
    assert_int_equal(m.hdr.cmd, c->cmd);
    assert_int_equal(m.hdr.msg_size, len);
    assert_int_equal(m.hdr.error, 0);
    assert_ptr_equal(m.cmd, vfu_cmd(c->cmd));
    assert_int_equal(m.is_reply, c->is_reply);
    assert_false(m.is_error);
    assert_false(m.truncated);
    assert_int_equal(m.payload_len, len - VFU_HDR_SIZE);
    assert_int_equal(m.nfds, nfds);
    int sid = vfu_cmd(c->cmd)->sid[c->is_reply];
    if (sid >= 0) {
        assert_true(m.nparts >= 1);
        assert_int_equal(m.parts[0].sid, sid);
        assert_int_equal(m.parts[0].off, 0);
    }
    c->check(&m);
    codec_read_all(&m);

    /* the same bytes are not accepted by the side that sent them */
    enum vfu_role wrong = codec_case_receiver(c) == VFU_ROLE_SERVER ? VFU_ROLE_CLIENT : VFU_ROLE_SERVER;
    codec_expect_error(buf, len, fds, nfds, &lim, wrong, VFU_E_DIRECTION, c->cmd, VFU_F_HEADER_COMMAND);
    /* a role-blind decode (tools reading a capture) takes them */
    assert_true(vfu_decode(&m, copy, len, fds, nfds, &lim, VFU_ROLE_ANY, &err));
    free(copy);
}

/* The table covers each command of the spec in both directions: a command
 * added to the spec without a case here fails this test. */
static void every_command_has_cases(void **state)
{
    (void)state;
    unsigned ncmds = 0;
    for (unsigned n = 0; n < vfu_spec.ncmds; n++) {
        if (!vfu_spec.cmds[n].name) continue;
        ncmds++;
        for (int r = 0; r < 2; r++) {
            bool found = false;
            for (size_t i = 0; i < codec_ncases && !found; i++)
                found = codec_cases[i].cmd == n && codec_cases[i].is_reply == r;
            if (!found) fail_msg("no round-trip case for %s %s", vfu_spec.cmds[n].name, r ? "reply" : "request");
        }
    }
    assert_int_equal(ncmds, 17);   /* 1-13 and 15-18 */
    assert_null(vfu_cmd(14));
}

/* Every command's error reply: a header with the Error bit and an errno. */
static void error_replies(void **state)
{
    (void)state;
    for (unsigned n = 0; n < vfu_spec.ncmds; n++) {
        const struct vfu_cmd_desc *cd = vfu_cmd(n);
        if (!cd) continue;
        uint8_t buf[VFU_HDR_SIZE];
        struct vfu_enc e;
        struct vfu_error err;
        vfu_enc_error(&e, buf, sizeof buf, (uint16_t)n, 9, EINVAL);
        assert_true(vfu_enc_finish(&e, &err));
        assert_int_equal(e.len, VFU_HDR_SIZE);
        struct vfu_msg m;
        enum vfu_role to = cd->dir == VFU_DIR_CLIENT ? VFU_ROLE_CLIENT : VFU_ROLE_SERVER;
        assert_true(vfu_decode(&m, buf, e.len, NULL, 0, NULL, to, &err));
        assert_true(m.is_reply);
        assert_true(m.is_error);
        assert_int_equal(m.hdr.cmd, n);
        assert_int_equal(m.hdr.msg_id, 9);
        assert_int_equal(m.hdr.error, EINVAL);
        assert_int_equal(m.payload_len, 0);
        assert_int_equal(m.nparts, 0);
    }
}

/* The cut-short REGION_INFO reply a server sends when the client's argsz
 * has no room for the caps: fixed part only, argsz the full size. */
static void region_info_reply_truncated(void **state)
{
    (void)state;
    uint8_t buf[CODEC_BUF];
    struct vfu_enc e;
    struct vfu_error err;
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_GET_REGION_INFO, true, 3);
    vfu_enc_set(&e, VFU_F_REGION_INFO_ARGSZ, VFU_SIZE_REGION_INFO + 64);
    vfu_enc_set(&e, VFU_F_REGION_INFO_FLAGS, VFU_REGION_INFO_FLAGS_READ | VFU_REGION_INFO_FLAGS_CAPS);
    vfu_enc_set(&e, VFU_F_REGION_INFO_INDEX, VFU_PCI_REGION_BAR1);
    vfu_enc_set(&e, VFU_F_REGION_INFO_CAP_OFFSET, VFU_SIZE_REGION_INFO);
    vfu_enc_set(&e, VFU_F_REGION_INFO_SIZE, 0x1000);
    assert_true(vfu_enc_finish(&e, &err));
    struct vfu_msg m;
    assert_true(vfu_decode(&m, buf, e.len, NULL, 0, NULL, VFU_ROLE_CLIENT, &err));
    assert_true(m.truncated);
    assert_int_equal(vfu_get(&m, VFU_F_REGION_INFO_ARGSZ), VFU_SIZE_REGION_INFO + 64);
    assert_int_equal(vfu_get(&m, VFU_F_REGION_INFO_SIZE), 0x1000);
    assert_null(vfu_part_next(&m, NULL, VFU_S_REGION_CAP_HEADER));
    codec_read_all(&m);
    /* the same cut with argsz claiming it is complete is a short reply */
    vfu_enc_set(&e, VFU_F_REGION_INFO_ARGSZ, VFU_SIZE_REGION_INFO);
    codec_expect_error(buf, e.len, NULL, 0, NULL, VFU_ROLE_CLIENT, VFU_E_ARRAY_OVERRUN,
                       VFU_CMD_DEVICE_GET_REGION_INFO, VFU_F_REGION_INFO_ARGSZ);
}

int main(void)
{
    const struct CMUnitTest extra[] = {
        cmocka_unit_test(every_command_has_cases),
        cmocka_unit_test(error_replies),
        cmocka_unit_test(region_info_reply_truncated),
    };
    return codec_run_cases("codec round trip", round_trip, extra, sizeof extra / sizeof extra[0]);
}
