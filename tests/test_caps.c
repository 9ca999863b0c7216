/* vfu_caps_parse: valid proposals and replies, every wrong JSON type for
 * every capability in the table, number ranges, malformed JSON, unknown
 * keys, reply-only capabilities. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "vfu_caps.h"
#include "vfu_codec.h"
#include "vfu_desc.h"
#include "spec_tables.h"

static const struct vfu_capability_desc *D(int i) { return &vfu_spec.capabilities[i]; }

static bool parse(struct vfu_caps *c, const char *s, bool is_reply, struct vfu_error *err)
{
    return vfu_caps_parse(c, s, strlen(s), is_reply, err);
}

/* {"capabilities":{"outer":{"name":VALUE}}} for capability cap, whatever
 * its nesting, built from the table */
static void json_at(char *buf, size_t n, int cap, const char *value)
{
    int chain[8], depth = 0;
    for (int i = cap; i >= 0; i = D(i)->parent) chain[depth++] = i;
    size_t k = (size_t)snprintf(buf, n, "{\"capabilities\":");
    for (int j = depth - 1; j >= 0; j--)
        k += (size_t)snprintf(buf + k, n - k, "{\"%s\":", D(chain[j])->name);
    k += (size_t)snprintf(buf + k, n - k, "%s", value);
    for (int j = 0; j <= depth; j++) k += (size_t)snprintf(buf + k, n - k, "}");
    assert_true(k < n);
}

static void expect_fail(const char *s, bool is_reply, enum vfu_errc code, int cap)
{
    struct vfu_caps c;
    struct vfu_error err;
    if (parse(&c, s, is_reply, &err)) fail_msg("accepted: %s", s);
    if (err.code != code || err.cap != cap)
        fail_msg("%s: got %s cap %d, want %s cap %d", s, vfu_errc_name(err.code), err.cap,
                 vfu_errc_name(code), cap);
    assert_int_equal(err.cmd, VFU_CMD_VERSION);
    assert_int_equal(err.is_reply, is_reply);
}

static void absent_means_default(void **state)
{
    (void)state;
    const char *docs[] = {"{}", "{\"capabilities\":{}}", " {\"capabilities\" : { } }\n\t "};
    for (size_t d = 0; d < sizeof docs / sizeof docs[0]; d++) {
        struct vfu_caps c;
        struct vfu_error err;
        assert_true(parse(&c, docs[d], false, &err));
        assert_int_equal(c.unknown, 0);
        for (int i = 0; i < VFU_CAP__COUNT; i++) {
            assert_false(c.present[i]);
            assert_int_equal(vfu_caps_get(&c, i), D(i)->has_default ? D(i)->dflt : 0);
        }
    }
    /* the spec text's defaults, as the spec file must carry them */
    struct vfu_caps c;
    vfu_caps_init(&c);
    assert_int_equal(vfu_caps_get(&c, VFU_CAP_MAX_MSG_FDS), 1);
    assert_int_equal(vfu_caps_get(&c, VFU_CAP_MAX_DATA_XFER_SIZE), 1048576);
    assert_int_equal(vfu_caps_get(&c, VFU_CAP_MAX_DMA_MAPS), 65535);
    assert_int_equal(vfu_caps_get(&c, VFU_CAP_PGSIZES), 4096);
    assert_int_equal(vfu_caps_get(&c, VFU_CAP_TWIN_SOCKET_SUPPORTED), 0);
    assert_int_equal(vfu_caps_get(&c, VFU_CAP_WRITE_MULTIPLE), 0);
    assert_int_equal(vfu_caps_get(&c, -1), 0);
    assert_int_equal(vfu_caps_get(&c, VFU_CAP__COUNT), 0);
}

