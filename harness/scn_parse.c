/* Scenario files into struct scn_set: scenario headers, steps, and the
 * bookkeeping that catches a scenario's mistakes at load time (a send
 * without its expect, a mapping or eventfd used before it exists, a
 * variable read before it is set, a step after the session ended). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfu_caps.h"
#include "vfu_client.h"
#include "vfu_codec.h"
#include "scn_int.h"
#include "vfu_spec.h"

#define MAX_NAMES 128

struct pending { int step; uint16_t cmd; int line; };

struct pctx {
    struct scn_set *set;
    struct scn_arena *a;
    const char *file;
    struct scn_errors *errs;
    const struct scn_line *ln;     /* line being parsed */
    char msg[768];
    /* the scenario being read */
    struct scn_scenario *sc;
    struct scn_step steps[SCN_MAX_STEPS];
    unsigned nsteps;
    struct scn_req reqs[32];
    unsigned nreqs;
    bool have_section, have_title, have_rule, have_level, have_negotiate;
    struct pending q[SCN_MAX_PENDING];
    unsigned nq;
    int session;                   /* 1 open, 0 closed, -1 perhaps closed */
    const char *vars[MAX_NAMES];
    unsigned nvars;
    const char *maps[VFU_CLIENT_MAX_REGIONS];
    unsigned nmaps;
    const char *efds[MAX_NAMES];
    unsigned nefds;
};

static const char *const step_names[] = {
    [SCN_S_SEND] = "send", [SCN_S_EXPECT_OK] = "expect ok", [SCN_S_EXPECT_ERROR] = "expect error",
    [SCN_S_EXPECT_REPLY] = "expect reply", [SCN_S_EXPECT_CLOSE] = "expect close",
    [SCN_S_EXPECT_ERROR_OR_CLOSE] = "expect error-or-close", [SCN_S_EXPECT_NONE] = "expect none",
    [SCN_S_EXPECT_INTERRUPT] = "expect interrupt", [SCN_S_EXPECT_NO_INTERRUPT] = "expect no-interrupt",
    [SCN_S_EXPECT_MEMORY] = "expect memory", [SCN_S_EXPECT_SERVED] = "expect served",
    [SCN_S_EXPECT_VIOLATION] = "expect violation", [SCN_S_MAP] = "map", [SCN_S_UNMAP] = "unmap",
    [SCN_S_IRQ] = "irq", [SCN_S_READ] = "read", [SCN_S_WRITE] = "write", [SCN_S_POKE] = "poke",
    [SCN_S_SET] = "set", [SCN_S_CHECK] = "check", [SCN_S_DISCONNECT] = "disconnect",
    [SCN_S_RECONNECT] = "reconnect", [SCN_S_RESTART] = "restart", [SCN_S_SLEEP] = "sleep",
    [SCN_S_TRUNCATE] = "truncate", [SCN_S_SECOND_CLIENT] = "second-client",
};

const char *vfh_scn_step_kind_name(enum scn_step_kind k)
{
    return (unsigned)k < sizeof step_names / sizeof step_names[0] && step_names[k] ? step_names[k] : "?";
}

const char *vfh_scn_level_name(enum vfu_level l)
{
    return l == VFU_LEVEL_MUST ? "MUST" : l == VFU_LEVEL_SHOULD ? "SHOULD" : "INFO";
}

/* -------------------------------------------------------------- errors */

static void add_error(struct scn_errors *e, const char *file, int line, const char *origin,
                      const char *msg)
{
    e->total++;
    if (e->n == SCN_MAX_ERRORS) return;
    char buf[1024];
    if (line > 0 && origin) snprintf(buf, sizeof buf, "%s:%d (%s): %s", file, line, origin, msg);
    else if (line > 0) snprintf(buf, sizeof buf, "%s:%d: %s", file, line, msg);
    else snprintf(buf, sizeof buf, "%s: %s", file, msg);
    char *m = strdup(buf);
    if (m) e->msg[e->n++] = m;
}

static bool fail(struct pctx *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(struct pctx *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->msg, sizeof p->msg, fmt, ap);
    va_end(ap);
    return false;
}

/* ------------------------------------------------------------- names */

static bool in_list(const char *const *v, unsigned n, const char *name)
{
    for (unsigned i = 0; i < n; i++)
        if (!strcmp(v[i], name)) return true;
    return false;
}

static bool var_known(void *ctx, const char *name)
{
    struct pctx *p = ctx;
    return in_list(p->vars, p->nvars, name);
}

static void def_var(void *ctx, const char *name)
{
    struct pctx *p = ctx;
    if (!in_list(p->vars, p->nvars, name) && p->nvars < MAX_NAMES) p->vars[p->nvars++] = name;
}

static struct scn_vctx vctx(struct pctx *p)
{
    return (struct scn_vctx){p->a, var_known, p, p->msg, sizeof p->msg};
}

static bool value(struct pctx *p, const char *what, const char *s, struct scn_names names,
                  struct scn_value *v)
{
    struct scn_vctx c = vctx(p);
    if (vfh_scn_read_value(&c, s, names, v)) return true;
    char m[768];
    snprintf(m, sizeof m, "%s", p->msg);
    return fail(p, "%s: %s", what, m);
}

static int enum_id(const char *name)
{
    for (unsigned i = 0; i < vfu_nenums(); i++)
        if (!strcmp(vfu_enum(i)->name, name)) return (int)i;
    return -1;
}

