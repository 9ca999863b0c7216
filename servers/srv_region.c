/* Device and region commands: GET_INFO, GET_REGION_INFO, GET_REGION_IO_FDS,
 * REGION_READ / REGION_WRITE / REGION_WRITE_MULTI and DEVICE_RESET. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "srv_int.h"
#include "vfu_spec.h"

void srv_region(const struct srv *s, unsigned index, struct toydev_region *r)
{
    toydev_region_info(s->dev, index, r);
    /* a client that takes no fds cannot mmap anything */
    if (s->client_fds == 0 || r->fd < 0) {
        r->flags &= ~(uint32_t)VFU_REGION_INFO_FLAGS_MMAP;
        r->nsparse = 0;
    }
}

int srv_h_device_get_info(struct srv *s, const struct vfu_msg *m, int *fds)
{
    (void)fds;
    struct vfu_enc e;
    srv_reply_begin(s, m, &e);
    vfu_enc_set(&e, VFU_F_DEVICE_INFO_FLAGS, VFU_DEVICE_INFO_FLAGS_RESET | VFU_DEVICE_INFO_FLAGS_PCI);
    vfu_enc_set(&e, VFU_F_DEVICE_INFO_NUM_REGIONS, TOYDEV_NUM_REGIONS);
    vfu_enc_set(&e, VFU_F_DEVICE_INFO_NUM_IRQS, TOYDEV_NUM_IRQS);
    if (srv_fault(s, FAULT_DEVICE_INFO_ARGSZ_WRONG))
        vfu_enc_set(&e, VFU_F_DEVICE_INFO_ARGSZ, vfu_get(m, VFU_F_DEVICE_INFO_REQ_ARGSZ));
    return srv_reply_send(s, m, &e);
}

int srv_h_region_info(struct srv *s, const struct vfu_msg *m, int *fds)
{
    (void)fds;
    uint64_t index = vfu_get(m, VFU_F_REGION_INFO_REQ_INDEX);
    if (index >= TOYDEV_NUM_REGIONS && !srv_fault(s, FAULT_REGION_INFO_BAD_INDEX_OK)) return EINVAL;
    struct toydev_region r = {.fd = -1};
    if (index < TOYDEV_NUM_REGIONS) srv_region(s, (unsigned)index, &r);
    bool mmap = r.flags & VFU_REGION_INFO_FLAGS_MMAP;
    uint64_t full = VFU_SIZE_REGION_INFO;
    if (r.nsparse)
        full += VFU_SIZE_REGION_CAP_HEADER + VFU_SIZE_CAP_SPARSE_MMAP +
                (uint64_t)r.nsparse * VFU_SIZE_SPARSE_MMAP_AREA;
    bool caps = r.nsparse && (vfu_get(m, VFU_F_REGION_INFO_REQ_ARGSZ) >= full ||
                              srv_fault(s, FAULT_REGION_INFO_CAPS_PAST_ARGSZ));

    struct vfu_enc e;
    srv_reply_begin(s, m, &e);
    vfu_enc_set(&e, VFU_F_REGION_INFO_FLAGS, r.flags | (caps ? VFU_REGION_INFO_FLAGS_CAPS : 0));
    vfu_enc_set(&e, VFU_F_REGION_INFO_INDEX, index);
    vfu_enc_set(&e, VFU_F_REGION_INFO_SIZE, r.size);
    vfu_enc_set(&e, VFU_F_REGION_INFO_OFFSET, mmap ? r.fd_offset : 0);
    /* too small for the chain: the fixed part, and argsz says what it takes */
    vfu_enc_set(&e, VFU_F_REGION_INFO_ARGSZ, full);
    if (caps) {
        vfu_enc_chain_cap(&e, VFU_F_REGION_INFO_CAPS, VFU_REGION_CAP_ID_SPARSE_MMAP);
        vfu_enc_set(&e, VFU_F_REGION_CAP_HEADER_VERSION, 1);
        for (unsigned i = 0; i < r.nsparse; i++) {
            vfu_enc_elem(&e, VFU_F_CAP_SPARSE_MMAP_AREAS);
            vfu_enc_set(&e, VFU_F_SPARSE_MMAP_AREA_OFFSET, r.sparse[i].offset);
            vfu_enc_set(&e, VFU_F_SPARSE_MMAP_AREA_SIZE, r.sparse[i].size);
        }
    }
    /* The fd goes with the full reply only: a reply cut short is a size
     * probe the client repeats with room (libvfio-user and its sample
     * client send and expect it so; the codec allows both). */
    if (mmap && (caps || !r.nsparse) && !srv_fault(s, FAULT_REGION_INFO_MMAP_NO_FD))
        vfu_enc_fd(&e, r.fd);
    return srv_reply_send(s, m, &e);
}

