/* The checks of `expect ok` and their `save`s: places in the reply, named
 * by the reply's field names (spec/vfio-user.spec) and resolved here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfu_codec.h"
#include "scn_int.h"
#include "vfu_spec.h"

static bool err(struct scn_vctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool err(struct scn_vctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, c->msglen, fmt, ap);
    va_end(ap);
    return false;
}

/* structures of the reply that only array elements hold */
static void elem_only(const struct vfh_scn_reach *r, bool *in_elem)
{
    for (unsigned k = 0; k < r->n; k++) {
        in_elem[k] = false;
        if (r->via[k] < 0) continue;
        const struct vfu_field_desc *v = vfu_field(r->via[k]);
        if (v->kind == VFU_K_ARRAY) { in_elem[k] = true; continue; }
        for (unsigned p = 0; p < k; p++)
            if (r->sid[p] == v->sid && in_elem[p]) in_elem[k] = true;
    }
}

/* a field outside array elements: FIELD or STRUCT.FIELD */
static int find_field(const struct vfh_scn_reach *r, const bool *in_elem, const char *name)
{
    const char *dot = strchr(name, '.');
    for (unsigned k = 0; k < r->n; k++) {
        if (in_elem[k]) continue;
        if (dot) {
            const char *sn = vfu_struct(r->sid[k])->name;
            if (strlen(sn) != (size_t)(dot - name) || strncmp(sn, name, (size_t)(dot - name))) continue;
            return vfu_field_by_name(r->sid[k], dot + 1);
        }
        int f = vfu_field_by_name(r->sid[k], name);
        if (f >= 0) return f;
    }
    return -1;
}

static bool is_bytes_kind(int kind)
{
    return kind == VFU_K_BYTES || kind == VFU_K_DATA || kind == VFU_K_STRING || kind == VFU_K_BITMAP ||
           kind == VFU_K_VARIANT;
}

static bool parse_loc(struct scn_vctx *c, const char *path, uint16_t cmd, struct scn_loc *l)
{
    memset(l, 0, sizeof *l);
    l->field = l->array = -1;
    l->text = vfh_scn_strdup(c->a, path);
    if (!l->text) return err(c, "out of memory");
    if (!strcmp(path, "fds")) { l->kind = SCN_L_FDS; return true; }
    const struct vfu_cmd_desc *cd = vfu_cmd(cmd);
    int sid = cd ? cd->sid[1] : -1;
    if (sid < 0) return err(c, "%s reply has no fields (only fds can be checked)", cd ? cd->name : "this");
    struct vfh_scn_reach r;
    bool in_elem[SCN_MAX_REACH];
    vfh_scn_reach(sid, &r);
    elem_only(&r, in_elem);
    size_t n = strlen(path);
    if (!strncmp(path, "len(", 4) && n > 5 && path[n - 1] == ')') {
        char name[SCN_MAX_LINE];
        snprintf(name, sizeof name, "%.*s", (int)(n - 5), path + 4);
        int f = find_field(&r, in_elem, name);
        if (f < 0) return err(c, "%s reply has no field '%s'", cd->name, name);
        int k = vfu_field(f)->kind;
        if (k != VFU_K_ARRAY && !is_bytes_kind(k))
            return err(c, "len(%s): not data, text or an array", name);
        l->kind = SCN_L_LEN;
        l->field = (int16_t)f;
        return true;
    }
    const char *br = strchr(path, '[');
    if (br) {
        char aname[SCN_MAX_LINE];
        snprintf(aname, sizeof aname, "%.*s", (int)(br - path), path);
        const char *close = strchr(br, ']');
        char idx[32];
        uint64_t i;
        if (!close || close[1] != '.' || (size_t)(close - br - 1) >= sizeof idx)
            return err(c, "'%s': write ARRAY[INDEX].FIELD", path);
        snprintf(idx, sizeof idx, "%.*s", (int)(close - br - 1), br + 1);
        if (!vfh_scn_read_number(idx, &i) || i > UINT32_MAX) return err(c, "'%s': bad index", path);
        int af = find_field(&r, in_elem, aname);
        if (af < 0 || vfu_field(af)->kind != VFU_K_ARRAY) return err(c, "%s reply has no array '%s'", cd->name, aname);
        int f = vfu_field_by_name(vfu_field(af)->elem_sid, close + 2);
        if (f < 0) return err(c, "%s elements have no field '%s'", aname, close + 2);
        if (vfu_field(f)->kind != VFU_K_UINT) return err(c, "%s: only integer fields of elements can be checked", path);
        l->kind = SCN_L_ELEM;
        l->array = (int16_t)af;
        l->field = (int16_t)f;
        l->index = (uint32_t)i;
        return true;
    }
    int f = find_field(&r, in_elem, path);
    if (f < 0) return err(c, "%s reply has no field '%s'", cd->name, path);
    int k = vfu_field(f)->kind;
    if (k == VFU_K_UINT) l->kind = SCN_L_FIELD;
    else if (is_bytes_kind(k)) l->kind = SCN_L_BYTES;
    else return err(c, "%s: an array or chain: check len(%s) or %s[INDEX].FIELD", path, path, path);
    l->field = (int16_t)f;
    return true;
}

