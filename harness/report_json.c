/* The JSON report, built as a json-c tree (json-c does the escaping; we
 * only make sure every string is well-formed UTF-8 first, as JSON text
 * must be).  Shape:
 *   { "format": "vfu-conform-report", "version": 1,
 *     "tool": ..., "server": ..., "started": "...Z" | null, "seconds": 1.234,
 *     "exit_status": 0|1|2, "stopped": null | { "why", "reason" },
 *     "fd_checks_off": null | "...", "capabilities": null | "{...}" (negotiated, JSON text),
 *     "counts": { "total", "pass", "fail", "skip", "xfail", "xpass", "error",
 *                 "info_findings", "failing" },
 *     "results": [ { "id", "section", "title", "rule", "file", "line", "level",
 *                    "verdict", "kind", "reason", "server_stderr", "trace",
 *                    "seconds", "fails_run" } ] }
 * Absent strings and a line of 0 are null. */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_text.h"
#include "utf8.h"

struct jb {
    bool oom;
};

/* records a failed allocation; json-c adds a NULL value as null */
static struct json_object *chk(struct jb *b, struct json_object *o)
{
    if (!o) b->oom = true;
    return o;
}

static void add(struct jb *b, struct json_object *obj, const char *key, struct json_object *v)
{
    if (json_object_object_add(obj, key, v) != 0) {
        json_object_put(v);
        b->oom = true;
    }
}

static struct json_object *str(struct jb *b, const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s);
    size_t need = vfu_utf8_sanitize(s, n, NULL, 0);
    char *clean = malloc(need + 1);
    if (!clean) { b->oom = true; return NULL; }
    vfu_utf8_sanitize(s, n, clean, need + 1);
    struct json_object *o = chk(b, json_object_new_string_len(clean, (int)need));
    free(clean);
    return o;
}

static struct json_object *secs(struct jb *b, double s)
{
    char txt[32];
    s = vfr_secs(s);
    snprintf(txt, sizeof txt, "%.3f", s);
    return chk(b, json_object_new_double_s(s, txt));
}

static struct json_object *result(struct jb *b, const struct vfu_result *r)
{
    struct json_object *o = chk(b, json_object_new_object());
    if (!o) return NULL;
    add(b, o, "id", str(b, r->id));
    add(b, o, "section", str(b, r->section));
    add(b, o, "title", str(b, r->title));
    add(b, o, "rule", str(b, r->rule));
    add(b, o, "file", str(b, r->file));
    add(b, o, "line", r->line > 0 ? chk(b, json_object_new_int(r->line)) : NULL);
    add(b, o, "level", str(b, vfr_level_name(r->level)));
    add(b, o, "verdict", str(b, vfr_verdict_name(r->verdict)));
    add(b, o, "kind", r->kind == VFU_FK_NONE ? NULL : str(b, vfr_failure_kind_name(r->kind)));
    /* reason is a fixed array: never read past it, even if unterminated */
    char reason[sizeof r->reason + 1];
    memcpy(reason, r->reason, sizeof r->reason);
    reason[sizeof r->reason] = '\0';
    add(b, o, "reason", str(b, reason));
    add(b, o, "server_stderr", str(b, r->server_stderr));
    add(b, o, "trace", str(b, r->trace_path));
    add(b, o, "seconds", secs(b, r->seconds));
    add(b, o, "fails_run", chk(b, json_object_new_boolean(vfr_result_fails_run(r))));
    return o;
}

static struct json_object *counts(struct jb *b, const struct vfu_run *run)
{
    static const char *const keys[] = {
        [VFU_PASS] = "pass", [VFU_FAIL] = "fail", [VFU_SKIP] = "skip",
        [VFU_XFAIL] = "xfail", [VFU_XPASS] = "xpass", [VFU_ERROR] = "error",
    };
    unsigned c[VFU_ERROR + 1], info = 0, failing = 0;
    vfr_run_count(run, c);
    for (size_t i = 0; i < run->n; i++) {
        const struct vfu_result *r = &run->results[i];
        info += r->verdict == VFU_FAIL && r->level == VFU_LEVEL_INFO;
        failing += vfr_result_fails_run(r);
    }
    struct json_object *o = chk(b, json_object_new_object());
    if (!o) return NULL;
    add(b, o, "total", chk(b, json_object_new_int64((int64_t)run->n)));
    for (int v = 0; v <= VFU_ERROR; v++) add(b, o, keys[v], chk(b, json_object_new_int64(c[v])));
    add(b, o, "info_findings", chk(b, json_object_new_int64(info)));
    add(b, o, "failing", chk(b, json_object_new_int64(failing)));
    return o;
}

int vfr_report_json(FILE *out, const struct vfu_run *run)
{
    struct jb b = {false};
    struct json_object *root = chk(&b, json_object_new_object());
    if (!root) { errno = ENOMEM; return -1; }
    add(&b, root, "format", str(&b, "vfu-conform-report"));
    add(&b, root, "version", chk(&b, json_object_new_int(1)));
    add(&b, root, "tool", str(&b, run->tool_version));
    add(&b, root, "server", str(&b, run->server));
    char ts[32];
    vfr_timestamp(run->started, true, ts, sizeof ts);
    add(&b, root, "started", ts[0] ? str(&b, ts) : NULL);
    add(&b, root, "seconds", secs(&b, run->seconds));
    add(&b, root, "exit_status", chk(&b, json_object_new_int(vfr_run_exit_status(run))));
    /* null when the run reached its last scenario */
    struct json_object *stop = NULL;
    if (run->stop != VFU_RUN_COMPLETE && (stop = chk(&b, json_object_new_object()))) {
        add(&b, stop, "why", str(&b, vfr_run_stop_name(run->stop)));
        add(&b, stop, "reason", str(&b, run->stop_reason));
    }
    add(&b, root, "stopped", stop);
    add(&b, root, "fd_checks_off", run->fd_checks_off[0] ? str(&b, run->fd_checks_off) : NULL);
    add(&b, root, "capabilities", run->caps[0] ? str(&b, run->caps) : NULL);
    add(&b, root, "counts", counts(&b, run));
    struct json_object *arr = chk(&b, json_object_new_array());
    for (size_t i = 0; arr && i < run->n; i++) {
        struct json_object *r = result(&b, &run->results[i]);
        if (json_object_array_add(arr, r) != 0) { json_object_put(r); b.oom = true; }
    }
    add(&b, root, "results", arr);
    int rc = -1;
    if (!b.oom) {
        const char *txt = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (txt) {
            fputs(txt, out);
            fputc('\n', out);
            rc = vfr_finish(out);
        } else
            b.oom = true;
    }
    json_object_put(root);
    if (rc != 0 && b.oom) errno = ENOMEM;
    return rc;
}
