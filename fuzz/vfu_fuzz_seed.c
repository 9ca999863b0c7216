/* The queue and its first entries: one session per client command, built
 * with the codec's encoder from the generated tables (fields by name, so
 * nothing of a layout is written here), a few sequences that reach state
 * (DMA_MAP then region access), and session inputs from files. */
#include "vfu_fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GUEST_ADDR 0x100000u
#define GUEST_SIZE 0x100000u

bool fz_queue_add(struct fz_queue *q, const uint8_t *d, size_t len, const char *why)
{
    if (!len || len > FZ_MAX_INPUT) return false;
    if (q->n == q->cap) {
        size_t nc = q->cap ? q->cap * 2 : 64;
        struct fz_queue_entry *ne = realloc(q->e, nc * sizeof *ne);
        if (!ne) return false;
        q->e = ne;
        q->cap = nc;
    }
    uint8_t *c = malloc(len);
    if (!c) return false;
    memcpy(c, d, len);
    q->e[q->n++] = (struct fz_queue_entry){.data = c, .len = len};
    if (q->dir) {
        char path[4200];
        snprintf(path, sizeof path, "%s/id:%06lu,%s", q->dir, q->saved++, why);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            ssize_t w = write(fd, d, len);
            (void)w;
            close(fd);
        }
    }
    return true;
}

void fz_queue_free(struct fz_queue *q)
{
    for (size_t i = 0; i < q->n; i++) free(q->e[i].data);
    free(q->e);
    memset(q, 0, sizeof *q);
}

size_t fz_put_record(uint8_t *buf, size_t cap, uint8_t kind, uint8_t flags, const uint8_t *msg,
                     uint32_t len, const struct vfu_fs_fd *fds, unsigned nfds)
{
    static struct vfu_fs one;
    one.n = 1;
    struct vfu_fs_record *r = &one.rec[0];
    r->kind = kind;
    r->flags = flags;
    r->nfds = (uint8_t)nfds;
    for (unsigned i = 0; i < nfds; i++) r->fds[i] = fds[i];
    r->msg = msg;
    r->len = len;
    return vfu_fs_write(&one, buf, cap);
}

/* sets field NAME of the request body of e, when it has one */
static void set_named(struct vfu_enc *e, const char *name, uint64_t v)
{
    const struct vfu_cmd_desc *cd = vfu_cmd(e->cmd);
    if (!cd || cd->sid[0] < 0) return;
    int f = vfu_field_by_name(cd->sid[0], name);
    if (f >= 0) vfu_enc_set(e, f, v);
}

/* a request of cmd with plain values; returns the record's size in out */
static size_t request(uint8_t *out, size_t cap, unsigned cmd, uint64_t index, uint64_t count,
                      bool data, bool with_fd)
{
    uint8_t msg[512];
    struct vfu_enc e;
    struct vfu_error err;
    vfu_enc_begin(&e, msg, sizeof msg, (uint16_t)cmd, false, 0);
    set_named(&e, "index", index);
    set_named(&e, "region", index);
    set_named(&e, "count", count);
    set_named(&e, "address", GUEST_ADDR);
    set_named(&e, "size", cmd == VFU_CMD_DEVICE_GET_REGION_INFO ? 0 : GUEST_SIZE);
    if (cmd == VFU_CMD_DMA_MAP) set_named(&e, "flags", VFU_DMA_MAP_FLAGS_READ | VFU_DMA_MAP_FLAGS_WRITE);
    const struct vfu_cmd_desc *cd = vfu_cmd(cmd);
    if (data && cd && cd->sid[0] >= 0) {
        int tail = vfu_struct(cd->sid[0])->tail;
        if (tail >= 0 && vfu_field(tail)->kind == VFU_K_DATA) {
            static const uint8_t d[8] = {1, 2, 3, 4, 5, 6, 7, 8};
            vfu_enc_data(&e, tail, d, count <= 8 ? count : 8);
        }
    }
    if (!vfu_enc_finish(&e, &err)) return 0;
    struct vfu_fs_fd fd = {VFU_FS_FD_MEMFD, GUEST_SIZE};
    return fz_put_record(out, cap, VFU_FS_MSG, VFU_FS_FIX_SIZE | VFU_FS_FIX_ID, msg, (uint32_t)e.len, &fd,
                         with_fd ? 1 : 0);
}

