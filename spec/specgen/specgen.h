/* specgen's model of a spec file, shared by its phases.
 *
 * specgen works as QAPI's generator does, one phase to a file:
 *   parse.c    the file's statements into the model below (names kept as
 *              written; only the grammar is judged)
 *   check.c    every name resolved, every layout computed, every rule held;
 *              the first problem stops the build with file:line
 *   emit_h.c   build/gen/vfu_proto.h: the ids, sizes and constants
 *   emit_c.c   build/gen/vfu_proto.c: the tables, designated initializers
 *   out.c      outputs written atomically, and only when they changed
 *   main.c     the three phases in order
 * Nothing after check fails on the spec's account. */
#ifndef SPECGEN_H
#define SPECGEN_H

#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>

#include "vfu_desc.h"

#define MAXN 1024

/* the spec file's name and the line being parsed, for messages */
extern const char *spec_path;
extern int cur_line;

/* "SPEC:LINE: message" on stderr, exit status 1 */
void die(int line, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
char *xstrdup(const char *s);

struct gfield {
    char *name; int kind, width, attrs, line, sid, offset;
    char *enum_name, *bits_name, *len_name, *aux_name, *elem_name, *chain_name, *on_name;
    int enum_id, bits_id, len_field, aux_field, elem_sid, chain_id, on_field;
    int first_arm, narms;
    char *role_name, *space_name, *span_name, *bound_name;
    int role, space, space_field, span_field, bound_cap, count_of;
    char *doc; int doc_line;   /* the `doc` line after the field's */
};
struct garm {
    char *label; char *conds[8]; int nconds; int kind; char *target; char *len_name;
    int optional, line, owner; uint64_t mask, value; int sid, len_field;
};
struct gstruct { char *name; int first_field, nfields, tail, size, min_size, stride, line, done, argsz_field; };
struct gval { char *name; uint64_t value; int line; };
struct genum { char *name; int first, n, line; };
struct gbit { char *name; uint64_t mask; int shift; char *enum_name; int enum_id, line; };
struct ggroup { char *name; int kind; char *members[8]; int nmembers; char *unless; uint64_t mask, unless_mask; int line; };
struct gbits { char *name; int first_bit, nbits, first_group, ngroups, line; uint64_t known; };
struct gcapent { char *id; char *sname; uint64_t idv; int sid; int line; };
struct gchain { char *name, *header, *id, *next; int first, n, line; int header_sid, id_field, next_field; };
struct gfds { int rule; char *field, *bit; int fid, bit_field; uint64_t mask; };
struct gcmd { int num, dir, line; char *name, *section, *sname[2]; int sid[2]; int argsz[2]; struct gfds fds[2]; char *xfer; int xf[2];
              char *needs; int needs_cap; };
struct gcap { char *name; int kind, reply_only, parent, has_default, line; uint64_t dflt; };

extern struct gfield fields[MAXN]; extern int nfields;
extern struct garm arms[MAXN]; extern int narms;
extern struct gstruct structs[MAXN]; extern int nstructs;
extern struct gval vals[MAXN]; extern int nvals;
extern struct genum enums[MAXN]; extern int nenums;
extern struct gbit bitv[MAXN]; extern int nbitv;
extern struct ggroup groups[MAXN]; extern int ngroups;
extern struct gbits bitsd[MAXN]; extern int nbitsd;
extern struct gcapent capents[MAXN]; extern int ncapents;
extern struct gchain chainsd[MAXN]; extern int nchainsd;
extern struct gcmd cmds[MAXN]; extern int ncmds;
extern struct gcap capab[MAXN]; extern int ncapab;
extern int proto_major, proto_minor;

/* the next free entry of a model table; too many stops the build */
#define PUSH(arr, n) (((n) >= MAXN) ? (die(cur_line, "too many entries"), &(arr)[0]) : &(arr)[(n)++])

/* the phases */
void parse(FILE *f);
void resolve(void);
int check_whole(void);              /* the header struct's id */
void emit_header(FILE *h);
/* check phase: emit_header into a scratch stream, so that a C name made
 * twice stops the build at its spec line before anything is written */
void check_names(void);
void emit_tables(FILE *c, int header_sid);

/* an output made in memory and committed to its path (out.c) */
struct out { char *buf; size_t len; FILE *f; };
void out_open(struct out *o);
int out_commit(struct out *o, const char *path);   /* 1 written, 0 unchanged */

#endif
