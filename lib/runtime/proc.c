/* Lifecycle of a supervised program: start and readiness, the end and its
 * status, stopping.  The pieces: lib/runtime/cmdline.c (argv), lib/runtime/proc_spawn.c
 * (fork/exec), lib/runtime/proc_out.c (output capture), lib/runtime/unix_listen.c
 * (readiness), lib/runtime/proc_status.c (words and verdicts). */
#include "proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmdline.h"
#include "proc_out.h"
#include "proc_spawn.h"
#include "stopsig.h"
#include "unix_listen.h"

#define SOCKET_TOKEN "{socket}"
#define FD_TOKEN "{fd}"
/* polling step when the kernel gives no pidfd to wait on */
#define POLL_STEP_MS 5
/* readiness is re-checked at most this far apart */
#define READY_STEP_MAX_MS 20

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_why(struct vfu_proc *p, const char *fmt, ...)
{
    free(p->why);
    p->why = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&p->why, fmt, ap) < 0) p->why = NULL;
    va_end(ap);
}

static bool fail(struct vfu_proc *p, struct vfu_error *err, enum vfu_errc code, int sys_errno, uint64_t got,
                 uint64_t want)
{
    (void)p;
    vfu_error_set(err, code, -1, -1, got, want);
    if (err) err->sys_errno = sys_errno;
    return false;
}

static bool fail_io(struct vfu_proc *p, struct vfu_error *err, int e, const char *what)
{
    set_why(p, "%s: %s", what, strerror(e));
    return fail(p, err, VFU_E_IO, e, 0, 0);
}

/* ---- the end ---- */

static bool same_inode(const char *path, dev_t dev, ino_t ino)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == dev && st.st_ino == ino;
}

static void remove_own_path(struct vfu_proc *p)
{
    if (p->own_path && same_inode(p->socket_path, p->path_dev, p->path_ino)) unlink(p->socket_path);
    if (p->own_path) vfu_stopsig_del_path(p->socket_path);
    p->own_path = false;
}

/* after the reap: collect the rest of the output, look at the socket */
static void ended(struct vfu_proc *p)
{
    p->reaped = true;
    if (p->pidfd >= 0) {
        close(p->pidfd);
        p->pidfd = -1;
    }
    vfu_out_wait_eof(p->out, VFU_PROC_DRAIN_MS);
    if (p->spec.sock == VFU_PROC_SOCK_PATH) {
        struct stat st;
        p->status.socket_left = lstat(p->socket_path, &st) == 0 && S_ISSOCK(st.st_mode);
    }
    remove_own_path(p);
}

/* true once the program has ended and is reaped */
static bool try_reap(struct vfu_proc *p)
{
    if (p->pid <= 0 || p->reaped) return true;
    siginfo_t si;
    memset(&si, 0, sizeof si);
    /* look without reaping: while the zombie stands, its pid and so its
     * process group id cannot be reused, and the rest of the group can be
     * killed without hitting a stranger */
    if (waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
        if (errno != ECHILD) return false;
        vfu_stopsig_del_pgrp(p->pid);
        p->status.state = VFU_PROC_LOST;
        ended(p);
        return true;
    }
    if (si.si_pid == 0) return false;
    kill(-p->pid, SIGKILL);
    /* before the reap, which frees the group id for reuse */
    vfu_stopsig_del_pgrp(p->pid);
    int ws = 0;
    while (waitpid(p->pid, &ws, 0) < 0) {
        if (errno == EINTR) continue;
        p->status.state = VFU_PROC_LOST;
        ended(p);
        return true;
    }
    if (WIFEXITED(ws)) {
        p->status.state = VFU_PROC_EXITED;
        p->status.code = WEXITSTATUS(ws);
    } else {
        p->status.state = VFU_PROC_SIGNALED;
        p->status.code = WTERMSIG(ws);
        p->status.core_dumped = WCOREDUMP(ws);
    }
    ended(p);
    return true;
}

