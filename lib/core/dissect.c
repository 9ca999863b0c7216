/* The annotated view; see dissect.h.  Valid parts of a message are shown
 * from the parts the codec recorded.  Past the point where decoding stopped
 * the bytes are shown raw, so that a hostile message is still readable.
 * Every read is bounded by the bytes received, not by what a header claims. */
#include "vfu_dissect.h"

#include "vfu_caps.h"
#include "spec_tables.h"

#include <stdarg.h>
#include <string.h>

#define S (&vfu_spec)
/* what is shown before "... N more" unless opts.full */
#define SHOW_BYTES 64
#define SHOW_CHARS 256
#define SHOW_ELEMS 32
#define SHOW_WORDS 16

static const struct vfu_field_desc *F(int id) { return &S->fields[id]; }
static const struct vfu_struct_desc *ST(int id) { return &S->structs[id]; }

/* placeholder fds when only their count is known: -1 is no descriptor */
#define N1 -1
#define N4 N1, N1, N1, N1
#define N16 N4, N4, N4, N4
#define N64 N16, N16, N16, N16
_Static_assert(VFU_MAX_FDS == 253, "no_fds below holds VFU_MAX_FDS entries");
static const int no_fds[VFU_MAX_FDS] = {N64, N64, N64, N16, N16, N16, N4, N4, N4, N1};

bool vfu_dissect_decode(struct vfu_msg *m, const uint8_t *buf, size_t len,
                        const struct vfu_dissect_opts *o, struct vfu_error *err)
{
    static const struct vfu_dissect_opts none = {0, NULL, VFU_ROLE_ANY, NULL, false, 0, false};
    if (!o) o = &none;
    unsigned n = o->nfds;
    const int *fds = o->fds;
    if (!fds) {
        fds = no_fds;
        /* no message carries more than SCM_MAX_FD; decode the rest anyway */
        if (n > VFU_MAX_FDS) n = 0;
    }
    bool ok = vfu_decode_opt(m, buf, len, fds, n, o->lim, o->receiver, o->decode_opts, err);
    /* VERSION data is JSON the codec only frames: held to the capability
     * rules (lib/core/caps.c) as a server or client reading it would */
    uint32_t jlen;
    const uint8_t *json;
    if (ok && m->hdr.cmd == VFU_CMD_VERSION && !m->is_error &&
        (json = vfu_data(m, VFU_F_VERSION_DATA, &jlen)) && jlen > 1) {
        struct vfu_caps caps;
        ok = vfu_caps_parse(&caps, (const char *)json, jlen - 1, m->is_reply, err);
    }
    if (n != o->nfds) {
        m->nfds = o->nfds;
        if (ok || err->code == VFU_E_FDS) {
            vfu_error_set(err, VFU_E_FDS, len >= VFU_HDR_SIZE ? m->hdr.cmd : -1, -1, o->nfds,
                          VFU_MAX_FDS);
            err->is_reply = m->is_reply;
            ok = false;
        }
    }
    return ok;
}

struct view {
    FILE *out;
    const uint8_t *msg;        /* the message's first byte */
    const struct vfu_msg *m;
    const struct vfu_error *err;   /* set when the message broke a rule */
    bool full;
    bool docs;                 /* each field's line ends with its doc */
    const char *pending;       /* the doc the current line ends with, if any */
};

static void indent(struct view *v, int depth)
{
    fprintf(v->out, "%*s", depth * 2, "");
}

/* Every line of the view ends here.  A field's line may be finished far
 * from where it starts (a tail's heading ends wherever its kind's
 * rendering puts the newline), so the doc waits in v->pending and goes on
 * the first line end after the field's name. */
static void eol(struct view *v)
{
    if (v->pending) fprintf(v->out, "  -- %s", v->pending);
    v->pending = NULL;
    fputc('\n', v->out);
}

__attribute__((format(printf, 2, 3)))
static void vline(struct view *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(v->out, fmt, ap);
    va_end(ap);
    eol(v);
}

/* the line now started is field fid's: it ends with the field's doc */
static void field_doc(struct view *v, int fid)
{
    const char *d = v->docs ? vfu_field_doc(fid) : "";
    v->pending = *d ? d : NULL;
}

