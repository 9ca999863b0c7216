/* Target: the scripted client's handling of a hostile server's messages,
 * through the in-process feed (vfu_client_feed).  The input is a session
 * (lib/runtime/fuzz_session.h) of what the server sends:
 *   msg         fed as it is: a server-to-client command (DMA_READ,
 *               DMA_WRITE) or a reply nobody asked for; twin flag: on the
 *               twin socket
 *   reply       the client makes a request of that record's command (the
 *               script below) and this record answers it, msg_id fixed up
 *               when its flag says so
 *   disconnect  the client is closed and a fresh one made
 *   ioevent     nothing (a client has no doorbell)
 * Every run starts from a fresh client with the same guest memory; every
 * fd given to it must be closed once it is closed. */
#include <string.h>

#include "vfu_client.h"
#include "fuzz_fds.h"
#include "fuzz_session.h"
#include "fuzz_target.h"

#define BUF (VFU_HDR_SIZE + VFU_FIXED_ROOM + (1u << 20))

static struct {
    struct vfu_client *c;
    const struct vfu_fs_record *answer;   /* fed to the next request sent */
    uint8_t msg[BUF];
    uint8_t req[4096];
    unsigned maps;                        /* DMA_MAP / DMA_UNMAP region turn */
} T;

static struct vfu_fs in;

/* for the custom mutator, when linked in (fuzz/mutator_hook.h): the MSG
 * records of this target's sessions are what a server sends a client */
const int vfu_fuzz_target_role = VFU_ROLE_CLIENT;

static void feed(enum vfu_sock sock, const struct vfu_fs_record *r, uint16_t id)
{
    size_t n = vfu_fs_prepare(r, id, T.msg, sizeof T.msg);
    int fds[VFU_FS_MAX_FDS];
    if (!vfu_fs_open_fds(r, fds)) return;
    fuzz_fds_note(fds, r->nfds);
    vfu_client_feed(T.c, sock, T.msg, n, fds, r->nfds);
}

/* what the client sends: a request waiting for its answer gets it here,
 * as a server would answer while the client waits */
static void sink(void *ctx, enum vfu_sock sock, const uint8_t *buf, size_t len, const int *fds,
                 unsigned nfds)
{
    (void)ctx;
    (void)fds;
    (void)nfds;
    struct vfu_hdr h;
    if (!T.answer || !vfu_hdr_decode(buf, len, &h, NULL)) return;
    if ((h.flags & VFU_HDR_FLAGS_TYPE_MASK) != VFU_MSG_TYPE_COMMAND) return;
    const struct vfu_fs_record *r = T.answer;
    T.answer = NULL;
    feed(r->flags & VFU_FS_TWIN ? VFU_SOCK_TWIN : sock, r, h.msg_id);
}

static bool client_open(void)
{
    struct vfu_client_opts o;
    vfu_client_opts_default(&o);
    o.sink.fn = sink;
    struct vfu_error err;
    T.c = vfu_client_inproc(&o, &err);
    if (!T.c) return false;
    /* guest memory the server may reach: one page by message, one memfd
     * page the server may map read-only */
    if (vfu_mem_add(T.c, 0x1000, 0x1000, VFU_DMA_MAP_FLAGS_READ | VFU_DMA_MAP_FLAGS_WRITE,
                    VFU_MEM_MESSAGE, &err) < 0 ||
        vfu_mem_add(T.c, 0x3000, 0x1000, VFU_DMA_MAP_FLAGS_READ, VFU_MEM_MEMFD, &err) < 0) {
        vfu_client_close(T.c);
        T.c = NULL;
        return false;
    }
    T.maps = 0;
    return true;
}

/* The request a reply record of command cmd answers: what the harness
 * would send, built with the encoder (fields zero, lengths by the codec). */
static void request(const struct vfu_fs_record *r)
{
    struct vfu_hdr h;
    memset(&h, 0, sizeof h);
    vfu_hdr_decode(r->msg, r->len, &h, NULL);
    struct vfu_reply rep;
    vfu_reply_init(&rep);
    T.answer = r;
    if (h.cmd == VFU_CMD_VERSION) {
        struct vfu_version_proposal p;
        vfu_proposal_default(&p);
        struct vfu_version_result res;
        vfu_client_negotiate(T.c, &p, 0, &res);
    } else if (h.cmd == VFU_CMD_DMA_MAP) {
        vfu_client_dma_map(T.c, (int)(T.maps++ % 2), 0, &rep);
    } else if (h.cmd == VFU_CMD_DMA_UNMAP) {
        vfu_client_dma_unmap(T.c, (int)(T.maps++ % 2), 0, &rep);
    } else {
        struct vfu_enc e;
        struct vfu_send_opts so = {.unchecked = true};
        vfu_enc_begin(&e, T.req, sizeof T.req, h.cmd, false, 0);
        if (vfu_cmd(h.cmd) && vfu_enc_finish(&e, NULL)) {
            vfu_client_call(T.c, &e, &so, 0, &rep);
        } else {
            /* a command the spec does not know: a bare header */
            struct vfu_hdr q = {0, h.cmd, VFU_HDR_SIZE, VFU_MSG_TYPE_COMMAND, 0};
            vfu_hdr_encode(T.req, &q);
            vfu_client_call_raw(T.c, T.req, VFU_HDR_SIZE, NULL, 0, NULL, 0, &rep);
        }
    }
    T.answer = NULL;
    vfu_reply_release(&rep);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vfu_fs_parse(data, size, &in);
    if (!client_open()) return 0;
    for (unsigned i = 0; i < in.n && T.c; i++) {
        const struct vfu_fs_record *r = &in.rec[i];
        switch (r->kind) {
        case VFU_FS_MSG:
            feed(r->flags & VFU_FS_TWIN ? VFU_SOCK_TWIN : VFU_SOCK_MAIN, r, (uint16_t)(i + 1));
            break;
        case VFU_FS_REPLY:
            request(r);
            break;
        case VFU_FS_DISCONNECT:
            vfu_client_close(T.c);
            client_open();
            break;
        default:
            break;
        }
    }
    vfu_client_close(T.c);
    T.c = NULL;
    fuzz_fds_check("vfu client");
    return 0;
}
