/* The SSRF address classes (see hret_netguard.h). Pure: no I/O, no allocation. */
#include "hret_netguard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdint.h>
#include <string.h>

static enum hret_net_class classify_v4(uint32_t a, const char **what)
{
    const char *w = "public";
    enum hret_net_class c = HRET_NET_CLASS_FORBIDDEN;
    if (a == 0xa9fea9feu) {
        w = "link-local (a cloud metadata address)";
    } else if (a == 0x646464c8u) { /* 100.100.100.200 */
        w = "a cloud metadata address";
    } else if ((a >> 16) == 0xa9feu) {
        w = "link-local";
    } else if ((a >> 24) == 0) {
        w = "unspecified";
    } else if ((a >> 28) == 0xeu) {
        w = "multicast";
    } else if ((a >> 28) == 0xfu) {
        w = "reserved";
    } else if ((a >> 24) == 127) {
        c = HRET_NET_CLASS_PRIVATE, w = "loopback";
    } else if ((a >> 24) == 10 || (a >> 20) == 0xac1u || (a >> 16) == 0xc0a8u ||
               (a >> 22) == (0x6440u >> 6)) { /* 10/8, 172.16/12, 192.168/16, 100.64/10 */
        c = HRET_NET_CLASS_PRIVATE, w = "private";
    } else {
        c = HRET_NET_CLASS_PUBLIC;
    }
    if (what != NULL) {
        *what = w;
    }
    return c;
}

static uint32_t v4_at(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static bool all_zero(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (b[i] != 0) {
            return false;
        }
    }
    return true;
}

static enum hret_net_class set(enum hret_net_class c, const char *w, const char **what)
{
    if (what != NULL) {
        *what = w;
    }
    return c;
}

static enum hret_net_class classify_v6(const uint8_t b[16], const char **what)
{
    static const uint8_t ec2[16] = {0xfd, 0, 0x0e, 0xc2, [15] = 0x54, [14] = 0x02};
    static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b};
    if (all_zero(b, 10) && b[10] == 0xff && b[11] == 0xff) { /* ::ffff:a.b.c.d */
        return classify_v4(v4_at(b + 12), what);
    }
    if (all_zero(b, 12)) { /* :: and ::1 are not IPv4-compatible addresses */
        if (all_zero(b + 12, 3) && b[15] <= 1) {
            return b[15] == 0 ? set(HRET_NET_CLASS_FORBIDDEN, "unspecified", what)
                              : set(HRET_NET_CLASS_PRIVATE, "loopback", what);
        }
        return classify_v4(v4_at(b + 12), what); /* ::a.b.c.d */
    }
    if (memcmp(b, nat64, sizeof nat64) == 0) {
        return classify_v4(v4_at(b + 12), what);
    }
    if (b[0] == 0x20 && b[1] == 0x02) { /* 6to4 2002:AABB:CCDD::/48 */
        return classify_v4(v4_at(b + 2), what);
    }
    if (memcmp(b, ec2, 16) == 0) {
        return set(HRET_NET_CLASS_FORBIDDEN, "a cloud metadata address", what);
    }
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) {
        return set(HRET_NET_CLASS_FORBIDDEN, "link-local", what);
    }
    if (b[0] == 0xff) {
        return set(HRET_NET_CLASS_FORBIDDEN, "multicast", what);
    }
    if ((b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)) {
        return set(HRET_NET_CLASS_PRIVATE, "private", what); /* fc00::/7, fec0::/10 */
    }
    return set(HRET_NET_CLASS_PUBLIC, "public", what);
}

enum hret_net_class hret_net_classify(const struct sockaddr *sa, const char **what)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        return classify_v4(ntohl(in->sin_addr.s_addr), what);
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        return classify_v6(in6->sin6_addr.s6_addr, what);
    }
    return set(HRET_NET_CLASS_FORBIDDEN, "not an IP address", what);
}

bool hret_net_classify_text(const char *text, enum hret_net_class *out, const char **what)
{
    char buf[INET6_ADDRSTRLEN + 8];
    size_t n = strlen(text);
    if (n >= 2 && text[0] == '[' && text[n - 1] == ']') {
        text++, n -= 2;
    }
    if (n == 0 || n >= sizeof buf) {
        return false;
    }
    memcpy(buf, text, n);
    buf[n] = '\0';
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, buf, &a4) == 1) {
        *out = classify_v4(ntohl(a4.s_addr), what);
        return true;
    }
    if (inet_pton(AF_INET6, buf, &a6) == 1) {
        *out = classify_v6(a6.s6_addr, what);
        return true;
    }
    return false;
}

bool hret_net_allowed(enum hret_net_policy policy, enum hret_net_class c)
{
    switch (policy) {
    case HRET_NET_ANY:
        return true;
    case HRET_NET_PRIVATE_OK:
        return c != HRET_NET_CLASS_FORBIDDEN;
    case HRET_NET_PUBLIC:
        return c == HRET_NET_CLASS_PUBLIC;
    }
    return false;
}
