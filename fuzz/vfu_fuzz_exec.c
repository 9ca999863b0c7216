/* One session against the server: the scripted client connects, negotiates
 * VERSION (the session's own VERSION when its first record is one, sent
 * verbatim), sends each MSG record with real fds and waits for its reply
 * while serving the server's DMA_READ/DMA_WRITE on main and twin sockets,
 * then checks the server still answers a plain request.  What went wrong is
 * told by the codec and the client's violation records, by how the server
 * process ended, and by its stderr; nothing is judged from bytes here.
 *
 * Every choice is made from the input (and the fixed options), so a
 * session runs the same way again: minimization and replay depend on it.
 *
 * REPLY records answer the server's requests (DMA_READ, DMA_WRITE), in
 * order, through the client's answer hook: the hostile half of serving DMA
 * (wrong ids, sizes, error bits, fds); once they run out the client serves
 * the requests itself.  The trace keeps what was sent, so replay sends the
 * same answers.  DISCONNECT, IOEVENT and TRUNCATE are not played: they
 * would need a trace of more than one connection, or acts replay does not
 * take (said in fuzz/README.md). */
#include "vfu_fuzz.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_GUEST_MAP (16u << 20)
#define END_WAIT_MS 300
/* a server that closes on a bad message and goes on is common: a short
 * wait; one slower to die (a sanitizer writing its report) is seen by the
 * next session, which gives the finding back to this one */
#define EOF_WAIT_MS 30

static uint8_t g_msg[FZ_MSG_CAP];
static struct vfu_fs g_fs;

const char *fz_sig_name(int s)
{
    switch (s) {
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    case SIGPIPE: return "SIGPIPE";
    case SIGTRAP: return "SIGTRAP";
    case SIGSYS: return "SIGSYS";
    default: return NULL;
    }
}

static unsigned bucket(uint64_t v)
{
    unsigned b = 0;
    while (v) {
        b++;
        v >>= 1;
    }
    return b;
}

/* file-name-safe copy of s appended to out */
void fz_sig_append(char *out, size_t n, const char *s)
{
    size_t at = strlen(out);
    if (at && at + 1 < n) out[at++] = '-';
    for (; *s && at + 1 < n; s++) {
        char ch = *s;
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '_' || ch == '.';
        out[at++] = ok ? ch : '_';
    }
    out[at] = '\0';
}

const char *fz_cmd_label(int cmd)
{
    return cmd < 0 ? "none" : vfu_cmd(cmd) ? vfu_cmd_name((unsigned)cmd) : "unknown";
}

/* "ERROR: AddressSanitizer: heap-buffer-overflow ..." and its first frames,
 * or UBSan's "file:line:col: runtime error" */
bool fz_sanitizer_sig(const char *s, char *sig, size_t n, char *detail, size_t dn)
{
    const char *p = strstr(s, "ERROR: AddressSanitizer: ");
    const char *what = "asan";
    if (!p && (p = strstr(s, "ERROR: LeakSanitizer: "))) what = "lsan";
    if (!p && (p = strstr(s, "WARNING: MemorySanitizer: "))) what = "msan";
    if (p) {
        const char *t = strchr(p, ':') + 1;
        t = strchr(t, ':') + 2;
        char type[64];
        size_t k = 0;
        while (t[k] && t[k] != ' ' && t[k] != '\n' && k + 1 < sizeof type) {
            type[k] = t[k];
            k++;
        }
        type[k] = '\0';
        snprintf(sig, n, "sanitizer");
        fz_sig_append(sig, n, what);
        fz_sig_append(sig, n, type);
        const char *nl = strchr(p, '\n');
        snprintf(detail, dn, "%.*s", (int)(nl ? nl - p : (ptrdiff_t)strlen(p)), p);
        /* the first three frames of ours: "#N 0x... in FUNC file" */
        unsigned frames = 0;
        for (const char *f = p; frames < 3 && (f = strstr(f, " in ")); f += 4) {
            const char *fn = f + 4;
            size_t len = strcspn(fn, " \n");
            if (len == 0 || len > 60) continue;
            if (!strncmp(fn, "__interceptor", 13) || !strncmp(fn, "__asan", 6) ||
                !strncmp(fn, "__sanitizer", 11) || !strncmp(fn, "__ubsan", 7) ||
                !strncmp(fn, "___interceptor", 14) || !strncmp(fn, "__libc", 6) ||
                !strncmp(fn, "memcpy", 6) || !strncmp(fn, "memset", 6) || !strncmp(fn, "malloc", 6))
                continue;
            char fnb[64];
            snprintf(fnb, sizeof fnb, "%.*s", (int)len, fn);
            fz_sig_append(sig, n, fnb);
            frames++;
        }
        return true;
    }
    if ((p = strstr(s, ": runtime error: "))) {
        const char *b = p;
        while (b > s && b[-1] != '\n' && b[-1] != '/') b--;
        snprintf(sig, n, "sanitizer-ubsan");
        char loc[96];
        snprintf(loc, sizeof loc, "%.*s", (int)(p - b) < 90 ? (int)(p - b) : 90, b);
        /* file:line, without the column */
        char *c2 = strrchr(loc, ':');
        if (c2 && strchr(loc, ':') != c2) *c2 = '\0';
        fz_sig_append(sig, n, loc);
        const char *nl = strchr(p, '\n');
        snprintf(detail, dn, "%.*s", (int)(nl ? nl - b : (ptrdiff_t)strlen(b)), b);
        return true;
    }
    return false;
}

