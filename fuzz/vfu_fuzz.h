/* vfu-fuzz internals: coverage-guided fuzzing of a vfio-user server over its
 * real socket.  One session = one connection driven by the scripted client
 * (include/vfu/vfu_client.h) from a session input (lib/runtime/fuzz_session.h); inputs are
 * mutated by the shared mutator (lib/runtime/mutate.h).  The parts:
 *
 *   vfu_fuzz_target.c  the server: start, restart, calibration (does it exit
 *                      after each client by design?), fd and RSS probes,
 *                      sanitizer reports in its stderr
 *   vfu_fuzz_exec.c    one session: connect, VERSION, records sent with real
 *                      fds, DMA served by the client, outcome and trace
 *   vfu_fuzz_cov.c     feedback: AFL++ shared-memory map, behaviour tuples
 *   vfu_fuzz_find.c    findings: signature, dedup, layout on disk, replay check
 *   vfu_fuzz_min.c     minimization keeping the signature
 *   vfu_fuzz_seed.c    seeds from the spec tables and from files
 *   vfu_fuzz_scn.c     --emit-scenario
 *   vfu_fuzz_sig.c     clean stop on SIGINT/SIGTERM
 *   vfu_fuzz.c         command line, main loop, statistics */
#ifndef VFU_FUZZ_H
#define VFU_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "vfu_client.h"
#include "fuzz_session.h"
#include "mutate.h"
#include "proc.h"
#include "sockdir.h"
#include "trace.h"

#define FZ_MAX_INPUT (256u << 10)    /* session input bytes */
#define FZ_MSG_CAP (VFU_CLIENT_RX_CAP)
#define FZ_DEFAULT_TIMEOUT_MS 1000
#define FZ_TRACE_CAP (4u << 20)
#define FZ_BEHAV_MAP (1u << 16)

/* the command line (vfu_fuzz.c) */
#define FZ_MAX_SEED_DIRS 16
struct fz_opts {
    const char *server, *connect, *client, *outdir, *emit, *scn_id, *run;
    const char *seeds[FZ_MAX_SEED_DIRS];
    unsigned nseeds;
    long seconds, sessions;
    uint64_t seed;
    bool have_seed, exit_on_finding, no_minimize, no_verify, no_afl, ack_u64, server_output;
    bool no_bundled_seeds;
    int timeout_ms;
    size_t map_size;
    const char *name;           /* --name: this instance's directory under outdir */
    long jobs;                  /* --jobs N (0: one instance, no sync layout) */
};

/* --------------------------------------------------------------- sync --- */

#define FZ_MAX_JOBS 64
#define FZ_SYNC_MAX_PEERS 64
#define FZ_SYNC_NAME 64
#define FZ_SYNC_SECONDS 5       /* between two looks at the siblings' queues */

struct fz_sync_peer {
    char name[FZ_SYNC_NAME];
    long next_id;               /* queue entries below this id were read */
};

struct fz_sync {
    const char *dir;            /* OUT, the shared directory; NULL: no sync */
    const char *self;           /* our NAME in it */
    struct fz_sync_peer peers[FZ_SYNC_MAX_PEERS];
    unsigned npeers;
    unsigned long pulled;
};

/* where this instance writes: OUT, or OUT/NAME with --name (then s is set
 * up to read the siblings); NULL when OUT cannot be made */
const char *fz_instance_dir(const struct fz_opts *o, char *buf, size_t n, struct fz_sync *s);
/* the siblings' new queue entries, each handed to take; returns how many */
unsigned fz_sync_pull(struct fz_sync *s, void (*take)(void *ctx, const uint8_t *d, size_t n), void *ctx);
/* --jobs: o->jobs instances of one (fuzz_main or fzc_main) as children
 * named NAME-K (default vfu-K) under o->outdir; their combined status */
int fz_jobs_main(const struct fz_opts *o, int (*one)(struct fz_opts *));

/* seconds on the monotonic clock */
static inline double fz_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* a session input file into buf (at most cap bytes); -1, said on stderr,
 * when it cannot be read */
ssize_t fz_read_file(const char *path, uint8_t *buf, size_t cap);

/* -------------------------------------------------------------- target --- */

struct fz_target {
    const char *server_cmd;     /* NULL with --connect */
    const char *connect_path;
    struct vfu_sockdir sd;      /* our temporary directory (socket) */
    struct vfu_proc proc;
    bool started;
    int timeout_ms;
    bool echo_stderr;
    /* calibration: the server ends by itself after a clean session */
    bool exits_per_client;
    int by_design_status;       /* exit status of such an end */
    unsigned long restarts;
    uint64_t stderr_mark;       /* vfu_proc_stderr_total at session start */
    bool dma_write_ack_u64;     /* libvfio-user's DMA_WRITE reply form */
    /* AFL++ shared memory (when given to the server) */
    int shm_id;
};

