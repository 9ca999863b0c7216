/* Setting up AF_UNIX stream sockets: listen, accept, connect, twin pairs. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/time.h>
#include <unistd.h>

#include "vfu_transport.h"
#include "transport_wait.h"

static int sys_fail(struct vfu_error *err, int e)
{
    vfu_error_set(err, VFU_E_IO, -1, -1, 0, 0);
    if (err) err->sys_errno = e;
    errno = e;
    return -1;
}

static bool fill_addr(struct sockaddr_un *a, const char *path, struct vfu_error *err)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof a->sun_path) { sys_fail(err, n ? ENAMETOOLONG : ENOENT); return false; }
    memcpy(a->sun_path, path, n);
    return true;
}

/* A socket file with no listener behind it is left over from a process
 * that died; one that accepts connections belongs to someone alive. */
static bool stale_socket(const struct sockaddr_un *a)
{
    struct stat st;
    if (lstat(a->sun_path, &st) < 0 || !S_ISSOCK(st.st_mode)) return false;
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0) return false;
    int r = connect(s, (const struct sockaddr *)a, sizeof *a);
    int e = errno;
    close(s);
    return r < 0 && e == ECONNREFUSED;
}

int vfu_listen(const char *path, struct vfu_error *err)
{
    struct sockaddr_un a;
    if (!fill_addr(&a, path, err)) return -1;
    /* non-blocking so that accept after poll can never hang on a
     * connection that went away in between */
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0) return sys_fail(err, errno);
    int r = bind(s, (struct sockaddr *)&a, sizeof a);
    if (r < 0 && errno == EADDRINUSE && stale_socket(&a)) {
        unlink(a.sun_path);
        r = bind(s, (struct sockaddr *)&a, sizeof a);
    }
    if (r < 0 || listen(s, 16) < 0) {
        int e = errno;
        close(s);
        return sys_fail(err, e);
    }
    return s;
}

int vfu_accept(int lfd, int timeout_ms, struct vfu_error *err)
{
    int64_t deadline = vfu_deadline(timeout_ms);
    for (;;) {
        /* poll first, so the timeout holds on a blocking listener too */
        int w = vfu_wait_until(lfd, POLLIN, deadline);
        if (w < 0) return sys_fail(err, errno);
        if (w == 0) {
            vfu_error_set(err, VFU_E_TIMEOUT, -1, -1, 0, (uint64_t)timeout_ms);
            errno = ETIMEDOUT;
            return -1;
        }
        /* the listener's O_NONBLOCK does not pass to the new socket */
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0) return fd;
        if (errno != EINTR && errno != ECONNABORTED && errno != EAGAIN && errno != EWOULDBLOCK)
            return sys_fail(err, errno);
    }
}

int vfu_connect(const char *path, int timeout_ms, struct vfu_error *err)
{
    struct sockaddr_un a;
    if (!fill_addr(&a, path, err)) return -1;
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return sys_fail(err, errno);
    /* an AF_UNIX connect only waits while the listener's backlog is full,
     * and that wait is bounded by the send timeout */
    if (timeout_ms >= 0) {
        struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
        if (timeout_ms == 0) tv.tv_usec = 1;
        setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    int r;
    do r = connect(s, (struct sockaddr *)&a, sizeof a);
    while (r < 0 && errno == EINTR);
    int e = errno;
    if (r < 0) {
        close(s);
        if (e == EAGAIN || e == EWOULDBLOCK || e == EINPROGRESS) {
            vfu_error_set(err, VFU_E_TIMEOUT, -1, -1, 0, (uint64_t)timeout_ms);
            errno = ETIMEDOUT;
            return -1;
        }
        return sys_fail(err, e);
    }
    if (timeout_ms >= 0) {
        struct timeval none = {0, 0};
        setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
    }
    return s;
}

bool vfu_socketpair(int sv[2], struct vfu_error *err)
{
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        sys_fail(err, errno);
        return false;
    }
    return true;
}
