/* Table-driven decode and encode; see codec.h.  Every bound is checked
 * against the bytes actually present before it is used, with the arithmetic
 * done in 64 bits so that no peer-supplied count can wrap an offset. */
#include "vfu_codec.h"

#include <string.h>

#include "spec_tables.h"

#define S (&vfu_spec)

_Static_assert(VFU_MAX_PARTS >= 2 + 3 * VFU_MAX_CHAIN_CAPS, "a full capability chain must fit in the parts");

static const struct vfu_field_desc *F(int id) { return &S->fields[id]; }
static const struct vfu_struct_desc *ST(int id) { return &S->structs[id]; }

uint64_t vfu_read_uint(const uint8_t *p, unsigned width)
{
    switch (width) {
    case 1: return p[0];
    case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
    case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
    case 8: { uint64_t v; memcpy(&v, p, 8); return v; }
    }
    return 0;
}

void vfu_write_uint(uint8_t *p, unsigned width, uint64_t v)
{
    switch (width) {
    case 1: p[0] = (uint8_t)v; break;
    case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
    case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); break; }
    case 8: memcpy(p, &v, 8); break;
    }
}

void vfu_limits_default(struct vfu_limits *lim)
{
    lim->max_data_xfer_size = VFU_DEFAULT_MAX_DATA_XFER_SIZE;
    lim->max_fds = VFU_DEFAULT_MAX_MSG_FDS;
    lim->max_msg_size = VFU_HDR_SIZE + VFU_FIXED_ROOM + VFU_DEFAULT_MAX_DATA_XFER_SIZE;
}

/* ------------------------------------------------------------ header --- */

/* the header's fields by the ids the generator gives them: their order,
 * offsets and widths are the spec file's alone */

bool vfu_hdr_decode(const uint8_t *buf, size_t len, struct vfu_hdr *h, struct vfu_error *err)
{
    if (len < VFU_HDR_SIZE) {
        vfu_error_set(err, VFU_E_HDR_SHORT, -1, -1, len, VFU_HDR_SIZE);
        return false;
    }
    h->msg_id = (uint16_t)vfu_read_uint(buf + F(VFU_F_HEADER_MSG_ID)->offset, F(VFU_F_HEADER_MSG_ID)->width);
    h->cmd = (uint16_t)vfu_read_uint(buf + F(VFU_F_HEADER_COMMAND)->offset, F(VFU_F_HEADER_COMMAND)->width);
    h->msg_size = (uint32_t)vfu_read_uint(buf + F(VFU_F_HEADER_MSG_SIZE)->offset, F(VFU_F_HEADER_MSG_SIZE)->width);
    h->flags = (uint32_t)vfu_read_uint(buf + F(VFU_F_HEADER_FLAGS)->offset, F(VFU_F_HEADER_FLAGS)->width);
    h->error = (uint32_t)vfu_read_uint(buf + F(VFU_F_HEADER_ERROR)->offset, F(VFU_F_HEADER_ERROR)->width);
    return true;
}

void vfu_hdr_encode(uint8_t *buf, const struct vfu_hdr *h)
{
    const struct { int field; uint64_t v; } hf[] = {
        {VFU_F_HEADER_MSG_ID, h->msg_id}, {VFU_F_HEADER_COMMAND, h->cmd}, {VFU_F_HEADER_MSG_SIZE, h->msg_size},
        {VFU_F_HEADER_FLAGS, h->flags}, {VFU_F_HEADER_ERROR, h->error},
    };
    for (size_t i = 0; i < sizeof hf / sizeof hf[0]; i++)
        vfu_write_uint(buf + F(hf[i].field)->offset, F(hf[i].field)->width, hf[i].v);
}

bool vfu_frame_size(const uint8_t hdr[VFU_HDR_SIZE], const struct vfu_limits *lim,
                    uint32_t *msg_size, struct vfu_error *err)
{
    struct vfu_hdr h;
    vfu_hdr_decode(hdr, VFU_HDR_SIZE, &h, err);
    *msg_size = h.msg_size;
    if (h.msg_size < VFU_HDR_SIZE) {
        vfu_error_set(err, VFU_E_SIZE_BELOW_HDR, h.cmd, VFU_F_HEADER_MSG_SIZE, h.msg_size, VFU_HDR_SIZE);
        return false;
    }
    if (lim && h.msg_size > lim->max_msg_size) {
        vfu_error_set(err, VFU_E_SIZE_LIMIT, h.cmd, VFU_F_HEADER_MSG_SIZE, h.msg_size, lim->max_msg_size);
        return false;
    }
    return true;
}

/* ------------------------------------------------------------ decode --- */

struct dctx {
    struct vfu_msg *m;
    struct vfu_error *err;
    const struct vfu_limits *lim;
    int cmd;
};

static bool fail(struct dctx *c, enum vfu_errc code, int field, uint64_t got, uint64_t want)
{
    vfu_error_set(c->err, code, c->cmd, field, got, want);
    c->err->is_reply = c->m->is_reply;
    return false;
}

static int add_part(struct dctx *c, int kind, int sid, int field, int parent, uint64_t off,
                    uint64_t len, uint64_t count, unsigned stride)
{
    struct vfu_msg *m = c->m;
    if (m->nparts == VFU_MAX_PARTS) {
        fail(c, VFU_E_TOO_DEEP, field, m->nparts, VFU_MAX_PARTS);
        return -1;
    }
    struct vfu_part *p = &m->parts[m->nparts];
    p->kind = (uint8_t)kind; p->sid = (int16_t)sid; p->field = (int16_t)field;
    p->parent = (int16_t)parent; p->off = (uint32_t)off; p->len = (uint32_t)len;
    p->count = (uint32_t)count; p->stride = (uint16_t)stride;
    return (int)m->nparts++;
}

static uint64_t field_at(const uint8_t *base, int field)
{
    return vfu_read_uint(base + F(field)->offset, F(field)->width);
}

