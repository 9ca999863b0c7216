/* Trace reader: a pull parser over libcbor's streaming decoder, one item
 * head at a time, walking the schema of trace.h.  No tree is built, so a
 * file cannot make us allocate more than what it actually holds: byte
 * strings are known to be present before they are copied, and the event
 * list grows with the events actually parsed, not with a declared count. */
#include "trace.h"

#include <cbor.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace_keys.h"
#include "utf8.h"

enum tk { T_NONE, T_UINT, T_BYTES, T_TEXT, T_ARRAY, T_MAP, T_OTHER };

struct tok {
    enum tk k;
    uint64_t v;             /* UINT value, ARRAY/MAP count */
    const uint8_t *p;       /* BYTES/TEXT */
    size_t len;
};

struct rd {
    const uint8_t *buf;
    size_t n, pos;
    struct cbor_callbacks cbs;
    char *why;
    size_t whyn;
};

static bool fail(struct rd *r, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(struct rd *r, const char *where, const char *fmt, ...)
{
    if (!r->whyn) return false;
    int k = snprintf(r->why, r->whyn, "%s: ", where);
    if (k < 0 || (size_t)k >= r->whyn) return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why + k, r->whyn - (size_t)k, fmt, ap);
    va_end(ap);
    return false;
}

/* ---------------------------------------------------- token callbacks --- */

static void on_uint(struct tok *t, uint64_t v) { t->k = T_UINT; t->v = v; }
static void cb_u8(void *c, uint8_t v) { on_uint(c, v); }
static void cb_u16(void *c, uint16_t v) { on_uint(c, v); }
static void cb_u32(void *c, uint32_t v) { on_uint(c, v); }
static void cb_u64(void *c, uint64_t v) { on_uint(c, v); }
static void cb_bytes(void *c, cbor_data p, size_t n) { *(struct tok *)c = (struct tok){T_BYTES, 0, p, n}; }
static void cb_text(void *c, cbor_data p, size_t n) { *(struct tok *)c = (struct tok){T_TEXT, 0, p, n}; }
static void cb_array(void *c, size_t n) { *(struct tok *)c = (struct tok){T_ARRAY, n, NULL, 0}; }
static void cb_map(void *c, size_t n) { *(struct tok *)c = (struct tok){T_MAP, n, NULL, 0}; }
/* everything the schema never uses: negative integers, indefinite lengths,
 * tags, floats, simple values */
static void other(void *c) { ((struct tok *)c)->k = T_OTHER; }
static void cb_o8(void *c, uint8_t v) { (void)v; other(c); }
static void cb_o16(void *c, uint16_t v) { (void)v; other(c); }
static void cb_o32(void *c, uint32_t v) { (void)v; other(c); }
static void cb_o64(void *c, uint64_t v) { (void)v; other(c); }
static void cb_of(void *c, float v) { (void)v; other(c); }
static void cb_od(void *c, double v) { (void)v; other(c); }
static void cb_ob(void *c, bool v) { (void)v; other(c); }

static void rd_init(struct rd *r, const uint8_t *buf, size_t n, char *why, size_t whyn)
{
    *r = (struct rd){.buf = buf, .n = n, .why = why, .whyn = whyn};
    struct cbor_callbacks *c = &r->cbs;
    *c = cbor_empty_callbacks;
    c->uint8 = cb_u8;
    c->uint16 = cb_u16;
    c->uint32 = cb_u32;
    c->uint64 = cb_u64;
    c->negint8 = cb_o8;
    c->negint16 = cb_o16;
    c->negint32 = cb_o32;
    c->negint64 = cb_o64;
    c->byte_string = cb_bytes;
    c->string = cb_text;
    c->array_start = cb_array;
    c->map_start = cb_map;
    c->byte_string_start = other;
    c->string_start = other;
    c->indef_array_start = other;
    c->indef_map_start = other;
    c->tag = cb_o64;
    c->float2 = cb_of;
    c->float4 = cb_of;
    c->float8 = cb_od;
    c->undefined = other;
    c->null = other;
    c->boolean = cb_ob;
    c->indef_break = other;
}

