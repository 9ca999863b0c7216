/* vfu-fuzz --client: seeds, the main loop, findings on disk.  The loop is
 * the server side's (pick from the queue, mutate with the shared mutator,
 * run, keep what brought new feedback); a session here is one run of the
 * client program (vfu_fuzz_client.c).  Findings go to
 * OUT/findings/SIG/{original,input,stderr.txt,README}, minimized by
 * dropping records while the signature stays, and checked by running the
 * minimized input once more; `vfu-fuzz --client CMD --run DIR/input`
 * reproduces one. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "stopsig.h"
#include "vfu_fuzz.h"

#define MIN_BUDGET 200

struct crun {
    const struct fz_opts *o;
    struct fz_client F;
    struct fz_cov *cov;
    struct fz_queue q;
    struct vfu_mut *m;
    unsigned long sessions, new_findings;
    struct fz_findings f;       /* the signatures kept and counts by kind */
    double t0;
    bool tty;
    const char *outdir;         /* OUT, or OUT/NAME */
};

static bool same(struct crun *r, const uint8_t *in, size_t len, const char *sig)
{
    struct fz_outcome o;
    fzc_exec(&r->F, NULL, in, len, false, &o);
    return o.kind != FZ_NONE && !strcmp(o.sig, sig);
}

/* drops records, last first, while the signature stays */
static unsigned long minimize(struct crun *r, uint8_t *in, size_t *len, const char *sig)
{
    static struct vfu_fs fs, trial;
    static uint8_t buf[FZ_MAX_INPUT];
    unsigned long runs = 0;
    vfu_fs_parse(in, *len, &fs);
    for (unsigned i = fs.n; i-- > 0 && runs < MIN_BUDGET && !fz_sig_stop();) {
        trial.n = 0;
        for (unsigned k = 0; k < fs.n; k++)
            if (k != i) trial.rec[trial.n++] = fs.rec[k];
        size_t n = vfu_fs_write(&trial, buf, sizeof buf);
        runs++;
        if (!same(r, buf, n, sig)) continue;
        /* the records point into `in`: keep the shorter input there */
        memcpy(in, buf, n);
        *len = n;
        vfu_fs_parse(in, *len, &fs);
    }
    return runs;
}

static void finding(struct crun *r, const uint8_t *in, size_t len, const struct fz_outcome *o)
{
    r->f.by_kind[o->kind]++;
    if (fz_findings_known(&r->f, o->sig)) return;
    if (r->f.n < sizeof r->f.names / sizeof r->f.names[0])
        snprintf(r->f.names[r->f.n++], sizeof r->f.names[0], "%s", o->sig);
    r->new_findings++;
    char dir[4096], p[4200];
    snprintf(dir, sizeof dir, "%s/findings", r->outdir);
    mkdir(dir, 0755);
    snprintf(dir, sizeof dir, "%s/findings/%s", r->outdir, o->sig);
    mkdir(dir, 0755);
    snprintf(p, sizeof p, "%s/stderr.txt", dir);
    fz_write_file(p, r->F.stderr_copy, r->F.stderr_len);
    snprintf(p, sizeof p, "%s/original", dir);
    fz_write_file(p, in, len);
    static uint8_t work[FZ_MAX_INPUT];
    if (len) memcpy(work, in, len);   /* an empty input may come as NULL */
    size_t n = len;
    unsigned long runs = 0;
    const char *check = "not checked (--no-verify)";
    bool again = true;
    if (!r->o->no_minimize || !r->o->no_verify) {
        again = same(r, work, n, o->sig);
        runs++;
        check = again ? "the minimized input gives the same signature again" : "did not come back when run again";
    }
    if (again && !r->o->no_minimize) {
        runs += minimize(r, work, &n, o->sig);
        if (!r->o->no_verify) {
            again = same(r, work, n, o->sig);
            runs++;
            if (!again) check = "the minimized input did not give it again";
        }
    }
    snprintf(p, sizeof p, "%s/input", dir);
    fz_write_file(p, work, n);
    snprintf(p, sizeof p, "%s/README", dir);
    FILE *f = fopen(p, "we");
    if (f) {
        fprintf(f, "kind: %s\nsignature: %s\nwhat: %s\n", fz_kind_name(o->kind), o->sig, o->detail);
        fprintf(f, "input: %zu bytes as found, %zu minimized (%lu runs)\ncheck: %s\n", len, n, runs, check);
        fprintf(f, "stderr.txt: the client's output as found\n\nreproduce:\n");
        fprintf(f, "  vfu-fuzz --client '%s' --run %s/input\n", r->o->client, dir);
        fclose(f);
    }
    if (r->tty) fputs("\r\033[K", stderr);
    fprintf(stderr, "vfu-fuzz: finding %s: %s (%zu -> %zu bytes, %s)\n", o->sig, o->detail, len, n, check);
}