/* The doorbell, as an ioeventfd sub-region of BAR0: a write of 1 to it is
 * the only access worth short-cutting. */
int srv_h_region_io_fds(struct srv *s, const struct vfu_msg *m, int *fds)
{
    (void)fds;
    uint64_t index = vfu_get(m, VFU_F_REGION_IO_FDS_REQ_INDEX);
    if (index >= TOYDEV_NUM_REGIONS && !srv_fault(s, FAULT_IO_FDS_BAD_INDEX_OK)) return EINVAL;
    struct toydev_region r = {0};
    if (index < TOYDEV_NUM_REGIONS) toydev_region_info(s->dev, (unsigned)index, &r);
    uint32_t count = index == VFU_PCI_REGION_BAR0 && r.size && s->client_fds >= 1 ? 1 : 0;
    uint64_t full = VFU_SIZE_REGION_IO_FDS + (uint64_t)count * (VFU_SIZE_SUB_REGION + VFU_SIZE_IOEVENTFD);
    bool room = vfu_get(m, VFU_F_REGION_IO_FDS_REQ_ARGSZ) >= full;
    if (count && room && s->ioeventfd < 0) {
        s->ioeventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (s->ioeventfd < 0) return errno;
    }

    struct vfu_enc e;
    srv_reply_begin(s, m, &e);
    vfu_enc_set(&e, VFU_F_REGION_IO_FDS_INDEX, index);
    vfu_enc_set(&e, VFU_F_REGION_IO_FDS_COUNT, count);
    vfu_enc_set(&e, VFU_F_REGION_IO_FDS_ARGSZ, full);
    if (count && room) {
        vfu_enc_elem(&e, VFU_F_REGION_IO_FDS_SUB_REGIONS);
        vfu_enc_set(&e, VFU_F_SUB_REGION_OFFSET, TOYDEV_REG_DOORBELL);
        vfu_enc_set(&e, VFU_F_SUB_REGION_SIZE, 4);
        vfu_enc_set(&e, VFU_F_SUB_REGION_FD_INDEX, 0);
        vfu_enc_set(&e, VFU_F_SUB_REGION_TYPE, VFU_IO_FD_TYPE_IOEVENTFD);
        vfu_enc_set(&e, VFU_F_IOEVENTFD_FLAGS, VFU_IOEVENTFD_FLAGS_DATAMATCH);
        vfu_enc_set(&e, VFU_F_IOEVENTFD_DATAMATCH, 1);
        vfu_enc_fd(&e, s->ioeventfd);
    }
    return srv_reply_send(s, m, &e);
}

/* Bounds shared by every region access.  count 0 is refused: it accesses
 * nothing, and the device has no access size 0. */
static int check_access(struct srv *s, uint64_t region, uint64_t offset, uint64_t count,
                        bool write)
{
    if (region >= TOYDEV_NUM_REGIONS || count == 0) return EINVAL;
    struct toydev_region r;
    toydev_region_info(s->dev, (unsigned)region, &r);
    if (!(r.flags & (write ? VFU_REGION_INFO_FLAGS_WRITE : VFU_REGION_INFO_FLAGS_READ))) return EINVAL;
    if (offset > r.size || count > r.size - offset) return EINVAL;
    /* the fault region-bar-end-refused: the end compared with >= on the
     * trapped register BARs (not config space, not the mmappable BAR), so
     * the access that ends on their last byte is refused */
    if (region != VFU_PCI_REGION_CONFIG && !(r.flags & VFU_REGION_INFO_FLAGS_MMAP) && offset + count == r.size &&
        srv_fault(s, FAULT_REGION_BAR_END_REFUSED))
        return EINVAL;
    return 0;
}

/* the offset the server goes by: the fault region-offset-trunc32 keeps it
 * in 32 bits, so 2^32 + X lands on X */
static uint64_t access_offset(struct srv *s, uint64_t offset)
{
    return srv_fault(s, FAULT_REGION_OFFSET_TRUNC32) ? (uint32_t)offset : offset;
}

/* the seeded faults region-read-oob-zeros / region-write-oob-ignored: an
 * access that is refused only for where it lies in a known region */
static bool fault_oob(struct srv *s, uint64_t region, uint64_t count, enum srv_fault_id f)
{
    return region < TOYDEV_NUM_REGIONS && count && srv_fault(s, f);
}

