/* Requests and replies: pipelining with No_reply, replies matched by msg id
 * and command, every mismatch recorded, malformed replies kept with their
 * bytes, the three outcomes (reply, timeout, EOF) told apart, the server's
 * limits held against what we send, interrupts, and the trace hook. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "client_fake.h"

static void enc_reset(struct vfu_enc *e, uint8_t *buf, size_t cap)
{
    vfu_enc_begin(e, buf, cap, VFU_CMD_DEVICE_RESET, false, 0);
    vfu_enc_finish(e, NULL);
}

static bool recv_cmd(struct fake *f, struct vfu_msg *m, uint16_t cmd)
{
    bool ok;
    return fake_recv(&f->conn, m, &ok) && ok && !m->is_reply && m->hdr.cmd == cmd;
}

/* ---- an encoding sent before vfu_enc_finish ---- */

static void srv_unfinished(struct fake *f)
{
    struct vfu_msg m;
    FCHECK(f, recv_cmd(f, &m, VFU_CMD_DEVICE_GET_INFO));
    /* it decoded, so msg_size and argsz were filled in by the send */
    f->seen[0] = m.hdr.msg_size;
    f->seen[1] = (uint32_t)vfu_get(&m, VFU_F_DEVICE_INFO_REQ_ARGSZ);
}

/* a program that forgets vfu_enc_finish sends a framable message, not one
 * with msg_size 0; a failed encoding is still refused with its error */
static void unfinished_encoding_is_finished(void **state)
{
    (void)state;
    struct fake f;
    struct vfu_client *c = fake_start(&f, srv_unfinished, NULL, NULL);
    assert_non_null(c);
    uint8_t buf[64];
    struct vfu_enc e;
    struct vfu_error err;
    uint64_t t;
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_GET_INFO, false, 0);
    assert_false(e.finished);
    assert_true(vfu_client_send(c, &e, NULL, &t, &err));
    assert_true(e.finished);
    assert_int_equal(fake_join(&f), 0);
    assert_int_equal(f.seen[0], e.len);
    assert_int_equal(f.seen[1], VFU_SIZE_DEVICE_INFO);

    uint8_t tiny[VFU_HDR_SIZE + 1];
    vfu_enc_begin(&e, tiny, sizeof tiny, VFU_CMD_DEVICE_GET_INFO, false, 0);
    assert_false(vfu_client_send(c, &e, NULL, &t, &err));
    assert_int_equal(err.code, VFU_E_ENC_SPACE);
    vfu_client_close(c);
}

/* ---- pipelining ---- */

static void srv_pipeline(struct fake *f)
{
    bool answer_no_reply = f->arg != NULL;
    struct vfu_msg m[4];
    for (int i = 0; i < 4; i++) {
        FCHECK(f, recv_cmd(f, &m[i], VFU_CMD_DEVICE_RESET));
        f->seen[i] = m[i].hdr.msg_id;
        f->seen[4 + i] = m[i].hdr.flags;
    }
    if (answer_no_reply) FCHECK(f, fake_ack(&f->conn, &m[0]));
    FCHECK(f, fake_ack(&f->conn, &m[1]));
    FCHECK(f, fake_ack(&f->conn, &m[3]));
}

