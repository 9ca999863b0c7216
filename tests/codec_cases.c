/* The shared table of valid messages; see codec_cases.h.  Values are what a
 * real client or server would send (BAR and config-space accesses, MSI-X
 * eventfds, a migration sequence), so a field that is read back from the
 * wrong place shows up as a wrong value, not as a zero that happens to match. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_cases.h"
#include "spec_tables.h"

#define FD0 40   /* decode only counts fds; it never touches them */

static const char version_req_json[] =
    "{\"capabilities\":{\"max_msg_fds\":8,\"max_data_xfer_size\":1048576,"
    "\"pgsizes\":4096,\"migration\":{\"pgsize\":4096,\"max_bitmap_size\":268435456}}}";
static const char version_reply_json[] =
    "{\"capabilities\":{\"max_msg_fds\":16,\"max_data_xfer_size\":1048576,"
    "\"max_dma_maps\":65535,\"write_multiple\":true}}";

static const uint8_t bar_bytes[8] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
static const uint8_t cfg_command[2] = {0x06, 0x04};   /* PCI command: MEM | MASTER | INTX_DISABLE */
static const uint8_t dma_bytes[16] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
static const uint8_t irq_bools[4] = {1, 0, 1, 1};
static const uint8_t mig_bytes[16] = {'Q', 'E', 'V', 'M', 0, 0, 0, 3, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80};
static const uint64_t dirty_words[4] = {0x8000000000000001ULL, 0, 0xffULL, 0x0123456789abcdefULL};

static const struct { uint64_t offset; uint32_t region, count; uint8_t data[8]; } multi[3] = {
    {0x1000, VFU_PCI_REGION_BAR0, 4, {1, 2, 3, 4}},
    {0x1004, VFU_PCI_REGION_BAR0, 8, {9, 8, 7, 6, 5, 4, 3, 2}},
    {0x40, VFU_PCI_REGION_BAR2, 2, {0xaa, 0x55}},
};
static const struct { uint64_t iova, length; } ranges[2] = {
    {0x100000, 0x200000},
    {0x40000000, 0x10000},
};

/* ---------------------------------------------------------- helpers --- */

static void expect_data(const struct vfu_msg *m, int field, const void *want, uint32_t n)
{
    uint32_t len = 0;
    const uint8_t *p = vfu_data(m, field, &len);
    assert_non_null(p);
    assert_int_equal(len, n);
    assert_memory_equal(p, want, n);
}

const uint8_t *codec_elem_bytes(const struct vfu_msg *m, int array_field, uint32_t i, int field)
{
    const struct vfu_part *p = vfu_tail(m, array_field);
    if (!p || p->kind != VFU_P_ARRAY || i >= p->count) return NULL;
    const struct vfu_field_desc *f = &vfu_spec.fields[field];
    if (f->sid != p->sid || f->kind != VFU_K_BYTES) return NULL;
    return m->payload + p->off + (uint64_t)i * p->stride + f->offset;
}

static void expect_no_payload(const struct vfu_msg *m)
{
    assert_int_equal(m->payload_len, 0);
    assert_int_equal(m->nparts, 0);
}

/* ---------------------------------------------------------- VERSION --- */

static void version_req_build(struct vfu_enc *e)
{
    vfu_enc_set(e, VFU_F_VERSION_MAJOR, VFU_PROTO_MAJOR);
    vfu_enc_set(e, VFU_F_VERSION_MINOR, VFU_PROTO_MINOR);
    vfu_enc_data(e, VFU_F_VERSION_DATA, version_req_json, sizeof version_req_json);
}
static void version_req_check(const struct vfu_msg *m)
{
    assert_int_equal(vfu_get(m, VFU_F_VERSION_MAJOR), VFU_PROTO_MAJOR);
    assert_int_equal(vfu_get(m, VFU_F_VERSION_MINOR), VFU_PROTO_MINOR);
    expect_data(m, VFU_F_VERSION_DATA, version_req_json, sizeof version_req_json);
    assert_int_equal(vfu_tail(m, VFU_F_VERSION_DATA)->kind, VFU_P_STRING);
}

static void version_reply_build(struct vfu_enc *e)
{
    vfu_enc_set(e, VFU_F_VERSION_MAJOR, VFU_PROTO_MAJOR);
    vfu_enc_set(e, VFU_F_VERSION_MINOR, VFU_PROTO_MINOR);
    vfu_enc_data(e, VFU_F_VERSION_DATA, version_reply_json, sizeof version_reply_json);
}
static void version_reply_check(const struct vfu_msg *m)
{
    assert_int_equal(vfu_get(m, VFU_F_VERSION_MAJOR), VFU_PROTO_MAJOR);
    assert_int_equal(vfu_get(m, VFU_F_VERSION_MINOR), VFU_PROTO_MINOR);
    expect_data(m, VFU_F_VERSION_DATA, version_reply_json, sizeof version_reply_json);
}

/* ------------------------------------------------ DMA_MAP / UNMAP --- */

static void dma_map_req_build(struct vfu_enc *e)
{
    vfu_enc_set(e, VFU_F_DMA_MAP_FLAGS, VFU_DMA_MAP_FLAGS_READ | VFU_DMA_MAP_FLAGS_WRITE);
    vfu_enc_set(e, VFU_F_DMA_MAP_OFFSET, 0x200000);
    vfu_enc_set(e, VFU_F_DMA_MAP_ADDRESS, 0x100000000ULL);
    vfu_enc_set(e, VFU_F_DMA_MAP_SIZE, 0x40000000);
    vfu_enc_fd(e, FD0);
}
static void dma_map_req_check(const struct vfu_msg *m)
{
    assert_int_equal(vfu_get(m, VFU_F_DMA_MAP_ARGSZ), VFU_SIZE_DMA_MAP);
    assert_int_equal(vfu_get(m, VFU_F_DMA_MAP_FLAGS), VFU_DMA_MAP_FLAGS_READ | VFU_DMA_MAP_FLAGS_WRITE);
    assert_int_equal(vfu_get(m, VFU_F_DMA_MAP_OFFSET), 0x200000);
    assert_int_equal(vfu_get(m, VFU_F_DMA_MAP_ADDRESS), 0x100000000ULL);
    assert_int_equal(vfu_get(m, VFU_F_DMA_MAP_SIZE), 0x40000000);
    assert_int_equal(m->nfds, 1);
    assert_int_equal(m->fds[0], FD0);
}

static void empty_build(struct vfu_enc *e) { (void)e; }

static void dma_unmap_req_build(struct vfu_enc *e)
{
    vfu_enc_set(e, VFU_F_DMA_UNMAP_ADDRESS, 0x100000000ULL);
    vfu_enc_set(e, VFU_F_DMA_UNMAP_SIZE, 0x40000000);
}
static void dma_unmap_req_check(const struct vfu_msg *m)
{
    assert_int_equal(vfu_get(m, VFU_F_DMA_UNMAP_ARGSZ), VFU_SIZE_DMA_UNMAP);
    assert_int_equal(vfu_get(m, VFU_F_DMA_UNMAP_FLAGS), 0);
    assert_int_equal(vfu_get(m, VFU_F_DMA_UNMAP_ADDRESS), 0x100000000ULL);
    assert_int_equal(vfu_get(m, VFU_F_DMA_UNMAP_SIZE), 0x40000000);
}

static void dma_unmap_all_build(struct vfu_enc *e)
{
    vfu_enc_set(e, VFU_F_DMA_UNMAP_FLAGS, VFU_DMA_UNMAP_FLAGS_ALL);
}
static void dma_unmap_all_check(const struct vfu_msg *m)
{
    assert_int_equal(vfu_get(m, VFU_F_DMA_UNMAP_ARGSZ), VFU_SIZE_DMA_UNMAP);
    assert_int_equal(vfu_get(m, VFU_F_DMA_UNMAP_FLAGS), VFU_DMA_UNMAP_FLAGS_ALL);
    assert_int_equal(vfu_get(m, VFU_F_DMA_UNMAP_ADDRESS), 0);
    assert_int_equal(vfu_get(m, VFU_F_DMA_UNMAP_SIZE), 0);
}

static void dma_unmap_reply_build(struct vfu_enc *e)
{
    vfu_enc_set(e, VFU_F_DMA_UNMAP_ADDRESS, 0x100000000ULL);
    vfu_enc_set(e, VFU_F_DMA_UNMAP_SIZE, 0x40000000);
}

/* ------------------------------------------------- DEVICE_GET_INFO --- */

