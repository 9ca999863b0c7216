/* Verdicts that claim no more than the spec: a preferred errno (ERRNO?)
 * that another errno, or errno 0, does not meet is an INFO finding, not a
 * failure; a required errno stays required; a crash or a sanitizer report
 * never meets "error or close"; what this system cannot send is a SKIP.
 * Against the hostile fake server (tests/helpers/hostile_server.c) and the
 * reference server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "runner.h"
#include "scn.h"

#ifndef HOSTILE_BIN
#error "HOSTILE_BIN: the hostile fake server"
#endif

struct want {
    const char *id;
    enum vfu_verdict verdict;
    enum vfu_level level;
    enum vfu_failure_kind kind;
    const char *reason_has;
};

static void run_text(const char *server, const char *text, const struct want *w, size_t nw, int exit_status)
{
    struct scn_set s;
    struct scn_errors e = {0};
    vfh_scn_set_init(&s);
    if (!vfh_scn_load_text(&s, "v.scn", text, strlen(text), &e)) {
        for (unsigned i = 0; i < e.n; i++) fprintf(stderr, "%s\n", e.msg[i]);
        fail();
    }
    const struct scn_scenario *list[16];
    assert_true(s.n <= 16);
    for (size_t i = 0; i < s.n; i++) list[i] = &s.v[i];
    struct vfu_runner_opts o = {.server_cmd = server, .timeout_ms = 1000};
    struct vfu_run r;
    char why[512];
    assert_true(vfh_runner_run(list, s.n, &o, &r, why, sizeof why));
    for (size_t i = 0; i < nw; i++) {
        const struct vfu_result *res = NULL;
        for (size_t k = 0; k < r.n; k++)
            if (!strcmp(r.results[k].id, w[i].id)) res = &r.results[k];
        assert_non_null(res);
        bool ok = res->verdict == w[i].verdict && res->level == w[i].level && res->kind == w[i].kind &&
                  (!w[i].reason_has || strstr(res->reason, w[i].reason_has));
        if (!ok) {
            fprintf(stderr, "%s: verdict %s level %s kind %s: %s\n", res->id, vfr_verdict_name(res->verdict),
                    vfr_level_name(res->level), vfr_failure_kind_name(res->kind), res->reason);
            fail();
        }
    }
    assert_int_equal(vfr_run_exit_status(&r), exit_status);
    vfh_run_free(&r);
    vfh_scn_set_free(&s);
}

static char *hostile(const char *mode)
{
    static char cmd[512];
    snprintf(cmd, sizeof cmd, "%s %s", HOSTILE_BIN, mode);
    return cmd;
}

/* errno 0 with the Error bit: the spec lets the Error field be zero */
static void errno_zero_meets_a_preference(void **state)
{
    (void)state;
    static const char text[] =
        "scenario V.prefer\n  level MUST\n  send DEVICE_GET_INFO\n  expect error EINVAL?\nend\n"
        "scenario V.any\n  level MUST\n  send DEVICE_GET_INFO\n  expect error\nend\n"
        "scenario V.orclose\n  level SHOULD\n  send DEVICE_GET_INFO\n  expect error-or-close EINVAL?\nend\n";
    const struct want w[] = {
        {"V.prefer", VFU_FAIL, VFU_LEVEL_INFO, VFU_FK_MISMATCH, "carries errno 0 where EINVAL was preferred"},
        {"V.any", VFU_PASS, VFU_LEVEL_MUST, VFU_FK_NONE, NULL},
        {"V.orclose", VFU_FAIL, VFU_LEVEL_INFO, VFU_FK_MISMATCH, "an INFO finding, not a failure"},
    };
    /* INFO findings fail nothing */
    run_text(hostile("errzero"), text, w, 3, 0);
}

/* a required errno (the spec names EEXIST for an overlapping map) stays a
 * failure at the scenario's level; a preference another errno misses is
 * reported once, at INFO, even after several misses */
