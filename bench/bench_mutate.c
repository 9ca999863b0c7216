/* Mutations per second of the spec-aware mutator (lib/runtime/mutate.h) against a
 * plain byte mutator measured in the same run over the same inputs and
 * max_size: the price of knowing the layout.  The reference does what
 * libFuzzer's simplest operators do (bit flips, random bytes, inserted and
 * erased bytes, interesting integers), nothing cleverer.
 *
 *   bench_mutate              the figures
 *   bench_mutate --seeds DIR  writes the seed sessions both runs start from
 *                             (make bench-fuzz gives them to libFuzzer) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vfu_codec.h"
#include "fuzz_session.h"
#include "mutate.h"

#define MAX_SIZE 4096
#define NSEEDS 24

struct seed { uint8_t b[MAX_SIZE]; size_t n; };
static struct seed seeds[NSEEDS];
static unsigned nseeds;

static size_t add_msg(uint8_t *p, size_t at, uint8_t kind, const uint8_t *msg, size_t len, unsigned nfds)
{
    if (at + 3 + 5 * nfds + 4 + len > MAX_SIZE) return at;
    p[at] = kind; p[at + 1] = VFU_FS_FIX_ID; p[at + 2] = (uint8_t)nfds;
    at += 3;
    for (unsigned i = 0; i < nfds; i++) {
        uint32_t sz = 0x10000;
        p[at] = VFU_FS_FD_MEMFD;
        memcpy(p + at + 1, &sz, 4);
        at += 5;
    }
    uint32_t l = (uint32_t)len;
    memcpy(p + at, &l, 4);
    memcpy(p + at + 4, msg, len);
    return at + 4 + len;
}

/* VERSION first, then one command (or, for the last seed, every one):
 * requests the server receives, replies to its DMA requests */
static void make_seeds(void)
{
    struct vfu_mut_opts o = {1, VFU_ROLE_SERVER};
    struct vfu_mut *m = vfu_mut_new(&o);
    if (!m) { perror("bench_mutate"); exit(1); }
    uint8_t msg[1024];
    unsigned nfds;
    for (unsigned c = 2; c <= VFU_CMD_MAX + 1 && nseeds < NSEEDS; c++) {
        struct seed *s = &seeds[nseeds];
        size_t n = vfu_mut_generate(m, VFU_CMD_VERSION, false, 0, msg, sizeof msg, &nfds);
        s->n = add_msg(s->b, 0, VFU_FS_MSG, msg, n, 0);
        for (unsigned k = c <= VFU_CMD_MAX ? c : 2; k <= (c <= VFU_CMD_MAX ? c : VFU_CMD_MAX); k++) {
            const struct vfu_cmd_desc *d = vfu_cmd(k);
            if (!d) continue;
            bool reply = d->dir == VFU_DIR_SERVER;
            n = vfu_mut_generate(m, k, reply, 1, msg, sizeof msg, &nfds);
            if (n) s->n = add_msg(s->b, s->n, reply ? VFU_FS_REPLY : VFU_FS_MSG, msg, n, nfds);
        }
        if (s->n) nseeds++;
    }
    vfu_mut_free(m);
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t xr(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

static size_t plain_mutate(uint8_t *d, size_t n, size_t max)
{
    static const uint32_t interesting[] = {0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0xffff, 0xffffffff};
    unsigned ops = 1 + (unsigned)(xr() % 4);
    for (unsigned k = 0; k < ops; k++) {
        switch (n ? xr() % 5 : 2) {
        case 0: d[xr() % n] ^= (uint8_t)(1u << (xr() % 8)); break;
        case 1: d[xr() % n] = (uint8_t)xr(); break;
        case 2:
            if (n < max) {
                size_t at = n ? xr() % (n + 1) : 0;
                memmove(d + at + 1, d + at, n - at);
                d[at] = (uint8_t)xr();
                n++;
            }
            break;
        case 3:
            if (n > 1) {
                size_t at = xr() % n;
                memmove(d + at, d + at + 1, n - at - 1);
                n--;
            }
            break;
        default:
            if (n >= 4) {
                uint32_t v = interesting[xr() % (sizeof interesting / sizeof interesting[0])];
                memcpy(d + xr() % (n - 3), &v, 4);
            }
        }
    }
    return n;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

enum which { PLAIN, SESSION, MESSAGE, CROSSOVER };

/* mutations per second over about a second, starting from each seed in turn */
static double run(enum which w, struct vfu_mut *m)
{
    static uint8_t buf[MAX_SIZE], out[MAX_SIZE];
    unsigned long long n = 0;
    size_t sink = 0;
    double t0 = now(), t;
    do {
        for (int i = 0; i < 1000; i++, n++) {
            const struct seed *s = &seeds[n % nseeds];
            memcpy(buf, s->b, s->n);
            switch (w) {
            case PLAIN: sink += plain_mutate(buf, s->n, MAX_SIZE); break;
            case SESSION: sink += vfu_mut_session(m, buf, s->n, MAX_SIZE); break;
            case MESSAGE: {
                /* the seed's second record is its command */
                static struct vfu_fs fs;
                vfu_fs_parse(s->b, s->n, &fs);
                const struct vfu_fs_record *r = &fs.rec[fs.n > 1];
                memcpy(buf, r->msg, r->len);
                sink += vfu_mut_message(m, buf, r->len, MAX_SIZE, true);
                break;
            }
            case CROSSOVER:
                sink += vfu_mut_crossover(m, buf, s->n, seeds[(n + 7) % nseeds].b, seeds[(n + 7) % nseeds].n, out, MAX_SIZE);
                break;
            }
        }
        t = now();
    } while (t - t0 < 1.0);
    if (sink == 1) putchar(' ');   /* keeps the work from being optimised out */
    return n / (t - t0);
}

static int write_seeds(const char *dir)
{
    for (unsigned i = 0; i < nseeds; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/seed-%02u", dir, i);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(seeds[i].b, 1, seeds[i].n, f) != seeds[i].n || fclose(f)) {
            fprintf(stderr, "bench_mutate: %s: %s\n", path, strerror(errno));
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    make_seeds();
    if (argc == 3 && !strcmp(argv[1], "--seeds")) return write_seeds(argv[2]);
    if (argc != 1) {
        fprintf(stderr, "usage: bench_mutate [--seeds DIR]\n");
        return 2;
    }
    struct vfu_mut_opts o = {7, VFU_ROLE_SERVER};
    struct vfu_mut *m = vfu_mut_new(&o);
    if (!m) { perror("bench_mutate"); return 1; }
    double plain = run(PLAIN, NULL);
    double sess = run(SESSION, m), one = run(MESSAGE, m), cross = run(CROSSOVER, m);
    printf("mutations/s over %u seed sessions, max_size %d (one run):\n", nseeds, MAX_SIZE);
    printf("  %-26s %12.0f  (reference)\n", "plain byte mutation", plain);
    printf("  %-26s %12.0f  %.2fx the reference\n", "vfu_mut_session", sess, sess / plain);
    printf("  %-26s %12.0f  %.2fx\n", "vfu_mut_message", one, one / plain);
    printf("  %-26s %12.0f  %.2fx\n", "vfu_mut_crossover", cross, cross / plain);
    vfu_mut_free(m);
    return 0;
}
