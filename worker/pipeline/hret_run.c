#include "hret_run.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_budget.h"
#include "hret_clock.h"
#include "hret_eval_external.h"
#include "hret_hash.h"
#include "hret_judge.h"
#include "hret_mem.h"
#include "hret_ops.h"
#include "hret_logprobs.h"
#include "hret_run_state.h"
#include "hret_utf8.h"

void hret_run_report_fini(struct hret_run_report *r)
{
    free(r->served_model);
    free(r->fingerprint);
    memset(r, 0, sizeof *r);
}

size_t hret_run_majority(const char *const *answers, size_t count, size_t *votes)
{
    size_t best = 0, best_votes = 0;
    for (size_t i = 0; i < count; i++) {
        size_t v = 0;
        for (size_t j = 0; j < count; j++) {
            v += strcmp(answers[i], answers[j]) == 0;
        }
        if (v > best_votes) { /* strictly more: ties stay with the first seen */
            best = i;
            best_votes = v;
        }
    }
    if (votes != NULL) {
        *votes = best_votes;
    }
    return best;
}

static void note_served(struct hret_run_report *rep, const struct hret_backend_output *out)
{
    if (out->model != NULL) {
        if (rep->served_model == NULL) {
            rep->served_model = hret_xstrdup(out->model);
        } else if (strcmp(rep->served_model, out->model) != 0) {
            rep->served_model_changed = true;
        }
    }
    if (out->fingerprint != NULL && rep->fingerprint == NULL) {
        rep->fingerprint = hret_xstrdup(out->fingerprint);
    }
}

/* ---- requests ---- */

static void cache_key(const struct hret_backend_ops *backend, const struct hret_model_config *model,
                      const char *body, size_t len, const char *salt, char out[65])
{
    struct hret_buf b;
    hret_buf_init(&b, len + 4096);
    hret_buf_appendf(&b, NULL, "%s\n%s\n%s\n", backend->name, model->base_url, model->model);
    hret_buf_append(&b, body, len, NULL);
    if (*salt) {
        hret_buf_appendf(&b, NULL, "\n%s", salt);
    }
    hret_hash_sha256_hex(b.data, b.len, out);
    hret_buf_fini(&b);
}

void hret_run_cache_key(const struct hret_model_config *model, const char *body, size_t len,
                        char out[65])
{
    cache_key(hret_backend_for(model), model, body, len, "", out);
}

static void stage_complete(struct run *run, size_t idx);

static void part_finished(struct run *run, size_t idx)
{
    if (--run->jobs[idx].pending == 0) {
        stage_complete(run, idx);
    }
}

enum accept { ACCEPT_OK, ACCEPT_MALFORMED, ACCEPT_UNUSABLE };

/* Log-likelihood: one option's sum from its echo; a missing echo fails the run. */
static enum accept accept_loglik(struct run *run, const struct req *q,
                                 const struct hret_backend_output *out)
{
    const struct hret_sample *s = run->jobs[q->idx].s;
    struct hret_outcome *o = run->jobs[q->idx].o;
    char *prompt = hret_xasprintf("%s %s", s->input, s->options.items[q->part]);
    struct hret_err err = HRET_ERR_INIT;
    enum hret_result r =
        hret_logprobs_continuation(out->logprobs, prompt, strlen(s->input), out->prompt_tokens,
                                   &o->option_logprobs[q->part], NULL, &err);
    free(prompt);
    if (r == HRET_OK) {
        return ACCEPT_OK;
    }
    const struct hret_model_config *m = run->p->model;
    hret_err_set(&run->fatal, HRET_E_PROTO,
                 "model '%s' (%s at %s): log_likelihood needs prompt log-probabilities from "
                 "/completions with echo+logprobs, and the endpoint did not return them: %s. "
                 "Servers that do: vLLM; llama.cpp and TGI do not (see hret probe)",
                 m->name, m->model, m->base_url, err.msg);
    hret_run_fail(o, HRET_E_PROTO, "no prompt log-probabilities", err.msg);
    return ACCEPT_UNUSABLE;
}

