/* vfu-client: the scripted client (include/vfu/vfu_client.h) as a program, the
 * plainest thing a VMM does with a device: connect, VERSION, device info,
 * every region's info with a small read (and the same bytes written back
 * where the region is writable and not config space), every IRQ index's
 * info, one guest memory region mapped for DMA and unmapped again, close.
 * Server-to-client requests are served while it waits.  It is what
 * vfu-fuzz --client runs against when it fuzzes our own client side.
 *
 *   vfu-client [--timeout MS] [--fault NAME]... (--socket-path=PATH | PATH)
 *
 * --fault NAME breaks one client-side rule of the spec on purpose (the
 * table below; --fault list prints it), so that vfu-conform --client can
 * be shown to catch each: the client's counterpart of vfu-refserver's
 * seeded faults.
 *
 * Exit status: 0 the script ran and the server broke no rule the client
 * checks; 1 the server refused a step or broke the protocol (said on
 * stderr); 2 bad command line or no connection. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vfu_client.h"

#define GUEST_ADDR 0x100000u
#define GUEST_SIZE 0x10000u
#define PROBE_BYTES 4u
#define MAX_REGIONS 16u   /* asked about at most; a device may say more */
#define MAX_IRQS 16u

static int timeout_ms = 1000;
static int failures;

/* ------------------------------------------------------ seeded faults --- */

enum fault {
    F_NO_VERSION,        /* DEVICE_GET_INFO before any VERSION */
    F_VERSION_TWICE,     /* a second VERSION after the first succeeded */
    F_BAD_JSON,          /* VERSION data that is not JSON */
    F_INFO_NONZERO,      /* DEVICE_GET_INFO with num_regions set */
    F_REGION_FLAGS,      /* DEVICE_GET_REGION_INFO with flags set */
    F_PADDED,            /* DEVICE_GET_REGION_INFO padded with zero bytes */
    F_READ_PAST_END,     /* a REGION_READ that ends past its region */
    F_XFER_OVER,         /* a REGION_READ above max_data_xfer_size */
    F_DMA_ARGSZ,         /* DMA_MAP with argsz 24 */
    F_DMA_TWO_FDS,       /* DMA_MAP carrying two fds */
    F_DMA_OVERLAP,       /* a second window over the first */
    F_DMA_UNALIGNED,     /* a window off the page size */
    F_UNMAP_MISMATCH,    /* DMA_UNMAP of half the window */
    F_IRQ_RANGE,         /* SET_IRQS past the index's count */
    F_DMA_REPLY_ID,      /* our DMA_READ / DMA_WRITE replies carry another msg_id */
    F_DMA_REPLY_COUNT,   /* ... with address and count 0 */
    F_DMA_REPLY_LATE,    /* ... only after half a second */
    F__COUNT
};
static const char *const fault_names[F__COUNT] = {
    "no-version", "version-twice", "bad-version-json", "device-info-nonzero", "region-info-flags",
    "padded-request", "read-past-end", "xfer-over-limit", "dma-map-argsz", "dma-map-two-fds",
    "dma-map-overlap", "dma-map-unaligned", "dma-unmap-mismatch", "set-irqs-range",
    "dma-reply-msg-id", "dma-reply-count", "dma-reply-late",
};
static bool faults[F__COUNT];

static void fail(const char *step, const struct vfu_reply *r)
{
    char why[256] = "";
    if (r->status != VFU_CALL_REPLY || !r->msg.is_error) vfu_error_str(&r->err, why, sizeof why);
    else snprintf(why, sizeof why, "error reply, errno %u", r->msg.hdr.error);
    fprintf(stderr, "vfu-client: %s: %s (%s)\n", step, vfu_call_status_name(r->status), why);
    failures++;
}

