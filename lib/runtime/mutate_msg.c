/* Operators on one message, each choosing among the fields the codec found
 * (mutate_view.c) by what the spec says they are: values by role, flag
 * bits defined and reserved, enums, the command, argsz, the data and array
 * tails.  One to three are stacked, then the fix-ups run (mutate_fix.c). */
#include "mutate_int.h"

#include <errno.h>
#include <string.h>

static const struct vfu_field_desc *F(int id) { return vfu_field(id); }

static bool is_header(int fid) { return F(fid)->sid == vfu_header_sid(); }
static bool want_value(int fid)
{
    const struct vfu_field_desc *f = F(fid);
    return f->bits_id < 0 && !(is_header(fid) && f->enum_id >= 0) && f->role != VFU_M_ARGSZ;
}
static bool want_bits(int fid) { return F(fid)->bits_id >= 0; }
static bool want_enum(int fid)
{
    const struct vfu_field_desc *f = F(fid);
    if (is_header(fid) && f->enum_id >= 0) return false;   /* the command: op_cmd_swap */
    if (f->enum_id >= 0) return true;
    if (f->bits_id < 0) return false;
    const struct vfu_bits_desc *b = vfu_bits(f->bits_id);
    for (unsigned i = 0; i < b->nbits; i++) if (vfu_bit(b->first_bit + i)->enum_id >= 0) return true;
    return false;
}
static bool want_argsz(int fid) { return F(fid)->role == VFU_M_ARGSZ; }
static bool want_mbz(int fid) { return (F(fid)->attrs & VFU_A_MBZ) != 0; }

struct op_ctx {
    struct vfu_mut *m;
    uint8_t *msg;
    size_t len, cap;
    bool to_server;
};

static uint64_t get(const struct op_ctx *c, const struct mut_field *f)
{
    return vfu_read_uint(c->msg + f->off, F(f->fid)->width);
}
static void put(struct op_ctx *c, const struct mut_field *f, uint64_t v)
{
    vfu_write_uint(c->msg + f->off, F(f->fid)->width, v);
}

static bool op_boundary(struct op_ctx *c, bool (*want)(int))
{
    int i = vfu_mut_view_pick(c->m, &c->m->view, want);
    if (i < 0) return false;
    const struct mut_field *f = &c->m->view.f[i];
    uint64_t vals[64];
    size_t n = vfu_mut_boundaries(c->m, c->msg, c->len, f->base, f->fid, vals, 64);
    if (!n) return false;
    put(c, f, vals[vfu_mut_below(c->m, n)]);
    vfu_mut_touch(c->m, f->fid);
    return true;
}

static bool op_flag(struct op_ctx *c)
{
    int i = vfu_mut_view_pick(c->m, &c->m->view, want_bits);
    if (i < 0) return false;
    const struct mut_field *f = &c->m->view.f[i];
    const struct vfu_bits_desc *b = vfu_bits(F(f->fid)->bits_id);
    if (!b->nbits) return false;
    const struct vfu_bit_desc *bd = vfu_bit(b->first_bit + vfu_mut_below(c->m, b->nbits));
    /* a multi-bit subfield flips one of its bits */
    uint64_t bit = bd->mask & (0 - bd->mask);
    if (bd->mask != bit) bit <<= vfu_mut_below(c->m, (unsigned)__builtin_popcountll(bd->mask));
    put(c, f, get(c, f) ^ (bit & bd->mask));
    return true;
}

static bool op_reserved(struct op_ctx *c)
{
    int i = vfu_mut_view_pick(c->m, &c->m->view, want_bits);
    if (i < 0) return false;
    const struct mut_field *f = &c->m->view.f[i];
    uint64_t rsv = vfu_mut_width_max(F(f->fid)->width) & ~vfu_bits(F(f->fid)->bits_id)->known;
    if (!rsv) return false;
    uint64_t bit;
    do bit = 1ULL << vfu_mut_below(c->m, 8u * F(f->fid)->width); while (!(bit & rsv));
    put(c, f, get(c, f) | bit);
    return true;
}