static void last_line(const char *s, size_t n, char *out, size_t on)
{
    out[0] = '\0';
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\r')) n--;
    size_t b = n;
    while (b && s[b - 1] != '\n') b--;
    size_t k = 0;
    for (size_t i = b; i < n && k + 1 < on; i++)
        if (s[i] < '0' || s[i] > '9') out[k++] = s[i];
    out[k] = '\0';
}

static void set_outcome(struct fz_outcome *o, enum fz_kind k, const char *a, const char *b)
{
    o->kind = k;
    snprintf(o->sig, sizeof o->sig, "%s", fz_kind_name(k));
    if (a) fz_sig_append(o->sig, sizeof o->sig, a);
    if (b) fz_sig_append(o->sig, sizeof o->sig, b);
}

static void trace_end(struct vfu_tracer *tr, enum vfu_errc code)
{
    if (!tr) return;
    struct vfu_error e;
    vfu_error_set(&e, code, -1, -1, 0, 0);
    vfu_tracer_record(tr, VFU_TRACE_MAIN, VFU_TRACE_RX, NULL, 0, NULL, 0, &e);
}

struct sess {
    struct fz_target *t;
    struct fz_cov *cov;
    const struct fz_exec_opts *o;
    struct fz_outcome *out;
    struct vfu_client *c;
    struct vfu_tracer *tr;
    int last_cmd;
    bool eof, timed_out, mem_consistent, refused;
    int timeout_cmd;
    uint16_t id_offset;
    bool out_is_known;
    bool out_is_wanted;           /* out holds the violation o->want_sig names */
    uint8_t lenient[65536 / 8];   /* msg ids sent as something other than a command */
    unsigned next_reply;          /* the REPLY record that answers the next request */
    unsigned answered;            /* server requests answered by a REPLY record */
};

static void tuple(struct sess *s, uint64_t a, uint64_t b)
{
    if (s->cov) fz_cov_tuple(s->cov, a, b);
}

/* A DMA_MAP whose fd is a memfd and whose window is plain is given the
 * client's own guest memory there, so the server's DMA to it is served;
 * any other DMA_MAP leaves the window unknown to the client (it refuses
 * DMA there), and its DMA_ADDRESS/DMA_PERM records then prove nothing. */
