/* Target: the CBOR trace reader (lib/runtime/trace.h), and the conversion of what
 * it reads into session inputs for both sides (lib/runtime/trace_session.h).
 * Oracle beyond the sanitizers: a converted session writes and parses back
 * to the same records. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_target.h"
#include "trace.h"
#include "trace_session.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static void check(bool cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_trace: %s\n", what);
        abort();
    }
}

static struct vfu_fs fs, back;

static void convert(const struct vfu_trace *t, enum vfu_role role)
{
    vfu_trace_to_session(t, role, &fs);
    size_t n = vfu_fs_size(&fs);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return;
    check(vfu_fs_write(&fs, buf, n) == n, "session does not write in its own size");
    check(vfu_fs_parse(buf, n, &back) == fs.n, "session parses back to another record count");
    for (unsigned i = 0; i < fs.n; i++)
        check(back.rec[i].kind == fs.rec[i].kind && back.rec[i].flags == fs.rec[i].flags &&
                  back.rec[i].nfds == fs.rec[i].nfds && back.rec[i].len == fs.rec[i].len &&
                  (!fs.rec[i].len || !memcmp(back.rec[i].msg, fs.rec[i].msg, fs.rec[i].len)),
              "session parses back to other records");
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vfu_trace t;
    char why[256];
    if (vfu_trace_parse(data, size, &t, why, sizeof why)) {
        convert(&t, VFU_ROLE_SERVER);
        convert(&t, VFU_ROLE_CLIENT);
    }
    vfu_trace_release(&t);
    return 0;
}
