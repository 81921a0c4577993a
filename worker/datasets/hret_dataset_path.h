/* Dataset paths that stay under their root: the one place that decides whether a name from a
 * request or a command line may become part of a file path, and whether a file about to be read
 * is still under the dataset root. The loaders, the request parser and the CLI all use it; a
 * dataset source that maps names to files (a database table, a cache) should use it too. */
#ifndef HRET_DATASET_PATH_H
#define HRET_DATASET_PATH_H

#include <stdbool.h>

#include "hret_err.h"

/* What hret_dataset_part_ok accepts, for messages ("expected " HRET_DATASET_PART_RULE). */
#define HRET_DATASET_PART_RULE                                                                     \
    "a single path component of letters, digits and . _ - (not . or .., at most 128)"

/* True when s (borrowed, may be NULL) is one path component: 1..128 bytes of [A-Za-z0-9._-],
 * and not "." or "..". Dataset names, subsets, splits and few-shot splits must be. */
bool hret_dataset_part_ok(const char *s);

/* Checks that path (borrowed) is root (borrowed) or below it: lexically (no "." or ".."
 * component after root), then, unless follow_symlinks, after resolving both with realpath(3), so
 * a symbolic link inside root that leads out is refused. A path that does not resolve is refused
 * too. The message names path as given, never where it leads, and is the same whether the
 * target exists or not. HRET_E_INVAL on refusal. */
enum hret_result hret_dataset_path_check(const char *root, const char *path, bool follow_symlinks,
                                         struct hret_err *err);

#endif
