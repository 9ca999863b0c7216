/* The spec-aware mutator (lib/runtime/mutate.h): deterministic for a seed, within
 * max_size, every operator used, fix-ups that keep most mutants decodable
 * and leave some off on purpose, boundary values by field meaning, and
 * generated messages the codec accepts.  Rates are printed so that a run
 * shows them; the thresholds are what the fuzzers depend on. */
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
#include "mutate.h"

#define MAXS 8192

static struct vfu_mut *mk(uint64_t seed, enum vfu_role target)
{
    struct vfu_mut_opts o = {seed, target};
    struct vfu_mut *m = vfu_mut_new(&o);
    assert_non_null(m);
    return m;
}

/* decodes with the limits a fuzz target runs under: the spec's defaults,
 * fds as many as came */
static bool decodes(const uint8_t *msg, size_t len, unsigned nfds, struct vfu_error *err)
{
    static struct vfu_msg dm;
    struct vfu_limits lim;
    vfu_limits_default(&lim);
    lim.max_fds = VFU_MAX_FDS;
    int fds[VFU_FS_MAX_FDS] = {0};
    return vfu_decode(&dm, msg, len, fds, nfds > VFU_FS_MAX_FDS ? VFU_FS_MAX_FDS : nfds, &lim, VFU_ROLE_ANY, err);
}

/* a session of records, each a message built with the encoder */
struct sess { uint8_t buf[MAXS]; size_t len; };

static void add_rec(struct sess *s, uint8_t kind, const uint8_t *msg, size_t len, unsigned nfds, uint32_t fdsize)
{
    uint8_t *p = s->buf + s->len;
    p[0] = kind; p[1] = VFU_FS_FIX_ID; p[2] = (uint8_t)nfds;
    size_t at = 3;
    for (unsigned i = 0; i < nfds; i++) {
        p[at] = VFU_FS_FD_MEMFD;
        memcpy(p + at + 1, &fdsize, 4);
        at += 5;
    }
    uint32_t l = (uint32_t)len;
    memcpy(p + at, &l, 4);
    memcpy(p + at + 4, msg, len);
    s->len += at + 4 + len;
}

static size_t region_read(uint8_t *buf, uint32_t region, uint64_t offset, uint32_t count)
{
    struct vfu_enc e;
    vfu_enc_begin(&e, buf, 256, VFU_CMD_REGION_READ, false, 1);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_OFFSET, offset);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_REGION, region);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_COUNT, count);
    assert_true(vfu_enc_finish(&e, NULL));
    return e.len;
}

static size_t dma_map(uint8_t *buf, uint64_t addr, uint64_t size)
{
    struct vfu_enc e;
    vfu_enc_begin(&e, buf, 256, VFU_CMD_DMA_MAP, false, 2);
    vfu_enc_set(&e, VFU_F_DMA_MAP_FLAGS, VFU_DMA_MAP_FLAGS_READ | VFU_DMA_MAP_FLAGS_WRITE);
    vfu_enc_set(&e, VFU_F_DMA_MAP_ADDRESS, addr);
    vfu_enc_set(&e, VFU_F_DMA_MAP_SIZE, size);
    assert_true(vfu_enc_finish(&e, NULL));
    return e.len;
}

static size_t dma_unmap(uint8_t *buf, uint64_t addr, uint64_t size)
{
    struct vfu_enc e;
    vfu_enc_begin(&e, buf, 256, VFU_CMD_DMA_UNMAP, false, 3);
    vfu_enc_set(&e, VFU_F_DMA_UNMAP_ADDRESS, addr);
    vfu_enc_set(&e, VFU_F_DMA_UNMAP_SIZE, size);
    assert_true(vfu_enc_finish(&e, NULL));
    return e.len;
}

