// SPDX-License-Identifier: GPL-2.0-only
/*
 * scope/ without root: the namespace set and its diff, the table of
 * connections turned away (collisions, backward-shift deletion, generations,
 * a full table), the rtnetlink parsers on messages built as the kernel lays
 * them out (rtnl_fill_ifinfo, rtnl_net_fill) including truncated and lying
 * ones, the bridge names --bridge accepts and the --network errors, and the
 * rtnetlink look-ups that need no privilege on the real kernel (lo is not a
 * bridge, an unknown name is -ENODEV). The scan of a real bridge with
 * namespaces needs root: selftests/integration/scope.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/socket.h>

#include <cmocka.h>

#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "scope/keys.h"
#include "scope/resolve.h"
#include "scope/rtnl.h"
#include "scope/scope.h"
#include "scope/set.h"

/* ------------------------------------------------------------ scope_set */

static void test_set_sorted_unique(void **state)
{
	static struct scope_set s;
	uint32_t in[] = { 4026532394u, 7, 4026531840u, 7, 99, 4026532394u };

	scope_set_clear(&s);
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		assert_true(scope_set_add(&s, in[i]) >= 0);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.v[0], 7);
	assert_int_equal(s.v[1], 99);
	assert_int_equal(s.v[2], 4026531840u);
	assert_int_equal(s.v[3], 4026532394u);
	assert_int_equal(scope_set_add(&s, 99), 0);
	assert_int_equal(scope_set_add(&s, 0), -EINVAL);
	assert_true(scope_set_has(&s, 4026531840u));
	assert_false(scope_set_has(&s, 4026531841u));
	assert_false(scope_set_has(&s, 0));
}

static void test_set_full(void **state)
{
	static struct scope_set s;

	scope_set_clear(&s);
	/* descending inserts: every one shifts the whole array */
	for (uint32_t i = SCOPE_SET_MAX; i > 0; i--)
		assert_int_equal(scope_set_add(&s, i * 3), 1);
	assert_int_equal(s.n, SCOPE_SET_MAX);
	assert_int_equal(scope_set_add(&s, 1), -ENOSPC);
	assert_int_equal(scope_set_add(&s, 3), 0); /* present: not an error */
	for (uint32_t i = 1; i <= SCOPE_SET_MAX; i++)
		assert_true(scope_set_has(&s, i * 3));
	assert_false(scope_set_has(&s, 4));
}

struct diff_log {
	uint32_t ino[8];
	int joined[8];
	int n;
};

static void diff_cb(uint32_t ino, int joined, void *arg)
{
	struct diff_log *l = arg;

	l->ino[l->n] = ino;
	l->joined[l->n] = joined;
	l->n++;
}

static void test_set_diff(void **state)
{
	static struct scope_set a, b;
	struct diff_log l = { 0 };

	scope_set_clear(&a);
	scope_set_clear(&b);
	scope_set_add(&a, 10);
	scope_set_add(&a, 20);
	scope_set_add(&a, 30);
	scope_set_add(&b, 20);
	scope_set_add(&b, 40);
	assert_false(scope_set_equal(&a, &b));
	assert_int_equal(scope_set_diff(&a, &b, diff_cb, &l), 3);
	assert_int_equal(l.ino[0], 40);
	assert_int_equal(l.joined[0], 1);
	assert_int_equal(l.ino[1], 10);
	assert_int_equal(l.joined[1], 0);
	assert_int_equal(l.ino[2], 30);
	assert_int_equal(l.joined[2], 0);
	l.n = 0;
	assert_int_equal(scope_set_diff(&b, &b, diff_cb, &l), 0);
	assert_true(scope_set_equal(&b, &b));
}

/* ----------------------------------------------------------- scope_keys */

static uint64_t key(uint32_t tgid, uint32_t fd)
{
	return (uint64_t)tgid << 32 | fd;
}

