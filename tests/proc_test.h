/* Shared fixture of the process-supervision tests: a private directory for
 * the socket, and after every test the proof that nothing was left behind
 * (no child of ours, running or zombie; no descriptor more than before). */
#ifndef PROC_TEST_H
#define PROC_TEST_H

#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"

#ifndef HELPER_DIR
#error "HELPER_DIR must name the directory of the helper programs"
#endif
#define FAKE HELPER_DIR "/fake-server"

struct fixture {
    char dir[64];
    char sock[96];
    int fds_before;
    struct vfu_proc p;
    char cmd[1024];
};

static inline int64_t ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int own_fd_count(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d)) n++;
    }
    closedir(d);
    return n;
}

/* true when no child of ours exists, running or zombie */
static inline bool no_children(void)
{
    return waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD;
}

/* gone, or a zombie waiting for a parent that is not us */
static inline bool pid_dead(pid_t pid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f) return true;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')');
    return !paren || paren[2] == 'Z' || paren[2] == 'X';
}

static inline bool pid_dies_within(pid_t pid, int ms)
{
    int64_t end = ms_now() + ms;
    while (!pid_dead(pid)) {
        if (ms_now() > end) return false;
        usleep(2000);
    }
    return true;
}

static inline int fixture_setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/vfu-proc-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->sock, sizeof f->sock, "%s/s.sock", f->dir);
    f->fds_before = own_fd_count();
    *state = f;
    return 0;
}

static inline int fixture_teardown(void **state)
{
    struct fixture *f = *state;
    /* a failed assertion skips the test's own cleanup; then this one does it */
    vfu_proc_free(&f->p);
    bool clean = no_children();
    int fds = own_fd_count();
    DIR *d = opendir(f->dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] != '.') unlinkat(dirfd(d), e->d_name, 0);
    }
    if (d) closedir(d);
    if (rmdir(f->dir) != 0) fprintf(stderr, "could not remove %s\n", f->dir);
    int before = f->fds_before;
    free(f);
    if (!clean) fprintf(stderr, "a child was left behind\n");
    if (fds != before) fprintf(stderr, "fds: %d before, %d after\n", before, fds);
    return clean && fds == before ? 0 : -1;
}

static inline const char *fmt_cmd(struct fixture *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->cmd, sizeof f->cmd, fmt, ap);
    va_end(ap);
    return f->cmd;
}

static inline struct vfu_proc_spec path_spec(struct fixture *f, const char *cmd)
{
    struct vfu_proc_spec s = {.cmd = cmd, .socket_path = f->sock, .startup_timeout_ms = 900};
    return s;
}

/* start that must succeed; says why when it does not */
static inline void start_ok(struct fixture *f, const struct vfu_proc_spec *s)
{
    struct vfu_error err;
    if (!vfu_proc_start(&f->p, s, &err)) {
        size_t len;
        const char *out = vfu_proc_stderr(&f->p, &len);
        fail_msg("start failed: %s [%s]; output: %s", vfu_proc_why(&f->p), vfu_errc_name(err.code), out);
    }
}

static inline bool out_has(struct fixture *f, const char *text)
{
    return strstr(vfu_proc_stderr(&f->p, NULL), text) != NULL;
}

/* output of a running program reaches us through a thread: allow it time */
static inline bool out_within(struct fixture *f, const char *text, int ms)
{
    int64_t until = ms_now() + ms;
    while (!out_has(f, text)) {
        if (ms_now() > until) return false;
        usleep(1000);
    }
    return true;
}

static inline const char *status_text(struct fixture *f)
{
    static char buf[256];
    vfu_proc_status_str(vfu_proc_status(&f->p), buf, sizeof buf);
    return buf;
}

/* "hello" to a server on path; its answer, "" when there is none */
static inline const char *say_hello_fd(int fd)
{
    static char reply[32];
    reply[0] = '\0';
    if (write(fd, "hello\n", 6) != 6) return reply;
    ssize_t n = read(fd, reply, sizeof reply - 1);
    reply[n > 0 ? n : 0] = '\0';
    return reply;
}

static inline const char *say_hello(const char *path)
{
    static const char none[] = "";
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    if (fd < 0) return none;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return none;
    }
    struct timeval tv = {.tv_sec = 1};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const char *r = say_hello_fd(fd);
    close(fd);
    return r;
}

/* no core files from the crashes we ask for, and a fixed status text */
static inline void no_core_dumps(void)
{
    struct rlimit rl = {0, 0};
    setrlimit(RLIMIT_CORE, &rl);
}

#endif