static void pipeline(bool answer_no_reply)
{
    int base = count_fds();
    struct fake f;
    struct vfu_client *c = fake_start(&f, srv_pipeline, answer_no_reply ? &f : NULL, NULL);
    assert_non_null(c);
    uint8_t buf[4][VFU_HDR_SIZE];
    struct vfu_enc e[4];
    uint64_t t[4];
    struct vfu_error err;
    for (int i = 0; i < 4; i++) {
        enc_reset(&e[i], buf[i], sizeof buf[i]);
        struct vfu_send_opts o = {.no_reply = i % 2 == 0};
        assert_true(vfu_client_send(c, &e[i], &o, &t[i], &err));
    }
    assert_int_equal(vfu_client_outstanding(c), 2);
    struct vfu_reply r;
    vfu_reply_init(&r);

    /* replies collected out of sending order */
    assert_int_equal(vfu_client_wait(c, t[3], 5000, &r), VFU_CALL_REPLY);
    assert_int_equal(r.msg.hdr.msg_id, (uint16_t)(f.seen[0] + 3));
    assert_int_equal(vfu_client_wait(c, t[1], 5000, &r), VFU_CALL_REPLY);
    assert_int_equal(r.msg.hdr.msg_id, (uint16_t)(f.seen[0] + 1));
    /* the later replies prove the No_reply ones were processed: no wait */
    int64_t t0 = mono_ms();
    enum vfu_call_status s0 = vfu_client_wait(c, t[0], 3000, &r);
    assert_int_equal(vfu_client_wait(c, t[2], 3000, &r), VFU_CALL_TIMEOUT);
    assert_true(mono_ms() - t0 < 1000);
    assert_int_equal(fake_join(&f), 0);
    /* ids count up; No_reply set where asked */
    for (int i = 0; i < 4; i++) {
        assert_int_equal(f.seen[i], (uint16_t)(f.seen[0] + i));
        assert_int_equal(f.seen[4 + i], i % 2 == 0 ? VFU_HDR_FLAGS_NO_REPLY : 0);
    }
    if (answer_no_reply) {
        assert_int_equal(s0, VFU_CALL_REPLY);
        assert_int_equal(vfu_client_violation_total(c), 1);
        assert_int_equal(vfu_client_violation_count(c, VFU_V_NO_REPLY_ANSWERED), 1);
    } else {
        assert_int_equal(s0, VFU_CALL_TIMEOUT);
        assert_int_equal(vfu_client_violation_total(c), 0);
    }
    assert_int_equal(vfu_client_outstanding(c), 0);
    vfu_reply_release(&r);
    vfu_client_close(c);
    assert_int_equal(count_fds(), base);
}

static void pipelining(void **state) { (void)state; pipeline(false); }
static void reply_to_no_reply(void **state) { (void)state; pipeline(true); }

/* ---- replies that do not match ---- */

static void srv_mismatch(struct fake *f)
{
    struct vfu_msg m;
    uint8_t buf[64];
    struct vfu_enc e;
    /* 1: a stray id first, then the real reply */
    FCHECK(f, recv_cmd(f, &m, VFU_CMD_DEVICE_RESET));
    f->seen[0] = m.hdr.msg_id;
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_RESET, true, (uint16_t)(m.hdr.msg_id + 100));
    FCHECK(f, fake_send_enc(&f->conn, &e));
    FCHECK(f, fake_ack(&f->conn, &m));
    /* 2: the right id, the wrong command */
    FCHECK(f, recv_cmd(f, &m, VFU_CMD_DEVICE_RESET));
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DMA_MAP, true, m.hdr.msg_id);
    FCHECK(f, fake_send_enc(&f->conn, &e));
    /* 3: a reply that breaks the codec (argsz disagrees with the payload) */
    FCHECK(f, recv_cmd(f, &m, VFU_CMD_DEVICE_GET_INFO));
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_GET_INFO, true, m.hdr.msg_id);
    vfu_enc_set(&e, VFU_F_DEVICE_INFO_ARGSZ, VFU_SIZE_DEVICE_INFO + 8);
    vfu_enc_set(&e, VFU_F_DEVICE_INFO_NUM_REGIONS, 9);
    FCHECK(f, vfu_enc_finish(&e, NULL));
    memcpy(f->data, e.buf, e.len);
    f->data_len = e.len;
    FCHECK(f, vfu_send(&f->conn, e.buf, e.len, NULL, 0, NULL));
}

