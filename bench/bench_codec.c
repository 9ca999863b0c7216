/* Codec throughput: messages decoded and validated per second, and encoded,
 * for a small message (REGION_READ request) and a large one (REGION_WRITE
 * request with 64 KiB of data), next to memcpy of the same bytes for scale.
 * Prints figures only; timing is never asserted.  VFU_BENCH_SECONDS sets
 * the time per figure (default 0.5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vfu_codec.h"

#define LARGE_DATA (64 * 1024)
#define BATCH 64

/* the compiler must assume p's bytes are read, so work on them stays */
static void clobber(const void *p)
{
    __asm__ volatile("" : : "g"(p) : "memory");
}

static volatile uint64_t sink;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct job {
    const char *what;
    uint8_t *msg;          /* the message to decode or copy */
    size_t len;
    uint8_t *scratch;      /* encode target or memcpy destination */
    size_t scratch_len;
    const uint8_t *data;   /* REGION_WRITE payload to encode */
    uint16_t cmd;
};

static void die(const char *what, const struct vfu_error *err)
{
    char s[256];
    vfu_error_str(err, s, sizeof s);
    fprintf(stderr, "bench_codec: %s: %s\n", what, s);
    exit(1);
}

static void do_decode(const struct job *j)
{
    struct vfu_msg m;
    struct vfu_error err;
    if (!vfu_decode(&m, j->msg, j->len, NULL, 0, NULL, VFU_ROLE_SERVER, &err)) die("decode", &err);
    sink += m.hdr.msg_id + vfu_get(&m, j->cmd == VFU_CMD_REGION_READ ? VFU_F_REGION_ACCESS_COUNT
                                                                     : VFU_F_REGION_ACCESS_DATA_COUNT);
}

static void do_encode(const struct job *j)
{
    struct vfu_enc e;
    struct vfu_error err;
    vfu_enc_begin(&e, j->scratch, j->scratch_len, j->cmd, false, 5);
    if (j->cmd == VFU_CMD_REGION_READ) {
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_OFFSET, 0x10);
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_COUNT, 4);
    } else {
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_OFFSET, 0x10);
        vfu_enc_data(&e, VFU_F_REGION_ACCESS_DATA_DATA, j->data, LARGE_DATA);
    }
    if (!vfu_enc_finish(&e, &err)) die("encode", &err);
    clobber(j->scratch);
    sink += e.len;
}

static void do_memcpy(const struct job *j)
{
    memcpy(j->scratch, j->msg, j->len);
    clobber(j->scratch);
}

static void measure(const char *name, void (*fn)(const struct job *), const struct job *j, double secs)
{
    for (int i = 0; i < BATCH; i++) fn(j);   /* warm caches */
    unsigned long long n = 0;
    double t0 = now(), t;
    do {
        for (int i = 0; i < BATCH; i++) fn(j);
        n += BATCH;
        t = now() - t0;
    } while (t < secs);
    double rate = (double)n / t;
    printf("  %-18s %14.0f %12.1f %10.1f\n", name, rate, rate * (double)j->len / 1e6, t / (double)n * 1e9);
}

static size_t build(uint8_t *buf, size_t cap, uint16_t cmd, const uint8_t *data)
{
    struct vfu_enc e;
    struct vfu_error err;
    vfu_enc_begin(&e, buf, cap, cmd, false, 5);
    if (cmd == VFU_CMD_REGION_READ) {
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_OFFSET, 0x10);
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_COUNT, 4);
    } else {
        vfu_enc_set(&e, VFU_F_REGION_ACCESS_DATA_OFFSET, 0x10);
        vfu_enc_data(&e, VFU_F_REGION_ACCESS_DATA_DATA, data, LARGE_DATA);
    }
    if (!vfu_enc_finish(&e, &err)) die("build", &err);
    return e.len;
}

int main(void)
{
    double secs = 0.5;
    const char *env = getenv("VFU_BENCH_SECONDS");
    if (env && atof(env) > 0) secs = atof(env);
#if !defined(__OPTIMIZE__)
    puts("note: built without optimization; figures understate the codec");
#endif
#if defined(__SANITIZE_ADDRESS__)
    puts("note: built with AddressSanitizer; figures understate the codec");
#endif
    size_t cap = VFU_HDR_SIZE + VFU_SIZE_REGION_ACCESS_DATA + LARGE_DATA;
    uint8_t *msg = malloc(cap), *scratch = malloc(cap), *data = malloc(LARGE_DATA);
    if (!msg || !scratch || !data) { perror("bench_codec"); return 1; }
    for (size_t i = 0; i < LARGE_DATA; i++) data[i] = (uint8_t)(i * 7);

    printf("codec throughput, one thread, %.2f s per figure\n", secs);
    printf("  %-18s %14s %12s %10s\n", "", "msgs/s", "MB/s", "ns/msg");
    static const uint16_t cmds[] = {VFU_CMD_REGION_READ, VFU_CMD_REGION_WRITE};
    for (unsigned k = 0; k < 2; k++) {
        struct job j = {NULL, msg, 0, scratch, cap, data, cmds[k]};
        j.len = build(msg, cap, cmds[k], data);
        printf("%s request, %zu bytes\n", vfu_cmd_name(cmds[k]), j.len);
        measure("decode+validate", do_decode, &j, secs);
        measure("encode", do_encode, &j, secs);
        measure("memcpy (scale)", do_memcpy, &j, secs);
    }
    puts("decode+validate reads the fixed fields and bounds only; data is used in place, "
         "so its MB/s counts bytes validated, not bytes copied");
    free(msg);
    free(scratch);
    free(data);
    return sink == 0;   /* never: msg_id is 5; keeps sink live */
}