static uint64_t enum_pick(struct vfu_mut *m, int enum_id)
{
    const struct vfu_enum_desc *e = vfu_enum(enum_id);
    uint64_t hi = 0;
    for (unsigned i = 0; i < e->n; i++)
        if (vfu_enum_val(e->first + i)->value > hi) hi = vfu_enum_val(e->first + i)->value;
    if (e->n && vfu_mut_below(m, 4)) return vfu_enum_val(e->first + vfu_mut_below(m, e->n))->value;
    return mut_chance(m, 2) ? hi + 1 : vfu_mut_rand(m);
}

static bool op_enum(struct op_ctx *c)
{
    int i = vfu_mut_view_pick(c->m, &c->m->view, want_enum);
    if (i < 0) return false;
    const struct mut_field *f = &c->m->view.f[i];
    const struct vfu_field_desc *fd = F(f->fid);
    if (fd->enum_id >= 0) {
        put(c, f, enum_pick(c->m, fd->enum_id));
        return true;
    }
    const struct vfu_bits_desc *b = vfu_bits(fd->bits_id);
    for (unsigned k = 0; k < b->nbits; k++) {
        const struct vfu_bit_desc *bd = vfu_bit(b->first_bit + k);
        if (bd->enum_id < 0) continue;
        uint64_t v = (enum_pick(c->m, bd->enum_id) << bd->shift) & bd->mask;
        put(c, f, (get(c, f) & ~bd->mask) | v);
        return true;
    }
    return false;
}

static bool op_cmd_swap(struct op_ctx *c)
{
    const struct mut_field *cmdf = NULL;
    for (unsigned i = 0; i < c->m->view.nf; i++)
        if (is_header(c->m->view.f[i].fid) && F(c->m->view.f[i].fid)->enum_id >= 0) cmdf = &c->m->view.f[i];
    if (!cmdf) return false;
    uint64_t v;
    if (vfu_mut_below(c->m, 6)) {
        do v = vfu_mut_below(c->m, vfu_ncmds()); while (!vfu_cmd((unsigned)v));
    } else {
        static const uint64_t odd[] = {0, 14, VFU_CMD_MAX + 1, 255, 0xffff};
        v = odd[vfu_mut_below(c->m, sizeof odd / sizeof odd[0])];
    }
    put(c, cmdf, v);
    return true;
}

/* the tail that ends the message, if any */
static const struct mut_tail *last_tail(const struct vfu_mut *m, size_t len)
{
    const struct mut_tail *t = NULL;
    for (unsigned i = 0; i < m->view.nt; i++)
        if (m->view.t[i].start + m->view.t[i].len == len && (!t || m->view.t[i].start > t->start)) t = &m->view.t[i];
    return t;
}

static void fill(struct vfu_mut *m, uint8_t *p, size_t n)
{
    int how = (int)vfu_mut_below(m, 3);
    for (size_t i = 0; i < n; i++) p[i] = how == 0 ? 0 : how == 1 ? 0xff : (uint8_t)vfu_mut_rand(m);
}

static bool op_data_len(struct op_ctx *c)
{
    const struct mut_tail *t = last_tail(c->m, c->len);
    if (!t) return false;
    uint64_t cur = t->len / t->stride, n;
    switch (vfu_mut_below(c->m, 6)) {
    case 0: n = 0; break;
    case 1: n = cur + 1; break;
    case 2: n = cur ? cur - 1 : 1; break;
    case 3: n = cur * 2 + 1; break;
    case 4: n = 1ULL << vfu_mut_below(c->m, 13); break;
    default: n = vfu_mut_below(c->m, 64); break;
    }
    uint64_t room = (c->cap - t->start) / t->stride;
    if (n > room) n = room;
    size_t newlen = t->start + n * t->stride;
    if (newlen > c->len) fill(c->m, c->msg + c->len, newlen - c->len);
    c->len = newlen;
    /* one in four keeps the old count: stated and actual length disagree */
    if (t->len_fid >= 0 && mut_chance(c->m, 4)) vfu_mut_touch(c->m, t->len_fid);
    return true;
}

