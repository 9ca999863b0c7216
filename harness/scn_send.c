/* `send CMD ITEMS...`: every item is resolved against the generated tables
 * of CMD's request here, at load time.  Fields are looked up in the
 * structures opened so far (the body, then +arms and +elements, newest
 * first); a field that only a variant arm holds opens that arm by itself,
 * the one the selector's value picks when it was set to a constant. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfu_codec.h"
#include "scn_int.h"
#include "vfu_spec.h"

static void reach_add(struct vfh_scn_reach *r, int sid, int via)
{
    for (unsigned i = 0; i < r->n; i++)
        if (r->sid[i] == sid) return;
    if (r->n < SCN_MAX_REACH) {
        r->sid[r->n] = (int16_t)sid;
        r->via[r->n++] = (int16_t)via;
    }
}

void vfh_scn_reach(int sid, struct vfh_scn_reach *r)
{
    r->n = 0;
    if (sid < 0) return;
    reach_add(r, sid, -1);
    for (unsigned k = 0; k < r->n; k++) {
        const struct vfu_struct_desc *st = vfu_struct(r->sid[k]);
        for (unsigned i = 0; i < st->nfields; i++) {
            int fid = st->first_field + (int)i;
            const struct vfu_field_desc *f = vfu_field(fid);
            if (f->kind == VFU_K_VARIANT) {
                for (unsigned a = 0; a < f->narms; a++) {
                    const struct vfu_arm_desc *arm = vfu_arm(f->first_arm + a);
                    if (arm->kind == VFU_ARM_STRUCT) reach_add(r, arm->sid, fid);
                }
            } else if (f->kind == VFU_K_ARRAY) {
                reach_add(r, f->elem_sid, fid);
            } else if (f->kind == VFU_K_CAPCHAIN) {
                const struct vfu_chain_desc *cl = vfu_chain(f->chain_id);
                reach_add(r, cl->header_sid, fid);
                for (unsigned c = 0; c < cl->n; c++) reach_add(r, vfu_chain_entry(cl->first + c)->sid, fid);
            }
        }
    }
}

/* ------------------------------------------------------------- parsing */

/* distinct structures: no request reaches more */
#define MAX_OPEN SCN_MAX_REACH
#define MAX_KNOWN 32

struct sstate {
    struct scn_vctx *c;
    uint16_t cmd;
    int16_t open[MAX_OPEN];        /* structures appended so far */
    unsigned nopen;
    struct { int16_t field; uint64_t v; } known[MAX_KNOWN];   /* constant values set */
    unsigned nknown;
    struct scn_item items[SCN_MAX_TOKENS];
    unsigned n;
};

static bool err(struct sstate *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool err(struct sstate *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->c->msg, s->c->msglen, fmt, ap);
    va_end(ap);
    return false;
}

static struct scn_item *item(struct sstate *s, int kind)
{
    struct scn_item *it = &s->items[s->n++];
    memset(it, 0, sizeof *it);
    it->kind = (uint8_t)kind;
    it->field = it->sid = -1;
    return it;
}

/* the latest structure first: one opened again moves to the end */
static bool push_open(struct sstate *s, int sid)
{
    for (unsigned i = 0; i < s->nopen; i++)
        if (s->open[i] == sid) {
            memmove(&s->open[i], &s->open[i + 1], (s->nopen - i - 1) * sizeof s->open[0]);
            s->open[s->nopen - 1] = (int16_t)sid;
            return true;
        }
    if (s->nopen == MAX_OPEN) return err(s, "more than %d kinds of structure in one message", MAX_OPEN);
    s->open[s->nopen++] = (int16_t)sid;
    return true;
}

static const char *cmd_name(struct sstate *s) { return vfu_cmd(s->cmd)->name; }

/* the field in the open structures, newest first; qualified STRUCT.FIELD too */
static int find_open(struct sstate *s, const char *name)
{
    const char *dot = strchr(name, '.');
    for (int i = (int)s->nopen - 1; i >= 0; i--) {
        int sid = s->open[i];
        if (dot) {
            const char *sn = vfu_struct(sid)->name;
            if (strlen(sn) == (size_t)(dot - name) && !strncmp(sn, name, (size_t)(dot - name))) {
                int f = vfu_field_by_name(sid, dot + 1);
                if (f >= 0) return f;
            }
        } else {
            int f = vfu_field_by_name(sid, name);
            if (f >= 0) return f;
        }
    }
    return -1;
}

