/* The toy device's migration stream: a round trip carries the whole device
 * state, and streams that are truncated, corrupted or describe a state the
 * device cannot be in are refused without touching the device. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/mman.h>
#include <linux/pci_regs.h>

#include "toydev_fake.h"

struct pair {
    struct fake *fa, *fb;
    struct toydev *a, *b;
};

static int setup(void **state)
{
    struct pair *x = calloc(1, sizeof *x);
    if (!x || !(x->fa = fake_new()) || !(x->fb = fake_new()))
        return -1;
    x->a = toydev_create(&fake_ops, x->fa, NULL);
    x->b = toydev_create(&fake_ops, x->fb, NULL);
    if (!x->a || !x->b)
        return -1;
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct pair *x = *state;
    toydev_destroy(x->a);
    toydev_destroy(x->b);
    fake_free(x->fa);
    fake_free(x->fb);
    free(x);
    return 0;
}

/* put every part of the device state away from power-on, differently per seed */
static void make_busy(struct toydev *d, struct fake *f, unsigned seed)
{
    assert_int_equal(wr(d, CFG, PCI_COMMAND, PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY, 2), 0);
    assert_int_equal(wr(d, CFG, PCI_BASE_ADDRESS_0, 0xfe000000u + seed * 0x1000, 4), 0);
    assert_int_equal(wr(d, CFG, PCI_BASE_ADDRESS_3, seed, 4), 0);
    assert_int_equal(wr(d, CFG, PCI_INTERRUPT_LINE, seed, 1), 0);
    assert_int_equal(wr(d, CFG, 0x50 + PCI_MSI_ADDRESS_LO, 0xfee00000u + seed * 4, 4), 0);
    assert_int_equal(wr(d, CFG, 0x40 + PCI_PM_CTRL, seed & 1 ? 3 : 0, 2), 0);
    assert_int_equal(wr(d, CFG, 0x70 + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2), 0);
    for (unsigned v = 1; v < TOYDEV_MSIX_VECTORS; v++) {
        assert_int_equal(wr(d, BAR4, v * 16, 0xfee00000u + v * 16 + seed * 4, 4), 0);
        assert_int_equal(wr(d, BAR4, v * 16 + 8, (uint64_t)(v & 1) << 32 | (seed + v), 8), 0);
    }
    /* a copy that fails (SRC unmapped) while vector 0 is masked: ERROR, errno,
     * master abort and a pending bit */
    assert_int_equal(wr(d, BAR0, TOYDEV_REG_SRC, 0x10 * seed, 8), 0);
    assert_int_equal(wr(d, BAR0, TOYDEV_REG_DST, GUEST_BASE + seed, 8), 0);
    assert_int_equal(wr(d, BAR0, TOYDEV_REG_LEN, 100 + seed, 4), 0);
    assert_int_equal(wr(d, BAR0, TOYDEV_REG_DOORBELL, 1, 4), 0);
    assert_int_equal(rd(d, BAR4, TOYDEV_MSIX_PBA_OFFSET, 4), 1);
    assert_int_equal(rd(d, BAR0, TOYDEV_REG_ERRNO, 4), EFAULT);
    for (unsigned i = 0; i < TOYDEV_SCRATCH_COUNT; i++)
        assert_int_equal(wr(d, BAR0, TOYDEV_REG_SCRATCH + 8 * i, 0x0123456789abcdefull * (i + seed), 8), 0);
    uint8_t page[4096];
    for (unsigned off = 0; off < TOYDEV_BAR2_SIZE; off += sizeof page) {
        for (size_t i = 0; i < sizeof page; i++)
            page[i] = (uint8_t)(off / 4096 * 7 + i * seed + seed);
        assert_int_equal(toydev_access(d, BAR2, off, page, sizeof page, true), 0);
    }
    (void)f;
}

