/* expect steps: each reply-shaped expect takes the oldest send still
 * waiting, and says precisely what came instead of what was expected. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner_int.h"
#include "vfu_spec.h"

static void errno_text(uint32_t e, char *buf, size_t n)
{
    const char *name = vfh_scn_errno_name(e);
    if (name) snprintf(buf, n, "%s", name);
    else snprintf(buf, n, "errno %u", e);
}

bool vfh_runner_is_closed(enum vfu_call_status st, const struct vfu_reply *r)
{
    if (st == VFU_CALL_EOF) return true;
    if (st != VFU_CALL_ERROR) return false;
    return r->err.code == VFU_E_EOF ||
           (r->err.code == VFU_E_IO && (r->err.sys_errno == ECONNRESET || r->err.sys_errno == EPIPE));
}

enum vfu_failure_kind vfh_runner_status_kind(enum vfu_call_status st, const struct vfu_reply *r)
{
    switch (st) {
    case VFU_CALL_REPLY: return VFU_FK_MISMATCH;
    case VFU_CALL_BAD_REPLY: return VFU_FK_VIOLATION;
    case VFU_CALL_TIMEOUT: return VFU_FK_TIMEOUT;
    case VFU_CALL_EOF: return VFU_FK_CLOSED;
    case VFU_CALL_ERROR: return vfh_runner_is_closed(st, r) || r->err.code == VFU_E_IO ? VFU_FK_CLOSED : VFU_FK_VIOLATION;
    }
    return VFU_FK_MISMATCH;
}

void vfh_runner_describe_reply(const struct vfu_reply *r, enum vfu_call_status st, int timeout_ms, char *buf,
                    size_t n)
{
    char e[300];
    switch (st) {
    case VFU_CALL_REPLY:
        if (r->msg.is_error) {
            errno_text(r->msg.hdr.error, e, sizeof e);
            snprintf(buf, n, "error reply %s", e);
        } else {
            snprintf(buf, n, "success reply");
        }
        return;
    case VFU_CALL_BAD_REPLY:
        vfu_error_str(&r->err, e, sizeof e);
        snprintf(buf, n, "a reply that breaks the spec: %s", e);
        return;
    case VFU_CALL_TIMEOUT:
        snprintf(buf, n, "no reply within %d ms", timeout_ms);
        return;
    case VFU_CALL_EOF:
        snprintf(buf, n, "the connection closed");
        return;
    case VFU_CALL_ERROR:
        vfu_error_str(&r->err, e, sizeof e);
        if (vfh_runner_is_closed(st, r)) snprintf(buf, n, "the connection closed (%s)", e);
        else if (r->err.code == VFU_E_IO && !r->err.sys_errno) snprintf(buf, n, "a message stream that broke");
        else snprintf(buf, n, "a broken message stream: %s", e);
        return;
    }
}

bool vfh_runner_expect_success(struct sess *s, const char *what, enum vfu_call_status st,
                    const struct vfu_reply *r, struct outcome *o)
{
    if (st == VFU_CALL_REPLY && !r->msg.is_error) return true;
    char got[400];
    vfh_runner_describe_reply(r, st, s->R->timeout_ms, got, sizeof got);
    vfh_runner_out_set(o, VFU_FAIL, vfh_runner_status_kind(st, r), "%s: expected success, got %s", what, got);
    if (st != VFU_CALL_REPLY && st != VFU_CALL_BAD_REPLY) vfh_runner_target_judge(s->R, o, st == VFU_CALL_TIMEOUT);
    return false;
}

/* --------------------------------------------------------- reply checks */

static void num_text(uint64_t v, char *buf, size_t n)
{
    if (v < 10) snprintf(buf, n, "%llu", (unsigned long long)v);
    else snprintf(buf, n, "0x%llx", (unsigned long long)v);
}

static void hex_text(const uint8_t *p, uint32_t n, char *buf, size_t bn)
{
    size_t o = 0;
    uint32_t show = n > 32 ? 32 : n;
    for (uint32_t i = 0; i < show && o + 3 < bn; i++) o += (size_t)snprintf(buf + o, bn - o, "%02x", p ? p[i] : 0);
    if (show < n && o + 20 < bn) snprintf(buf + o, bn - o, "... (%u bytes)", n);
    else if (!n) snprintf(buf, bn, "nothing");
}

