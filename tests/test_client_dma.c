/* The client servicing DMA_READ / DMA_WRITE from a scripted server while it
 * waits for a reply: data in and out of emulated guest memory (memfd and
 * message-based), replies in the spec's or libvfio-user's form, and the
 * error reply plus violation for every out-of-bounds, read-only, unexported
 * or oversized access, on the main and the twin socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sys/mman.h>

#include "client_fake.h"
#include "spec_tables.h"

#define A_ADDR 0x10000u   /* message-based, read/write, 8 KiB */
#define A_SIZE 0x2000u
#define B_ADDR 0x12000u   /* memfd, read-only, right after A */
#define B_SIZE 0x1000u
#define C_ADDR 0x40000u   /* never exported */
#define XFER 4096u        /* our max_data_xfer_size */

static const char memfd_mark[] = "written by the server through its mmap";

static void pattern(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(i * 13 + seed);
}

/* the reply to server request msg_id on cn: an error with errnum, or (0)
 * a success of payload_len bytes whose data is stored in f->data */
static bool expect_reply(struct fake *f, struct vfu_conn *cn, uint16_t cmd, uint16_t msg_id,
                         int errnum, uint32_t payload_len)
{
    struct vfu_msg m;
    bool ok;
    if (!fake_recv(cn, &m, &ok)) return false;
    /* by the header alone: an error reply to an unknown command does not decode */
    if ((m.hdr.flags & VFU_HDR_FLAGS_TYPE_MASK) != VFU_MSG_TYPE_REPLY) return false;
    if (m.hdr.cmd != cmd || m.hdr.msg_id != msg_id || cn->nrfds) return false;
    if (errnum)
        return (m.hdr.flags & VFU_HDR_FLAGS_ERROR) && m.hdr.error == (uint32_t)errnum &&
               m.hdr.msg_size == VFU_HDR_SIZE;
    if (!ok || m.is_error || m.payload_len != payload_len) return false;
    memcpy(f->data, m.payload, m.payload_len);
    f->data_len = m.payload_len;
    return true;
}