static uint8_t *save(const struct toydev *d, size_t *len)
{
    size_t n = toydev_state_size(d);
    uint8_t *buf = malloc(n);
    assert_non_null(buf);
    assert_int_equal(toydev_save(d, buf, n), 0);
    *len = n;
    return buf;
}

static void assert_state(const struct toydev *d, const uint8_t *want, size_t len)
{
    size_t n;
    uint8_t *now = save(d, &n);
    assert_int_equal(n, len);
    assert_memory_equal(now, want, len);
    free(now);
}

/* what a cheap look at a device shows: enough to spot any section applied */
struct look {
    uint8_t cfg[0x100];
    uint64_t regs[TOYDEV_SCRATCH_COUNT + 4];
    uint64_t msix[3];
    uint8_t bar2[3];
};

static void look(struct toydev *d, struct look *l)
{
    memset(l, 0, sizeof *l);
    assert_int_equal(toydev_access(d, CFG, 0, l->cfg, sizeof l->cfg, false), 0);
    for (unsigned i = 0; i < TOYDEV_SCRATCH_COUNT; i++)
        l->regs[i] = rd(d, BAR0, TOYDEV_REG_SCRATCH + 8 * i, 8);
    l->regs[8] = rd(d, BAR0, TOYDEV_REG_SRC, 8);
    l->regs[9] = rd(d, BAR0, TOYDEV_REG_LEN, 4);
    l->regs[10] = rd(d, BAR0, TOYDEV_REG_STATUS, 8);
    l->regs[11] = rd(d, BAR0, TOYDEV_REG_ID, 8);
    l->msix[0] = rd(d, BAR4, 16, 8);
    l->msix[1] = rd(d, BAR4, 24, 8);
    l->msix[2] = rd(d, BAR4, TOYDEV_MSIX_PBA_OFFSET, 8);
    static const unsigned at[] = {0, 4096, 65535};
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(toydev_access(d, BAR2, at[i], &l->bar2[i], 1, false), 0);
}

static void round_trip(void **state)
{
    struct pair *x = *state;
    make_busy(x->a, x->fa, 3);
    size_t n;
    uint8_t *s = save(x->a, &n);
    assert_int_equal(toydev_load(x->b, s, n), 0);
    assert_state(x->b, s, n);
    assert_int_equal(x->fb->nirq, 0);   /* loading raises nothing */

    /* and through the device's own eyes */
    struct look la, lb;
    look(x->a, &la);
    look(x->b, &lb);
    assert_memory_equal(&la, &lb, sizeof la);
    uint8_t ca[4096], cb[4096];
    assert_int_equal(toydev_access(x->a, CFG, 0, ca, sizeof ca, false), 0);
    assert_int_equal(toydev_access(x->b, CFG, 0, cb, sizeof cb, false), 0);
    assert_memory_equal(ca, cb, sizeof ca);
    assert_int_equal(rd(x->b, BAR0, TOYDEV_REG_ERRNO, 4), EFAULT);
    assert_int_equal(rd(x->b, BAR0, TOYDEV_REG_DST, 8), GUEST_BASE + 3);
    assert_int_equal(rd(x->b, CFG, PCI_STATUS, 2) & PCI_STATUS_REC_MASTER_ABORT,
                     PCI_STATUS_REC_MASTER_ABORT);
    struct toydev_region r;
    toydev_region_info(x->b, VFU_PCI_REGION_BAR2, &r);
    uint8_t *m = mmap(NULL, r.size, PROT_READ, MAP_SHARED, r.fd, 0);
    assert_true(m != MAP_FAILED);
    uint8_t page[4096];
    assert_int_equal(toydev_access(x->a, BAR2, 8192, page, sizeof page, false), 0);
    assert_memory_equal(m + 8192, page, sizeof page);
    munmap(m, r.size);

    /* the loaded device works: unmasking vector 0 delivers the pending message
     * through b's ops, not a's */
    assert_int_equal(wr(x->b, BAR4, PCI_MSIX_ENTRY_VECTOR_CTRL, 0, 4), 0);
    assert_int_equal(x->fb->nirq, 1);
    assert_int_equal(x->fb->irq[0].index, VFU_PCI_IRQ_MSIX);
    assert_int_equal(x->fa->nirq, 0);
    free(s);
}

