/* VERSION: the first message of a session.  Our reply names only the
 * capabilities the client proposed (the spec's subset rule), each with our
 * value; the twin socket is set up only when the client asked for it. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "caps.h"
#include "srv_int.h"
#include "transport.h"

/* ours, for every capability the client named */
static void reply_caps(const struct srv *s, const struct vfu_caps *prop, bool twin,
                       struct vfu_caps *rep)
{
    vfu_caps_init(rep);
    const struct { int cap; uint64_t v; } mine[] = {
        {VFU_CAP_MAX_MSG_FDS, s->opt.max_msg_fds},
        {VFU_CAP_MAX_DATA_XFER_SIZE, s->opt.max_data_xfer_size},
        {VFU_CAP_MAX_DMA_MAPS, s->opt.max_dma_maps},
        {VFU_CAP_PGSIZES, s->opt.pgsizes},
        {VFU_CAP_WRITE_MULTIPLE, s->opt.write_multiple},
    };
    for (unsigned i = 0; i < sizeof mine / sizeof mine[0]; i++)
        if (prop->present[mine[i].cap]) vfu_caps_set(rep, mine[i].cap, mine[i].v);
    if (prop->present[VFU_CAP_TWIN_SOCKET_SUPPORTED]) {
        vfu_caps_set(rep, VFU_CAP_TWIN_SOCKET_SUPPORTED, twin);
        /* fd_index is a reply-only member of the object the client named */
        if (twin) vfu_caps_set(rep, VFU_CAP_TWIN_SOCKET_FD_INDEX, 0);
    }
    if (s->opt.migration) {
        if (prop->present[VFU_CAP_MIGRATION_PGSIZE])
            vfu_caps_set(rep, VFU_CAP_MIGRATION_PGSIZE, srv_min_pgsize(s));
        /* a DMA_LOGGING_REPORT bitmap is one reply's data */
        if (prop->present[VFU_CAP_MIGRATION_MAX_BITMAP_SIZE])
            vfu_caps_set(rep, VFU_CAP_MIGRATION_MAX_BITMAP_SIZE, s->opt.max_data_xfer_size);
    }
}

int srv_h_version(struct srv *s, const struct vfu_msg *m, int *fds)
{
    (void)fds;
    if (vfu_get(m, VFU_F_VERSION_MAJOR) != VFU_PROTO_MAJOR) {
        srv_log("VERSION: client major %u, ours %u", (unsigned)vfu_get(m, VFU_F_VERSION_MAJOR),
                VFU_PROTO_MAJOR);
        return vfu_errc_errno(VFU_E_VERSION);
    }
    uint16_t minor = (uint16_t)vfu_get(m, VFU_F_VERSION_MINOR);
    if (minor > VFU_PROTO_MINOR) minor = VFU_PROTO_MINOR;

    struct vfu_caps prop;
    struct vfu_error err;
    vfu_caps_init(&prop);
    uint32_t jlen;
    const uint8_t *json = vfu_data(m, VFU_F_VERSION_DATA, &jlen);
    /* the codec checked the NUL; the parser gets the text without it */
    if (json && jlen > 1 && !vfu_caps_parse(&prop, (const char *)json, jlen - 1, false, &err)) {
        char b[200];
        vfu_error_str(&err, b, sizeof b);
        srv_log("VERSION: %s", b);
        return vfu_errc_errno(err.code);
    }

    bool no_reply = m->hdr.flags & VFU_HDR_FLAGS_NO_REPLY;
    uint64_t client_fds = vfu_caps_get(&prop, VFU_CAP_MAX_MSG_FDS);
    /* a twin socket travels as an fd in our reply: both must be possible */
    bool twin = s->opt.twin_socket && s->peer.twin && !no_reply && client_fds >= 1 &&
                vfu_caps_get(&prop, VFU_CAP_TWIN_SOCKET_SUPPORTED);

    struct vfu_caps rep;
    reply_caps(s, &prop, twin, &rep);
    char text[1024];
    int n = vfu_caps_to_json(&rep, text, sizeof text);
    if (n < 0) return EIO;

    int sv[2] = {-1, -1};
    if (twin && !vfu_socketpair(sv, &err)) return err.sys_errno ? err.sys_errno : EIO;

    struct vfu_enc e;
    srv_reply_begin(s, m, &e);
    vfu_enc_set(&e, VFU_F_VERSION_MAJOR, VFU_PROTO_MAJOR);
    vfu_enc_set(&e, VFU_F_VERSION_MINOR, minor);
    vfu_enc_data(&e, VFU_F_VERSION_DATA, text, (size_t)n + 1);
    if (twin) vfu_enc_fd(&e, sv[1]);

    s->negotiated = true;
    s->client_fds = (uint32_t)(client_fds > VFU_MAX_FDS ? VFU_MAX_FDS : client_fds);
    s->client_xfer = vfu_caps_get(&prop, VFU_CAP_MAX_DATA_XFER_SIZE);
    s->write_multiple = s->opt.write_multiple && vfu_caps_get(&prop, VFU_CAP_WRITE_MULTIPLE);
    s->rx.max_fds = s->opt.max_msg_fds;
    s->rx.max_data_xfer_size = s->opt.max_data_xfer_size;
    s->rx.max_msg_size = (uint32_t)(VFU_HDR_SIZE + 4096 + s->opt.max_data_xfer_size);
    if (s->peer.limits) s->peer.limits(s->peer.ctx, &s->rx);

    int r = srv_reply_send(s, m, &e);
    if (twin) {
        close(sv[1]);
        s->twin = s->peer.twin(s->peer.ctx, sv[0]);
    }
    return r;
}
