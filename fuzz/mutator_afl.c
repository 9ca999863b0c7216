/* The spec-aware mutator as an AFL++ custom mutator library
 * (AFL_CUSTOM_MUTATOR_LIBRARY=build/fuzz/libvfu-mutator-afl.so), the C ABI
 * of AFL++'s custom mutator API, written without AFL++'s headers:
 *
 *   afl_custom_init          state, seeded from afl-fuzz's seed
 *   afl_custom_fuzz          vfu_mut_session, crossed with the other input
 *                            afl-fuzz offers one time in four
 *   afl_custom_post_process  every input, AFL++'s own havoc included, in
 *                            the canonical session form: record lengths
 *                            that say what follows, kinds and fd counts in
 *                            range, so the next mutation sees the records
 *                            the target saw
 *   afl_custom_init_trim / afl_custom_trim / afl_custom_post_trim
 *                            trimming by whole records
 *   afl_custom_describe      the operator, for queue file names
 *   afl_custom_deinit
 *
 * Environment: VFU_MUT_TARGET=server|client (who is under test, default
 * server); VFU_MUT_REGIONS=INDEX:SIZE,... (region sizes of the device, so
 * offsets and counts are pushed around them). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_session.h"
#include "mutate.h"

#define API __attribute__((visibility("default")))

struct afl_mut {
    struct vfu_mut *m;
    uint8_t *out;
    size_t out_cap;
    /* trimming: the records, the one being left out, how many steps */
    struct vfu_fs fs;
    uint8_t *trim_in;
    size_t trim_len;
    unsigned trim_at, trim_steps;
    uint64_t last_ops[VFU_MUT_OP__COUNT];
    char desc[64];
};

API void *afl_custom_init(void *afl, unsigned int seed);
API size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
                           uint8_t *add_buf, size_t add_buf_size, size_t max_size);
API size_t afl_custom_post_process(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf);
API int32_t afl_custom_init_trim(void *data, uint8_t *buf, size_t buf_size);
API size_t afl_custom_trim(void *data, uint8_t **out_buf);
API int32_t afl_custom_post_trim(void *data, unsigned char success);
API const char *afl_custom_describe(void *data, size_t max_len);
API void afl_custom_deinit(void *data);

static bool room(struct afl_mut *a, size_t n)
{
    if (a->out_cap >= n) return true;
    uint8_t *p = realloc(a->out, n);
    if (!p) return false;
    a->out = p;
    a->out_cap = n;
    return true;
}

/* "2:65536,0:4096" */
static void regions_from_env(struct vfu_mut *m)
{
    const char *s = getenv("VFU_MUT_REGIONS");
    while (s && *s) {
        char *end;
        unsigned long idx = strtoul(s, &end, 0);
        if (*end != ':') return;
        unsigned long long size = strtoull(end + 1, &end, 0);
        vfu_mut_set_region(m, (unsigned)idx, size);
        if (*end != ',') return;
        s = end + 1;
    }
}

void *afl_custom_init(void *afl, unsigned int seed)
{
    (void)afl;
    struct afl_mut *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    const char *t = getenv("VFU_MUT_TARGET");
    struct vfu_mut_opts o = {seed, t && !strcmp(t, "client") ? VFU_ROLE_CLIENT : VFU_ROLE_SERVER};
    a->m = vfu_mut_new(&o);
    if (!a->m) { free(a); return NULL; }
    regions_from_env(a->m);
    return a;
}

size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
                       uint8_t *add_buf, size_t add_buf_size, size_t max_size)
{
    struct afl_mut *a = data;
    if (!max_size || !room(a, max_size > buf_size ? max_size : buf_size)) {
        *out_buf = buf;
        return buf_size;
    }
    memcpy(a->last_ops, vfu_mut_stats(a->m)->ops, sizeof a->last_ops);
    size_t n;
    if (add_buf && add_buf_size && vfu_mut_below(a->m, 4) == 0) {
        n = vfu_mut_crossover(a->m, buf, buf_size, add_buf, add_buf_size, a->out, max_size);
    } else {
        n = buf_size < max_size ? buf_size : max_size;
        memcpy(a->out, buf, n);
    }
    n = vfu_mut_session(a->m, a->out, n, max_size);
    *out_buf = a->out;
    return n;
}

size_t afl_custom_post_process(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf)
{
    struct afl_mut *a = data;
    *out_buf = buf;
    /* the canonical form is never longer than the input */
    if (!buf_size || !room(a, buf_size)) return buf_size;
    vfu_fs_parse(buf, buf_size, &a->fs);
    size_t n = a->fs.n ? vfu_fs_write(&a->fs, a->out, buf_size) : 0;
    if (!n) return buf_size;
    *out_buf = a->out;
    return n;
}

int32_t afl_custom_init_trim(void *data, uint8_t *buf, size_t buf_size)
{
    struct afl_mut *a = data;
    free(a->trim_in);
    a->trim_in = malloc(buf_size ? buf_size : 1);
    if (!a->trim_in || !room(a, buf_size ? buf_size : 1)) return 0;
    memcpy(a->trim_in, buf, buf_size);
    a->trim_len = buf_size;
    vfu_fs_parse(a->trim_in, a->trim_len, &a->fs);
    a->trim_at = 0;
    a->trim_steps = a->fs.n > 1 ? a->fs.n : 0;
    return (int32_t)a->trim_steps;
}

/* the session without record trim_at */
size_t afl_custom_trim(void *data, uint8_t **out_buf)
{
    struct afl_mut *a = data;
    static struct vfu_fs without;
    without.n = 0;
    for (unsigned i = 0; i < a->fs.n; i++)
        if (i != a->trim_at) without.rec[without.n++] = a->fs.rec[i];
    size_t n = vfu_fs_write(&without, a->out, a->out_cap);
    *out_buf = a->out;
    return n;
}

int32_t afl_custom_post_trim(void *data, unsigned char success)
{
    struct afl_mut *a = data;
    if (success) {
        /* the record stays out: the records after it move up */
        memmove(&a->fs.rec[a->trim_at], &a->fs.rec[a->trim_at + 1],
                (a->fs.n - a->trim_at - 1) * sizeof a->fs.rec[0]);
        a->fs.n--;
    } else {
        a->trim_at++;
    }
    if (a->fs.n <= 1 || a->trim_at >= a->fs.n) return (int32_t)a->trim_steps;
    return (int32_t)(a->trim_steps - (a->fs.n - a->trim_at));
}

const char *afl_custom_describe(void *data, size_t max_len)
{
    struct afl_mut *a = data;
    const struct vfu_mut_stats *st = vfu_mut_stats(a->m);
    const char *name = "vfu";
    for (unsigned op = 0; op < VFU_MUT_OP__COUNT; op++)
        if (st->ops[op] != a->last_ops[op]) { name = vfu_mut_op_name(op); break; }
    size_t n = strlen("vfu-") + strlen(name);
    if (n >= sizeof a->desc || n >= max_len) return "vfu";
    strcpy(a->desc, "vfu-");
    strcat(a->desc, name);
    return a->desc;
}

void afl_custom_deinit(void *data)
{
    struct afl_mut *a = data;
    if (!a) return;
    vfu_mut_free(a->m);
    free(a->out);
    free(a->trim_in);
    free(a);
}
