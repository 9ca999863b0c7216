/* Sums of spec sizes in scenario values: $sizeof.A+$sizeof.B-N and the
 * like resolve to numbers when the file is read, from the generated tables
 * (compared here with the generated VFU_SIZE_ constants); one run-time
 * variable may take part, kept as its name plus the rest of the sum; every
 * malformed sum is a load error that says what is wrong. */
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

/* a scenario around some steps: the steps start on line 3 */
#define S(steps) "scenario A.b\n  section S\n" steps "end\n"

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

/* item i of the send that is step k of the only scenario */
static const struct scn_item *item(const struct scn_set *s, unsigned k, unsigned i)
{
    assert_int_equal(s->n, 1);
    assert_true(k < s->v[0].nsteps);
    const struct scn_step *st = &s->v[0].steps[k];
    assert_int_equal(st->kind, SCN_S_SEND);
    assert_true(i < st->u.send.nitems);
    return &st->u.send.items[i];
}

/* the item of that send that sets field */
static const struct scn_item *set_of(const struct scn_set *s, unsigned k, int field)
{
    const struct scn_step *st = &s->v[0].steps[k];
    for (unsigned i = 0; i < st->u.send.nitems; i++)
        if (st->u.send.items[i].kind == SCN_I_SET && st->u.send.items[i].field == field) return &st->u.send.items[i];
    fail_msg("step %u sets no field %d", k, field);
    return NULL;
}

static void sums_of_spec_sizes(void **state)
{
    (void)state;
    struct scn_set s = load(S(
        "  send DEVICE_FEATURE flags=GET|FEATURE=MIGRATION argsz=$sizeof.device_feature+$sizeof.feature_migration\n"
        "  expect ok\n"
        "  send DEVICE_FEATURE flags=SET|FEATURE=DMA_LOGGING_START page_size=4096 +ranges iova=0 length=0x1000 "
        "argsz=$sizeof.device_feature+$sizeof.dma_logging_control+$sizeof.dma_logging_range\n"
        "  expect ok\n"
        "  send DEVICE_FEATURE flags=GET|FEATURE=DMA_LOGGING_REPORT argsz=$sizeof.device_feature+$sizeof.dma_logging_report+8\n"
        "  expect ok\n"
        "  send DMA_MAP argsz=$sizeof.dma_map-1 size=$sizeof.dma_map-$sizeof.dma_unmap+0x10\n"
        "  expect ok\n"
        "  send DEVICE_GET_INFO @truncate=$sizeof.header+4 @poke=$offsetof.header.msg_size+1:00 @size=$sizeof.header-8\n"
        "  expect ok argsz>=$sizeof.device_info+0 argsz<$sizeof.device_info+$sizeof.device_info\n"));
    assert_int_equal(item(&s, 0, 1)->kind, SCN_I_SET);
    assert_int_equal(item(&s, 0, 1)->field, VFU_F_DEVICE_FEATURE_REQ_ARGSZ);
    assert_int_equal(item(&s, 0, 1)->val.num, VFU_SIZE_DEVICE_FEATURE + VFU_SIZE_FEATURE_MIGRATION);
    assert_int_equal(item(&s, 0, 1)->val.nvars, 0);
    assert_int_equal(set_of(&s, 2, VFU_F_DEVICE_FEATURE_REQ_ARGSZ)->val.num,
                     VFU_SIZE_DEVICE_FEATURE + VFU_SIZE_DMA_LOGGING_CONTROL + VFU_SIZE_DMA_LOGGING_RANGE);
    assert_int_equal(set_of(&s, 4, VFU_F_DEVICE_FEATURE_REQ_ARGSZ)->val.num, VFU_SIZE_DEVICE_FEATURE + VFU_SIZE_DMA_LOGGING_REPORT + 8);
    assert_int_equal(set_of(&s, 6, VFU_F_DMA_MAP_ARGSZ)->val.num, VFU_SIZE_DMA_MAP - 1);
    /* a difference of sizes, then a hex constant */
    assert_int_equal(set_of(&s, 6, VFU_F_DMA_MAP_SIZE)->val.num, VFU_SIZE_DMA_MAP - VFU_SIZE_DMA_UNMAP + 0x10);
    /* header items take sums too, @poke's offset included */
    assert_int_equal(item(&s, 8, 0)->kind, SCN_I_TRUNCATE);
    assert_int_equal(item(&s, 8, 0)->val.num, VFU_SIZE_HEADER + 4);
    assert_int_equal(item(&s, 8, 1)->kind, SCN_I_POKE);
    assert_int_equal(item(&s, 8, 1)->val.num, (uint64_t)vfu_field_offset(VFU_F_HEADER_MSG_SIZE) + 1);
    assert_int_equal(item(&s, 8, 2)->kind, SCN_I_HDR);
    assert_int_equal(item(&s, 8, 2)->val.num, VFU_SIZE_HEADER - 8);
    /* and checks of a reply */
    const struct scn_step *ex = &s.v[0].steps[9];
    assert_int_equal(ex->u.expect.nchecks, 2);
    assert_int_equal(ex->u.expect.checks[0].val.num, VFU_SIZE_DEVICE_INFO);
    assert_int_equal(ex->u.expect.checks[1].val.num, 2 * VFU_SIZE_DEVICE_INFO);
    vfh_scn_set_free(&s);
}

