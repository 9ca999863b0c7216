/* vfu-fuzz --client CMD: the same engine turned round, acting as a hostile
 * server.  Each session starts the client program with the path of a socket
 * we listen on and serves its one connection with the reference server
 * (servers/srv.h, run by its own event loop in a thread), whose replies the
 * session input replaces, in order:
 *
 *   reply       answers the client's next request instead of the reference
 *               server's answer (fix-id: with the request's msg_id)
 *   msg         sent to the client just before the next answer: a
 *               server-to-client command (DMA_READ / DMA_WRITE) or an
 *               unsolicited reply
 *   disconnect  the connection is closed before the next answer
 *
 * When the records run out the reference server answers, so the client goes
 * on as far as it can.  The first session of a run, with no records at all,
 * is recorded: its answers, as reply records, are the first seed, which the
 * shared mutator (role client) then works on.
 *
 * What counts as a finding: the client is killed by a signal (an assert
 * reached from the wire is one), writes a sanitizer report, or is still
 * running the timeout after the connection was closed (hang).  Ending with
 * an error status is how a client refuses a bad server, not a finding. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "srv_host.h"
#include "stopsig.h"
#include "vfu_fuzz.h"

#define CONNECT_MS_MIN 5000     /* a client program's start, sanitized */
#define SESSION_MS_FACTOR 20    /* a whole session: this many timeouts at most */
#define STOP_GRACE_MS 300
#define STAYS_WAIT_MS 200       /* a client that outlives the server: wait this long for a crash */
#define MIN_BUDGET 200          /* runs spent minimizing one finding */
#define RECORD_CAP (64u << 10)  /* the recorded first session */
#define INJECT_ID_BASE 0x8000u  /* msg_ids of the commands we inject */
#define IDLE_PAUSES 4           /* idle: this many of the client's longest pauses... */
#define IDLE_MIN_MS 20          /* ...and this much more */

/* ------------------------------------------------------------ session --- */

