/* The dataset registry and the steps every dataset shares: subsets, sampling, few-shot, limit,
 * version. The per-dataset parsing and prompts live in hret_dataset_<name>.c. */
#include "hret_dataset.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "hret_dataset_loader.h"
#include "hret_dataset_path.h"
#include "hret_dataset_spool.h"
#include "hret_json.h"
#include "hret_log.h"
#include "hret_mem.h"

#define DEFAULT_FEW_SHOT_INSTRUCTION "다음은 문제와 정답의 몇 가지 예시입니다.\n\n"
#define DEFAULT_FEW_SHOT_TEMPLATE "{input}\n정답: {reference}\n\n"

/* The registry: one entry per loader, in the order names[] lists them. */
static const struct hret_dataset_loader *const registry[] = {
    &hret_ds_kmmlu,   &hret_ds_haerae_bench, &hret_ds_benchhub,   &hret_ds_click,   &hret_ds_hrm8k,
    &hret_ds_k2_eval, &hret_ds_kudge,        &hret_ds_kormedmcqa, &hret_ds_generic,
};
static const char *const names[] = {"kmmlu",   "haerae_bench", "benchhub",   "click",   "hrm8k",
                                    "k2_eval", "kudge",        "kormedmcqa", "generic", NULL};
static const char *const few_shot_fields[] = {"input", "reference", NULL};

const char *const *hret_dataset_names(void)
{
    return names;
}

/* Registry names match case-insensitively; HRET's "generic_file" means "generic". */
static const struct hret_dataset_loader *find_loader(const char *name)
{
    if (name != NULL && strcasecmp(name, "generic_file") == 0) {
        name = "generic";
    }
    for (size_t i = 0; name != NULL && i < sizeof registry / sizeof registry[0]; i++) {
        if (strcasecmp(registry[i]->name, name) == 0) {
            return registry[i];
        }
    }
    return NULL;
}

/* "a, b, c" into dst, ending in "..." when it does not fit. */
static void join_names(char *dst, size_t cap, const char *const *list)
{
    size_t used = 0;
    dst[0] = '\0';
    for (; *list != NULL; list++) {
        int n = snprintf(dst + used, cap - used, "%s%s", used ? ", " : "", *list);
        if (n < 0 || (size_t)n >= cap - used) {
            snprintf(dst + (used < cap - 4 ? used : cap - 4), 4, "...");
            return;
        }
        used += (size_t)n;
    }
}

/* ---- validating the spec ----------------------------------------------------------------- */

/* Keys of params every dataset takes, where HRET puts them (dataset_params): they fill the spec's
 * template fields when those are unset, and loaders never see them. */
static const char *const common_params[] = {"base_prompt_template", "few_shot_example_template",
                                            "few_shot_instruction", NULL};

/* spec with the common params applied (their strings borrowed from spec->params). */
static enum hret_result effective_spec(const struct hret_dataset_spec *spec,
                                       struct hret_dataset_spec *eff, struct hret_err *err)
{
    *eff = *spec;
    const char **fields[] = {&eff->prompt_template, &eff->few_shot_template,
                             &eff->few_shot_instruction};
    for (size_t i = 0; common_params[i] != NULL && cJSON_IsObject(spec->params); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(spec->params, common_params[i]);
        if (v != NULL && !cJSON_IsString(v)) {
            return hret_err_set(err, HRET_E_CONFIG, "%s: params.%s must be a string", spec->name,
                                common_params[i]);
        }
        if (v != NULL && *fields[i] == NULL) {
            *fields[i] = v->valuestring;
        }
    }
    return HRET_OK;
}