static void dev_info_req_build(struct vfu_enc *e) { (void)e; }
static void dev_info_req_check(const struct vfu_msg *m)
{
    assert_int_equal(vfu_get(m, VFU_F_DEVICE_INFO_REQ_ARGSZ), VFU_SIZE_DEVICE_INFO);
    assert_int_equal(vfu_get(m, VFU_F_DEVICE_INFO_REQ_FLAGS), 0);
    assert_int_equal(vfu_get(m, VFU_F_DEVICE_INFO_REQ_NUM_REGIONS), 0);
    assert_int_equal(vfu_get(m, VFU_F_DEVICE_INFO_REQ_NUM_IRQS), 0);
}

static void dev_info_reply_build(struct vfu_enc *e)
{
    vfu_enc_set(e, VFU_F_DEVICE_INFO_FLAGS, VFU_DEVICE_INFO_FLAGS_RESET | VFU_DEVICE_INFO_FLAGS_PCI);
    vfu_enc_set(e, VFU_F_DEVICE_INFO_NUM_REGIONS, VFU_PCI_REGION_VGA + 1);
    vfu_enc_set(e, VFU_F_DEVICE_INFO_NUM_IRQS, VFU_PCI_IRQ_REQ + 1);
}
static void dev_info_reply_check(const struct vfu_msg *m)
{
    assert_int_equal(vfu_get(m, VFU_F_DEVICE_INFO_ARGSZ), VFU_SIZE_DEVICE_INFO);
    assert_int_equal(vfu_get(m, VFU_F_DEVICE_INFO_FLAGS), VFU_DEVICE_INFO_FLAGS_RESET | VFU_DEVICE_INFO_FLAGS_PCI);
    assert_int_equal(vfu_get(m, VFU_F_DEVICE_INFO_NUM_REGIONS), VFU_PCI_REGION_VGA + 1);
    assert_int_equal(vfu_get(m, VFU_F_DEVICE_INFO_NUM_IRQS), VFU_PCI_IRQ_REQ + 1);
}

/* ------------------------------------------ DEVICE_GET_REGION_INFO --- */

static void region_info_req_build(struct vfu_enc *e)
{
    vfu_enc_set(e, VFU_F_REGION_INFO_REQ_ARGSZ, 256);   /* room for caps */
    vfu_enc_set(e, VFU_F_REGION_INFO_REQ_INDEX, VFU_PCI_REGION_BAR2);
}
static void region_info_req_check(const struct vfu_msg *m)
{
    assert_int_equal(vfu_get(m, VFU_F_REGION_INFO_REQ_ARGSZ), 256);
    assert_int_equal(vfu_get(m, VFU_F_REGION_INFO_REQ_INDEX), VFU_PCI_REGION_BAR2);
    assert_int_equal(vfu_get(m, VFU_F_REGION_INFO_REQ_FLAGS), 0);
    assert_int_equal(vfu_get(m, VFU_F_REGION_INFO_REQ_CAP_OFFSET), 0);
    assert_int_equal(vfu_get(m, VFU_F_REGION_INFO_REQ_SIZE), 0);
    assert_int_equal(vfu_get(m, VFU_F_REGION_INFO_REQ_OFFSET), 0);
}

/* BAR2: 16 KiB, mmap-able except a 4 KiB register window in the middle */
static void region_info_reply_build(struct vfu_enc *e)
{
    vfu_enc_set(e, VFU_F_REGION_INFO_FLAGS, VFU_REGION_INFO_FLAGS_READ | VFU_REGION_INFO_FLAGS_WRITE |
                                                VFU_REGION_INFO_FLAGS_MMAP | VFU_REGION_INFO_FLAGS_CAPS);
    vfu_enc_set(e, VFU_F_REGION_INFO_INDEX, VFU_PCI_REGION_BAR2);
    vfu_enc_set(e, VFU_F_REGION_INFO_SIZE, 0x4000);
    vfu_enc_set(e, VFU_F_REGION_INFO_OFFSET, 0x10000);
    vfu_enc_chain_cap(e, VFU_F_REGION_INFO_CAPS, VFU_REGION_CAP_ID_SPARSE_MMAP);
    vfu_enc_set(e, VFU_F_REGION_CAP_HEADER_VERSION, 1);
    vfu_enc_elem(e, VFU_F_CAP_SPARSE_MMAP_AREAS);
    vfu_enc_set(e, VFU_F_SPARSE_MMAP_AREA_OFFSET, 0);
    vfu_enc_set(e, VFU_F_SPARSE_MMAP_AREA_SIZE, 0x1000);
    vfu_enc_elem(e, VFU_F_CAP_SPARSE_MMAP_AREAS);
    vfu_enc_set(e, VFU_F_SPARSE_MMAP_AREA_OFFSET, 0x2000);
    vfu_enc_set(e, VFU_F_SPARSE_MMAP_AREA_SIZE, 0x2000);
    vfu_enc_chain_cap(e, VFU_F_REGION_INFO_CAPS, VFU_REGION_CAP_ID_TYPE);
    vfu_enc_set(e, VFU_F_REGION_CAP_HEADER_VERSION, 1);
    vfu_enc_set(e, VFU_F_CAP_TYPE_TYPE, 0x80000000u | 0x8086);   /* vendor type */
    vfu_enc_set(e, VFU_F_CAP_TYPE_SUBTYPE, 3);
    vfu_enc_fd(e, FD0);
}
static void region_info_reply_check(const struct vfu_msg *m)
{
    const uint64_t flags = VFU_REGION_INFO_FLAGS_READ | VFU_REGION_INFO_FLAGS_WRITE |
                           VFU_REGION_INFO_FLAGS_MMAP | VFU_REGION_INFO_FLAGS_CAPS;
    const uint32_t sparse_len = VFU_SIZE_REGION_CAP_HEADER + VFU_SIZE_CAP_SPARSE_MMAP + 2 * VFU_SIZE_SPARSE_MMAP_AREA;
    const uint32_t full = VFU_SIZE_REGION_INFO + sparse_len + VFU_SIZE_REGION_CAP_HEADER + VFU_SIZE_CAP_TYPE;
    assert_false(m->truncated);
    assert_int_equal(m->payload_len, full);
    assert_int_equal(vfu_get(m, VFU_F_REGION_INFO_ARGSZ), full);
    assert_int_equal(vfu_get(m, VFU_F_REGION_INFO_FLAGS), flags);
    assert_int_equal(vfu_get(m, VFU_F_REGION_INFO_INDEX), VFU_PCI_REGION_BAR2);
    assert_int_equal(vfu_get(m, VFU_F_REGION_INFO_SIZE), 0x4000);
    assert_int_equal(vfu_get(m, VFU_F_REGION_INFO_OFFSET), 0x10000);
    assert_int_equal(vfu_get(m, VFU_F_REGION_INFO_CAP_OFFSET), VFU_SIZE_REGION_INFO);
    assert_int_equal(m->nfds, 1);

    const struct vfu_part *h = vfu_part_next(m, NULL, VFU_S_REGION_CAP_HEADER);
    assert_non_null(h);
    assert_int_equal(h->off, VFU_SIZE_REGION_INFO);
    assert_int_equal(vfu_part_get(m, h, VFU_F_REGION_CAP_HEADER_ID), VFU_REGION_CAP_ID_SPARSE_MMAP);
    assert_int_equal(vfu_part_get(m, h, VFU_F_REGION_CAP_HEADER_VERSION), 1);
    assert_int_equal(vfu_part_get(m, h, VFU_F_REGION_CAP_HEADER_NEXT), VFU_SIZE_REGION_INFO + sparse_len);
    const struct vfu_part *b = vfu_part_child(m, h, VFU_F_REGION_INFO_CAPS);
    assert_non_null(b);
    assert_int_equal(b->kind, VFU_P_STRUCT);
    assert_int_equal(b->sid, VFU_S_CAP_SPARSE_MMAP);
    assert_int_equal(vfu_part_get(m, b, VFU_F_CAP_SPARSE_MMAP_NR_AREAS), 2);
    assert_int_equal(vfu_part_get(m, b, VFU_F_CAP_SPARSE_MMAP_RESERVED), 0);
    const struct vfu_part *a = vfu_part_child(m, b, VFU_F_CAP_SPARSE_MMAP_AREAS);
    assert_non_null(a);
    assert_int_equal(a->kind, VFU_P_ARRAY);
    assert_int_equal(a->count, 2);
    assert_int_equal(vfu_count(m, VFU_F_CAP_SPARSE_MMAP_AREAS), 2);
    assert_int_equal(vfu_elem_get(m, VFU_F_CAP_SPARSE_MMAP_AREAS, 0, VFU_F_SPARSE_MMAP_AREA_OFFSET), 0);
    assert_int_equal(vfu_elem_get(m, VFU_F_CAP_SPARSE_MMAP_AREAS, 0, VFU_F_SPARSE_MMAP_AREA_SIZE), 0x1000);
    assert_int_equal(vfu_elem_get(m, VFU_F_CAP_SPARSE_MMAP_AREAS, 1, VFU_F_SPARSE_MMAP_AREA_OFFSET), 0x2000);
    assert_int_equal(vfu_elem_get(m, VFU_F_CAP_SPARSE_MMAP_AREAS, 1, VFU_F_SPARSE_MMAP_AREA_SIZE), 0x2000);
    assert_int_equal(vfu_elem_get(m, VFU_F_CAP_SPARSE_MMAP_AREAS, 2, VFU_F_SPARSE_MMAP_AREA_SIZE), 0);

    const struct vfu_part *h2 = vfu_part_next(m, h, VFU_S_REGION_CAP_HEADER);
    assert_non_null(h2);
    assert_int_equal(h2->off, VFU_SIZE_REGION_INFO + sparse_len);
    assert_int_equal(vfu_part_get(m, h2, VFU_F_REGION_CAP_HEADER_ID), VFU_REGION_CAP_ID_TYPE);
    assert_int_equal(vfu_part_get(m, h2, VFU_F_REGION_CAP_HEADER_VERSION), 1);
    assert_int_equal(vfu_part_get(m, h2, VFU_F_REGION_CAP_HEADER_NEXT), 0);
    const struct vfu_part *t = vfu_part_child(m, h2, VFU_F_REGION_INFO_CAPS);
    assert_non_null(t);
    assert_int_equal(t->sid, VFU_S_CAP_TYPE);
    assert_int_equal(vfu_part_get(m, t, VFU_F_CAP_TYPE_TYPE), 0x80000000u | 0x8086);
    assert_int_equal(vfu_part_get(m, t, VFU_F_CAP_TYPE_SUBTYPE), 3);
    assert_int_equal(vfu_get(m, VFU_F_CAP_TYPE_SUBTYPE), 3);
    assert_null(vfu_part_next(m, h2, VFU_S_REGION_CAP_HEADER));
}

