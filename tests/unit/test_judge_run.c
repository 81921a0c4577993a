/* The run pipeline's scoring modes, driven through its cache hooks with canned response bodies
 * (no network: the endpoint is a closed port, and a request that reached it would fail): the
 * fan-out of log-likelihood and its failure on a response without prompt log-probabilities,
 * self-consistency's top-up requests and vote, the language gate, the two-stage judge and a
 * pre-filled (KUDGE) prediction. Cache hits are answered synchronously, in sample order. */
#include "hret_test.h"

#include <math.h>
#include <string.h>

#include "hret_json.h"
#include "hret_mem.h"
#include "hret_run.h"

#define MAX_CALLS 16

/* The canned bodies, one per lookup in call order, and the keys asked for. */
struct canned {
    char *bodies[MAX_CALLS];
    char keys[MAX_CALLS][65];
    int calls, stores;
};

static char *lookup(void *user, const char *key, size_t *len)
{
    struct canned *c = user;
    assert_true(c->calls < MAX_CALLS);
    snprintf(c->keys[c->calls], 65, "%s", key);
    char *body = c->bodies[c->calls++];
    assert_non_null(body);
    *len = strlen(body);
    return hret_xstrdup(body);
}

static void store(void *user, const char *key, const char *body, size_t len)
{
    (void)key;
    (void)body;
    (void)len;
    ((struct canned *)user)->stores++;
}

static void canned_fini(struct canned *c)
{
    for (int i = 0; i < MAX_CALLS; i++) {
        free(c->bodies[i]);
    }
}

static char name_m[] = "m", name_j[] = "judge", url[] = "http://127.0.0.1:9/v1", id[] = "m-id";

static struct hret_model_config model(char *name, int backend)
{
    struct hret_model_config m = {0};
    m.name = name;
    m.backend = backend;
    m.base_url = url;
    m.model = id;
    m.max_inflight = 4;
    m.timeout_ms = 2000;
    m.connect_timeout_ms = 1000;
    m.retry_after_cap_ms = 1000;
    m.max_response_bytes = 1 << 20;
    return m;
}

/* An echo of prompt (byte offsets, one token per byte: ASCII prompts) where the tokens from
 * context_len on score lp each, the others -1; logprobs JSON null when lp is NAN. */
static char *echo_body(const char *prompt, size_t context_len, double lp)
{
    cJSON *doc = cJSON_Parse("{\"model\": \"m-id\", \"choices\": [{\"index\": 0, \"text\": \"\","
                             " \"finish_reason\": \"length\"}]}");
    cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "choices"), 0);
    if (isnan(lp)) {
        cJSON_AddNullToObject(choice, "logprobs");
    } else {
        cJSON *l = cJSON_AddObjectToObject(choice, "logprobs");
        cJSON *toks = cJSON_AddArrayToObject(l, "tokens");
        cJSON *lps = cJSON_AddArrayToObject(l, "token_logprobs");
        cJSON *offs = cJSON_AddArrayToObject(l, "text_offset");
        for (size_t i = 0; prompt[i]; i++) {
            char t[2] = {prompt[i], 0};
            cJSON_AddItemToArray(toks, cJSON_CreateString(t));
            cJSON_AddItemToArray(lps, i == 0 ? cJSON_CreateNull()
                                             : cJSON_CreateNumber(i >= context_len ? lp : -1));
            cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)i));
        }
    }
    cJSON *u = cJSON_AddObjectToObject(doc, "usage");
    cJSON_AddNumberToObject(u, "prompt_tokens", (double)strlen(prompt));
    char *s = hret_json_print(doc);
    cJSON_Delete(doc);
    return s;
}

/* A chat response with the given choices (count of them). */
static char *chat_body(const char *const *contents, int count)
{
    cJSON *doc = cJSON_Parse("{\"model\": \"m-id\", \"usage\": {\"prompt_tokens\": 10, "
                             "\"completion_tokens\": 2}}");
    cJSON *choices = cJSON_AddArrayToObject(doc, "choices");
    for (int i = 0; i < count; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddNumberToObject(c, "index", i);
        cJSON *msg = cJSON_AddObjectToObject(c, "message");
        cJSON_AddStringToObject(msg, "role", "assistant");
        cJSON_AddStringToObject(msg, "content", contents[i]);
        cJSON_AddStringToObject(c, "finish_reason", "stop");
        cJSON_AddItemToArray(choices, c);
    }
    char *s = hret_json_print(doc);
    cJSON_Delete(doc);
    return s;
}

static void sample_init(struct hret_sample *s, size_t idx, const char *input, const char *ref,
                        bool options)
{
    memset(s, 0, sizeof *s);
    s->idx = idx;
    s->input = hret_xstrdup(input);
    s->reference = hret_xstrdup(ref);
    for (int i = 0; options && i < 3; i++) {
        hret_strlist_push(&s->options, hret_xasprintf("(%c)", 'A' + i));
    }
}