static void mismatched_replies(void **state)
{
    (void)state;
    struct fake f;
    struct vfu_client *c = fake_start(&f, srv_mismatch, NULL, NULL);
    assert_non_null(c);
    uint8_t buf[64];
    struct vfu_enc e;
    struct vfu_reply r;
    vfu_reply_init(&r);

    enc_reset(&e, buf, sizeof buf);
    assert_int_equal(vfu_client_call(c, &e, NULL, 5000, &r), VFU_CALL_REPLY);
    assert_int_equal(vfu_client_violation_count(c, VFU_V_UNEXPECTED_REPLY), 1);
    unsigned n;
    const struct vfu_violation *v = vfu_client_violations(c, &n);
    assert_int_equal(v[0].msg_id, (uint16_t)(r.msg.hdr.msg_id + 100));
    assert_int_equal(v[0].err.field, VFU_F_HEADER_MSG_ID);

    enc_reset(&e, buf, sizeof buf);
    assert_int_equal(vfu_client_call(c, &e, NULL, 5000, &r), VFU_CALL_BAD_REPLY);
    assert_int_equal(r.err.field, VFU_F_HEADER_COMMAND);
    assert_int_equal(r.err.got, VFU_CMD_DMA_MAP);
    assert_int_equal(r.err.want, VFU_CMD_DEVICE_RESET);
    assert_int_equal(vfu_client_violation_count(c, VFU_V_REPLY_CMD), 1);

    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_GET_INFO, false, 0);
    assert_true(vfu_enc_finish(&e, NULL));
    assert_int_equal(vfu_client_call(c, &e, NULL, 5000, &r), VFU_CALL_BAD_REPLY);
    assert_int_equal(r.err.code, VFU_E_ARGSZ);
    assert_true(r.err.is_reply);
    assert_int_equal(vfu_client_violation_count(c, VFU_V_DECODE), 1);
    assert_int_equal(fake_join(&f), 0);
    /* the bytes as the server sent them, for the report */
    assert_int_equal(r.raw_len, f.data_len);
    assert_memory_equal(r.raw, f.data, f.data_len);
    assert_int_equal(r.msg.hdr.msg_id, vfu_read_uint(f.data, 2));
    char line[256];
    assert_true(vfu_violation_str(&vfu_client_violations(c, &n)[n - 1], line, sizeof line) > 0);
    assert_non_null(strstr(line, "DEVICE_GET_INFO reply"));
    vfu_reply_release(&r);
    assert_int_equal(vfu_client_violation_total(c), 3);
    vfu_client_close(c);
}

/* ---- reply, timeout, EOF ---- */

static void srv_outcomes(struct fake *f)
{
    struct vfu_msg m1, m2;
    FCHECK(f, recv_cmd(f, &m1, VFU_CMD_DEVICE_RESET));
    /* the client times out and sends the next one before we answer */
    FCHECK(f, recv_cmd(f, &m2, VFU_CMD_DEVICE_RESET));
    FCHECK(f, fake_ack(&f->conn, &m1));
    FCHECK(f, fake_ack(&f->conn, &m2));
    FCHECK(f, recv_cmd(f, &m1, VFU_CMD_DEVICE_RESET));
    vfu_conn_close(&f->conn);
}

static void timeout_late_and_eof(void **state)
{
    (void)state;
    int base = count_fds();
    struct fake f;
    struct vfu_client *c = fake_start(&f, srv_outcomes, NULL, NULL);
    assert_non_null(c);
    uint8_t buf[VFU_HDR_SIZE];
    struct vfu_enc e;
    struct vfu_reply r;
    vfu_reply_init(&r);

    enc_reset(&e, buf, sizeof buf);
    int64_t t0 = mono_ms();
    assert_int_equal(vfu_client_call(c, &e, NULL, 200, &r), VFU_CALL_TIMEOUT);
    int64_t took = mono_ms() - t0;
    assert_true(took >= 190 && took < 2000);
    assert_int_equal(r.err.code, VFU_E_TIMEOUT);

    enc_reset(&e, buf, sizeof buf);
    assert_int_equal(vfu_client_call(c, &e, NULL, 5000, &r), VFU_CALL_REPLY);
    assert_int_equal(vfu_client_stats(c)->late_replies, 1);
    assert_int_equal(vfu_client_violation_total(c), 0);

    enc_reset(&e, buf, sizeof buf);
    assert_int_equal(vfu_client_call(c, &e, NULL, 5000, &r), VFU_CALL_EOF);
    assert_true(vfu_client_peer_closed(c));
    assert_false(vfu_client_broken(c));
    /* and stays so, at once */
    enc_reset(&e, buf, sizeof buf);
    t0 = mono_ms();
    assert_int_equal(vfu_client_call(c, &e, NULL, 5000, &r), VFU_CALL_EOF);
    assert_true(mono_ms() - t0 < 1000);
    assert_int_equal(fake_join(&f), 0);
    vfu_reply_release(&r);
    vfu_client_close(c);
    assert_int_equal(count_fds(), base);
}

