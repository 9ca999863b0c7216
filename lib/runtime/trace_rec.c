/* Trace recorder: events are encoded as they happen into one buffer that
 * never grows past the cap (plus the few bytes of one event's framing), so
 * a trace costs what it holds and writing it is a copy.  Once an event does
 * not fit, recording stops for good: a trace with a hole in the middle
 * could not be replayed. */
#include "trace.h"

#include <cbor.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "trace_keys.h"
#include "utf8.h"

/* ------------------------------------------------------- CBOR writing --- */

struct cb {
    uint8_t *p;
    size_t len, cap;
    size_t limit;   /* the buffer never grows past this */
    bool fail;
    bool over;      /* the failure was the limit, not the allocator */
};

static bool cb_reserve(struct cb *b, size_t n)
{
    if (b->fail) return false;
    if (n <= b->cap - b->len) return true;
    if (b->len > b->limit || n > b->limit - b->len) {
        b->fail = b->over = true;
        return false;
    }
    size_t want = b->cap ? b->cap : 256;
    while (want - b->len < n) want = want > b->limit / 2 ? b->limit : want * 2;
    uint8_t *q = realloc(b->p, want);
    if (!q) { b->fail = true; return false; }
    b->p = q;
    b->cap = want;
    return true;
}

/* every CBOR head fits in 9 bytes */
#define HEAD(b, call)                                                   \
    do {                                                                \
        if (cb_reserve((b), 9)) {                                       \
            size_t k_ = call;                                           \
            if (k_) (b)->len += k_; else (b)->fail = true;              \
        }                                                               \
    } while (0)

static void put_uint(struct cb *b, uint64_t v) { HEAD(b, cbor_encode_uint(v, b->p + b->len, 9)); }
static void put_map(struct cb *b, size_t n) { HEAD(b, cbor_encode_map_start(n, b->p + b->len, 9)); }
static void put_array(struct cb *b, size_t n) { HEAD(b, cbor_encode_array_start(n, b->p + b->len, 9)); }

static void put_raw(struct cb *b, const void *p, size_t n)
{
    if (n && cb_reserve(b, n)) {
        memcpy(b->p + b->len, p, n);
        b->len += n;
    }
}

static void put_bytes(struct cb *b, const void *p, size_t n)
{
    HEAD(b, cbor_encode_bytestring_start(n, b->p + b->len, 9));
    put_raw(b, p, n);
}

/* s must be well-formed UTF-8 (all recorder strings are sanitized on entry) */
static void put_text(struct cb *b, const char *s)
{
    size_t n = strlen(s);
    HEAD(b, cbor_encode_string_start(n, b->p + b->len, 9));
    put_raw(b, s, n);
}

static void put_kv_text(struct cb *b, const char *k, const char *v) { put_text(b, k); put_text(b, v); }
static void put_kv_uint(struct cb *b, const char *k, uint64_t v) { put_text(b, k); put_uint(b, v); }

/* --------------------------------------------------------------- fds --- */

static const char *const fd_kind_names[] = {
    [VFU_FDK_OTHER] = "other", [VFU_FDK_MEMFD] = "memfd", [VFU_FDK_FILE] = "file",
    [VFU_FDK_EVENTFD] = "eventfd", [VFU_FDK_SOCKET] = "socket",
};

const char *vfu_fd_kind_name(enum vfu_fd_kind k)
{
    return (unsigned)k < sizeof fd_kind_names / sizeof *fd_kind_names ? fd_kind_names[k] : NULL;
}

enum vfu_fd_kind vfu_fd_kind_of(int fd, uint64_t *size)
{
    struct stat st;
    *size = 0;
    if (fd < 0 || fstat(fd, &st) != 0) return VFU_FDK_OTHER;
    if (S_ISSOCK(st.st_mode)) return VFU_FDK_SOCKET;
    if (S_ISREG(st.st_mode)) {
        *size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
        /* only shared-memory files (memfd, and tmpfs files alike) have seals */
        return fcntl(fd, F_GET_SEALS) >= 0 ? VFU_FDK_MEMFD : VFU_FDK_FILE;
    }
    /* an eventfd is an anonymous inode; only its /proc link says which kind */
    char link[32], target[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t k = readlink(link, target, sizeof target - 1);
    if (k > 0) {
        target[k] = '\0';
        if (strcmp(target, "anon_inode:[eventfd]") == 0) return VFU_FDK_EVENTFD;
    }
    return VFU_FDK_OTHER;
}

/* ------------------------------------------------------------ tracer --- */

struct chan_ctx {
    struct vfu_tracer *t;
    unsigned chan;
};

struct vfu_tracer {
    char *tool, *scenario, *server, *caps;
    char start[40];
    struct timespec t0;
    uint64_t last_t;
    struct cb ev;          /* encoded events */
    size_t n;
    size_t cap;
    bool truncated;
    uint64_t trunc_t, dropped_events, dropped_bytes;
    const char *trunc_reason;
    struct chan_ctx chans[VFU_TRACE_NCHAN];
};

/* a sanitized, bounded copy; NULL in gives NULL, and so does no memory
 * (the field is then absent, which the schema allows) */
static char *meta_dup(const char *s)
{
    if (!s) return NULL;
    size_t n = strnlen(s, VFU_TRACE_MAX_META);
    /* replacement characters may make it longer than the input: bound again */
    size_t need = vfu_utf8_sanitize(s, n, NULL, 0);
    if (need > VFU_TRACE_MAX_META) need = VFU_TRACE_MAX_META;
    char *d = malloc(need + 1);
    if (d) vfu_utf8_sanitize(s, n, d, need + 1);
    return d;
}

struct vfu_tracer *vfu_tracer_new(const struct vfu_trace_meta *m, size_t cap)
{
    struct vfu_tracer *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    static const struct vfu_trace_meta none;
    if (!m) m = &none;
    t->tool = meta_dup(m->tool ? m->tool : "vfu-conform");
    t->scenario = meta_dup(m->scenario);
    t->server = meta_dup(m->server);
    t->caps = meta_dup(m->caps);
    if (!t->tool) { vfu_tracer_free(t); return NULL; }
    t->cap = cap == 0 ? VFU_TRACE_DEFAULT_CAP : cap > VFU_TRACE_MAX_CAP ? VFU_TRACE_MAX_CAP : cap;
    /* the limit leaves room for the heads of the event that may not fit,
     * which is then rolled back */
    t->ev.limit = t->cap + 4096;
    for (unsigned i = 0; i < VFU_TRACE_NCHAN; i++) t->chans[i] = (struct chan_ctx){t, i};

