/* Payload layout errors: a field or byte that breaks the layout the spec
 * gives the message (size, must-be-zero, enumerations, flag bits and their
 * rules, text, page sizes).  Each starts from a message that decodes, changes
 * one thing, and expects the one error naming that field. */
#include "codec_cases.h"
#include "spec_tables.h"

static uint8_t buf[CODEC_BUF];
static struct vfu_enc e;

#define BEGIN(cmd, reply) vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_##cmd, reply, 1)
#define TO_SERVER VFU_ROLE_SERVER
#define TO_CLIENT VFU_ROLE_CLIENT

static size_t done(enum vfu_role to)
{
    struct vfu_error err;
    assert_true(vfu_enc_finish(&e, &err));
    codec_expect_ok(buf, e.len, e.fds, e.nfds, NULL, to);
    return e.len;
}

static void bad(size_t len, enum vfu_role to, enum vfu_errc code, int field)
{
    codec_expect_error(buf, len, e.fds, e.nfds, NULL, to, code, e.cmd, field);
}

static void payload_short(void **state)
{
    (void)state;
    BEGIN(DMA_MAP, false);
    done(TO_SERVER);
    /* cut inside address: that is the field reported */
    const struct vfu_field_desc *a = &vfu_spec.fields[VFU_F_DMA_MAP_ADDRESS];
    codec_patch_size(buf, VFU_HDR_SIZE + a->offset + 1);
    bad(VFU_HDR_SIZE + a->offset + 1, TO_SERVER, VFU_E_PAYLOAD_SHORT, VFU_F_DMA_MAP_ADDRESS);
    codec_patch_size(buf, VFU_HDR_SIZE);
    bad(VFU_HDR_SIZE, TO_SERVER, VFU_E_PAYLOAD_SHORT, VFU_F_DMA_MAP_ARGSZ);

    /* a variant arm that is required but missing */
    BEGIN(DEVICE_FEATURE, false);
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_REQ_FLAGS,
                VFU_DEVICE_FEATURE_MIG_DEVICE_STATE | VFU_DEVICE_FEATURE_FLAGS_SET);
    vfu_enc_struct(&e, VFU_S_FEATURE_MIG_STATE);
    vfu_enc_set(&e, VFU_F_FEATURE_MIG_STATE_DEVICE_STATE, VFU_DEVICE_MIG_STATE_RUNNING);
    size_t len = done(TO_SERVER);
    codec_patch_size(buf, len - VFU_SIZE_FEATURE_MIG_STATE);
    bad(len - VFU_SIZE_FEATURE_MIG_STATE, TO_SERVER, VFU_E_PAYLOAD_SHORT, VFU_F_FEATURE_MIG_STATE_DEVICE_STATE);

    /* an optional trailing field cut in half */
    BEGIN(DMA_WRITE, true);
    len = done(TO_SERVER);
    codec_patch_size(buf, len - 1);
    bad(len - 1, TO_SERVER, VFU_E_PAYLOAD_SHORT, -1);
}

static void payload_long(void **state)
{
    (void)state;
    BEGIN(DMA_MAP, false);
    size_t len = done(TO_SERVER);
    /* argsz agreeing with the longer payload does not make it right */
    vfu_enc_set(&e, VFU_F_DMA_MAP_ARGSZ, VFU_SIZE_DMA_MAP + 8);
    bad(codec_extend(buf, len, 8), TO_SERVER, VFU_E_PAYLOAD_LONG, -1);

    BEGIN(DEVICE_RESET, false);
    len = done(TO_SERVER);
    bad(codec_extend(buf, len, 4), TO_SERVER, VFU_E_PAYLOAD_LONG, -1);

    BEGIN(DMA_MAP, true);
    len = done(TO_CLIENT);
    bad(codec_extend(buf, len, 1), TO_CLIENT, VFU_E_PAYLOAD_LONG, -1);

    /* bytes after a counted array */
    BEGIN(REGION_WRITE_MULTI, false);
    vfu_enc_elem(&e, VFU_F_WRITE_MULTI_WRS);
    vfu_enc_set(&e, VFU_F_WRITE_MULTI_ENTRY_COUNT, 4);
    len = done(TO_SERVER);
    bad(codec_extend(buf, len, 8), TO_SERVER, VFU_E_PAYLOAD_LONG, -1);

    /* and after a variant arm */
    BEGIN(DEVICE_FEATURE, true);
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_FLAGS, VFU_DEVICE_FEATURE_MIGRATION | VFU_DEVICE_FEATURE_FLAGS_GET);
    vfu_enc_struct(&e, VFU_S_FEATURE_MIGRATION);
    len = done(TO_CLIENT);
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_ARGSZ, len - VFU_HDR_SIZE + 8);
    bad(codec_extend(buf, len, 8), TO_CLIENT, VFU_E_PAYLOAD_LONG, -1);
}

