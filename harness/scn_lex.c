/* Lines and words of a scenario file.  foreach blocks are unrolled here,
 * before any parsing, by substituting {NAME} in the raw text of the lines
 * between `foreach NAME in ...` and `endfor`; the parser never sees them. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "vfu_codec.h"
#include "scn_int.h"
#include "vfu_spec.h"

int vfh_scn_msg(char *msg, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(msg, n, fmt, ap);
    va_end(ap);
    return k;
}

bool vfh_scn_tokenize(const char *text, struct scn_tokens *t, char *msg, size_t msglen)
{
    t->n = 0;
    char *o = t->buf;
    const char *s = text;
    for (;;) {
        while (*s == ' ' || *s == '\t') s++;
        if (!*s || *s == '#') return true;
        if (t->n == SCN_MAX_TOKENS) {
            vfh_scn_msg(msg, msglen, "more than %d words on a line", SCN_MAX_TOKENS);
            return false;
        }
        t->tok[t->n++] = o;
        while (*s && *s != ' ' && *s != '\t') {
            if (*s == '\'') {
                const char *e = strchr(s + 1, '\'');
                if (!e) { vfh_scn_msg(msg, msglen, "' without its closing '"); return false; }
                memcpy(o, s + 1, (size_t)(e - s - 1));
                o += e - s - 1;
                s = e + 1;
            } else if (*s == '"') {
                s++;
                while (*s && *s != '"') {
                    if (*s == '\\' && (s[1] == '"' || s[1] == '\\')) s++;
                    *o++ = *s++;
                }
                if (!*s) { vfh_scn_msg(msg, msglen, "\" without its closing \""); return false; }
                s++;
            } else {
                *o++ = *s++;
            }
        }
        *o++ = 0;
    }
}

const char *vfh_scn_rest_of_line(const char *text, size_t *len)
{
    const char *s = text;
    while (*s == ' ' || *s == '\t') s++;
    while (*s && *s != ' ' && *s != '\t') s++;
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    *len = n;
    return s;
}

/* ------------------------------------------------------------- foreach */

struct binding { const char *name; const char *value; };

struct xctx {
    struct scn_arena *a;
    size_t bytes;              /* text of the lines foreach made so far */
    struct scn_line *raw;      /* text as in the file */
    size_t nraw;
    struct scn_lines *out;
    int *bad_line;
    const char **bad_origin;
    const char *origin;        /* bindings of the lines being expanded */
    char *msg;
    size_t msglen;
};

static bool fail(struct xctx *x, int line, const char *fmt, const char *arg)
{
    *x->bad_line = line;
    *x->bad_origin = x->origin;
    vfh_scn_msg(x->msg, x->msglen, fmt, arg);
    return false;
}

static bool push(struct xctx *x, int line, const char *text, const char *origin)
{
    struct scn_lines *o = x->out;
    if (o->n == SCN_MAX_EXPANDED_LINES) return fail(x, line, "more than %s lines after foreach expansion", "65536");
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 256;
        struct scn_line *v = vfh_scn_alloc(x->a, cap * sizeof *v);
        if (!v) return fail(x, line, "%s", "out of memory");
        if (o->n) memcpy(v, o->v, o->n * sizeof *v);
        o->v = v;
        o->cap = cap;
    }
    o->v[o->n++] = (struct scn_line){line, text, origin};
    return true;
}

static bool ident_char(char c, bool first)
{
    return isalpha((unsigned char)c) || c == '_' || (!first && isdigit((unsigned char)c));
}

