/* Commands from the server: DMA_READ and DMA_WRITE against the guest memory
 * we exported, answered on the socket they came from.  Anything else the
 * server sends as a command, or a DMA request that breaks the rules, gets an
 * error reply (unless it asked for none) and is recorded:
 *   decode failure      errno for the broken rule (vfu_errc_errno)
 *   count above OUR max_data_xfer_size            E2BIG
 *   address range not inside exported memory      EFAULT
 *   DMA_READ of memory mapped without READ,
 *   DMA_WRITE of memory mapped without WRITE      EPERM
 * A count of 0 touches nothing and always succeeds. */
#include <errno.h>
#include <stdlib.h>

#include "client_priv.h"

static void reply_error(struct vfu_client *c, enum vfu_sock sock, const struct vfu_hdr *h, int errnum)
{
    uint8_t buf[VFU_HDR_SIZE];
    struct vfu_enc e;
    vfu_enc_error(&e, buf, sizeof buf, h->cmd, h->msg_id, (uint32_t)errnum);
    c->stats.dma_refused++;
    if (!(h->flags & VFU_HDR_FLAGS_NO_REPLY) && vfu_enc_finish(&e, NULL))
        vfu_cl_tx(c, sock, e.buf, e.len, NULL, 0, NULL);
}

static bool txbuf_reserve(struct vfu_client *c, size_t n)
{
    if (c->txcap >= n) return true;
    uint8_t *b = realloc(c->txbuf, n);
    if (!b) return false;
    c->txbuf = b;
    c->txcap = n;
    return true;
}

/* the most one request may move: our max_data_xfer_size, or when that check
 * is off, what we accept in one message anyway */
static uint64_t dma_cap(const struct vfu_client *c)
{
    return c->rx.max_data_xfer_size ? c->rx.max_data_xfer_size : c->rx.max_msg_size;
}

static void dma_fault(struct vfu_client *c, enum vfu_sock sock, const struct vfu_hdr *h, int rc,
                      int addr_field, uint64_t addr, uint64_t count)
{
    vfu_cl_violation_set(c, rc == EPERM ? VFU_V_DMA_PERM : VFU_V_DMA_ADDRESS, sock, h->msg_id,
                         VFU_E_BAD_VALUE, h->cmd, addr_field, false, addr, count);
    reply_error(c, sock, h, rc);
}

static void dma_read(struct vfu_client *c, enum vfu_sock sock, const struct vfu_hdr *h,
                     uint64_t addr, uint64_t count)
{
    struct vfu_enc e;
    /* the range is judged before its size is allocated: then it is memory
     * we already hold */
    int rc = vfu_cl_mem_dma_check(c, addr, count, false);
    if (rc) {
        dma_fault(c, sock, h, rc, VFU_F_DMA_ACCESS_ADDRESS, addr, count);
        return;
    }
    if (!txbuf_reserve(c, VFU_HDR_SIZE + VFU_SIZE_DMA_ACCESS_DATA + count)) {
        reply_error(c, sock, h, ENOMEM);
        return;
    }
    vfu_enc_begin(&e, c->txbuf, c->txcap, VFU_CMD_DMA_READ, true, h->msg_id);
    vfu_enc_set(&e, VFU_F_DMA_ACCESS_DATA_ADDRESS, addr);
    vfu_enc_set(&e, VFU_F_DMA_ACCESS_DATA_COUNT, count);
    uint8_t *dst = vfu_enc_data(&e, VFU_F_DMA_ACCESS_DATA_DATA, NULL, count);
    rc = dst || !count ? vfu_cl_mem_dma_read(c, addr, dst, count) : ENOMEM;
    if (rc) {
        dma_fault(c, sock, h, rc, VFU_F_DMA_ACCESS_ADDRESS, addr, count);
        return;
    }
    c->stats.dma_read++;
    c->stats.dma_read_bytes += count;
    if (!(h->flags & VFU_HDR_FLAGS_NO_REPLY) && vfu_enc_finish(&e, NULL))
        vfu_cl_tx(c, sock, e.buf, e.len, NULL, 0, NULL);
}

