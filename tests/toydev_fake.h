/* Fake toydev_ops for the toy device tests: guest memory is a local buffer
 * at GUEST_BASE, interrupts are recorded, and either DMA op can be told to
 * fail.  Functions are static inline so each test uses what it needs. */
#ifndef TOYDEV_FAKE_H
#define TOYDEV_FAKE_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "toydev.h"
#include "vfu_proto.h"

#define GUEST_BASE 0x100000ull
#define GUEST_SIZE (2u << 20)
#define MAX_IRQS 16

struct fake {
    uint8_t *mem;
    int read_rc, write_rc;          /* returned instead of copying when nonzero */
    unsigned reads, writes;
    size_t max_chunk;
    unsigned nirq;
    struct { unsigned index, sub; } irq[MAX_IRQS];
};

static inline int fake_range(uint64_t addr, size_t len)
{
    if (addr < GUEST_BASE || addr - GUEST_BASE > GUEST_SIZE ||
        len > GUEST_SIZE - (addr - GUEST_BASE))
        return EFAULT;
    return 0;
}

static inline int fake_dma_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    struct fake *f = ctx;
    f->reads++;
    if (len > f->max_chunk)
        f->max_chunk = len;
    if (f->read_rc)
        return f->read_rc;
    int rc = fake_range(addr, len);
    if (rc == 0)
        memcpy(buf, f->mem + (addr - GUEST_BASE), len);
    return rc;
}

static inline int fake_dma_write(void *ctx, uint64_t addr, const void *buf, size_t len)
{
    struct fake *f = ctx;
    f->writes++;
    if (f->write_rc)
        return f->write_rc;
    int rc = fake_range(addr, len);
    if (rc == 0)
        memcpy(f->mem + (addr - GUEST_BASE), buf, len);
    return rc;
}

static inline void fake_irq(void *ctx, unsigned index, unsigned sub)
{
    struct fake *f = ctx;
    if (f->nirq < MAX_IRQS) {
        f->irq[f->nirq].index = index;
        f->irq[f->nirq].sub = sub;
    }
    f->nirq++;
}

static const struct toydev_ops fake_ops = {fake_dma_read, fake_dma_write, fake_irq};

static inline struct fake *fake_new(void)
{
    struct fake *f = calloc(1, sizeof *f);
    if (f)
        f->mem = calloc(1, GUEST_SIZE);
    return f;
}

static inline void fake_free(struct fake *f)
{
    if (f)
        free(f->mem);
    free(f);
}

/* little accessors returning the value read; a failed access returns a
 * poison value so the caller's assertion fails */
static inline uint64_t rd(struct toydev *d, unsigned region, uint64_t off, uint32_t n)
{
    uint8_t b[8] = {0};
    if (toydev_access(d, region, off, b, n, false) != 0)
        return 0xdeadbeefdeadbeefull;
    uint64_t v = 0;
    for (unsigned i = n; i-- > 0;)
        v = v << 8 | b[i];
    return v;
}

static inline int wr(struct toydev *d, unsigned region, uint64_t off, uint64_t v, uint32_t n)
{
    uint8_t b[8];
    for (unsigned i = 0; i < n; i++, v >>= 8)
        b[i] = (uint8_t)v;
    return toydev_access(d, region, off, b, n, true);
}

static inline uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

#define CFG VFU_PCI_REGION_CONFIG
#define BAR0 VFU_PCI_REGION_BAR0
#define BAR2 VFU_PCI_REGION_BAR2
#define BAR4 VFU_PCI_REGION_BAR4


/* The fixture most toy-device tests share: one device over one fake guest. */
struct fx {
    struct fake *f;
    struct toydev *d;
};

static inline int fx_setup(void **state)
{
    struct fx *x = calloc(1, sizeof *x);
    int err = 0;
    if (!x || !(x->f = fake_new()))
        return -1;
    x->d = toydev_create(&fake_ops, x->f, &err);
    if (!x->d)
        return -1;
    *state = x;
    return 0;
}

static inline int fx_teardown(void **state)
{
    struct fx *x = *state;
    toydev_destroy(x->d);
    fake_free(x->f);
    free(x);
    return 0;
}

#endif