/* flag rules of a bits-typed value: reserved bits and bit groups */
static bool check_bits(struct dctx *c, int field, uint64_t v)
{
    const struct vfu_bits_desc *b = &S->bits[F(field)->bits_id];
    if (v & ~b->known) return fail(c, VFU_E_RESERVED_FLAGS, field, v & ~b->known, 0);
    for (unsigned i = 0; i < b->nbits; i++) {
        const struct vfu_bit_desc *bd = &S->bit_vals[b->first_bit + i];
        if (bd->enum_id >= 0 && !vfu_enum_name(bd->enum_id, (v & bd->mask) >> bd->shift))
            return fail(c, VFU_E_ENUM, field, (v & bd->mask) >> bd->shift, 0);
    }
    for (unsigned i = 0; i < b->ngroups; i++) {
        const struct vfu_group_desc *g = &S->groups[b->first_group + i];
        if (v & g->unless) continue;
        unsigned n = (unsigned)__builtin_popcountll(v & g->mask);
        bool ok = g->kind == VFU_G_ONEOF ? n == 1 : g->kind == VFU_G_ATMOSTONE ? n <= 1 : n >= 1;
        if (!ok) return fail(c, VFU_E_FLAGS_RULE, field, v & g->mask, g->mask);
    }
    return true;
}

static bool check_fixed(struct dctx *c, int sid, const uint8_t *base, uint64_t avail)
{
    const struct vfu_struct_desc *s = ST(sid);
    for (unsigned i = 0; i < s->nfields; i++) {
        int fid = s->first_field + (int)i;
        const struct vfu_field_desc *f = F(fid);
        if (f->kind != VFU_K_UINT && f->kind != VFU_K_BYTES) continue;
        if ((uint64_t)f->offset + f->width > avail) continue; /* absent optional */
        if (f->kind == VFU_K_BYTES) {
            if (f->attrs & VFU_A_MBZ)
                for (unsigned k = 0; k < f->width; k++)
                    if (base[f->offset + k]) return fail(c, VFU_E_MBZ, fid, base[f->offset + k], 0);
            continue;
        }
        uint64_t v = field_at(base, fid);
        if ((f->attrs & VFU_A_MBZ) && v) return fail(c, VFU_E_MBZ, fid, v, 0);
        /* a reply repeating the request's value repeats what the request said */
        bool echoed = c->m->is_reply && (f->attrs & VFU_A_ECHO);
        if (f->bits_id >= 0 && !echoed && !check_bits(c, fid, v)) return false;
        if (f->enum_id >= 0 && !vfu_enum_name(f->enum_id, v)) return fail(c, VFU_E_ENUM, fid, v, 0);
    }
    return true;
}

static const struct vfu_arm_desc *pick_arm(const struct vfu_field_desc *var, uint64_t sel)
{
    for (unsigned a = 0; a < var->narms; a++) {
        const struct vfu_arm_desc *arm = &S->arms[var->first_arm + a];
        if ((sel & arm->mask) == arm->value) return arm;
    }
    return NULL;
}

static bool walk(struct dctx *c, int sid, uint64_t off, uint64_t avail, int field, int parent,
                 bool record, uint64_t *used);

/* An array element: its fixed part and, if it has one, its variant arm.
 * Elements are checked in place, not recorded as parts. */
static bool check_elem(struct dctx *c, int esid, const uint8_t *base)
{
    const struct vfu_struct_desc *s = ST(esid);
    if (!check_fixed(c, esid, base, s->stride)) return false;
    if (s->tail < 0) return true;
    const struct vfu_field_desc *var = F(s->tail);
    const struct vfu_arm_desc *arm = pick_arm(var, field_at(base, var->on_field));
    if (!arm) return fail(c, VFU_E_NO_VARIANT, var->on_field, field_at(base, var->on_field), 0);
    return arm->kind != VFU_ARM_STRUCT || check_fixed(c, arm->sid, base + s->size, ST(arm->sid)->size);
}

static bool walk_caps(struct dctx *c, const struct vfu_field_desc *tf, int tfid, uint64_t soff,
                      uint64_t fixed, uint64_t avail, int self, uint64_t *used)
{
    const uint8_t *sbase = c->m->payload + soff;
    uint64_t first = field_at(sbase, tf->len_field);
    *used = fixed;
    if (first == 0) return true;
    if (avail == fixed && (tf->attrs & VFU_A_TRUNCATABLE)) {
        c->m->truncated = true;   /* chain announced but left out; argsz must say so */
        return true;
    }
    const struct vfu_chain_desc *cl = &S->chains[tf->chain_id];
    const struct vfu_struct_desc *hs = ST(cl->header_sid);
    uint64_t pos = first, prev_end = fixed;
    for (unsigned n = 0;; n++) {
        if (n == VFU_MAX_CHAIN_CAPS) return fail(c, VFU_E_CAP_CHAIN, tfid, n, VFU_MAX_CHAIN_CAPS);
        if (pos < prev_end || pos > avail || avail - pos < hs->size)
            return fail(c, VFU_E_CAP_CHAIN, n ? cl->next_field : tf->len_field, pos, avail);
        const uint8_t *h = sbase + pos;
        uint64_t id = field_at(h, cl->id_field), next = field_at(h, cl->next_field);
        uint64_t body = pos + hs->size;
        uint64_t end = next ? next : avail;
        if (next && (next < body || next > avail)) return fail(c, VFU_E_CAP_CHAIN, cl->next_field, next, avail);
        int hp = add_part(c, VFU_P_STRUCT, cl->header_sid, tfid, self, soff + pos, hs->size, 0, 0);
        if (hp < 0) return false;
        int bsid = -1;
        for (unsigned i = 0; i < cl->n; i++)
            if (S->chain_entries[cl->first + i].id == id) bsid = S->chain_entries[cl->first + i].sid;
        uint64_t bused = end - body;
        if (bsid >= 0) {
            if (!walk(c, bsid, soff + body, end - body, tfid, hp, true, &bused)) return false;
            /* only the last capability must fill what is left exactly */
            if (!next && bused != end - body)
                return fail(c, VFU_E_PAYLOAD_LONG, tfid, end - body, bused);
        } else if (add_part(c, VFU_P_RAW, -1, tfid, hp, soff + body, end - body, 0, 0) < 0) {
            return false;
        }
        prev_end = body + bused;
        if (!next) break;
        pos = next;
    }
    *used = avail;
    return true;
}

