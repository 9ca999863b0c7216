/* specgen: reads spec/vfio-user.spec and writes the C tables the codec walks.
 *
 *   specgen SPEC OUT.h OUT.c
 *
 * Every name is resolved and every layout rule checked here, at build time,
 * so that the runtime codec can trust its tables and a mistake in the spec
 * file stops the build with file:line instead of surfacing as a bad decode. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfu_desc.h"

#define MAXN 1024
#define MAXTOK 32

static const char *spec_path;
static int cur_line;

static void die(int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: ", spec_path, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d) { perror("strdup"); exit(1); }
    return d;
}

/* ------------------------------------------------------------ model --- */

struct gfield {
    char *name; int kind, width, attrs, line, sid, offset;
    char *enum_name, *bits_name, *len_name, *aux_name, *elem_name, *chain_name, *on_name;
    int enum_id, bits_id, len_field, aux_field, elem_sid, chain_id, on_field;
    int first_arm, narms;
    char *role_name, *space_name, *span_name, *bound_name;
    int role, space, space_field, span_field, bound_cap, count_of;
    char *doc; int doc_line;   /* the `doc` line after the field's */
};
struct garm {
    char *label; char *conds[8]; int nconds; int kind; char *target; char *len_name;
    int optional, line, owner; uint64_t mask, value; int sid, len_field;
};
struct gstruct { char *name; int first_field, nfields, tail, size, min_size, stride, line, done, argsz_field; };
struct gval { char *name; uint64_t value; int line; };
struct genum { char *name; int first, n, line; };
struct gbit { char *name; uint64_t mask; int shift; char *enum_name; int enum_id, line; };
struct ggroup { char *name; int kind; char *members[8]; int nmembers; char *unless; uint64_t mask, unless_mask; int line; };
struct gbits { char *name; int first_bit, nbits, first_group, ngroups, line; uint64_t known; };
struct gcapent { char *id; char *sname; uint64_t idv; int sid; int line; };
struct gchain { char *name, *header, *id, *next; int first, n, line; int header_sid, id_field, next_field; };
struct gfds { int rule; char *field, *bit; int fid, bit_field; uint64_t mask; };
struct gcmd { int num, dir, line; char *name, *section, *sname[2]; int sid[2]; int argsz[2]; struct gfds fds[2]; char *xfer; int xf[2];
              char *needs; int needs_cap; };
struct gcap { char *name; int kind, reply_only, parent, has_default, line; uint64_t dflt; };

static struct gfield fields[MAXN]; static int nfields;
static struct garm arms[MAXN]; static int narms;
static struct gstruct structs[MAXN]; static int nstructs;
static struct gval vals[MAXN]; static int nvals;
static struct genum enums[MAXN]; static int nenums;
static struct gbit bitv[MAXN]; static int nbitv;
static struct ggroup groups[MAXN]; static int ngroups;
static struct gbits bitsd[MAXN]; static int nbitsd;
static struct gcapent capents[MAXN]; static int ncapents;
static struct gchain chainsd[MAXN]; static int nchainsd;
static struct gcmd cmds[MAXN]; static int ncmds;
static struct gcap capab[MAXN]; static int ncapab;
static int proto_major = -1, proto_minor = -1;

#define PUSH(arr, n) (((n) >= MAXN) ? (die(cur_line, "too many entries"), &(arr)[0]) : &(arr)[(n)++])

/* --------------------------------------------------------- tokenizer --- */

static int tokenize(char *s, char **tok)
{
    int n = 0;
    char *hash = strchr(s, '#');
    if (hash) *hash = 0;
    for (char *p = strtok(s, " \t\r\n"); p; p = strtok(NULL, " \t\r\n")) {
        if (n == MAXTOK) die(cur_line, "too many words on one line");
        tok[n++] = p;
    }
    return n;
}

/* key=value attribute lookup among tokens [from, n) */
static char *attr(char **tok, int n, int from, const char *key)
{
    size_t kl = strlen(key);
    for (int i = from; i < n; i++)
        if (!strncmp(tok[i], key, kl) && tok[i][kl] == '=') return tok[i] + kl + 1;
    return NULL;
}
static int flag(char **tok, int n, int from, const char *word)
{
    for (int i = from; i < n; i++) if (!strcmp(tok[i], word)) return 1;
    return 0;
}
static void only_known(char **tok, int n, int from, const char *const *known)
{
    for (int i = from; i < n; i++) {
        int ok = 0;
        for (const char *const *k = known; *k; k++) {
            size_t l = strlen(*k);
            if (!strncmp(tok[i], *k, l) && (tok[i][l] == 0 || tok[i][l] == '=')) ok = 1;
        }
        if (!ok) die(cur_line, "unknown word '%s'", tok[i]);
    }
}

static uint64_t number(const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end || s[0] == '-' || !s[0]) die(cur_line, "'%s' is not a number", s);
    return v;
}

static char *dupn(const char *s) { return s ? xstrdup(s) : NULL; }

/* ------------------------------------------------------------ parser --- */

enum block { B_TOP, B_ENUM, B_BITS, B_STRUCT, B_VARIANT, B_CHAIN, B_COMMAND, B_CAPAB };