struct fixture {
    struct hret_sample samples[2];
    struct hret_outcome outcomes[2];
    struct hret_run_report report;
    struct canned canned;
    struct hret_run_cache cache;
    struct hret_run_params p;
    void *eval_state;
};

static void fixture_init(struct fixture *f, const struct hret_model_config *m, const char *method)
{
    memset(f, 0, sizeof *f);
    f->cache = (struct hret_run_cache){lookup, store, &f->canned};
    f->p.model = m;
    f->p.evaluator = hret_eval_find(method);
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(f->p.evaluator->init(NULL, &f->eval_state, &err), HRET_OK);
    f->p.evaluator_state = f->eval_state;
    f->p.gen = (struct hret_gen_params){.temperature = NAN, .top_p = NAN};
    f->p.language_threshold = -1;
    f->p.cache = &f->cache;
}

static void fixture_fini(struct fixture *f)
{
    for (int i = 0; i < 2; i++) {
        hret_sample_fini(&f->samples[i]);
        hret_outcome_fini(&f->outcomes[i]);
    }
    f->p.evaluator->destroy(f->eval_state);
    hret_run_report_fini(&f->report);
    canned_fini(&f->canned);
}

static void test_majority(void **state)
{
    (void)state;
    const char *tie[] = {"(a)", "(b)", "(b)", "(a)", "(c)"};
    size_t votes = 0;
    assert_int_equal(hret_run_majority(tie, 5, &votes), 0); /* tie: the first seen */
    assert_int_equal(votes, 2);
    const char *clear[] = {"x", "y", "y"};
    assert_int_equal(hret_run_majority(clear, 3, &votes), 1);
    assert_int_equal(votes, 2);
    const char *one[] = {""};
    assert_int_equal(hret_run_majority(one, 1, NULL), 0);
}

static void test_log_likelihood(void **state)
{
    (void)state;
    struct hret_model_config m = model(name_m, HRET_BACKEND_OPENAI_CHAT);
    struct fixture f;
    fixture_init(&f, &m, "log_likelihood");
    f.p.mode = HRET_RUN_LOGLIK;
    sample_init(&f.samples[0], 0, "Q1", "(B)", true);
    sample_init(&f.samples[1], 1, "Q2", "(A)", true);
    /* sample 0 prefers (B), sample 1 ties (A)/(C) at the top: the first wins */
    const double lps[6] = {-4, -0.05, -4, -0.5, -3, -0.5};
    for (int k = 0; k < 6; k++) {
        const struct hret_sample *s = &f.samples[k / 3];
        char *prompt = hret_xasprintf("%s %s", s->input, s->options.items[k % 3]);
        f.canned.bodies[k] = echo_body(prompt, strlen(s->input), lps[k]);
        free(prompt);
    }
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_run_samples(&f.p, f.samples, 2, f.outcomes, &f.report, &err), HRET_OK);
    assert_int_equal(f.canned.calls, 6);
    assert_int_equal(f.report.cache_hits, 6);
    assert_int_equal(f.report.done, 2);
    assert_string_equal(f.outcomes[0].prediction, "(B)");
    assert_true(f.outcomes[0].verdict.correct);
    assert_int_equal(f.outcomes[0].n_option_logprobs, 3);
    /* " " is a continuation token too: 4 tokens at lp */
    assert_true(fabs(f.outcomes[0].option_logprobs[1] - 4 * -0.05) < 1e-12);
    assert_true(f.outcomes[0].option_logprobs[0] == -16);
    assert_string_equal(f.outcomes[1].prediction, "(A)");
    assert_true(f.outcomes[1].verdict.correct);
    for (int k = 1; k < 6; k++) { /* one request per option, each its own cache key */
        assert_string_not_equal(f.canned.keys[k], f.canned.keys[k - 1]);
    }
    fixture_fini(&f);
}

static void test_log_likelihood_without_echo_fails(void **state)
{
    (void)state;
    struct hret_model_config m = model(name_m, HRET_BACKEND_OPENAI_COMPLETIONS);
    struct fixture f;
    fixture_init(&f, &m, "log_likelihood");
    f.p.mode = HRET_RUN_LOGLIK;
    sample_init(&f.samples[0], 0, "Q1", "(B)", true);
    sample_init(&f.samples[1], 1, "Q2", "(A)", true);
    f.canned.bodies[0] = echo_body("Q1 (A)", 2, -1);
    f.canned.bodies[1] = echo_body("Q1 (B)", 2, NAN); /* logprobs: null, as llama.cpp */
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_run_samples(&f.p, f.samples, 2, f.outcomes, &f.report, &err),
                     HRET_E_PROTO);
    assert_non_null(strstr(err.msg, "model 'm' (m-id at http://127.0.0.1:9/v1)"));
    assert_non_null(strstr(err.msg, "prompt log-probabilities"));
    assert_true(f.report.partial);
    assert_int_equal(f.canned.calls, 2); /* nothing sent after the failure */
    assert_false(f.outcomes[1].done);    /* nothing was guessed for the rest */
    assert_int_equal(f.canned.stores, 0);
    fixture_fini(&f);
}

