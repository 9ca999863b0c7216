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

#include "vfu_transport.h"
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

static void close_ahead(struct vfu_conn *c)
{
    for (unsigned i = 0; i < c->nafds; i++) close(c->afds[i]);
    c->nafds = c->a_arrived = 0;
    c->a_ctrunc = false;
    c->alen = 0;
    free(c->ahead);
    c->ahead = NULL;
    c->acap = 0;
}

void vfu_conn_close(struct vfu_conn *c)
{
    vfu_conn_close_fds(c);
    close_ahead(c);
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
    if (vfu_conn_pending(c)) return 1;
    return vfu_wait_until(c->fd, POLLIN, vfu_deadline(timeout_ms));
}

bool vfu_conn_pending(const struct vfu_conn *c)
{
    return c->read_ahead && c->alen > 0;
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

/* the end of both receive paths: a read that failed, fds cut short, or
 * the message whole in rbuf */
static bool rx_done(struct vfu_conn *c, struct rx *r, enum vfu_errc code, uint32_t size, struct vfu_error *err)
{
    if (code != VFU_OK) {
        vfu_error_set(err, code, -1, -1, r->got, size);
        err->sys_errno = r->sys;
        return rx_fail(r, err);
    }
    if (r->ctrunc || r->arrived > c->lim.max_fds) {
        /* the message itself was read whole: the stream is still in step */
        vfu_error_set(err, VFU_E_FD_TRUNC, -1, -1, r->arrived, c->lim.max_fds);
        return rx_fail(r, err);
    }
    c->rlen = size;
    trace(c, VFU_TRACE_RX, c->rbuf, size, c->rfds, c->nrfds, NULL);
    return true;
}

static bool recv_ahead(struct vfu_conn *c, bool idle, struct vfu_error *err);

bool vfu_recv(struct vfu_conn *c, struct vfu_error *err)
{
    struct vfu_error local;
    if (!err) err = &local;
    if (c->read_ahead) return recv_ahead(c, false, err);
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
    return rx_done(c, &r, code, size, err);
}

/* ------------------------------------------------- read-ahead receive ---
 *
 * Which message do fds belong to, when one recvmsg took the end of one
 * message and the start of the next?  The kernel hands over a sender's fds
 * with the first bytes of the sendmsg that carried them and stops the read
 * right after that chunk, so they came with the last chunk read.  Senders
 * (ours, libvfio-user, QEMU) attach a message's fds to a sendmsg that
 * starts that message: the fds belong to the message holding the last byte
 * read.  A read that did not pass the current message gives them to it, as
 * the exact reader above does. */

/* the last message that starts in p[0..len): where its header is */
static uint32_t last_start(const uint8_t *p, uint32_t len)
{
    uint32_t pos = 0;
    while (len - pos >= VFU_HDR_SIZE) {
        struct vfu_hdr h;
        vfu_hdr_decode(p + pos, len - pos, &h, NULL);
        /* a size that cannot frame ends the walk: the stream is broken there */
        if (h.msg_size < VFU_HDR_SIZE || h.msg_size >= len - pos) break;
        pos += h.msg_size;
    }
    return pos;
}

/* msg_size of the message at rbuf[0], 0 while its header is incomplete */
static uint32_t cur_size(const struct vfu_conn *c, uint32_t got)
{
    struct vfu_hdr h;
    if (got < VFU_HDR_SIZE) return 0;
    vfu_hdr_decode(c->rbuf, got, &h, NULL);
    return h.msg_size;
}

struct fd_batch {
    int fd[VFU_MAX_FDS];
    unsigned n, arrived;
    bool ctrunc;
};

static void batch_collect(struct fd_batch *b, struct msghdr *mh)
{
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
        size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        const unsigned char *p = CMSG_DATA(cm);
        for (size_t i = 0; i < n; i++) {
            int fd;
            memcpy(&fd, p + i * sizeof fd, sizeof fd);
            b->arrived++;
            if (b->n < VFU_MAX_FDS) b->fd[b->n++] = fd;
            else close(fd);
        }
    }
    if (mh->msg_flags & MSG_CTRUNC) b->ctrunc = true;
}

/* into a message's fd list, up to the limit; the rest closed, all counted */
static void batch_give(struct fd_batch *b, int *fds, unsigned *nfds, unsigned *arrived, bool *ctrunc,
                       unsigned max)
{
    for (unsigned i = 0; i < b->n; i++)
        if (*nfds < max) fds[(*nfds)++] = b->fd[i];
        else close(b->fd[i]);
    *arrived += b->arrived;
    *ctrunc |= b->ctrunc;
    b->n = b->arrived = 0;
    b->ctrunc = false;
}

/* the next message's bytes (and fds) that an earlier read took: at most
 * one message moves into rbuf */
