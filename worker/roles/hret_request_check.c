#include "hret_request_check.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "hret_utf8.h"

enum hret_result hret_request_prescan(const char *text, size_t len, size_t max_len, int max_depth,
                                      struct hret_err *err)
{
    if (len > max_len) {
        return hret_err_set(err, HRET_E_INVAL,
                            "request is %zu bytes, over kafka.max_message_bytes (%zu)", len,
                            max_len);
    }
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 0x80) {
            uint32_t cp = 0;
            size_t n = hret_utf8_decode(text + i, len - i, &cp);
            /* an invalid byte decodes alone to U+DC80..U+DCFF, which valid UTF-8 never
             * encodes (surrogates are not allowed in UTF-8) */
            if (cp >= HRET_UTF8_ESCAPE_BASE + 0x80 && cp <= HRET_UTF8_ESCAPE_BASE + 0xFF) {
                return hret_err_set(err, HRET_E_INVAL, "invalid UTF-8 at byte %zu", i);
            }
            i += n;
            continue;
        }
        if (in_string) {
            if (c == '\\' && i + 1 < len) {
                if (text[i + 1] == 'u' && len - i >= 6 && memcmp(text + i + 2, "0000", 4) == 0) {
                    return hret_err_set(err, HRET_E_INVAL,
                                        "a \\u0000 escape at byte %zu (NUL is not allowed in "
                                        "requests)",
                                        i);
                }
                i += 2;
                continue;
            }
            in_string = c != '"';
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth) {
                return hret_err_set(err, HRET_E_INVAL, "nesting deeper than %d levels at byte %zu",
                                    max_depth, i);
            }
        } else if (c == '}' || c == ']') {
            depth--;
        }
        i++;
    }
    return HRET_OK;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

