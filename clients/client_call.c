#include <errno.h>
/* Requests and their replies.  Every request sent gets a slot until its
 * reply is collected; replies are matched to the oldest slot with their msg
 * id (the server processes in order, and ids may be reused), so a reply to
 * a No_reply request is caught, and a reply to a later request proves the
 * older No_reply ones were processed without one. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client_priv.h"

void vfu_reply_init(struct vfu_reply *r)
{
    memset(r, 0, sizeof *r);
    r->status = VFU_CALL_ERROR;
    vfu_error_set(&r->err, VFU_OK, -1, -1, 0, 0);
}

void vfu_reply_release(struct vfu_reply *r)
{
    if (r->fds) vfu_cl_close_fds(r->fds, r->nfds);
    free(r->fds);
    free(r->raw);
    vfu_reply_init(r);
}

int vfu_reply_take_fd(struct vfu_reply *r, unsigned i)
{
    if (i >= r->nfds) return -1;
    int fd = r->fds[i];
    r->fds[i] = -1;
    return fd;
}

void vfu_cl_pending_free(struct pending *p)
{
    if (p->fds) vfu_cl_close_fds(p->fds, p->nfds);
    free(p->fds);
    free(p->raw);
    memset(p, 0, sizeof *p);
    p->state = PEND_FREE;
}

struct pending *vfu_cl_pending(struct vfu_client *c, uint64_t ticket)
{
    for (unsigned i = 0; i < VFU_CLIENT_MAX_PENDING; i++)
        if (c->pend[i].state != PEND_FREE && c->pend[i].ticket == ticket) return &c->pend[i];
    return NULL;
}

uint16_t vfu_client_next_id(struct vfu_client *c) { return c->next_id++; }

unsigned vfu_client_outstanding(const struct vfu_client *c)
{
    unsigned n = 0;
    for (unsigned i = 0; i < VFU_CLIENT_MAX_PENDING; i++) n += c->pend[i].state == PEND_WAITING;
    return n;
}

/* A free slot; when none is, the oldest one nobody waits for any more. */
static struct pending *slot_alloc(struct vfu_client *c, struct vfu_error *err)
{
    struct pending *victim = NULL;
    for (unsigned i = 0; i < VFU_CLIENT_MAX_PENDING; i++) {
        struct pending *p = &c->pend[i];
        if (p->state == PEND_FREE) return p;
        bool evictable = p->state == PEND_ABANDONED || p->state == PEND_RETIRED || p->state == PEND_NO_REPLY;
        if (evictable && (!victim || p->ticket < victim->ticket)) victim = p;
    }
    if (!victim) {
        vfu_error_set(err, VFU_E_NOMEM, -1, -1, VFU_CLIENT_MAX_PENDING, VFU_CLIENT_MAX_PENDING);
        return NULL;
    }
    vfu_cl_pending_free(victim);
    return victim;
}

static bool send_common(struct vfu_client *c, const uint8_t *buf, size_t len, const int *fds,
                        unsigned nfds, const struct vfu_expect *x, uint64_t *ticket,
                        struct vfu_error *err)
{
    struct pending *p = slot_alloc(c, err);
    if (!p) return false;
    /* the slot is ready before the bytes leave: an in-process sink may
     * feed the reply back from inside vfu_cl_tx */
    p->ticket = c->next_ticket++;
    p->state = x->no_reply ? PEND_NO_REPLY : PEND_WAITING;
    p->msg_id = x->msg_id;
    p->cmd = x->cmd;
    p->any_id = x->any_id;
    p->any_cmd = x->any_cmd;
    uint64_t t = p->ticket;
    if (!vfu_cl_tx(c, VFU_SOCK_MAIN, buf, len, fds, nfds, err)) {
        if ((p = vfu_cl_pending(c, t)) != NULL) vfu_cl_pending_free(p);
        return false;
    }
    if (ticket) *ticket = t;
    return true;
}

/* The server's limits apply to what we send, unless asked otherwise.  A
 * message that does not decode was crafted on purpose: only its fd count
 * can be held against the limit. */
