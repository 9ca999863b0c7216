/* Errors as values: each says which rule was broken, on which command and
 * field, and what was seen against what was allowed. */
#ifndef VFU_ERROR_H
#define VFU_ERROR_H

#include <stddef.h>
#include <stdint.h>

enum vfu_errc {
    VFU_OK = 0,
    /* framing and header */
    VFU_E_HDR_SHORT,        /* fewer bytes than a header */
    VFU_E_SIZE_BELOW_HDR,   /* msg_size smaller than the header */
    VFU_E_SIZE_LIMIT,       /* msg_size above the negotiated limit */
    VFU_E_SIZE_MISMATCH,    /* msg_size disagrees with the bytes received */
    VFU_E_UNKNOWN_CMD,
    VFU_E_DIRECTION,        /* command travelling the wrong way */
    VFU_E_MSG_TYPE,         /* type bits neither command nor reply */
    VFU_E_RESERVED_FLAGS,   /* a bit the spec does not define is set */
    VFU_E_FLAGS_RULE,       /* e.g. not exactly one DATA_ bit in SET_IRQS */
    /* payload layout */
    VFU_E_PAYLOAD_SHORT,
    VFU_E_PAYLOAD_LONG,
    VFU_E_MBZ,              /* must-be-zero field is not */
    VFU_E_ENUM,             /* value outside its enumeration */
    VFU_E_NO_VARIANT,       /* selector names no known layout */
    VFU_E_ARRAY_OVERRUN,    /* counted data or array past the payload end */
    VFU_E_ARGSZ,            /* argsz breaks its rule */
    VFU_E_FDS,              /* wrong number of file descriptors */
    VFU_E_XFER_LIMIT,       /* count above max_data_xfer_size */
    VFU_E_STRING,           /* text not NUL-terminated, or NUL inside */
    VFU_E_CAP_CHAIN,        /* capability chain loops or leaves the payload */
    VFU_E_ERROR_PAYLOAD,    /* error reply with more than the header */
    VFU_E_BAD_VALUE,        /* e.g. a page size that is not a power of two */
    VFU_E_TOO_DEEP,         /* more nested parts than the decoder tracks */
    /* encoding */
    VFU_E_ENC_SPACE,        /* message does not fit the buffer */
    VFU_E_ENC_FIELD,        /* field does not belong to this message */
    /* version negotiation */
    VFU_E_JSON,             /* capability JSON unparsable or wrongly shaped */
    VFU_E_CAPABILITY,       /* capability of the wrong type or out of range */
    VFU_E_VERSION,          /* version negotiation rule broken */
    /* transport */
    VFU_E_IO,               /* system call failed; sys_errno says why */
    VFU_E_EOF,              /* peer closed (mid-message when got > 0) */
    VFU_E_TIMEOUT,
    VFU_E_NOMEM,
    VFU_E_FD_TRUNC,         /* peer sent more fds than we accept */
    /* process under test */
    VFU_E_CHILD_EXIT,       /* it ended before it was ready */
    VFU_E__COUNT
};

struct vfu_error {
    enum vfu_errc code;
    int32_t cmd;        /* command number (0-65535), -1 when not known */
    int16_t field;      /* field id from the generated tables, -1 if none */
    int16_t cap;        /* capability id (enum vfu_capability_id), -1 if none */
    int sys_errno;      /* for VFU_E_IO */
    uint8_t is_reply;   /* the message was a reply */
    uint64_t got;       /* the value seen */
    uint64_t want;      /* the bound or expected value */
};

const char *vfu_errc_name(enum vfu_errc code);
/* the errno a server puts in its error reply for this violation */
int vfu_errc_errno(enum vfu_errc code);
/* what the code means, in a few words ("payload longer than the layout");
 * vfu_error_str (codec.h) says the whole error with the tables' names */
const char *vfu_errc_what(enum vfu_errc code);

void vfu_error_set(struct vfu_error *e, enum vfu_errc code, int cmd, int field,
                   uint64_t got, uint64_t want);

#endif
