/* The BAR2 memfd the server hands out in DEVICE_GET_REGION_INFO is sealed:
 * a client cannot shrink or grow it, nor add seals of its own, so the
 * device's own accesses to BAR2 (REGION_READ/WRITE, DEVICE_RESET, the
 * migration save) never fault with SIGBUS, for this client or the next.
 * Without the seals the ftruncate below succeeds and the REGION_READ after
 * it kills this test with SIGBUS. */
#include "srv_harness.h"

#include <stdio.h>
#include <sys/stat.h>

#include "fuzz_session.h"

#ifndef REGRESSION_DIR
#error "REGRESSION_DIR: corpus/regressions/server (servers.mk sets it)"
#endif
#define SESSION_FILE REGRESSION_DIR "/bar2-ftruncate-sigbus.session"

#define F_SET VFU_DEVICE_FEATURE_FLAGS_SET
#define STATE VFU_DEVICE_FEATURE_MIG_DEVICE_STATE
enum { STOP = 1, RUNNING = 2, PRE_COPY = 6 };

/* the BAR2 fd, as the client receives it (its own copy) */
static int bar2_fd(struct h *h)
{
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_DEVICE_GET_REGION_INFO);
    vfu_enc_set(&e, VFU_F_REGION_INFO_REQ_ARGSZ, 256);
    vfu_enc_set(&e, VFU_F_REGION_INFO_REQ_INDEX, VFU_PCI_REGION_BAR2);
    h_call(h, &e);
    assert_int_equal(h_errno(h), 0);
    assert_int_equal(h->nrfds, 1);
    int fd = h->rfds[0];
    h->nrfds = 0;
    return fd;
}

static int set_state(struct h *h, uint32_t st)
{
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_DEVICE_FEATURE);
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_REQ_FLAGS, STATE | F_SET);
    vfu_enc_struct(&e, VFU_S_FEATURE_MIG_STATE);
    vfu_enc_set(&e, VFU_F_FEATURE_MIG_STATE_DEVICE_STATE, st);
    assert_true(vfu_enc_finish(&e, NULL));
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_REQ_ARGSZ, 16);
    h_feed(h, e.buf, e.len, NULL, 0);
    return h_errno(h);
}

static void client_cannot_resize_bar2(void **state)
{
    (void)state;
    struct h *h = h_ready();
    int fd = bar2_fd(h);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    off_t size = st.st_size;
    int seals = fcntl(fd, F_GET_SEALS);
    assert_true(seals >= 0);
    assert_true(seals & F_SEAL_SHRINK);
    assert_true(seals & F_SEAL_GROW);
    assert_true(seals & F_SEAL_SEAL);

    /* what a hostile client tries */
    errno = 0;
    assert_int_equal(ftruncate(fd, 0), -1);
    assert_int_equal(errno, EPERM);
    assert_int_equal(ftruncate(fd, size / 2), -1);
    assert_int_equal(ftruncate(fd, size * 2), -1);
    assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE), -1);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_size, size);

    /* the device still reaches all of BAR2 */
    h_wr(h, VFU_PCI_REGION_BAR2, (uint64_t)size - 8, 0x1122334455667788ull, 8);
    assert_int_equal(h_rd(h, VFU_PCI_REGION_BAR2, (uint64_t)size - 8, 8), 0x1122334455667788ull);
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_DEVICE_RESET);
    h_call(h, &e);
    assert_int_equal(h_errno(h), 0);
    /* the migration save copies BAR2 */
    assert_int_equal(set_state(h, PRE_COPY), 0);
    h_begin(h, &e, VFU_CMD_MIG_DATA_READ);
    vfu_enc_set(&e, VFU_F_MIG_DATA_REQ_SIZE, 4096);
    vfu_enc_set(&e, VFU_F_MIG_DATA_REQ_ARGSZ, 8 + 4096);
    h_call(h, &e);
    assert_int_equal(h_errno(h), 0);
    assert_true(vfu_get(&h->r, VFU_F_MIG_DATA_SIZE) > 0);
    assert_int_equal(set_state(h, RUNNING), 0);
    close(fd);

    /* the next client gets the same size and can map it writable */
    srv_disconnect(h->s);
    assert_int_equal(h_version(h, NULL), SRV_CONTINUE);
    fd = bar2_fd(h);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_size, size);
    void *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    assert_true(p != MAP_FAILED);
    munmap(p, (size_t)size);
    close(fd);
    h_free(h);
}

