/* libFuzzer's custom mutator and crossover over the spec-aware mutator
 * (lib/runtime/mutate.h), for session targets.  Linked into a target; see
 * mutator_hook.h for how the target states its role and device.  libFuzzer
 * hands a seed with every call; reseeding from it keeps a run
 * reproducible.  One call in eight goes to libFuzzer's own byte mutation,
 * which finds what a layout-aware mutator would never try. */
#include <stdlib.h>
#include <string.h>

#include "mutator_hook.h"

/* provided by libFuzzer; absent when the target is linked with a plain main */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size) __attribute__((weak));
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerCustomCrossOver(const uint8_t *d1, size_t s1, const uint8_t *d2, size_t s2,
                                 uint8_t *out, size_t max_out, unsigned int seed);

static struct vfu_mut *mut;
static int role = -2;   /* not chosen yet */
static int off = -1;

static bool turned_off(void)
{
    if (off < 0) {
        const char *e = getenv("VFU_MUT_OFF");
        off = e && *e && strcmp(e, "0");
    }
    return off;
}

void vfu_fuzz_mutator_role(enum vfu_role target)
{
    role = target;
    vfu_mut_free(mut);
    mut = NULL;
}

struct vfu_mut *vfu_fuzz_mutator(void)
{
    if (mut) return mut;
    if (role == -2) role = &vfu_fuzz_target_role ? vfu_fuzz_target_role : VFU_ROLE_SERVER;
    struct vfu_mut_opts o = {0, (enum vfu_role)role};
    mut = vfu_mut_new(&o);
    return mut;
}

static size_t plain(uint8_t *data, size_t size, size_t max_size)
{
    if (LLVMFuzzerMutate) return LLVMFuzzerMutate(data, size, max_size);
    return size;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    struct vfu_mut *m = turned_off() ? NULL : vfu_fuzz_mutator();
    if (!m) return plain(data, size, max_size);
    vfu_mut_reseed(m, seed);
    if (vfu_mut_below(m, 8) == 0) return plain(data, size, max_size);
    return vfu_mut_session(m, data, size, max_size);
}

size_t LLVMFuzzerCustomCrossOver(const uint8_t *d1, size_t s1, const uint8_t *d2, size_t s2,
                                 uint8_t *out, size_t max_out, unsigned int seed)
{
    struct vfu_mut *m = turned_off() ? NULL : vfu_fuzz_mutator();
    if (!m) {
        /* libFuzzer's own crossover is not callable from here: a byte
         * splice, d1's start and d2's end */
        size_t a = s1 ? seed % (s1 + 1) : 0, b = s2 ? (seed / 7) % (s2 + 1) : 0;
        if (a > max_out) a = max_out;
        if (s2 - b > max_out - a) b = s2 - (max_out - a);
        memcpy(out, d1, a);
        memcpy(out + a, d2 + b, s2 - b);
        return a + (s2 - b);
    }
    vfu_mut_reseed(m, seed);
    return vfu_mut_crossover(m, d1, s1, d2, s2, out, max_out);
}
