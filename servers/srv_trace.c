/* -v: one line on stderr for every message that comes or goes, through
 * include/vfu/vfu_dissect.h's one-line summary. */
#include <stdio.h>

#include "vfu_dissect.h"
#include "srv_loop.h"

void srv_trace(void *ctx, enum vfu_trace_dir dir, const uint8_t *buf, size_t len, const int *fds,
               unsigned nfds, const struct vfu_error *framing_err)
{
    const char *where = ctx;
    const char *d = dir == VFU_TRACE_RX ? "rx" : "tx";
    char line[512];
    if (framing_err) {
        vfu_error_str(framing_err, line, sizeof line);
        fprintf(stderr, "vfu-refserver: %s%s %zu bytes: %s\n", d, where, len, line);
        return;
    }
    /* what comes in is shown as the server decodes it (zero padding taken) */
    struct vfu_dissect_opts o = {.nfds = nfds, .fds = fds, .receiver = VFU_ROLE_ANY,
                                 .decode_opts = dir == VFU_TRACE_RX ? SRV_DECODE_OPTS : 0};
    vfu_summarize(buf, len, &o, line, sizeof line, NULL);
    fprintf(stderr, "vfu-refserver: %s%s %s\n", d, where, line);
}
