/* `replay --print`: a trace as one line per event.  The trace was recorded
 * by the client, so what it sent (tx) is judged as received by a server and
 * what it received (rx) as received by a client.  Every string from the
 * file goes through the terminal escaper: a trace is untrusted input. */
#include "replay.h"

#include "vfu_dissect.h"
#include "report_text.h"

static void text(FILE *out, const char *s) { vfr_each_str(out, s, vfr_put_term); }

/* "memfd(16384) eventfd" */
static void fds(FILE *out, const struct vfu_trace_fd *f, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        fprintf(out, "%s%s", i ? " " : "  fds: ", vfu_fd_kind_name(f[i].kind));
        if (f[i].kind == VFU_FDK_MEMFD || f[i].kind == VFU_FDK_FILE)
            fprintf(out, "(%llu)", (unsigned long long)f[i].size);
    }
}

void vfr_replay_print_trace(FILE *out, const struct vfu_trace *t)
{
    fputs("trace", out);
    if (t->scenario) { fputs(" of ", out); text(out, t->scenario); }
    fputs(", recorded by ", out);
    text(out, t->tool);
    fputs(" at ", out);
    text(out, t->start);
    fputc('\n', out);
    if (t->server) { fputs("server: ", out); text(out, t->server); fputc('\n', out); }
    if (t->caps) { fputs("capabilities: ", out); text(out, t->caps); fputc('\n', out); }
    fputs("    #         time          gap  dir chan  message\n", out);
    uint64_t prev = 0;
    for (size_t i = 0; i < t->n; i++) {
        const struct vfu_trace_event *e = &t->ev[i];
        fprintf(out, "%5zu %12.6f %+12.6f  %s  %s  ", i, (double)e->t_ns / 1e9,
                (double)(e->t_ns - prev) / 1e9, e->dir == VFU_TRACE_TX ? "tx" : "rx",
                e->chan == VFU_TRACE_TWIN ? "twin" : "main");
        prev = e->t_ns;
        if (e->len) {
            struct vfu_dissect_opts o = {
                .nfds = e->nfds,
                .receiver = e->dir == VFU_TRACE_TX ? VFU_ROLE_SERVER : VFU_ROLE_CLIENT,
            };
            char s[512];
            vfu_summarize(e->bytes, e->len, &o, s, sizeof s, NULL);
            text(out, s);
        } else
            fputs("(no bytes)", out);
        fds(out, e->fds, e->nfds);
        if (e->has_err) {
            char es[256];
            vfu_error_str(&e->err, es, sizeof es);
            fprintf(out, "  failed after %zu bytes: ", e->len);
            text(out, es);
        }
        fputc('\n', out);
    }
    fprintf(out, "%zu event%s\n", t->n, t->n == 1 ? "" : "s");
    if (t->truncated)
        fprintf(out, "truncated (%s): %llu more event%s (%llu bytes) not recorded, from %.6f s on\n",
                t->trunc_reason, (unsigned long long)t->dropped_events,
                t->dropped_events == 1 ? "" : "s", (unsigned long long)t->dropped_bytes,
                (double)t->trunc_t / 1e9);
}

int vfr_replay_print(const char *path, FILE *out, char *why, size_t whyn)
{
    struct vfu_trace t;
    if (!vfu_trace_load(path, &t, why, whyn)) return -1;
    vfr_replay_print_trace(out, &t);
    vfu_trace_release(&t);
    return 0;
}
