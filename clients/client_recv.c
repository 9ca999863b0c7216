/* Receiving: the wait loop over both sockets, and the one path every
 * message takes, whether it came from a socket or from vfu_client_feed. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "client_priv.h"

void vfu_cl_process(struct vfu_client *c, enum vfu_sock sock, const uint8_t *buf, size_t len,
                    int *fds, unsigned nfds)
{
    c->stats.msgs_rx[sock]++;
    struct vfu_hdr h;
    struct vfu_error err;
    if (!vfu_hdr_decode(buf, len, &h, &err)) {
        vfu_cl_violation(c, VFU_V_FRAMING, sock, 0, &err);
        vfu_cl_close_fds(fds, nfds);
        return;
    }
    struct vfu_msg m;
    bool ok = vfu_decode(&m, buf, len, fds, nfds, &c->rx, VFU_ROLE_CLIENT, &err);
    /* the type bits decide the path even when the rest does not decode:
     * a broken reply still answers (and unblocks) the request it names */
    uint32_t type = h.flags & VFU_HDR_FLAGS_TYPE_MASK;
    if (type == VFU_MSG_TYPE_REPLY) {
        vfu_cl_reply_in(c, sock, &h, ok, &err, buf, len, fds, nfds);
        return;
    }
    if (type == VFU_MSG_TYPE_COMMAND)
        vfu_cl_server_cmd(c, sock, &h, &m, ok, &err);
    else
        vfu_cl_violation(c, VFU_V_DECODE, sock, h.msg_id, &err);
    vfu_cl_close_fds(fds, nfds);
}

void vfu_client_feed(struct vfu_client *c, enum vfu_sock sock, const uint8_t *buf, size_t len,
                     const int *fds_in, unsigned nfds)
{
    int fds[VFU_MAX_FDS];
    struct vfu_error err;
    if ((unsigned)sock > VFU_SOCK_TWIN || nfds > VFU_MAX_FDS || (len && !buf)) {
        for (unsigned i = 0; i < nfds; i++)
            if (fds_in[i] >= 0) close(fds_in[i]);
        vfu_error_set(&err, VFU_E_FD_TRUNC, -1, -1, nfds, VFU_MAX_FDS);
        vfu_cl_violation(c, VFU_V_FRAMING, VFU_SOCK_MAIN, 0, &err);
        return;
    }
    if (nfds) memcpy(fds, fds_in, nfds * sizeof *fds);
    struct vfu_trace_hook t = vfu_cl_trace_hook(c, sock);
    if (t.fn) t.fn(t.ctx, VFU_TRACE_RX, buf, len, fds, nfds, NULL);
    /* what the transport checks before a message reaches vfu_cl_process */
    uint32_t msg_size = 0;
    bool framed = len >= VFU_HDR_SIZE && vfu_frame_size(buf, &c->rx, &msg_size, &err);
    if (len < VFU_HDR_SIZE) vfu_error_set(&err, VFU_E_HDR_SHORT, -1, -1, len, VFU_HDR_SIZE);
    if (framed && msg_size != len) {
        vfu_error_set(&err, VFU_E_SIZE_MISMATCH, -1, VFU_F_HEADER_MSG_SIZE, msg_size, len);
        framed = false;
    }
    if (framed && nfds > c->rx.max_fds) {
        vfu_error_set(&err, VFU_E_FD_TRUNC, -1, -1, nfds, c->rx.max_fds);
        framed = false;
    }
    if (!framed) {
        vfu_cl_violation(c, VFU_V_FRAMING, sock, 0, &err);
        vfu_cl_close_fds(fds, nfds);
        return;
    }
    vfu_cl_process(c, sock, buf, len, fds, nfds);
}

static void sock_gone(struct vfu_client *c, enum vfu_sock s, bool eof)
{
    c->open[s] = false;
    if (s != VFU_SOCK_MAIN) return;
    if (eof) c->peer_closed = true;
    else c->broken = true;
}

