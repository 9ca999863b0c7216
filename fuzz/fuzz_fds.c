/* fuzz/fuzz_fds.h: a bitmap of fd numbers, so nothing is allocated. */
#include "fuzz_fds.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* fd numbers followed; above this, not followed (a run never gets there:
 * VFU_FS_MAX_RECORDS * VFU_FS_MAX_FDS is 8192, but fds are closed as
 * records are done) */
#define TRACK 8192

static uint64_t noted[TRACK / 64];
static unsigned words;   /* noted[words..] are all zero */

void fuzz_fds_note(const int *fds, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (fds[i] >= 0 && fds[i] < TRACK) {
            noted[fds[i] / 64] |= 1ull << (fds[i] % 64);
            if ((unsigned)fds[i] / 64 >= words) words = (unsigned)fds[i] / 64 + 1;
        }
}

void fuzz_fds_check(const char *who)
{
    for (unsigned w = 0; w < words; w++) {
        for (uint64_t bits = noted[w]; bits; bits &= bits - 1) {
            int fd = (int)(w * 64 + (unsigned)__builtin_ctzll(bits));
            if (fcntl(fd, F_GETFD) != -1) {
                fprintf(stderr, "fuzz: %s kept fd %d open after the run (leak)\n", who, fd);
                abort();
            }
        }
        noted[w] = 0;
    }
    words = 0;
}
