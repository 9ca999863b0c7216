/* Wire trace -> session input (lib/runtime/trace_session.h). */
#include "trace_session.h"

/* who sent a message: VFU_ROLE_CLIENT or VFU_ROLE_SERVER (the sender, not
 * the receiver), from its header and the command table */
static enum vfu_role sender(const struct vfu_hdr *h)
{
    const struct vfu_cmd_desc *c = vfu_cmd(h->cmd);
    /* unknown commands are the harness's, sent to servers */
    bool client_cmd = !c || c->dir == VFU_DIR_CLIENT;
    bool reply = (h->flags & VFU_HDR_FLAGS_TYPE_MASK) == VFU_MSG_TYPE_REPLY;
    return client_cmd != reply ? VFU_ROLE_CLIENT : VFU_ROLE_SERVER;
}

static uint8_t fd_kind(enum vfu_fd_kind k)
{
    switch (k) {
    case VFU_FDK_MEMFD:
    case VFU_FDK_FILE: return VFU_FS_FD_MEMFD;
    case VFU_FDK_EVENTFD: return VFU_FS_FD_EVENTFD;
    case VFU_FDK_SOCKET: return VFU_FS_FD_SOCKET;
    case VFU_FDK_OTHER: break;
    }
    return VFU_FS_FD_DEVNULL;
}

bool vfu_trace_to_session(const struct vfu_trace *t, enum vfu_role target, struct vfu_fs *fs)
{
    fs->n = 0;
    enum vfu_role other = target == VFU_ROLE_SERVER ? VFU_ROLE_CLIENT : VFU_ROLE_SERVER;
    for (size_t i = 0; i < t->n; i++) {
        const struct vfu_trace_event *ev = &t->ev[i];
        struct vfu_hdr h;
        /* a message cut short before its header names no sender */
        if (!vfu_hdr_decode(ev->bytes, ev->len, &h, NULL) || sender(&h) != other) continue;
        if (fs->n == VFU_FS_MAX_RECORDS) return false;
        struct vfu_fs_record *r = &fs->rec[fs->n++];
        bool reply = (h.flags & VFU_HDR_FLAGS_TYPE_MASK) == VFU_MSG_TYPE_REPLY;
        r->kind = reply ? VFU_FS_REPLY : VFU_FS_MSG;
        r->flags = (uint8_t)((reply ? VFU_FS_FIX_ID : 0) | (ev->chan == VFU_TRACE_TWIN ? VFU_FS_TWIN : 0));
        r->nfds = 0;
        for (unsigned k = 0; k < ev->nfds && r->nfds < VFU_FS_MAX_FDS; k++) {
            r->fds[r->nfds].kind = fd_kind(ev->fds[k].kind);
            r->fds[r->nfds].size = (uint32_t)(ev->fds[k].size % VFU_FS_MAX_MEMFD);
            r->nfds++;
        }
        r->msg = ev->bytes;
        r->len = ev->len > UINT32_MAX ? UINT32_MAX : (uint32_t)ev->len;
    }
    return true;
}
