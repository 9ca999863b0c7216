/* Before the scenarios: one session that proposes every capability and
 * asks the device what it has, so scenarios can name regions and
 * interrupts by what they are ($rw_region, $region.2.size) and skip what
 * the server does not offer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pci_regs.h>

#include "vfu_caps.h"
#include "runner_int.h"
#include "stopsig.h"
#include "vfu_spec.h"

#define PROBE_MAX_INDEX 64

static void setv(struct runner *R, const char *fmt, unsigned i, const char *field, uint64_t v)
{
    char name[SCN_MAX_NAME];
    snprintf(name, sizeof name, fmt, i, field);
    vfh_runner_rvars_set(&R->vars, name, v, NULL, 0);
}

static bool probe_fail(struct probe *p, enum vfu_failure_kind k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool probe_fail(struct probe *p, enum vfu_failure_kind k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->reason, sizeof p->reason, fmt, ap);
    va_end(ap);
    p->ok = false;
    p->kind = k;
    return false;
}

/* one request of the probe, which must succeed */
static bool call(struct sess *s, struct vfu_enc *e, struct vfu_reply *r, const char *what)
{
    struct probe *p = &s->R->probe;
    struct vfu_error err;
    if (!vfu_enc_finish(e, &err)) {
        char m[256];
        vfu_error_str(&err, m, sizeof m);
        return probe_fail(p, VFU_FK_NONE, "%s: %s", what, m);
    }
    enum vfu_call_status cs = vfu_client_call(s->c, e, NULL, s->R->timeout_ms, r);
    if (cs == VFU_CALL_REPLY && !r->msg.is_error) return true;
    char got[400];
    vfh_runner_describe_reply(r, cs, s->R->timeout_ms, got, sizeof got);
    struct outcome o = {0};
    vfh_runner_out_set(&o, VFU_FAIL, vfh_runner_status_kind(cs, r), "%s", got);
    if (cs != VFU_CALL_REPLY && cs != VFU_CALL_BAD_REPLY) vfh_runner_target_judge(s->R, &o, cs == VFU_CALL_TIMEOUT);
    return probe_fail(p, o.kind, "%s: %s", what, o.reason);
}

/* a request whose success or error is the answer (feature probes) */
static bool answered_ok(struct sess *s, struct vfu_enc *e)
{
    struct vfu_reply r;
    vfu_reply_init(&r);
    bool ok = vfu_enc_finish(e, NULL) && vfu_client_call(s->c, e, NULL, s->R->timeout_ms, &r) == VFU_CALL_REPLY &&
              !r.msg.is_error;
    vfu_reply_release(&r);
    return ok;
}

static void negotiation_vars(struct runner *R, const struct vfu_version_result *res)
{
    for (int cap = 0; cap < VFU_CAP__COUNT; cap++) {
        char name[SCN_MAX_NAME];
        snprintf(name, sizeof name, "server.%s", vfu_cap_name(cap));
        vfh_runner_rvars_set(&R->vars, name, vfu_caps_get(&res->caps, cap), NULL, 0);
    }
    uint64_t pg = vfu_caps_get(&res->caps, VFU_CAP_PGSIZES);
    if (pg) vfh_runner_rvars_set(&R->vars, "server.pgsize", pg & -pg, NULL, 0);
    R->probe.dev.pgsize = pg & -pg;
    for (int cap = 0; cap < VFU_CAP__COUNT; cap++) R->probe.dev.cap[cap] = vfu_caps_get(&res->caps, cap);
    R->probe.dev.max_xfer = vfu_caps_get(&res->caps, VFU_CAP_MAX_DATA_XFER_SIZE);
    R->probe.twin = res->twin;
    /* for the reports' run metadata */
    if (vfu_caps_to_json(&res->caps, R->caps, sizeof R->caps) < 0) R->caps[0] = 0;
    R->probe.write_multiple = vfu_caps_get(&res->caps, VFU_CAP_WRITE_MULTIPLE) != 0;
}