static void mark(struct view *v, int fid)
{
    if (v->err && v->err->field == fid) fprintf(v->out, "  <-- %s", vfu_errc_name(v->err->code));
}

static const char *kind_name(const struct vfu_field_desc *f)
{
    static const char *const w[] = {[1] = "u8", [2] = "u16", [4] = "u32", [8] = "u64"};
    if (f->kind == VFU_K_UINT && f->width < 9 && w[f->width]) return w[f->width];
    return "bytes";
}

static void value_notes(struct view *v, int fid, uint64_t x)
{
    const struct vfu_field_desc *f = F(fid);
    if (f->enum_id >= 0) {
        const char *name = vfu_enum_name(f->enum_id, x);
        if (name) fprintf(v->out, " %s", name);
        else fprintf(v->out, " (not a %s)", S->enums[f->enum_id].name);
    }
    if (f->bits_id >= 0) {
        char b[256];
        vfu_bits_str(f->bits_id, x, b, sizeof b);
        if (strcmp(b, "0")) fprintf(v->out, " %s", b);
    }
    if ((f->attrs & VFU_A_MBZ) && x) fprintf(v->out, " (must be zero)");
    if (fid == VFU_F_HEADER_ERROR && x) {
        const char *name = x <= 0x7fffffff ? strerrorname_np((int)x) : NULL;
        if (name) fprintf(v->out, " %s (%s)", name, strerror((int)x));
        else fprintf(v->out, " (not an errno)");
    }
}

/* One fixed field at message offset off; avail is what the struct has. */
static void field_line(struct view *v, int depth, int fid, size_t base, size_t avail)
{
    const struct vfu_field_desc *f = F(fid);
    size_t off = base + f->offset;
    indent(v, depth);
    field_doc(v, fid);
    fprintf(v->out, "@%-5zu %-5s %-16s", off, kind_name(f), f->name);
    if ((size_t)f->offset + f->width > avail) {
        fprintf(v->out, " %s", f->attrs & VFU_A_OPTIONAL ? "(absent, optional)" : "(missing: the bytes end first)");
        mark(v, fid);
        eol(v);
        return;
    }
    const uint8_t *p = v->msg + off;
    if (f->kind == VFU_K_UINT) {
        uint64_t x = vfu_read_uint(p, f->width);
        fprintf(v->out, " 0x%0*llx (%llu)", f->width * 2, (unsigned long long)x, (unsigned long long)x);
        value_notes(v, fid, x);
        /* an (offset, length) pair (the spec's span=) whose end wraps */
        if (f->span_field >= 0 && (size_t)F(f->span_field)->offset + F(f->span_field)->width <= avail) {
            const struct vfu_field_desc *sp = F(f->span_field);
            uint64_t l = vfu_read_uint(v->msg + base + sp->offset, sp->width);
            uint64_t top = f->width >= 8 ? UINT64_MAX : (1ULL << (8 * f->width)) - 1;
            if (l && x > top - (l - 1)) fprintf(v->out, " (+ %s wraps past the top)", sp->name);
        }
    } else {
        bool nonzero = false;
        for (unsigned i = 0; i < f->width; i++) {
            fprintf(v->out, " %02x", p[i]);
            nonzero |= p[i] != 0;
        }
        if ((f->attrs & VFU_A_MBZ) && nonzero) fprintf(v->out, " (must be zero)");
    }
    mark(v, fid);
    eol(v);
}

static void fixed_fields(struct view *v, int depth, int sid, size_t base, size_t avail)
{
    const struct vfu_struct_desc *s = ST(sid);
    for (unsigned i = 0; i < s->nfields; i++) {
        int fid = s->first_field + (int)i;
        if (F(fid)->kind == VFU_K_UINT || F(fid)->kind == VFU_K_BYTES) field_line(v, depth, fid, base, avail);
    }
}

