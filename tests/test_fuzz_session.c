/* The fuzz session format (lib/runtime/fuzz_session.h): what is written parses back
 * the same; every byte string parses (the leniency rules, one by one); each
 * fd kind opens as what it says; the header fix-ups go through the codec;
 * and the session driver (fuzz/session_driver.h) hands a handler its
 * messages, answers its requests from reply records and catches an fd kept
 * past the client's disconnect. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vfu_codec.h"
#include "fuzz_session.h"
#include "session_driver.h"
#include "transport_util.h"

static struct vfu_fs fs, back;
static uint8_t buf[1 << 16];

static size_t header(uint8_t *p, uint16_t id, uint16_t cmd, uint32_t size, uint32_t flags)
{
    struct vfu_hdr h = {id, cmd, size, flags, 0};
    vfu_hdr_encode(p, &h);
    return VFU_HDR_SIZE;
}

static void round_trip(void **state)
{
    (void)state;
    static uint8_t m1[VFU_HDR_SIZE + 4], m2[VFU_HDR_SIZE];
    header(m1, 1, VFU_CMD_VERSION, sizeof m1, 0);
    memcpy(m1 + VFU_HDR_SIZE, "abcd", 4);
    header(m2, 7, VFU_CMD_DMA_READ, sizeof m2, VFU_MSG_TYPE_REPLY);
    fs.n = 4;
    memset(fs.rec, 0, 4 * sizeof fs.rec[0]);
    fs.rec[0] = (struct vfu_fs_record){VFU_FS_MSG, VFU_FS_FIX_SIZE, 2, {{VFU_FS_FD_MEMFD, 4096}, {VFU_FS_FD_EVENTFD, 0}}, m1, sizeof m1};
    fs.rec[1] = (struct vfu_fs_record){VFU_FS_REPLY, VFU_FS_FIX_ID | VFU_FS_TWIN, 0, {{0, 0}}, m2, sizeof m2};
    fs.rec[2] = (struct vfu_fs_record){VFU_FS_DISCONNECT, 0, 0, {{0, 0}}, NULL, 0};
    fs.rec[3] = (struct vfu_fs_record){VFU_FS_IOEVENT, 0, 1, {{VFU_FS_FD_MEMFD_RO, 123}}, m1, 3};
    size_t n = vfu_fs_size(&fs);
    assert_int_equal(n, 4 * (VFU_FS_RECORD_HDR + VFU_FS_LEN_SIZE) + 3 * VFU_FS_FD_SIZE + sizeof m1 +
                            sizeof m2 + 3);
    assert_int_equal(vfu_fs_write(&fs, buf, n - 1), 0);   /* does not fit: nothing */
    assert_int_equal(vfu_fs_write(&fs, buf, sizeof buf), n);
    /* the wire form, byte by byte for the first record */
    assert_int_equal(buf[0], VFU_FS_MSG);
    assert_int_equal(buf[1], VFU_FS_FIX_SIZE);
    assert_int_equal(buf[2], 2);
    assert_int_equal(buf[3], VFU_FS_FD_MEMFD);
    assert_int_equal(buf[4] | buf[5] << 8 | buf[6] << 16 | buf[7] << 24, 4096);
    assert_int_equal(buf[13], sizeof m1);
    assert_int_equal(vfu_fs_parse(buf, n, &back), 4);
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(back.rec[i].kind, fs.rec[i].kind);
        assert_int_equal(back.rec[i].flags, fs.rec[i].flags);
        assert_int_equal(back.rec[i].nfds, fs.rec[i].nfds);
        for (unsigned k = 0; k < fs.rec[i].nfds; k++) {
            assert_int_equal(back.rec[i].fds[k].kind, fs.rec[i].fds[k].kind);
            assert_int_equal(back.rec[i].fds[k].size, fs.rec[i].fds[k].size);
        }
        assert_int_equal(back.rec[i].len, fs.rec[i].len);
        if (fs.rec[i].len) assert_memory_equal(back.rec[i].msg, fs.rec[i].msg, fs.rec[i].len);
    }
    assert_int_equal(vfu_fs_size(&back), n);
    /* records may point into the output itself (a mutator rewriting in
     * place): the bytes come out the same */
    memcpy(buf + 4096, buf, n);
    vfu_fs_parse(buf + 4096, n, &back);
    assert_int_equal(vfu_fs_write(&back, buf + 4096, sizeof buf - 4096), n);
    assert_memory_equal(buf + 4096, buf, n);
    assert_string_equal(vfu_fs_kind_name(VFU_FS_IOEVENT), "ioevent");
    assert_string_equal(vfu_fs_kind_name(VFU_FS__KINDS), "?");
    assert_string_equal(vfu_fs_fdkind_name(VFU_FS_FD_MEMFD_RO), "memfd-ro");
    assert_string_equal(vfu_fs_fdkind_name(VFU_FS_FD__KINDS), "?");
}