/* true when it ended by the deadline; sleep_ms bounds each nap */
static bool wait_until(struct vfu_proc *p, int64_t deadline, int sleep_ms)
{
    for (;;) {
        if (try_reap(p)) return true;
        int64_t left = deadline - now_ms();
        if (left <= 0) return false;
        int nap = left < sleep_ms ? (int)left : sleep_ms;
        if (p->pidfd >= 0) {
            struct pollfd pf = {.fd = p->pidfd, .events = POLLIN};
            poll(&pf, 1, nap);
        } else {
            struct timespec ts = {.tv_sec = nap / 1000, .tv_nsec = (long)(nap % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
}

static void signal_group(struct vfu_proc *p, int sig)
{
    kill(-p->pid, sig);
    /* it may have left its group (setsid): the leader still gets it */
    if (getpgid(p->pid) != p->pid) kill(p->pid, sig);
}

static void kill_now(struct vfu_proc *p, enum vfu_proc_kill why)
{
    if (try_reap(p)) return;
    p->status.kill = why;
    signal_group(p, SIGKILL);
    wait_until(p, now_ms() + VFU_PROC_KILL_WAIT_MS, p->pidfd >= 0 ? VFU_PROC_KILL_WAIT_MS : POLL_STEP_MS);
}

/* ---- start ---- */

static bool check_spec(struct vfu_proc *p, const struct vfu_proc_spec *s, struct vfu_error *err)
{
    const char *bad = NULL;
    long val = 0, lim = 0;
    if (!s->cmd)
        bad = "no command";
    else if ((unsigned)s->sock > VFU_PROC_SOCK_CLIENT)
        bad = "unknown socket mode", val = s->sock;
    else if ((unsigned)s->ready > VFU_PROC_READY_NONE)
        bad = "unknown readiness mode", val = s->ready;
    else if ((unsigned)s->stdout_mode > VFU_PROC_STDOUT_NULL)
        bad = "unknown stdout mode", val = s->stdout_mode;
    else if (s->fd_num != 0 && (s->fd_num < 3 || s->fd_num > VFU_PROC_MAX_FD))
        bad = "fd_num outside 3..1023", val = s->fd_num, lim = VFU_PROC_MAX_FD;
    else if (s->startup_timeout_ms < 0 || s->startup_timeout_ms > VFU_PROC_MAX_STARTUP_MS)
        bad = "startup_timeout_ms outside 0..600000", val = s->startup_timeout_ms, lim = VFU_PROC_MAX_STARTUP_MS;
    else if (s->stderr_cap > VFU_PROC_MAX_STDERR_CAP)
        bad = "stderr_cap above 64 MiB", val = (long)s->stderr_cap, lim = VFU_PROC_MAX_STDERR_CAP;
    else if (s->sock != VFU_PROC_SOCK_FD_CONNECTED && (!s->socket_path || !*s->socket_path))
        bad = "this socket mode needs a socket_path";
    else if (s->sock != VFU_PROC_SOCK_FD_CONNECTED && strlen(s->socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
        bad = "socket_path too long for a UNIX socket", val = (long)strlen(s->socket_path),
        lim = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;
    if (!bad) return true;
    set_why(p, "%s", bad);
    return fail(p, err, VFU_E_BAD_VALUE, 0, (uint64_t)val, (uint64_t)lim);
}

/* the command's words with the socket argument in place */
static bool build_argv(struct vfu_proc *p, char ***out, struct vfu_error *err)
{
    char **argv;
    struct vfu_error e;
    if (vfu_cmdline_split(p->cmd, &argv, &e) < 0) {
        if (e.code == VFU_E_NOMEM) set_why(p, "out of memory");
        else
            set_why(p, "command: %s at offset %llu", vfu_cmdline_problem_str((unsigned)e.want),
                    (unsigned long long)e.got);
        if (err) *err = e;
        return false;
    }
    const char *path = p->socket_path;
    char fdbuf[16], arg[160];
    snprintf(fdbuf, sizeof fdbuf, "%d", p->spec.fd_num);
    int ns = 0, nf = 0;
    if (path) ns = vfu_cmdline_subst(argv, SOCKET_TOKEN, path);
    else if (vfu_cmdline_subst(argv, SOCKET_TOKEN, "") > 0) {
        vfu_cmdline_free(argv);
        set_why(p, "%s in the command, but this socket mode has no path", SOCKET_TOKEN);
        return fail(p, err, VFU_E_BAD_VALUE, 0, 0, 0);
    }
    bool by_path = p->spec.sock == VFU_PROC_SOCK_PATH || p->spec.sock == VFU_PROC_SOCK_CLIENT;
    if (by_path) {
        if (vfu_cmdline_subst(argv, FD_TOKEN, "") > 0) {
            vfu_cmdline_free(argv);
            set_why(p, "%s in the command, but the socket is passed by path", FD_TOKEN);
            return fail(p, err, VFU_E_BAD_VALUE, 0, 0, 0);
        }
        snprintf(arg, sizeof arg, "--socket-path=%s", path);
    } else {
        nf = vfu_cmdline_subst(argv, FD_TOKEN, fdbuf);
        snprintf(arg, sizeof arg, "--fd=%d", p->spec.fd_num);
    }
    bool have = by_path ? ns != 0 : nf != 0;
    if (ns < 0 || nf < 0 || (!have && !vfu_cmdline_append(&argv, arg))) {
        vfu_cmdline_free(argv);
        set_why(p, "out of memory (or too many words)");
        return fail(p, err, VFU_E_NOMEM, 0, 0, 0);
    }
    *out = argv;
    return true;
}

/* A socket file a dead server left behind would make the next bind fail:
 * remove it, unless something still listens there or it is no socket. */
static bool clear_stale(struct vfu_proc *p, struct vfu_error *err)
{
    struct stat st;
    if (lstat(p->socket_path, &st) < 0) {
        if (errno == ENOENT) return true;
        return fail_io(p, err, errno, p->socket_path);
    }
    if (!S_ISSOCK(st.st_mode)) {
        set_why(p, "'%s' exists and is not a socket", p->socket_path);
        return fail(p, err, VFU_E_IO, EEXIST, 0, 0);
    }
    int r = vfu_unix_listening(p->socket_path);
    if (r < 0) return fail_io(p, err, errno, "cannot tell whether the socket is in use");
    if (r > 0) {
        set_why(p, "'%s' is in use: something listens on it", p->socket_path);
        return fail(p, err, VFU_E_IO, EADDRINUSE, 0, 0);
    }
    if (unlink(p->socket_path) < 0 && errno != ENOENT) return fail_io(p, err, errno, p->socket_path);
    return true;
}

static int listen_on(struct vfu_proc *p, struct vfu_error *err)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fail_io(p, err, errno, "socket");
        return -1;
    }
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    memcpy(a.sun_path, p->socket_path, strlen(p->socket_path) + 1);
    struct stat st;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 16) < 0 || lstat(p->socket_path, &st) < 0) {
        int e = errno;
        close(fd);
        fail_io(p, err, e, p->socket_path);
        return -1;
    }
    p->own_path = true;
    vfu_stopsig_add_path(p->socket_path, false);
    p->path_dev = st.st_dev;
    p->path_ino = st.st_ino;
    return fd;
}

/* 1 connectable, 0 not yet */
static int try_connect(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return 0;
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    memcpy(a.sun_path, path, strlen(path) + 1);
    int r = connect(fd, (struct sockaddr *)&a, sizeof a);
    /* EAGAIN: listening, only its backlog is full */
    int ok = r == 0 || errno == EAGAIN;
    close(fd);
    return ok;
}

static bool wait_ready(struct vfu_proc *p, int64_t deadline, struct vfu_error *err)
{
    int step = 1;
    for (;;) {
        if (try_reap(p)) {
            char st[160];
            vfu_proc_status_str(&p->status, st, sizeof st);
            set_why(p, "%s before it was ready", st);
            return fail(p, err, VFU_E_CHILD_EXIT, 0, (uint64_t)p->status.state, (uint64_t)p->status.code);
        }
        int r;
        if (p->spec.ready == VFU_PROC_READY_CONNECT) {
            r = try_connect(p->socket_path);
        } else {
            r = vfu_unix_listening(p->socket_path);
            if (r < 0) return fail_io(p, err, errno, "cannot tell whether the socket listens");
        }
        if (r > 0) return true;
        if (vfu_stopsig_pending()) {
            kill_now(p, VFU_PROC_KILL_DISCARD);
            set_why(p, "interrupted by %s before '%s' was ready", vfu_stopsig_name(), p->socket_path);
            return fail(p, err, VFU_E_TIMEOUT, 0, 0, 0);
        }
        int64_t t = now_ms();
        if (t >= deadline) {
            p->status.startup_ms = p->spec.startup_timeout_ms;
            kill_now(p, VFU_PROC_KILL_STARTUP);
            set_why(p, "'%s' was not %s within %d ms", p->socket_path,
                    p->spec.ready == VFU_PROC_READY_CONNECT ? "connectable" : "listening",
                    p->spec.startup_timeout_ms);
            return fail(p, err, VFU_E_TIMEOUT, 0, (uint64_t)p->spec.startup_timeout_ms,
                        (uint64_t)p->spec.startup_timeout_ms);
        }
        /* wakes early if it ends meanwhile */
        wait_until(p, t + step < deadline ? t + step : deadline, step);
        step = step * 2 > READY_STEP_MAX_MS ? READY_STEP_MAX_MS : step * 2;
    }
}

static void reset(struct vfu_proc *p)
{
    memset(p, 0, sizeof *p);
    p->pid = -1;
    p->pidfd = -1;
    p->conn_fd = -1;
}

static bool copy_spec(struct vfu_proc *p, const struct vfu_proc_spec *spec, struct vfu_error *err)
{
    p->spec = *spec;
    if (!p->spec.fd_num) p->spec.fd_num = VFU_PROC_DEFAULT_FD;
    if (!p->spec.startup_timeout_ms) p->spec.startup_timeout_ms = VFU_PROC_DEFAULT_STARTUP_MS;
    if (!p->spec.stderr_cap) p->spec.stderr_cap = VFU_PROC_DEFAULT_STDERR_CAP;
    p->cmd = strdup(spec->cmd);
    if (spec->socket_path && spec->sock != VFU_PROC_SOCK_FD_CONNECTED) p->socket_path = strdup(spec->socket_path);
    if (!p->cmd || (spec->socket_path && spec->sock != VFU_PROC_SOCK_FD_CONNECTED && !p->socket_path)) {
        set_why(p, "out of memory");
        return fail(p, err, VFU_E_NOMEM, 0, 0, 0);
    }
    p->spec.cmd = p->cmd;
    p->spec.socket_path = p->socket_path;
    return true;
}

static bool start(struct vfu_proc *p, struct vfu_error *err)
{
    int64_t deadline = now_ms() + p->spec.startup_timeout_ms;
    char **argv = NULL;
    char *file = NULL;
    int pass[2] = {-1, -1};      /* [0] for the child, [1] ours */
    int devnull_in = -1, devnull_out = -1, out_w = -1;
    bool ok = false;

    if (!build_argv(p, &argv, err)) goto out;
    int e = vfu_spawn_resolve(argv[0], &file);
    if (e) {
        set_why(p, "cannot run '%s': %s", argv[0], strerror(e));
        fail(p, err, VFU_E_IO, e, 0, 0);
        goto out;
    }
    switch (p->spec.sock) {
    case VFU_PROC_SOCK_PATH:
        if (!clear_stale(p, err)) goto out;
        break;
    case VFU_PROC_SOCK_FD_LISTEN:
        if (!clear_stale(p, err) || (pass[0] = listen_on(p, err)) < 0) goto out;
        break;
    case VFU_PROC_SOCK_CLIENT:
        break;
    case VFU_PROC_SOCK_FD_CONNECTED:
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pass) < 0) {
            pass[0] = pass[1] = -1;
            fail_io(p, err, errno, "socketpair");
            goto out;
        }
        break;
    }
    devnull_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull_in < 0) {
        fail_io(p, err, errno, "/dev/null");
        goto out;
    }
    p->out = vfu_out_new(p->spec.stderr_cap, p->spec.echo_stderr, &out_w);
    if (!p->out) {
        fail_io(p, err, errno, "output capture");
        goto out;
    }
    int fd1 = out_w;
    if (p->spec.stdout_mode == VFU_PROC_STDOUT_TO_STDERR) {
        fd1 = STDERR_FILENO;
    } else if (p->spec.stdout_mode == VFU_PROC_STDOUT_NULL) {
        fd1 = devnull_out = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (fd1 < 0) {
            fail_io(p, err, errno, "/dev/null");
            goto out;
        }
    }
    struct vfu_spawn sp = {
        .file = file, .argv = argv, .fd0 = devnull_in, .fd1 = fd1, .fd2 = out_w,
        .pass_fd = pass[0], .pass_num = p->spec.fd_num, .timeout_ms = p->spec.startup_timeout_ms,
    };
    bool exec_failed;
    e = vfu_spawn(&sp, &p->pid, &exec_failed);
    /* the child has its copies; ours would keep the pipe from reaching EOF
     * and a passed listener alive after the child died */
    vfu_out_close_writer(p->out);
    if (e) {
        if (exec_failed)
            set_why(p, "cannot run '%s': %s", file, strerror(e));
        else
            set_why(p, "starting '%s': %s", file, strerror(e));
        fail(p, err, VFU_E_IO, e, 0, 0);
        goto out;
    }
    p->status.state = VFU_PROC_RUNNING;
    /* killed by a second SIGINT/SIGTERM/SIGHUP even if we cannot tidy up */
    vfu_stopsig_add_pgrp(p->pid);
