#include "hret_run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_hash.h"
#include "hret_http.h"
#include "hret_log.h"
#include "hret_mem.h"

#define WINDOW_PER_SLOT 2 /* prepared requests per in-flight slot */

struct run;

struct slot {
    struct run *run;
    size_t idx;
    char key[65]; /* cache key, "" without a cache */
};

struct run {
    const struct hret_run_params *p;
    const struct hret_backend_ops *backend;
    const struct hret_sample *samples;
    struct hret_outcome *outcomes;
    struct slot *slots;
    size_t count, next, submitted, done, errors;
    struct hret_http *http;
    int pool;
    struct hret_buf url, body;
    struct hret_run_report *report;
};

void hret_run_report_fini(struct hret_run_report *r)
{
    free(r->served_model);
    free(r->fingerprint);
    memset(r, 0, sizeof *r);
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

static void fail_outcome(struct hret_outcome *o, enum hret_result code, const char *error,
                         const char *detail)
{
    o->error_code = code;
    o->error = *detail ? hret_xasprintf("%s: %s", error, detail) : hret_xstrdup(error);
}

/* Scores an answered sample. */
static void score(struct run *run, size_t idx, struct hret_backend_output *out)
{
    const struct hret_run_params *p = run->p;
    const struct hret_sample *s = &run->samples[idx];
    struct hret_outcome *o = &run->outcomes[idx];
    o->prediction = out->content;
    out->content = NULL;
    o->finish_reason = out->finish_reason;
    out->finish_reason = NULL;
    o->prompt_tokens = out->prompt_tokens;
    o->completion_tokens = out->completion_tokens;
    struct hret_err err = HRET_ERR_INIT;
    if (p->evaluator->score(p->evaluator_state, o->prediction, s->reference, &s->options,
                            &o->verdict, &err) != HRET_OK) {
        fail_outcome(o, err.code, "scoring failed", err.msg);
        return;
    }
    if (p->language_threshold >= 0) {
        o->language_penalizer = hret_eval_hangul_share(o->prediction) >= p->language_threshold;
    }
}

static void submit_more(struct run *run);

/* Parses and scores a 2xx body; false when the body is not a valid response. */
static bool accept_body(struct run *run, struct slot *slot, const char *body, size_t len)
{
    struct hret_backend_output out = {0};
    struct hret_err err = HRET_ERR_INIT;
    if (run->backend->parse(body, len, &out, &err) != HRET_OK) {
        hret_backend_output_fini(&out);
        return false;
    }
    note_served(run->report, &out);
    score(run, slot->idx, &out);
    hret_backend_output_fini(&out);
    return true;
}

static void settle(struct run *run, struct hret_outcome *o)
{
    o->done = true;
    run->done++;
    run->errors += o->error_code != HRET_OK;
}

static enum hret_result on_answer(void *user, const struct hret_http_result *r)
{
    struct slot *slot = user;
    struct run *run = slot->run;
    struct hret_outcome *o = &run->outcomes[slot->idx];
    if (r->code == HRET_OK) {
        if (!accept_body(run, slot, r->body, r->body_len)) {
            return HRET_AGAIN; /* malformed body: the engine retries within the budget */
        }
        hret_http_adjust_tokens(run->http, run->pool,
                                o->prompt_tokens + o->completion_tokens -
                                    hret_backend_estimate_tokens(run->samples[slot->idx].input,
                                                                 run->p->gen.max_tokens));
        if (run->p->cache != NULL) {
            run->p->cache->store(run->p->cache->user, slot->key, r->body, r->body_len);
        }
    } else {
        char detail[256];
        hret_backend_error_message(r->body, r->body_len, detail, sizeof detail);
        fail_outcome(o, r->code, r->error, detail);
    }
    o->latency_ms = r->timing.total_ms;
    o->attempts = r->attempts;
    settle(run, o);
    submit_more(run);
    return HRET_OK;
}

/* Answers from the cache without a request; false on a miss (or an unusable entry). */
static bool answer_from_cache(struct run *run, struct slot *slot)
{
    const struct hret_run_cache *c = run->p->cache;
    size_t len = 0;
    char *body = c->lookup(c->user, slot->key, &len);
    bool hit = body != NULL && accept_body(run, slot, body, len);
    free(body);
    if (hit) {
        run->report->cache_hits++;
        settle(run, &run->outcomes[slot->idx]);
    }
    return hit;
}

static void submit_more(struct run *run)
{
    size_t window = (size_t)run->p->model->max_inflight * WINDOW_PER_SLOT;
    while (run->next < run->count && run->submitted - run->done < window &&
           !(run->p->stop && *run->p->stop)) {
        size_t idx = run->next++;
        const struct hret_sample *s = &run->samples[idx];
        struct hret_outcome *o = &run->outcomes[idx];
        o->language_penalizer = NAN;
        struct slot *slot = &run->slots[idx];
        *slot = (struct slot){run, idx, ""};
        run->submitted++;
        struct hret_err err = HRET_ERR_INIT;
        if (run->backend->prepare(run->p->model, &run->p->gen, s->input, &run->url, &run->body,
                                  &err) != HRET_OK) {
            fail_outcome(o, err.code, "cannot build the request", err.msg);
            settle(run, o);
            continue;
        }
        if (run->p->cache != NULL) {
            hret_run_cache_key(run->p->model, run->body.data, run->body.len, slot->key);
            if (answer_from_cache(run, slot)) {
                continue;
            }
        }
        struct hret_http_request req = {
            .url = hret_buf_str(&run->url),
            .body = run->body.data,
            .body_len = run->body.len,
            .est_tokens = hret_backend_estimate_tokens(s->input, run->p->gen.max_tokens),
        };
        hret_http_submit(run->http, run->pool, &req, on_answer, slot, NULL);
    }
}

void hret_run_cache_key(const struct hret_model_config *model, const char *body, size_t len,
                        char out[65])
{
    struct hret_buf b;
    hret_buf_init(&b, len + 4096);
    hret_buf_appendf(&b, NULL, "%s\n%s\n%s\n", hret_backend_for(model)->name, model->base_url,
                     model->model);
    hret_buf_append(&b, body, len, NULL);
    hret_hash_sha256_hex(b.data, b.len, out);
    hret_buf_fini(&b);
}

static void limits_of(const struct hret_model_config *m, struct hret_http_limits *l)
{
    *l = (struct hret_http_limits){
        .name = m->name,
        .max_inflight = (long)m->max_inflight,
        .rpm = (long)m->rpm,
        .tpm = (long)m->tpm,
        .timeout_ms = (long)m->timeout_ms,
        .connect_timeout_ms = (long)m->connect_timeout_ms,
        .max_retries = (int)m->max_retries,
        .retry_after_cap_ms = (long)m->retry_after_cap_ms,
        .max_response_bytes = (size_t)m->max_response_bytes,
        .api_key_env = m->api_key_env,
        .api_key_file = m->api_key_file,
    };
}

enum hret_result hret_run_samples(const struct hret_run_params *p,
                                  const struct hret_sample *samples, size_t count,
                                  struct hret_outcome *outcomes, struct hret_run_report *report,
                                  struct hret_err *err)
{
    struct run run = {.p = p,
                      .samples = samples,
                      .outcomes = outcomes,
                      .count = count,
                      .report = report,
                      .backend = hret_backend_for(p->model)};
    run.http = hret_http_new(err);
    if (run.http == NULL) {
        return HRET_E_FATAL;
    }
    struct hret_http_limits limits;
    limits_of(p->model, &limits);
    run.pool = hret_http_add_pool(run.http, &limits, err);
    if (run.pool < 0) {
        hret_http_destroy(run.http);
        return HRET_E_CONFIG;
    }
    run.slots = hret_xcalloc(count ? count : 1, sizeof *run.slots);
    hret_buf_init(&run.url, 8192);
    hret_buf_init(&run.body, (size_t)64 << 20);
    double start = hret_http_now_ms(), last_progress = 0;
    submit_more(&run);
    while (run.done < run.submitted && !(p->stop && *p->stop)) {
        hret_http_run(run.http, 100);
        double now = hret_http_now_ms();
        if (p->progress != NULL && now - last_progress >= 100) {
            p->progress(p->progress_user, run.done, count, run.errors);
            last_progress = now;
        }
    }
    struct hret_http_stats st;
    hret_http_stats(run.http, run.pool, &st);
    report->retries = st.retries;
    report->http_429 = st.status_429;
    report->done = run.done;
    report->errors = run.errors;
    report->partial = run.done < count;
    report->elapsed_s = (hret_http_now_ms() - start) / 1000.0;
    if (p->progress != NULL) {
        p->progress(p->progress_user, run.done, count, run.errors);
    }
    hret_http_destroy(run.http); /* abandons in-flight requests after a stop */
    hret_buf_fini(&run.url);
    hret_buf_fini(&run.body);
    free(run.slots);
    return HRET_OK;
}
