/* One-line message summaries and flag names; see dissect.h.  A summary
 * names the command, the message kind and id, then the body's fields as
 * name=value (flags by bit name, enums by value name, 64-bit fields, which
 * are mostly addresses and sizes, in hex), and the tails by their sizes. */
#include "vfu_dissect.h"
#include "spec_tables.h"

#include <stdarg.h>
#include <string.h>

#define S (&vfu_spec)
#define SUMMARY_CHARS 40   /* of a string tail */

static const struct vfu_field_desc *F(int id) { return &S->fields[id]; }

/* appends to buf; len counts what was wanted, so truncation is visible */
struct sb {
    char *buf;
    size_t n, len;
};

static void put(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct sb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = b->len < b->n ? b->n - b->len : 0;
    int k = vsnprintf(room ? b->buf + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (k > 0) b->len += (size_t)k;
}

static struct sb sb_init(char *buf, size_t n)
{
    if (n) buf[0] = '\0';
    return (struct sb){buf, n, 0};
}

size_t vfu_bits_str(int bits_id, uint64_t v, char *buf, size_t n)
{
    struct sb s = sb_init(buf, n);
    if (bits_id < 0 || bits_id >= S->nbits) {
        put(&s, "0x%llx", (unsigned long long)v);
        return s.len;
    }
    const struct vfu_bits_desc *b = &S->bits[bits_id];
    const char *sep = "";
    for (unsigned i = 0; i < b->nbits; i++) {
        const struct vfu_bit_desc *bd = &S->bit_vals[b->first_bit + i];
        uint64_t x = (v & bd->mask) >> bd->shift;
        if (bd->enum_id < 0 && __builtin_popcountll(bd->mask) == 1) {
            if (x) { put(&s, "%s%s", sep, bd->name); sep = "|"; }
            continue;
        }
        /* a multi-bit subfield is always shown: its zero is a value too */
        const char *name = bd->enum_id >= 0 ? vfu_enum_name(bd->enum_id, x) : NULL;
        if (name) put(&s, "%s%s=%s", sep, bd->name, name);
        else if (bd->enum_id >= 0) put(&s, "%s%s=%llu(unknown)", sep, bd->name, (unsigned long long)x);
        else put(&s, "%s%s=%llu", sep, bd->name, (unsigned long long)x);
        sep = "|";
    }
    if (v & ~b->known) { put(&s, "%sreserved=0x%llx", sep, (unsigned long long)(v & ~b->known)); sep = "|"; }
    if (!*sep) put(&s, "0");
    return s.len;
}

static void put_value(struct sb *s, int fid, uint64_t x)
{
    const struct vfu_field_desc *f = F(fid);
    if (f->bits_id >= 0) {
        char b[256];
        vfu_bits_str(f->bits_id, x, b, sizeof b);
        put(s, "%s", b);
        return;
    }
    const char *name = f->enum_id >= 0 ? vfu_enum_name(f->enum_id, x) : NULL;
    if (name) put(s, "%s", name);
    else if (f->width == 8 && x > 9) put(s, "0x%llx", (unsigned long long)x);
    else put(s, "%llu", (unsigned long long)x);
}

static void put_prefix(struct sb *s, const struct vfu_msg *m)
{
    const struct vfu_cmd_desc *c = vfu_cmd(m->hdr.cmd);
    if (c) put(s, "%s", c->name);
    else put(s, "cmd%u", m->hdr.cmd);
    bool error = m->is_reply && (m->hdr.flags & VFU_HDR_FLAGS_ERROR);
    uint64_t type = m->hdr.flags & VFU_HDR_FLAGS_TYPE_MASK;
    if (type != VFU_MSG_TYPE_COMMAND && type != VFU_MSG_TYPE_REPLY) put(s, " type%llu", (unsigned long long)type);
    else put(s, " %s", error ? "error reply" : m->is_reply ? "reply" : "request");
    put(s, " id=%u", m->hdr.msg_id);
    if (error) {
        const char *en = m->hdr.error <= 0x7fffffff ? strerrorname_np((int)m->hdr.error) : NULL;
        put(s, " errno=%u", m->hdr.error);
        if (en) put(s, "(%s)", en);
    }
    if (m->hdr.flags & VFU_HDR_FLAGS_NO_REPLY) put(s, " no_reply");
}

static void put_fields(struct sb *s, const struct vfu_msg *m, const struct vfu_part *p, const char *prefix)
{
    const struct vfu_struct_desc *st = &S->structs[p->sid];
    for (unsigned i = 0; i < st->nfields; i++) {
        int fid = st->first_field + (int)i;
        const struct vfu_field_desc *f = F(fid);
        if (f->kind != VFU_K_UINT || (uint32_t)f->offset + f->width > p->len) continue;
        uint64_t x = vfu_read_uint(m->payload + p->off + f->offset, f->width);
        if ((f->attrs & VFU_A_MBZ) && !x) continue;   /* noise when right */
        put(s, " %s%s=", prefix, f->name);
        put_value(s, fid, x);
    }
}

static void put_string(struct sb *s, const char *name, const uint8_t *p, size_t n)
{
    put(s, " %s=\"", name);
    size_t show = n > SUMMARY_CHARS ? SUMMARY_CHARS : n;
    for (size_t i = 0; i < show; i++) {
        if (p[i] == '"' || p[i] == '\\') put(s, "\\%c", p[i]);
        else if (p[i] < 0x20 || p[i] >= 0x7f) put(s, "\\x%02x", p[i]);
        else put(s, "%c", p[i]);
    }
    put(s, "\"%s", show < n ? "..." : "");
}

size_t vfu_msg_summary(const struct vfu_msg *m, char *buf, size_t n)
{
    struct sb s = sb_init(buf, n);
    put_prefix(&s, m);
    /* the body, its variant arm and their tails; capabilities by id only */
    int shown[VFU_MAX_PARTS];
    unsigned nshown = 0;
    bool caps = false;
    for (unsigned i = 0; i < m->nparts; i++) {
        const struct vfu_part *p = &m->parts[i];
        bool ok = p->parent < 0;
        for (unsigned k = 0; k < nshown && !ok; k++) ok = shown[k] == p->parent;
        if (!ok) continue;
        const struct vfu_field_desc *tf = p->field >= 0 ? F(p->field) : NULL;
        if (tf && tf->kind == VFU_K_CAPCHAIN) {
            const struct vfu_chain_desc *cl = &S->chains[tf->chain_id];
            if (p->kind != VFU_P_STRUCT || p->sid != cl->header_sid) continue;
            uint64_t id = vfu_read_uint(m->payload + p->off + F(cl->id_field)->offset, F(cl->id_field)->width);
            const char *idn = vfu_enum_name(F(cl->id_field)->enum_id, id);
            if (caps) put(&s, ",");
            else put(&s, " %s=", tf->name);
            if (idn) put(&s, "%s", idn);
            else put(&s, "%llu", (unsigned long long)id);
            caps = true;
            continue;
        }
        switch (p->kind) {
        case VFU_P_STRUCT: {
            char prefix[64] = "";
            if (tf) snprintf(prefix, sizeof prefix, "%s.", tf->name);
            put_fields(&s, m, p, prefix);
            shown[nshown++] = (int)i;
            break;
        }
        case VFU_P_STRING:
            put_string(&s, tf->name, m->payload + p->off, p->len ? p->len - 1 : 0);
            break;
        case VFU_P_ARRAY:
        case VFU_P_BITMAP:
            put(&s, " %s[%u]", tf->name, p->count);
            break;
        default:
            put(&s, " %s[%u]", tf->name, p->len);
        }
    }
    if (m->truncated) put(&s, " truncated");
    if (m->padding) put(&s, " padding=%u", m->padding);
    if (m->nfds) put(&s, " fds=%u", m->nfds);
    return s.len;
}

bool vfu_summarize(const uint8_t *buf, size_t len, const struct vfu_dissect_opts *o, char *out,
                   size_t n, struct vfu_error *err)
{
    struct vfu_msg m;
    struct vfu_error e;
    bool ok = vfu_dissect_decode(&m, buf, len, o, &e);
    if (ok) {
        vfu_msg_summary(&m, out, n);
    } else {
        struct sb s = sb_init(out, n);
        if (len < VFU_HDR_SIZE) put(&s, "short message (%zu bytes)", len);
        else put_prefix(&s, &m);
        put(&s, " invalid: %s", vfu_errc_name(e.code));
        if (e.field >= 0) put(&s, " %s", vfu_field_name(e.field));
    }
    if (err) *err = e;
    return ok;
}
