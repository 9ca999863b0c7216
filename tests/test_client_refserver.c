/* The client against the reference server program (vfu-refserver, run by
 * lib/proc as the harness will run it, reached by its socket path):
 * negotiate with a twin socket, map a memfd
 * region and a message-based one, read the vendor ID from config space, and
 * have the toy device's DMA engine copy between the two regions, which the
 * client serves with DMA_READ / DMA_WRITE on the twin socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/pci_regs.h>

#include "client_fake.h"
#include "proc.h"
#include "toydev.h"

#ifndef SRV_BIN
#error "SRV_BIN: the vfu-refserver program to test against"
#endif

#define MEMFD_ADDR 0x100000u
#define MSG_ADDR 0x200000u
#define REGION_SIZE 0x10000u
#define COPY 3000u   /* several DMA messages when the transfer size is small */

static uint64_t region_rw(struct vfu_client *c, uint32_t region, uint64_t off, uint32_t count,
                          bool write, uint64_t val)
{
    uint8_t buf[64];
    struct vfu_enc e;
    struct vfu_reply r;
    vfu_reply_init(&r);
    if (write) {
        vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_REGION_WRITE, false, 0);
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_OFFSET, off);
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_REGION, region);
        uint8_t *d = vfu_enc_data(&e, VFU_F_REGION_ACCESS_DATA_DATA, NULL, count);
        assert_non_null(d);
        vfu_write_uint(d, count, val);
    } else {
        vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_REGION_READ, false, 0);
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_OFFSET, off);
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_REGION, region);
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_COUNT, count);
    }
    assert_true(vfu_enc_finish(&e, NULL));
    assert_int_equal(vfu_client_call(c, &e, NULL, 10000, &r), VFU_CALL_REPLY);
    assert_false(r.msg.is_error);
    uint64_t v = 0;
    if (!write) {
        uint32_t n;
        const uint8_t *d = vfu_data(&r.msg, VFU_F_REGION_ACCESS_DATA_DATA, &n);
        assert_int_equal(n, count);
        v = vfu_read_uint(d, count);
    }
    vfu_reply_release(&r);
    return v;
}

static void dma_copy(struct vfu_client *c, uint64_t src, uint64_t dst, uint32_t len)
{
    region_rw(c, VFU_PCI_REGION_BAR0, TOYDEV_REG_SRC, 8, true, src);
    region_rw(c, VFU_PCI_REGION_BAR0, TOYDEV_REG_DST, 8, true, dst);
    region_rw(c, VFU_PCI_REGION_BAR0, TOYDEV_REG_LEN, 4, true, len);
    region_rw(c, VFU_PCI_REGION_BAR0, TOYDEV_REG_DOORBELL, 4, true, 1);
    uint64_t status = region_rw(c, VFU_PCI_REGION_BAR0, TOYDEV_REG_STATUS, 4, false, 0);
    if (status != TOYDEV_STATUS_DONE) {
        fprintf(stderr, "copy failed: errno %d\n",
                (int)region_rw(c, VFU_PCI_REGION_BAR0, TOYDEV_REG_ERRNO, 4, false, 0));
        dump_violations(c);
    }
    assert_int_equal(status, TOYDEV_STATUS_DONE);
    region_rw(c, VFU_PCI_REGION_BAR0, TOYDEV_REG_STATUS, 4, true, TOYDEV_STATUS_DONE);
}

