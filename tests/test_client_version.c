/* Client VERSION negotiation against a scripted server: what the client
 * proposes on the wire, which replies it accepts, which rule each bad reply
 * breaks, and the limits and twin socket it takes from a good one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "client_fake.h"
#include "spec_tables.h"

/* how the scripted server answers VERSION */
struct vscript {
    int dmajor, dminor;     /* reply version = proposal + these */
    const char *json;       /* reply data; NULL: none */
    int twin_fds;           /* fds to attach: the first is a twin socket end */
    bool error_reply;       /* EINVAL error reply instead */
    bool close;             /* close without a reply */
};

static void srv_version(struct fake *f)
{
    const struct vscript *s = f->arg;
    struct vfu_msg m;
    /* raw proposals need not decode: the bytes are what the test checks */
    FCHECK(f, fake_recv(&f->conn, &m, NULL));
    FCHECK(f, m.hdr.cmd == VFU_CMD_VERSION && m.hdr.flags == VFU_MSG_TYPE_COMMAND);
    FCHECK(f, f->conn.nrfds == 0 && f->conn.rlen - VFU_HDR_SIZE <= sizeof f->data);
    f->data_len = f->conn.rlen - VFU_HDR_SIZE;
    memcpy(f->data, f->conn.rbuf + VFU_HDR_SIZE, f->data_len);
    FCHECK(f, f->data_len >= VFU_SIZE_VERSION);
    f->seen[0] = vfu_read_uint(f->data + vfu_spec.fields[VFU_F_VERSION_MAJOR].offset,
                               vfu_spec.fields[VFU_F_VERSION_MAJOR].width);
    f->seen[1] = vfu_read_uint(f->data + vfu_spec.fields[VFU_F_VERSION_MINOR].offset,
                               vfu_spec.fields[VFU_F_VERSION_MINOR].width);
    if (s->close) {
        vfu_conn_close(&f->conn);
        return;
    }
    if (s->error_reply) {
        FCHECK(f, fake_error(&f->conn, &m, EINVAL));
        return;
    }
    int fds[2] = {-1, -1}, sv[2];
    struct vfu_error err;
    for (int i = 0; i < s->twin_fds; i++) {
        FCHECK(f, vfu_socketpair(sv, &err));
        struct vfu_limits l;
        fake_limits(&l);
        if (i == 0) {
            FCHECK(f, vfu_conn_init(&f->twin, sv[1], &l, &err));
            f->twin.timeout_ms = 5000;
            f->has_twin = true;
        } else {
            close(sv[1]);
        }
        fds[i] = sv[0];
    }
    bool sent = fake_version_reply(&f->conn, m.hdr.msg_id, (uint16_t)(f->seen[0] + (uint64_t)s->dmajor),
                                   (uint16_t)(f->seen[1] + (uint64_t)s->dminor), s->json, fds,
                                   (unsigned)s->twin_fds);
    for (int i = 0; i < s->twin_fds; i++) close(fds[i]);
    FCHECK(f, sent);
}

/* runs one negotiation against script s; the client is returned open */
static struct vfu_client *negotiate(struct fake *f, const struct vscript *s,
                                    const struct vfu_version_proposal *p,
                                    struct vfu_version_result *res, bool *accepted)
{
    struct vfu_client *c = fake_start(f, srv_version, (void *)s, NULL);
    assert_non_null(c);
    *accepted = vfu_client_negotiate(c, p, 5000, res);
    assert_int_equal(fake_join(f), 0);
    return c;
}

