/* srv_host.h: one connection served by srv_loop_run in its own thread. */
#include "srv_host.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void *serve(void *arg)
{
    struct srv_host *h = arg;
    /* stop signals and SIGCHLD belong to the tool's main thread */
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    srv_loop_run(&h->cfg);
    atomic_store(&h->done, true);
    return NULL;
}

bool srv_host_start(struct srv_host *h, int cfd, const struct srv_opts *o, int timeout_ms,
                    const struct srv_loop_tap *tap)
{
    memset(&h->cfg, 0, sizeof h->cfg);
    h->cfg.opt = *o;
    h->cfg.lfd = -1;
    h->cfg.cfd = cfd;
    h->cfg.once = true;
    h->cfg.timeout_ms = timeout_ms;
    h->cfg.tap = tap;
    atomic_store(&h->done, false);
    h->started = false;
    h->cfd_dup = fcntl(cfd, F_DUPFD_CLOEXEC, 3);
    if (pthread_create(&h->th, NULL, serve, h)) {
        close(cfd);
        if (h->cfd_dup >= 0) close(h->cfd_dup);
        h->cfd_dup = -1;
        return false;
    }
    h->started = true;
    return true;
}

bool srv_host_done(struct srv_host *h)
{
    return !h->started || atomic_load(&h->done);
}

void srv_host_shut(struct srv_host *h)
{
    if (h->cfd_dup >= 0) shutdown(h->cfd_dup, SHUT_RDWR);
}

void srv_host_join(struct srv_host *h)
{
    if (h->started) pthread_join(h->th, NULL);
    h->started = false;
    if (h->cfd_dup >= 0) close(h->cfd_dup);
    h->cfd_dup = -1;
}
