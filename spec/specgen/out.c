/* An output is made in memory, then written (atomically: a temporary file
 * renamed over it) only when its content changed, so that what depends on
 * the tables is rebuilt only when they really changed. */
/* first: it sets _POSIX_C_SOURCE for the system headers below */
#include "specgen.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void out_open(struct out *o)
{
    o->buf = NULL;
    o->len = 0;
    o->f = open_memstream(&o->buf, &o->len);
    if (!o->f) { perror("specgen: open_memstream"); exit(1); }
}

/* 1 written, 0 unchanged; exits on failure */
int out_commit(struct out *o, const char *path)
{
    if (fclose(o->f)) { fprintf(stderr, "specgen: %s: cannot write\n", path); exit(1); }
    FILE *old = fopen(path, "r");
    if (old) {
        int same = 1;
        size_t i = 0;
        for (int ch; same && (ch = fgetc(old)) != EOF; i++) same = i < o->len && (unsigned char)o->buf[i] == ch;
        same = same && i == o->len;
        fclose(old);
        if (same) { free(o->buf); return 0; }
    }
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp) { perror("specgen"); exit(1); }
    snprintf(tmp, n, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fwrite(o->buf, 1, o->len, f) != o->len || fclose(f) || rename(tmp, path)) {
        fprintf(stderr, "specgen: %s: %s\n", path, strerror(errno));
        remove(tmp);
        exit(1);
    }
    free(tmp);
    free(o->buf);
    return 1;
}
