/* The server under test: started and watched through lib/proc (--server),
 * or merely reached by its socket path (--connect).  When a step fails for
 * want of an answer, the process tells what really happened: a crash, an
 * exit, or a hang that SIGTERM does not end. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner_int.h"
#include "stopsig.h"

/* how long a server that closed a connection may take to be seen dead,
 * when /proc cannot say whether it is exiting */
#define DEATH_WAIT_MS 200

/* how long the server has after SIGTERM, and a server that is going away
 * (it exits after each client) has to end */
static int grace_ms(const struct runner *R)
{
    int g = R->timeout_ms / 2;
    return g < 200 ? 200 : g > 5000 ? 5000 : g;
}

void vfh_runner_stop(struct runner *R, enum vfu_run_stop k, const char *fmt, ...)
{
    if (R->stop != VFU_RUN_COMPLETE) return;
    R->stop = k;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(R->stop_reason, sizeof R->stop_reason, fmt, ap);
    va_end(ap);
}

static void remove_dir(struct runner *R)
{
    vfu_sockdir_remove(&R->sd);
}

bool vfh_runner_target_start(struct runner *R, char *why, size_t n)
{
    if (!R->server) {
        /* looked at, not connected to: a connection would be a session */
        struct stat st;
        R->path = R->o->connect_path;
        int e = stat(R->path, &st) < 0 ? errno : 0;
        if (e || !S_ISSOCK(st.st_mode)) {
            snprintf(why, n, "cannot reach %s: %s", R->path, e ? strerror(e) : "not a socket");
            return false;
        }
        return true;
    }
    if (!vfu_sockdir_make(&R->sd, "vfu-conform")) {
        snprintf(why, n, "cannot make a directory for the socket: %s", strerror(errno));
        return false;
    }
    R->path = R->sd.sock;
    memset(&R->spec, 0, sizeof R->spec);
    R->spec.cmd = R->o->server_cmd;
    R->spec.socket_path = R->sd.sock;
    R->spec.sock = VFU_PROC_SOCK_PATH;
    R->spec.ready = VFU_PROC_READY_LISTENING;
    R->spec.startup_timeout_ms = R->timeout_ms > VFU_PROC_DEFAULT_STARTUP_MS ? R->timeout_ms : VFU_PROC_DEFAULT_STARTUP_MS;
    R->spec.stderr_cap = 64 * 1024;
    R->spec.echo_stderr = R->o->echo_server_output;
    /* our stdout may carry the report */
    R->spec.stdout_mode = VFU_PROC_STDOUT_CAPTURE;
    memset(&R->proc, 0, sizeof R->proc);
    struct vfu_error err;
    if (!vfu_proc_start(&R->proc, &R->spec, &err)) {
        char st[200] = "";
        if (vfu_proc_status(&R->proc)->state != VFU_PROC_NONE)
            vfu_proc_status_str(vfu_proc_status(&R->proc), st, sizeof st);
        char *tail = vfh_runner_target_stderr_tail(R);
        snprintf(why, n, "the server would not start: %s%s%s%s%s", vfu_proc_why(&R->proc), *st ? " (" : "", st,
                 *st ? ")" : "", tail ? "\n--- its output ---\n" : "");
        if (tail) {
            size_t l = strlen(why);
            snprintf(why + l, n - l, "%s", tail);
        }
        free(tail);
        vfu_proc_free(&R->proc);
        remove_dir(R);
        return false;
    }
    R->fresh = true;
    return true;
}

void vfh_runner_target_stop(struct runner *R)
{
    if (!R->server) return;
    vfu_proc_stop(&R->proc, grace_ms(R));
    vfu_proc_free(&R->proc);
    remove_dir(R);
}

pid_t vfh_runner_target_pid(struct runner *R)
{
    if (!R->server) return R->peer_pid;
    return R->proc.active && vfu_proc_poll(&R->proc) == VFU_PROC_RUNNING ? vfu_proc_pid(&R->proc) : 0;
}

char *vfh_runner_target_stderr_tail(struct runner *R)
{
    if (!R->server) return NULL;
    size_t len;
    const char *t = vfu_proc_stderr(&R->proc, &len);
    if (!t || !len) return NULL;
    if (len > VFU_RUNNER_STDERR_TAIL) {
        t += len - VFU_RUNNER_STDERR_TAIL;
        /* from the start of a line */
        const char *nl = memchr(t, '\n', VFU_RUNNER_STDERR_TAIL);
        if (nl && nl[1]) t = nl + 1;
    }
    return strdup(t);
}

