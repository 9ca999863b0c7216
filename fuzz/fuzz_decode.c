/* Target: the codec's decoder in both roles, and the dissector over the
 * same bytes.  Input: one option byte, then one message (header first):
 *   bits 0-2  fds that came with it (0-7)
 *   bit 3     dissect in full (no eliding)
 *   bit 4     negotiated-looking small limits instead of the defaults
 * Oracle beyond the sanitizers: the dissector's verdict on a message is the
 * decoder's (it decodes through vfu_dissect_decode), for every role, and
 * every part the decoder records lies inside the payload. */
#include <stdio.h>
#include <stdlib.h>

#include "vfu_caps.h"
#include "vfu_codec.h"
#include "vfu_dissect.h"
#include "fuzz_target.h"

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    devnull = fopen("/dev/null", "w");
    return 0;
}

static void check(bool cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_decode: %s\n", what);
        abort();
    }
}

static void one_role(const uint8_t *msg, size_t len, const int *fds, unsigned nfds,
                     const struct vfu_limits *lim, enum vfu_role role, bool full)
{
    struct vfu_msg m;
    struct vfu_error err, derr;
    bool ok = vfu_decode(&m, msg, len, fds, nfds, lim, role, &err);
    if (ok) {
        for (unsigned i = 0; i < m.nparts; i++)
            check(m.parts[i].off <= m.payload_len && m.parts[i].len <= m.payload_len - m.parts[i].off,
                  "a part outside the payload");
        char line[512];
        vfu_msg_summary(&m, line, sizeof line);
    }
    /* the dissector holds VERSION data to the capability rules as a
     * receiver does (lib/core/caps.c): the decoder's verdict gets that stage too */
    uint32_t jlen;
    const uint8_t *json;
    if (ok && m.hdr.cmd == VFU_CMD_VERSION && !m.is_error &&
        (json = vfu_data(&m, VFU_F_VERSION_DATA, &jlen)) && jlen > 1) {
        struct vfu_caps caps;
        ok = vfu_caps_parse(&caps, (const char *)json, jlen - 1, m.is_reply, &err);
    }
    struct vfu_dissect_opts o = {.nfds = nfds, .fds = fds, .receiver = role, .lim = lim, .full = full};
    bool dok = vfu_dissect(devnull, msg, len, &o, &derr);
    check(dok == ok, "dissector and decoder disagree on validity");
    if (!ok) check(derr.code == err.code, "dissector and decoder disagree on the broken rule");
    char line[512];
    check(vfu_summarize(msg, len, &o, line, sizeof line, &derr) == ok,
          "summary and decoder disagree on validity");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    if (!devnull) LLVMFuzzerInitialize(NULL, NULL);
    uint8_t opt = data[0];
    const uint8_t *msg = data + 1;
    size_t len = size - 1;
    /* fd numbers only: the decoder counts them and never touches them */
    static const int fds[8] = {100, 101, 102, 103, 104, 105, 106, 107};
    unsigned nfds = opt & 7;
    struct vfu_limits lim;
    vfu_limits_default(&lim);
    if (opt & 0x10) lim = (struct vfu_limits){VFU_HDR_SIZE + VFU_FIXED_ROOM + 4096, 2, 4096};
    bool full = opt & 8;
    one_role(msg, len, fds, nfds, &lim, VFU_ROLE_SERVER, full);
    one_role(msg, len, fds, nfds, &lim, VFU_ROLE_CLIENT, full);
    one_role(msg, len, fds, nfds, &lim, VFU_ROLE_ANY, full);
    return 0;
}
