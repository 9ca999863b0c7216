/* The dissector and the summary: what they show for valid and broken
 * messages, that their verdict is the codec's, and that no bytes make them
 * read out of bounds (the sanitized build runs the mutation loop). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfu_codec.h"
#include "vfu_caps.h"
#include "vfu_dissect.h"
#include "spec_tables.h"

static uint8_t buf[1 << 16];
static struct vfu_enc enc;

static size_t finish(void)
{
    struct vfu_error err;
    assert_true(vfu_enc_finish(&enc, &err));
    return enc.len;
}

/* the view of buf[0..len) as a string the caller frees */
static char *view(size_t len, const struct vfu_dissect_opts *o, bool *ok)
{
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    assert_non_null(f);
    struct vfu_error err;
    *ok = vfu_dissect(f, buf, len, o, &err);
    fclose(f);
    assert_int_equal(*ok, err.code == VFU_OK);
    return out;
}

/* true when one line holds every one of the strings */
static bool line_has(const char *text, const char *a, const char *b, const char *c)
{
    for (const char *l = text; l && *l;) {
        const char *e = strchr(l, '\n');
        size_t n = e ? (size_t)(e - l) : strlen(l);
        char line[512];
        if (n >= sizeof line) n = sizeof line - 1;
        memcpy(line, l, n);
        line[n] = '\0';
        if (strstr(line, a) && (!b || strstr(line, b)) && (!c || strstr(line, c))) return true;
        l = e ? e + 1 : NULL;
    }
    return false;
}

static const char *last_line(const char *text)
{
    size_t n = strlen(text);
    assert_true(n > 1 && text[n - 1] == '\n');
    const char *p = text + n - 1;
    while (p > text && p[-1] != '\n') p--;
    return p;
}

static size_t dma_map(uint32_t flags)
{
    vfu_enc_begin(&enc, buf, sizeof buf, VFU_CMD_DMA_MAP, false, 7);
    vfu_enc_set(&enc, VFU_F_DMA_MAP_FLAGS, flags);
    vfu_enc_set(&enc, VFU_F_DMA_MAP_ADDRESS, 0x10000);
    vfu_enc_set(&enc, VFU_F_DMA_MAP_SIZE, 0x2000);
    return finish();
}

/* an offset whose length partner (the spec's span=) takes it past 2^64 */
static void wrapping_range_noted(void **state)
{
    (void)state;
    bool ok;
    vfu_enc_begin(&enc, buf, sizeof buf, VFU_CMD_REGION_READ, false, 3);
    vfu_enc_set(&enc, VFU_F_REGION_ACCESS_OFFSET, UINT64_MAX - 7);
    vfu_enc_set(&enc, VFU_F_REGION_ACCESS_COUNT, 8);
    char *out = view(finish(), NULL, &ok);
    assert_false(line_has(out, "wraps", NULL, NULL));   /* ends at the very top: no wrap */
    free(out);
    vfu_enc_set(&enc, VFU_F_REGION_ACCESS_COUNT, 9);
    out = view(enc.len, NULL, &ok);
    assert_true(line_has(out, "offset", "0xfffffffffffffff8", "(+ count wraps past the top)"));
    free(out);
}

static void valid_dma_map(void **state)
{
    (void)state;
    bool ok;
    char *out = view(dma_map(VFU_DMA_MAP_FLAGS_READ | VFU_DMA_MAP_FLAGS_WRITE), NULL, &ok);
    assert_true(ok);
    assert_true(line_has(out, "DMA_MAP request, id 7, 48 bytes", NULL, NULL));
    assert_true(line_has(out, "@8 ", "flags", "TYPE=COMMAND"));
    assert_true(line_has(out, "dma_map @16 (32 bytes)", NULL, NULL));
    assert_true(line_has(out, "@20 ", "u32", "0x00000003 (3) READ|WRITE"));
    assert_true(line_has(out, "@32 ", "address", "0x0000000000010000 (65536)"));
    assert_false(line_has(out, "<--", NULL, NULL));
    assert_string_equal(last_line(out), "valid\n");
    free(out);
}

