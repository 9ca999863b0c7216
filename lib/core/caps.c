/* VERSION capabilities through the generated table: every name, JSON kind,
 * parent object and default comes from vfu_spec.capabilities. */
#include "vfu_caps.h"

#include <json-c/json.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "vfu_desc.h"
#include "spec_tables.h"

static const struct vfu_capability_desc *desc(int cap)
{
    return &vfu_spec.capabilities[cap];
}

static bool valid_id(int cap)
{
    return cap >= 0 && cap < VFU_CAP__COUNT && cap < vfu_spec.ncapabilities;
}

/* ------------------------------------------------------------- names --- */

static char dotted[VFU_CAP__COUNT][64];
static pthread_once_t dotted_once = PTHREAD_ONCE_INIT;

static void build_dotted(void)
{
    /* a parent precedes its members in the table, so its path is ready */
    for (int i = 0; i < VFU_CAP__COUNT; i++) {
        int p = desc(i)->parent;
        if (p >= 0 && p < i) {
            /* through a copy: the compiler cannot see that p != i */
            char parent[sizeof dotted[0]];
            memcpy(parent, dotted[p], sizeof parent);
            /* spec names are short: each half bounded so the whole fits */
            snprintf(dotted[i], sizeof dotted[i], "%.31s.%.31s", parent, desc(i)->name);
        } else
            snprintf(dotted[i], sizeof dotted[i], "%s", desc(i)->name);
    }
}

const char *vfu_cap_name(int cap)
{
    if (!valid_id(cap)) return "?";
    pthread_once(&dotted_once, build_dotted);
    return dotted[cap];
}

int vfu_cap_by_name(const char *name)
{
    if (!name) return -1;
    for (int i = 0; i < VFU_CAP__COUNT; i++)
        if (!strcmp(vfu_cap_name(i), name)) return i;
    return -1;
}

/* ------------------------------------------------------------ values --- */

void vfu_caps_init(struct vfu_caps *c)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < VFU_CAP__COUNT; i++)
        c->v[i] = desc(i)->has_default ? desc(i)->dflt : 0;
}

uint64_t vfu_caps_get(const struct vfu_caps *c, int cap)
{
    return valid_id(cap) ? c->v[cap] : 0;
}

void vfu_caps_set(struct vfu_caps *c, int cap, uint64_t v)
{
    if (!valid_id(cap)) return;
    c->v[cap] = v;
    for (int i = cap; valid_id(i); i = desc(i)->parent)
        c->present[i] = true;
}

/* Values the spec's wording rules out although the JSON type allows them.
 * They are meanings, not layouts, so they live here rather than in the
 * spec file; each line says why.
 *  - max_data_xfer_size 0: no read or write could move a byte, and the
 *    codec takes a zero limit to mean "unchecked".
 *  - pgsizes 0: the mask of DMA page sizes would name none at all.
 *  - migration.pgsize: the dirty-bitmap granularity is a page size, so a
 *    power of two (zero included in the refusal).
 * max_msg_fds 0 stays legal: it counts the fds the sender can receive, and
 * a side that takes none may say so (libvfio-user accepts 0 and then
 * declines twin sockets). */
enum value_rule { AT_LEAST_ONE, POWER_OF_TWO };
static const struct {
    int cap;
    enum value_rule rule;
} value_rules[] = {
    {VFU_CAP_MAX_DATA_XFER_SIZE, AT_LEAST_ONE},
    {VFU_CAP_PGSIZES, AT_LEAST_ONE},
    {VFU_CAP_MIGRATION_PGSIZE, POWER_OF_TWO},
};

/* false with *want the nearest allowed value when v breaks cap's rule */
static bool value_allowed(int cap, uint64_t v, uint64_t *want)
{
    for (size_t i = 0; i < sizeof value_rules / sizeof value_rules[0]; i++) {
        if (value_rules[i].cap != cap) continue;
        switch (value_rules[i].rule) {
        case AT_LEAST_ONE:
            if (v == 0) { *want = 1; return false; }
            break;
        case POWER_OF_TWO:
            if (v == 0 || (v & (v - 1))) {
                uint64_t p = 1;
                while (v && p <= v / 2) p <<= 1;
                *want = p;
                return false;
            }
            break;
        }
    }
    return true;
}

