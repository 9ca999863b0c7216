/* Migration v2: the device state FSM of DEVICE_FEATURE MIG_DEVICE_STATE and
 * the MIG_DATA_READ / MIG_DATA_WRITE stream.
 *
 * The stream is a sequence of records, each a whole device snapshot:
 * entering PRE_COPY (or STOP_COPY from STOP) starts it with one; going on
 * from PRE_COPY to STOP_COPY appends the final one.  The destination loads
 * the last complete record when it leaves RESUMING.  Record framing (our
 * device's data, opaque to the protocol): 4 bytes "SRVM", a u32 length,
 * the snapshot. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "srv_int.h"

#define REC_HDR 8
static const uint8_t rec_magic[4] = {'S', 'R', 'V', 'M'};

enum {
    ERROR = VFU_DEVICE_MIG_STATE_ERROR,
    STOP = VFU_DEVICE_MIG_STATE_STOP,
    RUNNING = VFU_DEVICE_MIG_STATE_RUNNING,
    STOP_COPY = VFU_DEVICE_MIG_STATE_STOP_COPY,
    RESUMING = VFU_DEVICE_MIG_STATE_RESUMING,
    PRE_COPY = VFU_DEVICE_MIG_STATE_PRE_COPY,
    NSTATES = 8,
};

/* the spec's direct arcs, and nothing else */
static const uint8_t arcs[][2] = {
    {RUNNING, STOP}, {STOP_COPY, STOP}, {RESUMING, STOP}, {PRE_COPY, RUNNING}, {STOP, RUNNING},
    {RUNNING, PRE_COPY}, {STOP, STOP_COPY}, {PRE_COPY, STOP_COPY}, {STOP, RESUMING},
};

static bool saving(unsigned st) { return st == PRE_COPY || st == STOP_COPY; }

bool srv_running(const struct srv *s)
{
    return s->mig.state == RUNNING || s->mig.state == PRE_COPY;
}

static void drop_out(struct srv_mig *g)
{
    free(g->out);
    g->out = NULL;
    g->out_len = g->out_pos = 0;
}

void srv_mig_free(struct srv *s)
{
    drop_out(&s->mig);
    free(s->mig.in);
    s->mig.in = NULL;
    s->mig.in_len = s->mig.in_cap = 0;
}

void srv_mig_reset(struct srv *s)
{
    srv_mig_free(s);
    s->mig.state = RUNNING;
}

/* The first hop of the shortest path from `from` to `to` over the direct
 * arcs, with no saving-group state inside the path; -1 if none. */
static int next_hop(unsigned from, unsigned to)
{
    int prev[NSTATES];
    unsigned queue[NSTATES], head = 0, tail = 0;
    for (unsigned i = 0; i < NSTATES; i++) prev[i] = -1;
    prev[from] = (int)from;
    queue[tail++] = from;
    while (head < tail) {
        unsigned v = queue[head++];
        if (v == to) break;
        if (v != from && saving(v)) continue;   /* may end a path, not pass through */
        for (unsigned a = 0; a < sizeof arcs / sizeof arcs[0]; a++) {
            unsigned w = arcs[a][1];
            if (arcs[a][0] != v || prev[w] >= 0) continue;
            prev[w] = (int)v;
            queue[tail++] = w;
        }
    }
    if (prev[to] < 0) return -1;
    unsigned v = to;
    while ((unsigned)prev[v] != from) v = (unsigned)prev[v];
    return (int)v;
}

/* appends one snapshot record to the outgoing stream */
static int add_record(struct srv *s)
{
    struct srv_mig *g = &s->mig;
    size_t size = toydev_state_size(s->dev);
    size_t unread = g->out_len - g->out_pos;
    uint8_t *buf = malloc(unread + REC_HDR + size);
    if (!buf) return ENOMEM;
    int r = toydev_save(s->dev, buf + unread + REC_HDR, size);
    if (r) { free(buf); return r; }
    /* what the client has not read yet stays in front */
    if (unread) memcpy(buf, g->out + g->out_pos, unread);
    memcpy(buf + unread, rec_magic, 4);
    vfu_write_uint(buf + unread + 4, 4, (uint64_t)size);
    free(g->out);
    g->out = buf;
    g->out_pos = 0;
    g->out_len = unread + REC_HDR + size;
    return 0;
}

