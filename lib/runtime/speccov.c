/* Spec coverage from decoded messages (speccov.h).  What a command can
 * carry is walked from its request and reply structures in the generated
 * tables: fixed fields, array elements, variant arms and capability
 * chains, plus the header every message has. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "vfu_caps.h"
#include "vfu_dissect.h"
#include "speccov.h"
#include "vfu_spec.h"

static unsigned nf(void) { return vfu_nfields(); }

bool vfu_speccov_dir_exists(unsigned cmd, bool reply)
{
    (void)reply;
    return vfu_cmd(cmd) != NULL;
}

/* every field struct sid can hold, nested structures included */
static void reach(bool *mark, bool *seen_sid, int sid)
{
    if (sid < 0 || (unsigned)sid >= vfu_nstructs() || seen_sid[sid]) return;
    seen_sid[sid] = true;
    const struct vfu_struct_desc *st = vfu_struct(sid);
    for (unsigned i = 0; i < st->nfields; i++) {
        int fid = st->first_field + (int)i;
        const struct vfu_field_desc *f = vfu_field(fid);
        mark[fid] = true;
        if (f->kind == VFU_K_ARRAY) reach(mark, seen_sid, f->elem_sid);
        if (f->kind == VFU_K_VARIANT)
            for (unsigned a = 0; a < f->narms; a++)
                if (vfu_arm(f->first_arm + a)->kind == VFU_ARM_STRUCT) reach(mark, seen_sid, vfu_arm(f->first_arm + a)->sid);
        if (f->kind == VFU_K_CAPCHAIN && f->chain_id >= 0) {
            const struct vfu_chain_desc *cd = vfu_chain(f->chain_id);
            reach(mark, seen_sid, cd->header_sid);
            for (unsigned c = 0; c < cd->n; c++) reach(mark, seen_sid, vfu_chain_entry(cd->first + c)->sid);
        }
    }
}

bool vfu_speccov_init(struct vfu_speccov *sc)
{
    memset(sc, 0, sizeof *sc);
    sc->ncmds = vfu_ncmds();
    sc->d = calloc((size_t)sc->ncmds * 2, sizeof *sc->d);
    bool *seen_sid = calloc(vfu_nstructs() ? vfu_nstructs() : 1, sizeof *seen_sid);
    if (!sc->d || !seen_sid) goto oom;
    for (unsigned c = 0; c < sc->ncmds; c++)
        for (int r = 0; r < 2; r++) {
            struct vfu_sc_dir *d = &sc->d[c * 2 + r];
            d->reach = calloc(nf(), sizeof *d->reach);
            d->cls = calloc(nf(), sizeof *d->cls);
            d->bits = calloc(nf(), sizeof *d->bits);
            d->enums = calloc(nf(), sizeof *d->enums);
            if (!d->reach || !d->cls || !d->bits || !d->enums) goto oom;
            if (!vfu_speccov_dir_exists(c, r)) continue;
            memset(seen_sid, 0, vfu_nstructs() * sizeof *seen_sid);
            reach(d->reach, seen_sid, vfu_header_sid());
            reach(d->reach, seen_sid, vfu_cmd(c)->sid[r]);
        }
    free(seen_sid);
    return true;
oom:
    free(seen_sid);
    vfu_speccov_free(sc);
    return false;
}

void vfu_speccov_free(struct vfu_speccov *sc)
{
    for (unsigned i = 0; sc->d && i < sc->ncmds * 2; i++) {
        struct vfu_sc_dir *d = &sc->d[i];
        free(d->reach);
        free(d->cls);
        free(d->bits);
        free(d->enums);
        for (size_t k = 0; k < d->nscn; k++) free((char *)d->scenarios[k]);
        free(d->scenarios);
    }
    free(sc->d);
    memset(sc, 0, sizeof *sc);
}

