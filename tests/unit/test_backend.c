/* The OpenAI-compatible backends over fixture folders (every .json file in tests/data/backend/
 * prepare, parse and errors), so a new case needs no C:
 *   prepare  model config + params + prompt -> URL and body (the body is compared as parsed JSON:
 *            key order free, numbers compared numerically), or an error substring
 *   parse    raw 2xx body -> output fields, or a protocol error substring
 *   errors   raw error body -> hret_backend_error_message
 * Every fixture may carry a "comment"; unknown keys are errors so a typo cannot hide a check.
 * Bodies are handed over in exactly-sized buffers without a NUL, so that under ASan a read past
 * the given length in our code is caught. */
#include "hret_test.h"

#include <dirent.h>
#include <math.h>
#include <string.h>

#include "hret_backend.h"
#include "hret_buf.h"
#include "hret_json.h"
#include "hret_mem.h"

/* ---- helpers ----------------------------------------------------------------------------- */

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A copy of s in a buffer of exactly strlen(s) bytes (one byte when empty), no NUL. */
static char *exact_copy(const char *s, size_t *len)
{
    *len = strlen(s);
    char *p = hret_xmalloc(*len > 0 ? *len : 1);
    memcpy(p, s, *len);
    return p;
}

static char *json_diff(const cJSON *want, const cJSON *got, const char *path);

static char *mismatch(const cJSON *want, const cJSON *got, const char *path)
{
    char *w = hret_json_print(want), *g = hret_json_print(got);
    char *d = hret_xasprintf("%s: expected %s, got %s", path, w, g);
    free(w);
    free(g);
    return d;
}

static char *object_diff(const cJSON *want, const cJSON *got, const char *path)
{
    char *d = NULL;
    for (const cJSON *w = want->child; w && !d; w = w->next) {
        char *sub = hret_xasprintf("%s.%s", path, w->string);
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(got, w->string);
        if (g == NULL) {
            char *v = hret_json_print(w);
            d = hret_xasprintf("%s: missing, expected %s", sub, v);
            free(v);
        } else {
            d = json_diff(w, g, sub);
        }
        free(sub);
    }
    for (const cJSON *g = got->child; g && !d; g = g->next) {
        if (cJSON_GetObjectItemCaseSensitive(want, g->string) == NULL) {
            char *v = hret_json_print(g);
            d = hret_xasprintf("%s.%s: unexpected, got %s", path, g->string, v);
            free(v);
        }
    }
    if (d == NULL && cJSON_GetArraySize(want) != cJSON_GetArraySize(got)) {
        d = hret_xasprintf("%s: duplicate keys: %d expected, %d present", path,
                           cJSON_GetArraySize(want), cJSON_GetArraySize(got));
    }
    return d;
}

/* The first difference between want and got as "path: ..." (caller owns result), or NULL.
 * Key order is free; numbers compare by value. */
static char *json_diff(const cJSON *want, const cJSON *got, const char *path)
{
    if ((want->type & 0xFF) != (got->type & 0xFF)) {
        return mismatch(want, got, path);
    }
    if (cJSON_IsNumber(want)) {
        return want->valuedouble == got->valuedouble ? NULL : mismatch(want, got, path);
    }
    if (cJSON_IsString(want)) {
        size_t i = 0;
        while (want->valuestring[i] && want->valuestring[i] == got->valuestring[i]) {
            i++;
        }
        if (want->valuestring[i] == got->valuestring[i]) {
            return NULL;
        }
        char *m = mismatch(want, got, path);
        char *d = hret_xasprintf("%s (first difference at byte %zu)", m, i);
        free(m);
        return d;
    }
    if (cJSON_IsObject(want)) {
        return object_diff(want, got, path);
    }
    if (!cJSON_IsArray(want)) {
        return NULL; /* true, false, null: the type says it all */
    }
    char *d = NULL;
    int i = 0;
    const cJSON *w = want->child, *g = got->child;
    for (; w && g && !d; w = w->next, g = g->next) {
        char *sub = hret_xasprintf("%s[%d]", path, i++);
        d = json_diff(w, g, sub);
        free(sub);
    }
    if (d == NULL && (w || g)) {
        d = hret_xasprintf("%s: expected %d elements, got %d", path, cJSON_GetArraySize(want),
                           cJSON_GetArraySize(got));
    }
    return d;
}

