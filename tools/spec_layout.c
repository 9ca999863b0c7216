/* Layouts and rules, printed from the generated tables: offsets, widths,
 * enums and flag bits, tails (data, arrays, capability chains, variants and
 * their arms), argsz, fd and transfer-size rules.  Nothing is written here
 * that the tables do not say. */
#include "spec_layout.h"

#include <stdio.h>

#include "vfu_codec.h"
#include "vfu_spec.h"


static const struct vfu_field_desc *F(int id) { return vfu_field(id); }
static const struct vfu_struct_desc *ST(int id) { return vfu_struct(id); }

static void ind(int depth) { printf("%*s", depth * 2, ""); }

static const char *kind_name(const struct vfu_field_desc *f)
{
    switch (f->width) {
    case 1: return "u8";
    case 2: return "u16";
    case 4: return "u32";
    case 8: return "u64";
    }
    return "?";
}

static void print_enum(int enum_id)
{
    const struct vfu_enum_desc *e = vfu_enum(enum_id);
    printf(" enum %s(", e->name);
    for (unsigned i = 0; i < e->n; i++)
        printf("%s%s=%llu", i ? " " : "", vfu_enum_val(e->first + i)->name,
               (unsigned long long)vfu_enum_val(e->first + i)->value);
    putchar(')');
}

static const char *group_kind(unsigned k)
{
    return k == VFU_G_ONEOF ? "exactly one of" : k == VFU_G_ATMOSTONE ? "at most one of" : "at least one of";
}

static void print_bits(int bits_id)
{
    const struct vfu_bits_desc *b = vfu_bits(bits_id);
    printf(" bits %s(", b->name);
    for (unsigned i = 0; i < b->nbits; i++) {
        const struct vfu_bit_desc *bd = vfu_bit(b->first_bit + i);
        printf("%s%s=0x%llx", i ? " " : "", bd->name, (unsigned long long)bd->mask);
        if (bd->enum_id >= 0) printf(":%s", vfu_enum(bd->enum_id)->name);
    }
    printf("; others reserved)");
}

/* a flags word's rules, a line each under the field */
static void print_rules(int bits_id, int depth)
{
    const struct vfu_bits_desc *b = vfu_bits(bits_id);
    for (unsigned i = 0; i < b->ngroups; i++) {
        const struct vfu_group_desc *g = vfu_group(b->first_group + i);
        ind(depth);
        printf("rule %s: %s", g->name, group_kind(g->kind));
        for (unsigned k = 0; k < b->nbits; k++) {
            const struct vfu_bit_desc *bd = vfu_bit(b->first_bit + k);
            if (bd->mask & g->mask) printf(" %s", bd->name);
        }
        const char *sep = ", unless";
        for (unsigned k = 0; k < b->nbits; k++) {
            const struct vfu_bit_desc *bd = vfu_bit(b->first_bit + k);
            if (bd->mask & g->unless) { printf("%s %s", sep, bd->name); sep = " or"; }
        }
        putchar('\n');
    }
}

static void layout(int sid, int depth, unsigned base);

/* ends a field's first line with what the field is for (the spec's doc
 * line), so that each layout line reads on its own */
static void end_field(const struct vfu_field_desc *f)
{
    if (f->doc && *f->doc) printf("  -- %s", f->doc);
    putchar('\n');
}

#define X_NAME(n, str) str,
static const char *const meaning_names[] = {VFU_MEANINGS(X_NAME)};
static const char *const space_names[] = {VFU_SPACES(X_NAME)};

/* the field's meaning, as the spec file states it (role=, space=, span=,
 * bound=) or the layout implies it (a tail's count) */
static void print_meaning(const struct vfu_field_desc *f)
{
    if (f->role == VFU_M_NONE) return;
    printf(" [%s", meaning_names[f->role]);
    if (f->space != VFU_SP_NONE) {
        printf(" in %s", space_names[f->space]);
        if (f->space_field >= 0) printf("(%s)", F(f->space_field)->name);
    }
    if (f->span_field >= 0) printf(", length %s", F(f->span_field)->name);
    if (f->count_of >= 0) printf(", of %s", F(f->count_of)->name);
    if (f->bound_cap >= 0) {
        const struct vfu_capability_desc *c = vfu_capability(f->bound_cap);
        printf(", bounded by %s%s%s", c->parent >= 0 ? vfu_capability(c->parent)->name : "",
               c->parent >= 0 ? "." : "", c->name);
    }
    putchar(']');
}

static void arm_target(const struct vfu_arm_desc *a, int depth, unsigned base)
{
    switch (a->kind) {
    case VFU_ARM_NONE: puts("none"); break;
    case VFU_ARM_RAW: puts("raw bytes to the end of the payload"); break;
    case VFU_ARM_DATA: printf("data, len=%s\n", F(a->len_field)->name); break;
    default:
        printf("%s (%u bytes)%s\n", ST(a->sid)->name, ST(a->sid)->size, a->optional ? ", may be absent" : "");
        layout(a->sid, depth + 1, base);
    }
}