static void leniency(void **state)
{
    (void)state;
    /* shorter than a record header: no record */
    assert_int_equal(vfu_fs_parse(buf, 0, &fs), 0);
    static const uint8_t two[] = {0, 0};
    assert_int_equal(vfu_fs_parse(two, 2, &fs), 0);
    /* a header without its length: one empty record */
    static const uint8_t hdr_only[] = {1, 0, 0, 5};
    assert_int_equal(vfu_fs_parse(hdr_only, sizeof hdr_only, &fs), 1);
    assert_int_equal(fs.rec[0].kind, VFU_FS_REPLY);
    assert_int_equal(fs.rec[0].len, 0);
    /* unknown kind and fd kind modulo the number defined, undefined flag
     * bits dropped, memfd size modulo 64 MiB, len past the end takes the rest */
    static const uint8_t odd[] = {VFU_FS__KINDS + 2, 0xff, 1, VFU_FS_FD__KINDS + 1, 0xff, 0xff, 0xff,
                                  0xff, 100, 0, 0, 0, 'x', 'y'};
    assert_int_equal(vfu_fs_parse(odd, sizeof odd, &fs), 1);
    assert_int_equal(fs.rec[0].kind, 2);
    assert_int_equal(fs.rec[0].flags, VFU_FS__FLAGS);
    assert_int_equal(fs.rec[0].nfds, 1);
    assert_int_equal(fs.rec[0].fds[0].kind, 1);
    assert_int_equal(fs.rec[0].fds[0].size, 0xffffffffu % VFU_FS_MAX_MEMFD);
    assert_int_equal(fs.rec[0].len, 2);
    assert_memory_equal(fs.rec[0].msg, "xy", 2);
    /* nfds above the maximum: the extra fds are read (what follows stays in
     * place) and dropped */
    size_t at = 0;
    buf[at++] = VFU_FS_MSG, buf[at++] = 0, buf[at++] = 40;
    for (int i = 0; i < 40; i++, at += VFU_FS_FD_SIZE) memset(buf + at, i == 39 ? 3 : 0, VFU_FS_FD_SIZE);
    memset(buf + at, 0, 4), buf[at] = 1, at += 4, buf[at++] = 'z';
    buf[at++] = VFU_FS_IOEVENT, buf[at++] = 0, buf[at++] = 0, memset(buf + at, 0, 4), at += 4;
    assert_int_equal(vfu_fs_parse(buf, at, &fs), 2);
    assert_int_equal(fs.rec[0].nfds, VFU_FS_MAX_FDS);
    assert_int_equal(fs.rec[0].len, 1);
    assert_int_equal(fs.rec[0].msg[0], 'z');
    assert_int_equal(fs.rec[1].kind, VFU_FS_IOEVENT);
    /* fds cut short by the end of the input: those complete are kept */
    static const uint8_t cut[] = {0, 0, 3, 0, 1, 0, 0, 0, 1, 2};
    assert_int_equal(vfu_fs_parse(cut, sizeof cut, &fs), 1);
    assert_int_equal(fs.rec[0].nfds, 1);
    assert_int_equal(fs.rec[0].len, 0);
    /* records past the maximum are ignored */
    memset(buf, 0, (VFU_FS_MAX_RECORDS + 10) * 7);
    assert_int_equal(vfu_fs_parse(buf, (VFU_FS_MAX_RECORDS + 10) * 7, &fs), VFU_FS_MAX_RECORDS);
    /* every byte string parses, and what parsed writes back no longer */
    for (unsigned seed = 1; seed < 2000; seed++) {
        size_t n = seed % 300;
        for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)(seed * 31 + i * 17 + (i >> 3));
        vfu_fs_parse(buf, n, &fs);
        assert_true(vfu_fs_size(&fs) <= n + fs.n * (VFU_FS_RECORD_HDR + VFU_FS_LEN_SIZE));
    }
}

