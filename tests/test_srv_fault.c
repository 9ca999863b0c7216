/* Seeded faults in-process: the table and the command line that switch
 * them on, and a fault belonging to the server it was given to (two
 * servers in one process, one faulty, one the reference). */
#include "srv_harness.h"

#include "srv_options.h"

static void table_names_unique_and_found(void **state)
{
    (void)state;
    assert_true(SRV_FAULT_COUNT >= 25);
    for (int i = 0; i < SRV_FAULT_COUNT; i++) {
        const struct srv_fault_info *f = &srv_fault_table[i];
        assert_non_null(f->name);
        assert_true(f->section[0] && f->what[0]);
        assert_int_equal(srv_fault_lookup(f->name), i);
        for (int k = 0; k < i; k++) assert_string_not_equal(srv_fault_table[k].name, f->name);
    }
    assert_int_equal(srv_fault_lookup("no-such-fault"), -1);
    assert_int_equal(srv_fault_lookup(""), -1);
}

static enum srv_opt_result parse(struct srv_cmdline *cl, const char *a1, const char *a2, char *msg,
                                 size_t n)
{
    char *argv[] = {"vfu-refserver", "--socket-path=/tmp/x", (char *)a1, (char *)a2, NULL};
    return srv_options_parse(a2 ? 4 : 3, argv, cl, msg, n);
}

static void command_line(void **state)
{
    (void)state;
    struct srv_cmdline cl;
    char msg[200];
    /* none named: none on */
    char *argv[] = {"vfu-refserver", "--socket-path=/tmp/x", NULL};
    assert_int_equal(srv_options_parse(2, argv, &cl, msg, sizeof msg), SRV_OPT_RUN);
    assert_true(cl.opt.faults == 0);
    /* repeatable, in both spellings */
    assert_int_equal(parse(&cl, "--fault=wrong-msg-id", "--fault=sigterm-ignored", msg, sizeof msg),
                     SRV_OPT_RUN);
    assert_true(srv_fault_in(cl.opt.faults, FAULT_WRONG_MSG_ID));
    assert_true(srv_fault_in(cl.opt.faults, FAULT_SIGTERM_IGNORED));
    assert_false(srv_fault_in(cl.opt.faults, FAULT_HANG_ON_RESET));
    assert_int_equal(parse(&cl, "--fault", "hang-on-reset", msg, sizeof msg), SRV_OPT_RUN);
    assert_true(cl.opt.faults == (srv_fault_set)1 << FAULT_HANG_ON_RESET);
    assert_int_equal(parse(&cl, "--fault", "list", msg, sizeof msg), SRV_OPT_FAULT_LIST);
    assert_int_equal(parse(&cl, "--fault=bogus", NULL, msg, sizeof msg), SRV_OPT_ERROR);
    assert_true(cl.bad_fault);
    assert_non_null(strstr(msg, "unknown fault 'bogus'"));
    assert_int_equal(parse(&cl, "--fault=", NULL, msg, sizeof msg), SRV_OPT_ERROR);
    assert_false(cl.bad_fault);
    assert_int_equal(parse(&cl, "--fault", NULL, msg, sizeof msg), SRV_OPT_ERROR);
}

static struct h *ready(srv_fault_set faults)
{
    struct srv_opts o;
    srv_opts_default(&o);
    o.faults = faults;
    struct h *h = h_new_opts(&o);
    assert_int_equal(h_version(h, "{\"capabilities\":{\"max_msg_fds\":8}}"), SRV_CONTINUE);
    assert_int_equal(h_errno(h), 0);
    return h;
}

static void fault_is_per_server(void **state)
{
    (void)state;
    const uint32_t RW = VFU_DMA_MAP_FLAGS_READ | VFU_DMA_MAP_FLAGS_WRITE;
    struct h *bad = ready((srv_fault_set)1 << FAULT_DMA_OVERLAP_ACCEPTED);
    struct h *ref = ready(0);
    assert_int_equal(h_map(bad, 0x10000, 0x4000, 0, RW, -1), 0);
    assert_int_equal(h_map(ref, 0x10000, 0x4000, 0, RW, -1), 0);
    assert_int_equal(h_map(bad, 0x12000, 0x4000, 0, RW, -1), 0);
    assert_int_equal(h_map(ref, 0x12000, 0x4000, 0, RW, -1), EEXIST);
    h_free(bad);
    h_free(ref);
}