/* text with {NAME} of the bindings replaced; NULL (and msg) when too long */
static const char *subst(struct xctx *x, int line, const char *text, const struct binding *b,
                         unsigned nb)
{
    if (!nb) return text;
    /* checked before the copy: a foreach may multiply a file's text */
    if (x->bytes + strlen(text) > SCN_MAX_EXPANDED_BYTES) {
        fail(x, line, "more than %s bytes of text after foreach expansion", "16 MiB");
        return NULL;
    }
    char buf[SCN_MAX_LINE + 1];
    size_t o = 0;
    for (const char *s = text; *s;) {
        const char *rep = NULL;
        size_t skip = 0;
        if (*s == '{' && ident_char(s[1], true)) {
            size_t k = 1;
            while (ident_char(s[k], false)) k++;
            if (s[k] == '}')
                for (unsigned i = 0; i < nb; i++)
                    if (strlen(b[i].name) == k - 1 && !strncmp(b[i].name, s + 1, k - 1)) {
                        rep = b[i].value;
                        skip = k + 1;
                    }
        }
        size_t n = rep ? strlen(rep) : 1;
        if (o + n > SCN_MAX_LINE) {
            fail(x, line, "line longer than %s bytes after foreach substitution", "1024");
            return NULL;
        }
        memcpy(buf + o, rep ? rep : s, n);
        o += n;
        s += rep ? skip : 1;
    }
    if (x->bytes + o > SCN_MAX_EXPANDED_BYTES) {
        fail(x, line, "more than %s bytes of text after foreach expansion", "16 MiB");
        return NULL;
    }
    x->bytes += o + 1;
    return vfh_scn_strndup(x->a, buf, o);
}

/* "" for a blank line; NULL when the words cannot be read (the parser
 * reports why) */
static const char *first_word(const char *text, struct scn_tokens *t)
{
    char m[8];
    if (!vfh_scn_tokenize(text, t, m, sizeof m)) return NULL;
    return t->n ? t->tok[0] : "";
}

/* the values a foreach runs over: words, N..M ranges, named command lists */
static unsigned list_values(struct xctx *x, int line, const struct scn_tokens *t,
                            const char **vals)
{
    unsigned n = 0;
    for (unsigned i = 3; i < t->n; i++) {
        const char *w = t->tok[i];
        uint64_t lo, hi;
        const char *dots = strstr(w, "..");
        char tmp[32];
        if (!strcmp(w, "client-commands") || !strcmp(w, "server-commands") || !strcmp(w, "commands")) {
            for (unsigned c = 0; c < vfu_ncmds(); c++) {
                const struct vfu_cmd_desc *d = vfu_cmd(c);
                if (!d) continue;
                bool client = d->dir == VFU_DIR_CLIENT;
                if (w[0] == 'c' && w[1] == 'l' && (!client || c == VFU_CMD_VERSION)) continue;
                if (w[0] == 's' && client) continue;
                if (n == SCN_MAX_FOREACH_WORDS) goto many;
                vals[n++] = d->name;
            }
        } else if (dots && dots > w && (snprintf(tmp, sizeof tmp, "%.*s", (int)(dots - w), w), vfh_scn_read_number(tmp, &lo)) &&
                   vfh_scn_read_number(dots + 2, &hi)) {
            if (hi < lo || hi - lo >= SCN_MAX_FOREACH_WORDS) {
                fail(x, line, "range %s: empty, or more than 256 values", w);
                return (unsigned)-1;
            }
            for (uint64_t v = lo; v <= hi; v++) {
                if (n == SCN_MAX_FOREACH_WORDS) goto many;
                snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
                vals[n++] = vfh_scn_strdup(x->a, tmp);
                if (!vals[n - 1]) { fail(x, line, "%s", "out of memory"); return (unsigned)-1; }
            }
        } else {
            if (n == SCN_MAX_FOREACH_WORDS) goto many;
            vals[n++] = vfh_scn_strdup(x->a, w);
            if (!vals[n - 1]) { fail(x, line, "%s", "out of memory"); return (unsigned)-1; }
        }
    }
    return n;
many:
    fail(x, line, "foreach over more than %s values", "256");
    return (unsigned)-1;
}

