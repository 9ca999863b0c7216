/* Count against payload, on every region the device reports writable: a
 * request whose data tail is counted by the (offset, count) pair's length
 * (REGION_WRITE) sent with the count and the bytes disagreeing both ways,
 * at the region's last place of the probed width, where a server that goes
 * by the wrong one of the two steps over the end. */
#include <inttypes.h>
#include <stdio.h>

#include "gen.h"
#include "vfu_proto.h"
#include "vfu_spec.h"

#define RULE_LONG "a write whose count says more bytes than it carries cannot be carried out as asked; only an error answers truthfully (any errno)"
#define RULE_SHORT "stricter than the spec: count is the size of the data; a payload that carries more bytes than count is malformed, and refusing it (or closing) is what we ask, here where the extra bytes would run past the region's end"

void vfh_gen_payload_pair(struct gen_buf *b, const struct gen_device *d, unsigned cmd, int off, int len)
{
    const struct vfu_cmd_desc *c = vfu_cmd(cmd);
    const struct vfu_struct_desc *rq = vfu_struct(c->sid[0]);
    const struct vfu_field_desc *fo = vfu_field(off), *fl = vfu_field(len);
    /* only a request that carries the bytes its length counts */
    if (rq->tail < 0 || vfu_field(rq->tail)->kind != VFU_K_DATA || vfu_field(rq->tail)->len_field != len) return;
    const char *data = vfu_field(rq->tail)->name, *idx = vfu_field(fo->space_field)->name;
    for (unsigned r = 0; r < d->nregions && r < GEN_MAX_PLACES; r++) {
        uint64_t size = d->region[r].size;
        if (!size || !(d->region[r].flags & VFU_REGION_INFO_FLAGS_WRITE)) continue;
        uint32_t w = d->region[r].width ? d->region[r].width : size < 4 ? (uint32_t)size : 4;
        uint64_t at = size - w;
        char id[160], title[400];
        /* count past the end, bytes inside */
        snprintf(id, sizeof id, "%s.bounds.r%u.count-above-data", c->name, r);
        snprintf(title, sizeof title, "%s at %s 0x%" PRIx64 " of region %u (0x%" PRIx64 " bytes): %s %u, %u bytes of %s; refused",
                 c->name, fo->name, at, r, size, fl->name, 2 * w, w, data);
        vfh_gen_begin(b, id, "MUST", RULE_LONG, title);
        vfh_gen_printf(b, "  send %s %s=%u %s=0x%" PRIx64 " %s=%u %s=zero:%u\n  expect error EINVAL?\n", c->name, idx, r, fo->name, at,
                   fl->name, 2 * w, data, w);
        vfh_gen_end(b);
        /* count inside, bytes past the end */
        snprintf(id, sizeof id, "%s.bounds.r%u.data-above-count", c->name, r);
        snprintf(title, sizeof title, "%s at %s 0x%" PRIx64 " of region %u (0x%" PRIx64 " bytes): %s %u, %u bytes of %s; refused or closed",
                 c->name, fo->name, at, r, size, fl->name, w, 2 * w, data);
        vfh_gen_begin(b, id, "SHOULD", RULE_SHORT, title);
        vfh_gen_printf(b, "  send %s %s=%u %s=0x%" PRIx64 " %s=%u %s=zero:%u\n  expect error-or-close EINVAL?\n", c->name, idx, r, fo->name,
                   at, fl->name, w, data, 2 * w);
        vfh_gen_end(b);
    }
}
