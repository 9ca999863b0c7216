/* A small vfio-user client over lib/transport for the socket-level tests of
 * vfu-refserver: starts the program, negotiates, sends commands and serves
 * the server's DMA_READ / DMA_WRITE from a local buffer (on the twin socket
 * when one was negotiated) while it waits. */
#ifndef SRV_CLIENT_H
#define SRV_CLIENT_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "vfu_caps.h"
#include "vfu_codec.h"
#include "proc.h"
#include "toydev.h"
#include "vfu_transport.h"

#define C_GUEST 0x40000000ull     /* message-based window */
#define C_GUEST_SIZE (2u << 20)
#define C_BUF (VFU_HDR_SIZE + VFU_FIXED_ROOM + (2u << 20))

struct cl {
    struct vfu_conn c, twin;
    uint8_t *guest;
    uint8_t *req;
    struct vfu_msg r;
    uint16_t next_id;
    unsigned served;           /* DMA requests answered */
};

/* ---- the server process (lib/proc) ---- */

/* static, so that a test that fails part way leaves nothing running:
 * c_kill_all frees whatever is still active */
static struct vfu_proc c_procs[8];

static inline void c_kill_all(void)
{
    for (unsigned i = 0; i < sizeof c_procs / sizeof c_procs[0]; i++)
        if (c_procs[i].active) vfu_proc_free(&c_procs[i]);
}

static inline struct vfu_proc *c_slot(void)
{
    for (unsigned i = 0; i < sizeof c_procs / sizeof c_procs[0]; i++)
        if (!c_procs[i].active) {
            memset(&c_procs[i], 0, sizeof c_procs[i]);
            return &c_procs[i];
        }
    fail_msg("too many servers at once");
    return NULL;
}

static inline struct vfu_proc *c_start_spec(struct vfu_proc_spec *spec)
{
    struct vfu_proc *p = c_slot();
    struct vfu_error err;
    spec->stdout_mode = VFU_PROC_STDOUT_NULL;
    if (!vfu_proc_start(p, spec, &err)) fail_msg("cannot start the server: %s", vfu_proc_why(p));
    return p;
}

static inline void c_sock_path(char *buf, size_t n, const char *tag)
{
    snprintf(buf, n, "/tmp/vfu-srvtest-%d-%s.sock", (int)getpid(), tag);
}

/* SRV_BIN with up to two extra options; lib/proc adds --socket-path=path */
static inline struct vfu_proc *c_start(const char *path, const char *extra1, const char *extra2)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s %s %s", SRV_BIN, extra1 ? extra1 : "", extra2 ? extra2 : "");
    struct vfu_proc_spec spec = {.cmd = cmd, .socket_path = path, .sock = VFU_PROC_SOCK_PATH};
    return c_start_spec(&spec);
}

/* SIGTERM: the server must exit 0 and take its socket file with it */
static inline void c_stop(struct vfu_proc *p)
{
    const struct vfu_proc_status *st = vfu_proc_stop(p, 5000);
    assert_int_equal(st->state, VFU_PROC_EXITED);
    assert_int_equal(st->code, 0);
    assert_false(st->socket_left);
    vfu_proc_free(p);
}

/* exit status of a program ending on its own, or -1 if not in time */
static inline int c_wait_exit(struct vfu_proc *p, int ms)
{
    if (!vfu_proc_wait(p, ms)) return -1;
    const struct vfu_proc_status *st = vfu_proc_status(p);
    return st->state == VFU_PROC_EXITED ? st->code : 128 + st->code;
}

static inline int c_count_fds(struct vfu_proc *p)
{
    int n = vfu_proc_fd_count(p);
    assert_true(n > 0);
    return n;
}

/* a plain fork/exec, for command lines that must reach the program as
 * given (lib/proc adds the socket option); returns the exit status */