/* DMA_MAP of A then B (whose memfd the server writes through mmap) */
static void srv_maps(struct fake *f)
{
    struct vfu_msg m;
    bool ok;
    FCHECK(f, fake_recv(&f->conn, &m, &ok) && ok && m.hdr.cmd == VFU_CMD_DMA_MAP);
    FCHECK(f, m.nfds == 0 && vfu_get(&m, VFU_F_DMA_MAP_ADDRESS) == A_ADDR);
    FCHECK(f, vfu_get(&m, VFU_F_DMA_MAP_SIZE) == A_SIZE);
    FCHECK(f, vfu_get(&m, VFU_F_DMA_MAP_FLAGS) == (VFU_DMA_MAP_FLAGS_READ | VFU_DMA_MAP_FLAGS_WRITE));
    FCHECK(f, fake_ack(&f->conn, &m));
    FCHECK(f, fake_recv(&f->conn, &m, &ok) && ok && m.hdr.cmd == VFU_CMD_DMA_MAP);
    FCHECK(f, m.nfds == 1 && vfu_get(&m, VFU_F_DMA_MAP_ADDRESS) == B_ADDR);
    FCHECK(f, vfu_get(&m, VFU_F_DMA_MAP_FLAGS) == VFU_DMA_MAP_FLAGS_READ);
    int fd = vfu_conn_take_fd(&f->conn, 0);
    uint8_t *p = mmap(NULL, B_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    FCHECK(f, p != MAP_FAILED);
    memcpy(p + 0x10, memfd_mark, sizeof memfd_mark);
    munmap(p, B_SIZE);
    FCHECK(f, fake_ack(&f->conn, &m));
}

static void srv_dma(struct fake *f)
{
    bool u64 = f->arg != NULL;
    srv_maps(f);
    struct vfu_msg m;
    bool ok;
    FCHECK(f, fake_recv(&f->conn, &m, &ok) && ok && m.hdr.cmd == VFU_CMD_DEVICE_RESET);
    uint16_t reset_id = m.hdr.msg_id;
    struct vfu_conn *cn = &f->conn;
    uint8_t buf[8192];

    /* a write into A: acknowledged with the spec's 12 bytes, or 16 */
    pattern(buf, 100, 1);
    FCHECK(f, fake_dma(cn, 100, A_ADDR + 0x10, 100, buf));
    FCHECK(f, expect_reply(f, cn, VFU_CMD_DMA_WRITE, 100, 0, u64 ? 16 : 12));
    FCHECK(f, vfu_read_uint(f->data + vfu_spec.fields[VFU_F_DMA_WRITE_ACK_ADDRESS].offset, 8) == A_ADDR + 0x10);
    FCHECK(f, vfu_read_uint(f->data + vfu_spec.fields[VFU_F_DMA_WRITE_ACK_COUNT].offset, 4) == 100);
    if (u64) FCHECK(f, vfu_read_uint(f->data + vfu_spec.fields[VFU_F_DMA_WRITE_ACK_COUNT_HI].offset, 4) == 0);

    /* a read across the A/B boundary, over the server's memfd writes */
    FCHECK(f, fake_dma(cn, 101, B_ADDR - 0x10, 0x60, NULL));
    FCHECK(f, expect_reply(f, cn, VFU_CMD_DMA_READ, 101, 0, VFU_SIZE_DMA_ACCESS_DATA + 0x60));
    FCHECK(f, vfu_read_uint(f->data + vfu_spec.fields[VFU_F_DMA_ACCESS_DATA_COUNT].offset, 8) == 0x60);
    FCHECK(f, !memcmp(f->data + VFU_SIZE_DMA_ACCESS_DATA + 0x20, memfd_mark, sizeof memfd_mark));

    /* refused, each with its errno */
    FCHECK(f, fake_dma(cn, 102, 0x90000, 8, NULL));
    FCHECK(f, expect_reply(f, cn, VFU_CMD_DMA_READ, 102, EFAULT, 0));
    FCHECK(f, fake_dma(cn, 103, B_ADDR, 8, buf));
    FCHECK(f, expect_reply(f, cn, VFU_CMD_DMA_WRITE, 103, EPERM, 0));
    pattern(buf, 16, 9);
    FCHECK(f, fake_dma(cn, 104, B_ADDR - 8, 16, buf));  /* half in A, half read-only */
    FCHECK(f, expect_reply(f, cn, VFU_CMD_DMA_WRITE, 104, EPERM, 0));
    FCHECK(f, fake_dma(cn, 105, C_ADDR, 8, NULL));
    FCHECK(f, expect_reply(f, cn, VFU_CMD_DMA_READ, 105, EFAULT, 0));
    FCHECK(f, fake_dma(cn, 106, A_ADDR + A_SIZE - 4, 8, NULL));   /* runs off A's end into B: fine */
    FCHECK(f, expect_reply(f, cn, VFU_CMD_DMA_READ, 106, 0, VFU_SIZE_DMA_ACCESS_DATA + 8));
    FCHECK(f, fake_dma(cn, 107, B_ADDR + B_SIZE - 4, 8, NULL));   /* off B's end: nothing there */
    FCHECK(f, expect_reply(f, cn, VFU_CMD_DMA_READ, 107, EFAULT, 0));
    /* over our max_data_xfer_size, by a read and by a write */
    FCHECK(f, fake_dma(cn, 108, A_ADDR, 2 * XFER, NULL));
    FCHECK(f, expect_reply(f, cn, VFU_CMD_DMA_READ, 108, E2BIG, 0));
    FCHECK(f, fake_dma(cn, 109, A_ADDR, XFER + 904, buf));
    FCHECK(f, expect_reply(f, cn, VFU_CMD_DMA_WRITE, 109, E2BIG, 0));
    /* nothing to move: fine anywhere */
    FCHECK(f, fake_dma(cn, 110, 0x90000, 0, NULL));
    FCHECK(f, expect_reply(f, cn, VFU_CMD_DMA_READ, 110, 0, VFU_SIZE_DMA_ACCESS_DATA));

    uint8_t ack[VFU_HDR_SIZE];
    struct vfu_enc e;
    vfu_enc_begin(&e, ack, sizeof ack, VFU_CMD_DEVICE_RESET, true, reset_id);
    FCHECK(f, fake_send_enc(cn, &e));
}

static struct vfu_client *setup(struct fake *f, void (*script)(struct fake *), void *arg,
                                const struct vfu_client_opts *o)
{
    struct vfu_client *c = fake_start(f, script, arg, o);
    assert_non_null(c);
    struct vfu_limits rx = {0, 16, XFER};
    struct vfu_error err;
    assert_true(vfu_client_set_limits(c, &rx, NULL, &err));
    assert_int_equal(vfu_mem_add(c, A_ADDR, A_SIZE, VFU_DMA_MAP_FLAGS_READ | VFU_DMA_MAP_FLAGS_WRITE,
                                 VFU_MEM_MESSAGE, &err), 0);
    assert_int_equal(vfu_mem_add(c, B_ADDR, B_SIZE, VFU_DMA_MAP_FLAGS_READ, VFU_MEM_MEMFD, &err), 1);
    assert_int_equal(vfu_mem_add(c, C_ADDR, 0x1000, VFU_DMA_MAP_FLAGS_READ | VFU_DMA_MAP_FLAGS_WRITE,
                                 VFU_MEM_MESSAGE, &err), 2);
    assert_true(vfu_mem_fd(c, 1) >= 0);
    assert_int_equal(vfu_mem_fd(c, 0), -1);
    /* overlapping regions are refused */
    assert_int_equal(vfu_mem_add(c, B_ADDR + B_SIZE - 1, 16, 0, VFU_MEM_MESSAGE, &err), -1);
    struct vfu_reply r;
    vfu_reply_init(&r);
    assert_int_equal(vfu_client_dma_map(c, 0, 5000, &r), VFU_CALL_REPLY);
    assert_false(r.msg.is_error);
    assert_int_equal(vfu_client_dma_map(c, 1, 5000, &r), VFU_CALL_REPLY);
    vfu_reply_release(&r);
    return c;
}

static enum vfu_call_status reset(struct vfu_client *c)
{
    uint8_t buf[VFU_HDR_SIZE];
    struct vfu_enc e;
    struct vfu_reply r;
    vfu_reply_init(&r);
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_RESET, false, 0);
    assert_true(vfu_enc_finish(&e, NULL));
    enum vfu_call_status s = vfu_client_call(c, &e, NULL, 5000, &r);
    if (s == VFU_CALL_REPLY) assert_false(r.msg.is_error);
    vfu_reply_release(&r);
    return s;
}

