/* Trace replay against a fake server thread on a socketpair.  A session is
 * recorded through the transport hooks (main and twin channels, fds of
 * several kinds, a server DMA_READ on the twin), then replayed against
 * servers that answer the same (no divergence), change one byte, attach an
 * unexpected fd, want a differently sized memfd, close, or go silent; and
 * against a real process that crashes (lib/proc says how it ended). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vfu_codec.h"
#include "proc.h"
#include "replay.h"
#include "trace.h"
#include "transport_util.h"
#include "spec_tables.h"

/* ------------------------------------------------------- fake server --- */

struct fake {
    int fd;
    int alter_at;        /* request (1-based) whose reply data changes */
    int close_at;        /* request on which the server hangs up */
    int silent_at;       /* request from which it stops answering */
    bool extra_fd;       /* an eventfd with every REGION_READ reply */
    uint64_t memfd_unit; /* DEVICE_GET_INFO: num_regions = memfd size / unit */
    pthread_t th;
};

static void reply_region_read(struct fake *f, struct vfu_conn *c, const struct vfu_msg *m, int k)
{
    uint8_t buf[256];
    struct vfu_enc e;
    uint64_t off = vfu_get(m, VFU_F_REGION_ACCESS_OFFSET);
    uint32_t count = (uint32_t)vfu_get(m, VFU_F_REGION_ACCESS_COUNT);
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_REGION_READ, true, m->hdr.msg_id);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_OFFSET, off);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_REGION, vfu_get(m, VFU_F_REGION_ACCESS_REGION));
    uint8_t *d = vfu_enc_data(&e, VFU_F_REGION_ACCESS_DATA_DATA, NULL, count);
    for (uint32_t j = 0; d && j < count; j++) d[j] = (uint8_t)(off * 3 + j);
    if (d && count && f->alter_at == k) d[count - 1] ^= 0x5a;
    int efd = -1;
    if (f->extra_fd) {
        efd = eventfd(0, EFD_CLOEXEC);
        vfu_enc_fd(&e, efd);
    }
    struct vfu_error err;
    if (vfu_enc_finish(&e, &err)) vfu_send_enc(c, &e, &err);
    if (efd >= 0) close(efd);
}

/* DEVICE_GET_INFO carrying a memfd and a socket: the socket becomes the
 * twin, where the server reads 8 bytes of guest memory before it replies;
 * num_regions tells the memfd's size, so a wrong one shows */
static void reply_get_info(struct fake *f, struct vfu_conn *c, struct vfu_conn *twin,
                           const struct vfu_msg *m, bool *have_twin)
{
    uint64_t size = 0;
    for (unsigned i = 0; i < c->nrfds; i++) {
        uint64_t s;
        enum vfu_fd_kind k = vfu_fd_kind_of(c->rfds[i], &s);
        if (k == VFU_FDK_MEMFD) size = s;
        if (k == VFU_FDK_SOCKET && !*have_twin) {
            struct vfu_error err;
            int t = vfu_conn_take_fd(c, i);
            *have_twin = vfu_conn_init(twin, t, NULL, &err);
            twin->timeout_ms = 2000;
        }
    }
    uint8_t buf[256];
    struct vfu_enc e;
    struct vfu_error err;
    if (*have_twin) {
        vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DMA_READ, false, 100);
        vfu_enc_set(&e, VFU_F_DMA_ACCESS_ADDRESS, 0x1000);
        vfu_enc_set(&e, VFU_F_DMA_ACCESS_COUNT, 8);
        if (vfu_enc_finish(&e, &err) && vfu_send_enc(twin, &e, &err)) vfu_recv(twin, &err);
    }
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_GET_INFO, true, m->hdr.msg_id);
    vfu_enc_set(&e, VFU_F_DEVICE_INFO_FLAGS, VFU_DEVICE_INFO_FLAGS_PCI);
    vfu_enc_set(&e, VFU_F_DEVICE_INFO_NUM_REGIONS, size / f->memfd_unit);
    vfu_enc_set(&e, VFU_F_DEVICE_INFO_NUM_IRQS, 5);
    if (vfu_enc_finish(&e, &err)) vfu_send_enc(c, &e, &err);
}

