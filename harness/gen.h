/* Generated boundary scenarios: written at run time, after the probe, in
 * the scenario language (harness/SCENARIOS.md) and loaded like a .scn file.
 *
 * What is generated comes from the spec tables, not from this code: every
 * (offset, length) pair of a client command's request (a field with
 * role=offset or role=address and span=F, spec/README.md) is tried at the
 * classic boundaries of the space it points into (space=region:F: each
 * region the device reports readable or writable; space=irq:F: each IRQ
 * index with vectors; space=dma: guest DMA space, next to a window of each
 * mapping kind), and every role=index field at the end of the set it
 * indexes (space=regions / irqs).  The wrap-around values come from the
 * fields' widths in the tables (2^32 and 2^64 forms).  Where the device
 * refuses some accesses on its own (sizes, alignment), the probe learns one
 * access width each region accepts and the in-bounds scenarios use it.
 *
 * Ids are stable for one device: COMMAND.bounds.PLACE.FORM, with PLACE
 * r<region>, i<irq index>, a mapping kind (memfd-rw, message-ro, ...) or
 * `index`, and FORM the boundary (one-past-end, wrap64-to-zero, ...). */
#ifndef VFU_GEN_H
#define VFU_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfu_proto.h"

#define GEN_MAX_PLACES 64

/* What the probe learned of the device: the places boundaries are tried on. */
struct gen_device {
    unsigned nregions, nirqs;
    struct {
        uint64_t size;
        uint32_t flags;     /* VFU_REGION_INFO_FLAGS_* */
        uint32_t width;     /* a read of this many bytes at offset 0 succeeded; 0: none did */
        /* what reads of that width found at offset 0 and at the last
         * offset of that alignment (vfh_gen_last_valid), for writes that put
         * the same bytes back; has_last: that read succeeded too */
        uint8_t first[8], last[8];
        bool has_last;
    } region[GEN_MAX_PLACES];
    struct {
        uint32_t count, flags;
    } irq[GEN_MAX_PLACES];
    uint64_t pgsize;        /* smallest of the server's pgsizes */
    uint64_t max_xfer;      /* the server's max_data_xfer_size */
    /* every capability as the server stated it (else the spec's default),
     * by enum vfu_capability_id: the values bound= fields meet */
    uint64_t cap[VFU_CAP__COUNT];
};

/* The mapping kinds a window is made of (a `map` step's memfd|message and
 * flags): ids name them. */
struct gen_kind {
    const char *name;   /* memfd-rw, memfd-ro, message-rw, message-ro */
    bool memfd;
    const char *flags;  /* dma_map_flags names */
};
#define GEN_NKINDS 4
extern const struct gen_kind vfh_gen_kinds[GEN_NKINDS];

/* Growing text of the generated scenarios. */
struct gen_buf {
    char *p;
    size_t n, cap;
    bool oom;
};

void vfh_gen_printf(struct gen_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vfh_gen_buf_free(struct gen_buf *b);

/* One generated scenario's header (scenario .. title); the caller adds the
 * steps and vfh_gen_end. */
void vfh_gen_begin(struct gen_buf *b, const char *id, const char *level, const char *rule, const char *title);
void vfh_gen_end(struct gen_buf *b);

/* The boundary scenarios of every (offset, length) pair and index field in
 * the spec's client commands, for this device.  False only on lack of
 * memory. */
bool vfh_gen_bounds(const struct gen_device *d, struct gen_buf *out);

/* one family each (gen_region.c, gen_irq.c, gen_dma.c, gen_index.c):
 * cmd and the pair's fields are table ids (struct vfu_cmd_desc index,
 * struct vfu_field_desc index) */
void vfh_gen_region_pair(struct gen_buf *b, const struct gen_device *d, unsigned cmd, int off, int len);
/* a region pair inside the elements of the request's array `array`
 * (REGION_WRITE_MULTI) */
void vfh_gen_region_elem_pair(struct gen_buf *b, const struct gen_device *d, unsigned cmd, int array, int off, int len);
void vfh_gen_irq_pair(struct gen_buf *b, const struct gen_device *d, unsigned cmd, int off, int len);
void vfh_gen_dma_pair(struct gen_buf *b, const struct gen_device *d, unsigned cmd, int off, int len);
/* an offset into the file the message sends (space=fd: DMA_MAP's): the
 * file is the scenario's own memfd, so its end is known (gen_dma.c) */
void vfh_gen_fd_pair(struct gen_buf *b, const struct gen_device *d, unsigned cmd, int off, int len);
/* count against payload where the pair's length counts the request's
 * bytes (gen_payload.c); ids COMMAND.bounds.r<region>.count-above-data and .data-above-count */
void vfh_gen_payload_pair(struct gen_buf *b, const struct gen_device *d, unsigned cmd, int off, int len);
/* the dirty-page report's (iova, length) inside the arms of the request's
 * variant `variant` (gen_dirty.c); ids COMMAND.bounds.dirty.FORM */
void vfh_gen_dirty_variant(struct gen_buf *b, const struct gen_device *d, unsigned cmd, int variant);
void vfh_gen_index_field(struct gen_buf *b, const struct gen_device *d, unsigned cmd, int field);

/* the last offset of a region of `size` bytes where an access of `width`
 * bytes, aligned to it, fits; 0 when none but offset 0 does */
uint64_t vfh_gen_last_valid(uint64_t size, uint32_t width);

/* DEVICE_SET_IRQS's flags in every generated request: DATA_NONE carries
 * nothing (no bools, no eventfds), so the range alone decides the answer,
 * and ACTION_TRIGGER is the one action every index has (MASK and UNMASK
 * need MASKABLE) */
#define GEN_IRQ_FLAGS "DATA_NONE|ACTION_TRIGGER"

/* 2^bits - v, for a field `bits` wide (64 included): the wrap-around
 * values of the tables' widths */
uint64_t vfh_gen_wrap(unsigned bits, uint64_t v);

#endif
