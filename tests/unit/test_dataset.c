/* hret_dataset (and hret_prompt): golden prompt cases replayed from the .json files in
 * tests/data/golden (written by tests/data/golden/make_golden.py from an independent Python
 * rendering), version stability, sampling determinism, and the synthetic KMMLU answer key. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hret_buf.h"
#include "hret_dataset.h"
#include "hret_json.h"
#include "hret_mem.h"
#include "hret_prompt.h"

static const char *source_dir(void)
{
    const char *s = getenv("HRET_SOURCE_DIR");
    return s ? s : ".";
}

static cJSON *read_json(const char *path)
{
    struct hret_buf b;
    struct hret_err err = HRET_ERR_INIT;
    hret_buf_init(&b, 16u << 20);
    if (hret_buf_append_file(&b, path, &err) != HRET_OK) {
        fail_msg("%s", err.msg);
    }
    cJSON *doc = hret_json_parse(b.data, b.len, b.len, &err);
    hret_buf_fini(&b);
    if (doc == NULL) {
        fail_msg("%s: %s", path, err.msg);
    }
    return doc;
}

/* ---- golden cases ------------------------------------------------------------------------ */

struct spec_holder {
    struct hret_dataset_spec spec;
    struct hret_strlist subsets;
    char *data_dir;
};

static const char *opt_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static long long opt_int(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? (long long)v->valuedouble : 0;
}

static void spec_from_json(struct spec_holder *h, const cJSON *js)
{
    memset(h, 0, sizeof *h);
    h->data_dir = hret_xasprintf("%s/%s", source_dir(), opt_str(js, "data_dir"));
    const cJSON *subs = cJSON_GetObjectItemCaseSensitive(js, "subsets");
    const cJSON *s;
    cJSON_ArrayForEach(s, subs)
    {
        hret_strlist_push(&h->subsets, hret_xstrdup(s->valuestring));
    }
    h->spec = (struct hret_dataset_spec){
        .name = opt_str(js, "name"),
        .data_dir = h->data_dir,
        .subsets = &h->subsets,
        .split = opt_str(js, "split"),
        .limit = opt_int(js, "limit"),
        .sample_size = opt_int(js, "sample_size"),
        .seed = (unsigned long long)opt_int(js, "seed"),
        .num_few_shot = (int)opt_int(js, "num_few_shot"),
        .few_shot_split = opt_str(js, "few_shot_split"),
        .few_shot_instruction = opt_str(js, "few_shot_instruction"),
        .few_shot_template = opt_str(js, "few_shot_template"),
        .prompt_template = opt_str(js, "prompt_template"),
        .params = cJSON_GetObjectItemCaseSensitive(js, "params"),
    };
}

static void spec_fini(struct spec_holder *h)
{
    hret_strlist_fini(&h->subsets);
    free(h->data_dir);
}

static void check_str(const char *name, size_t idx, const char *field, const char *want,
                      const char *got)
{
    if ((want == NULL) != (got == NULL) || (want && strcmp(want, got) != 0)) {
        fail_msg("%s: item %zu: %s differs\n  want: %s\n  got:  %s", name, idx, field,
                 want ? want : "(null)", got ? got : "(null)");
    }
}

static void check_item(const char *name, const struct hret_dataset *ds, const cJSON *want)
{
    size_t idx = (size_t)opt_int(want, "idx");
    assert_true(idx < ds->count);
    const struct hret_sample *s = &ds->samples[idx];
    assert_int_equal(s->idx, idx);
    check_str(name, idx, "id", opt_str(want, "id"), s->id);
    check_str(name, idx, "subset", opt_str(want, "subset"), s->subset);
    check_str(name, idx, "input", opt_str(want, "input"), s->input);
    check_str(name, idx, "reference", opt_str(want, "reference"), s->reference);
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(want, "options");
    if ((size_t)cJSON_GetArraySize(opts) != s->options.count) {
        fail_msg("%s: item %zu: %d options expected, got %zu", name, idx, cJSON_GetArraySize(opts),
                 s->options.count);
    }
    for (size_t i = 0; i < s->options.count; i++) {
        check_str(name, idx, "option", cJSON_GetArrayItem(opts, (int)i)->valuestring,
                  s->options.items[i]);
    }
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(want, "metadata");
    bool want_meta = meta != NULL && !cJSON_IsNull(meta);
    if (want_meta != (s->metadata != NULL) ||
        (want_meta && !cJSON_Compare(meta, s->metadata, true))) {
        char *got = s->metadata ? hret_json_print(s->metadata) : hret_xstrdup("null");
        char *exp = hret_json_print(meta);
        fail_msg("%s: item %zu: metadata differs\n  want: %s\n  got:  %s", name, idx, exp, got);
    }
}

