#include "hret_store_samples.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hret_pg_copy.h"
#include "hret_hash.h"
#include "hret_json.h"
#include "hret_judge.h"
#include "hret_mem.h"
#include "hret_ops.h"

#define SAMPLE_COLUMNS                                                                             \
    " (run_id, sample_idx, item_id, subset, input_hash, reference, options, prediction,"           \
    " finish_reason, normalized_pred, normalized_ref, correct, parse_failure, score,"              \
    " language_penalizer, latency_ms, prompt_tokens, completion_tokens, attempts, error_class,"    \
    " error, metadata, extra) FROM STDIN WITH (FORMAT binary)" /* copy_sample matches the types */

static const char stage_sql[] =
    "CREATE TEMP TABLE IF NOT EXISTS hret_stage_samples (LIKE samples INCLUDING DEFAULTS)"
    " ON COMMIT DELETE ROWS";
static const char copy_stage_sql[] = "COPY hret_stage_samples" SAMPLE_COLUMNS;
static const char copy_direct_sql[] = "COPY samples" SAMPLE_COLUMNS;
static const char state_sql[] = "SELECT EXISTS (SELECT 1 FROM runs WHERE run_id = $1),"
                                " NOT EXISTS (SELECT 1 FROM samples WHERE run_id = $1)";
static const char merge_sql[] = "INSERT INTO samples SELECT * FROM hret_stage_samples"
                                " ON CONFLICT (run_id, sample_idx) DO NOTHING";
static const char missing_sql[] =
    "SELECT DISTINCT h COLLATE \"C\" FROM unnest(string_to_array($1, ',')) AS h"
    " WHERE NOT EXISTS (SELECT 1 FROM sample_inputs i WHERE i.input_hash = h)"
    " ORDER BY 1"; /* the order bsearch with strcmp expects */
static const char copy_inputs_sql[] = "COPY sample_inputs (input_hash, input) FROM STDIN";

typedef char hash_hex[65];

/* The options of consecutive samples are usually the same list ((A)..(D)): their JSON is
 * made once and reused while they stay equal. */
struct options_cache {
    const struct hret_strlist *list; /* borrowed: what text was made from */
    char *text;
};

static bool same_list(const struct hret_strlist *a, const struct hret_strlist *b)
{
    if (a == NULL || a->count != b->count) {
        return false;
    }
    for (size_t i = 0; i < a->count; i++) {
        if (strcmp(a->items[i], b->items[i]) != 0) {
            return false;
        }
    }
    return true;
}

static void copy_options(struct hret_pg_copy *c, struct options_cache *cache,
                         const struct hret_strlist *l)
{
    if (l->count == 0) { /* no options: NULL, read back as an empty list */
        hret_pg_copy_text(c, NULL);
        return;
    }
    if (!same_list(cache->list, l)) {
        cJSON *a = cJSON_CreateStringArray((const char *const *)l->items, (int)l->count);
        free(cache->text);
        cache->text = hret_json_print(a);
        cache->list = l;
        cJSON_Delete(a);
    }
    hret_pg_copy_jsonb(c, cache->text);
}

static void copy_sample(struct hret_pg_copy *c, struct options_cache *cache, const char *run_id,
                        const char *hash, const struct hret_sample *s, const struct hret_outcome *o)
{
    bool ok = o->error_code == HRET_OK;
    hret_pg_copy_text(c, run_id);
    hret_pg_copy_int(c, (long long)s->idx);
    hret_pg_copy_text(c, s->id);
    hret_pg_copy_text(c, s->subset);
    hret_pg_copy_text(c, hash);
    hret_pg_copy_text(c, s->reference);
    copy_options(c, cache, &s->options);
    hret_pg_copy_text(c, o->prediction);
    hret_pg_copy_text(c, o->finish_reason);
    hret_pg_copy_text(c, ok ? o->verdict.normalized_pred : NULL);
    hret_pg_copy_text(c, ok ? o->verdict.normalized_ref : NULL);
    hret_pg_copy_bool(c, ok ? o->verdict.correct : -1);
    hret_pg_copy_bool(c, ok && o->verdict.parse_failure);
    hret_pg_copy_double(c, ok ? o->verdict.score : NAN);
    hret_pg_copy_double(c, o->language_penalizer);
    hret_pg_copy_fixed3(c, o->latency_ms); /* the precision results JSON keeps */
    hret_pg_copy_int(c, o->prompt_tokens);
    hret_pg_copy_int(c, o->completion_tokens);
    hret_pg_copy_int(c, o->attempts);
    hret_pg_copy_text(c, ok ? NULL : hret_result_name(o->error_code));
    hret_pg_copy_text(c, ok ? NULL : (o->error ? o->error : ""));
    char *metadata = s->metadata ? hret_json_print(s->metadata) : NULL;
    hret_pg_copy_text(c, metadata);
    free(metadata);
    char *extra = hret_store_outcome_extra(o);
    hret_pg_copy_text(c, extra);
    free(extra);
}

