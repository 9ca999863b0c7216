#include "unix_listen.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

/* TCP_LISTEN in the kernel's socket state numbering, which sock_diag uses
 * for AF_UNIX too */
#define DIAG_STATE_LISTEN 10
/* __SO_ACCEPTCON in the Flags column of /proc/net/unix */
#define PROCFS_ACCEPTCON 0x10000UL

/* 1 match seen, 0 none, -1 error; -2 when sock_diag itself is unavailable */
static int diag_lookup(const struct stat *st)
{
    int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl < 0) return -2;
    /* the kernel answers at once; the bound only guards against the unforeseen */
    struct timeval tv = {.tv_sec = 1};
    setsockopt(nl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

    struct {
        struct nlmsghdr h;
        struct unix_diag_req r;
    } req;
    memset(&req, 0, sizeof req);
    req.h.nlmsg_len = sizeof req;
    req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.r.sdiag_family = AF_UNIX;
    req.r.udiag_states = 1u << DIAG_STATE_LISTEN;
    req.r.udiag_show = UDIAG_SHOW_VFS;
    if (send(nl, &req, sizeof req, 0) != (ssize_t)sizeof req) {
        int e = errno;
        close(nl);
        /* refused by policy (e.g. a seccomp filter): let procfs answer */
        if (e == EPERM || e == EACCES || e == EOPNOTSUPP) return -2;
        errno = e;
        return -1;
    }

    /* the kernel's dev_t packs major and minor as 12:20 bits */
    unsigned want_major = major(st->st_dev), want_minor = minor(st->st_dev);
    long buf[8192 / sizeof(long)];
    int found = 0;
    for (;;) {
        ssize_t n = recv(nl, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EPROTO;
            close(nl);
            errno = e;
            return -1;
        }
        size_t left = (size_t)n;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
            if (h->nlmsg_type == NLMSG_DONE) {
                close(nl);
                return found;
            }
            if (h->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(h);
                close(nl);
                if (e->error == -EPERM || e->error == -EACCES || e->error == -ENOENT) return -2;
                errno = e->error ? -e->error : EPROTO;
                return -1;
            }
            if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct unix_diag_msg)))
                continue;
            const struct unix_diag_msg *m = NLMSG_DATA(h);
            unsigned alen = h->nlmsg_len - NLMSG_LENGTH(sizeof *m);
            for (const struct rtattr *a = (const struct rtattr *)(m + 1); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
                if (a->rta_type != UNIX_DIAG_VFS || RTA_PAYLOAD(a) < sizeof(struct unix_diag_vfs)) continue;
                const struct unix_diag_vfs *v = RTA_DATA(a);
                if (v->udiag_vfs_ino == st->st_ino && (v->udiag_vfs_dev >> 20) == want_major &&
                    (v->udiag_vfs_dev & 0xfffff) == want_minor)
                    found = 1;
            }
        }
    }
}

int vfu_unix_listening_procfs(const char *path)
{
    FILE *f = fopen("/proc/net/unix", "re");
    if (!f) return -1;
    char line[512];
    int found = 0;
    bool header = true;
    while (!found && fgets(line, sizeof line, f)) {
        if (header) {
            header = false;
            continue;
        }
        unsigned long flags;
        int at = -1;
        /* Num RefCount Protocol Flags Type St Inode Path */
        if (sscanf(line, "%*s %*s %*s %lx %*s %*s %*s %n", &flags, &at) < 1 || at < 0) continue;
        char *name = line + at;
        name[strcspn(name, "\n")] = '\0';
        if ((flags & PROCFS_ACCEPTCON) && strcmp(name, path) == 0) found = 1;
    }
    fclose(f);
    return found;
}

int vfu_unix_listening(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        if (errno == ENOENT || errno == ENOTDIR) return 0;
        return -1;
    }
    if (!S_ISSOCK(st.st_mode)) return 0;
    int r = diag_lookup(&st);
    if (r != -2) return r;
    return vfu_unix_listening_procfs(path);
}
