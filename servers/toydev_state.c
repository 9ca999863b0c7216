/* The toy device's migration stream.  All integers little-endian:
 *
 *   header:  magic u32 | format version u32 | total length u32 (header included)
 *   then sections, each:  id u32 | payload length u32 | payload
 *     CONFIG  the 4 KiB configuration space image
 *     REGS    BAR0: src u64, dst u64, len, status, irq_cause, errno (u32 each),
 *             scratch u64 x TOYDEV_SCRATCH_COUNT
 *     BAR2    the 64 KiB of BAR2 memory
 *     MSIX    the table (u32 x 4 per vector) then the PBA (u64)
 *
 * The stream comes from a peer, so load trusts nothing: every section must
 * appear exactly once with exactly its length, the total must match the
 * bytes given, and the state described must be one this device could reach
 * (read-only config bits as at power-on, no undefined status bits...).
 * Load decodes into a staging copy and commits only once all of it passed,
 * so a rejected stream leaves the device as it was.  There is no checksum:
 * the transport is reliable, and a hostile peer could forge one anyway. */
#include <errno.h>
#include <string.h>

#include "toydev_int.h"

#define MAGIC 0x53796f54u   /* "Toys" */
#define VERSION 1u
#define HDR_LEN 12u
#define SEC_HDR_LEN 8u

enum { SEC_CONFIG = 1, SEC_REGS, SEC_BAR2, SEC_MSIX, SEC_END };

#define REGS_LEN (8 + 8 + 4 * 4 + 8 * TOYDEV_SCRATCH_COUNT)
#define MSIX_LEN (4 * TOYDEV_MSIX_WORDS + 8)

static const uint32_t sec_len[SEC_END] = {
    [SEC_CONFIG] = TOYDEV_CONFIG_SIZE,
    [SEC_REGS] = REGS_LEN,
    [SEC_BAR2] = TOYDEV_BAR2_SIZE,
    [SEC_MSIX] = MSIX_LEN,
};

#define TOTAL_LEN                                                                          \
    (HDR_LEN + 4 * SEC_HDR_LEN + TOYDEV_CONFIG_SIZE + REGS_LEN + TOYDEV_BAR2_SIZE + MSIX_LEN)

/* a sequential little-endian writer / reader over a bounded buffer */
struct cursor {
    uint8_t *w;
    const uint8_t *r;
};

static void put(struct cursor *c, uint64_t v, unsigned n)
{
    toydev_le_put(c->w, v, n);
    c->w += n;
}

static uint64_t get(struct cursor *c, unsigned n)
{
    uint64_t v = toydev_le_get(c->r, n);
    c->r += n;
    return v;
}

size_t toydev_state_size(const struct toydev *d)
{
    (void)d;
    return TOTAL_LEN;
}

int toydev_save(const struct toydev *d, uint8_t *buf, size_t cap)
{
    if (!buf || cap < TOTAL_LEN)
        return ENOSPC;
    struct cursor c = {.w = buf};
    put(&c, MAGIC, 4);
    put(&c, VERSION, 4);
    put(&c, TOTAL_LEN, 4);

    put(&c, SEC_CONFIG, 4);
    put(&c, sec_len[SEC_CONFIG], 4);
    memcpy(c.w, d->cfg, TOYDEV_CONFIG_SIZE);
    c.w += TOYDEV_CONFIG_SIZE;

    const struct toydev_regs *r = &d->regs;
    put(&c, SEC_REGS, 4);
    put(&c, sec_len[SEC_REGS], 4);
    put(&c, r->src, 8);
    put(&c, r->dst, 8);
    put(&c, r->len, 4);
    put(&c, r->status, 4);
    put(&c, r->irq_cause, 4);
    put(&c, r->err, 4);
    for (unsigned i = 0; i < TOYDEV_SCRATCH_COUNT; i++)
        put(&c, r->scratch[i], 8);

    put(&c, SEC_BAR2, 4);
    put(&c, sec_len[SEC_BAR2], 4);
    memcpy(c.w, d->bar2, TOYDEV_BAR2_SIZE);
    c.w += TOYDEV_BAR2_SIZE;

    put(&c, SEC_MSIX, 4);
    put(&c, sec_len[SEC_MSIX], 4);
    for (unsigned w = 0; w < TOYDEV_MSIX_WORDS; w++)
        put(&c, d->msix_table[w], 4);
    put(&c, d->msix_pba, 8);
    return 0;
}

struct staged {
    uint8_t cfg[TOYDEV_CONFIG_SIZE];
    struct toydev_regs regs;
    uint32_t msix_table[TOYDEV_MSIX_WORDS];
    uint64_t msix_pba;
    const uint8_t *bar2;    /* stays in the caller's buffer until commit */
};

/* payload of section `id`, exactly sec_len[id] bytes at c->r */
static void decode(struct staged *s, unsigned id, struct cursor *c)
{
    switch (id) {
    case SEC_CONFIG:
        memcpy(s->cfg, c->r, TOYDEV_CONFIG_SIZE);
        break;
    case SEC_REGS:
        s->regs.src = get(c, 8);
        s->regs.dst = get(c, 8);
        s->regs.len = (uint32_t)get(c, 4);
        s->regs.status = (uint32_t)get(c, 4);
        s->regs.irq_cause = (uint32_t)get(c, 4);
        s->regs.err = (uint32_t)get(c, 4);
        for (unsigned i = 0; i < TOYDEV_SCRATCH_COUNT; i++)
            s->regs.scratch[i] = get(c, 8);
        break;
    case SEC_BAR2:
        s->bar2 = c->r;
        break;
    case SEC_MSIX:
        for (unsigned w = 0; w < TOYDEV_MSIX_WORDS; w++)
            s->msix_table[w] = (uint32_t)get(c, 4);
        s->msix_pba = get(c, 8);
        break;
    }
}

int toydev_load(struct toydev *d, const uint8_t *buf, size_t len)
{
    if (!buf || len < HDR_LEN)
        return EINVAL;
    struct cursor c = {.r = buf};
    if (get(&c, 4) != MAGIC || get(&c, 4) != VERSION || get(&c, 4) != len)
        return EINVAL;

    static struct staged zero;
    struct staged s = zero;
    unsigned seen = 0;
    const uint8_t *end = buf + len;
    while (c.r != end) {
        if ((size_t)(end - c.r) < SEC_HDR_LEN)
            return EINVAL;
        uint32_t id = (uint32_t)get(&c, 4), n = (uint32_t)get(&c, 4);
        if (id == 0 || id >= SEC_END || (seen & 1u << id) || n != sec_len[id] ||
            n > (size_t)(end - c.r))
            return EINVAL;
        seen |= 1u << id;
        const uint8_t *next = c.r + n;
        decode(&s, id, &c);
        c.r = next;
    }
    if (seen != ((1u << SEC_END) - 2) || !toydev_config_valid(d, s.cfg) ||
        !toydev_regs_valid(&s.regs) || !toydev_msix_valid(s.cfg, s.msix_table, s.msix_pba))
        return EINVAL;

    /* commit: nothing below can fail */
    memcpy(d->cfg, s.cfg, sizeof d->cfg);
    d->regs = s.regs;
    memcpy(d->msix_table, s.msix_table, sizeof d->msix_table);
    d->msix_pba = s.msix_pba;
    memcpy(d->bar2, s.bar2, TOYDEV_BAR2_SIZE);
    return 0;
}
