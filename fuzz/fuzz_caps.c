/* Target: the VERSION capability JSON parser and the negotiation built on
 * it.  Input: a proposal's JSON, a NUL, a server offer's JSON, a NUL, then
 * four u16 (little-endian): proposed major, minor, the server's major,
 * minor.  Missing parts are empty.
 * Oracles beyond the sanitizers: what vfu_caps_to_json writes parses back
 * to the same capabilities; the reply vfu_negotiate_reply builds is always
 * a subset of the proposal (vfu_caps_check_subset accepts it); the limits
 * a side derives never exceed what one message can carry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfu_caps.h"
#include "fuzz_target.h"
#include "vfu_negotiate.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static void check(bool cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_caps: %s\n", what);
        abort();
    }
}

static bool same(const struct vfu_caps *a, const struct vfu_caps *b)
{
    for (int i = 0; i < VFU_CAP__COUNT; i++)
        if (a->present[i] != b->present[i] || (a->present[i] && a->v[i] != b->v[i])) return false;
    return true;
}

/* parse, and when it parses, write it out and parse that again */
static bool parse(const uint8_t *p, size_t n, bool is_reply, struct vfu_caps *c)
{
    struct vfu_error err;
    if (!vfu_caps_parse(c, (const char *)p, n, is_reply, &err)) return false;
    char json[4096];
    int len = vfu_caps_to_json(c, json, sizeof json);
    check(len >= 0, "parsed capabilities do not fit 4 KiB of JSON");
    struct vfu_caps again;
    check(vfu_caps_parse(&again, json, (size_t)len, is_reply, &err), "written JSON does not parse back");
    check(same(c, &again), "written JSON parses back to other capabilities");
    return true;
}

static const uint8_t *part(const uint8_t **p, const uint8_t *end, size_t *n)
{
    const uint8_t *start = *p;
    const uint8_t *nul = memchr(start, 0, (size_t)(end - start));
    *n = (size_t)((nul ? nul : end) - start);
    *p = nul ? nul + 1 : end;
    return start;
}

static uint16_t u16(const uint8_t **p, const uint8_t *end)
{
    uint16_t v = 0;
    if (end - *p >= 2) {
        v = (uint16_t)((*p)[0] | (*p)[1] << 8);
        *p += 2;
    }
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    size_t na, nb;
    const uint8_t *a = part(&p, end, &na);
    const uint8_t *b = part(&p, end, &nb);
    uint16_t pmaj = u16(&p, end), pmin = u16(&p, end), omaj = u16(&p, end), omin = u16(&p, end);

    struct vfu_caps prop, offer, reply, as_reply;
    bool prop_ok = parse(a, na, false, &prop);
    parse(a, na, true, &as_reply);
    bool offer_ok = parse(b, nb, true, &offer);
    struct vfu_error err;
    if (prop_ok && offer_ok) {
        vfu_negotiate_reply(&prop, &offer, &reply);
        check(vfu_caps_check_subset(&prop, &reply, &err), "negotiated reply is not a subset of the proposal");
        vfu_caps_check_subset(&prop, &offer, &err);
        struct vfu_limits rx, tx;
        vfu_negotiate_limits(&reply, &prop, &rx, &tx);
        check(rx.max_fds <= VFU_MAX_FDS && tx.max_fds <= VFU_MAX_FDS, "limits above what a message can carry");
        vfu_negotiate_limits(&prop, &reply, &rx, &tx);
        check(rx.max_fds <= VFU_MAX_FDS && tx.max_fds <= VFU_MAX_FDS, "limits above what a message can carry");
    }
    uint16_t minor;
    if (vfu_negotiate_version(pmaj, pmin, omaj, omin, &minor, &err))
        check(vfu_version_check_reply(pmaj, pmin, omaj, minor, &err), "negotiated version fails the reply check");
    return 0;
}
