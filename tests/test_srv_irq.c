/* The server core in-process: GET_IRQ_INFO and SET_IRQS. */
#include "srv_harness.h"

#include <sys/eventfd.h>

static int set_irqs(struct h *h, uint32_t flags, uint32_t index, uint32_t start, uint32_t count,
                    const int *fds, unsigned nfds, const uint8_t *bools)
{
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_DEVICE_SET_IRQS);
    vfu_enc_set(&e, VFU_F_SET_IRQS_FLAGS, flags);
    vfu_enc_set(&e, VFU_F_SET_IRQS_INDEX, index);
    vfu_enc_set(&e, VFU_F_SET_IRQS_START, start);
    vfu_enc_set(&e, VFU_F_SET_IRQS_COUNT, count);
    if (bools) vfu_enc_data(&e, VFU_F_SET_IRQS_DATA, bools, count);
    h_call_fds(h, &e, fds, nfds);
    return h_errno(h);
}

#define EVT_TRIG (VFU_IRQ_SET_FLAGS_DATA_EVENTFD | VFU_IRQ_SET_FLAGS_ACTION_TRIGGER)
#define NONE_TRIG (VFU_IRQ_SET_FLAGS_DATA_NONE | VFU_IRQ_SET_FLAGS_ACTION_TRIGGER)
#define BOOL_TRIG (VFU_IRQ_SET_FLAGS_DATA_BOOL | VFU_IRQ_SET_FLAGS_ACTION_TRIGGER)
#define NONE_MASK (VFU_IRQ_SET_FLAGS_DATA_NONE | VFU_IRQ_SET_FLAGS_ACTION_MASK)
#define NONE_UNMASK (VFU_IRQ_SET_FLAGS_DATA_NONE | VFU_IRQ_SET_FLAGS_ACTION_UNMASK)

static void irq_info(void **state)
{
    (void)state;
    struct h *h = h_ready();
    for (uint32_t i = 0; i <= TOYDEV_NUM_IRQS; i++) {
        struct vfu_enc e;
        h_begin(h, &e, VFU_CMD_DEVICE_GET_IRQ_INFO);
        vfu_enc_set(&e, VFU_F_IRQ_INFO_REQ_INDEX, i);
        h_call(h, &e);
        if (i == TOYDEV_NUM_IRQS) {
            assert_int_equal(h_errno(h), EINVAL);
            break;
        }
        struct toydev_irq want;
        toydev_irq_info(i, &want);
        assert_int_equal(h_errno(h), 0);
        assert_int_equal(vfu_get(&h->r, VFU_F_IRQ_INFO_INDEX), i);
        assert_int_equal(vfu_get(&h->r, VFU_F_IRQ_INFO_COUNT), want.count);
        assert_int_equal(vfu_get(&h->r, VFU_F_IRQ_INFO_FLAGS), want.flags);
    }
    h_free(h);
}

static void bounds(void **state)
{
    (void)state;
    struct h *h = h_ready();
    int efd = eventfd(0, EFD_CLOEXEC);
    assert_int_equal(set_irqs(h, EVT_TRIG, 9, 0, 1, &efd, 1, NULL), EINVAL);
    assert_int_equal(set_irqs(h, EVT_TRIG, VFU_PCI_IRQ_MSIX, TOYDEV_MSIX_VECTORS, 1, &efd, 1, NULL), EINVAL);
    assert_int_equal(set_irqs(h, NONE_TRIG, VFU_PCI_IRQ_MSIX, 1, UINT32_MAX, NULL, 0, NULL), EINVAL);
    assert_int_equal(set_irqs(h, NONE_TRIG, VFU_PCI_IRQ_MSIX, UINT32_MAX, 2, NULL, 0, NULL), EINVAL);
    assert_int_equal(set_irqs(h, NONE_TRIG, VFU_PCI_IRQ_MSIX, 1, 0, NULL, 0, NULL), EINVAL);  /* count 0, start 1 */
    /* masking an index that is not maskable */
    assert_int_equal(set_irqs(h, NONE_MASK, VFU_PCI_IRQ_MSIX, 0, 1, NULL, 0, NULL), EINVAL);
    /* not an eventfd */
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(set_irqs(h, EVT_TRIG, VFU_PCI_IRQ_MSIX, 0, 1, &p[1], 1, NULL), EINVAL);
    close(p[0]);
    close(p[1]);
    close(efd);
    h_free(h);
}

