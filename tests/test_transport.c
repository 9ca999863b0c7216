/* Transport framing over real socketpairs: whole messages however the bytes
 * are split, EOF and timeouts told apart, limits applied from the header
 * before the payload is read, and the trace hook seeing every message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include "transport_util.h"

static size_t pending_bytes(int fd)
{
    int n = 0;
    ioctl(fd, FIONREAD, &n);
    return (size_t)n;
}

static void round_trip(void **state)
{
    (void)state;
    int base = count_fds();
    struct vfu_conn a, b;
    assert_true(conn_pair(&a, &b));
    uint8_t buf[512];
    struct vfu_enc e;
    size_t len = enc_region_write(&e, buf, sizeof buf, 42, 100);
    assert_int_equal(len, VFU_HDR_SIZE + VFU_SIZE_REGION_ACCESS_DATA + 100);
    struct vfu_error err;
    assert_true(vfu_send_enc(&a, &e, &err));

    struct vfu_msg m;
    assert_true(vfu_recv_msg(&b, &m, VFU_ROLE_SERVER, &err));
    assert_int_equal(b.rlen, len);
    assert_memory_equal(b.rbuf, buf, len);
    assert_int_equal(m.hdr.msg_id, 42);
    assert_int_equal(m.hdr.cmd, VFU_CMD_REGION_WRITE);
    assert_int_equal(vfu_get(&m, VFU_F_REGION_ACCESS_DATA_OFFSET), 0x40);
    assert_int_equal(vfu_get(&m, VFU_F_REGION_ACCESS_DATA_REGION), 2);
    assert_int_equal(vfu_get(&m, VFU_F_REGION_ACCESS_DATA_COUNT), 100);
    uint32_t dlen;
    const uint8_t *d = vfu_data(&m, VFU_F_REGION_ACCESS_DATA_DATA, &dlen);
    assert_int_equal(dlen, 100);
    assert_memory_equal(d, buf + VFU_HDR_SIZE + VFU_SIZE_REGION_ACCESS_DATA, 100);

    /* and the reply the other way */
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_REGION_WRITE, true, 42);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_OFFSET, 0x40);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_REGION, 2);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_COUNT, 100);
    assert_true(vfu_enc_finish(&e, &err));
    assert_true(vfu_send_enc(&b, &e, &err));
    assert_true(vfu_recv_msg(&a, &m, VFU_ROLE_CLIENT, &err));
    assert_true(m.is_reply);
    assert_int_equal(m.hdr.msg_id, 42);
    assert_int_equal(vfu_get(&m, VFU_F_REGION_ACCESS_COUNT), 100);

    vfu_conn_close(&a);
    vfu_conn_close(&b);
    assert_int_equal(count_fds(), base);
}

static void send_enc_error_not_sent(void **state)
{
    (void)state;
    struct vfu_conn a, b;
    assert_true(conn_pair(&a, &b));
    uint8_t buf[20];
    struct vfu_enc e;
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DMA_MAP, false, 1);   /* does not fit */
    struct vfu_error err;
    assert_false(vfu_send_enc(&a, &e, &err));
    assert_int_equal(err.code, VFU_E_ENC_SPACE);
    assert_int_equal(pending_bytes(b.fd), 0);
    vfu_conn_close(&a);
    vfu_conn_close(&b);
}

/* ---- split messages ---- */

struct trickle {
    int fd;
    const uint8_t *buf;
    size_t len;
    size_t chunk;
    int pause_ms;
};

static void *trickle_writer(void *arg)
{
    struct trickle *t = arg;
    for (size_t off = 0; off < t->len; off += t->chunk) {
        size_t n = t->len - off < t->chunk ? t->len - off : t->chunk;
        if (raw_send(t->fd, t->buf + off, n, NULL, 0) != (ssize_t)n) break;
        sleep_ms(t->pause_ms);
    }
    return NULL;
}

