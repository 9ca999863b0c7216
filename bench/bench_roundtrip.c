/* bench_roundtrip: 4-byte REGION_READ round trips per second, next to the
 * limit of this machine measured in the same run.
 *
 *   pingpong_limit   two processes over a socketpair exchanging messages of
 *                    the same sizes (the encoded REGION_READ request and its
 *                    reply), one blocking sendmsg and one recvmsg per side
 *                    per round trip: what no server can beat here;
 *   vfu-refserver    the reference server, started with lib/runtime/proc.h;
 *   external         VFU_BENCH_SERVER="CMD" (optional): any other server,
 *                    {socket} in CMD standing for its socket path, e.g.
 *                    VFU_BENCH_SERVER="samples/gpio-pci-idio-16 {socket}".
 *
 * Every server gets the same client: one sendmsg of a pre-encoded request
 * and one recvmsg of the reply (more only when it comes in pieces), a read
 * of PCI config space offset 0 (every PCI device server has it).  Rounds
 * alternate between the limit and the servers, and each figure is the best
 * round, so that load from elsewhere hurts every figure alike. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vfu_codec.h"
#include "proc.h"
#include "vfu_transport.h"

#define ROUNDS 3
#define TRIPS 20000

static uint8_t req[256], rep[256];
static size_t req_len, rep_len;

static void die(const char *what)
{
    fprintf(stderr, "bench_roundtrip: %s\n", what);
    exit(1);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* the two messages, encoded once: the request the client sends and a reply
 * of the size a server sends back */
static void encode(void)
{
    struct vfu_enc e;
    struct vfu_error err;
    vfu_enc_begin(&e, req, sizeof req, VFU_CMD_REGION_READ, false, 1);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_OFFSET, 0);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_REGION, VFU_PCI_REGION_CONFIG);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_COUNT, 4);
    if (!vfu_enc_finish(&e, &err)) die("encode request");
    req_len = e.len;
    vfu_enc_begin(&e, rep, sizeof rep, VFU_CMD_REGION_READ, true, 1);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_REGION, VFU_PCI_REGION_CONFIG);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_COUNT, 4);
    vfu_enc_data(&e, VFU_F_REGION_ACCESS_DATA_DATA, "\x34\x12\xf0\x11", 4);
    if (!vfu_enc_finish(&e, &err)) die("encode reply");
    rep_len = e.len;
}

static void send_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        struct iovec iov = {(void *)p, n};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        ssize_t k = sendmsg(fd, &mh, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) die("sendmsg");
        p += k;
        n -= (size_t)k;
    }
}

/* one recvmsg, more only if the message came in pieces; its length */
static size_t recv_msg(int fd, uint8_t *buf, size_t cap)
{
    size_t got = 0, want = VFU_HDR_SIZE;
    while (got < want) {
        struct iovec iov = {buf + got, cap - got};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        ssize_t k = recvmsg(fd, &mh, 0);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return 0;
        got += (size_t)k;
        struct vfu_hdr h;
        if (got >= VFU_HDR_SIZE && vfu_hdr_decode(buf, got, &h, NULL)) {
            if (h.msg_size < VFU_HDR_SIZE || h.msg_size > cap) die("reply of impossible size");
            want = h.msg_size;
        }
    }
    if (got != want) die("more than one message at once");
    return got;
}

static double pingpong_limit(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) die("socketpair");
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        close(sv[0]);
        uint8_t buf[256];
        while (recv_msg(sv[1], buf, sizeof buf)) send_all(sv[1], rep, rep_len);
        _exit(0);
    }
    close(sv[1]);
    uint8_t buf[256];
    double t = now();
    for (int i = 0; i < TRIPS; i++) {
        send_all(sv[0], req, req_len);
        if (recv_msg(sv[0], buf, sizeof buf) != rep_len) die("ping-pong reply");
    }
    t = now() - t;
    close(sv[0]);
    waitpid(pid, NULL, 0);
    return TRIPS / t;
}