/* Decodes struct sid at payload offset off with avail bytes available;
 * *used gets the bytes it covers. */
static bool walk(struct dctx *c, int sid, uint64_t off, uint64_t avail, int field, int parent,
                 bool record, uint64_t *used)
{
    const struct vfu_struct_desc *s = ST(sid);
    const uint8_t *base = c->m->payload + off;
    if (avail < s->min_size) {
        /* name the first field that does not fit */
        int missing = -1;
        for (unsigned i = 0; i < s->nfields && missing < 0; i++)
            if ((uint64_t)F(s->first_field + i)->offset + F(s->first_field + i)->width > avail)
                missing = s->first_field + (int)i;
        return fail(c, VFU_E_PAYLOAD_SHORT, missing, avail, s->min_size);
    }
    uint64_t fixed = avail >= s->size ? s->size : s->min_size;
    if (avail > s->min_size && avail < s->size && s->tail < 0) {
        /* an optional field cut in half */
        return fail(c, VFU_E_PAYLOAD_SHORT, -1, avail, s->size);
    }
    if (!check_fixed(c, sid, base, fixed)) return false;
    int self = -1;
    if (record && (self = add_part(c, VFU_P_STRUCT, sid, field, parent, off, fixed, 0, 0)) < 0)
        return false;
    *used = fixed;
    if (s->tail < 0) return true;

    int tfid = s->tail;
    const struct vfu_field_desc *tf = F(tfid);
    uint64_t rest = avail - fixed, toff = off + fixed;
    switch (tf->kind) {
    case VFU_K_DATA: {
        uint64_t n = tf->len_field >= 0 ? field_at(base, tf->len_field) : rest;
        if (n > rest) return fail(c, VFU_E_ARRAY_OVERRUN, tf->len_field, n, rest);
        if (add_part(c, VFU_P_DATA, -1, tfid, self, toff, n, n, 1) < 0) return false;
        *used += n;
        return true;
    }
    case VFU_K_STRING: {
        if (rest == 0) return true;   /* optional */
        const uint8_t *p = base + fixed;
        const uint8_t *nul = memchr(p, 0, rest);
        if (!nul) return fail(c, VFU_E_STRING, tfid, rest, 0);
        if ((uint64_t)(nul - p) != rest - 1) return fail(c, VFU_E_STRING, tfid, (uint64_t)(nul - p), rest - 1);
        if (add_part(c, VFU_P_STRING, -1, tfid, self, toff, rest, rest, 1) < 0) return false;
        *used += rest;
        return true;
    }
    case VFU_K_ARRAY: {
        const struct vfu_struct_desc *es = ST(tf->elem_sid);
        uint64_t n = field_at(base, tf->len_field);
        if (n && rest == 0 && (tf->attrs & VFU_A_TRUNCATABLE) && c->m->is_reply) {
            c->m->truncated = true;
            return true;
        }
        if (n > rest / es->stride) return fail(c, VFU_E_ARRAY_OVERRUN, tf->len_field, n, rest / es->stride);
        for (uint64_t i = 0; i < n; i++)
            if (!check_elem(c, tf->elem_sid, base + fixed + i * es->stride)) return false;
        if (add_part(c, VFU_P_ARRAY, tf->elem_sid, tfid, self, toff, n * es->stride, n, es->stride) < 0)
            return false;
        *used += n * es->stride;
        return true;
    }
    case VFU_K_BITMAP: {
        uint64_t len = field_at(base, tf->len_field), pg = field_at(base, tf->aux_field);
        if (pg == 0 || (pg & (pg - 1))) return fail(c, VFU_E_BAD_VALUE, tf->aux_field, pg, 0);
        uint64_t pages = len / pg + (len % pg != 0);
        uint64_t words = pages / 64 + (pages % 64 != 0);
        if (words > rest / 8) return fail(c, VFU_E_ARRAY_OVERRUN, tf->len_field, words * 8, rest);
        if (add_part(c, VFU_P_BITMAP, -1, tfid, self, toff, words * 8, words, 8) < 0) return false;
        *used += words * 8;
        return true;
    }
    case VFU_K_CAPCHAIN:
        return walk_caps(c, tf, tfid, off, fixed, avail, self, used);
    case VFU_K_VARIANT: {
        uint64_t sel = field_at(base, tf->on_field);
        const struct vfu_arm_desc *arm = pick_arm(tf, sel);
        if (!arm) return fail(c, VFU_E_NO_VARIANT, tf->on_field, sel, 0);
        switch (arm->kind) {
        case VFU_ARM_NONE:
            return true;
        case VFU_ARM_RAW:
            if (add_part(c, VFU_P_RAW, -1, tfid, self, toff, rest, rest, 1) < 0) return false;
            *used += rest;
            return true;
        case VFU_ARM_DATA: {
            uint64_t n = field_at(base, arm->len_field);
            if (n > rest) return fail(c, VFU_E_ARRAY_OVERRUN, arm->len_field, n, rest);
            if (add_part(c, VFU_P_DATA, -1, tfid, self, toff, n, n, 1) < 0) return false;
            *used += n;
            return true;
        }
        default: {
            if (arm->optional && rest == 0) return true;
            uint64_t u;
            if (!walk(c, arm->sid, toff, rest, tfid, self, true, &u)) return false;
            *used += u;
            return true;
        }
        }
    }
    }
    return true;
}