static void stats_line(struct crun *r, const char *end)
{
    struct fz_stats st = {r->sessions, fz_now_s() - r->t0, 1, r->q.n, r->cov, &r->f, NULL};
    fz_stats_line(stderr, end, &st);
}

static bool keep_going(const struct crun *r)
{
    if (fz_sig_stop()) return false;
    if (r->o->sessions && r->sessions >= (unsigned long)r->o->sessions) return false;
    if (r->o->seconds && fz_now_s() - r->t0 >= (double)r->o->seconds) return false;
    if (r->o->exit_on_finding && r->new_findings) return false;
    return true;
}

/* false: the client cannot be run at all (said) */
static bool run_one(struct crun *r, const uint8_t *in, size_t len, bool queue_it, bool record_it)
{
    struct fz_outcome o;
    fzc_exec(&r->F, r->cov, in, len, record_it, &o);
    r->sessions++;
    unsigned fresh = fz_cov_commit(r->cov);
    if (o.connect_failed && o.kind == FZ_NONE) {
        if (r->tty) fputs("\r\033[K", stderr);
        fprintf(stderr, "vfu-fuzz: %s\n", o.detail);
        return false;
    }
    if (o.kind != FZ_NONE) finding(r, in, len, &o);
    else if (fresh && queue_it) fz_queue_add(&r->q, in, len, "+new");
    return true;
}

struct take_ctx {
    struct crun *r;
    bool failed;
};

static void sync_take(void *ctx, const uint8_t *d, size_t n)
{
    struct take_ctx *t = ctx;
    static uint8_t in[FZ_MAX_INPUT];
    if (t->failed || !keep_going(t->r)) return;
    memcpy(in, d, n);
    if (!run_one(t->r, in, n, true, false)) t->failed = true;
}

