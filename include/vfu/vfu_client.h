/* Scripted vfio-user test client: drives any vfio-user server for the
 * conformance harness.  It sends whatever it is told to (well-formed or
 * not), waits for replies while servicing the server's DMA_READ/DMA_WRITE on
 * the main and twin sockets, and records every rule the server breaks as a
 * value (struct vfu_violation) instead of stopping at the first.
 *
 * One client is single-threaded: every wait (call, irq wait, pump) is where
 * server requests get serviced.  Built on lib/ (codec, transport, caps).
 *
 *   c = vfu_client_connect(path, 1000, NULL, &err);
 *   vfu_proposal_default(&p);  vfu_client_negotiate(c, &p, 5000, &res);
 *   i = vfu_mem_add(c, 0x100000, 1 << 20, READ|WRITE, VFU_MEM_MEMFD, &err);
 *   vfu_reply_init(&r);  vfu_client_dma_map(c, i, -2, &r);
 *   vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_REGION_READ, false, 0); ...
 *   switch (vfu_client_call(c, &e, NULL, -2, &r)) { case VFU_CALL_REPLY: ... }
 *   vfu_client_violations(c, &n);  vfu_reply_release(&r);  vfu_client_close(c);
 *
 * Server requests are answered as follows (and recorded as violations when
 * the server broke a rule):
 *   DMA_READ / DMA_WRITE inside memory we exported, with the access its
 *     DMA_MAP allowed: served (it may span adjacent regions); count 0 always
 *   range not inside exported memory           error reply EFAULT
 *   no READ (DMA_READ) / WRITE (DMA_WRITE) access  error reply EPERM
 *   count above OUR max_data_xfer_size          error reply E2BIG
 *   anything that does not decode, or a command the server may not send
 *                                               errno of the broken rule
 *                                               (vfu_errc_errno)
 *   No_reply set                                no reply at all */
#ifndef VFU_CLIENT_H
#define VFU_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfu_caps.h"
#include "vfu_codec.h"
#include "vfu_transport.h"
#include "vfu_error.h"

struct vfu_client;

/* the two sockets of a connection */
enum vfu_sock { VFU_SOCK_MAIN = 0, VFU_SOCK_TWIN = 1 };

/* ------------------------------------------------------------ options --- */

/* Answers the server's requests (DMA_READ, DMA_WRITE, any command it
 * sends) instead of serving them: fn writes a whole message, header first,
 * into buf (at most cap bytes) with *nfds fds in fds (the client closes
 * them once sent) and returns its length; 0 lets the client serve the
 * request as usual.  For fuzzers, whose answers may be hostile: the client
 * neither checks nor records what fn sends. */
struct vfu_client_answer {
    size_t (*fn)(void *ctx, enum vfu_sock sock, const struct vfu_hdr *req, uint8_t *buf, size_t cap,
                 int *fds, unsigned *nfds);
    void *ctx;
};
#define VFU_CLIENT_ANSWER_CAP (VFU_HDR_SIZE + 65536)

/* In-process clients (no socket) hand what they send to this callback. */
struct vfu_client_sink {
    void (*fn)(void *ctx, enum vfu_sock sock, const uint8_t *buf, size_t len, const int *fds,
               unsigned nfds);
    void *ctx;
};

struct vfu_client_opts {
    int timeout_ms;            /* default wait of vfu_client_call; -1 forever */
    int frame_timeout_ms;      /* rest of a message once its first byte came */
    /* DMA_WRITE reply: false sends the spec's form (address u64, count u32);
     * true sends libvfio-user's 16-byte form (count u64), which libvfio-user
     * servers require: they drop the connection on the spec form. */
    bool dma_write_ack_u64;
    /* largest message we accept; 0: header + 64 KiB + our max_data_xfer_size,
     * at most VFU_CLIENT_RX_CAP (the transport allocates it up front) */
    uint32_t rx_max_msg_size;
    struct vfu_trace_hook trace;       /* main socket (and fed messages) */
    struct vfu_trace_hook trace_twin;  /* twin socket; no fn: trace as well */
    struct vfu_client_sink sink;   /* vfu_client_inproc only */
    struct vfu_client_answer answer;
};