/* The messages leave the dataset's name to check_spec, which prefixes it. */
static enum hret_result check_params(const struct hret_dataset_loader *l, const cJSON *params,
                                     struct hret_err *err)
{
    if (params == NULL || cJSON_IsNull(params)) {
        return HRET_OK;
    }
    if (!cJSON_IsObject(params)) {
        return hret_err_set(err, HRET_E_CONFIG, "params must be an object");
    }
    const cJSON *kv;
    cJSON_ArrayForEach(kv, params)
    {
        bool known = false;
        for (const char *const *k = l->params; *k != NULL && !known; k++) {
            known = strcmp(*k, kv->string) == 0;
        }
        for (const char *const *k = common_params; *k != NULL && !known; k++) {
            known = strcmp(*k, kv->string) == 0;
        }
        if (!known) {
            char accepted[256];
            join_names(accepted, sizeof accepted, l->params);
            return hret_err_set(err, HRET_E_CONFIG,
                                "unknown params key '%s' (accepted: %s%sbase_prompt_template, "
                                "few_shot_example_template, few_shot_instruction)",
                                kv->string, l->params[0] ? accepted : "", l->params[0] ? ", " : "");
        }
    }
    return HRET_OK;
}

static bool listed(const char **subs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (subs[i] == name) {
            return true;
        }
    }
    return false;
}

/* Fills subs (l->subsets borrowed, count entries; one NULL entry for subset-less datasets).
 * Subset names match case-insensitively and are replaced by the canonical spelling; a repeated
 * one is loaded once, with a warning. */
static enum hret_result resolve_subsets(const struct hret_dataset_loader *l,
                                        const struct hret_strlist *want, const char ***subs,
                                        size_t *count, struct hret_err *err)
{
    size_t n = want ? want->count : 0;
    char valid[400] = "";
    if (l->subsets != NULL) {
        join_names(valid, sizeof valid, l->subsets);
    }
    if (l->subsets == NULL && n > 0) {
        return hret_err_set(err, HRET_E_CONFIG, "%s: this dataset has no subsets", l->name);
    }
    if (l->subsets != NULL && n == 0 && l->subset_required) {
        return hret_err_set(err, HRET_E_CONFIG, "%s: name a subset (one of: %s)", l->name, valid);
    }
    if (n == 0) {
        while (l->subsets && l->subsets[n] != NULL) {
            n++;
        }
        *subs = hret_xcalloc(n ? n : 1, sizeof **subs);
        for (size_t i = 0; i < n; i++) {
            (*subs)[i] = l->subsets[i];
        }
        *count = n ? n : 1;
        return HRET_OK;
    }
    *subs = hret_xcalloc(n, sizeof **subs);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        const char *found = NULL;
        for (const char *const *s = l->subsets; *s != NULL && found == NULL; s++) {
            found = strcasecmp(*s, want->items[i]) == 0 ? *s : NULL;
        }
        if (found == NULL) {
            free(*subs);
            *subs = NULL;
            return hret_err_set(err, HRET_E_CONFIG, "%s: unknown subset '%s' (valid: %s)", l->name,
                                want->items[i], valid);
        }
        if (listed(*subs, kept, found)) {
            hret_log_warn("dataset", NULL, "%s: subset '%s' is repeated (as %s); loaded once",
                          l->name, want->items[i], found);
            continue;
        }
        (*subs)[kept++] = found;
    }
    *count = kept;
    return HRET_OK;
}

/* Names that become path components, checked before the filesystem is touched: the message is
 * the same whatever exists. */
static enum hret_result check_parts(const struct hret_dataset_spec *spec, struct hret_err *err)
{
    const char *what = NULL, *value = NULL;
    if (!hret_dataset_part_ok(spec->name)) {
        what = "dataset", value = spec->name;
    } else if (spec->split != NULL && !hret_dataset_part_ok(spec->split)) {
        what = "split", value = spec->split;
    } else if (spec->few_shot_split != NULL && !hret_dataset_part_ok(spec->few_shot_split)) {
        what = "few-shot split", value = spec->few_shot_split;
    }
    for (size_t i = 0; what == NULL && spec->subsets && i < spec->subsets->count; i++) {
        if (!hret_dataset_part_ok(spec->subsets->items[i])) {
            what = "subset", value = spec->subsets->items[i];
        }
    }
    if (what == NULL) {
        return HRET_OK;
    }
    return hret_err_set(err, HRET_E_CONFIG, "%s '%.128s%s' is not %s", what, value ? value : "",
                        value && strlen(value) > 128 ? "..." : "", HRET_DATASET_PART_RULE);
}

