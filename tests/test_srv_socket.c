/* vfu-refserver as a program: DMA through each path raising MSI-X, the
 * doorbell ioeventfd, migration between two processes, reconnection,
 * SIGTERM, the command line, --fd, and no fd leaks over many sessions. */
#include "srv_client.h"

#include <sys/eventfd.h>
#include <sys/un.h>

#define MAPPED 0x10000000ull

enum path { MEMFD, MESSAGES, MESSAGES_TWIN };

static void dma_copy(enum path how)
{
    char path[128];
    c_sock_path(path, sizeof path, "dma");
    struct vfu_proc *pid = c_start(path, NULL, NULL);
    struct cl k;
    c_open(&k, path);
    c_version(&k, how == MESSAGES_TWIN);
    int memfd = c_memfd(0x100000);
    assert_int_equal(c_map(&k, MAPPED, 0x100000, memfd), 0);
    assert_int_equal(c_map(&k, C_GUEST, C_GUEST_SIZE, -1), 0);
    uint8_t *mem = mmap(NULL, 0x100000, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    assert_true(mem != MAP_FAILED);
    c_enable_dma_msix(&k);
    int efd = eventfd(0, EFD_CLOEXEC);
    assert_int_equal(c_set_irq(&k, VFU_PCI_IRQ_MSIX, efd), 0);

    /* source and destination in the path under test */
    uint64_t src = how == MEMFD ? MAPPED : C_GUEST, dst = how == MEMFD ? MAPPED + 0x80000 : C_GUEST + 0x100000;
    uint8_t *s = how == MEMFD ? mem : k.guest, *d = how == MEMFD ? mem + 0x80000 : k.guest + 0x100000;
    const uint32_t len = 0x40000;
    for (uint32_t i = 0; i < len; i++) s[i] = (uint8_t)(i * 11 + how);
    c_program(&k, src, dst, len);
    c_wr(&k, VFU_PCI_REGION_BAR0, TOYDEV_REG_DOORBELL, 1, 4);
    assert_int_equal(c_wait_irq(&k, efd), 1);
    assert_int_equal(c_rd(&k, VFU_PCI_REGION_BAR0, TOYDEV_REG_STATUS, 4), TOYDEV_STATUS_DONE);
    assert_memory_equal(d, s, len);
    if (how != MEMFD) assert_true(k.served > 0);

    /* the same through the doorbell's ioeventfd */
    struct vfu_enc e;
    c_begin(&k, &e, VFU_CMD_DEVICE_GET_REGION_IO_FDS);
    vfu_enc_set(&e, VFU_F_REGION_IO_FDS_REQ_ARGSZ, 256);
    vfu_enc_set(&e, VFU_F_REGION_IO_FDS_REQ_INDEX, VFU_PCI_REGION_BAR0);
    assert_int_equal(c_call(&k, &e), 0);
    assert_int_equal(k.c.nrfds, 1);
    int iofd = vfu_conn_take_fd(&k.c, 0);
    memset(d, 0, len);
    for (uint32_t i = 0; i < len; i++) s[i] = (uint8_t)(i * 3 + 1);
    c_program(&k, src, dst, len);
    unsigned served = k.served;
    uint64_t one = 1;
    assert_int_equal(write(iofd, &one, 8), 8);
    assert_int_equal(c_wait_irq(&k, efd), 1);
    assert_memory_equal(d, s, len);
    if (how != MEMFD) assert_true(k.served > served);

    close(iofd);
    close(efd);
    munmap(mem, 0x100000);
    close(memfd);
    c_close(&k);
    c_stop(pid);
}

static void dma_memfd(void **state) { (void)state; dma_copy(MEMFD); }
static void dma_messages(void **state) { (void)state; dma_copy(MESSAGES); }
static void dma_messages_twin(void **state) { (void)state; dma_copy(MESSAGES_TWIN); }

static int set_state(struct cl *k, uint32_t st)
{
    struct vfu_enc e;
    c_begin(k, &e, VFU_CMD_DEVICE_FEATURE);
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_REQ_ARGSZ, 16);
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_REQ_FLAGS,
                VFU_DEVICE_FEATURE_MIG_DEVICE_STATE | VFU_DEVICE_FEATURE_FLAGS_SET);
    vfu_enc_struct(&e, VFU_S_FEATURE_MIG_STATE);
    vfu_enc_set(&e, VFU_F_FEATURE_MIG_STATE_DEVICE_STATE, st);
    return c_call(k, &e);
}