#define VFU_CLIENT_RX_CAP (16u * 1024 * 1024 + 64 * 1024)
#define VFU_CLIENT_MAX_PENDING 256   /* outstanding requests (incl. No_reply) */
#define VFU_CLIENT_MAX_VIOLATIONS 128/* kept; later ones are only counted */
#define VFU_CLIENT_MAX_REGIONS 64
#define VFU_CLIENT_MAX_EVENTFDS 256
#define VFU_CLIENT_DEFAULT_MAX_MSG_FDS 16   /* what vfu_proposal_default offers */

void vfu_client_opts_default(struct vfu_client_opts *o);

/* ---------------------------------------------------------- lifecycle --- */

/* o may be NULL (defaults).  NULL with err set on failure. */
struct vfu_client *vfu_client_connect(const char *path, int timeout_ms,
                                      const struct vfu_client_opts *o, struct vfu_error *err);
/* takes ownership of a connected socket, even on failure */
struct vfu_client *vfu_client_adopt(int fd, const struct vfu_client_opts *o, struct vfu_error *err);
/* no socket at all: messages come in through vfu_client_feed and go out to
 * o->sink (may be empty: discarded) */
struct vfu_client *vfu_client_inproc(const struct vfu_client_opts *o, struct vfu_error *err);
/* closes both sockets, every eventfd and memfd, unmaps guest memory, drops
 * stored replies (and their fds) */
void vfu_client_close(struct vfu_client *c);

/* the main/twin socket fd, -1 if none (e.g. to shut it down in a test) */
int vfu_client_fd(const struct vfu_client *c, enum vfu_sock sock);
/* the main socket saw EOF, or broke (framing, I/O) */
bool vfu_client_peer_closed(const struct vfu_client *c);
bool vfu_client_broken(const struct vfu_client *c);

/* -------------------------------------------------------- violations --- */

enum vfu_viol_kind {
    VFU_V_DECODE,            /* a server message breaks the codec rules (err says which) */
    VFU_V_FRAMING,           /* the stream broke: bad msg_size, message cut short */
    VFU_V_VERSION,           /* VERSION reply: major differs or minor above ours */
    VFU_V_CAPS,              /* VERSION reply capabilities: JSON, types, not a subset */
    VFU_V_TWIN,              /* twin_socket reply inconsistent (session cannot go on) */
    VFU_V_XFER_LIMIT,        /* DMA count above OUR max_data_xfer_size (err.got: count) */
    VFU_V_DMA_ADDRESS,       /* DMA outside the memory we exported with DMA_MAP */
    VFU_V_DMA_PERM,          /* DMA_WRITE to memory mapped without WRITE (or READ) */
    VFU_V_UNEXPECTED_REPLY,  /* reply whose msg id matches no request of ours */
    VFU_V_REPLY_CMD,         /* reply id matches, command does not */
    VFU_V_NO_REPLY_ANSWERED, /* reply to a command sent with No_reply */
    VFU_V_WRONG_SOCKET,      /* server command on main in twin mode, reply on twin */
    VFU_V__COUNT
};

struct vfu_violation {
    enum vfu_viol_kind kind;
    enum vfu_sock sock;
    uint16_t msg_id;         /* of the offending message */
    struct vfu_error err;    /* the rule: cmd, field, got, want */
};