static void fd_kinds(void **state)
{
    (void)state;
    int before = count_fds();
    struct stat st;
    struct vfu_fs_fd d = {VFU_FS_FD_MEMFD, 8192};
    int fd = vfu_fs_open_fd(&d);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_size, 8192);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    assert_int_equal(write(fd, "a", 1), 1);
    close(fd);
    /* sizes above the maximum are taken modulo it here too, not only by
     * the parser: a hand-made record must not make a 4 GiB file */
    d.size = VFU_FS_MAX_MEMFD + 5;
    fd = vfu_fs_open_fd(&d);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_size, 5);
    close(fd);
    d = (struct vfu_fs_fd){VFU_FS_FD_MEMFD_RO, 4096};
    fd = vfu_fs_open_fd(&d);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_size, 4096);
    assert_int_equal(write(fd, "a", 1), -1);
    assert_int_equal(errno, EPERM);
    assert_int_equal(ftruncate(fd, 0), -1);
    assert_ptr_equal(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), MAP_FAILED);
    void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    assert_true(p != MAP_FAILED);
    munmap(p, 4096);
    close(fd);
    d.kind = VFU_FS_FD_EVENTFD;
    fd = vfu_fs_open_fd(&d);
    uint64_t v = 3;
    assert_int_equal(write(fd, &v, 8), 8);
    assert_int_equal(read(fd, &v, 8), 8);
    assert_int_equal(v, 3);
    close(fd);
    d.kind = VFU_FS_FD_PIPE;
    fd = vfu_fs_open_fd(&d);
    assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    close(fd);
    d.kind = VFU_FS_FD_DEVNULL;
    fd = vfu_fs_open_fd(&d);
    assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    close(fd);
    d.kind = VFU_FS_FD_DIR;
    fd = vfu_fs_open_fd(&d);
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_ptr_equal(mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0), MAP_FAILED);
    close(fd);
    d.kind = VFU_FS_FD_SOCKET;
    fd = vfu_fs_open_fd(&d);
    int type = 0;
    socklen_t tl = sizeof type;
    assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl), 0);
    assert_int_equal(type, SOCK_STREAM);
    close(fd);
    /* a kind out of range is taken modulo too */
    d.kind = VFU_FS_FD__KINDS + VFU_FS_FD_EVENTFD;
    fd = vfu_fs_open_fd(&d);
    assert_int_equal(write(fd, &v, 8), 8);
    close(fd);

    /* a whole record, and close_fds leaving -1 behind */
    struct vfu_fs_record r = {VFU_FS_MSG, 0, 3, {{VFU_FS_FD_MEMFD, 10}, {VFU_FS_FD_PIPE, 0}, {VFU_FS_FD_SOCKET, 0}}, NULL, 0};
    int fds[3];
    assert_true(vfu_fs_open_fds(&r, fds));
    assert_int_equal(count_fds(), before + 3);
    vfu_fs_close_fds(fds, 3);
    for (int i = 0; i < 3; i++) assert_int_equal(fds[i], -1);
    assert_int_equal(count_fds(), before);

    /* out of fds part way: those opened are closed again, errno kept */
    struct rlimit old, low;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    int highest = dup(0);
    close(highest);
    low = old;
    low.rlim_cur = (rlim_t)highest + 2;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    struct vfu_fs_record many = {VFU_FS_MSG, 0, 5, {{0, 1}, {0, 1}, {0, 1}, {0, 1}, {0, 1}}, NULL, 0};
    int mfds[5];
    bool ok = vfu_fs_open_fds(&many, mfds);
    int e = errno;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    assert_false(ok);
    assert_int_equal(e, EMFILE);
    assert_int_equal(count_fds(), before);
}