static void test_keys_basic(void **state)
{
	struct scope_keys *k = calloc(1, sizeof(*k));

	assert_non_null(k);
	assert_int_equal(scope_keys_put(k, key(100, 5), 7), 0);
	assert_true(scope_keys_has(k, key(100, 5), 7));
	/* a reused fd is a new connection */
	assert_false(scope_keys_has(k, key(100, 5), 8));
	assert_false(scope_keys_has(k, key(100, 6), 7));
	/* a new generation replaces the old one */
	assert_int_equal(scope_keys_put(k, key(100, 5), 9), 0);
	assert_int_equal(k->n, 1);
	assert_false(scope_keys_has(k, key(100, 5), 7));
	assert_true(scope_keys_has(k, key(100, 5), 9));
	assert_int_equal(scope_keys_del(k, key(100, 5)), 1);
	assert_int_equal(scope_keys_del(k, key(100, 5)), 0);
	assert_false(scope_keys_has(k, key(100, 5), 9));
	assert_int_equal(k->n, 0);
	assert_false(scope_keys_has(k, 0, 0)); /* the empty marker is no key */
	free(k);
}

/* Many keys, deleted in an order that breaks probe runs in the middle: every
 * survivor must still be found (backward-shift deletion keeps runs whole). */
static void test_keys_churn(void **state)
{
	struct scope_keys *k = calloc(1, sizeof(*k));
	const uint32_t n = SCOPE_KEYS_SLOTS / 2;

	assert_non_null(k);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(scope_keys_put(k, key(1000 + i % 97, i), i), 0);
	for (uint32_t i = 0; i < n; i += 3)
		assert_int_equal(scope_keys_del(k, key(1000 + i % 97, i)), 1);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(scope_keys_has(k, key(1000 + i % 97, i), i), i % 3 != 0);
	free(k);
}

static void test_keys_full(void **state)
{
	struct scope_keys *k = calloc(1, sizeof(*k));
	uint32_t i;

	assert_non_null(k);
	for (i = 0; i < SCOPE_KEYS_SLOTS - 1; i++)
		assert_int_equal(scope_keys_put(k, key(7, i), 1), 0);
	assert_int_equal(scope_keys_put(k, key(8, 0), 1), -ENOSPC);
	assert_int_equal(k->full, 1);
	/* still answers (the last empty slot ends every probe run) */
	assert_false(scope_keys_has(k, key(8, 0), 1));
	assert_true(scope_keys_has(k, key(7, SCOPE_KEYS_SLOTS - 2), 1));
	assert_int_equal(scope_keys_del(k, key(7, 0)), 1);
	assert_int_equal(scope_keys_put(k, key(8, 0), 1), 0);
	free(k);
}

/* --------------------------------------------------------- rtnl parsers */

struct msgbuf {
	char b[1024] __attribute__((aligned(4)));
	size_t len;
};

static void *msg_start(struct msgbuf *m, int type, size_t hdr)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)m->b;

	memset(m, 0, sizeof(*m));
	nh->nlmsg_type = type;
	m->len = NLMSG_LENGTH(hdr);
	m->len = NLMSG_ALIGN(m->len);
	nh->nlmsg_len = m->len;
	return NLMSG_DATA(nh);
}

static struct rtattr *msg_attr(struct msgbuf *m, int type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)(m->b + m->len);

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	m->len += RTA_SPACE(len);
	((struct nlmsghdr *)m->b)->nlmsg_len = m->len;
	return rta;
}

static void msg_u32(struct msgbuf *m, int type, uint32_t v)
{
	msg_attr(m, type, &v, sizeof(v));
}

/* RTM_NEWLINK of a Docker veth port: name, master, the peer's netns id, and
 * IFLA_LINKINFO {KIND "veth"} as a nested attribute. */
static void build_port(struct msgbuf *m, int ifindex, int master, int nsid, const char *kind)
{
	struct ifinfomsg *ifi = msg_start(m, RTM_NEWLINK, sizeof(*ifi));
	struct rtattr *nest;
	size_t start;

	ifi->ifi_index = ifindex;
	msg_attr(m, IFLA_IFNAME, "veth3a4b5c6", sizeof("veth3a4b5c6"));
	msg_u32(m, IFLA_MTU, 1500);
	if (master)
		msg_u32(m, IFLA_MASTER, master);
	if (nsid >= 0)
		msg_u32(m, IFLA_LINK_NETNSID, nsid);
	start = m->len;
	nest = msg_attr(m, IFLA_LINKINFO | NLA_F_NESTED, NULL, 0);
	msg_attr(m, IFLA_INFO_KIND, kind, strlen(kind) + 1);
	nest->rta_len = m->len - start;
}

