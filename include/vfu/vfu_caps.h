/* VERSION capabilities: the JSON object {"capabilities": {...}} exchanged in
 * VFIO_USER_VERSION, read and written through the capability table that the
 * spec file generates (names, JSON types, defaults).  json-c does the JSON. */
#ifndef VFU_CAPS_H
#define VFU_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfu_error.h"
#include "vfu_proto.h"

/* objects and arrays that may nest around a value in VERSION data (an empty
 * innermost one is free, as json-c counts): the capabilities need three
 * ({"capabilities":{"twin_socket":{...}}}); the rest leaves room for
 * unknown nested values a newer peer may send. */
#define VFU_CAPS_MAX_DEPTH 8

struct vfu_caps {
    uint64_t v[VFU_CAP__COUNT];        /* value, or the default when absent */
    bool present[VFU_CAP__COUNT];      /* objects: the key appeared */
    unsigned unknown;                  /* keys the spec does not name (ignored) */
    char first_unknown[64];            /* JSON path of the first: "capabilities.foo" */
};

/* JSON types, for err->got / err->want when a capability has the wrong one */
enum vfu_json_type {
    VFU_JSON_NULL = 1,
    VFU_JSON_BOOLEAN,
    VFU_JSON_DOUBLE,
    VFU_JSON_INT,
    VFU_JSON_OBJECT,
    VFU_JSON_ARRAY,
    VFU_JSON_STRING,
};

/* nothing present; every value at its spec default */
void vfu_caps_init(struct vfu_caps *c);

/* Parses VERSION data: json of len bytes, the terminating NUL excluded.
 * Callers with no data at all use vfu_caps_init instead; len 0 (a lone NUL)
 * is not JSON.  c is reset first.  Errors set err->cmd = VERSION, field =
 * its data field, is_reply, and:
 *  VFU_E_JSON: malformed (json-c strict, plus what it would let through:
 *    single quotes, \u0000, NaN, "1.", overlong UTF-8), bytes other than
 *    whitespace after the object, nesting deeper than VFU_CAPS_MAX_DEPTH,
 *    an embedded NUL: got = the offset where the text stops being JSON,
 *    want = len; a top level or "capabilities" that is not an object:
 *    got = its enum vfu_json_type, want = VFU_JSON_OBJECT;
 *  VFU_E_CAPABILITY with err->cap:
 *    wrong JSON type: got = the type seen, want = the type expected;
 *    negative number: got = the value as two's complement, want = 0;
 *    above 2^64-2 (json-c saturates there): got = UINT64_MAX, want = UINT64_MAX-1;
 *    reply-only capability in a proposal: got = its value, want = 0;
 *  VFU_E_BAD_VALUE with err->cap: a value the spec's meaning rules out
 *    (see value_rules in caps.c): got = the value, want = the nearest
 *    allowed one.
 * Unknown keys, at any level, are counted, not errors. */
bool vfu_caps_parse(struct vfu_caps *c, const char *json, size_t len, bool is_reply,
                    struct vfu_error *err);

/* value (the default when absent); 0 for an id out of range */
uint64_t vfu_caps_get(const struct vfu_caps *c, int cap);
/* sets a value and marks it and its enclosing objects present */
void vfu_caps_set(struct vfu_caps *c, int cap, uint64_t v);

/* writes {"capabilities":{...}} with the present capabilities, in table
 * order, compact; returns the length without the NUL, or -1 when it does
 * not fit (or n is 0) */
int vfu_caps_to_json(const struct vfu_caps *c, char *buf, size_t n);

/* The spec's reply rule: the reply's capabilities a subset of those
 * proposed, each object member on its own.  A boolean true in the reply
 * needs true in the proposal; a reply-only member needs its object proposed.
 * Violations: VFU_E_VERSION with err->cap, got = the reply's value,
 * want = the proposal's (0 when absent). */
bool vfu_caps_check_subset(const struct vfu_caps *proposed, const struct vfu_caps *reply,
                           struct vfu_error *err);
/* same major; reply minor <= proposed minor.  VFU_E_VERSION, field = the
 * VERSION major or minor, got = the reply's, want = the proposal's. */
bool vfu_version_check_reply(uint16_t prop_major, uint16_t prop_minor, uint16_t reply_major,
                             uint16_t reply_minor, struct vfu_error *err);

const char *vfu_cap_name(int cap);   /* "twin_socket.fd_index"; "?" out of range */
int vfu_cap_by_name(const char *dotted);   /* -1 if none */

#endif
