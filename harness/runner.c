/* The run: start (or reach) the server, probe it, then each scenario in
 * turn on a fresh connection, its verdict written into struct vfu_result. */
#include <fnmatch.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runner_int.h"
#include "stopsig.h"
#include "trace.h"

/* sessions in a row that could not complete VERSION, and scenarios in a
 * row that waited out the timeout, before the server is given up */
#define DEAD_OPENS_MAX 3
#define LOST_STREAK_MAX 3

void vfh_runner_out_set(struct outcome *o, enum vfu_verdict v, enum vfu_failure_kind k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->reason, sizeof o->reason, fmt, ap);
    va_end(ap);
    o->verdict = v;
    o->kind = k;
}

void vfh_run_free(struct vfu_run *run)
{
    for (size_t i = 0; i < run->n; i++) vfr_result_release(&run->results[i]);
    free(run->results);
    memset(run, 0, sizeof *run);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool vfh_runner_xfail_listed(const struct vfu_runner_opts *o, const char *id)
{
    for (size_t i = 0; i < o->nxfail; i++)
        if (!fnmatch(o->xfail[i], id, 0)) return true;
    return false;
}

/* puts where it happened in front of a reason */
static void prefix(struct outcome *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void prefix(struct outcome *o, const char *fmt, ...)
{
    char r[sizeof o->reason];
    memcpy(r, o->reason, sizeof r);
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(o->reason, sizeof o->reason, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= sizeof o->reason) return;
    size_t room = sizeof o->reason - (size_t)k - 1, len = strnlen(r, sizeof r - 1);
    if (len > room) len = room;
    memcpy(o->reason + k, r, len);
    o->reason[(size_t)k + len] = 0;
}

static void step_reason(const struct scn_scenario *sc, int idx, struct outcome *o)
{
    const struct scn_step *st = &sc->steps[idx];
    prefix(o, "step %d (%s:%d%s%s): ", idx + 1, sc->file, st->line, st->origin ? ", " : "",
           st->origin ? st->origin : "");
    o->line = st->line;
}

static void apply_xfail(const struct vfu_runner_opts *o, struct vfu_result *res)
{
    if (!vfh_runner_xfail_listed(o, res->id)) return;
    /* an ERROR is our problem, not the server's: never expected */
    if (res->verdict == VFU_FAIL) res->verdict = VFU_XFAIL;
    else if (res->verdict == VFU_PASS) res->verdict = VFU_XPASS;
}

/* A step that failed after the server broke a rule (a reply to the wrong
 * id, then no reply) is reported as the broken rule, the first cause. */
static void blame_violation(struct sess *s, struct outcome *o)
{
    if (o->verdict != VFU_FAIL || o->kind == VFU_FK_VIOLATION || o->kind == VFU_FK_CRASH ||
        o->kind == VFU_FK_EXIT || o->kind == VFU_FK_HANG)
        return;
    struct outcome v = {VFU_PASS, VFU_FK_NONE, "", 0};
    if (vfh_runner_sess_check_violations(s, &v)) return;
    char then[sizeof o->reason];
    memcpy(then, o->reason, sizeof then);
    *o = v;
    size_t l = strlen(o->reason);
    if (l + 8 < sizeof o->reason) {
        size_t room = sizeof o->reason - l - 8, n = strnlen(then, sizeof then - 1);
        memcpy(o->reason + l, "; then ", 7);
        memcpy(o->reason + l + 7, then, n < room ? n : room);
        o->reason[l + 7 + (n < room ? n : room)] = 0;
    }
}

/* a message the server began and did not finish within the timeout: the
 * session waited it out as it would a missing reply */
static bool stalled_mid_message(struct sess *s)
{
    if (!s->c) return false;
    unsigned n;
    const struct vfu_violation *v = vfu_client_violations(s->c, &n);
    for (unsigned i = 0; i < n; i++)
        if (v[i].kind == VFU_V_FRAMING && v[i].err.code == VFU_E_TIMEOUT) return true;
    return false;
}

/* the trace of a failing scenario, as DIR/ID.cbor */
static void keep_trace(struct runner *R, struct vfu_tracer *tr, struct vfu_result *res)
{
    size_t n = strlen(R->o->trace_dir) + strlen(res->id) + 8;
    char *path = malloc(n);
    if (!path) return;
    snprintf(path, n, "%s/%s.cbor", R->o->trace_dir, res->id);
    struct vfu_error err;
    if (vfu_tracer_write(tr, path, &err)) {
        res->trace_path = path;
        return;
    }
    char e[200];
    vfu_error_str(&err, e, sizeof e);
    fprintf(stderr, "vfu-conform: trace %s: %s\n", path, e);
    free(path);
}

static bool lost_kind(enum vfu_failure_kind k)
{
    return k == VFU_FK_CLOSED || k == VFU_FK_CRASH || k == VFU_FK_EXIT || runner_waited_kind(k);
}

/* Connects and negotiates.  A session that loses the server before its
 * VERSION is answered is tried once more when the server had gone for a
 * reason not its own (target_open_lost).  Before a scenario that
 * negotiates by itself, a fence session (the default VERSION) marks the
 * point the server must have passed first: a server that dies after the
 * previous session is then blamed on that one, not on this one. */
static bool open_session(struct runner *R, struct sess *s, struct outcome *o)
{
    const struct scn_scenario *sc = s->sc;
    for (int attempt = 0;; attempt++) {
        *o = (struct outcome){VFU_PASS, VFU_FK_NONE, "", 0};
        if (!vfh_runner_target_ready(R, o)) return false;
        bool own_neg = sc->neg.mode != SCN_NEG_DEFAULT;
        if (R->server && !R->one_shot && !R->fresh && own_neg) {
            bool lost = false;
            if (!vfh_runner_sess_fence_session(R, o, &lost)) {
                if (lost && attempt == 0 && vfh_runner_target_open_lost(R)) continue;
                if (lost) vfh_runner_target_judge(R, o, false);
                prefix(o, "before the scenario, a session with the default VERSION: ");
                if (lost_kind(o->kind) && ++R->dead_opens >= DEAD_OPENS_MAX)
                    vfh_runner_stop(R, VFU_RUN_HOPELESS, "the server could not complete VERSION in %u sessions in a row; the last: %s",
                                R->dead_opens, o->reason);
                return false;
            }
        }
        vfh_runner_fdcheck_begin(R);
        s->may_retry = attempt == 0 && R->server;
        if (vfh_runner_sess_open(s, &sc->neg, o)) {
            if (!own_neg) R->dead_opens = 0;
            return true;
        }
        if (s->lost_early) {
            vfh_runner_sess_close(s);
            if (vfh_runner_target_open_lost(R)) continue;
            vfh_runner_target_judge(R, o, false);
        }
        int line = sc->neg.line ? sc->neg.line : sc->line;
        prefix(o, "%s (%s:%d): ", sc->neg.mode == SCN_NEG_NONE ? "connect" : "negotiation", sc->file, line);
        o->line = line;
        if (!own_neg && lost_kind(o->kind) && ++R->dead_opens >= DEAD_OPENS_MAX)
            vfh_runner_stop(R, VFU_RUN_HOPELESS, "the server could not complete VERSION in %u sessions in a row; the last: %s",
                        R->dead_opens, o->reason);
        return false;
    }
}

static void run_one(struct runner *R, const struct scn_scenario *sc, struct vfu_result *res)
{
    struct outcome o = {VFU_PASS, VFU_FK_NONE, "", 0};
    struct sess s;
    memset(&s, 0, sizeof s);
    s.R = R;
    s.sc = sc;
    s.step = -1;
    struct vfu_tracer *tr = NULL;
    bool opened = false;
    R->talked = R->waited_out = false;
    if (!vfh_runner_probe_requires(R, sc, &o)) goto done;
    R->talked = true;
    if (R->o->trace_dir) {
        struct vfu_trace_meta meta = {R->o->tool ? R->o->tool : "vfu-conform", sc->id,
                                      R->server ? R->o->server_cmd : R->o->connect_path, NULL};
        if ((tr = vfu_tracer_new(&meta, 0))) {
            s.trace = vfu_tracer_hook(tr, VFU_TRACE_MAIN);
            s.trace_twin = vfu_tracer_hook(tr, VFU_TRACE_TWIN);
        }
    }
    if (!(opened = open_session(R, &s, &o))) goto done;
    for (unsigned i = 0; i < sc->nsteps; i++) {
        s.step = (int)i;
        if (!vfh_runner_step_run(&s, &sc->steps[i], &o)) {
            step_reason(sc, (int)i, &o);
            if (runner_waited_kind(o.kind)) R->waited_out = true;
            blame_violation(&s, &o);
            break;
        }
        vfh_runner_sess_note_violations(&s);
    }
    if (o.verdict == VFU_PASS) vfh_runner_sess_check_violations(&s, &o);
    if (stalled_mid_message(&s)) R->waited_out = true;
done:
    vfh_runner_sess_close(&s);
    bool passed = o.verdict == VFU_PASS;
    if (opened) vfh_runner_fdcheck_end(R, &o);
    R->fd_armed = false;
    /* descriptors kept after the client left break the spec's Client
     * Disconnection advice, a should: never more than SHOULD */
    if (passed && o.verdict == VFU_FAIL && res->level == VFU_LEVEL_MUST) res->level = VFU_LEVEL_SHOULD;
    vfh_runner_rvars_clear(&s.vars);
    /* only an errno other than the preferred went wrong: an INFO finding */
    if (o.verdict == VFU_PASS && s.preference_missed) {
        o = s.preference;
        res->preference = true;
        res->level = VFU_LEVEL_INFO;
    }
    res->verdict = o.verdict;
    res->kind = o.kind;
    snprintf(res->reason, sizeof res->reason, "%s", o.reason);
    if (o.line) res->line = o.line;
    if (o.kind == VFU_FK_CRASH || o.kind == VFU_FK_EXIT || o.kind == VFU_FK_HANG) res->server_stderr = vfh_runner_target_stderr_tail(R);
    apply_xfail(R->o, res);
    /* a server that ends as its client leaves: its own session's doing */
    if (opened) {
        vfh_runner_target_after_session(R, res);
        /* it has served a whole session: its fd count is a baseline now */
        if (!R->server_dead_seen) R->fresh = false;
    }
    if (tr) {
        if (R->o->trace_all || res->verdict == VFU_FAIL || res->verdict == VFU_XFAIL || res->verdict == VFU_ERROR)
            keep_trace(R, tr, res);
        vfu_tracer_free(tr);
    }
}

static void not_run(struct vfu_result *res, const struct scn_scenario *sc, const char *why)
{
    vfr_result_release(res);
    res->id = sc->id;
    res->section = sc->section;
    res->title = sc->title;
    res->file = sc->file;
    res->line = sc->line;
    res->level = sc->level;
    res->verdict = VFU_SKIP;
    res->kind = VFU_FK_NONE;
    res->seconds = 0;
    snprintf(res->reason, sizeof res->reason, "not run: %.*s", (int)(sizeof res->reason - 10), why);
}

/* a stop asked by a signal or the time limit, as the run's cause */
static bool stop_asked(struct runner *R)
{
    if (!vfu_stopsig_pending()) {
        if (R->deadline > 0 && now_s() >= R->deadline)
            vfh_runner_stop(R, VFU_RUN_TIME_LIMIT, "the time limit of %u s (--max-seconds) was reached", R->o->max_seconds);
        return R->stop == VFU_RUN_TIME_LIMIT;
    }
    if (vfu_stopsig_deadline_hit())
        vfh_runner_stop(R, VFU_RUN_TIME_LIMIT, "the time limit of %u s (--max-seconds) was reached", R->o->max_seconds);
    else
        vfh_runner_stop(R, VFU_RUN_INTERRUPTED, "interrupted by %s", vfu_stopsig_name());
    return true;
}

/* a run that cannot go on after the probe: the target stopped, nothing
 * of the run kept (why says it) */
static bool abandon(struct runner *R, struct vfu_run *run)
{
    vfh_runner_target_stop(R);
    vfh_runner_rvars_clear(&R->vars);
    free(R);
    free(run->results);
    run->results = NULL;
    return false;
}

bool vfh_runner_run(const struct scn_scenario *const *list, size_t n,
                    const struct vfu_runner_opts *o, struct vfu_run *run, char *why,
                    size_t whylen)
{
    memset(run, 0, sizeof *run);
    if (!!o->server_cmd == !!o->connect_path) {
        snprintf(why, whylen, "give a server command or a socket path, not %s", o->server_cmd ? "both" : "neither");
        return false;
    }
    struct runner *R = calloc(1, sizeof *R);
    run->results = calloc(n ? n : 1, sizeof *run->results);
    if (!R || !run->results) {
        free(R);
        free(run->results);
        run->results = NULL;
        snprintf(why, whylen, "out of memory");
        return false;
    }
    /* a write to a server that went away must come back as EPIPE */
    signal(SIGPIPE, SIG_IGN);
    double t0 = now_s();
    R->fd_base = -1;
    R->o = o;
    R->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : VFU_RUNNER_DEFAULT_TIMEOUT_MS;
    if (R->timeout_ms > VFU_RUNNER_MAX_TIMEOUT_MS) R->timeout_ms = VFU_RUNNER_MAX_TIMEOUT_MS;
    R->server = o->server_cmd != NULL;
    run->server = R->server ? o->server_cmd : o->connect_path;
    if (!vfh_runner_target_start(R, why, whylen)) {
        free(run->results);
        run->results = NULL;
        free(R);
        return false;
    }
    if (o->max_seconds) {
        R->deadline = t0 + o->max_seconds;
        /* waits inside a scenario end at the limit too */
        if (vfu_stopsig_fd() >= 0) vfu_stopsig_deadline(o->max_seconds);
    }
    if (!stop_asked(R)) vfh_runner_probe_run(R);
    /* the generated scenarios join the list once the device is known */
    const struct scn_scenario **all = NULL;
    if (o->generate && R->probe.ok && R->stop == VFU_RUN_COMPLETE) {
        const struct scn_scenario *const *gen = NULL;
        size_t ng = 0;
        struct vfu_result *grown = NULL;
        if (!o->generate(o->generate_ctx, &R->probe.dev, &gen, &ng, why, whylen)) return abandon(R, run);
        if (ng) {
            all = malloc((n + ng) * sizeof *all);
            grown = all ? realloc(run->results, (n + ng) * sizeof *run->results) : NULL;
            if (!grown) {
                snprintf(why, whylen, "out of memory");
                free(all);
                return abandon(R, run);
            }
            run->results = grown;
            memset(run->results + n, 0, ng * sizeof *run->results);
            memcpy(all, list, n * sizeof *all);
            memcpy(all + n, gen, ng * sizeof *all);
            list = all;
            n += ng;
        }
    }
    size_t i = 0;
    for (; i < n; i++) {
        const struct scn_scenario *sc = list[i];
        struct vfu_result *res = &run->results[i];
        if (R->stop != VFU_RUN_COMPLETE || stop_asked(R)) break;
        res->id = sc->id;
        res->section = sc->section;
        res->title = sc->title;
        res->rule = sc->rule;
        res->file = sc->file;
        res->line = sc->line;
        res->level = res->scenario_level = sc->level;
        if (o->progress) o->progress(o->progress_ctx, i, n, sc, NULL);
        double t = now_s();
        run_one(R, sc, res);
        res->seconds = now_s() - t;
        run->n = i + 1;
        if (stop_asked(R)) {
            /* cut short: its verdict would be the stop's, not the server's */
            char why[600];
            snprintf(why, sizeof why, "%.*s during it", (int)(sizeof why - 12), R->stop_reason);
            not_run(res, sc, why);
            i++;
            break;
        }
        R->prev = res;
        /* a scenario that never reached the server (its requirement was
         * not met) says nothing about whether the server still answers */
        if (res->verdict != VFU_SKIP && R->talked) {
            if (runner_waited_kind(res->kind) || R->waited_out) R->lost_streak++;
            else R->lost_streak = 0;
            if (R->lost_streak >= LOST_STREAK_MAX)
                vfh_runner_stop(R, VFU_RUN_HOPELESS, "the server stopped answering in %u scenarios in a row (the last: %s)",
                            R->lost_streak, res->id);
        }
        if (o->progress) o->progress(o->progress_ctx, i, n, sc, res);
        if (o->fail_fast && (vfr_result_fails_run(res) || res->verdict == VFU_ERROR)) {
            i = n;
            break;
        }
    }
    /* the last session's end: a server that dies after it is found by one
     * more session */
    if (R->stop == VFU_RUN_COMPLETE && R->server && !R->one_shot && !R->fresh && R->prev && R->proc.active &&
        !R->server_dead_seen) {
        struct outcome fo;
        bool lost = false;
        if (!vfh_runner_sess_fence_session(R, &fo, &lost) && lost) vfh_runner_target_open_lost(R);
    }
    if (R->stop != VFU_RUN_COMPLETE) {
        for (; i < n; i++) not_run(&run->results[i], list[i], R->stop_reason);
        run->n = n;
        run->stop = R->stop;
        snprintf(run->stop_reason, sizeof run->stop_reason, "%s", R->stop_reason);
    }
    snprintf(run->caps, sizeof run->caps, "%s", R->caps);
    if (R->fd_off[0]) snprintf(run->fd_checks_off, sizeof run->fd_checks_off, "%s", R->fd_off);
    if (o->max_seconds && vfu_stopsig_fd() >= 0) vfu_stopsig_deadline(0);
    vfr_run_tally(run);
    vfh_runner_target_stop(R);
    vfh_runner_rvars_clear(&R->vars);
    free(R);
    free(all);
    run->seconds = now_s() - t0;
    return true;
}
