/* lib/runtime/sockdir.h: one rule for where sockets of programs under test live. */
#include "sockdir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stopsig.h"

/* room for "/TOOL-XXXXXX/sock" within a sockaddr_un path */
#define TMPDIR_MAX 38

bool vfu_sockdir_make(struct vfu_sockdir *d, const char *tool)
{
    const char *t = getenv("TMPDIR");
    if (!t || t[0] != '/' || strlen(t) > TMPDIR_MAX) t = "/tmp";
    snprintf(d->dir, sizeof d->dir, "%s/%.16s-XXXXXX", t, tool);
    if (!mkdtemp(d->dir)) {
        int e = errno;
        d->dir[0] = d->sock[0] = '\0';
        errno = e;
        return false;
    }
    snprintf(d->sock, sizeof d->sock, "%s/sock", d->dir);
    vfu_stopsig_add_path(d->dir, true);
    vfu_stopsig_add_path(d->sock, false);
    return true;
}

void vfu_sockdir_remove(struct vfu_sockdir *d)
{
    if (!d->dir[0]) return;
    unlink(d->sock);
    rmdir(d->dir);
    vfu_stopsig_del_path(d->sock);
    vfu_stopsig_del_path(d->dir);
    d->dir[0] = d->sock[0] = '\0';
}
