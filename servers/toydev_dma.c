/* The DMA engine: copy LEN bytes of guest memory from SRC to DST, report
 * the outcome in STATUS / ERRNO / IRQ_CAUSE, then interrupt.
 *
 * The copy goes forward in TOYDEV_DMA_CHUNK pieces, as a real engine moves
 * bursts: overlapping ranges are not memmove()d, and a failure part-way
 * leaves the chunks before it written.  Device-side refusals (no Bus Master
 * Enable, LEN above TOYDEV_DMA_MAX, a range wrapping past 2^64) issue no
 * transaction; a failed transaction also sets Received Master Abort in the
 * PCI status register, as a master that got no completion would. */
#include <errno.h>
#include <linux/pci_regs.h>

#include "toydev_int.h"

static bool wraps(uint64_t addr, uint32_t len)
{
    return len != 0 && addr + (len - 1) < addr;
}

/* an op's result as the errno register holds it; anything that is not an
 * errno counts as EIO */
static uint32_t op_errno(int rc)
{
    return rc > 0 && rc <= TOYDEV_ERRNO_MAX ? (uint32_t)rc : EIO;
}

static uint32_t copy(struct toydev *d)
{
    const struct toydev_regs *r = &d->regs;
    if (!toydev_bus_master(d))
        return EPERM;
    if (r->len > TOYDEV_DMA_MAX || wraps(r->src, r->len) || wraps(r->dst, r->len))
        return EINVAL;
    for (uint32_t done = 0; done < r->len;) {
        uint32_t n = r->len - done < TOYDEV_DMA_CHUNK ? r->len - done : TOYDEV_DMA_CHUNK;
        int rc = d->ops.dma_read(d->ctx, r->src + done, d->dma_buf, n);
        if (rc == 0)
            rc = d->ops.dma_write(d->ctx, r->dst + done, d->dma_buf, n);
        if (rc != 0) {
            toydev_cfg_set_bits16(d, PCI_STATUS, PCI_STATUS_REC_MASTER_ABORT);
            return op_errno(rc);
        }
        done += n;
    }
    return 0;
}

void toydev_dma_run(struct toydev *d)
{
    uint32_t err = copy(d);
    uint32_t bit = err ? TOYDEV_STATUS_ERROR : TOYDEV_STATUS_DONE;
    if (err)
        d->regs.err = err;
    d->regs.status |= bit;
    d->regs.irq_cause |= bit;
    toydev_raise_irq(d);
}
