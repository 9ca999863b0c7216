/* Where the fields of a message are, for the operators: the codec decodes
 * it and its parts name every struct instance, array and data tail.  A
 * message the codec refuses before its body was recorded (a reserved flag
 * the last mutation set, say) still has a layout: its command's payload
 * struct, and the arm its selector picks, laid over the bytes there are. */
#include "mutate_int.h"

#include <string.h>

static const struct vfu_field_desc *F(int id) { return vfu_field(id); }
static const struct vfu_struct_desc *ST(int id) { return vfu_struct(id); }

static void add_field(struct vfu_mut_view *v, int fid, size_t base)
{
    if (v->nf == MUT_MAX_FIELDS) return;
    v->f[v->nf].off = (uint32_t)(base + F(fid)->offset);
    v->f[v->nf].base = (uint32_t)base;
    v->f[v->nf].fid = (int16_t)fid;
    v->nf++;
}

void vfu_mut_view_struct(struct vfu_mut_view *v, int sid, size_t base, size_t len)
{
    const struct vfu_struct_desc *s = ST(sid);
    for (unsigned i = 0; i < s->nfields; i++) {
        int fid = s->first_field + (int)i;
        if (F(fid)->kind != VFU_K_UINT) continue;
        if (base + F(fid)->offset + F(fid)->width > len) continue;
        add_field(v, fid, base);
    }
}

static const struct vfu_arm_desc *pick_arm(const struct vfu_field_desc *var, uint64_t sel)
{
    for (unsigned a = 0; a < var->narms; a++) {
        const struct vfu_arm_desc *arm = vfu_arm(var->first_arm + a);
        if ((sel & arm->mask) == arm->value) return arm;
    }
    return NULL;
}

static void add_tail(struct vfu_mut_view *v, int fid, int len_fid, size_t owner_base, size_t start,
                     size_t len, unsigned stride)
{
    if (v->nt == MUT_MAX_TAILS) return;
    struct mut_tail *t = &v->t[v->nt++];
    t->fid = (int16_t)fid;
    t->len_fid = (int16_t)len_fid;
    t->len_off = len_fid >= 0 ? (uint32_t)(owner_base + F(len_fid)->offset) : 0;
    t->start = (uint32_t)start;
    t->len = (uint32_t)len;
    t->stride = (uint16_t)stride;
}

/* the elements of an array part: each element's fields, and its arm's */
static void view_elems(struct vfu_mut_view *v, const struct vfu_part *p, const uint8_t *msg, size_t len)
{
    const struct vfu_struct_desc *es = ST(p->sid);
    for (uint32_t i = 0; i < p->count && i < MUT_MAX_ELEMS; i++) {
        size_t base = VFU_HDR_SIZE + p->off + (size_t)i * p->stride;
        vfu_mut_view_struct(v, p->sid, base, len);
        if (es->tail < 0 || F(es->tail)->kind != VFU_K_VARIANT) continue;
        const struct vfu_field_desc *var = F(es->tail);
        const struct vfu_arm_desc *arm = pick_arm(var, vfu_read_uint(msg + base + F(var->on_field)->offset,
                                                                    F(var->on_field)->width));
        if (arm && arm->kind == VFU_ARM_STRUCT) vfu_mut_view_struct(v, arm->sid, base + es->size, len);
    }
}

static void view_parts(struct vfu_mut_view *v, const struct vfu_msg *dm, const uint8_t *msg, size_t len)
{
    for (unsigned k = 0; k < dm->nparts; k++) {
        const struct vfu_part *p = &dm->parts[k];
        size_t at = VFU_HDR_SIZE + p->off;
        if (p->kind == VFU_P_STRUCT) {
            vfu_mut_view_struct(v, p->sid, at, len);
            continue;
        }
        if (p->field < 0 || p->parent < 0) continue;
        const struct vfu_field_desc *tf = F(p->field);
        size_t owner = VFU_HDR_SIZE + dm->parts[p->parent].off;
        int len_fid = -1;
        unsigned stride = 1;
        switch (p->kind) {
        case VFU_P_ARRAY:
            view_elems(v, p, msg, len);
            len_fid = tf->len_field;
            stride = p->stride;
            break;
        case VFU_P_BITMAP: stride = 8; break;   /* its length is in bytes of memory, not words */
        case VFU_P_DATA:
            if (tf->kind == VFU_K_VARIANT) {
                for (unsigned a = 0; a < tf->narms; a++)
                    if (vfu_arm(tf->first_arm + a)->kind == VFU_ARM_DATA) len_fid = vfu_arm(tf->first_arm + a)->len_field;
            } else {
                len_fid = tf->len_field;
            }
            break;
        default: break;
        }
        add_tail(v, p->field, len_fid, owner, at, p->len, stride);
    }
}