/* Takes what a 2xx body says for the request's stage. */
static enum accept accept_body(struct run *run, struct req *q, const char *body, size_t len)
{
    struct hret_outcome *o = run->jobs[q->idx].o;
    struct hret_backend_output out = {0};
    struct hret_err err = HRET_ERR_INIT;
    if (q->backend->parse(body, len, &out, &err) != HRET_OK) {
        hret_backend_output_fini(&out);
        return ACCEPT_MALFORMED;
    }
    enum accept a = ACCEPT_OK;
    q->used_tokens = out.prompt_tokens + out.completion_tokens;
    q->tokens_in = out.prompt_tokens;
    q->tokens_out = out.completion_tokens;
    if (out.no_text != NULL && run->p->mode != HRET_RUN_LOGLIK) { /* an error, never an answer */
        hret_run_fail(o, HRET_E_PROTO,
                      q->stage == STAGE_JUDGE ? "judge: no text in the reply"
                                              : "no text in the reply",
                      out.no_text);
        hret_backend_output_fini(&out);
        return ACCEPT_UNUSABLE;
    }
    if (q->stage == STAGE_JUDGE) {
        o->judge_output = out.content;
        out.content = NULL;
        enum hret_judge_type t = HRET_JUDGE_K2_EVAL;
        hret_judge_type_parse(o->judge_type, &t);
        hret_judge_parse(t, o->judge_output, run->jobs[q->idx].s->reference, &o->verdict);
        hret_backend_output_fini(&out);
        return ACCEPT_OK;
    }
    note_served(run->report, &out);
    o->prompt_tokens += out.prompt_tokens;
    o->completion_tokens += out.completion_tokens;
    if (run->p->mode == HRET_RUN_LOGLIK) {
        a = accept_loglik(run, q, &out);
    } else if (run->p->paths > 1) {
        if (o->finish_reason == NULL) {
            o->finish_reason = out.finish_reason;
            out.finish_reason = NULL;
        }
        for (size_t i = 0; i < out.choices.count && o->paths.count < run->p->paths; i++) {
            hret_strlist_push(&o->paths, out.choices.items[i]);
            out.choices.items[i] = hret_xstrdup("");
        }
    } else {
        o->prediction = out.content;
        out.content = NULL;
        free(o->finish_reason);
        o->finish_reason = out.finish_reason;
        out.finish_reason = NULL;
    }
    hret_backend_output_fini(&out);
    return a;
}

static void req_free(struct run *run, struct req *q)
{
    if (q->prev != NULL) {
        q->prev->next = q->next;
    } else {
        run->reqs = q->next;
    }
    if (q->next != NULL) {
        q->next->prev = q->prev;
    }
    run->live--;
    free(q);
}

static void submit_more(struct run *run);

static enum hret_result on_answer(void *user, const struct hret_http_result *r)
{
    struct req *q = user;
    struct run *run = q->run;
    struct hret_outcome *o = run->jobs[q->idx].o;
    const struct hret_model_config *model =
        q->stage == STAGE_JUDGE ? run->p->judge_model : run->p->model;
    struct hret_ops_model *ops = q->stage == STAGE_JUDGE ? run->judge_ops : run->ops;
    if (r->code == HRET_OK) {
        enum accept a = accept_body(run, q, r->body, r->body_len);
        if (a == ACCEPT_MALFORMED) {
            return HRET_AGAIN; /* the engine retries within the budget */
        }
        hret_http_adjust_tokens(run->http, q->pool, q->used_tokens - q->est_tokens);
        hret_ops_endpoint_tokens(ops, q->tokens_in, q->tokens_out,
                                 (q->tokens_in * model->price_input_per_1m +
                                  q->tokens_out * model->price_output_per_1m) /
                                     1e6);
        if (a == ACCEPT_OK && run->p->cache != NULL) {
            run->p->cache->store(run->p->cache->user, q->key, r->body, r->body_len);
        }
    } else {
        char detail[256];
        hret_backend_error_message(r->body, r->body_len, detail, sizeof detail);
        char *what = hret_xasprintf("%s%s", q->stage == STAGE_JUDGE ? "judge: " : "", r->error);
        hret_run_fail(o, r->code, what, detail);
        free(what);
    }
    hret_ops_endpoint_inflight(ops, -1);
    hret_ops_endpoint_request(ops, r->status, r->timing.total_ms / 1000.0);
    if (q->stage == STAGE_ANSWER || o->latency_ms == 0) { /* judge only: judge latency */
        o->latency_ms = fmax(o->latency_ms, r->timing.total_ms);
    }
    o->attempts += r->attempts;
    size_t idx = q->idx;
    req_free(run, q);
    part_finished(run, idx);
    submit_more(run);
    return HRET_OK;
}

