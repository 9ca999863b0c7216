/* The session driver: plays one session input (lib/runtime/fuzz_session.h) against
 * a vfio-user server's message handler, in process.  The reference server
 * is one handler (fuzz/session_refserver.c); a server author fuzzes their
 * own by filling in a struct fuzz_server and linking fuzz/session_driver.c
 * (fuzz/README.md, "Plugging in your own server").
 *
 * Per run the driver:
 *  - calls reset() first: the handler must be back in one fixed state
 *    (a fresh device, no client), so that every run is deterministic;
 *  - for each `msg` record opens its fds (memfds, eventfds, ... as the
 *    record says), applies the fix-up flags and calls input(); fds the
 *    handler keeps it sets to -1, the driver closes the rest;
 *  - answers every server-to-client request the handler makes through
 *    fuzz_session_request() with the next `reply` record;
 *  - `disconnect` records call disconnect(), `ioevent` records ioevent();
 *  - after the last record calls disconnect() and then checks that every
 *    fd it handed over during the run is closed again: a handler that
 *    keeps one past its client's disconnect leaks it, and the driver
 *    aborts with the fd's number (memory leaks are LeakSanitizer's job).
 *
 * The handler runs single-threaded, one run at a time. */
#ifndef FUZZ_SESSION_DRIVER_H
#define FUZZ_SESSION_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfu_codec.h"

struct fuzz_session;

struct fuzz_server {
    const char *name;
    /* Once per process (LLVMFuzzerInitialize or the first run): whatever
     * can be reused across runs.  NULL: the handler cannot run. */
    void *(*create)(struct fuzz_session *fs);
    /* Start of every run: back to the fixed initial state. */
    void (*reset)(void *h);
    /* One client message (header first), with fds[0..nfds); set a slot
     * to -1 to keep that fd.  False: the server ends this client's
     * connection (the driver then skips to the next `disconnect`). */
    bool (*input)(void *h, const uint8_t *msg, size_t len, int *fds, unsigned nfds);
    /* The client went away. */
    void (*disconnect)(void *h);
    /* The server's doorbell ioeventfd (if it handed one out) was written
     * to; may be NULL.  False: the connection ends. */
    bool (*ioevent)(void *h);
};

/* Runs one input; returns 0 (libFuzzer's convention). */
int fuzz_session_run(const struct fuzz_server *srv, const uint8_t *data, size_t size);

/* For the handler: sends request req[0..len) to the client and returns its
 * answer, the next `reply` record of the input (msg_id and msg_size fixed
 * up as its flags say), with its fds.  A reply whose msg_id or command does
 * not match the request's is dropped as a late reply and the next one is
 * taken, as a socket server would.  *reply, *fds stay valid until the next
 * call or the end of the run; fds the caller keeps it sets to -1.  False:
 * no reply left (the client is gone). */
bool fuzz_session_request(struct fuzz_session *fs, const uint8_t *req, size_t len,
                          const uint8_t **reply, size_t *reply_len, int **fds, unsigned *nfds);

/* The receive limits the handler enforces now, for decoding replies (the
 * handler tells the driver after VERSION; defaults until then). */
void fuzz_session_set_limits(struct fuzz_session *fs, const struct vfu_limits *rx);
const struct vfu_limits *fuzz_session_limits(const struct fuzz_session *fs);

#endif
