/* specgen: reads spec/vfio-user.spec and writes the C tables the codec walks.
 *
 *   specgen SPEC OUT.h OUT.c
 *
 * Every name is resolved and every layout rule checked here, at build time,
 * so that the runtime codec can trust its tables and a mistake in the spec
 * file stops the build with file:line instead of surfacing as a bad decode. */
/* first: it sets _POSIX_C_SOURCE for the system headers below */
#include "specgen.h"

#include <errno.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: specgen SPEC OUT.h OUT.c\n");
        return 2;
    }
    spec_path = argv[1];
    FILE *f = fopen(argv[1], "r");
    if (!f) { fprintf(stderr, "specgen: %s: %s\n", argv[1], strerror(errno)); return 1; }
    /* 1. parse: the file into the model, each statement on its own */
    parse(f);
    fclose(f);
    /* 2. check: every name resolved, every layout computed and every rule
     * held; the first problem stops here with file:line */
    resolve();
    int header_sid = check_whole();
    /* 3. emit: nothing below fails on the spec's account */
    struct out h, c;
    out_open(&h);
    out_open(&c);
    emit_header(h.f);
    emit_tables(c.f, header_sid);
    out_commit(&h, argv[2]);
    out_commit(&c, argv[3]);
    return 0;
}
