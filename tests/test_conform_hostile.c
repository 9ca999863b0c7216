/* vfu-conform's runner against servers that misbehave on purpose
 * (tests/helpers/hostile_server.c): each gets the verdict it earned, the
 * run always ends within a bound, and nothing of ours leaks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <time.h>
#include <cmocka.h>

#include "runner.h"
#include "scn.h"

#ifndef HOSTILE_BIN
#error "HOSTILE_BIN: the hostile fake server"
#endif

#define TIMEOUT_MS 300
/* a run of the four scenarios against any of the servers must end well
 * within this, or something waited without bound */
#define BOUND_S 15.0

static const char scenarios[] =
    "scenario H.negotiate\n  section S\nend\n"
    "scenario H.info\n  section S\n  send DEVICE_GET_INFO\n  expect ok\nend\n"
    "scenario H.any\n  section S\n  send DEVICE_GET_INFO\n  expect error any\nend\n"
    "scenario H.big\n  section S\n  send DEVICE_GET_INFO\n  expect none 10\n"
    "  send REGION_WRITE region=0 data=zero:0x800000 unchecked\n  expect reply\nend\n";

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
    if (d) closedir(d);
    return n - 1;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct expect_result {
    const char *id;
    enum vfu_verdict verdict;
    enum vfu_failure_kind kind;
    const char *reason_has[3];   /* substrings of the reason */
    const char *stderr_has;      /* substring of the server's stderr tail, or NULL */
};

static void against(const char *mode, const struct expect_result *want, size_t nwant)
{
    int fds = count_fds();
    struct scn_set s;
    struct scn_errors e = {0};
    vfh_scn_set_init(&s);
    assert_true(vfh_scn_load_text(&s, "h.scn", scenarios, strlen(scenarios), &e));
    const struct scn_scenario *list[4] = {&s.v[0], &s.v[1], &s.v[2], &s.v[3]};
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s %s", HOSTILE_BIN, mode);
    struct vfu_runner_opts o = {.server_cmd = cmd, .timeout_ms = TIMEOUT_MS};
    struct vfu_run r;
    char why[512];
    double t0 = now();
    assert_true(vfh_runner_run(list, 4, &o, &r, why, sizeof why));
    double took = now() - t0;
    if (took > BOUND_S) fail_msg("%s: the run took %.1f s", mode, took);
    assert_int_equal(r.n, 4);
    for (size_t i = 0; i < nwant; i++) {
        const struct vfu_result *res = NULL;
        for (size_t k = 0; k < r.n; k++)
            if (!strcmp(r.results[k].id, want[i].id)) res = &r.results[k];
        assert_non_null(res);
        bool ok = res->verdict == want[i].verdict && res->kind == want[i].kind;
        for (int k = 0; k < 3 && want[i].reason_has[k]; k++) ok &= strstr(res->reason, want[i].reason_has[k]) != NULL;
        if (want[i].stderr_has) ok &= res->server_stderr && strstr(res->server_stderr, want[i].stderr_has);
        if (!ok) {
            fprintf(stderr, "%s %s: verdict %d kind %d: %s\nstderr: %s\n", mode, res->id, res->verdict, res->kind,
                    res->reason, res->server_stderr ? res->server_stderr : "(none)");
            fail();
        }
    }
    vfh_run_free(&r);
    vfh_scn_set_free(&s);
    assert_int_equal(count_fds(), fds);
}

static void hang(void **state)
{
    (void)state;
    const struct expect_result w[] = {
        {"H.negotiate", VFU_PASS, VFU_FK_NONE, {NULL}, NULL},
        {"H.info", VFU_FAIL, VFU_FK_HANG, {"step 2 (h.scn:7)", "no reply within 300 ms", "(hang)"}, "hostile: mode hang"},
    };
    against("hang", w, 2);
}

static void silent(void **state)
{
    (void)state;
    const struct expect_result w[] = {
        {"H.info", VFU_FAIL, VFU_FK_TIMEOUT, {"expected a success reply, got no reply within 300 ms", "the server was stopped"}, NULL},
        {"H.any", VFU_FAIL, VFU_FK_TIMEOUT, {"expected error, got no reply"}, NULL},
    };
    against("silent", w, 2);
}

static void crash(void **state)
{
    (void)state;
    const struct expect_result w[] = {
        {"H.negotiate", VFU_PASS, VFU_FK_NONE, {NULL}, NULL},
        {"H.info", VFU_FAIL, VFU_FK_CRASH, {"step 2 (h.scn:7)", "the server was killed by signal 11 (SIGSEGV)"}, "hostile: crashing on DEVICE_GET_INFO"},
        {"H.any", VFU_FAIL, VFU_FK_CRASH, {"SIGSEGV"}, NULL},
    };
    against("crash", w, 3);
}