static void required_errno_stays_must(void **state)
{
    (void)state;
    static const char text[] =
        "scenario V.required\n  level MUST\n  send DEVICE_GET_INFO\n  expect error EEXIST\nend\n"
        "scenario V.twice\n  level MUST\n  send DEVICE_GET_INFO\n  expect error EPERM?\n"
        "  send DEVICE_GET_INFO\n  expect error EEXIST? EPERM?\nend\n"
        "scenario V.met\n  level MUST\n  send DEVICE_GET_INFO\n  expect error EPERM? EINVAL?\nend\n";
    const struct want w[] = {
        {"V.required", VFU_FAIL, VFU_LEVEL_MUST, VFU_FK_MISMATCH, "expected error EEXIST, got error reply EINVAL"},
        {"V.twice", VFU_FAIL, VFU_LEVEL_INFO, VFU_FK_MISMATCH, "step 2 (v.scn:9): the error reply carries EINVAL where EPERM was preferred"},
        {"V.met", VFU_PASS, VFU_LEVEL_MUST, VFU_FK_NONE, NULL},
    };
    run_text(hostile("ok"), text, w, 3, 1);
}

/* a scenario that fails for a MUST reason is not hidden by a preference */
static void preference_does_not_hide_a_failure(void **state)
{
    (void)state;
    static const char text[] =
        "scenario V.both\n  level MUST\n  send DEVICE_GET_INFO\n  expect error EPERM?\n"
        "  send DEVICE_GET_INFO\n  expect ok\nend\n";
    const struct want w[] = {
        {"V.both", VFU_FAIL, VFU_LEVEL_MUST, VFU_FK_MISMATCH, "step 4 (v.scn:6): expected a success reply"},
    };
    run_text(hostile("ok"), text, w, 1, 1);
}

static const char orclose[] =
    "scenario V.orclose\n  level SHOULD\n  send DEVICE_GET_INFO\n  expect error-or-close\nend\n"
    "scenario V.close\n  level MUST\n  send DEVICE_GET_INFO\n  expect close\nend\n";

/* a server killed by a signal closed the connection, but that is a crash */
static void crash_never_meets_error_or_close(void **state)
{
    (void)state;
    const struct want w[] = {
        {"V.orclose", VFU_FAIL, VFU_LEVEL_SHOULD, VFU_FK_CRASH, "killed by signal 11 (SIGSEGV): a crash never meets"},
        {"V.close", VFU_FAIL, VFU_LEVEL_MUST, VFU_FK_CRASH, "a crash never meets an expectation"},
    };
    run_text(hostile("crash"), orclose, w, 2, 1);
}

/* a sanitizer ends the program with an exit status after its report */
static void sanitizer_exit_is_a_crash(void **state)
{
    (void)state;
    const struct want w[] = {
        {"V.orclose", VFU_FAIL, VFU_LEVEL_SHOULD, VFU_FK_CRASH, "ERROR: AddressSanitizer"},
        {"V.close", VFU_FAIL, VFU_LEVEL_MUST, VFU_FK_CRASH, "exited with status 1"},
    };
    run_text(hostile("asanexit"), orclose, w, 2, 1);
}

/* a plain exit is the server's way of closing: allowed */
static void plain_exit_meets_close(void **state)
{
    (void)state;
    const struct want w[] = {
        {"V.orclose", VFU_PASS, VFU_LEVEL_SHOULD, VFU_FK_NONE, NULL},
        {"V.close", VFU_PASS, VFU_LEVEL_MUST, VFU_FK_NONE, NULL},
    };
    run_text(hostile("exit"), orclose, w, 2, 0);
}

/* fds=$server.max_msg_fds+1 against a server stating 253: no message of
 * this system carries 254, so the scenario is skipped, not an ERROR */