/* -------------------------------------- DEVICE_GET_REGION_IO_FDS --- */

static void io_fds_req_build(struct vfu_enc *e)
{
    vfu_enc_set(e, VFU_F_REGION_IO_FDS_REQ_ARGSZ, VFU_SIZE_REGION_IO_FDS + 8 * vfu_spec.structs[VFU_S_SUB_REGION].stride);
    vfu_enc_set(e, VFU_F_REGION_IO_FDS_REQ_INDEX, VFU_PCI_REGION_BAR0);
}
static void io_fds_req_check(const struct vfu_msg *m)
{
    assert_int_equal(vfu_get(m, VFU_F_REGION_IO_FDS_REQ_ARGSZ),
                     VFU_SIZE_REGION_IO_FDS + 8 * vfu_spec.structs[VFU_S_SUB_REGION].stride);
    assert_int_equal(vfu_get(m, VFU_F_REGION_IO_FDS_REQ_INDEX), VFU_PCI_REGION_BAR0);
    assert_int_equal(vfu_get(m, VFU_F_REGION_IO_FDS_REQ_FLAGS), 0);
    assert_int_equal(vfu_get(m, VFU_F_REGION_IO_FDS_REQ_COUNT), 0);
}

/* a doorbell (ioeventfd matching one value) and a posted-write window */
static void io_fds_reply_build(struct vfu_enc *e)
{
    vfu_enc_set(e, VFU_F_REGION_IO_FDS_INDEX, VFU_PCI_REGION_BAR0);
    vfu_enc_elem(e, VFU_F_REGION_IO_FDS_SUB_REGIONS);
    vfu_enc_set(e, VFU_F_SUB_REGION_OFFSET, 0x3000);
    vfu_enc_set(e, VFU_F_SUB_REGION_SIZE, 4);
    vfu_enc_set(e, VFU_F_SUB_REGION_FD_INDEX, 0);
    vfu_enc_set(e, VFU_F_SUB_REGION_TYPE, VFU_IO_FD_TYPE_IOEVENTFD);
    vfu_enc_set(e, VFU_F_IOEVENTFD_FLAGS, VFU_IOEVENTFD_FLAGS_DATAMATCH);
    vfu_enc_set(e, VFU_F_IOEVENTFD_DATAMATCH, 0xcafe);
    vfu_enc_elem(e, VFU_F_REGION_IO_FDS_SUB_REGIONS);
    vfu_enc_set(e, VFU_F_SUB_REGION_OFFSET, 0x3800);
    vfu_enc_set(e, VFU_F_SUB_REGION_SIZE, 0x100);
    vfu_enc_set(e, VFU_F_SUB_REGION_FD_INDEX, 1);
    vfu_enc_set(e, VFU_F_SUB_REGION_TYPE, VFU_IO_FD_TYPE_IOREGIONFD);
    vfu_enc_set(e, VFU_F_IOREGIONFD_FLAGS, VFU_IOREGIONFD_FLAGS_POSTED_WRITES);
    vfu_enc_set(e, VFU_F_IOREGIONFD_USER_DATA, 0x1122334455667788ULL);
    vfu_enc_fd(e, FD0);
    vfu_enc_fd(e, FD0 + 1);
}
static void io_fds_reply_check(const struct vfu_msg *m)
{
    const int a = VFU_F_REGION_IO_FDS_SUB_REGIONS;
    assert_int_equal(vfu_get(m, VFU_F_REGION_IO_FDS_ARGSZ), m->payload_len);
    assert_int_equal(m->payload_len, VFU_SIZE_REGION_IO_FDS + 2 * vfu_spec.structs[VFU_S_SUB_REGION].stride);
    assert_int_equal(vfu_get(m, VFU_F_REGION_IO_FDS_INDEX), VFU_PCI_REGION_BAR0);
    assert_int_equal(vfu_get(m, VFU_F_REGION_IO_FDS_COUNT), 2);
    assert_int_equal(vfu_count(m, a), 2);
    assert_int_equal(vfu_elem_get(m, a, 0, VFU_F_SUB_REGION_OFFSET), 0x3000);
    assert_int_equal(vfu_elem_get(m, a, 0, VFU_F_SUB_REGION_SIZE), 4);
    assert_int_equal(vfu_elem_get(m, a, 0, VFU_F_SUB_REGION_FD_INDEX), 0);
    assert_int_equal(vfu_elem_get(m, a, 0, VFU_F_SUB_REGION_TYPE), VFU_IO_FD_TYPE_IOEVENTFD);
    assert_int_equal(vfu_elem_get(m, a, 0, VFU_F_IOEVENTFD_FLAGS), VFU_IOEVENTFD_FLAGS_DATAMATCH);
    assert_int_equal(vfu_elem_get(m, a, 0, VFU_F_IOEVENTFD_PADDING), 0);
    assert_int_equal(vfu_elem_get(m, a, 0, VFU_F_IOEVENTFD_DATAMATCH), 0xcafe);
    assert_int_equal(vfu_elem_get(m, a, 1, VFU_F_SUB_REGION_OFFSET), 0x3800);
    assert_int_equal(vfu_elem_get(m, a, 1, VFU_F_SUB_REGION_SIZE), 0x100);
    assert_int_equal(vfu_elem_get(m, a, 1, VFU_F_SUB_REGION_FD_INDEX), 1);
    assert_int_equal(vfu_elem_get(m, a, 1, VFU_F_SUB_REGION_TYPE), VFU_IO_FD_TYPE_IOREGIONFD);
    assert_int_equal(vfu_elem_get(m, a, 1, VFU_F_IOREGIONFD_FLAGS), VFU_IOREGIONFD_FLAGS_POSTED_WRITES);
    assert_int_equal(vfu_elem_get(m, a, 1, VFU_F_IOREGIONFD_USER_DATA), 0x1122334455667788ULL);
    assert_int_equal(m->nfds, 2);
}

/* -------------------------------------------- IRQ_INFO / SET_IRQS --- */

static void irq_info_req_build(struct vfu_enc *e)
{
    vfu_enc_set(e, VFU_F_IRQ_INFO_REQ_INDEX, VFU_PCI_IRQ_MSIX);
}
static void irq_info_req_check(const struct vfu_msg *m)
{
    assert_int_equal(vfu_get(m, VFU_F_IRQ_INFO_REQ_ARGSZ), VFU_SIZE_IRQ_INFO);
    assert_int_equal(vfu_get(m, VFU_F_IRQ_INFO_REQ_INDEX), VFU_PCI_IRQ_MSIX);
    assert_int_equal(vfu_get(m, VFU_F_IRQ_INFO_REQ_FLAGS), 0);
    assert_int_equal(vfu_get(m, VFU_F_IRQ_INFO_REQ_COUNT), 0);
}