/* a read of w bytes at offset of region i into out; false when refused */
static bool read_bytes(struct sess *s, unsigned i, uint64_t offset, uint32_t w, uint8_t *out)
{
    uint8_t buf[512];
    struct vfu_enc e;
    struct vfu_reply r;
    vfu_reply_init(&r);
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_REGION_READ, false, 0);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_REGION, i);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_OFFSET, offset);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_COUNT, w);
    uint32_t n = 0;
    const uint8_t *d = NULL;
    if (vfu_enc_finish(&e, NULL) && vfu_client_call(s->c, &e, NULL, s->R->timeout_ms, &r) == VFU_CALL_REPLY &&
        !r.msg.is_error)
        d = vfu_data(&r.msg, VFU_F_REGION_ACCESS_DATA_DATA, &n);
    bool ok = d && n == w;
    if (ok) memcpy(out, d, w);
    vfu_reply_release(&r);
    return ok;
}

/* One access each readable region accepts, for the in-bounds generated
 * scenarios: a device may take only some sizes (registers of 4 bytes,
 * MSI-X entries of 4 or 8), so the first of these widths a read at offset
 * 0 answers with its bytes is the one they use; the bytes there and at the
 * last offset of that width are kept for writes that put them back.  Reads
 * only: a probe changes nothing. */
static void learn_widths(struct sess *s, struct gen_device *dev)
{
    static const uint32_t widths[] = {4, 8, 2, 1};
    for (unsigned i = 0; i < dev->nregions; i++) {
        if (!dev->region[i].size || !(dev->region[i].flags & VFU_REGION_INFO_FLAGS_READ)) continue;
        for (size_t k = 0; k < sizeof widths / sizeof widths[0] && !dev->region[i].width; k++)
            if (widths[k] <= dev->region[i].size && read_bytes(s, i, 0, widths[k], dev->region[i].first))
                dev->region[i].width = widths[k];
        uint64_t last = vfh_gen_last_valid(dev->region[i].size, dev->region[i].width);
        if (last) dev->region[i].has_last = read_bytes(s, i, last, dev->region[i].width, dev->region[i].last);
    }
}

