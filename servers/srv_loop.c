/* The event loop and the socket side of struct srv_peer.
 *
 * Commands are handled one at a time, in order.  A handler may need the
 * client (the device's DMA through DMA_READ / DMA_WRITE messages): the
 * request goes out on the twin socket if there is one, else on the main
 * socket, and the loop waits for its reply.  Commands the client sends on
 * the main socket meanwhile are queued, whole with their fds, and handled
 * after the current one, so the order of commands is kept and neither side
 * waits for the other forever.
 *
 * The main socket reads ahead (include/vfu/vfu_transport.h): a request that has arrived
 * comes in one recvmsg, and with no twin socket or ioeventfd to watch the
 * loop waits in that recvmsg instead of poll, so a request and its reply
 * cost two system calls. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "srv_loop.h"

/* commands that may wait behind one DMA round trip */
#define QUEUE_MAX 64

struct queued {
    uint8_t *buf;
    uint32_t len;
    int fds[VFU_MAX_FDS];
    unsigned nfds;
    struct vfu_error reject;   /* VFU_OK, or why it already failed */
};

struct loop {
    const struct srv_loop_cfg *cfg;
    struct srv *s;
    struct vfu_conn main, twin;  /* fd -1 when absent */
    struct vfu_limits rx;
    bool rx_changed;
    struct queued q[QUEUE_MAX];
    unsigned qhead, qlen;
};

static void conn_setup(struct loop *L, struct vfu_conn *c, const char *label)
{
    c->timeout_ms = L->cfg->timeout_ms;
    if (L->cfg->verbose) {
        c->trace.fn = srv_trace;
        c->trace.ctx = (void *)label;
    }
}

/* ------------------------------------------------------------- queue --- */

static bool enqueue(struct loop *L, struct vfu_conn *c, const struct vfu_error *reject)
{
    if (L->qlen == QUEUE_MAX) return false;
    struct queued *q = &L->q[(L->qhead + L->qlen) % QUEUE_MAX];
    q->buf = malloc(c->rlen ? c->rlen : 1);
    if (!q->buf) return false;
    memcpy(q->buf, c->rbuf, c->rlen);
    q->len = c->rlen;
    q->nfds = c->nrfds;
    for (unsigned i = 0; i < c->nrfds; i++) q->fds[i] = vfu_conn_take_fd(c, i);
    vfu_error_set(&q->reject, VFU_OK, -1, -1, 0, 0);
    if (reject) q->reject = *reject;
    L->qlen++;
    return true;
}

static void queued_free(struct queued *q)
{
    for (unsigned i = 0; i < q->nfds; i++)
        if (q->fds[i] >= 0) close(q->fds[i]);
    free(q->buf);
    q->buf = NULL;
    q->nfds = 0;
}

static void queue_clear(struct loop *L)
{
    for (; L->qlen; L->qlen--, L->qhead = (L->qhead + 1) % QUEUE_MAX) queued_free(&L->q[L->qhead]);
}

/* the socket's receive limits: the server's, with the tap's fd room */
static struct vfu_limits sock_limits(const struct loop *L, const struct vfu_limits *rx)
{
    struct vfu_limits l = *rx;
    const struct srv_loop_tap *t = L->cfg->tap;
    if (t && t->rx_max_fds > l.max_fds) l.max_fds = t->rx_max_fds > VFU_MAX_FDS ? VFU_MAX_FDS : t->rx_max_fds;
    return l;
}

/* --------------------------------------------------------- the peer --- */

static bool peer_send(void *ctx, const struct vfu_enc *e, struct vfu_error *err)
{
    struct loop *L = ctx;
    const struct srv_loop_tap *t = L->cfg->tap;
    if (t && t->send) return t->send(t->ctx, &L->main, e, err);
    return vfu_send_enc(&L->main, e, err);
}

static void tap_recv(struct loop *L, const struct vfu_conn *c)
{
    const struct srv_loop_tap *t = L->cfg->tap;
    if (t && t->recv) t->recv(t->ctx, c->rbuf, c->rlen, c->rfds, c->nrfds);
}

