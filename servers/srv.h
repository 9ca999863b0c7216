/* The reference vfio-user server's protocol core: a function of (server
 * state, one message) -> replies and server-to-client requests.  It owns no
 * socket: everything leaves through struct srv_peer, so the same code runs
 * under the poll loop (srv_loop.c), in-process tests and fuzzers.
 *
 * File descriptors: a message's fds arrive in a mutable array; a handler
 * that keeps one (DMA_MAP fd, SET_IRQS eventfds) sets its slot to -1.  The
 * caller closes whatever is left. */
#ifndef SRV_H
#define SRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfu_codec.h"
#include "srv_fault.h"

/* What the server advertises in VERSION and enforces afterwards. */
struct srv_opts {
    uint64_t max_data_xfer_size;
    uint32_t max_msg_fds;
    uint32_t max_dma_maps;
    uint64_t pgsizes;
    bool twin_socket;
    bool write_multiple;
    bool migration;
    srv_fault_set faults;   /* --fault: rules broken on purpose (srv_fault.h) */
    /* personalities a correct client copes with (vfu-conform --client):
     * dma_mmap off maps no DMA_MAP fd, so every window is reached with
     * DMA_READ / DMA_WRITE messages; dma_probe reads each new window (and
     * writes the bytes back where it is writable) while the client's next
     * request waits for its reply */
    bool dma_mmap;
    bool dma_probe;
};

void srv_opts_default(struct srv_opts *o);

struct srv_peer {
    /* A reply (or any message the server originates without waiting):
     * e->buf[0..e->len) with e->fds.  False: the connection is gone. */
    bool (*send)(void *ctx, const struct vfu_enc *e, struct vfu_error *err);
    /* A server-to-client request (DMA_READ / DMA_WRITE): send it and wait
     * for the reply with the same msg_id, decoded into *reply (which
     * borrows the peer's buffer until the next call).  On the twin socket
     * when one was handed over. */
    bool (*request)(void *ctx, const struct vfu_enc *req, struct vfu_msg *reply,
                    struct vfu_error *err);
    /* The server end of a negotiated twin socket; the peer owns it from
     * now on.  NULL: the server never offers a twin socket. */
    bool (*twin)(void *ctx, int fd);
    /* Receive limits changed (after VERSION); NULL if the peer does not care. */
    void (*limits)(void *ctx, const struct vfu_limits *rx);
    void *ctx;
};

enum srv_verdict {
    SRV_CONTINUE,
    SRV_CLOSE,   /* end this client's session (failed VERSION, dead peer) */
};

struct srv;

/* NULL with *err = errno.  The peer must outlive the server. */
struct srv *srv_create(const struct srv_opts *o, const struct srv_peer *peer, int *err);
void srv_destroy(struct srv *s);

/* One received message: decoded with the server's current receive limits,
 * then handled.  fds[i] set to -1 when kept. */
enum srv_verdict srv_input(struct srv *s, const uint8_t *buf, size_t len, int *fds,
                           unsigned nfds);
/* One already decoded message (m->fds must alias fds). */
enum srv_verdict srv_handle(struct srv *s, const struct vfu_msg *m, int *fds);
/* A message that failed to decode: error reply unless No_reply (or the
 * header itself was unreadable).  Returns SRV_CLOSE for a failed VERSION. */
enum srv_verdict srv_reject(struct srv *s, const struct vfu_msg *m, const struct vfu_error *err);

/* dma_probe (srv_opts): whether a window awaits its probe, and the probe
 * itself.  The loop runs it before it hands over the next command, with
 * that command already copied aside: the probe's replies arrive in the
 * buffer the command was read into. */
bool srv_dma_probe_due(const struct srv *s);
void srv_dma_probe(struct srv *s);

/* The client went away: unmap DMA, close its IRQ fds and ioeventfd, stop
 * dirty logging, forget the negotiation.  The device keeps its state. */
void srv_disconnect(struct srv *s);

/* Back to the state srv_create left: client gone (as srv_disconnect), the
 * device reset, interrupts unmasked, migration RUNNING, message ids from 1.
 * What srv_create allocated is kept: an in-process fuzzer gets a fresh
 * device per run without the cost of a fresh server. */
void srv_reset(struct srv *s);

/* What the server accepts right now (defaults until VERSION). */
const struct vfu_limits *srv_rx_limits(const struct srv *s);
/* The doorbell ioeventfd handed out by GET_REGION_IO_FDS, or -1. */
int srv_ioeventfd(const struct srv *s);
/* The ioeventfd was signalled: run the doorbell (which may need the
 * client, for message-based DMA). */
enum srv_verdict srv_ioevent(struct srv *s);
bool srv_negotiated(const struct srv *s);

/* How the server decodes what it receives.  Zero padding past a request's
 * structure is taken (libvfio-user's sample client pads
 * DEVICE_GET_REGION_INFO to its argsz; the spec sizes messages by msg_size
 * and is silent on trailing bytes) and counted as the client's deviation;
 * non-zero trailing bytes are still refused. */
#define SRV_DECODE_OPTS VFU_DEC_ZERO_PADDING

/* What the client did that the server tolerates but the spec's layout does
 * not describe: read by the client-conformance work after (or during) a
 * session.  Counted over the server's life; each kind is logged on stderr
 * once per command and client session. */
enum srv_deviation_kind {
    SRV_DEV_ZERO_PADDING,   /* a request padded with zero bytes past its structure */
    SRV_DEV__COUNT
};

struct srv_deviations {
    uint64_t messages[SRV_DEV__COUNT];                     /* how many requests */
    uint64_t bytes[SRV_DEV__COUNT];                        /* padding bytes in all */
    uint64_t by_cmd[SRV_DEV__COUNT][VFU_CMD_MAX + 1];      /* requests, per command */
};

const struct srv_deviations *srv_deviations(const struct srv *s);

/* SIGBUS from a DMA mapping whose file the client shrank turns into
 * -EFAULT for that access instead of killing the process.  Installs a
 * process-wide handler; call once from main or a test. */
void srv_sigbus_guard_install(void);

/* one line on stderr, "vfu-refserver: " first */
void srv_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* no more lines from srv_log (in-process fuzzing: millions of runs, each
 * a stray reply or two) */
void srv_log_mute(bool mute);

#endif
