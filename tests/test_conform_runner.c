/* The runner against the reference server (vfu-refserver, started through
 * lib/proc): every bundled scenario passes; scenarios that are wrong on
 * purpose fail with the reason and kind they should; --only style
 * selection, xfail and XPASS; --connect to a server we run ourselves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <cmocka.h>

#include "proc.h"
#include "runner.h"
#include "scn.h"

#ifndef SRV_BIN
#error "SRV_BIN: the vfu-refserver program"
#endif
#ifndef SCN_DIR
#error "SCN_DIR: the bundled scenarios"
#endif

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
    if (d) closedir(d);
    return n - 1;
}

static const char *vname(enum vfu_verdict v)
{
    static const char *const n[] = {"PASS", "FAIL", "SKIP", "XFAIL", "XPASS", "ERROR"};
    return n[v];
}

static void dump(const struct vfu_run *run)
{
    for (size_t i = 0; i < run->n; i++) {
        const struct vfu_result *r = &run->results[i];
        if (r->verdict != VFU_PASS)
            fprintf(stderr, "  %-5s %s (kind %d): %s\n", vname(r->verdict), r->id, r->kind, r->reason);
        if (r->server_stderr) fprintf(stderr, "--- server stderr ---\n%s\n---\n", r->server_stderr);
    }
}

static void load(struct scn_set *s, const char *path)
{
    struct scn_errors errs = {0};
    vfh_scn_set_init(s);
    bool ok = vfh_scn_load_path(s, path, &errs);
    for (unsigned i = 0; i < errs.n; i++) fprintf(stderr, "%s\n", errs.msg[i]);
    vfh_scn_errors_free(&errs);
    assert_true(ok);
}

static void load_text(struct scn_set *s, const char *text)
{
    struct scn_errors errs = {0};
    vfh_scn_set_init(s);
    bool ok = vfh_scn_load_text(s, "t.scn", text, strlen(text), &errs);
    for (unsigned i = 0; i < errs.n; i++) fprintf(stderr, "%s\n", errs.msg[i]);
    vfh_scn_errors_free(&errs);
    assert_true(ok);
}

static bool run(const struct scn_set *s, const struct vfu_runner_opts *o, struct vfu_run *r)
{
    const struct scn_scenario **list = calloc(s->n, sizeof *list);
    assert_non_null(list);
    for (size_t i = 0; i < s->n; i++) list[i] = &s->v[i];
    char why[1024];
    bool ok = vfh_runner_run(list, s->n, o, r, why, sizeof why);
    if (!ok) fprintf(stderr, "run: %s\n", why);
    free(list);
    return ok;
}

static const struct vfu_result *find(const struct vfu_run *r, const char *id)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->results[i].id, id)) return &r->results[i];
    fail_msg("no result %s", id);
    return NULL;
}

static void bundled_all_pass(void **state)
{
    (void)state;
    int fds = count_fds();
    struct scn_set s;
    load(&s, SCN_DIR);
    assert_true(s.n >= 40);
    struct vfu_runner_opts o = {.server_cmd = SRV_BIN, .timeout_ms = 3000};
    struct vfu_run r;
    assert_true(run(&s, &o, &r));
    assert_int_equal(r.n, s.n);
    dump(&r);
    unsigned bad = 0;
    for (size_t i = 0; i < r.n; i++) bad += r.results[i].verdict != VFU_PASS;
    assert_int_equal(bad, 0);
    assert_int_equal(r.counts[VFU_PASS], s.n);
    vfh_run_free(&r);
    vfh_scn_set_free(&s);
    assert_int_equal(count_fds(), fds);
}

/* Scenarios that are wrong on purpose: each step kind's failure is
 * reported with the step, its line, and what came instead. */
