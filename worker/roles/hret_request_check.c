#include "hret_request_check.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hret_netguard.h"
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

/* Literal addresses by their class (hret_netguard.h: the check at connect time sees the same),
 * metadata names, and numeric hosts that are not a plain dotted quad. */
static bool host_forbidden(const char *host, const struct hret_endpoints_config *policy, char *why,
                           size_t cap)
{
    enum hret_net_class c;
    const char *what = NULL;
    if (hret_net_classify_text(host, &c, &what)) {
        enum hret_net_policy p =
            policy->allow_private_networks ? HRET_NET_PRIVATE_OK : HRET_NET_PUBLIC;
        if (!hret_net_allowed(p, c)) {
            snprintf(why, cap, "host %s is %s; %s", host, what,
                     c == HRET_NET_CLASS_FORBIDDEN
                         ? "such endpoints are never allowed"
                         : "inline endpoints reach loopback and private addresses only with "
                           "endpoints.allow_private_networks");
            return true;
        }
        return false;
    }
    if (host[0] == '[') {
        snprintf(why, cap, "host %s is not an IPv6 address", host);
        return true;
    }
    if (strcmp(host, "metadata") == 0 || strncmp(host, "metadata.", 9) == 0) {
        snprintf(why, cap, "host %s is a cloud metadata service; such endpoints are never allowed",
                 host);
        return true;
    }
    if (host[strspn(host, "0123456789.")] == '\0' || strncmp(host, "0x", 2) == 0) {
        snprintf(why, cap, "host %s is a numeric address not in dotted-quad form", host);
        return true;
    }
    return false;
}

/* Entry host (a bounded copy, lower case) and port (0: none) of "host[:port]", "*.d[:port]" or
 * "[v6][:port]"; false when the entry is malformed. */
static bool split_entry(const char *entry, char *host, size_t cap, long *port)
{
    const char *close = entry[0] == '[' ? strchr(entry, ']') : NULL;
    const char *colon = close ? (close[1] == ':' ? close + 1 : NULL) : strrchr(entry, ':');
    size_t hlen = close   ? (size_t)(close - entry) + 1
                  : colon ? (size_t)(colon - entry)
                          : strlen(entry);
    if (hlen == 0 || hlen >= cap || (close && close[1] != '\0' && close[1] != ':')) {
        return false;
    }
    for (size_t i = 0; i < hlen; i++) {
        host[i] = (char)tolower((unsigned char)entry[i]);
    }
    host[hlen] = '\0';
    *port = 0;
    if (colon != NULL) {
        char *end = NULL;
        *port = strtol(colon + 1, &end, 10);
        return colon[1] != '\0' && *end == '\0' && *port > 0 && *port <= 65535;
    }
    return true;
}

/* Host names compare case-insensitively, IPv6 literals by value. */
static bool same_host(const char *a, const char *b)
{
    struct in6_addr x, y;
    char ta[64], tb[64];
    size_t na = strlen(a), nb = strlen(b);
    if (a[0] == '[' && b[0] == '[' && na < sizeof ta + 1 && nb < sizeof tb + 1) {
        snprintf(ta, sizeof ta, "%.*s", (int)(na - 2), a + 1);
        snprintf(tb, sizeof tb, "%.*s", (int)(nb - 2), b + 1);
        return inet_pton(AF_INET6, ta, &x) == 1 && inet_pton(AF_INET6, tb, &y) == 1 &&
               memcmp(&x, &y, sizeof x) == 0;
    }
    return strcasecmp(a, b) == 0;
}

static bool host_matches(const char *entry, const char *host)
{
    size_t hn = strlen(host), en = strlen(entry);
    if (en > 2 && entry[0] == '*' && entry[1] == '.') {
        return hn > en - 1 && strcasecmp(host + hn - (en - 1), entry + 1) == 0;
    }
    return same_host(entry, host);
}

/* 1: host and port allowed; 0: the host is listed, not with this port; -1: not listed. */
static int on_allowlist(const char *host, long port, const struct hret_strlist *allow)
{
    int found = -1;
    for (size_t i = 0; i < allow->count && found < 1; i++) {
        char ehost[256];
        long eport = 0;
        if (split_entry(allow->items[i], ehost, sizeof ehost, &eport) &&
            host_matches(ehost, host)) {
            found = (eport == 0 ? port == 80 || port == 443 : port == eport) ? 1 : 0;
        }
    }
    return found;
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
    long portno = skip == 8 ? 443 : 80;
    if (port < auth + alen && *port == ':') {
        size_t pn = strspn(port + 1, "0123456789");
        portno = pn > 0 && pn <= 5 ? strtol(port + 1, NULL, 10) : 0;
        if (portno < 1 || portno > 65535 || port + 1 + pn != auth + alen) {
            snprintf(why, cap, "the endpoint URL has a bad port");
            return false;
        }
    } else if (port != auth + alen) {
        snprintf(why, cap, "the endpoint URL has no usable host");
        return false;
    }
    if (host_forbidden(host, policy, why, cap)) {
        return false;
    }
    int listed = on_allowlist(host, portno, &policy->allowlist);
    if (listed < 0) {
        snprintf(why, cap, "host '%s' is not on endpoints.allowlist", host);
    } else if (listed == 0) {
        snprintf(why, cap,
                 "port %ld of %s is not on endpoints.allowlist (an entry without a port allows "
                 "80 and 443 only)",
                 portno, host);
    }
    return listed == 1;
}
