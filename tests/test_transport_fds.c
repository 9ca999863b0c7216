/* File descriptors over the transport: they work on the far side both ways,
 * arrive with whichever chunk carried them, stay within max_fds, and are
 * never leaked: every fd that comes with a failed or rejected message, or
 * that nobody took, is closed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include "transport_util.h"

static int make_memfd(const char *text)
{
    int fd = memfd_create("vfu-test", MFD_CLOEXEC);
    if (fd < 0) return -1;
    if (ftruncate(fd, 4096) < 0 || pwrite(fd, text, strlen(text), 0) != (ssize_t)strlen(text)) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool cloexec(int fd)
{
    int f = fcntl(fd, F_GETFD);
    return f >= 0 && (f & FD_CLOEXEC);
}

static void fds_both_ways(void **state)
{
    (void)state;
    int base = count_fds();
    struct vfu_conn a, b;
    assert_true(conn_pair(&a, &b));
    int mem = make_memfd("hello");
    assert_true(mem >= 0);

    /* client -> server: DMA_MAP with the memory behind it */
    uint8_t buf[128];
    struct vfu_enc e;
    struct vfu_error err;
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DMA_MAP, false, 11);
    vfu_enc_set(&e, VFU_F_DMA_MAP_FLAGS, VFU_DMA_MAP_FLAGS_READ | VFU_DMA_MAP_FLAGS_WRITE);
    vfu_enc_set(&e, VFU_F_DMA_MAP_SIZE, 4096);
    vfu_enc_fd(&e, mem);
    assert_true(vfu_enc_finish(&e, &err));
    assert_true(vfu_send_enc(&a, &e, &err));

    struct vfu_msg m;
    assert_true(vfu_recv_msg(&b, &m, VFU_ROLE_SERVER, &err));
    assert_int_equal(m.nfds, 1);
    int rmem = vfu_conn_take_fd(&b, 0);
    assert_true(rmem >= 0 && rmem != mem);
    assert_true(cloexec(rmem));
    char got[8] = {0};
    assert_int_equal(pread(rmem, got, 5, 0), 5);
    assert_string_equal(got, "hello");
    uint8_t *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, rmem, 0);
    assert_true(p != MAP_FAILED);
    memcpy(p + 100, "world", 5);
    munmap(p, 4096);
    assert_int_equal(pread(mem, got, 5, 100), 5);
    assert_string_equal(got, "world");

    /* server -> client: an eventfd the client signals */
    int ev = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    assert_true(ev >= 0);
    raw_msg(buf, VFU_CMD_DEVICE_GET_REGION_INFO, 12, 48, 48);
    assert_true(vfu_send(&b, buf, 48, &ev, 1, &err));
    assert_true(vfu_recv(&a, &err));
    assert_int_equal(a.nrfds, 1);
    int rev = vfu_conn_take_fd(&a, 0);
    assert_true(rev >= 0 && rev != ev);
    assert_true(cloexec(rev));
    uint64_t v = 5;
    assert_int_equal(write(rev, &v, sizeof v), sizeof v);
    v = 0;
    assert_int_equal(read(ev, &v, sizeof v), sizeof v);
    assert_int_equal(v, 5);

    close(rmem);
    close(rev);
    close(mem);
    close(ev);
    vfu_conn_close(&a);
    vfu_conn_close(&b);
    assert_int_equal(count_fds(), base);
}

/* fds may come with any chunk of a message; all are collected, in order */
static void fds_with_later_chunks(void **state)
{
    (void)state;
    int base = count_fds();
    struct vfu_conn a, b;
    assert_true(conn_pair(&a, &b));
    struct vfu_limits lim = b.lim;
    lim.max_fds = 4;
    struct vfu_error err;
    assert_true(vfu_conn_set_limits(&b, &lim, &err));
    int m1 = make_memfd("one"), m2 = make_memfd("two");
    assert_true(m1 >= 0 && m2 >= 0);
    uint8_t buf[64];
    raw_msg(buf, VFU_CMD_DMA_MAP, 4, 48, 48);
    assert_int_equal(raw_send(a.fd, buf, 5, NULL, 0), 5);
    assert_int_equal(raw_send(a.fd, buf + 5, 20, &m1, 1), 20);
    assert_int_equal(raw_send(a.fd, buf + 25, 23, &m2, 1), 23);
    assert_true(vfu_recv(&b, &err));
    assert_int_equal(b.rlen, 48);
    assert_int_equal(b.nrfds, 2);
    char got[4] = {0};
    assert_int_equal(pread(b.rfds[0], got, 3, 0), 3);
    assert_string_equal(got, "one");
    assert_int_equal(pread(b.rfds[1], got, 3, 0), 3);
    assert_string_equal(got, "two");
    close(m1);
    close(m2);
    vfu_conn_close(&a);
    vfu_conn_close(&b);
    assert_int_equal(count_fds(), base);
}

