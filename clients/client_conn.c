/* Client lifecycle: sockets (connect, adopt, in-process), limits, sending,
 * and a clean close that leaves no fd or mapping behind. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client_priv.h"

void vfu_client_opts_default(struct vfu_client_opts *o)
{
    memset(o, 0, sizeof *o);
    o->timeout_ms = 5000;
    o->frame_timeout_ms = 2000;
}

int64_t vfu_cl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int vfu_cl_remaining(int64_t deadline)
{
    /* a stop asked by a signal or the time limit ends every wait */
    if (vfu_transport_stopped()) return 0;
    if (deadline < 0) return -1;
    int64_t left = deadline - vfu_cl_now_ms();
    return left < 0 ? 0 : left > 0x7fffffff ? 0x7fffffff : (int)left;
}

void vfu_cl_close_fds(int *fds, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (fds[i] >= 0) { close(fds[i]); fds[i] = -1; }
}

/* room for the fixed parts of any message on top of the transfer data */
#define RX_SLACK (64u * 1024)

static uint32_t rx_msg_size(const struct vfu_client *c, uint64_t xfer)
{
    if (c->opts.rx_max_msg_size) return c->opts.rx_max_msg_size;
    uint64_t n = VFU_HDR_SIZE + RX_SLACK + xfer;
    return n > VFU_CLIENT_RX_CAP ? VFU_CLIENT_RX_CAP : (uint32_t)n;
}

static struct vfu_client *client_new(const struct vfu_client_opts *o, struct vfu_error *err)
{
    struct vfu_client *c = calloc(1, sizeof *c);
    if (!c) {
        vfu_error_set(err, VFU_E_NOMEM, -1, -1, sizeof *c, 0);
        return NULL;
    }
    if (o) c->opts = *o;
    else vfu_client_opts_default(&c->opts);
    for (int s = 0; s < 2; s++) c->conn[s].fd = -1;
    for (unsigned i = 0; i < VFU_CLIENT_MAX_REGIONS; i++) c->regions[i].fd = -1;
    /* before VERSION both sides assume the spec's defaults */
    vfu_limits_default(&c->rx);
    c->rx.max_msg_size = rx_msg_size(c, c->rx.max_data_xfer_size);
    vfu_limits_default(&c->tx);
    c->next_id = 1;
    c->next_ticket = 1;
    return c;
}

static bool conn_open(struct vfu_client *c, enum vfu_sock s, int fd, struct vfu_error *err)
{
    if (!vfu_conn_init(&c->conn[s], fd, &c->rx, err)) {
        c->conn[s].fd = -1;
        return false;
    }
    c->conn[s].trace = vfu_cl_trace_hook(c, s);
    c->conn[s].timeout_ms = c->opts.frame_timeout_ms;
    c->open[s] = true;
    return true;
}

struct vfu_client *vfu_client_adopt(int fd, const struct vfu_client_opts *o, struct vfu_error *err)
{
    struct vfu_client *c = client_new(o, err);
    if (!c) {
        close(fd);
        return NULL;
    }
    if (!conn_open(c, VFU_SOCK_MAIN, fd, err)) {
        free(c);
        return NULL;
    }
    return c;
}

struct vfu_client *vfu_client_connect(const char *path, int timeout_ms,
                                      const struct vfu_client_opts *o, struct vfu_error *err)
{
    int fd = vfu_connect(path, timeout_ms, err);
    if (fd < 0) return NULL;
    return vfu_client_adopt(fd, o, err);
}

struct vfu_client *vfu_client_inproc(const struct vfu_client_opts *o, struct vfu_error *err)
{
    struct vfu_client *c = client_new(o, err);
    if (c) c->inproc = true;
    return c;
}

bool vfu_cl_adopt_twin(struct vfu_client *c, int fd, struct vfu_error *err)
{
    if (c->inproc) {
        /* nothing to read it from: the fed messages say which socket */
        close(fd);
        c->open[VFU_SOCK_TWIN] = true;
        return true;
    }
    if (c->conn[VFU_SOCK_TWIN].fd >= 0) vfu_conn_close(&c->conn[VFU_SOCK_TWIN]);
    c->conn[VFU_SOCK_TWIN].fd = -1;
    c->open[VFU_SOCK_TWIN] = false;
    return conn_open(c, VFU_SOCK_TWIN, fd, err);
}

