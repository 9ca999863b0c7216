/* VERSION negotiation rules, by capability kind from the generated table;
 * only the two limits that size messages are named. */
#include "vfu_negotiate.h"

#include "vfu_desc.h"
#include "spec_tables.h"

void vfu_negotiate_reply(const struct vfu_caps *proposed, const struct vfu_caps *offer,
                         struct vfu_caps *reply)
{
    const struct vfu_capability_desc *t = vfu_spec.capabilities;
    vfu_caps_init(reply);
    for (int i = 0; i < VFU_CAP__COUNT; i++) {
        if (t[i].kind == VFU_CAP_OBJECT || t[i].reply_only) continue;
        if (!proposed->present[i] || !offer->present[i]) continue;
        if (t[i].kind == VFU_CAP_BOOLEAN) {
            /* a feature is on only when both sides want it; off is the default */
            if (proposed->v[i] && offer->v[i]) vfu_caps_set(reply, i, 1);
        } else {
            vfu_caps_set(reply, i, offer->v[i]);
        }
    }
    /* second pass: the objects granted above are now known */
    for (int i = 0; i < VFU_CAP__COUNT; i++) {
        if (!t[i].reply_only || !offer->present[i]) continue;
        if (t[i].parent < 0 || reply->present[t[i].parent]) vfu_caps_set(reply, i, offer->v[i]);
    }
}

bool vfu_negotiate_version(uint16_t prop_major, uint16_t prop_minor, uint16_t our_major,
                           uint16_t our_minor, uint16_t *reply_minor, struct vfu_error *err)
{
    if (prop_major != our_major) {
        vfu_error_set(err, VFU_E_VERSION, VFU_CMD_VERSION, VFU_F_VERSION_MAJOR, prop_major, our_major);
        return false;
    }
    *reply_minor = prop_minor < our_minor ? prop_minor : our_minor;
    return true;
}

void vfu_limits_from_caps(const struct vfu_caps *caps, struct vfu_limits *lim)
{
    uint64_t fds = vfu_caps_get(caps, VFU_CAP_MAX_MSG_FDS);
    uint64_t xfer = vfu_caps_get(caps, VFU_CAP_MAX_DATA_XFER_SIZE);
    uint64_t room = VFU_HDR_SIZE + VFU_FIXED_ROOM;   /* as vfu_limits_default */
    lim->max_fds = fds > VFU_MAX_FDS ? VFU_MAX_FDS : (uint32_t)fds;
    lim->max_data_xfer_size = xfer;
    lim->max_msg_size = xfer > UINT32_MAX - room ? UINT32_MAX : (uint32_t)(room + xfer);
}

void vfu_negotiate_limits(const struct vfu_caps *ours, const struct vfu_caps *peer,
                          struct vfu_limits *rx, struct vfu_limits *tx)
{
    vfu_limits_from_caps(ours, rx);
    vfu_limits_from_caps(peer, tx);
}
