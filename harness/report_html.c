/* The HTML report (report.h): one page that opens from disk with nothing
 * fetched.  What a person reads first is the summary (counts by verdict,
 * the exit status), then what failed, then every verdict grouped by the
 * spec section it checks.  A failure carries its reason, the rule it rests
 * on, the server's stderr and its wire trace (read back with lib/trace.h,
 * each message dissected field by field by lib/dissect.h).
 *
 * The little script only filters rows and marks the page ready
 * (body data-ready="1"); an error in it is shown in #script-errors, so
 * that a browser check sees both. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vfu_dissect.h"
#include "report.h"
#include "report_html_int.h"
#include "report_text.h"
#include "trace.h"

/* a trace with more events is shown up to here, and says so */
#define TRACE_EVENTS_SHOWN 200
#define STDERR_LINES_SHOWN 200

void vfr_html_text(FILE *out, const char *s) { vfr_each_str(out, s, vfr_put_html); }
void vfr_html_textn(FILE *out, const char *s, size_t n) { vfr_each(out, s, n, vfr_put_html); }

static const char css[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}"
    "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.5em;border-bottom:1px solid #ccc}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;vertical-align:top;text-align:left}"
    "th{background:#f3f3f3}pre{background:#f7f7f7;padding:6px;overflow-x:auto;white-space:pre-wrap;margin:.3em 0}"
    ".PASS{color:#176f2c}.FAIL{color:#b00020;font-weight:bold}.ERROR{color:#8a00a0;font-weight:bold}"
    ".SKIP,.XFAIL{color:#777}.XPASS{color:#a66a00;font-weight:bold}.INFO{color:#00688b}"
    ".counts span{display:inline-block;margin-right:1.2em}.counts b{font-size:1.3em}"
    "tr.hidden,table.hidden{display:none}.gap{background:#fdd}.hit{background:#dfd}.out{background:#ffe3b3}"
    ".none{color:#999}details{margin:.2em 0}summary{cursor:pointer}"
    ".status-0{color:#176f2c}.status-1{color:#b00020}.status-2{color:#8a00a0}"
    "#script-errors{color:#b00020}";

static const char js[] =
    "window.addEventListener('error',function(e){var d=document.getElementById('script-errors');"
    "if(d)d.textContent+=String(e.message)+'\\n';});"
    "document.addEventListener('DOMContentLoaded',function(){"
    "var cb=document.getElementById('show-passes');"
    "function f(){var on=cb&&cb.checked;document.querySelectorAll('tr.verdict-PASS,tr.verdict-SKIP').forEach("
    "function(r){r.classList.toggle('hidden',!on);});"
    /* a section's table with no row left shown is hidden too; its heading stays with the counts */
    "document.querySelectorAll('table.verdicts').forEach(function(t){"
    "t.classList.toggle('hidden',!t.querySelector('tr.result:not(.hidden)'));});}"
    "if(cb)cb.addEventListener('change',f);f();"
    "var n=document.querySelectorAll('tr.result').length;"
    "var rs=document.getElementById('rows-shown');if(rs)rs.textContent=String(n);"
    "document.querySelectorAll('a.to-trace').forEach(function(a){a.addEventListener('click',function(){"
    "var d=document.getElementById(a.getAttribute('href').slice(1));if(d)d.open=true;});});"
    "if(location.hash){var t=document.getElementById(location.hash.slice(1));if(t&&t.tagName==='DETAILS')t.open=true;}"
    "document.body.setAttribute('data-ready','1');});";

static bool needs_attention(const struct vfu_result *r)
{
    return r->verdict == VFU_FAIL || r->verdict == VFU_ERROR || r->verdict == VFU_XPASS || r->verdict == VFU_XFAIL;
}

static int attention_group(const struct vfu_result *r)
{
    switch (r->verdict) {
    case VFU_FAIL: return r->level == VFU_LEVEL_INFO ? 3 : 0;
    case VFU_ERROR: return 1;
    case VFU_XPASS: return 2;
    default: return 4;
    }
}

