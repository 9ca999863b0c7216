/* The generated tables as one aggregate: internal to the protocol core.
 * Code outside lib/core reads them through vfu_spec.h's functions, so the
 * shape here (arrays, counts, first/n index ranges) may change without
 * touching any program (tests/lib_layers.sh keeps that so). */
#ifndef VFU_SPEC_TABLES_H
#define VFU_SPEC_TABLES_H

#include "vfu_desc.h"

struct vfu_spec {
    uint16_t major, minor;
    const struct vfu_field_desc *fields;   uint16_t nfields;
    const struct vfu_struct_desc *structs; uint16_t nstructs;
    const struct vfu_arm_desc *arms;       uint16_t narms;
    const struct vfu_enum_desc *enums;     uint16_t nenums;
    const struct vfu_enum_val *enum_vals;  uint16_t nenum_vals;
    const struct vfu_bits_desc *bits;      uint16_t nbits;
    const struct vfu_bit_desc *bit_vals;   uint16_t nbit_vals;
    const struct vfu_group_desc *groups;   uint16_t ngroups;
    const struct vfu_chain_desc *chains;   uint16_t nchains;
    const struct vfu_chain_entry *chain_entries; uint16_t nchain_entries;
    const struct vfu_cmd_desc *cmds;       uint16_t ncmds; /* indexed by number */
    const struct vfu_capability_desc *capabilities; uint16_t ncapabilities;
    int16_t header_sid;
};

extern const struct vfu_spec vfu_spec;

#endif