static void run_dma(bool u64)
{
    int base = count_fds();
    struct fake f;
    struct vfu_client_opts o;
    vfu_client_opts_default(&o);
    o.dma_write_ack_u64 = u64;
    uint8_t before[16];
    struct vfu_client *c = setup(&f, srv_dma, u64 ? &f : NULL, &o);
    assert_true(vfu_mem_read(c, B_ADDR - 8, before, 8));
    assert_int_equal(reset(c), VFU_CALL_REPLY);
    assert_int_equal(fake_join(&f), 0);

    /* the write landed; the refused one spanning A/B left A untouched */
    uint8_t want[100], got[100];
    pattern(want, 100, 1);
    assert_true(vfu_mem_read(c, A_ADDR + 0x10, got, 100));
    assert_memory_equal(got, want, 100);
    assert_true(vfu_mem_read(c, B_ADDR - 8, got, 8));
    assert_memory_equal(got, before, 8);
    /* the server saw what we hold, memfd part included */
    uint8_t local[0x60];
    assert_true(vfu_mem_read(c, B_ADDR - 0x10, local, sizeof local));
    assert_memory_equal(local + 0x20, memfd_mark, sizeof memfd_mark);

    if (vfu_client_violation_total(c) != 7) dump_violations(c);
    assert_int_equal(vfu_client_violation_total(c), 7);
    assert_int_equal(vfu_client_violation_count(c, VFU_V_DMA_ADDRESS), 3);
    assert_int_equal(vfu_client_violation_count(c, VFU_V_DMA_PERM), 2);
    assert_int_equal(vfu_client_violation_count(c, VFU_V_XFER_LIMIT), 2);
    unsigned n;
    const struct vfu_violation *v = vfu_client_violations(c, &n);
    bool read_over = false, write_over = false;
    for (unsigned i = 0; i < n; i++) {
        if (v[i].kind != VFU_V_XFER_LIMIT) continue;
        assert_int_equal(v[i].err.code, VFU_E_XFER_LIMIT);
        assert_int_equal(v[i].err.want, XFER);
        read_over |= v[i].msg_id == 108 && v[i].err.got == 2 * XFER && v[i].err.cmd == VFU_CMD_DMA_READ;
        write_over |= v[i].msg_id == 109 && v[i].err.got == XFER + 904 && v[i].err.cmd == VFU_CMD_DMA_WRITE;
    }
    assert_true(read_over && write_over);

    const struct vfu_client_stats *st = vfu_client_stats(c);
    assert_int_equal(st->dma_write, 1);
    assert_int_equal(st->dma_read, 3);
    assert_int_equal(st->dma_refused, 7);
    assert_int_equal(st->dma_write_bytes, 100);
    assert_int_equal(st->dma_read_bytes, 0x60 + 8);
    assert_int_equal(st->dma_max_count, 2 * XFER);
    vfu_client_close(c);
    assert_int_equal(count_fds(), base);
}