/* one message of a trace: its one-line summary, then every field */
static void trace_event(FILE *out, const struct vfu_trace_event *e, size_t i, uint64_t prev)
{
    fprintf(out, "<details class=\"msg\"><summary>#%zu %+.6f s %s%s: ", i, (double)(e->t_ns - prev) / 1e9,
            e->dir == VFU_TRACE_TX ? "sent" : "received", e->chan == VFU_TRACE_TWIN ? " (twin socket)" : "");
    struct vfu_dissect_opts o = {.nfds = e->nfds, .receiver = e->dir == VFU_TRACE_TX ? VFU_ROLE_SERVER : VFU_ROLE_CLIENT,
                                 .full = true};
    if (e->len) {
        char s[512];
        vfu_summarize(e->bytes, e->len, &o, s, sizeof s, NULL);
        vfr_html_text(out, s);
    } else
        fputs("(no bytes)", out);
    for (unsigned k = 0; k < e->nfds; k++) {
        fprintf(out, "%s%s", k ? " " : " fds: ", vfu_fd_kind_name(e->fds[k].kind));
        if (e->fds[k].kind == VFU_FDK_MEMFD || e->fds[k].kind == VFU_FDK_FILE)
            fprintf(out, "(%llu)", (unsigned long long)e->fds[k].size);
    }
    if (e->has_err) {
        char es[256];
        vfu_error_str(&e->err, es, sizeof es);
        fprintf(out, " <b>failed after %zu bytes: ", e->len);
        vfr_html_text(out, es);
        fputs("</b>", out);
    }
    fputs("</summary><pre>", out);
    if (e->len) {
        char *buf = NULL;
        size_t n = 0;
        FILE *m = open_memstream(&buf, &n);
        if (m) {
            vfu_dissect(m, e->bytes, e->len, &o, NULL);
            fclose(m);
            vfr_html_textn(out, buf, n);
        }
        free(buf);
    }
    fputs("</pre></details>\n", out);
}

static void trace_section(FILE *out, const char *path)
{
    struct vfu_trace t;
    char why[256];
    fputs("<div class=\"trace\"><b>wire trace</b> <code>", out);
    vfr_html_text(out, path);
    fputs("</code>", out);
    if (!vfu_trace_load(path, &t, why, sizeof why)) {
        fputs(": <b>cannot be read: ", out);
        vfr_html_text(out, why);
        fputs("</b></div>\n", out);
        return;
    }
    fprintf(out, " (%zu message%s%s)\n", t.n, t.n == 1 ? "" : "s", t.truncated ? ", truncated by the recorder" : "");
    uint64_t prev = 0;
    for (size_t i = 0; i < t.n && i < TRACE_EVENTS_SHOWN; i++) {
        trace_event(out, &t.ev[i], i, prev);
        prev = t.ev[i].t_ns;
    }
    if (t.n > TRACE_EVENTS_SHOWN)
        fprintf(out, "<p>%zu more messages not shown: <code>vfu-conform replay</code> prints them all.</p>\n",
                t.n - TRACE_EVENTS_SHOWN);
    fputs("</div>\n", out);
    vfu_trace_release(&t);
}

static void stderr_section(FILE *out, const char *s)
{
    struct vfr_tail t;
    vfr_tail(s, STDERR_LINES_SHOWN, &t);
    if (!t.len) return;
    fputs("<div><b>server stderr</b>", out);
    if (t.shown < t.total) fprintf(out, " (last %u of %u lines)", t.shown, t.total);
    fputs("<pre class=\"stderr\">", out);
    vfr_html_textn(out, t.start, t.len);
    fputs("</pre></div>\n", out);
}

/* the details of one result that needs attention: id "r<index>" */
static void failure(FILE *out, const struct vfu_result *r, size_t i)
{
    const char *v = vfr_verdict_name(r->verdict);
    fprintf(out, "<details class=\"failure\" id=\"r%zu\"><summary><span class=\"%s\">%s</span> <b>", i, v, v);
    vfr_html_text(out, vfr_str(r->id, "(no id)"));
    fprintf(out, "</b> %s ", vfr_level_name(r->level));
    vfr_html_text(out, vfr_str(r->section, ""));
    fputs("</summary>\n<table>", out);
    if (r->title) { fputs("<tr><th>title</th><td>", out); vfr_html_text(out, r->title); fputs("</td></tr>", out); }
    if (r->rule) { fputs("<tr><th>rule</th><td>", out); vfr_html_text(out, r->rule); fputs("</td></tr>", out); }
    fputs("<tr><th>reason</th><td class=\"reason\">", out);
    if (r->verdict == VFU_XPASS) fputs("listed in --xfail, but passed: the list is out of date", out);
    else vfr_html_text(out, r->reason[0] ? r->reason : "(no reason given)");
    if (r->kind != VFU_FK_NONE) fprintf(out, " [%s]", vfr_failure_kind_name(r->kind));
    fputs("</td></tr>", out);
    if (r->level == VFU_LEVEL_INFO && r->verdict == VFU_FAIL)
        fputs("<tr><th>level</th><td>INFO: reported, does not fail the run</td></tr>", out);
    if (r->file) {
        fputs("<tr><th>scenario</th><td>", out);
        vfr_html_text(out, r->file);
        if (r->line > 0) fprintf(out, ":%d", r->line);
        fputs("</td></tr>", out);
    }
    fputs("</table>\n", out);
    if (r->server_stderr) stderr_section(out, r->server_stderr);
    if (r->trace_path) trace_section(out, r->trace_path);
    else fputs("<p class=\"none\">no wire trace kept (run with --trace-dir, or --html, to keep one)</p>\n", out);
    fputs("</details>\n", out);
}

