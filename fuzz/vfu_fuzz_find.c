/* Findings on disk, in AFL++'s spirit:
 *
 *   OUT/queue/id:NNNNNN,...          session inputs that brought new feedback
 *   OUT/findings/KIND-SIGNATURE/     one directory per distinct signature
 *       input        the minimized session input (lib/runtime/fuzz_session.h)
 *       original     the input as found
 *       trace.cbor   its wire trace (lib/runtime/trace.h), for vfu-conform replay
 *       found.cbor   the wire trace of the session as it happened (evidence
 *                    even when it does not come back on a fresh server)
 *       stderr.txt   the server's output during the session
 *       README       what happened, and the commands that reproduce it
 *
 * A signature is found once; later sessions with it are only counted.
 * Each trace is checked: replayed on a fresh server, it must come back the
 * same (and for a crash, the server must end the same way). */
#include "vfu_fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "replay.h"

#define MIN_BUDGET 300

static const char *const kind_names[FZ__KINDS] = {
    [FZ_NONE] = "none",       [FZ_CRASH] = "crash",     [FZ_SANITIZER] = "sanitizer",
    [FZ_EXIT] = "exit",       [FZ_HANG] = "hang",       [FZ_TIMEOUT] = "timeout",
    [FZ_VIOLATION] = "violation", [FZ_LEAK_FD] = "leak-fd", [FZ_LEAK_RSS] = "leak-rss",
};

const char *fz_kind_name(enum fz_kind k) { return (unsigned)k < FZ__KINDS ? kind_names[k] : "?"; }

static bool mkdir_p(const char *p)
{
    return mkdir(p, 0755) == 0 || errno == EEXIST;
}

bool fz_dirs_make(const char *outdir, struct vfu_error *err)
{
    char p[4200];
    bool ok = mkdir_p(outdir);
    snprintf(p, sizeof p, "%s/queue", outdir);
    ok = ok && mkdir_p(p);
    snprintf(p, sizeof p, "%s/findings", outdir);
    ok = ok && mkdir_p(p);
    if (!ok) {
        vfu_error_set(err, VFU_E_IO, -1, -1, 0, 0);
        err->sys_errno = errno;
    }
    return ok;
}

bool fz_findings_known(const struct fz_findings *f, const char *sig)
{
    for (unsigned i = 0; i < f->n; i++)
        if (!strcmp(f->names[i], sig)) return true;
    return false;
}

bool fz_write_file(const char *path, const void *d, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return false;
    bool ok = true;
    for (size_t at = 0; ok && at < n;) {
        ssize_t w = write(fd, (const uint8_t *)d + at, n - at);
        if (w <= 0) ok = false;
        else at += (size_t)w;
    }
    return close(fd) == 0 && ok;
}

bool fz_verify_trace(struct fz_target *t, const char *path, const struct fz_outcome *o, int timeout_ms,
                     char *why, size_t whyn)
{
    struct vfu_error err;
    why[0] = '\0';
    if (t->server_cmd && !fz_target_fresh(t, o->warm, &err)) {
        snprintf(why, whyn, "the server would not start again");
        return false;
    }
    int fd = vfu_connect(fz_target_path(t), timeout_ms, &err);
    struct vfu_conn c;
    struct vfu_limits lim;
    vfu_limits_default(&lim);
    lim.max_msg_size = VFU_CLIENT_RX_CAP;
    if (fd < 0 || !vfu_conn_init(&c, fd, &lim, &err)) {
        snprintf(why, whyn, "cannot connect for the replay");
        return false;
    }
    FILE *devnull = fopen("/dev/null", "we");
    if (!devnull) {
        vfu_conn_close(&c);
        snprintf(why, whyn, "cannot open /dev/null");
        return false;
    }
    struct vfu_replay_opts ro = {.timeout_ms = timeout_ms};
    enum vfu_replay_outcome r = vfr_replay_file(path, &c, devnull, &ro);
    fclose(devnull);
    vfu_conn_close(&c);
    if (r != VFU_REPLAY_SAME) {
        snprintf(why, whyn, "replay: %s", vfr_replay_outcome_name(r));
        return false;
    }
    if (o->kind == FZ_CRASH || o->kind == FZ_SANITIZER || o->kind == FZ_EXIT) {
        if (fz_target_poll(t, 1000) == VFU_PROC_RUNNING) {
            snprintf(why, whyn, "replay: same messages, but the server did not end");
            return false;
        }
        const struct vfu_proc_status *st = vfu_proc_status(&t->proc);
        if (o->kind == FZ_CRASH && st->state != VFU_PROC_SIGNALED) {
            snprintf(why, whyn, "replay: the server ended, but not by a signal");
            return false;
        }
    }
    snprintf(why, whyn, "replay: reproduced");
    return true;
}

