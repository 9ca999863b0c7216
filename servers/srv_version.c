/* VERSION: the first message of a session.  Our reply names only the
 * capabilities the client proposed (the spec's subset rule), each with our
 * value; the twin socket is set up only when the client asked for it.
 * Receive limits then follow what our reply stated (include/vfu/vfu_negotiate.h). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vfu_caps.h"
#include "vfu_negotiate.h"
#include "srv_int.h"
#include "vfu_transport.h"

/* everything we would say, for vfu_negotiate_reply to cut down to what
 * the client proposed */
static void offer_caps(const struct srv *s, bool twin, struct vfu_caps *c)
{
    vfu_caps_init(c);
    vfu_caps_set(c, VFU_CAP_MAX_MSG_FDS, s->opt.max_msg_fds);
    vfu_caps_set(c, VFU_CAP_MAX_DATA_XFER_SIZE, s->opt.max_data_xfer_size);
    vfu_caps_set(c, VFU_CAP_MAX_DMA_MAPS, s->opt.max_dma_maps);
    vfu_caps_set(c, VFU_CAP_PGSIZES, s->opt.pgsizes);
    vfu_caps_set(c, VFU_CAP_WRITE_MULTIPLE, s->opt.write_multiple);
    vfu_caps_set(c, VFU_CAP_TWIN_SOCKET_SUPPORTED, twin);
    /* the client end of the pair is the only fd of the reply */
    uint64_t fd_index = 0;
    if (srv_fault(s, FAULT_TWIN_SOCKET_BAD_FD_INDEX)) fd_index = 1;
    vfu_caps_set(c, VFU_CAP_TWIN_SOCKET_FD_INDEX, fd_index);
    if (s->opt.migration) {
        vfu_caps_set(c, VFU_CAP_MIGRATION_PGSIZE, srv_min_pgsize(s));
        /* a DMA_LOGGING_REPORT bitmap is one reply's data */
        vfu_caps_set(c, VFU_CAP_MIGRATION_MAX_BITMAP_SIZE, s->opt.max_data_xfer_size);
    }
}

int srv_h_version(struct srv *s, const struct vfu_msg *m, int *fds)
{
    (void)fds;
    uint16_t minor;
    struct vfu_error err;
    if (!vfu_negotiate_version((uint16_t)vfu_get(m, VFU_F_VERSION_MAJOR),
                               (uint16_t)vfu_get(m, VFU_F_VERSION_MINOR), VFU_PROTO_MAJOR,
                               VFU_PROTO_MINOR, &minor, &err)) {
        srv_log("VERSION: client major %u, ours %u", (unsigned)err.got, (unsigned)err.want);
        if (!srv_fault(s, FAULT_VERSION_MAJOR_MISMATCH_ACCEPTED)) return vfu_errc_errno(err.code);
        minor = VFU_PROTO_MINOR;
    }
    if (srv_fault(s, FAULT_VERSION_MINOR_HIGHER)) minor = VFU_PROTO_MINOR;

    struct vfu_caps prop;
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
    /* a twin socket travels as an fd in our reply: both must be possible */
    bool twin_ok = s->opt.twin_socket && s->peer.twin && !no_reply &&
                   vfu_caps_get(&prop, VFU_CAP_MAX_MSG_FDS) >= 1;
    struct vfu_caps offer, rep;
    offer_caps(s, twin_ok, &offer);
    vfu_negotiate_reply(&prop, &offer, &rep);
    /* a proposal without capabilities gets none back (the subset rule) */
    if ((!json || jlen <= 1) && srv_fault(s, FAULT_VERSION_UNPROPOSED_CAPABILITY))
        vfu_caps_set(&rep, VFU_CAP_PGSIZES, s->opt.pgsizes);
    bool twin = rep.present[VFU_CAP_TWIN_SOCKET_SUPPORTED] && rep.v[VFU_CAP_TWIN_SOCKET_SUPPORTED];
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

    /* limits from what each side said: ours are what the reply states
     * (held to the defaults where the client's proposal left no room) */
    struct vfu_limits tx;
    vfu_negotiate_limits(&rep, &prop, &s->rx, &tx);
    s->negotiated = true;
    s->client_fds = tx.max_fds;
    s->client_xfer = tx.max_data_xfer_size;
    s->write_multiple = rep.present[VFU_CAP_WRITE_MULTIPLE] && rep.v[VFU_CAP_WRITE_MULTIPLE];
    if (s->peer.limits) s->peer.limits(s->peer.ctx, &s->rx);

    int r = srv_reply_send(s, m, &e);
    if (twin) {
        close(sv[1]);
        s->twin = s->peer.twin(s->peer.ctx, sv[0]);
    }
    return r;
}
