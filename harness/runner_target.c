/* The server under test: started and watched through lib/proc (--server),
 * or merely reached by its socket path (--connect).  When a step fails for
 * want of an answer, the process tells what really happened: a crash, an
 * exit, or a hang that SIGTERM does not end. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner_int.h"

/* how long a server that closed a connection may take to be seen dead */
#define DEATH_WAIT_MS 200

static int grace_ms(const struct runner *R)
{
    return R->timeout_ms < 200 ? 200 : R->timeout_ms > 5000 ? 5000 : R->timeout_ms;
}

bool target_start(struct runner *R, char *why, size_t n)
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
    snprintf(R->dir, sizeof R->dir, "/tmp/vfu-conform-XXXXXX");
    if (!mkdtemp(R->dir)) {
        snprintf(why, n, "cannot make a directory for the socket: %s", strerror(errno));
        R->dir[0] = 0;
        return false;
    }
    snprintf(R->sock, sizeof R->sock, "%s/sock", R->dir);
    R->path = R->sock;
    memset(&R->spec, 0, sizeof R->spec);
    R->spec.cmd = R->o->server_cmd;
    R->spec.socket_path = R->sock;
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
        char *tail = target_stderr_tail(R);
        snprintf(why, n, "the server would not start: %s%s%s%s%s", vfu_proc_why(&R->proc), *st ? " (" : "", st,
                 *st ? ")" : "", tail ? "\n--- its output ---\n" : "");
        if (tail) {
            size_t l = strlen(why);
            snprintf(why + l, n - l, "%s", tail);
        }
        free(tail);
        vfu_proc_free(&R->proc);
        return false;
    }
    return true;
}

void target_stop(struct runner *R)
{
    if (!R->server) return;
    vfu_proc_stop(&R->proc, grace_ms(R));
    vfu_proc_free(&R->proc);
    if (R->dir[0]) {
        unlink(R->sock);
        rmdir(R->dir);
    }
}

char *target_stderr_tail(struct runner *R)
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

bool target_restart(struct runner *R, struct outcome *o)
{
    if (R->failed_starts >= VFU_RUNNER_MAX_FAILED_STARTS) {
        out_set(o, VFU_ERROR, VFU_FK_NONE, "the server did not start %d times in a row; not tried again",
                VFU_RUNNER_MAX_FAILED_STARTS);
        return false;
    }
    struct vfu_error err;
    if (!vfu_proc_restart(&R->proc, grace_ms(R), &err)) {
        R->failed_starts++;
        out_set(o, VFU_ERROR, VFU_FK_NONE, "the server would not start again: %s", vfu_proc_why(&R->proc));
        return false;
    }
    R->failed_starts = 0;
    R->server_dead_seen = false;
    return true;
}

bool target_terminate(struct runner *R, struct outcome *o)
{
    if (!R->server || !R->proc.active || vfu_proc_poll(&R->proc) != VFU_PROC_RUNNING) return true;
    const struct vfu_proc_status *st = vfu_proc_stop(&R->proc, grace_ms(R));
    if (st->kill != VFU_PROC_KILL_HANG) return true;
    char what[256];
    vfu_proc_status_str(st, what, sizeof what);
    out_set(o, VFU_FAIL, VFU_FK_HANG, "the server must honour SIGTERM, but it %s", what);
    R->server_dead_seen = true;
    return false;
}

bool target_ready(struct runner *R, struct outcome *o)
{
    if (!R->server) return true;
    if (R->proc.active && vfu_proc_poll(&R->proc) == VFU_PROC_RUNNING) return true;
    return target_restart(R, o);
}

bool target_crashed(struct runner *R, int wait_ms, char *what, size_t n)
{
    if (!R->server || !R->proc.active || R->server_dead_seen) return false;
    if (wait_ms > 0) vfu_proc_wait(&R->proc, wait_ms);
    if (vfu_proc_poll(&R->proc) != VFU_PROC_SIGNALED) return false;
    const struct vfu_proc_status *st = vfu_proc_status(&R->proc);
    if (st->kill != VFU_PROC_KILL_NONE || st->term_sent) return false;
    R->server_dead_seen = true;
    vfu_proc_status_str(st, what, n);
    return true;
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

void target_judge(struct runner *R, struct outcome *o, bool timed_out)
{
    if (!R->server || !R->proc.active || R->server_dead_seen) return;
    char what[256];
    enum vfu_proc_state state = vfu_proc_poll(&R->proc);
    if (state == VFU_PROC_RUNNING && !timed_out) {
        vfu_proc_wait(&R->proc, DEATH_WAIT_MS);
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
