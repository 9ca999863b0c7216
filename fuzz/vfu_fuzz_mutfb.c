/* TEMPORARY stand-in for the shared mutator (lib/mutate.h), built into
 * vfu-fuzz only while lib/ has no implementation of it (fuzz/vfufuzz.mk
 * picks this file when lib/mutate*.c does not exist; once the mutator
 * branch lands, this file is no longer compiled and can be deleted).  It
 * implements the same interface, smaller: field values by width and
 * boundary from the generated tables, flag bits, command swaps, data
 * length, record insertion, deletion, duplication, swaps and fd changes. */
#include "mutate.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz_session.h"

#define MSG_CAP (64u << 10)
#define OUT_CAP (256u << 10)

struct vfu_mut {
    uint64_t s;
    enum vfu_role target;
    struct vfu_fs fs;
    uint8_t msg[4][MSG_CAP];
    uint8_t out[OUT_CAP];
};

struct vfu_mut *vfu_mut_new(const struct vfu_mut_opts *o)
{
    struct vfu_mut *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->target = o->target;
    vfu_mut_reseed(m, o->seed);
    return m;
}

void vfu_mut_free(struct vfu_mut *m) { free(m); }

void vfu_mut_reseed(struct vfu_mut *m, uint64_t seed) { m->s = seed * 0x9e3779b97f4a7c15ull + 1; }

static uint64_t next(struct vfu_mut *m)
{
    /* xorshift64* */
    m->s ^= m->s >> 12;
    m->s ^= m->s << 25;
    m->s ^= m->s >> 27;
    return m->s * 0x2545f4914f6cdd1dull;
}

uint64_t vfu_mut_below(struct vfu_mut *m, uint64_t n) { return n ? next(m) % n : 0; }

static uint64_t width_max(unsigned w) { return w >= 8 ? ~0ull : (1ull << (8 * w)) - 1; }

/* a value for a field of width w: boundaries first */
static uint64_t value(struct vfu_mut *m, unsigned w, uint64_t old)
{
    uint64_t mx = width_max(w);
    switch (vfu_mut_below(m, 12)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return mx;
    case 3: return mx >> 1;
    case 4: return (mx >> 1) + 1;
    case 5: return (old + 1) & mx;
    case 6: return (old - 1) & mx;
    case 7: return (1ull << vfu_mut_below(m, 8 * w)) & mx;
    case 8: return 0x1000 & mx;
    case 9: return (old ^ (1ull << vfu_mut_below(m, 8 * w))) & mx;
    case 10: return vfu_mut_below(m, 16);
    default: return next(m) & mx;
    }
}

static const struct vfu_struct_desc *body(const uint8_t *msg, size_t len, bool *is_reply)
{
    struct vfu_hdr h;
    struct vfu_error err;
    if (!vfu_hdr_decode(msg, len, &h, &err)) return NULL;
    const struct vfu_cmd_desc *cd = vfu_cmd(h.cmd);
    *is_reply = (h.flags & VFU_HDR_FLAGS_TYPE_MASK) == 1;
    if (!cd) return NULL;
    int sid = cd->sid[*is_reply];
    return sid >= 0 ? &vfu_spec.structs[sid] : NULL;
}

static void set_field(uint8_t *msg, size_t len, size_t base, const struct vfu_field_desc *f, uint64_t v)
{
    if (base + f->offset + f->width <= len) vfu_write_uint(msg + base + f->offset, f->width, v);
}

