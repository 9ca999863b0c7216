/* The TAP reporter: a plan that matches the test lines, one numbered line
 * per scenario with the directive its verdict maps to, '#' and '\' in
 * descriptions escaped, and YAML blocks whose double-quoted strings decode
 * back to exactly what the result held. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_fixture.h"

/* lines of a NUL-terminated text, in place */
static size_t split(char *s, char **lines, size_t max)
{
    size_t n = 0;
    while (*s && n < max) {
        lines[n++] = s;
        char *nl = strchr(s, '\n');
        if (!nl) break;
        *nl = '\0';
        s = nl + 1;
    }
    return n;
}

static int hex(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* decodes a YAML double-quoted scalar (the escapes the reporter may use);
 * returns a malloc'd string, or NULL when it is not well formed */
static char *yaml_dq(const char *s)
{
    if (*s++ != '"') return NULL;
    char *out = malloc(strlen(s) * 4 + 1), *o = out;
    while (*s && *s != '"') {
        if ((unsigned char)*s < 0x20) { free(out); return NULL; }   /* raw control char */
        if (*s != '\\') { *o++ = *s++; continue; }
        s++;
        unsigned digits = 0;
        switch (*s++) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'x': digits = 2; break;
        case 'u': digits = 4; break;
        default: free(out); return NULL;
        }
        if (digits) {
            uint32_t cp = 0;
            for (unsigned i = 0; i < digits; i++) {
                int h = hex(*s++);
                if (h < 0) { free(out); return NULL; }
                cp = cp << 4 | (uint32_t)h;
            }
            o += fx_put_utf8(o, cp);
        }
    }
    if (*s != '"' || s[1]) { free(out); return NULL; }
    *o = '\0';
    return out;
}

/* the value of "  key: ..." inside the YAML block that follows line i */
static const char *yaml_get(char **lines, size_t n, size_t i, const char *key)
{
    if (i + 1 >= n || strcmp(lines[i + 1], "  ---") != 0) return NULL;
    size_t kl = strlen(key);
    for (size_t j = i + 2; j < n && strcmp(lines[j], "  ...") != 0; j++)
        if (strncmp(lines[j] + 2, key, kl) == 0 && lines[j][2 + kl] == ':') return lines[j] + 2 + kl + 2;
    return NULL;
}

/* '#' not preceded by an escaping backslash */
static unsigned bare_hashes(const char *s)
{
    unsigned n = 0;
    for (; *s; s++) {
        if (*s == '\\' && s[1]) { s++; continue; }
        n += *s == '#';
    }
    return n;
}