static int bits_id(const char *name)
{
    for (unsigned i = 0; i < vfu_nbits(); i++)
        if (!strcmp(vfu_bits(i)->name, name)) return (int)i;
    return -1;
}

static struct scn_names enum_names(const char *name) { return (struct scn_names){-1, enum_id(name), false}; }

/* a user variable: declared (for later lines) after its step is read */
static bool new_var(struct pctx *p, const char *name, const char **out)
{
    if (!vfh_scn_valid_name(name)) return fail(p, "bad variable name '%s'", name);
    if (vfh_scn_builtin_var(name)) return fail(p, "$%s is provided by the probe; choose another name", name);
    if (!(*out = vfh_scn_strdup(p->a, name))) return fail(p, "out of memory");
    def_var(p, *out);
    return true;
}

/* ------------------------------------------------------------- header */

static bool parse_requires(struct pctx *p, const struct scn_tokens *t)
{
    static const struct { const char *name; int kind; bool arg; } reqs[] = {
        {"migration", SCN_R_MIGRATION, false}, {"dma-logging", SCN_R_DMA_LOGGING, false},
        {"mmap-region", SCN_R_MMAP_REGION, false}, {"irq", SCN_R_IRQ, true},
        {"region", SCN_R_REGION, true}, {"write_multiple", SCN_R_WRITE_MULTIPLE, false},
        {"twin_socket", SCN_R_TWIN_SOCKET, false}, {"reset", SCN_R_RESET, false},
        {"io-fds", SCN_R_IO_FDS, false}, {"server", SCN_R_SERVER, false}, {"device", SCN_R_DEVICE, true},
        {"max_dma_maps", SCN_R_MAX_DMA_MAPS, true},
    };
    if (t->n < 2) return fail(p, "requires: what?");
    for (unsigned i = 1; i < t->n; i++) {
        size_t k = 0;
        while (k < sizeof reqs / sizeof reqs[0] && strcmp(reqs[k].name, t->tok[i])) k++;
        if (k == sizeof reqs / sizeof reqs[0])
            return fail(p, "requires: unknown '%s' (known: migration dma-logging mmap-region irq INDEX "
                           "region INDEX write_multiple twin_socket reset io-fds server device VENDOR:DEVICE "
                           "max_dma_maps N)",
                        t->tok[i]);
        if (p->nreqs == sizeof p->reqs / sizeof p->reqs[0]) return fail(p, "too many requirements");
        struct scn_req *r = &p->reqs[p->nreqs++];
        memset(r, 0, sizeof *r);
        r->kind = (uint8_t)reqs[k].kind;
        r->line = p->ln->line;
        if (reqs[k].kind == SCN_R_DEVICE) {
            uint64_t ven, dev;
            char v[32];
            const char *colon = ++i < t->n ? strchr(t->tok[i], ':') : NULL;
            if (!colon || (size_t)(colon - t->tok[i]) >= sizeof v ||
                (snprintf(v, sizeof v, "%.*s", (int)(colon - t->tok[i]), t->tok[i]), !vfh_scn_read_number(v, &ven)) ||
                !vfh_scn_read_number(colon + 1, &dev) || ven > 0xffff || dev > 0xffff)
                return fail(p, "requires device: VENDOR:DEVICE, two 16-bit numbers (0x1234:0x11f0)");
            r->arg.num = ven << 16 | dev;
            continue;
        }
        if (reqs[k].arg) {
            bool count = reqs[k].kind == SCN_R_MAX_DMA_MAPS;
            if (++i == t->n) return fail(p, "requires %s: %s?", reqs[k].name, count ? "how many" : "which index");
            struct scn_names nm = count ? SCN_NAMES_NONE
                                        : enum_names(reqs[k].kind == SCN_R_IRQ ? "pci_irq" : "pci_region");
            if (!value(p, reqs[k].name, t->tok[i], nm, &r->arg)) return false;
            if (r->arg.nvars)
                return fail(p, "requires %s: the %s must be a constant", reqs[k].name, count ? "number" : "index");
        }
    }
    return true;
}

static bool parse_negotiate(struct pctx *p, const struct scn_tokens *t)
{
    struct scn_negotiate *n = &p->sc->neg;
    n->line = p->ln->line;
    if (t->n < 2) return fail(p, "negotiate: default, none, or options");
    if (t->n == 2 && !strcmp(t->tok[1], "default")) { n->mode = SCN_NEG_DEFAULT; return true; }
    if (t->n == 2 && !strcmp(t->tok[1], "none")) { n->mode = SCN_NEG_NONE; return true; }
    n->mode = SCN_NEG_CUSTOM;
    for (unsigned i = 1; i < t->n; i++) {
        const char *w = t->tok[i];
        const char *eq = strchr(w, '=');
        uint64_t v;
        if (!strcmp(w, "nojson")) n->nojson = true;
        else if (!strcmp(w, "nonul")) n->nonul = true;
        else if (!strcmp(w, "twin")) {
            if (n->ncaps == 16) return fail(p, "negotiate: too many caps");
            n->caps[n->ncaps++] = (struct scn_cap_set){VFU_CAP_TWIN_SOCKET_SUPPORTED, 1};
        } else if (!strncmp(w, "major=", 6) || !strncmp(w, "minor=", 6)) {
            if (!vfh_scn_read_number(w + 6, &v) || v > 0xffff) return fail(p, "negotiate: %s: 0 to 65535", w);
            if (w[1] == 'a') { n->set_major = true; n->major = (uint16_t)v; }
            else { n->set_minor = true; n->minor = (uint16_t)v; }
        } else if (!strncmp(w, "json=", 5)) {
            if (!(n->json = vfh_scn_strdup(p->a, w + 5))) return fail(p, "out of memory");
        } else if (!strncmp(w, "caps.", 5) && eq) {
            char name[SCN_MAX_LINE];
            snprintf(name, sizeof name, "%.*s", (int)(eq - w - 5), w + 5);
            int cap = vfu_cap_by_name(name);
            if (cap < 0) return fail(p, "negotiate: unknown capability '%s'", name);
            if (!strcmp(eq + 1, "true")) v = 1;
            else if (!strcmp(eq + 1, "false")) v = 0;
            else if (!vfh_scn_read_number(eq + 1, &v)) return fail(p, "negotiate: %s: a number, true or false", w);
            if (n->ncaps == 16) return fail(p, "negotiate: too many caps");
            n->caps[n->ncaps++] = (struct scn_cap_set){cap, v};
        } else {
            return fail(p, "negotiate: unknown option '%s' (known: default none major=N minor=N json=TEXT "
                           "nojson nonul twin caps.NAME=VALUE)", w);
        }
    }
    if (n->nojson && (n->json || n->ncaps || n->nonul)) return fail(p, "negotiate: nojson sends no data: drop the other data options");
    if (n->json && n->ncaps) return fail(p, "negotiate: json= replaces the capabilities: drop caps.*");
    return true;
}

