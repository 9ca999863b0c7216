/* The steps that are not send/expect: guest memory and its DMA mappings,
 * interrupts, register access, variables, and the session's lifecycle. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runner_int.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct named_map *find_map(struct sess *s, const char *name)
{
    for (unsigned i = 0; i < s->nmaps; i++)
        if (!strcmp(s->maps[i].name, name)) return &s->maps[i];
    return NULL;
}

static int find_efd(struct sess *s, const char *name)
{
    for (unsigned i = 0; i < s->nefds; i++)
        if (!strcmp(s->efds[i].name, name)) return s->efds[i].fd;
    return -1;
}

/* Our side could not do it.  When the system refused (a memfd, mmap or
 * eventfd it would not give), the scenario cannot be played on this
 * machine: a SKIP saying why, which counts against nobody. */
static bool local_error(struct outcome *o, const char *what, const struct vfu_error *err)
{
    char e[256];
    vfu_error_str(err, e, sizeof e);
    if (err->code == VFU_E_IO && err->sys_errno)
        vfh_runner_out_set(o, VFU_SKIP, VFU_FK_NONE, "this system refused the %s: %s", what, e);
    else
        vfh_runner_out_set(o, VFU_ERROR, VFU_FK_NONE, "%s: %s", what, e);
    return false;
}

static bool do_map(struct sess *s, const struct scn_step *st, struct outcome *o)
{
    uint64_t addr, size, prot;
    if (!vfh_runner_eval(s, &st->u.map.addr, &addr, o) || !vfh_runner_eval(s, &st->u.map.size, &size, o) ||
        !vfh_runner_eval(s, &st->u.map.prot, &prot, o))
        return false;
    struct vfu_error err;
    int region = vfu_mem_add(s->c, addr, size, (uint32_t)prot, st->u.map.memfd ? VFU_MEM_MEMFD : VFU_MEM_MESSAGE, &err);
    if (region < 0) return local_error(o, "guest memory", &err);
    struct vfu_reply r;
    vfu_reply_init(&r);
    enum vfu_call_status cs = vfu_client_dma_map(s->c, region, s->R->timeout_ms, &r);
    char what[128];
    snprintf(what, sizeof what, "DMA_MAP of %s", st->u.map.name);
    bool ok = vfh_runner_expect_success(s, what, cs, &r, o);
    vfu_reply_release(&r);
    if (!ok) {
        vfu_mem_remove(s->c, region);
        return false;
    }
    s->maps[s->nmaps++] = (struct named_map){st->u.map.name, region};
    return true;
}

static bool do_unmap(struct sess *s, const struct scn_step *st, struct outcome *o)
{
    struct named_map *m = find_map(s, st->u.map.name);
    if (!m) {
        vfh_runner_out_set(o, VFU_ERROR, VFU_FK_NONE, "no mapping %s", st->u.map.name);
        return false;
    }
    struct vfu_reply r;
    vfu_reply_init(&r);
    enum vfu_call_status cs = vfu_client_dma_unmap(s->c, m->region, s->R->timeout_ms, &r);
    char what[128];
    snprintf(what, sizeof what, "DMA_UNMAP of %s", st->u.map.name);
    bool ok = vfh_runner_expect_success(s, what, cs, &r, o);
    vfu_reply_release(&r);
    if (ok) {
        vfu_mem_remove(s->c, m->region);
        *m = s->maps[--s->nmaps];
    }
    return ok;
}

