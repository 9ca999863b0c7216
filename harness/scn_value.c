/* Numbers, names and bytes as scenarios write them.  Names are looked up in
 * the generated tables for the field at hand (its flag bits or enum), so a
 * misspelt flag fails when the file is loaded. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfu_caps.h"
#include "vfu_codec.h"
#include "scn_int.h"
#include "vfu_spec.h"

bool vfh_scn_read_number(const char *s, uint64_t *v)
{
    bool neg = *s == '-';
    if (neg) s++;
    if (!isdigit((unsigned char)*s)) return false;
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        if (!isxdigit((unsigned char)*s)) return false;
    }
    uint64_t r = 0;
    for (; *s; s++) {
        int d;
        if (isdigit((unsigned char)*s)) d = *s - '0';
        else if (base == 16 && isxdigit((unsigned char)*s)) d = tolower((unsigned char)*s) - 'a' + 10;
        else return false;
        if (r > (UINT64_MAX - (uint64_t)d) / (uint64_t)base) return false;
        r = r * (uint64_t)base + (uint64_t)d;
    }
    *v = neg ? (uint64_t)0 - r : r;
    return true;
}

/* ---------------------------------------------------------------- errno */

static const struct { const char *alias, *name; } errno_alias[] = {
    {"ENOTSUP", "EOPNOTSUPP"}, {"EWOULDBLOCK", "EAGAIN"}, {"EDEADLOCK", "EDEADLK"},
};
#define ERRNO_MAX 200

bool vfh_scn_errno_value(const char *name, uint32_t *v)
{
    for (size_t i = 0; i < sizeof errno_alias / sizeof errno_alias[0]; i++)
        if (!strcmp(name, errno_alias[i].alias)) name = errno_alias[i].name;
    for (int e = 1; e < ERRNO_MAX; e++) {
        const char *n = strerrorname_np(e);
        if (n && !strcmp(n, name)) { *v = (uint32_t)e; return true; }
    }
    return false;
}

const char *vfh_scn_errno_name(uint32_t v)
{
    return v && v < ERRNO_MAX ? strerrorname_np((int)v) : NULL;
}

/* ------------------------------------------------------------ variables */

bool vfh_scn_valid_name(const char *s)
{
    if (!isalpha((unsigned char)*s) && *s != '_') return false;
    size_t n = 0;
    for (; s[n]; n++)
        if (!isalnum((unsigned char)s[n]) && s[n] != '_') return false;
    return n < SCN_MAX_NAME;
}

/* "N.rest" with N a small decimal index */
static const char *index_then(const char *s)
{
    if (!isdigit((unsigned char)*s)) return NULL;
    unsigned n = 0;
    while (isdigit((unsigned char)*s)) {
        n = n * 10 + (unsigned)(*s++ - '0');
        if (n > 255) return NULL;
    }
    return *s == '.' ? s + 1 : NULL;
}

