/* Descriptor records filled in by the generated tables (build/gen/vfu_proto.c).
 * They describe layouts; they hold none.  The one spec file is the only place
 * a field's width or position is written.  Programs reach the records through
 * the functions of vfu_spec.h, by the ids vfu_proto.h names; how the tables
 * are laid out behind those functions is the library's own (lib/core/spec_tables.h). */
#ifndef VFU_DESC_H
#define VFU_DESC_H

#include <stdint.h>
#include <stddef.h>

enum vfu_kind {
    VFU_K_UINT,      /* fixed little integer: width 1, 2, 4 or 8 */
    VFU_K_BYTES,     /* fixed opaque bytes */
    VFU_K_DATA,      /* trailing bytes, length from len_field or the rest */
    VFU_K_STRING,    /* optional trailing NUL-terminated text */
    VFU_K_ARRAY,     /* trailing counted array of elem_sid */
    VFU_K_BITMAP,    /* trailing u64 array sized by len_field / aux_field */
    VFU_K_CAPCHAIN,  /* capability chain at offset len_field */
    VFU_K_VARIANT,   /* trailing part chosen by on_field */
};

enum vfu_attr {
    VFU_A_MBZ = 1,         /* must be zero */
    VFU_A_OPTIONAL = 2,    /* trailing field that may be absent */
    VFU_A_TRUNCATABLE = 4, /* reply tail that may be left out (argsz says why) */
    VFU_A_ECHO = 8,        /* in a reply, repeats the request's value: its bits are not judged there */
};

struct vfu_field_desc {
    const char *name;
    const char *doc;     /* one line on what the field holds (the spec's `doc` line) */
    uint16_t sid;        /* owning struct */
    uint16_t offset;     /* in the owning struct, for fixed fields */
    uint16_t width;      /* bytes, for fixed fields */
    uint8_t kind;        /* enum vfu_kind */
    uint8_t attrs;       /* enum vfu_attr */
    int16_t enum_id;
    int16_t bits_id;
    int16_t len_field;   /* DATA/ARRAY/BITMAP length, CAPCHAIN offset */
    int16_t aux_field;   /* BITMAP page size */
    int16_t elem_sid;    /* ARRAY element */
    int16_t chain_id;     /* CAPCHAIN list */
    uint16_t first_arm;  /* VARIANT arms */
    uint16_t narms;
    int16_t on_field;    /* VARIANT selector */
    /* what the value means (spec: role=, space=, span=, bound=; see
     * spec/README.md), for tools that make or judge values: the mutator,
     * generated boundary scenarios, the dissector */
    uint8_t role;        /* enum vfu_meaning */
    uint8_t space;       /* enum vfu_space: where an offset/length/index points */
    int16_t space_field; /* the index field naming the place (region, IRQ index), or -1 */
    int16_t span_field;  /* an offset's length partner, or -1 */
    int16_t bound_cap;   /* capability (enum vfu_capability_id) bounding it, or -1 */
    int16_t count_of;    /* the tail whose length or count this field gives, or -1 */
};

/* Field meanings.  The names are the spec file's words (role=NAME). */
#define VFU_MEANINGS(X) \
    X(NONE, "none")       /* no stated meaning */ \
    X(OFFSET, "offset")   /* a byte position inside a space */ \
    X(ADDRESS, "address") /* a position in guest DMA space */ \
    X(LENGTH, "length")   /* the byte length of a range */ \
    X(COUNT, "count")     /* a number of bytes or elements */ \
    X(INDEX, "index")     /* an index into a set the device reported */ \
    X(ARGSZ, "argsz")     /* the argsz of a payload (the command's argsz rule) */ \
    X(MSGSIZE, "msgsize") /* the size of the whole message */ \
    X(PGSIZE, "pgsize")   /* a page size: a power of two */ \
    X(FDINDEX, "fdindex") /* an index into the fds sent with the message */ \
    X(ID, "id")           /* a message id */ \
    X(MAJOR, "major")     /* a protocol version: `protocol`'s major number */ \
    X(MINOR, "minor")     /* and its minor number */
#define VFU_SPACES(X) \
    X(NONE, "none") \
    X(REGION, "region")   /* bytes of a region (space=region:FIELD names it) */ \
    X(DMA, "dma")         /* guest DMA address space */ \
    X(IRQ, "irq")         /* vectors of an IRQ index (space=irq:FIELD) */ \
    X(FD, "fd")           /* the file sent with the message */ \
    X(REGIONS, "regions") /* the regions DEVICE_GET_INFO reported (for indexes) */ \
    X(IRQS, "irqs")       /* the IRQ indexes DEVICE_GET_INFO reported */ \
    X(FDS, "fds")         /* the fds of the message */ \
    X(PAYLOAD, "payload") /* the enclosing struct (capability offsets) */ \
    X(MIGRATION, "migration") /* the migration data stream */
