/* Where every reply leaves the server core: the one place that keeps the
 * wire rules of a reply (none to a No_reply command) and the one place
 * the wire-level seeded faults break them, so that the handlers build
 * correct replies only:
 *   reply-to-noreply           a No_reply command answered all the same
 *   wrong-msg-id               the reply's msg_id cut to its low byte
 *   wrong-reply-command        REGION_WRITE answered as REGION_READ
 *   error-reply-with-payload   the errno once more after an error header
 * and where every request comes in, so that the seeded faults which accept
 * a request the spec rejects change its bytes before the one decode, not a
 * second decode after the first refused it:
 *   header-reserved-flags-accepted    undefined header flag bits cleared
 *   dma-reserved-flags-accepted       undefined DMA_MAP flag bits cleared
 *   config-write-count-from-payload   a config-space REGION_WRITE's count
 *                                     taken from the bytes that follow */
#include <stdlib.h>
#include <string.h>

#include "srv_int.h"
#include "vfu_spec.h"

/* the bytes of field (fixed, at + its offset in the message); NULL if the
 * message is too short to hold it */
static uint8_t *field_at(uint8_t *msg, size_t len, size_t at, int field)
{
    const struct vfu_field_desc *f = vfu_field(field);
    at += f->offset;
    return at + f->width <= len ? msg + at : NULL;
}

/* the unsigned field value at p, with the bits outside keep cleared */
static bool clear_bits(uint8_t *p, int field, uint64_t keep)
{
    unsigned w = vfu_field(field)->width;
    uint64_t v = vfu_read_uint(p, w);
    if (!(v & ~keep)) return false;
    vfu_write_uint(p, w, v & keep);
    return true;
}

bool srv_wire_request(struct srv *s, const uint8_t *buf, size_t len, uint8_t **patched)
{
    *patched = NULL;
    bool hdr_flags = srv_fault(s, FAULT_HEADER_RESERVED_FLAGS_ACCEPTED),
         dma_flags = srv_fault(s, FAULT_DMA_RESERVED_FLAGS_ACCEPTED),
         cfg_count = srv_fault(s, FAULT_CONFIG_WRITE_COUNT_FROM_PAYLOAD);
    struct vfu_hdr h;
    /* requests only: a reply (to our DMA_READ/WRITE) may carry the Error
     * bit, and no fault here is about replies */
    if (!(hdr_flags || dma_flags || cfg_count) || !vfu_hdr_decode(buf, len, &h, NULL) ||
        (h.flags & VFU_HDR_FLAGS_TYPE_MASK) != VFU_MSG_TYPE_COMMAND)
        return true;
    uint8_t *m = malloc(len);
    if (!m) return false;
    memcpy(m, buf, len);
    bool changed = false;
    uint8_t *p;
    /* the Error bit is not a command's either */
    if (hdr_flags && (p = field_at(m, len, 0, VFU_F_HEADER_FLAGS)))
        changed |= clear_bits(p, VFU_F_HEADER_FLAGS, VFU_HDR_FLAGS_KNOWN & ~(uint64_t)VFU_HDR_FLAGS_ERROR);
    if (dma_flags && h.cmd == VFU_CMD_DMA_MAP && (p = field_at(m, len, VFU_HDR_SIZE, VFU_F_DMA_MAP_FLAGS)))
        changed |= clear_bits(p, VFU_F_DMA_MAP_FLAGS, VFU_DMA_MAP_FLAGS_KNOWN);
    /* as a server whose config-space path sizes a write by the message */
    uint8_t *reg, *cnt;
    if (cfg_count && s->negotiated && h.cmd == VFU_CMD_REGION_WRITE &&
        len >= VFU_HDR_SIZE + VFU_SIZE_REGION_ACCESS_DATA &&
        (reg = field_at(m, len, VFU_HDR_SIZE, VFU_F_REGION_ACCESS_DATA_REGION)) &&
        (cnt = field_at(m, len, VFU_HDR_SIZE, VFU_F_REGION_ACCESS_DATA_COUNT)) &&
        vfu_read_uint(reg, vfu_field(VFU_F_REGION_ACCESS_DATA_REGION)->width) == VFU_PCI_REGION_CONFIG) {
        unsigned w = vfu_field(VFU_F_REGION_ACCESS_DATA_COUNT)->width;
        uint64_t bytes = len - VFU_HDR_SIZE - VFU_SIZE_REGION_ACCESS_DATA;
        if (vfu_read_uint(cnt, w) != bytes) {
            vfu_write_uint(cnt, w, bytes);
            changed = true;
        }
    }
    if (changed) *patched = m;
    else free(m);
    return true;
}

void srv_wire_reply(struct srv *s, const struct vfu_hdr *req, struct vfu_enc *e)
{
    if ((req->flags & VFU_HDR_FLAGS_NO_REPLY) && !srv_fault(s, FAULT_REPLY_TO_NOREPLY)) return;
    if (srv_fault(s, FAULT_WRONG_MSG_ID)) vfu_enc_hdr(e, VFU_F_HEADER_MSG_ID, req->msg_id & 0xff);
    if (req->cmd == VFU_CMD_REGION_WRITE && srv_fault(s, FAULT_WRONG_REPLY_COMMAND))
        vfu_enc_hdr(e, VFU_F_HEADER_COMMAND, VFU_CMD_REGION_READ);
    struct vfu_hdr h;
    if (srv_fault(s, FAULT_ERROR_REPLY_WITH_PAYLOAD) && vfu_hdr_decode(e->buf, e->len, &h, NULL) &&
        (h.flags & VFU_HDR_FLAGS_ERROR) && e->cap - e->len >= 4) {
        vfu_write_uint(e->buf + e->len, 4, h.error);
        e->len += 4;
        vfu_enc_hdr(e, VFU_F_HEADER_MSG_SIZE, e->len);
    }
    struct vfu_error err;
    if (!s->peer.send(s->peer.ctx, e, &err)) s->broken = true;
}
