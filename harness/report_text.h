/* Text handling shared by the reporters: strings taken apart scalar by
 * scalar (ill-formed UTF-8 arrives as U+FFFD), each format escaping them by
 * its own rules; tails of long output; times. */
#ifndef VFU_REPORT_TEXT_H
#define VFU_REPORT_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* one scalar: its value and the well-formed bytes that encode it */
typedef void (*rp_put_fn)(FILE *out, uint32_t cp, const char *bytes, size_t n);

void vfr_each(FILE *out, const char *s, size_t n, rp_put_fn fn);
/* NUL-terminated; NULL writes nothing */
void vfr_each_str(FILE *out, const char *s, rp_put_fn fn);

/* escapers */
void vfr_put_term(FILE *out, uint32_t cp, const char *b, size_t n);       /* control chars visible */
void vfr_put_tap_line(FILE *out, uint32_t cp, const char *b, size_t n);   /* one line, # and \ escaped */
void vfr_put_yaml_dq(FILE *out, uint32_t cp, const char *b, size_t n);    /* inside "..." */
void vfr_put_xml_text(FILE *out, uint32_t cp, const char *b, size_t n);
void vfr_put_xml_attr(FILE *out, uint32_t cp, const char *b, size_t n);   /* inside "..." */
void vfr_put_html(FILE *out, uint32_t cp, const char *b, size_t n);       /* text and "..." attributes */

/* The last max_lines lines of s (a final newline does not open another). */
struct vfr_tail {
    const char *start;
    size_t len;
    unsigned shown, total;
};
void vfr_tail(const char *s, unsigned max_lines, struct vfr_tail *t);

const char *vfr_str(const char *s, const char *dflt);
/* a time fit to print: negative and non-finite values become 0 */
double vfr_secs(double s);
/* wall clock as "2024-05-01T12:00:00" (UTC), with "Z" when z; "" for 0 */
void vfr_timestamp(double t, bool z, char *buf, size_t n);
/* flush and report the stream's state: 0, or -1 when it failed */
int vfr_finish(FILE *out);

#endif
