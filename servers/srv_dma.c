/* DMA_MAP / DMA_UNMAP and the device's way into guest memory: a sorted
 * table of non-overlapping windows, each either mmap()ed from the fd the
 * client sent or reached with DMA_READ / DMA_WRITE messages. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "srv_int.h"

uint64_t srv_min_pgsize(const struct srv *s)
{
    uint64_t p = s->opt.pgsizes;
    return p ? p & -p : 4096;
}

/* ------------------------------------------------------ fault guard --- */

/* The client may shrink the file behind a mapping at any time; touching
 * the lost pages raises SIGBUS.  Copies into mappings run under a jump
 * buffer that the handler returns to. */
static sigjmp_buf *volatile fault_jmp;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
    (void)si;
    (void)uc;
    if (fault_jmp) siglongjmp(*fault_jmp, 1);
    signal(sig, SIG_DFL);
    raise(sig);
}

void srv_sigbus_guard_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
}

static int guarded_copy(void *dst, const void *src, size_t n)
{
    sigjmp_buf jb;
    if (sigsetjmp(jb, 1)) {
        fault_jmp = NULL;
        return EFAULT;
    }
    fault_jmp = &jb;
    memcpy(dst, src, n);
    fault_jmp = NULL;
    return 0;
}

/* ------------------------------------------------------------ table --- */

static uint64_t last_byte(const struct srv_map *m) { return m->addr + (m->size - 1); }

