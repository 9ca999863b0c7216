/* The server personalities a client is run against, one session each.
 * Every one is a server the spec allows; what the client should do with it
 * is a SHOULD at most (the spec puts few obligations on a client's
 * robustness), with the spec's own word where it has one. */
#include <errno.h>

#include "cjrun.h"

#define SHOULD VFU_LEVEL_SHOULD

static void small_limits(struct srv_opts *o)
{
    /* a register-sized transfer at most, and one fd a message */
    o->max_data_xfer_size = 64;
    o->max_msg_fds = 1;
    o->max_dma_maps = 1;
}

static void no_twin(struct srv_opts *o) { o->twin_socket = false; }

static void no_features(struct srv_opts *o)
{
    o->write_multiple = false;
    o->migration = false;
}

static void dma_messages(struct srv_opts *o)
{
    o->dma_mmap = false;
    o->dma_probe = true;
}

#define ROBUST "the client neither crashes nor reports a memory or undefined-behaviour fault"
#define ERRORS(e)                                                                                        \
    {"errors." #e, "every reply from the third request on is an error with " #e,                         \
     ROBUST " when a request fails with " #e "; an error reply is an answer the spec allows for any "     \
            "command (beyond the spec's letter)",                                                        \
     SHOULD, NULL, CJ_ACT_ERRORS, e, 3, false}

const struct cj_persona vfh_cj_personas[] = {
    {"default", "the reference server as it is", ROBUST " with a conforming server (beyond the spec's letter)",
     SHOULD, NULL, CJ_ACT_NONE, 0, 0, false},
    {"small-limits", "max_data_xfer_size 64, max_msg_fds 1, max_dma_maps 1",
     ROBUST " when the server advertises small limits; the limits themselves are graded by the checks",
     SHOULD, small_limits, CJ_ACT_NONE, 0, 0, false},
    {"no-twin-socket", "the server offers no twin socket",
     ROBUST " when the server declines the twin socket (beyond the spec's letter)", SHOULD, no_twin,
     CJ_ACT_NONE, 0, 0, false},
    {"no-features", "neither write_multiple nor migration offered",
     ROBUST " without the optional capabilities; the checks grade that it does not use them", SHOULD,
     no_features, CJ_ACT_NONE, 0, 0, false},
    {"dma-messages", "the server maps no DMA fd and reads each window with DMA_READ / DMA_WRITE while a request is pending",
     ROBUST " when the server reaches guest memory by messages, which may come between a request and its "
            "reply; the checks grade the replies",
     SHOULD, dma_messages, CJ_ACT_NONE, 0, 0, false},
    {"slow-replies", "every reply comes 100 ms late",
     "the client holds the same conversation as with a prompt server: implementers should be prepared for "
     "unbounded latencies",
     SHOULD, NULL, CJ_ACT_SLOW, 0, 0, true},
    ERRORS(EINVAL),
    ERRORS(EPERM),
    ERRORS(EFAULT),
    ERRORS(ENOSPC),
    ERRORS(ENOTSUP),
    ERRORS(EIO),
    {"disconnect", "the server closes the connection instead of answering the third request",
     ROBUST " when the server goes away; a reconnection, if any, is judged like a first connection "
            "(the spec: a client should reset the device when it sees the disconnection)",
     SHOULD, NULL, CJ_ACT_DISCONNECT, 0, 3, false},
};
const size_t vfh_cj_npersonas = sizeof vfh_cj_personas / sizeof vfh_cj_personas[0];
