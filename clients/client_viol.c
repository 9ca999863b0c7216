/* Violations: what the server did wrong, kept as values for the report. */
#include <stdio.h>
#include <string.h>

#include "client_priv.h"

static const char *const kind_names[VFU_V__COUNT] = {
    [VFU_V_DECODE] = "DECODE",
    [VFU_V_FRAMING] = "FRAMING",
    [VFU_V_VERSION] = "VERSION",
    [VFU_V_CAPS] = "CAPS",
    [VFU_V_TWIN] = "TWIN",
    [VFU_V_XFER_LIMIT] = "XFER_LIMIT",
    [VFU_V_DMA_ADDRESS] = "DMA_ADDRESS",
    [VFU_V_DMA_PERM] = "DMA_PERM",
    [VFU_V_UNEXPECTED_REPLY] = "UNEXPECTED_REPLY",
    [VFU_V_REPLY_CMD] = "REPLY_CMD",
    [VFU_V_NO_REPLY_ANSWERED] = "NO_REPLY_ANSWERED",
    [VFU_V_WRONG_SOCKET] = "WRONG_SOCKET",
};

const char *vfu_viol_kind_name(enum vfu_viol_kind k)
{
    return (unsigned)k < VFU_V__COUNT ? kind_names[k] : "?";
}

void vfu_cl_violation(struct vfu_client *c, enum vfu_viol_kind kind, enum vfu_sock sock,
                      uint16_t msg_id, const struct vfu_error *err)
{
    c->viol_total++;
    c->viol_kind[kind]++;
    if (c->nviol == VFU_CLIENT_MAX_VIOLATIONS) return;
    struct vfu_violation *v = &c->viol[c->nviol++];
    v->kind = kind;
    v->sock = sock;
    v->msg_id = msg_id;
    v->err = *err;
}

void vfu_cl_violation_set(struct vfu_client *c, enum vfu_viol_kind kind, enum vfu_sock sock,
                          uint16_t msg_id, enum vfu_errc code, int cmd, int field,
                          bool is_reply, uint64_t got, uint64_t want)
{
    struct vfu_error e;
    vfu_error_set(&e, code, cmd, field, got, want);
    e.is_reply = is_reply;
    vfu_cl_violation(c, kind, sock, msg_id, &e);
}

size_t vfu_violation_str(const struct vfu_violation *v, char *buf, size_t n)
{
    if (!n) return 0;
    int k = snprintf(buf, n, "%s on %s, msg id %u: ", vfu_viol_kind_name(v->kind),
                     v->sock == VFU_SOCK_TWIN ? "twin" : "main", v->msg_id);
    if (k < 0) { buf[0] = 0; return 0; }
    if ((size_t)k >= n) return n - 1;
    return (size_t)k + vfu_error_str(&v->err, buf + k, n - (size_t)k);
}

const struct vfu_violation *vfu_client_violations(const struct vfu_client *c, unsigned *n)
{
    *n = c->nviol;
    return c->viol;
}

unsigned long vfu_client_violation_total(const struct vfu_client *c) { return c->viol_total; }

unsigned long vfu_client_violation_count(const struct vfu_client *c, enum vfu_viol_kind k)
{
    return (unsigned)k < VFU_V__COUNT ? c->viol_kind[k] : 0;
}

void vfu_client_clear_violations(struct vfu_client *c)
{
    c->nviol = 0;
    c->viol_total = 0;
    memset(c->viol_kind, 0, sizeof c->viol_kind);
}

const struct vfu_client_stats *vfu_client_stats(const struct vfu_client *c) { return &c->stats; }

const char *vfu_call_status_name(enum vfu_call_status s)
{
    switch (s) {
    case VFU_CALL_REPLY: return "REPLY";
    case VFU_CALL_BAD_REPLY: return "BAD_REPLY";
    case VFU_CALL_TIMEOUT: return "TIMEOUT";
    case VFU_CALL_EOF: return "EOF";
    case VFU_CALL_ERROR: return "ERROR";
    }
    return "?";
}
