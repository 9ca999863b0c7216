/* Mutation test: valid messages from the shared table, bent at random
 * (bit flips, byte and field overwrites with edge values, truncations,
 * extensions, msg_size patches, header changes, random fd counts, roles
 * and limits), then decoded from a buffer of exactly their length under
 * ASan/UBSan.  Every result must be OK or a known decoder error naming a real
 * field and the command in the header; every OK message must re-read all its
 * parts inside the payload.  Deterministic: a fixed seed, overridable with
 * VFU_MUTATION_SEED and VFU_MUTATIONS for longer runs. */
#include "codec_cases.h"
#include "spec_tables.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_SEED 0x7f4a7c159e3779b9ULL
#define DEFAULT_ITERATIONS 20000
#define MAXLEN (CODEC_BUF + 128)

static uint64_t rng;

static uint64_t rnd(void)
{
    /* xorshift64*: fast, and the same sequence everywhere */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dULL;
}

static uint64_t below(uint64_t n) { return n ? rnd() % n : 0; }

static const uint64_t edge[] = {
    0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 24, 31, 32, 63, 64, 0x7f, 0x80, 0xff, 0x100, 0xfff, 0x1000, 0x1001,
    0xffff, 0x10000, 0x100000, 0x100001, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff, 0x100000000ULL,
    0x7fffffffffffffffULL, 0x8000000000000000ULL, 0xfffffffffffffff0ULL, UINT64_MAX,
};

static uint64_t edge_value(void)
{
    return below(4) ? edge[below(sizeof edge / sizeof edge[0])] : rnd();
}

struct target {   /* an integer field of the valid message, for aimed overwrites */
    uint32_t off;
    uint16_t width;
};

/* the integer fields of a valid message: struct parts and array elements */
static unsigned targets_of(const struct vfu_msg *m, struct target *t, unsigned max)
{
    unsigned n = 0;
    for (unsigned i = 0; i < m->nparts; i++) {
        const struct vfu_part *p = &m->parts[i];
        if (p->kind != VFU_P_STRUCT && p->kind != VFU_P_ARRAY) continue;
        const struct vfu_struct_desc *s = &vfu_spec.structs[p->sid];
        uint32_t reps = p->kind == VFU_P_ARRAY ? p->count : 1;
        for (uint32_t r = 0; r < reps; r++)
            for (unsigned k = 0; k < s->nfields && n < max; k++) {
                const struct vfu_field_desc *f = &vfu_spec.fields[s->first_field + k];
                if (f->kind != VFU_K_UINT || (p->kind == VFU_P_STRUCT && f->offset + f->width > p->len)) continue;
                t[n].off = VFU_HDR_SIZE + p->off + r * p->stride + f->offset;
                t[n].width = f->width;
                n++;
            }
    }
    /* the header's fields too */
    const struct vfu_struct_desc *h = &vfu_spec.structs[vfu_spec.header_sid];
    for (unsigned k = 0; k < h->nfields && n < max; k++) {
        const struct vfu_field_desc *f = &vfu_spec.fields[h->first_field + k];
        t[n].off = f->offset;
        t[n].width = f->width;
        n++;
    }
    return n;
}

static void set_size(uint8_t *buf, size_t len, uint64_t v)
{
    const struct vfu_field_desc *f = &vfu_spec.fields[VFU_F_HEADER_MSG_SIZE];
    if (len >= (size_t)f->offset + f->width) vfu_write_uint(buf + f->offset, f->width, v);
}

/* one random change; returns true if it chose msg_size on purpose */
static bool mutate(uint8_t *buf, size_t *len, const struct target *t, unsigned nt)
{
    switch (below(9)) {
    case 0:
        if (*len) buf[below(*len)] ^= (uint8_t)(1u << below(8));
        return false;
    case 1:
        if (*len) buf[below(*len)] = below(2) ? (uint8_t)rnd() : (uint8_t)edge_value();
        return false;
    case 2:
    case 3: {   /* an edge value in a real field: reaches the checks behind the layout */
        if (!nt) return false;
        const struct target *x = &t[below(nt)];
        if ((size_t)x->off + x->width <= *len) vfu_write_uint(buf + x->off, x->width, edge_value());
        return false;
    }
    case 4:
        *len = below(*len + 1);
        return false;
    case 5: {
        size_t n = 1 + below(64);
        if (*len + n > MAXLEN) n = MAXLEN - *len;
        for (size_t i = 0; i < n; i++) buf[*len + i] = below(2) ? 0 : (uint8_t)rnd();
        *len += n;
        return false;
    }
    case 6:
        set_size(buf, *len, below(2) ? edge_value() : *len + below(9) - 4);
        return true;
    case 7: {   /* the header: another command or message type */
        const struct vfu_field_desc *c = &vfu_spec.fields[VFU_F_HEADER_COMMAND];
        const struct vfu_field_desc *f = &vfu_spec.fields[VFU_F_HEADER_FLAGS];
        if (*len < VFU_HDR_SIZE) return false;
        if (below(2))
            vfu_write_uint(buf + c->offset, c->width, below(VFU_CMD_MAX + 3));
        else
            vfu_write_uint(buf + f->offset, f->width, vfu_read_uint(buf + f->offset, f->width) ^ (1u << below(6)));
        return false;
    }
    default: {   /* a run of bytes moved: a shifted tail */
        if (*len < 2) return false;
        size_t a = below(*len), b = below(*len), n = below(*len - (a > b ? a : b) + 1);
        memmove(buf + a, buf + b, n);
        return false;
    }
    }
}

