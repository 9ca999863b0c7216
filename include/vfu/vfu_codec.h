/* Table-driven vfio-user codec.  Decoding walks the generated descriptors
 * over the received bytes and records where each structure lives ("parts");
 * nothing is copied and nothing is allocated.  Encoding appends zeroed
 * structures to a caller buffer and sets fields by their generated ids. */
#ifndef VFU_CODEC_H
#define VFU_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfu_error.h"
#include "vfu_proto.h"
#include "vfu_spec.h"

#define VFU_HDR_SIZE VFU_SIZE_HEADER
#define VFU_MAX_CHAIN_CAPS 16
/* room for the body, a chain of VFU_MAX_CHAIN_CAPS capabilities (header, body and
 * the body's tail each) and a spare: a long chain must hit the chain limit,
 * which says what is wrong, before the part limit */
#define VFU_MAX_PARTS 64
/* the kernel's SCM_MAX_FD: no message can carry more */
#define VFU_MAX_FDS 253

struct vfu_hdr {
    uint16_t msg_id;
    uint16_t cmd;
    uint32_t msg_size;
    uint32_t flags;
    uint32_t error;
};

/* What the receiver accepts, from negotiation (or the spec's defaults). */
struct vfu_limits {
    uint32_t max_msg_size;        /* whole message, header included */
    uint32_t max_fds;             /* per message */
    uint64_t max_data_xfer_size;  /* for `xfer` fields; 0 disables the check */
};

/* Room a message may take beyond its header and max_data_xfer_size bytes
 * of transfer data: the largest fixed part ahead of the data is a few dozen
 * bytes, and a page leaves room for VERSION JSON and capability chains too.
 * vfu_limits_default's max_msg_size and the negotiated one are
 * VFU_HDR_SIZE + VFU_FIXED_ROOM + max_data_xfer_size. */
#define VFU_FIXED_ROOM 4096u

/* Defaults before negotiation: the spec's default max_data_xfer_size and
 * max_msg_fds, and VFU_FIXED_ROOM on top of the data. */
void vfu_limits_default(struct vfu_limits *lim);

/* Who receives the message, for the direction check. */
enum vfu_role { VFU_ROLE_ANY = -1, VFU_ROLE_SERVER = 0, VFU_ROLE_CLIENT = 1 };

enum vfu_part_kind { VFU_P_STRUCT, VFU_P_DATA, VFU_P_STRING, VFU_P_ARRAY, VFU_P_BITMAP, VFU_P_RAW };

struct vfu_part {
    uint8_t kind;
    int16_t sid;        /* STRUCT: the struct; ARRAY: the element struct */
    int16_t field;      /* the tail field that holds it; -1 for the body */
    int16_t parent;     /* index of the enclosing STRUCT part; -1 for the body */
    uint32_t off;       /* in the payload */
    uint32_t len;
    uint32_t count;     /* ARRAY elements, BITMAP u64 words */
    uint16_t stride;    /* ARRAY element size */
};

struct vfu_msg {
    struct vfu_hdr hdr;
    const struct vfu_cmd_desc *cmd;   /* NULL only for an error reply to an unknown command */
    bool is_reply;
    bool is_error;      /* error reply: header only */
    bool truncated;     /* reply stopped after its fixed part; argsz says the full size */
    uint32_t padding;   /* zero bytes past the structure, taken under VFU_DEC_ZERO_PADDING */
    const uint8_t *payload;
    uint32_t payload_len;
    const int *fds;
    unsigned nfds;
    struct vfu_part parts[VFU_MAX_PARTS];
    unsigned nparts;
};

/* ---- header ---- */
bool vfu_hdr_decode(const uint8_t *buf, size_t len, struct vfu_hdr *h, struct vfu_error *err);
void vfu_hdr_encode(uint8_t *buf, const struct vfu_hdr *h);
/* the size framing needs: checks msg_size against the header size and limit */
bool vfu_frame_size(const uint8_t hdr[VFU_HDR_SIZE], const struct vfu_limits *lim,
                    uint32_t *msg_size, struct vfu_error *err);

/* one line: "DMA_MAP request: argsz: is 40, must equal the payload size 32"
 * (here rather than in vfu_error.h: it names commands, fields and
 * capabilities from the tables) */
size_t vfu_error_str(const struct vfu_error *e, char *buf, size_t n);

/* ---- decode ----
 * buf holds one whole message (msg_size bytes); fds are those received with
 * it.  The message borrows buf and fds.  On failure err says why and m holds
 * what was decoded so far (the header at least, when it was complete). */
bool vfu_decode(struct vfu_msg *m, const uint8_t *buf, size_t len, const int *fds,
                unsigned nfds, const struct vfu_limits *lim, enum vfu_role receiver,
                struct vfu_error *err);