static size_t read_stream(struct cl *k, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (;;) {
        struct vfu_enc e;
        c_begin(k, &e, VFU_CMD_MIG_DATA_READ);
        vfu_enc_set(&e, VFU_F_MIG_DATA_REQ_ARGSZ, 8 + 8192);
        vfu_enc_set(&e, VFU_F_MIG_DATA_REQ_SIZE, 8192);
        assert_int_equal(c_call(k, &e), 0);
        uint32_t got;
        const uint8_t *d = vfu_data(&k->r, VFU_F_MIG_DATA_DATA, &got);
        assert_true(n + got <= cap);
        memcpy(out + n, d, got);
        n += got;
        if (got < 8192) return n;
    }
}

static void migration_between_processes(void **state)
{
    (void)state;
    char p1[128], p2[128];
    c_sock_path(p1, sizeof p1, "src");
    c_sock_path(p2, sizeof p2, "dst");
    struct vfu_proc *src = c_start(p1, NULL, NULL), *dst = c_start(p2, NULL, NULL);
    struct cl a, b;
    c_open(&a, p1);
    c_open(&b, p2);
    c_version(&a, false);
    c_version(&b, false);
    for (unsigned i = 0; i < TOYDEV_SCRATCH_COUNT; i++)
        c_wr(&a, VFU_PCI_REGION_BAR0, TOYDEV_REG_SCRATCH + 8 * i, 0x1000000000000001ull * (i + 3), 8);
    uint8_t *bar2 = malloc(65536);
    for (unsigned i = 0; i < 65536; i++) bar2[i] = (uint8_t)(i * 7 + i / 256);
    assert_int_equal(c_rw(&a, VFU_PCI_REGION_BAR2, 0, bar2, 65536, true), 0);

    size_t cap = 1u << 20, n = 0;
    uint8_t *stream = malloc(cap);
    assert_int_equal(set_state(&a, VFU_DEVICE_MIG_STATE_PRE_COPY), 0);
    n += read_stream(&a, stream + n, cap - n);
    c_wr(&a, VFU_PCI_REGION_BAR0, TOYDEV_REG_SCRATCH, 0x5555aaaa5555aaaaull, 8);
    assert_int_equal(set_state(&a, VFU_DEVICE_MIG_STATE_STOP_COPY), 0);
    n += read_stream(&a, stream + n, cap - n);
    assert_int_equal(set_state(&a, VFU_DEVICE_MIG_STATE_STOP), 0);

    assert_int_equal(set_state(&b, VFU_DEVICE_MIG_STATE_RESUMING), 0);
    for (size_t off = 0; off < n; off += 16384) {
        struct vfu_enc e;
        c_begin(&b, &e, VFU_CMD_MIG_DATA_WRITE);
        uint32_t len = (uint32_t)(n - off < 16384 ? n - off : 16384);
        vfu_enc_set(&e, VFU_F_MIG_DATA_ARGSZ, 8 + len);
        vfu_enc_data(&e, VFU_F_MIG_DATA_DATA, stream + off, len);
        assert_int_equal(c_call(&b, &e), 0);
    }
    assert_int_equal(set_state(&b, VFU_DEVICE_MIG_STATE_RUNNING), 0);
    assert_int_equal(c_rd(&b, VFU_PCI_REGION_BAR0, TOYDEV_REG_SCRATCH, 8), 0x5555aaaa5555aaaaull);
    for (unsigned i = 1; i < TOYDEV_SCRATCH_COUNT; i++)
        assert_int_equal(c_rd(&b, VFU_PCI_REGION_BAR0, TOYDEV_REG_SCRATCH + 8 * i, 8),
                         0x1000000000000001ull * (i + 3));
    uint8_t *back = malloc(65536);
    assert_int_equal(c_rw(&b, VFU_PCI_REGION_BAR2, 0, back, 65536, false), 0);
    assert_memory_equal(back, bar2, 65536);
    free(back);
    free(bar2);
    free(stream);
    c_close(&a);
    c_close(&b);
    c_stop(src);
    c_stop(dst);
}

