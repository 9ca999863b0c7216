/* The progress and summary line both fuzzing sides print.  Made whole in
 * memory and written at once: stderr is unbuffered, and with --jobs every
 * instance writes to the same stderr, so a line written in pieces came out
 * with another instance's pieces inside it. */
#include <stdarg.h>
#include <stdio.h>

#include "vfu_fuzz.h"

struct line { char buf[512]; size_t n; };

static void put(struct line *l, const char *fmt, ...)
{
    if (l->n >= sizeof l->buf) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(l->buf + l->n, sizeof l->buf - l->n, fmt, ap);
    va_end(ap);
    if (k > 0) l->n += (size_t)k;
}

void fz_stats_line(FILE *out, const char *end, const struct fz_stats *st)
{
    struct line l = {.n = 0};
    bool cr = end[0] == '\r';
    put(&l, "%s%lu sessions, %.*f/s, queue %zu, ", cr ? "\r" : "", st->sessions, st->rate_decimals,
        st->elapsed > 0 ? (double)st->sessions / st->elapsed : 0.0, st->queued);
    if (st->cov->afl && st->cov->afl_edges) put(&l, "edges %lu, ", st->cov->afl_edges);
    else put(&l, "edges - (not instrumented), ");
    put(&l, "tuples %lu, findings %u (", st->cov->behav_tuples, st->f->n);
    bool first = true;
    for (int k = 1; k < FZ__KINDS; k++)
        if (st->f->by_kind[k]) {
            put(&l, "%s%s %lu", first ? "" : ", ", fz_kind_name(k), st->f->by_kind[k]);
            first = false;
        }
    put(&l, ")");
    if (st->restarts) put(&l, ", restarts %lu", *st->restarts);
    /* a progress line is overwritten by the next: padding covers a longer
     * predecessor's tail */
    put(&l, "%s", cr ? "   " : "\n");
    fputs(l.buf, out);
    fflush(out);
}
