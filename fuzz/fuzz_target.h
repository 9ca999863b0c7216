/* What every in-process target defines (libFuzzer's entry points), and
 * what fuzz/driver_main.c calls when no fuzzing engine is linked. */
#ifndef FUZZ_TARGET_H
#define FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