/* ----------------------------------------------------------- parsing --- */

static bool fail(struct vfu_error *err, enum vfu_errc code, int cap, bool is_reply, uint64_t got,
                 uint64_t want)
{
    vfu_error_set(err, code, VFU_CMD_VERSION, VFU_F_VERSION_DATA, got, want);
    if (err) {
        err->cap = (int16_t)cap;
        err->is_reply = is_reply;
    }
    return false;
}

static enum vfu_json_type jtype(struct json_object *o)
{
    switch (json_object_get_type(o)) {
    case json_type_boolean: return VFU_JSON_BOOLEAN;
    case json_type_double: return VFU_JSON_DOUBLE;
    case json_type_int: return VFU_JSON_INT;
    case json_type_object: return VFU_JSON_OBJECT;
    case json_type_array: return VFU_JSON_ARRAY;
    case json_type_string: return VFU_JSON_STRING;
    case json_type_null: break;
    }
    return VFU_JSON_NULL;
}

static enum vfu_json_type kind_type(uint8_t kind)
{
    return kind == VFU_CAP_OBJECT ? VFU_JSON_OBJECT
         : kind == VFU_CAP_BOOLEAN ? VFU_JSON_BOOLEAN : VFU_JSON_INT;
}

/* Offset of the first byte that is not well-formed UTF-8 (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or len.  json-c's
 * own check lets overlong forms such as C0 AF through. */
static size_t utf8_flaw(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        unsigned char b = s[i];
        size_t more;
        unsigned char lo = 0x80, hi = 0xbf;   /* bounds of the second byte */
        if (b < 0x80) { i++; continue; }
        if (b >= 0xc2 && b <= 0xdf) more = 1;
        else if (b >= 0xe0 && b <= 0xef) {
            more = 2;
            if (b == 0xe0) lo = 0xa0;
            if (b == 0xed) hi = 0x9f;
        } else if (b >= 0xf0 && b <= 0xf4) {
            more = 3;
            if (b == 0xf0) lo = 0x90;
            if (b == 0xf4) hi = 0x8f;
        } else return i;
        if (len - i <= more || s[i + 1] < lo || s[i + 1] > hi) return i;
        for (size_t k = 2; k <= more; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf) return i;
        i += more + 1;
    }
    return len;
}

/* length of the RFC 8259 number at s, 0 when there is none */
static size_t number_len(const char *s, size_t n)
{
    size_t i = 0;
#define DIGITS(min)                                              \
    do {                                                         \
        size_t from = i;                                         \
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;         \
        if (i - from < (min)) return 0;                          \
    } while (0)
    if (i < n && s[i] == '-') i++;
    if (i < n && s[i] == '0') i++;
    else DIGITS(1);
    if (i < n && s[i] == '.') { i++; DIGITS(1); }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        DIGITS(1);
    }
#undef DIGITS
    return i;
}

static bool word_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '+' || ch == '-' || ch == '_';
}

/* What strict json-c still lets through, found on the raw text: an embedded
 * NUL byte, single-quoted strings, \u0000 (json-c cuts keys at it, so
 * "max_msg_fds\u0000x" would pass for max_msg_fds), numbers outside the
 * JSON grammar ("1.", "01") and bare words other than true, false and null
 * (NaN, Infinity).  Structure is left to json-c.  Returns the offset of the
 * first flaw, or len. */
static size_t lexical_flaw(const char *s, size_t len)
{
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '\0') return i;
        if (in_str) {
            if (ch == '"') {
                in_str = false;
            } else if (ch == '\\' && i + 1 < len) {
                if (s[i + 1] == 'u' && i + 5 < len && !memcmp(s + i + 2, "0000", 4)) return i;
                i++;
            }
            continue;
        }
        size_t k = 0;
        if (ch == '"') {
            in_str = true;
        } else if (ch == '\'') {
            return i;
        } else if (ch == '-' || (ch >= '0' && ch <= '9')) {
            k = number_len(s + i, len - i);
            if (k == 0) return i;
        } else if (word_char(ch)) {
            static const char *const words[] = {"true", "false", "null"};
            for (size_t w = 0; w < 3 && !k; w++) {
                size_t wl = strlen(words[w]);
                if (len - i >= wl && !memcmp(s + i, words[w], wl)) k = wl;
            }
            if (k == 0) return i;
        }
        if (k) {
            if (i + k < len && word_char(s[i + k])) return i + k;
            i += k - 1;
        }
    }
    return len;
}