static const char *const tk_names[] = {
    [T_NONE] = "nothing", [T_UINT] = "an unsigned integer", [T_BYTES] = "a byte string",
    [T_TEXT] = "a text string", [T_ARRAY] = "an array", [T_MAP] = "a map",
    [T_OTHER] = "an item the schema does not use",
};

static bool next(struct rd *r, struct tok *t, const char *where)
{
    *t = (struct tok){T_NONE, 0, NULL, 0};
    if (r->pos >= r->n) return fail(r, where, "document cut short");
    struct cbor_decoder_result res = cbor_stream_decode(r->buf + r->pos, r->n - r->pos, &r->cbs, t);
    if (res.status == CBOR_DECODER_NEDATA) return fail(r, where, "document cut short");
    if (res.status != CBOR_DECODER_FINISHED || res.read == 0 || res.read > r->n - r->pos)
        return fail(r, where, "malformed CBOR at byte %zu", r->pos);
    r->pos += res.read;
    if (t->k == T_NONE || t->k == T_OTHER)
        return fail(r, where, "%s at byte %zu (indefinite length, tag, float, simple value or "
                    "negative number)", tk_names[T_OTHER], r->pos - res.read);
    /* every element takes at least one byte: a count beyond what is left
     * is a lie, whatever is done with it */
    uint64_t left = r->n - r->pos;
    if ((t->k == T_ARRAY && t->v > left) || (t->k == T_MAP && t->v > left / 2))
        return fail(r, where, "%s of %llu elements in %llu remaining bytes", tk_names[t->k],
                    (unsigned long long)t->v, (unsigned long long)left);
    return true;
}

static bool expect(struct rd *r, struct tok *t, enum tk k, const char *where)
{
    if (!next(r, t, where)) return false;
    if (t->k != k) return fail(r, where, "%s where %s belongs", tk_names[t->k], tk_names[k]);
    return true;
}

static bool skip(struct rd *r, unsigned depth, const char *where)
{
    if (depth > VFU_TRACE_MAX_DEPTH) return fail(r, where, "nested deeper than %d", VFU_TRACE_MAX_DEPTH);
    struct tok t;
    if (!next(r, &t, where)) return false;
    uint64_t n = t.k == T_ARRAY ? t.v : t.k == T_MAP ? 2 * t.v : 0;
    for (uint64_t i = 0; i < n; i++)
        if (!skip(r, depth + 1, where)) return false;
    return true;
}

static bool is_key(const struct tok *t, const char *k)
{
    size_t n = strlen(k);
    return t->len == n && memcmp(t->p, k, n) == 0;
}

/* one key of a map: its index in keys[], or nkeys for an unknown one;
 * duplicates are refused */
static bool key(struct rd *r, const char *const *keys, unsigned nkeys, unsigned *seen,
                unsigned *which, const char *where)
{
    struct tok t;
    if (!expect(r, &t, T_TEXT, where)) return false;
    for (unsigned i = 0; i < nkeys; i++)
        if (is_key(&t, keys[i])) {
            if (*seen & (1u << i)) return fail(r, where, "key \"%s\" twice", keys[i]);
            *seen |= 1u << i;
            *which = i;
            return true;
        }
    *which = nkeys;
    return true;
}

static bool get_uint(struct rd *r, uint64_t *v, uint64_t max, const char *where)
{
    struct tok t;
    if (!expect(r, &t, T_UINT, where)) return false;
    if (t.v > max) return fail(r, where, "%llu above %llu", (unsigned long long)t.v, (unsigned long long)max);
    *v = t.v;
    return true;
}