/* a message cut short by the server's close, and one far over our size */
static void srv_broken(struct fake *f)
{
    struct vfu_msg m;
    FCHECK(f, recv_cmd(f, &m, VFU_CMD_DEVICE_RESET));
    uint8_t hdr[VFU_HDR_SIZE];
    struct vfu_hdr h = {m.hdr.msg_id, VFU_CMD_DEVICE_RESET, (uint32_t)(intptr_t)f->arg, VFU_MSG_TYPE_REPLY, 0};
    vfu_hdr_encode(hdr, &h);
    FCHECK(f, vfu_send(&f->conn, hdr, sizeof hdr, NULL, 0, NULL));
    vfu_conn_close(&f->conn);
}

static void framing_failures(void **state)
{
    (void)state;
    struct vfu_reply r;
    vfu_reply_init(&r);
    uint8_t buf[VFU_HDR_SIZE];
    struct vfu_enc e;
    /* 64: promises more than comes before EOF; 1 GiB: over our limit */
    const uint32_t sizes[] = {64, 1u << 30};
    const enum vfu_call_status want[] = {VFU_CALL_EOF, VFU_CALL_ERROR};
    const enum vfu_errc code[] = {VFU_E_EOF, VFU_E_SIZE_LIMIT};
    for (int i = 0; i < 2; i++) {
        struct fake f;
        struct vfu_client *c = fake_start(&f, srv_broken, (void *)(intptr_t)sizes[i], NULL);
        assert_non_null(c);
        enc_reset(&e, buf, sizeof buf);
        assert_int_equal(vfu_client_call(c, &e, NULL, 5000, &r), want[i]);
        assert_int_equal(fake_join(&f), 0);
        assert_int_equal(vfu_client_violation_count(c, VFU_V_FRAMING), 1);
        assert_true(has_violation(c, VFU_V_FRAMING, code[i]));
        assert_int_equal(vfu_client_broken(c), i == 1);
        vfu_client_close(c);
    }
    vfu_reply_release(&r);
}

/* ---- limits on what we send, ids, raw messages (in-process) ---- */

struct sent {
    unsigned n;
    uint16_t id[8];
    unsigned nfds[8];
    uint32_t flags[8];
};

static void sink(void *ctx, enum vfu_sock sock, const uint8_t *buf, size_t len, const int *fds,
                 unsigned nfds)
{
    (void)sock;
    (void)fds;
    struct sent *s = ctx;
    struct vfu_hdr h = {0};
    if (s->n == 8) return;
    vfu_hdr_decode(buf, len, &h, NULL);
    s->id[s->n] = h.msg_id;
    s->flags[s->n] = h.flags;
    s->nfds[s->n++] = nfds;
}