/* struct sid at base and its tail, without the codec's checks: for a
 * message it refuses, the layout its command and selectors say */
static void view_loose(struct vfu_mut_view *v, const uint8_t *msg, size_t len, int sid, size_t base, int depth)
{
    const struct vfu_struct_desc *s = ST(sid);
    vfu_mut_view_struct(v, sid, base, len);
    if (s->tail < 0 || base + s->size > len || depth > 2) return;
    const struct vfu_field_desc *tf = F(s->tail);
    size_t start = base + s->size;
    switch (tf->kind) {
    case VFU_K_VARIANT: {
        const struct vfu_arm_desc *arm = pick_arm(tf, vfu_read_uint(msg + base + F(tf->on_field)->offset,
                                                                   F(tf->on_field)->width));
        if (arm && arm->kind == VFU_ARM_STRUCT) view_loose(v, msg, len, arm->sid, start, depth + 1);
        if (arm && arm->kind == VFU_ARM_DATA) add_tail(v, s->tail, arm->len_field, base, start, len - start, 1);
        break;
    }
    case VFU_K_DATA:
        add_tail(v, s->tail, tf->len_field, base, start, len - start, 1);
        break;
    case VFU_K_ARRAY: {
        unsigned stride = ST(tf->elem_sid)->stride;
        size_t n = (len - start) / stride;
        add_tail(v, s->tail, tf->len_field, base, start, n * stride, stride);
        for (size_t i = 0; i < n && i < MUT_MAX_ELEMS; i++) vfu_mut_view_struct(v, tf->elem_sid, start + i * stride, len);
        break;
    }
    default:
        break;
    }
}

void vfu_mut_view(struct vfu_mut *m, const uint8_t *msg, size_t len, struct vfu_mut_view *v)
{
    memset(v, 0, offsetof(struct vfu_mut_view, f));
    v->nf = v->nt = 0;
    v->body_sid = -1;
    if (len < VFU_HDR_SIZE) return;
    vfu_mut_view_struct(v, vfu_header_sid(), 0, len);
    struct vfu_hdr h;
    struct vfu_error err;
    vfu_hdr_decode(msg, len, &h, &err);
    v->cmd = h.cmd;
    v->is_reply = (h.flags & VFU_HDR_FLAGS_TYPE_MASK) == VFU_MSG_TYPE_REPLY;
    const struct vfu_cmd_desc *c = vfu_cmd(h.cmd);
    if (!c) return;
    v->body_sid = c->sid[v->is_reply];
    /* limits wide open: the view wants the layout, not the verdict */
    struct vfu_limits lim = {UINT32_MAX, VFU_MAX_FDS, 0};
    static const int nofds[VFU_FS_MAX_FDS] = {0};
    unsigned nfds = m->cur_nfds < VFU_FS_MAX_FDS ? m->cur_nfds : VFU_FS_MAX_FDS;
    /* decode what msg_size claims only when it is true; else the bytes there are */
    v->decoded = h.msg_size == len && vfu_decode(&m->msg, msg, len, nofds, nfds, &lim, VFU_ROLE_ANY, &err);
    /* a refusal for the fds alone comes after the whole layout was walked */
    if (h.msg_size == len && !m->msg.is_error &&
        (v->decoded || err.code == VFU_E_FDS || err.code == VFU_E_ARGSZ || err.code == VFU_E_XFER_LIMIT)) {
        view_parts(v, &m->msg, msg, len);
        return;
    }
    if (v->body_sid >= 0 && !(v->is_reply && (h.flags & VFU_HDR_FLAGS_ERROR)))
        view_loose(v, msg, len, v->body_sid, VFU_HDR_SIZE, 0);
}

int vfu_mut_view_pick(struct vfu_mut *m, const struct vfu_mut_view *v, bool (*want)(int fid))
{
    unsigned n = 0;
    for (unsigned i = 0; i < v->nf; i++) n += want(v->f[i].fid);
    if (!n) return -1;
    uint64_t k = vfu_mut_below(m, n);
    for (unsigned i = 0; i < v->nf; i++)
        if (want(v->f[i].fid) && k-- == 0) return (int)i;
    return -1;
}