const char *vfu_viol_kind_name(enum vfu_viol_kind k);
/* "UNEXPECTED_REPLY on main, msg id 7: DMA_MAP reply: msg_id: ..." */
size_t vfu_violation_str(const struct vfu_violation *v, char *buf, size_t n);
/* the kept violations (at most VFU_CLIENT_MAX_VIOLATIONS) */
const struct vfu_violation *vfu_client_violations(const struct vfu_client *c, unsigned *n);
unsigned long vfu_client_violation_total(const struct vfu_client *c);
/* how many of one kind were recorded (kept or not) */
unsigned long vfu_client_violation_count(const struct vfu_client *c, enum vfu_viol_kind k);
void vfu_client_clear_violations(struct vfu_client *c);

/* ------------------------------------------------------------- stats --- */

struct vfu_client_stats {
    unsigned long msgs_rx[2];          /* per socket */
    unsigned long msgs_tx[2];
    unsigned long replies;             /* matched to a request of ours */
    unsigned long late_replies;        /* to requests abandoned after a timeout */
    unsigned long dma_read, dma_write; /* requests answered with data / success */
    unsigned long dma_refused;         /* server commands answered with an error */
    unsigned long answered;            /* server commands answered by opts.answer */
    uint64_t dma_read_bytes, dma_write_bytes;
    uint64_t dma_max_count;            /* largest count in any DMA request seen */
};
const struct vfu_client_stats *vfu_client_stats(const struct vfu_client *c);

/* -------------------------------------------------------- negotiation --- */

enum vfu_proposal_data {
    VFU_PROPOSE_CAPS,   /* caps, as {"capabilities":{...}} plus NUL */
    VFU_PROPOSE_RAW,    /* raw/raw_len sent verbatim (no NUL added) */
    VFU_PROPOSE_NONE,   /* no version data at all */
};

struct vfu_version_proposal {
    uint16_t major, minor;
    enum vfu_proposal_data data;
    struct vfu_caps caps;
    const uint8_t *raw;
    size_t raw_len;
};

/* the spec version of spec/vfio-user.spec, our default limits
 * (max_msg_fds, max_data_xfer_size) and no twin socket */
void vfu_proposal_default(struct vfu_version_proposal *p);

enum vfu_call_status {
    VFU_CALL_REPLY,      /* a reply arrived and decodes (it may be an error reply) */
    VFU_CALL_BAD_REPLY,  /* a reply arrived that breaks the codec: err says why */
    VFU_CALL_TIMEOUT,    /* nothing within the timeout (or: No_reply, as asked) */
    VFU_CALL_EOF,        /* the server closed the connection */
    VFU_CALL_ERROR,      /* we could not send, or the stream broke: err says why */
};
const char *vfu_call_status_name(enum vfu_call_status s);

struct vfu_version_result {
    enum vfu_call_status status;
    bool accepted;            /* the session can go on */
    bool error_reply;         /* the server answered with the Error bit */
    uint32_t errnum;
    uint16_t major, minor;    /* from the reply */
    struct vfu_caps caps;     /* the reply's, parsed (defaults when absent) */
    bool twin;                /* twin socket adopted */
    struct vfu_error err;     /* why not accepted */
};

/* Sends VERSION, waits for the reply and checks it against the spec: same
 * major, minor <= ours, capabilities a subset of ours (when ours parse),
 * twin_socket consistent.  Every broken rule is recorded as a violation;
 * accepted is false when the session cannot go on (no usable reply, major
 * differs, unusable capabilities, twin_socket inconsistent).  When accepted,
 * receive limits become ours and send limits the server's. */
bool vfu_client_negotiate(struct vfu_client *c, const struct vfu_version_proposal *p,
                          int timeout_ms, struct vfu_version_result *res);

/* what we accept (rx) and what the server accepts (tx: we must not exceed) */
void vfu_client_limits(const struct vfu_client *c, struct vfu_limits *rx, struct vfu_limits *tx);
/* set them directly (e.g. an in-process client that skips VERSION) */
bool vfu_client_set_limits(struct vfu_client *c, const struct vfu_limits *rx,
                           const struct vfu_limits *tx, struct vfu_error *err);

/* -------------------------------------------------------------- calls --- */

