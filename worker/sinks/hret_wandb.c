#include "hret_wandb.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_buf.h"
#include "hret_cloudevents.h"
#include "hret_hash.h"
#include "hret_json.h"
#include "hret_mem.h"
#include "hret_sink.h"

/* The operation text as the SDK sends it (wandb core/api/graphql/mutation_run.graphql), reduced
 * to the variables the sink uses; each variable maps to the input field infra.md §2.2 names. */
static const char upsert_mutation[] =
    "mutation UpsertBucket($id: String, $name: String, $project: String, $entity: String, "
    "$groupName: String, $displayName: String, $config: JSONString, $jobType: String, "
    "$tags: [String!]) { upsertBucket(input: {id: $id, name: $name, groupName: $groupName, "
    "modelName: $project, entityName: $entity, displayName: $displayName, config: $config, "
    "jobType: $jobType, tags: $tags}) { bucket { id name displayName project { id name "
    "entity { id name } } historyLineCount } inserted } }";

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

void hret_wandb_run_name(const char *run_id, char out[65])
{
    size_t n = strlen(run_id);
    bool plain = n >= 1 && n <= 64;
    for (size_t i = 0; plain && i < n; i++) {
        plain = name_char(run_id[i]);
    }
    if (plain) {
        memcpy(out, run_id, n + 1);
        return;
    }
    char hex[65];
    hret_hash_sha256_hex(run_id, n, hex);
    snprintf(out, 65, "hret-%.32s", hex);
}