static void hexdump(struct view *v, int depth, size_t off, size_t len)
{
    size_t show = !v->full && len > SHOW_BYTES ? SHOW_BYTES : len;
    for (size_t row = 0; row < show; row += 16) {
        size_t n = show - row < 16 ? show - row : 16;
        const uint8_t *p = v->msg + off + row;
        indent(v, depth);
        fprintf(v->out, "@%-5zu", off + row);
        for (size_t i = 0; i < 16; i++) {
            if (i < n) fprintf(v->out, " %02x", p[i]);
            else fputs("   ", v->out);
        }
        fputs("  |", v->out);
        for (size_t i = 0; i < n; i++) fputc(p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '.', v->out);
        vline(v, "|");
    }
    if (show < len) {
        indent(v, depth);
        vline(v, "... %zu more bytes", len - show);
    }
}

static void escaped(struct view *v, const uint8_t *p, size_t n)
{
    size_t show = !v->full && n > SHOW_CHARS ? SHOW_CHARS : n;
    fputc('"', v->out);
    for (size_t i = 0; i < show; i++) {
        uint8_t c = p[i];
        if (c == '"' || c == '\\') fprintf(v->out, "\\%c", c);
        else if (c == '\n') fputs("\\n", v->out);
        else if (c == '\t') fputs("\\t", v->out);
        else if (c == '\r') fputs("\\r", v->out);
        else if (c < 0x20 || c >= 0x7f) fprintf(v->out, "\\x%02x", c);
        else fputc(c, v->out);
    }
    fputc('"', v->out);
    if (show < n) fprintf(v->out, " ... %zu more bytes", n - show);
}

static const struct vfu_arm_desc *pick_arm(const struct vfu_field_desc *var, uint64_t sel)
{
    for (unsigned a = 0; a < var->narms; a++) {
        const struct vfu_arm_desc *arm = &S->arms[var->first_arm + a];
        if ((sel & arm->mask) == arm->value) return arm;
    }
    return NULL;
}

static size_t moff(const struct vfu_part *p) { return VFU_HDR_SIZE + (size_t)p->off; }

/* value of a fixed field of a recorded struct part, if the part holds it */
static bool part_uint(struct view *v, const struct vfu_part *p, int fid, uint64_t *x)
{
    const struct vfu_field_desc *f = F(fid);
    if (f->sid != p->sid || f->kind != VFU_K_UINT || (size_t)f->offset + f->width > p->len) return false;
    *x = vfu_read_uint(v->msg + moff(p) + f->offset, f->width);
    return true;
}

static void render_struct(struct view *v, int depth, int pidx);

static void render_elems(struct view *v, int depth, const struct vfu_part *p)
{
    const struct vfu_struct_desc *es = ST(p->sid);
    uint32_t show = !v->full && p->count > SHOW_ELEMS ? SHOW_ELEMS : p->count;
    for (uint32_t i = 0; i < show; i++) {
        size_t base = moff(p) + (size_t)i * p->stride;
        indent(v, depth);
        vline(v, "[%u] @%zu", i, base);
        fixed_fields(v, depth + 1, p->sid, base, es->size);
        if (es->tail < 0) continue;
        const struct vfu_field_desc *var = F(es->tail);
        if (var->kind != VFU_K_VARIANT) continue;
        const struct vfu_arm_desc *arm = pick_arm(var, vfu_read_uint(v->msg + base + F(var->on_field)->offset, F(var->on_field)->width));
        indent(v, depth + 1);
        field_doc(v, es->tail);
        if (!arm) { vline(v, "%s: no arm for %s", var->name, F(var->on_field)->name); continue; }
        if (arm->kind != VFU_ARM_STRUCT) { vline(v, "%s: %s", var->name, arm->label); continue; }
        vline(v, "%s: %s -> %s", var->name, arm->label, ST(arm->sid)->name);
        fixed_fields(v, depth + 2, arm->sid, base + es->size, p->stride > es->size ? p->stride - es->size : 0);
    }
    if (show < p->count) {
        indent(v, depth);
        vline(v, "... %u more elements", p->count - show);
    }
}

