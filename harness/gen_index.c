/* Boundary scenarios of an index into what the device reported
 * (role=index, space=regions / irqs): one past the last and the field's
 * largest value, in every client command that takes one.  The rest of the
 * request is made valid from the tables: the pair over the indexed place
 * (space=region:F / irq:F naming this field) is set to offset 0 and one
 * unit, with its bytes when the request carries them. */
#include <inttypes.h>
#include <stdio.h>

#include "gen.h"
#include "vfu_proto.h"
#include "vfu_spec.h"

#define RULE "the device has the regions and interrupt types DEVICE_GET_INFO states; an index past them names nothing, so only an error answers truthfully (any errno)"

/* the request's other fields for index field `field` of struct `sid` */
static void rest(struct gen_buf *b, int sid, int field)
{
    const struct vfu_struct_desc *st = vfu_struct(sid);
    for (unsigned i = 0; i < st->nfields; i++) {
        int f = st->first_field + (int)i;
        const struct vfu_field_desc *fd = vfu_field(f);
        if (fd->kind != VFU_K_UINT || fd->space_field != field) continue;
        if (fd->space == VFU_SP_IRQ && fd->role == VFU_M_OFFSET) vfh_gen_printf(b, " flags=" GEN_IRQ_FLAGS);
        if (fd->role == VFU_M_OFFSET) vfh_gen_printf(b, " %s=0", fd->name);
        if (fd->role == VFU_M_COUNT) {
            vfh_gen_printf(b, " %s=1", fd->name);
            if (st->tail >= 0 && vfu_field(st->tail)->kind == VFU_K_DATA && vfu_field(st->tail)->len_field == f)
                vfh_gen_printf(b, " %s=zero:1", vfu_field(st->tail)->name);
        }
    }
}

static void one(struct gen_buf *b, const char *cmd, int sid, int field, const char *form, uint64_t index, const char *why)
{
    const struct vfu_field_desc *fd = vfu_field(field);
    char id[160], title[300];
    snprintf(id, sizeof id, "%s.bounds.%s.%s", cmd, fd->name, form);
    snprintf(title, sizeof title, "%s with %s 0x%" PRIx64 " (%s) is refused", cmd, fd->name, index, why);
    vfh_gen_begin(b, id, "MUST", RULE, title);
    vfh_gen_printf(b, "  send %s %s=0x%" PRIx64, cmd, fd->name, index);
    rest(b, sid, field);
    vfh_gen_printf(b, "\n  expect error EINVAL?\n");
    vfh_gen_end(b);
}

void vfh_gen_index_field(struct gen_buf *b, const struct gen_device *d, unsigned cmd, int field)
{
    const struct vfu_cmd_desc *c = vfu_cmd(cmd);
    const struct vfu_field_desc *fd = vfu_field(field);
    unsigned n = fd->space == VFU_SP_REGIONS ? d->nregions : d->nirqs;
    unsigned bits = 8u * fd->width;
    one(b, c->name, c->sid[0], field, "one-past-last", n, fd->space == VFU_SP_REGIONS ? "the number of regions" : "the number of IRQ indexes");
    if (vfh_gen_wrap(bits, 1) > n) one(b, c->name, c->sid[0], field, "max", vfh_gen_wrap(bits, 1), "the field's largest value");
}
