/* vfu_caps_to_json and its round trip through vfu_caps_parse, the reply
 * subset rule, the version rule, capability names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "vfu_caps.h"
#include "vfu_codec.h"
#include "vfu_desc.h"
#include "spec_tables.h"

static const struct vfu_capability_desc *D(int i) { return &vfu_spec.capabilities[i]; }

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    /* xorshift64*: the same sequence on every run */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static void empty_and_exact(void **state)
{
    (void)state;
    struct vfu_caps c;
    char buf[512];
    vfu_caps_init(&c);
    assert_int_equal(vfu_caps_to_json(&c, buf, sizeof buf), (int)strlen("{\"capabilities\":{}}"));
    assert_string_equal(buf, "{\"capabilities\":{}}");

    vfu_caps_set(&c, VFU_CAP_TWIN_SOCKET_SUPPORTED, 1);
    vfu_caps_set(&c, VFU_CAP_MAX_MSG_FDS, 8);
    vfu_caps_set(&c, VFU_CAP_MIGRATION, 0);
    int n = vfu_caps_to_json(&c, buf, sizeof buf);
    assert_string_equal(buf, "{\"capabilities\":{\"max_msg_fds\":8,"
                             "\"twin_socket\":{\"supported\":true},\"migration\":{}}}");
    assert_int_equal(n, (int)strlen(buf));
    /* set marks the enclosing object */
    assert_true(c.present[VFU_CAP_TWIN_SOCKET]);
    /* a member flagged by hand still lands inside its object */
    vfu_caps_init(&c);
    c.present[VFU_CAP_MIGRATION_PGSIZE] = true;
    c.v[VFU_CAP_MIGRATION_PGSIZE] = 8192;
    vfu_caps_to_json(&c, buf, sizeof buf);
    assert_string_equal(buf, "{\"capabilities\":{\"migration\":{\"pgsize\":8192}}}");
    /* out-of-range ids are ignored */
    vfu_caps_set(&c, -1, 1);
    vfu_caps_set(&c, VFU_CAP__COUNT, 1);
    vfu_caps_to_json(&c, buf, sizeof buf);
    assert_string_equal(buf, "{\"capabilities\":{\"migration\":{\"pgsize\":8192}}}");
}

static void table_order_whatever_the_set_order(void **state)
{
    (void)state;
    struct vfu_caps a, b;
    char ja[1024], jb[1024];
    vfu_caps_init(&a);
    vfu_caps_init(&b);
    for (int i = 0; i < VFU_CAP__COUNT; i++) {
        if (D(i)->kind != VFU_CAP_OBJECT) vfu_caps_set(&a, i, 64);
        int r = VFU_CAP__COUNT - 1 - i;
        if (D(r)->kind != VFU_CAP_OBJECT) vfu_caps_set(&b, r, 64);
    }
    assert_true(vfu_caps_to_json(&a, ja, sizeof ja) > 0);
    assert_true(vfu_caps_to_json(&b, jb, sizeof jb) > 0);
    assert_string_equal(ja, jb);
    /* and the names come in table order */
    const char *at = ja;
    for (int i = 0; i < VFU_CAP__COUNT; i++) {
        char key[80];
        snprintf(key, sizeof key, "\"%s\":", D(i)->name);
        const char *p = strstr(at, key);
        if (!p) fail_msg("%s missing or out of order in %s", key, ja);
        at = p;
    }
}

static void does_not_fit(void **state)
{
    (void)state;
    struct vfu_caps c;
    char buf[512];
    vfu_caps_init(&c);
    vfu_caps_set(&c, VFU_CAP_MAX_DATA_XFER_SIZE, 65536);
    int n = vfu_caps_to_json(&c, buf, sizeof buf);
    assert_true(n > 0);
    char small[512];
    memset(small, 'x', sizeof small);
    assert_int_equal(vfu_caps_to_json(&c, small, (size_t)n), -1);
    assert_int_equal(small[0], 'x');   /* nothing half-written */
    assert_int_equal(vfu_caps_to_json(&c, small, 0), -1);
    assert_int_equal(vfu_caps_to_json(&c, small, (size_t)n + 1), n);
    assert_string_equal(small, buf);
}

