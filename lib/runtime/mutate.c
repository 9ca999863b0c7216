/* The mutator's state: its random generator (xoshiro256**, seeded through
 * splitmix64 so that any 64-bit seed gives a good state), what it was told
 * of the device, and its counters.  The operators live in mutate_msg.c
 * (one message), mutate_session.c (records) and mutate_gen.c (new
 * messages); their values in mutate_values.c, fix-ups in mutate_fix.c. */
#include "mutate_int.h"

#include <stdlib.h>
#include <string.h>

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t vfu_mut_rand(struct vfu_mut *m)
{
    uint64_t *s = m->rng;
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t; s[3] = rotl(s[3], 45);
    return r;
}

void vfu_mut_reseed(struct vfu_mut *m, uint64_t seed)
{
    for (int i = 0; i < 4; i++) m->rng[i] = splitmix(&seed);
}

uint64_t vfu_mut_below(struct vfu_mut *m, uint64_t n)
{
    if (n <= 1) return 0;
    /* rejection keeps small ranges unbiased */
    uint64_t lim = UINT64_MAX - UINT64_MAX % n, r;
    do r = vfu_mut_rand(m); while (r >= lim);
    return r % n;
}

struct vfu_mut *vfu_mut_new(const struct vfu_mut_opts *o)
{
    struct vfu_mut *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->target = o ? o->target : VFU_ROLE_SERVER;
    if (m->target == VFU_ROLE_ANY) m->target = VFU_ROLE_SERVER;
    vfu_mut_reseed(m, o ? o->seed : 0);
    for (unsigned i = 0; i < VFU_CAP__COUNT && i < vfu_ncapabilities(); i++)
        m->cap_value[i] = vfu_capability(i)->has_default ? vfu_capability(i)->dflt : 0;
    return m;
}

void vfu_mut_free(struct vfu_mut *m)
{
    if (!m) return;
    free(m->in);
    free(m->arena);
    free(m);
}

void vfu_mut_set_region(struct vfu_mut *m, unsigned index, uint64_t size)
{
    if (index >= VFU_MUT_MAX_REGIONS) return;
    m->region_size[index] = size;
    m->region_known |= 1u << index;
}

void vfu_mut_set_irq(struct vfu_mut *m, unsigned index, uint32_t count)
{
    if (index >= VFU_MUT_MAX_IRQS) return;
    m->irq_count[index] = count;
    m->irq_known |= 1u << index;
}

void vfu_mut_set_cap(struct vfu_mut *m, unsigned cap_id, uint64_t value)
{
    if (cap_id < VFU_CAP__COUNT) m->cap_value[cap_id] = value;
}

const struct vfu_mut_stats *vfu_mut_stats(const struct vfu_mut *m) { return &m->stats; }

const char *vfu_mut_op_name(unsigned op)
{
    static const char *const names[VFU_MUT_OP__COUNT] = {
        "boundary", "flag", "reserved", "enum", "cmd-swap", "argsz", "data-len", "elem", "mbz",
        "bytes", "regen", "error-reply", "rec-msg", "rec-insert", "rec-delete", "rec-dup", "rec-move",
        "fd-count", "fd-kind", "rec-kind", "crossover",
    };
    return op < VFU_MUT_OP__COUNT ? names[op] : "?";
}

void vfu_mut_touch(struct vfu_mut *m, int fid)
{
    if (m->ntouched < sizeof m->touched / sizeof m->touched[0]) m->touched[m->ntouched++] = (int16_t)fid;
}
