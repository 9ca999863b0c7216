/* Interrupts: eventfds handed to the server with SET_IRQS, and waiting for
 * them to fire while the sockets keep being serviced (a device may need DMA
 * before it can raise its interrupt). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "client_priv.h"

int vfu_client_eventfd(struct vfu_client *c, struct vfu_error *err)
{
    if (c->nefds == VFU_CLIENT_MAX_EVENTFDS) {
        vfu_error_set(err, VFU_E_NOMEM, -1, -1, VFU_CLIENT_MAX_EVENTFDS + 1, VFU_CLIENT_MAX_EVENTFDS);
        return -1;
    }
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) {
        vfu_error_set(err, VFU_E_IO, -1, -1, 0, 0);
        if (err) err->sys_errno = errno;
        return -1;
    }
    c->efds[c->nefds++] = fd;
    return fd;
}

bool vfu_irq_enc_set(struct vfu_enc *e, uint8_t *buf, size_t cap, uint32_t index,
                     uint32_t start, uint32_t action, const int *fds, unsigned nfds,
                     struct vfu_error *err)
{
    vfu_enc_begin(e, buf, cap, VFU_CMD_DEVICE_SET_IRQS, false, 0);
    vfu_enc_set(e, VFU_F_SET_IRQS_FLAGS, VFU_IRQ_SET_FLAGS_DATA_EVENTFD | action);
    vfu_enc_set(e, VFU_F_SET_IRQS_INDEX, index);
    vfu_enc_set(e, VFU_F_SET_IRQS_START, start);
    vfu_enc_set(e, VFU_F_SET_IRQS_COUNT, nfds);
    for (unsigned i = 0; i < nfds; i++) vfu_enc_fd(e, fds[i]);
    return vfu_enc_finish(e, err);
}

uint64_t vfu_irq_read(int efd)
{
    struct pollfd p = {efd, POLLIN, 0};
    uint64_t v = 0;
    if (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN)) return 0;
    if (read(efd, &v, sizeof v) != (ssize_t)sizeof v) return 0;
    return v;
}

int vfu_client_irq_wait(struct vfu_client *c, int efd, int timeout_ms, uint64_t *count,
                        struct vfu_error *err)
{
    if (efd < 0 || fcntl(efd, F_GETFD) < 0) {
        vfu_error_set(err, VFU_E_IO, -1, -1, 0, 0);
        if (err) err->sys_errno = EBADF;
        return -1;
    }
    int64_t deadline = timeout_ms < 0 ? -1 : vfu_cl_now_ms() + timeout_ms;
    for (;;) {
        uint64_t v = vfu_irq_read(efd);
        if (v) {
            if (count) *count = v;
            return 1;
        }
        int left = vfu_cl_remaining(deadline);
        bool ready;
        int n = vfu_cl_pump(c, left, efd, &ready);
        if (ready) continue;
        if (n < 0) {
            if ((v = vfu_irq_read(efd)) != 0) {
                if (count) *count = v;
                return 1;
            }
            vfu_error_set(err, c->peer_closed ? VFU_E_EOF : VFU_E_IO, -1, -1, 0, 0);
            if (err && !c->peer_closed) err->sys_errno = ENOTCONN;
            return -1;
        }
        if (left == 0) {
            vfu_error_set(err, VFU_E_TIMEOUT, -1, -1, (uint64_t)timeout_ms, 0);
            return 0;
        }
    }
}