static const cJSON *member(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static const char *string_member(const cJSON *obj, const char *key)
{
    const cJSON *v = member(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* W&B's config format (runconfig.go Serialize): every top-level key wraps its value. */
static void add_wrapped(cJSON *config, const char *key, const cJSON *value)
{
    if (value == NULL || cJSON_IsNull(value)) {
        return;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(config, key);
    cJSON *w = cJSON_AddObjectToObject(config, key);
    cJSON_AddItemToObject(w, "value", cJSON_Duplicate(value, 1));
}

/* The metadata as given, then what hret knows about the run; hret's names win over metadata
 * keys of the same name so the columns mean the same thing in every project. */
static cJSON *run_config(const cJSON *event)
{
    cJSON *config = cJSON_CreateObject();
    const cJSON *it = NULL;
    cJSON_ArrayForEach(it, member(event, "metadata"))
    {
        add_wrapped(config, it->string, it);
    }
    const cJSON *model = member(event, "model");
    const cJSON *dataset = member(event, "dataset");
    add_wrapped(config, "evaluation", member(event, "evaluation"));
    add_wrapped(config, "model", member(model, "name"));
    add_wrapped(config, "model_id", member(model, "model_id"));
    add_wrapped(config, "dataset", member(dataset, "name"));
    add_wrapped(config, "split", member(dataset, "split"));
    add_wrapped(config, "dataset_version", member(dataset, "version"));
    add_wrapped(config, "num_few_shot", member(event, "num_few_shot"));
    add_wrapped(config, "hret_run_id", member(event, "run_id"));
    return config;
}

static void add_string_or_null(cJSON *obj, const char *key, const char *value)
{
    if (value != NULL) {
        cJSON_AddStringToObject(obj, key, value);
    } else {
        cJSON_AddNullToObject(obj, key);
    }
}

char *hret_wandb_upsert_body(const cJSON *event, const char *name, const char *entity,
                             const char *project)
{
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "query", upsert_mutation);
    cJSON *vars = cJSON_AddObjectToObject(req, "variables");
    cJSON_AddStringToObject(vars, "name", name);
    add_string_or_null(vars, "project", project);
    add_string_or_null(vars, "entity", entity);
    const char *model = string_member(member(event, "model"), "name");
    const char *dataset = string_member(member(event, "dataset"), "name");
    const char *display = string_member(event, "run_name");
    char *fallback = NULL;
    if (display == NULL && model != NULL && dataset != NULL) {
        display = fallback = hret_xasprintf("%s/%s", model, dataset);
    }
    add_string_or_null(vars, "displayName", display);
    add_string_or_null(vars, "groupName", string_member(event, "request_id"));
    cJSON_AddStringToObject(vars, "jobType", "eval");
    cJSON *tags = cJSON_AddArrayToObject(vars, "tags");
    if (model != NULL) {
        cJSON_AddItemToArray(tags, cJSON_CreateString(model));
    }
    if (dataset != NULL && (model == NULL || strcmp(model, dataset) != 0)) {
        cJSON_AddItemToArray(tags, cJSON_CreateString(dataset));
    }
    cJSON *config = run_config(event);
    char *config_text = hret_json_print(config); /* JSONString: the config travels as text */
    cJSON_AddStringToObject(vars, "config", config_text);
    char *body = hret_json_print(req);
    free(config_text);
    cJSON_Delete(config);
    cJSON_Delete(req);
    free(fallback);
    return body;
}

static enum hret_result copy_name(char out[129], const cJSON *obj, const char *path,
                                  struct hret_err *err)
{
    const char *v = string_member(obj, "name");
    if (v == NULL || *v == '\0' || strlen(v) > 128) {
        return hret_err_set(err, HRET_E_PROTO, "upsertBucket response: %s.name missing or too long",
                            path);
    }
    memcpy(out, v, strlen(v) + 1);
    return HRET_OK;
}

enum hret_result hret_wandb_upsert_parse(const char *body, size_t len,
                                         struct hret_wandb_bucket *out, struct hret_err *err)
{
    memset(out, 0, sizeof *out);
    cJSON *doc = hret_json_parse(body, len, len + 1, err);
    if (doc == NULL) {
        hret_err_prefix(err, "upsertBucket response");
        return HRET_E_PROTO;
    }
    enum hret_result r = HRET_OK;
    const cJSON *errors = member(doc, "errors");
    if (cJSON_GetArraySize(errors) > 0) {
        const char *msg = string_member(cJSON_GetArrayItem(errors, 0), "message");
        r = hret_err_set(err, HRET_E_PROTO, "upsertBucket: %s", msg ? msg : "GraphQL error");
        goto cleanup;
    }
    const cJSON *bucket = member(member(member(doc, "data"), "upsertBucket"), "bucket");
    const cJSON *project = member(bucket, "project");
    if ((r = copy_name(out->name, bucket, "bucket", err)) != HRET_OK ||
        (r = copy_name(out->project, project, "bucket.project", err)) != HRET_OK ||
        (r = copy_name(out->entity, member(project, "entity"), "bucket.project.entity", err)) !=
            HRET_OK) {
        goto cleanup;
    }
cleanup:
    cJSON_Delete(doc);
    return r;
}

cJSON *hret_wandb_row(const cJSON *event)
{
    cJSON *row = cJSON_CreateObject();
    cJSON_AddNumberToObject(row, "_step", (double)hret_sink_step(event));
    double started = 0, finished = 0, runtime = 0;
    bool has_started = hret_cloudevent_parse_time(string_member(event, "started_at"), &started);
    bool has_finished =
        hret_cloudevent_parse_time(string_member(event, "finished_at"), &finished) ||
        hret_cloudevent_parse_time(string_member(event, "failed_at"), &finished);
    const cJSON *duration = member(event, "duration_s");
    if (cJSON_IsNumber(duration) && isfinite(duration->valuedouble)) {
        runtime = duration->valuedouble;
    } else if (has_started && has_finished && finished >= started) {
        runtime = finished - started;
    }
    cJSON_AddNumberToObject(row, "_runtime", runtime);
    if (has_finished) {
        cJSON_AddNumberToObject(row, "_timestamp", finished);
    }
    cJSON *metrics = hret_sink_metrics(event);
    while (metrics->child != NULL) {
        cJSON *it = cJSON_DetachItemViaPointer(metrics, metrics->child);
        if (!cJSON_HasObjectItem(row, it->string)) {
            cJSON_AddItemToObject(row, it->string, it);
        } else {
            cJSON_Delete(it);
        }
    }
    cJSON_Delete(metrics);
    return row;
}

bool hret_wandb_row_has_metrics(const cJSON *row)
{
    const cJSON *it = NULL;
    cJSON_ArrayForEach(it, row)
    {
        if (it->string[0] != '_') {
            return true;
        }
    }
    return false;
}

/* {"offset": offset, "content": [line]}: file_stream lines are JSON text inside JSON strings. */
static void add_chunk(cJSON *files, const char *file, long long offset, const cJSON *line)
{
    cJSON *chunk = cJSON_AddObjectToObject(files, file);
    cJSON_AddNumberToObject(chunk, "offset", (double)offset);
    cJSON *content = cJSON_AddArrayToObject(chunk, "content");
    char *text = hret_json_print(line);
    cJSON_AddItemToArray(content, cJSON_CreateString(text));
    free(text);
}

char *hret_wandb_stream_body(const cJSON *row, bool with_history, long long history_offset)
{
    cJSON *req = cJSON_CreateObject();
    cJSON *files = cJSON_AddObjectToObject(req, "files");
    if (with_history) {
        add_chunk(files, HRET_WANDB_HISTORY, history_offset, row);
    }
    add_chunk(files, HRET_WANDB_SUMMARY, 0, row);
    char *body = hret_json_print(req);
    cJSON_Delete(req);
    return body;
}

char *hret_wandb_complete_body(int exitcode)
{
    return hret_xasprintf("{\"complete\":true,\"exitcode\":%d}", exitcode);
}

static void append_segment(struct hret_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (name_char((char)*p) || *p == '.' || *p == '~') {
            (void)hret_buf_append(b, p, 1, NULL);
        } else {
            char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            (void)hret_buf_append(b, esc, 3, NULL);
        }
    }
}

char *hret_wandb_stream_url(const char *base, const char *entity, const char *project,
                            const char *name)
{
    struct hret_buf b;
    hret_buf_init(&b, (size_t)1 << 16);
    size_t n = strlen(base);
    (void)hret_buf_append(&b, base, n > 0 && base[n - 1] == '/' ? n - 1 : n, NULL);
    const char *parts[] = {entity, project, name};
    for (size_t i = 0; i < 3; i++) {
        (void)hret_buf_append(&b, "/", 1, NULL);
        if (i == 0) {
            (void)hret_buf_append(&b, "files/", 6, NULL);
        }
        append_segment(&b, parts[i]);
    }
    (void)hret_buf_append(&b, "/file_stream", 12, NULL);
    return hret_buf_take(&b);
}