static bool header_line(struct pctx *p, const struct scn_tokens *t, const char *kw)
{
    if (p->nsteps) return fail(p, "%s must come before the steps", kw);
    size_t len;
    const char *rest = vfh_scn_rest_of_line(p->ln->text, &len);
    if (!strcmp(kw, "section") || !strcmp(kw, "title") || !strcmp(kw, "rule")) {
        bool *have = kw[0] == 's' ? &p->have_section : kw[0] == 't' ? &p->have_title : &p->have_rule;
        if (*have) return fail(p, "a second %s line", kw);
        if (!len) return fail(p, "%s: text expected", kw);
        const char *s = vfh_scn_strndup(p->a, rest, len);
        if (!s) return fail(p, "out of memory");
        if (kw[0] == 's') p->sc->section = s;
        else if (kw[0] == 't') p->sc->title = s;
        else p->sc->rule = s;
        *have = true;
        return true;
    }
    if (!strcmp(kw, "level")) {
        if (p->have_level) return fail(p, "a second level line");
        if (t->n != 2) return fail(p, "level: MUST, SHOULD or INFO");
        if (!strcmp(t->tok[1], "MUST")) p->sc->level = VFU_LEVEL_MUST;
        else if (!strcmp(t->tok[1], "SHOULD")) p->sc->level = VFU_LEVEL_SHOULD;
        else if (!strcmp(t->tok[1], "INFO")) p->sc->level = VFU_LEVEL_INFO;
        else return fail(p, "level: MUST, SHOULD or INFO, not '%s'", t->tok[1]);
        p->have_level = true;
        return true;
    }
    if (!strcmp(kw, "requires")) return parse_requires(p, t);
    if (p->have_negotiate) return fail(p, "a second negotiate line");
    p->have_negotiate = true;
    return parse_negotiate(p, t);
}

/* -------------------------------------------------------------- steps */

static struct scn_step *new_step(struct pctx *p, int kind)
{
    if (p->nsteps == SCN_MAX_STEPS) {
        fail(p, "more than %d steps in one scenario", SCN_MAX_STEPS);
        return NULL;
    }
    struct scn_step *st = &p->steps[p->nsteps++];
    memset(st, 0, sizeof *st);
    st->kind = (uint8_t)kind;
    st->line = p->ln->line;
    st->origin = p->ln->origin;
    return st;
}

static bool need_session(struct pctx *p, const char *what)
{
    if (p->session == 0) return fail(p, "%s: no session (it was closed; add reconnect)", what);
    return true;
}

static bool pop_send(struct pctx *p, struct scn_step *st, const char *what)
{
    if (!p->nq) return fail(p, "%s: no send is waiting for its answer", what);
    st->u.expect.cmd = p->q[0].cmd;
    st->u.expect.send_step = p->q[0].step;
    memmove(p->q, p->q + 1, --p->nq * sizeof p->q[0]);
    return true;
}

static bool no_pending(struct pctx *p, const char *what)
{
    if (p->nq) return fail(p, "%s: the send at line %d has no expect yet", what, p->q[0].line);
    return true;
}

static bool ms_arg(struct pctx *p, const struct scn_tokens *t, unsigned i, uint64_t dflt,
                   struct scn_value *v)
{
    memset(v, 0, sizeof *v);
    v->num = dflt;
    if (i >= t->n) return true;
    if (i + 1 < t->n) return fail(p, "unexpected '%s'", t->tok[i + 1]);
    if (!value(p, "milliseconds", t->tok[i], SCN_NAMES_NONE, v)) return false;
    if (!v->nvars && v->num > SCN_MAX_WAIT_MS) return fail(p, "at most %d ms", SCN_MAX_WAIT_MS);
    return true;
}

