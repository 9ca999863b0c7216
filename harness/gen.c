/* The walk over the spec tables that decides which boundary scenarios
 * exist (harness/gen.h), and the text buffer they are written into. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "vfu_proto.h"
#include "vfu_spec.h"

const struct gen_kind vfh_gen_kinds[GEN_NKINDS] = {
    {"memfd-rw", true, "READ|WRITE"},
    {"memfd-ro", true, "READ"},
    {"message-rw", false, "READ|WRITE"},
    {"message-ro", false, "READ"},
};

void vfh_gen_printf(struct gen_buf *b, const char *fmt, ...)
{
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->n;
        int k = vsnprintf(b->p ? b->p + b->n : NULL, room, fmt, ap);
        va_end(ap);
        if (k < 0) { b->oom = true; return; }
        if ((size_t)k < room) { b->n += (size_t)k; return; }
        size_t cap = b->cap ? b->cap * 2 : 1 << 16;
        while (cap - b->n <= (size_t)k) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) { b->oom = true; return; }
        b->p = p;
        b->cap = cap;
    }
}

void vfh_gen_buf_free(struct gen_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

void vfh_gen_begin(struct gen_buf *b, const char *id, const char *level, const char *rule, const char *title)
{
    vfh_gen_printf(b, "scenario %s\n  level %s\n  rule %s\n  title %s\n", id, level, rule, title);
}

void vfh_gen_end(struct gen_buf *b) { vfh_gen_printf(b, "end\n\n"); }

uint64_t vfh_gen_wrap(unsigned bits, uint64_t v)
{
    /* 2^64 - v is -v in 64-bit arithmetic */
    return bits >= 64 ? (uint64_t)0 - v : ((uint64_t)1 << bits) - v;
}

uint64_t vfh_gen_last_valid(uint64_t size, uint32_t width)
{
    return width && size >= width ? (size - width) / width * width : 0;
}

bool vfh_gen_bounds(const struct gen_device *d, struct gen_buf *out)
{
    for (unsigned c = 0; c < vfu_ncmds(); c++) {
        const struct vfu_cmd_desc *cmd = vfu_cmd(c);
        /* server-to-client requests are the server's to send, not ours */
        if (!cmd || cmd->dir != VFU_DIR_CLIENT || cmd->sid[0] < 0) continue;
        const struct vfu_struct_desc *st = vfu_struct(cmd->sid[0]);
        /* pairs in the elements of the request's array tail
         * (REGION_WRITE_MULTI's writes) */
        if (st->tail >= 0 && vfu_field(st->tail)->kind == VFU_K_ARRAY) {
            const struct vfu_struct_desc *el = vfu_struct(vfu_field(st->tail)->elem_sid);
            for (unsigned i = 0; i < el->nfields; i++) {
                int f = el->first_field + (int)i;
                const struct vfu_field_desc *fd = vfu_field(f);
                if (fd->kind == VFU_K_UINT && fd->role == VFU_M_OFFSET && fd->span_field >= 0 && fd->space == VFU_SP_REGION &&
                    fd->space_field >= 0)
                    vfh_gen_region_elem_pair(out, d, c, st->tail, f, fd->span_field);
            }
        }
        /* pairs inside the arms of the request's variant tail
         * (DEVICE_FEATURE's dirty-page report) */
        if (st->tail >= 0 && vfu_field(st->tail)->kind == VFU_K_VARIANT) vfh_gen_dirty_variant(out, d, c, st->tail);
        /* fixed fields of the request itself */
        for (unsigned i = 0; i < st->nfields; i++) {
            int f = st->first_field + (int)i;
            const struct vfu_field_desc *fd = vfu_field(f);
            if (fd->kind != VFU_K_UINT) continue;
            bool pair = (fd->role == VFU_M_OFFSET || fd->role == VFU_M_ADDRESS) && fd->span_field >= 0;
            if (pair && fd->space == VFU_SP_REGION && fd->space_field >= 0) {
                vfh_gen_region_pair(out, d, c, f, fd->span_field);
                vfh_gen_payload_pair(out, d, c, f, fd->span_field);
            }
            else if (pair && fd->space == VFU_SP_IRQ && fd->space_field >= 0)
                vfh_gen_irq_pair(out, d, c, f, fd->span_field);
            else if (pair && fd->space == VFU_SP_DMA)
                vfh_gen_dma_pair(out, d, c, f, fd->span_field);
            else if (pair && fd->space == VFU_SP_FD)
                vfh_gen_fd_pair(out, d, c, f, fd->span_field);
            else if (fd->role == VFU_M_INDEX && (fd->space == VFU_SP_REGIONS || fd->space == VFU_SP_IRQS))
                vfh_gen_index_field(out, d, c, f);
        }
    }
    return !out->oom;
}