static void parse(FILE *f)
{
    char line[1024];
    char *tok[MAXTOK];
    enum block stack[8]; int depth = 0; stack[0] = B_TOP;
    int cur = -1;            /* current enum/bits/struct/caps/command index */
    int cur_variant = -1;    /* field index of the open variant */
    int capab_parent[8]; int capab_depth = 0; capab_parent[0] = -1;
    /* the field whose line was the last statement: the one a `doc` line
     * describes (blank and comment lines do not count) */
    int doc_target = -1;

    while (fgets(line, sizeof line, f)) {
        cur_line++;
        if (!strchr(line, '\n') && !feof(f)) die(cur_line, "line too long");
        int n = tokenize(line, tok);
        if (!n) continue;
        enum block b = stack[depth];
        /* `doc` is a word no field type or arm starts with, so inside a
         * struct or variant it cannot be mistaken for anything else */
        if ((b == B_STRUCT || b == B_VARIANT) && !strcmp(tok[0], "doc")) {
            if (doc_target < 0) die(cur_line, "a doc line belongs directly after a field line");
            struct gfield *df = &fields[doc_target];
            if (df->doc) die(cur_line, "field '%s' already has a doc line (line %d)", df->name, df->doc_line);
            if (n < 2) die(cur_line, "doc needs text");
            /* the words, joined by single spaces: the tokenizer has already
             * cut them apart and dropped any '#' comment */
            size_t len = 0;
            for (int i = 1; i < n; i++) len += strlen(tok[i]) + 1;
            df->doc = malloc(len);
            if (!df->doc) { perror("malloc"); exit(1); }
            df->doc[0] = 0;
            for (int i = 1; i < n; i++) {
                if (i > 1) strcat(df->doc, " ");
                strcat(df->doc, tok[i]);
            }
            df->doc_line = cur_line;
            continue;
        }
        doc_target = -1;
        if (!strcmp(tok[0], "end")) {
            if (depth == 0) die(cur_line, "'end' without a block");
            if (b == B_STRUCT) structs[cur].nfields = nfields - structs[cur].first_field;
            if (b == B_CAPAB) capab_depth--;
            if (b == B_VARIANT) cur_variant = -1;
            depth--;
            continue;
        }
        switch (b) {
        case B_TOP:
            if (!strcmp(tok[0], "protocol") && n == 3) {
                proto_major = (int)number(tok[1]); proto_minor = (int)number(tok[2]);
            } else if (!strcmp(tok[0], "enum") && n == 2) {
                struct genum *e = PUSH(enums, nenums);
                e->name = xstrdup(tok[1]); e->first = nvals; e->n = 0; e->line = cur_line;
                cur = nenums - 1; stack[++depth] = B_ENUM;
            } else if (!strcmp(tok[0], "bits") && n == 2) {
                struct gbits *bd = PUSH(bitsd, nbitsd);
                bd->name = xstrdup(tok[1]); bd->first_bit = nbitv; bd->first_group = ngroups; bd->line = cur_line;
                cur = nbitsd - 1; stack[++depth] = B_BITS;
            } else if (!strcmp(tok[0], "struct") && n == 2) {
                struct gstruct *s = PUSH(structs, nstructs);
                s->name = xstrdup(tok[1]); s->first_field = nfields; s->tail = -1; s->line = cur_line;
                cur = nstructs - 1; stack[++depth] = B_STRUCT;
            } else if (!strcmp(tok[0], "chain") && n >= 2) {
                static const char *const k[] = {"header", "id", "next", NULL};
                only_known(tok, n, 2, k);
                struct gchain *c = PUSH(chainsd, nchainsd);
                c->name = xstrdup(tok[1]); c->header = dupn(attr(tok, n, 2, "header"));
                c->id = dupn(attr(tok, n, 2, "id")); c->next = dupn(attr(tok, n, 2, "next"));
                if (!c->header || !c->id || !c->next) die(cur_line, "chain needs header=, id=, next=");
                c->first = ncapents; c->line = cur_line;
                cur = nchainsd - 1; stack[++depth] = B_CHAIN;
            } else if (!strcmp(tok[0], "command") && n == 4) {
                struct gcmd *c = PUSH(cmds, ncmds);
                memset(c, 0, sizeof *c);
                c->num = (int)number(tok[1]); c->name = xstrdup(tok[2]); c->line = cur_line;
                if (!strcmp(tok[3], "client")) c->dir = VFU_DIR_CLIENT;
                else if (!strcmp(tok[3], "server")) c->dir = VFU_DIR_SERVER;
                else die(cur_line, "direction is 'client' or 'server'");
                c->sname[0] = c->sname[1] = NULL; c->sid[0] = c->sid[1] = -2;
                cur = ncmds - 1; stack[++depth] = B_COMMAND;
            } else if (!strcmp(tok[0], "capabilities") && n == 1) {
                stack[++depth] = B_CAPAB; capab_depth = 0; capab_parent[0] = -1;
            } else die(cur_line, "unknown statement '%s'", tok[0]);
            break;
        case B_ENUM: {
            if (n != 2) die(cur_line, "enum entry is NAME VALUE");
            struct gval *v = PUSH(vals, nvals);
            v->name = xstrdup(tok[0]); v->value = number(tok[1]); v->line = cur_line; enums[cur].n++;
            break;
        }
        case B_BITS:
            if (!strcmp(tok[0], "bit") && n == 3) {
                struct gbit *bt = PUSH(bitv, nbitv);
                uint64_t s = number(tok[2]);
                if (s > 63) die(cur_line, "bit number above 63");
                bt->name = xstrdup(tok[1]); bt->mask = 1ULL << s; bt->shift = (int)s; bt->enum_id = -1;
                bt->line = cur_line;
                bitsd[cur].nbits++;
            } else if (!strcmp(tok[0], "field") && (n == 4 || n == 5)) {
                struct gbit *bt = PUSH(bitv, nbitv);
                uint64_t lo = number(tok[2]), hi = number(tok[3]);
                if (lo > hi || hi > 63) die(cur_line, "bad bit range");
                bt->name = xstrdup(tok[1]); bt->shift = (int)lo; bt->line = cur_line;
                bt->mask = (hi - lo == 63 ? ~0ULL : ((1ULL << (hi - lo + 1)) - 1)) << lo;
                bt->enum_name = n == 5 ? dupn(attr(tok, n, 4, "enum")) : NULL;
                if (n == 5 && !bt->enum_name) die(cur_line, "expected enum=NAME");
                bt->enum_id = -1; bitsd[cur].nbits++;
            } else if ((!strcmp(tok[0], "oneof") || !strcmp(tok[0], "atmostone") ||
                        !strcmp(tok[0], "atleastone")) && n >= 4) {
                struct ggroup *g = PUSH(groups, ngroups);
                memset(g, 0, sizeof *g);
                g->kind = tok[0][1] == 'n' ? VFU_G_ONEOF : tok[0][1] == 't' && tok[0][2] == 'm'
                              ? VFU_G_ATMOSTONE : VFU_G_ATLEASTONE;
                g->name = xstrdup(tok[1]); g->line = cur_line;
                for (int i = 2; i < n; i++) {
                    if (!strncmp(tok[i], "unless=", 7)) { g->unless = xstrdup(tok[i] + 7); continue; }
                    if (g->nmembers == 8) die(cur_line, "too many members");
                    g->members[g->nmembers++] = xstrdup(tok[i]);
                }
                bitsd[cur].ngroups++;
            } else die(cur_line, "bits entry is 'bit NAME N', 'field NAME LO HI [enum=E]' or a group");
            break;
        case B_STRUCT: {
            if (structs[cur].tail >= 0) die(cur_line, "nothing may follow the variable tail");
            struct gfield *fl = PUSH(fields, nfields);
            memset(fl, 0, sizeof *fl);
            fl->line = cur_line; fl->sid = cur;
            fl->enum_id = fl->bits_id = fl->len_field = fl->aux_field = -1;
            fl->elem_sid = fl->chain_id = fl->on_field = -1;
            if (n < 2) die(cur_line, "field is TYPE NAME [attrs]");
            fl->name = xstrdup(tok[1]);
            const char *t = tok[0];
            if (!strcmp(t, "u8") || !strcmp(t, "u16") || !strcmp(t, "u32") || !strcmp(t, "u64")) {
                static const char *const k[] = {"enum", "bits", "mbz", "optional", "echo", "role", "space",
                                                "span", "bound", NULL};
                only_known(tok, n, 2, k);
                fl->role_name = dupn(attr(tok, n, 2, "role"));
                fl->space_name = dupn(attr(tok, n, 2, "space"));
                fl->span_name = dupn(attr(tok, n, 2, "span"));
                fl->bound_name = dupn(attr(tok, n, 2, "bound"));
                fl->kind = VFU_K_UINT; fl->width = atoi(t + 1) / 8;
                fl->enum_name = dupn(attr(tok, n, 2, "enum"));
                fl->bits_name = dupn(attr(tok, n, 2, "bits"));
                if (flag(tok, n, 2, "mbz")) fl->attrs |= VFU_A_MBZ;
                if (flag(tok, n, 2, "optional")) fl->attrs |= VFU_A_OPTIONAL;
                if (flag(tok, n, 2, "echo")) fl->attrs |= VFU_A_ECHO;
            } else if (!strcmp(t, "bytes")) {
                static const char *const k[] = {"mbz", NULL};
                if (n < 3) die(cur_line, "bytes NAME N");
                only_known(tok, n, 3, k);
                fl->kind = VFU_K_BYTES; fl->width = (int)number(tok[2]);
                if (fl->width < 1 || fl->width > 4096) die(cur_line, "bad byte count");
                if (flag(tok, n, 3, "mbz")) fl->attrs |= VFU_A_MBZ;
            } else {
                structs[cur].tail = nfields - 1;
                if (!strcmp(t, "data")) {
                    static const char *const k[] = {"len", "rest", NULL};
                    only_known(tok, n, 2, k);
                    fl->kind = VFU_K_DATA; fl->len_name = dupn(attr(tok, n, 2, "len"));
                    if (!fl->len_name && !flag(tok, n, 2, "rest")) die(cur_line, "data needs len= or rest");
                } else if (!strcmp(t, "string")) {
                    if (n != 2) die(cur_line, "string NAME");
                    fl->kind = VFU_K_STRING;
                } else if (!strcmp(t, "array")) {
                    static const char *const k[] = {"count", "truncatable", NULL};
                    if (n < 4) die(cur_line, "array NAME STRUCT count=FIELD");
                    only_known(tok, n, 3, k);
                    fl->kind = VFU_K_ARRAY; fl->elem_name = xstrdup(tok[2]);
                    fl->len_name = dupn(attr(tok, n, 3, "count"));
                    if (!fl->len_name) die(cur_line, "array needs count=");
                    if (flag(tok, n, 3, "truncatable")) fl->attrs |= VFU_A_TRUNCATABLE;
                } else if (!strcmp(t, "bitmap")) {
                    static const char *const k[] = {"len", "page", NULL};
                    only_known(tok, n, 2, k);
                    fl->kind = VFU_K_BITMAP; fl->len_name = dupn(attr(tok, n, 2, "len"));
                    fl->aux_name = dupn(attr(tok, n, 2, "page"));
                    if (!fl->len_name || !fl->aux_name) die(cur_line, "bitmap needs len= and page=");
                } else if (!strcmp(t, "capchain")) {
                    static const char *const k[] = {"at", "list", NULL};
                    only_known(tok, n, 2, k);
                    fl->kind = VFU_K_CAPCHAIN; fl->len_name = dupn(attr(tok, n, 2, "at"));
                    fl->chain_name = dupn(attr(tok, n, 2, "list"));
                    if (!fl->len_name || !fl->chain_name) die(cur_line, "capchain needs at= and list=");
                    fl->attrs |= VFU_A_TRUNCATABLE;
                } else if (!strcmp(t, "variant")) {
                    static const char *const k[] = {"on", NULL};
                    only_known(tok, n, 2, k);
                    fl->kind = VFU_K_VARIANT; fl->on_name = dupn(attr(tok, n, 2, "on"));
                    if (!fl->on_name) die(cur_line, "variant needs on=");
                    fl->first_arm = narms;
                    cur_variant = nfields - 1;
                    stack[++depth] = B_VARIANT;
                } else die(cur_line, "unknown field type '%s'", t);
            }
            doc_target = nfields - 1;
            break;
        }
        case B_VARIANT: {
            struct garm *a = PUSH(arms, narms);
            memset(a, 0, sizeof *a);
            a->line = cur_line; a->owner = cur_variant; a->sid = a->len_field = -1;
            int arrow = -1;
            for (int i = 0; i < n; i++) if (!strcmp(tok[i], "->")) arrow = i;
            if (arrow < 1 || arrow == n - 1) die(cur_line, "arm is 'when COND... -> TARGET' or 'otherwise -> TARGET'");
            if (!strcmp(tok[0], "when")) {
                if (arrow < 2) die(cur_line, "'when' needs a condition");
                for (int i = 1; i < arrow; i++) {
                    if (a->nconds == 8) die(cur_line, "too many conditions");
                    a->conds[a->nconds++] = xstrdup(tok[i]);
                }
            } else if (strcmp(tok[0], "otherwise") || arrow != 1) die(cur_line, "arm starts with 'when' or 'otherwise'");
            char label[256] = "";
            for (int i = 0; i < arrow; i++) {
                if (i) strncat(label, " ", sizeof label - strlen(label) - 1);
                strncat(label, tok[i], sizeof label - strlen(label) - 1);
            }
            a->label = xstrdup(label);
            const char *t = tok[arrow + 1];
            if (!strcmp(t, "none")) a->kind = VFU_ARM_NONE;
            else if (!strcmp(t, "raw")) a->kind = VFU_ARM_RAW;
            else if (!strcmp(t, "data")) {
                a->kind = VFU_ARM_DATA;
                a->len_name = arrow + 2 < n ? dupn(attr(tok, n, arrow + 2, "len")) : NULL;
                if (!a->len_name) die(cur_line, "data arm needs len=");
            } else {
                a->kind = VFU_ARM_STRUCT; a->target = xstrdup(t);
                a->optional = flag(tok, n, arrow + 2, "optional");
            }
            fields[cur_variant].narms++;
            break;
        }
        case B_CHAIN: {
            if (strcmp(tok[0], "cap") || n != 3) die(cur_line, "chain entry is 'cap ID STRUCT'");
            struct gcapent *e = PUSH(capents, ncapents);
            e->id = xstrdup(tok[1]); e->sname = xstrdup(tok[2]); e->line = cur_line;
            chainsd[cur].n++;
            break;
        }
        case B_COMMAND: {
            struct gcmd *c = &cmds[cur];
            if (!strcmp(tok[0], "section") && n == 2) c->section = xstrdup(tok[1]);
            else if ((!strcmp(tok[0], "request") || !strcmp(tok[0], "reply")) && n == 2) {
                int r = tok[0][2] == 'p';
                c->sname[r] = xstrdup(tok[1]);
            } else if ((!strcmp(tok[0], "request-argsz") || !strcmp(tok[0], "reply-argsz")) && n == 2) {
                int r = tok[0][2] == 'p';
                if (!strcmp(tok[1], "self") && !r) c->argsz[r] = VFU_ARGSZ_SELF;
                else if (!strcmp(tok[1], "reply-max") && !r) c->argsz[r] = VFU_ARGSZ_REPLY_MAX;
                else if (!strcmp(tok[1], "full") && r) c->argsz[r] = VFU_ARGSZ_FULL;
                else if (!strcmp(tok[1], "full-or-echo") && r) c->argsz[r] = VFU_ARGSZ_FULL_OR_ECHO;
                else die(cur_line, "unknown argsz rule '%s' here", tok[1]);
            } else if (!strcmp(tok[0], "request-fds") || !strcmp(tok[0], "reply-fds")) {
                struct gfds *fd = &c->fds[tok[0][2] == 'p'];
                if (n == 2 && !strcmp(tok[1], "none")) fd->rule = VFU_FDS_NONE;
                else if (n == 2 && !strcmp(tok[1], "optional")) fd->rule = VFU_FDS_OPTIONAL;
                else if (n == 3 && !strcmp(tok[1], "one-if")) { fd->rule = VFU_FDS_ONE_IF; fd->bit = xstrdup(tok[2]); }
                else if (n == 3 && !strcmp(tok[1], "upto")) { fd->rule = VFU_FDS_UPTO; fd->field = xstrdup(tok[2]); }
                else if (n == 5 && !strcmp(tok[1], "count-or-zero") && !strcmp(tok[3], "if")) {
                    fd->rule = VFU_FDS_COUNT_OR_ZERO; fd->field = xstrdup(tok[2]); fd->bit = xstrdup(tok[4]);
                } else die(cur_line, "unknown fd rule");
            } else if (!strcmp(tok[0], "xfer") && n == 2) c->xfer = xstrdup(tok[1]);
            else if (!strcmp(tok[0], "needs-cap") && n == 2) c->needs = xstrdup(tok[1]);
            else die(cur_line, "unknown command attribute '%s'", tok[0]);
            break;
        }
        case B_CAPAB: {
            struct gcap *k = PUSH(capab, ncapab);
            memset(k, 0, sizeof *k);
            if (n < 2) die(cur_line, "capability is TYPE NAME [default=V] [reply-only]");
            static const char *const kw[] = {"default", "reply-only", NULL};
            only_known(tok, n, 2, kw);
            k->name = xstrdup(tok[1]); k->parent = capab_parent[capab_depth]; k->line = cur_line;
            k->reply_only = flag(tok, n, 2, "reply-only");
            const char *d = attr(tok, n, 2, "default");
            if (!strcmp(tok[0], "number")) {
                k->kind = VFU_CAP_NUMBER;
                if (d) { k->dflt = number(d); k->has_default = 1; }
            } else if (!strcmp(tok[0], "boolean")) {
                k->kind = VFU_CAP_BOOLEAN;
                if (d) {
                    if (strcmp(d, "true") && strcmp(d, "false")) die(cur_line, "boolean default is true or false");
                    k->dflt = !strcmp(d, "true"); k->has_default = 1;
                }
            } else if (!strcmp(tok[0], "object")) {
                k->kind = VFU_CAP_OBJECT;
                if (d) die(cur_line, "an object has no default");
                if (capab_depth == 6) die(cur_line, "objects nest too deep");
                capab_parent[++capab_depth] = ncapab - 1;
                stack[++depth] = B_CAPAB;
            } else die(cur_line, "capability type is number, boolean or object");
            break;
        }
        }
        if (depth >= 7) die(cur_line, "blocks nest too deep");
    }
    if (depth) die(cur_line, "unterminated block at end of file");
    if (proto_major < 0) die(cur_line, "no 'protocol MAJOR MINOR' line");
}