static void mbz(void **state)
{
    (void)state;
    const int req_fields[] = {VFU_F_DEVICE_INFO_REQ_FLAGS, VFU_F_DEVICE_INFO_REQ_NUM_REGIONS,
                              VFU_F_DEVICE_INFO_REQ_NUM_IRQS};
    for (int i = 0; i < 3; i++) {
        BEGIN(DEVICE_GET_INFO, false);
        size_t len = done(TO_SERVER);
        vfu_enc_set(&e, req_fields[i], 1);
        bad(len, TO_SERVER, VFU_E_MBZ, req_fields[i]);
    }
    const int ri_fields[] = {VFU_F_REGION_INFO_REQ_FLAGS, VFU_F_REGION_INFO_REQ_CAP_OFFSET,
                             VFU_F_REGION_INFO_REQ_SIZE, VFU_F_REGION_INFO_REQ_OFFSET};
    for (int i = 0; i < 4; i++) {
        BEGIN(DEVICE_GET_REGION_INFO, false);
        size_t len = done(TO_SERVER);
        vfu_enc_set(&e, ri_fields[i], 0x1000);
        bad(len, TO_SERVER, VFU_E_MBZ, ri_fields[i]);
    }

    /* inside an array element's variant arm */
    BEGIN(DEVICE_GET_REGION_IO_FDS, true);
    vfu_enc_elem(&e, VFU_F_REGION_IO_FDS_SUB_REGIONS);
    vfu_enc_set(&e, VFU_F_SUB_REGION_TYPE, VFU_IO_FD_TYPE_IOEVENTFD);
    vfu_enc_fd(&e, 9);
    size_t len = done(TO_CLIENT);
    vfu_enc_set(&e, VFU_F_IOEVENTFD_PADDING, 1);
    bad(len, TO_CLIENT, VFU_E_MBZ, VFU_F_IOEVENTFD_PADDING);

    /* the optional upper half of DMA_WRITE's count */
    BEGIN(DMA_WRITE, true);
    vfu_enc_set(&e, VFU_F_DMA_WRITE_ACK_COUNT, 8);
    len = done(TO_SERVER);
    vfu_enc_set(&e, VFU_F_DMA_WRITE_ACK_COUNT_HI, 1);
    bad(len, TO_SERVER, VFU_E_MBZ, VFU_F_DMA_WRITE_ACK_COUNT_HI);

    /* a variant arm's reserved word */
    BEGIN(DEVICE_FEATURE, false);
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_REQ_FLAGS, VFU_DEVICE_FEATURE_DMA_LOGGING_START | VFU_DEVICE_FEATURE_FLAGS_SET);
    vfu_enc_struct(&e, VFU_S_DMA_LOGGING_CONTROL);
    vfu_enc_set(&e, VFU_F_DMA_LOGGING_CONTROL_PAGE_SIZE, 4096);
    len = done(TO_SERVER);
    vfu_enc_set(&e, VFU_F_DMA_LOGGING_CONTROL_RESERVED, 0x80000000u);
    bad(len, TO_SERVER, VFU_E_MBZ, VFU_F_DMA_LOGGING_CONTROL_RESERVED);
}

static void enum_values(void **state)
{
    (void)state;
    BEGIN(DEVICE_GET_REGION_IO_FDS, true);
    vfu_enc_elem(&e, VFU_F_REGION_IO_FDS_SUB_REGIONS);
    vfu_enc_set(&e, VFU_F_SUB_REGION_TYPE, VFU_IO_FD_TYPE_IOREGIONFD);
    vfu_enc_fd(&e, 9);
    size_t len = done(TO_CLIENT);
    vfu_enc_set(&e, VFU_F_SUB_REGION_TYPE, VFU_IO_FD_TYPE_IOREGIONFD + 1);
    bad(len, TO_CLIENT, VFU_E_ENUM, VFU_F_SUB_REGION_TYPE);

    /* a multi-bit subfield of a flags word: feature 3 is not one of ours */
    BEGIN(DEVICE_FEATURE, false);
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_REQ_FLAGS, VFU_DEVICE_FEATURE_MIGRATION | VFU_DEVICE_FEATURE_FLAGS_GET);
    len = done(TO_SERVER);
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_REQ_FLAGS, 3 | VFU_DEVICE_FEATURE_FLAGS_GET);
    bad(len, TO_SERVER, VFU_E_ENUM, VFU_F_DEVICE_FEATURE_REQ_FLAGS);

    BEGIN(DEVICE_FEATURE, false);
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_REQ_FLAGS, VFU_DEVICE_FEATURE_MIG_DEVICE_STATE | VFU_DEVICE_FEATURE_FLAGS_SET);
    vfu_enc_struct(&e, VFU_S_FEATURE_MIG_STATE);
    vfu_enc_set(&e, VFU_F_FEATURE_MIG_STATE_DEVICE_STATE, VFU_DEVICE_MIG_STATE_PRE_COPY_P2P);
    len = done(TO_SERVER);
    vfu_enc_set(&e, VFU_F_FEATURE_MIG_STATE_DEVICE_STATE, VFU_DEVICE_MIG_STATE_PRE_COPY_P2P + 1);
    bad(len, TO_SERVER, VFU_E_ENUM, VFU_F_FEATURE_MIG_STATE_DEVICE_STATE);
}

