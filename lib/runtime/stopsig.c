/* Signals that stop a run, and what must not outlive it (lib/runtime/stopsig.h).
 * Everything the handler reads is in static slots whose state is an atomic
 * int: a slot is filled first and published by its state, so the handler
 * never sees half a path. */
#include "stopsig.h"
#include "vfu_transport.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

static int pipe_r = -1, pipe_w = -1;
static volatile sig_atomic_t got_sig;
static volatile sig_atomic_t deadline_hit;
static volatile sig_atomic_t orderly_mode;
static volatile sig_atomic_t in_cleanup;

static atomic_int pgrps[VFU_STOPSIG_MAX_PGRPS];   /* 0: free */

struct path_slot {
    atomic_int state;          /* 0 free, 1 file, 2 directory */
    atomic_uint seq;           /* registration order: newest removed first */
    char path[VFU_STOPSIG_MAX_PATH];
};
static struct path_slot paths[VFU_STOPSIG_MAX_PATHS];
static atomic_uint next_seq;

void vfu_stopsig_cleanup(void)
{
    for (int i = 0; i < VFU_STOPSIG_MAX_PGRPS; i++) {
        int g = atomic_exchange(&pgrps[i], 0);
        if (g > 0) kill(-g, SIGKILL);
    }
    /* newest first: files in a directory go before the directory */
    for (;;) {
        int best = -1;
        unsigned bs = 0;
        for (int i = 0; i < VFU_STOPSIG_MAX_PATHS; i++) {
            if (!atomic_load(&paths[i].state)) continue;
            unsigned s = atomic_load(&paths[i].seq);
            if (best < 0 || s > bs) best = i, bs = s;
        }
        if (best < 0) break;
        int st = atomic_exchange(&paths[best].state, 0);
        if (st == 2) rmdir(paths[best].path);
        else if (st == 1) unlink(paths[best].path);
    }
}

static void on_signal(int sig)
{
    int saved = errno;
    if (sig == SIGALRM) {
        deadline_hit = 1;
        if (!got_sig) got_sig = SIGALRM;
    } else if (got_sig && got_sig != SIGALRM) {
        /* asked twice: no more waiting for the program to tidy up */
        if (!in_cleanup) {
            in_cleanup = 1;
            vfu_stopsig_cleanup();
        }
        _exit(128 + sig);
    } else {
        got_sig = sig;
        if (!orderly_mode) {
            in_cleanup = 1;
            vfu_stopsig_cleanup();
            _exit(128 + sig);
        }
    }
    if (pipe_w >= 0) {
        char b = 1;
        /* non-blocking: a full pipe already says it */
        ssize_t r = write(pipe_w, &b, 1);
        (void)r;
    }
    errno = saved;
}

bool vfu_stopsig_install(bool orderly)
{
    orderly_mode = orderly;
    if (pipe_r < 0) {
        int p[2];
        if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) return false;
        pipe_r = p[0];
        pipe_w = p[1];
        /* the transport's waits end on a stop too */
        vfu_transport_set_stop(pipe_r, vfu_stopsig_pending);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* one handler at a time: a second signal waits for the first to return */
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaddset(&sa.sa_mask, SIGHUP);
    sigaddset(&sa.sa_mask, SIGALRM);
    /* no SA_RESTART: a blocking call returns EINTR and looks again */
    sa.sa_flags = 0;
    const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGALRM};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (sigaction(sigs[i], &sa, NULL) < 0) return false;
    return true;
}

void vfu_stopsig_deadline(unsigned seconds)
{
    alarm(seconds);
}

int vfu_stopsig_fd(void)
{
    return pipe_r;
}

int vfu_stopsig_pending(void)
{
    return got_sig;
}

bool vfu_stopsig_deadline_hit(void)
{
    return deadline_hit;
}

int vfu_stopsig_exit_status(void)
{
    int s = got_sig;
    return s && s != SIGALRM ? 128 + s : 0;
}

const char *vfu_stopsig_name(void)
{
    switch (got_sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    case SIGALRM: return "the time limit";
    default: return "";
    }
}

void vfu_stopsig_reset(void)
{
    got_sig = 0;
    deadline_hit = 0;
    if (pipe_r >= 0) {
        char buf[64];
        while (read(pipe_r, buf, sizeof buf) > 0) {
        }
    }
}

bool vfu_stopsig_add_pgrp(pid_t pgid)
{
    if (pgid <= 0) return false;
    for (int i = 0; i < VFU_STOPSIG_MAX_PGRPS; i++) {
        int free_slot = 0;
        if (atomic_compare_exchange_strong(&pgrps[i], &free_slot, (int)pgid)) return true;
    }
    return false;
}

void vfu_stopsig_del_pgrp(pid_t pgid)
{
    for (int i = 0; i < VFU_STOPSIG_MAX_PGRPS; i++) {
        int want = (int)pgid;
        if (atomic_compare_exchange_strong(&pgrps[i], &want, 0)) return;
    }
}

bool vfu_stopsig_add_path(const char *path, bool dir)
{
    size_t n = strlen(path);
    if (!n || n >= VFU_STOPSIG_MAX_PATH) return false;
    for (int i = 0; i < VFU_STOPSIG_MAX_PATHS; i++) {
        if (atomic_load(&paths[i].state)) continue;
        /* one thread registers: a free slot stays free until we publish */
        memcpy(paths[i].path, path, n + 1);
        atomic_store(&paths[i].seq, atomic_fetch_add(&next_seq, 1) + 1);
        atomic_store(&paths[i].state, dir ? 2 : 1);
        return true;
    }
    return false;
}

void vfu_stopsig_del_path(const char *path)
{
    for (int i = 0; i < VFU_STOPSIG_MAX_PATHS; i++) {
        if (atomic_load(&paths[i].state) && !strcmp(paths[i].path, path)) {
            atomic_store(&paths[i].state, 0);
            return;
        }
    }
}
