/* GET_IRQ_INFO / SET_IRQS and the device's interrupts: one eventfd per
 * (index, sub-index), mask state for maskable indexes, and interrupts held
 * back while masked or while the device is stopped. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "srv_int.h"

void srv_irq_init(struct srv *s)
{
    for (unsigned i = 0; i < TOYDEV_NUM_IRQS; i++) {
        toydev_irq_info(i, &s->irq.info[i]);
        uint32_t n = s->irq.info[i].count;
        s->irq.line[i] = calloc(n ? n : 1, sizeof *s->irq.line[i]);
        for (uint32_t k = 0; s->irq.line[i] && k < n; k++)
            s->irq.line[i][k].efd = s->irq.line[i][k].mask_efd = s->irq.line[i][k].unmask_efd = -1;
    }
}

static void close_fd(int *fd)
{
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

static void close_index(struct srv *s, unsigned index)
{
    for (uint32_t k = 0; k < s->irq.info[index].count; k++) {
        struct srv_irq_line *l = &s->irq.line[index][k];
        close_fd(&l->efd);
        close_fd(&l->mask_efd);
        close_fd(&l->unmask_efd);
    }
}

void srv_irq_close_all(struct srv *s)
{
    for (unsigned i = 0; i < TOYDEV_NUM_IRQS; i++)
        if (s->irq.line[i]) close_index(s, i);
}

void srv_irq_reset(struct srv *s)
{
    for (unsigned i = 0; i < TOYDEV_NUM_IRQS; i++)
        for (uint32_t k = 0; k < s->irq.info[i].count; k++)
            s->irq.line[i][k].masked = s->irq.line[i][k].pending = false;
}

/* An eventfd write blocks only when the counter is full (a client could
 * fill it on purpose): never wait for it. */
static void signal_fd(int fd)
{
    if (fd < 0) return;
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    uint64_t one = 1;
    if (poll(&p, 1, 0) == 1 && (p.revents & POLLOUT) && write(fd, &one, sizeof one) != sizeof one)
        srv_log("eventfd %d: write failed", fd);
}

static void deliver(struct srv *s, unsigned index, unsigned sub)
{
    struct srv_irq_line *l = &s->irq.line[index][sub];
    if (l->masked || !srv_running(s)) {
        l->pending = true;
        return;
    }
    l->pending = false;
    signal_fd(l->efd);
    if (s->irq.info[index].flags & VFU_IRQ_INFO_FLAGS_AUTOMASKED) {
        l->masked = true;
        signal_fd(l->mask_efd);
    }
}

void srv_irq_raise(struct srv *s, unsigned index, unsigned sub)
{
    if (index >= TOYDEV_NUM_IRQS || sub >= s->irq.info[index].count) return;
    deliver(s, index, sub);
}

void srv_irq_flush(struct srv *s)
{
    for (unsigned i = 0; i < TOYDEV_NUM_IRQS; i++)
        for (uint32_t k = 0; k < s->irq.info[i].count; k++)
            if (s->irq.line[i][k].pending) deliver(s, i, k);
}

int srv_h_irq_info(struct srv *s, const struct vfu_msg *m, int *fds)
{
    (void)fds;
    uint64_t index = vfu_get(m, VFU_F_IRQ_INFO_REQ_INDEX);
    if (index >= TOYDEV_NUM_IRQS && !srv_fault(s, FAULT_IRQ_INFO_BAD_INDEX_OK)) return EINVAL;
    static const struct toydev_irq none = {0, 0};
    const struct toydev_irq *info = index < TOYDEV_NUM_IRQS ? &s->irq.info[index] : &none;
    struct vfu_enc e;
    srv_reply_begin(s, m, &e);
    vfu_enc_set(&e, VFU_F_IRQ_INFO_FLAGS, info->flags);
    vfu_enc_set(&e, VFU_F_IRQ_INFO_INDEX, index);
    vfu_enc_set(&e, VFU_F_IRQ_INFO_COUNT, info->count);
    return srv_reply_send(s, m, &e);
}

/* Anything else (a pipe, a socket) could block our writes or mean nothing. */
static bool is_eventfd(int fd)
{
    char path[64], link[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n < 0) return false;
    link[n] = 0;
    return strcmp(link, "anon_inode:[eventfd]") == 0;
}

