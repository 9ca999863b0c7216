/* Every strict prefix of every valid message is refused with an error that
 * names the layout rule the cut broke, both when msg_size still claims the
 * full length (a short read) and when it was patched to match the cut (a
 * peer that sends a short message).  Each prefix sits in a buffer of exactly
 * its length, so a read past it is a sanitizer report. */
#include "codec_cases.h"
#include "spec_tables.h"

#include <stdlib.h>
#include <string.h>

/* the first field of struct sid that does not fit in avail bytes */
static int first_missing(int sid, uint32_t avail)
{
    const struct vfu_struct_desc *s = &vfu_spec.structs[sid];
    for (unsigned i = 0; i < s->nfields; i++) {
        const struct vfu_field_desc *f = &vfu_spec.fields[s->first_field + i];
        if ((uint32_t)f->offset + f->width > avail) return s->first_field + (int)i;
    }
    return -1;
}

/* what a cut inside the variable tail may break */
static bool tail_errc(enum vfu_errc code)
{
    switch (code) {
    case VFU_E_PAYLOAD_SHORT:   /* a variant arm or capability body cut */
    case VFU_E_ARRAY_OVERRUN:   /* counted data, array or bitmap cut */
    case VFU_E_ARGSZ:           /* argsz says the full size */
    case VFU_E_STRING:          /* the NUL cut off */
    case VFU_E_CAP_CHAIN:       /* next points past the end */
    case VFU_E_FDS:             /* a cut reply carries no fds */
        return true;
    default:
        return false;
    }
}

static void truncations(void **state)
{
    const struct codec_case *c = *state;
    uint8_t full[CODEC_BUF], buf[CODEC_BUF];
    int fds[VFU_MAX_FDS];
    unsigned nfds;
    size_t len = codec_case_encode(c, full, sizeof full, fds, &nfds);
    struct vfu_limits lim;
    codec_case_limits(&lim);
    enum vfu_role to = codec_case_receiver(c);
    int sid = vfu_cmd(c->cmd)->sid[c->is_reply];
    const struct vfu_field_desc *size_f = &vfu_spec.fields[VFU_F_HEADER_MSG_SIZE];
    unsigned valid = 0, echo_valid = 0, seen[VFU_E__COUNT] = {0};

    for (size_t cut = 0; cut < len; cut++) {
        /* a short read: msg_size still says the whole message */
        if (cut < VFU_HDR_SIZE)
            codec_expect_error(full, cut, fds, nfds, &lim, to, VFU_E_HDR_SHORT, -1, -1);
        else
            codec_expect_error(full, cut, fds, nfds, &lim, to, VFU_E_SIZE_MISMATCH, c->cmd, VFU_F_HEADER_MSG_SIZE);
        if (cut < VFU_HDR_SIZE) continue;

        /* a short message: msg_size agrees with the cut */
        memcpy(buf, full, cut);
        vfu_write_uint(buf + size_f->offset, size_f->width, cut);
        uint32_t plen = (uint32_t)(cut - VFU_HDR_SIZE);
        struct vfu_msg m;
        struct vfu_error err;
        uint8_t *copy;
        bool ok = codec_decode_copy(&m, &copy, buf, cut, fds, nfds, &lim, to, &err);
        char s[256];
        vfu_error_str(&err, s, sizeof s);
        assert_true(sid >= 0);   /* header-only messages have no cut past the header */
        const struct vfu_struct_desc *st = &vfu_spec.structs[sid];
        /* a reply that repeats its request's argsz (full-or-echo) and whose
         * tail is optional reads, cut to its fixed part, as a reply to a
         * request that had no tail: argsz cannot tell them apart */
        bool echo_cut = c->is_reply && vfu_cmd(c->cmd)->argsz[1] == VFU_ARGSZ_FULL_OR_ECHO && plen == st->size;
        if ((c->fixed_prefix_valid && plen == st->min_size) || (echo_cut && ok)) {
            if (!ok) fail_msg("%s cut to its fixed part: %s", c->name, s);
            codec_read_all(&m);
            if (echo_cut && !(c->fixed_prefix_valid && plen == st->min_size)) echo_valid++;
            else valid++;
        } else if (ok) {
            fail_msg("%s cut to %u of %zu payload bytes decodes OK", c->name, plen, len - VFU_HDR_SIZE);
        } else {
            seen[err.code]++;
            assert_int_equal(err.cmd, c->cmd);
            assert_int_equal(err.is_reply, c->is_reply);
            if (plen < st->min_size) {
                /* inside the fixed part: the first field that does not fit */
                if (err.code != VFU_E_PAYLOAD_SHORT || err.field != first_missing(sid, plen))
                    fail_msg("%s cut to %u: %s", c->name, plen, s);
            } else if (!tail_errc(err.code)) {
                fail_msg("%s cut to %u: unexpected %s", c->name, plen, s);
            }
        }
        free(copy);
    }
    assert_int_equal(valid, c->fixed_prefix_valid ? 1 : 0);
    assert_true(echo_valid <= 1);
    for (int k = 0; k < VFU_E__COUNT; k++)
        if (seen[k]) print_message("    %-14s x%u\n", vfu_errc_name(k), seen[k]);
}

int main(void)
{
    return codec_run_cases("codec truncation", truncations, NULL, 0);
}
