/* Rows of a dataset from the Hugging Face datasets-server over HTTP, for `hret dataset import
 * NAME --from URL`: GET {base}/splits?dataset=D for the (config, split) pairs (those of the split
 * asked, else every split; the configs named, else all), then for each pair GET
 * {base}/rows?dataset=D&config=C&split=S&offset=O&length=100 page by page (the first page gives
 * num_rows_total; the rest go 4 at a time through the endpoint engine, with its retries on 429/5xx
 * and its body cap). A row with truncated cells fails the import: the server shortens big cells,
 * and a silently shortened benchmark is worse than none. HF_TOKEN, when set, is sent as the bearer
 * token. */
#ifndef HRET_STORE_HF_H
#define HRET_STORE_HF_H

#include <cjson/cJSON.h>

#include "hret_cfg.h"
#include "hret_err.h"

/* Where pages are kept between attempts, for resuming an import (schemas/sql/
 * 008_dataset_import_pages.sql); both hooks are optional. */
struct hret_store_hf_pages {
    void *ctx;
    /* The page stored by an earlier attempt, or NULL (caller owns the result). */
    char *(*get)(void *ctx, const char *config, const char *split, long offset);
    /* Keeps a page fetched now (body borrowed, NUL-terminated JSON). */
    void (*put)(void *ctx, const char *config, const char *split, long offset, const char *body);
};

struct hret_store_hf_request { /* all borrowed */
    const char *url;           /* {base}/rows?dataset=D[&config=C][&split=S] or {base}?dataset=D */
    const struct hret_strlist *subsets;      /* nullable: configs to fetch (else URL's, else all) */
    const char *split;                       /* nullable: URL's, else every split */
    const struct hret_store_hf_pages *pages; /* nullable: no resuming */
};

struct hret_store_hf_rows {
    char *dataset, *split;       /* owned; split NULL when every split was fetched */
    struct hret_strlist configs; /* fetched (config, split) pairs, in order */
    struct hret_strlist splits;
    cJSON *rows;    /* owned array of {"config", "split", "row_idx", "row"} */
    size_t resumed; /* pages taken from an earlier attempt */
};

enum hret_result hret_store_hf_fetch(const struct hret_store_hf_request *req,
                                     struct hret_store_hf_rows *out, struct hret_err *err);
void hret_store_hf_rows_fini(struct hret_store_hf_rows *r);

/* Splits url into the server base (before /rows or /splits), and the dataset, config and split
 * query parameters (decoded; NULL when absent). All owned by the caller. HRET_E_INVAL when it
 * is not an http(s) URL with a dataset parameter. Pure. */
enum hret_result hret_store_hf_parse_url(const char *url, char **base, char **dataset,
                                         char **config, char **split, struct hret_err *err);

/* Pure. The (config, split) pairs of a /splits answer (doc borrowed): those of split (borrowed),
 * or every pair when split is NULL, appended to configs and splits; an error when the answer has
 * no "splits" array. */
enum hret_result hret_store_hf_splits(const cJSON *doc, const char *split,
                                      struct hret_strlist *configs, struct hret_strlist *splits,
                                      struct hret_err *err);

/* Pure. Appends the rows of a /rows page (doc borrowed) to out (an array) as {"config", "split",
 * "row_idx", "row"}; an error names what is missing, and a row with truncated cells is refused
 * (HRET_E_PROTO). */
enum hret_result hret_store_hf_take_rows(const cJSON *doc, const char *config, const char *split,
                                         cJSON *out, struct hret_err *err);

#endif