struct vfu_sc_dir *vfu_speccov_dir(const struct vfu_speccov *sc, unsigned cmd, bool reply)
{
    return cmd < sc->ncmds ? &sc->d[cmd * 2 + (reply ? 1 : 0)] : NULL;
}

const char *vfu_speccov_class_name(unsigned bit)
{
    switch (bit) {
    case VFU_SC_ZERO: return "zero";
    case VFU_SC_TYPICAL: return "typical";
    case VFU_SC_BOUNDARY: return "boundary";
    case VFU_SC_OUT: return "out";
    case VFU_SC_DEFAULT: return "default";
    }
    return "?";
}

static unsigned value_class(uint64_t v, unsigned width)
{
    uint64_t max = width >= 8 ? UINT64_MAX : (1ull << (8 * width)) - 1;
    if (v == 0) return VFU_SC_ZERO;
    if (v == 1 || v == max || v == max - 1 || v == (max >> 1) + 1) return VFU_SC_BOUNDARY;
    return VFU_SC_TYPICAL;
}

/* one integer field's value: its class, and its bits or enumeration value */
static void mark_uint(struct vfu_sc_dir *d, int fid, uint64_t v)
{
    const struct vfu_field_desc *f = vfu_field(fid);
    unsigned cls = value_class(v, f->width);
    if ((f->attrs & VFU_A_MBZ) && v) cls |= VFU_SC_OUT;
    if (f->enum_id >= 0) {
        const struct vfu_enum_desc *e = vfu_enum(f->enum_id);
        bool known = false;
        for (unsigned i = 0; i < e->n; i++)
            if (vfu_enum_val(e->first + i)->value == v) {
                if (i < 64) d->enums[fid] |= 1ull << i;
                known = true;
            }
        if (!known) cls |= VFU_SC_OUT;
    }
    if (f->bits_id >= 0) {
        const struct vfu_bits_desc *b = vfu_bits(f->bits_id);
        /* a single bit is seen when set; a subfield of several bits (the
         * message type, an action number) holds a value whenever the field
         * is there, its values being the enumeration's */
        for (unsigned i = 0; i < b->nbits && i < 64; i++) {
            uint64_t mask = vfu_bit(b->first_bit + i)->mask;
            if ((mask & (mask - 1)) || (v & mask)) d->bits[fid] |= 1ull << i;
        }
        if (v & ~b->known) cls |= VFU_SC_OUT;
    }
    d->cls[fid] |= (uint8_t)cls;
}

static void mark_struct(struct vfu_sc_dir *d, int sid, const uint8_t *p, size_t avail)
{
    const struct vfu_struct_desc *st = vfu_struct(sid);
    for (unsigned i = 0; i < st->nfields; i++) {
        int fid = st->first_field + (int)i;
        const struct vfu_field_desc *f = vfu_field(fid);
        if ((size_t)f->offset + f->width > avail) continue;
        if (f->kind == VFU_K_UINT) mark_uint(d, fid, vfu_read_uint(p + f->offset, f->width));
        if (f->kind == VFU_K_BYTES && f->width) {
            /* fixed opaque bytes: all zero, or not */
            bool zero = true;
            for (unsigned k = 0; k < f->width && zero; k++) zero = !p[f->offset + k];
            d->cls[fid] |= zero ? VFU_SC_ZERO : VFU_SC_TYPICAL;
        }
    }
}

static void add_scenario(struct vfu_sc_dir *d, const char *id, bool *oom)
{
    if (!id) return;
    for (size_t i = d->nscn; i-- > 0;)
        if (!strcmp(d->scenarios[i], id)) return;
    if (d->nscn == d->capscn) {
        size_t n = d->capscn ? d->capscn * 2 : 8;
        const char **v = realloc(d->scenarios, n * sizeof *v);
        if (!v) { *oom = true; return; }
        d->scenarios = v;
        d->capscn = n;
    }
    char *c = strdup(id);
    if (!c) { *oom = true; return; }
    d->scenarios[d->nscn++] = c;
}

