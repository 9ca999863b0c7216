/* The model's storage (specgen.h), and the one way specgen stops. */
/* first: it sets _POSIX_C_SOURCE for the system headers below */
#include "specgen.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *spec_path;
int cur_line;

void die(int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: ", spec_path, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d) { perror("strdup"); exit(1); }
    return d;
}

struct gfield fields[MAXN]; int nfields;
struct garm arms[MAXN]; int narms;
struct gstruct structs[MAXN]; int nstructs;
struct gval vals[MAXN]; int nvals;
struct genum enums[MAXN]; int nenums;
struct gbit bitv[MAXN]; int nbitv;
struct ggroup groups[MAXN]; int ngroups;
struct gbits bitsd[MAXN]; int nbitsd;
struct gcapent capents[MAXN]; int ncapents;
struct gchain chainsd[MAXN]; int nchainsd;
struct gcmd cmds[MAXN]; int ncmds;
struct gcap capab[MAXN]; int ncapab;
int proto_major = -1, proto_minor = -1;
