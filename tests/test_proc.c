/* Starting the program under test: the socket argument in each of its
 * forms, readiness, and every way a start can fail.  The program is
 * tests/helpers/fake_server.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/stat.h>

#include "proc_test.h"
#include "unix_listen.h"

static int listen_at(const char *path, bool do_listen)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    if (do_listen) assert_int_equal(listen(fd, 1), 0);
    return fd;
}

static void ready_when_listening_without_probe(void **state)
{
    struct fixture *f = *state;
    struct vfu_proc_spec s = path_spec(f, FAKE " listen serve");
    start_ok(f, &s);
    assert_int_equal(vfu_proc_poll(&f->p), VFU_PROC_RUNNING);
    assert_int_equal(vfu_unix_listening(f->sock), 1);
    /* the first connection the server ever accepted is ours: readiness was
     * seen without connecting */
    assert_string_equal(say_hello(f->sock), "ok 1\n");
    vfu_proc_stop(&f->p, 900);
    assert_int_equal(vfu_proc_verdict(vfu_proc_status(&f->p)), VFU_PROC_V_STOPPED);
    assert_true(no_children());
    vfu_proc_free(&f->p);
}

static void socket_path_appended(void **state)
{
    struct fixture *f = *state;
    struct vfu_proc_spec s = path_spec(f, FAKE " argv 'say=hello  world' listen");
    start_ok(f, &s);
    char want[160];
    assert_true(out_within(f, "\nhello  world\n", 900));
    assert_true(out_has(f, "argc=5\n"));
    snprintf(want, sizeof want, "argv[4]=--socket-path=%s\n", f->sock);
    assert_true(out_has(f, want));
    /* quoting reached the program as one word, blanks kept, no shell */
    assert_true(out_has(f, "argv[2]=say=hello  world\n"));
    vfu_proc_free(&f->p);
}

static void socket_token_replaced(void **state)
{
    struct fixture *f = *state;
    struct vfu_proc_spec s = path_spec(f, FAKE " -s {socket} argv listen");
    start_ok(f, &s);
    char want[160];
    assert_true(out_within(f, "argv[4]=listen\n", 900));
    snprintf(want, sizeof want, "argv[2]=%s\n", f->sock);
    assert_true(out_has(f, want));
    assert_true(out_has(f, "argc=5\n"));
    assert_false(out_has(f, "--socket-path="));
    vfu_proc_free(&f->p);

    /* inside a word too, and then nothing is appended */
    s = path_spec(f, FAKE " --socket-path={socket} argv listen");
    start_ok(f, &s);
    snprintf(want, sizeof want, "argv[1]=--socket-path=%s\n", f->sock);
    assert_true(out_within(f, want, 900));
    assert_true(out_has(f, "argc=4\n"));
    vfu_proc_free(&f->p);
}

/* a client program: told the path of the socket we listen on, which is
 * neither checked, nor removed, nor waited for */
static void client_mode_leaves_our_socket(void **state)
{
    struct fixture *f = *state;
    int l = listen_at(f->sock, true);
    struct vfu_proc_spec s = path_spec(f, FAKE " argv");
    s.sock = VFU_PROC_SOCK_CLIENT;
    start_ok(f, &s);
    char want[160];
    snprintf(want, sizeof want, "argv[2]=--socket-path=%s\n", f->sock);
    assert_true(out_within(f, want, 900));
    vfu_proc_stop(&f->p, 900);
    vfu_proc_free(&f->p);
    assert_int_equal(vfu_unix_listening(f->sock), 1);
    close(l);
    unlink(f->sock);
}

static void fd_listening_socket(void **state)
{
    struct fixture *f = *state;
    struct vfu_proc_spec s = path_spec(f, FAKE " fds argv listen serve");
    s.sock = VFU_PROC_SOCK_FD_LISTEN;
    s.fd_num = 5;
    start_ok(f, &s);
    /* exactly stdin, stdout, stderr and the passed socket reach it */
    assert_true(out_within(f, "fd 5 listening\n", 900));
    assert_true(out_has(f, "fds: 0 1 2 5\n"));
    assert_true(out_has(f, "argv[5]=--fd=5\n"));
    assert_true(out_has(f, "fd 5 listening\n"));
    assert_string_equal(say_hello(f->sock), "ok 1\n");
    vfu_proc_stop(&f->p, 900);
    /* we bound the path, so it went with the program */
    struct stat st;
    assert_int_equal(lstat(f->sock, &st), -1);
    vfu_proc_free(&f->p);
}

