/* lib/negotiate: the server's reply to a proposal, the version it answers,
 * and the limits each side enforces afterwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "vfu_caps.h"
#include "vfu_codec.h"
#include "vfu_negotiate.h"
#include "vfu_desc.h"
#include "spec_tables.h"

static const struct vfu_capability_desc *D(int i) { return &vfu_spec.capabilities[i]; }

static uint64_t rng_state = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x9e3779b97f4a7c15ull;
}

static void parse_ok(struct vfu_caps *c, const char *s, bool is_reply)
{
    struct vfu_error err;
    if (!vfu_caps_parse(c, s, strlen(s), is_reply, &err)) fail_msg("%s: %s", s, vfu_errc_name(err.code));
}

/* a server that wants everything: its limits, twin sockets at fd 0,
 * write_multiple, migration */
static void generous_offer(struct vfu_caps *o)
{
    vfu_caps_init(o);
    vfu_caps_set(o, VFU_CAP_MAX_MSG_FDS, 8);
    vfu_caps_set(o, VFU_CAP_MAX_DATA_XFER_SIZE, 65536);
    vfu_caps_set(o, VFU_CAP_MAX_DMA_MAPS, 100);
    vfu_caps_set(o, VFU_CAP_PGSIZES, 4096);
    vfu_caps_set(o, VFU_CAP_TWIN_SOCKET_SUPPORTED, 1);
    vfu_caps_set(o, VFU_CAP_TWIN_SOCKET_FD_INDEX, 0);
    vfu_caps_set(o, VFU_CAP_WRITE_MULTIPLE, 1);
    vfu_caps_set(o, VFU_CAP_MIGRATION_PGSIZE, 4096);
}

static void reply_to_sample_client(void **state)
{
    (void)state;
    struct vfu_caps prop, offer, reply;
    struct vfu_error err;
    parse_ok(&prop, "{\"capabilities\":{\"max_msg_fds\":32,\"max_data_xfer_size\":1024}}", false);
    generous_offer(&offer);
    vfu_negotiate_reply(&prop, &offer, &reply);
    assert_true(vfu_caps_check_subset(&prop, &reply, &err));
    char buf[256];
    assert_true(vfu_caps_to_json(&reply, buf, sizeof buf) > 0);
    assert_string_equal(buf, "{\"capabilities\":{\"max_msg_fds\":8,\"max_data_xfer_size\":65536}}");
}

static void reply_grants_features(void **state)
{
    (void)state;
    struct vfu_caps prop, offer, reply;
    struct vfu_error err;
    parse_ok(&prop,
             "{\"capabilities\":{\"max_msg_fds\":16,\"max_dma_maps\":10,\"pgsizes\":12288,"
             "\"twin_socket\":{\"supported\":true},\"write_multiple\":true,"
             "\"migration\":{\"pgsize\":4096,\"max_bitmap_size\":1024}}}",
             false);
    generous_offer(&offer);
    vfu_negotiate_reply(&prop, &offer, &reply);
    assert_true(vfu_caps_check_subset(&prop, &reply, &err));
    assert_int_equal(vfu_caps_get(&reply, VFU_CAP_MAX_MSG_FDS), 8);
    assert_int_equal(vfu_caps_get(&reply, VFU_CAP_MAX_DMA_MAPS), 100);
    assert_int_equal(vfu_caps_get(&reply, VFU_CAP_PGSIZES), 4096);
    assert_true(reply.present[VFU_CAP_TWIN_SOCKET_SUPPORTED]);
    assert_int_equal(vfu_caps_get(&reply, VFU_CAP_TWIN_SOCKET_SUPPORTED), 1);
    assert_true(reply.present[VFU_CAP_TWIN_SOCKET_FD_INDEX]);
    assert_int_equal(vfu_caps_get(&reply, VFU_CAP_TWIN_SOCKET_FD_INDEX), 0);
    assert_int_equal(vfu_caps_get(&reply, VFU_CAP_WRITE_MULTIPLE), 1);
    assert_true(reply.present[VFU_CAP_MIGRATION_PGSIZE]);
    /* proposed but not offered: left out, the default stands */
    assert_false(reply.present[VFU_CAP_MIGRATION_MAX_BITMAP_SIZE]);
    /* offered but not proposed: left out */
    assert_false(reply.present[VFU_CAP_MAX_DATA_XFER_SIZE]);

    /* what the server writes, the client reads back as a valid reply */
    char buf[512];
    int n = vfu_caps_to_json(&reply, buf, sizeof buf);
    struct vfu_caps back;
    assert_true(vfu_caps_parse(&back, buf, (size_t)n, true, &err));
    assert_true(vfu_caps_check_subset(&prop, &back, &err));
    assert_memory_equal(back.present, reply.present, sizeof back.present);
    assert_memory_equal(back.v, reply.v, sizeof back.v);
}

