/* cjrun.h: one session of the client per personality, and the verdicts.
 *
 * A session: the client is started (lib/proc, told our socket), each
 * connection it makes is served by the reference server in a thread
 * (servers/srv_host.h) with the personality's options, and the tap below
 * shows every message both ways to the judge and plays the personality's
 * act (error replies, slow replies, a disconnection).  The session ends
 * when the client exits, or has been quiet idle_ms after our last answer
 * with no connection left to serve, or after SESSION_FACTOR timeouts;
 * a client still running then is stopped with SIGTERM, which is not held
 * against it (a VMM runs until told to stop). */
#include "cjrun.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cjudge.h"
#include "proc.h"
#include "runner.h"
#include "runner_int.h"
#include "sockdir.h"
#include "srv_host.h"
#include "stopsig.h"
#include "trace.h"
#include "vfu_transport.h"

#define CONNECT_MS_MIN 5000     /* a client's start (a VMM, a sanitized build) */
#define SESSION_FACTOR 20       /* a session lasts at most this many timeouts */
#define STOP_GRACE_MS 2000
#define SLOW_MS 100
#define SLOW_BUDGET_MS 3000     /* slow-replies: delay spent at most, a session */
#define MAX_CMDS 512            /* the conversation kept for same_as_default */
#define TAIL 2048

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* one session's state, shared by its connections (the serving thread
 * writes, the main thread reads after each join) */
struct cjsess {
    const struct cj_persona *p;
    struct cj_tally *tally;
    struct cj_conn judge;
    char label[96];
    unsigned requests;          /* the client's commands, all connections */
    uint16_t cmds[MAX_CMDS];
    unsigned ncmds;
    unsigned dma_reqs;          /* our DMA_READ / DMA_WRITE */
    unsigned errors_sent;
    int slow_left_ms;
    atomic_llong last_ms;
    atomic_uint waiting;        /* our DMA requests unanswered (the judge's count) */
    bool disconnected;          /* the personality's disconnection happened */
    struct vfu_tracer *tracer;  /* --trace-dir: the session's messages, or NULL */
    uint8_t ebuf[VFU_HDR_SIZE];
};

static bool tap_send(void *ctx, struct vfu_conn *c, const struct vfu_enc *e, struct vfu_error *err)
{
    struct cjsess *s = ctx;
    struct vfu_hdr h;
    bool reply = vfu_hdr_decode(e->buf, e->len, &h, NULL) &&
                 (h.flags & VFU_HDR_FLAGS_TYPE_MASK) == VFU_MSG_TYPE_REPLY;
    const struct cj_persona *p = s->p;
    if (reply && h.cmd != VFU_CMD_VERSION) {
        switch (p->act) {
        case CJ_ACT_ERRORS:
            if (s->requests >= p->nth) {
                struct vfu_enc x;
                vfu_enc_error(&x, s->ebuf, sizeof s->ebuf, h.cmd, h.msg_id, (uint32_t)p->err);
                vfh_cj_server_msg(&s->judge, x.buf, x.len);
                if (s->tracer)
                    vfu_tracer_record(s->tracer, VFU_TRACE_MAIN, VFU_TRACE_RX, x.buf, x.len, NULL, 0, NULL);
                s->errors_sent++;
                atomic_store(&s->last_ms, now_ms());
                /* the fds of the real reply are not ours to send: the
                 * server closes what it does not hand over */
                return vfu_send(c, x.buf, x.len, NULL, 0, err);
            }
            break;
        case CJ_ACT_SLOW:
            if (s->slow_left_ms > 0) {
                int ms = s->slow_left_ms < SLOW_MS ? s->slow_left_ms : SLOW_MS;
                s->slow_left_ms -= ms;
                struct timespec ts = {0, (long)ms * 1000000L};
                nanosleep(&ts, NULL);
            }
            break;
        case CJ_ACT_DISCONNECT:
            if (!s->disconnected && s->requests >= p->nth) {
                s->disconnected = true;
                atomic_store(&s->last_ms, now_ms());
                vfu_error_set(err, VFU_E_EOF, h.cmd, -1, 0, 0);
                return false;
            }
            break;
        case CJ_ACT_NONE:
            break;
        }
    }
    if (!reply) s->dma_reqs++;
    if (s->tracer) vfu_tracer_record(s->tracer, VFU_TRACE_MAIN, VFU_TRACE_RX, e->buf, e->len, e->fds, e->nfds, NULL);
    vfh_cj_server_msg(&s->judge, e->buf, e->len);
    atomic_store(&s->waiting, s->judge.srv_waiting);
    atomic_store(&s->last_ms, now_ms());
    return vfu_send_enc(c, e, err);
}

