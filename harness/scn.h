/* Conformance scenarios in memory: what harness/scn_parse.c makes of the
 * .scn files (language: harness/SCENARIOS.md) and harness/runner*.c plays.
 *
 * Everything that names the protocol (commands, fields, flag and enum names,
 * errno names, capability names, variable names) is resolved or checked when
 * the file is loaded, so a typo fails at load with "file:line: message";
 * only variable values wait for the run.  All memory of a loaded set lives in
 * one arena, released by vfh_scn_set_free. */
#ifndef VFU_SCN_H
#define VFU_SCN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"

/* Limits, checked before anything is allocated for what they bound. */
#define SCN_MAX_FILE_SIZE (1u << 20)     /* bytes of one .scn file */
#define SCN_MAX_LINE 1024                /* bytes of one line, newline excluded */
#define SCN_MAX_TOKENS 96                /* words on one line */
#define SCN_MAX_STEPS 256                /* steps of one scenario */
#define SCN_MAX_SCENARIOS 8192           /* in one load, all files together */
#define SCN_MAX_FILES 1024               /* .scn files in one directory */
#define SCN_MAX_EXPANDED_LINES 65536     /* lines of one file after foreach */
#define SCN_MAX_EXPANDED_BYTES (16u << 20) /* their text */
#define SCN_MAX_FOREACH_DEPTH 4
#define SCN_MAX_FOREACH_WORDS 256        /* values one foreach runs over */
#define SCN_MAX_BYTES (16u << 20)        /* one byte value (zero:N included) */
#define SCN_MAX_LITERAL 4096             /* bytes spelled out in hex or text */
#define SCN_MAX_PENDING 64               /* sends awaiting their expect */
#define SCN_MAX_VAR_TERMS 4              /* $variables in one value */
#define SCN_MAX_NAME 64                  /* ids, variable and mapping names */
#define SCN_MAX_WAIT_MS 600000           /* sleep, expect none / interrupt */
#define SCN_MAX_FDS 253                  /* fds one send may attach */
#define SCN_MAX_MEMORY (128u << 20)      /* the loaded form of all files together */

/* ---------------------------------------------------------------- values */

/* A number: constants (numbers, flag, enum and errno names, and sums of
 * spec sizes such as $sizeof.A+$sizeof.B-N, all resolved at load) OR'ed
 * together, with up to SCN_MAX_VAR_TERMS variables OR'ed in at run time,
 * each its name plus a constant ($NAME, $NAME+N, $NAME-$sizeof.A...). */
struct scn_var_term {
    const char *name;      /* without the $ */
    int64_t add;
};
struct scn_value {
    uint64_t num;
    uint8_t nvars;
    struct scn_var_term vars[SCN_MAX_VAR_TERMS];
};

/* Bytes: a literal (hex:, text:, plain hex where bytes are meant), zero:N
 * (n bytes of zero, p NULL), or a variable's bytes. */
struct scn_bytes {
    const uint8_t *p;
    uint32_t n;
    const char *var;       /* non-NULL: the variable's bytes at run time */
};

/* ------------------------------------------------------------ send items */

enum scn_item_kind {
    SCN_I_SET,         /* field = value (an integer field) */
    SCN_I_BYTES,       /* field = bytes: a fixed bytes field */
    SCN_I_DATA,        /* field = bytes appended to a tail (data, string, variant arm) */
    SCN_I_STRUCT,      /* +struct: a variant arm */
    SCN_I_ELEM,        /* +array: one element */
    SCN_I_FD_MEMFD,    /* fd=memfd[:SIZE] */
    SCN_I_FD_EVENTFD,  /* fd=eventfd[:NAME] */
    SCN_I_FD_DEVNULL,  /* fd=devnull */
    SCN_I_FDS,         /* fds=N: N fds on /dev/null */
    SCN_I_FD_MAP,      /* fd=map:NAME: the memfd of a mapping made by `map` */
    SCN_I_NOREPLY,
    SCN_I_UNCHECKED,   /* not held to the server's max_msg_fds / max_data_xfer_size */
    SCN_I_HDR,         /* @id= @cmd= @flags= @size= @error=: after encoding */
    SCN_I_TRUNCATE,    /* @truncate=N: keep N bytes, msg_size = N */
    SCN_I_APPEND,      /* @append=BYTES: add bytes, msg_size grows */
    SCN_I_POKE,        /* @poke=OFFSET:BYTES: overwrite bytes of the message */
};

