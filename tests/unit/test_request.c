/* The request parser: the fixture folders tests/data/requests/{valid,invalid} (each invalid file
 * has a .expected file with the exact reason; test_request_schema.sh checks the same files
 * against the JSON Schema), normalisation of PipelineRunner keys and defaults, the canonical JSON
 * round trip, and the security checks one by one. */
#include "hret_test.h"

#include <dirent.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "hret_buf.h"
#include "hret_config.h"
#include "hret_json.h"
#include "hret_request.h"
#include "hret_request_check.h"

static struct hret_config cfg;

static int setup(void **state)
{
    (void)state;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_config_load(&cfg, hret_test_path("tests/data/requests/hret_config.yaml"), NULL,
                         &err) != HRET_OK) {
        fprintf(stderr, "fixture config: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hret_config_fini(&cfg);
    return 0;
}

static char *slurp(const char *path, size_t *len)
{
    struct hret_buf b;
    hret_buf_init(&b, 1 << 22);
    struct hret_err err = HRET_ERR_INIT;
    if (hret_buf_append_file(&b, path, &err) != HRET_OK) {
        fail_msg("%s", err.msg);
    }
    *len = b.len;
    return hret_buf_take(&b);
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static struct hret_request *parse_text(const char *text, char *path, struct hret_err *err)
{
    struct hret_request *req = NULL;
    hret_request_parse(text, strlen(text), &cfg, &req, path, err);
    return req;
}

/* Canonical JSON parses back to the same canonical JSON. */
static void check_round_trip(const struct hret_request *req, const char *name)
{
    cJSON *j1 = hret_request_to_json(req);
    char *t1 = hret_json_print(j1);
    struct hret_err err = HRET_ERR_INIT;
    struct hret_request *again = parse_text(t1, NULL, &err);
    if (again == NULL) {
        fail_msg("%s: canonical form does not parse: %s\n%s", name, err.msg, t1);
    }
    cJSON *j2 = hret_request_to_json(again);
    char *t2 = hret_json_print(j2);
    if (strcmp(t1, t2) != 0) {
        fail_msg("%s: canonical form changes on a second pass:\n%s\n%s", name, t1, t2);
    }
    free(t1);
    free(t2);
    cJSON_Delete(j1);
    cJSON_Delete(j2);
    hret_request_destroy(again);
}

static void run_folder(const char *rel, int expect_valid)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", hret_test_path(rel));
    DIR *d = opendir(dir);
    assert_non_null(d);
    int files = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (!has_suffix(e->d_name, ".json")) {
            continue;
        }
        files++;
        char file[4200];
        snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
        size_t len = 0;
        char *text = slurp(file, &len);
        struct hret_request *req = NULL;
        struct hret_err err = HRET_ERR_INIT;
        char path[HRET_REQUEST_PATH_MAX];
        enum hret_result r = hret_request_parse(text, len, &cfg, &req, path, &err);
        if (expect_valid) {
            if (r != HRET_OK) {
                fail_msg("%s should parse but gave: %s", e->d_name, err.msg);
            }
            check_round_trip(req, e->d_name);
        } else {
            if (r == HRET_OK) {
                fail_msg("%s should be refused", e->d_name);
            }
            assert_int_equal(r, HRET_E_INVAL);
            assert_null(req);
            snprintf(file + strlen(file) - 5, 16, ".expected");
            size_t elen = 0;
            char *want = slurp(file, &elen);
            want[strcspn(want, "\n")] = '\0';
            if (strstr(err.msg, want) == NULL) {
                fail_msg("%s: reason\n  %s\nlacks\n  %s", e->d_name, err.msg, want);
            }
            /* the path is the message's prefix */
            if (path[0] != '\0' && strncmp(err.msg, path, strlen(path)) != 0) {
                fail_msg("%s: path '%s' does not start '%s'", e->d_name, path, err.msg);
            }
            free(want);
        }
        hret_request_destroy(req);
        free(text);
    }
    closedir(d);
    assert_true(files >= 8);
}

static void test_valid_fixtures(void **state)
{
    (void)state;
    run_folder("tests/data/requests/valid", 1);
}

static void test_invalid_fixtures(void **state)
{
    (void)state;
    run_folder("tests/data/requests/invalid", 0);
}

