/* The private directory a tool makes for the socket of the program under
 * test: under $TMPDIR when that is an absolute path leaving room for a
 * UNIX socket's name, else /tmp, named TOOL-XXXXXX, with "sock" inside it.
 * Both are registered with lib/runtime/stopsig.h, so that a second stop signal
 * removes them too (the socket first), and unregistered when removed.
 * Used by vfu-conform's runner and both sides of vfu-fuzz. */
#ifndef VFU_SOCKDIR_H
#define VFU_SOCKDIR_H

#include <stdbool.h>

#define VFU_SOCKDIR_MAX 64      /* bytes of the directory's path */
#define VFU_SOCKDIR_SOCK_MAX 96 /* bytes of the socket's path */

struct vfu_sockdir {
    char dir[VFU_SOCKDIR_MAX];  /* "" when there is none */
    char sock[VFU_SOCKDIR_SOCK_MAX];
};

/* false with errno (from mkdtemp) and d->dir empty */
bool vfu_sockdir_make(struct vfu_sockdir *d, const char *tool);
/* removes the socket file (when there) and the directory; again: nothing */
void vfu_sockdir_remove(struct vfu_sockdir *d);

#endif
