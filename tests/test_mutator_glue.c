/* The engine glue of the mutator: libFuzzer's hooks (fuzz/mutator_libfuzzer.c,
 * linked in here as into a target) and the AFL++ library
 * (fuzz/mutator_afl.c, loaded with dlopen as afl-fuzz loads it).  Both must
 * keep to max_size, give the same bytes for the same seed, take the role
 * the target states, and (AFL++) canonicalise and trim sessions. */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vfu_codec.h"
#include "fuzz_session.h"
#include "mutator_hook.h"

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerCustomCrossOver(const uint8_t *d1, size_t s1, const uint8_t *d2, size_t s2,
                                 uint8_t *out, size_t max_out, unsigned int seed);

/* this "target" tests a client: the weak symbol the glue reads */
const int vfu_fuzz_target_role = VFU_ROLE_CLIENT;

#define MAXS 4096

/* a session of one VERSION request and one DMA_READ reply */
static size_t seed(uint8_t *out)
{
    struct vfu_mut *m = vfu_fuzz_mutator();
    uint8_t msg[512];
    size_t at = 0;
    for (int i = 0; i < 2; i++) {
        unsigned nfds;
        size_t n = vfu_mut_generate(m, i ? VFU_CMD_DMA_READ : VFU_CMD_VERSION, i == 0, 1, msg, sizeof msg, &nfds);
        assert_true(n > 0);
        out[at] = VFU_FS_MSG; out[at + 1] = 0; out[at + 2] = 0;
        uint32_t l = (uint32_t)n;
        memcpy(out + at + 3, &l, 4);
        memcpy(out + at + 7, msg, n);
        at += 7 + n;
    }
    return at;
}

static void test_libfuzzer_hooks(void **state)
{
    (void)state;
    struct vfu_mut *m = vfu_fuzz_mutator();
    assert_non_null(m);
    assert_ptr_equal(m, vfu_fuzz_mutator());
    static uint8_t s[MAXS], a[MAXS], b[MAXS], o1[MAXS], o2[MAXS];
    size_t n = seed(s);
    for (unsigned i = 0; i < 3000; i++) {
        size_t max = 1 + i % MAXS;
        memcpy(a, s, n); memcpy(b, s, n);
        size_t in = n < max ? n : max;
        size_t x = LLVMFuzzerCustomMutator(a, in, max, i), y = LLVMFuzzerCustomMutator(b, in, max, i);
        assert_true(x >= 1 && x <= max);
        assert_int_equal(x, y);
        assert_memory_equal(a, b, x);
        size_t c1 = LLVMFuzzerCustomCrossOver(a, x, s, n, o1, max, i);
        size_t c2 = LLVMFuzzerCustomCrossOver(b, y, s, n, o2, max, i);
        assert_true(c1 <= max);
        assert_int_equal(c1, c2);
        assert_memory_equal(o1, o2, c1);
    }
    /* the role stated by the target: generated messages go to a client,
     * so an inserted command is a server's (DMA_READ/WRITE) or a reply */
    static struct vfu_fs fs;
    unsigned to_client = 0, seen = 0;
    for (unsigned i = 0; i < 3000; i++) {
        memcpy(a, s, n);
        size_t x = LLVMFuzzerCustomMutator(a, n, MAXS, i);
        vfu_fs_parse(a, x, &fs);
        for (unsigned r = 0; r < fs.n; r++) {
            static struct vfu_msg dm;
            struct vfu_error err;
            struct vfu_limits lim;
            vfu_limits_default(&lim);
            lim.max_fds = VFU_MAX_FDS;
            int fds[VFU_FS_MAX_FDS] = {0};
            if (!vfu_decode(&dm, fs.rec[r].msg, fs.rec[r].len, fds, fs.rec[r].nfds, &lim, VFU_ROLE_ANY, &err)) continue;
            if (dm.hdr.cmd == VFU_CMD_VERSION || dm.hdr.cmd == VFU_CMD_DMA_READ) continue;
            seen++;
            to_client += vfu_decode(&dm, fs.rec[r].msg, fs.rec[r].len, fds, fs.rec[r].nfds, &lim, VFU_ROLE_CLIENT, &err);
        }
    }
    printf("inserted messages that decode: %u, of them bound for a client: %u\n", seen, to_client);
    assert_true(seen > 100);
    assert_true(to_client * 10 >= seen * 9);
}

