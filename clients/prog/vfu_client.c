/* vfu-client: the scripted client (clients/client.h) as a program, the
 * plainest thing a VMM does with a device: connect, VERSION, device info,
 * every region's info with a small read (and the same bytes written back
 * where the region is writable and not config space), every IRQ index's
 * info, one guest memory region mapped for DMA and unmapped again, close.
 * Server-to-client requests are served while it waits.  It is what
 * vfu-fuzz --client runs against when it fuzzes our own client side.
 *
 *   vfu-client [--timeout MS] (--socket-path=PATH | PATH)
 *
 * Exit status: 0 the script ran and the server broke no rule the client
 * checks; 1 the server refused a step or broke the protocol (said on
 * stderr); 2 bad command line or no connection. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

#define GUEST_ADDR 0x100000u
#define GUEST_SIZE 0x10000u
#define PROBE_BYTES 4u
#define MAX_REGIONS 16u   /* asked about at most; a device may say more */
#define MAX_IRQS 16u

static int timeout_ms = 1000;
static int failures;

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
    vfu_client_call(c, &e, NULL, timeout_ms, r);
    if (r->status == VFU_CALL_REPLY && !r->msg.is_error) return true;
    fail(step, r);
    return false;
}

static void region(struct vfu_client *c, unsigned idx, struct vfu_reply *r)
{
    char step[64];
    snprintf(step, sizeof step, "DEVICE_GET_REGION_INFO %u", idx);
    const uint64_t info[][2] = {{VFU_F_REGION_INFO_REQ_INDEX, idx}};
    if (!call(c, VFU_CMD_DEVICE_GET_REGION_INFO, info, 1, NULL, 0, -1, r, step)) return;
    uint64_t flags = vfu_get(&r->msg, VFU_F_REGION_INFO_FLAGS), size = vfu_get(&r->msg, VFU_F_REGION_INFO_SIZE);
    if (!(flags & VFU_REGION_INFO_FLAGS_READ) || size < PROBE_BYTES) return;
    snprintf(step, sizeof step, "REGION_READ %u", idx);
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

static int run(const char *path)
{
    struct vfu_error err;
    struct vfu_client *c = vfu_client_connect(path, timeout_ms, NULL, &err);
    if (!c) {
        char why[256];
        vfu_error_str(&err, why, sizeof why);
        fprintf(stderr, "vfu-client: cannot connect to %s: %s\n", path, why);
        return 2;
    }
    struct vfu_version_proposal prop;
    struct vfu_version_result res;
    vfu_proposal_default(&prop);
    if (!vfu_client_negotiate(c, &prop, timeout_ms, &res) || !res.accepted) {
        fprintf(stderr, "vfu-client: VERSION was not accepted\n");
        vfu_client_close(c);
        return 1;
    }
    struct vfu_reply r;
    vfu_reply_init(&r);
    if (call(c, VFU_CMD_DEVICE_GET_INFO, NULL, 0, NULL, 0, -1, &r, "DEVICE_GET_INFO")) {
        uint64_t nreg = vfu_get(&r.msg, VFU_F_DEVICE_INFO_NUM_REGIONS), nirq = vfu_get(&r.msg, VFU_F_DEVICE_INFO_NUM_IRQS);
        for (unsigned i = 0; i < nreg && i < MAX_REGIONS && !vfu_client_broken(c); i++) region(c, i, &r);
        for (unsigned i = 0; i < nirq && i < MAX_IRQS && !vfu_client_broken(c); i++) {
            char step[64];
            snprintf(step, sizeof step, "DEVICE_GET_IRQ_INFO %u", i);
            const uint64_t q[][2] = {{VFU_F_IRQ_INFO_REQ_INDEX, i}};
            call(c, VFU_CMD_DEVICE_GET_IRQ_INFO, q, 1, NULL, 0, -1, &r, step);
        }
    }
    if (!vfu_client_broken(c)) {
        int m = vfu_mem_add(c, GUEST_ADDR, GUEST_SIZE, VFU_DMA_MAP_FLAGS_READ | VFU_DMA_MAP_FLAGS_WRITE,
                            VFU_MEM_MEMFD, &err);
        if (m >= 0 && vfu_client_dma_map(c, m, timeout_ms, &r) == VFU_CALL_REPLY && !r.msg.is_error) {
            if (vfu_client_dma_unmap(c, m, timeout_ms, &r) != VFU_CALL_REPLY || r.msg.is_error) fail("DMA_UNMAP", &r);
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
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            puts("usage: vfu-client [--timeout MS] (--socket-path=PATH | PATH)");
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