static int guest_map(struct sess *s, const uint8_t *buf, size_t n, const struct vfu_fs_record *r)
{
    struct vfu_msg m;
    struct vfu_error err;
    struct vfu_limits lim;
    vfu_limits_default(&lim);
    lim.max_msg_size = FZ_MSG_CAP;
    lim.max_fds = VFU_MAX_FDS;
    int dummy = -1;
    if (!vfu_decode(&m, buf, n, &dummy, r->nfds ? 1 : 0, &lim, VFU_ROLE_SERVER, &err) || m.is_reply ||
        r->nfds != 1 || (r->fds[0].kind != VFU_FS_FD_MEMFD))
        return -1;
    uint64_t size = vfu_get(&m, VFU_F_DMA_MAP_SIZE), addr = vfu_get(&m, VFU_F_DMA_MAP_ADDRESS);
    uint32_t prot = (uint32_t)vfu_get(&m, VFU_F_DMA_MAP_FLAGS);
    if (vfu_get(&m, VFU_F_DMA_MAP_OFFSET) != 0 || size == 0 || size > MAX_GUEST_MAP ||
        addr + size < addr || (prot & ~(uint32_t)VFU_DMA_MAP_FLAGS_KNOWN) || !prot)
        return -1;
    int region = vfu_mem_add(s->c, addr, size, prot, VFU_MEM_MEMFD, &err);
    if (region >= 0) vfu_mem_set_exported(s->c, region, true);
    return region;
}

static void note_reply(struct sess *s, const struct vfu_reply *r)
{
    s->out->replies++;
    tuple(s, (uint64_t)r->msg.hdr.cmd << 8 | r->msg.is_error,
          (uint64_t)r->msg.hdr.error << 16 | bucket(r->msg.payload_len) << 8 | r->nfds);
}

/* the violation the client recorded that counts, first one wins */
static void violations(struct sess *s)
{
    unsigned n;
    const struct vfu_violation *v = vfu_client_violations(s->c, &n);
    for (unsigned i = 0; i < n; i++) {
        if ((v[i].kind == VFU_V_DMA_ADDRESS || v[i].kind == VFU_V_DMA_PERM) && !s->mem_consistent)
            continue;
        if ((v[i].kind == VFU_V_NO_REPLY_ANSWERED || v[i].kind == VFU_V_UNEXPECTED_REPLY ||
             v[i].kind == VFU_V_REPLY_CMD) &&
            (s->lenient[v[i].msg_id / 8] & (1u << (v[i].msg_id % 8))))
            continue;
        tuple(s, 0x3000 | v[i].kind, (uint64_t)v[i].err.code << 16 | (uint16_t)v[i].err.cmd);
        if (s->out_is_wanted) continue;
        /* the one a minimization or a replay check is after wins, wherever
         * it stands; else the first violation not found before, so that one
         * rule a server breaks in every session (libvfio-user's unproposed
         * migration capability) does not hide the others */
        char sig[128];
        snprintf(sig, sizeof sig, "%s", fz_kind_name(FZ_VIOLATION));
        fz_sig_append(sig, sizeof sig, vfu_viol_kind_name(v[i].kind));
        fz_sig_append(sig, sizeof sig, fz_cmd_label(v[i].err.cmd));
        if (v[i].kind == VFU_V_DECODE) fz_sig_append(sig, sizeof sig, vfu_errc_name(v[i].err.code));
        bool wanted = s->o->want_sig && !strcmp(sig, s->o->want_sig);
        bool known = !wanted && s->o->known && fz_findings_known(s->o->known, sig);
        if (s->out->kind != FZ_NONE && !wanted && (!s->out_is_known || known)) continue;
        s->out_is_known = known;
        s->out_is_wanted = wanted;
        s->out->kind = FZ_VIOLATION;
        memcpy(s->out->sig, sig, sizeof sig);
        size_t k = vfu_violation_str(&v[i], s->out->detail, sizeof s->out->detail);
        if (v[i].kind == VFU_V_NO_REPLY_ANSWERED)
            snprintf(s->out->detail + k, sizeof s->out->detail - k,
                     " (SHOULD at most: the spec says No_reply means no reply is needed)");
    }
}

