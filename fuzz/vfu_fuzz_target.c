/* The server under test, supervised through lib/runtime/proc.h: started like
 * vfu-conform starts it ({socket} or --socket-path=PATH), restarted when it
 * ends, and calibrated once: a server that ends by itself after a clean
 * session (libvfio-user's samples do) does so by design, with that status,
 * and such an end is no finding. */
#include "stopsig.h"
#include "vfu_fuzz.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STOP_GRACE_MS 500

const char *fz_target_path(const struct fz_target *t)
{
    return t->server_cmd ? t->sd.sock : t->connect_path;
}

static bool start(struct fz_target *t, struct vfu_error *err)
{
    struct vfu_proc_spec spec = {
        .cmd = t->server_cmd,
        .socket_path = t->sd.sock,
        .echo_stderr = t->echo_stderr,
        .stdout_mode = VFU_PROC_STDOUT_CAPTURE,
    };
    memset(&t->proc, 0, sizeof t->proc);
    bool ok = vfu_proc_start(&t->proc, &spec, err);
    t->started = true;
    t->stderr_mark = vfu_proc_stderr_total(&t->proc);
    return ok;
}

/* connect, VERSION, close: what a clean session needs of the server */
static bool clean_session(struct fz_target *t)
{
    struct vfu_error err;
    struct vfu_client *c = vfu_client_connect(fz_target_path(t), t->timeout_ms, NULL, &err);
    if (!c) return false;
    struct vfu_version_proposal p;
    struct vfu_version_result res;
    vfu_proposal_default(&p);
    bool ok = vfu_client_negotiate(c, &p, t->timeout_ms, &res) && res.accepted;
    vfu_client_close(c);
    return ok;
}

bool fz_target_start(struct fz_target *t, struct vfu_error *err)
{
    if (!t->server_cmd) return true;
    if (!vfu_sockdir_make(&t->sd, "vfu-fuzz")) {
        vfu_error_set(err, VFU_E_IO, -1, -1, 0, 0);
        err->sys_errno = errno;
        return false;
    }
    if (!start(t, err)) return false;
    /* calibration: one clean session, then does it end by itself? */
    if (!clean_session(t)) {
        vfu_error_set(err, VFU_E_VERSION, VFU_CMD_VERSION, -1, 0, 0);
        return false;
    }
    if (vfu_proc_wait(&t->proc, 300)) {
        const struct vfu_proc_status *st = vfu_proc_status(&t->proc);
        if (st->state != VFU_PROC_EXITED) {
            vfu_error_set(err, VFU_E_CHILD_EXIT, -1, -1, (uint64_t)st->code, 0);
            return false;
        }
        t->exits_per_client = true;
        t->by_design_status = st->code;
        vfu_proc_free(&t->proc);
        return start(t, err);
    }
    return true;
}

enum vfu_proc_state fz_target_poll(struct fz_target *t, int wait_ms)
{
    if (!t->server_cmd || !t->started) return VFU_PROC_RUNNING;
    if (wait_ms > 0) vfu_proc_wait(&t->proc, wait_ms);
    return vfu_proc_poll(&t->proc);
}

bool fz_target_ensure(struct fz_target *t, struct vfu_error *err)
{
    if (!t->server_cmd) return true;
    if (t->started && vfu_proc_poll(&t->proc) == VFU_PROC_RUNNING) return true;
    return fz_target_restart(t, err);
}

bool fz_target_restart(struct fz_target *t, struct vfu_error *err)
{
    if (!t->server_cmd) return true;
    if (t->started) {
        vfu_proc_stop(&t->proc, STOP_GRACE_MS);
        vfu_proc_free(&t->proc);
    }
    t->restarts++;
    /* a crashed server may leave its socket file behind; vfu_listen's
     * rule (a socket nobody listens on) lets the next one bind anyway */
    return start(t, err);
}

void fz_target_stop(struct fz_target *t)
{
    if (t->server_cmd && t->started) {
        vfu_proc_stop(&t->proc, STOP_GRACE_MS);
        vfu_proc_free(&t->proc);
        t->started = false;
    }
    vfu_sockdir_remove(&t->sd);
}

void fz_target_mark(struct fz_target *t)
{
    if (t->server_cmd && t->started) t->stderr_mark = vfu_proc_stderr_total(&t->proc);
}

const char *fz_target_new_stderr(struct fz_target *t, size_t *len)
{
    *len = 0;
    if (!t->server_cmd || !t->started) return "";
    size_t n;
    const char *s = vfu_proc_stderr(&t->proc, &n);
    uint64_t fresh = vfu_proc_stderr_total(&t->proc) - t->stderr_mark;
    if (fresh < n) {
        s += n - fresh;
        n = (size_t)fresh;
    }
    *len = n;
    return s;
}

int fz_target_fds(const struct fz_target *t)
{
    if (!t->server_cmd || !t->started) return -1;
    return vfu_proc_fd_count(&t->proc);
}

long fz_target_rss_kb(const struct fz_target *t)
{
    if (!t->server_cmd || !t->started) return -1;
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)vfu_proc_pid(&t->proc));
    FILE *f = fopen(path, "re");
    if (!f) return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

bool fz_target_responsive(struct fz_target *t)
{
    if (fz_target_poll(t, 0) != VFU_PROC_RUNNING) return false;
    return clean_session(t);
}

bool fz_target_fresh(struct fz_target *t, bool warm, struct vfu_error *err)
{
    if (!fz_target_restart(t, err)) return false;
    /* some servers break only for a client that is not their first */
    if (warm) {
        clean_session(t);
        if (t->exits_per_client) {
            vfu_proc_wait(&t->proc, 300);
            return fz_target_ensure(t, err);
        }
    }
    return true;
}