static void tap_recv(void *ctx, const uint8_t *buf, size_t len, const int *fds, unsigned nfds)
{
    struct cjsess *s = ctx;
    /* recorded as the client's side, as traces of server runs are: what
     * the client sent is tx */
    if (s->tracer) vfu_tracer_record(s->tracer, VFU_TRACE_MAIN, VFU_TRACE_TX, buf, len, fds, nfds, NULL);
    atomic_store(&s->last_ms, now_ms());
    vfh_cj_client_msg(&s->judge, buf, len, nfds);
    atomic_store(&s->waiting, s->judge.srv_waiting);
    struct vfu_hdr h;
    if (vfu_hdr_decode(buf, len, &h, NULL) && (h.flags & VFU_HDR_FLAGS_TYPE_MASK) == VFU_MSG_TYPE_COMMAND) {
        s->requests++;
        if (s->ncmds < MAX_CMDS) s->cmds[s->ncmds++] = h.cmd;
    }
}

/* ----------------------------------------------------------- session --- */

struct cjout {
    bool connected;
    unsigned conns;
    bool stopped_by_us;
    struct vfu_proc_status st;
    char tail[TAIL];
    const char *fault_mark;
};

struct cjr {
    const struct cj_run_opts *o;
    int timeout_ms, idle_ms;
    struct vfu_sockdir sd;
    int lfd;
    struct cj_tally tally;
    char *check_trace[CJ__COUNT];   /* the trace of each check's first breach */
};

static void session(struct cjr *R, const struct cj_persona *p, struct cjsess *s, struct cjout *out)
{
    memset(out, 0, sizeof *out);
    struct vfu_tracer *tr = s->tracer;
    memset(s, 0, sizeof *s);
    s->tracer = tr;
    s->p = p;
    s->tally = &R->tally;
    s->slow_left_ms = SLOW_BUDGET_MS;
    struct vfu_error err;
    for (int stale; (stale = vfu_accept(R->lfd, 0, &err)) >= 0;) close(stale);
    struct vfu_proc_spec spec = {
        .cmd = R->o->client_cmd,
        .socket_path = R->sd.sock,
        .sock = VFU_PROC_SOCK_CLIENT,
        .echo_stderr = R->o->echo_output,
        .stdout_mode = VFU_PROC_STDOUT_CAPTURE,
    };
    struct vfu_proc proc;
    memset(&proc, 0, sizeof proc);
    bool started = vfu_proc_start(&proc, &spec, &err);
    struct srv_opts opt;
    srv_opts_default(&opt);
    if (p->server) p->server(&opt);
    struct srv_loop_tap tap = {.send = tap_send, .recv = tap_recv, .ctx = s, .rx_max_fds = VFU_MAX_FDS};
    long long connect_ms = R->timeout_ms > CONNECT_MS_MIN ? R->timeout_ms : CONNECT_MS_MIN;
    long long begun = now_ms(), session_ms = (long long)R->timeout_ms * SESSION_FACTOR;
    /* its connections, one after the other, until it ends or goes quiet */
    while (started && out->conns < CJ_MAX_CONNS && !vfu_stopsig_pending()) {
        long long wait_from = now_ms();
        long long limit = out->conns ? R->idle_ms : connect_ms;
        int cfd = -1;
        while (cfd < 0 && now_ms() - wait_from < limit && !vfu_stopsig_pending()) {
            cfd = vfu_accept(R->lfd, 20, &err);
            if (cfd < 0 && vfu_proc_poll(&proc) != VFU_PROC_RUNNING) break;
        }
        if (cfd < 0) break;
        out->connected = true;
        out->conns++;
        snprintf(s->label, sizeof s->label, "personality %s, connection %u", p->name, out->conns);
        vfh_cj_conn_init(&s->judge, &R->tally, s->label, R->timeout_ms);
        atomic_store(&s->last_ms, now_ms());
        struct srv_host host;
        if (!srv_host_start(&host, cfd, &opt, R->timeout_ms, &tap)) break;
        bool shut = false;
        while (!srv_host_done(&host)) {
            vfu_proc_wait(&proc, 5);
            long long t = now_ms();
            /* while the server waits for the client's answer, the client
             * has the timeout, not the idle time */
            int idle = atomic_load(&s->waiting) ? R->timeout_ms + R->idle_ms : R->idle_ms;
            bool quiet = t - atomic_load(&s->last_ms) >= idle;
            if (!shut && (quiet || t - begun >= session_ms || vfu_stopsig_pending())) {
                srv_host_shut(&host);
                shut = true;
            }
        }
        srv_host_join(&host);
        vfh_cj_conn_end(&s->judge);
        if (shut || vfu_proc_poll(&proc) != VFU_PROC_RUNNING) break;
    }
    if (started && vfu_proc_poll(&proc) == VFU_PROC_RUNNING) {
        /* the connection is gone; give it the timeout to leave on its own */
        vfu_proc_wait(&proc, out->conns ? R->idle_ms : 0);
        if (vfu_proc_poll(&proc) == VFU_PROC_RUNNING) {
            out->stopped_by_us = true;
            vfu_proc_stop(&proc, STOP_GRACE_MS);
        }
    }
    vfu_proc_poll(&proc);
    out->st = *vfu_proc_status(&proc);
    size_t n = 0;
    const char *e = vfu_proc_stderr(&proc, &n);
    if (n >= sizeof out->tail) {
        e += n - (sizeof out->tail - 1);
        n = sizeof out->tail - 1;
    }
    if (e) memcpy(out->tail, e, n);
    out->tail[n] = 0;
    out->fault_mark = vfh_runner_target_fault_mark(out->tail);
    if (!started && !out->tail[0]) snprintf(out->tail, sizeof out->tail, "%s", vfu_proc_why(&proc));
    vfu_proc_free(&proc);
}