static bool peer_request(void *ctx, const struct vfu_enc *req, struct vfu_msg *reply,
                         struct vfu_error *err)
{
    struct loop *L = ctx;
    struct vfu_conn *c = L->twin.fd >= 0 ? &L->twin : &L->main;
    struct vfu_hdr want;
    vfu_hdr_decode(req->buf, req->len, &want, NULL);
    /* the tap sees the server's requests too (on whichever socket) */
    const struct srv_loop_tap *t = L->cfg->tap;
    if (!(t && t->send ? t->send(t->ctx, c, req, err) : vfu_send_enc(c, req, err))) return false;
    for (;;) {
        if (!vfu_recv(c, err)) {
            if (err->code != VFU_E_FD_TRUNC) return false;
            /* in step still: a command gets its error reply later */
            struct vfu_hdr h;
            vfu_hdr_decode(c->rbuf, c->rlen, &h, NULL);
            if (c == &L->main && (h.flags & VFU_HDR_FLAGS_TYPE_MASK) == VFU_MSG_TYPE_COMMAND &&
                !enqueue(L, c, err))
                return false;
            if (h.msg_id == want.msg_id && (h.flags & VFU_HDR_FLAGS_TYPE_MASK) == VFU_MSG_TYPE_REPLY)
                return false;
            continue;
        }
        tap_recv(L, c);
        struct vfu_hdr h;
        vfu_hdr_decode(c->rbuf, c->rlen, &h, NULL);
        bool is_reply = (h.flags & VFU_HDR_FLAGS_TYPE_MASK) == VFU_MSG_TYPE_REPLY;
        if (!is_reply) {
            if (c == &L->twin) {
                /* nothing but replies comes back on the twin */
                vfu_error_set(err, VFU_E_DIRECTION, h.cmd, -1, h.cmd, 0);
                return false;
            }
            if (!enqueue(L, c, NULL)) {
                vfu_error_set(err, VFU_E_NOMEM, -1, -1, QUEUE_MAX, QUEUE_MAX);
                return false;
            }
            continue;
        }
        if (h.msg_id != want.msg_id || h.cmd != want.cmd) {
            /* a late reply to a request that timed out */
            vfu_conn_close_fds(c);
            continue;
        }
        if (!vfu_decode(reply, c->rbuf, c->rlen, c->rfds, c->nrfds, &c->lim, VFU_ROLE_SERVER, err))
            return false;
        return true;
    }
}

static bool peer_twin(void *ctx, int fd)
{
    struct loop *L = ctx;
    struct vfu_error err;
    struct vfu_limits tl = sock_limits(L, &L->rx);
    if (!vfu_conn_init(&L->twin, fd, &tl, &err)) {
        L->twin.fd = -1;
        return false;
    }
    conn_setup(L, &L->twin, " twin");
    return true;
}

/* applied once the message that changed them is done with the buffer */
static void peer_limits(void *ctx, const struct vfu_limits *rx)
{
    struct loop *L = ctx;
    L->rx = *rx;
    L->rx_changed = true;
}

/* ------------------------------------------------------------- loop --- */

static void end_session(struct loop *L)
{
    queue_clear(L);
    srv_disconnect(L->s);
    if (L->twin.fd >= 0) vfu_conn_close(&L->twin);
    if (L->main.fd >= 0) vfu_conn_close(&L->main);
    L->twin.fd = L->main.fd = -1;
}

static void apply_limits(struct loop *L)
{
    if (!L->rx_changed) return;
    L->rx_changed = false;
    struct vfu_error err;
    struct vfu_limits l = sock_limits(L, &L->rx);
    if (L->main.fd >= 0 && !vfu_conn_set_limits(&L->main, &l, &err)) srv_log("limits: out of memory");
    if (L->twin.fd >= 0 && !vfu_conn_set_limits(&L->twin, &l, &err)) srv_log("limits: out of memory");
}

static enum srv_verdict reject_framed(struct loop *L, const uint8_t *buf, uint32_t len,
                                      const struct vfu_error *why)
{
    struct vfu_msg m;
    memset(&m, 0, sizeof m);
    if (!vfu_hdr_decode(buf, len, &m.hdr, NULL)) return SRV_CLOSE;
    m.is_reply = (m.hdr.flags & VFU_HDR_FLAGS_TYPE_MASK) == VFU_MSG_TYPE_REPLY;
    return srv_reject(L->s, &m, why);
}

static enum srv_verdict drain_queue(struct loop *L)
{
    while (L->qlen) {
        struct queued q = L->q[L->qhead];
        L->qhead = (L->qhead + 1) % QUEUE_MAX;
        L->qlen--;
        enum srv_verdict v = q.reject.code == VFU_OK
                                 ? srv_input(L->s, q.buf, q.len, q.fds, q.nfds)
                                 : reject_framed(L, q.buf, q.len, &q.reject);
        queued_free(&q);
        apply_limits(L);
        if (v == SRV_CLOSE) return v;
    }
    return SRV_CONTINUE;
}

/* idle: nothing else to watch, so wait in the read itself */
static enum srv_verdict on_main(struct loop *L, bool idle)
{
    struct vfu_error err;
    if (!(idle ? vfu_recv_idle(&L->main, &err) : vfu_recv(&L->main, &err))) {
        if (err.code == VFU_E_FD_TRUNC) return reject_framed(L, L->main.rbuf, L->main.rlen, &err);
        if (err.code != VFU_E_EOF || err.got) {
            char b[200];
            vfu_error_str(&err, b, sizeof b);
            srv_log("client dropped: %s", b);
        }
        return SRV_CLOSE;
    }
    tap_recv(L, &L->main);
    if (srv_dma_probe_due(L->s) && enqueue(L, &L->main, NULL)) {
        /* the command waits in the queue, copied, while the probe's
         * round trips reuse the receive buffer */
        srv_dma_probe(L->s);
        return drain_queue(L);
    }
    enum srv_verdict v = srv_input(L->s, L->main.rbuf, L->main.rlen, L->main.rfds, L->main.nrfds);
    vfu_conn_close_fds(&L->main);
    apply_limits(L);
    if (v == SRV_CLOSE) return v;
    return drain_queue(L);
}

