/* Capture of a supervised program's output: a pipe drained by a thread of
 * its own into a ring that keeps the last cap bytes.  The thread is what
 * keeps a chatty program from blocking on a full pipe while the caller is
 * busy elsewhere (a conformance scenario does not pump our pipe). */
#ifndef VFU_PROC_OUT_H
#define VFU_PROC_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vfu_proc_out;

/* NULL with errno on failure.  *write_fd: the pipe's write end, CLOEXEC,
 * for the child's fd 2 (and 1); close it with vfu_out_close_writer once the
 * child has it, or EOF never comes.  echo: also copy to our fd 2. */
struct vfu_proc_out *vfu_out_new(size_t cap, bool echo, int *write_fd);
void vfu_out_close_writer(struct vfu_proc_out *o);
/* true once every writer has closed the pipe, waiting up to timeout_ms */
bool vfu_out_wait_eof(struct vfu_proc_out *o, int timeout_ms);
/* the kept tail, NUL-terminated, valid until the next call or free */
const char *vfu_out_text(struct vfu_proc_out *o, size_t *len);
uint64_t vfu_out_total(struct vfu_proc_out *o);
/* stops the thread (without waiting for writers) and releases everything */
void vfu_out_free(struct vfu_proc_out *o);

#endif
