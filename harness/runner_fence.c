/* Fences: a request sent after the ones a step is about, whose reply marks
 * the point where a server has done with everything sent before it.
 * "No reply" and "no interrupt" are judged at that point instead of after
 * a fixed wait: a server that answers in order (the spec's one socket is a
 * stream, and every server known handles it in order) has sent whatever it
 * was going to by then.  One that answers out of order could slip a late
 * reply past the fence: that errs towards passing, never a false failure. */
#include "runner_int.h"

enum fence vfh_runner_sess_fence(struct sess *s)
{
    if (!s->c) return FENCE_CLOSED;
    uint8_t buf[64];
    struct vfu_enc e;
    /* DEVICE_GET_INFO: no state, and every server must answer it */
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_GET_INFO, false, 0);
    if (!vfu_enc_finish(&e, NULL)) return FENCE_NO_REPLY;
    struct vfu_reply r;
    vfu_reply_init(&r);
    enum vfu_call_status cs = vfu_client_call(s->c, &e, NULL, s->R->timeout_ms, &r);
    bool closed = vfh_runner_is_closed(cs, &r);
    vfu_reply_release(&r);
    if (cs == VFU_CALL_REPLY || cs == VFU_CALL_BAD_REPLY) return FENCE_OK;
    return closed ? FENCE_CLOSED : FENCE_NO_REPLY;
}

enum vfu_call_status vfh_runner_collect_none(struct sess *s, const struct tick *t, int wait_ms, struct vfu_reply *r)
{
    if (!t->sent) {
        r->err = t->send_err;
        return VFU_CALL_EOF;
    }
    /* unanswered fence: fall back to waiting wait_ms */
    if (vfh_runner_sess_fence(s) == FENCE_OK) wait_ms = 0;
    enum vfu_call_status st = vfu_client_wait(s->c, t->ticket, wait_ms, r);
    if (st == VFU_CALL_TIMEOUT) vfu_client_abandon(s->c, t->ticket);
    return st;
}
