/* A synthetic conformance run for the reporter tests: every verdict, every
 * level, and strings with everything an escaper can get wrong (quotes,
 * markup, entities, line breaks, control characters, escape sequences,
 * multi-byte and ill-formed UTF-8, TAP's '#' and '\'). */
#ifndef REPORT_FIXTURE_H
#define REPORT_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "result.h"
#include "utf8.h"

#define NASTY "q\"uote a'pos <tag attr=\"x\"> & &amp; ]]> nl\nnext cr\r tab\t bell\a " \
              "esc\033[31mred del\x7f c1\xc2\x85 e\xc3\xa9 check\xe2\x9c\x93 clef\xf0\x9d\x84\x9e " \
              "bad\xff\xfe cut\xe2\x9c hash # back\\slash bom\xef\xbb\xbf nonchar\xef\xbf\xbe end"
/* NASTY with its ill-formed bytes replaced by U+FFFD, as every report
 * writes it (\xff, \xfe and the cut sequence \xe2\x9c: one each) */
#define NASTY_CLEAN "q\"uote a'pos <tag attr=\"x\"> & &amp; ]]> nl\nnext cr\r tab\t bell\a " \
              "esc\033[31mred del\x7f c1\xc2\x85 e\xc3\xa9 check\xe2\x9c\x93 clef\xf0\x9d\x84\x9e " \
              "bad\xef\xbf\xbd\xef\xbf\xbd cut\xef\xbf\xbd\xef\xbf\xbd hash # back\\slash " \
              "bom\xef\xbb\xbf nonchar\xef\xbf\xbe end"

enum { FX_N = 9 };

static char fx_stderr_long[4096];
static char fx_stderr_nasty[] = "starting\n" NASTY "\nlast line\n";
static char fx_trace[] = "traces/DMA_MAP.overlap.EEXIST.cbor";
static char fx_trace_nasty[] = "traces/<&>\".cbor";

static struct vfu_result fx_results[FX_N];

static inline void fx_set(struct vfu_result *r, const char *id, const char *section, enum vfu_level l,
                   enum vfu_verdict v, enum vfu_failure_kind k, const char *reason)
{
    memset(r, 0, sizeof *r);
    r->id = id;
    r->section = section;
    r->title = "a title";
    r->file = "harness/scenarios/dma.scn";
    r->line = 10 + (int)(r - fx_results);
    r->level = l;
    r->verdict = v;
    r->kind = k;
    snprintf(r->reason, sizeof r->reason, "%s", reason);
    r->seconds = 0.001 * (double)(r - fx_results);
}

/* in run order; the expected verdict of index i is fx_results[i].verdict */
static inline void fx_run(struct vfu_run *run)
{
    /* 30 numbered lines, so a tail has something to cut */
    size_t k = 0;
    for (int i = 1; i <= 30; i++)
        k += (size_t)snprintf(fx_stderr_long + k, sizeof fx_stderr_long - k, "stderr line %d\n", i);
    k += (size_t)snprintf(fx_stderr_long + k, sizeof fx_stderr_long - k, "tail ");
    memset(fx_stderr_long + k, 'x', 500);
    fx_stderr_long[k + 500] = '\0';

    struct vfu_result *r = fx_results;
    fx_set(&r[0], "VERSION.basic.ok", "VFIO_USER_VERSION", VFU_LEVEL_MUST, VFU_PASS, VFU_FK_NONE, "");
    fx_set(&r[1], "DMA_MAP.overlap.EEXIST", "VFIO_USER_DMA_MAP", VFU_LEVEL_MUST, VFU_FAIL,
           VFU_FK_MISMATCH, NASTY);
    r[1].title = NASTY;
    r[1].rule = "the spec names EEXIST for a map over an existing window";
    r[1].server_stderr = fx_stderr_nasty;
    r[1].trace_path = fx_trace;
    fx_set(&r[2], "MIG.state.running", "VFIO_USER_DEVICE_FEATURE", VFU_LEVEL_SHOULD, VFU_SKIP,
           VFU_FK_NONE, "server lacks migration # not offered");
    fx_set(&r[3], "IRQ.mask.unmask", "VFIO_USER_DEVICE_SET_IRQS", VFU_LEVEL_SHOULD, VFU_XFAIL,
           VFU_FK_MISMATCH, "step 2: expected ok, got error EINVAL");
    fx_set(&r[4], "REGION.read.zero", "VFIO_USER_REGION_READ", VFU_LEVEL_MUST, VFU_XPASS,
           VFU_FK_NONE, "");
    fx_set(&r[5], "ODD<id>&\"#1\\", NASTY, VFU_LEVEL_MUST, VFU_ERROR, VFU_FK_NONE,
           "could not start the server: <no such file>");
    r[5].trace_path = fx_trace_nasty;
    fx_set(&r[6], "DMA_UNMAP.unknown.info", "VFIO_USER_DMA_UNMAP", VFU_LEVEL_INFO, VFU_FAIL,
           VFU_FK_MISMATCH, "step 1 (harness/scenarios/dma.scn:16): expected error ENOENT, got EINVAL");
    fx_set(&r[7], "REGION.write.big", "VFIO_USER_REGION_WRITE", VFU_LEVEL_MUST, VFU_FAIL,
           VFU_FK_CRASH, "step 4: the server died: killed by signal 11 (SIGSEGV)");
    r[7].server_stderr = fx_stderr_long;
    fx_set(&r[8], "VERSION.caps.json", "VFIO_USER_VERSION", VFU_LEVEL_SHOULD, VFU_PASS, VFU_FK_NONE, "");
    r[8].title = NULL;
    r[8].file = NULL;

    memset(run, 0, sizeof *run);
    run->server = "./mydevice --socket-path={socket} \"quoted\"";
    run->tool_version = "vfu-conform 0.1";
    run->results = fx_results;
    run->n = FX_N;
    run->seconds = 1.2345;
    run->started = 1714564800.5;   /* 2024-05-01T12:00:00Z */
    vfr_run_tally(run);
}

/* the whole of a stream written by a reporter, NUL-terminated */
static inline char *fx_capture(int (*write)(FILE *, const struct vfu_run *), const struct vfu_run *run,
                        size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f || write(f, run) != 0) {
        if (f) fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    if (len) *len = n;
    return buf;
}

/* well-formed UTF-8 throughout, and no control character but newline
 * (and tab where allow_tab; DEL and C1 where allow_c1) */
static inline int fx_text_ok(const char *s, size_t n, int allow_tab, int allow_c1)
{
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        unsigned k = vfu_utf8_decode((const uint8_t *)s + i, n - i, &cp);
        if (!k) return 0;
        if (cp < 0x20 && cp != '\n' && !(allow_tab && cp == '\t')) return 0;
        if (!allow_c1 && (cp == 0x7f || (cp >= 0x80 && cp < 0xa0))) return 0;
        i += k;
    }
    return 1;
}

/* appends code point cp to out as UTF-8 */
static inline size_t fx_put_utf8(char *out, uint32_t cp)
{
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) { out[0] = (char)(0xc0 | cp >> 6); out[1] = (char)(0x80 | (cp & 0x3f)); return 2; }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

#endif