static void fd_token_replaced(void **state)
{
    struct fixture *f = *state;
    struct vfu_proc_spec s = path_spec(f, FAKE " argv --fd={fd} -s {socket}");
    s.sock = VFU_PROC_SOCK_FD_LISTEN;
    start_ok(f, &s);
    char want[160];
    snprintf(want, sizeof want, "argv[4]=%s\n", f->sock);
    assert_true(out_within(f, want, 900));
    assert_true(out_has(f, "argc=5\n"));
    assert_true(out_has(f, "argv[2]=--fd=3\n"));
    vfu_proc_free(&f->p);
}

static void fd_connected_socket(void **state)
{
    struct fixture *f = *state;
    struct vfu_proc_spec s = {.cmd = FAKE " fds serve", .sock = VFU_PROC_SOCK_FD_CONNECTED};
    start_ok(f, &s);
    int fd = vfu_proc_take_conn_fd(&f->p);
    assert_true(fd >= 0);
    assert_int_equal(vfu_proc_take_conn_fd(&f->p), -1);
    struct timeval tv = {.tv_sec = 1};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    assert_string_equal(say_hello_fd(fd), "ok 1\n");
    close(fd);
    assert_true(out_within(f, "fds: 0 1 2 3\n", 900));
    vfu_proc_free(&f->p);
}

static void startup_timeout(void **state)
{
    struct fixture *f = *state;
    struct vfu_proc_spec s = path_spec(f, FAKE " say=never-listens");
    s.startup_timeout_ms = 200;
    struct vfu_error err;
    int64_t t0 = ms_now();
    assert_false(vfu_proc_start(&f->p, &s, &err));
    int64_t took = ms_now() - t0;
    assert_int_equal(err.code, VFU_E_TIMEOUT);
    assert_true(took >= 200 && took < 900);
    assert_true(no_children());
    const struct vfu_proc_status *st = vfu_proc_status(&f->p);
    assert_int_equal(st->state, VFU_PROC_SIGNALED);
    assert_int_equal(st->code, SIGKILL);
    assert_int_equal(vfu_proc_verdict(st), VFU_PROC_V_KILLED);
    assert_string_equal(status_text(f), "not ready within 200 ms; killed with SIGKILL");
    assert_true(out_has(f, "never-listens"));
    assert_non_null(strstr(vfu_proc_why(&f->p), "not listening within 200 ms"));
    vfu_proc_free(&f->p);
}

static void bound_but_not_listening_is_not_ready(void **state)
{
    struct fixture *f = *state;
    struct vfu_proc_spec s = path_spec(f, FAKE " bind-only");
    s.startup_timeout_ms = 150;
    struct vfu_error err;
    assert_false(vfu_proc_start(&f->p, &s, &err));
    assert_int_equal(err.code, VFU_E_TIMEOUT);
    vfu_proc_free(&f->p);
}

static void slow_start_is_waited_for(void **state)
{
    struct fixture *f = *state;
    struct vfu_proc_spec s = path_spec(f, FAKE " sleep=150 listen");
    int64_t t0 = ms_now();
    start_ok(f, &s);
    assert_true(ms_now() - t0 >= 150);
    assert_int_equal(vfu_unix_listening(f->sock), 1);
    vfu_proc_free(&f->p);
}

static void exit_before_ready(void **state)
{
    struct fixture *f = *state;
    struct vfu_proc_spec s = path_spec(f, FAKE " say=bad-config exit=3");
    struct vfu_error err;
    assert_false(vfu_proc_start(&f->p, &s, &err));
    assert_int_equal(err.code, VFU_E_CHILD_EXIT);
    assert_true(no_children());
    const struct vfu_proc_status *st = vfu_proc_status(&f->p);
    assert_int_equal(st->state, VFU_PROC_EXITED);
    assert_int_equal(st->code, 3);
    assert_int_equal(vfu_proc_verdict(st), VFU_PROC_V_FAILED);
    assert_true(out_has(f, "bad-config\n"));
    assert_string_equal(vfu_proc_why(&f->p), "exited with status 3 before it was ready");
    vfu_proc_free(&f->p);
}

