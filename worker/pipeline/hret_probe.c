#include "hret_probe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_backend.h"
#include "hret_clock.h"
#include "hret_http.h"
#include "hret_json.h"
#include "hret_logprobs.h"
#include "hret_mem.h"
#include "hret_run.h"

/* Korean and ASCII, so the offsets of an echo tell bytes from characters. */
#define PROBE_PROMPT "대한민국의 수도는 서울이다. The capital of Korea is Seoul."
#define CHAT_PROMPT "Reply with the single word OK."

enum call_kind { CALL_MODELS, CALL_ECHO, CALL_CHAT, CALL_ANSWER, CALL_COMPLETE };

struct call {
    enum call_kind kind;
    const struct hret_model_config *model;
    struct hret_probe_report *rep;
    bool done;
};

void hret_probe_report_fini(struct hret_probe_report *r)
{
    hret_strlist_fini(&r->served);
    free(r->models_detail);
    free(r->echo_detail);
    free(r->chat_detail);
    free(r->chat_answer_detail);
    free(r->completions_detail);
    memset(r, 0, sizeof *r);
}

static const cJSON *array_member(const cJSON *obj, const char *key)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsArray(a) ? a : NULL;
}

/* ---- the probe's requests ---- */

static char *failure_text(const struct hret_http_result *r)
{
    char detail[256];
    hret_backend_error_message(r->body, r->body_len, detail, sizeof detail);
    return *detail ? hret_xasprintf("%s: %s", r->error, detail) : hret_xstrdup(r->error);
}

static void read_models(struct call *c, const struct hret_http_result *r)
{
    struct hret_probe_report *rep = c->rep;
    cJSON *root = hret_json_parse(r->body, r->body_len, r->body_len + 1, NULL);
    const cJSON *data = array_member(root, "data");
    if (data == NULL) {
        rep->models_detail = hret_xstrdup("GET /models answered, but not with a model list");
        cJSON_Delete(root);
        return;
    }
    for (const cJSON *m = data->child; m != NULL; m = m->next) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
        if (cJSON_IsString(id)) {
            hret_strlist_push(&rep->served, hret_xstrdup(id->valuestring));
            rep->model_listed |= strcmp(id->valuestring, c->model->model) == 0;
        }
    }
    rep->models_detail =
        hret_xasprintf("HTTP %ld, %zu model(s) listed", r->status, rep->served.count);
    cJSON_Delete(root);
}

static const struct hret_backend_ops *backend_of(const struct call *c)
{
    switch (c->kind) {
    case CALL_ECHO:
    case CALL_COMPLETE:
        return &hret_backend_openai_completions;
    case CALL_ANSWER:
        return hret_backend_for(c->model);
    default:
        return &hret_backend_openai_chat;
    }
}

static char **detail_of(struct call *c)
{
    struct hret_probe_report *rep = c->rep;
    switch (c->kind) {
    case CALL_MODELS:
        return &rep->models_detail;
    case CALL_ECHO:
        return &rep->echo_detail;
    case CALL_ANSWER:
        return &rep->chat_answer_detail;
    case CALL_COMPLETE:
        return &rep->completions_detail;
    default:
        return &rep->chat_detail;
    }
}

/* A plain answer, judged as hret run judges it: text, or the error a sample would record. */
static void read_plain(struct call *c, const struct hret_http_result *r)
{
    struct hret_backend_output out = {0};
    struct hret_err err = HRET_ERR_INIT;
    bool ok = false;
    char *detail;
    if (backend_of(c)->parse(r->body, r->body_len, &out, &err) != HRET_OK) {
        detail = hret_xstrdup(err.msg);
    } else if (out.no_text != NULL) {
        detail = hret_xasprintf("no text in the reply: %s", out.no_text);
    } else {
        ok = true;
        detail = hret_xasprintf("answered \"%.40s\"", out.content);
    }
    hret_backend_output_fini(&out);
    *(c->kind == CALL_ANSWER ? &c->rep->chat_answers : &c->rep->completions_answer) = ok;
    *detail_of(c) = detail;
}

static void read_answer(struct call *c, const struct hret_http_result *r)
{
    if (c->kind == CALL_ANSWER || c->kind == CALL_COMPLETE) {
        read_plain(c, r);
        return;
    }
    struct hret_probe_report *rep = c->rep;
    const struct hret_backend_ops *backend =
        c->kind == CALL_ECHO ? &hret_backend_openai_completions : &hret_backend_openai_chat;
    struct hret_backend_output out = {0};
    struct hret_err err = HRET_ERR_INIT;
    char why[256];
    bool ok = false;
    if (backend->parse(r->body, r->body_len, &out, &err) != HRET_OK) {
        snprintf(why, sizeof why, "%s", err.msg);
    } else if (c->kind == CALL_ECHO) {
        ok = hret_logprobs_echo_ok(out.logprobs, out.prompt_tokens, why, sizeof why);
    } else {
        ok = hret_logprobs_chat_ok(out.logprobs, why, sizeof why);
    }
    hret_backend_output_fini(&out);
    if (c->kind == CALL_ECHO) {
        rep->echo_logprobs = ok;
        rep->echo_detail = hret_xstrdup(why);
    } else {
        rep->chat_logprobs = ok;
        rep->chat_detail = hret_xstrdup(why);
    }
}