static void dma_spec_ack(void **state) { (void)state; run_dma(false); }
static void dma_u64_ack(void **state) { (void)state; run_dma(true); }

/* ---- twin socket ---- */

static void srv_twin(struct fake *f)
{
    struct vfu_msg m;
    bool ok;
    FCHECK(f, fake_recv(&f->conn, &m, &ok) && ok && m.hdr.cmd == VFU_CMD_VERSION);
    int sv[2];
    struct vfu_error err;
    struct vfu_limits l;
    fake_limits(&l);
    FCHECK(f, vfu_socketpair(sv, &err));
    FCHECK(f, vfu_conn_init(&f->twin, sv[1], &l, &err));
    f->twin.timeout_ms = 5000;
    f->has_twin = true;
    bool sent = fake_version_reply(&f->conn, m.hdr.msg_id, (uint16_t)vfu_get(&m, VFU_F_VERSION_MAJOR),
                                   (uint16_t)vfu_get(&m, VFU_F_VERSION_MINOR),
                                   "{\"capabilities\":{\"twin_socket\":{\"supported\":true,\"fd_index\":0}}}",
                                   &sv[0], 1);
    close(sv[0]);
    FCHECK(f, sent);
    srv_maps(f);
    FCHECK(f, fake_recv(&f->conn, &m, &ok) && ok && m.hdr.cmd == VFU_CMD_DEVICE_RESET);

    /* on the twin, as the spec wants: answered there */
    FCHECK(f, fake_dma(&f->twin, 200, A_ADDR, 16, NULL));
    FCHECK(f, expect_reply(f, &f->twin, VFU_CMD_DMA_READ, 200, 0, VFU_SIZE_DMA_ACCESS_DATA + 16));
    uint8_t buf[32];
    pattern(buf, 32, 5);
    FCHECK(f, fake_dma(&f->twin, 201, A_ADDR + 0x100, 32, buf));
    FCHECK(f, expect_reply(f, &f->twin, VFU_CMD_DMA_WRITE, 201, 0, 12));
    FCHECK(f, fake_dma(&f->twin, 202, 0x90000, 4, NULL));
    FCHECK(f, expect_reply(f, &f->twin, VFU_CMD_DMA_READ, 202, EFAULT, 0));
    /* on main although the twin is up: served on main, and recorded */
    FCHECK(f, fake_dma(&f->conn, 203, A_ADDR + 0x100, 32, NULL));
    FCHECK(f, expect_reply(f, &f->conn, VFU_CMD_DMA_READ, 203, 0, VFU_SIZE_DMA_ACCESS_DATA + 32));
    FCHECK(f, !memcmp(f->data + VFU_SIZE_DMA_ACCESS_DATA, buf, 32));
    FCHECK(f, fake_ack(&f->conn, &m));
}

struct tcount { unsigned rx, tx; };

static void count_trace(void *ctx, enum vfu_trace_dir dir, const uint8_t *buf, size_t len,
                        const int *fds, unsigned nfds, const struct vfu_error *ferr)
{
    (void)buf; (void)len; (void)fds; (void)nfds; (void)ferr;
    struct tcount *t = ctx;
    if (dir == VFU_TRACE_RX) t->rx++;
    else t->tx++;
}

