/* How the program under test ends and what we report: crash, exit, hang,
 * SIGTERM honoured or not; its output tail; its descriptors; and that no
 * child, grandchild or descriptor of ours outlives it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/stat.h>

#include "proc_test.h"

static void wait_end(struct fixture *f)
{
    if (!vfu_proc_wait(&f->p, 900)) fail_msg("still running; output: %s", vfu_proc_stderr(&f->p, NULL));
}

static void crash_by_signal(void **state)
{
    struct fixture *f = *state;
    struct vfu_proc_spec s = path_spec(f, FAKE " listen sleep=30 segv");
    start_ok(f, &s);
    wait_end(f);
    const struct vfu_proc_status *st = vfu_proc_status(&f->p);
    assert_int_equal(st->state, VFU_PROC_SIGNALED);
    assert_int_equal(st->code, SIGSEGV);
    assert_int_equal(vfu_proc_verdict(st), VFU_PROC_V_CRASHED);
    assert_string_equal(status_text(f), "killed by signal 11 (SIGSEGV)");
    assert_true(no_children());
    /* stopping what has ended changes nothing */
    assert_ptr_equal(vfu_proc_stop(&f->p, 100), st);
    assert_int_equal(st->term_sent, false);
    vfu_proc_free(&f->p);

    s = path_spec(f, FAKE " listen say=giving-up sleep=30 abort");
    start_ok(f, &s);
    wait_end(f);
    assert_string_equal(status_text(f), "killed by signal 6 (SIGABRT)");
    assert_true(out_has(f, "giving-up\n"));
    vfu_proc_free(&f->p);
}

static void exit_on_its_own(void **state)
{
    struct fixture *f = *state;
    struct vfu_proc_spec s = path_spec(f, FAKE " listen sleep=20 exit=4");
    start_ok(f, &s);
    assert_int_equal(vfu_proc_poll(&f->p), VFU_PROC_RUNNING);
    wait_end(f);
    assert_int_equal(vfu_proc_poll(&f->p), VFU_PROC_EXITED);
    assert_int_equal(vfu_proc_verdict(vfu_proc_status(&f->p)), VFU_PROC_V_FAILED);
    assert_string_equal(status_text(f), "exited with status 4");
    vfu_proc_free(&f->p);

    s = path_spec(f, FAKE " listen sleep=30 exit=0");
    start_ok(f, &s);
    wait_end(f);
    assert_int_equal(vfu_proc_verdict(vfu_proc_status(&f->p)), VFU_PROC_V_EXITED);
    vfu_proc_free(&f->p);
}

static void wait_times_out(void **state)
{
    struct fixture *f = *state;
    struct vfu_proc_spec s = path_spec(f, FAKE " listen");
    start_ok(f, &s);
    int64_t t0 = ms_now();
    assert_false(vfu_proc_wait(&f->p, 100));
    int64_t took = ms_now() - t0;
    assert_true(took >= 100 && took < 600);
    assert_false(vfu_proc_wait(&f->p, -5));
    assert_int_equal(vfu_proc_poll(&f->p), VFU_PROC_RUNNING);
    vfu_proc_free(&f->p);
}

static void hang_on_sigterm(void **state)
{
    struct fixture *f = *state;
    struct vfu_proc_spec s = path_spec(f, FAKE " ignore-term listen");
    start_ok(f, &s);
    int64_t t0 = ms_now();
    const struct vfu_proc_status *st = vfu_proc_stop(&f->p, 200);
    int64_t took = ms_now() - t0;
    assert_true(took >= 200 && took < 900);
    assert_int_equal(st->state, VFU_PROC_SIGNALED);
    assert_int_equal(st->code, SIGKILL);
    assert_true(st->term_sent);
    assert_int_equal(st->kill, VFU_PROC_KILL_HANG);
    assert_int_equal(vfu_proc_verdict(st), VFU_PROC_V_HUNG);
    assert_string_equal(status_text(f), "did not stop within 200 ms of SIGTERM (hang); killed with SIGKILL");
    assert_true(no_children());
    /* a second stop is harmless and reports the same */
    assert_ptr_equal(vfu_proc_stop(&f->p, 200), st);
    assert_int_equal(st->kill, VFU_PROC_KILL_HANG);
    vfu_proc_free(&f->p);
    vfu_proc_free(&f->p);
    assert_int_equal(vfu_proc_poll(&f->p), VFU_PROC_NONE);
}

