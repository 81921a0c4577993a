/* The webhook signature headers (see hret_webhook.h). */
#include "hret_webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hret_hash.h"
#include "hret_mem.h"

void hret_webhook_sign(const void *key, size_t key_len, long long now, const char *delivery,
                       const void *body, size_t len, struct hret_webhook_sig *out)
{
    snprintf(out->timestamp, sizeof out->timestamp, "%s: %lld", HRET_WEBHOOK_TIMESTAMP, now);
    out->signature[0] = '\0';
    if (key == NULL) {
        return;
    }
    char prefix[64];
    int plen = snprintf(prefix, sizeof prefix, "%lld.", now);
    size_t dlen = strlen(delivery);
    size_t total = (size_t)plen + dlen + 1 + len;
    char *signed_text = hret_xmalloc(total);
    memcpy(signed_text, prefix, (size_t)plen);
    memcpy(signed_text + plen, delivery, dlen);
    signed_text[(size_t)plen + dlen] = '.';
    if (len > 0) {
        memcpy(signed_text + (size_t)plen + dlen + 1, body, len);
    }
    char hex[65];
    hret_hash_hmac_sha256_hex(key, key_len, signed_text, total, hex);
    free(signed_text);
    snprintf(out->signature, sizeof out->signature, "%s: sha256=%s", HRET_WEBHOOK_SIGNATURE, hex);
}