static void render_bitmap(struct view *v, int depth, const struct vfu_part *p)
{
    unsigned long long set = 0;
    for (uint32_t i = 0; i < p->count; i++)
        set += (unsigned)__builtin_popcountll(vfu_read_uint(v->msg + moff(p) + (size_t)i * 8, 8));
    vline(v, ", %llu pages set", set);
    uint32_t show = !v->full && p->count > SHOW_WORDS ? SHOW_WORDS : p->count;
    for (uint32_t i = 0; i < show; i++) {
        indent(v, depth);
        vline(v, "[%u] @%zu 0x%016llx", i, moff(p) + (size_t)i * 8,
                (unsigned long long)vfu_read_uint(v->msg + moff(p) + (size_t)i * 8, 8));
    }
    if (show < p->count) {
        indent(v, depth);
        vline(v, "... %u more words", p->count - show);
    }
}

/* DATA, STRING, RAW, ARRAY or BITMAP part, after "name: " */
static void render_leaf(struct view *v, int depth, const struct vfu_part *p, int len_field)
{
    switch (p->kind) {
    case VFU_P_STRING:
        fprintf(v->out, "string, %u bytes @%zu: ", p->len, moff(p));
        escaped(v, v->msg + moff(p), p->len ? p->len - 1 : 0);   /* the NUL is not text */
        eol(v);
        return;
    case VFU_P_ARRAY:
        fprintf(v->out, "%u x %s (%u bytes each) @%zu", p->count, ST(p->sid)->name, p->stride, moff(p));
        if (len_field >= 0) fprintf(v->out, ", count=%s", F(len_field)->name);
        eol(v);
        render_elems(v, depth, p);
        return;
    case VFU_P_BITMAP:
        fprintf(v->out, "%u u64 words @%zu", p->count, moff(p));
        render_bitmap(v, depth, p);
        return;
    default:
        fprintf(v->out, "%s%u bytes @%zu", p->kind == VFU_P_RAW ? "raw, " : "", p->len, moff(p));
        if (len_field >= 0) fprintf(v->out, ", len=%s", F(len_field)->name);
        eol(v);
        hexdump(v, depth, moff(p), p->len);
    }
}

static int child(struct view *v, int pidx, int field, int after)
{
    for (unsigned i = (unsigned)(after + 1); i < v->m->nparts; i++)
        if (v->m->parts[i].parent == pidx && v->m->parts[i].field == field) return (int)i;
    return -1;
}

static void render_caps(struct view *v, int depth, int pidx, int tfid)
{
    const struct vfu_field_desc *tf = F(tfid);
    const struct vfu_chain_desc *cl = &S->chains[tf->chain_id];
    const struct vfu_part *owner = &v->m->parts[pidx];
    uint64_t at = 0;
    part_uint(v, owner, tf->len_field, &at);
    int h = child(v, pidx, tfid, -1);
    indent(v, depth);
    field_doc(v, tfid);
    if (h < 0) {
        if (at == 0) vline(v, "%s: none (%s is 0)", tf->name, F(tf->len_field)->name);
        else if (v->m->truncated && !v->err) vline(v, "%s: left out, reply truncated", tf->name);
        else vline(v, "%s: not decoded", tf->name);
        return;
    }
    vline(v, "%s: capability chain (%s), first at %s=%llu", tf->name, cl->name,
            F(tf->len_field)->name, (unsigned long long)at);
    size_t prev_end = moff(owner) + owner->len;
    for (unsigned n = 0; h >= 0; n++, h = child(v, pidx, tfid, h)) {
        const struct vfu_part *hp = &v->m->parts[h];
        if (moff(hp) > prev_end) {
            indent(v, depth + 1);
            vline(v, "(%zu bytes between capabilities)", moff(hp) - prev_end);
        }
        uint64_t id = 0;
        part_uint(v, hp, cl->id_field, &id);
        const char *idname = vfu_enum_name(F(cl->id_field)->enum_id, id);
        indent(v, depth + 1);
        vline(v, "cap %u: %s", n, idname ? idname : "unknown id");
        render_struct(v, depth + 2, h);
        prev_end = moff(hp) + hp->len;
        for (int b = child(v, h, tfid, -1); b >= 0; b = child(v, h, tfid, b)) {
            const struct vfu_part *bp = &v->m->parts[b];
            if (bp->kind == VFU_P_STRUCT) {
                render_struct(v, depth + 2, b);
            } else {
                indent(v, depth + 2);
                fputs("body: ", v->out);
                render_leaf(v, depth + 3, bp, -1);
            }
            /* the body's own tails end where the next part starts at most */
            for (unsigned k = (unsigned)b; k < v->m->nparts; k++) {
                const struct vfu_part *q = &v->m->parts[k];
                if ((k == (unsigned)b || q->parent == b) && moff(q) + q->len > prev_end) prev_end = moff(q) + q->len;
            }
        }
    }
}

