/* The generated boundary scenarios (harness/gen.h) for a made-up device:
 * they load, exist for the places the device offers and only those, take
 * their wrap-around values from the tables' field widths, and come out the
 * same every time (stable ids). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vfu_codec.h"
#include "gen.h"
#include "scn.h"
#include "spec_tables.h"

static struct gen_device device(void)
{
    struct gen_device d;
    memset(&d, 0, sizeof d);
    d.nregions = 3;
    d.region[0].size = 0x1000;
    d.region[0].flags = VFU_REGION_INFO_FLAGS_READ | VFU_REGION_INFO_FLAGS_WRITE;
    d.region[0].width = 4;
    memcpy(d.region[0].first, "\x11\x22\x33\x44", 4);
    d.region[0].has_last = true;
    memcpy(d.region[0].last, "\xaa\xbb\xcc\xdd", 4);
    /* region 1 has no size: nothing is generated for it */
    d.region[2].size = 0x100;
    d.region[2].flags = VFU_REGION_INFO_FLAGS_READ;
    d.region[2].width = 8;
    d.nirqs = 3;
    d.irq[0].count = 1;
    d.irq[2].count = 4;
    d.pgsize = 4096;
    d.max_xfer = 1 << 20;
    for (int c = 0; c < VFU_CAP__COUNT; c++) d.cap[c] = vfu_spec.capabilities[c].dflt;
    return d;
}

static struct scn_set load(const struct gen_device *d, struct gen_buf *b)
{
    memset(b, 0, sizeof *b);
    assert_true(vfh_gen_bounds(d, b));
    struct scn_set s;
    struct scn_errors e = {0};
    vfh_scn_set_init(&s);
    bool ok = vfh_scn_load_text(&s, "generated", b->p, b->n, &e);
    for (unsigned i = 0; i < e.n; i++) fprintf(stderr, "%s\n", e.msg[i]);
    vfh_scn_errors_free(&e);
    assert_true(ok);
    return s;
}

static const struct scn_scenario *find(const struct scn_set *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i].id, id)) return &s->v[i];
    return NULL;
}

static size_t count_prefix(const struct scn_set *s, const char *prefix)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++) n += !strncmp(s->v[i].id, prefix, strlen(prefix));
    return n;
}

/* the value a scenario's first send sets in field f */
static uint64_t sent(const struct scn_scenario *sc, int f)
{
    for (unsigned k = 0; k < sc->nsteps; k++) {
        if (sc->steps[k].kind != SCN_S_SEND) continue;
        for (unsigned j = 0; j < sc->steps[k].u.send.nitems; j++) {
            const struct scn_item *it = &sc->steps[k].u.send.items[j];
            if (it->kind == SCN_I_SET && it->field == f) return it->val.num;
        }
        fail_msg("%s: the send sets no field %d", sc->id, f);
    }
    fail_msg("%s: no send", sc->id);
    return 0;
}

static uint64_t wrap(int f, uint64_t v)
{
    unsigned bits = 8u * vfu_spec.fields[f].width;
    return bits >= 64 ? (uint64_t)0 - v : ((uint64_t)1 << bits) - v;
}

