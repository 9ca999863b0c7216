/* The ceiling for vfu-fuzz's sessions per second: the plainest client
 * (connect, VERSION, one DEVICE_GET_INFO, close), one session after the
 * other, against a server started (and restarted whenever it ends, as
 * servers that exit after each client do) the way vfu-fuzz starts it.
 * bench/bench_vfufuzz.sh prints it beside vfu-fuzz's own rate.
 *
 *   bench_sessions SECONDS 'SERVER CMD'   ({socket} or --socket-path=PATH)
 *
 * Prints "sessions N seconds S rate R restarts K". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vfu_client.h"
#include "proc.h"
#include "sockdir.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool one_session(const char *path)
{
    struct vfu_error err;
    struct vfu_client *c = vfu_client_connect(path, 1000, NULL, &err);
    if (!c) return false;
    struct vfu_version_proposal p;
    struct vfu_version_result res;
    vfu_proposal_default(&p);
    bool ok = vfu_client_negotiate(c, &p, 1000, &res) && res.accepted;
    if (ok) {
        uint8_t buf[VFU_HDR_SIZE + 64];
        struct vfu_enc e;
        vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_GET_INFO, false, 0);
        struct vfu_reply r;
        vfu_reply_init(&r);
        ok = vfu_enc_finish(&e, &err) && vfu_client_call(c, &e, NULL, 1000, &r) == VFU_CALL_REPLY;
        vfu_reply_release(&r);
    }
    vfu_client_close(c);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_sessions SECONDS 'SERVER CMD'\n");
        return 2;
    }
    double secs = atof(argv[1]);
    struct vfu_sockdir sd;
    if (secs <= 0 || !vfu_sockdir_make(&sd, "bench")) return 2;
    struct vfu_proc_spec spec = {.cmd = argv[2], .socket_path = sd.sock, .stdout_mode = VFU_PROC_STDOUT_NULL};
    struct vfu_proc p;
    memset(&p, 0, sizeof p);
    struct vfu_error err;
    int rc = 0;
    if (!vfu_proc_start(&p, &spec, &err)) {
        fprintf(stderr, "bench_sessions: the server would not start: %s\n", vfu_proc_why(&p));
        rc = 1;
        goto out;
    }
    unsigned long n = 0, restarts = 0, failed = 0;
    /* calibration, as vfu-fuzz does it: does it end after a client? */
    bool per_client = one_session(sd.sock) && vfu_proc_wait(&p, 300);
    double t0 = now_s(), t;
    while ((t = now_s()) - t0 < secs) {
        if (vfu_proc_poll(&p) != VFU_PROC_RUNNING) {
            vfu_proc_free(&p);
            memset(&p, 0, sizeof p);
            restarts++;
            if (!vfu_proc_start(&p, &spec, &err)) {
                fprintf(stderr, "bench_sessions: the server would not start again: %s\n", vfu_proc_why(&p));
                rc = 1;
                break;
            }
        }
        if (one_session(sd.sock)) n++;
        else if (++failed > 100 && failed > n) {
            fprintf(stderr, "bench_sessions: most sessions fail\n");
            rc = 1;
            break;
        }
        /* a server that ends after each client: wait for that end, so
         * that the next connect does not race it */
        if (per_client) vfu_proc_wait(&p, 1000);
    }
    printf("sessions %lu seconds %.2f rate %.1f restarts %lu%s\n", n, t - t0, (double)n / (t - t0), restarts,
           per_client ? " (ends after each client)" : "");
out:
    vfu_proc_stop(&p, 500);
    vfu_proc_free(&p);
    vfu_sockdir_remove(&sd);
    return rc;
}