/* NULL when every key of obj is in allowed (NULL-terminated), else the offending key. */
static char *unknown_key(const cJSON *obj, const char *where, const char *const *allowed)
{
    for (const cJSON *it = obj ? obj->child : NULL; it; it = it->next) {
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], it->string) != 0) {
            i++;
        }
        if (allowed[i] == NULL) {
            return hret_xasprintf("fixture: unknown key %s%s%s", where, *where ? "." : "",
                                  it->string);
        }
    }
    return NULL;
}

static char *err_text(const char *what, const struct hret_err *err)
{
    return hret_xasprintf("fixture: %s: %s", what, err->msg);
}

static char *backend_kind(const cJSON *fx, int *kind)
{
    static const char *const names[] = {"openai_chat", "openai_completions", "anthropic",
                                        "azure_openai"};
    static const int kinds[] = {HRET_BACKEND_OPENAI_CHAT, HRET_BACKEND_OPENAI_COMPLETIONS,
                                HRET_BACKEND_ANTHROPIC, HRET_BACKEND_AZURE_OPENAI};
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(fx, "backend");
    for (size_t i = 0; cJSON_IsString(b) && i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(b->valuestring, names[i]) == 0) {
            *kind = kinds[i];
            return NULL;
        }
    }
    return hret_xstrdup("fixture: backend must be openai_chat, openai_completions, anthropic or "
                        "azure_openai");
}

/* The backend hret_backend_for picks for kind, checked against the fixture's name for it. */
static const struct hret_backend_ops *backend_of(const struct hret_model_config *model,
                                                 const cJSON *fx, char **diff)
{
    const struct hret_backend_ops *ops = hret_backend_for(model);
    const char *want = cJSON_GetObjectItemCaseSensitive(fx, "backend")->valuestring;
    if (strcmp(ops->name, want) != 0) {
        *diff = hret_xasprintf("hret_backend_for: expected %s, got %s", want, ops->name);
        return NULL;
    }
    return ops;
}

/* ---- the folder runner ------------------------------------------------------------------- */

typedef char *(*case_fn)(const cJSON *fixture); /* the difference (caller owns), or NULL */

/* Runs every *.json in dir in name order, one line per case; fails naming every bad file. */
static void run_folder(const char *dir, case_fn run, size_t min_cases)
{
    char folder[4096];
    snprintf(folder, sizeof folder, "%s", hret_test_path(dir));
    DIR *d = opendir(folder);
    if (d == NULL) {
        fail_msg("cannot open %s (is HRET_SOURCE_DIR set?)", folder);
    }
    struct hret_strlist names = {0};
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (has_suffix(e->d_name, ".json")) {
            hret_strlist_push(&names, hret_xstrdup(e->d_name));
        }
    }
    closedir(d);
    if (names.count > 0) {
        qsort(names.items, names.count, sizeof *names.items, compare_names);
    }
    size_t failed = 0;
    char *first = NULL;
    for (size_t i = 0; i < names.count; i++) {
        char *path = hret_xasprintf("%s/%s", folder, names.items[i]);
        struct hret_buf text;
        hret_buf_init(&text, 1 << 20);
        struct hret_err err = HRET_ERR_INIT;
        char *diff = NULL;
        cJSON *fx = NULL;
        if (hret_buf_append_file(&text, path, &err) != HRET_OK) {
            diff = err_text("read", &err);
        } else if ((fx = hret_json_parse(text.data, text.len, text.max, &err)) == NULL) {
            diff = err_text("not JSON", &err);
        } else if (!cJSON_IsObject(fx)) {
            diff = hret_xstrdup("fixture: not a JSON object");
        } else {
            diff = run(fx);
        }
        printf("  %-4s %s/%s%s%s\n", diff ? "FAIL" : "ok", dir, names.items[i], diff ? ": " : "",
               diff ? diff : "");
        if (diff != NULL) {
            failed++;
            if (first == NULL) {
                first = hret_xasprintf("%s/%s: %s", dir, names.items[i], diff);
            }
            free(diff);
        }
        cJSON_Delete(fx);
        hret_buf_fini(&text);
        free(path);
    }
    fflush(stdout);
    size_t total = names.count;
    hret_strlist_fini(&names);
    if (failed > 0) {
        char msg[2048];
        snprintf(msg, sizeof msg, "%zu of %zu fixtures failed; first: %s", failed, total, first);
        free(first);
        fail_msg("%s", msg);
    }
    if (total < min_cases) {
        fail_msg("%s: %zu fixtures, expected at least %zu", dir, total, min_cases);
    }
}

