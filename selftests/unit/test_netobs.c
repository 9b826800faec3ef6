// SPDX-License-Identifier: GPL-2.0-only
/*
 * netobs/: the tc program's per-flow bookkeeping (bpf/netobs_track.h, the
 * same code the kernel runs), and the endpoint → server join into the
 * mcp_network_* metrics (netobs/join.c), against mcp/'s real naming.
 */
#include <errno.h>
#include <linux/types.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

/* bpf/netobs.h (<>: "" would find netobs/netobs.h first) */
#include <netobs.h>
#include "netobs_track.h"
#include "mcp/mcp.h"
#include "metrics/metrics.h"
#include "metrics/registry.h"
#include "netobs/join.h"
#include "mcp_msgs.h"

#define MS 1000000ull
#define T0 (1000 * MS)

/* --- bpf/netobs_track.h --- */

struct seg_run {
	struct netobs_flow f;
	struct netobs_verdict v;
};

static void seg(struct seg_run *r, uint64_t ts, uint8_t dir, uint8_t flags, uint32_t seq,
		uint32_t len)
{
	struct netobs_seg s = { .ts_ns = ts, .seq = seq, .len = len, .dir = dir, .tcp_flags = flags };

	netobs_track(&r->f, &s, &r->v);
}

static void start(struct seg_run *r, uint64_t ts, uint8_t dir, uint8_t flags, uint32_t seq)
{
	struct netobs_seg s = { .ts_ns = ts, .seq = seq, .dir = dir, .tcp_flags = flags };

	netobs_flow_init(&r->f, &s, 7);
	assert_int_equal(r->f.owner_ifindex, 7);
}

#define SYN NETOBS_TCP_SYN
#define ACK NETOBS_TCP_ACK
#define FIN NETOBS_TCP_FIN
#define RST NETOBS_TCP_RST
#define C2S NETOBS_C2S
#define S2C NETOBS_S2C

/* SYN at 0, SYN-ACK at +40 ms (the server's leg), the client's ACK at
 * +55 ms (the client's leg): one sample of both legs, 55 ms; no second. */
static void test_rtt_both_legs(void **state)
{
	struct seg_run r;

	start(&r, T0, C2S, SYN, 1000);
	seg(&r, T0, C2S, SYN, 1000, 0);
	assert_int_equal(r.v.rtt_ns, 0);
	seg(&r, T0 + 40 * MS, S2C, SYN | ACK, 5000, 0);
	assert_int_equal(r.v.rtt_ns, 0);
	assert_false(r.v.retransmit);
	seg(&r, T0 + 55 * MS, C2S, ACK, 1001, 0);
	assert_int_equal(r.v.rtt_ns, 55 * MS);
	seg(&r, T0 + 56 * MS, C2S, ACK, 1001, 100);
	assert_int_equal(r.v.rtt_ns, 0);
	seg(&r, T0 + 57 * MS, S2C, ACK, 5001, 0);
	assert_int_equal(r.v.rtt_ns, 0);
	assert_false(r.v.retransmit);
}

/* Karn's rule: a retransmitted SYN or SYN-ACK gives no sample, but counts. */
static void test_rtt_karn(void **state)
{
	struct seg_run r;

	start(&r, T0, C2S, SYN, 1000);
	seg(&r, T0, C2S, SYN, 1000, 0);
	seg(&r, T0 + 1000 * MS, C2S, SYN, 1000, 0);
	assert_true(r.v.retransmit);
	seg(&r, T0 + 1001 * MS, S2C, SYN | ACK, 5000, 0);
	seg(&r, T0 + 1002 * MS, C2S, ACK, 1001, 0);
	assert_int_equal(r.v.rtt_ns, 0);

	start(&r, T0, C2S, SYN, 1000);
	seg(&r, T0, C2S, SYN, 1000, 0);
	seg(&r, T0 + 1 * MS, S2C, SYN | ACK, 5000, 0);
	seg(&r, T0 + 1001 * MS, S2C, SYN | ACK, 5000, 0);
	assert_true(r.v.retransmit);
	seg(&r, T0 + 1002 * MS, C2S, ACK, 1001, 0);
	assert_int_equal(r.v.rtt_ns, 0);
}

/* A segment starting before the highest sequence number seen in its
 * direction is a retransmission; pure ACKs and keep-alives are not. */