/* VERSION with the usual capabilities; the server's reply must be a success */
static int connect_server(const char *path)
{
    struct vfu_error err;
    int fd = -1;
    for (int i = 0; i < 500 && fd < 0; i++) {
        fd = vfu_connect(path, 1000, &err);
        if (fd < 0) usleep(10000);
    }
    if (fd < 0) die("cannot connect");
    uint8_t m[512], buf[4096];
    struct vfu_enc e;
    vfu_enc_begin(&e, m, sizeof m, VFU_CMD_VERSION, false, 7);
    vfu_enc_set(&e, VFU_F_VERSION_MAJOR, VFU_PROTO_MAJOR);
    vfu_enc_set(&e, VFU_F_VERSION_MINOR, VFU_PROTO_MINOR);
    const char *j = "{\"capabilities\":{\"max_msg_fds\":8}}";
    vfu_enc_data(&e, VFU_F_VERSION_DATA, j, strlen(j) + 1);
    if (!vfu_enc_finish(&e, &err)) die("encode VERSION");
    send_all(fd, e.buf, e.len);
    struct vfu_msg r;
    size_t n = recv_msg(fd, buf, sizeof buf);
    if (!n || !vfu_decode(&r, buf, n, NULL, 0, NULL, VFU_ROLE_CLIENT, &err) || r.is_error)
        die("VERSION failed");
    return fd;
}

static double region_reads(int fd)
{
    uint8_t buf[256];
    struct vfu_error err;
    /* the first reply is decoded in full; the rest are checked by header */
    send_all(fd, req, req_len);
    size_t n = recv_msg(fd, buf, sizeof buf);
    struct vfu_msg r;
    if (!n || !vfu_decode(&r, buf, n, NULL, 0, NULL, VFU_ROLE_CLIENT, &err) || r.is_error ||
        vfu_get(&r, VFU_F_REGION_ACCESS_DATA_COUNT) != 4)
        die("REGION_READ of config space failed");
    double t = now();
    for (int i = 0; i < TRIPS; i++) {
        uint16_t id = (uint16_t)(i + 100);
        struct vfu_hdr h;
        vfu_hdr_decode(req, req_len, &h, NULL);
        h.msg_id = id;
        vfu_hdr_encode(req, &h);
        send_all(fd, req, req_len);
        if (!(n = recv_msg(fd, buf, sizeof buf))) die("server closed");
        vfu_hdr_decode(buf, n, &h, NULL);
        if (h.msg_id != id || (h.flags & VFU_HDR_FLAGS_ERROR)) die("bad REGION_READ reply");
    }
    return TRIPS / (now() - t);
}

struct server {
    const char *name, *cmd;
    struct vfu_proc proc;
    char sock[128];
    double best;
};

static void start(struct server *s, int k)
{
    snprintf(s->sock, sizeof s->sock, "/tmp/vfu-bench-rt-%d-%d.sock", (int)getpid(), k);
    struct vfu_proc_spec spec = {.cmd = s->cmd, .socket_path = s->sock, .stdout_mode = VFU_PROC_STDOUT_NULL};
    struct vfu_error err;
    memset(&s->proc, 0, sizeof s->proc);
    if (!vfu_proc_start(&s->proc, &spec, &err)) {
        fprintf(stderr, "bench_roundtrip: cannot start %s: %s\n", s->cmd, vfu_proc_why(&s->proc));
        exit(1);
    }
}

static void stop(struct server *s)
{
    vfu_proc_stop(&s->proc, 2000);
    vfu_proc_free(&s->proc);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    encode();
    struct server srv[2] = {{.name = "vfu-refserver", .cmd = SRV_BIN " --socket-path={socket}"},
                            {.name = "external", .cmd = getenv("VFU_BENCH_SERVER")}};
    unsigned nsrv = srv[1].cmd && *srv[1].cmd ? 2 : 1;
    double limit = 0;
    for (int round = 0; round < ROUNDS; round++) {
        double l = pingpong_limit();
        if (l > limit) limit = l;
        for (unsigned k = 0; k < nsrv; k++) {
            /* a fresh server each round: some serve one client only */
            start(&srv[k], round * 2 + (int)k);
            int fd = connect_server(srv[k].sock);
            double v = region_reads(fd);
            close(fd);
            stop(&srv[k]);
            if (v > srv[k].best) srv[k].best = v;
        }
    }
    printf("region_read_4B pingpong_limit: %.0f round trips/s (socketpair, two processes, %zu/%zu-byte messages)\n",
           limit, req_len, rep_len);
    for (unsigned k = 0; k < nsrv; k++)
        printf("region_read_4B %s: %.0f round trips/s, %.1f%% of the limit%s%s\n", srv[k].name, srv[k].best,
               100.0 * srv[k].best / limit, k ? ": " : "", k ? srv[k].cmd : "");
    if (nsrv == 1) printf("(VFU_BENCH_SERVER=\"CMD {socket}\" adds another server to compare)\n");
    return 0;
}
