/* The reference server as a session-target handler (fuzz/session_refserver.c). */
#ifndef FUZZ_REFSERVER_H
#define FUZZ_REFSERVER_H

#include "session_driver.h"

extern const struct fuzz_server fuzz_refserver;

#endif
