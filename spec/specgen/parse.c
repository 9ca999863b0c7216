/* Phase 1, parse: the spec file's statements into the model, one line at
 * a time.  Names stay as written (check.c resolves them); what is judged
 * here is the grammar: known statements and words, blocks closed, numbers. */
/* first: it sets _POSIX_C_SOURCE for the system headers below */
#include "specgen.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAXTOK 32

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

void parse(FILE *f)
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
