/* The JUnit reporter, read back by a small XML 1.0 checker written here
 * (no XML library on the build machine): well-formed UTF-8, no character
 * XML forbids, only the five entities and character references, quoted
 * attributes without raw '<' or '&', balanced tags, one root.  Then the
 * content: element per verdict, suite counts, and every string decoding
 * back to what the result held (with forbidden characters shown as \xNN). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_fixture.h"

#define MAX_EL 256
#define MAX_ATTR 8

struct el {
    char *name;
    char *attr_name[MAX_ATTR], *attr_val[MAX_ATTR];
    unsigned nattr;
    int parent;
    char *text;          /* decoded character data directly inside */
};

struct doc {
    struct el el[MAX_EL];
    unsigned n;
};

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* decodes one reference at *p ('&' ... ';') into out; false when it is not
 * one of the five entities or a valid character reference */
static bool reference(const char **p, char **out)
{
    static const struct { const char *ent; char c; } ents[] = {
        {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''},
    };
    for (size_t i = 0; i < sizeof ents / sizeof *ents; i++) {
        size_t k = strlen(ents[i].ent);
        if (strncmp(*p, ents[i].ent, k) == 0) {
            *(*out)++ = ents[i].c;
            *p += k;
            return true;
        }
    }
    if (strncmp(*p, "&#", 2) != 0) return false;
    const char *q = *p + 2;
    int base = 10;
    if (*q == 'x') { base = 16; q++; }
    char *end;
    unsigned long cp = strtoul(q, &end, base);
    if (end == q || *end != ';') return false;
    /* a reference must name a character XML allows */
    if ((cp < 0x20 && cp != 9 && cp != 10 && cp != 13) || cp == 0xfffe || cp == 0xffff ||
        (cp >= 0xd800 && cp < 0xe000) || cp > 0x10ffff)
        return false;
    *out += fx_put_utf8(*out, (uint32_t)cp);
    *p = end + 1;
    return true;
}

/* character data up to '<' (or the closing quote of an attribute) */
static char *chars(const char **p, char stop, bool attr)
{
    const char *s = *p;
    char *out = malloc(strlen(s) * 4 + 1), *o = out;
    while (*s && *s != stop && *s != '<') {
        if (*s == '&') {
            if (!reference(&s, &o)) { free(out); return NULL; }
            continue;
        }
        /* an attribute's raw tab or newline would be normalized to a space */
        if (attr && (*s == '\t' || *s == '\n' || *s == '\r')) { free(out); return NULL; }
        if (!attr && *s == '\r') { free(out); return NULL; }
        if (s[0] == ']' && s[1] == ']' && s[2] == '>') { free(out); return NULL; }
        *o++ = *s++;
    }
    if (attr && *s != stop) { free(out); return NULL; }
    *o = '\0';
    *p = s;
    return out;
}

static char *name(const char **p)
{
    const char *s = *p;
    while (name_char(**p)) (*p)++;
    if (*p == s) return NULL;
    return strndup(s, (size_t)(*p - s));
}

static void append(char **text, const char *more)
{
    size_t a = *text ? strlen(*text) : 0;
    *text = realloc(*text, a + strlen(more) + 1);
    strcpy(*text + a, more);
}

static char xerr[256];
#define BAD(...) do { snprintf(xerr, sizeof xerr, __VA_ARGS__); return false; } while (0)

/* parses the whole document into d (free_doc it, whatever the result);
 * false with xerr saying why on any breach */