static void note_unknown(struct vfu_caps *c, const char *path, const char *key)
{
    if (c->unknown++ == 0)
        snprintf(c->first_unknown, sizeof c->first_unknown, "%s%s%s", path, *path ? "." : "", key);
}

static int child_by_name(int parent, const char *key)
{
    for (int i = 0; i < VFU_CAP__COUNT; i++)
        if (desc(i)->parent == parent && !strcmp(desc(i)->name, key)) return i;
    return -1;
}

/* the members of obj, the JSON value of capability parent (-1: the
 * "capabilities" object itself); path is obj's JSON path, for reports */
static bool parse_members(struct vfu_caps *c, struct json_object *obj, int parent, const char *path,
                          bool is_reply, struct vfu_error *err)
{
    json_object_object_foreach(obj, key, val) {
        int i = child_by_name(parent, key);
        if (i < 0) {
            note_unknown(c, path, key);
            continue;
        }
        const struct vfu_capability_desc *d = desc(i);
        enum vfu_json_type want = kind_type(d->kind), got = jtype(val);
        if (got != want) return fail(err, VFU_E_CAPABILITY, i, is_reply, got, want);
        uint64_t v = 0;
        if (d->kind == VFU_CAP_NUMBER) {
            int64_t s = json_object_get_int64(val);
            if (s < 0) return fail(err, VFU_E_CAPABILITY, i, is_reply, (uint64_t)s, 0);
            v = json_object_get_uint64(val);
            /* json-c saturates bigger numbers to this one: it cannot be trusted */
            if (v == UINT64_MAX) return fail(err, VFU_E_CAPABILITY, i, is_reply, v, UINT64_MAX - 1);
        } else if (d->kind == VFU_CAP_BOOLEAN) {
            v = json_object_get_boolean(val) ? 1 : 0;
        }
        if (d->reply_only && !is_reply) return fail(err, VFU_E_CAPABILITY, i, is_reply, v, 0);
        uint64_t bound;
        if (!value_allowed(i, v, &bound)) return fail(err, VFU_E_BAD_VALUE, i, is_reply, v, bound);
        c->present[i] = true;
        if (d->kind == VFU_CAP_OBJECT) {
            char sub[128];
            snprintf(sub, sizeof sub, "%s.%s", path, key);
            if (!parse_members(c, val, i, sub, is_reply, err)) return false;
        } else {
            c->v[i] = v;
        }
    }
    return true;
}

/* the envelope key around the capabilities, not a capability itself */
static const char envelope[] = "capabilities";

bool vfu_caps_parse(struct vfu_caps *c, const char *json, size_t len, bool is_reply,
                    struct vfu_error *err)
{
    vfu_caps_init(c);
    /* got, here and below: the offset where the text stopped being JSON */
    if (!json || len == 0 || len > INT_MAX - 1) return fail(err, VFU_E_JSON, -1, is_reply, 0, len);
    size_t flaw = utf8_flaw((const unsigned char *)json, len);
    if (flaw == len) flaw = lexical_flaw(json, len);
    if (flaw < len) return fail(err, VFU_E_JSON, -1, is_reply, flaw, len);