void vfu_client_close(struct vfu_client *c)
{
    if (!c) return;
    for (int s = 0; s < 2; s++)
        if (c->conn[s].fd >= 0) vfu_conn_close(&c->conn[s]);
    for (unsigned i = 0; i < VFU_CLIENT_MAX_PENDING; i++) vfu_cl_pending_free(&c->pend[i]);
    vfu_cl_mem_close_all(c);
    vfu_cl_close_fds(c->efds, c->nefds);
    free(c->txbuf);
    free(c);
}

int vfu_client_fd(const struct vfu_client *c, enum vfu_sock sock)
{
    return (unsigned)sock < 2 && c->open[sock] && !c->inproc ? c->conn[sock].fd : -1;
}

bool vfu_client_peer_closed(const struct vfu_client *c) { return c->peer_closed; }
bool vfu_client_broken(const struct vfu_client *c) { return c->broken; }

struct vfu_trace_hook vfu_cl_trace_hook(const struct vfu_client *c, enum vfu_sock s)
{
    return s == VFU_SOCK_TWIN && c->opts.trace_twin.fn ? c->opts.trace_twin : c->opts.trace;
}

bool vfu_cl_tx(struct vfu_client *c, enum vfu_sock sock, const uint8_t *buf, size_t len,
               const int *fds, unsigned nfds, struct vfu_error *err)
{
    if (c->inproc) {
        struct vfu_trace_hook t = vfu_cl_trace_hook(c, sock);
        if (t.fn) t.fn(t.ctx, VFU_TRACE_TX, buf, len, fds, nfds, NULL);
        if (c->opts.sink.fn) c->opts.sink.fn(c->opts.sink.ctx, sock, buf, len, fds, nfds);
        c->stats.msgs_tx[sock]++;
        return true;
    }
    if (!c->open[sock]) {
        vfu_error_set(err, sock == VFU_SOCK_MAIN && c->peer_closed ? VFU_E_EOF : VFU_E_IO, -1, -1, 0, 0);
        if (err && err->code == VFU_E_IO) err->sys_errno = ENOTCONN;
        return false;
    }
    struct vfu_error own;
    if (!err) err = &own;
    if (!vfu_send(&c->conn[sock], buf, len, fds, nfds, err)) {
        /* the peer is gone: what it sent before going is still to be read */
        if (err->code == VFU_E_IO && (err->sys_errno == EPIPE || err->sys_errno == ECONNRESET))
            err->code = VFU_E_EOF;
        /* a peer that stopped reading: the stream may hold part of this
         * message, and every wait would block in the next send (a server
         * flooding us with requests it never reads the answers to) */
        if (err->code == VFU_E_TIMEOUT) {
            c->tx_stalled = true;
            c->open[sock] = false;
            if (sock == VFU_SOCK_MAIN) c->broken = true;
        }
        return false;
    }
    c->stats.msgs_tx[sock]++;
    return true;
}

void vfu_client_limits(const struct vfu_client *c, struct vfu_limits *rx, struct vfu_limits *tx)
{
    if (rx) *rx = c->rx;
    if (tx) *tx = c->tx;
}

bool vfu_client_set_limits(struct vfu_client *c, const struct vfu_limits *rx,
                           const struct vfu_limits *tx, struct vfu_error *err)
{
    if (tx) c->tx = *tx;
    if (!rx) return true;
    struct vfu_limits r = *rx;
    if (!r.max_msg_size) r.max_msg_size = rx_msg_size(c, r.max_data_xfer_size);
    if (r.max_fds > VFU_MAX_FDS) r.max_fds = VFU_MAX_FDS;
    for (int s = 0; s < 2; s++)
        if (c->conn[s].fd >= 0 && !vfu_conn_set_limits(&c->conn[s], &r, err)) return false;
    c->rx = r;
    return true;
}
