/* The REGION_INFO capability chain: offsets a peer controls, so every link
 * must move forward, stay inside the payload and end within VFU_MAX_CHAIN_CAPS
 * steps.  Chains are built with vfu_enc_chain_cap and then bent one link at a time. */
#include "codec_cases.h"
#include "spec_tables.h"

#include <string.h>

static uint8_t buf[CODEC_BUF];
static struct vfu_enc e;

static const int CAPOFF = VFU_F_REGION_INFO_CAP_OFFSET;
static const int NEXT = VFU_F_REGION_CAP_HEADER_NEXT;

static void begin(void)
{
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_GET_REGION_INFO, true, 1);
    vfu_enc_set(&e, VFU_F_REGION_INFO_FLAGS, VFU_REGION_INFO_FLAGS_READ | VFU_REGION_INFO_FLAGS_CAPS);
    vfu_enc_set(&e, VFU_F_REGION_INFO_INDEX, VFU_PCI_REGION_BAR4);
    vfu_enc_set(&e, VFU_F_REGION_INFO_SIZE, 0x100000);
}

static void type_cap(uint32_t subtype)
{
    vfu_enc_chain_cap(&e, VFU_F_REGION_INFO_CAPS, VFU_REGION_CAP_ID_TYPE);
    vfu_enc_set(&e, VFU_F_REGION_CAP_HEADER_VERSION, 1);
    vfu_enc_set(&e, VFU_F_CAP_TYPE_TYPE, 1);
    vfu_enc_set(&e, VFU_F_CAP_TYPE_SUBTYPE, subtype);
}

static void sparse_cap(unsigned nareas, uint64_t base)
{
    vfu_enc_chain_cap(&e, VFU_F_REGION_INFO_CAPS, VFU_REGION_CAP_ID_SPARSE_MMAP);
    vfu_enc_set(&e, VFU_F_REGION_CAP_HEADER_VERSION, 1);
    for (unsigned i = 0; i < nareas; i++) {
        vfu_enc_elem(&e, VFU_F_CAP_SPARSE_MMAP_AREAS);
        vfu_enc_set(&e, VFU_F_SPARSE_MMAP_AREA_OFFSET, base + i * 0x1000);
        vfu_enc_set(&e, VFU_F_SPARSE_MMAP_AREA_SIZE, 0x1000);
    }
}

static size_t done(void)
{
    struct vfu_error err;
    assert_true(vfu_enc_finish(&e, &err));
    codec_expect_ok(buf, e.len, NULL, 0, NULL, VFU_ROLE_CLIENT);
    return e.len;
}

/* payload offset of the n-th capability header the encoder wrote */
static uint32_t cap_at(unsigned n)
{
    for (unsigned k = 0; k < e.nparts; k++)
        if (e.parts[k].kind == VFU_P_STRUCT && e.parts[k].sid == VFU_S_REGION_CAP_HEADER && n-- == 0)
            return e.parts[k].off;
    fail_msg("no capability %u", n);
    return 0;
}

static void set_at(uint32_t off, int field, uint64_t v)
{
    const struct vfu_field_desc *f = &vfu_spec.fields[field];
    vfu_write_uint(buf + VFU_HDR_SIZE + off + f->offset, f->width, v);
}

static void bad(size_t len, enum vfu_errc code, int field)
{
    codec_expect_error(buf, len, NULL, 0, NULL, VFU_ROLE_CLIENT, code, VFU_CMD_DEVICE_GET_REGION_INFO, field);
}

static void loops(void **state)
{
    (void)state;
    begin();
    type_cap(1);
    type_cap(2);
    type_cap(3);
    size_t len = done();
    /* the last back to the first, to the middle, to itself */
    set_at(cap_at(2), NEXT, cap_at(0));
    bad(len, VFU_E_CAP_CHAIN, NEXT);
    set_at(cap_at(2), NEXT, cap_at(1));
    bad(len, VFU_E_CAP_CHAIN, NEXT);
    set_at(cap_at(2), NEXT, cap_at(2));
    bad(len, VFU_E_CAP_CHAIN, NEXT);
    set_at(cap_at(2), NEXT, 0);
    /* the first to itself, and into its own header */
    uint32_t first_next = (uint32_t)vfu_read_uint(buf + VFU_HDR_SIZE + cap_at(0) + vfu_spec.fields[NEXT].offset, 4);
    set_at(cap_at(0), NEXT, cap_at(0));
    bad(len, VFU_E_CAP_CHAIN, NEXT);
    set_at(cap_at(0), NEXT, cap_at(0) + VFU_SIZE_REGION_CAP_HEADER - 1);
    bad(len, VFU_E_CAP_CHAIN, NEXT);
    /* into the body it follows: the body is then shorter than its layout */
    set_at(cap_at(0), NEXT, cap_at(0) + VFU_SIZE_REGION_CAP_HEADER + 4);
    bad(len, VFU_E_PAYLOAD_SHORT, VFU_F_CAP_TYPE_SUBTYPE);
    set_at(cap_at(0), NEXT, first_next);
    codec_expect_ok(buf, len, NULL, 0, NULL, VFU_ROLE_CLIENT);
}