static bool do_irq(struct sess *s, const struct scn_step *st, struct outcome *o)
{
    uint64_t index, sub;
    if (!vfh_runner_eval(s, &st->u.irq.index, &index, o) || !vfh_runner_eval(s, &st->u.irq.sub, &sub, o)) return false;
    struct vfu_error err;
    int fd = find_efd(s, st->u.irq.name);
    if (fd < 0) {
        if ((fd = vfu_client_eventfd(s->c, &err)) < 0) return local_error(o, "eventfd", &err);
        if (s->nefds < sizeof s->efds / sizeof s->efds[0]) s->efds[s->nefds++] = (struct named_fd){st->u.irq.name, fd};
    }
    uint8_t buf[256];
    struct vfu_enc e;
    if (!vfu_irq_enc_set(&e, buf, sizeof buf, (uint32_t)index, (uint32_t)sub, VFU_IRQ_SET_FLAGS_ACTION_TRIGGER, &fd, 1, &err))
        return local_error(o, "SET_IRQS request", &err);
    struct vfu_reply r;
    vfu_reply_init(&r);
    enum vfu_call_status cs = vfu_client_call(s->c, &e, NULL, s->R->timeout_ms, &r);
    char what[128];
    snprintf(what, sizeof what, "SET_IRQS of %s", st->u.irq.name);
    bool ok = vfh_runner_expect_success(s, what, cs, &r, o);
    vfu_reply_release(&r);
    return ok;
}

static bool do_rw(struct sess *s, const struct scn_step *st, struct outcome *o)
{
    bool write = st->kind == SCN_S_WRITE;
    uint64_t region, offset, count = 0, value = 0;
    const uint8_t *bytes = NULL;
    uint32_t nbytes = 0;
    if (!vfh_runner_eval(s, &st->u.rw.region, &region, o) || !vfh_runner_eval(s, &st->u.rw.offset, &offset, o)) return false;
    if (write && st->u.rw.has_bytes) {
        if (!vfh_runner_eval_bytes(s, &st->u.rw.bytes, &bytes, &nbytes, o)) return false;
        count = nbytes;
    } else {
        if (!vfh_runner_eval(s, &st->u.rw.count, &count, o)) return false;
        if (write && !vfh_runner_eval(s, &st->u.rw.value, &value, o)) return false;
    }
    if (count > VFU_CLIENT_RX_CAP || (write && !st->u.rw.has_bytes && (count < 1 || count > 8))) {
        vfh_runner_out_set(o, VFU_ERROR, VFU_FK_NONE, "%s of %llu bytes: out of range", write ? "write" : "read",
                (unsigned long long)count);
        return false;
    }
    size_t cap = VFU_HDR_SIZE + 256 + (write ? count : 0);
    uint8_t *buf = malloc(cap);
    if (!buf) { vfh_runner_out_set(o, VFU_ERROR, VFU_FK_NONE, "out of memory"); return false; }
    struct vfu_enc e;
    if (write) {
        vfu_enc_begin(&e, buf, cap, VFU_CMD_REGION_WRITE, false, 0);
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_OFFSET, offset);
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_REGION, region);
        uint8_t *d = vfu_enc_data(&e, VFU_F_REGION_ACCESS_DATA_DATA, bytes, (size_t)count);
        if (d && !st->u.rw.has_bytes) vfu_write_uint(d, (unsigned)count, value);
    } else {
        vfu_enc_begin(&e, buf, cap, VFU_CMD_REGION_READ, false, 0);
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_OFFSET, offset);
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_REGION, region);
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_COUNT, count);
    }
    struct vfu_error err;
    if (!vfu_enc_finish(&e, &err)) {
        free(buf);
        return local_error(o, "encode", &err);
    }
    struct vfu_reply r;
    vfu_reply_init(&r);
    enum vfu_call_status cs = vfu_client_call(s->c, &e, NULL, s->R->timeout_ms, &r);
    free(buf);
    char what[128];
    snprintf(what, sizeof what, "%s of %llu bytes at region %llu offset 0x%llx", write ? "REGION_WRITE" : "REGION_READ",
             (unsigned long long)count, (unsigned long long)region, (unsigned long long)offset);
    bool ok = vfh_runner_expect_success(s, what, cs, &r, o);
    if (ok) {
        int cf = write ? VFU_F_REGION_ACCESS_COUNT : VFU_F_REGION_ACCESS_DATA_COUNT;
        uint64_t got = vfu_get(&r.msg, cf);
        uint32_t n = 0;
        const uint8_t *d = write ? NULL : vfu_data(&r.msg, VFU_F_REGION_ACCESS_DATA_DATA, &n);
        if (got != count || (!write && n != count)) {
            vfh_runner_out_set(o, VFU_FAIL, VFU_FK_MISMATCH, "%s: the reply's count is %llu%s", what, (unsigned long long)got,
                    write ? "" : " or its data differs in length");
            ok = false;
        } else if (!write && st->u.rw.as && !vfh_runner_rvars_set(&s->vars, st->u.rw.as, 0, d ? d : (const uint8_t *)"", n)) {
            vfh_runner_out_set(o, VFU_ERROR, VFU_FK_NONE, "out of memory");
            ok = false;
        }
    }
    vfu_reply_release(&r);
    return ok;
}

