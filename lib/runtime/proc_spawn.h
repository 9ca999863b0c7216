/* fork + exec with an exact descriptor plan: the child gets fds 0, 1, 2,
 * optionally one more at a chosen number, and nothing else; default signal
 * dispositions and an empty signal mask whatever ours are (an ignored
 * SIGPIPE or a blocked SIGTERM would otherwise survive the exec); and a
 * process group of its own, so that the group can be signalled as one. */
#ifndef VFU_PROC_SPAWN_H
#define VFU_PROC_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

struct vfu_spawn {
    const char *file;           /* what to execute, from vfu_spawn_resolve */
    char *const *argv;
    int fd0, fd1, fd2;          /* become the child's 0, 1, 2 */
    int pass_fd;                /* becomes pass_num; -1: none */
    int pass_num;
    int timeout_ms;             /* for the exec to succeed or fail */
};

/* name as execvp would find it (a name without '/' is looked up in PATH)
 * into a new string in *file; 0 or an errno */
int vfu_spawn_resolve(const char *name, char **file);

/* 0 with *pid once the exec has succeeded; otherwise an errno, with
 * *exec_failed telling whether it came from the exec itself, and no child
 * left behind. */
int vfu_spawn(const struct vfu_spawn *s, pid_t *pid, bool *exec_failed);

#endif
