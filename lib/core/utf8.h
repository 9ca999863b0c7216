/* UTF-8 well-formedness, for everything that carries text a peer or a
 * program under test chose (server stderr, scenario strings, trace
 * metadata) into a format that requires valid text: XML, JSON, CBOR text
 * strings, YAML. */
#ifndef VFU_UTF8_H
#define VFU_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the scalar value starting at p (n > 0 bytes available): returns
 * its length (1-4) and sets *cp, or returns 0 when the bytes there are not a
 * well-formed sequence (stray continuation byte, overlong form, surrogate,
 * above U+10FFFF, cut short). */
unsigned vfu_utf8_decode(const uint8_t *p, size_t n, uint32_t *cp);

/* Copies s[0..n) into out (NUL-terminated, at most outn - 1 bytes, whole
 * sequences only) with every ill-formed byte replaced by U+FFFD.  Returns
 * the length the whole copy needs, like snprintf. */
size_t vfu_utf8_sanitize(const char *s, size_t n, char *out, size_t outn);

#endif
