/* The reference server as a session-target handler (fuzz/session_refserver.c). */
#ifndef FUZZ_REFSERVER_H
#define FUZZ_REFSERVER_H

#include "mutate.h"
#include "session_driver.h"

extern const struct fuzz_server fuzz_refserver;

/* Tells a mutator the reference device's regions and IRQ counts
 * (servers/toydev.h), so that offsets and counts are pushed around the
 * real bounds.  The custom mutator is linked only into engine builds, so
 * targets reach it through a weak reference (fuzz_refserver_describe_engine). */
void fuzz_refserver_describe(struct vfu_mut *m);
void fuzz_refserver_describe_engine(void);

#endif