static void test_defaults(void **state)
{
    (void)state;
    struct hret_err err = HRET_ERR_INIT;
    struct hret_request *req = parse_text("{}", NULL, &err);
    assert_non_null(req);
    assert_null(req->request_id);
    assert_int_equal(req->n_datasets, 1);
    assert_string_equal(req->datasets[0].name, "kmmlu");
    assert_string_equal(req->datasets[0].split, "test");
    assert_int_equal(req->datasets[0].subsets.count, 0);
    assert_int_equal(req->datasets[0].seed, -1);
    assert_int_equal(req->n_models, 1);
    assert_string_equal(req->models[0].name, "baseline");
    assert_non_null(req->models[0].config);
    assert_string_equal(req->models[0].config->model, "base-7b");
    assert_true(isnan(req->models[0].gen.temperature));
    assert_string_equal(req->method, "string_match");
    assert_int_equal(req->tracking.mlflow, -1);
    assert_true(isnan(req->alerts.min_accuracy));
    hret_request_set_id(req, "abc-1");
    assert_string_equal(req->request_id, "abc-1");
    hret_request_destroy(req);
}

static void test_pipeline_runner(void **state)
{
    (void)state;
    size_t len = 0;
    char *text = slurp(hret_test_path("tests/data/requests/valid/pipeline_runner.json"), &len);
    struct hret_err err = HRET_ERR_INIT;
    struct hret_request *req = parse_text(text, NULL, &err);
    assert_non_null(req);
    assert_string_equal(req->datasets[0].name, "kmmlu"); /* registry spelling */
    assert_int_equal(req->datasets[0].subsets.count, 2);
    assert_string_equal(req->datasets[0].subsets.items[1], "Biology");
    assert_int_equal(req->datasets[0].limit, 100);
    assert_string_equal(req->datasets[0].few_shot_split, "dev");
    assert_string_equal(req->models[0].name, "candidate");
    assert_true(req->models[0].gen.temperature == 0.0);
    assert_int_equal(req->models[0].gen.max_tokens, 64);
    assert_string_equal(req->method, "partial_match");
    assert_non_null(req->method_params);
    assert_null(req->judge_model); /* only with llm_judge: invalid/pipeline_judge_model_* */
    assert_int_equal(req->num_few_shot, 5);
    /* the canonical form uses datasets/models/evaluation */
    cJSON *j = hret_request_to_json(req);
    assert_non_null(cJSON_GetObjectItem(j, "datasets"));
    assert_null(cJSON_GetObjectItem(j, "dataset_name"));
    cJSON_Delete(j);
    hret_request_destroy(req);
    free(text);

    /* evaluation.params without a method keeps the params and takes the default method */
    req = parse_text("{\"evaluation\": {\"params\": {\"mcqa\": false}}}", NULL, &err);
    assert_non_null(req);
    assert_string_equal(req->method, "string_match");
    assert_non_null(req->method_params);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(req->method_params, "mcqa")));
    hret_request_destroy(req);

    req = parse_text("{\"model_backend_name\": \"lab\", \"model_backend_params\": "
                     "{\"api_base\": \"http://gpu2.lab.example:8000/v1\", \"model_name\": \"q\"}}",
                     NULL, &err);
    assert_non_null(req);
    /* an inline endpoint runs on a config of its own: the defaults plus its URL and model */
    assert_ptr_equal(req->models[0].config, req->models[0].inline_config);
    assert_string_equal(req->models[0].config->base_url, "http://gpu2.lab.example:8000/v1");
    /* ... whose connections are checked (public addresses only, allow_private_networks off) */
    assert_int_equal(req->models[0].config->net_policy, HRET_NET_PUBLIC);
    assert_string_equal(req->models[0].config->model, "q");
    assert_int_equal(req->models[0].config->max_inflight, 64);
    assert_null(req->models[0].config->api_key_env);
    assert_string_equal(req->models[0].base_url, "http://gpu2.lab.example:8000/v1");
    assert_string_equal(req->models[0].model_id, "q");
    hret_request_destroy(req);
}