static bool check_fds(struct dctx *c, const struct vfu_fds_desc *r, int sid)
{
    struct vfu_msg *m = c->m;
    unsigned want_lo = 0, want_hi = 0;
    switch (r->rule) {
    case VFU_FDS_OPTIONAL: want_hi = 1; break;
    case VFU_FDS_ONE_IF:
        want_lo = want_hi = (vfu_get(m, r->bit_field) & r->mask) ? 1 : 0;
        /* a reply cut short for a small argsz is a size probe: the client
         * asks again for the full reply, and peers (libvfio-user, its sample
         * client) send and expect the fd only then */
        if (m->truncated) want_lo = 0;
        break;
    case VFU_FDS_COUNT_OR_ZERO:
        if (vfu_get(m, r->bit_field) & r->mask) {
            uint64_t n = vfu_get(m, r->field);
            if (m->nfds != 0 && m->nfds != n) return fail(c, VFU_E_FDS, r->field, m->nfds, n);
            return true;
        }
        break;
    case VFU_FDS_UPTO: {
        uint64_t n = vfu_get(m, r->field);
        if (n && !m->truncated) { want_lo = 1; want_hi = n > VFU_MAX_FDS ? VFU_MAX_FDS : (unsigned)n; }
        break;
    }
    }
    (void)sid;
    /* a one-if rule has no count field: the flags word decides */
    int field = r->rule == VFU_FDS_ONE_IF ? r->bit_field : r->field;
    if (m->nfds < want_lo || m->nfds > want_hi)
        return fail(c, VFU_E_FDS, field, m->nfds, m->nfds < want_lo ? want_lo : want_hi);
    return true;
}

/* Trailing bytes past what the layout covers: padding when the option
 * allows it, they are all zero and what precedes them is a fixed structure
 * (or nothing); otherwise the payload is too long. */
static bool take_padding(struct dctx *c, uint64_t used, unsigned opts)
{
    struct vfu_msg *m = c->m;
    uint64_t extra = m->payload_len - used;
    bool after_struct = m->nparts == 0 || m->parts[m->nparts - 1].kind == VFU_P_STRUCT;
    if (!(opts & VFU_DEC_ZERO_PADDING) || !after_struct) return false;
    for (uint64_t i = used; i < m->payload_len; i++)
        if (m->payload[i]) return false;
    m->padding = (uint32_t)extra;
    return true;
}

bool vfu_decode(struct vfu_msg *m, const uint8_t *buf, size_t len, const int *fds,
                unsigned nfds, const struct vfu_limits *lim, enum vfu_role receiver,
                struct vfu_error *err)
{
    return vfu_decode_opt(m, buf, len, fds, nfds, lim, receiver, 0, err);
}

