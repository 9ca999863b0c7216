#include "cmdline.h"

#include <stdlib.h>
#include <string.h>

const char *vfu_cmdline_problem_str(unsigned problem)
{
    switch (problem) {
    case VFU_CMDLINE_OK: return "no problem";
    case VFU_CMDLINE_EMPTY: return "empty command";
    case VFU_CMDLINE_SQUOTE: return "single quote not closed";
    case VFU_CMDLINE_DQUOTE: return "double quote not closed";
    case VFU_CMDLINE_BACKSLASH: return "backslash at the end";
    case VFU_CMDLINE_TOO_LONG: return "command too long";
    case VFU_CMDLINE_TOO_MANY: return "too many words";
    }
    return "bad command";
}

static size_t count_words(char **argv)
{
    size_t n = 0;
    while (argv && argv[n]) n++;
    return n;
}

void vfu_cmdline_free(char **argv)
{
    if (!argv) return;
    for (size_t i = 0; argv[i]; i++) free(argv[i]);
    free(argv);
}

bool vfu_cmdline_append(char ***argv, const char *word)
{
    size_t n = count_words(*argv);
    if (n >= VFU_CMDLINE_MAX_ARGS) return false;
    char *w = strdup(word);
    if (!w) return false;
    char **grown = realloc(*argv, (n + 2) * sizeof *grown);
    if (!grown) {
        free(w);
        return false;
    }
    grown[n] = w;
    grown[n + 1] = NULL;
    *argv = grown;
    return true;
}

static int refuse(struct vfu_error *err, enum vfu_cmdline_problem why, size_t at, char **argv)
{
    vfu_cmdline_free(argv);
    vfu_error_set(err, VFU_E_BAD_VALUE, -1, -1, at, why);
    return -1;
}

static int out_of_memory(struct vfu_error *err, char **argv, char *word)
{
    free(word);
    vfu_cmdline_free(argv);
    vfu_error_set(err, VFU_E_NOMEM, -1, -1, 0, 0);
    return -1;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int vfu_cmdline_split(const char *cmd, char ***out, struct vfu_error *err)
{
    *out = NULL;
    size_t len = strnlen(cmd, VFU_CMDLINE_MAX_LEN + 1);
    if (len > VFU_CMDLINE_MAX_LEN) return refuse(err, VFU_CMDLINE_TOO_LONG, VFU_CMDLINE_MAX_LEN, NULL);

    char **argv = calloc(1, sizeof *argv);
    /* no word is longer than the whole text */
    char *word = malloc(len + 1);
    if (!argv || !word) return out_of_memory(err, argv, word);
    size_t nwords = 0;
    size_t i = 0;
    for (;;) {
        while (i < len && is_blank(cmd[i])) i++;
        if (i == len) break;
        size_t w = 0;
        while (i < len && !is_blank(cmd[i])) {
            char c = cmd[i];
            if (c == '\'') {
                size_t open = i++;
                while (i < len && cmd[i] != '\'') word[w++] = cmd[i++];
                if (i == len) {
                    free(word);
                    return refuse(err, VFU_CMDLINE_SQUOTE, open, argv);
                }
                i++;
            } else if (c == '"') {
                size_t open = i++;
                while (i < len && cmd[i] != '"') {
                    if (cmd[i] == '\\' && i + 1 < len && (cmd[i + 1] == '"' || cmd[i + 1] == '\\')) i++;
                    word[w++] = cmd[i++];
                }
                if (i == len) {
                    free(word);
                    return refuse(err, VFU_CMDLINE_DQUOTE, open, argv);
                }
                i++;
            } else if (c == '\\') {
                if (i + 1 == len) {
                    free(word);
                    return refuse(err, VFU_CMDLINE_BACKSLASH, i, argv);
                }
                word[w++] = cmd[i + 1];
                i += 2;
            } else {
                word[w++] = c;
                i++;
            }
        }
        if (nwords >= VFU_CMDLINE_MAX_ARGS) {
            free(word);
            return refuse(err, VFU_CMDLINE_TOO_MANY, i, argv);
        }
        word[w] = '\0';
        char *copy = strdup(word);
        char **grown = copy ? realloc(argv, (nwords + 2) * sizeof *grown) : NULL;
        if (!grown) {
            free(copy);
            return out_of_memory(err, argv, word);
        }
        argv = grown;
        argv[nwords++] = copy;
        argv[nwords] = NULL;
    }
    free(word);
    if (nwords == 0) return refuse(err, VFU_CMDLINE_EMPTY, 0, argv);
    *out = argv;
    return (int)nwords;
}

/* word with every token replaced, or NULL when out of memory */
static char *replace_all(const char *word, const char *token, const char *value, int *count)
{
    size_t tlen = strlen(token), vlen = strlen(value);
    size_t n = 0;
    for (const char *s = strstr(word, token); s; s = strstr(s + tlen, token)) n++;
    *count = (int)n;
    if (n == 0) return NULL;
    size_t wlen = strlen(word);
    char *out = malloc(wlen - n * tlen + n * vlen + 1);
    if (!out) return NULL;
    char *d = out;
    const char *s = word;
    for (const char *hit = strstr(s, token); hit; hit = strstr(s, token)) {
        memcpy(d, s, (size_t)(hit - s));
        d += hit - s;
        memcpy(d, value, vlen);
        d += vlen;
        s = hit + tlen;
    }
    strcpy(d, s);
    return out;
}

int vfu_cmdline_subst(char **argv, const char *token, const char *value)
{
    if (!*token) return 0;
    size_t n = count_words(argv);
    /* build every replacement first so a failure leaves argv as it was */
    char **repl = calloc(n ? n : 1, sizeof *repl);
    if (!repl) return -1;
    int total = 0;
    for (size_t i = 0; i < n; i++) {
        int c;
        repl[i] = replace_all(argv[i], token, value, &c);
        if (c > 0 && !repl[i]) {
            for (size_t j = 0; j < i; j++) free(repl[j]);
            free(repl);
            return -1;
        }
        total += c;
    }
    for (size_t i = 0; i < n; i++) {
        if (!repl[i]) continue;
        free(argv[i]);
        argv[i] = repl[i];
    }
    free(repl);
    return total;
}