/* ---- prepare ----------------------------------------------------------------------------- */

static const char *const prepare_keys[] = {"comment",
                                           "backend",
                                           "model",
                                           "params",
                                           "prompt",
                                           "expected_url",
                                           "expected_body",
                                           "expected_error",
                                           "expected_auth_header",
                                           "expected_headers",
                                           NULL};
static const char *const model_keys[] = {"name",        "base_url",       "model",
                                         "max_tokens",  "temperature",    "extra_body",
                                         "api_version", "system_message", NULL};
static const char *const params_keys[] = {"max_tokens", "temperature", "top_p",    "seed",
                                          "n",          "stop",        "logprobs", "top_logprobs",
                                          "echo",       "extra_body",  NULL};

static void model_fini(struct hret_model_config *m)
{
    free(m->name);
    free(m->base_url);
    free(m->model);
    free(m->api_version);
    free(m->system_message);
    for (size_t i = 0; i < m->extra_body.count; i++) {
        free(m->extra_body.keys[i]);
        free(m->extra_body.values[i]);
    }
    free(m->extra_body.keys);
    free(m->extra_body.values);
}

/* The model entry as the config loader would fill it: temperature 0 and max_tokens 0 unless
 * given, extra_body as scalar text. */
static char *model_from(const cJSON *fx, struct hret_model_config *m)
{
    const cJSON *j = NULL, *extra = NULL;
    const char *name = "fixture", *base_url = NULL, *model = NULL, *api_version = NULL,
               *system_message = NULL;
    struct hret_err err = HRET_ERR_INIT;
    char *why = backend_kind(fx, &m->backend);
    if (why != NULL) {
        return why;
    }
    if (hret_json_get_object(fx, "model", true, &j, &err) != HRET_OK ||
        hret_json_get_string(j, "name", false, &name, &err) != HRET_OK ||
        hret_json_get_string(j, "base_url", true, &base_url, &err) != HRET_OK ||
        hret_json_get_string(j, "model", true, &model, &err) != HRET_OK ||
        hret_json_get_int(j, "max_tokens", false, &m->max_tokens, &err) != HRET_OK ||
        hret_json_get_double(j, "temperature", false, &m->temperature, &err) != HRET_OK ||
        hret_json_get_object(j, "extra_body", false, &extra, &err) != HRET_OK ||
        hret_json_get_string(j, "api_version", false, &api_version, &err) != HRET_OK ||
        hret_json_get_string(j, "system_message", false, &system_message, &err) != HRET_OK) {
        return err_text("model", &err);
    }
    m->api_version = api_version ? hret_xstrdup(api_version) : NULL;
    m->system_message = system_message ? hret_xstrdup(system_message) : NULL;
    if ((why = unknown_key(j, "model", model_keys)) != NULL) {
        return why;
    }
    m->name = hret_xstrdup(name);
    m->base_url = hret_xstrdup(base_url);
    m->model = hret_xstrdup(model);
    size_t n = (size_t)cJSON_GetArraySize(extra);
    m->extra_body.keys = hret_xcalloc(n + 1, sizeof(char *)); /* + 1: never a 0-byte calloc */
    m->extra_body.values = hret_xcalloc(n + 1, sizeof(char *));
    for (const cJSON *it = extra ? extra->child : NULL; it; it = it->next) {
        if (!cJSON_IsString(it)) {
            return hret_xasprintf("fixture: model.extra_body.%s: config values are strings",
                                  it->string);
        }
        m->extra_body.keys[m->extra_body.count] = hret_xstrdup(it->string);
        m->extra_body.values[m->extra_body.count++] = hret_xstrdup(it->valuestring);
    }
    return NULL;
}

