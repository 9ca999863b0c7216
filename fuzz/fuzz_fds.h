/* The fd leak check of the in-process targets: every fd a target hands to
 * the code under test during a run is noted, and after the run (the peer
 * gone, the client closed) each must be closed again.  A leak aborts with
 * the fd's number, which libFuzzer reports as a crash with its input. */
#ifndef FUZZ_FDS_H
#define FUZZ_FDS_H

void fuzz_fds_note(const int *fds, unsigned n);
/* aborts if a noted fd is still open; forgets them all */
void fuzz_fds_check(const char *who);

#endif