/* ERRNO... (required), ERRNO?... (preferred: any error meets the step), or any */
static bool errno_list(struct pctx *p, const struct scn_tokens *t, unsigned from, struct scn_step *st)
{
    for (unsigned i = from; i < t->n; i++) {
        if (!strcmp(t->tok[i], "any")) {
            if (t->n != from + 1) return fail(p, "'any' stands alone");
            return true;
        }
        char name[64];
        size_t l = strlen(t->tok[i]);
        bool q = l > 1 && t->tok[i][l - 1] == '?';
        if (l - q >= sizeof name) return fail(p, "unknown errno name '%s'", t->tok[i]);
        memcpy(name, t->tok[i], l - q);
        name[l - q] = 0;
        if (i > from && q != st->u.expect.prefer)
            return fail(p, "'%s': mark every errno of one expect with ? (preferred) or none (required)", t->tok[i]);
        st->u.expect.prefer = q;
        uint32_t e;
        uint64_t v;
        if (vfh_scn_read_number(name, &v) && v <= UINT32_MAX) e = (uint32_t)v;
        else if (!vfh_scn_errno_value(name, &e)) return fail(p, "unknown errno name '%s'", name);
        if (st->u.expect.nerrnos == 16) return fail(p, "more than 16 errnos");
        st->u.expect.errnos[st->u.expect.nerrnos++] = e;
    }
    return true;
}

static bool efd_known(struct pctx *p, const char *name)
{
    if (!in_list(p->efds, p->nefds, name)) return fail(p, "no eventfd named '%s' (made by irq or fd=eventfd:NAME)", name);
    return true;
}

static bool def_efd(struct pctx *p, const char *name)
{
    if (!in_list(p->efds, p->nefds, name)) {
        if (p->nefds == MAX_NAMES) return fail(p, "more than %d eventfd names", MAX_NAMES);
        p->efds[p->nefds++] = name;
    }
    return true;
}

static bool parse_expect(struct pctx *p, const struct scn_tokens *t)
{
    if (t->n < 2) return fail(p, "expect: what? (ok, error, reply, close, error-or-close, none, interrupt, "
                                 "no-interrupt, memory, served, violation)");
    const char *w = t->tok[1];
    struct scn_vctx c = vctx(p);
    struct scn_step *st;
    if (!strcmp(w, "ok") || !strcmp(w, "reply")) {
        if (!need_session(p, "expect") || !(st = new_step(p, w[0] == 'o' ? SCN_S_EXPECT_OK : SCN_S_EXPECT_REPLY)))
            return false;
        if (!pop_send(p, st, w[0] == 'o' ? "expect ok" : "expect reply")) return false;
        if (w[0] == 'r' && t->n > 2) return fail(p, "expect reply takes nothing more");
        return vfh_scn_parse_checks(&c, t, 2, st->u.expect.cmd, st, def_var);
    }
    if (!strcmp(w, "error") || !strcmp(w, "error-or-close")) {
        bool orclose = w[5] == '-';
        if (!need_session(p, "expect") || !(st = new_step(p, orclose ? SCN_S_EXPECT_ERROR_OR_CLOSE : SCN_S_EXPECT_ERROR)))
            return false;
        if (!pop_send(p, st, orclose ? "expect error-or-close" : "expect error") || !errno_list(p, t, 2, st)) return false;
        if (orclose) p->session = -1;
        return true;
    }
    if (!strcmp(w, "close")) {
        if (!need_session(p, "expect") || !(st = new_step(p, SCN_S_EXPECT_CLOSE))) return false;
        if (t->n > 2) return fail(p, "expect close takes nothing more");
        if (p->nq) pop_send(p, st, "expect close");
        else st->u.expect.send_step = -1;
        if (p->nq) return fail(p, "expect close: the send at line %d would never get its expect", p->q[0].line);
        p->session = 0;
        return true;
    }
    if (!strcmp(w, "none")) {
        if (!need_session(p, "expect") || !(st = new_step(p, SCN_S_EXPECT_NONE))) return false;
        return pop_send(p, st, "expect none") && ms_arg(p, t, 2, 200, &st->u.expect.ms);
    }
    if (!strcmp(w, "interrupt") || !strcmp(w, "no-interrupt")) {
        bool no = w[0] == 'n';
        if (!need_session(p, "expect") || !(st = new_step(p, no ? SCN_S_EXPECT_NO_INTERRUPT : SCN_S_EXPECT_INTERRUPT)))
            return false;
        if (t->n < 3) return fail(p, "expect %s NAME [MS]", w);
        if (!efd_known(p, t->tok[2])) return false;
        st->u.intr.name = vfh_scn_strdup(p->a, t->tok[2]);
        return st->u.intr.name && ms_arg(p, t, 3, no ? 200 : 1000, &st->u.intr.ms);
    }
    if (!strcmp(w, "memory")) {
        if (!(st = new_step(p, SCN_S_EXPECT_MEMORY))) return false;
        if (t->n != 4) return fail(p, "expect memory ADDR BYTES");
        return value(p, "address", t->tok[2], SCN_NAMES_NONE, &st->u.mem.addr) &&
               vfh_scn_read_bytes(&c, t->tok[3], true, &st->u.mem.bytes, NULL);
    }
    if (!strcmp(w, "served")) {
        if (!need_session(p, "expect") || !(st = new_step(p, SCN_S_EXPECT_SERVED))) return false;
        if (t->n < 3 || t->n > 4 || (strcmp(t->tok[2], "dma-read") && strcmp(t->tok[2], "dma-write")))
            return fail(p, "expect served dma-read|dma-write [MIN]");
        st->u.served.write = t->tok[2][4] == 'w';
        st->u.served.min.num = 1;
        return t->n == 3 || value(p, "minimum", t->tok[3], SCN_NAMES_NONE, &st->u.served.min);
    }
    if (!strcmp(w, "violation")) {
        if (!(st = new_step(p, SCN_S_EXPECT_VIOLATION))) return false;
        if (t->n != 3) return fail(p, "expect violation KIND");
        for (int k = 0; k < VFU_V__COUNT; k++)
            if (!strcasecmp(vfu_viol_kind_name((enum vfu_viol_kind)k), t->tok[2])) {
                st->u.viol.kind = k;
                return true;
            }
        char known[512] = "";
        for (int k = 0; k < VFU_V__COUNT; k++) {
            strncat(known, " ", sizeof known - strlen(known) - 1);
            strncat(known, vfu_viol_kind_name((enum vfu_viol_kind)k), sizeof known - strlen(known) - 1);
        }
        return fail(p, "unknown violation '%s' (known:%s)", t->tok[2], known);
    }
    return fail(p, "expect %s: unknown (ok, error, reply, close, error-or-close, none, interrupt, "
                   "no-interrupt, memory, served, violation)", w);
}

