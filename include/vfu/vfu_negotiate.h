/* VERSION negotiation shared by our reference server and client: the reply a
 * server builds from a proposal, and the limits each side enforces after.
 *
 * What a side advertises in max_msg_fds and max_data_xfer_size is what IT
 * can receive: the fds per message and the transfer count it accepts.  The
 * peer must not send more; the side itself enforces its own values on what
 * it receives.  A capability left out of a side's JSON stands at its spec
 * default for that side.  Because a reply may only hold capabilities the
 * client proposed, a server whose client did not propose, say,
 * max_data_xfer_size cannot state its own and is held to the default. */
#ifndef VFU_NEGOTIATE_H
#define VFU_NEGOTIATE_H

#include <stdbool.h>
#include <stdint.h>

#include "vfu_caps.h"
#include "vfu_codec.h"

/* The server's reply capabilities for a client's proposal, given what the
 * server offers (offer: its own values, present for what it wants to say).
 * Always a subset of the proposal, member by member:
 *  - number: when proposed and offered, with the server's value;
 *  - boolean: true when proposed true and offered true, absent otherwise
 *    (twin_socket.supported, write_multiple);
 *  - reply-only member (twin_socket.fd_index): the offered value, when its
 *    object is granted for another member;
 *  - object: present when one of its members is. */
void vfu_negotiate_reply(const struct vfu_caps *proposed, const struct vfu_caps *offer,
                         struct vfu_caps *reply);

/* Reply version for a proposal, given the highest version we speak: same
 * major (else VFU_E_VERSION, got = the proposed major, want = ours), minor
 * the lower of the two. */
bool vfu_negotiate_version(uint16_t prop_major, uint16_t prop_minor, uint16_t our_major,
                           uint16_t our_minor, uint16_t *reply_minor, struct vfu_error *err);

/* What the caps a side sent let it accept: max_fds from max_msg_fds (capped
 * at what one message can carry), max_data_xfer_size, and max_msg_size =
 * header + a page for fixed parts, JSON and capability chains + the transfer
 * size (as vfu_limits_default; capped at UINT32_MAX). */
void vfu_limits_from_caps(const struct vfu_caps *caps, struct vfu_limits *lim);

/* After negotiation, from the caps this side sent (ours: the client's
 * proposal or the server's reply) and those it received (peer):
 *  rx: what this side enforces on receive (from ours only, so a peer can
 *      never make us take or allocate more than we said);
 *  tx: what the peer enforces on receive, which this side must not exceed
 *      when sending.  A transfer whose data comes back (REGION_READ,
 *      DMA_READ) must fit both. */
void vfu_negotiate_limits(const struct vfu_caps *ours, const struct vfu_caps *peer,
                          struct vfu_limits *rx, struct vfu_limits *tx);

#endif