static void test_self_consistency_top_up_vote_and_gate(void **state)
{
    (void)state;
    struct hret_model_config m = model(name_m, HRET_BACKEND_OPENAI_CHAT);
    struct fixture f;
    fixture_init(&f, &m, "string_match");
    f.p.paths = 3;
    f.p.gen.temperature = 0.7;
    f.p.language_threshold = 0.5;
    f.p.language_gate = true;
    sample_init(&f.samples[0], 0, "Q1", "(A)", true);
    sample_init(&f.samples[1], 1, "Q2", "(A)", true);
    /* sample 0: the server ignores n (one choice), two top-up requests follow */
    const char *first[] = {"정답: (B)"}, *second[] = {"정답: (A)"}, *third[] = {"Answer: (A)"};
    f.canned.bodies[0] = chat_body(first, 1);
    f.canned.bodies[1] = chat_body(second, 1);
    f.canned.bodies[2] = chat_body(third, 1);
    /* sample 1: n honoured; English majority, so the gate marks it wrong */
    const char *all[] = {"Answer: (A)", "정답: (C)", "Answer: (A)"};
    f.canned.bodies[3] = chat_body(all, 3);
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_run_samples(&f.p, f.samples, 2, f.outcomes, &f.report, &err), HRET_OK);
    assert_int_equal(f.canned.calls, 4);
    assert_string_not_equal(f.canned.keys[1], f.canned.keys[2]); /* salted per path */
    const struct hret_outcome *o = &f.outcomes[0];
    assert_int_equal(o->paths.count, 3);
    assert_string_equal(o->path_answers.items[0], "(b)");
    assert_string_equal(o->prediction, "정답: (A)"); /* first path of the majority */
    assert_true(o->verdict.correct);
    assert_int_equal(o->gate, HRET_GATE_PASSED);
    o = &f.outcomes[1];
    assert_string_equal(o->prediction, "Answer: (A)");
    assert_int_equal(o->gate, HRET_GATE_FAILED);
    assert_true(o->gate_flipped);
    assert_false(o->verdict.correct);
    fixture_fini(&f);
}

static void test_judge_two_stages_and_prefilled(void **state)
{
    (void)state;
    struct hret_model_config m = model(name_m, HRET_BACKEND_OPENAI_CHAT);
    struct hret_model_config j = model(name_j, HRET_BACKEND_OPENAI_CHAT);
    struct fixture f;
    fixture_init(&f, &m, "llm_judge");
    f.p.judge_model = &j;
    f.p.judge_type = 0; /* k2_eval */
    sample_init(&f.samples[0], 0, "한국의 수도는?", "", false);
    sample_init(&f.samples[1], 1, "어느 답이 나은가?", "B", false);
    f.samples[1].metadata = cJSON_Parse("{\"prediction\": \"부산\", \"model_response_b\": "
                                        "\"서울\", \"judge_type\": \"response_comparison\"}");
    const char *answer[] = {"서울입니다."}, *verdict[] = {"Evaluation: 정확하다.\nScore: 4"};
    const char *pair[] = {"[[B]]"};
    f.canned.bodies[0] = chat_body(answer, 1);
    f.canned.bodies[1] = chat_body(verdict, 1);
    f.canned.bodies[2] = chat_body(pair, 1); /* sample 1: the judge only */
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_run_samples(&f.p, f.samples, 2, f.outcomes, &f.report, &err), HRET_OK);
    assert_int_equal(f.canned.calls, 3);
    const struct hret_outcome *o = &f.outcomes[0];
    assert_string_equal(o->prediction, "서울입니다.");
    assert_string_equal(o->judge_type, "k2_eval");
    assert_non_null(strstr(o->judge_prompt, "### 답변:\n서울입니다."));
    assert_true(o->verdict.score == 4 && !o->verdict.parse_failure);
    o = &f.outcomes[1];
    assert_string_equal(o->prediction, "부산");
    assert_string_equal(o->judge_type, "response_comparison");
    assert_non_null(strstr(o->judge_prompt, "### Response A:\n부산\n\n### Response B:\n서울"));
    assert_string_equal(o->judge_output, "[[B]]");
    assert_true(o->verdict.correct);
    fixture_fini(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_majority),
        cmocka_unit_test(test_log_likelihood),
        cmocka_unit_test(test_log_likelihood_without_echo_fails),
        cmocka_unit_test(test_self_consistency_top_up_vote_and_gate),
        cmocka_unit_test(test_judge_two_stages_and_prefilled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