static void irq_info_reply_build(struct vfu_enc *e)
{
    vfu_enc_set(e, VFU_F_IRQ_INFO_FLAGS, VFU_IRQ_INFO_FLAGS_EVENTFD | VFU_IRQ_INFO_FLAGS_NORESIZE);
    vfu_enc_set(e, VFU_F_IRQ_INFO_INDEX, VFU_PCI_IRQ_MSIX);
    vfu_enc_set(e, VFU_F_IRQ_INFO_COUNT, 2048);
}
static void irq_info_reply_check(const struct vfu_msg *m)
{
    assert_int_equal(vfu_get(m, VFU_F_IRQ_INFO_ARGSZ), VFU_SIZE_IRQ_INFO);
    assert_int_equal(vfu_get(m, VFU_F_IRQ_INFO_FLAGS), VFU_IRQ_INFO_FLAGS_EVENTFD | VFU_IRQ_INFO_FLAGS_NORESIZE);
    assert_int_equal(vfu_get(m, VFU_F_IRQ_INFO_INDEX), VFU_PCI_IRQ_MSIX);
    assert_int_equal(vfu_get(m, VFU_F_IRQ_INFO_COUNT), 2048);
}

static void set_irqs_bool_build(struct vfu_enc *e)
{
    vfu_enc_set(e, VFU_F_SET_IRQS_FLAGS, VFU_IRQ_SET_FLAGS_DATA_BOOL | VFU_IRQ_SET_FLAGS_ACTION_MASK);
    vfu_enc_set(e, VFU_F_SET_IRQS_INDEX, VFU_PCI_IRQ_MSI);
    vfu_enc_set(e, VFU_F_SET_IRQS_START, 4);
    vfu_enc_data(e, VFU_F_SET_IRQS_DATA, irq_bools, sizeof irq_bools);
}
static void set_irqs_bool_check(const struct vfu_msg *m)
{
    assert_int_equal(vfu_get(m, VFU_F_SET_IRQS_ARGSZ), VFU_SIZE_SET_IRQS + sizeof irq_bools);
    assert_int_equal(vfu_get(m, VFU_F_SET_IRQS_FLAGS), VFU_IRQ_SET_FLAGS_DATA_BOOL | VFU_IRQ_SET_FLAGS_ACTION_MASK);
    assert_int_equal(vfu_get(m, VFU_F_SET_IRQS_INDEX), VFU_PCI_IRQ_MSI);
    assert_int_equal(vfu_get(m, VFU_F_SET_IRQS_START), 4);
    assert_int_equal(vfu_get(m, VFU_F_SET_IRQS_COUNT), sizeof irq_bools);
    expect_data(m, VFU_F_SET_IRQS_DATA, irq_bools, sizeof irq_bools);
    assert_int_equal(m->nfds, 0);
}

static void set_irqs_eventfd_build(struct vfu_enc *e)
{
    vfu_enc_set(e, VFU_F_SET_IRQS_FLAGS, VFU_IRQ_SET_FLAGS_DATA_EVENTFD | VFU_IRQ_SET_FLAGS_ACTION_TRIGGER);
    vfu_enc_set(e, VFU_F_SET_IRQS_INDEX, VFU_PCI_IRQ_MSIX);
    vfu_enc_set(e, VFU_F_SET_IRQS_START, 0);
    vfu_enc_set(e, VFU_F_SET_IRQS_COUNT, 3);
    for (int i = 0; i < 3; i++) vfu_enc_fd(e, FD0 + i);
}
static void set_irqs_eventfd_check(const struct vfu_msg *m)
{
    assert_int_equal(vfu_get(m, VFU_F_SET_IRQS_ARGSZ), VFU_SIZE_SET_IRQS);
    assert_int_equal(vfu_get(m, VFU_F_SET_IRQS_FLAGS), VFU_IRQ_SET_FLAGS_DATA_EVENTFD | VFU_IRQ_SET_FLAGS_ACTION_TRIGGER);
    assert_int_equal(vfu_get(m, VFU_F_SET_IRQS_INDEX), VFU_PCI_IRQ_MSIX);
    assert_int_equal(vfu_get(m, VFU_F_SET_IRQS_START), 0);
    assert_int_equal(vfu_get(m, VFU_F_SET_IRQS_COUNT), 3);
    assert_null(vfu_tail(m, VFU_F_SET_IRQS_DATA));
    assert_int_equal(m->nfds, 3);
    for (int i = 0; i < 3; i++) assert_int_equal(m->fds[i], FD0 + i);
}

/* ---------------------------------------- REGION_READ / _WRITE --- */

static void region_read_req_build(struct vfu_enc *e)
{
    vfu_enc_set(e, VFU_F_REGION_ACCESS_OFFSET, 0x1000);
    vfu_enc_set(e, VFU_F_REGION_ACCESS_REGION, VFU_PCI_REGION_BAR0);
    vfu_enc_set(e, VFU_F_REGION_ACCESS_COUNT, sizeof bar_bytes);
}
static void region_read_req_check(const struct vfu_msg *m)
{
    assert_int_equal(vfu_get(m, VFU_F_REGION_ACCESS_OFFSET), 0x1000);
    assert_int_equal(vfu_get(m, VFU_F_REGION_ACCESS_REGION), VFU_PCI_REGION_BAR0);
    assert_int_equal(vfu_get(m, VFU_F_REGION_ACCESS_COUNT), sizeof bar_bytes);
}

static void region_read_reply_build(struct vfu_enc *e)
{
    vfu_enc_set(e, VFU_F_REGION_ACCESS_DATA_OFFSET, 0x1000);
    vfu_enc_set(e, VFU_F_REGION_ACCESS_DATA_REGION, VFU_PCI_REGION_BAR0);
    vfu_enc_data(e, VFU_F_REGION_ACCESS_DATA_DATA, bar_bytes, sizeof bar_bytes);
}
static void region_read_reply_check(const struct vfu_msg *m)
{
    assert_int_equal(vfu_get(m, VFU_F_REGION_ACCESS_DATA_OFFSET), 0x1000);
    assert_int_equal(vfu_get(m, VFU_F_REGION_ACCESS_DATA_REGION), VFU_PCI_REGION_BAR0);
    assert_int_equal(vfu_get(m, VFU_F_REGION_ACCESS_DATA_COUNT), sizeof bar_bytes);
    expect_data(m, VFU_F_REGION_ACCESS_DATA_DATA, bar_bytes, sizeof bar_bytes);
}

static void region_write_req_build(struct vfu_enc *e)
{
    vfu_enc_set(e, VFU_F_REGION_ACCESS_DATA_OFFSET, 4);   /* PCI command register */
    vfu_enc_set(e, VFU_F_REGION_ACCESS_DATA_REGION, VFU_PCI_REGION_CONFIG);
    vfu_enc_data(e, VFU_F_REGION_ACCESS_DATA_DATA, cfg_command, sizeof cfg_command);
}
static void region_write_req_check(const struct vfu_msg *m)
{
    assert_int_equal(vfu_get(m, VFU_F_REGION_ACCESS_DATA_OFFSET), 4);
    assert_int_equal(vfu_get(m, VFU_F_REGION_ACCESS_DATA_REGION), VFU_PCI_REGION_CONFIG);
    assert_int_equal(vfu_get(m, VFU_F_REGION_ACCESS_DATA_COUNT), sizeof cfg_command);
    expect_data(m, VFU_F_REGION_ACCESS_DATA_DATA, cfg_command, sizeof cfg_command);
}

static void region_write_reply_build(struct vfu_enc *e)
{
    vfu_enc_set(e, VFU_F_REGION_ACCESS_OFFSET, 4);
    vfu_enc_set(e, VFU_F_REGION_ACCESS_REGION, VFU_PCI_REGION_CONFIG);
    vfu_enc_set(e, VFU_F_REGION_ACCESS_COUNT, sizeof cfg_command);
}
static void region_write_reply_check(const struct vfu_msg *m)
{
    assert_int_equal(vfu_get(m, VFU_F_REGION_ACCESS_OFFSET), 4);
    assert_int_equal(vfu_get(m, VFU_F_REGION_ACCESS_REGION), VFU_PCI_REGION_CONFIG);
    assert_int_equal(vfu_get(m, VFU_F_REGION_ACCESS_COUNT), sizeof cfg_command);
}

/* ---------------------------------------------- DMA_READ / _WRITE --- */

static void dma_read_req_build(struct vfu_enc *e)
{
    vfu_enc_set(e, VFU_F_DMA_ACCESS_ADDRESS, 0x100000800ULL);
    vfu_enc_set(e, VFU_F_DMA_ACCESS_COUNT, sizeof dma_bytes);
}
static void dma_read_req_check(const struct vfu_msg *m)
{
    assert_int_equal(vfu_get(m, VFU_F_DMA_ACCESS_ADDRESS), 0x100000800ULL);
    assert_int_equal(vfu_get(m, VFU_F_DMA_ACCESS_COUNT), sizeof dma_bytes);
}

