/* vfu-fuzz: coverage-guided fuzzing of a vfio-user server over its socket.
 *
 *   vfu-fuzz --server CMD [options]      start (and restart) the server
 *   vfu-fuzz --connect PATH [options]    a server already listening
 *   vfu-fuzz --emit-scenario INPUT       a finding's input as a .scn scenario
 *
 * Exit status: 0 nothing found, 1 findings (see OUT/findings), 2 the run
 * could not happen (bad command line, the server would not start). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "vfu_fuzz.h"

#define TOOL "vfu-fuzz 0.1"
#define LEAK_FD_SLACK 32
#define SUSPECTS 8
#define DEFAULT_MAP_SIZE (1u << 16)

static const char usage[] =
    "usage: vfu-fuzz (--server CMD | --connect PATH | --client CMD) [options]\n"
    "       vfu-fuzz --emit-scenario INPUT [--id ID]\n"
    "\n"
    "Fuzzes a vfio-user server over its socket: sessions of mutated messages\n"
    "with real file descriptors; crashes, hangs, protocol violations and leaks\n"
    "are kept, minimized, as CBOR traces that vfu-conform replay reproduces.\n"
    "\n"
    "  --server CMD          start the server with CMD (no shell; {socket} is\n"
    "                        replaced by the socket path, else --socket-path=PATH\n"
    "                        is appended); restarted whenever it ends\n"
    "  --connect PATH        use the server listening on PATH (never restarted)\n"
    "  --client CMD          fuzz a client instead: CMD is started for every session\n"
    "                        with the path of a socket vfu-fuzz listens on ({socket},\n"
    "                        else --socket-path=PATH) and served by the reference\n"
    "                        server, whose answers the mutated sessions replace\n"
    "  -o, --output DIR      findings and queue (default vfu-fuzz-out)\n"
    "  --seconds N           stop after N seconds (default: until SIGINT)\n"
    "  --sessions N          stop after N sessions\n"
    "  --seed N              random seed (default: from the clock), for reproducible runs\n"
    "  --timeout MS          wait for each answer at most MS (default 1000)\n"
    "  --seeds DIR           also start from the session inputs in DIR (repeatable)\n"
    "  --no-bundled-seeds    not from the source tree's corpus/seeds and build/corpus\n"
    "                        (the bundled scenarios' messages, after make corpus)\n"
    "  --jobs N              N instances, each with its own program under test, in\n"
    "                        OUT/vfu-0 ... (AFL++'s sync layout), sharing their queues\n"
    "  --name NAME           this instance's directory OUT/NAME; the queues of the\n"
    "                        others in OUT (vfu-fuzz or afl-fuzz -S) are read every 5 s\n"
    "  --exit-on-finding     stop at the first new finding\n"
    "  --no-minimize         keep findings as found\n"
    "  --no-verify           do not replay each finding's trace\n"
    "  --no-afl              do not offer an AFL++ coverage map to the server\n"
    "  --map-size N          AFL++ map bytes (default 65536)\n"
    "  --dma-write-ack-u64   answer DMA_WRITE in libvfio-user's 16-byte form\n"
    "  --server-output       copy the server's output to our stderr\n"
    "  --emit-scenario FILE  print FILE (a session input) as a .scn scenario\n"
    "  --run FILE            run the session input FILE once on a fresh server and\n"
    "                        say what happened (exit 1 when it is a finding)\n"
    "  --id ID               the scenario's id (default fuzz.regression)\n"
    "  -h, --help            this text\n"
    "  --version             the program's version\n";


static int bad_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "vfu-fuzz: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (try --help)\n");
    return 2;
}

static bool num(const char *s, long lo, long hi, long *v)
{
    char *end;
    errno = 0;
    long x = strtol(s, &end, 0);
    if (errno || *end || end == s || x < lo || x > hi) return false;
    *v = x;
    return true;
}

static int parse_args(int argc, char **argv, struct fz_opts *o)
{
    enum { O_SERVER = 256, O_CONNECT, O_CLIENT, O_SECONDS, O_SESSIONS, O_SEED, O_TIMEOUT, O_SEEDS, O_EXIT,
           O_NOMIN, O_NOVERIFY, O_NOAFL, O_MAP, O_ACK, O_SRVOUT, O_EMIT, O_ID, O_VERSION, O_RUN, O_JOBS, O_NAME, O_NOBUNDLED };
    static const struct option lo[] = {
        {"server", required_argument, NULL, O_SERVER},   {"connect", required_argument, NULL, O_CONNECT},
        {"client", required_argument, NULL, O_CLIENT},
        {"output", required_argument, NULL, 'o'},        {"seconds", required_argument, NULL, O_SECONDS},
        {"sessions", required_argument, NULL, O_SESSIONS}, {"seed", required_argument, NULL, O_SEED},
        {"timeout", required_argument, NULL, O_TIMEOUT}, {"seeds", required_argument, NULL, O_SEEDS},
        {"exit-on-finding", no_argument, NULL, O_EXIT},  {"no-minimize", no_argument, NULL, O_NOMIN},
        {"no-verify", no_argument, NULL, O_NOVERIFY},    {"no-afl", no_argument, NULL, O_NOAFL},
        {"map-size", required_argument, NULL, O_MAP},    {"dma-write-ack-u64", no_argument, NULL, O_ACK},
        {"server-output", no_argument, NULL, O_SRVOUT},  {"emit-scenario", required_argument, NULL, O_EMIT},
        {"id", required_argument, NULL, O_ID},           {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, O_VERSION},       {"run", required_argument, NULL, O_RUN},
        {"jobs", required_argument, NULL, O_JOBS},       {"name", required_argument, NULL, O_NAME},
        {"no-bundled-seeds", no_argument, NULL, O_NOBUNDLED},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->outdir = "vfu-fuzz-out";
    o->scn_id = "fuzz.regression";
    o->timeout_ms = FZ_DEFAULT_TIMEOUT_MS;
    o->map_size = DEFAULT_MAP_SIZE;
    opterr = 0;
    for (int c; (c = getopt_long(argc, argv, "+ho:", lo, NULL)) != -1;) {
        long v;
        switch (c) {
        case O_SERVER: o->server = optarg; break;
        case O_CONNECT: o->connect = optarg; break;
        case O_CLIENT: o->client = optarg; break;
        case 'o': o->outdir = optarg; break;
        case O_SECONDS:
            if (!num(optarg, 1, 100000000, &o->seconds)) return bad_usage("--seconds %s: a number of seconds", optarg);
            break;
        case O_SESSIONS:
            if (!num(optarg, 1, 2000000000, &o->sessions)) return bad_usage("--sessions %s: a positive number", optarg);
            break;
        case O_SEED: {
            char *end;
            errno = 0;
            o->seed = strtoull(optarg, &end, 0);
            if (errno || *end || end == optarg) return bad_usage("--seed %s: a number", optarg);
            o->have_seed = true;
            break;
        }
        case O_TIMEOUT:
            if (!num(optarg, 1, 600000, &v)) return bad_usage("--timeout %s: milliseconds from 1 to 600000", optarg);
            o->timeout_ms = (int)v;
            break;
        case O_SEEDS:
            if (o->nseeds == FZ_MAX_SEED_DIRS) return bad_usage("more than 16 --seeds%s", "");
            o->seeds[o->nseeds++] = optarg;
            break;
        case O_EXIT: o->exit_on_finding = true; break;
        case O_NOMIN: o->no_minimize = true; break;
        case O_NOVERIFY: o->no_verify = true; break;
        case O_NOAFL: o->no_afl = true; break;
        case O_MAP:
            if (!num(optarg, 4096, 1 << 26, &v) || v % 64) return bad_usage("--map-size %s: bytes, a multiple of 64 from 4096 to 64 MiB", optarg);
            o->map_size = (size_t)v;
            break;
        case O_ACK: o->ack_u64 = true; break;
        case O_SRVOUT: o->server_output = true; break;
        case O_EMIT: o->emit = optarg; break;
        case O_ID: o->scn_id = optarg; break;
        case O_RUN: o->run = optarg; break;
        case O_NOBUNDLED: o->no_bundled_seeds = true; break;
        case O_JOBS:
            if (!num(optarg, 1, FZ_MAX_JOBS, &o->jobs)) return bad_usage("--jobs %s: from 1 to 64", optarg);
            break;
        case O_NAME:
            if (!*optarg || strlen(optarg) >= FZ_SYNC_NAME - 4 || strchr(optarg, '/') || optarg[0] == '.')
                return bad_usage("--name %s: a plain name, no '/', shorter than 60", optarg);
            o->name = optarg;
            break;
        case 'h': fputs(usage, stdout); return 0;
        case O_VERSION: puts(TOOL); return 0;
        default:
            return bad_usage("unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return bad_usage("unexpected '%s'", argv[optind]);
    if (o->emit) return -1;
    if ((o->server != NULL) + (o->connect != NULL) + (o->client != NULL) != 1)
        return bad_usage("give one of --server CMD, --connect PATH and --client CMD%s", "");
    if (o->client && o->ack_u64) return bad_usage("--dma-write-ack-u64 is for servers under test%s", "");
    if (o->jobs > 1 && o->connect) return bad_usage("--jobs needs a program to start for each instance (--server or --client)%s", "");
    if (o->jobs > 1 && o->run) return bad_usage("--run runs one input: no --jobs%s", "");
    return -1;
}

static uint8_t g_file[FZ_MAX_INPUT];

/* a session input file into buf; -1 (said) when it cannot be read */
ssize_t fz_read_file(const char *path, uint8_t *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "vfu-fuzz: %s: %s\n", path, strerror(errno));
        return -1;
    }
    ssize_t n = read(fd, buf, cap);
    int e = errno;
    close(fd);
    if (n < 0) fprintf(stderr, "vfu-fuzz: %s: %s\n", path, strerror(e));
    return n;
}