static void valid_proposal(void **state)
{
    (void)state;
    const char *s = "{\"capabilities\":{\"max_msg_fds\":8,\"max_data_xfer_size\":65536,"
                    "\"twin_socket\":{\"supported\":true},\"write_multiple\":true,"
                    "\"migration\":{\"pgsize\":16384}}}";
    struct vfu_caps c;
    struct vfu_error err;
    memset(&c, 0xa5, sizeof c);   /* parse starts from a clean slate */
    assert_true(parse(&c, s, false, &err));
    assert_int_equal(vfu_caps_get(&c, VFU_CAP_MAX_MSG_FDS), 8);
    assert_int_equal(vfu_caps_get(&c, VFU_CAP_MAX_DATA_XFER_SIZE), 65536);
    assert_int_equal(vfu_caps_get(&c, VFU_CAP_TWIN_SOCKET_SUPPORTED), 1);
    assert_int_equal(vfu_caps_get(&c, VFU_CAP_WRITE_MULTIPLE), 1);
    assert_int_equal(vfu_caps_get(&c, VFU_CAP_MIGRATION_PGSIZE), 16384);
    assert_true(c.present[VFU_CAP_TWIN_SOCKET] && c.present[VFU_CAP_MIGRATION]);
    assert_false(c.present[VFU_CAP_MAX_DMA_MAPS] || c.present[VFU_CAP_PGSIZES]);
    assert_false(c.present[VFU_CAP_TWIN_SOCKET_FD_INDEX]);
    assert_false(c.present[VFU_CAP_MIGRATION_MAX_BITMAP_SIZE]);
    assert_int_equal(vfu_caps_get(&c, VFU_CAP_MAX_DMA_MAPS), VFU_DEFAULT_MAX_DMA_MAPS);
    assert_int_equal(vfu_caps_get(&c, VFU_CAP_MIGRATION_MAX_BITMAP_SIZE),
                     VFU_DEFAULT_MIGRATION_MAX_BITMAP_SIZE);
    assert_int_equal(c.unknown, 0);

    /* an explicit false is present, and false */
    assert_true(parse(&c, "{\"capabilities\":{\"write_multiple\":false}}", false, &err));
    assert_true(c.present[VFU_CAP_WRITE_MULTIPLE]);
    assert_int_equal(vfu_caps_get(&c, VFU_CAP_WRITE_MULTIPLE), 0);
    /* an empty object is present with nothing in it */
    assert_true(parse(&c, "{\"capabilities\":{\"twin_socket\":{}}}", false, &err));
    assert_true(c.present[VFU_CAP_TWIN_SOCKET]);
    assert_false(c.present[VFU_CAP_TWIN_SOCKET_SUPPORTED]);
}

/* Every capability against a value of every JSON type: only its own kind
 * passes, the rest fail naming the capability and both types. */
static void every_wrong_type(void **state)
{
    (void)state;
    static const struct { const char *text; enum vfu_json_type type; } samples[] = {
        {"null", VFU_JSON_NULL},       {"true", VFU_JSON_BOOLEAN}, {"false", VFU_JSON_BOOLEAN},
        {"1.5", VFU_JSON_DOUBLE},      {"4096.0", VFU_JSON_DOUBLE}, {"4e3", VFU_JSON_DOUBLE},
        {"4096", VFU_JSON_INT},        {"{}", VFU_JSON_OBJECT},     {"[]", VFU_JSON_ARRAY},
        {"[4096]", VFU_JSON_ARRAY},    {"\"4096\"", VFU_JSON_STRING}, {"\"true\"", VFU_JSON_STRING},
    };
    unsigned checked = 0;
    for (int i = 0; i < VFU_CAP__COUNT; i++) {
        enum vfu_json_type want = D(i)->kind == VFU_CAP_OBJECT ? VFU_JSON_OBJECT
                                : D(i)->kind == VFU_CAP_BOOLEAN ? VFU_JSON_BOOLEAN : VFU_JSON_INT;
        for (size_t s = 0; s < sizeof samples / sizeof samples[0]; s++) {
            char buf[256];
            json_at(buf, sizeof buf, i, samples[s].text);
            struct vfu_caps c;
            struct vfu_error err;
            bool ok = parse(&c, buf, true, &err);
            if (samples[s].type == want) {
                if (!ok) fail_msg("%s refused: %s", buf, vfu_errc_name(err.code));
                assert_true(c.present[i]);
                continue;
            }
            if (ok) fail_msg("%s accepted for %s", buf, vfu_cap_name(i));
            assert_int_equal(err.code, VFU_E_CAPABILITY);
            assert_int_equal(err.cap, i);
            assert_int_equal(err.got, samples[s].type);
            assert_int_equal(err.want, want);
            checked++;
        }
    }
    assert_true(checked >= VFU_CAP__COUNT * 8u);
}

