/* Wire traces: what the recorder sees through the transport hook comes back
 * from the file exactly (bytes, direction, channel, fds by kind, failures,
 * metadata), the cap ends recording with a marker, and the reader turns
 * away every cut, flipped or hand-made hostile document with a reason,
 * without leaking or crashing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cbor.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "trace.h"
#include "transport_util.h"

static int make_memfd(size_t size)
{
    int fd = memfd_create("trace-test", MFD_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)size), 0);
    return fd;
}

static int make_file(char *path, size_t n, size_t size)
{
    snprintf(path, n, "/tmp/vfu-trace-file-XXXXXX");
    int fd = mkostemp(path, O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)size), 0);
    return fd;
}

static void fd_kinds(void **state)
{
    (void)state;
    uint64_t size;
    int m = make_memfd(12288);
    assert_int_equal(vfu_fd_kind_of(m, &size), VFU_FDK_MEMFD);
    assert_int_equal(size, 12288);
    char path[64];
    int f = make_file(path, sizeof path, 100);
    assert_int_equal(vfu_fd_kind_of(f, &size), VFU_FDK_FILE);
    assert_int_equal(size, 100);
    unlink(path);
    int e = eventfd(0, EFD_CLOEXEC);
    assert_int_equal(vfu_fd_kind_of(e, &size), VFU_FDK_EVENTFD);
    assert_int_equal(size, 0);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(vfu_fd_kind_of(sv[0], &size), VFU_FDK_SOCKET);
    int dn = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_int_equal(vfu_fd_kind_of(dn, &size), VFU_FDK_OTHER);
    assert_int_equal(vfu_fd_kind_of(-1, &size), VFU_FDK_OTHER);
    close(m); close(f); close(e); close(sv[0]); close(sv[1]); close(dn);
    assert_string_equal(vfu_fd_kind_name(VFU_FDK_EVENTFD), "eventfd");
    assert_null(vfu_fd_kind_name((enum vfu_fd_kind)99));
}

/* A small trace through a real transport: a REGION_WRITE with four fds of
 * different kinds goes out on main, a reply comes back, a twin message, and
 * the peer closes (EOF recorded as a failed receive). */
static struct vfu_tracer *record_session(uint8_t *sent, size_t *sent_len)
{
    struct vfu_trace_meta meta = {.tool = "vfu-conform test", .scenario = "DMA_MAP.overlap.EEXIST",
                                  .server = "./mydevice --opt \"x\"", .caps = "{\"max_msg_fds\":8}"};
    struct vfu_tracer *t = vfu_tracer_new(&meta, 0);
    assert_non_null(t);
    struct vfu_conn a, b;
    assert_true(conn_pair(&a, &b));
    a.trace = vfu_tracer_hook(t, VFU_TRACE_MAIN);
    a.timeout_ms = 1000;

    struct vfu_enc e;
    size_t len = enc_region_write(&e, sent, 512, 7, 33);
    assert_true(len > 0);
    *sent_len = len;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    int fds[4] = {make_memfd(0x4000), eventfd(0, EFD_CLOEXEC), sv[1], open("/dev/null", O_RDONLY | O_CLOEXEC)};
    struct vfu_error err;
    b.lim.max_fds = 8;
    assert_true(vfu_send(&a, sent, len, fds, 4, &err));
    for (int i = 0; i < 4; i++) close(fds[i]);
    close(sv[0]);
    assert_true(vfu_recv(&b, &err));

    uint8_t rep[64];
    vfu_enc_begin(&e, rep, sizeof rep, VFU_CMD_REGION_WRITE, true, 7);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_COUNT, 33);
    assert_true(vfu_enc_finish(&e, &err));
    assert_true(vfu_send_enc(&b, &e, &err));
    assert_true(vfu_recv(&a, &err));

    /* the twin channel, recorded straight through the recorder's entry */
    vfu_tracer_record(t, VFU_TRACE_TWIN, VFU_TRACE_RX, rep, e.len, NULL, 0, NULL);

    vfu_conn_close(&b);
    assert_false(vfu_recv(&a, &err));
    assert_int_equal(err.code, VFU_E_EOF);
    /* the transport tells its hook only of messages that failed part way;
     * a close at a message boundary is recorded by whoever saw it */
    vfu_tracer_record(t, VFU_TRACE_MAIN, VFU_TRACE_RX, NULL, 0, NULL, 0, &err);
    vfu_conn_close(&a);
    return t;
}