/* ---------------------------------------------------------- verdicts --- */

static bool selected(const struct cj_run_opts *o, const char *id)
{
    bool in = o->nonly == 0;
    for (size_t i = 0; i < o->nonly && !in; i++) in = !fnmatch(o->only[i], id, 0);
    for (size_t i = 0; i < o->nskip && in; i++) in = fnmatch(o->skip[i], id, 0) != 0;
    return in;
}

static void xfail(const struct cj_run_opts *o, struct vfu_result *r)
{
    for (size_t i = 0; i < o->nxfail; i++) {
        if (fnmatch(o->xfail[i], r->id, 0)) continue;
        if (r->verdict == VFU_FAIL) r->verdict = VFU_XFAIL;
        else if (r->verdict == VFU_PASS) r->verdict = VFU_XPASS;
        return;
    }
}

static char *dup_tail(const char *t)
{
    return t[0] ? strdup(t) : NULL;
}

static void persona_verdict(const struct cj_persona *p, const struct cjout *out, const struct cjsess *s,
                            const struct cjsess *def, struct vfu_result *r)
{
    char how[200];
    vfu_proc_status_str(&out->st, how, sizeof how);
    if (!out->connected) {
        /* a client that does not connect at all cannot be judged here */
        r->verdict = VFU_ERROR;
        snprintf(r->reason, sizeof r->reason, "the client never connected: it %s", how);
        r->server_stderr = dup_tail(out->tail);
        return;
    }
    if (out->st.state == VFU_PROC_SIGNALED && !out->st.term_sent && out->st.kill == VFU_PROC_KILL_NONE) {
        r->verdict = VFU_FAIL;
        r->kind = VFU_FK_CRASH;
        snprintf(r->reason, sizeof r->reason, "the client was %s after %u requests", how, s->requests);
        r->server_stderr = dup_tail(out->tail);
        return;
    }
    if (out->fault_mark) {
        r->verdict = VFU_FAIL;
        r->kind = VFU_FK_CRASH;
        snprintf(r->reason, sizeof r->reason, "the client reported a fault (\"%s\") after %u requests and %s",
                 out->fault_mark, s->requests, how);
        r->server_stderr = dup_tail(out->tail);
        return;
    }
    if (out->st.kill != VFU_PROC_KILL_NONE) {
        r->verdict = VFU_FAIL;
        r->kind = VFU_FK_HANG;
        snprintf(r->reason, sizeof r->reason, "the client %s", how);
        r->server_stderr = dup_tail(out->tail);
        return;
    }
    if (p->same_as_default && def) {
        unsigned n = s->ncmds < def->ncmds ? s->ncmds : def->ncmds, i = 0;
        while (i < n && s->cmds[i] == def->cmds[i]) i++;
        if (i < n || s->ncmds != def->ncmds) {
            r->verdict = VFU_FAIL;
            r->kind = VFU_FK_MISMATCH;
            if (i < n)
                snprintf(r->reason, sizeof r->reason,
                         "request %u was %s; with a prompt server it was %s (%u requests against %u)", i + 1,
                         vfu_cmd_name(s->cmds[i]), vfu_cmd_name(def->cmds[i]), s->ncmds, def->ncmds);
            else
                snprintf(r->reason, sizeof r->reason, "%u requests; with a prompt server %u", s->ncmds,
                         def->ncmds);
            return;
        }
    }
    r->verdict = VFU_PASS;
    snprintf(r->reason, sizeof r->reason, "%u requests over %u connection%s, %u DMA requests of ours, %u error replies; "
             "the client %s%s", s->requests, out->conns, out->conns == 1 ? "" : "s", s->dma_reqs, s->errors_sent,
             out->stopped_by_us ? "was stopped at the end (" : "", out->stopped_by_us ? "SIGTERM)" : how);
}