static inline int c_run_argv(char *const argv[], char *msg, size_t n)
{
    int errp[2];
    assert_int_equal(pipe(errp), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, 0);
        dup2(devnull, 1);
        dup2(errp[1], 2);
        execv(SRV_BIN, argv);
        _exit(127);
    }
    close(errp[1]);
    ssize_t got = read(errp[0], msg, n - 1);
    msg[got > 0 ? got : 0] = 0;
    close(errp[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- the connection ---- */

static inline void c_open_fd(struct cl *k, int fd)
{
    memset(k, 0, sizeof *k);
    struct vfu_error err;
    assert_true(vfu_conn_init(&k->c, fd, NULL, &err));
    k->c.timeout_ms = 10000;
    k->twin.fd = -1;
    k->guest = calloc(1, C_GUEST_SIZE);
    k->req = malloc(C_BUF);
    k->next_id = 1;
}

static inline void c_open(struct cl *k, const char *path)
{
    struct vfu_error err;
    int fd = vfu_connect(path, 5000, &err);
    assert_true(fd >= 0);
    c_open_fd(k, fd);
}

static inline void c_close(struct cl *k)
{
    if (k->twin.fd >= 0) vfu_conn_close(&k->twin);
    vfu_conn_close(&k->c);
    free(k->guest);
    free(k->req);
}

/* answers one server request that sits in conn's buffer */
static inline void c_serve(struct cl *k, struct vfu_conn *conn)
{
    struct vfu_msg m;
    struct vfu_error err;
    assert_true(vfu_decode(&m, conn->rbuf, conn->rlen, conn->rfds, conn->nrfds, &conn->lim,
                           VFU_ROLE_CLIENT, &err));
    bool write = m.hdr.cmd == VFU_CMD_DMA_WRITE;
    assert_true(write || m.hdr.cmd == VFU_CMD_DMA_READ);
    uint64_t a = vfu_get(&m, write ? VFU_F_DMA_ACCESS_DATA_ADDRESS : VFU_F_DMA_ACCESS_ADDRESS);
    uint64_t n = vfu_get(&m, write ? VFU_F_DMA_ACCESS_DATA_COUNT : VFU_F_DMA_ACCESS_COUNT);
    static uint8_t out[C_BUF];
    struct vfu_enc e;
    if (a < C_GUEST || a - C_GUEST > C_GUEST_SIZE || n > C_GUEST_SIZE - (a - C_GUEST)) {
        vfu_enc_error(&e, out, sizeof out, m.hdr.cmd, m.hdr.msg_id, EFAULT);
    } else if (write) {
        uint32_t len;
        const uint8_t *d = vfu_data(&m, VFU_F_DMA_ACCESS_DATA_DATA, &len);
        memcpy(k->guest + (a - C_GUEST), d, len);
        vfu_enc_begin(&e, out, sizeof out, m.hdr.cmd, true, m.hdr.msg_id);
        vfu_enc_set(&e, VFU_F_DMA_WRITE_ACK_ADDRESS, a);
        vfu_enc_set(&e, VFU_F_DMA_WRITE_ACK_COUNT, n);
    } else {
        vfu_enc_begin(&e, out, sizeof out, m.hdr.cmd, true, m.hdr.msg_id);
        vfu_enc_set(&e, VFU_F_DMA_ACCESS_DATA_ADDRESS, a);
        vfu_enc_set(&e, VFU_F_DMA_ACCESS_DATA_COUNT, n);
        vfu_enc_data(&e, VFU_F_DMA_ACCESS_DATA_DATA, k->guest + (a - C_GUEST), n);
    }
    assert_true(vfu_enc_finish(&e, &err));
    assert_true(vfu_send_enc(conn, &e, &err));
    k->served++;
}

/* Serves server requests until fd (or the main socket, fd < 0, for a
 * reply) is readable; false on timeout. */
static inline bool c_pump(struct cl *k, int fd, int ms)
{
    struct vfu_error err;
    for (;;) {
        struct pollfd p[3] = {{k->c.fd, POLLIN, 0}, {k->twin.fd, POLLIN, 0}, {fd, POLLIN, 0}};
        int r = poll(p, 3, ms);
        if (r <= 0) return false;
        if (fd >= 0 && p[2].revents) return true;
        if (k->twin.fd >= 0 && p[1].revents) {
            assert_true(vfu_recv(&k->twin, &err));
            c_serve(k, &k->twin);
            continue;
        }
        if (p[0].revents) {
            if (fd < 0) return true;
            /* a request on the main socket (no twin) */
            assert_true(vfu_recv(&k->c, &err));
            c_serve(k, &k->c);
        }
    }
}

/* sends e, then waits for its reply (serving requests meanwhile);
 * returns 0 or the reply's errno */
static inline int c_call_fds(struct cl *k, struct vfu_enc *e, const int *fds, unsigned nfds)
{
    struct vfu_error err;
    assert_true(vfu_enc_finish(e, &err));
    if (nfds) memcpy(e->fds, fds, nfds * sizeof(int));
    e->nfds = nfds;
    uint16_t id = (uint16_t)vfu_read_uint(e->buf, 2);
    assert_true(vfu_send_enc(&k->c, e, &err));
    for (;;) {
        assert_true(c_pump(k, -1, 10000));
        assert_true(vfu_recv(&k->c, &err));
        struct vfu_hdr h;
        vfu_hdr_decode(k->c.rbuf, k->c.rlen, &h, NULL);
        if ((h.flags & VFU_HDR_FLAGS_TYPE_MASK) == VFU_MSG_TYPE_COMMAND) {
            c_serve(k, &k->c);
            continue;
        }
        assert_int_equal(h.msg_id, id);
        if (h.flags & VFU_HDR_FLAGS_ERROR) return (int)h.error;
        if (!vfu_decode(&k->r, k->c.rbuf, k->c.rlen, k->c.rfds, k->c.nrfds, &k->c.lim,
                        VFU_ROLE_CLIENT, &err)) {
            char b[200];
            vfu_error_str(&err, b, sizeof b);
            fail_msg("reply does not decode: %s", b);
        }
        return 0;
    }
}

static inline int c_call(struct cl *k, struct vfu_enc *e) { return c_call_fds(k, e, NULL, 0); }

static inline void c_begin(struct cl *k, struct vfu_enc *e, uint16_t cmd)
{
    vfu_enc_begin(e, k->req, C_BUF, cmd, false, k->next_id++);
}

static inline void c_version(struct cl *k, bool twin)
{
    struct vfu_enc e;
    c_begin(k, &e, VFU_CMD_VERSION);
    vfu_enc_set(&e, VFU_F_VERSION_MAJOR, VFU_PROTO_MAJOR);
    vfu_enc_set(&e, VFU_F_VERSION_MINOR, VFU_PROTO_MINOR);
    const char *j = twin ? "{\"capabilities\":{\"max_msg_fds\":8,\"twin_socket\":{\"supported\":true}}}"
                         : "{\"capabilities\":{\"max_msg_fds\":8}}";
    vfu_enc_data(&e, VFU_F_VERSION_DATA, j, strlen(j) + 1);
    assert_int_equal(c_call(k, &e), 0);
    if (twin) {
        assert_int_equal(k->c.nrfds, 1);
        struct vfu_error err;
        assert_true(vfu_conn_init(&k->twin, vfu_conn_take_fd(&k->c, 0), NULL, &err));
        k->twin.timeout_ms = 10000;
    }
}

static inline int c_rw(struct cl *k, unsigned region, uint64_t off, void *buf, uint32_t n, bool write)
{
    struct vfu_enc e;
    c_begin(k, &e, write ? VFU_CMD_REGION_WRITE : VFU_CMD_REGION_READ);
    if (write) {
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_OFFSET, off);
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_REGION, region);
        vfu_enc_data(&e, VFU_F_REGION_ACCESS_DATA_DATA, buf, n);
    } else {
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_OFFSET, off);
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_REGION, region);
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_COUNT, n);
    }
    int r = c_call(k, &e);
    if (!r && !write) {
        uint32_t len;
        const uint8_t *d = vfu_data(&k->r, VFU_F_REGION_ACCESS_DATA_DATA, &len);
        assert_int_equal(len, n);
        memcpy(buf, d, n);
    }
    return r;
}

