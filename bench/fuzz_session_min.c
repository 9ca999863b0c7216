/* A minimal session target for make bench-fuzz: the reference server, fresh
 * for every input, fed the input's records (lib/runtime/fuzz_session.h) the way a
 * client would send them; its replies are dropped, its DMA_READ/DMA_WRITE
 * answered from the input's reply records.  It exists so that the
 * benchmark can compare mutators on a real target before the full session
 * target (fuzz/, issue 8 item 1) is merged; it checks nothing itself. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_refserver.h"
#include "fuzz_session.h"
#include "mutate.h"
#include "srv.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MSG_CAP (VFU_HDR_SIZE + VFU_FIXED_ROOM + VFU_DEFAULT_MAX_DATA_XFER_SIZE)

static struct vfu_fs fs;
static unsigned next_reply;
static uint8_t msg[MSG_CAP], rbuf[MSG_CAP];
static int reply_fds[VFU_FS_MAX_FDS];
static unsigned nreply_fds;

static bool peer_send(void *ctx, const struct vfu_enc *e, struct vfu_error *err)
{
    (void)ctx; (void)e; (void)err;
    return true;
}

static void close_reply_fds(void)
{
    vfu_fs_close_fds(reply_fds, nreply_fds);
    nreply_fds = 0;
}

/* the next reply record answers the server's request */
static bool peer_request(void *ctx, const struct vfu_enc *req, struct vfu_msg *reply, struct vfu_error *err)
{
    (void)ctx;
    while (next_reply < fs.n && fs.rec[next_reply].kind != VFU_FS_REPLY) next_reply++;
    if (next_reply == fs.n) {
        vfu_error_set(err, VFU_E_EOF, req->cmd, -1, 0, 0);
        return false;
    }
    const struct vfu_fs_record *r = &fs.rec[next_reply++];
    struct vfu_hdr h;
    vfu_hdr_decode(req->buf, req->len, &h, err);
    size_t len = vfu_fs_prepare(r, h.msg_id, rbuf, sizeof rbuf);
    close_reply_fds();
    if (!vfu_fs_open_fds(r, reply_fds)) {
        vfu_error_set(err, VFU_E_IO, req->cmd, -1, 0, 0);
        return false;
    }
    nreply_fds = r->nfds;
    struct vfu_limits lim;
    vfu_limits_default(&lim);
    return vfu_decode(reply, rbuf, len, reply_fds, nreply_fds, &lim, VFU_ROLE_SERVER, err);
}

static const struct srv_peer peer = {peer_send, peer_request, NULL, NULL, NULL};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    srv_sigbus_guard_install();
    /* the toy device's regions, when the custom mutator is linked in */
    fuzz_refserver_describe_engine();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct srv_opts o;
    srv_opts_default(&o);
    int e;
    struct srv *s = srv_create(&o, &peer, &e);
    if (!s) return 0;
    vfu_fs_parse(data, size, &fs);
    next_reply = 0;
    uint16_t id = 1;
    for (unsigned i = 0; i < fs.n; i++) {
        const struct vfu_fs_record *r = &fs.rec[i];
        switch (r->kind) {
        case VFU_FS_MSG: {
            int fds[VFU_FS_MAX_FDS];
            size_t len = vfu_fs_prepare(r, id++, msg, sizeof msg);
            if (!vfu_fs_open_fds(r, fds)) break;
            if (srv_input(s, msg, len, fds, r->nfds) == SRV_CLOSE) srv_disconnect(s);
            for (unsigned k = 0; k < r->nfds; k++)
                if (fds[k] >= 0) close(fds[k]);
            break;
        }
        case VFU_FS_DISCONNECT:
            srv_disconnect(s);
            break;
        case VFU_FS_IOEVENT:
            if (srv_ioeventfd(s) >= 0 && srv_ioevent(s) == SRV_CLOSE) srv_disconnect(s);
            break;
        default:
            break;   /* replies are taken by peer_request */
        }
    }
    srv_destroy(s);
    close_reply_fds();
    return 0;
}
