/* What the loader makes of good scenario files: names resolved to the
 * generated tables' values, arms opened by the fields they hold, checks
 * placed in the reply, foreach unrolled with its bindings, defaults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vfu_codec.h"
#include "scn.h"

static struct scn_set load(const char *text)
{
    struct scn_set s;
    struct scn_errors e = {0};
    vfh_scn_set_init(&s);
    bool ok = vfh_scn_load_text(&s, "t.scn", text, strlen(text), &e);
    for (unsigned i = 0; i < e.n; i++) fprintf(stderr, "%s\n", e.msg[i]);
    vfh_scn_errors_free(&e);
    assert_true(ok);
    return s;
}

static void header_and_defaults(void **state)
{
    (void)state;
    struct scn_set s = load(
        "# a comment\r\n"
        "scenario DMA_MAP.x.y   # trailing comment\r\n"
        "  title   a title's \"# with\" a hash kept  \r\n"
        "  level SHOULD\n"
        "  rule the spec's word for it, with a # kept\n"
        "  requires irq MSIX region BAR2 migration\n"
        "  negotiate major=0 minor=1 caps.max_msg_fds=4 twin nonul\n"
        "end\n"
        "scenario other\n"
        "  send DEVICE_GET_INFO\n"
        "  expect ok\n"
        "end\n");
    assert_int_equal(s.n, 2);
    const struct scn_scenario *a = &s.v[0], *b = &s.v[1];
    assert_string_equal(a->id, "DMA_MAP.x.y");
    assert_string_equal(a->section, "VFIO_USER_DMA_MAP");   /* from the id */
    assert_string_equal(a->title, "a title's \"# with\" a hash kept");
    assert_int_equal(a->level, VFU_LEVEL_SHOULD);
    assert_string_equal(a->rule, "the spec's word for it, with a # kept");
    assert_null(b->rule);
    assert_int_equal(a->line, 2);
    assert_int_equal(a->nreqs, 3);
    assert_int_equal(a->reqs[0].kind, SCN_R_IRQ);
    assert_int_equal(a->reqs[0].arg.num, VFU_PCI_IRQ_MSIX);
    assert_int_equal(a->reqs[1].kind, SCN_R_REGION);
    assert_int_equal(a->reqs[1].arg.num, VFU_PCI_REGION_BAR2);
    assert_int_equal(a->reqs[2].kind, SCN_R_MIGRATION);
    assert_int_equal(a->neg.mode, SCN_NEG_CUSTOM);
    assert_true(a->neg.set_major && a->neg.set_minor && a->neg.nonul);
    assert_int_equal(a->neg.minor, 1);
    assert_int_equal(a->neg.ncaps, 2);
    assert_int_equal(a->neg.caps[0].cap, VFU_CAP_MAX_MSG_FDS);
    assert_int_equal(a->neg.caps[0].value, 4);
    assert_int_equal(a->neg.caps[1].cap, VFU_CAP_TWIN_SOCKET_SUPPORTED);
    /* no section, no id command: the first send's */
    assert_string_equal(b->section, "VFIO_USER_DEVICE_GET_INFO");
    assert_string_equal(b->title, "other");
    assert_int_equal(b->level, VFU_LEVEL_MUST);
    assert_int_equal(b->neg.mode, SCN_NEG_DEFAULT);
    assert_int_equal(b->nsteps, 2);
    assert_int_equal(b->steps[1].kind, SCN_S_EXPECT_OK);
    assert_int_equal(b->steps[1].u.expect.send_step, 0);
    assert_int_equal(b->steps[1].u.expect.cmd, VFU_CMD_DEVICE_GET_INFO);
    assert_int_equal(b->steps[1].line, 11);
    vfh_scn_set_free(&s);
}