/* -------------------------------------------------------- resolution --- */

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

static void resolve(void)
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

/* ------------------------------------------------------------ output --- */

static void upper(char *dst, size_t n, const char *a, const char *b)
{
    size_t k = 0;
    for (const char *p = a; *p && k + 1 < n; p++) dst[k++] = (char)toupper((unsigned char)*p);
    if (b) {
        if (k + 1 < n) dst[k++] = '_';
        for (const char *p = b; *p && k + 1 < n; p++) dst[k++] = (char)toupper((unsigned char)*p);
    }
    dst[k] = 0;
}

/* Every C name the header defines, claimed once: two spec names that
 * upper-case and join to the same identifier (enum a_b value C, enum a
 * value B_C; a field listed twice) stop the check phase at the line of the
 * second.  The check runs emit_header once into a scratch stream
 * (check_names), so the real emit cannot fail on the spec's account. */
static char *macros[8 * MAXN]; static int nmacros;
static void claim(const char *name, int line)
{
    for (int i = 0; i < nmacros; i++)
        if (!strcmp(macros[i], name)) die(line, "generated name %s would be defined twice", name);
    if (nmacros < 8 * MAXN) macros[nmacros++] = xstrdup(name);
}
static void define(FILE *h, const char *name, unsigned long long v, int hex, int line)
{
    claim(name, line);
    fprintf(h, hex ? "#define %s 0x%llxULL\n" : "#define %s %lluU\n", name, v);
}
/* an enum member: claimed, then written */
static void member(FILE *h, const char *name, int v, int line)
{
    claim(name, line);
    fprintf(h, "    %s = %d,\n", name, v);
}