static void out_of_bounds(void **state)
{
    (void)state;
    begin();
    type_cap(1);
    type_cap(2);
    size_t len = done();
    uint32_t plen = (uint32_t)(len - VFU_HDR_SIZE);
    /* the chain starts inside the fixed part, at the end, past it */
    const uint64_t starts[] = {VFU_SIZE_REGION_INFO - 4, plen, plen - VFU_SIZE_REGION_CAP_HEADER + 1,
                               plen + 8, UINT32_MAX};
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
        set_at(0, CAPOFF, starts[i]);
        bad(len, VFU_E_CAP_CHAIN, CAPOFF);
    }
    set_at(0, CAPOFF, VFU_SIZE_REGION_INFO);
    /* a link past the end, or leaving no room for a header */
    const uint64_t nexts[] = {plen, plen - VFU_SIZE_REGION_CAP_HEADER + 1, plen + 8, UINT32_MAX};
    for (size_t i = 0; i < sizeof nexts / sizeof nexts[0]; i++) {
        set_at(cap_at(0), NEXT, nexts[i]);
        bad(len, VFU_E_CAP_CHAIN, NEXT);
    }
}

/* VFU_MAX_CHAIN_CAPS capabilities are fine; one more is refused as a chain error
 * (not as running out of parts), whatever the capabilities hold. */
static void too_many(void **state)
{
    (void)state;
    begin();
    for (unsigned i = 0; i < VFU_MAX_CHAIN_CAPS; i++) type_cap(i);
    size_t len = done();
    struct vfu_msg m;
    struct vfu_error err;
    assert_true(vfu_decode(&m, buf, len, NULL, 0, NULL, VFU_ROLE_CLIENT, &err));
    unsigned n = 0;
    for (const struct vfu_part *h = vfu_part_next(&m, NULL, VFU_S_REGION_CAP_HEADER); h;
         h = vfu_part_next(&m, h, VFU_S_REGION_CAP_HEADER)) {
        const struct vfu_part *b = vfu_part_child(&m, h, VFU_F_REGION_INFO_CAPS);
        assert_non_null(b);
        assert_int_equal(vfu_part_get(&m, b, VFU_F_CAP_TYPE_SUBTYPE), n);
        n++;
    }
    assert_int_equal(n, VFU_MAX_CHAIN_CAPS);

    begin();
    for (unsigned i = 0; i <= VFU_MAX_CHAIN_CAPS; i++) type_cap(i);
    struct vfu_error eerr;
    assert_true(vfu_enc_finish(&e, &eerr));
    bad(e.len, VFU_E_CAP_CHAIN, VFU_F_REGION_INFO_CAPS);

    /* capabilities with a tail of their own take three parts each */
    begin();
    for (unsigned i = 0; i < VFU_MAX_CHAIN_CAPS; i++) sparse_cap(1, i * 0x10000);
    done();
    begin();
    for (unsigned i = 0; i <= VFU_MAX_CHAIN_CAPS; i++) sparse_cap(1, i * 0x10000);
    assert_true(vfu_enc_finish(&e, &eerr));
    bad(e.len, VFU_E_CAP_CHAIN, VFU_F_REGION_INFO_CAPS);
}

/* A gap between capabilities is padding: allowed, and part of nothing. */
static void gap(void **state)
{
    (void)state;
    begin();
    type_cap(1);
    type_cap(2);
    size_t len = done();
    uint32_t second = cap_at(1), pad = 8;
    memmove(buf + VFU_HDR_SIZE + second + pad, buf + VFU_HDR_SIZE + second, len - VFU_HDR_SIZE - second);
    memset(buf + VFU_HDR_SIZE + second, 0xee, pad);
    len += pad;
    codec_patch_size(buf, len);
    set_at(0, VFU_F_REGION_INFO_ARGSZ, len - VFU_HDR_SIZE);
    set_at(cap_at(0), NEXT, second + pad);
    codec_expect_ok(buf, len, NULL, 0, NULL, VFU_ROLE_CLIENT);
    struct vfu_msg m;
    struct vfu_error err;
    assert_true(vfu_decode(&m, buf, len, NULL, 0, NULL, VFU_ROLE_CLIENT, &err));
    const struct vfu_part *h = vfu_part_next(&m, vfu_part_next(&m, NULL, VFU_S_REGION_CAP_HEADER),
                                             VFU_S_REGION_CAP_HEADER);
    assert_non_null(h);
    assert_int_equal(h->off, second + pad);
    assert_int_equal(vfu_part_get(&m, vfu_part_child(&m, h, VFU_F_REGION_INFO_CAPS), VFU_F_CAP_TYPE_SUBTYPE), 2);
}