static bool device(struct sess *s)
{
    struct runner *R = s->R;
    uint8_t buf[512];
    struct vfu_enc e;
    struct vfu_reply r;
    vfu_reply_init(&r);
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_GET_INFO, false, 0);
    if (!call(s, &e, &r, "DEVICE_GET_INFO")) { vfu_reply_release(&r); return false; }
    uint64_t nreg = vfu_get(&r.msg, VFU_F_DEVICE_INFO_NUM_REGIONS);
    uint64_t nirq = vfu_get(&r.msg, VFU_F_DEVICE_INFO_NUM_IRQS);
    uint64_t flags = vfu_get(&r.msg, VFU_F_DEVICE_INFO_FLAGS);
    vfh_runner_rvars_set(&R->vars, "num_regions", nreg, NULL, 0);
    vfh_runner_rvars_set(&R->vars, "num_irqs", nirq, NULL, 0);
    vfh_runner_rvars_set(&R->vars, "device_flags", flags, NULL, 0);
    R->probe.reset = flags & VFU_DEVICE_INFO_FLAGS_RESET;
    bool have_mmap = false, have_rw = false;
    for (unsigned i = 0; i < nreg && i < PROBE_MAX_INDEX; i++) {
        char what[64];
        snprintf(what, sizeof what, "DEVICE_GET_REGION_INFO of region %u", i);
        vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_GET_REGION_INFO, false, 0);
        vfu_enc_set(&e, VFU_F_REGION_INFO_REQ_INDEX, i);
        if (!call(s, &e, &r, what)) { vfu_reply_release(&r); return false; }
        uint64_t size = vfu_get(&r.msg, VFU_F_REGION_INFO_SIZE);
        uint64_t fl = vfu_get(&r.msg, VFU_F_REGION_INFO_FLAGS);
        setv(R, "region.%u.%s", i, "size", size);
        setv(R, "region.%u.%s", i, "flags", fl);
        setv(R, "region.%u.%s", i, "offset", vfu_get(&r.msg, VFU_F_REGION_INFO_OFFSET));
        setv(R, "region.%u.%s", i, "cap_offset", vfu_get(&r.msg, VFU_F_REGION_INFO_CAP_OFFSET));
        if (i == VFU_PCI_REGION_CONFIG && size) vfh_runner_rvars_set(&R->vars, "config", i, NULL, 0);
        if (i < GEN_MAX_PLACES) {
            R->probe.dev.region[i].size = size;
            R->probe.dev.region[i].flags = (uint32_t)fl;
        }
        if (!have_mmap && size && (fl & VFU_REGION_INFO_FLAGS_MMAP)) {
            have_mmap = true;
            vfh_runner_rvars_set(&R->vars, "mmap_region", i, NULL, 0);
            vfh_runner_rvars_set(&R->vars, "mmap_region.size", size, NULL, 0);
        }
        uint64_t rw = VFU_REGION_INFO_FLAGS_READ | VFU_REGION_INFO_FLAGS_WRITE;
        if (!have_rw && size && (fl & rw) == rw && i != VFU_PCI_REGION_CONFIG) {
            have_rw = true;
            vfh_runner_rvars_set(&R->vars, "rw_region", i, NULL, 0);
            vfh_runner_rvars_set(&R->vars, "rw_region.size", size, NULL, 0);
        }
    }
    for (unsigned i = 0; i < nirq && i < PROBE_MAX_INDEX; i++) {
        char what[64];
        snprintf(what, sizeof what, "DEVICE_GET_IRQ_INFO of index %u", i);
        vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_GET_IRQ_INFO, false, 0);
        vfu_enc_set(&e, VFU_F_IRQ_INFO_REQ_INDEX, i);
        if (!call(s, &e, &r, what)) { vfu_reply_release(&r); return false; }
        setv(R, "irq.%u.%s", i, "count", vfu_get(&r.msg, VFU_F_IRQ_INFO_COUNT));
        R->probe.dev.irq[i].count = (uint32_t)vfu_get(&r.msg, VFU_F_IRQ_INFO_COUNT);
        R->probe.dev.irq[i].flags = (uint32_t)vfu_get(&r.msg, VFU_F_IRQ_INFO_FLAGS);
        setv(R, "irq.%u.%s", i, "flags", vfu_get(&r.msg, VFU_F_IRQ_INFO_FLAGS));
    }
    R->probe.dev.nregions = nreg < PROBE_MAX_INDEX ? (unsigned)nreg : PROBE_MAX_INDEX;
    R->probe.dev.nirqs = nirq < PROBE_MAX_INDEX ? (unsigned)nirq : PROBE_MAX_INDEX;
    learn_widths(s, &R->probe.dev);
    /* the PCI ids, for scenarios about one device's registers */
    const struct rvar *cfg = vfh_runner_rvars_find(&R->vars, "config");
    if (cfg) {
        vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_REGION_READ, false, 0);
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_REGION, cfg->num);
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_OFFSET, PCI_VENDOR_ID);
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_COUNT, 4);
        /* optional too: a device may refuse it; then it has no known ids */
        uint32_t n = 0;
        const uint8_t *d = NULL;
        if (vfu_enc_finish(&e, NULL) && vfu_client_call(s->c, &e, NULL, R->timeout_ms, &r) == VFU_CALL_REPLY &&
            !r.msg.is_error)
            d = vfu_data(&r.msg, VFU_F_REGION_ACCESS_DATA_DATA, &n);
        if (d && n == 4) {
            vfh_runner_rvars_set(&R->vars, "pci.vendor", vfu_read_uint(d + PCI_VENDOR_ID, 2), NULL, 0);
            vfh_runner_rvars_set(&R->vars, "pci.device", vfu_read_uint(d + PCI_DEVICE_ID - PCI_VENDOR_ID, 2), NULL, 0);
        }
    }
    vfu_reply_release(&r);
    /* optional parts: an error answer only means "not offered" */
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_FEATURE, false, 0);
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_REQ_FLAGS, VFU_DEVICE_FEATURE_FLAGS_PROBE | VFU_DEVICE_FEATURE_FLAGS_GET |
                                                     (VFU_DEVICE_FEATURE_MIGRATION << VFU_DEVICE_FEATURE_FLAGS_FEATURE_SHIFT));
    R->probe.migration = answered_ok(s, &e);
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_FEATURE, false, 0);
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_REQ_FLAGS, VFU_DEVICE_FEATURE_FLAGS_PROBE | VFU_DEVICE_FEATURE_FLAGS_SET |
                                                     (VFU_DEVICE_FEATURE_DMA_LOGGING_START << VFU_DEVICE_FEATURE_FLAGS_FEATURE_SHIFT));
    R->probe.dma_logging = answered_ok(s, &e);
    for (unsigned i = 0; i < nreg && i < PROBE_MAX_INDEX && !R->probe.io_fds; i++) {
        char name[SCN_MAX_NAME];
        snprintf(name, sizeof name, "region.%u.size", i);
        const struct rvar *v = vfh_runner_rvars_find(&R->vars, name);
        if (!v || !v->num) continue;
        vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_GET_REGION_IO_FDS, false, 0);
        vfu_enc_set(&e, VFU_F_REGION_IO_FDS_REQ_INDEX, i);
        R->probe.io_fds = answered_ok(s, &e);
    }
    return true;
}

