/* VERSION negotiation from the client's side: send any proposal, hold the
 * reply to the spec's rules, record each broken one, and decide whether the
 * session can go on.  Our proposal's max_msg_fds / max_data_xfer_size become
 * what we accept; the reply's become what we must not exceed. */
#include <stdlib.h>
#include <string.h>

#include "client_priv.h"
#include "vfu_negotiate.h"

#define JSON_MAX 4096

void vfu_proposal_default(struct vfu_version_proposal *p)
{
    memset(p, 0, sizeof *p);
    p->major = vfu_spec_major();
    p->minor = vfu_spec_minor();
    p->data = VFU_PROPOSE_CAPS;
    vfu_caps_init(&p->caps);
    vfu_caps_set(&p->caps, VFU_CAP_MAX_MSG_FDS, VFU_CLIENT_DEFAULT_MAX_MSG_FDS);
    vfu_caps_set(&p->caps, VFU_CAP_MAX_DATA_XFER_SIZE, VFU_DEFAULT_MAX_DATA_XFER_SIZE);
}

/* What we proposed, as capabilities; false when it cannot be known (raw
 * bytes that do not parse). */
static bool proposed_caps(const struct vfu_version_proposal *p, struct vfu_caps *out)
{
    vfu_caps_init(out);
    switch (p->data) {
    case VFU_PROPOSE_CAPS:
        *out = p->caps;
        return true;
    case VFU_PROPOSE_NONE:
        return true;
    case VFU_PROPOSE_RAW: {
        size_t n = p->raw_len;
        if (n && !p->raw[n - 1]) n--;
        struct vfu_error e;
        if (n && memchr(p->raw, 0, n)) return false;
        return vfu_caps_parse(out, (const char *)p->raw, n, false, &e);
    }
    }
    return false;
}

static bool encode(const struct vfu_version_proposal *p, struct vfu_enc *e, uint8_t **buf,
                   struct vfu_error *err)
{
    char json[JSON_MAX];
    const uint8_t *data = NULL;
    size_t n = 0;
    if (p->data == VFU_PROPOSE_CAPS) {
        int k = vfu_caps_to_json(&p->caps, json, sizeof json);
        if (k < 0) {
            vfu_error_set(err, VFU_E_ENC_SPACE, VFU_CMD_VERSION, VFU_F_VERSION_DATA, JSON_MAX, JSON_MAX);
            return false;
        }
        data = (const uint8_t *)json;
        n = (size_t)k + 1;   /* the NUL goes on the wire */
    } else if (p->data == VFU_PROPOSE_RAW) {
        data = p->raw;
        n = p->raw_len;
    }
    size_t cap = VFU_HDR_SIZE + VFU_SIZE_VERSION + n;
    *buf = malloc(cap);
    if (!*buf) {
        vfu_error_set(err, VFU_E_NOMEM, VFU_CMD_VERSION, -1, cap, 0);
        return false;
    }
    vfu_enc_begin(e, *buf, cap, VFU_CMD_VERSION, false, 0);
    vfu_enc_set(e, VFU_F_VERSION_MAJOR, p->major);
    vfu_enc_set(e, VFU_F_VERSION_MINOR, p->minor);
    if (n) vfu_enc_data(e, VFU_F_VERSION_DATA, data, n);
    return vfu_enc_finish(e, err);
}

/* the first reason the session cannot go on is the one reported */
static void fatal(struct vfu_version_result *res, const struct vfu_error *e)
{
    if (res->err.code == VFU_OK) res->err = *e;
}

static void check_twin(struct vfu_client *c, struct vfu_reply *r, bool asked,
                       struct vfu_version_result *res)
{
    const struct vfu_caps *rc = &res->caps;
    if (!rc->present[VFU_CAP_TWIN_SOCKET_SUPPORTED] || !vfu_caps_get(rc, VFU_CAP_TWIN_SOCKET_SUPPORTED))
        return;   /* not offered: proceed without */
    uint64_t idx = vfu_caps_get(rc, VFU_CAP_TWIN_SOCKET_FD_INDEX);
    if (!rc->present[VFU_CAP_TWIN_SOCKET_FD_INDEX] || idx >= r->nfds) {
        struct vfu_error e;
        vfu_error_set(&e, VFU_E_CAPABILITY, VFU_CMD_VERSION, VFU_F_VERSION_DATA,
                      rc->present[VFU_CAP_TWIN_SOCKET_FD_INDEX] ? idx : UINT64_MAX, r->nfds);
        e.cap = VFU_CAP_TWIN_SOCKET_FD_INDEX;
        e.is_reply = 1;
        vfu_cl_violation(c, VFU_V_TWIN, VFU_SOCK_MAIN, r->msg.hdr.msg_id, &e);
        fatal(res, &e);
        return;
    }
    /* offered unasked: already a subset violation; we stay on one socket.
     * A session that cannot go on anyway gets no twin either. */
    if (!asked || res->err.code != VFU_OK) return;
    int fd = vfu_reply_take_fd(r, (unsigned)idx);
    struct vfu_error e;
    if (!vfu_cl_adopt_twin(c, fd, &e)) fatal(res, &e);
    else res->twin = true;
}