/* one request with plain values; true when the reply is a good success */
static bool call(struct vfu_client *c, uint16_t cmd, const uint64_t (*set)[2], unsigned nset, const void *data,
                 size_t dlen, int data_field, struct vfu_reply *r, const char *step)
{
    uint8_t buf[VFU_HDR_SIZE + 512];
    struct vfu_enc e;
    vfu_enc_begin(&e, buf, sizeof buf, cmd, false, 0);
    for (unsigned i = 0; i < nset; i++) vfu_enc_set(&e, (int)set[i][0], set[i][1]);
    if (data) vfu_enc_data(&e, data_field, data, dlen);
    struct vfu_error err;
    if (!vfu_enc_finish(&e, &err)) {
        fprintf(stderr, "vfu-client: %s: cannot encode\n", step);
        failures++;
        return false;
    }
    /* a seeded fault must reach the wire: the client library would stop it */
    struct vfu_send_opts so = {.unchecked = true};
    vfu_client_call(c, &e, &so, timeout_ms, r);
    if (r->status == VFU_CALL_REPLY && !r->msg.is_error) return true;
    fail(step, r);
    return false;
}

/* DEVICE_GET_REGION_INFO padded with 16 zero bytes past its structure
 * (argsz still the structure's), as a client that sends argsz-sized
 * buffers does */
static bool call_padded(struct vfu_client *c, unsigned idx, struct vfu_reply *r, const char *step)
{
    uint8_t buf[VFU_HDR_SIZE + 512];
    struct vfu_enc e;
    struct vfu_error err;
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_GET_REGION_INFO, false, vfu_client_next_id(c));
    vfu_enc_set(&e, VFU_F_REGION_INFO_REQ_INDEX, idx);
    if (!vfu_enc_finish(&e, &err) || e.len + 16 > sizeof buf) return false;
    memset(buf + e.len, 0, 16);
    e.len += 16;
    vfu_enc_hdr(&e, VFU_F_HEADER_MSG_SIZE, e.len);
    vfu_client_call_raw(c, buf, e.len, NULL, 0, NULL, timeout_ms, r);
    if (r->status == VFU_CALL_REPLY && !r->msg.is_error) return true;
    fail(step, r);
    return false;
}

/* the client library's answers to DMA_READ / DMA_WRITE, broken */
static size_t bad_answer(void *ctx, enum vfu_sock sock, const struct vfu_hdr *req, uint8_t *buf, size_t cap,
                         int *fds, unsigned *nfds)
{
    (void)ctx, (void)sock, (void)fds;
    *nfds = 0;
    if (faults[F_DMA_REPLY_LATE]) {
        /* a client that serves the server only when it is itself free */
        struct timespec ts = {0, 500 * 1000000L};
        nanosleep(&ts, NULL);
        return 0;
    }
    struct vfu_enc e;
    struct vfu_error err;
    uint16_t id = faults[F_DMA_REPLY_ID] ? (uint16_t)(req->msg_id + 1) : req->msg_id;
    vfu_enc_begin(&e, buf, cap, req->cmd, true, id);
    /* what the request asked is not known here (the header only): an
     * answer of zero bytes at address 0 stands for "one short" */
    if (req->cmd == VFU_CMD_DMA_READ) {
        vfu_enc_set(&e, VFU_F_DMA_ACCESS_DATA_ADDRESS, 0);
        vfu_enc_set(&e, VFU_F_DMA_ACCESS_DATA_COUNT, 0);
    } else {
        vfu_enc_set(&e, VFU_F_DMA_WRITE_ACK_ADDRESS, 0);
        vfu_enc_set(&e, VFU_F_DMA_WRITE_ACK_COUNT, 0);
    }
    return vfu_enc_finish(&e, &err) ? e.len : 0;
}