static void number_ranges(void **state)
{
    (void)state;
    for (int i = 0; i < VFU_CAP__COUNT; i++) {
        if (D(i)->kind != VFU_CAP_NUMBER) continue;
        char buf[256];
        struct vfu_caps c;
        struct vfu_error err;
        static const struct { const char *text; uint64_t got, want; } bad[] = {
            {"-1", (uint64_t)-1, 0},
            {"-4096", (uint64_t)-4096, 0},
            {"-9223372036854775808", (uint64_t)INT64_MIN, 0},
            {"18446744073709551615", UINT64_MAX, UINT64_MAX - 1},
            {"18446744073709551616", UINT64_MAX, UINT64_MAX - 1},
            {"99999999999999999999999999", UINT64_MAX, UINT64_MAX - 1},
        };
        for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
            json_at(buf, sizeof buf, i, bad[b].text);
            if (parse(&c, buf, true, &err)) fail_msg("accepted %s", buf);
            assert_int_equal(err.code, VFU_E_CAPABILITY);
            assert_int_equal(err.cap, i);
            assert_int_equal(err.got, bad[b].got);
            assert_int_equal(err.want, bad[b].want);
        }
        /* every rule accepts powers of two, up to the top bit */
        json_at(buf, sizeof buf, i, "9223372036854775808");
        assert_true(parse(&c, buf, true, &err));
        assert_int_equal(vfu_caps_get(&c, i), 1ull << 63);
        json_at(buf, sizeof buf, i, "1");
        assert_true(parse(&c, buf, true, &err));
        assert_int_equal(vfu_caps_get(&c, i), 1);
        /* JSON has no leading zeros, no hex, no plus sign */
        const char *malformed[] = {"01", "-01", "0x10", "+1", "1.", "1.e5", ".5", "--1", "-"};
        for (size_t m = 0; m < sizeof malformed / sizeof malformed[0]; m++) {
            json_at(buf, sizeof buf, i, malformed[m]);
            expect_fail(buf, true, VFU_E_JSON, -1);
        }
    }
    /* the largest value json-c does not saturate, where no rule objects */
    struct vfu_caps c;
    struct vfu_error err;
    assert_true(parse(&c, "{\"capabilities\":{\"max_dma_maps\":18446744073709551614}}", false, &err));
    assert_int_equal(vfu_caps_get(&c, VFU_CAP_MAX_DMA_MAPS), UINT64_MAX - 1);
    /* -0 is JSON for zero */
    assert_true(parse(&c, "{\"capabilities\":{\"max_dma_maps\":-0}}", false, &err));
    assert_int_equal(vfu_caps_get(&c, VFU_CAP_MAX_DMA_MAPS), 0);
}

/* The value rules in caps.c: zero where it means nothing, page sizes that
 * are not powers of two. */
static void value_rules(void **state)
{
    (void)state;
    static const struct { const char *json; int cap; uint64_t got, want; } bad[] = {
        {"{\"capabilities\":{\"max_data_xfer_size\":0}}", VFU_CAP_MAX_DATA_XFER_SIZE, 0, 1},
        {"{\"capabilities\":{\"pgsizes\":0}}", VFU_CAP_PGSIZES, 0, 1},
        {"{\"capabilities\":{\"migration\":{\"pgsize\":0}}}", VFU_CAP_MIGRATION_PGSIZE, 0, 1},
        {"{\"capabilities\":{\"migration\":{\"pgsize\":4097}}}", VFU_CAP_MIGRATION_PGSIZE, 4097, 4096},
        {"{\"capabilities\":{\"migration\":{\"pgsize\":3}}}", VFU_CAP_MIGRATION_PGSIZE, 3, 2},
        {"{\"capabilities\":{\"migration\":{\"pgsize\":18446744073709551614}}}",
         VFU_CAP_MIGRATION_PGSIZE, UINT64_MAX - 1, 1ull << 63},
    };
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
        struct vfu_caps c;
        struct vfu_error err;
        if (parse(&c, bad[b].json, false, &err)) fail_msg("accepted %s", bad[b].json);
        assert_int_equal(err.code, VFU_E_BAD_VALUE);
        assert_int_equal(err.cap, bad[b].cap);
        assert_int_equal(err.got, bad[b].got);
        assert_int_equal(err.want, bad[b].want);
    }
    static const char *good[] = {
        "{\"capabilities\":{\"max_msg_fds\":0}}",       /* takes no fds: legal */
        "{\"capabilities\":{\"max_dma_maps\":0}}",
        "{\"capabilities\":{\"max_data_xfer_size\":1}}",
        "{\"capabilities\":{\"pgsizes\":12288}}",       /* a mask: 4k|8k */
        "{\"capabilities\":{\"migration\":{\"pgsize\":65536}}}",
    };
    for (size_t g = 0; g < sizeof good / sizeof good[0]; g++) {
        struct vfu_caps c;
        struct vfu_error err;
        if (!parse(&c, good[g], false, &err)) fail_msg("refused %s", good[g]);
    }
    /* the spec's own defaults pass the rules */
    for (int i = 0; i < VFU_CAP__COUNT; i++) {
        if (D(i)->kind != VFU_CAP_NUMBER || !D(i)->has_default) continue;
        char buf[256], v[32];
        snprintf(v, sizeof v, "%llu", (unsigned long long)D(i)->dflt);
        json_at(buf, sizeof buf, i, v);
        struct vfu_caps c;
        struct vfu_error err;
        if (!parse(&c, buf, true, &err)) fail_msg("default refused: %s", buf);
    }
}