static void tail_line(int fid, int depth, unsigned base)
{
    const struct vfu_field_desc *f = F(fid);
    ind(depth);
    printf("+%-4u %-4s %-5s %s: ", base, "-", f->kind == VFU_K_CAPCHAIN ? "caps" : "tail", f->name);
    switch (f->kind) {
    case VFU_K_DATA:
        if (f->len_field >= 0) printf("data, len=%s", F(f->len_field)->name);
        else printf("data to the end of the payload");
        end_field(f);
        break;
    case VFU_K_STRING:
        printf("optional NUL-terminated text filling the rest of the payload");
        end_field(f);
        break;
    case VFU_K_ARRAY: {
        const struct vfu_struct_desc *es = ST(f->elem_sid);
        printf("array of %s (%u bytes each), count=%s%s", es->name, es->stride, F(f->len_field)->name,
               f->attrs & VFU_A_TRUNCATABLE ? "; a reply may leave it out when argsz asked for more" : "");
        end_field(f);
        ind(depth + 1);
        printf("each %s:\n", es->name);
        layout(f->elem_sid, depth + 2, 0);
        break;
    }
    case VFU_K_BITMAP:
        printf("bitmap of u64 words, one bit per %s bytes of %s", F(f->aux_field)->name, F(f->len_field)->name);
        end_field(f);
        break;
    case VFU_K_CAPCHAIN: {
        const struct vfu_chain_desc *cl = vfu_chain(f->chain_id);
        const struct vfu_struct_desc *hs = ST(cl->header_sid);
        printf("capability chain %s, first at %s, next in %s (offsets from the start of %s; 0 ends)",
               cl->name, F(f->len_field)->name, F(cl->next_field)->name, ST(f->sid)->name);
        end_field(f);
        ind(depth + 1);
        printf("each entry: %s (%u bytes), then the body its %s selects:\n", hs->name, hs->size, F(cl->id_field)->name);
        layout(cl->header_sid, depth + 2, 0);
        for (unsigned i = 0; i < cl->n; i++) {
            const struct vfu_chain_entry *ce = vfu_chain_entry(cl->first + i);
            const char *idn = vfu_enum_name(F(cl->id_field)->enum_id, ce->id);
            ind(depth + 1);
            printf("%s %s (%llu) -> %s (%u bytes)\n", F(cl->id_field)->name, idn ? idn : "?",
                   (unsigned long long)ce->id, ST(ce->sid)->name, ST(ce->sid)->size);
            layout(ce->sid, depth + 2, hs->size);
        }
        ind(depth + 1);
        puts("other ids: body kept as raw bytes");
        break;
    }
    case VFU_K_VARIANT:
        printf("chosen by %s, first match wins:", F(f->on_field)->name);
        end_field(f);
        for (unsigned a = 0; a < f->narms; a++) {
            const struct vfu_arm_desc *arm = vfu_arm(f->first_arm + a);
            ind(depth + 1);
            printf("%s", arm->label);
            if (arm->mask) printf(" (%s & 0x%llx == 0x%llx)", F(f->on_field)->name, (unsigned long long)arm->mask,
                                  (unsigned long long)arm->value);
            printf(" -> ");
            arm_target(arm, depth + 1, base);
        }
        break;
    default:
        puts("?");
    }
}

/* base: where the struct starts, for offsets; arms continue their parent */
static void layout(int sid, int depth, unsigned base)
{
    const struct vfu_struct_desc *s = ST(sid);
    for (unsigned i = 0; i < s->nfields; i++) {
        int fid = s->first_field + (int)i;
        const struct vfu_field_desc *f = F(fid);
        if (f->kind != VFU_K_UINT && f->kind != VFU_K_BYTES) {
            tail_line(fid, depth, base + s->size);
            continue;
        }
        ind(depth);
        printf("+%-4u %-4u %-5s %s", base + f->offset, f->width, f->kind == VFU_K_UINT ? kind_name(f) : "bytes", f->name);
        if (f->attrs & VFU_A_MBZ) printf(" mbz");
        if (f->attrs & VFU_A_OPTIONAL) printf(" optional");
        print_meaning(f);
        if (f->enum_id >= 0) print_enum(f->enum_id);
        if (f->bits_id >= 0) print_bits(f->bits_id);
        end_field(f);
        if (f->bits_id >= 0) print_rules(f->bits_id, depth + 1);
    }
}

