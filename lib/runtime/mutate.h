/* The spec-aware mutator: one mutator, two engines.  libFuzzer's and
 * AFL++'s custom-mutator hooks (fuzz/) and the socket fuzzer vfu-fuzz all
 * call these functions on session inputs (lib/runtime/fuzz_session.h) or single
 * messages.  Everything it knows of a message (field widths, roles such as
 * size, offset, count, index, address, argsz; flag bits, enums, which
 * capability bounds which field) comes from the generated tables and the
 * spec file, never from a layout written here.
 *
 * Deterministic: the same seed and the same calls give the same bytes.
 * Nothing is allocated per call; a vfu_mut is for one thread at a time. */
#ifndef VFU_MUTATE_H
#define VFU_MUTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfu_codec.h"

struct vfu_mut;

struct vfu_mut_opts {
    uint64_t seed;
    /* who receives the MSG records of a session: VFU_ROLE_SERVER when a
     * server is under test (messages are client requests), VFU_ROLE_CLIENT
     * when a client is */
    enum vfu_role target;
};

/* NULL when out of memory. */
struct vfu_mut *vfu_mut_new(const struct vfu_mut_opts *o);
void vfu_mut_free(struct vfu_mut *m);
void vfu_mut_reseed(struct vfu_mut *m, uint64_t seed);
/* a random number below n (n > 0), from the mutator's generator */
uint64_t vfu_mut_below(struct vfu_mut *m, uint64_t n);

/* Mutates a whole session input data[0..size) in place (record insertion,
 * deletion, duplication, reordering; fd count and kind changes; one or more
 * message mutations).  Returns the new size, at most max_size and never 0. */
size_t vfu_mut_session(struct vfu_mut *m, uint8_t *data, size_t size, size_t max_size);
/* Records of a and b spliced into out; returns its size (<= max_size). */
size_t vfu_mut_crossover(struct vfu_mut *m, const uint8_t *a, size_t na, const uint8_t *b,
                         size_t nb, uint8_t *out, size_t max_size);
/* Mutates one message (header first) in place, within cap bytes: field
 * values by role and boundary, flag bits defined and reserved, enum values,
 * command swaps, argsz around the fixed size, data length; then fixes
 * msg_size / argsz / counts, usually consistently and sometimes off on
 * purpose.  to_server: the message travels client to server.  Returns the
 * new length. */
size_t vfu_mut_message(struct vfu_mut *m, uint8_t *msg, size_t len, size_t cap, bool to_server);
/* A fresh, well-formed message of command cmd (request or reply) with
 * values drawn by role, built with the codec's encoder; returns its length
 * or 0 when it does not fit cap.  *nfds gets the fds its layout asks for. */
size_t vfu_mut_generate(struct vfu_mut *m, unsigned cmd, bool is_reply, uint16_t msg_id,
                        uint8_t *buf, size_t cap, unsigned *nfds);

/* ---- what the mutator knows of the device (optional) ----
 * Boundary values of offsets and lengths are drawn around the sizes of the
 * places they address (field meanings, spec/README.md).  Without these
 * calls the mutator uses sizes it learns from the session itself (DMA_MAP
 * ranges; REGION_INFO and IRQ_INFO replies) and common region sizes. */
#define VFU_MUT_MAX_REGIONS 16
#define VFU_MUT_MAX_IRQS 8
void vfu_mut_set_region(struct vfu_mut *m, unsigned index, uint64_t size);
void vfu_mut_set_irq(struct vfu_mut *m, unsigned index, uint32_t count);
/* a negotiated capability value (enum vfu_capability_id), e.g. the
 * max_data_xfer_size a bound=max_data_xfer_size field is pushed around */
void vfu_mut_set_cap(struct vfu_mut *m, unsigned cap_id, uint64_t value);

/* The boundary set the mutator draws field `field` from, for the struct
 * instance at msg[base..] (so its span and index partners are read from
 * the message): up to max values into out, returns how many.  Shared with
 * generated boundary scenarios. */
size_t vfu_mut_boundaries(struct vfu_mut *m, const uint8_t *msg, size_t len, size_t base, int field,
                          uint64_t *out, size_t max);

/* ---- what it did, for tests and benchmarks ---- */
enum vfu_mut_op {
    /* message operators */
    VFU_MUT_OP_BOUNDARY,    /* a field set to a boundary value of its role */
    VFU_MUT_OP_FLAG,        /* a defined flag bit flipped */
    VFU_MUT_OP_RESERVED,    /* a reserved flag bit set */
    VFU_MUT_OP_ENUM,        /* an enum field (or multi-bit subfield) set */
    VFU_MUT_OP_CMD_SWAP,    /* the command number changed */
    VFU_MUT_OP_ARGSZ,       /* argsz around the fixed sizes */
    VFU_MUT_OP_DATA_LEN,    /* trailing data grown or shrunk */
    VFU_MUT_OP_ELEM,        /* an array element added, removed or copied */
    VFU_MUT_OP_MBZ,         /* a must-be-zero field made nonzero */
    VFU_MUT_OP_BYTES,       /* plain byte flips in the payload */
    VFU_MUT_OP_REGEN,       /* the message replaced by a generated one */
    VFU_MUT_OP_ERROR_REPLY, /* a reply turned into an error reply (Error bit, an
                             * errno or 0, usually header only) */
    /* session operators */
    VFU_MUT_OP_REC_MSG,     /* one record's message mutated */
    VFU_MUT_OP_REC_INSERT,  /* a generated message inserted */
    VFU_MUT_OP_REC_DELETE,
    VFU_MUT_OP_REC_DUP,
    VFU_MUT_OP_REC_MOVE,    /* a record moved elsewhere (reordering) */
    VFU_MUT_OP_FD_COUNT,    /* an fd added to or removed from a record */
    VFU_MUT_OP_FD_KIND,     /* an fd's kind or memfd size changed */
    VFU_MUT_OP_REC_KIND,    /* a record's kind or flags changed */
    VFU_MUT_OP_CROSSOVER,
    VFU_MUT_OP__COUNT
};
struct vfu_mut_stats {
    uint64_t ops[VFU_MUT_OP__COUNT];
    uint64_t fix_consistent;  /* fix-ups that made sizes and counts agree */
    uint64_t fix_off;         /* fix-ups left off on purpose */
};
const struct vfu_mut_stats *vfu_mut_stats(const struct vfu_mut *m);
const char *vfu_mut_op_name(unsigned op);

#endif
