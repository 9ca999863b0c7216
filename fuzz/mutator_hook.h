/* How an in-process target tells the custom mutator (mutator_libfuzzer.c,
 * linked into it) who is under test and what the device looks like.
 *
 *   - the role: define `const int vfu_fuzz_target_role = VFU_ROLE_CLIENT;`
 *     in the target (a weak symbol here; VFU_ROLE_SERVER when absent), or
 *     call vfu_fuzz_mutator_role() from LLVMFuzzerInitialize;
 *   - the device: vfu_mut_set_region / _irq / _cap on vfu_fuzz_mutator(),
 *     from LLVMFuzzerInitialize, so that offsets and counts are pushed
 *     around the real region sizes.
 *
 * VFU_MUT_OFF=1 in the environment turns the custom mutator off at run
 * time (every call goes to libFuzzer's own byte mutation): the same binary
 * then measures what plain mutation reaches (make bench-fuzz). */
#ifndef VFU_FUZZ_MUTATOR_HOOK_H
#define VFU_FUZZ_MUTATOR_HOOK_H

#include "mutate.h"

extern const int vfu_fuzz_target_role __attribute__((weak));

/* the engine's mutator, created on first use; NULL when out of memory */
struct vfu_mut *vfu_fuzz_mutator(void);
void vfu_fuzz_mutator_role(enum vfu_role target);

#endif
