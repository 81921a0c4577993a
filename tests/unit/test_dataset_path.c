/* Dataset paths stay under the dataset root: request fields that are not one path component
 * are refused before the filesystem is touched (the same message whether an outside path exists
 * or not), and a symbolic link inside the data directory that leads out of it is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hret_dataset.h"
#include "hret_dataset_path.h"
#include "hret_mem.h"

struct tree {
    char base[64]; /* scratch directory */
    char *root;    /* base/root: the dataset root */
    char *click;   /* base/root/click: a CLIcK download */
    char *outside; /* base/outside: a private file in CLIcK's layout */
};

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const char row[] = "{\"paragraph\": \"\", \"question\": \"q\", \"choices\": [\"a\", \"b\"], "
                          "\"answer\": \"a\"}\n";

static int tree_setup(void **state)
{
    struct tree *t = hret_xcalloc(1, sizeof *t);
    snprintf(t->base, sizeof t->base, "/tmp/hret_dspath_XXXXXX");
    assert_non_null(mkdtemp(t->base));
    t->root = hret_xasprintf("%s/root", t->base);
    t->click = hret_xasprintf("%s/root/click", t->base);
    t->outside = hret_xasprintf("%s/outside", t->base);
    char *data = hret_xasprintf("%s/data", t->click);
    assert_int_equal(mkdir(t->root, 0700), 0);
    assert_int_equal(mkdir(t->click, 0700), 0);
    assert_int_equal(mkdir(data, 0700), 0);
    assert_int_equal(mkdir(t->outside, 0700), 0);
    char *train = hret_xasprintf("%s/train.jsonl", data);
    char *private = hret_xasprintf("%s/private.jsonl", t->outside);
    write_file(train, row);
    write_file(private, row);
    free(train);
    free(private);
    free(data);
    *state = t;
    return 0;
}

static int tree_teardown(void **state)
{
    struct tree *t = *state;
    char *cmd = hret_xasprintf("rm -rf '%s'", t->base);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(t->root);
    free(t->click);
    free(t->outside);
    free(t);
    return 0;
}

static enum hret_result load(const struct tree *t, const char *split, const char *few_shot_split,
                             struct hret_err *err)
{
    struct hret_dataset_spec spec = {
        .name = "click",
        .data_dir = t->click,
        .split = split,
        .few_shot_split = few_shot_split,
        .num_few_shot = few_shot_split ? 1 : 0,
    };
    struct hret_dataset *ds = NULL;
    enum hret_result r = hret_dataset_load(&spec, &ds, err);
    hret_dataset_destroy(ds);
    return r;
}

static void test_ordinary_split_loads(void **state)
{
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(load(*state, "train", NULL, &err), HRET_OK);
}

/* Every traversal spelling is refused with one message that says nothing of the filesystem. */
static void test_traversal_refused_before_reading(void **state)
{
    static const char *const bad[] = {
        "../../outside/private",
        "data/../../../outside/private",
        "..",
        ".",
        "",
        "../../outside/missing",
        "/etc/passwd",
        "data/train",
        "tr\\ain",
        "train ",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (int few = 0; few < 2; few++) {
            struct hret_err err = HRET_ERR_INIT;
            enum hret_result r =
                few ? load(*state, "train", bad[i], &err) : load(*state, bad[i], NULL, &err);
            if (r == HRET_OK) {
                fail_msg("split '%s' (few-shot %d) was loaded", bad[i], few);
            }
            if (strstr(err.msg, "single path component") == NULL ||
                strstr(err.msg, "exist") != NULL || strstr(err.msg, "no data file") != NULL) {
                fail_msg("split '%s': %s", bad[i], err.msg);
            }
        }
    }
}

static void test_subset_traversal_refused(void **state)
{
    (void)state;
    struct hret_strlist subs = {0};
    hret_strlist_push(&subs, hret_xstrdup("../../outside/private"));
    struct hret_dataset_spec spec = {.name = "kmmlu", .data_dir = "/nonexistent", .subsets = &subs};
    struct hret_dataset *ds = NULL;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_not_equal(hret_dataset_load(&spec, &ds, &err), HRET_OK);
    assert_non_null(strstr(err.msg, "single path component"));
    hret_strlist_fini(&subs);
}