static bool parse_map(struct pctx *p, const struct scn_tokens *t, bool unmap)
{
    struct scn_step *st;
    if (!need_session(p, t->tok[0]) || !(st = new_step(p, unmap ? SCN_S_UNMAP : SCN_S_MAP))) return false;
    if (unmap) {
        if (t->n != 2) return fail(p, "unmap NAME");
        for (unsigned i = 0; i < p->nmaps; i++)
            if (!strcmp(p->maps[i], t->tok[1])) {
                st->u.map.name = p->maps[i];
                p->maps[i] = p->maps[--p->nmaps];
                return true;
            }
        return fail(p, "unmap: no mapping named '%s'", t->tok[1]);
    }
    if (t->n < 5 || t->n > 6) return fail(p, "map NAME ADDR SIZE memfd|message [FLAGS]");
    if (!vfh_scn_valid_name(t->tok[1])) return fail(p, "map: bad name '%s'", t->tok[1]);
    if (in_list(p->maps, p->nmaps, t->tok[1])) return fail(p, "map: '%s' is mapped already", t->tok[1]);
    if (p->nmaps == VFU_CLIENT_MAX_REGIONS) return fail(p, "more than %d mappings", VFU_CLIENT_MAX_REGIONS);
    if (!strcmp(t->tok[4], "memfd")) st->u.map.memfd = true;
    else if (strcmp(t->tok[4], "message")) return fail(p, "map: memfd or message, not '%s'", t->tok[4]);
    struct scn_names fl = {bits_id("dma_map_flags"), -1, false};
    if (!value(p, "address", t->tok[2], SCN_NAMES_NONE, &st->u.map.addr) ||
        !value(p, "size", t->tok[3], SCN_NAMES_NONE, &st->u.map.size))
        return false;
    if (t->n == 6) {
        if (!value(p, "flags", t->tok[5], fl, &st->u.map.prot)) return false;
    } else {
        st->u.map.prot.num = VFU_DMA_MAP_FLAGS_READ | VFU_DMA_MAP_FLAGS_WRITE;
    }
    if (!(st->u.map.name = vfh_scn_strdup(p->a, t->tok[1]))) return fail(p, "out of memory");
    p->maps[p->nmaps++] = st->u.map.name;
    return true;
}

static bool parse_rw(struct pctx *p, const struct scn_tokens *t, bool write)
{
    struct scn_step *st;
    if (!need_session(p, t->tok[0]) || !(st = new_step(p, write ? SCN_S_WRITE : SCN_S_READ))) return false;
    struct scn_names reg = enum_names("pci_region");
    if (t->n < 4) return fail(p, write ? "write REGION OFFSET VALUE [COUNT]" : "read REGION OFFSET COUNT [as VAR]");
    if (!value(p, "region", t->tok[1], reg, &st->u.rw.region) ||
        !value(p, "offset", t->tok[2], SCN_NAMES_NONE, &st->u.rw.offset))
        return false;
    if (!write) {
        if (!value(p, "count", t->tok[3], SCN_NAMES_NONE, &st->u.rw.count)) return false;
        if (t->n == 4) return true;
        if (t->n != 6 || strcmp(t->tok[4], "as")) return fail(p, "read REGION OFFSET COUNT [as VAR]");
        return new_var(p, t->tok[5], &st->u.rw.as);
    }
    const char *v = t->tok[3];
    if (!strncmp(v, "hex:", 4) || !strncmp(v, "text:", 5) || !strncmp(v, "zero:", 5)) {
        struct scn_vctx c = vctx(p);
        if (t->n != 4) return fail(p, "write REGION OFFSET BYTES: the bytes give the count");
        st->u.rw.has_bytes = true;
        return vfh_scn_read_bytes(&c, v, false, &st->u.rw.bytes, NULL);
    }
    if (t->n > 5) return fail(p, "write REGION OFFSET VALUE [COUNT]");
    if (!value(p, "value", v, SCN_NAMES_NONE, &st->u.rw.value)) return false;
    st->u.rw.count.num = 4;
    if (t->n == 5 && !value(p, "count", t->tok[4], SCN_NAMES_NONE, &st->u.rw.count)) return false;
    if (!st->u.rw.count.nvars && (st->u.rw.count.num < 1 || st->u.rw.count.num > 8))
        return fail(p, "write: a VALUE takes 1 to 8 bytes (use hex: for more)");
    return true;
}