bool vfh_runner_target_restart(struct runner *R, struct outcome *o)
{
    if (R->failed_starts >= VFU_RUNNER_MAX_FAILED_STARTS) {
        vfh_runner_out_set(o, VFU_ERROR, VFU_FK_NONE, "the server did not start %d times in a row; not tried again",
                VFU_RUNNER_MAX_FAILED_STARTS);
        return false;
    }
    struct vfu_error err;
    if (!vfu_proc_restart(&R->proc, grace_ms(R), &err)) {
        R->failed_starts++;
        vfh_runner_out_set(o, VFU_ERROR, VFU_FK_NONE, "the server would not start again: %s", vfu_proc_why(&R->proc));
        return false;
    }
    R->failed_starts = 0;
    R->server_dead_seen = false;
    R->fresh = true;
    return true;
}

bool vfh_runner_target_terminate(struct runner *R, struct outcome *o)
{
    if (!R->server || !R->proc.active || vfu_proc_poll(&R->proc) != VFU_PROC_RUNNING) return true;
    const struct vfu_proc_status *st = vfu_proc_stop(&R->proc, grace_ms(R));
    if (st->kill != VFU_PROC_KILL_HANG) return true;
    char what[256];
    vfu_proc_status_str(st, what, sizeof what);
    vfh_runner_out_set(o, VFU_FAIL, VFU_FK_HANG, "the server must honour SIGTERM, but it %s", what);
    R->server_dead_seen = true;
    return false;
}

bool vfh_runner_target_ready(struct runner *R, struct outcome *o)
{
    if (!R->server) return true;
    if (R->proc.active && vfu_proc_poll(&R->proc) == VFU_PROC_RUNNING) return true;
    return vfh_runner_target_restart(R, o);
}


static void attach(struct runner *R, struct outcome *o, enum vfu_failure_kind k, const char *what)
{
    size_t l = strlen(o->reason);
    /* "killed by signal 11 (SIGSEGV)", "exited with status 3", "did not stop ..." */
    snprintf(o->reason + l, sizeof o->reason - l, "; the server %s%s", strncmp(what, "killed", 6) ? "" : "was ", what);
    o->kind = k;
    o->verdict = VFU_FAIL;
    R->server_dead_seen = true;
}

void vfh_runner_target_judge(struct runner *R, struct outcome *o, bool timed_out)
{
    if (!R->server || !R->proc.active || R->server_dead_seen) return;
    char what[256];
    enum vfu_proc_state state = vfu_proc_poll(&R->proc);
    if (state == VFU_PROC_RUNNING && !timed_out) {
        /* a connection that closed because the server is dying: wait for
         * the end; one it closed on purpose: no waiting */
        if (vfu_proc_exiting(&R->proc)) vfu_proc_wait(&R->proc, VFU_PROC_KILL_WAIT_MS);
        state = vfu_proc_poll(&R->proc);
    }
    if (state == VFU_PROC_SIGNALED || state == VFU_PROC_EXITED || state == VFU_PROC_LOST) {
        vfu_proc_status_str(vfu_proc_status(&R->proc), what, sizeof what);
        attach(R, o, state == VFU_PROC_SIGNALED ? VFU_FK_CRASH : VFU_FK_EXIT, what);
        return;
    }
    if (state != VFU_PROC_RUNNING || !timed_out) return;
    /* it is alive and silent: ask it to stop; one that will not is hung */
    const struct vfu_proc_status *st = vfu_proc_stop(&R->proc, grace_ms(R));
    vfu_proc_status_str(st, what, sizeof what);
    if (st->kill == VFU_PROC_KILL_HANG) {
        attach(R, o, VFU_FK_HANG, what);
    } else {
        size_t l = strlen(o->reason);
        snprintf(o->reason + l, sizeof o->reason - l, "; the server was stopped (%s)", what);
        R->server_dead_seen = true;
    }
}