static void send_items(void **state)
{
    (void)state;
    struct scn_set s = load(
        "scenario A\n  section S\n"
        "  send DMA_MAP flags=READ|WRITE address=$region.2.size+0x10 size=0x1000 argsz=0 fd=memfd:0x2000 noreply\n"
        "  expect none\n"
        "  send DEVICE_FEATURE flags=SET|FEATURE=MIG_DEVICE_STATE device_state=STOP_COPY unchecked\n"
        "  expect ok device_state=STOP_COPY\n"
        "  send DEVICE_FEATURE flags=SET|FEATURE=DMA_LOGGING_START page_size=4096 +ranges iova=1 length=2 +ranges iova=3\n"
        "  expect error ENOTSUP EINVAL 5\n"
        "  send DEVICE_GET_INFO\n"
        "  expect error-or-close EINVAL? 0?\n"
        "  send VERSION major=0 data=text:'{\"a\": 1}' @id=7 @flags=TYPE=REPLY|ERROR @truncate=20 @append=0102 @poke=4:ff\n"
        "  expect error-or-close\n"
        "  send REGION_WRITE_MULTI +wrs region=BAR0 data=0102 fds=3 fd=eventfd:e fd=devnull\n"
        "  expect reply\n"
        "  send 200 @size=4\n"
        "  expect close\n"
        "end\n");
    const struct scn_step *st = s.v[0].steps;
    /* DMA_MAP */
    const struct scn_item *it = st[0].u.send.items;
    assert_int_equal(st[0].u.send.cmd, VFU_CMD_DMA_MAP);
    assert_int_equal(st[0].u.send.nitems, 6);
    assert_int_equal(it[0].kind, SCN_I_SET);
    assert_int_equal(it[0].field, VFU_F_DMA_MAP_FLAGS);
    assert_int_equal(it[0].val.num, VFU_DMA_MAP_FLAGS_READ | VFU_DMA_MAP_FLAGS_WRITE);
    assert_int_equal(it[1].field, VFU_F_DMA_MAP_ADDRESS);
    assert_int_equal(it[1].val.nvars, 1);
    assert_string_equal(it[1].val.vars[0].name, "region.2.size");
    assert_int_equal(it[1].val.vars[0].add, 0x10);
    assert_int_equal(it[3].field, VFU_F_DMA_MAP_ARGSZ);
    assert_int_equal(it[4].kind, SCN_I_FD_MEMFD);
    assert_int_equal(it[4].val.num, 0x2000);
    assert_int_equal(it[5].kind, SCN_I_NOREPLY);
    assert_int_equal(st[1].kind, SCN_S_EXPECT_NONE);
    assert_int_equal(st[1].u.expect.ms.num, 200);
    /* the arm a field needs is opened by it, the one the flags select */
    it = st[2].u.send.items;
    assert_int_equal(st[2].u.send.nitems, 4);
    assert_int_equal(it[0].val.num, VFU_DEVICE_FEATURE_FLAGS_SET | VFU_DEVICE_FEATURE_MIG_DEVICE_STATE);
    assert_int_equal(it[1].kind, SCN_I_STRUCT);
    assert_int_equal(it[1].sid, VFU_S_FEATURE_MIG_STATE);
    assert_int_equal(it[2].field, VFU_F_FEATURE_MIG_STATE_DEVICE_STATE);
    assert_int_equal(it[2].val.num, VFU_DEVICE_MIG_STATE_STOP_COPY);
    assert_int_equal(it[3].kind, SCN_I_UNCHECKED);
    assert_int_equal(st[3].u.expect.nchecks, 1);
    assert_int_equal(st[3].u.expect.checks[0].loc.kind, SCN_L_FIELD);
    assert_int_equal(st[3].u.expect.checks[0].loc.field, VFU_F_FEATURE_MIG_STATE_DEVICE_STATE);
    assert_int_equal(st[3].u.expect.checks[0].val.num, VFU_DEVICE_MIG_STATE_STOP_COPY);
    /* arrays: +ranges appends an element whose fields follow */
    it = st[4].u.send.items;
    assert_int_equal(st[4].u.send.nitems, 8);
    assert_int_equal(it[1].kind, SCN_I_STRUCT);
    assert_int_equal(it[1].sid, VFU_S_DMA_LOGGING_CONTROL);
    assert_int_equal(it[2].field, VFU_F_DMA_LOGGING_CONTROL_PAGE_SIZE);
    assert_int_equal(it[3].kind, SCN_I_ELEM);
    assert_int_equal(it[3].field, VFU_F_DMA_LOGGING_CONTROL_RANGES);
    assert_int_equal(it[4].field, VFU_F_DMA_LOGGING_RANGE_IOVA);
    assert_int_equal(it[5].field, VFU_F_DMA_LOGGING_RANGE_LENGTH);
    assert_int_equal(it[6].kind, SCN_I_ELEM);
    assert_int_equal(it[7].field, VFU_F_DMA_LOGGING_RANGE_IOVA);
    assert_int_equal(st[5].u.expect.nerrnos, 3);
    assert_int_equal(st[5].u.expect.errnos[0], 95);
    assert_int_equal(st[5].u.expect.errnos[1], 22);
    assert_int_equal(st[5].u.expect.errnos[2], 5);
    assert_false(st[5].u.expect.prefer);
    /* preferred errnos: any error meets the step */
    assert_int_equal(st[7].kind, SCN_S_EXPECT_ERROR_OR_CLOSE);
    assert_true(st[7].u.expect.prefer);
    assert_int_equal(st[7].u.expect.nerrnos, 2);
    assert_int_equal(st[7].u.expect.errnos[0], 22);
    assert_int_equal(st[7].u.expect.errnos[1], 0);
    /* bytes and header edits */
    it = st[8].u.send.items;
    assert_int_equal(it[1].kind, SCN_I_DATA);
    assert_int_equal(it[1].field, VFU_F_VERSION_DATA);
    assert_true(it[1].nul);   /* text: into a string field carries its NUL */
    assert_int_equal(it[1].bytes.n, 8);
    assert_memory_equal(it[1].bytes.p, "{\"a\": 1}", 8);
    assert_int_equal(it[2].kind, SCN_I_HDR);
    assert_int_equal(it[2].val.num, 7);
    assert_int_equal(it[3].val.num, VFU_MSG_TYPE_REPLY | VFU_HDR_FLAGS_ERROR);
    assert_int_equal(it[4].kind, SCN_I_TRUNCATE);
    assert_int_equal(it[5].kind, SCN_I_APPEND);
    assert_int_equal(it[5].bytes.n, 2);
    assert_int_equal(it[6].kind, SCN_I_POKE);
    assert_int_equal(it[6].val.num, 4);
    assert_int_equal(it[6].bytes.p[0], 0xff);
    assert_int_equal(st[9].u.expect.nerrnos, 0);
    /* fixed bytes of an element, fds */
    it = st[10].u.send.items;
    assert_int_equal(it[0].kind, SCN_I_ELEM);
    assert_int_equal(it[1].field, VFU_F_WRITE_MULTI_ENTRY_REGION);
    assert_int_equal(it[1].val.num, VFU_PCI_REGION_BAR0);
    assert_int_equal(it[2].kind, SCN_I_BYTES);
    assert_int_equal(it[3].kind, SCN_I_FDS);
    assert_int_equal(it[4].kind, SCN_I_FD_EVENTFD);
    assert_string_equal(it[4].name, "e");
    assert_int_equal(it[5].kind, SCN_I_FD_DEVNULL);
    /* a command number the spec does not know */
    assert_int_equal(st[12].u.send.cmd, 200);
    assert_int_equal(st[13].kind, SCN_S_EXPECT_CLOSE);
    vfh_scn_set_free(&s);
}

