/* Values by meaning.  A field's role, space, span partner and bound come
 * from the spec file (spec/README.md, "Field meanings"); this file turns
 * them into boundary sets: for an (offset, length) pair over a place of
 * size S, the values at and around 0, S - length, S and the 32- and 64-bit
 * wrap points; for a count, the place, the tail it counts and its bound;
 * for argsz, the fixed sizes of both payloads; and so on. */
#include "mutate_int.h"

static const struct vfu_field_desc *F(int id) { return vfu_field(id); }
static const struct vfu_struct_desc *ST(int id) { return vfu_struct(id); }

/* region sizes tried when the device's are not known: config space, a page,
 * and typical BARs */
static const uint64_t guess_sizes[] = {0x100, 0x1000, 0x2000, 0x10000, 0x100000};
#define NGUESS (sizeof guess_sizes / sizeof guess_sizes[0])

uint64_t vfu_mut_width_max(unsigned width) { return width >= 8 ? UINT64_MAX : (1ULL << (8 * width)) - 1; }

uint64_t vfu_mut_cap_value(const struct vfu_mut *m, int cap)
{
    return cap >= 0 && cap < VFU_CAP__COUNT ? m->cap_value[cap] : 0;
}

static uint64_t at(const uint8_t *msg, size_t len, size_t base, int fid)
{
    if (fid < 0 || base + F(fid)->offset + F(fid)->width > len) return 0;
    return vfu_read_uint(msg + base + F(fid)->offset, F(fid)->width);
}

/* the offset field of the struct whose length partner is fid, or -1 */
static int partner_of(int fid)
{
    const struct vfu_struct_desc *s = ST(F(fid)->sid);
    for (unsigned i = 0; i < s->nfields; i++)
        if (F(s->first_field + (int)i)->span_field == fid) return s->first_field + (int)i;
    return -1;
}

bool vfu_mut_space_size(struct vfu_mut *m, const uint8_t *msg, size_t len, size_t base, int fid,
                    uint64_t *start, uint64_t *size)
{
    const struct vfu_field_desc *f = F(fid);
    *start = 0;
    switch (f->space) {
    case VFU_SP_REGION: {
        if (f->space_field < 0) return false;
        uint64_t idx = at(msg, len, base, f->space_field);
        if (idx >= VFU_MUT_MAX_REGIONS) return false;
        if (m->region_known & (1u << idx)) { *size = m->region_size[idx]; return true; }
        if (m->seen_region & (1u << idx)) { *size = m->seen_region_size[idx]; return true; }
        *size = guess_sizes[vfu_mut_below(m, NGUESS)];
        return true;
    }
    case VFU_SP_DMA:
        if (!m->ndma) return false;
        {
            const struct mut_dma *d = &m->dma[vfu_mut_below(m, m->ndma)];
            *start = d->addr;
            *size = d->size;
        }
        return true;
    case VFU_SP_IRQ: {
        if (f->space_field < 0) return false;
        uint64_t idx = at(msg, len, base, f->space_field);
        if (idx >= VFU_MUT_MAX_IRQS || !(m->irq_known & (1u << idx))) return false;
        *size = m->irq_count[idx];
        return true;
    }
    default:
        return false;
    }
}

struct vals { uint64_t *out; size_t n, max; uint64_t mask; };

static void put(struct vals *v, uint64_t x)
{
    x &= v->mask;
    for (size_t i = 0; i < v->n; i++) if (v->out[i] == x) return;
    if (v->n < v->max) v->out[v->n++] = x;
}

/* 0, 1, the top of the width and its halves: every field gets these */
static void common(struct vals *v, unsigned width)
{
    uint64_t top = vfu_mut_width_max(width);
    put(v, 0); put(v, 1); put(v, top); put(v, top - 1);
    put(v, top >> 1); put(v, (top >> 1) + 1);
    if (width == 8) { put(v, 0xffffffffULL); put(v, 0x100000000ULL); put(v, 0x100000001ULL); }
}

/* a position with length l in a place [s, s + size) */
static void position(struct vals *v, uint64_t s, uint64_t size, uint64_t l)
{
    put(v, s); put(v, s + 1); put(v, s - 1);
    put(v, s + size - 1); put(v, s + size); put(v, s + size + 1);
    put(v, s + size - l); put(v, s + size - l + 1); put(v, s + size - l - 1);
    put(v, s + size * 2);
    /* wrap-around: position + length lands at 0, 1, or inside */
    put(v, 0 - l); put(v, 0 - l + 1); put(v, 0 - l + s + 1);
    put(v, 0x100000000ULL - l); put(v, 0x100000000ULL - l + 1);
}

static void length(struct vals *v, uint64_t size, uint64_t pos_in)
{
    put(v, size); put(v, size + 1); put(v, size - 1);
    put(v, size - pos_in); put(v, size - pos_in + 1);
    put(v, 0 - pos_in); put(v, 0 - pos_in + 1);
    put(v, 0x100000000ULL - pos_in);
}

