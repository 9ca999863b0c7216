/* Inside the test client: the state the client_*.c files share. */
#ifndef VFU_CLIENT_PRIV_H
#define VFU_CLIENT_PRIV_H

#include "vfu_client.h"

enum pend_state {
    PEND_FREE,
    PEND_WAITING,    /* sent, reply expected */
    PEND_NO_REPLY,   /* sent with No_reply: any reply is a violation */
    PEND_DONE,       /* reply stored, not yet collected */
    PEND_ABANDONED,  /* caller gave up waiting */
    PEND_RETIRED,    /* No_reply and a later reply proves none will come */
};

struct pending {
    uint64_t ticket;
    enum pend_state state;
    uint16_t msg_id, cmd;
    bool any_id, any_cmd;
    /* the stored reply */
    enum vfu_call_status status;
    struct vfu_error err;
    enum vfu_sock sock;
    uint8_t *raw;
    size_t raw_len;
    int *fds;
    unsigned nfds;
};

struct region {
    bool used;
    bool exported;       /* the server may reach it */
    uint64_t addr, size;
    uint32_t prot;
    int fd;              /* memfd, or -1 */
    uint8_t *mem;
};

struct vfu_client {
    struct vfu_client_opts opts;
    bool inproc;
    struct vfu_conn conn[2];
    bool open[2];            /* socket usable */
    bool peer_closed;        /* main socket EOF */
    bool broken;             /* main socket unusable (framing, I/O) */
    bool tx_stalled;         /* a send did not get through within the timeout:
                              * the server stopped reading (waits end as timeouts) */

    struct vfu_limits rx, tx;
    uint16_t next_id;

    struct pending pend[VFU_CLIENT_MAX_PENDING];
    uint64_t next_ticket;    /* send order: smaller is older */

    struct region regions[VFU_CLIENT_MAX_REGIONS];
    int efds[VFU_CLIENT_MAX_EVENTFDS];
    unsigned nefds;

    struct vfu_violation viol[VFU_CLIENT_MAX_VIOLATIONS];
    unsigned nviol;
    unsigned long viol_total;
    unsigned long viol_kind[VFU_V__COUNT];

    struct vfu_client_stats stats;
    uint8_t *txbuf;          /* replies to server requests */
    size_t txcap;
};

/* client_viol.c */
void vfu_cl_violation(struct vfu_client *c, enum vfu_viol_kind kind, enum vfu_sock sock,
                      uint16_t msg_id, const struct vfu_error *err);
void vfu_cl_violation_set(struct vfu_client *c, enum vfu_viol_kind kind, enum vfu_sock sock,
                          uint16_t msg_id, enum vfu_errc code, int cmd, int field,
                          bool is_reply, uint64_t got, uint64_t want);

/* client_conn.c */
struct vfu_trace_hook vfu_cl_trace_hook(const struct vfu_client *c, enum vfu_sock s);
bool vfu_cl_tx(struct vfu_client *c, enum vfu_sock sock, const uint8_t *buf, size_t len,
               const int *fds, unsigned nfds, struct vfu_error *err);
bool vfu_cl_adopt_twin(struct vfu_client *c, int fd, struct vfu_error *err);
void vfu_cl_close_fds(int *fds, unsigned n);

/* client_recv.c: one received message; takes ownership of fds */
void vfu_cl_process(struct vfu_client *c, enum vfu_sock sock, const uint8_t *buf, size_t len,
                    int *fds, unsigned nfds);
/* waits up to timeout_ms for something on the sockets (and on extra_fd,
 * when >= 0); 1 processed or extra_fd ready, 0 timeout, -1 main gone */
int vfu_cl_pump(struct vfu_client *c, int timeout_ms, int extra_fd, bool *extra_ready);

/* client_call.c: a reply from the server, handed to the request it answers */
void vfu_cl_reply_in(struct vfu_client *c, enum vfu_sock sock, const struct vfu_hdr *h,
                     bool decoded, const struct vfu_error *derr, const uint8_t *buf,
                     size_t len, int *fds, unsigned nfds);
struct pending *vfu_cl_pending(struct vfu_client *c, uint64_t ticket);
void vfu_cl_pending_free(struct pending *p);

/* client_dma.c: a command from the server (decoded or not) */
void vfu_cl_server_cmd(struct vfu_client *c, enum vfu_sock sock, const struct vfu_hdr *h,
                       const struct vfu_msg *m, bool decoded, const struct vfu_error *derr);

/* client_mem.c: copy between guest memory the server may reach and buf,
 * across adjacent regions; 0, or the errno for the reply (EFAULT outside
 * it, EPERM without access).  Nothing is written unless all of it may be. */
int vfu_cl_mem_dma_check(const struct vfu_client *c, uint64_t addr, uint64_t len, bool is_write);
int vfu_cl_mem_dma_read(struct vfu_client *c, uint64_t addr, uint8_t *dst, uint64_t len);
int vfu_cl_mem_dma_write(struct vfu_client *c, uint64_t addr, const uint8_t *src, uint64_t len);
void vfu_cl_mem_close_all(struct vfu_client *c);

/* milliseconds left until deadline (monotonic), -1 for none */
int64_t vfu_cl_now_ms(void);
int vfu_cl_remaining(int64_t deadline);

#endif
