/* The Parquet reader (hret_parquet*.c through hret_table): any bytes as a .parquet file, then
 * every cell of what parsed is read back. Seeds: small files pyarrow wrote
 * (tests/data/parquet/gen_parquet.py --corpus). */
#include <stdlib.h>
#include <string.h>

#include "hret_fuzz.h"
#include "hret_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hret_table *t = NULL;
    struct hret_err err = HRET_ERR_INIT;
    if (hret_table_parse("fuzz.parquet", (const char *)data, size, HRET_TABLE_PARQUET, &t, &err) !=
        HRET_OK) {
        if (t != NULL || err.msg[0] == '\0') {
            abort(); /* a refusal leaves nothing behind and says why */
        }
        return 0;
    }
    size_t sum = 0;
    for (size_t c = 0; c < hret_table_cols(t); c++) {
        sum += strlen(hret_table_col_name(t, c));
    }
    for (size_t r = 0; r < hret_table_rows(t); r++) {
        for (size_t c = 0; c < hret_table_cols(t); c++) {
            const char *cell = hret_table_cell(t, r, c);
            sum += cell != NULL ? strlen(cell) : 0;
        }
    }
    (void)sum;
    hret_table_destroy(t);
    return 0;
}