static void check_error(const char *name, enum hret_result r, const struct hret_err *err,
                        const cJSON *want)
{
    if (r == HRET_OK) {
        fail_msg("%s: expected an error, the load succeeded", name);
    }
    assert_string_equal(hret_result_name(r), opt_str(want, "code"));
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(want, "contains"))
    {
        if (strstr(err->msg, c->valuestring) == NULL) {
            fail_msg("%s: error '%s' lacks '%s'", name, err->msg, c->valuestring);
        }
    }
}

/* Loading twice gives the same samples and version (seeded sampling included). */
static void check_repeatable(const struct hret_dataset_spec *spec, const struct hret_dataset *ds)
{
    struct hret_dataset *again = NULL;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_dataset_load(spec, &again, &err), HRET_OK);
    assert_int_equal(again->count, ds->count);
    assert_string_equal(again->version, ds->version);
    for (size_t i = 0; i < ds->count; i++) {
        assert_string_equal(again->samples[i].id, ds->samples[i].id);
    }
    hret_dataset_destroy(again);
    /* opened, the version is the same: computed at open, or on demand after in-order reads of
     * none, half or all of the samples (a stopped run) with an out-of-order read between */
    for (size_t read = 0; read <= 3; read++) {
        struct hret_dataset_spec opened = *spec;
        opened.version_on_demand = read > 0;
        struct hret_dataset *o = NULL;
        assert_int_equal(hret_dataset_open(&opened, &o, &err), HRET_OK);
        size_t upto = read == 1 ? 0 : read == 2 ? o->count / 2 : o->count;
        for (size_t i = 0; i < upto; i++) {
            struct hret_sample s;
            assert_int_equal(hret_dataset_get(o, i, &s, &err), HRET_OK);
            hret_sample_fini(&s);
            if (i + 1 < o->count && hret_dataset_get(o, o->count - 1, &s, &err) == HRET_OK) {
                hret_sample_fini(&s);
            }
        }
        if (read == 0) {
            assert_non_null(o->version); /* set by the open */
        } else {
            assert_null(o->version); /* until asked for, however much was read */
        }
        assert_int_equal(hret_dataset_version(o, &err), HRET_OK);
        assert_string_equal(o->version, ds->version);
        hret_dataset_destroy(o);
    }
}

static void run_golden(void **state)
{
    const char *path = *state;
    const char *name = strrchr(path, '/') + 1;
    cJSON *doc = read_json(path);
    const cJSON *expect = cJSON_GetObjectItemCaseSensitive(doc, "expect");
    struct spec_holder h;
    spec_from_json(&h, cJSON_GetObjectItemCaseSensitive(doc, "spec"));
    struct hret_dataset *ds = NULL;
    struct hret_err err = HRET_ERR_INIT;
    enum hret_result r = hret_dataset_load(&h.spec, &ds, &err);
    const cJSON *want_err = cJSON_GetObjectItemCaseSensitive(expect, "error");
    if (want_err != NULL) {
        check_error(name, r, &err, want_err);
        assert_null(ds);
    } else {
        if (r != HRET_OK) {
            fail_msg("%s: %s", name, err.msg);
        }
        assert_int_equal(ds->count, (size_t)opt_int(expect, "count"));
        assert_int_equal(ds->num_few_shot_applied, (int)opt_int(expect, "num_few_shot_applied"));
        assert_int_equal(strlen(ds->version), 16);
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(expect, "items"))
        {
            check_item(name, ds, it);
        }
        check_repeatable(&h.spec, ds);
    }
    hret_dataset_destroy(ds);
    spec_fini(&h);
    cJSON_Delete(doc);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every .json file in tests/data/golden, sorted (caller owns). */
static struct hret_strlist golden_files(void)
{
    struct hret_strlist files = {0};
    char *dir = hret_xasprintf("%s/tests/data/golden", source_dir());
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n > 5 && strcmp(e->d_name + n - 5, ".json") == 0) {
            hret_strlist_push(&files, hret_xasprintf("%s/%s", dir, e->d_name));
        }
    }
    if (d != NULL) {
        closedir(d);
    }
    free(dir);
    if (files.count > 0) {
        qsort(files.items, files.count, sizeof *files.items, cmp_str);
    }
    return files;
}