static const char wrong[] =
    "scenario W.errno\n  section S\n"                                   /* 1 */
    "  map a 0x100000 0x4000 memfd\n"
    "  send DMA_MAP flags=READ|WRITE address=0x102000 size=0x4000 fd=memfd\n"
    "  expect error ENOENT EPERM\n"
    "end\n"
    "scenario W.field\n  section S\n"                                   /* 7 */
    "  send DEVICE_GET_INFO\n"
    "  expect ok num_regions=$num_regions num_irqs>100\n"
    "end\n"
    "scenario W.ok_got_error\n  section S\n"                            /* 12 */
    "  send DEVICE_GET_REGION_INFO index=$num_regions\n"
    "  expect ok\n"
    "end\n"
    "scenario W.memory\n  section S\n"                                  /* 17 */
    "  map a 0x100000 0x1000 memfd\n"
    "  poke 0x100010 0102\n"
    "  expect memory 0x100010 0103\n"
    "end\n"
    "scenario W.interrupt\n  section S\n"                               /* 23 */
    "  irq v MSIX 1\n"
    "  expect interrupt v 50\n"
    "end\n"
    "scenario W.no_interrupt\n  section S\n"                            /* 28 */
    "  irq v MSIX 1\n"
    "  send DEVICE_SET_IRQS flags=DATA_NONE|ACTION_TRIGGER index=MSIX start=1 count=1\n"
    "  expect ok\n"
    "  expect no-interrupt v 200\n"
    "end\n"
    "scenario W.served\n  section S\n"                                  /* 35 */
    "  map a 0x100000 0x1000 message\n"
    "  expect served dma-read\n"
    "end\n"
    "scenario W.check\n  section S\n"                                   /* 40 */
    "  read CONFIG 0 2 as vendor\n"
    "  check $vendor!=0x1234\n"
    "end\n"
    "scenario W.none\n  section S\n"                                    /* 45 */
    "  send DEVICE_GET_INFO\n"
    "  expect none 100\n"
    "end\n"
    "scenario W.close\n  section S\n"                                   /* 50 */
    "  send DEVICE_GET_INFO\n"
    "  expect close\n"
    "end\n"
    "scenario W.data\n  section S\n"                                    /* 55 */
    "  send REGION_READ region=BAR0 offset=0x20 count=4\n"
    "  expect ok data=746f7932\n"
    "end\n"
    "scenario W.elem\n  section S\n"                                    /* 60 */
    "  send DEVICE_GET_REGION_INFO index=BAR2 argsz=256\n"
    "  expect ok areas[5].size=1\n"
    "end\n"
    "scenario W.violation\n  section S\n"                               /* 65 */
    "  expect violation DMA_ADDRESS\n"
    "end\n"
    "scenario W.unseen\n  section S\n"                                  /* 69 */
    "  write CONFIG 4 0x4 2\n"
    "  write BAR0 0x18 3 4\n"
    "  map dst 0x100000 0x1000 memfd\n"
    "  send DMA_MAP flags=READ|WRITE address=0x300000 size=0x1000\n"
    "  expect ok\n"
    "  write BAR0 0x00 0x300000 8\n"
    "  write BAR0 0x08 0x100000 8\n"
    "  write BAR0 0x10 4 4\n"
    "  write BAR0 0x14 1 4\n"
    "end\n"
    "scenario W.skip\n  section S\n  requires region 40\nend\n"          /* 80 */
    "scenario W.poke_range\n  section S\n"                              /* 84 */
    "  send DEVICE_GET_INFO @poke=100:00\n"
    "  expect ok\n"
    "end\n"
    "scenario W.unchecked\n  section S\n"                               /* 89 */
    "  send REGION_READ region=BAR0 offset=0 count=0x200000\n"
    "  expect error\n"
    "end\n"
    "scenario W.other_device\n  section S\n  requires device 0x1af4:0x1000\nend\n"
    "scenario W.this_device\n  section S\n  requires device 0x1234:0x11f0\n  check $pci.device=0x11f0\nend\n"
    "scenario W.pass\n  section S\n  send DEVICE_GET_INFO\n  expect ok\nend\n";

struct want { const char *id; enum vfu_verdict v; enum vfu_failure_kind k; const char *reason; };

