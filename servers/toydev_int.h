/* Inside the toy device: its state and the calls its files make to each
 * other.  Nothing outside servers/toydev*.c includes this. */
#ifndef TOYDEV_INT_H
#define TOYDEV_INT_H

#include "toydev.h"

#define TOYDEV_DMA_CHUNK (64u * 1024)
#define TOYDEV_MSIX_WORDS (TOYDEV_MSIX_VECTORS * 4)   /* 4 dwords per table entry */
#define TOYDEV_ERRNO_MAX 4095                          /* largest errno a register holds */

struct toydev_regs {
    uint64_t src, dst;
    uint32_t len, status, irq_cause, err;
    uint64_t scratch[TOYDEV_SCRATCH_COUNT];
};

struct toydev {
    struct toydev_ops ops;
    void *ctx;
    uint8_t cfg[TOYDEV_CONFIG_SIZE];
    /* fixed at creation: power-on image, writable bits, write-1-to-clear bits */
    uint8_t cfg_init[TOYDEV_CONFIG_SIZE];
    uint8_t cfg_wmask[TOYDEV_CONFIG_SIZE];
    uint8_t cfg_w1c[TOYDEV_CONFIG_SIZE];
    struct toydev_regs regs;
    uint32_t msix_table[TOYDEV_MSIX_WORDS];
    uint64_t msix_pba;
    int bar2_fd;
    uint8_t *bar2;          /* MAP_SHARED view of bar2_fd */
    uint8_t *dma_buf;       /* TOYDEV_DMA_CHUNK bytes, so a copy never allocates */
};

static inline uint64_t toydev_le_get(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = n; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

static inline void toydev_le_put(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

/* toydev_config.c */
void toydev_config_init(struct toydev *d);
int toydev_config_access(struct toydev *d, uint64_t off, uint8_t *buf, uint32_t count,
                         bool is_write);
bool toydev_config_valid(const struct toydev *d, const uint8_t *cfg);
uint32_t toydev_cfg_get(const struct toydev *d, unsigned off, unsigned n);
void toydev_cfg_set_bits16(struct toydev *d, unsigned off, uint16_t bits);
bool toydev_bus_master(const struct toydev *d);
bool toydev_intx_disabled(const struct toydev *d);
bool toydev_msi_enabled(const struct toydev *d);
bool toydev_msix_enabled(const struct toydev *d);
bool toydev_msix_function_masked(const struct toydev *d);

/* toydev_regs.c (BAR0) */
int toydev_regs_access(struct toydev *d, uint64_t off, uint8_t *buf, uint32_t count, bool is_write);
bool toydev_regs_valid(const struct toydev_regs *r);

/* toydev_dma.c */
void toydev_dma_run(struct toydev *d);

/* toydev_msix.c (BAR4 and interrupt delivery) */
void toydev_msix_reset(struct toydev *d);
int toydev_msix_access(struct toydev *d, uint64_t off, uint8_t *buf, uint32_t count, bool is_write);
bool toydev_msix_valid(const uint8_t *cfg, const uint32_t *table, uint64_t pba);
void toydev_raise_irq(struct toydev *d);
void toydev_msix_deliver_pending(struct toydev *d);

#endif