/* A seed in a model's params reaches the backend (has_seed); none leaves it off. */
static void test_seed(void **state)
{
    (void)state;
    struct hret_err err = HRET_ERR_INIT;
    struct hret_request *req = parse_text(
        "{\"models\": [{\"name\": \"baseline\", \"params\": {\"seed\": 7}}]}", NULL, &err);
    assert_non_null(req);
    assert_true(req->models[0].gen.has_seed);
    assert_int_equal(req->models[0].gen.seed, 7);
    hret_request_destroy(req);
    req = parse_text("{\"models\": [{\"name\": \"baseline\", \"params\": {\"seed\": 0}}]}", NULL,
                     &err);
    assert_non_null(req);
    assert_true(req->models[0].gen.has_seed);
    assert_int_equal(req->models[0].gen.seed, 0);
    hret_request_destroy(req);
    req = parse_text("{\"models\": [{\"name\": \"baseline\"}]}", NULL, &err);
    assert_non_null(req);
    assert_false(req->models[0].gen.has_seed);
    hret_request_destroy(req);
}

/* model_backend_name: a configured name first, then HRET's backend kinds. */
static void test_backend_kinds(void **state)
{
    (void)state;
    struct hret_err err = HRET_ERR_INIT;
    char path[HRET_REQUEST_PATH_MAX];
    /* openai/litellm + model_name: the configured model with that model id, or that name */
    struct hret_request *req = parse_text(
        "{\"model_backend_name\": \"openai\", \"model_backend_params\": {\"model_name\": "
        "\"cand-7b\", \"temperature\": 0.7}}",
        path, &err);
    assert_non_null(req);
    assert_string_equal(req->models[0].name, "candidate");
    assert_ptr_equal(req->models[0].config, hret_config_model(&cfg, "candidate"));
    assert_null(req->models[0].base_url);
    assert_null(req->models[0].inline_config);
    assert_true(req->models[0].gen.temperature == 0.7);
    hret_request_destroy(req);
    req = parse_text("{\"model_backend_name\": \"litellm\", \"model_backend_params\": "
                     "{\"provider\": \"openai\", \"model_name\": \"judge\"}}",
                     path, &err);
    assert_non_null(req);
    assert_string_equal(req->models[0].name, "judge");
    hret_request_destroy(req);
    /* with api_base it is an inline endpoint, under the inline rules */
    req =
        parse_text("{\"model_backend_name\": \"openai\", \"model_backend_params\": {\"api_base\": "
                   "\"https://models.internal.example/v1\", \"model_name\": \"cand-7b\"}}",
                   path, &err);
    assert_non_null(req);
    assert_ptr_equal(req->models[0].config, req->models[0].inline_config);
    assert_string_equal(req->models[0].model_id, "cand-7b");
    hret_request_destroy(req);
    /* in-process backends are refused with how to serve the model instead */
    req = parse_text("{\"model_backend_name\": \"huggingface\", \"model_backend_params\": "
                     "{\"model_name_or_path\": \"org/m-1b\"}}",
                     path, &err);
    assert_null(req);
    assert_string_equal(path, "model_backend_name");
    assert_non_null(strstr(err.msg, "vllm serve org/m-1b"));
    assert_non_null(strstr(err.msg, "llama-server"));
    assert_non_null(strstr(err.msg, "models:"));
    hret_err_clear(&err);
    req = parse_text("{\"model_backend_name\": \"vllm\"}", path, &err);
    assert_null(req);
    assert_non_null(strstr(err.msg, "HRET's offline vLLM backend"));
    assert_non_null(strstr(err.msg, "vllm serve <model>"));
    hret_err_clear(&err);
    /* neither a configured name nor a kind: the configured models are listed */
    req = parse_text("{\"model_backend_name\": \"gpt-4o\"}", path, &err);
    assert_null(req);
    assert_string_equal(err.msg,
                        "model_backend_name: unknown model 'gpt-4o' (configured: baseline, "
                        "candidate, judge)");
}