static void prepare(void **state)
{
    (void)state;
    uint8_t m[VFU_HDR_SIZE + 8], out[64];
    header(m, 5, VFU_CMD_REGION_READ, 999, 0);
    memset(m + VFU_HDR_SIZE, 0xab, 8);
    struct vfu_fs_record r = {VFU_FS_MSG, 0, 0, {{0, 0}}, m, sizeof m};
    struct vfu_hdr h;
    /* no flags: the bytes as they are */
    assert_int_equal(vfu_fs_prepare(&r, 77, out, sizeof out), sizeof m);
    assert_memory_equal(out, m, sizeof m);
    r.flags = VFU_FS_FIX_SIZE;
    assert_int_equal(vfu_fs_prepare(&r, 77, out, sizeof out), sizeof m);
    assert_true(vfu_hdr_decode(out, sizeof m, &h, NULL));
    assert_int_equal(h.msg_size, sizeof m);
    assert_int_equal(h.msg_id, 5);
    assert_int_equal(h.cmd, VFU_CMD_REGION_READ);
    assert_memory_equal(out + VFU_HDR_SIZE, m + VFU_HDR_SIZE, 8);
    r.flags = VFU_FS_FIX_ID;
    vfu_fs_prepare(&r, 77, out, sizeof out);
    assert_true(vfu_hdr_decode(out, sizeof m, &h, NULL));
    assert_int_equal(h.msg_id, 77);
    assert_int_equal(h.msg_size, 999);
    /* cut at cap: msg_size says what was kept */
    r.flags = VFU_FS_FIX_SIZE | VFU_FS_FIX_ID;
    assert_int_equal(vfu_fs_prepare(&r, 3, out, VFU_HDR_SIZE + 2), VFU_HDR_SIZE + 2);
    assert_true(vfu_hdr_decode(out, VFU_HDR_SIZE + 2, &h, NULL));
    assert_int_equal(h.msg_size, VFU_HDR_SIZE + 2);
    assert_int_equal(h.msg_id, 3);
    /* shorter than a header: copied, nothing to fix */
    r.len = 5;
    assert_int_equal(vfu_fs_prepare(&r, 3, out, sizeof out), 5);
    assert_memory_equal(out, m, 5);
    r.len = 0;
    assert_int_equal(vfu_fs_prepare(&r, 3, out, sizeof out), 0);
}

/* ------------------------------------------------------ the driver --- */

struct fake {
    struct fuzz_session *fs;
    unsigned resets, inputs, disconnects, ioevents, fds_seen;
    int kept;              /* an fd kept from a message, -1 */
    bool keep_forever;     /* keep it past disconnect: a leak */
    bool ask;              /* request a reply on each input */
    unsigned replies;
    uint16_t last_reply_id;
};

static struct fake F;

/* counters back to zero; the handler (made once per process) keeps its session */
static void fake_clear(bool keep_forever)
{
    struct fuzz_session *fs = F.fs;
    memset(&F, 0, sizeof F);
    F.fs = fs;
    F.kept = -1;
    F.ask = true;
    F.keep_forever = keep_forever;
}

static void *f_create(struct fuzz_session *fs)
{
    F.fs = fs;
    return &F;
}
static void f_reset(void *h) { ((struct fake *)h)->resets++; }
static bool f_input(void *h, const uint8_t *msg, size_t len, int *fds, unsigned nfds)
{
    struct fake *f = h;
    f->inputs++;
    f->fds_seen += nfds;
    if (nfds && f->kept < 0) {
        f->kept = fds[0];
        fds[0] = -1;
    }
    if (f->ask && len >= VFU_HDR_SIZE) {
        uint8_t req[VFU_HDR_SIZE];
        struct vfu_hdr h = {(uint16_t)(100 + f->inputs), VFU_CMD_DMA_READ, VFU_HDR_SIZE, 0, 0};
        vfu_hdr_encode(req, &h);
        const uint8_t *rep;
        size_t rlen;
        int *rfds;
        unsigned rn;
        if (fuzz_session_request(f->fs, req, sizeof req, &rep, &rlen, &rfds, &rn)) {
            struct vfu_hdr rh;
            assert_true(vfu_hdr_decode(rep, rlen, &rh, NULL));
            f->replies++;
            f->last_reply_id = rh.msg_id;
        }
    }
    (void)msg;
    return true;
}
static void f_disconnect(void *h)
{
    struct fake *f = h;
    f->disconnects++;
    if (f->kept >= 0 && !f->keep_forever) {
        close(f->kept);
        f->kept = -1;
    }
}
static bool f_ioevent(void *h)
{
    ((struct fake *)h)->ioevents++;
    return true;
}
static const struct fuzz_server fake_server = {"fake", f_create, f_reset, f_input, f_disconnect, f_ioevent};