static bool parse_xml(const char *xml, size_t len, struct doc *d)
{
    memset(d, 0, sizeof *d);
    /* XML 1.0 Char production over the whole text */
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        unsigned k = vfu_utf8_decode((const uint8_t *)xml + i, len - i, &cp);
        if (!k) BAD("ill-formed UTF-8 at byte %zu", i);
        if ((cp < 0x20 && cp != 9 && cp != 10 && cp != 13) || cp == 0xfffe || cp == 0xffff)
            BAD("character U+%04X, forbidden in XML 1.0, at byte %zu", (unsigned)cp, i);
        i += k;
    }
    const char *prolog = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    if (len < strlen(prolog) || memcmp(xml, prolog, strlen(prolog)) != 0) BAD("no prolog");
    const char *p = xml + strlen(prolog);
    int stack[64], depth = 0, roots = 0;
    while (*p) {
        if (*p != '<') {
            char *t = chars(&p, '<', false);
            if (!t) BAD("bad character data near \"%.40s\"", p);
            if (depth == 0) {
                bool blank = true;
                for (char *c = t; *c; c++) blank &= *c == '\n' || *c == ' ';
                free(t);
                if (!blank) BAD("text outside the root");
                continue;
            }
            append(&d->el[stack[depth - 1]].text, t);
            free(t);
            continue;
        }
        p++;
        if (*p == '/') {
            p++;
            char *n = name(&p);
            bool match = n && *p == '>' && depth > 0 && strcmp(n, d->el[stack[depth - 1]].name) == 0;
            free(n);
            if (!match) BAD("bad or mismatched end tag near \"%.40s\"", p);
            depth--;
            p++;
            continue;
        }
        if (d->n >= MAX_EL) BAD("too many elements");
        struct el *e = &d->el[d->n++];
        e->name = name(&p);
        if (!e->name) BAD("bad start tag near \"%.40s\"", p);
        e->parent = depth ? stack[depth - 1] : -1;
        if (!depth) roots++;
        for (;;) {
            bool space = false;
            while (*p == ' ') { p++; space = true; }
            if (*p == '/' || *p == '>') break;
            if (!space) BAD("attributes run together in <%s>", e->name);
            if (e->nattr >= MAX_ATTR) BAD("too many attributes");
            char *an = name(&p);
            e->attr_name[e->nattr] = an;
            if (!an || p[0] != '=' || p[1] != '"') BAD("bad attribute in <%s> near \"%.40s\"", e->name, p);
            p += 2;
            char *v = chars(&p, '"', true);
            if (!v) BAD("bad value of %s in <%s> near \"%.40s\"", an, e->name, p);
            e->attr_val[e->nattr++] = v;
            p++;
            for (unsigned i = 0; i + 1 < e->nattr; i++)
                if (strcmp(e->attr_name[i], an) == 0) BAD("%s twice in <%s>", an, e->name);
        }
        bool empty = *p == '/';
        if (empty) p++;
        if (*p != '>') BAD("unclosed tag <%s>", e->name);
        p++;
        if (!empty) {
            if (depth >= 64) BAD("too deep");
            stack[depth++] = (int)(d->n - 1);
        }
    }
    if (depth) BAD("<%s> never closed", d->el[stack[depth - 1]].name);
    if (roots != 1) BAD("%d root elements", roots);
    return true;
}

static void free_doc(struct doc *d)
{
    for (unsigned i = 0; i < d->n; i++) {
        free(d->el[i].name);
        free(d->el[i].text);
        for (unsigned j = 0; j <= d->el[i].nattr && j < MAX_ATTR; j++) {
            free(d->el[i].attr_name[j]);
            free(d->el[i].attr_val[j]);
        }
    }
}

static const char *attr(const struct el *e, const char *n)
{
    for (unsigned i = 0; i < e->nattr; i++)
        if (strcmp(e->attr_name[i], n) == 0) return e->attr_val[i];
    return NULL;
}

/* the children of element i named n */
static int child(const struct doc *d, int i, const char *n, int nth)
{
    for (unsigned j = 0; j < d->n; j++)
        if (d->el[j].parent == i && strcmp(d->el[j].name, n) == 0 && nth-- == 0) return (int)j;
    return -1;
}

/* what a string of the fixture should read as, decoded from the XML:
 * forbidden characters as the visible text \xNN / \uFFFE, the rest as is */
static char *xml_expect(const char *s)
{
    char *out = malloc(strlen(s) * 6 + 1), *o = out;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') o += sprintf(o, "\\x%02X", c);
        /* strncmp: never reads past the string's NUL, as memcmp may */
        else if (strncmp(p, "\xef\xbf\xbe", 3) == 0) { o += sprintf(o, "\\uFFFE"); p += 2; }
        else *o++ = (char)c;
    }
    *o = '\0';
    return out;
}

static int junit_write(FILE *f, const struct vfu_run *run) { return vfr_report_junit(f, run); }

