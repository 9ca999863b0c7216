/* Starting and supervising the program under test (a vfio-user server, or
 * any program that follows the backend program conventions of QEMU's
 * docs/interop/vfio-user.rst): it is run from a shell-free command line in
 * its own process group, told where its socket is, watched until it listens,
 * and stopped with SIGTERM then SIGKILL.  How it ended is kept as a status
 * that says crash, exit or hang, together with the tail of its stderr.
 *
 * Nothing here waits without a bound, nothing started is left running or
 * unreaped once vfu_proc_free returns, and no descriptor of ours reaches the
 * program: it gets stdin from /dev/null, fds 1 and 2, and the socket fd when
 * one is passed.  When the program ends, whatever still runs in its process
 * group is SIGKILLed: nothing it started outlives it.  Its output is read by
 * a thread that has every signal blocked, and we never write to the
 * program, so SIGPIPE cannot reach us from here.
 *
 * SIGCHLD must not be set to SIG_IGN: the kernel would then reap the program
 * itself and the status would be VFU_PROC_LOST.  Functions on one vfu_proc
 * are for one thread at a time. */
#ifndef VFU_PROC_H
#define VFU_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vfu_error.h"

#define VFU_PROC_DEFAULT_STARTUP_MS 5000
#define VFU_PROC_MAX_STARTUP_MS 600000
#define VFU_PROC_DEFAULT_STDERR_CAP (64 * 1024)
#define VFU_PROC_MAX_STDERR_CAP (64 * 1024 * 1024)
#define VFU_PROC_DEFAULT_FD 3
#define VFU_PROC_MAX_FD 1023
/* after SIGKILL the kernel still has to tear the process down */
#define VFU_PROC_KILL_WAIT_MS 5000
/* after the end: output still in the pipe is read for at most this long */
#define VFU_PROC_DRAIN_MS 500

/* How the program learns its socket.  The conventions name --socket-path=PATH
 * and --fd=FDNUM ("file descriptor for UNIX domain socket") without saying
 * whether that fd listens or is already connected; implementations of the
 * vhost-user conventions do both, so both are offered. */
enum vfu_proc_sock {
    /* the program binds socket_path itself: --socket-path=PATH, or the
     * path wherever the command says {socket} */
    VFU_PROC_SOCK_PATH = 0,
    /* we bind and listen on socket_path before the program starts and pass
     * the listening socket as fd N: --fd=N, or N wherever the command says
     * {fd}; {socket} still gives the path.  Clients connect by the path as
     * usual.  The path is ours: it is removed when the program has ended. */
    VFU_PROC_SOCK_FD_LISTEN,
    /* one end of a socketpair becomes fd N, already connected to the other
     * end, which vfu_proc_take_conn_fd hands out; no path is involved */
    VFU_PROC_SOCK_FD_CONNECTED,
    /* the program is a client: it connects to socket_path, where the caller
     * listens already; told the path as for VFU_PROC_SOCK_PATH, ready as
     * soon as it runs, and the path is neither checked nor removed */
    VFU_PROC_SOCK_CLIENT,
};

/* When vfu_proc_start returns for VFU_PROC_SOCK_PATH (the fd modes are ready
 * as soon as the program runs, since the socket exists before it does). */
enum vfu_proc_ready {
    /* a listening socket is bound at socket_path, seen without connecting */
    VFU_PROC_READY_LISTENING = 0,
    /* a connect() to socket_path succeeds; the probe is closed at once, so
     * only for servers that survive a client leaving before VERSION (the
     * libvfio-user samples do not) */
    VFU_PROC_READY_CONNECT,
    /* as soon as the program runs */
    VFU_PROC_READY_NONE,
};

enum vfu_proc_stdout {
    VFU_PROC_STDOUT_CAPTURE = 0,    /* into the stderr capture, interleaved */
    VFU_PROC_STDOUT_TO_STDERR,      /* to our stderr (our stdout may be a report) */
    VFU_PROC_STDOUT_NULL,
};

