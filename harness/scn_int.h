/* Inside the scenario loader: the arena, the line source (file text after
 * foreach expansion), the tokenizer and the value readers shared by
 * scn_parse.c, scn_send.c and scn_expect.c. */
#ifndef VFU_SCN_INT_H
#define VFU_SCN_INT_H

#include <stdarg.h>

#include "scn.h"

/* ----------------------------------------------------------------- arena */

struct scn_arena;
struct scn_arena *vfh_scn_arena_new(void);
void vfh_scn_arena_free(struct scn_arena *a);
/* zeroed memory; NULL when out of memory or n above SCN_MAX_BYTES + 64 KiB */
void *vfh_scn_alloc(struct scn_arena *a, size_t n);
char *vfh_scn_strndup(struct scn_arena *a, const char *s, size_t n);
char *vfh_scn_strdup(struct scn_arena *a, const char *s);

/* ----------------------------------------------------------------- lines */

struct scn_line {
    int line;              /* in the file */
    const char *text;      /* NUL-terminated, no newline */
    const char *origin;    /* "CMD=DMA_MAP" for lines a foreach made, or NULL */
};

struct scn_lines {
    struct scn_line *v;
    size_t n, cap;
};

/* Splits text into lines and expands foreach blocks.  Lines and their text
 * live in the arena.  On failure, msg says why, *bad_line is the line and
 * *bad_origin the foreach bindings in force there (or NULL). */
bool vfh_scn_lines_read(struct scn_arena *a, const char *text, size_t len, struct scn_lines *out,
                    int *bad_line, const char **bad_origin, char *msg, size_t msglen);

/* words of a line: quotes removed, comments dropped */
struct scn_tokens {
    char *tok[SCN_MAX_TOKENS];
    unsigned n;
    char buf[2 * SCN_MAX_LINE + SCN_MAX_TOKENS];
};
/* false with msg when quotes do not close or there are too many words */
bool vfh_scn_tokenize(const char *text, struct scn_tokens *t, char *msg, size_t msglen);
/* the raw text after the first word, trimmed (titles keep their quotes and #) */
const char *vfh_scn_rest_of_line(const char *text, size_t *len);

/* ---------------------------------------------------------------- values */

/* what names a number may use besides digits and $variables */
struct scn_names {
    int bits_id;           /* flag names (and FIELD=ENUM subfields), -1 none */
    int enum_id;           /* enum names, -1 none */
    bool errnos;           /* errno names */
};
#define SCN_NAMES_NONE ((struct scn_names){-1, -1, false})

/* The reader reports problems here; var_known says whether a variable name
 * is known at that point of the scenario. */
struct scn_vctx {
    struct scn_arena *a;
    bool (*var_known)(void *ctx, const char *name);
    void *ctx;
    char *msg;
    size_t msglen;
};

bool vfh_scn_read_number(const char *s, uint64_t *v);
bool vfh_scn_read_value(struct scn_vctx *c, const char *s, struct scn_names names,
                    struct scn_value *v);
/* hex:HEX text:TEXT zero:N $VAR, or plain HEX when plain_hex */
bool vfh_scn_read_bytes(struct scn_vctx *c, const char *s, bool plain_hex, struct scn_bytes *b,
                    bool *is_text);
/* is this a syntactically valid name for a variable the runner provides? */
bool vfh_scn_builtin_var(const char *name);
bool vfh_scn_valid_name(const char *s);
/* pci_region / pci_irq for the index fields that name them, else -1 */
int vfh_scn_index_enum(int field);   /* [A-Za-z_][A-Za-z0-9_.-]* up to SCN_MAX_NAME */

int vfh_scn_msg(char *msg, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* -------------------------------------------------- send / expect items */

/* Structures a message may hold: its body, variant arms, array elements
 * (and their arms), capability chain entries. */
#define SCN_MAX_REACH 24
struct vfh_scn_reach {
    int16_t sid[SCN_MAX_REACH];
    int16_t via[SCN_MAX_REACH];   /* field that brings it in: variant, array, capchain; -1 body */
    unsigned n;
};
void vfh_scn_reach(int sid, struct vfh_scn_reach *r);


/* parses `send CMD ITEMS...` (t->tok[0] is "send") */
bool vfh_scn_parse_send(struct scn_vctx *c, const struct scn_tokens *t, struct scn_step *st);
/* parses the checks and saves of `expect ok` from word `from` on; cmd is the
 * command whose reply is checked; saved variables are reported to def() */
/* "PATH OP VALUE": the operator and what follows it */
bool vfh_scn_split_op(const char *w, char *path, size_t pn, enum scn_op *op, const char **val);
bool vfh_scn_parse_checks(struct scn_vctx *c, const struct scn_tokens *t, unsigned from, uint16_t cmd,
                      struct scn_step *st, void (*def)(void *ctx, const char *name));

#endif