#ifdef SYS_pidfd_open
    p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
#endif
    if (p->pidfd < 0) p->pidfd = -1;
    if (p->spec.sock == VFU_PROC_SOCK_FD_CONNECTED) {
        p->conn_fd = pass[1];
        pass[1] = -1;
    }
    if (p->spec.sock == VFU_PROC_SOCK_PATH && p->spec.ready != VFU_PROC_READY_NONE) {
        if (!wait_ready(p, deadline, err)) goto out;
    } else if (try_reap(p)) {
        char st[160];
        vfu_proc_status_str(&p->status, st, sizeof st);
        set_why(p, "%s at once", st);
        fail(p, err, VFU_E_CHILD_EXIT, 0, (uint64_t)p->status.state, (uint64_t)p->status.code);
        goto out;
    }
    ok = true;
out:
    if (!ok && p->pid > 0 && !p->reaped) kill_now(p, VFU_PROC_KILL_DISCARD);
    if (!ok) remove_own_path(p);
    for (int i = 0; i < 2; i++) {
        if (pass[i] >= 0) close(pass[i]);
    }
    if (devnull_in >= 0) close(devnull_in);
    if (devnull_out >= 0) close(devnull_out);
    vfu_cmdline_free(argv);
    free(file);
    return ok;
}

bool vfu_proc_start(struct vfu_proc *p, const struct vfu_proc_spec *spec, struct vfu_error *err)
{
    reset(p);
    p->active = true;
    if (!check_spec(p, spec, err) || !copy_spec(p, spec, err)) return false;
    return start(p, err);
}