static bool check_tx_limits(const struct vfu_client *c, const struct vfu_enc *e, struct vfu_error *err)
{
    if (e->nfds > c->tx.max_fds) {
        vfu_error_set(err, VFU_E_FDS, e->cmd, -1, e->nfds, c->tx.max_fds);
        return false;
    }
    const struct vfu_cmd_desc *cd = vfu_cmd(e->cmd);
    if (!cd || cd->xfer[0] < 0) return true;
    struct vfu_limits open = {UINT32_MAX, VFU_MAX_FDS, 0};
    struct vfu_msg m;
    struct vfu_error derr;
    if (!vfu_decode(&m, e->buf, e->len, e->fds, e->nfds, &open, VFU_ROLE_ANY, &derr)) return true;
    uint64_t n = vfu_get(&m, cd->xfer[0]);
    if (c->tx.max_data_xfer_size && n > c->tx.max_data_xfer_size) {
        vfu_error_set(err, VFU_E_XFER_LIMIT, e->cmd, cd->xfer[0], n, c->tx.max_data_xfer_size);
        return false;
    }
    /* data that comes back (REGION_READ) must fit what we accept too */
    if (cd->xfer[1] >= 0 && c->rx.max_data_xfer_size && n > c->rx.max_data_xfer_size) {
        vfu_error_set(err, VFU_E_XFER_LIMIT, e->cmd, cd->xfer[0], n, c->rx.max_data_xfer_size);
        return false;
    }
    return true;
}

bool vfu_client_send(struct vfu_client *c, struct vfu_enc *e, const struct vfu_send_opts *o,
                     uint64_t *ticket, struct vfu_error *err)
{
    static const struct vfu_send_opts none;
    if (!o) o = &none;
    /* an encoding sent as it came from vfu_enc_begin would go out with
     * msg_size and argsz 0: finish it here rather than send a message no
     * server can frame (raw bytes of one's own choosing: vfu_client_send_raw) */
    if (e->err.code == VFU_OK && !e->finished) vfu_enc_finish(e, NULL);
    if (e->err.code != VFU_OK || e->len < VFU_HDR_SIZE) {
        if (err) *err = e->err;
        if (err && err->code == VFU_OK) vfu_error_set(err, VFU_E_HDR_SHORT, e->cmd, -1, e->len, VFU_HDR_SIZE);
        return false;
    }
    struct vfu_hdr h;
    vfu_hdr_decode(e->buf, e->len, &h, NULL);
    h.msg_id = o->set_id ? o->msg_id : vfu_client_next_id(c);
    if (o->no_reply) h.flags |= VFU_HDR_FLAGS_NO_REPLY;
    vfu_hdr_encode(e->buf, &h);
    if (!o->unchecked && !check_tx_limits(c, e, err)) return false;
    struct vfu_expect x = {h.msg_id, h.cmd, false, false, (h.flags & VFU_HDR_FLAGS_NO_REPLY) != 0};
    return send_common(c, e->buf, e->len, e->fds, e->nfds, &x, ticket, err);
}

bool vfu_client_send_raw(struct vfu_client *c, const uint8_t *buf, size_t len, const int *fds,
                         unsigned nfds, const struct vfu_expect *x, uint64_t *ticket,
                         struct vfu_error *err)
{
    struct vfu_expect dx = {0, 0, true, true, false};
    struct vfu_hdr h;
    if (!x) {
        /* a header too short to name an id matches whatever comes */
        if (vfu_hdr_decode(buf, len, &h, NULL)) {
            dx.msg_id = h.msg_id;
            dx.cmd = h.cmd;
            dx.any_id = dx.any_cmd = false;
            dx.no_reply = (h.flags & VFU_HDR_FLAGS_NO_REPLY) != 0;
        }
        x = &dx;
    }
    return send_common(c, buf, len, fds, nfds, x, ticket, err);
}

void vfu_client_abandon(struct vfu_client *c, uint64_t ticket)
{
    struct pending *p = vfu_cl_pending(c, ticket);
    if (!p) return;
    if (p->state == PEND_WAITING) p->state = PEND_ABANDONED;
    else if (p->state != PEND_NO_REPLY) vfu_cl_pending_free(p);
}

static bool awaits_reply(const struct pending *p)
{
    return p->state == PEND_WAITING || p->state == PEND_NO_REPLY || p->state == PEND_ABANDONED;
}

static struct pending *match(struct vfu_client *c, uint16_t msg_id)
{
    struct pending *best = NULL;
    for (unsigned i = 0; i < VFU_CLIENT_MAX_PENDING; i++) {
        struct pending *p = &c->pend[i];
        if (awaits_reply(p) && !p->any_id && p->msg_id == msg_id && (!best || p->ticket < best->ticket))
            best = p;
    }
    if (best) return best;
    for (unsigned i = 0; i < VFU_CLIENT_MAX_PENDING; i++) {
        struct pending *p = &c->pend[i];
        if (awaits_reply(p) && p->any_id && (!best || p->ticket < best->ticket)) best = p;
    }
    return best;
}