static void save_needs_room(void **state)
{
    struct pair *x = *state;
    size_t n = toydev_state_size(x->a);
    uint8_t *buf = malloc(n);
    assert_non_null(buf);
    assert_int_equal(toydev_save(x->a, buf, n - 1), ENOSPC);
    assert_int_equal(toydev_save(x->a, buf, n), 0);
    assert_int_equal(toydev_load(x->b, NULL, n), EINVAL);
    assert_int_equal(toydev_load(x->b, buf, 0), EINVAL);
    /* a stream with trailing bytes is as wrong as a short one */
    uint8_t *longer = calloc(1, n + 8);
    assert_non_null(longer);
    memcpy(longer, buf, n);
    assert_int_equal(toydev_load(x->b, longer, n + 8), EINVAL);
    free(longer);
    free(buf);
}

/* offset of the u32 total-length field: the header carries the stream length */
static size_t total_field(const uint8_t *s, size_t n)
{
    for (size_t off = 0; off + 4 <= 16; off++)
        if (le32(s + off) == n)
            return off;
    fail_msg("no total length in the header");
    return 0;
}

static void every_truncation(void **state)
{
    struct pair *x = *state;
    make_busy(x->a, x->fa, 5);
    make_busy(x->b, x->fb, 8);
    size_t n, bn;
    uint8_t *s = save(x->a, &n), *before = save(x->b, &bn);
    size_t tf = total_field(s, n);
    struct look l0, l;
    look(x->b, &l0);
    for (size_t len = 0; len < n; len++) {
        /* exactly len bytes on the heap, so reading past them is caught */
        uint8_t *t = malloc(len ? len : 1);
        assert_non_null(t);
        memcpy(t, s, len);
        assert_int_equal(toydev_load(x->b, t, len), EINVAL);
        if (len >= tf + 4) {
            /* the header agrees with the truncation: the sections must not */
            put_le32(t + tf, len);
            assert_int_equal(toydev_load(x->b, t, len), EINVAL);
        }
        free(t);
        look(x->b, &l);
        assert_memory_equal(&l, &l0, sizeof l);
        if (len % 4096 == 0)
            assert_state(x->b, before, bn);
    }
    assert_state(x->b, before, bn);
    free(s);
    free(before);
}