/* scaling_method_name, language_penalize and target_lang as HRET defaults them. */
static void test_runner_modes(void **state)
{
    (void)state;
    struct hret_err err = HRET_ERR_INIT;
    /* PipelineRunner keys: HRET's language penalty on, no self-consistency */
    struct hret_request *req = parse_text("{\"dataset_name\": \"kmmlu\"}", NULL, &err);
    assert_non_null(req);
    assert_true(req->language_penalty == 0.5);
    assert_false(req->language_gate);
    assert_int_equal(req->sc_paths, 0);
    assert_null(req->prompt_suffix);
    hret_request_destroy(req);
    /* self_consistency: n_paths 5 and prompt_cot by default, at the backend's temperature */
    req = parse_text("{\"model_backend_name\": \"openai\", \"model_backend_params\": "
                     "{\"model_name\": \"base-7b\", \"temperature\": 0.9}, "
                     "\"scaling_method_name\": \"self_consistency\"}",
                     NULL, &err);
    assert_non_null(req);
    assert_int_equal(req->sc_paths, 5);
    assert_true(req->sc_temperature == 0.9);
    assert_string_equal(req->prompt_suffix, "\nLet's think step by step.\n");
    assert_true(req->language_penalty == 0.5);
    cJSON *j = hret_request_to_json(req);
    const cJSON *ev = cJSON_GetObjectItem(j, "evaluation");
    assert_string_equal(cJSON_GetObjectItem(ev, "prompt_suffix")->valuestring,
                        "\nLet's think step by step.\n");
    assert_int_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "self_consistency"), "paths")->valueint, 5);
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "models"), 0), "name")
            ->valuestring,
        "baseline");
    cJSON_Delete(j);
    hret_request_destroy(req);
    /* n_paths 1: one answer to the CoT prompt; prompt_cot replaced; penalty off */
    req = parse_text("{\"scaling_method_name\": \"self_consistency\", \"scaling_params\": "
                     "{\"n_paths\": 1, \"prompt_cot\": \" Think.\"}, \"language_penalize\": false, "
                     "\"target_lang\": \"en\"}",
                     NULL, &err);
    assert_non_null(req);
    assert_int_equal(req->sc_paths, 0);
    assert_string_equal(req->prompt_suffix, " Think.");
    assert_true(isnan(req->language_penalty));
    hret_request_destroy(req);
    /* the native form has no PipelineRunner defaults; prompt_suffix is its own key */
    req = parse_text("{\"datasets\": [{\"name\": \"kmmlu\"}], \"evaluation\": {\"prompt_suffix\": "
                     "\"\\nQ.\"}}",
                     NULL, &err);
    assert_non_null(req);
    assert_true(isnan(req->language_penalty));
    assert_string_equal(req->prompt_suffix, "\nQ.");
    hret_request_destroy(req);
    char path[HRET_REQUEST_PATH_MAX];
    req = parse_text("{\"evaluation\": {\"method\": \"log_likelihood\", \"prompt_suffix\": \"x\"}}",
                     path, &err);
    assert_null(req);
    assert_string_equal(path, "evaluation.prompt_suffix");
    hret_err_clear(&err);
    /* temperature 0 from the backend params: no sampled paths to vote on */
    req = parse_text("{\"model_backend_name\": \"baseline\", \"model_backend_params\": "
                     "{\"temperature\": 0}, \"scaling_method_name\": \"self_consistency\"}",
                     path, &err);
    assert_null(req);
    assert_non_null(strstr(err.msg, "temperature above 0"));
}

/* A configured model named like a backend kind wins over the kind. */
static void test_backend_kind_shadowed(void **state)
{
    (void)state;
    char file[] = "/tmp/hret_test_request_XXXXXX";
    int fd = mkstemp(file);
    assert_true(fd >= 0);
    const char *yaml = "models:\n  vllm: {base_url: \"http://127.0.0.1:8000/v1\", model: q}\n";
    assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
    close(fd);
    struct hret_config own = {0};
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_config_load(&own, file, NULL, &err), HRET_OK);
    unlink(file);
    const char *text = "{\"model_backend_name\": \"vllm\"}";
    struct hret_request *req = NULL;
    assert_int_equal(hret_request_parse(text, strlen(text), &own, &req, NULL, &err), HRET_OK);
    assert_string_equal(req->models[0].name, "vllm");
    assert_ptr_equal(req->models[0].config, hret_config_model(&own, "vllm"));
    hret_request_destroy(req);
    hret_config_fini(&own);
}

/* HRET's top-level few-shot templates are dataset parameters here. */
static void test_few_shot_templates(void **state)
{
    (void)state;
    struct hret_err err = HRET_ERR_INIT;
    struct hret_request *req = parse_text(
        "{\"dataset_name\": \"haerae_bench\", \"few_shot_instruction\": \"I:\\n\", "
        "\"dataset_params\": {\"few_shot_example_template\": \"{input}={reference}\\n\"}}",
        NULL, &err);
    assert_non_null(req);
    const cJSON *p = req->datasets[0].params;
    assert_string_equal(cJSON_GetObjectItem(p, "few_shot_instruction")->valuestring, "I:\n");
    assert_non_null(cJSON_GetObjectItem(p, "few_shot_example_template"));
    hret_request_destroy(req);
    req = parse_text("{\"dataset_name\": \"haerae_bench\", \"few_shot_example_template\": \"{x}\"}",
                     NULL, &err);
    assert_null(req); /* the dataset's own check sees it: an unknown placeholder */
}