static void mark_caps(struct vfu_speccov *sc, const struct vfu_msg *m)
{
    for (unsigned i = 0; i < m->nparts; i++) {
        const struct vfu_part *p = &m->parts[i];
        if (p->kind != VFU_P_STRING || !p->len) continue;
        const char *json = (const char *)m->payload + p->off;
        size_t len = strnlen(json, p->len);
        struct vfu_caps c;
        struct vfu_error err;
        int side = m->is_reply ? 1 : 0;
        if (!vfu_caps_parse(&c, json, len, m->is_reply, &err)) {
            if (err.cap >= 0 && err.cap < 64) sc->cap_cls[side][err.cap] |= VFU_SC_OUT;
            continue;
        }
        for (int k = 0; k < VFU_CAP__COUNT && k < 64; k++) {
            const struct vfu_capability_desc *cd = vfu_capability(k);
            if (cd->kind == VFU_CAP_OBJECT) {
                if (c.present[k]) sc->cap_cls[side][k] |= VFU_SC_TYPICAL;
                continue;
            }
            uint64_t v = vfu_caps_get(&c, k);
            sc->cap_cls[side][k] |= (uint8_t)(cd->has_default && v == cd->dflt ? VFU_SC_DEFAULT : value_class(v, 8));
        }
    }
}

void vfu_speccov_add_msg(struct vfu_speccov *sc, const uint8_t *buf, size_t len, bool from_client,
                         const struct vfu_trace_fd *fds, unsigned nfds, const char *scenario)
{
    sc->events++;
    struct vfu_msg m;
    struct vfu_error err;
    struct vfu_dissect_opts o = {.nfds = nfds, .receiver = from_client ? VFU_ROLE_SERVER : VFU_ROLE_CLIENT,
                                 .decode_opts = VFU_DEC_ZERO_PADDING};
    bool ok = vfu_dissect_decode(&m, buf, len, &o, &err);
    /* the header as the decoder read it, even when the rest broke a rule */
    if (len < VFU_HDR_SIZE) { sc->undecoded++; return; }
    const struct vfu_hdr *h = &m.hdr;
    bool reply = m.is_reply;
    struct vfu_sc_dir *d = vfu_speccov_dir(sc, h->cmd, reply);
    if (!d || !vfu_speccov_dir_exists(h->cmd, reply)) { sc->undecoded++; return; }
    d->msgs++;
    add_scenario(d, scenario, &sc->oom);
    for (unsigned i = 0; i < nfds; i++)
        if ((unsigned)fds[i].kind < 8) d->fd_kinds |= (uint8_t)(1u << fds[i].kind);
    mark_struct(d, vfu_header_sid(), buf, VFU_HDR_SIZE);
    bool is_error = reply && (h->flags & VFU_HDR_FLAGS_ERROR);
    if (is_error) {
        d->errors++;
        if (h->error < 256) d->errnos[h->error / 64] |= 1ull << (h->error % 64);
        else d->errno_other = true;
    }
    if (!ok && err.field >= 0 && err.field < (int)nf()) d->cls[err.field] |= VFU_SC_OUT;
    if (!ok) sc->undecoded++;
    /* the parts decoded, as far as decoding went */
    for (unsigned i = 0; i < m.nparts && m.payload; i++) {
        const struct vfu_part *p = &m.parts[i];
        if (p->kind == VFU_P_STRUCT && p->sid >= 0) {
            if (p->off + (size_t)p->len <= m.payload_len) mark_struct(d, p->sid, m.payload + p->off, p->len);
            /* a structure that is a variant's arm or a capability: its holder was set */
            if (p->field >= 0 && p->field < (int)nf()) d->cls[p->field] |= VFU_SC_TYPICAL;
        } else if (p->kind == VFU_P_ARRAY && p->sid >= 0 && p->stride) {
            /* every element of a counted array; an element longer than its
             * fixed part carries its tail (a write's data) */
            if (p->field >= 0 && p->field < (int)nf()) d->cls[p->field] |= p->count ? VFU_SC_TYPICAL : VFU_SC_ZERO;
            const struct vfu_struct_desc *st = vfu_struct(p->sid);
            for (uint32_t k = 0; k < p->count; k++) {
                size_t at = p->off + (size_t)k * p->stride;
                if (at + p->stride <= m.payload_len) mark_struct(d, p->sid, m.payload + at, p->stride);
            }
            if (p->count && st->tail >= 0 && p->stride > st->size) d->cls[st->tail] |= VFU_SC_TYPICAL;
        } else if (p->field >= 0 && p->field < (int)nf())
            d->cls[p->field] |= p->len ? VFU_SC_TYPICAL : VFU_SC_ZERO;
    }
    if (ok && h->cmd == VFU_CMD_VERSION && !m.is_error) mark_caps(sc, &m);
}