void fz_seed_spec(struct fz_queue *q, struct vfu_mut *m)
{
    uint8_t buf[8192];
    (void)m;
    /* one message of each client command */
    for (unsigned cmd = 2; cmd <= VFU_CMD_MAX; cmd++) {
        const struct vfu_cmd_desc *cd = vfu_cmd(cmd);
        if (!cd || cd->dir != VFU_DIR_CLIENT) continue;
        size_t n = request(buf, sizeof buf, cmd, 0, 4, true, cmd == VFU_CMD_DMA_MAP);
        if (n) fz_queue_add(q, buf, n, "seed:spec");
    }
    /* region info and access of each region index */
    for (unsigned idx = 0; idx < 9; idx++) {
        size_t n = request(buf, sizeof buf, VFU_CMD_DEVICE_GET_REGION_INFO, idx, 0, false, false);
        n += request(buf + n, sizeof buf - n, VFU_CMD_REGION_READ, idx, 4, false, false);
        n += request(buf + n, sizeof buf - n, VFU_CMD_REGION_WRITE, idx, 4, true, false);
        fz_queue_add(q, buf, n, "seed:region");
    }
    /* guest memory, then what may use it, then its removal */
    size_t n = request(buf, sizeof buf, VFU_CMD_DMA_MAP, 0, 0, false, true);
    for (unsigned idx = 0; idx < 3; idx++)
        n += request(buf + n, sizeof buf - n, VFU_CMD_REGION_WRITE, idx, 4, true, false);
    n += request(buf + n, sizeof buf - n, VFU_CMD_DEVICE_GET_IRQ_INFO, 2, 0, false, false);
    n += request(buf + n, sizeof buf - n, VFU_CMD_DMA_UNMAP, 0, 0, false, false);
    fz_queue_add(q, buf, n, "seed:dma");
}

unsigned fz_seed_dir(struct fz_queue *q, const char *dir, FILE *log)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(log, "vfu-fuzz: %s: %s\n", dir, strerror(errno));
        return 0;
    }
    unsigned n = 0;
    static uint8_t buf[FZ_MAX_INPUT];
    for (struct dirent *de; (de = readdir(d));) {
        if (de->d_name[0] == '.') continue;
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && st.st_size <= (off_t)FZ_MAX_INPUT) {
            ssize_t r = read(fd, buf, (size_t)st.st_size);
            if (r == st.st_size && fz_queue_add(q, buf, (size_t)r, "seed:file")) n++;
        }
        close(fd);
    }
    closedir(d);
    return n;
}

/* where the source tree keeps its seeds, and where make corpus puts those
 * it makes from the bundled scenarios (vfufuzz.mk sets both) */
#ifndef FZ_BUNDLED_SEEDS
#define FZ_BUNDLED_SEEDS "corpus/seeds"
#endif
#ifndef FZ_GENERATED_SEEDS
#define FZ_GENERATED_SEEDS "build/corpus"
#endif

/* an installed vfu-fuzz: PREFIX/share/vfu-conform/seeds beside PREFIX/bin */
static const char *installed_seeds(char *out, size_t n)
{
    char exe[4096];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k <= 0) return NULL;
    exe[k] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash) return NULL;
    *slash = 0;
    snprintf(out, n, "%s/../share/vfu-conform/seeds", exe);
    return out;
}

unsigned fz_seed_bundled(struct fz_queue *q, const char *target, FILE *log)
{
    char inst[4200];
    const char *ins = installed_seeds(inst, sizeof inst);
    const char *bases[] = {FZ_BUNDLED_SEEDS, FZ_GENERATED_SEEDS, ins ? ins : FZ_BUNDLED_SEEDS};
    /* the source tree's seeds and the installed copy are the same files:
     * the installed ones only when the tree is not there */
    struct stat tree;
    bool have_tree = stat(FZ_BUNDLED_SEEDS, &tree) == 0;
    unsigned total = 0;
    for (unsigned i = 0; i < sizeof bases / sizeof bases[0]; i++) {
        if (i == 2 && (have_tree || !ins)) continue;
        char dir[4300];
        snprintf(dir, sizeof dir, "%s/%s", bases[i], target);
        struct stat st;
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) continue;
        unsigned n = fz_seed_dir(q, dir, log);
        if (n) fprintf(log, "vfu-fuzz: %u seeds from %s\n", n, dir);
        total += n;
    }
    return total;
}

size_t fz_queue_next(struct fz_queue *q, struct vfu_mut *m, size_t nseeds, bool favour_first, uint8_t *buf,
                     size_t cap)
{
    size_t i = (size_t)vfu_mut_below(m, q->n);
    if (favour_first && vfu_mut_below(m, 4) == 0) i = 0;
    else if (q->n > nseeds && vfu_mut_below(m, 2)) i = nseeds + (size_t)vfu_mut_below(m, q->n - nseeds);
    size_t len;
    if (q->n > 1 && vfu_mut_below(m, 8) == 0) {
        size_t j = (size_t)vfu_mut_below(m, q->n);
        len = vfu_mut_crossover(m, q->e[i].data, q->e[i].len, q->e[j].data, q->e[j].len, buf, cap);
    } else {
        len = q->e[i].len <= cap ? q->e[i].len : cap;
        memcpy(buf, q->e[i].data, len);
    }
    q->e[i].picked++;
    return vfu_mut_session(m, buf, len, cap);
}