static void dma_data_build(struct vfu_enc *e)
{
    vfu_enc_set(e, VFU_F_DMA_ACCESS_DATA_ADDRESS, 0x100000800ULL);
    vfu_enc_data(e, VFU_F_DMA_ACCESS_DATA_DATA, dma_bytes, sizeof dma_bytes);
}
static void dma_data_check(const struct vfu_msg *m)
{
    assert_int_equal(vfu_get(m, VFU_F_DMA_ACCESS_DATA_ADDRESS), 0x100000800ULL);
    assert_int_equal(vfu_get(m, VFU_F_DMA_ACCESS_DATA_COUNT), sizeof dma_bytes);
    expect_data(m, VFU_F_DMA_ACCESS_DATA_DATA, dma_bytes, sizeof dma_bytes);
}

static void dma_write_reply_build(struct vfu_enc *e)
{
    vfu_enc_set(e, VFU_F_DMA_WRITE_ACK_ADDRESS, 0x100000800ULL);
    vfu_enc_set(e, VFU_F_DMA_WRITE_ACK_COUNT, sizeof dma_bytes);
}
static void dma_write_reply_check(const struct vfu_msg *m)
{
    assert_int_equal(vfu_get(m, VFU_F_DMA_WRITE_ACK_ADDRESS), 0x100000800ULL);
    assert_int_equal(vfu_get(m, VFU_F_DMA_WRITE_ACK_COUNT), sizeof dma_bytes);
    assert_true(vfu_has(m, VFU_F_DMA_WRITE_ACK_COUNT_HI));
    assert_int_equal(vfu_get(m, VFU_F_DMA_WRITE_ACK_COUNT_HI), 0);
}

/* --------------------------------------------- REGION_WRITE_MULTI --- */

static void write_multi_req_build(struct vfu_enc *e)
{
    for (int i = 0; i < 3; i++) {
        vfu_enc_elem(e, VFU_F_WRITE_MULTI_WRS);
        vfu_enc_set(e, VFU_F_WRITE_MULTI_ENTRY_OFFSET, multi[i].offset);
        vfu_enc_set(e, VFU_F_WRITE_MULTI_ENTRY_REGION, multi[i].region);
        vfu_enc_set(e, VFU_F_WRITE_MULTI_ENTRY_COUNT, multi[i].count);
        vfu_enc_bytes(e, VFU_F_WRITE_MULTI_ENTRY_DATA, multi[i].data, multi[i].count);
    }
}
static void write_multi_req_check(const struct vfu_msg *m)
{
    const int a = VFU_F_WRITE_MULTI_WRS;
    assert_int_equal(vfu_get(m, VFU_F_WRITE_MULTI_WR_CNT), 3);
    assert_int_equal(vfu_count(m, a), 3);
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(vfu_elem_get(m, a, i, VFU_F_WRITE_MULTI_ENTRY_OFFSET), multi[i].offset);
        assert_int_equal(vfu_elem_get(m, a, i, VFU_F_WRITE_MULTI_ENTRY_REGION), multi[i].region);
        assert_int_equal(vfu_elem_get(m, a, i, VFU_F_WRITE_MULTI_ENTRY_COUNT), multi[i].count);
        const uint8_t *d = codec_elem_bytes(m, a, i, VFU_F_WRITE_MULTI_ENTRY_DATA);
        assert_non_null(d);
        assert_memory_equal(d, multi[i].data, sizeof multi[i].data);
    }
}

static void write_multi_reply_build(struct vfu_enc *e)
{
    vfu_enc_set(e, VFU_F_WRITE_MULTI_ACK_WR_CNT, 3);
}
static void write_multi_reply_check(const struct vfu_msg *m)
{
    assert_int_equal(vfu_get(m, VFU_F_WRITE_MULTI_ACK_WR_CNT), 3);
}

/* -------------------------------------------------- DEVICE_FEATURE --- */

#define FEAT(name) ((uint64_t)VFU_DEVICE_FEATURE_##name << VFU_DEVICE_FEATURE_FLAGS_FEATURE_SHIFT)
#define FGET VFU_DEVICE_FEATURE_FLAGS_GET
#define FSET VFU_DEVICE_FEATURE_FLAGS_SET
#define FPROBE VFU_DEVICE_FEATURE_FLAGS_PROBE

static void feat_header(struct vfu_enc *e, uint64_t flags, uint64_t argsz)
{
    vfu_enc_set(e, e->is_reply ? VFU_F_DEVICE_FEATURE_FLAGS : VFU_F_DEVICE_FEATURE_REQ_FLAGS, flags);
    if (!e->is_reply) vfu_enc_set(e, VFU_F_DEVICE_FEATURE_REQ_ARGSZ, argsz);
}
static void feat_expect(const struct vfu_msg *m, uint64_t flags, uint64_t argsz)
{
    int r = m->is_reply;
    assert_int_equal(vfu_get(m, r ? VFU_F_DEVICE_FEATURE_FLAGS : VFU_F_DEVICE_FEATURE_REQ_FLAGS), flags);
    assert_int_equal(vfu_get(m, r ? VFU_F_DEVICE_FEATURE_ARGSZ : VFU_F_DEVICE_FEATURE_REQ_ARGSZ), argsz);
    if (r) assert_int_equal(argsz, m->payload_len);
}

static void feat_probe_build(struct vfu_enc *e)
{
    feat_header(e, FEAT(DMA_LOGGING_START) | FPROBE | FSET, VFU_SIZE_DEVICE_FEATURE);
}
static void feat_probe_check(const struct vfu_msg *m)
{
    feat_expect(m, FEAT(DMA_LOGGING_START) | FPROBE | FSET, VFU_SIZE_DEVICE_FEATURE);
    assert_int_equal(m->nparts, 1);
    assert_int_equal(m->payload_len, VFU_SIZE_DEVICE_FEATURE);
}

static void feat_mig_get_req_build(struct vfu_enc *e)
{
    feat_header(e, FEAT(MIGRATION) | FGET, VFU_SIZE_DEVICE_FEATURE + VFU_SIZE_FEATURE_MIGRATION);
}
static void feat_mig_get_req_check(const struct vfu_msg *m)
{
    feat_expect(m, FEAT(MIGRATION) | FGET, VFU_SIZE_DEVICE_FEATURE + VFU_SIZE_FEATURE_MIGRATION);
    assert_int_equal(m->payload_len, VFU_SIZE_DEVICE_FEATURE_REQ);
}

static void feat_mig_get_reply_build(struct vfu_enc *e)
{
    feat_header(e, FEAT(MIGRATION) | FGET, 0);
    vfu_enc_struct(e, VFU_S_FEATURE_MIGRATION);
    vfu_enc_set(e, VFU_F_FEATURE_MIGRATION_FLAGS, VFU_MIGRATION_FLAGS_STOP_COPY | VFU_MIGRATION_FLAGS_PRE_COPY);
}
static void feat_mig_get_reply_check(const struct vfu_msg *m)
{
    feat_expect(m, FEAT(MIGRATION) | FGET, VFU_SIZE_DEVICE_FEATURE + VFU_SIZE_FEATURE_MIGRATION);
    assert_int_equal(vfu_get(m, VFU_F_FEATURE_MIGRATION_FLAGS),
                     VFU_MIGRATION_FLAGS_STOP_COPY | VFU_MIGRATION_FLAGS_PRE_COPY);
}

static void feat_state_set_req_build(struct vfu_enc *e)
{
    feat_header(e, FEAT(MIG_DEVICE_STATE) | FSET, VFU_SIZE_DEVICE_FEATURE + VFU_SIZE_FEATURE_MIG_STATE);
    vfu_enc_struct(e, VFU_S_FEATURE_MIG_STATE);
    vfu_enc_set(e, VFU_F_FEATURE_MIG_STATE_DEVICE_STATE, VFU_DEVICE_MIG_STATE_STOP_COPY);
}
static void feat_state_set_req_check(const struct vfu_msg *m)
{
    feat_expect(m, FEAT(MIG_DEVICE_STATE) | FSET, VFU_SIZE_DEVICE_FEATURE + VFU_SIZE_FEATURE_MIG_STATE);
    assert_int_equal(vfu_get(m, VFU_F_FEATURE_MIG_STATE_DEVICE_STATE), VFU_DEVICE_MIG_STATE_STOP_COPY);
    assert_int_equal(vfu_get(m, VFU_F_FEATURE_MIG_STATE_DATA_FD), 0);
}