static bool expand(struct xctx *x, size_t from, size_t to, struct binding *b, unsigned nb,
                   const char *origin)
{
    struct scn_tokens t;
    for (size_t i = from; i < to; i++) {
        x->origin = origin;
        int line = x->raw[i].line;
        const char *text = subst(x, line, x->raw[i].text, b, nb);
        if (!text) return false;
        const char *w = first_word(text, &t);
        if (w && !strcmp(w, "endfor")) return fail(x, line, "%s", "endfor without foreach");
        if (!w || strcmp(w, "foreach")) {
            if ((!w || *w) && !push(x, line, text, origin)) return false;
            continue;
        }
        if (nb == SCN_MAX_FOREACH_DEPTH) return fail(x, line, "foreach nested deeper than %s", "4");
        if (t.n < 4 || strcmp(t.tok[2], "in"))
            return fail(x, line, "%s", "expected: foreach NAME in VALUE...");
        const char *name = t.tok[1];
        bool ok = ident_char(name[0], true) && strlen(name) < SCN_MAX_NAME;
        for (const char *p = name; ok && *p; p++) ok = ident_char(*p, false);
        if (!ok) return fail(x, line, "foreach: bad name '%s'", name);
        for (unsigned k = 0; k < nb; k++)
            if (!strcmp(b[k].name, name)) return fail(x, line, "foreach: %s is already bound", name);
        /* the matching endfor, by the first word of the raw lines */
        size_t end = i + 1;
        int depth = 0;
        for (; end < to; end++) {
            const char *fw = first_word(x->raw[end].text, &t);
            if (!fw) continue;
            if (!strcmp(fw, "foreach")) depth++;
            else if (!strcmp(fw, "endfor") && depth-- == 0) break;
        }
        if (end == to) return fail(x, line, "%s", "foreach without endfor");
        first_word(text, &t);   /* the list words again (t was reused) */
        const char *vals[SCN_MAX_FOREACH_WORDS];
        unsigned nv = list_values(x, line, &t, vals);
        if (nv == (unsigned)-1) return false;
        char *nm = vfh_scn_strdup(x->a, name);
        if (!nm) return fail(x, line, "%s", "out of memory");
        for (unsigned v = 0; v < nv; v++) {
            b[nb] = (struct binding){nm, vals[v]};
            char o[SCN_MAX_LINE];
            snprintf(o, sizeof o, "%s%s%s=%s", origin ? origin : "", origin ? " " : "", nm, vals[v]);
            const char *org = vfh_scn_strdup(x->a, o);
            if (!org) return fail(x, line, "%s", "out of memory");
            if (!expand(x, i + 1, end, b, nb + 1, org)) return false;
        }
        i = end;
    }
    return true;
}

bool vfh_scn_lines_read(struct scn_arena *a, const char *text, size_t len, struct scn_lines *out,
                    int *bad_line, const char **bad_origin, char *msg, size_t msglen)
{
    memset(out, 0, sizeof *out);
    *bad_line = 0;
    *bad_origin = NULL;
    /* count first: the raw line table is sized before it is allocated */
    size_t nl = 1;
    for (size_t i = 0; i < len; i++) nl += text[i] == '\n';
    if (nl > SCN_MAX_EXPANDED_LINES) {
        vfh_scn_msg(msg, msglen, "more than %d lines", SCN_MAX_EXPANDED_LINES);
        return false;
    }
    struct scn_line *raw = vfh_scn_alloc(a, nl * sizeof *raw);
    if (!raw) { vfh_scn_msg(msg, msglen, "out of memory"); return false; }
    size_t n = 0;
    int line = 0;
    for (size_t i = 0; i < len;) {
        line++;
        const char *e = memchr(text + i, '\n', len - i);
        size_t l = e ? (size_t)(e - (text + i)) : len - i;
        size_t next = i + l + (e ? 1 : 0);
        if (l && text[i + l - 1] == '\r') l--;
        if (l > SCN_MAX_LINE) {
            *bad_line = line;
            vfh_scn_msg(msg, msglen, "line longer than %d bytes", SCN_MAX_LINE);
            return false;
        }
        if (memchr(text + i, 0, l)) {
            *bad_line = line;
            vfh_scn_msg(msg, msglen, "NUL byte in the line");
            return false;
        }
        char *s = vfh_scn_strndup(a, text + i, l);
        if (!s) { vfh_scn_msg(msg, msglen, "out of memory"); return false; }
        raw[n++] = (struct scn_line){line, s, NULL};
        i = next;
    }
    struct binding b[SCN_MAX_FOREACH_DEPTH];
    struct xctx x = {a, 0, raw, n, out, bad_line, bad_origin, NULL, msg, msglen};
    return expand(&x, 0, n, b, 0, NULL);
}