/* its end, once it has ended, in words and blame; true when it had ended */
static bool judge_end(struct runner *R, struct vfu_result *res, const char *when)
{
    enum vfu_proc_state state = vfu_proc_poll(&R->proc);
    if (state == VFU_PROC_RUNNING || state == VFU_PROC_NONE) return false;
    R->server_dead_seen = true;
    const struct vfu_proc_status *st = vfu_proc_status(&R->proc);
    if (st->term_sent || st->kill != VFU_PROC_KILL_NONE) return true;
    if (state == VFU_PROC_EXITED) {
        /* the spec lets a server go when its client does (whatever status
         * it gives: libvfio-user's samples exit 1 after a refused VERSION);
         * one that exits 0 is taken to exit after each client */
        if (st->code == 0 && !R->one_shot) {
            R->one_shot = true;
            if (R->server && !R->fd_off[0])
                snprintf(R->fd_off, sizeof R->fd_off,
                         "the server exits after each client, so what a session leaves open cannot be counted");
        }
        return true;
    }
    char what[256];
    vfu_proc_status_str(st, what, sizeof what);
    if (!res) {
        fprintf(stderr, "vfu-conform: the server %s%s after the device probe; restarted\n",
                state == VFU_PROC_SIGNALED ? "was " : "", what);
        return true;
    }
    if (res->kind == VFU_FK_CRASH || res->kind == VFU_FK_EXIT || res->kind == VFU_FK_HANG) return true;
    /* a crash is judged at the scenario's own level, not at a preference's
     * or a kept descriptor's */
    res->level = res->scenario_level;
    res->preference = false;
    char before[sizeof res->reason];
    memcpy(before, res->reason, sizeof before);
    bool had = res->verdict == VFU_FAIL || res->verdict == VFU_XFAIL || res->verdict == VFU_ERROR;
    res->verdict = vfh_runner_xfail_listed(R->o, res->id) ? VFU_XFAIL : VFU_FAIL;
    res->kind = state == VFU_PROC_SIGNALED ? VFU_FK_CRASH : VFU_FK_EXIT;
    int k = snprintf(res->reason, sizeof res->reason, "the server %s%s %s", state == VFU_PROC_SIGNALED ? "was " : "",
                     what, when);
    if (had && k > 0 && (size_t)k + 16 < sizeof res->reason) {
        size_t room = sizeof res->reason - (size_t)k - 12, n = strnlen(before, sizeof before - 1);
        memcpy(res->reason + k, "; before: ", 10);
        memcpy(res->reason + k + 10, before, n < room ? n : room);
        res->reason[(size_t)k + 10 + (n < room ? n : room)] = 0;
    }
    free(res->server_stderr);
    res->server_stderr = vfh_runner_target_stderr_tail(R);
    return true;
}

void vfh_runner_target_after_session(struct runner *R, struct vfu_result *res)
{
    if (!R->server || !R->proc.active || R->server_dead_seen) return;
    /* one that exits after each client is waited for, so its end is its
     * own session's; one that is dying already, likewise */
    if (R->one_shot || vfu_proc_exiting(&R->proc)) vfu_proc_wait(&R->proc, R->one_shot ? grace_ms(R) : VFU_PROC_KILL_WAIT_MS);
    judge_end(R, res, "after the scenario's last step");
}

bool vfh_runner_target_open_lost(struct runner *R)
{
    if (!R->server || !R->proc.active || R->server_dead_seen || R->fresh) return false;
    /* not accepting, or gone at once: it is going away, or broken */
    vfu_proc_wait(&R->proc, vfu_proc_exiting(&R->proc) ? VFU_PROC_KILL_WAIT_MS : grace_ms(R));
    return judge_end(R, R->prev, "after the scenario's last step");
}

bool vfh_runner_target_between(struct runner *R, bool wait, struct outcome *o)
{
    if (!R->server || !R->proc.active || R->server_dead_seen) return true;
    if (wait || R->one_shot || vfu_proc_exiting(&R->proc))
        vfu_proc_wait(&R->proc, vfu_proc_exiting(&R->proc) ? VFU_PROC_KILL_WAIT_MS : grace_ms(R));
    enum vfu_proc_state state = vfu_proc_poll(&R->proc);
    if (state != VFU_PROC_SIGNALED) {
        struct vfu_result scratch = {0};
        judge_end(R, &scratch, "");
        return true;
    }
    const struct vfu_proc_status *st = vfu_proc_status(&R->proc);
    R->server_dead_seen = true;
    if (st->term_sent || st->kill != VFU_PROC_KILL_NONE) return true;
    char what[256];
    vfu_proc_status_str(st, what, sizeof what);
    vfh_runner_out_set(o, VFU_FAIL, VFU_FK_CRASH, "the server was %s when the client closed the session", what);
    return false;
}
