/* The human report and the run-level helpers: failures before everything
 * else, the stderr tail cut to its last lines and long lines cut short,
 * nothing from a server reaching the terminal raw, colour only on a
 * terminal without NO_COLOR, counts and time, the exit status rules, and
 * the format names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "report_fixture.h"

static struct vfu_report_opts opts;

static int human(FILE *f, const struct vfu_run *run) { return vfr_report_human(f, run, &opts); }

static char *report(const struct vfu_run *run, enum vfu_color c, bool verbose)
{
    opts = (struct vfu_report_opts){.color = c, .verbose = verbose};
    char *out = fx_capture(human, run, NULL);
    assert_non_null(out);
    return out;
}

static size_t pos(const char *hay, const char *needle)
{
    const char *p = strstr(hay, needle);
    if (!p) fail_msg("\"%s\" not in the report", needle);
    return (size_t)(p - hay);
}

static void failures_first(void **state)
{
    (void)state;
    struct vfu_run run;
    fx_run(&run);
    char *out = report(&run, VFU_COLOR_NEVER, false);
    size_t len = strlen(out);
    /* nothing a server or scenario wrote reaches the terminal raw; tabs may */
    assert_true(fx_text_ok(out, len, 1, 0));
    assert_null(strchr(out, '\033'));

    assert_int_equal(pos(out, "vfu-conform 0.1: ./mydevice"), 0);
    /* failures that fail the run, then errors, XPASS, INFO, then the brief lines */
    size_t f1 = pos(out, "FAIL   DMA_MAP.overlap.EEXIST  MUST  VFIO_USER_DMA_MAP\n");
    size_t f2 = pos(out, "FAIL   REGION.write.big  MUST  VFIO_USER_REGION_WRITE\n");
    size_t er = pos(out, "ERROR  ODD<id>&\"#1\\  MUST  ");
    size_t xp = pos(out, "XPASS  REGION.read.zero  MUST");
    size_t in = pos(out, "info   DMA_UNMAP.unknown.info  INFO");
    size_t xf = pos(out, "xfail  IRQ.mask.unmask: step 2: expected ok, got error EINVAL\n");
    size_t sk = pos(out, "skip   MIG.state.running: server lacks migration # not offered\n");
    assert_true(f1 < f2 && f2 < er && er < xp && xp < in && in < xf && xf < sk);
    /* passes only with verbose */
    assert_null(strstr(out, "VERSION.basic.ok"));

    /* the details of a failure, in its entry */
    size_t reason = pos(out, "       q\"uote a'pos <tag attr=\"x\"> & &amp; ]]> nl\\x0anext cr\\x0d tab\t bell\\x07 "
                             "esc\\x1b[31mred del\\x7f c1\\x85 e\xc3\xa9");
    assert_true(reason > f1 && reason < f2);

    assert_non_null(strstr(out, "hash # back\\slash bom\xef\xbb\xbf nonchar\xef\xbf\xbe end [mismatch]\n"));
    size_t at = pos(out, "       at harness/scenarios/dma.scn:11\n");
    /* a reason that names its location already gets no second "at" line */
    assert_non_null(strstr(out, "(harness/scenarios/dma.scn:16): expected error ENOENT"));
    assert_null(strstr(out, "at harness/scenarios/dma.scn:16"));
    size_t tr = pos(out, "       trace: traces/DMA_MAP.overlap.EEXIST.cbor\n");
    /* the rule the verdict rests on, in the failure's entry before its location */
    size_t rule = pos(out, "       rule: the spec names EEXIST for a map over an existing window\n");
    assert_true(f1 < rule && rule < at);
    assert_true(f1 < at && at < tr && tr < f2);
    /* short stderr whole, line by line, indented */
    size_t se = pos(out, "       server stderr:\n         | starting\n         | q\"uote");
    assert_true(tr < se && se < f2);
    assert_non_null(strstr(out, "         | last line\n"));
    /* long stderr: its last 10 lines, the first of them cut at 200 bytes */
    assert_non_null(strstr(out, "       server stderr (last 10 of 31 lines):\n         | stderr line 22\n"));
    assert_null(strstr(out, "stderr line 21\n"));
    char want[300];
    snprintf(want, sizeof want, "         | tail %.*s [... 305 more bytes]\n", 195,
             "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
             "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    assert_non_null(strstr(out, want));
    assert_non_null(strstr(out, "listed in --xfail, but passed"));
    assert_non_null(strstr(out, "(INFO level: reported, does not fail the run)"));

    assert_non_null(strstr(out, "\n9 scenarios in 1.23 s: 2 passed, 2 failed, 1 INFO finding, 1 error, "
                                "1 skipped, 1 xfail, 1 xpass\nresult: ERROR (exit status 2)\n"));
    free(out);

    out = report(&run, VFU_COLOR_NEVER, true);
    size_t p1 = pos(out, "pass   VERSION.basic.ok\n");
    assert_true(p1 > pos(out, "skip   MIG.state.running"));
    pos(out, "pass   VERSION.caps.json\n");
    free(out);
}