static cJSON *strings(const struct hret_strlist *l)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < l->count; i++) {
        cJSON_AddItemToArray(a, cJSON_CreateString(l->items[i]));
    }
    return a;
}

char *hret_store_outcome_extra(const struct hret_outcome *o)
{
    if (o->n_option_logprobs == 0 && o->paths.count == 0 && o->judge_type == NULL &&
        o->gate == HRET_GATE_OFF) {
        return NULL;
    }
    cJSON *j = cJSON_CreateObject();
    if (o->n_option_logprobs > 0) {
        cJSON_AddItemToObject(
            j, "option_logprobs",
            cJSON_CreateDoubleArray(o->option_logprobs, (int)o->n_option_logprobs));
    }
    if (o->paths.count > 0 || o->path_answers.count > 0) {
        cJSON_AddItemToObject(j, "paths", strings(&o->paths));
        cJSON_AddItemToObject(j, "path_answers", strings(&o->path_answers));
    }
    if (o->judge_type != NULL) {
        cJSON_AddStringToObject(j, "judge_type", o->judge_type);
        cJSON_AddItemToObject(j, "judge_prompt",
                              o->judge_prompt ? cJSON_CreateString(o->judge_prompt)
                                              : cJSON_CreateNull());
        cJSON_AddItemToObject(j, "judge_output",
                              o->judge_output ? cJSON_CreateString(o->judge_output)
                                              : cJSON_CreateNull());
    }
    if (o->gate != HRET_GATE_OFF) {
        cJSON_AddStringToObject(j, "gate", o->gate == HRET_GATE_PASSED ? "passed" : "failed");
        cJSON_AddBoolToObject(j, "gate_flipped", o->gate_flipped);
    }
    char *text = hret_json_print(j);
    cJSON_Delete(j);
    return text;
}

static void read_strings(const cJSON *a, struct hret_strlist *l)
{
    for (const cJSON *it = cJSON_IsArray(a) ? a->child : NULL; it != NULL; it = it->next) {
        hret_strlist_push(l, hret_xstrdup(cJSON_IsString(it) ? it->valuestring : ""));
    }
}

static char *string_or_null(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    return cJSON_IsString(v) ? hret_xstrdup(v->valuestring) : NULL;
}

void hret_store_outcome_extra_read(const cJSON *extra, struct hret_outcome *o)
{
    if (!cJSON_IsObject(extra)) {
        return;
    }
    const cJSON *lp = cJSON_GetObjectItemCaseSensitive(extra, "option_logprobs");
    int n = cJSON_IsArray(lp) ? cJSON_GetArraySize(lp) : 0;
    if (n > 0) {
        o->option_logprobs = hret_xcalloc((size_t)n, sizeof *o->option_logprobs);
        o->n_option_logprobs = (size_t)n;
        int k = 0;
        for (const cJSON *it = lp->child; it != NULL; it = it->next) {
            o->option_logprobs[k++] = cJSON_IsNumber(it) ? it->valuedouble : NAN;
        }
    }
    read_strings(cJSON_GetObjectItemCaseSensitive(extra, "paths"), &o->paths);
    read_strings(cJSON_GetObjectItemCaseSensitive(extra, "path_answers"), &o->path_answers);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(extra, "judge_type");
    enum hret_judge_type t;
    if (cJSON_IsString(type) && hret_judge_type_parse(type->valuestring, &t)) {
        o->judge_type = hret_judge_type_name(t); /* the static name the outcome expects */
        o->judge_prompt = string_or_null(extra, "judge_prompt");
        o->judge_output = string_or_null(extra, "judge_output");
    }
    const cJSON *gate = cJSON_GetObjectItemCaseSensitive(extra, "gate");
    if (cJSON_IsString(gate)) {
        o->gate = strcmp(gate->valuestring, "passed") == 0 ? HRET_GATE_PASSED : HRET_GATE_FAILED;
        o->gate_flipped = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(extra, "gate_flipped"));
    }
}

static enum hret_result copy_rows(struct hret_pg *pg, const char *sql,
                                  struct hret_store_samples_batch *b, hash_hex *hashes,
                                  struct hret_err *err)
{
    struct hret_pg_copy c;
    if (hret_pg_copy_begin_binary(pg, &c, sql, err) != HRET_OK) {
        return err->code;
    }
    struct options_cache cache = {NULL, NULL};
    enum hret_result r = HRET_OK;
    for (size_t i = 0; r == HRET_OK && i < b->count; i++) {
        if (b->outcomes[i].done) { /* hashed here: the server takes rows while we hash */
            const char *in = b->samples[i].input ? b->samples[i].input : "";
            hret_hash_sha256_hex(in, strlen(in), hashes[i]);
            copy_sample(&c, &cache, b->run_id, hashes[i], &b->samples[i], &b->outcomes[i]);
            r = hret_pg_copy_end_row(&c, err);
        }
    }
    free(cache.text);
    if (r != HRET_OK) {
        hret_pg_copy_abort(&c);
        return r;
    }
    b->inserted = c.rows;
    return hret_pg_copy_finish(&c, err);
}