/* The last capability runs to the end of the payload and must fill it. */
static void trailing_bytes(void **state)
{
    (void)state;
    begin();
    type_cap(1);
    size_t len = done();
    set_at(0, VFU_F_REGION_INFO_ARGSZ, len - VFU_HDR_SIZE + 4);
    bad(codec_extend(buf, len, 4), VFU_E_PAYLOAD_LONG, VFU_F_REGION_INFO_CAPS);

    /* an area more than nr_areas says */
    begin();
    sparse_cap(2, 0);
    len = done();
    set_at(0, VFU_F_REGION_INFO_ARGSZ, len - VFU_HDR_SIZE + VFU_SIZE_SPARSE_MMAP_AREA);
    bad(codec_extend(buf, len, VFU_SIZE_SPARSE_MMAP_AREA), VFU_E_PAYLOAD_LONG, VFU_F_REGION_INFO_CAPS);
}

static void cap_fields(void **state)
{
    (void)state;
    begin();
    sparse_cap(2, 0);
    type_cap(1);
    size_t len = done();
    /* an id the spec does not describe (the kernel's MSIX_MAPPABLE is 3)
     * is passed on as raw bytes up to the next link or the end */
    set_at(cap_at(1), VFU_F_REGION_CAP_HEADER_ID, 3);
    codec_expect_ok(buf, len, NULL, 0, NULL, VFU_ROLE_CLIENT);
    struct vfu_msg m;
    struct vfu_error err;
    assert_true(vfu_decode(&m, buf, len, NULL, 0, NULL, VFU_ROLE_CLIENT, &err));
    const struct vfu_part *h = vfu_part_next(&m, vfu_part_next(&m, NULL, VFU_S_REGION_CAP_HEADER),
                                             VFU_S_REGION_CAP_HEADER);
    const struct vfu_part *raw = vfu_part_child(&m, h, VFU_F_REGION_INFO_CAPS);
    assert_non_null(raw);
    assert_int_equal(raw->kind, VFU_P_RAW);
    assert_int_equal(raw->off, cap_at(1) + VFU_SIZE_REGION_CAP_HEADER);
    assert_int_equal(raw->len, VFU_SIZE_CAP_TYPE);
    set_at(cap_at(1), VFU_F_REGION_CAP_HEADER_ID, VFU_REGION_CAP_ID_TYPE);
    set_at(cap_at(0) + VFU_SIZE_REGION_CAP_HEADER, VFU_F_CAP_SPARSE_MMAP_RESERVED, 1);
    bad(len, VFU_E_MBZ, VFU_F_CAP_SPARSE_MMAP_RESERVED);
    set_at(cap_at(0) + VFU_SIZE_REGION_CAP_HEADER, VFU_F_CAP_SPARSE_MMAP_RESERVED, 0);
    /* nr_areas past the next capability */
    set_at(cap_at(0) + VFU_SIZE_REGION_CAP_HEADER, VFU_F_CAP_SPARSE_MMAP_NR_AREAS, 3);
    bad(len, VFU_E_ARRAY_OVERRUN, VFU_F_CAP_SPARSE_MMAP_NR_AREAS);
}

/* Two capabilities of one kind each keep their own areas, in both the
 * encoder (which counts them) and the decoder. */
static void same_cap_twice(void **state)
{
    (void)state;
    begin();
    sparse_cap(2, 0x10000);
    sparse_cap(1, 0x80000);
    size_t len = done();
    struct vfu_msg m;
    struct vfu_error err;
    assert_true(vfu_decode(&m, buf, len, NULL, 0, NULL, VFU_ROLE_CLIENT, &err));
    const struct vfu_part *h = vfu_part_next(&m, NULL, VFU_S_REGION_CAP_HEADER);
    const struct vfu_part *b = vfu_part_child(&m, h, VFU_F_REGION_INFO_CAPS);
    assert_int_equal(vfu_part_get(&m, b, VFU_F_CAP_SPARSE_MMAP_NR_AREAS), 2);
    const struct vfu_part *a = vfu_part_child(&m, b, VFU_F_CAP_SPARSE_MMAP_AREAS);
    assert_non_null(a);
    assert_int_equal(a->count, 2);
    assert_int_equal(a->off, b->off + b->len);
    h = vfu_part_next(&m, h, VFU_S_REGION_CAP_HEADER);
    b = vfu_part_child(&m, h, VFU_F_REGION_INFO_CAPS);
    assert_int_equal(vfu_part_get(&m, b, VFU_F_CAP_SPARSE_MMAP_NR_AREAS), 1);
    a = vfu_part_child(&m, b, VFU_F_CAP_SPARSE_MMAP_AREAS);
    assert_non_null(a);
    assert_int_equal(a->count, 1);
    assert_int_equal(a->off, b->off + b->len);
    const struct vfu_field_desc *f = &vfu_spec.fields[VFU_F_SPARSE_MMAP_AREA_OFFSET];
    assert_int_equal(vfu_read_uint(m.payload + a->off + f->offset, f->width), 0x80000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loops),
        cmocka_unit_test(out_of_bounds),
        cmocka_unit_test(too_many),
        cmocka_unit_test(gap),
        cmocka_unit_test(trailing_bytes),
        cmocka_unit_test(cap_fields),
        cmocka_unit_test(same_cap_twice),
    };
    return cmocka_run_group_tests_name("codec capability chain", tests, NULL, NULL);
}
