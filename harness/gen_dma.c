/* Boundary scenarios of an (address, size) pair over guest DMA space
 * (space=dma): next to a window of each mapping kind (backed by a memfd or
 * served by DMA_READ/DMA_WRITE messages, read-only or read-write), the
 * command that adds windows (the one taking an optional file:
 * request-fds optional, DMA_MAP) tries overlaps, neighbours and the
 * address width's wraps; the one that names windows (DMA_UNMAP) tries
 * ranges off the window by a page and by the widths' wraps. */
#include <inttypes.h>
#include <stdio.h>

#include "gen.h"
#include "vfu_proto.h"
#include "vfu_spec.h"

/* where the window lies: page aligned for any pgsizes up to 256 MiB, far
 * from 0 and from 2^32 */
#define WIN_BASE 0x10000000ull
#define WIN_PAGES 4

#define RULE_EEXIST "the spec names the answer: a map over an existing window fails with EEXIST"
#define RULE_TOUCH "only a map over an existing window may be refused for overlap; windows that merely touch, or lie 2^32 apart in a 64-bit address space, do not overlap"
#define RULE_WRAP "stricter than the spec: it does not say which windows a server must refuse; refusing one that wraps past the address's width is what we ask"
#define RULE_TOP "the spec does not say which windows a server must take; the last page of the address space is a window like another (INFO only)"
#define RULE_UNMAP "an unmap of exactly one earlier window removes it, whatever kind it is"
#define RULE_INEXACT "stricter than the spec: an unmap must name exactly one earlier map, a rule on the client; refusing one that does not (and keeping the window) is what we ask"


struct pair {
    const char *cmd, *addr, *len;
    unsigned abits;
    uint64_t pg, base, size;
};

static void head(struct gen_buf *b, const struct pair *p, const struct gen_kind *k, const char *form, const char *level,
                 const char *rule, const char *what)
{
    char id[160], title[400];
    snprintf(id, sizeof id, "%s.bounds.%s.%s", p->cmd, k->name, form);
    snprintf(title, sizeof title, "%s next to a %s window at 0x%" PRIx64 " of 0x%" PRIx64 " bytes: %s", p->cmd, k->name,
             p->base, p->size, what);
    vfh_gen_begin(b, id, level, rule, title);
    vfh_gen_printf(b, "  map w 0x%" PRIx64 " 0x%" PRIx64 " %s %s\n", p->base, p->size, k->memfd ? "memfd" : "message", k->flags);
}

/* a new window of the same kind at [addr, addr+size) */
static void map(struct gen_buf *b, const struct pair *p, const struct gen_kind *k, const char *form, uint64_t addr,
                uint64_t size, const char *level, const char *rule, const char *expect, const char *what)
{
    head(b, p, k, form, level, rule, what);
    vfh_gen_printf(b, "  send %s flags=%s %s=0x%" PRIx64 " %s=0x%" PRIx64 "%s\n", p->cmd, k->flags, p->addr, addr, p->len, size,
               k->memfd ? " fd=memfd" : "");
    vfh_gen_printf(b, "  expect %s\n", expect);
    vfh_gen_end(b);
}