static void more_fds_than_the_system_carries_skip(void **state)
{
    (void)state;
    static const char text[] =
        "scenario V.fds\n  level SHOULD\n"
        "  send DMA_MAP flags=READ address=0x100000 size=0x1000 fd=memfd fds=$server.max_msg_fds unchecked\n"
        "  expect error-or-close\nend\n"
        "scenario V.fds_first\n  level SHOULD\n"
        "  send DMA_MAP flags=READ address=0x100000 size=0x1000 fds=$server.max_msg_fds fd=memfd unchecked\n"
        "  expect error-or-close\nend\n"
        "scenario V.info\n  send DEVICE_GET_INFO\n  expect ok\nend\n";
    const struct want w[] = {
        {"V.fds", VFU_SKIP, VFU_LEVEL_SHOULD, VFU_FK_NONE, "needs 254 file descriptors in one message; this system carries at most 253"},
        {"V.fds_first", VFU_SKIP, VFU_LEVEL_SHOULD, VFU_FK_NONE, "SCM_MAX_FD"},
        {"V.info", VFU_PASS, VFU_LEVEL_MUST, VFU_FK_NONE, NULL},
    };
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s --max-msg-fds=253", SRV_BIN);
    run_text(cmd, text, w, 3, 0);
}

/* guest memory the system will not give (4 PiB, past any user address
 * space) says nothing of the server: a SKIP with the system's reason */
static void memory_the_system_refuses_skips(void **state)
{
    (void)state;
    static const char text[] =
        "scenario V.huge\n  section S\n  level MUST\n  map a 0x100000 0x10000000000000 message\nend\n"
        "scenario V.info\n  send DEVICE_GET_INFO\n  expect ok\nend\n";
    const struct want w[] = {
        {"V.huge", VFU_SKIP, VFU_LEVEL_MUST, VFU_FK_NONE, "this system refused the guest memory"},
        {"V.info", VFU_PASS, VFU_LEVEL_MUST, VFU_FK_NONE, NULL},
    };
    run_text(SRV_BIN, text, w, 2, 0);
}

/* a server that keeps a client's descriptors after it left breaks the
 * spec's Client Disconnection advice, a should: a MUST scenario that found
 * nothing else fails at SHOULD, not MUST */
static void kept_fds_are_should_at_most(void **state)
{
    (void)state;
    static const char text[] =
        "scenario V.map\n  section S\n  level MUST\n  map a 0x100000 0x1000 memfd\nend\n"
        "scenario V.info\n  section S\n  level INFO\n  map a 0x100000 0x1000 memfd\nend\n";
    const struct want w[] = {
        {"V.map", VFU_FAIL, VFU_LEVEL_SHOULD, VFU_FK_MISMATCH, "file descriptor"},
        {"V.info", VFU_FAIL, VFU_LEVEL_INFO, VFU_FK_MISMATCH, "file descriptor"},
    };
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s --fault=fd-leak-per-dma-map", SRV_BIN);
    run_text(cmd, text, w, 2, 1);
}

/* every bundled scenario says which rule it rests on; one that asks more
 * than the spec says so and is SHOULD at most */
static void every_scenario_names_its_rule(void **state)
{
    (void)state;
    struct scn_set s;
    struct scn_errors e = {0};
    vfh_scn_set_init(&s);
    assert_true(vfh_scn_load_path(&s, SCN_DIR, &e));
    assert_true(s.n > 200);
    unsigned stricter = 0;
    for (size_t i = 0; i < s.n; i++) {
        const struct scn_scenario *sc = &s.v[i];
        if (!sc->rule || strlen(sc->rule) < 20) fail_msg("%s (%s:%d) names no rule", sc->id, sc->file, sc->line);
        if (strstr(sc->rule, "stricter than the spec")) {
            stricter++;
            if (sc->level == VFU_LEVEL_MUST) fail_msg("%s is stricter than the spec at MUST level", sc->id);
        }
    }
    assert_true(stricter > 0);
    vfh_scn_set_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(errno_zero_meets_a_preference),
        cmocka_unit_test(required_errno_stays_must),
        cmocka_unit_test(preference_does_not_hide_a_failure),
        cmocka_unit_test(crash_never_meets_error_or_close),
        cmocka_unit_test(sanitizer_exit_is_a_crash),
        cmocka_unit_test(plain_exit_meets_close),
        cmocka_unit_test(more_fds_than_the_system_carries_skip),
        cmocka_unit_test(memory_the_system_refuses_skips),
        cmocka_unit_test(kept_fds_are_should_at_most),
        cmocka_unit_test(every_scenario_names_its_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
