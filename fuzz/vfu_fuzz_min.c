/* Minimization: records are dropped one at a time, then each message is
 * shrunk (tail cut, body fields set to zero, fds dropped or made small,
 * flags cleared), each try re-run on a fresh server and kept only when the
 * same signature comes back.  Fresh, so that the finding replays against a
 * server just started, as `vfu-conform replay --server` starts it. */
#include "vfu_fuzz.h"

#include <stdlib.h>
#include <string.h>

#define LEAK_RUNS 3

struct rec {
    uint8_t kind, flags, nfds;
    struct vfu_fs_fd fds[VFU_FS_MAX_FDS];
    uint8_t *msg;
    uint32_t len;
};

struct work {
    struct rec *r;
    unsigned n;
    uint8_t *buf;
    size_t len;
};

static struct vfu_fs g_fs;
static uint8_t g_cand[FZ_MAX_INPUT];

static size_t build(const struct work *w, uint8_t *out, size_t cap)
{
    g_fs.n = 0;
    for (unsigned i = 0; i < w->n; i++) {
        struct vfu_fs_record *d = &g_fs.rec[g_fs.n++];
        d->kind = w->r[i].kind;
        d->flags = w->r[i].flags;
        d->nfds = w->r[i].nfds;
        memcpy(d->fds, w->r[i].fds, sizeof d->fds);
        d->msg = w->r[i].msg;
        d->len = w->r[i].len;
    }
    return vfu_fs_write(&g_fs, out, cap);
}

static bool leak_reproduces(struct fz_target *t, const uint8_t *in, size_t len, int timeout_ms)
{
    struct vfu_error err;
    if (!fz_target_restart(t, &err)) return false;
    struct fz_exec_opts o = {.timeout_ms = timeout_ms, .dma_write_ack_u64 = t->dma_write_ack_u64};
    struct fz_outcome out;
    static const uint8_t none[1];
    fz_exec(t, NULL, none, 0, &o, &out, NULL);
    int before = out.fds_after_version;
    for (int i = 0; i < LEAK_RUNS; i++) {
        fz_exec(t, NULL, in, len, &o, &out, NULL);
        if (out.server_gone && !fz_target_ensure(t, &err)) return false;
    }
    fz_exec(t, NULL, none, 0, &o, &out, NULL);
    return before >= 0 && out.fds_after_version >= before + LEAK_RUNS;
}

bool fz_reproduces(struct fz_target *t, const uint8_t *in, size_t len, const struct fz_outcome *o,
                   int timeout_ms)
{
    if (o->kind == FZ_LEAK_FD) return leak_reproduces(t, in, len, timeout_ms);
    struct vfu_error err;
    if (!fz_target_fresh(t, o->warm, &err)) return false;
    struct fz_exec_opts eo = {.timeout_ms = timeout_ms, .check_hang = true,
                              .dma_write_ack_u64 = t->dma_write_ack_u64, .want_sig = o->sig};
    struct fz_outcome out;
    fz_exec(t, NULL, in, len, &eo, &out, NULL);
    return out.kind == o->kind && !strcmp(out.sig, o->sig);
}

struct min {
    struct fz_target *t;
    const struct fz_outcome *o;
    int timeout_ms;
    unsigned budget;
    unsigned long execs;
};

static bool try_work(struct min *m, struct work *w)
{
    if (m->execs >= m->budget) return false;
    size_t n = build(w, g_cand, sizeof g_cand);
    if (!n) return false;
    m->execs++;
    return fz_reproduces(m->t, g_cand, n, m->o, m->timeout_ms);
}

/* tries a change to message i's bytes; undone when it loses the finding */
static bool try_msg(struct min *m, struct work *w, unsigned i, uint8_t *nmsg, uint32_t nlen)
{
    uint8_t *old = w->r[i].msg;
    uint32_t olen = w->r[i].len;
    w->r[i].msg = nmsg;
    w->r[i].len = nlen;
    if (try_work(m, w)) {
        free(old);
        return true;
    }
    w->r[i].msg = old;
    w->r[i].len = olen;
    free(nmsg);
    return false;
}