/* random present-sets with random values: what is written reads back the
 * same, present flags and values alike */
static void round_trip_random(void **state)
{
    (void)state;
    for (int iter = 0; iter < 2000; iter++) {
        struct vfu_caps c, back;
        vfu_caps_init(&c);
        for (int i = 0; i < VFU_CAP__COUNT; i++) {
            if (rnd() & 1) continue;
            uint64_t v = 0;
            if (D(i)->kind == VFU_CAP_BOOLEAN) v = rnd() & 1;
            /* a power of two passes every value rule */
            else if (D(i)->kind == VFU_CAP_NUMBER) v = 1ull << (rnd() % 64);
            vfu_caps_set(&c, i, v);
        }
        char buf[1024];
        int n = vfu_caps_to_json(&c, buf, sizeof buf);
        assert_true(n > 0);
        struct vfu_error err;
        if (!vfu_caps_parse(&back, buf, (size_t)n, true, &err))
            fail_msg("%s: %s cap %d", buf, vfu_errc_name(err.code), err.cap);
        assert_int_equal(back.unknown, 0);
        for (int i = 0; i < VFU_CAP__COUNT; i++) {
            assert_int_equal(back.present[i], c.present[i]);
            assert_int_equal(vfu_caps_get(&back, i), vfu_caps_get(&c, i));
        }
        /* a proposal takes the same text unless it holds a reply-only one */
        bool reply_only = false;
        for (int i = 0; i < VFU_CAP__COUNT; i++) reply_only |= c.present[i] && D(i)->reply_only;
        assert_int_equal(vfu_caps_parse(&back, buf, (size_t)n, false, &err), !reply_only);
    }
    /* the largest number kept exactly */
    struct vfu_caps c, back;
    struct vfu_error err;
    char buf[256];
    vfu_caps_init(&c);
    vfu_caps_set(&c, VFU_CAP_MAX_DMA_MAPS, UINT64_MAX - 1);
    int n = vfu_caps_to_json(&c, buf, sizeof buf);
    assert_true(vfu_caps_parse(&back, buf, (size_t)n, false, &err));
    assert_int_equal(vfu_caps_get(&back, VFU_CAP_MAX_DMA_MAPS), UINT64_MAX - 1);
}

static void all_present(struct vfu_caps *c)
{
    vfu_caps_init(c);
    for (int i = 0; i < VFU_CAP__COUNT; i++) {
        if (D(i)->reply_only) continue;
        vfu_caps_set(c, i, D(i)->kind == VFU_CAP_NUMBER ? 4096 : D(i)->kind == VFU_CAP_BOOLEAN);
    }
}

static bool is_within(int i, int outer)
{
    for (; i >= 0; i = D(i)->parent)
        if (i == outer) return true;
    return false;
}