static void sigterm_honoured(void **state)
{
    struct fixture *f = *state;
    /* default action: dies of the signal and leaves its socket */
    struct vfu_proc_spec s = path_spec(f, FAKE " listen");
    start_ok(f, &s);
    const struct vfu_proc_status *st = vfu_proc_stop(&f->p, 900);
    assert_int_equal(st->state, VFU_PROC_SIGNALED);
    assert_int_equal(st->code, SIGTERM);
    assert_true(st->socket_left);
    assert_int_equal(vfu_proc_verdict(st), VFU_PROC_V_STOPPED);
    assert_string_equal(status_text(f), "stopped by SIGTERM; its socket file was left behind");
    vfu_proc_free(&f->p);

    /* a handler that cleans up and exits */
    s = path_spec(f, FAKE " clean-term listen");
    start_ok(f, &s);
    st = vfu_proc_stop(&f->p, 900);
    assert_int_equal(st->state, VFU_PROC_EXITED);
    assert_int_equal(st->code, 0);
    assert_false(st->socket_left);
    assert_int_equal(vfu_proc_verdict(st), VFU_PROC_V_STOPPED);
    assert_string_equal(status_text(f), "exited with status 0 after SIGTERM");
    vfu_proc_free(&f->p);
}

static void free_kills_without_grace(void **state)
{
    struct fixture *f = *state;
    struct vfu_proc_spec s = path_spec(f, FAKE " ignore-term listen");
    start_ok(f, &s);
    pid_t pid = vfu_proc_pid(&f->p);
    int64_t t0 = ms_now();
    vfu_proc_free(&f->p);
    assert_true(ms_now() - t0 < 500);
    assert_true(no_children());
    assert_true(pid_dead(pid));
    assert_int_equal(vfu_proc_verdict(vfu_proc_status(&f->p)), VFU_PROC_V_KILLED);
    assert_string_equal(status_text(f), "killed with SIGKILL by the supervisor");
    assert_int_equal(vfu_proc_pid(&f->p), -1);
}

static void stderr_keeps_the_tail(void **state)
{
    struct fixture *f = *state;
    const long flood = 1000000;
    struct vfu_proc_spec s = path_spec(f, fmt_cmd(f, FAKE " flood=%ld listen", flood));
    s.stderr_cap = 4096;
    /* the flood comes before listen: readiness needs the output drained */
    start_ok(f, &s);
    vfu_proc_stop(&f->p, 900);
    size_t len;
    const char *out = vfu_proc_stderr(&f->p, &len);
    assert_int_equal(vfu_proc_stderr_total(&f->p), flood + 4);
    assert_int_equal(len, 4096);
    assert_int_equal(strlen(out), 4096);
    assert_memory_equal(out + 4092, "END\n", 4);
    for (size_t j = 0; j < 4092; j++) {
        long i = flood - 4092 + (long)j;
        if (out[j] != (char)('a' + i % 26)) fail_msg("byte %zu is '%c'", j, out[j]);
    }
    vfu_proc_free(&f->p);
}

static void last_words_are_kept(void **state)
{
    struct fixture *f = *state;
    /* output still in the pipe when the program is reaped is read before
     * the end is reported; repeated, as losing it would be a race */
    for (int i = 0; i < 20; i++) {
        struct vfu_proc_spec s = path_spec(f, FAKE " flood=60000 say=last-words exit=0");
        s.ready = VFU_PROC_READY_NONE;
        struct vfu_error err;
        if (vfu_proc_start(&f->p, &s, &err)) wait_end(f);
        else assert_int_equal(err.code, VFU_E_CHILD_EXIT);
        assert_int_equal(vfu_proc_stderr_total(&f->p), 60000 + 4 + 11);
        assert_true(out_has(f, "END\nlast-words\n"));
        vfu_proc_free(&f->p);
    }
}

static void chatty_program_never_blocks(void **state)
{
    struct fixture *f = *state;
    /* far more than a pipe holds, while we call nothing at all */
    struct vfu_proc_spec s = path_spec(f, FAKE " listen flood=3000000 say=after-the-flood");
    s.stderr_cap = 1024;
    start_ok(f, &s);
    assert_true(out_within(f, "after-the-flood\n", 900));
    assert_int_equal(vfu_proc_stderr_total(&f->p), 3000000 + 4 + 16);
    vfu_proc_free(&f->p);
}