static void test_retransmits(void **state)
{
	struct seg_run r;
	uint32_t isn = 0xffffff00u; /* the data wraps around 2^32 */

	start(&r, T0, C2S, SYN, isn);
	seg(&r, T0, C2S, SYN, isn, 0);
	seg(&r, T0 + MS, S2C, SYN | ACK, 77, 0);
	seg(&r, T0 + 2 * MS, C2S, ACK, isn + 1, 0);
	seg(&r, T0 + 3 * MS, C2S, ACK, isn + 1, 200);
	assert_false(r.v.retransmit);
	seg(&r, T0 + 4 * MS, C2S, ACK, isn + 201, 200); /* crosses 2^32 */
	assert_false(r.v.retransmit);
	seg(&r, T0 + 5 * MS, C2S, ACK, isn + 201, 200); /* the same again */
	assert_true(r.v.retransmit);
	seg(&r, T0 + 6 * MS, C2S, ACK, isn + 301, 200); /* half new */
	assert_true(r.v.retransmit);
	seg(&r, T0 + 7 * MS, C2S, ACK, isn + 501, 10);	/* new after the overlap */
	assert_false(r.v.retransmit);
	seg(&r, T0 + 8 * MS, C2S, ACK, isn + 510, 0);	/* keep-alive: seq - 1, no data */
	assert_false(r.v.retransmit);
	seg(&r, T0 + 9 * MS, S2C, ACK, 78, 50);		/* directions are separate */
	assert_false(r.v.retransmit);
	seg(&r, T0 + 10 * MS, S2C, ACK | FIN, 128, 0);	/* FIN takes a number */
	assert_false(r.v.retransmit);
	seg(&r, T0 + 11 * MS, S2C, ACK | FIN, 128, 0);
	assert_true(r.v.retransmit);
	assert_int_equal(r.f.flags & NETOBS_F_FIN_S2C, NETOBS_F_FIN_S2C);
}

/* A reset counts once; a new SYN on the 4-tuple afterwards starts a new
 * connection with its own sample, and another ISN is not a retransmission. */
static void test_reset_and_reuse(void **state)
{
	struct seg_run r;

	start(&r, T0, C2S, SYN, 1000);
	seg(&r, T0, C2S, SYN, 1000, 0);
	seg(&r, T0 + MS, S2C, SYN | ACK, 5000, 0);
	seg(&r, T0 + 2 * MS, C2S, ACK, 1001, 0);
	assert_int_equal(r.v.rtt_ns, 2 * MS);
	seg(&r, T0 + 3 * MS, C2S, ACK, 1001, 300);
	seg(&r, T0 + 4 * MS, C2S, RST | ACK, 1301, 0);
	assert_true(r.v.reset);
	assert_false(r.v.retransmit);
	assert_true(r.f.flags & NETOBS_F_RST);

	seg(&r, T0 + 10 * MS, C2S, SYN, 1000, 0); /* even the same ISN, after a reset */
	assert_false(r.v.retransmit);
	assert_false(r.f.flags & NETOBS_F_RST);
	assert_int_equal(r.f.owner_ifindex, 7);
	seg(&r, T0 + 13 * MS, S2C, SYN | ACK, 9000, 0);
	seg(&r, T0 + 14 * MS, C2S, ACK, 1001, 0);
	assert_int_equal(r.v.rtt_ns, 4 * MS);
}

/* A flow joined mid-stream gives no RTT sample and learns the sequence
 * numbers from its first segments. */
static void test_midstream(void **state)
{
	struct seg_run r;

	start(&r, T0, S2C, ACK, 4000);
	assert_true(r.f.flags & NETOBS_F_MIDSTREAM);
	seg(&r, T0, S2C, ACK, 4000, 100);
	assert_false(r.v.retransmit);
	seg(&r, T0 + MS, C2S, ACK, 9000, 0);
	assert_int_equal(r.v.rtt_ns, 0);
	seg(&r, T0 + 2 * MS, S2C, ACK, 4000, 100);
	assert_true(r.v.retransmit);
	/* a new connection on the same 4-tuple */
	seg(&r, T0 + 3 * MS, C2S, SYN, 123, 0);
	assert_false(r.f.flags & NETOBS_F_MIDSTREAM);
	seg(&r, T0 + 4 * MS, S2C, SYN | ACK, 456, 0);
	seg(&r, T0 + 6 * MS, C2S, ACK, 124, 0);
	assert_int_equal(r.v.rtt_ns, 3 * MS);
}

