/* BAR4 (the MSI-X table and pending bit array) and interrupt delivery.
 *
 * Table entries follow the MSI-X rules: the address is dword aligned (its
 * two low bits read 0), only the Mask bit of Vector Control is writable, and
 * the PBA is read-only.  A message that finds its vector (or the whole
 * function) masked sets its PBA bit and goes out once unmasked. */
#include <errno.h>
#include <linux/pci_regs.h>

#include "toydev_int.h"
#include "vfu_proto.h"

#define TABLE_BYTES (TOYDEV_MSIX_VECTORS * PCI_MSIX_ENTRY_SIZE)
#define PBA_BYTES 8     /* one qword holds the pending bits of up to 64 vectors */
#define CTRL_WORD (PCI_MSIX_ENTRY_VECTOR_CTRL / 4)
#define ADDR_LO_WORD (PCI_MSIX_ENTRY_LOWER_ADDR / 4)

_Static_assert(TOYDEV_MSIX_VECTORS < 64, "PBA is one qword");
_Static_assert(TABLE_BYTES <= TOYDEV_MSIX_PBA_OFFSET, "table and PBA overlap");
_Static_assert(TOYDEV_MSIX_PBA_OFFSET % 8 == 0 &&
               TOYDEV_MSIX_PBA_OFFSET + PBA_BYTES <= TOYDEV_BAR4_SIZE, "PBA placement");

/* writable bits of each dword of an entry */
static const uint32_t entry_wmask[4] = {
    [ADDR_LO_WORD] = 0xfffffffcu,
    [PCI_MSIX_ENTRY_UPPER_ADDR / 4] = 0xffffffffu,
    [PCI_MSIX_ENTRY_DATA / 4] = 0xffffffffu,
    [CTRL_WORD] = PCI_MSIX_ENTRY_CTRL_MASKBIT,
};

void toydev_msix_reset(struct toydev *d)
{
    for (unsigned w = 0; w < TOYDEV_MSIX_WORDS; w++)
        d->msix_table[w] = w % 4 == CTRL_WORD ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0;
    d->msix_pba = 0;
}

static bool vector_masked(const struct toydev *d, unsigned v)
{
    return toydev_msix_function_masked(d) ||
           (d->msix_table[v * 4 + CTRL_WORD] & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

static uint32_t read_dword(const struct toydev *d, uint32_t off)
{
    if (off < TABLE_BYTES)
        return d->msix_table[off / 4];
    if (off >= TOYDEV_MSIX_PBA_OFFSET && off < TOYDEV_MSIX_PBA_OFFSET + PBA_BYTES)
        return (uint32_t)(d->msix_pba >> 8 * (off - TOYDEV_MSIX_PBA_OFFSET));
    return 0;
}

int toydev_msix_access(struct toydev *d, uint64_t off, uint8_t *buf, uint32_t count, bool is_write)
{
    if ((count != 4 && count != 8) || off % count != 0 || off >= TOYDEV_BAR4_SIZE ||
        count > TOYDEV_BAR4_SIZE - off)
        return EINVAL;
    for (uint32_t i = 0; i < count; i += 4) {
        uint32_t o = (uint32_t)off + i;
        if (!is_write) {
            toydev_le_put(buf + i, read_dword(d, o), 4);
        } else if (o < TABLE_BYTES) {
            uint32_t *w = &d->msix_table[o / 4], m = entry_wmask[o / 4 % 4];
            *w = (*w & ~m) | ((uint32_t)toydev_le_get(buf + i, 4) & m);
        }
    }
    if (is_write)
        toydev_msix_deliver_pending(d);
    return 0;
}

/* Reserved bits clear, no pending bit past the last vector, and no message
 * left pending that the device would already have sent (MSI-X enabled, the
 * function and the vector unmasked). */
bool toydev_msix_valid(const uint8_t *cfg, const uint32_t *table, uint64_t pba)
{
    for (unsigned w = 0; w < TOYDEV_MSIX_WORDS; w++)
        if (table[w] & ~entry_wmask[w % 4])
            return false;
    if (pba >> TOYDEV_MSIX_VECTORS)
        return false;
    uint16_t flags = (uint16_t)toydev_le_get(cfg + TOYDEV_CAP_MSIX + PCI_MSIX_FLAGS, 2);
    if (!(flags & PCI_MSIX_FLAGS_ENABLE) || (flags & PCI_MSIX_FLAGS_MASKALL))
        return true;
    for (unsigned v = 0; v < TOYDEV_MSIX_VECTORS; v++)
        if ((pba >> v & 1) && !(table[v * 4 + CTRL_WORD] & PCI_MSIX_ENTRY_CTRL_MASKBIT))
            return false;
    return true;
}

void toydev_msix_deliver_pending(struct toydev *d)
{
    if (!toydev_msix_enabled(d))
        return;
    for (unsigned v = 0; v < TOYDEV_MSIX_VECTORS; v++) {
        uint64_t bit = 1ull << v;
        if ((d->msix_pba & bit) && !vector_masked(d, v)) {
            d->msix_pba &= ~bit;
            d->ops.irq(d->ctx, VFU_PCI_IRQ_MSIX, v);
        }
    }
}

/* the engine's one interrupt source uses vector 0 of whichever mechanism
 * software enabled, MSI-X first */
void toydev_raise_irq(struct toydev *d)
{
    if (toydev_msix_enabled(d)) {
        if (vector_masked(d, 0))
            d->msix_pba |= 1;
        else
            d->ops.irq(d->ctx, VFU_PCI_IRQ_MSIX, 0);
    } else if (toydev_msi_enabled(d)) {
        d->ops.irq(d->ctx, VFU_PCI_IRQ_MSI, 0);
    } else if (!toydev_intx_disabled(d)) {
        d->ops.irq(d->ctx, VFU_PCI_IRQ_INTX, 0);
    }
}