static void dma_on_twin(void **state)
{
    (void)state;
    int base = count_fds();
    struct fake f;
    struct tcount tmain = {0, 0}, ttwin = {0, 0};
    struct vfu_client_opts o;
    vfu_client_opts_default(&o);
    o.trace = (struct vfu_trace_hook){count_trace, &tmain};
    o.trace_twin = (struct vfu_trace_hook){count_trace, &ttwin};
    struct vfu_client *c = fake_start(&f, srv_twin, NULL, &o);
    assert_non_null(c);
    struct vfu_version_proposal p;
    vfu_proposal_default(&p);
    vfu_caps_set(&p.caps, VFU_CAP_TWIN_SOCKET_SUPPORTED, 1);
    struct vfu_version_result res;
    assert_true(vfu_client_negotiate(c, &p, 5000, &res));
    assert_true(res.twin);
    struct vfu_error err;
    assert_int_equal(vfu_mem_add(c, A_ADDR, A_SIZE, VFU_DMA_MAP_FLAGS_READ | VFU_DMA_MAP_FLAGS_WRITE,
                                 VFU_MEM_MESSAGE, &err), 0);
    assert_int_equal(vfu_mem_add(c, B_ADDR, B_SIZE, VFU_DMA_MAP_FLAGS_READ, VFU_MEM_MEMFD, &err), 1);
    struct vfu_reply r;
    vfu_reply_init(&r);
    assert_int_equal(vfu_client_dma_map(c, 0, 5000, &r), VFU_CALL_REPLY);
    assert_int_equal(vfu_client_dma_map(c, 1, 5000, &r), VFU_CALL_REPLY);
    vfu_reply_release(&r);
    assert_int_equal(reset(c), VFU_CALL_REPLY);
    assert_int_equal(fake_join(&f), 0);

    const struct vfu_client_stats *st = vfu_client_stats(c);
    assert_int_equal(st->msgs_rx[VFU_SOCK_TWIN], 3);
    assert_int_equal(st->msgs_tx[VFU_SOCK_TWIN], 3);
    /* each socket's messages to its own hook: VERSION, 2 DMA_MAP, RESET
     * and one DMA_READ reply out on main, as many in */
    assert_int_equal(ttwin.rx, 3);
    assert_int_equal(ttwin.tx, 3);
    assert_int_equal(tmain.rx, 5);
    assert_int_equal(tmain.tx, 5);
    assert_int_equal(st->dma_read, 2);
    assert_int_equal(st->dma_write, 1);
    assert_int_equal(vfu_client_violation_count(c, VFU_V_DMA_ADDRESS), 1);
    assert_int_equal(vfu_client_violation_count(c, VFU_V_WRONG_SOCKET), 1);
    assert_int_equal(vfu_client_violation_total(c), 2);
    vfu_client_close(c);
    assert_int_equal(count_fds(), base);
}

/* ---- unmap withdraws memory; other commands from the server ---- */

static void srv_unmap(struct fake *f)
{
    srv_maps(f);
    struct vfu_msg m;
    bool ok;
    FCHECK(f, fake_recv(&f->conn, &m, &ok) && ok && m.hdr.cmd == VFU_CMD_DMA_UNMAP);
    FCHECK(f, vfu_get(&m, VFU_F_DMA_UNMAP_ADDRESS) == A_ADDR && vfu_get(&m, VFU_F_DMA_UNMAP_SIZE) == A_SIZE);
    FCHECK(f, vfu_get(&m, VFU_F_DMA_UNMAP_ARGSZ) == VFU_SIZE_DMA_UNMAP);
    /* echo it back as the reply */
    uint8_t buf[64];
    struct vfu_enc e;
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DMA_UNMAP, true, m.hdr.msg_id);
    vfu_enc_set(&e, VFU_F_DMA_UNMAP_ADDRESS, A_ADDR);
    vfu_enc_set(&e, VFU_F_DMA_UNMAP_SIZE, A_SIZE);
    FCHECK(f, fake_send_enc(&f->conn, &e));
    FCHECK(f, fake_recv(&f->conn, &m, &ok) && ok && m.hdr.cmd == VFU_CMD_DEVICE_RESET);
    uint16_t reset_id = m.hdr.msg_id;
    FCHECK(f, fake_dma(&f->conn, 300, A_ADDR, 8, NULL));
    FCHECK(f, expect_reply(f, &f->conn, VFU_CMD_DMA_READ, 300, EFAULT, 0));
    /* a client-to-server command sent to the client */
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_RESET, false, 301);
    FCHECK(f, fake_send_enc(&f->conn, &e));
    FCHECK(f, expect_reply(f, &f->conn, VFU_CMD_DEVICE_RESET, 301, EINVAL, 0));
    /* refused but No_reply: nothing comes back (the next reply is 303's) */
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DMA_READ, false, 302);
    vfu_enc_set(&e, VFU_F_DMA_ACCESS_ADDRESS, 0x90000);
    vfu_enc_set(&e, VFU_F_DMA_ACCESS_COUNT, 8);
    FCHECK(f, vfu_enc_finish(&e, NULL));
    vfu_enc_hdr(&e, VFU_F_HEADER_FLAGS, VFU_MSG_TYPE_COMMAND | VFU_HDR_FLAGS_NO_REPLY);
    FCHECK(f, vfu_send(&f->conn, e.buf, e.len, NULL, 0, NULL));
    /* an unknown command number */
    vfu_enc_begin(&e, buf, sizeof buf, 77, false, 303);
    FCHECK(f, fake_send_enc(&f->conn, &e));
    FCHECK(f, expect_reply(f, &f->conn, 77, 303, vfu_errc_errno(VFU_E_UNKNOWN_CMD), 0));
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_RESET, true, reset_id);
    FCHECK(f, fake_send_enc(&f->conn, &e));
}