/* the last whole record of what arrived; every byte must belong to one */
static int load_stream(struct srv *s)
{
    struct srv_mig *g = &s->mig;
    const uint8_t *last = NULL;
    size_t last_len = 0, pos = 0;
    while (pos < g->in_len) {
        if (g->in_len - pos < REC_HDR || memcmp(g->in + pos, rec_magic, 4)) return EINVAL;
        size_t len = (size_t)vfu_read_uint(g->in + pos + 4, 4);
        if (len > g->in_len - pos - REC_HDR) return EINVAL;
        last = g->in + pos + REC_HDR;
        last_len = len;
        pos += REC_HDR + len;
    }
    if (!last) return EINVAL;
    /* toydev_load checks what it reads and changes nothing on error */
    return toydev_load(s->dev, last, last_len) ? EINVAL : 0;
}

static int run_arc(struct srv *s, unsigned from, unsigned to)
{
    struct srv_mig *g = &s->mig;
    int r = 0;
    if (to == PRE_COPY || (from == STOP && to == STOP_COPY)) drop_out(g);
    if (to == PRE_COPY || to == STOP_COPY) r = add_record(s);
    else if (saving(from)) drop_out(g);       /* the transfer session ends */
    if (to == RESUMING) g->in_len = 0;
    if (from == RESUMING) {
        r = load_stream(s);
        if (!r) { free(g->in); g->in = NULL; g->in_len = g->in_cap = 0; }
    }
    if (r) return r;
    g->state = to;
    if (srv_running(s)) srv_irq_flush(s);
    return 0;
}

int srv_mig_set_state(struct srv *s, uint32_t target)
{
    unsigned cur = s->mig.state;
    if (target >= NSTATES || target == ERROR || target == VFU_DEVICE_MIG_STATE_RUNNING_P2P ||
        target == VFU_DEVICE_MIG_STATE_PRE_COPY_P2P)
        return EINVAL;
    /* only DEVICE_RESET leaves ERROR */
    if (cur == ERROR) return EINVAL;
    if (cur == STOP_COPY && target == PRE_COPY && !srv_fault(s, FAULT_MIG_STOPCOPY_TO_PRECOPY_ALLOWED))
        return EINVAL;
    while (cur != target) {
        int hop = next_hop(cur, target);
        if (hop < 0) return EINVAL;
        int r = run_arc(s, cur, (unsigned)hop);
        if (r) return r;
        cur = (unsigned)hop;
    }
    return 0;
}

int srv_h_mig_data_read(struct srv *s, const struct vfu_msg *m, int *fds)
{
    (void)fds;
    if (!s->opt.migration) return ENOTSUP;
    if (!saving(s->mig.state) && !srv_fault(s, FAULT_MIG_DATA_READ_ANY_STATE)) return EINVAL;
    uint64_t size = vfu_get(m, VFU_F_MIG_DATA_REQ_SIZE);
    uint64_t bound = s->client_xfer < s->rx.max_data_xfer_size ? s->client_xfer
                                                                 : s->rx.max_data_xfer_size;
    /* a shorter reply would mean "end of data": refuse instead of clamping */
    if (size > bound || VFU_SIZE_MIG_DATA + size > vfu_get(m, VFU_F_MIG_DATA_REQ_ARGSZ)) return EINVAL;
    struct srv_mig *g = &s->mig;
    size_t n = g->out_len - g->out_pos;
    if (n > size) n = (size_t)size;
    struct vfu_enc e;
    srv_reply_begin(s, m, &e);
    /* out is NULL outside the saving group (the seeded fault reads there) */
    vfu_enc_data(&e, VFU_F_MIG_DATA_DATA, n ? g->out + g->out_pos : NULL, n);
    g->out_pos += n;
    return srv_reply_send(s, m, &e);
}

int srv_h_mig_data_write(struct srv *s, const struct vfu_msg *m, int *fds)
{
    (void)fds;
    if (!s->opt.migration) return ENOTSUP;
    if (s->mig.state != RESUMING) return EINVAL;
    struct srv_mig *g = &s->mig;
    uint32_t len;
    const uint8_t *data = vfu_data(m, VFU_F_MIG_DATA_DATA, &len);
    /* a pre-copy and a final snapshot at most, bounded before allocating */
    size_t cap = 2 * (REC_HDR + toydev_state_size(s->dev));
    if (len > cap - g->in_len) return ENOSPC;
    if (!g->in) {
        g->in = malloc(cap);
        if (!g->in) return ENOMEM;
        g->in_cap = cap;
    }
    memcpy(g->in + g->in_len, data, len);
    g->in_len += len;
    return srv_reply_empty(s, m);
}