bool vfh_scn_builtin_var(const char *name)
{
    static const char *const fixed[] = {
        "num_regions", "num_irqs", "device_flags", "config", "mmap_region", "rw_region",
        "mmap_region.size", "rw_region.size", "server.pgsize", "pci.vendor", "pci.device",
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (!strcmp(name, fixed[i])) return true;
    const char *r;
    if (!strncmp(name, "region.", 7) && (r = index_then(name + 7)))
        return !strcmp(r, "size") || !strcmp(r, "flags") || !strcmp(r, "offset") ||
               !strcmp(r, "cap_offset");
    if (!strncmp(name, "irq.", 4) && (r = index_then(name + 4)))
        return !strcmp(r, "count") || !strcmp(r, "flags");
    if (!strncmp(name, "server.", 7)) return vfu_cap_by_name(name + 7) >= 0;
    return false;
}

/* ---------------------------------------------------------------- names */

static void list_names(char *buf, size_t n, struct scn_names names)
{
    size_t o = 0;
    buf[0] = 0;
    if (names.bits_id >= 0) {
        const struct vfu_bits_desc *b = vfu_bits(names.bits_id);
        for (unsigned i = 0; i < b->nbits && o < n; i++) {
            const struct vfu_bit_desc *d = vfu_bit(b->first_bit + i);
            o += (size_t)snprintf(buf + o, n - o, "%s%s%s", o ? " " : "", d->name, d->enum_id >= 0 ? "=..." : "");
        }
    }
    if (names.enum_id >= 0) {
        const struct vfu_enum_desc *e = vfu_enum(names.enum_id);
        for (unsigned i = 0; i < e->n && o < n; i++)
            o += (size_t)snprintf(buf + o, n - o, "%s%s", o ? " " : "", vfu_enum_val(e->first + i)->name);
    }
}

static bool name_value(struct scn_vctx *c, const char *t, struct scn_names names, uint64_t *v)
{
    if (names.bits_id >= 0) {
        const struct vfu_bits_desc *b = vfu_bits(names.bits_id);
        const char *eq = strchr(t, '=');
        size_t nl = eq ? (size_t)(eq - t) : strlen(t);
        for (unsigned i = 0; i < b->nbits; i++) {
            const struct vfu_bit_desc *d = vfu_bit(b->first_bit + i);
            if (strlen(d->name) != nl || strncmp(d->name, t, nl)) continue;
            if (!eq) {
                if (d->enum_id >= 0 || (d->mask >> d->shift) != 1) {
                    vfh_scn_msg(c->msg, c->msglen, "%s is a field of %s: write %s=VALUE", d->name, b->name, d->name);
                    return false;
                }
                *v = d->mask;
                return true;
            }
            uint64_t x;
            if (!vfh_scn_read_number(eq + 1, &x) && (d->enum_id < 0 || !vfu_enum_value(d->enum_id, eq + 1, &x))) {
                char known[512];
                list_names(known, sizeof known, (struct scn_names){-1, d->enum_id, false});
                vfh_scn_msg(c->msg, c->msglen, "%s: unknown value '%s'%s%s", d->name, eq + 1,
                        *known ? " (known: " : "", *known ? known : "");
                if (*known) strncat(c->msg, ")", c->msglen - strlen(c->msg) - 1);
                return false;
            }
            if ((x << d->shift) >> d->shift != x || ((x << d->shift) & ~d->mask)) {
                vfh_scn_msg(c->msg, c->msglen, "%s: %s does not fit the field", d->name, eq + 1);
                return false;
            }
            *v = x << d->shift;
            return true;
        }
    }
    if (names.enum_id >= 0 && vfu_enum_value(names.enum_id, t, v)) return true;
    uint32_t e;
    if (names.errnos && vfh_scn_errno_value(t, &e)) { *v = e; return true; }
    char known[512];
    list_names(known, sizeof known, names);
    if (*known)
        vfh_scn_msg(c->msg, c->msglen, "unknown name '%s' (known: %s)", t, known);
    else if (names.errnos)
        vfh_scn_msg(c->msg, c->msglen, "unknown errno name '%s'", t);
    else
        vfh_scn_msg(c->msg, c->msglen, "'%s' is not a number or $variable", t);
    return false;
}

/* the length of a variable's name at s: letters, digits, _ and . */
static size_t name_len(const char *s)
{
    size_t n = 0;
    while (isalnum((unsigned char)s[n]) || s[n] == '_' || s[n] == '.') n++;
    return n;
}

/* $sizeof.STRUCT or $offsetof.STRUCT.FIELD: a number from the spec's tables,
 * known when the file is read (a width changed in the spec changes what the
 * scenarios send and expect).  0 when name is neither, -1 (and msg) when it
 * names nothing in the tables, 1 with *x set otherwise. */
static int spec_number(struct scn_vctx *c, const char *name, int64_t *x)
{
    bool off = !strncmp(name, "offsetof.", 9);
    if (!off && strncmp(name, "sizeof.", 7)) return 0;
    char sname[SCN_MAX_NAME];
    snprintf(sname, sizeof sname, "%s", name + (off ? 9 : 7));
    char *dot = off ? strchr(sname, '.') : NULL;
    if (off && !dot) {
        vfh_scn_msg(c->msg, c->msglen, "$%s: write $offsetof.STRUCT.FIELD", name);
        return -1;
    }
    if (dot) *dot = 0;
    int sid = vfu_struct_by_name(sname);
    int n = off ? vfu_field_offset(vfu_field_by_name(sid, dot + 1)) : vfu_struct_size(sid);
    if (sid < 0 || n < 0) {
        vfh_scn_msg(c->msg, c->msglen, sid < 0 ? "$%s: the spec has no structure '%s'"
                                           : "$%s: '%s' has no fixed field of that name", name, sname);
        return -1;
    }
    *x = n;
    return 1;
}

#define TERM_FORMS "write $NAME, $NAME+N, $NAME-N or a sum such as $sizeof.A+$sizeof.B-N"

/* A term that starts with $: $NAMEs and numbers joined by + and -
 * ($region.0.size-1, $sizeof.device_feature+$sizeof.feature_mig_state).
 * The $sizeof and $offsetof in it are numbers now; at most one other
 * variable (known only when the scenario runs) may be added in, never
 * subtracted: the value keeps it as its name plus a constant. */
static bool var_term(struct scn_vctx *c, const char *t, struct scn_value *v)
{
    char var[SCN_MAX_NAME] = "";
    int64_t sum = 0;
    bool sub = false;
    for (const char *s = t;;) {
        /* the summand at s, up to the next + or - */
        int64_t x;
        if (*s == '$') {
            size_t n = name_len(s + 1);
            if (!n || n >= SCN_MAX_NAME) {
                if (s == t) vfh_scn_msg(c->msg, c->msglen, "bad variable '%s'", t);
                else vfh_scn_msg(c->msg, c->msglen, "bad variable term '%s': a name after each $ (%s)", t, TERM_FORMS);
                return false;
            }
            char name[SCN_MAX_NAME];
            memcpy(name, s + 1, n);
            name[n] = 0;
            s += 1 + n;
            int k = spec_number(c, name, &x);
            if (k < 0) return false;
            if (!k) {
                if (*var) {
                    vfh_scn_msg(c->msg, c->msglen, "bad variable term '%s': $%s and $%s in one sum (a sum holds at most one "
                            "variable besides $sizeof and $offsetof; join values with |)", t, var, name);
                    return false;
                }
                if (sub) {
                    vfh_scn_msg(c->msg, c->msglen, "bad variable term '%s': $%s subtracted (only numbers, $sizeof and "
                            "$offsetof can be)", t, name);
                    return false;
                }
                if (!vfh_scn_builtin_var(name) && !(c->var_known && c->var_known(c->ctx, name))) {
                    vfh_scn_msg(c->msg, c->msglen, "unknown variable $%s", name);
                    return false;
                }
                memcpy(var, name, n + 1);
                x = 0;
            }
        } else {
            size_t n = strcspn(s, "+-");
            char num[32];
            uint64_t k;
            if (!n) {
                vfh_scn_msg(c->msg, c->msglen, "bad variable term '%s': nothing after '%c' (%s)", t, s[-1], TERM_FORMS);
                return false;
            }
            snprintf(num, sizeof num, "%.*s", (int)n, s);
            if (n >= sizeof num || !vfh_scn_read_number(num, &k)) {
                vfh_scn_msg(c->msg, c->msglen, "bad variable term '%s': '%.*s' is not a number or $NAME (%s)", t, (int)n, s,
                        TERM_FORMS);
                return false;
            }
            if (k > INT64_MAX) {
                vfh_scn_msg(c->msg, c->msglen, "bad variable term '%s': the sum is too large", t);
                return false;
            }
            s += n;
            x = (int64_t)k;
        }
        if (sub ? sum < INT64_MIN + x : sum > INT64_MAX - x) {
            vfh_scn_msg(c->msg, c->msglen, "bad variable term '%s': the sum is out of range", t);
            return false;
        }
        sum = sub ? sum - x : sum + x;
        if (!*s) break;
        if (*s != '+' && *s != '-') {
            vfh_scn_msg(c->msg, c->msglen, "bad variable term '%s' (%s)", t, TERM_FORMS);
            return false;
        }
        sub = *s++ == '-';
    }
    if (!*var) {
        /* numbers only: nothing is left to learn, the value is final */
        if (sum < 0) {
            vfh_scn_msg(c->msg, c->msglen, "bad variable term '%s': below zero (%lld)", t, (long long)sum);
            return false;
        }
        v->num |= (uint64_t)sum;
        return true;
    }
    if (v->nvars == SCN_MAX_VAR_TERMS) {
        vfh_scn_msg(c->msg, c->msglen, "more than %d variables in one value", SCN_MAX_VAR_TERMS);
        return false;
    }
    const char *nm = vfh_scn_strdup(c->a, var);
    if (!nm) { vfh_scn_msg(c->msg, c->msglen, "out of memory"); return false; }
    v->vars[v->nvars++] = (struct scn_var_term){nm, sum};
    return true;
}

bool vfh_scn_read_value(struct scn_vctx *c, const char *s, struct scn_names names, struct scn_value *v)
{
    memset(v, 0, sizeof *v);
    if (!*s) { vfh_scn_msg(c->msg, c->msglen, "missing value"); return false; }
    size_t n = strlen(s);
    if (s[0] == '|' || s[n - 1] == '|' || strstr(s, "||")) {
        vfh_scn_msg(c->msg, c->msglen, "empty term in '%s'", s);
        return false;
    }
    char buf[SCN_MAX_LINE + 1];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *t = strtok_r(buf, "|", &save); t; t = strtok_r(NULL, "|", &save)) {
        uint64_t x;
        if (*t == '$') {
            if (!var_term(c, t, v)) return false;
        } else if (vfh_scn_read_number(t, &x)) {
            v->num |= x;
        } else if (!name_value(c, t, names, &x)) {
            return false;
        } else {
            v->num |= x;
        }
    }
    return true;
}

