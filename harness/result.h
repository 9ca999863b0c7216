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
    const char *file;         /* scenario file and line of the failing step */
    int line;
    enum vfu_level level;
    enum vfu_verdict verdict;
    enum vfu_failure_kind kind;
    char reason[512];         /* "step 3: expected error EEXIST, got a success reply" */
    char *server_stderr;      /* tail of the server's stderr on crash/exit/hang, or NULL (owned) */
    char *trace_path;         /* CBOR trace of this scenario, or NULL (owned) */
    double seconds;
};

struct vfu_run {
    const char *server;       /* command line or socket path */
    const char *tool_version;
    struct vfu_result *results;
    size_t n;
    double seconds;           /* whole run */
    unsigned counts[VFU_ERROR + 1];
};

#endif