/* ---- after the start ---- */

enum vfu_proc_state vfu_proc_poll(struct vfu_proc *p)
{
    if (!p->active) return VFU_PROC_NONE;
    try_reap(p);
    return p->status.state;
}

bool vfu_proc_wait(struct vfu_proc *p, int timeout_ms)
{
    if (!p->active || p->pid <= 0) return true;
    if (timeout_ms < 0) timeout_ms = 0;
    return wait_until(p, now_ms() + timeout_ms, p->pidfd >= 0 ? timeout_ms : POLL_STEP_MS);
}

const struct vfu_proc_status *vfu_proc_stop(struct vfu_proc *p, int grace_ms)
{
    if (!p->active || p->pid <= 0 || try_reap(p)) return &p->status;
    if (grace_ms < 0) grace_ms = 0;
    p->status.term_sent = true;
    p->status.grace_ms = grace_ms;
    signal_group(p, SIGTERM);
    if (!wait_until(p, now_ms() + grace_ms, p->pidfd >= 0 ? grace_ms : POLL_STEP_MS))
        kill_now(p, VFU_PROC_KILL_HANG);
    return &p->status;
}

void vfu_proc_free(struct vfu_proc *p)
{
    if (!p->active) return;
    kill_now(p, VFU_PROC_KILL_DISCARD);
    if (p->conn_fd >= 0) close(p->conn_fd);
    p->conn_fd = -1;
    if (p->pidfd >= 0) close(p->pidfd);
    p->pidfd = -1;
    vfu_out_free(p->out);
    p->out = NULL;
    remove_own_path(p);
    free(p->cmd);
    free(p->socket_path);
    free(p->why);
    p->cmd = p->socket_path = p->why = NULL;
    p->spec.cmd = p->spec.socket_path = NULL;
    p->active = false;
}