static void send_limits_and_ids(void **state)
{
    (void)state;
    int base = count_fds();
    struct sent s = {0};
    struct vfu_client_opts o;
    vfu_client_opts_default(&o);
    o.sink.fn = sink;
    o.sink.ctx = &s;
    struct vfu_error err;
    struct vfu_client *c = vfu_client_inproc(&o, &err);
    assert_non_null(c);
    struct vfu_limits tx = {UINT32_MAX, 1, 64};
    assert_true(vfu_client_set_limits(c, NULL, &tx, &err));

    int efd[2] = {vfu_client_eventfd(c, &err), vfu_client_eventfd(c, &err)};
    assert_true(efd[0] >= 0 && efd[1] >= 0);
    uint8_t buf[128];
    struct vfu_enc e;
    uint64_t t;
    assert_true(vfu_irq_enc_set(&e, buf, sizeof buf, VFU_PCI_IRQ_MSIX, 0, VFU_IRQ_SET_FLAGS_ACTION_TRIGGER,
                                efd, 2, &err));
    /* two fds to a server that takes one: refused, nothing sent */
    assert_false(vfu_client_send(c, &e, NULL, &t, &err));
    assert_int_equal(err.code, VFU_E_FDS);
    assert_int_equal(err.got, 2);
    assert_int_equal(s.n, 0);
    /* unless asked to send it anyway */
    struct vfu_send_opts raw_id = {.unchecked = true, .set_id = true, .msg_id = 0xbeef};
    assert_true(vfu_client_send(c, &e, &raw_id, &t, &err));
    assert_int_equal(s.n, 1);
    assert_int_equal(s.nfds[0], 2);
    assert_int_equal(s.id[0], 0xbeef);

    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_REGION_READ, false, 0);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_COUNT, 65);
    assert_true(vfu_enc_finish(&e, &err));
    assert_false(vfu_client_send(c, &e, NULL, &t, &err));
    assert_int_equal(err.code, VFU_E_XFER_LIMIT);
    assert_int_equal(err.got, 65);
    assert_int_equal(err.want, 64);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_COUNT, 64);
    assert_true(vfu_client_send(c, &e, NULL, &t, &err));
    assert_true(vfu_client_send(c, &e, NULL, &t, &err));
    assert_int_equal(s.n, 3);
    assert_int_equal(s.id[2], (uint16_t)(s.id[1] + 1));

    /* raw bytes go as they are; a header too short to name an id matches
     * whatever reply comes first */
    static const uint8_t junk[5] = {1, 2, 3, 4, 5};
    assert_true(vfu_client_send_raw(c, junk, sizeof junk, NULL, 0, NULL, &t, &err));
    assert_int_equal(s.n, 4);
    uint8_t rep[VFU_HDR_SIZE];
    vfu_enc_error(&e, rep, sizeof rep, VFU_CMD_DEVICE_RESET, 999, EINVAL);
    assert_true(vfu_enc_finish(&e, &err));
    /* replies to the earlier REGION_READs (ids s.id[1], s.id[2]) stay theirs */
    vfu_client_feed(c, VFU_SOCK_MAIN, rep, sizeof rep, NULL, 0);
    struct vfu_reply r;
    vfu_reply_init(&r);
    assert_int_equal(vfu_client_wait(c, t, 0, &r), VFU_CALL_REPLY);
    assert_true(r.msg.is_error);
    assert_int_equal(r.msg.hdr.error, EINVAL);
    assert_int_equal(vfu_client_violation_total(c), 0);

    /* a command number the codec does not know: its error reply is the
     * server's right answer, not a violation */
    uint8_t unk[VFU_HDR_SIZE];
    struct vfu_hdr h = {77, 200, VFU_HDR_SIZE, VFU_MSG_TYPE_COMMAND, 0};
    vfu_hdr_encode(unk, &h);
    assert_true(vfu_client_send_raw(c, unk, sizeof unk, NULL, 0, NULL, &t, &err));
    h.flags = VFU_MSG_TYPE_REPLY | VFU_HDR_FLAGS_ERROR;
    h.error = ENOTSUP;
    vfu_hdr_encode(unk, &h);
    vfu_client_feed(c, VFU_SOCK_MAIN, unk, sizeof unk, NULL, 0);
    assert_int_equal(vfu_client_wait(c, t, 0, &r), VFU_CALL_REPLY);
    assert_true(r.msg.is_error);
    assert_int_equal(r.msg.hdr.error, ENOTSUP);
    assert_int_equal(vfu_client_violation_total(c), 0);

    vfu_reply_release(&r);
    vfu_client_close(c);
    assert_int_equal(count_fds(), base);
}

