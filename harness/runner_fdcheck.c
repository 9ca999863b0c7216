/* Descriptors a server keeps after a session: with --server, the server's
 * open fds are counted (lib/proc) before each scenario connects and again
 * once its session is over.  On a client's disconnection the server closes
 * every descriptor the client passed (the spec's Client Disconnection), and
 * its own per-session ones go with the socket, so the count must come back
 * to where it was.  One that stays above is a leak, blamed on the scenario
 * whose session left it.  A server restarted meanwhile, or one that has
 * died, is not judged here. */
#include <time.h>

#include "runner_int.h"

/* how long a server may take to notice the disconnection and close */
static int settle_ms(const struct runner *R)
{
    int ms = R->timeout_ms / 6;
    return ms < 100 ? 100 : ms > 1000 ? 1000 : ms;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void fdcheck_begin(struct runner *R)
{
    R->fd_armed = false;
    if (!R->server) return;
    int n = vfu_proc_fd_count(&R->proc);
    if (n < 0) return;
    pid_t pid = vfu_proc_pid(&R->proc);
    /* the lower of what the last scenario left and what is open now: a
     * close still under way when we count must not raise the bar */
    if (pid != R->fd_pid || R->fd_base < 0 || n < R->fd_base) R->fd_base = n;
    R->fd_pid = pid;
    R->fd_armed = true;
}

void fdcheck_end(struct runner *R, struct outcome *o)
{
    if (!R->fd_armed) return;
    R->fd_armed = false;
    if (vfu_proc_pid(&R->proc) != R->fd_pid) return;
    int n = -1;
    for (int waited = 0;; waited += 5) {
        if (vfu_proc_poll(&R->proc) != VFU_PROC_RUNNING) return;
        n = vfu_proc_fd_count(&R->proc);
        if (n < 0 || n <= R->fd_base || waited >= settle_ms(R)) break;
        sleep_ms(5);
    }
    if (n < 0) return;
    int base = R->fd_base;
    R->fd_base = n;
    if (n <= base || o->verdict != VFU_PASS) return;
    out_set(o, VFU_FAIL, VFU_FK_MISMATCH,
            "after the session the server holds %d file descriptor%s more than before it (%d, was %d): "
            "the spec asks that a client's disconnection close what it passed (SHOULD)",
            n - base, n - base == 1 ? "" : "s", n, base);
}
