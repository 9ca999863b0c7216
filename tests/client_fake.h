/* A scripted fake server for the client tests: a thread on the other end
 * of a socketpair that receives what the client sends and answers (or
 * misbehaves) exactly as the test says.  Checks in the thread are recorded,
 * not asserted (cmocka's longjmp belongs to the main thread): the test
 * asserts fake_join() == 0 and sees the first failed check in f->why. */
#ifndef CLIENT_FAKE_H
#define CLIENT_FAKE_H

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vfu_client.h"

struct fake {
    struct vfu_conn conn;      /* server end of the main socket */
    struct vfu_conn twin;      /* server end of the twin socket, if any */
    bool has_twin;
    pthread_t th;
    void (*script)(struct fake *f);
    void *arg;
    int fails;
    char why[256];
    /* what the script saw, for the test to check after the join */
    uint64_t seen[16];
    uint8_t data[8192];
    size_t data_len;
};

#define FCHECK(f, cond)                                                                        \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            if (!(f)->fails++) snprintf((f)->why, sizeof (f)->why, "line %d: %s", __LINE__, #cond); \
            return;                                                                            \
        }                                                                                      \
    } while (0)

static inline int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

static inline int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* the server end takes anything, so it can see what the client did wrong */
static inline void fake_limits(struct vfu_limits *l)
{
    l->max_msg_size = 4u << 20;
    l->max_fds = 16;
    l->max_data_xfer_size = 0;
}

static void *fake_run(void *p)
{
    struct fake *f = p;
    f->script(f);
    return NULL;
}

/* starts script on the server end; returns the client on the other end */
static inline struct vfu_client *fake_start(struct fake *f, void (*script)(struct fake *),
                                            void *arg, const struct vfu_client_opts *o)
{
    int sv[2];
    struct vfu_error err;
    struct vfu_limits l;
    memset(f, 0, sizeof *f);
    f->script = script;
    f->arg = arg;
    fake_limits(&l);
    if (!vfu_socketpair(sv, &err)) return NULL;
    if (!vfu_conn_init(&f->conn, sv[1], &l, &err)) { close(sv[0]); return NULL; }
    f->conn.timeout_ms = 5000;
    struct vfu_client *c = vfu_client_adopt(sv[0], o, &err);
    if (!c) { vfu_conn_close(&f->conn); return NULL; }
    if (pthread_create(&f->th, NULL, fake_run, f)) { vfu_client_close(c); vfu_conn_close(&f->conn); return NULL; }
    return c;
}

static inline int fake_join(struct fake *f)
{
    pthread_join(f->th, NULL);
    if (f->conn.fd >= 0) vfu_conn_close(&f->conn);
    if (f->has_twin) vfu_conn_close(&f->twin);
    if (f->fails) fprintf(stderr, "fake server: %s\n", f->why);
    return f->fails;
}

/* one message, decoded as a server would (or not: *ok says) */
static inline bool fake_recv(struct vfu_conn *cn, struct vfu_msg *m, bool *ok)
{
    struct vfu_error err;
    if (!vfu_recv(cn, &err)) return false;
    bool d = vfu_decode(m, cn->rbuf, cn->rlen, cn->rfds, cn->nrfds, &cn->lim, VFU_ROLE_ANY, &err);
    if (ok) *ok = d;
    else if (!d) vfu_hdr_decode(cn->rbuf, cn->rlen, &m->hdr, NULL);
    return true;
}

static inline bool fake_send_enc(struct vfu_conn *cn, struct vfu_enc *e)
{
    struct vfu_error err;
    return vfu_enc_finish(e, &err) && vfu_send(cn, e->buf, e->len, e->fds, e->nfds, &err);
}

/* header-only success reply (DMA_MAP, SET_IRQS, DEVICE_RESET ...) */
static inline bool fake_ack(struct vfu_conn *cn, const struct vfu_msg *m)
{
    uint8_t buf[VFU_HDR_SIZE];
    struct vfu_enc e;
    vfu_enc_begin(&e, buf, sizeof buf, m->hdr.cmd, true, m->hdr.msg_id);
    return fake_send_enc(cn, &e);
}

static inline bool fake_error(struct vfu_conn *cn, const struct vfu_msg *m, uint32_t errnum)
{
    uint8_t buf[VFU_HDR_SIZE];
    struct vfu_enc e;
    vfu_enc_error(&e, buf, sizeof buf, m->hdr.cmd, m->hdr.msg_id, errnum);
    return fake_send_enc(cn, &e);
}

/* VERSION reply: json (NUL added; NULL: no data) and fds attached */
static inline bool fake_version_reply(struct vfu_conn *cn, uint16_t msg_id, uint16_t major,
                                      uint16_t minor, const char *json, const int *fds,
                                      unsigned nfds)
{
    uint8_t buf[1024];
    struct vfu_enc e;
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_VERSION, true, msg_id);
    vfu_enc_set(&e, VFU_F_VERSION_MAJOR, major);
    vfu_enc_set(&e, VFU_F_VERSION_MINOR, minor);
    if (json) vfu_enc_data(&e, VFU_F_VERSION_DATA, json, strlen(json) + 1);
    for (unsigned i = 0; i < nfds; i++) vfu_enc_fd(&e, fds[i]);
    return fake_send_enc(cn, &e);
}

/* a server request: DMA_READ (data NULL) or DMA_WRITE of count bytes */
static inline bool fake_dma(struct vfu_conn *cn, uint16_t msg_id, uint64_t addr, uint64_t count,
                            const uint8_t *data)
{
    static uint8_t buf[16384];
    struct vfu_enc e;
    if (!data) {
        vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DMA_READ, false, msg_id);
        vfu_enc_set(&e, VFU_F_DMA_ACCESS_ADDRESS, addr);
        vfu_enc_set(&e, VFU_F_DMA_ACCESS_COUNT, count);
    } else {
        vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DMA_WRITE, false, msg_id);
        vfu_enc_set(&e, VFU_F_DMA_ACCESS_DATA_ADDRESS, addr);
        vfu_enc_data(&e, VFU_F_DMA_ACCESS_DATA_DATA, data, count);
    }
    return fake_send_enc(cn, &e);
}

static inline bool has_violation(struct vfu_client *c, enum vfu_viol_kind k, enum vfu_errc code)
{
    unsigned n;
    const struct vfu_violation *v = vfu_client_violations(c, &n);
    for (unsigned i = 0; i < n; i++)
        if (v[i].kind == k && (code == VFU_OK || v[i].err.code == code)) return true;
    return false;
}

static inline void dump_violations(struct vfu_client *c)
{
    unsigned n;
    const struct vfu_violation *v = vfu_client_violations(c, &n);
    char line[256];
    for (unsigned i = 0; i < n; i++) {
        vfu_violation_str(&v[i], line, sizeof line);
        fprintf(stderr, "  violation: %s\n", line);
    }
}

#endif