static void *fake_main(void *arg)
{
    struct fake *f = arg;
    struct vfu_conn c, twin;
    struct vfu_error err;
    bool have_twin = false;
    struct vfu_limits lim;
    vfu_limits_default(&lim);
    lim.max_fds = 8;
    if (!vfu_conn_init(&c, f->fd, &lim, &err)) return NULL;
    c.timeout_ms = 5000;
    for (int k = 1;; k++) {
        if (!vfu_recv(&c, &err)) break;
        if (f->close_at == k) break;
        if (f->silent_at && k >= f->silent_at) continue;
        struct vfu_msg m;
        /* fds are looked at here, not by the codec's rules */
        if (!vfu_decode(&m, c.rbuf, c.rlen, NULL, 0, &c.lim, VFU_ROLE_SERVER, &err)) {
            uint8_t buf[32];
            struct vfu_enc e;
            vfu_enc_error(&e, buf, sizeof buf, m.hdr.cmd, m.hdr.msg_id, 22);
            vfu_send_enc(&c, &e, &err);
            continue;
        }
        if (m.hdr.cmd == VFU_CMD_REGION_READ) reply_region_read(f, &c, &m, k);
        else reply_get_info(f, &c, &twin, &m, &have_twin);
    }
    if (have_twin) vfu_conn_close(&twin);
    vfu_conn_close(&c);
    return NULL;
}

/* a fake server on one end of a socketpair; the client's end, connected */
static void fake_start(struct fake *f, struct vfu_conn *client)
{
    int sv[2];
    struct vfu_error err;
    assert_true(vfu_socketpair(sv, &err));
    f->fd = sv[1];
    if (!f->memfd_unit) f->memfd_unit = 0x1000;
    assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
    assert_true(vfu_conn_init(client, sv[0], NULL, &err));
}

static void fake_stop(struct fake *f, struct vfu_conn *client)
{
    vfu_conn_close(client);
    pthread_join(f->th, NULL);
}

/* ------------------------------------------------------- recording --- */

static void region_read(struct vfu_conn *c, uint16_t id, uint64_t off, uint32_t count)
{
    uint8_t buf[64];
    struct vfu_enc e;
    struct vfu_error err;
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_REGION_READ, false, id);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_OFFSET, off);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_REGION, 2);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_COUNT, count);
    assert_true(vfu_enc_finish(&e, &err));
    assert_true(vfu_send_enc(c, &e, &err));
    assert_true(vfu_recv(c, &err));
}

/* REGION_READ, REGION_READ, DEVICE_GET_INFO with a memfd and the twin
 * socket (the server's DMA_READ answered there), REGION_READ */
static struct vfu_trace record(void)
{
    struct vfu_trace_meta meta = {.tool = "test", .scenario = "replay.sample", .server = "fake"};
    struct vfu_tracer *t = vfu_tracer_new(&meta, 0);
    struct fake f = {0};
    struct vfu_conn c;
    fake_start(&f, &c);
    c.trace = vfu_tracer_hook(t, VFU_TRACE_MAIN);
    c.timeout_ms = 2000;
    region_read(&c, 1, 0x10, 4);
    region_read(&c, 2, 0x20, 16);