static void reserved_flags_marked(void **state)
{
    (void)state;
    bool ok;
    char *out = view(dma_map(VFU_DMA_MAP_FLAGS_READ | 0x40), NULL, &ok);
    assert_false(ok);
    /* the body is still shown, raw, with the culprit marked */
    assert_true(line_has(out, "dma_map @16", "not decoded", NULL));
    assert_true(line_has(out, "flags", "READ|reserved=0x40", "<-- RESERVED_FLAGS"));
    assert_true(line_has(out, "@40 ", "size", "0x0000000000002000"));
    const char *l = last_line(out);
    assert_true(!strncmp(l, "violation: DMA_MAP request: flags:", 34));
    assert_non_null(strstr(l, "(spec: VFIO_USER_DMA_MAP)"));
    free(out);
}

static void short_header(void **state)
{
    (void)state;
    dma_map(0);
    bool ok;
    char *out = view(5, NULL, &ok);
    assert_false(ok);
    assert_true(line_has(out, "message of 5 bytes, shorter than a header", NULL, NULL));
    assert_true(line_has(out, "@0 ", "msg_id", "0x0007"));
    assert_true(line_has(out, "@4 ", "msg_size", "missing"));
    assert_true(line_has(last_line(out), "violation:", "HDR_SHORT", NULL));
    assert_null(strstr(last_line(out), "spec:"));
    free(out);
}

static void overrun_shows_rest_raw(void **state)
{
    (void)state;
    vfu_enc_begin(&enc, buf, sizeof buf, VFU_CMD_REGION_WRITE, false, 3);
    vfu_enc_data(&enc, VFU_F_REGION_ACCESS_DATA_DATA, "wxyz", 4);
    finish();
    vfu_enc_set(&enc, VFU_F_REGION_ACCESS_DATA_COUNT, 9);
    bool ok;
    char *out = view(enc.len, NULL, &ok);
    assert_false(ok);
    assert_true(line_has(out, "count", "0x00000009", "<-- ARRAY_OVERRUN"));
    assert_true(line_has(out, "data: not decoded", NULL, NULL));
    assert_true(line_has(out, "undecoded: 4 bytes @32", NULL, NULL));
    assert_true(line_has(out, "@32 ", "77 78 79 7a", "|wxyz|"));
    free(out);
}

static void region_info_caps(void **state)
{
    (void)state;
    vfu_enc_begin(&enc, buf, sizeof buf, VFU_CMD_DEVICE_GET_REGION_INFO, true, 2);
    vfu_enc_set(&enc, VFU_F_REGION_INFO_FLAGS, VFU_REGION_INFO_FLAGS_READ | VFU_REGION_INFO_FLAGS_CAPS);
    vfu_enc_chain_cap(&enc, VFU_F_REGION_INFO_CAPS, VFU_REGION_CAP_ID_SPARSE_MMAP);
    vfu_enc_elem(&enc, VFU_F_CAP_SPARSE_MMAP_AREAS);
    vfu_enc_set(&enc, VFU_F_SPARSE_MMAP_AREA_SIZE, 0x800);
    vfu_enc_elem(&enc, VFU_F_CAP_SPARSE_MMAP_AREAS);
    vfu_enc_set(&enc, VFU_F_SPARSE_MMAP_AREA_OFFSET, 0x800);
    vfu_enc_chain_cap(&enc, VFU_F_REGION_INFO_CAPS, VFU_REGION_CAP_ID_TYPE);
    vfu_enc_set(&enc, VFU_F_CAP_TYPE_SUBTYPE, 5);
    size_t len = finish();
    bool ok;
    char *out = view(len, NULL, &ok);
    assert_true(ok);
    assert_true(line_has(out, "flags", "READ|CAPS", NULL));
    assert_true(line_has(out, "caps: capability chain (region_caps), first at cap_offset=32", NULL, NULL));
    assert_true(line_has(out, "cap 0: SPARSE_MMAP", NULL, NULL));
    assert_true(line_has(out, "areas: 2 x sparse_mmap_area (16 bytes each) @64", NULL, NULL));
    assert_true(line_has(out, "[1] @80", NULL, NULL));
    assert_true(line_has(out, "@80 ", "offset", "0x0000000000000800"));
    assert_true(line_has(out, "cap 1: TYPE", NULL, NULL));
    assert_true(line_has(out, "@108 ", "subtype", "(5)"));

    char s[256];
    assert_true(vfu_summarize(buf, len, NULL, s, sizeof s, NULL));
    assert_non_null(strstr(s, " caps=SPARSE_MMAP,TYPE"));
    free(out);
}

