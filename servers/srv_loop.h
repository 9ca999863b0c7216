/* The server program's event loop: one client at a time over a listening
 * socket (or one already connected), its twin socket, and the doorbell
 * ioeventfd, all in one poll. */
#ifndef SRV_LOOP_H
#define SRV_LOOP_H

#include "srv.h"
#include "vfu_transport.h"

/* A tool standing between the server and its client (vfu-fuzz --client):
 * send, when set, is how every reply leaves (it may send e, something else
 * first or instead, or nothing and return false to end the session); recv,
 * when set, sees every message the client sends (commands, and replies to
 * the server's DMA requests) before it is handled. */
struct srv_loop_tap {
    bool (*send)(void *ctx, struct vfu_conn *c, const struct vfu_enc *e, struct vfu_error *err);
    void (*recv)(void *ctx, const uint8_t *buf, size_t len, const int *fds, unsigned nfds);
    void *ctx;
    /* the socket takes up to this many fds a message (0: the server's own
     * max_msg_fds), so that recv sees a message with more fds than the
     * server advertised whole, as it was sent; the server still refuses it */
    unsigned rx_max_fds;
};

struct srv_loop_cfg {
    struct srv_opts opt;
    int lfd;          /* listening socket, or -1 */
    int cfd;          /* a connected client to serve alone, or -1 */
    bool once;        /* stop after the first client */
    int verbose;
    int timeout_ms;   /* rest of a message once it started, and replies to our requests */
    const struct srv_loop_tap *tap;   /* NULL: none */
};

/* Runs until the (first, with once) client is gone; 0, or 1 on a fatal
 * error (logged).  Takes lfd and cfd. */
int srv_loop_run(const struct srv_loop_cfg *cfg);

/* vfu_trace_hook for -v; ctx is a label ("" or " twin") */
void srv_trace(void *ctx, enum vfu_trace_dir dir, const uint8_t *buf, size_t len, const int *fds,
               unsigned nfds, const struct vfu_error *framing_err);

#endif
