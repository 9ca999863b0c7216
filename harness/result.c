/* Names and the run-level judgement shared by the reporters and the runner. */
#include "result.h"

#include <stdlib.h>

static const char *const verdicts[] = {
    [VFU_PASS] = "PASS", [VFU_FAIL] = "FAIL", [VFU_SKIP] = "SKIP",
    [VFU_XFAIL] = "XFAIL", [VFU_XPASS] = "XPASS", [VFU_ERROR] = "ERROR",
};
static const char *const levels[] = {
    [VFU_LEVEL_MUST] = "MUST", [VFU_LEVEL_SHOULD] = "SHOULD", [VFU_LEVEL_INFO] = "INFO",
};
static const char *const kinds[] = {
    [VFU_FK_NONE] = "none", [VFU_FK_MISMATCH] = "mismatch", [VFU_FK_VIOLATION] = "violation",
    [VFU_FK_TIMEOUT] = "timeout", [VFU_FK_CLOSED] = "closed", [VFU_FK_CRASH] = "crash",
    [VFU_FK_EXIT] = "exit", [VFU_FK_HANG] = "hang",
};

#define NAME(tab, i) ((unsigned)(i) < sizeof tab / sizeof *tab && tab[i] ? tab[i] : "?")

const char *vfr_verdict_name(enum vfu_verdict v) { return NAME(verdicts, v); }
const char *vfr_level_name(enum vfu_level l) { return NAME(levels, l); }
const char *vfr_failure_kind_name(enum vfu_failure_kind k) { return NAME(kinds, k); }

bool vfr_result_fails_run(const struct vfu_result *r)
{
    return r->verdict == VFU_FAIL && r->level != VFU_LEVEL_INFO;
}

void vfr_run_count(const struct vfu_run *run, unsigned counts[VFU_ERROR + 1])
{
    for (int v = 0; v <= VFU_ERROR; v++) counts[v] = 0;
    for (size_t i = 0; i < run->n; i++)
        /* a verdict out of range is the runner's bug; it must not vanish */
        counts[(unsigned)run->results[i].verdict <= VFU_ERROR ? run->results[i].verdict : VFU_ERROR]++;
}

void vfr_run_tally(struct vfu_run *run) { vfr_run_count(run, run->counts); }

const char *vfr_run_stop_name(enum vfu_run_stop s)
{
    switch (s) {
    case VFU_RUN_COMPLETE: return "complete";
    case VFU_RUN_HOPELESS: return "server hopeless";
    case VFU_RUN_TIME_LIMIT: return "time limit";
    case VFU_RUN_INTERRUPTED: return "interrupted";
    }
    return "?";
}

int vfr_run_exit_status(const struct vfu_run *run)
{
    if (run->stop == VFU_RUN_HOPELESS) return 1;
    unsigned c[VFU_ERROR + 1];
    vfr_run_count(run, c);
    bool fails = false;
    for (size_t i = 0; i < run->n; i++) fails |= vfr_result_fails_run(&run->results[i]);
    if (c[VFU_ERROR] || run->n == c[VFU_SKIP]) return 2;
    if (fails) return 1;
    return run->stop == VFU_RUN_COMPLETE ? 0 : 2;
}

void vfr_result_release(struct vfu_result *r)
{
    free(r->server_stderr);
    free(r->trace_path);
    r->server_stderr = NULL;
    r->trace_path = NULL;
}
