/* The sample spool (issue 25, flat memory): what goes in comes back field for field, in any
 * order (NULL fields, options, metadata included); keep() renumbers as the draw says; the
 * seeded draw is the same on every call. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_dataset_spool.h"
#include "hret_mem.h"

static void make(struct hret_sample *s, size_t i)
{
    memset(s, 0, sizeof *s);
    s->id = hret_xasprintf("Law/test/%zu", i);
    s->subset = i % 3 ? hret_xstrdup("Law") : NULL;
    s->input = hret_xasprintf("질문 %zu\n\"quoted\"", i);
    s->reference = i % 4 ? hret_xstrdup("(B)") : NULL;
    for (size_t k = 0; k < i % 5; k++) {
        hret_strlist_push(&s->options, hret_xasprintf("opt %zu", k));
    }
    if (i % 2) {
        s->metadata = cJSON_CreateObject();
        cJSON_AddStringToObject(s->metadata, "row", s->id);
        cJSON_AddNumberToObject(s->metadata, "n", (double)i / 3);
    }
}

static void assert_str(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        assert_ptr_equal(a, b);
    } else {
        assert_string_equal(a, b);
    }
}

static void assert_same(const struct hret_sample *a, const struct hret_sample *b)
{
    assert_str(a->id, b->id);
    assert_str(a->subset, b->subset);
    assert_str(a->input, b->input);
    assert_str(a->reference, b->reference);
    assert_int_equal(a->options.count, b->options.count);
    for (size_t k = 0; k < a->options.count; k++) {
        assert_string_equal(a->options.items[k], b->options.items[k]);
    }
    assert_int_equal(a->metadata != NULL, b->metadata != NULL);
    if (a->metadata != NULL) {
        assert_true(cJSON_Compare(a->metadata, b->metadata, true));
    }
}

static void test_round_trip_in_any_order(void **state)
{
    (void)state;
    struct hret_ds_spool *sp = NULL;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_ds_spool_new(&sp, &err), HRET_OK);
    for (size_t i = 0; i < 50; i++) {
        struct hret_sample s;
        make(&s, i);
        hret_ds_spool_push(sp, &s);
        hret_sample_fini(&s);
    }
    assert_int_equal(hret_ds_spool_count(sp), 50);
    assert_int_equal(hret_ds_spool_check(sp, &err), HRET_OK);
    for (size_t j = 0; j < 50; j++) {
        size_t i = (j * 17) % 50; /* out of order */
        struct hret_sample want, got;
        make(&want, i);
        assert_int_equal(hret_ds_spool_read(sp, i, &got, &err), HRET_OK);
        assert_same(&want, &got);
        hret_sample_fini(&want);
        hret_sample_fini(&got);
    }
    /* writing after reading appends */
    struct hret_sample s, got;
    make(&s, 50);
    hret_ds_spool_push(sp, &s);
    assert_int_equal(hret_ds_spool_read(sp, 50, &got, &err), HRET_OK);
    assert_same(&s, &got);
    hret_sample_fini(&s);
    hret_sample_fini(&got);
    assert_int_not_equal(hret_ds_spool_read(sp, 51, &got, &err), HRET_OK);
    hret_ds_spool_destroy(sp);
}

static void test_keep_follows_the_draw(void **state)
{
    (void)state;
    struct hret_ds_spool *sp = NULL;
    struct hret_err err = HRET_ERR_INIT;
    assert_int_equal(hret_ds_spool_new(&sp, &err), HRET_OK);
    for (size_t i = 0; i < 20; i++) {
        struct hret_sample s;
        make(&s, i);
        hret_ds_spool_push(sp, &s);
        hret_sample_fini(&s);
    }
    size_t perm[15], again[15];
    hret_ds_draw(perm, 15, 6, 42);
    hret_ds_draw(again, 15, 6, 42);
    assert_memory_equal(perm, again, sizeof perm);
    hret_ds_spool_keep(sp, 5, perm, 6); /* entries 5..19 -> 6 of them */
    assert_int_equal(hret_ds_spool_count(sp), 11);
    for (size_t i = 0; i < 11; i++) {
        struct hret_sample want, got;
        make(&want, i < 5 ? i : 5 + perm[i - 5]);
        assert_int_equal(hret_ds_spool_read(sp, i, &got, &err), HRET_OK);
        assert_same(&want, &got);
        hret_sample_fini(&want);
        hret_sample_fini(&got);
    }
    hret_ds_spool_destroy(sp);
}

/* Three spools loaded side by side, joined in the order the ranges give: entries from every
 * part read back from the joined spool (over the 1 MB write chunk, so from the files), and
 * pushing after the join still appends. */
static void test_join_in_range_order(void **state)
{
    (void)state;
    struct hret_ds_spool *parts[3];
    struct hret_err err = HRET_ERR_INIT;
    const size_t per = 8000; /* about 1.2 MB a part: over the write chunk */
    for (size_t p = 0; p < 3; p++) {
        assert_int_equal(hret_ds_spool_new(&parts[p], &err), HRET_OK);
        for (size_t i = 0; i < per; i++) {
            struct hret_sample s;
            make(&s, p * per + i);
            hret_ds_spool_push(parts[p], &s);
            hret_sample_fini(&s);
        }
    }
    /* subsets A (part 1, first half), B (part 0, all), C (part 1, second half), D (part 2) */
    const struct hret_ds_spool_range ranges[] = {
        {1, 0, per / 2}, {0, 0, per}, {1, per / 2, per - per / 2}, {2, 0, per}};
    assert_int_equal(hret_ds_spool_join(parts, 3, ranges, 4, &err), HRET_OK);
    assert_null(parts[1]);
    assert_null(parts[2]);
    assert_int_equal(hret_ds_spool_count(parts[0]), 4 * per - per);
    size_t n = 0;
    for (size_t r = 0; r < 4; r++) {
        for (size_t k = 0; k < ranges[r].count; k++, n++) {
            if (n % 7 != 0) {
                continue;
            }
            struct hret_sample want, got;
            make(&want, ranges[r].part * per + ranges[r].first + k);
            assert_int_equal(hret_ds_spool_read(parts[0], n, &got, &err), HRET_OK);
            assert_same(&want, &got);
            hret_sample_fini(&want);
            hret_sample_fini(&got);
        }
    }
    struct hret_sample s, got;
    make(&s, 99999);
    hret_ds_spool_push(parts[0], &s);
    assert_int_equal(hret_ds_spool_read(parts[0], n, &got, &err), HRET_OK);
    assert_same(&s, &got);
    hret_sample_fini(&s);
    hret_sample_fini(&got);
    hret_ds_spool_destroy(parts[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_in_any_order),
        cmocka_unit_test(test_keep_follows_the_draw),
        cmocka_unit_test(test_join_in_range_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
