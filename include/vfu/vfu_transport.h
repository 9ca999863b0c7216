/* AF_UNIX stream transport: whole messages with their SCM_RIGHTS fds, over
 * partial reads and writes, with poll timeouts.  Limits are enforced from
 * the header before the rest of a message is read; fds that arrive with a
 * message belong to the connection until taken, and are closed otherwise. */
#ifndef VFU_TRANSPORT_H
#define VFU_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfu_codec.h"

enum vfu_trace_dir { VFU_TRACE_RX, VFU_TRACE_TX };

/* Called with every whole message sent or received on a connection
 * (framing_err NULL), and when one fails part way with the bytes that got
 * through (len may be short then) and the error.  fds are those that came
 * or went with it; on failure they are closed right after the call. */
struct vfu_trace_hook {
    void (*fn)(void *ctx, enum vfu_trace_dir dir, const uint8_t *buf, size_t len,
               const int *fds, unsigned nfds, const struct vfu_error *framing_err);
    void *ctx;
};

struct vfu_conn {
    int fd;
    struct vfu_limits lim;     /* what this side accepts (max_fds <= VFU_MAX_FDS) */
    int timeout_ms;            /* per whole message, first byte included; -1 waits forever */
    uint8_t *rbuf;             /* one received message; never sized by the peer */
    size_t rcap;
    uint32_t rlen;             /* bytes of it in rbuf (also after a failed receive) */
    int rfds[VFU_MAX_FDS];     /* fds of the last message; -1 once taken */
    unsigned nrfds;
    struct vfu_trace_hook trace;
    /* Read-ahead (off unless the owner sets it): one recvmsg takes as much
     * as has arrived, up to the receive buffer, so a whole message usually
     * comes in one call; bytes past the message wait in `ahead` for the
     * next vfu_recv, with the fds that came with them.  An owner that polls
     * c->fd must ask vfu_conn_pending first: what waits here makes no
     * noise on the socket. */
    bool read_ahead;
    uint8_t *ahead;
    size_t acap;
    uint32_t alen;
    int afds[VFU_MAX_FDS];     /* fds of the message at ahead[a_fd_at] */
    unsigned nafds, a_arrived;
    bool a_ctrunc;
    uint32_t a_fd_at;
};

/* Every socket is close-on-exec.  System call failures are VFU_E_IO with
 * sys_errno set.  A socket file already at path is removed only when it is a
 * socket nobody listens on (a listener there sees one connection opened and
 * closed by the check); anything else there gives EADDRINUSE.  Timeouts are
 * in ms, -1 for none, and give VFU_E_TIMEOUT. */
int vfu_listen(const char *path, struct vfu_error *err);                 /* fd or -1 */
/* A stop every wait of the transport ends on, as if timed out: fd becomes
 * readable, or pending() returns non-zero (lib/runtime/stopsig.c sets its
 * signal pipe here; the transport itself knows nothing of signals). */
void vfu_transport_set_stop(int fd, int (*pending)(void));
/* that stop, for callers with waits of their own (the client library):
 * the fd (-1: none) and whether it has happened */
int vfu_transport_stop_fd(void);
bool vfu_transport_stopped(void);
int vfu_accept(int lfd, int timeout_ms, struct vfu_error *err);          /* fd or -1 */
int vfu_connect(const char *path, int timeout_ms, struct vfu_error *err);/* fd or -1 */
/* the two ends of a twin socket (or any connected pair) */
bool vfu_socketpair(int sv[2], struct vfu_error *err);

/* Takes ownership of fd (closed here on failure); allocates a receive buffer
 * of lim->max_msg_size (NULL: the spec defaults).  No trace hook, no timeout. */
bool vfu_conn_init(struct vfu_conn *c, int fd, const struct vfu_limits *lim, struct vfu_error *err);
/* After negotiation: new limits; the buffer grows or shrinks to match (its
 * bytes move, so a vfu_msg borrowing it is stale).  On failure nothing changes. */
bool vfu_conn_set_limits(struct vfu_conn *c, const struct vfu_limits *lim, struct vfu_error *err);
void vfu_conn_close(struct vfu_conn *c);

/* Sends buf as given (no framing check, so bad messages can be sent on
 * purpose), all fds with its first bytes, over partial writes, within
 * c->timeout_ms.  A peer that is gone is VFU_E_EOF, never SIGPIPE. */
bool vfu_send(struct vfu_conn *c, const uint8_t *buf, size_t len, const int *fds, unsigned nfds,
              struct vfu_error *err);
/* sends an encoded message; an encoder error is returned unsent */
bool vfu_send_enc(struct vfu_conn *c, const struct vfu_enc *e, struct vfu_error *err);

/* One whole message into c->rbuf / c->rlen and its fds into c->rfds.  The
 * fds of the previous message that were not taken are closed first.
 * msg_size is checked against c->lim once the header is in, before any more
 * is read.  On failure everything received with the message is closed and
 * c->rlen says how much of it arrived:
 *   VFU_E_EOF      peer closed; got 0 at a message boundary, else bytes received
 *   VFU_E_TIMEOUT  the whole message did not arrive within c->timeout_ms
 *   VFU_E_FD_TRUNC more fds than lim.max_fds (got: how many came), or the
 *                  kernel truncated them; the message itself was read whole,
 *                  so the stream stays in step and an error reply can go out
 *   VFU_E_SIZE_BELOW_HDR / VFU_E_SIZE_LIMIT, VFU_E_IO: the stream cannot be
 *                  trusted after these and should be closed. */
bool vfu_recv(struct vfu_conn *c, struct vfu_error *err);
/* With read_ahead: as vfu_recv, but the first byte is waited for as long
 * as it takes in a blocking recvmsg (no poll first: one system call when
 * the whole message is there); c->timeout_ms bounds the rest.  Without
 * read_ahead it is vfu_recv. */
bool vfu_recv_idle(struct vfu_conn *c, struct vfu_error *err);
/* bytes of a next message are already read (read_ahead): vfu_recv takes
 * them before the socket, and polling c->fd would not show them */
bool vfu_conn_pending(const struct vfu_conn *c);

/* vfu_recv then vfu_decode; m borrows c->rbuf and c->rfds.  When decoding
 * fails the fds are closed, and c->rbuf still holds the message (its header
 * gives msg_id and command for an error reply). */
bool vfu_recv_msg(struct vfu_conn *c, struct vfu_msg *m, enum vfu_role receiver,
                  struct vfu_error *err);
/* caller takes ownership of received fd i; -1 if none */
int vfu_conn_take_fd(struct vfu_conn *c, unsigned i);
void vfu_conn_close_fds(struct vfu_conn *c);
/* waits until c->fd is readable (or the peer hung up): 1 readable,
 * 0 timeout, -1 error with errno set */
int vfu_conn_wait(struct vfu_conn *c, int timeout_ms);

#endif