static void subset_rule(void **state)
{
    (void)state;
    struct vfu_caps prop, reply;
    struct vfu_error err;
    all_present(&prop);
    vfu_caps_init(&reply);
    assert_true(vfu_caps_check_subset(&prop, &reply, &err));
    assert_true(vfu_caps_check_subset(&prop, &prop, &err));
    vfu_caps_init(&prop);
    assert_true(vfu_caps_check_subset(&prop, &reply, &err));

    /* each capability on its own: in the reply without the proposal */
    for (int i = 0; i < VFU_CAP__COUNT; i++) {
        if (D(i)->reply_only) continue;
        all_present(&prop);
        for (int j = 0; j < VFU_CAP__COUNT; j++)
            if (is_within(j, i)) prop.present[j] = false;
        vfu_caps_init(&reply);
        vfu_caps_set(&reply, i, D(i)->kind == VFU_CAP_NUMBER ? 77 : 0);
        if (vfu_caps_check_subset(&prop, &reply, &err)) fail_msg("%s passed", vfu_cap_name(i));
        assert_int_equal(err.code, VFU_E_VERSION);
        assert_int_equal(err.cap, i);
        assert_int_equal(err.cmd, VFU_CMD_VERSION);
        assert_true(err.is_reply);
        if (D(i)->kind == VFU_CAP_NUMBER) assert_int_equal(err.got, 77);
        /* and with it proposed, the same reply passes */
        for (int j = 0; j < VFU_CAP__COUNT; j++)
            if (is_within(i, j) && !D(j)->reply_only) prop.present[j] = true;
        assert_true(vfu_caps_check_subset(&prop, &reply, &err));
    }

    /* a sibling member is not a stand-in: twin_socket proposed empty */
    vfu_caps_init(&prop);
    vfu_caps_set(&prop, VFU_CAP_TWIN_SOCKET, 0);
    vfu_caps_init(&reply);
    vfu_caps_set(&reply, VFU_CAP_TWIN_SOCKET_SUPPORTED, 0);
    assert_false(vfu_caps_check_subset(&prop, &reply, &err));
    assert_int_equal(err.cap, VFU_CAP_TWIN_SOCKET_SUPPORTED);
}

static void subset_booleans_and_reply_only(void **state)
{
    (void)state;
    struct vfu_caps prop, reply;
    struct vfu_error err;
    for (int i = 0; i < VFU_CAP__COUNT; i++) {
        if (D(i)->kind != VFU_CAP_BOOLEAN) continue;
        for (int p = 0; p < 2; p++) {
            for (int r = 0; r < 2; r++) {
                vfu_caps_init(&prop);
                vfu_caps_init(&reply);
                vfu_caps_set(&prop, i, (uint64_t)p);
                vfu_caps_set(&reply, i, (uint64_t)r);
                bool ok = vfu_caps_check_subset(&prop, &reply, &err);
                assert_int_equal(ok, !(r && !p));
                if (!ok) {
                    assert_int_equal(err.cap, i);
                    assert_int_equal(err.got, 1);
                    assert_int_equal(err.want, 0);
                }
            }
        }
    }

    /* fd_index answers a proposed twin_socket */
    vfu_caps_init(&prop);
    vfu_caps_set(&prop, VFU_CAP_TWIN_SOCKET_SUPPORTED, 1);
    vfu_caps_init(&reply);
    vfu_caps_set(&reply, VFU_CAP_TWIN_SOCKET_SUPPORTED, 1);
    vfu_caps_set(&reply, VFU_CAP_TWIN_SOCKET_FD_INDEX, 0);
    assert_true(vfu_caps_check_subset(&prop, &reply, &err));
    /* without twin_socket proposed the object itself is refused first */
    vfu_caps_init(&prop);
    vfu_caps_set(&prop, VFU_CAP_MAX_MSG_FDS, 4);
    assert_false(vfu_caps_check_subset(&prop, &reply, &err));
    assert_int_equal(err.cap, VFU_CAP_TWIN_SOCKET);
    /* and a reply-only member flagged alone is refused on its own */
    vfu_caps_init(&reply);
    reply.present[VFU_CAP_TWIN_SOCKET_FD_INDEX] = true;
    assert_false(vfu_caps_check_subset(&prop, &reply, &err));
    assert_int_equal(err.cap, VFU_CAP_TWIN_SOCKET_FD_INDEX);
}

/* What libvfio-user's server sends to its own sample client: migration and
 * more, though the client proposed only the two limits. */