static void check_verdict(enum cj_check c, const struct cj_tally *t, struct vfu_result *r)
{
    if (t->broken[c]) {
        r->verdict = VFU_FAIL;
        r->kind = VFU_FK_VIOLATION;
        snprintf(r->reason, sizeof r->reason, "%lu of %lu broke it; first: %s", t->broken[c], t->applied[c],
                 t->first[c]);
    } else if (!t->applied[c]) {
        r->verdict = VFU_SKIP;
        snprintf(r->reason, sizeof r->reason, "the client never did what this check applies to");
    } else {
        r->verdict = VFU_PASS;
        snprintf(r->reason, sizeof r->reason, "kept %lu times", t->applied[c]);
    }
}

static double now_s(void) { return (double)now_ms() / 1000.0; }

static unsigned long total_broken(const struct cj_tally *t)
{
    unsigned long n = 0;
    for (int c = 0; c < CJ__COUNT; c++) n += t->broken[c];
    return n;
}

/* which checks had their first breach before this session */
static void snapshot_first(const struct cj_tally *t, bool had[CJ__COUNT])
{
    for (int c = 0; c < CJ__COUNT; c++) had[c] = t->first[c][0] != 0;
}

/* DIR/ID.cbor; a check whose first breach came in this session points at it */
static void keep_trace(struct cjr *R, const struct vfu_tracer *tr, struct vfu_result *r, const bool had[CJ__COUNT])
{
    const struct cj_run_opts *o = R->o;
    const struct cj_tally *t = &R->tally;
    char path[4096];
    struct vfu_error err;
    snprintf(path, sizeof path, "%s/%s.cbor", o->trace_dir, r->id);
    if (!vfu_tracer_write(tr, path, &err)) {
        char why[200];
        vfu_error_str(&err, why, sizeof why);
        fprintf(stderr, "vfu-conform: trace %s: %s\n", path, why);
        return;
    }
    r->trace_path = strdup(path);
    for (int c = 0; c < CJ__COUNT; c++)
        if (!had[c] && t->first[c][0] && !R->check_trace[c]) R->check_trace[c] = strdup(path);
}

/* "client.personality.NAME", kept for the life of the program (results
 * point at their ids) */
#define MAX_PERSONAS 32
static const char *persona_id(size_t i)
{
    static char ids[MAX_PERSONAS][80];
    if (i >= MAX_PERSONAS) return vfh_cj_personas[i].name;
    if (!ids[i][0]) snprintf(ids[i], sizeof ids[i], "client.personality.%s", vfh_cj_personas[i].name);
    return ids[i];
}

