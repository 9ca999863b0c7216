/* --emit-scenario: a session input (a minimized finding) as a scenario of
 * harness/SCENARIOS.md, for a regression suite.  Each message is sent as
 * it was: its command's encoding cut to the header (@truncate=16), then
 * its payload appended as bytes, its header flags and error set; its fds
 * by kind.  The expectation is only that the server answers each one
 * (success or error) and stays up: what the right answer is, the
 * finding does not know. */
#include "vfu_fuzz.h"

#include <string.h>

static const char *fd_item(const struct vfu_fs_fd *f, char *buf, size_t n)
{
    switch (f->kind) {
    case VFU_FS_FD_MEMFD:
    case VFU_FS_FD_MEMFD_RO: snprintf(buf, n, "fd=memfd:%u", f->size ? f->size : 1); break;
    case VFU_FS_FD_EVENTFD: snprintf(buf, n, "fd=eventfd"); break;
    default: snprintf(buf, n, "fd=devnull"); break;
    }
    return buf;
}

bool fz_emit_scenario(const uint8_t *in, size_t len, const char *id, FILE *out, char *why, size_t whyn)
{
    static struct vfu_fs fs;
    vfu_fs_parse(in, len, &fs);
    unsigned sent = 0;
    fprintf(out, "# made by vfu-fuzz --emit-scenario from a finding\n");
    fprintf(out, "scenario %s\n  level SHOULD\n  title regression: the server answers these messages and stays up (found by vfu-fuzz; SHOULD: the spec does not state it)\n", id);
    struct vfu_hdr h;
    struct vfu_error err;
    /* vfu-fuzz sends a session's leading VERSION as its proposal */
    if (fs.n && fs.rec[0].kind == VFU_FS_MSG && vfu_hdr_decode(fs.rec[0].msg, fs.rec[0].len, &h, &err) &&
        h.cmd == VFU_CMD_VERSION)
        fprintf(out, "  negotiate none\n");
    for (unsigned i = 0; i < fs.n; i++) {
        const struct vfu_fs_record *r = &fs.rec[i];
        if (r->kind != VFU_FS_MSG || r->len < VFU_HDR_SIZE) continue;
        vfu_hdr_decode(r->msg, r->len, &h, &err);
        if (vfu_cmd(h.cmd)) fprintf(out, "  send %s @truncate=16", vfu_cmd_name(h.cmd));
        else fprintf(out, "  send %u", h.cmd);
        if (r->len > VFU_HDR_SIZE) {
            fputs(" @append=hex:", out);
            for (size_t k = VFU_HDR_SIZE; k < r->len; k++) fprintf(out, "%02x", r->msg[k]);
        }
        fprintf(out, " @flags=0x%x", h.flags);
        if (h.error) fprintf(out, " @error=%u", h.error);
        if (h.msg_size < VFU_HDR_SIZE) fprintf(out, " @size=%u", h.msg_size);
        for (unsigned k = 0; k < r->nfds; k++) {
            char b[48];
            fprintf(out, " %s", fd_item(&r->fds[k], b, sizeof b));
        }
        fputs(" unchecked\n", out);
        fputs(h.flags & VFU_HDR_FLAGS_NO_REPLY ? "  expect none 50\n" : "  expect reply\n", out);
        sent++;
    }
    fputs("  send DEVICE_GET_INFO\n  expect ok\nend\n", out);
    if (!sent && whyn) snprintf(why, whyn, "the input holds no message");
    return true;
}
