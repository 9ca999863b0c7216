/* Trace replay: a recorded exchange printed, then played against a fake
 * server that answers as recorded (reproduced), differently (diverged, with
 * both messages named), or not at all (the wait is bounded). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "codec.h"
#include "replay.h"
#include "trace.h"

static size_t get_info(uint8_t *buf, bool reply, uint32_t num_regions)
{
    struct vfu_enc e;
    vfu_enc_begin(&e, buf, 256, VFU_CMD_DEVICE_GET_INFO, reply, 42);
    if (reply) {
        vfu_enc_set(&e, VFU_F_DEVICE_INFO_FLAGS, VFU_DEVICE_INFO_FLAGS_PCI);
        vfu_enc_set(&e, VFU_F_DEVICE_INFO_NUM_REGIONS, num_regions);
    }
    assert_true(vfu_enc_finish(&e, NULL));
    return e.len;
}

/* a trace: the client asks DEVICE_GET_INFO with a memfd-free request, the
 * server says 9 regions */
static void write_trace(const char *path)
{
    struct vfu_trace_meta m = {"test", "DEVICE_GET_INFO.sample", "fake", NULL};
    struct vfu_tracer *t = vfu_tracer_new(&m, 0);
    assert_non_null(t);
    uint8_t b[256];
    size_t n = get_info(b, false, 0);
    vfu_tracer_record(t, VFU_TRACE_MAIN, VFU_TRACE_TX, b, n, NULL, 0, NULL);
    n = get_info(b, true, 9);
    vfu_tracer_record(t, VFU_TRACE_MAIN, VFU_TRACE_RX, b, n, NULL, 0, NULL);
    struct vfu_error err;
    assert_true(vfu_tracer_write(t, path, &err));
    vfu_tracer_free(t);
}

struct fake { int fd; uint32_t regions; bool silent; };

static void *fake_server(void *arg)
{
    struct fake *f = arg;
    struct vfu_conn c;
    struct vfu_error err;
    if (!vfu_conn_init(&c, f->fd, NULL, &err)) return NULL;
    c.timeout_ms = 2000;
    if (vfu_recv(&c, &err) && !f->silent) {
        uint8_t b[256];
        size_t n = get_info(b, true, f->regions);
        vfu_send(&c, b, n, NULL, 0, &err);
    }
    if (f->silent) usleep(300 * 1000);
    vfu_conn_close(&c);
    return NULL;
}

static int play(const char *path, uint32_t regions, bool silent, char *out, size_t outn)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    struct fake f = {sv[1], regions, silent};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, fake_server, &f), 0);
    struct vfu_conn c;
    struct vfu_error err;
    assert_true(vfu_conn_init(&c, sv[0], NULL, &err));
    FILE *o = fmemopen(out, outn, "w");
    char why[256] = "";
    int rc = vfu_replay_run(path, &c, o, 100, why, sizeof why);
    fclose(o);
    vfu_conn_close(&c);
    pthread_join(th, NULL);
    return rc;
}

static void replay(void **state)
{
    (void)state;
    char path[] = "/tmp/vfu-replay-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_trace(path);

    char out[4096] = "";
    FILE *o = fmemopen(out, sizeof out, "w");
    char why[256];
    assert_int_equal(vfu_replay_print(path, o, why, sizeof why), 0);
    fclose(o);
    assert_non_null(strstr(out, "DEVICE_GET_INFO.sample"));
    assert_non_null(strstr(out, "-> main DEVICE_GET_INFO request id=42"));
    assert_non_null(strstr(out, "<- main DEVICE_GET_INFO reply id=42"));
    assert_non_null(strstr(out, "2 events"));

    memset(out, 0, sizeof out);
    assert_int_equal(play(path, 9, false, out, sizeof out), 0);
    assert_non_null(strstr(out, "reproduced as recorded"));

    memset(out, 0, sizeof out);
    assert_int_equal(play(path, 3, false, out, sizeof out), 1);
    assert_non_null(strstr(out, "differs"));
    assert_non_null(strstr(out, "num_regions=9"));
    assert_non_null(strstr(out, "num_regions=3"));

    memset(out, 0, sizeof out);
    assert_int_equal(play(path, 9, true, out, sizeof out), 1);
    assert_non_null(strstr(out, "TIMEOUT"));

    /* not a trace */
    FILE *g = fopen(path, "w");
    fputs("hello", g);
    fclose(g);
    why[0] = 0;
    o = fmemopen(out, sizeof out, "w");
    assert_int_equal(vfu_replay_print(path, o, why, sizeof why), -1);
    fclose(o);
    assert_true(why[0] != 0);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(replay)};
    return cmocka_run_group_tests_name("trace replay", tests, NULL, NULL);
}
