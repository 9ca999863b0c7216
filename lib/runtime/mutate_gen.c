/* New, well-formed messages built with the codec's encoder: every field of
 * the command's layout gets a valid value by its meaning (an index the
 * device has, an offset inside the place with room for its length, flags
 * that keep every bit rule), tails get the bytes, elements and capabilities
 * their counts call for, and the encoder fills msg_size and argsz.  The
 * mutator inserts these into sessions and starts over from them. */
#include "mutate_int.h"

#include <stdio.h>
#include <string.h>

static const struct vfu_field_desc *F(int id) { return vfu_field(id); }
static const struct vfu_struct_desc *ST(int id) { return vfu_struct(id); }

/* the largest tail generated: cheap to run, and well inside any limit */
#define GEN_MAX_TAIL 256

static void gen_fields(struct vfu_mut *m, struct vfu_enc *e, int sid, size_t base, bool elem);

static uint64_t field_in(const struct vfu_enc *e, size_t base, int fid)
{
    return vfu_read_uint(e->buf + base + F(fid)->offset, F(fid)->width);
}

static void fill_random(struct vfu_mut *m, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)vfu_mut_rand(m);
}

/* the VERSION JSON: capabilities named in the tables, at their defaults or
 * near them */
static void gen_json(struct vfu_mut *m, struct vfu_enc *e, int fid)
{
    char js[GEN_MAX_TAIL];
    size_t n = (size_t)snprintf(js, sizeof js, "{\"capabilities\":{");
    bool first = true;
    int open_parent = -1;
    for (unsigned i = 0; i < vfu_ncapabilities() && n < sizeof js - 64; i++) {
        const struct vfu_capability_desc *c = vfu_capability(i);
        if (c->kind == VFU_CAP_OBJECT || c->reply_only || mut_chance(m, 3)) continue;
        if (c->parent != open_parent) {
            if (open_parent >= 0) n += (size_t)snprintf(js + n, sizeof js - n, "}");
            if (c->parent >= 0) {
                n += (size_t)snprintf(js + n, sizeof js - n, "%s\"%s\":{", first ? "" : ",",
                                      vfu_capability(c->parent)->name);
                first = true;
            }
            open_parent = c->parent;
        }
        if (c->kind == VFU_CAP_BOOLEAN)
            n += (size_t)snprintf(js + n, sizeof js - n, "%s\"%s\":%s", first ? "" : ",", c->name,
                                  mut_chance(m, 2) ? "true" : "false");
        else
            n += (size_t)snprintf(js + n, sizeof js - n, "%s\"%s\":%llu", first ? "" : ",", c->name,
                                  (unsigned long long)(mut_chance(m, 2) ? c->dflt : vfu_mut_cap_value(m, (int)i)));
        first = false;
    }
    if (open_parent >= 0 && n < sizeof js - 4) n += (size_t)snprintf(js + n, sizeof js - n, "}");
    if (n < sizeof js - 4) n += (size_t)snprintf(js + n, sizeof js - n, "}}");
    if (n >= sizeof js) return;
    vfu_enc_data(e, fid, js, n + 1);   /* with its NUL */
}

static void gen_data(struct vfu_mut *m, struct vfu_enc *e, int fid, uint64_t n)
{
    uint8_t *p = vfu_enc_data(e, fid, NULL, (size_t)n);
    if (p) fill_random(m, p, (size_t)n);
}

static void gen_tail(struct vfu_mut *m, struct vfu_enc *e, int sid, size_t base, bool elem)
{
    const struct vfu_struct_desc *s = ST(sid);
    if (s->tail < 0) return;
    int tid = s->tail;
    const struct vfu_field_desc *tf = F(tid);
    if (elem) {
        /* an array element holds its arm in its stride: filled in place */
        if (tf->kind != VFU_K_VARIANT) return;
        uint64_t sel = field_in(e, base, tf->on_field);
        for (unsigned a = 0; a < tf->narms; a++) {
            const struct vfu_arm_desc *arm = vfu_arm(tf->first_arm + a);
            if ((sel & arm->mask) != arm->value) continue;
            if (arm->kind == VFU_ARM_STRUCT) gen_fields(m, e, arm->sid, base + s->size, true);
            break;
        }
        return;
    }
    switch (tf->kind) {
    case VFU_K_DATA:
        gen_data(m, e, tid, tf->len_field >= 0 ? field_in(e, base, tf->len_field) : vfu_mut_below(m, 16));
        break;
    case VFU_K_STRING:
        if (vfu_mut_below(m, 4)) gen_json(m, e, tid);
        break;
    case VFU_K_ARRAY: {
        uint64_t n = field_in(e, base, tf->len_field);
        for (uint64_t i = 0; i < n; i++) {
            vfu_enc_elem(e, tid);
            if (e->err.code != VFU_OK) return;
            size_t eb = e->len - ST(tf->elem_sid)->stride;
            gen_fields(m, e, tf->elem_sid, eb, true);
        }
        break;
    }
    case VFU_K_BITMAP: {
        uint64_t len = field_in(e, base, tf->len_field), pg = field_in(e, base, tf->aux_field);
        if (!pg) break;
        uint64_t pages = len / pg + (len % pg != 0), words = pages / 64 + (pages % 64 != 0);
        gen_data(m, e, tid, words * 8);
        break;
    }
    case VFU_K_CAPCHAIN: {
        if (mut_chance(m, 2) || !vfu_chain(tf->chain_id)->n) break;
        const struct vfu_chain_desc *cl = vfu_chain(tf->chain_id);
        const struct vfu_chain_entry *ce = vfu_chain_entry(cl->first + vfu_mut_below(m, cl->n));
        vfu_enc_chain_cap(e, tid, ce->id);
        if (e->err.code != VFU_OK) return;
        size_t bb = e->len - ST(ce->sid)->size;
        gen_fields(m, e, ce->sid, bb, false);
        break;
    }
    case VFU_K_VARIANT: {
        uint64_t sel = field_in(e, base, tf->on_field);
        for (unsigned a = 0; a < tf->narms; a++) {
            const struct vfu_arm_desc *arm = vfu_arm(tf->first_arm + a);
            if ((sel & arm->mask) != arm->value) continue;
            if (arm->kind == VFU_ARM_STRUCT && !(arm->optional && mut_chance(m, 2))) {
                vfu_enc_struct(e, arm->sid);
                if (e->err.code == VFU_OK) gen_fields(m, e, arm->sid, e->len - ST(arm->sid)->size, false);
            } else if (arm->kind == VFU_ARM_DATA) {
                gen_data(m, e, tid, field_in(e, base, arm->len_field));
            }
            break;
        }
        break;
    }
    default:
        break;
    }
}