static void emit_header(FILE *h)
{
    char a[128], b[256];
    fprintf(h, "/* Generated by spec/specgen.c from spec/vfio-user.spec. Do not edit. */\n");
    fprintf(h, "#ifndef VFU_PROTO_H\n#define VFU_PROTO_H\n\n#include \"vfu_desc.h\"\n\n");
    fprintf(h, "#define VFU_PROTO_MAJOR %d\n#define VFU_PROTO_MINOR %d\n\n", proto_major, proto_minor);
    fprintf(h, "enum vfu_command {\n");
    int maxcmd = 0;
    /* the names the generator adds are claimed first, so that a spec name
     * colliding with one is the one reported, at its line */
    claim("VFU_CMD_MAX", 0);
    for (int i = 0; i < ncmds; i++) {
        snprintf(a, sizeof a, "VFU_CMD_%s", cmds[i].name);
        member(h, a, cmds[i].num, cmds[i].line);
        if (cmds[i].num > maxcmd) maxcmd = cmds[i].num;
    }
    fprintf(h, "};\n#define VFU_CMD_MAX %d\n\n", maxcmd);
    for (int e = 0; e < nenums; e++) {
        if (!strcmp(enums[e].name, "command")) continue;
        for (int i = 0; i < enums[e].n; i++) {
            upper(a, sizeof a, "vfu", enums[e].name);
            upper(b, sizeof b, a, vals[enums[e].first + i].name);
            define(h, b, vals[enums[e].first + i].value, 0, vals[enums[e].first + i].line);
        }
    }
    fprintf(h, "\n");
    for (int bi = 0; bi < nbitsd; bi++) {
        for (int i = 0; i < bitsd[bi].nbits; i++) {
            struct gbit *bt = &bitv[bitsd[bi].first_bit + i];
            upper(a, sizeof a, "vfu", bitsd[bi].name);
            upper(b, sizeof b, a, bt->name);
            if (bt->mask == (1ULL << bt->shift)) define(h, b, bt->mask, 1, bt->line);
            else {
                char c[300]; 
                snprintf(c, sizeof c, "%s_MASK", b); define(h, c, bt->mask, 1, bt->line);
                snprintf(c, sizeof c, "%s_SHIFT", b); define(h, c, (unsigned)bt->shift, 0, bt->line);
            }
        }
        upper(a, sizeof a, "vfu", bitsd[bi].name);
        snprintf(b, sizeof b, "%s_KNOWN", a); define(h, b, bitsd[bi].known, 1, bitsd[bi].line);
    }
    fprintf(h, "\nenum vfu_struct_id {\n");
    claim("VFU_S__COUNT", 0);
    for (int i = 0; i < nstructs; i++) { upper(a, sizeof a, "VFU_S", structs[i].name); member(h, a, i, structs[i].line); }
    fprintf(h, "    VFU_S__COUNT = %d\n};\n\n", nstructs);
    for (int i = 0; i < nstructs; i++) {
        upper(a, sizeof a, "VFU_SIZE", structs[i].name); define(h, a, (unsigned)structs[i].size, 0, structs[i].line);
    }
    fprintf(h, "\nenum vfu_field_id {\n");
    claim("VFU_F__COUNT", 0);
    for (int i = 0; i < nfields; i++) {
        upper(a, sizeof a, "VFU_F", structs[fields[i].sid].name);
        upper(b, sizeof b, a, fields[i].name);
        member(h, b, i, fields[i].line);
    }
    fprintf(h, "    VFU_F__COUNT = %d\n};\n\n", nfields);
    fprintf(h, "enum vfu_caps_list_id {\n");
    claim("VFU_CHAIN__COUNT", 0);
    claim("VFU_CAP__COUNT", 0);
    for (int i = 0; i < nchainsd; i++) { upper(a, sizeof a, "VFU_CHAIN", chainsd[i].name); member(h, a, i, chainsd[i].line); }
    /* a count ends the list, so that a spec without chains still
     * gives valid C (an empty enum is not) */
    fprintf(h, "    VFU_CHAIN__COUNT = %d\n};\n\nenum vfu_capability_id {\n", nchainsd);
    for (int i = 0; i < ncapab; i++) {
        if (capab[i].parent >= 0) upper(a, sizeof a, capab[capab[i].parent].name, capab[i].name);
        else upper(a, sizeof a, capab[i].name, NULL);
        snprintf(b, sizeof b, "VFU_CAP_%s", a);
        member(h, b, i, capab[i].line);
    }
    fprintf(h, "    VFU_CAP__COUNT = %d\n};\n\n", ncapab);
    for (int i = 0; i < ncapab; i++) {
        if (!capab[i].has_default) continue;
        if (capab[i].parent >= 0) upper(a, sizeof a, capab[capab[i].parent].name, capab[i].name);
        else upper(a, sizeof a, capab[i].name, NULL);
        snprintf(b, sizeof b, "VFU_DEFAULT_%s", a);
        define(h, b, capab[i].dflt, 0, capab[i].line);
    }
    fprintf(h, "\n#endif\n");
}