static void io_fds_elements_and_fds(void **state)
{
    (void)state;
    vfu_enc_begin(&enc, buf, sizeof buf, VFU_CMD_DEVICE_GET_REGION_IO_FDS, true, 3);
    vfu_enc_elem(&enc, VFU_F_REGION_IO_FDS_SUB_REGIONS);
    vfu_enc_set(&enc, VFU_F_SUB_REGION_TYPE, VFU_IO_FD_TYPE_IOREGIONFD);
    vfu_enc_set(&enc, VFU_F_IOREGIONFD_USER_DATA, 0x42);
    size_t len = finish();
    bool ok;
    struct vfu_dissect_opts o = {1, NULL, VFU_ROLE_CLIENT, NULL, false, 0, false};
    char *out = view(len, &o, &ok);
    assert_true(ok);
    assert_true(line_has(out, "reply, id 3, 72 bytes, 1 fds", NULL, NULL));
    assert_true(line_has(out, "type", "IOREGIONFD", NULL));
    assert_true(line_has(out, "form: when IOREGIONFD -> ioregionfd", NULL, NULL));
    assert_true(line_has(out, "@64 ", "user_data", "0x0000000000000042"));
    free(out);

    /* the same reply without its fd breaks the fd rule, on count */
    o.nfds = 0;
    out = view(len, &o, &ok);
    assert_false(ok);
    assert_true(line_has(out, "count", "<-- FDS", NULL));
    free(out);

    /* and sent to the server it travels the wrong way */
    o.nfds = 1;
    o.receiver = VFU_ROLE_SERVER;
    out = view(len, &o, &ok);
    assert_false(ok);
    assert_true(line_has(last_line(out), "violation:", "DIRECTION", NULL));
    free(out);
}

static void truncated_reply(void **state)
{
    (void)state;
    vfu_enc_begin(&enc, buf, sizeof buf, VFU_CMD_DEVICE_GET_REGION_IO_FDS, true, 4);
    vfu_enc_set(&enc, VFU_F_REGION_IO_FDS_COUNT, 2);
    vfu_enc_set(&enc, VFU_F_REGION_IO_FDS_ARGSZ, 96);
    size_t len = finish();
    bool ok;
    char *out = view(len, NULL, &ok);
    assert_true(ok);
    assert_true(line_has(out, "sub_regions: left out, reply truncated (count=2)", NULL, NULL));
    free(out);
}

static void data_elided_unless_full(void **state)
{
    (void)state;
    vfu_enc_begin(&enc, buf, sizeof buf, VFU_CMD_REGION_WRITE, false, 9);
    uint8_t *d = vfu_enc_data(&enc, VFU_F_REGION_ACCESS_DATA_DATA, NULL, 200);
    for (int i = 0; i < 200; i++) d[i] = (uint8_t)i;
    size_t len = finish();
    bool ok;
    char *out = view(len, NULL, &ok);
    assert_true(ok);
    assert_true(line_has(out, "data: 200 bytes @32, len=count", NULL, NULL));
    assert_true(line_has(out, "@32 ", "00 01 02 03", NULL));
    assert_true(line_has(out, "... 136 more bytes", NULL, NULL));
    assert_false(line_has(out, "@224 ", NULL, NULL));
    free(out);

    struct vfu_dissect_opts o = {0, NULL, VFU_ROLE_ANY, NULL, true, 0, false};
    out = view(len, &o, &ok);
    assert_true(line_has(out, "@224 ", "c0 c1 c2 c3 c4 c5 c6 c7", NULL));
    assert_false(line_has(out, "more bytes", NULL, NULL));
    free(out);
}

