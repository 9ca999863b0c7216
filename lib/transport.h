/* AF_UNIX stream transport: whole messages with their SCM_RIGHTS fds, over
 * partial reads and writes, with poll timeouts.  Limits are enforced from
 * the header before the rest of a message is read; fds that arrive with a
 * message belong to the connection until taken, and are closed otherwise. */
#ifndef VFU_TRANSPORT_H
#define VFU_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"

enum vfu_trace_dir { VFU_TRACE_RX, VFU_TRACE_TX };

/* Called with every whole message sent or received on a connection, and
 * with what arrived before a framing failure (len may be short then). */
struct vfu_trace_hook {
    void (*fn)(void *ctx, enum vfu_trace_dir dir, const uint8_t *buf, size_t len,
               const int *fds, unsigned nfds, const struct vfu_error *framing_err);
    void *ctx;
};

struct vfu_conn {
    int fd;
    struct vfu_limits lim;     /* what this side accepts */
    int timeout_ms;            /* per message; -1 waits forever */
    uint8_t *rbuf;             /* one received message */
    size_t rcap;
    uint32_t rlen;
    int rfds[VFU_MAX_FDS];     /* fds of the last message; -1 once taken */
    unsigned nrfds;
    struct vfu_trace_hook trace;
};

int vfu_listen(const char *path, struct vfu_error *err);                 /* fd or -1 */
int vfu_accept(int lfd, int timeout_ms, struct vfu_error *err);          /* fd or -1 */
int vfu_connect(const char *path, int timeout_ms, struct vfu_error *err);/* fd or -1 */
/* the two ends of a twin socket (or any connected pair) */
bool vfu_socketpair(int sv[2], struct vfu_error *err);

/* takes ownership of fd; allocates a receive buffer of lim->max_msg_size */
bool vfu_conn_init(struct vfu_conn *c, int fd, const struct vfu_limits *lim, struct vfu_error *err);
/* after negotiation: new limits (the buffer grows or shrinks to match) */
bool vfu_conn_set_limits(struct vfu_conn *c, const struct vfu_limits *lim, struct vfu_error *err);
void vfu_conn_close(struct vfu_conn *c);

bool vfu_send(struct vfu_conn *c, const uint8_t *buf, size_t len, const int *fds, unsigned nfds,
              struct vfu_error *err);
bool vfu_send_enc(struct vfu_conn *c, const struct vfu_enc *e, struct vfu_error *err);

/* One whole message into c->rbuf / c->rlen and its fds into c->rfds.  The
 * fds of the previous message that were not taken are closed first.  On
 * failure (EOF, timeout, framing) everything received with it is closed;
 * after a framing failure the stream cannot be trusted and should be closed. */
bool vfu_recv(struct vfu_conn *c, struct vfu_error *err);
/* vfu_recv then vfu_decode; m borrows c->rbuf and c->rfds */
bool vfu_recv_msg(struct vfu_conn *c, struct vfu_msg *m, enum vfu_role receiver,
                  struct vfu_error *err);
/* caller takes ownership of received fd i; -1 if none */
int vfu_conn_take_fd(struct vfu_conn *c, unsigned i);
void vfu_conn_close_fds(struct vfu_conn *c);
/* waits until c->fd is readable: 1 readable, 0 timeout, -1 error */
int vfu_conn_wait(struct vfu_conn *c, int timeout_ms);

#endif