static bool get_text(struct rd *r, char **out, const char *where)
{
    struct tok t;
    if (!expect(r, &t, T_TEXT, where)) return false;
    if (t.len > VFU_TRACE_MAX_META) return fail(r, where, "text longer than %u bytes", VFU_TRACE_MAX_META);
    if (memchr(t.p, 0, t.len)) return fail(r, where, "NUL inside text");
    for (size_t i = 0; i < t.len;) {
        uint32_t cp;
        unsigned k = vfu_utf8_decode(t.p + i, t.len - i, &cp);
        if (!k) return fail(r, where, "ill-formed UTF-8 at byte %zu of the text", i);
        i += k;
    }
    char *s = malloc(t.len + 1);
    if (!s) return fail(r, where, "out of memory");
    memcpy(s, t.p, t.len);
    s[t.len] = '\0';
    free(*out);
    *out = s;
    return true;
}

static bool missing(struct rd *r, unsigned seen, unsigned need, const char *const *keys, const char *where)
{
    for (unsigned i = 0; i < 32; i++)
        if ((need & (1u << i)) && !(seen & (1u << i))) return fail(r, where, "no \"%s\"", keys[i]);
    return true;
}

/* -------------------------------------------------------------- meta --- */

static bool parse_meta(struct rd *r, struct vfu_trace *tr)
{
    static const char *const keys[] = {TK_TOOL, TK_START, TK_CAP, TK_SCENARIO, TK_SERVER, TK_CAPS};
    enum { K_TOOL, K_START, K_CAP, K_SCENARIO, K_SERVER, K_CAPS, NK };
    struct tok t;
    if (!expect(r, &t, T_MAP, "meta")) return false;
    unsigned seen = 0, which;
    for (uint64_t i = 0; i < t.v; i++) {
        if (!key(r, keys, NK, &seen, &which, "meta")) return false;
        char where[32];
        snprintf(where, sizeof where, "meta.%s", which < NK ? keys[which] : "?");
        bool ok;
        switch (which) {
        case K_TOOL: ok = get_text(r, &tr->tool, where); break;
        case K_START: ok = get_text(r, &tr->start, where); break;
        case K_CAP: ok = get_uint(r, &tr->cap, UINT64_MAX, where); break;
        case K_SCENARIO: ok = get_text(r, &tr->scenario, where); break;
        case K_SERVER: ok = get_text(r, &tr->server, where); break;
        case K_CAPS: ok = get_text(r, &tr->caps, where); break;
        default: ok = skip(r, 2, where); break;
        }
        if (!ok) return false;
    }
    return missing(r, seen, 1u << K_TOOL | 1u << K_START | 1u << K_CAP, keys, "meta");
}

/* ------------------------------------------------------------ events --- */

static bool parse_fd(struct rd *r, struct vfu_trace_fd *fd, const char *where)
{
    static const char *const keys[] = {TK_KIND, TK_SIZE};
    struct tok t;
    if (!expect(r, &t, T_MAP, where)) return false;
    unsigned seen = 0, which;
    for (uint64_t i = 0; i < t.v; i++) {
        if (!key(r, keys, 2, &seen, &which, where)) return false;
        if (which == 0) {
            struct tok k;
            if (!expect(r, &k, T_TEXT, where)) return false;
            bool known = false;
            for (unsigned j = 0; vfu_fd_kind_name(j); j++)
                if (is_key(&k, vfu_fd_kind_name(j))) { fd->kind = j; known = true; }
            if (!known) return fail(r, where, "unknown fd kind");
        } else if (which == 1) {
            if (!get_uint(r, &fd->size, UINT64_MAX, where)) return false;
        } else if (!skip(r, 4, where))
            return false;
    }
    return missing(r, seen, 1, keys, where);
}

static bool parse_fds(struct rd *r, struct vfu_trace_event *e, const char *where)
{
    struct tok t;
    if (!expect(r, &t, T_ARRAY, where)) return false;
    if (t.v > VFU_MAX_FDS) return fail(r, where, "%llu fds, more than a message can carry", (unsigned long long)t.v);
    if (!t.v) return true;
    e->fds = calloc(t.v, sizeof *e->fds);
    if (!e->fds) return fail(r, where, "out of memory");
    for (unsigned i = 0; i < t.v; i++) {
        char w[96];
        snprintf(w, sizeof w, "%.64s[%u]", where, i);
        if (!parse_fd(r, &e->fds[i], w)) return false;
        e->nfds = i + 1;
    }
    return true;
}

