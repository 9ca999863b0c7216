/* Target: the reference server fed a whole session from a fresh device
 * (fuzz/session_driver.h, fuzz/README.md). */
#include "fuzz_refserver.h"
#include "fuzz_target.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_refserver_describe_engine();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_session_run(&fuzz_refserver, data, size);
}