int fzc_main(struct fz_opts *o)
{
    static struct crun run;
    struct crun *r = &run;
    r->o = o;
    r->tty = isatty(2);
    r->F.cmd = o->client;
    r->F.lfd = -1;
    r->F.timeout_ms = r->F.idle_ms = o->timeout_ms;
    r->F.echo_stderr = o->server_output;
    int rc = 2;
    struct vfu_error err;
    r->cov = calloc(1, sizeof *r->cov);
    if (!r->cov) return 2;
    static char idir[4096];
    static struct fz_sync sync;
    r->outdir = fz_instance_dir(o, idir, sizeof idir, &sync);
    if (!r->outdir || !fz_dirs_make(r->outdir, &err)) {
        fprintf(stderr, "vfu-fuzz: %s: %s\n", r->outdir ? r->outdir : o->outdir, strerror(r->outdir ? err.sys_errno : errno));
        free(r->cov);
        return 2;
    }
    char qdir[4200];
    snprintf(qdir, sizeof qdir, "%s/queue", r->outdir);
    r->q.dir = qdir;
    int shm_id = -1;
    if (!o->no_afl) fz_cov_afl_init(r->cov, o->map_size, &shm_id);
    uint64_t seed = o->have_seed ? o->seed : (uint64_t)time(NULL) ^ (uint64_t)getpid() << 20;
    struct vfu_mut_opts mo = {.seed = seed, .target = VFU_ROLE_CLIENT};
    r->m = vfu_mut_new(&mo);
    if (!r->m || !fzc_open(&r->F, &err)) {
        char es[256];
        vfu_error_str(&err, es, sizeof es);
        fprintf(stderr, "vfu-fuzz: cannot set up: %s\n", r->m ? es : "out of memory");
        goto out;
    }
    static uint8_t buf[FZ_MAX_INPUT];
    if (o->run) {
        ssize_t n = fz_read_file(o->run, buf, sizeof buf);
        if (n < 0) goto out;
        struct fz_outcome out;
        fzc_exec(&r->F, NULL, buf, (size_t)n, false, &out);
        if (out.kind == FZ_NONE)
            printf("nothing found (%u messages sent, %u received)%s%s\n", out.sent, out.replies,
                   out.detail[0] ? "; " : "", out.detail);
        else
            printf("%s: %s\n", out.sig, out.detail);
        if (out.kind != FZ_NONE && r->F.stderr_len) fprintf(stderr, "its output:\n%.*s\n", (int)r->F.stderr_len, r->F.stderr_copy);
        rc = out.connect_failed && out.kind == FZ_NONE ? 2 : out.kind == FZ_NONE ? 0 : 1;
        goto out;
    }
    r->t0 = fz_now_s();
    /* the first session, answered by the reference server alone, recorded:
     * its answers are the first seed */
    if (!run_one(r, NULL, 0, false, true)) goto out;
    if (r->F.recorded_len) fz_queue_add(&r->q, r->F.recorded, r->F.recorded_len, "seed");
    static struct vfu_fs plain;
    vfu_fs_parse(r->F.recorded, r->F.recorded_len, &plain);
    fprintf(stderr, "vfu-fuzz: seed %llu; client %s; in a plain session the reference server answered %u requests; "
            "a session ends when the client is quiet for %d ms%s\n", (unsigned long long)seed, o->client, plain.n, r->F.idle_ms,
            r->F.stays ? "; it keeps running when the server goes away, as a VMM does: that is no hang" : "");
    /* no bundled seeds: those of the in-process client target answer its
     * own script of requests, not this client's */
    for (unsigned i = 0; i < o->nseeds; i++) fz_seed_dir(&r->q, o->seeds[i], stderr);
    if (!r->q.n) {
        /* the client asked nothing: start from what the mutator makes */
        size_t len = vfu_mut_session(r->m, buf, 0, sizeof buf);
        if (!fz_queue_add(&r->q, buf, len, "seed:generated")) {
            fprintf(stderr, "vfu-fuzz: the client sent no request to answer and no seed was given\n");
            goto out_stats;
        }
    }
    size_t nseeds = r->q.n;
    /* the recorded seed ran already (it is the plain session) */
    for (size_t i = r->F.recorded_len ? 1 : 0; i < nseeds && keep_going(r); i++) {
        size_t len = r->q.e[i].len;
        memcpy(buf, r->q.e[i].data, len);
        if (!run_one(r, buf, len, false, false)) goto out_stats;
    }
    if (r->cov->afl && !r->cov->afl_edges)
        fprintf(stderr, "vfu-fuzz: no AFL++ coverage from the client (not built with afl-clang-fast?): "
                        "feedback is what it does on the wire\n");
    double last = fz_now_s(), synced = fz_now_s();
    struct take_ctx tc = {r, false};
    while (keep_going(r) && !tc.failed) {
        if (sync.dir && fz_now_s() - synced >= FZ_SYNC_SECONDS) {
            fz_sync_pull(&sync, sync_take, &tc);
            synced = fz_now_s();
        }
        /* a quarter of the time the recorded session: it goes deepest */
        size_t len = fz_queue_next(&r->q, r->m, nseeds, true, buf, sizeof buf);
        if (!run_one(r, buf, len, true, false)) break;
        if (r->tty && fz_now_s() - last >= 1.0) {
            last = fz_now_s();
            stats_line(r, "\r");
        }
    }
out_stats:
    if (r->tty) fputs("\r\033[K", stderr);
    stats_line(r, "\n");
    rc = r->f.n ? 1 : 0;
    if (r->f.n) fprintf(stderr, "vfu-fuzz: findings in %s/findings\n", r->outdir);
out:
    fzc_close(&r->F);
    fz_cov_free(r->cov, shm_id);
    free(r->cov);
    vfu_mut_free(r->m);
    fz_queue_free(&r->q);
    return rc;
}
