/* More than one fuzzer on one campaign, in AFL++'s -M/-S sync layout: each
 * instance owns OUT/NAME/ (queue/, findings/) and now and then reads the
 * queue entries its siblings saved since it last looked, from every
 * OUT/OTHER/queue/id:NNNNNN... file, so vfu-fuzz instances on one host
 * (--jobs) or on several machines sharing OUT, and afl-fuzz instances of
 * the in-process session targets (the same input format), feed each other.
 * What is read is run like any input and kept when it brings something
 * new.  --jobs N starts N instances named vfu-0 ... vfu-(N-1), each with
 * its own program under test and its own seed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vfu_fuzz.h"

static struct fz_sync_peer *peer(struct fz_sync *s, const char *name)
{
    for (unsigned i = 0; i < s->npeers; i++)
        if (!strcmp(s->peers[i].name, name)) return &s->peers[i];
    if (s->npeers == FZ_SYNC_MAX_PEERS) return NULL;
    struct fz_sync_peer *p = &s->peers[s->npeers++];
    snprintf(p->name, sizeof p->name, "%s", name);
    p->next_id = 0;
    return p;
}

/* "id:000123,..." -> 123; -1 when it is no queue entry */
static long entry_id(const char *n)
{
    if (strncmp(n, "id:", 3)) return -1;
    char *end;
    long v = strtol(n + 3, &end, 10);
    if (end == n + 3 || (*end && *end != ',')) return -1;
    return v;
}

unsigned fz_sync_pull(struct fz_sync *s, void (*take)(void *ctx, const uint8_t *d, size_t n), void *ctx)
{
    if (!s->dir) return 0;
    DIR *top = opendir(s->dir);
    if (!top) return 0;
    unsigned got = 0;
    static uint8_t buf[FZ_MAX_INPUT];
    for (struct dirent *d; (d = readdir(top));) {
        if (d->d_name[0] == '.' || !strcmp(d->d_name, s->self) || strlen(d->d_name) >= FZ_SYNC_NAME) continue;
        char qp[4200];
        snprintf(qp, sizeof qp, "%s/%s/queue", s->dir, d->d_name);
        DIR *q = opendir(qp);
        if (!q) continue;
        struct fz_sync_peer *p = peer(s, d->d_name);
        long seen = p ? p->next_id : 0, top_id = seen;
        for (struct dirent *e; p && (e = readdir(q));) {
            long id = entry_id(e->d_name);
            if (id < seen) continue;
            char fp[4500];
            snprintf(fp, sizeof fp, "%s/%s", qp, e->d_name);
            int fd = open(fp, O_RDONLY | O_CLOEXEC);
            if (fd < 0) continue;
            ssize_t n = read(fd, buf, sizeof buf);
            close(fd);
            if (n > 0) {
                take(ctx, buf, (size_t)n);
                got++;
            }
            if (id + 1 > top_id) top_id = id + 1;
        }
        if (p) p->next_id = top_id;
        closedir(q);
    }
    closedir(top);
    s->pulled += got;
    return got;
}

const char *fz_instance_dir(const struct fz_opts *o, char *buf, size_t n, struct fz_sync *s)
{
    memset(s, 0, sizeof *s);
    if (!o->name) return o->outdir;
    if (mkdir(o->outdir, 0755) < 0 && errno != EEXIST) return NULL;
    snprintf(buf, n, "%s/%s", o->outdir, o->name);
    s->dir = o->outdir;
    s->self = o->name;
    return buf;
}

/* ------------------------------------------------------------ --jobs --- */

static volatile sig_atomic_t g_parent_stop;

static void on_stop(int sig)
{
    g_parent_stop = sig;
}

int fz_jobs_main(const struct fz_opts *o, int (*one)(struct fz_opts *))
{
    if (mkdir(o->outdir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "vfu-fuzz: %s: %s\n", o->outdir, strerror(errno));
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    uint64_t seed = o->have_seed ? o->seed : (uint64_t)time(NULL) ^ (uint64_t)getpid() << 20;
    pid_t pids[FZ_MAX_JOBS];
    char names[FZ_MAX_JOBS][FZ_SYNC_NAME];
    long n = 0;
    for (; n < o->jobs; n++) {
        snprintf(names[n], sizeof names[n], "%s-%ld", o->name ? o->name : "vfu", n);
        pid_t p = fork();
        if (p < 0) break;
        if (p == 0) {
            /* the instance: its own process group (a Ctrl-C reaches the
             * parent, which passes one SIGTERM on), handlers, seed and
             * directory */
            setpgid(0, 0);
            sa.sa_handler = SIG_DFL;
            sigaction(SIGINT, &sa, NULL);
            sigaction(SIGTERM, &sa, NULL);
            sigaction(SIGHUP, &sa, NULL);
            struct fz_opts c = *o;
            c.jobs = 0;
            c.name = names[n];
            c.seed = seed + (uint64_t)n;
            c.have_seed = true;
            fz_sig_install();
            _exit(one(&c));
        }
        pids[n] = p;
    }
    fprintf(stderr, "vfu-fuzz: %ld instances (%s-0 ... in %s), seeds %llu...\n", n, o->name ? o->name : "vfu",
            o->outdir, (unsigned long long)seed);
    int worst = 0;
    bool any_found = false;
    long left = n;
    bool forwarded = false;
    while (left > 0) {
        int st;
        pid_t w = waitpid(-1, &st, 0);
        if (w < 0) {
            if (errno == EINTR) {
                if (g_parent_stop && !forwarded) {
                    for (long i = 0; i < n; i++)
                        if (pids[i] > 0) kill(pids[i], SIGTERM);
                    forwarded = true;
                }
                continue;
            }
            break;
        }
        for (long i = 0; i < n; i++)
            if (pids[i] == w) pids[i] = -1, left--;
        int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 2;
        if (rc == 1) any_found = true;
        else if (rc > worst) worst = rc;
    }
    if (n < o->jobs) fprintf(stderr, "vfu-fuzz: only %ld of %ld instances could be started\n", n, o->jobs);
    if (any_found) fprintf(stderr, "vfu-fuzz: findings in %s/*/findings\n", o->outdir);
    /* stopped or not, as one instance says it: findings or none */
    return worst >= 2 ? 2 : any_found ? 1 : 0;
}
