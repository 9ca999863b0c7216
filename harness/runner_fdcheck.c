/* Descriptors a server keeps after a session: the server's open fds are
 * counted (from /proc) before each scenario connects and again once its
 * session is over.  On a client's disconnection the server closes every
 * descriptor the client passed (the spec's Client Disconnection), and its
 * own per-session ones go with the socket, so the count must come back to
 * where it was.  One that stays above is a leak, blamed on the scenario
 * whose session left it.
 *
 * The count after a session is taken once the server has closed its end of
 * the connection (sess_close waits for that), so it is rarely waited for.
 * The baseline is only ever taken from a server that has served a whole
 * session since it started: a fresh process may still be opening what it
 * keeps, so the first scenario after a restart is not judged here.  A server
 * restarted meanwhile, or one that has died, is not judged here.  With
 * --connect the server's pid comes from SO_PEERCRED; when /proc does not
 * show its fds (another user's process), the checks are off and the
 * report says so. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "runner_int.h"

/* how long a server may take to close what a session left, once it has
 * closed the connection */
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

static int count(struct runner *R)
{
    if (R->server) return vfu_proc_fd_count(&R->proc);
    return R->peer_pid > 0 ? vfu_proc_pid_fd_count(R->peer_pid) : -1;
}

void vfh_runner_fdcheck_peer(struct runner *R, int sock)
{
    if (R->server || R->peer_pid || R->fd_off[0]) return;
    struct ucred cr;
    socklen_t len = sizeof cr;
    if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || cr.pid <= 0) {
        snprintf(R->fd_off, sizeof R->fd_off, "the server's pid is unknown (SO_PEERCRED: %s)",
                 errno ? strerror(errno) : "no pid");
    } else if (vfu_proc_pid_fd_count(cr.pid) < 0) {
        snprintf(R->fd_off, sizeof R->fd_off, "/proc/%d/fd of the server (pid %d, by SO_PEERCRED) cannot be read: %s",
                 (int)cr.pid, (int)cr.pid, strerror(errno));
    } else {
        R->peer_pid = cr.pid;
        return;
    }
    fprintf(stderr, "vfu-conform: server fd checks off: %s\n", R->fd_off);
}

void vfh_runner_fdcheck_begin(struct runner *R)
{
    R->fd_armed = false;
    /* a server that exits after each client, or one not yet through a
     * whole session, has no baseline */
    if (R->one_shot || R->fresh) return;
    int n = count(R);
    if (n < 0) return;
    pid_t pid = vfh_runner_target_pid(R);
    /* the lower of what the last scenario left and what is open now: a
     * close still under way when we count must not raise the bar */
    if (pid != R->fd_pid || R->fd_base < 0 || n < R->fd_base) R->fd_base = n;
    R->fd_pid = pid;
    R->fd_armed = true;
}

void vfh_runner_fdcheck_end(struct runner *R, struct outcome *o)
{
    if (!R->fd_armed) return;
    R->fd_armed = false;
    if (vfh_runner_target_pid(R) != R->fd_pid) return;
    int n = -1;
    /* the server has closed the connection (sess_close): what it still
     * holds above the bar is given a little while, with growing naps */
    for (int waited = 0, nap = 1;; waited += nap, nap = nap < 32 ? nap * 2 : nap) {
        if (vfh_runner_target_pid(R) != R->fd_pid) return;
        n = count(R);
        if (n < 0 || n <= R->fd_base || waited >= settle_ms(R)) break;
        sleep_ms(nap);
    }
    if (n < 0) return;
    int base = R->fd_base;
    R->fd_base = n;
    if (n <= base || o->verdict != VFU_PASS) return;
    vfh_runner_out_set(o, VFU_FAIL, VFU_FK_MISMATCH,
            "after the session the server holds %d file descriptor%s more than before it (%d, was %d): "
            "the spec asks that a client's disconnection close what it passed (SHOULD)",
            n - base, n - base == 1 ? "" : "s", n, base);
}