/* ---- version and sampling ---------------------------------------------------------------- */

static struct hret_dataset *load_kmmlu(const char *dir, long long sample_size,
                                       unsigned long long seed)
{
    struct hret_strlist subs = {0};
    hret_strlist_push(&subs, hret_xstrdup("Accounting"));
    hret_strlist_push(&subs, hret_xstrdup("Biology"));
    struct hret_dataset_spec spec = {.name = "kmmlu",
                                     .data_dir = dir,
                                     .subsets = &subs,
                                     .sample_size = sample_size,
                                     .seed = seed};
    struct hret_dataset *ds = NULL;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_dataset_load(&spec, &ds, &err) != HRET_OK) {
        fail_msg("%s", err.msg);
    }
    hret_strlist_fini(&subs);
    return ds;
}

static int run(const char *cmd)
{
    int rc = system(cmd);
    if (rc != 0) {
        print_error("command failed (%d): %s\n", rc, cmd);
    }
    return rc;
}

static void test_version_tracks_content(void **state)
{
    (void)state;
    char tmp[] = "/tmp/hret_ds_XXXXXX";
    assert_non_null(mkdtemp(tmp));
    char *cmd =
        hret_xasprintf("cp -r '%s/tests/data/datasets/kmmlu/data' '%s/'", source_dir(), tmp);
    assert_int_equal(run(cmd), 0);
    free(cmd);
    char *orig_dir = hret_xasprintf("%s/tests/data/datasets/kmmlu", source_dir());
    struct hret_dataset *a = load_kmmlu(orig_dir, 0, 0);
    struct hret_dataset *b = load_kmmlu(tmp, 0, 0); /* same bytes elsewhere: same version */
    assert_string_equal(a->version, b->version);
    hret_dataset_destroy(b);

    /* One byte of one choice changes ("23개" -> "24개"): the version must change. */
    char *file = hret_xasprintf("%s/data/Biology-test.csv", tmp);
    cmd = hret_xasprintf("sed -i 's/23개/24개/' '%s'", file);
    assert_int_equal(run(cmd), 0);
    free(cmd);
    b = load_kmmlu(tmp, 0, 0);
    assert_string_not_equal(a->version, b->version);
    assert_string_equal(a->samples[0].input, b->samples[0].input);
    hret_dataset_destroy(b);

    cmd = hret_xasprintf("rm -rf '%s'", tmp);
    assert_int_equal(run(cmd), 0);
    free(cmd);
    free(file);
    hret_dataset_destroy(a);
    free(orig_dir);
}

/* Subsets load side by side, yet the error is a sequential load's: the first failing subset in
 * list order, whichever thread fails first (Law has no file, Biology an unterminated quote). */
static void test_first_failing_subset_wins(void **state)
{
    (void)state;
    char tmp[] = "/tmp/hret_ds_XXXXXX";
    assert_non_null(mkdtemp(tmp));
    char *cmd = hret_xasprintf("cp -r '%s/tests/data/datasets/kmmlu/data' '%s/' && "
                               "printf '\\n\"open' >> '%s/data/Biology-test.csv'",
                               source_dir(), tmp, tmp);
    assert_int_equal(run(cmd), 0);
    free(cmd);
    static const char *const orders[][4] = {{"Accounting", "Biology", "Law", "Biology"},
                                            {"Law", "Accounting", "Biology", "Accounting"}};
    for (int round = 0; round < 20; round++) {
        const char *const *order = orders[round % 2];
        struct hret_strlist subs = {0};
        for (size_t i = 0; i < 3; i++) {
            hret_strlist_push(&subs, hret_xstrdup(order[i]));
        }
        struct hret_dataset_spec spec = {.name = "kmmlu", .data_dir = tmp, .subsets = &subs};
        struct hret_dataset *ds = NULL;
        struct hret_err err = HRET_ERR_INIT;
        assert_int_not_equal(hret_dataset_load(&spec, &ds, &err), HRET_OK);
        assert_null(ds);
        const char *first_bad = round % 2 ? "Law" : "Biology";
        if (strstr(err.msg, first_bad) == NULL) {
            fail_msg("round %d: the error should name %s: %s", round, first_bad, err.msg);
        }
        hret_strlist_fini(&subs);
    }
    cmd = hret_xasprintf("rm -rf '%s'", tmp);
    assert_int_equal(run(cmd), 0);
    free(cmd);
}