static void feat_state_set_reply_build(struct vfu_enc *e)
{
    feat_header(e, FEAT(MIG_DEVICE_STATE) | FSET, 0);
    vfu_enc_struct(e, VFU_S_FEATURE_MIG_STATE);
    vfu_enc_set(e, VFU_F_FEATURE_MIG_STATE_DEVICE_STATE, VFU_DEVICE_MIG_STATE_STOP_COPY);
}
static void feat_state_set_reply_check(const struct vfu_msg *m)
{
    feat_expect(m, FEAT(MIG_DEVICE_STATE) | FSET, VFU_SIZE_DEVICE_FEATURE + VFU_SIZE_FEATURE_MIG_STATE);
    assert_int_equal(vfu_get(m, VFU_F_FEATURE_MIG_STATE_DEVICE_STATE), VFU_DEVICE_MIG_STATE_STOP_COPY);
}

static void feat_state_get_req_build(struct vfu_enc *e)
{
    feat_header(e, FEAT(MIG_DEVICE_STATE) | FGET, VFU_SIZE_DEVICE_FEATURE + VFU_SIZE_FEATURE_MIG_STATE);
}
static void feat_state_get_req_check(const struct vfu_msg *m)
{
    feat_expect(m, FEAT(MIG_DEVICE_STATE) | FGET, VFU_SIZE_DEVICE_FEATURE + VFU_SIZE_FEATURE_MIG_STATE);
    assert_false(vfu_has(m, VFU_F_FEATURE_MIG_STATE_DEVICE_STATE));
}

static void feat_state_get_reply_build(struct vfu_enc *e)
{
    feat_header(e, FEAT(MIG_DEVICE_STATE) | FGET, 0);
    vfu_enc_struct(e, VFU_S_FEATURE_MIG_STATE);
    vfu_enc_set(e, VFU_F_FEATURE_MIG_STATE_DEVICE_STATE, VFU_DEVICE_MIG_STATE_PRE_COPY);
}
static void feat_state_get_reply_check(const struct vfu_msg *m)
{
    feat_expect(m, FEAT(MIG_DEVICE_STATE) | FGET, VFU_SIZE_DEVICE_FEATURE + VFU_SIZE_FEATURE_MIG_STATE);
    assert_int_equal(vfu_get(m, VFU_F_FEATURE_MIG_STATE_DEVICE_STATE), VFU_DEVICE_MIG_STATE_PRE_COPY);
}

static void logging_ranges(struct vfu_enc *e)
{
    vfu_enc_struct(e, VFU_S_DMA_LOGGING_CONTROL);
    vfu_enc_set(e, VFU_F_DMA_LOGGING_CONTROL_PAGE_SIZE, 4096);
    for (int i = 0; i < 2; i++) {
        vfu_enc_elem(e, VFU_F_DMA_LOGGING_CONTROL_RANGES);
        vfu_enc_set(e, VFU_F_DMA_LOGGING_RANGE_IOVA, ranges[i].iova);
        vfu_enc_set(e, VFU_F_DMA_LOGGING_RANGE_LENGTH, ranges[i].length);
    }
}
static void logging_ranges_expect(const struct vfu_msg *m)
{
    const int a = VFU_F_DMA_LOGGING_CONTROL_RANGES;
    assert_int_equal(vfu_get(m, VFU_F_DMA_LOGGING_CONTROL_PAGE_SIZE), 4096);
    assert_int_equal(vfu_get(m, VFU_F_DMA_LOGGING_CONTROL_NUM_RANGES), 2);
    assert_int_equal(vfu_get(m, VFU_F_DMA_LOGGING_CONTROL_RESERVED), 0);
    assert_int_equal(vfu_count(m, a), 2);
    for (uint32_t i = 0; i < 2; i++) {
        assert_int_equal(vfu_elem_get(m, a, i, VFU_F_DMA_LOGGING_RANGE_IOVA), ranges[i].iova);
        assert_int_equal(vfu_elem_get(m, a, i, VFU_F_DMA_LOGGING_RANGE_LENGTH), ranges[i].length);
    }
}
#define LOGGING_LEN (VFU_SIZE_DEVICE_FEATURE + VFU_SIZE_DMA_LOGGING_CONTROL + 2 * VFU_SIZE_DMA_LOGGING_RANGE)

static void feat_start_build(struct vfu_enc *e)
{
    feat_header(e, FEAT(DMA_LOGGING_START) | FSET, LOGGING_LEN);
    logging_ranges(e);
}
static void feat_start_check(const struct vfu_msg *m)
{
    feat_expect(m, FEAT(DMA_LOGGING_START) | FSET, LOGGING_LEN);
    logging_ranges_expect(m);
}

static void feat_stop_build(struct vfu_enc *e)
{
    feat_header(e, FEAT(DMA_LOGGING_STOP) | FSET, LOGGING_LEN);
    logging_ranges(e);
}
static void feat_stop_check(const struct vfu_msg *m)
{
    feat_expect(m, FEAT(DMA_LOGGING_STOP) | FSET, LOGGING_LEN);
    logging_ranges_expect(m);
}

static void feat_stop_bare_build(struct vfu_enc *e)
{
    feat_header(e, FEAT(DMA_LOGGING_STOP) | FSET, VFU_SIZE_DEVICE_FEATURE);
}
static void feat_stop_bare_check(const struct vfu_msg *m)
{
    feat_expect(m, FEAT(DMA_LOGGING_STOP) | FSET, VFU_SIZE_DEVICE_FEATURE);
    assert_int_equal(m->payload_len, VFU_SIZE_DEVICE_FEATURE);
    assert_false(vfu_has(m, VFU_F_DMA_LOGGING_CONTROL_PAGE_SIZE));
    assert_int_equal(vfu_count(m, VFU_F_DMA_LOGGING_CONTROL_RANGES), 0);
}

/* 1 MiB of 4 KiB pages: 256 bits, four words */
#define REPORT_LEN (VFU_SIZE_DEVICE_FEATURE + VFU_SIZE_DMA_LOGGING_REPORT + sizeof dirty_words)
static void feat_report_req_build(struct vfu_enc *e)
{
    feat_header(e, FEAT(DMA_LOGGING_REPORT) | FGET, REPORT_LEN);
    vfu_enc_struct(e, VFU_S_DMA_LOGGING_REPORT_REQ);
    vfu_enc_set(e, VFU_F_DMA_LOGGING_REPORT_REQ_IOVA, 0x100000);
    vfu_enc_set(e, VFU_F_DMA_LOGGING_REPORT_REQ_LENGTH, 0x100000);
    vfu_enc_set(e, VFU_F_DMA_LOGGING_REPORT_REQ_PAGE_SIZE, 4096);
}
static void feat_report_req_check(const struct vfu_msg *m)
{
    feat_expect(m, FEAT(DMA_LOGGING_REPORT) | FGET, REPORT_LEN);
    assert_int_equal(vfu_get(m, VFU_F_DMA_LOGGING_REPORT_REQ_IOVA), 0x100000);
    assert_int_equal(vfu_get(m, VFU_F_DMA_LOGGING_REPORT_REQ_LENGTH), 0x100000);
    assert_int_equal(vfu_get(m, VFU_F_DMA_LOGGING_REPORT_REQ_PAGE_SIZE), 4096);
}

static void feat_report_reply_build(struct vfu_enc *e)
{
    feat_header(e, FEAT(DMA_LOGGING_REPORT) | FGET, 0);
    vfu_enc_struct(e, VFU_S_DMA_LOGGING_REPORT);
    vfu_enc_set(e, VFU_F_DMA_LOGGING_REPORT_IOVA, 0x100000);
    vfu_enc_set(e, VFU_F_DMA_LOGGING_REPORT_LENGTH, 0x100000);
    vfu_enc_set(e, VFU_F_DMA_LOGGING_REPORT_PAGE_SIZE, 4096);
    vfu_enc_data(e, VFU_F_DMA_LOGGING_REPORT_BITMAP, dirty_words, sizeof dirty_words);
}
static void feat_report_reply_check(const struct vfu_msg *m)
{
    feat_expect(m, FEAT(DMA_LOGGING_REPORT) | FGET, REPORT_LEN);
    assert_int_equal(vfu_get(m, VFU_F_DMA_LOGGING_REPORT_IOVA), 0x100000);
    assert_int_equal(vfu_get(m, VFU_F_DMA_LOGGING_REPORT_LENGTH), 0x100000);
    assert_int_equal(vfu_get(m, VFU_F_DMA_LOGGING_REPORT_PAGE_SIZE), 4096);
    const struct vfu_part *p = vfu_tail(m, VFU_F_DMA_LOGGING_REPORT_BITMAP);
    assert_non_null(p);
    assert_int_equal(p->kind, VFU_P_BITMAP);
    assert_int_equal(p->count, 4);
    expect_data(m, VFU_F_DMA_LOGGING_REPORT_BITMAP, dirty_words, sizeof dirty_words);
}

/* ------------------------------------------ MIG_DATA_READ / _WRITE --- */