static void too_many_fds(void **state)
{
    (void)state;
    int base = count_fds();
    struct vfu_conn a, b;
    assert_true(conn_pair(&a, &b));
    struct vfu_limits lim = b.lim;
    lim.max_fds = 1;
    struct vfu_error err;
    assert_true(vfu_conn_set_limits(&b, &lim, &err));
    int fds[3];
    for (int i = 0; i < 3; i++) assert_true((fds[i] = make_memfd("x")) >= 0);
    uint8_t buf[64];
    raw_msg(buf, VFU_CMD_DMA_MAP, 21, 48, 48);
    assert_int_equal(raw_send(a.fd, buf, 48, fds, 3), 48);
    raw_msg(buf, VFU_CMD_DEVICE_RESET, 22, VFU_HDR_SIZE, 0);
    assert_int_equal(raw_send(a.fd, buf, VFU_HDR_SIZE, NULL, 0), VFU_HDR_SIZE);
    for (int i = 0; i < 3; i++) close(fds[i]);
    int with_ours_closed = count_fds();

    assert_false(vfu_recv(&b, &err));
    assert_int_equal(err.code, VFU_E_FD_TRUNC);
    assert_int_equal(err.got, 3);
    assert_int_equal(err.want, 1);
    assert_int_equal(err.cmd, VFU_CMD_DMA_MAP);
    assert_int_equal(b.nrfds, 0);
    assert_int_equal(count_fds(), with_ours_closed);
    /* the message was read whole: the next one is in step */
    assert_int_equal(b.rlen, 48);
    struct vfu_hdr h;
    assert_true(vfu_hdr_decode(b.rbuf, b.rlen, &h, &err));
    assert_int_equal(h.msg_id, 21);
    assert_true(vfu_recv(&b, &err));
    assert_int_equal(b.rlen, VFU_HDR_SIZE);
    assert_true(vfu_hdr_decode(b.rbuf, b.rlen, &h, &err));
    assert_int_equal(h.msg_id, 22);

    /* max_fds 0: a single fd is already too many */
    lim.max_fds = 0;
    assert_true(vfu_conn_set_limits(&b, &lim, &err));
    int one = make_memfd("y");
    assert_true(one >= 0);
    raw_msg(buf, VFU_CMD_DMA_MAP, 23, 48, 48);
    assert_true(vfu_send(&a, buf, 48, &one, 1, &err));
    close(one);
    assert_false(vfu_recv(&b, &err));
    assert_int_equal(err.code, VFU_E_FD_TRUNC);
    assert_int_equal(err.got, 1);
    assert_int_equal(err.want, 0);
    assert_int_equal(count_fds(), with_ours_closed);

    vfu_conn_close(&a);
    vfu_conn_close(&b);
    assert_int_equal(count_fds(), base);
}

/* fds over the limit spread over several chunks are counted across them */
static void too_many_fds_over_chunks(void **state)
{
    (void)state;
    int base = count_fds();
    struct vfu_conn a, b;
    assert_true(conn_pair(&a, &b));
    struct vfu_limits lim = b.lim;
    lim.max_fds = 1;
    struct vfu_error err;
    assert_true(vfu_conn_set_limits(&b, &lim, &err));
    int m1 = make_memfd("1"), m2 = make_memfd("2");
    assert_true(m1 >= 0 && m2 >= 0);
    uint8_t buf[64];
    raw_msg(buf, VFU_CMD_DMA_MAP, 4, 48, 48);
    assert_int_equal(raw_send(a.fd, buf, 10, &m1, 1), 10);
    assert_int_equal(raw_send(a.fd, buf + 10, 38, &m2, 1), 38);
    close(m1);
    close(m2);
    assert_false(vfu_recv(&b, &err));
    assert_int_equal(err.code, VFU_E_FD_TRUNC);
    assert_int_equal(err.got, 2);
    vfu_conn_close(&a);
    vfu_conn_close(&b);
    assert_int_equal(count_fds(), base);
}

