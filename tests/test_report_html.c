/* The HTML report: everything a server or a scenario wrote arrives
 * escaped (no markup of theirs opens an element, no control character
 * reaches the page raw), the counts shown are the run's, every result
 * that needs attention has an entry its verdict links to, a trace that
 * cannot be read says so, and the page needs nothing from the network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "report.h"
#include "report_fixture.h"
#include "speccov.h"

static int html_write(FILE *f, const struct vfu_run *run) { return vfr_report_html(f, run, NULL); }

static void nasty_strings_escaped(void **state)
{
    (void)state;
    struct vfu_run run;
    fx_run(&run);
    size_t len;
    char *html = fx_capture(html_write, &run, &len);
    assert_non_null(html);
    assert_true(fx_text_ok(html, len, 1, 1));
    /* their markup is text */
    assert_null(strstr(html, "<tag"));
    assert_non_null(strstr(html, "&lt;tag attr=&quot;x&quot;&gt;"));
    assert_null(strstr(html, "ODD<id>"));
    assert_non_null(strstr(html, "ODD&lt;id&gt;&amp;&quot;#1\\"));
    assert_non_null(strstr(html, "&amp;amp;"));
    /* the escape sequence is visible, not sent */
    assert_null(strchr(html, '\033'));
    assert_non_null(strstr(html, "esc\\x1b[31mred"));
    assert_null(strstr(html, "<no such file>"));
    free(html);
}

static void counts_and_links(void **state)
{
    (void)state;
    struct vfu_run run;
    fx_run(&run);
    char *html = fx_capture(html_write, &run, NULL);
    assert_non_null(html);
    char want[64];
    snprintf(want, sizeof want, "id=\"count-total\">%d<", FX_N);
    assert_non_null(strstr(html, want));
    snprintf(want, sizeof want, "id=\"count-fail\">%u<", run.counts[VFU_FAIL]);
    assert_non_null(strstr(html, want));
    snprintf(want, sizeof want, "id=\"count-pass\">%u<", run.counts[VFU_PASS]);
    assert_non_null(strstr(html, want));
    /* FAIL, XFAIL, XPASS, ERROR: an entry each, linked from the verdict */
    for (size_t i = 0; i < FX_N; i++) {
        enum vfu_verdict v = fx_results[i].verdict;
        bool attention = v == VFU_FAIL || v == VFU_XFAIL || v == VFU_XPASS || v == VFU_ERROR;
        snprintf(want, sizeof want, "<details class=\"failure\" id=\"r%zu\">", i);
        assert_int_equal(strstr(html, want) != NULL, attention);
        snprintf(want, sizeof want, "href=\"#r%zu\"", i);
        assert_int_equal(strstr(html, want) != NULL, attention);
    }
    /* the fixture's traces do not exist: said, not crashed */
    assert_non_null(strstr(html, "cannot be read"));
    /* the server's stderr is shown, escaped */
    assert_non_null(strstr(html, "<pre class=\"stderr\">starting\n"));
    /* no fetch of anything: no src= or external link */
    assert_null(strstr(html, "src="));
    assert_null(strstr(html, "http://"));
    assert_null(strstr(html, "https://"));
    free(html);
}

/* the spec-coverage matrix follows the messages it is given */
static void speccov_counts_messages(void **state)
{
    (void)state;
    struct vfu_speccov sc;
    assert_true(vfu_speccov_init(&sc));
    struct vfu_sc_dir *d = vfu_speccov_dir(&sc, VFU_CMD_DMA_UNMAP, false);
    assert_non_null(d);
    assert_int_equal(d->msgs, 0);
    /* a DMA_UNMAP request by the codec, with an address at a boundary */
    uint8_t buf[256];
    struct vfu_enc e;
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DMA_UNMAP, false, 7);
    vfu_enc_set(&e, VFU_F_DMA_UNMAP_ADDRESS, UINT64_MAX);
    vfu_enc_set(&e, VFU_F_DMA_UNMAP_SIZE, 0x1000);
    assert_true(vfu_enc_finish(&e, NULL));
    vfu_speccov_add_msg(&sc, buf, e.len, true, NULL, 0, "S.one");
    assert_int_equal(d->msgs, 1);
    assert_int_equal(d->cls[VFU_F_DMA_UNMAP_ADDRESS], VFU_SC_BOUNDARY);
    assert_int_equal(d->cls[VFU_F_DMA_UNMAP_SIZE], VFU_SC_TYPICAL);
    assert_true(d->reach[VFU_F_DMA_UNMAP_ADDRESS]);
    assert_int_equal(d->nscn, 1);
    assert_string_equal(d->scenarios[0], "S.one");
    /* an error reply: its errno */
    vfu_enc_error(&e, buf, sizeof buf, VFU_CMD_DMA_UNMAP, 7, 22);
    assert_true(vfu_enc_finish(&e, NULL));
    vfu_speccov_add_msg(&sc, buf, e.len, false, NULL, 0, "S.one");
    struct vfu_sc_dir *r = vfu_speccov_dir(&sc, VFU_CMD_DMA_UNMAP, true);
    assert_int_equal(r->errors, 1);
    assert_true(r->errnos[0] >> 22 & 1);
    char *json = vfu_speccov_json(&sc);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"commands_never_seen\""));
    free(json);
    vfu_speccov_free(&sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nasty_strings_escaped),
        cmocka_unit_test(counts_and_links),
        cmocka_unit_test(speccov_counts_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