static void wrong_fail_precisely(void **state)
{
    (void)state;
    static const struct want w[] = {
        {"W.errno", VFU_FAIL, VFU_FK_MISMATCH, "step 3 (t.scn:5): expected error ENOENT|EPERM, got error reply EEXIST"},
        {"W.field", VFU_FAIL, VFU_FK_MISMATCH, "step 2 (t.scn:10): num_irqs: expected > 0x64, got 5"},
        {"W.ok_got_error", VFU_FAIL, VFU_FK_MISMATCH, "step 2 (t.scn:15): expected a success reply, got error reply EINVAL"},
        {"W.memory", VFU_FAIL, VFU_FK_MISMATCH, "step 3 (t.scn:21): memory at 0x100011: expected 03, got 02"},
        {"W.interrupt", VFU_FAIL, VFU_FK_MISMATCH, "step 2 (t.scn:26): interrupt v did not fire within 50 ms"},
        {"W.no_interrupt", VFU_FAIL, VFU_FK_MISMATCH, "step 4 (t.scn:33): interrupt v fired (1 times)"},
        {"W.served", VFU_FAIL, VFU_FK_MISMATCH, "step 2 (t.scn:38): served 0 DMA_READ requests, expected at least 1"},
        {"W.check", VFU_FAIL, VFU_FK_MISMATCH, "step 2 (t.scn:43): check failed: 0x1234 != 0x1234"},
        {"W.none", VFU_FAIL, VFU_FK_MISMATCH, "step 2 (t.scn:48): expected no reply, got success reply"},
        {"W.close", VFU_FAIL, VFU_FK_MISMATCH, "step 2 (t.scn:53): expected the connection closed, got success reply"},
        {"W.data", VFU_FAIL, VFU_FK_MISMATCH, "step 2 (t.scn:58): data: expected 746f7932, got 746f7931"},
        {"W.elem", VFU_FAIL, VFU_FK_MISMATCH, "step 2 (t.scn:63): areas[5].size: the reply has 1 element"},
        {"W.violation", VFU_FAIL, VFU_FK_MISMATCH, "step 1 (t.scn:67): expected the server to break a DMA_ADDRESS rule; it did not"},
        {"W.unseen", VFU_FAIL, VFU_FK_VIOLATION, "step 9 (t.scn:79): the server broke a rule: DMA_ADDRESS"},
        {"W.skip", VFU_SKIP, VFU_FK_NONE, "the server does not offer region 40"},
        {"W.poke_range", VFU_ERROR, VFU_FK_NONE, "step 1 (t.scn:87): @poke at 100: the message is only 32 bytes"},
        {"W.unchecked", VFU_ERROR, VFU_FK_NONE, "step 1 (t.scn:92): cannot send: "},
        {"W.other_device", VFU_SKIP, VFU_FK_NONE, "the scenario is about PCI device 1af4:1000; this one is another"},
        {"W.this_device", VFU_PASS, VFU_FK_NONE, ""},
        {"W.pass", VFU_XPASS, VFU_FK_NONE, ""},
    };
    struct scn_set s;
    load_text(&s, wrong);
    const char *xfail[] = {"W.pass", "W.e*"};
    struct vfu_runner_opts o = {.server_cmd = SRV_BIN, .timeout_ms = 2000, .xfail = xfail, .nxfail = 2};
    struct vfu_run r;
    assert_true(run(&s, &o, &r));
    assert_int_equal(r.n, sizeof w / sizeof w[0]);
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
        const struct vfu_result *res = find(&r, w[i].id);
        enum vfu_verdict v = w[i].v;
        /* W.e* is listed in xfail: its failure is expected */
        if (!strncmp(w[i].id, "W.e", 3) && v == VFU_FAIL) v = VFU_XFAIL;
        if (res->verdict != v || res->kind != w[i].k || strncmp(res->reason, w[i].reason, strlen(w[i].reason))) {
            fprintf(stderr, "%s: %s/%d: %s\nwant %s/%d: %s\n", res->id, vname(res->verdict), res->kind, res->reason,
                    vname(v), w[i].k, w[i].reason);
            fail();
        }
    }
    assert_int_equal(r.counts[VFU_XFAIL], 2);   /* W.errno, W.elem */
    assert_int_equal(r.counts[VFU_XPASS], 1);
    assert_int_equal(r.counts[VFU_SKIP], 2);
    assert_int_equal(r.counts[VFU_ERROR], 2);
    vfh_run_free(&r);
    vfh_scn_set_free(&s);
}

/* a server that is already running, reached by its socket */
static void connect_mode(void **state)
{
    (void)state;
    char dir[] = "/tmp/vfu-conform-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/sock", dir);
    struct vfu_proc p;
    memset(&p, 0, sizeof p);
    struct vfu_proc_spec spec = {.cmd = SRV_BIN, .socket_path = path};
    struct vfu_error err;
    assert_true(vfu_proc_start(&p, &spec, &err));
    struct scn_set s;
    load_text(&s, "scenario C.info\n  section S\n  send DEVICE_GET_INFO\n  expect ok num_regions=$num_regions\nend\n"
                  "scenario C.restart\n  section S\n  restart\nend\n");
    struct vfu_runner_opts o = {.connect_path = path, .timeout_ms = 2000};
    struct vfu_run r;
    assert_true(run(&s, &o, &r));
    assert_int_equal(find(&r, "C.info")->verdict, VFU_PASS);
    assert_int_equal(find(&r, "C.restart")->verdict, VFU_SKIP);
    assert_string_equal(find(&r, "C.restart")->reason, "needs vfu-conform to start the server (--server)");
    vfh_run_free(&r);
    /* a path with nothing there: the run cannot start */
    o.connect_path = "/nonexistent/sock";
    const struct scn_scenario *one = &s.v[0];
    char why[256];
    assert_false(vfh_runner_run(&one, 1, &o, &r, why, sizeof why));
    assert_string_equal(why, "cannot reach /nonexistent/sock: No such file or directory");
    vfh_scn_set_free(&s);
    vfu_proc_stop(&p, 2000);
    vfu_proc_free(&p);
    rmdir(dir);
}

/* a server that cannot start: the run cannot happen, and says why */
static void server_will_not_start(void **state)
{
    (void)state;
    struct scn_set s;
    load_text(&s, "scenario C.info\n  section S\nend\n");
    const struct scn_scenario *one = &s.v[0];
    struct vfu_runner_opts o = {.server_cmd = "/nonexistent/server", .timeout_ms = 500};
    struct vfu_run r;
    char why[1024];
    assert_false(vfh_runner_run(&one, 1, &o, &r, why, sizeof why));
    assert_non_null(strstr(why, "the server would not start"));
    assert_null(r.results);
    o.server_cmd = SRV_BIN " --no-such-option";
    assert_false(vfh_runner_run(&one, 1, &o, &r, why, sizeof why));
    /* its own words come along */
    assert_non_null(strstr(why, "--no-such-option"));
    vfh_scn_set_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bundled_all_pass),
        cmocka_unit_test(wrong_fail_precisely),
        cmocka_unit_test(connect_mode),
        cmocka_unit_test(server_will_not_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