static void recv_one(struct vfu_client *c, enum vfu_sock s)
{
    struct vfu_conn *cn = &c->conn[s];
    struct vfu_error err;
    if (vfu_recv(cn, &err)) {
        int fds[VFU_MAX_FDS];
        unsigned n = cn->nrfds > VFU_MAX_FDS ? VFU_MAX_FDS : cn->nrfds;
        for (unsigned i = 0; i < n; i++) fds[i] = vfu_conn_take_fd(cn, i);
        vfu_cl_process(c, s, cn->rbuf, cn->rlen, fds, n);
        return;
    }
    switch (err.code) {
    case VFU_E_EOF:
        if (err.got) vfu_cl_violation(c, VFU_V_FRAMING, s, 0, &err);  /* cut mid-message */
        sock_gone(c, s, true);
        break;
    case VFU_E_IO:
        sock_gone(c, s, err.sys_errno == ECONNRESET);
        break;
    case VFU_E_FD_TRUNC:
        /* the bytes were read whole: the stream is still in step */
        vfu_cl_violation(c, VFU_V_FRAMING, s, 0, &err);
        break;
    default:
        /* a stalled or oversized message: nothing after it can be trusted */
        vfu_cl_violation(c, VFU_V_FRAMING, s, 0, &err);
        sock_gone(c, s, false);
        break;
    }
}

static bool main_gone(const struct vfu_client *c)
{
    return !c->inproc && !c->open[VFU_SOCK_MAIN];
}

int vfu_cl_pump(struct vfu_client *c, int timeout_ms, int extra_fd, bool *extra_ready)
{
    struct pollfd pfd[4];
    int who[4];
    nfds_t n = 0;
    if (extra_ready) *extra_ready = false;
    if (!c->inproc)
        for (int s = 0; s < 2; s++)
            if (c->open[s]) {
                pfd[n].fd = c->conn[s].fd;
                pfd[n].events = POLLIN;
                who[n++] = s;
            }
    if (extra_fd >= 0) {
        pfd[n].fd = extra_fd;
        pfd[n].events = POLLIN;
        who[n++] = -1;
    }
    if (main_gone(c) && extra_fd < 0) return -1;
    if (n == 0) return 0;   /* in-process: nothing can arrive by waiting */
    /* a stop (vfu_transport_set_stop) wakes the wait; the caller's deadline is then
     * over (vfu_cl_remaining) */
    if (vfu_transport_stop_fd() >= 0 && timeout_ms != 0) {
        if (vfu_transport_stopped()) timeout_ms = 0;
        pfd[n].fd = vfu_transport_stop_fd();
        pfd[n].events = POLLIN;
        who[n++] = -2;
    }
    int r = poll(pfd, n, timeout_ms);
    if (r < 0) {
        if (errno == EINTR) return 0;
        /* poll itself failing will not get better by retrying */
        c->broken = true;
        c->open[VFU_SOCK_MAIN] = c->open[VFU_SOCK_TWIN] = false;
        return -1;
    }
    int done = 0;
    for (nfds_t i = 0; i < n; i++) {
        if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        if (who[i] == -2) continue;
        if (who[i] < 0) {
            if (extra_ready) *extra_ready = true;
        } else {
            recv_one(c, (enum vfu_sock)who[i]);
        }
        done = 1;
    }
    if (main_gone(c) && !(extra_ready && *extra_ready)) return -1;
    return done;
}

/* what one vfu_client_pump drains at most, so a flood cannot hold it */
#define PUMP_BATCH 256

int vfu_client_pump(struct vfu_client *c, int timeout_ms)
{
    int64_t deadline = timeout_ms < 0 ? -1 : vfu_cl_now_ms() + timeout_ms;
    int any = 0;
    for (unsigned i = 0; i < PUMP_BATCH; i++) {
        int r = vfu_cl_pump(c, any ? 0 : vfu_cl_remaining(deadline), -1, NULL);
        if (r < 0) return -1;
        if (r == 0) return any;
        any = 1;
    }
    return any;
}