/* struct sid, already appended at buf[base..]: its fields, then its tail.
 * Offsets go last, so that they leave room for their lengths. */
static void gen_fields(struct vfu_mut *m, struct vfu_enc *e, int sid, size_t base, bool elem)
{
    const struct vfu_struct_desc *s = ST(sid);
    for (int pass = 0; pass < 2; pass++)
        for (unsigned i = 0; i < s->nfields; i++) {
            int fid = s->first_field + (int)i;
            const struct vfu_field_desc *f = F(fid);
            if (f->kind != VFU_K_UINT || f->role == VFU_M_ARGSZ) continue;  /* argsz: the encoder's */
            bool position = f->role == VFU_M_OFFSET || f->role == VFU_M_ADDRESS;
            if (position != (pass == 1)) continue;
            /* a capability offset is the encoder's too */
            if (f->space == VFU_SP_PAYLOAD) continue;
            uint64_t v = vfu_mut_valid_value(m, fid, e->buf, e->len, base);
            if (f->count_of >= 0 && F(f->count_of)->kind == VFU_K_ARRAY) v = vfu_mut_below(m, 3);
            if (f->count_of >= 0 && F(f->count_of)->kind == VFU_K_BITMAP) v = 4096ULL * 64 * (1 + vfu_mut_below(m, 2));
            vfu_write_uint(e->buf + base + f->offset, f->width, v);
        }
    gen_tail(m, e, sid, base, elem);
}

static unsigned gen_nfds(struct vfu_mut *m, const struct vfu_fds_desc *r, const uint8_t *body)
{
    switch (r->rule) {
    case VFU_FDS_OPTIONAL: return mut_chance(m, 2);
    case VFU_FDS_ONE_IF:
        return (vfu_read_uint(body + F(r->bit_field)->offset, F(r->bit_field)->width) & r->mask) != 0;
    case VFU_FDS_COUNT_OR_ZERO:
        if (!(vfu_read_uint(body + F(r->bit_field)->offset, F(r->bit_field)->width) & r->mask)) return 0;
        return (unsigned)vfu_read_uint(body + F(r->field)->offset, F(r->field)->width);
    case VFU_FDS_UPTO: {
        uint64_t n = vfu_read_uint(body + F(r->field)->offset, F(r->field)->width);
        return n ? 1 + (unsigned)vfu_mut_below(m, n) : 0;
    }
    default: return 0;
    }
}

size_t vfu_mut_generate(struct vfu_mut *m, unsigned cmd, bool is_reply, uint16_t msg_id,
                        uint8_t *buf, size_t cap, unsigned *nfds)
{
    unsigned dummy;
    if (!nfds) nfds = &dummy;
    *nfds = 0;
    struct vfu_enc e;
    vfu_enc_begin(&e, buf, cap, (uint16_t)cmd, is_reply, msg_id);
    const struct vfu_cmd_desc *c = vfu_cmd(cmd);
    int sid = c ? c->sid[is_reply] : -1;
    if (sid >= 0 && e.err.code == VFU_OK) gen_fields(m, &e, sid, VFU_HDR_SIZE, false);
    struct vfu_error err;
    if (!vfu_enc_finish(&e, &err)) return 0;
    if (c && sid >= 0) *nfds = gen_nfds(m, &c->fds[is_reply], buf + VFU_HDR_SIZE);
    if (*nfds > VFU_FS_MAX_FDS) *nfds = VFU_FS_MAX_FDS;
    return e.len;
}