static void test_orientation(void **state)
{
	assert_false(netobs_src_is_server(SYN, 40000, 3001));	/* SYN goes to the server */
	assert_true(netobs_src_is_server(SYN | ACK, 3001, 40000));
	assert_true(netobs_src_is_server(SYN | ACK, 50000, 40000)); /* flags before ports */
	assert_true(netobs_src_is_server(ACK, 3001, 40000));	/* mid-stream: lower port */
	assert_false(netobs_src_is_server(ACK, 40000, 3001));
	assert_false(netobs_src_is_server(ACK, 3001, 3001));
}

/* The kernel's buckets are the exposition's: a sample on a bound is in it. */
static void test_buckets(void **state)
{
	for (int i = 0; i < METRICS_NBUCKETS; i++) {
		uint64_t b = (uint64_t)(metrics_buckets[i] * 1e9 + 0.5);

		assert_int_equal(netobs_bucket(b), i);
		assert_int_equal(netobs_bucket(b + 1), i + 1);
	}
	assert_int_equal(netobs_bucket(0), 0);
	assert_int_equal(netobs_bucket(UINT64_MAX), NETOBS_NBUCKETS);
}

/* --- netobs/join.c --- */

static char *render(struct metrics *m)
{
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(metrics_render(m, &text, &len), 0);
	return text;
}