/* whatever a load accepted must be a state the device could have reached */
static void assert_reachable(struct toydev *d, struct toydev *fresh)
{
    const uint32_t bits = TOYDEV_STATUS_DONE | TOYDEV_STATUS_ERROR;
    assert_int_equal(rd(d, BAR0, TOYDEV_REG_STATUS, 4) & ~bits, 0);
    assert_int_equal(rd(d, BAR0, TOYDEV_REG_IRQ_CAUSE, 4) & ~bits, 0);
    assert_true(rd(d, BAR0, TOYDEV_REG_ERRNO, 4) < 4096);
    for (unsigned v = 0; v < TOYDEV_MSIX_VECTORS; v++) {
        assert_int_equal(rd(d, BAR4, v * 16 + PCI_MSIX_ENTRY_LOWER_ADDR, 4) & 3, 0);
        assert_int_equal(rd(d, BAR4, v * 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 4) & ~1u, 0);
    }
    uint64_t pba = rd(d, BAR4, TOYDEV_MSIX_PBA_OFFSET, 8);
    assert_int_equal(pba >> TOYDEV_MSIX_VECTORS, 0);
    /* nothing left pending that an enabled, unmasked vector would have sent */
    uint64_t flags = rd(d, CFG, 0x70 + PCI_MSIX_FLAGS, 2);
    if ((flags & PCI_MSIX_FLAGS_ENABLE) && !(flags & PCI_MSIX_FLAGS_MASKALL))
        for (unsigned v = 0; v < TOYDEV_MSIX_VECTORS; v++)
            if (pba >> v & 1)
                assert_int_equal(rd(d, BAR4, v * 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 4), 1);
    static const unsigned fixed[][2] = {
        {PCI_VENDOR_ID, 4}, {PCI_CLASS_REVISION, 4}, {PCI_HEADER_TYPE, 1},
        {PCI_SUBSYSTEM_VENDOR_ID, 4}, {PCI_CAPABILITY_LIST, 1}, {PCI_INTERRUPT_PIN, 1},
        {0x40, 4}, {0x50, 2}, {0x70, 2}, {0x74, 4}, {0x78, 4}, {0x80, 4}, {0x100, 4},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        assert_int_equal(rd(d, CFG, fixed[i][0], fixed[i][1]),
                         rd(fresh, CFG, fixed[i][0], fixed[i][1]));
    unsigned pm = (unsigned)rd(d, CFG, 0x40 + PCI_PM_CTRL, 2) & PCI_PM_CTRL_STATE_MASK;
    assert_true(pm == 0 || pm == 3);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static void random_corruptions(void **state)
{
    struct pair *x = *state;
    make_busy(x->a, x->fa, 1);
    make_busy(x->b, x->fb, 2);
    size_t n, bn;
    uint8_t *s = save(x->a, &n), *before = save(x->b, &bn);
    uint8_t *c = malloc(n);
    assert_non_null(c);
    struct toydev *fresh = toydev_create(&fake_ops, x->fb, NULL);
    assert_non_null(fresh);
    unsigned loaded = 0, refused = 0;
    for (unsigned iter = 0; iter < 3000; iter++) {
        memcpy(c, s, n);
        unsigned flips = 1 + next() % 4;
        for (unsigned k = 0; k < flips; k++) {
            /* favour the header, small sections and tail over the bulk of BAR2 */
            size_t where;
            switch (next() % 4) {
            case 0: where = next() % 64; break;
            case 1: where = next() % 4400; break;
            case 2: where = n - 1 - next() % 200; break;
            default: where = next() % n; break;
            }
            if (next() % 2)
                c[where] ^= (uint8_t)(1u << next() % 8);
            else
                c[where] = (uint8_t)next();
        }
        int rc = toydev_load(x->b, c, n);
        if (rc == 0) {
            loaded++;
            assert_reachable(x->b, fresh);
            assert_state(x->b, c, n);   /* all of it applied */
            assert_int_equal(toydev_load(x->b, before, bn), 0);
        } else {
            refused++;
            assert_int_equal(rc, EINVAL);
            assert_state(x->b, before, bn);   /* none of it applied */
        }
    }
    /* both outcomes were exercised */
    assert_true(loaded > 100);
    assert_true(refused > 100);
    toydev_destroy(fresh);
    free(c);
    free(s);
    free(before);
}

/* Every single-bit flip of the stream outside the bulk of BAR2 (the header,
 * config and register sections lead; the MSI-X section closes it): refused
 * with nothing applied, or loaded whole into a reachable state. */
static void every_bit_flip(void **state)
{
    struct pair *x = *state;
    make_busy(x->a, x->fa, 6);
    make_busy(x->b, x->fb, 7);
    struct toydev *fresh = toydev_create(&fake_ops, x->fb, NULL);
    assert_non_null(fresh);
    size_t n, bn;
    uint8_t *s = save(x->a, &n), *before = save(x->b, &bn);
    uint8_t *c = malloc(n);
    assert_non_null(c);
    memcpy(c, s, n);
    struct look l0, l;
    look(x->b, &l0);
    unsigned loaded = 0;
    for (size_t p = 0; p < n; p = p == 4400 ? n - 200 : p + 1) {
        for (unsigned bit = 0; bit < 8; bit++) {
            c[p] ^= (uint8_t)(1u << bit);
            int rc = toydev_load(x->b, c, n);
            if (rc == 0) {
                loaded++;
                assert_reachable(x->b, fresh);
                assert_state(x->b, c, n);
                assert_int_equal(toydev_load(x->b, before, bn), 0);
            } else {
                assert_int_equal(rc, EINVAL);
                look(x->b, &l);
                assert_memory_equal(&l, &l0, sizeof l);
            }
            c[p] ^= (uint8_t)(1u << bit);
        }
    }
    assert_true(loaded > 100);
    assert_state(x->b, before, bn);
    toydev_destroy(fresh);
    free(c);
    free(s);
    free(before);
}

/* Streams rebuilt from a saved one's sections, by the framing toydev_state.c
 * documents: a 12-byte header (magic, version, total length) then sections
 * of id u32, length u32, payload. */
struct sec {
    size_t off, len;    /* whole section, its 8-byte head included */
};

static unsigned split(const uint8_t *s, size_t n, struct sec *out, unsigned max)
{
    unsigned k = 0;
    for (size_t off = 12; off < n; k++) {
        assert_true(k < max && off + 8 <= n);
        out[k] = (struct sec){off, 8 + le32(s + off + 4)};
        off += out[k].len;
    }
    return k;
}

/* header of s, then the sections listed (an index may repeat), total fixed up */
static size_t rebuild(uint8_t *dst, const uint8_t *s, const struct sec *sec,
                      const unsigned *pick, unsigned npick)
{
    size_t len = 12;
    memcpy(dst, s, 12);
    for (unsigned i = 0; i < npick; i++) {
        memcpy(dst + len, s + sec[pick[i]].off, sec[pick[i]].len);
        len += sec[pick[i]].len;
    }
    put_le32(dst + 8, (uint32_t)len);
    return len;
}

static void section_framing(void **state)
{
    struct pair *x = *state;
    make_busy(x->a, x->fa, 9);
    size_t n, bn;
    uint8_t *s = save(x->a, &n), *before = save(x->b, &bn);
    struct sec sec[8];
    assert_int_equal(split(s, n, sec, 8), 4);
    uint8_t *t = malloc(2 * n + 64);
    assert_non_null(t);

    /* any order of the four sections is the same state */
    static const unsigned reversed[] = {3, 2, 1, 0};
    size_t len = rebuild(t, s, sec, reversed, 4);
    assert_int_equal(len, n);
    assert_int_equal(toydev_load(x->b, t, len), 0);
    assert_state(x->b, s, n);
    assert_int_equal(toydev_load(x->b, before, bn), 0);

    /* a section twice, or one missing, is refused */
    static const unsigned twice[][5] = {
        {0, 1, 2, 3, 0}, {0, 1, 2, 3, 1}, {0, 1, 2, 3, 3}, {0, 1, 1, 2, 3},
    };
    for (unsigned i = 0; i < 4; i++) {
        len = rebuild(t, s, sec, twice[i], 5);
        assert_int_equal(toydev_load(x->b, t, len), EINVAL);
    }
    static const unsigned three[][3] = {{1, 2, 3}, {0, 2, 3}, {0, 1, 3}, {0, 1, 2}};
    for (unsigned i = 0; i < 4; i++) {
        len = rebuild(t, s, sec, three[i], 3);
        assert_int_equal(toydev_load(x->b, t, len), EINVAL);
    }

    /* a section whose length disagrees with its id, even if the bytes are there */
    static const unsigned all[] = {0, 1, 2, 3};
    for (unsigned i = 0; i < 4; i++) {
        len = rebuild(t, s, sec, all, 4);
        size_t at = 12;
        for (unsigned j = 0; j < i; j++)
            at += sec[j].len;
        /* grow section i by 8 zero bytes */
        memmove(t + at + sec[i].len + 8, t + at + sec[i].len, len - at - sec[i].len);
        memset(t + at + sec[i].len, 0, 8);
        put_le32(t + at + 4, (uint32_t)sec[i].len);   /* payload was len - 8 */
        put_le32(t + 8, (uint32_t)(len + 8));
        assert_int_equal(toydev_load(x->b, t, len + 8), EINVAL);
    }

    /* unknown section ids, as a fifth section or instead of a known one */
    for (uint32_t id = 0; id < 8; id++) {
        len = rebuild(t, s, sec, all, 4);
        memcpy(t + len, s + sec[1].off, sec[1].len);
        put_le32(t + len, id);
        len += sec[1].len;
        put_le32(t + 8, (uint32_t)len);
        assert_int_equal(toydev_load(x->b, t, len), EINVAL);
    }
    for (uint32_t id = 0; id < 8; id++) {     /* empty ones too */
        len = rebuild(t, s, sec, all, 4);
        put_le32(t + len, id);
        put_le32(t + len + 4, 0);
        len += 8;
        put_le32(t + 8, (uint32_t)len);
        assert_int_equal(toydev_load(x->b, t, len), EINVAL);
    }
    for (uint32_t id = 5; id < 0x10000; id = id * 3 + 1) {
        len = rebuild(t, s, sec, all, 4);
        put_le32(t + 12 + sec[0].len, id);
        assert_int_equal(toydev_load(x->b, t, len), EINVAL);
    }
    assert_state(x->b, before, bn);
    free(t);
    free(s);
    free(before);
}

/* the config section starts where the stream first carries vendor and device IDs */
static size_t config_at(const uint8_t *s, size_t n)
{
    for (size_t off = 0; off + 4 <= n; off++)
        if (le32(s + off) == ((uint32_t)TOYDEV_DEVICE_ID << 16 | TOYDEV_VENDOR_ID))
            return off;
    fail_msg("no config image in the stream");
    return 0;
}

static void impossible_states(void **state)
{
    struct pair *x = *state;
    make_busy(x->a, x->fa, 4);
    size_t n, bn;
    uint8_t *s = save(x->a, &n), *before = save(x->b, &bn);
    size_t cfg = config_at(s, n);
    static const struct { unsigned off; uint8_t xor; bool ok; } cases[] = {
        {PCI_VENDOR_ID, 0x01, false},
        {PCI_CLASS_PROG + 2, 0x80, false},
        {PCI_STATUS, PCI_STATUS_CAP_LIST, false},         /* read-only bit */
        {PCI_BASE_ADDRESS_0, 0x08, false},                /* BAR type bits */
        {PCI_BASE_ADDRESS_0 + 1, 0x01, false},            /* below the BAR size */
        {0x41, 0x10, false},                              /* capability chain */
        {0x40 + PCI_PM_CTRL, 0x02, false},                /* D3hot -> D1: unsupported */
        {0x200, 0x01, false},                             /* unimplemented area */
        {PCI_COMMAND, PCI_COMMAND_SERR & 0xff, true},     /* writable: fine */
        {PCI_STATUS + 1, PCI_STATUS_PARITY >> 8, true},   /* W1C: device may set it */
        {PCI_BASE_ADDRESS_0 + 3, 0x01, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s[cfg + cases[i].off] ^= cases[i].xor;
        int rc = toydev_load(x->b, s, n);
        if (cases[i].ok) {
            assert_int_equal(rc, 0);
            assert_state(x->b, s, n);
            assert_int_equal(toydev_load(x->b, before, bn), 0);
        } else {
            assert_int_equal(rc, EINVAL);
            assert_state(x->b, before, bn);
        }
        s[cfg + cases[i].off] ^= cases[i].xor;
    }
    assert_int_equal(toydev_load(x->b, s, n), 0);
    free(s);
    free(before);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(round_trip), T(save_needs_room), T(every_truncation), T(random_corruptions),
        T(every_bit_flip),
        T(section_framing),
        T(impossible_states),
    };
    return cmocka_run_group_tests_name("toydev migration", tests, NULL, NULL);
}