/* one MSG record; false when the session cannot go on */
static bool send_record(struct sess *s, const struct vfu_fs_record *r)
{
    if (r->len < VFU_HDR_SIZE) return true;   /* a server rightly waits for the rest */
    size_t n = vfu_fs_prepare(r, 0, g_msg, sizeof g_msg);
    struct vfu_hdr h;
    struct vfu_error err;
    vfu_hdr_decode(g_msg, n, &h, &err);
    /* Framing is ours to keep: a msg_size above what we send makes any
     * server wait for the rest, one between the header and the end would
     * make the tail a message of its own.  Below the header it is sent as
     * a header alone, which a server must refuse. */
    if (h.msg_size < VFU_HDR_SIZE) n = VFU_HDR_SIZE;
    else h.msg_size = (uint32_t)n;
    /* ids stay unique in a session (the client matches replies by them);
     * a record without fix-id moves them all by a multiple of 256 of its
     * own choosing, so that ids above one byte are seen too */
    if (!(r->flags & VFU_FS_FIX_ID) && !s->id_offset) s->id_offset = (uint16_t)(0x100u * (1u + (h.msg_id >> 8) % 255u));
    h.msg_id = (uint16_t)(vfu_client_next_id(s->c) + s->id_offset);
    vfu_hdr_encode(g_msg, &h);
    s->last_cmd = h.cmd;
    int fds[VFU_FS_MAX_FDS];
    if (!vfu_fs_open_fds(r, fds)) return true;   /* our side: skip it */
    int region = -1;
    bool is_map = h.cmd == VFU_CMD_DMA_MAP && !(h.flags & VFU_HDR_FLAGS_TYPE_MASK);
    if (is_map) {
        region = guest_map(s, g_msg, n, r);
        if (region >= 0) {
            close(fds[0]);
            fds[0] = dup(vfu_mem_fd(s->c, region));
        } else
            s->mem_consistent = false;
    }
    /* No_reply: "no reply is needed", so none is waited for.  A message
     * that is not a command (a reply, or a type the spec does not define)
     * asks for nothing either; whatever the server says to it is no
     * finding (its id is remembered for that). */
    bool not_cmd = (h.flags & VFU_HDR_FLAGS_TYPE_MASK) != 0;
    bool no_reply = (h.flags & VFU_HDR_FLAGS_NO_REPLY) || not_cmd;
    if (not_cmd) s->lenient[h.msg_id / 8] |= (uint8_t)(1u << (h.msg_id % 8));
    struct vfu_expect x = {.msg_id = h.msg_id, .cmd = h.cmd, .no_reply = no_reply};
    uint64_t ticket;
    s->out->sent++;
    bool sent = vfu_client_send_raw(s->c, g_msg, n, fds, r->nfds, &x, &ticket, &err);
    vfu_fs_close_fds(fds, r->nfds);
    if (!sent) {
        if (region >= 0) vfu_mem_remove(s->c, region);
        if (err.code == VFU_E_EOF) {
            s->eof = true;
            trace_end(s->tr, VFU_E_EOF);
        }
        return false;
    }
    if (no_reply) return true;
    struct vfu_reply rep;
    vfu_reply_init(&rep);
    enum vfu_call_status st = vfu_client_wait(s->c, ticket, s->o->timeout_ms, &rep);
    bool go_on = true;
    switch (st) {
    case VFU_CALL_REPLY:
        note_reply(s, &rep);
        if (region >= 0 && rep.msg.is_error) vfu_mem_remove(s->c, region);
        break;
    case VFU_CALL_BAD_REPLY:
        tuple(s, 0x4000 | h.cmd, rep.err.code);
        break;   /* recorded as a DECODE violation by the client */
    case VFU_CALL_TIMEOUT:
        vfu_client_abandon(s->c, ticket);
        s->timed_out = true;
        s->timeout_cmd = h.cmd;
        trace_end(s->tr, VFU_E_TIMEOUT);
        go_on = false;
        break;
    case VFU_CALL_EOF:
        s->eof = true;
        trace_end(s->tr, VFU_E_EOF);
        go_on = false;
        break;
    default:
        go_on = false;
        break;
    }
    vfu_reply_release(&rep);
    return go_on;
}

/* a plain DEVICE_GET_INFO: the server still answers, and every reply to
 * what came before has arrived (replies come in order) */
