#include "report_text.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "utf8.h"

void vfr_each(FILE *out, const char *s, size_t n, rp_put_fn fn)
{
    static const char repl[] = "\xef\xbf\xbd";
    const uint8_t *p = (const uint8_t *)s;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        unsigned k = vfu_utf8_decode(p + i, n - i, &cp);
        if (k) fn(out, cp, s + i, k);
        else fn(out, 0xfffd, repl, 3);
        i += k ? k : 1;
    }
}

void vfr_each_str(FILE *out, const char *s, rp_put_fn fn)
{
    if (s) vfr_each(out, s, strlen(s), fn);
}

static bool c1_or_del(uint32_t cp) { return cp == 0x7f || (cp >= 0x80 && cp < 0xa0); }

void vfr_put_term(FILE *out, uint32_t cp, const char *b, size_t n)
{
    /* a server's output must not drive the terminal (escape sequences) */
    if ((cp < 0x20 && cp != '\t') || c1_or_del(cp)) fprintf(out, "\\x%02x", (unsigned)cp);
    else fwrite(b, 1, n, out);
}

void vfr_put_tap_line(FILE *out, uint32_t cp, const char *b, size_t n)
{
    if (cp == '#' || cp == '\\') fprintf(out, "\\%c", (char)cp);
    else if (cp == '\n' || cp == '\r' || cp == '\t') fputc(' ', out);
    else vfr_put_term(out, cp, b, n);
}

void vfr_put_yaml_dq(FILE *out, uint32_t cp, const char *b, size_t n)
{
    switch (cp) {
    case '"': fputs("\\\"", out); return;
    case '\\': fputs("\\\\", out); return;
    case '\n': fputs("\\n", out); return;
    case '\r': fputs("\\r", out); return;
    case '\t': fputs("\\t", out); return;
    default: break;
    }
    /* YAML's printable set leaves out C0, DEL, C1 (but NEL), the BOM and
     * the two non-characters at the end of the BMP */
    if (cp < 0x20 || c1_or_del(cp)) fprintf(out, "\\x%02x", (unsigned)cp);
    else if (cp == 0xfeff || cp == 0xfffe || cp == 0xffff) fprintf(out, "\\u%04x", (unsigned)cp);
    else fwrite(b, 1, n, out);
}

static bool xml_forbidden(uint32_t cp)
{
    return (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0xfffe || cp == 0xffff;
}

void vfr_put_xml_text(FILE *out, uint32_t cp, const char *b, size_t n)
{
    switch (cp) {
    case '<': fputs("&lt;", out); return;
    case '>': fputs("&gt;", out); return;
    case '&': fputs("&amp;", out); return;
    /* a raw CR would be normalized away by the parser */
    case '\r': fputs("&#13;", out); return;
    default: break;
    }
    if (xml_forbidden(cp)) fprintf(out, cp < 0x100 ? "\\x%02X" : "\\u%04X", (unsigned)cp);
    else if (c1_or_del(cp)) fprintf(out, "&#x%X;", (unsigned)cp);
    else fwrite(b, 1, n, out);
}

void vfr_put_html(FILE *out, uint32_t cp, const char *b, size_t n)
{
    switch (cp) {
    case '<': fputs("&lt;", out); return;
    case '>': fputs("&gt;", out); return;
    case '&': fputs("&amp;", out); return;
    case '"': fputs("&quot;", out); return;
    case '\'': fputs("&#39;", out); return;
    default: break;
    }
    /* control characters a server wrote stay visible, not interpreted */
    if ((cp < 0x20 && cp != '\t' && cp != '\n') || c1_or_del(cp)) fprintf(out, "\\x%02x", (unsigned)cp);
    else fwrite(b, 1, n, out);
}

void vfr_put_xml_attr(FILE *out, uint32_t cp, const char *b, size_t n)
{
    switch (cp) {
    case '"': fputs("&quot;", out); return;
    case '\'': fputs("&apos;", out); return;
    /* attribute value normalization would turn these into spaces */
    case '\n': fputs("&#10;", out); return;
    case '\t': fputs("&#9;", out); return;
    default: vfr_put_xml_text(out, cp, b, n); return;
    }
}

void vfr_tail(const char *s, unsigned max_lines, struct vfr_tail *t)
{
    *t = (struct vfr_tail){s, 0, 0, 0};
    if (!s || !*s) return;
    size_t len = strlen(s);
    size_t end = len;
    if (s[end - 1] == '\n') end--;
    /* count every line, remembering where the last max_lines begin */
    unsigned total = 1;
    for (size_t i = 0; i < end; i++)
        if (s[i] == '\n') total++;
    size_t start = end;
    unsigned shown = 0;
    while (shown < max_lines) {
        while (start > 0 && s[start - 1] != '\n') start--;
        shown++;
        if (start == 0 || shown == max_lines) break;
        start--;   /* onto the newline that ends the line before */
    }
    t->start = s + start;
    t->len = end - start;
    t->shown = shown;
    t->total = total;
}

const char *vfr_str(const char *s, const char *dflt) { return s ? s : dflt; }

double vfr_secs(double s) { return isfinite(s) && s > 0 ? s : 0; }

void vfr_timestamp(double t, bool z, char *buf, size_t n)
{
    if (n) buf[0] = '\0';
    if (!isfinite(t) || t <= 0 || t > 253402300799.0) return;   /* up to year 9999 */
    time_t sec = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&sec, &tm)) return;
    strftime(buf, n, z ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%dT%H:%M:%S", &tm);
}

int vfr_finish(FILE *out)
{
    if (fflush(out) != 0 || ferror(out)) {
        if (!errno) errno = EIO;
        return -1;
    }
    return 0;
}
