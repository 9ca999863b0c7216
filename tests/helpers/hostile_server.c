/* A vfio-user server that misbehaves on purpose, for vfu-conform's
 * hostile-server tests.  It listens on --socket-path=PATH (the way
 * vfu-conform starts servers), answers VERSION properly (through the codec),
 * and then, at the first other command of a session, does what MODE says:
 *
 *   hang        never answers, and ignores SIGTERM
 *   silent      never answers (SIGTERM ends it)
 *   garbage     answers with 48 bytes of noise
 *   bigsize     answers with a header claiming 0xffffffff bytes
 *   cut         answers with a header claiming 64 bytes, sends 24, hangs up
 *   crash       prints a line to stderr, then SIGSEGV
 *   exit        prints a line to stderr, then exits with status 3
 *   wrongid     answers with a success reply to another msg id
 *   errpayload  answers with an error reply that carries a payload
 *   badversion  (at VERSION) answers with major 5
 *   flood       sends DMA_READ requests for unmapped memory without end
 *   drip        sends a valid header one byte every 200 ms
 *   noread      stops reading (and answering)
 *   closecrash  answers commands with EINVAL, crashes when a client leaves
 *   ok          answers every command with an error reply EINVAL
 *   errzero     answers every command with an error reply whose errno is 0
 *               (the spec allows it)
 *   asanexit    prints an AddressSanitizer report and exits with status 1,
 *               as a sanitized server does on a fault
 *
 * It is built without sanitizers: a crash it is asked for reaches the
 * supervisor as the signal. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vfu_codec.h"

static const char *mode = "ok";
static const char *path;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static void on_term(int sig)
{
    (void)sig;
    if (path) unlink(path);
    _exit(0);
}

static bool read_all(int fd, uint8_t *buf, size_t n)
{
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        got += (size_t)r;
    }
    return true;
}

static void write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t put = 0; put < n;) {
        ssize_t r = send(fd, b + put, n - put, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return;
        put += (size_t)r;
    }
}

static void send_enc(int fd, struct vfu_enc *e)
{
    if (vfu_enc_finish(e, NULL)) write_all(fd, e->buf, e->len);
}

static void version_reply(int fd, const struct vfu_hdr *h)
{
    uint8_t buf[256];
    struct vfu_enc e;
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_VERSION, true, h->msg_id);
    vfu_enc_set(&e, VFU_F_VERSION_MAJOR, strcmp(mode, "badversion") ? VFU_PROTO_MAJOR : 5);
    vfu_enc_set(&e, VFU_F_VERSION_MINOR, VFU_PROTO_MINOR);
    send_enc(fd, &e);
}

/* the misbehaviour, at a session's first command after VERSION */
static bool misbehave(int fd, const struct vfu_hdr *h)
{
    uint8_t buf[256];
    struct vfu_enc e;
    if (!strcmp(mode, "hang") || !strcmp(mode, "silent") || !strcmp(mode, "noread")) {
        for (;;) pause();
    }
    if (!strcmp(mode, "crash")) {
        fprintf(stderr, "hostile: crashing on %s\n", vfu_cmd_name(h->cmd));
        fflush(stderr);
        raise(SIGSEGV);
    }
    if (!strcmp(mode, "asanexit")) {
        fprintf(stderr, "=================================================================\n"
                        "==4242==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x602000000011\n"
                        "SUMMARY: AddressSanitizer: heap-buffer-overflow hostile_server.c in misbehave\n");
        fflush(stderr);
        _exit(1);
    }
    if (!strcmp(mode, "exit")) {
        fprintf(stderr, "hostile: exiting on %s\n", vfu_cmd_name(h->cmd));
        exit(3);
    }
    if (!strcmp(mode, "garbage")) {
        for (size_t i = 0; i < 48; i++) buf[i] = (uint8_t)(i * 37 + 11);
        write_all(fd, buf, 48);
        return true;
    }
    if (!strcmp(mode, "bigsize") || !strcmp(mode, "cut") || !strcmp(mode, "drip")) {
        struct vfu_hdr r = {h->msg_id, h->cmd, 0xffffffffu, VFU_MSG_TYPE_REPLY, 0};
        if (mode[0] != 'b') r.msg_size = 64;
        vfu_hdr_encode(buf, &r);
        if (mode[0] == 'b') { write_all(fd, buf, VFU_HDR_SIZE); return true; }
        if (mode[0] == 'c') { memset(buf + VFU_HDR_SIZE, 0, 8); write_all(fd, buf, 24); return false; }
        for (unsigned i = 0; i < VFU_HDR_SIZE; i++) { write_all(fd, buf + i, 1); sleep_ms(200); }
        for (;;) pause();
    }
    if (!strcmp(mode, "wrongid")) {
        vfu_enc_error(&e, buf, sizeof buf, h->cmd, (uint16_t)(h->msg_id + 1), EINVAL);
        send_enc(fd, &e);
        return true;
    }
    if (!strcmp(mode, "errpayload")) {
        vfu_enc_error(&e, buf, sizeof buf, h->cmd, h->msg_id, EINVAL);
        vfu_enc_finish(&e, NULL);
        struct vfu_hdr r;
        vfu_hdr_decode(buf, e.len, &r, NULL);
        r.msg_size += 8;
        vfu_hdr_encode(buf, &r);
        memset(buf + e.len, 0, 8);
        write_all(fd, buf, e.len + 8);
        return true;
    }
    if (!strcmp(mode, "flood")) {
        for (uint16_t id = 0;; id++) {
            vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DMA_READ, false, id);
            vfu_enc_set(&e, VFU_F_DMA_ACCESS_ADDRESS, 0xdead0000);
            vfu_enc_set(&e, VFU_F_DMA_ACCESS_COUNT, 8);
            if (!vfu_enc_finish(&e, NULL)) return false;
            ssize_t r = send(fd, buf, e.len, MSG_NOSIGNAL);
            if (r < 0 && errno != EINTR) return false;
        }
    }
    vfu_enc_error(&e, buf, sizeof buf, h->cmd, h->msg_id, strcmp(mode, "errzero") ? EINVAL : 0);
    send_enc(fd, &e);
    return true;
}

