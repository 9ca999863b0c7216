/* The reference server's toy PCI device, with no knowledge of vfio-user
 * messages: the protocol core (servers/srv_*.c) turns DEVICE_GET_REGION_INFO,
 * REGION_READ/WRITE, SET_IRQS and migration data into these calls, and the
 * device reaches guest memory and raises interrupts only through toydev_ops.
 *
 * Regions follow the VFIO PCI index convention (VFU_PCI_REGION_*):
 *   BAR0   4 KiB registers of a DMA engine plus scratch registers (trapped)
 *   BAR2   64 KiB memory, memfd-backed, mmappable except its first page
 *          (sparse mmap keeps it trapped)
 *   BAR4   4 KiB: MSI-X table at 0, PBA at TOYDEV_MSIX_PBA_OFFSET (trapped)
 *   CONFIG 4 KiB PCI Express configuration space
 *   the other indexes exist with size 0. */
#ifndef TOYDEV_H
#define TOYDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOYDEV_VENDOR_ID 0x1234
#define TOYDEV_DEVICE_ID 0x11f0
#define TOYDEV_NUM_REGIONS 9        /* BAR0-5, ROM, CONFIG, VGA */
#define TOYDEV_NUM_IRQS 5           /* INTX, MSI, MSIX, ERR, REQ */
#define TOYDEV_MSIX_VECTORS 4

/* BAR0 register map (device facts, not protocol layouts) */
#define TOYDEV_REG_SRC        0x00  /* u64 guest address to copy from */
#define TOYDEV_REG_DST        0x08  /* u64 guest address to copy to */
#define TOYDEV_REG_LEN        0x10  /* u32 bytes to copy (<= TOYDEV_DMA_MAX) */
#define TOYDEV_REG_DOORBELL   0x14  /* u32: writing 1 runs the copy */
#define TOYDEV_REG_STATUS     0x18  /* u32: DONE | ERROR, write 1 to clear */
#define TOYDEV_REG_IRQ_CAUSE  0x1c  /* u32: DONE | ERROR, write 1 to clear */
#define TOYDEV_REG_ID         0x20  /* u32 read-only TOYDEV_ID_VALUE */
#define TOYDEV_REG_ERRNO      0x24  /* u32 read-only: errno of the failed copy */
#define TOYDEV_REG_SCRATCH    0x100 /* 8 x u64 read/write scratch */
#define TOYDEV_SCRATCH_COUNT  8
#define TOYDEV_STATUS_DONE    0x1
#define TOYDEV_STATUS_ERROR   0x2
#define TOYDEV_ID_VALUE       0x31796f74u  /* "toy1" */
#define TOYDEV_DMA_MAX        (1u << 20)
#define TOYDEV_MSIX_PBA_OFFSET 0x800

struct toydev;

struct toydev_ops {
    /* guest memory, by DMA address; 0 or -errno (e.g. -EFAULT: not mapped) */
    int (*dma_read)(void *ctx, uint64_t addr, void *buf, size_t len);
    int (*dma_write)(void *ctx, uint64_t addr, const void *buf, size_t len);
    /* raise interrupt `index` (VFU_PCI_IRQ_*), sub-index `sub` */
    void (*irq)(void *ctx, unsigned index, unsigned sub);
};

struct toydev_sparse { uint64_t offset, size; };

struct toydev_region {
    uint64_t size;
    uint32_t flags;           /* VFU_REGION_INFO_FLAGS_READ | _WRITE | _MMAP */
    int fd;                   /* mmappable backing (owned by the device), or -1 */
    uint64_t fd_offset;       /* offset to give mmap() */
    unsigned nsparse;         /* areas the client may mmap; 0 = all of it */
    struct toydev_sparse sparse[2];
};

struct toydev_irq { uint32_t count; uint32_t flags; /* VFU_IRQ_INFO_FLAGS_* */ };

/* NULL with *err = errno on failure */
struct toydev *toydev_create(const struct toydev_ops *ops, void *ctx, int *err);
void toydev_destroy(struct toydev *d);

/* index < TOYDEV_NUM_REGIONS */
void toydev_region_info(const struct toydev *d, unsigned index, struct toydev_region *r);
/* index < TOYDEV_NUM_IRQS */
void toydev_irq_info(unsigned index, struct toydev_irq *irq);

/* Region access on behalf of REGION_READ / REGION_WRITE: 0 or -errno
 * (-EINVAL: no such region, outside it, or an access size/alignment the
 * region does not accept).  Writes may run the DMA engine and raise IRQs. */
int toydev_access(struct toydev *d, unsigned region, uint64_t offset, void *buf, uint32_t count,
                  bool is_write);

/* DEVICE_RESET: registers and config space back to power-on values;
 * BAR2 memory is cleared too. */
void toydev_reset(struct toydev *d);

/* Migration: the whole device state (config space, registers, BAR2, MSI-X
 * table) as a self-describing byte stream.  Load validates everything it
 * reads (it arrives from a peer) and leaves the device unchanged on error. */
size_t toydev_state_size(const struct toydev *d);
int toydev_save(const struct toydev *d, uint8_t *buf, size_t cap);   /* bytes or -errno */
int toydev_load(struct toydev *d, const uint8_t *buf, size_t len);   /* 0 or -errno */

#endif
