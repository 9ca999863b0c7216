/* One fuzzing input as a session: the messages one side of a vfio-user
 * connection receives, in order, each with the file descriptors that travel
 * with it.  The in-process targets (fuzz/), the spec-aware mutator
 * (lib/runtime/mutate.h) and the socket fuzzer (vfu-fuzz) all read and write this
 * one format, so a finding of any of them is an input of the others.
 * fuzz/README.md describes it for people writing seeds by hand.
 *
 * Wire form, little-endian, records back to back until the input ends:
 *
 *   record := kind:u8 flags:u8 nfds:u8 fd[nfds] len:u32 bytes[len]
 *   fd     := fdkind:u8 size:u32
 *
 * Parsing never fails: byte-level mutation must keep reaching the code under
 * test, so an unknown kind or fd kind is taken modulo the number defined,
 * nfds above VFU_FS_MAX_FDS is clamped, a len past the input's end takes
 * what is there, and records past VFU_FS_MAX_RECORDS are dropped.  Records
 * point into the input; nothing is allocated. */
#ifndef VFU_FUZZ_SESSION_H
#define VFU_FUZZ_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VFU_FS_MAX_RECORDS 256
/* above the default max_msg_fds (1) and the reference server's, far below
 * the kernel's 253: enough to break every fd-count rule cheaply */
#define VFU_FS_MAX_FDS 32
/* memfd sizes are taken modulo this; ftruncate is lazy, so this costs no
 * memory until something writes */
#define VFU_FS_MAX_MEMFD (64u << 20)
#define VFU_FS_RECORD_HDR 3u  /* kind, flags, nfds */
#define VFU_FS_FD_SIZE 5u     /* fdkind, size */
#define VFU_FS_LEN_SIZE 4u

enum vfu_fs_kind {
    /* a message from the other side: for a server under test, a client
     * request (or a reply it did not ask for); for a client under test, a
     * server-to-client command or an unsolicited reply */
    VFU_FS_MSG = 0,
    /* the answer to the next request the side under test makes and waits
     * for (a server's DMA_READ / DMA_WRITE, a client's requests); taken in
     * order, whatever records stand between */
    VFU_FS_REPLY,
    /* the other side goes away and a new one connects */
    VFU_FS_DISCONNECT,
    /* the doorbell ioeventfd the server handed out is signalled */
    VFU_FS_IOEVENT,
    /* the other side ftruncate()s the last fd the side under test sent it
     * (a region's mmap fd) to the size in the record's bytes: a u64, fewer
     * bytes padded with zeroes; nothing when no fd came yet.  Whether the
     * resize succeeds (a sealed fd refuses it) is for the session to show. */
    VFU_FS_TRUNCATE,
    VFU_FS__KINDS
};

enum vfu_fs_flag {
    /* msg_size is set to len before delivery, so byte mutation of the
     * payload does not always break the framing */
    VFU_FS_FIX_SIZE = 1u << 0,
    /* REPLY: msg_id is set to the request's; MSG: to the next id in
     * sequence */
    VFU_FS_FIX_ID = 1u << 1,
    /* on the twin socket, when one was negotiated */
    VFU_FS_TWIN = 1u << 2,
    VFU_FS__FLAGS = 0x7
};

enum vfu_fs_fdkind {
    VFU_FS_FD_MEMFD = 0,    /* memfd of `size` bytes (modulo VFU_FS_MAX_MEMFD) */
    VFU_FS_FD_EVENTFD,
    VFU_FS_FD_PIPE,         /* read end of a pipe: neither mappable nor an eventfd */
    VFU_FS_FD_DEVNULL,      /* /dev/null read-write */
    VFU_FS_FD_DIR,          /* a directory opened read-only: every mmap fails */
    VFU_FS_FD_SOCKET,       /* one end of a socketpair */
    VFU_FS_FD_MEMFD_RO,     /* memfd of `size` bytes, sealed against writes */
    VFU_FS_FD__KINDS
};

struct vfu_fs_fd {
    uint8_t kind;
    uint32_t size;
};

struct vfu_fs_record {
    uint8_t kind;
    uint8_t flags;
    uint8_t nfds;
    struct vfu_fs_fd fds[VFU_FS_MAX_FDS];
    const uint8_t *msg;     /* the message as sent, header first */
    uint32_t len;
};

struct vfu_fs {
    struct vfu_fs_record rec[VFU_FS_MAX_RECORDS];
    unsigned n;
};

/* Splits data into records (see above); returns fs->n. */
unsigned vfu_fs_parse(const uint8_t *data, size_t len, struct vfu_fs *fs);
/* Bytes the wire form of fs takes. */
size_t vfu_fs_size(const struct vfu_fs *fs);
/* Writes the wire form of fs into out; returns its size, or 0 (nothing
 * written) when it exceeds cap. */
size_t vfu_fs_write(const struct vfu_fs *fs, uint8_t *out, size_t cap);

/* Opens the descriptor fd describes, close-on-exec; -1 with errno set when
 * the system refuses. */
int vfu_fs_open_fd(const struct vfu_fs_fd *fd);
/* Opens every fd of r into fds[0..r->nfds); on failure closes those it
 * opened and returns false with errno set. */
bool vfu_fs_open_fds(const struct vfu_fs_record *r, int *fds);
void vfu_fs_close_fds(int *fds, unsigned n);

/* Copies r's message into buf (cap bytes; at most cap are taken) and
 * applies the FIX_SIZE / FIX_ID flags, the header read and written through
 * the codec's tables; id is the msg_id FIX_ID puts in.  Returns the length. */
size_t vfu_fs_prepare(const struct vfu_fs_record *r, uint16_t id, uint8_t *buf, size_t cap);

const char *vfu_fs_kind_name(unsigned kind);
const char *vfu_fs_fdkind_name(unsigned kind);

#endif