    int sv[2];
    struct vfu_error err;
    assert_true(vfu_socketpair(sv, &err));
    struct vfu_conn twin;
    assert_true(vfu_conn_init(&twin, sv[0], NULL, &err));
    twin.trace = vfu_tracer_hook(t, VFU_TRACE_TWIN);
    twin.timeout_ms = 2000;
    int mfd = memfd_create("guest", MFD_CLOEXEC);
    assert_int_equal(ftruncate(mfd, 0x3000), 0);
    uint8_t buf[64];
    struct vfu_enc e;
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_GET_INFO, false, 3);
    assert_true(vfu_enc_finish(&e, &err));
    int fds[2] = {mfd, sv[1]};
    assert_true(vfu_send(&c, e.buf, e.len, fds, 2, &err));
    close(mfd);
    close(sv[1]);
    /* the server's DMA_READ on the twin, answered with 8 bytes */
    struct vfu_msg m;
    assert_true(vfu_recv_msg(&twin, &m, VFU_ROLE_CLIENT, &err));
    assert_int_equal(m.hdr.cmd, VFU_CMD_DMA_READ);
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DMA_READ, true, m.hdr.msg_id);
    vfu_enc_set(&e, VFU_F_DMA_ACCESS_DATA_ADDRESS, 0x1000);
    vfu_enc_data(&e, VFU_F_DMA_ACCESS_DATA_DATA, "8 bytes!", 8);
    assert_true(vfu_enc_finish(&e, &err));
    assert_true(vfu_send_enc(&twin, &e, &err));
    assert_true(vfu_recv_msg(&c, &m, VFU_ROLE_CLIENT, &err));
    assert_int_equal(vfu_get(&m, VFU_F_DEVICE_INFO_NUM_REGIONS), 3);

    region_read(&c, 4, 0x40, 8);
    fake_stop(&f, &c);
    vfu_conn_close(&twin);

    uint8_t *doc;
    size_t n;
    assert_true(vfu_tracer_encode(t, &doc, &n));
    vfu_tracer_free(t);
    struct vfu_trace tr;
    char why[256];
    assert_true(vfu_trace_parse(doc, n, &tr, why, sizeof why));
    free(doc);
    /* 4 requests and replies on main, one exchange on the twin */
    assert_int_equal(tr.n, 10);
    assert_int_equal(tr.ev[5].chan, VFU_TRACE_TWIN);
    assert_int_equal(tr.ev[5].dir, VFU_TRACE_RX);
    assert_int_equal(tr.ev[6].chan, VFU_TRACE_TWIN);
    assert_int_equal(tr.ev[6].dir, VFU_TRACE_TX);
    return tr;
}

/* replays tr against f; the report lands in out */
static enum vfu_replay_outcome replay(const struct vfu_trace *tr, struct fake *f, int timeout_ms,
                                      char **out)
{
    struct vfu_conn c;
    fake_start(f, &c);
    size_t n;
    FILE *o = open_memstream(out, &n);
    struct vfu_replay_opts opts = {.timeout_ms = timeout_ms};
    enum vfu_replay_outcome r = vfr_replay_trace(tr, &c, o, &opts);
    fclose(o);
    fake_stop(f, &c);
    return r;
}

static void has(const char *out, const char *s)
{
    if (!strstr(out, s)) fail_msg("\"%s\" not in:\n%s", s, out);
}

/* ------------------------------------------------------------ tests --- */

static void same_server_same_answers(void **state)
{
    (void)state;
    int base = count_fds();
    struct vfu_trace tr = record();
    struct fake f = {0};
    char *out = NULL;
    assert_int_equal(replay(&tr, &f, 2000, &out), VFU_REPLAY_SAME);
    has(out, "replayed 10 events: the server answered as recorded");
    free(out);
    vfu_trace_release(&tr);
    assert_int_equal(count_fds(), base);
}

