/* Replay of a trace's client side (see replay.h).  The trace is untrusted:
 * every size and count in it is bounded by the reader, fd sizes are only
 * handed to ftruncate (a failure is ours to report, not a crash), and
 * channel use is checked against what has been set up. */
#include "replay.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vfu_dissect.h"
#include "report_text.h"
#include "vfu_spec.h"

static const char *const outcome_names[] = {
    [VFU_REPLAY_SAME] = "same", [VFU_REPLAY_DIVERGED] = "diverged",
    [VFU_REPLAY_CLOSED] = "closed", [VFU_REPLAY_TIMEOUT] = "timeout",
    [VFU_REPLAY_BAD_TRACE] = "bad trace", [VFU_REPLAY_LOCAL] = "local failure",
};

const char *vfr_replay_outcome_name(enum vfu_replay_outcome o)
{
    return (unsigned)o < sizeof outcome_names / sizeof *outcome_names ? outcome_names[o] : "?";
}

int vfr_replay_exit_status(enum vfu_replay_outcome o)
{
    switch (o) {
    case VFU_REPLAY_SAME: return 0;
    case VFU_REPLAY_DIVERGED:
    case VFU_REPLAY_CLOSED:
    case VFU_REPLAY_TIMEOUT: return 1;
    default: return 2;
    }
}

struct rp {
    const struct vfu_trace *t;
    FILE *out;
    int timeout_ms;
    struct vfu_proc *proc;
    struct vfu_conn *chan[VFU_TRACE_NCHAN];
    struct vfu_conn twin;
    bool have_twin;
    char *why;            /* why replay could not go on (BAD_TRACE, LOCAL) */
    size_t whyn;
};

static const char *dir_name(enum vfu_trace_dir d) { return d == VFU_TRACE_TX ? "tx" : "rx"; }
static const char *chan_name(unsigned c) { return c == VFU_TRACE_TWIN ? "twin" : "main"; }

/* "event 5 (rx main, at 0.001234 s): " */
static void where(struct rp *r, size_t i)
{
    const struct vfu_trace_event *e = &r->t->ev[i];
    fprintf(r->out, "event %zu (%s %s, at %.6f s): ", i, dir_name(e->dir), chan_name(e->chan),
            (double)e->t_ns / 1e9);
}