static bool parse_step(struct pctx *p, const struct scn_tokens *t)
{
    const char *w = t->tok[0];
    struct scn_step *st;
    struct scn_vctx c = vctx(p);
    if (!strcmp(w, "send")) {
        if (!need_session(p, "send") || !(st = new_step(p, SCN_S_SEND))) return false;
        if (p->nq == SCN_MAX_PENDING) return fail(p, "more than %d sends waiting for their expect", SCN_MAX_PENDING);
        if (!vfh_scn_parse_send(&c, t, st)) return false;
        for (unsigned i = 0; i < st->u.send.nitems; i++)
            if (st->u.send.items[i].kind == SCN_I_FD_EVENTFD && st->u.send.items[i].name &&
                !def_efd(p, st->u.send.items[i].name))
                return false;
            else if (st->u.send.items[i].kind == SCN_I_FD_MAP && !in_list(p->maps, p->nmaps, st->u.send.items[i].name))
                return fail(p, "fd=map:%s: no such mapping", st->u.send.items[i].name);
        p->q[p->nq++] = (struct pending){(int)(p->nsteps - 1), st->u.send.cmd, st->line};
        return true;
    }
    if (!strcmp(w, "expect")) return parse_expect(p, t);
    if (!strcmp(w, "map") || !strcmp(w, "unmap")) return parse_map(p, t, w[0] == 'u');
    if (!strcmp(w, "read") || !strcmp(w, "write")) return parse_rw(p, t, w[0] == 'w');
    if (!strcmp(w, "irq")) {
        if (!need_session(p, "irq") || !(st = new_step(p, SCN_S_IRQ))) return false;
        if (t->n != 4) return fail(p, "irq NAME INDEX SUB");
        if (!vfh_scn_valid_name(t->tok[1])) return fail(p, "irq: bad name '%s'", t->tok[1]);
        if (!(st->u.irq.name = vfh_scn_strdup(p->a, t->tok[1]))) return fail(p, "out of memory");
        return value(p, "index", t->tok[2], enum_names("pci_irq"), &st->u.irq.index) &&
               value(p, "sub-index", t->tok[3], SCN_NAMES_NONE, &st->u.irq.sub) && def_efd(p, st->u.irq.name);
    }
    if (!strcmp(w, "poke")) {
        if (!(st = new_step(p, SCN_S_POKE))) return false;
        if (t->n != 3) return fail(p, "poke ADDR BYTES");
        return value(p, "address", t->tok[1], SCN_NAMES_NONE, &st->u.mem.addr) &&
               vfh_scn_read_bytes(&c, t->tok[2], true, &st->u.mem.bytes, NULL);
    }
    if (!strcmp(w, "set")) {
        if (!(st = new_step(p, SCN_S_SET))) return false;
        if (t->n != 3) return fail(p, "set VAR VALUE");
        if (!value(p, "value", t->tok[2], SCN_NAMES_NONE, &st->u.set.val)) return false;
        return new_var(p, t->tok[1], &st->u.set.var);
    }
    if (!strcmp(w, "check")) {
        if (!(st = new_step(p, SCN_S_CHECK))) return false;
        char a[SCN_MAX_LINE], probe[SCN_MAX_LINE];
        const char *b;
        enum scn_op op;
        if (t->n == 2 && vfh_scn_split_op(t->tok[1], a, sizeof a, &op, &b)) {
            /* check A=B in one word */
        } else if (t->n == 4 && (snprintf(probe, sizeof probe, "x%s0", t->tok[2]),
                                 vfh_scn_split_op(probe, a, sizeof a, &op, &b)) && !strcmp(b, "0")) {
            snprintf(a, sizeof a, "%s", t->tok[1]);
            b = t->tok[3];
        } else {
            return fail(p, "check A OP B (OP: = != < <= > >= & !&)");
        }
        st->u.check.op = (uint8_t)op;
        return value(p, "check", a, SCN_NAMES_NONE, &st->u.check.a) &&
               value(p, "check", b, SCN_NAMES_NONE, &st->u.check.b);
    }
    if (!strcmp(w, "disconnect") || !strcmp(w, "reconnect") || !strcmp(w, "restart")) {
        int kind = w[0] == 'd' ? SCN_S_DISCONNECT : w[2] == 'c' ? SCN_S_RECONNECT : SCN_S_RESTART;
        if (t->n != 1) return fail(p, "%s takes nothing more", w);
        if (!no_pending(p, w) || !(st = new_step(p, kind))) return false;
        if (kind == SCN_S_DISCONNECT && !need_session(p, w)) return false;
        p->session = kind != SCN_S_DISCONNECT;
        p->nmaps = 0;
        p->nefds = 0;
        if (kind == SCN_S_RESTART) {
            bool have = false;
            for (unsigned i = 0; i < p->nreqs; i++) have |= p->reqs[i].kind == SCN_R_SERVER;
            if (!have && p->nreqs < sizeof p->reqs / sizeof p->reqs[0])
                p->reqs[p->nreqs++] = (struct scn_req){.kind = SCN_R_SERVER, .line = st->line};
        }
        return true;
    }
    if (!strcmp(w, "second-client")) {
        if (t->n != 1) return fail(p, "second-client takes nothing more");
        return no_pending(p, w) && need_session(p, w) && new_step(p, SCN_S_SECOND_CLIENT);
    }
    if (!strcmp(w, "truncate")) {
        if (!need_session(p, w) || !(st = new_step(p, SCN_S_TRUNCATE))) return false;
        if (t->n != 3) return fail(p, "truncate REGION SIZE");
        return value(p, "region", t->tok[1], enum_names("pci_region"), &st->u.rw.region) &&
               value(p, "size", t->tok[2], SCN_NAMES_NONE, &st->u.rw.count);
    }
    if (!strcmp(w, "sleep")) {
        if (!(st = new_step(p, SCN_S_SLEEP))) return false;
        if (t->n != 2) return fail(p, "sleep MS");
        return ms_arg(p, t, 1, 0, &st->u.sleep.ms);
    }
    return fail(p, "unknown step '%s'", w);
}