bool fz_target_start(struct fz_target *t, struct vfu_error *err);
/* server gone: start again; false when it will not start */
bool fz_target_ensure(struct fz_target *t, struct vfu_error *err);
/* kills and starts a fresh one (after a crash, leak, hang) */
bool fz_target_restart(struct fz_target *t, struct vfu_error *err);
void fz_target_stop(struct fz_target *t);
/* restarted, and with warm, after one clean client session */
bool fz_target_fresh(struct fz_target *t, bool warm, struct vfu_error *err);
const char *fz_target_path(const struct fz_target *t);
/* RUNNING, or how it ended; never waits beyond ms */
enum vfu_proc_state fz_target_poll(struct fz_target *t, int wait_ms);
/* new output since the session began (tail), NUL-terminated */
const char *fz_target_new_stderr(struct fz_target *t, size_t *len);
void fz_target_mark(struct fz_target *t);
int fz_target_fds(const struct fz_target *t);
long fz_target_rss_kb(const struct fz_target *t);
/* a fresh client completes VERSION within the timeout */
bool fz_target_responsive(struct fz_target *t);

/* ---------------------------------------------------------- feedback --- */

struct fz_cov {
    uint8_t *afl;               /* shared map, or NULL */
    size_t afl_size;
    uint8_t *afl_virgin;
    unsigned long afl_edges;    /* distinct edges seen so far */
    uint8_t behav[FZ_BEHAV_MAP];
    uint8_t behav_virgin[FZ_BEHAV_MAP];
    unsigned long behav_tuples;
};

/* creates the map and sets __AFL_SHM_ID / AFL_MAP_SIZE for the server to
 * inherit; false (no map) when shared memory is refused */
bool fz_cov_afl_init(struct fz_cov *c, size_t map_size, int *shm_id);
void fz_cov_free(struct fz_cov *c, int shm_id);
void fz_cov_reset(struct fz_cov *c);
/* behaviour tuple seen in this session */
void fz_cov_tuple(struct fz_cov *c, uint64_t a, uint64_t b);
/* folds this session's maps into the virgin maps; returns how many new
 * (edge or tuple, bucket) pairs it brought */
unsigned fz_cov_commit(struct fz_cov *c);

/* --------------------------------------------------------- a session --- */

enum fz_kind {
    FZ_NONE = 0,
    FZ_CRASH,       /* killed by a signal */
    FZ_SANITIZER,   /* a sanitizer report in its output */
    FZ_EXIT,        /* ended on its own, not as it does by design */
    FZ_HANG,        /* no answer, and a fresh client cannot complete VERSION */
    FZ_TIMEOUT,     /* no answer within the timeout; new clients still served */
    FZ_VIOLATION,   /* broke the protocol in what it sent */
    FZ_LEAK_FD,     /* open fds grow across sessions */
    FZ_LEAK_RSS,    /* resident memory grows without bound */
    FZ__KINDS
};
const char *fz_kind_name(enum fz_kind k);

struct fz_outcome {
    enum fz_kind kind;
    char sig[128];              /* KIND-... : directory name, dedup key */
    char detail[512];           /* one line for people */
    bool server_gone;           /* restart before the next session */
    bool by_design_exit;
    bool warm;                  /* reproduces only after one clean client */
    bool connect_failed;        /* the server was gone before we began */
    unsigned replies, sent;
    int fds_after_version;      /* -1 unknown */
};

struct fz_findings;

struct fz_exec_opts {
    int timeout_ms;
    bool keep_trace;            /* record the wire trace */
    bool check_hang;            /* on a timeout, probe with a fresh client */
    bool dma_write_ack_u64;     /* libvfio-user's DMA_WRITE reply form */
    const struct fz_findings *known;   /* prefer violations not found yet */
    const char *want_sig;       /* ...or this one (minimization) */
};

/* Runs one session; *trace (if keep_trace) gets the recorder, to write or
 * free.  cov may be NULL (minimization, verification). */
void fz_exec(struct fz_target *t, struct fz_cov *cov, const uint8_t *in, size_t len,
             const struct fz_exec_opts *o, struct fz_outcome *out, struct vfu_tracer **trace);

/* signatures (vfu_fuzz_exec.c), shared by both sides: a signal's name or
 * NULL; a file-name-safe part appended with '-'; a sanitizer report's kind
 * and first frames ("sanitizer-asan-heap-buffer-overflow-f-g") with its
 * first line as detail, false when s holds none; a command's name */
const char *fz_sig_name(int s);
void fz_sig_append(char *out, size_t n, const char *s);
bool fz_sanitizer_sig(const char *s, char *sig, size_t n, char *detail, size_t dn);
const char *fz_cmd_label(int cmd);

/* ---------------------------------------------------------- findings --- */

struct fz_findings {
    const char *outdir;
    char names[512][128];       /* signatures kept */
    unsigned n;
    unsigned long by_kind[FZ__KINDS];
    unsigned long dup;
    bool verify;                /* replay each minimized trace */
    bool minimize;
    unsigned long min_execs;
};

/* the progress (end "\r") or summary (end "\n") line of a run, written
 * in one piece (vfu_fuzz_stats.c) */
struct fz_stats {
    unsigned long sessions;
    double elapsed;                 /* seconds */
    int rate_decimals;              /* of sessions per second */
    size_t queued;
    const struct fz_cov *cov;
    const struct fz_findings *f;
    const unsigned long *restarts;  /* of the program under test; NULL: not shown */
};
void fz_stats_line(FILE *out, const char *end, const struct fz_stats *st);

