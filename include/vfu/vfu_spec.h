/* The generated protocol description, read through functions.
 *
 * Every message layout, flag word, enumeration, capability chain and VERSION
 * capability of the spec file is a read-only record (vfu_desc.h) reached
 * here by its id; vfu_proto.h names the ids (VFU_S_DMA_MAP, VFU_F_DMA_MAP_ARGSZ,
 * VFU_E_..., VFU_CMD_DMA_MAP) and the sizes (VFU_SIZE_DMA_MAP).  How the
 * library stores the records is its own business: a program that goes
 * through these functions keeps working when that changes.
 *
 * Return conventions: a record getter returns NULL for an id out of range;
 * a count is the number of ids (ids run from 0 to count-1); a lookup by name
 * returns -1 (or NULL) when nothing has that name; a name getter returns "?"
 * for an unknown id; a doc getter returns "" for an unknown id (so that it
 * can be printed as is). */
#ifndef VFU_SPEC_H
#define VFU_SPEC_H

#include <stdbool.h>
#include <stdint.h>

#include "vfu_proto.h"

/* the protocol version the tables describe (the VERSION request's) */
uint16_t vfu_spec_major(void);
uint16_t vfu_spec_minor(void);

/* ---- records by id ---- */
const struct vfu_field_desc *vfu_field(int field);
const struct vfu_struct_desc *vfu_struct(int sid);          /* fields: first_field .. +nfields-1 */
const struct vfu_arm_desc *vfu_arm(int arm);                /* a variant's: first_arm .. +narms-1 */
const struct vfu_enum_desc *vfu_enum(int enum_id);          /* values: first .. +n-1 */
const struct vfu_enum_val *vfu_enum_val(int i);
const struct vfu_bits_desc *vfu_bits(int bits_id);          /* first_bit/nbits, first_group/ngroups */
const struct vfu_bit_desc *vfu_bit(int i);
const struct vfu_group_desc *vfu_group(int i);
const struct vfu_chain_desc *vfu_chain(int chain_id);       /* a region capability chain: first .. +n-1 */
const struct vfu_chain_entry *vfu_chain_entry(int i);
const struct vfu_capability_desc *vfu_capability(int cap);  /* a VERSION capability (enum vfu_capability_id) */
const struct vfu_cmd_desc *vfu_cmd(unsigned num);           /* by command number; NULL if unknown */

/* ---- how many ---- */
unsigned vfu_nfields(void);
unsigned vfu_nstructs(void);
unsigned vfu_narms(void);
unsigned vfu_nenums(void);
unsigned vfu_nenum_vals(void);
unsigned vfu_nbits(void);
unsigned vfu_nbit_vals(void);
unsigned vfu_ngroups(void);
unsigned vfu_nchains(void);
unsigned vfu_nchain_entries(void);
unsigned vfu_ncapabilities(void);
unsigned vfu_ncmds(void);              /* one past the highest command number */

/* the message header's struct (VFU_S_HEADER) */
int vfu_header_sid(void);

/* ---- lookups ---- */
const struct vfu_cmd_desc *vfu_cmd_by_name(const char *name); /* "DMA_MAP" or "VFIO_USER_DMA_MAP" */
const char *vfu_cmd_name(unsigned num);
int vfu_field_by_name(int sid, const char *name);
int vfu_struct_by_name(const char *name);                     /* "dma_map" */
int vfu_struct_size(int sid);                                 /* fixed part; -1 if none */
int vfu_argsz_field(int sid);                                 /* its role=argsz field; -1 if none */
int vfu_field_offset(int field);                              /* fixed fields only; -1 otherwise */
const char *vfu_field_name(int field);                        /* the plain name, "argsz" */
const char *vfu_field_doc(int field);                         /* its one-line description; "" if unknown */
const char *vfu_enum_name(int enum_id, uint64_t v);           /* NULL if none */
bool vfu_enum_value(int enum_id, const char *name, uint64_t *v);

#endif