static void string_escaped(void **state)
{
    (void)state;
    const char *js = "{\"a\":\"\\\t\"}\n";
    vfu_enc_begin(&enc, buf, sizeof buf, VFU_CMD_VERSION, false, 1);
    vfu_enc_data(&enc, VFU_F_VERSION_DATA, js, strlen(js) + 1);
    size_t len = finish();
    bool ok;
    char *out = view(len, NULL, &ok);
    /* a raw tab inside a JSON string: shown escaped, and refused as JSON */
    assert_false(ok);
    assert_true(line_has(out, "violation: VERSION request: data: capability JSON malformed", NULL, NULL));
    assert_true(line_has(out, "data: string, 12 bytes @20: \"{\\\"a\\\":\\\"\\\\\\t\\\"}\\n\"", NULL, NULL));
    free(out);
}

static void bitmap_and_variant(void **state)
{
    (void)state;
    vfu_enc_begin(&enc, buf, sizeof buf, VFU_CMD_DEVICE_FEATURE, true, 6);
    vfu_enc_set(&enc, VFU_F_DEVICE_FEATURE_FLAGS, VFU_DEVICE_FEATURE_DMA_LOGGING_REPORT | VFU_DEVICE_FEATURE_FLAGS_GET);
    vfu_enc_struct(&enc, VFU_S_DMA_LOGGING_REPORT);
    vfu_enc_set(&enc, VFU_F_DMA_LOGGING_REPORT_LENGTH, 4096 * 100);
    vfu_enc_set(&enc, VFU_F_DMA_LOGGING_REPORT_PAGE_SIZE, 4096);
    uint64_t w[2] = {0x5, 0x8000000000000000ull};
    vfu_enc_data(&enc, VFU_F_DMA_LOGGING_REPORT_BITMAP, w, sizeof w);
    size_t len = finish();
    bool ok;
    char *out = view(len, NULL, &ok);
    assert_true(ok);
    assert_true(line_has(out, "flags", "FEATURE=DMA_LOGGING_REPORT|GET", NULL));
    assert_true(line_has(out, "data: when FEATURE=DMA_LOGGING_REPORT GET -> dma_logging_report", NULL, NULL));
    assert_true(line_has(out, "bitmap: 2 u64 words @48, 3 pages set", NULL, NULL));
    assert_true(line_has(out, "[1] @56 0x8000000000000000", NULL, NULL));
    free(out);
}

/* "  -- DOC" for field fid, as the docs view ends its line */
static const char *doc_tail(int fid)
{
    static char b[4][320];
    static unsigned k;
    char *d = b[k++ % 4];
    snprintf(d, sizeof b[0], "  -- %s", vfu_field_doc(fid));
    return d;
}

/* how many lines hold s */
static unsigned lines_with(const char *text, const char *s)
{
    unsigned n = 0;
    for (const char *l = text; l && *l;) {
        const char *e = strchr(l, '\n');
        const char *hit = strstr(l, s);
        if (hit && (!e || hit < e)) n++;
        l = e ? e + 1 : NULL;
    }
    return n;
}

/* every field has a doc line (the generator refuses a spec without one),
 * and an unknown id has the empty one */
