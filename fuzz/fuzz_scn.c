/* Target: the scenario-file loader (harness/scn.h) on one file's text. */
#include "fuzz_target.h"
#include "scn.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scn_set set;
    struct scn_errors errs = {0};
    vfh_scn_set_init(&set);
    vfh_scn_load_text(&set, "fuzz.scn", (const char *)data, size, &errs);
    vfh_scn_errors_free(&errs);
    vfh_scn_set_free(&set);
    return 0;
}