void vfu_cl_reply_in(struct vfu_client *c, enum vfu_sock sock, const struct vfu_hdr *h,
                     bool decoded, const struct vfu_error *derr, const uint8_t *buf,
                     size_t len, int *fds, unsigned nfds)
{
    if (sock == VFU_SOCK_TWIN)
        vfu_cl_violation_set(c, VFU_V_WRONG_SOCKET, sock, h->msg_id, VFU_E_DIRECTION, h->cmd,
                             VFU_F_HEADER_FLAGS, true, sock, VFU_SOCK_MAIN);
    struct pending *p = match(c, h->msg_id);
    if (!p) {
        vfu_cl_violation_set(c, VFU_V_UNEXPECTED_REPLY, sock, h->msg_id, VFU_E_BAD_VALUE, h->cmd,
                             VFU_F_HEADER_MSG_ID, true, h->msg_id, 0);
        vfu_cl_close_fds(fds, nfds);
        return;
    }
    for (unsigned i = 0; i < VFU_CLIENT_MAX_PENDING; i++)
        if (c->pend[i].state == PEND_NO_REPLY && c->pend[i].ticket < p->ticket) c->pend[i].state = PEND_RETIRED;

    struct vfu_error err = *derr;
    enum vfu_call_status status = VFU_CALL_REPLY;
    if (!p->any_cmd && h->cmd != p->cmd) {
        vfu_error_set(&err, VFU_E_BAD_VALUE, p->cmd, VFU_F_HEADER_COMMAND, h->cmd, p->cmd);
        err.is_reply = 1;
        vfu_cl_violation(c, VFU_V_REPLY_CMD, sock, h->msg_id, &err);
        status = VFU_CALL_BAD_REPLY;
    } else if (!decoded && !(derr->code == VFU_E_UNKNOWN_CMD && h->cmd == p->cmd)) {
        /* (a reply to a command the codec does not know cannot be judged) */
        vfu_cl_violation(c, VFU_V_DECODE, sock, h->msg_id, &err);
        status = VFU_CALL_BAD_REPLY;
    }
    if (p->state == PEND_NO_REPLY)
        vfu_cl_violation_set(c, VFU_V_NO_REPLY_ANSWERED, sock, h->msg_id, VFU_E_BAD_VALUE, h->cmd,
                             VFU_F_HEADER_MSG_ID, true, h->msg_id, 0);
    if (p->state == PEND_ABANDONED) {
        c->stats.late_replies++;
        vfu_cl_pending_free(p);
        vfu_cl_close_fds(fds, nfds);
        return;
    }
    c->stats.replies++;
    p->status = status;
    p->err = err;
    p->sock = sock;
    p->state = PEND_DONE;
    p->raw = malloc(len ? len : 1);
    p->fds = nfds ? malloc(nfds * sizeof *fds) : NULL;
    if (!p->raw || (nfds && !p->fds)) {
        free(p->raw);
        free(p->fds);
        p->raw = NULL;
        p->fds = NULL;
        p->status = VFU_CALL_ERROR;
        vfu_error_set(&p->err, VFU_E_NOMEM, h->cmd, -1, len, 0);
        vfu_cl_close_fds(fds, nfds);
        return;
    }
    memcpy(p->raw, buf, len);
    p->raw_len = len;
    if (nfds) memcpy(p->fds, fds, nfds * sizeof *fds);
    p->nfds = nfds;
}

/* hands the stored reply over; the message is decoded again on r's copy */
static enum vfu_call_status deliver(struct vfu_client *c, struct pending *p, struct vfu_reply *r)
{
    r->status = p->status;
    r->err = p->err;
    r->sock = p->sock;
    r->raw = p->raw;
    r->raw_len = p->raw_len;
    r->fds = p->fds;
    r->nfds = p->nfds;
    p->raw = NULL;
    p->fds = NULL;
    p->nfds = 0;
    vfu_cl_pending_free(p);
    if (r->raw) {
        struct vfu_limits lim = c->rx;
        struct vfu_error e;
        /* the limits may have moved since it arrived (VERSION); only its
         * own rules matter now */
        lim.max_msg_size = UINT32_MAX;
        if (r->nfds > lim.max_fds) lim.max_fds = r->nfds;
        if (!vfu_decode(&r->msg, r->raw, r->raw_len, r->fds, r->nfds, &lim, VFU_ROLE_CLIENT, &e) &&
            e.code == VFU_E_UNKNOWN_CMD && r->raw_len == r->msg.hdr.msg_size) {
            /* our own unknown command's reply: the header is all there is to read */
            r->msg.is_error = (r->msg.hdr.flags & VFU_HDR_FLAGS_ERROR) != 0;
            r->msg.payload = r->raw + VFU_HDR_SIZE;
            r->msg.payload_len = (uint32_t)(r->raw_len - VFU_HDR_SIZE);
            r->msg.fds = r->fds;
            r->msg.nfds = r->nfds;
        }
    }
    return r->status;
}