    struct timespec wall;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &wall);
    clock_gettime(CLOCK_MONOTONIC, &t->t0);
    gmtime_r(&wall.tv_sec, &tm);
    size_t k = strftime(t->start, sizeof t->start, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(t->start + k, sizeof t->start - k, ".%06ldZ", wall.tv_nsec / 1000);
    return t;
}

void vfu_tracer_free(struct vfu_tracer *t)
{
    if (!t) return;
    free(t->tool);
    free(t->scenario);
    free(t->server);
    free(t->caps);
    free(t->ev.p);
    free(t);
}

static void hook_fn(void *ctx, enum vfu_trace_dir dir, const uint8_t *buf, size_t len,
                    const int *fds, unsigned nfds, const struct vfu_error *err)
{
    struct chan_ctx *c = ctx;
    vfu_tracer_record(c->t, c->chan, dir, buf, len, fds, nfds, err);
}

struct vfu_trace_hook vfu_tracer_hook(struct vfu_tracer *t, unsigned chan)
{
    if (!t || chan >= VFU_TRACE_NCHAN) return (struct vfu_trace_hook){NULL, NULL};
    return (struct vfu_trace_hook){hook_fn, &t->chans[chan]};
}

static uint64_t now_ns(struct vfu_tracer *t)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t d = (int64_t)(ts.tv_sec - t->t0.tv_sec) * 1000000000 + (ts.tv_nsec - t->t0.tv_nsec);
    uint64_t v = d > 0 ? (uint64_t)d : 0;
    if (v < t->last_t) v = t->last_t;
    t->last_t = v;
    return v;
}

static void drop(struct vfu_tracer *t, uint64_t when, size_t len, const char *reason)
{
    if (!t->truncated) {
        t->truncated = true;
        t->trunc_t = when;
        t->trunc_reason = reason;
    }
    t->dropped_events++;
    t->dropped_bytes += len;
}

static void put_err(struct cb *b, const struct vfu_error *e)
{
    bool io = e->code == VFU_E_IO;
    bool cmd = e->cmd >= 0;
    put_map(b, 3 + io + cmd);
    put_kv_text(b, TK_CODE, vfu_errc_name(e->code));
    put_kv_uint(b, TK_GOT, e->got);
    put_kv_uint(b, TK_WANT, e->want);
    if (io) put_kv_uint(b, TK_ERRNO, e->sys_errno > 0 ? (uint64_t)e->sys_errno : 0);
    if (cmd) put_kv_uint(b, TK_CMD, (uint64_t)e->cmd);
}

void vfu_tracer_record(struct vfu_tracer *t, unsigned chan, enum vfu_trace_dir dir,
                       const uint8_t *buf, size_t len, const int *fds, unsigned nfds,
                       const struct vfu_error *err)
{
    if (!t || chan >= VFU_TRACE_NCHAN) return;
    uint64_t when = now_ns(t);
    if (t->truncated) { drop(t, when, len, NULL); return; }
    if (t->n >= VFU_TRACE_MAX_EVENTS) { drop(t, when, len, "events"); return; }
    if (len > t->cap || t->ev.len > t->cap - len) { drop(t, when, len, "cap"); return; }
    if (nfds > VFU_MAX_FDS) nfds = VFU_MAX_FDS;

    size_t mark = t->ev.len;
    struct cb *b = &t->ev;
    put_map(b, 4 + (nfds > 0) + (err != NULL));
    put_kv_uint(b, TK_T, when);
    put_kv_text(b, TK_DIR, dir == VFU_TRACE_TX ? TV_TX : TV_RX);
    put_kv_uint(b, TK_CHAN, chan);
    put_text(b, TK_BYTES);
    put_bytes(b, buf, len);
    if (nfds) {
        put_text(b, TK_FDS);
        put_array(b, nfds);
        for (unsigned i = 0; i < nfds; i++) {
            uint64_t size;
            enum vfu_fd_kind k = vfu_fd_kind_of(fds[i], &size);
            bool sized = k == VFU_FDK_MEMFD || k == VFU_FDK_FILE;
            put_map(b, 1 + sized);
            put_kv_text(b, TK_KIND, vfu_fd_kind_name(k));
            if (sized) put_kv_uint(b, TK_SIZE, size);
        }
    }
    if (err) {
        put_text(b, TK_ERR);
        put_err(b, err);
    }
    if (b->fail || b->len > t->cap) {
        const char *why = b->fail && !b->over ? "nomem" : "cap";
        b->fail = b->over = false;
        b->len = mark;
        drop(t, when, len, why);
        return;
    }
    t->n++;
}

