/* Boundary scenarios of a (offset, count) pair over a region's bytes
 * (space=region:F): REGION_READ and REGION_WRITE, and the entries of
 * REGION_WRITE_MULTI (a pair inside an array element), on every region the
 * probe found with a size and the access's permission. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gen.h"
#include "vfu_proto.h"
#include "vfu_spec.h"

#define RULE_OUT "a read reply carries what the region holds and a write reply the bytes it wrote; past the region's end there are none, so only an error answers truthfully (any errno)"
#define RULE_IN_WRITE "an access inside the region gets a well-formed answer: the bytes written, or an error reply that is only a header (a device may refuse a write it lacks)"
#define RULE_COUNT_WRAP "past the region's end there are no bytes to carry, so only an error answers truthfully; the count is also above max_data_xfer_size, so closing the connection is allowed too (never success, a crash or a hang)"

struct pair {
    const char *cmd, *off, *len, *idx, *data;  /* names from the tables */
    unsigned obits, lbits;                     /* the fields' widths */
    bool write;                                /* the request carries the bytes */
    const char *reply_data;                    /* the reply's data tail, or NULL */
    /* a pair inside an element of array `elem`, whose bytes are the fixed
     * field `data` of `elem_bytes` bytes (a write of at most that many) */
    const char *elem;
    uint32_t elem_bytes;
    const char *requires;                      /* the command's needs-cap, or NULL */
};

static void head(struct gen_buf *b, const struct pair *p, unsigned r, const char *form, const char *level, const char *rule,
                 const char *title)
{
    char id[160];
    snprintf(id, sizeof id, "%s.bounds.r%u.%s", p->cmd, r, form);
    vfh_gen_begin(b, id, level, rule, title);
    /* the capability is the server's to grant and ours to propose */
    if (p->requires) vfh_gen_printf(b, "  requires %s\n  negotiate caps.%s=true\n", p->requires, p->requires);
}

/* the send of an access of count bytes at offset of region r: bytes NULL
 * sends zeros (a write), else those count bytes */
static void send(struct gen_buf *b, const struct pair *p, unsigned r, uint64_t offset, uint64_t count, const uint8_t *bytes)
{
    vfh_gen_printf(b, "  send %s", p->cmd);
    if (p->elem) vfh_gen_printf(b, " +%s", p->elem);
    vfh_gen_printf(b, " %s=%u %s=0x%" PRIx64 " %s=%" PRIu64, p->idx, r, p->off, offset, p->len, count);
    if (!p->write) {
        vfh_gen_printf(b, "\n");
        return;
    }
    uint64_t n = p->elem ? p->elem_bytes : count;
    if (!bytes) {
        vfh_gen_printf(b, " %s=zero:%" PRIu64 "\n", p->data, n);
        return;
    }
    vfh_gen_printf(b, " %s=hex:", p->data);
    for (uint64_t k = 0; k < n; k++) vfh_gen_printf(b, "%02x", k < count ? bytes[k] : 0);
    vfh_gen_printf(b, "\n");
}

/* one access outside the region: refused with an error */
static void outside(struct gen_buf *b, const struct pair *p, unsigned r, uint64_t size, const char *form,
                    uint64_t offset, uint64_t count, const char *why)
{
    if (p->elem && count > p->elem_bytes) return;   /* the element cannot say it */
    char title[400];
    snprintf(title, sizeof title, "%s of %" PRIu64 " bytes at %s 0x%" PRIx64 " of region %u (0x%" PRIx64
             " bytes): %s, refused", p->cmd, count, p->off, offset, r, size, why);
    head(b, p, r, form, "MUST", RULE_OUT, title);
    send(b, p, r, offset, count, NULL);
    vfh_gen_printf(b, "  expect error EINVAL?\n");
    vfh_gen_end(b);
}

/* one access inside, of the width the probe saw a read accepted: a read
 * is answered with the bytes; a write (putting back what the probe read
 * there, so the device keeps its state) gets a well-formed answer */