static enum hret_result check_spec(const struct hret_dataset_spec *spec,
                                   const struct hret_dataset_loader *l, struct hret_err *err)
{
    if (spec->limit < 0 || spec->sample_size < 0) {
        return hret_err_set(err, HRET_E_CONFIG, "%s: limit and sample_size must be >= 0", l->name);
    }
    enum hret_result r = check_params(l, spec->params, err);
    if (r == HRET_OK && spec->prompt_template != NULL) {
        r = hret_prompt_check(spec->prompt_template, l->placeholders, err);
    }
    if (r == HRET_OK && spec->few_shot_template != NULL) {
        r = hret_prompt_check(spec->few_shot_template, few_shot_fields, err);
        if (r != HRET_OK) {
            hret_err_prefix(err, "few_shot_template");
        }
    }
    if (r != HRET_OK) {
        hret_err_prefix(err, "%s", l->name);
    }
    return r;
}

/* ---- loading ----------------------------------------------------------------------------- */

/* The rendered samples of an opened dataset, in a spool file. */
struct hret_dataset_stream {
    struct hret_ds_spool *spool;
    size_t *sel;   /* count spool entries, in dataset order */
    char *prefix;  /* the few-shot prefix, "" when none */
    uint64_t hash; /* the version's FNV-1a-64 over samples 0..hashed-1 */
    size_t hashed;
};

static void free_samples(struct hret_sample *items, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        hret_sample_fini(&items[i]);
    }
}

/* ---- loading the subsets side by side ---------------------------------------------------- */

/* Subsets load side by side, one spool per thread, joined in subset order afterwards: the
 * 45 KMMLU subsets of a 350k set take a core each at a time instead of one core for all. */
#define LOAD_THREADS 4

struct load_job {
    const char **subs;
    size_t nsubs;
    pthread_mutex_t lock;
    size_t next;   /* the next subset to take */
    size_t failed; /* the first subset in list order that failed so far, nsubs: none */
    struct hret_ds_spool_range *ranges; /* per subset: where its samples are */
    enum hret_result *results;          /* per subset */
    struct hret_err *errs;              /* per subset */
};

struct lane { /* one thread's share of the job */
    struct load_job *job;
    size_t index;
    struct hret_dataset_spec spec; /* the caller's, counting invalid UTF-8 on its own */
    size_t invalid_utf8;
    struct hret_ds_load ld;
    pthread_t thread;
    bool started;
};

/* Takes subsets in list order until none is left or one before them failed, as a sequential load
 * would never have reached them. */
static void *lane_run(void *arg)
{
    struct lane *ln = arg;
    struct load_job *job = ln->job;
    for (;;) {
        pthread_mutex_lock(&job->lock);
        size_t i = job->next < job->failed ? job->next++ : job->nsubs;
        pthread_mutex_unlock(&job->lock);
        if (i >= job->nsubs) {
            return NULL;
        }
        size_t first = hret_ds_spool_count(ln->ld.spool);
        job->errs[i] = (struct hret_err)HRET_ERR_INIT;
        job->results[i] = ln->ld.loader->load(&ln->ld, job->subs[i], &job->errs[i]);
        job->ranges[i] = (struct hret_ds_spool_range){ln->index, first,
                                                      hret_ds_spool_count(ln->ld.spool) - first};
        if (job->results[i] != HRET_OK) {
            pthread_mutex_lock(&job->lock);
            job->failed = i < job->failed ? i : job->failed;
            pthread_mutex_unlock(&job->lock);
        }
    }
}

static size_t lane_count(size_t nsubs)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t n = cores > 1 ? (size_t)cores : 1;
    n = n < LOAD_THREADS ? n : LOAD_THREADS;
    return n < nsubs ? n : nsubs;
}

/* Loads every subset of split into a new spool (caller owns *out): the outcome of loading them
 * one after another, the first failing subset's error included. */