/* Nothing is expected on the twin between our requests: a peer that closes
 * it or talks on it is done with the session. */
static enum srv_verdict on_twin(struct loop *L)
{
    struct vfu_error err;
    if (!vfu_recv(&L->twin, &err)) return SRV_CLOSE;
    srv_log("unsolicited message on the twin socket dropped");
    vfu_conn_close_fds(&L->twin);
    return SRV_CONTINUE;
}

static bool start_session(struct loop *L, int fd)
{
    struct vfu_error err;
    vfu_limits_default(&L->rx);
    struct vfu_limits l = sock_limits(L, srv_rx_limits(L->s));
    if (!vfu_conn_init(&L->main, fd, &l, &err)) {
        L->main.fd = -1;
        srv_log("client setup failed: out of memory");
        return false;
    }
    conn_setup(L, &L->main, "");
    /* one recvmsg per request when it has arrived whole (commands queued
     * behind a DMA round trip come out of the same buffer) */
    L->main.read_ahead = true;
    L->rx_changed = false;
    return true;
}

int srv_loop_run(const struct srv_loop_cfg *cfg)
{
    struct loop L = {.cfg = cfg};
    L.main.fd = L.twin.fd = -1;
    struct srv_peer peer = {peer_send, peer_request, peer_twin, peer_limits, &L};
    int err;
    L.s = srv_create(&cfg->opt, &peer, &err);
    if (!L.s) {
        srv_log("cannot create the device: %s", strerror(err));
        if (cfg->lfd >= 0) close(cfg->lfd);
        if (cfg->cfd >= 0) close(cfg->cfd);
        return 1;
    }
    int rc = 0;
    bool served = false;
    if (cfg->cfd >= 0 && !start_session(&L, cfg->cfd)) rc = 1;
    while (rc == 0) {
        if (L.main.fd < 0) {
            if (served && (cfg->once || cfg->lfd < 0)) break;
            struct vfu_error e;
            int fd = vfu_accept(cfg->lfd, -1, &e);
            if (fd < 0) {
                if (e.code == VFU_E_IO && (e.sys_errno == EINTR || e.sys_errno == ECONNABORTED)) continue;
                srv_log("accept: %s", strerror(e.sys_errno));
                rc = 1;
                break;
            }
            if (!start_session(&L, fd)) continue;
        }
        served = true;
        enum srv_verdict v = SRV_CONTINUE;
        /* A request already read, or nothing but the main socket to watch:
         * no poll, so a request costs one recvmsg and one sendmsg. */
        /* the fault second-client-replaces-first: the listening socket
         * is watched while a client is attached, and a new connection
         * ends the current session */
        bool steal = cfg->lfd >= 0 && srv_fault_in(cfg->opt.faults, FAULT_SECOND_CLIENT_REPLACES_FIRST);
        bool alone = L.twin.fd < 0 && srv_ioeventfd(L.s) < 0 && !steal;
        if (vfu_conn_pending(&L.main) || alone) {
            v = on_main(&L, !vfu_conn_pending(&L.main));
            if (v == SRV_CLOSE) end_session(&L);
            continue;
        }
        struct pollfd p[4] = {{L.main.fd, POLLIN, 0}, {L.twin.fd, POLLIN, 0},
                              {srv_ioeventfd(L.s), POLLIN, 0}, {steal ? cfg->lfd : -1, POLLIN, 0}};
        if (poll(p, 4, -1) < 0) {
            if (errno == EINTR) continue;
            srv_log("poll: %s", strerror(errno));
            rc = 1;
            break;
        }
        if (p[3].revents) {
            end_session(&L);
            continue;
        }
        if (p[0].revents) v = on_main(&L, false);
        if (v == SRV_CONTINUE && L.twin.fd >= 0 && p[1].revents) v = on_twin(&L);
        if (v == SRV_CONTINUE && p[2].fd >= 0 && p[2].fd == srv_ioeventfd(L.s) && p[2].revents) {
            v = srv_ioevent(L.s);
            if (v == SRV_CONTINUE) v = drain_queue(&L);
        }
        if (v == SRV_CLOSE) end_session(&L);
    }
    end_session(&L);
    srv_destroy(L.s);
    if (cfg->lfd >= 0) close(cfg->lfd);
    return rc;
}
