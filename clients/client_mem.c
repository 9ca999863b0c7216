/* Emulated guest memory: regions at DMA addresses, backed by a memfd the
 * server may mmap, or by private memory it reaches only with messages. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "client_priv.h"

static struct region *get(const struct vfu_client *c, int i)
{
    if (i < 0 || i >= VFU_CLIENT_MAX_REGIONS || !c->regions[i].used) return NULL;
    return (struct region *)&c->regions[i];
}

static void region_free(struct region *r)
{
    if (r->mem) munmap(r->mem, r->size);
    if (r->fd >= 0) close(r->fd);
    memset(r, 0, sizeof *r);
    r->fd = -1;
}

void vfu_cl_mem_close_all(struct vfu_client *c)
{
    for (int i = 0; i < VFU_CLIENT_MAX_REGIONS; i++)
        if (c->regions[i].used) region_free(&c->regions[i]);
}

int vfu_mem_add(struct vfu_client *c, uint64_t addr, uint64_t size, uint32_t prot,
                enum vfu_mem_backing backing, struct vfu_error *err)
{
    if (!size || addr + size - 1 < addr || size > SIZE_MAX || (prot & ~VFU_DMA_MAP_FLAGS_KNOWN)) {
        vfu_error_set(err, VFU_E_BAD_VALUE, VFU_CMD_DMA_MAP, VFU_F_DMA_MAP_SIZE, size, 0);
        return -1;
    }
    int slot = -1;
    for (int i = 0; i < VFU_CLIENT_MAX_REGIONS; i++) {
        const struct region *r = &c->regions[i];
        if (!r->used) {
            if (slot < 0) slot = i;
            continue;
        }
        if (addr <= r->addr + (r->size - 1) && r->addr <= addr + (size - 1)) {
            vfu_error_set(err, VFU_E_BAD_VALUE, VFU_CMD_DMA_MAP, VFU_F_DMA_MAP_ADDRESS, addr, r->addr);
            return -1;
        }
    }
    if (slot < 0) {
        vfu_error_set(err, VFU_E_NOMEM, VFU_CMD_DMA_MAP, -1, VFU_CLIENT_MAX_REGIONS + 1, VFU_CLIENT_MAX_REGIONS);
        return -1;
    }
    struct region *r = &c->regions[slot];
    r->fd = -1;
    if (backing == VFU_MEM_MEMFD) {
        r->fd = memfd_create("vfu-guest", MFD_CLOEXEC);
        if (r->fd < 0 || ftruncate(r->fd, (off_t)size) < 0) goto sys;
        r->mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
    } else {
        r->mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    }
    if (r->mem == MAP_FAILED) {
        r->mem = NULL;
        goto sys;
    }
    r->used = true;
    r->addr = addr;
    r->size = size;
    r->prot = prot;
    return slot;
sys:
    vfu_error_set(err, VFU_E_IO, VFU_CMD_DMA_MAP, -1, size, 0);
    if (err) err->sys_errno = errno;
    if (r->fd >= 0) close(r->fd);
    r->fd = -1;
    return -1;
}

bool vfu_mem_remove(struct vfu_client *c, int region)
{
    struct region *r = get(c, region);
    if (!r) return false;
    region_free(r);
    return true;
}

int vfu_mem_fd(const struct vfu_client *c, int region)
{
    const struct region *r = get(c, region);
    return r ? r->fd : -1;
}

void vfu_mem_set_exported(struct vfu_client *c, int region, bool exported)
{
    struct region *r = get(c, region);
    if (r) r->exported = exported;
}

/* the region holding addr (exported ones only when asked), or NULL */
static struct region *find(const struct vfu_client *c, uint64_t addr, bool exported_only)
{
    for (int i = 0; i < VFU_CLIENT_MAX_REGIONS; i++) {
        const struct region *r = &c->regions[i];
        if (r->used && (!exported_only || r->exported) && addr >= r->addr && addr - r->addr < r->size)
            return (struct region *)r;
    }
    return NULL;
}

/* Walks [addr, addr+len) through adjacent regions: 0 when it is all there
 * (with `need` access), else EFAULT or EPERM; copies only when buf is set. */
static int walk(const struct vfu_client *c, uint64_t addr, uint64_t len, bool exported_only,
                uint32_t need, uint8_t *out, const uint8_t *in)
{
    uint64_t done = 0;
    while (done < len) {
        uint64_t a = addr + done;
        if (a < addr) return EFAULT;
        struct region *r = find(c, a, exported_only);
        if (!r) return EFAULT;
        if ((r->prot & need) != need) return EPERM;
        uint64_t n = r->size - (a - r->addr);
        if (n > len - done) n = len - done;
        if (out) memcpy(out + done, r->mem + (a - r->addr), n);
        if (in) memcpy(r->mem + (a - r->addr), in + done, n);
        done += n;
    }
    return 0;
}

int vfu_cl_mem_dma_check(const struct vfu_client *c, uint64_t addr, uint64_t len, bool is_write)
{
    return walk(c, addr, len, true, is_write ? VFU_DMA_MAP_FLAGS_WRITE : VFU_DMA_MAP_FLAGS_READ, NULL, NULL);
}

