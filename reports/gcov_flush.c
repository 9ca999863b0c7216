/* LD_PRELOAD helper of reports/vfu-coverage: makes a server built with gcc
 * --coverage write its counters when it is stopped with SIGTERM, and
 * records which server processes ended through exit() (counters written)
 * and which did not (killed, crashed: their counts are lost).
 *
 * gcov writes the counters from exit(); a server that leaves SIGTERM at its
 * default action dies without them.  Where the program has not chosen a
 * SIGTERM action of its own by the time its main runs (this constructor
 * runs before), SIGTERM calls exit(0).  exit() is not async-signal-safe:
 * should it deadlock (the signal came inside malloc), vfu-conform's grace
 * period ends with SIGKILL and the log shows that process as not exited.
 * A program that installs its own SIGTERM handler later keeps it.
 *
 * VFU_COV_LOG=FILE: one line "start PID" at load, "exit PID" at exit, each
 * appended with O_APPEND in one write (several processes share the file). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void note(const char *what)
{
    const char *path = getenv("VFU_COV_LOG");
    if (!path || !*path) return;
    char line[64];
    int n = snprintf(line, sizeof line, "%s %ld\n", what, (long)getpid());
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return;
    if (n > 0 && write(fd, line, (size_t)n) != n) { /* nothing better to do */ }
    close(fd);
}

static void on_exit_note(void) { note("exit"); }

static void on_term(int sig)
{
    (void)sig;
    exit(0);
}

__attribute__((constructor)) static void vfu_gcov_flush_init(void)
{
    note("start");
    atexit(on_exit_note);
    struct sigaction old;
    if (sigaction(SIGTERM, NULL, &old) == 0 && old.sa_handler == SIG_DFL && !(old.sa_flags & SA_SIGINFO)) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_term;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
    }
}
