/* An error value in words, with the names the generated tables give its
 * command, field and capability: apart from vfu_error.c, which knows no
 * tables, so that the error module depends on nothing. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vfu_caps.h"
#include "vfu_codec.h"

size_t vfu_error_str(const struct vfu_error *e, char *buf, size_t n)
{
    const char *what = vfu_errc_what(e->code);
    int k = 0;
    if (e->cmd >= 0 && vfu_cmd((unsigned)e->cmd))
        k = snprintf(buf, n, "%s %s: ", vfu_cmd_name((unsigned)e->cmd), e->is_reply ? "reply" : "request");
    else if (e->cmd >= 0)
        k = snprintf(buf, n, "command %d %s: ", (int)e->cmd, e->is_reply ? "reply" : "request");
    if (k < 0 || (size_t)k >= n) return n ? n - 1 : 0;
    /* capability errors name the capability; cap is only trusted on
     * VERSION errors, where the caps code sets it */
    bool has_cap = e->cap >= 0 && e->cmd == VFU_CMD_VERSION;
    const char *cap = has_cap ? vfu_cap_name(e->cap) : "", *sep = has_cap ? ": " : "";
    int m;
    if (e->code == VFU_E_IO && e->sys_errno == ENOTCONN)
        m = snprintf(buf + k, n - (size_t)k, "the connection was dropped (its message stream broke)");
    else if (e->code == VFU_E_IO || (e->code == VFU_E_EOF && e->sys_errno))
        /* never "(Success)": an errno of 0 is said as such */
        m = snprintf(buf + k, n - (size_t)k, "%s (%s)", what, e->sys_errno ? strerror(e->sys_errno) : "no error number recorded");
    else if (e->field >= 0)
        m = snprintf(buf + k, n - (size_t)k, "%s: %s%s%s [%s] (got %llu, limit/expected %llu)",
                     vfu_field_name(e->field), cap, sep, what, vfu_errc_name(e->code),
                     (unsigned long long)e->got, (unsigned long long)e->want);
    else
        m = snprintf(buf + k, n - (size_t)k, "%s%s%s [%s] (got %llu, limit/expected %llu)", cap, sep,
                     what, vfu_errc_name(e->code), (unsigned long long)e->got,
                     (unsigned long long)e->want);
    if (m < 0) return (size_t)k;
    return (size_t)k + (size_t)m >= n ? n - 1 : (size_t)k + (size_t)m;
}