static void field_docs(void **state)
{
    (void)state;
    for (unsigned i = 0; i < vfu_nfields(); i++) assert_true(vfu_field_doc((int)i)[0] != '\0');
    assert_string_equal(vfu_field_doc(-1), "");
    assert_string_equal(vfu_field_doc((int)vfu_nfields()), "");
    assert_string_equal(vfu_field_doc(VFU_F_DMA_MAP_SIZE), vfu_field(VFU_F_DMA_MAP_SIZE)->doc);
}

/* with opts.docs each field's line ends with its doc: fixed fields, a
 * marked culprit, tails of every kind, and an array element's variant */
static void docs_beside_fields(void **state)
{
    (void)state;
    bool ok;
    size_t len = dma_map(VFU_DMA_MAP_FLAGS_READ);
    char *out = view(len, NULL, &ok);
    assert_false(line_has(out, " -- ", NULL, NULL));   /* not unless asked */
    free(out);
    struct vfu_dissect_opts o = {0, NULL, VFU_ROLE_ANY, NULL, false, 0, true};
    out = view(len, &o, &ok);
    assert_true(ok);
    assert_true(line_has(out, "@0 ", "msg_id", doc_tail(VFU_F_HEADER_MSG_ID)));
    assert_true(line_has(out, "@32 ", "address", doc_tail(VFU_F_DMA_MAP_ADDRESS)));
    assert_true(line_has(out, "@40 ", "size", doc_tail(VFU_F_DMA_MAP_SIZE)));
    /* once, on the field's own line: not the struct's, not the verdict's */
    assert_int_equal(lines_with(out, doc_tail(VFU_F_DMA_MAP_SIZE)), 1);
    assert_false(line_has(out, "dma_map @16", " -- ", NULL));
    assert_string_equal(last_line(out), "valid\n");
    free(out);

    out = view(dma_map(VFU_DMA_MAP_FLAGS_READ | 0x40), &o, &ok);
    assert_false(ok);
    assert_true(line_has(out, "<-- RESERVED_FLAGS", doc_tail(VFU_F_DMA_MAP_FLAGS), NULL));
    free(out);

    /* a variant, the struct its arm picks, and a bitmap tail */
    vfu_enc_begin(&enc, buf, sizeof buf, VFU_CMD_DEVICE_FEATURE, true, 6);
    vfu_enc_set(&enc, VFU_F_DEVICE_FEATURE_FLAGS, VFU_DEVICE_FEATURE_DMA_LOGGING_REPORT | VFU_DEVICE_FEATURE_FLAGS_GET);
    vfu_enc_struct(&enc, VFU_S_DMA_LOGGING_REPORT);
    vfu_enc_set(&enc, VFU_F_DMA_LOGGING_REPORT_LENGTH, 4096 * 64);
    vfu_enc_set(&enc, VFU_F_DMA_LOGGING_REPORT_PAGE_SIZE, 4096);
    uint64_t w = 1;
    vfu_enc_data(&enc, VFU_F_DMA_LOGGING_REPORT_BITMAP, &w, sizeof w);
    out = view(finish(), &o, &ok);
    assert_true(ok);
    assert_true(line_has(out, "data: when FEATURE=DMA_LOGGING_REPORT GET -> dma_logging_report",
                         doc_tail(VFU_F_DEVICE_FEATURE_DATA), NULL));
    assert_true(line_has(out, "page_size", doc_tail(VFU_F_DMA_LOGGING_REPORT_PAGE_SIZE), NULL));
    assert_true(line_has(out, "bitmap: 1 u64 words @48, 1 pages set", doc_tail(VFU_F_DMA_LOGGING_REPORT_BITMAP), NULL));
    assert_false(line_has(out, "[0] @48", " -- ", NULL));
    free(out);

    /* a capability chain and the array inside a capability */
    vfu_enc_begin(&enc, buf, sizeof buf, VFU_CMD_DEVICE_GET_REGION_INFO, true, 2);
    vfu_enc_set(&enc, VFU_F_REGION_INFO_FLAGS, VFU_REGION_INFO_FLAGS_READ | VFU_REGION_INFO_FLAGS_CAPS);
    vfu_enc_chain_cap(&enc, VFU_F_REGION_INFO_CAPS, VFU_REGION_CAP_ID_SPARSE_MMAP);
    vfu_enc_elem(&enc, VFU_F_CAP_SPARSE_MMAP_AREAS);
    out = view(finish(), &o, &ok);
    assert_true(ok);
    assert_true(line_has(out, "caps: capability chain", doc_tail(VFU_F_REGION_INFO_CAPS), NULL));
    assert_true(line_has(out, "next", doc_tail(VFU_F_REGION_CAP_HEADER_NEXT), NULL));
    assert_true(line_has(out, "areas: 1 x sparse_mmap_area", doc_tail(VFU_F_CAP_SPARSE_MMAP_AREAS), NULL));
    assert_false(line_has(out, "cap 0: SPARSE_MMAP", " -- ", NULL));
    free(out);

    /* an array element's variant, and a string tail */
    vfu_enc_begin(&enc, buf, sizeof buf, VFU_CMD_DEVICE_GET_REGION_IO_FDS, true, 3);
    vfu_enc_elem(&enc, VFU_F_REGION_IO_FDS_SUB_REGIONS);
    vfu_enc_set(&enc, VFU_F_SUB_REGION_TYPE, VFU_IO_FD_TYPE_IOEVENTFD);
    o.nfds = 1;
    out = view(finish(), &o, &ok);
    assert_true(ok);
    assert_true(line_has(out, "form: when IOEVENTFD -> ioeventfd", doc_tail(VFU_F_SUB_REGION_FORM), NULL));
    assert_true(line_has(out, "datamatch", doc_tail(VFU_F_IOEVENTFD_DATAMATCH), NULL));
    free(out);
    o.nfds = 0;
    vfu_enc_begin(&enc, buf, sizeof buf, VFU_CMD_VERSION, false, 1);
    vfu_enc_data(&enc, VFU_F_VERSION_DATA, "{}", 3);
    out = view(finish(), &o, &ok);
    assert_true(ok);
    assert_true(line_has(out, "data: string, 3 bytes", doc_tail(VFU_F_VERSION_DATA), NULL));
    free(out);
}