/* one run-time variable in a sum: its name, the rest of the sum as its
 * constant; a sum ORed with other terms stays a term of its own */
static void sums_with_a_variable(void **state)
{
    (void)state;
    struct scn_set s = load(S(
        "  send MIG_DATA_READ size=0x1000 argsz=$sizeof.mig_data+$server.max_data_xfer_size\n"
        "  expect ok\n"
        "  send REGION_READ offset=$rw_region.size-$sizeof.dma_map+1 count=4\n"
        "  expect ok\n"
        "  send DMA_MAP flags=$sizeof.header|READ|$num_irqs+$sizeof.header\n"
        "  expect ok\n"));
    const struct scn_item *a = item(&s, 0, 1);
    assert_int_equal(a->val.num, 0);
    assert_int_equal(a->val.nvars, 1);
    assert_string_equal(a->val.vars[0].name, "server.max_data_xfer_size");
    assert_int_equal(a->val.vars[0].add, VFU_SIZE_MIG_DATA);
    const struct scn_item *o = item(&s, 2, 0);
    assert_int_equal(o->val.nvars, 1);
    assert_string_equal(o->val.vars[0].name, "rw_region.size");
    assert_int_equal(o->val.vars[0].add, -(int64_t)VFU_SIZE_DMA_MAP + 1);
    const struct scn_item *f = item(&s, 4, 0);
    assert_int_equal(f->val.num, VFU_SIZE_HEADER | VFU_DMA_MAP_FLAGS_READ);
    assert_int_equal(f->val.nvars, 1);
    assert_string_equal(f->val.vars[0].name, "num_irqs");
    assert_int_equal(f->val.vars[0].add, VFU_SIZE_HEADER);
    vfh_scn_set_free(&s);
}

struct ecase {
    const char *text;
    const char *want;      /* the whole error */
};

#define FORMS "(write $NAME, $NAME+N, $NAME-N or a sum such as $sizeof.A+$sizeof.B-N)"