static bool is_openai(const struct hret_model_config *m)
{
    return m->backend == HRET_BACKEND_OPENAI_CHAT || m->backend == HRET_BACKEND_OPENAI_COMPLETIONS;
}

static enum hret_result on_done(void *user, const struct hret_http_result *r)
{
    struct call *c = user;
    c->done = true;
    if (c->model->backend == HRET_BACKEND_AZURE_OPENAI && c->kind == CALL_ANSWER) {
        c->rep->reachable = r->status > 0; /* no listing: the deployment's answer tells */
    }
    if (c->kind == CALL_MODELS) {
        c->rep->models_status = r->status;
        c->rep->reachable = r->status > 0;
        if (r->code == HRET_OK) {
            read_models(c, r);
        } else {
            c->rep->models_detail = failure_text(r);
        }
        return HRET_OK;
    }
    if (r->code == HRET_OK) {
        read_answer(c, r);
    } else {
        *detail_of(c) = failure_text(r);
    }
    return HRET_OK;
}

/* Submits one probe request; the prepared URL and body are copied by the engine. */
static void submit(struct hret_http *h, int pool, struct call *c, const struct hret_gen_params *g)
{
    struct hret_buf url, body;
    hret_buf_init(&url, 8192);
    hret_buf_init(&body, 1 << 20);
    struct hret_err err = HRET_ERR_INIT;
    enum hret_result r;
    if (c->kind == CALL_MODELS) { /* Anthropic's base has no /v1, as its messages route says */
        bool anthropic = c->model->backend == HRET_BACKEND_ANTHROPIC;
        r = hret_backend_url(c->model, anthropic ? "/v1/models" : "/models", &url, &err);
    } else {
        r = backend_of(c)->prepare(c->model, g, c->kind == CALL_ECHO ? PROBE_PROMPT : CHAT_PROMPT,
                                   &url, &body, &err);
    }
    struct hret_http_request req = {
        .url = hret_buf_str(&url),
        .body = c->kind == CALL_MODELS ? NULL : body.data,
        .body_len = body.len,
        .est_tokens = 64,
    };
    if (r != HRET_OK || hret_http_submit(h, pool, &req, on_done, c, &err) != HRET_OK) {
        *detail_of(c) = hret_xasprintf("cannot send the request: %s", err.msg);
        c->done = true;
    }
    hret_buf_fini(&url);
    hret_buf_fini(&body);
}

/* What the Anthropic and Azure APIs do not have, said before the probe so nothing is sent for
 * it: OpenAI's /completions (echo+logprobs, plain completions); Azure lists base models, not
 * the deployment, so the deployment's own answer stands for the listing. */
static void not_applicable(const struct hret_model_config *model, struct hret_probe_report *out)
{
    if (is_openai(model)) {
        return;
    }
    const char *api = hret_backend_for(model)->name;
    out->echo_detail = hret_xasprintf("not applicable: the %s API has no /completions with "
                                      "echo",
                                      api);
    out->completions_detail = hret_xasprintf("not applicable: the %s API has no /completions", api);
    if (model->backend == HRET_BACKEND_AZURE_OPENAI) {
        out->model_listed = true;
        out->models_detail = hret_xstrdup("not checked: Azure OpenAI lists base models, not "
                                          "deployments; the chat answer below uses the "
                                          "deployment");
    }
}

