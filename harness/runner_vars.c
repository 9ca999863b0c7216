/* Variables at run time: the probe's (the whole run) and the scenario's
 * own (set, read ... as, save), the scenario's shadowing nothing since the
 * loader refuses probe names for them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner_int.h"

void vfh_runner_rvars_clear(struct rvars *vs)
{
    for (size_t i = 0; i < vs->n; i++) free(vs->v[i].bytes);
    free(vs->v);
    memset(vs, 0, sizeof *vs);
}

struct rvar *vfh_runner_rvars_find(const struct rvars *vs, const char *name)
{
    for (size_t i = 0; i < vs->n; i++)
        if (!strcmp(vs->v[i].name, name)) return &vs->v[i];
    return NULL;
}

bool vfh_runner_rvars_set(struct rvars *vs, const char *name, uint64_t num, const uint8_t *bytes, uint32_t len)
{
    if (strlen(name) >= SCN_MAX_NAME) return false;
    struct rvar *v = vfh_runner_rvars_find(vs, name);
    if (!v) {
        if (vs->n == RVARS_MAX) return false;
        if (vs->n == vs->cap) {
            size_t cap = vs->cap ? vs->cap * 2 : 32;
            struct rvar *nv = realloc(vs->v, cap * sizeof *nv);
            if (!nv) return false;
            vs->v = nv;
            vs->cap = cap;
        }
        v = &vs->v[vs->n++];
        memset(v, 0, sizeof *v);
        snprintf(v->name, sizeof v->name, "%s", name);
    }
    free(v->bytes);
    v->bytes = NULL;
    v->len = 0;
    v->num = num;
    if (bytes) {
        if (!(v->bytes = malloc(len ? len : 1))) return false;
        memcpy(v->bytes, bytes, len);
        v->len = len;
        v->num = 0;
        for (uint32_t i = 0; i < len && i < 8; i++) v->num |= (uint64_t)bytes[i] << (8 * i);
    }
    return true;
}

const struct rvar *vfh_runner_lookup(struct sess *s, const char *name)
{
    const struct rvar *v = vfh_runner_rvars_find(&s->vars, name);
    return v ? v : vfh_runner_rvars_find(&s->R->vars, name);
}

/* why a variable has no value: the probe failed, or the device has no such thing */
static bool missing(struct sess *s, const char *name, struct outcome *o)
{
    struct probe *p = &s->R->probe;
    if (!p->ok)
        vfh_runner_out_set(o, VFU_FAIL, p->kind, "$%s unknown: the device probe failed: %s", name, p->reason);
    else
        vfh_runner_out_set(o, VFU_SKIP, VFU_FK_NONE, "the device provides no $%s", name);
    return false;
}

bool vfh_runner_eval(struct sess *s, const struct scn_value *v, uint64_t *out, struct outcome *o)
{
    uint64_t r = v->num;
    for (unsigned i = 0; i < v->nvars; i++) {
        const struct rvar *x = vfh_runner_lookup(s, v->vars[i].name);
        if (!x) return missing(s, v->vars[i].name, o);
        r |= x->num + (uint64_t)v->vars[i].add;
    }
    *out = r;
    return true;
}

bool vfh_runner_eval_bytes(struct sess *s, const struct scn_bytes *b, const uint8_t **p, uint32_t *n,
                struct outcome *o)
{
    static const uint8_t none[1];
    if (b->var) {
        const struct rvar *x = vfh_runner_lookup(s, b->var);
        if (!x) return missing(s, b->var, o);
        /* a number stands for its 8 bytes, little end first */
        if (!x->bytes) {
            static _Thread_local uint8_t le[8];
            for (int i = 0; i < 8; i++) le[i] = (uint8_t)(x->num >> (8 * i));
            *p = le;
            *n = 8;
            return true;
        }
        *p = x->bytes;
        *n = x->len;
        return true;
    }
    *p = b->p ? b->p : NULL;
    *n = b->n;
    if (!b->p && !b->n) *p = none;
    return true;
}