/* replay cannot go on: said on out, and kept in r->why */
static void cannot(struct rp *r, size_t i, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cannot(struct rp *r, size_t i, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (i != (size_t)-1) where(r, i);
    vfr_each_str(r->out, msg, vfr_put_term);
    fputc('\n', r->out);
    if (r->whyn) {
        if (i != (size_t)-1) snprintf(r->why, r->whyn, "event %zu: %s", i, msg);
        else snprintf(r->why, r->whyn, "%s", msg);
    }
}

static void err_text(FILE *out, const struct vfu_error *e)
{
    char s[256];
    vfu_error_str(e, s, sizeof s);
    vfr_each_str(out, s, vfr_put_term);
}

/* ---------------------------------------------------------------- fds --- */

/* A stand-in for a recorded fd.  *keep gets our end of a socket pair. */
static int make_fd(const struct vfu_trace_fd *f, int *keep)
{
    *keep = -1;
    switch (f->kind) {
    case VFU_FDK_MEMFD:
    case VFU_FDK_FILE: {
        int fd = memfd_create("vfu-replay", MFD_CLOEXEC);
        if (fd >= 0 && (f->size > (uint64_t)INT64_MAX || ftruncate(fd, (off_t)f->size) != 0)) {
            int e = f->size > (uint64_t)INT64_MAX ? EFBIG : errno;
            close(fd);
            errno = e;
            return -1;
        }
        return fd;
    }
    case VFU_FDK_EVENTFD:
        return eventfd(0, EFD_CLOEXEC);
    case VFU_FDK_SOCKET: {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return -1;
        *keep = sv[0];
        return sv[1];
    }
    default:
        return open("/dev/null", O_RDWR | O_CLOEXEC);
    }
}

/* our end of a socket we sent: the twin channel if there is none yet */
static bool keep_socket(struct rp *r, int fd)
{
    if (r->have_twin) {
        close(fd);
        return true;
    }
    struct vfu_error err;
    /* vfu_conn_init closes fd on failure */
    if (!vfu_conn_init(&r->twin, fd, &r->chan[VFU_TRACE_MAIN]->lim, &err)) return false;
    r->twin.timeout_ms = r->timeout_ms;
    r->have_twin = true;
    r->chan[VFU_TRACE_TWIN] = &r->twin;
    return true;
}

/* ---------------------------------------------------------------- send --- */

static enum vfu_replay_outcome send_event(struct rp *r, size_t i)
{
    const struct vfu_trace_event *e = &r->t->ev[i];
    struct vfu_conn *c = r->chan[e->chan];
    if (!c) {
        cannot(r, i, "the twin channel is used, but no socket was sent for it");
        return VFU_REPLAY_BAD_TRACE;
    }
    int fds[VFU_MAX_FDS], keep[VFU_MAX_FDS];
    unsigned n = 0, nkeep = 0;
    enum vfu_replay_outcome res = VFU_REPLAY_SAME;
    for (; n < e->nfds; n++) {
        int k;
        fds[n] = make_fd(&e->fds[n], &k);
        if (fds[n] < 0) {
            cannot(r, i, "cannot make a %s fd: %s", vfu_fd_kind_name(e->fds[n].kind), strerror(errno));
            res = VFU_REPLAY_LOCAL;
            break;
        }
        if (k >= 0) keep[nkeep++] = k;
    }
    if (res == VFU_REPLAY_SAME) {
        struct vfu_error err;
        if (!vfu_send(c, e->bytes, e->len, fds, n, &err) && !e->has_err) {
            /* the original send went through; a peer that is gone now is
             * the server's doing, anything else is ours */
            char es[256];
            vfu_error_str(&err, es, sizeof es);
            res = err.code == VFU_E_EOF ? VFU_REPLAY_CLOSED : VFU_REPLAY_LOCAL;
            if (res == VFU_REPLAY_LOCAL) cannot(r, i, "send failed: %s", es);
            else {
                where(r, i);
                fputs("the server closed the connection (send failed: ", r->out);
                vfr_each_str(r->out, es, vfr_put_term);
                fputs(")\n", r->out);
            }
        }
    }
    for (unsigned k = 0; k < n; k++) close(fds[k]);
    for (unsigned k = 0; k < nkeep; k++) {
        if (res == VFU_REPLAY_SAME && e->chan == VFU_TRACE_MAIN) {
            if (!keep_socket(r, keep[k])) {
                cannot(r, i, "cannot set up the twin channel");
                res = VFU_REPLAY_LOCAL;
            }
        } else
            close(keep[k]);
    }
    return res;
}

/* ------------------------------------------------------------- compare --- */

static void dissect_indented(FILE *out, const char *label, const uint8_t *buf, size_t len,
                             unsigned nfds, enum vfu_role receiver)
{
    fprintf(out, "  %s (%zu bytes, %u fds):\n", label, len, nfds);
    char *txt = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&txt, &n);
    if (!m) return;
    struct vfu_dissect_opts o = {.nfds = nfds, .receiver = receiver};
    vfu_dissect(m, buf, len, &o, NULL);
    fclose(m);
    for (char *line = txt; line && *line;) {
        char *nl = strchr(line, '\n');
        size_t k = nl ? (size_t)(nl - line) : strlen(line);
        fputs("    ", out);
        vfr_each(out, line, k, vfr_put_term);
        fputc('\n', out);
        line = nl ? nl + 1 : NULL;
    }
    free(txt);
}

/* " (device_info.num_regions)": what byte k of a message is, by the
 * generated tables, or "" when it does not decode that far */
static void locate(const uint8_t *buf, size_t len, unsigned nfds, size_t k, char *out, size_t n)
{
    out[0] = '\0';
    struct vfu_msg m;
    struct vfu_dissect_opts o = {.nfds = nfds, .receiver = VFU_ROLE_CLIENT};
    vfu_dissect_decode(&m, buf, len, &o, NULL);
    if (k < VFU_HDR_SIZE || !m.payload) return;
    size_t pk = k - VFU_HDR_SIZE;
    for (unsigned i = 0; i < m.nparts; i++) {
        const struct vfu_part *p = &m.parts[i];
        if (pk < p->off || pk - p->off >= p->len) continue;
        if (p->kind != VFU_P_STRUCT) {
            snprintf(out, n, " (%s byte %zu)", p->field >= 0 ? vfu_field_name(p->field) : "tail",
                     pk - p->off);
            return;
        }
        const struct vfu_struct_desc *sd = vfu_struct(p->sid);
        for (unsigned j = 0; j < sd->nfields; j++) {
            const struct vfu_field_desc *f = vfu_field(sd->first_field + j);
            if ((f->kind == VFU_K_UINT || f->kind == VFU_K_BYTES) && pk - p->off >= f->offset &&
                pk - p->off < (size_t)f->offset + f->width) {
                snprintf(out, n, " (%s.%s)", sd->name, f->name);
                return;
            }
        }
    }
}

