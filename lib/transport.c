/* Whole vfio-user messages and their SCM_RIGHTS fds over an AF_UNIX stream.
 * Every call is non-blocking underneath (MSG_DONTWAIT) and waits in poll,
 * so one deadline bounds a whole message however it is split, whatever the
 * socket's own O_NONBLOCK says. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport.h"
#include "transport_wait.h"

/* room for as many fds as one sendmsg can carry, so the count that arrived
 * is known even when it is over our limit */
union fd_ctl {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int) * VFU_MAX_FDS)];
};

static void trace(struct vfu_conn *c, enum vfu_trace_dir dir, const uint8_t *buf, size_t len,
                  const int *fds, unsigned nfds, const struct vfu_error *err)
{
    if (c->trace.fn) c->trace.fn(c->trace.ctx, dir, buf, len, fds, nfds, err);
}

/* names the message in an error once its header is known */
static void hdr_context(struct vfu_error *err, const uint8_t *buf, size_t len)
{
    struct vfu_hdr h;
    if (len < VFU_HDR_SIZE || !vfu_hdr_decode(buf, len, &h, NULL)) return;
    err->cmd = (int16_t)h.cmd;
    err->is_reply = (h.flags & VFU_HDR_FLAGS_TYPE_MASK) == VFU_MSG_TYPE_REPLY;
}

static size_t rbuf_size(const struct vfu_limits *lim)
{
    /* the header is always read whole before its msg_size is judged */
    return lim->max_msg_size < VFU_HDR_SIZE ? VFU_HDR_SIZE : lim->max_msg_size;
}

bool vfu_conn_init(struct vfu_conn *c, int fd, const struct vfu_limits *lim, struct vfu_error *err)
{
    memset(c, 0, sizeof *c);
    c->fd = fd;
    c->timeout_ms = -1;
    for (unsigned i = 0; i < VFU_MAX_FDS; i++) c->rfds[i] = -1;
    struct vfu_limits dl;
    if (!lim) { vfu_limits_default(&dl); lim = &dl; }
    if (!vfu_conn_set_limits(c, lim, err)) {
        close(fd);
        c->fd = -1;
        return false;
    }
    return true;
}

bool vfu_conn_set_limits(struct vfu_conn *c, const struct vfu_limits *lim, struct vfu_error *err)
{
    size_t want = rbuf_size(lim);
    if (!c->rbuf || want != c->rcap) {
        uint8_t *b = realloc(c->rbuf, want);
        if (!b) {
            vfu_error_set(err, VFU_E_NOMEM, -1, -1, want, 0);
            return false;
        }
        c->rbuf = b;
        c->rcap = want;
        if (c->rlen > want) c->rlen = (uint32_t)want;
    }
    c->lim = *lim;
    /* no single message can carry more, and rfds holds no more */
    if (c->lim.max_fds > VFU_MAX_FDS) c->lim.max_fds = VFU_MAX_FDS;
    return true;
}

void vfu_conn_close_fds(struct vfu_conn *c)
{
    for (unsigned i = 0; i < c->nrfds; i++) {
        if (c->rfds[i] >= 0) close(c->rfds[i]);
        c->rfds[i] = -1;
    }
    c->nrfds = 0;
}

void vfu_conn_close(struct vfu_conn *c)
{
    vfu_conn_close_fds(c);
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    free(c->rbuf);
    c->rbuf = NULL;
    c->rcap = 0;
    c->rlen = 0;
}

int vfu_conn_take_fd(struct vfu_conn *c, unsigned i)
{
    if (i >= c->nrfds) return -1;
    int fd = c->rfds[i];
    c->rfds[i] = -1;
    return fd;
}

int vfu_conn_wait(struct vfu_conn *c, int timeout_ms)
{
    return vfu_wait_until(c->fd, POLLIN, vfu_deadline(timeout_ms));
}

/* ------------------------------------------------------------- send --- */

bool vfu_send(struct vfu_conn *c, const uint8_t *buf, size_t len, const int *fds, unsigned nfds,
              struct vfu_error *err)
{
    struct vfu_error local;
    if (!err) err = &local;
    vfu_error_set(err, VFU_OK, -1, -1, 0, 0);
    /* a stream carries fds only alongside at least one byte */
    if (nfds > VFU_MAX_FDS || (nfds && !len)) {
        vfu_error_set(err, VFU_E_FDS, -1, -1, nfds, len ? VFU_MAX_FDS : 0);
        hdr_context(err, buf, len);
        trace(c, VFU_TRACE_TX, buf, 0, fds, nfds, err);
        return false;
    }
    int64_t deadline = vfu_deadline(c->timeout_ms);
    union fd_ctl ctl;
    size_t sent = 0;
    bool fds_pending = nfds > 0;
    enum vfu_errc code = VFU_OK;
    int sys = 0;
    while (sent < len) {
        struct iovec iov = {.iov_base = (void *)(buf + sent), .iov_len = len - sent};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        if (fds_pending) {
            memset(&ctl, 0, sizeof ctl);
            mh.msg_control = ctl.buf;
            mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
            struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
            cm->cmsg_level = SOL_SOCKET;
            cm->cmsg_type = SCM_RIGHTS;
            cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
            memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
        }
        ssize_t n = sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            /* the kernel attaches the fds to the first bytes it takes */
            sent += (size_t)n;
            fds_pending = false;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK) {
            int w = vfu_wait_until(c->fd, POLLOUT, deadline);
            if (w > 0) continue;
            if (w == 0) { code = VFU_E_TIMEOUT; break; }
        }
        sys = errno;
        code = sys == EPIPE || sys == ECONNRESET ? VFU_E_EOF : VFU_E_IO;
        break;
    }
    if (code != VFU_OK) {
        vfu_error_set(err, code, -1, -1, sent, len);
        err->sys_errno = sys;
        hdr_context(err, buf, len);
        trace(c, VFU_TRACE_TX, buf, sent, fds, nfds, err);
        return false;
    }
    trace(c, VFU_TRACE_TX, buf, len, fds, nfds, NULL);
    return true;
}

