/* vfu-conform --client CMD: the client under test is run once per server
 * personality (cjpersona.c), each time against the reference server in a
 * thread of ours with the judge (cjudge.h) on the wire between them.  The
 * run's results are the judge's checks over all sessions, then one result
 * per personality (what the client was expected to do with it), in a
 * struct vfu_run that the same reporters print as a server run. */
#ifndef VFU_CJRUN_H
#define VFU_CJRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "result.h"
#include "srv.h"

struct cj_session;

enum cj_act {
    CJ_ACT_NONE,
    CJ_ACT_ERRORS,       /* every reply from the client's Nth request on is an error */
    CJ_ACT_SLOW,         /* every reply waits first */
    CJ_ACT_DISCONNECT,   /* the connection is closed instead of the Nth reply */
};

struct cj_persona {
    const char *name;      /* "default", "errors.EINVAL" */
    const char *title;
    const char *rule;      /* what the client is expected to do, and the spec's word for it */
    enum vfu_level level;
    void (*server)(struct srv_opts *o);   /* NULL: the defaults */
    enum cj_act act;
    int err;               /* CJ_ACT_ERRORS: the errno */
    unsigned nth;          /* CJ_ACT_ERRORS / DISCONNECT: from the client's nth request */
    bool same_as_default;  /* expected: the same commands as with the default server */
};
extern const struct cj_persona vfh_cj_personas[];
extern const size_t vfh_cj_npersonas;

struct cj_run_opts {
    const char *client_cmd;
    int timeout_ms;         /* each wait for the client; 0: the default */
    int idle_ms;            /* quiet this long after our last answer: its session is over */
    bool echo_output;       /* copy the client's stderr to ours */
    const char *tool;
    const char *const *only, *const *skip;   /* id globs, as for server runs */
    size_t nonly, nskip;
    const char *const *xfail;
    size_t nxfail;
    const char *trace_dir;  /* a CBOR trace of each session with a failure, or NULL */
    bool trace_all;         /* ... of every session */
};

#define CJ_DEFAULT_IDLE_MS 1000
#define CJ_MAX_CONNS 4     /* connections of one session (a client that reconnects) */

/* Runs every personality; false when the run could not happen at all
 * (no socket, the client never connected to the default personality):
 * why says it.  Otherwise run->results hold the checks, then the
 * personalities (owned by run; vfh_run_free releases them). */
bool vfh_cj_run(const struct cj_run_opts *o, struct vfu_run *run, char *why, size_t whylen);

/* the ids, levels and titles of the checks and personalities (--list --client) */
void vfh_cj_list(FILE *out);

#endif