/* the fds a failed receive got are closed, whatever the failure */
static void fds_of_failed_messages_closed(void **state)
{
    (void)state;
    int base = count_fds();
    uint8_t buf[64];
    struct vfu_error err;
    struct vfu_conn a, b;
    struct vfu_msg m;
    int fd = make_memfd("z");
    assert_true(fd >= 0);
    int with_fd = count_fds();

    /* decodes to an unknown command */
    assert_true(conn_pair(&a, &b));
    raw_msg(buf, 300, 1, 24, 24);
    assert_true(vfu_send(&a, buf, 24, &fd, 1, &err));
    int before = count_fds();
    assert_false(vfu_recv_msg(&b, &m, VFU_ROLE_SERVER, &err));
    assert_int_equal(err.code, VFU_E_UNKNOWN_CMD);
    assert_int_equal(b.nrfds, 0);
    assert_int_equal(m.nfds, 0);
    assert_int_equal(count_fds(), before);
    vfu_conn_close(&a);
    vfu_conn_close(&b);

    /* an fd on a message that needs none: the codec refuses it */
    assert_true(conn_pair(&a, &b));
    raw_msg(buf, VFU_CMD_DEVICE_RESET, 2, VFU_HDR_SIZE, 0);
    assert_true(vfu_send(&a, buf, VFU_HDR_SIZE, &fd, 1, &err));
    before = count_fds();
    assert_false(vfu_recv_msg(&b, &m, VFU_ROLE_SERVER, &err));
    assert_int_equal(err.code, VFU_E_FDS);
    assert_int_equal(count_fds(), before);
    vfu_conn_close(&a);
    vfu_conn_close(&b);

    /* EOF in the middle of the message the fd came with */
    assert_true(conn_pair(&a, &b));
    raw_msg(buf, VFU_CMD_DMA_MAP, 3, 48, 48);
    assert_int_equal(raw_send(a.fd, buf, 20, &fd, 1), 20);
    vfu_conn_close(&a);
    before = count_fds();
    assert_false(vfu_recv(&b, &err));
    assert_int_equal(err.code, VFU_E_EOF);
    assert_int_equal(count_fds(), before);
    vfu_conn_close(&b);

    /* timeout in the middle of it */
    assert_true(conn_pair(&a, &b));
    assert_int_equal(raw_send(a.fd, buf, 20, &fd, 1), 20);
    b.timeout_ms = 50;
    before = count_fds();
    assert_false(vfu_recv(&b, &err));
    assert_int_equal(err.code, VFU_E_TIMEOUT);
    assert_int_equal(count_fds(), before);
    vfu_conn_close(&a);
    vfu_conn_close(&b);

    /* msg_size over the limit, fd with the header */
    assert_true(conn_pair(&a, &b));
    raw_msg(buf, VFU_CMD_DMA_MAP, 4, UINT32_MAX, 0);
    assert_int_equal(raw_send(a.fd, buf, VFU_HDR_SIZE, &fd, 1), VFU_HDR_SIZE);
    before = count_fds();
    assert_false(vfu_recv(&b, &err));
    assert_int_equal(err.code, VFU_E_SIZE_LIMIT);
    assert_int_equal(count_fds(), before);
    vfu_conn_close(&a);
    vfu_conn_close(&b);

    assert_int_equal(count_fds(), with_fd);
    close(fd);
    assert_int_equal(count_fds(), base);
}

