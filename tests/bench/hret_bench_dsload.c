/* bench-dsload: a worker's load of an imported dataset version from PostgreSQL, cold (rows
 * read and tables rebuilt) and cached (the per-version cache), then the loader's rendering of
 * the samples from those tables. For tests/bench/dataset.sh.
 *
 *   bench-dsload CONNINFO NAME DATASET [SUBSET,...]   prints one JSON object */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_clock.h"
#include "hret_config.h"
#include "hret_dataset.h"
#include "hret_http.h"
#include "hret_store.h"
#include "hret_store_dscache.h"
#include "hret_table.h"

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench-dsload CONNINFO NAME DATASET [SUBSET,...]\n");
        return 2;
    }
    struct hret_err err = HRET_ERR_INIT;
    struct hret_store *store = NULL;
    if (hret_store_open(argv[1], NULL, false, &store, &err) != HRET_OK) {
        fprintf(stderr, "bench-dsload: %s\n", err.msg);
        return 1;
    }
    struct hret_datasets_config cfg = {.source = HRET_DATASETS_POSTGRES, .cache_mb = 1024};
    struct hret_store_dsopen cold, warm;
    if (hret_store_dataset_open(store, &cfg, argv[2], NULL, false, &cold, &err) != HRET_OK ||
        hret_store_dataset_open(store, &cfg, argv[2], NULL, false, &warm, &err) != HRET_OK) {
        fprintf(stderr, "bench-dsload: %s\n", err.msg);
        hret_store_destroy(store);
        return 1;
    }
    struct hret_strlist subsets = {0};
    if (argc > 4) {
        hret_strlist_split(&subsets, argv[4]);
    }
    struct hret_dataset_spec spec = {
        .name = argv[3], .data_dir = "postgres", .subsets = &subsets, .files = warm.files};
    struct hret_dataset *ds = NULL;
    double t0 = hret_clock_now_ms();
    enum hret_result r = hret_dataset_load(&spec, &ds, &err);
    double render_ms = hret_clock_now_ms() - t0;
    size_t rows = 0;
    for (size_t i = 0; i < warm.files->count; i++) {
        rows += hret_table_rows(warm.files->items[i].table);
    }
    if (r == HRET_OK) {
        printf("{\"rows\": %zu, \"samples\": %zu, \"cold_ms\": %.1f, \"cached_ms\": %.3f, "
               "\"render_ms\": %.1f, \"cached\": %s}\n",
               rows, ds->count, cold.load_ms, warm.load_ms, render_ms,
               warm.cached && !cold.cached ? "true" : "false");
    } else {
        fprintf(stderr, "bench-dsload: %s\n", err.msg);
    }
    hret_dataset_destroy(ds);
    hret_strlist_fini(&subsets);
    hret_store_dataset_close(&warm);
    hret_store_dataset_close(&cold);
    hret_store_destroy(store);
    return r == HRET_OK ? 0 : 1;
}