static void check_session(const struct vfu_trace *tr, const uint8_t *sent, size_t sent_len)
{
    assert_int_equal(tr->version, VFU_TRACE_VERSION);
    assert_string_equal(tr->tool, "vfu-conform test");
    assert_string_equal(tr->scenario, "DMA_MAP.overlap.EEXIST");
    assert_string_equal(tr->server, "./mydevice --opt \"x\"");
    assert_string_equal(tr->caps, "{\"max_msg_fds\":8}");
    assert_int_equal(tr->cap, VFU_TRACE_DEFAULT_CAP);
    /* RFC 3339 UTC with microseconds */
    assert_int_equal(strlen(tr->start), 27);
    assert_int_equal(tr->start[10], 'T');
    assert_int_equal(tr->start[26], 'Z');
    assert_false(tr->truncated);
    assert_int_equal(tr->n, 4);

    const struct vfu_trace_event *e = tr->ev;
    assert_int_equal(e[0].dir, VFU_TRACE_TX);
    assert_int_equal(e[0].chan, VFU_TRACE_MAIN);
    assert_int_equal(e[0].len, sent_len);
    assert_memory_equal(e[0].bytes, sent, sent_len);
    assert_int_equal(e[0].nfds, 4);
    assert_int_equal(e[0].fds[0].kind, VFU_FDK_MEMFD);
    assert_int_equal(e[0].fds[0].size, 0x4000);
    assert_int_equal(e[0].fds[1].kind, VFU_FDK_EVENTFD);
    assert_int_equal(e[0].fds[2].kind, VFU_FDK_SOCKET);
    assert_int_equal(e[0].fds[3].kind, VFU_FDK_OTHER);
    assert_false(e[0].has_err);

    assert_int_equal(e[1].dir, VFU_TRACE_RX);
    assert_int_equal(e[1].chan, VFU_TRACE_MAIN);
    struct vfu_hdr h;
    assert_true(vfu_hdr_decode(e[1].bytes, e[1].len, &h, NULL));
    assert_int_equal(h.msg_id, 7);
    assert_int_equal(h.cmd, VFU_CMD_REGION_WRITE);
    assert_int_equal(e[1].nfds, 0);
    assert_null(e[1].fds);

    assert_int_equal(e[2].chan, VFU_TRACE_TWIN);
    assert_int_equal(e[2].len, e[1].len);
    assert_memory_equal(e[2].bytes, e[1].bytes, e[1].len);

    assert_int_equal(e[3].dir, VFU_TRACE_RX);
    assert_true(e[3].has_err);
    assert_int_equal(e[3].err.code, VFU_E_EOF);
    assert_int_equal(e[3].len, 0);
    for (size_t i = 1; i < tr->n; i++) assert_true(tr->ev[i].t_ns >= tr->ev[i - 1].t_ns);
}

static void round_trip_memory(void **state)
{
    (void)state;
    int base = count_fds();
    uint8_t sent[512];
    size_t sent_len;
    struct vfu_tracer *t = record_session(sent, &sent_len);
    assert_int_equal(vfu_tracer_count(t), 4);
    uint8_t *doc;
    size_t n;
    assert_true(vfu_tracer_encode(t, &doc, &n));
    struct vfu_trace tr;
    char why[256];
    assert_true(vfu_trace_parse(doc, n, &tr, why, sizeof why));
    check_session(&tr, sent, sent_len);
    vfu_trace_release(&tr);
    free(doc);
    vfu_tracer_free(t);
    assert_int_equal(count_fds(), base);
}