static int emit_main(const struct fz_opts *o)
{
    uint8_t *buf = g_file;
    ssize_t n = fz_read_file(o->emit, g_file, sizeof g_file);
    if (n < 0) return 2;
    char why[256] = "";
    fz_emit_scenario(buf, (size_t)n, o->scn_id, stdout, why, sizeof why);
    if (why[0]) fprintf(stderr, "vfu-fuzz: %s: %s\n", o->emit, why);
    return why[0] ? 2 : 0;
}

struct run {
    struct fz_opts *o;
    struct fz_target t;
    struct fz_cov *cov;
    struct fz_queue q;
    struct fz_findings f;
    struct vfu_mut *m;
    unsigned long sessions, new_findings;
    double t0;
    bool tty;
    /* leaks */
    int fd_base, fd_last;
    long rss_base;
    uint8_t *suspect[SUSPECTS];
    size_t suspect_len[SUSPECTS];
    unsigned nsuspect;
    uint8_t *prev;
    size_t prev_len;
    struct fz_sync sync;
    bool sync_failed;           /* the server would not start for a synced input */
};

static void stats_line(struct run *r, FILE *out, const char *end)
{
    struct fz_stats st = {r->sessions, fz_now_s() - r->t0, 0, r->q.n, r->cov, &r->f, &r->t.restarts};
    fz_stats_line(out, end, &st);
}