static void error_reply(void **state)
{
    (void)state;
    vfu_enc_error(&enc, buf, sizeof buf, VFU_CMD_DMA_MAP, 8, 22);
    size_t len = finish();
    bool ok;
    char *out = view(len, NULL, &ok);
    assert_true(ok);
    assert_true(line_has(out, "DMA_MAP error reply, id 8", NULL, NULL));
    assert_true(line_has(out, "flags", "TYPE=REPLY|ERROR", NULL));
    assert_true(line_has(out, "error", "(22) EINVAL", NULL));
    char s[128];
    assert_true(vfu_summarize(buf, len, NULL, s, sizeof s, NULL));
    assert_string_equal(s, "DMA_MAP error reply id=8 errno=22(EINVAL)");
    free(out);
}

static void summary_lines(void **state)
{
    (void)state;
    vfu_enc_begin(&enc, buf, sizeof buf, VFU_CMD_REGION_READ, false, 5);
    vfu_enc_set(&enc, VFU_F_REGION_ACCESS_OFFSET, 0x10);
    vfu_enc_set(&enc, VFU_F_REGION_ACCESS_COUNT, 4);
    size_t len = finish();
    char s[128];
    struct vfu_error err;
    assert_true(vfu_summarize(buf, len, NULL, s, sizeof s, &err));
    assert_string_equal(s, "REGION_READ request id=5 offset=0x10 region=0 count=4");

    /* what it wanted is returned; what fits is written and terminated */
    struct vfu_msg m;
    assert_true(vfu_decode(&m, buf, len, NULL, 0, NULL, VFU_ROLE_ANY, &err));
    char small[12];
    assert_int_equal(vfu_msg_summary(&m, small, sizeof small), strlen(s));
    assert_string_equal(small, "REGION_READ");

    len = dma_map(0x10);
    assert_false(vfu_summarize(buf, len, NULL, s, sizeof s, &err));
    assert_int_equal(err.code, VFU_E_RESERVED_FLAGS);
    assert_string_equal(s, "DMA_MAP request id=7 invalid: RESERVED_FLAGS flags");

    assert_false(vfu_summarize(buf, 3, NULL, s, sizeof s, &err));
    assert_string_equal(s, "short message (3 bytes) invalid: HDR_SHORT");
}