static enum hret_result load_split(const struct hret_dataset_spec *spec,
                                   const struct hret_dataset_loader *l, const char *split,
                                   const char **subs, size_t nsubs, struct hret_ds_spool **out,
                                   struct hret_err *err)
{
    size_t nlanes = lane_count(nsubs ? nsubs : 1);
    struct load_job job = {.subs = subs, .nsubs = nsubs, .failed = nsubs};
    pthread_mutex_init(&job.lock, NULL);
    job.ranges = hret_xcalloc(nsubs ? nsubs : 1, sizeof *job.ranges);
    job.results = hret_xcalloc(nsubs ? nsubs : 1, sizeof *job.results);
    job.errs = hret_xcalloc(nsubs ? nsubs : 1, sizeof *job.errs);
    struct lane *lanes = hret_xcalloc(nlanes, sizeof *lanes);
    struct hret_ds_spool **spools = hret_xcalloc(nlanes, sizeof *spools);
    enum hret_result r = HRET_OK;
    for (size_t k = 0; k < nlanes && r == HRET_OK; k++) {
        struct lane *ln = &lanes[k];
        ln->job = &job;
        ln->index = k;
        ln->spec = *spec;
        ln->spec.invalid_utf8_replaced = spec->invalid_utf8_replaced ? &ln->invalid_utf8 : NULL;
        ln->ld = (struct hret_ds_load){.spec = &ln->spec, .loader = l, .split = split};
        ln->ld.tmpl = spec->prompt_template ? spec->prompt_template : l->default_template;
        r = hret_ds_spool_new(&spools[k], err);
        ln->ld.spool = spools[k];
        hret_buf_init(&ln->ld.buf, 64u << 20);
    }
    for (size_t k = 1; k < nlanes && r == HRET_OK; k++) { /* a lane not started takes nothing */
        lanes[k].started = pthread_create(&lanes[k].thread, NULL, lane_run, &lanes[k]) == 0;
    }
    if (r == HRET_OK) {
        lane_run(&lanes[0]);
    }
    for (size_t k = 0; k < nlanes; k++) {
        if (lanes[k].started) {
            pthread_join(lanes[k].thread, NULL);
        }
        if (spec->invalid_utf8_replaced != NULL) {
            *spec->invalid_utf8_replaced += lanes[k].invalid_utf8;
        }
        hret_buf_fini(&lanes[k].ld.buf);
    }
    if (r == HRET_OK && job.failed < nsubs) {
        r = job.results[job.failed];
        *err = job.errs[job.failed];
    }
    if (r == HRET_OK) {
        r = hret_ds_spool_join(spools, nlanes, job.ranges, nsubs, err);
    }
    for (size_t k = r == HRET_OK ? 1 : 0; k < nlanes; k++) {
        hret_ds_spool_destroy(spools[k]);
    }
    if (r == HRET_OK) {
        *out = spools[0];
    }
    pthread_mutex_destroy(&job.lock);
    free(spools);
    free(lanes);
    free(job.ranges);
    free(job.results);
    free(job.errs);
    return r;
}

/* The first n entries that sel names (NULL: 0..n-1) read back; caller frees (free_samples). */
static enum hret_result read_entries(struct hret_ds_spool *sp, const size_t *sel, size_t n,
                                     struct hret_sample **out, struct hret_err *err)
{
    struct hret_sample *items = hret_xcalloc(n ? n : 1, sizeof *items);
    enum hret_result r = HRET_OK;
    for (size_t i = 0; r == HRET_OK && i < n; i++) {
        r = hret_ds_spool_read(sp, sel ? sel[i] : i, &items[i], err);
    }
    if (r != HRET_OK) {
        free_samples(items, 0, n);
        free(items);
        return r;
    }
    *out = items;
    return HRET_OK;
}

/* ---- few-shot (HRET's format_few_shot_prompt_prefix) ------------------------------------- */