/* the failure of the opening VERSION, in a word first */
static const char *cause_word(enum vfu_failure_kind k)
{
    switch (k) {
    case VFU_FK_TIMEOUT: return "no answer";
    case VFU_FK_HANG: return "hang";
    case VFU_FK_CLOSED: return "closed";
    case VFU_FK_CRASH: return "crashed";
    case VFU_FK_EXIT: return "exited";
    case VFU_FK_VIOLATION: return "garbage";
    case VFU_FK_MISMATCH: return "refused";
    default: return "failed";
    }
}

/* One probe session; false when it did not get through VERSION (the
 * device questions after it may still fail: p->ok says). */
static bool probe_once(struct runner *R, bool every_cap)
{
    struct probe *p = &R->probe;
    memset(p, 0, sizeof *p);
    p->ok = true;
    vfh_runner_rvars_clear(&R->vars);
    struct outcome o = {0};
    if (!vfh_runner_target_ready(R, &o)) {
        probe_fail(p, o.kind, "%s", o.reason);
        return false;
    }
    struct sess s;
    memset(&s, 0, sizeof s);
    s.R = R;
    /* every capability proposed at its default, so the reply may state each */
    struct scn_negotiate neg = {.mode = SCN_NEG_CUSTOM};
    for (int cap = 0; every_cap && cap < VFU_CAP__COUNT && neg.ncaps < 16; cap++) {
        const struct vfu_capability_desc *d = vfu_capability(cap);
        if (d->reply_only || d->kind == VFU_CAP_OBJECT) continue;
        uint64_t v = d->kind == VFU_CAP_BOOLEAN ? 1 : d->dflt;
        if (cap == VFU_CAP_MAX_MSG_FDS) v = VFU_CLIENT_DEFAULT_MAX_MSG_FDS;
        neg.caps[neg.ncaps++] = (struct scn_cap_set){cap, v};
    }
    struct scn_scenario pseudo = {.id = "probe", .file = "probe", .neg = neg};
    s.sc = &pseudo;
    for (int k = 0; k < VFU_V__COUNT; k++) s.viol_first_step[k] = NO_STEP;
    struct vfu_client_opts co;
    vfu_client_opts_default(&co);
    co.timeout_ms = R->timeout_ms;
    co.frame_timeout_ms = R->timeout_ms;
    struct vfu_version_proposal prop;
    vfu_proposal_default(&prop);
    for (unsigned i = 0; i < neg.ncaps; i++) vfu_caps_set(&prop.caps, neg.caps[i].cap, neg.caps[i].value);
    struct vfu_error err;
    s.c = vfu_client_connect(R->path, R->timeout_ms, &co, &err);
    if (!s.c) {
        char e[256];
        vfu_error_str(&err, e, sizeof e);
        vfh_runner_out_set(&o, VFU_FAIL, err.code == VFU_E_TIMEOUT ? VFU_FK_TIMEOUT : VFU_FK_CLOSED, "%s", e);
        vfh_runner_target_judge(R, &o, false);
        probe_fail(p, o.kind, "cannot connect: %s", o.reason);
        return false;
    }
    vfh_runner_fdcheck_peer(R, vfu_client_fd(s.c, VFU_SOCK_MAIN));
    struct vfu_version_result res;
    if (!vfu_client_negotiate(s.c, &prop, R->timeout_ms, &res)) {
        char e[256];
        vfu_error_str(&res.err, e, sizeof e);
        enum vfu_failure_kind k = res.status == VFU_CALL_TIMEOUT ? VFU_FK_TIMEOUT
                                  : res.status == VFU_CALL_EOF ? VFU_FK_CLOSED
                                  : res.status == VFU_CALL_REPLY && res.error_reply ? VFU_FK_MISMATCH
                                  : res.status == VFU_CALL_ERROR && (res.err.code == VFU_E_EOF || res.err.code == VFU_E_IO) ? VFU_FK_CLOSED
                                  : VFU_FK_VIOLATION;
        if (k == VFU_FK_TIMEOUT)
            vfh_runner_out_set(&o, VFU_FAIL, k, "VERSION: no reply within %d ms (the server may not be accepting connections)", R->timeout_ms);
        else if (k == VFU_FK_CLOSED)
            vfh_runner_out_set(&o, VFU_FAIL, k, "VERSION: the server closed the connection instead of answering%s%s",
                    res.status == VFU_CALL_ERROR ? " (" : "", res.status == VFU_CALL_ERROR ? e : "");
        else
            vfh_runner_out_set(&o, VFU_FAIL, k, "VERSION: %s", res.error_reply ? "refused with an error reply" : e);
        if (k == VFU_FK_CLOSED && res.status == VFU_CALL_ERROR) strncat(o.reason, ")", sizeof o.reason - strlen(o.reason) - 1);
        vfh_runner_sess_close(&s);
        vfh_runner_target_judge(R, &o, k == VFU_FK_TIMEOUT);
        probe_fail(p, o.kind, "%s", o.reason);
        return false;
    }
    negotiation_vars(R, &res);
    device(&s);
    vfh_runner_sess_close(&s);
    R->fresh = false;
    /* a server that dies as the probe leaves is restarted, not blamed on
     * the first scenario */
    vfh_runner_target_after_session(R, NULL);
    return true;
}

