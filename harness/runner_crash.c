/* A server that closed the connection may have done so by breaking down:
 * killed by a signal (a crash, an abort, a Rust or C++ panic that aborts),
 * or exited after a sanitizer or a language runtime reported a fault.  Such
 * an end never meets an expectation of "error or close": closing is a
 * choice the spec leaves the server, crashing is not. */
#include <stdio.h>
#include <string.h>

#include "runner_int.h"

/* what a sanitizer or runtime prints before it ends the program itself
 * (with an exit status, not a signal) */
static const char *const fault_marks[] = {
    "ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "WARNING: MemorySanitizer",
    "WARNING: ThreadSanitizer", "runtime error: ", "UndefinedBehaviorSanitizer",
    "' panicked at ", "panicked at '", "\npanic: ", "terminate called after throwing",
};

const char *vfh_runner_target_fault_mark(const char *out)
{
    if (!out) return NULL;
    for (size_t i = 0; i < sizeof fault_marks / sizeof fault_marks[0]; i++)
        if (strstr(out, fault_marks[i])) return fault_marks[i];
    return NULL;
}

bool vfh_runner_target_broke_down(struct runner *R, int wait_ms, char *what, size_t n)
{
    if (!R->server || !R->proc.active || R->server_dead_seen) return false;
    enum vfu_proc_state state = vfu_proc_poll(&R->proc);
    if (state == VFU_PROC_RUNNING && wait_ms > 0) {
        vfu_proc_wait(&R->proc, wait_ms);
        state = vfu_proc_poll(&R->proc);
    }
    if (state != VFU_PROC_SIGNALED && state != VFU_PROC_EXITED) return false;
    const struct vfu_proc_status *st = vfu_proc_status(&R->proc);
    /* our own SIGTERM or SIGKILL is no breakdown of the server's */
    if (st->kill != VFU_PROC_KILL_NONE || st->term_sent) return false;
    const char *mark = NULL;
    if (state == VFU_PROC_EXITED) {
        size_t len;
        mark = vfh_runner_target_fault_mark(vfu_proc_stderr(&R->proc, &len));
        /* a plain exit is the server's way of closing; the spec allows it */
        if (!mark) return false;
    }
    char how[200];
    vfu_proc_status_str(st, how, sizeof how);
    if (mark) snprintf(what, n, "%s after reporting a fault (\"%s\" on its stderr)", how, mark);
    else snprintf(what, n, "%s", how);
    R->server_dead_seen = true;
    return true;
}