static void checks_and_steps(void **state)
{
    (void)state;
    struct scn_set s = load(
        "scenario A\n  section S\n"
        "  send DEVICE_GET_REGION_INFO index=CONFIG\n"
        "  expect ok flags&READ|WRITE flags!&MMAP size>=0x100 areas[2].size<5 fds=0 save sz=size\n"
        "  send REGION_READ region=CONFIG count=4\n"
        "  expect ok len(data)!=0 data!=00 save raw=data\n"
        "  map m 0x1000 0x2000 message READ\n"
        "  irq v MSIX 3\n"
        "  read CONFIG 0 4 as ids\n"
        "  write BAR0 0x10 $ids 2\n"
        "  write BAR0 0x10 text:abc\n"
        "  set big $sz|$ids+1\n"
        "  check $big >= 3\n"
        "  check $sz!&1\n"
        "  poke 0x1000 00ff\n"
        "  expect memory 0x1000 $raw\n"
        "  expect interrupt v\n"
        "  expect no-interrupt v 50\n"
        "  expect served dma-write 2\n"
        "  expect violation dma_address\n"
        "  unmap m\n"
        "  sleep $sz\n"
        "  disconnect\n"
        "  reconnect\n"
        "  restart\n"
        "end\n");
    const struct scn_scenario *sc = &s.v[0];
    const struct scn_step *st = sc->steps;
    const struct scn_check *k = st[1].u.expect.checks;
    assert_int_equal(st[1].u.expect.nchecks, 5);
    assert_int_equal(k[0].op, SCN_OP_ALL);
    assert_int_equal(k[0].val.num, VFU_REGION_INFO_FLAGS_READ | VFU_REGION_INFO_FLAGS_WRITE);
    assert_int_equal(k[1].op, SCN_OP_NONE);
    assert_int_equal(k[2].op, SCN_OP_GE);
    assert_int_equal(k[3].loc.kind, SCN_L_ELEM);
    assert_int_equal(k[3].loc.array, VFU_F_CAP_SPARSE_MMAP_AREAS);
    assert_int_equal(k[3].loc.index, 2);
    assert_int_equal(k[3].loc.field, VFU_F_SPARSE_MMAP_AREA_SIZE);
    assert_int_equal(k[3].op, SCN_OP_LT);
    assert_int_equal(k[4].loc.kind, SCN_L_FDS);
    assert_int_equal(st[1].u.expect.nsaves, 1);
    assert_string_equal(st[1].u.expect.saves[0].var, "sz");
    k = st[3].u.expect.checks;
    assert_int_equal(k[0].loc.kind, SCN_L_LEN);
    assert_int_equal(k[0].op, SCN_OP_NE);
    assert_int_equal(k[1].loc.kind, SCN_L_BYTES);
    assert_int_equal(k[1].bytes.n, 1);
    assert_int_equal(st[3].u.expect.saves[0].loc.kind, SCN_L_BYTES);
    st += 2;
    assert_int_equal(st[2].kind, SCN_S_MAP);
    assert_false(st[2].u.map.memfd);
    assert_int_equal(st[2].u.map.prot.num, VFU_DMA_MAP_FLAGS_READ);
    assert_int_equal(st[3].u.irq.index.num, VFU_PCI_IRQ_MSIX);
    assert_int_equal(st[3].u.irq.sub.num, 3);
    assert_string_equal(st[4].u.rw.as, "ids");
    assert_int_equal(st[5].u.rw.count.num, 2);
    assert_true(st[6].u.rw.has_bytes);
    assert_int_equal(st[6].u.rw.bytes.n, 3);
    assert_int_equal(st[7].u.set.val.nvars, 2);
    assert_int_equal(st[7].u.set.val.vars[1].add, 1);
    assert_int_equal(st[8].u.check.op, SCN_OP_GE);
    assert_int_equal(st[9].u.check.op, SCN_OP_NONE);
    assert_string_equal(st[11].u.mem.bytes.var, "raw");
    assert_int_equal(st[12].u.intr.ms.num, 1000);
    assert_int_equal(st[13].kind, SCN_S_EXPECT_NO_INTERRUPT);
    assert_int_equal(st[13].u.intr.ms.num, 50);
    assert_true(st[14].u.served.write);
    assert_int_equal(st[14].u.served.min.num, 2);
    assert_int_equal(st[16].kind, SCN_S_UNMAP);
    assert_int_equal(st[20].kind, SCN_S_RESTART);
    /* restart needs the server started by us */
    assert_int_equal(sc->nreqs, 1);
    assert_int_equal(sc->reqs[0].kind, SCN_R_SERVER);
    vfh_scn_set_free(&s);
}