/* ---------------------------------------------------------- scenarios */

static bool valid_id(const char *s)
{
    size_t n = strlen(s);
    if (!n || n >= 128) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') && !(ch >= '0' && ch <= '9') &&
            !strchr("._-+:", ch))
            return false;
    }
    return true;
}

static const struct scn_scenario *find_id(const struct scn_set *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i].id, id)) return &s->v[i];
    return NULL;
}

static bool begin(struct pctx *p, const struct scn_tokens *t)
{
    if (t->n != 2) return fail(p, "scenario ID");
    if (!valid_id(t->tok[1])) return fail(p, "bad scenario id '%s' (letters, digits and ._-+: only)", t->tok[1]);
    const struct scn_scenario *dup = find_id(p->set, t->tok[1]);
    if (dup) return fail(p, "scenario %s is defined already at %s:%d", t->tok[1], dup->file, dup->line);
    p->sc = vfh_scn_alloc(p->a, sizeof *p->sc);
    if (!p->sc) return fail(p, "out of memory");
    p->sc->id = vfh_scn_strdup(p->a, t->tok[1]);
    p->sc->file = p->file;
    p->sc->line = p->ln->line;
    p->sc->level = VFU_LEVEL_MUST;
    p->nsteps = p->nreqs = p->nq = p->nvars = p->nmaps = p->nefds = 0;
    p->have_section = p->have_title = p->have_rule = p->have_level = p->have_negotiate = false;
    p->session = 1;
    return p->sc->id != NULL;
}

static bool finish(struct pctx *p)
{
    struct scn_scenario *sc = p->sc;
    if (p->nq) return fail(p, "scenario %s ends with the send at line %d still waiting for its expect", sc->id, p->q[0].line);
    if (!sc->section) {
        /* the command the id starts with, else the first one sent */
        char cmd[128];
        snprintf(cmd, sizeof cmd, "%.*s", (int)strcspn(sc->id, "."), sc->id);
        const struct vfu_cmd_desc *cd = vfu_cmd_by_name(cmd);
        for (unsigned i = 0; !cd && i < p->nsteps; i++)
            if (p->steps[i].kind == SCN_S_SEND) cd = vfu_cmd(p->steps[i].u.send.cmd);
        if (!cd) return fail(p, "scenario %s: no section line, and none follows from its id or sends", sc->id);
        sc->section = cd->section;
    }
    if (!sc->title) sc->title = sc->id;
    sc->steps = vfh_scn_alloc(p->a, (p->nsteps ? p->nsteps : 1) * sizeof *sc->steps);
    sc->reqs = vfh_scn_alloc(p->a, (p->nreqs ? p->nreqs : 1) * sizeof *sc->reqs);
    if (!sc->steps || !sc->reqs) return fail(p, "out of memory");
    memcpy(sc->steps, p->steps, p->nsteps * sizeof *sc->steps);
    sc->nsteps = p->nsteps;
    memcpy(sc->reqs, p->reqs, p->nreqs * sizeof *sc->reqs);
    sc->nreqs = p->nreqs;
    if (p->set->n == SCN_MAX_SCENARIOS) return fail(p, "more than %d scenarios", SCN_MAX_SCENARIOS);
    if (p->set->n == p->set->cap) {
        size_t cap = p->set->cap ? p->set->cap * 2 : 64;
        struct scn_scenario *v = realloc(p->set->v, cap * sizeof *v);
        if (!v) return fail(p, "out of memory");
        p->set->v = v;
        p->set->cap = cap;
    }
    p->set->v[p->set->n++] = *sc;
    p->sc = NULL;
    return true;
}

static bool parse_lines(struct pctx *p, const struct scn_lines *L)
{
    struct scn_tokens t;
    for (size_t i = 0; i < L->n; i++) {
        p->ln = &L->v[i];
        /* titles and sections are free text: quotes in them are words */
        const char *w0 = p->ln->text + strspn(p->ln->text, " \t");
        size_t n0 = strcspn(w0, " \t");
        if (p->sc && ((n0 == 5 && !strncmp(w0, "title", 5)) || (n0 == 7 && !strncmp(w0, "section", 7)) ||
                      (n0 == 4 && !strncmp(w0, "rule", 4)))) {
            t.n = 1;
            t.tok[0] = w0[0] == 't' ? "title" : w0[0] == 's' ? "section" : "rule";
            if (!header_line(p, &t, t.tok[0])) return false;
            continue;
        }
        if (!vfh_scn_tokenize(p->ln->text, &t, p->msg, sizeof p->msg)) return false;
        if (!t.n) continue;
        const char *w = t.tok[0];
        if (!strcmp(w, "scenario")) {
            if (p->sc) return fail(p, "scenario %s (line %d) has no end before the next scenario", p->sc->id, p->sc->line);
            if (!begin(p, &t)) return false;
            continue;
        }
        if (!p->sc) return fail(p, "'%s' outside a scenario (scenario ID ... end)", w);
        if (!strcmp(w, "end")) {
            if (t.n != 1) return fail(p, "end takes nothing more");
            if (!finish(p)) return false;
        } else if (!strcmp(w, "section") || !strcmp(w, "title") || !strcmp(w, "rule") || !strcmp(w, "level") ||
                   !strcmp(w, "requires") || !strcmp(w, "negotiate")) {
            if (!header_line(p, &t, w)) return false;
        } else if (!parse_step(p, &t)) {
            return false;
        }
    }
    if (p->sc) {
        p->ln = NULL;
        snprintf(p->msg, sizeof p->msg, "scenario %s has no end", p->sc->id);
        return false;
    }
    return true;
}