static void cstr(FILE *c, const char *s)
{
    if (!s) { fputs("NULL", c); return; }
    fputc('"', c);
    for (; *s; s++) { if (*s == '"' || *s == '\\') fputc('\\', c); fputc(*s, c); }
    fputc('"', c);
}

/* Every row written with designated initializers and a comment naming it:
 * a member reordered or added in include/vfu/vfu_desc.h cannot wire a value
 * into the wrong member without the compiler saying so. */
static void emit_tables(FILE *c, int header_sid)
{
    fprintf(c, "/* Generated by spec/specgen.c from spec/vfio-user.spec. Do not edit. */\n");
    fprintf(c, "#include \"vfu_proto.h\"\n#include \"spec_tables.h\"\n\n");
    fprintf(c, "static const struct vfu_field_desc fields[] = {\n");
    for (int i = 0; i < nfields; i++) {
        struct gfield *f = &fields[i];
        fprintf(c, "    /* %d: %s.%s */\n    [%d] = {.name = ", i, structs[f->sid].name, f->name, i);
        cstr(c, f->name);
        fprintf(c, ", .sid = %d, .offset = %d, .width = %d, .kind = %d, .attrs = %d, .enum_id = %d, .bits_id = %d,\n"
                   "        .len_field = %d, .aux_field = %d, .elem_sid = %d, .chain_id = %d, .first_arm = %d, .narms = %d,\n"
                   "        .on_field = %d, .role = %d, .space = %d, .space_field = %d, .span_field = %d, .bound_cap = %d,\n"
                   "        .count_of = %d,\n        .doc = ",
                f->sid, f->offset, f->width, f->kind, f->attrs, f->enum_id, f->bits_id,
                f->len_field, f->aux_field, f->elem_sid, f->chain_id,
                f->kind == VFU_K_VARIANT ? f->first_arm : 0, f->narms, f->on_field,
                f->role, f->space, f->space_field, f->span_field, f->bound_cap, f->count_of);
        cstr(c, f->doc);
        fputs("},\n", c);
    }
    fprintf(c, "};\n\nstatic const struct vfu_struct_desc structs[] = {\n");
    for (int i = 0; i < nstructs; i++) {
        struct gstruct *st = &structs[i];
        fprintf(c, "    [%d] = {.name = ", i); cstr(c, st->name);
        fprintf(c, ", .size = %d, .min_size = %d, .first_field = %d, .nfields = %d, .tail = %d, .stride = %d,\n"
                   "        .argsz_field = %d},\n",
                st->size, st->min_size, st->first_field, st->nfields, st->tail, st->stride, st->argsz_field);
    }
    fprintf(c, "};\n\nstatic const struct vfu_arm_desc arms[] = {\n");
    for (int i = 0; i < narms; i++) {
        struct garm *r = &arms[i];
        fprintf(c, "    /* %d: arm of %s.%s */\n    [%d] = {.label = ", i, structs[fields[r->owner].sid].name,
                fields[r->owner].name, i);
        cstr(c, r->label);
        fprintf(c, ", .mask = 0x%llxULL, .value = 0x%llxULL, .kind = %d, .optional = %d, .sid = %d, .len_field = %d},\n",
                (unsigned long long)r->mask, (unsigned long long)r->value, r->kind, r->optional, r->sid, r->len_field);
    }
    if (!narms) fprintf(c, "    {0}\n");
    fprintf(c, "};\n\nstatic const struct vfu_enum_desc enums[] = {\n");
    for (int i = 0; i < nenums; i++) {
        fprintf(c, "    [%d] = {.name = ", i); cstr(c, enums[i].name);
        fprintf(c, ", .first = %d, .n = %d},\n", enums[i].first, enums[i].n);
    }
    fprintf(c, "};\n\nstatic const struct vfu_enum_val enum_vals[] = {\n");
    for (int i = 0; i < nvals; i++) {
        fprintf(c, "    [%d] = {.name = ", i); cstr(c, vals[i].name);
        fprintf(c, ", .value = %lluULL},\n", (unsigned long long)vals[i].value);
    }
    fprintf(c, "};\n\nstatic const struct vfu_bits_desc bits[] = {\n");
    for (int i = 0; i < nbitsd; i++) {
        struct gbits *bd = &bitsd[i];
        fprintf(c, "    [%d] = {.name = ", i); cstr(c, bd->name);
        fprintf(c, ", .known = 0x%llxULL, .first_bit = %d, .nbits = %d, .first_group = %d, .ngroups = %d},\n",
                (unsigned long long)bd->known, bd->first_bit, bd->nbits, bd->first_group, bd->ngroups);
    }
    fprintf(c, "};\n\nstatic const struct vfu_bit_desc bit_vals[] = {\n");
    for (int i = 0; i < nbitv; i++) {
        fprintf(c, "    [%d] = {.name = ", i); cstr(c, bitv[i].name);
        fprintf(c, ", .mask = 0x%llxULL, .shift = %d, .enum_id = %d},\n", (unsigned long long)bitv[i].mask,
                bitv[i].shift, bitv[i].enum_id);
    }
    fprintf(c, "};\n\nstatic const struct vfu_group_desc groups[] = {\n");
    for (int i = 0; i < ngroups; i++) {
        fprintf(c, "    [%d] = {.name = ", i); cstr(c, groups[i].name);
        fprintf(c, ", .kind = %d, .mask = 0x%llxULL, .unless = 0x%llxULL},\n", groups[i].kind,
                (unsigned long long)groups[i].mask, (unsigned long long)groups[i].unless_mask);
    }
    if (!ngroups) fprintf(c, "    {0}\n");
    fprintf(c, "};\n\nstatic const struct vfu_chain_desc chains[] = {\n");
    for (int i = 0; i < nchainsd; i++) {
        fprintf(c, "    [%d] = {.name = ", i); cstr(c, chainsd[i].name);
        fprintf(c, ", .header_sid = %d, .id_field = %d, .next_field = %d, .first = %d, .n = %d},\n",
                chainsd[i].header_sid, chainsd[i].id_field, chainsd[i].next_field, chainsd[i].first, chainsd[i].n);
    }
    if (!nchainsd) fprintf(c, "    {0}\n");
    fprintf(c, "};\n\nstatic const struct vfu_chain_entry chain_entries[] = {\n");
    for (int i = 0; i < ncapents; i++)
        fprintf(c, "    /* %d: %s */\n    [%d] = {.id = %lluULL, .sid = %d},\n", i, capents[i].sname, i,
                (unsigned long long)capents[i].idv, capents[i].sid);
    if (!ncapents) fprintf(c, "    {0}\n");
    int maxcmd = 0;
    for (int i = 0; i < ncmds; i++) if (cmds[i].num > maxcmd) maxcmd = cmds[i].num;
    fprintf(c, "};\n\nstatic const struct vfu_cmd_desc cmds[%d] = {\n", maxcmd + 1);
    for (int i = 0; i < ncmds; i++) {
        struct gcmd *m = &cmds[i];
        fprintf(c, "    [%d] = {.name = ", m->num); cstr(c, m->name); fprintf(c, ", .section = "); cstr(c, m->section);
        fprintf(c, ", .num = %d, .dir = %d,\n        .sid = {%d, %d}, .argsz = {%d, %d}, .fds = {", m->num, m->dir,
                m->sid[0], m->sid[1], m->argsz[0], m->argsz[1]);
        for (int r = 0; r < 2; r++)
            fprintf(c, "%s{.rule = %d, .field = %d, .bit_field = %d, .mask = 0x%llxULL}", r ? ", " : "",
                    m->fds[r].rule, m->fds[r].fid, m->fds[r].bit_field, (unsigned long long)m->fds[r].mask);
        fprintf(c, "},\n        .xfer = {%d, %d}, .needs_cap = %d},\n", m->xf[0], m->xf[1], m->needs_cap);
    }
    fprintf(c, "};\n\nstatic const struct vfu_capability_desc capabilities[] = {\n");
    for (int i = 0; i < ncapab; i++) {
        fprintf(c, "    [%d] = {.name = ", i); cstr(c, capab[i].name);
        fprintf(c, ", .kind = %d, .reply_only = %d, .parent = %d, .dflt = %lluULL, .has_default = %d},\n",
                capab[i].kind, capab[i].reply_only, capab[i].parent, (unsigned long long)capab[i].dflt,
                capab[i].has_default);
    }
    fprintf(c, "};\n\nconst struct vfu_spec vfu_spec = {\n");
    fprintf(c, "    .major = %d, .minor = %d,\n", proto_major, proto_minor);
    fprintf(c, "    .fields = fields, .nfields = %d, .structs = structs, .nstructs = %d,\n", nfields, nstructs);
    fprintf(c, "    .arms = arms, .narms = %d, .enums = enums, .nenums = %d, .enum_vals = enum_vals, .nenum_vals = %d,\n",
            narms, nenums, nvals);
    fprintf(c, "    .bits = bits, .nbits = %d, .bit_vals = bit_vals, .nbit_vals = %d, .groups = groups, .ngroups = %d,\n",
            nbitsd, nbitv, ngroups);
    fprintf(c, "    .chains = chains, .nchains = %d, .chain_entries = chain_entries, .nchain_entries = %d,\n", nchainsd, ncapents);
    fprintf(c, "    .cmds = cmds, .ncmds = %d, .capabilities = capabilities, .ncapabilities = %d,\n", maxcmd + 1, ncapab);
    fprintf(c, "    .header_sid = %d,\n};\n", header_sid);
}