static void byte_by_byte(void **state)
{
    (void)state;
    struct vfu_conn a, b;
    assert_true(conn_pair(&a, &b));
    /* two messages back to back: the first receive must stop at its end */
    uint8_t buf[256];
    struct vfu_enc e;
    size_t l1 = enc_region_write(&e, buf, sizeof buf, 1, 24);
    size_t l2 = enc_region_write(&e, buf + l1, sizeof buf - l1, 2, 9);
    assert_true(l1 && l2);
    struct trickle t = {a.fd, buf, l1 + l2, 1, 1};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, trickle_writer, &t), 0);
    b.timeout_ms = 10000;
    struct vfu_error err;
    struct vfu_msg m;
    assert_true(vfu_recv_msg(&b, &m, VFU_ROLE_SERVER, &err));
    assert_int_equal(b.rlen, l1);
    assert_memory_equal(b.rbuf, buf, l1);
    assert_int_equal(m.hdr.msg_id, 1);
    assert_true(vfu_recv_msg(&b, &m, VFU_ROLE_SERVER, &err));
    assert_int_equal(b.rlen, l2);
    assert_memory_equal(b.rbuf, buf + l1, l2);
    assert_int_equal(m.hdr.msg_id, 2);
    pthread_join(th, NULL);
    vfu_conn_close(&a);
    vfu_conn_close(&b);
}

struct slow_reader {
    struct vfu_conn *c;
    bool ok;
    struct vfu_error err;
};

static void *slow_recv(void *arg)
{
    struct slow_reader *r = arg;
    sleep_ms(50);   /* let the sender hit a full socket first */
    r->ok = vfu_recv(r->c, &r->err);
    return NULL;
}

/* a message far larger than the socket buffer: vfu_send must keep going
 * over partial writes, and vfu_recv over partial reads */
static void large_message_partial_io(void **state)
{
    (void)state;
    struct vfu_conn a, b;
    assert_true(conn_pair(&a, &b));
    int small = 4096;
    setsockopt(a.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    setsockopt(b.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    size_t len = 512 * 1024;
    assert_true(len < b.rcap);
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    raw_msg(buf, VFU_CMD_REGION_WRITE, 9, (uint32_t)len, len);

    struct slow_reader r = {.c = &b};
    b.timeout_ms = 10000;
    a.timeout_ms = 10000;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, slow_recv, &r), 0);
    struct vfu_error err;
    assert_true(vfu_send(&a, buf, len, NULL, 0, &err));
    pthread_join(th, NULL);
    assert_true(r.ok);
    assert_int_equal(b.rlen, len);
    assert_memory_equal(b.rbuf, buf, len);
    free(buf);
    vfu_conn_close(&a);
    vfu_conn_close(&b);
}

/* ---- EOF ---- */

static void eof_at_boundary(void **state)
{
    (void)state;
    struct vfu_conn a, b;
    assert_true(conn_pair(&a, &b));
    uint8_t buf[64];
    raw_msg(buf, VFU_CMD_DEVICE_RESET, 5, VFU_HDR_SIZE, VFU_HDR_SIZE);
    assert_int_equal(raw_send(a.fd, buf, VFU_HDR_SIZE, NULL, 0), VFU_HDR_SIZE);
    vfu_conn_close(&a);
    struct vfu_error err;
    assert_true(vfu_recv(&b, &err));
    assert_int_equal(b.rlen, VFU_HDR_SIZE);
    assert_false(vfu_recv(&b, &err));
    assert_int_equal(err.code, VFU_E_EOF);
    assert_int_equal(err.got, 0);
    assert_int_equal(err.cmd, -1);
    assert_int_equal(b.rlen, 0);
    vfu_conn_close(&b);
}

static void eof_mid_header(void **state)
{
    (void)state;
    struct vfu_conn a, b;
    assert_true(conn_pair(&a, &b));
    uint8_t buf[64];
    raw_msg(buf, VFU_CMD_DMA_MAP, 5, 48, 48);
    assert_int_equal(raw_send(a.fd, buf, 7, NULL, 0), 7);
    vfu_conn_close(&a);
    struct vfu_error err;
    assert_false(vfu_recv(&b, &err));
    assert_int_equal(err.code, VFU_E_EOF);
    assert_int_equal(err.got, 7);
    assert_int_equal(err.want, VFU_HDR_SIZE);
    assert_int_equal(b.rlen, 7);
    vfu_conn_close(&b);
}

static void eof_mid_payload(void **state)
{
    (void)state;
    struct vfu_conn a, b;
    assert_true(conn_pair(&a, &b));
    uint8_t buf[64];
    raw_msg(buf, VFU_CMD_DMA_MAP, 5, 48, 48);
    assert_int_equal(raw_send(a.fd, buf, 26, NULL, 0), 26);
    vfu_conn_close(&a);
    struct vfu_error err;
    assert_false(vfu_recv(&b, &err));
    assert_int_equal(err.code, VFU_E_EOF);
    assert_int_equal(err.got, 26);
    assert_int_equal(err.want, 48);
    assert_int_equal(err.cmd, VFU_CMD_DMA_MAP);
    vfu_conn_close(&b);
}

