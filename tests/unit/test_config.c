/* The config mechanism and hret_config.yaml: fixture folders of good and bad files (each bad
 * file has a .expected file with the exact problems), environment overrides, show round trip,
 * and the README's reference kept in sync with the tables. */
#include "hret_test.h"

#include <dirent.h>
#include <string.h>
#include <unistd.h>

#include "hret_buf.h"
#include "hret_config.h"

static char *problems_text(const struct hret_strlist *p)
{
    struct hret_buf b;
    hret_buf_init(&b, 1 << 20);
    for (size_t i = 0; i < p->count; i++) {
        hret_buf_appendf(&b, NULL, "%s\n", p->items[i]);
    }
    return hret_buf_take(&b);
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Loads every *.yaml in dir (relative paths, so messages name just the file). */
static void run_folder(const char *dir, int expect_ok)
{
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(hret_test_path(dir)), 0);
    DIR *d = opendir(".");
    assert_non_null(d);
    int files = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (!has_suffix(e->d_name, ".yaml")) {
            continue;
        }
        files++;
        struct hret_config cfg = {0};
        struct hret_strlist problems = {0};
        struct hret_err err = HRET_ERR_INIT;
        enum hret_result r = hret_config_load(&cfg, e->d_name, &problems, &err);
        char *got = problems_text(&problems);
        if (expect_ok) {
            if (r != HRET_OK) {
                fail_msg("%s should load but gave:\n%s", e->d_name, got);
            }
        } else {
            char expected_path[512];
            snprintf(expected_path, sizeof expected_path, "%.*s.expected",
                     (int)(strlen(e->d_name) - 5), e->d_name);
            struct hret_buf want;
            hret_buf_init(&want, 1 << 20);
            assert_int_equal(hret_buf_append_file(&want, expected_path, NULL), HRET_OK);
            assert_int_equal(r, HRET_E_CONFIG);
            assert_int_equal(err.code, HRET_E_CONFIG);
            if (strcmp(got, hret_buf_str(&want)) != 0) {
                fail_msg("%s:\n--- expected\n%s--- got\n%s", e->d_name, hret_buf_str(&want), got);
            }
            /* err carries the first problem */
            assert_int_equal(strncmp(err.msg, got, strlen(err.msg)), 0);
            hret_buf_fini(&want);
        }
        free(got);
        hret_strlist_fini(&problems);
        hret_config_fini(&cfg);
    }
    closedir(d);
    assert_int_equal(chdir(cwd), 0);
    assert_true(files >= 3);
}

static void test_config_good_fixtures_load(void **state)
{
    (void)state;
    run_folder("tests/data/config/good", 1);
}

static void test_config_bad_fixtures_give_exact_problems(void **state)
{
    (void)state;
    run_folder("tests/data/config/bad", 0);
}

static void test_config_defaults_and_seed_keys(void **state)
{
    (void)state;
    struct hret_config cfg = {0};
    assert_int_equal(
        hret_config_load(&cfg, hret_test_path("tests/data/config/good/seed.yaml"), NULL, NULL),
        HRET_OK);
    assert_string_equal(cfg.default_dataset, "kmmlu");
    assert_true(cfg.mlflow_tracking);
    assert_int_equal(cfg.log_level, 2); /* "INFO" in any case */
    assert_int_equal(cfg.batch_size, 32);
    assert_string_equal(cfg.kafka.requests_topic, "hret.eval.requests");
    assert_int_equal(cfg.datasets.shard_size, 256);
    hret_config_fini(&cfg);
}

static void test_config_models_are_named(void **state)
{
    (void)state;
    struct hret_config cfg = {0};
    assert_int_equal(
        hret_config_load(&cfg, hret_test_path("examples/hret_config.yaml"), NULL, NULL), HRET_OK);
    const struct hret_model_config *m = hret_config_model(&cfg, "openai-gpt4o-mini");
    assert_non_null(m);
    assert_string_equal(m->api_key_env, "OPENAI_API_KEY");
    assert_int_equal(m->rpm, 5000);
    assert_int_equal(m->timeout_ms, 120000); /* default filled per entry */
    assert_null(hret_config_model(&cfg, "nope"));
    assert_int_equal(cfg.monitor.rules.count, 1);
    hret_config_fini(&cfg);
}