/* a session from a generated message of every command the server receives */
static void seed_session(struct vfu_mut *m, struct sess *s)
{
    s->len = 0;
    uint8_t msg[1024];
    size_t n = dma_map(msg, 0x10000, 0x2000);
    add_rec(s, VFU_FS_MSG, msg, n, 1, 0x2000);
    for (unsigned c = 0; c <= VFU_CMD_MAX; c++) {
        const struct vfu_cmd_desc *d = vfu_cmd(c);
        if (!d) continue;
        bool reply = d->dir == VFU_DIR_SERVER;
        unsigned nfds;
        n = vfu_mut_generate(m, c, reply, (uint16_t)c, msg, sizeof msg, &nfds);
        assert_true(n >= VFU_HDR_SIZE);
        add_rec(s, reply ? VFU_FS_REPLY : VFU_FS_MSG, msg, n, nfds, 0x1000);
    }
}

static bool has(const uint64_t *v, size_t n, uint64_t x)
{
    for (size_t i = 0; i < n; i++) if (v[i] == x) return true;
    return false;
}

/* every generated message, of every command both ways, is one the codec
 * accepts with the fds the generator asked for */
static void test_generate_decodes(void **state)
{
    (void)state;
    struct vfu_mut *m = mk(1, VFU_ROLE_SERVER);
    uint8_t buf[4096];
    unsigned total = 0, ok = 0;
    for (unsigned c = 0; c <= VFU_CMD_MAX; c++) {
        if (!vfu_cmd(c)) continue;
        for (int r = 0; r < 2; r++)
            for (int i = 0; i < 300; i++) {
                unsigned nfds;
                size_t n = vfu_mut_generate(m, c, r, 7, buf, sizeof buf, &nfds);
                assert_true(n >= VFU_HDR_SIZE && n <= sizeof buf);
                struct vfu_error err;
                total++;
                if (decodes(buf, n, nfds, &err)) ok++;
                else fail_msg("generated %s %s refused: %s (field %s, got %llu want %llu)", vfu_cmd_name(c),
                              r ? "reply" : "request", vfu_errc_name(err.code), vfu_field_name(err.field),
                              (unsigned long long)err.got, (unsigned long long)err.want);
            }
    }
    printf("generated: %u of %u decode\n", ok, total);
    /* too small a buffer: 0, never an overrun */
    unsigned nfds;
    assert_int_equal(vfu_mut_generate(m, VFU_CMD_DMA_MAP, false, 1, buf, VFU_HDR_SIZE + 3, &nfds), 0);
    vfu_mut_free(m);
}

static void test_deterministic(void **state)
{
    (void)state;
    struct vfu_mut *a = mk(42, VFU_ROLE_SERVER), *b = mk(42, VFU_ROLE_SERVER), *c = mk(43, VFU_ROLE_SERVER);
    static struct sess s;
    seed_session(a, &s);
    vfu_mut_reseed(a, 42);
    static uint8_t x[MAXS], y[MAXS], z[MAXS], o1[MAXS], o2[MAXS];
    bool differs = false;
    for (int i = 0; i < 2000; i++) {
        memcpy(x, s.buf, s.len); memcpy(y, s.buf, s.len); memcpy(z, s.buf, s.len);
        size_t nx = vfu_mut_session(a, x, s.len, MAXS), ny = vfu_mut_session(b, y, s.len, MAXS);
        size_t nz = vfu_mut_session(c, z, s.len, MAXS);
        assert_int_equal(nx, ny);
        assert_memory_equal(x, y, nx);
        differs |= nx != nz || memcmp(x, z, nx);
        size_t c1 = vfu_mut_crossover(a, x, nx, s.buf, s.len, o1, MAXS);
        size_t c2 = vfu_mut_crossover(b, y, ny, s.buf, s.len, o2, MAXS);
        assert_int_equal(c1, c2);
        assert_memory_equal(o1, o2, c1);
    }
    assert_true(differs);   /* another seed, another sequence */
    vfu_mut_free(a); vfu_mut_free(b); vfu_mut_free(c);
}

