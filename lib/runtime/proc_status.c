/* How a supervised program ended, in words and as a verdict. */
#include "proc.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static size_t put(char *buf, size_t n, size_t at, const char *fmt, ...)
{
    if (at >= n) return at;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + at, n - at, fmt, ap);
    va_end(ap);
    if (k < 0) return at;
    return at + (size_t)k >= n ? n - 1 : at + (size_t)k;
}

static bool our_sigkill(const struct vfu_proc_status *st)
{
    return st->state == VFU_PROC_SIGNALED && st->code == SIGKILL && st->kill != VFU_PROC_KILL_NONE;
}

size_t vfu_proc_status_str(const struct vfu_proc_status *st, char *buf, size_t n)
{
    if (!n) return 0;
    buf[0] = '\0';
    size_t k = 0;
    switch (st->state) {
    case VFU_PROC_NONE:
        return put(buf, n, 0, "not started");
    case VFU_PROC_RUNNING:
        return put(buf, n, 0, "running");
    case VFU_PROC_LOST:
        return put(buf, n, 0, "ended; its exit status was collected elsewhere");
    case VFU_PROC_EXITED:
        k = put(buf, n, 0, "exited with status %d%s", st->code, st->term_sent ? " after SIGTERM" : "");
        break;
    case VFU_PROC_SIGNALED:
        if (our_sigkill(st) && st->kill == VFU_PROC_KILL_HANG)
            k = put(buf, n, 0, "did not stop within %d ms of SIGTERM (hang); killed with SIGKILL", st->grace_ms);
        else if (our_sigkill(st) && st->kill == VFU_PROC_KILL_STARTUP)
            k = put(buf, n, 0, "not ready within %d ms; killed with SIGKILL", st->startup_ms);
        else if (our_sigkill(st))
            k = put(buf, n, 0, "killed with SIGKILL by the supervisor");
        else if (st->code == SIGTERM && st->term_sent)
            k = put(buf, n, 0, "stopped by SIGTERM");
        else {
            const char *abbrev = sigabbrev_np(st->code);
            k = put(buf, n, 0, "killed by signal %d (%s%s%s)%s", st->code, abbrev ? "SIG" : "unknown",
                    abbrev ? abbrev : "", st->core_dumped ? ", core dumped" : "",
                    st->term_sent ? " after SIGTERM" : "");
        }
        break;
    }
    /* worth saying only of a program that did stop on SIGTERM */
    if (st->socket_left && vfu_proc_verdict(st) == VFU_PROC_V_STOPPED)
        k = put(buf, n, k, "; its socket file was left behind");
    return k;
}

enum vfu_proc_verdict vfu_proc_verdict(const struct vfu_proc_status *st)
{
    switch (st->state) {
    case VFU_PROC_NONE: return VFU_PROC_V_NONE;
    case VFU_PROC_RUNNING: return VFU_PROC_V_RUNNING;
    case VFU_PROC_LOST: return VFU_PROC_V_LOST;
    case VFU_PROC_EXITED:
        if (st->term_sent) return VFU_PROC_V_STOPPED;
        return st->code == 0 ? VFU_PROC_V_EXITED : VFU_PROC_V_FAILED;
    case VFU_PROC_SIGNALED:
        if (our_sigkill(st)) return st->kill == VFU_PROC_KILL_HANG ? VFU_PROC_V_HUNG : VFU_PROC_V_KILLED;
        if (st->code == SIGTERM && st->term_sent) return VFU_PROC_V_STOPPED;
        return VFU_PROC_V_CRASHED;
    }
    return VFU_PROC_V_NONE;
}

const char *vfu_proc_verdict_name(enum vfu_proc_verdict v)
{
    switch (v) {
    case VFU_PROC_V_NONE: return "not started";
    case VFU_PROC_V_RUNNING: return "running";
    case VFU_PROC_V_STOPPED: return "stopped";
    case VFU_PROC_V_EXITED: return "exited";
    case VFU_PROC_V_FAILED: return "failed";
    case VFU_PROC_V_CRASHED: return "crashed";
    case VFU_PROC_V_HUNG: return "hung";
    case VFU_PROC_V_KILLED: return "killed";
    case VFU_PROC_V_LOST: return "lost";
    }
    return "?";
}