static void proposal_on_the_wire(void **state)
{
    (void)state;
    int base = count_fds();
    struct fake f;
    struct vscript s = {.json = "{\"capabilities\":{\"max_msg_fds\":4,\"max_data_xfer_size\":4096}}"};
    struct vfu_version_proposal p;
    vfu_proposal_default(&p);
    struct vfu_version_result res;
    bool acc;
    struct vfu_client *c = negotiate(&f, &s, &p, &res, &acc);

    /* what went out: the spec version and our capabilities, NUL-terminated */
    assert_int_equal(f.seen[0], VFU_PROTO_MAJOR);
    assert_int_equal(f.seen[1], VFU_PROTO_MINOR);
    assert_true(f.data_len > VFU_SIZE_VERSION + 1);
    assert_int_equal(f.data[f.data_len - 1], 0);
    struct vfu_caps sent;
    struct vfu_error err;
    assert_true(vfu_caps_parse(&sent, (const char *)f.data + VFU_SIZE_VERSION,
                               f.data_len - VFU_SIZE_VERSION - 1, false, &err));
    assert_true(sent.present[VFU_CAP_MAX_MSG_FDS]);
    assert_int_equal(vfu_caps_get(&sent, VFU_CAP_MAX_MSG_FDS), VFU_CLIENT_DEFAULT_MAX_MSG_FDS);

    /* and what came back */
    assert_true(acc);
    assert_true(res.accepted);
    assert_int_equal(res.status, VFU_CALL_REPLY);
    assert_int_equal(vfu_client_violation_total(c), 0);
    assert_false(res.twin);
    struct vfu_limits rx, tx;
    vfu_client_limits(c, &rx, &tx);
    assert_int_equal(tx.max_fds, 4);
    assert_int_equal(tx.max_data_xfer_size, 4096);
    assert_int_equal(rx.max_fds, VFU_CLIENT_DEFAULT_MAX_MSG_FDS);
    assert_int_equal(rx.max_data_xfer_size, VFU_DEFAULT_MAX_DATA_XFER_SIZE);
    vfu_client_close(c);
    assert_int_equal(count_fds(), base);
}

static void lower_minor_accepted(void **state)
{
    (void)state;
    struct fake f;
    struct vscript s = {.dminor = -1, .json = "{\"capabilities\":{}}"};
    struct vfu_version_proposal p;
    vfu_proposal_default(&p);
    p.minor = 3;
    struct vfu_version_result res;
    bool acc;
    struct vfu_client *c = negotiate(&f, &s, &p, &res, &acc);
    assert_true(acc);
    assert_int_equal(res.minor, 2);
    assert_int_equal(vfu_client_violation_total(c), 0);
    vfu_client_close(c);
}

static void minor_too_high(void **state)
{
    (void)state;
    struct fake f;
    struct vscript s = {.dminor = 1};
    struct vfu_version_proposal p;
    vfu_proposal_default(&p);
    struct vfu_version_result res;
    bool acc;
    struct vfu_client *c = negotiate(&f, &s, &p, &res, &acc);
    /* a rule broken, but nothing stops the session */
    assert_true(acc);
    assert_int_equal(vfu_client_violation_count(c, VFU_V_VERSION), 1);
    unsigned n;
    const struct vfu_violation *v = vfu_client_violations(c, &n);
    assert_int_equal(v[0].err.field, VFU_F_VERSION_MINOR);
    assert_int_equal(v[0].err.got, VFU_PROTO_MINOR + 1);
    assert_int_equal(v[0].err.want, VFU_PROTO_MINOR);
    vfu_client_close(c);
}

static void major_mismatch(void **state)
{
    (void)state;
    struct fake f;
    struct vscript s = {.dmajor = 1, .json = "{\"capabilities\":{\"max_msg_fds\":2}}"};
    struct vfu_version_proposal p;
    vfu_proposal_default(&p);
    struct vfu_version_result res;
    bool acc;
    struct vfu_client *c = negotiate(&f, &s, &p, &res, &acc);
    assert_false(acc);
    assert_false(res.accepted);
    assert_int_equal(res.err.code, VFU_E_VERSION);
    assert_int_equal(res.err.field, VFU_F_VERSION_MAJOR);
    assert_int_equal(vfu_client_violation_count(c, VFU_V_VERSION), 1);
    /* limits stay at the defaults: nothing was agreed */
    struct vfu_limits tx;
    vfu_client_limits(c, NULL, &tx);
    assert_int_equal(tx.max_fds, VFU_DEFAULT_MAX_MSG_FDS);
    vfu_client_close(c);
}

