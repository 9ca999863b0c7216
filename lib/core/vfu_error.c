#include "vfu_error.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>


static const struct {
    const char *name;
    const char *what;   /* the rule, for the message */
    int errnum;         /* what a server replies with */
} info[VFU_E__COUNT] = {
    [VFU_OK] = {"OK", "no error", 0},
    [VFU_E_HDR_SHORT] = {"HDR_SHORT", "message shorter than the header", EINVAL},
    [VFU_E_SIZE_BELOW_HDR] = {"SIZE_BELOW_HDR", "msg_size smaller than the header", EINVAL},
    [VFU_E_SIZE_LIMIT] = {"SIZE_LIMIT", "msg_size above the limit", E2BIG},
    [VFU_E_SIZE_MISMATCH] = {"SIZE_MISMATCH", "msg_size differs from the bytes received", EINVAL},
    [VFU_E_UNKNOWN_CMD] = {"UNKNOWN_CMD", "unknown command", ENOTSUP},
    [VFU_E_DIRECTION] = {"DIRECTION", "command sent in the wrong direction", EINVAL},
    [VFU_E_MSG_TYPE] = {"MSG_TYPE", "message type is neither command nor reply", EINVAL},
    [VFU_E_RESERVED_FLAGS] = {"RESERVED_FLAGS", "reserved flag bits set", EINVAL},
    [VFU_E_FLAGS_RULE] = {"FLAGS_RULE", "flag combination not allowed", EINVAL},
    [VFU_E_PAYLOAD_SHORT] = {"PAYLOAD_SHORT", "payload shorter than the layout", EINVAL},
    [VFU_E_PAYLOAD_LONG] = {"PAYLOAD_LONG", "payload longer than the layout", EINVAL},
    [VFU_E_MBZ] = {"MBZ", "must-be-zero field is not zero", EINVAL},
    [VFU_E_ENUM] = {"ENUM", "value not in its enumeration", EINVAL},
    [VFU_E_NO_VARIANT] = {"NO_VARIANT", "no layout for this selector", EINVAL},
    [VFU_E_ARRAY_OVERRUN] = {"ARRAY_OVERRUN", "counted data runs past the payload", EINVAL},
    [VFU_E_ARGSZ] = {"ARGSZ", "argsz inconsistent", EINVAL},
    [VFU_E_FDS] = {"FDS", "wrong number of file descriptors", EINVAL},
    [VFU_E_XFER_LIMIT] = {"XFER_LIMIT", "count above max_data_xfer_size", E2BIG},
    [VFU_E_STRING] = {"STRING", "string not NUL-terminated or with a NUL inside", EINVAL},
    [VFU_E_CAP_CHAIN] = {"CAP_CHAIN", "capability chain leaves the payload or loops", EINVAL},
    [VFU_E_ERROR_PAYLOAD] = {"ERROR_PAYLOAD", "error reply carries a payload", EINVAL},
    [VFU_E_BAD_VALUE] = {"BAD_VALUE", "value not allowed", EINVAL},
    [VFU_E_TOO_DEEP] = {"TOO_DEEP", "more nested structures than tracked", EINVAL},
    [VFU_E_ENC_SPACE] = {"ENC_SPACE", "message does not fit the buffer", ENOBUFS},
    [VFU_E_ENC_FIELD] = {"ENC_FIELD", "field not in this message", EINVAL},
    [VFU_E_JSON] = {"JSON", "capability JSON malformed", EINVAL},
    [VFU_E_CAPABILITY] = {"CAPABILITY", "capability of the wrong type or out of range", EINVAL},
    [VFU_E_VERSION] = {"VERSION", "version negotiation rule broken", ENOTSUP},
    [VFU_E_IO] = {"IO", "system call failed", EIO},
    [VFU_E_EOF] = {"EOF", "peer closed the connection", ECONNRESET},
    [VFU_E_TIMEOUT] = {"TIMEOUT", "timed out", ETIMEDOUT},
    [VFU_E_NOMEM] = {"NOMEM", "out of memory", ENOMEM},
    [VFU_E_FD_TRUNC] = {"FD_TRUNC", "more file descriptors than accepted", EINVAL},
    [VFU_E_CHILD_EXIT] = {"CHILD_EXIT", "program under test ended before it was ready", ECHILD},
};

const char *vfu_errc_name(enum vfu_errc code)
{
    return (unsigned)code < VFU_E__COUNT && info[code].name ? info[code].name : "?";
}

int vfu_errc_errno(enum vfu_errc code)
{
    return (unsigned)code < VFU_E__COUNT ? info[code].errnum : EINVAL;
}

void vfu_error_set(struct vfu_error *e, enum vfu_errc code, int cmd, int field,
                   uint64_t got, uint64_t want)
{
    if (!e) return;
    e->code = code;
    e->cmd = cmd;
    e->field = (int16_t)field;
    e->cap = -1;
    e->sys_errno = 0;
    e->is_reply = 0;
    e->got = got;
    e->want = want;
}

const char *vfu_errc_what(enum vfu_errc code)
{
    return (unsigned)code < VFU_E__COUNT && info[code].what ? info[code].what : "error";
}