size_t vfu_mut_message(struct vfu_mut *m, uint8_t *msg, size_t len, size_t cap, bool to_server)
{
    (void)to_server;
    if (len < VFU_HDR_SIZE) {
        if (cap < VFU_HDR_SIZE) return len;
        memset(msg + len, 0, VFU_HDR_SIZE - len);
        len = VFU_HDR_SIZE;
    }
    bool is_reply;
    const struct vfu_struct_desc *sd = body(msg, len, &is_reply);
    unsigned rounds = 1 + (unsigned)vfu_mut_below(m, 3);
    int argsz_field = -1;
    bool touched_argsz = false;
    if (sd) argsz_field = vfu_field_by_name((int)(sd - vfu_spec.structs), "argsz");
    for (unsigned r = 0; r < rounds; r++) {
        switch (vfu_mut_below(m, 10)) {
        case 0: case 1: case 2: case 3: {   /* a body field, by width */
            if (!sd || !sd->nfields) break;
            const struct vfu_field_desc *f = &vfu_spec.fields[sd->first_field + vfu_mut_below(m, sd->nfields)];
            if (f->kind != VFU_K_UINT) break;
            if ((int)(f - vfu_spec.fields) == argsz_field) touched_argsz = true;
            uint64_t old = VFU_HDR_SIZE + f->offset + f->width <= len
                               ? vfu_read_uint(msg + VFU_HDR_SIZE + f->offset, f->width) : 0;
            uint64_t v = value(m, f->width, old);
            if (f->bits_id >= 0 && vfu_mut_below(m, 2)) {
                /* a defined flag bit, or a reserved one */
                uint64_t known = vfu_spec.bits[f->bits_id].known & width_max(f->width);
                uint64_t bit = 1ull << vfu_mut_below(m, 8 * f->width);
                if (known && vfu_mut_below(m, 4)) {
                    unsigned k = (unsigned)vfu_mut_below(m, (uint64_t)__builtin_popcountll(known));
                    uint64_t rest = known;
                    while (k--) rest &= rest - 1;
                    bit = rest & -rest;
                }
                v = old ^ bit;
            }
            set_field(msg, len, VFU_HDR_SIZE, f, v);
            break;
        }
        case 4: {   /* header flags: No_reply, type, reserved bits */
            uint32_t fl = (uint32_t)vfu_read_uint(msg + 8, 4);
            static const uint32_t bits[] = {VFU_HDR_FLAGS_NO_REPLY, VFU_HDR_FLAGS_ERROR, 1, 2, 0x40, 0x80000000u};
            fl ^= bits[vfu_mut_below(m, sizeof bits / sizeof bits[0])];
            vfu_write_uint(msg + 8, 4, fl);
            break;
        }
        case 5: {   /* another command */
            uint16_t cmd = (uint16_t)(vfu_mut_below(m, 8) ? vfu_mut_below(m, VFU_CMD_MAX + 1) : value(m, 2, 0));
            vfu_write_uint(msg + 2, 2, cmd);
            sd = body(msg, len, &is_reply);
            break;
        }
        case 6: {   /* data length */
            size_t nl = len;
            switch (vfu_mut_below(m, 4)) {
            case 0: nl = VFU_HDR_SIZE + (sd ? sd->size : 0); break;
            case 1: nl = len > VFU_HDR_SIZE ? len - 1 - vfu_mut_below(m, len - VFU_HDR_SIZE) : len; break;
            default: nl = len + 1 + vfu_mut_below(m, 64); break;
            }
            if (nl > cap) nl = cap;
            if (nl > len) {
                for (size_t i = len; i < nl; i++) msg[i] = (uint8_t)next(m);
            }
            len = nl < VFU_HDR_SIZE ? VFU_HDR_SIZE : nl;
            break;
        }
        case 7: {   /* a byte anywhere in the payload */
            if (len > VFU_HDR_SIZE) msg[VFU_HDR_SIZE + vfu_mut_below(m, len - VFU_HDR_SIZE)] = (uint8_t)value(m, 1, 0);
            break;
        }
        case 8: {   /* a 4- or 8-byte word in the tail */
            size_t fixed = VFU_HDR_SIZE + (sd ? sd->size : 0);
            unsigned w = vfu_mut_below(m, 2) ? 4 : 8;
            if (len >= fixed + w) {
                size_t at = fixed + vfu_mut_below(m, len - fixed - w + 1);
                vfu_write_uint(msg + at, w, value(m, w, vfu_read_uint(msg + at, w)));
            }
            break;
        }
        default: {  /* error field of the header */
            if (vfu_mut_below(m, 4) == 0) vfu_write_uint(msg + 12, 4, value(m, 4, 0));
            break;
        }
        }
    }
    /* fix-ups: usually consistent, sometimes not */
    if (vfu_mut_below(m, 10)) vfu_write_uint(msg + 4, 4, len);
    if (sd && argsz_field >= 0 && !touched_argsz && vfu_mut_below(m, 5)) {
        const struct vfu_field_desc *f = &vfu_spec.fields[argsz_field];
        set_field(msg, len, VFU_HDR_SIZE, f, len - VFU_HDR_SIZE);
    }
    return len;
}