/* The first difference in words, or false when there is none. */
static bool difference(const struct vfu_trace_event *e, const struct vfu_conn *c, char *buf, size_t n)
{
    const uint8_t *a = e->bytes, *b = c->rbuf;
    size_t alen = e->len, blen = c->rlen;
    if (alen >= VFU_HDR_SIZE && blen >= VFU_HDR_SIZE) {
        const struct vfu_struct_desc *h = vfu_struct(VFU_S_HEADER);
        for (unsigned k = 0; k < h->nfields; k++) {
            const struct vfu_field_desc *f = vfu_field(h->first_field + k);
            if (f->kind != VFU_K_UINT) continue;
            uint64_t x = vfu_read_uint(a + f->offset, f->width), y = vfu_read_uint(b + f->offset, f->width);
            if (x != y) {
                snprintf(buf, n, "header %s: recorded 0x%llx, now 0x%llx", f->name,
                         (unsigned long long)x, (unsigned long long)y);
                return true;
            }
        }
    }
    size_t common = alen < blen ? alen : blen;
    for (size_t k = 0; k < common; k++)
        if (a[k] != b[k]) {
            char what[96];
            locate(a, alen, e->nfds, k, what, sizeof what);
            snprintf(buf, n, "byte %zu%s: recorded 0x%02x, now 0x%02x", k, what, a[k], b[k]);
            return true;
        }
    if (alen != blen) {
        snprintf(buf, n, "length: recorded %zu bytes, now %zu", alen, blen);
        return true;
    }
    if (e->nfds != c->nrfds) {
        snprintf(buf, n, "fds: recorded %u, now %u", e->nfds, c->nrfds);
        return true;
    }
    for (unsigned k = 0; k < e->nfds; k++) {
        uint64_t size;
        enum vfu_fd_kind kind = vfu_fd_kind_of(c->rfds[k], &size);
        if (kind != e->fds[k].kind || size != e->fds[k].size) {
            snprintf(buf, n, "fd %u: recorded %s (size %llu), now %s (size %llu)", k,
                     vfu_fd_kind_name(e->fds[k].kind), (unsigned long long)e->fds[k].size,
                     vfu_fd_kind_name(kind), (unsigned long long)size);
            return true;
        }
    }
    return false;
}

/* how the server is doing, when we were given it */
static void server_state(struct rp *r)
{
    if (!r->proc) return;
    /* a server that closed on us is usually on its way out: give it a moment */
    if (!vfu_proc_wait(r->proc, 500)) {
        fputs("  the server is still running\n", r->out);
        return;
    }
    const struct vfu_proc_status *st = vfu_proc_status(r->proc);
    char s[256];
    vfu_proc_status_str(st, s, sizeof s);
    fprintf(r->out, "  the server %s: %s\n",
            vfu_proc_verdict(st) == VFU_PROC_V_CRASHED ? "crashed" : "ended", s);
}

static enum vfu_replay_outcome recv_event(struct rp *r, size_t i)
{
    const struct vfu_trace_event *e = &r->t->ev[i];
    struct vfu_conn *c = r->chan[e->chan];
    if (!c) {
        cannot(r, i, "the twin channel is used, but no socket was sent for it");
        return VFU_REPLAY_BAD_TRACE;
    }
    struct vfu_error err;
    bool got = vfu_recv(c, &err);
    const enum vfu_role me = VFU_ROLE_CLIENT;
    if (e->has_err) {
        if (!got && err.code == e->err.code) return VFU_REPLAY_SAME;
        where(r, i);
        fputs("recorded a failure: ", r->out);
        err_text(r->out, &e->err);
        if (got) {
            fputs("\n  now a whole message came\n", r->out);
            dissect_indented(r->out, "now", c->rbuf, c->rlen, c->nrfds, me);
        } else {
            fputs("\n  now: ", r->out);
            err_text(r->out, &err);
            fputc('\n', r->out);
        }
        if (e->len) dissect_indented(r->out, "recorded (cut short)", e->bytes, e->len, e->nfds, me);
        return VFU_REPLAY_DIVERGED;
    }
    if (!got) {
        where(r, i);
        if (err.code == VFU_E_EOF && c->rlen == 0) fputs("the server closed the connection\n", r->out);
        else if (err.code == VFU_E_TIMEOUT && c->rlen == 0)
            fprintf(r->out, "nothing came within %d ms\n", r->timeout_ms);
        else {
            fputs("the message failed: ", r->out);
            err_text(r->out, &err);
            fputc('\n', r->out);
        }
        dissect_indented(r->out, "recorded", e->bytes, e->len, e->nfds, me);
        if (err.code == VFU_E_EOF || err.code == VFU_E_TIMEOUT) server_state(r);
        if (c->rlen) return VFU_REPLAY_DIVERGED;
        return err.code == VFU_E_EOF ? VFU_REPLAY_CLOSED
             : err.code == VFU_E_TIMEOUT ? VFU_REPLAY_TIMEOUT : VFU_REPLAY_DIVERGED;
    }
    char diff[256];
    if (!difference(e, c, diff, sizeof diff)) return VFU_REPLAY_SAME;
    where(r, i);
    fprintf(r->out, "the message differs: %s\n", diff);
    dissect_indented(r->out, "recorded", e->bytes, e->len, e->nfds, me);
    dissect_indented(r->out, "now", c->rbuf, c->rlen, c->nrfds, me);
    return VFU_REPLAY_DIVERGED;
}

