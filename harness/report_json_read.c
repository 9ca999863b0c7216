/* A JSON report (report_json.c) read back into a struct vfu_run, so that
 * `vfu-conform report` can render it again (as HTML, with code coverage
 * taken after the run).  The file is input like any other: wrong types and
 * missing keys are errors that say where, not crashes. */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"

static const char *sget(struct json_object *o, const char *k)
{
    struct json_object *v;
    return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static bool parse_level(const char *s, enum vfu_level *l)
{
    for (int i = VFU_LEVEL_MUST; i <= VFU_LEVEL_INFO; i++)
        if (s && !strcmp(s, vfr_level_name((enum vfu_level)i))) { *l = (enum vfu_level)i; return true; }
    return false;
}

static bool parse_verdict(const char *s, enum vfu_verdict *v)
{
    for (int i = VFU_PASS; i <= VFU_ERROR; i++)
        if (s && !strcmp(s, vfr_verdict_name((enum vfu_verdict)i))) { *v = (enum vfu_verdict)i; return true; }
    return false;
}

static enum vfu_failure_kind parse_kind(const char *s)
{
    for (int i = VFU_FK_MISMATCH; s && i <= VFU_FK_HANG; i++)
        if (!strcmp(s, vfr_failure_kind_name((enum vfu_failure_kind)i))) return (enum vfu_failure_kind)i;
    return VFU_FK_NONE;
}

static double dget(struct json_object *o, const char *k)
{
    struct json_object *v;
    return json_object_object_get_ex(o, k, &v) ? json_object_get_double(v) : 0;
}

static double parse_started(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) return 0;
    return (double)timegm(&tm);
}

bool vfr_report_json_read(const char *path, struct vfu_run *run, void **keep, char *why, size_t whyn)
{
    memset(run, 0, sizeof *run);
    *keep = NULL;
    struct json_object *root = json_object_from_file(path);
    if (!root) {
        snprintf(why, whyn, "%s: not a JSON file (%s)", path, json_util_get_last_err() ? json_util_get_last_err() : "unreadable");
        return false;
    }
    const char *fmt = sget(root, "format");
    struct json_object *arr;
    if (!fmt || strcmp(fmt, "vfu-conform-report") || !json_object_object_get_ex(root, "results", &arr) ||
        !json_object_is_type(arr, json_type_array)) {
        snprintf(why, whyn, "%s: not a vfu-conform JSON report (--format json)", path);
        json_object_put(root);
        return false;
    }
    size_t n = json_object_array_length(arr);
    run->results = calloc(n ? n : 1, sizeof *run->results);
    if (!run->results) {
        snprintf(why, whyn, "out of memory");
        json_object_put(root);
        return false;
    }
    run->tool_version = sget(root, "tool");
    run->server = sget(root, "server");
    run->seconds = dget(root, "seconds");
    run->started = parse_started(sget(root, "started"));
    const char *caps = sget(root, "capabilities"), *fdoff = sget(root, "fd_checks_off");
    if (caps) snprintf(run->caps, sizeof run->caps, "%s", caps);
    if (fdoff) snprintf(run->fd_checks_off, sizeof run->fd_checks_off, "%s", fdoff);
    struct json_object *stop;
    if (json_object_object_get_ex(root, "stopped", &stop) && json_object_is_type(stop, json_type_object)) {
        const char *w = sget(stop, "why"), *r = sget(stop, "reason");
        run->stop = VFU_RUN_INTERRUPTED;
        for (int s = VFU_RUN_HOPELESS; w && s <= VFU_RUN_INTERRUPTED; s++)
            if (!strcmp(w, vfr_run_stop_name((enum vfu_run_stop)s))) run->stop = (enum vfu_run_stop)s;
        snprintf(run->stop_reason, sizeof run->stop_reason, "%s", r ? r : "");
    }
    for (size_t i = 0; i < n; i++) {
        struct json_object *o = json_object_array_get_idx(arr, i);
        struct vfu_result *r = &run->results[i];
        if (!json_object_is_type(o, json_type_object) || !sget(o, "id") || !parse_level(sget(o, "level"), &r->level) ||
            !parse_verdict(sget(o, "verdict"), &r->verdict)) {
            snprintf(why, whyn, "%s: results[%zu]: needs an id, a level and a verdict", path, i);
            run->n = i;
            vfr_report_json_release(run, root);
            return false;
        }
        r->id = sget(o, "id");
        r->section = sget(o, "section");
        r->title = sget(o, "title");
        r->rule = sget(o, "rule");
        r->file = sget(o, "file");
        struct json_object *line;
        r->line = json_object_object_get_ex(o, "line", &line) ? json_object_get_int(line) : 0;
        r->scenario_level = r->level;
        r->kind = parse_kind(sget(o, "kind"));
        snprintf(r->reason, sizeof r->reason, "%s", sget(o, "reason") ? sget(o, "reason") : "");
        const char *se = sget(o, "server_stderr"), *tr = sget(o, "trace");
        r->server_stderr = se ? strdup(se) : NULL;
        r->trace_path = tr ? strdup(tr) : NULL;
        r->seconds = dget(o, "seconds");
        run->n = i + 1;
    }
    vfr_run_tally(run);
    *keep = root;
    return true;
}

void vfr_report_json_release(struct vfu_run *run, void *keep)
{
    for (size_t i = 0; run->results && i < run->n; i++) vfr_result_release(&run->results[i]);
    free(run->results);
    run->results = NULL;
    run->n = 0;
    json_object_put(keep);
}