void vfu_speccov_add_trace(struct vfu_speccov *sc, const struct vfu_trace *t)
{
    sc->traces++;
    for (size_t i = 0; i < t->n; i++) {
        const struct vfu_trace_event *e = &t->ev[i];
        if (!e->len || e->has_err) continue;
        vfu_speccov_add_msg(sc, e->bytes, e->len, e->dir == VFU_TRACE_TX, e->fds, e->nfds, t->scenario);
    }
}

bool vfu_speccov_add_file(struct vfu_speccov *sc, const char *path, char *why, size_t whyn)
{
    struct vfu_trace t;
    if (!vfu_trace_load(path, &t, why, whyn)) return false;
    vfu_speccov_add_trace(sc, &t);
    vfu_trace_release(&t);
    return true;
}

/* ---------------------------------------------------------------- JSON */

static void arr_add(struct json_object *a, struct json_object *v) { if (v) json_object_array_add(a, v); }

static struct json_object *classes(unsigned c)
{
    struct json_object *a = json_object_new_array();
    for (unsigned b = 1; a && b < (1u << VFU_SC_NCLASS); b <<= 1)
        if (c & b) arr_add(a, json_object_new_string(vfu_speccov_class_name(b)));
    return a;
}

static struct json_object *field_json(const struct vfu_sc_dir *d, int fid)
{
    const struct vfu_field_desc *f = vfu_field(fid);
    struct json_object *o = json_object_new_object();
    if (!o) return NULL;
    json_object_object_add(o, "struct", json_object_new_string(vfu_struct(f->sid)->name));
    json_object_object_add(o, "field", json_object_new_string(f->name));
    json_object_object_add(o, "classes", classes(d->cls[fid]));
    if (f->kind == VFU_K_UINT && f->bits_id >= 0) {
        const struct vfu_bits_desc *b = vfu_bits(f->bits_id);
        struct json_object *seen = json_object_new_array(), *never = json_object_new_array();
        for (unsigned i = 0; i < b->nbits && i < 64; i++)
            arr_add(d->bits[fid] >> i & 1 ? seen : never, json_object_new_string(vfu_bit(b->first_bit + i)->name));
        json_object_object_add(o, "bits_seen", seen);
        json_object_object_add(o, "bits_never", never);
    }
    /* the header's command field names this command: the other values are other commands' messages, no gap */
    if (f->kind == VFU_K_UINT && f->enum_id >= 0 && f->sid != vfu_header_sid()) {
        const struct vfu_enum_desc *e = vfu_enum(f->enum_id);
        struct json_object *seen = json_object_new_array(), *never = json_object_new_array();
        for (unsigned i = 0; i < e->n && i < 64; i++)
            arr_add(d->enums[fid] >> i & 1 ? seen : never, json_object_new_string(vfu_enum_val(e->first + i)->name));
        json_object_object_add(o, "enum_seen", seen);
        json_object_object_add(o, "enum_never", never);
    }
    return o;
}

