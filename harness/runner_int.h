/* Inside the runner: the target server, the probe's findings, variables,
 * one scenario's session, and how a step reports its outcome. */
#ifndef VFU_RUNNER_INT_H
#define VFU_RUNNER_INT_H

#include <stdarg.h>

#include "client.h"
#include "proc.h"
#include "runner.h"

/* ------------------------------------------------------------ variables */

struct rvar {
    char name[SCN_MAX_NAME];
    uint64_t num;
    uint8_t *bytes;            /* owned; NULL: the number's 8 bytes */
    uint32_t len;
};

#define RVARS_MAX 1024
struct rvars {
    struct rvar *v;
    size_t n, cap;
};
void rvars_clear(struct rvars *vs);
struct rvar *rvars_find(const struct rvars *vs, const char *name);
/* sets a number (bytes NULL) or bytes (num from their first 8, little end) */
bool rvars_set(struct rvars *vs, const char *name, uint64_t num, const uint8_t *bytes, uint32_t len);

/* ------------------------------------------------------------- outcome */

/* What a step (or the scenario around it) came to. */
struct outcome {
    enum vfu_verdict verdict;      /* PASS until something says otherwise */
    enum vfu_failure_kind kind;
    char reason[512];
    int line;
};
void out_set(struct outcome *o, enum vfu_verdict v, enum vfu_failure_kind k, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---------------------------------------------------------------- probe */

struct probe {
    bool ok;
    enum vfu_failure_kind kind;    /* why it failed */
    char reason[400];
    bool twin, write_multiple, migration, dma_logging, reset, io_fds;
};

/* ----------------------------------------------------------------- run */

struct runner {
    const struct vfu_runner_opts *o;
    int timeout_ms;
    bool server;                   /* we start it */
    struct vfu_proc proc;
    struct vfu_proc_spec spec;
    char dir[64];                  /* our temporary directory for the socket */
    char sock[128];
    const char *path;              /* where clients connect */
    bool server_dead_seen;         /* its end was attributed already */
    unsigned failed_starts;
    struct probe probe;
    struct rvars vars;             /* from the probe */
    bool fd_armed;                 /* runner_fdcheck.c: counted before this session */
    int fd_base;
    pid_t fd_pid;
};

/* one scenario's connection and what it made */
struct tick {
    uint64_t ticket;
    int step;
    bool sent;                     /* false: the send failed because the peer was gone */
    struct vfu_error send_err;
};

#define NO_STEP 0x7fffffff

struct named_fd { const char *name; int fd; };
struct named_map { const char *name; int region; };

struct sess {
    struct runner *R;
    const struct scn_scenario *sc;
    struct vfu_client *c;
    struct tick q[SCN_MAX_PENDING];
    unsigned nq;
    struct named_map maps[VFU_CLIENT_MAX_REGIONS];
    unsigned nmaps;
    struct named_fd efds[128];
    unsigned nefds;
    unsigned long accounted[VFU_V__COUNT];   /* violations an expect violation took */
    int viol_first_step[VFU_V__COUNT];       /* step where unaccounted ones were first
                                              * seen: -1 negotiation, NO_STEP none */
    struct rvars vars;             /* the scenario's own */
    int step;                      /* index of the step running; -1 negotiation */
    bool saw_close;
    struct vfu_trace_hook trace, trace_twin;   /* given to every client of the session */
};

/* how long a server may take to crash after a session ends, and still be
 * seen to before the next session starts */
#define LATE_CRASH_MS 5

/* ---- target (runner_target.c) ---- */
bool target_start(struct runner *R, char *why, size_t n);
void target_stop(struct runner *R);
/* server mode: running, restarted if needed; false (o says why) if not */
bool target_ready(struct runner *R, struct outcome *o);
/* After a failure of kind CLOSED/TIMEOUT/ERROR in server mode: did the
 * server crash, exit or hang?  Rewrites o when it did; on a timeout it
 * stops the server (the next scenario starts a fresh one). */
void target_judge(struct runner *R, struct outcome *o, bool timed_out);
/* the server ended by a signal since last asked (and not attributed yet) */
bool target_crashed(struct runner *R, int wait_ms, char *what, size_t n);
char *target_stderr_tail(struct runner *R);
bool target_restart(struct runner *R, struct outcome *o);
/* server mode: SIGTERM, as the backend program conventions have a server
 * honour it; false (o failed, kind HANG) when it had to be killed */
bool target_terminate(struct runner *R, struct outcome *o);

/* ---- descriptors the server keeps after a session (runner_fdcheck.c) ---- */
void fdcheck_begin(struct runner *R);
/* fails a passing o when the server holds more fds than before the session */
void fdcheck_end(struct runner *R, struct outcome *o);

/* ---- sessions (runner_sess.c) ---- */
bool sess_open(struct sess *s, const struct scn_negotiate *neg, struct outcome *o);
void sess_close(struct sess *s);
/* unaccounted violations: fails o with the first */
bool sess_check_violations(struct sess *s, struct outcome *o);
void sess_note_violations(struct sess *s);

/* ---- values (runner_vars.c) ---- */
/* false: o says why (SKIP when the device lacks it, FAIL after a failed probe) */
bool eval(struct sess *s, const struct scn_value *v, uint64_t *out, struct outcome *o);
/* bytes of a value: points into the scenario or a variable, or *zero for zero:N */
bool eval_bytes(struct sess *s, const struct scn_bytes *b, const uint8_t **p, uint32_t *n,
                struct outcome *o);
const struct rvar *lookup(struct sess *s, const char *name);

/* ---- probe (runner_probe.c) ---- */
void probe_run(struct runner *R);
/* false: o says why the scenario cannot run */
bool probe_requires(struct runner *R, const struct scn_scenario *sc, struct outcome *o);

/* ---- steps (runner_step.c, runner_send.c, runner_expect.c) ---- */
bool step_run(struct sess *s, const struct scn_step *st, struct outcome *o);
bool step_send(struct sess *s, const struct scn_step *st, struct outcome *o);
bool step_expect(struct sess *s, const struct scn_step *st, struct outcome *o);
/* runner_truncate.c */
bool step_truncate(struct sess *s, const struct scn_step *st, struct outcome *o);
/* "got error reply EINVAL", "got no reply within 3000 ms", ... */
void describe_reply(const struct vfu_reply *r, enum vfu_call_status st, int timeout_ms, char *buf,
                    size_t n);
/* the failure kind an unexpected call status stands for */
enum vfu_failure_kind status_kind(enum vfu_call_status st, const struct vfu_reply *r);
bool is_closed(enum vfu_call_status st, const struct vfu_reply *r);
bool runner_compare(enum scn_op op, uint64_t a, uint64_t b);
/* REPLY without the Error bit, else o failed with `what` ("map a") */
bool expect_success(struct sess *s, const char *what, enum vfu_call_status st,
                    const struct vfu_reply *r, struct outcome *o);

#endif