int srv_h_set_irqs(struct srv *s, const struct vfu_msg *m, int *fds)
{
    uint32_t flags = (uint32_t)vfu_get(m, VFU_F_SET_IRQS_FLAGS);
    uint64_t index = vfu_get(m, VFU_F_SET_IRQS_INDEX);
    uint64_t start = vfu_get(m, VFU_F_SET_IRQS_START), count = vfu_get(m, VFU_F_SET_IRQS_COUNT);
    if (index >= TOYDEV_NUM_IRQS) return EINVAL;
    const struct toydev_irq *info = &s->irq.info[index];
    bool mask_action = flags & (VFU_IRQ_SET_FLAGS_ACTION_MASK | VFU_IRQ_SET_FLAGS_ACTION_UNMASK);
    if (mask_action && !(info->flags & VFU_IRQ_INFO_FLAGS_MASKABLE)) return EINVAL;

    if (count == 0) {
        /* the spec's one count-0 form: DATA_NONE with start 0 disables the
         * index; it means nothing for masking */
        if (!(flags & VFU_IRQ_SET_FLAGS_DATA_NONE) || start != 0 || mask_action) return EINVAL;
        close_index(s, (unsigned)index);
        for (uint32_t k = 0; k < info->count; k++)
            s->irq.line[index][k].masked = s->irq.line[index][k].pending = false;
        return srv_reply_empty(s, m);
    }
    /* the fault set-irqs-wrap32: the range judged by its end in 32 bits
     * (start+count past 2^32 looks small); what it admits outside the
     * vectors is answered and not done */
    if (srv_fault(s, FAULT_SET_IRQS_WRAP32) && (uint32_t)(start + count) <= info->count &&
        (start >= info->count || count > info->count - start))
        return srv_reply_empty(s, m);
    if (start >= info->count || count > info->count - start) {
        if (!srv_fault(s, FAULT_SET_IRQS_COUNT_UNCHECKED)) return EINVAL;
        /* the fault: what lies past the index's vectors is dropped */
        if (start >= info->count) return srv_reply_empty(s, m);
        count = info->count - start;
    }
    struct srv_irq_line *l = &s->irq.line[index][start];

    if (flags & VFU_IRQ_SET_FLAGS_DATA_EVENTFD) {
        for (unsigned i = 0; i < m->nfds; i++)
            if (!is_eventfd(fds[i])) return EINVAL;
        for (uint64_t k = 0; k < count; k++) {
            int *slot = (flags & VFU_IRQ_SET_FLAGS_ACTION_MASK)     ? &l[k].mask_efd
                        : (flags & VFU_IRQ_SET_FLAGS_ACTION_UNMASK) ? &l[k].unmask_efd
                                                                    : &l[k].efd;
            close_fd(slot);
            /* the fault set-irqs-eventfd-last-dropped: of several eventfds
             * the last is not wired (an off-by-one loop bound) */
            if (m->nfds > 1 && k + 1 == count && srv_fault(s, FAULT_SET_IRQS_EVENTFD_LAST_DROPPED)) continue;
            /* no fds: de-assign the range */
            if (m->nfds) *slot = srv_take_fd(m, fds, (unsigned)k);
        }
        return srv_reply_empty(s, m);
    }

    uint32_t blen = 0;
    const uint8_t *bools = (flags & VFU_IRQ_SET_FLAGS_DATA_BOOL)
                               ? vfu_data(m, VFU_F_SET_IRQS_DATA, &blen) : NULL;
    for (uint64_t k = 0; k < count; k++) {
        if (bools && !bools[k] && !srv_fault(s, FAULT_IRQ_BOOL_IGNORED)) continue;
        if (flags & VFU_IRQ_SET_FLAGS_ACTION_MASK) {
            l[k].masked = true;
        } else if (flags & VFU_IRQ_SET_FLAGS_ACTION_UNMASK) {
            l[k].masked = false;
            if (l[k].pending) deliver(s, (unsigned)index, (unsigned)(start + k));
        } else {
            /* the client triggers the interrupt itself */
            deliver(s, (unsigned)index, (unsigned)(start + k));
        }
    }
    return srv_reply_empty(s, m);
}
