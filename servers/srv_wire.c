/* Where every reply leaves the server core: the one place that keeps the
 * wire rules of a reply (none to a No_reply command) and the one place
 * the wire-level seeded faults break them, so that the handlers build
 * correct replies only:
 *   reply-to-noreply           a No_reply command answered all the same
 *   wrong-msg-id               the reply's msg_id cut to its low byte
 *   wrong-reply-command        REGION_WRITE answered as REGION_READ
 *   error-reply-with-payload   the errno once more after an error header */
#include "srv_int.h"

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