/* the fault table's hooks where no socket is needed: each changes exactly
 * the answer it names */
static void hooks_in_process(void **state)
{
    (void)state;
    struct h *h = ready((srv_fault_set)1 << FAULT_WRONG_MSG_ID | (srv_fault_set)1 << FAULT_IRQ_INFO_BAD_INDEX_OK);
    struct vfu_enc e;
    vfu_enc_begin(&e, h->req, sizeof h->req, VFU_CMD_DEVICE_GET_INFO, false, 0x1234);
    h_call(h, &e);
    assert_int_equal(h_errno(h), 0);
    assert_int_equal(h->r.hdr.msg_id, 0x34);
    h_begin(h, &e, VFU_CMD_DEVICE_GET_IRQ_INFO);
    vfu_enc_set(&e, VFU_F_IRQ_INFO_REQ_INDEX, TOYDEV_NUM_IRQS);
    h_call(h, &e);
    assert_int_equal(h_errno(h), 0);
    assert_int_equal(vfu_get(&h->r, VFU_F_IRQ_INFO_COUNT), 0);
    h_free(h);
}

/* the faults that accept a malformed request (srv_wire_request): the bytes
 * are changed before the one decode, on a copy, so the reference refuses
 * what the faulty server takes, and the caller's buffer stays as it was */
static void request_faults_before_decode(void **state)
{
    (void)state;
    const uint32_t RW = VFU_DMA_MAP_FLAGS_READ | VFU_DMA_MAP_FLAGS_WRITE;
    const uint32_t RESERVED = 1u << 7;   /* no DMA_MAP flag has it */
    assert_false(VFU_DMA_MAP_FLAGS_KNOWN & RESERVED);
    struct h *bad = ready((srv_fault_set)1 << FAULT_DMA_RESERVED_FLAGS_ACCEPTED |
                          (srv_fault_set)1 << FAULT_HEADER_RESERVED_FLAGS_ACCEPTED);
    struct h *ref = ready(0);
    int fd = h_memfd(0x4000);
    assert_int_equal(h_map(bad, 0x10000, 0x4000, 0, RW | RESERVED, fd), 0);
    assert_int_equal(h_map(ref, 0x10000, 0x4000, 0, RW | RESERVED, fd), EINVAL);
    close(fd);
    /* a header flag bit the spec does not define */
    struct h *hs[] = {bad, ref};
    for (int i = 0; i < 2; i++) {
        struct vfu_enc e;
        h_begin(hs[i], &e, VFU_CMD_DEVICE_GET_INFO);
        vfu_enc_set(&e, VFU_F_DEVICE_INFO_REQ_ARGSZ, VFU_SIZE_DEVICE_INFO);
        struct vfu_error err;
        assert_true(vfu_enc_finish(&e, &err));
        uint64_t hflags = 1u << 9;
        assert_false(VFU_HDR_FLAGS_KNOWN & hflags);
        vfu_enc_hdr(&e, VFU_F_HEADER_FLAGS, hflags);
        uint8_t before[sizeof hs[i]->req];
        memcpy(before, e.buf, e.len);
        h_feed(hs[i], e.buf, e.len, NULL, 0);
        assert_int_equal(h_errno(hs[i]), i == 0 ? 0 : EINVAL);
        assert_memory_equal(before, e.buf, e.len);   /* patched on a copy */
    }
    /* the header fault patches commands only: a client's error reply to
     * the server's DMA_READ keeps its Error bit */
    uint8_t buf[VFU_HDR_SIZE], *patched = (uint8_t *)1;
    struct vfu_enc e;
    vfu_enc_error(&e, buf, sizeof buf, VFU_CMD_DMA_READ, 7, EFAULT);
    assert_true(srv_wire_request(bad->s, buf, e.len, &patched));
    assert_null(patched);
    h_free(bad);
    h_free(ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_names_unique_and_found),
        cmocka_unit_test(command_line),
        cmocka_unit_test(fault_is_per_server),
        cmocka_unit_test(hooks_in_process),
        cmocka_unit_test(request_faults_before_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
