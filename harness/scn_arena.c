/* One arena per loaded scenario set: scenarios point into each other's
 * strings and tables freely, and everything goes at once. */
#include <stdlib.h>
#include <string.h>

#include "scn_int.h"

#define CHUNK (64 * 1024)
#define ALLOC_MAX ((size_t)SCN_MAX_BYTES + 64 * 1024)

struct chunk {
    struct chunk *next;
    size_t used, cap;
    max_align_t data[];
};

struct scn_arena {
    struct chunk *head;
    size_t total;          /* bytes of chunks, held to SCN_MAX_MEMORY */
};

struct scn_arena *vfh_scn_arena_new(void)
{
    return calloc(1, sizeof(struct scn_arena));
}

void vfh_scn_arena_free(struct scn_arena *a)
{
    if (!a) return;
    for (struct chunk *c = a->head, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    free(a);
}

void *vfh_scn_alloc(struct scn_arena *a, size_t n)
{
    if (n > ALLOC_MAX) return NULL;
    size_t al = _Alignof(max_align_t);
    n = (n + al - 1) / al * al;
    if (!n) n = al;
    struct chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > CHUNK ? n : CHUNK;
        if (cap > SCN_MAX_MEMORY - a->total) return NULL;
        c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->used = 0;
        c->cap = cap;
        a->total += cap;
        /* a big block goes behind the current chunk, which keeps its room */
        if (a->head && cap > CHUNK) {
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

char *vfh_scn_strndup(struct scn_arena *a, const char *s, size_t n)
{
    char *d = vfh_scn_alloc(a, n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

char *vfh_scn_strdup(struct scn_arena *a, const char *s)
{
    return vfh_scn_strndup(a, s, strlen(s));
}

void vfh_scn_set_init(struct scn_set *s)
{
    memset(s, 0, sizeof *s);
}

void vfh_scn_set_free(struct scn_set *s)
{
    free(s->v);
    free(s->files);
    vfh_scn_arena_free(s->arena);
    memset(s, 0, sizeof *s);
}

void vfh_scn_errors_free(struct scn_errors *e)
{
    for (unsigned i = 0; i < e->n; i++) free(e->msg[i]);
    memset(e, 0, sizeof *e);
}
