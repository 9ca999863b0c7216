/* -v: one line on stderr for every message that comes or goes, with the
 * integer fields of its fixed part, named from the generated tables. */
#include <stdio.h>
#include <string.h>

#include "srv_loop.h"

static void fields(const struct vfu_msg *m, char *b, size_t n)
{
    size_t k = 0;
    b[0] = 0;
    if (!m->nparts || m->parts[0].kind != VFU_P_STRUCT) return;
    const struct vfu_struct_desc *sd = &vfu_spec.structs[m->parts[0].sid];
    for (unsigned i = 0; i < sd->nfields && k < n; i++) {
        int f = sd->first_field + (int)i;
        if (vfu_spec.fields[f].kind != VFU_K_UINT || !vfu_has(m, f)) continue;
        int w = snprintf(b + k, n - k, " %s=%#llx", vfu_field_name(f),
                         (unsigned long long)vfu_get(m, f));
        if (w < 0) break;
        k += (size_t)w;
    }
}

void srv_trace(void *ctx, enum vfu_trace_dir dir, const uint8_t *buf, size_t len, const int *fds,
               unsigned nfds, const struct vfu_error *framing_err)
{
    const char *where = ctx;
    const char *d = dir == VFU_TRACE_RX ? "rx" : "tx";
    if (framing_err) {
        char e[200];
        vfu_error_str(framing_err, e, sizeof e);
        fprintf(stderr, "vfu-refserver: %s%s %zu bytes: %s\n", d, where, len, e);
        return;
    }
    struct vfu_msg m;
    struct vfu_error err;
    bool ok = vfu_decode(&m, buf, len, fds, nfds, NULL, VFU_ROLE_ANY, &err);
    char f[240] = "";
    if (ok) fields(&m, f, sizeof f);
    if (!ok && err.code != VFU_E_SIZE_LIMIT) {
        char e[200];
        vfu_error_str(&err, e, sizeof e);
        snprintf(f, sizeof f, " (undecodable: %s)", e);
    }
    const char *kind = m.is_error ? "error" : m.is_reply ? "reply" : "request";
    fprintf(stderr, "vfu-refserver: %s%s #%u %s %s %zuB fds=%u%s", d, where, m.hdr.msg_id,
            vfu_cmd_name(m.hdr.cmd), kind, len, nfds, f);
    if (m.is_error) fprintf(stderr, " errno=%u (%s)", m.hdr.error, strerror((int)m.hdr.error));
    fputc('\n', stderr);
}