static void well_formed_with_every_verdict(void **state)
{
    (void)state;
    struct vfu_run run;
    fx_run(&run);
    size_t len = 0;
    char *xml = fx_capture(junit_write, &run, &len);
    assert_non_null(xml);
    struct doc *d = calloc(1, sizeof *d);
    if (!parse_xml(xml, len, d)) fail_msg("not well-formed: %s", xerr);

    const struct el *suite = &d->el[0];
    assert_string_equal(suite->name, "testsuite");
    assert_string_equal(attr(suite, "tests"), "9");
    assert_string_equal(attr(suite, "failures"), "1");   /* the MUST mismatch */
    assert_string_equal(attr(suite, "errors"), "2");     /* the ERROR and the crash */
    assert_string_equal(attr(suite, "skipped"), "2");    /* SKIP and XFAIL */
    assert_string_equal(attr(suite, "time"), "1.234");
    assert_string_equal(attr(suite, "timestamp"), "2024-05-01T12:00:00");
    int props = child(d, 0, "properties", 0);
    assert_true(props >= 0);
    int p0 = child(d, props, "property", 0);
    assert_string_equal(attr(&d->el[p0], "name"), "server");
    assert_string_equal(attr(&d->el[p0], "value"), "./mydevice --socket-path={socket} \"quoted\"");

    int tc[FX_N];
    unsigned nfail = 0, nerr = 0, nskip = 0;
    for (int i = 0; i < FX_N; i++) {
        tc[i] = child(d, 0, "testcase", i);
        assert_true(tc[i] >= 0);
        nfail += child(d, tc[i], "failure", 0) >= 0;
        nerr += child(d, tc[i], "error", 0) >= 0;
        nskip += child(d, tc[i], "skipped", 0) >= 0;
    }
    assert_int_equal(child(d, 0, "testcase", FX_N), -1);
    /* the suite's counts are the elements' */
    assert_int_equal(nfail, 1);
    assert_int_equal(nerr, 2);
    assert_int_equal(nskip, 2);

    for (int i = 0; i < FX_N; i++) {
        const struct el *e = &d->el[tc[i]];
        char *want_name = xml_expect(fx_results[i].id);
        assert_string_equal(attr(e, "name"), want_name);
        free(want_name);
        char *want_class = xml_expect(fx_results[i].section);
        if (i == 5) {
            free(want_class);
            want_class = xml_expect(NASTY_CLEAN);
        }
        assert_string_equal(attr(e, "classname"), want_class);
        free(want_class);
        assert_non_null(attr(e, "time"));
    }
    assert_string_equal(attr(&d->el[tc[1]], "file"), "harness/scenarios/dma.scn");
    assert_string_equal(attr(&d->el[tc[1]], "line"), "11");
    assert_null(attr(&d->el[tc[8]], "file"));

    /* PASS: nothing inside */
    assert_int_equal(child(d, tc[0], "failure", 0), -1);
    assert_int_equal(child(d, tc[0], "system-out", 0), -1);
    /* FAIL: the reason in message, decoded exactly */
    int f = child(d, tc[1], "failure", 0);
    assert_true(f >= 0);
    char *want = xml_expect(NASTY_CLEAN);
    assert_string_equal(attr(&d->el[f], "message"), want);
    assert_string_equal(attr(&d->el[f], "type"), "mismatch");
    assert_non_null(strstr(d->el[f].text, want));
    assert_non_null(strstr(d->el[f].text, "at: harness/scenarios/dma.scn:11"));
    assert_non_null(strstr(d->el[f].text, "trace: traces/DMA_MAP.overlap.EEXIST.cbor"));
    free(want);
    int se = child(d, tc[1], "system-err", 0);
    want = xml_expect("starting\n" NASTY_CLEAN "\nlast line\n");
    assert_string_equal(d->el[se].text, want);
    free(want);
    /* SKIP and XFAIL */
    int s = child(d, tc[2], "skipped", 0);
    assert_string_equal(attr(&d->el[s], "message"), "server lacks migration # not offered");
    s = child(d, tc[3], "skipped", 0);
    assert_string_equal(attr(&d->el[s], "message"), "expected failure (--xfail): step 2: expected ok, got error EINVAL");
    /* XPASS passes, flagged */
    assert_int_equal(child(d, tc[4], "failure", 0), -1);
    assert_int_equal(child(d, tc[4], "skipped", 0), -1);
    assert_non_null(strstr(d->el[child(d, tc[4], "system-out", 0)].text, "XPASS"));
    /* ERROR */
    int er = child(d, tc[5], "error", 0);
    assert_string_equal(attr(&d->el[er], "message"), "could not start the server: <no such file>");
    assert_string_equal(attr(&d->el[er], "type"), "error");
    assert_non_null(strstr(d->el[er].text, "trace: traces/<&>\".cbor"));
    /* INFO passes, with the finding in system-out */
    assert_int_equal(child(d, tc[6], "failure", 0), -1);
    assert_non_null(strstr(d->el[child(d, tc[6], "system-out", 0)].text, "INFO-level finding"));
    /* a crash is an error */
    er = child(d, tc[7], "error", 0);
    assert_string_equal(attr(&d->el[er], "type"), "crash");
    assert_non_null(strstr(d->el[child(d, tc[7], "system-err", 0)].text, "stderr line 30\ntail xxx"));

    free_doc(d);
    free(d);
    free(xml);
}

/* the checker itself must catch what it is there for */
static void checker_rejects_bad_xml(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "<a>&</a>", "<a>&bogus;</a>", "<a>\x01</a>", "<a b=\"<\"/>", "<a><b></a></b>",
        "<a b=\"1\" b=\"2\"/>", "<a>\xff</a>", "<a b=\"x\ny\"/>", "<a>&#1;</a>", "<a/><b/>",
        "<a>]]></a>", "<a b=\"1\"c=\"2\"/>", "<a>", "<a>\r</a>", "<a>\xef\xbf\xbe</a>",
    };
    struct doc *d = calloc(1, sizeof *d);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char doc[128];
        int n = snprintf(doc, sizeof doc, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n%s", bad[i]);
        bool ok = parse_xml(doc, (size_t)n, d);
        free_doc(d);
        if (ok) fail_msg("checker accepted %s", bad[i]);
    }
    const char *good = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a b=\"&#10;&lt;\"><c/>x&amp;y</a>\n";
    assert_true(parse_xml(good, strlen(good), d));
    assert_string_equal(d->el[0].attr_val[0], "\n<");
    assert_string_equal(d->el[0].text, "x&y");
    free_doc(d);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(well_formed_with_every_verdict),
        cmocka_unit_test(checker_rejects_bad_xml),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
