/* The session driver of fuzz/session_driver.h: one input, record by
 * record, against a struct fuzz_server.  Nothing is allocated per run: the
 * record table, message buffers and fd bookkeeping are static. */
#include "session_driver.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_fds.h"
#include "fuzz_session.h"

/* room for the largest message the default limits let through, plus
 * slack for messages a handler might accept beyond them; bigger records
 * are cut here, which the handler sees as a size mismatch */
#define FS_BUF (VFU_HDR_SIZE + VFU_FIXED_ROOM + (1u << 20))

struct fuzz_session {
    struct vfu_fs in;
    unsigned next_reply;           /* records before this one are used up */
    uint16_t next_id;              /* for FIX_ID on msg records */
    struct vfu_limits rx;
    uint8_t msg[FS_BUF];
    uint8_t reply[FS_BUF];
    int fds[VFU_FS_MAX_FDS];
    unsigned nfds;
    int rfds[VFU_FS_MAX_FDS];      /* the current reply's */
    unsigned nrfds;
};

static struct fuzz_session S;

/* memfds are the commonest fd in a session and the dearest to make (an
 * inode each, freed again on the last close): the driver keeps a pool and
 * hands out duplicates, each emptied (ftruncate to 0: every page dropped,
 * so nothing an earlier run wrote is seen) and resized for its record.
 * The n-th memfd of a run gets pool entry n, so within a run no two
 * records share a file; across runs an entry is reused only after the
 * previous run's disconnect, which must have let go of it (the fd check
 * says so).  A pooled file that cannot be reset (sealed by the handler) is
 * replaced. */
#define POOL 64
static int pool[POOL];
static unsigned pool_used;   /* entries taken in this run */

static int pooled_memfd(const struct vfu_fs_fd *d)
{
    if (pool_used >= POOL) return vfu_fs_open_fd(d);
    int *p = &pool[pool_used++];
    uint32_t size = d->size % VFU_FS_MAX_MEMFD;
    if (*p > 0 && (ftruncate(*p, 0) < 0 || ftruncate(*p, size) < 0 || lseek(*p, 0, SEEK_SET) < 0)) {
        close(*p);
        *p = 0;
    }
    if (*p <= 0) {
        struct vfu_fs_fd fresh = {VFU_FS_FD_MEMFD, size};
        int fd = vfu_fs_open_fd(&fresh);
        if (fd < 0) return -1;
        /* kept above the fds a run hands out, so the leak check and the
         * handler's fd numbers do not meet it */
        *p = fcntl(fd, F_DUPFD_CLOEXEC, 1000);
        close(fd);
        if (*p < 0) {
            *p = 0;
            return -1;
        }
    }
    return fcntl(*p, F_DUPFD_CLOEXEC, 0);
}

static bool open_fds(const struct vfu_fs_record *r, int *fds)
{
    for (unsigned i = 0; i < r->nfds; i++) {
        fds[i] = r->fds[i].kind == VFU_FS_FD_MEMFD ? pooled_memfd(&r->fds[i]) : vfu_fs_open_fd(&r->fds[i]);
        if (fds[i] < 0) {
            /* out of fds or memory: the environment's failure, not the
             * handler's; the record is skipped */
            vfu_fs_close_fds(fds, i);
            return false;
        }
    }
    fuzz_fds_note(fds, r->nfds);
    return true;
}

void fuzz_session_set_limits(struct fuzz_session *fs, const struct vfu_limits *rx)
{
    fs->rx = *rx;
}

const struct vfu_limits *fuzz_session_limits(const struct fuzz_session *fs)
{
    return &fs->rx;
}

bool fuzz_session_request(struct fuzz_session *fs, const uint8_t *req, size_t len,
                          const uint8_t **reply, size_t *reply_len, int **fds, unsigned *nfds)
{
    vfu_fs_close_fds(fs->rfds, fs->nrfds);
    fs->nrfds = 0;
    struct vfu_hdr want;
    if (!vfu_hdr_decode(req, len, &want, NULL)) return false;
    while (fs->next_reply < fs->in.n) {
        const struct vfu_fs_record *r = &fs->in.rec[fs->next_reply++];
        if (r->kind != VFU_FS_REPLY) continue;
        size_t n = vfu_fs_prepare(r, want.msg_id, fs->reply, sizeof fs->reply);
        struct vfu_hdr h;
        /* what a socket server does with a reply to some other request:
         * a late one, dropped */
        if (!vfu_hdr_decode(fs->reply, n, &h, NULL) || h.msg_id != want.msg_id ||
            h.cmd != want.cmd || (h.flags & VFU_HDR_FLAGS_TYPE_MASK) != VFU_MSG_TYPE_REPLY)
            continue;
        if (!open_fds(r, fs->rfds)) continue;
        fs->nrfds = r->nfds;
        *reply = fs->reply;
        *reply_len = n;
        *fds = fs->rfds;
        *nfds = fs->nrfds;
        return true;
    }
    return false;
}

int fuzz_session_run(const struct fuzz_server *srv, const uint8_t *data, size_t size)
{
    /* one handler at a time: made on the first run, again if another
     * server is asked for (a test driving two) */
    static void *h;
    static const struct fuzz_server *made_for;
    static bool failed;
    struct fuzz_session *fs = &S;
    if (made_for != srv) {
        made_for = srv;
        failed = false;
        h = NULL;
    }
    if (!h && !failed) {
        h = srv->create(fs);
        if (!h) {
            fprintf(stderr, "fuzz session: %s: cannot create the handler\n", srv->name);
            failed = true;
        }
    }
    if (!h) return 0;
    vfu_limits_default(&fs->rx);
    pool_used = 0;
    srv->reset(h);
    vfu_fs_parse(data, size, &fs->in);
    fs->next_reply = 0;
    fs->next_id = 1;
    bool connected = true;
    for (unsigned i = 0; i < fs->in.n; i++) {
        const struct vfu_fs_record *r = &fs->in.rec[i];
        switch (r->kind) {
        case VFU_FS_MSG: {
            if (!connected) break;
            size_t n = vfu_fs_prepare(r, fs->next_id, fs->msg, sizeof fs->msg);
            fs->next_id++;
            if (!open_fds(r, fs->fds)) break;
            fs->nfds = r->nfds;
            connected = srv->input(h, fs->msg, n, fs->fds, fs->nfds);
            vfu_fs_close_fds(fs->fds, fs->nfds);
            vfu_fs_close_fds(fs->rfds, fs->nrfds);
            fs->nfds = fs->nrfds = 0;
            break;
        }
        case VFU_FS_DISCONNECT:
            srv->disconnect(h);
            vfu_limits_default(&fs->rx);
            connected = true;
            fs->next_id = 1;
            break;
        case VFU_FS_IOEVENT:
            if (connected && srv->ioevent) connected = srv->ioevent(h);
            vfu_fs_close_fds(fs->rfds, fs->nrfds);
            fs->nrfds = 0;
            break;
        default:   /* replies are taken in order by the requests, wherever they stand */
            break;
        }
    }
    srv->disconnect(h);
    fuzz_fds_check(srv->name);
    return 0;
}