/* ---- the fuzzers' regression input: the same attack as a session ---- */

#define NREC 12
static uint8_t msgs[NREC][256];

static void rec_msg(struct vfu_fs *fs, struct vfu_enc *e)
{
    assert_true(vfu_enc_finish(e, NULL));
    fs->rec[fs->n] = (struct vfu_fs_record){.kind = VFU_FS_MSG, .msg = e->buf, .len = (uint32_t)e->len};
    fs->n++;
}

static void begin(struct vfu_fs *fs, struct vfu_enc *e, uint16_t cmd)
{
    vfu_enc_begin(e, msgs[fs->n], sizeof msgs[fs->n], cmd, false, (uint16_t)(fs->n + 1));
}

static void rec_state(struct vfu_fs *fs, uint32_t st)
{
    struct vfu_enc e;
    begin(fs, &e, VFU_CMD_DEVICE_FEATURE);
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_REQ_FLAGS, STATE | F_SET);
    vfu_enc_struct(&e, VFU_S_FEATURE_MIG_STATE);
    vfu_enc_set(&e, VFU_F_FEATURE_MIG_STATE_DEVICE_STATE, st);
    assert_true(vfu_enc_finish(&e, NULL));
    vfu_enc_set(&e, VFU_F_DEVICE_FEATURE_REQ_ARGSZ, 16);
    rec_msg(fs, &e);
}

static void rec_read(struct vfu_fs *fs, uint64_t offset)
{
    struct vfu_enc e;
    begin(fs, &e, VFU_CMD_REGION_READ);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_REGION, VFU_PCI_REGION_BAR2);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_OFFSET, offset);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_COUNT, 8);
    rec_msg(fs, &e);
}

/* VERSION, the BAR2 fd, shrink it to 0, then everything that touches
 * BAR2 through the server, and a second client */
static void build_session(struct vfu_fs *fs)
{
    memset(fs, 0, sizeof *fs);
    struct vfu_enc e;
    begin(fs, &e, VFU_CMD_VERSION);
    vfu_enc_set(&e, VFU_F_VERSION_MAJOR, VFU_PROTO_MAJOR);
    vfu_enc_set(&e, VFU_F_VERSION_MINOR, VFU_PROTO_MINOR);
    rec_msg(fs, &e);
    begin(fs, &e, VFU_CMD_DEVICE_GET_REGION_INFO);
    vfu_enc_set(&e, VFU_F_REGION_INFO_REQ_ARGSZ, 256);
    vfu_enc_set(&e, VFU_F_REGION_INFO_REQ_INDEX, VFU_PCI_REGION_BAR2);
    rec_msg(fs, &e);
    /* the truncate record's bytes: the new size, 0 */
    memset(msgs[fs->n], 0, 8);
    fs->rec[fs->n] = (struct vfu_fs_record){.kind = VFU_FS_TRUNCATE, .msg = msgs[fs->n], .len = 8};
    fs->n++;
    rec_read(fs, 0);
    begin(fs, &e, VFU_CMD_REGION_WRITE);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_REGION, VFU_PCI_REGION_BAR2);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_OFFSET, 0xfff8);
    vfu_enc_data(&e, VFU_F_REGION_ACCESS_DATA_DATA, "\1\2\3\4\5\6\7\10", 8);
    rec_msg(fs, &e);
    begin(fs, &e, VFU_CMD_DEVICE_RESET);
    rec_msg(fs, &e);
    rec_state(fs, PRE_COPY);
    begin(fs, &e, VFU_CMD_MIG_DATA_READ);
    vfu_enc_set(&e, VFU_F_MIG_DATA_REQ_SIZE, 4096);
    vfu_enc_set(&e, VFU_F_MIG_DATA_REQ_ARGSZ, 8 + 4096);
    rec_msg(fs, &e);
    rec_state(fs, RUNNING);
    fs->rec[fs->n++] = (struct vfu_fs_record){.kind = VFU_FS_DISCONNECT};
    begin(fs, &e, VFU_CMD_VERSION);
    vfu_enc_set(&e, VFU_F_VERSION_MAJOR, VFU_PROTO_MAJOR);
    vfu_enc_set(&e, VFU_F_VERSION_MINOR, VFU_PROTO_MINOR);
    rec_msg(fs, &e);
    rec_read(fs, 0xfff8);
    assert_int_equal(fs->n, NREC);
}