static void render_variant(struct view *v, int depth, int pidx, int tfid)
{
    const struct vfu_field_desc *tf = F(tfid);
    uint64_t sel = 0;
    indent(v, depth);
    field_doc(v, tfid);
    if (!part_uint(v, &v->m->parts[pidx], tf->on_field, &sel)) {
        vline(v, "%s: not decoded", tf->name);
        return;
    }
    const struct vfu_arm_desc *arm = pick_arm(tf, sel);
    if (!arm) {
        vline(v, "%s: no arm for %s=0x%llx", tf->name, F(tf->on_field)->name, (unsigned long long)sel);
        return;
    }
    fprintf(v->out, "%s: %s -> ", tf->name, arm->label);
    int c = child(v, pidx, tfid, -1);
    switch (arm->kind) {
    case VFU_ARM_NONE:
        vline(v, "none");
        return;
    case VFU_ARM_STRUCT:
        if (c < 0) {
            vline(v, "%s %s", ST(arm->sid)->name, arm->optional && !v->err ? "(absent, optional)" : "(not decoded)");
            return;
        }
        vline(v, "%s", ST(arm->sid)->name);
        render_struct(v, depth + 1, c);
        return;
    default:
        if (c < 0) { vline(v, "not decoded"); return; }
        render_leaf(v, depth + 1, &v->m->parts[c], arm->kind == VFU_ARM_DATA ? arm->len_field : -1);
    }
}

static void render_tail(struct view *v, int depth, int pidx)
{
    const struct vfu_struct_desc *s = ST(v->m->parts[pidx].sid);
    int tfid = s->tail;
    if (tfid < 0) return;
    const struct vfu_field_desc *tf = F(tfid);
    if (tf->kind == VFU_K_CAPCHAIN) { render_caps(v, depth, pidx, tfid); return; }
    if (tf->kind == VFU_K_VARIANT) { render_variant(v, depth, pidx, tfid); return; }
    int c = child(v, pidx, tfid, -1);
    indent(v, depth);
    field_doc(v, tfid);
    fprintf(v->out, "%s: ", tf->name);
    if (c >= 0) {
        render_leaf(v, depth + 1, &v->m->parts[c], tf->kind == VFU_K_BITMAP ? -1 : tf->len_field);
        return;
    }
    uint64_t count = 0;
    if (v->err) vline(v, "not decoded");
    else if (tf->kind == VFU_K_STRING) vline(v, "absent (optional)");
    else if (tf->kind == VFU_K_ARRAY && v->m->truncated && part_uint(v, &v->m->parts[pidx], tf->len_field, &count))
        vline(v, "left out, reply truncated (%s=%llu)", F(tf->len_field)->name, (unsigned long long)count);
    else vline(v, "absent");
}

static void render_struct(struct view *v, int depth, int pidx)
{
    const struct vfu_part *p = &v->m->parts[pidx];
    indent(v, depth);
    vline(v, "%s @%zu (%u bytes)", ST(p->sid)->name, moff(p), p->len);
    fixed_fields(v, depth + 1, p->sid, moff(p), p->len);
    render_tail(v, depth + 1, pidx);
}

