/* vfu_spec.h: the generated tables' records by id, their counts, and
 * lookups by name.  The only file outside the codec's own that knows the
 * aggregate's shape (spec_tables.h). */
#include "vfu_spec.h"

#include <string.h>

#include "spec_tables.h"

#define S (&vfu_spec)

static const struct vfu_field_desc *F(int id) { return &S->fields[id]; }
static const struct vfu_struct_desc *ST(int id) { return &S->structs[id]; }

uint16_t vfu_spec_major(void) { return S->major; }
uint16_t vfu_spec_minor(void) { return S->minor; }
int vfu_header_sid(void) { return S->header_sid; }

/* an id out of range is NULL, never a read past a table */
const struct vfu_field_desc *vfu_field(int i) { return i >= 0 && i < S->nfields ? &S->fields[i] : NULL; }
const struct vfu_struct_desc *vfu_struct(int i) { return i >= 0 && i < S->nstructs ? &S->structs[i] : NULL; }
const struct vfu_arm_desc *vfu_arm(int i) { return i >= 0 && i < S->narms ? &S->arms[i] : NULL; }
const struct vfu_enum_desc *vfu_enum(int i) { return i >= 0 && i < S->nenums ? &S->enums[i] : NULL; }
const struct vfu_enum_val *vfu_enum_val(int i) { return i >= 0 && i < S->nenum_vals ? &S->enum_vals[i] : NULL; }
const struct vfu_bits_desc *vfu_bits(int i) { return i >= 0 && i < S->nbits ? &S->bits[i] : NULL; }
const struct vfu_bit_desc *vfu_bit(int i) { return i >= 0 && i < S->nbit_vals ? &S->bit_vals[i] : NULL; }
const struct vfu_group_desc *vfu_group(int i) { return i >= 0 && i < S->ngroups ? &S->groups[i] : NULL; }
const struct vfu_chain_desc *vfu_chain(int i) { return i >= 0 && i < S->nchains ? &S->chains[i] : NULL; }
const struct vfu_chain_entry *vfu_chain_entry(int i)
{
    return i >= 0 && i < S->nchain_entries ? &S->chain_entries[i] : NULL;
}
const struct vfu_capability_desc *vfu_capability(int i)
{
    return i >= 0 && i < S->ncapabilities ? &S->capabilities[i] : NULL;
}

unsigned vfu_nfields(void) { return S->nfields; }
unsigned vfu_nstructs(void) { return S->nstructs; }
unsigned vfu_narms(void) { return S->narms; }
unsigned vfu_nenums(void) { return S->nenums; }
unsigned vfu_nenum_vals(void) { return S->nenum_vals; }
unsigned vfu_nbits(void) { return S->nbits; }
unsigned vfu_nbit_vals(void) { return S->nbit_vals; }
unsigned vfu_ngroups(void) { return S->ngroups; }
unsigned vfu_nchains(void) { return S->nchains; }
unsigned vfu_nchain_entries(void) { return S->nchain_entries; }
unsigned vfu_ncapabilities(void) { return S->ncapabilities; }
unsigned vfu_ncmds(void) { return S->ncmds; }


const struct vfu_cmd_desc *vfu_cmd(unsigned num)
{
    if (num >= S->ncmds || !S->cmds[num].name) return NULL;
    return &S->cmds[num];
}

const char *vfu_cmd_name(unsigned num)
{
    const struct vfu_cmd_desc *c = vfu_cmd(num);
    return c ? c->name : "?";
}

const struct vfu_cmd_desc *vfu_cmd_by_name(const char *name)
{
    if (!strncmp(name, "VFIO_USER_", 10)) name += 10;
    for (unsigned i = 0; i < S->ncmds; i++)
        if (S->cmds[i].name && !strcmp(S->cmds[i].name, name)) return &S->cmds[i];
    return NULL;
}

int vfu_field_by_name(int sid, const char *name)
{
    if (sid < 0 || sid >= S->nstructs) return -1;
    const struct vfu_struct_desc *s = ST(sid);
    for (unsigned i = 0; i < s->nfields; i++)
        if (!strcmp(F(s->first_field + i)->name, name)) return s->first_field + (int)i;
    return -1;
}

int vfu_struct_by_name(const char *name)
{
    for (unsigned i = 0; i < S->nstructs; i++)
        if (!strcmp(ST((int)i)->name, name)) return (int)i;
    return -1;
}

int vfu_struct_size(int sid)
{
    return sid >= 0 && sid < S->nstructs ? ST(sid)->size : -1;
}

int vfu_argsz_field(int sid)
{
    /* the generator found it by role=argsz: no struct is searched by name */
    return sid >= 0 && sid < S->nstructs ? ST(sid)->argsz_field : -1;
}

int vfu_field_offset(int field)
{
    if (field < 0 || field >= S->nfields) return -1;
    /* only a fixed field has an offset of its own */
    const struct vfu_field_desc *f = F(field);
    return f->width ? f->offset : -1;
}

const char *vfu_field_name(int field)
{
    return field >= 0 && field < S->nfields ? F(field)->name : "?";
}

const char *vfu_field_doc(int field)
{
    /* "" rather than NULL or "?": a description that is missing prints as
     * nothing, never as a word that could be read as one */
    return field >= 0 && field < S->nfields && F(field)->doc ? F(field)->doc : "";
}

const char *vfu_enum_name(int enum_id, uint64_t v)
{
    if (enum_id < 0 || enum_id >= S->nenums) return NULL;
    const struct vfu_enum_desc *e = &S->enums[enum_id];
    for (unsigned i = 0; i < e->n; i++)
        if (S->enum_vals[e->first + i].value == v) return S->enum_vals[e->first + i].name;
    return NULL;
}

bool vfu_enum_value(int enum_id, const char *name, uint64_t *v)
{
    if (enum_id < 0 || enum_id >= S->nenums) return false;
    const struct vfu_enum_desc *e = &S->enums[enum_id];
    for (unsigned i = 0; i < e->n; i++)
        if (!strcmp(S->enum_vals[e->first + i].name, name)) { *v = S->enum_vals[e->first + i].value; return true; }
    return false;
}

