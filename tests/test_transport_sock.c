/* Listening, accepting and connecting on a real socket file under a temp
 * directory: messages and fds flow, timeouts hold, and only a dead socket
 * file is ever removed from the path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "transport_util.h"

struct dir {
    char path[64];
    char sock[96];
};

static int setup(void **state)
{
    struct dir *d = calloc(1, sizeof *d);
    if (!d) return -1;
    strcpy(d->path, "/tmp/vfu-transport-XXXXXX");
    if (!mkdtemp(d->path)) { free(d); return -1; }
    snprintf(d->sock, sizeof d->sock, "%s/sock", d->path);
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    struct dir *d = *state;
    unlink(d->sock);
    rmdir(d->path);
    free(d);
    return 0;
}

static bool cloexec(int fd)
{
    int f = fcntl(fd, F_GETFD);
    return f >= 0 && (f & FD_CLOEXEC);
}

static void listen_connect_accept(void **state)
{
    struct dir *d = *state;
    int base = count_fds();
    struct vfu_error err;
    int lfd = vfu_listen(d->sock, &err);
    assert_true(lfd >= 0);
    assert_true(cloexec(lfd));
    struct stat st;
    assert_int_equal(lstat(d->sock, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));

    int cfd = vfu_connect(d->sock, 1000, &err);
    assert_true(cfd >= 0);
    int sfd = vfu_accept(lfd, 1000, &err);
    assert_true(sfd >= 0);
    assert_true(cloexec(cfd));
    assert_true(cloexec(sfd));

    struct vfu_conn client, server;
    assert_true(vfu_conn_init(&client, cfd, NULL, &err));
    assert_true(vfu_conn_init(&server, sfd, NULL, &err));
    uint8_t buf[256];
    struct vfu_enc e;
    size_t len = enc_region_write(&e, buf, sizeof buf, 3, 64);
    assert_true(len > 0);
    int fd = dup(0);
    assert_true(fd >= 0);
    vfu_enc_fd(&e, fd);
    assert_true(vfu_send_enc(&client, &e, &err));
    close(fd);
    server.timeout_ms = 1000;
    assert_true(vfu_recv(&server, &err));
    assert_int_equal(server.rlen, len);
    assert_memory_equal(server.rbuf, buf, len);
    assert_int_equal(server.nrfds, 1);
    assert_true(cloexec(server.rfds[0]));

    /* a blocking accepted socket still honours the message timeout */
    server.timeout_ms = 50;
    assert_false(vfu_recv(&server, &err));
    assert_int_equal(err.code, VFU_E_TIMEOUT);

    vfu_conn_close(&client);
    vfu_conn_close(&server);
    close(lfd);
    assert_int_equal(count_fds(), base);
}

static void accept_timeout(void **state)
{
    struct dir *d = *state;
    struct vfu_error err;
    int lfd = vfu_listen(d->sock, &err);
    assert_true(lfd >= 0);
    int64_t t0 = mono_ms();
    assert_int_equal(vfu_accept(lfd, 100, &err), -1);
    int64_t dt = mono_ms() - t0;
    assert_int_equal(err.code, VFU_E_TIMEOUT);
    assert_true(dt >= 90 && dt < 2000);
    close(lfd);
    unlink(d->sock);

    /* a blocking listener made elsewhere times out the same */
    lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strcpy(a.sun_path, d->sock);
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(lfd, 1), 0);
    t0 = mono_ms();
    assert_int_equal(vfu_accept(lfd, 100, &err), -1);
    dt = mono_ms() - t0;
    assert_int_equal(err.code, VFU_E_TIMEOUT);
    assert_true(dt >= 90 && dt < 2000);
    close(lfd);
}

/* a socket file left behind by a listener that is gone */
static void stale_socket_replaced(void **state)
{
    struct dir *d = *state;
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s >= 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strcpy(a.sun_path, d->sock);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    close(s);
    struct stat st;
    assert_int_equal(lstat(d->sock, &st), 0);

    struct vfu_error err;
    int lfd = vfu_listen(d->sock, &err);
    assert_true(lfd >= 0);
    int cfd = vfu_connect(d->sock, 1000, &err);
    assert_true(cfd >= 0);
    int sfd = vfu_accept(lfd, 1000, &err);
    assert_true(sfd >= 0);
    close(cfd);
    close(sfd);
    close(lfd);
}