static void readme(const char *dir, const struct fz_target *t, const struct fz_outcome *o,
                   size_t orig_len, size_t min_len, unsigned long execs, const char *verified)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/README", dir);
    FILE *f = fopen(p, "we");
    if (!f) return;
    fprintf(f, "kind: %s\nsignature: %s\nwhat: %s\n", fz_kind_name(o->kind), o->sig, o->detail);
    fprintf(f, "input: %zu bytes as found, %zu minimized (%lu runs)\n", orig_len, min_len, execs);
    fprintf(f, "trace check: %s\n", verified);
    fprintf(f, "found.cbor: the session as it happened while fuzzing\n");
    if (o->warm)
        fprintf(f, "note: it happens only to a client that is not the server's first: replay it after\n"
                   "one plain session (connect, VERSION, close) on the same server, e.g. with --connect\n");
    fprintf(f, "\nreproduce:\n");
    if (t->server_cmd)
        fprintf(f, "  vfu-conform replay %s/trace.cbor --server '%s'\n", dir, t->server_cmd);
    else
        fprintf(f, "  vfu-conform replay %s/trace.cbor --connect %s\n", dir, t->connect_path);
    fprintf(f, "  vfu-conform replay --print %s/trace.cbor\n", dir);
    fprintf(f, "  vfu-fuzz --emit-scenario %s/input > regression.scn\n", dir);
    fclose(f);
}

void fz_finding_add(struct fz_findings *f, struct fz_target *t, const uint8_t *in, size_t len,
                    const struct fz_outcome *o, int timeout_ms, const struct vfu_tracer *as_found,
                    FILE *log)
{
    f->by_kind[o->kind]++;
    if (fz_findings_known(f, o->sig)) {
        f->dup++;
        return;
    }
    if (f->n < sizeof f->names / sizeof f->names[0]) snprintf(f->names[f->n++], sizeof f->names[0], "%s", o->sig);
    /* the output the finding produced, before anything restarts it */
    size_t elen = 0;
    const char *err = fz_target_new_stderr(t, &elen);
    char dir[4096], p[4200];
    snprintf(dir, sizeof dir, "%s/findings/%s", f->outdir, o->sig);
    mkdir_p(dir);
    snprintf(p, sizeof p, "%s/stderr.txt", dir);
    fz_write_file(p, err, elen);
    snprintf(p, sizeof p, "%s/original", dir);
    fz_write_file(p, in, len);
    struct vfu_error we;
    snprintf(p, sizeof p, "%s/found.cbor", dir);
    if (as_found) vfu_tracer_write(as_found, p, &we);

    static uint8_t work[FZ_MAX_INPUT];
    size_t n = len;
    memcpy(work, in, len);
    unsigned long execs = 0;
    bool can_restart = t->server_cmd != NULL;
    struct fz_outcome ow = *o;
    bool again_ok = false;
    if (can_restart && (f->minimize || f->verify)) {
        again_ok = fz_reproduces(t, work, n, &ow, timeout_ms);
        if (!again_ok) {
            ow.warm = true;
            again_ok = fz_reproduces(t, work, n, &ow, timeout_ms);
            if (!again_ok) ow.warm = false;
        }
        execs = again_ok ? 2 - !ow.warm : 2;
        if (!again_ok)
            fprintf(log, "vfu-fuzz: %s does not come back on a fresh server; kept as found (found.cbor)\n", o->sig);
    }
    o = &ow;
    if (f->minimize && again_ok) execs += fz_minimize(t, work, &n, o, timeout_ms, MIN_BUDGET);
    f->min_execs += execs;
    snprintf(p, sizeof p, "%s/input", dir);
    fz_write_file(p, work, n);

    /* the trace of the minimized session, on a fresh server */
    char verified[256] = "not checked";
    struct vfu_error e;
    if (can_restart) fz_target_fresh(t, o->warm, &e);
    struct fz_exec_opts eo = {.timeout_ms = timeout_ms, .keep_trace = true, .check_hang = true,
                              .dma_write_ack_u64 = t->dma_write_ack_u64, .want_sig = o->sig};
    struct fz_outcome again;
    struct vfu_tracer *tr = NULL;
    fz_exec(t, NULL, work, n, &eo, &again, &tr);
    snprintf(p, sizeof p, "%s/trace.cbor", dir);
    bool have_trace = tr && vfu_tracer_write(tr, p, &e);
    vfu_tracer_free(tr);
    bool leak = o->kind == FZ_LEAK_FD || o->kind == FZ_LEAK_RSS;
    if (!have_trace) snprintf(verified, sizeof verified, "no trace written");
    else if (leak)
        snprintf(verified, sizeof verified,
                 "the trace shows one session; the leak shows across runs (vfu-fuzz re-ran it %d times on a fresh server)", 3);
    else if (strcmp(again.sig, o->sig))
        snprintf(verified, sizeof verified, "the traced run gave %s instead", again.kind ? again.sig : "nothing");
    else if (f->verify)
        fz_verify_trace(t, p, o, timeout_ms, verified, sizeof verified);
    if (can_restart) fz_target_restart(t, &e);
    readme(dir, t, o, len, n, execs, verified);
    fprintf(log, "vfu-fuzz: finding %s: %s (%zu -> %zu bytes, %s)\n", o->sig, o->detail, len, n, verified);
}