/* outputs stay within max_size, however small, and are never empty; run
 * under ASan by make check, so any overrun stops it */
static void test_within_max_size(void **state)
{
    (void)state;
    struct vfu_mut *m = mk(7, VFU_ROLE_SERVER);
    static struct sess s;
    seed_session(m, &s);
    static uint8_t buf[MAXS], out[MAXS];
    static const size_t caps[] = {1, 5, 16, 40, 100, 300, 1000, MAXS};
    size_t cur = s.len;
    memcpy(buf, s.buf, cur);
    for (int i = 0; i < 30000; i++) {
        size_t cap = caps[i % (sizeof caps / sizeof caps[0])];
        /* the caller's buffer is exactly cap bytes where ASan can see it */
        uint8_t *h = malloc(cap);
        assert_non_null(h);
        size_t in = cur < cap ? cur : cap;
        memcpy(h, buf, in);
        size_t n = vfu_mut_session(m, h, in, cap);
        assert_true(n >= 1 && n <= cap);
        if (i % 3 == 0) {
            size_t k = vfu_mut_crossover(m, h, n, s.buf, s.len, out, cap);
            assert_true(k >= 1 && k <= cap);
        }
        memcpy(buf, h, n);
        cur = n;
        free(h);
        if (i % 500 == 0) { memcpy(buf, s.buf, s.len); cur = s.len; }
    }
    /* one message, in a buffer of exactly cap bytes */
    for (int i = 0; i < 20000; i++) {
        size_t cap = 16 + (size_t)vfu_mut_below(m, 200);
        uint8_t *h = malloc(cap);
        size_t n = region_read(buf, 2, 0, 8);
        memcpy(h, buf, n < cap ? n : cap);
        size_t k = vfu_mut_message(m, h, n < cap ? n : cap, cap, true);
        assert_true(k <= cap);
        free(h);
    }
    vfu_mut_free(m);
}

static void test_every_operator(void **state)
{
    (void)state;
    struct vfu_mut *m = mk(3, VFU_ROLE_SERVER);
    static struct sess s;
    seed_session(m, &s);
    static uint8_t buf[MAXS], out[MAXS];
    for (int i = 0; i < 20000; i++) {
        memcpy(buf, s.buf, s.len);
        size_t n = vfu_mut_session(m, buf, s.len, MAXS);
        if (i % 10 == 0) vfu_mut_crossover(m, buf, n, s.buf, s.len, out, MAXS);
    }
    const struct vfu_mut_stats *st = vfu_mut_stats(m);
    for (unsigned op = 0; op < VFU_MUT_OP__COUNT; op++) {
        printf("  %-10s %llu\n", vfu_mut_op_name(op), (unsigned long long)st->ops[op]);
        if (!st->ops[op]) fail_msg("operator %s never ran", vfu_mut_op_name(op));
    }
    vfu_mut_free(m);
}

/* the size checks a fix-up answers for */
static bool framing_error(enum vfu_errc c)
{
    return c == VFU_E_SIZE_MISMATCH || c == VFU_E_SIZE_BELOW_HDR || c == VFU_E_ARGSZ ||
           c == VFU_E_ARRAY_OVERRUN || c == VFU_E_PAYLOAD_SHORT || c == VFU_E_PAYLOAD_LONG;
}

