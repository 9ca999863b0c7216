/* vfu-conform: checks a vfio-user server against the conformance scenarios.
 *
 *   vfu-conform --server 'CMD' [options]     start the server with CMD
 *   vfu-conform --connect PATH [options]     use a server already listening
 *   vfu-conform --client 'CMD' [options]     judge a client against our server
 *   vfu-conform --list [--scenarios ...]     the scenario ids, levels, sections
 *   vfu-conform replay TRACE                 print a recorded wire trace
 *   vfu-conform replay TRACE --server CMD    play its client side again
 *   vfu-conform report JSON --html FILE      an earlier run's report as HTML
 *
 * Exit status: 0 every scenario passed (or failed as expected, or is INFO);
 * 1 a MUST or SHOULD scenario failed, or the server was hopeless (no
 * VERSION even after a restart: one cause, every scenario not run); 2 the
 * run could not happen (bad command line, no scenarios, the server would
 * not start, a scenario could not run, --max-seconds cut it short with no
 * failure); 130, 143, 129 stopped by SIGINT, SIGTERM, SIGHUP (the server
 * stopped, temporary files removed, the report so far written and marked
 * as interrupted). */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cjrun.h"
#include "vfu_client.h"
#include "gen.h"
#include "proc.h"
#include "replay.h"
#include "report.h"
#include "runner.h"
#include "scn.h"
#include "speccov.h"
#include "stopsig.h"
#include "vfu_version.h"

#define TOOL "vfu-conform " VFU_VERSION
#define MAX_PATTERNS 256
#define XFAIL_MAX_FILE (1u << 20)

static const char usage[] =
    "usage: vfu-conform (--server CMD | --connect PATH) [options]\n"
    "       vfu-conform --client CMD [options]\n"
    "       vfu-conform --list [--scenarios DIR|FILE] [--only PAT] [--skip PAT]\n"
    "       vfu-conform replay [--print] TRACE [--server CMD | --connect PATH] [--timeout MS]\n"
    "       vfu-conform report JSON --html FILE [--lcov INFO ...]\n"
    "\n"
    "Checks a vfio-user server against conformance scenarios.\n"
    "\n"
    "  --server CMD          start the server with CMD (no shell; {socket} is\n"
    "                        replaced by the socket path, else --socket-path=PATH\n"
    "                        is appended); restarted when a scenario leaves it dead\n"
    "  --connect PATH        use the server listening on PATH (never restarted)\n"
    "  --client CMD          judge a vfio-user client instead: CMD is started once\n"
    "                        per server personality, told our socket ({socket}\n"
    "                        replaced, else --socket-path=PATH appended), and every\n"
    "                        message it sends is checked (--list --client: the checks)\n"
    "  --client-idle MS      --client: a client quiet this long after our last\n"
    "                        answer is done with the session (default 1000)\n"
    "  --scenarios DIR|FILE  scenario files (repeatable); default: the bundled\n"
    "                        ones (harness/scenarios beside the build directory)\n"
    "  --list                print the scenario ids with level and section; with\n"
    "                        --server or --connect, the generated ones too\n"
    "  --generated           also the boundary scenarios made for the device after\n"
    "                        the probe (harness/gen.h); the default without\n"
    "                        --scenarios (with the bundled ones)\n"
    "  --no-generated        only the scenario files, never the generated ones\n"
    "  --generated-out FILE  write the generated scenarios' text to FILE\n"
    "  --only PATTERN        run only ids matching the glob (repeatable)\n"
    "  --skip PATTERN        leave out ids matching the glob (repeatable)\n"
    "  --xfail FILE          expected failures: one id or glob per line, # comments\n"
    "  --timeout MS          wait for each answer at most MS (default 3000)\n"
    "  --format FMT          human (default), tap, junit, json or html\n"
    "  --output FILE         write the report to FILE instead of stdout\n"
    "  --html FILE           also the HTML report (spec coverage, dissected traces)\n"
    "                        in FILE; html needs every scenario's trace: kept in\n"
    "                        --trace-dir (as with --trace-all), else in a temporary\n"
    "                        directory removed after the report is written\n"
    "  --speccov FILE        the spec coverage of the run as JSON in FILE (traces\n"
    "                        as for --html)\n"
    "  --trace-dir DIR       keep a CBOR wire trace of each failing scenario\n"
    "  --trace-all           with --trace-dir: of every scenario (fuzz seeds)\n"
    "  --verbose             human format: list passes too\n"
    "  --fail-fast           stop at the first scenario that fails the run\n"
    "  --server-output       copy the server's stderr to ours as it comes\n"
    "  -h, --help            this text\n"
    "  --version             the program's version\n"
    "\n"
    "exit status: 0 no MUST or SHOULD scenario failed (INFO findings, skips and\n"
    "expected failures do not count); 1 one did; 2 the run could not happen.\n"
    "vfu-conform replay --help: replaying a kept wire trace.\n"
    "vfu-conform report --help: an earlier JSON report as HTML, with code coverage.\n";

