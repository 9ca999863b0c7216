/* The server program's event loop: one client at a time over a listening
 * socket (or one already connected), its twin socket, and the doorbell
 * ioeventfd, all in one poll. */
#ifndef SRV_LOOP_H
#define SRV_LOOP_H

#include "srv.h"
#include "transport.h"

struct srv_loop_cfg {
    struct srv_opts opt;
    int lfd;          /* listening socket, or -1 */
    int cfd;          /* a connected client to serve alone, or -1 */
    bool once;        /* stop after the first client */
    int verbose;
    int timeout_ms;   /* rest of a message once it started, and replies to our requests */
};

/* Runs until the (first, with once) client is gone; 0, or 1 on a fatal
 * error (logged).  Takes lfd and cfd. */
int srv_loop_run(const struct srv_loop_cfg *cfg);

/* vfu_trace_hook for -v; ctx is a label ("" or " twin") */
void srv_trace(void *ctx, enum vfu_trace_dir dir, const uint8_t *buf, size_t len, const int *fds,
               unsigned nfds, const struct vfu_error *framing_err);

#endif