struct scn_item {
    uint8_t kind;
    int16_t field;         /* SET, BYTES, DATA, ELEM, HDR */
    int16_t sid;           /* STRUCT */
    bool nul;              /* DATA: text: into a string field gets its NUL */
    struct scn_value val;  /* SET, HDR, FD_MEMFD size (0: default), FDS, TRUNCATE, POKE offset */
    struct scn_bytes bytes;/* BYTES, DATA, APPEND, POKE */
    const char *name;      /* FD_EVENTFD, FD_MAP */
};

/* -------------------------------------------------------- reply checks */

enum scn_op { SCN_OP_EQ, SCN_OP_NE, SCN_OP_LT, SCN_OP_LE, SCN_OP_GT, SCN_OP_GE,
              SCN_OP_ALL /* & : every bit set */, SCN_OP_NONE /* !& : no bit set */ };

/* Where a value sits in a reply. */
enum scn_loc_kind {
    SCN_L_FIELD,       /* an integer field (first instance) */
    SCN_L_ELEM,        /* array[index].field */
    SCN_L_LEN,         /* len(tail): bytes of data, elements of an array */
    SCN_L_BYTES,       /* the bytes of a tail or fixed bytes field */
    SCN_L_FDS,         /* fds received with the reply */
};
struct scn_loc {
    uint8_t kind;
    int16_t field;
    int16_t array;     /* ELEM */
    uint32_t index;    /* ELEM */
    const char *text;  /* as written, for messages */
};

struct scn_check {
    struct scn_loc loc;
    uint8_t op;
    struct scn_value val;
    struct scn_bytes bytes;   /* loc BYTES */
};

struct scn_save {
    const char *var;
    struct scn_loc loc;
};

/* ----------------------------------------------------------------- steps */

enum scn_step_kind {
    SCN_S_SEND,
    SCN_S_EXPECT_OK,
    SCN_S_EXPECT_ERROR,
    SCN_S_EXPECT_REPLY,         /* any reply, success or error */
    SCN_S_EXPECT_CLOSE,
    SCN_S_EXPECT_ERROR_OR_CLOSE,
    SCN_S_EXPECT_NONE,
    SCN_S_EXPECT_INTERRUPT,
    SCN_S_EXPECT_NO_INTERRUPT,
    SCN_S_EXPECT_MEMORY,
    SCN_S_EXPECT_SERVED,
    SCN_S_EXPECT_VIOLATION,
    SCN_S_MAP,
    SCN_S_UNMAP,
    SCN_S_IRQ,
    SCN_S_READ,
    SCN_S_WRITE,
    SCN_S_POKE,
    SCN_S_SET,
    SCN_S_CHECK,
    SCN_S_DISCONNECT,
    SCN_S_RECONNECT,
    SCN_S_RESTART,
    SCN_S_SLEEP,
    SCN_S_TRUNCATE,             /* resize the region's mmap fd as a hostile client would */
    SCN_S_SECOND_CLIENT,        /* another client connects and proposes VERSION meanwhile */
};

struct scn_step {
    uint8_t kind;
    int line;
    const char *origin;        /* foreach bindings that made this line, or NULL */
    union {
        struct {               /* SEND */
            uint16_t cmd;
            struct scn_item *items;
            unsigned nitems;
        } send;
        struct {               /* EXPECT_OK / ERROR / REPLY / CLOSE / ERROR_OR_CLOSE / NONE */
            uint16_t cmd;      /* of the send it answers */
            int send_step;     /* index of that send */
            struct scn_check *checks;
            unsigned nchecks;
            struct scn_save *saves;
            unsigned nsaves;
            uint32_t errnos[16];   /* ERROR, ERROR_OR_CLOSE; none: any */
            unsigned nerrnos;
            bool prefer;           /* the errnos are preferred (ERRNO?): any error reply
                                    * meets the step, another errno is an INFO finding */
            struct scn_value ms;   /* NONE */
        } expect;
        struct {               /* EXPECT_INTERRUPT / NO_INTERRUPT */
            const char *name;
            struct scn_value ms;
        } intr;
        struct {               /* EXPECT_MEMORY, POKE */
            struct scn_value addr;
            struct scn_bytes bytes;
        } mem;
        struct {               /* EXPECT_SERVED */
            bool write;
            struct scn_value min;
        } served;
        struct {               /* EXPECT_VIOLATION */
            int kind;          /* enum vfu_viol_kind */
        } viol;
        struct {               /* MAP, UNMAP */
            const char *name;
            struct scn_value addr, size, prot;
            bool memfd;
        } map;
        struct {               /* IRQ */
            const char *name;
            struct scn_value index, sub;
        } irq;
        struct {               /* READ, WRITE; TRUNCATE: region and count (the size) */
            struct scn_value region, offset, count, value;
            bool has_bytes;
            struct scn_bytes bytes;
            const char *as;    /* READ */
        } rw;
        struct {               /* SET */
            const char *var;
            struct scn_value val;
        } set;
        struct {               /* CHECK */
            struct scn_value a, b;
            uint8_t op;
        } check;
        struct {               /* SLEEP */
            struct scn_value ms;
        } sleep;
    } u;
};