static void exits(void **state)
{
    (void)state;
    const struct expect_result w[] = {
        {"H.info", VFU_FAIL, VFU_FK_EXIT, {"exited with status 3"}, "hostile: exiting on DEVICE_GET_INFO"},
    };
    against("exit", w, 1);
}

static void garbage(void **state)
{
    (void)state;
    const struct expect_result w[] = {
        {"H.info", VFU_FAIL, VFU_FK_VIOLATION, {"step 2", "FRAMING", "then step 2"}, NULL},
        {"H.any", VFU_FAIL, VFU_FK_VIOLATION, {NULL}, NULL},
    };
    against("garbage", w, 2);
}

static void bigsize(void **state)
{
    (void)state;
    const struct expect_result w[] = {
        {"H.info", VFU_FAIL, VFU_FK_VIOLATION, {"msg_size"}, NULL},
    };
    against("bigsize", w, 1);
}

static void cut(void **state)
{
    (void)state;
    const struct expect_result w[] = {
        {"H.info", VFU_FAIL, VFU_FK_VIOLATION, {"FRAMING", "[EOF] (got 24, limit/expected 64)"}, NULL},
    };
    against("cut", w, 1);
}

static void wrongid(void **state)
{
    (void)state;
    const struct expect_result w[] = {
        {"H.info", VFU_FAIL, VFU_FK_VIOLATION, {"UNEXPECTED_REPLY", "then step 2 (h.scn:7)"}, NULL},
    };
    against("wrongid", w, 1);
}

static void errpayload(void **state)
{
    (void)state;
    const struct expect_result w[] = {
        {"H.any", VFU_FAIL, VFU_FK_VIOLATION, {"expected error, got a reply that breaks the spec"}, NULL},
    };
    against("errpayload", w, 1);
}

/* no VERSION, even after a restart: one cause, nothing else run */
static void badversion(void **state)
{
    (void)state;
    const struct expect_result w[] = {
        {"H.negotiate", VFU_SKIP, VFU_FK_NONE, {"not run: the opening VERSION failed twice", "(garbage)", "major"}, NULL},
        {"H.info", VFU_SKIP, VFU_FK_NONE, {"not run: the opening VERSION failed"}, NULL},
    };
    against("badversion", w, 2);
}

static void flood(void **state)
{
    (void)state;
    const struct expect_result w[] = {
        {"H.info", VFU_FAIL, VFU_FK_VIOLATION, {"DMA_ADDRESS"}, NULL},
    };
    against("flood", w, 1);
}

static void drip(void **state)
{
    (void)state;
    const struct expect_result w[] = {
        {"H.info", VFU_FAIL, VFU_FK_VIOLATION, {"FRAMING", "[TIMEOUT]"}, NULL},
    };
    against("drip", w, 1);
}

/* a server that stops reading: a big message cannot be sent, in bounded time */
static void noread(void **state)
{
    (void)state;
    const struct expect_result w[] = {
        {"H.big", VFU_FAIL, VFU_FK_TIMEOUT, {"step 3 (h.scn:", "the server took nothing of the message within 300 ms"}, NULL},
    };
    against("noread", w, 1);
}

/* a server that crashes once a client has gone: the scenario that was
 * connected is blamed, and the next one gets a fresh server */
static void closecrash(void **state)
{
    (void)state;
    const struct expect_result w[] = {
        {"H.negotiate", VFU_FAIL, VFU_FK_CRASH, {"the server was killed by signal 11 (SIGSEGV) after the scenario's last step"}, "hostile: the client left; crashing"},
        {"H.info", VFU_FAIL, VFU_FK_CRASH, {"SIGSEGV) after the scenario's last step; before: step 2 (h.scn:7): expected a success reply, got error reply EINVAL"}, NULL},
        {"H.any", VFU_FAIL, VFU_FK_CRASH, {"SIGSEGV", "after the scenario"}, NULL},
    };
    against("closecrash", w, 3);
}

/* a server that refuses everything: the wrong expectation is named */
static void refuses(void **state)
{
    (void)state;
    const struct expect_result w[] = {
        {"H.negotiate", VFU_PASS, VFU_FK_NONE, {NULL}, NULL},
        {"H.info", VFU_FAIL, VFU_FK_MISMATCH, {"step 2 (h.scn:7): expected a success reply, got error reply EINVAL"}, NULL},
        {"H.any", VFU_PASS, VFU_FK_NONE, {NULL}, NULL},
    };
    against("ok", w, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hang),     cmocka_unit_test(silent),  cmocka_unit_test(crash),
        cmocka_unit_test(exits),    cmocka_unit_test(garbage), cmocka_unit_test(bigsize),
        cmocka_unit_test(cut),      cmocka_unit_test(wrongid), cmocka_unit_test(errpayload),
        cmocka_unit_test(badversion), cmocka_unit_test(flood), cmocka_unit_test(drip),
        cmocka_unit_test(noread),   cmocka_unit_test(closecrash), cmocka_unit_test(refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
