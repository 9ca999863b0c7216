/* A clean stop on SIGINT or SIGTERM: the handler only sets a flag; the
 * main loop looks at it between sessions and then stops the server, writes
 * the summary and removes its temporary files.  (To be replaced by the
 * shared mechanism in lib/ once there is one; two functions to swap.) */
#include "vfu_fuzz.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

void fz_sig_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

bool fz_sig_stop(void) { return g_stop != 0; }