static void eventfds_and_triggers(void **state)
{
    (void)state;
    struct h *h = h_ready();
    int a = eventfd(0, EFD_CLOEXEC), b = eventfd(0, EFD_CLOEXEC), c = eventfd(0, EFD_CLOEXEC);
    int two[2] = {a, b};
    assert_int_equal(set_irqs(h, EVT_TRIG, VFU_PCI_IRQ_MSIX, 1, 2, two, 2, NULL), 0);
    /* the client triggers them itself */
    assert_int_equal(set_irqs(h, NONE_TRIG, VFU_PCI_IRQ_MSIX, 1, 2, NULL, 0, NULL), 0);
    assert_int_equal(h_eventfd_count(a), 1);
    assert_int_equal(h_eventfd_count(b), 1);
    const uint8_t bools[2] = {0, 1};
    assert_int_equal(set_irqs(h, BOOL_TRIG, VFU_PCI_IRQ_MSIX, 1, 2, NULL, 0, bools), 0);
    assert_int_equal(h_eventfd_count(a), 0);
    assert_int_equal(h_eventfd_count(b), 1);
    /* replace one; the old one is no longer signalled */
    assert_int_equal(set_irqs(h, EVT_TRIG, VFU_PCI_IRQ_MSIX, 2, 1, &c, 1, NULL), 0);
    assert_int_equal(set_irqs(h, NONE_TRIG, VFU_PCI_IRQ_MSIX, 2, 1, NULL, 0, NULL), 0);
    assert_int_equal(h_eventfd_count(b), 0);
    assert_int_equal(h_eventfd_count(c), 1);
    /* de-assign with no fds */
    assert_int_equal(set_irqs(h, EVT_TRIG, VFU_PCI_IRQ_MSIX, 2, 1, NULL, 0, NULL), 0);
    assert_int_equal(set_irqs(h, NONE_TRIG, VFU_PCI_IRQ_MSIX, 2, 1, NULL, 0, NULL), 0);
    assert_int_equal(h_eventfd_count(c), 0);
    /* count 0 with DATA_NONE: the whole index off */
    assert_int_equal(set_irqs(h, NONE_TRIG, VFU_PCI_IRQ_MSIX, 0, 0, NULL, 0, NULL), 0);
    assert_int_equal(set_irqs(h, NONE_TRIG, VFU_PCI_IRQ_MSIX, 1, 1, NULL, 0, NULL), 0);
    assert_int_equal(h_eventfd_count(a), 0);
    /* the device raises vector 0 after a copy */
    assert_int_equal(set_irqs(h, EVT_TRIG, VFU_PCI_IRQ_MSIX, 0, 1, &a, 1, NULL), 0);
    h_enable_dma_msix(h);
    assert_int_equal(h_copy(h, 0, 0, 0), TOYDEV_STATUS_DONE);
    assert_int_equal(h_eventfd_count(a), 1);
    close(a);
    close(b);
    close(c);
    h_free(h);
}

/* INTx is maskable and automasked: each interrupt masks it until UNMASK */
static void intx_masking(void **state)
{
    (void)state;
    struct h *h = h_ready();
    struct toydev_irq info;
    toydev_irq_info(VFU_PCI_IRQ_INTX, &info);
    assert_true(info.flags & VFU_IRQ_INFO_FLAGS_MASKABLE);
    int efd = eventfd(0, EFD_CLOEXEC), mfd = eventfd(0, EFD_CLOEXEC);
    assert_int_equal(set_irqs(h, EVT_TRIG, VFU_PCI_IRQ_INTX, 0, 1, &efd, 1, NULL), 0);
    assert_int_equal(set_irqs(h, VFU_IRQ_SET_FLAGS_DATA_EVENTFD | VFU_IRQ_SET_FLAGS_ACTION_MASK,
                              VFU_PCI_IRQ_INTX, 0, 1, &mfd, 1, NULL), 0);
    assert_int_equal(set_irqs(h, NONE_MASK, VFU_PCI_IRQ_INTX, 0, 1, NULL, 0, NULL), 0);
    assert_int_equal(set_irqs(h, NONE_TRIG, VFU_PCI_IRQ_INTX, 0, 1, NULL, 0, NULL), 0);
    assert_int_equal(h_eventfd_count(efd), 0);          /* held while masked */
    assert_int_equal(set_irqs(h, NONE_UNMASK, VFU_PCI_IRQ_INTX, 0, 1, NULL, 0, NULL), 0);
    assert_int_equal(h_eventfd_count(efd), 1);          /* delivered on unmask */
    if (info.flags & VFU_IRQ_INFO_FLAGS_AUTOMASKED) {
        assert_int_equal(h_eventfd_count(mfd), 1);      /* and masked again */
        assert_int_equal(set_irqs(h, NONE_TRIG, VFU_PCI_IRQ_INTX, 0, 1, NULL, 0, NULL), 0);
        assert_int_equal(h_eventfd_count(efd), 0);
        assert_int_equal(set_irqs(h, NONE_UNMASK, VFU_PCI_IRQ_INTX, 0, 1, NULL, 0, NULL), 0);
        assert_int_equal(h_eventfd_count(efd), 1);
    }
    close(efd);
    close(mfd);
    h_free(h);
}

static void disconnect_closes_irq_fds(void **state)
{
    (void)state;
    struct h *h = h_ready();
    int efd = eventfd(0, EFD_CLOEXEC);
    assert_int_equal(set_irqs(h, EVT_TRIG, VFU_PCI_IRQ_MSIX, 0, 1, &efd, 1, NULL), 0);
    srv_disconnect(h->s);
    h_version(h, NULL);
    assert_int_equal(set_irqs(h, NONE_TRIG, VFU_PCI_IRQ_MSIX, 0, 1, NULL, 0, NULL), 0);
    assert_int_equal(h_eventfd_count(efd), 0);
    close(efd);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(irq_info),
        cmocka_unit_test(bounds),
        cmocka_unit_test(eventfds_and_triggers),
        cmocka_unit_test(intx_masking),
        cmocka_unit_test(disconnect_closes_irq_fds),
    };
    return cmocka_run_group_tests_name("srv_irq", tests, NULL, NULL);
}
