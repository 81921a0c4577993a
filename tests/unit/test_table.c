/* hret_table: CSV/TSV (RFC 4180), JSON array and JSONL readers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hret_table.h"

static struct hret_table *parse_ok(const char *name, const char *text)
{
    struct hret_table *t = NULL;
    struct hret_err err = HRET_ERR_INIT;
    enum hret_result r = hret_table_parse(name, text, strlen(text), HRET_TABLE_AUTO, &t, &err);
    if (r != HRET_OK) {
        print_error("unexpected error: %s\n", err.msg);
    }
    assert_int_equal(r, HRET_OK);
    return t;
}

static void parse_fails(const char *name, const char *text, const char *want)
{
    struct hret_table *t = NULL;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_table_parse(name, text, strlen(text), HRET_TABLE_AUTO, &t, &err),
                     HRET_E_INVAL);
    assert_null(t);
    if (strstr(err.msg, want) == NULL) {
        print_error("message '%s' lacks '%s'\n", err.msg, want);
        fail();
    }
}

static void assert_cell(const struct hret_table *t, size_t row, const char *col, const char *want)
{
    size_t c;
    assert_true(hret_table_find(t, col, &c));
    const char *got = hret_table_cell(t, row, c);
    if (want == NULL) {
        assert_null(got);
    } else {
        assert_non_null(got);
        assert_string_equal(got, want);
    }
}

static void test_csv_rfc4180(void **state)
{
    (void)state;
    const char *text = "\xEF\xBB\xBFid,question,answer\r\n"
                       "1,\"a, b\",2\r\n"
                       "2,\"say \"\"hi\"\"\nand go\",3\r\n"
                       "\r\n"
                       "3,plain,\r\n"
                       "4,\"\",x";
    struct hret_table *t = parse_ok("q.csv", text);
    assert_int_equal(hret_table_cols(t), 3);
    assert_string_equal(hret_table_col_name(t, 0), "id"); /* BOM dropped */
    assert_int_equal(hret_table_rows(t), 4);
    assert_cell(t, 0, "question", "a, b");
    assert_cell(t, 1, "question", "say \"hi\"\nand go");
    assert_cell(t, 2, "answer", "");
    assert_cell(t, 3, "question", "");
    assert_cell(t, 3, "answer", "x");
    assert_int_equal(hret_table_line(t, 0), 2);
    assert_int_equal(hret_table_line(t, 1), 3);
    assert_int_equal(hret_table_line(t, 2), 6); /* after a two-line field and a blank line */
    hret_table_destroy(t);
}

static void test_csv_short_and_long_rows(void **state)
{
    (void)state;
    struct hret_table *t = parse_ok("s.csv", "a,b,c\n1\n1,2,3\n");
    assert_int_equal(hret_table_rows(t), 2);
    assert_cell(t, 0, "a", "1");
    assert_cell(t, 0, "b", NULL);
    assert_cell(t, 1, "c", "3");
    hret_table_destroy(t);
    parse_fails("l.csv", "a,b\n1,2\n1,2,3\n", "l.csv:3: more fields");
    parse_fails("u.csv", "a,b\n1,2\n3,\"open\nstill open\n", "u.csv:3: unterminated quoted field");
    parse_fails("e.csv", "\n\n", "e.csv: empty file");
}

static void test_csv_lenient_quotes(void **state)
{
    (void)state;
    /* A quote inside an unquoted field is kept, text after a closing quote is appended (pandas'
     * behaviour), and a lone CR ends a record. */
    struct hret_table *t = parse_ok("q.csv", "a,b\rsay \"x\",\"q\"tail\r");
    assert_int_equal(hret_table_rows(t), 1);
    assert_cell(t, 0, "a", "say \"x\"");
    assert_cell(t, 0, "b", "qtail");
    hret_table_destroy(t);
}

static void test_tsv(void **state)
{
    (void)state;
    struct hret_table *t = parse_ok("x.tsv", "input\treference\nq, with comma\t\"a\tb\"\n");
    assert_int_equal(hret_table_rows(t), 1);
    assert_cell(t, 0, "input", "q, with comma");
    assert_cell(t, 0, "reference", "a\tb");
    hret_table_destroy(t);
}

