/* The run: start (or reach) the server, probe it, then each scenario in
 * turn on a fresh connection, its verdict written into struct vfu_result. */
#include <fnmatch.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runner_int.h"
#include "trace.h"

void out_set(struct outcome *o, enum vfu_verdict v, enum vfu_failure_kind k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->reason, sizeof o->reason, fmt, ap);
    va_end(ap);
    o->verdict = v;
    o->kind = k;
}

void vfu_run_free(struct vfu_run *run)
{
    for (size_t i = 0; i < run->n; i++) vfu_result_release(&run->results[i]);
    free(run->results);
    memset(run, 0, sizeof *run);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool xfail_listed(const struct vfu_runner_opts *o, const char *id)
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
    if (!xfail_listed(o, res->id)) return;
    /* an ERROR is our problem, not the server's: never expected */
    if (res->verdict == VFU_FAIL) res->verdict = VFU_XFAIL;
    else if (res->verdict == VFU_PASS) res->verdict = VFU_XPASS;
}

/* The server died by a signal while nothing was waiting on it: the
 * scenario that was connected last is to blame (its own finding, if any,
 * follows). */
static void late_crash(struct runner *R, struct vfu_result *res, const char *when, int wait_ms)
{
    char what[256];
    if (!res || !target_crashed(R, wait_ms, what, sizeof what)) return;
    if (res->kind == VFU_FK_CRASH || res->kind == VFU_FK_EXIT || res->kind == VFU_FK_HANG) return;
    char before[sizeof res->reason];
    memcpy(before, res->reason, sizeof before);
    bool had = res->verdict == VFU_FAIL || res->verdict == VFU_XFAIL || res->verdict == VFU_ERROR;
    res->verdict = xfail_listed(R->o, res->id) ? VFU_XFAIL : VFU_FAIL;
    res->kind = VFU_FK_CRASH;
    int k = snprintf(res->reason, sizeof res->reason, "the server was %s %s", what, when);
    if (had && k > 0 && (size_t)k + 16 < sizeof res->reason) {
        size_t room = sizeof res->reason - (size_t)k - 12, n = strnlen(before, sizeof before - 1);
        memcpy(res->reason + k, "; before: ", 10);
        memcpy(res->reason + k + 10, before, n < room ? n : room);
        res->reason[(size_t)k + 10 + (n < room ? n : room)] = 0;
    }
    free(res->server_stderr);
    res->server_stderr = target_stderr_tail(R);
}

/* A step that failed after the server broke a rule (a reply to the wrong
 * id, then no reply) is reported as the broken rule, the first cause. */
static void blame_violation(struct sess *s, struct outcome *o)
{
    if (o->verdict != VFU_FAIL || o->kind == VFU_FK_VIOLATION || o->kind == VFU_FK_CRASH ||
        o->kind == VFU_FK_EXIT || o->kind == VFU_FK_HANG)
        return;
    struct outcome v = {VFU_PASS, VFU_FK_NONE, "", 0};
    if (sess_check_violations(s, &v)) return;
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

static void run_one(struct runner *R, const struct scn_scenario *sc, struct vfu_result *res)
{
    struct outcome o = {VFU_PASS, VFU_FK_NONE, "", 0};
    struct sess s;
    memset(&s, 0, sizeof s);
    s.R = R;
    s.sc = sc;
    s.step = -1;
    struct vfu_tracer *tr = NULL;
    if (!probe_requires(R, sc, &o) || !target_ready(R, &o)) goto done;
    if (R->o->trace_dir) {
        struct vfu_trace_meta meta = {R->o->tool ? R->o->tool : "vfu-conform", sc->id,
                                      R->server ? R->o->server_cmd : R->o->connect_path, NULL};
        if ((tr = vfu_tracer_new(&meta, 0))) {
            s.trace = vfu_tracer_hook(tr, VFU_TRACE_MAIN);
            s.trace_twin = vfu_tracer_hook(tr, VFU_TRACE_TWIN);
        }
    }
    fdcheck_begin(R);
    if (!sess_open(&s, &sc->neg, &o)) {
        int line = sc->neg.line ? sc->neg.line : sc->line;
        prefix(&o, "%s (%s:%d): ", sc->neg.mode == SCN_NEG_NONE ? "connect" : "negotiation", sc->file, line);
        o.line = line;
        goto done;
    }
    for (unsigned i = 0; i < sc->nsteps; i++) {
        s.step = (int)i;
        if (!step_run(&s, &sc->steps[i], &o)) {
            step_reason(sc, (int)i, &o);
            blame_violation(&s, &o);
            break;
        }
        sess_note_violations(&s);
    }
    if (o.verdict == VFU_PASS) sess_check_violations(&s, &o);
done:
    sess_close(&s);
    fdcheck_end(R, &o);
    rvars_clear(&s.vars);
    res->verdict = o.verdict;
    res->kind = o.kind;
    snprintf(res->reason, sizeof res->reason, "%s", o.reason);
    if (o.line) res->line = o.line;
    if (o.kind == VFU_FK_CRASH || o.kind == VFU_FK_EXIT || o.kind == VFU_FK_HANG) res->server_stderr = target_stderr_tail(R);
    /* a server that crashed as the connection went away */
    /* a server that crashes as a client leaves is caught here, most of the
     * time, rather than blamed on the next scenario */
    late_crash(R, res, "after the scenario's last step", s.saw_close ? 50 : LATE_CRASH_MS);
    if (tr) {
        if (R->o->trace_all || res->verdict == VFU_FAIL || res->verdict == VFU_ERROR)
            keep_trace(R, tr, res);
        vfu_tracer_free(tr);
    }
    apply_xfail(R->o, res);
}

bool vfu_runner_run(const struct scn_scenario *const *list, size_t n,
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
    R->o = o;
    R->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : VFU_RUNNER_DEFAULT_TIMEOUT_MS;
    if (R->timeout_ms > VFU_RUNNER_MAX_TIMEOUT_MS) R->timeout_ms = VFU_RUNNER_MAX_TIMEOUT_MS;
    R->server = o->server_cmd != NULL;
    run->server = R->server ? o->server_cmd : o->connect_path;
    if (!target_start(R, why, whylen)) {
        free(run->results);
        run->results = NULL;
        free(R);
        return false;
    }
    probe_run(R);
    struct vfu_result *prev = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct scn_scenario *sc = list[i];
        struct vfu_result *res = &run->results[i];
        res->id = sc->id;
        res->section = sc->section;
        res->title = sc->title;
        res->file = sc->file;
        res->line = sc->line;
        res->level = sc->level;
        if (o->progress) o->progress(o->progress_ctx, i, n, sc, NULL);
        late_crash(R, prev, "after the scenario ended", 0);
        double t = now_s();
        run_one(R, sc, res);
        res->seconds = now_s() - t;
        run->n = i + 1;
        prev = res;
        if (o->progress) o->progress(o->progress_ctx, i, n, sc, res);
        if (o->fail_fast && (vfu_result_fails_run(res) || res->verdict == VFU_ERROR)) break;
    }
    late_crash(R, prev, "after the scenario ended", 100);
    vfu_run_tally(run);
    target_stop(R);
    rvars_clear(&R->vars);
    free(R);
    run->seconds = now_s() - t0;
    return true;
}