static char *params_from(const cJSON *fx, struct hret_gen_params *p, struct hret_strlist *stop)
{
    const cJSON *j = NULL, *stops = NULL;
    long long max_tokens = 0, seed = 0, n = 0, top_logprobs = 0;
    struct hret_err err = HRET_ERR_INIT;
    p->temperature = NAN;
    p->top_p = NAN;
    if (hret_json_get_object(fx, "params", false, &j, &err) != HRET_OK ||
        hret_json_get_int(j, "max_tokens", false, &max_tokens, &err) != HRET_OK ||
        hret_json_get_double(j, "temperature", false, &p->temperature, &err) != HRET_OK ||
        hret_json_get_double(j, "top_p", false, &p->top_p, &err) != HRET_OK ||
        hret_json_get_int(j, "seed", false, &seed, &err) != HRET_OK ||
        hret_json_get_int(j, "n", false, &n, &err) != HRET_OK ||
        hret_json_get_array(j, "stop", false, &stops, &err) != HRET_OK ||
        hret_json_get_bool(j, "logprobs", false, &p->logprobs, &err) != HRET_OK ||
        hret_json_get_int(j, "top_logprobs", false, &top_logprobs, &err) != HRET_OK ||
        hret_json_get_bool(j, "echo", false, &p->echo, &err) != HRET_OK ||
        hret_json_get_object(j, "extra_body", false, &p->extra_body, &err) != HRET_OK) {
        return err_text("params", &err);
    }
    char *why = unknown_key(j, "params", params_keys);
    if (why != NULL) {
        return why;
    }
    p->max_tokens = (long)max_tokens;
    p->has_seed = cJSON_GetObjectItemCaseSensitive(j, "seed") != NULL;
    p->seed = seed;
    p->n = (long)n;
    p->top_logprobs = (int)top_logprobs;
    for (const cJSON *it = stops ? stops->child : NULL; it; it = it->next) {
        if (!cJSON_IsString(it)) {
            return hret_xstrdup("fixture: params.stop holds strings");
        }
        hret_strlist_push(stop, hret_xstrdup(it->valuestring));
    }
    p->stop = stops ? stop : NULL;
    return NULL;
}

/* The backend's key header (Authorization when it has none) and fixed header lines against
 * expected_auth_header and expected_headers, when the fixture pins them. */
static char *check_headers(const cJSON *fx, const struct hret_backend_ops *ops)
{
    const cJSON *auth = cJSON_GetObjectItemCaseSensitive(fx, "expected_auth_header");
    const cJSON *lines = cJSON_GetObjectItemCaseSensitive(fx, "expected_headers");
    const char *got_auth = ops->key_header ? ops->key_header : "Authorization";
    if (auth != NULL && (!cJSON_IsString(auth) || strcmp(auth->valuestring, got_auth) != 0)) {
        return hret_xasprintf("key header: expected %s, got %s",
                              cJSON_IsString(auth) ? auth->valuestring : "?", got_auth);
    }
    if (lines == NULL) {
        return NULL;
    }
    cJSON *got = cJSON_CreateArray();
    for (const char *const *l = ops->headers; l != NULL && *l != NULL; l++) {
        cJSON_AddItemToArray(got, cJSON_CreateString(*l));
    }
    char *d = json_diff(lines, got, "headers");
    cJSON_Delete(got);
    return d;
}

