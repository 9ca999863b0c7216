/* The session input format of lib/runtime/fuzz_session.h: parse, write, open the
 * simulated descriptors, apply the header fix-ups. */
#include "fuzz_session.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vfu_codec.h"

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

unsigned vfu_fs_parse(const uint8_t *data, size_t len, struct vfu_fs *fs)
{
    size_t at = 0;
    fs->n = 0;
    while (at + VFU_FS_RECORD_HDR <= len && fs->n < VFU_FS_MAX_RECORDS) {
        struct vfu_fs_record *r = &fs->rec[fs->n];
        r->kind = data[at] % VFU_FS__KINDS;
        r->flags = data[at + 1] & VFU_FS__FLAGS;
        unsigned nfds = data[at + 2];
        at += VFU_FS_RECORD_HDR;
        /* every fd named is consumed from the input, even the clamped ones,
         * so that what follows stays where the writer put it */
        r->nfds = 0;
        for (unsigned i = 0; i < nfds && at + VFU_FS_FD_SIZE <= len; i++, at += VFU_FS_FD_SIZE) {
            if (r->nfds >= VFU_FS_MAX_FDS) continue;
            r->fds[r->nfds].kind = data[at] % VFU_FS_FD__KINDS;
            r->fds[r->nfds].size = rd32(data + at + 1) % VFU_FS_MAX_MEMFD;
            r->nfds++;
        }
        uint32_t n = 0;
        if (at + VFU_FS_LEN_SIZE <= len) {
            n = rd32(data + at);
            at += VFU_FS_LEN_SIZE;
        } else {
            at = len;
        }
        if (n > len - at) n = (uint32_t)(len - at);
        r->msg = data + at;
        r->len = n;
        at += n;
        fs->n++;
    }
    return fs->n;
}

size_t vfu_fs_size(const struct vfu_fs *fs)
{
    size_t n = 0;
    for (unsigned i = 0; i < fs->n; i++)
        n += VFU_FS_RECORD_HDR + (size_t)fs->rec[i].nfds * VFU_FS_FD_SIZE + VFU_FS_LEN_SIZE +
             fs->rec[i].len;
    return n;
}

size_t vfu_fs_write(const struct vfu_fs *fs, uint8_t *out, size_t cap)
{
    size_t need = vfu_fs_size(fs), at = 0;
    if (need > cap) return 0;
    for (unsigned i = 0; i < fs->n; i++) {
        const struct vfu_fs_record *r = &fs->rec[i];
        out[at++] = r->kind;
        out[at++] = r->flags;
        out[at++] = r->nfds;
        for (unsigned k = 0; k < r->nfds; k++) {
            out[at] = r->fds[k].kind;
            wr32(out + at + 1, r->fds[k].size);
            at += VFU_FS_FD_SIZE;
        }
        wr32(out + at, r->len);
        at += VFU_FS_LEN_SIZE;
        /* a record may point into out itself (a mutator rewriting in
         * place), hence memmove */
        if (r->len) memmove(out + at, r->msg, r->len);
        at += r->len;
    }
    return at;
}

static int memfd_sized(uint32_t size, bool sealed)
{
    /* the bound the header promises, whoever made the record (the parser
     * applies it, a converter or a hand-made record may not) */
    size %= VFU_FS_MAX_MEMFD;
    int fd = memfd_create("vfu-fuzz", MFD_CLOEXEC | (sealed ? MFD_ALLOW_SEALING : 0));
    if (fd < 0) return -1;
    if (ftruncate(fd, size) < 0 ||
        (sealed && fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int vfu_fs_open_fd(const struct vfu_fs_fd *fd)
{
    int p[2];
    switch (fd->kind % VFU_FS_FD__KINDS) {
    case VFU_FS_FD_MEMFD: return memfd_sized(fd->size, false);
    case VFU_FS_FD_MEMFD_RO: return memfd_sized(fd->size, true);
    case VFU_FS_FD_EVENTFD: return eventfd(0, EFD_CLOEXEC);
    case VFU_FS_FD_PIPE:
        if (pipe2(p, O_CLOEXEC) < 0) return -1;
        close(p[1]);
        return p[0];
    case VFU_FS_FD_DEVNULL: return open("/dev/null", O_RDWR | O_CLOEXEC);
    case VFU_FS_FD_DIR: return open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    case VFU_FS_FD_SOCKET:
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0) return -1;
        close(p[1]);
        return p[0];
    }
    errno = EINVAL;
    return -1;
}

bool vfu_fs_open_fds(const struct vfu_fs_record *r, int *fds)
{
    for (unsigned i = 0; i < r->nfds; i++) {
        fds[i] = vfu_fs_open_fd(&r->fds[i]);
        if (fds[i] < 0) {
            int e = errno;
            vfu_fs_close_fds(fds, i);
            errno = e;
            return false;
        }
    }
    return true;
}

void vfu_fs_close_fds(int *fds, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
}

size_t vfu_fs_prepare(const struct vfu_fs_record *r, uint16_t id, uint8_t *buf, size_t cap)
{
    size_t n = r->len < cap ? r->len : cap;
    if (n) memcpy(buf, r->msg, n);
    if (n < VFU_HDR_SIZE || !(r->flags & (VFU_FS_FIX_SIZE | VFU_FS_FIX_ID))) return n;
    struct vfu_hdr h;
    struct vfu_error err;
    vfu_hdr_decode(buf, n, &h, &err);
    if (r->flags & VFU_FS_FIX_SIZE) h.msg_size = (uint32_t)n;
    if (r->flags & VFU_FS_FIX_ID) h.msg_id = id;
    vfu_hdr_encode(buf, &h);
    return n;
}

const char *vfu_fs_kind_name(unsigned kind)
{
    static const char *const names[VFU_FS__KINDS] = {"msg", "reply", "disconnect", "ioevent", "truncate"};
    return kind < VFU_FS__KINDS ? names[kind] : "?";
}

const char *vfu_fs_fdkind_name(unsigned kind)
{
    static const char *const names[VFU_FS_FD__KINDS] = {"memfd", "eventfd", "pipe", "devnull",
                                                         "dir", "socket", "memfd-ro"};
    return kind < VFU_FS_FD__KINDS ? names[kind] : "?";
}
