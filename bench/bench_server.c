/* bench_server: figures for the reference server (vfu-refserver).
 * (REGION_READ round trips, next to the machine's limit, are
 * bench_roundtrip's.)
 *   - DMA engine throughput (MB/s) for 1 MiB copies, guest memory either
 *     mmap()ed by the server from a memfd or reached with DMA_READ /
 *     DMA_WRITE messages (main socket, then twin socket).
 * Each figure is printed as "name: value unit". */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vfu_codec.h"
#include "toydev.h"
#include "vfu_transport.h"

#define MAPPED 0x10000000ull
#define GUEST 0x40000000ull
#define COPY (1u << 20)
#define BUF (VFU_HDR_SIZE + VFU_FIXED_ROOM + (1u << 20))

static struct vfu_conn conn, twin;
static uint8_t *guest;      /* message-based memory, 2 * COPY at GUEST */
static uint8_t req[BUF], out[BUF];
static uint16_t next_id = 1;

static void die(const char *what)
{
    fprintf(stderr, "bench_server: %s\n", what);
    exit(1);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* answers a DMA_READ / DMA_WRITE waiting in c */
static void serve(struct vfu_conn *c)
{
    struct vfu_msg m;
    struct vfu_error err;
    if (!vfu_decode(&m, c->rbuf, c->rlen, NULL, 0, &c->lim, VFU_ROLE_CLIENT, &err)) die("bad request");
    bool write = m.hdr.cmd == VFU_CMD_DMA_WRITE;
    uint64_t a = vfu_get(&m, write ? VFU_F_DMA_ACCESS_DATA_ADDRESS : VFU_F_DMA_ACCESS_ADDRESS);
    uint64_t n = vfu_get(&m, write ? VFU_F_DMA_ACCESS_DATA_COUNT : VFU_F_DMA_ACCESS_COUNT);
    if (a < GUEST || a - GUEST + n > 2 * COPY) die("DMA outside the window");
    struct vfu_enc e;
    vfu_enc_begin(&e, out, sizeof out, m.hdr.cmd, true, m.hdr.msg_id);
    if (write) {
        uint32_t len;
        const uint8_t *d = vfu_data(&m, VFU_F_DMA_ACCESS_DATA_DATA, &len);
        memcpy(guest + (a - GUEST), d, len);
        vfu_enc_set(&e, VFU_F_DMA_WRITE_ACK_ADDRESS, a);
        vfu_enc_set(&e, VFU_F_DMA_WRITE_ACK_COUNT, n);
    } else {
        vfu_enc_set(&e, VFU_F_DMA_ACCESS_DATA_ADDRESS, a);
        vfu_enc_set(&e, VFU_F_DMA_ACCESS_DATA_COUNT, n);
        vfu_enc_data(&e, VFU_F_DMA_ACCESS_DATA_DATA, guest + (a - GUEST), n);
    }
    if (!vfu_enc_finish(&e, &err) || !vfu_send_enc(c, &e, &err)) die("cannot answer");
}

/* sends e and returns its reply, serving DMA requests meanwhile */
static struct vfu_msg call(struct vfu_enc *e, const int *fds, unsigned nfds)
{
    struct vfu_error err;
    struct vfu_msg m;
    if (!vfu_enc_finish(e, &err)) die("encode");
    if (nfds) memcpy(e->fds, fds, nfds * sizeof(int));
    e->nfds = nfds;
    if (!vfu_send_enc(&conn, e, &err)) die("send");
    for (;;) {
        struct pollfd p[2] = {{conn.fd, POLLIN, 0}, {twin.fd, POLLIN, 0}};
        if (poll(p, 2, 10000) <= 0) die("no reply");
        if (twin.fd >= 0 && p[1].revents) {
            if (!vfu_recv(&twin, &err)) die("twin recv");
            serve(&twin);
            continue;
        }
        if (!vfu_recv(&conn, &err)) die("recv");
        struct vfu_hdr h;
        vfu_hdr_decode(conn.rbuf, conn.rlen, &h, NULL);
        if ((h.flags & VFU_HDR_FLAGS_TYPE_MASK) == VFU_MSG_TYPE_COMMAND) {
            serve(&conn);
            continue;
        }
        if (h.flags & VFU_HDR_FLAGS_ERROR) die(strerror((int)h.error));
        if (!vfu_decode(&m, conn.rbuf, conn.rlen, conn.rfds, conn.nrfds, &conn.lim, VFU_ROLE_CLIENT, &err))
            die("reply does not decode");
        return m;
    }
}

static void begin(struct vfu_enc *e, uint16_t cmd)
{
    vfu_enc_begin(e, req, sizeof req, cmd, false, next_id++);
}

static void wr(unsigned region, uint64_t off, uint64_t v, unsigned w)
{
    struct vfu_enc e;
    begin(&e, VFU_CMD_REGION_WRITE);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_OFFSET, off);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_REGION, region);
    vfu_enc_data(&e, VFU_F_REGION_ACCESS_DATA_DATA, &v, w);
    call(&e, NULL, 0);
}

