/* Boundary scenarios of a (start, count) pair over an IRQ index's vectors
 * (space=irq:F): DEVICE_SET_IRQS on every index the probe found with
 * vectors, with GEN_IRQ_FLAGS (gen.h). */
#include <inttypes.h>
#include <stdio.h>

#include "gen.h"
#include "vfu_proto.h"
#include "vfu_spec.h"

/* eventfds one generated message carries at most (each one a file the
 * run opens) */
#define GEN_MAX_EVENTFDS 64

#define RULE_OUT "the index has the vectors its interrupt info states; setting one past them cannot be carried out, so only an error answers truthfully (any errno)"

struct pair {
    const char *cmd, *off, *len, *idx;
    unsigned obits, lbits;
};

static void one(struct gen_buf *b, const struct pair *p, unsigned i, uint32_t n, const char *form, uint64_t start,
                uint64_t count, bool in, const char *why)
{
    char id[160], title[400], rule[600];
    snprintf(id, sizeof id, "%s.bounds.i%u.%s", p->cmd, i, form);
    snprintf(title, sizeof title, "%s " GEN_IRQ_FLAGS " of vectors %s=0x%" PRIx64 " %s=0x%" PRIx64 " of index %u (%u vectors): %s, %s",
             p->cmd, p->off, start, p->len, count, i, n, why, in ? "taken" : "refused");
    snprintf(rule, sizeof rule, "stricter than the spec: index %u has %u vectors (its interrupt info); DATA_NONE|ACTION_TRIGGER "
             "of a range inside them is defined for every index, so refusing it is flagged (not MUST: the spec does not list what a device must implement)",
             i, n);
    vfh_gen_begin(b, id, in ? "SHOULD" : "MUST", in ? rule : RULE_OUT, title);
    vfh_gen_printf(b, "  send %s flags=" GEN_IRQ_FLAGS " %s=%u %s=0x%" PRIx64 " %s=0x%" PRIx64 " unchecked\n", p->cmd, p->idx, i,
               p->off, start, p->len, count);
    vfh_gen_printf(b, in ? "  expect ok\n" : "  expect error EINVAL?\n");
    vfh_gen_end(b);
}

/* Eventfds for the vectors that end the index, as many in one message as
 * the count field's bound (bound=max_msg_fds in the tables) lets the
 * server take, then a trigger of the last: its eventfd must fire. */
static void eventfds(struct gen_buf *b, const struct gen_device *d, const struct pair *p, unsigned i, uint32_t n, int len)
{
    const struct vfu_field_desc *fl = vfu_field(len);
    uint64_t k = n;
    const char *bound = "its vectors";
    if (fl->bound_cap >= 0 && d->cap[fl->bound_cap] < k) {
        k = d->cap[fl->bound_cap];
        bound = vfu_capability(fl->bound_cap)->name;
    }
    if (k > GEN_MAX_EVENTFDS) k = GEN_MAX_EVENTFDS;
    if (!k || !(d->irq[i].flags & VFU_IRQ_INFO_FLAGS_EVENTFD)) return;
    char id[160], title[400];
    snprintf(id, sizeof id, "%s.bounds.i%u.eventfds-to-end", p->cmd, i);
    snprintf(title, sizeof title, "%s DATA_EVENTFD for the last %" PRIu64 " vectors of index %u (%u vectors; %s) in one message, "
             "then a trigger of the last fires its eventfd", p->cmd, k, i, n, bound);
    vfh_gen_begin(b, id, "MUST", "DATA_EVENTFD|ACTION_TRIGGER ties each eventfd sent to its vector of the range (as many in one message as "
              "max_msg_fds allows); ACTION_TRIGGER with DATA_NONE then signals the vector's eventfd", title);
    vfh_gen_printf(b, "  send %s flags=DATA_EVENTFD|ACTION_TRIGGER %s=%u %s=%" PRIu64 " %s=%" PRIu64, p->cmd, p->idx, i, p->off,
               n - k, p->len, k);
    for (uint64_t e = 0; e < k; e++) vfh_gen_printf(b, " fd=eventfd:e%" PRIu64, e);
    vfh_gen_printf(b, "\n  expect ok\n");
    /* a maskable vector may have been left masked (INTx masks itself when
     * it fires: AUTOMASKED); unmasked first, the trigger reaches it */
    if (d->irq[i].flags & VFU_IRQ_INFO_FLAGS_MASKABLE)
        vfh_gen_printf(b, "  send %s flags=DATA_NONE|ACTION_UNMASK %s=%u %s=%u %s=1\n  expect ok\n", p->cmd, p->idx, i, p->off, n - 1, p->len);
    vfh_gen_printf(b, "  send %s flags=" GEN_IRQ_FLAGS " %s=%u %s=%u %s=1\n  expect ok\n", p->cmd, p->idx, i, p->off, n - 1, p->len);
    vfh_gen_printf(b, "  expect interrupt e%" PRIu64 "\n", k - 1);
    vfh_gen_end(b);
}

void vfh_gen_irq_pair(struct gen_buf *b, const struct gen_device *d, unsigned cmd, int off, int len)
{
    const struct vfu_field_desc *fo = vfu_field(off), *fl = vfu_field(len);
    struct pair p = {vfu_cmd(cmd)->name, fo->name, fl->name, vfu_field(fo->space_field)->name,
                     8u * fo->width, 8u * fl->width};
    char form[64];
    for (unsigned i = 0; i < d->nirqs && i < GEN_MAX_PLACES; i++) {
        uint32_t n = d->irq[i].count;
        if (!n) continue;
        one(b, &p, i, n, "first", 0, 1, true, "the first vector");
        if (n > 1) {
            one(b, &p, i, n, "last-valid", n - 1, 1, true, "the last vector");
            one(b, &p, i, n, "whole", 0, n, true, "every vector");
            one(b, &p, i, n, "count-past", 0, (uint64_t)n + 1, false, "one vector more than there are");
        }
        one(b, &p, i, n, "one-past-end", n, 1, false, "the vector after the last");
        one(b, &p, i, n, "straddle-end", n - 1, 2, false, "the last vector and one past it");
        uint64_t half = (uint64_t)1 << (p.obits - 1);
        if (half > n) one(b, &p, i, n, "far-past", half, 1, false, "half the start's range away");
        /* start+count past 2^width: 0 or 1 to a server that adds in the
         * fields' own width, inside the index */
        snprintf(form, sizeof form, "wrap%u-to-zero", p.obits);
        one(b, &p, i, n, form, vfh_gen_wrap(p.obits, 1), 1, false, "start+count is 2^start-width");
        snprintf(form, sizeof form, "wrap%u-to-one", p.obits);
        one(b, &p, i, n, form, vfh_gen_wrap(p.obits, 1), 2, false, "start+count is 2^start-width + 1");
        snprintf(form, sizeof form, "count-wrap%u", p.lbits);
        one(b, &p, i, n, form, 1, vfh_gen_wrap(p.lbits, 1), false, "start+count is 2^count-width");
        eventfds(b, d, &p, i, n, len);
    }
}