static void test_parse_port(void **state)
{
	struct msgbuf m;
	struct scope_link l;

	build_port(&m, 17, 5, 3, "veth");
	assert_int_equal(scope_rtnl_parse_link(m.b, m.len, &l), 0);
	assert_int_equal(l.type, RTM_NEWLINK);
	assert_int_equal(l.ifindex, 17);
	assert_int_equal(l.master, 5);
	assert_int_equal(l.link_nsid, 3);
	assert_int_equal(l.is_bridge, 0);
	assert_string_equal(l.name, "veth3a4b5c6");

	/* peer in this namespace: no IFLA_LINK_NETNSID */
	build_port(&m, 18, 5, -1, "veth");
	assert_int_equal(scope_rtnl_parse_link(m.b, m.len, &l), 0);
	assert_int_equal(l.link_nsid, -1);

	build_port(&m, 5, 0, -1, "bridge");
	assert_int_equal(scope_rtnl_parse_link(m.b, m.len, &l), 0);
	assert_int_equal(l.is_bridge, 1);
	assert_int_equal(l.master, 0);

	/* "bridgeX" is not a bridge */
	build_port(&m, 6, 0, -1, "bridgeX");
	assert_int_equal(scope_rtnl_parse_link(m.b, m.len, &l), 0);
	assert_int_equal(l.is_bridge, 0);

	/* RTM_DELLINK parses the same */
	build_port(&m, 17, 5, 3, "veth");
	((struct nlmsghdr *)m.b)->nlmsg_type = RTM_DELLINK;
	assert_int_equal(scope_rtnl_parse_link(m.b, m.len, &l), 0);
	assert_int_equal(l.type, RTM_DELLINK);
}

static void test_parse_bad(void **state)
{
	struct msgbuf m;
	struct scope_link l;
	struct rtattr *rta;

	/* not a link message */
	msg_start(&m, RTM_NEWADDR, sizeof(struct ifaddrmsg));
	assert_int_equal(scope_rtnl_parse_link(m.b, m.len, &l), -ENOMSG);
	/* shorter than its header */
	assert_int_equal(scope_rtnl_parse_link(m.b, 8, &l), -EINVAL);

	/* nlmsg_len beyond the buffer */
	build_port(&m, 17, 5, 3, "veth");
	assert_int_equal(scope_rtnl_parse_link(m.b, m.len - 4, &l), -EINVAL);

	/* payload shorter than struct ifinfomsg */
	msg_start(&m, RTM_NEWLINK, 4);
	assert_int_equal(scope_rtnl_parse_link(m.b, m.len, &l), -EINVAL);

	/* an attribute claiming more than the message holds */
	build_port(&m, 17, 5, 3, "veth");
	rta = msg_attr(&m, IFLA_MASTER, "\1\0\0\0", 4);
	rta->rta_len = 200;
	assert_int_equal(scope_rtnl_parse_link(m.b, m.len, &l), -EINVAL);

	/* a u32 attribute with 2 bytes */
	msg_start(&m, RTM_NEWLINK, sizeof(struct ifinfomsg));
	msg_attr(&m, IFLA_MASTER, "\1\0", 2);
	assert_int_equal(scope_rtnl_parse_link(m.b, m.len, &l), -EINVAL);

	/* IFLA_IFNAME without its NUL, and one too long for IFNAMSIZ */
	msg_start(&m, RTM_NEWLINK, sizeof(struct ifinfomsg));
	msg_attr(&m, IFLA_IFNAME, "eth0", 4);
	assert_int_equal(scope_rtnl_parse_link(m.b, m.len, &l), -EINVAL);
	msg_start(&m, RTM_NEWLINK, sizeof(struct ifinfomsg));
	msg_attr(&m, IFLA_IFNAME, "a-name-of-twenty-chars", 23);
	assert_int_equal(scope_rtnl_parse_link(m.b, m.len, &l), -EINVAL);
}

static void test_parse_nsid(void **state)
{
	struct msgbuf m;
	int nsid = 99;

	msg_start(&m, RTM_NEWNSID, sizeof(struct rtgenmsg));
	msg_u32(&m, NETNSA_NSID, 4);
	assert_int_equal(scope_rtnl_parse_nsid(m.b, m.len, &nsid), 0);
	assert_int_equal(nsid, 4);

	msg_start(&m, RTM_NEWNSID, sizeof(struct rtgenmsg));
	msg_u32(&m, NETNSA_NSID, (uint32_t)NETNSA_NSID_NOT_ASSIGNED);
	assert_int_equal(scope_rtnl_parse_nsid(m.b, m.len, &nsid), 0);
	assert_int_equal(nsid, -1);

	/* no NETNSA_NSID */
	msg_start(&m, RTM_NEWNSID, sizeof(struct rtgenmsg));
	msg_u32(&m, NETNSA_PID, 1);
	assert_int_equal(scope_rtnl_parse_nsid(m.b, m.len, &nsid), -EINVAL);

	msg_start(&m, RTM_NEWLINK, sizeof(struct rtgenmsg));
	assert_int_equal(scope_rtnl_parse_nsid(m.b, m.len, &nsid), -ENOMSG);
}