static uint64_t rd(unsigned region, uint64_t off, unsigned w)
{
    struct vfu_enc e;
    begin(&e, VFU_CMD_REGION_READ);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_OFFSET, off);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_REGION, region);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_COUNT, w);
    struct vfu_msg m = call(&e, NULL, 0);
    uint64_t v = 0;
    memcpy(&v, vfu_data(&m, VFU_F_REGION_ACCESS_DATA_DATA, NULL), w);
    return v;
}

static void map(uint64_t addr, uint64_t size, int fd)
{
    struct vfu_enc e;
    begin(&e, VFU_CMD_DMA_MAP);
    vfu_enc_set(&e, VFU_F_DMA_MAP_FLAGS, VFU_DMA_MAP_FLAGS_READ | VFU_DMA_MAP_FLAGS_WRITE);
    vfu_enc_set(&e, VFU_F_DMA_MAP_ADDRESS, addr);
    vfu_enc_set(&e, VFU_F_DMA_MAP_SIZE, size);
    call(&e, &fd, fd >= 0);
}

static void session(const char *path, bool want_twin)
{
    struct vfu_error err;
    int fd = -1;
    for (int i = 0; i < 500 && fd < 0; i++) {
        fd = vfu_connect(path, 1000, &err);
        if (fd < 0) usleep(10000);
    }
    if (fd < 0 || !vfu_conn_init(&conn, fd, NULL, &err)) die("cannot connect");
    conn.timeout_ms = 10000;
    twin.fd = -1;
    struct vfu_enc e;
    begin(&e, VFU_CMD_VERSION);
    vfu_enc_set(&e, VFU_F_VERSION_MAJOR, VFU_PROTO_MAJOR);
    vfu_enc_set(&e, VFU_F_VERSION_MINOR, VFU_PROTO_MINOR);
    const char *j = want_twin ? "{\"capabilities\":{\"max_msg_fds\":8,\"twin_socket\":{\"supported\":true}}}"
                              : "{\"capabilities\":{\"max_msg_fds\":8}}";
    vfu_enc_data(&e, VFU_F_VERSION_DATA, j, strlen(j) + 1);
    call(&e, NULL, 0);
    if (want_twin) {
        if (conn.nrfds != 1 || !vfu_conn_init(&twin, vfu_conn_take_fd(&conn, 0), NULL, &err))
            die("no twin socket");
        twin.timeout_ms = 10000;
    }
    /* bus master on (PCI command register) */
    wr(VFU_PCI_REGION_CONFIG, 4, rd(VFU_PCI_REGION_CONFIG, 4, 2) | 0x6, 2);
}

static void end_session(void)
{
    if (twin.fd >= 0) vfu_conn_close(&twin);
    vfu_conn_close(&conn);
}

static double copies(uint64_t src, uint64_t dst, int n)
{
    wr(VFU_PCI_REGION_BAR0, TOYDEV_REG_SRC, src, 8);
    wr(VFU_PCI_REGION_BAR0, TOYDEV_REG_DST, dst, 8);
    wr(VFU_PCI_REGION_BAR0, TOYDEV_REG_LEN, COPY, 4);
    double t = now();
    for (int i = 0; i < n; i++) {
        wr(VFU_PCI_REGION_BAR0, TOYDEV_REG_STATUS, TOYDEV_STATUS_DONE, 4);
        /* the doorbell's reply comes once the copy is done */
        wr(VFU_PCI_REGION_BAR0, TOYDEV_REG_DOORBELL, 1, 4);
    }
    t = now() - t;
    if (rd(VFU_PCI_REGION_BAR0, TOYDEV_REG_STATUS, 4) != TOYDEV_STATUS_DONE) die("copy failed");
    return (double)n * COPY / 1e6 / t;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    char path[128];
    snprintf(path, sizeof path, "/tmp/vfu-bench-%d.sock", (int)getpid());
    pid_t pid = fork();
    if (pid == 0) {
        char opt[160];
        snprintf(opt, sizeof opt, "--socket-path=%s", path);
        execl(SRV_BIN, SRV_BIN, opt, (char *)NULL);
        _exit(127);
    }
    guest = calloc(1, 2 * COPY);
    int memfd = memfd_create("bench", MFD_CLOEXEC);
    if (!guest || memfd < 0 || ftruncate(memfd, 2 * COPY) < 0) die("setup");

    session(path, false);
    if (rd(VFU_PCI_REGION_BAR0, TOYDEV_REG_ID, 4) != TOYDEV_ID_VALUE) die("bad ID");

    map(MAPPED, 2 * COPY, memfd);
    map(GUEST, 2 * COPY, -1);
    printf("dma_memfd_1MiB: %.0f MB/s\n", copies(MAPPED, MAPPED + COPY, 200));
    printf("dma_messages_1MiB: %.0f MB/s\n", copies(GUEST, GUEST + COPY, 50));
    end_session();

    session(path, true);
    map(GUEST, 2 * COPY, -1);
    printf("dma_messages_twin_1MiB: %.0f MB/s\n", copies(GUEST, GUEST + COPY, 50));
    end_session();

    kill(pid, SIGTERM);
    int st;
    waitpid(pid, &st, 0);
    close(memfd);
    free(guest);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
