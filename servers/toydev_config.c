/* The toy device's PCI Express configuration space.
 *
 * Every byte has a power-on value, a mask of bits software may write and a
 * mask of write-1-to-clear bits; everything else is read-only.  BAR sizing
 * falls out of the masks: a BAR's writable bits are exactly its address
 * bits, so writing all-ones reads back the size mask with the type bits.
 *
 * Choices a real device would make too:
 *   - class code 0xff0000: the function fits no defined class, which is the
 *     honest answer for a made-up DMA engine;
 *   - no I/O BAR, so Command.I/O Space is hardwired to 0;
 *   - PM supports D0 and D3hot only; writes asking for D1/D2 are ignored (the
 *     PCI PM rule for unsupported states);
 *   - MSI: one vector, 64-bit address, no per-vector masking;
 *   - PCIe: endpoint, 128-byte payload, 2.5 GT/s x1 link, no FLR, no
 *     extended capabilities (offset 0x100 reads 0, ending that list). */
#include <errno.h>
#include <string.h>
#include <linux/pci_regs.h>

#include "toydev_int.h"

static void put(uint8_t *img, unsigned off, uint32_t v, unsigned n)
{
    toydev_le_put(img + off, v, n);
}

/* one register: power-on value, writable bits, write-1-to-clear bits */
static void reg(struct toydev *d, unsigned off, unsigned n, uint32_t init, uint32_t wmask,
                uint32_t w1c)
{
    put(d->cfg_init, off, init, n);
    put(d->cfg_wmask, off, wmask, n);
    put(d->cfg_w1c, off, w1c, n);
}

static void cap_header(struct toydev *d, unsigned off, uint8_t id, uint8_t next)
{
    reg(d, off, 1, id, 0, 0);
    reg(d, off + PCI_CAP_LIST_NEXT, 1, next, 0, 0);
}

/* memory BAR of `size` bytes (a power of two >= 16) with the given type bits */
static void bar(struct toydev *d, unsigned off, uint64_t size, uint32_t type)
{
    uint64_t addr_mask = ~(size - 1);
    reg(d, off, 4, type, (uint32_t)addr_mask & PCI_BASE_ADDRESS_MEM_MASK, 0);
    if (type & PCI_BASE_ADDRESS_MEM_TYPE_64)
        reg(d, off + 4, 4, 0, (uint32_t)(addr_mask >> 32), 0);
}

static void header(struct toydev *d)
{
    reg(d, PCI_VENDOR_ID, 2, TOYDEV_VENDOR_ID, 0, 0);
    reg(d, PCI_DEVICE_ID, 2, TOYDEV_DEVICE_ID, 0, 0);
    reg(d, PCI_COMMAND, 2, 0,
        PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
            PCI_COMMAND_INTX_DISABLE,
        0);
    reg(d, PCI_STATUS, 2, PCI_STATUS_CAP_LIST, 0,
        PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT | PCI_STATUS_REC_TARGET_ABORT |
            PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_SIG_SYSTEM_ERROR |
            PCI_STATUS_DETECTED_PARITY);
    reg(d, PCI_CLASS_REVISION, 4, TOYDEV_CLASS_CODE << 8 | TOYDEV_REVISION, 0, 0);
    reg(d, PCI_CACHE_LINE_SIZE, 1, 0, 0xff, 0);
    reg(d, PCI_HEADER_TYPE, 1, PCI_HEADER_TYPE_NORMAL, 0, 0);
    bar(d, PCI_BASE_ADDRESS_0, TOYDEV_BAR0_SIZE, PCI_BASE_ADDRESS_MEM_TYPE_32);
    bar(d, PCI_BASE_ADDRESS_2, TOYDEV_BAR2_SIZE,
        PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH);
    bar(d, PCI_BASE_ADDRESS_4, TOYDEV_BAR4_SIZE, PCI_BASE_ADDRESS_MEM_TYPE_32);
    reg(d, PCI_SUBSYSTEM_VENDOR_ID, 2, TOYDEV_SUBSYS_VENDOR_ID, 0, 0);
    reg(d, PCI_SUBSYSTEM_ID, 2, TOYDEV_SUBSYS_ID, 0, 0);
    reg(d, PCI_CAPABILITY_LIST, 1, TOYDEV_CAP_PM, 0, 0);
    reg(d, PCI_INTERRUPT_LINE, 1, 0, 0xff, 0);
    reg(d, PCI_INTERRUPT_PIN, 1, 1 /* INTA */, 0, 0);
}