static bool known_value(struct sstate *s, int field, uint64_t *v)
{
    for (int i = (int)s->nknown - 1; i >= 0; i--)
        if (s->known[i].field == field) { *v = s->known[i].v; return true; }
    return false;
}

/* an arm (of a variant in an open structure) that holds name; 0 none,
 * 1 found (*sid), -1 ambiguous (msg set) */
static int find_arm(struct sstate *s, const char *name, int *sid)
{
    int found = -1;
    char names[256] = "";
    for (int i = (int)s->nopen - 1; i >= 0; i--) {
        const struct vfu_struct_desc *st = vfu_struct(s->open[i]);
        for (unsigned k = 0; k < st->nfields; k++) {
            int fid = st->first_field + (int)k;
            const struct vfu_field_desc *f = vfu_field(fid);
            if (f->kind != VFU_K_VARIANT) continue;
            uint64_t sel;
            bool have_sel = known_value(s, f->on_field, &sel);
            for (unsigned a = 0; a < f->narms; a++) {
                const struct vfu_arm_desc *arm = vfu_arm(f->first_arm + a);
                if (have_sel && (sel & arm->mask) != arm->value) continue;
                if (arm->kind == VFU_ARM_STRUCT && vfu_field_by_name(arm->sid, name) >= 0 && arm->sid != found) {
                    if (found >= 0) {
                        snprintf(names, sizeof names, "%s and %s", vfu_struct(found)->name, vfu_struct(arm->sid)->name);
                        err(s, "%s is in arms %s: add the one meant with +STRUCT first", name, names);
                        return -1;
                    }
                    found = arm->sid;
                }
                if (have_sel) break;   /* the first arm that matches is the one */
            }
        }
    }
    if (found < 0) return 0;
    *sid = found;
    return 1;
}

static int resolve(struct sstate *s, const char *name, bool *opened)
{
    *opened = false;
    int f = find_open(s, name);
    if (f >= 0) return f;
    int sid;
    int r = find_arm(s, name, &sid);
    if (r < 0) return -2;
    if (r == 0) return -1;
    if (s->n == SCN_MAX_TOKENS || !push_open(s, sid)) return -2;
    struct scn_item *it = item(s, SCN_I_STRUCT);
    it->sid = (int16_t)sid;
    *opened = true;
    return find_open(s, name);
}

static bool variant_takes_data(const struct vfu_field_desc *f)
{
    for (unsigned a = 0; a < f->narms; a++) {
        int k = vfu_arm(f->first_arm + a)->kind;
        if (k == VFU_ARM_RAW || k == VFU_ARM_DATA) return true;
    }
    return false;
}

static bool field_item(struct sstate *s, const char *name, const char *val)
{
    bool opened;
    int f = resolve(s, name, &opened);
    if (f == -2) return false;
    if (f < 0) return err(s, "%s request has no field '%s'", cmd_name(s), name);
    const struct vfu_field_desc *fd = vfu_field(f);
    struct scn_item *it = item(s, SCN_I_SET);
    it->field = (int16_t)f;
    switch (fd->kind) {
    case VFU_K_UINT: {
        struct scn_names nm = {fd->bits_id, fd->enum_id >= 0 ? fd->enum_id : vfh_scn_index_enum(f), false};
        if (!vfh_scn_read_value(s->c, val, nm, &it->val)) {
            char m[512];
            snprintf(m, sizeof m, "%s", s->c->msg);
            return err(s, "%s: %s", name, m);
        }
        if (!it->val.nvars && s->nknown < MAX_KNOWN) {
            s->known[s->nknown].field = (int16_t)f;
            s->known[s->nknown++].v = it->val.num;
        }
        return true;
    }
    case VFU_K_BYTES:
        it->kind = SCN_I_BYTES;
        if (!vfh_scn_read_bytes(s->c, val, true, &it->bytes, NULL)) return false;
        if (!it->bytes.var && it->bytes.n > fd->width) return err(s, "%s: more bytes than the field holds", name);
        return true;
    case VFU_K_VARIANT:
        if (!variant_takes_data(fd)) return err(s, "%s: its arms are structures: add one with +STRUCT", name);
        /* fall through */
    case VFU_K_DATA:
    case VFU_K_STRING:
    case VFU_K_BITMAP: {
        it->kind = SCN_I_DATA;
        bool text;
        if (!vfh_scn_read_bytes(s->c, val, true, &it->bytes, &text)) return false;
        it->nul = text && fd->kind == VFU_K_STRING;
        if (it->nul && it->bytes.n == SCN_MAX_LITERAL) return err(s, "%s: text too long", name);
        return true;
    }
    default:
        return err(s, "%s: an array or capability chain: add elements with +%s", name, name);
    }
}