/* The prefix from the first n entries sel names (NULL: 0..n-1). */
static enum hret_result build_prefix(const struct hret_dataset_spec *spec, struct hret_ds_spool *sp,
                                     const size_t *sel, size_t n, char **prefix,
                                     struct hret_err *err)
{
    struct hret_sample *ex = NULL;
    enum hret_result r = read_entries(sp, sel, n, &ex, err);
    if (r != HRET_OK) {
        return r;
    }
    const char *instr =
        spec->few_shot_instruction ? spec->few_shot_instruction : DEFAULT_FEW_SHOT_INSTRUCTION;
    const char *tmpl =
        spec->few_shot_template ? spec->few_shot_template : DEFAULT_FEW_SHOT_TEMPLATE;
    struct hret_buf b;
    hret_buf_init(&b, 64u << 20);
    r = hret_buf_append(&b, instr, strlen(instr), err);
    size_t valid = 0;
    for (size_t i = 0; r == HRET_OK && i < n; i++) {
        if (ex[i].input == NULL || ex[i].input[0] == '\0') {
            continue; /* HRET skips examples with an empty input */
        }
        struct hret_prompt_var vars[] = {{"input", ex[i].input}, {"reference", ex[i].reference}};
        r = hret_prompt_format(&b, tmpl, vars, 2, NULL, err);
        valid++;
    }
    if (r == HRET_OK) {
        *prefix = valid > 0 ? hret_buf_take(&b) : hret_xstrdup("");
    }
    hret_buf_fini(&b);
    free_samples(ex, 0, n);
    free(ex);
    return r;
}

/* Few-shot examples from another split: its first K rows as loaded. */
static enum hret_result other_split_prefix(const struct hret_dataset_spec *spec,
                                           const struct hret_dataset_loader *l, const char **subs,
                                           size_t nsubs, size_t k, char **prefix,
                                           struct hret_err *err)
{
    struct hret_ds_spool *ex = NULL;
    enum hret_result r = load_split(spec, l, spec->few_shot_split, subs, nsubs, &ex, err);
    if (r != HRET_OK) {
        hret_err_prefix(err, "few-shot split '%s'", spec->few_shot_split);
        return r;
    }
    size_t nex = hret_ds_spool_count(ex);
    r = build_prefix(spec, ex, NULL, nex < k ? nex : k, prefix, err);
    hret_ds_spool_destroy(ex);
    return r;
}

/* ---- version: FNV-1a-64 over every field of every sample, length-prefixed ------------------ */

static uint64_t hash_field(uint64_t h, const char *s)
{
    uint64_t len = s ? (uint64_t)strlen(s) : UINT64_MAX;
    unsigned char le[8];
    for (int i = 0; i < 8; i++) {
        le[i] = (unsigned char)(len >> (8 * i));
    }
    h = hret_prompt_fnv1a64(h, le, sizeof le);
    return s ? hret_prompt_fnv1a64(h, s, (size_t)len) : h;
}

static uint64_t hash_sample(uint64_t h, const struct hret_sample *s)
{
    h = hash_field(hash_field(hash_field(h, s->id), s->subset), s->input);
    h = hash_field(h, s->reference);
    char n[32];
    snprintf(n, sizeof n, "%zu", s->options.count);
    h = hash_field(h, n);
    for (size_t j = 0; j < s->options.count; j++) {
        h = hash_field(h, s->options.items[j]);
    }
    char *meta = s->metadata ? hret_json_print(s->metadata) : NULL;
    h = hash_field(h, meta);
    free(meta);
    return h;
}

enum hret_result hret_dataset_version(struct hret_dataset *ds, struct hret_err *err)
{
    struct hret_dataset_stream *st = ds->stream;
    enum hret_result r = HRET_OK;
    while (ds->version == NULL && r == HRET_OK && st->hashed < ds->count) {
        struct hret_sample s;
        r = hret_dataset_get(ds, st->hashed, &s, err); /* hashes it */
        if (r == HRET_OK) {
            hret_sample_fini(&s);
        }
    }
    if (r == HRET_OK && ds->version == NULL) {
        ds->version = hret_xasprintf("%016" PRIx64, st->hash);
    }
    return r;
}

/* ---- the pipeline ------------------------------------------------------------------------ */