static void pending_table_full(void **state)
{
    (void)state;
    struct vfu_error err;
    struct vfu_client *c = vfu_client_inproc(NULL, &err);
    assert_non_null(c);
    uint8_t buf[VFU_HDR_SIZE];
    struct vfu_enc e;
    uint64_t t[VFU_CLIENT_MAX_PENDING + 1];
    for (unsigned i = 0; i < VFU_CLIENT_MAX_PENDING; i++) {
        enc_reset(&e, buf, sizeof buf);
        assert_true(vfu_client_send(c, &e, NULL, &t[i], &err));
    }
    enc_reset(&e, buf, sizeof buf);
    assert_false(vfu_client_send(c, &e, NULL, &t[VFU_CLIENT_MAX_PENDING], &err));
    assert_int_equal(err.code, VFU_E_NOMEM);
    /* in-process, a wait ends at once; an abandoned request frees a slot */
    struct vfu_reply r;
    vfu_reply_init(&r);
    assert_int_equal(vfu_client_wait(c, t[5], 1000, &r), VFU_CALL_TIMEOUT);
    vfu_client_abandon(c, t[5]);
    assert_true(vfu_client_send(c, &e, NULL, &t[VFU_CLIENT_MAX_PENDING], &err));
    assert_int_equal(vfu_client_outstanding(c), VFU_CLIENT_MAX_PENDING);
    /* a reply to an abandoned request is late, not unexpected (ids count
     * from 1, so t[i] went out as msg id i + 1) */
    vfu_client_abandon(c, t[6]);
    uint8_t rep[VFU_HDR_SIZE];
    vfu_enc_begin(&e, rep, sizeof rep, VFU_CMD_DEVICE_RESET, true, 7);
    assert_true(vfu_enc_finish(&e, &err));
    vfu_client_feed(c, VFU_SOCK_MAIN, rep, sizeof rep, NULL, 0);
    assert_int_equal(vfu_client_stats(c)->late_replies, 1);
    assert_int_equal(vfu_client_violation_total(c), 0);
    assert_int_equal(vfu_client_outstanding(c), VFU_CLIENT_MAX_PENDING - 1);
    vfu_reply_release(&r);
    vfu_client_close(c);
}

/* ---- interrupts, serviced DMA while waiting, trace hook ---- */

struct trace_count { unsigned rx, tx; };

static void trace(void *ctx, enum vfu_trace_dir dir, const uint8_t *buf, size_t len, const int *fds,
                  unsigned nfds, const struct vfu_error *ferr)
{
    (void)buf; (void)len; (void)fds; (void)nfds; (void)ferr;
    struct trace_count *t = ctx;
    if (dir == VFU_TRACE_RX) t->rx++;
    else t->tx++;
}

static void srv_irq(struct fake *f)
{
    struct vfu_msg m;
    FCHECK(f, recv_cmd(f, &m, VFU_CMD_DEVICE_SET_IRQS));
    f->seen[0] = vfu_get(&m, VFU_F_SET_IRQS_FLAGS);
    f->seen[1] = vfu_get(&m, VFU_F_SET_IRQS_INDEX);
    f->seen[2] = vfu_get(&m, VFU_F_SET_IRQS_COUNT);
    f->seen[3] = m.nfds;
    int efd = vfu_conn_take_fd(&f->conn, 0);
    FCHECK(f, fake_ack(&f->conn, &m));
    FCHECK(f, recv_cmd(f, &m, VFU_CMD_DEVICE_RESET));
    FCHECK(f, fake_ack(&f->conn, &m));
    /* the device needs guest memory before it can interrupt */
    sleep_ms(50);
    static const uint8_t data[] = "dma before the interrupt";
    FCHECK(f, fake_dma(&f->conn, 400, 0x1000, sizeof data, data));
    bool ok;
    FCHECK(f, fake_recv(&f->conn, &m, &ok) && ok && m.is_reply && m.hdr.msg_id == 400 && !m.is_error);
    /* two interrupts' worth at once: the counter, not the wakeups, is read */
    uint64_t two = 2;
    FCHECK(f, write(efd, &two, 8) == 8);
    close(efd);
    FCHECK(f, recv_cmd(f, &m, VFU_CMD_DEVICE_RESET));
    vfu_conn_close(&f->conn);
}