static void inside(struct gen_buf *b, const struct pair *p, unsigned r, uint64_t size, uint32_t w, const char *form,
                   uint64_t offset, const uint8_t *bytes)
{
    if (p->elem && w > p->elem_bytes) return;
    char title[400], rule[600];
    if (p->write) {
        /* that a read of this width is taken says nothing of writes (a
         * register may be read-only): only a well-formed answer is asked */
        snprintf(title, sizeof title, "%s of %u bytes (what the probe read there) at %s 0x%" PRIx64 " of region %u (0x%" PRIx64
                 " bytes): inside, answered well-formed", p->cmd, w, p->off, offset, r, size);
        head(b, p, r, form, "MUST", RULE_IN_WRITE, title);
        send(b, p, r, offset, w, bytes);
        vfh_gen_printf(b, "  expect reply\n");
        vfh_gen_end(b);
        return;
    }
    snprintf(title, sizeof title, "%s of %u bytes at %s 0x%" PRIx64 " of region %u (0x%" PRIx64 " bytes): inside, answered",
             p->cmd, w, p->off, offset, r, size);
    snprintf(rule, sizeof rule, "stricter than the spec: the device reported region %u with %" PRIu64
             " bytes and answered a %u-byte read at offset 0 in the probe; an access of that width inside the region is one it offers, "
             "and the reply names the place and count it served (a device may refuse sizes it lacks, so not MUST)", r, size, w);
    head(b, p, r, form, "SHOULD", rule, title);
    send(b, p, r, offset, w, NULL);
    vfh_gen_printf(b, "  expect ok %s=%u %s=0x%" PRIx64 " %s=%u", p->idx, r, p->off, offset, p->len, w);
    if (p->reply_data) vfh_gen_printf(b, " len(%s)=%u", p->reply_data, w);
    vfh_gen_printf(b, "\n");
    vfh_gen_end(b);
}

static void one_region(struct gen_buf *b, const struct gen_device *d, const struct pair *p, unsigned r)
{
    uint64_t size = d->region[r].size;
    uint32_t w = d->region[r].width;
    /* outside, the width matters less: the one the device takes, else 4 */
    uint64_t wo = w ? w : size < 4 ? size : 4;
    bool readable = d->region[r].flags & VFU_REGION_INFO_FLAGS_READ;
    uint64_t last = vfh_gen_last_valid(size, w);
    if (w && readable) {
        inside(b, p, r, size, w, "first", 0, d->region[r].first);
        /* a write needs the bytes the probe found there */
        if (last && (!p->write || d->region[r].has_last)) inside(b, p, r, size, w, "last-valid", last, d->region[r].last);
    }
    outside(b, p, r, size, "one-past-end", size, wo, "starts at the end");
    if (size >= wo && 2 * wo <= d->max_xfer) outside(b, p, r, size, "straddle-end", size - wo, 2 * wo, "runs past the end");
    uint64_t half = (uint64_t)1 << (p->obits - 1);
    if (half > size) outside(b, p, r, size, "far-past", half, wo, "half the offset's range away");
    char form[64];
    snprintf(form, sizeof form, "wrap%u-to-zero", p->obits);
    outside(b, p, r, size, form, vfh_gen_wrap(p->obits, wo), wo, "offset+count is 2^offset-width, 0 when it wraps");
    snprintf(form, sizeof form, "wrap%u-max", p->obits);
    outside(b, p, r, size, form, vfh_gen_wrap(p->obits, 1), wo, "the offset's largest value: offset+count wraps to count-1");
    /* a server that keeps the offset in 32 bits sees these inside */
    if (p->obits > 32 && size + wo < ((uint64_t)1 << 32)) {
        outside(b, p, r, size, "alias32-start", (uint64_t)1 << 32, wo, "2^32, offset 0 when cut to 32 bits");
        outside(b, p, r, size, "alias32-last", ((uint64_t)1 << 32) + last, wo, "2^32 above the last valid offset");
        outside(b, p, r, size, "wrap32-sum", vfh_gen_wrap(32, wo), wo, "offset+count is 2^32, 0 in 32-bit arithmetic");
    }
    /* the count's own wrap: only a read, whose bytes come back (a write
     * would have to send them) */
    if (!p->write && (p->lbits >= 64 || wo < ((uint64_t)1 << p->lbits))) {
        uint64_t count = vfh_gen_wrap(p->lbits, wo);
        char title[400];
        snprintf(form, sizeof form, "count-wrap%u", p->lbits);
        snprintf(title, sizeof title, "%s of 0x%" PRIx64 " bytes at %s 0x%" PRIx64 " of region %u: offset+count is 2^%u, refused or closed",
                 p->cmd, count, p->off, wo, r, p->lbits);
        head(b, p, r, form, "MUST", RULE_COUNT_WRAP, title);
        vfh_gen_printf(b, "  send %s %s=%u %s=0x%" PRIx64 " %s=0x%" PRIx64 " unchecked\n", p->cmd, p->idx, r, p->off, wo, p->len, count);
        vfh_gen_printf(b, "  expect error-or-close EINVAL? E2BIG?\n");
        vfh_gen_end(b);
    }
}