struct afl {
    void *(*init)(void *, unsigned);
    size_t (*fuzz)(void *, uint8_t *, size_t, uint8_t **, uint8_t *, size_t, size_t);
    size_t (*post)(void *, uint8_t *, size_t, uint8_t **);
    int32_t (*init_trim)(void *, uint8_t *, size_t);
    size_t (*trim)(void *, uint8_t **);
    int32_t (*post_trim)(void *, unsigned char);
    const char *(*describe)(void *, size_t);
    void (*deinit)(void *);
};

static void *sym(void *h, const char *name)
{
    void *p = dlsym(h, name);
    if (!p) fail_msg("%s missing from %s", name, MUT_AFL_SO);
    return p;
}

static void test_afl_library(void **state)
{
    (void)state;
    void *h = dlopen(MUT_AFL_SO, RTLD_NOW | RTLD_LOCAL);
    if (!h) fail_msg("dlopen: %s", dlerror());
    struct afl f;
    *(void **)&f.init = sym(h, "afl_custom_init");
    *(void **)&f.fuzz = sym(h, "afl_custom_fuzz");
    *(void **)&f.post = sym(h, "afl_custom_post_process");
    *(void **)&f.init_trim = sym(h, "afl_custom_init_trim");
    *(void **)&f.trim = sym(h, "afl_custom_trim");
    *(void **)&f.post_trim = sym(h, "afl_custom_post_trim");
    *(void **)&f.describe = sym(h, "afl_custom_describe");
    *(void **)&f.deinit = sym(h, "afl_custom_deinit");
    /* nothing else is exported: the runtime inside stays private */
    assert_null(dlsym(h, "vfu_decode"));
    assert_null(dlsym(h, "vfu_mut_session"));

    void *a = f.init(NULL, 1234), *b = f.init(NULL, 1234);
    assert_non_null(a);
    static uint8_t s[MAXS], add[MAXS];
    size_t n = seed(s);
    memcpy(add, s, n);
    for (unsigned i = 0; i < 3000; i++) {
        size_t max = 16 + i % 2000;
        uint8_t *o1, *o2;
        size_t x = f.fuzz(a, s, n, &o1, add, n, max), y = f.fuzz(b, s, n, &o2, add, n, max);
        assert_true(x >= 1 && x <= max);
        assert_int_equal(x, y);
        assert_memory_equal(o1, o2, x);
        assert_non_null(f.describe(a, 32));
    }
    /* post-processing: a record whose len runs past the end comes back
     * with the length it has; an already canonical session is unchanged */
    uint8_t *out;
    size_t k = f.post(a, s, n, &out);
    assert_int_equal(k, n);
    assert_memory_equal(out, s, n);
    uint8_t bad[64] = {VFU_FS_MSG, 0, 0, 200, 0, 0, 0, 1, 2, 3};
    k = f.post(a, bad, 10, &out);
    assert_int_equal(k, 10);
    assert_int_equal(out[3], 3);   /* len now 3 */

    /* trimming by records: every step removes one when told it helped */
    int32_t steps = f.init_trim(a, s, n);
    assert_int_equal(steps, 2);
    size_t t = f.trim(a, &out);
    assert_true(t > 0 && t < n);
    static struct vfu_fs fs;
    assert_int_equal(vfu_fs_parse(out, t, &fs), 1);
    int32_t next = f.post_trim(a, 1);
    assert_true(next >= steps);   /* one record left: done */

    f.deinit(a);
    f.deinit(b);
    dlclose(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_libfuzzer_hooks),
        cmocka_unit_test(test_afl_library),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