static bool op_elem(struct op_ctx *c)
{
    const struct mut_tail *t = last_tail(c->m, c->len);
    if (!t || t->stride < 2) return false;
    size_t n = t->len / t->stride, s = t->stride;
    uint8_t *base = c->msg + t->start;
    int what = (int)vfu_mut_below(c->m, 3);
    if (what == 0 && n) {             /* remove element k */
        size_t k = vfu_mut_below(c->m, n);
        memmove(base + k * s, base + (k + 1) * s, (n - k - 1) * s);
        c->len -= s;
        return true;
    }
    if (c->len + s > c->cap) return false;
    if (n && what == 1) {            /* copy element k to the end */
        size_t k = vfu_mut_below(c->m, n);
        memcpy(base + n * s, base + k * s, s);
    } else {                          /* a new one, random */
        fill(c->m, base + n * s, s);
    }
    c->len += s;
    return true;
}

static bool op_bytes(struct op_ctx *c)
{
    if (c->len <= VFU_HDR_SIZE) return false;
    unsigned k = 1 + (unsigned)vfu_mut_below(c->m, 4);
    for (unsigned i = 0; i < k; i++) {
        size_t at = VFU_HDR_SIZE + vfu_mut_below(c->m, c->len - VFU_HDR_SIZE);
        if (mut_chance(c->m, 2)) c->msg[at] ^= (uint8_t)(1u << vfu_mut_below(c->m, 8));
        else c->msg[at] = (uint8_t)vfu_mut_rand(c->m);
    }
    return true;
}

/* a command of the right direction, request or reply */
static bool pick_cmd(struct vfu_mut *m, bool to_server, unsigned *cmd, bool *reply)
{
    for (int tries = 0; tries < 64; tries++) {
        unsigned n = (unsigned)vfu_mut_below(m, vfu_ncmds());
        const struct vfu_cmd_desc *d = vfu_cmd(n);
        if (!d) continue;
        /* requests travel from their sender; replies back */
        bool r = (d->dir == VFU_DIR_CLIENT) != to_server;
        *cmd = n;
        *reply = r;
        return true;
    }
    return false;
}

static bool op_regen(struct op_ctx *c)
{
    unsigned cmd, nfds;
    bool reply;
    if (!pick_cmd(c->m, c->to_server, &cmd, &reply)) return false;
    struct vfu_hdr h;
    struct vfu_error err;
    uint16_t id = vfu_hdr_decode(c->msg, c->len, &h, &err) ? h.msg_id : 0;
    size_t n = vfu_mut_generate(c->m, cmd, reply, id, c->msg, c->cap, &nfds);
    if (!n) return false;
    c->len = n;
    return true;
}

/* What a server answers when it refuses: the Error bit and an errno (the
 * spec lets the Error field be 0), the payload dropped, now and then kept
 * (which a client must not take for a success).  The values are the Linux
 * errnos servers send, 0, and one no errno table has. */
static bool op_error_reply(struct op_ctx *c)
{
    struct vfu_hdr h;
    if (!vfu_hdr_decode(c->msg, c->len, &h, NULL) ||
        (h.flags & VFU_HDR_FLAGS_TYPE_MASK) != VFU_MSG_TYPE_REPLY)
        return false;
    static const uint32_t errs[] = {EINVAL, EFAULT, ENOMEM, ENOTSUP, EPERM, EEXIST, ENOENT,
                                    EBUSY, ENOSPC, ERANGE, 0, 0xffffffffu};
    h.flags |= VFU_HDR_FLAGS_ERROR;
    h.error = errs[vfu_mut_below(c->m, sizeof errs / sizeof errs[0])];
    if (!mut_chance(c->m, 8)) c->len = VFU_HDR_SIZE;
    h.msg_size = (uint32_t)c->len;
    vfu_hdr_encode(c->msg, &h);
    return true;
}

#define MSG_OPS_LAST VFU_MUT_OP_ERROR_REPLY