/* Decode options (vfu_decode_opt); vfu_decode is the strict decoder, 0.
 *
 * VFU_DEC_ZERO_PADDING: bytes after a message's last fixed structure (or
 * any payload of a command that has none) are taken as padding when every
 * one of them is zero; m->padding says how many.  The spec sizes a message
 * by msg_size and says nothing of trailing bytes, and simple clients send
 * a request padded to its argsz.  Padding after counted data, an array or
 * a bitmap is not padding but a count that disagrees with the payload, and
 * any non-zero byte is still VFU_E_PAYLOAD_LONG.  An argsz that must equal
 * the payload size may then equal either the structure or the padded
 * payload.  Whether to accept it is the receiver's policy, not the codec's. */
enum { VFU_DEC_ZERO_PADDING = 1u << 0 };
bool vfu_decode_opt(struct vfu_msg *m, const uint8_t *buf, size_t len, const int *fds,
                    unsigned nfds, const struct vfu_limits *lim, enum vfu_role receiver,
                    unsigned opts, struct vfu_error *err);

/* value of an integer field in its first instance; 0 when absent */
uint64_t vfu_get(const struct vfu_msg *m, int field);
bool vfu_has(const struct vfu_msg *m, int field);
/* the part holding a tail field (DATA, STRING, ARRAY, BITMAP, RAW), or NULL */
const struct vfu_part *vfu_tail(const struct vfu_msg *m, int field);
/* bytes of a DATA/STRING/BITMAP tail, or of the RAW arm of a variant */
const uint8_t *vfu_data(const struct vfu_msg *m, int field, uint32_t *len);
uint32_t vfu_count(const struct vfu_msg *m, int array_field);
/* an integer field of element i of an array (or of that element's variant arm) */
uint64_t vfu_elem_get(const struct vfu_msg *m, int array_field, uint32_t i, int field);
/* integer field in a given STRUCT part (several caps share one struct) */
uint64_t vfu_part_get(const struct vfu_msg *m, const struct vfu_part *p, int field);
/* next STRUCT part of struct sid after prev (NULL: from the start) */
const struct vfu_part *vfu_part_next(const struct vfu_msg *m, const struct vfu_part *prev, int sid);
/* a tail part whose parent is p */
const struct vfu_part *vfu_part_child(const struct vfu_msg *m, const struct vfu_part *p, int field);

uint64_t vfu_read_uint(const uint8_t *p, unsigned width);
void vfu_write_uint(uint8_t *p, unsigned width, uint64_t v);

/* ---- encode ---- */
struct vfu_enc {
    uint8_t *buf;
    size_t cap, len;
    uint16_t cmd;
    bool is_reply;
    struct vfu_error err;   /* first failure, sticky: later calls do nothing */
    bool finished;          /* vfu_enc_finish succeeded (or vfu_enc_error built it whole) */
    struct vfu_part parts[VFU_MAX_PARTS];
    unsigned nparts;
    int fds[VFU_MAX_FDS];
    unsigned nfds;
};

/* header plus the zeroed fixed body of cmd's request or reply */
void vfu_enc_begin(struct vfu_enc *e, uint8_t *buf, size_t cap, uint16_t cmd, bool is_reply,
                   uint16_t msg_id);
/* error reply: header only, Error bit and errno */
void vfu_enc_error(struct vfu_enc *e, uint8_t *buf, size_t cap, uint16_t cmd, uint16_t msg_id,
                   uint32_t errnum);
/* sets the field in the latest instance of its struct (or latest array
 * element); works after vfu_enc_finish too, to craft bad messages */
void vfu_enc_set(struct vfu_enc *e, int field, uint64_t v);
void vfu_enc_bytes(struct vfu_enc *e, int field, const void *p, size_t n);
/* appends a struct: a variant arm */
void vfu_enc_struct(struct vfu_enc *e, int sid);
/* appends one zeroed element to an array tail */
void vfu_enc_elem(struct vfu_enc *e, int array_field);
/* appends bytes to a DATA/STRING tail or a data/raw variant arm; p NULL: zeroes.
 * Returns where they went, for callers that fill in place. */
uint8_t *vfu_enc_data(struct vfu_enc *e, int field, const void *p, size_t n);
/* appends a capability (header and body) to a capability chain and links it */
void vfu_enc_chain_cap(struct vfu_enc *e, int capchain_field, uint64_t cap_id);
void vfu_enc_fd(struct vfu_enc *e, int fd);
/* fills msg_size, and every argsz and length or count field still zero
 * (argsz by its rule; counts from what was appended) */
bool vfu_enc_finish(struct vfu_enc *e, struct vfu_error *err);
/* overrides a header field after finish (bad messages on purpose) */
void vfu_enc_hdr(struct vfu_enc *e, int header_field, uint64_t v);

#endif
