/* The report for people: what needs attention first (failures that fail
 * the run, errors, stale --xfail entries, INFO findings), one line each for
 * expected failures and skips, then the counts and the time.  Everything a
 * server or a scenario wrote goes through vfr_put_term, so no escape
 * sequence of theirs reaches the terminal. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "report_text.h"

#define STDERR_LINE_MAX 200   /* bytes of one stderr line shown */
#define INDENT "       "

struct hr {
    FILE *out;
    bool color;
    const struct vfu_report_opts *o;
    const char *who;   /* whose stderr: "server", or "client" for --client runs */
};

enum paint { P_FAIL, P_ERROR, P_WARN, P_INFO, P_DIM, P_PASS, P_BOLD };
static const char *const paints[] = {
    [P_FAIL] = "\033[1;31m", [P_ERROR] = "\033[1;35m", [P_WARN] = "\033[1;33m",
    [P_INFO] = "\033[36m", [P_DIM] = "\033[2m", [P_PASS] = "\033[32m", [P_BOLD] = "\033[1m",
};

static void on(struct hr *h, enum paint p) { if (h->color) fputs(paints[p], h->out); }
static void off(struct hr *h) { if (h->color) fputs("\033[0m", h->out); }
static void text(struct hr *h, const char *s) { vfr_each_str(h->out, s, vfr_put_term); }

bool vfr_report_use_color(FILE *out, enum vfu_color c)
{
    if (c != VFU_COLOR_AUTO) return c == VFU_COLOR_ALWAYS;
    const char *nc = getenv("NO_COLOR");
    if (nc && *nc) return false;
    return isatty(fileno(out)) == 1;
}

/* the groups, in the order they are shown */
enum group { G_FAIL, G_ERROR, G_XPASS, G_INFO, G_XFAIL, G_SKIP, G_PASS, G_N };

static enum group group_of(const struct vfu_result *r)
{
    switch (r->verdict) {
    case VFU_FAIL: return r->level == VFU_LEVEL_INFO ? G_INFO : G_FAIL;
    case VFU_XPASS: return G_XPASS;
    case VFU_XFAIL: return G_XFAIL;
    case VFU_SKIP: return G_SKIP;
    case VFU_PASS: return G_PASS;
    default: return G_ERROR;
    }
}

static const struct {
    const char *tag;
    enum paint paint;
} groups[G_N] = {
    [G_FAIL] = {"FAIL", P_FAIL}, [G_ERROR] = {"ERROR", P_ERROR}, [G_XPASS] = {"XPASS", P_WARN},
    [G_INFO] = {"info", P_INFO}, [G_XFAIL] = {"xfail", P_DIM}, [G_SKIP] = {"skip", P_DIM},
    [G_PASS] = {"pass", P_PASS},
};

static void stderr_tail(struct hr *h, const char *s, const char *who)
{
    struct vfr_tail t;
    unsigned want = h->o && h->o->stderr_lines ? h->o->stderr_lines : 10;
    vfr_tail(s, want, &t);
    if (!t.shown || (t.total == 1 && t.len == 0)) return;
    if (t.shown < t.total) fprintf(h->out, INDENT "%s stderr (last %u of %u lines):\n", who, t.shown, t.total);
    else fprintf(h->out, INDENT "%s stderr:\n", who);
    const char *p = t.start, *end = t.start + t.len;
    while (p <= end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        size_t show = len;
        if (show > STDERR_LINE_MAX) {
            show = STDERR_LINE_MAX;
            /* back to the start of a UTF-8 sequence */
            while (show > 0 && ((unsigned char)p[show] & 0xc0) == 0x80) show--;
        }
        fputs(INDENT "  | ", h->out);
        on(h, P_DIM);
        vfr_each(h->out, p, show, vfr_put_term);
        off(h);
        if (show < len) fprintf(h->out, " [... %zu more bytes]", len - show);
        fputc('\n', h->out);
        if (!nl) break;
        p = nl + 1;
    }
}

/* the full entry of a result that needs attention */
static void entry(struct hr *h, const struct vfu_result *r, enum group g)
{
    on(h, groups[g].paint);
    fprintf(h->out, "%-6s ", groups[g].tag);
    off(h);
    on(h, P_BOLD);
    text(h, vfr_str(r->id, "(no id)"));
    off(h);
    fprintf(h->out, "  %s  ", vfr_level_name(r->level));
    text(h, vfr_str(r->section, "(no section)"));
    fputc('\n', h->out);
    if (r->title && *r->title) {
        fputs(INDENT, h->out);
        text(h, r->title);
        fputc('\n', h->out);
    }
    /* what the verdict rests on, so its level can be weighed */
    if (r->rule && *r->rule && g != G_XPASS) {
        fputs(INDENT "rule: ", h->out);
        text(h, r->rule);
        fputc('\n', h->out);
    }
    fputs(INDENT, h->out);
    if (g == G_XPASS) fputs("listed in --xfail, but passed: the list is out of date", h->out);
    else text(h, r->reason[0] ? r->reason : "(no reason given)");
    if (r->kind != VFU_FK_NONE && g != G_XPASS) fprintf(h->out, " [%s]", vfr_failure_kind_name(r->kind));
    fputc('\n', h->out);
    if (g == G_INFO) fputs(INDENT "(INFO level: reported, does not fail the run)\n", h->out);
    /* the location once: most reasons name it already ("step 4 (f.scn:31)") */
    char loc[PATH_MAX + 16] = "";
    if (r->file && r->line > 0) snprintf(loc, sizeof loc, "%s:%d", r->file, r->line);
    else if (r->file) snprintf(loc, sizeof loc, "%s", r->file);
    if (r->file && !strstr(r->reason, loc)) {
        fputs(INDENT "at ", h->out);
        text(h, r->file);
        if (r->line > 0) fprintf(h->out, ":%d", r->line);
        fputc('\n', h->out);
    }
    if (r->trace_path) {
        fputs(INDENT "trace: ", h->out);
        text(h, r->trace_path);
        fputc('\n', h->out);
    }
    if (r->server_stderr) stderr_tail(h, r->server_stderr, h->who);
}