/* A reply to a command number the codec does not know (sent raw) cannot be
 * judged: it comes as REPLY with only msg.hdr, is_error and the raw payload. */
struct vfu_reply {
    enum vfu_call_status status;
    struct vfu_error err;      /* BAD_REPLY: the broken rule; EOF/ERROR: why */
    struct vfu_msg msg;        /* REPLY: decoded; BAD_REPLY: as far as it went */
    enum vfu_sock sock;        /* where it came from */
    uint8_t *raw;              /* the reply's bytes, for reports */
    size_t raw_len;
    int *fds;                  /* received with it, owned until taken */
    unsigned nfds;
};

/* Every function that fills a reply first releases what it held: initialise
 * it once with vfu_reply_init, release it once at the end. */
void vfu_reply_init(struct vfu_reply *r);
/* frees the bytes, closes fds not taken; leaves r initialised */
void vfu_reply_release(struct vfu_reply *r);
int vfu_reply_take_fd(struct vfu_reply *r, unsigned i);

struct vfu_send_opts {
    bool set_id;         /* use msg_id instead of the next counter value */
    uint16_t msg_id;
    bool no_reply;       /* set No_reply in the header */
    bool unchecked;      /* do not hold the message to the server's limits */
};

/* What a raw message's reply should look like; NULL: read from its header.
 * any_id matches the first reply no other request claims. */
struct vfu_expect {
    uint16_t msg_id, cmd;
    bool any_id, any_cmd, no_reply;
};

uint16_t vfu_client_next_id(struct vfu_client *c);

/* Sends an encoding on the main socket without waiting (one not yet through
 * vfu_enc_finish is finished first; a failed encoding is refused with its
 * error); *ticket
 * names the request for vfu_client_wait.  The msg id is written into e's
 * header (the counter's, or o->msg_id) and No_reply set if asked.  Unless
 * o->unchecked, more fds than the server's max_msg_fds or a transfer count
 * above its max_data_xfer_size is refused (VFU_E_FDS, VFU_E_XFER_LIMIT). */
bool vfu_client_send(struct vfu_client *c, struct vfu_enc *e, const struct vfu_send_opts *o,
                     uint64_t *ticket, struct vfu_error *err);
/* any bytes and fds at all (malformed messages) */
bool vfu_client_send_raw(struct vfu_client *c, const uint8_t *buf, size_t len, const int *fds,
                         unsigned nfds, const struct vfu_expect *x, uint64_t *ticket,
                         struct vfu_error *err);
/* Waits for the reply to ticket, servicing server requests meanwhile.  On
 * TIMEOUT the request stays outstanding (wait again or abandon it).  For a
 * No_reply request: TIMEOUT when none came (a later reply proves it was
 * processed, which ends the wait early), REPLY if the server answered it
 * anyway (also recorded as a violation). */
enum vfu_call_status vfu_client_wait(struct vfu_client *c, uint64_t ticket, int timeout_ms,
                                     struct vfu_reply *r);
/* a reply that still comes is dropped and counted as late */
void vfu_client_abandon(struct vfu_client *c, uint64_t ticket);
/* send + wait; abandons on TIMEOUT.  timeout_ms < -1: the client's default */
enum vfu_call_status vfu_client_call(struct vfu_client *c, struct vfu_enc *e,
                                     const struct vfu_send_opts *o, int timeout_ms,
                                     struct vfu_reply *r);
enum vfu_call_status vfu_client_call_raw(struct vfu_client *c, const uint8_t *buf, size_t len,
                                         const int *fds, unsigned nfds,
                                         const struct vfu_expect *x, int timeout_ms,
                                         struct vfu_reply *r);
/* requests still waiting for a reply (No_reply ones excluded) */
unsigned vfu_client_outstanding(const struct vfu_client *c);

/* Waits up to timeout_ms (0: not at all) for a message, then services it and
 * whatever else has already arrived.  1: something was processed, 0: nothing
 * came, -1: main socket closed or broken. */
