/* Wire traces: every message a session sent and received, with its fds by
 * kind and its timing, kept in memory up to a bound and written as one CBOR
 * document; and a reader that takes such a file back, trusting nothing in
 * it (a trace is input like any other: it may be cut short, edited or
 * hostile).
 *
 * The document (CBOR, RFC 8949; definite lengths only; text in UTF-8):
 *
 *   {
 *     "format":  "vfu-trace",
 *     "version": 1,
 *     "meta": {
 *       "tool":     text,   the program and its version that recorded it
 *       "start":    text,   wall clock when recording began, RFC 3339 UTC
 *                           ("2024-05-01T12:00:00.123456Z")
 *       "cap":      uint,   the recorder's bound on encoded events (bytes)
 *       "scenario": text,   optional: scenario id
 *       "server":   text,   optional: server command line or socket path
 *       "caps":     text    optional: negotiated capabilities, as JSON
 *     },
 *     "events": [
 *       {
 *         "t":     uint,    ns since recording began (monotonic clock;
 *                           never decreasing from one event to the next)
 *         "dir":   "tx" | "rx"   sent by the recording side, or received
 *         "chan":  0 | 1,   0: main socket, 1: twin socket
 *         "bytes": bstr,    the message as it went over the wire, or the
 *                           part that did before a failure (see "err")
 *         "fds":   [ { "kind": "memfd"|"file"|"eventfd"|"socket"|"other",
 *                      "size": uint  (memfd and file only) } ... ],
 *                           optional, empty when absent; the fds that
 *                           went with the message, by kind (their numbers
 *                           mean nothing in another process)
 *         "err":   {        optional: the message failed part way
 *                   "code":  text, vfu_errc_name() ("EOF", "TIMEOUT",
 *                                  "SIZE_LIMIT", ...),
 *                   "got":   uint, "want": uint,
 *                   "errno": uint  (optional, for "IO"),
 *                   "cmd":   uint  (optional, when the header was known) }
 *       } ...
 *     ],
 *     "truncated": {        optional: the bound was reached; nothing was
 *                           recorded from then on
 *       "t": uint,          when the first event was dropped
 *       "events": uint,     how many were dropped
 *       "bytes": uint,      message bytes they held
 *       "reason": "cap" | "events" | "nomem"
 *     }
 *   }
 *
 * "format" and "version" are the document's first two keys, so that nothing
 * else is read on a guess.  The reader rejects: other formats and versions, anything but the types
 * above, duplicate or missing required keys, indefinite lengths, tags,
 * floats, text with a NUL inside or ill-formed UTF-8, nesting deeper than VFU_TRACE_MAX_DEPTH,
 * more than VFU_TRACE_MAX_EVENTS events or VFU_MAX_FDS fds on one event,
 * files above VFU_TRACE_MAX_FILE, and trailing bytes.  Unknown keys are
 * skipped (bounded like the rest).  Nothing is allocated from a size the
 * file declares before that many bytes are known to be there.
 *
 * Recorders are for one thread at a time (both hooks of one recorder
 * included), like the connections they watch. */
#ifndef VFU_TRACE_H
#define VFU_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfu_transport.h"
#include "vfu_error.h"

#define VFU_TRACE_FORMAT "vfu-trace"
#define VFU_TRACE_VERSION 1
#define VFU_TRACE_DEFAULT_CAP (16u << 20)   /* encoded events kept */
#define VFU_TRACE_MAX_CAP (64u << 20)       /* largest cap a recorder takes */
#define VFU_TRACE_MAX_EVENTS (1u << 20)
#define VFU_TRACE_MAX_META (64u << 10)      /* each metadata text, bytes */
#define VFU_TRACE_MAX_FILE (VFU_TRACE_MAX_CAP + (1u << 20))
#define VFU_TRACE_MAX_DEPTH 8

enum { VFU_TRACE_MAIN = 0, VFU_TRACE_TWIN = 1, VFU_TRACE_NCHAN = 2 };

enum vfu_fd_kind { VFU_FDK_OTHER, VFU_FDK_MEMFD, VFU_FDK_FILE, VFU_FDK_EVENTFD, VFU_FDK_SOCKET };