struct opts {
    const char *server, *connect, *client, *output, *trace_dir, *xfail_file, *gen_out, *html, *speccov;
    int client_idle_ms;
    const char *scenarios[64];
    unsigned nscenarios;
    const char *only[MAX_PATTERNS], *skip[MAX_PATTERNS];
    unsigned nonly, nskip;
    int timeout_ms;
    unsigned max_seconds;
    enum vfu_report_format format;
    bool list, verbose, server_output, fail_fast, trace_all, no_gen, gen;
};

static int bad_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "vfu-conform: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (try --help)\n");
    return 2;
}

/* -1: go on; else the exit status */
static int parse_args(int argc, char **argv, struct opts *o)
{
    enum { O_SERVER = 256, O_CONNECT, O_SCN, O_LIST, O_ONLY, O_SKIP, O_XFAIL, O_TIMEOUT, O_FORMAT,
           O_OUTPUT, O_TRACE, O_VERBOSE, O_SRVOUT, O_VERSION, O_FAILFAST, O_MAXSEC, O_TRACEALL,
           O_NOGEN, O_GENOUT, O_GEN, O_CLIENT, O_CLIENTIDLE, O_HTML, O_SPECCOV };
    static const struct option lo[] = {
        {"server", required_argument, NULL, O_SERVER}, {"connect", required_argument, NULL, O_CONNECT},
        {"scenarios", required_argument, NULL, O_SCN}, {"list", no_argument, NULL, O_LIST},
        {"only", required_argument, NULL, O_ONLY},     {"skip", required_argument, NULL, O_SKIP},
        {"xfail", required_argument, NULL, O_XFAIL},   {"timeout", required_argument, NULL, O_TIMEOUT},
        {"format", required_argument, NULL, O_FORMAT}, {"output", required_argument, NULL, O_OUTPUT},
        {"trace-dir", required_argument, NULL, O_TRACE}, {"verbose", no_argument, NULL, O_VERBOSE},
        {"server-output", no_argument, NULL, O_SRVOUT}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, O_VERSION},     {"fail-fast", no_argument, NULL, O_FAILFAST},
        {"max-seconds", required_argument, NULL, O_MAXSEC},
        {"trace-all", no_argument, NULL, O_TRACEALL},
        {"no-generated", no_argument, NULL, O_NOGEN},
        {"generated", no_argument, NULL, O_GEN},
        {"generated-out", required_argument, NULL, O_GENOUT},
        {"client", required_argument, NULL, O_CLIENT},
        {"client-idle", required_argument, NULL, O_CLIENTIDLE},
        {"html", required_argument, NULL, O_HTML},     {"speccov", required_argument, NULL, O_SPECCOV},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->format = VFU_REPORT_HUMAN;
    opterr = 0;
    for (int c; (c = getopt_long(argc, argv, "+:h", lo, NULL)) != -1;) {
        char *end;
        long v;
        switch (c) {
        case O_SERVER: o->server = optarg; break;
        case O_CONNECT: o->connect = optarg; break;
        case O_CLIENT: o->client = optarg; break;
        case O_CLIENTIDLE:
            errno = 0;
            v = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || v < 1 || v > VFU_RUNNER_MAX_TIMEOUT_MS)
                return bad_usage("--client-idle %s: milliseconds from 1 to 600000", optarg);
            o->client_idle_ms = (int)v;
            break;
        case O_SCN:
            if (o->nscenarios == sizeof o->scenarios / sizeof o->scenarios[0]) return bad_usage("too many --scenarios%s", "");
            o->scenarios[o->nscenarios++] = optarg;
            break;
        case O_LIST: o->list = true; break;
        case O_ONLY:
        case O_SKIP: {
            const char **v2 = c == O_ONLY ? o->only : o->skip;
            unsigned *n = c == O_ONLY ? &o->nonly : &o->nskip;
            if (*n == MAX_PATTERNS) return bad_usage("more than 256 %s patterns", c == O_ONLY ? "--only" : "--skip");
            v2[(*n)++] = optarg;
            break;
        }
        case O_XFAIL: o->xfail_file = optarg; break;
        case O_TIMEOUT:
            errno = 0;
            v = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || v < 1 || v > VFU_RUNNER_MAX_TIMEOUT_MS)
                return bad_usage("--timeout %s: milliseconds from 1 to 600000", optarg);
            o->timeout_ms = (int)v;
            break;
        case O_MAXSEC:
            errno = 0;
            v = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || v < 1 || v > 86400)
                return bad_usage("--max-seconds %s: seconds from 1 to 86400", optarg);
            o->max_seconds = (unsigned)v;
            break;
        case O_FORMAT:
            if (!vfr_report_format_parse(optarg, &o->format))
                return bad_usage("--format %s: human, tap, junit, json or html", optarg);
            break;
        case O_OUTPUT: o->output = optarg; break;
        case O_TRACE: o->trace_dir = optarg; break;
        case O_TRACEALL: o->trace_all = true; break;
        case O_NOGEN: o->no_gen = true; break;
        case O_GEN: o->gen = true; break;
        case O_GENOUT: o->gen_out = optarg; break;
        case O_HTML: o->html = optarg; break;
        case O_SPECCOV: o->speccov = optarg; break;
        case O_VERBOSE: o->verbose = true; break;
        case O_FAILFAST: o->fail_fast = true; break;
        case O_SRVOUT: o->server_output = true; break;
        case 'h': fputs(usage, stdout); return 0;
        case O_VERSION: puts(TOOL); return 0;
        case ':': return bad_usage("%s needs a value", argv[optind - 1]);
        default: return bad_usage("unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc) return bad_usage("unexpected argument '%s'", argv[optind]);
    if (o->client && (o->server || o->connect))
        return bad_usage("--client judges a client: not with --server or --connect%s", "");
    if (o->client && (o->nscenarios || o->fail_fast || o->gen || o->gen_out || o->speccov))
        return bad_usage("--client takes no --scenarios, --fail-fast, --generated or --speccov%s", "");
    if (o->gen && o->no_gen) return bad_usage("--generated and --no-generated%s exclude each other", "");
    /* the generated scenarios go with the bundled ones; given files are
     * what the caller asked for, unless --generated adds them */
    if (o->nscenarios && !o->gen) o->no_gen = true;
    if (!o->list && !o->client && !o->server == !o->connect)
        return bad_usage("give one of --server CMD, --connect PATH or --client CMD%s", "");
    return -1;
}