static bool compare(enum scn_op op, uint64_t a, uint64_t b)
{
    switch (op) {
    case SCN_OP_EQ: return a == b;
    case SCN_OP_NE: return a != b;
    case SCN_OP_LT: return a < b;
    case SCN_OP_LE: return a <= b;
    case SCN_OP_GT: return a > b;
    case SCN_OP_GE: return a >= b;
    case SCN_OP_ALL: return (a & b) == b;
    case SCN_OP_NONE: return (a & b) == 0;
    }
    return false;
}
bool vfh_runner_compare(enum scn_op op, uint64_t a, uint64_t b) { return compare(op, a, b); }

static bool all_zero(const uint8_t *p, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (p[i]) return false;
    return true;
}

/* bytes at a place of the reply; false when absent */
static bool loc_bytes(const struct vfu_msg *m, int field, const uint8_t **p, uint32_t *n)
{
    const struct vfu_field_desc *f = vfu_field(field);
    if (f->kind == VFU_K_BYTES) {
        const struct vfu_part *part = vfu_part_next(m, NULL, f->sid);
        if (!part) return false;
        *p = m->payload + part->off + f->offset;
        *n = f->width;
        return true;
    }
    *p = vfu_data(m, field, n);
    if (!*p) *n = 0;
    return vfu_tail(m, field) != NULL || *n;
}

/* the integer at a place; false with why when absent */
static bool loc_value(const struct vfu_reply *r, const struct scn_loc *l, uint64_t *v, char *why, size_t n)
{
    const struct vfu_msg *m = &r->msg;
    switch (l->kind) {
    case SCN_L_FDS:
        *v = r->nfds;
        return true;
    case SCN_L_FIELD:
        if (!vfu_has(m, l->field)) { snprintf(why, n, "%s is absent from the reply", l->text); return false; }
        *v = vfu_get(m, l->field);
        return true;
    case SCN_L_ELEM: {
        uint32_t c = vfu_count(m, l->array);
        if (l->index >= c) {
            snprintf(why, n, "%s: the reply has %u element%s", l->text, c, c == 1 ? "" : "s");
            return false;
        }
        *v = vfu_elem_get(m, l->array, l->index, l->field);
        return true;
    }
    case SCN_L_LEN: {
        if (vfu_field(l->field)->kind == VFU_K_ARRAY) { *v = vfu_count(m, l->field); return true; }
        const uint8_t *p;
        uint32_t k;
        loc_bytes(m, l->field, &p, &k);
        *v = k;
        return true;
    }
    }
    snprintf(why, n, "%s: not a number", l->text);
    return false;
}

static bool checks(struct sess *s, const struct scn_step *st, const struct vfu_reply *r, struct outcome *o)
{
    char why[300], a[64], b[64], ga[100], gb[100];
    for (unsigned i = 0; i < st->u.expect.nchecks; i++) {
        const struct scn_check *k = &st->u.expect.checks[i];
        if (k->loc.kind == SCN_L_BYTES) {
            const uint8_t *p = NULL, *want;
            uint32_t n = 0, wn;
            if (!vfh_runner_eval_bytes(s, &k->bytes, &want, &wn, o)) return false;
            if (!loc_bytes(&r->msg, k->loc.field, &p, &n)) {
                vfh_runner_out_set(o, VFU_FAIL, VFU_FK_MISMATCH, "%s is absent from the reply", k->loc.text);
                return false;
            }
            bool same = n == wn && (!n || (want ? !memcmp(p, want, n) : all_zero(p, n)));
            if (same != (k->op == SCN_OP_EQ)) {
                hex_text(want, wn, gb, sizeof gb);
                hex_text(p, n, ga, sizeof ga);
                vfh_runner_out_set(o, VFU_FAIL, VFU_FK_MISMATCH, "%s: expected %s%s, got %s", k->loc.text,
                        k->op == SCN_OP_EQ ? "" : "anything but ", gb, ga);
                return false;
            }
            continue;
        }
        uint64_t got, want;
        if (!vfh_runner_eval(s, &k->val, &want, o)) return false;
        if (!loc_value(r, &k->loc, &got, why, sizeof why)) {
            vfh_runner_out_set(o, VFU_FAIL, VFU_FK_MISMATCH, "%s", why);
            return false;
        }
        if (!compare((enum scn_op)k->op, got, want)) {
            num_text(want, a, sizeof a);
            num_text(got, b, sizeof b);
            const char *op = vfh_scn_op_name((enum scn_op)k->op);
            vfh_runner_out_set(o, VFU_FAIL, VFU_FK_MISMATCH, "%s: expected %s%s%s, got %s", k->loc.text,
                    k->op == SCN_OP_EQ ? "" : op, k->op == SCN_OP_EQ ? "" : " ", a, b);
            return false;
        }
    }
    for (unsigned i = 0; i < st->u.expect.nsaves; i++) {
        const struct scn_save *sv = &st->u.expect.saves[i];
        bool ok;
        if (sv->loc.kind == SCN_L_BYTES) {
            const uint8_t *p;
            uint32_t n;
            if (!loc_bytes(&r->msg, sv->loc.field, &p, &n)) {
                vfh_runner_out_set(o, VFU_FAIL, VFU_FK_MISMATCH, "save %s: %s is absent from the reply", sv->var, sv->loc.text);
                return false;
            }
            ok = vfh_runner_rvars_set(&s->vars, sv->var, 0, p ? p : (const uint8_t *)"", n);
        } else {
            uint64_t v;
            if (!loc_value(r, &sv->loc, &v, why, sizeof why)) {
                vfh_runner_out_set(o, VFU_FAIL, VFU_FK_MISMATCH, "save %s: %s", sv->var, why);
                return false;
            }
            ok = vfh_runner_rvars_set(&s->vars, sv->var, v, NULL, 0);
        }
        if (!ok) {
            vfh_runner_out_set(o, VFU_ERROR, VFU_FK_NONE, "save %s: out of memory", sv->var);
            return false;
        }
    }
    return true;
}

