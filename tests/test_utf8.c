/* UTF-8 well-formedness by the Unicode table of valid byte sequences, and
 * the sanitizer that every report and trace string goes through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "utf8.h"

static unsigned dec(const char *s, size_t n, uint32_t *cp)
{
    return vfu_utf8_decode((const uint8_t *)s, n, cp);
}

static void decode_valid(void **state)
{
    (void)state;
    static const struct { const char *s; unsigned len; uint32_t cp; } ok[] = {
        {"A", 1, 0x41}, {"\x7f", 1, 0x7f}, {"\xc2\x80", 2, 0x80}, {"\xdf\xbf", 2, 0x7ff},
        {"\xe0\xa0\x80", 3, 0x800}, {"\xed\x9f\xbf", 3, 0xd7ff}, {"\xee\x80\x80", 3, 0xe000},
        {"\xef\xbf\xbf", 3, 0xffff}, {"\xf0\x90\x80\x80", 4, 0x10000},
        {"\xf4\x8f\xbf\xbf", 4, 0x10ffff},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        uint32_t cp = 0;
        assert_int_equal(dec(ok[i].s, ok[i].len, &cp), ok[i].len);
        assert_int_equal(cp, ok[i].cp);
    }
    uint32_t cp;
    assert_int_equal(dec("\0", 1, &cp), 1);
    assert_int_equal(cp, 0);
}

static void decode_ill_formed(void **state)
{
    (void)state;
    static const struct { const char *s; size_t n; } bad[] = {
        {"\x80", 1},             /* stray continuation */
        {"\xc0\xaf", 2},         /* overlong '/' */
        {"\xc1\xbf", 2},
        {"\xe0\x9f\xbf", 3},     /* overlong 3-byte */
        {"\xed\xa0\x80", 3},     /* surrogate D800 */
        {"\xed\xbf\xbf", 3},     /* surrogate DFFF */
        {"\xf0\x8f\xbf\xbf", 4}, /* overlong 4-byte */
        {"\xf4\x90\x80\x80", 4}, /* above 10FFFF */
        {"\xf5\x80\x80\x80", 4},
        {"\xff", 1}, {"\xfe", 1},
        {"\xe2\x9c", 2},         /* cut short */
        {"\xe2\x9c\x41", 3},     /* continuation missing */
        {"\xf0\x9d\x84", 3},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        uint32_t cp;
        if (dec(bad[i].s, bad[i].n, &cp)) fail_msg("case %zu accepted", i);
    }
}

static void sanitize(void **state)
{
    (void)state;
    char out[64];
    const char in[] = "a\xff" "b\xe2\x9c" "c\xc3\xa9";
    size_t need = vfu_utf8_sanitize(in, strlen(in), out, sizeof out);
    assert_string_equal(out, "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd" "c\xc3\xa9");
    assert_int_equal(need, strlen(out));
    /* a short buffer: whole sequences only, and the length still reported */
    memset(out, 'z', sizeof out);
    assert_int_equal(vfu_utf8_sanitize(in, strlen(in), out, 4), need);
    assert_string_equal(out, "a");
    assert_int_equal(vfu_utf8_sanitize(in, strlen(in), out, 5), need);
    assert_string_equal(out, "a\xef\xbf\xbd");
    assert_int_equal(vfu_utf8_sanitize(in, strlen(in), NULL, 0), need);
    assert_int_equal(vfu_utf8_sanitize("", 0, out, sizeof out), 0);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode_valid),
        cmocka_unit_test(decode_ill_formed),
        cmocka_unit_test(sanitize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