static void reconnect_keeps_state(void **state)
{
    (void)state;
    char path[128];
    c_sock_path(path, sizeof path, "re");
    struct vfu_proc *pid = c_start(path, NULL, NULL);
    struct cl k;
    c_open(&k, path);
    c_version(&k, true);
    c_wr(&k, VFU_PCI_REGION_BAR0, TOYDEV_REG_SCRATCH + 16, 0x0123456789abcdefull, 8);
    int efd = eventfd(0, EFD_CLOEXEC);
    assert_int_equal(c_set_irq(&k, VFU_PCI_IRQ_MSIX, efd), 0);
    c_close(&k);
    c_open(&k, path);
    c_version(&k, false);
    assert_int_equal(c_rd(&k, VFU_PCI_REGION_BAR0, TOYDEV_REG_SCRATCH + 16, 8), 0x0123456789abcdefull);
    /* the old client's eventfd is gone: a client trigger reaches nothing */
    struct vfu_enc e;
    c_begin(&k, &e, VFU_CMD_DEVICE_SET_IRQS);
    vfu_enc_set(&e, VFU_F_SET_IRQS_FLAGS, VFU_IRQ_SET_FLAGS_DATA_NONE | VFU_IRQ_SET_FLAGS_ACTION_TRIGGER);
    vfu_enc_set(&e, VFU_F_SET_IRQS_INDEX, VFU_PCI_IRQ_MSIX);
    vfu_enc_set(&e, VFU_F_SET_IRQS_COUNT, 1);
    assert_int_equal(c_call(&k, &e), 0);
    struct pollfd p = {efd, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 100), 0);
    close(efd);
    c_close(&k);
    c_stop(pid);
}

static void sigterm_removes_socket(void **state)
{
    (void)state;
    char path[128];
    c_sock_path(path, sizeof path, "term");
    struct vfu_proc *pid = c_start(path, NULL, NULL);
    struct cl k;
    c_open(&k, path);   /* a client in the middle of a session */
    c_version(&k, false);
    c_stop(pid);        /* exit 0, no socket file left */
    struct stat st;
    assert_int_equal(stat(path, &st), -1);
    c_close(&k);
}

static void bad_command_lines(void **state)
{
    (void)state;
    static const char *const bad[][3] = {
        {NULL}, {"--socket-path=/tmp/x", "--fd=3"}, {"--bogus"}, {"--fd=abc"},
        {"--socket-path=/tmp/x", "--max-msg-fds=999"}, {"--socket-path=/tmp/x", "--twin-socket=maybe"},
        {"--socket-path=/tmp/x", "--pgsizes=512"}, {"--socket-path=/tmp/x", "--max-data-xfer-size=12k"},
        {"--socket-path="}, {"--socket-path=/tmp/x", "--migration"}, {"--fd=0"},
    };
    char msg[512];
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *argv[4] = {(char *)SRV_BIN, (char *)bad[i][0], (char *)bad[i][1], NULL};
        assert_int_equal(c_run_argv(argv, msg, sizeof msg), 2);
        assert_non_null(strstr(msg, "vfu-refserver: "));
    }
    char *help[] = {(char *)SRV_BIN, (char *)"--help", NULL};
    assert_int_equal(c_run_argv(help, msg, sizeof msg), 0);
}

