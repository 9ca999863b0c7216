/* cjudge.h: every message a client sends, decoded by the codec against the
 * limits our server advertised and graded; every message our server sends,
 * decoded to learn what the client may rely on (the negotiated limits, the
 * device's regions and IRQs, the DMA windows the server accepted). */
#include "cjudge.h"

#include "vfu_negotiate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const int no_fds[VFU_MAX_FDS] = {[0 ... VFU_MAX_FDS - 1] = -1};

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void vfh_cj_conn_init(struct cj_conn *j, struct cj_tally *t, const char *label, int timeout_ms)
{
    memset(j, 0, sizeof *j);
    j->t = t;
    j->label = label;
    j->timeout_ms = timeout_ms;
    /* until the server's VERSION reply: the spec's defaults */
    vfu_limits_default(&j->srv_rx);
    j->srv_rx.max_fds = VFU_MAX_FDS;   /* counted by the judge itself (CJ_FDS_MAX) */
    j->max_msg_fds = 1;
    j->max_dma_maps = 65535;
    j->pgsize = 4096;
}

static void vbreach(struct cj_conn *j, enum cj_check c, const char *fmt, va_list ap)
{
    j->t->broken[c]++;
    if (j->t->first[c][0]) return;
    char what[CJ_WHY_MAX - 80];
    vsnprintf(what, sizeof what, fmt, ap);
    snprintf(j->t->first[c], sizeof j->t->first[c], "%s, message %u: %s", j->label, j->nmsg, what);
}

void vfh_cj_breach(struct cj_conn *j, enum cj_check c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vbreach(j, c, fmt, ap);
    va_end(ap);
}