static void against_refserver(void **state)
{
    (void)state;
    int base = count_fds();
    char dir[] = "/tmp/vfu-client-srv-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/sock", dir);
    struct vfu_proc proc;
    memset(&proc, 0, sizeof proc);
    struct vfu_proc_spec spec = {.cmd = SRV_BIN " --once --max-data-xfer-size=1024",
                                 .socket_path = path, .sock = VFU_PROC_SOCK_PATH};
    struct vfu_error err;
    if (!vfu_proc_start(&proc, &spec, &err)) fprintf(stderr, "%s\n", vfu_proc_why(&proc));
    assert_int_equal(vfu_proc_status(&proc)->state, VFU_PROC_RUNNING);
    struct vfu_client *c = vfu_client_connect(path, 5000, NULL, &err);
    assert_non_null(c);

    struct vfu_version_proposal p;
    vfu_proposal_default(&p);
    vfu_caps_set(&p.caps, VFU_CAP_TWIN_SOCKET_SUPPORTED, 1);
    vfu_caps_set(&p.caps, VFU_CAP_MAX_DATA_XFER_SIZE, 512);
    struct vfu_version_result res;
    assert_true(vfu_client_negotiate(c, &p, 10000, &res));
    assert_true(res.twin);
    struct vfu_limits rx, tx;
    vfu_client_limits(c, &rx, &tx);
    assert_int_equal(tx.max_data_xfer_size, 1024);
    assert_int_equal(rx.max_data_xfer_size, 512);

    assert_int_equal(vfu_mem_add(c, MEMFD_ADDR, REGION_SIZE, VFU_DMA_MAP_FLAGS_READ | VFU_DMA_MAP_FLAGS_WRITE,
                                 VFU_MEM_MEMFD, &err), 0);
    assert_int_equal(vfu_mem_add(c, MSG_ADDR, REGION_SIZE, VFU_DMA_MAP_FLAGS_READ | VFU_DMA_MAP_FLAGS_WRITE,
                                 VFU_MEM_MESSAGE, &err), 1);
    struct vfu_reply r;
    vfu_reply_init(&r);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(vfu_client_dma_map(c, i, 10000, &r), VFU_CALL_REPLY);
        assert_false(r.msg.is_error);
    }

    uint64_t ids = region_rw(c, VFU_PCI_REGION_CONFIG, 0, 4, false, 0);
    assert_int_equal(ids & 0xffff, TOYDEV_VENDOR_ID);
    assert_int_equal(ids >> 16, TOYDEV_DEVICE_ID);
    /* the device masters the bus only when allowed to */
    uint64_t cmd = region_rw(c, VFU_PCI_REGION_CONFIG, PCI_COMMAND, 2, false, 0);
    region_rw(c, VFU_PCI_REGION_CONFIG, PCI_COMMAND, 2, true, cmd | PCI_COMMAND_MASTER);

    /* message region -> memfd region: DMA_READs served on the twin */
    uint8_t pat[COPY], got[COPY];
    for (unsigned i = 0; i < COPY; i++) pat[i] = (uint8_t)(i * 31 + 7);
    assert_true(vfu_mem_write(c, MSG_ADDR + 0x100, pat, COPY));
    dma_copy(c, MSG_ADDR + 0x100, MEMFD_ADDR + 0x40, COPY);
    assert_true(vfu_mem_read(c, MEMFD_ADDR + 0x40, got, COPY));
    assert_memory_equal(got, pat, COPY);
    const struct vfu_client_stats *st = vfu_client_stats(c);
    assert_true(st->dma_read >= (COPY + 511) / 512);
    assert_int_equal(st->dma_read_bytes, COPY);
    assert_true(st->dma_max_count <= 512);
    assert_true(st->msgs_rx[VFU_SOCK_TWIN] >= (COPY + 511) / 512);

    /* and back the other way: DMA_WRITEs */
    for (unsigned i = 0; i < COPY; i++) pat[i] = (uint8_t)(i * 17 + 3);
    assert_true(vfu_mem_write(c, MEMFD_ADDR + 0x2000, pat, COPY));
    dma_copy(c, MEMFD_ADDR + 0x2000, MSG_ADDR + 0x3000, COPY);
    assert_true(vfu_mem_read(c, MSG_ADDR + 0x3000, got, COPY));
    assert_memory_equal(got, pat, COPY);
    assert_int_equal(st->dma_write_bytes, COPY);
    assert_int_equal(st->dma_refused, 0);

    for (int i = 0; i < 2; i++) {
        assert_int_equal(vfu_client_dma_unmap(c, i, 10000, &r), VFU_CALL_REPLY);
        assert_false(r.msg.is_error);
    }
    vfu_reply_release(&r);
    if (vfu_client_violation_total(c)) dump_violations(c);
    assert_int_equal(vfu_client_violation_total(c), 0);
    vfu_client_close(c);

    /* --once: the server ends cleanly after its client */
    assert_true(vfu_proc_wait(&proc, 10000));
    assert_int_equal(vfu_proc_verdict(vfu_proc_status(&proc)), VFU_PROC_V_EXITED);
    vfu_proc_free(&proc);
    unlink(path);
    rmdir(dir);
    assert_int_equal(count_fds(), base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(against_refserver),
    };
    return cmocka_run_group_tests_name("client_refserver", tests, NULL, NULL);
}