static void bits_names(void **state)
{
    (void)state;
    char b[64];
    int bits = vfu_spec.fields[VFU_F_DMA_MAP_FLAGS].bits_id;
    vfu_bits_str(bits, 0, b, sizeof b);
    assert_string_equal(b, "0");
    vfu_bits_str(bits, VFU_DMA_MAP_FLAGS_WRITE | 0x100, b, sizeof b);
    assert_string_equal(b, "WRITE|reserved=0x100");
    bits = vfu_spec.fields[VFU_F_HEADER_FLAGS].bits_id;
    vfu_bits_str(bits, VFU_MSG_TYPE_REPLY | VFU_HDR_FLAGS_ERROR, b, sizeof b);
    assert_string_equal(b, "TYPE=REPLY|ERROR");
    vfu_bits_str(bits, 7, b, sizeof b);
    assert_string_equal(b, "TYPE=7(unknown)");
}

static void too_many_fds(void **state)
{
    (void)state;
    size_t len = dma_map(0);
    struct vfu_limits lim;
    vfu_limits_default(&lim);
    lim.max_fds = VFU_MAX_FDS;
    struct vfu_dissect_opts o = {VFU_MAX_FDS + 1, NULL, VFU_ROLE_ANY, &lim, false, 0, false};
    struct vfu_msg m;
    struct vfu_error err;
    assert_false(vfu_dissect_decode(&m, buf, len, &o, &err));
    assert_int_equal(err.code, VFU_E_FDS);
    assert_int_equal(err.got, VFU_MAX_FDS + 1);
    o.nfds = 1;
    assert_true(vfu_dissect_decode(&m, buf, len, &o, &err));
    assert_int_equal(m.nfds, 1);
    assert_int_equal(m.fds[0], -1);
}

/* messages of every shape, mutated: the verdict must be the codec's and
 * nothing may be read outside the bytes (ASan and UBSan watch) */
static size_t seed_msg(int k)
{
    switch (k) {
    case 0: return dma_map(1);
    case 1: region_info_caps(NULL); return enc.len;
    case 2: {
        vfu_enc_begin(&enc, buf, sizeof buf, VFU_CMD_DEVICE_GET_REGION_IO_FDS, true, 3);
        for (int i = 0; i < 3; i++) {
            vfu_enc_elem(&enc, VFU_F_REGION_IO_FDS_SUB_REGIONS);
            vfu_enc_set(&enc, VFU_F_SUB_REGION_TYPE, (uint64_t)(i & 1));
        }
        return finish();
    }
    case 3: bitmap_and_variant(NULL); return enc.len;
    case 4: string_escaped(NULL); return enc.len;
    case 5: {
        vfu_enc_begin(&enc, buf, sizeof buf, VFU_CMD_DEVICE_SET_IRQS, false, 4);
        vfu_enc_set(&enc, VFU_F_SET_IRQS_FLAGS, VFU_IRQ_SET_FLAGS_DATA_BOOL | VFU_IRQ_SET_FLAGS_ACTION_TRIGGER);
        vfu_enc_data(&enc, VFU_F_SET_IRQS_DATA, "\1\0\1", 3);
        return finish();
    }
    default: {
        vfu_enc_begin(&enc, buf, sizeof buf, VFU_CMD_REGION_WRITE_MULTI, false, 9);
        vfu_enc_elem(&enc, VFU_F_WRITE_MULTI_WRS);
        vfu_enc_elem(&enc, VFU_F_WRITE_MULTI_WRS);
        return finish();
    }
    }
}