/* --fd the two ways lib/proc offers: a listening socket, a connected one */
static void inherited_fds(void **state)
{
    (void)state;
    char path[128];
    c_sock_path(path, sizeof path, "fd");
    struct vfu_proc_spec spec = {.cmd = SRV_BIN " --once", .socket_path = path,
                                 .sock = VFU_PROC_SOCK_FD_LISTEN, .fd_num = 5};
    struct vfu_proc *p = c_start_spec(&spec);
    struct cl k;
    c_open(&k, path);
    c_version(&k, false);
    assert_int_equal(c_rd(&k, VFU_PCI_REGION_BAR0, TOYDEV_REG_ID, 4), TOYDEV_ID_VALUE);
    c_close(&k);
    /* --once: gone after its client */
    assert_int_equal(c_wait_exit(p, 5000), 0);
    vfu_proc_free(p);

    struct vfu_proc_spec conn = {.cmd = SRV_BIN, .sock = VFU_PROC_SOCK_FD_CONNECTED};
    p = c_start_spec(&conn);
    c_open_fd(&k, vfu_proc_take_conn_fd(p));
    c_version(&k, true);
    assert_int_equal(c_rd(&k, VFU_PCI_REGION_BAR0, TOYDEV_REG_ID, 4), TOYDEV_ID_VALUE);
    c_close(&k);
    /* one client is all a connected socket can bring */
    assert_int_equal(c_wait_exit(p, 5000), 0);
    vfu_proc_free(p);
}

/* Framing failures end the session; the server takes the next client. */
static void bad_framing_then_next_client(void **state)
{
    (void)state;
    char path[128];
    c_sock_path(path, sizeof path, "frame");
    struct vfu_proc *pid = c_start(path, NULL, NULL);
    struct cl k;
    c_open(&k, path);
    c_version(&k, false);
    uint8_t hdr[VFU_HDR_SIZE];
    struct vfu_hdr h = {1, VFU_CMD_REGION_WRITE, 0x7fffffff, VFU_MSG_TYPE_COMMAND, 0};
    vfu_hdr_encode(hdr, &h);
    struct vfu_error err;
    assert_true(vfu_send(&k.c, hdr, sizeof hdr, NULL, 0, &err));
    assert_false(vfu_recv(&k.c, &err));
    assert_int_equal(err.code, VFU_E_EOF);
    c_close(&k);
    c_open(&k, path);
    c_version(&k, false);
    assert_int_equal(c_rd(&k, VFU_PCI_REGION_BAR0, TOYDEV_REG_ID, 4), TOYDEV_ID_VALUE);
    c_close(&k);
    c_stop(pid);
}

/* Without a twin socket the server's DMA_READ/WRITE share the main socket:
 * commands the client pipelines meanwhile wait their turn, in order. */
static void commands_during_message_dma(void **state)
{
    (void)state;
    char path[128];
    c_sock_path(path, sizeof path, "pipe");
    struct vfu_proc *pid = c_start(path, NULL, NULL);
    struct cl k;
    c_open(&k, path);
    c_version(&k, false);
    assert_int_equal(c_map(&k, C_GUEST, C_GUEST_SIZE, -1), 0);
    c_enable_dma_msix(&k);
    for (unsigned i = 0; i < 0x10000; i++) k.guest[i] = (uint8_t)(i + 9);
    c_program(&k, C_GUEST, C_GUEST + 0x100000, 0x10000);
    c_wr(&k, VFU_PCI_REGION_BAR0, TOYDEV_REG_SCRATCH, 0x77, 8);

    struct vfu_error err;
    struct vfu_enc e;
    uint32_t one = 1;
    c_begin(&k, &e, VFU_CMD_REGION_WRITE);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_OFFSET, TOYDEV_REG_DOORBELL);
    vfu_enc_data(&e, VFU_F_REGION_ACCESS_DATA_DATA, &one, 4);
    assert_true(vfu_enc_finish(&e, &err));
    assert_true(vfu_send_enc(&k.c, &e, &err));
    uint16_t ring = (uint16_t)(k.next_id - 1);
    /* three reads sent before any DMA request is answered */
    for (int i = 0; i < 3; i++) {
        c_begin(&k, &e, VFU_CMD_REGION_READ);
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_OFFSET, TOYDEV_REG_SCRATCH);
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_COUNT, 8);
        assert_true(vfu_enc_finish(&e, &err));
        assert_true(vfu_send_enc(&k.c, &e, &err));
    }
    uint16_t want = ring;
    while (want != ring + 4) {
        assert_true(vfu_recv(&k.c, &err));
        struct vfu_hdr h;
        vfu_hdr_decode(k.c.rbuf, k.c.rlen, &h, NULL);
        if ((h.flags & VFU_HDR_FLAGS_TYPE_MASK) == VFU_MSG_TYPE_COMMAND) {
            c_serve(&k, &k.c);
            continue;
        }
        assert_int_equal(h.msg_id, want);   /* replies in command order */
        assert_false(h.flags & VFU_HDR_FLAGS_ERROR);
        want++;
    }
    assert_true(k.served > 0);
    assert_memory_equal(k.guest + 0x100000, k.guest, 0x10000);
    c_close(&k);
    c_stop(pid);
}