static void irq_wait_services_dma(void **state)
{
    (void)state;
    int base = count_fds();
    struct trace_count tc = {0, 0};
    struct vfu_client_opts o;
    vfu_client_opts_default(&o);
    o.trace.fn = trace;
    o.trace.ctx = &tc;
    struct fake f;
    struct vfu_client *c = fake_start(&f, srv_irq, NULL, &o);
    assert_non_null(c);
    struct vfu_error err;
    assert_int_equal(vfu_mem_add(c, 0x1000, 0x1000, VFU_DMA_MAP_FLAGS_READ | VFU_DMA_MAP_FLAGS_WRITE,
                                 VFU_MEM_MESSAGE, &err), 0);
    vfu_mem_set_exported(c, 0, true);
    int efd = vfu_client_eventfd(c, &err);
    assert_true(efd >= 0);
    uint8_t buf[128];
    struct vfu_enc e;
    struct vfu_reply r;
    vfu_reply_init(&r);
    assert_true(vfu_irq_enc_set(&e, buf, sizeof buf, VFU_PCI_IRQ_MSIX, 0, VFU_IRQ_SET_FLAGS_ACTION_TRIGGER,
                                &efd, 1, &err));
    assert_int_equal(vfu_client_call(c, &e, NULL, 5000, &r), VFU_CALL_REPLY);

    uint64_t n = 0;
    assert_int_equal(vfu_client_irq_wait(c, efd, 50, &n, &err), 0);
    assert_int_equal(err.code, VFU_E_TIMEOUT);
    enc_reset(&e, buf, sizeof buf);
    assert_int_equal(vfu_client_call(c, &e, NULL, 5000, &r), VFU_CALL_REPLY);
    assert_int_equal(vfu_client_irq_wait(c, efd, 5000, &n, &err), 1);
    assert_int_equal(n, 2);
    assert_int_equal(vfu_irq_read(efd), 0);
    char got[32];
    assert_true(vfu_mem_read(c, 0x1000, got, sizeof "dma before the interrupt"));
    assert_string_equal(got, "dma before the interrupt");
    /* SET_IRQS, RESET, DMA_WRITE reply out; two acks and DMA_WRITE in */
    assert_int_equal(tc.tx, 3);
    assert_int_equal(tc.rx, 3);

    /* the server going away ends a wait for an interrupt */
    enc_reset(&e, buf, sizeof buf);
    uint64_t t;
    assert_true(vfu_client_send(c, &e, NULL, &t, &err));
    assert_int_equal(vfu_client_irq_wait(c, efd, 5000, &n, &err), -1);
    assert_int_equal(err.code, VFU_E_EOF);
    assert_int_equal(fake_join(&f), 0);
    assert_int_equal(f.seen[0], VFU_IRQ_SET_FLAGS_DATA_EVENTFD | VFU_IRQ_SET_FLAGS_ACTION_TRIGGER);
    assert_int_equal(f.seen[1], VFU_PCI_IRQ_MSIX);
    assert_int_equal(f.seen[2], 1);
    assert_int_equal(f.seen[3], 1);
    assert_int_equal(vfu_client_violation_total(c), 0);
    vfu_reply_release(&r);
    vfu_client_close(c);
    assert_int_equal(count_fds(), base);
}

/* ---- a server that never stops asking ---- */

