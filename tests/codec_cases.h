/* The valid messages the codec tests share: one or more per command and
 * direction, each built with vfu_enc_* and checked field by field after
 * vfu_decode.  The round-trip, truncation and mutation tests all start from
 * this one table, so a command added to it is covered by all three. */
#ifndef CODEC_CASES_H
#define CODEC_CASES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vfu_codec.h"

struct codec_case {
    const char *name;
    uint16_t cmd;
    bool is_reply;
    void (*build)(struct vfu_enc *e);          /* after vfu_enc_begin */
    void (*check)(const struct vfu_msg *m);    /* cmocka asserts on every field */
    /* the payload cut to its struct's min_size is itself a valid message
     * (an optional tail left out, a reply cut after its fixed part) */
    bool fixed_prefix_valid;
};

extern const struct codec_case codec_cases[];
extern const size_t codec_ncases;

/* Room for the largest case. */
#define CODEC_BUF 1024

/* Encodes case c; returns the message length and the fds it carries. */
size_t codec_case_encode(const struct codec_case *c, uint8_t *buf, size_t cap, int *fds,
                         unsigned *nfds);
/* The side that receives this message. */
enum vfu_role codec_case_receiver(const struct codec_case *c);
/* Limits the cases fit in: the spec defaults, with room for the fds of
 * SET_IRQS and DEVICE_GET_REGION_IO_FDS. */
void codec_case_limits(struct vfu_limits *lim);

/* Bytes of a BYTES field inside element i of an array tail, or NULL. */
const uint8_t *codec_elem_bytes(const struct vfu_msg *m, int array_field, uint32_t i, int field);

/* Walks every part of a decoded message and reads every field it holds
 * through the accessors; fails the test if any part leaves the payload. */
void codec_read_all(const struct vfu_msg *m);

/* True if code is one the decoder may return. */
bool codec_decode_errc(enum vfu_errc code);

/* Decodes a copy of buf in a buffer of exactly len bytes (so that the
 * sanitizer sees any read past the end) and returns the result. */
bool codec_decode_copy(struct vfu_msg *m, uint8_t **copy, const uint8_t *buf, size_t len, const int *fds,
                       unsigned nfds, const struct vfu_limits *lim, enum vfu_role receiver,
                       struct vfu_error *err);

/* Asserts that decoding fails with code, on command cmd (-1: none) and
 * field (a VFU_F_* id, or -1). */
void codec_expect_error(const uint8_t *buf, size_t len, const int *fds, unsigned nfds,
                        const struct vfu_limits *lim, enum vfu_role receiver, enum vfu_errc code,
                        int cmd, int field);

/* Asserts that the message decodes (the base a crafted error starts from). */
void codec_expect_ok(const uint8_t *buf, size_t len, const int *fds, unsigned nfds,
                     const struct vfu_limits *lim, enum vfu_role receiver);

/* Appends n zero bytes to an encoded message and fixes msg_size; returns
 * the new length. */
size_t codec_extend(uint8_t *buf, size_t len, size_t n);

/* Writes msg_size into an encoded header (to craft bad framing). */
void codec_patch_size(uint8_t *buf, uint64_t msg_size);

/* Runs fn once per case, named after it, with the case as state; then the
 * extra tests. */
int codec_run_cases(const char *group, CMUnitTestFunction fn, const struct CMUnitTest *extra, size_t nextra);

#endif
