/* `vfu-conform replay TRACE`: show a recorded wire trace, or play its
 * client side again against a server to reproduce what went wrong.
 *
 * Reproducing sends every message the client sent on the main socket, in
 * the recorded order, with fresh fds of the recorded kinds (a memfd of the
 * recorded size, an eventfd, one end of a new socket pair, /dev/null for
 * anything else), and after each one reads what the server sent next and
 * compares it with the recording: header (command, type, flags, error) and
 * payload.  Message ids are the recorded ones, so a correct server answers
 * byte for byte the same unless its state differs.  The twin socket's
 * traffic is not replayed: a server that sends its DMA there will see it
 * unanswered, and the report says so. */
#ifndef VFU_REPLAY_H
#define VFU_REPLAY_H

#include <stddef.h>
#include <stdio.h>

#include "transport.h"

/* One line per event: time, direction, channel, summary, fds, failure.
 * 0, or -1 with why filled (the file is unreadable or not a trace). */
int vfu_replay_print(const char *path, FILE *out, char *why, size_t whyn);

/* Plays the trace's client side over c (connected to the server, nothing
 * sent yet).  Every wait is bounded by timeout_ms.  Returns 0 when the
 * server answered as recorded, 1 when it diverged (each divergence
 * printed on out with both messages summarized), -1 with why filled when
 * the trace could not be read or replay could not proceed. */
int vfu_replay_run(const char *path, struct vfu_conn *c, FILE *out, int timeout_ms, char *why,
                   size_t whyn);

#endif