/* index of the first map whose last byte is >= addr (n if none) */
static uint32_t lower(const struct srv_dma *d, uint64_t addr)
{
    uint32_t lo = 0, hi = d->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (last_byte(&d->maps[mid]) < addr) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static void unmap_one(struct srv_map *m)
{
    if (m->mmap_base) munmap(m->mmap_base, m->mmap_len);
    m->mmap_base = NULL;
    m->va = NULL;
}

void srv_dma_clear(struct srv *s)
{
    for (uint32_t i = 0; i < s->dma.n; i++) unmap_one(&s->dma.maps[i]);
    s->dma.n = 0;
}

static int insert(struct srv_dma *d, uint32_t at, const struct srv_map *m)
{
    if (d->n == d->cap) {
        uint32_t cap = d->cap ? d->cap * 2 : 16;
        struct srv_map *p = realloc(d->maps, cap * sizeof *p);
        if (!p) return ENOMEM;
        d->maps = p;
        d->cap = cap;
    }
    memmove(&d->maps[at + 1], &d->maps[at], (d->n - at) * sizeof *d->maps);
    d->maps[at] = *m;
    d->n++;
    return 0;
}

/* maps [offset, offset+size) of fd; the offset need not be page aligned */
static int map_fd(int fd, uint64_t offset, uint64_t size, uint32_t flags, struct srv_map *m)
{
    struct stat st;
    if (fstat(fd, &st) < 0) return errno;
    /* pages past the end of a file fault on touch: refuse them up front */
    if (S_ISREG(st.st_mode) && (st.st_size < 0 || (uint64_t)st.st_size < offset + size))
        return EINVAL;
    long pg = sysconf(_SC_PAGESIZE);
    uint64_t skew = offset % (uint64_t)pg;
    if (size > SIZE_MAX - skew) return ENOMEM;
    int prot = ((flags & VFU_DMA_MAP_FLAGS_READ) ? PROT_READ : 0) |
               ((flags & VFU_DMA_MAP_FLAGS_WRITE) ? PROT_WRITE : 0);
    void *p = mmap(NULL, size + skew, prot ? prot : PROT_NONE, MAP_SHARED, fd,
                   (off_t)(offset - skew));
    if (p == MAP_FAILED) return errno;
    m->mmap_base = p;
    m->mmap_len = size + skew;
    m->va = (uint8_t *)p + skew;
    return 0;
}

int srv_h_dma_map(struct srv *s, const struct vfu_msg *m, int *fds)
{
    struct srv_map nm = {
        .addr = vfu_get(m, VFU_F_DMA_MAP_ADDRESS),
        .size = vfu_get(m, VFU_F_DMA_MAP_SIZE),
        .flags = (uint32_t)vfu_get(m, VFU_F_DMA_MAP_FLAGS),
    };
    uint64_t offset = vfu_get(m, VFU_F_DMA_MAP_OFFSET);
    /* the fault dma-map-offset-trunc32: the file offset kept in 32 bits,
     * so 2^32 + X maps the file at X */
    if (srv_fault(s, FAULT_DMA_MAP_OFFSET_TRUNC32)) offset = (uint32_t)offset;
    uint64_t pg = srv_min_pgsize(s);
    bool has_fd = m->nfds == 1;
    if (nm.size == 0) return EINVAL;
    if ((nm.addr % pg || nm.size % pg) && !srv_fault(s, FAULT_DMA_UNALIGNED_ACCEPTED)) return EINVAL;
    if (nm.size - 1 > UINT64_MAX - nm.addr) return EINVAL;
    if (has_fd && nm.size - 1 > UINT64_MAX - offset) return EINVAL;
    /* the spec: offset is zero when there is nothing to map */
    if (!has_fd && offset) return EINVAL;
    uint32_t at = lower(&s->dma, nm.addr);
    /* the fault dma-overlap-readonly-unchecked: windows without WRITE are
     * left out of the overlap check (as a server keeping them apart would) */
    if (at < s->dma.n && s->dma.maps[at].addr <= last_byte(&nm) &&
        !srv_fault(s, FAULT_DMA_OVERLAP_ACCEPTED) &&
        !(!(s->dma.maps[at].flags & VFU_DMA_MAP_FLAGS_WRITE) && srv_fault(s, FAULT_DMA_OVERLAP_READONLY_UNCHECKED)))
        return EEXIST;
    if (s->dma.n >= s->opt.max_dma_maps && !srv_fault(s, FAULT_DMA_MAX_MAPS_IGNORED)) return ENOSPC;
    if (has_fd && !s->opt.dma_mmap) {
        /* a server that maps nothing: the window is reached by messages */
        close(srv_take_fd(m, fds, 0));
    } else if (has_fd) {
        int fd = srv_take_fd(m, fds, 0);
        if (srv_fault(s, FAULT_FD_LEAK_PER_DMA_MAP) && dup(fd) < 0) srv_log("dup: %s", strerror(errno));
        int r = map_fd(fd, offset, nm.size, nm.flags, &nm);
        /* the mapping keeps the memory; the fd is no longer needed */
        close(fd);
        if (r) return r;
    }
    int r = insert(&s->dma, at, &nm);
    if (r) { unmap_one(&nm); return r; }
    return srv_reply_empty(s, m);
}

static void remove_map(struct srv_dma *d, uint32_t at)
{
    unmap_one(&d->maps[at]);
    memmove(&d->maps[at], &d->maps[at + 1], (d->n - at - 1) * sizeof *d->maps);
    d->n--;
}

int srv_h_dma_unmap(struct srv *s, const struct vfu_msg *m, int *fds)
{
    (void)fds;
    uint64_t addr = vfu_get(m, VFU_F_DMA_UNMAP_ADDRESS), size = vfu_get(m, VFU_F_DMA_UNMAP_SIZE);
    if (vfu_get(m, VFU_F_DMA_UNMAP_FLAGS) & VFU_DMA_UNMAP_FLAGS_ALL) {
        if (addr || size) return EINVAL;
        srv_dma_clear(s);
    } else {
        /* the fault dma-unmap-addr-trunc32: the address kept in 32 bits,
         * so an unmap 2^32 above a window removes it */
        if (srv_fault(s, FAULT_DMA_UNMAP_ADDR_TRUNC32)) addr = (uint32_t)addr;
        uint32_t at = size ? lower(&s->dma, addr) : s->dma.n;
        if (at >= s->dma.n) return ENOENT;
        const struct srv_map *w = &s->dma.maps[at];
        if ((w->addr != addr || w->size != size) &&
            !(w->addr <= addr && srv_fault(s, FAULT_DMA_UNMAP_INEXACT)))
            return ENOENT;
        if (!(!w->va && srv_fault(s, FAULT_DMA_UNMAP_KEEPS_WINDOW))) remove_map(&s->dma, at);
    }
    /* the reply is the request as it came, argsz included */
    struct vfu_enc e;
    srv_reply_begin(s, m, &e);
    static const int f[] = {VFU_F_DMA_UNMAP_ARGSZ, VFU_F_DMA_UNMAP_FLAGS, VFU_F_DMA_UNMAP_ADDRESS,
                            VFU_F_DMA_UNMAP_SIZE};
    for (unsigned i = 0; i < 4; i++) vfu_enc_set(&e, f[i], vfu_get(m, f[i]));
    return srv_reply_send(s, m, &e);
}

/* ---------------------------------------------------------- access --- */

/* one DMA_READ or DMA_WRITE round trip for [addr, addr+n) */
static int dma_message(struct srv *s, uint64_t addr, uint8_t *buf, size_t n, bool write)
{
    struct vfu_enc e;
    struct vfu_msg r;
    struct vfu_error err;
    uint16_t id = s->next_id++;
    vfu_enc_begin(&e, s->rq, s->rq_cap, write ? VFU_CMD_DMA_WRITE : VFU_CMD_DMA_READ, false, id);
    if (write) {
        vfu_enc_set(&e, VFU_F_DMA_ACCESS_DATA_ADDRESS, addr);
        vfu_enc_set(&e, VFU_F_DMA_ACCESS_DATA_COUNT, n);
        uint8_t *data = vfu_enc_data(&e, VFU_F_DMA_ACCESS_DATA_DATA, buf, n);
        if (data && n && srv_fault(s, FAULT_DMA_WRITE_CORRUPT_BYTE)) data[0] ^= 0xff;
    } else {
        vfu_enc_set(&e, VFU_F_DMA_ACCESS_ADDRESS, addr);
        vfu_enc_set(&e, VFU_F_DMA_ACCESS_COUNT, n);
    }
    if (!vfu_enc_finish(&e, &err)) return EIO;
    vfu_error_set(&err, VFU_E_IO, -1, -1, 0, 0);
    if (!s->peer.request(s->peer.ctx, &e, &r, &err)) {
        if (err.code == VFU_E_TIMEOUT) return ETIMEDOUT;
        if (err.code == VFU_E_EOF || err.code == VFU_E_IO) s->broken = true;
        return EIO;
    }
    if (r.is_error) return r.hdr.error && r.hdr.error < 4096 ? (int)r.hdr.error : EIO;
    if (write) {
        uint64_t count = vfu_get(&r, VFU_F_DMA_WRITE_ACK_COUNT) |
                         vfu_get(&r, VFU_F_DMA_WRITE_ACK_COUNT_HI) << 32;
        if (vfu_get(&r, VFU_F_DMA_WRITE_ACK_ADDRESS) != addr || count != n) return EIO;
        return 0;
    }
    uint32_t got;
    const uint8_t *data = vfu_data(&r, VFU_F_DMA_ACCESS_DATA_DATA, &got);
    if (vfu_get(&r, VFU_F_DMA_ACCESS_DATA_ADDRESS) != addr ||
        vfu_get(&r, VFU_F_DMA_ACCESS_DATA_COUNT) != n || got != n)
        return EIO;
    memcpy(buf, data, n);
    return 0;
}

static int dma_messages(struct srv *s, uint64_t addr, uint8_t *buf, uint64_t len, bool write)
{
    /* each message within the client's max_data_xfer_size and our own
     * buffers (its DMA_READ reply must pass our receive limit) */
    uint64_t chunk = s->client_xfer < s->rx.max_data_xfer_size ? s->client_xfer
                                                                 : s->rx.max_data_xfer_size;
    if (srv_fault(s, FAULT_XFER_LIMIT_IGNORED)) chunk = s->rx.max_data_xfer_size;
    if (chunk == 0) return EFBIG;
    while (len) {
        size_t n = (size_t)(len < chunk ? len : chunk);
        int r = dma_message(s, addr, buf, n, write);
        if (r) return r;
        addr += n;
        buf += n;
        len -= n;
    }
    return 0;
}

int srv_dma_rw(struct srv *s, uint64_t addr, void *vbuf, size_t len, bool write)
{
    uint8_t *buf = vbuf;
    /* a stopped device reaches nothing (migration v2: STOP means no DMA) */
    if (!srv_running(s)) return EBUSY;
    if (len && len - 1 > UINT64_MAX - addr) return EFAULT;
    /* the whole range is checked before any of it moves */
    uint64_t a = addr, left = len;
    uint32_t i = lower(&s->dma, addr);
    while (left) {
        if (i >= s->dma.n || s->dma.maps[i].addr > a) return EFAULT;
        const struct srv_map *m = &s->dma.maps[i];
        if (!(m->flags & (write ? VFU_DMA_MAP_FLAGS_WRITE : VFU_DMA_MAP_FLAGS_READ)) &&
            !(write && !m->va && srv_fault(s, FAULT_DMA_WRITE_READONLY)))
            return EPERM;
        uint64_t n = last_byte(m) - a + 1;
        if (n >= left) break;
        a += n;
        left -= n;
        i++;
    }
    if (write) srv_dirty_record(s, addr, len);
    a = addr;
    left = len;
    i = lower(&s->dma, addr);
    while (left) {
        const struct srv_map *m = &s->dma.maps[i++];
        uint64_t n = last_byte(m) - a + 1;
        if (n > left) n = left;
        int r;
        if (m->va) {
            uint8_t *p = m->va + (a - m->addr);
            r = write ? guarded_copy(p, buf, n) : guarded_copy(buf, p, n);
        } else {
            r = dma_messages(s, a, buf, n, write);
        }
        if (r) return r;
        a += n;
        buf += n;
        left -= n;
    }
    return 0;
}

/* dma_probe: the first bytes of every window not yet probed are read (and
 * written back where the window is writable), so that a client meets
 * DMA_READ and DMA_WRITE while its own request waits */
#define PROBE_BYTES 64u
bool srv_dma_probe_due(const struct srv *s)
{
    if (!s->opt.dma_probe) return false;
    for (uint32_t i = 0; i < s->dma.n; i++)
        if (!s->dma.maps[i].probed) return true;
    return false;
}

void srv_dma_probe(struct srv *s)
{
    for (uint32_t i = 0; i < s->dma.n && !s->broken; i++) {
        struct srv_map *m = &s->dma.maps[i];
        if (m->probed) continue;
        m->probed = true;
        if (!(m->flags & VFU_DMA_MAP_FLAGS_READ)) continue;
        uint8_t buf[PROBE_BYTES];
        uint64_t addr = m->addr;
        size_t n = m->size < PROBE_BYTES ? (size_t)m->size : PROBE_BYTES;
        int r = srv_dma_rw(s, addr, buf, n, false);
        if (!r && (m->flags & VFU_DMA_MAP_FLAGS_WRITE)) r = srv_dma_rw(s, addr, buf, n, true);
        if (r) srv_log("DMA probe of 0x%llx: %s", (unsigned long long)addr, strerror(r));
        /* the round trip may have grown or shrunk nothing: the table is
         * only changed by the client's commands, handled after this */
    }
}
