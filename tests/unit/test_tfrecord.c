/* TFRecord framing and the Event protobuf subset: CRC-32C against published vectors (RFC 3720
 * B.4 and the common check value), TFRecord masking, a framed record and Events checked byte for
 * byte against vectors encoded by hand from the protobuf wire format. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "hret_tfrecord.h"

static void test_crc32c_vectors(void **state)
{
    (void)state;
    unsigned char zeros[32] = {0}, ones[32], ascending[32];
    memset(ones, 0xFF, sizeof ones);
    for (int i = 0; i < 32; i++) {
        ascending[i] = (unsigned char)i;
    }
    assert_true(hret_crc32c("123456789", 9) == 0xE3069283u);
    assert_true(hret_crc32c(zeros, 32) == 0x8A9136AAu);
    assert_true(hret_crc32c(ones, 32) == 0x62A8AB43u);
    assert_true(hret_crc32c(ascending, 32) == 0x46DD794Eu);
    assert_true(hret_crc32c("", 0) == 0);
}

static void test_mask(void **state)
{
    (void)state;
    /* rotate right by 15, add 0xa282ead8 (mod 2^32) */
    assert_true(hret_tfrecord_mask(0) == 0xA282EAD8u);
    assert_true(hret_tfrecord_mask(0xE3069283u) == 0xC78AB0E5u);
    assert_true(hret_tfrecord_mask(0x00008000u) == 0xA282EAD9u); /* bit 15 rotates to bit 0 */
}

static void test_frame(void **state)
{
    (void)state;
    static const unsigned char want[] = {
        0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* length 5, little-endian u64 */
        0xea, 0xb2, 0x04, 0x3e,                         /* masked CRC-32C of the length */
        'h',  'e',  'l',  'l',  'o',                    /* data */
        0xbb, 0x1f, 0x1c, 0x19,                         /* masked CRC-32C of the data */
    };
    struct hret_buf b;
    struct hret_err err = HRET_ERR_INIT;
    hret_buf_init(&b, 1024);
    assert_int_equal(hret_tfrecord_frame(&b, "hello", 5, &err), HRET_OK);
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    hret_buf_fini(&b);
}

static void test_event_file_version(void **state)
{
    (void)state;
    static const unsigned char want[] = {
        0x09, 0,    0,   0,   0,   0,   0,   0xF8, 0x3F, /* wall_time = 1 (fixed64): 1.5 */
        0x1a, 0x0d, 'b', 'r', 'a', 'i', 'n', '.',  'E',  'v', 'e', 'n', 't', ':', '2',
        /* no step (0 is the default), no summary */
    };
    struct hret_buf b;
    struct hret_err err = HRET_ERR_INIT;
    hret_buf_init(&b, 1024);
    assert_int_equal(hret_tfrecord_event(&b, 1.5, 0, "brain.Event:2", NULL, 0, &err), HRET_OK);
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    hret_buf_fini(&b);
}

static void test_event_scalars(void **state)
{
    (void)state;
    static const unsigned char want[] = {
        0x09, 0,    0,    0,    0,    0, 0, 0xF8, 0x3F, /* wall_time 1.5 */
        0x10, 0xAC, 0x02,                               /* step = 2 (varint): 300 */
        0x2a, 0x18,                                     /* summary = 5, 24 bytes */
        0x0a, 0x0a,                                     /*   value = 1, 10 bytes */
        0x0a, 0x03, 'a',  'c',  'c',                    /*     tag = 1: "acc" */
        0x15, 0x00, 0x00, 0x00, 0x3F,                   /*     simple_value = 2 (fixed32): 0.5f */
        0x0a, 0x0a,                                     /*   value = 1, 10 bytes */
        0x0a, 0x03, 'x',  '/',  'y',                    /*     tag "x/y" */
        0x15, 0x00, 0x00, 0x80, 0xBF,                   /*     -1.0f */
    };
    const struct hret_tfrecord_scalar values[] = {{"acc", 0.5f}, {"x/y", -1.0f}};
    struct hret_buf b;
    struct hret_err err = HRET_ERR_INIT;
    hret_buf_init(&b, 1024);
    assert_int_equal(hret_tfrecord_event(&b, 1.5, 300, NULL, values, 2, &err), HRET_OK);
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    hret_buf_fini(&b);
}

static void test_negative_step_and_cap(void **state)
{
    (void)state;
    struct hret_buf b;
    struct hret_err err = HRET_ERR_INIT;
    hret_buf_init(&b, 1024);
    /* int64 -1 is ten varint bytes: nine 0xFF then 0x01 */
    assert_int_equal(hret_tfrecord_event(&b, 0, -1, NULL, NULL, 0, &err), HRET_OK);
    static const unsigned char step[] = {0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                         0xFF, 0xFF, 0xFF, 0xFF, 0x01};
    assert_int_equal(b.len, 9 + sizeof step);
    assert_memory_equal(b.data + 9, step, sizeof step);
    hret_buf_fini(&b);

    hret_buf_init(&b, 16); /* past the cap: an error, never a silent truncation */
    const struct hret_tfrecord_scalar big[] = {{"a_rather_long_tag_name", 1.0f}};
    assert_int_not_equal(hret_tfrecord_event(&b, 1, 1, NULL, big, 1, &err), HRET_OK);
    assert_int_equal(err.code, HRET_E_PROTO);
    hret_buf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c_vectors), cmocka_unit_test(test_mask),
        cmocka_unit_test(test_frame),          cmocka_unit_test(test_event_file_version),
        cmocka_unit_test(test_event_scalars),  cmocka_unit_test(test_negative_step_and_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
