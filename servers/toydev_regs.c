/* BAR0: the DMA engine's registers and the scratch registers.
 *
 * Every register is little-endian and may be reached by any naturally
 * aligned 1/2/4/8-byte access, so a 64-bit SRC can be written as one qword
 * or two dwords, and one qword write at LEN can set LEN and ring DOORBELL
 * together (LEN is applied first).  Bytes no register covers read 0 and
 * ignore writes. */
#include <errno.h>

#include "toydev_int.h"

enum kind { RW, RO, W1C, DOORBELL };

struct reg {
    uint32_t off;
    uint8_t width;
    uint8_t kind;
};

static const struct reg regs[] = {
    {TOYDEV_REG_SRC, 8, RW},       {TOYDEV_REG_DST, 8, RW},
    {TOYDEV_REG_LEN, 4, RW},       {TOYDEV_REG_DOORBELL, 4, DOORBELL},
    {TOYDEV_REG_STATUS, 4, W1C},   {TOYDEV_REG_IRQ_CAUSE, 4, W1C},
    {TOYDEV_REG_ID, 4, RO},        {TOYDEV_REG_ERRNO, 4, RO},
};
#define NREGS (sizeof regs / sizeof regs[0])
#define SCRATCH_END (TOYDEV_REG_SCRATCH + 8 * TOYDEV_SCRATCH_COUNT)

/* the register at `off`, the scratch registers included; false for a hole */
static bool find(uint32_t off, struct reg *out)
{
    for (size_t i = 0; i < NREGS; i++)
        if (off >= regs[i].off && off < regs[i].off + regs[i].width) {
            *out = regs[i];
            return true;
        }
    if (off >= TOYDEV_REG_SCRATCH && off < SCRATCH_END) {
        *out = (struct reg){TOYDEV_REG_SCRATCH + (off - TOYDEV_REG_SCRATCH) / 8 * 8, 8, RW};
        return true;
    }
    return false;
}

static uint64_t *slot64(struct toydev *d, uint32_t off)
{
    if (off == TOYDEV_REG_SRC)
        return &d->regs.src;
    if (off == TOYDEV_REG_DST)
        return &d->regs.dst;
    return &d->regs.scratch[(off - TOYDEV_REG_SCRATCH) / 8];
}

static uint32_t *slot32(struct toydev *d, uint32_t off)
{
    switch (off) {
    case TOYDEV_REG_LEN: return &d->regs.len;
    case TOYDEV_REG_STATUS: return &d->regs.status;
    case TOYDEV_REG_IRQ_CAUSE: return &d->regs.irq_cause;
    default: return &d->regs.err;
    }
}

static uint64_t get(struct toydev *d, const struct reg *r)
{
    if (r->kind == DOORBELL)
        return 0;
    if (r->off == TOYDEV_REG_ID)
        return TOYDEV_ID_VALUE;
    return r->width == 8 ? *slot64(d, r->off) : *slot32(d, r->off);
}

/* `mask` selects the bytes the access wrote; true when it rang the doorbell */
static bool put(struct toydev *d, const struct reg *r, uint64_t val, uint64_t mask)
{
    switch (r->kind) {
    case RO:
        return false;
    case DOORBELL:
        return val & mask & 1;
    case W1C:
        *slot32(d, r->off) &= (uint32_t)~(val & mask);
        return false;
    default:
        if (r->width == 8) {
            uint64_t *p = slot64(d, r->off);
            *p = (*p & ~mask) | (val & mask);
        } else {
            uint32_t *p = slot32(d, r->off);
            *p = (uint32_t)((*p & ~mask) | (val & mask));
        }
        return false;
    }
}

int toydev_regs_access(struct toydev *d, uint64_t off, uint8_t *buf, uint32_t count, bool is_write)
{
    if ((count != 1 && count != 2 && count != 4 && count != 8) || off % count != 0 ||
        off >= TOYDEV_BAR0_SIZE || count > TOYDEV_BAR0_SIZE - off)
        return EINVAL;
    bool ring = false;
    uint32_t o = (uint32_t)off;
    while (o < off + count) {
        struct reg r;
        if (!find(o, &r)) {
            if (!is_write)
                buf[o - off] = 0;
            o++;
            continue;
        }
        /* the bytes of this register the access covers */
        uint32_t lo = o, hi = r.off + r.width;
        if (hi > off + count)
            hi = (uint32_t)(off + count);
        unsigned shift = 8 * (lo - r.off), n = hi - lo;
        uint64_t bytes_mask = n == 8 ? ~0ull : ((1ull << 8 * n) - 1);
        if (is_write) {
            uint64_t v = toydev_le_get(buf + (lo - off), n);
            ring |= put(d, &r, v << shift, bytes_mask << shift);
        } else {
            toydev_le_put(buf + (lo - off), get(d, &r) >> shift, n);
        }
        o = hi;
    }
    if (ring)
        toydev_dma_run(d);
    return 0;
}

bool toydev_regs_valid(const struct toydev_regs *r)
{
    const uint32_t bits = TOYDEV_STATUS_DONE | TOYDEV_STATUS_ERROR;
    return !(r->status & ~bits) && !(r->irq_cause & ~bits) && r->err <= TOYDEV_ERRNO_MAX;
}
