/* Rendered samples kept in an unlinked temporary file instead of memory (issue 25, flat memory):
 * the loaders append each sample as they render it, and a run reads back the one it dispatches.
 * Memory is 16 bytes per sample; the file is in $TMPDIR (else /tmp) and vanishes with
 * the process. Entries are numbered 0.. in the order they were pushed. */
#ifndef HRET_DATASET_SPOOL_H
#define HRET_DATASET_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "hret_err.h"
#include "hret_sample.h"

struct hret_ds_spool;

/* Caller owns *out (hret_ds_spool_destroy); HRET_E_UNAVAILABLE when no file can be made. */
enum hret_result hret_ds_spool_new(struct hret_ds_spool **out, struct hret_err *err);
void hret_ds_spool_destroy(struct hret_ds_spool *sp);

/* Appends s (borrowed; its idx is not kept). A write error is kept and reported by
 * hret_ds_spool_check; the entry is still counted. */
void hret_ds_spool_push(struct hret_ds_spool *sp, const struct hret_sample *s);
/* Writes out what is buffered; the first write error (disk full), else HRET_OK. */
enum hret_result hret_ds_spool_check(struct hret_ds_spool *sp, struct hret_err *err);
size_t hret_ds_spool_count(const struct hret_ds_spool *sp);

/* Reads entry i (< count) into *out (caller owns, hret_sample_fini; idx 0). */
enum hret_result hret_ds_spool_read(struct hret_ds_spool *sp, size_t i, struct hret_sample *out,
                                    struct hret_err *err);

/* Keeps, of the entries from first on, the k that perm[0..k) names (relative to first), in that
 * order: the others are dropped from the numbering (their bytes stay in the file). */
void hret_ds_spool_keep(struct hret_ds_spool *sp, size_t first, const size_t *perm, size_t k);

/* Entries [first, first + count) of parts[part]. */
struct hret_ds_spool_range {
    size_t part, first, count;
};

/* Makes parts[0] hold, in order, the entries the ranges name (spools loaded side by side, one
 * per thread), taking over the other parts' files; those parts are destroyed and set NULL. On a
 * write error of any part (reported as hret_ds_spool_check does) nothing changes. */
enum hret_result hret_ds_spool_join(struct hret_ds_spool **parts, size_t nparts,
                                    const struct hret_ds_spool_range *ranges, size_t nranges,
                                    struct hret_err *err);

/* A seeded draw of k of n (k <= n) positions into perm (n slots; the first k are the draw):
 * a partial Fisher-Yates shuffle driven by splitmix64 seeded with seed, bounded draws by
 * rejection. */
void hret_ds_draw(size_t *perm, size_t n, size_t k, uint64_t seed);

#endif