static void live_socket_kept(void **state)
{
    struct dir *d = *state;
    struct vfu_error err;
    int lfd = vfu_listen(d->sock, &err);
    assert_true(lfd >= 0);
    assert_int_equal(vfu_listen(d->sock, &err), -1);
    assert_int_equal(err.code, VFU_E_IO);
    assert_int_equal(err.sys_errno, EADDRINUSE);
    /* the first listener still owns the path (after the probe it saw) */
    int probe = vfu_accept(lfd, 1000, &err);
    assert_true(probe >= 0);
    close(probe);
    int cfd = vfu_connect(d->sock, 1000, &err);
    assert_true(cfd >= 0);
    int sfd = vfu_accept(lfd, 1000, &err);
    assert_true(sfd >= 0);
    assert_int_equal(write(cfd, "ok", 2), 2);
    char got[3] = {0};
    assert_int_equal(read(sfd, got, 2), 2);
    assert_string_equal(got, "ok");
    close(cfd);
    close(sfd);
    close(lfd);
}

static void regular_file_kept(void **state)
{
    struct dir *d = *state;
    FILE *f = fopen(d->sock, "w");
    assert_non_null(f);
    fputs("keep me", f);
    fclose(f);
    struct vfu_error err;
    assert_int_equal(vfu_listen(d->sock, &err), -1);
    assert_int_equal(err.code, VFU_E_IO);
    assert_int_equal(err.sys_errno, EADDRINUSE);
    struct stat st;
    assert_int_equal(lstat(d->sock, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_size, 7);
}

static void connect_errors(void **state)
{
    struct dir *d = *state;
    struct vfu_error err;
    int base = count_fds();
    assert_int_equal(vfu_connect(d->sock, 100, &err), -1);
    assert_int_equal(err.code, VFU_E_IO);
    assert_int_equal(err.sys_errno, ENOENT);

    char longp[200];
    memset(longp, 'a', sizeof longp - 1);
    longp[0] = '/';
    longp[sizeof longp - 1] = 0;
    assert_int_equal(vfu_connect(longp, 100, &err), -1);
    assert_int_equal(err.sys_errno, ENAMETOOLONG);
    assert_int_equal(vfu_listen(longp, &err), -1);
    assert_int_equal(err.sys_errno, ENAMETOOLONG);

    /* a socket file with nobody behind it */
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strcpy(a.sun_path, d->sock);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    close(s);
    assert_int_equal(vfu_connect(d->sock, 100, &err), -1);
    assert_int_equal(err.code, VFU_E_IO);
    assert_int_equal(err.sys_errno, ECONNREFUSED);
    assert_int_equal(count_fds(), base);
}

/* a listener whose backlog is full makes connect wait: bounded by the timeout */
static void connect_timeout(void **state)
{
    struct dir *d = *state;
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strcpy(a.sun_path, d->sock);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s, 0), 0);
    struct vfu_error err;
    int held[4], n = 0;
    int64_t t0 = 0;
    for (; n < 4; n++) {
        t0 = mono_ms();
        held[n] = vfu_connect(d->sock, 100, &err);
        if (held[n] < 0) break;
    }
    int64_t dt = mono_ms() - t0;
    assert_true(n < 4);
    assert_int_equal(err.code, VFU_E_TIMEOUT);
    assert_true(dt >= 90 && dt < 2000);
    for (int i = 0; i < n; i++) close(held[i]);
    close(s);
}

static void socketpair_cloexec(void **state)
{
    (void)state;
    int sv[2];
    struct vfu_error err;
    assert_true(vfu_socketpair(sv, &err));
    assert_true(cloexec(sv[0]) && cloexec(sv[1]));
    int type = 0;
    socklen_t tl = sizeof type;
    assert_int_equal(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &tl), 0);
    assert_int_equal(type, SOCK_STREAM);
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(listen_connect_accept, setup, teardown),
        cmocka_unit_test_setup_teardown(accept_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(stale_socket_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(live_socket_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(regular_file_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(connect_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(connect_timeout, setup, teardown),
        cmocka_unit_test(socketpair_cloexec),
    };
    return cmocka_run_group_tests_name("transport_sock", tests, NULL, NULL);
}
