/* Phase 2, check: every name resolved, every layout computed, every rule
 * held, on the whole model; the first problem stops the build with
 * file:line.  After it, nothing fails on the spec's account. */
/* first: it sets _POSIX_C_SOURCE for the system headers below */
#include "specgen.h"

#include <stdlib.h>
#include <string.h>

static int find_struct(const char *name, int line)
{
    for (int i = 0; i < nstructs; i++) if (!strcmp(structs[i].name, name)) return i;
    die(line, "no struct '%s'", name);
    return -1;
}
static int find_enum(const char *name, int line)
{
    for (int i = 0; i < nenums; i++) if (!strcmp(enums[i].name, name)) return i;
    die(line, "no enum '%s'", name);
    return -1;
}
static uint64_t enum_value(int eid, const char *name, int line)
{
    for (int i = 0; i < enums[eid].n; i++)
        if (!strcmp(vals[enums[eid].first + i].name, name)) return vals[enums[eid].first + i].value;
    die(line, "enum '%s' has no value '%s'", enums[eid].name, name);
    return 0;
}
static int find_bits(const char *name, int line)
{
    for (int i = 0; i < nbitsd; i++) if (!strcmp(bitsd[i].name, name)) return i;
    die(line, "no bits '%s'", name);
    return -1;
}
static struct gbit *find_bit(int bid, const char *name, int line)
{
    for (int i = 0; i < bitsd[bid].nbits; i++)
        if (!strcmp(bitv[bitsd[bid].first_bit + i].name, name)) return &bitv[bitsd[bid].first_bit + i];
    die(line, "bits '%s' has no '%s'", bitsd[bid].name, name);
    return NULL;
}
/* a fixed integer field of struct sid */
static int find_field(int sid, const char *name, int line)
{
    struct gstruct *s = &structs[sid];
    for (int i = 0; i < s->nfields; i++) {
        struct gfield *f = &fields[s->first_field + i];
        if (!strcmp(f->name, name)) {
            if (f->kind != VFU_K_UINT) die(line, "'%s.%s' is not an integer field", s->name, name);
            return s->first_field + i;
        }
    }
    die(line, "struct '%s' has no field '%s'", s->name, name);
    return -1;
}
/* the flags field of struct sid that names bit `bit` */
static int find_flag_field(int sid, const char *bit, uint64_t *mask, int line)
{
    struct gstruct *s = &structs[sid];
    for (int i = 0; i < s->nfields; i++) {
        struct gfield *f = &fields[s->first_field + i];
        if (f->kind != VFU_K_UINT || f->bits_id < 0) continue;
        struct gbits *b = &bitsd[f->bits_id];
        for (int j = 0; j < b->nbits; j++)
            if (!strcmp(bitv[b->first_bit + j].name, bit)) { *mask = bitv[b->first_bit + j].mask; return s->first_field + i; }
    }
    die(line, "struct '%s' has no flag bit '%s'", s->name, bit);
    return -1;
}

static void layout(int sid);

static int arm_size(int a, int *has_tail)
{
    struct garm *r = &arms[a];
    *has_tail = 0;
    if (r->kind != VFU_ARM_STRUCT) { *has_tail = r->kind != VFU_ARM_NONE; return 0; }
    layout(r->sid);
    *has_tail = structs[r->sid].tail >= 0 || r->optional;
    return structs[r->sid].size;
}

static void layout(int sid)
{
    struct gstruct *s = &structs[sid];
    if (s->done == 2) return;
    if (s->done == 1) die(s->line, "struct '%s' contains itself", s->name);
    s->done = 1;
    int off = 0, seen_optional = 0;
    s->min_size = -1;
    for (int i = 0; i < s->nfields; i++) {
        struct gfield *f = &fields[s->first_field + i];
        if (f->kind == VFU_K_UINT || f->kind == VFU_K_BYTES) {
            if (f->attrs & VFU_A_OPTIONAL) {
                if (!seen_optional) s->min_size = off;
                seen_optional = 1;
            } else if (seen_optional) die(f->line, "a required field follows an optional one");
            f->offset = off;
            off += f->width;
            if (off > 65535) die(f->line, "struct too large");
        } else f->offset = off;
    }
    s->size = off;
    if (s->min_size < 0) s->min_size = off;
    if (seen_optional && s->tail >= 0) die(s->line, "optional fields and a variable tail do not mix");
    s->stride = 0;
    if (s->tail < 0) s->stride = s->size;
    else if (fields[s->tail].kind == VFU_K_VARIANT) {
        struct gfield *v = &fields[s->tail];
        int sz = -1, ok = 1;
        for (int a = 0; a < v->narms; a++) {
            int tail, z = arm_size(v->first_arm + a, &tail);
            if (tail || arms[v->first_arm + a].kind != VFU_ARM_STRUCT || (sz >= 0 && z != sz)) ok = 0;
            sz = z;
        }
        if (ok && sz >= 0) s->stride = s->size + sz;
    }
    s->done = 2;
}