#define VFU_X_ENUM_M(n, s) VFU_M_##n,
#define VFU_X_ENUM_SP(n, s) VFU_SP_##n,
enum vfu_meaning { VFU_MEANINGS(VFU_X_ENUM_M) VFU_M__COUNT };
enum vfu_space { VFU_SPACES(VFU_X_ENUM_SP) VFU_SP__COUNT };

struct vfu_struct_desc {
    const char *name;
    uint16_t size;        /* fixed part, optional fields included */
    uint16_t min_size;    /* fixed part without trailing optional fields */
    uint16_t first_field;
    uint16_t nfields;     /* fixed fields and the tail */
    int16_t tail;         /* field id of the tail, or -1 */
    uint16_t stride;      /* size as an array element (fixed + arm), 0 if not */
    int16_t argsz_field;  /* field id of the role=argsz field, or -1 */
};

enum vfu_arm_kind { VFU_ARM_NONE, VFU_ARM_RAW, VFU_ARM_STRUCT, VFU_ARM_DATA };

/* An arm is taken when (selector & mask) == value; the first match wins. */
struct vfu_arm_desc {
    const char *label;
    uint64_t mask;
    uint64_t value;
    uint8_t kind;         /* enum vfu_arm_kind */
    uint8_t optional;     /* struct arm that may be absent */
    int16_t sid;          /* ARM_STRUCT */
    int16_t len_field;    /* ARM_DATA */
};

struct vfu_enum_val { const char *name; uint64_t value; };
struct vfu_enum_desc { const char *name; uint16_t first; uint16_t n; };

struct vfu_bit_desc { const char *name; uint64_t mask; uint8_t shift; int16_t enum_id; };
enum vfu_group_kind { VFU_G_ONEOF, VFU_G_ATMOSTONE, VFU_G_ATLEASTONE };
struct vfu_group_desc {
    const char *name;
    uint8_t kind;
    uint64_t mask;
    uint64_t unless;      /* the rule is void when any of these bits is set */
};
struct vfu_bits_desc {
    const char *name;
    uint64_t known;       /* every bit the spec names; the rest are reserved */
    uint16_t first_bit, nbits;     /* single bits and multi-bit subfields */
    uint16_t first_group, ngroups;
};

struct vfu_chain_entry { uint64_t id; int16_t sid; };
struct vfu_chain_desc {
    const char *name;
    int16_t header_sid;
    int16_t id_field;
    int16_t next_field;
    uint16_t first, n;
};

/* FULL_OR_ECHO: a reply that repeats the request's payload (DEVICE_FEATURE
 * SET and PROBE) repeats its argsz too, so argsz is the full size or more */
enum vfu_argsz_rule { VFU_ARGSZ_NONE, VFU_ARGSZ_SELF, VFU_ARGSZ_REPLY_MAX, VFU_ARGSZ_FULL, VFU_ARGSZ_FULL_OR_ECHO };
enum vfu_fds_rule {
    VFU_FDS_NONE,
    VFU_FDS_OPTIONAL,      /* 0 or 1 */
    VFU_FDS_ONE_IF,        /* exactly 1 when bit set in the body, else 0 */
    VFU_FDS_COUNT_OR_ZERO, /* field value or 0 when bit set, else 0 */
    VFU_FDS_UPTO,          /* 1..field when the tail is present, else 0 */
};
struct vfu_fds_desc {
    uint8_t rule;
    int16_t field;
    int16_t bit_field;    /* the flags field holding `mask` */
    uint64_t mask;
};

enum vfu_dir { VFU_DIR_CLIENT = 0, VFU_DIR_SERVER = 1 };  /* who sends the request */

struct vfu_cmd_desc {
    const char *name;     /* "DMA_MAP" */
    const char *section;  /* heading in docs/interop/vfio-user.rst */
    uint16_t num;
    uint8_t dir;
    int16_t sid[2];       /* [0] request, [1] reply; -1: no payload */
    uint8_t argsz[2];     /* enum vfu_argsz_rule */
    struct vfu_fds_desc fds[2];
    int16_t xfer[2];      /* field bounded by max_data_xfer_size, or -1 */
    int16_t needs_cap;    /* boolean capability the session must have been granted, or -1 */
};

enum vfu_cap_kind { VFU_CAP_NUMBER, VFU_CAP_BOOLEAN, VFU_CAP_OBJECT };
struct vfu_capability_desc {
    const char *name;
    uint8_t kind;
    uint8_t reply_only;
    int16_t parent;       /* enclosing object, or -1 */
    uint64_t dflt;
    uint8_t has_default;
};


#endif