size_t vfu_mut_generate(struct vfu_mut *m, unsigned cmd, bool is_reply, uint16_t msg_id, uint8_t *buf,
                        size_t cap, unsigned *nfds)
{
    const struct vfu_cmd_desc *cd = vfu_cmd(cmd);
    *nfds = 0;
    if (!cd) return 0;
    struct vfu_enc e;
    struct vfu_error err;
    int sid = cd->sid[is_reply];
    for (int attempt = 0; attempt < 2; attempt++) {
        vfu_enc_begin(&e, buf, cap, (uint16_t)cmd, is_reply, msg_id);
        if (sid >= 0 && attempt == 0) {
            const struct vfu_struct_desc *sd = &vfu_spec.structs[sid];
            for (unsigned i = 0; i < sd->nfields; i++) {
                const struct vfu_field_desc *f = &vfu_spec.fields[sd->first_field + i];
                if (f->kind != VFU_K_UINT || !strcmp(f->name, "argsz") || (f->attrs & VFU_A_MBZ)) continue;
                if (vfu_mut_below(m, 3) == 0) continue;
                uint64_t v = vfu_mut_below(m, 2) ? vfu_mut_below(m, 8) : value(m, f->width, 0);
                if (f->bits_id >= 0) v &= vfu_spec.bits[f->bits_id].known;
                vfu_enc_set(&e, sd->first_field + (int)i, v);
            }
            if (sd->tail >= 0 && vfu_spec.fields[sd->tail].kind == VFU_K_DATA && vfu_mut_below(m, 2)) {
                uint8_t d[64];
                size_t n = 1 + vfu_mut_below(m, sizeof d);
                for (size_t i = 0; i < n; i++) d[i] = (uint8_t)next(m);
                vfu_enc_data(&e, sd->tail, d, n);
            }
        }
        if (vfu_enc_finish(&e, &err)) break;
        if (attempt == 1) return 0;
    }
    if (cd->fds[is_reply].rule != VFU_FDS_NONE) *nfds = 1;
    return e.len;
}

/* ------------------------------------------------------------- sessions --- */

static size_t put_fs(struct vfu_mut *m, uint8_t *data, size_t max_size)
{
    size_t n = vfu_fs_write(&m->fs, m->out, max_size < OUT_CAP ? max_size : OUT_CAP);
    if (n) memcpy(data, m->out, n);
    return n;
}

