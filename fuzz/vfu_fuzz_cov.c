/* Feedback.  A server built with AFL++ (afl-clang-fast / afl-cc) attaches
 * the System V shared memory named by __AFL_SHM_ID at start-up and counts
 * its edges there; with no forkserver pipe (fd 198/199 closed) its runtime
 * simply runs the program, so one persistent server fills the map over
 * all sessions and we clear it before each.  AFL_MAP_SIZE tells it the
 * size we made.  For any server, what it does that we can see (command,
 * errno, reply size and fds; DMA it asks for; how the session ended) is
 * hashed into a second map of the same kind.  Both use AFL++'s hit-count
 * buckets, so "new" means a new edge or a new bucket of one. */
#include "vfu_fuzz.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

static uint8_t classify(uint8_t v)
{
    if (v <= 2) return v;
    if (v == 3) return 4;
    if (v < 8) return 8;
    if (v < 16) return 16;
    if (v < 32) return 32;
    if (v < 128) return 64;
    return 128;
}

bool fz_cov_afl_init(struct fz_cov *c, size_t map_size, int *shm_id)
{
    *shm_id = -1;
    int id = shmget(IPC_PRIVATE, map_size, IPC_CREAT | IPC_EXCL | 0600);
    if (id < 0) return false;
    void *p = shmat(id, NULL, 0);
    if (p == (void *)-1) {
        shmctl(id, IPC_RMID, NULL);
        return false;
    }
    c->afl_virgin = calloc(1, map_size);
    if (!c->afl_virgin) {
        shmdt(p);
        shmctl(id, IPC_RMID, NULL);
        return false;
    }
    c->afl = p;
    c->afl_size = map_size;
    char v[32];
    snprintf(v, sizeof v, "%d", id);
    setenv("__AFL_SHM_ID", v, 1);
    snprintf(v, sizeof v, "%zu", map_size);
    setenv("AFL_MAP_SIZE", v, 1);
    *shm_id = id;
    return true;
}

void fz_cov_free(struct fz_cov *c, int shm_id)
{
    if (c->afl) shmdt(c->afl);
    if (shm_id >= 0) shmctl(shm_id, IPC_RMID, NULL);
    free(c->afl_virgin);
    c->afl = NULL;
    c->afl_virgin = NULL;
}

void fz_cov_reset(struct fz_cov *c)
{
    if (c->afl) memset(c->afl, 0, c->afl_size);
    memset(c->behav, 0, sizeof c->behav);
}

void fz_cov_tuple(struct fz_cov *c, uint64_t a, uint64_t b)
{
    uint64_t h = (a * 0x9e3779b97f4a7c15ull) ^ (b + 0x632be59bd9b4e019ull + (a << 6));
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    uint8_t *p = &c->behav[h % FZ_BEHAV_MAP];
    if (*p < 255) (*p)++;
}

static unsigned fold(const uint8_t *map, uint8_t *virgin, size_t n, unsigned long *distinct)
{
    unsigned fresh = 0;
    const uint64_t *w = (const uint64_t *)map;
    for (size_t k = 0; k < n / 8; k++) {
        if (!w[k]) continue;
        for (size_t i = k * 8; i < k * 8 + 8; i++) {
            if (!map[i]) continue;
            uint8_t b = classify(map[i]);
            if (b & ~virgin[i]) {
                if (!virgin[i]) (*distinct)++;
                virgin[i] |= b;
                fresh++;
            }
        }
    }
    return fresh;
}

unsigned fz_cov_commit(struct fz_cov *c)
{
    unsigned fresh = fold(c->behav, c->behav_virgin, sizeof c->behav, &c->behav_tuples);
    if (c->afl) fresh += fold(c->afl, c->afl_virgin, c->afl_size, &c->afl_edges);
    return fresh;
}
