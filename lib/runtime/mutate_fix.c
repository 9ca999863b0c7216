/* Fix-ups after a mutation: msg_size, argsz and the count of the last tail
 * are made to agree with the bytes (and the payload grown to its struct's
 * fixed part), so that most mutants get past framing and size checks to the
 * code behind them.  About one in eight is left off on purpose, by one or by
 * a boundary, because those checks are code under test too.  A field the
 * operator set on purpose (vfu_mut_touch) is left as it was. */
#include "mutate_int.h"

#include <string.h>

static const struct vfu_field_desc *F(int id) { return vfu_field(id); }
static const struct vfu_struct_desc *ST(int id) { return vfu_struct(id); }

enum { FIX_SIZE, FIX_ARGSZ, FIX_COUNT, FIX__N };

static bool touched(const struct vfu_mut *m, int fid)
{
    for (unsigned i = 0; i < m->ntouched; i++) if (m->touched[i] == fid) return true;
    return false;
}

static uint64_t off_by(struct vfu_mut *m, uint64_t v, unsigned width)
{
    switch (vfu_mut_below(m, 5)) {
    case 0: return v + 1;
    case 1: return v - 1;
    case 2: return 0;
    case 3: return vfu_mut_width_max(width);
    default: return v + 1 + vfu_mut_below(m, 64);
    }
}

static void set(uint8_t *msg, size_t at, int fid, uint64_t v)
{
    vfu_write_uint(msg + at, F(fid)->width, v);
}

static const struct mut_field *find(const struct vfu_mut_view *v, int fid)
{
    for (unsigned i = 0; i < v->nf; i++) if (v->f[i].fid == fid) return &v->f[i];
    return NULL;
}

size_t vfu_mut_fixup(struct vfu_mut *m, uint8_t *msg, size_t len, size_t cap)
{
    if (len < VFU_HDR_SIZE) return len;
    int hsz = -1;   /* msg_size, found by its role */
    for (unsigned i = 0; i < ST(vfu_header_sid())->nfields; i++)
        if (F(ST(vfu_header_sid())->first_field + (int)i)->role == VFU_M_MSGSIZE) hsz = ST(vfu_header_sid())->first_field + (int)i;
    int off = mut_chance(m, 8) ? (int)vfu_mut_below(m, FIX__N) : -1;
    struct vfu_hdr h;
    struct vfu_error err;
    vfu_hdr_decode(msg, len, &h, &err);
    const struct vfu_cmd_desc *c = vfu_cmd(h.cmd);
    bool reply = (h.flags & VFU_HDR_FLAGS_TYPE_MASK) == VFU_MSG_TYPE_REPLY;
    int sid = c && !(reply && (h.flags & VFU_HDR_FLAGS_ERROR)) ? c->sid[reply] : -1;

    /* the payload holds at least its struct's fixed part */
    if (sid >= 0 && len < VFU_HDR_SIZE + ST(sid)->min_size && VFU_HDR_SIZE + ST(sid)->min_size <= cap) {
        memset(msg + len, 0, VFU_HDR_SIZE + ST(sid)->min_size - len);
        len = VFU_HDR_SIZE + ST(sid)->min_size;
    }
    if (hsz < 0) return len;
    if (!touched(m, hsz)) set(msg, F(hsz)->offset, hsz, len);
    struct vfu_mut_view v;
    vfu_mut_view(m, msg, len, &v);

    /* the last tail runs to the end: its count is what is there */
    const struct mut_tail *last = NULL;
    for (unsigned i = 0; i < v.nt; i++)
        if (v.t[i].len_fid >= 0 && (!last || v.t[i].start > last->start)) last = &v.t[i];
    if (last && !touched(m, last->len_fid) && last->start <= len) {
        uint64_t n = (len - last->start) / last->stride;
        len = last->start + n * last->stride;   /* an array ends on an element */
        if (off == FIX_COUNT) n = off_by(m, n, F(last->len_fid)->width);
        set(msg, last->len_off, last->len_fid, n);
    }
    /* argsz by the command's rule */
    int az = vfu_argsz_field(sid);
    const struct mut_field *af = az >= 0 ? find(&v, az) : NULL;
    if (af && !touched(m, az)) {
        uint64_t a = len - VFU_HDR_SIZE;
        if (c->argsz[reply] == VFU_ARGSZ_REPLY_MAX) {
            a = c->sid[1] >= 0 ? ST(c->sid[1])->size : 0;
            if (mut_chance(m, 4)) a += vfu_mut_below(m, 256);   /* room for a tail: still valid */
        }
        if (off == FIX_ARGSZ) a = off_by(m, a, F(az)->width);
        set(msg, af->off, az, a);
    }
    uint64_t size = len;
    if (off == FIX_SIZE && !touched(m, hsz)) size = off_by(m, size, F(hsz)->width);
    if (!touched(m, hsz)) set(msg, F(hsz)->offset, hsz, size);
    if (off >= 0) m->stats.fix_off++;
    else m->stats.fix_consistent++;
    return len;
}
