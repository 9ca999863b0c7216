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

struct vfu_caps {
    uint64_t v[VFU_CAP__COUNT];        /* value, or the default when absent */
    bool present[VFU_CAP__COUNT];
    unsigned unknown;                  /* keys the spec does not name (ignored) */
    char first_unknown[64];            /* the first of them, for reports */
};

/* nothing present; every value at its spec default */
void vfu_caps_init(struct vfu_caps *c);

/* Parses VERSION data (json of len bytes, NUL excluded).  Malformed JSON or a
 * non-object -> VFU_E_JSON; a known capability with the wrong JSON type, a
 * negative or out-of-range number, or a reply-only one in a proposal ->
 * VFU_E_CAPABILITY with err->cap set.  Unknown keys are counted, not errors. */
bool vfu_caps_parse(struct vfu_caps *c, const char *json, size_t len, bool is_reply,
                    struct vfu_error *err);

uint64_t vfu_caps_get(const struct vfu_caps *c, int cap);
/* sets a value and marks it and its enclosing objects present */
void vfu_caps_set(struct vfu_caps *c, int cap, uint64_t v);

/* writes {"capabilities":{...}} with the present capabilities; returns the
 * length without the NUL, or -1 when it does not fit */
int vfu_caps_to_json(const struct vfu_caps *c, char *buf, size_t n);

/* The spec's reply rules: reply capabilities a subset of those proposed. */
bool vfu_caps_check_subset(const struct vfu_caps *proposed, const struct vfu_caps *reply,
                           struct vfu_error *err);
/* same major; reply minor <= proposed minor */
bool vfu_version_check_reply(uint16_t prop_major, uint16_t prop_minor, uint16_t reply_major,
                             uint16_t reply_minor, struct vfu_error *err);

const char *vfu_cap_name(int cap);   /* "twin_socket.fd_index" */
int vfu_cap_by_name(const char *dotted);

#endif
