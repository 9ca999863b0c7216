/* Boundary scenarios of the dirty-page report's (iova, length) pair: a
 * variant arm of DEVICE_FEATURE whose struct holds a dma-space pair and a
 * page size (dma_logging_report_req), tried after logging was started
 * (the arm whose struct holds an array of dma ranges: DMA_LOGGING_START)
 * over one window mapped first, of each mapping kind (dirty pages are
 * guest memory the device reaches: a server may keep them per mapping).  The bitmap's size follows from length and page size
 * (bitmap len=length page=page_size), so the bounds of the length field
 * (bound=migration.max_bitmap_size) and of the page count in 32 bits are
 * the limits tried. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gen.h"
#include "vfu_proto.h"
#include "vfu_spec.h"

#define LOG_BASE 0x10000000ull
#define LOG_PAGES 4

#define RULE_IN "the report returns the dirty bitmap of an IOVA range while logging is on; the range logged, a window the device maps, is one it answers"
#define RULE_IN_MSG "stricter than the spec: the report returns the dirty bitmap of an IOVA range while logging is on, with no exception for a window served by DMA_READ/DMA_WRITE messages, but the spec says nothing of such windows either; answering for one is what we ask"
#define RULE_BIG "a bitmap larger than the max_bitmap_size the server stated (or the spec's default) cannot be sent; only an error answers truthfully (any errno)"
#define RULE_WRAP "stricter than the spec: it does not say which ranges a report may name; refusing one whose iova+length wraps past the address's width is what we ask"

/* an arm's condition as a flags value of the scenario language
 * ("when FEATURE=X GET" -> "FEATURE=X|GET"); false for one with a
 * negated bit, which has no such spelling */
static bool arm_flags(const struct vfu_arm_desc *a, char *out, size_t n)
{
    const char *l = a->label;
    if (!strncmp(l, "when ", 5)) l += 5;
    if (strchr(l, '!') || strlen(l) >= n) return false;
    size_t k = 0;
    for (; *l; l++) out[k++] = *l == ' ' ? '|' : *l;
    out[k] = 0;
    return true;
}

/* the fixed dma pair of struct sid: its address field, or -1 */
static int dma_pair(int sid)
{
    const struct vfu_struct_desc *st = vfu_struct(sid);
    for (unsigned i = 0; i < st->nfields; i++) {
        const struct vfu_field_desc *f = vfu_field(st->first_field + i);
        if (f->kind == VFU_K_UINT && f->role == VFU_M_ADDRESS && f->space == VFU_SP_DMA && f->span_field >= 0)
            return (int)(st->first_field + i);
    }
    return -1;
}

/* the field of struct sid with this role, or -1 */
static int with_role(int sid, int role, int kind)
{
    const struct vfu_struct_desc *st = vfu_struct(sid);
    for (unsigned i = 0; i < st->nfields; i++)
        if (vfu_field(st->first_field + i)->role == role && vfu_field(st->first_field + i)->kind == kind)
            return (int)(st->first_field + i);
    return -1;
}

struct ctx {
    const char *cmd, *argsz;
    char start[96], stop[96], report[96];   /* the arms' flags */
    const char *s_pg, *s_arr, *s_addr, *s_len; /* START's page size, ranges array and its pair */
    const char *r_addr, *r_len, *r_pg;        /* the report's */
    uint64_t pg, base, size;
};

static void one(struct gen_buf *b, const struct ctx *x, const struct gen_kind *k, const char *form, const char *level,
                const char *rule, uint64_t iova, uint64_t length, bool in, const char *what)
{
    char id[160], title[400];
    snprintf(id, sizeof id, "%s.bounds.dirty.%s.%s", x->cmd, k->name, form);
    snprintf(title, sizeof title, "%s report of %s=0x%" PRIx64 " %s=0x%" PRIx64 " while logging a %s window 0x%" PRIx64 "+0x%" PRIx64
             ": %s", x->cmd, x->r_addr, iova, x->r_len, length, k->name, x->base, x->size, what);
    vfh_gen_begin(b, id, level, rule, title);
    /* logging must be on for a report to mean anything (the spec: only
     * valid after DMA_LOGGING_START) */
    vfh_gen_printf(b, "  requires dma-logging\n");
    vfh_gen_printf(b, "  map w 0x%" PRIx64 " 0x%" PRIx64 " %s %s\n", x->base, x->size, k->memfd ? "memfd" : "message", k->flags);
    vfh_gen_printf(b, "  send %s flags=%s %s=%" PRIu64 " +%s %s=0x%" PRIx64 " %s=0x%" PRIx64 " %s=64\n  expect ok\n", x->cmd, x->start,
               x->s_pg, x->pg, x->s_arr, x->s_addr, x->base, x->s_len, x->size, x->argsz);
    /* argsz says the client takes any reply: only the range decides */
    vfh_gen_printf(b, "  send %s flags=%s %s=0x%" PRIx64 " %s=0x%" PRIx64 " %s=%" PRIu64 " %s=0xffffffff\n  expect %s\n", x->cmd,
               x->report, x->r_addr, iova, x->r_len, length, x->r_pg, x->pg, x->argsz, in ? "ok" : "error EINVAL? E2BIG? ENOENT?");
    vfh_gen_printf(b, "  send %s flags=%s %s=64\n  expect ok\n", x->cmd, x->stop, x->argsz);
    vfh_gen_end(b);
}

