/* The spec-aware mutator: one mutator, two engines.  libFuzzer's and
 * AFL++'s custom-mutator hooks (fuzz/) and the socket fuzzer vfu-fuzz all
 * call these functions on session inputs (lib/fuzz_session.h) or single
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

#include "codec.h"

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

#endif
