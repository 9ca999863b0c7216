/* The toy device's life cycle, region and IRQ descriptions, and the
 * dispatch of region accesses to the file that owns each region.  BAR2 is
 * plain memory in a memfd: the device and any client mmap of the fd see the
 * same bytes, so region accesses are simple copies. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "toydev_int.h"
#include "vfu_proto.h"

/* BAR2's first page stays trapped; the rest may be mmapped by the client */
#define BAR2_TRAPPED 4096u

struct toydev *toydev_create(const struct toydev_ops *ops, void *ctx, int *err)
{
    int e = EINVAL;
    struct toydev *d = NULL;
    if (!ops || !ops->dma_read || !ops->dma_write || !ops->irq)
        goto fail;
    e = ENOMEM;
    d = calloc(1, sizeof *d);
    if (!d)
        goto fail;
    d->ops = *ops;
    d->ctx = ctx;
    d->bar2 = MAP_FAILED;
    d->bar2_fd = memfd_create("toydev-bar2", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    d->dma_buf = malloc(TOYDEV_DMA_CHUNK);
    if (d->bar2_fd < 0 || !d->dma_buf || ftruncate(d->bar2_fd, TOYDEV_BAR2_SIZE) != 0)
        goto fail_errno;
    /* The fd goes to every client (GET_REGION_INFO).  A client that could
     * shrink it would make the device's own accesses to BAR2 (REGION_READ /
     * WRITE, reset, migration save) fault with SIGBUS, for every later
     * client too; sealed, its size is fixed for good.  F_SEAL_SEAL keeps a
     * client from adding seals of its own (F_SEAL_FUTURE_WRITE would stop
     * the next client's writable mmap). */
    if (fcntl(d->bar2_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
        goto fail_errno;
    d->bar2 = mmap(NULL, TOYDEV_BAR2_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, d->bar2_fd, 0);
    if (d->bar2 == MAP_FAILED)
        goto fail_errno;
    toydev_config_init(d);
    toydev_reset(d);
    return d;

fail_errno:
    e = errno ? errno : ENOMEM;
fail:
    toydev_destroy(d);
    if (err)
        *err = e;
    return NULL;
}

void toydev_destroy(struct toydev *d)
{
    if (!d)
        return;
    if (d->bar2 != MAP_FAILED)
        munmap(d->bar2, TOYDEV_BAR2_SIZE);
    if (d->bar2_fd >= 0)
        close(d->bar2_fd);
    free(d->dma_buf);
    free(d);
}

void toydev_region_info(const struct toydev *d, unsigned index, struct toydev_region *r)
{
    const uint32_t rw = VFU_REGION_INFO_FLAGS_READ | VFU_REGION_INFO_FLAGS_WRITE;
    memset(r, 0, sizeof *r);
    r->fd = -1;
    switch (index) {
    case VFU_PCI_REGION_BAR0:
        r->size = TOYDEV_BAR0_SIZE;
        r->flags = rw;
        break;
    case VFU_PCI_REGION_BAR2:
        r->size = TOYDEV_BAR2_SIZE;
        r->flags = rw | VFU_REGION_INFO_FLAGS_MMAP;
        r->fd = d->bar2_fd;
        r->fd_offset = 0;
        r->nsparse = 1;
        r->sparse[0] = (struct toydev_sparse){BAR2_TRAPPED, TOYDEV_BAR2_SIZE - BAR2_TRAPPED};
        break;
    case VFU_PCI_REGION_BAR4:
        r->size = TOYDEV_BAR4_SIZE;
        r->flags = rw;
        break;
    case VFU_PCI_REGION_CONFIG:
        r->size = TOYDEV_CONFIG_SIZE;
        r->flags = rw;
        break;
    default:
        break;
    }
}

void toydev_irq_info(unsigned index, struct toydev_irq *irq)
{
    const uint32_t efd = VFU_IRQ_INFO_FLAGS_EVENTFD;
    switch (index) {
    case VFU_PCI_IRQ_INTX:
        *irq = (struct toydev_irq){1, efd | VFU_IRQ_INFO_FLAGS_MASKABLE |
                                          VFU_IRQ_INFO_FLAGS_AUTOMASKED};
        break;
    case VFU_PCI_IRQ_MSI:
        *irq = (struct toydev_irq){1, efd | VFU_IRQ_INFO_FLAGS_NORESIZE};
        break;
    case VFU_PCI_IRQ_MSIX:
        *irq = (struct toydev_irq){TOYDEV_MSIX_VECTORS, efd | VFU_IRQ_INFO_FLAGS_NORESIZE};
        break;
    case VFU_PCI_IRQ_ERR:
    case VFU_PCI_IRQ_REQ:
        *irq = (struct toydev_irq){1, efd};
        break;
    default:
        *irq = (struct toydev_irq){0, 0};
        break;
    }
}

static int bar2_access(struct toydev *d, uint64_t off, uint8_t *buf, uint32_t count, bool is_write)
{
    if (off >= TOYDEV_BAR2_SIZE || count == 0 || count > TOYDEV_BAR2_SIZE - off)
        return EINVAL;
    if (is_write)
        memcpy(d->bar2 + off, buf, count);
    else
        memcpy(buf, d->bar2 + off, count);
    return 0;
}

int toydev_access(struct toydev *d, unsigned region, uint64_t offset, void *buf, uint32_t count,
                  bool is_write)
{
    switch (region) {
    case VFU_PCI_REGION_BAR0:
        return toydev_regs_access(d, offset, buf, count, is_write);
    case VFU_PCI_REGION_BAR2:
        return bar2_access(d, offset, buf, count, is_write);
    case VFU_PCI_REGION_BAR4:
        return toydev_msix_access(d, offset, buf, count, is_write);
    case VFU_PCI_REGION_CONFIG:
        return toydev_config_access(d, offset, buf, count, is_write);
    default:
        return EINVAL;
    }
}

void toydev_reset(struct toydev *d)
{
    memcpy(d->cfg, d->cfg_init, sizeof d->cfg);
    memset(&d->regs, 0, sizeof d->regs);
    toydev_msix_reset(d);
    memset(d->bar2, 0, TOYDEV_BAR2_SIZE);
}