size_t vfu_mut_boundaries(struct vfu_mut *m, const uint8_t *msg, size_t len, size_t base, int fid,
                          uint64_t *out, size_t max)
{
    if (fid < 0 || (unsigned)fid >= vfu_nfields() || F(fid)->kind != VFU_K_UINT) return 0;
    const struct vfu_field_desc *f = F(fid);
    struct vals v = {out, 0, max, vfu_mut_width_max(f->width)};
    uint64_t s, size;
    switch (f->role) {
    case VFU_M_OFFSET:
    case VFU_M_ADDRESS: {
        uint64_t l = at(msg, len, base, f->span_field);
        if (vfu_mut_space_size(m, msg, len, base, fid, &s, &size)) position(&v, s, size, l);
        else position(&v, 0, guess_sizes[vfu_mut_below(m, NGUESS)], l);
        if (f->space == VFU_SP_DMA) position(&v, 0, 1ULL << 32, l);   /* a 4 GiB guest */
        break;
    }
    case VFU_M_LENGTH:
    case VFU_M_COUNT: {
        int pos = partner_of(fid);
        uint64_t o = at(msg, len, base, pos);
        bool known = pos >= 0 && vfu_mut_space_size(m, msg, len, base, pos, &s, &size);
        if (!known && f->space != VFU_SP_NONE && f->space_field >= 0)
            known = vfu_mut_space_size(m, msg, len, base, fid, &s, &size);
        if (known) length(&v, size, o >= s ? o - s : 0);
        else length(&v, guess_sizes[vfu_mut_below(m, NGUESS)], o);
        if (f->bound_cap >= 0) {
            uint64_t b = vfu_mut_cap_value(m, f->bound_cap);
            put(&v, b); put(&v, b + 1); put(&v, b - 1); put(&v, b * 2);
        }
        if (f->count_of >= 0) {
            /* the bytes or elements there are, from the message itself */
            const struct vfu_field_desc *t = F(f->count_of);
            size_t fixed = base + ST(f->sid)->size;
            uint64_t rest = len > fixed ? len - fixed : 0;
            uint64_t stride = t->kind == VFU_K_ARRAY ? ST(t->elem_sid)->stride : 1;
            put(&v, rest / stride); put(&v, rest / stride + 1);
            if (rest / stride) put(&v, rest / stride - 1);
        }
        put(&v, 4096); put(&v, 4097); put(&v, 8);
        break;
    }
    case VFU_M_INDEX: {
        unsigned n = f->space == VFU_SP_IRQS ? VFU_MUT_MAX_IRQS / 2 + 1 : 9;   /* INTx..REQ, BAR0..VGA */
        for (unsigned i = 0; i < n; i++) put(&v, i);
        put(&v, n); put(&v, n + 1); put(&v, 0x7fffffff); put(&v, 0x80000000);
        break;
    }
    case VFU_M_ARGSZ: {
        struct vfu_hdr h;
        struct vfu_error err;
        const struct vfu_cmd_desc *c = msg && vfu_hdr_decode(msg, len, &h, &err) ? vfu_cmd(h.cmd) : NULL;
        uint64_t mine = ST(f->sid)->size, payload = len > VFU_HDR_SIZE ? len - VFU_HDR_SIZE : 0;
        put(&v, mine); put(&v, mine - 1); put(&v, mine + 1);
        put(&v, payload); put(&v, payload - 1); put(&v, payload + 1);
        if (c && c->sid[1] >= 0) {
            uint64_t r = ST(c->sid[1])->size, rmin = ST(c->sid[1])->min_size;
            put(&v, r); put(&v, r - 1); put(&v, r + 1); put(&v, rmin - 1); put(&v, r + 4096);
        }
        put(&v, 0x80000000ULL);
        break;
    }
    case VFU_M_MSGSIZE:
        put(&v, len); put(&v, len - 1); put(&v, len + 1);
        put(&v, VFU_HDR_SIZE - 1); put(&v, VFU_HDR_SIZE); put(&v, VFU_HDR_SIZE + 1);
        /* the receiver's message size limit (vfu_limits_default's and the
         * negotiated one) and one past it */
        put(&v, VFU_HDR_SIZE + VFU_FIXED_ROOM + vfu_mut_cap_value(m, VFU_CAP_MAX_DATA_XFER_SIZE));
        put(&v, VFU_HDR_SIZE + VFU_FIXED_ROOM + vfu_mut_cap_value(m, VFU_CAP_MAX_DATA_XFER_SIZE) + 1);
        break;
    case VFU_M_PGSIZE: {
        static const uint64_t pg[] = {4095, 4096, 4097, 8192, 3 * 4096, 1ULL << 21, 1ULL << 30, 1ULL << 63};
        for (unsigned i = 0; i < sizeof pg / sizeof pg[0]; i++) put(&v, pg[i]);
        if (f->bound_cap >= 0) {
            uint64_t b = vfu_mut_cap_value(m, f->bound_cap);
            put(&v, b); put(&v, b / 2); put(&v, b * 2); put(&v, b + 1);
        }
        break;
    }
    case VFU_M_FDINDEX:
        put(&v, m->cur_nfds); put(&v, m->cur_nfds + 1);
        if (m->cur_nfds) put(&v, m->cur_nfds - 1);
        put(&v, VFU_FS_MAX_FDS); put(&v, VFU_MAX_FDS);
        break;
    case VFU_M_ID:
        put(&v, 0x7fff); put(&v, 0x8000);
        break;
    case VFU_M_MAJOR:
    case VFU_M_MINOR: {
        uint64_t own = f->role == VFU_M_MAJOR ? vfu_spec_major() : vfu_spec_minor();
        put(&v, own); put(&v, own + 1); put(&v, own - 1);
        break;
    }
    default:
        break;
    }
    common(&v, f->width);
    if (f->enum_id >= 0) {
        const struct vfu_enum_desc *e = vfu_enum(f->enum_id);
        uint64_t hi = 0;
        for (unsigned i = 0; i < e->n; i++) {
            put(&v, vfu_enum_val(e->first + i)->value);
            if (vfu_enum_val(e->first + i)->value > hi) hi = vfu_enum_val(e->first + i)->value;
        }
        put(&v, hi + 1);
    }
    return v.n;
}

