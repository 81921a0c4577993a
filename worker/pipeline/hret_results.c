#include "hret_results.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hret_buf.h"
#include "hret_hash.h"
#include "hret_json.h"
#include "hret_mem.h"
#include "hret_outfile.h"

void hret_results_iso_time(double t, char *out, size_t cap)
{
    time_t secs = (time_t)t;
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static cJSON *string_or_null(const char *s)
{
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *options_json(const struct hret_strlist *l)
{
    return cJSON_CreateStringArray((const char *const *)l->items, (int)l->count);
}

/* What the scoring modes add: HRET's logits.option_log_probs (log_likelihood), the paths of
 * self-consistency, HRET's judge_evaluation with our judge_type and judge_prompt, the gate. */
static void add_modes(cJSON *j, const struct hret_outcome *o)
{
    if (o->n_option_logprobs > 0 && o->error_code == HRET_OK) {
        cJSON *logits = cJSON_AddObjectToObject(j, "logits");
        cJSON_AddItemToObject(
            logits, "option_log_probs",
            cJSON_CreateDoubleArray(o->option_logprobs, (int)o->n_option_logprobs));
    }
    if (o->paths.count > 0) {
        cJSON *sc = cJSON_AddObjectToObject(j, "self_consistency");
        cJSON_AddItemToObject(sc, "paths", options_json(&o->paths));
        cJSON_AddItemToObject(sc, "answers", options_json(&o->path_answers));
    }
    if (o->judge_type != NULL) {
        cJSON_AddStringToObject(j, "judge_type", o->judge_type);
        cJSON_AddItemToObject(j, "judge_prompt", string_or_null(o->judge_prompt));
        cJSON_AddItemToObject(j, "judge_evaluation", string_or_null(o->judge_output));
    }
    if (o->gate != HRET_GATE_OFF) {
        cJSON_AddStringToObject(j, "language_gate",
                                o->gate == HRET_GATE_PASSED ? "passed" : "failed");
    }
}

cJSON *hret_results_sample(const struct hret_sample *s, const struct hret_outcome *o)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "id", s->id ? s->id : "");
    cJSON_AddStringToObject(j, "input", s->input);
    cJSON_AddStringToObject(j, "reference", s->reference ? s->reference : "");
    cJSON_AddItemToObject(j, "options", options_json(&s->options));
    cJSON_AddItemToObject(j, "_subset_name", string_or_null(s->subset));
    cJSON_AddItemToObject(j, "prediction", string_or_null(o->prediction));
    cJSON_AddItemToObject(j, "finish_reason",
                          string_or_null(o->error_code != HRET_OK ? "error" : o->finish_reason));
    if (o->error_code == HRET_OK) {
        cJSON *e = cJSON_AddObjectToObject(j, "evaluation");
        cJSON_AddItemToObject(e, "normalized_pred", string_or_null(o->verdict.normalized_pred));
        cJSON_AddItemToObject(e, "normalized_ref", string_or_null(o->verdict.normalized_ref));
        cJSON_AddBoolToObject(e, "is_correct", o->verdict.correct);
        cJSON_AddItemToObject(e, "options", options_json(&s->options));
        if (o->verdict.parse_failure) {
            cJSON_AddBoolToObject(e, "parse_failure", true);
        }
        if (!isnan(o->verdict.score)) {
            cJSON_AddNumberToObject(e, "score", o->verdict.score);
        }
    } else {
        cJSON_AddStringToObject(j, "error", o->error ? o->error : "");
        cJSON_AddStringToObject(j, "error_class", hret_result_name(o->error_code));
    }
    if (!isnan(o->language_penalizer)) {
        cJSON_AddNumberToObject(j, "language_penalizer", o->language_penalizer);
    }
    add_modes(j, o);
    cJSON_AddNumberToObject(j, "latency_ms", round(o->latency_ms * 1000) / 1000);
    cJSON_AddNumberToObject(j, "prompt_tokens", (double)o->prompt_tokens);
    cJSON_AddNumberToObject(j, "completion_tokens", (double)o->completion_tokens);
    cJSON_AddNumberToObject(j, "attempts", o->attempts);
    if (s->metadata != NULL) {
        cJSON_AddItemToObject(j, "metadata", cJSON_Duplicate(s->metadata, true));
    }
    return j;
}