static void clear_line(struct run *r)
{
    if (r->tty) fputs("\r\033[K", stderr);
}

static void finding(struct run *r, const uint8_t *in, size_t len, const struct fz_outcome *out,
                    const struct vfu_tracer *tr)
{
    bool known = fz_findings_known(&r->f, out->sig);
    clear_line(r);
    fz_finding_add(&r->f, &r->t, in, len, out, r->o->timeout_ms, tr, stderr);
    if (!known) r->new_findings++;
}

static void suspect_add(struct run *r, const uint8_t *in, size_t len)
{
    unsigned i = r->nsuspect % SUSPECTS;
    free(r->suspect[i]);
    r->suspect[i] = malloc(len ? len : 1);
    if (!r->suspect[i]) return;
    memcpy(r->suspect[i], in, len);
    r->suspect_len[i] = len;
    r->nsuspect++;
}

/* Open fds of the server, counted at the same point of every session
 * (right after VERSION), growing well past where they began: the sessions
 * after which they grew are tried again on a fresh server, a few times
 * each, and one that leaks every time is the finding. */
static void leak_check(struct run *r, const struct fz_outcome *out)
{
    if (out->fds_after_version < 0) return;
    if (r->fd_base < 0) r->fd_base = out->fds_after_version;
    if (r->fd_last >= 0 && out->fds_after_version > r->fd_last && r->prev) suspect_add(r, r->prev, r->prev_len);
    r->fd_last = out->fds_after_version;
    if (out->fds_after_version <= r->fd_base + LEAK_FD_SLACK) return;
    struct fz_outcome leak = {.kind = FZ_LEAK_FD};
    snprintf(leak.sig, sizeof leak.sig, "leak-fd");
    unsigned n = r->nsuspect < SUSPECTS ? r->nsuspect : SUSPECTS;
    for (unsigned k = 0; k < n; k++) {
        unsigned i = (r->nsuspect - 1 - k) % SUSPECTS;
        if (fz_findings_known(&r->f, leak.sig)) break;
        if (fz_reproduces(&r->t, r->suspect[i], r->suspect_len[i], &leak, r->o->timeout_ms)) {
            snprintf(leak.detail, sizeof leak.detail,
                     "the server's open fds grew from %d to %d over %lu sessions; this session adds some every time",
                     r->fd_base, out->fds_after_version, r->sessions);
            finding(r, r->suspect[i], r->suspect_len[i], &leak, NULL);
            break;
        }
    }
    struct vfu_error err;
    fz_target_restart(&r->t, &err);
    r->fd_base = r->fd_last = -1;
    r->nsuspect = 0;
}