#define X_NAME(n, str) str,
static const char *const meaning_names[] = {VFU_MEANINGS(X_NAME) NULL};
static const char *const space_names[] = {VFU_SPACES(X_NAME) NULL};

static int word_index(const char *const *names, const char *w, size_t n, int line, const char *what)
{
    for (int i = 0; names[i]; i++)
        if (strlen(names[i]) == n && !strncmp(names[i], w, n)) return i;
    die(line, "unknown %s '%.*s'", what, (int)n, w);
    return -1;
}

/* a capability by name, "parent.name" for one inside an object */
static int find_capability(const char *name, int line)
{
    const char *dot = strchr(name, '.');
    for (int i = 0; i < ncapab; i++) {
        if (dot) {
            if (capab[i].parent < 0 || strcmp(capab[i].name, dot + 1)) continue;
            const char *pn = capab[capab[i].parent].name;
            if (strlen(pn) == (size_t)(dot - name) && !strncmp(pn, name, (size_t)(dot - name))) return i;
        } else if (capab[i].parent < 0 && !strcmp(capab[i].name, name)) return i;
    }
    die(line, "no capability '%s'", name);
    return -1;
}

/* Field meanings: the stated ones (role=, space=, span=, bound=) and those
 * the layout implies: a field that gives a tail's length or count is a
 * count of it (a bitmap's, a length), and an `xfer` field is bounded by
 * max_data_xfer_size. */
static void resolve_meanings(void)
{
    for (int i = 0; i < nfields; i++) {
        struct gfield *f = &fields[i];
        f->role = VFU_M_NONE; f->space = VFU_SP_NONE;
        f->space_field = f->span_field = f->bound_cap = f->count_of = -1;
    }
    for (int i = 0; i < nfields; i++) {
        struct gfield *f = &fields[i];
        if (f->kind == VFU_K_DATA || f->kind == VFU_K_ARRAY || f->kind == VFU_K_BITMAP) {
            if (f->len_field >= 0) fields[f->len_field].count_of = i;
        }
        if (f->kind == VFU_K_VARIANT)
            for (int a = 0; a < f->narms; a++)
                if (arms[f->first_arm + a].kind == VFU_ARM_DATA) fields[arms[f->first_arm + a].len_field].count_of = i;
    }
    for (int i = 0; i < nfields; i++) {
        struct gfield *f = &fields[i];
        cur_line = f->line;
        if (f->role_name) f->role = word_index(meaning_names, f->role_name, strlen(f->role_name), f->line, "role");
        else if (f->count_of >= 0) f->role = fields[f->count_of].kind == VFU_K_BITMAP ? VFU_M_LENGTH : VFU_M_COUNT;
        if (f->space_name) {
            const char *colon = strchr(f->space_name, ':');
            size_t n = colon ? (size_t)(colon - f->space_name) : strlen(f->space_name);
            f->space = word_index(space_names, f->space_name, n, f->line, "space");
            if (colon) f->space_field = find_field(f->sid, colon + 1, f->line);
            if (f->role == VFU_M_NONE) die(f->line, "space= needs a role=");
        }
        if (f->span_name) {
            if (f->role != VFU_M_OFFSET && f->role != VFU_M_ADDRESS)
                die(f->line, "span= belongs to an offset or address");
            f->span_field = find_field(f->sid, f->span_name, f->line);
        }
        if (f->bound_name) f->bound_cap = find_capability(f->bound_name, f->line);
    }
    for (int i = 0; i < nfields; i++)
        if (fields[i].space_field >= 0 && fields[fields[i].space_field].role != VFU_M_INDEX)
            die(fields[i].line, "'%s' names its place by '%s', which is not role=index", fields[i].name,
                fields[fields[i].space_field].name);
    /* a struct's argsz is its role=argsz field: the codec, the mutator and
     * the tools find it by id, never by its name */
    for (int i = 0; i < nstructs; i++) structs[i].argsz_field = -1;
    for (int i = 0; i < nfields; i++) {
        if (fields[i].role != VFU_M_ARGSZ) continue;
        struct gstruct *s = &structs[fields[i].sid];
        if (s->argsz_field >= 0)
            die(fields[i].line, "struct '%s' has two role=argsz fields ('%s' and '%s')", s->name,
                fields[s->argsz_field].name, fields[i].name);
        s->argsz_field = i;
    }
    for (int i = 0; i < ncmds; i++)
        for (int r = 0; r < 2; r++)
            if (cmds[i].argsz[r] != VFU_ARGSZ_NONE && structs[cmds[i].sid[r]].argsz_field < 0)
                die(cmds[i].line, "%s-argsz: struct '%s' has no role=argsz field", r ? "reply" : "request",
                    structs[cmds[i].sid[r]].name);
    /* the transfer rule of a command bounds its field */
    int xcap = -1;
    for (int i = 0; i < ncapab; i++) if (capab[i].parent < 0 && !strcmp(capab[i].name, "max_data_xfer_size")) xcap = i;
    for (int i = 0; i < ncmds; i++)
        for (int r = 0; r < 2; r++)
            if (cmds[i].xf[r] >= 0 && fields[cmds[i].xf[r]].bound_cap < 0) {
                if (xcap < 0) die(cmds[i].line, "xfer needs the max_data_xfer_size capability");
                fields[cmds[i].xf[r]].bound_cap = xcap;
            }
}