/* The bundled scenarios: harness/scenarios of the source tree the program
 * was built in (build/vfu-conform, build/clang/vfu-conform and the
 * sanitized build/clang/san/vfu-conform of `make BUILD=build/clang check`),
 * or an installed share/vfu-conform/scenarios beside bin/. */
static bool default_scenarios(char *out, size_t n)
{
    static const char *const rel[] = {"/../harness/scenarios", "/../../harness/scenarios",
                                      "/../../../harness/scenarios", "/../share/vfu-conform/scenarios"};
    char exe[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k <= 0) return false;
    exe[k] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash) return false;
    *slash = 0;
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        struct stat st;
        snprintf(out, n, "%s%s", exe, rel[i]);
        if (stat(out, &st) == 0 && S_ISDIR(st.st_mode)) return true;
    }
    return false;
}

/* A scenario path as reports show it: resolved (no "build/../"), and
 * relative to the current directory when it lies inside it.  False (out
 * untouched) when it cannot be resolved: the loader then says why. */
static bool display_path(const char *in, char *out, size_t n)
{
    char abs[PATH_MAX], cwd[PATH_MAX];
    if (!realpath(in, abs)) return false;
    const char *p = abs;
    size_t k = getcwd(cwd, sizeof cwd) ? strlen(cwd) : 0;
    if (k > 1 && !strncmp(abs, cwd, k) && abs[k] == '/' && abs[k + 1]) p = abs + k + 1;
    if (strlen(p) >= n) return false;
    memcpy(out, p, strlen(p) + 1);
    return true;
}

static bool selected(const struct opts *o, const char *id)
{
    bool in = !o->nonly;
    for (unsigned i = 0; i < o->nonly && !in; i++) in = !fnmatch(o->only[i], id, 0);
    for (unsigned i = 0; i < o->nskip && in; i++) in = fnmatch(o->skip[i], id, 0) != 0;
    return in;
}