static void changed_byte_diverges(void **state)
{
    (void)state;
    struct vfu_trace tr = record();
    struct fake f = {.alter_at = 2};
    char *out = NULL;
    assert_int_equal(replay(&tr, &f, 2000, &out), VFU_REPLAY_DIVERGED);
    /* the second reply's last data byte: header 16 + fixed part 16 + 15 */
    has(out, "event 3 (rx main, at ");
    char want[96];
    snprintf(want, sizeof want, "the message differs: byte %u (data byte 15): recorded 0x%02x, now 0x%02x",
             VFU_HDR_SIZE + VFU_SIZE_REGION_ACCESS_DATA + 15, (0x20 * 3 + 15) & 0xff,
             ((0x20 * 3 + 15) ^ 0x5a) & 0xff);
    has(out, want);
    /* both messages dissected */
    has(out, "  recorded (48 bytes, 0 fds):\n");
    has(out, "  now (48 bytes, 0 fds):\n");
    has(out, "REGION_READ");
    has(out, "replay stopped at event 3 of 10: diverged");
    free(out);
    vfu_trace_release(&tr);
}

static void unexpected_fd_diverges(void **state)
{
    (void)state;
    struct vfu_trace tr = record();
    struct fake f = {.extra_fd = true};
    char *out = NULL;
    assert_int_equal(replay(&tr, &f, 2000, &out), VFU_REPLAY_DIVERGED);
    has(out, "event 1 (rx main");
    has(out, "fds: recorded 0, now 1");
    free(out);
    vfu_trace_release(&tr);
}

static void memfd_recreated_with_its_size(void **state)
{
    (void)state;
    struct vfu_trace tr = record();
    /* the fake answers num_regions = memfd size / unit: same unit, same
     * answer only if the memfd sent again has the recorded size */
    struct fake f = {.memfd_unit = 0x1000};
    char *out = NULL;
    assert_int_equal(replay(&tr, &f, 2000, &out), VFU_REPLAY_SAME);
    free(out);
    f = (struct fake){.memfd_unit = 0x800};
    assert_int_equal(replay(&tr, &f, 2000, &out), VFU_REPLAY_DIVERGED);
    has(out, "event 7 (rx main");
    char want[96];
    snprintf(want, sizeof want, "byte %u (device_info.num_regions): recorded 0x03, now 0x06",
             VFU_HDR_SIZE + (unsigned)vfu_spec.fields[VFU_F_DEVICE_INFO_NUM_REGIONS].offset);
    has(out, want);
    free(out);
    vfu_trace_release(&tr);
}

static void server_closing_or_silent(void **state)
{
    (void)state;
    struct vfu_trace tr = record();
    struct fake f = {.close_at = 2};
    char *out = NULL;
    assert_int_equal(replay(&tr, &f, 2000, &out), VFU_REPLAY_CLOSED);
    has(out, "event 3 (rx main");
    has(out, "the server closed the connection");
    has(out, "  recorded (48 bytes, 0 fds):\n");
    free(out);

    f = (struct fake){.silent_at = 4};
    int64_t t0 = mono_ms();
    assert_int_equal(replay(&tr, &f, 150, &out), VFU_REPLAY_TIMEOUT);
    assert_true(mono_ms() - t0 < 2000);
    has(out, "nothing came within 150 ms");
    has(out, "replay stopped at event 9 of 10: timeout");
    free(out);
    assert_int_equal(vfr_replay_exit_status(VFU_REPLAY_TIMEOUT), 1);
    assert_int_equal(vfr_replay_exit_status(VFU_REPLAY_SAME), 0);
    assert_int_equal(vfr_replay_exit_status(VFU_REPLAY_BAD_TRACE), 2);
    assert_string_equal(vfr_replay_outcome_name(VFU_REPLAY_CLOSED), "closed");
    vfu_trace_release(&tr);
}