/* ---- limits from the header ---- */

static void size_below_header(void **state)
{
    (void)state;
    struct vfu_conn a, b;
    assert_true(conn_pair(&a, &b));
    uint8_t *before = b.rbuf;
    size_t cap = b.rcap;
    uint8_t buf[64];
    raw_msg(buf, VFU_CMD_DMA_MAP, 5, 8, 24);
    assert_int_equal(raw_send(a.fd, buf, 24, NULL, 0), 24);
    struct vfu_error err;
    assert_false(vfu_recv(&b, &err));
    assert_int_equal(err.code, VFU_E_SIZE_BELOW_HDR);
    assert_int_equal(err.got, 8);
    assert_int_equal(err.field, VFU_F_HEADER_MSG_SIZE);
    assert_int_equal(err.cmd, VFU_CMD_DMA_MAP);
    /* nothing after the header was read */
    assert_int_equal(pending_bytes(b.fd), 8);
    assert_ptr_equal(b.rbuf, before);
    assert_int_equal(b.rcap, cap);
    vfu_conn_close(&a);
    vfu_conn_close(&b);
}

static void size_above_limit(void **state)
{
    (void)state;
    struct vfu_conn a, b;
    assert_true(conn_pair(&a, &b));
    struct vfu_limits lim = b.lim;
    lim.max_msg_size = 64;
    struct vfu_error err;
    assert_true(vfu_conn_set_limits(&b, &lim, &err));
    uint8_t *before = b.rbuf;
    assert_int_equal(b.rcap, 64);

    uint8_t buf[80];
    raw_msg(buf, VFU_CMD_REGION_WRITE, 3, 64, 64);   /* exactly at the limit */
    assert_int_equal(raw_send(a.fd, buf, 64, NULL, 0), 64);
    assert_true(vfu_recv(&b, &err));
    assert_int_equal(b.rlen, 64);

    raw_msg(buf, VFU_CMD_REGION_WRITE, 4, 65, 65);
    assert_int_equal(raw_send(a.fd, buf, 65, NULL, 0), 65);
    assert_false(vfu_recv(&b, &err));
    assert_int_equal(err.code, VFU_E_SIZE_LIMIT);
    assert_int_equal(err.got, 65);
    assert_int_equal(err.want, 64);
    assert_int_equal(pending_bytes(b.fd), 65 - VFU_HDR_SIZE);
    assert_ptr_equal(b.rbuf, before);
    assert_int_equal(b.rcap, 64);
    vfu_conn_close(&a);
    vfu_conn_close(&b);
}

static void size_huge_default_limits(void **state)
{
    (void)state;
    struct vfu_conn a, b;
    assert_true(conn_pair(&a, &b));
    uint8_t *before = b.rbuf;
    size_t cap = b.rcap;
    uint8_t buf[VFU_HDR_SIZE];
    raw_msg(buf, VFU_CMD_REGION_WRITE, 4, UINT32_MAX, 0);
    assert_int_equal(raw_send(a.fd, buf, sizeof buf, NULL, 0), sizeof buf);
    struct vfu_error err;
    assert_false(vfu_recv(&b, &err));
    assert_int_equal(err.code, VFU_E_SIZE_LIMIT);
    assert_int_equal(err.got, UINT32_MAX);
    assert_ptr_equal(b.rbuf, before);
    assert_int_equal(b.rcap, cap);
    vfu_conn_close(&a);
    vfu_conn_close(&b);
}

static void set_limits_resizes(void **state)
{
    (void)state;
    struct vfu_conn a, b;
    assert_true(conn_pair(&a, &b));
    struct vfu_limits def;
    vfu_limits_default(&def);
    assert_int_equal(b.rcap, def.max_msg_size);

    struct vfu_limits lim = def;
    lim.max_msg_size = 2u << 20;
    lim.max_fds = 100000;
    struct vfu_error err;
    assert_true(vfu_conn_set_limits(&b, &lim, &err));
    assert_int_equal(b.rcap, 2u << 20);
    assert_int_equal(b.lim.max_msg_size, 2u << 20);
    assert_int_equal(b.lim.max_fds, VFU_MAX_FDS);

    /* a message the old limit refused now fits, and is written whole */
    size_t len = def.max_msg_size + 100;
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    raw_msg(buf, VFU_CMD_REGION_WRITE, 8, (uint32_t)len, len);
    a.timeout_ms = b.timeout_ms = 10000;
    struct slow_reader r = {.c = &b};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, slow_recv, &r), 0);
    assert_true(vfu_send(&a, buf, len, NULL, 0, &err));
    pthread_join(th, NULL);
    assert_true(r.ok);
    assert_memory_equal(b.rbuf, buf, len);

    /* shrinking keeps the leading bytes of what was received */
    lim.max_msg_size = 0;
    assert_true(vfu_conn_set_limits(&b, &lim, &err));
    assert_int_equal(b.rcap, VFU_HDR_SIZE);
    assert_int_equal(b.rlen, VFU_HDR_SIZE);
    assert_memory_equal(b.rbuf, buf, VFU_HDR_SIZE);
    free(buf);
    vfu_conn_close(&a);
    vfu_conn_close(&b);
}