static void foreach_unrolled(void **state)
{
    (void)state;
    struct scn_set s = load(
        "foreach C in client-commands\n"
        "foreach N in 1..2\n"
        "scenario {C}.n{N}\n"
        "  title {C} number {N} {unbound} {\"json\"}\n"
        "  sleep {N}\n"
        "end\n"
        "endfor\n"
        "endfor\n");
    /* every client command but VERSION, twice */
    unsigned n = 0;
    for (unsigned c = 0; c <= VFU_CMD_MAX; c++) {
        const struct vfu_cmd_desc *d = vfu_cmd(c);
        n += d && d->dir == VFU_DIR_CLIENT && c != VFU_CMD_VERSION;
    }
    assert_int_equal(s.n, 2 * n);
    assert_string_equal(s.v[0].id, "DMA_MAP.n1");
    assert_string_equal(s.v[1].id, "DMA_MAP.n2");
    assert_string_equal(s.v[1].title, "DMA_MAP number 2 {unbound} {\"json\"}");
    assert_string_equal(s.v[1].section, "VFIO_USER_DMA_MAP");
    assert_int_equal(s.v[1].steps[0].u.sleep.ms.num, 2);
    assert_int_equal(s.v[1].steps[0].line, 5);
    assert_string_equal(s.v[1].steps[0].origin, "C=DMA_MAP N=2");
    assert_int_equal(s.v[1].line, 3);
    vfh_scn_set_free(&s);

    s = load("foreach C in server-commands\nscenario {C}.x\nend\nendfor\n");
    assert_int_equal(s.n, 2);
    assert_string_equal(s.v[0].id, "DMA_READ.x");
    assert_string_equal(s.v[1].id, "DMA_WRITE.x");
    vfh_scn_set_free(&s);
}

static void errno_names(void **state)
{
    (void)state;
    uint32_t v;
    assert_true(vfh_scn_errno_value("EEXIST", &v));
    assert_int_equal(v, 17);
    assert_true(vfh_scn_errno_value("ENOTSUP", &v));
    assert_int_equal(v, 95);
    assert_false(vfh_scn_errno_value("EWINGS", &v));
    assert_string_equal(vfh_scn_errno_name(22), "EINVAL");
    assert_null(vfh_scn_errno_name(0));
    assert_null(vfh_scn_errno_name(100000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_and_defaults),
        cmocka_unit_test(send_items),
        cmocka_unit_test(checks_and_steps),
        cmocka_unit_test(foreach_unrolled),
        cmocka_unit_test(errno_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
