/* Stopping cleanly on SIGINT, SIGTERM and SIGHUP (and on a run's time
 * limit), for every program that starts a program under test: vfu-conform,
 * its replay, the fuzzers.
 *
 * The first signal only records itself: a flag, and a byte in a self-pipe
 * whose read end (vfu_stopsig_fd) the waits of lib/ (transport, client,
 * process start) poll beside their own fd, so a wait of any length ends at
 * once.  The program then stops as it likes (stops its server, writes what
 * it has, marked as interrupted) and exits with vfu_stopsig_exit_status().
 * A second signal, or the first one when installed without `orderly`,
 * cleans up in the handler itself (async-signal-safe: SIGKILL to every
 * registered process group, unlink/rmdir of every registered path, in the
 * reverse order of registration) and _exits with 128 + the signal.
 *
 * The registry: lib/runtime/proc.c registers the process group of each program it
 * starts (from the spawn to the reap) and the socket path it binds; a
 * program registers its temporary directories and files.  Entries are
 * removed when the program has cleaned them up itself.  Slots are fixed
 * (VFU_STOPSIG_MAX_*): nothing is allocated, so the handler can read them.
 * Registration works whether or not the handlers are installed (so
 * vfu_stopsig_cleanup can be called on any exit path).
 *
 * One program, one set of handlers: not for libraries' private use. */
#ifndef VFU_STOPSIG_H
#define VFU_STOPSIG_H

#include <stdbool.h>
#include <sys/types.h>

#define VFU_STOPSIG_MAX_PGRPS 64
#define VFU_STOPSIG_MAX_PATHS 32
#define VFU_STOPSIG_MAX_PATH 256

/* Installs the handlers for SIGINT, SIGTERM, SIGHUP and SIGALRM (the time
 * limit) with sigaction, without SA_RESTART.  orderly: the first signal is
 * only recorded (see above); otherwise it cleans up and exits at once.
 * false with errno when the pipe or a handler cannot be set up. */
bool vfu_stopsig_install(bool orderly);
/* The time limit: after `seconds` (0: none), a stop as if by a signal,
 * told apart by vfu_stopsig_deadline_hit.  Uses alarm(2). */
void vfu_stopsig_deadline(unsigned seconds);

/* the read end of the self-pipe, readable once a stop is asked; -1 before
 * vfu_stopsig_install */
int vfu_stopsig_fd(void);
/* the signal that asked to stop (SIGINT, SIGTERM, SIGHUP, SIGALRM for the
 * time limit), 0 while none has */
int vfu_stopsig_pending(void);
bool vfu_stopsig_deadline_hit(void);
/* 128 + the signal (130 SIGINT, 143 SIGTERM, 129 SIGHUP); 0 for no signal
 * or the time limit */
int vfu_stopsig_exit_status(void);
/* "SIGINT", "SIGTERM", "SIGHUP", "the time limit" or "" */
const char *vfu_stopsig_name(void);
/* forgets a recorded stop (for tests, and after a handled time limit) */
void vfu_stopsig_reset(void);

/* Registry; false when every slot is taken (then the caller cleans up on
 * its own paths only). */
bool vfu_stopsig_add_pgrp(pid_t pgid);
void vfu_stopsig_del_pgrp(pid_t pgid);
/* dir: rmdir, else unlink; the path is copied (at most
 * VFU_STOPSIG_MAX_PATH - 1 bytes, else false) */
bool vfu_stopsig_add_path(const char *path, bool dir);
void vfu_stopsig_del_path(const char *path);
/* Async-signal-safe: SIGKILL to every registered group, then the paths
 * removed, newest first; the registry is emptied. */
void vfu_stopsig_cleanup(void);

#endif