static void sync_request(struct sess *s)
{
    uint8_t buf[256];
    struct vfu_enc e;
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_GET_INFO, false, 0);
    struct vfu_error err;
    if (!vfu_enc_finish(&e, &err)) return;
    struct vfu_reply rep;
    vfu_reply_init(&rep);
    enum vfu_call_status st = vfu_client_call(s->c, &e, NULL, s->o->timeout_ms, &rep);
    if (st == VFU_CALL_REPLY) note_reply(s, &rep);
    else if (st == VFU_CALL_TIMEOUT) {
        s->timed_out = true;
        s->timeout_cmd = s->last_cmd >= 0 ? s->last_cmd : VFU_CMD_DEVICE_GET_INFO;
        trace_end(s->tr, VFU_E_TIMEOUT);
    } else if (st == VFU_CALL_EOF) {
        s->eof = true;
        trace_end(s->tr, VFU_E_EOF);
    }
    vfu_reply_release(&rep);
}

/* how the server is after the session */
static void judge_server(struct sess *s)
{
    struct fz_target *t = s->t;
    struct fz_outcome *o = s->out;
    bool expect_end = t->exits_per_client;
    /* a server on its way out after what we sent gets a moment to go, so
     * that its end is this session's and not the next one's */
    int wait = expect_end || s->timed_out ? END_WAIT_MS : s->eof || s->refused ? EOF_WAIT_MS : 0;
    /* a connection closed by a server that is not exiting (lib/runtime/proc.h: the
     * kernel marks an exit before it closes the fds) was closed on
     * purpose: no wait (libvfio-user closes on every bad message); one
     * that dies later is seen by the next session, which hands the finding
     * back to this one */
    if (wait == EOF_WAIT_MS && t->server_cmd && t->started && !vfu_proc_exiting(&t->proc)) wait = 0;
    enum vfu_proc_state ps = fz_target_poll(t, wait);
    size_t elen;
    const char *err = fz_target_new_stderr(t, &elen);
    char ssig[128] = "", sdetail[512] = "";
    bool san = elen && fz_sanitizer_sig(err, ssig, sizeof ssig, sdetail, sizeof sdetail);
    const char *lc = fz_cmd_label(s->last_cmd);
    if (ps != VFU_PROC_RUNNING) {
        o->server_gone = true;
        const struct vfu_proc_status *st = vfu_proc_status(&t->proc);
        char how[160];
        vfu_proc_status_str(st, how, sizeof how);
        if (san) {
            o->kind = FZ_SANITIZER;
            snprintf(o->sig, sizeof o->sig, "%s", ssig);
            snprintf(o->detail, sizeof o->detail, "%s (%s)", sdetail, how);
        } else if (st->state == VFU_PROC_SIGNALED) {
            const char *sn = fz_sig_name(st->code);
            char num[16];
            snprintf(num, sizeof num, "SIG%d", st->code);
            set_outcome(o, FZ_CRASH, sn ? sn : num, lc);
            snprintf(o->detail, sizeof o->detail, "the server %s after %s", how, lc);
        } else if (st->state == VFU_PROC_EXITED && t->exits_per_client && st->code == t->by_design_status) {
            o->by_design_exit = true;
        } else {
            char code[16], last[64];
            snprintf(code, sizeof code, "%d", st->code);
            /* its last words tell one exit from another better than what
             * we sent last (digits dropped: counts and ids vary) */
            size_t alen;
            const char *all = vfu_proc_stderr(&t->proc, &alen);
            last_line(all, alen, last, sizeof last);
            set_outcome(o, FZ_EXIT, code, last[0] ? last : lc);
            snprintf(o->detail, sizeof o->detail, "the server %s after %s", how, lc);
        }
        if (o->kind != FZ_NONE || !s->timed_out || s->answered) return;
        /* it ended by design once we left; the request had no answer */
        set_outcome(o, FZ_TIMEOUT, fz_cmd_label(s->timeout_cmd), NULL);
        snprintf(o->detail, sizeof o->detail, "no answer to %s within %d ms", fz_cmd_label(s->timeout_cmd),
                 s->o->timeout_ms);
        return;
    }
    if (san) {
        o->kind = FZ_SANITIZER;
        snprintf(o->sig, sizeof o->sig, "%s", ssig);
        snprintf(o->detail, sizeof o->detail, "%s (the server goes on)", sdetail);
        return;
    }
    if (expect_end) {
        /* it should have ended as it does after every client */
        o->server_gone = true;
        if (s->timed_out) {
            set_outcome(o, FZ_HANG, fz_cmd_label(s->timeout_cmd), NULL);
            snprintf(o->detail, sizeof o->detail,
                     "no answer to %s within %d ms, and the server did not end after the client left",
                     fz_cmd_label(s->timeout_cmd), s->o->timeout_ms);
        }
        return;
    }
    if (s->timed_out) {
        bool alive = s->o->check_hang && fz_target_responsive(t);
        if (t->exits_per_client) o->server_gone = true;
        /* we answered one of its requests with a record of ours (a wrong
         * id, say): a server still waiting for the real answer when our
         * own wait ended is doing as it should */
        if (alive && s->answered) return;
        set_outcome(o, alive ? FZ_TIMEOUT : FZ_HANG, fz_cmd_label(s->timeout_cmd), NULL);
        snprintf(o->detail, sizeof o->detail, "no answer to %s within %d ms%s", fz_cmd_label(s->timeout_cmd),
                 s->o->timeout_ms, alive ? "; new clients are still served" : "; a new client cannot complete VERSION");
        if (!alive) o->server_gone = true;
    }
}