static bool do_memory(struct sess *s, const struct scn_step *st, struct outcome *o)
{
    uint64_t addr;
    const uint8_t *p;
    uint32_t n;
    if (!vfh_runner_eval(s, &st->u.mem.addr, &addr, o) || !vfh_runner_eval_bytes(s, &st->u.mem.bytes, &p, &n, o)) return false;
    uint8_t *buf = calloc(1, n ? n : 1);
    if (!buf) { vfh_runner_out_set(o, VFU_ERROR, VFU_FK_NONE, "out of memory"); return false; }
    bool ok;
    if (st->kind == SCN_S_POKE) {
        if (p) memcpy(buf, p, n);
        ok = vfu_mem_write(s->c, addr, buf, n);
        if (!ok) vfh_runner_out_set(o, VFU_ERROR, VFU_FK_NONE, "poke 0x%llx: not guest memory", (unsigned long long)addr);
        free(buf);
        return ok;
    }
    if (!vfu_mem_read(s->c, addr, buf, n)) {
        free(buf);
        vfh_runner_out_set(o, VFU_ERROR, VFU_FK_NONE, "memory at 0x%llx: not guest memory", (unsigned long long)addr);
        return false;
    }
    uint32_t i = 0;
    while (i < n && buf[i] == (p ? p[i] : 0)) i++;
    ok = i == n;
    if (!ok) {
        uint32_t show = n - i > 16 ? 16 : n - i;
        char want[40] = "", got[40] = "";
        for (uint32_t k = 0; k < show; k++) {
            snprintf(want + 2 * k, 3, "%02x", p ? p[i + k] : 0);
            snprintf(got + 2 * k, 3, "%02x", buf[i + k]);
        }
        vfh_runner_out_set(o, VFU_FAIL, VFU_FK_MISMATCH, "memory at 0x%llx: expected %s%s, got %s",
                (unsigned long long)(addr + i), want, show < n - i ? "..." : "", got);
    }
    free(buf);
    return ok;
}

static bool do_interrupt(struct sess *s, const struct scn_step *st, struct outcome *o)
{
    uint64_t ms, count = 0;
    if (!vfh_runner_eval(s, &st->u.intr.ms, &ms, o)) return false;
    int fd = find_efd(s, st->u.intr.name);
    if (fd < 0) {
        vfh_runner_out_set(o, VFU_ERROR, VFU_FK_NONE, "no eventfd %s", st->u.intr.name);
        return false;
    }
    struct vfu_error err;
    bool want = st->kind == SCN_S_EXPECT_INTERRUPT;
    int wait = (int)(ms > SCN_MAX_WAIT_MS ? SCN_MAX_WAIT_MS : ms);
    /* no interrupt: none by the time the server answered a later request
     * (runner_fence.c); without that answer, none within MS */
    if (!want && vfh_runner_sess_fence(s) == FENCE_OK) wait = 0;
    int r = vfu_client_irq_wait(s->c, fd, wait, &count, &err);
    if (r < 0) {
        char e[256];
        vfu_error_str(&err, e, sizeof e);
        vfh_runner_out_set(o, VFU_FAIL, VFU_FK_CLOSED, "waiting for interrupt %s: %s", st->u.intr.name, e);
        vfh_runner_target_judge(s->R, o, false);
        return false;
    }
    if ((r == 1) == want) return true;
    if (want) vfh_runner_out_set(o, VFU_FAIL, VFU_FK_MISMATCH, "interrupt %s did not fire within %llu ms", st->u.intr.name, (unsigned long long)ms);
    else vfh_runner_out_set(o, VFU_FAIL, VFU_FK_MISMATCH, "interrupt %s fired (%llu times)", st->u.intr.name, (unsigned long long)count);
    return false;
}