static void title(struct view *v, size_t len, bool hdr_ok)
{
    const struct vfu_msg *m = v->m;
    if (!hdr_ok) {
        vline(v, "message of %zu bytes, shorter than a header (%u)", len, VFU_HDR_SIZE);
        return;
    }
    const struct vfu_cmd_desc *c = vfu_cmd(m->hdr.cmd);
    if (c) fprintf(v->out, "%s", c->name);
    else fprintf(v->out, "command %u (unknown)", m->hdr.cmd);
    bool error = m->is_reply && (m->hdr.flags & VFU_HDR_FLAGS_ERROR);
    uint64_t type = m->hdr.flags & VFU_HDR_FLAGS_TYPE_MASK;
    if (type != VFU_MSG_TYPE_COMMAND && type != VFU_MSG_TYPE_REPLY)
        fprintf(v->out, " message of type %llu", (unsigned long long)type);
    else fprintf(v->out, " %s", error ? "error reply" : m->is_reply ? "reply" : "request");
    fprintf(v->out, ", id %u, %zu bytes", m->hdr.msg_id, len);
    if (m->nfds) fprintf(v->out, ", %u fds", m->nfds);
    eol(v);
}

bool vfu_dissect(FILE *out, const uint8_t *buf, size_t len, const struct vfu_dissect_opts *o,
                 struct vfu_error *err_out)
{
    struct vfu_msg m;
    struct vfu_error err;
    bool ok = vfu_dissect_decode(&m, buf, len, o, &err);
    struct view v = {out, buf, &m, ok ? NULL : &err, o && o->full, o && o->docs, NULL};
    bool hdr_ok = len >= VFU_HDR_SIZE;
    title(&v, len, hdr_ok);

    fprintf(out, "%s @0 (%u bytes)\n", ST(S->header_sid)->name, VFU_HDR_SIZE);
    fixed_fields(&v, 1, S->header_sid, 0, len < VFU_HDR_SIZE ? len : VFU_HDR_SIZE);

    /* payload bytes actually here: no further than msg_size claims */
    size_t body = 0;
    if (hdr_ok) {
        body = len - VFU_HDR_SIZE;
        if (m.hdr.msg_size >= VFU_HDR_SIZE && m.hdr.msg_size - VFU_HDR_SIZE < body) body = m.hdr.msg_size - VFU_HDR_SIZE;
    }
    size_t covered = 0;   /* payload bytes shown field by field */
    int top = child(&v, -1, -1, -1);
    if (top >= 0) {
        render_struct(&v, 0, top);
        for (unsigned i = 0; i < m.nparts; i++)
            if ((size_t)m.parts[i].off + m.parts[i].len > covered) covered = (size_t)m.parts[i].off + m.parts[i].len;
    } else if (!ok && hdr_ok && body) {
        /* decoding stopped before the body: show its fixed part raw */
        const struct vfu_cmd_desc *c = vfu_cmd(m.hdr.cmd);
        bool error = m.is_reply && (m.hdr.flags & VFU_HDR_FLAGS_ERROR);
        int sid = c && !error ? c->sid[m.is_reply] : -1;
        if (sid >= 0) {
            covered = body < ST(sid)->size ? body : ST(sid)->size;
            fprintf(out, "%s @%u (not decoded, %zu bytes shown raw)\n", ST(sid)->name, VFU_HDR_SIZE, covered);
            fixed_fields(&v, 1, sid, VFU_HDR_SIZE, covered);
        }
    }
    if (covered < body) {
        fprintf(out, "undecoded: %zu bytes @%zu\n", body - covered, VFU_HDR_SIZE + covered);
        hexdump(&v, 1, VFU_HDR_SIZE + covered, body - covered);
    }
    if (hdr_ok && len > VFU_HDR_SIZE + body)
        fprintf(out, "beyond msg_size: %zu bytes\n", len - VFU_HDR_SIZE - body);

    if (ok) {
        fputs("valid\n", out);
    } else {
        char s[512];
        vfu_error_str(&err, s, sizeof s);
        const struct vfu_cmd_desc *c = err.cmd >= 0 ? vfu_cmd((unsigned)err.cmd) : NULL;
        fprintf(out, "violation: %s", s);
        if (c) fprintf(out, " (spec: %s)", c->section);
        fputc('\n', out);
    }
    if (err_out) *err_out = err;
    return ok;
}
