#include "proc_out.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

struct vfu_proc_out {
    pthread_mutex_t lock;
    pthread_cond_t cond;        /* broadcast at EOF */
    char *ring;                 /* cap bytes; head is the oldest */
    size_t cap, len, head;
    uint64_t total;
    bool eof;
    bool echo;
    int rfd, wfd, wake_fd;
    pthread_t thread;
    bool thread_running;
    char *snap;                 /* cap + 1 bytes for vfu_out_text */
};

static void ring_put(struct vfu_proc_out *o, const char *data, size_t n)
{
    o->total += n;
    if (n >= o->cap) {
        memcpy(o->ring, data + n - o->cap, o->cap);
        o->head = 0;
        o->len = o->cap;
        return;
    }
    size_t drop = o->len + n > o->cap ? o->len + n - o->cap : 0;
    o->head = (o->head + drop) % o->cap;
    o->len -= drop;
    size_t tail = (o->head + o->len) % o->cap;
    size_t first = o->cap - tail < n ? o->cap - tail : n;
    memcpy(o->ring + tail, data, first);
    memcpy(o->ring, data + first, n - first);
    o->len += n;
}

/* Our stderr may be a closed pipe: the thread has every signal blocked, so
 * EPIPE comes back as an error instead of killing us with SIGPIPE. */
static void echo_out(struct vfu_proc_out *o, const char *data, size_t n)
{
    while (o->echo && n) {
        ssize_t k = write(STDERR_FILENO, data, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            o->echo = false;
            return;
        }
        data += k;
        n -= (size_t)k;
    }
}

static void set_eof(struct vfu_proc_out *o)
{
    pthread_mutex_lock(&o->lock);
    o->eof = true;
    pthread_cond_broadcast(&o->cond);
    pthread_mutex_unlock(&o->lock);
}

static void *reader(void *arg)
{
    struct vfu_proc_out *o = arg;
    char chunk[16384];
    for (;;) {
        struct pollfd pf[2] = {{.fd = o->rfd, .events = POLLIN}, {.fd = o->wake_fd, .events = POLLIN}};
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (pf[1].revents) break;
        if (!pf[0].revents) continue;
        /* bounded per wake-up so a flood cannot starve the wake check */
        for (int i = 0; i < 64; i++) {
            ssize_t n = read(o->rfd, chunk, sizeof chunk);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EAGAIN) break;
            if (n <= 0) {
                set_eof(o);
                return NULL;
            }
            pthread_mutex_lock(&o->lock);
            ring_put(o, chunk, (size_t)n);
            pthread_mutex_unlock(&o->lock);
            echo_out(o, chunk, (size_t)n);
        }
    }
    return NULL;
}

struct vfu_proc_out *vfu_out_new(size_t cap, bool echo, int *write_fd)
{
    struct vfu_proc_out *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    o->rfd = o->wfd = o->wake_fd = -1;
    o->cap = cap;
    o->echo = echo;
    o->ring = malloc(cap);
    o->snap = malloc(cap + 1);
    pthread_condattr_t ca;
    bool sync_ok = false;
    if (pthread_condattr_init(&ca) == 0) {
        sync_ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 && pthread_cond_init(&o->cond, &ca) == 0;
        pthread_condattr_destroy(&ca);
    }
    if (sync_ok && pthread_mutex_init(&o->lock, NULL) != 0) {
        pthread_cond_destroy(&o->cond);
        sync_ok = false;
    }
    if (!sync_ok || !o->ring || !o->snap) {
        if (sync_ok) {
            pthread_cond_destroy(&o->cond);
            pthread_mutex_destroy(&o->lock);
        }
        free(o->ring);
        free(o->snap);
        free(o);
        errno = ENOMEM;
        return NULL;
    }
    int pfd[2];
    int e = 0;
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        e = errno;
    } else {
        o->rfd = pfd[0];
        o->wfd = pfd[1];
        /* only our end: the program's stderr stays blocking, as it expects */
        if (fcntl(o->rfd, F_SETFL, O_NONBLOCK) < 0) e = errno;
    }
    if (!e && (o->wake_fd = eventfd(0, EFD_CLOEXEC)) < 0) e = errno;
    if (!e) {
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        e = pthread_create(&o->thread, NULL, reader, o);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        o->thread_running = e == 0;
    }
    if (e) {
        vfu_out_free(o);
        errno = e;
        return NULL;
    }
    *write_fd = o->wfd;
    return o;
}

void vfu_out_close_writer(struct vfu_proc_out *o)
{
    if (o && o->wfd >= 0) {
        close(o->wfd);
        o->wfd = -1;
    }
}

bool vfu_out_wait_eof(struct vfu_proc_out *o, int timeout_ms)
{
    if (!o) return true;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    if (timeout_ms < 0) timeout_ms = 0;
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&o->lock);
    while (!o->eof && o->thread_running) {
        if (pthread_cond_timedwait(&o->cond, &o->lock, &until) == ETIMEDOUT) break;
    }
    bool eof = o->eof;
    pthread_mutex_unlock(&o->lock);
    return eof;
}

const char *vfu_out_text(struct vfu_proc_out *o, size_t *len)
{
    if (!o) {
        if (len) *len = 0;
        return "";
    }
    pthread_mutex_lock(&o->lock);
    size_t first = o->cap - o->head < o->len ? o->cap - o->head : o->len;
    memcpy(o->snap, o->ring + o->head, first);
    memcpy(o->snap + first, o->ring, o->len - first);
    o->snap[o->len] = '\0';
    if (len) *len = o->len;
    pthread_mutex_unlock(&o->lock);
    return o->snap;
}

uint64_t vfu_out_total(struct vfu_proc_out *o)
{
    if (!o) return 0;
    pthread_mutex_lock(&o->lock);
    uint64_t t = o->total;
    pthread_mutex_unlock(&o->lock);
    return t;
}

void vfu_out_free(struct vfu_proc_out *o)
{
    if (!o) return;
    if (o->thread_running) {
        uint64_t one = 1;
        while (write(o->wake_fd, &one, sizeof one) < 0 && errno == EINTR) {
        }
        pthread_join(o->thread, NULL);
    }
    if (o->rfd >= 0) close(o->rfd);
    if (o->wfd >= 0) close(o->wfd);
    if (o->wake_fd >= 0) close(o->wake_fd);
    pthread_cond_destroy(&o->cond);
    pthread_mutex_destroy(&o->lock);
    free(o->ring);
    free(o->snap);
    free(o);
}