static void crash_before_ready(void **state)
{
    struct fixture *f = *state;
    struct vfu_proc_spec s = path_spec(f, FAKE " say=dying segv");
    struct vfu_error err;
    assert_false(vfu_proc_start(&f->p, &s, &err));
    assert_int_equal(err.code, VFU_E_CHILD_EXIT);
    assert_int_equal(vfu_proc_status(&f->p)->state, VFU_PROC_SIGNALED);
    assert_int_equal(vfu_proc_status(&f->p)->code, SIGSEGV);
    assert_int_equal(vfu_proc_verdict(vfu_proc_status(&f->p)), VFU_PROC_V_CRASHED);
    assert_true(out_has(f, "dying\n"));
    vfu_proc_free(&f->p);
}

static void program_not_runnable(void **state)
{
    struct fixture *f = *state;
    struct vfu_error err;
    struct vfu_proc_spec s = path_spec(f, "/nonexistent/fake-server listen");
    assert_false(vfu_proc_start(&f->p, &s, &err));
    assert_int_equal(err.code, VFU_E_IO);
    assert_int_equal(err.sys_errno, ENOENT);
    assert_int_equal(vfu_proc_status(&f->p)->state, VFU_PROC_NONE);
    vfu_proc_free(&f->p);

    s = path_spec(f, "vfu-no-such-program-anywhere listen");
    assert_false(vfu_proc_start(&f->p, &s, &err));
    assert_int_equal(err.sys_errno, ENOENT);
    assert_string_equal(vfu_proc_why(&f->p),
                        "cannot run 'vfu-no-such-program-anywhere': No such file or directory");
    vfu_proc_free(&f->p);

    /* executable, but no format the kernel knows: the exec itself fails */
    char bad[128];
    snprintf(bad, sizeof bad, "%s/not-a-program", f->dir);
    FILE *fp = fopen(bad, "w");
    assert_non_null(fp);
    fputs("\x01\x02 garbage\n", fp);
    fclose(fp);
    assert_int_equal(chmod(bad, 0755), 0);
    s = path_spec(f, bad);
    assert_false(vfu_proc_start(&f->p, &s, &err));
    assert_int_equal(err.code, VFU_E_IO);
    assert_int_equal(err.sys_errno, ENOEXEC);
    assert_true(no_children());
    vfu_proc_free(&f->p);

    /* the socket we bound for it goes too */
    s.sock = VFU_PROC_SOCK_FD_LISTEN;
    assert_false(vfu_proc_start(&f->p, &s, &err));
    assert_int_equal(err.sys_errno, ENOEXEC);
    struct stat st;
    assert_int_equal(lstat(f->sock, &st), -1);
    vfu_proc_free(&f->p);
}