static void mig_read_req_build(struct vfu_enc *e)
{
    vfu_enc_set(e, VFU_F_MIG_DATA_REQ_ARGSZ, VFU_SIZE_MIG_DATA + sizeof mig_bytes);
    vfu_enc_set(e, VFU_F_MIG_DATA_REQ_SIZE, sizeof mig_bytes);
}
static void mig_read_req_check(const struct vfu_msg *m)
{
    assert_int_equal(vfu_get(m, VFU_F_MIG_DATA_REQ_ARGSZ), VFU_SIZE_MIG_DATA + sizeof mig_bytes);
    assert_int_equal(vfu_get(m, VFU_F_MIG_DATA_REQ_SIZE), sizeof mig_bytes);
}

static void mig_data_build(struct vfu_enc *e)
{
    if (!e->is_reply) vfu_enc_set(e, VFU_F_MIG_DATA_ARGSZ, VFU_SIZE_MIG_DATA + sizeof mig_bytes);
    vfu_enc_data(e, VFU_F_MIG_DATA_DATA, mig_bytes, sizeof mig_bytes);
}
static void mig_data_check(const struct vfu_msg *m)
{
    assert_int_equal(vfu_get(m, VFU_F_MIG_DATA_ARGSZ), VFU_SIZE_MIG_DATA + sizeof mig_bytes);
    assert_int_equal(vfu_get(m, VFU_F_MIG_DATA_SIZE), sizeof mig_bytes);
    expect_data(m, VFU_F_MIG_DATA_DATA, mig_bytes, sizeof mig_bytes);
}

/* ------------------------------------------------------------ table --- */

#define NOPFX false
#define PFX true
#define REQ(cmd, name, b, c, pfx) {name, VFU_CMD_##cmd, false, b, c, pfx}
#define REP(cmd, name, b, c, pfx) {name, VFU_CMD_##cmd, true, b, c, pfx}

const struct codec_case codec_cases[] = {
    REQ(VERSION, "VERSION request with JSON", version_req_build, version_req_check, PFX),
    REP(VERSION, "VERSION reply with JSON", version_reply_build, version_reply_check, PFX),
    REQ(DMA_MAP, "DMA_MAP request with fd", dma_map_req_build, dma_map_req_check, NOPFX),
    REP(DMA_MAP, "DMA_MAP reply", empty_build, expect_no_payload, NOPFX),
    REQ(DMA_UNMAP, "DMA_UNMAP request", dma_unmap_req_build, dma_unmap_req_check, NOPFX),
    REQ(DMA_UNMAP, "DMA_UNMAP request ALL", dma_unmap_all_build, dma_unmap_all_check, NOPFX),
    REP(DMA_UNMAP, "DMA_UNMAP reply", dma_unmap_reply_build, dma_unmap_req_check, NOPFX),
    REQ(DEVICE_GET_INFO, "DEVICE_GET_INFO request", dev_info_req_build, dev_info_req_check, NOPFX),
    REP(DEVICE_GET_INFO, "DEVICE_GET_INFO reply", dev_info_reply_build, dev_info_reply_check, NOPFX),
    REQ(DEVICE_GET_REGION_INFO, "REGION_INFO request", region_info_req_build, region_info_req_check, NOPFX),
    /* a reply cut after its fixed part is what a server sends when argsz
     * was too small for the caps; argsz then still says the full size */
    REP(DEVICE_GET_REGION_INFO, "REGION_INFO reply, SPARSE_MMAP and TYPE caps", region_info_reply_build,
        region_info_reply_check, PFX),
    REQ(DEVICE_GET_REGION_IO_FDS, "REGION_IO_FDS request", io_fds_req_build, io_fds_req_check, NOPFX),
    REP(DEVICE_GET_REGION_IO_FDS, "REGION_IO_FDS reply, ioeventfd and ioregionfd", io_fds_reply_build,
        io_fds_reply_check, NOPFX),
    REQ(DEVICE_GET_IRQ_INFO, "IRQ_INFO request", irq_info_req_build, irq_info_req_check, NOPFX),
    REP(DEVICE_GET_IRQ_INFO, "IRQ_INFO reply", irq_info_reply_build, irq_info_reply_check, NOPFX),
    REQ(DEVICE_SET_IRQS, "SET_IRQS DATA_BOOL", set_irqs_bool_build, set_irqs_bool_check, NOPFX),
    REQ(DEVICE_SET_IRQS, "SET_IRQS DATA_EVENTFD with fds", set_irqs_eventfd_build, set_irqs_eventfd_check, NOPFX),
    REP(DEVICE_SET_IRQS, "SET_IRQS reply", empty_build, expect_no_payload, NOPFX),
    REQ(REGION_READ, "REGION_READ request", region_read_req_build, region_read_req_check, NOPFX),
    REP(REGION_READ, "REGION_READ reply with data", region_read_reply_build, region_read_reply_check, NOPFX),
    REQ(REGION_WRITE, "REGION_WRITE request with data", region_write_req_build, region_write_req_check, NOPFX),
    REP(REGION_WRITE, "REGION_WRITE reply", region_write_reply_build, region_write_reply_check, NOPFX),
    REQ(DMA_READ, "DMA_READ request", dma_read_req_build, dma_read_req_check, NOPFX),
    REP(DMA_READ, "DMA_READ reply with data", dma_data_build, dma_data_check, NOPFX),
    REQ(DMA_WRITE, "DMA_WRITE request with data", dma_data_build, dma_data_check, NOPFX),
    /* count_hi is optional: the spec's 4-byte count alone is valid */
    REP(DMA_WRITE, "DMA_WRITE reply", dma_write_reply_build, dma_write_reply_check,
        PFX),
    REQ(DEVICE_RESET, "DEVICE_RESET request", empty_build, expect_no_payload, NOPFX),
    REP(DEVICE_RESET, "DEVICE_RESET reply", empty_build, expect_no_payload, NOPFX),
    REQ(REGION_WRITE_MULTI, "WRITE_MULTI with 3 entries", write_multi_req_build, write_multi_req_check, NOPFX),
    REP(REGION_WRITE_MULTI, "WRITE_MULTI reply", write_multi_reply_build, write_multi_reply_check, NOPFX),
    REQ(DEVICE_FEATURE, "FEATURE PROBE", feat_probe_build, feat_probe_check, NOPFX),
    REP(DEVICE_FEATURE, "FEATURE PROBE reply", feat_probe_build, feat_probe_check, NOPFX),
    REQ(DEVICE_FEATURE, "FEATURE MIGRATION GET", feat_mig_get_req_build, feat_mig_get_req_check, NOPFX),
    REP(DEVICE_FEATURE, "FEATURE MIGRATION GET reply", feat_mig_get_reply_build, feat_mig_get_reply_check, NOPFX),
    REQ(DEVICE_FEATURE, "FEATURE MIG_DEVICE_STATE SET", feat_state_set_req_build, feat_state_set_req_check, NOPFX),
    REP(DEVICE_FEATURE, "FEATURE MIG_DEVICE_STATE SET reply", feat_state_set_reply_build,
        feat_state_set_reply_check, NOPFX),
    REQ(DEVICE_FEATURE, "FEATURE MIG_DEVICE_STATE GET", feat_state_get_req_build, feat_state_get_req_check, NOPFX),
    REP(DEVICE_FEATURE, "FEATURE MIG_DEVICE_STATE GET reply", feat_state_get_reply_build,
        feat_state_get_reply_check, NOPFX),
    REQ(DEVICE_FEATURE, "FEATURE DMA_LOGGING_START", feat_start_build, feat_start_check, NOPFX),
    REP(DEVICE_FEATURE, "FEATURE DMA_LOGGING_START reply", feat_start_build, feat_start_check, NOPFX),
    /* STOP's ranges are optional: the bare 8 bytes are the kernel form */
    REQ(DEVICE_FEATURE, "FEATURE DMA_LOGGING_STOP with ranges", feat_stop_build, feat_stop_check,
        PFX),
    REQ(DEVICE_FEATURE, "FEATURE DMA_LOGGING_STOP bare", feat_stop_bare_build, feat_stop_bare_check, NOPFX),
    REP(DEVICE_FEATURE, "FEATURE DMA_LOGGING_STOP reply", feat_stop_build, feat_stop_check, NOPFX),
    REQ(DEVICE_FEATURE, "FEATURE DMA_LOGGING_REPORT", feat_report_req_build, feat_report_req_check, NOPFX),
    REP(DEVICE_FEATURE, "FEATURE DMA_LOGGING_REPORT reply with bitmap", feat_report_reply_build,
        feat_report_reply_check, NOPFX),
    REQ(MIG_DATA_READ, "MIG_DATA_READ request", mig_read_req_build, mig_read_req_check, NOPFX),
    REP(MIG_DATA_READ, "MIG_DATA_READ reply with data", mig_data_build, mig_data_check, NOPFX),
    REQ(MIG_DATA_WRITE, "MIG_DATA_WRITE request with data", mig_data_build, mig_data_check, NOPFX),
    REP(MIG_DATA_WRITE, "MIG_DATA_WRITE reply", empty_build, expect_no_payload, NOPFX),
};
const size_t codec_ncases = sizeof codec_cases / sizeof codec_cases[0];

