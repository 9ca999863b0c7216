/* What a conformance run produced: one result per scenario, tied to the
 * spec section it checks.  The runner fills these; the reporters
 * (human, TAP, JUnit, JSON) only read them. */
#ifndef VFU_RESULT_H
#define VFU_RESULT_H

#include <stdbool.h>
#include <stddef.h>

enum vfu_level { VFU_LEVEL_MUST, VFU_LEVEL_SHOULD, VFU_LEVEL_INFO };

enum vfu_verdict {
    VFU_PASS,
    VFU_FAIL,      /* the server departed from the spec */
    VFU_SKIP,      /* the server lacks what the scenario needs; reason says what */
    VFU_XFAIL,     /* failed, and listed in --xfail */
    VFU_XPASS,     /* passed, but listed in --xfail: flagged */
    VFU_ERROR,     /* could not run (harness or environment problem) */
};

enum vfu_failure_kind {
    VFU_FK_NONE,
    VFU_FK_MISMATCH,    /* a reply differed from what the spec requires */
    VFU_FK_VIOLATION,   /* the server sent a message that breaks the codec rules */
    VFU_FK_TIMEOUT,     /* no answer in time */
    VFU_FK_CLOSED,      /* the server closed the connection unexpectedly */
    VFU_FK_CRASH,       /* the server died by a signal */
    VFU_FK_EXIT,        /* the server exited */
    VFU_FK_HANG,        /* the server stopped answering and did not stop on SIGTERM */
};

struct vfu_result {
    const char *id;           /* DMA_MAP.overlap.EEXIST */
    const char *section;      /* VFIO_USER_DMA_MAP */
    const char *title;
    const char *rule;         /* the spec rule it rests on, in our words, or NULL */
    const char *file;         /* scenario file and line of the failing step */
    int line;
    enum vfu_level level;     /* of the finding: the scenario's, or INFO for a preference */
    enum vfu_level scenario_level;   /* the scenario's own */
    bool preference;          /* failed only in an errno other than the preferred one */
    enum vfu_verdict verdict;
    enum vfu_failure_kind kind;
    char reason[512];         /* "step 3: expected error EEXIST, got a success reply" */
    char *server_stderr;      /* tail of the server's stderr on crash/exit/hang, or NULL (owned) */
    char *trace_path;         /* CBOR trace of this scenario, or NULL (owned) */
    double seconds;
};

/* Why a run ended before its last scenario (the scenarios it did not
 * reach are SKIP results whose reason starts "not run: "). */
enum vfu_run_stop {
    VFU_RUN_COMPLETE = 0,
    VFU_RUN_HOPELESS,         /* the server could not be judged further: the
                               * opening VERSION failed (after one restart),
                               * it died at every connection, or it stopped
                               * answering scenario after scenario */
    VFU_RUN_TIME_LIMIT,       /* --max-seconds */
    VFU_RUN_INTERRUPTED,      /* SIGINT, SIGTERM or SIGHUP */
};

struct vfu_run {
    const char *server;       /* command line or socket path */
    bool judged_client;       /* vfu-conform --client: server is the client's command,
                               * and server_stderr its output */
    enum vfu_run_stop stop;
    char stop_reason[1024];   /* the one cause in words, "" when complete */
    /* per-scenario server fd checks were off, and why ("" when on) */
    char fd_checks_off[256];
    const char *tool_version;
    /* the capabilities the probe session negotiated, as JSON ("" unknown) */
    char caps[1024];
    struct vfu_result *results;
    size_t n;
    double seconds;           /* whole run */
    double started;           /* wall clock at the start, s since the epoch; 0: unknown */
    unsigned counts[VFU_ERROR + 1];   /* vfr_run_tally fills them */
};

/* "PASS", "FAIL", ...; "MUST", ...; "mismatch", ... ("?" out of range) */
const char *vfr_verdict_name(enum vfu_verdict v);
const char *vfr_level_name(enum vfu_level l);
const char *vfr_failure_kind_name(enum vfu_failure_kind k);

/* A FAIL at MUST or SHOULD level.  INFO results are reported and never fail
 * the run; an XPASS is flagged in every report but does not fail it either
 * (the --xfail list is stale, the server is not wrong). */
bool vfr_result_fails_run(const struct vfu_result *r);

/* counts by verdict from the results (the reporters use this, not
 * run->counts, so a report always agrees with its own lines) */
void vfr_run_count(const struct vfu_run *run, unsigned counts[VFU_ERROR + 1]);
/* fills run->counts */
void vfr_run_tally(struct vfu_run *run);

/* "complete", "server hopeless", "time limit", "interrupted" */
const char *vfr_run_stop_name(enum vfu_run_stop s);

/* The process exit status for a run (an interrupted one exits with the
 * signal's 128 + N instead, see lib/runtime/stopsig.h):
 *   1  the server was hopeless (VFU_RUN_HOPELESS), or a result fails the
 *      run (vfr_result_fails_run)
 *   2  it could not run: any ERROR, no scenario ran (none at all, or
 *      every one skipped), or the time limit cut it short with no failure
 *   0  otherwise: passes, skips, XFAILs, XPASSes and INFO failures */
int vfr_run_exit_status(const struct vfu_run *run);

/* frees server_stderr and trace_path */
void vfr_result_release(struct vfu_result *r);

#endif