static void test_sampling(void **state)
{
    (void)state;
    char *dir = hret_xasprintf("%s/tests/data/datasets/kmmlu", source_dir());
    struct hret_dataset *all = load_kmmlu(dir, 0, 0);
    struct hret_dataset *a = load_kmmlu(dir, 6, 1234);
    struct hret_dataset *b = load_kmmlu(dir, 6, 1234);
    struct hret_dataset *c = load_kmmlu(dir, 6, 1235);
    assert_int_equal(all->count, 16);
    assert_int_equal(a->count, 6);
    bool differs = false;
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(a->samples[i].id, b->samples[i].id);
        assert_int_equal(a->samples[i].idx, i);
        differs = differs || strcmp(a->samples[i].id, c->samples[i].id) != 0;
        for (size_t j = 0; j < i; j++) { /* without replacement */
            assert_string_not_equal(a->samples[i].id, a->samples[j].id);
        }
    }
    assert_true(differs);
    assert_string_equal(a->version, b->version);
    assert_string_not_equal(a->version, c->version);
    struct hret_dataset *big = load_kmmlu(dir, 100, 1); /* more than there is: everything */
    assert_int_equal(big->count, 16);
    assert_string_equal(big->version, all->version);
    hret_dataset_destroy(big);
    hret_dataset_destroy(all);
    hret_dataset_destroy(a);
    hret_dataset_destroy(b);
    hret_dataset_destroy(c);
    free(dir);
}

static void test_names(void **state)
{
    (void)state;
    const char *const *names = hret_dataset_names();
    static const char *const want[] = {"kmmlu",   "haerae_bench", "benchhub",   "click",  "hrm8k",
                                       "k2_eval", "kudge",        "kormedmcqa", "generic"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_non_null(names[i]);
        assert_string_equal(names[i], want[i]);
        /* Every registered name reaches its loader: the error is about data, not the name. */
        struct hret_dataset_spec spec = {.name = names[i], .data_dir = "/nonexistent/hret"};
        struct hret_dataset *ds = NULL;
        struct hret_err err = HRET_ERR_INIT;
        assert_int_not_equal(hret_dataset_load(&spec, &ds, &err), HRET_OK);
        assert_null(strstr(err.msg, "unknown dataset"));
    }
    assert_null(names[sizeof want / sizeof want[0]]);
}

/* ---- hret_prompt ------------------------------------------------------------------------- */

static void format_is(const char *tmpl, const char *want)
{
    struct hret_prompt_var vars[] = {{"q", "질문"}, {"x", NULL}};
    struct hret_buf b;
    struct hret_err err = HRET_ERR_INIT;
    hret_buf_init(&b, 1024);
    if (hret_prompt_format(&b, tmpl, vars, 2, NULL, &err) != HRET_OK) {
        fail_msg("%s: %s", tmpl, err.msg);
    }
    assert_string_equal(b.data, want);
    hret_buf_fini(&b);
}

static void format_fails(const char *tmpl, bool want_missing, const char *want)
{
    struct hret_prompt_var vars[] = {{"q", "질문"}};
    struct hret_buf b;
    struct hret_err err = HRET_ERR_INIT;
    bool missing = false;
    hret_buf_init(&b, 1024);
    assert_int_equal(hret_prompt_format(&b, tmpl, vars, 1, &missing, &err), HRET_E_CONFIG);
    assert_int_equal(missing, want_missing);
    if (strstr(err.msg, want) == NULL) {
        fail_msg("'%s': error '%s' lacks '%s'", tmpl, err.msg, want);
    }
    hret_buf_fini(&b);
}

static void test_prompt_format(void **state)
{
    (void)state;
    format_is("", "");
    format_is("{q}", "질문");
    format_is("a {{q}} {q}{x}! \\boxed{{}}", "a {q} 질문! \\boxed{}");
    format_is("}}{{", "}{");
    format_fails("{nope}", true, "unknown placeholder {nope}");
    format_fails("{q!r}", false, "unsupported field syntax");
    format_fails("{q:>5}", false, "unsupported field syntax");
    format_fails("{0}", false, "positional field");
    format_fails("{}", false, "positional field");
    format_fails("a } b", false, "single '}'");
    format_fails("a {q", false, "without a closing");
    struct hret_err err = HRET_ERR_INIT;
    static const char *const names[] = {"q", NULL};
    assert_int_equal(hret_prompt_check("{q} {{z}}", names, &err), HRET_OK);
    assert_int_equal(hret_prompt_check("{q} {z}", names, &err), HRET_E_CONFIG);
    assert_non_null(strstr(err.msg, "accepted: {q}"));
}