static void stderr_lines_option_and_utf8_cut(void **state)
{
    (void)state;
    struct vfu_result r = {.id = "A", .verdict = VFU_FAIL, .kind = VFU_FK_EXIT};
    /* a line of 3-byte characters: the cut at 200 bytes falls inside one */
    char err[1024] = "one\ntwo\nthree\n";
    size_t k = strlen(err);
    for (int i = 0; i < 100; i++) { memcpy(err + k, "\xe2\x9c\x93", 3); k += 3; }
    err[k] = '\0';
    r.server_stderr = err;
    struct vfu_run run = {.results = &r, .n = 1, .seconds = 0.5};
    opts = (struct vfu_report_opts){.color = VFU_COLOR_NEVER, .stderr_lines = 2};
    char *out = fx_capture(human, &run, NULL);
    assert_true(fx_text_ok(out, strlen(out), 0, 0));
    assert_non_null(strstr(out, "server stderr (last 2 of 4 lines):\n         | three\n         | \xe2\x9c\x93"));
    /* 66 whole characters (198 bytes), then the rest counted */
    assert_non_null(strstr(out, "\xe2\x9c\x93 [... 102 more bytes]\n"));
    assert_null(strstr(out, "| two"));
    assert_non_null(strstr(out, "(no reason given) [exit]"));
    assert_non_null(strstr(out, "1 scenario in 0.50 s: 0 passed, 1 failed\nresult: FAIL (exit status 1)\n"));
    free(out);
}

static void colour(void **state)
{
    (void)state;
    struct vfu_run run;
    fx_run(&run);
    char *out = report(&run, VFU_COLOR_ALWAYS, false);
    assert_non_null(strstr(out, "\033[1;31mFAIL   \033[0m"));
    /* colour wraps our words, never a server's bytes raw */
    assert_null(strstr(out, "\033[31mred"));
    free(out);

    /* AUTO: a file is no terminal */
    unsetenv("NO_COLOR");
    FILE *f = tmpfile();
    assert_false(vfr_report_use_color(f, VFU_COLOR_AUTO));
    assert_true(vfr_report_use_color(f, VFU_COLOR_ALWAYS));
    fclose(f);

    /* AUTO on a real terminal: colour, unless NO_COLOR is set non-empty */
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0) { skip(); return; }
    assert_int_equal(grantpt(m), 0);
    assert_int_equal(unlockpt(m), 0);
    int s = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
    assert_true(s >= 0);
    FILE *tty = fdopen(s, "w");
    assert_true(vfr_report_use_color(tty, VFU_COLOR_AUTO));
    setenv("NO_COLOR", "", 1);
    assert_true(vfr_report_use_color(tty, VFU_COLOR_AUTO));
    setenv("NO_COLOR", "1", 1);
    assert_false(vfr_report_use_color(tty, VFU_COLOR_AUTO));
    assert_false(vfr_report_use_color(tty, VFU_COLOR_NEVER));
    unsetenv("NO_COLOR");
    fclose(tty);
    close(m);
}