static void region(struct vfu_client *c, unsigned idx, struct vfu_reply *r)
{
    char step[64];
    snprintf(step, sizeof step, "DEVICE_GET_REGION_INFO %u", idx);
    const uint64_t info[][2] = {{VFU_F_REGION_INFO_REQ_INDEX, idx}, {VFU_F_REGION_INFO_REQ_FLAGS, 1}};
    bool ok = faults[F_PADDED] ? call_padded(c, idx, r, step)
                               : call(c, VFU_CMD_DEVICE_GET_REGION_INFO, info, faults[F_REGION_FLAGS] ? 2 : 1,
                                      NULL, 0, -1, r, step);
    if (!ok) return;
    uint64_t flags = vfu_get(&r->msg, VFU_F_REGION_INFO_FLAGS), size = vfu_get(&r->msg, VFU_F_REGION_INFO_SIZE);
    if (!(flags & VFU_REGION_INFO_FLAGS_READ) || size < PROBE_BYTES) return;
    snprintf(step, sizeof step, "REGION_READ %u", idx);
    if (faults[F_READ_PAST_END] || faults[F_XFER_OVER]) {
        struct vfu_limits rx, tx;
        vfu_client_limits(c, &rx, &tx);
        uint64_t off = faults[F_READ_PAST_END] ? size - PROBE_BYTES / 2 : 0;
        uint64_t cnt = faults[F_XFER_OVER] ? tx.max_data_xfer_size + 8 : PROBE_BYTES;
        const uint64_t bad[][2] = {{VFU_F_REGION_ACCESS_REGION, idx}, {VFU_F_REGION_ACCESS_OFFSET, off},
                                   {VFU_F_REGION_ACCESS_COUNT, cnt}};
        call(c, VFU_CMD_REGION_READ, bad, 3, NULL, 0, -1, r, step);
        return;
    }
    const uint64_t rd[][2] = {{VFU_F_REGION_ACCESS_REGION, idx}, {VFU_F_REGION_ACCESS_COUNT, PROBE_BYTES}};
    if (!call(c, VFU_CMD_REGION_READ, rd, 2, NULL, 0, -1, r, step)) return;
    uint8_t bytes[PROBE_BYTES];
    const struct vfu_part *p = NULL;
    for (unsigned i = 0; i < r->msg.nparts; i++)
        if (r->msg.parts[i].field == VFU_F_REGION_ACCESS_DATA_DATA) p = &r->msg.parts[i];
    if (!p || p->len != PROBE_BYTES) {
        fprintf(stderr, "vfu-client: %s: the reply carries no %u bytes\n", step, PROBE_BYTES);
        failures++;
        return;
    }
    memcpy(bytes, r->msg.payload + p->off, PROBE_BYTES);
    if (!(flags & VFU_REGION_INFO_FLAGS_WRITE) || idx == VFU_PCI_REGION_CONFIG) return;
    snprintf(step, sizeof step, "REGION_WRITE %u", idx);
    const uint64_t wr[][2] = {{VFU_F_REGION_ACCESS_DATA_REGION, idx}, {VFU_F_REGION_ACCESS_DATA_COUNT, PROBE_BYTES}};
    call(c, VFU_CMD_REGION_WRITE, wr, 2, bytes, PROBE_BYTES, VFU_F_REGION_ACCESS_DATA_DATA, r, step);
}

/* DMA_MAP of window m, with the seeded faults of the map itself */
static enum vfu_call_status dma_map(struct vfu_client *c, int m, struct vfu_reply *r)
{
    if (!faults[F_DMA_ARGSZ] && !faults[F_DMA_TWO_FDS]) return vfu_client_dma_map(c, m, timeout_ms, r);
    uint8_t buf[VFU_HDR_SIZE + 64];
    struct vfu_enc e;
    struct vfu_error err;
    if (!vfu_mem_enc_map(c, m, &e, buf, sizeof buf, &err)) return VFU_CALL_ERROR;
    if (faults[F_DMA_ARGSZ]) vfu_enc_set(&e, VFU_F_DMA_MAP_ARGSZ, 24);
    int fds[2] = {vfu_mem_fd(c, m), vfu_mem_fd(c, m)};
    unsigned nfds = fds[0] < 0 ? 0 : faults[F_DMA_TWO_FDS] ? 2 : 1;
    return vfu_client_call_raw(c, buf, e.len, fds, nfds, NULL, timeout_ms, r);
}