bool vfh_cj_run(const struct cj_run_opts *o, struct vfu_run *run, char *why, size_t whylen)
{
    memset(run, 0, sizeof *run);
    struct cjr *R = calloc(1, sizeof *R);
    struct cjsess *s = calloc(1, sizeof *s), *def = calloc(1, sizeof *def);
    struct vfu_result *res = calloc(CJ__COUNT + vfh_cj_npersonas, sizeof *res);
    if (!R || !s || !def || !res) {
        snprintf(why, whylen, "out of memory");
        free(R), free(s), free(def), free(res);
        return false;
    }
    R->o = o;
    R->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : VFU_RUNNER_DEFAULT_TIMEOUT_MS;
    R->idle_ms = o->idle_ms > 0 ? o->idle_ms : CJ_DEFAULT_IDLE_MS;
    struct vfu_error err;
    bool ok = false;
    if (!vfu_sockdir_make(&R->sd, "vfu-conform")) {
        snprintf(why, whylen, "cannot make a socket directory: %s", strerror(errno));
        goto out;
    }
    R->lfd = vfu_listen(R->sd.sock, &err);
    if (R->lfd < 0) {
        snprintf(why, whylen, "cannot listen on %s: %s", R->sd.sock, strerror(err.sys_errno));
        goto out;
    }
    /* a client that shrinks a file it mapped for DMA must not kill us */
    srv_sigbus_guard_install();
    srv_log_mute(true);
    double t0 = now_s();
    run->started = (double)time(NULL);
    size_t n = 0;
    bool have_def = false;
    bool before_first[CJ__COUNT];
    snapshot_first(&R->tally, before_first);
    for (size_t i = 0; i < vfh_cj_npersonas; i++) {
        const struct cj_persona *p = &vfh_cj_personas[i];
        struct vfu_result *r = &res[CJ__COUNT + i];
        r->id = persona_id(i);
        r->section = "Client personalities";
        r->title = p->title;
        r->rule = p->rule;
        r->level = r->scenario_level = p->level;
        /* the default session is the reference for the others: always run */
        if (!selected(o, r->id) && i != 0) {
            r->verdict = VFU_SKIP;
            snprintf(r->reason, sizeof r->reason, "not selected");
            continue;
        }
        if (vfu_stopsig_pending()) {
            r->verdict = VFU_SKIP;
            snprintf(r->reason, sizeof r->reason, "not run: stopped by %s", vfu_stopsig_name());
            run->stop = VFU_RUN_INTERRUPTED;
            continue;
        }
        double ts = now_s();
        struct cjout out;
        struct cjsess *S = i == 0 ? def : s;
        unsigned long before = total_broken(&R->tally);
        S->tracer = NULL;
        if (o->trace_dir) {
            struct vfu_trace_meta meta = {.tool = o->tool, .scenario = r->id, .server = o->client_cmd};
            S->tracer = vfu_tracer_new(&meta, 0);
        }
        session(R, p, S, &out);
        persona_verdict(p, &out, S, have_def ? def : NULL, r);
        r->seconds = now_s() - ts;
        if (S->tracer) {
            bool broke = total_broken(&R->tally) > before;
            if (o->trace_all || broke || r->verdict == VFU_FAIL) keep_trace(R, S->tracer, r, before_first);
            vfu_tracer_free(S->tracer);
            S->tracer = NULL;
        }
        snapshot_first(&R->tally, before_first);
        if (i == 0) {
            have_def = out.connected;
            if (!out.connected) {
                snprintf(why, whylen, "%s", r->reason);
                if (out.tail[0]) {
                    size_t l = strlen(why);
                    snprintf(why + l, whylen - l, "; its output ended: %.300s", out.tail);
                }
                goto out;
            }
        }
        if (!selected(o, r->id)) {
            vfr_result_release(r);
            r->verdict = VFU_SKIP;
            snprintf(r->reason, sizeof r->reason, "not selected (run as the reference for the others)");
        }
        xfail(o, r);
    }
    for (int c = 0; c < CJ__COUNT; c++) {
        struct vfu_result *r = &res[n++];
        const struct cj_check_desc *d = &vfh_cj_checks[c];
        r->id = d->id;
        r->section = d->section;
        r->title = d->title;
        r->rule = d->rule;
        r->level = r->scenario_level = d->level;
        if (!selected(o, d->id)) {
            r->verdict = VFU_SKIP;
            snprintf(r->reason, sizeof r->reason, "not selected");
            continue;
        }
        check_verdict((enum cj_check)c, &R->tally, r);
        if (r->verdict == VFU_FAIL && R->check_trace[c]) {
            r->trace_path = R->check_trace[c];
            R->check_trace[c] = NULL;
        }
        xfail(o, r);
    }
    run->results = res;
    run->n = CJ__COUNT + vfh_cj_npersonas;
    res = NULL;
    run->server = o->client_cmd;
    run->judged_client = true;
    run->tool_version = o->tool;
    run->seconds = now_s() - t0;
    if (run->stop == VFU_RUN_INTERRUPTED)
        snprintf(run->stop_reason, sizeof run->stop_reason, "stopped by %s", vfu_stopsig_name());
    vfr_run_tally(run);
    ok = true;
out:
    for (int c = 0; c < CJ__COUNT; c++) free(R->check_trace[c]);
    if (R->lfd > 0) close(R->lfd);
    vfu_sockdir_remove(&R->sd);
    if (res) {
        for (size_t i = 0; i < CJ__COUNT + vfh_cj_npersonas; i++) vfr_result_release(&res[i]);
        free(res);
    }
    free(R), free(s), free(def);
    return ok;
}

void vfh_cj_list(FILE *out)
{
    for (int c = 0; c < CJ__COUNT; c++)
        fprintf(out, "%-40s %-6s %-34s %s\n", vfh_cj_checks[c].id, vfr_level_name(vfh_cj_checks[c].level),
                vfh_cj_checks[c].section, vfh_cj_checks[c].title);
    for (size_t i = 0; i < vfh_cj_npersonas; i++) {
        fprintf(out, "%-40s %-6s %-34s %s\n", persona_id(i), vfr_level_name(vfh_cj_personas[i].level), "Client personalities",
                vfh_cj_personas[i].title);
    }
}