/* ---------------------------------------------------------- harness --- */

size_t codec_case_encode(const struct codec_case *c, uint8_t *buf, size_t cap, int *fds, unsigned *nfds)
{
    struct vfu_enc e;
    struct vfu_error err;
    vfu_enc_begin(&e, buf, cap, c->cmd, c->is_reply, 0x4242);
    c->build(&e);
    if (!vfu_enc_finish(&e, &err)) {
        char s[200];
        vfu_error_str(&err, s, sizeof s);
        fail_msg("%s: encode failed: %s", c->name, s);
    }
    memcpy(fds, e.fds, e.nfds * sizeof *fds);
    *nfds = e.nfds;
    return e.len;
}

enum vfu_role codec_case_receiver(const struct codec_case *c)
{
    bool from_client = (vfu_cmd(c->cmd)->dir == VFU_DIR_CLIENT) != c->is_reply;
    return from_client ? VFU_ROLE_SERVER : VFU_ROLE_CLIENT;
}

void codec_case_limits(struct vfu_limits *lim)
{
    vfu_limits_default(lim);
    lim->max_fds = 8;
}

bool codec_decode_errc(enum vfu_errc code)
{
    return code >= VFU_E_HDR_SHORT && code <= VFU_E_TOO_DEEP;
}

/* --------------------------------------------------------- read_all --- */

static uint64_t sink;   /* keeps the reads from being optimised away */

static void read_bytes(const uint8_t *p, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) sink += p[i];
}

/* every integer of struct sid laid out at base, read two ways that must agree */
static void read_struct(const struct vfu_msg *m, const struct vfu_part *p)
{
    const struct vfu_struct_desc *s = &vfu_spec.structs[p->sid];
    assert_true(p->len >= s->min_size && p->len <= s->size);
    for (unsigned i = 0; i < s->nfields; i++) {
        int fid = s->first_field + (int)i;
        const struct vfu_field_desc *f = &vfu_spec.fields[fid];
        if (f->kind != VFU_K_UINT || (uint32_t)f->offset + f->width > p->len) continue;
        assert_int_equal(vfu_part_get(m, p, fid), vfu_read_uint(m->payload + p->off + f->offset, f->width));
    }
    read_bytes(m->payload + p->off, p->len);
}

static void read_array(const struct vfu_msg *m, const struct vfu_part *p)
{
    const struct vfu_struct_desc *es = &vfu_spec.structs[p->sid];
    assert_int_equal(p->stride, es->stride);
    assert_int_equal((uint64_t)p->len, (uint64_t)p->count * p->stride);
    bool first = vfu_tail(m, p->field) == p;   /* vfu_elem_get reads the first one */
    for (uint32_t i = 0; i < p->count; i++) {
        for (unsigned k = 0; k < es->nfields; k++) {
            int fid = es->first_field + (int)k;
            const struct vfu_field_desc *f = &vfu_spec.fields[fid];
            if (f->kind != VFU_K_UINT) continue;
            uint64_t v = vfu_read_uint(m->payload + p->off + (uint64_t)i * p->stride + f->offset, f->width);
            if (first) assert_int_equal(vfu_elem_get(m, p->field, i, fid), v);
        }
    }
    read_bytes(m->payload + p->off, p->len);
}

void codec_read_all(const struct vfu_msg *m)
{
    assert_true(m->nparts <= VFU_MAX_PARTS);
    for (unsigned i = 0; i < m->nparts; i++) {
        const struct vfu_part *p = &m->parts[i];
        assert_true((uint64_t)p->off + p->len <= m->payload_len);
        assert_true(p->parent < (int)i);
        if (p->parent >= 0) assert_int_equal(m->parts[p->parent].kind, VFU_P_STRUCT);
        /* no byte is interpreted twice */
        for (unsigned j = 0; j < i; j++) {
            const struct vfu_part *q = &m->parts[j];
            assert_true(p->len == 0 || q->len == 0 || p->off >= q->off + q->len || q->off >= p->off + p->len);
        }
        switch (p->kind) {
        case VFU_P_STRUCT:
            assert_true(p->sid >= 0 && p->sid < vfu_spec.nstructs);
            read_struct(m, p);
            break;
        case VFU_P_ARRAY:
            assert_true(p->sid >= 0 && p->sid < vfu_spec.nstructs);
            read_array(m, p);
            break;
        case VFU_P_STRING:
            assert_true(p->len > 0);
            assert_int_equal(m->payload[p->off + p->len - 1], 0);
            assert_int_equal(strlen((const char *)m->payload + p->off), p->len - 1);
            /* fall through */
        case VFU_P_DATA:
        case VFU_P_BITMAP:
        case VFU_P_RAW: {
            if (p->kind == VFU_P_BITMAP) assert_int_equal((uint64_t)p->len, (uint64_t)p->count * 8);
            if (vfu_tail(m, p->field) == p) {
                uint32_t n = 0;
                const uint8_t *d = vfu_data(m, p->field, &n);
                assert_ptr_equal(d, m->payload + p->off);
                assert_int_equal(n, p->len);
            }
            read_bytes(m->payload + p->off, p->len);
            break;
        }
        default:
            fail_msg("part %u has kind %u", i, p->kind);
        }
    }
}

/* ---------------------------------------------------------- running --- */

bool codec_decode_copy(struct vfu_msg *m, uint8_t **copy, const uint8_t *buf, size_t len, const int *fds,
                       unsigned nfds, const struct vfu_limits *lim, enum vfu_role receiver,
                       struct vfu_error *err)
{
    *copy = malloc(len ? len : 1);
    assert_non_null(*copy);
    if (len) memcpy(*copy, buf, len);
    return vfu_decode(m, *copy, len, fds, nfds, lim, receiver, err);
}

void codec_expect_error(const uint8_t *buf, size_t len, const int *fds, unsigned nfds,
                        const struct vfu_limits *lim, enum vfu_role receiver, enum vfu_errc code,
                        int cmd, int field)
{
    struct vfu_msg m;
    struct vfu_error err;
    uint8_t *copy;
    bool ok = codec_decode_copy(&m, &copy, buf, len, fds, nfds, lim, receiver, &err);
    free(copy);
    char s[256];
    vfu_error_str(&err, s, sizeof s);
    if (ok || err.code != code || err.cmd != cmd || err.field != field)
        fail_msg("want %s on command %d field %s, got %s: %s (cmd %d, field %d %s)", vfu_errc_name(code), cmd,
                 field >= 0 ? vfu_field_name(field) : "-", ok ? "OK" : vfu_errc_name(err.code), s, err.cmd,
                 err.field, err.field >= 0 ? vfu_field_name(err.field) : "-");
}

void codec_expect_ok(const uint8_t *buf, size_t len, const int *fds, unsigned nfds,
                     const struct vfu_limits *lim, enum vfu_role receiver)
{
    struct vfu_msg m;
    struct vfu_error err;
    uint8_t *copy;
    bool ok = codec_decode_copy(&m, &copy, buf, len, fds, nfds, lim, receiver, &err);
    if (ok) codec_read_all(&m);
    free(copy);
    if (!ok) {
        char s[256];
        vfu_error_str(&err, s, sizeof s);
        fail_msg("want OK, got %s", s);
    }
}

size_t codec_extend(uint8_t *buf, size_t len, size_t n)
{
    memset(buf + len, 0, n);
    codec_patch_size(buf, len + n);
    return len + n;
}

void codec_patch_size(uint8_t *buf, uint64_t msg_size)
{
    const struct vfu_field_desc *f = &vfu_spec.fields[VFU_F_HEADER_MSG_SIZE];
    vfu_write_uint(buf + f->offset, f->width, msg_size);
}

int codec_run_cases(const char *group, CMUnitTestFunction fn, const struct CMUnitTest *extra, size_t nextra)
{
    size_t n = codec_ncases + nextra;
    struct CMUnitTest *t = calloc(n, sizeof *t);
    if (!t) return 1;
    for (size_t i = 0; i < codec_ncases; i++) {
        t[i].name = codec_cases[i].name;
        t[i].test_func = fn;
        t[i].initial_state = (void *)&codec_cases[i];
    }
    for (size_t i = 0; i < nextra; i++) t[codec_ncases + i] = extra[i];
    int rc = _cmocka_run_group_tests(group, t, n, NULL, NULL);
    free(t);
    return rc;
}