static void strip_is(const char *s, const char *want)
{
    char *got = hret_prompt_strip_dup(s);
    assert_string_equal(got, want);
    free(got);
}

static void test_prompt_strip(void **state)
{
    (void)state;
    strip_is("", "");
    strip_is(" \t\r\n\v\f", "");
    strip_is("\xE3\x80\x80 가 나 \xC2\xA0\xE2\x80\x83", "가 나"); /* U+3000, U+00A0, U+2003 */
    strip_is("\x1c\x1f\xC2\x85x\xE2\x80\xA8", "x");               /* \x1c-\x1f, U+0085, U+2028 */
    strip_is("\xE2\x80\x8Bx\xE2\x80\x8B", "\xE2\x80\x8Bx\xE2\x80\x8B"); /* U+200B is not space */
    strip_is("\xFF x \xFF", "\xFF x \xFF");                             /* invalid UTF-8 is kept */
    char *s = hret_prompt_remove_strip("### 정답 a ### 정답### 정답\n", "### 정답");
    assert_string_equal(s, "a");
    free(s);
    assert_int_equal(hret_prompt_fnv1a64(HRET_FNV1A64_INIT, "", 0), 0xcbf29ce484222325ULL);
    assert_int_equal(hret_prompt_fnv1a64(HRET_FNV1A64_INIT, "a", 1), 0xaf63dc4c8601ec8cULL);
    assert_int_equal(hret_prompt_fnv1a64(HRET_FNV1A64_INIT, "foobar", 6), 0x85944171f73967e8ULL);
}

/* ---- the synthetic KMMLU set and its answer key ------------------------------------------ */

static void test_synth_answer_key(void **state)
{
    (void)state;
    char tmp[] = "/tmp/hret_synth_XXXXXX";
    assert_non_null(mkdtemp(tmp));
    char *cmd = hret_xasprintf("python3 '%s/tests/data/gen_kmmlu_synth.py' --out '%s' --items 500 "
                               "--seed 3",
                               source_dir(), tmp);
    assert_int_equal(run(cmd), 0);
    free(cmd);
    struct hret_dataset_spec spec = {.name = "kmmlu", .data_dir = tmp};
    struct hret_dataset *ds = NULL;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_dataset_load(&spec, &ds, &err) != HRET_OK) {
        fail_msg("%s", err.msg);
    }
    assert_int_equal(ds->count, 500);
    char *key_path = hret_xasprintf("%s/answer_key.tsv", tmp);
    FILE *key = fopen(key_path, "r");
    assert_non_null(key);
    char line[128];
    size_t n = 0;
    while (fgets(line, sizeof line, key) != NULL) {
        assert_true(n < ds->count);
        const struct hret_sample *s = &ds->samples[n++];
        char want[128];
        snprintf(want, sizeof want, "%016" PRIx64 "\t%s\n",
                 hret_prompt_fnv1a64(HRET_FNV1A64_INIT, s->input, strlen(s->input)), s->reference);
        if (strcmp(line, want) != 0) {
            fail_msg("answer key line %zu: '%s' but the loader gives '%s' for %s", n, line, want,
                     s->id);
        }
    }
    assert_int_equal(n, 500);
    fclose(key);
    free(key_path);
    hret_dataset_destroy(ds);
    cmd = hret_xasprintf("rm -rf '%s'", tmp);
    assert_int_equal(run(cmd), 0);
    free(cmd);
}

int main(void)
{
    struct hret_strlist files = golden_files();
    const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_version_tracks_content),
        cmocka_unit_test(test_sampling),
        cmocka_unit_test(test_first_failing_subset_wins),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_prompt_format),
        cmocka_unit_test(test_prompt_strip),
        cmocka_unit_test(test_synth_answer_key),
    };
    size_t n = files.count + sizeof fixed / sizeof fixed[0];
    struct CMUnitTest *tests = hret_xcalloc(n, sizeof *tests);
    for (size_t i = 0; i < files.count; i++) {
        tests[i] = (struct CMUnitTest){strrchr(files.items[i], '/') + 1, run_golden, NULL, NULL,
                                       files.items[i]};
    }
    memcpy(tests + files.count, fixed, sizeof fixed);
    if (files.count < 30) {
        print_error("expected the golden cases in %s/tests/data/golden, found %zu\n", source_dir(),
                    files.count);
        return 1;
    }
    int failed = _cmocka_run_group_tests("dataset", tests, n, NULL, NULL);
    free(tests);
    hret_strlist_fini(&files);
    return failed;
}