static void shrink_msg(struct min *m, struct work *w, unsigned i)
{
    struct rec *r = &w->r[i];
    if (r->kind != VFU_FS_MSG || r->len < VFU_HDR_SIZE) return;
    struct vfu_hdr h;
    struct vfu_error err;
    vfu_hdr_decode(r->msg, r->len, &h, &err);
    const struct vfu_cmd_desc *cd = vfu_cmd(h.cmd);
    bool reply = (h.flags & VFU_HDR_FLAGS_TYPE_MASK) == 1;
    int sid = cd ? cd->sid[reply] : -1;
    size_t fixed = VFU_HDR_SIZE + (sid >= 0 ? vfu_struct(sid)->size : 0);
    /* the tail, halved toward the fixed part */
    while (r->len > fixed) {
        uint32_t nl = (uint32_t)(fixed + (r->len - fixed) / 2);
        uint8_t *c = malloc(nl);
        if (!c) return;
        memcpy(c, r->msg, nl);
        if (!try_msg(m, w, i, c, nl)) break;
    }
    /* body fields toward zero */
    if (sid >= 0) {
        const struct vfu_struct_desc *sd = vfu_struct(sid);
        for (unsigned k = 0; k < sd->nfields; k++) {
            const struct vfu_field_desc *f = vfu_field(sd->first_field + (int)k);
            if (f->kind != VFU_K_UINT || VFU_HDR_SIZE + f->offset + f->width > r->len) continue;
            uint64_t v = vfu_read_uint(r->msg + VFU_HDR_SIZE + f->offset, f->width);
            if (!v) continue;
            /* zero, else one, else halved */
            uint64_t cands[3] = {0, 1, v / 2};
            for (unsigned c = 0; c < 3; c++) {
                if (cands[c] >= v) continue;
                uint8_t *nm = malloc(r->len);
                if (!nm) return;
                memcpy(nm, r->msg, r->len);
                vfu_write_uint(nm + VFU_HDR_SIZE + f->offset, f->width, cands[c]);
                if (try_msg(m, w, i, nm, r->len)) break;
            }
        }
    }
    /* fds: fewer, then smaller memfds */
    for (unsigned k = r->nfds; k-- > 0;) {
        struct rec saved = *r;
        memmove(&r->fds[k], &r->fds[k + 1], (r->nfds - k - 1) * sizeof r->fds[0]);
        r->nfds--;
        if (!try_work(m, w)) *r = saved;
    }
    /* flags of the record */
    if (r->flags & VFU_FS_TWIN) {
        r->flags &= (uint8_t)~VFU_FS_TWIN;
        if (!try_work(m, w)) r->flags |= VFU_FS_TWIN;
    }
}

unsigned long fz_minimize(struct fz_target *t, uint8_t *in, size_t *len, const struct fz_outcome *o,
                          int timeout_ms, unsigned budget)
{
    struct vfu_fs *fs = malloc(sizeof *fs);
    if (!fs) return 0;
    vfu_fs_parse(in, *len, fs);
    struct work w = {.r = calloc(fs->n ? fs->n : 1, sizeof *w.r)};
    if (!w.r) {
        free(fs);
        return 0;
    }
    for (unsigned i = 0; i < fs->n; i++) {
        struct vfu_fs_record *s = &fs->rec[i];
        struct rec *d = &w.r[w.n];
        d->kind = s->kind;
        d->flags = s->flags;
        d->nfds = s->nfds;
        memcpy(d->fds, s->fds, sizeof d->fds);
        d->len = s->len;
        d->msg = malloc(s->len ? s->len : 1);
        if (!d->msg) break;
        memcpy(d->msg, s->msg, s->len);
        w.n++;
    }
    free(fs);
    struct min m = {.t = t, .o = o, .timeout_ms = timeout_ms, .budget = budget};
    /* records: one at a time, from the end (later ones depend on earlier) */
    for (unsigned i = w.n; i-- > 0 && m.execs < budget;) {
        struct rec drop = w.r[i];
        memmove(&w.r[i], &w.r[i + 1], (w.n - i - 1) * sizeof w.r[0]);
        w.n--;
        if (try_work(&m, &w)) {
            free(drop.msg);
            continue;
        }
        memmove(&w.r[i + 1], &w.r[i], (w.n - i) * sizeof w.r[0]);
        w.r[i] = drop;
        w.n++;
    }
    for (unsigned i = 0; i < w.n && m.execs < budget; i++) shrink_msg(&m, &w, i);
    size_t n = build(&w, g_cand, sizeof g_cand);
    if (n && n <= *len) {
        memcpy(in, g_cand, n);
        *len = n;
    }
    for (unsigned i = 0; i < w.n; i++) free(w.r[i].msg);
    free(w.r);
    return m.execs;
}
