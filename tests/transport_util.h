/* Helpers for the transport tests: raw sends that bypass vfu_send, so the
 * receiver is checked against bytes and fds exactly as a peer chose them,
 * and fd accounting through /proc/self/fd. */
#ifndef TRANSPORT_UTIL_H
#define TRANSPORT_UTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "vfu_codec.h"
#include "vfu_transport.h"

static inline int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

static inline bool fd_is_open(int fd)
{
    return fd >= 0 && fcntl(fd, F_GETFD) != -1;
}

/* one sendmsg of exactly these bytes and fds; returns what sendmsg did */
static inline ssize_t raw_send(int sock, const void *buf, size_t len, const int *fds, unsigned nfds)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * 16)];
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds) {
        mh.msg_control = ctl.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
    }
    return sendmsg(sock, &mh, MSG_NOSIGNAL);
}

/* a header for a message of msg_size bytes, payload filled with a pattern */
static inline void raw_msg(uint8_t *buf, uint16_t cmd, uint16_t msg_id, uint32_t msg_size,
                           size_t fill)
{
    struct vfu_hdr h = {.msg_id = msg_id, .cmd = cmd, .msg_size = msg_size,
                        .flags = VFU_MSG_TYPE_COMMAND};
    vfu_hdr_encode(buf, &h);
    for (size_t i = VFU_HDR_SIZE; i < fill; i++) buf[i] = (uint8_t)(i * 7 + 3);
}

/* a REGION_WRITE request carrying n bytes of patterned data */
static inline size_t enc_region_write(struct vfu_enc *e, uint8_t *buf, size_t cap, uint16_t id,
                                      size_t n)
{
    vfu_enc_begin(e, buf, cap, VFU_CMD_REGION_WRITE, false, id);
    vfu_enc_set(e, VFU_F_REGION_ACCESS_DATA_OFFSET, 0x40);
    vfu_enc_set(e, VFU_F_REGION_ACCESS_DATA_REGION, 2);
    uint8_t *d = vfu_enc_data(e, VFU_F_REGION_ACCESS_DATA_DATA, NULL, n);
    for (size_t i = 0; d && i < n; i++) d[i] = (uint8_t)(i ^ (i >> 8) ^ id);
    struct vfu_error err;
    return vfu_enc_finish(e, &err) ? e->len : 0;
}

static inline int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* two connections over a fresh socketpair, default limits */
static inline bool conn_pair(struct vfu_conn *a, struct vfu_conn *b)
{
    int sv[2];
    struct vfu_error err;
    if (!vfu_socketpair(sv, &err)) return false;
    if (!vfu_conn_init(a, sv[0], NULL, &err)) { close(sv[1]); return false; }
    if (!vfu_conn_init(b, sv[1], NULL, &err)) { vfu_conn_close(a); return false; }
    return true;
}

#endif