static void test_error_path(void **state)
{
    (void)state;
    struct hret_err err = HRET_ERR_INIT;
    char path[HRET_REQUEST_PATH_MAX];
    struct hret_request *req = parse_text(
        "{\"datasets\": [{\"name\": \"kmmlu\"}, {\"name\": \"x\", \"limit\": -3}]}", path, &err);
    assert_null(req);
    assert_string_equal(path, "datasets[1].limit");
    assert_string_equal(err.msg, "datasets[1].limit: expected a non-negative integer");
    hret_err_clear(&err);
    req = parse_text("[]", path, &err);
    assert_null(req);
    assert_string_equal(path, "");
}

static void test_secret_keys(void **state)
{
    (void)state;
    const char *secret[] = {"api_key",
                            "API-KEY",
                            "x-api-key",
                            "apiKey",
                            "hf_token",
                            "token",
                            "accessToken",
                            "password",
                            "passwd",
                            "Authorization",
                            "cookie",
                            "client_secret",
                            "aws_secret_access_key",
                            "bearer",
                            "credentials",
                            "private_key"};
    const char *fine[] = {"max_tokens", "tokens_seen", "api_key_env", "secret_file", "temperature",
                          "name",       "keys",        "token_count", "API_KEY_ENV"};
    for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++) {
        if (!hret_request_key_is_secret(secret[i])) {
            fail_msg("'%s' should count as a secret", secret[i]);
        }
    }
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        if (hret_request_key_is_secret(fine[i])) {
            fail_msg("'%s' should not count as a secret", fine[i]);
        }
    }
}

static void test_urls(void **state)
{
    (void)state;
    char why[300];
    const char *ok[] = {"http://models.internal.example/v1", "HTTPS://Models.Internal.Example.:443",
                        "http://a.lab.example:8000/v1?x=1", "http://models.internal.example:80/"};
    const char *bad[] = {
        "ftp://models.internal.example/", "http://169.254.169.254/", "http://169.254.1.1:80/",
        "http://0.0.0.0:8000/", "http://0x7f000001/", "http://0177.0.0.1/", "http://127.1/",
        "http://[fe80::1]/", "http://[::]/", "http://[fd00:ec2::254]/", "http://metadata/",
        "http://lab.example/", "http://a@models.internal.example",
        "http://models.internal.example:x/", "http://models.internal.example /",
        "http://models%2einternal.example/", "http:///v1",
        "http://evil.com\\@models.internal.example/",
        /* every spelling of a forbidden address, whatever the allowlist says */
        "http://[0:0:0:0:0:ffff:a9fe:a9fe]/", "http://[::ffff:a9fe:a9fe]/", "http://[::a9fe:a9fe]/",
        "http://[fd00:ec2:0:0:0:0:0:254]/", "http://[FD00:EC2::254]/", "http://[ff02::1]/",
        "http://224.0.0.1/", "http://255.255.255.255/",
        /* loopback and private ranges, without endpoints.allow_private_networks */
        "http://127.0.0.1:8000/v1", "http://[::1]/", "http://[::ffff:127.0.0.1]:8000/",
        "http://10.0.0.1/", "http://172.16.0.1/", "http://192.168.1.1/", "http://[fd12:3456::1]/",
        /* ports: an entry without one allows 80 and 443 only */
        "http://models.internal.example:8080/", "https://models.internal.example:8443/",
        "http://a.lab.example/", "http://a.lab.example:8001/"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (!hret_request_check_url(ok[i], &cfg.endpoints, why, sizeof why)) {
            fail_msg("%s should pass: %s", ok[i], why);
        }
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (hret_request_check_url(bad[i], &cfg.endpoints, why, sizeof why)) {
            fail_msg("%s should be refused", bad[i]);
        }
    }
    /* allow_private_networks lets loopback and private literals through, never the others */
    struct hret_endpoints_config priv = cfg.endpoints;
    priv.allow_private_networks = true;
    const char *private_ok[] = {"http://127.0.0.1:8000/v1", "http://[::1]:8000/",
                                "http://[0:0::1]:8000/"};
    const char *never[] = {
        "http://169.254.169.254/", "http://[fd00:ec2::254]/", "http://[::ffff:a9fe:a9fe]/",
        "http://[fe80::1]/",       "http://0.0.0.0/",         "http://[ff02::1]/"};
    for (size_t i = 0; i < sizeof private_ok / sizeof private_ok[0]; i++) {
        if (!hret_request_check_url(private_ok[i], &priv, why, sizeof why)) {
            fail_msg("%s should pass with allow_private_networks: %s", private_ok[i], why);
        }
    }
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
        if (hret_request_check_url(never[i], &priv, why, sizeof why)) {
            fail_msg("%s should be refused even with allow_private_networks", never[i]);
        }
    }
    struct hret_endpoints_config off = cfg.endpoints;
    off.allow_inline = false;
    assert_false(hret_request_check_url(ok[0], &off, why, sizeof why));
    assert_non_null(strstr(why, "endpoints.allow_inline is false"));
}