static void all_regions(struct gen_buf *b, const struct gen_device *d, const struct pair *p)
{
    uint32_t need = p->write ? VFU_REGION_INFO_FLAGS_WRITE : VFU_REGION_INFO_FLAGS_READ;
    for (unsigned r = 0; r < d->nregions && r < GEN_MAX_PLACES; r++)
        if (d->region[r].size && (d->region[r].flags & need)) one_region(b, d, p, r);
}

static struct pair make_pair(unsigned cmd, int off, int len)
{
    const struct vfu_cmd_desc *c = vfu_cmd(cmd);
    const struct vfu_field_desc *fo = vfu_field(off), *fl = vfu_field(len);
    struct pair p;
    memset(&p, 0, sizeof p);
    p.cmd = c->name;
    p.off = fo->name;
    p.len = fl->name;
    p.idx = vfu_field(fo->space_field)->name;
    p.obits = 8u * fo->width;
    p.lbits = 8u * fl->width;
    p.requires = c->needs_cap >= 0 ? vfu_capability(c->needs_cap)->name : NULL;
    return p;
}

void vfh_gen_region_pair(struct gen_buf *b, const struct gen_device *d, unsigned cmd, int off, int len)
{
    const struct vfu_cmd_desc *c = vfu_cmd(cmd);
    const struct vfu_struct_desc *rq = vfu_struct(c->sid[0]);
    struct pair p = make_pair(cmd, off, len);
    /* the request carries the bytes when its data tail is counted by the
     * pair's length: a write; else the reply carries them: a read */
    if (rq->tail >= 0 && vfu_field(rq->tail)->kind == VFU_K_DATA && vfu_field(rq->tail)->len_field == len) {
        p.write = true;
        p.data = vfu_field(rq->tail)->name;
    }
    if (c->sid[1] >= 0) {
        const struct vfu_struct_desc *rp = vfu_struct(c->sid[1]);
        if (rp->tail >= 0 && vfu_field(rp->tail)->kind == VFU_K_DATA) p.reply_data = vfu_field(rp->tail)->name;
    }
    all_regions(b, d, &p);
}

void vfh_gen_region_elem_pair(struct gen_buf *b, const struct gen_device *d, unsigned cmd, int array, int off, int len)
{
    struct pair p = make_pair(cmd, off, len);
    const struct vfu_struct_desc *el = vfu_struct(vfu_field(array)->elem_sid);
    p.elem = vfu_field(array)->name;
    /* an element that carries fixed bytes is a write of at most that many */
    for (unsigned i = 0; i < el->nfields; i++) {
        const struct vfu_field_desc *f = vfu_field(el->first_field + i);
        if (f->kind == VFU_K_BYTES) {
            p.write = true;
            p.data = f->name;
            p.elem_bytes = f->width;
        }
    }
    if (!p.write) return;   /* no element form reads */
    all_regions(b, d, &p);
}