static void malformed_json(void **state)
{
    (void)state;
    static const char *bad[] = {
        "{",
        "}",
        "{\"capabilities\":{}",
        "{\"capabilities\":}",
        "{\"capabilities\" {}}",
        "{capabilities:{}}",
        "{'capabilities':{}}",
        "{\"capabilities\":{'max_msg_fds':1}}",
        "{'':1}",
        "{\"a\":'1'}",
        "{,}",
        "{\"a\":1,}",
        "{\"a\":1 /* comment */}",
        "{\"a\":1} // comment",
        "{\"a\":NaN}",
        "{\"a\":Infinity}",
        "{\"a\":tru}",
        "{\"a\":\"unterminated}",
        "{\"a\":\"bad \\x escape\"}",
        "{\"a\":\"\xff\xfe\"}",           /* not UTF-8 */
        "{\"a\":\"\xc0\xaf\"}",           /* overlong encoding */
        "{\"a\":\"\xe0\x80\xaf\"}",       /* overlong, three bytes */
        "{\"a\":\"\xed\xa0\x80\"}",       /* a surrogate */
        "{\"a\":\"\xf4\x90\x80\x80\"}",   /* above U+10FFFF */
        "{\"a\":\"\xe2\x82\"}",           /* cut short */
        "{\"a\":\"\x80\"}",               /* a lone continuation byte */
        "{\"a\":1e}",
        "{\"a\":1e+}",
        "{\"a\":-}",
        "{\"a\":1.5.2}",
        "{\"a\":truex}",
        "{\"a\":True}",
        "{\"a\":nul}",
        "{\"a\":undefined}",
        "{\"max_msg_fds\\u0000x\":1}",    /* json-c would cut the key at the NUL */
        "{\"capabilities\":{\"max_msg_fds\\u0000\":5}}",
        "{\"a\":\"\\u0000\"}",
        /* trailing garbage */
        "{} x",
        "{}{}",
        "{}}",
        "{\"capabilities\":{}} 1",
        /* not an object at the top */
        "[]",
        "[{\"capabilities\":{}}]",
        "1",
        "\"capabilities\"",
        "true",
        "null",
        " ",
        "",
        /* capabilities not an object */
        "{\"capabilities\":[]}",
        "{\"capabilities\":1}",
        "{\"capabilities\":null}",
        "{\"capabilities\":\"max_msg_fds\"}",
        "{\"capabilities\":true}",
    };
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
        expect_fail(bad[b], false, VFU_E_JSON, -1);
        expect_fail(bad[b], true, VFU_E_JSON, -1);
    }

    struct vfu_caps c;
    struct vfu_error err;
    /* an embedded NUL: the length, not the NUL, ends the text */
    static const char nul[] = "{\"capabilities\":{}}\0{}";
    assert_false(vfu_caps_parse(&c, nul, sizeof nul - 1, false, &err));
    assert_int_equal(err.code, VFU_E_JSON);
    assert_int_equal(err.got, 19);      /* where the text stopped being JSON */
    /* the length bounds the parse: a valid prefix with more bytes after */
    static const char more[] = "{\"capabilities\":{}}garbage";
    assert_true(vfu_caps_parse(&c, more, 19, false, &err));
    assert_false(vfu_caps_parse(&c, more, 18, false, &err));
    assert_int_equal(err.code, VFU_E_JSON);
    assert_false(vfu_caps_parse(&c, more, 20, false, &err));
    assert_int_equal(err.code, VFU_E_JSON);
    /* a length json-c cannot take is refused before anything is read */
    assert_false(vfu_caps_parse(&c, "{}", (size_t)INT_MAX + 1, false, &err));
    assert_int_equal(err.code, VFU_E_JSON);
    assert_false(vfu_caps_parse(&c, NULL, 0, false, &err));
    assert_int_equal(err.code, VFU_E_JSON);
    /* top level of another type: got names it */
    assert_false(parse(&c, "[]", false, &err));
    assert_int_equal(err.got, VFU_JSON_ARRAY);
    assert_int_equal(err.want, VFU_JSON_OBJECT);
    assert_false(parse(&c, "{\"capabilities\":\"x\"}", false, &err));
    assert_int_equal(err.got, VFU_JSON_STRING);
    /* strings elsewhere may hold any escape but \u0000, and UTF-8 */
    assert_true(parse(&c, "{\"note\":\"caf\xc3\xa9 \\u00e9 \\\"q\\\" \\\\u0000\"}", false, &err));
    assert_int_equal(c.unknown, 1);
    assert_true(parse(&c, "{\"n\":\"\xf0\x9f\x98\x80\xe2\x82\xac\xf4\x8f\xbf\xbf\"}", false, &err));
    /* every JSON number form is fine where no capability is involved */
    assert_true(parse(&c, "{\"a\":[0,-0,1.5,-0.5e-3,1E+2,2e10,10],\"b\":[true,false,null]}", false, &err));
    assert_int_equal(c.unknown, 2);
}