uint64_t vfu_mut_valid_bits(struct vfu_mut *m, int bits_id)
{
    const struct vfu_bits_desc *b = vfu_bits(bits_id);
    uint64_t grouped = 0, v = 0;
    for (unsigned g = 0; g < b->ngroups; g++) grouped |= vfu_group(b->first_group + g)->mask;
    for (unsigned i = 0; i < b->nbits; i++) {
        const struct vfu_bit_desc *bd = vfu_bit(b->first_bit + i);
        if (bd->enum_id >= 0) {
            const struct vfu_enum_desc *e = vfu_enum(bd->enum_id);
            if (e->n) v |= (vfu_enum_val(e->first + vfu_mut_below(m, e->n))->value << bd->shift) & bd->mask;
        } else if (!(bd->mask & grouped) && mut_chance(m, 2)) {
            v |= bd->mask;
        }
    }
    for (unsigned g = 0; g < b->ngroups; g++) {
        const struct vfu_group_desc *gr = vfu_group(b->first_group + g);
        uint64_t members[64];
        unsigned n = 0;
        for (unsigned k = 0; k < 64; k++) if (gr->mask & (1ULL << k)) members[n++] = 1ULL << k;
        if (!n || (v & gr->mask)) continue;   /* an earlier group chose one of these */
        if (gr->kind == VFU_G_ATMOSTONE && mut_chance(m, 2)) continue;
        v |= members[vfu_mut_below(m, n)];
    }
    return v;
}

uint64_t vfu_mut_valid_value(struct vfu_mut *m, int fid, const uint8_t *msg, size_t len, size_t base)
{
    const struct vfu_field_desc *f = F(fid);
    if (f->attrs & VFU_A_MBZ) return 0;
    if (f->bits_id >= 0) return vfu_mut_valid_bits(m, f->bits_id);
    if (f->enum_id >= 0) {
        const struct vfu_enum_desc *e = vfu_enum(f->enum_id);
        return e->n ? vfu_enum_val(e->first + vfu_mut_below(m, e->n))->value : 0;
    }
    uint64_t s, size;
    switch (f->role) {
    case VFU_M_INDEX: {
        uint32_t known = f->space == VFU_SP_IRQS ? m->irq_known : m->region_known | m->seen_region;
        if (known) {
            unsigned k;
            do k = (unsigned)vfu_mut_below(m, 32); while (!(known & (1u << k)));
            return k;
        }
        return vfu_mut_below(m, f->space == VFU_SP_IRQS ? 5 : 9);
    }
    case VFU_M_OFFSET:
    case VFU_M_ADDRESS: {
        uint64_t l = at(msg, len, base, f->span_field);
        if (vfu_mut_space_size(m, msg, len, base, fid, &s, &size) && size > l)
            return s + vfu_mut_below(m, size - l + 1) / 8 * 8;
        return f->space == VFU_SP_DMA ? 0x10000 * vfu_mut_below(m, 16) : 0;
    }
    case VFU_M_LENGTH:
    case VFU_M_COUNT:
        return 1ULL << vfu_mut_below(m, 4);   /* 1..8: small, always room for it */
    case VFU_M_PGSIZE:
        return 4096;
    case VFU_M_MAJOR:
        return vfu_spec_major();
    case VFU_M_MINOR:
        return vfu_spec_minor();
    default:
        return vfu_mut_below(m, 4) ? 0 : vfu_mut_rand(m) & vfu_mut_width_max(f->width);
    }
}