/* Checks a prepared request against expected_url and expected_body. */
static char *check_request(const cJSON *fx, const struct hret_buf *url, const struct hret_buf *body)
{
    const char *want_url = NULL;
    const cJSON *want_body = NULL;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_json_get_string(fx, "expected_url", true, &want_url, &err) != HRET_OK ||
        hret_json_get_object(fx, "expected_body", true, &want_body, &err) != HRET_OK) {
        return err_text("expected", &err);
    }
    if (strcmp(hret_buf_str(url), want_url) != 0) {
        return hret_xasprintf("url: expected %s, got %s", want_url, hret_buf_str(url));
    }
    cJSON *got = hret_json_parse(body->data, body->len, body->len, &err);
    if (got == NULL) {
        return hret_xasprintf("body is not JSON (%s): %s", err.msg, hret_buf_str(body));
    }
    char *d = json_diff(want_body, got, "body");
    cJSON_Delete(got);
    return d;
}

static char *run_prepare(const cJSON *fx)
{
    struct hret_model_config model = {0};
    struct hret_gen_params params = {0};
    struct hret_strlist stop = {0};
    struct hret_buf url, body;
    hret_buf_init(&url, 4096);
    hret_buf_init(&body, 1 << 20);
    struct hret_err err = HRET_ERR_INIT;
    const char *prompt = NULL, *want_error = NULL;
    const struct hret_backend_ops *ops = NULL;
    char *d = unknown_key(fx, "", prepare_keys);
    if (d != NULL || (d = model_from(fx, &model)) != NULL ||
        (d = params_from(fx, &params, &stop)) != NULL) {
        goto cleanup;
    }
    if (hret_json_get_string(fx, "prompt", true, &prompt, &err) != HRET_OK ||
        hret_json_get_string(fx, "expected_error", false, &want_error, &err) != HRET_OK) {
        d = err_text("prompt", &err);
        goto cleanup;
    }
    if ((ops = backend_of(&model, fx, &d)) == NULL) {
        goto cleanup;
    }
    /* buffers from an earlier request must be replaced, not appended to */
    hret_buf_appendf(&url, NULL, "stale");
    hret_buf_appendf(&body, NULL, "stale");
    enum hret_result r = ops->prepare(&model, &params, prompt, &url, &body, &err);
    if (want_error != NULL) {
        if (cJSON_GetObjectItemCaseSensitive(fx, "expected_body") != NULL) {
            d = hret_xstrdup("fixture: expected_error and expected_body exclude each other");
        } else if (r != HRET_E_INVAL || err.code != HRET_E_INVAL) {
            d = hret_xasprintf("expected an invalid error containing '%s', got %s/%s: %s",
                               want_error, hret_result_name(r), hret_result_name(err.code),
                               err.msg);
        } else if (strstr(err.msg, want_error) == NULL) {
            d = hret_xasprintf("error '%s' does not contain '%s'", err.msg, want_error);
        }
    } else if (r != HRET_OK || err.code != HRET_OK) {
        d = hret_xasprintf("prepare failed: %s: %s", hret_result_name(r), err.msg);
    } else if ((d = check_request(fx, &url, &body)) == NULL) {
        d = check_headers(fx, ops);
    }
cleanup:
    hret_buf_fini(&url);
    hret_buf_fini(&body);
    hret_strlist_fini(&stop);
    model_fini(&model);
    return d;
}

/* ---- parse ------------------------------------------------------------------------------- */

static const char *const parse_keys[] = {"comment",  "backend",        "body",
                                         "expected", "expected_error", NULL};