static void exit_status_rules(void **state)
{
    (void)state;
    struct vfu_result r[4];
    struct vfu_run run = {.results = r};
    memset(r, 0, sizeof r);

    /* nothing ran */
    assert_int_equal(vfr_run_exit_status(&run), 2);
    r[0].verdict = VFU_SKIP;
    r[1].verdict = VFU_SKIP;
    run.n = 2;
    assert_int_equal(vfr_run_exit_status(&run), 2);
    /* one pass among skips */
    r[1].verdict = VFU_PASS;
    assert_int_equal(vfr_run_exit_status(&run), 0);
    /* XFAIL, XPASS and INFO failures do not fail a run */
    r[2] = (struct vfu_result){.verdict = VFU_XFAIL, .level = VFU_LEVEL_SHOULD};
    r[3] = (struct vfu_result){.verdict = VFU_FAIL, .level = VFU_LEVEL_INFO};
    run.n = 4;
    assert_int_equal(vfr_run_exit_status(&run), 0);
    r[2].verdict = VFU_XPASS;
    assert_int_equal(vfr_run_exit_status(&run), 0);
    /* MUST and SHOULD failures do */
    r[3].level = VFU_LEVEL_SHOULD;
    assert_int_equal(vfr_run_exit_status(&run), 1);
    r[3].level = VFU_LEVEL_MUST;
    assert_int_equal(vfr_run_exit_status(&run), 1);
    /* an error outranks them: the run is incomplete */
    r[0].verdict = VFU_ERROR;
    assert_int_equal(vfr_run_exit_status(&run), 2);

    vfr_run_tally(&run);
    assert_int_equal(run.counts[VFU_ERROR], 1);
    assert_int_equal(run.counts[VFU_PASS], 1);
    assert_int_equal(run.counts[VFU_XPASS], 1);
    assert_int_equal(run.counts[VFU_FAIL], 1);
    assert_int_equal(run.counts[VFU_SKIP], 0);

    assert_true(vfr_result_fails_run(&r[3]));
    assert_false(vfr_result_fails_run(&r[2]));
    assert_string_equal(vfr_verdict_name(VFU_XPASS), "XPASS");
    assert_string_equal(vfr_level_name(VFU_LEVEL_SHOULD), "SHOULD");
    assert_string_equal(vfr_failure_kind_name(VFU_FK_HANG), "hang");
    assert_string_equal(vfr_verdict_name((enum vfu_verdict)42), "?");

    char *buf = malloc(8);
    r[0].server_stderr = strcpy(buf, "x");
    r[0].trace_path = strdup("t.cbor");
    vfr_result_release(&r[0]);
    assert_null(r[0].server_stderr);
    assert_null(r[0].trace_path);
}

static void formats_and_write_errors(void **state)
{
    (void)state;
    static const char *const names[] = {"human", "tap", "junit", "json"};
    for (int i = 0; i < 4; i++) {
        enum vfu_report_format f;
        assert_true(vfr_report_format_parse(names[i], &f));
        assert_int_equal(f, i);
        assert_string_equal(vfr_report_format_name(f), names[i]);
    }
    enum vfu_report_format f = VFU_REPORT_JSON;
    assert_false(vfr_report_format_parse("JSON", &f));
    assert_false(vfr_report_format_parse("xml", &f));
    assert_false(vfr_report_format_parse("", &f));
    assert_false(vfr_report_format_parse(NULL, &f));
    assert_int_equal(f, VFU_REPORT_JSON);

    /* every format through the one entry point, to a stream that fails */
    struct vfu_run run;
    fx_run(&run);
    for (int i = 0; i < 4; i++) {
        FILE *full = fopen("/dev/full", "w");
        if (!full) { skip(); return; }
        setvbuf(full, NULL, _IONBF, 0);
        errno = 0;
        assert_int_equal(vfr_report_write((enum vfu_report_format)i, full, &run, NULL), -1);
        assert_int_not_equal(errno, 0);
        fclose(full);
    }
    /* and to one that works */
    for (int i = 0; i < 4; i++) {
        FILE *fine = tmpfile();
        assert_int_equal(vfr_report_write((enum vfu_report_format)i, fine, &run, NULL), 0);
        assert_true(ftell(fine) > 100);
        fclose(fine);
    }
    errno = 0;
    assert_int_equal(vfr_report_write((enum vfu_report_format)9, stdout, &run, NULL), -1);
    assert_int_equal(errno, EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(failures_first),
        cmocka_unit_test(stderr_lines_option_and_utf8_cut),
        cmocka_unit_test(colour),
        cmocka_unit_test(exit_status_rules),
        cmocka_unit_test(formats_and_write_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