static void features_need_both_sides(void **state)
{
    (void)state;
    struct vfu_caps prop, offer, reply;
    /* twin_socket: the client must ask with supported=true */
    generous_offer(&offer);
    parse_ok(&prop, "{\"capabilities\":{\"twin_socket\":{\"supported\":false},\"write_multiple\":false}}", false);
    vfu_negotiate_reply(&prop, &offer, &reply);
    assert_false(reply.present[VFU_CAP_TWIN_SOCKET]);
    assert_false(reply.present[VFU_CAP_TWIN_SOCKET_FD_INDEX]);
    assert_false(reply.present[VFU_CAP_WRITE_MULTIPLE]);
    parse_ok(&prop, "{\"capabilities\":{\"twin_socket\":{}}}", false);
    vfu_negotiate_reply(&prop, &offer, &reply);
    assert_false(reply.present[VFU_CAP_TWIN_SOCKET]);
    /* and the server must want it */
    parse_ok(&prop, "{\"capabilities\":{\"twin_socket\":{\"supported\":true},\"write_multiple\":true}}", false);
    vfu_caps_set(&offer, VFU_CAP_TWIN_SOCKET_SUPPORTED, 0);
    vfu_caps_set(&offer, VFU_CAP_WRITE_MULTIPLE, 0);
    vfu_negotiate_reply(&prop, &offer, &reply);
    assert_false(reply.present[VFU_CAP_TWIN_SOCKET]);
    assert_false(reply.present[VFU_CAP_TWIN_SOCKET_FD_INDEX]);
    assert_false(reply.present[VFU_CAP_WRITE_MULTIPLE]);
    vfu_caps_init(&offer);
    vfu_negotiate_reply(&prop, &offer, &reply);
    for (int i = 0; i < VFU_CAP__COUNT; i++) assert_false(reply.present[i]);
    /* both: granted */
    generous_offer(&offer);
    vfu_caps_set(&offer, VFU_CAP_TWIN_SOCKET_FD_INDEX, 3);
    vfu_negotiate_reply(&prop, &offer, &reply);
    assert_int_equal(vfu_caps_get(&reply, VFU_CAP_TWIN_SOCKET_SUPPORTED), 1);
    assert_int_equal(vfu_caps_get(&reply, VFU_CAP_TWIN_SOCKET_FD_INDEX), 3);
    assert_int_equal(vfu_caps_get(&reply, VFU_CAP_WRITE_MULTIPLE), 1);
}

/* whatever is proposed and offered, the reply keeps the subset rule and
 * carries the server's own values */