static void places_offered_only(void **state)
{
    (void)state;
    struct gen_device d = device();
    struct gen_buf b;
    struct scn_set s = load(&d, &b);
    assert_non_null(find(&s, "REGION_READ.bounds.r0.one-past-end"));
    assert_non_null(find(&s, "REGION_WRITE.bounds.r0.one-past-end"));
    assert_non_null(find(&s, "REGION_READ.bounds.r2.one-past-end"));
    assert_int_equal(count_prefix(&s, "REGION_READ.bounds.r1."), 0);   /* no size */
    assert_int_equal(count_prefix(&s, "REGION_WRITE.bounds.r2."), 0);  /* read-only */
    assert_non_null(find(&s, "DEVICE_SET_IRQS.bounds.i0.one-past-end"));
    assert_int_equal(count_prefix(&s, "DEVICE_SET_IRQS.bounds.i1."), 0); /* no vectors */
    assert_null(find(&s, "DEVICE_SET_IRQS.bounds.i0.last-valid"));     /* one vector: first is last */
    assert_non_null(find(&s, "DEVICE_SET_IRQS.bounds.i2.last-valid"));
    const char *kinds[] = {"memfd-rw", "memfd-ro", "message-rw", "message-ro"};
    for (int k = 0; k < 4; k++) {
        char id[128];
        snprintf(id, sizeof id, "DMA_MAP.bounds.%s.overlap-last-page", kinds[k]);
        assert_non_null(find(&s, id));
        snprintf(id, sizeof id, "DMA_UNMAP.bounds.%s.alias32", kinds[k]);
        assert_non_null(find(&s, id));
    }
    /* a pair inside an array element: REGION_WRITE_MULTI's writes, on
     * writable regions, needing the capability the spec names
     * (needs-cap), and never above the element's 8 bytes */
    const struct scn_scenario *mw = find(&s, "REGION_WRITE_MULTI.bounds.r0.one-past-end");
    assert_non_null(mw);
    assert_int_equal(mw->nreqs, 1);
    assert_int_equal(mw->reqs[0].kind, SCN_R_WRITE_MULTIPLE);
    assert_int_equal(mw->steps[0].u.send.items[0].kind, SCN_I_ELEM);
    assert_int_equal(count_prefix(&s, "REGION_WRITE_MULTI.bounds.r2."), 0);
    assert_null(find(&s, "REGION_WRITE_MULTI.bounds.r0.count-wrap32"));
    assert_non_null(find(&s, "REGION_WRITE_MULTI.bounds.r0.straddle-end"));   /* 2 x 4 bytes fit */
    /* the dirty report, inside DEVICE_FEATURE's arms, after logging starts */
    const struct scn_scenario *dr = find(&s, "DEVICE_FEATURE.bounds.dirty.message-ro.pages-wrap32");
    assert_non_null(dr);
    assert_int_equal(dr->reqs[0].kind, SCN_R_DMA_LOGGING);
    assert_true(sent(dr, VFU_F_DMA_LOGGING_CONTROL_PAGE_SIZE) == 4096);
    assert_int_equal(dr->steps[0].kind, SCN_S_MAP);          /* over a window of that kind */
    assert_false(dr->steps[0].u.map.memfd);
    /* interactions per mapping kind: a second client meanwhile, a reconnect */
    const struct scn_scenario *sc2 = find(&s, "SESSION.second-client.message-ro.window-kept");
    assert_non_null(sc2);
    assert_int_equal(sc2->steps[0].kind, SCN_S_MAP);
    assert_int_equal(sc2->steps[1].kind, SCN_S_SECOND_CLIENT);
    assert_string_equal(sc2->section, "Socket");
    assert_non_null(find(&s, "SESSION.disconnect.memfd-ro.window-dropped"));
    /* every index field of every client command, at the device's count */
    const struct scn_scenario *ix = find(&s, "DEVICE_GET_REGION_INFO.bounds.index.one-past-last");
    assert_non_null(ix);
    assert_int_equal(sent(ix, VFU_F_REGION_INFO_REQ_INDEX), 3);
    assert_non_null(find(&s, "DEVICE_GET_IRQ_INFO.bounds.index.max"));
    assert_non_null(find(&s, "REGION_WRITE.bounds.region.max"));
    /* every scenario names its rule; the ones asking beyond the spec say so
     * and are SHOULD at most */
    for (size_t i = 0; i < s.n; i++) {
        assert_non_null(s.v[i].rule);
        if (strstr(s.v[i].rule, "stricter than the spec")) assert_int_not_equal(s.v[i].level, VFU_LEVEL_MUST);
    }
    vfh_scn_set_free(&s);
    vfh_gen_buf_free(&b);
}