/* The salt of a request's cache key: the request's own, plus the run's scope when the policy
 * does not share it with other runs (a sampled answer is reused only by its own run). Caller
 * owns result. */
static char *scoped_salt(const struct hret_run_params *p, const struct hret_model_config *model,
                         const struct hret_gen_params *g, const char *salt)
{
    double t = isnan(g->temperature) ? model->temperature : g->temperature;
    bool deterministic = t <= 0 || g->has_seed;
    bool shared = p->cache_policy == HRET_CACHE_ALWAYS ||
                  (p->cache_policy == HRET_CACHE_DETERMINISTIC && deterministic);
    if (shared || p->cache_scope == NULL) {
        return hret_xstrdup(salt);
    }
    return hret_xasprintf("%s\nrun=%s", salt, p->cache_scope);
}

/* Prepares and sends one request of a sample (answered from the cache when it can be). */
static void send(struct run *run, size_t idx, enum stage stage, unsigned part, const char *prompt,
                 const struct hret_gen_params *g, const char *salt)
{
    const struct hret_run_params *p = run->p;
    const struct hret_model_config *model = stage == STAGE_JUDGE ? p->judge_model : p->model;
    if (run->fatal.code != HRET_OK) {
        return; /* the run failed: nothing more is sent */
    }
    struct req *q = hret_xcalloc(1, sizeof *q);
    *q = (struct req){.run = run, .idx = idx, .part = part, .stage = stage};
    q->pool = stage == STAGE_JUDGE ? run->judge_pool : run->pool;
    q->backend = stage == STAGE_JUDGE         ? hret_backend_for(model)
                 : p->mode == HRET_RUN_LOGLIK ? &hret_backend_openai_completions
                                              : run->backend;
    q->next = run->reqs;
    if (run->reqs != NULL) {
        run->reqs->prev = q;
    }
    run->reqs = q;
    run->live++;
    run->jobs[idx].pending++;
    struct hret_err err = HRET_ERR_INIT;
    if (q->backend->prepare(model, g, prompt, &run->url, &run->body, &err) != HRET_OK) {
        hret_run_fail(run->jobs[idx].o, err.code, "cannot build the request", err.msg);
        req_free(run, q);
        part_finished(run, idx);
        return;
    }
    const struct hret_run_cache *c = p->cache;
    if (c != NULL) {
        char *scoped = scoped_salt(p, model, g, salt);
        cache_key(q->backend, model, run->body.data, run->body.len, scoped, q->key);
        free(scoped);
        size_t len = 0;
        char *body = c->lookup(c->user, q->key, &len);
        enum accept a = body != NULL ? accept_body(run, q, body, len) : ACCEPT_MALFORMED;
        free(body);
        if (a != ACCEPT_MALFORMED) {
            run->report->cache_hits++;
            req_free(run, q);
            part_finished(run, idx);
            return;
        }
    }
    q->est_tokens = hret_backend_estimate_tokens(prompt, g->max_tokens) * (g->n > 1 ? g->n : 1);
    struct hret_http_request hr = {
        .url = hret_buf_str(&run->url),
        .body = run->body.data,
        .body_len = run->body.len,
        .est_tokens = q->est_tokens,
    };
    if (hret_http_submit(run->http, q->pool, &hr, on_answer, q, &err) != HRET_OK) {
        hret_run_fail(run->jobs[idx].o, err.code, "cannot send the request", err.msg);
        req_free(run, q);
        part_finished(run, idx);
        return;
    }
    hret_ops_endpoint_inflight(stage == STAGE_JUDGE ? run->judge_ops : run->ops, 1);
}