/* the client's answer hook (include/vfu/vfu_client.h): the next REPLY record, its
 * msg_id the request's when the record says so; 0 (the client serves the
 * request) when none is left or its fds cannot be made */
static size_t answer(void *ctx, enum vfu_sock sock, const struct vfu_hdr *req, uint8_t *buf, size_t cap,
                     int *fds, unsigned *nfds)
{
    struct sess *s = ctx;
    (void)sock;
    while (s->next_reply < g_fs.n && g_fs.rec[s->next_reply].kind != VFU_FS_REPLY) s->next_reply++;
    if (s->next_reply >= g_fs.n) return 0;
    const struct vfu_fs_record *r = &g_fs.rec[s->next_reply++];
    size_t n = vfu_fs_prepare(r, req->msg_id, buf, cap);
    int all[VFU_FS_MAX_FDS];
    if (!n || !vfu_fs_open_fds(r, all)) return 0;
    unsigned k = r->nfds > VFU_MAX_FDS ? VFU_MAX_FDS : r->nfds;
    for (unsigned i = 0; i < r->nfds; i++) {
        if (i < k) fds[i] = all[i];
        else close(all[i]);
    }
    *nfds = k;
    s->answered++;
    tuple(s, 0x8000u | req->cmd, bucket(n) << 4 | k);
    return n;
}