/* how deep the JSON may nest: VFU_CAPS_MAX_DEPTH containers pass, one more
 * fails, and a very deep text fails cleanly */
static void nesting_depth(void **state)
{
    (void)state;
    char buf[8192];
    for (int levels = 1; levels <= 1000; levels++) {
        /* {"u":[[...]]}: levels containers in all */
        size_t k = (size_t)snprintf(buf, sizeof buf, "{\"u\":");
        for (int j = 1; j < levels; j++) buf[k++] = '[';
        buf[k++] = '1';
        for (int j = 1; j < levels; j++) buf[k++] = ']';
        buf[k++] = '}';
        buf[k] = 0;
        struct vfu_caps c;
        struct vfu_error err;
        bool ok = vfu_caps_parse(&c, buf, k, false, &err);
        if (levels <= VFU_CAPS_MAX_DEPTH) {
            if (!ok) fail_msg("depth %d refused", levels);
        } else {
            if (ok) fail_msg("depth %d accepted", levels);
            assert_int_equal(err.code, VFU_E_JSON);
        }
        if (levels > VFU_CAPS_MAX_DEPTH + 2) levels += 97;
    }
    /* the deepest real capability fits */
    struct vfu_caps c;
    struct vfu_error err;
    assert_true(parse(&c, "{\"capabilities\":{\"twin_socket\":{\"supported\":true,\"x\":{\"y\":[]}}}}",
                      false, &err));
}