static const uint8_t weights[MSG_OPS_LAST + 1] = {
    [VFU_MUT_OP_BOUNDARY] = 30, [VFU_MUT_OP_FLAG] = 8, [VFU_MUT_OP_RESERVED] = 4,
    [VFU_MUT_OP_ENUM] = 6, [VFU_MUT_OP_CMD_SWAP] = 3, [VFU_MUT_OP_ARGSZ] = 8,
    [VFU_MUT_OP_DATA_LEN] = 10, [VFU_MUT_OP_ELEM] = 5, [VFU_MUT_OP_MBZ] = 3,
    [VFU_MUT_OP_BYTES] = 6, [VFU_MUT_OP_REGEN] = 2, [VFU_MUT_OP_ERROR_REPLY] = 3,
};

static bool apply(struct op_ctx *c, unsigned op)
{
    switch (op) {
    case VFU_MUT_OP_BOUNDARY: return op_boundary(c, want_value);
    case VFU_MUT_OP_FLAG: return op_flag(c);
    case VFU_MUT_OP_RESERVED: return op_reserved(c);
    case VFU_MUT_OP_ENUM: return op_enum(c);
    case VFU_MUT_OP_CMD_SWAP: return op_cmd_swap(c);
    case VFU_MUT_OP_ARGSZ: return op_boundary(c, want_argsz);
    case VFU_MUT_OP_DATA_LEN: return op_data_len(c);
    case VFU_MUT_OP_ELEM: return op_elem(c);
    case VFU_MUT_OP_MBZ: return op_boundary(c, want_mbz);
    case VFU_MUT_OP_BYTES: return op_bytes(c);
    case VFU_MUT_OP_REGEN: return op_regen(c);
    case VFU_MUT_OP_ERROR_REPLY: return op_error_reply(c);
    }
    return false;
}

static unsigned pick_op(struct vfu_mut *m)
{
    unsigned total = 0;
    for (unsigned i = 0; i <= MSG_OPS_LAST; i++) total += weights[i];
    uint64_t k = vfu_mut_below(m, total);
    for (unsigned i = 0; i <= MSG_OPS_LAST; i++) {
        if (k < weights[i]) return i;
        k -= weights[i];
    }
    return VFU_MUT_OP_BYTES;
}

size_t vfu_mut_message(struct vfu_mut *m, uint8_t *msg, size_t len, size_t cap, bool to_server)
{
    if (len > cap) len = cap;
    struct op_ctx c = {m, msg, len, cap, to_server};
    m->ntouched = 0;
    if (len < VFU_HDR_SIZE) {
        /* not even a header: start over from a real message, or flip bytes */
        if (cap >= VFU_HDR_SIZE && (len == 0 || mut_chance(m, 2)) && op_regen(&c)) {
            m->stats.ops[VFU_MUT_OP_REGEN]++;
            return c.len;
        }
        if (len) msg[vfu_mut_below(m, len)] ^= (uint8_t)(1u << vfu_mut_below(m, 8));
        m->stats.ops[VFU_MUT_OP_BYTES]++;
        return len;
    }
    vfu_mut_view(m, msg, len, &m->view);
    unsigned nops = 1 + (unsigned)vfu_mut_below(m, 3);
    for (unsigned k = 0; k < nops; k++) {
        for (int tries = 0; tries < 8; tries++) {
            unsigned op = pick_op(m);
            if (!apply(&c, op)) continue;
            m->stats.ops[op]++;
            /* a changed command or tail moves what follows: look again */
            if (op == VFU_MUT_OP_CMD_SWAP || op == VFU_MUT_OP_DATA_LEN || op == VFU_MUT_OP_ELEM ||
                op == VFU_MUT_OP_REGEN || op == VFU_MUT_OP_ERROR_REPLY)
                vfu_mut_view(m, msg, c.len, &m->view);
            break;
        }
    }
    /* one in sixteen goes out as the operators left it, sizes and all */
    if (mut_chance(m, 16)) {
        m->stats.fix_off++;
        return c.len;
    }
    return vfu_mut_fixup(m, msg, c.len, cap);
}