bool vfu_tracer_set_caps(struct vfu_tracer *t, const char *json)
{
    char *d = meta_dup(json);
    if (json && !d) return false;
    free(t->caps);
    t->caps = d;
    return true;
}

size_t vfu_tracer_count(const struct vfu_tracer *t) { return t->n; }
bool vfu_tracer_truncated(const struct vfu_tracer *t) { return t->truncated; }

/* everything before the events' contents, and everything after */
static bool encode_parts(const struct vfu_tracer *t, struct cb *head, struct cb *tail)
{
    *head = (struct cb){.limit = 8 * VFU_TRACE_MAX_META};
    *tail = (struct cb){.limit = 4096};
    put_map(head, 4 + t->truncated);
    put_kv_text(head, TK_FORMAT, VFU_TRACE_FORMAT);
    put_kv_uint(head, TK_VERSION, VFU_TRACE_VERSION);
    put_text(head, TK_META);
    put_map(head, 3 + !!t->scenario + !!t->server + !!t->caps);
    put_kv_text(head, TK_TOOL, t->tool);
    put_kv_text(head, TK_START, t->start);
    put_kv_uint(head, TK_CAP, t->cap);
    if (t->scenario) put_kv_text(head, TK_SCENARIO, t->scenario);
    if (t->server) put_kv_text(head, TK_SERVER, t->server);
    if (t->caps) put_kv_text(head, TK_CAPS, t->caps);
    put_text(head, TK_EVENTS);
    put_array(head, t->n);
    if (t->truncated) {
        put_text(tail, TK_TRUNCATED);
        put_map(tail, 4);
        put_kv_uint(tail, TK_T, t->trunc_t);
        put_kv_uint(tail, TK_EVCOUNT, t->dropped_events);
        put_kv_uint(tail, TK_BYTECOUNT, t->dropped_bytes);
        put_kv_text(tail, TK_REASON, t->trunc_reason);
    }
    if (head->fail || tail->fail) {
        free(head->p);
        free(tail->p);
        return false;
    }
    return true;
}

bool vfu_tracer_encode(const struct vfu_tracer *t, uint8_t **out, size_t *len)
{
    struct cb head, tail;
    if (!encode_parts(t, &head, &tail)) return false;
    size_t n = head.len + t->ev.len + tail.len;
    uint8_t *p = malloc(n ? n : 1);
    if (p) {
        memcpy(p, head.p, head.len);
        if (t->ev.len) memcpy(p + head.len, t->ev.p, t->ev.len);
        if (tail.len) memcpy(p + head.len + t->ev.len, tail.p, tail.len);
        *out = p;
        *len = n;
    }
    free(head.p);
    free(tail.p);
    return p != NULL;
}

static bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

bool vfu_tracer_write(const struct vfu_tracer *t, const char *path, struct vfu_error *err)
{
    struct cb head, tail;
    if (!encode_parts(t, &head, &tail)) {
        vfu_error_set(err, VFU_E_NOMEM, -1, -1, 0, 0);
        return false;
    }
    /* written beside the target and renamed over it: a reader never sees
     * half a trace, and a failure leaves whatever was there */
    size_t pn = strlen(path);
    char *tmp = malloc(pn + 8);
    int fd = -1, e = ENOMEM;
    bool ok = false;
    if (tmp) {
        memcpy(tmp, path, pn);
        memcpy(tmp + pn, ".XXXXXX", 8);
        fd = mkostemp(tmp, O_CLOEXEC);
        e = errno;
    }
    if (fd >= 0) {
        ok = fchmod(fd, 0644) == 0 && write_all(fd, head.p, head.len) &&
             write_all(fd, t->ev.p, t->ev.len) && write_all(fd, tail.p, tail.len);
        e = errno;
        if (close(fd) != 0 && ok) { ok = false; e = errno; }
        if (ok && rename(tmp, path) != 0) { ok = false; e = errno; }
        if (!ok) unlink(tmp);
    }
    if (!ok) {
        vfu_error_set(err, tmp ? VFU_E_IO : VFU_E_NOMEM, -1, -1, 0, 0);
        if (err) err->sys_errno = e;
    }
    free(tmp);
    free(head.p);
    free(tail.p);
    return ok;
}
