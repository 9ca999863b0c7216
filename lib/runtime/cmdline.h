/* Shell-free command lines: a --server CMD string becomes an argv without a
 * shell, so a path with spaces or quotes reaches the program unchanged and
 * nothing is expanded behind the user's back.
 *
 * Rules: blanks (space, tab, newline, CR) separate words; '...' keeps
 * everything up to the next ' literally; "..." is literal except that \"
 * and \\ stand for " and \; outside quotes a backslash makes the next
 * character literal.  Quotes join with adjacent text: a'b c'd is one word
 * "ab cd", and '' is an empty word. */
#ifndef VFU_CMDLINE_H
#define VFU_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

#include "vfu_error.h"

#define VFU_CMDLINE_MAX_LEN 65536   /* bytes of command text */
#define VFU_CMDLINE_MAX_ARGS 1024   /* words, including appended ones */

/* Why a command line was refused: error want = one of these, got = offset. */
enum vfu_cmdline_problem {
    VFU_CMDLINE_OK = 0,
    VFU_CMDLINE_EMPTY,              /* no word at all */
    VFU_CMDLINE_SQUOTE,             /* ' without its closing ' */
    VFU_CMDLINE_DQUOTE,             /* " without its closing " */
    VFU_CMDLINE_BACKSLASH,          /* backslash at the very end */
    VFU_CMDLINE_TOO_LONG,           /* above VFU_CMDLINE_MAX_LEN */
    VFU_CMDLINE_TOO_MANY,           /* above VFU_CMDLINE_MAX_ARGS */
};

const char *vfu_cmdline_problem_str(unsigned problem);

/* A NULL-terminated argv of separately allocated words in *argv; returns the
 * word count, or -1 with err (BAD_VALUE: got = offset, want = problem;
 * NOMEM). */
int vfu_cmdline_split(const char *cmd, char ***argv, struct vfu_error *err);

/* Replaces every occurrence of token inside every word by value; returns the
 * number of replacements, -1 when out of memory (argv then unchanged). */
int vfu_cmdline_subst(char **argv, const char *token, const char *value);

/* Adds one word at the end; false (argv unchanged) when out of memory or
 * at VFU_CMDLINE_MAX_ARGS. */
bool vfu_cmdline_append(char ***argv, const char *word);

void vfu_cmdline_free(char **argv);

#endif