static void test_fixup_rates(void **state)
{
    (void)state;
    struct vfu_mut *m = mk(11, VFU_ROLE_SERVER);
    uint8_t seed[1024], buf[4096];
    unsigned total = 0, ok = 0, framing = 0;
    for (int i = 0; i < 30000; i++) {
        unsigned c;
        do c = (unsigned)vfu_mut_below(m, VFU_CMD_MAX + 1); while (!vfu_cmd(c));
        bool reply = vfu_cmd(c)->dir == VFU_DIR_SERVER;
        unsigned nfds;
        size_t n = vfu_mut_generate(m, c, reply, 1, seed, sizeof seed, &nfds);
        memcpy(buf, seed, n);
        size_t k = vfu_mut_message(m, buf, n, sizeof buf, true);
        struct vfu_error err;
        total++;
        if (decodes(buf, k, nfds, &err)) ok++;
        else if (framing_error(err.code)) framing++;
    }
    const struct vfu_mut_stats *st = vfu_mut_stats(m);
    double dec = 100.0 * ok / total, sized = 100.0 * (total - framing) / total;
    printf("mutants: %.1f%% decode, %.1f%% pass the size checks, %.1f%% fail them; fix-ups %llu consistent, %llu off\n",
           dec, sized, 100.0 * framing / total, (unsigned long long)st->fix_consistent, (unsigned long long)st->fix_off);
    /* most mutants reach past framing; some are refused there on purpose */
    assert_true(sized >= 75.0);
    assert_true(dec >= 20.0);
    assert_true(framing > 0);
    assert_true(st->fix_off > 0 && st->fix_consistent > 4 * st->fix_off);
    vfu_mut_free(m);
}

/* a REGION_READ's offset and count get values around the region's size and
 * the wrap points; argsz, indexes and page sizes theirs */
static void test_boundaries_by_role(void **state)
{
    (void)state;
    struct vfu_mut *m = mk(5, VFU_ROLE_SERVER);
    vfu_mut_set_region(m, 2, 0x1000);
    uint8_t msg[256];
    size_t n = region_read(msg, 2, 0, 8);
    uint64_t v[64];
    size_t k = vfu_mut_boundaries(m, msg, n, VFU_HDR_SIZE, VFU_F_REGION_ACCESS_OFFSET, v, 64);
    static const uint64_t off_want[] = {0, 0xff8, 0xff9, 0xfff, 0x1000, 0x1001, UINT64_MAX - 7, UINT64_MAX - 6,
                                        0x100000000ULL - 8, UINT64_MAX};
    for (size_t i = 0; i < sizeof off_want / sizeof off_want[0]; i++)
        if (!has(v, k, off_want[i])) fail_msg("offset lacks 0x%llx", (unsigned long long)off_want[i]);
    k = vfu_mut_boundaries(m, msg, n, VFU_HDR_SIZE, VFU_F_REGION_ACCESS_COUNT, v, 64);
    static const uint64_t cnt_want[] = {0, 1, 0x1000, 0x1001, VFU_DEFAULT_MAX_DATA_XFER_SIZE,
                                        VFU_DEFAULT_MAX_DATA_XFER_SIZE + 1, UINT32_MAX};
    for (size_t i = 0; i < sizeof cnt_want / sizeof cnt_want[0]; i++)
        if (!has(v, k, cnt_want[i])) fail_msg("count lacks 0x%llx", (unsigned long long)cnt_want[i]);
    /* the negotiated limit moves the count's values */
    vfu_mut_set_cap(m, VFU_CAP_MAX_DATA_XFER_SIZE, 65536);
    k = vfu_mut_boundaries(m, msg, n, VFU_HDR_SIZE, VFU_F_REGION_ACCESS_COUNT, v, 64);
    assert_true(has(v, k, 65536) && has(v, k, 65537));
    k = vfu_mut_boundaries(m, msg, n, VFU_HDR_SIZE, VFU_F_REGION_ACCESS_REGION, v, 64);
    assert_true(has(v, k, 0) && has(v, k, 8) && has(v, k, 9) && has(v, k, UINT32_MAX));

    /* and the mutator reaches them: the wrap and the region's end */
    bool wrap = false, end = false;
    uint8_t buf[512];
    for (int i = 0; i < 20000 && !(wrap && end); i++) {
        memcpy(buf, msg, n);
        size_t len = vfu_mut_message(m, buf, n, sizeof buf, true);
        struct vfu_hdr h;
        struct vfu_error err;
        if (len < VFU_HDR_SIZE + VFU_SIZE_REGION_ACCESS || !vfu_hdr_decode(buf, len, &h, &err) ||
            h.cmd != VFU_CMD_REGION_READ)
            continue;
        uint64_t off = vfu_read_uint(buf + VFU_HDR_SIZE, 8);
        wrap |= off == UINT64_MAX - 7;
        end |= off == 0xff8 || off == 0x1000;
    }
    assert_true(wrap && end);

    /* argsz around both fixed sizes: DEVICE_GET_INFO's reply is 16 bytes */
    struct vfu_enc e;
    vfu_enc_begin(&e, msg, sizeof msg, VFU_CMD_DEVICE_GET_INFO, false, 1);
    assert_true(vfu_enc_finish(&e, NULL));
    k = vfu_mut_boundaries(m, msg, e.len, VFU_HDR_SIZE, VFU_F_DEVICE_INFO_REQ_ARGSZ, v, 64);
    assert_true(has(v, k, 15) && has(v, k, 16) && has(v, k, 17) && has(v, k, 0));
    vfu_mut_free(m);
}