static void test_prescan(void **state)
{
    (void)state;
    struct hret_err err = HRET_ERR_INIT;
    const char *s = "{\"a\": \"\\\\u0000 is text, not an escape\", \"b\": \"[[[[\"}";
    assert_int_equal(hret_request_prescan(s, strlen(s), 100, 1, &err), HRET_OK);
    assert_int_equal(hret_request_prescan(s, strlen(s), 10, 1, &err), HRET_E_INVAL);
    hret_err_clear(&err);
    assert_int_equal(hret_request_prescan("[[1]]", 5, 100, 1, &err), HRET_E_INVAL);
    assert_string_equal(err.msg, "nesting deeper than 1 levels at byte 1");
    hret_err_clear(&err);
    const char surrogate[] = "\"\xed\xa0\x80\""; /* U+D800 encoded: not UTF-8 */
    assert_int_equal(hret_request_prescan(surrogate, 5, 100, 4, &err), HRET_E_INVAL);
}

/* evaluation.self_consistency / language_penalty / language_gate: hret run's scoring modes. */
static void test_scoring_modes(void **state)
{
    (void)state;
    struct hret_err err = HRET_ERR_INIT;
    struct hret_request *req = parse_text("{}", NULL, &err);
    assert_non_null(req);
    assert_int_equal(req->sc_paths, 0);
    assert_true(isnan(req->language_penalty));
    assert_false(req->language_gate);
    hret_request_destroy(req);
    req = parse_text("{\"evaluation\": {\"self_consistency\": {\"paths\": 4, \"temperature\": "
                     "1.1}, \"language_penalty\": 0.25}}",
                     NULL, &err);
    assert_non_null(req);
    assert_int_equal(req->sc_paths, 4);
    assert_true(req->sc_temperature == 1.1);
    assert_true(req->language_penalty == 0.25);
    assert_false(req->language_gate);
    hret_request_destroy(req);
    /* the gate alone takes hret run's default threshold; paths alone its temperature */
    req = parse_text("{\"evaluation\": {\"language_gate\": true, \"self_consistency\": "
                     "{\"paths\": 2}}}",
                     NULL, &err);
    assert_non_null(req);
    assert_true(req->language_gate);
    assert_true(req->language_penalty == 0.5);
    assert_true(req->sc_temperature == 0.7);
    cJSON *j = hret_request_to_json(req);
    const cJSON *ev = cJSON_GetObjectItem(j, "evaluation");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(ev, "language_gate")));
    assert_true(cJSON_GetObjectItem(ev, "language_penalty")->valuedouble == 0.5);
    assert_int_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "self_consistency"), "paths")->valueint, 2);
    cJSON_Delete(j);
    hret_request_destroy(req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_fixtures),
        cmocka_unit_test(test_invalid_fixtures),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_pipeline_runner),
        cmocka_unit_test(test_error_path),
        cmocka_unit_test(test_secret_keys),
        cmocka_unit_test(test_seed),
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_prescan),
        cmocka_unit_test(test_scoring_modes),
        cmocka_unit_test(test_backend_kinds),
        cmocka_unit_test(test_backend_kind_shadowed),
        cmocka_unit_test(test_few_shot_templates),
        cmocka_unit_test(test_runner_modes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
