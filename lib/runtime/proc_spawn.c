#include "proc_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static bool runnable(const char *file)
{
    struct stat st;
    return stat(file, &st) == 0 && S_ISREG(st.st_mode) && access(file, X_OK) == 0;
}

int vfu_spawn_resolve(const char *name, char **file)
{
    *file = NULL;
    if (!*name) return ENOENT;
    if (strchr(name, '/')) {
        *file = strdup(name);
        return *file ? 0 : ENOMEM;
    }
    const char *path = getenv("PATH");
    if (!path) path = "/usr/local/bin:/usr/bin:/bin";
    int e = ENOENT;
    for (const char *dir = path;; dir++) {
        const char *end = strchrnul(dir, ':');
        int dlen = (int)(end - dir);
        char *cand;
        /* an empty PATH entry means the current directory */
        if (asprintf(&cand, "%.*s%s%s", dlen, dir, dlen ? "/" : "", name) < 0) return ENOMEM;
        if (runnable(cand)) {
            *file = cand;
            return 0;
        }
        if (access(cand, F_OK) == 0) e = EACCES;
        free(cand);
        if (!*end) break;
        dir = end;
    }
    return e;
}

static void close_from(unsigned lo, unsigned hi, int max_fd)
{
    if (lo > hi) return;
#ifdef SYS_close_range
    if (syscall(SYS_close_range, lo, hi, 0) == 0) return;
#endif
    for (unsigned fd = lo; fd <= hi && fd < (unsigned)max_fd; fd++) close((int)fd);
}

/* Between fork and exec only async-signal-safe calls: the caller may have
 * threads (our own output readers among them). */
static void child(const struct vfu_spawn *s, int status_fd, int max_fd)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, NULL);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setpgid(0, 0);

    /* lift every source above its target so no dup2 below can clobber one */
    int base = s->pass_fd >= 0 && s->pass_num >= 3 ? s->pass_num + 1 : 3;
    int src[5] = {s->fd0, s->fd1, s->fd2, s->pass_fd, status_fd};
    int hi[5];
    for (int i = 0; i < 5; i++) {
        hi[i] = -1;
        if (src[i] < 0) continue;
        hi[i] = fcntl(src[i], F_DUPFD_CLOEXEC, base);
        if (hi[i] < 0) goto fail;
    }
    status_fd = hi[4];
    /* dup2 leaves the targets without FD_CLOEXEC, so they survive the exec */
    if (dup2(hi[0], 0) < 0 || dup2(hi[1], 1) < 0 || dup2(hi[2], 2) < 0) goto fail;
    if (hi[3] >= 0 && dup2(hi[3], s->pass_num) < 0) goto fail;
    /* everything but 0-2, the passed fd and the status pipe (CLOEXEC) */
    if (hi[3] >= 0) {
        close_from(3, (unsigned)s->pass_num - 1, max_fd);
        close_from((unsigned)s->pass_num + 1, (unsigned)status_fd - 1, max_fd);
    } else {
        close_from(3, (unsigned)status_fd - 1, max_fd);
    }
    close_from((unsigned)status_fd + 1, ~0U, max_fd);
    execv(s->file, s->argv);
fail:;
    int e = errno;
    while (write(status_fd, &e, sizeof e) < 0 && errno == EINTR) {
    }
    _exit(127);
}

static void kill_and_reap(pid_t pid)
{
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
}

int vfu_spawn(const struct vfu_spawn *s, pid_t *pid, bool *exec_failed)
{
    *pid = -1;
    *exec_failed = false;
    struct rlimit rl;
    int max_fd = 65536;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < INT_MAX)
        max_fd = (int)rl.rlim_cur;

    /* closes at the exec: EOF says it worked, an errno says it did not */
    int st[2];
    if (pipe2(st, O_CLOEXEC) < 0) return errno;
    pid_t c = fork();
    if (c < 0) {
        int e = errno;
        close(st[0]);
        close(st[1]);
        return e;
    }
    if (c == 0) child(s, st[1], max_fd);
    close(st[1]);
    /* both sides set the group, so it exists whichever runs first */
    setpgid(c, c);

    int e = 0, got = 0;
    struct pollfd pf = {.fd = st[0], .events = POLLIN};
    for (;;) {
        int r = poll(&pf, 1, s->timeout_ms);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            e = r == 0 ? ETIMEDOUT : errno;
            break;
        }
        ssize_t n = read(st[0], (char *)&got, sizeof got);
        if (n < 0 && errno == EINTR) continue;
        if (n == (ssize_t)sizeof got) {
            e = got ? got : EIO;
            *exec_failed = true;
        } else if (n != 0) {
            e = EIO;
        }
        break;
    }
    close(st[0]);
    if (e) {
        kill_and_reap(c);
        return e;
    }
    *pid = c;
    return 0;
}
