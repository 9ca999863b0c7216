/* Deadlines on the monotonic clock, and poll that honours them over EINTR. */
#include <errno.h>
#include <poll.h>
#include <time.h>

#include "vfu_transport.h"
#include "transport_wait.h"

/* the stop every wait ends on (set by the runtime's signal handling) */
static int stop_fd = -1;
static int (*stop_pending)(void);

void vfu_transport_set_stop(int fd, int (*pending)(void))
{
    stop_fd = fd;
    stop_pending = pending;
}

static int stopped(void) { return stop_pending && stop_pending(); }

int vfu_transport_stop_fd(void) { return stop_fd; }
bool vfu_transport_stopped(void) { return stopped() != 0; }

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t vfu_deadline(int timeout_ms)
{
    return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

int vfu_wait_until(int fd, short events, int64_t deadline)
{
    for (;;) {
        int ms = -1;
        if (deadline >= 0) {
            int64_t left = deadline - now_ms();
            ms = left <= 0 ? 0 : left > 1000000000 ? 1000000000 : (int)left;
        }
        /* a stop (vfu_transport_set_stop) ends the wait as if it had timed out */
        if (stopped()) ms = 0;
        struct pollfd p[2] = {{.fd = fd, .events = events}, {.fd = stop_fd, .events = POLLIN}};
        int r = poll(p, p[1].fd >= 0 && ms != 0 ? 2 : 1, ms);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (p[0].revents & POLLNVAL) { errno = EBADF; return -1; }
        if (p[0].revents) return 1;
        if (r == 0 || stopped()) return 0;
    }
}