static void values_from_the_tables(void **state)
{
    (void)state;
    struct gen_device d = device();
    struct gen_buf b;
    struct scn_set s = load(&d, &b);
    const struct scn_scenario *sc = find(&s, "REGION_READ.bounds.r0.one-past-end");
    assert_int_equal(sent(sc, VFU_F_REGION_ACCESS_OFFSET), 0x1000);
    assert_int_equal(sent(sc, VFU_F_REGION_ACCESS_COUNT), 4);   /* the width the probe learned */
    sc = find(&s, "REGION_READ.bounds.r0.last-valid");
    assert_int_equal(sent(sc, VFU_F_REGION_ACCESS_OFFSET), 0xffc);
    sc = find(&s, "REGION_READ.bounds.r2.last-valid");
    assert_int_equal(sent(sc, VFU_F_REGION_ACCESS_OFFSET), 0xf8);
    /* the offset is 64 bits wide, the count 32: their wraps */
    char id[128];
    snprintf(id, sizeof id, "REGION_READ.bounds.r0.wrap%u-to-zero", 8u * vfu_spec.fields[VFU_F_REGION_ACCESS_OFFSET].width);
    sc = find(&s, id);
    assert_non_null(sc);
    assert_true(sent(sc, VFU_F_REGION_ACCESS_OFFSET) == wrap(VFU_F_REGION_ACCESS_OFFSET, 4));
    snprintf(id, sizeof id, "REGION_READ.bounds.r0.count-wrap%u", 8u * vfu_spec.fields[VFU_F_REGION_ACCESS_COUNT].width);
    sc = find(&s, id);
    assert_non_null(sc);
    assert_true(sent(sc, VFU_F_REGION_ACCESS_COUNT) == wrap(VFU_F_REGION_ACCESS_COUNT, 4));
    sc = find(&s, "REGION_READ.bounds.r0.alias32-start");
    assert_true(sent(sc, VFU_F_REGION_ACCESS_OFFSET) == (uint64_t)1 << 32);
    snprintf(id, sizeof id, "DEVICE_SET_IRQS.bounds.i2.wrap%u-to-one", 8u * vfu_spec.fields[VFU_F_SET_IRQS_START].width);
    sc = find(&s, id);
    assert_non_null(sc);
    assert_true(sent(sc, VFU_F_SET_IRQS_START) == wrap(VFU_F_SET_IRQS_START, 1));
    assert_int_equal(sent(sc, VFU_F_SET_IRQS_COUNT), 2);
    sc = find(&s, "DEVICE_SET_IRQS.bounds.i2.one-past-end");
    assert_int_equal(sent(sc, VFU_F_SET_IRQS_START), 4);
    /* a window's last page, at the probe's page size */
    sc = find(&s, "DMA_MAP.bounds.memfd-ro.overlap-last-page");
    assert_int_equal(sc->steps[0].kind, SCN_S_MAP);
    uint64_t base = sc->steps[0].u.map.addr.num, size = sc->steps[0].u.map.size.num;
    assert_true(sent(sc, VFU_F_DMA_MAP_ADDRESS) == base + size - 4096);
    assert_int_equal(sent(sc, VFU_F_DMA_MAP_SIZE), 4096);
    assert_int_equal(sc->steps[0].u.map.prot.num, VFU_DMA_MAP_FLAGS_READ);
    /* the file offset: 2^32 above the last offset the 8-page memfd has */
    sc = find(&s, "DMA_MAP.bounds.memfd-ro.offset-alias32");
    assert_non_null(sc);
    assert_true(sent(sc, VFU_F_DMA_MAP_OFFSET) == ((uint64_t)1 << 32) + 4 * 4096);
    /* the title names the file and its size once ("of a memfd of 0x8000
     * bytes: 2^32 above..."); it once read "a memfd of : 0x8000 bytes" */
    assert_non_null(strstr(sc->title, " of a memfd of 0x8000 bytes: 2^32 above the last valid offset"));
    sc = find(&s, "DMA_MAP.bounds.message-ro.offset-without-fd");
    assert_non_null(strstr(sc->title, " of no file: "));
    assert_null(find(&s, "DMA_MAP.bounds.message-ro.offset-alias32"));   /* no file to be in */
    assert_non_null(find(&s, "DMA_MAP.bounds.message-ro.offset-without-fd"));
    snprintf(id, sizeof id, "DMA_MAP.bounds.message-rw.top%u", 8u * vfu_spec.fields[VFU_F_DMA_MAP_ADDRESS].width);
    sc = find(&s, id);
    assert_non_null(sc);
    assert_true(sent(sc, VFU_F_DMA_MAP_ADDRESS) == wrap(VFU_F_DMA_MAP_ADDRESS, 4096));
    vfh_scn_set_free(&s);
    vfh_gen_buf_free(&b);
}

/* the write inside puts back the bytes the probe read there */
static void writes_put_back(void **state)
{
    (void)state;
    struct gen_device d = device();
    struct gen_buf b;
    struct scn_set s = load(&d, &b);
    const struct scn_scenario *sc = find(&s, "REGION_WRITE.bounds.r0.last-valid");
    assert_non_null(sc);
    const struct scn_step *st = &sc->steps[0];
    assert_int_equal(st->kind, SCN_S_SEND);
    bool seen = false;
    for (unsigned j = 0; j < st->u.send.nitems; j++)
        if (st->u.send.items[j].kind == SCN_I_DATA) {
            assert_int_equal(st->u.send.items[j].bytes.n, 4);
            assert_memory_equal(st->u.send.items[j].bytes.p, "\xaa\xbb\xcc\xdd", 4);
            seen = true;
        }
    assert_true(seen);
    vfh_scn_set_free(&s);
    vfh_gen_buf_free(&b);
    /* without the bytes of the last place, no write there */
    d.region[0].has_last = false;
    s = load(&d, &b);
    assert_null(find(&s, "REGION_WRITE.bounds.r0.last-valid"));
    assert_non_null(find(&s, "REGION_READ.bounds.r0.last-valid"));
    vfh_scn_set_free(&s);
    vfh_gen_buf_free(&b);
}

static void stable(void **state)
{
    (void)state;
    struct gen_device d = device();
    struct gen_buf a = {0}, b = {0};
    assert_true(vfh_gen_bounds(&d, &a));
    assert_true(vfh_gen_bounds(&d, &b));
    assert_int_equal(a.n, b.n);
    assert_memory_equal(a.p, b.p, a.n);
    vfh_gen_buf_free(&a);
    vfh_gen_buf_free(&b);
    /* no device places: only the index fields and DMA space */
    struct gen_device none;
    memset(&none, 0, sizeof none);
    struct scn_set s = load(&none, &a);
    assert_int_equal(count_prefix(&s, "REGION_READ.bounds.r0."), 0);
    assert_int_equal(count_prefix(&s, "DEVICE_SET_IRQS.bounds.i0."), 0);
    assert_int_equal(count_prefix(&s, "REGION_READ.bounds.region."), 2);
    assert_true(count_prefix(&s, "DMA_MAP.bounds.") > 0);
    vfh_scn_set_free(&s);
    vfh_gen_buf_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(places_offered_only),
        cmocka_unit_test(values_from_the_tables),
        cmocka_unit_test(writes_put_back),
        cmocka_unit_test(stable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