/* --xfail FILE: one id or glob per line; # starts a comment */
static bool read_xfail(const char *path, char **text, const char ***pats, size_t *n)
{
    *text = NULL;
    *pats = NULL;
    *n = 0;
    FILE *f = fopen(path, "re");
    if (!f) {
        fprintf(stderr, "vfu-conform: --xfail %s: %s\n", path, strerror(errno));
        return false;
    }
    char *buf = malloc(XFAIL_MAX_FILE + 1);
    size_t len = buf ? fread(buf, 1, XFAIL_MAX_FILE + 1, f) : 0;
    bool err = ferror(f);
    fclose(f);
    if (!buf || err || len > XFAIL_MAX_FILE) {
        fprintf(stderr, "vfu-conform: --xfail %s: %s\n", path, !buf ? "out of memory" : err ? "read error" : "larger than 1 MiB");
        free(buf);
        return false;
    }
    buf[len] = 0;
    size_t lines = 1;
    for (size_t i = 0; i < len; i++) lines += buf[i] == '\n';
    const char **v = calloc(lines, sizeof *v);
    if (!v) { free(buf); return false; }
    int lineno = 0;
    for (char *l = buf, *next; l; l = next) {
        lineno++;
        next = strchr(l, '\n');
        if (next) *next++ = 0;
        char *hash = strchr(l, '#');
        if (hash) *hash = 0;
        while (*l == ' ' || *l == '\t') l++;
        size_t k = strlen(l);
        while (k && (l[k - 1] == ' ' || l[k - 1] == '\t' || l[k - 1] == '\r')) l[--k] = 0;
        if (!k) continue;
        if (strpbrk(l, " \t")) {
            fprintf(stderr, "vfu-conform: %s:%d: one id or pattern per line\n", path, lineno);
            free(v);
            free(buf);
            return false;
        }
        v[(*n)++] = l;
    }
    *text = buf;
    *pats = v;
    return true;
}

/* ------------------------------------------------------------ generated */

/* The boundary scenarios made after the probe (harness/gen.h), loaded
 * into a set of their own beside the files' and selected by the same
 * --only / --skip.  When listing, they are kept for the listing and none
 * is run. */
struct genctx {
    const struct opts *o;
    const struct scn_set *files;
    struct scn_set set;
    const struct scn_scenario **list;
    size_t n;
    bool listing;
};

static bool generate(void *ctx, const struct gen_device *dev, const struct scn_scenario *const **out, size_t *n,
                     char *why, size_t whylen)
{
    struct genctx *g = ctx;
    struct gen_buf b = {0};
    *n = 0;
    if (!vfh_gen_bounds(dev, &b)) {
        vfh_gen_buf_free(&b);
        snprintf(why, whylen, "making the generated scenarios: out of memory");
        return false;
    }
    if (g->o->gen_out) {
        FILE *f = fopen(g->o->gen_out, "we");
        bool w = f && fwrite(b.p ? b.p : "", 1, b.n, f) == b.n;
        if (f && fclose(f) != 0) w = false;
        if (!w) {
            snprintf(why, whylen, "--generated-out %s: %s", g->o->gen_out, strerror(errno));
            vfh_gen_buf_free(&b);
            return false;
        }
    }
    struct scn_errors errs = {0};
    /* a generated text that does not load is our bug: the run stops */
    bool ok = vfh_scn_load_text(&g->set, "generated", b.p ? b.p : "", b.n, &errs);
    vfh_gen_buf_free(&b);
    if (!ok) {
        snprintf(why, whylen, "the generated scenarios do not load: %s%s", errs.n ? errs.msg[0] : "?",
                 errs.total > 1 ? " (and more)" : "");
        vfh_scn_errors_free(&errs);
        return false;
    }
    vfh_scn_errors_free(&errs);
    if (!(g->list = calloc(g->set.n ? g->set.n : 1, sizeof *g->list))) {
        snprintf(why, whylen, "out of memory");
        return false;
    }
    for (size_t i = 0; i < g->set.n; i++) {
        for (size_t k = 0; k < g->files->n; k++)
            if (!strcmp(g->files->v[k].id, g->set.v[i].id)) {
                snprintf(why, whylen, "generated scenario %s has the id of one in %s", g->set.v[i].id, g->files->v[k].file);
                return false;
            }
        if (selected(g->o, g->set.v[i].id)) g->list[g->n++] = &g->set.v[i];
    }
    if (!g->listing) {
        *out = g->list;
        *n = g->n;
    }
    return true;
}

/* ------------------------------------------------------------- progress */

struct progress { bool on; size_t fails; };