/* ------------------------------------------------------------- scenarios */

enum scn_req_kind {
    SCN_R_MIGRATION,       /* DEVICE_FEATURE PROBE of MIGRATION succeeds */
    SCN_R_DMA_LOGGING,     /* DEVICE_FEATURE PROBE of DMA_LOGGING_START succeeds */
    SCN_R_MMAP_REGION,     /* a region with MMAP */
    SCN_R_IRQ,             /* irq index arg with count > 0 and EVENTFD */
    SCN_R_REGION,          /* region index arg with size > 0 */
    SCN_R_WRITE_MULTIPLE,  /* granted in VERSION */
    SCN_R_TWIN_SOCKET,     /* granted in VERSION */
    SCN_R_RESET,           /* DEVICE_GET_INFO flags RESET */
    SCN_R_IO_FDS,          /* DEVICE_GET_REGION_IO_FDS answered with success */
    SCN_R_SERVER,          /* vfu-conform starts the server (restart needs it) */
    SCN_R_DEVICE,          /* PCI config space says vendor:device arg (vendor << 16 | device):
                            * for scenarios about one device's registers */
    SCN_R_MAX_DMA_MAPS,    /* the server's max_dma_maps (stated, else the default) <= arg */
};
struct scn_req {
    uint8_t kind;
    struct scn_value arg;  /* IRQ, REGION, MAX_DMA_MAPS */
    int line;
};

enum scn_neg_mode { SCN_NEG_DEFAULT, SCN_NEG_NONE, SCN_NEG_CUSTOM };

/* a negotiate line's options; caps applied over the default proposal */
struct scn_cap_set { int cap; uint64_t value; };
struct scn_negotiate {
    uint8_t mode;
    bool set_major, set_minor;
    uint16_t major, minor;
    bool nojson;           /* no version data at all */
    bool nonul;            /* json sent without its NUL */
    const char *json;      /* sent verbatim instead of the capabilities */
    struct scn_cap_set caps[16];
    unsigned ncaps;
    int line;
};

struct scn_scenario {
    const char *id;
    const char *section;
    const char *title;
    const char *rule;          /* the rule it rests on, in our words; NULL: none given */
    enum vfu_level level;
    const char *file;
    int line;                  /* of the `scenario` line */
    struct scn_req *reqs;
    unsigned nreqs;
    struct scn_negotiate neg;
    struct scn_step *steps;
    unsigned nsteps;
};

struct scn_arena;

struct scn_set {
    struct scn_scenario *v;
    size_t n, cap;
    struct scn_arena *arena;
    const char **files;        /* names as given, for messages */
    size_t nfiles;
};

/* Errors are collected as lines "file:line: message" (or "file: message");
 * the first SCN_MAX_ERRORS are kept, all are counted. */
#define SCN_MAX_ERRORS 64
struct scn_errors {
    char *msg[SCN_MAX_ERRORS];
    unsigned n;
    unsigned total;
};
void vfh_scn_errors_free(struct scn_errors *e);

void vfh_scn_set_init(struct scn_set *s);
void vfh_scn_set_free(struct scn_set *s);

/* Loads one file, or every *.scn of a directory (in name order), adding
 * its scenarios to s.  A file with an error contributes nothing; loading
 * goes on with the next file.  Returns true when no error was found. */
bool vfh_scn_load_path(struct scn_set *s, const char *path, struct scn_errors *errs);
/* the same from text in memory, named `name` in messages */
bool vfh_scn_load_text(struct scn_set *s, const char *name, const char *text, size_t len,
                   struct scn_errors *errs);

/* names for messages */
const char *vfh_scn_step_kind_name(enum scn_step_kind k);
const char *vfh_scn_op_name(enum scn_op op);
const char *vfh_scn_level_name(enum vfu_level l);

/* errno by name ("EEXIST", also aliases like ENOTSUP) and back */
bool vfh_scn_errno_value(const char *name, uint32_t *v);
const char *vfh_scn_errno_name(uint32_t v);   /* NULL when unknown */

#endif
