/* In-process harness for the reference server's core: a struct srv_peer
 * that records what the server sends, and plays the client's memory for
 * message-based DMA (DMA_READ / DMA_WRITE) from a local buffer. */
#ifndef SRV_HARNESS_H
#define SRV_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "vfu_codec.h"
#include "srv.h"
#include "srv_int.h"
#include "toydev.h"

#define H_GUEST 0x200000ull       /* message-based guest memory base */
#define H_GUEST_SIZE (1u << 20)
#define H_MAX_OUT 4
#define H_BUF (VFU_HDR_SIZE + VFU_FIXED_ROOM + (2u << 20))

struct h_out {
    uint8_t *buf;
    size_t len;
    int fds[8];
    unsigned nfds;
};

struct h {
    struct srv *s;
    struct srv_peer peer;
    struct h_out out[H_MAX_OUT];
    unsigned nout;
    uint8_t *guest;            /* message-based memory at H_GUEST */
    unsigned dma_reads, dma_writes;
    size_t max_chunk;
    int dma_errno;             /* nonzero: answer requests with this error */
    bool dma_bad_count;        /* answer with the wrong count */
    bool dma_dead;             /* the request fails at transport level */
    int twin_fd;               /* what peer.twin received */
    uint8_t rbuf[H_BUF];       /* the reply to the server's request */
    uint8_t req[H_BUF];        /* what we send the server */
    struct vfu_msg r;          /* the last reply decoded */
    int rfds[8];
    unsigned nrfds;
};

static inline void h_clear_out(struct h *h)
{
    for (unsigned i = 0; i < h->nout; i++) {
        for (unsigned k = 0; k < h->out[i].nfds; k++) close(h->out[i].fds[k]);
        free(h->out[i].buf);
    }
    h->nout = 0;
}

static inline bool h_send(void *ctx, const struct vfu_enc *e, struct vfu_error *err)
{
    (void)err;
    struct h *h = ctx;
    assert_true(h->nout < H_MAX_OUT);
    struct h_out *o = &h->out[h->nout++];
    o->buf = malloc(e->len);
    memcpy(o->buf, e->buf, e->len);
    o->len = e->len;
    /* as SCM_RIGHTS would: the receiver gets its own copies */
    o->nfds = e->nfds;
    for (unsigned i = 0; i < e->nfds; i++) o->fds[i] = fcntl(e->fds[i], F_DUPFD_CLOEXEC, 0);
    return true;
}

static inline bool h_request(void *ctx, const struct vfu_enc *req, struct vfu_msg *reply,
                             struct vfu_error *err)
{
    struct h *h = ctx;
    struct vfu_msg m;
    assert_true(vfu_decode(&m, req->buf, req->len, NULL, 0, NULL, VFU_ROLE_CLIENT, err));
    if (h->dma_dead) {
        vfu_error_set(err, VFU_E_EOF, -1, -1, 0, 0);
        return false;
    }
    bool write = m.hdr.cmd == VFU_CMD_DMA_WRITE;
    uint64_t addr = vfu_get(&m, write ? VFU_F_DMA_ACCESS_DATA_ADDRESS : VFU_F_DMA_ACCESS_ADDRESS);
    uint64_t count = vfu_get(&m, write ? VFU_F_DMA_ACCESS_DATA_COUNT : VFU_F_DMA_ACCESS_COUNT);
    if (count > h->max_chunk) h->max_chunk = count;
    struct vfu_enc e;
    if (h->dma_errno || addr < H_GUEST || addr - H_GUEST + count > H_GUEST_SIZE) {
        vfu_enc_error(&e, h->rbuf, sizeof h->rbuf, m.hdr.cmd, m.hdr.msg_id,
                      h->dma_errno ? (uint32_t)h->dma_errno : EFAULT);
    } else if (write) {
        h->dma_writes++;
        uint32_t n;
        const uint8_t *d = vfu_data(&m, VFU_F_DMA_ACCESS_DATA_DATA, &n);
        memcpy(h->guest + (addr - H_GUEST), d, n);
        vfu_enc_begin(&e, h->rbuf, sizeof h->rbuf, m.hdr.cmd, true, m.hdr.msg_id);
        vfu_enc_set(&e, VFU_F_DMA_WRITE_ACK_ADDRESS, addr);
        vfu_enc_set(&e, VFU_F_DMA_WRITE_ACK_COUNT, h->dma_bad_count ? count - 1 : count);
    } else {
        h->dma_reads++;
        vfu_enc_begin(&e, h->rbuf, sizeof h->rbuf, m.hdr.cmd, true, m.hdr.msg_id);
        vfu_enc_set(&e, VFU_F_DMA_ACCESS_DATA_ADDRESS, addr);
        vfu_enc_set(&e, VFU_F_DMA_ACCESS_DATA_COUNT, h->dma_bad_count ? count + 1 : count);
        vfu_enc_data(&e, VFU_F_DMA_ACCESS_DATA_DATA, h->guest + (addr - H_GUEST), count);
    }
    assert_true(vfu_enc_finish(&e, err));
    return vfu_decode(reply, h->rbuf, e.len, NULL, 0, NULL, VFU_ROLE_SERVER, err);
}

