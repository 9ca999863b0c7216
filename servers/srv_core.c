/* The server's state and its dispatch: decode, gate on VERSION, run the
 * command's handler, turn its errno into an error reply. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "srv_int.h"

static bool log_muted;

void srv_log_mute(bool mute)
{
    log_muted = mute;
}

void srv_log(const char *fmt, ...)
{
    if (log_muted) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("vfu-refserver: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void srv_opts_default(struct srv_opts *o)
{
    o->max_data_xfer_size = VFU_DEFAULT_MAX_DATA_XFER_SIZE;
    o->max_msg_fds = 8;
    /* well below the spec's default: small enough for a conformance
     * scenario to fill the table and see the limit kept */
    o->max_dma_maps = 64;
    o->pgsizes = VFU_DEFAULT_PGSIZES;
    o->twin_socket = true;
    o->write_multiple = true;
    o->migration = true;
    o->faults = 0;
    o->dma_mmap = true;
    o->dma_probe = false;
}

/* ----------------------------------------------------------- device --- */

/* the device model's ops, on the server's guest memory: 0 or a positive
 * errno, as everywhere in servers/ */
static int dev_dma_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    return srv_dma_rw(ctx, addr, buf, len, false);
}

static int dev_dma_write(void *ctx, uint64_t addr, const void *buf, size_t len)
{
    return srv_dma_rw(ctx, addr, (void *)buf, len, true);
}

static void dev_irq(void *ctx, unsigned index, unsigned sub)
{
    srv_irq_raise(ctx, index, sub);
}

static const struct toydev_ops dev_ops = {dev_dma_read, dev_dma_write, dev_irq};

/* Room for a header, the largest fixed part and a capability chain, plus
 * `data` bytes of payload data. */
static size_t msg_room(uint64_t data)
{
    return VFU_HDR_SIZE + VFU_FIXED_ROOM + (size_t)data;
}

struct srv *srv_create(const struct srv_opts *o, const struct srv_peer *peer, int *err)
{
    struct srv *s = calloc(1, sizeof *s);
    if (!s) { *err = ENOMEM; return NULL; }
    s->opt = *o;
    s->peer = *peer;
    s->ioeventfd = -1;
    s->next_id = 1;
    vfu_limits_default(&s->rx);
    /* Our receive limit is what our VERSION reply states, or the spec's
     * default where the client's proposal gave it no room: data in a reply
     * or a request to the client never exceeds it. */
    uint64_t xfer = o->max_data_xfer_size > VFU_DEFAULT_MAX_DATA_XFER_SIZE
                        ? o->max_data_xfer_size : VFU_DEFAULT_MAX_DATA_XFER_SIZE;
    s->tx_cap = msg_room(xfer);
    s->rq_cap = msg_room(xfer);
    s->tx = malloc(s->tx_cap);
    s->rq = malloc(s->rq_cap);
    if (!s->tx || !s->rq) { *err = ENOMEM; srv_destroy(s); return NULL; }
    s->dev = toydev_create(&dev_ops, s, err);
    if (!s->dev) { srv_destroy(s); return NULL; }
    srv_irq_init(s);
    srv_mig_reset(s);
    srv_disconnect(s);
    return s;
}

void srv_destroy(struct srv *s)
{
    if (!s) return;
    srv_disconnect(s);
    srv_mig_free(s);
    for (unsigned i = 0; i < TOYDEV_NUM_IRQS; i++) free(s->irq.line[i]);
    if (s->dev) toydev_destroy(s->dev);
    free(s->dma.maps);
    free(s->tx);
    free(s->rq);
    free(s);
}

void srv_disconnect(struct srv *s)
{
    srv_dma_clear(s);
    srv_irq_close_all(s);
    srv_dirty_stop(s);
    if (s->ioeventfd >= 0) close(s->ioeventfd);
    s->ioeventfd = -1;
    s->negotiated = false;
    s->broken = false;
    s->twin = false;
    s->write_multiple = false;
    s->client_xfer = VFU_DEFAULT_MAX_DATA_XFER_SIZE;
    s->client_fds = VFU_DEFAULT_MAX_MSG_FDS;
    memset(s->dev_logged, 0, sizeof s->dev_logged);
    vfu_limits_default(&s->rx);
    if (s->peer.limits) s->peer.limits(s->peer.ctx, &s->rx);
}