/* ------------------------------------------------------------ answers */

static bool errno_listed(const struct scn_step *st, uint32_t e)
{
    if (!st->u.expect.nerrnos) return true;
    for (unsigned i = 0; i < st->u.expect.nerrnos; i++)
        if (st->u.expect.errnos[i] == e) return true;
    return false;
}

static void wanted(const struct scn_step *st, char *buf, size_t n)
{
    size_t o = 0;
    switch (st->kind) {
    case SCN_S_EXPECT_OK: snprintf(buf, n, "a success reply"); return;
    case SCN_S_EXPECT_REPLY: snprintf(buf, n, "a reply"); return;
    case SCN_S_EXPECT_CLOSE: snprintf(buf, n, "the connection closed"); return;
    case SCN_S_EXPECT_NONE: snprintf(buf, n, "no reply"); return;
    default: break;
    }
    o = (size_t)snprintf(buf, n, st->u.expect.prefer ? "an error reply (" : "error");
    for (unsigned i = 0; i < st->u.expect.nerrnos && o < n; i++) {
        char e[32];
        errno_text(st->u.expect.errnos[i], e, sizeof e);
        o += (size_t)snprintf(buf + o, n - o, "%s%s", i ? "|" : st->u.expect.prefer ? "" : " ", e);
    }
    if (st->u.expect.prefer && o < n) o += (size_t)snprintf(buf + o, n - o, " preferred)");
    if (st->kind == SCN_S_EXPECT_ERROR_OR_CLOSE && o < n) snprintf(buf + o, n - o, " or the connection closed");
}

/* An error reply whose errno is not the preferred one meets the step: the
 * spec asks only that the request fail, and lets the Error field be zero.
 * The first such reply of a scenario is kept as a finding of its own, at
 * INFO level, reported when nothing else failed. */
static void note_preference(struct sess *s, const struct scn_step *st, uint32_t got)
{
    if (s->preference_missed) return;
    char want[200] = "", e[32];
    size_t o = 0;
    for (unsigned i = 0; i < st->u.expect.nerrnos && o < sizeof want; i++) {
        errno_text(st->u.expect.errnos[i], e, sizeof e);
        o += (size_t)snprintf(want + o, sizeof want - o, "%s%s", i ? " or " : "", e);
    }
    errno_text(got, e, sizeof e);
    struct outcome *p = &s->preference;
    vfh_runner_out_set(p, VFU_FAIL, VFU_FK_MISMATCH,
            "step %d (%s:%d%s%s): the error reply carries %s where %s was preferred; the spec asks only that "
            "the request fail (the Error field is optional), so this is an INFO finding, not a failure",
            s->step + 1, s->sc->file, st->line, st->origin ? ", " : "", st->origin ? st->origin : "", e, want);
    p->line = st->line;
    s->preference_missed = true;
}

/* how long a server that just closed the connection is given to be seen
 * dead: the kernel closes a dying process's socket just before it ends */
#define BREAKDOWN_WAIT_MS 20

/* the pending send's answer; wait_ms for expect none */
static enum vfu_call_status collect(struct sess *s, struct tick *t, int wait_ms, struct vfu_reply *r)
{
    if (!t->sent) {
        r->err = t->send_err;
        return VFU_CALL_EOF;
    }
    enum vfu_call_status st = vfu_client_wait(s->c, t->ticket, wait_ms, r);
    if (st == VFU_CALL_TIMEOUT) vfu_client_abandon(s->c, t->ticket);
    return st;
}