static void forms(struct gen_buf *b, const struct gen_device *d, const struct ctx *xc, const struct gen_kind *k, unsigned abits,
                  const struct vfu_field_desc *flen);

void vfh_gen_dirty_variant(struct gen_buf *b, const struct gen_device *d, unsigned cmd, int variant)
{
    const struct vfu_cmd_desc *c = vfu_cmd(cmd);
    const struct vfu_field_desc *v = vfu_field(variant);
    struct ctx x;
    memset(&x, 0, sizeof x);
    x.cmd = c->name;
    int argsz = with_role(c->sid[0], VFU_M_ARGSZ, VFU_K_UINT);
    if (argsz < 0) return;
    x.argsz = vfu_field(argsz)->name;
    int rep_len = -1, rep_pg = -1, rep_addr = -1;
    const struct vfu_arm_desc *start = NULL;
    for (unsigned i = 0; i < v->narms; i++) {
        const struct vfu_arm_desc *a = vfu_arm(v->first_arm + i);
        if (a->kind != VFU_ARM_STRUCT) continue;
        const struct vfu_struct_desc *st = vfu_struct(a->sid);
        int pg = with_role(a->sid, VFU_M_PGSIZE, VFU_K_UINT);
        /* the arm that starts logging: an array of dma ranges, a page size */
        if (st->tail >= 0 && vfu_field(st->tail)->kind == VFU_K_ARRAY && pg >= 0) {
            int el = vfu_field(st->tail)->elem_sid, p = dma_pair(el);
            if (p < 0) continue;
            if (!start) {
                /* the first such arm starts; the next (optional) one stops */
                if (!arm_flags(a, x.start, sizeof x.start)) return;
                start = a;
                x.s_pg = vfu_field(pg)->name;
                x.s_arr = vfu_field(st->tail)->name;
                x.s_addr = vfu_field(p)->name;
                x.s_len = vfu_field(vfu_field(p)->span_field)->name;
            } else if (a->optional && !x.stop[0] && !arm_flags(a, x.stop, sizeof x.stop)) {
                return;
            }
            continue;
        }
        int p = dma_pair(a->sid);
        if (p >= 0 && pg >= 0 && !x.report[0]) {
            if (!arm_flags(a, x.report, sizeof x.report)) return;
            x.r_addr = vfu_field(p)->name;
            rep_addr = p;
            rep_len = vfu_field(p)->span_field;
            x.r_len = vfu_field(rep_len)->name;
            rep_pg = pg;
            x.r_pg = vfu_field(pg)->name;
        }
    }
    if (!start || !x.stop[0] || !x.report[0]) return;
    /* the page size: what bounds the report's (bound=migration.pgsize) */
    const struct vfu_field_desc *fpg = vfu_field(rep_pg), *flen = vfu_field(rep_len);
    x.pg = fpg->bound_cap >= 0 && d->cap[fpg->bound_cap] ? d->cap[fpg->bound_cap] : 4096;
    if (x.pg & (x.pg - 1) || x.pg > LOG_BASE) return;
    x.base = LOG_BASE;
    x.size = LOG_PAGES * x.pg;
    unsigned abits = 8u * vfu_field(rep_addr)->width;
    for (size_t i = 0; i < GEN_NKINDS; i++) forms(b, d, &x, &vfh_gen_kinds[i], abits, flen);
}

static void forms(struct gen_buf *b, const struct gen_device *d, const struct ctx *xc, const struct gen_kind *k, unsigned abits,
                  const struct vfu_field_desc *flen)
{
    const struct ctx x = *xc;
    one(b, &x, k, "inside", k->memfd ? "MUST" : "SHOULD", k->memfd ? RULE_IN : RULE_IN_MSG, x.base, x.size, true,
        "the logged range, answered");
    char form[64], what[160];
    snprintf(form, sizeof form, "wrap%u", abits);
    snprintf(what, sizeof what, "iova+length is 2^%u + a page (wraps), refused", abits);
    one(b, &x, k, form, "SHOULD", RULE_WRAP, x.base, vfh_gen_wrap(abits, x.base) + x.pg, false, what);
    /* a bitmap one word above the stated limit on the length */
    if (flen->bound_cap >= 0) {
        uint64_t max = d->cap[flen->bound_cap], pages = max * 8 + 64;
        if (max && max < UINT64_MAX / 8 - 64 && pages <= UINT64_MAX / x.pg) {
            snprintf(what, sizeof what, "a bitmap 8 bytes above %s (%" PRIu64 "), refused", vfu_capability(flen->bound_cap)->name,
                     max);
            one(b, &x, k, "bitmap-above-max", "MUST", RULE_BIG, x.base, pages * x.pg, false, what);
        }
        /* 2^32 + 64 pages: 64 to a server counting pages in 32 bits */
        uint64_t p32 = ((uint64_t)1 << 32) + 64;
        if (p32 / 8 > max && p32 <= UINT64_MAX / x.pg) {
            snprintf(what, sizeof what, "2^32 + 64 pages (a bitmap above %s), refused", vfu_capability(flen->bound_cap)->name);
            one(b, &x, k, "pages-wrap32", "MUST", RULE_BIG, x.base, p32 * x.pg, false, what);
        }
    }
}