/* Sampling, few-shot and limit on the loaded selection, as positions in the spool. */
static enum hret_result shape(const struct hret_dataset_spec *spec,
                              const struct hret_dataset_loader *l, const char **subs, size_t nsubs,
                              struct hret_dataset *ds, struct hret_err *err)
{
    struct hret_dataset_stream *st = ds->stream;
    const char *split = spec->split ? spec->split : "test";
    size_t n = hret_ds_spool_count(st->spool);
    st->sel = hret_xmalloc((n ? n : 1) * sizeof *st->sel);
    if (spec->sample_size > 0 && (unsigned long long)spec->sample_size < n) {
        hret_ds_draw(st->sel, n, (size_t)spec->sample_size, spec->seed);
        n = (size_t)spec->sample_size;
    } else {
        for (size_t i = 0; i < n; i++) {
            st->sel[i] = i;
        }
    }
    size_t k = spec->num_few_shot > 0 ? (size_t)spec->num_few_shot : 0;
    enum hret_result r = HRET_OK;
    if (k > 0 && (spec->few_shot_split == NULL || strcmp(spec->few_shot_split, split) == 0)) {
        size_t used = k < n ? k : n;
        r = build_prefix(spec, st->spool, st->sel, used, &st->prefix, err);
        memmove(st->sel, st->sel + used, (n - used) * sizeof *st->sel);
        n -= used;
    } else if (k > 0) {
        r = other_split_prefix(spec, l, subs, nsubs, k, &st->prefix, err);
    }
    if (r != HRET_OK) {
        return r;
    }
    if (spec->limit > 0 && (unsigned long long)spec->limit < n) {
        n = (size_t)spec->limit;
    }
    ds->count = n;
    ds->num_few_shot_applied = st->prefix && st->prefix[0] ? (int)k : 0;
    if (st->prefix == NULL) {
        st->prefix = hret_xstrdup("");
    }
    return HRET_OK;
}

enum hret_result hret_dataset_get(const struct hret_dataset *ds, size_t idx,
                                  struct hret_sample *out, struct hret_err *err)
{
    const struct hret_dataset_stream *st = ds->stream;
    if (st == NULL || idx >= ds->count) {
        return hret_err_set(err, HRET_E_INVAL, "dataset %s: no sample %zu to read", ds->name, idx);
    }
    enum hret_result r = hret_ds_spool_read(st->spool, st->sel[idx], out, err);
    if (r != HRET_OK) {
        return r;
    }
    size_t plen = strlen(st->prefix);
    if (plen > 0) {
        size_t ilen = strlen(out->input);
        char *s = hret_xmalloc(plen + ilen + 1);
        memcpy(s, st->prefix, plen);
        memcpy(s + plen, out->input, ilen + 1);
        free(out->input);
        out->input = s;
    }
    out->idx = idx;
    if (ds->version == NULL && idx == st->hashed) {
        ds->stream->hash = hash_sample(st->hash, out);
        ds->stream->hashed++;
    }
    return HRET_OK;
}

/* Everything about spec that needs no data file: names, params, templates, subsets. *eff is
 * spec with the common params applied, *l its loader, *subs (caller frees) the subsets. */
static enum hret_result check_all(const struct hret_dataset_spec *spec,
                                  struct hret_dataset_spec *eff,
                                  const struct hret_dataset_loader **l, const char ***subs,
                                  size_t *nsubs, struct hret_err *err)
{
    *subs = NULL;
    *nsubs = 0;
    if (check_parts(spec, err) != HRET_OK) {
        return HRET_E_CONFIG;
    }
    *l = find_loader(spec->name);
    if (*l == NULL) {
        char valid[200];
        join_names(valid, sizeof valid, names);
        return hret_err_set(err, HRET_E_CONFIG, "unknown dataset '%s' (known: %s)",
                            spec->name ? spec->name : "(none)", valid);
    }
    enum hret_result r = effective_spec(spec, eff, err);
    if (r == HRET_OK) {
        r = check_spec(eff, *l, err);
    }
    if (r == HRET_OK) {
        r = resolve_subsets(*l, spec->subsets, subs, nsubs, err);
    }
    return r;
}