enum hret_result hret_probe_run(const struct hret_model_config *model, bool check_chat,
                                bool check_answers, struct hret_probe_report *out,
                                struct hret_err *err)
{
    struct hret_http_limits limits;
    hret_run_limits(model, &limits);
    limits.max_retries = limits.max_retries > 1 ? 1 : limits.max_retries;
    struct hret_http *h = hret_http_new(err);
    if (h == NULL) {
        return HRET_E_FATAL;
    }
    int pool = hret_http_add_pool(h, &limits, err);
    if (pool < 0) {
        hret_http_destroy(h);
        return HRET_E_CONFIG;
    }
    double start = hret_clock_now_ms();
    cJSON *echo_extra = cJSON_CreateObject();
    cJSON_AddNumberToObject(echo_extra, "max_tokens", 0);
    cJSON_AddNumberToObject(echo_extra, "temperature", 0);
    struct hret_gen_params echo = {.temperature = 0,
                                   .top_p = NAN,
                                   .logprobs = true,
                                   .top_logprobs = 1,
                                   .echo = true,
                                   .extra_body = echo_extra};
    struct hret_gen_params chat = {
        .max_tokens = 1, .temperature = 0, .top_p = NAN, .logprobs = true, .top_logprobs = 1};
    struct hret_gen_params plain = {.max_tokens = 16, .temperature = 0, .top_p = NAN};
    struct call calls[5] = {{CALL_MODELS, model, out, false},
                            {CALL_ECHO, model, out, false},
                            {CALL_CHAT, model, out, false},
                            {CALL_ANSWER, model, out, false},
                            {CALL_COMPLETE, model, out, false}};
    bool openai = is_openai(model);
    out->chat_checked = check_chat && openai;
    not_applicable(model, out);
    for (int i = 0; i < 5; i++) {
        bool applies = openai || i == CALL_ANSWER ||
                       (i == CALL_MODELS && model->backend != HRET_BACKEND_AZURE_OPENAI);
        if (applies && (i != CALL_CHAT || check_chat) && (i < CALL_ANSWER || check_answers)) {
            submit(h, pool, &calls[i], i == CALL_ECHO ? &echo : i == CALL_CHAT ? &chat : &plain);
        }
    }
    while (hret_http_run(h, 100) > 0) {
    }
    cJSON_Delete(echo_extra);
    hret_http_destroy(h);
    out->elapsed_ms = hret_clock_now_ms() - start;
    if (out->models_detail == NULL) {
        out->models_detail = hret_xstrdup("no answer");
    }
    if (out->echo_detail == NULL) {
        out->echo_detail = hret_xstrdup("no answer");
    }
    if (check_chat && out->chat_detail == NULL) {
        out->chat_detail = hret_xstrdup("no answer");
    }
    char **answers[] = {&out->chat_answer_detail, &out->completions_detail};
    for (size_t i = 0; i < 2; i++) {
        *answers[i] = *answers[i] ? *answers[i] : hret_xstrdup("no answer");
    }
    return HRET_OK;
}

enum hret_result hret_probe_require_echo(const struct hret_model_config *model,
                                         struct hret_err *err)
{
    struct hret_probe_report rep = {0};
    enum hret_result r = hret_probe_run(model, false, false, &rep, err);
    if (r == HRET_OK && !rep.echo_logprobs) {
        r = hret_err_set(err, HRET_E_UNAVAILABLE,
                         "model '%s' (%s at %s) cannot be scored by log_likelihood: /completions "
                         "with echo+logprobs did not return prompt log-probabilities (%s). It "
                         "needs a server that does (vLLM; not llama.cpp or TGI); use "
                         "string_match instead. hret probe --model %s shows what the endpoint "
                         "supports.",
                         model->name, model->model, model->base_url, rep.echo_detail, model->name);
    }
    hret_probe_report_fini(&rep);
    return r;
}

cJSON *hret_probe_report_json(const struct hret_model_config *model,
                              const struct hret_probe_report *r)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "model", model->name);
    cJSON_AddStringToObject(j, "model_id", model->model);
    cJSON_AddStringToObject(j, "base_url", model->base_url);
    cJSON_AddBoolToObject(j, "reachable", r->reachable);
    cJSON_AddNumberToObject(j, "models_status", (double)r->models_status);
    cJSON_AddItemToObject(
        j, "served_models",
        cJSON_CreateStringArray((const char *const *)r->served.items, (int)r->served.count));
    cJSON_AddBoolToObject(j, "model_listed", r->model_listed);
    cJSON_AddBoolToObject(j, "supports_echo_logprobs", r->echo_logprobs);
    cJSON_AddItemToObject(j, "supports_chat_logprobs",
                          r->chat_checked ? cJSON_CreateBool(r->chat_logprobs)
                                          : cJSON_CreateNull());
    cJSON *d = cJSON_AddObjectToObject(j, "details");
    cJSON_AddStringToObject(d, "models", r->models_detail ? r->models_detail : "");
    cJSON_AddStringToObject(d, "echo_logprobs", r->echo_detail ? r->echo_detail : "");
    if (r->chat_checked) {
        cJSON_AddStringToObject(d, "chat_logprobs", r->chat_detail ? r->chat_detail : "");
    }
    cJSON_AddBoolToObject(j, "chat_answers", r->chat_answers);
    cJSON_AddBoolToObject(j, "completions_answer", r->completions_answer);
    cJSON_AddStringToObject(d, "chat_answers", r->chat_answer_detail ? r->chat_answer_detail : "");
    cJSON_AddStringToObject(d, "completions", r->completions_detail ? r->completions_detail : "");
    cJSON_AddNumberToObject(j, "elapsed_ms", round(r->elapsed_ms * 10) / 10);
    return j;
}
