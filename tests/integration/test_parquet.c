/* hret_parquet through hret_table: files written by pyarrow (tests/data/parquet/gen_parquet.py,
 * in the venv of deploy/local/pyvenv.sh pyarrow) in every supported combination of format version,
 * data page version, dictionary and codec, read back cell by cell against the text pyarrow's own
 * values give; and the files the reader must refuse, each refused naming file, column and
 * feature. Both entry points: hret_table_read (a row group at a time) and hret_table_parse. */
#include "hret_test.h"

#include <string.h>

#include <cjson/cJSON.h>

#include "hret_buf.h"
#include "hret_table.h"

static char dir[] = "/tmp/hret_parquet_XXXXXX";
static cJSON *manifest;

static char *slurp(const char *path, size_t *len)
{
    struct hret_buf b;
    struct hret_err err = HRET_ERR_INIT;
    hret_buf_init(&b, (size_t)1 << 30);
    if (hret_buf_append_file(&b, path, &err) != HRET_OK) {
        print_error("%s\n", err.msg);
        return NULL;
    }
    *len = b.len;
    return hret_buf_take(&b);
}

static int setup(void **state)
{
    (void)state;
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "set -e; venv=$(bash '%s/deploy/local/pyvenv.sh' pyarrow); "
             "\"$venv/bin/python\" '%s/tests/data/parquet/gen_parquet.py' '%s'",
             getenv("HRET_SOURCE_DIR"), getenv("HRET_SOURCE_DIR"), dir);
    if (system(cmd) != 0) {
        print_error("generating the Parquet files failed\n");
        return -1;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    size_t len;
    char *text = slurp(path, &len);
    manifest = text ? cJSON_ParseWithLength(text, len) : NULL;
    free(text);
    return manifest ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    cJSON_Delete(manifest);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void check_table(const struct hret_table *t, const cJSON *want, const char *file)
{
    const cJSON *cols = cJSON_GetObjectItem(want, "columns");
    const cJSON *rows = cJSON_GetObjectItem(want, "rows");
    assert_int_equal(hret_table_cols(t), (size_t)cJSON_GetArraySize(cols));
    assert_int_equal(hret_table_rows(t), (size_t)cJSON_GetArraySize(rows));
    for (size_t c = 0; c < hret_table_cols(t); c++) {
        assert_string_equal(hret_table_col_name(t, c),
                            cJSON_GetArrayItem(cols, (int)c)->valuestring);
    }
    size_t r = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, rows)
    {
        assert_int_equal(hret_table_line(t, r), r + 1);
        for (size_t c = 0; c < hret_table_cols(t); c++) {
            const cJSON *w = cJSON_GetArrayItem(row, (int)c);
            const char *got = hret_table_cell(t, r, c);
            bool same = cJSON_IsNull(w) ? got == NULL : got && strcmp(got, w->valuestring) == 0;
            if (!same) {
                print_error("%s row %zu column %s: got %s%s%s, want %s\n", file, r,
                            hret_table_col_name(t, c), got ? "'" : "", got ? got : "NULL",
                            got ? "'" : "", cJSON_IsNull(w) ? "NULL" : w->valuestring);
                fail();
            }
        }
        r++;
    }
}

static void test_supported_files_read_cell_by_cell(void **state)
{
    (void)state;
    const cJSON *tables = cJSON_GetObjectItem(manifest, "tables");
    assert_true(cJSON_GetArraySize(tables) >= 26);
    const cJSON *want;
    cJSON_ArrayForEach(want, tables)
    {
        const char *file = cJSON_GetObjectItem(want, "file")->valuestring;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, file);
        struct hret_table *t = NULL;
        struct hret_err err = HRET_ERR_INIT;
        if (hret_table_read(path, HRET_TABLE_AUTO, &t, &err) != HRET_OK) {
            print_error("%s: %s\n", file, err.msg);
            fail();
        }
        check_table(t, want, file);
        hret_table_destroy(t);

        size_t len;
        char *bytes = slurp(path, &len);
        assert_non_null(bytes);
        assert_int_equal(hret_table_parse(file, bytes, len, HRET_TABLE_PARQUET, &t, &err), HRET_OK);
        check_table(t, want, file);
        hret_table_destroy(t);
        free(bytes);
    }
}

static void test_unsupported_files_refused_naming_file_column_feature(void **state)
{
    (void)state;
    const cJSON *refusals = cJSON_GetObjectItem(manifest, "refusals");
    assert_true(cJSON_GetArraySize(refusals) >= 13);
    const cJSON *want;
    cJSON_ArrayForEach(want, refusals)
    {
        const char *file = cJSON_GetObjectItem(want, "file")->valuestring;
        const char *column = cJSON_GetObjectItem(want, "column")->valuestring;
        const char *feature = cJSON_GetObjectItem(want, "feature")->valuestring;
        char path[4200], quoted[256];
        snprintf(path, sizeof path, "%s/%s", dir, file);
        snprintf(quoted, sizeof quoted, "column '%s'", column);
        struct hret_table *t = NULL;
        struct hret_err err = HRET_ERR_INIT;
        assert_int_equal(hret_table_read(path, HRET_TABLE_AUTO, &t, &err), HRET_E_INVAL);
        assert_null(t);
        if (strstr(err.msg, path) == NULL || strstr(err.msg, feature) == NULL ||
            (column[0] != '\0' && strstr(err.msg, quoted) == NULL)) {
            print_error("%s: message '%s' should name the file, %s and '%s'\n", file, err.msg,
                        quoted, feature);
            fail();
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_supported_files_read_cell_by_cell),
        cmocka_unit_test(test_unsupported_files_refused_naming_file_column_feature),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