struct cs {
    const struct vfu_fs *fs;
    unsigned next;              /* next record to play */
    uint16_t inject_id;
    struct fz_cov *cov;
    int prev_cmd;
    int last_cmd;               /* the client's last request, for signatures */
    atomic_llong last_ms;       /* when the client last sent something */
    long long answered_ms;      /* when we last answered (0: not yet) */
    long long max_gap_ms;       /* longest answer-to-next-request pause */
    atomic_bool closed_by_us;
    unsigned sent, replaced, injected, received;
    /* recording (first session): what the reference server answered */
    uint8_t *rec;
    size_t rec_len;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint8_t g_out[FZ_MSG_CAP];

/* a record's message with its fds, as the session format says */
static bool play(struct cs *s, struct vfu_conn *c, const struct vfu_fs_record *r, uint16_t id,
                 struct vfu_error *err)
{
    size_t n = vfu_fs_prepare(r, id, g_out, sizeof g_out);
    int fds[VFU_FS_MAX_FDS];
    if (!vfu_fs_open_fds(r, fds)) return true;   /* out of fds: the record is skipped */
    unsigned nfds = r->nfds > VFU_MAX_FDS ? VFU_MAX_FDS : r->nfds;
    bool ok = vfu_send(c, g_out, n, fds, nfds, err);
    vfu_fs_close_fds(fds, r->nfds);
    s->sent++;
    return ok;
}

static void record(struct cs *s, const struct vfu_enc *e)
{
    if (!s->rec) return;
    struct vfu_fs_fd fds[VFU_MAX_FDS];
    unsigned nfds = e->nfds > VFU_MAX_FDS ? VFU_MAX_FDS : e->nfds;
    for (unsigned i = 0; i < nfds; i++) {
        struct stat st;
        bool file = fstat(e->fds[i], &st) == 0 && S_ISREG(st.st_mode);
        fds[i].kind = file ? VFU_FS_FD_MEMFD : VFU_FS_FD_EVENTFD;
        fds[i].size = file ? (uint32_t)(st.st_size % VFU_FS_MAX_MEMFD) : 0;
    }
    s->rec_len += fz_put_record(s->rec + s->rec_len, RECORD_CAP - s->rec_len, VFU_FS_REPLY,
                                VFU_FS_FIX_SIZE | VFU_FS_FIX_ID, e->buf, (uint32_t)e->len, fds, nfds);
}

/* every answer of the server passes here (srv_loop_tap.send) */
static bool tap_send(void *ctx, struct vfu_conn *c, const struct vfu_enc *e, struct vfu_error *err)
{
    struct cs *s = ctx;
    struct vfu_hdr h;
    if (!vfu_hdr_decode(e->buf, e->len, &h, NULL) ||
        (h.flags & VFU_HDR_FLAGS_TYPE_MASK) != VFU_MSG_TYPE_REPLY)
        return vfu_send_enc(c, e, err);
    while (s->fs && s->next < s->fs->n) {
        const struct vfu_fs_record *r = &s->fs->rec[s->next++];
        switch (r->kind) {
        case VFU_FS_MSG:
            if (!play(s, c, r, s->inject_id++, err)) return false;
            s->injected++;
            continue;
        case VFU_FS_REPLY:
            s->replaced++;
            s->answered_ms = now_ms();
            return play(s, c, r, h.msg_id, err);
        case VFU_FS_DISCONNECT:
            atomic_store(&s->closed_by_us, true);
            vfu_error_set(err, VFU_E_EOF, h.cmd, -1, 0, 0);
            return false;
        default:    /* ioevent, truncate: nothing a server does to a client */
            continue;
        }
    }
    record(s, e);
    s->sent++;
    s->answered_ms = now_ms();
    return vfu_send_enc(c, e, err);
}

/* every message of the client passes here (srv_loop_tap.recv) */
static void tap_recv(void *ctx, const uint8_t *buf, size_t len, const int *fds, unsigned nfds)
{
    (void)fds;
    struct cs *s = ctx;
    long long t = now_ms();
    atomic_store(&s->last_ms, t);
    if (s->answered_ms && t - s->answered_ms > s->max_gap_ms) s->max_gap_ms = t - s->answered_ms;
    s->answered_ms = 0;
    s->received++;
    struct vfu_hdr h;
    if (!vfu_hdr_decode(buf, len, &h, NULL)) {
        fz_cov_tuple(s->cov, 0xF0000, len < 64 ? len : 64);
        return;
    }
    bool reply = (h.flags & VFU_HDR_FLAGS_TYPE_MASK) == VFU_MSG_TYPE_REPLY;
    /* what the client does next, after what, and how it answers our
     * commands: the feedback when the client is not instrumented */
    fz_cov_tuple(s->cov, (uint64_t)h.cmd << 1 | reply, (uint64_t)s->prev_cmd << 8 | (nfds > 3 ? 3 : nfds));
    if (reply) fz_cov_tuple(s->cov, 0x10000u | h.cmd, (uint64_t)h.error << 2 | (h.flags >> 4 & 3));
    else s->last_cmd = h.cmd;
    s->prev_cmd = h.cmd;
}

static void outcome(struct fz_outcome *o, enum fz_kind k, const char *a, const char *b)
{
    o->kind = k;
    snprintf(o->sig, sizeof o->sig, "client-%s", fz_kind_name(k));
    if (a) fz_sig_append(o->sig, sizeof o->sig, a);
    if (b) fz_sig_append(o->sig, sizeof o->sig, b);
}

/* how the client ended, judged */
static void judge(struct fz_client *F, struct cs *s, bool hung, struct fz_outcome *o)
{
    size_t n = 0;
    const char *err = vfu_proc_stderr(&F->proc, &n);
    char sig[96], detail[400];
    if (n && fz_sanitizer_sig(err, sig, sizeof sig, detail, sizeof detail)) {
        o->kind = FZ_SANITIZER;
        snprintf(o->sig, sizeof o->sig, "client-%s", sig);
        snprintf(o->detail, sizeof o->detail, "the client wrote a sanitizer report: %s", detail);
        return;
    }
    if (hung) {
        outcome(o, FZ_HANG, fz_cmd_label(s->last_cmd), NULL);
        snprintf(o->detail, sizeof o->detail,
                 "the client was still running %d ms after the server closed the connection (its last request: %s)",
                 F->timeout_ms, fz_cmd_label(s->last_cmd));
        return;
    }
    const struct vfu_proc_status *st = vfu_proc_status(&F->proc);
    if (st->state == VFU_PROC_SIGNALED && !st->term_sent) {
        const char *name = fz_sig_name(st->code);
        char num[16];
        snprintf(num, sizeof num, "sig%d", st->code);
        outcome(o, FZ_CRASH, name ? name : num, fz_cmd_label(s->last_cmd));
        char how[160];
        vfu_proc_status_str(st, how, sizeof how);
        snprintf(o->detail, sizeof o->detail, "the client was %s after its %s request", how,
                 fz_cmd_label(s->last_cmd));
        return;
    }
    o->kind = FZ_NONE;
    o->sig[0] = '\0';
    if (st->state == VFU_PROC_EXITED)
        snprintf(o->detail, sizeof o->detail, "the client exited with status %d", st->code);
}

void fzc_exec(struct fz_client *F, struct fz_cov *cov, const uint8_t *in, size_t len, bool record_it,
              struct fz_outcome *o)
{
    static struct vfu_fs fs;
    static struct cs s;
    memset(o, 0, sizeof *o);
    o->fds_after_version = -1;
    vfu_fs_parse(in, len, &fs);
    memset(&s, 0, sizeof s);
    s.fs = &fs;
    s.inject_id = INJECT_ID_BASE;
    s.cov = cov ? cov : &F->scratch;
    s.prev_cmd = s.last_cmd = -1;
    if (record_it) {
        F->recorded_len = 0;
        s.rec = F->recorded;
    }
    if (cov) fz_cov_reset(cov);
    struct vfu_proc_spec spec = {
        .cmd = F->cmd,
        .socket_path = F->sd.sock,
        .sock = VFU_PROC_SOCK_CLIENT,
        .echo_stderr = F->echo_stderr,
        .stdout_mode = VFU_PROC_STDOUT_CAPTURE,
    };
    struct vfu_error err;
    /* a connection a previous client made and never got served (one that
     * reconnects) is not this session's */
    for (int stale; (stale = vfu_accept(F->lfd, 0, &err)) >= 0;) close(stale);
    memset(&F->proc, 0, sizeof F->proc);
    if (!vfu_proc_start(&F->proc, &spec, &err)) {
        /* it ended at once: judged like any end (a crash is a crash) */
        judge(F, &s, false, o);
        if (o->kind == FZ_NONE) {
            o->connect_failed = true;
            snprintf(o->detail, sizeof o->detail, "the client did not start: %s", vfu_proc_why(&F->proc));
        }
        vfu_proc_free(&F->proc);
        return;
    }
    /* its connection, or its end */
    int cfd = -1;
    long long t0 = now_ms(), connect_ms = F->timeout_ms > CONNECT_MS_MIN ? F->timeout_ms : CONNECT_MS_MIN;
    while (cfd < 0 && now_ms() - t0 < connect_ms && !fz_sig_stop()) {
        cfd = vfu_accept(F->lfd, 20, &err);
        if (cfd < 0 && vfu_proc_poll(&F->proc) != VFU_PROC_RUNNING) break;
    }
    bool hung = false;
    if (cfd < 0) {
        if (vfu_proc_poll(&F->proc) == VFU_PROC_RUNNING) vfu_proc_stop(&F->proc, STOP_GRACE_MS);
        judge(F, &s, false, o);
        if (o->kind == FZ_NONE) {
            o->connect_failed = true;
            snprintf(o->detail, sizeof o->detail, "the client did not connect within %lld ms", connect_ms);
        }
        vfu_proc_free(&F->proc);
        return;
    }
    atomic_store(&s.last_ms, now_ms());
    struct srv_loop_tap tap = {.send = tap_send, .recv = tap_recv, .ctx = &s};
    static struct srv_host host;
    struct srv_opts opt;
    srv_opts_default(&opt);
    if (!srv_host_start(&host, cfd, &opt, F->timeout_ms, &tap)) {
        vfu_proc_stop(&F->proc, STOP_GRACE_MS);
        vfu_proc_free(&F->proc);
        o->connect_failed = true;
        snprintf(o->detail, sizeof o->detail, "cannot start the serving thread");
        return;
    }
    /* watch: the session ends when the client closes, goes quiet for its
     * idle time, or has talked for SESSION_MS_FACTOR timeouts */
    long long session_ms = (long long)F->timeout_ms * SESSION_MS_FACTOR, begun = now_ms();
    bool shut = false;
    while (!srv_host_done(&host)) {
        vfu_proc_wait(&F->proc, 5);
        long long t = now_ms();
        bool quiet = t - atomic_load(&s.last_ms) >= F->idle_ms;
        if (!shut && (quiet || t - begun >= session_ms || fz_sig_stop())) {
            srv_host_shut(&host);
            atomic_store(&s.closed_by_us, true);
            shut = true;
        }
    }
    srv_host_join(&host);
    /* the connection is gone: a client that is still running after the
     * timeout hangs, unless staying is what it did with the plain server
     * too (a VMM outlives its device); then it gets a moment to crash in */
    int linger = F->stays && F->timeout_ms > STAYS_WAIT_MS ? STAYS_WAIT_MS : F->timeout_ms;
    if (!vfu_proc_wait(&F->proc, linger)) {
        if (record_it) F->stays = true;
        hung = !fz_sig_stop() && !F->stays;
        vfu_proc_stop(&F->proc, STOP_GRACE_MS);
    }
    vfu_proc_poll(&F->proc);
    judge(F, &s, hung, o);
    o->sent = s.sent;
    o->replies = s.received;
    if (record_it) {
        F->recorded_len = s.rec_len;
        /* the client's own pace, from the plain session: a client that
         * has been quiet several times longer than it ever paused between
         * our answer and its next request waits for something that will
         * not come (an answer it did not take), so the session is over */
        long long idle = IDLE_PAUSES * s.max_gap_ms + IDLE_MIN_MS;
        F->idle_ms = idle < F->timeout_ms ? (int)idle : F->timeout_ms;
    }
    if (cov) {
        const struct vfu_proc_status *st = vfu_proc_status(&F->proc);
        fz_cov_tuple(cov, 0xE0000u | (unsigned)st->state, (uint64_t)(st->code & 0xff) << 1 | atomic_load(&s.closed_by_us));
    }
    F->stderr_len = 0;
    size_t n = 0;
    const char *e = vfu_proc_stderr(&F->proc, &n);
    if (n > sizeof F->stderr_copy) {
        e += n - sizeof F->stderr_copy;
        n = sizeof F->stderr_copy;
    }
    memcpy(F->stderr_copy, e, n);
    F->stderr_len = n;
    vfu_proc_free(&F->proc);
}

/* ------------------------------------------------------------ set-up --- */

bool fzc_open(struct fz_client *F, struct vfu_error *err)
{
    if (!vfu_sockdir_make(&F->sd, "vfu-fuzz")) {
        vfu_error_set(err, VFU_E_IO, -1, -1, 0, 0);
        err->sys_errno = errno;
        return false;
    }
    F->lfd = vfu_listen(F->sd.sock, err);
    if (F->lfd < 0) return false;
    F->recorded = malloc(RECORD_CAP);
    if (!F->recorded) {
        vfu_error_set(err, VFU_E_NOMEM, -1, -1, RECORD_CAP, 0);
        return false;
    }
    /* the reference server in this process: its log lines would drown
     * the statistics, and a client that shrinks a mapped file must not
     * kill us */
    srv_log_mute(!F->echo_stderr);
    srv_sigbus_guard_install();
    return true;
}

void fzc_close(struct fz_client *F)
{
    if (F->lfd >= 0) close(F->lfd);
    F->lfd = -1;
    vfu_sockdir_remove(&F->sd);
    free(F->recorded);
    F->recorded = NULL;
}