/* the header made once and thrown away: a C name defined twice stops
 * here (claim) rather than in the emit phase */
static void check_names(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) { perror("specgen: open_memstream"); exit(1); }
    emit_header(f);
    fclose(f);
    free(buf);
    for (int i = 0; i < nmacros; i++) free(macros[i]);
    nmacros = 0;
}

/* The last checks, on the whole model once every name is resolved. */
static int check_whole(void)
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

/* ------------------------------------------------------------ output --- */

/* An output is made in memory, then written (atomically: a temporary file
 * renamed over it) only when its content changed, so that what depends on
 * the tables is rebuilt only when they really changed. */
struct out { char *buf; size_t len; FILE *f; };

static void out_open(struct out *o)
{
    o->buf = NULL;
    o->len = 0;
    o->f = open_memstream(&o->buf, &o->len);
    if (!o->f) { perror("specgen: open_memstream"); exit(1); }
}

/* 1 written, 0 unchanged; exits on failure */
static int out_commit(struct out *o, const char *path)
{
    if (fclose(o->f)) { fprintf(stderr, "specgen: %s: cannot write\n", path); exit(1); }
    FILE *old = fopen(path, "r");
    if (old) {
        int same = 1;
        size_t i = 0;
        for (int ch; same && (ch = fgetc(old)) != EOF; i++) same = i < o->len && (unsigned char)o->buf[i] == ch;
        same = same && i == o->len;
        fclose(old);
        if (same) { free(o->buf); return 0; }
    }
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp) { perror("specgen"); exit(1); }
    snprintf(tmp, n, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fwrite(o->buf, 1, o->len, f) != o->len || fclose(f) || rename(tmp, path)) {
        fprintf(stderr, "specgen: %s: %s\n", path, strerror(errno));
        remove(tmp);
        exit(1);
    }
    free(tmp);
    free(o->buf);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: specgen SPEC OUT.h OUT.c\n");
        return 2;
    }
    spec_path = argv[1];
    FILE *f = fopen(argv[1], "r");
    if (!f) { fprintf(stderr, "specgen: %s: %s\n", argv[1], strerror(errno)); return 1; }
    /* 1. parse: the file into the model, each statement on its own */
    parse(f);
    fclose(f);
    /* 2. check: every name resolved, every layout computed and every rule
     * held; the first problem stops here with file:line */
    resolve();
    int header_sid = check_whole();
    /* 3. emit: nothing below fails on the spec's account */
    struct out h, c;
    out_open(&h);
    out_open(&c);
    emit_header(h.f);
    emit_tables(c.f, header_sid);
    out_commit(&h, argv[2]);
    out_commit(&c, argv[3]);
    return 0;
}