static int by_hash(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* COPYs the inputs whose hashes are the sorted rows of missing, each once. */
static enum hret_result copy_inputs(struct hret_pg *pg, const struct hret_store_samples_batch *b,
                                    hash_hex *hashes, PGresult *missing, struct hret_err *err)
{
    size_t n = (size_t)PQntuples(missing);
    const char **keys = hret_xcalloc(n ? n : 1, sizeof *keys);
    bool *sent = hret_xcalloc(n ? n : 1, sizeof *sent);
    for (size_t k = 0; k < n; k++) {
        keys[k] = PQgetvalue(missing, (int)k, 0);
    }
    struct hret_pg_copy c;
    enum hret_result r = hret_pg_copy_begin(pg, &c, copy_inputs_sql, err);
    for (size_t i = 0; r == HRET_OK && i < b->count; i++) {
        const char *key = hashes[i];
        const char **hit =
            b->outcomes[i].done ? bsearch(&key, keys, n, sizeof *keys, by_hash) : NULL;
        if (hit == NULL || sent[hit - keys]) {
            continue;
        }
        sent[hit - keys] = true;
        hret_pg_copy_text(&c, key);
        hret_pg_copy_text(&c, b->samples[i].input);
        r = hret_pg_copy_end_row(&c, err);
    }
    r = r == HRET_OK ? hret_pg_copy_finish(&c, err) : r;
    if (r != HRET_OK && c.active) {
        hret_pg_copy_abort(&c);
    }
    free(keys);
    free(sent);
    return r;
}

/* The prompts sample_inputs does not have yet. */
static enum hret_result store_inputs(struct hret_pg *pg, const struct hret_store_samples_batch *b,
                                     hash_hex *hashes, struct hret_err *err)
{
    const char **list = hret_xcalloc(b->count ? b->count : 1, sizeof *list);
    size_t n = 0;
    for (size_t i = 0; i < b->count; i++) {
        if (b->outcomes[i].done) {
            list[n++] = hashes[i];
        }
    }
    struct hret_buf literal; /* hex digits need no quoting: "h1,h2,..." */
    hret_buf_init(&literal, SIZE_MAX);
    for (size_t i = 0; i < n; i++) {
        hret_buf_append(&literal, ",", i > 0, NULL);
        hret_buf_append(&literal, list[i], 64, NULL);
    }
    free(list);
    const char *params[] = {hret_buf_str(&literal)};
    PGresult *missing = NULL;
    enum hret_result r =
        hret_pg_query(pg, "find new prompts", missing_sql, 1, params, false, &missing, err);
    hret_buf_fini(&literal);
    if (r == HRET_OK && PQntuples(missing) > 0) {
        r = copy_inputs(pg, b, hashes, missing, err);
    }
    PQclear(missing);
    return r;
}

static enum hret_result store_rows(struct hret_pg *pg, struct hret_store_samples_batch *b,
                                   hash_hex *hashes, struct hret_err *err)
{
    PGresult *res = NULL;
    const char *params[] = {b->run_id};
    if (hret_pg_query(pg, "store samples", state_sql, 1, params, false, &res, err) != HRET_OK) {
        return err->code;
    }
    bool known = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    b->staging = b->staging || strcmp(PQgetvalue(res, 0, 1), "t") != 0;
    PQclear(res);
    if (!known) { /* what the foreign key would say, once per batch */
        return hret_err_set(err, HRET_E_INVAL, "postgres: store samples: no run %s", b->run_id);
    }
    if (!b->staging) {
        return copy_rows(pg, copy_direct_sql, b, hashes, err);
    }
    if (hret_pg_exec_static(pg, "staging table", stage_sql, err) != HRET_OK ||
        copy_rows(pg, copy_stage_sql, b, hashes, err) != HRET_OK ||
        hret_pg_query(pg, "store samples", merge_sql, 0, NULL, false, &res, err) != HRET_OK) {
        return err->code;
    }
    b->inserted = (size_t)strtoull(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return HRET_OK;
}

enum hret_result hret_store_samples_copy(struct hret_pg *pg, struct hret_store_samples_batch *b,
                                         struct hret_err *err)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    b->inserted = 0;
    /* the rows first: they compute the prompt hashes that store_inputs then looks up (no
     * foreign key orders the two; one transaction holds both) */
    hash_hex *hashes = hret_xcalloc(b->count ? b->count : 1, sizeof *hashes);
    enum hret_result r = store_rows(pg, b, hashes, err);
    if (r == HRET_OK) {
        r = store_inputs(pg, b, hashes, err);
    }
    free(hashes);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    hret_ops_db_write((double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
                      r == HRET_OK);
    if (r == HRET_OK) {
        hret_ops_pg(true);
    }
    if (r == HRET_E_CONFLICT) { /* a concurrent writer got there first: the idempotent way */
        b->staging = true;
        b->inserted = 0;
        hret_err_clear(err);
        return hret_err_set(err, HRET_AGAIN,
                            "samples of run %s were written concurrently; retrying with "
                            "ON CONFLICT",
                            b->run_id);
    }
    return r;
}