static cJSON *string_or_null(const char *s)
{
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* The output in the fixture's "expected" shape; logprobs only when the fixture pins them. */
static cJSON *output_json(const struct hret_backend_output *out, const cJSON *want)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "content", string_or_null(out->content));
    if (cJSON_GetObjectItemCaseSensitive(want, "no_text") != NULL) {
        cJSON_AddItemToObject(o, "no_text", string_or_null(out->no_text));
    }
    cJSON_AddItemToObject(o, "finish_reason", string_or_null(out->finish_reason));
    cJSON_AddItemToObject(o, "model", string_or_null(out->model));
    cJSON_AddItemToObject(o, "fingerprint", string_or_null(out->fingerprint));
    cJSON_AddNumberToObject(o, "prompt_tokens", (double)out->prompt_tokens);
    cJSON_AddNumberToObject(o, "completion_tokens", (double)out->completion_tokens);
    cJSON *choices = cJSON_AddArrayToObject(o, "choices");
    for (size_t i = 0; i < out->choices.count; i++) {
        cJSON_AddItemToArray(choices, string_or_null(out->choices.items[i]));
    }
    cJSON_AddBoolToObject(o, "has_logprobs", out->logprobs != NULL);
    if (cJSON_GetObjectItemCaseSensitive(want, "logprobs") != NULL) {
        cJSON_AddItemToObject(o, "logprobs",
                              out->logprobs ? cJSON_Duplicate(out->logprobs, true)
                                            : cJSON_CreateNull());
    }
    return o;
}

static char *run_parse(const cJSON *fx)
{
    struct hret_model_config model = {0};
    const char *text = NULL, *want_error = NULL;
    const cJSON *want = NULL;
    struct hret_err err = HRET_ERR_INIT;
    const struct hret_backend_ops *ops = NULL;
    char *d = unknown_key(fx, "", parse_keys);
    if (d != NULL || (d = backend_kind(fx, &model.backend)) != NULL ||
        (ops = backend_of(&model, fx, &d)) == NULL) {
        return d;
    }
    if (hret_json_get_string(fx, "body", true, &text, &err) != HRET_OK ||
        hret_json_get_string(fx, "expected_error", false, &want_error, &err) != HRET_OK ||
        hret_json_get_object(fx, "expected", want_error == NULL, &want, &err) != HRET_OK) {
        return err_text("body/expected", &err);
    }
    if (want_error != NULL && want != NULL) {
        return hret_xstrdup("fixture: expected_error and expected exclude each other");
    }
    size_t len = 0;
    char *body = exact_copy(text, &len);
    struct hret_backend_output out = {0};
    enum hret_result r = ops->parse(body, len, &out, &err);
    if (want_error != NULL) {
        if (r != HRET_E_PROTO || err.code != HRET_E_PROTO) {
            d = hret_xasprintf("expected a protocol error containing '%s', got %s/%s: %s",
                               want_error, hret_result_name(r), hret_result_name(err.code),
                               err.msg);
        } else if (strstr(err.msg, want_error) == NULL) {
            d = hret_xasprintf("error '%s' does not contain '%s'", err.msg, want_error);
        }
    } else if (r != HRET_OK || err.code != HRET_OK) {
        d = hret_xasprintf("parse failed: %s: %s", hret_result_name(r), err.msg);
    } else {
        cJSON *got = output_json(&out, want);
        d = json_diff(want, got, "output");
        cJSON_Delete(got);
    }
    hret_backend_output_fini(&out); /* also after a failure: parse may have filled part */
    free(body);
    return d;
}

/* ---- error bodies ------------------------------------------------------------------------ */

static const char *const error_keys[] = {"comment", "body", "expected_message", "cap", NULL};