static void reserved_payload_flags(void **state)
{
    (void)state;
    BEGIN(DMA_MAP, false);
    size_t len = done(TO_SERVER);
    vfu_enc_set(&e, VFU_F_DMA_MAP_FLAGS, VFU_DMA_MAP_FLAGS_READ | (VFU_DMA_MAP_FLAGS_KNOWN + 1));
    bad(len, TO_SERVER, VFU_E_RESERVED_FLAGS, VFU_F_DMA_MAP_FLAGS);

    /* the kernel's GET_DIRTY_BITMAP (bit 0) is not part of vfio-user's unmap */
    BEGIN(DMA_UNMAP, false);
    len = done(TO_SERVER);
    vfu_enc_set(&e, VFU_F_DMA_UNMAP_FLAGS, 1);
    bad(len, TO_SERVER, VFU_E_RESERVED_FLAGS, VFU_F_DMA_UNMAP_FLAGS);
    /* the reply repeats the request's entry, flags included: not its fault */
    BEGIN(DMA_UNMAP, true);
    vfu_enc_set(&e, VFU_F_DMA_UNMAP_FLAGS, 0x101);
    done(TO_CLIENT);

    BEGIN(DEVICE_FEATURE, true);
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_FLAGS, VFU_DEVICE_FEATURE_MIGRATION | VFU_DEVICE_FEATURE_FLAGS_GET);
    vfu_enc_struct(&e, VFU_S_FEATURE_MIGRATION);
    len = done(TO_CLIENT);
    vfu_enc_set(&e, VFU_F_FEATURE_MIGRATION_FLAGS, VFU_MIGRATION_FLAGS_KNOWN + 1);
    bad(len, TO_CLIENT, VFU_E_RESERVED_FLAGS, VFU_F_FEATURE_MIGRATION_FLAGS);
}

static void flags_rule(void **state)
{
    (void)state;
    BEGIN(DEVICE_SET_IRQS, false);
    vfu_enc_set(&e, VFU_F_SET_IRQS_FLAGS, VFU_IRQ_SET_FLAGS_DATA_NONE | VFU_IRQ_SET_FLAGS_ACTION_TRIGGER);
    vfu_enc_set(&e, VFU_F_SET_IRQS_COUNT, 1);
    size_t len = done(TO_SERVER);
    const uint64_t bad_flags[] = {
        VFU_IRQ_SET_FLAGS_DATA_NONE | VFU_IRQ_SET_FLAGS_DATA_EVENTFD | VFU_IRQ_SET_FLAGS_ACTION_TRIGGER,
        VFU_IRQ_SET_FLAGS_ACTION_TRIGGER,                                 /* no DATA_ */
        VFU_IRQ_SET_FLAGS_DATA_NONE,                                      /* no ACTION_ */
        VFU_IRQ_SET_FLAGS_DATA_NONE | VFU_IRQ_SET_FLAGS_ACTION_MASK | VFU_IRQ_SET_FLAGS_ACTION_UNMASK,
    };
    for (size_t i = 0; i < sizeof bad_flags / sizeof bad_flags[0]; i++) {
        vfu_enc_set(&e, VFU_F_SET_IRQS_FLAGS, bad_flags[i]);
        bad(len, TO_SERVER, VFU_E_FLAGS_RULE, VFU_F_SET_IRQS_FLAGS);
    }

    BEGIN(DEVICE_FEATURE, false);
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_REQ_FLAGS, VFU_DEVICE_FEATURE_MIGRATION | VFU_DEVICE_FEATURE_FLAGS_GET);
    len = done(TO_SERVER);
    /* GET and SET at once; none of GET, SET, PROBE */
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_REQ_FLAGS,
                VFU_DEVICE_FEATURE_MIGRATION | VFU_DEVICE_FEATURE_FLAGS_GET | VFU_DEVICE_FEATURE_FLAGS_SET);
    bad(len, TO_SERVER, VFU_E_FLAGS_RULE, VFU_F_DEVICE_FEATURE_REQ_FLAGS);
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_REQ_FLAGS, VFU_DEVICE_FEATURE_MIGRATION);
    bad(len, TO_SERVER, VFU_E_FLAGS_RULE, VFU_F_DEVICE_FEATURE_REQ_FLAGS);
    /* a PROBE may ask about both */
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_REQ_FLAGS, VFU_DEVICE_FEATURE_MIGRATION | VFU_DEVICE_FEATURE_FLAGS_PROBE |
                                                        VFU_DEVICE_FEATURE_FLAGS_GET | VFU_DEVICE_FEATURE_FLAGS_SET);
    codec_expect_ok(buf, len, NULL, 0, NULL, TO_SERVER);
}