static void flood_cannot_hold_a_wait(void **state)
{
    (void)state;
    int base = count_fds();
    int sv[2];
    struct vfu_error err;
    assert_true(vfu_socketpair(sv, &err));
    struct vfu_client *c = vfu_client_adopt(sv[0], NULL, &err);
    assert_non_null(c);
    assert_int_equal(vfu_mem_add(c, 0x1000, 0x1000, VFU_DMA_MAP_FLAGS_READ, VFU_MEM_MESSAGE, &err), 0);
    vfu_mem_set_exported(c, 0, true);
    /* as many No_reply DMA_READs as the socket holds, queued up front */
    uint8_t msg[VFU_HDR_SIZE + VFU_SIZE_DMA_ACCESS];
    struct vfu_enc e;
    vfu_enc_begin(&e, msg, sizeof msg, VFU_CMD_DMA_READ, false, 1);
    vfu_enc_set(&e, VFU_F_DMA_ACCESS_ADDRESS, 0x1000);
    vfu_enc_set(&e, VFU_F_DMA_ACCESS_COUNT, 8);
    assert_true(vfu_enc_finish(&e, NULL));
    vfu_enc_hdr(&e, VFU_F_HEADER_FLAGS, VFU_MSG_TYPE_COMMAND | VFU_HDR_FLAGS_NO_REPLY);
    enum { PER_SEND = 128 };   /* small sends would fill the socket with overhead */
    static uint8_t batch[PER_SEND * sizeof msg];
    for (int i = 0; i < PER_SEND; i++) memcpy(batch + i * sizeof msg, msg, sizeof msg);
    unsigned queued = 0;
    while (send(sv[1], batch, sizeof batch, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)sizeof batch)
        queued += PER_SEND;
    assert_true(queued > 1000);

    /* a wait whose time is up gives up after one round, not when the
     * server stops sending */
    uint8_t buf[VFU_HDR_SIZE];
    struct vfu_reply r;
    vfu_reply_init(&r);
    enc_reset(&e, buf, sizeof buf);
    assert_int_equal(vfu_client_call(c, &e, NULL, 0, &r), VFU_CALL_TIMEOUT);
    unsigned long served = vfu_client_stats(c)->dma_read;
    assert_true(served >= 1 && served <= 2);
    /* a pump drains one batch at most */
    assert_int_equal(vfu_client_pump(c, 0), 1);
    served = vfu_client_stats(c)->dma_read - served;
    assert_true(served > 1 && served < queued);
    /* No_reply honoured: only our request went out */
    assert_int_equal(vfu_client_stats(c)->msgs_tx[VFU_SOCK_MAIN], 1);
    vfu_reply_release(&r);
    vfu_client_close(c);
    close(sv[1]);
    assert_int_equal(count_fds(), base);
}

/* ---- by socket path ---- */

static void connect_by_path(void **state)
{
    (void)state;
    int base = count_fds();
    char dir[] = "/tmp/vfu-client-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/sock", dir);
    struct vfu_error err;
    assert_null(vfu_client_connect(path, 200, NULL, &err));
    assert_int_equal(err.code, VFU_E_IO);

    int l = vfu_listen(path, &err);
    assert_true(l >= 0);
    struct vfu_client *c = vfu_client_connect(path, 1000, NULL, &err);
    assert_non_null(c);
    int s = vfu_accept(l, 1000, &err);
    assert_true(s >= 0);
    struct vfu_conn srv;
    assert_true(vfu_conn_init(&srv, s, NULL, &err));
    srv.timeout_ms = 1000;

    uint8_t buf[VFU_HDR_SIZE];
    struct vfu_enc e;
    uint64_t t;
    enc_reset(&e, buf, sizeof buf);
    assert_true(vfu_client_send(c, &e, NULL, &t, &err));
    struct vfu_msg m;
    assert_true(vfu_recv_msg(&srv, &m, VFU_ROLE_SERVER, &err));
    assert_int_equal(m.hdr.cmd, VFU_CMD_DEVICE_RESET);
    assert_true(fake_ack(&srv, &m));
    struct vfu_reply r;
    vfu_reply_init(&r);
    assert_int_equal(vfu_client_wait(c, t, 1000, &r), VFU_CALL_REPLY);
    vfu_reply_release(&r);
    vfu_client_close(c);
    vfu_conn_close(&srv);
    close(l);
    unlink(path);
    rmdir(dir);
    assert_int_equal(count_fds(), base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pipelining),
        cmocka_unit_test(reply_to_no_reply),
        cmocka_unit_test(mismatched_replies),
        cmocka_unit_test(timeout_late_and_eof),
        cmocka_unit_test(framing_failures),
        cmocka_unit_test(send_limits_and_ids),
        cmocka_unit_test(pending_table_full),
        cmocka_unit_test(irq_wait_services_dma),
        cmocka_unit_test(flood_cannot_hold_a_wait),
        cmocka_unit_test(connect_by_path),
        cmocka_unit_test(unfinished_encoding_is_finished),
    };
    return cmocka_run_group_tests_name("client_call", tests, NULL, NULL);
}