static int cmp_section(const void *a, const void *b)
{
    const struct vfu_result *x = *(const struct vfu_result *const *)a, *y = *(const struct vfu_result *const *)b;
    int c = strcmp(vfr_str(x->section, ""), vfr_str(y->section, ""));
    if (c) return c;
    if (x->scenario_level != y->scenario_level) return (int)x->scenario_level - (int)y->scenario_level;
    return x < y ? -1 : x > y;
}

/* every verdict, one table per spec section, MUST before SHOULD before INFO */
static void by_section(FILE *out, const struct vfu_run *run)
{
    const struct vfu_result **v = malloc((run->n ? run->n : 1) * sizeof *v);
    if (!v) return;
    for (size_t i = 0; i < run->n; i++) v[i] = &run->results[i];
    qsort(v, run->n, sizeof *v, cmp_section);
    fputs("<h2 id=\"by-section\">Verdicts by spec section</h2>\n"
          "<p><label><input type=\"checkbox\" id=\"show-passes\"> show passes and skips</label> "
          "(<span id=\"rows-shown\"></span> results)</p>\n",
          out);
    for (size_t i = 0; i < run->n;) {
        const char *sec = vfr_str(v[i]->section, "");
        size_t j = i;
        unsigned c[VFU_ERROR + 1] = {0};
        while (j < run->n && !strcmp(vfr_str(v[j]->section, ""), sec)) c[v[j++]->verdict]++;
        fputs("<h3 class=\"section\">", out);
        vfr_html_text(out, *sec ? sec : "(no section)");
        fprintf(out, " <small>%zu: %u pass, %u fail", j - i, c[VFU_PASS], c[VFU_FAIL]);
        if (c[VFU_SKIP]) fprintf(out, ", %u skip", c[VFU_SKIP]);
        if (c[VFU_ERROR]) fprintf(out, ", %u error", c[VFU_ERROR]);
        fputs("</small></h3>\n<table class=\"verdicts\"><tr><th>level</th><th>scenario</th><th>verdict</th><th>reason</th><th>s</th></tr>\n", out);
        for (; i < j; i++) {
            const struct vfu_result *r = v[i];
            size_t idx = (size_t)(r - run->results);
            const char *vn = vfr_verdict_name(r->verdict);
            fprintf(out, "<tr class=\"result verdict-%s\"><td class=\"%s\">%s</td><td>", vn,
                    vfr_level_name(r->level), vfr_level_name(r->level));
            vfr_html_text(out, vfr_str(r->id, "(no id)"));
            if (r->title) { fputs("<br><small>", out); vfr_html_text(out, r->title); fputs("</small>", out); }
            fprintf(out, "</td><td class=\"%s\">", vn);
            if (needs_attention(r)) fprintf(out, "<a class=\"to-trace\" href=\"#r%zu\">%s</a>", idx, vn);
            else fputs(vn, out);
            fputs("</td><td>", out);
            if (r->verdict != VFU_PASS) vfr_html_text(out, r->reason);
            fprintf(out, "</td><td>%.3f</td></tr>\n", vfr_secs(r->seconds));
        }
        fputs("</table>\n", out);
    }
    free(v);
}

static void meta_row(FILE *out, const char *k, const char *v)
{
    fprintf(out, "<tr><th>%s</th><td>", k);
    vfr_html_text(out, v);
    fputs("</td></tr>\n", out);
}