static void plan_lines_and_directives(void **state)
{
    (void)state;
    struct vfu_run run;
    fx_run(&run);
    size_t len = 0;
    char *out = fx_capture(vfr_report_tap, &run, &len);
    assert_non_null(out);
    assert_true(fx_text_ok(out, len, 0, 0));
    char *lines[512] = {0};
    size_t n = split(out, lines, 512);
    assert_true(n > 2);
    assert_string_equal(lines[0], "TAP version 13");
    assert_string_equal(lines[1], "1..9");

    size_t at[FX_N], tests = 0;
    for (size_t i = 2; i < n; i++) {
        const char *l = lines[i];
        if (l[0] == '#') continue;
        if (strncmp(l, "  ", 2) == 0) {
            /* only inside a YAML block */
            assert_true(tests > 0);
            continue;
        }
        int ok = strncmp(l, "ok ", 3) == 0;
        assert_true(ok || strncmp(l, "not ok ", 7) == 0);
        char *end;
        unsigned long num = strtoul(l + (ok ? 3 : 7), &end, 10);
        assert_int_equal(num, tests + 1);
        assert_memory_equal(end, " - ", 3);
        /* at most the directive's own '#' */
        assert_true(bare_hashes(end) <= 1);
        assert_true(tests < FX_N);
        at[tests++] = i;
    }
    assert_int_equal(tests, FX_N);

    /* verdict by verdict */
    assert_string_equal(lines[at[0]], "ok 1 - VERSION.basic.ok");
    assert_string_equal(lines[at[1]], "not ok 2 - DMA_MAP.overlap.EEXIST");
    assert_string_equal(lines[at[2]], "ok 3 - MIG.state.running # SKIP server lacks migration \\# not offered");
    assert_string_equal(lines[at[3]], "not ok 4 - IRQ.mask.unmask # TODO xfail: step 2: expected ok, got error EINVAL");
    assert_string_equal(lines[at[4]], "ok 5 - REGION.read.zero # TODO xpass: listed in --xfail, but passed");
    assert_string_equal(lines[at[5]], "not ok 6 - ODD<id>&\"\\#1\\\\");
    assert_string_equal(lines[at[6]], "not ok 7 - DMA_UNMAP.unknown.info # TODO INFO: step 1 (harness/scenarios/dma.scn:16): expected error ENOENT, got EINVAL");
    assert_string_equal(lines[at[7]], "not ok 8 - REGION.write.big");
    assert_string_equal(lines[at[8]], "ok 9 - VERSION.caps.json");

    /* YAML blocks for what did not pass or skip, and only for those */
    for (size_t i = 0; i < FX_N; i++) {
        bool want = fx_results[i].verdict != VFU_PASS && fx_results[i].verdict != VFU_SKIP;
        assert_int_equal(yaml_get(lines, n, at[i], "verdict") != NULL, want);
    }
    char *msg = yaml_dq(yaml_get(lines, n, at[1], "message"));
    assert_non_null(msg);
    assert_string_equal(msg, NASTY_CLEAN);
    free(msg);
    char *title = yaml_dq(yaml_get(lines, n, at[1], "title"));
    assert_string_equal(title, NASTY_CLEAN);
    free(title);
    char *err = yaml_dq(yaml_get(lines, n, at[1], "stderr"));
    assert_string_equal(err, "starting\n" NASTY_CLEAN "\nlast line");
    free(err);
    assert_string_equal(yaml_get(lines, n, at[1], "level"), "MUST");
    assert_string_equal(yaml_get(lines, n, at[1], "kind"), "mismatch");
    assert_string_equal(yaml_get(lines, n, at[1], "line"), "11");
    assert_string_equal(yaml_get(lines, n, at[1], "severity"), "fail");
    char *file = yaml_dq(yaml_get(lines, n, at[1], "file"));
    assert_string_equal(file, "harness/scenarios/dma.scn");
    free(file);
    char *trace = yaml_dq(yaml_get(lines, n, at[1], "trace"));
    assert_string_equal(trace, "traces/DMA_MAP.overlap.EEXIST.cbor");
    free(trace);
    char *section = yaml_dq(yaml_get(lines, n, at[5], "section"));
    assert_string_equal(section, NASTY_CLEAN);
    free(section);
    assert_string_equal(yaml_get(lines, n, at[5], "severity"), "error");
    assert_string_equal(yaml_get(lines, n, at[6], "severity"), "info");
    assert_string_equal(yaml_get(lines, n, at[7], "kind"), "crash");
    /* the long stderr: 31 lines fit the TAP tail whole */
    char *long_err = yaml_dq(yaml_get(lines, n, at[7], "stderr"));
    assert_non_null(long_err);
    assert_memory_equal(long_err, "stderr line 1\n", 14);
    free(long_err);
    assert_null(yaml_get(lines, n, at[7], "stderr_lines"));
    free(out);
}

static void empty_run_plans_nothing(void **state)
{
    (void)state;
    struct vfu_run run = {0};
    char *out = fx_capture(vfr_report_tap, &run, NULL);
    assert_non_null(out);
    assert_non_null(strstr(out, "TAP version 13\n1..0 # SKIP no scenarios\n"));
    assert_null(strstr(out, "ok "));
    assert_non_null(strstr(out, "exit status 2"));
    free(out);
}

static void long_stderr_is_a_tail(void **state)
{
    (void)state;
    struct vfu_run run;
    fx_run(&run);
    char big[8192];
    size_t k = 0;
    for (int i = 1; i <= 100; i++) k += (size_t)snprintf(big + k, sizeof big - k, "l%d\n", i);
    fx_results[7].server_stderr = big;
    char *out = fx_capture(vfr_report_tap, &run, NULL);
    char *lines[512] = {0};
    size_t n = split(out, lines, 512);
    size_t i = 0;
    while (i < n && strncmp(lines[i], "not ok 8 ", 9) != 0) i++;
    char *err = yaml_dq(yaml_get(lines, n, i, "stderr"));
    assert_non_null(err);
    assert_memory_equal(err, "l61\n", 4);
    assert_non_null(strstr(err, "\nl100"));
    assert_null(strstr(err, "l60\n"));
    assert_string_equal(yaml_get(lines, n, i, "stderr_lines"), "\"last 40 of 100\"");
    free(err);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plan_lines_and_directives),
        cmocka_unit_test(empty_run_plans_nothing),
        cmocka_unit_test(long_stderr_is_a_tail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