static bool plus_item(struct sstate *s, const char *name)
{
    bool opened;
    int f = resolve(s, name, &opened);
    if (f == -2) return false;
    if (f >= 0 && vfu_field(f)->kind == VFU_K_ARRAY) {
        struct scn_item *it = item(s, SCN_I_ELEM);
        it->field = (int16_t)f;
        return push_open(s, vfu_field(f)->elem_sid);
    }
    if (opened) s->n--, s->nopen--;   /* an arm opened for a field that is no array: forgotten */
    /* a variant arm by its structure name */
    for (int i = (int)s->nopen - 1; i >= 0; i--) {
        const struct vfu_struct_desc *st = vfu_struct(s->open[i]);
        for (unsigned k = 0; k < st->nfields; k++) {
            const struct vfu_field_desc *fd = vfu_field(st->first_field + k);
            if (fd->kind != VFU_K_VARIANT) continue;
            for (unsigned a = 0; a < fd->narms; a++) {
                const struct vfu_arm_desc *arm = vfu_arm(fd->first_arm + a);
                if (arm->kind == VFU_ARM_STRUCT && !strcmp(vfu_struct(arm->sid)->name, name)) {
                    struct scn_item *it = item(s, SCN_I_STRUCT);
                    it->sid = arm->sid;
                    return push_open(s, arm->sid);
                }
            }
        }
    }
    return err(s, "+%s: %s request has no such array or variant arm", name, cmd_name(s));
}

static const struct { const char *name, *field; } hdr_items[] = {
    {"@id", "msg_id"}, {"@cmd", "command"}, {"@flags", "flags"}, {"@size", "msg_size"}, {"@error", "error"},
};

static bool at_item(struct sstate *s, const char *key, const char *val)
{
    for (size_t i = 0; i < sizeof hdr_items / sizeof hdr_items[0]; i++) {
        if (strcmp(key, hdr_items[i].name)) continue;
        int f = vfu_field_by_name(vfu_header_sid(), hdr_items[i].field);
        const struct vfu_field_desc *fd = vfu_field(f);
        struct scn_item *it = item(s, SCN_I_HDR);
        it->field = (int16_t)f;
        return vfh_scn_read_value(s->c, val, (struct scn_names){fd->bits_id, fd->enum_id, !strcmp(key, "@error")}, &it->val);
    }
    if (!strcmp(key, "@truncate"))
        return vfh_scn_read_value(s->c, val, SCN_NAMES_NONE, &item(s, SCN_I_TRUNCATE)->val);
    if (!strcmp(key, "@append"))
        return vfh_scn_read_bytes(s->c, val, true, &item(s, SCN_I_APPEND)->bytes, NULL);
    if (!strcmp(key, "@poke")) {
        const char *colon = strchr(val, ':');
        if (!colon) return err(s, "@poke=OFFSET:BYTES expected, got '%s'", val);
        char off[64];
        snprintf(off, sizeof off, "%.*s", (int)(colon - val), val);
        struct scn_item *it = item(s, SCN_I_POKE);
        return vfh_scn_read_value(s->c, off, SCN_NAMES_NONE, &it->val) &&
               vfh_scn_read_bytes(s->c, colon + 1, true, &it->bytes, NULL);
    }
    return err(s, "unknown header item %s (known: @id @cmd @flags @size @error @truncate @append @poke)", key);
}