struct stats {
    unsigned ok, per_code[VFU_E__COUNT];
};

static void check_result(const struct vfu_msg *m, bool ok, const struct vfu_error *err, const uint8_t *buf,
                         size_t len, unsigned iter)
{
    if (ok) {
        assert_int_equal(m->hdr.msg_size, len);
        assert_int_equal((uint64_t)m->payload_len + VFU_HDR_SIZE, len);
        assert_non_null(m->cmd);
        codec_read_all(m);
        return;
    }
    if (!codec_decode_errc(err->code))
        fail_msg("iteration %u: code %d is no decoder error", iter, err->code);
    if (err->field < -1 || err->field >= VFU_F__COUNT)
        fail_msg("iteration %u: %s names field %d", iter, vfu_errc_name(err->code), err->field);
    if (len < VFU_HDR_SIZE) {
        assert_int_equal(err->code, VFU_E_HDR_SHORT);
        assert_int_equal(err->cmd, -1);
    } else {
        const struct vfu_field_desc *c = &vfu_spec.fields[VFU_F_HEADER_COMMAND];
        assert_int_equal(err->cmd, (int32_t)vfu_read_uint(buf + c->offset, c->width));
    }
    char s[256];
    size_t n = vfu_error_str(err, s, sizeof s);
    assert_true(n > 0 && n < sizeof s && strlen(s) == n);
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtoull(v, NULL, 0) : dflt;
}

static void mutations(void **state)
{
    (void)state;
    uint64_t seed = env_u64("VFU_MUTATION_SEED", DEFAULT_SEED);
    unsigned iterations = (unsigned)env_u64("VFU_MUTATIONS", DEFAULT_ITERATIONS);
    rng = seed ? seed : DEFAULT_SEED;
    static struct stats st;
    memset(&st, 0, sizeof st);

    for (unsigned iter = 0; iter < iterations; iter++) {
        const struct codec_case *c = &codec_cases[below(codec_ncases)];
        uint8_t buf[MAXLEN];
        int fds[VFU_MAX_FDS];
        unsigned nfds;
        size_t len = codec_case_encode(c, buf, sizeof buf, fds, &nfds);
        struct vfu_limits lim;
        codec_case_limits(&lim);
        enum vfu_role to = codec_case_receiver(c);

        struct vfu_msg m;
        struct vfu_error err;
        assert_true(vfu_decode(&m, buf, len, fds, nfds, &lim, to, &err));
        struct target t[256];
        unsigned nt = targets_of(&m, t, 256);

        bool size_chosen = false;
        unsigned rounds = 1 + (unsigned)below(4);
        for (unsigned r = 0; r < rounds; r++) size_chosen |= mutate(buf, &len, t, nt);
        /* mostly keep the framing right, so the payload checks are reached */
        if (!size_chosen && below(8)) set_size(buf, len, len);

        switch (below(8)) {
        case 0: nfds = (unsigned)below(lim.max_fds + 2); break;   /* some above the limit */
        case 1: nfds = 0; break;
        default: break;
        }
        for (unsigned i = 0; i < nfds; i++) fds[i] = 100 + (int)i;
        switch (below(16)) {
        case 0: to = VFU_ROLE_ANY; break;
        case 1: to = to == VFU_ROLE_SERVER ? VFU_ROLE_CLIENT : VFU_ROLE_SERVER; break;
        default: break;
        }
        switch (below(16)) {
        case 0: lim.max_data_xfer_size = below(64); break;
        case 1: lim.max_msg_size = (uint32_t)below(MAXLEN); break;
        default: break;
        }

        uint8_t *copy;
        bool ok = codec_decode_copy(&m, &copy, buf, len, fds, nfds, &lim, to, &err);
        check_result(&m, ok, &err, copy, len, iter);
        free(copy);
        if (ok) st.ok++;
        else st.per_code[err.code]++;
    }

    unsigned kinds = 0;
    print_message("    seed %#" PRIx64 ", %u messages: %u decoded OK\n", seed, iterations, st.ok);
    for (int k = 0; k < VFU_E__COUNT; k++)
        if (st.per_code[k]) {
            kinds++;
            print_message("    %-16s %u\n", vfu_errc_name(k), st.per_code[k]);
        }
    /* the mutations reach past framing into the layout checks: if most
     * messages died at the header the test would prove little */
    if (iterations >= DEFAULT_ITERATIONS) {
        assert_true(st.ok >= iterations / 50);
        assert_true(kinds >= 15);
        assert_true(st.per_code[VFU_E_SIZE_MISMATCH] < iterations / 4);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mutations),
    };
    return cmocka_run_group_tests_name("codec mutation", tests, NULL, NULL);
}