static void caps(struct toydev *d)
{
    unsigned c = TOYDEV_CAP_PM;
    cap_header(d, c, PCI_CAP_ID_PM, TOYDEV_CAP_MSI);
    reg(d, c + PCI_PM_PMC, 2, 3 /* PM spec 1.2 */, 0, 0);
    reg(d, c + PCI_PM_CTRL, 2, PCI_PM_CTRL_NO_SOFT_RESET, PCI_PM_CTRL_STATE_MASK, 0);

    c = TOYDEV_CAP_MSI;
    cap_header(d, c, PCI_CAP_ID_MSI, TOYDEV_CAP_MSIX);
    reg(d, c + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_64BIT, PCI_MSI_FLAGS_ENABLE, 0);
    reg(d, c + PCI_MSI_ADDRESS_LO, 4, 0, 0xfffffffcu /* dword aligned */, 0);
    reg(d, c + PCI_MSI_ADDRESS_HI, 4, 0, 0xffffffffu, 0);
    reg(d, c + PCI_MSI_DATA_64, 2, 0, 0xffff, 0);

    c = TOYDEV_CAP_MSIX;
    cap_header(d, c, PCI_CAP_ID_MSIX, TOYDEV_CAP_EXP);
    reg(d, c + PCI_MSIX_FLAGS, 2, TOYDEV_MSIX_VECTORS - 1,
        PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 0);
    reg(d, c + PCI_MSIX_TABLE, 4, 0 | 4 /* BIR */, 0, 0);
    reg(d, c + PCI_MSIX_PBA, 4, TOYDEV_MSIX_PBA_OFFSET | 4 /* BIR */, 0, 0);

    c = TOYDEV_CAP_EXP;
    cap_header(d, c, PCI_CAP_ID_EXP, 0);
    reg(d, c + PCI_EXP_FLAGS, 2, 2 | PCI_EXP_TYPE_ENDPOINT << 4, 0, 0);
    reg(d, c + PCI_EXP_DEVCAP, 4, PCI_EXP_DEVCAP_RBER, 0, 0);
    reg(d, c + PCI_EXP_DEVCTL, 2,
        PCI_EXP_DEVCTL_RELAX_EN | PCI_EXP_DEVCTL_NOSNOOP_EN | PCI_EXP_DEVCTL_READRQ_512B,
        PCI_EXP_DEVCTL_CERE | PCI_EXP_DEVCTL_NFERE | PCI_EXP_DEVCTL_FERE |
            PCI_EXP_DEVCTL_URRE | PCI_EXP_DEVCTL_RELAX_EN | PCI_EXP_DEVCTL_PAYLOAD |
            PCI_EXP_DEVCTL_NOSNOOP_EN | PCI_EXP_DEVCTL_READRQ,
        0);
    reg(d, c + PCI_EXP_DEVSTA, 2, 0, 0,
        PCI_EXP_DEVSTA_CED | PCI_EXP_DEVSTA_NFED | PCI_EXP_DEVSTA_FED | PCI_EXP_DEVSTA_URD);
    reg(d, c + PCI_EXP_LNKCAP, 4, PCI_EXP_LNKCAP_SLS_2_5GB | 1 << 4 /* x1 */, 0, 0);
    reg(d, c + PCI_EXP_LNKCTL, 2, 0, PCI_EXP_LNKCTL_CCC | PCI_EXP_LNKCTL_ES, 0);
    reg(d, c + PCI_EXP_LNKSTA, 2, PCI_EXP_LNKSTA_CLS_2_5GB | PCI_EXP_LNKSTA_NLW_X1, 0, 0);
}

