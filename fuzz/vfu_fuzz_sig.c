/* A clean stop on SIGINT, SIGTERM or SIGHUP, through the shared mechanism
 * (lib/runtime/stopsig.h): the first signal is recorded and the main loop looks at
 * it between sessions (every wait in lib/ ends at once), then stops the
 * program under test, writes the summary and removes its temporary files;
 * a second signal kills what we started and removes those files in the
 * handler itself. */
#include "vfu_fuzz.h"

#include <signal.h>
#include <string.h>

#include "stopsig.h"

void fz_sig_install(void)
{
    vfu_stopsig_install(true);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);
}

bool fz_sig_stop(void) { return vfu_stopsig_pending() != 0; }
