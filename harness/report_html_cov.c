/* The coverage sections of the HTML report.
 *
 * Spec coverage: one table per command and direction, one row per field
 * the tables say it can carry, one column per value class; a field never
 * set is a red row, a class seen is green, an out-of-range value amber.
 * Flag bits and enumeration values never seen are named.
 *
 * Code coverage: the totals lcov wrote into its tracefile (the LF/LH and
 * BRF/BRH summary records of each SF), file by file, each linked to the
 * page genhtml made for it. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "vfu_caps.h"
#include "report_html_int.h"
#include "speccov.h"
#include "vfu_proto.h"
#include "vfu_spec.h"

static const unsigned classes[] = {VFU_SC_ZERO, VFU_SC_TYPICAL, VFU_SC_BOUNDARY, VFU_SC_OUT};

static void name_list(FILE *out, const char *label, uint64_t seen, unsigned n, const char *(*name)(unsigned, unsigned),
                      unsigned base)
{
    bool any = false;
    for (unsigned i = 0; i < n && i < 64; i++)
        if (!(seen >> i & 1)) {
            fprintf(out, "%s", any ? ", " : label);
            vfr_html_text(out, name(base, i));
            any = true;
        }
    if (any) fputs("<br>", out);
}

static const char *bit_name(unsigned first, unsigned i) { return vfu_bit(first + i)->name; }
static const char *enum_name(unsigned first, unsigned i) { return vfu_enum_val(first + i)->name; }

static void field_row(FILE *out, const struct vfu_sc_dir *d, unsigned f)
{
    const struct vfu_field_desc *fd = vfu_field(f);
    fprintf(out, "<tr class=\"%s\"><td>", d->cls[f] ? "field" : "field gap");
    vfr_html_text(out, vfu_struct(fd->sid)->name);
    fputs(".", out);
    vfr_html_text(out, fd->name);
    fputs("</td>", out);
    for (size_t k = 0; k < sizeof classes / sizeof *classes; k++) {
        bool hit = d->cls[f] & classes[k];
        fprintf(out, "<td class=\"%s\">%s</td>", hit ? (classes[k] == VFU_SC_OUT ? "out" : "hit") : "none", hit ? "&#10003;" : "-");
    }
    fputs("<td>", out);
    if (fd->kind == VFU_K_UINT && fd->bits_id >= 0) {
        const struct vfu_bits_desc *b = vfu_bits(fd->bits_id);
        name_list(out, "bits never set: ", d->bits[f], b->nbits, bit_name, b->first_bit);
    }
    if (fd->kind == VFU_K_UINT && fd->enum_id >= 0 && fd->sid != vfu_header_sid()) {
        const struct vfu_enum_desc *e = vfu_enum(fd->enum_id);
        name_list(out, "values never sent: ", d->enums[f], e->n, enum_name, e->first);
    }
    fputs("</td></tr>\n", out);
}

void vfr_html_speccov(FILE *out, const struct vfu_speccov *sc)
{
    fputs("<h2 id=\"spec-coverage\">Spec coverage</h2>\n", out);
    if (!sc) {
        fputs("<p class=\"none\">Not computed: it needs the run's wire traces (<code>--html</code> keeps them).</p>\n", out);
        return;
    }
    unsigned total = 0, unset = 0, dirs = 0, dirs_seen = 0;
    for (unsigned c = 0; c < sc->ncmds; c++)
        for (int r = 0; r < 2; r++) {
            if (!vfu_speccov_dir_exists(c, r)) continue;
            const struct vfu_sc_dir *d = vfu_speccov_dir(sc, c, r);
            dirs++;
            dirs_seen += d->msgs > 0;
            for (unsigned f = 0; f < vfu_nfields(); f++) {
                total += d->reach[f];
                unset += d->reach[f] && !d->cls[f];
            }
        }
    fprintf(out, "<p id=\"speccov-summary\">From %u traces, %u messages (%u not decodable as the spec lays them out): "
                 "<b>%u of %u</b> command directions seen, <b>%u of %u</b> fields set at least once. "
                 "Red rows: fields no message set. Classes: zero; boundary (1, the largest value of the width, one below it, "
                 "the top bit alone); typical (any other); out (a value the spec's tables rule out, or the field a decode error names; not judged against the device's geometry).</p>\n",
            sc->traces, sc->events, sc->undecoded, dirs_seen, dirs, total - unset, total);
    /* the overview: one row per command */
    fputs("<table id=\"speccov-overview\"><tr><th>command</th><th>requests</th><th>replies</th><th>error replies</th>"
          "<th>errnos returned</th><th>fd kinds</th><th>fields never set</th><th>scenarios</th></tr>\n", out);
    for (unsigned c = 0; c < sc->ncmds; c++) {
        if (!vfu_speccov_dir_exists(c, false)) continue;
        const struct vfu_sc_dir *q = vfu_speccov_dir(sc, c, false), *p = vfu_speccov_dir(sc, c, true);
        const char *name = vfu_cmd(c)->name;
        unsigned gaps = 0, fields = 0;
        for (unsigned f = 0; f < vfu_nfields(); f++) {
            fields += q->reach[f] + p->reach[f];
            gaps += (q->reach[f] && !q->cls[f]) + (p->reach[f] && !p->cls[f]);
        }
        fprintf(out, "<tr><td><a href=\"#sc-%s\">%s</a></td><td class=\"%s\">%u</td><td class=\"%s\">%u</td><td>%u</td><td>",
                name, name, q->msgs ? "hit" : "gap", q->msgs, p->msgs ? "hit" : "gap", p->msgs,
                p->errors);
        bool any = false;
        for (unsigned e = 0; e < 256; e++)
            if (p->errnos[e / 64] >> (e % 64) & 1) {
                const char *nm = e ? strerrorname_np((int)e) : NULL;
                fprintf(out, "%s%u", any ? " " : "", e);
                if (nm) fprintf(out, " (%s)", nm);
                any = true;
            }
        if (p->errno_other) fputs(" (&gt;255)", out);
        fputs("</td><td>", out);
        uint8_t fk = q->fd_kinds | p->fd_kinds;
        any = false;
        for (unsigned k = 0; k < 8; k++)
            if (fk >> k & 1) {
                fprintf(out, "%s%s", any ? " " : "", vfu_fd_kind_name((enum vfu_fd_kind)k));
                any = true;
            }
        fprintf(out, "</td><td class=\"%s\">%u of %u</td><td>%zu</td></tr>\n", gaps ? "gap" : "hit", gaps, fields,
                q->nscn > p->nscn ? q->nscn : p->nscn);
    }
    fputs("</table>\n", out);
    /* capabilities */
    fputs("<h3>VERSION capabilities</h3>\n<table id=\"speccov-caps\"><tr><th>capability</th><th>proposed as</th><th>replied as</th></tr>\n", out);
    for (int k = 0; k < VFU_CAP__COUNT && k < 64; k++) {
        fputs("<tr><td>", out);
        vfr_html_text(out, vfu_cap_name(k));   /* dotted: twin_socket.supported */
        fputs("</td>", out);
        for (int side = 0; side < 2; side++) {
            unsigned cl = sc->cap_cls[side][k];
            fprintf(out, "<td class=\"%s\">", cl ? "hit" : "gap");
            bool any = false;
            for (unsigned b = 1; b < (1u << VFU_SC_NCLASS); b <<= 1)
                if (cl & b) {
                    fprintf(out, "%s%s", any ? ", " : "", vfu_speccov_class_name(b));
                    any = true;
                }
            fputs(any ? "</td>" : "never</td>", out);
        }
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
    /* the matrix, command by command */
    for (unsigned c = 0; c < sc->ncmds; c++) {
        if (!vfu_speccov_dir_exists(c, false)) continue;
        const struct vfu_cmd_desc *cd = vfu_cmd(c);
        fprintf(out, "<details class=\"speccov-cmd\" id=\"sc-%s\"><summary>%s <small>(", cd->name, cd->name);
        vfr_html_text(out, cd->section);
        fputs(")</small></summary>\n", out);
        for (int r = 0; r < 2; r++) {
            const struct vfu_sc_dir *d = vfu_speccov_dir(sc, c, r);
            fprintf(out, "<h4>%s: %u message%s</h4>\n", r ? "reply" : "request", d->msgs, d->msgs == 1 ? "" : "s");
            fputs("<table class=\"matrix\"><tr><th>field</th><th>zero</th><th>typical</th><th>boundary</th><th>out of range</th><th>never seen</th></tr>\n", out);
            for (unsigned f = 0; f < vfu_nfields(); f++)
                if (d->reach[f]) field_row(out, d, f);
            fputs("</table>\n", out);
            if (d->nscn) {
                fputs("<p><small>verdicts resting on it: ", out);
                for (size_t k = 0; k < d->nscn; k++) {
                    if (k) fputs(", ", out);
                    vfr_html_text(out, d->scenarios[k]);
                }
                fputs("</small></p>\n", out);
            }
        }
        fputs("</details>\n", out);
    }
}