static void fds_rule(const struct vfu_fds_desc *r, int sid)
{
    const char *bit = "?";
    if (r->bit_field >= 0 && F(r->bit_field)->bits_id >= 0) {
        const struct vfu_bits_desc *b = vfu_bits(F(r->bit_field)->bits_id);
        for (unsigned i = 0; i < b->nbits; i++)
            if (vfu_bit(b->first_bit + i)->mask == r->mask) bit = vfu_bit(b->first_bit + i)->name;
    }
    const char *bf = r->bit_field >= 0 ? F(r->bit_field)->name : "?";
    const char *f = r->field >= 0 ? F(r->field)->name : "?";
    switch (r->rule) {
    case VFU_FDS_NONE: puts("none"); break;
    case VFU_FDS_OPTIONAL: puts("0 or 1"); break;
    case VFU_FDS_ONE_IF: printf("exactly 1 when %s has %s, else none\n", bf, bit); break;
    case VFU_FDS_COUNT_OR_ZERO: printf("%s or 0 when %s has %s, else none\n", f, bf, bit); break;
    case VFU_FDS_UPTO:
        printf("1 to %s when %s is present, else none\n", f, sid >= 0 && ST(sid)->tail >= 0 ? F(ST(sid)->tail)->name : "?");
        break;
    default: puts("?");
    }
}

static void argsz_rule(const struct vfu_cmd_desc *c, int r, int depth)
{
    int sid = c->sid[r];
    switch (c->argsz[r]) {
    case VFU_ARGSZ_SELF:
        ind(depth);
        puts("argsz: the size of this payload");
        break;
    case VFU_ARGSZ_REPLY_MAX:
        ind(depth);
        printf("argsz: the largest reply payload accepted, at least %u (the reply's fixed part)\n",
               c->sid[1] >= 0 ? ST(c->sid[1])->min_size : 0);
        break;
    case VFU_ARGSZ_FULL:
        ind(depth);
        puts("argsz: the full reply payload size; larger than the payload only when a "
             "truncatable tail was left out");
        break;
    case VFU_ARGSZ_FULL_OR_ECHO:
        ind(depth);
        puts("argsz: the full reply payload size, or the request's own when the reply repeats the "
             "request's payload (so never below the payload)");
        break;
    default:
        if (vfu_argsz_field(sid) >= 0) {
            ind(depth);
            puts("argsz: no rule");
        }
    }
}

void spec_print_cmd(const struct vfu_cmd_desc *c)
{
    printf("%u %s  %s  (spec: %s)\n", c->num, c->name,
           c->dir == VFU_DIR_CLIENT ? "client->server" : "server->client", c->section);
    if (c->needs_cap >= 0) printf("  only in sessions that were granted %s\n", vfu_capability(c->needs_cap)->name);
    for (int r = 0; r < 2; r++) {
        int sid = c->sid[r];
        printf("  %s (%s): ", r ? "reply" : "request",
               (c->dir == VFU_DIR_CLIENT) != (r == 1) ? "client->server" : "server->client");
        if (sid < 0) {
            puts("none, header only");
        } else {
            const struct vfu_struct_desc *s = ST(sid);
            printf("%s, %u bytes", s->name, s->size);
            if (s->min_size != s->size) printf(" (%u without optional fields)", s->min_size);
            if (s->tail >= 0) printf(" + %s", F(s->tail)->name);
            putchar('\n');
            layout(sid, 2, 0);
            argsz_rule(c, r, 2);
        }
        ind(2);
        printf("fds: ");
        fds_rule(&c->fds[r], sid);
        if (c->xfer[r] >= 0) {
            const struct vfu_capability_desc *cap = vfu_capability(VFU_CAP_MAX_DATA_XFER_SIZE);
            ind(2);
            printf("xfer: %s must not exceed %s (default %llu)\n", F(c->xfer[r])->name, cap->name,
                   (unsigned long long)cap->dflt);
        }
    }
}

void spec_print_all(void)
{
    printf("vfio-user %u.%u\n%s (%u bytes), before every payload:\n", vfu_spec_major(), vfu_spec_minor(),
           ST(vfu_header_sid())->name, ST(vfu_header_sid())->size);
    layout(vfu_header_sid(), 1, 0);
    printf("error reply: the header alone, with the ERROR flag and an errno in %s\n\n",
           F(ST(vfu_header_sid())->first_field + ST(vfu_header_sid())->nfields - 1)->name);
    for (unsigned i = 0; i < vfu_ncmds(); i++) {
        const struct vfu_cmd_desc *c = vfu_cmd(i);
        if (!c) continue;
        spec_print_cmd(c);
        putchar('\n');
    }
}

void spec_print_structs(void)
{
    for (unsigned sid = 0; sid < vfu_nstructs(); sid++) {
        const struct vfu_struct_desc *s = ST((int)sid);
        printf("%s: %u bytes", s->name, s->size);
        if (s->min_size != s->size) printf(", %u without optional fields", s->min_size);
        if (s->tail >= 0) printf(", then %s", F(s->tail)->name);
        if (s->stride && s->stride != s->size) printf(", %u bytes as an array element", s->stride);
        putchar('\n');
        layout((int)sid, 1, 0);
    }
}
