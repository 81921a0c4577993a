/* The webhook signature header (see hret_webhook.h). */
#include "hret_webhook.h"

#include <stdio.h>

#include "hret_hash.h"

void hret_webhook_signature_line(const void *key, size_t key_len, const void *body, size_t len,
                                 char out[HRET_WEBHOOK_SIGNATURE_LINE])
{
    char hex[65];
    hret_hash_hmac_sha256_hex(key, key_len, body, len, hex);
    snprintf(out, HRET_WEBHOOK_SIGNATURE_LINE, "%s: sha256=%s", HRET_WEBHOOK_SIGNATURE, hex);
}