/* ------------------------------------------------ the real kernel, no root */

static void test_rtnl_lo(void **state)
{
	struct scope_link l;
	int fd = scope_rtnl_open(0), nsid = 42, nsfd;

	assert_true(fd >= 0);
	assert_int_equal(scope_rtnl_link_by_name(fd, "lo", &l), 0);
	assert_int_equal(l.ifindex, 1);
	assert_false(l.is_bridge);
	assert_string_equal(l.name, "lo");
	assert_int_equal(scope_rtnl_link_by_name(fd, "mcpw-nosuch0", &l), -ENODEV);
	/* nothing is enslaved to lo */
	assert_int_equal(scope_rtnl_ports(fd, 1, NULL, NULL), 0);
	/* our own namespace has no id in itself unless one was given to it */
	nsfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	assert_true(nsfd >= 0);
	assert_int_equal(scope_rtnl_nsid(fd, nsfd, &nsid), 0);
	assert_true(nsid >= -1);
	close(nsfd);
	close(fd);
}

static void test_open_errors(void **state)
{
	struct scope_config cfg = { .bridge = "lo" };
	struct scope *s = (struct scope *)1;
	char err[256];

	assert_int_equal(scope_open(&cfg, &s, err, sizeof(err)), -EINVAL);
	assert_null(s);
	assert_non_null(strstr(err, "'lo' is not a bridge"));
	cfg.bridge = "mcpw-nosuch0";
	assert_int_equal(scope_open(&cfg, &s, err, sizeof(err)), -ENODEV);
	assert_non_null(strstr(err, "no network interface 'mcpw-nosuch0'"));
	cfg.bridge = "a-name-too-long-for-ifnamsiz";
	assert_int_equal(scope_open(&cfg, &s, err, sizeof(err)), -EINVAL);
	scope_close(NULL);
}

/* ------------------------------------------------------------- resolve */

static void test_resolve(void **state)
{
	char br[IF_NAMESIZE], err[512];

	assert_int_equal(scope_resolve_bridge(NULL, "br-0123456789ab", NULL, br, sizeof(br), err,
					      sizeof(err)), 0);
	assert_string_equal(br, "br-0123456789ab");
	assert_int_equal(scope_resolve_bridge(NULL, "br-0123456789abc", NULL, br, sizeof(br), err,
					      sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--bridge"));
	assert_int_equal(scope_resolve_bridge(NULL, "a/b", NULL, br, sizeof(br), err, sizeof(err)),
			 -EINVAL);
	/* nothing listens there: the line names both ways out */
	assert_int_equal(scope_resolve_bridge("ai-challenge-network", NULL, "/nonexistent/docker.sock",
					      br, sizeof(br), err, sizeof(err)),
			 -ECONNREFUSED);
	assert_non_null(strstr(err, "/nonexistent/docker.sock"));
	assert_non_null(strstr(err, "--docker-socket PATH"));
	assert_non_null(strstr(err, "--bridge IFNAME"));
	assert_null(strchr(err, '\n'));
	/* a name that cannot be one goes nowhere near the socket */
	assert_int_equal(scope_resolve_bridge("../containers/x", NULL, "/nonexistent/docker.sock", br,
					      sizeof(br), err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "cannot resolve Docker network"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_sorted_unique),
		cmocka_unit_test(test_set_full),
		cmocka_unit_test(test_set_diff),
		cmocka_unit_test(test_keys_basic),
		cmocka_unit_test(test_keys_churn),
		cmocka_unit_test(test_keys_full),
		cmocka_unit_test(test_parse_port),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_nsid),
		cmocka_unit_test(test_rtnl_lo),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_resolve),
	};

	return cmocka_run_group_tests_name("scope", tests, NULL, NULL);
}
