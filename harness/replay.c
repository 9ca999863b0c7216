/* Trace replay; see replay.h. */
#include "replay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dissect.h"
#include "trace.h"

static void summary(const uint8_t *b, size_t len, unsigned nfds, char *out, size_t n)
{
    struct vfu_dissect_opts o = {.nfds = nfds, .receiver = VFU_ROLE_ANY};
    vfu_summarize(b, len, &o, out, n, NULL);
}

int vfu_replay_print(const char *path, FILE *out, char *why, size_t whyn)
{
    struct vfu_trace t;
    if (!vfu_trace_load(path, &t, why, whyn)) return -1;
    fprintf(out, "trace of %s by %s, started %s\n", t.scenario ? t.scenario : "(no scenario)", t.tool,
            t.start);
    if (t.server) fprintf(out, "server: %s\n", t.server);
    if (t.caps) fprintf(out, "negotiated: %s\n", t.caps);
    for (size_t i = 0; i < t.n; i++) {
        const struct vfu_trace_event *e = &t.ev[i];
        char s[512];
        summary(e->bytes, e->len, e->nfds, s, sizeof s);
        fprintf(out, "%10.3f ms %s %s %s", (double)e->t_ns / 1e6, e->dir == VFU_TRACE_TX ? "->" : "<-",
                e->chan ? "twin" : "main", s);
        for (unsigned k = 0; k < e->nfds; k++)
            fprintf(out, "%s%s", k ? "," : " fds=", vfu_fd_kind_name(e->fds[k].kind));
        if (e->has_err) {
            char es[256];
            vfu_error_str(&e->err, es, sizeof es);
            fprintf(out, "  [failed: %s]", es);
        }
        fputc('\n', out);
    }
    if (t.truncated)
        fprintf(out, "truncated (%s): %llu more events, %llu bytes not recorded\n", t.trunc_reason,
                (unsigned long long)t.dropped_events, (unsigned long long)t.dropped_bytes);
    fprintf(out, "%zu events\n", t.n);
    vfu_trace_release(&t);
    return 0;
}

/* A stand-in for a recorded fd; the peer gets it, we close our copy. */
static int make_fd(const struct vfu_trace_fd *f, int *keep)
{
    *keep = -1;
    switch (f->kind) {
    case VFU_FDK_MEMFD:
    case VFU_FDK_FILE: {
        int fd = memfd_create("vfu-replay", MFD_CLOEXEC);
        if (fd >= 0 && ftruncate(fd, (off_t)f->size) < 0) {
            close(fd);
            return -1;
        }
        return fd;
    }
    case VFU_FDK_EVENTFD:
        return eventfd(0, EFD_CLOEXEC);
    case VFU_FDK_SOCKET: {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return -1;
        *keep = sv[1];
        return sv[0];
    }
    default:
        return open("/dev/null", O_RDWR | O_CLOEXEC);
    }
}

static bool send_event(struct vfu_conn *c, const struct vfu_trace_event *e, int *kept, unsigned *nkept,
                       char *why, size_t whyn)
{
    int fds[VFU_MAX_FDS];
    unsigned n = 0;
    bool ok = true;
    for (; n < e->nfds && n < VFU_MAX_FDS; n++) {
        int keep;
        fds[n] = make_fd(&e->fds[n], &keep);
        if (fds[n] < 0) {
            snprintf(why, whyn, "cannot make a %s fd: %s", vfu_fd_kind_name(e->fds[n].kind), strerror(errno));
            ok = false;
            break;
        }
        if (keep >= 0 && *nkept < VFU_MAX_FDS) kept[(*nkept)++] = keep;
        else if (keep >= 0) close(keep);
    }
    struct vfu_error err;
    if (ok && !vfu_send(c, e->bytes, e->len, fds, n, &err)) {
        char es[256];
        vfu_error_str(&err, es, sizeof es);
        snprintf(why, whyn, "send failed: %s", es);
        ok = false;
    }
    for (unsigned i = 0; i < n; i++) close(fds[i]);
    return ok;
}

/* bytes that may differ between two correct runs: none in the header but
 * what the server chooses, so header and payload are compared whole */
static bool same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

int vfu_replay_run(const char *path, struct vfu_conn *c, FILE *out, int timeout_ms, char *why,
                   size_t whyn)
{
    struct vfu_trace t;
    if (!vfu_trace_load(path, &t, why, whyn)) return -1;
    int kept[VFU_MAX_FDS];
    unsigned nkept = 0, diverged = 0, twin = 0;
    int rc = 0;
    c->timeout_ms = timeout_ms;
    for (size_t i = 0; i < t.n && rc >= 0; i++) {
        const struct vfu_trace_event *e = &t.ev[i];
        if (e->chan != VFU_TRACE_MAIN) {
            twin++;
            continue;
        }
        if (e->dir == VFU_TRACE_TX) {
            if (!send_event(c, e, kept, &nkept, why, whyn)) rc = -1;
            continue;
        }
        /* what the server sent at this point of the recording */
        struct vfu_error err;
        bool got = vfu_recv(c, &err);
        char want[512], have[512];
        summary(e->bytes, e->len, e->nfds, want, sizeof want);
        if (e->has_err && (e->err.code == VFU_E_EOF || e->err.code == VFU_E_TIMEOUT)) {
            /* the recording ended in the server closing or going quiet */
            if (got) {
                summary(c->rbuf, c->rlen, c->nrfds, have, sizeof have);
                fprintf(out, "event %zu: recorded %s, now the server sent: %s\n", i,
                        vfu_errc_name(e->err.code), have);
                diverged++;
            } else if (err.code != e->err.code) {
                fprintf(out, "event %zu: recorded %s, now %s\n", i, vfu_errc_name(e->err.code),
                        vfu_errc_name(err.code));
                diverged++;
            }
            break;
        }
        if (!got) {
            char es[256];
            vfu_error_str(&err, es, sizeof es);
            fprintf(out, "event %zu: recorded %s\n  now: %s\n", i, want, es);
            diverged++;
            break;
        }
        if (!same(c->rbuf, c->rlen, e->bytes, e->len) || c->nrfds != e->nfds) {
            summary(c->rbuf, c->rlen, c->nrfds, have, sizeof have);
            fprintf(out, "event %zu differs:\n  recorded: %s (fds %u)\n  now:      %s (fds %u)\n", i, want,
                    e->nfds, have, c->nrfds);
            diverged++;
        }
    }
    vfu_conn_close_fds(c);
    for (unsigned i = 0; i < nkept; i++) close(kept[i]);
    if (twin) fprintf(out, "note: %u twin-socket events were not replayed\n", twin);
    if (rc == 0) {
        fprintf(out, "%s: %u divergence%s\n", diverged ? "diverged" : "reproduced as recorded", diverged,
                diverged == 1 ? "" : "s");
        rc = diverged ? 1 : 0;
    }
    vfu_trace_release(&t);
    return rc;
}