/* All-zero fields take the defaults. */
struct vfu_proc_spec {
    const char *cmd;            /* split by lib/runtime/cmdline.h rules, run without a shell */
    const char *socket_path;    /* needed except for VFU_PROC_SOCK_FD_CONNECTED */
    enum vfu_proc_sock sock;
    int fd_num;                 /* N for the fd modes, 3..VFU_PROC_MAX_FD; 0: 3 */
    enum vfu_proc_ready ready;
    int startup_timeout_ms;     /* 0: VFU_PROC_DEFAULT_STARTUP_MS */
    size_t stderr_cap;          /* bytes of output tail kept; 0: the default */
    bool echo_stderr;           /* also copy its output to our stderr (while our
                                 * stderr blocks, so does the capture) */
    enum vfu_proc_stdout stdout_mode;
};

enum vfu_proc_state {
    VFU_PROC_NONE = 0,          /* never ran (start failed before the exec) */
    VFU_PROC_RUNNING,
    VFU_PROC_EXITED,            /* code: exit status */
    VFU_PROC_SIGNALED,          /* code: signal number */
    VFU_PROC_LOST,              /* ended, but its status was reaped elsewhere */
};

/* Why we sent SIGKILL, if we did. */
enum vfu_proc_kill {
    VFU_PROC_KILL_NONE = 0,
    VFU_PROC_KILL_HANG,         /* still running grace_ms after SIGTERM */
    VFU_PROC_KILL_STARTUP,      /* not ready within startup_timeout_ms */
    VFU_PROC_KILL_DISCARD,      /* vfu_proc_free or restart while it ran */
};

struct vfu_proc_status {
    enum vfu_proc_state state;
    int code;
    bool core_dumped;
    bool term_sent;             /* it was running when we sent SIGTERM */
    enum vfu_proc_kill kill;
    int grace_ms;               /* for KILL_HANG */
    int startup_ms;             /* for KILL_STARTUP */
    /* VFU_PROC_SOCK_PATH: the socket file still existed after the end.
     * The conventions ask servers to honour SIGTERM; whether that includes
     * removing the socket is the caller's policy. */
    bool socket_left;
};

/* The status classified for a report. */
enum vfu_proc_verdict {
    VFU_PROC_V_NONE,            /* never ran */
    VFU_PROC_V_RUNNING,
    VFU_PROC_V_STOPPED,         /* ended after our SIGTERM, by it or by exiting */
    VFU_PROC_V_EXITED,          /* exited on its own with status 0 */
    VFU_PROC_V_FAILED,          /* exited on its own with another status */
    VFU_PROC_V_CRASHED,         /* ended by a signal we did not send */
    VFU_PROC_V_HUNG,            /* ignored SIGTERM; we had to SIGKILL it */
    VFU_PROC_V_KILLED,          /* SIGKILLed by us without asking first */
    VFU_PROC_V_LOST,
};

struct vfu_proc_out;

/* Caller-allocated; its fields belong to lib/runtime/proc.c: use the functions. */
struct vfu_proc {
    bool active;                /* between vfu_proc_start and vfu_proc_free */
    struct vfu_proc_spec spec;  /* strings below are our copies */
    char *cmd;
    char *socket_path;
    char *why;                  /* last failure in words, or NULL */
    pid_t pid;                  /* the program's, kept after it ended; -1: none */
    bool reaped;
    int pidfd;                  /* -1 when the kernel offers none */
    int conn_fd;                /* FD_CONNECTED: our end, until taken */
    bool own_path;              /* FD_LISTEN: we bound socket_path... */
    dev_t path_dev;             /* ...and it is this inode */
    ino_t path_ino;
    struct vfu_proc_status status;
    struct vfu_proc_out *out;   /* output capture (lib/runtime/proc_out.h) */
};