static void take_fd_ownership(void **state)
{
    (void)state;
    int base = count_fds();
    struct vfu_conn a, b;
    assert_true(conn_pair(&a, &b));
    struct vfu_limits lim = b.lim;
    lim.max_fds = 2;
    struct vfu_error err;
    assert_true(vfu_conn_set_limits(&b, &lim, &err));
    int fds[2] = {make_memfd("a"), make_memfd("b")};
    assert_true(fds[0] >= 0 && fds[1] >= 0);
    uint8_t buf[64];
    raw_msg(buf, VFU_CMD_DMA_MAP, 1, 48, 48);
    assert_true(vfu_send(&a, buf, 48, fds, 2, &err));
    assert_true(vfu_send(&a, buf, 48, fds, 1, &err));
    assert_true(vfu_send(&a, buf, 48, fds, 1, &err));
    close(fds[0]);
    close(fds[1]);

    assert_true(vfu_recv(&b, &err));
    assert_int_equal(b.nrfds, 2);
    int kept = vfu_conn_take_fd(&b, 0);
    int left = b.rfds[1];
    assert_true(kept >= 0 && left >= 0);
    assert_int_equal(b.rfds[0], -1);
    assert_int_equal(vfu_conn_take_fd(&b, 0), -1);   /* once only */
    assert_int_equal(vfu_conn_take_fd(&b, 2), -1);
    assert_int_equal(vfu_conn_take_fd(&b, VFU_MAX_FDS + 5), -1);

    /* the next message replaces the last: the untaken fd goes, the taken stays */
    assert_true(vfu_recv(&b, &err));
    assert_int_equal(b.nrfds, 1);
    assert_true(fd_is_open(kept));
    char c = 0;
    assert_int_equal(pread(kept, &c, 1, 0), 1);
    assert_int_equal(c, 'a');
    /* the number may be reused by the new fd, but the old one is gone */
    assert_true(b.rfds[0] == left || !fd_is_open(left));
    close(kept);

    /* closing the connection closes what was never taken */
    assert_true(vfu_recv(&b, &err));
    assert_int_equal(b.nrfds, 1);
    vfu_conn_close(&a);
    vfu_conn_close(&b);
    assert_int_equal(count_fds(), base);
}

struct reader {
    struct vfu_conn *c;
    bool ok;
};

static void *late_recv(void *arg)
{
    struct reader *r = arg;
    sleep_ms(50);   /* the sender meets a full socket first */
    struct vfu_error err;
    r->ok = vfu_recv(r->c, &err);
    return NULL;
}

/* a message sent over many partial writes carries its fds once */
static void fds_once_over_partial_writes(void **state)
{
    (void)state;
    int base = count_fds();
    struct vfu_conn a, b;
    assert_true(conn_pair(&a, &b));
    int small = 4096;
    setsockopt(a.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    setsockopt(b.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    assert_int_equal(b.lim.max_fds, 1);
    size_t len = 256 * 1024;
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    raw_msg(buf, VFU_CMD_DMA_MAP, 6, (uint32_t)len, len);
    int fd = make_memfd("once");
    assert_true(fd >= 0);
    a.timeout_ms = b.timeout_ms = 10000;
    struct reader r = {.c = &b};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, late_recv, &r), 0);
    struct vfu_error err;
    assert_true(vfu_send(&a, buf, len, &fd, 1, &err));
    pthread_join(th, NULL);
    close(fd);
    assert_true(r.ok);
    assert_int_equal(b.rlen, len);
    assert_memory_equal(b.rbuf, buf, len);
    assert_int_equal(b.nrfds, 1);
    char got[5] = {0};
    assert_int_equal(pread(b.rfds[0], got, 4, 0), 4);
    assert_string_equal(got, "once");
    free(buf);
    vfu_conn_close(&a);
    vfu_conn_close(&b);
    assert_int_equal(count_fds(), base);
}

static void send_fd_errors(void **state)
{
    (void)state;
    struct vfu_conn a, b;
    assert_true(conn_pair(&a, &b));
    int fd = 0;
    struct vfu_error err;
    /* a stream cannot carry fds without a byte to ride on */
    assert_false(vfu_send(&a, NULL, 0, &fd, 1, &err));
    assert_int_equal(err.code, VFU_E_FDS);
    uint8_t buf[VFU_HDR_SIZE];
    raw_msg(buf, VFU_CMD_DMA_MAP, 1, 48, 0);
    int bad = 1000000;
    assert_false(vfu_send(&a, buf, sizeof buf, &bad, 1, &err));
    assert_int_equal(err.code, VFU_E_IO);
    assert_int_equal(err.sys_errno, EBADF);
    vfu_conn_close(&a);
    vfu_conn_close(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fds_both_ways),
        cmocka_unit_test(fds_with_later_chunks),
        cmocka_unit_test(too_many_fds),
        cmocka_unit_test(too_many_fds_over_chunks),
        cmocka_unit_test(fds_of_failed_messages_closed),
        cmocka_unit_test(take_fd_ownership),
        cmocka_unit_test(fds_once_over_partial_writes),
        cmocka_unit_test(send_fd_errors),
    };
    return cmocka_run_group_tests_name("transport_fds", tests, NULL, NULL);
}
