/* JUnit XML, in the shape CI systems read (one <testsuite>; how verdicts
 * map to elements is in report.h).  The suite's failures/errors/skipped
 * attributes count the elements written, so they always agree. */
#include <string.h>

#include "report.h"
#include "report_text.h"

enum element { E_NONE, E_FAILURE, E_ERROR, E_SKIPPED };

static enum element element_of(const struct vfu_result *r)
{
    switch (r->verdict) {
    case VFU_FAIL:
        if (r->level == VFU_LEVEL_INFO) return E_NONE;
        return r->kind == VFU_FK_CRASH || r->kind == VFU_FK_HANG ? E_ERROR : E_FAILURE;
    case VFU_ERROR: return E_ERROR;
    case VFU_SKIP:
    case VFU_XFAIL: return E_SKIPPED;
    default: return E_NONE;
    }
}

static void attr(FILE *out, const char *name, const char *v)
{
    fprintf(out, " %s=\"", name);
    vfr_each_str(out, v, vfr_put_xml_attr);
    fputc('"', out);
}

static void xtext(FILE *out, const char *s) { vfr_each_str(out, s, vfr_put_xml_text); }

/* the body of a <failure> or <error>: everything a person needs to find it */
static void details(FILE *out, const struct vfu_result *r)
{
    fputc('\n', out);
    xtext(out, r->reason);
    fprintf(out, "\nlevel: %s\n", vfr_level_name(r->level));
    if (r->kind != VFU_FK_NONE) fprintf(out, "kind: %s\n", vfr_failure_kind_name(r->kind));
    if (r->section) { fputs("section: ", out); xtext(out, r->section); fputc('\n', out); }
    if (r->title) { fputs("title: ", out); xtext(out, r->title); fputc('\n', out); }
    if (r->file) {
        fputs("at: ", out);
        xtext(out, r->file);
        if (r->line > 0) fprintf(out, ":%d", r->line);
        fputc('\n', out);
    }
    if (r->trace_path) { fputs("trace: ", out); xtext(out, r->trace_path); fputc('\n', out); }
}

static void testcase(FILE *out, const struct vfu_result *r)
{
    fputs("  <testcase", out);
    attr(out, "classname", vfr_str(r->section, "vfio-user"));
    attr(out, "name", vfr_str(r->id, "(no id)"));
    fprintf(out, " time=\"%.3f\"", vfr_secs(r->seconds));
    if (r->file) attr(out, "file", r->file);
    if (r->file && r->line > 0) fprintf(out, " line=\"%d\"", r->line);
    fputs(">\n", out);

    const char *why = r->reason[0] ? r->reason : "(no reason given)";
    switch (element_of(r)) {
    case E_FAILURE:
    case E_ERROR: {
        const char *el = element_of(r) == E_FAILURE ? "failure" : "error";
        fprintf(out, "    <%s", el);
        attr(out, "message", why);
        attr(out, "type", r->verdict == VFU_ERROR ? "error" : vfr_failure_kind_name(r->kind));
        fputc('>', out);
        details(out, r);
        fprintf(out, "</%s>\n", el);
        break;
    }
    case E_SKIPPED:
        fputs("    <skipped", out);
        if (r->verdict == VFU_XFAIL) {
            fputs(" message=\"expected failure (--xfail): ", out);
            vfr_each_str(out, why, vfr_put_xml_attr);
            fputs("\"", out);
        } else
            attr(out, "message", why);
        fputs("/>\n", out);
        break;
    case E_NONE:
        if (r->verdict == VFU_XPASS)
            fputs("    <system-out>XPASS: listed in --xfail, but passed: the list is out of date</system-out>\n", out);
        else if (r->verdict == VFU_FAIL) {
            fputs("    <system-out>INFO-level finding (does not fail the run): ", out);
            details(out, r);
            fputs("</system-out>\n", out);
        }
        break;
    }
    if (r->server_stderr) {
        fputs("    <system-err>", out);
        xtext(out, r->server_stderr);
        fputs("</system-err>\n", out);
    }
    fputs("  </testcase>\n", out);
}

int vfr_report_junit(FILE *out, const struct vfu_run *run)
{
    unsigned n[E_SKIPPED + 1] = {0};
    for (size_t i = 0; i < run->n; i++) n[element_of(&run->results[i])]++;
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"vfu-conform\"", out);
    fprintf(out, " tests=\"%zu\" failures=\"%u\" errors=\"%u\" skipped=\"%u\" time=\"%.3f\"", run->n,
            n[E_FAILURE], n[E_ERROR], n[E_SKIPPED], vfr_secs(run->seconds));
    char ts[32];
    vfr_timestamp(run->started, false, ts, sizeof ts);
    if (ts[0]) fprintf(out, " timestamp=\"%s\"", ts);
    fputs(">\n", out);
    if (run->server || run->tool_version || run->stop != VFU_RUN_COMPLETE || run->fd_checks_off[0]) {
        fputs("  <properties>\n", out);
        if (run->stop != VFU_RUN_COMPLETE) {
            fputs("    <property name=\"stopped\"", out);
            attr(out, "value", vfr_run_stop_name(run->stop));
            fputs("/>\n    <property name=\"stop_reason\"", out);
            attr(out, "value", run->stop_reason);
            fputs("/>\n", out);
        }
        if (run->fd_checks_off[0]) {
            fputs("    <property name=\"fd_checks_off\"", out);
            attr(out, "value", run->fd_checks_off);
            fputs("/>\n", out);
        }
        if (run->server) {
            fputs("    <property name=\"server\"", out);
            attr(out, "value", run->server);
            fputs("/>\n", out);
        }
        if (run->tool_version) {
            fputs("    <property name=\"tool\"", out);
            attr(out, "value", run->tool_version);
            fputs("/>\n", out);
        }
        fputs("  </properties>\n", out);
    }
    for (size_t i = 0; i < run->n; i++) testcase(out, &run->results[i]);
    fputs("</testsuite>\n", out);
    return vfr_finish(out);
}