char *vfu_speccov_json(const struct vfu_speccov *sc)
{
    struct json_object *root = json_object_new_object(), *cmds = json_object_new_array(),
                       *never = json_object_new_array();
    if (!root || !cmds || !never) {
        json_object_put(root);
        json_object_put(cmds);
        json_object_put(never);
        return NULL;
    }
    json_object_object_add(root, "traces", json_object_new_int64(sc->traces));
    json_object_object_add(root, "events", json_object_new_int64(sc->events));
    json_object_object_add(root, "undecoded", json_object_new_int64(sc->undecoded));
    unsigned total = 0, unset = 0;
    for (unsigned c = 0; c < sc->ncmds; c++)
        for (int r = 0; r < 2; r++) {
            if (!vfu_speccov_dir_exists(c, r)) continue;
            const struct vfu_sc_dir *d = vfu_speccov_dir(sc, c, r);
            struct json_object *o = json_object_new_object();
            if (!o) continue;
            json_object_object_add(o, "command", json_object_new_string(vfu_cmd(c)->name));
            json_object_object_add(o, "section", json_object_new_string(vfu_cmd(c)->section));
            json_object_object_add(o, "direction", json_object_new_string(r ? "reply" : "request"));
            json_object_object_add(o, "messages", json_object_new_int64(d->msgs));
            json_object_object_add(o, "error_replies", json_object_new_int64(d->errors));
            struct json_object *en = json_object_new_array();
            for (unsigned e = 0; en && e < 256; e++)
                if (d->errnos[e / 64] >> (e % 64) & 1) arr_add(en, json_object_new_int((int)e));
            json_object_object_add(o, "errnos", en);
            struct json_object *fk = json_object_new_array();
            for (unsigned k = 0; fk && k < 8; k++)
                if (d->fd_kinds >> k & 1) arr_add(fk, json_object_new_string(vfu_fd_kind_name((enum vfu_fd_kind)k)));
            json_object_object_add(o, "fd_kinds", fk);
            struct json_object *sa = json_object_new_array();
            for (size_t k = 0; sa && k < d->nscn; k++) arr_add(sa, json_object_new_string(d->scenarios[k]));
            json_object_object_add(o, "scenarios", sa);
            struct json_object *fa = json_object_new_array();
            for (unsigned f = 0; fa && f < nf(); f++) {
                if (!d->reach[f]) continue;
                total++;
                unset += d->cls[f] == 0;
                arr_add(fa, field_json(d, (int)f));
            }
            json_object_object_add(o, "fields", fa);
            if (!d->msgs && !r) arr_add(never, json_object_new_string(vfu_cmd(c)->name));
            arr_add(cmds, o);
        }
    json_object_object_add(root, "commands", cmds);
    struct json_object *caps = json_object_new_array();
    for (int k = 0; caps && k < VFU_CAP__COUNT && k < 64; k++) {
        struct json_object *o = json_object_new_object();
        if (!o) continue;
        json_object_object_add(o, "name", json_object_new_string(vfu_cap_name(k)));
        json_object_object_add(o, "proposal", classes(sc->cap_cls[0][k]));
        json_object_object_add(o, "reply", classes(sc->cap_cls[1][k]));
        arr_add(caps, o);
    }
    json_object_object_add(root, "capabilities", caps);
    struct json_object *gaps = json_object_new_object();
    if (gaps) {
        json_object_object_add(gaps, "commands_never_seen", never);
        json_object_object_add(gaps, "fields_never_set", json_object_new_int64(unset));
        json_object_object_add(gaps, "fields_total", json_object_new_int64(total));
        json_object_object_add(root, "gaps", gaps);
    } else
        json_object_put(never);
    const char *txt = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
    char *out = txt ? strdup(txt) : NULL;
    json_object_put(root);
    return out;
}