static bool do_served(struct sess *s, const struct scn_step *st, struct outcome *o)
{
    uint64_t min;
    if (!vfh_runner_eval(s, &st->u.served.min, &min, o)) return false;
    int64_t end = now_ms() + s->R->timeout_ms;
    for (;;) {
        const struct vfu_client_stats *cs = vfu_client_stats(s->c);
        unsigned long n = st->u.served.write ? cs->dma_write : cs->dma_read;
        if (n >= min) return true;
        int64_t left = end - now_ms();
        if (left <= 0 || vfu_client_pump(s->c, left > 100 ? 100 : (int)left) < 0) {
            vfh_runner_out_set(o, VFU_FAIL, VFU_FK_MISMATCH, "served %lu %s request%s, expected at least %llu", n,
                    st->u.served.write ? "DMA_WRITE" : "DMA_READ", n == 1 ? "" : "s", (unsigned long long)min);
            return false;
        }
    }
}

static bool do_violation(struct sess *s, const struct scn_step *st, struct outcome *o)
{
    int k = st->u.viol.kind;
    unsigned long n = s->c ? vfu_client_violation_count(s->c, (enum vfu_viol_kind)k) : 0;
    if (n > s->accounted[k]) {
        s->accounted[k] = n;
        s->viol_first_step[k] = NO_STEP;
        return true;
    }
    vfh_runner_out_set(o, VFU_FAIL, VFU_FK_MISMATCH, "expected the server to break a %s rule; it did not",
            vfu_viol_kind_name((enum vfu_viol_kind)k));
    return false;
}