void resolve(void)
{
    /* the command enum comes from the command blocks */
    {
        struct genum *e = PUSH(enums, nenums);
        e->name = xstrdup("command"); e->first = nvals; e->n = 0;
        for (int i = 0; i < ncmds; i++) {
            struct gval *v = PUSH(vals, nvals);
            v->name = cmds[i].name; v->value = (uint64_t)cmds[i].num; v->line = cmds[i].line; e->n++;
        }
    }
    for (int i = 0; i < nenums; i++)
        for (int j = i + 1; j < nenums; j++)
            if (!strcmp(enums[i].name, enums[j].name)) die(enums[j].line, "enum '%s' defined twice", enums[i].name);
    for (int i = 0; i < nstructs; i++)
        for (int j = i + 1; j < nstructs; j++)
            if (!strcmp(structs[i].name, structs[j].name)) die(structs[j].line, "struct '%s' defined twice", structs[i].name);

    for (int b = 0; b < nbitsd; b++) {
        struct gbits *bd = &bitsd[b];
        for (int i = 0; i < bd->nbits; i++) {
            struct gbit *bt = &bitv[bd->first_bit + i];
            if (bd->known & bt->mask) die(bt->line, "bits '%s': '%s' overlaps another bit", bd->name, bt->name);
            bd->known |= bt->mask;
            if (bt->enum_name) bt->enum_id = find_enum(bt->enum_name, bt->line);
        }
        for (int i = 0; i < bd->ngroups; i++) {
            struct ggroup *g = &groups[bd->first_group + i];
            for (int m = 0; m < g->nmembers; m++) g->mask |= find_bit(b, g->members[m], g->line)->mask;
            if (g->unless) g->unless_mask = find_bit(b, g->unless, g->line)->mask;
        }
    }
    for (int i = 0; i < nfields; i++) {
        struct gfield *f = &fields[i];
        cur_line = f->line;
        if (f->enum_name) f->enum_id = find_enum(f->enum_name, f->line);
        if (f->bits_name) f->bits_id = find_bits(f->bits_name, f->line);
        if (f->enum_id >= 0 && f->bits_id >= 0) die(f->line, "a field is an enum or bits, not both");
    }
    for (int i = 0; i < nfields; i++) {
        struct gfield *f = &fields[i];
        if (f->len_name) f->len_field = find_field(f->sid, f->len_name, f->line);
        if (f->aux_name) f->aux_field = find_field(f->sid, f->aux_name, f->line);
        if (f->elem_name) f->elem_sid = find_struct(f->elem_name, f->line);
        if (f->chain_name) {
            f->chain_id = -1;
            for (int c = 0; c < nchainsd; c++) if (!strcmp(chainsd[c].name, f->chain_name)) f->chain_id = c;
            if (f->chain_id < 0) die(f->line, "no chain '%s'", f->chain_name);
        }
        if (f->kind == VFU_K_VARIANT) {
            f->on_field = find_field(f->sid, f->on_name, f->line);
            struct gfield *on = &fields[f->on_field];
            int saw_otherwise = 0;
            for (int a = 0; a < f->narms; a++) {
                struct garm *r = &arms[f->first_arm + a];
                if (saw_otherwise) die(r->line, "an arm after 'otherwise' is never taken");
                if (!r->nconds) saw_otherwise = 1;
                for (int c = 0; c < r->nconds; c++) {
                    char *cond = r->conds[c], *eq = strchr(cond, '=');
                    if (on->bits_id >= 0) {
                        int neg = cond[0] == '!';
                        if (eq) *eq = 0;
                        struct gbit *bt = find_bit(on->bits_id, cond + neg, r->line);
                        if (eq) {
                            if (bt->enum_id < 0 || neg) die(r->line, "'%s' takes no value", cond);
                            *eq = '=';
                            r->mask |= bt->mask;
                            r->value |= enum_value(bt->enum_id, eq + 1, r->line) << bt->shift;
                        } else {
                            r->mask |= bt->mask;
                            if (!neg) r->value |= bt->mask;
                        }
                    } else if (on->enum_id >= 0) {
                        if (r->nconds != 1) die(r->line, "an enum selector takes one value");
                        r->mask = on->width == 8 ? ~0ULL : (1ULL << (8 * on->width)) - 1;
                        r->value = enum_value(on->enum_id, cond, r->line);
                    } else die(r->line, "variant selector '%s' has no enum or bits", on->name);
                }
                if (r->kind == VFU_ARM_STRUCT) r->sid = find_struct(r->target, r->line);
                if (r->kind == VFU_ARM_DATA) r->len_field = find_field(f->sid, r->len_name, r->line);
            }
            if (!saw_otherwise && on->bits_id < 0 && on->enum_id < 0) die(f->line, "variant without arms");
        }
    }
    for (int c = 0; c < nchainsd; c++) {
        struct gchain *cp = &chainsd[c];
        cp->header_sid = find_struct(cp->header, cp->line);
        cp->id_field = find_field(cp->header_sid, cp->id, cp->line);
        cp->next_field = find_field(cp->header_sid, cp->next, cp->line);
        int eid = fields[cp->id_field].enum_id;
        if (eid < 0) die(cp->line, "cap id field needs an enum");
        for (int i = 0; i < cp->n; i++) {
            struct gcapent *e = &capents[cp->first + i];
            e->idv = enum_value(eid, e->id, e->line);
            e->sid = find_struct(e->sname, e->line);
        }
    }
    for (int i = 0; i < nstructs; i++) layout(i);
    for (int i = 0; i < nfields; i++)
        if (fields[i].kind == VFU_K_ARRAY && !structs[fields[i].elem_sid].stride)
            die(fields[i].line, "array element '%s' has no fixed size", structs[fields[i].elem_sid].name);

    int seen[65536] = {0};
    for (int i = 0; i < ncmds; i++) {
        struct gcmd *c = &cmds[i];
        cur_line = c->line;
        if (c->num < 1 || c->num > 255) die(c->line, "command number out of range");
        if (seen[c->num]++) die(c->line, "command %d defined twice", c->num);
        if (!c->section) die(c->line, "command needs a section");
        for (int r = 0; r < 2; r++) {
            if (!c->sname[r]) die(c->line, "command needs request and reply");
            c->sid[r] = strcmp(c->sname[r], "none") ? find_struct(c->sname[r], c->line) : -1;
            /* which field holds argsz is known once roles are (resolve_meanings) */
            if (c->argsz[r] != VFU_ARGSZ_NONE && c->sid[r] < 0) die(c->line, "argsz rule on an empty payload");
            struct gfds *fd = &c->fds[r];
            fd->fid = fd->bit_field = -1;
            if (fd->rule != VFU_FDS_NONE && fd->rule != VFU_FDS_OPTIONAL && c->sid[r] < 0)
                die(c->line, "fd rule needs a payload");
            if (fd->field) fd->fid = find_field(c->sid[r], fd->field, c->line);
            if (fd->bit) fd->bit_field = find_flag_field(c->sid[r], fd->bit, &fd->mask, c->line);
            c->xf[r] = -1;
            if (c->xfer && c->sid[r] >= 0) c->xf[r] = find_field(c->sid[r], c->xfer, c->line);
        }
        if (c->xfer && c->xf[0] < 0 && c->xf[1] < 0) die(c->line, "xfer field not found");
        c->needs_cap = -1;
        if (c->needs) {
            c->needs_cap = find_capability(c->needs, c->line);
            if (capab[c->needs_cap].kind != VFU_CAP_BOOLEAN) die(c->line, "needs-cap %s: not a boolean capability", c->needs);
        }
    }
    for (int i = 0; i < nfields; i++) {
        struct gfield *f = &fields[i];
        if (f->kind == VFU_K_UINT && f->width != 1 && f->width != 2 && f->width != 4 && f->width != 8)
            die(f->line, "integer width must be 1, 2, 4 or 8");
    }
    resolve_meanings();
}

/* The last checks, on the whole model once every name is resolved. */
int check_whole(void)
{
    int header_sid = find_struct("header", 0);
    if (structs[header_sid].size != 16 || structs[header_sid].tail >= 0)
        die(structs[header_sid].line, "the header must be a fixed 16-byte struct");
    /* every field says what it is for: vfu-spec list and the dissector
     * show the line beside the field */
    for (int i = 0; i < nfields; i++)
        if (!fields[i].doc) die(fields[i].line, "field '%s.%s' has no doc line", structs[fields[i].sid].name, fields[i].name);
    check_names();
    return header_sid;
}