/* ---------------------------------------------------------------- bytes */

static int hexval(char ch)
{
    if (isdigit((unsigned char)ch)) return ch - '0';
    if (isxdigit((unsigned char)ch)) return tolower((unsigned char)ch) - 'a' + 10;
    return -1;
}

bool vfh_scn_read_bytes(struct scn_vctx *c, const char *s, bool plain_hex, struct scn_bytes *b,
                    bool *is_text)
{
    memset(b, 0, sizeof *b);
    if (is_text) *is_text = false;
    if (*s == '$') {
        struct scn_value v = {0};
        if (!var_term(c, s, &v)) return false;
        /* a spec size or offset is a number: as bytes it would say nothing
         * of how many */
        if (!v.nvars) { vfh_scn_msg(c->msg, c->msglen, "'%s' is a number, not a variable's bytes", s); return false; }
        if (v.vars[0].add) { vfh_scn_msg(c->msg, c->msglen, "bytes of a variable take no +/-: '%s'", s); return false; }
        b->var = v.vars[0].name;
        return true;
    }
    if (!strncmp(s, "zero:", 5)) {
        uint64_t n;
        if (!vfh_scn_read_number(s + 5, &n) || n > SCN_MAX_BYTES) {
            vfh_scn_msg(c->msg, c->msglen, "zero:N needs N from 0 to %u", SCN_MAX_BYTES);
            return false;
        }
        b->n = (uint32_t)n;
        return true;
    }
    if (!strncmp(s, "text:", 5)) {
        size_t n = strlen(s + 5);
        if (n > SCN_MAX_LITERAL) { vfh_scn_msg(c->msg, c->msglen, "text longer than %d bytes", SCN_MAX_LITERAL); return false; }
        b->p = (const uint8_t *)vfh_scn_strndup(c->a, s + 5, n);
        if (!b->p) { vfh_scn_msg(c->msg, c->msglen, "out of memory"); return false; }
        b->n = (uint32_t)n;
        if (is_text) *is_text = true;
        return true;
    }
    const char *h;
    if (!strncmp(s, "hex:", 4)) h = s + 4;
    else if (plain_hex) h = s;
    else {
        vfh_scn_msg(c->msg, c->msglen, "'%s': bytes are written hex:HEX, text:TEXT, zero:N or $VAR", s);
        return false;
    }
    size_t n = strlen(h);
    if (n % 2) { vfh_scn_msg(c->msg, c->msglen, "'%s': odd number of hex digits", s); return false; }
    if (n / 2 > SCN_MAX_LITERAL) { vfh_scn_msg(c->msg, c->msglen, "hex longer than %d bytes", SCN_MAX_LITERAL); return false; }
    uint8_t *p = vfh_scn_alloc(c->a, n / 2 + 1);
    if (!p) { vfh_scn_msg(c->msg, c->msglen, "out of memory"); return false; }
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval(h[i]), lo = hexval(h[i + 1]);
        if (hi < 0 || lo < 0) { vfh_scn_msg(c->msg, c->msglen, "'%s': not hex", s); return false; }
        p[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    b->p = p;
    b->n = (uint32_t)(n / 2);
    return true;
}

/* Region and interrupt indexes are plain numbers in the spec (a device may
 * have more than PCI's), but scenarios may name the PCI ones: BAR0, CONFIG,
 * MSIX.  Names only: nothing here checks a value. */
int vfh_scn_index_enum(int field)
{
    static const struct { const char *st, *field, *en; } idx[] = {
        {"region_info_req", "index", "pci_region"}, {"region_info", "index", "pci_region"},
        {"region_io_fds_req", "index", "pci_region"}, {"region_io_fds", "index", "pci_region"},
        {"region_access", "region", "pci_region"}, {"region_access_data", "region", "pci_region"},
        {"write_multi_entry", "region", "pci_region"}, {"irq_info_req", "index", "pci_irq"},
        {"irq_info", "index", "pci_irq"}, {"set_irqs", "index", "pci_irq"},
    };
    const struct vfu_field_desc *f = vfu_field(field);
    if (!f) return -1;
    const char *sn = vfu_struct(f->sid)->name;
    for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++) {
        if (strcmp(idx[i].st, sn) || strcmp(idx[i].field, f->name)) continue;
        for (unsigned e = 0; e < vfu_nenums(); e++)
            if (!strcmp(vfu_enum(e)->name, idx[i].en)) return (int)e;
    }
    return -1;
}