static char *run_error(const cJSON *fx)
{
    const char *text = NULL, *want = NULL;
    long long cap = 512;
    struct hret_err err = HRET_ERR_INIT;
    char *d = unknown_key(fx, "", error_keys);
    if (d != NULL) {
        return d;
    }
    if (hret_json_get_string(fx, "body", true, &text, &err) != HRET_OK ||
        hret_json_get_string(fx, "expected_message", true, &want, &err) != HRET_OK ||
        hret_json_get_int(fx, "cap", false, &cap, &err) != HRET_OK) {
        return err_text("body/expected_message", &err);
    }
    if (cap < 1) {
        return hret_xstrdup("fixture: cap must be >= 1");
    }
    size_t len = 0;
    char *body = exact_copy(text, &len);
    char *msg = hret_xmalloc((size_t)cap); /* exact size: ASan catches a write past cap */
    memset(msg, 'X', (size_t)cap);
    hret_backend_error_message(body, len, msg, (size_t)cap);
    if (memchr(msg, '\0', (size_t)cap) == NULL) {
        d = hret_xasprintf("message not NUL-terminated within cap %lld", cap);
    } else if (strcmp(msg, want) != 0) {
        d = hret_xasprintf("message: expected \"%s\", got \"%s\"", want, msg);
    }
    free(msg);
    free(body);
    return d;
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_backend_prepare_fixtures(void **state)
{
    (void)state;
    run_folder("tests/data/backend/prepare", run_prepare, 10);
}

static void test_backend_parse_fixtures(void **state)
{
    (void)state;
    run_folder("tests/data/backend/parse", run_parse, 14);
}

static void test_backend_error_fixtures(void **state)
{
    (void)state;
    run_folder("tests/data/backend/errors", run_error, 7);
}

static void test_backend_estimate_tokens(void **state)
{
    (void)state;
    char prompt[4001];
    long prev = 0;
    for (size_t n = 0; n < sizeof prompt; n += 7) {
        memset(prompt, 'a', n);
        prompt[n] = '\0';
        long est = hret_backend_estimate_tokens(prompt, 100);
        if (est < prev) {
            fail_msg("estimate not monotonic: %zu bytes -> %ld, fewer bytes -> %ld", n, est, prev);
        }
        assert_true(est >= 100); /* the completion budget is part of the estimate */
        prev = est;
    }
    assert_true(hret_backend_estimate_tokens(prompt, 100) >
                hret_backend_estimate_tokens("a", 100) + 100);
    /* more completion budget, more tokens; exactly the difference in max_tokens */
    const char *ko = "다음 질문에 답하시오. 대한민국의 수도는?";
    assert_int_equal(hret_backend_estimate_tokens(ko, 1000) - hret_backend_estimate_tokens(ko, 10),
                     990);
    /* no max_tokens: still a positive budget beyond the prompt */
    assert_true(hret_backend_estimate_tokens(ko, 0) > hret_backend_estimate_tokens(ko, 1));
    assert_true(hret_backend_estimate_tokens("", 0) > 0);
}

static void test_backend_for_picks_the_vtable(void **state)
{
    (void)state;
    struct hret_model_config m = {0};
    m.backend = HRET_BACKEND_OPENAI_CHAT;
    assert_ptr_equal(hret_backend_for(&m), &hret_backend_openai_chat);
    m.backend = HRET_BACKEND_OPENAI_COMPLETIONS;
    assert_ptr_equal(hret_backend_for(&m), &hret_backend_openai_completions);
    m.backend = HRET_BACKEND_ANTHROPIC;
    assert_ptr_equal(hret_backend_for(&m), &hret_backend_anthropic);
    m.backend = HRET_BACKEND_AZURE_OPENAI;
    assert_ptr_equal(hret_backend_for(&m), &hret_backend_azure_openai);
    assert_string_equal(hret_backend_openai_chat.name, "openai_chat");
    assert_string_equal(hret_backend_openai_completions.name, "openai_completions");
    assert_string_equal(hret_backend_anthropic.name, "anthropic");
    assert_string_equal(hret_backend_azure_openai.name, "azure_openai");
    const struct hret_backend_ops *all[] = {&hret_backend_openai_chat,
                                            &hret_backend_openai_completions,
                                            &hret_backend_anthropic, &hret_backend_azure_openai};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        assert_non_null(all[i]->prepare);
        assert_non_null(all[i]->parse);
    }
    /* fini on a zeroed output is a no-op, and leaves it zeroed */
    struct hret_backend_output out = {0};
    hret_backend_output_fini(&out);
    assert_null(out.content);
    assert_int_equal(out.choices.count, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backend_prepare_fixtures),
        cmocka_unit_test(test_backend_parse_fixtures),
        cmocka_unit_test(test_backend_error_fixtures),
        cmocka_unit_test(test_backend_estimate_tokens),
        cmocka_unit_test(test_backend_for_picks_the_vtable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