int vfr_report_html(FILE *out, const struct vfu_run *run, const struct vfu_html_extra *x)
{
    unsigned c[VFU_ERROR + 1], info = 0, failing = 0;
    vfr_run_count(run, c);
    for (size_t i = 0; i < run->n; i++) {
        info += run->results[i].verdict == VFU_FAIL && run->results[i].level == VFU_LEVEL_INFO;
        failing += vfr_result_fails_run(&run->results[i]);
    }
    int st = vfr_run_exit_status(run);
    static const char *const verdict[] = {"PASS", "FAIL", "ERROR"};
    fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                 "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                 "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n<title>");
    fprintf(out, "vfu-conform report: %s: ", verdict[st]);
    vfr_html_text(out, vfr_str(run->server, ""));
    fprintf(out, "</title>\n<style>%s</style>\n<script>%s</script>\n</head><body>\n", css, js);
    fputs("<pre id=\"script-errors\"></pre>\n", out);
    fprintf(out, "<h1>vfu-conform report: <span id=\"result\" class=\"status-%d\">%s</span> (exit status %d)</h1>\n",
            st, verdict[st], st);

    fprintf(out, "<p class=\"counts\" id=\"counts\"><span>total <b id=\"count-total\">%zu</b></span>"
                 "<span class=\"PASS\">pass <b id=\"count-pass\">%u</b></span>"
                 "<span class=\"FAIL\">fail <b id=\"count-fail\">%u</b></span>"
                 "<span class=\"SKIP\">skip <b id=\"count-skip\">%u</b></span>"
                 "<span class=\"XFAIL\">xfail <b id=\"count-xfail\">%u</b></span>"
                 "<span class=\"XPASS\">xpass <b id=\"count-xpass\">%u</b></span>"
                 "<span class=\"ERROR\">error <b id=\"count-error\">%u</b></span>"
                 "<span class=\"INFO\">INFO findings <b id=\"count-info\">%u</b></span>"
                 "<span>failing the run <b id=\"count-failing\">%u</b></span></p>\n",
            run->n, c[VFU_PASS], c[VFU_FAIL], c[VFU_SKIP], c[VFU_XFAIL], c[VFU_XPASS], c[VFU_ERROR], info, failing);

    fputs("<h2 id=\"run\">Run</h2>\n<table>\n", out);
    meta_row(out, "tool", vfr_str(run->tool_version, "vfu-conform"));
    if (x && x->server_label) {
        meta_row(out, "server", x->server_label);
        meta_row(out, "run as", vfr_str(run->server, "(unknown)"));
    } else
        meta_row(out, "server", vfr_str(run->server, "(unknown)"));
    char ts[32];
    vfr_timestamp(run->started, true, ts, sizeof ts);
    meta_row(out, "started", ts[0] ? ts : "(unknown)");
    char d[32];
    snprintf(d, sizeof d, "%.2f s", vfr_secs(run->seconds));
    meta_row(out, "duration", d);
    meta_row(out, "capabilities negotiated", run->caps[0] ? run->caps : "(not known: the probe's VERSION failed)");
    if (run->stop != VFU_RUN_COMPLETE) {
        fprintf(out, "<tr><th>run stopped</th><td class=\"ERROR\">%s: ", vfr_run_stop_name(run->stop));
        vfr_html_text(out, run->stop_reason);
        fputs("</td></tr>\n", out);
    }
    if (run->fd_checks_off[0]) meta_row(out, "server fd checks off", run->fd_checks_off);
    fputs("</table>\n", out);
    fputs("<p>Sections: <a href=\"#attention\">needs attention</a> | <a href=\"#by-section\">verdicts by spec section</a>"
          " | <a href=\"#spec-coverage\">spec coverage</a> | <a href=\"#code-coverage\">code coverage</a></p>\n", out);

    fputs("<h2 id=\"attention\">Needs attention</h2>\n", out);
    /* in the human report's order: what fails the run, errors, stale
     * --xfail entries, INFO findings, expected failures */
    size_t shown = 0;
    for (int g = 0; g < 5; g++)
        for (size_t i = 0; i < run->n; i++) {
            const struct vfu_result *r = &run->results[i];
            if (!needs_attention(r) || attention_group(r) != g) continue;
            failure(out, r, i);
            shown++;
        }
    if (!shown) fputs("<p>Nothing: no failure, error or stale expected failure.</p>\n", out);

    by_section(out, run);
    vfr_html_speccov(out, x ? x->speccov : NULL);
    vfr_html_codecov(out, x);
    fputs("</body></html>\n", out);
    return vfr_finish(out);
}