static const char *keep_name(struct scn_set *s, const char *name)
{
    for (size_t i = 0; i < s->nfiles; i++)
        if (!strcmp(s->files[i], name)) return s->files[i];
    const char **v = realloc(s->files, (s->nfiles + 1) * sizeof *v);
    if (!v) return NULL;
    s->files = v;
    return s->files[s->nfiles++] = vfh_scn_strdup(s->arena, name);
}

bool vfh_scn_load_text(struct scn_set *s, const char *name, const char *text, size_t len,
                   struct scn_errors *errs)
{
    if (!s->arena && !(s->arena = vfh_scn_arena_new())) {
        add_error(errs, name, 0, NULL, "out of memory");
        return false;
    }
    if (len > SCN_MAX_FILE_SIZE) {
        char m[128];
        snprintf(m, sizeof m, "larger than %u bytes", SCN_MAX_FILE_SIZE);
        add_error(errs, name, 0, NULL, m);
        return false;
    }
    struct pctx *p = calloc(1, sizeof *p);
    const char *file = keep_name(s, name);
    if (!p || !file) {
        free(p);
        add_error(errs, name, 0, NULL, "out of memory");
        return false;
    }
    p->set = s;
    p->a = s->arena;
    p->file = file;
    p->errs = errs;
    size_t before = s->n;
    struct scn_lines L;
    int bad = 0;
    const char *bad_origin = NULL;
    bool ok = vfh_scn_lines_read(p->a, text, len, &L, &bad, &bad_origin, p->msg, sizeof p->msg);
    if (!ok) add_error(errs, file, bad, bad_origin, p->msg);
    else if (!(ok = parse_lines(p, &L))) {
        const struct scn_line *ln = p->ln;
        /* a scenario left open is reported at its own line */
        add_error(errs, file, ln ? ln->line : p->sc ? p->sc->line : 0, ln ? ln->origin : NULL, p->msg);
    }
    if (!ok) s->n = before;   /* the file contributes nothing */
    free(p);
    return ok;
}

static bool load_file(struct scn_set *s, const char *path, struct scn_errors *errs)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char m[256];
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(m, sizeof m, "cannot open: %s", strerror(errno));
        if (fd >= 0) close(fd);
        add_error(errs, path, 0, NULL, m);
        return false;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > SCN_MAX_FILE_SIZE) {
        snprintf(m, sizeof m, S_ISREG(st.st_mode) ? "larger than %u bytes" : "not a regular file", SCN_MAX_FILE_SIZE);
        close(fd);
        add_error(errs, path, 0, NULL, m);
        return false;
    }
    /* one byte more than allowed: a file that grew since fstat is caught */
    size_t cap = (size_t)st.st_size + 1, len = 0;
    char *buf = malloc(cap);
    if (!buf) { close(fd); add_error(errs, path, 0, NULL, "out of memory"); return false; }
    for (;;) {
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            snprintf(m, sizeof m, "read: %s", strerror(errno));
            free(buf);
            close(fd);
            add_error(errs, path, 0, NULL, m);
            return false;
        }
        if (r == 0) break;
        len += (size_t)r;
        if (len == cap) {
            if (cap > SCN_MAX_FILE_SIZE) break;
            size_t ncap = cap * 2 > SCN_MAX_FILE_SIZE + 1 ? SCN_MAX_FILE_SIZE + 1 : cap * 2;
            char *nb = realloc(buf, ncap);
            if (!nb) { free(buf); close(fd); add_error(errs, path, 0, NULL, "out of memory"); return false; }
            buf = nb;
            cap = ncap;
        }
    }
    close(fd);
    bool ok = vfh_scn_load_text(s, path, buf, len, errs);
    free(buf);
    return ok;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

bool vfh_scn_load_path(struct scn_set *s, const char *path, struct scn_errors *errs)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        char m[256];
        snprintf(m, sizeof m, "cannot open: %s", strerror(errno));
        add_error(errs, path, 0, NULL, m);
        return false;
    }
    if (!S_ISDIR(st.st_mode)) return load_file(s, path, errs);
    DIR *d = opendir(path);
    if (!d) {
        char m[256];
        snprintf(m, sizeof m, "cannot open: %s", strerror(errno));
        add_error(errs, path, 0, NULL, m);
        return false;
    }
    char *names[SCN_MAX_FILES];
    size_t n = 0;
    bool ok = true;
    for (struct dirent *e; (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".scn") || e->d_name[0] == '.') continue;
        if (n == SCN_MAX_FILES) {
            add_error(errs, path, 0, NULL, "more than 1024 .scn files");
            ok = false;
            break;
        }
        if (!(names[n] = malloc(strlen(path) + l + 2))) { ok = false; break; }
        sprintf(names[n++], "%s/%s", path, e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp_str);
    for (size_t i = 0; i < n; i++) {
        ok = load_file(s, names[i], errs) && ok;
        free(names[i]);
    }
    if (ok && !n) {
        add_error(errs, path, 0, NULL, "no .scn files");
        ok = false;
    }
    return ok;
}