static void session(int fd)
{
    uint8_t hdr[VFU_HDR_SIZE];
    static uint8_t body[1 << 20];
    while (read_all(fd, hdr, sizeof hdr)) {
        struct vfu_hdr h;
        vfu_hdr_decode(hdr, sizeof hdr, &h, NULL);
        if (h.msg_size < VFU_HDR_SIZE || h.msg_size - VFU_HDR_SIZE > sizeof body) return;
        if (!read_all(fd, body, h.msg_size - VFU_HDR_SIZE)) return;
        if ((h.flags & VFU_HDR_FLAGS_TYPE_MASK) == VFU_MSG_TYPE_REPLY) continue;
        if (h.cmd == VFU_CMD_VERSION) {
            version_reply(fd, &h);
            continue;
        }
        if (!misbehave(fd, &h)) return;
    }
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "--socket-path=", 14)) path = argv[i] + 14;
        else mode = argv[i];
    }
    if (!path) {
        fprintf(stderr, "hostile: --socket-path=PATH needed\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, strcmp(mode, "hang") ? on_term : SIG_IGN);
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 8) < 0) {
        fprintf(stderr, "hostile: %s: %s\n", path, strerror(errno));
        return 2;
    }
    fprintf(stderr, "hostile: mode %s\n", mode);
    for (;;) {
        int c = accept(l, NULL, NULL);
        if (c < 0) continue;
        session(c);
        close(c);
        if (!strcmp(mode, "closecrash")) {
            fprintf(stderr, "hostile: the client left; crashing\n");
            fflush(stderr);
            raise(SIGSEGV);
        }
    }
}