static void test_json_array(void **state)
{
    (void)state;
    const char *text = "[{\"q\": \"가\", \"n\": 1, \"f\": 1.5, \"b\": true, \"z\": null},\n"
                       " {\"q\": \"나\", \"list\": [\"x\", 2], \"o\": {\"k\": \"v\"}}]";
    struct hret_table *t = parse_ok("x.json", text);
    assert_int_equal(hret_table_rows(t), 2);
    assert_int_equal(hret_table_cols(t), 7);
    assert_cell(t, 0, "n", "1");
    assert_cell(t, 0, "f", "1.5");
    assert_cell(t, 0, "b", "true");
    assert_cell(t, 0, "z", NULL);
    assert_cell(t, 0, "list", NULL); /* absent key */
    assert_cell(t, 1, "q", "나");
    assert_cell(t, 1, "list", "[\"x\",2]");
    assert_cell(t, 1, "o", "{\"k\":\"v\"}");
    assert_int_equal(hret_table_line(t, 1), 2); /* element position */
    hret_table_destroy(t);
    parse_fails("o.json", "{\"a\": 1}", "o.json: expected a JSON array of objects");
    parse_fails("e.json", "[{\"a\": 1}, 3]", "e.json:2: expected a JSON object");
    parse_fails("bad.json", "[\n{\"a\": 1},\n{\"a\": }\n]", "bad.json:3: invalid JSON");
}

static void test_jsonl(void **state)
{
    (void)state;
    const char *text = "{\"a\": \"1\"}\n\n  \n{\"a\": 2, \"b\": \"x\"}\r\n{\"b\": \"y\"}";
    struct hret_table *t = parse_ok("x.jsonl", text);
    assert_int_equal(hret_table_rows(t), 3);
    assert_cell(t, 0, "a", "1");
    assert_cell(t, 0, "b", NULL);
    assert_cell(t, 1, "a", "2");
    assert_cell(t, 2, "b", "y");
    assert_int_equal(hret_table_line(t, 1), 4);
    assert_int_equal(hret_table_line(t, 2), 5);
    hret_table_destroy(t);
    parse_fails("b.jsonl", "{\"a\": 1}\n{\"a\": 2}\n{\"a\": oops}\n", "b.jsonl:3: invalid JSON");
    parse_fails("n.jsonl", "{\"a\": 1}\n[1, 2]\n", "n.jsonl:2: expected a JSON object");
    parse_fails("t.jsonl", "{\"a\": 1} {\"a\": 2}\n", "t.jsonl:1: invalid JSON");
    parse_fails("t.json", "[{\"a\": 1}]\n\n]", "t.json:3: invalid JSON");
}

static void test_formats(void **state)
{
    (void)state;
    enum hret_table_format f;
    assert_int_equal(hret_table_format_of("a/b.CSV"), HRET_TABLE_CSV);
    assert_int_equal(hret_table_format_of("x.tsv"), HRET_TABLE_TSV);
    assert_int_equal(hret_table_format_of("x.jsonl"), HRET_TABLE_JSONL);
    assert_int_equal(hret_table_format_of("x.json"), HRET_TABLE_JSON);
    assert_int_equal(hret_table_format_of("x.parquet"), HRET_TABLE_PARQUET);
    assert_int_equal(hret_table_format_of("dir.v1/file"), HRET_TABLE_AUTO);
    assert_true(hret_table_format_parse("JSONL", &f));
    assert_int_equal(f, HRET_TABLE_JSONL);
    assert_true(hret_table_format_parse("parquet", &f));
    assert_int_equal(f, HRET_TABLE_PARQUET);
    assert_false(hret_table_format_parse("xlsx", &f));
    parse_fails("x.parquet", "PAR1", "x.parquet: too short for a Parquet file");
    parse_fails("x.parquet", "PAR1 not really a parquet file", "not a Parquet file");
    parse_fails("x.xlsx", "PK", "unknown file type");
}

static void test_read_file(void **state)
{
    (void)state;
    char path[] = "/tmp/hret_table_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "a,b\n1,\"x\ny\"\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct hret_table *t = NULL;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_table_read(path, HRET_TABLE_CSV, &t, &err), HRET_OK);
    assert_string_equal(hret_table_name(t), path);
    assert_cell(t, 0, "b", "x\ny");
    hret_table_destroy(t);
    unlink(path);
    t = NULL;
    assert_int_equal(hret_table_read(path, HRET_TABLE_CSV, &t, &err), HRET_E_INVAL);
    assert_non_null(strstr(err.msg, path));
    assert_null(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_rfc4180),
        cmocka_unit_test(test_csv_short_and_long_rows),
        cmocka_unit_test(test_csv_lenient_quotes),
        cmocka_unit_test(test_tsv),
        cmocka_unit_test(test_json_array),
        cmocka_unit_test(test_jsonl),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_read_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