static inline bool h_twin(void *ctx, int fd)
{
    struct h *h = ctx;
    h->twin_fd = fd;
    return true;
}

static inline struct h *h_new_opts(const struct srv_opts *o)
{
    struct h *h = calloc(1, sizeof *h);
    h->guest = calloc(1, H_GUEST_SIZE);
    h->twin_fd = -1;
    h->peer = (struct srv_peer){h_send, h_request, h_twin, NULL, h};
    int err = 0;
    h->s = srv_create(o, &h->peer, &err);
    assert_non_null(h->s);
    return h;
}

static inline struct h *h_new(void)
{
    struct srv_opts o;
    srv_opts_default(&o);
    return h_new_opts(&o);
}

static inline void h_free(struct h *h)
{
    h_clear_out(h);
    for (unsigned i = 0; i < h->nrfds; i++) close(h->rfds[i]);
    srv_destroy(h->s);
    if (h->twin_fd >= 0) close(h->twin_fd);
    free(h->guest);
    free(h);
}

/* Starts a request into h->req. */
static inline void h_begin(struct h *h, struct vfu_enc *e, uint16_t cmd)
{
    vfu_enc_begin(e, h->req, sizeof h->req, cmd, false, 0x42);
}

/* Feeds bytes (with fds, closed afterwards unless taken) to the server;
 * returns the verdict.  h->r is the reply decoded when there is one. */
static inline enum srv_verdict h_feed(struct h *h, const uint8_t *buf, size_t len, const int *fds,
                                      unsigned nfds)
{
    h_clear_out(h);
    for (unsigned i = 0; i < h->nrfds; i++) close(h->rfds[i]);
    h->nrfds = 0;
    int f[16];
    for (unsigned i = 0; i < nfds; i++) f[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 0);
    enum srv_verdict v = srv_input(h->s, buf, len, f, nfds);
    for (unsigned i = 0; i < nfds; i++)
        if (f[i] >= 0) close(f[i]);
    memset(&h->r, 0, sizeof h->r);
    if (h->nout) {
        struct vfu_error err;
        struct h_out *o = &h->out[h->nout - 1];
        /* the reply must decode as the client would decode it; an error
         * reply is a bare header (it may answer a command the codec does
         * not know, or one that went the wrong way) */
        struct vfu_hdr hd;
        vfu_hdr_decode(o->buf, o->len, &hd, NULL);
        if (hd.flags & VFU_HDR_FLAGS_ERROR) {
            assert_int_equal(o->len, VFU_HDR_SIZE);
            assert_int_equal(hd.msg_size, VFU_HDR_SIZE);
            assert_int_equal(hd.flags, VFU_MSG_TYPE_REPLY | VFU_HDR_FLAGS_ERROR);
            assert_int_equal(o->nfds, 0);
            h->r.hdr = hd;
            h->r.is_reply = h->r.is_error = true;
        } else if (!vfu_decode(&h->r, o->buf, o->len, o->fds, o->nfds, NULL, VFU_ROLE_CLIENT, &err)) {
            char b[200];
            vfu_error_str(&err, b, sizeof b);
            fail_msg("server reply does not decode: %s", b);
        }
        h->nrfds = o->nfds;
        memcpy(h->rfds, o->fds, o->nfds * sizeof(int));
        o->nfds = 0;
    }
    return v;
}

/* finish e and feed it; fds go with it */
static inline enum srv_verdict h_call_fds(struct h *h, struct vfu_enc *e, const int *fds,
                                          unsigned nfds)
{
    struct vfu_error err;
    assert_true(vfu_enc_finish(e, &err));
    return h_feed(h, e->buf, e->len, fds, nfds);
}

static inline enum srv_verdict h_call(struct h *h, struct vfu_enc *e)
{
    return h_call_fds(h, e, NULL, 0);
}

/* 0 for a success reply, the errno of an error reply; fails with no reply */
static inline int h_errno(const struct h *h)
{
    assert_int_equal(h->nout, 1);
    return h->r.is_error ? (int)h->r.hdr.error : 0;
}

/* VERSION with the given JSON (NULL: none) */
static inline enum srv_verdict h_version(struct h *h, const char *json)
{
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_VERSION);
    vfu_enc_set(&e, VFU_F_VERSION_MAJOR, VFU_PROTO_MAJOR);
    vfu_enc_set(&e, VFU_F_VERSION_MINOR, VFU_PROTO_MINOR);
    if (json) vfu_enc_data(&e, VFU_F_VERSION_DATA, json, strlen(json) + 1);
    return h_call(h, &e);
}