static void maps(struct gen_buf *b, const struct pair *p, const struct gen_kind *k)
{
    uint64_t pg = p->pg, a = p->base, s = p->size;
    map(b, p, k, "overlap-first-page", a, pg, "MUST", RULE_EEXIST, "error EEXIST", "its first page again, EEXIST");
    map(b, p, k, "overlap-last-page", a + s - pg, pg, "MUST", RULE_EEXIST, "error EEXIST", "its last page again, EEXIST");
    map(b, p, k, "straddle-end", a + s - pg, 2 * pg, "MUST", RULE_EEXIST, "error EEXIST", "its last page and the next, EEXIST");
    map(b, p, k, "straddle-start", a - pg, 2 * pg, "MUST", RULE_EEXIST, "error EEXIST", "the page below and its first, EEXIST");
    map(b, p, k, "adjacent-end", a + s, pg, "MUST", RULE_TOUCH, "ok", "the page after it, taken");
    map(b, p, k, "adjacent-below", a - pg, pg, "MUST", RULE_TOUCH, "ok", "the page below it, taken");
    if (p->abits > 32) map(b, p, k, "alias32", a + ((uint64_t)1 << 32), pg, "MUST", RULE_TOUCH, "ok", "its first page + 2^32, taken");
    char form[64], what[128];
    snprintf(form, sizeof form, "wrap%u", p->abits);
    snprintf(what, sizeof what, "a window from 2^%u - a page, two pages long (wraps), refused", p->abits);
    map(b, p, k, form, vfh_gen_wrap(p->abits, pg), 2 * pg, "SHOULD", RULE_WRAP, "error EINVAL?", what);
    /* what the server keeps when its client goes away: the spec's Client
     * Disconnection unmaps every client window (a should), so the same
     * window maps again in the next session */
    char id[160], title[300];
    snprintf(id, sizeof id, "SESSION.disconnect.%s.window-dropped", k->name);
    snprintf(title, sizeof title, "a %s window at 0x%" PRIx64 " is gone after the client reconnects: the same map is taken again", k->name,
             p->base);
    vfh_gen_begin(b, id, "SHOULD", "on a client's disconnection the server should unmap and clean up all its memory regions; the next "
              "client maps them anew", title);
    vfh_gen_printf(b, "  section Client Disconnection\n");
    vfh_gen_printf(b, "  map w 0x%" PRIx64 " 0x%" PRIx64 " %s %s\n  reconnect\n", p->base, p->size, k->memfd ? "memfd" : "message", k->flags);
    vfh_gen_printf(b, "  send %s flags=%s %s=0x%" PRIx64 " %s=0x%" PRIx64 "%s\n  expect ok\n", p->cmd, k->flags, p->addr, p->base, p->len,
               p->size, k->memfd ? " fd=memfd" : "");
    vfh_gen_end(b);
    /* a second client meanwhile: served, refused or left waiting, it must
     * not cost the first client its window */
    snprintf(id, sizeof id, "SESSION.second-client.%s.window-kept", k->name);
    snprintf(title, sizeof title, "a second client connecting while a %s window at 0x%" PRIx64 " is mapped leaves the first "
             "session and its window intact", k->name, p->base);
    vfh_gen_begin(b, id, "SHOULD", "stricter than the spec: a server serves one client or several (Socket), and a client's windows "
              "are its own until it unmaps them or leaves; another client connecting must not cost it its session or windows", title);
    vfh_gen_printf(b, "  section Socket\n");
    vfh_gen_printf(b, "  map w 0x%" PRIx64 " 0x%" PRIx64 " %s %s\n  second-client\n", p->base, p->size, k->memfd ? "memfd" : "message",
               k->flags);
    /* the first session answers, and its exact unmap finds the window */
    vfh_gen_printf(b, "  send DEVICE_GET_INFO\n  expect ok\n  unmap w\n");
    vfh_gen_end(b);
    snprintf(form, sizeof form, "top%u", p->abits);
    snprintf(what, sizeof what, "the last page below 2^%u, taken", p->abits);
    map(b, p, k, form, vfh_gen_wrap(p->abits, pg), pg, "INFO", RULE_TOP, "ok", what);
}

/* an unmap of [addr, addr+size): refused, and the window still there */
static void unmap_off(struct gen_buf *b, const struct pair *p, const struct gen_kind *k, const char *form, uint64_t addr,
                      uint64_t size, const char *what)
{
    head(b, p, k, form, "SHOULD", RULE_INEXACT, what);
    vfh_gen_printf(b, "  send %s %s=0x%" PRIx64 " %s=0x%" PRIx64 "\n  expect error\n  unmap w\n", p->cmd, p->addr, addr, p->len, size);
    vfh_gen_end(b);
}

static void unmaps(struct gen_buf *b, const struct pair *p, const struct gen_kind *k)
{
    uint64_t pg = p->pg, a = p->base, s = p->size;
    head(b, p, k, "exact", "MUST", RULE_UNMAP, "the window itself, removed");
    vfh_gen_printf(b, "  send %s %s=0x%" PRIx64 " %s=0x%" PRIx64 "\n  expect ok\n", p->cmd, p->addr, a, p->len, s);
    vfh_gen_end(b);
    unmap_off(b, p, k, "past-end", a, s + pg, "one page more than the window, refused");
    unmap_off(b, p, k, "short-end", a, s - pg, "one page less than the window, refused");
    unmap_off(b, p, k, "shifted", a + pg, s, "the window's size a page higher, refused");
    char form[64], what[128];
    snprintf(form, sizeof form, "wrap%u", p->abits);
    snprintf(what, sizeof what, "from the window to 2^%u (address+size wraps to 0), refused", p->abits);
    unmap_off(b, p, k, form, a, vfh_gen_wrap(p->abits, a), what);
    if (p->abits > 32) unmap_off(b, p, k, "alias32", a + ((uint64_t)1 << 32), s, "the window + 2^32, refused");
}

void vfh_gen_dma_pair(struct gen_buf *b, const struct gen_device *d, unsigned cmd, int off, int len)
{
    const struct vfu_cmd_desc *c = vfu_cmd(cmd);
    const struct vfu_field_desc *fa = vfu_field(off), *fl = vfu_field(len);
    uint64_t pg = d->pgsize ? d->pgsize : 4096;
    if (pg > WIN_BASE / 2) return;   /* no room for a page below the window */
    struct pair p = {c->name, fa->name, fl->name, 8u * fa->width, pg, WIN_BASE, WIN_PAGES * pg};
    bool adds = c->fds[0].rule == VFU_FDS_OPTIONAL;
    for (size_t i = 0; i < GEN_NKINDS; i++) {
        if (adds) maps(b, &p, &vfh_gen_kinds[i]);
        else unmaps(b, &p, &vfh_gen_kinds[i]);
    }
}