static void dma_write(struct vfu_client *c, enum vfu_sock sock, const struct vfu_hdr *h,
                      const struct vfu_msg *m, uint64_t addr, uint64_t count)
{
    uint32_t len;
    const uint8_t *data = vfu_data(m, VFU_F_DMA_ACCESS_DATA_DATA, &len);
    int rc = vfu_cl_mem_dma_write(c, addr, data, count);
    if (rc) {
        dma_fault(c, sock, h, rc, VFU_F_DMA_ACCESS_DATA_ADDRESS, addr, count);
        return;
    }
    c->stats.dma_write++;
    c->stats.dma_write_bytes += count;
    if (h->flags & VFU_HDR_FLAGS_NO_REPLY) return;
    uint8_t buf[VFU_HDR_SIZE + VFU_SIZE_DMA_WRITE_ACK];
    struct vfu_enc e;
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DMA_WRITE, true, h->msg_id);
    vfu_enc_set(&e, VFU_F_DMA_WRITE_ACK_ADDRESS, addr);
    vfu_enc_set(&e, VFU_F_DMA_WRITE_ACK_COUNT, count);
    if (c->opts.dma_write_ack_u64) {
        /* count_hi is the upper half of libvfio-user's u64 count */
        vfu_enc_set(&e, VFU_F_DMA_WRITE_ACK_COUNT_HI, count >> 32);
    } else if (e.err.code == VFU_OK && e.nparts == 1) {
        /* the spec's form ends before the optional count_hi */
        uint16_t spec_size = vfu_struct(VFU_S_DMA_WRITE_ACK)->min_size;
        e.len = VFU_HDR_SIZE + spec_size;
        e.parts[0].len = spec_size;
    }
    if (vfu_enc_finish(&e, NULL)) vfu_cl_tx(c, sock, e.buf, e.len, NULL, 0, NULL);
}

void vfu_cl_server_cmd(struct vfu_client *c, enum vfu_sock sock, const struct vfu_hdr *h,
                       const struct vfu_msg *m, bool decoded, const struct vfu_error *derr)
{
    bool is_dma = h->cmd == VFU_CMD_DMA_READ || h->cmd == VFU_CMD_DMA_WRITE;
    if (is_dma && sock == VFU_SOCK_MAIN && c->open[VFU_SOCK_TWIN])
        vfu_cl_violation_set(c, VFU_V_WRONG_SOCKET, sock, h->msg_id, VFU_E_DIRECTION, h->cmd,
                             VFU_F_HEADER_COMMAND, false, sock, VFU_SOCK_TWIN);
    if (c->opts.answer.fn && txbuf_reserve(c, VFU_CLIENT_ANSWER_CAP)) {
        int fds[VFU_MAX_FDS];
        unsigned nfds = 0;
        size_t n = c->opts.answer.fn(c->opts.answer.ctx, sock, h, c->txbuf, VFU_CLIENT_ANSWER_CAP, fds, &nfds);
        if (nfds > VFU_MAX_FDS) nfds = VFU_MAX_FDS;
        if (n) {
            c->stats.answered++;
            vfu_cl_tx(c, sock, c->txbuf, n, fds, nfds, NULL);
            vfu_cl_close_fds(fds, nfds);
            return;
        }
        vfu_cl_close_fds(fds, nfds);
    }
    if (!decoded) {
        if (derr->code == VFU_E_XFER_LIMIT) {
            if (derr->got > c->stats.dma_max_count) c->stats.dma_max_count = derr->got;
            vfu_cl_violation(c, VFU_V_XFER_LIMIT, sock, h->msg_id, derr);
        } else {
            vfu_cl_violation(c, VFU_V_DECODE, sock, h->msg_id, derr);
        }
        reply_error(c, sock, h, vfu_errc_errno(derr->code));
        return;
    }
    /* only server-to-client commands decode for VFU_ROLE_CLIENT */
    bool rd = h->cmd == VFU_CMD_DMA_READ;
    uint64_t addr = vfu_get(m, rd ? VFU_F_DMA_ACCESS_ADDRESS : VFU_F_DMA_ACCESS_DATA_ADDRESS);
    uint64_t count = vfu_get(m, rd ? VFU_F_DMA_ACCESS_COUNT : VFU_F_DMA_ACCESS_DATA_COUNT);
    if (count > c->stats.dma_max_count) c->stats.dma_max_count = count;
    if (count > dma_cap(c)) {
        vfu_cl_violation_set(c, VFU_V_XFER_LIMIT, sock, h->msg_id, VFU_E_XFER_LIMIT, h->cmd,
                             rd ? VFU_F_DMA_ACCESS_COUNT : VFU_F_DMA_ACCESS_DATA_COUNT, false,
                             count, dma_cap(c));
        reply_error(c, sock, h, E2BIG);
        return;
    }
    if (rd) dma_read(c, sock, h, addr, count);
    else if (h->cmd == VFU_CMD_DMA_WRITE) dma_write(c, sock, h, m, addr, count);
    else reply_error(c, sock, h, ENOTSUP);
}