int vfu_client_pump(struct vfu_client *c, int timeout_ms);

/* Processes one message as if it had arrived on sock: reply matching or
 * servicing, with replies to server requests sent on sock (or to the sink).
 * Takes ownership of fds.  Any bytes at all: never crashes, leaks nothing. */
void vfu_client_feed(struct vfu_client *c, enum vfu_sock sock, const uint8_t *buf, size_t len,
                     const int *fds, unsigned nfds);

/* ------------------------------------------------------ guest memory --- */

enum vfu_mem_backing {
    VFU_MEM_MEMFD,    /* memfd passed with DMA_MAP: the server may mmap it */
    VFU_MEM_MESSAGE,  /* private memory, reached only by DMA_READ/DMA_WRITE */
};

/* A region of emulated guest memory at DMA address addr; prot is
 * VFU_DMA_MAP_FLAGS_READ|WRITE.  Returns its index, or -1 (overlap, zero
 * size, too many regions, system error). */
int vfu_mem_add(struct vfu_client *c, uint64_t addr, uint64_t size, uint32_t prot,
                enum vfu_mem_backing backing, struct vfu_error *err);
/* unmaps and closes it locally (send DMA_UNMAP first) */
bool vfu_mem_remove(struct vfu_client *c, int region);
/* local copy in/out of guest memory (any region, exported or not) */
bool vfu_mem_read(const struct vfu_client *c, uint64_t addr, void *buf, size_t len);
bool vfu_mem_write(struct vfu_client *c, uint64_t addr, const void *buf, size_t len);
/* pointer to len bytes of one region at addr, or NULL */
uint8_t *vfu_mem_ptr(const struct vfu_client *c, uint64_t addr, size_t len);
int vfu_mem_fd(const struct vfu_client *c, int region);   /* -1 for message-based */

/* DMA_MAP / DMA_UNMAP of a region into buf (fd attached for memfd) */
bool vfu_mem_enc_map(const struct vfu_client *c, int region, struct vfu_enc *e, uint8_t *buf,
                     size_t cap, struct vfu_error *err);
bool vfu_mem_enc_unmap(const struct vfu_client *c, int region, struct vfu_enc *e, uint8_t *buf,
                       size_t cap, struct vfu_error *err);
/* Sends them and waits.  The server may reach a region (DMA_READ/WRITE
 * serviced) from the moment its DMA_MAP is sent until its DMA_UNMAP
 * succeeds; a failed DMA_MAP withdraws it again. */
enum vfu_call_status vfu_client_dma_map(struct vfu_client *c, int region, int timeout_ms,
                                        struct vfu_reply *r);
enum vfu_call_status vfu_client_dma_unmap(struct vfu_client *c, int region, int timeout_ms,
                                          struct vfu_reply *r);
/* marks a region reachable or not, for maps sent by hand */
void vfu_mem_set_exported(struct vfu_client *c, int region, bool exported);

/* -------------------------------------------------------- interrupts --- */

/* a non-blocking eventfd owned by the client (closed with it); -1 on error */
int vfu_client_eventfd(struct vfu_client *c, struct vfu_error *err);
/* SET_IRQS with DATA_EVENTFD | action, count = nfds, the fds attached */
bool vfu_irq_enc_set(struct vfu_enc *e, uint8_t *buf, size_t cap, uint32_t index,
                     uint32_t start, uint32_t action, const int *fds, unsigned nfds,
                     struct vfu_error *err);
/* Waits for efd to fire while servicing the sockets.  1: fired, *count gets
 * the counter (reset to 0); 0: timeout; -1: error or connection closed. */
int vfu_client_irq_wait(struct vfu_client *c, int efd, int timeout_ms, uint64_t *count,
                        struct vfu_error *err);
/* the counter now (reset to 0), 0 if it has not fired */
uint64_t vfu_irq_read(int efd);

#endif