/* More fds than our max_msg_fds: the message came whole, so it gets an
 * error reply and the session goes on. */
static void too_many_fds(void **state)
{
    (void)state;
    char path[128];
    c_sock_path(path, sizeof path, "fds");
    struct vfu_proc *pid = c_start(path, "--max-msg-fds=2", NULL);
    int before = -1;
    struct cl k;
    c_open(&k, path);
    c_version(&k, false);
    before = c_count_fds(pid);
    int fds[3];
    for (int i = 0; i < 3; i++) fds[i] = c_memfd(4096);
    struct vfu_enc e;
    c_begin(&k, &e, VFU_CMD_DMA_MAP);
    vfu_enc_set(&e, VFU_F_DMA_MAP_FLAGS, VFU_DMA_MAP_FLAGS_READ);
    vfu_enc_set(&e, VFU_F_DMA_MAP_SIZE, 4096);
    assert_int_equal(c_call_fds(&k, &e, fds, 3), EINVAL);
    /* two are within the limit, but DMA_MAP takes one */
    c_begin(&k, &e, VFU_CMD_DMA_MAP);
    vfu_enc_set(&e, VFU_F_DMA_MAP_FLAGS, VFU_DMA_MAP_FLAGS_READ);
    vfu_enc_set(&e, VFU_F_DMA_MAP_SIZE, 4096);
    assert_int_equal(c_call_fds(&k, &e, fds, 2), EINVAL);
    assert_int_equal(c_rd(&k, VFU_PCI_REGION_BAR0, TOYDEV_REG_ID, 4), TOYDEV_ID_VALUE);
    assert_int_equal(c_count_fds(pid), before);
    for (int i = 0; i < 3; i++) close(fds[i]);
    c_close(&k);
    c_stop(pid);
}

/* Requests sent back to back, before any reply is read, one sendmsg each
 * with a DMA_MAP's fd in the middle, then a burst in one sendmsg: the
 * server (which reads ahead) answers each in order, and the fd goes with
 * the DMA_MAP it was sent with. */