static bool do_sleep(struct sess *s, const struct scn_step *st, struct outcome *o)
{
    uint64_t ms;
    if (!vfh_runner_eval(s, &st->u.sleep.ms, &ms, o)) return false;
    if (ms > SCN_MAX_WAIT_MS) ms = SCN_MAX_WAIT_MS;
    int64_t end = now_ms() + (int64_t)ms;
    /* server requests keep being answered meanwhile */
    for (int64_t left; (left = end - now_ms()) > 0;) {
        if (s->c && vfu_client_pump(s->c, (int)left) >= 0) continue;
        struct timespec ts = {left / 1000, (left % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
    return true;
}

static bool do_session(struct sess *s, const struct scn_step *st, struct outcome *o)
{
    if (!vfh_runner_sess_check_violations(s, o)) return false;
    vfh_runner_sess_close(s);
    if (st->kind == SCN_S_DISCONNECT) return true;
    if (st->kind == SCN_S_RESTART) {
        if (!s->R->server) {
            vfh_runner_out_set(o, VFU_SKIP, VFU_FK_NONE, "restart needs --server");
            return false;
        }
        if (!vfh_runner_target_terminate(s->R, o) || !vfh_runner_target_restart(s->R, o)) return false;
        return vfh_runner_sess_open(s, &s->sc->neg, o);
    }
    /* reconnect: a server that exits after each client is started again */
    for (int attempt = 0;; attempt++) {
        if (!vfh_runner_target_between(s->R, attempt > 0, o) || !vfh_runner_target_ready(s->R, o)) return false;
        s->may_retry = s->R->server && attempt == 0;
        if (vfh_runner_sess_open(s, &s->sc->neg, o)) return true;
        if (!s->lost_early) return false;
        /* closed before VERSION: gone after the last client? */
        vfh_runner_sess_close(s);
        if (attempt) {
            vfh_runner_target_judge(s->R, o, false);
            return false;
        }
    }
}

/* A second client, while this session stays attached: it connects and
 * proposes VERSION, then leaves.  Whether the server serves it, refuses it
 * or leaves it waiting (a server of one client at a time) is the server's
 * choice and not judged here: the steps after this one judge what became
 * of the first session.  Waits 50 ms at most (or the timeout when
 * shorter) for the VERSION answer: what the second client gets done does
 * not change a verdict, and a server of one client at a time answers
 * nothing until the first has gone. */
static bool do_second_client(struct sess *s, struct outcome *o)
{
    (void)o;
    struct runner *R = s->R;
    int ms = R->timeout_ms < 50 ? R->timeout_ms : 50;
    struct vfu_client_opts co;
    vfu_client_opts_default(&co);
    co.timeout_ms = ms;
    co.frame_timeout_ms = ms;
    struct vfu_error err;
    struct vfu_client *c = vfu_client_connect(R->path, ms, &co, &err);
    if (!c) return true;
    struct vfu_version_proposal prop;
    vfu_proposal_default(&prop);
    struct vfu_version_result res;
    (void)vfu_client_negotiate(c, &prop, ms, &res);
    vfu_client_close(c);
    return true;
}

bool vfh_runner_step_run(struct sess *s, const struct scn_step *st, struct outcome *o)
{
    uint64_t a, b;
    bool needs = st->kind != SCN_S_SET && st->kind != SCN_S_CHECK && st->kind != SCN_S_SLEEP &&
                 st->kind != SCN_S_RECONNECT && st->kind != SCN_S_RESTART && st->kind != SCN_S_EXPECT_VIOLATION;
    if (needs && !s->c) {
        vfh_runner_out_set(o, VFU_FAIL, VFU_FK_CLOSED, "no connection (it closed earlier)");
        return false;
    }
    switch ((enum scn_step_kind)st->kind) {
    case SCN_S_SEND: return vfh_runner_step_send(s, st, o);
    case SCN_S_EXPECT_OK:
    case SCN_S_EXPECT_ERROR:
    case SCN_S_EXPECT_REPLY:
    case SCN_S_EXPECT_CLOSE:
    case SCN_S_EXPECT_ERROR_OR_CLOSE:
    case SCN_S_EXPECT_NONE: return vfh_runner_step_expect(s, st, o);
    case SCN_S_EXPECT_INTERRUPT:
    case SCN_S_EXPECT_NO_INTERRUPT: return do_interrupt(s, st, o);
    case SCN_S_EXPECT_MEMORY:
    case SCN_S_POKE: return do_memory(s, st, o);
    case SCN_S_EXPECT_SERVED: return do_served(s, st, o);
    case SCN_S_EXPECT_VIOLATION: return do_violation(s, st, o);
    case SCN_S_MAP: return do_map(s, st, o);
    case SCN_S_UNMAP: return do_unmap(s, st, o);
    case SCN_S_IRQ: return do_irq(s, st, o);
    case SCN_S_READ:
    case SCN_S_WRITE: return do_rw(s, st, o);
    case SCN_S_SET:
        if (!vfh_runner_eval(s, &st->u.set.val, &a, o)) return false;
        if (!vfh_runner_rvars_set(&s->vars, st->u.set.var, a, NULL, 0)) {
            vfh_runner_out_set(o, VFU_ERROR, VFU_FK_NONE, "out of memory");
            return false;
        }
        return true;
    case SCN_S_CHECK:
        if (!vfh_runner_eval(s, &st->u.check.a, &a, o) || !vfh_runner_eval(s, &st->u.check.b, &b, o)) return false;
        if (vfh_runner_compare((enum scn_op)st->u.check.op, a, b)) return true;
        vfh_runner_out_set(o, VFU_FAIL, VFU_FK_MISMATCH, "check failed: 0x%llx %s 0x%llx", (unsigned long long)a,
                vfh_scn_op_name((enum scn_op)st->u.check.op), (unsigned long long)b);
        return false;
    case SCN_S_DISCONNECT:
    case SCN_S_RECONNECT:
    case SCN_S_RESTART: return do_session(s, st, o);
    case SCN_S_SLEEP: return do_sleep(s, st, o);
    case SCN_S_TRUNCATE: return vfh_runner_step_truncate(s, st, o);
    case SCN_S_SECOND_CLIENT: return do_second_client(s, o);
    }
    vfh_runner_out_set(o, VFU_ERROR, VFU_FK_NONE, "unknown step");
    return false;
}
