/* vfu-refserver: the reference vfio-user server program.  Follows the
 * spec's backend program conventions: --socket-path or --fd, no daemon,
 * SIGTERM honoured (the socket file goes with us), logs on stderr. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "srv_loop.h"
#include "srv_options.h"
#include "vfu_version.h"
#include "vfu_transport.h"

static const char *sock_path;

/* only async-signal-safe calls: the socket file, then out.  A coverage
 * build (make coverage: -DVFU_COVERAGE) leaves through exit() instead, the
 * one way gcov writes its counters; exit() is not async-signal-safe, which
 * a measuring build accepts: should it ever hang, the stop's SIGKILL ends
 * it and reports/vfu-coverage counts that process as lost. */
static void on_term(int sig)
{
    (void)sig;
    if (sock_path) unlink(sock_path);
#ifdef VFU_COVERAGE
    exit(0);
#else
    _exit(0);
#endif
}

static void signals(const struct srv_opts *o)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    if (srv_fault_in(o->faults, FAULT_SIGTERM_IGNORED)) sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    srv_sigbus_guard_install();
}

/* --fd: a listening socket to accept from, or a connected one to serve */
static int classify_fd(int fd, struct srv_loop_cfg *cfg)
{
    struct stat st;
    int listening = 0;
    socklen_t len = sizeof listening;
    if (fstat(fd, &st) < 0) {
        fprintf(stderr, "vfu-refserver: --fd=%d: %s\n", fd, strerror(errno));
        return -1;
    }
    if (!S_ISSOCK(st.st_mode) || getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0) {
        fprintf(stderr, "vfu-refserver: --fd=%d is not a socket\n", fd);
        return -1;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    if (listening) {
        /* accept after poll must not block on a connection that went away */
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        cfg->lfd = fd;
    } else {
        cfg->cfd = fd;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct srv_cmdline cl;
    char msg[256];
    switch (srv_options_parse(argc, argv, &cl, msg, sizeof msg)) {
    case SRV_OPT_HELP:
        fputs(srv_usage, stdout);
        return 0;
    case SRV_OPT_VERSION:
        puts("vfu-refserver " VFU_VERSION);
        return 0;
    case SRV_OPT_FAULT_LIST:
        srv_fault_print(stdout);
        return 0;
    case SRV_OPT_ERROR:
        fprintf(stderr, "vfu-refserver: %s (try --help)\n", msg);
        if (cl.bad_fault) {
            fputs("seeded faults:\n", stderr);
            srv_fault_print(stderr);
        }
        return 2;
    case SRV_OPT_RUN:
        break;
    }
    struct srv_loop_cfg cfg = {.opt = cl.opt, .lfd = -1, .cfd = -1, .once = cl.once,
                               .verbose = cl.verbose, .timeout_ms = 30000};
    if (cl.fd >= 0) {
        if (classify_fd(cl.fd, &cfg) < 0) return 2;
    } else {
        struct vfu_error err;
        cfg.lfd = vfu_listen(cl.socket_path, &err);
        if (cfg.lfd < 0) {
            fprintf(stderr, "vfu-refserver: cannot listen on %s: %s\n", cl.socket_path,
                    strerror(err.sys_errno));
            return 1;
        }
        sock_path = cl.socket_path;
    }
    signals(&cl.opt);
    /* a run with seeded faults must never pass for the reference */
    for (int f = 0; f < SRV_FAULT_COUNT; f++)
        if (srv_fault_in(cl.opt.faults, (enum srv_fault_id)f))
            fprintf(stderr, "vfu-refserver: seeded fault %s: %s\n", srv_fault_table[f].name,
                    srv_fault_table[f].what);
    if (cl.verbose)
        fprintf(stderr, "vfu-refserver: serving %s\n", sock_path ? sock_path : "an inherited socket");
    int rc = srv_loop_run(&cfg);
    if (sock_path) unlink(sock_path);
    return rc;
}