/* The checked-in file is what build_session makes, so it cannot drift
 * from the codec; VFU_REGEN_CORPUS=1 rewrites it. */
static void regression_input_current(void **state)
{
    (void)state;
    static struct vfu_fs fs;
    build_session(&fs);
    size_t n = vfu_fs_size(&fs);
    uint8_t *want = malloc(n);
    assert_int_equal(vfu_fs_write(&fs, want, n), n);
    if (getenv("VFU_REGEN_CORPUS")) {
        FILE *f = fopen(SESSION_FILE, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(want, 1, n, f), n);
        assert_int_equal(fclose(f), 0);
    }
    FILE *f = fopen(SESSION_FILE, "rb");
    if (!f) fail_msg("%s: %s (VFU_REGEN_CORPUS=1 writes it)", SESSION_FILE, strerror(errno));
    uint8_t *got = malloc(n + 1);
    size_t g = fread(got, 1, n + 1, f);
    fclose(f);
    if (g != n || memcmp(got, want, n))
        fail_msg("%s differs from the session this test builds (VFU_REGEN_CORPUS=1 rewrites it)", SESSION_FILE);
    free(got);
    free(want);
}

/* Replays the file in-process as the fuzz session target will: every
 * request is answered with success, and the truncate is refused. */
static void regression_input_replays(void **state)
{
    (void)state;
    FILE *f = fopen(SESSION_FILE, "rb");
    assert_non_null(f);
    static uint8_t data[8192];
    size_t len = fread(data, 1, sizeof data, f);
    fclose(f);
    static struct vfu_fs fs;
    assert_int_equal(vfu_fs_parse(data, len, &fs), NREC);
    struct h *h = h_new();
    int last = -1;
    unsigned truncates = 0;
    for (unsigned i = 0; i < fs.n; i++) {
        const struct vfu_fs_record *r = &fs.rec[i];
        switch (r->kind) {
        case VFU_FS_MSG: {
            int fds[VFU_FS_MAX_FDS];
            assert_true(vfu_fs_open_fds(r, fds));
            size_t n = vfu_fs_prepare(r, 0, h->req, sizeof h->req);
            assert_int_equal(h_feed(h, h->req, n, fds, r->nfds), SRV_CONTINUE);
            vfu_fs_close_fds(fds, r->nfds);
            if (h_errno(h)) fail_msg("record %u (%s): error %d", i, vfu_cmd_name(h->r.hdr.cmd), h_errno(h));
            if (h->nrfds) {
                if (last >= 0) close(last);
                last = fcntl(h->rfds[h->nrfds - 1], F_DUPFD_CLOEXEC, 0);
            }
            break;
        }
        case VFU_FS_TRUNCATE: {
            uint8_t sz[8] = {0};
            memcpy(sz, r->msg, r->len < 8 ? r->len : 8);
            assert_true(last >= 0);
            errno = 0;
            assert_int_equal(ftruncate(last, (off_t)vfu_read_uint(sz, 8)), -1);
            assert_int_equal(errno, EPERM);
            truncates++;
            break;
        }
        case VFU_FS_DISCONNECT:
            srv_disconnect(h->s);
            break;
        default:
            fail_msg("record %u: kind %s not in this session", i, vfu_fs_kind_name(r->kind));
        }
    }
    assert_int_equal(truncates, 1);
    if (last >= 0) close(last);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(client_cannot_resize_bar2),
        cmocka_unit_test(regression_input_current),
        cmocka_unit_test(regression_input_replays),
    };
    return cmocka_run_group_tests_name("srv BAR2 seals", tests, NULL, NULL);
}