static void caps_not_proposed(void **state)
{
    (void)state;
    struct fake f;
    /* like libvfio-user: limits and migration whatever was proposed */
    struct vscript s = {.json = "{\"capabilities\":{\"max_msg_fds\":8,\"max_data_xfer_size\":1048576,"
                                "\"migration\":{\"pgsize\":4096}}}"};
    struct vfu_version_proposal p;
    vfu_proposal_default(&p);
    vfu_caps_init(&p.caps);
    vfu_caps_set(&p.caps, VFU_CAP_MAX_MSG_FDS, 2);
    struct vfu_version_result res;
    bool acc;
    struct vfu_client *c = negotiate(&f, &s, &p, &res, &acc);
    assert_true(acc);
    assert_int_equal(vfu_client_violation_count(c, VFU_V_CAPS), 1);
    unsigned n;
    const struct vfu_violation *v = vfu_client_violations(c, &n);
    assert_int_equal(v[0].err.code, VFU_E_VERSION);
    assert_int_equal(v[0].err.cap, VFU_CAP_MAX_DATA_XFER_SIZE);
    /* we accept what we proposed (2 fds, default transfer size) */
    struct vfu_limits rx, tx;
    vfu_client_limits(c, &rx, &tx);
    assert_int_equal(rx.max_fds, 2);
    assert_int_equal(rx.max_data_xfer_size, VFU_DEFAULT_MAX_DATA_XFER_SIZE);
    assert_int_equal(tx.max_fds, 8);
    vfu_client_close(c);
}

static void twin_adopted(void **state)
{
    (void)state;
    int base = count_fds();
    struct fake f;
    struct vscript s = {.json = "{\"capabilities\":{\"twin_socket\":{\"supported\":true,\"fd_index\":0}}}",
                        .twin_fds = 1};
    struct vfu_version_proposal p;
    vfu_proposal_default(&p);
    vfu_caps_set(&p.caps, VFU_CAP_TWIN_SOCKET_SUPPORTED, 1);
    struct vfu_version_result res;
    bool acc;
    struct vfu_client *c = negotiate(&f, &s, &p, &res, &acc);
    assert_true(acc);
    assert_true(res.twin);
    assert_int_equal(vfu_client_violation_total(c), 0);
    assert_true(vfu_client_fd(c, VFU_SOCK_TWIN) >= 0);
    vfu_client_close(c);
    assert_int_equal(count_fds(), base);
}

static void twin_inconsistent(void **state)
{
    (void)state;
    int base = count_fds();
    const struct vscript cases[] = {
        /* supported without fd_index */
        {.json = "{\"capabilities\":{\"twin_socket\":{\"supported\":true}}}", .twin_fds = 1},
        /* fd_index naming no fd */
        {.json = "{\"capabilities\":{\"twin_socket\":{\"supported\":true,\"fd_index\":1}}}", .twin_fds = 1},
        {.json = "{\"capabilities\":{\"twin_socket\":{\"supported\":true,\"fd_index\":0}}}", .twin_fds = 0},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fake f;
        struct vfu_version_proposal p;
        vfu_proposal_default(&p);
        vfu_caps_set(&p.caps, VFU_CAP_TWIN_SOCKET_SUPPORTED, 1);
        struct vfu_version_result res;
        bool acc;
        struct vfu_client *c = negotiate(&f, &cases[i], &p, &res, &acc);
        assert_false(acc);
        assert_false(res.twin);
        assert_int_equal(res.err.code, VFU_E_CAPABILITY);
        assert_int_equal(res.err.cap, VFU_CAP_TWIN_SOCKET_FD_INDEX);
        assert_int_equal(vfu_client_violation_count(c, VFU_V_TWIN), 1);
        assert_int_equal(vfu_client_fd(c, VFU_SOCK_TWIN), -1);
        vfu_client_close(c);
        assert_int_equal(count_fds(), base);
    }
}

static void twin_not_asked(void **state)
{
    (void)state;
    int base = count_fds();
    struct fake f;
    struct vscript s = {.json = "{\"capabilities\":{\"twin_socket\":{\"supported\":true,\"fd_index\":0}}}",
                        .twin_fds = 1};
    struct vfu_version_proposal p;
    vfu_proposal_default(&p);
    struct vfu_version_result res;
    bool acc;
    struct vfu_client *c = negotiate(&f, &s, &p, &res, &acc);
    /* offered without being asked: a subset violation, and no twin */
    assert_true(acc);
    assert_false(res.twin);
    assert_int_equal(vfu_client_violation_count(c, VFU_V_CAPS), 1);
    assert_int_equal(vfu_client_fd(c, VFU_SOCK_TWIN), -1);
    vfu_client_close(c);
    assert_int_equal(count_fds(), base);
}

