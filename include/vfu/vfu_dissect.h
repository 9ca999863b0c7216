/* Human-readable views of vfio-user messages, for traces, the CLI and the
 * harness's verbose output.  Everything shown comes from the generated
 * tables walked over the bytes; nothing about a layout is written here.
 * Any bytes are accepted: a message that does not decode is shown as far as
 * it goes, and the verdict says which rule it broke. */
#ifndef VFU_DISSECT_H
#define VFU_DISSECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vfu_codec.h"

struct vfu_dissect_opts {
    unsigned nfds;                 /* fds that came with the message */
    const int *fds;                /* their numbers, or NULL when only counted */
    enum vfu_role receiver;        /* VFU_ROLE_ANY: no direction check */
    const struct vfu_limits *lim;  /* NULL: the spec's defaults */
    bool full;                     /* no eliding of long data, arrays, bitmaps */
    unsigned decode_opts;          /* VFU_DEC_*: decode as a lenient receiver does */
    bool docs;                     /* each field's line ends with "  -- " and its doc
                                    * (vfu_field_doc: what the field is for) */
};

/* opts NULL means: no fds, any receiver, default limits, elided output */
bool vfu_dissect_decode(struct vfu_msg *m, const uint8_t *buf, size_t len,
                        const struct vfu_dissect_opts *o, struct vfu_error *err);

/* Field-by-field view of one message, closed by a line "valid" or
 * "violation: ..." naming the spec section.  A field's line is
 * "@OFFSET TYPE NAME VALUE [notes]" (a tail's "NAME: ..."), then, with
 * opts.docs, "  -- DOC".  Returns true when valid; err
 * (may be NULL) gets the verdict. */
bool vfu_dissect(FILE *out, const uint8_t *buf, size_t len, const struct vfu_dissect_opts *o,
                 struct vfu_error *err);

/* One line for a decoded message: "REGION_READ request id=5 offset=0x10
 * region=0 count=4".  Returns the length it wanted, like snprintf. */
size_t vfu_msg_summary(const struct vfu_msg *m, char *buf, size_t n);

/* Decodes and summarizes; a message that breaks a rule ends its line with
 * "invalid: <ERRC> <field>".  Returns true when valid. */
bool vfu_summarize(const uint8_t *buf, size_t len, const struct vfu_dissect_opts *o, char *out,
                   size_t n, struct vfu_error *err);

/* A flags value by bit name: "READ|WRITE", "FEATURE=MIGRATION|GET",
 * "READ|reserved=0x4"; "0" when nothing is set. */
size_t vfu_bits_str(int bits_id, uint64_t v, char *buf, size_t n);

#endif
