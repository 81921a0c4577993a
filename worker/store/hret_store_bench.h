/* `hret runs bench-write` (undocumented; make bench runs it): times the production sample
 * write path, hret_store_run_complete, on synthetic KMMLU-sized samples. */
#ifndef HRET_STORE_BENCH_H
#define HRET_STORE_BENCH_H

#include <stddef.h>

#include "hret_store.h"

/* Writes n synthetic samples as one run (a fresh run id) and prints one JSON line:
 * {"samples", "seconds", "samples_per_s", "run_id"}. Returns an HRET_EXIT_* status. */
int hret_store_bench_write(struct hret_store *s, size_t n);

#endif