static void string(void **state)
{
    (void)state;
    static const char json[] = "{\"capabilities\":{}}";
    BEGIN(VERSION, false);
    uint8_t *s = vfu_enc_data(&e, VFU_F_VERSION_DATA, json, sizeof json);
    size_t len = done(TO_SERVER);
    s[sizeof json - 1] = '}';   /* no terminating NUL */
    bad(len, TO_SERVER, VFU_E_STRING, VFU_F_VERSION_DATA);
    s[sizeof json - 1] = 0;
    s[1] = 0;                   /* a NUL inside */
    bad(len, TO_SERVER, VFU_E_STRING, VFU_F_VERSION_DATA);
}

static void bad_value(void **state)
{
    (void)state;
    static const uint64_t words[1] = {0x3};
    BEGIN(DEVICE_FEATURE, true);
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_FLAGS, VFU_DEVICE_FEATURE_DMA_LOGGING_REPORT | VFU_DEVICE_FEATURE_FLAGS_GET);
    vfu_enc_struct(&e, VFU_S_DMA_LOGGING_REPORT);
    vfu_enc_set(&e, VFU_F_DMA_LOGGING_REPORT_IOVA, 0x100000);
    vfu_enc_set(&e, VFU_F_DMA_LOGGING_REPORT_LENGTH, 2 * 4096);
    vfu_enc_set(&e, VFU_F_DMA_LOGGING_REPORT_PAGE_SIZE, 4096);
    vfu_enc_data(&e, VFU_F_DMA_LOGGING_REPORT_BITMAP, words, sizeof words);
    size_t len = done(TO_CLIENT);
    /* a page size that is no power of two gives no bitmap size */
    const uint64_t pages[] = {0, 3, 4097, 0x8000000000000001ULL};
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        vfu_enc_set(&e, VFU_F_DMA_LOGGING_REPORT_PAGE_SIZE, pages[i]);
        bad(len, TO_CLIENT, VFU_E_BAD_VALUE, VFU_F_DMA_LOGGING_REPORT_PAGE_SIZE);
    }
}

/* NO_VARIANT needs a selector value no arm takes.  With this spec every
 * variant has an `otherwise` arm or an enum selector whose every value has
 * an arm (a value outside the enum is ENUM first), so tests/test_spec_width.sh
 * produces NO_VARIANT from an edited spec instead.  If the spec gains a
 * variant that can miss, this fails: craft a NO_VARIANT message here. */
static void no_variant_needs_edited_spec(void **state)
{
    (void)state;
    unsigned variants = 0;
    for (unsigned i = 0; i < vfu_spec.nfields; i++) {
        const struct vfu_field_desc *v = &vfu_spec.fields[i];
        if (v->kind != VFU_K_VARIANT) continue;
        variants++;
        const struct vfu_arm_desc *arms = &vfu_spec.arms[v->first_arm];
        bool otherwise = false;
        for (unsigned a = 0; a < v->narms; a++) otherwise |= arms[a].mask == 0;
        if (otherwise) continue;
        int en = vfu_spec.fields[v->on_field].enum_id;
        if (en < 0) fail_msg("%s: no otherwise arm and no enum selector", v->name);
        const struct vfu_enum_desc *ed = &vfu_spec.enums[en];
        for (unsigned k = 0; k < ed->n; k++) {
            uint64_t val = vfu_spec.enum_vals[ed->first + k].value;
            bool taken = false;
            for (unsigned a = 0; a < v->narms; a++) taken |= (val & arms[a].mask) == arms[a].value;
            if (!taken) fail_msg("%s: %s takes no arm", v->name, vfu_spec.enum_vals[ed->first + k].name);
        }
    }
    assert_true(variants > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(payload_short),
        cmocka_unit_test(payload_long),
        cmocka_unit_test(mbz),
        cmocka_unit_test(enum_values),
        cmocka_unit_test(reserved_payload_flags),
        cmocka_unit_test(flags_rule),
        cmocka_unit_test(string),
        cmocka_unit_test(bad_value),
        cmocka_unit_test(no_variant_needs_edited_spec),
    };
    return cmocka_run_group_tests_name("codec layout errors", tests, NULL, NULL);
}