static void put_json(FILE *f, const cJSON *item)
{
    char *text = hret_json_print(item); /* valid UTF-8 */
    fputs(text, f);
    free(text);
}

cJSON *hret_results_run_metadata(const struct hret_results_meta *m)
{
    char start[40], end[40];
    hret_results_iso_time(m->start_time, start, sizeof start);
    hret_results_iso_time(m->end_time, end, sizeof end);
    cJSON *j = cJSON_CreateObject();
    if (m->run_id != NULL) {
        cJSON_AddStringToObject(j, "run_id", m->run_id);
    }
    cJSON_AddItemToObject(j, "run_name", string_or_null(m->run_name));
    cJSON_AddStringToObject(j, "start_time", start);
    cJSON_AddStringToObject(j, "dataset", m->dataset);
    cJSON_AddStringToObject(j, "model", m->model);
    if (m->metadata != NULL) {
        cJSON_AddItemToObject(j, "metadata", cJSON_Duplicate(m->metadata, true));
    }
    cJSON_AddItemToObject(j, "config",
                          m->config ? cJSON_Duplicate(m->config, true) : cJSON_CreateObject());
    cJSON_AddStringToObject(j, "end_time", end);
    cJSON_AddNumberToObject(j, "duration", m->end_time - m->start_time);
    cJSON_AddBoolToObject(j, "partial", m->partial);
    cJSON_AddNumberToObject(j, "planned_samples", (double)m->planned);
    cJSON_AddStringToObject(j, "hret_version", HRET_VERSION);
    return j;
}

/* Writes the document around the samples, which emit puts in order: each sample's JSON
 * preceded by ",\n" (or "\n" for the first); false on a read error (err set). */
typedef bool (*emit_fn)(FILE *f, void *user, struct hret_err *err);

static enum hret_result write_doc(const char *path, unsigned flags,
                                  const struct hret_results_meta *meta, const cJSON *metrics,
                                  emit_fn emit, void *user, struct hret_err *err)
{
    struct hret_outfile *out = NULL;
    if (hret_outfile_open(path, flags, &out, err) != HRET_OK) {
        return err->code;
    }
    FILE *f = hret_outfile_stream(out);
    cJSON *md = hret_results_run_metadata(meta);
    fputs("{\n\"run_metadata\": ", f);
    put_json(f, md);
    cJSON_Delete(md);
    fputs(",\n\"metrics\": ", f);
    put_json(f, metrics);
    fputs(",\n\"results\": [{\n\"metrics\": ", f);
    put_json(f, metrics);
    fputs(",\n\"samples\": [", f);
    if (!emit(f, user, err)) {
        hret_outfile_abort(out);
        return err->code;
    }
    fputs("\n],\n\"info\": ", f);
    if (meta->info != NULL) {
        put_json(f, meta->info);
    } else {
        fputs("{}", f); /* runs finished by workers store no run info */
    }
    fputs("\n}]\n}\n", f);
    return hret_outfile_commit(out, err);
}

struct arrays {
    const struct hret_sample *samples;
    const struct hret_outcome *outcomes;
    size_t count;
};

static bool emit_arrays(FILE *f, void *user, struct hret_err *err)
{
    (void)err;
    const struct arrays *a = user;
    bool first = true;
    for (size_t i = 0; i < a->count; i++) {
        if (!a->outcomes[i].done) {
            continue;
        }
        cJSON *s = hret_results_sample(&a->samples[i], &a->outcomes[i]);
        fputs(first ? "\n" : ",\n", f);
        put_json(f, s);
        cJSON_Delete(s);
        first = false;
    }
    return true;
}