static void take_ahead(struct rx *r)
{
    struct vfu_conn *c = r->c;
    uint32_t n = c->alen;
    if (n >= VFU_HDR_SIZE) {
        struct vfu_hdr h;
        vfu_hdr_decode(c->ahead, n, &h, NULL);
        if (h.msg_size >= VFU_HDR_SIZE && h.msg_size < n) n = h.msg_size;
    }
    if (n > c->rcap) n = (uint32_t)c->rcap;
    memcpy(c->rbuf, c->ahead, n);
    memmove(c->ahead, c->ahead + n, c->alen - n);
    c->alen -= n;
    r->got = n;
    if (!c->nafds && !c->a_arrived && !c->a_ctrunc) return;
    if (c->a_fd_at >= n) {
        c->a_fd_at -= n;
        return;
    }
    struct fd_batch b = {.n = c->nafds, .arrived = c->a_arrived, .ctrunc = c->a_ctrunc};
    memcpy(b.fd, c->afds, c->nafds * sizeof(int));
    c->nafds = c->a_arrived = 0;
    c->a_ctrunc = false;
    batch_give(&b, c->rfds, &c->nrfds, &r->arrived, &r->ctrunc, c->lim.max_fds);
}

/* Reads until want bytes of the current message are in, taking whatever
 * else has arrived up to the buffer's end.  idle: the first call blocks
 * without a deadline, which starts once bytes came. */
static enum vfu_errc read_ahead_to(struct rx *r, uint32_t want, int64_t *deadline, bool idle)
{
    struct vfu_conn *c = r->c;
    while (r->got < want) {
        union fd_ctl ctl;
        struct iovec iov = {.iov_base = c->rbuf + r->got, .iov_len = c->rcap - r->got};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
                            .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
        ssize_t n = recvmsg(c->fd, &mh, (idle ? 0 : MSG_DONTWAIT) | MSG_CMSG_CLOEXEC);
        if (n > 0) {
            if (idle) *deadline = vfu_deadline(c->timeout_ms);
            idle = false;
            struct fd_batch b = {.n = 0};
            batch_collect(&b, &mh);
            r->got += (uint32_t)n;
            uint32_t size = cur_size(c, r->got);
            if (size >= VFU_HDR_SIZE && r->got > size) {
                /* past the message: the rest waits for the next call */
                uint32_t extra = r->got - size;
                memcpy(c->ahead, c->rbuf + size, extra);
                c->alen = extra;
                r->got = size;
                c->a_fd_at = last_start(c->ahead, extra);
                batch_give(&b, c->afds, &c->nafds, &c->a_arrived, &c->a_ctrunc, VFU_MAX_FDS);
            } else {
                batch_give(&b, c->rfds, &c->nrfds, &r->arrived, &r->ctrunc, c->lim.max_fds);
            }
            continue;
        }
        if (n == 0) return VFU_E_EOF;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            /* a non-blocking socket: wait in poll instead */
            idle = false;
            int w = vfu_wait_until(c->fd, POLLIN, *deadline);
            if (w > 0) continue;
            if (w == 0) return VFU_E_TIMEOUT;
        }
        r->sys = errno;
        return r->sys == ECONNRESET ? VFU_E_EOF : VFU_E_IO;
    }
    return VFU_OK;
}

static bool recv_ahead(struct vfu_conn *c, bool idle, struct vfu_error *err)
{
    vfu_error_set(err, VFU_OK, -1, -1, 0, 0);
    vfu_conn_close_fds(c);
    c->rlen = 0;
    struct rx r = {.c = c};
    if (c->alen) {
        take_ahead(&r);
        idle = false;
    }
    /* Room for whatever one read may take past the message.  Reads happen
     * only once ahead is empty: what is left there after take_ahead is a
     * next message, and the current one is then complete (or too big). */
    if (c->acap < c->rcap && c->alen == 0) {
        uint8_t *b = realloc(c->ahead, c->rcap);
        if (!b) {
            vfu_error_set(err, VFU_E_NOMEM, -1, -1, c->rcap, 0);
            return rx_fail(&r, err);
        }
        c->ahead = b;
        c->acap = c->rcap;
    }
    int64_t deadline = vfu_deadline(idle ? -1 : c->timeout_ms);
    uint32_t size = VFU_HDR_SIZE;
    enum vfu_errc code = read_ahead_to(&r, size, &deadline, idle);
    if (code == VFU_OK) {
        if (!vfu_frame_size(c->rbuf, &c->lim, &size, err)) return rx_fail(&r, err);
        /* a message that came whole in the first read is done here */
        code = read_ahead_to(&r, size, &deadline, false);
    }
    return rx_done(c, &r, code, size, err);
}

bool vfu_recv_idle(struct vfu_conn *c, struct vfu_error *err)
{
    struct vfu_error local;
    if (!err) err = &local;
    if (!c->read_ahead) return vfu_recv(c, err);
    return recv_ahead(c, true, err);
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