static inline uint64_t c_rd(struct cl *k, unsigned region, uint64_t off, unsigned w)
{
    uint64_t v = 0;
    assert_int_equal(c_rw(k, region, off, &v, w, false), 0);
    return v;
}

static inline void c_wr(struct cl *k, unsigned region, uint64_t off, uint64_t v, unsigned w)
{
    assert_int_equal(c_rw(k, region, off, &v, w, true), 0);
}

static inline int c_map(struct cl *k, uint64_t addr, uint64_t size, int fd)
{
    struct vfu_enc e;
    c_begin(k, &e, VFU_CMD_DMA_MAP);
    vfu_enc_set(&e, VFU_F_DMA_MAP_FLAGS, VFU_DMA_MAP_FLAGS_READ | VFU_DMA_MAP_FLAGS_WRITE);
    vfu_enc_set(&e, VFU_F_DMA_MAP_ADDRESS, addr);
    vfu_enc_set(&e, VFU_F_DMA_MAP_SIZE, size);
    return c_call_fds(k, &e, &fd, fd >= 0 ? 1 : 0);
}

static inline int c_set_irq(struct cl *k, unsigned index, int efd)
{
    struct vfu_enc e;
    c_begin(k, &e, VFU_CMD_DEVICE_SET_IRQS);
    vfu_enc_set(&e, VFU_F_SET_IRQS_FLAGS, VFU_IRQ_SET_FLAGS_DATA_EVENTFD | VFU_IRQ_SET_FLAGS_ACTION_TRIGGER);
    vfu_enc_set(&e, VFU_F_SET_IRQS_INDEX, index);
    vfu_enc_set(&e, VFU_F_SET_IRQS_COUNT, 1);
    return c_call_fds(k, &e, &efd, 1);
}

