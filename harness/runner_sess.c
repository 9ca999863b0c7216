/* A scenario's connection: connect, negotiate as its `negotiate` line says,
 * and on the way out, hold the server to the rules the client saw it break
 * (violations) that no `expect violation` accounted for. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "runner_int.h"
#include "stopsig.h"

static int64_t client_deadline(int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + ms;
}

static int client_left(int64_t end)
{
    int64_t left = end - client_deadline(0);
    return left < 0 ? 0 : (int)left;
}

static void proposal(const struct scn_negotiate *neg, struct vfu_version_proposal *p, char *json,
                     size_t jn)
{
    vfu_proposal_default(p);
    if (!neg || neg->mode != SCN_NEG_CUSTOM) return;
    if (neg->set_major) p->major = neg->major;
    if (neg->set_minor) p->minor = neg->minor;
    for (unsigned i = 0; i < neg->ncaps; i++) vfu_caps_set(&p->caps, neg->caps[i].cap, neg->caps[i].value);
    if (neg->nojson) {
        p->data = VFU_PROPOSE_NONE;
    } else if (neg->json) {
        p->data = VFU_PROPOSE_RAW;
        p->raw = (const uint8_t *)neg->json;
        p->raw_len = strlen(neg->json) + !neg->nonul;
    } else if (neg->nonul) {
        int k = vfu_caps_to_json(&p->caps, json, jn);
        p->data = VFU_PROPOSE_RAW;
        p->raw = (const uint8_t *)json;
        p->raw_len = k > 0 ? (size_t)k : 0;
    }
}

static void negotiation_failed(struct sess *s, const struct vfu_version_result *res,
                               struct outcome *o)
{
    char e[256];
    vfu_error_str(&res->err, e, sizeof e);
    switch (res->status) {
    case VFU_CALL_REPLY:
        if (res->error_reply) {
            const char *n = vfh_scn_errno_name(res->errnum);
            vfh_runner_out_set(o, VFU_FAIL, VFU_FK_MISMATCH, "the server refused VERSION with error %s%s%u%s",
                    n ? n : "", n ? " (" : "", res->errnum, n ? ")" : "");
        } else {
            vfh_runner_out_set(o, VFU_FAIL, VFU_FK_VIOLATION, "VERSION reply not acceptable: %s", e);
        }
        break;
    case VFU_CALL_BAD_REPLY:
        vfh_runner_out_set(o, VFU_FAIL, VFU_FK_VIOLATION, "VERSION reply breaks the spec: %s", e);
        break;
    case VFU_CALL_TIMEOUT:
        vfh_runner_out_set(o, VFU_FAIL, VFU_FK_TIMEOUT, "no VERSION reply within %d ms", s->R->timeout_ms);
        vfh_runner_target_judge(s->R, o, true);
        return;
    case VFU_CALL_EOF:
        vfh_runner_out_set(o, VFU_FAIL, VFU_FK_CLOSED, "the server closed the connection instead of answering VERSION");
        break;
    case VFU_CALL_ERROR:
        vfh_runner_out_set(o, VFU_FAIL, e[0] && res->err.code != VFU_E_EOF && res->err.code != VFU_E_IO ? VFU_FK_VIOLATION : VFU_FK_CLOSED,
                "VERSION failed: %s", e);
        break;
    }
    vfh_runner_target_judge(s->R, o, false);
}

bool vfh_runner_sess_open(struct sess *s, const struct scn_negotiate *neg, struct outcome *o)
{
    struct runner *R = s->R;
    struct vfu_client_opts co;
    vfu_client_opts_default(&co);
    co.timeout_ms = R->timeout_ms;
    co.frame_timeout_ms = R->timeout_ms;
    co.trace = s->trace;
    co.trace_twin = s->trace_twin;
    struct vfu_error err;
    s->c = vfu_client_connect(R->path, R->timeout_ms, &co, &err);
    memset(s->accounted, 0, sizeof s->accounted);
    for (int k = 0; k < VFU_V__COUNT; k++) s->viol_first_step[k] = NO_STEP;
    s->nq = s->nmaps = s->nefds = 0;
    s->lost_early = false;
    if (!s->c) {
        char e[256];
        vfu_error_str(&err, e, sizeof e);
        vfh_runner_out_set(o, VFU_FAIL, err.code == VFU_E_TIMEOUT ? VFU_FK_TIMEOUT : VFU_FK_CLOSED,
                "cannot connect to %s: %s", R->path, e);
        /* a server that has gone meanwhile: runner.c asks why first */
        if (err.code != VFU_E_TIMEOUT && s->may_retry) {
            s->lost_early = true;
            return false;
        }
        vfh_runner_target_judge(R, o, false);
        return false;
    }
    vfh_runner_fdcheck_peer(R, vfu_client_fd(s->c, VFU_SOCK_MAIN));
    if (neg && neg->mode == SCN_NEG_NONE) return true;
    struct vfu_version_proposal p;
    char json[4096];
    proposal(neg, &p, json, sizeof json);
    struct vfu_version_result res;
    int step = s->step;
    s->step = -1;
    bool ok = vfu_client_negotiate(s->c, &p, R->timeout_ms, &res);
    if (ok && (!neg || neg->mode == SCN_NEG_DEFAULT)) {
        /* A reply naming capabilities the client did not propose is judged
         * once, by VERSION.caps.subset; with the default proposal it would
         * otherwise fail every scenario of a server that does it and hide
         * everything else the suite could tell. */
        s->accounted[VFU_V_CAPS] = vfu_client_violation_count(s->c, VFU_V_CAPS);
    }
    vfh_runner_sess_note_violations(s);
    s->step = step;
    if (ok) return true;
    /* closed before a default VERSION was answered: the server may have
     * gone after the previous session (runner.c asks) */
    if (s->may_retry && (!neg || neg->mode == SCN_NEG_DEFAULT) &&
        (res.status == VFU_CALL_EOF ||
         (res.status == VFU_CALL_ERROR && (res.err.code == VFU_E_EOF || res.err.code == VFU_E_IO)))) {
        vfh_runner_out_set(o, VFU_FAIL, VFU_FK_CLOSED, "the server closed the connection instead of answering VERSION");
        s->lost_early = true;
        return false;
    }
    negotiation_failed(s, &res, o);
    return false;
}