static void subset_from_wire(void **state)
{
    (void)state;
    static const char prop_json[] = "{\"capabilities\":{\"max_msg_fds\":32,\"max_data_xfer_size\":1024}}";
    static const char reply_json[] = "{ \"capabilities\": { \"max_msg_fds\": 8, \"max_data_xfer_size\": "
                                     "1048576, \"migration\": { \"pgsize\": 4096 } } }";
    struct vfu_caps prop, reply;
    struct vfu_error err;
    assert_true(vfu_caps_parse(&prop, prop_json, sizeof prop_json - 1, false, &err));
    assert_true(vfu_caps_parse(&reply, reply_json, sizeof reply_json - 1, true, &err));
    assert_false(vfu_caps_check_subset(&prop, &reply, &err));
    assert_int_equal(err.code, VFU_E_VERSION);
    assert_int_equal(err.cap, VFU_CAP_MIGRATION);
    char msg[200];
    vfu_error_str(&err, msg, sizeof msg);
    assert_non_null(strstr(msg, "migration"));
}

static void version_rule(void **state)
{
    (void)state;
    static const uint16_t majors[] = {0, 1, 2, 65535};
    static const uint16_t minors[] = {0, 1, 2, 5, 65535};
    for (size_t pm = 0; pm < 4; pm++)
        for (size_t pn = 0; pn < 5; pn++)
            for (size_t rm = 0; rm < 4; rm++)
                for (size_t rn = 0; rn < 5; rn++) {
                    struct vfu_error err;
                    bool ok = vfu_version_check_reply(majors[pm], minors[pn], majors[rm], minors[rn], &err);
                    bool same_major = pm == rm, minor_ok = minors[rn] <= minors[pn];
                    assert_int_equal(ok, same_major && minor_ok);
                    if (ok) continue;
                    assert_int_equal(err.code, VFU_E_VERSION);
                    assert_int_equal(err.cmd, VFU_CMD_VERSION);
                    assert_true(err.is_reply);
                    if (!same_major) {
                        assert_int_equal(err.field, VFU_F_VERSION_MAJOR);
                        assert_int_equal(err.got, majors[rm]);
                        assert_int_equal(err.want, majors[pm]);
                    } else {
                        assert_int_equal(err.field, VFU_F_VERSION_MINOR);
                        assert_int_equal(err.got, minors[rn]);
                        assert_int_equal(err.want, minors[pn]);
                    }
                }
    assert_true(vfu_version_check_reply(0, 1, 0, 1, NULL));
    assert_false(vfu_version_check_reply(0, 1, 0, 2, NULL));
}

static void names(void **state)
{
    (void)state;
    for (int i = 0; i < VFU_CAP__COUNT; i++) {
        const char *n = vfu_cap_name(i);
        assert_int_equal(vfu_cap_by_name(n), i);
        const char *dot = strrchr(n, '.');
        assert_int_equal(dot != NULL, D(i)->parent >= 0);
        assert_string_equal(dot ? dot + 1 : n, D(i)->name);
        if (dot) {
            char outer[64];
            snprintf(outer, sizeof outer, "%.*s", (int)(dot - n), n);
            assert_int_equal(vfu_cap_by_name(outer), D(i)->parent);
        }
    }
    assert_string_equal(vfu_cap_name(VFU_CAP_TWIN_SOCKET_FD_INDEX), "twin_socket.fd_index");
    assert_int_equal(vfu_cap_by_name("migration.pgsize"), VFU_CAP_MIGRATION_PGSIZE);
    assert_int_equal(vfu_cap_by_name("fd_index"), -1);
    assert_int_equal(vfu_cap_by_name("twin_socket."), -1);
    assert_int_equal(vfu_cap_by_name(""), -1);
    assert_int_equal(vfu_cap_by_name(NULL), -1);
    assert_string_equal(vfu_cap_name(-1), "?");
    assert_string_equal(vfu_cap_name(VFU_CAP__COUNT), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_and_exact),
        cmocka_unit_test(table_order_whatever_the_set_order),
        cmocka_unit_test(does_not_fit),
        cmocka_unit_test(round_trip_random),
        cmocka_unit_test(subset_rule),
        cmocka_unit_test(subset_booleans_and_reply_only),
        cmocka_unit_test(subset_from_wire),
        cmocka_unit_test(version_rule),
        cmocka_unit_test(names),
    };
    return cmocka_run_group_tests_name("caps_json", tests, NULL, NULL);
}
