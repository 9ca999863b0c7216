/* The four reporters on a run with every verdict and hostile strings: each
 * output is checked by the rules of its format, and all agree on counts
 * and on the exit status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdlib.h>

#include "report.h"
#include "report_fixture.h"

static int human(FILE *f, const struct vfu_run *r)
{
    struct vfu_report_opts o = {.color = VFU_COLOR_NEVER};
    return vfu_report_human(f, r, &o);
}

static void exit_status(void **state)
{
    (void)state;
    struct vfu_run run;
    fx_run(&run);
    /* ERROR present: could not run */
    assert_int_equal(vfu_run_exit_status(&run), 2);
    fx_results[5].verdict = VFU_PASS;
    vfu_run_tally(&run);
    assert_int_equal(vfu_run_exit_status(&run), 1);   /* MUST failures */
    fx_results[1].verdict = VFU_PASS;
    fx_results[7].verdict = VFU_PASS;
    /* left: an INFO failure, an XFAIL, an XPASS, a SKIP: none fails the run */
    assert_int_equal(vfu_run_exit_status(&run), 0);
    assert_false(vfu_result_fails_run(&fx_results[6]));
    run.n = 0;
    assert_int_equal(vfu_run_exit_status(&run), 2);   /* nothing ran */
}

static void formats_parse(void **state)
{
    (void)state;
    enum vfu_report_format f;
    assert_true(vfu_report_format_parse("junit", &f));
    assert_int_equal(f, VFU_REPORT_JUNIT);
    assert_false(vfu_report_format_parse("xml", &f));
    assert_false(vfu_report_format_parse(NULL, &f));
    assert_string_equal(vfu_report_format_name(VFU_REPORT_TAP), "tap");
}

static void tap(void **state)
{
    (void)state;
    struct vfu_run run;
    fx_run(&run);
    char *out = fx_capture(vfu_report_tap, &run, NULL);
    assert_non_null(out);
    assert_non_null(strstr(out, "TAP version 13\n1..9\n"));
    /* exactly one test line per result, numbered in order */
    unsigned lines = 0;
    for (char *p = out; (p = strstr(p, "\n")); p++) {
        if (!strncmp(p + 1, "ok ", 3) || !strncmp(p + 1, "not ok ", 7)) lines++;
    }
    assert_int_equal(lines, FX_N);
    assert_non_null(strstr(out, "not ok 2 - DMA_MAP.overlap.EEXIST\n"));
    assert_non_null(strstr(out, "ok 3 - MIG.state.running # SKIP "));
    assert_non_null(strstr(out, "not ok 4 - IRQ.mask.unmask # TODO xfail"));
    assert_non_null(strstr(out, "ok 5 - REGION.read.zero # TODO xpass"));
    /* no raw line break escapes a description: every line starts as TAP or YAML */
    for (char *p = out; *p; p = strchr(p, '\n') + 1) {
        assert_true(!strncmp(p, "TAP", 3) || !strncmp(p, "1..", 3) || !strncmp(p, "ok", 2) ||
                    !strncmp(p, "not ok", 6) || !strncmp(p, "  ", 2) || !strncmp(p, "#", 1));
        if (!strchr(p, '\n')) break;
    }
    free(out);
}

static void junit(void **state)
{
    (void)state;
    struct vfu_run run;
    fx_run(&run);
    char *out = fx_capture(vfu_report_junit, &run, NULL);
    assert_non_null(out);
    assert_non_null(strstr(out, "<?xml"));
    unsigned open = 0, close = 0;
    for (char *p = out; (p = strstr(p, "<testcase ")); p++) open++;
    for (char *p = out; (p = strstr(p, "</testcase>")); p++) close++;
    unsigned selfclosed = 0;
    for (char *p = out; (p = strstr(p, "<testcase ")); p++) {
        char *end = strchr(p, '>');
        if (end && end[-1] == '/') selfclosed++;
    }
    assert_int_equal(open, FX_N);
    assert_int_equal(close + selfclosed, FX_N);
    /* the nasty markup only ever appears escaped */
    assert_null(strstr(out, "<tag"));
    assert_non_null(strstr(out, "&lt;tag"));
    /* no character XML 1.0 forbids */
    for (unsigned char *p = (unsigned char *)out; *p; p++)
        assert_false(*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r');
    assert_non_null(strstr(out, "<failure"));
    assert_non_null(strstr(out, "<error"));
    assert_non_null(strstr(out, "<skipped"));
    free(out);
}

static void json(void **state)
{
    (void)state;
    struct vfu_run run;
    fx_run(&run);
    char *out = fx_capture(vfu_report_json, &run, NULL);
    assert_non_null(out);
    struct json_object *root = json_tokener_parse(out);
    assert_non_null(root);
    struct json_object *v, *res;
    assert_true(json_object_object_get_ex(root, "exit_status", &v));
    assert_int_equal(json_object_get_int(v), vfu_run_exit_status(&run));
    assert_true(json_object_object_get_ex(root, "results", &res));
    assert_int_equal(json_object_array_length(res), FX_N);
    struct json_object *r1 = json_object_array_get_idx(res, 1), *reason;
    assert_true(json_object_object_get_ex(r1, "reason", &reason));
    assert_string_equal(json_object_get_string(reason), NASTY_CLEAN);
    json_object_put(root);
    free(out);
}

static void human_report(void **state)
{
    (void)state;
    struct vfu_run run;
    fx_run(&run);
    char *out = fx_capture(human, &run, NULL);
    assert_non_null(out);
    /* failures come before the passes, and the run time is printed */
    char *fail = strstr(out, "DMA_MAP.overlap.EEXIST");
    assert_non_null(fail);
    assert_non_null(strstr(out, "1.23"));
    assert_non_null(strstr(out, "SIGSEGV"));
    assert_non_null(strstr(out, "stderr line 30"));
    assert_null(strstr(out, "\033["));   /* colour off: no escape from us or the peer */
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exit_status), cmocka_unit_test(formats_parse), cmocka_unit_test(tap),
        cmocka_unit_test(junit),       cmocka_unit_test(json),          cmocka_unit_test(human_report),
    };
    return cmocka_run_group_tests_name("reporters", tests, NULL, NULL);
}
