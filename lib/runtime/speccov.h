/* Spec coverage: what a set of wire traces exercised of the protocol, by
 * the generated tables.  Every message of a trace is decoded (lib/dissect.h)
 * and, for each command and each of its directions (request, reply), the
 * fields the tables say it can carry are marked with the classes of value
 * they were seen with; flag bits and enumeration values by name; errnos of
 * error replies; fd kinds; the VERSION capabilities; and which scenarios
 * sent or received it.  Nothing here names a command or a field: the lists
 * of what could have been exercised come from the tables, so a gap is a
 * field of the spec no message touched.
 *
 * Value classes of an integer field (widths from the tables):
 *   zero      0
 *   boundary  1, the width's largest value, one below it, or the top bit
 *             alone (0x80, 0x8000, ...): where off-by-one and sign bugs live
 *   typical   any other value
 *   out       a value the spec rules out: a must-be-zero field not zero,
 *             reserved flag bits, a value outside its enumeration, or the
 *             field a decode error names (argsz, counts, fds, ...); what
 *             the tables alone rule out, not what this device's geometry
 *             does (a region index past num_regions counts as typical)
 * Tails (data, strings, arrays, bitmaps) count as zero when empty and
 * typical otherwise.  Capabilities: "default" when the value is the spec's
 * default, else the classes above (out: the peer's JSON broke a rule for
 * that capability). */
#ifndef VFU_SPECCOV_H
#define VFU_SPECCOV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace.h"

enum {
    VFU_SC_ZERO = 1u << 0,
    VFU_SC_TYPICAL = 1u << 1,
    VFU_SC_BOUNDARY = 1u << 2,
    VFU_SC_OUT = 1u << 3,
    VFU_SC_DEFAULT = 1u << 4,   /* capabilities only */
};
#define VFU_SC_NCLASS 5

/* one direction of one command */
struct vfu_sc_dir {
    unsigned msgs, errors;        /* messages seen; of them error replies */
    bool *reach;                  /* [nfields]: the tables say it can carry it */
    uint8_t *cls;                 /* [nfields]: VFU_SC_* seen */
    uint64_t *bits;               /* [nfields]: flag bits seen (named bits only) */
    uint64_t *enums;              /* [nfields]: enumeration values seen, by index */
    uint64_t errnos[4];           /* error replies: errno values 0..255 seen */
    bool errno_other;             /* an errno above 255 */
    uint8_t fd_kinds;             /* 1 << enum vfu_fd_kind */
    const char **scenarios;       /* ids, each once, in order seen (owned copies) */
    size_t nscn, capscn;
};

struct vfu_speccov {
    struct vfu_sc_dir *d;         /* [ncmds][2]: request, reply */
    unsigned ncmds;
    uint8_t cap_cls[2][64];       /* [proposal, reply][capability]: classes */
    unsigned traces, events, undecoded;
    bool oom;
};

bool vfu_speccov_init(struct vfu_speccov *sc);
void vfu_speccov_free(struct vfu_speccov *sc);

/* one trace recorded on the client side (vfu-conform, vfu-fuzz) */
void vfu_speccov_add_trace(struct vfu_speccov *sc, const struct vfu_trace *t);
/* a trace file (lib/trace.h); false with why filled when it cannot be read */
bool vfu_speccov_add_file(struct vfu_speccov *sc, const char *path, char *why, size_t whyn);
/* one message: from the client (is_client_tx) or the server */
void vfu_speccov_add_msg(struct vfu_speccov *sc, const uint8_t *buf, size_t len, bool from_client,
                         const struct vfu_trace_fd *fds, unsigned nfds, const char *scenario);

struct vfu_sc_dir *vfu_speccov_dir(const struct vfu_speccov *sc, unsigned cmd, bool reply);
/* "zero", "typical", "boundary", "out", "default" for one VFU_SC_ bit */
const char *vfu_speccov_class_name(unsigned bit);
/* whether a command can go in that direction at all (replies always can) */
bool vfu_speccov_dir_exists(unsigned cmd, bool reply);

/* The whole as JSON text (malloc'd, NULL when out of memory):
 *   { "traces", "events", "undecoded",
 *     "commands": [ { "command", "section", "direction": "request"|"reply",
 *        "messages", "error_replies", "errnos": [..], "fd_kinds": [..],
 *        "scenarios": [..],
 *        "fields": [ { "struct", "field", "classes": [..], "bits_seen": [..],
 *                      "bits_never": [..], "enum_seen": [..], "enum_never": [..] } ] } ],
 *     "capabilities": [ { "name", "proposal": [..], "reply": [..] } ],
 *     "gaps": { "commands_never_seen": [..], "fields_never_set": N,
 *               "fields_total": N } } */
char *vfu_speccov_json(const struct vfu_speccov *sc);

#endif