static void recorded_close_expected_again(void **state)
{
    (void)state;
    /* the recording ends with the server hanging up on request 1 */
    struct vfu_tracer *t = vfu_tracer_new(NULL, 0);
    struct fake f = {.close_at = 1};
    struct vfu_conn c;
    fake_start(&f, &c);
    c.trace = vfu_tracer_hook(t, VFU_TRACE_MAIN);
    c.timeout_ms = 2000;
    uint8_t buf[64];
    struct vfu_enc e;
    struct vfu_error err;
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_GET_INFO, false, 1);
    assert_true(vfu_enc_finish(&e, &err));
    assert_true(vfu_send_enc(&c, &e, &err));
    assert_false(vfu_recv(&c, &err));
    assert_int_equal(err.code, VFU_E_EOF);
    vfu_tracer_record(t, VFU_TRACE_MAIN, VFU_TRACE_RX, NULL, 0, NULL, 0, &err);
    fake_stop(&f, &c);
    uint8_t *doc;
    size_t n;
    assert_true(vfu_tracer_encode(t, &doc, &n));
    vfu_tracer_free(t);
    struct vfu_trace tr;
    char why[256];
    assert_true(vfu_trace_parse(doc, n, &tr, why, sizeof why));
    free(doc);

    char *out = NULL;
    f = (struct fake){.close_at = 1};
    assert_int_equal(replay(&tr, &f, 2000, &out), VFU_REPLAY_SAME);
    free(out);
    /* a server that answers instead of closing has changed */
    f = (struct fake){0};
    assert_int_equal(replay(&tr, &f, 2000, &out), VFU_REPLAY_DIVERGED);
    has(out, "recorded a failure: ");
    has(out, "now a whole message came");
    free(out);
    vfu_trace_release(&tr);
}

static void twin_without_socket_is_a_bad_trace(void **state)
{
    (void)state;
    struct vfu_tracer *t = vfu_tracer_new(NULL, 0);
    uint8_t msg[VFU_HDR_SIZE] = {0};
    vfu_tracer_record(t, VFU_TRACE_TWIN, VFU_TRACE_TX, msg, sizeof msg, NULL, 0, NULL);
    uint8_t *tr_doc;
    size_t tr_len;
    assert_true(vfu_tracer_encode(t, &tr_doc, &tr_len));
    vfu_tracer_free(t);
    struct vfu_trace tr;
    char why[256];
    assert_true(vfu_trace_parse(tr_doc, tr_len, &tr, why, sizeof why));
    struct fake f = {0};
    char *out = NULL;
    assert_int_equal(replay(&tr, &f, 500, &out), VFU_REPLAY_BAD_TRACE);
    has(out, "event 0 (tx twin, at ");
    has(out, "no socket was sent for it");
    free(out);
    char path[] = "/tmp/vfu-replay-XXXXXX";
    close(mkstemp(path));
    FILE *w = fopen(path, "w");
    assert_non_null(w);
    fwrite(tr_doc, 1, tr_len, w);
    fclose(w);
    struct vfu_conn c;
    f = (struct fake){0};
    fake_start(&f, &c);
    size_t on;
    FILE *o = open_memstream(&out, &on);
    assert_int_equal(vfr_replay_run(path, &c, o, 500, why, sizeof why), -1);
    fclose(o);
    has(why, "event 0: the twin channel is used, but no socket was sent for it");
    free(out);
    fake_stop(&f, &c);
    unlink(path);
    free(tr_doc);
    vfu_trace_release(&tr);
}