static void progress(void *ctx, size_t i, size_t total, const struct scn_scenario *sc,
                     const struct vfu_result *r)
{
    struct progress *p = ctx;
    if (r && (r->verdict == VFU_FAIL || r->verdict == VFU_ERROR)) p->fails++;
    if (!p->on) return;
    char line[512];
    int n = snprintf(line, sizeof line, "[%zu/%zu] %zu failed  %-5s %s", i + (r != NULL), total, p->fails,
                     r ? vfr_verdict_name(r->verdict) : "", sc->id);
    /* one line, rewritten (\r, erase to its end): it must not wrap */
    struct winsize ws;
    size_t cols = ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 ? ws.ws_col : 80;
    if (n > 0 && (size_t)n >= cols) line[cols - 1] = 0;
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
}

/* -------------------------------------------------------------- replay */

static const char replay_usage[] =
    "usage: vfu-conform replay [--print] TRACE [--server CMD | --connect PATH] [--timeout MS]\n"
    "\n"
    "Prints a wire trace that vfu-conform --trace-dir kept (TRACE.cbor), or plays\n"
    "its client side again against a server and compares the answers.\n"
    "\n"
    "  --print          print the trace, one line per message (the default when\n"
    "                   no server is given)\n"
    "  --server CMD     start the server with CMD, as a run does, and replay\n"
    "  --connect PATH   replay against the server listening on PATH\n"
    "  --timeout MS     wait for each awaited message at most MS (default 2000)\n"
    "  -h, --help       this text\n"
    "\n"
    "exit status: 0 the trace was printed, or the server answered as recorded;\n"
    "1 the server answered otherwise, closed the connection where the trace goes\n"
    "on, or did not answer in time (the first difference is printed); 2 no\n"
    "replay: bad command line, unreadable trace, the server would not start or\n"
    "cannot be reached, or our side failed (creating an fd, sending)\n";

/* vfu-conform replay [--print] TRACE [--server CMD | --connect PATH]
 * [--timeout MS]: prints the trace, or plays its client side against a
 * server (harness/replay.h); exit 0 same, 1 the server behaved otherwise,
 * 2 no replay */
static int replay_main(int argc, char **argv)
{
    const char *trace = NULL, *server = NULL, *connect = NULL;
    bool print = false;
    int timeout = VFU_REPLAY_DEFAULT_TIMEOUT_MS;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        bool val = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(replay_usage, stdout);
            return 0;
        }
        if (!strcmp(a, "--print")) print = true;
        else if (!strcmp(a, "--server") && val) server = argv[++i];
        else if (!strcmp(a, "--connect") && val) connect = argv[++i];
        else if (!strcmp(a, "--timeout") && val) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > VFU_RUNNER_MAX_TIMEOUT_MS)
                return bad_usage("--timeout %s: milliseconds from 1 to 600000", argv[i]);
            timeout = (int)v;
        } else if (a[0] != '-' && !trace) trace = a;
        else return bad_usage("replay: unexpected '%s'", a);
    }
    if (!trace || (server && connect) || (print && (server || connect))) {
        fprintf(stderr, "%.*s(try vfu-conform replay --help)\n", (int)strcspn(replay_usage, "\n") + 1, replay_usage);
        return 2;
    }
    char why[512];
    if (!server && !connect) {
        int r = vfr_replay_print(trace, stdout, why, sizeof why);
        if (r != 0) fprintf(stderr, "vfu-conform: %s: %s\n", trace, why);
        return r ? 2 : 0;
    }
    /* against a server: started as a run would start it, or reached; a
     * signal stops it cleanly (lib/runtime/stopsig.h) */
    if (!vfu_stopsig_install(true)) {
        fprintf(stderr, "vfu-conform: cannot install signal handlers: %s\n", strerror(errno));
        return 2;
    }
    struct vfu_proc proc;
    memset(&proc, 0, sizeof proc);
    char dir[] = "/tmp/vfu-replay-XXXXXX", sock[64];
    struct vfu_error err;
    int rc = 2;
    if (server) {
        if (!mkdtemp(dir)) {
            fprintf(stderr, "vfu-conform: %s\n", strerror(errno));
            return 2;
        }
        snprintf(sock, sizeof sock, "%s/sock", dir);
        vfu_stopsig_add_path(dir, true);
        vfu_stopsig_add_path(sock, false);
        struct vfu_proc_spec spec = {.cmd = server, .socket_path = sock};
        if (!vfu_proc_start(&proc, &spec, &err)) {
            fprintf(stderr, "vfu-conform: the server would not start: %s\n", vfu_proc_why(&proc));
            goto out;
        }
        connect = sock;
    }
    int fd = vfu_connect(connect, timeout, &err);
    struct vfu_conn c;
    struct vfu_limits lim;
    vfu_limits_default(&lim);
    lim.max_msg_size = VFU_CLIENT_RX_CAP;   /* what the recording client could take */
    if (fd < 0 || !vfu_conn_init(&c, fd, &lim, &err)) {
        char e[256];
        vfu_error_str(&err, e, sizeof e);
        fprintf(stderr, "vfu-conform: cannot connect to %s: %s\n", connect, e);
        goto out;
    }
    struct vfu_replay_opts ro = {.timeout_ms = timeout, .proc = server ? &proc : NULL};
    rc = vfr_replay_exit_status(vfr_replay_file(trace, &c, stdout, &ro));
    vfu_conn_close(&c);