/* runs fn with our fd 2 on a pipe; returns what reached it */
static void with_stderr_pipe(struct fixture *f, bool close_reader, void (*fn)(struct fixture *), char *got,
                             size_t n)
{
    int pfd[2];
    assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
    fflush(stderr);
    int saved = fcntl(2, F_DUPFD_CLOEXEC, 3);
    assert_true(saved >= 0);
    dup2(pfd[1], 2);
    close(pfd[1]);
    if (close_reader) close(pfd[0]);
    fn(f);
    dup2(saved, 2);
    close(saved);
    if (close_reader) return;
    fcntl(pfd[0], F_SETFL, O_NONBLOCK);
    ssize_t k = read(pfd[0], got, n - 1);
    got[k > 0 ? k : 0] = '\0';
    close(pfd[0]);
}

static void run_stdout_to_stderr(struct fixture *f)
{
    struct vfu_proc_spec s = path_spec(f, FAKE " out=to-stdout say=to-stderr exit=0");
    s.ready = VFU_PROC_READY_NONE;
    s.stdout_mode = VFU_PROC_STDOUT_TO_STDERR;
    struct vfu_error err;
    if (vfu_proc_start(&f->p, &s, &err) || err.code == VFU_E_CHILD_EXIT) vfu_proc_wait(&f->p, 900);
}

/* echo to a pipe with room for all of it */
static void run_echo(struct fixture *f)
{
    struct vfu_proc_spec s = path_spec(f, FAKE " say=echoed flood=1000 exit=0");
    s.ready = VFU_PROC_READY_NONE;
    s.echo_stderr = true;
    struct vfu_error err;
    if (vfu_proc_start(&f->p, &s, &err) || err.code == VFU_E_CHILD_EXIT) vfu_proc_wait(&f->p, 900);
}

/* echo to a pipe nobody reads: more than it could hold, were it read */
static void run_echo_flood(struct fixture *f)
{
    struct vfu_proc_spec s = path_spec(f, FAKE " say=echoed flood=200000 exit=0");
    s.ready = VFU_PROC_READY_NONE;
    s.echo_stderr = true;
    struct vfu_error err;
    if (vfu_proc_start(&f->p, &s, &err) || err.code == VFU_E_CHILD_EXIT) vfu_proc_wait(&f->p, 900);
}

static void stdout_modes_and_echo(void **state)
{
    struct fixture *f = *state;
    struct vfu_proc_spec s = path_spec(f, FAKE " out=to-stdout say=to-stderr exit=0");
    s.ready = VFU_PROC_READY_NONE;
    struct vfu_error err;
    /* captured: both, in order */
    if (vfu_proc_start(&f->p, &s, &err)) wait_end(f);
    assert_true(out_has(f, "to-stdout\nto-stderr\n"));
    vfu_proc_free(&f->p);

    s.stdout_mode = VFU_PROC_STDOUT_NULL;
    if (vfu_proc_start(&f->p, &s, &err)) wait_end(f);
    assert_true(out_has(f, "to-stderr\n"));
    assert_false(out_has(f, "to-stdout"));
    vfu_proc_free(&f->p);

    char got[256];
    with_stderr_pipe(f, false, run_stdout_to_stderr, got, sizeof got);
    assert_non_null(strstr(got, "to-stdout\n"));
    assert_true(out_has(f, "to-stderr\n"));
    assert_false(out_has(f, "to-stdout"));
    vfu_proc_free(&f->p);

    with_stderr_pipe(f, false, run_echo, got, sizeof got);
    assert_memory_equal(got, "echoed\nabc", 10);
    assert_int_equal(vfu_proc_verdict(vfu_proc_status(&f->p)), VFU_PROC_V_EXITED);
    vfu_proc_free(&f->p);
}

static void echo_to_broken_stderr_is_safe(void **state)
{
    struct fixture *f = *state;
    char unused[8];
    /* our fd 2 is a pipe nobody reads: SIGPIPE would end this test program */
    with_stderr_pipe(f, true, run_echo_flood, unused, sizeof unused);
    assert_int_equal(vfu_proc_verdict(vfu_proc_status(&f->p)), VFU_PROC_V_EXITED);
    assert_int_equal(vfu_proc_stderr_total(&f->p), 7 + 200000 + 4);
    vfu_proc_free(&f->p);
}