bool vfu_decode_opt(struct vfu_msg *m, const uint8_t *buf, size_t len, const int *fds,
                    unsigned nfds, const struct vfu_limits *lim, enum vfu_role receiver,
                    unsigned opts, struct vfu_error *err)
{
    struct vfu_limits dl;
    if (!lim) { vfu_limits_default(&dl); lim = &dl; }
    memset(m, 0, offsetof(struct vfu_msg, parts));
    m->nparts = 0;
    m->fds = fds; m->nfds = nfds;
    struct dctx c = {m, err, lim, -1};
    vfu_error_set(err, VFU_OK, -1, -1, 0, 0);

    if (!vfu_hdr_decode(buf, len, &m->hdr, err)) return false;
    struct vfu_hdr *h = &m->hdr;
    c.cmd = h->cmd;
    m->is_reply = (h->flags & VFU_HDR_FLAGS_TYPE_MASK) == VFU_MSG_TYPE_REPLY;
    if (h->msg_size < VFU_HDR_SIZE) return fail(&c, VFU_E_SIZE_BELOW_HDR, VFU_F_HEADER_MSG_SIZE, h->msg_size, VFU_HDR_SIZE);
    if (h->msg_size > lim->max_msg_size) return fail(&c, VFU_E_SIZE_LIMIT, VFU_F_HEADER_MSG_SIZE, h->msg_size, lim->max_msg_size);
    if (h->msg_size != len) return fail(&c, VFU_E_SIZE_MISMATCH, VFU_F_HEADER_MSG_SIZE, h->msg_size, len);
    if (nfds > lim->max_fds) return fail(&c, VFU_E_FDS, -1, nfds, lim->max_fds);
    if (h->flags & ~VFU_HDR_FLAGS_KNOWN)
        return fail(&c, VFU_E_RESERVED_FLAGS, VFU_F_HEADER_FLAGS, h->flags & ~VFU_HDR_FLAGS_KNOWN, 0);
    uint32_t type = (uint32_t)(h->flags & VFU_HDR_FLAGS_TYPE_MASK);
    if (type != VFU_MSG_TYPE_COMMAND && type != VFU_MSG_TYPE_REPLY)
        return fail(&c, VFU_E_MSG_TYPE, VFU_F_HEADER_FLAGS, type, 0);
    m->cmd = vfu_cmd(h->cmd);
    /* the error reply a server owes a command it does not know names that
     * command; it is still a well-formed reply (m->cmd stays NULL) */
    bool unknown_error_reply = !m->cmd && m->is_reply && (h->flags & VFU_HDR_FLAGS_ERROR);
    if (!m->cmd && !unknown_error_reply) return fail(&c, VFU_E_UNKNOWN_CMD, VFU_F_HEADER_COMMAND, h->cmd, 0);
    /* refusing a command sent the wrong way names that command: the error
     * reply is the right answer, not a second wrong-way message */
    bool error_reply = m->is_reply && (h->flags & VFU_HDR_FLAGS_ERROR);
    if (receiver != VFU_ROLE_ANY && m->cmd && !error_reply) {
        /* a request goes to the side that did not send it; a reply comes back */
        bool to_server = (m->cmd->dir == VFU_DIR_CLIENT) != m->is_reply;
        if (to_server != (receiver == VFU_ROLE_SERVER))
            return fail(&c, VFU_E_DIRECTION, VFU_F_HEADER_COMMAND, h->cmd, m->cmd->dir);
    }
    m->payload = buf + VFU_HDR_SIZE;
    m->payload_len = h->msg_size - VFU_HDR_SIZE;

    if (!m->is_reply) {
        /* Error and the errno field mean nothing in a command */
        if (h->flags & VFU_HDR_FLAGS_ERROR)
            return fail(&c, VFU_E_RESERVED_FLAGS, VFU_F_HEADER_FLAGS, VFU_HDR_FLAGS_ERROR, 0);
        if (h->error) return fail(&c, VFU_E_MBZ, VFU_F_HEADER_ERROR, h->error, 0);
    } else {
        if (h->flags & VFU_HDR_FLAGS_NO_REPLY)
            return fail(&c, VFU_E_RESERVED_FLAGS, VFU_F_HEADER_FLAGS, VFU_HDR_FLAGS_NO_REPLY, 0);
        if (h->flags & VFU_HDR_FLAGS_ERROR) {
            m->is_error = true;
            if (m->payload_len) return fail(&c, VFU_E_ERROR_PAYLOAD, -1, m->payload_len, 0);
            if (nfds) return fail(&c, VFU_E_FDS, -1, nfds, 0);
            return true;
        }
    }

    int r = m->is_reply;
    int sid = m->cmd->sid[r];
    if (sid < 0) {
        if (m->payload_len && !take_padding(&c, 0, opts))
            return fail(&c, VFU_E_PAYLOAD_LONG, -1, m->payload_len, 0);
    } else {
        uint64_t used;
        if (!walk(&c, sid, 0, m->payload_len, -1, -1, true, &used)) return false;
        if (used != m->payload_len && !take_padding(&c, used, opts))
            return fail(&c, VFU_E_PAYLOAD_LONG, -1, m->payload_len, used);
        int argsz = ST(sid)->argsz_field;
        uint64_t a = argsz >= 0 ? vfu_get(m, argsz) : 0;
        /* padded: argsz may count the padding or not */
        bool unpadded_size = m->padding && a == used;
        switch (m->cmd->argsz[r]) {
        case VFU_ARGSZ_SELF:
            if (a != m->payload_len && !unpadded_size) return fail(&c, VFU_E_ARGSZ, argsz, a, m->payload_len);
            break;
        case VFU_ARGSZ_REPLY_MAX: {
            int rsid = m->cmd->sid[1];
            uint64_t min = rsid >= 0 ? ST(rsid)->min_size : 0;
            if (a < min) return fail(&c, VFU_E_ARGSZ, argsz, a, min);
            break;
        }
        case VFU_ARGSZ_FULL:
        case VFU_ARGSZ_FULL_OR_ECHO:
            /* A capability chain left out with cap_offset 0 (the kernel's
             * and libvfio-user's way) looks like no chain at all: a reply
             * that stops right after its fixed part, with argsz above it,
             * was cut short.  (Arrays say so with their count.) */
            if (!m->truncated && a > m->payload_len && m->payload_len == ST(sid)->size &&
                ST(sid)->tail >= 0 && F(ST(sid)->tail)->kind == VFU_K_CAPCHAIN &&
                (F(ST(sid)->tail)->attrs & VFU_A_TRUNCATABLE))
                m->truncated = true;
            if (m->truncated) {
                if (a <= m->payload_len) return fail(&c, VFU_E_ARRAY_OVERRUN, argsz, a, m->payload_len);
            } else if (a != m->payload_len && !unpadded_size &&
                       !(m->cmd->argsz[r] == VFU_ARGSZ_FULL_OR_ECHO && a > m->payload_len)) {
                return fail(&c, VFU_E_ARGSZ, argsz, a, m->payload_len);
            }
            break;
        }
        if (m->truncated && m->cmd->argsz[r] != VFU_ARGSZ_FULL && m->cmd->argsz[r] != VFU_ARGSZ_FULL_OR_ECHO)
            return fail(&c, VFU_E_ARRAY_OVERRUN, -1, 0, 1);
    }
    if (!check_fds(&c, &m->cmd->fds[r], sid)) return false;
    int xf = m->cmd->xfer[r];
    if (xf >= 0 && lim->max_data_xfer_size && vfu_get(m, xf) > lim->max_data_xfer_size)
        return fail(&c, VFU_E_XFER_LIMIT, xf, vfu_get(m, xf), lim->max_data_xfer_size);
    return true;
}

/* --------------------------------------------------------- accessors --- */

static const struct vfu_part *struct_part(const struct vfu_part *parts, unsigned n, int sid)
{
    for (unsigned i = 0; i < n; i++)
        if (parts[i].kind == VFU_P_STRUCT && parts[i].sid == sid) return &parts[i];
    return NULL;
}

uint64_t vfu_part_get(const struct vfu_msg *m, const struct vfu_part *p, int field)
{
    if (!p || field < 0 || field >= S->nfields) return 0;
    const struct vfu_field_desc *f = F(field);
    if (f->kind != VFU_K_UINT || f->sid != p->sid || (uint32_t)f->offset + f->width > p->len) return 0;
    return vfu_read_uint(m->payload + p->off + f->offset, f->width);
}

uint64_t vfu_get(const struct vfu_msg *m, int field)
{
    if (field < 0 || field >= S->nfields) return 0;
    if (F(field)->sid == S->header_sid) {
        const uint64_t v[] = {m->hdr.msg_id, m->hdr.cmd, m->hdr.msg_size, m->hdr.flags, m->hdr.error};
        return v[field - S->structs[S->header_sid].first_field];
    }
    return vfu_part_get(m, struct_part(m->parts, m->nparts, F(field)->sid), field);
}