static void bad_specs_refused(void **state)
{
    struct fixture *f = *state;
    struct vfu_error err;
    struct {
        struct vfu_proc_spec s;
        const char *why;
    } cases[] = {
        {{.cmd = NULL, .socket_path = f->sock}, "no command"},
        {{.cmd = FAKE " 'listen", .socket_path = f->sock}, "command: single quote not closed at offset"},
        {{.cmd = FAKE}, "this socket mode needs a socket_path"},
        {{.cmd = FAKE, .socket_path = f->sock, .sock = VFU_PROC_SOCK_FD_LISTEN, .fd_num = 2}, "fd_num outside"},
        {{.cmd = FAKE, .socket_path = f->sock, .startup_timeout_ms = -1}, "startup_timeout_ms outside"},
        {{.cmd = FAKE, .socket_path = f->sock, .stderr_cap = (size_t)1 << 40}, "stderr_cap above"},
        {{.cmd = FAKE, .socket_path = "/tmp/" "0123456789012345678901234567890123456789"
                                      "0123456789012345678901234567890123456789012345678901234567890123456789"},
         "socket_path too long"},
        {{.cmd = FAKE " -s {socket}", .sock = VFU_PROC_SOCK_FD_CONNECTED}, "{socket} in the command"},
        {{.cmd = FAKE " --fd={fd}", .socket_path = f->sock}, "{fd} in the command"},
        {{.cmd = FAKE, .socket_path = f->sock, .sock = (enum vfu_proc_sock)7}, "unknown socket mode"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_false(vfu_proc_start(&f->p, &cases[i].s, &err));
        assert_int_equal(err.code, VFU_E_BAD_VALUE);
        if (strncmp(vfu_proc_why(&f->p), cases[i].why, strlen(cases[i].why)) != 0)
            fail_msg("case %zu: why is '%s'", i, vfu_proc_why(&f->p));
        assert_int_equal(vfu_proc_status(&f->p)->state, VFU_PROC_NONE);
        vfu_proc_free(&f->p);
    }
}

static void stale_socket_removed(void **state)
{
    struct fixture *f = *state;
    /* what a killed server leaves: a socket file nobody listens on */
    close(listen_at(f->sock, true));
    struct stat st;
    assert_int_equal(lstat(f->sock, &st), 0);
    struct vfu_proc_spec s = path_spec(f, FAKE " listen serve");
    start_ok(f, &s);
    assert_string_equal(say_hello(f->sock), "ok 1\n");
    vfu_proc_free(&f->p);
}

static void path_in_use_or_not_a_socket(void **state)
{
    struct fixture *f = *state;
    struct vfu_error err;
    int l = listen_at(f->sock, true);
    struct vfu_proc_spec s = path_spec(f, FAKE " listen");
    assert_false(vfu_proc_start(&f->p, &s, &err));
    assert_int_equal(err.code, VFU_E_IO);
    assert_int_equal(err.sys_errno, EADDRINUSE);
    /* the other listener keeps its socket */
    assert_int_equal(vfu_unix_listening(f->sock), 1);
    vfu_proc_free(&f->p);
    close(l);
    unlink(f->sock);

    FILE *fp = fopen(f->sock, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_false(vfu_proc_start(&f->p, &s, &err));
    assert_int_equal(err.sys_errno, EEXIST);
    struct stat st;
    assert_int_equal(lstat(f->sock, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    vfu_proc_free(&f->p);
}

static void connect_readiness_probes(void **state)
{
    struct fixture *f = *state;
    struct vfu_proc_spec s = path_spec(f, FAKE " listen serve");
    s.ready = VFU_PROC_READY_CONNECT;
    start_ok(f, &s);
    /* the probe was the first connection */
    assert_string_equal(say_hello(f->sock), "ok 2\n");
    vfu_proc_free(&f->p);

    /* and why it is not the default: a one-client server takes the probe
     * for its client and quits when it leaves */
    s = path_spec(f, FAKE " listen serve-one");
    s.ready = VFU_PROC_READY_CONNECT;
    start_ok(f, &s);
    assert_true(vfu_proc_wait(&f->p, 900));
    assert_int_equal(vfu_proc_status(&f->p)->state, VFU_PROC_EXITED);
    assert_int_equal(vfu_proc_status(&f->p)->code, 9);
    assert_true(out_has(f, "client left before hello"));
    vfu_proc_free(&f->p);

    s.ready = VFU_PROC_READY_LISTENING;
    start_ok(f, &s);
    assert_string_equal(say_hello(f->sock), "ok 1\n");
    vfu_proc_free(&f->p);
}

static void listening_check_both_ways(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(vfu_unix_listening(f->sock), 0);
    assert_int_equal(vfu_unix_listening_procfs(f->sock), 0);
    int b = listen_at(f->sock, false);
    assert_int_equal(vfu_unix_listening(f->sock), 0);
    assert_int_equal(vfu_unix_listening_procfs(f->sock), 0);
    assert_int_equal(listen(b, 1), 0);
    assert_int_equal(vfu_unix_listening(f->sock), 1);
    assert_int_equal(vfu_unix_listening_procfs(f->sock), 1);
    close(b);
    /* the file stays, the listener is gone */
    assert_int_equal(vfu_unix_listening(f->sock), 0);
    assert_int_equal(vfu_unix_listening_procfs(f->sock), 0);
    unlink(f->sock);
    /* not a socket at all */
    assert_int_equal(vfu_unix_listening(f->dir), 0);
}

int main(void)
{
    no_core_dumps();
#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(client_mode_leaves_our_socket),
        T(ready_when_listening_without_probe),
        T(socket_path_appended),
        T(socket_token_replaced),
        T(fd_listening_socket),
        T(fd_token_replaced),
        T(fd_connected_socket),
        T(startup_timeout),
        T(bound_but_not_listening_is_not_ready),
        T(slow_start_is_waited_for),
        T(exit_before_ready),
        T(crash_before_ready),
        T(program_not_runnable),
        T(bad_specs_refused),
        T(stale_socket_removed),
        T(path_in_use_or_not_a_socket),
        T(connect_readiness_probes),
        T(listening_check_both_ways),
    };
    return cmocka_run_group_tests_name("proc start", tests, NULL, NULL);
}