static void from_a_file(void **state)
{
    (void)state;
    struct vfu_conn c;
    struct fake f = {0};
    fake_start(&f, &c);
    char *out = NULL;
    size_t n;
    FILE *o = open_memstream(&out, &n);
    assert_int_equal(vfr_replay_file("/nonexistent/t.cbor", &c, o, NULL), VFU_REPLAY_BAD_TRACE);
    fclose(o);
    has(out, "cannot read the trace: /nonexistent/t.cbor: No such file or directory");
    free(out);
    char why[256];
    o = open_memstream(&out, &n);
    assert_int_equal(vfr_replay_run("/nonexistent/t.cbor", &c, o, 100, why, sizeof why), -1);
    fclose(o);
    has(why, "/nonexistent/t.cbor: No such file or directory");
    free(out);
    fake_stop(&f, &c);

    /* a written trace, read back and replayed from its path */
    struct vfu_tracer *t = vfu_tracer_new(NULL, 0);
    fake_start(&f, &c);
    c.trace = vfu_tracer_hook(t, VFU_TRACE_MAIN);
    c.timeout_ms = 2000;
    region_read(&c, 9, 0, 2);
    fake_stop(&f, &c);
    char path[] = "/tmp/vfu-replay-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    struct vfu_error err;
    assert_true(vfu_tracer_write(t, path, &err));
    vfu_tracer_free(t);
    fake_start(&f, &c);
    o = open_memstream(&out, &n);
    assert_int_equal(vfr_replay_file(path, &c, o, NULL), VFU_REPLAY_SAME);
    fclose(o);
    has(out, "replayed 2 events");
    free(out);
    fake_stop(&f, &c);
    /* the plain entry: 0 same, 1 different */
    fake_start(&f, &c);
    o = open_memstream(&out, &n);
    assert_int_equal(vfr_replay_run(path, &c, o, 1000, why, sizeof why), 0);
    fclose(o);
    free(out);
    fake_stop(&f, &c);
    f = (struct fake){.alter_at = 1};
    fake_start(&f, &c);
    o = open_memstream(&out, &n);
    assert_int_equal(vfr_replay_run(path, &c, o, 1000, why, sizeof why), 1);
    fclose(o);
    has(out, "the message differs");
    free(out);
    fake_stop(&f, &c);
    unlink(path);
}

static void crashing_server_named(void **state)
{
    (void)state;
    /* a real process that dies by SIGSEGV while we wait for its reply */
    struct vfu_proc p;
    struct vfu_proc_spec spec = {.cmd = HELPER_DIR "/fake-server sleep=100 segv",
                                 .sock = VFU_PROC_SOCK_FD_CONNECTED};
    struct vfu_error err;
    if (!vfu_proc_start(&p, &spec, &err)) fail_msg("cannot start the helper: %s", vfu_proc_why(&p));
    struct vfu_conn c;
    assert_true(vfu_conn_init(&c, vfu_proc_take_conn_fd(&p), NULL, &err));

    struct vfu_tracer *t = vfu_tracer_new(NULL, 0);
    uint8_t buf[64];
    struct vfu_enc e;
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_GET_INFO, false, 1);
    assert_true(vfu_enc_finish(&e, &err));
    vfu_tracer_record(t, VFU_TRACE_MAIN, VFU_TRACE_TX, e.buf, e.len, NULL, 0, NULL);
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_GET_INFO, true, 1);
    assert_true(vfu_enc_finish(&e, &err));
    vfu_tracer_record(t, VFU_TRACE_MAIN, VFU_TRACE_RX, e.buf, e.len, NULL, 0, NULL);
    uint8_t *doc;
    size_t n;
    assert_true(vfu_tracer_encode(t, &doc, &n));
    vfu_tracer_free(t);
    struct vfu_trace tr;
    char why[256];
    assert_true(vfu_trace_parse(doc, n, &tr, why, sizeof why));
    free(doc);

    char *out = NULL;
    FILE *o = open_memstream(&out, &n);
    struct vfu_replay_opts opts = {.timeout_ms = 3000, .proc = &p};
    assert_int_equal(vfr_replay_trace(&tr, &c, o, &opts), VFU_REPLAY_CLOSED);
    fclose(o);
    has(out, "the server closed the connection");
    has(out, "the server crashed: ");
    has(out, "signal 11");
    free(out);
    vfu_conn_close(&c);
    vfu_trace_release(&tr);
    vfu_proc_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_server_same_answers),
        cmocka_unit_test(changed_byte_diverges),
        cmocka_unit_test(unexpected_fd_diverges),
        cmocka_unit_test(memfd_recreated_with_its_size),
        cmocka_unit_test(server_closing_or_silent),
        cmocka_unit_test(recorded_close_expected_again),
        cmocka_unit_test(twin_without_socket_is_a_bad_trace),
        cmocka_unit_test(from_a_file),
        cmocka_unit_test(crashing_server_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