static void rss_check(struct run *r, const uint8_t *in, size_t len)
{
    long kb = fz_target_rss_kb(&r->t);
    if (kb < 0) return;
    if (r->rss_base < 0) {
        r->rss_base = kb;
        return;
    }
    /* "without bound": four times where it settled and half a GiB more */
    if (kb < 4 * r->rss_base || kb < r->rss_base + 512 * 1024) return;
    struct fz_outcome o = {.kind = FZ_LEAK_RSS};
    snprintf(o.sig, sizeof o.sig, "leak-rss");
    snprintf(o.detail, sizeof o.detail, "the server's resident memory grew from %ld to %ld KiB", r->rss_base, kb);
    finding(r, in, len, &o, NULL);
    struct vfu_error err;
    fz_target_restart(&r->t, &err);
    r->rss_base = -1;
}

static bool keep_going(struct run *r)
{
    if (fz_sig_stop()) return false;
    if (r->o->sessions && r->sessions >= (unsigned long)r->o->sessions) return false;
    if (r->o->seconds && fz_now_s() - r->t0 >= (double)r->o->seconds) return false;
    if (r->o->exit_on_finding && r->new_findings) return false;
    return true;
}

/* one session of input in (owned by the caller), its feedback and findings */
static bool run_one(struct run *r, const uint8_t *in, size_t len, const char *why)
{
    struct vfu_error err;
    if (!fz_target_ensure(&r->t, &err)) {
        clear_line(r);
        fprintf(stderr, "vfu-fuzz: the server will not start again: %s\n", vfu_proc_why(&r->t.proc));
        return false;
    }
    struct fz_exec_opts eo = {.timeout_ms = r->o->timeout_ms, .check_hang = true, .keep_trace = true,
                              .dma_write_ack_u64 = r->o->ack_u64, .known = &r->f};
    struct fz_outcome out;
    struct vfu_tracer *tr = NULL;
    fz_exec(&r->t, r->cov, in, len, &eo, &out, &tr);
    r->sessions++;
    unsigned fresh = fz_cov_commit(r->cov);
    /* seeds are in the queue already; their run only sets the start.  A
     * session whose only finding is one known already (a rule the server
     * breaks every time) is as good as a clean one for the queue. */
    bool plain = out.kind == FZ_NONE || (fz_findings_known(&r->f, out.sig) && !out.server_gone);
    if (fresh && plain && strcmp(why, "seed")) fz_queue_add(&r->q, in, len, why);
    if (out.kind != FZ_NONE) {
        /* gone before this session began: the one before did it */
        if (out.connect_failed && r->prev) finding(r, r->prev, r->prev_len, &out, NULL);
        else finding(r, in, len, &out, tr);
    } else if (!out.server_gone && !out.by_design_exit)
        leak_check(r, &out);
    vfu_tracer_free(tr);
    if ((r->sessions & 255) == 0) rss_check(r, in, len);
    if (out.server_gone || out.by_design_exit) {
        if (!r->t.exits_per_client || !out.by_design_exit) r->fd_base = r->fd_last = -1, r->rss_base = -1;
        if (r->t.server_cmd && !fz_target_ensure(&r->t, &err)) return false;
        if (!r->t.server_cmd && out.server_gone && out.kind != FZ_TIMEOUT) {
            clear_line(r);
            fprintf(stderr, "vfu-fuzz: the server at %s is gone (with --connect it is not restarted)\n", r->t.connect_path);
            return false;
        }
    }
    free(r->prev);
    r->prev = malloc(len ? len : 1);
    if (r->prev) memcpy(r->prev, in, len);
    r->prev_len = len;
    return true;
}