enum hret_result hret_dataset_check(const struct hret_dataset_spec *spec, struct hret_err *err)
{
    struct hret_dataset_spec eff;
    const struct hret_dataset_loader *l = NULL;
    const char **subs = NULL;
    size_t nsubs = 0;
    enum hret_result r = check_all(spec, &eff, &l, &subs, &nsubs, err);
    free(subs);
    return r;
}

enum hret_result hret_dataset_open(const struct hret_dataset_spec *given, struct hret_dataset **out,
                                   struct hret_err *err)
{
    struct hret_dataset_spec eff;
    const struct hret_dataset_spec *spec = &eff;
    const struct hret_dataset_loader *l = NULL;
    const char **subs = NULL;
    size_t nsubs = 0;
    enum hret_result r = check_all(given, &eff, &l, &subs, &nsubs, err);
    if (r != HRET_OK) {
        free(subs);
        return r;
    }
    if (spec->data_dir == NULL || spec->data_dir[0] == '\0') {
        free(subs);
        return hret_err_set(err, HRET_E_CONFIG, "%s: no data directory given", l->name);
    }
    if (spec->num_few_shot < 0) {
        hret_log_warn("dataset", NULL, "num_few_shot %d is negative, using 0", spec->num_few_shot);
    }
    struct hret_dataset *ds = hret_xcalloc(1, sizeof *ds);
    ds->name = hret_xstrdup(l->name);
    ds->stream = hret_xcalloc(1, sizeof *ds->stream);
    ds->stream->hash = HRET_FNV1A64_INIT;
    r = load_split(spec, l, spec->split ? spec->split : "test", subs, nsubs, &ds->stream->spool,
                   err);
    if (r == HRET_OK) {
        r = shape(spec, l, subs, nsubs, ds, err);
    }
    free(subs);
    if (r == HRET_OK && !spec->version_on_demand) {
        r = hret_dataset_version(ds, err);
    }
    if (r != HRET_OK) {
        hret_dataset_destroy(ds);
        return r;
    }
    hret_log_debug("dataset", NULL, "opened dataset %s: %zu samples, version %s, few-shot %d",
                   ds->name, ds->count, ds->version ? ds->version : "(on demand)",
                   ds->num_few_shot_applied);
    *out = ds;
    return HRET_OK;
}

static void stream_close(struct hret_dataset *ds)
{
    if (ds->stream != NULL) {
        hret_ds_spool_destroy(ds->stream->spool);
        free(ds->stream->sel);
        free(ds->stream->prefix);
        free(ds->stream);
        ds->stream = NULL;
    }
}

enum hret_result hret_dataset_load(const struct hret_dataset_spec *spec, struct hret_dataset **out,
                                   struct hret_err *err)
{
    struct hret_dataset *ds = NULL;
    struct hret_dataset_spec lazy = *spec;
    lazy.version_on_demand = true; /* reading every sample below hashes them */
    enum hret_result r = hret_dataset_open(&lazy, &ds, err);
    if (r == HRET_OK) {
        ds->samples = hret_xcalloc(ds->count ? ds->count : 1, sizeof *ds->samples);
        for (size_t i = 0; r == HRET_OK && i < ds->count; i++) {
            r = hret_dataset_get(ds, i, &ds->samples[i], err); /* with its prefix and idx */
        }
    }
    if (r == HRET_OK) {
        r = hret_dataset_version(ds, err);
    }
    if (ds != NULL) {
        stream_close(ds);
    }
    if (r != HRET_OK) {
        hret_dataset_destroy(ds);
        return r;
    }
    *out = ds;
    return HRET_OK;
}

void hret_dataset_destroy(struct hret_dataset *ds)
{
    if (ds == NULL) {
        return;
    }
    if (ds->samples != NULL) {
        free_samples(ds->samples, 0, ds->count);
    }
    free(ds->samples);
    stream_close(ds);
    free(ds->name);
    free(ds->version);
    free(ds);
}
