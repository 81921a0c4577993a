/* Small non-cryptographic hashes for content keys (answer keys, de-duplication). The values end
 * up in files, so they are fixed: FNV-1a 64-bit and its 16-digit lowercase hex form. */
#ifndef HRET_HASH_H
#define HRET_HASH_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a 64-bit hash of len bytes at data (borrowed; may be NULL when len is 0). */
uint64_t hret_hash_fnv1a64(const void *data, size_t len);
/* Writes h as exactly 16 lowercase hex digits plus a NUL into out (borrowed). */
void hret_hash_hex64(uint64_t h, char out[17]);

/* SHA-256 of data as 64 lowercase hex digits + NUL (OpenSSL libcrypto). For keys that must
 * not collide: response cache entries, content versions. */
void hret_hash_sha256_hex(const void *data, size_t len, char out[65]);

/* HMAC-SHA256 of data under key as 64 lowercase hex digits + NUL: webhook signatures
 * ("X-Hret-Signature: sha256=<hex>"). */
void hret_hash_hmac_sha256_hex(const void *key, size_t key_len, const void *data, size_t len,
                               char out[65]);

#endif