bool vfu_proc_restart(struct vfu_proc *p, int grace_ms, struct vfu_error *err)
{
    if (!p->active) {
        set_why(p, "nothing to restart");
        return fail(p, err, VFU_E_BAD_VALUE, 0, 0, 0);
    }
    struct vfu_proc_spec spec = p->spec;
    /* copies, for free releases p's own */
    char *cmd = strdup(p->cmd), *path = p->socket_path ? strdup(p->socket_path) : NULL;
    if (!cmd || (p->socket_path && !path)) {
        free(cmd);
        free(path);
        set_why(p, "out of memory");
        return fail(p, err, VFU_E_NOMEM, 0, 0, 0);
    }
    vfu_proc_stop(p, grace_ms);
    vfu_proc_free(p);
    spec.cmd = cmd;
    spec.socket_path = path;
    bool ok = vfu_proc_start(p, &spec, err);
    free(cmd);
    free(path);
    return ok;
}

const struct vfu_proc_status *vfu_proc_status(const struct vfu_proc *p)
{
    return &p->status;
}

pid_t vfu_proc_pid(const struct vfu_proc *p)
{
    return p->active ? p->pid : -1;
}

const char *vfu_proc_why(const struct vfu_proc *p)
{
    return p->active && p->why ? p->why : "";
}