static void unknown_keys(void **state)
{
    (void)state;
    struct vfu_caps c;
    struct vfu_error err;
    const char *s = "{\"zeta\":1,\"capabilities\":{\"max_msg_fds\":3,\"future\":{\"a\":[1,2]},"
                    "\"twin_socket\":{\"supported\":true,\"mode\":\"x\"},"
                    "\"migration\":{\"pgsize\":4096,\"extra\":false}},\"more\":null}";
    assert_true(parse(&c, s, false, &err));
    assert_int_equal(c.unknown, 5);
    assert_string_equal(c.first_unknown, "zeta");
    /* the known ones around them still count */
    assert_int_equal(vfu_caps_get(&c, VFU_CAP_MAX_MSG_FDS), 3);
    assert_int_equal(vfu_caps_get(&c, VFU_CAP_TWIN_SOCKET_SUPPORTED), 1);
    assert_true(c.present[VFU_CAP_MIGRATION_PGSIZE]);

    assert_true(parse(&c, "{\"capabilities\":{\"twin_socket\":{\"mode\":1}}}", false, &err));
    assert_int_equal(c.unknown, 1);
    assert_string_equal(c.first_unknown, "capabilities.twin_socket.mode");
    /* a member name is only known inside its own object */
    assert_true(parse(&c, "{\"capabilities\":{\"supported\":true,\"pgsize\":4096}}", false, &err));
    assert_int_equal(c.unknown, 2);
    assert_string_equal(c.first_unknown, "capabilities.supported");
    assert_false(c.present[VFU_CAP_TWIN_SOCKET_SUPPORTED]);
    /* an unknown key's value is not type-checked, whatever it holds */
    assert_true(parse(&c, "{\"capabilities\":{\"MAX_MSG_FDS\":\"x\"}}", false, &err));
    assert_int_equal(c.unknown, 1);
    /* a long unknown name is cut, not overrun */
    char big[512];
    snprintf(big, sizeof big, "{\"capabilities\":{\"%0300d\":1}}", 0);
    assert_true(parse(&c, big, false, &err));
    assert_int_equal(strlen(c.first_unknown), sizeof c.first_unknown - 1);
}

static void reply_only_in_proposal(void **state)
{
    (void)state;
    unsigned seen = 0;
    for (int i = 0; i < VFU_CAP__COUNT; i++) {
        if (!D(i)->reply_only) continue;
        char buf[256];
        json_at(buf, sizeof buf, i, D(i)->kind == VFU_CAP_BOOLEAN ? "true" : "2");
        expect_fail(buf, false, VFU_E_CAPABILITY, i);
        struct vfu_caps c;
        struct vfu_error err;
        assert_true(parse(&c, buf, true, &err));
        assert_true(c.present[i]);
        seen++;
    }
    assert_true(seen >= 1);
    struct vfu_caps c;
    struct vfu_error err;
    assert_true(parse(&c, "{\"capabilities\":{\"twin_socket\":{\"supported\":true,\"fd_index\":0}}}",
                      true, &err));
    assert_int_equal(vfu_caps_get(&c, VFU_CAP_TWIN_SOCKET_FD_INDEX), 0);
    assert_true(c.present[VFU_CAP_TWIN_SOCKET_FD_INDEX]);
    assert_false(parse(&c, "{\"capabilities\":{\"twin_socket\":{\"fd_index\":0}}}", false, &err));
    assert_int_equal(err.cap, VFU_CAP_TWIN_SOCKET_FD_INDEX);
}

static void error_text_names_capability(void **state)
{
    (void)state;
    struct vfu_caps c;
    struct vfu_error err;
    char msg[256];
    assert_false(parse(&c, "{\"capabilities\":{\"twin_socket\":{\"supported\":1}}}", true, &err));
    vfu_error_str(&err, msg, sizeof msg);
    assert_non_null(strstr(msg, "VERSION reply"));
    assert_non_null(strstr(msg, "twin_socket.supported"));
    assert_non_null(strstr(msg, "CAPABILITY"));
    assert_false(parse(&c, "{\"capabilities\":[]}", false, &err));
    vfu_error_str(&err, msg, sizeof msg);
    assert_non_null(strstr(msg, "VERSION request"));
    assert_non_null(strstr(msg, "JSON"));
    /* short buffers are cut, NUL-terminated */
    assert_false(parse(&c, "{\"capabilities\":{\"pgsizes\":0}}", false, &err));
    for (size_t n = 1; n < 40; n++) {
        size_t k = vfu_error_str(&err, msg, n);
        assert_true(k < n);
        assert_int_equal(strlen(msg), k);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(absent_means_default),
        cmocka_unit_test(valid_proposal),
        cmocka_unit_test(every_wrong_type),
        cmocka_unit_test(number_ranges),
        cmocka_unit_test(value_rules),
        cmocka_unit_test(malformed_json),
        cmocka_unit_test(nesting_depth),
        cmocka_unit_test(unknown_keys),
        cmocka_unit_test(reply_only_in_proposal),
        cmocka_unit_test(error_text_names_capability),
    };
    return cmocka_run_group_tests_name("caps_parse", tests, NULL, NULL);
}
