/* The client judge (vfu-conform --client): sees every message between a
 * client and the reference server that serves it, and grades what the
 * client sends against the spec.  It never answers anything itself: the
 * client goes on with its own logic while the judge observes.
 *
 * One struct cj_conn per connection; all connections of a run add to one
 * tally, a counter per check (vfh_cj_checks[]): how often the check applied,
 * how often it was broken, and the first breach in words.  Both calls of a
 * connection come from the thread serving it (srv_loop's tap). */
#ifndef VFU_CJUDGE_H
#define VFU_CJUDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfu_caps.h"
#include "vfu_codec.h"
#include "result.h"

enum cj_check {
    CJ_VERSION_FIRST,
    CJ_VERSION_ONCE,
    CJ_VERSION_DATA,
    CJ_HEADER,
    CJ_HEADER_ERROR,
    CJ_KNOWN_CMD,
    CJ_LAYOUT,
    CJ_FLAGS,
    CJ_MBZ,
    CJ_ARGSZ,
    CJ_PADDING,
    CJ_FDS_CMD,
    CJ_FDS_MAX,
    CJ_XFER_MAX,
    CJ_REGION_INDEX,
    CJ_REGION_BOUNDS,
    CJ_REGION_ACCESS,
    CJ_DMA_MAP_OFFSET,
    CJ_DMA_MAP_OVERLAP,
    CJ_DMA_MAP_ALIGN,
    CJ_DMA_MAP_MAX,
    CJ_DMA_UNMAP_MATCH,
    CJ_SET_IRQS_RANGE,
    CJ_SET_IRQS_ASKED,
    CJ_WRITE_MULTI_OFFERED,
    CJ_MIGRATION_OFFERED,
    CJ_REPLY_ANSWERED,
    CJ_REPLY_ID,
    CJ_REPLY_CMD,
    CJ_REPLY_LAYOUT,
    CJ_REPLY_ECHO,
    CJ_REPLY_TIMELY,
    CJ__COUNT
};

struct cj_check_desc {
    const char *id;        /* client.DMA_UNMAP.match */
    const char *section;   /* VFIO_USER_DMA_UNMAP */
    const char *title;
    const char *rule;      /* the spec rule, in our words; beyond-the-spec ones say so */
    enum vfu_level level;  /* MUST only where the spec says must */
};
extern const struct cj_check_desc vfh_cj_checks[CJ__COUNT];

#define CJ_WHY_MAX 400

struct cj_tally {
    unsigned long applied[CJ__COUNT];
    unsigned long broken[CJ__COUNT];
    char first[CJ__COUNT][CJ_WHY_MAX];   /* the first breach, "" when none */
};

#define CJ_MAX_REGIONS 64
#define CJ_MAX_IRQS 16
#define CJ_MAX_WINDOWS 1024   /* DMA windows tracked; beyond, map checks stop */
#define CJ_MAX_PENDING 64     /* client requests awaiting our reply */
#define CJ_MAX_SRV_REQS 16    /* our DMA_READ / DMA_WRITE awaiting the client */

struct cj_window { uint64_t addr, size; };

struct cj_pending {
    bool used;
    uint16_t msg_id, cmd;
    uint64_t a, b;   /* DMA_MAP / DMA_UNMAP: address, size; REGION/IRQ info: index */
};

struct cj_srv_req {
    bool used;
    uint16_t msg_id, cmd;
    uint64_t addr, count;
    long long sent_ms;
};

struct cj_conn {
    struct cj_tally *t;
    int timeout_ms;           /* a reply to our request later than this is late */
    unsigned srv_waiting;     /* our requests not answered yet */
    const char *label;        /* "personality default, connection 1" */
    unsigned nmsg;            /* messages from the client so far */
    bool version_sent, version_ok;
    /* what the server advertised (its VERSION reply), spec defaults before */
    struct vfu_limits srv_rx;
    uint64_t max_msg_fds, max_dma_maps, pgsize;
    bool write_multiple, migration;
    bool info_seen;
    uint32_t num_regions, num_irqs;
    struct { bool known; uint32_t flags; uint64_t size; } region[CJ_MAX_REGIONS];
    struct { bool known; uint32_t count; } irq[CJ_MAX_IRQS];
    struct cj_window win[CJ_MAX_WINDOWS];
    unsigned nwin;
    bool win_overflow;
    struct cj_pending pend[CJ_MAX_PENDING];
    struct cj_srv_req sreq[CJ_MAX_SRV_REQS];
};

void vfh_cj_conn_init(struct cj_conn *j, struct cj_tally *t, const char *label, int timeout_ms);
/* a message the client sent, with the number of fds it carried */
void vfh_cj_client_msg(struct cj_conn *j, const uint8_t *buf, size_t len, unsigned nfds);
/* a message the server sent (a reply, or a DMA_READ / DMA_WRITE) */
void vfh_cj_server_msg(struct cj_conn *j, const uint8_t *buf, size_t len);
/* the connection is over: our requests it never answered are breaches */
void vfh_cj_conn_end(struct cj_conn *j);

/* a breach of check c, outside the message flow (a personality's verdict
 * is kept elsewhere: this is for the checks only) */
void vfh_cj_breach(struct cj_conn *j, enum cj_check c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