static void reply_property_random(void **state)
{
    (void)state;
    for (int iter = 0; iter < 3000; iter++) {
        struct vfu_caps prop, offer, reply;
        vfu_caps_init(&prop);
        vfu_caps_init(&offer);
        for (int i = 0; i < VFU_CAP__COUNT; i++) {
            uint64_t v = D(i)->kind == VFU_CAP_NUMBER ? 1ull << (rnd() % 40)
                       : D(i)->kind == VFU_CAP_BOOLEAN ? rnd() & 1 : 0;
            if ((rnd() & 1) && !D(i)->reply_only) vfu_caps_set(&prop, i, v);
            if (rnd() & 1) vfu_caps_set(&offer, i, D(i)->kind == VFU_CAP_NUMBER ? v + 1 : v);
        }
        vfu_negotiate_reply(&prop, &offer, &reply);
        struct vfu_error err;
        if (!vfu_caps_check_subset(&prop, &reply, &err)) fail_msg("%s broke the subset rule", vfu_cap_name(err.cap));
        for (int i = 0; i < VFU_CAP__COUNT; i++) {
            if (!reply.present[i]) continue;
            if (D(i)->kind == VFU_CAP_NUMBER) assert_int_equal(reply.v[i], offer.v[i]);
            if (D(i)->kind == VFU_CAP_BOOLEAN) assert_true(reply.v[i] && prop.v[i] && offer.v[i]);
            if (D(i)->reply_only) assert_true(D(i)->parent < 0 || reply.present[D(i)->parent]);
        }
        /* a granted object holds a granted member */
        for (int i = 0; i < VFU_CAP__COUNT; i++) {
            if (D(i)->kind != VFU_CAP_OBJECT || !reply.present[i]) continue;
            bool member = false;
            for (int j = 0; j < VFU_CAP__COUNT; j++)
                member |= D(j)->parent == i && reply.present[j] && !D(j)->reply_only;
            assert_true(member);
        }
    }
}

static void version_answer(void **state)
{
    (void)state;
    uint16_t minor = 99;
    struct vfu_error err;
    assert_true(vfu_negotiate_version(0, 5, 0, 2, &minor, &err));
    assert_int_equal(minor, 2);
    assert_true(vfu_negotiate_version(0, 1, 0, 2, &minor, &err));
    assert_int_equal(minor, 1);
    assert_true(vfu_negotiate_version(0, 0, 0, 2, &minor, &err));
    assert_int_equal(minor, 0);
    minor = 99;
    assert_false(vfu_negotiate_version(1, 0, 0, 2, &minor, &err));
    assert_int_equal(minor, 99);
    assert_int_equal(err.code, VFU_E_VERSION);
    assert_int_equal(err.field, VFU_F_VERSION_MAJOR);
    assert_int_equal(err.got, 1);
    assert_int_equal(err.want, 0);
    /* whatever it answers passes the client's check */
    for (uint16_t p = 0; p < 6; p++)
        for (uint16_t o = 0; o < 6; o++) {
            assert_true(vfu_negotiate_version(0, p, 0, o, &minor, &err));
            assert_true(vfu_version_check_reply(0, p, 0, minor, &err));
        }
}

static void limits(void **state)
{
    (void)state;
    struct vfu_caps c;
    struct vfu_limits l, d;
    /* nothing said: the codec's own defaults */
    vfu_caps_init(&c);
    vfu_limits_from_caps(&c, &l);
    vfu_limits_default(&d);
    assert_int_equal(l.max_fds, d.max_fds);
    assert_int_equal(l.max_data_xfer_size, d.max_data_xfer_size);
    assert_int_equal(l.max_msg_size, d.max_msg_size);

    vfu_caps_set(&c, VFU_CAP_MAX_MSG_FDS, 0);
    vfu_caps_set(&c, VFU_CAP_MAX_DATA_XFER_SIZE, 65536);
    vfu_limits_from_caps(&c, &l);
    assert_int_equal(l.max_fds, 0);
    assert_int_equal(l.max_data_xfer_size, 65536);
    assert_int_equal(l.max_msg_size, d.max_msg_size - d.max_data_xfer_size + 65536);
    /* no message can carry more fds than the kernel passes */
    vfu_caps_set(&c, VFU_CAP_MAX_MSG_FDS, 100000);
    vfu_caps_set(&c, VFU_CAP_MAX_DATA_XFER_SIZE, UINT64_MAX - 1);
    vfu_limits_from_caps(&c, &l);
    assert_int_equal(l.max_fds, VFU_MAX_FDS);
    assert_int_equal(l.max_data_xfer_size, UINT64_MAX - 1);
    assert_int_equal(l.max_msg_size, UINT32_MAX);
    vfu_caps_set(&c, VFU_CAP_MAX_DATA_XFER_SIZE, UINT32_MAX - VFU_HDR_SIZE - 4096);
    vfu_limits_from_caps(&c, &l);
    assert_int_equal(l.max_msg_size, UINT32_MAX);
    vfu_caps_set(&c, VFU_CAP_MAX_DATA_XFER_SIZE, UINT32_MAX - VFU_HDR_SIZE - 4096 + 1);
    vfu_limits_from_caps(&c, &l);
    assert_int_equal(l.max_msg_size, UINT32_MAX);
}

