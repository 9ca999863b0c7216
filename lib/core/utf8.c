/* UTF-8 decoding by the table of well-formed byte sequences (Unicode
 * chapter 3, table 3-7): the second byte's range depends on the first,
 * which is what rules out overlong forms and surrogates. */
#include "utf8.h"

#include <string.h>

unsigned vfu_utf8_decode(const uint8_t *p, size_t n, uint32_t *cp)
{
    uint8_t b = p[0];
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    unsigned len;
    uint8_t lo = 0x80, hi = 0xbf;   /* allowed range of the second byte */
    uint32_t v;
    if (b >= 0xc2 && b <= 0xdf) { len = 2; v = b & 0x1f; }
    else if (b >= 0xe0 && b <= 0xef) {
        len = 3; v = b & 0x0f;
        if (b == 0xe0) lo = 0xa0;        /* below: overlong */
        else if (b == 0xed) hi = 0x9f;   /* above: surrogates */
    } else if (b >= 0xf0 && b <= 0xf4) {
        len = 4; v = b & 0x07;
        if (b == 0xf0) lo = 0x90;        /* below: overlong */
        else if (b == 0xf4) hi = 0x8f;   /* above: beyond U+10FFFF */
    } else
        return 0;
    if (n < len) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    v = (v << 6) | (p[1] & 0x3f);
    for (unsigned i = 2; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        v = (v << 6) | (p[i] & 0x3f);
    }
    *cp = v;
    return len;
}

size_t vfu_utf8_sanitize(const char *s, size_t n, char *out, size_t outn)
{
    static const char repl[] = "\xef\xbf\xbd";
    const uint8_t *p = (const uint8_t *)s;
    size_t need = 0, put = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        unsigned k = vfu_utf8_decode(p + i, n - i, &cp);
        const char *src = k ? s + i : repl;
        unsigned len = k ? k : 3;
        i += k ? k : 1;
        if (outn && put == need && put + len < outn) {
            memcpy(out + put, src, len);
            put += len;
        }
        need += len;
    }
    if (outn) out[put] = '\0';
    return need;
}
