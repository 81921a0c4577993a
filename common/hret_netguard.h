/* Which addresses a connection may reach: the SSRF guard for endpoints that requests name
 * (inline endpoints). The address checked is the one libcurl is about to connect to (its
 * open-socket callback) and the one a reused connection is connected to (its pre-request
 * callback), so a name that resolves to a forbidden address is refused without resolving it
 * twice; hret_h1 (IP addresses only) checks the address of every request it sends.
 * Operator-configured endpoints are not restricted (HRET_NET_ANY).
 *
 * Classes, for IPv4 and for IPv6, including IPv4 carried in IPv6 (IPv4-mapped ::ffff:a.b.c.d,
 * IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16):
 *   forbidden  link-local (169.254.0.0/16, fe80::/10), unspecified (0.0.0.0/8, ::), multicast
 *              (224.0.0.0/4, ff00::/8), broadcast and reserved (240.0.0.0/4), cloud metadata
 *              (169.254.169.254, fd00:ec2::254, 100.100.100.200): never reachable inline;
 *   private    loopback (127.0.0.0/8, ::1), RFC 1918 (10/8, 172.16/12, 192.168/16), shared
 *              address space (100.64.0.0/10), RFC 4193 (fc00::/7), site-local (fec0::/10):
 *              reachable only with endpoints.allow_private_networks;
 *   public     everything else. */
#ifndef HRET_NETGUARD_H
#define HRET_NETGUARD_H

#include <stdbool.h>
#include <stddef.h>

struct sockaddr;

enum hret_net_policy {
    HRET_NET_ANY = 0,    /* unrestricted: operator-configured endpoints */
    HRET_NET_PUBLIC,     /* public addresses only: inline endpoints */
    HRET_NET_PRIVATE_OK, /* public, loopback and private: inline, allow_private_networks */
};

enum hret_net_class {
    HRET_NET_CLASS_PUBLIC,
    HRET_NET_CLASS_PRIVATE,
    HRET_NET_CLASS_FORBIDDEN,
};

/* Classifies an AF_INET or AF_INET6 address (borrowed; other families are forbidden). *what
 * (nullable) gets a static word for messages: "loopback", "private", "link-local", "link-local
 * (a cloud metadata address)", "a cloud metadata address", "multicast", "unspecified",
 * "reserved" or "public". */
enum hret_net_class hret_net_classify(const struct sockaddr *sa, const char **what);

/* The same for a numeric address in text: "10.0.0.1", "::1" or "[::1]" (borrowed). False when
 * text is not a numeric IPv4 (dotted quad) or IPv6 address. */
bool hret_net_classify_text(const char *text, enum hret_net_class *out, const char **what);

/* True when policy lets a connection reach an address of class c. */
bool hret_net_allowed(enum hret_net_policy policy, enum hret_net_class c);

#endif