void srv_reset(struct srv *s)
{
    srv_disconnect(s);
    toydev_reset(s->dev);
    srv_irq_reset(s);
    srv_mig_reset(s);
    s->next_id = 1;
}

const struct vfu_limits *srv_rx_limits(const struct srv *s) { return &s->rx; }
int srv_ioeventfd(const struct srv *s) { return s->ioeventfd; }
bool srv_negotiated(const struct srv *s) { return s->negotiated; }

enum srv_verdict srv_ioevent(struct srv *s)
{
    uint64_t v;
    /* the counter may hold several rings; one doorbell write covers them */
    if (s->ioeventfd < 0 || read(s->ioeventfd, &v, sizeof v) != (ssize_t)sizeof v)
        return SRV_CONTINUE;
    uint32_t one = 1;
    int r = toydev_access(s->dev, VFU_PCI_REGION_BAR0, TOYDEV_REG_DOORBELL, &one, sizeof one, true);
    if (r) srv_log("doorbell via ioeventfd: %s", strerror(r));
    return s->broken ? SRV_CLOSE : SRV_CONTINUE;
}

/* ---------------------------------------------------------- replies --- */

void srv_reply_begin(struct srv *s, const struct vfu_msg *m, struct vfu_enc *e)
{
    vfu_enc_begin(e, s->tx, s->tx_cap, m->hdr.cmd, true, m->hdr.msg_id);
}

int srv_reply_send(struct srv *s, const struct vfu_msg *m, struct vfu_enc *e)
{
    struct vfu_error err;
    if (!vfu_enc_finish(e, &err)) {
        /* our own reply does not encode: a server bug, never the client's */
        char b[200];
        vfu_error_str(&err, b, sizeof b);
        srv_log("cannot encode reply: %s", b);
        return EIO;
    }
    srv_wire_reply(s, &m->hdr, e);
    return 0;
}

int srv_reply_empty(struct srv *s, const struct vfu_msg *m)
{
    struct vfu_enc e;
    srv_reply_begin(s, m, &e);
    return srv_reply_send(s, m, &e);
}

static void reply_error(struct srv *s, const struct vfu_hdr *h, int errnum)
{
    struct vfu_enc e;
    struct vfu_error err;
    vfu_enc_error(&e, s->tx, s->tx_cap, h->cmd, h->msg_id, (uint32_t)errnum);
    if (!vfu_enc_finish(&e, &err)) {
        s->broken = true;
        return;
    }
    srv_wire_reply(s, h, &e);
}

int srv_take_fd(const struct vfu_msg *m, int *fds, unsigned i)
{
    if (i >= m->nfds) return -1;
    int fd = fds[i];
    fds[i] = -1;
    return fd;
}

/* --------------------------------------------------------- dispatch --- */

static srv_handler *const handlers[VFU_CMD_MAX + 1] = {
    [VFU_CMD_VERSION] = srv_h_version,
    [VFU_CMD_DMA_MAP] = srv_h_dma_map,
    [VFU_CMD_DMA_UNMAP] = srv_h_dma_unmap,
    [VFU_CMD_DEVICE_GET_INFO] = srv_h_device_get_info,
    [VFU_CMD_DEVICE_GET_REGION_INFO] = srv_h_region_info,
    [VFU_CMD_DEVICE_GET_REGION_IO_FDS] = srv_h_region_io_fds,
    [VFU_CMD_DEVICE_GET_IRQ_INFO] = srv_h_irq_info,
    [VFU_CMD_DEVICE_SET_IRQS] = srv_h_set_irqs,
    [VFU_CMD_REGION_READ] = srv_h_region_read,
    [VFU_CMD_REGION_WRITE] = srv_h_region_write,
    [VFU_CMD_DEVICE_RESET] = srv_h_reset,
    [VFU_CMD_REGION_WRITE_MULTI] = srv_h_write_multi,
    [VFU_CMD_DEVICE_FEATURE] = srv_h_feature,
    [VFU_CMD_MIG_DATA_READ] = srv_h_mig_data_read,
    [VFU_CMD_MIG_DATA_WRITE] = srv_h_mig_data_write,
};