static void pipelined_requests(void **state)
{
    (void)state;
    char path[128];
    c_sock_path(path, sizeof path, "pipe");
    struct vfu_proc *pid = c_start(path, NULL, NULL);
    struct cl k;
    c_open(&k, path);
    c_version(&k, false);
    int memfd = c_memfd(0x10000);
    static uint8_t bufs[3][256];
    struct vfu_enc e[3];
    struct vfu_error err;
    for (int i = 0; i < 3; i++) {
        uint16_t cmd = i == 1 ? VFU_CMD_DMA_MAP : VFU_CMD_REGION_READ;
        vfu_enc_begin(&e[i], bufs[i], sizeof bufs[i], cmd, false, (uint16_t)(100 + i));
        if (i == 1) {
            vfu_enc_set(&e[i], VFU_F_DMA_MAP_FLAGS, VFU_DMA_MAP_FLAGS_READ | VFU_DMA_MAP_FLAGS_WRITE);
            vfu_enc_set(&e[i], VFU_F_DMA_MAP_ADDRESS, MAPPED);
            vfu_enc_set(&e[i], VFU_F_DMA_MAP_SIZE, 0x10000);
            vfu_enc_fd(&e[i], memfd);
        } else {
            vfu_enc_set(&e[i], VFU_F_REGION_ACCESS_REGION, VFU_PCI_REGION_BAR0);
            vfu_enc_set(&e[i], VFU_F_REGION_ACCESS_OFFSET, TOYDEV_REG_ID);
            vfu_enc_set(&e[i], VFU_F_REGION_ACCESS_COUNT, 4);
        }
        assert_true(vfu_enc_finish(&e[i], &err));
    }
    for (int i = 0; i < 3; i++) assert_true(vfu_send_enc(&k.c, &e[i], &err));
    for (int i = 0; i < 3; i++) {
        struct vfu_msg m;
        assert_true(vfu_recv_msg(&k.c, &m, VFU_ROLE_CLIENT, &err));
        assert_int_equal(m.hdr.msg_id, 100 + i);
        assert_false(m.is_error);
    }
    /* mapped: a second map of the same range overlaps */
    assert_int_equal(c_map(&k, MAPPED, 0x10000, memfd), EEXIST);

    /* 64 reads in one sendmsg */
    enum { N = 64 };
    static uint8_t burst[N * 64];
    size_t len = 0;
    for (int i = 0; i < N; i++) {
        struct vfu_enc r;
        vfu_enc_begin(&r, burst + len, sizeof burst - len, VFU_CMD_REGION_READ, false, (uint16_t)(200 + i));
        vfu_enc_set(&r, VFU_F_REGION_ACCESS_REGION, VFU_PCI_REGION_BAR0);
        vfu_enc_set(&r, VFU_F_REGION_ACCESS_OFFSET, TOYDEV_REG_ID);
        vfu_enc_set(&r, VFU_F_REGION_ACCESS_COUNT, 4);
        assert_true(vfu_enc_finish(&r, &err));
        len += r.len;
    }
    assert_true(vfu_send(&k.c, burst, len, NULL, 0, &err));
    for (int i = 0; i < N; i++) {
        struct vfu_msg m;
        assert_true(vfu_recv_msg(&k.c, &m, VFU_ROLE_CLIENT, &err));
        assert_int_equal(m.hdr.msg_id, 200 + i);
        uint32_t n;
        const uint8_t *d = vfu_data(&m, VFU_F_REGION_ACCESS_DATA_DATA, &n);
        assert_int_equal(n, 4);
        assert_int_equal(vfu_read_uint(d, 4), TOYDEV_ID_VALUE);
    }
    close(memfd);
    c_close(&k);
    c_stop(pid);
}

static void no_fd_leak_over_sessions(void **state)
{
    (void)state;
    char path[128];
    c_sock_path(path, sizeof path, "leak");
    struct vfu_proc *pid = c_start(path, NULL, NULL);
    int memfd = c_memfd(0x10000);
    /* one session first, so everything lazily opened is open */
    struct cl k;
    c_open(&k, path);
    c_version(&k, true);
    c_close(&k);
    usleep(50000);
    int before = c_count_fds(pid);
    for (int i = 0; i < 1000; i++) {
        c_open(&k, path);
        c_version(&k, i % 2);
        assert_int_equal(c_map(&k, MAPPED, 0x10000, memfd), 0);
        if (i % 3 == 0) {
            int efd = eventfd(0, EFD_CLOEXEC);
            assert_int_equal(c_set_irq(&k, VFU_PCI_IRQ_MSIX, efd), 0);
            close(efd);
        }
        c_close(&k);
    }
    /* the last disconnect is handled asynchronously: one more round trip */
    c_open(&k, path);
    c_version(&k, false);
    c_close(&k);
    int after = -1;
    for (int t = 0; t < 100 && after != before; t++) {
        usleep(20000);
        after = c_count_fds(pid);
    }
    assert_int_equal(after, before);
    close(memfd);
    c_stop(pid);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dma_memfd),
        cmocka_unit_test(dma_messages),
        cmocka_unit_test(dma_messages_twin),
        cmocka_unit_test(migration_between_processes),
        cmocka_unit_test(reconnect_keeps_state),
        cmocka_unit_test(sigterm_removes_socket),
        cmocka_unit_test(bad_command_lines),
        cmocka_unit_test(inherited_fds),
        cmocka_unit_test(bad_framing_then_next_client),
        cmocka_unit_test(commands_during_message_dma),
        cmocka_unit_test(too_many_fds),
        cmocka_unit_test(pipelined_requests),
        cmocka_unit_test(no_fd_leak_over_sessions),
    };
    int r = cmocka_run_group_tests_name("srv_socket", tests, NULL, NULL);
    c_kill_all();
    return r;
}