void vfh_runner_probe_run(struct runner *R)
{
    if (probe_once(R, true)) {
        if (!R->probe.ok && runner_waited_kind(R->probe.kind)) R->lost_streak = 1;
        return;
    }
    char first[sizeof R->probe.reason];
    snprintf(first, sizeof first, "%s", R->probe.reason);
    /* answered, but not acceptably: maybe one of the capabilities only
     * the probe proposes; the default proposal is what scenarios use */
    if ((R->probe.kind == VFU_FK_VIOLATION || R->probe.kind == VFU_FK_MISMATCH) && !vfu_stopsig_pending()) {
        struct outcome o = {0};
        enum vfu_failure_kind k = R->probe.kind;
        if (vfh_runner_target_ready(R, &o) && probe_once(R, false)) {
            fprintf(stderr, "vfu-conform: the probe's VERSION proposing every capability failed (%s); probed with "
                    "the default proposal\n", first);
            R->probe.caps_kind = k;
            snprintf(R->probe.caps_failed, sizeof R->probe.caps_failed, "%s", first);
            return;
        }
    }
    char *tail = vfh_runner_target_stderr_tail(R);
    /* once more on a fresh server: the first start may have met a stale
     * state outside it */
    if (R->server && vfu_stopsig_pending() == 0) {
        struct outcome o = {0};
        if (vfh_runner_target_restart(R, &o)) {
            free(tail);
            if (probe_once(R, true)) {
                fprintf(stderr, "vfu-conform: the opening VERSION failed once (%s); it worked after a restart\n", first);
                if (!R->probe.ok && runner_waited_kind(R->probe.kind)) R->lost_streak = 1;
                return;
            }
            tail = vfh_runner_target_stderr_tail(R);
        } else {
            snprintf(R->probe.reason, sizeof R->probe.reason, "%.*s", (int)sizeof R->probe.reason - 1, o.reason);
            R->probe.kind = VFU_FK_NONE;
        }
    }
    if (vfu_stopsig_pending()) return;
    /* the last 400 bytes of the server's output, from a line's start */
    const char *t = tail ? tail : "";
    size_t tl = strlen(t);
    if (tl > 400) {
        t += tl - 400;
        const char *nl = strchr(t, '\n');
        if (nl && nl[1]) t = nl + 1;
    }
    vfh_runner_stop(R, VFU_RUN_HOPELESS, "the opening VERSION failed%s (%s): %s%s%s", R->server ? " twice, the server restarted in between" : "",
                cause_word(R->probe.kind), R->probe.reason, *t ? "; the server's output ends: " : "", t);
    free(tail);
}

static bool have(struct runner *R, const char *fmt, uint64_t i, const char *field, uint64_t *v)
{
    char name[SCN_MAX_NAME];
    snprintf(name, sizeof name, fmt, (unsigned)i, field);
    const struct rvar *x = vfh_runner_rvars_find(&R->vars, name);
    if (!x) return false;
    *v = x->num;
    return true;
}

