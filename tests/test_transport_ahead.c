/* The transport's read-ahead mode (what the reference server's main socket
 * uses): whatever has arrived is taken in one recvmsg, bytes past the
 * message wait for the next vfu_recv, fds go with the message they came
 * with, limits and timeouts hold as in the exact reader, nothing leaks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "transport_util.h"

static int memfd_with(char tag)
{
    int fd = memfd_create("vfu-test", MFD_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, &tag, 1, 0), 1);
    return fd;
}

static char tag_of(int fd)
{
    char t = 0;
    assert_int_equal(pread(fd, &t, 1, 0), 1);
    return t;
}

/* a REGION_READ request with this id, encoded into buf */
static size_t small(uint8_t *buf, uint16_t id)
{
    struct vfu_enc e;
    vfu_enc_begin(&e, buf, 64, VFU_CMD_REGION_READ, false, id);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_COUNT, 4);
    assert_true(vfu_enc_finish(&e, NULL));
    return e.len;
}

static struct vfu_hdr hdr(const struct vfu_conn *c)
{
    struct vfu_hdr h;
    assert_true(vfu_hdr_decode(c->rbuf, c->rlen, &h, NULL));
    assert_int_equal(h.msg_size, c->rlen);
    return h;
}

static void setup_pair(struct vfu_conn *a, struct vfu_conn *b)
{
    assert_true(conn_pair(a, b));
    b->read_ahead = true;
    b->timeout_ms = 2000;
}

/* three messages in one sendmsg come out one by one, from the buffer */
static void pipelined(void **state)
{
    (void)state;
    int base = count_fds();
    struct vfu_conn a, b;
    setup_pair(&a, &b);
    uint8_t buf[256];
    size_t n = 0;
    for (uint16_t id = 1; id <= 3; id++) n += small(buf + n, id);
    assert_int_equal(raw_send(a.fd, buf, n, NULL, 0), (ssize_t)n);
    struct vfu_error err;
    for (uint16_t id = 1; id <= 3; id++) {
        assert_true(vfu_recv(&b, &err));
        assert_int_equal(hdr(&b).msg_id, id);
        /* the last one leaves nothing behind */
        assert_int_equal(vfu_conn_pending(&b), id < 3);
        assert_int_equal(vfu_conn_wait(&b, 0), id < 3 ? 1 : 0);
    }
    /* the peer goes: EOF at a message boundary */
    vfu_conn_close(&a);
    assert_false(vfu_recv(&b, &err));
    assert_int_equal(err.code, VFU_E_EOF);
    assert_int_equal(err.got, 0);
    vfu_conn_close(&b);
    assert_int_equal(count_fds(), base);
}

/* fds go with the message whose sendmsg carried them, whichever read took
 * them: behind a message without, and before one without */
static void fds_follow_their_message(void **state)
{
    (void)state;
    int base = count_fds();
    struct vfu_conn a, b;
    setup_pair(&a, &b);
    uint8_t m1[64], m2[64], m3[64];
    size_t l1 = small(m1, 1), l2 = small(m2, 2), l3 = small(m3, 3);
    int fx = memfd_with('x'), fy = memfd_with('y');
    assert_int_equal(raw_send(a.fd, m1, l1, NULL, 0), (ssize_t)l1);
    assert_int_equal(raw_send(a.fd, m2, l2, &fx, 1), (ssize_t)l2);
    assert_int_equal(raw_send(a.fd, m3, l3, &fy, 1), (ssize_t)l3);
    close(fx);
    close(fy);
    struct vfu_error err;
    assert_true(vfu_recv(&b, &err));
    assert_int_equal(hdr(&b).msg_id, 1);
    assert_int_equal(b.nrfds, 0);
    assert_true(vfu_recv(&b, &err));
    assert_int_equal(hdr(&b).msg_id, 2);
    assert_int_equal(b.nrfds, 1);
    assert_int_equal(tag_of(b.rfds[0]), 'x');
    assert_true(vfu_recv(&b, &err));
    assert_int_equal(hdr(&b).msg_id, 3);
    assert_int_equal(b.nrfds, 1);
    assert_int_equal(tag_of(b.rfds[0]), 'y');
    vfu_conn_close(&a);
    vfu_conn_close(&b);
    assert_int_equal(count_fds(), base);
}

/* more fds than allowed on a message that waited in the buffer: refused,
 * all closed, and the stream stays in step */
