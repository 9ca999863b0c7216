/* Dirty page logging (DEVICE_FEATURE DMA_LOGGING_*): every DMA write the
 * device makes, by either DMA path, marks the logging pages it touches.
 * Pages are kept as a sorted set of page numbers, so any IOVA range can be
 * reported at any page size.  Over-reporting is always safe for migration,
 * under-reporting never is: when the set would grow past its bound every
 * page counts as dirty, and a report clears only pages it fully covered. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "srv_int.h"

/* 8 MiB of page numbers: far more than a toy device dirties */
#define DIRTY_MAX_PAGES (1u << 20)

void srv_dirty_stop(struct srv *s)
{
    struct srv_dirty *d = &s->dirty;
    free(d->ranges);
    free(d->pages);
    memset(d, 0, sizeof *d);
}

int srv_dirty_start(struct srv *s, uint64_t page_size, const struct srv_range *r, uint32_t n,
                    uint64_t *selected)
{
    struct srv_dirty *d = &s->dirty;
    if (d->active) return EBUSY;
    if (page_size == 0 || (page_size & (page_size - 1))) return EINVAL;
    /* the device's choice: nothing finer than 4 KiB */
    if (page_size < 4096) page_size = 4096;
    struct srv_range *copy = NULL;
    if (n) {
        copy = malloc(n * sizeof *copy);
        if (!copy) return ENOMEM;
        memcpy(copy, r, n * sizeof *copy);
    }
    d->active = true;
    d->page_size = page_size;
    d->ranges = copy;
    d->nranges = n;
    *selected = page_size;
    return 0;
}

/* first index whose page >= p */
static size_t find(const struct srv_dirty *d, uint64_t p)
{
    size_t lo = 0, hi = d->npages;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->pages[mid] < p) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static void mark(struct srv_dirty *d, uint64_t p)
{
    size_t i = find(d, p);
    if (i < d->npages && d->pages[i] == p) return;
    if (d->npages == d->cap) {
        if (d->cap >= DIRTY_MAX_PAGES) { d->overflow = true; return; }
        size_t cap = d->cap ? d->cap * 2 : 64;
        uint64_t *np = realloc(d->pages, cap * sizeof *np);
        if (!np) { d->overflow = true; return; }
        d->pages = np;
        d->cap = cap;
    }
    memmove(&d->pages[i + 1], &d->pages[i], (d->npages - i) * sizeof *d->pages);
    d->pages[i] = p;
    d->npages++;
}

/* marks the pages of [lo, hi] (inclusive) */
static void mark_span(struct srv_dirty *d, uint64_t lo, uint64_t hi)
{
    for (uint64_t p = lo / d->page_size; p <= hi / d->page_size && !d->overflow; p++) mark(d, p);
}

void srv_dirty_record(struct srv *s, uint64_t addr, uint64_t len)
{
    struct srv_dirty *d = &s->dirty;
    if (!d->active || !len || d->overflow) return;
    uint64_t last = addr + (len - 1);
    if (!d->nranges) { mark_span(d, addr, last); return; }
    for (uint32_t i = 0; i < d->nranges; i++) {
        uint64_t lo = addr > d->ranges[i].lo ? addr : d->ranges[i].lo;
        uint64_t hi = last < d->ranges[i].hi ? last : d->ranges[i].hi;
        if (lo <= hi) mark_span(d, lo, hi);
    }
}

static void set_bits(uint8_t *bitmap, uint64_t from, uint64_t to)
{
    for (uint64_t b = from; b <= to; b++) {
        uint64_t w;
        memcpy(&w, bitmap + (b / 64) * 8, 8);
        w |= 1ull << (b % 64);
        memcpy(bitmap + (b / 64) * 8, &w, 8);
    }
}

/* Bit i covers [iova + i*page_size, iova + (i+1)*page_size), the kernel's
 * mapping (word i / 64, bit i % 64). */
int srv_dirty_report(struct srv *s, uint64_t iova, uint64_t length, uint64_t page_size,
                     uint8_t *bitmap)
{
    struct srv_dirty *d = &s->dirty;
    if (!d->active) return EINVAL;
    uint64_t last = iova + (length - 1);
    uint64_t nbits = length / page_size + (length % page_size != 0);
    if (d->overflow) {
        set_bits(bitmap, 0, nbits - 1);
        return 0;
    }
    size_t i = find(d, iova / d->page_size);
    size_t keep = i;
    for (; i < d->npages; i++) {
        uint64_t p = d->pages[i];
        uint64_t plo = p * d->page_size, phi = plo + (d->page_size - 1);
        if (plo > last) break;
        uint64_t lo = plo > iova ? plo : iova, hi = phi < last ? phi : last;
        set_bits(bitmap, (lo - iova) / page_size, (hi - iova) / page_size);
        /* reading clears what the report fully covered */
        if (plo < iova || phi > last) d->pages[keep++] = p;
    }
    /* no pages logged yet: pages may be NULL, which memmove must not get */
    if (i < d->npages) memmove(&d->pages[keep], &d->pages[i], (d->npages - i) * sizeof *d->pages);
    d->npages = keep + (d->npages - i);
    return 0;
}