int vfu_proc_take_conn_fd(struct vfu_proc *p)
{
    if (!p->active) return -1;
    int fd = p->conn_fd;
    p->conn_fd = -1;
    return fd;
}

int vfu_proc_fd_count(const struct vfu_proc *p)
{
    if (!p->active || p->pid <= 0 || p->reaped) return -1;
    return vfu_proc_pid_fd_count(p->pid);
}

int vfu_proc_pid_fd_count(pid_t pid)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] != '.') n++;
    }
    closedir(d);
    return n;
}

bool vfu_proc_pid_exiting(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT;   /* gone already */
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return false;
    buf[n] = 0;
    /* "pid (comm) state ppid pgrp session tty_nr tpgid flags ...": comm
     * may hold anything, so count from its closing parenthesis */
    char *q = strrchr(buf, ')');
    if (!q) return false;
    char state = 0;
    unsigned long flags = 0;
    if (sscanf(q + 1, " %c %*d %*d %*d %*d %*d %lu", &state, &flags) != 2) return false;
    /* PF_EXITING (0x4): set as exit starts, before its descriptors close */
    return state == 'Z' || state == 'X' || (flags & 0x4);
}

bool vfu_proc_exiting(const struct vfu_proc *p)
{
    if (!p->active || p->pid <= 0 || p->reaped) return true;
    return vfu_proc_pid_exiting(p->pid);
}

const char *vfu_proc_stderr(struct vfu_proc *p, size_t *len)
{
    if (!p->active) {
        if (len) *len = 0;
        return "";
    }
    return vfu_out_text(p->out, len);
}

uint64_t vfu_proc_stderr_total(struct vfu_proc *p)
{
    return p->active ? vfu_out_total(p->out) : 0;
}
