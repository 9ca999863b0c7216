/* Session inputs (lib/runtime/fuzz_session.h) from a wire trace (lib/runtime/trace.h): the
 * messages one side received in a recorded session become the records a
 * fuzzer replays against that side.  make corpus turns the bundled
 * scenarios' traces into seeds with it; vfu-fuzz can turn any recorded
 * session into inputs the same way.
 *
 * Who sent a message is read from the message itself through the codec's
 * tables (a command's direction, a reply answering a command of the other
 * side), not from the trace's tx/rx, so a trace recorded by either side
 * converts the same.  For the side under test:
 *   commands the other side sent          -> msg records, bytes as sent
 *   replies the other side sent           -> reply records, fix-id set (a
 *                                            replaying side numbers its own
 *                                            requests)
 *   its own messages                      -> dropped
 * A command number the spec does not know counts as the client's (the
 * harness sends those to servers).  Twin-socket messages get the twin
 * flag.  Fds by kind: memfd and file -> memfd of the recorded size
 * (modulo VFU_FS_MAX_MEMFD), eventfd, socket, anything else /dev/null. */
#ifndef VFU_TRACE_SESSION_H
#define VFU_TRACE_SESSION_H

#include <stdbool.h>

#include "vfu_codec.h"
#include "fuzz_session.h"
#include "trace.h"

/* Fills fs with records pointing into t's events (t must outlive fs).
 * target: the side under test (VFU_ROLE_SERVER or VFU_ROLE_CLIENT).
 * Returns false when the trace held more than VFU_FS_MAX_RECORDS messages
 * for that side (fs holds the first ones). */
bool vfu_trace_to_session(const struct vfu_trace *t, enum vfu_role target, struct vfu_fs *fs);

#endif