static enum vfu_call_status finish(struct vfu_reply *r, enum vfu_call_status s, enum vfu_errc code)
{
    r->status = s;
    vfu_error_set(&r->err, code, -1, -1, 0, 0);
    return s;
}

enum vfu_call_status vfu_client_wait(struct vfu_client *c, uint64_t ticket, int timeout_ms,
                                     struct vfu_reply *r)
{
    vfu_reply_release(r);
    struct pending *p = vfu_cl_pending(c, ticket);
    if (!p) return finish(r, VFU_CALL_ERROR, VFU_E_BAD_VALUE);
    if (p->state == PEND_ABANDONED) p->state = PEND_WAITING;
    int64_t deadline = timeout_ms < 0 ? -1 : vfu_cl_now_ms() + timeout_ms;
    for (;;) {
        if (p->state == PEND_DONE) return deliver(c, p, r);
        if (p->state == PEND_RETIRED) {
            vfu_cl_pending_free(p);
            return finish(r, VFU_CALL_TIMEOUT, VFU_E_TIMEOUT);
        }
        if (!c->inproc && !c->open[VFU_SOCK_MAIN]) {
            vfu_cl_pending_free(p);
            if (c->peer_closed) return finish(r, VFU_CALL_EOF, VFU_E_EOF);
            /* our answers stopped getting through: as long a wait as any */
            if (c->tx_stalled) return finish(r, VFU_CALL_TIMEOUT, VFU_E_TIMEOUT);
            /* we dropped it ourselves, after a message stream that broke */
            finish(r, VFU_CALL_ERROR, VFU_E_IO);
            r->err.sys_errno = ENOTCONN;
            return VFU_CALL_ERROR;
        }
        int left = vfu_cl_remaining(deadline);
        int n = vfu_cl_pump(c, left, -1, NULL);
        if (p->state == PEND_DONE || p->state == PEND_RETIRED || n < 0) continue;
        /* once the deadline has passed, a server that keeps sending
         * requests cannot hold the wait open */
        if (left == 0 || (n == 0 && c->inproc)) return finish(r, VFU_CALL_TIMEOUT, VFU_E_TIMEOUT);
    }
}

enum vfu_call_status vfu_client_call(struct vfu_client *c, struct vfu_enc *e,
                                     const struct vfu_send_opts *o, int timeout_ms,
                                     struct vfu_reply *r)
{
    uint64_t t;
    vfu_reply_release(r);
    if (timeout_ms < -1) timeout_ms = c->opts.timeout_ms;
    if (!vfu_client_send(c, e, o, &t, &r->err)) {
        r->status = r->err.code == VFU_E_EOF ? VFU_CALL_EOF : VFU_CALL_ERROR;
        return r->status;
    }
    enum vfu_call_status s = vfu_client_wait(c, t, timeout_ms, r);
    if (s == VFU_CALL_TIMEOUT) vfu_client_abandon(c, t);
    return s;
}

enum vfu_call_status vfu_client_call_raw(struct vfu_client *c, const uint8_t *buf, size_t len,
                                         const int *fds, unsigned nfds,
                                         const struct vfu_expect *x, int timeout_ms,
                                         struct vfu_reply *r)
{
    uint64_t t;
    vfu_reply_release(r);
    if (timeout_ms < -1) timeout_ms = c->opts.timeout_ms;
    if (!vfu_client_send_raw(c, buf, len, fds, nfds, x, &t, &r->err)) {
        r->status = r->err.code == VFU_E_EOF ? VFU_CALL_EOF : VFU_CALL_ERROR;
        return r->status;
    }
    enum vfu_call_status s = vfu_client_wait(c, t, timeout_ms, r);
    if (s == VFU_CALL_TIMEOUT) vfu_client_abandon(c, t);
    return s;
}