/* ---- timeouts ---- */

static void recv_timeout_half_message(void **state)
{
    (void)state;
    struct vfu_conn a, b;
    assert_true(conn_pair(&a, &b));
    uint8_t buf[64];
    raw_msg(buf, VFU_CMD_DMA_MAP, 5, 48, 48);
    assert_int_equal(raw_send(a.fd, buf, 24, NULL, 0), 24);
    b.timeout_ms = 100;
    struct vfu_error err;
    int64_t t0 = mono_ms();
    assert_false(vfu_recv(&b, &err));
    int64_t dt = mono_ms() - t0;
    assert_int_equal(err.code, VFU_E_TIMEOUT);
    assert_int_equal(err.got, 24);
    assert_int_equal(err.want, 48);
    assert_true(dt >= 90 && dt < 2000);

    /* nothing at all within the time is a timeout too, with nothing got */
    vfu_conn_close(&a);
    vfu_conn_close(&b);
    assert_true(conn_pair(&a, &b));
    b.timeout_ms = 50;
    assert_false(vfu_recv(&b, &err));
    assert_int_equal(err.code, VFU_E_TIMEOUT);
    assert_int_equal(err.got, 0);
    vfu_conn_close(&a);
    vfu_conn_close(&b);
}

/* a peer feeding a byte now and then must not stretch one message's
 * timeout: it covers the whole message, not each read */
static void recv_timeout_covers_whole_message(void **state)
{
    (void)state;
    struct vfu_conn a, b;
    assert_true(conn_pair(&a, &b));
    uint8_t buf[64];
    raw_msg(buf, VFU_CMD_DMA_MAP, 5, 48, 48);
    struct trickle t = {a.fd, buf, 48, 1, 30};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, trickle_writer, &t), 0);
    b.timeout_ms = 200;
    struct vfu_error err;
    int64_t t0 = mono_ms();
    assert_false(vfu_recv(&b, &err));
    int64_t dt = mono_ms() - t0;
    assert_int_equal(err.code, VFU_E_TIMEOUT);
    assert_true(err.got > 0 && err.got < 48);
    assert_true(dt >= 190 && dt < 1000);
    vfu_conn_close(&b);   /* the writer now fails and stops */
    pthread_join(th, NULL);
    vfu_conn_close(&a);
}

static void send_timeout(void **state)
{
    (void)state;
    struct vfu_conn a, b;
    assert_true(conn_pair(&a, &b));
    size_t len = 8u << 20;
    uint8_t *buf = calloc(1, len);
    assert_non_null(buf);
    raw_msg(buf, VFU_CMD_REGION_WRITE, 1, (uint32_t)len, VFU_HDR_SIZE);
    a.timeout_ms = 100;
    struct vfu_error err;
    int64_t t0 = mono_ms();
    assert_false(vfu_send(&a, buf, len, NULL, 0, &err));
    int64_t dt = mono_ms() - t0;
    assert_int_equal(err.code, VFU_E_TIMEOUT);
    assert_true(err.got > 0 && err.got < len);
    assert_int_equal(err.want, len);
    assert_int_equal(err.cmd, VFU_CMD_REGION_WRITE);
    assert_true(dt >= 90 && dt < 2000);
    free(buf);
    vfu_conn_close(&a);
    vfu_conn_close(&b);
}

