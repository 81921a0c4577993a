#include "hret_hash.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#define FNV64_OFFSET_BASIS 0xcbf29ce484222325ULL
#define FNV64_PRIME 0x100000001b3ULL

uint64_t hret_hash_fnv1a64(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = FNV64_OFFSET_BASIS;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= FNV64_PRIME;
    }
    return h;
}

void hret_hash_hex64(uint64_t h, char out[17])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        out[i] = digits[h & 0xf];
        h >>= 4;
    }
    out[16] = '\0';
}

static void hex32(const unsigned char *md, unsigned int n, char out[65])
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned int i = 0; i < n && i < 32; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    out[64] = '\0';
}

void hret_hash_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    hex32(md, n, out);
}

void hret_hash_hmac_sha256_hex(const void *key, size_t key_len, const void *data, size_t len,
                               char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(EVP_sha256(), key, (int)key_len, data, len, md, &n);
    hex32(md, n, out);
}