/* DMA space is learned from the session: an unmap's address reaches the
 * mapping's end and the 64-bit wrap of its size */
static void test_dma_learned(void **state)
{
    (void)state;
    struct vfu_mut *m = mk(9, VFU_ROLE_SERVER);
    static struct sess s;
    s.len = 0;
    uint8_t msg[256];
    size_t n = dma_map(msg, 0x40000, 0x2000);
    add_rec(&s, VFU_FS_MSG, msg, n, 1, 0x2000);
    n = dma_unmap(msg, 0x40000, 0x2000);
    add_rec(&s, VFU_FS_MSG, msg, n, 0, 0);
    bool end = false, wrap = false;
    static uint8_t buf[MAXS];
    static struct vfu_fs fs;
    for (int i = 0; i < 30000 && !(end && wrap); i++) {
        memcpy(buf, s.buf, s.len);
        size_t k = vfu_mut_session(m, buf, s.len, MAXS);
        vfu_fs_parse(buf, k, &fs);
        for (unsigned r = 0; r < fs.n; r++) {
            struct vfu_hdr h;
            struct vfu_error err;
            if (fs.rec[r].len < VFU_HDR_SIZE + VFU_SIZE_DMA_UNMAP || !vfu_hdr_decode(fs.rec[r].msg, fs.rec[r].len, &h, &err) ||
                h.cmd != VFU_CMD_DMA_UNMAP)
                continue;
            uint64_t a = vfu_read_uint(fs.rec[r].msg + VFU_HDR_SIZE + 8, 8);
            end |= a == 0x42000 || a == 0x41fff;
            wrap |= a == 0 - (uint64_t)0x2000;
        }
    }
    assert_true(end && wrap);
    vfu_mut_free(m);
}

/* inputs that are not sessions at all still give sessions */
static void test_garbage_inputs(void **state)
{
    (void)state;
    struct vfu_mut *m = mk(13, VFU_ROLE_CLIENT);
    static uint8_t buf[MAXS], out[MAXS];
    for (int i = 0; i < 5000; i++) {
        size_t n = (size_t)vfu_mut_below(m, 300);
        for (size_t k = 0; k < n; k++) buf[k] = (uint8_t)vfu_mut_below(m, 256);
        size_t got = vfu_mut_session(m, buf, n, MAXS);
        assert_true(got >= 1 && got <= MAXS);
        size_t c = vfu_mut_crossover(m, buf, got, buf, n, out, 64);
        assert_true(c >= 1 && c <= 64);
        size_t mm = vfu_mut_message(m, buf, n < 64 ? n : 64, 64, false);
        assert_true(mm <= 64);
    }
    vfu_mut_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_decodes),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_within_max_size),
        cmocka_unit_test(test_every_operator),
        cmocka_unit_test(test_fixup_rates),
        cmocka_unit_test(test_boundaries_by_role),
        cmocka_unit_test(test_dma_learned),
        cmocka_unit_test(test_garbage_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