/* bus master, MSI-X on, vector 0 unmasked (PCI facts) */
static inline void c_enable_dma_msix(struct cl *k)
{
    uint16_t cmd = (uint16_t)c_rd(k, VFU_PCI_REGION_CONFIG, 4, 2);
    c_wr(k, VFU_PCI_REGION_CONFIG, 4, cmd | 0x6, 2);
    uint16_t ctl = (uint16_t)c_rd(k, VFU_PCI_REGION_CONFIG, TOYDEV_CAP_MSIX + 2, 2);
    c_wr(k, VFU_PCI_REGION_CONFIG, TOYDEV_CAP_MSIX + 2, (ctl | 0x8000) & ~0x4000u, 2);
    c_wr(k, VFU_PCI_REGION_BAR4, 12, 0, 4);
}

static inline void c_program(struct cl *k, uint64_t src, uint64_t dst, uint32_t len)
{
    c_wr(k, VFU_PCI_REGION_BAR0, TOYDEV_REG_STATUS, TOYDEV_STATUS_DONE | TOYDEV_STATUS_ERROR, 4);
    c_wr(k, VFU_PCI_REGION_BAR0, TOYDEV_REG_SRC, src, 8);
    c_wr(k, VFU_PCI_REGION_BAR0, TOYDEV_REG_DST, dst, 8);
    c_wr(k, VFU_PCI_REGION_BAR0, TOYDEV_REG_LEN, len, 4);
}

static inline int c_memfd(size_t size)
{
    int fd = memfd_create("guest", MFD_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)size), 0);
    return fd;
}

/* waits (serving DMA requests) for the eventfd; returns its count */
static inline uint64_t c_wait_irq(struct cl *k, int efd)
{
    if (!c_pump(k, efd, 10000)) return 0;
    uint64_t v = 0;
    assert_int_equal(read(efd, &v, 8), 8);
    return v;
}

#endif