/* Each side enforces what it said, and sends within what the peer said;
 * the codec then holds a REGION_WRITE to the receiver's limit. */
static void limits_each_way(void **state)
{
    (void)state;
    struct vfu_caps prop, offer, reply;
    parse_ok(&prop, "{\"capabilities\":{\"max_msg_fds\":4,\"max_data_xfer_size\":8192}}", false);
    generous_offer(&offer);
    vfu_negotiate_reply(&prop, &offer, &reply);

    struct vfu_limits srv_rx, srv_tx, cli_rx, cli_tx;
    vfu_negotiate_limits(&reply, &prop, &srv_rx, &srv_tx);
    vfu_negotiate_limits(&prop, &reply, &cli_rx, &cli_tx);
    assert_memory_equal(&srv_rx, &cli_tx, sizeof srv_rx);
    assert_memory_equal(&cli_rx, &srv_tx, sizeof cli_rx);
    assert_int_equal(srv_rx.max_fds, 8);
    assert_int_equal(srv_rx.max_data_xfer_size, 65536);
    assert_int_equal(cli_rx.max_fds, 4);
    assert_int_equal(cli_rx.max_data_xfer_size, 8192);

    uint8_t buf[VFU_HDR_SIZE + VFU_SIZE_REGION_ACCESS_DATA + 65537];
    for (uint32_t count = 8192; count <= 65537; count += 57345) {
        struct vfu_enc e;
        struct vfu_error err;
        vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_REGION_WRITE, false, 1);
        vfu_enc_data(&e, VFU_F_REGION_ACCESS_DATA_DATA, NULL, count);
        assert_true(vfu_enc_finish(&e, &err));
        struct vfu_msg m;
        bool ok = vfu_decode(&m, buf, e.len, NULL, 0, &srv_rx, VFU_ROLE_SERVER, &err);
        assert_int_equal(ok, count <= 65536);
        if (!ok) assert_int_equal(err.code, VFU_E_XFER_LIMIT);
    }

    /* a client that proposed no limits holds the server to the defaults */
    parse_ok(&prop, "{}", false);
    vfu_negotiate_reply(&prop, &offer, &reply);
    vfu_negotiate_limits(&reply, &prop, &srv_rx, &srv_tx);
    struct vfu_limits d;
    vfu_limits_default(&d);
    assert_memory_equal(&srv_rx, &d, sizeof d);
    assert_memory_equal(&srv_tx, &d, sizeof d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reply_to_sample_client),
        cmocka_unit_test(reply_grants_features),
        cmocka_unit_test(features_need_both_sides),
        cmocka_unit_test(reply_property_random),
        cmocka_unit_test(version_answer),
        cmocka_unit_test(limits),
        cmocka_unit_test(limits_each_way),
    };
    return cmocka_run_group_tests_name("caps_negotiate", tests, NULL, NULL);
}