static bool parse_err(struct rd *r, struct vfu_error *e, const char *where)
{
    static const char *const keys[] = {TK_CODE, TK_GOT, TK_WANT, TK_ERRNO, TK_CMD};
    enum { K_CODE, K_GOT, K_WANT, K_ERRNO, K_CMD, NK };
    struct tok t;
    if (!expect(r, &t, T_MAP, where)) return false;
    vfu_error_set(e, VFU_OK, -1, -1, 0, 0);
    unsigned seen = 0, which;
    uint64_t v = 0;
    for (uint64_t i = 0; i < t.v; i++) {
        if (!key(r, keys, NK, &seen, &which, where)) return false;
        bool ok = true;
        switch (which) {
        case K_CODE: {
            struct tok c;
            if (!expect(r, &c, T_TEXT, where)) return false;
            unsigned code = VFU_E__COUNT;
            for (unsigned j = 0; j < VFU_E__COUNT; j++)
                if (is_key(&c, vfu_errc_name(j))) code = j;
            if (code == VFU_E__COUNT || code == VFU_OK) return fail(r, where, "unknown error code");
            e->code = code;
            break;
        }
        case K_GOT: ok = get_uint(r, &e->got, UINT64_MAX, where); break;
        case K_WANT: ok = get_uint(r, &e->want, UINT64_MAX, where); break;
        case K_ERRNO: ok = get_uint(r, &v, 4095, where); e->sys_errno = (int)v; break;
        case K_CMD: ok = get_uint(r, &v, UINT16_MAX, where); e->cmd = (int32_t)v; break;
        default: ok = skip(r, 4, where); break;
        }
        if (!ok) return false;
    }
    return missing(r, seen, 1u << K_CODE, keys, where);
}

static bool parse_event(struct rd *r, struct vfu_trace_event *e, uint64_t prev_t, const char *where)
{
    static const char *const keys[] = {TK_T, TK_DIR, TK_CHAN, TK_BYTES, TK_FDS, TK_ERR};
    enum { K_T, K_DIR, K_CHAN, K_BYTES, K_FDS, K_ERR, NK };
    struct tok t;
    if (!expect(r, &t, T_MAP, where)) return false;
    unsigned seen = 0, which;
    uint64_t v = 0;
    for (uint64_t i = 0; i < t.v; i++) {
        if (!key(r, keys, NK, &seen, &which, where)) return false;
        char w[64];
        snprintf(w, sizeof w, "%.32s.%.8s", where, which < NK ? keys[which] : "?");
        bool ok = true;
        switch (which) {
        case K_T:
            ok = get_uint(r, &e->t_ns, UINT64_MAX, w);
            if (ok && e->t_ns < prev_t) return fail(r, w, "earlier than the event before");
            break;
        case K_DIR: {
            struct tok d;
            if (!expect(r, &d, T_TEXT, w)) return false;
            if (is_key(&d, TV_TX)) e->dir = VFU_TRACE_TX;
            else if (is_key(&d, TV_RX)) e->dir = VFU_TRACE_RX;
            else return fail(r, w, "neither \"" TV_TX "\" nor \"" TV_RX "\"");
            break;
        }
        case K_CHAN:
            ok = get_uint(r, &v, VFU_TRACE_NCHAN - 1, w);
            e->chan = (unsigned)v;
            break;
        case K_BYTES: {
            struct tok b;
            if (!expect(r, &b, T_BYTES, w)) return false;
            if (b.len) {
                e->bytes = malloc(b.len);
                if (!e->bytes) return fail(r, w, "out of memory");
                memcpy(e->bytes, b.p, b.len);
            }
            e->len = b.len;
            break;
        }
        case K_FDS: ok = parse_fds(r, e, w); break;
        case K_ERR: ok = parse_err(r, &e->err, w); e->has_err = ok; break;
        default: ok = skip(r, 3, w); break;
        }
        if (!ok) return false;
    }
    return missing(r, seen, 1u << K_T | 1u << K_DIR | 1u << K_CHAN | 1u << K_BYTES, keys, where);
}

