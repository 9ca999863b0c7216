/* `vfu-conform report JSON --html FILE ...`: an earlier run's JSON report
 * rendered again as HTML, with what only exists after the run: the code
 * coverage of the server (lcov tracefile, genhtml site), taken once the
 * server had stopped and flushed its counters (reports/vfu-coverage).
 * Also the spec coverage of a run's kept traces, shared with the run
 * itself. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "speccov.h"

bool vfr_report_speccov(const struct vfu_run *run, struct vfu_speccov *sc)
{
    if (!vfu_speccov_init(sc)) return false;
    for (size_t i = 0; i < run->n; i++) {
        const char *p = run->results[i].trace_path;
        char why[256];
        if (p && !vfu_speccov_add_file(sc, p, why, sizeof why))
            fprintf(stderr, "vfu-conform: spec coverage: %s\n", why);
    }
    return true;
}

int vfr_report_write_file(const char *path, enum vfu_report_format f, const struct vfu_run *run,
                          const struct vfu_report_opts *o)
{
    FILE *out = fopen(path, "we");
    if (!out) {
        fprintf(stderr, "vfu-conform: %s: %s\n", path, strerror(errno));
        return -1;
    }
    int w = vfr_report_write(f, out, run, o);
    if (fclose(out) != 0) w = -1;
    if (w < 0) fprintf(stderr, "vfu-conform: writing %s: %s\n", path, strerror(errno));
    return w;
}

int vfr_speccov_write_file(const char *path, const struct vfu_speccov *sc)
{
    char *txt = vfu_speccov_json(sc);
    FILE *out = txt ? fopen(path, "we") : NULL;
    int rc = out && fputs(txt, out) >= 0 && fputc('\n', out) != EOF ? 0 : -1;
    if (out && fclose(out) != 0) rc = -1;
    if (rc) fprintf(stderr, "vfu-conform: writing %s: %s\n", path, txt ? strerror(errno) : "out of memory");
    free(txt);
    return rc;
}

static const char usage[] =
    "usage: vfu-conform report JSON --html FILE [--speccov FILE] [--lcov INFO\n"
    "                          [--lcov-prefix DIR] [--genhtml DIR] [--coverage-note TEXT]]\n"
    "                          [--lcov-suite INFO] [--server-label CMD]\n"
    "\n"
    "Renders a JSON report of an earlier run (--format json) as one HTML page,\n"
    "with the spec coverage of its kept traces and, given an lcov tracefile, the\n"
    "code coverage of the server (reports/vfu-coverage does all of it).\n"
    "\n"
    "  --html FILE           the page to write\n"
    "  --speccov FILE        also the spec coverage as JSON\n"
    "  --lcov INFO           lcov tracefile of the server under test\n"
    "  --lcov-suite INFO     the suite alone's tracefile, shown beside --lcov's\n"
    "  --lcov-prefix DIR     the source root genhtml was given with --prefix\n"
    "  --genhtml DIR         genhtml's output directory, as a link from FILE\n"
    "  --coverage-note TEXT  how the counters were taken, shown beside them\n"
    "  --server-label CMD    the server as it is named to the reader, when the\n"
    "                        run's command wrapped it (the run's is shown too)\n"
    "  -h, --help            this text\n"
    "\n"
    "exit status: 0 written; 2 bad command line, unreadable report, write error\n";

int vfr_report_main(int argc, char **argv)
{
    enum { O_HTML = 256, O_SPECCOV, O_LCOV, O_PREFIX, O_GENHTML, O_NOTE, O_LABEL, O_LSUITE };
    static const struct option lo[] = {
        {"html", required_argument, NULL, O_HTML},       {"speccov", required_argument, NULL, O_SPECCOV},
        {"lcov", required_argument, NULL, O_LCOV},       {"lcov-prefix", required_argument, NULL, O_PREFIX},
        {"genhtml", required_argument, NULL, O_GENHTML}, {"coverage-note", required_argument, NULL, O_NOTE},
        {"server-label", required_argument, NULL, O_LABEL}, {"lcov-suite", required_argument, NULL, O_LSUITE},
        {"help", no_argument, NULL, 'h'},                {NULL, 0, NULL, 0},
    };
    const char *html = NULL, *speccov = NULL;
    struct vfu_html_extra x = {0};
    /* from argv[1] ("report"), options and the JSON in any order */
    argc--;
    argv++;
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, ":h", lo, NULL)) != -1;) {
        switch (c) {
        case O_HTML: html = optarg; break;
        case O_SPECCOV: speccov = optarg; break;
        case O_LCOV: x.lcov_info = optarg; break;
        case O_PREFIX: x.lcov_prefix = optarg; break;
        case O_GENHTML: x.genhtml_dir = optarg; break;
        case O_NOTE: x.coverage_note = optarg; break;
        case O_LABEL: x.server_label = optarg; break;
        case O_LSUITE: x.lcov_suite_info = optarg; break;
        case 'h': fputs(usage, stdout); return 0;
        case ':': fprintf(stderr, "vfu-conform report: %s needs a value (try --help)\n", argv[optind - 1]); return 2;
        default: fprintf(stderr, "vfu-conform report: unknown option %s (try --help)\n", argv[optind - 1]); return 2;
        }
    }
    if (optind != argc - 1 || (!html && !speccov)) {
        fprintf(stderr, "vfu-conform report: give one JSON report and --html FILE or --speccov FILE (try --help)\n");
        return 2;
    }
    struct vfu_run run;
    void *keep;
    char why[512];
    if (!vfr_report_json_read(argv[optind], &run, &keep, why, sizeof why)) {
        fprintf(stderr, "vfu-conform report: %s\n", why);
        return 2;
    }
    struct vfu_speccov sc;
    int rc = 2;
    if (vfr_report_speccov(&run, &sc)) {
        x.speccov = &sc;
        struct vfu_report_opts o = {.html = &x};
        rc = 0;
        if (html && vfr_report_write_file(html, VFU_REPORT_HTML, &run, &o) < 0) rc = 2;
        if (speccov && vfr_speccov_write_file(speccov, &sc) < 0) rc = 2;
        vfu_speccov_free(&sc);
    } else
        fprintf(stderr, "vfu-conform report: out of memory\n");
    vfr_report_json_release(&run, keep);
    return rc;
}