static void refused_or_closed(void **state)
{
    (void)state;
    struct fake f;
    struct vfu_version_proposal p;
    vfu_proposal_default(&p);
    p.major = 7;
    struct vfu_version_result res;
    bool acc;

    struct vscript err_reply = {.error_reply = true};
    struct vfu_client *c = negotiate(&f, &err_reply, &p, &res, &acc);
    assert_false(acc);
    assert_int_equal(res.status, VFU_CALL_REPLY);
    assert_true(res.error_reply);
    assert_int_equal(res.errnum, EINVAL);
    assert_int_equal(f.seen[0], 7);
    vfu_client_close(c);

    struct vscript closes = {.close = true};
    c = negotiate(&f, &closes, &p, &res, &acc);
    assert_false(acc);
    assert_int_equal(res.status, VFU_CALL_EOF);
    assert_true(vfu_client_peer_closed(c));
    vfu_client_close(c);
}

static void raw_and_no_data(void **state)
{
    (void)state;
    struct fake f;
    struct vscript s = {.json = "{\"capabilities\":{\"max_msg_fds\":3}}"};
    struct vfu_version_proposal p;
    vfu_proposal_default(&p);
    struct vfu_version_result res;
    bool acc;

    /* raw bytes go out exactly, no NUL added */
    static const char raw[] = "{\"capabilities\":{\"max_msg_fds\":3}";
    p.data = VFU_PROPOSE_RAW;
    p.raw = (const uint8_t *)raw;
    p.raw_len = sizeof raw - 1;
    p.major = 0;
    p.minor = 9;
    struct vfu_client *c = negotiate(&f, &s, &p, &res, &acc);
    assert_int_equal(f.seen[1], 9);
    assert_int_equal(f.data_len, VFU_SIZE_VERSION + sizeof raw - 1);
    assert_memory_equal(f.data + VFU_SIZE_VERSION, raw, sizeof raw - 1);
    /* our own unparsable proposal: nothing to hold the reply's caps to */
    assert_true(acc);
    assert_int_equal(vfu_client_violation_count(c, VFU_V_CAPS), 0);
    vfu_client_close(c);

    /* a parsable raw proposal is held against its reply */
    static const char raw_ok[] = "{\"capabilities\":{\"max_data_xfer_size\":512}}";
    p.raw = (const uint8_t *)raw_ok;
    p.raw_len = sizeof raw_ok;   /* with its NUL */
    c = negotiate(&f, &s, &p, &res, &acc);
    assert_true(acc);
    assert_int_equal(vfu_client_violation_count(c, VFU_V_CAPS), 1);
    struct vfu_limits rx;
    vfu_client_limits(c, &rx, NULL);
    assert_int_equal(rx.max_data_xfer_size, 512);
    vfu_client_close(c);

    /* no data at all: just major and minor */
    p.data = VFU_PROPOSE_NONE;
    c = negotiate(&f, &s, &p, &res, &acc);
    assert_int_equal(f.data_len, VFU_SIZE_VERSION);
    assert_true(acc);
    /* proposed nothing, so any reply capability breaks the subset rule */
    assert_int_equal(vfu_client_violation_count(c, VFU_V_CAPS), 1);
    vfu_client_close(c);
}

static void unusable_reply_caps(void **state)
{
    (void)state;
    const struct vscript cases[] = {
        {.json = "{\"capabilities\":"},                           /* not JSON */
        {.json = "{\"capabilities\":{\"max_msg_fds\":\"many\"}}"}, /* wrong type */
    };
    for (unsigned i = 0; i < 2; i++) {
        struct fake f;
        struct vfu_version_proposal p;
        vfu_proposal_default(&p);
        struct vfu_version_result res;
        bool acc;
        struct vfu_client *c = negotiate(&f, &cases[i], &p, &res, &acc);
        assert_false(acc);
        assert_int_equal(vfu_client_violation_count(c, VFU_V_CAPS), 1);
        assert_true(res.err.code == VFU_E_JSON || res.err.code == VFU_E_CAPABILITY);
        vfu_client_close(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(proposal_on_the_wire),
        cmocka_unit_test(lower_minor_accepted),
        cmocka_unit_test(minor_too_high),
        cmocka_unit_test(major_mismatch),
        cmocka_unit_test(caps_not_proposed),
        cmocka_unit_test(twin_adopted),
        cmocka_unit_test(twin_inconsistent),
        cmocka_unit_test(twin_not_asked),
        cmocka_unit_test(refused_or_closed),
        cmocka_unit_test(raw_and_no_data),
        cmocka_unit_test(unusable_reply_caps),
    };
    return cmocka_run_group_tests_name("client_version", tests, NULL, NULL);
}