/* without MSG_NOSIGNAL this test process would die of SIGPIPE */
static void send_to_closed_peer(void **state)
{
    (void)state;
    struct vfu_conn a, b;
    assert_true(conn_pair(&a, &b));
    vfu_conn_close(&b);
    uint8_t buf[VFU_HDR_SIZE];
    raw_msg(buf, VFU_CMD_DEVICE_RESET, 1, VFU_HDR_SIZE, 0);
    struct vfu_error err;
    assert_false(vfu_send(&a, buf, sizeof buf, NULL, 0, &err));
    assert_int_equal(err.code, VFU_E_EOF);
    assert_int_equal(err.sys_errno, EPIPE);
    assert_int_equal(err.got, 0);
    vfu_conn_close(&a);
}

static void wait_readable(void **state)
{
    (void)state;
    struct vfu_conn a, b;
    assert_true(conn_pair(&a, &b));
    assert_int_equal(vfu_conn_wait(&b, 20), 0);
    uint8_t buf[VFU_HDR_SIZE];
    raw_msg(buf, VFU_CMD_DEVICE_RESET, 1, VFU_HDR_SIZE, 0);
    assert_int_equal(raw_send(a.fd, buf, 3, NULL, 0), 3);
    assert_int_equal(vfu_conn_wait(&b, 20), 1);
    vfu_conn_close(&a);
    vfu_conn_close(&b);
}

/* ---- decoding after framing ---- */

static void recv_msg_decode_failure(void **state)
{
    (void)state;
    struct vfu_conn a, b;
    assert_true(conn_pair(&a, &b));
    uint8_t buf[64];
    raw_msg(buf, 200, 77, 24, 24);
    assert_int_equal(raw_send(a.fd, buf, 24, NULL, 0), 24);
    struct vfu_msg m;
    struct vfu_error err;
    assert_false(vfu_recv_msg(&b, &m, VFU_ROLE_SERVER, &err));
    assert_int_equal(err.code, VFU_E_UNKNOWN_CMD);
    /* enough left to answer it with an error reply */
    assert_int_equal(m.hdr.msg_id, 77);
    assert_int_equal(m.hdr.cmd, 200);
    assert_int_equal(b.rlen, 24);
    struct vfu_hdr h;
    assert_true(vfu_hdr_decode(b.rbuf, b.rlen, &h, &err));
    assert_int_equal(h.msg_id, 77);

    /* a DMA_MAP request arriving at a client */
    struct vfu_enc e;
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DMA_MAP, false, 78);
    assert_true(vfu_enc_finish(&e, &err));
    assert_true(vfu_send_enc(&b, &e, &err));
    assert_false(vfu_recv_msg(&a, &m, VFU_ROLE_CLIENT, &err));
    assert_int_equal(err.code, VFU_E_DIRECTION);
    assert_int_equal(m.hdr.msg_id, 78);
    vfu_conn_close(&a);
    vfu_conn_close(&b);
}

static void recv_msg_frame_failure_keeps_header(void **state)
{
    (void)state;
    struct vfu_conn a, b;
    assert_true(conn_pair(&a, &b));
    uint8_t buf[VFU_HDR_SIZE];
    raw_msg(buf, VFU_CMD_DMA_MAP, 91, UINT32_MAX, 0);
    assert_int_equal(raw_send(a.fd, buf, sizeof buf, NULL, 0), sizeof buf);
    struct vfu_msg m;
    struct vfu_error err;
    assert_false(vfu_recv_msg(&b, &m, VFU_ROLE_SERVER, &err));
    assert_int_equal(err.code, VFU_E_SIZE_LIMIT);
    assert_int_equal(m.hdr.msg_id, 91);
    assert_int_equal(m.hdr.cmd, VFU_CMD_DMA_MAP);
    assert_null(m.cmd);
    vfu_conn_close(&a);
    vfu_conn_close(&b);
}

/* ---- trace hook ---- */

struct seen {
    enum vfu_trace_dir dir;
    size_t len;
    uint8_t head[VFU_HDR_SIZE];
    unsigned nfds;
    enum vfu_errc code;
};

struct trace_log {
    struct seen s[8];
    unsigned n;
};

static void record(void *ctx, enum vfu_trace_dir dir, const uint8_t *buf, size_t len,
                   const int *fds, unsigned nfds, const struct vfu_error *framing_err)
{
    (void)fds;
    struct trace_log *l = ctx;
    if (l->n >= 8) return;
    struct seen *s = &l->s[l->n++];
    s->dir = dir;
    s->len = len;
    memset(s->head, 0, sizeof s->head);
    memcpy(s->head, buf, len < VFU_HDR_SIZE ? len : VFU_HDR_SIZE);
    s->nfds = nfds;
    s->code = framing_err ? framing_err->code : VFU_OK;
}