void fz_exec(struct fz_target *t, struct fz_cov *cov, const uint8_t *in, size_t len,
             const struct fz_exec_opts *o, struct fz_outcome *out, struct vfu_tracer **trace)
{
    memset(out, 0, sizeof *out);
    out->fds_after_version = -1;
    if (trace) *trace = NULL;
    vfu_fs_parse(in, len, &g_fs);
    static struct sess s;
    s = (struct sess){.t = t, .cov = cov, .o = o, .out = out, .last_cmd = -1, .mem_consistent = true,
                     .timeout_cmd = -1};
    if (o->keep_trace) {
        struct vfu_trace_meta meta = {.tool = "vfu-fuzz 0.1",
                                      .server = t->server_cmd ? t->server_cmd : t->connect_path};
        s.tr = vfu_tracer_new(&meta, FZ_TRACE_CAP);
    }
    struct vfu_client_opts co;
    vfu_client_opts_default(&co);
    co.timeout_ms = o->timeout_ms;
    co.frame_timeout_ms = o->timeout_ms;
    co.dma_write_ack_u64 = o->dma_write_ack_u64;
    co.answer.fn = answer;
    co.answer.ctx = &s;
    if (s.tr) {
        co.trace = vfu_tracer_hook(s.tr, VFU_TRACE_MAIN);
        co.trace_twin = vfu_tracer_hook(s.tr, VFU_TRACE_TWIN);
    }
    fz_target_mark(t);
    if (cov) fz_cov_reset(cov);
    struct vfu_error err;
    s.c = vfu_client_connect(fz_target_path(t), o->timeout_ms, &co, &err);
    if (!s.c) {
        s.eof = true;
        out->connect_failed = true;
        judge_server(&s);
        if (out->kind == FZ_NONE && !out->by_design_exit && !out->server_gone) {
            /* running, yet no connection: as good as hung */
            set_outcome(out, FZ_HANG, "connect", NULL);
            vfu_error_str(&err, out->detail, sizeof out->detail);
            out->server_gone = true;
        }
        goto done;
    }
    unsigned first = 0;
    struct vfu_version_proposal p;
    vfu_proposal_default(&p);
    /* a twin socket is asked for when a record wants one: the server's
     * DMA then comes on it, served there by the client */
    for (unsigned i = 0; i < g_fs.n; i++)
        if (g_fs.rec[i].flags & VFU_FS_TWIN) {
            vfu_caps_set(&p.caps, VFU_CAP_TWIN_SOCKET_SUPPORTED, 1);
            break;
        }
    struct vfu_hdr h;
    if (g_fs.n && g_fs.rec[0].kind == VFU_FS_MSG && vfu_hdr_decode(g_fs.rec[0].msg, g_fs.rec[0].len, &h, &err) &&
        h.cmd == VFU_CMD_VERSION && !(h.flags & VFU_HDR_FLAGS_TYPE_MASK) &&
        g_fs.rec[0].len >= VFU_HDR_SIZE + VFU_SIZE_VERSION) {
        /* the session's own VERSION: its numbers and its data verbatim */
        const uint8_t *pl = g_fs.rec[0].msg + VFU_HDR_SIZE;
        p.major = (uint16_t)vfu_read_uint(pl, 2);
        p.minor = (uint16_t)vfu_read_uint(pl + 2, 2);
        p.data = VFU_PROPOSE_RAW;
        p.raw = pl + VFU_SIZE_VERSION;
        p.raw_len = g_fs.rec[0].len - VFU_HDR_SIZE - VFU_SIZE_VERSION;
        first = 1;
    }
    s.last_cmd = VFU_CMD_VERSION;
    struct vfu_version_result res;
    vfu_client_negotiate(s.c, &p, o->timeout_ms, &res);
    tuple(&s, 0x5000 | res.accepted, (uint64_t)res.status << 32 | res.errnum);
    if (res.status == VFU_CALL_TIMEOUT) {
        s.timed_out = true;
        s.timeout_cmd = VFU_CMD_VERSION;
        trace_end(s.tr, VFU_E_TIMEOUT);
    } else if (res.status == VFU_CALL_EOF) {
        s.eof = true;
        trace_end(s.tr, VFU_E_EOF);
    }
    s.refused = !res.accepted;
    /* the server was dying already: our own plain VERSION got no answer */
    if (!first && (res.status == VFU_CALL_EOF || res.status == VFU_CALL_ERROR)) out->connect_failed = true;
    if (res.accepted) {
        if (!res.twin) out->fds_after_version = fz_target_fds(t);
        bool go = true;
        for (unsigned i = first; go && i < g_fs.n; i++)
            if (g_fs.rec[i].kind == VFU_FS_MSG) go = send_record(&s, &g_fs.rec[i]);
        if (go) sync_request(&s);
        const struct vfu_client_stats *cs = vfu_client_stats(s.c);
        tuple(&s, 0x6000, bucket(cs->dma_read) << 8 | bucket(cs->dma_write));
        tuple(&s, 0x6001, bucket(cs->dma_max_count) << 8 | bucket(cs->dma_refused));
    }
    violations(&s);
    enum fz_kind viol = out->kind;
    char vsig[128], vdetail[512];
    memcpy(vsig, out->sig, sizeof vsig);
    memcpy(vdetail, out->detail, sizeof vdetail);
    out->kind = FZ_NONE;
    vfu_client_close(s.c);
    s.c = NULL;
    judge_server(&s);
    if ((out->kind == FZ_NONE || out->kind == FZ_TIMEOUT) && viol != FZ_NONE) {
        /* a violation counts when nothing worse happened; it also explains
         * a wait that never ended (a reply with the wrong id, say) */
        out->kind = viol;
        memcpy(out->sig, vsig, sizeof vsig);
        memcpy(out->detail, vdetail, sizeof vdetail);
    }
    tuple(&s, 0x7000 | out->kind, s.eof << 1 | s.timed_out);
done:
    if (trace) *trace = s.tr;
    else vfu_tracer_free(s.tr);
}