static void unmap_and_strange_commands(void **state)
{
    (void)state;
    int base = count_fds();
    struct fake f;
    struct vfu_client *c = setup(&f, srv_unmap, NULL, NULL);
    struct vfu_reply r;
    vfu_reply_init(&r);
    assert_int_equal(vfu_client_dma_unmap(c, 0, 5000, &r), VFU_CALL_REPLY);
    assert_false(r.msg.is_error);
    vfu_reply_release(&r);
    assert_int_equal(reset(c), VFU_CALL_REPLY);
    assert_int_equal(fake_join(&f), 0);
    assert_int_equal(vfu_client_violation_count(c, VFU_V_DMA_ADDRESS), 2);
    assert_int_equal(vfu_client_violation_count(c, VFU_V_DECODE), 2);
    assert_true(has_violation(c, VFU_V_DECODE, VFU_E_DIRECTION));
    assert_true(has_violation(c, VFU_V_DECODE, VFU_E_UNKNOWN_CMD));
    /* gone from the server's view, still ours to read */
    uint8_t b[4];
    assert_true(vfu_mem_read(c, A_ADDR, b, sizeof b));
    assert_true(vfu_mem_remove(c, 0));
    assert_false(vfu_mem_read(c, A_ADDR, b, sizeof b));
    vfu_client_close(c);
    assert_int_equal(count_fds(), base);
}

/* ---- the answer hook: a fuzzer's own answers instead of ours ---- */

static void srv_answered(struct fake *f)
{
    srv_maps(f);
    struct vfu_msg m;
    bool ok;
    FCHECK(f, fake_recv(&f->conn, &m, &ok) && ok && m.hdr.cmd == VFU_CMD_DEVICE_RESET);
    /* the hook answers the first request: an error reply EBUSY */
    FCHECK(f, fake_dma(&f->conn, 300, A_ADDR, 8, NULL));
    FCHECK(f, expect_reply(f, &f->conn, VFU_CMD_DMA_READ, 300, EBUSY, 0));
    /* and leaves the second one to the client */
    FCHECK(f, fake_dma(&f->conn, 301, A_ADDR, 8, NULL));
    FCHECK(f, expect_reply(f, &f->conn, VFU_CMD_DMA_READ, 301, 0, VFU_SIZE_DMA_ACCESS_DATA + 8));
    FCHECK(f, fake_ack(&f->conn, &m));
}

static size_t answer_once(void *ctx, enum vfu_sock sock, const struct vfu_hdr *req, uint8_t *buf, size_t cap,
                          int *fds, unsigned *nfds)
{
    int *calls = ctx;
    (void)sock;
    (void)fds;
    if ((*calls)++) return 0;
    struct vfu_enc e;
    vfu_enc_error(&e, buf, cap, req->cmd, req->msg_id, EBUSY);
    *nfds = 0;
    return vfu_enc_finish(&e, NULL) ? e.len : 0;
}

static void answer_hook(void **state)
{
    (void)state;
    int base = count_fds();
    struct fake f;
    struct vfu_client_opts o;
    vfu_client_opts_default(&o);
    int calls = 0;
    o.answer.fn = answer_once;
    o.answer.ctx = &calls;
    struct vfu_client *c = setup(&f, srv_answered, NULL, &o);
    assert_int_equal(reset(c), VFU_CALL_REPLY);
    assert_int_equal(fake_join(&f), 0);
    assert_int_equal(calls, 2);
    const struct vfu_client_stats *st = vfu_client_stats(c);
    assert_int_equal(st->answered, 1);
    assert_int_equal(st->dma_read, 1);
    assert_int_equal(vfu_client_violation_total(c), 0);
    vfu_client_close(c);
    assert_int_equal(count_fds(), base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dma_spec_ack),
        cmocka_unit_test(dma_u64_ack),
        cmocka_unit_test(dma_on_twin),
        cmocka_unit_test(unmap_and_strange_commands),
        cmocka_unit_test(answer_hook),
    };
    return cmocka_run_group_tests_name("client_dma", tests, NULL, NULL);
}
