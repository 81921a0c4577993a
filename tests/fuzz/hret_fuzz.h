/* libFuzzer entry points of the fuzz targets (tests/fuzz/fuzz_<name>.c). Built against libFuzzer
 * by `make fuzz` (tests/fuzz/run.sh), and against replay_main.c in the normal build, where ctest
 * replays the seed corpus and the crash regressions of each target. */
#ifndef HRET_FUZZ_H
#define HRET_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* One input (borrowed). Always returns 0; a bug shows as a sanitizer report or an abort. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