static const struct { const char *s; enum scn_op op; } ops[] = {
    {"!&", SCN_OP_NONE}, {"<=", SCN_OP_LE}, {">=", SCN_OP_GE}, {"!=", SCN_OP_NE},
    {"=", SCN_OP_EQ}, {"<", SCN_OP_LT}, {">", SCN_OP_GT}, {"&", SCN_OP_ALL},
};

const char *vfh_scn_op_name(enum scn_op op)
{
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (ops[i].op == op) return ops[i].s;
    return "?";
}

/* splits "PATH OP VALUE" at its operator */
bool vfh_scn_split_op(const char *w, char *path, size_t pn, enum scn_op *op, const char **val)
{
    size_t i = strcspn(w, "!<>=&");
    if (!i || !w[i] || i >= pn) return false;
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        size_t l = strlen(ops[k].s);
        if (!strncmp(w + i, ops[k].s, l)) {
            memcpy(path, w, i);
            path[i] = 0;
            *op = ops[k].op;
            *val = w + i + l;
            return true;
        }
    }
    return false;
}

static struct scn_names loc_names(const struct scn_loc *l)
{
    if ((l->kind != SCN_L_FIELD && l->kind != SCN_L_ELEM) || l->field < 0) return SCN_NAMES_NONE;
    const struct vfu_field_desc *f = vfu_field(l->field);
    return (struct scn_names){f->bits_id, f->enum_id >= 0 ? f->enum_id : vfh_scn_index_enum(l->field), false};
}

bool vfh_scn_parse_checks(struct scn_vctx *c, const struct scn_tokens *t, unsigned from, uint16_t cmd,
                      struct scn_step *st, void (*def)(void *ctx, const char *name))
{
    unsigned n = t->n - from;
    struct scn_check *ch = vfh_scn_alloc(c->a, (n ? n : 1) * sizeof *ch);
    struct scn_save *sv = vfh_scn_alloc(c->a, (n ? n : 1) * sizeof *sv);
    if (!ch || !sv) return err(c, "out of memory");
    unsigned nc = 0, ns = 0;
    for (unsigned i = from; i < t->n; i++) {
        const char *w = t->tok[i];
        char path[SCN_MAX_LINE];
        const char *val;
        enum scn_op op;
        if (!strcmp(w, "save")) {
            if (++i == t->n) return err(c, "save: expected VAR=FIELD");
            const char *eq = strchr(t->tok[i], '=');
            char var[SCN_MAX_LINE];
            if (!eq) return err(c, "save: expected VAR=FIELD, got '%s'", t->tok[i]);
            snprintf(var, sizeof var, "%.*s", (int)(eq - t->tok[i]), t->tok[i]);
            if (!vfh_scn_valid_name(var)) return err(c, "save: bad variable name '%s'", var);
            if (!parse_loc(c, eq + 1, cmd, &sv[ns].loc)) return false;
            if (!(sv[ns].var = vfh_scn_strdup(c->a, var))) return err(c, "out of memory");
            def(c->ctx, sv[ns].var);
            ns++;
            continue;
        }
        if (!vfh_scn_split_op(w, path, sizeof path, &op, &val))
            return err(c, "'%s': expected FIELD=VALUE (or != < <= > >= & !&) or save VAR=FIELD", w);
        struct scn_check *k = &ch[nc];
        if (!parse_loc(c, path, cmd, &k->loc)) return false;
        k->op = (uint8_t)op;
        if (k->loc.kind == SCN_L_BYTES) {
            if (op != SCN_OP_EQ && op != SCN_OP_NE) return err(c, "%s: bytes compare with = or != only", path);
            if (!vfh_scn_read_bytes(c, val, true, &k->bytes, NULL)) return false;
        } else if (!vfh_scn_read_value(c, val, loc_names(&k->loc), &k->val)) {
            char m[512];
            snprintf(m, sizeof m, "%s", c->msg);
            return err(c, "%s: %s", path, m);
        }
        nc++;
    }
    st->u.expect.checks = ch;
    st->u.expect.nchecks = nc;
    st->u.expect.saves = sv;
    st->u.expect.nsaves = ns;
    return true;
}
