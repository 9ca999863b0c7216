/* Internals shared by servers/srv_*.c (and white-box tests). */
#ifndef SRV_INT_H
#define SRV_INT_H

#include "srv.h"
#include "toydev.h"

/* A handler's result: 0 = done (its reply sent), > 0 = errno for an error
 * reply that the core sends. */
typedef int srv_handler(struct srv *s, const struct vfu_msg *m, int *fds);

/* ---- DMA map table (srv_dma.c) ---- */
struct srv_map {
    uint64_t addr, size;
    uint32_t flags;       /* VFU_DMA_MAP_FLAGS_* */
    uint8_t *va;          /* NULL: message-based */
    void *mmap_base;      /* what munmap gets */
    size_t mmap_len;
    bool probed;          /* dma_probe has been through it */
};

struct srv_dma {
    struct srv_map *maps; /* sorted by addr, never overlapping */
    uint32_t n, cap;
};

/* ---- dirty logging (srv_dirty.c) ---- */
struct srv_range { uint64_t lo, hi; };   /* [lo, hi] inclusive */

struct srv_dirty {
    bool active;
    uint64_t page_size;   /* the one selected at START */
    struct srv_range *ranges;   /* NULL / 0: everything */
    uint32_t nranges;
    uint64_t *pages;      /* sorted page numbers (addr / page_size) */
    size_t npages, cap;
    bool overflow;        /* too many to track: every page counts as dirty */
};

/* ---- interrupts (srv_irq.c) ---- */
struct srv_irq_line {
    int efd;              /* trigger eventfd, -1 */
    int mask_efd, unmask_efd;
    bool masked, pending;
};

struct srv_irqs {
    struct srv_irq_line *line[TOYDEV_NUM_IRQS];
    struct toydev_irq info[TOYDEV_NUM_IRQS];
};

/* ---- migration (srv_migration.c) ---- */
struct srv_mig {
    uint32_t state;       /* VFU_DEVICE_MIG_STATE_* */
    uint8_t *out;         /* saving: the stream served by MIG_DATA_READ */
    size_t out_len, out_pos;
    uint8_t *in;          /* resuming: what MIG_DATA_WRITE delivered */
    size_t in_len, in_cap;
};

struct srv {
    struct srv_opts opt;
    struct srv_peer peer;
    struct toydev *dev;

    bool negotiated;
    bool broken;          /* a send failed: the session is over */
    uint64_t client_xfer; /* the client's max_data_xfer_size */
    uint32_t client_fds;  /* the client's max_msg_fds */
    bool write_multiple;
    bool twin;
    struct vfu_limits rx;
    uint16_t next_id;     /* for server-to-client requests */

    uint8_t *tx;          /* replies */
    size_t tx_cap;
    uint8_t *rq;          /* server-to-client requests */
    size_t rq_cap;

    struct srv_dma dma;
    struct srv_dirty dirty;
    struct srv_irqs irq;
    int ioeventfd;
    struct srv_mig mig;

    struct srv_deviations dev_seen;
    /* per kind, the commands already logged this session (bit = command) */
    uint32_t dev_logged[SRV_DEV__COUNT];
};

/* is this seeded fault switched on? (the table is srv_fault.c's) */
static inline bool srv_fault(const struct srv *s, enum srv_fault_id f)
{
    return srv_fault_in(s->opt.faults, f);
}

/* srv_deviation.c: count (and log once per command) what a client did */
void srv_deviation(struct srv *s, enum srv_deviation_kind k, const struct vfu_msg *m, uint64_t bytes);

/* srv_core.c */
void srv_reply_begin(struct srv *s, const struct vfu_msg *m, struct vfu_enc *e);
/* finish and send (nothing on No_reply); always 0, marks s->broken on failure */
int srv_reply_send(struct srv *s, const struct vfu_msg *m, struct vfu_enc *e);
/* header-only success reply */
int srv_reply_empty(struct srv *s, const struct vfu_msg *m);
/* srv_wire.c: every finished reply to req goes out here (No_reply kept,
 * the wire-level seeded faults applied) */
void srv_wire_reply(struct srv *s, const struct vfu_hdr *req, struct vfu_enc *e);
/* srv_wire.c: every request comes in here before its decode.  When a
 * seeded fault that accepts a malformed request is on and the request is
 * one it takes, *patched is a malloc'd copy of buf (len bytes) with the
 * fault's change made, for the caller to decode and free; else NULL.
 * false: out of memory. */
bool srv_wire_request(struct srv *s, const uint8_t *buf, size_t len, uint8_t **patched);
int srv_take_fd(const struct vfu_msg *m, int *fds, unsigned i);

/* handlers, one per command */
srv_handler srv_h_version, srv_h_dma_map, srv_h_dma_unmap, srv_h_device_get_info,
    srv_h_region_info, srv_h_region_io_fds, srv_h_irq_info, srv_h_set_irqs, srv_h_region_read,
    srv_h_region_write, srv_h_reset, srv_h_write_multi, srv_h_feature, srv_h_mig_data_read,
    srv_h_mig_data_write;

/* srv_dma.c: device access to guest memory: 0, or a positive errno (the convention of every srv_ function and
 * handler: the value an error reply carries) */
int srv_dma_rw(struct srv *s, uint64_t addr, void *buf, size_t len, bool write);
void srv_dma_clear(struct srv *s);
uint64_t srv_min_pgsize(const struct srv *s);

/* srv_dirty.c */
void srv_dirty_record(struct srv *s, uint64_t addr, uint64_t len);
int srv_dirty_start(struct srv *s, uint64_t page_size, const struct srv_range *r, uint32_t n,
                    uint64_t *selected);
void srv_dirty_stop(struct srv *s);
/* bitmap: ceil(ceil(length/page_size)/64) u64 words, zeroed by the caller */
int srv_dirty_report(struct srv *s, uint64_t iova, uint64_t length, uint64_t page_size,
                     uint8_t *bitmap);

/* srv_irq.c */
void srv_irq_init(struct srv *s);
void srv_irq_raise(struct srv *s, unsigned index, unsigned sub);
void srv_irq_close_all(struct srv *s);
void srv_irq_reset(struct srv *s);
/* deliver what was held back while the device was stopped */
void srv_irq_flush(struct srv *s);

/* srv_region.c: what the client may see of region `index` */
void srv_region(const struct srv *s, unsigned index, struct toydev_region *r);

/* srv_migration.c */
bool srv_running(const struct srv *s);
void srv_mig_reset(struct srv *s);
int srv_mig_set_state(struct srv *s, uint32_t target);
void srv_mig_free(struct srv *s);

#endif
