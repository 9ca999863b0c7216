/* The reference server serving one client connection in a thread of the
 * calling tool, with a tap (srv_loop.h) between it and the client: how
 * vfu-fuzz --client plays a hostile server and vfu-conform --client a
 * judging one.  Signals stay with the caller's main thread. */
#ifndef SRV_HOST_H
#define SRV_HOST_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "srv_loop.h"

struct srv_host {
    struct srv_loop_cfg cfg;
    pthread_t th;
    atomic_bool done;    /* the session is over (the loop returned) */
    int cfd_dup;         /* the connection, for srv_host_shut */
    bool started;
};

/* Serves cfd (taken) with a reference server created from *o; timeout_ms
 * bounds the rest of a message and each reply to a server request.  false
 * (cfd closed) when no thread could be started. */
bool srv_host_start(struct srv_host *h, int cfd, const struct srv_opts *o, int timeout_ms,
                    const struct srv_loop_tap *tap);
bool srv_host_done(struct srv_host *h);
/* Ends the session from outside: the connection is shut down both ways,
 * so the loop's next read or write fails and it returns. */
void srv_host_shut(struct srv_host *h);
/* Waits for the loop to return and frees what start took. */
void srv_host_join(struct srv_host *h);

#endif
