/* Deadlines shared by the transport's files: one timeout covers a whole
 * operation however many system calls it takes. */
#ifndef VFU_TRANSPORT_WAIT_H
#define VFU_TRANSPORT_WAIT_H

#include <stdint.h>

/* milliseconds on the monotonic clock timeout_ms from now; -1 for never */
int64_t vfu_deadline(int timeout_ms);
/* polls fd for events until the deadline, over EINTR: 1 ready (or hung up,
 * so the next call reports why), 0 timed out, -1 error with errno set */
int vfu_wait_until(int fd, short events, int64_t deadline);

#endif