/* ----------------------------------------------------------------- run --- */

/* room for the largest recorded message and fd count */
static bool fit_limits(struct rp *r, struct vfu_conn *c)
{
    struct vfu_limits lim = c->lim;
    for (size_t i = 0; i < r->t->n; i++) {
        const struct vfu_trace_event *e = &r->t->ev[i];
        if (e->dir != VFU_TRACE_RX) continue;
        if (e->len > lim.max_msg_size) lim.max_msg_size = (uint32_t)e->len;
        if (e->nfds > lim.max_fds) lim.max_fds = e->nfds;
    }
    if (lim.max_msg_size == c->lim.max_msg_size && lim.max_fds == c->lim.max_fds) return true;
    struct vfu_error err;
    if (vfu_conn_set_limits(c, &lim, &err)) return true;
    char es[256];
    vfu_error_str(&err, es, sizeof es);
    cannot(r, (size_t)-1, "cannot raise the receive limits: %s", es);
    return false;
}

static enum vfu_replay_outcome replay(const struct vfu_trace *t, struct vfu_conn *c, FILE *out,
                                      const struct vfu_replay_opts *o, char *why, size_t whyn)
{
    struct rp r = {
        .t = t,
        .out = out,
        .timeout_ms = o && o->timeout_ms > 0 ? o->timeout_ms : VFU_REPLAY_DEFAULT_TIMEOUT_MS,
        .proc = o ? o->proc : NULL,
        .chan = {c, NULL},
        .why = why,
        .whyn = whyn,
    };
    c->timeout_ms = r.timeout_ms;
    if (!fit_limits(&r, c)) return VFU_REPLAY_LOCAL;
    enum vfu_replay_outcome res = VFU_REPLAY_SAME;
    size_t i = 0;
    for (; i < t->n; i++) {
        res = t->ev[i].dir == VFU_TRACE_TX ? send_event(&r, i) : recv_event(&r, i);
        if (res != VFU_REPLAY_SAME) break;
    }
    vfu_conn_close_fds(c);
    if (r.have_twin) vfu_conn_close(&r.twin);

    if (res == VFU_REPLAY_SAME) {
        fprintf(out, "replayed %zu event%s: the server answered as recorded\n", t->n, t->n == 1 ? "" : "s");
        if (t->truncated)
            fprintf(out, "note: the trace was truncated (%s); %llu later events were not recorded\n",
                    t->trunc_reason, (unsigned long long)t->dropped_events);
    } else
        fprintf(out, "replay stopped at event %zu of %zu: %s\n", i, t->n, vfr_replay_outcome_name(res));
    return res;
}

enum vfu_replay_outcome vfr_replay_trace(const struct vfu_trace *t, struct vfu_conn *c, FILE *out,
                                         const struct vfu_replay_opts *o)
{
    return replay(t, c, out, o, NULL, 0);
}

static enum vfu_replay_outcome replay_path(const char *path, struct vfu_conn *c, FILE *out,
                                           const struct vfu_replay_opts *o, char *why, size_t whyn)
{
    struct vfu_trace t;
    char rwhy[512];
    if (!vfu_trace_load(path, &t, rwhy, sizeof rwhy)) {
        fputs("cannot read the trace: ", out);
        vfr_each_str(out, rwhy, vfr_put_term);
        fputc('\n', out);
        if (whyn) snprintf(why, whyn, "%s", rwhy);
        return VFU_REPLAY_BAD_TRACE;
    }
    enum vfu_replay_outcome res = replay(&t, c, out, o, why, whyn);
    vfu_trace_release(&t);
    return res;
}

enum vfu_replay_outcome vfr_replay_file(const char *path, struct vfu_conn *c, FILE *out,
                                        const struct vfu_replay_opts *o)
{
    return replay_path(path, c, out, o, NULL, 0);
}

int vfr_replay_run(const char *path, struct vfu_conn *c, FILE *out, int timeout_ms, char *why,
                   size_t whyn)
{
    if (whyn) why[0] = '\0';
    struct vfu_replay_opts o = {.timeout_ms = timeout_ms};
    int st = vfr_replay_exit_status(replay_path(path, c, out, &o, why, whyn));
    return st == 2 ? -1 : st;
}