/* ------------------------------------------------------- code coverage */

struct cov_file {
    char *path;
    unsigned lf, lh, brf, brh;
};

static unsigned num_after(const char *line, const char *key)
{
    size_t k = strlen(key);
    return strncmp(line, key, k) ? 0 : (unsigned)strtoul(line + k, NULL, 10);
}

static void pct(FILE *out, unsigned hit, unsigned all)
{
    if (all) fprintf(out, "<td>%.1f%% <small>(%u/%u)</small></td>", 100.0 * hit / all, hit, all);
    else fputs("<td class=\"none\">-</td>", out);
}

/* the per-file summary records of a tracefile; false when unreadable */
static bool read_info(const char *path, struct cov_file **out, size_t *nout)
{
    FILE *f = fopen(path, "re");
    if (!f) return false;
    struct cov_file *v = NULL, cur = {0};
    size_t n = 0, cap = 0;
    char line[PATH_MAX + 16];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (!strncmp(line, "SF:", 3)) {
            free(cur.path);
            cur = (struct cov_file){strdup(line + 3), 0, 0, 0, 0};
        } else if (!strncmp(line, "LF:", 3)) cur.lf = num_after(line, "LF:");
        else if (!strncmp(line, "LH:", 3)) cur.lh = num_after(line, "LH:");
        else if (!strncmp(line, "BRF:", 4)) cur.brf = num_after(line, "BRF:");
        else if (!strncmp(line, "BRH:", 4)) cur.brh = num_after(line, "BRH:");
        else if (!strcmp(line, "end_of_record") && cur.path) {
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 64;
                struct cov_file *nv = realloc(v, nc * sizeof *nv);
                if (!nv) break;
                v = nv;
                cap = nc;
            }
            v[n++] = cur;
            cur = (struct cov_file){0};
        }
    }
    free(cur.path);
    fclose(f);
    *out = v;
    *nout = n;
    return true;
}