static const struct ecase cases[] = {
    /* names the tables do not have, anywhere in the sum */
    {S("  send DMA_MAP argsz=$sizeof.wings\n  expect ok\n"), "t.scn:3: argsz: $sizeof.wings: the spec has no structure 'wings'"},
    {S("  send DMA_MAP argsz=$sizeof.dma_map+$sizeof.wings\n  expect ok\n"),
     "t.scn:3: argsz: $sizeof.wings: the spec has no structure 'wings'"},
    {S("  send DMA_MAP argsz=$sizeof.dma_map-$offsetof.dma_map.wings\n  expect ok\n"),
     "t.scn:3: argsz: $offsetof.dma_map.wings: 'dma_map' has no fixed field of that name"},
    {S("  send DMA_MAP argsz=$sizeof.dma_map+$offsetof.dma_map\n  expect ok\n"),
     "t.scn:3: argsz: $offsetof.dma_map: write $offsetof.STRUCT.FIELD"},
    /* a tail has no fixed offset */
    {S("  send DMA_MAP argsz=$offsetof.version.data\n  expect ok\n"),
     "t.scn:3: argsz: $offsetof.version.data: 'version' has no fixed field of that name"},
    {S("  send DMA_MAP argsz=$sizeof.dma_map+$nosuch\n  expect ok\n"), "t.scn:3: argsz: unknown variable $nosuch"},
    /* malformed sums */
    {S("  send DMA_MAP argsz=$sizeof.dma_map+\n  expect ok\n"),
     "t.scn:3: argsz: bad variable term '$sizeof.dma_map+': nothing after '+' " FORMS},
    {S("  send DMA_MAP argsz=$sizeof.dma_map++8\n  expect ok\n"),
     "t.scn:3: argsz: bad variable term '$sizeof.dma_map++8': nothing after '+' " FORMS},
    {S("  send DMA_MAP argsz=$sizeof.dma_map+-8\n  expect ok\n"),
     "t.scn:3: argsz: bad variable term '$sizeof.dma_map+-8': nothing after '+' " FORMS},
    {S("  send DMA_MAP argsz=$sizeof.dma_map-\n  expect ok\n"),
     "t.scn:3: argsz: bad variable term '$sizeof.dma_map-': nothing after '-' " FORMS},
    {S("  send DMA_MAP argsz=$sizeof.dma_map+$\n  expect ok\n"),
     "t.scn:3: argsz: bad variable term '$sizeof.dma_map+$': a name after each $ " FORMS},
    {S("  send DMA_MAP argsz=$sizeof.dma_map+8x\n  expect ok\n"),
     "t.scn:3: argsz: bad variable term '$sizeof.dma_map+8x': '8x' is not a number or $NAME " FORMS},
    {S("  send DMA_MAP argsz=$sizeof.dma_map+dma_unmap\n  expect ok\n"),
     "t.scn:3: argsz: bad variable term '$sizeof.dma_map+dma_unmap': 'dma_unmap' is not a number or $NAME " FORMS},
    {S("  send DMA_MAP argsz=$sizeof.dma_map*2\n  expect ok\n"), "t.scn:3: argsz: bad variable term '$sizeof.dma_map*2' " FORMS},
    {S("  send DMA_MAP argsz=$sizeof.dma_map$sizeof.dma_map\n  expect ok\n"),
     "t.scn:3: argsz: bad variable term '$sizeof.dma_map$sizeof.dma_map' " FORMS},
    /* what a value cannot hold */
    {S("  send DMA_MAP argsz=$sizeof.dma_map-$rw_region.size\n  expect ok\n"),
     "t.scn:3: argsz: bad variable term '$sizeof.dma_map-$rw_region.size': $rw_region.size subtracted (only numbers, "
     "$sizeof and $offsetof can be)"},
    {S("  send DMA_MAP argsz=$rw_region.size+$num_irqs\n  expect ok\n"),
     "t.scn:3: argsz: bad variable term '$rw_region.size+$num_irqs': $rw_region.size and $num_irqs in one sum (a sum "
     "holds at most one variable besides $sizeof and $offsetof; join values with |)"},
    {S("  send DMA_MAP argsz=$sizeof.dma_unmap-$sizeof.dma_map\n  expect ok\n"),
     "t.scn:3: argsz: bad variable term '$sizeof.dma_unmap-$sizeof.dma_map': below zero (-8)"},
    {S("  send DMA_MAP argsz=$sizeof.dma_map+0x7fffffffffffffff\n  expect ok\n"),
     "t.scn:3: argsz: bad variable term '$sizeof.dma_map+0x7fffffffffffffff': the sum is out of range"},
    {S("  send DMA_MAP argsz=$sizeof.dma_map+0x8000000000000000\n  expect ok\n"),
     "t.scn:3: argsz: bad variable term '$sizeof.dma_map+0x8000000000000000': the sum is too large"},
    {S("  send REGION_READ offset=$rw_region.size-0x7fffffffffffffff-0x7fffffffffffffff\n  expect ok\n"),
     "t.scn:3: offset: bad variable term '$rw_region.size-0x7fffffffffffffff-0x7fffffffffffffff': the sum is out of range"},
    /* a size is a number, not bytes */
    {S("  send REGION_WRITE data=$sizeof.dma_map\n  expect ok\n"), "t.scn:3: '$sizeof.dma_map' is a number, not a variable's bytes"},
    {S("  send REGION_WRITE data=$sizeof.dma_map+$rw_region.size\n  expect ok\n"),
     "t.scn:3: bytes of a variable take no +/-: '$sizeof.dma_map+$rw_region.size'"},
};

static void malformed_sums(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct scn_set s;
        struct scn_errors e = {0};
        vfh_scn_set_init(&s);
        bool ok = vfh_scn_load_text(&s, "t.scn", cases[i].text, strlen(cases[i].text), &e);
        if (ok || e.n != 1 || strcmp(e.msg[0], cases[i].want)) {
            fprintf(stderr, "case %zu:\n%s\nwant: %s\ngot:  %s\n", i, cases[i].text, cases[i].want, e.n ? e.msg[0] : "(no error)");
            fail();
        }
        assert_int_equal(s.n, 0);
        vfh_scn_errors_free(&e);
        vfh_scn_set_free(&s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sums_of_spec_sizes),
        cmocka_unit_test(sums_with_a_variable),
        cmocka_unit_test(malformed_sums),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