int srv_h_region_read(struct srv *s, const struct vfu_msg *m, int *fds)
{
    (void)fds;
    uint64_t offset = vfu_get(m, VFU_F_REGION_ACCESS_OFFSET);
    uint64_t region = vfu_get(m, VFU_F_REGION_ACCESS_REGION);
    uint64_t count = vfu_get(m, VFU_F_REGION_ACCESS_COUNT);
    if (count == 0 && srv_fault(s, FAULT_CRASH_ON_ZERO_COUNT_READ)) abort();
    uint64_t at = access_offset(s, offset);
    int r = check_access(s, region, at, count, false);
    bool zeros = r && fault_oob(s, region, count, FAULT_REGION_READ_OOB_ZEROS);
    if (r && !zeros) return r;
    struct vfu_enc e;
    srv_reply_begin(s, m, &e);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_OFFSET, offset);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_REGION, region);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_COUNT, count);
    /* the codec held count to our max_data_xfer_size, which tx is sized for */
    uint8_t *data = vfu_enc_data(&e, VFU_F_REGION_ACCESS_DATA_DATA, NULL, (size_t)count);
    if (!data) return EIO;
    r = zeros ? 0 : toydev_access(s->dev, (unsigned)region, at, data, (uint32_t)count, false);
    if (r) return r;
    return srv_reply_send(s, m, &e);
}

int srv_h_region_write(struct srv *s, const struct vfu_msg *m, int *fds)
{
    (void)fds;
    uint64_t offset = vfu_get(m, VFU_F_REGION_ACCESS_DATA_OFFSET);
    uint64_t region = vfu_get(m, VFU_F_REGION_ACCESS_DATA_REGION);
    uint64_t count = vfu_get(m, VFU_F_REGION_ACCESS_DATA_COUNT);
    uint64_t at = access_offset(s, offset);
    int r = check_access(s, region, at, count, true);
    bool dropped = r && fault_oob(s, region, count, FAULT_REGION_WRITE_OOB_IGNORED);
    if (r && !dropped) return r;
    uint32_t len;
    const uint8_t *data = vfu_data(m, VFU_F_REGION_ACCESS_DATA_DATA, &len);
    /* the device takes a mutable buffer: give it a copy, never the received
     * message; tx is free until the reply is built (DMA requests use rq) */
    uint8_t *buf = s->tx;
    memcpy(buf, data, len);
    r = dropped ? 0 : toydev_access(s->dev, (unsigned)region, at, buf, len, true);
    if (r) return r;
    struct vfu_enc e;
    srv_reply_begin(s, m, &e);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_OFFSET, offset);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_REGION, region);
    uint64_t done = count;
    if (srv_fault(s, FAULT_REGION_WRITE_REPLY_COUNT)) done = count + 1;
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_COUNT, done);
    return srv_reply_send(s, m, &e);
}

/* Writes apply in order; the first that fails ends the message with its
 * errno (those before it stay done). */
int srv_h_write_multi(struct srv *s, const struct vfu_msg *m, int *fds)
{
    (void)fds;
    if (!s->write_multiple) return ENOTSUP;
    uint32_t n = vfu_count(m, VFU_F_WRITE_MULTI_WRS);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t offset = vfu_elem_get(m, VFU_F_WRITE_MULTI_WRS, i, VFU_F_WRITE_MULTI_ENTRY_OFFSET);
        uint64_t region = vfu_elem_get(m, VFU_F_WRITE_MULTI_WRS, i, VFU_F_WRITE_MULTI_ENTRY_REGION);
        uint64_t count = vfu_elem_get(m, VFU_F_WRITE_MULTI_WRS, i, VFU_F_WRITE_MULTI_ENTRY_COUNT);
        if (count > 8) return EINVAL;
        int r = check_access(s, region, offset, count, true);
        if (r) return r;
        /* data is opaque bytes: found through the generated field table */
        const struct vfu_part *p = vfu_tail(m, VFU_F_WRITE_MULTI_WRS);
        const struct vfu_field_desc *df = vfu_field(VFU_F_WRITE_MULTI_ENTRY_DATA);
        uint8_t data[8];
        memcpy(data, m->payload + p->off + (uint64_t)i * p->stride + df->offset,
               df->width < sizeof data ? df->width : sizeof data);
        r = toydev_access(s->dev, (unsigned)region, offset, data, (uint32_t)count, true);
        if (r) return r;
    }
    struct vfu_enc e;
    srv_reply_begin(s, m, &e);
    uint64_t done = n;
    if (srv_fault(s, FAULT_WRITE_MULTI_COUNT_WRONG)) done = n - 1;
    vfu_enc_set(&e, VFU_F_WRITE_MULTI_ACK_WR_CNT, done);
    return srv_reply_send(s, m, &e);
}

int srv_h_reset(struct srv *s, const struct vfu_msg *m, int *fds)
{
    (void)fds;
    if (srv_fault(s, FAULT_HANG_ON_RESET))
        for (;;) pause();
    if (!srv_fault(s, FAULT_RESET_KEEPS_REGISTERS)) toydev_reset(s->dev);
    srv_irq_reset(s);
    srv_dirty_stop(s);
    srv_mig_reset(s);
    return srv_reply_empty(s, m);
}