static size_t session(uint8_t *out, uint16_t reply_id)
{
    static uint8_t msg[VFU_HDR_SIZE], rep[VFU_HDR_SIZE], late[VFU_HDR_SIZE];
    header(msg, 1, VFU_CMD_DEVICE_GET_INFO, VFU_HDR_SIZE, 0);
    header(late, 9, VFU_CMD_DMA_READ, VFU_HDR_SIZE, VFU_MSG_TYPE_REPLY);   /* no fix-id: a late reply */
    header(rep, reply_id, VFU_CMD_DMA_READ, VFU_HDR_SIZE, VFU_MSG_TYPE_REPLY);
    fs.n = 0;
    /* replies are taken in order wherever they stand: this one first */
    fs.rec[fs.n++] = (struct vfu_fs_record){VFU_FS_REPLY, 0, 0, {{0, 0}}, late, sizeof late};
    fs.rec[fs.n++] = (struct vfu_fs_record){VFU_FS_MSG, 0, 2, {{VFU_FS_FD_MEMFD, 64}, {VFU_FS_FD_EVENTFD, 0}}, msg, sizeof msg};
    fs.rec[fs.n++] = (struct vfu_fs_record){VFU_FS_IOEVENT, 0, 0, {{0, 0}}, NULL, 0};
    fs.rec[fs.n++] = (struct vfu_fs_record){VFU_FS_REPLY, VFU_FS_FIX_ID, 1, {{VFU_FS_FD_PIPE, 0}}, rep, sizeof rep};
    fs.rec[fs.n++] = (struct vfu_fs_record){VFU_FS_DISCONNECT, 0, 0, {{0, 0}}, NULL, 0};
    fs.rec[fs.n++] = (struct vfu_fs_record){VFU_FS_MSG, 0, 0, {{0, 0}}, msg, sizeof msg};
    return vfu_fs_write(&fs, out, sizeof buf);
}

static void driver(void **state)
{
    (void)state;
    size_t n = session(buf, 0);
    /* a first run fills the driver's memfd pool, which stays open */
    fake_clear(false);
    fuzz_session_run(&fake_server, buf, n);
    int before = count_fds();
    fake_clear(false);
    fuzz_session_run(&fake_server, buf, n);
    assert_int_equal(F.resets, 1);
    assert_int_equal(F.inputs, 2);
    assert_int_equal(F.fds_seen, 2);
    assert_int_equal(F.ioevents, 1);
    /* the record's disconnect and the one after the last record */
    assert_int_equal(F.disconnects, 2);
    /* the late reply (msg_id 9) dropped, the fixed-up one taken, then none left */
    assert_int_equal(F.replies, 1);
    assert_int_equal(F.last_reply_id, 101);
    assert_int_equal(count_fds(), before);
    /* the same input again: the same run */
    fake_clear(false);
    fuzz_session_run(&fake_server, buf, n);
    assert_int_equal(F.inputs, 2);
    assert_int_equal(F.replies, 1);
    assert_int_equal(count_fds(), before);
}

static void driver_catches_leak(void **state)
{
    (void)state;
    size_t n = session(buf, 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* stderr closed: the abort message is expected */
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        fake_clear(true);
        fuzz_session_run(&fake_server, buf, n);
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGABRT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(leniency),
        cmocka_unit_test(fd_kinds),
        cmocka_unit_test(prepare),
        cmocka_unit_test(driver),
        cmocka_unit_test(driver_catches_leak),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
