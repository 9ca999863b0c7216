/* Command line parsing: every value is checked whole (no trailing junk, no
 * overflow, within its range) so that a typo is an error, never a default. */
#include "srv_options.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char srv_usage[] =
    "usage: vfu-refserver (--socket-path=PATH | --fd=N) [options]\n"
    "\n"
    "The reference vfio-user server: a toy PCI device with a DMA engine.\n"
    "\n"
    "  --socket-path=PATH        listen on a new UNIX socket at PATH (removed at exit)\n"
    "  --fd=N                    use inherited fd N: a listening UNIX socket, or one\n"
    "                            already connected to a client (served, then exit)\n"
    "  --once                    exit after the first client disconnects\n"
    "  -v, --verbose             log every message, one line each, on stderr\n"
    "  --max-data-xfer-size=N    advertised max_data_xfer_size (default 1048576)\n"
    "  --max-msg-fds=N           advertised max_msg_fds (default 8, at most 253)\n"
    "  --max-dma-maps=N          advertised max_dma_maps (default 64)\n"
    "  --pgsizes=N               advertised pgsizes (default 4096)\n"
    "  --twin-socket=on|off      offer a twin socket when asked (default on)\n"
    "  --write-multiple=on|off   offer REGION_WRITE_MULTI (default on)\n"
    "  --migration=on|off        migration and dirty logging features (default on)\n"
    "  --dma-mmap=on|off         map the fds of DMA_MAP (default on); off: reach\n"
    "                            every window with DMA_READ / DMA_WRITE messages\n"
    "  --dma-probe               read (and write back) each new DMA window while\n"
    "                            the client's next request waits for its reply\n"
    "  --fault=NAME              break one rule of the spec on purpose (repeatable);\n"
    "                            --fault=list prints the seeded faults\n"
    "  -h, --help                this text\n"
    "  --version                 the program's version\n";

static bool parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *v)
{
    if (!*s || *s == '-' || *s == '+' || *s == ' ') return false;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 0);
    if (errno || *end || x < lo || x > hi) return false;
    *v = x;
    return true;
}

static bool parse_bool(const char *s, bool *v)
{
    if (!strcmp(s, "on")) { *v = true; return true; }
    if (!strcmp(s, "off")) { *v = false; return true; }
    return false;
}

/* "--name=value" or "--name value"; NULL when arg is not --name */
static const char *value_of(int argc, char **argv, int *i, const char *name, bool *missing)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n)) return NULL;
    if (a[n] == '=') return a + n + 1;
    if (a[n]) return NULL;
    if (*i + 1 >= argc) { *missing = true; return NULL; }
    return argv[++*i];
}

enum srv_opt_result srv_options_parse(int argc, char **argv, struct srv_cmdline *cl, char *msg,
                                      size_t n)
{
    memset(cl, 0, sizeof *cl);
    srv_opts_default(&cl->opt);
    cl->fd = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        bool missing = false;
        uint64_t x;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return SRV_OPT_HELP;
        if (!strcmp(a, "--version")) return SRV_OPT_VERSION;
        if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) { cl->verbose++; continue; }
        if (!strcmp(a, "--once")) { cl->once = true; continue; }
        if (!strcmp(a, "--dma-probe")) { cl->opt.dma_probe = true; continue; }
#define VALUE(name) ((v = value_of(argc, argv, &i, name, &missing)) != NULL || missing)
#define BAD(...) do { snprintf(msg, n, __VA_ARGS__); return SRV_OPT_ERROR; } while (0)
        if (VALUE("--socket-path")) {
            if (missing || !*v) BAD("--socket-path needs a path");
            if (cl->socket_path) BAD("--socket-path given twice");
            cl->socket_path = v;
        } else if (VALUE("--fd")) {
            if (missing || !parse_u64(v, 0, INT32_MAX, &x)) BAD("--fd needs a file descriptor number");
            if (cl->fd >= 0) BAD("--fd given twice");
            cl->fd = (int)x;
        } else if (VALUE("--max-data-xfer-size")) {
            /* at least one u64 register access; at most what fits a u32 msg_size */
            if (missing || !parse_u64(v, 8, 64u << 20, &x)) BAD("--max-data-xfer-size needs 8..67108864");
            cl->opt.max_data_xfer_size = x;
        } else if (VALUE("--max-msg-fds")) {
            if (missing || !parse_u64(v, 0, 253, &x)) BAD("--max-msg-fds needs 0..253");
            cl->opt.max_msg_fds = (uint32_t)x;
        } else if (VALUE("--max-dma-maps")) {
            if (missing || !parse_u64(v, 1, 1u << 20, &x)) BAD("--max-dma-maps needs 1..1048576");
            cl->opt.max_dma_maps = (uint32_t)x;
        } else if (VALUE("--pgsizes")) {
            /* the smallest page size sets DMA_MAP alignment: not below 4 KiB */
            if (missing || !parse_u64(v, 1, UINT64_MAX, &x) || (x & -x) < 4096)
                BAD("--pgsizes needs a mask of page sizes, the smallest at least 4096");
            cl->opt.pgsizes = x;
        } else if (VALUE("--twin-socket")) {
            if (missing || !parse_bool(v, &cl->opt.twin_socket)) BAD("--twin-socket needs on or off");
        } else if (VALUE("--write-multiple")) {
            if (missing || !parse_bool(v, &cl->opt.write_multiple)) BAD("--write-multiple needs on or off");
        } else if (VALUE("--dma-mmap")) {
            if (missing || !parse_bool(v, &cl->opt.dma_mmap)) BAD("--dma-mmap needs on or off");
        } else if (VALUE("--migration")) {
            if (missing || !parse_bool(v, &cl->opt.migration)) BAD("--migration needs on or off");
        } else if (VALUE("--fault")) {
            if (missing || !*v) BAD("--fault needs a name (--fault=list lists them)");
            if (!strcmp(v, "list")) return SRV_OPT_FAULT_LIST;
            int f = srv_fault_lookup(v);
            if (f < 0) {
                cl->bad_fault = true;
                BAD("unknown fault '%s'", v);
            }
            cl->opt.faults |= (srv_fault_set)1 << f;
        } else {
            BAD("unknown argument '%s'", a);
        }
#undef VALUE
#undef BAD
    }
    if (cl->socket_path && cl->fd >= 0) {
        snprintf(msg, n, "--socket-path and --fd exclude each other");
        return SRV_OPT_ERROR;
    }
    if (!cl->socket_path && cl->fd < 0) {
        snprintf(msg, n, "one of --socket-path=PATH or --fd=N is needed");
        return SRV_OPT_ERROR;
    }
    return SRV_OPT_RUN;
}