static void test_config_env_overrides(void **state)
{
    (void)state;
    setenv("HRET_LOG_LEVEL", "debug", 1);
    setenv("HRET_KAFKA_BROKERS", "kafka-1:9092", 1);
    setenv("HRET_ENDPOINTS_ALLOWLIST", "a.example,b.example", 1);
    setenv("HRET_PG", "host=/tmp port=5433", 1);
    struct hret_config cfg = {0};
    assert_int_equal(hret_config_load(&cfg, NULL, NULL, NULL), HRET_OK);
    assert_int_equal(cfg.log_level, 3);
    assert_string_equal(cfg.kafka.brokers, "kafka-1:9092");
    assert_int_equal(cfg.endpoints.allowlist.count, 2);
    assert_string_equal(cfg.endpoints.allowlist.items[1], "b.example");
    assert_string_equal(cfg.postgres.conninfo, "host=/tmp port=5433");
    hret_config_fini(&cfg);

    setenv("HRET_BATCH_SIZE", "lots", 1);
    struct hret_strlist problems = {0};
    memset(&cfg, 0, sizeof cfg);
    assert_int_equal(hret_config_load(&cfg, NULL, &problems, NULL), HRET_E_CONFIG);
    assert_int_equal(problems.count, 1);
    assert_string_equal(problems.items[0],
                        "environment HRET_BATCH_SIZE: batch_size: expected an integer, got 'lots'");
    hret_strlist_fini(&problems);
    hret_config_fini(&cfg);
    unsetenv("HRET_BATCH_SIZE");
    unsetenv("HRET_LOG_LEVEL");
    unsetenv("HRET_KAFKA_BROKERS");
    unsetenv("HRET_ENDPOINTS_ALLOWLIST");
    unsetenv("HRET_PG");
}

/* `hret config show` output is itself a valid config that loads to the same dump. */
static void test_config_show_round_trips(void **state)
{
    (void)state;
    struct hret_config cfg = {0};
    assert_int_equal(
        hret_config_load(&cfg, hret_test_path("examples/hret_config.yaml"), NULL, NULL), HRET_OK);
    char *first = NULL, *second = NULL;
    size_t n1 = 0, n2 = 0;
    FILE *f = open_memstream(&first, &n1);
    hret_cfg_dump(&hret_config_table, &cfg, f);
    fclose(f);
    struct hret_config again = {0};
    struct hret_strlist problems = {0};
    enum hret_result r =
        hret_cfg_load_text(&hret_config_table, &again, "dump", first, n1, &problems, NULL);
    if (r != HRET_OK) {
        fail_msg("dump does not reload: %s\n%s", problems.count ? problems.items[0] : "", first);
    }
    f = open_memstream(&second, &n2);
    hret_cfg_dump(&hret_config_table, &again, f);
    fclose(f);
    assert_string_equal(first, second);
    free(first);
    free(second);
    hret_strlist_fini(&problems);
    hret_config_fini(&again);
    hret_config_fini(&cfg);
}

/* The README's configuration reference is generated from the tables; keep it in sync with
 * `hret config reference`. */
static void test_config_readme_reference_in_sync(void **state)
{
    (void)state;
    char *ref = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&ref, &n);
    hret_cfg_reference(&hret_config_table, f);
    fclose(f);
    struct hret_buf readme;
    hret_buf_init(&readme, 1 << 22);
    assert_int_equal(hret_buf_append_file(&readme, hret_test_path("README.md"), NULL), HRET_OK);
    const char *begin = strstr(readme.data, "<!-- config-reference:begin -->\n");
    const char *end = strstr(readme.data, "<!-- config-reference:end -->");
    assert_non_null(begin);
    assert_non_null(end);
    begin += strlen("<!-- config-reference:begin -->\n");
    if ((size_t)(end - begin) != n || memcmp(begin, ref, n) != 0) {
        fail_msg("README.md config reference is stale: regenerate it with "
                 "`build/hret config reference` between the config-reference markers");
    }
    free(ref);
    hret_buf_fini(&readme);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_good_fixtures_load),
        cmocka_unit_test(test_config_bad_fixtures_give_exact_problems),
        cmocka_unit_test(test_config_defaults_and_seed_keys),
        cmocka_unit_test(test_config_models_are_named),
        cmocka_unit_test(test_config_env_overrides),
        cmocka_unit_test(test_config_show_round_trips),
        cmocka_unit_test(test_config_readme_reference_in_sync),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