/* "memfd", "file", ...; NULL for a value out of range */
const char *vfu_fd_kind_name(enum vfu_fd_kind k);
/* what fd is; *size gets the file size for memfd and file, else 0 */
enum vfu_fd_kind vfu_fd_kind_of(int fd, uint64_t *size);

/* ------------------------------------------------------------ recorder --- */

struct vfu_tracer;

/* Strings are copied (each cut at VFU_TRACE_MAX_META bytes, ill-formed
 * UTF-8 replaced); any may be NULL. */
struct vfu_trace_meta {
    const char *tool;
    const char *scenario;
    const char *server;
    const char *caps;
};

/* cap: bound on the encoded events in bytes; 0 gives VFU_TRACE_DEFAULT_CAP,
 * above VFU_TRACE_MAX_CAP gives that.  The clock starts here.  NULL when
 * out of memory. */
struct vfu_tracer *vfu_tracer_new(const struct vfu_trace_meta *m, size_t cap);
void vfu_tracer_free(struct vfu_tracer *t);

/* The hook for channel chan (VFU_TRACE_MAIN or VFU_TRACE_TWIN), for
 * struct vfu_conn.trace or vfu_client_opts.trace / trace_twin; valid as
 * long as t.  Any other chan gives a hook that records nothing. */
struct vfu_trace_hook vfu_tracer_hook(struct vfu_tracer *t, unsigned chan);

/* What the hook does: records one event (fds are looked at, by kind, now). */
void vfu_tracer_record(struct vfu_tracer *t, unsigned chan, enum vfu_trace_dir dir,
                       const uint8_t *buf, size_t len, const int *fds, unsigned nfds,
                       const struct vfu_error *err);

/* The negotiated capabilities, once known (replaces an earlier value). */
bool vfu_tracer_set_caps(struct vfu_tracer *t, const char *json);

size_t vfu_tracer_count(const struct vfu_tracer *t);    /* events kept */
bool vfu_tracer_truncated(const struct vfu_tracer *t);

/* The whole document in one malloc'd buffer (for tests and pipes). */
bool vfu_tracer_encode(const struct vfu_tracer *t, uint8_t **out, size_t *len);
/* Writes the document to path (created or replaced, mode 0644).  On
 * failure err is VFU_E_IO (sys_errno) or VFU_E_NOMEM, and no partial file
 * is left at path. */
bool vfu_tracer_write(const struct vfu_tracer *t, const char *path, struct vfu_error *err);

/* -------------------------------------------------------------- reader --- */

struct vfu_trace_fd {
    enum vfu_fd_kind kind;
    uint64_t size;
};

struct vfu_trace_event {
    uint64_t t_ns;
    enum vfu_trace_dir dir;
    unsigned chan;
    uint8_t *bytes;             /* owned; NULL when len is 0 */
    size_t len;
    struct vfu_trace_fd *fds;   /* owned; NULL when nfds is 0 */
    unsigned nfds;
    bool has_err;
    struct vfu_error err;       /* code, got, want, sys_errno, cmd (-1: none) */
};

struct vfu_trace {
    unsigned version;
    char *tool, *start;         /* always there once read */
    char *scenario, *server, *caps;   /* NULL when absent */
    uint64_t cap;
    struct vfu_trace_event *ev;
    size_t n;
    bool truncated;
    uint64_t trunc_t, dropped_events, dropped_bytes;
    char trunc_reason[8];       /* "cap", "events", "nomem" */
};

/* Parses a whole document.  On failure t is left empty (nothing to
 * release, though releasing is harmless) and why says where and what:
 * "events[3].fds[0].kind: unknown fd kind". */
bool vfu_trace_parse(const uint8_t *buf, size_t len, struct vfu_trace *t, char *why, size_t whyn);
/* Reads path (at most VFU_TRACE_MAX_FILE bytes) and parses it. */
bool vfu_trace_load(const char *path, struct vfu_trace *t, char *why, size_t whyn);
void vfu_trace_release(struct vfu_trace *t);

#endif