static void signal_state_not_inherited(void **state)
{
    struct fixture *f = *state;
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigaction(SIGPIPE, &ign, &old);
    sigset_t term, oldmask;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, &oldmask);
    struct vfu_proc_spec s = path_spec(f, FAKE " sigstate listen");
    struct vfu_error err;
    bool started = vfu_proc_start(&f->p, &s, &err);
    sigaction(SIGPIPE, &old, NULL);
    sigprocmask(SIG_SETMASK, &oldmask, NULL);
    assert_true(started);
    assert_true(out_within(f, "sigpipe=dfl term-blocked=0\n", 900));
    /* SIGTERM reaches it although we block it ourselves */
    assert_int_equal(vfu_proc_verdict(vfu_proc_stop(&f->p, 900)), VFU_PROC_V_STOPPED);
    vfu_proc_free(&f->p);
}

static void fd_count_of_the_program(void **state)
{
    struct fixture *f = *state;
    struct vfu_proc_spec s = path_spec(f, FAKE " fds open=7 listen");
    start_ok(f, &s);
    assert_true(out_within(f, "fds: 0 1 2\n", 900));
    /* 0, 1, 2, the listening socket and the seven it opened */
    assert_int_equal(vfu_proc_fd_count(&f->p), 11);
    vfu_proc_stop(&f->p, 900);
    assert_int_equal(vfu_proc_fd_count(&f->p), -1);
    vfu_proc_free(&f->p);
}

static pid_t grandchild_of(struct fixture *f)
{
    assert_true(out_within(f, "grandchild ", 900));
    const char *g = strstr(vfu_proc_stderr(&f->p, NULL), "grandchild ");
    return (pid_t)atoi(g + strlen("grandchild "));
}

static void group_dies_with_the_program(void **state)
{
    struct fixture *f = *state;
    /* the grandchild ignores SIGTERM; the leader exits on it */
    struct vfu_proc_spec s = path_spec(f, FAKE " ignore-term fork clean-term listen");
    start_ok(f, &s);
    pid_t g = grandchild_of(f);
    assert_false(pid_dead(g));
    const struct vfu_proc_status *st = vfu_proc_stop(&f->p, 900);
    assert_int_equal(st->state, VFU_PROC_EXITED);
    assert_true(pid_dies_within(g, 500));
    vfu_proc_free(&f->p);

    /* the leader exits on its own: its group goes too */
    s = path_spec(f, FAKE " fork listen sleep=50 exit=0");
    start_ok(f, &s);
    g = grandchild_of(f);
    wait_end(f);
    assert_true(pid_dies_within(g, 500));
    vfu_proc_free(&f->p);
}

static void restart_after_crash(void **state)
{
    struct fixture *f = *state;
    struct vfu_proc_spec s = path_spec(f, FAKE " listen serve");
    start_ok(f, &s);
    pid_t first = vfu_proc_pid(&f->p);
    kill(first, SIGSEGV);
    wait_end(f);
    assert_int_equal(vfu_proc_verdict(vfu_proc_status(&f->p)), VFU_PROC_V_CRASHED);
    /* it left its socket; the restart clears it and comes up */
    assert_true(vfu_proc_status(&f->p)->socket_left);
    struct vfu_error err;
    assert_true(vfu_proc_restart(&f->p, 200, &err));
    assert_int_not_equal(vfu_proc_pid(&f->p), first);
    assert_int_equal(vfu_proc_poll(&f->p), VFU_PROC_RUNNING);
    assert_string_equal(say_hello(f->sock), "ok 1\n");
    /* and while running: stopped, then started again */
    pid_t second = vfu_proc_pid(&f->p);
    assert_true(vfu_proc_restart(&f->p, 200, &err));
    assert_int_not_equal(vfu_proc_pid(&f->p), second);
    assert_true(pid_dead(second));
    vfu_proc_free(&f->p);
}