static void too_many_fds_ahead(void **state)
{
    (void)state;
    int base = count_fds();
    struct vfu_conn a, b;
    setup_pair(&a, &b);
    uint8_t m1[64], m2[64], m3[64];
    size_t l1 = small(m1, 1), l2 = small(m2, 2), l3 = small(m3, 3);
    int f[4];
    for (int i = 0; i < 4; i++) f[i] = memfd_with('a');
    assert_int_equal(raw_send(a.fd, m1, l1, NULL, 0), (ssize_t)l1);
    assert_int_equal(raw_send(a.fd, m2, l2, f, 4), (ssize_t)l2);
    assert_int_equal(raw_send(a.fd, m3, l3, NULL, 0), (ssize_t)l3);
    for (int i = 0; i < 4; i++) close(f[i]);
    struct vfu_error err;
    assert_true(vfu_recv(&b, &err));
    assert_int_equal(hdr(&b).msg_id, 1);
    assert_false(vfu_recv(&b, &err));
    assert_int_equal(err.code, VFU_E_FD_TRUNC);
    assert_int_equal(err.got, 4);
    assert_int_equal(b.rlen, l2);
    assert_true(vfu_recv(&b, &err));
    assert_int_equal(hdr(&b).msg_id, 3);
    vfu_conn_close(&a);
    vfu_conn_close(&b);
    assert_int_equal(count_fds(), base);
}

struct later {
    int fd;
    const uint8_t *buf;
    size_t len;
    int ms;
};

static void *send_later(void *p)
{
    struct later *l = p;
    sleep_ms(l->ms);
    raw_send(l->fd, l->buf, l->len, NULL, 0);
    return NULL;
}

/* vfu_recv_idle waits past timeout_ms for the first byte; the rest of a
 * message is still bounded by it */
static void idle_waits_then_bounds(void **state)
{
    (void)state;
    struct vfu_conn a, b;
    setup_pair(&a, &b);
    b.timeout_ms = 50;
    uint8_t m[64];
    size_t l = small(m, 9);
    struct later lt = {a.fd, m, l, 150};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, send_later, &lt), 0);
    struct vfu_error err;
    assert_true(vfu_recv_idle(&b, &err));
    assert_int_equal(hdr(&b).msg_id, 9);
    pthread_join(t, NULL);
    /* half a message, then silence: a timeout, not a hang */
    assert_int_equal(raw_send(a.fd, m, 20, NULL, 0), 20);
    int64_t t0 = mono_ms();
    assert_false(vfu_recv_idle(&b, &err));
    assert_int_equal(err.code, VFU_E_TIMEOUT);
    assert_true(mono_ms() - t0 < 1000);
    vfu_conn_close(&a);
    vfu_conn_close(&b);
}

/* a message split over several sendmsg calls, the second part late */
static void split_message(void **state)
{
    (void)state;
    struct vfu_conn a, b;
    setup_pair(&a, &b);
    static uint8_t big[VFU_HDR_SIZE + 64 + 8192];
    struct vfu_enc e;
    size_t l = enc_region_write(&e, big, sizeof big, 5, 8192);
    assert_true(l > 0);
    uint8_t tail[64];
    size_t lt = small(tail, 6);
    static uint8_t both[sizeof big + 64];
    memcpy(both, big, l);
    memcpy(both + l, tail, lt);
    assert_int_equal(raw_send(a.fd, both, 10, NULL, 0), 10);
    struct later later = {a.fd, both + 10, l + lt - 10, 30};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, send_later, &later), 0);
    struct vfu_error err;
    assert_true(vfu_recv(&b, &err));
    assert_int_equal(hdr(&b).msg_id, 5);
    assert_memory_equal(b.rbuf, big, l);
    pthread_join(t, NULL);
    assert_true(vfu_recv(&b, &err));
    assert_int_equal(hdr(&b).msg_id, 6);
    vfu_conn_close(&a);
    vfu_conn_close(&b);
}

/* a message waiting in the buffer is judged against the limits in force
 * when it is taken */
static void limits_shrink_under_pending(void **state)
{
    (void)state;
    struct vfu_conn a, b;
    setup_pair(&a, &b);
    static uint8_t both[2 * (VFU_HDR_SIZE + 64 + 4096)];
    struct vfu_enc e;
    size_t l1 = small(both, 1);
    size_t l2 = enc_region_write(&e, both + l1, sizeof both - l1, 2, 4096);
    assert_int_equal(raw_send(a.fd, both, l1 + l2, NULL, 0), (ssize_t)(l1 + l2));
    struct vfu_error err;
    assert_true(vfu_recv(&b, &err));
    assert_true(vfu_conn_pending(&b));
    struct vfu_limits lim;
    vfu_limits_default(&lim);
    lim.max_msg_size = 1024;
    assert_true(vfu_conn_set_limits(&b, &lim, &err));
    assert_false(vfu_recv(&b, &err));
    assert_int_equal(err.code, VFU_E_SIZE_LIMIT);
    vfu_conn_close(&a);
    vfu_conn_close(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pipelined),
        cmocka_unit_test(fds_follow_their_message),
        cmocka_unit_test(too_many_fds_ahead),
        cmocka_unit_test(idle_waits_then_bounds),
        cmocka_unit_test(split_message),
        cmocka_unit_test(limits_shrink_under_pending),
    };
    return cmocka_run_group_tests_name("transport read-ahead", tests, NULL, NULL);
}
