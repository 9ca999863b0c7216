/* Internals shared by the mutator's files (lib/runtime/mutate*.c); not an API. */
#ifndef VFU_MUTATE_INT_H
#define VFU_MUTATE_INT_H

#include "vfu_codec.h"
#include "fuzz_session.h"
#include "mutate.h"
#include "vfu_spec.h"

#define MUT_MAX_FIELDS 96
#define MUT_MAX_TAILS 8
#define MUT_MAX_DMA 16
/* array elements whose fields are offered for mutation */
#define MUT_MAX_ELEMS 8

/* one integer field instance in a message: where it is and what it is */
struct mut_field {
    uint32_t off;      /* of the field, from the start of the message */
    uint32_t base;     /* of its struct instance */
    int16_t fid;
};

/* a variable tail: where its bytes are and where its count lives */
struct mut_tail {
    int16_t fid;        /* the tail field (DATA, ARRAY, BITMAP, VARIANT data arm) */
    int16_t len_fid;    /* its count/length field, or -1 */
    uint32_t len_off;   /* of that field in the message */
    uint32_t start;     /* of the tail bytes in the message */
    uint32_t len;
    uint16_t stride;    /* element size: 1 for bytes, 8 for bitmap words */
};

/* the fields and tails of one message, from the codec's parts */
struct vfu_mut_view {
    uint16_t cmd;
    bool is_reply;
    bool decoded;       /* vfu_decode accepted it */
    int body_sid;       /* the payload struct, or -1 */
    struct mut_field f[MUT_MAX_FIELDS];
    unsigned nf;
    struct mut_tail t[MUT_MAX_TAILS];
    unsigned nt;
};

struct mut_dma { uint64_t addr, size; };

struct vfu_mut {
    uint64_t rng[4];
    enum vfu_role target;
    struct vfu_mut_stats stats;
    /* the device, as told (vfu_mut_set_*) */
    uint64_t region_size[VFU_MUT_MAX_REGIONS];
    uint32_t region_known;             /* bit per region */
    uint32_t irq_count[VFU_MUT_MAX_IRQS];
    uint32_t irq_known;
    uint64_t cap_value[VFU_CAP__COUNT];
    /* learned from the session being mutated; reset per call so that the
     * output depends on the input and the seed only */
    struct mut_dma dma[MUT_MAX_DMA];
    unsigned ndma;
    uint64_t seen_region_size[VFU_MUT_MAX_REGIONS];
    uint32_t seen_region;
    unsigned cur_nfds;                 /* fds of the record being mutated */
    /* working memory, kept between calls */
    struct vfu_msg msg;
    struct vfu_mut_view view;
    struct vfu_fs fs, fs2;
    uint8_t *in, *arena;               /* copy of the input; new messages */
    size_t in_cap, arena_cap, arena_len;
    /* fields the current operator set on purpose: fix-ups leave them be */
    int16_t touched[4];
    unsigned ntouched;
};

/* random numbers (mutate.c) */
uint64_t vfu_mut_rand(struct vfu_mut *m);
static inline bool mut_chance(struct vfu_mut *m, unsigned one_in) { return vfu_mut_below(m, one_in) == 0; }

/* the message's fields and tails (mutate_view.c) */
void vfu_mut_view(struct vfu_mut *m, const uint8_t *msg, size_t len, struct vfu_mut_view *v);
/* the field instances of struct sid at message offset base, as far as len */
void vfu_mut_view_struct(struct vfu_mut_view *v, int sid, size_t base, size_t len);
int vfu_mut_view_pick(struct vfu_mut *m, const struct vfu_mut_view *v, bool (*want)(int fid));

/* values (mutate_values.c) */
uint64_t vfu_mut_width_max(unsigned width);
/* a size for the place field fid (of the struct at base) addresses, if known */
bool vfu_mut_space_size(struct vfu_mut *m, const uint8_t *msg, size_t len, size_t base, int fid,
                    uint64_t *start, uint64_t *size);
uint64_t vfu_mut_cap_value(const struct vfu_mut *m, int cap);
/* a well-formed value for generation */
uint64_t vfu_mut_valid_value(struct vfu_mut *m, int fid, const uint8_t *msg, size_t len, size_t base);
/* a flags value that keeps every bit rule */
uint64_t vfu_mut_valid_bits(struct vfu_mut *m, int bits_id);

/* fix-ups of msg_size, argsz, counts (mutate_fix.c); returns the length */
size_t vfu_mut_fixup(struct vfu_mut *m, uint8_t *msg, size_t len, size_t cap);
void vfu_mut_touch(struct vfu_mut *m, int fid);

/* learning from a session (mutate_space.c) */
void vfu_mut_learn_reset(struct vfu_mut *m);
void vfu_mut_learn(struct vfu_mut *m, const uint8_t *msg, size_t len);

/* scratch for new messages during one session call (mutate_session.c) */
uint8_t *vfu_mut_arena(struct vfu_mut *m, size_t n);

#endif
