/* Plays loaded scenarios against a vfio-user server and fills a struct
 * vfu_run (harness/result.h) with one verdict per scenario.
 *
 * The target is a command (--server: started with lib/proc, restarted when
 * a scenario leaves it dead or asks for it) or the socket of a server that
 * is already running (--connect: never restarted).  Before the scenarios,
 * a probe session learns the device geometry and negotiated capabilities
 * into the variables scenarios read ($num_regions, $region.N.size, ...).
 * Each scenario gets a fresh connection.  Every wait is bounded by the
 * timeout, so nothing a server does can hang the run. */
#ifndef VFU_RUNNER_H
#define VFU_RUNNER_H

#include <stdbool.h>
#include <stddef.h>

#include "gen.h"
#include "result.h"
#include "scn.h"

#define VFU_RUNNER_DEFAULT_TIMEOUT_MS 3000
#define VFU_RUNNER_MAX_TIMEOUT_MS 600000
/* tail of the server's output attached to a crash, exit or hang */
#define VFU_RUNNER_STDERR_TAIL 2048
/* restarts that fail in a row before the remaining scenarios are given up */
#define VFU_RUNNER_MAX_FAILED_STARTS 3

struct vfu_runner_opts {
    const char *server_cmd;      /* one of these two */
    const char *connect_path;
    int timeout_ms;              /* each answer awaited; 0: the default */
    const char *trace_dir;       /* CBOR trace of each failing scenario, or NULL */
    bool trace_all;              /* ... of every scenario run (fuzz seeds: make corpus) */
    const char *tool;            /* program and version, for traces */
    const char *const *xfail;    /* ids or fnmatch globs of expected failures */
    size_t nxfail;
    bool echo_server_output;     /* copy the server's stderr to ours */
    bool fail_fast;              /* stop after the first result that fails the run */
    /* the whole run's bound in seconds (0: none): scenarios not reached are
     * "not run"; with lib/runtime/stopsig.h installed, waits end at the limit too */
    unsigned max_seconds;
    /* called before each scenario (r NULL) and after it */
    void (*progress)(void *ctx, size_t index, size_t total, const struct scn_scenario *sc,
                     const struct vfu_result *r);
    void *progress_ctx;
    /* after the probe: scenarios made for the device it found (harness/gen.h),
     * run after the list; *out stays valid for the run's life.  False:
     * they could not be made (the run stops as an error, why says it).
     * Not called when the probe failed (there is no device to make them for). */
    bool (*generate)(void *ctx, const struct gen_device *dev, const struct scn_scenario *const **out, size_t *n,
                     char *why, size_t whylen);
    void *generate_ctx;
};

/* Runs the n scenarios in order.  false when the run could not start at
 * all (the server would not start, the socket cannot be reached): why says
 * it, and run holds no results.  Otherwise run->results has n entries,
 * pointing into the scenarios (keep the set loaded while run is used).
 * A run cut short (run->stop: a hopeless server, the time limit, a signal
 * seen through lib/runtime/stopsig.h) still has n entries: those not reached are
 * SKIP, their reason "not run: " and the cause. */
bool vfh_runner_run(const struct scn_scenario *const *list, size_t n,
                    const struct vfu_runner_opts *o, struct vfu_run *run, char *why,
                    size_t whylen);
void vfh_run_free(struct vfu_run *run);

#endif