static void many_starts_leave_nothing(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 20; i++) {
        enum vfu_proc_sock mode = (enum vfu_proc_sock)(i % 3);
        struct vfu_proc_spec s = path_spec(f, mode == VFU_PROC_SOCK_PATH ? FAKE " listen" : FAKE);
        s.sock = mode;
        start_ok(f, &s);
        if (s.sock == VFU_PROC_SOCK_FD_CONNECTED && i % 2) close(vfu_proc_take_conn_fd(&f->p));
        vfu_proc_stop(&f->p, 900);
        vfu_proc_free(&f->p);
        assert_true(no_children());
        assert_int_equal(own_fd_count(), f->fds_before);
    }
}

static void status_lost_when_sigchld_ignored(void **state)
{
    struct fixture *f = *state;
    /* the kernel then reaps by itself: we must neither hang nor guess */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigaction(SIGCHLD, &ign, &old);
    struct vfu_proc_spec s = path_spec(f, FAKE " listen sleep=20 exit=5");
    struct vfu_error err;
    bool started = vfu_proc_start(&f->p, &s, &err);
    bool ended = started && vfu_proc_wait(&f->p, 900);
    sigaction(SIGCHLD, &old, NULL);
    assert_true(started);
    assert_true(ended);
    assert_int_equal(vfu_proc_status(&f->p)->state, VFU_PROC_LOST);
    assert_int_equal(vfu_proc_verdict(vfu_proc_status(&f->p)), VFU_PROC_V_LOST);
    vfu_proc_free(&f->p);
}

static void status_words(void **state)
{
    (void)state;
    char buf[128];
    struct vfu_proc_status st = {.state = VFU_PROC_SIGNALED, .code = SIGSEGV, .core_dumped = true};
    vfu_proc_status_str(&st, buf, sizeof buf);
    assert_string_equal(buf, "killed by signal 11 (SIGSEGV, core dumped)");
    assert_int_equal(vfu_proc_verdict(&st), VFU_PROC_V_CRASHED);
    /* a signal other than ours after SIGTERM is still a crash */
    st.term_sent = true;
    st.core_dumped = false;
    vfu_proc_status_str(&st, buf, sizeof buf);
    assert_string_equal(buf, "killed by signal 11 (SIGSEGV) after SIGTERM");
    assert_int_equal(vfu_proc_verdict(&st), VFU_PROC_V_CRASHED);
    /* a SIGKILL we did not send (the OOM killer, say) */
    st = (struct vfu_proc_status){.state = VFU_PROC_SIGNALED, .code = SIGKILL};
    assert_int_equal(vfu_proc_verdict(&st), VFU_PROC_V_CRASHED);
    /* SIGTERM from someone else */
    st.code = SIGTERM;
    assert_int_equal(vfu_proc_verdict(&st), VFU_PROC_V_CRASHED);
    st = (struct vfu_proc_status){.state = VFU_PROC_EXITED, .code = 3};
    assert_int_equal(vfu_proc_status_str(&st, buf, sizeof buf), strlen("exited with status 3"));
    assert_string_equal(buf, "exited with status 3");
    /* truncation keeps the terminator */
    assert_int_equal(vfu_proc_status_str(&st, buf, 7), 6);
    assert_string_equal(buf, "exited");
    st = (struct vfu_proc_status){.state = VFU_PROC_SIGNALED, .code = SIGKILL, .term_sent = true,
                                  .kill = VFU_PROC_KILL_HANG, .grace_ms = 2000};
    vfu_proc_status_str(&st, buf, sizeof buf);
    assert_string_equal(buf, "did not stop within 2000 ms of SIGTERM (hang); killed with SIGKILL");
    assert_string_equal(vfu_proc_verdict_name(vfu_proc_verdict(&st)), "hung");
}

int main(void)
{
    no_core_dumps();
#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(crash_by_signal),
        T(exit_on_its_own),
        T(wait_times_out),
        T(hang_on_sigterm),
        T(sigterm_honoured),
        T(free_kills_without_grace),
        T(stderr_keeps_the_tail),
        T(last_words_are_kept),
        T(chatty_program_never_blocks),
        T(stdout_modes_and_echo),
        T(echo_to_broken_stderr_is_safe),
        T(signal_state_not_inherited),
        T(fd_count_of_the_program),
        T(group_dies_with_the_program),
        T(restart_after_crash),
        T(many_starts_leave_nothing),
        T(status_lost_when_sigchld_ignored),
        cmocka_unit_test(status_words),
    };
    return cmocka_run_group_tests_name("proc end", tests, NULL, NULL);
}
