/* vfu-refserver's command line (the spec's backend program conventions plus
 * what the server advertises). */
#ifndef SRV_OPTIONS_H
#define SRV_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "srv.h"

struct srv_cmdline {
    struct srv_opts opt;
    const char *socket_path;   /* --socket-path=PATH, or NULL */
    int fd;                    /* --fd=N, or -1 */
    bool once;
    int verbose;
    bool bad_fault;            /* the error was an unknown --fault name */
};

enum srv_opt_result { SRV_OPT_RUN, SRV_OPT_HELP, SRV_OPT_VERSION, SRV_OPT_FAULT_LIST, SRV_OPT_ERROR };

/* On SRV_OPT_ERROR, msg says what was wrong. */
enum srv_opt_result srv_options_parse(int argc, char **argv, struct srv_cmdline *cl, char *msg,
                                      size_t n);
extern const char srv_usage[];

#endif
