/* The step `truncate REGION SIZE`: what a hostile (or careless) client may
 * do with the fd a server hands out to mmap a region.  The fd is asked for
 * with DEVICE_GET_REGION_INFO (with room for the capability chain, asked
 * again if the reply says it needs more) and ftruncate()d to SIZE.  Whether
 * the resize succeeds is not judged: a server that sealed the fd refuses it,
 * one that did not must cope with it.  The steps after it judge that. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runner_int.h"

/* reply argsz room for a region's capability chain on the first ask */
#define FIRST_ARGSZ 1024u

static enum vfu_call_status region_info(struct sess *s, uint64_t region, uint32_t argsz,
                                        struct vfu_reply *r)
{
    uint8_t buf[VFU_HDR_SIZE + 64];
    struct vfu_enc e;
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_GET_REGION_INFO, false, 0);
    vfu_enc_set(&e, VFU_F_REGION_INFO_REQ_ARGSZ, argsz);
    vfu_enc_set(&e, VFU_F_REGION_INFO_REQ_INDEX, region);
    if (!vfu_enc_finish(&e, &r->err)) {
        r->status = VFU_CALL_ERROR;
        return VFU_CALL_ERROR;
    }
    return vfu_client_call(s->c, &e, NULL, s->R->timeout_ms, r);
}

bool vfh_runner_step_truncate(struct sess *s, const struct scn_step *st, struct outcome *o)
{
    uint64_t region, size;
    if (!vfh_runner_eval(s, &st->u.rw.region, &region, o) || !vfh_runner_eval(s, &st->u.rw.count, &size, o)) return false;
    char what[96];
    snprintf(what, sizeof what, "DEVICE_GET_REGION_INFO of region %llu", (unsigned long long)region);
    struct vfu_reply r;
    vfu_reply_init(&r);
    enum vfu_call_status cs = region_info(s, region, FIRST_ARGSZ, &r);
    bool ok = vfh_runner_expect_success(s, what, cs, &r, o);
    uint64_t argsz = ok ? vfu_get(&r.msg, VFU_F_REGION_INFO_ARGSZ) : 0;
    if (ok && r.msg.truncated && argsz > FIRST_ARGSZ && argsz <= VFU_CLIENT_RX_CAP) {
        cs = region_info(s, region, (uint32_t)argsz, &r);
        ok = vfh_runner_expect_success(s, what, cs, &r, o);
    }
    if (!ok) {
        vfu_reply_release(&r);
        return false;
    }
    int fd = r.nfds ? vfu_reply_take_fd(&r, 0) : -1;
    vfu_reply_release(&r);
    if (fd < 0) {
        vfh_runner_out_set(o, VFU_FAIL, VFU_FK_MISMATCH, "%s: no file descriptor came with the reply to truncate", what);
        return false;
    }
    /* either outcome is fine here: refused (sealed) or done */
    int rc;
    do rc = ftruncate(fd, (off_t)size);
    while (rc < 0 && errno == EINTR);
    close(fd);
    return true;
}