static uint32_t next_rnd(uint32_t *r)
{
    *r = *r * 1103515245u + 12345u;
    return *r >> 8;
}

static void mutations_agree_with_codec(void **state)
{
    (void)state;
    FILE *null = fopen("/dev/null", "w");
    assert_non_null(null);
    static uint8_t orig[1024];
    uint32_t rnd = 12345;
#define RND() next_rnd(&rnd)
    unsigned valid = 0, invalid = 0;
    for (int k = 0; k < 7; k++) {
        size_t len = seed_msg(k);
        assert_true(len <= sizeof orig);
        memcpy(orig, buf, len);
        for (int it = 0; it < 10000; it++) {
            memcpy(buf, orig, len);
            size_t n = len;
            unsigned flips = RND() % 4;
            for (unsigned i = 0; i <= flips; i++) {
                size_t at = RND() % n;
                if (RND() % 3) buf[at] = (uint8_t)RND();
                else buf[at] ^= (uint8_t)(1u << (RND() % 8));
            }
            if (RND() % 4 == 0) n = RND() % (len + 1);
            /* the claimed size matches the bytes often enough to reach the body */
            if (n >= VFU_HDR_SIZE && RND() % 2) vfu_write_uint(buf + 4, 4, n);
            unsigned nfds = RND() % 3;
            bool full = RND() % 2 == 0;
            struct vfu_dissect_opts o = {nfds, NULL, VFU_ROLE_ANY, NULL, full, 0, RND() % 3 == 0};
            struct vfu_msg m;
            struct vfu_error e1, e2;
            static const int fds[3] = {-1, -1, -1};
            bool want = vfu_decode(&m, buf, n, fds, o.nfds, NULL, VFU_ROLE_ANY, &e1);
            /* and VERSION data read as the capability JSON it must be */
            uint32_t jl;
            const uint8_t *js;
            if (want && m.hdr.cmd == VFU_CMD_VERSION && !m.is_error &&
                (js = vfu_data(&m, VFU_F_VERSION_DATA, &jl)) && jl > 1) {
                struct vfu_caps caps;
                want = vfu_caps_parse(&caps, (const char *)js, jl - 1, m.is_reply, &e1);
            }
            bool got = vfu_dissect(null, buf, n, &o, &e2);
            assert_int_equal(got, want);
            assert_int_equal(e2.code, e1.code);
            char s[160];
            assert_int_equal(vfu_summarize(buf, n, &o, s, sizeof s, NULL), want);
            assert_true(strlen(s) < sizeof s);
            want ? valid++ : invalid++;
        }
    }
    /* the mutations reach both verdicts, or the loop proves little */
    assert_true(valid > 100);
    assert_true(invalid > 100);
    fclose(null);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_dma_map),
        cmocka_unit_test(reserved_flags_marked),
        cmocka_unit_test(short_header),
        cmocka_unit_test(overrun_shows_rest_raw),
        cmocka_unit_test(region_info_caps),
        cmocka_unit_test(io_fds_elements_and_fds),
        cmocka_unit_test(truncated_reply),
        cmocka_unit_test(data_elided_unless_full),
        cmocka_unit_test(string_escaped),
        cmocka_unit_test(bitmap_and_variant),
        cmocka_unit_test(error_reply),
        cmocka_unit_test(summary_lines),
        cmocka_unit_test(bits_names),
        cmocka_unit_test(too_many_fds),
        cmocka_unit_test(mutations_agree_with_codec),
        cmocka_unit_test(wrapping_range_noted),
        cmocka_unit_test(field_docs),
        cmocka_unit_test(docs_beside_fields),
    };
    return cmocka_run_group_tests_name("dissect", tests, NULL, NULL);
}
