/* `replay --print`: one line per event with its time, gap, direction,
 * channel, summary, fds and failure; metadata and the truncation marker;
 * strings from the file never reach the terminal raw; an unreadable trace
 * is refused with the reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vfu_codec.h"
#include "replay.h"
#include "trace.h"

static size_t region_read(uint8_t *buf, size_t cap, bool reply, uint16_t id)
{
    struct vfu_enc e;
    vfu_enc_begin(&e, buf, cap, VFU_CMD_REGION_READ, reply, id);
    vfu_enc_set(&e, reply ? VFU_F_REGION_ACCESS_DATA_OFFSET : VFU_F_REGION_ACCESS_OFFSET, 0x10);
    vfu_enc_set(&e, reply ? VFU_F_REGION_ACCESS_DATA_REGION : VFU_F_REGION_ACCESS_REGION, 1);
    if (reply) vfu_enc_data(&e, VFU_F_REGION_ACCESS_DATA_DATA, "\x01\x02\x03\x04", 4);
    else vfu_enc_set(&e, VFU_F_REGION_ACCESS_COUNT, 4);
    struct vfu_error err;
    assert_true(vfu_enc_finish(&e, &err));
    return e.len;
}

static char why[256];

__attribute__((noinline)) static char *print(const char *path, int *rc)
{
    char *out = NULL;
    size_t n;
    FILE *o = open_memstream(&out, &n);
    why[0] = '\0';
    *rc = vfr_replay_print(path, o, why, sizeof why);
    fclose(o);
    return out;
}

static void has(const char *out, const char *s)
{
    if (!strstr(out, s)) fail_msg("\"%s\" not in:\n%s", s, out);
}

static void events_and_metadata(void **state)
{
    (void)state;
    struct vfu_trace_meta meta = {.tool = "vfu-conform 0.1", .scenario = "REGION.read.basic",
                                  .server = "./evil\033[2J", .caps = "{\"max_msg_fds\":8}"};
    /* room for four events of this size, not five */
    struct vfu_tracer *t = vfu_tracer_new(&meta, 300);
    uint8_t buf[128];
    int fds[2] = {memfd_create("g", MFD_CLOEXEC), eventfd(0, EFD_CLOEXEC)};
    assert_int_equal(ftruncate(fds[0], 0x4000), 0);
    size_t n = region_read(buf, sizeof buf, false, 7);
    vfu_tracer_record(t, VFU_TRACE_MAIN, VFU_TRACE_TX, buf, n, fds, 2, NULL);
    close(fds[0]);
    close(fds[1]);
    usleep(2000);
    n = region_read(buf, sizeof buf, true, 7);
    vfu_tracer_record(t, VFU_TRACE_TWIN, VFU_TRACE_RX, buf, n, NULL, 0, NULL);
    struct vfu_error eof;
    vfu_error_set(&eof, VFU_E_EOF, -1, -1, 5, 16);
    vfu_tracer_record(t, VFU_TRACE_MAIN, VFU_TRACE_RX, buf, 5, NULL, 0, &eof);
    for (int i = 0; i < 3; i++) vfu_tracer_record(t, VFU_TRACE_MAIN, VFU_TRACE_TX, buf, n, NULL, 0, NULL);
    size_t kept = vfu_tracer_count(t);
    assert_true(kept >= 3 && kept < 6);

    char path[] = "/tmp/vfu-print-XXXXXX";
    close(mkstemp(path));
    struct vfu_error err;
    assert_true(vfu_tracer_write(t, path, &err));
    vfu_tracer_free(t);

    int rc;
    char *out = print(path, &rc);
    assert_int_equal(rc, 0);
    has(out, "trace of REGION.read.basic, recorded by vfu-conform 0.1 at ");
    has(out, "server: ./evil\\x1b[2J\n");
    assert_null(strchr(out, '\033'));
    has(out, "capabilities: {\"max_msg_fds\":8}\n");
    has(out, "    0     0.000");
    has(out, "  tx  main  REGION_READ request id=7 ");
    has(out, "  fds: memfd(16384) eventfd\n");
    has(out, "  rx  twin  REGION_READ reply id=7 ");
    has(out, "  rx  main  ");
    has(out, "failed after 5 bytes: ");
    has(out, "EOF");
    char want[64];
    snprintf(want, sizeof want, "%zu event%s\n", kept, kept == 1 ? "" : "s");
    has(out, want);
    snprintf(want, sizeof want, "truncated (cap): %zu more event", 6 - kept);
    has(out, want);
    /* one line per event: count the event lines by their direction column */
    unsigned lines = 0;
    for (const char *p = out; (p = strstr(p, "  main  ")) != NULL; p++) lines++;
    for (const char *p = out; (p = strstr(p, "  twin  ")) != NULL; p++) lines++;
    assert_int_equal(lines, kept);
    /* the gap of the second event shows the pause */
    char *second = strstr(out, "\n    1 ");
    assert_non_null(second);
    char *end;
    double at = strtod(second + 7, &end);
    double gap = strtod(end, &end);
    assert_memory_equal(end, "  rx  twin", 10);
    assert_true(gap >= 0.002 && at >= gap);
    free(out);
    unlink(path);
}

static void unreadable(void **state)
{
    (void)state;
    int rc;
    char *out = print("/nonexistent/trace.cbor", &rc);
    assert_int_equal(rc, -1);
    assert_string_equal(out, "");
    has(why, "/nonexistent/trace.cbor: No such file or directory");
    free(out);

    char path[] = "/tmp/vfu-print-XXXXXX";
    int fd = mkstemp(path);
    assert_int_equal(write(fd, "\xa1\x66" "format\x63" "xyz", 12), 12);
    close(fd);
    out = print(path, &rc);
    assert_int_equal(rc, -1);
    has(why, "format: not \"vfu-trace\"");
    free(out);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(events_and_metadata),
        cmocka_unit_test(unreadable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