bool vfu_has(const struct vfu_msg *m, int field)
{
    if (field < 0 || field >= S->nfields) return false;
    const struct vfu_field_desc *f = F(field);
    if (f->kind != VFU_K_UINT && f->kind != VFU_K_BYTES) return vfu_tail(m, field) != NULL;
    const struct vfu_part *p = struct_part(m->parts, m->nparts, f->sid);
    return p && (uint32_t)f->offset + f->width <= p->len;
}

const struct vfu_part *vfu_tail(const struct vfu_msg *m, int field)
{
    for (unsigned i = 0; i < m->nparts; i++)
        if (m->parts[i].kind != VFU_P_STRUCT && m->parts[i].field == field) return &m->parts[i];
    return NULL;
}

const uint8_t *vfu_data(const struct vfu_msg *m, int field, uint32_t *len)
{
    const struct vfu_part *p = vfu_tail(m, field);
    if (!p || p->kind == VFU_P_ARRAY) { if (len) *len = 0; return NULL; }
    if (len) *len = p->len;
    return m->payload + p->off;
}

uint32_t vfu_count(const struct vfu_msg *m, int array_field)
{
    const struct vfu_part *p = vfu_tail(m, array_field);
    return p && p->kind == VFU_P_ARRAY ? p->count : 0;
}

/* where field lives inside one element of struct esid: its own fields, or
 * those of its variant arm, which follows the fixed part */
static int elem_offset(int esid, int field)
{
    const struct vfu_struct_desc *es = ST(esid);
    const struct vfu_field_desc *f = F(field);
    if (f->sid == esid) return f->offset;
    if (es->tail < 0) return -1;
    const struct vfu_field_desc *var = F(es->tail);
    for (unsigned a = 0; a < var->narms; a++)
        if (S->arms[var->first_arm + a].kind == VFU_ARM_STRUCT && S->arms[var->first_arm + a].sid == f->sid)
            return es->size + f->offset;
    return -1;
}

uint64_t vfu_elem_get(const struct vfu_msg *m, int array_field, uint32_t i, int field)
{
    const struct vfu_part *p = vfu_tail(m, array_field);
    if (!p || p->kind != VFU_P_ARRAY || i >= p->count || field < 0 || field >= S->nfields ||
        F(field)->kind != VFU_K_UINT)
        return 0;
    int o = elem_offset(p->sid, field);
    if (o < 0) return 0;
    return vfu_read_uint(m->payload + p->off + (uint64_t)i * p->stride + (unsigned)o, F(field)->width);
}

const struct vfu_part *vfu_part_next(const struct vfu_msg *m, const struct vfu_part *prev, int sid)
{
    unsigned i = prev ? (unsigned)(prev - m->parts) + 1 : 0;
    for (; i < m->nparts; i++)
        if (m->parts[i].kind == VFU_P_STRUCT && m->parts[i].sid == sid) return &m->parts[i];
    return NULL;
}

const struct vfu_part *vfu_part_child(const struct vfu_msg *m, const struct vfu_part *p, int field)
{
    int idx = (int)(p - m->parts);
    for (unsigned i = 0; i < m->nparts; i++)
        if (m->parts[i].parent == idx && m->parts[i].field == field) return &m->parts[i];
    return NULL;
}

/* ------------------------------------------------------------ encode --- */

static bool efail(struct vfu_enc *e, enum vfu_errc code, int field, uint64_t got, uint64_t want)
{
    if (e->err.code == VFU_OK) {
        vfu_error_set(&e->err, code, e->cmd, field, got, want);
        e->err.is_reply = e->is_reply;
    }
    return false;
}

/* room for n more bytes, zeroed; returns their payload offset or -1 */
static int64_t grow(struct vfu_enc *e, uint64_t n, int field)
{
    if (e->err.code != VFU_OK) return -1;
    if (n > e->cap - e->len) { efail(e, VFU_E_ENC_SPACE, field, e->len + n, e->cap); return -1; }
    memset(e->buf + e->len, 0, n);
    int64_t off = (int64_t)(e->len - VFU_HDR_SIZE);
    e->len += n;
    return off;
}

static int enc_part(struct vfu_enc *e, int kind, int sid, int field, int64_t off, uint64_t len)
{
    if (e->nparts == VFU_MAX_PARTS) { efail(e, VFU_E_TOO_DEEP, field, e->nparts, VFU_MAX_PARTS); return -1; }
    struct vfu_part *p = &e->parts[e->nparts];
    memset(p, 0, sizeof *p);
    p->kind = (uint8_t)kind; p->sid = (int16_t)sid; p->field = (int16_t)field;
    p->parent = -1; p->off = (uint32_t)off; p->len = (uint32_t)len;
    if (kind == VFU_P_ARRAY) p->stride = ST(sid)->stride;
    return (int)e->nparts++;
}

static int last_struct(const struct vfu_enc *e, int sid)
{
    for (int i = (int)e->nparts - 1; i >= 0; i--)
        if (e->parts[i].kind == VFU_P_STRUCT && e->parts[i].sid == sid) return i;
    return -1;
}

void vfu_enc_begin(struct vfu_enc *e, uint8_t *buf, size_t cap, uint16_t cmd, bool is_reply,
                   uint16_t msg_id)
{
    e->buf = buf; e->cap = cap; e->len = 0; e->cmd = cmd; e->is_reply = is_reply;
    e->nparts = 0; e->nfds = 0; e->finished = false;
    vfu_error_set(&e->err, VFU_OK, cmd, -1, 0, 0);
    if (cap < VFU_HDR_SIZE) { efail(e, VFU_E_ENC_SPACE, -1, VFU_HDR_SIZE, cap); return; }
    struct vfu_hdr h = {msg_id, cmd, VFU_HDR_SIZE, is_reply ? VFU_MSG_TYPE_REPLY : VFU_MSG_TYPE_COMMAND, 0};
    vfu_hdr_encode(buf, &h);
    e->len = VFU_HDR_SIZE;
    const struct vfu_cmd_desc *c = vfu_cmd(cmd);
    if (!c) return;   /* unknown command: header only, by request */
    int sid = c->sid[is_reply];
    if (sid >= 0) vfu_enc_struct(e, sid);
}