int vfu_cl_mem_dma_read(struct vfu_client *c, uint64_t addr, uint8_t *dst, uint64_t len)
{
    int rc = walk(c, addr, len, true, VFU_DMA_MAP_FLAGS_READ, NULL, NULL);
    return rc ? rc : walk(c, addr, len, true, VFU_DMA_MAP_FLAGS_READ, dst, NULL);
}

int vfu_cl_mem_dma_write(struct vfu_client *c, uint64_t addr, const uint8_t *src, uint64_t len)
{
    int rc = walk(c, addr, len, true, VFU_DMA_MAP_FLAGS_WRITE, NULL, NULL);
    return rc ? rc : walk(c, addr, len, true, VFU_DMA_MAP_FLAGS_WRITE, NULL, src);
}

bool vfu_mem_read(const struct vfu_client *c, uint64_t addr, void *buf, size_t len)
{
    return walk(c, addr, len, false, 0, NULL, NULL) == 0 && walk(c, addr, len, false, 0, buf, NULL) == 0;
}

bool vfu_mem_write(struct vfu_client *c, uint64_t addr, const void *buf, size_t len)
{
    return walk(c, addr, len, false, 0, NULL, NULL) == 0 && walk(c, addr, len, false, 0, NULL, buf) == 0;
}

uint8_t *vfu_mem_ptr(const struct vfu_client *c, uint64_t addr, size_t len)
{
    const struct region *r = find(c, addr, false);
    if (!r || len > r->size - (addr - r->addr)) return NULL;
    return r->mem + (addr - r->addr);
}

bool vfu_mem_enc_map(const struct vfu_client *c, int region, struct vfu_enc *e, uint8_t *buf,
                     size_t cap, struct vfu_error *err)
{
    const struct region *r = get(c, region);
    vfu_enc_begin(e, buf, cap, VFU_CMD_DMA_MAP, false, 0);
    if (!r) {
        vfu_error_set(err, VFU_E_BAD_VALUE, VFU_CMD_DMA_MAP, -1, (uint64_t)region, 0);
        return false;
    }
    vfu_enc_set(e, VFU_F_DMA_MAP_FLAGS, r->prot);
    vfu_enc_set(e, VFU_F_DMA_MAP_OFFSET, 0);
    vfu_enc_set(e, VFU_F_DMA_MAP_ADDRESS, r->addr);
    vfu_enc_set(e, VFU_F_DMA_MAP_SIZE, r->size);
    if (r->fd >= 0) vfu_enc_fd(e, r->fd);
    return vfu_enc_finish(e, err);
}

bool vfu_mem_enc_unmap(const struct vfu_client *c, int region, struct vfu_enc *e, uint8_t *buf,
                       size_t cap, struct vfu_error *err)
{
    const struct region *r = get(c, region);
    vfu_enc_begin(e, buf, cap, VFU_CMD_DMA_UNMAP, false, 0);
    if (!r) {
        vfu_error_set(err, VFU_E_BAD_VALUE, VFU_CMD_DMA_UNMAP, -1, (uint64_t)region, 0);
        return false;
    }
    vfu_enc_set(e, VFU_F_DMA_UNMAP_ADDRESS, r->addr);
    vfu_enc_set(e, VFU_F_DMA_UNMAP_SIZE, r->size);
    return vfu_enc_finish(e, err);
}

enum vfu_call_status vfu_client_dma_map(struct vfu_client *c, int region, int timeout_ms,
                                        struct vfu_reply *r)
{
    uint8_t buf[VFU_HDR_SIZE + VFU_SIZE_DMA_MAP];
    struct vfu_enc e;
    vfu_reply_release(r);
    if (!vfu_mem_enc_map(c, region, &e, buf, sizeof buf, &r->err)) return r->status = VFU_CALL_ERROR;
    /* the server may use it as soon as it has processed the request, which
     * can be before we read the reply (twin socket) */
    vfu_mem_set_exported(c, region, true);
    enum vfu_call_status s = vfu_client_call(c, &e, NULL, timeout_ms, r);
    if (s == VFU_CALL_ERROR || (s == VFU_CALL_REPLY && r->msg.is_error))
        vfu_mem_set_exported(c, region, false);
    return s;
}

enum vfu_call_status vfu_client_dma_unmap(struct vfu_client *c, int region, int timeout_ms,
                                          struct vfu_reply *r)
{
    uint8_t buf[VFU_HDR_SIZE + VFU_SIZE_DMA_UNMAP];
    struct vfu_enc e;
    vfu_reply_release(r);
    if (!vfu_mem_enc_unmap(c, region, &e, buf, sizeof buf, &r->err)) return r->status = VFU_CALL_ERROR;
    enum vfu_call_status s = vfu_client_call(c, &e, NULL, timeout_ms, r);
    if (s == VFU_CALL_REPLY && !r->msg.is_error) vfu_mem_set_exported(c, region, false);
    return s;
}
