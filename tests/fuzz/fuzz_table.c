/* The tabular readers under every dataset loader: the same bytes as CSV, TSV, a JSON array and
 * JSONL, then every cell of what parsed is read back. */
#include <stdlib.h>
#include <string.h>

#include "hret_fuzz.h"
#include "hret_table.h"

static void parse_as(enum hret_table_format fmt, const uint8_t *data, size_t size)
{
    struct hret_table *t = NULL;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_table_parse("fuzz", (const char *)data, size, fmt, &t, &err) != HRET_OK) {
        hret_table_destroy(t);
        return;
    }
    size_t rows = hret_table_rows(t), cols = hret_table_cols(t);
    size_t sum = strlen(hret_table_name(t));
    for (size_t c = 0; c < cols; c++) {
        const char *name = hret_table_col_name(t, c);
        size_t found = 0;
        if (name == NULL || !hret_table_find(t, name, &found) || found > c) {
            abort(); /* every column has a name that finds it (or an earlier duplicate) */
        }
    }
    for (size_t r = 0; r < rows; r++) {
        sum += hret_table_line(t, r);
        for (size_t c = 0; c < cols; c++) {
            const char *cell = hret_table_cell(t, r, c);
            sum += cell != NULL ? strlen(cell) : 0;
        }
    }
    (void)sum;
    hret_table_destroy(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse_as(HRET_TABLE_CSV, data, size);
    parse_as(HRET_TABLE_TSV, data, size);
    parse_as(HRET_TABLE_JSON, data, size);
    parse_as(HRET_TABLE_JSONL, data, size);
    return 0;
}