bool hret_request_key_is_secret(const char *key)
{
    static const char *const words[] = {
        "password", "passwd",  "secret",      "authorization", "credential", "cookie",    "bearer",
        "apikey",   "api_key", "private_key", "privatekey",    "access_key", "accesskey",
    };
    char low[256];
    size_t n = 0;
    for (; key[n] != '\0' && n < sizeof low - 1; n++) {
        char c = key[n];
        low[n] = c == '-' ? '_' : (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    low[n] = '\0';
    /* "_env" and "_file" use a literal underscore, as in the schema's pattern */
    size_t raw = strlen(key);
    if (raw >= 4 && (strcasecmp(key + raw - 4, "_env") == 0 ||
                     (raw >= 5 && strcasecmp(key + raw - 5, "_file") == 0))) {
        return false;
    }
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (strstr(low, words[i]) != NULL) {
            return true;
        }
    }
    return ends_with(low, n, "token");
}

static void path_append(char *path, size_t cap, const char *key, int index)
{
    size_t used = strlen(path);
    if (used >= cap) {
        return;
    }
    if (key != NULL) {
        snprintf(path + used, cap - used, "%s%s", used > 0 ? "." : "", key);
    } else {
        snprintf(path + used, cap - used, "[%d]", index);
    }
}

static bool find_secret(const cJSON *item, char *path, size_t cap)
{
    size_t mark = strlen(path);
    int index = 0;
    for (const cJSON *c = item->child; c != NULL; c = c->next, index++) {
        if (cJSON_IsObject(item)) {
            path_append(path, cap, c->string, 0);
            if (hret_request_key_is_secret(c->string)) {
                return true;
            }
        } else {
            path_append(path, cap, NULL, index);
        }
        if ((cJSON_IsObject(c) || cJSON_IsArray(c)) && find_secret(c, path, cap)) {
            return true;
        }
        path[mark] = '\0';
    }
    return false;
}

bool hret_request_find_secret(const cJSON *doc, char *path, size_t cap)
{
    if (cap == 0) {
        return false;
    }
    path[0] = '\0';
    return (cJSON_IsObject(doc) || cJSON_IsArray(doc)) && find_secret(doc, path, cap);
}

/* A host made of digits and dots must be a plain dotted quad: 4 parts, 0-255, no leading
 * zeros (so no 2852039166, 0251.0376.169.254 or 169.254.43518 spelling of a blocked address). */
static bool numeric_host_ok(const char *h, unsigned char quad[4])
{
    int parts = 0;
    for (const char *p = h; *p;) {
        size_t n = strspn(p, "0123456789");
        if (n == 0 || n > 3 || (n > 1 && *p == '0') || parts == 4) {
            return false;
        }
        int v = 0;
        for (size_t i = 0; i < n; i++) {
            v = v * 10 + (p[i] - '0');
        }
        if (v > 255) {
            return false;
        }
        quad[parts++] = (unsigned char)v;
        p += n;
        if (*p == '.') {
            p++;
            if (*p == '\0') {
                return false;
            }
        }
    }
    return parts == 4;
}

static bool host_forbidden(const char *host, char *why, size_t cap)
{
    if (host[0] == '[') { /* IPv6 literal, lower case */
        if (strncmp(host, "[fe8", 4) == 0 || strncmp(host, "[fe9", 4) == 0 ||
            strncmp(host, "[fea", 4) == 0 || strncmp(host, "[feb", 4) == 0 ||
            strncmp(host, "[::ffff:", 8) == 0 || strcmp(host, "[::]") == 0 ||
            strcmp(host, "[fd00:ec2::254]") == 0) {
            snprintf(why, cap,
                     "host %s is link-local, unspecified, IPv4-mapped or a cloud "
                     "metadata address; such endpoints are never allowed",
                     host);
            return true;
        }
        return false;
    }
    if (strcmp(host, "metadata") == 0 || strncmp(host, "metadata.", 9) == 0) {
        snprintf(why, cap, "host %s is a cloud metadata service; such endpoints are never allowed",
                 host);
        return true;
    }
    if (host[strspn(host, "0123456789.")] == '\0' || strncmp(host, "0x", 2) == 0) {
        unsigned char q[4];
        if (!numeric_host_ok(host, q)) {
            snprintf(why, cap, "host %s is a numeric address not in dotted-quad form", host);
            return true;
        }
        if ((q[0] == 169 && q[1] == 254) || q[0] == 0) {
            snprintf(why, cap,
                     "host %s is link-local (169.254.0.0/16, cloud metadata) or "
                     "unspecified (0.0.0.0/8); such endpoints are never allowed",
                     host);
            return true;
        }
    }
    return false;
}

static bool on_allowlist(const char *host, const struct hret_strlist *allow)
{
    size_t hn = strlen(host);
    for (size_t i = 0; i < allow->count; i++) {
        const char *a = allow->items[i];
        if (strcasecmp(a, host) == 0) {
            return true;
        }
        size_t an = strlen(a);
        if (an > 2 && a[0] == '*' && a[1] == '.' && hn > an - 1 &&
            strcasecmp(host + hn - (an - 1), a + 1) == 0) {
            return true;
        }
    }
    return false;
}

bool hret_request_check_url(const char *url, const struct hret_endpoints_config *policy, char *why,
                            size_t cap)
{
    if (!policy->allow_inline) {
        snprintf(why, cap,
                 "inline endpoints are not allowed (endpoints.allow_inline is false); "
                 "name a model from the config instead");
        return false;
    }
    size_t skip = strncasecmp(url, "http://", 7) == 0    ? 7
                  : strncasecmp(url, "https://", 8) == 0 ? 8
                                                         : 0;
    if (skip == 0) {
        snprintf(why, cap, "only http:// and https:// endpoints are allowed");
        return false;
    }
    const char *auth = url + skip;
    size_t alen = strcspn(auth, "/?#");
    if (memchr(auth, '@', alen) != NULL) {
        snprintf(why, cap, "user information (user:password@) is not allowed in endpoint URLs");
        return false;
    }
    for (const char *p = url; *p; p++) {
        if ((unsigned char)*p <= ' ' || *p == '\\' || *p == 0x7f) {
            snprintf(why, cap, "the endpoint URL has whitespace, a control character or '\\'");
            return false;
        }
    }
    char host[256];
    size_t hlen = 0;
    if (alen > 0 && auth[0] == '[') {
        const char *close = memchr(auth, ']', alen);
        hlen = close ? (size_t)(close - auth) + 1 : alen;
    } else {
        hlen = strcspn(auth, ":/?#");
    }
    if (hlen == 0 || hlen >= sizeof host || memchr(auth, '%', alen) != NULL) {
        snprintf(why, cap, "the endpoint URL has no usable host");
        return false;
    }
    for (size_t i = 0; i < hlen; i++) {
        char c = auth[i];
        host[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    host[hlen] = '\0';
    if (hlen > 1 && host[hlen - 1] == '.') {
        host[hlen - 1] = '\0'; /* "example.com." is example.com */
    }
    const char *port = auth + hlen;
    if (port < auth + alen && *port == ':') {
        size_t pn = strspn(port + 1, "0123456789");
        if (pn == 0 || pn > 5 || port + 1 + pn != auth + alen) {
            snprintf(why, cap, "the endpoint URL has a bad port");
            return false;
        }
    } else if (port != auth + alen) {
        snprintf(why, cap, "the endpoint URL has no usable host");
        return false;
    }
    if (host_forbidden(host, why, cap)) {
        return false;
    }
    if (!on_allowlist(host, &policy->allowlist)) {
        snprintf(why, cap, "host '%s' is not on endpoints.allowlist", host);
        return false;
    }
    return true;
}