/* applies check c; breaks it when bad, saying how */
static void check(struct cj_conn *j, enum cj_check c, bool bad, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void check(struct cj_conn *j, enum cj_check c, bool bad, const char *fmt, ...)
{
    j->t->applied[c]++;
    if (!bad) return;
    va_list ap;
    va_start(ap, fmt);
    vbreach(j, c, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------ bookkeeping --- */

static struct cj_pending *pend_add(struct cj_conn *j, const struct vfu_hdr *h, uint64_t a, uint64_t b)
{
    for (unsigned i = 0; i < CJ_MAX_PENDING; i++) {
        struct cj_pending *p = &j->pend[i];
        if (p->used) continue;
        *p = (struct cj_pending){true, h->msg_id, h->cmd, a, b};
        return p;
    }
    return NULL;   /* more in flight than we track: the reply teaches nothing */
}

static struct cj_pending *pend_find(struct cj_conn *j, uint16_t id, uint16_t cmd)
{
    for (unsigned i = 0; i < CJ_MAX_PENDING; i++)
        if (j->pend[i].used && j->pend[i].msg_id == id && j->pend[i].cmd == cmd) return &j->pend[i];
    return NULL;
}

static bool overlaps(const struct cj_window *w, uint64_t addr, uint64_t size)
{
    if (!size) return false;
    uint64_t end = addr + (size - 1), wend = w->addr + (w->size - 1);
    return addr <= wend && w->addr <= end;
}

static int win_exact(const struct cj_conn *j, uint64_t addr, uint64_t size)
{
    for (unsigned i = 0; i < j->nwin; i++)
        if (j->win[i].addr == addr && j->win[i].size == size) return (int)i;
    return -1;
}

/* ------------------------------------------------ decode and classify --- */

/* which check a codec failure of a client message breaks */
static enum cj_check classify(const struct vfu_hdr *h, const struct vfu_error *e, bool is_reply)
{
    switch (e->code) {
    case VFU_E_HDR_SHORT:
    case VFU_E_SIZE_BELOW_HDR:
    case VFU_E_SIZE_MISMATCH:
    case VFU_E_MSG_TYPE:
        return CJ_HEADER;
    case VFU_E_SIZE_LIMIT:
    case VFU_E_XFER_LIMIT:
        return CJ_XFER_MAX;
    case VFU_E_UNKNOWN_CMD:
    case VFU_E_DIRECTION:
        return CJ_KNOWN_CMD;
    case VFU_E_RESERVED_FLAGS:
    case VFU_E_MBZ:
        /* the header's Error flag and errno field come first in the codec */
        if (!is_reply && ((h->flags & VFU_HDR_FLAGS_ERROR) || h->error)) return CJ_HEADER_ERROR;
        if (h->flags & ~VFU_HDR_FLAGS_KNOWN) return CJ_FLAGS;
        if (is_reply) return CJ_REPLY_LAYOUT;
        return e->code == VFU_E_MBZ ? CJ_MBZ : CJ_FLAGS;
    case VFU_E_ARGSZ:
        return is_reply ? CJ_REPLY_LAYOUT : CJ_ARGSZ;
    case VFU_E_FDS:
        return is_reply ? CJ_REPLY_LAYOUT : CJ_FDS_CMD;
    case VFU_E_STRING:
    case VFU_E_JSON:
    case VFU_E_CAPABILITY:
        if (h->cmd == VFU_CMD_VERSION && !is_reply) return CJ_VERSION_DATA;
        return is_reply ? CJ_REPLY_LAYOUT : CJ_LAYOUT;
    case VFU_E_PAYLOAD_LONG:
        return is_reply ? CJ_REPLY_LAYOUT : CJ_PADDING;
    default:
        return is_reply ? CJ_REPLY_LAYOUT : CJ_LAYOUT;
    }
}

/* The codec's verdict on a client message, graded; true with *m usable
 * (strictly decoded, or decoded as padded after the padding was graded) */
static bool decode_client(struct cj_conn *j, const struct vfu_hdr *h, bool is_reply, const uint8_t *buf,
                          size_t len, unsigned nfds, struct vfu_msg *m)
{
    struct vfu_error e;
    const char *name = vfu_cmd_name(h->cmd);
    static const enum cj_check every[] = {CJ_HEADER, CJ_KNOWN_CMD, CJ_LAYOUT, CJ_FLAGS, CJ_MBZ, CJ_ARGSZ,
                                          CJ_PADDING, CJ_FDS_CMD};
    static const enum cj_check every_reply[] = {CJ_HEADER, CJ_REPLY_LAYOUT};
    const enum cj_check *ap = is_reply ? every_reply : every;
    size_t nap = is_reply ? sizeof every_reply / sizeof *every_reply : sizeof every / sizeof *every;
    for (size_t i = 0; i < nap; i++) j->t->applied[ap[i]]++;
    unsigned n = nfds > VFU_MAX_FDS ? VFU_MAX_FDS : nfds;
    if (vfu_decode(m, buf, len, no_fds, n, &j->srv_rx, VFU_ROLE_SERVER, &e)) return true;
    char why[200];
    vfu_error_str(&e, why, sizeof why);
    enum cj_check c = classify(h, &e, is_reply);
    if (e.code == VFU_E_PAYLOAD_LONG || e.code == VFU_E_ARGSZ) {
        struct vfu_error e2;
        if (vfu_decode_opt(m, buf, len, no_fds, n, &j->srv_rx, VFU_ROLE_SERVER, VFU_DEC_ZERO_PADDING, &e2)) {
            if (m->padding) {
                vfh_cj_breach(j, CJ_PADDING, "%s%s (msg_id %u) carries %u zero bytes past its structure (argsz %llu)",
                          name, is_reply ? " reply" : "", h->msg_id, m->padding,
                          (unsigned long long)(m->cmd && m->cmd->sid[is_reply] >= 0
                                                   ? vfu_get(m, vfu_argsz_field(m->cmd->sid[is_reply]))
                                                   : 0));
                return true;
            }
        }
    }
    vfh_cj_breach(j, c, "%s%s (msg_id %u): %s", name, is_reply ? " reply" : "", h->msg_id, why);
    return false;
}

/* ------------------------------------------------------ the requests --- */

static void on_version(struct cj_conn *j, const struct vfu_msg *m)
{
    uint32_t n = 0;
    const uint8_t *data = vfu_data(m, VFU_F_VERSION_DATA, &n);
    j->t->applied[CJ_VERSION_DATA]++;
    if (!data || !n) return;
    struct vfu_caps caps;
    struct vfu_error e;
    /* the codec has seen the terminating NUL */
    if (!vfu_caps_parse(&caps, (const char *)data, n - 1, false, &e)) {
        char why[200];
        vfu_error_str(&e, why, sizeof why);
        vfh_cj_breach(j, CJ_VERSION_DATA, "VERSION data: %s", why);
    }
}

static void region_index(struct cj_conn *j, const char *name, uint64_t idx)
{
    if (!j->info_seen) return;
    check(j, CJ_REGION_INDEX, idx >= j->num_regions, "%s names region %llu; the device has %u", name,
          (unsigned long long)idx, j->num_regions);
}

static void on_region_rw(struct cj_conn *j, const struct vfu_msg *m, bool write)
{
    const char *name = write ? "REGION_WRITE" : "REGION_READ";
    uint64_t idx = vfu_get(m, write ? VFU_F_REGION_ACCESS_DATA_REGION : VFU_F_REGION_ACCESS_REGION);
    uint64_t off = vfu_get(m, write ? VFU_F_REGION_ACCESS_DATA_OFFSET : VFU_F_REGION_ACCESS_OFFSET);
    uint64_t cnt = vfu_get(m, write ? VFU_F_REGION_ACCESS_DATA_COUNT : VFU_F_REGION_ACCESS_COUNT);
    j->t->applied[CJ_XFER_MAX]++;   /* the codec checked count against the limit */
    region_index(j, name, idx);
    if (idx >= CJ_MAX_REGIONS || !j->region[idx].known) return;
    uint64_t size = j->region[idx].size;
    check(j, CJ_REGION_BOUNDS, off > size || cnt > size - off,
          "%s of %llu bytes at offset 0x%llx of region %llu, whose size is 0x%llx", name,
          (unsigned long long)cnt, (unsigned long long)off, (unsigned long long)idx, (unsigned long long)size);
    uint32_t need = write ? VFU_REGION_INFO_FLAGS_WRITE : VFU_REGION_INFO_FLAGS_READ;
    check(j, CJ_REGION_ACCESS, !(j->region[idx].flags & need), "%s of region %llu, which REGION_INFO did not say %s",
          name, (unsigned long long)idx, write ? "writable" : "readable");
}

static void on_dma_map(struct cj_conn *j, const struct vfu_msg *m, const struct vfu_hdr *h, unsigned nfds)
{
    uint64_t addr = vfu_get(m, VFU_F_DMA_MAP_ADDRESS), size = vfu_get(m, VFU_F_DMA_MAP_SIZE);
    uint64_t off = vfu_get(m, VFU_F_DMA_MAP_OFFSET);
    check(j, CJ_DMA_MAP_OFFSET, nfds == 0 && off != 0, "DMA_MAP without a file descriptor has offset 0x%llx",
          (unsigned long long)off);
    check(j, CJ_DMA_MAP_ALIGN, addr % j->pgsize || size % j->pgsize,
          "DMA_MAP of [0x%llx, +0x%llx) is not a multiple of the page size %llu", (unsigned long long)addr,
          (unsigned long long)size, (unsigned long long)j->pgsize);
    if (!j->win_overflow) {
        int over = -1;
        for (unsigned i = 0; i < j->nwin && over < 0; i++)
            if (overlaps(&j->win[i], addr, size)) over = (int)i;
        check(j, CJ_DMA_MAP_OVERLAP, over >= 0, "DMA_MAP of [0x%llx, +0x%llx) overlaps the window [0x%llx, +0x%llx)",
              (unsigned long long)addr, (unsigned long long)size,
              (unsigned long long)(over >= 0 ? j->win[over].addr : 0),
              (unsigned long long)(over >= 0 ? j->win[over].size : 0));
        check(j, CJ_DMA_MAP_MAX, j->nwin >= j->max_dma_maps, "DMA_MAP with %u windows mapped; max_dma_maps is %llu",
              j->nwin, (unsigned long long)j->max_dma_maps);
    }
    pend_add(j, h, addr, size);
}

static void on_dma_unmap(struct cj_conn *j, const struct vfu_msg *m, const struct vfu_hdr *h)
{
    uint64_t addr = vfu_get(m, VFU_F_DMA_UNMAP_ADDRESS), size = vfu_get(m, VFU_F_DMA_UNMAP_SIZE);
    if (!j->win_overflow)
        check(j, CJ_DMA_UNMAP_MATCH, win_exact(j, addr, size) < 0,
              "DMA_UNMAP of [0x%llx, +0x%llx) matches no mapped window (%u mapped)", (unsigned long long)addr,
              (unsigned long long)size, j->nwin);
    pend_add(j, h, addr, size);
}

static void on_set_irqs(struct cj_conn *j, const struct vfu_msg *m)
{
    uint64_t idx = vfu_get(m, VFU_F_SET_IRQS_INDEX), start = vfu_get(m, VFU_F_SET_IRQS_START);
    uint64_t cnt = vfu_get(m, VFU_F_SET_IRQS_COUNT);
    if (j->info_seen && idx >= j->num_irqs) {
        check(j, CJ_SET_IRQS_RANGE, true, "SET_IRQS on index %llu; the device has %u", (unsigned long long)idx,
              j->num_irqs);
        return;
    }
    bool known = idx < CJ_MAX_IRQS && j->irq[idx].known;
    check(j, CJ_SET_IRQS_ASKED, !known, "SET_IRQS on index %llu, never asked with DEVICE_GET_IRQ_INFO",
          (unsigned long long)idx);
    if (!known) return;
    uint32_t have = j->irq[idx].count;
    check(j, CJ_SET_IRQS_RANGE, start > have || cnt > have - start,
          "SET_IRQS on index %llu, start %llu count %llu; the index has %u", (unsigned long long)idx,
          (unsigned long long)start, (unsigned long long)cnt, have);
}

static void on_request(struct cj_conn *j, const struct vfu_msg *m, const struct vfu_hdr *h, unsigned nfds)
{
    switch (h->cmd) {
    case VFU_CMD_VERSION:
        on_version(j, m);
        pend_add(j, h, 0, 0);
        break;
    case VFU_CMD_DEVICE_GET_INFO:
        pend_add(j, h, 0, 0);
        break;
    case VFU_CMD_DEVICE_GET_REGION_INFO:
        region_index(j, "DEVICE_GET_REGION_INFO", vfu_get(m, VFU_F_REGION_INFO_REQ_INDEX));
        pend_add(j, h, vfu_get(m, VFU_F_REGION_INFO_REQ_INDEX), 0);
        break;
    case VFU_CMD_DEVICE_GET_REGION_IO_FDS:
        region_index(j, "DEVICE_GET_REGION_IO_FDS", vfu_get(m, VFU_F_REGION_IO_FDS_REQ_INDEX));
        break;
    case VFU_CMD_DEVICE_GET_IRQ_INFO:
        pend_add(j, h, vfu_get(m, VFU_F_IRQ_INFO_REQ_INDEX), 0);
        break;
    case VFU_CMD_DEVICE_SET_IRQS:
        on_set_irqs(j, m);
        break;
    case VFU_CMD_REGION_READ:
        on_region_rw(j, m, false);
        break;
    case VFU_CMD_REGION_WRITE:
        on_region_rw(j, m, true);
        break;
    case VFU_CMD_REGION_WRITE_MULTI:
        j->t->applied[CJ_XFER_MAX]++;
        check(j, CJ_WRITE_MULTI_OFFERED, j->version_ok && !j->write_multiple,
              "REGION_WRITE_MULTI, but the server's VERSION reply did not offer write_multiple");
        break;
    case VFU_CMD_MIG_DATA_READ:
    case VFU_CMD_MIG_DATA_WRITE:
        check(j, CJ_MIGRATION_OFFERED, j->version_ok && !j->migration,
              "%s, but the server's VERSION reply had no migration capability", vfu_cmd_name(h->cmd));
        break;
    case VFU_CMD_DMA_MAP:
        on_dma_map(j, m, h, nfds);
        break;
    case VFU_CMD_DMA_UNMAP:
        on_dma_unmap(j, m, h);
        break;
    default:
        break;
    }
}

/* a reply of the client to our DMA_READ / DMA_WRITE */
static void on_client_reply(struct cj_conn *j, const uint8_t *buf, size_t len, unsigned nfds,
                            const struct vfu_hdr *h)
{
    struct cj_srv_req *rq = NULL;
    for (unsigned i = 0; i < CJ_MAX_SRV_REQS && !rq; i++)
        if (j->sreq[i].used && j->sreq[i].msg_id == h->msg_id) rq = &j->sreq[i];
    check(j, CJ_REPLY_ID, !rq, "a %s reply with msg_id %u, which no request of ours carries",
          vfu_cmd_name(h->cmd), h->msg_id);
    if (!rq) return;
    rq->used = false;
    if (j->srv_waiting) j->srv_waiting--;
    long long took = mono_ms() - rq->sent_ms;
    check(j, CJ_REPLY_TIMELY, took > j->timeout_ms, "our %s (msg_id %u) was answered after %lld ms (timeout %d ms)",
          vfu_cmd_name(rq->cmd), h->msg_id, took, j->timeout_ms);
    check(j, CJ_REPLY_CMD, rq->cmd != h->cmd, "the reply to our %s (msg_id %u) has command %s",
          vfu_cmd_name(rq->cmd), h->msg_id, vfu_cmd_name(h->cmd));
    if (rq->cmd != h->cmd) return;
    struct vfu_msg m;
    if (!decode_client(j, h, true, buf, len, nfds, &m) || m.is_error) return;
    uint64_t addr, count;
    if (h->cmd == VFU_CMD_DMA_READ) {
        addr = vfu_get(&m, VFU_F_DMA_ACCESS_DATA_ADDRESS);
        count = vfu_get(&m, VFU_F_DMA_ACCESS_DATA_COUNT);
    } else {
        addr = vfu_get(&m, VFU_F_DMA_WRITE_ACK_ADDRESS);
        count = vfu_get(&m, VFU_F_DMA_WRITE_ACK_COUNT) | vfu_get(&m, VFU_F_DMA_WRITE_ACK_COUNT_HI) << 32;
    }
    check(j, CJ_REPLY_ECHO, addr != rq->addr || count != rq->count,
          "the reply to our %s of %llu bytes at 0x%llx names %llu bytes at 0x%llx", vfu_cmd_name(h->cmd),
          (unsigned long long)rq->count, (unsigned long long)rq->addr, (unsigned long long)count,
          (unsigned long long)addr);
}

void vfh_cj_client_msg(struct cj_conn *j, const uint8_t *buf, size_t len, unsigned nfds)
{
    j->nmsg++;
    struct vfu_hdr h;
    struct vfu_error e;
    if (!vfu_hdr_decode(buf, len, &h, &e)) {
        char why[200];
        vfu_error_str(&e, why, sizeof why);
        check(j, CJ_HEADER, true, "%s", why);
        return;
    }
    bool is_reply = (h.flags & VFU_HDR_FLAGS_TYPE_MASK) == VFU_MSG_TYPE_REPLY;
    check(j, CJ_FDS_MAX, nfds > j->max_msg_fds, "%s (msg_id %u) carries %u fds; the server's max_msg_fds is %llu",
          vfu_cmd_name(h.cmd), h.msg_id, nfds, (unsigned long long)j->max_msg_fds);
    if (is_reply) {
        on_client_reply(j, buf, len, nfds, &h);
        return;
    }
    if (j->nmsg == 1)
        check(j, CJ_VERSION_FIRST, h.cmd != VFU_CMD_VERSION, "the first message is %s, not VERSION",
              vfu_cmd_name(h.cmd));
    if (h.cmd == VFU_CMD_VERSION) {
        check(j, CJ_VERSION_ONCE, j->version_sent, "VERSION again (msg_id %u)", h.msg_id);
        j->version_sent = true;
    }
    struct vfu_msg m;
    if (!decode_client(j, &h, false, buf, len, nfds, &m)) return;
    on_request(j, &m, &h, nfds);
}

/* --------------------------------------------------- the server's side --- */

static void learn_version(struct cj_conn *j, const struct vfu_msg *m)
{
    uint32_t n = 0;
    const uint8_t *data = vfu_data(m, VFU_F_VERSION_DATA, &n);
    struct vfu_caps caps;
    struct vfu_error e;
    vfu_caps_init(&caps);
    if (data && n && !vfu_caps_parse(&caps, (const char *)data, n - 1, true, &e)) return;
    j->version_ok = true;
    /* what the server takes in one message, as the server computes it */
    vfu_limits_from_caps(&caps, &j->srv_rx);
    j->srv_rx.max_fds = VFU_MAX_FDS;   /* counted by the judge itself (CJ_FDS_MAX) */
    j->max_msg_fds = vfu_caps_get(&caps, VFU_CAP_MAX_MSG_FDS);
    j->max_dma_maps = vfu_caps_get(&caps, VFU_CAP_MAX_DMA_MAPS);
    uint64_t pg = vfu_caps_get(&caps, VFU_CAP_PGSIZES);
    j->pgsize = pg ? pg & -pg : 4096;
    j->write_multiple = vfu_caps_get(&caps, VFU_CAP_WRITE_MULTIPLE) != 0;
    j->migration = caps.present[VFU_CAP_MIGRATION];
}

static void on_server_reply(struct cj_conn *j, const struct vfu_msg *m)
{
    struct cj_pending *p = pend_find(j, m->hdr.msg_id, m->hdr.cmd);
    if (!p) return;
    p->used = false;
    if (m->is_error) return;
    switch (m->hdr.cmd) {
    case VFU_CMD_VERSION:
        learn_version(j, m);
        break;
    case VFU_CMD_DEVICE_GET_INFO:
        j->info_seen = true;
        j->num_regions = (uint32_t)vfu_get(m, VFU_F_DEVICE_INFO_NUM_REGIONS);
        j->num_irqs = (uint32_t)vfu_get(m, VFU_F_DEVICE_INFO_NUM_IRQS);
        break;
    case VFU_CMD_DEVICE_GET_REGION_INFO:
        if (p->a < CJ_MAX_REGIONS) {
            j->region[p->a].known = true;
            j->region[p->a].flags = (uint32_t)vfu_get(m, VFU_F_REGION_INFO_FLAGS);
            j->region[p->a].size = vfu_get(m, VFU_F_REGION_INFO_SIZE);
        }
        break;
    case VFU_CMD_DEVICE_GET_IRQ_INFO:
        if (p->a < CJ_MAX_IRQS) {
            j->irq[p->a].known = true;
            j->irq[p->a].count = (uint32_t)vfu_get(m, VFU_F_IRQ_INFO_COUNT);
        }
        break;
    case VFU_CMD_DMA_MAP:
        if (j->nwin == CJ_MAX_WINDOWS) j->win_overflow = true;
        else j->win[j->nwin++] = (struct cj_window){p->a, p->b};
        break;
    case VFU_CMD_DMA_UNMAP: {
        int i = win_exact(j, p->a, p->b);
        if (i >= 0) j->win[i] = j->win[--j->nwin];
        break;
    }
    default:
        break;
    }
}

void vfh_cj_server_msg(struct cj_conn *j, const uint8_t *buf, size_t len)
{
    struct vfu_msg m;
    struct vfu_error e;
    struct vfu_limits lim;
    vfu_limits_default(&lim);
    lim.max_msg_size = UINT32_MAX;
    lim.max_fds = VFU_MAX_FDS;
    lim.max_data_xfer_size = 0;
    /* our own server's messages: anything it sends decodes, or a seeded
     * fault made it so, and then there is nothing to learn from it */
    if (!vfu_decode(&m, buf, len, no_fds, 0, &lim, VFU_ROLE_CLIENT, &e)) {
        struct vfu_hdr h;
        if (!vfu_hdr_decode(buf, len, &h, NULL)) return;
        if ((h.flags & VFU_HDR_FLAGS_TYPE_MASK) == VFU_MSG_TYPE_REPLY) {
            struct cj_pending *p = pend_find(j, h.msg_id, h.cmd);
            if (p) p->used = false;
        }
        return;
    }
    if (m.is_reply) {
        on_server_reply(j, &m);
        return;
    }
    if (m.hdr.cmd != VFU_CMD_DMA_READ && m.hdr.cmd != VFU_CMD_DMA_WRITE) return;
    j->t->applied[CJ_REPLY_ANSWERED]++;
    for (unsigned i = 0; i < CJ_MAX_SRV_REQS; i++) {
        struct cj_srv_req *r = &j->sreq[i];
        if (r->used) continue;
        bool w = m.hdr.cmd == VFU_CMD_DMA_WRITE;
        *r = (struct cj_srv_req){true, m.hdr.msg_id, m.hdr.cmd,
                                 vfu_get(&m, w ? VFU_F_DMA_ACCESS_DATA_ADDRESS : VFU_F_DMA_ACCESS_ADDRESS),
                                 vfu_get(&m, w ? VFU_F_DMA_ACCESS_DATA_COUNT : VFU_F_DMA_ACCESS_COUNT), mono_ms()};
        j->srv_waiting++;
        return;
    }
}

void vfh_cj_conn_end(struct cj_conn *j)
{
    for (unsigned i = 0; i < CJ_MAX_SRV_REQS; i++) {
        if (!j->sreq[i].used) continue;
        vfh_cj_breach(j, CJ_REPLY_ANSWERED, "our %s of %llu bytes at 0x%llx (msg_id %u) was never answered",
                  vfu_cmd_name(j->sreq[i].cmd), (unsigned long long)j->sreq[i].count,
                  (unsigned long long)j->sreq[i].addr, j->sreq[i].msg_id);
        j->sreq[i].used = false;
    }
    j->srv_waiting = 0;
}
