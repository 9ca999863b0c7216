/* What a client does that the server tolerates although the spec's layout
 * does not describe it: counted for the client-conformance work to read,
 * and said once per command and session on stderr so that the client's
 * author hears of it without a flood. */
#include "srv_int.h"

static const char *const what[SRV_DEV__COUNT] = {
    [SRV_DEV_ZERO_PADDING] = "padded with zero bytes past its structure (taken)",
};

void srv_deviation(struct srv *s, enum srv_deviation_kind k, const struct vfu_msg *m, uint64_t bytes)
{
    uint16_t cmd = m->hdr.cmd;
    if (k >= SRV_DEV__COUNT || cmd > VFU_CMD_MAX) return;
    struct srv_deviations *d = &s->dev_seen;
    d->messages[k]++;
    d->bytes[k] += bytes;
    d->by_cmd[k][cmd]++;
    _Static_assert(VFU_CMD_MAX < 32, "one bit per command in dev_logged");
    if (s->dev_logged[k] & (1u << cmd)) return;
    s->dev_logged[k] |= 1u << cmd;
    srv_log("client deviation: %s request (msg_id %u) %s: %llu byte%s; said once per command",
            vfu_cmd_name(cmd), m->hdr.msg_id, what[k], (unsigned long long)bytes, bytes == 1 ? "" : "s");
}

const struct srv_deviations *srv_deviations(const struct srv *s) { return &s->dev_seen; }