void toydev_config_init(struct toydev *d)
{
    memset(d->cfg_init, 0, sizeof d->cfg_init);
    memset(d->cfg_wmask, 0, sizeof d->cfg_wmask);
    memset(d->cfg_w1c, 0, sizeof d->cfg_w1c);
    header(d);
    caps(d);
    memcpy(d->cfg, d->cfg_init, sizeof d->cfg);
}

static bool pm_state_supported(unsigned state)
{
    return state == 0 /* D0 */ || state == 3 /* D3hot */;
}

int toydev_config_access(struct toydev *d, uint64_t off, uint8_t *buf, uint32_t count,
                         bool is_write)
{
    if (off >= TOYDEV_CONFIG_SIZE || count == 0 || count > TOYDEV_CONFIG_SIZE - off)
        return EINVAL;
    if (!is_write) {
        memcpy(buf, d->cfg + off, count);
        return 0;
    }
    if ((count != 1 && count != 2 && count != 4) || off % count != 0)
        return EINVAL;

    unsigned pmcsr = TOYDEV_CAP_PM + PCI_PM_CTRL;
    unsigned old_state = d->cfg[pmcsr] & PCI_PM_CTRL_STATE_MASK;
    for (uint32_t i = 0; i < count; i++) {
        size_t a = off + i;
        uint8_t v = buf[i], w = d->cfg_wmask[a];
        uint8_t n = (uint8_t)((d->cfg[a] & ~w) | (v & w));
        d->cfg[a] = (uint8_t)(n & ~(v & d->cfg_w1c[a]));
    }
    if (!pm_state_supported(d->cfg[pmcsr] & PCI_PM_CTRL_STATE_MASK))
        d->cfg[pmcsr] = (uint8_t)((d->cfg[pmcsr] & ~PCI_PM_CTRL_STATE_MASK) | old_state);
    /* enabling MSI-X or clearing its function mask releases pending messages */
    toydev_msix_deliver_pending(d);
    return 0;
}

/* A migrated image must be one this device could have reached: read-only
 * bits as at power-on, and no unsupported power state. */
bool toydev_config_valid(const struct toydev *d, const uint8_t *cfg)
{
    for (size_t a = 0; a < TOYDEV_CONFIG_SIZE; a++) {
        uint8_t fixed = (uint8_t)~(d->cfg_wmask[a] | d->cfg_w1c[a]);
        if ((cfg[a] ^ d->cfg_init[a]) & fixed)
            return false;
    }
    return pm_state_supported(cfg[TOYDEV_CAP_PM + PCI_PM_CTRL] & PCI_PM_CTRL_STATE_MASK);
}

uint32_t toydev_cfg_get(const struct toydev *d, unsigned off, unsigned n)
{
    return (uint32_t)toydev_le_get(d->cfg + off, n);
}

/* the device itself setting status bits (e.g. Received Master Abort) */
void toydev_cfg_set_bits16(struct toydev *d, unsigned off, uint16_t bits)
{
    toydev_le_put(d->cfg + off, toydev_cfg_get(d, off, 2) | bits, 2);
}

bool toydev_bus_master(const struct toydev *d)
{
    return toydev_cfg_get(d, PCI_COMMAND, 2) & PCI_COMMAND_MASTER;
}

bool toydev_intx_disabled(const struct toydev *d)
{
    return toydev_cfg_get(d, PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE;
}

bool toydev_msi_enabled(const struct toydev *d)
{
    return toydev_cfg_get(d, TOYDEV_CAP_MSI + PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_ENABLE;
}

bool toydev_msix_enabled(const struct toydev *d)
{
    return toydev_cfg_get(d, TOYDEV_CAP_MSIX + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_ENABLE;
}

bool toydev_msix_function_masked(const struct toydev *d)
{
    return toydev_cfg_get(d, TOYDEV_CAP_MSIX + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_MASKALL;
}