/* an input another instance kept: run it, keep it when it brings news */
static void sync_take(void *ctx, const uint8_t *d, size_t n)
{
    struct run *r = ctx;
    static uint8_t in[FZ_MAX_INPUT];
    if (r->sync_failed || !keep_going(r)) return;
    memcpy(in, d, n);
    if (!run_one(r, in, n, "sync")) r->sync_failed = true;
}

static int fuzz_main(struct fz_opts *o)
{
    static struct run run;
    struct run *r = &run;
    r->o = o;
    r->fd_base = r->fd_last = -1;
    r->rss_base = -1;
    r->tty = isatty(2);
    r->cov = calloc(1, sizeof *r->cov);
    if (!r->cov) return 2;
    struct vfu_error err;
    static char idir[4096];
    const char *outdir = fz_instance_dir(o, idir, sizeof idir, &r->sync);
    if (!outdir || !fz_dirs_make(outdir, &err)) {
        fprintf(stderr, "vfu-fuzz: %s: %s\n", outdir ? outdir : o->outdir, strerror(outdir ? err.sys_errno : errno));
        free(r->cov);
        return 2;
    }
    char qdir[4200];
    snprintf(qdir, sizeof qdir, "%s/queue", outdir);
    r->q.dir = qdir;
    r->f.outdir = outdir;
    r->f.minimize = !o->no_minimize;
    r->f.verify = !o->no_verify;
    r->t.server_cmd = o->server;
    r->t.connect_path = o->connect;
    r->t.timeout_ms = o->timeout_ms;
    r->t.echo_stderr = o->server_output;
    r->t.dma_write_ack_u64 = o->ack_u64;
    r->t.shm_id = -1;
    if (!o->no_afl && o->server) fz_cov_afl_init(r->cov, o->map_size, &r->t.shm_id);
    uint64_t seed = o->have_seed ? o->seed : (uint64_t)time(NULL) ^ (uint64_t)getpid() << 20;
    struct vfu_mut_opts mo = {.seed = seed, .target = VFU_ROLE_SERVER};
    r->m = vfu_mut_new(&mo);
    int rc = 2;
    if (!r->m) goto out;
    if (!fz_target_start(&r->t, &err)) {
        char es[256];
        vfu_error_str(&err, es, sizeof es);
        fprintf(stderr, "vfu-fuzz: the server would not start or complete a first VERSION: %s%s%s\n", es,
                r->t.started && vfu_proc_why(&r->t.proc)[0] ? "; " : "",
                r->t.started ? vfu_proc_why(&r->t.proc) : "");
        if (r->t.started) {
            size_t n;
            const char *s = vfu_proc_stderr(&r->t.proc, &n);
            if (n) fprintf(stderr, "its output:\n%s\n", s);
        }
        goto out;
    }
    fprintf(stderr, "vfu-fuzz: seed %llu; %s; server %s\n", (unsigned long long)seed,
            r->t.exits_per_client ? "the server ends after each client (restarted each session)"
                                  : "the server stays up across sessions",
            o->server ? o->server : o->connect);
    if (o->run) {
        ssize_t n = fz_read_file(o->run, g_file, sizeof g_file);
        if (n < 0) goto out;
        struct fz_exec_opts eo = {.timeout_ms = o->timeout_ms, .check_hang = true, .dma_write_ack_u64 = o->ack_u64};
        struct fz_outcome out;
        fz_exec(&r->t, NULL, g_file, (size_t)n, &eo, &out, NULL);
        if (out.kind == FZ_NONE)
            printf("nothing found (%u messages sent, %u replies)%s\n", out.sent, out.replies,
                   out.by_design_exit ? "; the server ended as it does after each client" : "");
        else
            printf("%s: %s\n", out.sig, out.detail);
        rc = out.kind == FZ_NONE ? 0 : 1;
        goto out;
    }
    fz_seed_spec(&r->q, r->m);
    if (!o->no_bundled_seeds) fz_seed_bundled(&r->q, "server_session", stderr);
    for (unsigned i = 0; i < o->nseeds; i++) fz_seed_dir(&r->q, o->seeds[i], stderr);
    r->t0 = fz_now_s();
    size_t nseeds = r->q.n;
    static uint8_t buf[FZ_MAX_INPUT];
    /* every seed once, as it is (their coverage is the start) */
    for (size_t i = 0; i < nseeds && keep_going(r); i++) {
        size_t len = r->q.e[i].len;
        memcpy(buf, r->q.e[i].data, len);
        if (!run_one(r, buf, len, "seed")) goto out_stats;
    }
    if (r->cov->afl && !r->cov->afl_edges) {
        clear_line(r);
        fprintf(stderr, "vfu-fuzz: no AFL++ coverage from the server (not built with afl-clang-fast?): "
                        "feedback is what it does on the wire\n");
    }
    double last = fz_now_s(), synced = fz_now_s();
    while (keep_going(r) && !r->sync_failed) {
        if (r->sync.dir && fz_now_s() - synced >= FZ_SYNC_SECONDS) {
            fz_sync_pull(&r->sync, sync_take, r);
            synced = fz_now_s();
        }
        size_t len = fz_queue_next(&r->q, r->m, nseeds, false, buf, sizeof buf);
        if (!run_one(r, buf, len, "+new")) break;
        if (r->tty && fz_now_s() - last >= 1.0) {
            last = fz_now_s();
            stats_line(r, stderr, "\r");
        }
    }
out_stats:
    clear_line(r);
    stats_line(r, stderr, "\n");
    rc = r->f.n ? 1 : 0;
    if (r->f.n) fprintf(stderr, "vfu-fuzz: findings in %s/findings\n", outdir);
out:
    fz_target_stop(&r->t);
    fz_cov_free(r->cov, r->t.shm_id);
    free(r->cov);
    vfu_mut_free(r->m);
    fz_queue_free(&r->q);
    for (unsigned i = 0; i < SUSPECTS; i++) free(r->suspect[i]);
    free(r->prev);
    return rc;
}

int main(int argc, char **argv)
{
    struct fz_opts o;
    int st = parse_args(argc, argv, &o);
    if (st >= 0) return st;
    if (o.emit) return emit_main(&o);
    if (o.jobs > 1) return fz_jobs_main(&o, o.client ? fzc_main : fuzz_main);
    fz_sig_install();
    return o.client ? fzc_main(&o) : fuzz_main(&o);
}
