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
 *   the other indexes exist with size 0 (BAR3 is the upper half of BAR2).
 *
 * Accesses toydev_access accepts (anything else is EINVAL):
 *   CONFIG reads: any span inside the 4 KiB (QEMU reads the whole space in
 *          one go; reads have no side effects);  writes: 1, 2 or 4 bytes,
 *          naturally aligned (a config write transaction is at most a dword).
 *   BAR0   1, 2, 4 or 8 bytes, naturally aligned.
 *   BAR2   any span inside the region.
 *   BAR4   4 or 8 bytes, naturally aligned (the MSI-X rules).
 *
 * Device rules worth knowing (PCI facts; see toydev_config.c, toydev_dma.c):
 *   - DMA needs Bus Master Enable in the command register, else the copy
 *     ends with ERROR and ERRNO = EPERM; a failed dma_read/dma_write also
 *     sets Received Master Abort in the status register.
 *   - interrupt delivery after a copy: MSI-X if enabled (vector 0; if masked,
 *     its PBA bit is set and the message goes out when unmasked), else MSI
 *     if enabled, else INTx unless Interrupt Disable is set.
 *   - the Memory Space Enable bit and the power state are recorded but not
 *     enforced on BAR accesses (PMCSR advertises No_Soft_Reset). */
#ifndef TOYDEV_H
#define TOYDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOYDEV_VENDOR_ID 0x1234
#define TOYDEV_DEVICE_ID 0x11f0
#define TOYDEV_SUBSYS_VENDOR_ID 0x1234
#define TOYDEV_SUBSYS_ID 0x0001
#define TOYDEV_REVISION 0x01
/* class 0xff: "device does not fit any defined class" (subclass 0, prog-if 0) */
#define TOYDEV_CLASS_CODE 0xff0000u
#define TOYDEV_NUM_REGIONS 9        /* BAR0-5, ROM, CONFIG, VGA */
#define TOYDEV_NUM_IRQS 5           /* INTX, MSI, MSIX, ERR, REQ */
#define TOYDEV_MSIX_VECTORS 4
#define TOYDEV_CONFIG_SIZE 4096
#define TOYDEV_BAR0_SIZE 4096       /* 32-bit memory BAR */
#define TOYDEV_BAR2_SIZE 65536      /* 64-bit prefetchable memory BAR (BAR2+BAR3) */
#define TOYDEV_BAR4_SIZE 4096       /* 32-bit memory BAR */
/* capability list, in walk order: PM -> MSI -> MSI-X -> PCI Express -> end */
#define TOYDEV_CAP_PM   0x40
#define TOYDEV_CAP_MSI  0x50        /* 64-bit address, 1 vector */
#define TOYDEV_CAP_MSIX 0x70
#define TOYDEV_CAP_EXP  0x80        /* endpoint, capability version 2 */

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
    /* guest memory, by DMA address; 0 or a positive errno (e.g. EFAULT:
     * not mapped), the convention of every function in servers/ */
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

/* NULL with *err = errno on failure (EINVAL: ops or one of its members is
 * NULL).  The ops are copied; ctx is passed back to every op. */
struct toydev *toydev_create(const struct toydev_ops *ops, void *ctx, int *err);
void toydev_destroy(struct toydev *d);

/* index < TOYDEV_NUM_REGIONS */
void toydev_region_info(const struct toydev *d, unsigned index, struct toydev_region *r);
/* index < TOYDEV_NUM_IRQS */
void toydev_irq_info(unsigned index, struct toydev_irq *irq);

/* Region access on behalf of REGION_READ / REGION_WRITE: 0 or a positive
 * errno (EINVAL: no such region, outside it, or an access size/alignment the
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
/* 0 with toydev_state_size() bytes written, or ENOSPC when cap is less */
int toydev_save(const struct toydev *d, uint8_t *buf, size_t cap);
/* 0, or EINVAL for a stream that is truncated, malformed, from another
 * format version, or describes a state this device cannot be in */
int toydev_load(struct toydev *d, const uint8_t *buf, size_t len);

#endif