static void round_trip_file(void **state)
{
    (void)state;
    uint8_t sent[512];
    size_t sent_len;
    struct vfu_tracer *t = record_session(sent, &sent_len);
    char dir[] = "/tmp/vfu-trace-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/t.cbor", dir);
    struct vfu_error err;
    assert_true(vfu_tracer_write(t, path, &err));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    struct vfu_trace tr;
    char why[256];
    assert_true(vfu_trace_load(path, &tr, why, sizeof why));
    check_session(&tr, sent, sent_len);
    vfu_trace_release(&tr);

    /* a path that cannot be written: an error, and no file left behind */
    char bad[160];
    snprintf(bad, sizeof bad, "%s/missing/t.cbor", dir);
    assert_false(vfu_tracer_write(t, bad, &err));
    assert_int_equal(err.code, VFU_E_IO);
    assert_int_equal(err.sys_errno, ENOENT);
    assert_false(vfu_trace_load(bad, &tr, why, sizeof why));
    assert_non_null(strstr(why, "No such file"));
    /* not a regular file */
    assert_false(vfu_trace_load(dir, &tr, why, sizeof why));
    assert_non_null(strstr(why, "not a regular file"));
    unlink(path);
    rmdir(dir);
    vfu_tracer_free(t);
}

static void meta_sanitized(void **state)
{
    (void)state;
    /* ill-formed UTF-8 replaced, so the document stays valid CBOR text */
    struct vfu_trace_meta meta = {.tool = "tool \xff\xfe end", .server = "caf\xc3\xa9"};
    struct vfu_tracer *t = vfu_tracer_new(&meta, 0);
    assert_true(vfu_tracer_set_caps(t, "{}"));
    assert_true(vfu_tracer_set_caps(t, "{\"a\":1}"));
    uint8_t *doc;
    size_t n;
    assert_true(vfu_tracer_encode(t, &doc, &n));
    struct vfu_trace tr;
    char why[256];
    assert_true(vfu_trace_parse(doc, n, &tr, why, sizeof why));
    assert_string_equal(tr.tool, "tool \xef\xbf\xbd\xef\xbf\xbd end");
    assert_string_equal(tr.server, "caf\xc3\xa9");
    assert_string_equal(tr.caps, "{\"a\":1}");
    assert_null(tr.scenario);
    assert_int_equal(tr.n, 0);
    vfu_trace_release(&tr);
    free(doc);
    vfu_tracer_free(t);
}

static void cap_truncates(void **state)
{
    (void)state;
    struct vfu_tracer *t = vfu_tracer_new(NULL, 1000);
    uint8_t msg[300];
    memset(msg, 0xab, sizeof msg);
    for (int i = 0; i < 5; i++) vfu_tracer_record(t, 0, VFU_TRACE_TX, msg, sizeof msg, NULL, 0, NULL);
    /* an event of 300 message bytes takes 330 encoded (its time below
     * 2^32 ns): three fit in 1000, and nothing is kept after the first
     * that does not, not even a small one */
    size_t kept = vfu_tracer_count(t);
    assert_int_equal(kept, 3);
    assert_true(vfu_tracer_truncated(t));
    vfu_tracer_record(t, 0, VFU_TRACE_RX, msg, 16, NULL, 0, NULL);
    assert_int_equal(vfu_tracer_count(t), kept);
    uint8_t *doc;
    size_t n;
    assert_true(vfu_tracer_encode(t, &doc, &n));
    struct vfu_trace tr;
    char why[256];
    assert_true(vfu_trace_parse(doc, n, &tr, why, sizeof why));
    assert_int_equal(tr.n, kept);
    assert_true(tr.truncated);
    assert_string_equal(tr.trunc_reason, "cap");
    assert_int_equal(tr.dropped_events, 5 - kept + 1);
    assert_int_equal(tr.dropped_bytes, (5 - kept) * sizeof msg + 16);
    assert_true(tr.trunc_t >= tr.ev[kept - 1].t_ns);
    assert_int_equal(tr.cap, 1000);
    vfu_trace_release(&tr);
    free(doc);

    /* a message larger than the whole cap is dropped without growing anything */
    struct vfu_tracer *t2 = vfu_tracer_new(NULL, 100);
    vfu_tracer_record(t2, 0, VFU_TRACE_TX, msg, sizeof msg, NULL, 0, NULL);
    assert_int_equal(vfu_tracer_count(t2), 0);
    assert_true(vfu_tracer_truncated(t2));
    vfu_tracer_free(t2);
    vfu_tracer_free(t);
}

