/* The JSON reporter, parsed back with json-c: counts and exit status as the
 * results say, and every field of every result present with its value
 * (strings as the result held them, ill-formed UTF-8 replaced). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_fixture.h"

static struct json_object *get(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v)) fail_msg("no key \"%s\"", key);
    return v;
}

static int64_t num(struct json_object *o, const char *key)
{
    struct json_object *v = get(o, key);
    assert_true(json_object_is_type(v, json_type_int));
    return json_object_get_int64(v);
}

static const char *str(struct json_object *o, const char *key)
{
    struct json_object *v = get(o, key);
    if (!v) return NULL;
    assert_true(json_object_is_type(v, json_type_string));
    return json_object_get_string(v);
}

static void check_str(struct json_object *o, const char *key, const char *want)
{
    const char *got = str(o, key);
    if (!want) assert_null(got);
    else {
        assert_non_null(got);
        assert_string_equal(got, want);
    }
}

static struct json_object *parse(const struct vfu_run *run)
{
    size_t len = 0;
    char *txt = fx_capture(vfr_report_json, run, &len);
    assert_non_null(txt);
    /* JSON text is UTF-8; C0 controls only as escapes (DEL and C1 may
     * stand as they are) */
    assert_true(fx_text_ok(txt, len, 0, 1));
    enum json_tokener_error e;
    struct json_tokener *tok = json_tokener_new();
    struct json_object *root = json_tokener_parse_ex(tok, txt, (int)len);
    e = json_tokener_get_error(tok);
    if (!root) fail_msg("does not parse: %s", json_tokener_error_desc(e));
    /* one value and its closing newline: all of it read */
    assert_int_equal(json_tokener_get_parse_end(tok), len);
    assert_int_equal(txt[len - 1], '\n');
    json_tokener_free(tok);
    free(txt);
    return root;
}

static void every_field_round_trips(void **state)
{
    (void)state;
    struct vfu_run run;
    fx_run(&run);
    struct json_object *root = parse(&run);
    check_str(root, "format", "vfu-conform-report");
    assert_int_equal(num(root, "version"), 1);
    check_str(root, "tool", "vfu-conform 0.1");
    check_str(root, "server", "./mydevice --socket-path={socket} \"quoted\"");
    check_str(root, "started", "2024-05-01T12:00:00Z");
    assert_true(fabs(json_object_get_double(get(root, "seconds")) - 1.2345) < 0.001);
    assert_int_equal(num(root, "exit_status"), 2);

    struct json_object *c = get(root, "counts");
    assert_int_equal(num(c, "total"), 9);
    assert_int_equal(num(c, "pass"), 2);
    assert_int_equal(num(c, "fail"), 3);
    assert_int_equal(num(c, "skip"), 1);
    assert_int_equal(num(c, "xfail"), 1);
    assert_int_equal(num(c, "xpass"), 1);
    assert_int_equal(num(c, "error"), 1);
    assert_int_equal(num(c, "info_findings"), 1);
    assert_int_equal(num(c, "failing"), 2);

    struct json_object *rs = get(root, "results");
    assert_true(json_object_is_type(rs, json_type_array));
    assert_int_equal(json_object_array_length(rs), FX_N);
    for (int i = 0; i < FX_N; i++) {
        const struct vfu_result *r = &fx_results[i];
        struct json_object *o = json_object_array_get_idx(rs, (size_t)i);
        assert_int_equal(json_object_object_length(o), 14);
        check_str(o, "id", r->id);
        check_str(o, "section", i == 5 ? NASTY_CLEAN : r->section);
        check_str(o, "title", r->title == NULL ? NULL : i == 1 ? NASTY_CLEAN : r->title);
        check_str(o, "rule", r->rule);
        check_str(o, "file", r->file);
        assert_int_equal(num(o, "line"), r->line);
        check_str(o, "level", vfr_level_name(r->level));
        check_str(o, "verdict", vfr_verdict_name(r->verdict));
        check_str(o, "kind", r->kind == VFU_FK_NONE ? NULL : vfr_failure_kind_name(r->kind));
        check_str(o, "reason", i == 1 ? NASTY_CLEAN : r->reason);
        check_str(o, "trace", r->trace_path);
        check_str(o, "server_stderr", i == 1 ? "starting\n" NASTY_CLEAN "\nlast line\n" : r->server_stderr);
        assert_true(fabs(json_object_get_double(get(o, "seconds")) - r->seconds) < 0.001);
        assert_int_equal(json_object_get_boolean(get(o, "fails_run")), vfr_result_fails_run(r));
    }
    json_object_put(root);
}

static void odd_values(void **state)
{
    (void)state;
    /* no results, no metadata, a time that is not a number: still valid JSON */
    struct vfu_run run = {0};
    run.seconds = NAN;
    struct json_object *root = parse(&run);
    assert_null(get(root, "tool"));
    assert_null(get(root, "started"));
    assert_true(json_object_get_double(get(root, "seconds")) == 0);
    assert_int_equal(num(root, "exit_status"), 2);
    assert_int_equal(json_object_array_length(get(root, "results")), 0);
    json_object_put(root);

    /* a line of 0 is null; a time of +inf is 0 */
    struct vfu_result r = {.id = "x", .verdict = VFU_PASS, .seconds = INFINITY};
    run = (struct vfu_run){.results = &r, .n = 1, .seconds = -3};
    root = parse(&run);
    struct json_object *o = json_object_array_get_idx(get(root, "results"), 0);
    assert_null(get(o, "line"));
    assert_true(json_object_get_double(get(o, "seconds")) == 0);
    assert_int_equal(num(root, "exit_status"), 0);
    json_object_put(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_field_round_trips),
        cmocka_unit_test(odd_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