out:
    if (server) {
        vfu_proc_stop(&proc, 2000);
        vfu_proc_free(&proc);
        unlink(sock);
        rmdir(dir);
        vfu_stopsig_del_path(sock);
        vfu_stopsig_del_path(dir);
    }
    if (vfu_stopsig_exit_status()) {
        fprintf(stderr, "vfu-conform: replay interrupted by %s\n", vfu_stopsig_name());
        rc = vfu_stopsig_exit_status();
    }
    return rc;
}

/* ----------------------------------------------------------------- main */

/* --client: the client's checks and personalities, with the same reports
 * and exit statuses as a server run */
static int client_main(const struct opts *o)
{
    if (o->list) {
        vfh_cj_list(stdout);
        return 0;
    }
    char *xtext = NULL;
    const char **xpats = NULL;
    size_t nx = 0;
    if (o->xfail_file && !read_xfail(o->xfail_file, &xtext, &xpats, &nx)) return 2;
    int rc = 2;
    FILE *out = stdout;
    if (o->trace_all && !o->trace_dir) {
        fprintf(stderr, "vfu-conform: --trace-all needs --trace-dir DIR (try --help)\n");
        goto xout;
    }
    struct stat stt;
    if (o->trace_dir && stat(o->trace_dir, &stt) < 0 && mkdir(o->trace_dir, 0755) < 0) {
        fprintf(stderr, "vfu-conform: --trace-dir %s: %s\n", o->trace_dir, strerror(errno));
        goto xout;
    }
    if (o->output && !(out = fopen(o->output, "we"))) {
        fprintf(stderr, "vfu-conform: --output %s: %s\n", o->output, strerror(errno));
        goto xout;
    }
    if (!vfu_stopsig_install(true)) {
        fprintf(stderr, "vfu-conform: cannot install signal handlers: %s\n", strerror(errno));
        if (out != stdout) fclose(out);
        goto xout;
    }
    if (o->max_seconds) vfu_stopsig_deadline(o->max_seconds);
    struct cj_run_opts co = {
        .client_cmd = o->client, .timeout_ms = o->timeout_ms, .idle_ms = o->client_idle_ms,
        .echo_output = o->server_output, .tool = TOOL, .only = o->only, .skip = o->skip,
        .nonly = o->nonly, .nskip = o->nskip, .xfail = xpats, .nxfail = nx,
        .trace_dir = o->trace_dir, .trace_all = o->trace_all,
    };
    struct vfu_run run;
    char why[4096];
    if (!vfh_cj_run(&co, &run, why, sizeof why)) {
        fprintf(stderr, "vfu-conform: %s\n", why);
        if (out != stdout) fclose(out);
        if (vfu_stopsig_exit_status()) rc = vfu_stopsig_exit_status();
        goto xout;
    }
    /* the HTML report of a client run: verdicts, reasons, the client's
     * output and the kept traces; no spec-coverage matrix (that is made
     * from the traces of server scenarios) */
    struct vfu_html_extra hx = {.speccov = NULL};
    struct vfu_report_opts rop = {.color = VFU_COLOR_AUTO, .verbose = o->verbose, .html = &hx};
    int w = vfr_report_write(o->format, out, &run, &rop);
    if (fflush(out) != 0) w = -1;
    if (out != stdout && fclose(out) != 0) w = -1;
    if (w < 0) fprintf(stderr, "vfu-conform: writing the report: %s\n", strerror(errno));
    if (o->html && vfr_report_write_file(o->html, VFU_REPORT_HTML, &run, &rop) < 0) {
        fprintf(stderr, "vfu-conform: --html %s: %s\n", o->html, strerror(errno));
        w = -1;
    }
    rc = w < 0 ? 2 : vfr_run_exit_status(&run);
    if (run.stop == VFU_RUN_INTERRUPTED) {
        fprintf(stderr, "vfu-conform: %s; the report holds what ran\n", run.stop_reason);
        rc = vfu_stopsig_exit_status() ? vfu_stopsig_exit_status() : rc;
    }
    vfh_run_free(&run);
xout:
    free(xpats);
    free(xtext);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "replay")) return replay_main(argc, argv);
    if (argc > 1 && !strcmp(argv[1], "report")) return vfr_report_main(argc, argv);
    struct opts o;
    int st = parse_args(argc, argv, &o);
    if (st >= 0) return st;
    if (o.client) return client_main(&o);

    char dflt[PATH_MAX];
    if (!o.nscenarios) {
        if (!default_scenarios(dflt, sizeof dflt)) {
            fprintf(stderr, "vfu-conform: no bundled scenarios found beside the program; give --scenarios\n");
            return 2;
        }
        o.scenarios[o.nscenarios++] = dflt;
    }
    static char shown[sizeof o.scenarios / sizeof o.scenarios[0]][PATH_MAX];
    for (unsigned i = 0; i < o.nscenarios; i++)
        if (display_path(o.scenarios[i], shown[i], sizeof shown[i])) o.scenarios[i] = shown[i];
    struct scn_set set;
    struct scn_errors errs = {0};
    vfh_scn_set_init(&set);
    bool loaded = true;
    for (unsigned i = 0; i < o.nscenarios; i++) loaded = vfh_scn_load_path(&set, o.scenarios[i], &errs) && loaded;
    for (unsigned i = 0; i < errs.n; i++) fprintf(stderr, "%s\n", errs.msg[i]);
    if (errs.total > errs.n) fprintf(stderr, "... and %u more errors\n", errs.total - errs.n);
    vfh_scn_errors_free(&errs);
    if (!loaded) {
        vfh_scn_set_free(&set);
        return 2;
    }
    const struct scn_scenario **list = calloc(set.n ? set.n : 1, sizeof *list);
    if (!list) {
        vfh_scn_set_free(&set);
        return 2;
    }
    size_t n = 0;
    for (size_t i = 0; i < set.n; i++)
        if (selected(&o, set.v[i].id)) list[n++] = &set.v[i];
    int rc = 2;
    struct genctx gen = {.o = &o, .files = &set, .listing = o.list};
    vfh_scn_set_init(&gen.set);
    if (o.list) {
        for (size_t i = 0; i < n; i++)
            printf("%-48s %-6s %s\n", list[i]->id, vfr_level_name(list[i]->level), list[i]->section);
        /* the generated ones exist for a device: probed when one is named */
        if ((o.server || o.connect) && !o.no_gen) {
            struct vfu_runner_opts lo = {.server_cmd = o.server, .connect_path = o.connect, .timeout_ms = o.timeout_ms,
                                         .generate = generate, .generate_ctx = &gen};
            struct vfu_run lrun;
            char why[4096];
            if (!vfh_runner_run(list, 0, &lo, &lrun, why, sizeof why)) {
                fprintf(stderr, "vfu-conform: %s\n", why);
                goto out;
            }
            vfh_run_free(&lrun);
            for (size_t i = 0; i < gen.n; i++)
                printf("%-48s %-6s %s\n", gen.list[i]->id, vfr_level_name(gen.list[i]->level), gen.list[i]->section);
        } else if (!o.no_gen) {
            fprintf(stderr, "vfu-conform: the boundary scenarios generated for a device are listed with --server or --connect\n");
        }
        rc = 0;
        goto out;
    }
    /* generated ones may still be selected: only after the probe is it known */
    if (!n && o.no_gen) {
        fprintf(stderr, "vfu-conform: no scenario selected\n");
        goto out;
    }
    char *xtext = NULL;
    const char **xpats = NULL;
    size_t nx = 0;
    if (o.xfail_file && !read_xfail(o.xfail_file, &xtext, &xpats, &nx)) goto out;
    if (o.trace_all && !o.trace_dir) {
        fprintf(stderr, "vfu-conform: --trace-all needs --trace-dir DIR (try --help)\n");
        rc = 2;
        goto out;
    }
    /* the HTML report and the spec coverage read every scenario's trace */
    bool want_cov = o.html || o.speccov || o.format == VFU_REPORT_HTML;
    char tmp_traces[] = "/tmp/vfu-conform-traces-XXXXXX";
    bool own_traces = false;
    if (want_cov && !o.trace_dir) {
        if (!mkdtemp(tmp_traces)) {
            fprintf(stderr, "vfu-conform: a directory for the traces: %s\n", strerror(errno));
            goto xout;
        }
        o.trace_dir = tmp_traces;
        own_traces = true;
    }
    if (want_cov) o.trace_all = true;
    if (o.trace_dir) {
        struct stat stt;
        if (stat(o.trace_dir, &stt) < 0 && mkdir(o.trace_dir, 0755) < 0) {
            fprintf(stderr, "vfu-conform: --trace-dir %s: %s\n", o.trace_dir, strerror(errno));
            goto xout;
        }
    }
    FILE *out = stdout;
    if (o.output && !(out = fopen(o.output, "we"))) {
        fprintf(stderr, "vfu-conform: --output %s: %s\n", o.output, strerror(errno));
        goto xout;
    }
    struct progress prog = {isatty(STDERR_FILENO) == 1, 0};
    struct vfu_runner_opts ro = {
        .server_cmd = o.server, .connect_path = o.connect, .timeout_ms = o.timeout_ms,
        .trace_dir = o.trace_dir, .trace_all = o.trace_all, .tool = TOOL, .xfail = xpats, .nxfail = nx,
        .echo_server_output = o.server_output, .fail_fast = o.fail_fast, .progress = progress,
        .progress_ctx = &prog, .max_seconds = o.max_seconds,
        .generate = o.no_gen ? NULL : generate, .generate_ctx = &gen,
    };
    /* SIGINT, SIGTERM, SIGHUP: the run stops, the server with it, and the
     * report of what ran is written, marked as interrupted */
    if (!vfu_stopsig_install(true)) {
        fprintf(stderr, "vfu-conform: cannot install signal handlers: %s\n", strerror(errno));
        if (out != stdout) fclose(out);
        goto xout;
    }
    struct vfu_run run;
    char why[4096];
    double started = (double)time(NULL);
    if (!vfh_runner_run(list, n, &ro, &run, why, sizeof why)) {
        if (prog.on) fprintf(stderr, "\r\033[K");
        fprintf(stderr, "vfu-conform: %s\n", why);
        if (out != stdout) fclose(out);
        if (vfu_stopsig_exit_status()) rc = vfu_stopsig_exit_status();
        goto xout;
    }
    if (prog.on) fprintf(stderr, "\r\033[K");
    if (!run.n && run.stop == VFU_RUN_COMPLETE) {
        fprintf(stderr, "vfu-conform: no scenario selected\n");
        vfh_run_free(&run);
        if (out != stdout) fclose(out);
        goto xout;
    }
    run.tool_version = TOOL;
    run.started = started;
    vfr_run_tally(&run);
    struct vfu_speccov sc;
    bool have_sc = want_cov && vfr_report_speccov(&run, &sc);
    struct vfu_html_extra hx = {.speccov = have_sc ? &sc : NULL};
    struct vfu_report_opts rop = {.color = VFU_COLOR_AUTO, .verbose = o.verbose, .html = &hx};
    int w = vfr_report_write(o.format, out, &run, &rop);
    if (fflush(out) != 0) w = -1;
    if (out != stdout && fclose(out) != 0) w = -1;
    if (w < 0) fprintf(stderr, "vfu-conform: writing the report: %s\n", strerror(errno));
    if (o.html && vfr_report_write_file(o.html, VFU_REPORT_HTML, &run, &rop) < 0) w = -1;
    if (o.speccov && have_sc && vfr_speccov_write_file(o.speccov, &sc) < 0) w = -1;
    if (want_cov && !have_sc) {
        fprintf(stderr, "vfu-conform: spec coverage: out of memory\n");
        w = -1;
    }
    if (have_sc) vfu_speccov_free(&sc);
    /* the temporary traces are in the report now; the paths would dangle */
    if (own_traces) {
        for (size_t i = 0; i < run.n; i++)
            if (run.results[i].trace_path) {
                unlink(run.results[i].trace_path);
                free(run.results[i].trace_path);
                run.results[i].trace_path = NULL;
            }
        if (rmdir(tmp_traces) < 0) fprintf(stderr, "vfu-conform: %s: %s\n", tmp_traces, strerror(errno));
    }
    rc = w < 0 ? 2 : vfr_run_exit_status(&run);
    if (run.stop == VFU_RUN_INTERRUPTED) {
        fprintf(stderr, "vfu-conform: %s; the report holds what ran\n", run.stop_reason);
        rc = vfu_stopsig_exit_status();
    } else if (run.stop != VFU_RUN_COMPLETE) {
        fprintf(stderr, "vfu-conform: run stopped (%s): %s\n", vfr_run_stop_name(run.stop), run.stop_reason);
    }
    vfh_run_free(&run);
xout:
    free(xpats);
    free(xtext);
out:
    free(list);
    free(gen.list);
    vfh_scn_set_free(&gen.set);
    vfh_scn_set_free(&set);
    return rc;
}
