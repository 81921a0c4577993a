/* The CloudEvents binary-mode header parser on the headers of a Kafka message from anyone. The
 * input is a list of headers, each one byte of name length, one byte of value length (0xff: a
 * NULL value), the name and the value; an incomplete last header is dropped. */
#include <stdbool.h>
#include <sys/types.h>

#include <librdkafka/rdkafka.h>

#include "hret_cloudevents.h"
#include "hret_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(8);
    size_t i = 0;
    while (i + 2 <= size) {
        size_t name_len = data[i], value_len = data[i + 1];
        bool null_value = value_len == 0xff;
        if (null_value) {
            value_len = 0;
        }
        i += 2;
        if (name_len + value_len > size - i) {
            break;
        }
        const char *name = (const char *)data + i;
        const void *value = null_value ? NULL : data + i + name_len;
        rd_kafka_header_add(hdrs, name, (ssize_t)name_len, value, (ssize_t)value_len);
        i += name_len + value_len;
    }
    struct hret_cloudevent ev;
    struct hret_err err = HRET_ERR_INIT;
    (void)hret_cloudevent_from_headers(hdrs, &ev, &err);
    char buf[64];
    (void)hret_cloudevent_header(hdrs, "content-type", buf, sizeof buf);
    rd_kafka_headers_destroy(hdrs);
    return 0;
}
