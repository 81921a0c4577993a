/* hret_parquet through hret_table, without pyarrow at test time: the fuzz seeds in
 * tests/fuzz/corpus/parquet (written by pyarrow, tests/data/parquet/gen_parquet.py --corpus:
 * two row groups, pages v1 and v2, dictionary and plain, none/gzip/snappy/zstd) give the values
 * pyarrow wrote; a struct column, a truncated file and a non-Parquet file are refused. The full
 * matrix runs in integration.parquet. */
#include "hret_test.h"

#include <string.h>

#include "hret_buf.h"
#include "hret_table.h"

static const char *const seeds[] = {
    "seed_v1.0_page1.0_none_dict",
    "seed_v2.6_page1.0_gzip_plain",
    "seed_v2.6_page2.0_snappy_dict",
    "seed_v2.6_page2.0_zstd_plain",
};

struct want {
    size_t row;
    const char *col, *text; /* text NULL: null */
};

static const struct want wants[] = {
    {0, "s", "한국어 질문 0"},
    {3, "s", NULL},
    {1, "s_req", ""},
    {5, "s_req", "ctrl \x01\x1f end"},
    {0, "i32", NULL},
    {1, "i32", "-463"},
    {3, "i64", "1099511627779"},
    {0, "u32", "4000000000"},
    {5, "u64", "9223372036854775813"},
    {0, "f32", "0.5"},
    {3, "f32", "1024.0"},
    {1, "f32", NULL},
    {1, "f64", "2.5e-07"},
    {3, "f64", "123456.0"},
    {5, "f64", "3.141592653589793"},
    {0, "b", "True"},
    {1, "b", "False"},
    {3, "cat", "(D)"},
    {0, "lst", "[\"한국어 질문\"]"},
    {1, "lst", "[\"plain\",\"with \\\"quotes\\\", commas\"]"},
    {3, "lst", "[\"tab\\there\",null,\"back\\\\slash\",\"emoji 🙂\"]"},
    {5, "lst", NULL},
    {3, "big_lst", "[\"tab\\there\",null,\"back\\\\slash\",\"emoji 🙂\"]"},
};

static void test_seed_files_give_pyarrows_values(void **state)
{
    (void)state;
    for (size_t f = 0; f < sizeof seeds / sizeof seeds[0]; f++) {
        char rel[256];
        snprintf(rel, sizeof rel, "tests/fuzz/corpus/parquet/%s.parquet", seeds[f]);
        struct hret_table *t = NULL;
        struct hret_err err = HRET_ERR_INIT;
        if (hret_table_read(hret_test_path(rel), HRET_TABLE_AUTO, &t, &err) != HRET_OK) {
            fail_msg("%s: %s", seeds[f], err.msg);
        }
        assert_int_equal(hret_table_rows(t), 6);
        assert_int_equal(hret_table_cols(t), 13);
        for (size_t i = 0; i < sizeof wants / sizeof wants[0]; i++) {
            size_t col;
            assert_true(hret_table_find(t, wants[i].col, &col));
            const char *got = hret_table_cell(t, wants[i].row, col);
            if (wants[i].text == NULL ? got != NULL : got == NULL || strcmp(got, wants[i].text)) {
                fail_msg("%s row %zu %s: got %s", seeds[f], wants[i].row, wants[i].col,
                         got ? got : "NULL");
            }
        }
        assert_int_equal(hret_table_line(t, 5), 6);
        hret_table_destroy(t);
    }
}

static void refused(const char *name, const char *bytes, size_t len, const char *want)
{
    struct hret_table *t = NULL;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_table_parse(name, bytes, len, HRET_TABLE_AUTO, &t, &err), HRET_E_INVAL);
    assert_null(t);
    if (strstr(err.msg, want) == NULL || strstr(err.msg, name) == NULL) {
        fail_msg("%s: '%s' lacks '%s'", name, err.msg, want);
    }
}

static void test_refusals(void **state)
{
    (void)state;
    struct hret_buf b;
    struct hret_err err = HRET_ERR_INIT;
    hret_buf_init(&b, 1 << 20);
    assert_int_equal(hret_buf_append_file(&b,
                                          hret_test_path("tests/fuzz/corpus/parquet/"
                                                         "seed_struct.parquet"),
                                          &err),
                     HRET_OK);
    refused("s.parquet", b.data, b.len, "column 'st': a struct (nested group) is not supported");
    hret_buf_reset(&b);
    assert_int_equal(hret_buf_append_file(&b,
                                          hret_test_path("tests/fuzz/corpus/parquet/"
                                                         "seed_v2.6_page2.0_zstd_plain.parquet"),
                                          &err),
                     HRET_OK);
    refused("cut.parquet", b.data, b.len / 2, "not a Parquet file");
    char bad[64];
    memcpy(bad, b.data, sizeof bad); /* the head of a real file, then a footer claiming 4 GiB */
    memcpy(bad + 56, "\xff\xff\xff\xffPAR1", 8);
    refused("long.parquet", bad, sizeof bad, "footer length");
    hret_buf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_files_give_pyarrows_values),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