static inline struct h *h_ready(void)
{
    struct h *h = h_new();
    assert_int_equal(h_version(h, "{\"capabilities\":{\"max_msg_fds\":8,\"write_multiple\":true}}"),
                     SRV_CONTINUE);
    assert_int_equal(h_errno(h), 0);
    return h;
}

static inline int h_region_rw(struct h *h, unsigned region, uint64_t offset, void *buf,
                              uint32_t count, bool write)
{
    struct vfu_enc e;
    if (write) {
        h_begin(h, &e, VFU_CMD_REGION_WRITE);
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_OFFSET, offset);
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_REGION, region);
        vfu_enc_data(&e, VFU_F_REGION_ACCESS_DATA_DATA, buf, count);
    } else {
        h_begin(h, &e, VFU_CMD_REGION_READ);
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_OFFSET, offset);
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_REGION, region);
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_COUNT, count);
    }
    h_call(h, &e);
    int r = h_errno(h);
    if (!r && !write) {
        uint32_t n;
        const uint8_t *d = vfu_data(&h->r, VFU_F_REGION_ACCESS_DATA_DATA, &n);
        assert_int_equal(n, count);
        memcpy(buf, d, n);
    }
    return r;
}

static inline uint64_t h_rd(struct h *h, unsigned region, uint64_t offset, unsigned width)
{
    uint64_t v = 0;
    assert_int_equal(h_region_rw(h, region, offset, &v, width, false), 0);
    return v;
}

static inline void h_wr(struct h *h, unsigned region, uint64_t offset, uint64_t v, unsigned width)
{
    assert_int_equal(h_region_rw(h, region, offset, &v, width, true), 0);
}

static inline int h_map(struct h *h, uint64_t addr, uint64_t size, uint64_t offset, uint32_t flags,
                        int fd)
{
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_DMA_MAP);
    vfu_enc_set(&e, VFU_F_DMA_MAP_FLAGS, flags);
    vfu_enc_set(&e, VFU_F_DMA_MAP_OFFSET, offset);
    vfu_enc_set(&e, VFU_F_DMA_MAP_ADDRESS, addr);
    vfu_enc_set(&e, VFU_F_DMA_MAP_SIZE, size);
    h_call_fds(h, &e, fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0);
    return h_errno(h);
}

static inline int h_memfd(size_t size)
{
    int fd = memfd_create("guest", MFD_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)size), 0);
    return fd;
}

/* Bus master on, MSI-X on with vector 0 unmasked: the device's way to
 * interrupt after a copy. */
static inline void h_enable_dma_msix(struct h *h)
{
    uint16_t cmd = (uint16_t)h_rd(h, VFU_PCI_REGION_CONFIG, 4, 2);
    h_wr(h, VFU_PCI_REGION_CONFIG, 4, cmd | 0x6, 2);   /* memory space, bus master */
    uint16_t ctl = (uint16_t)h_rd(h, VFU_PCI_REGION_CONFIG, TOYDEV_CAP_MSIX + 2, 2);
    h_wr(h, VFU_PCI_REGION_CONFIG, TOYDEV_CAP_MSIX + 2, (ctl | 0x8000) & ~0x4000u, 2);
    h_wr(h, VFU_PCI_REGION_BAR4, 12, 0, 4);   /* vector 0 control: unmasked */
}

/* programs and rings the DMA engine; returns STATUS */
static inline uint32_t h_copy(struct h *h, uint64_t src, uint64_t dst, uint32_t len)
{
    h_wr(h, VFU_PCI_REGION_BAR0, TOYDEV_REG_STATUS, TOYDEV_STATUS_DONE | TOYDEV_STATUS_ERROR, 4);
    h_wr(h, VFU_PCI_REGION_BAR0, TOYDEV_REG_SRC, src, 8);
    h_wr(h, VFU_PCI_REGION_BAR0, TOYDEV_REG_DST, dst, 8);
    h_wr(h, VFU_PCI_REGION_BAR0, TOYDEV_REG_LEN, len, 4);
    h_wr(h, VFU_PCI_REGION_BAR0, TOYDEV_REG_DOORBELL, 1, 4);
    return (uint32_t)h_rd(h, VFU_PCI_REGION_BAR0, TOYDEV_REG_STATUS, 4);
}

static inline uint64_t h_eventfd_count(int fd)
{
    uint64_t v = 0;
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    if (read(fd, &v, sizeof v) != sizeof v) v = 0;
    fcntl(fd, F_SETFL, fl);
    return v;
}

#endif