/* expect close with nothing pending: the server should hang up by itself */
static bool wait_close(struct sess *s, struct outcome *o)
{
    int left = s->R->timeout_ms;
    while (left > 0) {
        int step = left > 100 ? 100 : left;
        if (vfu_client_pump(s->c, step) < 0) {
            s->saw_close = true;
            return true;
        }
        left -= step;
    }
    vfh_runner_out_set(o, VFU_FAIL, VFU_FK_MISMATCH, "expected the connection closed, still open after %d ms", s->R->timeout_ms);
    return false;
}

bool vfh_runner_step_expect(struct sess *s, const struct scn_step *st, struct outcome *o)
{
    if (st->kind == SCN_S_EXPECT_CLOSE && st->u.expect.send_step < 0) return wait_close(s, o);
    if (!s->nq) {
        vfh_runner_out_set(o, VFU_ERROR, VFU_FK_NONE, "no send is waiting");
        return false;
    }
    struct tick t = s->q[0];
    memmove(s->q, s->q + 1, --s->nq * sizeof s->q[0]);
    int wait = s->R->timeout_ms;
    uint64_t ms;
    if (st->kind == SCN_S_EXPECT_NONE) {
        if (!vfh_runner_eval(s, &st->u.expect.ms, &ms, o)) return false;
        wait = (int)(ms > SCN_MAX_WAIT_MS ? SCN_MAX_WAIT_MS : ms);
    }
    struct vfu_reply r;
    vfu_reply_init(&r);
    enum vfu_call_status cs = st->kind == SCN_S_EXPECT_NONE ? vfh_runner_collect_none(s, &t, wait, &r) : collect(s, &t, wait, &r);
    bool closed = vfh_runner_is_closed(cs, &r);
    bool ok;
    if (closed) s->saw_close = true;
    switch (st->kind) {
    case SCN_S_EXPECT_OK: ok = cs == VFU_CALL_REPLY && !r.msg.is_error; break;
    case SCN_S_EXPECT_REPLY: ok = cs == VFU_CALL_REPLY; break;
    case SCN_S_EXPECT_ERROR:
    case SCN_S_EXPECT_ERROR_OR_CLOSE:
        ok = cs == VFU_CALL_REPLY && r.msg.is_error && (st->u.expect.prefer || errno_listed(st, r.msg.hdr.error));
        if (ok && !errno_listed(st, r.msg.hdr.error)) note_preference(s, st, r.msg.hdr.error);
        if (st->kind == SCN_S_EXPECT_ERROR_OR_CLOSE && closed) ok = true;
        break;
    case SCN_S_EXPECT_CLOSE: ok = closed; break;
    case SCN_S_EXPECT_NONE: ok = cs == VFU_CALL_TIMEOUT; break;
    default: ok = false; break;
    }
    char how[300];
    if (ok && closed && vfh_runner_target_broke_down(s->R, BREAKDOWN_WAIT_MS, how, sizeof how)) {
        /* the connection closed because the server broke down: a failure of
         * its own kind, whatever the scenario accepted */
        char want[200];
        wanted(st, want, sizeof want);
        vfh_runner_out_set(o, VFU_FAIL, VFU_FK_CRASH, "expected %s; the connection closed, but because the server %s%s: a "
                "crash never meets an expectation", want, strncmp(how, "killed", 6) ? "" : "was ", how);
        ok = false;
    } else if (ok && st->kind == SCN_S_EXPECT_OK) {
        ok = checks(s, st, &r, o);
    } else if (!ok) {
        char want[200], got[400];
        wanted(st, want, sizeof want);
        vfh_runner_describe_reply(&r, cs, wait, got, sizeof got);
        enum vfu_failure_kind k = vfh_runner_status_kind(cs, &r);
        /* the answer came, it was the wrong one */
        if (cs == VFU_CALL_REPLY || (closed && st->kind != SCN_S_EXPECT_OK && st->kind != SCN_S_EXPECT_REPLY &&
                                     st->kind != SCN_S_EXPECT_ERROR))
            k = VFU_FK_MISMATCH;
        vfh_runner_out_set(o, VFU_FAIL, k, "expected %s, got %s", want, got);
        if (k == VFU_FK_TIMEOUT || k == VFU_FK_CLOSED) vfh_runner_target_judge(s->R, o, k == VFU_FK_TIMEOUT);
    }
    vfu_reply_release(&r);
    return ok;
}