enum hret_result hret_results_write(const char *path, unsigned flags,
                                    const struct hret_results_meta *meta, const cJSON *metrics,
                                    const struct hret_sample *samples,
                                    const struct hret_outcome *outcomes, size_t count,
                                    struct hret_err *err)
{
    struct arrays a = {samples, outcomes, count};
    return write_doc(path, flags, meta, metrics, emit_arrays, &a, err);
}

/* ---- samples spooled as they finish ------------------------------------------------------ */

struct hret_results_spool {
    FILE *f;
    uint64_t *off; /* count: where sample i's JSON starts, UINT64_MAX when it is not there */
    uint32_t *len;
    size_t count;
    uint64_t end;
    int write_errno;
};

enum hret_result hret_results_spool_new(size_t count, struct hret_results_spool **out,
                                        struct hret_err *err)
{
    FILE *f = hret_outfile_scratch("results spool", err);
    if (f == NULL) {
        return HRET_E_UNAVAILABLE;
    }
    struct hret_results_spool *sp = hret_xcalloc(1, sizeof *sp);
    sp->f = f;
    sp->count = count;
    sp->off = hret_xmalloc((count ? count : 1) * sizeof *sp->off);
    sp->len = hret_xcalloc(count ? count : 1, sizeof *sp->len);
    for (size_t i = 0; i < count; i++) {
        sp->off[i] = UINT64_MAX;
    }
    *out = sp;
    return HRET_OK;
}

void hret_results_spool_destroy(struct hret_results_spool *sp)
{
    if (sp == NULL) {
        return;
    }
    fclose(sp->f);
    free(sp->off);
    free(sp->len);
    free(sp);
}

void hret_results_spool_add(struct hret_results_spool *sp, size_t idx, const struct hret_sample *s,
                            const struct hret_outcome *o)
{
    if (!o->done || idx >= sp->count) {
        return;
    }
    cJSON *j = hret_results_sample(s, o);
    char *text = hret_json_print(j);
    cJSON_Delete(j);
    size_t n = strlen(text);
    if (n > UINT32_MAX || fwrite(text, 1, n, sp->f) != n) {
        sp->write_errno = sp->write_errno ? sp->write_errno : (errno ? errno : EFBIG);
    }
    free(text);
    sp->off[idx] = sp->end;
    sp->len[idx] = (uint32_t)n;
    sp->end += n;
}

static bool emit_spool(FILE *f, void *user, struct hret_err *err)
{
    struct hret_results_spool *sp = user;
    if (sp->write_errno != 0 || fflush(sp->f) != 0) {
        hret_err_set(err, HRET_E_UNAVAILABLE, "writing the results spool file: %s",
                     strerror(sp->write_errno ? sp->write_errno : errno));
        return false;
    }
    char *buf = NULL;
    size_t alloc = 0;
    bool first = true, ok = true;
    for (size_t i = 0; i < sp->count && ok; i++) {
        if (sp->off[i] == UINT64_MAX) {
            continue;
        }
        if (sp->len[i] + 1 > alloc) {
            alloc = (size_t)sp->len[i] + 1;
            buf = hret_xrealloc(buf, alloc);
        }
        ok = fseeko(sp->f, (off_t)sp->off[i], SEEK_SET) == 0 &&
             fread(buf, 1, sp->len[i], sp->f) == sp->len[i];
        fputs(first ? "\n" : ",\n", f);
        fwrite(buf, 1, sp->len[i], f);
        first = false;
    }
    free(buf);
    if (!ok) {
        hret_err_set(err, HRET_E_UNAVAILABLE, "reading the results spool file: %s",
                     strerror(errno ? errno : EIO));
    }
    return ok;
}

