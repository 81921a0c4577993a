/* Loader parity, Parquet vs CSV: haerae_bench, kormedmcqa (with few-shot from dev), benchhub
 * (unfiltered and filtered), k2_eval and kudge (Pairwise, Pointwise) read the same rows from the
 * hub's Parquet layout (sharded, several row groups, snappy) and from CSV in the same layout
 * (tests/data/parquet/gen_hub.py, in the venv of deploy/local/pyvenv.sh pyarrow). Every sample
 * must match:
 * id, subset, prompt, reference, options, metadata, the dataset version, and the string_match
 * and partial_match verdicts of fixed predictions. */
#include "hret_test.h"

#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "hret_buf.h"
#include "hret_dataset.h"
#include "hret_eval.h"
#include "hret_mem.h"

static char dir[] = "/tmp/hret_pq_hub_XXXXXX";
static cJSON *cases;

static int setup(void **state)
{
    (void)state;
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "set -e; venv=$(bash '%s/deploy/local/pyvenv.sh' pyarrow); "
             "\"$venv/bin/python\" '%s/tests/data/parquet/gen_hub.py' '%s'",
             getenv("HRET_SOURCE_DIR"), getenv("HRET_SOURCE_DIR"), dir);
    if (system(cmd) != 0) {
        return -1;
    }
    struct hret_buf b;
    struct hret_err err = HRET_ERR_INIT;
    hret_buf_init(&b, 1 << 20);
    char path[4200];
    snprintf(path, sizeof path, "%s/cases.json", dir);
    if (hret_buf_append_file(&b, path, &err) == HRET_OK) {
        cases = cJSON_ParseWithLength(b.data, b.len);
    }
    hret_buf_fini(&b);
    return cases ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    cJSON_Delete(cases);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct hret_dataset *load(const cJSON *c, const char *kind)
{
    const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
    struct hret_strlist subsets = {0};
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItem(c, "subsets"))
    {
        hret_strlist_push(&subsets, hret_xstrdup(s->valuestring));
    }
    char *data_dir = hret_xasprintf("%s/%s/%s", dir, kind, name);
    const cJSON *shots = cJSON_GetObjectItem(c, "num_few_shot");
    const cJSON *shot_split = cJSON_GetObjectItem(c, "few_shot_split");
    struct hret_dataset_spec spec = {
        .name = name,
        .data_dir = data_dir,
        .subsets = &subsets,
        .split = cJSON_GetObjectItem(c, "split")->valuestring,
        .num_few_shot = shots ? shots->valueint : 0,
        .few_shot_split = shot_split ? shot_split->valuestring : NULL,
        .params = cJSON_GetObjectItem(c, "params"),
    };
    struct hret_dataset *ds = NULL;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_dataset_load(&spec, &ds, &err) != HRET_OK) {
        print_error("%s from %s: %s\n", name, kind, err.msg);
    }
    free(data_dir);
    hret_strlist_fini(&subsets);
    return ds;
}

static void same_str(const char *what, size_t i, const char *a, const char *b)
{
    if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0)) {
        print_error("sample %zu %s: Parquet '%s' vs CSV '%s'\n", i, what, a ? a : "(null)",
                    b ? b : "(null)");
        fail();
    }
}

/* The verdicts of evaluator ev for prediction pred on both samples. */
static void same_verdict(const struct hret_evaluator_ops *ev, const struct hret_sample *a,
                         const struct hret_sample *b, const char *pred)
{
    void *state = NULL;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(ev->init(NULL, &state, &err), HRET_OK);
    struct hret_verdict va = {0}, vb = {0};
    assert_int_equal(ev->score(state, pred, a->reference, &a->options, &va, &err), HRET_OK);
    assert_int_equal(ev->score(state, pred, b->reference, &b->options, &vb, &err), HRET_OK);
    assert_int_equal(va.correct, vb.correct);
    assert_true((isnan(va.score) && isnan(vb.score)) || va.score == vb.score);
    hret_verdict_fini(&va);
    hret_verdict_fini(&vb);
    ev->destroy(state);
}

static void compare(const struct hret_dataset *pq, const struct hret_dataset *csv)
{
    assert_int_equal(pq->count, csv->count);
    assert_true(pq->count > 0);
    assert_int_equal(pq->num_few_shot_applied, csv->num_few_shot_applied);
    for (size_t i = 0; i < pq->count; i++) {
        const struct hret_sample *a = &pq->samples[i], *b = &csv->samples[i];
        same_str("id", i, a->id, b->id);
        same_str("subset", i, a->subset, b->subset);
        same_str("input", i, a->input, b->input);
        same_str("reference", i, a->reference, b->reference);
        assert_int_equal(a->options.count, b->options.count);
        for (size_t k = 0; k < a->options.count; k++) {
            same_str("option", i, a->options.items[k], b->options.items[k]);
        }
        char *ma = a->metadata ? cJSON_PrintUnformatted(a->metadata) : NULL;
        char *mb = b->metadata ? cJSON_PrintUnformatted(b->metadata) : NULL;
        same_str("metadata", i, ma, mb);
        free(ma);
        free(mb);
        const char *preds[] = {a->reference, a->options.count ? a->options.items[0] : "(A)",
                               "정답: (B)"};
        for (size_t p = 0; p < 3; p++) {
            same_verdict(&hret_eval_string_match, a, b, preds[p]);
            same_verdict(&hret_eval_partial_match, a, b, preds[p]);
        }
    }
    assert_string_equal(pq->version, csv->version);
}

static void test_parquet_and_csv_give_the_same_samples(void **state)
{
    (void)state;
    assert_int_equal(cJSON_GetArraySize(cases), 7);
    const cJSON *c;
    cJSON_ArrayForEach(c, cases)
    {
        const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
        struct hret_dataset *pq = load(c, "parquet");
        struct hret_dataset *csv = load(c, "csv");
        assert_non_null(pq);
        assert_non_null(csv);
        print_message("%s: %zu samples, version %s\n", name, pq->count, pq->version);
        compare(pq, csv);
        hret_dataset_destroy(pq);
        hret_dataset_destroy(csv);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parquet_and_csv_give_the_same_samples),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
