/* The server's policy on requests padded past their structure: zero
 * padding is taken, counted as the client's deviation (srv_deviations) and
 * logged once per command and session; anything else past the structure is
 * still refused and counts nothing. */
#include "srv_harness.h"

#include <stdio.h>

/* DEVICE_GET_REGION_INFO as libvfio-user's sample client sends it: the
 * 32-byte request in argsz bytes */
static size_t region_info_padded(struct h *h, uint32_t index, uint32_t argsz, uint8_t fill)
{
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_DEVICE_GET_REGION_INFO);
    vfu_enc_set(&e, VFU_F_REGION_INFO_REQ_ARGSZ, argsz);
    vfu_enc_set(&e, VFU_F_REGION_INFO_REQ_INDEX, index);
    assert_true(vfu_enc_finish(&e, NULL));
    size_t len = VFU_HDR_SIZE + argsz;
    memset(h->req + e.len, 0, len - e.len);
    h->req[len - 1] = fill;
    vfu_enc_hdr(&e, VFU_F_HEADER_MSG_SIZE, len);
    return len;
}

/* stderr into a temporary file while fn-like code runs */
static int stderr_begin(FILE **f)
{
    fflush(stderr);
    *f = tmpfile();
    assert_non_null(*f);
    int saved = dup(2);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(*f), 2) == 2);
    return saved;
}

static unsigned stderr_end(FILE *f, int saved, const char *needle)
{
    fflush(stderr);
    assert_true(dup2(saved, 2) == 2);
    close(saved);
    rewind(f);
    char line[512];
    unsigned n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, needle)) n++;
    fclose(f);
    return n;
}

static void zero_padding_taken_and_counted(void **state)
{
    (void)state;
    struct h *h = h_ready();
    const struct srv_deviations *d = srv_deviations(h->s);
    assert_int_equal(d->messages[SRV_DEV_ZERO_PADDING], 0);

    FILE *f;
    int saved = stderr_begin(&f);
    size_t len = region_info_padded(h, VFU_PCI_REGION_BAR2, 256, 0);
    h_feed(h, h->req, len, NULL, 0);
    assert_int_equal(h_errno(h), 0);
    /* the same reply an unpadded request gets: the full chain and the fd */
    assert_true(vfu_get(&h->r, VFU_F_REGION_INFO_FLAGS) & VFU_REGION_INFO_FLAGS_CAPS);
    assert_int_equal(vfu_get(&h->r, VFU_F_REGION_INFO_ARGSZ), h->r.payload_len);
    assert_int_equal(h->nrfds, 1);
    /* three more, one of them another command */
    h_feed(h, h->req, region_info_padded(h, VFU_PCI_REGION_BAR0, 64, 0), NULL, 0);
    assert_int_equal(h_errno(h), 0);
    h_feed(h, h->req, region_info_padded(h, VFU_PCI_REGION_BAR0, 64, 0), NULL, 0);
    assert_int_equal(h_errno(h), 0);
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_DEVICE_GET_INFO);
    vfu_enc_set(&e, VFU_F_DEVICE_INFO_REQ_ARGSZ, 64);
    assert_true(vfu_enc_finish(&e, NULL));
    memset(h->req + e.len, 0, 48);
    vfu_enc_hdr(&e, VFU_F_HEADER_MSG_SIZE, e.len + 48);
    h_feed(h, h->req, e.len + 48, NULL, 0);
    assert_int_equal(h_errno(h), 0);
    assert_int_equal(vfu_get(&h->r, VFU_F_DEVICE_INFO_NUM_REGIONS), 9);
    unsigned lines = stderr_end(f, saved, "client deviation");
    /* once per command */
    assert_int_equal(lines, 2);

    assert_int_equal(d->messages[SRV_DEV_ZERO_PADDING], 4);
    assert_int_equal(d->by_cmd[SRV_DEV_ZERO_PADDING][VFU_CMD_DEVICE_GET_REGION_INFO], 3);
    assert_int_equal(d->by_cmd[SRV_DEV_ZERO_PADDING][VFU_CMD_DEVICE_GET_INFO], 1);
    assert_int_equal(d->bytes[SRV_DEV_ZERO_PADDING], (256 - 32) + 2 * (64 - 32) + 48);

    /* a new session logs again; the counts go on */
    srv_disconnect(h->s);
    assert_int_equal(h_version(h, NULL), SRV_CONTINUE);
    saved = stderr_begin(&f);
    h_feed(h, h->req, region_info_padded(h, VFU_PCI_REGION_BAR0, 64, 0), NULL, 0);
    assert_int_equal(h_errno(h), 0);
    assert_int_equal(stderr_end(f, saved, "client deviation: DEVICE_GET_REGION_INFO"), 1);
    assert_int_equal(d->messages[SRV_DEV_ZERO_PADDING], 5);
    h_free(h);
}

static void other_trailing_bytes_refused(void **state)
{
    (void)state;
    struct h *h = h_ready();
    const struct srv_deviations *d = srv_deviations(h->s);
    /* one non-zero byte in the padding */
    h_feed(h, h->req, region_info_padded(h, VFU_PCI_REGION_BAR0, 64, 0x01), NULL, 0);
    assert_int_equal(h_errno(h), EINVAL);
    /* bytes after counted data are a wrong count, zero or not */
    struct vfu_enc e;
    h_begin(h, &e, VFU_CMD_REGION_WRITE);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_OFFSET, 0x100);
    vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_REGION, VFU_PCI_REGION_BAR0);
    vfu_enc_data(&e, VFU_F_REGION_ACCESS_DATA_DATA, "\1\2\3\4", 4);
    assert_true(vfu_enc_finish(&e, NULL));
    memset(h->req + e.len, 0, 4);
    vfu_enc_hdr(&e, VFU_F_HEADER_MSG_SIZE, e.len + 4);
    h_feed(h, h->req, e.len + 4, NULL, 0);
    assert_int_equal(h_errno(h), EINVAL);
    /* a zero-padded DEVICE_RESET is taken, a non-zero one refused */
    h_begin(h, &e, VFU_CMD_DEVICE_RESET);
    assert_true(vfu_enc_finish(&e, NULL));
    memset(h->req + e.len, 0, 4);
    vfu_enc_hdr(&e, VFU_F_HEADER_MSG_SIZE, e.len + 4);
    h_feed(h, h->req, e.len + 4, NULL, 0);
    assert_int_equal(h_errno(h), 0);
    h->req[e.len] = 0xff;
    h_feed(h, h->req, e.len + 4, NULL, 0);
    assert_int_equal(h_errno(h), EINVAL);
    assert_int_equal(d->messages[SRV_DEV_ZERO_PADDING], 1);
    assert_int_equal(d->by_cmd[SRV_DEV_ZERO_PADDING][VFU_CMD_DEVICE_RESET], 1);
    h_free(h);
}

/* before VERSION a padded request is still refused for being early */
static void padded_before_version(void **state)
{
    (void)state;
    struct h *h = h_new();
    h_feed(h, h->req, region_info_padded(h, VFU_PCI_REGION_BAR0, 64, 0), NULL, 0);
    assert_int_equal(h_errno(h), EINVAL);
    assert_int_equal(srv_deviations(h->s)->messages[SRV_DEV_ZERO_PADDING], 0);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(zero_padding_taken_and_counted),
        cmocka_unit_test(other_trailing_bytes_refused),
        cmocka_unit_test(padded_before_version),
    };
    return cmocka_run_group_tests_name("server zero padding", tests, NULL, NULL);
}
