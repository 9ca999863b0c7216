/* Inside the runner: the target server, the probe's findings, variables,
 * one scenario's session, and how a step reports its outcome. */
#ifndef VFU_RUNNER_INT_H
#define VFU_RUNNER_INT_H

#include <stdarg.h>

#include "vfu_client.h"
#include "gen.h"
#include "proc.h"
#include "sockdir.h"
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
void vfh_runner_rvars_clear(struct rvars *vs);
struct rvar *vfh_runner_rvars_find(const struct rvars *vs, const char *name);
/* sets a number (bytes NULL) or bytes (num from their first 8, little end) */
bool vfh_runner_rvars_set(struct rvars *vs, const char *name, uint64_t num, const uint8_t *bytes, uint32_t len);

/* ------------------------------------------------------------- outcome */

/* What a step (or the scenario around it) came to. */
struct outcome {
    enum vfu_verdict verdict;      /* PASS until something says otherwise */
    enum vfu_failure_kind kind;
    char reason[512];
    int line;
};
void vfh_runner_out_set(struct outcome *o, enum vfu_verdict v, enum vfu_failure_kind k, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---------------------------------------------------------------- probe */

struct probe {
    bool ok;
    enum vfu_failure_kind kind;    /* why it failed */
    char reason[400];
    bool twin, write_multiple, migration, dma_logging, reset, io_fds;
    /* the VERSION proposing every capability failed; probed with the
     * default proposal: scenarios needing a capability fail with this */
    enum vfu_failure_kind caps_kind;
    char caps_failed[400];
    struct gen_device dev;         /* the places generated scenarios try (harness/gen.h) */
};

/* ----------------------------------------------------------------- run */

struct runner {
    const struct vfu_runner_opts *o;
    int timeout_ms;
    bool server;                   /* we start it */
    struct vfu_proc proc;
    struct vfu_proc_spec spec;
    struct vfu_sockdir sd;         /* our temporary directory for the socket */
    const char *path;              /* where clients connect */
    bool server_dead_seen;         /* its end was attributed already */
    unsigned failed_starts;
    struct probe probe;
    char caps[1024];               /* the probe's negotiated capabilities, JSON */
    struct rvars vars;             /* from the probe */
    bool fd_armed;                 /* runner_fdcheck.c: counted before this session */
    int fd_base;
    pid_t fd_pid;
    pid_t peer_pid;                /* --connect: the server's, by SO_PEERCRED; 0 unknown */
    char fd_off[256];              /* why fd checks are off ("" while on) */
    /* the server exits after each client (learned when one exited with
     * status 0 after its client left): restarted for every session */
    bool one_shot;
    /* a (re)started server has not served a whole session yet: its fd
     * count is not a baseline, and a fence session comes first */
    bool fresh;
    /* the server did not close after our half-close: no more waiting */
    bool no_half_close;
    unsigned dead_opens;           /* sessions in a row it died before VERSION */
    unsigned lost_streak;          /* scenarios in a row that waited out a timeout */
    /* this scenario: it talked to the server at all, and a step of it
     * waited out a timeout (even when the verdict names a rule the server
     * broke first, such as a message it began and never finished) */
    bool talked, waited_out;
    struct vfu_result *prev;       /* the scenario that ran last, for a late death */
    double deadline;               /* --max-seconds on the run's clock; 0 none */
    enum vfu_run_stop stop;        /* the run ends early: why */
    char stop_reason[1024];
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
    bool may_retry;                /* an early loss is left to runner.c to explain */
    bool lost_early;               /* connect failed or closed before VERSION */
    bool preference_missed;        /* an error reply carried an errno other than the preferred */
    struct outcome preference;     /* the first such, as an INFO finding */
    struct vfu_trace_hook trace, trace_twin;   /* given to every client of the session */
};

/* ---- fences (runner_fence.c) ---- */
enum fence { FENCE_OK, FENCE_CLOSED, FENCE_NO_REPLY };
/* a DEVICE_GET_INFO and its reply, whatever it says */
enum fence vfh_runner_sess_fence(struct sess *s);
/* expect none: t's reply if it came before a fence's, else TIMEOUT */
enum vfu_call_status vfh_runner_collect_none(struct sess *s, const struct tick *t, int wait_ms, struct vfu_reply *r);

/* ---- target (runner_target.c) ---- */
bool vfh_runner_target_start(struct runner *R, char *why, size_t n);
void vfh_runner_target_stop(struct runner *R);
/* the run ends early for this cause (the first one given stays) */
void vfh_runner_stop(struct runner *R, enum vfu_run_stop k, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* After a session was closed: a server that exits after each client is
 * waited for; one that died is blamed on res (the scenario whose session
 * it was; NULL: the probe). */
void vfh_runner_target_after_session(struct runner *R, struct vfu_result *res);
/* A session could not connect, or lost the connection before VERSION was
 * answered.  true when the server had ended meanwhile for a reason not the
 * session's own: exited with status 0 after its last client (then it exits
 * after each client) or died after the previous session (blamed on it);
 * the session is then tried again on a restarted server. */
bool vfh_runner_target_open_lost(struct runner *R);
/* Between two sessions of one scenario (disconnect, reconnect): waits
 * for a server that exits after each client (or that is dying, or when
 * `wait`), and fails o (false) when it died by a signal. */
bool vfh_runner_target_between(struct runner *R, bool wait, struct outcome *o);
/* pid of the server (started or reached), 0 unknown */
pid_t vfh_runner_target_pid(struct runner *R);
/* server mode: running, restarted if needed; false (o says why) if not */
bool vfh_runner_target_ready(struct runner *R, struct outcome *o);
/* After a failure of kind CLOSED/TIMEOUT/ERROR in server mode: did the
 * server crash, exit or hang?  Rewrites o when it did; on a timeout it
 * stops the server (the next scenario starts a fresh one). */
void vfh_runner_target_judge(struct runner *R, struct outcome *o, bool timed_out);
bool vfh_runner_xfail_listed(const struct vfu_runner_opts *o, const char *id);
/* the server made us wait a whole timeout (no answer, or one it never
 * finished): what the stopped-answering streak counts */
static inline bool runner_waited_kind(enum vfu_failure_kind k) { return k == VFU_FK_TIMEOUT || k == VFU_FK_HANG; }
char *vfh_runner_target_stderr_tail(struct runner *R);
bool vfh_runner_target_restart(struct runner *R, struct outcome *o);
/* server mode: SIGTERM, as the backend program conventions have a server
 * honour it; false (o failed, kind HANG) when it had to be killed */
bool vfh_runner_target_terminate(struct runner *R, struct outcome *o);

/* ---- a server that broke down (runner_crash.c) ---- */
/* The server ended by a signal, or exited after a sanitizer or runtime
 * reported a fault (within wait_ms); `what` says how.  Ends we caused
 * (SIGTERM, SIGKILL) and plain exits are not breakdowns. */
bool vfh_runner_target_broke_down(struct runner *R, int wait_ms, char *what, size_t n);
/* the first sanitizer or runtime fault report in out, or NULL */
const char *vfh_runner_target_fault_mark(const char *out);

/* ---- descriptors the server keeps after a session (runner_fdcheck.c) ---- */
void vfh_runner_fdcheck_begin(struct runner *R);
/* --connect: the server's pid from a connected socket (once) */
void vfh_runner_fdcheck_peer(struct runner *R, int sock);
/* fails a passing o when the server holds more fds than before the session */
void vfh_runner_fdcheck_end(struct runner *R, struct outcome *o);

/* ---- sessions (runner_sess.c) ---- */
bool vfh_runner_sess_open(struct sess *s, const struct scn_negotiate *neg, struct outcome *o);
/* half-closes, waits (bounded) for the server to close its end, closes */
void vfh_runner_sess_close(struct sess *s);
/* connect, default VERSION, close: a point the server must have passed;
 * false (o says why) when it could not */
bool vfh_runner_sess_fence_session(struct runner *R, struct outcome *o, bool *lost_early);
/* unaccounted violations: fails o with the first */
bool vfh_runner_sess_check_violations(struct sess *s, struct outcome *o);
void vfh_runner_sess_note_violations(struct sess *s);

/* ---- values (runner_vars.c) ---- */
/* false: o says why (SKIP when the device lacks it, FAIL after a failed probe) */
bool vfh_runner_eval(struct sess *s, const struct scn_value *v, uint64_t *out, struct outcome *o);
/* bytes of a value: points into the scenario or a variable, or *zero for zero:N */
bool vfh_runner_eval_bytes(struct sess *s, const struct scn_bytes *b, const uint8_t **p, uint32_t *n,
                struct outcome *o);
const struct rvar *vfh_runner_lookup(struct sess *s, const char *name);

/* ---- probe (runner_probe.c) ---- */
void vfh_runner_probe_run(struct runner *R);
/* false: o says why the scenario cannot run */
bool vfh_runner_probe_requires(struct runner *R, const struct scn_scenario *sc, struct outcome *o);

/* ---- steps (runner_step.c, runner_send.c, runner_expect.c) ---- */
bool vfh_runner_step_run(struct sess *s, const struct scn_step *st, struct outcome *o);
bool vfh_runner_step_send(struct sess *s, const struct scn_step *st, struct outcome *o);
bool vfh_runner_step_expect(struct sess *s, const struct scn_step *st, struct outcome *o);
/* runner_truncate.c */
bool vfh_runner_step_truncate(struct sess *s, const struct scn_step *st, struct outcome *o);
/* "got error reply EINVAL", "got no reply within 3000 ms", ... */
void vfh_runner_describe_reply(const struct vfu_reply *r, enum vfu_call_status st, int timeout_ms, char *buf,
                    size_t n);
/* the failure kind an unexpected call status stands for */
enum vfu_failure_kind vfh_runner_status_kind(enum vfu_call_status st, const struct vfu_reply *r);
bool vfh_runner_is_closed(enum vfu_call_status st, const struct vfu_reply *r);
bool vfh_runner_compare(enum scn_op op, uint64_t a, uint64_t b);
/* REPLY without the Error bit, else o failed with `what` ("map a") */
bool vfh_runner_expect_success(struct sess *s, const char *what, enum vfu_call_status st,
                    const struct vfu_reply *r, struct outcome *o);

#endif
