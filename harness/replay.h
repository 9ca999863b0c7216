/* `vfu-conform replay TRACE`: a recorded session (lib/runtime/trace.h, recorded on
 * the client side) sent again to a server, and `replay --print TRACE`.
 *
 * Replay walks the events in their recorded order:
 *   tx  the recorded bytes are sent on their channel as they are, with
 *       fresh fds of the recorded kinds: memfd (and file) -> a memfd of the
 *       recorded size (zero-filled: contents are not recorded), eventfd ->
 *       an eventfd, socket -> one end of a new socketpair, other ->
 *       /dev/null.  The first socket sent on the main channel becomes the
 *       twin channel (we keep its other end), as with twin_socket.
 *   rx  one message is awaited on its channel (bounded by the timeout) and
 *       compared with the recording: header fields by their spec names,
 *       then length and payload bytes, then fds by count, kind and size.
 *       A recorded failure (the server closed, a message cut short) is
 *       expected to happen again the same way.
 * Message ids are the recorded ones, and the server's own requests (DMA on
 * either channel) are answered with the recorded replies, so a server that
 * behaves the same answers byte for byte the same.  Replay stops at the
 * first divergence and shows both messages dissected (include/vfu/vfu_dissect.h).
 * Recorded gaps in time are not reproduced, and guest memory contents are
 * not recorded: a server whose answers depend on either may diverge.  A
 * truncated trace is replayed as far as it goes. */
#ifndef VFU_REPLAY_H
#define VFU_REPLAY_H

#include <stdio.h>

#include "proc.h"
#include "trace.h"
#include "vfu_transport.h"

enum vfu_replay_outcome {
    VFU_REPLAY_SAME,        /* every recorded message came back the same */
    VFU_REPLAY_DIVERGED,    /* a message differed, or failed differently */
    VFU_REPLAY_CLOSED,      /* the server closed the connection where the trace goes on */
    VFU_REPLAY_TIMEOUT,     /* a recorded message did not come in time */
    VFU_REPLAY_BAD_TRACE,   /* unreadable, or not replayable as recorded */
    VFU_REPLAY_LOCAL,       /* our side failed (creating an fd, sending) */
};

#define VFU_REPLAY_DEFAULT_TIMEOUT_MS 2000

struct vfu_replay_opts {
    int timeout_ms;          /* per awaited message; 0: the default */
    struct vfu_proc *proc;   /* optional: the server, to say how it ended
                              * when it closes or goes silent */
};

/* "same", "diverged", ... */
const char *vfr_replay_outcome_name(enum vfu_replay_outcome o);
/* 0 same; 1 the server behaved differently (diverged, closed, timeout);
 * 2 could not replay (bad trace, our own failure) */
int vfr_replay_exit_status(enum vfu_replay_outcome o);

/* Dumps the trace: metadata, then one line per event with its time, the
 * gap since the event before, direction, channel, a one-line summary
 * (vfu_summarize), fds and failure; the truncation marker last.  Every
 * string from the file is escaped for a terminal.  0, or -1 with why
 * filled when the trace cannot be read. */
int vfr_replay_print(const char *path, FILE *out, char *why, size_t whyn);
void vfr_replay_print_trace(FILE *out, const struct vfu_trace *t);

/* Replays path over c, a connection to the server on which nothing has
 * been sent yet.  c's limits are raised, if needed, to take the largest
 * recorded message, and its timeout is set.  What happened (the first
 * divergence with both messages, the verdict) goes to out; o may be NULL.
 * With o->proc, a server that closes or goes silent is said to have
 * crashed, exited or to be still running. */
enum vfu_replay_outcome vfr_replay_file(const char *path, struct vfu_conn *c, FILE *out,
                                        const struct vfu_replay_opts *o);
enum vfu_replay_outcome vfr_replay_trace(const struct vfu_trace *t, struct vfu_conn *c, FILE *out,
                                         const struct vfu_replay_opts *o);
/* vfr_replay_file without a process: 0 the server answered as recorded,
 * 1 it did not (diverged, closed, timed out), -1 with why filled when
 * replay could not proceed (unreadable trace, our own failure). */
int vfr_replay_run(const char *path, struct vfu_conn *c, FILE *out, int timeout_ms, char *why,
                   size_t whyn);

#endif
