/* Shared by the two halves of the HTML report: the page with its verdicts
 * and traces (report_html.c), and its coverage sections
 * (report_html_cov.c). */
#ifndef VFU_REPORT_HTML_INT_H
#define VFU_REPORT_HTML_INT_H

#include <stdio.h>

#include "report.h"

/* s HTML-escaped (text or a "..." attribute); NULL writes nothing */
void vfr_html_text(FILE *out, const char *s);
void vfr_html_textn(FILE *out, const char *s, size_t n);

/* the spec-coverage matrix section (id "spec-coverage") */
void vfr_html_speccov(FILE *out, const struct vfu_speccov *sc);
/* the code-coverage section (id "code-coverage"): totals and file by file
 * from an lcov tracefile, linked into genhtml's pages */
void vfr_html_codecov(FILE *out, const struct vfu_html_extra *x);

#endif