static void event_release(struct vfu_trace_event *e)
{
    free(e->bytes);
    free(e->fds);
}

static bool parse_events(struct rd *r, struct vfu_trace *tr)
{
    struct tok t;
    if (!expect(r, &t, T_ARRAY, "events")) return false;
    if (t.v > VFU_TRACE_MAX_EVENTS)
        return fail(r, "events", "%llu events, more than %u", (unsigned long long)t.v, VFU_TRACE_MAX_EVENTS);
    size_t room = 0;
    for (uint64_t i = 0; i < t.v; i++) {
        if (tr->n == room) {
            size_t want = room ? 2 * room : 64;
            struct vfu_trace_event *ev = realloc(tr->ev, want * sizeof *ev);
            if (!ev) return fail(r, "events", "out of memory");
            tr->ev = ev;
            room = want;
        }
        struct vfu_trace_event *e = &tr->ev[tr->n];
        *e = (struct vfu_trace_event){.dir = VFU_TRACE_TX};
        vfu_error_set(&e->err, VFU_OK, -1, -1, 0, 0);
        char where[32];
        snprintf(where, sizeof where, "events[%llu]", (unsigned long long)i);
        bool ok = parse_event(r, e, tr->n ? tr->ev[tr->n - 1].t_ns : 0, where);
        if (!ok) {
            event_release(e);
            return false;
        }
        tr->n++;
    }
    return true;
}

static bool parse_truncated(struct rd *r, struct vfu_trace *tr)
{
    static const char *const keys[] = {TK_T, TK_EVCOUNT, TK_BYTECOUNT, TK_REASON};
    enum { K_T, K_EVENTS, K_BYTES, K_REASON, NK };
    struct tok t;
    if (!expect(r, &t, T_MAP, "truncated")) return false;
    unsigned seen = 0, which;
    for (uint64_t i = 0; i < t.v; i++) {
        if (!key(r, keys, NK, &seen, &which, "truncated")) return false;
        bool ok = true;
        switch (which) {
        case K_T: ok = get_uint(r, &tr->trunc_t, UINT64_MAX, "truncated.t"); break;
        case K_EVENTS: ok = get_uint(r, &tr->dropped_events, UINT64_MAX, "truncated.events"); break;
        case K_BYTES: ok = get_uint(r, &tr->dropped_bytes, UINT64_MAX, "truncated.bytes"); break;
        case K_REASON: {
            struct tok s;
            if (!expect(r, &s, T_TEXT, "truncated.reason")) return false;
            if (!is_key(&s, "cap") && !is_key(&s, "events") && !is_key(&s, "nomem"))
                return fail(r, "truncated.reason", "unknown reason");
            memcpy(tr->trunc_reason, s.p, s.len);
            tr->trunc_reason[s.len] = '\0';
            break;
        }
        default: ok = skip(r, 2, "truncated"); break;
        }
        if (!ok) return false;
    }
    tr->truncated = true;
    return missing(r, seen, 1u << K_T | 1u << K_EVENTS | 1u << K_BYTES | 1u << K_REASON, keys, "truncated");
}

/* ---------------------------------------------------------- document --- */

void vfu_trace_release(struct vfu_trace *t)
{
    if (!t) return;
    free(t->tool);
    free(t->start);
    free(t->scenario);
    free(t->server);
    free(t->caps);
    for (size_t i = 0; i < t->n; i++) event_release(&t->ev[i]);
    free(t->ev);
    memset(t, 0, sizeof *t);
}

