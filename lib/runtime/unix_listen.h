/* Is a UNIX socket path being listened on?  Answered without connecting:
 * a vfio-user server may serve exactly one client and quit when that client
 * leaves, so a probing connect() would end the very server it waits for. */
#ifndef VFU_UNIX_LISTEN_H
#define VFU_UNIX_LISTEN_H

/* 1: a listening socket is bound at path; 0: not (no file, not a socket,
 * bound but not listening, or left behind by a closed socket); -1 with errno
 * set when the system cannot tell.  Asks the kernel's sock_diag by the
 * path's inode and falls back to vfu_unix_listening_procfs. */
int vfu_unix_listening(const char *path);

/* The same from /proc/net/unix, which knows the path only as the listener
 * spelled it to bind(): a match needs the very same string. */
int vfu_unix_listening_procfs(const char *path);

#endif
