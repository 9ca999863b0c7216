/* TAP version 13 (see report.h for how verdicts map to TAP).  Descriptions
 * and directive reasons stay on their line ('#' and '\' escaped, line
 * breaks as spaces); the YAML blocks quote every string in double quotes,
 * where any character can be escaped. */
#include <string.h>

#include "report.h"
#include "report_text.h"

#define TAP_STDERR_LINES 40

static void yaml_str(FILE *out, const char *key, const char *s, size_t n)
{
    fprintf(out, "  %s: \"", key);
    vfr_each(out, s, n, vfr_put_yaml_dq);
    fputs("\"\n", out);
}

static void yaml_s(FILE *out, const char *key, const char *s)
{
    if (s) yaml_str(out, key, s, strlen(s));
}

static void yaml_block(FILE *out, const struct vfu_result *r)
{
    static const char *const severity[] = {
        [VFU_PASS] = "pass", [VFU_FAIL] = "fail", [VFU_SKIP] = "skip",
        [VFU_XFAIL] = "todo", [VFU_XPASS] = "todo", [VFU_ERROR] = "error",
    };
    fputs("  ---\n", out);
    if (r->verdict == VFU_XPASS)
        yaml_s(out, "message", "listed in --xfail, but passed: the list is out of date");
    else
        yaml_s(out, "message", r->reason[0] ? r->reason : "(no reason given)");
    unsigned v = r->verdict <= VFU_ERROR ? r->verdict : VFU_ERROR;
    fprintf(out, "  severity: %s\n", r->verdict == VFU_FAIL && r->level == VFU_LEVEL_INFO ? "info" : severity[v]);
    fprintf(out, "  verdict: %s\n", vfr_verdict_name(r->verdict));
    fprintf(out, "  level: %s\n", vfr_level_name(r->level));
    if (r->kind != VFU_FK_NONE) fprintf(out, "  kind: %s\n", vfr_failure_kind_name(r->kind));
    yaml_s(out, "section", r->section);
    yaml_s(out, "title", r->title);
    yaml_s(out, "file", r->file);
    if (r->line > 0) fprintf(out, "  line: %d\n", r->line);
    fprintf(out, "  seconds: %.3f\n", vfr_secs(r->seconds));
    yaml_s(out, "trace", r->trace_path);
    if (r->server_stderr) {
        struct vfr_tail t;
        vfr_tail(r->server_stderr, TAP_STDERR_LINES, &t);
        yaml_str(out, "stderr", t.start, t.len);
        if (t.shown < t.total) fprintf(out, "  stderr_lines: \"last %u of %u\"\n", t.shown, t.total);
    }
    fputs("  ...\n", out);
}

static void reason(FILE *out, const char *s) { vfr_each_str(out, s, vfr_put_tap_line); }

int vfr_report_tap(FILE *out, const struct vfu_run *run)
{
    fputs("TAP version 13\n", out);
    if (run->n == 0) fputs("1..0 # SKIP no scenarios\n", out);
    else fprintf(out, "1..%zu\n", run->n);
    for (size_t i = 0; i < run->n; i++) {
        const struct vfu_result *r = &run->results[i];
        bool info = r->verdict == VFU_FAIL && r->level == VFU_LEVEL_INFO;
        bool ok = r->verdict == VFU_PASS || r->verdict == VFU_SKIP || r->verdict == VFU_XPASS;
        fprintf(out, "%s %zu - ", ok ? "ok" : "not ok", i + 1);
        reason(out, vfr_str(r->id, "(no id)"));
        switch (r->verdict) {
        case VFU_SKIP: fputs(" # SKIP ", out); reason(out, r->reason); break;
        case VFU_XFAIL: fputs(" # TODO xfail: ", out); reason(out, r->reason); break;
        case VFU_XPASS: fputs(" # TODO xpass: listed in --xfail, but passed", out); break;
        case VFU_FAIL:
            if (info) { fputs(" # TODO INFO: ", out); reason(out, r->reason); }
            break;
        default: break;
        }
        fputc('\n', out);
        if (r->verdict != VFU_PASS && r->verdict != VFU_SKIP) yaml_block(out, r);
    }
    if (run->stop != VFU_RUN_COMPLETE) {
        fprintf(out, "# run stopped (%s): ", vfr_run_stop_name(run->stop));
        reason(out, run->stop_reason);
        fputc('\n', out);
    }
    if (run->fd_checks_off[0]) {
        fputs("# server fd checks off: ", out);
        reason(out, run->fd_checks_off);
        fputc('\n', out);
    }
    unsigned c[VFU_ERROR + 1];
    vfr_run_count(run, c);
    fprintf(out, "# %zu scenario%s in %.2f s: %u passed, %u failed, %u skipped, %u xfail, %u xpass, "
            "%u errors; exit status %d\n", run->n, run->n == 1 ? "" : "s", vfr_secs(run->seconds),
            c[VFU_PASS], c[VFU_FAIL], c[VFU_SKIP], c[VFU_XFAIL], c[VFU_XPASS], c[VFU_ERROR],
            vfr_run_exit_status(run));
    return vfr_finish(out);
}