bool vfu_client_negotiate(struct vfu_client *c, const struct vfu_version_proposal *p,
                          int timeout_ms, struct vfu_version_result *res)
{
    memset(res, 0, sizeof *res);
    vfu_error_set(&res->err, VFU_OK, VFU_CMD_VERSION, -1, 0, 0);
    vfu_caps_init(&res->caps);
    res->status = VFU_CALL_ERROR;

    struct vfu_enc e;
    uint8_t *buf = NULL;
    if (!encode(p, &e, &buf, &res->err)) {
        free(buf);
        return false;
    }
    struct vfu_caps prop;
    bool prop_known = proposed_caps(p, &prop);

    struct vfu_reply r;
    vfu_reply_init(&r);
    static const struct vfu_send_opts unchecked = {.unchecked = true};
    res->status = vfu_client_call(c, &e, &unchecked, timeout_ms, &r);
    free(buf);
    if (res->status != VFU_CALL_REPLY) {
        res->err = r.err;
        vfu_reply_release(&r);
        return false;
    }
    if (r.msg.is_error) {
        res->error_reply = true;
        res->errnum = r.msg.hdr.error;
        vfu_error_set(&res->err, VFU_E_VERSION, VFU_CMD_VERSION, VFU_F_HEADER_ERROR, r.msg.hdr.error, 0);
        res->err.is_reply = 1;
        vfu_reply_release(&r);
        return false;
    }

    res->major = (uint16_t)vfu_get(&r.msg, VFU_F_VERSION_MAJOR);
    res->minor = (uint16_t)vfu_get(&r.msg, VFU_F_VERSION_MINOR);
    struct vfu_error err;
    if (!vfu_version_check_reply(p->major, p->minor, res->major, res->minor, &err)) {
        err.is_reply = 1;
        vfu_cl_violation(c, VFU_V_VERSION, VFU_SOCK_MAIN, r.msg.hdr.msg_id, &err);
        if (res->major != p->major) fatal(res, &err);
    }

    uint32_t dlen = 0;
    const uint8_t *data = vfu_data(&r.msg, VFU_F_VERSION_DATA, &dlen);
    bool caps_ok = true;
    /* the codec has checked the text ends in its one NUL */
    if (data && dlen > 1 && !vfu_caps_parse(&res->caps, (const char *)data, dlen - 1, true, &err)) {
        err.cmd = VFU_CMD_VERSION;
        err.is_reply = 1;
        vfu_cl_violation(c, VFU_V_CAPS, VFU_SOCK_MAIN, r.msg.hdr.msg_id, &err);
        fatal(res, &err);   /* its limits are unknown */
        vfu_caps_init(&res->caps);
        caps_ok = false;
    }
    if (caps_ok && prop_known && !vfu_caps_check_subset(&prop, &res->caps, &err)) {
        err.cmd = VFU_CMD_VERSION;
        err.is_reply = 1;
        vfu_cl_violation(c, VFU_V_CAPS, VFU_SOCK_MAIN, r.msg.hdr.msg_id, &err);
    }
    if (caps_ok) {
        bool asked = prop_known && vfu_caps_get(&prop, VFU_CAP_TWIN_SOCKET_SUPPORTED);
        check_twin(c, &r, asked, res);
    }
    vfu_reply_release(&r);
    if (res->err.code != VFU_OK) {
        res->twin = false;
        return false;
    }

    struct vfu_limits rx, tx;
    if (!prop_known) vfu_caps_init(&prop);   /* we cannot know better than the defaults */
    vfu_negotiate_limits(&prop, &res->caps, &rx, &tx);
    rx.max_msg_size = 0;   /* ours: sized by vfu_client_set_limits, within VFU_CLIENT_RX_CAP */
    if (!vfu_client_set_limits(c, &rx, &tx, &res->err)) return false;
    res->accepted = true;
    return true;
}