bool vfu_send_enc(struct vfu_conn *c, const struct vfu_enc *e, struct vfu_error *err)
{
    if (e->err.code != VFU_OK) {
        if (err) *err = e->err;
        return false;
    }
    return vfu_send(c, e->buf, e->len, e->fds, e->nfds, err);
}

/* ---------------------------------------------------------- receive --- */

struct rx {
    struct vfu_conn *c;
    uint32_t got;       /* bytes of the message in c->rbuf */
    unsigned arrived;   /* fds the peer sent with it, kept or not */
    bool ctrunc;        /* the kernel dropped some */
    int sys;            /* errno behind VFU_E_IO or a reset */
};

/* keeps fds up to the limit; the rest are closed at once but counted */
static void collect_fds(struct rx *r, struct msghdr *mh)
{
    struct vfu_conn *c = r->c;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
        size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        const unsigned char *p = CMSG_DATA(cm);
        for (size_t i = 0; i < n; i++) {
            int fd;
            memcpy(&fd, p + i * sizeof fd, sizeof fd);
            r->arrived++;
            if (c->nrfds < c->lim.max_fds) c->rfds[c->nrfds++] = fd;
            else close(fd);
        }
    }
    if (mh->msg_flags & MSG_CTRUNC) r->ctrunc = true;
}

/* Reads until want bytes of the message are in; never past them, so the
 * next message's bytes (and fds) stay in the socket. */
static enum vfu_errc read_to(struct rx *r, uint32_t want, int64_t deadline)
{
    struct vfu_conn *c = r->c;
    while (r->got < want) {
        union fd_ctl ctl;
        struct iovec iov = {.iov_base = c->rbuf + r->got, .iov_len = want - r->got};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
                            .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
        ssize_t n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n > 0) {
            collect_fds(r, &mh);
            r->got += (uint32_t)n;
            continue;
        }
        if (n == 0) return VFU_E_EOF;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int w = vfu_wait_until(c->fd, POLLIN, deadline);
            if (w > 0) continue;
            if (w == 0) return VFU_E_TIMEOUT;
        }
        r->sys = errno;
        return r->sys == ECONNRESET ? VFU_E_EOF : VFU_E_IO;
    }
    return VFU_OK;
}

static bool rx_fail(struct rx *r, struct vfu_error *err)
{
    struct vfu_conn *c = r->c;
    c->rlen = r->got;
    hdr_context(err, c->rbuf, r->got);
    if (r->got || c->nrfds) trace(c, VFU_TRACE_RX, c->rbuf, r->got, c->rfds, c->nrfds, err);
    vfu_conn_close_fds(c);
    return false;
}

bool vfu_recv(struct vfu_conn *c, struct vfu_error *err)
{
    struct vfu_error local;
    if (!err) err = &local;
    vfu_error_set(err, VFU_OK, -1, -1, 0, 0);
    vfu_conn_close_fds(c);
    c->rlen = 0;

    struct rx r = {.c = c};
    int64_t deadline = vfu_deadline(c->timeout_ms);
    uint32_t size = VFU_HDR_SIZE;
    enum vfu_errc code = read_to(&r, size, deadline);
    if (code == VFU_OK) {
        /* judged before another byte is read or anything allocated */
        if (!vfu_frame_size(c->rbuf, &c->lim, &size, err)) return rx_fail(&r, err);
        code = read_to(&r, size, deadline);
    }
    if (code != VFU_OK) {
        vfu_error_set(err, code, -1, -1, r.got, size);
        err->sys_errno = r.sys;
        return rx_fail(&r, err);
    }
    if (r.ctrunc || r.arrived > c->lim.max_fds) {
        /* the message itself was read whole: the stream is still in step */
        vfu_error_set(err, VFU_E_FD_TRUNC, -1, -1, r.arrived, c->lim.max_fds);
        return rx_fail(&r, err);
    }
    c->rlen = size;
    trace(c, VFU_TRACE_RX, c->rbuf, size, c->rfds, c->nrfds, NULL);
    return true;
}

bool vfu_recv_msg(struct vfu_conn *c, struct vfu_msg *m, enum vfu_role receiver,
                  struct vfu_error *err)
{
    struct vfu_error local;
    if (!err) err = &local;
    if (!vfu_recv(c, err)) {
        memset(m, 0, offsetof(struct vfu_msg, parts));
        m->nparts = 0;
        /* what arrived of the header still names the message */
        if (c->rlen >= VFU_HDR_SIZE) vfu_hdr_decode(c->rbuf, c->rlen, &m->hdr, NULL);
        return false;
    }
    if (!vfu_decode(m, c->rbuf, c->rlen, c->rfds, c->nrfds, &c->lim, receiver, err)) {
        vfu_conn_close_fds(c);
        m->nfds = 0;
        return false;
    }
    return true;
}