size_t vfu_mut_session(struct vfu_mut *m, uint8_t *data, size_t size, size_t max_size)
{
    struct vfu_fs *fs = &m->fs;
    /* the records point into data: copy it aside first */
    size_t in = size < OUT_CAP ? size : OUT_CAP;
    static uint8_t copy[OUT_CAP];
    memcpy(copy, data, in);
    vfu_fs_parse(copy, in, fs);
    unsigned used = 0;
    unsigned rounds = 1 + (unsigned)vfu_mut_below(m, 4);
    for (unsigned r = 0; r < rounds; r++) {
        unsigned op = (unsigned)vfu_mut_below(m, 12);
        if (!fs->n) op = 6;
        unsigned i = fs->n ? (unsigned)vfu_mut_below(m, fs->n) : 0;
        switch (op) {
        case 0: case 1: case 2: case 3: case 4: {   /* mutate a message */
            if (used == 4) break;
            struct vfu_fs_record *rec = &fs->rec[i];
            uint8_t *b = m->msg[used++];
            size_t n = rec->len < MSG_CAP ? rec->len : MSG_CAP;
            memcpy(b, rec->msg, n);
            rec->len = (uint32_t)vfu_mut_message(m, b, n, MSG_CAP, m->target == VFU_ROLE_SERVER);
            rec->msg = b;
            break;
        }
        case 5:   /* delete */
            if (fs->n > 1) {
                memmove(&fs->rec[i], &fs->rec[i + 1], (fs->n - i - 1) * sizeof fs->rec[0]);
                fs->n--;
            }
            break;
        case 6: case 7: {   /* insert a fresh message */
            if (fs->n >= VFU_FS_MAX_RECORDS || used == 4) break;
            uint8_t *b = m->msg[used++];
            unsigned nf = 0, cmd = 2 + (unsigned)vfu_mut_below(m, VFU_CMD_MAX - 1);
            size_t n = vfu_mut_generate(m, cmd, false, 0, b, MSG_CAP, &nf);
            if (!n) break;
            unsigned at = fs->n ? (unsigned)vfu_mut_below(m, fs->n + 1) : 0;
            memmove(&fs->rec[at + 1], &fs->rec[at], (fs->n - at) * sizeof fs->rec[0]);
            struct vfu_fs_record *rec = &fs->rec[at];
            memset(rec, 0, sizeof *rec);
            rec->kind = VFU_FS_MSG;
            rec->flags = VFU_FS_FIX_SIZE | VFU_FS_FIX_ID;
            rec->nfds = (uint8_t)nf;
            for (unsigned k = 0; k < nf; k++) rec->fds[k] = (struct vfu_fs_fd){VFU_FS_FD_MEMFD, 1u << 20};
            rec->msg = b;
            rec->len = (uint32_t)n;
            fs->n++;
            break;
        }
        case 8:   /* duplicate */
            if (fs->n < VFU_FS_MAX_RECORDS) {
                memmove(&fs->rec[i + 1], &fs->rec[i], (fs->n - i) * sizeof fs->rec[0]);
                fs->n++;
            }
            break;
        case 9: {   /* swap */
            unsigned j = (unsigned)vfu_mut_below(m, fs->n);
            struct vfu_fs_record t = fs->rec[i];
            fs->rec[i] = fs->rec[j];
            fs->rec[j] = t;
            break;
        }
        case 10: {  /* fds: count and kind */
            struct vfu_fs_record *rec = &fs->rec[i];
            switch (vfu_mut_below(m, 3)) {
            case 0: if (rec->nfds) rec->nfds--; break;
            case 1:
                if (rec->nfds < VFU_FS_MAX_FDS) rec->fds[rec->nfds++] = (struct vfu_fs_fd){
                    (uint8_t)vfu_mut_below(m, VFU_FS_FD__KINDS), (uint32_t)(1u << vfu_mut_below(m, 22))};
                break;
            default:
                if (rec->nfds) {
                    struct vfu_fs_fd *f = &rec->fds[vfu_mut_below(m, rec->nfds)];
                    if (vfu_mut_below(m, 2)) f->kind = (uint8_t)vfu_mut_below(m, VFU_FS_FD__KINDS);
                    else f->size = (uint32_t)value(m, 4, f->size) % VFU_FS_MAX_MEMFD;
                }
            }
            break;
        }
        default:    /* record flags */
            fs->rec[i].flags ^= (uint8_t)(1u << vfu_mut_below(m, 3));
            break;
        }
    }
    size_t n = put_fs(m, data, max_size);
    if (!n) {
        /* too big: keep the input as it was */
        memcpy(data, copy, in);
        return in ? in : 1;
    }
    return n;
}

size_t vfu_mut_crossover(struct vfu_mut *m, const uint8_t *a, size_t na, const uint8_t *b, size_t nb,
                         uint8_t *out, size_t max_size)
{
    static struct vfu_fs fb;
    struct vfu_fs *fs = &m->fs;
    vfu_fs_parse(a, na, fs);
    vfu_fs_parse(b, nb, &fb);
    unsigned keep = fs->n ? (unsigned)vfu_mut_below(m, fs->n + 1) : 0;
    unsigned from = fb.n ? (unsigned)vfu_mut_below(m, fb.n) : 0;
    fs->n = keep;
    for (unsigned i = from; i < fb.n && fs->n < VFU_FS_MAX_RECORDS; i++) fs->rec[fs->n++] = fb.rec[i];
    size_t n = vfu_fs_write(fs, out, max_size);
    if (!n) {
        n = na < max_size ? na : max_size;
        memcpy(out, a, n);
    }
    return n;
}