static const char *meta_string(const struct hret_sample *s, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(s->metadata, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void start_judge(struct run *run, size_t idx)
{
    const struct hret_sample *s = run->jobs[idx].s;
    struct hret_outcome *o = run->jobs[idx].o;
    enum hret_judge_type t = (enum hret_judge_type)run->p->judge_type;
    hret_judge_type_parse(meta_string(s, "judge_type"), &t);
    struct hret_judge_input in = {s->input, o->prediction, s->reference,
                                  meta_string(s, "model_response_b"), meta_string(s, "rubric")};
    o->judge_type = hret_judge_type_name(t);
    o->judge_prompt = hret_judge_prompt(t, &in);
    struct hret_gen_params g = {.temperature = 0, .top_p = NAN};
    run->jobs[idx].stage = STAGE_JUDGE;
    run->jobs[idx].pending++; /* held while sending */
    send(run, idx, STAGE_JUDGE, 0, o->judge_prompt, &g, "");
    part_finished(run, idx);
}

/* A sample's answer prompt: its input and the run's prompt suffix, the input itself when there
 * is no suffix (*owned NULL), else a new string in *owned (caller frees). */
static const char *answer_prompt(const struct run *run, const struct hret_sample *s, char **owned)
{
    const char *suffix = run->p->prompt_suffix;
    *owned = NULL;
    if (suffix == NULL || suffix[0] == '\0') {
        return s->input;
    }
    size_t n = strlen(s->input), k = strlen(suffix);
    *owned = hret_xmalloc(n + k + 1);
    memcpy(*owned, s->input, n);
    memcpy(*owned + n, suffix, k + 1);
    return *owned;
}

/* Self-consistency: one request per path the first answer did not bring. */
static void top_up(struct run *run, size_t idx)
{
    const struct hret_sample *s = run->jobs[idx].s;
    struct hret_gen_params g = run->p->gen;
    g.n = 1;
    run->jobs[idx].pending++;
    char *owned;
    const char *prompt = answer_prompt(run, s, &owned);
    for (size_t i = run->jobs[idx].o->paths.count; i < run->p->paths; i++) {
        char salt[32];
        snprintf(salt, sizeof salt, "path=%zu", i);
        send(run, idx, STAGE_ANSWER, (unsigned)i, prompt, &g, salt);
    }
    free(owned);
    part_finished(run, idx);
}

static void stage_complete(struct run *run, size_t idx)
{
    const struct hret_run_params *p = run->p;
    struct hret_outcome *o = run->jobs[idx].o;
    if (o->error_code != HRET_OK || run->jobs[idx].stage == STAGE_JUDGE) {
        hret_run_finish(run, idx);
        return;
    }
    if (p->mode == HRET_RUN_LOGLIK) {
        hret_run_pick_option(run, idx);
    } else if (p->paths > 1 && o->paths.count < p->paths) {
        top_up(run, idx);
        return;
    } else if (p->paths > 1) {
        hret_run_vote(run, idx);
    } else if (p->judge_model == NULL) {
        hret_run_score(run, idx, o->prediction, &o->verdict);
    }
    if (p->judge_model != NULL && o->error_code == HRET_OK) {
        start_judge(run, idx);
        return;
    }
    hret_run_finish(run, idx);
}

static void start_sample(struct run *run, size_t idx)
{
    const struct hret_run_params *p = run->p;
    struct job *j = &run->jobs[idx];
    if (run->src->get(run->src->user, idx, &j->s, &j->o, &run->fatal) != HRET_OK) {
        j->s = NULL;
        j->o = NULL;
        return; /* the run fails with the source's error */
    }
    const struct hret_sample *s = j->s;
    struct hret_outcome *o = j->o;
    o->language_penalizer = NAN;
    const char *prefilled = p->judge_model ? meta_string(s, "prediction") : NULL;
    if (prefilled != NULL) { /* KUDGE: judge the given response, do not call the model */
        o->prediction = hret_xstrdup(prefilled);
        start_judge(run, idx);
        return;
    }
    run->jobs[idx].pending++; /* held while sending */
    if (p->mode == HRET_RUN_LOGLIK) {
        if (s->options.count == 0) {
            hret_run_fail(o, HRET_E_INVAL, "log_likelihood needs options; this sample has none",
                          "");
        }
        o->n_option_logprobs = s->options.count;
        o->option_logprobs = hret_xcalloc(s->options.count + 1, sizeof *o->option_logprobs);
        struct hret_gen_params g = {.temperature = 0,
                                    .top_p = NAN,
                                    .logprobs = true,
                                    .top_logprobs = 1,
                                    .echo = true,
                                    .extra_body = run->loglik_extra};
        for (size_t i = 0; i < s->options.count; i++) {
            char *prompt = hret_xasprintf("%s %s", s->input, s->options.items[i]);
            send(run, idx, STAGE_ANSWER, (unsigned)i, prompt, &g, "");
            free(prompt);
        }
    } else {
        struct hret_gen_params g = p->gen;
        g.n = p->paths > 1 ? p->paths : g.n;
        char *owned;
        send(run, idx, STAGE_ANSWER, 0, answer_prompt(run, s, &owned), &g, "");
        free(owned);
    }
    part_finished(run, idx);
}

static bool stopping(const struct run *run)
{
    return (run->p->stop && *run->p->stop) || run->fatal.code != HRET_OK;
}

static void submit_more(struct run *run)
{
    size_t inflight = (size_t)run->p->model->max_inflight;
    size_t window = inflight + (inflight < WINDOW_AHEAD_MAX ? inflight : WINDOW_AHEAD_MAX);
    while (run->next < run->count && run->live < window && !stopping(run)) {
        start_sample(run, run->next++);
    }
}

/* Every sample started and every request of the run's engine on the wire (none queued on the
 * limits nor waiting to be retried). */
static bool all_sent(const struct run *run)
{
    if (run->next < run->count || stopping(run)) {
        return false;
    }
    struct hret_http_stats st;
    hret_http_stats(run->http, run->pool, &st);
    long inflight = st.inflight;
    if (run->p->judge_model != NULL) {
        hret_http_stats(run->http, run->judge_pool, &st);
        inflight += st.inflight;
    }
    return run->live <= (size_t)inflight;
}

void hret_run_limits(const struct hret_model_config *m, struct hret_http_limits *l)
{
    hret_backend_limits(m, hret_backend_for(m), l);
}

/* The model's pool: its limits, with the process's shared budget of the model as the gate (the
 * budget keeps max_inflight, rpm and tpm for every run of the model in the process together). */
static int add_pool(struct run *run, const struct hret_model_config *m, struct hret_budget **budget,
                    struct hret_err *err)
{
    struct hret_http_limits limits;
    hret_run_limits(m, &limits);
    limits.rpm = limits.tpm = 0; /* the budget's */
    *budget = hret_budget_get(m);
    struct hret_http_gate gate;
    hret_budget_gate(*budget, &gate);
    limits.gate = &gate;
    return hret_http_add_pool(run->http, &limits, err);
}

static void teardown(struct run *run)
{
    hret_http_destroy(run->http); /* abandons in-flight requests after a stop */
    hret_budget_put(run->budget);
    hret_budget_put(run->judge_budget);
    while (run->reqs != NULL) { /* sent and never answered */
        hret_ops_endpoint_inflight(run->reqs->stage == STAGE_JUDGE ? run->judge_ops : run->ops, -1);
        req_free(run, run->reqs);
    }
    hret_buf_fini(&run->url);
    hret_buf_fini(&run->body);
    cJSON_Delete(run->loglik_extra);
    for (size_t i = 0; i < run->next; i++) { /* abandoned at a stop, or held for the batch */
        hret_run_release(run, i);
    }
    free(run->jobs);
}

/* hret_run_samples' source: the caller's arrays. */
struct arrays {
    struct hret_sample *samples; /* the caller's, never written */
    struct hret_outcome *outcomes;
};

static enum hret_result arrays_get(void *user, size_t idx, struct hret_sample **s,
                                   struct hret_outcome **o, struct hret_err *err)
{
    (void)err;
    struct arrays *a = user;
    *s = &a->samples[idx];
    *o = &a->outcomes[idx];
    return HRET_OK;
}

static void arrays_done(void *user, size_t idx, struct hret_sample *s, struct hret_outcome *o)
{
    (void)user, (void)idx, (void)s, (void)o; /* the caller's arrays keep them */
}

enum hret_result hret_run_samples(const struct hret_run_params *p,
                                  const struct hret_sample *samples, size_t count,
                                  struct hret_outcome *outcomes, struct hret_run_report *report,
                                  struct hret_err *err)
{
    struct arrays a = {(struct hret_sample *)(uintptr_t)samples, outcomes};
    struct hret_run_source src = {arrays_get, arrays_done, &a};
    return hret_run_stream(p, &src, count, report, err);
}

enum hret_result hret_run_stream(const struct hret_run_params *p, const struct hret_run_source *src,
                                 size_t count, struct hret_run_report *report, struct hret_err *err)
{
    if (p->external != NULL && (p->mode == HRET_RUN_LOGLIK || p->paths > 1 || p->judge_model)) {
        return hret_err_set(err, HRET_E_INVAL,
                            "external evaluator '%s' scores answers only: no self-consistency, "
                            "judge or log-likelihood",
                            p->external->name);
    }
    struct run run = {.p = p,
                      .src = src,
                      .count = count,
                      .report = report,
                      .backend = hret_backend_for(p->model),
                      .fatal = HRET_ERR_INIT};
    run.http = hret_http_new(err);
    if (run.http == NULL) {
        return HRET_E_FATAL;
    }
    run.ops = hret_ops_model(p->model->name);
    run.judge_ops = p->judge_model ? hret_ops_model(p->judge_model->name) : NULL;
    run.pool = add_pool(&run, p->model, &run.budget, err);
    run.judge_pool = p->judge_model && run.pool >= 0
                         ? add_pool(&run, p->judge_model, &run.judge_budget, err)
                         : 0;
    if (run.pool < 0 || run.judge_pool < 0) {
        hret_http_destroy(run.http);
        hret_budget_put(run.budget);
        hret_budget_put(run.judge_budget);
        return HRET_E_CONFIG;
    }
    run.jobs = hret_xcalloc(count ? count : 1, sizeof *run.jobs);
    run.loglik_extra = cJSON_CreateObject();
    cJSON_AddNumberToObject(run.loglik_extra, "max_tokens", 0);
    cJSON_AddNumberToObject(run.loglik_extra, "temperature", 0);
    hret_buf_init(&run.url, 8192);
    hret_buf_init(&run.body, (size_t)64 << 20);
    double start = hret_clock_now_ms(), last_progress = 0;
    submit_more(&run);
    bool sent = p->sent == NULL;
    while (run.done < run.next && !stopping(&run)) {
        hret_http_run(run.http, 100);
        if (!sent && all_sent(&run)) {
            sent = true;
            p->sent(p->sent_user);
        }
        double now = hret_clock_now_ms();
        if (p->progress != NULL && now - last_progress >= 100) {
            p->progress(p->progress_user, run.done, count, run.errors);
            last_progress = now;
        }
    }
    if (p->external != NULL && run.fatal.code == HRET_OK) {
        hret_run_score_external(&run);
    }
    report->retries = report->http_429 = 0;
    const int pools[2] = {run.pool, run.judge_pool};
    for (int i = 0; i < (p->judge_model ? 2 : 1); i++) {
        struct hret_http_stats st;
        hret_http_stats(run.http, pools[i], &st);
        report->retries += st.retries;
        report->http_429 += st.status_429;
        hret_ops_endpoint_retries(i ? run.judge_ops : run.ops, st.retries, st.status_429);
    }
    hret_ops_samples_scored(run.ops, run.done - run.errors);
    report->done = run.done;
    report->errors = run.errors;
    report->partial = run.done < count;
    report->elapsed_s = (hret_clock_now_ms() - start) / 1000.0;
    if (p->progress != NULL) {
        p->progress(p->progress_user, run.done, count, run.errors);
    }
    teardown(&run);
    return run.fatal.code != HRET_OK ? hret_err_set(err, run.fatal.code, "%s", run.fatal.msg)
                                     : HRET_OK;
}