static int run(const char *path)
{
    struct vfu_error err;
    struct vfu_client_opts co;
    vfu_client_opts_default(&co);
    if (faults[F_DMA_REPLY_ID] || faults[F_DMA_REPLY_COUNT] || faults[F_DMA_REPLY_LATE]) co.answer.fn = bad_answer;
    struct vfu_client *c = vfu_client_connect(path, timeout_ms, &co, &err);
    if (!c) {
        char why[256];
        vfu_error_str(&err, why, sizeof why);
        fprintf(stderr, "vfu-client: cannot connect to %s: %s\n", path, why);
        return 2;
    }
    struct vfu_version_proposal prop;
    struct vfu_version_result res;
    vfu_proposal_default(&prop);
    static const char not_json[] = "{\"capabilities\": {\"max_msg_fds\": 8,";
    if (faults[F_BAD_JSON]) {
        prop.data = VFU_PROPOSE_RAW;
        prop.raw = (const uint8_t *)not_json;
        prop.raw_len = sizeof not_json;   /* with its NUL */
    }
    struct vfu_reply r;
    vfu_reply_init(&r);
    if (faults[F_NO_VERSION]) {
        call(c, VFU_CMD_DEVICE_GET_INFO, NULL, 0, NULL, 0, -1, &r, "DEVICE_GET_INFO before VERSION");
    }
    if (!vfu_client_negotiate(c, &prop, timeout_ms, &res) || !res.accepted) {
        fprintf(stderr, "vfu-client: VERSION was not accepted\n");
        vfu_reply_release(&r);
        vfu_client_close(c);
        return 1;
    }
    if (faults[F_VERSION_TWICE]) {
        vfu_proposal_default(&prop);
        vfu_client_negotiate(c, &prop, timeout_ms, &res);
    }
    const uint64_t info_bad[][2] = {{VFU_F_DEVICE_INFO_REQ_NUM_REGIONS, 9}};
    if (call(c, VFU_CMD_DEVICE_GET_INFO, info_bad, faults[F_INFO_NONZERO] ? 1 : 0, NULL, 0, -1, &r,
             "DEVICE_GET_INFO")) {
        uint64_t nreg = vfu_get(&r.msg, VFU_F_DEVICE_INFO_NUM_REGIONS), nirq = vfu_get(&r.msg, VFU_F_DEVICE_INFO_NUM_IRQS);
        for (unsigned i = 0; i < nreg && i < MAX_REGIONS && !vfu_client_broken(c); i++) region(c, i, &r);
        for (unsigned i = 0; i < nirq && i < MAX_IRQS && !vfu_client_broken(c); i++) {
            char step[64];
            snprintf(step, sizeof step, "DEVICE_GET_IRQ_INFO %u", i);
            const uint64_t q[][2] = {{VFU_F_IRQ_INFO_REQ_INDEX, i}};
            if (!call(c, VFU_CMD_DEVICE_GET_IRQ_INFO, q, 1, NULL, 0, -1, &r, step) || !faults[F_IRQ_RANGE])
                continue;
            /* every vector the index has, and one more */
            uint64_t n = vfu_get(&r.msg, VFU_F_IRQ_INFO_COUNT);
            const uint64_t set[][2] = {{VFU_F_SET_IRQS_FLAGS, VFU_IRQ_SET_FLAGS_DATA_NONE | VFU_IRQ_SET_FLAGS_ACTION_MASK},
                                       {VFU_F_SET_IRQS_INDEX, i}, {VFU_F_SET_IRQS_COUNT, n + 1}};
            call(c, VFU_CMD_DEVICE_SET_IRQS, set, 3, NULL, 0, -1, &r, "SET_IRQS past the count");
        }
    }
    if (!vfu_client_broken(c)) {
        uint64_t at = GUEST_ADDR + (faults[F_DMA_UNALIGNED] ? 0x800u : 0);
        int m = vfu_mem_add(c, at, GUEST_SIZE, VFU_DMA_MAP_FLAGS_READ | VFU_DMA_MAP_FLAGS_WRITE,
                            VFU_MEM_MEMFD, &err);
        if (m >= 0 && dma_map(c, m, &r) == VFU_CALL_REPLY && !r.msg.is_error) {
            if (faults[F_DMA_OVERLAP]) {
                /* the same memory again, half a window on */
                uint8_t buf[VFU_HDR_SIZE + 64];
                struct vfu_enc e;
                if (vfu_mem_enc_map(c, m, &e, buf, sizeof buf, &err)) {
                    vfu_enc_set(&e, VFU_F_DMA_MAP_ADDRESS, at + GUEST_SIZE / 2);
                    int fd = vfu_mem_fd(c, m);
                    vfu_client_call_raw(c, buf, e.len, &fd, 1, NULL, timeout_ms, &r);
                }
            }
            enum vfu_call_status st;
            if (faults[F_UNMAP_MISMATCH]) {
                uint8_t buf[VFU_HDR_SIZE + 64];
                struct vfu_enc e;
                st = VFU_CALL_ERROR;
                if (vfu_mem_enc_unmap(c, m, &e, buf, sizeof buf, &err)) {
                    vfu_enc_set(&e, VFU_F_DMA_UNMAP_SIZE, GUEST_SIZE / 2);
                    st = vfu_client_call_raw(c, buf, e.len, NULL, 0, NULL, timeout_ms, &r);
                }
            } else {
                st = vfu_client_dma_unmap(c, m, timeout_ms, &r);
            }
            if (st != VFU_CALL_REPLY || r.msg.is_error) fail("DMA_UNMAP", &r);
        } else if (m >= 0) {
            fail("DMA_MAP", &r);
        }
    }
    vfu_reply_release(&r);
    unsigned nv;
    const struct vfu_violation *v = vfu_client_violations(c, &nv);
    for (unsigned i = 0; i < nv; i++) {
        char b[256];
        vfu_violation_str(&v[i], b, sizeof b);
        fprintf(stderr, "vfu-client: the server broke a rule: %s\n", b);
    }
    int rc = failures || nv ? 1 : 0;
    vfu_client_close(c);
    return rc;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "--socket-path=", 14)) path = argv[i] + 14;
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
            char *end;
            errno = 0;
            long v = strtol(argv[++i], &end, 0);
            if (errno || *end || v < 1 || v > 600000) {
                fprintf(stderr, "vfu-client: --timeout %s: milliseconds from 1 to 600000\n", argv[i]);
                return 2;
            }
            timeout_ms = (int)v;
        } else if (!strncmp(argv[i], "--fault", 7) && (argv[i][7] == '=' || (!argv[i][7] && i + 1 < argc))) {
            const char *name = argv[i][7] == '=' ? argv[i] + 8 : argv[++i];
            if (!strcmp(name, "list")) {
                for (int f = 0; f < F__COUNT; f++) puts(fault_names[f]);
                return 0;
            }
            int f = 0;
            while (f < F__COUNT && strcmp(fault_names[f], name)) f++;
            if (f == F__COUNT) {
                fprintf(stderr, "vfu-client: unknown fault '%s' (--fault list lists them)\n", name);
                return 2;
            }
            faults[f] = true;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            puts("usage: vfu-client [--timeout MS] [--fault NAME]... (--socket-path=PATH | PATH)");
            return 0;
        } else if (argv[i][0] != '-' && !path) path = argv[i];
        else {
            fprintf(stderr, "vfu-client: unexpected '%s' (usage: vfu-client [--timeout MS] PATH)\n", argv[i]);
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "vfu-client: no socket path (usage: vfu-client [--timeout MS] PATH)\n");
        return 2;
    }
    return run(path);
}
