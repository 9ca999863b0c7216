/* DEVICE_FEATURE: MIGRATION, MIG_DEVICE_STATE and DMA_LOGGING_*.
 *
 * Choices where the spec leaves room:
 *  - with --migration=off every feature is ENOTSUP;
 *  - an operation a feature does not have (SET on MIGRATION...) is EINVAL,
 *    PROBE of a supported combination succeeds with the request echoed;
 *  - a reply larger than the request's argsz is EINVAL (no feature reply
 *    can be cut short);
 *  - replies echo the request except argsz, which is the reply's own size
 *    (the spec's rule for every reply argsz);
 *  - MIG_DEVICE_STATE GET reports data_fd -1: vfio-user has no data fd. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "srv_int.h"

#define F_GET VFU_DEVICE_FEATURE_FLAGS_GET
#define F_SET VFU_DEVICE_FEATURE_FLAGS_SET
#define F_PROBE VFU_DEVICE_FEATURE_FLAGS_PROBE

static uint32_t ops_of(unsigned feature)
{
    switch (feature) {
    case VFU_DEVICE_FEATURE_MIGRATION: return F_GET;
    case VFU_DEVICE_FEATURE_MIG_DEVICE_STATE: return F_GET | F_SET;
    case VFU_DEVICE_FEATURE_DMA_LOGGING_START: return F_SET;
    case VFU_DEVICE_FEATURE_DMA_LOGGING_STOP: return F_SET;
    case VFU_DEVICE_FEATURE_DMA_LOGGING_REPORT: return F_GET;
    }
    return 0;
}

static int begin(struct srv *s, const struct vfu_msg *m, struct vfu_enc *e, uint64_t reply_size)
{
    if (reply_size > vfu_get(m, VFU_F_DEVICE_FEATURE_REQ_ARGSZ)) return EINVAL;
    srv_reply_begin(s, m, e);
    vfu_enc_set(e, VFU_F_DEVICE_FEATURE_FLAGS, vfu_get(m, VFU_F_DEVICE_FEATURE_REQ_FLAGS));
    return 0;
}

/* the control structure of a START / STOP request, ranges and all */
static void echo_control(struct vfu_enc *e, const struct vfu_msg *m, uint64_t page_size)
{
    uint32_t n = vfu_count(m, VFU_F_DMA_LOGGING_CONTROL_RANGES);
    vfu_enc_struct(e, VFU_S_DMA_LOGGING_CONTROL);
    vfu_enc_set(e, VFU_F_DMA_LOGGING_CONTROL_PAGE_SIZE, page_size);
    vfu_enc_set(e, VFU_F_DMA_LOGGING_CONTROL_NUM_RANGES, n);
    for (uint32_t i = 0; i < n; i++) {
        vfu_enc_elem(e, VFU_F_DMA_LOGGING_CONTROL_RANGES);
        vfu_enc_set(e, VFU_F_DMA_LOGGING_RANGE_IOVA,
                    vfu_elem_get(m, VFU_F_DMA_LOGGING_CONTROL_RANGES, i, VFU_F_DMA_LOGGING_RANGE_IOVA));
        vfu_enc_set(e, VFU_F_DMA_LOGGING_RANGE_LENGTH,
                    vfu_elem_get(m, VFU_F_DMA_LOGGING_CONTROL_RANGES, i, VFU_F_DMA_LOGGING_RANGE_LENGTH));
    }
}

static int logging_start(struct srv *s, const struct vfu_msg *m)
{
    uint32_t n = vfu_count(m, VFU_F_DMA_LOGGING_CONTROL_RANGES);
    uint64_t reply = VFU_SIZE_DEVICE_FEATURE + VFU_SIZE_DMA_LOGGING_CONTROL +
                     (uint64_t)n * VFU_SIZE_DMA_LOGGING_RANGE;
    if (reply > vfu_get(m, VFU_F_DEVICE_FEATURE_REQ_ARGSZ)) return EINVAL;
    /* n is bounded by the message size the codec accepted */
    struct srv_range *r = n ? malloc(n * sizeof *r) : NULL;
    if (n && !r) return ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t iova = vfu_elem_get(m, VFU_F_DMA_LOGGING_CONTROL_RANGES, i, VFU_F_DMA_LOGGING_RANGE_IOVA);
        uint64_t len = vfu_elem_get(m, VFU_F_DMA_LOGGING_CONTROL_RANGES, i, VFU_F_DMA_LOGGING_RANGE_LENGTH);
        if (len == 0 || len - 1 > UINT64_MAX - iova) { free(r); return EINVAL; }
        r[i].lo = iova;
        r[i].hi = iova + (len - 1);
    }
    uint64_t selected;
    int err = srv_dirty_start(s, vfu_get(m, VFU_F_DMA_LOGGING_CONTROL_PAGE_SIZE), r, n, &selected);
    free(r);
    if (err) return err;
    struct vfu_enc e;
    begin(s, m, &e, reply);
    echo_control(&e, m, selected);
    return srv_reply_send(s, m, &e);
}

static int logging_stop(struct srv *s, const struct vfu_msg *m)
{
    bool with_control = vfu_has(m, VFU_F_DMA_LOGGING_CONTROL_PAGE_SIZE);
    uint32_t n = vfu_count(m, VFU_F_DMA_LOGGING_CONTROL_RANGES);
    uint64_t reply = VFU_SIZE_DEVICE_FEATURE +
                     (with_control ? VFU_SIZE_DMA_LOGGING_CONTROL + (uint64_t)n * VFU_SIZE_DMA_LOGGING_RANGE : 0);
    struct vfu_enc e;
    int r = begin(s, m, &e, reply);
    if (r) return r;
    srv_dirty_stop(s);
    if (with_control) echo_control(&e, m, vfu_get(m, VFU_F_DMA_LOGGING_CONTROL_PAGE_SIZE));
    return srv_reply_send(s, m, &e);
}