static void free_info(struct cov_file *v, size_t n)
{
    for (size_t i = 0; i < n; i++) free(v[i].path);
    free(v);
}

static struct cov_file total(const struct cov_file *v, size_t n)
{
    struct cov_file t = {0};
    for (size_t i = 0; i < n; i++) {
        t.lf += v[i].lf;
        t.lh += v[i].lh;
        t.brf += v[i].brf;
        t.brh += v[i].brh;
    }
    return t;
}

static const struct cov_file *find(const struct cov_file *v, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].path && !strcmp(v[i].path, path)) return &v[i];
    return NULL;
}

/* the suite alone's figures of a file, when given */
static void suite_cols(FILE *out, const struct cov_file *s, bool have)
{
    if (!have) return;
    if (!s) {
        fputs("<td class=\"none\">-</td><td class=\"none\">-</td>", out);
        return;
    }
    pct(out, s->lh, s->lf);
    pct(out, s->brh, s->brf);
}

void vfr_html_codecov(FILE *out, const struct vfu_html_extra *x)
{
    fputs("<h2 id=\"code-coverage\">Code coverage of the server</h2>\n", out);
    if (!x || !x->lcov_info) {
        fputs("<p class=\"none\">Not taken in this run (<code>reports/vfu-coverage</code> takes it, see README: Reports).</p>\n", out);
        return;
    }
    struct cov_file *v = NULL, *sv = NULL;
    size_t n = 0, sn = 0;
    if (!read_info(x->lcov_info, &v, &n)) {
        fputs("<p class=\"FAIL\">lcov tracefile ", out);
        vfr_html_text(out, x->lcov_info);
        fputs(" cannot be read.</p>\n", out);
        return;
    }
    bool have_suite = x->lcov_suite_info && read_info(x->lcov_suite_info, &sv, &sn);
    struct cov_file t = total(v, n), st = total(sv, sn);
    if (x->coverage_note) {
        fputs("<p id=\"coverage-note\">", out);
        vfr_html_text(out, x->coverage_note);
        fputs("</p>\n", out);
    }
    fputs("<table id=\"coverage\"><tr><th>file</th><th>lines</th><th>branches</th>", out);
    if (have_suite) fputs("<th>suite alone: lines</th><th>suite alone: branches</th>", out);
    fputs("</tr>\n<tr><th>", out);
    if (x->genhtml_dir) {
        fputs("<a href=\"", out);
        vfr_html_text(out, x->genhtml_dir);
        fputs("/index.html\">total</a>", out);
    } else
        fputs("total", out);
    fputs("</th>", out);
    pct(out, t.lh, t.lf);
    pct(out, t.brh, t.brf);
    suite_cols(out, &st, have_suite);
    fputs("</tr>\n", out);
    size_t pl = x->lcov_prefix ? strlen(x->lcov_prefix) : 0;
    while (pl && x->lcov_prefix[pl - 1] == '/') pl--;
    for (size_t i = 0; i < n; i++) {
        const char *p = v[i].path;
        const char *rel = pl && !strncmp(p, x->lcov_prefix, pl) && p[pl] == '/' ? p + pl + 1 : p;
        fputs("<tr><td>", out);
        /* genhtml's page of a file: its path under the prefix, .gcov.html */
        if (x->genhtml_dir && rel != p) {
            fputs("<a href=\"", out);
            vfr_html_text(out, x->genhtml_dir);
            fputc('/', out);
            vfr_html_text(out, rel);
            fputs(".gcov.html\">", out);
            vfr_html_text(out, rel);
            fputs("</a>", out);
        } else
            vfr_html_text(out, rel);
        fputs("</td>", out);
        pct(out, v[i].lh, v[i].lf);
        pct(out, v[i].brh, v[i].brf);
        suite_cols(out, find(sv, sn, p), have_suite);
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
    free_info(v, n);
    free_info(sv, sn);
}