    /* json-c counts a level for each container and one for the innermost
     * value inside, so it needs one more than the containers allowed */
    struct json_tokener *tok = json_tokener_new_ex(VFU_CAPS_MAX_DEPTH + 1);
    if (!tok) return fail(err, VFU_E_NOMEM, -1, is_reply, 0, 0);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *root = json_tokener_parse_ex(tok, json, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    /* an incomplete text stops at len; strict mode already refuses bytes
     * after the object, the end test keeps the rule whatever the flags */
    if (!root || jerr != json_tokener_success || end != len) {
        json_object_put(root);
        return fail(err, VFU_E_JSON, -1, is_reply, end, len);
    }
    bool ok = true;
    if (!json_object_is_type(root, json_type_object)) {
        ok = fail(err, VFU_E_JSON, -1, is_reply, jtype(root), VFU_JSON_OBJECT);
    } else {
        json_object_object_foreach(root, key, val) {
            if (strcmp(key, envelope)) {
                note_unknown(c, "", key);
            } else if (!json_object_is_type(val, json_type_object)) {
                ok = fail(err, VFU_E_JSON, -1, is_reply, jtype(val), VFU_JSON_OBJECT);
                break;
            } else if (!parse_members(c, val, -1, envelope, is_reply, err)) {
                ok = false;
                break;
            }
        }
    }
    json_object_put(root);
    return ok;
}

/* ----------------------------------------------------------- writing --- */

/* the JSON object holding capability cap's members, made (and hung in its
 * own container) on first use; -1 is the "capabilities" object */
static struct json_object *container(struct json_object *objs[], struct json_object *top, int cap)
{
    if (cap < 0) return top;
    if (!objs[cap]) {
        struct json_object *outer = container(objs, top, desc(cap)->parent);
        if (!outer) return NULL;
        struct json_object *o = json_object_new_object();
        if (!o || json_object_object_add(outer, desc(cap)->name, o)) {
            json_object_put(o);
            return NULL;
        }
        objs[cap] = o;
    }
    return objs[cap];
}

int vfu_caps_to_json(const struct vfu_caps *c, char *buf, size_t n)
{
    struct json_object *root = json_object_new_object();
    struct json_object *top = json_object_new_object();
    struct json_object *objs[VFU_CAP__COUNT] = {0};
    int ret = -1;
    if (!root || !top) {
        json_object_put(root);
        json_object_put(top);
        return -1;
    }
    if (json_object_object_add(root, envelope, top)) {
        json_object_put(top);
        goto out;
    }
    /* json-c keeps insertion order, so table order is the output order */
    for (int i = 0; i < VFU_CAP__COUNT; i++) {
        if (!c->present[i]) continue;
        const struct vfu_capability_desc *d = desc(i);
        if (d->kind == VFU_CAP_OBJECT) {
            if (!container(objs, top, i)) goto out;
            continue;
        }
        struct json_object *outer = container(objs, top, d->parent);
        struct json_object *val = d->kind == VFU_CAP_BOOLEAN ? json_object_new_boolean(c->v[i] != 0)
                                                            : json_object_new_uint64(c->v[i]);
        if (!outer || !val || json_object_object_add(outer, d->name, val)) {
            json_object_put(val);
            goto out;
        }
    }
    const char *s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
    size_t len = s ? strlen(s) : 0;
    if (s && len < n && len <= INT_MAX) {
        memcpy(buf, s, len + 1);
        ret = (int)len;
    }
out:
    json_object_put(root);
    return ret;
}

/* ---------------------------------------------------------- checking --- */

bool vfu_caps_check_subset(const struct vfu_caps *proposed, const struct vfu_caps *reply,
                           struct vfu_error *err)
{
    for (int i = 0; i < VFU_CAP__COUNT; i++) {
        if (!reply->present[i]) continue;
        const struct vfu_capability_desc *d = desc(i);
        uint64_t got = d->kind == VFU_CAP_OBJECT ? 1 : reply->v[i];
        if (d->reply_only) {
            /* it answers its object: twin_socket.fd_index goes with the
             * twin_socket the client asked about */
            if (d->parent >= 0 && !proposed->present[d->parent])
                return fail(err, VFU_E_VERSION, i, true, got, 0);
            continue;
        }
        if (!proposed->present[i]) return fail(err, VFU_E_VERSION, i, true, got, 0);
        /* a feature switched on in the reply must have been asked for */
        if (d->kind == VFU_CAP_BOOLEAN && reply->v[i] && !proposed->v[i])
            return fail(err, VFU_E_VERSION, i, true, 1, 0);
    }
    return true;
}

bool vfu_version_check_reply(uint16_t prop_major, uint16_t prop_minor, uint16_t reply_major,
                             uint16_t reply_minor, struct vfu_error *err)
{
    if (reply_major != prop_major) {
        vfu_error_set(err, VFU_E_VERSION, VFU_CMD_VERSION, VFU_F_VERSION_MAJOR, reply_major, prop_major);
    } else if (reply_minor > prop_minor) {
        vfu_error_set(err, VFU_E_VERSION, VFU_CMD_VERSION, VFU_F_VERSION_MINOR, reply_minor, prop_minor);
    } else {
        return true;
    }
    if (err) err->is_reply = 1;
    return false;
}
