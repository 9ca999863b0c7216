/* Format names and the one entry point the CLI calls. */
#include <errno.h>
#include <string.h>

#include "report.h"

static const char *const names[] = {
    [VFU_REPORT_HUMAN] = "human", [VFU_REPORT_TAP] = "tap",
    [VFU_REPORT_JUNIT] = "junit", [VFU_REPORT_JSON] = "json",
    [VFU_REPORT_HTML] = "html",
};

bool vfr_report_format_parse(const char *s, enum vfu_report_format *f)
{
    for (unsigned i = 0; s && i < sizeof names / sizeof *names; i++)
        if (strcmp(s, names[i]) == 0) {
            *f = (enum vfu_report_format)i;
            return true;
        }
    return false;
}

const char *vfr_report_format_name(enum vfu_report_format f)
{
    return (unsigned)f < sizeof names / sizeof *names ? names[f] : "?";
}

int vfr_report_write(enum vfu_report_format f, FILE *out, const struct vfu_run *run,
                     const struct vfu_report_opts *opts)
{
    switch (f) {
    case VFU_REPORT_HUMAN: return vfr_report_human(out, run, opts);
    case VFU_REPORT_TAP: return vfr_report_tap(out, run);
    case VFU_REPORT_JUNIT: return vfr_report_junit(out, run);
    case VFU_REPORT_JSON: return vfr_report_json(out, run);
    case VFU_REPORT_HTML: return vfr_report_html(out, run, opts ? opts->html : NULL);
    }
    errno = EINVAL;
    return -1;
}