/* A link inside the data directory whose target is outside: refused, the target not named. */
static void test_symlink_out_refused(void **state)
{
    struct tree *t = *state;
    char *link = hret_xasprintf("%s/data/leak.jsonl", t->click);
    char *target = hret_xasprintf("%s/private.jsonl", t->outside);
    assert_int_equal(symlink(target, link), 0);
    struct hret_err err = HRET_ERR_INIT;
    assert_int_not_equal(load(t, "leak", NULL, &err), HRET_OK);
    if (strstr(err.msg, "outside the dataset root") == NULL || strstr(err.msg, t->outside)) {
        fail_msg("%s", err.msg);
    }
    /* a link that stays inside is fine */
    char *inside = hret_xasprintf("%s/data/alias.jsonl", t->click);
    assert_int_equal(symlink("train.jsonl", inside), 0);
    assert_int_equal(load(t, "alias", NULL, &err), HRET_OK);
    unlink(link);
    unlink(inside);
    free(inside);
    free(link);
    free(target);
}

/* The same link with follow_symlinks, and a root above data_dir (the worker's datasets.root). */
static void test_follow_symlinks_and_root(void **state)
{
    struct tree *t = *state;
    char *link = hret_xasprintf("%s/data/leak.jsonl", t->click);
    char *target = hret_xasprintf("%s/private.jsonl", t->outside);
    assert_int_equal(symlink(target, link), 0);
    struct hret_dataset_spec spec = {
        .name = "click", .data_dir = t->click, .root = t->root, .split = "leak"};
    struct hret_dataset *ds = NULL;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_not_equal(hret_dataset_load(&spec, &ds, &err), HRET_OK);
    spec.follow_symlinks = true;
    hret_err_clear(&err);
    assert_int_equal(hret_dataset_load(&spec, &ds, &err), HRET_OK);
    assert_int_equal(ds->count, 1);
    hret_dataset_destroy(ds);
    free(link);
    free(target);
}

static void check_part_ok(void)
{
    static const char *const good[] = {"test", "Accounting", "data-00000", "a.b_c-d", "...", "..a"};
    static const char *const bad[] = {"", ".", "..", "a/b", "a\\b", "a b", "법률", "a:b", "a@b"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_true(hret_dataset_part_ok(good[i]));
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(hret_dataset_part_ok(bad[i]));
    }
    char longest[130];
    memset(longest, 'a', 128);
    longest[128] = '\0';
    assert_true(hret_dataset_part_ok(longest));
    longest[128] = 'a', longest[129] = '\0';
    assert_false(hret_dataset_part_ok(longest));
    assert_false(hret_dataset_part_ok(NULL));
}

static void test_part_ok_case(void **state)
{
    (void)state;
    check_part_ok();
}

/* Lexical confinement holds even when links are followed; the message never names a target. */
static void test_path_check(void **state)
{
    struct tree *t = *state;
    struct hret_err err = HRET_ERR_INIT;
    char *inside = hret_xasprintf("%s/click/data/train.jsonl", t->root);
    char *dotted = hret_xasprintf("%s/click/../../outside/private.jsonl", t->root);
    char *sibling = hret_xasprintf("%s2/x", t->root); /* root "…/root", path "…/root2/x" */
    for (int follow = 0; follow < 2; follow++) {
        assert_int_equal(hret_dataset_path_check(t->root, inside, follow, &err), HRET_OK);
        assert_int_equal(hret_dataset_path_check(t->root, t->root, follow, &err), HRET_OK);
        assert_int_equal(hret_dataset_path_check(t->root, dotted, follow, &err), HRET_E_INVAL);
        hret_err_clear(&err);
        assert_int_equal(hret_dataset_path_check(t->root, sibling, follow, &err), HRET_E_INVAL);
        hret_err_clear(&err);
    }
    free(inside);
    free(dotted);
    free(sibling);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ordinary_split_loads, tree_setup, tree_teardown),
        cmocka_unit_test_setup_teardown(test_traversal_refused_before_reading, tree_setup,
                                        tree_teardown),
        cmocka_unit_test(test_subset_traversal_refused),
        cmocka_unit_test_setup_teardown(test_symlink_out_refused, tree_setup, tree_teardown),
        cmocka_unit_test_setup_teardown(test_follow_symlinks_and_root, tree_setup, tree_teardown),
        cmocka_unit_test(test_part_ok_case),
        cmocka_unit_test_setup_teardown(test_path_check, tree_setup, tree_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