static bool fd_item(struct sstate *s, const char *val)
{
    if (!strcmp(val, "devnull")) { item(s, SCN_I_FD_DEVNULL); return true; }
    if (!strncmp(val, "memfd", 5) && (!val[5] || val[5] == ':')) {
        struct scn_item *it = item(s, SCN_I_FD_MEMFD);
        return !val[5] || vfh_scn_read_value(s->c, val + 6, SCN_NAMES_NONE, &it->val);
    }
    if (!strncmp(val, "eventfd", 7) && (!val[7] || val[7] == ':')) {
        struct scn_item *it = item(s, SCN_I_FD_EVENTFD);
        if (!val[7]) return true;
        if (!vfh_scn_valid_name(val + 8)) return err(s, "fd=eventfd:NAME: bad name '%s'", val + 8);
        return (it->name = vfh_scn_strdup(s->c->a, val + 8)) != NULL;
    }
    if (!strncmp(val, "map:", 4)) {
        struct scn_item *it = item(s, SCN_I_FD_MAP);
        if (!vfh_scn_valid_name(val + 4)) return err(s, "fd=map:NAME: bad name '%s'", val + 4);
        return (it->name = vfh_scn_strdup(s->c->a, val + 4)) != NULL;
    }
    return err(s, "fd=%s: expected memfd[:SIZE], eventfd[:NAME], devnull or map:NAME", val);
}

bool vfh_scn_parse_send(struct scn_vctx *c, const struct scn_tokens *t, struct scn_step *st)
{
    if (t->n < 2) { vfh_scn_msg(c->msg, c->msglen, "send: which command?"); return false; }
    const struct vfu_cmd_desc *cd = vfu_cmd_by_name(t->tok[1]);
    uint64_t num;
    if (!cd) {
        /* a number the spec does not define: header only, by request */
        if (!vfh_scn_read_number(t->tok[1], &num) || num > 0xffff) {
            vfh_scn_msg(c->msg, c->msglen, "unknown command '%s'", t->tok[1]);
            return false;
        }
        cd = vfu_cmd((unsigned)num);
        st->u.send.cmd = (uint16_t)num;
    }
    struct sstate *s = calloc(1, sizeof *s);
    if (!s) { vfh_scn_msg(c->msg, c->msglen, "out of memory"); return false; }
    s->c = c;
    bool ok = true;
    if (cd) {
        s->cmd = cd->num;
        st->u.send.cmd = cd->num;
        if (cd->sid[0] >= 0) push_open(s, cd->sid[0]);
    }
    for (unsigned i = 2; ok && i < t->n; i++) {
        const char *w = t->tok[i];
        /* an auto-opened arm takes a slot too */
        if (s->n + 2 > SCN_MAX_TOKENS) { ok = err(s, "too many items"); break; }
        const char *eq = strchr(w, '=');
        if (!strcmp(w, "noreply")) item(s, SCN_I_NOREPLY);
        else if (!strcmp(w, "unchecked")) item(s, SCN_I_UNCHECKED);
        else if (w[0] == '+') ok = cd ? plus_item(s, w + 1) : err(s, "%s: unknown command takes no structures", w);
        else if (!eq) ok = err(s, "'%s': expected FIELD=VALUE, +NAME, fd=..., noreply or @ITEM=VALUE", w);
        else {
            char key[SCN_MAX_LINE];
            snprintf(key, sizeof key, "%.*s", (int)(eq - w), w);
            if (key[0] == '@') ok = at_item(s, key, eq + 1);
            else if (!strcmp(key, "fd")) ok = fd_item(s, eq + 1);
            else if (!strcmp(key, "fds")) {
                struct scn_item *it = item(s, SCN_I_FDS);
                ok = vfh_scn_read_value(c, eq + 1, SCN_NAMES_NONE, &it->val);
                if (ok && !it->val.nvars && it->val.num > SCN_MAX_FDS) ok = err(s, "fds=%s: at most 253", eq + 1);
            } else if (!cd) ok = err(s, "%s: unknown command has no fields", key);
            else ok = field_item(s, key, eq + 1);
        }
    }
    if (ok) {
        unsigned fds = 0;
        for (unsigned i = 0; i < s->n; i++) {
            int k = s->items[i].kind;
            if (k == SCN_I_FD_MEMFD || k == SCN_I_FD_EVENTFD || k == SCN_I_FD_DEVNULL || k == SCN_I_FD_MAP) fds++;
            if (k == SCN_I_FDS) fds += (unsigned)s->items[i].val.num;
        }
        if (fds > SCN_MAX_FDS) ok = err(s, "more than 253 fds in one message");
    }
    if (ok) {
        st->u.send.items = vfh_scn_alloc(c->a, (s->n ? s->n : 1) * sizeof *s->items);
        if (!st->u.send.items) ok = err(s, "out of memory");
        else {
            memcpy(st->u.send.items, s->items, s->n * sizeof *s->items);
            st->u.send.nitems = s->n;
        }
    }
    free(s);
    return ok;
}