/* how long the server has to close its end once we closed ours for
 * writing; one that takes longer is not waited for again */
static int half_close_ms(const struct runner *R)
{
    return R->timeout_ms < 250 ? R->timeout_ms : 250;
}

void vfh_runner_sess_close(struct sess *s)
{
    if (s->c) {
        struct runner *R = s->R;
        int fd = vfu_client_fd(s->c, VFU_SOCK_MAIN);
        /* the server reads end-of-file, ends the session and closes its
         * end: after that what it held for the session should be closed,
         * and a server that dies of it is dying already */
        if (fd >= 0 && !R->no_half_close && !vfu_client_peer_closed(s->c) && shutdown(fd, SHUT_WR) == 0) {
            int64_t end = client_deadline(half_close_ms(R));
            int left;
            while ((left = client_left(end)) > 0 && vfu_client_pump(s->c, left) >= 0) {
            }
            if (!vfu_client_peer_closed(s->c) && !vfu_client_broken(s->c) && !vfu_stopsig_pending()) {
                R->no_half_close = true;
                fprintf(stderr, "vfu-conform: the server did not close a connection within %d ms of the client "
                        "closing it; not waited for again\n", half_close_ms(R));
            }
        }
        vfu_client_close(s->c);
    }
    s->c = NULL;
    s->nq = s->nmaps = s->nefds = 0;
}

bool vfh_runner_sess_fence_session(struct runner *R, struct outcome *o, bool *lost_early)
{
    bool s_lost = false;
    struct sess f;
    memset(&f, 0, sizeof f);
    f.R = R;
    struct scn_scenario pseudo = {.id = "fence", .file = "fence"};
    f.sc = &pseudo;
    f.step = -1;
    f.may_retry = true;
    bool ok = vfh_runner_sess_open(&f, NULL, o);
    vfh_runner_sess_close(&f);
    /* one that dies as the fence leaves dies as every client leaves: the
     * session before it is blamed (target_open_lost on the next open) */
    s_lost = f.lost_early;
    if (lost_early) *lost_early = s_lost;
    return ok;
}

void vfh_runner_sess_note_violations(struct sess *s)
{
    if (!s->c) return;
    for (int k = 0; k < VFU_V__COUNT; k++)
        if (vfu_client_violation_count(s->c, (enum vfu_viol_kind)k) > s->accounted[k] && s->viol_first_step[k] == NO_STEP)
            s->viol_first_step[k] = s->step;
}

bool vfh_runner_sess_check_violations(struct sess *s, struct outcome *o)
{
    if (!s->c) return true;
    vfh_runner_sess_note_violations(s);
    int kind = -1;
    for (int k = 0; k < VFU_V__COUNT; k++)
        if (s->viol_first_step[k] != NO_STEP && (kind < 0 || s->viol_first_step[k] < s->viol_first_step[kind])) kind = k;
    if (kind < 0) return true;
    /* the first kept violation of that kind that no expect took */
    unsigned n;
    const struct vfu_violation *v = vfu_client_violations(s->c, &n);
    unsigned long skip = s->accounted[kind];
    char text[400] = "";
    for (unsigned i = 0; i < n; i++) {
        if ((int)v[i].kind != kind) continue;
        if (skip) { skip--; continue; }
        vfu_violation_str(&v[i], text, sizeof text);
        break;
    }
    if (!text[0]) snprintf(text, sizeof text, "%s", vfu_viol_kind_name((enum vfu_viol_kind)kind));
    int at = s->viol_first_step[kind];
    if (at < 0) {
        int line = s->sc->neg.line ? s->sc->neg.line : s->sc->line;
        vfh_runner_out_set(o, VFU_FAIL, VFU_FK_VIOLATION, "negotiation (%s:%d): the server broke a rule: %s", s->sc->file,
                line, text);
        o->line = line;
        return false;
    }
    const struct scn_step *st = &s->sc->steps[at];
    vfh_runner_out_set(o, VFU_FAIL, VFU_FK_VIOLATION, "step %d (%s:%d): the server broke a rule: %s", at + 1,
            s->sc->file, st->line, text);
    o->line = st->line;
    return false;
}