/* The (offset, size) pair over the file a map sends (space=fd): the file
 * is the scenario's own memfd of FD_PAGES pages, so its end is known; a
 * window without a file must name offset 0. */
#define FD_PAGES 8
#define RULE_FD_OK "a valid map with a file descriptor and an offset inside the file is an ordinary request the command must carry out"
#define RULE_FD_OUT "stricter than the spec: it does not say which file ranges a server must refuse; refusing a window that runs past the end of the file sent (touching it would fault) or whose offset+size wraps is what we ask"
#define RULE_FD_MSG "stricter than the spec: offset is the file offset, or zero when there is no file to map; refusing another offset without a file is what we ask"

static void fd_one(struct gen_buf *b, const struct pair *p, const struct gen_kind *k, const char *off, const char *form,
                   const char *level, const char *rule, uint64_t offset, uint64_t size, bool ok, const char *what)
{
    char id[160], title[400];
    snprintf(id, sizeof id, "%s.bounds.%s.%s", p->cmd, k->name, form);
    char file[64];
    if (k->memfd) snprintf(file, sizeof file, "a memfd of 0x%" PRIx64 " bytes", (uint64_t)FD_PAGES * p->pg);
    else snprintf(file, sizeof file, "no file");
    snprintf(title, sizeof title, "%s of 0x%" PRIx64 " bytes at %s 0x%" PRIx64 " of %s: %s", p->cmd, size, off, offset,
             file, what);
    vfh_gen_begin(b, id, level, rule, title);
    vfh_gen_printf(b, "  send %s flags=%s %s=0x%" PRIx64 " %s=0x%" PRIx64 " %s=0x%" PRIx64, p->cmd, k->flags, off, offset, p->addr,
               p->base, p->len, size);
    if (k->memfd) vfh_gen_printf(b, " fd=memfd:0x%" PRIx64, (uint64_t)FD_PAGES * p->pg);
    vfh_gen_printf(b, "\n  expect %s\n", ok ? "ok" : "error EINVAL?");
    vfh_gen_end(b);
}

void vfh_gen_fd_pair(struct gen_buf *b, const struct gen_device *d, unsigned cmd, int off, int len)
{
    const struct vfu_cmd_desc *c = vfu_cmd(cmd);
    const struct vfu_struct_desc *st = vfu_struct(c->sid[0]);
    const struct vfu_field_desc *fo = vfu_field(off);
    uint64_t pg = d->pgsize ? d->pgsize : 4096;
    if (pg > WIN_BASE / 2) return;
    /* the window's address: the dma pair sharing this length */
    int addr = -1;
    for (unsigned i = 0; i < st->nfields; i++) {
        const struct vfu_field_desc *f = vfu_field(st->first_field + i);
        if (f->role == VFU_M_ADDRESS && f->space == VFU_SP_DMA && f->span_field == len) addr = (int)(st->first_field + i);
    }
    if (addr < 0) return;
    struct pair p = {c->name, vfu_field(addr)->name, vfu_field(len)->name, 8u * fo->width, pg, WIN_BASE, WIN_PAGES * pg};
    uint64_t fsize = FD_PAGES * pg, last = fsize - p.size;
    char form[64], what[200];
    for (size_t i = 0; i < GEN_NKINDS; i++) {
        const struct gen_kind *k = &vfh_gen_kinds[i];
        if (!k->memfd) {
            fd_one(b, &p, k, fo->name, "offset-without-fd", "SHOULD", RULE_FD_MSG, pg, p.size, false, "an offset with nothing to map, refused");
            continue;
        }
        snprintf(what, sizeof what, "ending on the file's end, taken");
        fd_one(b, &p, k, fo->name, "offset-last-valid", "MUST", RULE_FD_OK, last, p.size, true, what);
        snprintf(what, sizeof what, "a page past the file's end, refused");
        fd_one(b, &p, k, fo->name, "offset-past-end", "SHOULD", RULE_FD_OUT, last + pg, p.size, false, what);
        snprintf(what, sizeof what, "starting at the file's end, refused");
        fd_one(b, &p, k, fo->name, "offset-at-end", "SHOULD", RULE_FD_OUT, fsize, p.size, false, what);
        snprintf(form, sizeof form, "offset-wrap%u", p.abits);
        snprintf(what, sizeof what, "offset+size wraps past 2^%u, refused", p.abits);
        fd_one(b, &p, k, fo->name, form, "SHOULD", RULE_FD_OUT, vfh_gen_wrap(p.abits, pg), 2 * pg, false, what);
        if (p.abits > 32) {
            snprintf(what, sizeof what, "2^32 above the last valid offset, refused");
            fd_one(b, &p, k, fo->name, "offset-alias32", "SHOULD", RULE_FD_OUT, ((uint64_t)1 << 32) + last, p.size, false, what);
        }
    }
}