bool vfh_runner_probe_requires(struct runner *R, const struct scn_scenario *sc, struct outcome *o)
{
    static const char *const names[] = {
        [SCN_R_MIGRATION] = "migration", [SCN_R_DMA_LOGGING] = "dma-logging", [SCN_R_MMAP_REGION] = "mmap-region",
        [SCN_R_IRQ] = "irq", [SCN_R_REGION] = "region", [SCN_R_WRITE_MULTIPLE] = "write_multiple",
        [SCN_R_TWIN_SOCKET] = "twin_socket", [SCN_R_RESET] = "reset", [SCN_R_IO_FDS] = "io-fds",
        [SCN_R_SERVER] = "server", [SCN_R_DEVICE] = "device", [SCN_R_MAX_DMA_MAPS] = "max_dma_maps",
    };
    struct probe *p = &R->probe;
    for (unsigned i = 0; i < sc->nreqs; i++) {
        const struct scn_req *q = &sc->reqs[i];
        uint64_t v = 0;
        bool ok;
        char idx[32] = "";
        if (q->kind == SCN_R_SERVER) {
            if (R->server) continue;
            vfh_runner_out_set(o, VFU_SKIP, VFU_FK_NONE, "needs vfu-conform to start the server (--server)");
            return false;
        }
        if (!p->ok) {
            vfh_runner_out_set(o, VFU_FAIL, p->kind, "requires %s, but the device probe failed: %s", names[q->kind], p->reason);
            return false;
        }
        if (p->caps_failed[0] && (q->kind == SCN_R_TWIN_SOCKET || q->kind == SCN_R_WRITE_MULTIPLE)) {
            vfh_runner_out_set(o, VFU_FAIL, p->caps_kind, "requires %s, but the probe's VERSION proposing every capability failed: %s",
                    names[q->kind], p->caps_failed);
            return false;
        }
        switch (q->kind) {
        case SCN_R_MIGRATION: ok = p->migration; break;
        case SCN_R_DMA_LOGGING: ok = p->dma_logging; break;
        case SCN_R_MMAP_REGION: ok = vfh_runner_rvars_find(&R->vars, "mmap_region") != NULL; break;
        case SCN_R_WRITE_MULTIPLE: ok = p->write_multiple; break;
        case SCN_R_TWIN_SOCKET: ok = p->twin; break;
        case SCN_R_RESET: ok = p->reset; break;
        case SCN_R_IO_FDS: ok = p->io_fds; break;
        case SCN_R_IRQ: {
            uint64_t count = 0, flags = 0;
            snprintf(idx, sizeof idx, " %llu", (unsigned long long)q->arg.num);
            ok = have(R, "irq.%u.%s", q->arg.num, "count", &count) && have(R, "irq.%u.%s", q->arg.num, "flags", &flags) &&
                 count && (flags & VFU_IRQ_INFO_FLAGS_EVENTFD);
            break;
        }
        case SCN_R_MAX_DMA_MAPS: {
            /* the probe keeps the spec's default for a capability not stated */
            const struct rvar *x = vfh_runner_rvars_find(&R->vars, "server.max_dma_maps");
            snprintf(idx, sizeof idx, " of at most %llu", (unsigned long long)q->arg.num);
            ok = x && x->num <= q->arg.num;
            break;
        }
        case SCN_R_REGION:
            snprintf(idx, sizeof idx, " %llu", (unsigned long long)q->arg.num);
            ok = have(R, "region.%u.%s", q->arg.num, "size", &v) && v;
            break;
        case SCN_R_DEVICE: {
            const struct rvar *ven = vfh_runner_rvars_find(&R->vars, "pci.vendor"), *dev = vfh_runner_rvars_find(&R->vars, "pci.device");
            snprintf(idx, sizeof idx, " %04llx:%04llx", (unsigned long long)(q->arg.num >> 16),
                     (unsigned long long)(q->arg.num & 0xffff));
            ok = ven && dev && ven->num == q->arg.num >> 16 && dev->num == (q->arg.num & 0xffff);
            if (!ok) {
                vfh_runner_out_set(o, VFU_SKIP, VFU_FK_NONE, "the scenario is about PCI device%s; this one is %s", idx,
                        ven && dev ? "another" : "not a PCI device with config space");
                return false;
            }
            break;
        }
        default: ok = false; break;
        }
        if (!ok) {
            vfh_runner_out_set(o, VFU_SKIP, VFU_FK_NONE, "the server does not offer %s%s", names[q->kind], idx);
            return false;
        }
    }
    return true;
}