/* Runs spec->cmd and waits until it is ready (see enum vfu_proc_ready).
 * p is overwritten, so one still running must be freed first.  After it,
 * whatever it returned, vfu_proc_free(p) must follow.  On
 * failure nothing is left running, and p keeps the status and output for
 * the report: BAD_VALUE (spec or command; vfu_proc_why says which), IO
 * (sys_errno: e.g. ENOENT when the program cannot be found, EADDRINUSE
 * when something already listens on socket_path), CHILD_EXIT (it ended
 * before it was ready), TIMEOUT (not ready in time; SIGKILLed). */
bool vfu_proc_start(struct vfu_proc *p, const struct vfu_proc_spec *spec, struct vfu_error *err);

/* Without waiting: RUNNING or how it ended (then status is final).  When it
 * has just ended, output still in the pipe is collected first (bounded by
 * VFU_PROC_DRAIN_MS; immediate unless something outside its group holds the
 * pipe). */
enum vfu_proc_state vfu_proc_poll(struct vfu_proc *p);
/* Waits up to timeout_ms (< 0 counts as 0) for it to end on its own; true
 * when it has ended. */
bool vfu_proc_wait(struct vfu_proc *p, int timeout_ms);
/* SIGTERM to its process group, up to grace_ms for it to end, then SIGKILL;
 * reaps it.  Has no effect once it has ended, so it may be called again. */
const struct vfu_proc_status *vfu_proc_stop(struct vfu_proc *p, int grace_ms);
/* stop(grace_ms), then start again with the same spec. */
bool vfu_proc_restart(struct vfu_proc *p, int grace_ms, struct vfu_error *err);
/* Kills (SIGKILL, no grace) what still runs, reaps it, releases
 * everything but the status; p may be passed again. */
void vfu_proc_free(struct vfu_proc *p);

const struct vfu_proc_status *vfu_proc_status(const struct vfu_proc *p);
pid_t vfu_proc_pid(const struct vfu_proc *p);
/* the failure of the last start, in words ("cannot run 'x': No such file
 * or directory"), or "" */
const char *vfu_proc_why(const struct vfu_proc *p);
/* FD_CONNECTED: our end of the connection; the caller owns it.  -1 when
 * there is none or it was taken already. */
int vfu_proc_take_conn_fd(struct vfu_proc *p);
/* Open descriptors of the running program (from /proc/PID/fd), -1 if it
 * is not running or they cannot be read. */
int vfu_proc_fd_count(const struct vfu_proc *p);

/* The program has begun to exit (or has ended): the kernel marks a
 * process exiting before it closes its descriptors, so a connection that
 * closed because its server is dying is told from one the server closed
 * on purpose without waiting.  Exit handlers (atexit, a sanitizer's leak
 * check) run before that mark.  vfu_proc_pid_exiting: the same for any
 * pid (false when /proc cannot tell). */
bool vfu_proc_exiting(const struct vfu_proc *p);
bool vfu_proc_pid_exiting(pid_t pid);
/* Open descriptors of any process, from /proc/PID/fd; -1 if unreadable. */
int vfu_proc_pid_fd_count(pid_t pid);

/* The captured output's tail (stdout too, with VFU_PROC_STDOUT_CAPTURE),
 * NUL-terminated, valid until the next call or vfu_proc_free; *len (len
 * may be NULL) gets its length.  Still there after a failed start. */
const char *vfu_proc_stderr(struct vfu_proc *p, size_t *len);
/* bytes of output seen, kept or not */
uint64_t vfu_proc_stderr_total(struct vfu_proc *p);

/* "killed by signal 11 (SIGSEGV, core dumped)", "exited with status 3",
 * "did not stop within 2000 ms of SIGTERM (hang); killed with SIGKILL".
 * Returns the length written, like snprintf but never more than n - 1. */
size_t vfu_proc_status_str(const struct vfu_proc_status *st, char *buf, size_t n);
enum vfu_proc_verdict vfu_proc_verdict(const struct vfu_proc_status *st);
const char *vfu_proc_verdict_name(enum vfu_proc_verdict v);

#endif
