/* Reports of a conformance run (struct vfu_run, harness/result.h) in four
 * formats.  Every string in a result may hold anything a server or a
 * scenario produced (quotes, markup, control characters, ill-formed
 * UTF-8): each format gets it escaped by its own rules, and invalid UTF-8
 * becomes U+FFFD.
 *
 *   human  failures first (id, level, section, reason, file:line, trace,
 *          the tail of the server's stderr), then XFAIL and SKIP lines,
 *          passes with verbose; counts by verdict and the run time.
 *   tap    TAP version 13 (which TAP 14 consumers read too): plan first,
 *          one line per scenario in run order, a YAML block for every
 *          result that did not pass or skip.
 *            PASS   ok N - ID
 *            SKIP   ok N - ID # SKIP reason
 *            FAIL   not ok N - ID                    (MUST, SHOULD)
 *            FAIL   not ok N - ID # TODO INFO: reason (INFO never fails a run)
 *            XFAIL  not ok N - ID # TODO xfail: reason
 *            XPASS  ok N - ID # TODO xpass: ...      TAP's own "unexpectedly
 *                   succeeded" (prove shows "TODO passed"): flagged, not failing
 *            ERROR  not ok N - ID
 *   junit  one <testsuite>, a <testcase> per scenario (classname: the spec
 *          section, name: the id).  FAIL -> <failure>, but a crash or hang
 *          -> <error>; ERROR -> <error>; SKIP and XFAIL -> <skipped>;
 *          INFO failures and XPASS pass, with a note in <system-out>, so
 *          that consumers count failures as the exit status does.
 *          Characters XML 1.0 forbids (C0 controls but tab, newline and
 *          return; U+FFFE, U+FFFF) are written as the visible text \xNN
 *          (\uFFFE); line breaks and tabs in attributes as references.
 *   json   built with json-c: run metadata, counts, exit status, and
 *          every result with all its fields.
 *   html   one self-contained page (inline CSS and JS, nothing fetched):
 *          run metadata, counts, verdicts grouped by spec section with
 *          their levels, each failure with its reason, the server's stderr
 *          and its wire trace dissected field by field; with the extras
 *          below, the spec-coverage matrix and a code-coverage summary
 *          linking into a genhtml site.  Everything from a server, a trace
 *          or a scenario is HTML-escaped. */
#ifndef VFU_REPORT_H
#define VFU_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "result.h"

enum vfu_report_format { VFU_REPORT_HUMAN, VFU_REPORT_TAP, VFU_REPORT_JUNIT, VFU_REPORT_JSON, VFU_REPORT_HTML };

enum vfu_color { VFU_COLOR_AUTO, VFU_COLOR_ALWAYS, VFU_COLOR_NEVER };

struct vfu_speccov;

/* What the HTML report shows beside the verdicts; any may be NULL. */
struct vfu_html_extra {
    const struct vfu_speccov *speccov;   /* from the run's traces (lib/speccov.h) */
    const char *lcov_info;      /* lcov tracefile of the server under test */
    const char *lcov_suite_info;   /* the suite alone's, shown beside it */
    const char *lcov_prefix;    /* the --prefix genhtml was given (source root) */
    const char *genhtml_dir;    /* genhtml's output, as a link from the report */
    const char *coverage_note;  /* how the counters were taken, in words */
    const char *server_label;   /* the server as the user named it, when the
                                 * run's command wraps it (vfu-coverage) */
};

struct vfu_report_opts {
    enum vfu_color color;     /* human only; AUTO: out is a terminal and
                               * NO_COLOR is unset or empty (no-color.org) */
    bool verbose;             /* human: passes listed too */
    unsigned stderr_lines;    /* human: server stderr lines shown; 0: 10 */
    const struct vfu_html_extra *html;   /* html only */
};

/* "human", "tap", "junit", "json", "html" (exactly); false for anything else */
bool vfr_report_format_parse(const char *s, enum vfu_report_format *f);
const char *vfr_report_format_name(enum vfu_report_format f);

/* Writes the report; opts may be NULL.  0, or -1 when out failed (errno). */
int vfr_report_write(enum vfu_report_format f, FILE *out, const struct vfu_run *run,
                     const struct vfu_report_opts *opts);

int vfr_report_human(FILE *out, const struct vfu_run *run, const struct vfu_report_opts *opts);
int vfr_report_tap(FILE *out, const struct vfu_run *run);
int vfr_report_junit(FILE *out, const struct vfu_run *run);
int vfr_report_json(FILE *out, const struct vfu_run *run);
int vfr_report_html(FILE *out, const struct vfu_run *run, const struct vfu_html_extra *x);

/* Reads a JSON report back (for `vfu-conform report`): run's strings
 * live in *keep until vfr_report_json_release.  false with why filled
 * when the file is not a vfu-conform JSON report. */
bool vfr_report_json_read(const char *path, struct vfu_run *run, void **keep, char *why, size_t whyn);
void vfr_report_json_release(struct vfu_run *run, void *keep);

/* The spec coverage of every trace the run kept (sc initialized here;
 * vfu_speccov_free it).  A trace that cannot be read is named on stderr. */
bool vfr_report_speccov(const struct vfu_run *run, struct vfu_speccov *sc);
/* a report, or the spec coverage as JSON, into a file: 0, or -1 said on stderr */
int vfr_report_write_file(const char *path, enum vfu_report_format f, const struct vfu_run *run,
                          const struct vfu_report_opts *o);
int vfr_speccov_write_file(const char *path, const struct vfu_speccov *sc);
/* `vfu-conform report JSON --html FILE ...` (argv[1] is "report") */
int vfr_report_main(int argc, char **argv);

/* whether the human report would colour on out with this setting */
bool vfr_report_use_color(FILE *out, enum vfu_color c);

#endif