static void trace_hook_sees_each_message(void **state)
{
    (void)state;
    struct vfu_conn a, b;
    assert_true(conn_pair(&a, &b));
    struct trace_log la = {0}, lb = {0};
    a.trace = (struct vfu_trace_hook){record, &la};
    b.trace = (struct vfu_trace_hook){record, &lb};
    uint8_t buf[256];
    struct vfu_enc e;
    struct vfu_error err;
    size_t l1 = enc_region_write(&e, buf, sizeof buf, 1, 10);
    assert_true(vfu_send_enc(&a, &e, &err));
    int fd = dup(0);
    assert_true(fd >= 0);
    raw_msg(buf + 128, VFU_CMD_DMA_MAP, 2, 48, 48);
    assert_true(vfu_send(&a, buf + 128, 48, &fd, 1, &err));
    close(fd);

    assert_int_equal(la.n, 2);
    assert_int_equal(la.s[0].dir, VFU_TRACE_TX);
    assert_int_equal(la.s[0].len, l1);
    assert_memory_equal(la.s[0].head, buf, VFU_HDR_SIZE);
    assert_int_equal(la.s[1].len, 48);
    assert_int_equal(la.s[1].nfds, 1);
    assert_int_equal(la.s[1].code, VFU_OK);

    assert_true(vfu_recv(&b, &err));
    assert_true(vfu_recv(&b, &err));
    assert_int_equal(lb.n, 2);
    assert_int_equal(lb.s[0].dir, VFU_TRACE_RX);
    assert_int_equal(lb.s[0].len, l1);
    assert_int_equal(lb.s[0].nfds, 0);
    assert_memory_equal(lb.s[0].head, buf, VFU_HDR_SIZE);
    assert_int_equal(lb.s[1].len, 48);
    assert_int_equal(lb.s[1].nfds, 1);
    assert_memory_equal(lb.s[1].head, buf + 128, VFU_HDR_SIZE);

    /* a framing failure is reported with what arrived */
    raw_msg(buf, VFU_CMD_DMA_MAP, 3, 4, 0);
    assert_int_equal(raw_send(a.fd, buf, VFU_HDR_SIZE, NULL, 0), VFU_HDR_SIZE);
    assert_false(vfu_recv(&b, &err));
    assert_int_equal(lb.n, 3);
    assert_int_equal(lb.s[2].code, VFU_E_SIZE_BELOW_HDR);
    assert_int_equal(lb.s[2].len, VFU_HDR_SIZE);
    assert_memory_equal(lb.s[2].head, buf, VFU_HDR_SIZE);

    /* so is a message cut short, but not a clean close between messages */
    vfu_conn_close(&a);
    vfu_conn_close(&b);
    assert_true(conn_pair(&a, &b));
    lb.n = 0;
    b.trace = (struct vfu_trace_hook){record, &lb};
    assert_int_equal(raw_send(a.fd, buf, 5, NULL, 0), 5);
    vfu_conn_close(&a);
    assert_false(vfu_recv(&b, &err));
    assert_int_equal(err.code, VFU_E_EOF);
    assert_int_equal(lb.n, 1);
    assert_int_equal(lb.s[0].code, VFU_E_EOF);
    assert_int_equal(lb.s[0].len, 5);
    assert_false(vfu_recv(&b, &err));
    assert_int_equal(err.code, VFU_E_EOF);
    assert_int_equal(err.got, 0);
    assert_int_equal(lb.n, 1);
    vfu_conn_close(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(send_enc_error_not_sent),
        cmocka_unit_test(byte_by_byte),
        cmocka_unit_test(large_message_partial_io),
        cmocka_unit_test(eof_at_boundary),
        cmocka_unit_test(eof_mid_header),
        cmocka_unit_test(eof_mid_payload),
        cmocka_unit_test(size_below_header),
        cmocka_unit_test(size_above_limit),
        cmocka_unit_test(size_huge_default_limits),
        cmocka_unit_test(set_limits_resizes),
        cmocka_unit_test(recv_timeout_half_message),
        cmocka_unit_test(recv_timeout_covers_whole_message),
        cmocka_unit_test(send_timeout),
        cmocka_unit_test(send_to_closed_peer),
        cmocka_unit_test(wait_readable),
        cmocka_unit_test(recv_msg_decode_failure),
        cmocka_unit_test(recv_msg_frame_failure_keeps_header),
        cmocka_unit_test(trace_hook_sees_each_message),
    };
    return cmocka_run_group_tests_name("transport", tests, NULL, NULL);
}