/* one line for the results that need no attention */
static void brief(struct hr *h, const struct vfu_result *r, enum group g)
{
    on(h, groups[g].paint);
    fprintf(h->out, "%-6s ", groups[g].tag);
    off(h);
    text(h, vfr_str(r->id, "(no id)"));
    if (g != G_PASS && r->reason[0]) {
        fputs(": ", h->out);
        text(h, r->reason);
    }
    fputc('\n', h->out);
}

static void count(struct hr *h, bool *first, unsigned n, const char *what, enum paint p)
{
    fputs(*first ? ": " : ", ", h->out);
    *first = false;
    if (n) on(h, p);
    fprintf(h->out, "%u %s", n, what);
    if (n) off(h);
}

int vfr_report_human(FILE *out, const struct vfu_run *run, const struct vfu_report_opts *o)
{
    struct hr h = {out, vfr_report_use_color(out, o ? o->color : VFU_COLOR_AUTO), o,
                   run->judged_client ? "client" : "server"};
    if (run->tool_version || run->server) {
        text(&h, vfr_str(run->tool_version, "vfu-conform"));
        if (run->server) {
            fputs(": ", out);
            text(&h, run->server);
        }
        fputs("\n\n", out);
    }
    if (run->stop != VFU_RUN_COMPLETE) {
        on(&h, P_ERROR);
        fprintf(out, "run stopped (%s): ", vfr_run_stop_name(run->stop));
        off(&h);
        text(&h, run->stop_reason);
        fputs("\n\n", out);
    }
    if (run->fd_checks_off[0]) {
        fputs("server fd checks off: ", out);
        text(&h, run->fd_checks_off);
        fputs("\n\n", out);
    }
    unsigned in[G_N] = {0};
    for (size_t i = 0; i < run->n; i++) in[group_of(&run->results[i])]++;
    for (int g = 0; g < G_N; g++) {
        if (g == G_PASS && !(o && o->verbose)) break;
        for (size_t i = 0; i < run->n; i++) {
            const struct vfu_result *r = &run->results[i];
            if (group_of(r) != (enum group)g) continue;
            if (g <= G_INFO) entry(&h, r, g);
            else brief(&h, r, g);
        }
    }
    if (run->n && (in[G_FAIL] || in[G_ERROR] || in[G_XPASS] || in[G_INFO] || in[G_XFAIL] ||
                   in[G_SKIP] || (o && o->verbose)))
        fputc('\n', out);

    unsigned c[VFU_ERROR + 1];
    vfr_run_count(run, c);
    fprintf(out, "%zu scenario%s in %.2f s", run->n, run->n == 1 ? "" : "s", vfr_secs(run->seconds));
    bool first = true;
    count(&h, &first, c[VFU_PASS], "passed", P_PASS);
    if (in[G_FAIL]) count(&h, &first, in[G_FAIL], "failed", P_FAIL);
    if (in[G_INFO]) count(&h, &first, in[G_INFO], in[G_INFO] == 1 ? "INFO finding" : "INFO findings", P_INFO);
    if (c[VFU_ERROR]) count(&h, &first, c[VFU_ERROR], c[VFU_ERROR] == 1 ? "error" : "errors", P_ERROR);
    if (c[VFU_SKIP]) count(&h, &first, c[VFU_SKIP], "skipped", P_DIM);
    if (c[VFU_XFAIL]) count(&h, &first, c[VFU_XFAIL], "xfail", P_DIM);
    if (c[VFU_XPASS]) count(&h, &first, c[VFU_XPASS], "xpass", P_WARN);
    fputc('\n', out);

    int st = vfr_run_exit_status(run);
    static const char *const verdict[] = {"PASS", "FAIL", "ERROR"};
    static const enum paint vp[] = {P_PASS, P_FAIL, P_ERROR};
    fputs("result: ", out);
    on(&h, vp[st]);
    fputs(verdict[st], out);
    off(&h);
    if (st == 2 && !c[VFU_ERROR]) fputs(": no scenario ran", out);
    fprintf(out, " (exit status %d)\n", st);
    return vfr_finish(out);
}