void vfu_enc_error(struct vfu_enc *e, uint8_t *buf, size_t cap, uint16_t cmd, uint16_t msg_id,
                   uint32_t errnum)
{
    vfu_enc_begin(e, buf, cap, 0, true, msg_id);
    if (e->err.code != VFU_OK) return;
    e->cmd = cmd;
    struct vfu_hdr h = {msg_id, cmd, VFU_HDR_SIZE, VFU_MSG_TYPE_REPLY | VFU_HDR_FLAGS_ERROR, errnum};
    vfu_hdr_encode(buf, &h);
    e->finished = true;
}

void vfu_enc_struct(struct vfu_enc *e, int sid)
{
    if (sid < 0 || sid >= S->nstructs) { efail(e, VFU_E_ENC_FIELD, -1, (uint64_t)sid, 0); return; }
    int64_t off = grow(e, ST(sid)->size, -1);
    if (off >= 0) enc_part(e, VFU_P_STRUCT, sid, -1, off, ST(sid)->size);
}

static uint8_t *field_ptr(struct vfu_enc *e, int field)
{
    if (field < 0 || field >= S->nfields) { efail(e, VFU_E_ENC_FIELD, field, 0, 0); return NULL; }
    const struct vfu_field_desc *f = F(field);
    if (f->sid == S->header_sid) return e->buf + f->offset;
    int i = last_struct(e, f->sid);
    if (i >= 0) return e->buf + VFU_HDR_SIZE + e->parts[i].off + f->offset;
    /* the latest element of an array whose element (or arm) holds it */
    for (int k = (int)e->nparts - 1; k >= 0; k--) {
        struct vfu_part *p = &e->parts[k];
        if (p->kind != VFU_P_ARRAY || !p->count) continue;
        int o = elem_offset(p->sid, field);
        if (o >= 0) return e->buf + VFU_HDR_SIZE + p->off + (uint64_t)(p->count - 1) * p->stride + (unsigned)o;
    }
    efail(e, VFU_E_ENC_FIELD, field, 0, 0);
    return NULL;
}

void vfu_enc_set(struct vfu_enc *e, int field, uint64_t v)
{
    if (e->err.code != VFU_OK) return;
    uint8_t *p = field_ptr(e, field);
    if (!p) return;
    if (F(field)->kind != VFU_K_UINT) { efail(e, VFU_E_ENC_FIELD, field, 0, 0); return; }
    vfu_write_uint(p, F(field)->width, v);
}

void vfu_enc_hdr(struct vfu_enc *e, int header_field, uint64_t v)
{
    vfu_enc_set(e, header_field, v);
}

void vfu_enc_bytes(struct vfu_enc *e, int field, const void *src, size_t n)
{
    if (e->err.code != VFU_OK) return;
    uint8_t *p = field_ptr(e, field);
    if (!p) return;
    if (F(field)->kind != VFU_K_BYTES || n > F(field)->width) { efail(e, VFU_E_ENC_FIELD, field, n, F(field)->width); return; }
    memcpy(p, src, n);
}

/* the tail field belongs to the latest struct part that can hold it */
static int tail_owner(struct vfu_enc *e, int field)
{
    if (field < 0 || field >= S->nfields) return -1;
    const struct vfu_field_desc *f = F(field);
    int owner = last_struct(e, f->sid);
    if (owner >= 0) return owner;
    return -1;
}

/* the tail already started for the struct part at index owner: only parts
 * after it, or a second instance of a struct (two SPARSE_MMAP caps) would
 * grow the first one's array */
static struct vfu_part *tail_part(struct vfu_enc *e, int owner, int field, int kind)
{
    for (int k = (int)e->nparts - 1; k > owner; k--)
        if (e->parts[k].kind == kind && e->parts[k].field == field) return &e->parts[k];
    return NULL;
}

void vfu_enc_elem(struct vfu_enc *e, int array_field)
{
    if (e->err.code != VFU_OK) return;
    int owner = tail_owner(e, array_field);
    if (owner < 0 || F(array_field)->kind != VFU_K_ARRAY) {
        efail(e, VFU_E_ENC_FIELD, array_field, 0, 0);
        return;
    }
    int esid = F(array_field)->elem_sid;
    struct vfu_part *p = tail_part(e, owner, array_field, VFU_P_ARRAY);
    int64_t off = grow(e, ST(esid)->stride, array_field);
    if (off < 0) return;
    if (!p) {
        int k = enc_part(e, VFU_P_ARRAY, esid, array_field, off, 0);
        if (k < 0) return;
        p = &e->parts[k];
    }
    p->count++;
    p->len += ST(esid)->stride;
}

uint8_t *vfu_enc_data(struct vfu_enc *e, int field, const void *src, size_t n)
{
    if (e->err.code != VFU_OK) return NULL;
    int owner = tail_owner(e, field);   /* range-checks field before F() reads it */
    int kind = owner >= 0 ? F(field)->kind : -1;
    if (owner < 0 || (kind != VFU_K_DATA && kind != VFU_K_STRING && kind != VFU_K_VARIANT &&
                      kind != VFU_K_BITMAP)) {
        efail(e, VFU_E_ENC_FIELD, field, 0, 0);
        return NULL;
    }
    struct vfu_part *p = tail_part(e, owner, field, VFU_P_DATA);
    int64_t off = grow(e, n, field);
    if (off < 0) return NULL;
    if (!p) {
        int k = enc_part(e, VFU_P_DATA, -1, field, off, 0);
        if (k < 0) return NULL;
        p = &e->parts[k];
    }
    p->len += (uint32_t)n;
    uint8_t *dst = e->buf + VFU_HDR_SIZE + off;
    if (src) memcpy(dst, src, n);
    return dst;
}