static bool parse_doc(struct rd *r, struct vfu_trace *tr)
{
    static const char *const keys[] = {TK_FORMAT, TK_VERSION, TK_META, TK_EVENTS, TK_TRUNCATED};
    enum { K_FORMAT, K_VERSION, K_META, K_EVENTS, K_TRUNCATED, NK };
    struct tok t;
    if (!expect(r, &t, T_MAP, "document")) return false;
    unsigned seen = 0, which;
    for (uint64_t i = 0; i < t.v; i++) {
        if (!key(r, keys, NK, &seen, &which, "document")) return false;
        /* format and version come first: nothing else is read on a guess */
        if ((which != K_FORMAT && !(seen & 1u << K_FORMAT)) ||
            (which != K_FORMAT && which != K_VERSION && !(seen & 1u << K_VERSION)))
            return fail(r, "document", "not a vfu-trace: \"format\" and \"version\" must come first");
        bool ok = true;
        uint64_t v;
        switch (which) {
        case K_FORMAT: {
            struct tok f;
            if (!expect(r, &f, T_TEXT, "format")) return false;
            if (!is_key(&f, VFU_TRACE_FORMAT)) return fail(r, "format", "not \"" VFU_TRACE_FORMAT "\"");
            break;
        }
        case K_VERSION:
            if (!get_uint(r, &v, UINT32_MAX, "version")) return false;
            if (v != VFU_TRACE_VERSION) return fail(r, "version", "%llu, this reader knows %d", (unsigned long long)v, VFU_TRACE_VERSION);
            tr->version = (unsigned)v;
            break;
        case K_META: ok = parse_meta(r, tr); break;
        case K_EVENTS: ok = parse_events(r, tr); break;
        case K_TRUNCATED: ok = parse_truncated(r, tr); break;
        default: ok = skip(r, 1, "document"); break;
        }
        if (!ok) return false;
    }
    if (!missing(r, seen, 1u << K_FORMAT | 1u << K_VERSION | 1u << K_META | 1u << K_EVENTS, keys, "document"))
        return false;
    if (r->pos != r->n) return fail(r, "document", "%zu bytes after its end", r->n - r->pos);
    return true;
}

bool vfu_trace_parse(const uint8_t *buf, size_t len, struct vfu_trace *t, char *why, size_t whyn)
{
    memset(t, 0, sizeof *t);
    if (whyn) why[0] = '\0';
    struct rd r;
    rd_init(&r, buf, len, why, whyn);
    if (len > VFU_TRACE_MAX_FILE) {
        fail(&r, "document", "%zu bytes, more than %u", len, VFU_TRACE_MAX_FILE);
        return false;
    }
    if (!parse_doc(&r, t)) {
        vfu_trace_release(t);
        return false;
    }
    return true;
}

bool vfu_trace_load(const char *path, struct vfu_trace *t, char *why, size_t whyn)
{
    memset(t, 0, sizeof *t);
    if (whyn) why[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(why, whyn, "%s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return false;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > VFU_TRACE_MAX_FILE) {
        snprintf(why, whyn, "%s: %s", path, S_ISREG(st.st_mode) ? "larger than a trace can be" : "not a regular file");
        close(fd);
        return false;
    }
    /* the size may change under us: read at most one byte past the limit */
    size_t cap = (size_t)st.st_size + 1, n = 0;
    uint8_t *buf = malloc(cap);
    bool ok = buf != NULL;
    while (ok) {
        if (n == cap) {
            if (cap > VFU_TRACE_MAX_FILE) break;
            size_t want = cap * 2 > (size_t)VFU_TRACE_MAX_FILE + 1 ? (size_t)VFU_TRACE_MAX_FILE + 1 : cap * 2;
            uint8_t *b = realloc(buf, want);
            if (!b) { ok = false; break; }
            buf = b;
            cap = want;
        }
        ssize_t k = read(fd, buf + n, cap - n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            snprintf(why, whyn, "%s: %s", path, strerror(errno));
            free(buf);
            close(fd);
            return false;
        }
        if (k == 0) break;
        n += (size_t)k;
    }
    close(fd);
    if (!ok) {
        snprintf(why, whyn, "%s: out of memory", path);
        free(buf);
        return false;
    }
    char inner[256];
    ok = vfu_trace_parse(buf, n, t, inner, sizeof inner);
    if (!ok) snprintf(why, whyn, "%s: %s", path, inner);
    free(buf);
    return ok;
}