static void hook_for_bad_channel_records_nothing(void **state)
{
    (void)state;
    struct vfu_tracer *t = vfu_tracer_new(NULL, 0);
    struct vfu_trace_hook h = vfu_tracer_hook(t, 2);
    assert_null(h.fn);
    vfu_tracer_record(t, 5, VFU_TRACE_TX, (const uint8_t *)"x", 1, NULL, 0, NULL);
    assert_int_equal(vfu_tracer_count(t), 0);
    assert_false(vfu_tracer_truncated(t));
    vfu_tracer_free(t);
}

/* ------------------------------------------------------ hostile input --- */

static uint8_t *session_doc(size_t *n)
{
    uint8_t sent[512];
    size_t sent_len;
    struct vfu_tracer *t = record_session(sent, &sent_len);
    uint8_t *doc;
    assert_true(vfu_tracer_encode(t, &doc, n));
    vfu_tracer_free(t);
    return doc;
}

static void every_truncation_rejected(void **state)
{
    (void)state;
    size_t n;
    uint8_t *doc = session_doc(&n);
    for (size_t k = 0; k < n; k++) {
        /* a copy of exactly k bytes, so ASan sees any read past them */
        uint8_t *cut = malloc(k ? k : 1);
        memcpy(cut, doc, k);
        struct vfu_trace tr;
        char why[256];
        bool ok = vfu_trace_parse(cut, k, &tr, why, sizeof why);
        if (ok) fail_msg("a %zu-byte prefix of %zu parsed", k, n);
        assert_true(why[0] != '\0');
        assert_null(tr.ev);
        free(cut);
    }
    free(doc);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void random_flips_handled(void **state)
{
    (void)state;
    size_t n;
    uint8_t *doc = session_doc(&n);
    unsigned parsed = 0, rejected = 0;
    for (int round = 0; round < 20000; round++) {
        uint8_t *m = malloc(n);
        memcpy(m, doc, n);
        int flips = 1 + (int)(next_rand() % 4);
        for (int f = 0; f < flips; f++) {
            size_t at = next_rand() % n;
            if (next_rand() & 1) m[at] ^= (uint8_t)(1u << (next_rand() % 8));
            else m[at] = (uint8_t)next_rand();
        }
        struct vfu_trace tr;
        char why[256];
        if (vfu_trace_parse(m, n, &tr, why, sizeof why)) {
            parsed++;
            /* whatever got through still obeys the schema's bounds */
            assert_true(tr.n <= VFU_TRACE_MAX_EVENTS);
            for (size_t i = 0; i < tr.n; i++) {
                assert_true(tr.ev[i].chan < VFU_TRACE_NCHAN);
                assert_true(tr.ev[i].nfds <= VFU_MAX_FDS);
                assert_true(tr.ev[i].len <= n);
                assert_true(i == 0 || tr.ev[i].t_ns >= tr.ev[i - 1].t_ns);
                for (unsigned j = 0; j < tr.ev[i].nfds; j++)
                    assert_non_null(vfu_fd_kind_name(tr.ev[i].fds[j].kind));
            }
            assert_non_null(tr.tool);
            assert_non_null(tr.start);
            vfu_trace_release(&tr);
        } else {
            rejected++;
            assert_true(why[0] != '\0');
        }
        free(m);
    }
    /* flips inside message bytes keep the document valid; most others do not */
    assert_true(parsed > 0);
    assert_true(rejected > 0);
    free(doc);
}

/* hand-made documents: a builder over libcbor's encoders */
struct doc {
    uint8_t b[4096];
    size_t n;
};
static void d_raw(struct doc *d, const void *p, size_t n) { memcpy(d->b + d->n, p, n); d->n += n; }
static void d_uint(struct doc *d, uint64_t v) { d->n += cbor_encode_uint(v, d->b + d->n, sizeof d->b - d->n); }
static void d_map(struct doc *d, size_t k) { d->n += cbor_encode_map_start(k, d->b + d->n, sizeof d->b - d->n); }
static void d_arr(struct doc *d, size_t k) { d->n += cbor_encode_array_start(k, d->b + d->n, sizeof d->b - d->n); }
static void d_text(struct doc *d, const char *s)
{
    d->n += cbor_encode_string_start(strlen(s), d->b + d->n, sizeof d->b - d->n);
    d_raw(d, s, strlen(s));
}
static void d_bytes(struct doc *d, const void *p, size_t k)
{
    d->n += cbor_encode_bytestring_start(k, d->b + d->n, sizeof d->b - d->n);
    d_raw(d, p, k);
}

/* a valid document head up to the events array of nev events */
static void d_head(struct doc *d, size_t nkeys, size_t nev)
{
    d->n = 0;
    d_map(d, nkeys);
    d_text(d, "format"); d_text(d, "vfu-trace");
    d_text(d, "version"); d_uint(d, 1);
    d_text(d, "meta"); d_map(d, 3);
    d_text(d, "tool"); d_text(d, "t");
    d_text(d, "start"); d_text(d, "2024-01-01T00:00:00.000000Z");
    d_text(d, "cap"); d_uint(d, 100);
    d_text(d, "events"); d_arr(d, nev);
}

/* the fixed part of an event map of nkeys entries: t, dir, chan, bytes */
static void d_event(struct doc *d, size_t nkeys, uint64_t t, const char *dir, uint64_t chan)
{
    d_map(d, nkeys);
    d_text(d, "t"); d_uint(d, t);
    d_text(d, "dir"); d_text(d, dir);
    d_text(d, "chan"); d_uint(d, chan);
    d_text(d, "bytes"); d_bytes(d, "\x01\x02", 2);
}

static void expect_reject(const struct doc *d, const char *what)
{
    struct vfu_trace tr;
    char why[256];
    bool ok = vfu_trace_parse(d->b, d->n, &tr, why, sizeof why);
    if (ok) {
        vfu_trace_release(&tr);
        fail_msg("accepted a document that should fail with \"%s\"", what);
    }
    if (!strstr(why, what)) fail_msg("rejected with \"%s\", expected \"%s\"", why, what);
}

static void expect_accept(const struct doc *d, struct vfu_trace *tr)
{
    char why[256];
    if (!vfu_trace_parse(d->b, d->n, tr, why, sizeof why)) fail_msg("rejected: %s", why);
}

static void hostile_documents(void **state)
{
    (void)state;
    struct doc d;
    struct vfu_trace tr;

    /* the baseline the cases below break one way each */
    d_head(&d, 4, 1);
    d_event(&d, 4, 5, "tx", 0);
    expect_accept(&d, &tr);
    assert_int_equal(tr.n, 1);
    assert_int_equal(tr.ev[0].len, 2);
    vfu_trace_release(&tr);

    /* unknown keys anywhere are skipped */
    d_head(&d, 5, 1);
    d_event(&d, 5, 5, "rx", 1);
    d_text(&d, "future"); d_arr(&d, 2); d_uint(&d, 1); d_map(&d, 1); d_text(&d, "x"); d_uint(&d, 2);
    d_text(&d, "also-new"); d_bytes(&d, "abc", 3);
    expect_accept(&d, &tr);
    assert_int_equal(tr.ev[0].dir, VFU_TRACE_RX);
    assert_int_equal(tr.ev[0].chan, 1);
    vfu_trace_release(&tr);

    /* a declared count far beyond the bytes present: refused before any
     * allocation (0x9b: array, 8-byte count) */
    d_head(&d, 4, 0);
    d.n--;
    d_raw(&d, "\x9b\x00\x00\x00\x00\xff\xff\xff\xff", 9);
    expect_reject(&d, "remaining bytes");
    d_head(&d, 4, 1);
    d_raw(&d, "\xbb\x00\x00\x01\x00\x00\x00\x00\x00", 9);   /* map of 2^40 pairs */
    expect_reject(&d, "remaining bytes");
    d_head(&d, 4, 1);
    d_event(&d, 5, 5, "tx", 0);
    d_text(&d, "fds");
    d_raw(&d, "\x9a\x7f\xff\xff\xff", 5);
    expect_reject(&d, "remaining bytes");
    /* a byte string longer than the document */
    d_head(&d, 4, 1);
    d_map(&d, 4);
    d_text(&d, "bytes");
    d_raw(&d, "\x5a\x00\x10\x00\x00", 5);
    expect_reject(&d, "cut short");

    /* more events than the reader takes, with as many bytes behind them */
    d_head(&d, 4, 0);
    d.n--;
    d_arr(&d, VFU_TRACE_MAX_EVENTS + 1);
    size_t big = d.n + VFU_TRACE_MAX_EVENTS + 1;
    uint8_t *many = calloc(1, big);
    memcpy(many, d.b, d.n);
    char why[256];
    assert_false(vfu_trace_parse(many, big, &tr, why, sizeof why));
    assert_non_null(strstr(why, "more than"));
    free(many);

    /* more fds than a message can carry */
    d_head(&d, 4, 1);
    d_event(&d, 5, 5, "tx", 0);
    d_text(&d, "fds"); d_arr(&d, VFU_MAX_FDS + 1);
    for (int i = 0; i <= VFU_MAX_FDS; i++) { d_map(&d, 1); d_text(&d, "kind"); d_text(&d, "eventfd"); }
    expect_reject(&d, "more than a message can carry");

    /* nesting deeper than the bound inside an unknown key */
    d_head(&d, 5, 0);
    d_text(&d, "deep");
    for (int i = 0; i < 40; i++) d_arr(&d, 1);
    d_uint(&d, 0);
    expect_reject(&d, "nested deeper");

    /* indefinite lengths, tags, floats, negatives, simple values */
    static const struct { const char *bytes; size_t n; } odd[] = {
        {"\x9f\xff", 2}, {"\x5f\xff", 2}, {"\xc0\x00", 2}, {"\xf9\x00\x00", 3},
        {"\x20", 1}, {"\xf6", 1}, {"\xf5", 1}, {"\xf7", 1}, {"\xff", 1},
    };
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
        d_head(&d, 4, 1);
        d_map(&d, 1);
        d_text(&d, "t");
        d_raw(&d, odd[i].bytes, odd[i].n);
        expect_reject(&d, "schema does not use");
    }
    /* reserved additional information (0x1c) is malformed CBOR */
    d_head(&d, 4, 1);
    d_map(&d, 1);
    d_text(&d, "t");
    d_raw(&d, "\x1c", 1);
    expect_reject(&d, "malformed");

    /* wrong types and values */
    d_head(&d, 4, 1); d_event(&d, 4, 5, "sideways", 0); expect_reject(&d, "neither");
    d_head(&d, 4, 1); d_event(&d, 4, 5, "tx", 2); expect_reject(&d, "events[0].chan: 2 above 1");
    d_head(&d, 4, 2); d_event(&d, 4, 9, "tx", 0); d_event(&d, 4, 8, "tx", 0);
    expect_reject(&d, "events[1].t: earlier");
    d_head(&d, 4, 1); d_map(&d, 1); d_text(&d, "t"); d_text(&d, "5"); expect_reject(&d, "a text string where an unsigned integer");
    d_head(&d, 4, 1); d_map(&d, 3); d_text(&d, "t"); d_uint(&d, 1); d_text(&d, "dir"); d_text(&d, "tx");
    d_text(&d, "chan"); d_uint(&d, 0);
    expect_reject(&d, "no \"bytes\"");
    d_head(&d, 4, 1); d_map(&d, 2); d_text(&d, "t"); d_uint(&d, 1); d_text(&d, "t"); d_uint(&d, 1);
    expect_reject(&d, "key \"t\" twice");
    d_head(&d, 4, 1); d_event(&d, 5, 5, "tx", 0); d_text(&d, "fds"); d_arr(&d, 1); d_map(&d, 1);
    d_text(&d, "kind"); d_text(&d, "pipe");
    expect_reject(&d, "unknown fd kind");
    d_head(&d, 4, 1); d_event(&d, 5, 5, "tx", 0); d_text(&d, "fds"); d_arr(&d, 1); d_map(&d, 1);
    d_text(&d, "size"); d_uint(&d, 1);
    expect_reject(&d, "events[0].fds[0]: no \"kind\"");
    d_head(&d, 4, 1); d_event(&d, 5, 5, "rx", 0); d_text(&d, "err"); d_map(&d, 1);
    d_text(&d, "code"); d_text(&d, "NOT_A_CODE");
    expect_reject(&d, "unknown error code");
    d_head(&d, 4, 1); d_event(&d, 5, 5, "rx", 0); d_text(&d, "err"); d_map(&d, 2);
    d_text(&d, "code"); d_text(&d, "EOF"); d_text(&d, "cmd"); d_uint(&d, 70000);
    expect_reject(&d, "70000 above 65535");
    d_head(&d, 4, 1); d_event(&d, 5, 5, "rx", 0); d_text(&d, "err"); d_map(&d, 3);
    d_text(&d, "code"); d_text(&d, "IO"); d_text(&d, "errno"); d_uint(&d, 32);
    d_text(&d, "got"); d_uint(&d, 3);
    expect_accept(&d, &tr);
    assert_true(tr.ev[0].has_err);
    assert_int_equal(tr.ev[0].err.code, VFU_E_IO);
    assert_int_equal(tr.ev[0].err.sys_errno, 32);
    assert_int_equal(tr.ev[0].err.got, 3);
    assert_int_equal(tr.ev[0].err.cmd, -1);
    vfu_trace_release(&tr);

    /* the document itself */
    d_head(&d, 4, 0); d_uint(&d, 0); expect_reject(&d, "1 bytes after its end");
    d_head(&d, 4, 0);
    ((uint8_t *)memmem(d.b, d.n, "vfu-trace", 9))[0] = 'X';
    expect_reject(&d, "format: not \"vfu-trace\"");
    d.n = 0; d_map(&d, 2); d_text(&d, "format"); d_text(&d, "vfu-trace"); d_text(&d, "version"); d_uint(&d, 2);
    expect_reject(&d, "version: 2, this reader knows 1");
    d.n = 0; d_map(&d, 2); d_text(&d, "events"); d_arr(&d, 0); d_text(&d, "format"); d_text(&d, "vfu-trace");
    expect_reject(&d, "must come first");
    d.n = 0; d_map(&d, 2); d_text(&d, "format"); d_text(&d, "vfu-trace"); d_text(&d, "version"); d_uint(&d, 1);
    expect_reject(&d, "no \"meta\"");
    d.n = 0; d_arr(&d, 0); expect_reject(&d, "an array where a map");
    d.n = 0; expect_reject(&d, "cut short");

    /* metadata text */
    static const char *const bad_text[] = {"a\0b", "\xc0\xaf", "\xed\xa0\x80"};
    static const size_t bad_len[] = {3, 2, 3};
    static const char *const bad_why[] = {"NUL inside", "ill-formed UTF-8", "ill-formed UTF-8"};
    for (int i = 0; i < 3; i++) {
        d.n = 0;
        d_map(&d, 3);
        d_text(&d, "format"); d_text(&d, "vfu-trace");
        d_text(&d, "version"); d_uint(&d, 1);
        d_text(&d, "meta"); d_map(&d, 1); d_text(&d, "tool");
        d.n += cbor_encode_string_start(bad_len[i], d.b + d.n, sizeof d.b - d.n);
        d_raw(&d, bad_text[i], bad_len[i]);
        expect_reject(&d, bad_why[i]);
    }

    /* the truncation marker */
    d_head(&d, 5, 0);
    d_text(&d, "truncated"); d_map(&d, 4);
    d_text(&d, "t"); d_uint(&d, 9); d_text(&d, "events"); d_uint(&d, 2);
    d_text(&d, "bytes"); d_uint(&d, 40); d_text(&d, "reason"); d_text(&d, "whim");
    expect_reject(&d, "unknown reason");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fd_kinds),
        cmocka_unit_test(round_trip_memory),
        cmocka_unit_test(round_trip_file),
        cmocka_unit_test(meta_sanitized),
        cmocka_unit_test(cap_truncates),
        cmocka_unit_test(hook_for_bad_channel_records_nothing),
        cmocka_unit_test(every_truncation_rejected),
        cmocka_unit_test(random_flips_handled),
        cmocka_unit_test(hostile_documents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