void vfu_enc_chain_cap(struct vfu_enc *e, int capchain_field, uint64_t cap_id)
{
    if (e->err.code != VFU_OK) return;
    int owner = tail_owner(e, capchain_field);
    if (owner < 0 || F(capchain_field)->kind != VFU_K_CAPCHAIN) { efail(e, VFU_E_ENC_FIELD, capchain_field, 0, 0); return; }
    const struct vfu_chain_desc *cl = &S->chains[F(capchain_field)->chain_id];
    int bsid = -1;
    for (unsigned i = 0; i < cl->n; i++)
        if (S->chain_entries[cl->first + i].id == cap_id) bsid = S->chain_entries[cl->first + i].sid;
    if (bsid < 0) { efail(e, VFU_E_ENC_FIELD, cl->id_field, cap_id, 0); return; }
    uint32_t base = e->parts[owner].off;
    int prev = -1;
    for (int k = (int)e->nparts - 1; k > owner && prev < 0; k--)
        if (e->parts[k].kind == VFU_P_STRUCT && e->parts[k].sid == cl->header_sid) prev = k;
    int64_t off = grow(e, ST(cl->header_sid)->size, capchain_field);
    if (off < 0) return;
    uint8_t *payload = e->buf + VFU_HDR_SIZE;
    uint64_t rel = (uint64_t)off - base;
    if (prev < 0)
        vfu_write_uint(payload + base + F(F(capchain_field)->len_field)->offset, F(F(capchain_field)->len_field)->width, rel);
    else
        vfu_write_uint(payload + e->parts[prev].off + F(cl->next_field)->offset, F(cl->next_field)->width, rel);
    if (enc_part(e, VFU_P_STRUCT, cl->header_sid, capchain_field, off, ST(cl->header_sid)->size) < 0) return;
    vfu_write_uint(payload + off + F(cl->id_field)->offset, F(cl->id_field)->width, cap_id);
    vfu_enc_struct(e, bsid);
}

void vfu_enc_fd(struct vfu_enc *e, int fd)
{
    if (e->err.code != VFU_OK) return;
    if (e->nfds == VFU_MAX_FDS) { efail(e, VFU_E_FDS, -1, e->nfds + 1, VFU_MAX_FDS); return; }
    e->fds[e->nfds++] = fd;
}

/* fill a length field in the struct part k if it is still zero */
static void fill_zero(struct vfu_enc *e, const struct vfu_part *owner, int field, uint64_t v)
{
    if (field < 0) return;
    uint8_t *p = e->buf + VFU_HDR_SIZE + owner->off + F(field)->offset;
    if (!vfu_read_uint(p, F(field)->width)) vfu_write_uint(p, F(field)->width, v);
}

bool vfu_enc_finish(struct vfu_enc *e, struct vfu_error *err)
{
    if (e->err.code == VFU_OK && e->len > UINT32_MAX) efail(e, VFU_E_ENC_SPACE, -1, e->len, UINT32_MAX);
    if (e->err.code != VFU_OK) { if (err) *err = e->err; return false; }
    vfu_write_uint(e->buf + F(VFU_F_HEADER_MSG_SIZE)->offset, F(VFU_F_HEADER_MSG_SIZE)->width, e->len);
    /* counts and lengths from what was appended, for the owning struct */
    for (unsigned k = 0; k < e->nparts; k++) {
        struct vfu_part *p = &e->parts[k];
        if (p->kind == VFU_P_STRUCT) continue;
        const struct vfu_field_desc *tf = F(p->field);
        int owner = -1;
        for (int i = (int)k - 1; i >= 0 && owner < 0; i--)
            if (e->parts[i].kind == VFU_P_STRUCT && e->parts[i].sid == tf->sid) owner = i;
        if (owner < 0) continue;
        if (tf->kind == VFU_K_DATA || tf->kind == VFU_K_ARRAY) {
            fill_zero(e, &e->parts[owner], tf->len_field, tf->kind == VFU_K_ARRAY ? p->count : p->len);
        } else if (tf->kind == VFU_K_VARIANT) {
            /* data arm: its length field is the arm's */
            for (unsigned a = 0; a < tf->narms; a++) {
                const struct vfu_arm_desc *arm = &S->arms[tf->first_arm + a];
                if (arm->kind == VFU_ARM_DATA) { fill_zero(e, &e->parts[owner], arm->len_field, p->len); break; }
            }
        }
    }
    const struct vfu_cmd_desc *c = vfu_cmd(e->cmd);
    if (c && e->nparts && !(field_at(e->buf, VFU_F_HEADER_FLAGS) & VFU_HDR_FLAGS_ERROR)) {
        int r = e->is_reply, sid = c->sid[r];
        int argsz = vfu_argsz_field(sid);
        uint64_t payload = e->len - VFU_HDR_SIZE;
        if (argsz >= 0 && e->parts[0].sid == sid) {
            if (c->argsz[r] == VFU_ARGSZ_SELF || c->argsz[r] == VFU_ARGSZ_FULL || c->argsz[r] == VFU_ARGSZ_FULL_OR_ECHO)
                fill_zero(e, &e->parts[0], argsz, payload);
            else if (c->argsz[r] == VFU_ARGSZ_REPLY_MAX)
                fill_zero(e, &e->parts[0], argsz, c->sid[1] >= 0 ? ST(c->sid[1])->size : 0);
            else if (sid == c->sid[!r])   /* same struct both ways (DMA_UNMAP): its own size */
                fill_zero(e, &e->parts[0], argsz, payload);
        }
    }
    if (err) vfu_error_set(err, VFU_OK, e->cmd, -1, 0, 0);
    e->finished = true;
    return true;
}