enum hret_result hret_results_write_spool(const char *path, unsigned flags,
                                          const struct hret_results_meta *meta,
                                          const cJSON *metrics, struct hret_results_spool *sp,
                                          struct hret_err *err)
{
    return write_doc(path, flags, meta, metrics, emit_spool, sp, err);
}

#define RESULTS_CAP ((size_t)2 << 30) /* bytes of one results file */

cJSON *hret_results_read(const char *path, struct hret_err *err)
{
    struct hret_buf b;
    hret_buf_init(&b, RESULTS_CAP);
    cJSON *doc = NULL;
    if (hret_buf_append_file(&b, path, err) == HRET_OK) {
        doc = hret_json_parse(hret_buf_str(&b), b.len, RESULTS_CAP, err);
        if (doc == NULL) {
            hret_err_prefix(err, "%s: not a results file", path);
        } else if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "results"))) {
            hret_err_set(err, HRET_E_INVAL, "%s: not a results file (no \"results\" list)", path);
            cJSON_Delete(doc);
            doc = NULL;
        }
    }
    hret_buf_fini(&b);
    return doc;
}

/* The pairing key of a sample: its dataset id, or for files without ids (HRET's own) a hash of
 * subset and prompt, which identify the item as well for one dataset and template. */
static const char *sample_key(const cJSON *s, char *buf, size_t cap)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(s, "id");
    if (cJSON_IsString(id) && id->valuestring[0] != '\0') {
        return id->valuestring;
    }
    const cJSON *subset = cJSON_GetObjectItemCaseSensitive(s, "_subset_name");
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(s, "input");
    const char *sub = cJSON_IsString(subset) ? subset->valuestring : "";
    const char *in = cJSON_IsString(input) ? input->valuestring : "";
    uint64_t h = hret_hash_fnv1a64(sub, strlen(sub) + 1) ^ hret_hash_fnv1a64(in, strlen(in));
    char hex[17];
    hret_hash_hex64(h, hex);
    snprintf(buf, cap, "input#%s", hex);
    return buf;
}

static enum hret_result add_samples(const cJSON *samples, struct hret_compare_run *run,
                                    struct hret_err *err)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, samples)
    {
        if (!cJSON_IsObject(s)) {
            return hret_err_set(err, HRET_E_INVAL, "a sample is not an object");
        }
        char buf[32];
        const cJSON *subset = cJSON_GetObjectItemCaseSensitive(s, "_subset_name");
        const cJSON *eval = cJSON_GetObjectItemCaseSensitive(s, "evaluation");
        const cJSON *ok = cJSON_GetObjectItemCaseSensitive(eval, "is_correct");
        bool errored = cJSON_GetObjectItemCaseSensitive(s, "error") != NULL;
        bool scored = cJSON_IsBool(ok) || cJSON_IsNumber(ok);
        bool correct = cJSON_IsTrue(ok) || (cJSON_IsNumber(ok) && ok->valuedouble != 0);
        hret_compare_run_add(run, sample_key(s, buf, sizeof buf),
                             cJSON_IsString(subset) ? subset->valuestring : NULL, correct,
                             errored || !scored);
    }
    return HRET_OK;
}

enum hret_result hret_results_compare_run(const cJSON *doc, struct hret_compare_run *run,
                                          struct hret_err *err)
{
    const cJSON *results = cJSON_GetObjectItemCaseSensitive(doc, "results");
    if (!cJSON_IsArray(results)) {
        return hret_err_set(err, HRET_E_INVAL, "not a results file (no \"results\" list)");
    }
    const cJSON *block;
    cJSON_ArrayForEach(block, results)
    {
        const cJSON *samples = cJSON_GetObjectItemCaseSensitive(block, "samples");
        if (!cJSON_IsArray(samples)) {
            return hret_err_set(err, HRET_E_INVAL, "not a results file (a result has no samples)");
        }
        enum hret_result r = add_samples(samples, run, err);
        if (r != HRET_OK) {
            return r;
        }
    }
    return HRET_OK;
}
