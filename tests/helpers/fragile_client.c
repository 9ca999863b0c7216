/* A client with one planted bug, for tests/vfufuzz_client.sh: it proves
 * that vfu-fuzz --client finds what a careless client does with a hostile
 * server's answers.  It runs the plain session of the scripted client
 * library (connect, VERSION, DEVICE_GET_INFO) and then, by MODE:
 *
 *   trusts-count   aborts when DEVICE_GET_INFO says more than 16 regions
 *                  (as a client indexing a fixed table with
 *                  the server's num_regions would crash)
 *   hang-on-error  never ends once DEVICE_GET_INFO was refused, even when
 *                  the server closes the connection
 *
 * Usage: fragile-client MODE SOCKET.  Exit 0 otherwise. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vfu_client.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: fragile-client trusts-count|hang-on-error SOCKET\n");
        return 2;
    }
    bool trusts = !strcmp(argv[1], "trusts-count");
    struct vfu_error err;
    struct vfu_client *c = vfu_client_connect(argv[2], 1000, NULL, &err);
    if (!c) return 2;
    struct vfu_version_proposal p;
    struct vfu_version_result res;
    vfu_proposal_default(&p);
    if (!vfu_client_negotiate(c, &p, 200, &res) || !res.accepted) {
        vfu_client_close(c);
        return 1;
    }
    uint8_t buf[VFU_HDR_SIZE + 64];
    struct vfu_enc e;
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_GET_INFO, false, 0);
    if (!vfu_enc_finish(&e, &err)) return 2;
    struct vfu_reply r;
    vfu_reply_init(&r);
    enum vfu_call_status st = vfu_client_call(c, &e, NULL, 200, &r);
    if (st == VFU_CALL_REPLY && !r.msg.is_error && trusts &&
        vfu_get(&r.msg, VFU_F_DEVICE_INFO_NUM_REGIONS) > 16)
        abort();
    if (!trusts && st == VFU_CALL_REPLY && r.msg.is_error)
        for (;;) pause();
    vfu_reply_release(&r);
    vfu_client_close(c);
    return 0;
}