/* The value of one exposition line, -1 when absent. */
static double value(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; (p = strstr(p, series)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

static struct netobs_ep ep4(const char *ip, uint16_t port)
{
	struct netobs_ep e;

	memset(&e, 0, sizeof(e));
	e.family = NETOBS_AF_INET;
	e.port = port;
	assert_int_equal(inet_pton(AF_INET, ip, e.addr), 1);
	return e;
}

static void test_label(void **state)
{
	struct netobs_ep e = ep4("172.29.0.2", 3001);
	char buf[80];

	netobs_ep_label(&e, buf, sizeof(buf));
	assert_string_equal(buf, "172.29.0.2:3001");
	memset(&e, 0, sizeof(e));
	e.family = NETOBS_AF_INET6;
	e.port = 8080;
	assert_int_equal(inet_pton(AF_INET6, "fd12:3456:789a::5", e.addr), 1);
	netobs_ep_label(&e, buf, sizeof(buf));
	assert_string_equal(buf, "[fd12:3456:789a::5]:8080");
}

/* A stand-in for mcp_server_of_endpoint() where mcp/ itself is not the
 * subject: which labels are known, and under which name. */
struct fake_mcp {
	struct metrics *m;
	const char *label, *name;
	int named;
};

static int fake_lookup(void *arg, const char *label, uint32_t *server, int *named)
{
	struct fake_mcp *f = arg;

	if (!f->label || strcmp(label, f->label))
		return -1;
	*server = metrics_server(f->m, f->name, 0);
	*named = f->named;
	return 0;
}

static struct netobs_ep_stats stats(uint64_t c2s_bytes, uint64_t s2c_bytes, uint64_t rtt_ms)
{
	struct netobs_ep_stats s;

	memset(&s, 0, sizeof(s));
	s.bytes[0] = c2s_bytes;
	s.bytes[1] = s2c_bytes;
	s.packets[0] = c2s_bytes / 100;
	s.packets[1] = s2c_bytes / 100;
	s.retransmits = 2;
	s.resets = 1;
	if (rtt_ms) {
		s.rtt_count = 1;
		s.rtt_sum_ns = rtt_ms * MS;
		s.rtt_buckets[netobs_bucket(rtt_ms * MS)] = 1;
	}
	return s;
}

static int pass(struct netobs_join *j, struct metrics *m, const struct netobs_ep *e,
		const struct netobs_ep_stats *s, uint64_t now, struct fake_mcp *f)
{
	int r;

	netobs_join_begin(j);
	r = netobs_join_endpoint(j, e, s, now, fake_lookup, f, m);
	netobs_join_end(j, m);
	return r;
}

/* Unknown endpoints create no series and are counted; once mcp/ names the
 * endpoint, everything it carried is exported, then only increases. */
static void test_join_deltas(void **state)
{
	struct metrics *m = metrics_new(NULL);
	struct netobs_join *j = netobs_join_new(16, 2000 * MS);
	struct fake_mcp f = { .m = m };
	struct netobs_ep e = ep4("10.1.0.2", 3001);
	struct netobs_ep_stats s = stats(1000, 5000, 30);
	char *t;

	assert_int_equal(pass(j, m, &e, &s, T0, &f), 0);
	assert_int_equal(netobs_join_unattributed(j), 1);
	t = render(m);
	assert_null(strstr(t, "mcp_network_bytes_total{"));
	assert_null(strstr(t, "10.1.0.2"));
	assert_int_equal(value(t, "mcpwire_network_endpoints_unattributed"), 1);
	free(t);

	f.label = "10.1.0.2:3001";
	f.name = "weather";
	f.named = 1;
	assert_int_equal(pass(j, m, &e, &s, T0 + 1000 * MS, &f), 1);
	assert_int_equal(netobs_join_unattributed(j), 0);
	s.bytes[1] += 250;
	s.packets[1] += 3;
	s.rtt_count++;
	s.rtt_sum_ns += 200 * MS;
	s.rtt_buckets[netobs_bucket(200 * MS)]++;
	assert_int_equal(pass(j, m, &e, &s, T0 + 2000 * MS, &f), 1);
	assert_int_equal(pass(j, m, &e, &s, T0 + 3000 * MS, &f), 1); /* nothing new */
	t = render(m);
	assert_int_equal(value(t, "mcp_network_bytes_total{server_name=\"weather\","
				  "direction=\"client_to_server\"}"), 1000);
	assert_int_equal(value(t, "mcp_network_bytes_total{server_name=\"weather\","
				  "direction=\"server_to_client\"}"), 5250);
	assert_int_equal(value(t, "mcp_network_packets_total{server_name=\"weather\","
				  "direction=\"server_to_client\"}"), 53);
	assert_int_equal(value(t, "mcp_network_retransmits_total{server_name=\"weather\"}"), 2);
	assert_int_equal(value(t, "mcp_network_resets_total{server_name=\"weather\"}"), 1);
	assert_int_equal(value(t, "mcp_network_rtt_seconds_count{server_name=\"weather\"}"), 2);
	assert_true(value(t, "mcp_network_rtt_seconds_sum{server_name=\"weather\"}") > 0.2299 &&
		    value(t, "mcp_network_rtt_seconds_sum{server_name=\"weather\"}") < 0.2301);
	assert_int_equal(value(t, "mcp_network_rtt_seconds_bucket{server_name=\"weather\","
				  "le=\"0.05\"}"), 1);
	assert_int_equal(value(t, "mcp_network_rtt_seconds_bucket{server_name=\"weather\","
				  "le=\"0.2\"}"), 2);
	assert_int_equal(value(t, "mcpwire_network_endpoints_unattributed"), 0);
	free(t);

	/* the kernel entry was deleted and made again: totals from zero */
	s = stats(100, 0, 0);
	s.retransmits = s.resets = 0;
	pass(j, m, &e, &s, T0 + 4000 * MS, &f);
	t = render(m);
	assert_int_equal(value(t, "mcp_network_bytes_total{server_name=\"weather\","
				  "direction=\"client_to_server\"}"), 1100);
	free(t);
	netobs_join_free(j);
	metrics_free(m);
}

/* Known only by its fallback label: wait for a serverInfo for hold_ns, then
 * export under the label. */
static void test_join_unnamed_hold(void **state)
{
	struct metrics *m = metrics_new(NULL);
	struct netobs_join *j = netobs_join_new(16, 2000 * MS);
	struct fake_mcp f = { .m = m, .label = "10.1.0.3:80", .name = "10.1.0.3:80" };
	struct netobs_ep e = ep4("10.1.0.3", 80);
	struct netobs_ep_stats s = stats(700, 900, 1);
	char *t;

	assert_int_equal(pass(j, m, &e, &s, T0, &f), 0);
	assert_int_equal(pass(j, m, &e, &s, T0 + 1999 * MS, &f), 0);
	assert_int_equal(netobs_join_unattributed(j), 1);
	t = render(m);
	assert_null(strstr(t, "mcp_network_bytes_total{"));
	free(t);
	/* named within the hold: everything under the name, nothing under the label */
	f.name = "named-late";
	f.named = 1;
	assert_int_equal(pass(j, m, &e, &s, T0 + 1999 * MS, &f), 1);
	t = render(m);
	assert_int_equal(value(t, "mcp_network_bytes_total{server_name=\"named-late\","
				  "direction=\"server_to_client\"}"), 900);
	assert_null(strstr(t, "10.1.0.3"));
	free(t);

	/* another one that never names itself */
	e = ep4("10.1.0.4", 81);
	f.label = f.name = "10.1.0.4:81";
	f.named = 0;
	assert_int_equal(pass(j, m, &e, &s, T0, &f), 0);
	assert_int_equal(pass(j, m, &e, &s, T0 + 2000 * MS, &f), 1);
	t = render(m);
	assert_int_equal(value(t, "mcp_network_bytes_total{server_name=\"10.1.0.4:81\","
				  "direction=\"client_to_server\"}"), 700);
	free(t);
	netobs_join_free(j);
	metrics_free(m);
}

/* The kernel adds to a bucket before the count: a read between the two
 * leaves the sample for the next read instead of exporting a bucket the
 * count does not include. */
static void test_join_bucket_race(void **state)
{
	struct metrics *m = metrics_new(NULL);
	struct netobs_join *j = netobs_join_new(16, 0);
	struct fake_mcp f = { .m = m, .label = "10.1.0.5:3001", .name = "racer", .named = 1 };
	struct netobs_ep e = ep4("10.1.0.5", 3001);
	struct netobs_ep_stats s = stats(100, 100, 0);
	char *t;

	s.rtt_buckets[3] = 1; /* bucket in, sum and count not yet */
	pass(j, m, &e, &s, T0, &f);
	t = render(m);
	assert_int_equal(value(t, "mcp_network_rtt_seconds_count{server_name=\"racer\"}"), 0);
	assert_int_equal(value(t, "mcp_network_rtt_seconds_bucket{server_name=\"racer\",le=\"0.005\"}"),
			 0);
	free(t);
	s.rtt_count = 1;
	s.rtt_sum_ns = 4 * MS;
	pass(j, m, &e, &s, T0 + MS, &f);
	t = render(m);
	assert_int_equal(value(t, "mcp_network_rtt_seconds_count{server_name=\"racer\"}"), 1);
	assert_int_equal(value(t, "mcp_network_rtt_seconds_bucket{server_name=\"racer\",le=\"0.005\"}"),
			 1);
	free(t);
	netobs_join_free(j);
	metrics_free(m);
}

/* The real join: mcp/ learns the endpoint 127.0.0.1:3001 from MCP messages
 * and names it from the initialize result (mcp_msgs.h's server). */
static void test_join_through_mcp(void **state)
{
	struct metrics *m = metrics_new(NULL);
	struct mcp_state *s = mcp_new(NULL, m);
	const struct proto_sink *sink = mcp_sink(s);
	struct mcp_wire_ctx c;
	struct jsonrpc_msg msg;
	uint32_t server;
	int named;

	assert_int_equal(mcp_server_of_endpoint(s, "127.0.0.1:3001", &server, &named), -ENOENT);
	c = mcp_msgs_ctx(T0, MCP_C2S, "", 1);
	mcp_msgs_request(sink, &c, "initialize", JSONRPC_ID_NUM, "1", NULL, NULL);
	assert_int_equal(mcp_server_of_endpoint(s, "127.0.0.1:3001", &server, &named), 0);
	assert_false(named);
	assert_string_equal(metrics_server_name(m, server), "127.0.0.1:3001");

	memset(&msg, 0, sizeof(msg));
	msg.kind = JSONRPC_RESULT;
	mcp_msgs_id(&msg.id, JSONRPC_ID_NUM, "1");
	mcp_msgs_str(&msg.peer_name, "everything");
	mcp_msgs_str(&msg.peer_version, "2.0.0");
	mcp_msgs_str(&msg.protocol_version, "2025-11-25");
	c = mcp_msgs_ctx(T0 + MS, MCP_S2C, "", 1);
	sink->message(sink->arg, &c, &msg);
	mcp_tick(s, T0 + 5000 * MS); /* past the dedup hold */
	assert_int_equal(mcp_server_of_endpoint(s, "127.0.0.1:3001", &server, &named), 0);
	assert_true(named);
	assert_string_equal(metrics_server_name(m, server), "everything");
	assert_int_equal(mcp_server_of_endpoint(s, "127.0.0.1:3002", &server, &named), -ENOENT);
	mcp_free(s);
	metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rtt_both_legs),
		cmocka_unit_test(test_rtt_karn),
		cmocka_unit_test(test_retransmits),
		cmocka_unit_test(test_reset_and_reuse),
		cmocka_unit_test(test_midstream),
		cmocka_unit_test(test_orientation),
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_label),
		cmocka_unit_test(test_join_deltas),
		cmocka_unit_test(test_join_unnamed_hold),
		cmocka_unit_test(test_join_bucket_race),
		cmocka_unit_test(test_join_through_mcp),
	};

	return cmocka_run_group_tests_name("netobs", tests, NULL, NULL);
}