static enum srv_verdict verdict(const struct srv *s)
{
    return s->broken ? SRV_CLOSE : SRV_CONTINUE;
}

enum srv_verdict srv_handle(struct srv *s, const struct vfu_msg *m, int *fds)
{
    if (m->is_reply) {
        /* a reply nobody waits for (a request that timed out): dropped */
        srv_log("stray %s reply (msg_id %u) dropped", vfu_cmd_name(m->hdr.cmd), m->hdr.msg_id);
        return SRV_CONTINUE;
    }
    uint16_t cmd = m->hdr.cmd;
    if (!s->negotiated && cmd != VFU_CMD_VERSION) {
        reply_error(s, &m->hdr, EINVAL);
        return verdict(s);
    }
    if (s->negotiated && cmd == VFU_CMD_VERSION && !srv_fault(s, FAULT_VERSION_TWICE_ACCEPTED)) {
        reply_error(s, &m->hdr, EINVAL);
        return verdict(s);
    }
    /* counted once the request is one the server goes on to handle */
    if (m->padding) srv_deviation(s, SRV_DEV_ZERO_PADDING, m, m->padding);
    srv_handler *h = cmd <= VFU_CMD_MAX ? handlers[cmd] : NULL;
    /* DMA_READ/WRITE towards the server are stopped by the codec's
     * direction check; anything else without a handler is unknown here */
    int r = h ? h(s, m, fds) : ENOTSUP;
    if (r > 0) {
        reply_error(s, &m->hdr, r);
        /* a VERSION that failed leaves nothing to talk about */
        if (cmd == VFU_CMD_VERSION) return SRV_CLOSE;
    }
    return verdict(s);
}

/* The errno a decode failure earns.  An unknown feature index is "not
 * supported" rather than malformed. */
static int reject_errno(const struct vfu_error *err)
{
    if (err->code == VFU_E_ENUM && err->field == VFU_F_DEVICE_FEATURE_REQ_FLAGS) return ENOTSUP;
    return vfu_errc_errno(err->code);
}

enum srv_verdict srv_reject(struct srv *s, const struct vfu_msg *m, const struct vfu_error *err)
{
    const struct vfu_hdr *h = &m->hdr;
    /* the header must be readable and say it is a command; a broken reply
     * is nothing to answer */
    if (err->code == VFU_E_HDR_SHORT || err->code == VFU_E_SIZE_BELOW_HDR ||
        err->code == VFU_E_SIZE_MISMATCH || err->code == VFU_E_SIZE_LIMIT)
        return SRV_CLOSE;
    if ((h->flags & VFU_HDR_FLAGS_TYPE_MASK) == VFU_MSG_TYPE_REPLY) {
        srv_log("malformed reply (msg_id %u) dropped", h->msg_id);
        return SRV_CONTINUE;
    }
    if (!s->negotiated && h->cmd != VFU_CMD_VERSION) {
        reply_error(s, h, EINVAL);
        return verdict(s);
    }
    if (err->code == VFU_E_UNKNOWN_CMD && srv_fault(s, FAULT_UNKNOWN_COMMAND_SILENT)) return verdict(s);
    reply_error(s, h, reject_errno(err));
    if (h->cmd == VFU_CMD_VERSION && !s->negotiated) return SRV_CLOSE;
    return verdict(s);
}

enum srv_verdict srv_input(struct srv *s, const uint8_t *buf, size_t len, int *fds, unsigned nfds)
{
    /* the seeded faults that accept a malformed request change the bytes
     * before the one decode; with none of them on, buf is used as it is */
    uint8_t *patched = NULL;
    if (!srv_wire_request(s, buf, len, &patched)) return SRV_CLOSE;
    if (patched) buf = patched;
    struct vfu_msg m;
    struct vfu_error err;
    enum srv_verdict v;
    if (vfu_decode_opt(&m, buf, len, fds, nfds, &s->rx, VFU_ROLE_SERVER, SRV_DECODE_OPTS, &err))
        v = srv_handle(s, &m, fds);
    else
        v = err.code == VFU_E_HDR_SHORT ? SRV_CLOSE : srv_reject(s, &m, &err);
    free(patched);
    return v;
}
