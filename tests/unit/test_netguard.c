/* The SSRF address classes (common/hret_netguard.h): every form of every class, as text and as a
 * socket address, and what each policy lets through. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "hret_netguard.h"

struct form {
    const char *addr;
    enum hret_net_class cls;
    const char *what; /* the start of the word for messages */
};

#define F HRET_NET_CLASS_FORBIDDEN
#define P HRET_NET_CLASS_PRIVATE
#define U HRET_NET_CLASS_PUBLIC
static const struct form forms[] = {
    /* cloud metadata, in every spelling */
    {"169.254.169.254", F, "link-local (a cloud metadata"},
    {"::ffff:169.254.169.254", F, "link-local (a cloud metadata"},
    {"0:0:0:0:0:ffff:a9fe:a9fe", F, "link-local (a cloud metadata"},
    {"[::ffff:a9fe:a9fe]", F, "link-local (a cloud metadata"},
    {"::169.254.169.254", F, "link-local (a cloud metadata"}, /* IPv4-compatible */
    {"::a9fe:a9fe", F, "link-local (a cloud metadata"},
    {"64:ff9b::a9fe:a9fe", F, "link-local (a cloud metadata"}, /* NAT64 */
    {"2002:a9fe:a9fe::1", F, "link-local (a cloud metadata"},  /* 6to4 */
    {"fd00:ec2::254", F, "a cloud metadata"},
    {"FD00:0EC2:0000:0000:0000:0000:0000:0254", F, "a cloud metadata"},
    {"100.100.100.200", F, "a cloud metadata"},
    /* link-local, unspecified, multicast, reserved */
    {"169.254.1.1", F, "link-local"},
    {"fe80::1", F, "link-local"},
    {"febf::1", F, "link-local"},
    {"::ffff:169.254.0.1", F, "link-local"},
    {"0.0.0.0", F, "unspecified"},
    {"0.1.2.3", F, "unspecified"},
    {"::", F, "unspecified"},
    {"::ffff:0.0.0.0", F, "unspecified"},
    {"224.0.0.1", F, "multicast"},
    {"239.255.255.250", F, "multicast"},
    {"ff02::1", F, "multicast"},
    {"::ffff:224.0.0.1", F, "multicast"},
    {"255.255.255.255", F, "reserved"},
    {"240.0.0.1", F, "reserved"},
    /* loopback and private ranges */
    {"127.0.0.1", P, "loopback"},
    {"127.255.0.9", P, "loopback"},
    {"::1", P, "loopback"},
    {"::ffff:127.0.0.1", P, "loopback"},
    {"::127.0.0.1", P, "loopback"},
    {"10.0.0.1", P, "private"},
    {"172.16.0.1", P, "private"},
    {"172.31.255.255", P, "private"},
    {"192.168.1.1", P, "private"},
    {"100.64.0.1", P, "private"},
    {"::ffff:10.1.2.3", P, "private"},
    {"fd12:3456::1", P, "private"},
    {"fc00::1", P, "private"},
    {"fec0::1", P, "private"},
    /* public, including the neighbours of each range */
    {"8.8.8.8", U, "public"},
    {"172.15.255.255", U, "public"},
    {"172.32.0.0", U, "public"},
    {"169.253.255.255", U, "public"},
    {"100.63.255.255", U, "public"},
    {"100.128.0.0", U, "public"},
    {"223.255.255.255", U, "public"},
    {"::ffff:8.8.8.8", U, "public"},
    {"2001:4860:4860::8888", U, "public"},
    {"fe00::1", U, "public"},
};
#undef F
#undef P
#undef U

static void test_text_forms(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        enum hret_net_class c = HRET_NET_CLASS_PUBLIC;
        const char *what = NULL;
        if (!hret_net_classify_text(forms[i].addr, &c, &what)) {
            fail_msg("%s: not taken for an address", forms[i].addr);
        }
        if (c != forms[i].cls || strncmp(what, forms[i].what, strlen(forms[i].what)) != 0) {
            fail_msg("%s: class %d '%s', want %d '%s'", forms[i].addr, c, what, forms[i].cls,
                     forms[i].what);
        }
    }
}

/* The socket address curl hands to the open-socket callback gives the same class. */
static void test_sockaddr_forms(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        const char *a = forms[i].addr;
        char buf[64];
        size_t n = strlen(a);
        if (a[0] == '[') {
            a++, n -= 2;
        }
        snprintf(buf, sizeof buf, "%.*s", (int)n, a);
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof ss);
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        if (inet_pton(AF_INET, buf, &in->sin_addr) == 1) {
            in->sin_family = AF_INET;
        } else {
            assert_int_equal(inet_pton(AF_INET6, buf, &in6->sin6_addr), 1);
            in6->sin6_family = AF_INET6;
        }
        if (hret_net_classify((struct sockaddr *)&ss, NULL) != forms[i].cls) {
            fail_msg("%s as a socket address: wrong class", forms[i].addr);
        }
    }
    struct sockaddr un = {.sa_family = AF_UNIX};
    assert_int_equal(hret_net_classify(&un, NULL), HRET_NET_CLASS_FORBIDDEN);
}

static void test_not_numeric(void **state)
{
    (void)state;
    static const char *const names[] = {"localhost",  "example.com", "127.1",     "0x7f000001",
                                        "2130706433", "0177.0.0.1",  "[]",        "",
                                        "[::1",       "::1]",        "1.2.3.4.5", "fe80::1%eth0"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        enum hret_net_class c;
        if (hret_net_classify_text(names[i], &c, NULL)) {
            fail_msg("'%s' taken for a numeric address", names[i]);
        }
    }
}

static void test_policies(void **state)
{
    (void)state;
    enum hret_net_class all[] = {HRET_NET_CLASS_PUBLIC, HRET_NET_CLASS_PRIVATE,
                                 HRET_NET_CLASS_FORBIDDEN};
    for (size_t i = 0; i < 3; i++) {
        assert_true(hret_net_allowed(HRET_NET_ANY, all[i])); /* operator-configured models */
    }
    assert_true(hret_net_allowed(HRET_NET_PUBLIC, HRET_NET_CLASS_PUBLIC));
    assert_false(hret_net_allowed(HRET_NET_PUBLIC, HRET_NET_CLASS_PRIVATE));
    assert_false(hret_net_allowed(HRET_NET_PUBLIC, HRET_NET_CLASS_FORBIDDEN));
    assert_true(hret_net_allowed(HRET_NET_PRIVATE_OK, HRET_NET_CLASS_PUBLIC));
    assert_true(hret_net_allowed(HRET_NET_PRIVATE_OK, HRET_NET_CLASS_PRIVATE));
    assert_false(hret_net_allowed(HRET_NET_PRIVATE_OK, HRET_NET_CLASS_FORBIDDEN));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_forms),
        cmocka_unit_test(test_sockaddr_forms),
        cmocka_unit_test(test_not_numeric),
        cmocka_unit_test(test_policies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