bool fz_dirs_make(const char *outdir, struct vfu_error *err);
/* the whole of d[0..n) into a new file at path; false when it failed */
bool fz_write_file(const char *path, const void *d, size_t n);
bool fz_findings_known(const struct fz_findings *f, const char *sig);
/* minimizes, writes findings/SIG/{input,trace.cbor,README,stderr.txt},
 * verifies with replay; prints one line to log */
void fz_finding_add(struct fz_findings *f, struct fz_target *t, const uint8_t *in, size_t len,
                    const struct fz_outcome *o, int timeout_ms, const struct vfu_tracer *as_found,
                    FILE *log);
/* replays the trace at path against a fresh server (or the one at
 * --connect) and says whether it reproduces the same end */
bool fz_verify_trace(struct fz_target *t, const char *path, const struct fz_outcome *o,
                     int timeout_ms, char *why, size_t whyn);

/* ---------------------------------------------------------- minimize --- */

/* Shrinks in[0..*len) in place keeping the signature (re-run each try);
 * returns the executions spent. */
unsigned long fz_minimize(struct fz_target *t, uint8_t *in, size_t *len, const struct fz_outcome *o,
                          int timeout_ms, unsigned budget);
/* same signature once more? */
bool fz_reproduces(struct fz_target *t, const uint8_t *in, size_t len, const struct fz_outcome *o,
                   int timeout_ms);

/* ------------------------------------------------------------- seeds --- */

struct fz_queue_entry {
    uint8_t *data;
    size_t len;
    unsigned picked;
};

struct fz_queue {
    struct fz_queue_entry *e;
    size_t n, cap;
    const char *dir;            /* OUT/queue, NULL: memory only */
    unsigned long saved;
};

bool fz_queue_add(struct fz_queue *q, const uint8_t *d, size_t len, const char *why);
/* the next input to run, into buf: an entry picked (newer ones, past the
 * nseeds seeds, a little more often; with favour_first the first entry a
 * quarter of the time), now and then crossed with another, then mutated;
 * returns its length.  q must not be empty. */
size_t fz_queue_next(struct fz_queue *q, struct vfu_mut *m, size_t nseeds, bool favour_first, uint8_t *buf,
                     size_t cap);
void fz_queue_free(struct fz_queue *q);
/* one session per client command, from the tables, plus a few sequences */
void fz_seed_spec(struct fz_queue *q, struct vfu_mut *m);
/* the checked-in seeds (corpus/seeds/TARGET) and those make corpus made
 * from the bundled scenarios (build/corpus/TARGET), where they exist */
unsigned fz_seed_bundled(struct fz_queue *q, const char *target, FILE *log);
/* every regular file of dir (session inputs) */
unsigned fz_seed_dir(struct fz_queue *q, const char *dir, FILE *log);

/* one session record into buf: MSG, fix-size|fix-id, fds; returns bytes */
size_t fz_put_record(uint8_t *buf, size_t cap, uint8_t kind, uint8_t flags, const uint8_t *msg,
                     uint32_t len, const struct vfu_fs_fd *fds, unsigned nfds);

/* ---------------------------------------------------------- scenario --- */

/* writes a .scn scenario sending the session's messages to out */
bool fz_emit_scenario(const uint8_t *in, size_t len, const char *id, FILE *out, char *why,
                      size_t whyn);

/* ------------------------------------------------------------ client --- */

/* vfu-fuzz --client CMD (vfu_fuzz_client.c): the client program under
 * test, started once per session against a socket we listen on and served
 * by the reference server whose answers the session input replaces */
struct fz_client {
    const char *cmd;
    struct vfu_sockdir sd;      /* where we listen */
    int lfd;
    int timeout_ms;
    bool stays;                 /* the plain session showed the client keeps running
                                 * after the server goes away (a VMM does): running
                                 * then is not a hang (set by the recorded session) */
    int idle_ms;                /* quiet this long: the session is over (set by
                                 * the recorded session; timeout_ms before) */
    bool echo_stderr;
    struct vfu_proc proc;
    struct fz_cov scratch;      /* tuples of sessions nobody counts */
    uint8_t *recorded;          /* the reference answers of a recorded session */
    size_t recorded_len;
    char stderr_copy[16384];    /* the last session's output tail */
    size_t stderr_len;
};

bool fzc_open(struct fz_client *F, struct vfu_error *err);
void fzc_close(struct fz_client *F);
/* one session: the client started, served, judged; record_it keeps the
 * reference answers as a session input in F->recorded */
void fzc_exec(struct fz_client *F, struct fz_cov *cov, const uint8_t *in, size_t len, bool record_it,
              struct fz_outcome *o);

/* the --client run: seeds, main loop, findings (vfu_fuzz_client_run.c);
 * the exit status */
int fzc_main(struct fz_opts *o);

/* ----------------------------------------------------------- signals --- */

void fz_sig_install(void);
bool fz_sig_stop(void);

#endif