static int logging_report(struct srv *s, const struct vfu_msg *m)
{
    uint64_t iova = vfu_get(m, VFU_F_DMA_LOGGING_REPORT_REQ_IOVA);
    uint64_t length = vfu_get(m, VFU_F_DMA_LOGGING_REPORT_REQ_LENGTH);
    uint64_t ps = vfu_get(m, VFU_F_DMA_LOGGING_REPORT_REQ_PAGE_SIZE);
    if (!s->dirty.active) return EINVAL;
    if (ps == 0 || (ps & (ps - 1)) || length == 0 || length - 1 > UINT64_MAX - iova) return EINVAL;
    uint64_t pages = length / ps + (length % ps != 0);
    /* the fault dirty-report-pages-trunc32: the page count kept in 32
     * bits, so a range of 2^32 + N pages is answered as one of N */
    if ((uint32_t)pages && (uint32_t)pages != pages && srv_fault(s, FAULT_DIRTY_REPORT_PAGES_TRUNC32)) {
        pages = (uint32_t)pages;
        length = pages * ps;
    }
    uint64_t bytes = (pages / 64 + (pages % 64 != 0)) * 8;
    /* one reply's data, like any other transfer */
    if (bytes > s->opt.max_data_xfer_size) return E2BIG;
    struct vfu_enc e;
    int r = begin(s, m, &e, VFU_SIZE_DEVICE_FEATURE + VFU_SIZE_DMA_LOGGING_REPORT + bytes);
    if (r) return r;
    vfu_enc_struct(&e, VFU_S_DMA_LOGGING_REPORT);
    vfu_enc_set(&e, VFU_F_DMA_LOGGING_REPORT_IOVA, iova);
    vfu_enc_set(&e, VFU_F_DMA_LOGGING_REPORT_LENGTH, length);
    vfu_enc_set(&e, VFU_F_DMA_LOGGING_REPORT_PAGE_SIZE, ps);
    uint8_t *bitmap = vfu_enc_data(&e, VFU_F_DMA_LOGGING_REPORT_BITMAP, NULL, (size_t)bytes);
    if (!bitmap) return EIO;
    r = srv_dirty_report(s, iova, length, ps, bitmap);
    if (r) return r;
    if (srv_fault(s, FAULT_DIRTY_BITMAP_EMPTY)) memset(bitmap, 0, (size_t)bytes);
    return srv_reply_send(s, m, &e);
}

static int mig_state(struct srv *s, const struct vfu_msg *m, bool set)
{
    uint64_t reply = VFU_SIZE_DEVICE_FEATURE + VFU_SIZE_FEATURE_MIG_STATE;
    if (reply > vfu_get(m, VFU_F_DEVICE_FEATURE_REQ_ARGSZ)) return EINVAL;
    uint64_t fd_field = UINT32_MAX;
    if (set) {
        int r = srv_mig_set_state(s, (uint32_t)vfu_get(m, VFU_F_FEATURE_MIG_STATE_DEVICE_STATE));
        if (r) return r;
        fd_field = vfu_get(m, VFU_F_FEATURE_MIG_STATE_DATA_FD);
    }
    struct vfu_enc e;
    begin(s, m, &e, reply);
    vfu_enc_struct(&e, VFU_S_FEATURE_MIG_STATE);
    vfu_enc_set(&e, VFU_F_FEATURE_MIG_STATE_DEVICE_STATE, s->mig.state);
    vfu_enc_set(&e, VFU_F_FEATURE_MIG_STATE_DATA_FD, fd_field);
    return srv_reply_send(s, m, &e);
}

int srv_h_feature(struct srv *s, const struct vfu_msg *m, int *fds)
{
    (void)fds;
    if (!s->opt.migration) return ENOTSUP;
    uint32_t flags = (uint32_t)vfu_get(m, VFU_F_DEVICE_FEATURE_REQ_FLAGS);
    unsigned feature = flags & VFU_DEVICE_FEATURE_FLAGS_FEATURE_MASK;
    uint32_t have = ops_of(feature);
    if (!have) return ENOTSUP;
    if ((flags & (F_GET | F_SET) & ~have) &&
        !((flags & F_PROBE) && srv_fault(s, FAULT_FEATURE_PROBE_UNSUPPORTED_OK)))
        return EINVAL;
    if (flags & F_PROBE) {
        struct vfu_enc e;
        int r = begin(s, m, &e, VFU_SIZE_DEVICE_FEATURE);
        return r ? r : srv_reply_send(s, m, &e);
    }
    switch (feature) {
    case VFU_DEVICE_FEATURE_MIGRATION: {
        struct vfu_enc e;
        int r = begin(s, m, &e, VFU_SIZE_DEVICE_FEATURE + VFU_SIZE_FEATURE_MIGRATION);
        if (r) return r;
        vfu_enc_struct(&e, VFU_S_FEATURE_MIGRATION);
        vfu_enc_set(&e, VFU_F_FEATURE_MIGRATION_FLAGS,
                    VFU_MIGRATION_FLAGS_STOP_COPY | VFU_MIGRATION_FLAGS_PRE_COPY);
        return srv_reply_send(s, m, &e);
    }
    case VFU_DEVICE_FEATURE_MIG_DEVICE_STATE:
        return mig_state(s, m, flags & F_SET);
    case VFU_DEVICE_FEATURE_DMA_LOGGING_START:
        return logging_start(s, m);
    case VFU_DEVICE_FEATURE_DMA_LOGGING_STOP:
        return logging_stop(s, m);
    default:
        return logging_report(s, m);
    }
}
