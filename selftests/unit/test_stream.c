// SPDX-License-Identifier: GPL-2.0-only
/*
 * stream/: offsets, overlaps, gaps, generations, eviction and flow joining,
 * driven through the real proto/ stack with a sink that records messages.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/types.h>
#include <cmocka.h>

#include "mcpwire.h"
#include "proto/msg.h"
#include "stream/stream.h"

#define MAX_SEEN 64

struct seen {
	int n, errors;
	struct mcp_wire_ctx ctx[MAX_SEEN];
	struct jsonrpc_msg msg[MAX_SEEN];
	const char *reasons[MAX_SEEN];
};

static void on_message(void *arg, const struct mcp_wire_ctx *ctx, const struct jsonrpc_msg *msg)
{
	struct seen *s = arg;

	if (s->n < MAX_SEEN) {
		s->ctx[s->n] = *ctx;
		s->msg[s->n] = *msg;
	}
	s->n++;
}

static void on_session_end(void *arg, const struct mcp_wire_ctx *ctx)
{
}

static void on_parse_error(void *arg, const struct mcp_wire_ctx *ctx, const char *reason)
{
	struct seen *s = arg;

	if (s->errors < MAX_SEEN)
		s->reasons[s->errors] = reason;
	s->errors++;
}

static const char REQ_BODY[] = "{\"method\":\"tools/call\",\"params\":{\"name\":\"echo\","
			       "\"arguments\":{\"message\":\"hi\"}},\"jsonrpc\":\"2.0\",\"id\":7}";
static const char RSP_BODY[] = "{\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]},"
			       "\"jsonrpc\":\"2.0\",\"id\":7}";

static size_t build_request(char *buf, size_t len)
{
	return (size_t)snprintf(buf, len,
				"POST /mcp HTTP/1.1\r\nhost: 172.29.0.2:3001\r\n"
				"content-type: application/json\r\n"
				"accept: application/json, text/event-stream\r\n"
				"mcp-session-id: s-1\r\ncontent-length: %zu\r\n\r\n%s",
				strlen(REQ_BODY), REQ_BODY);
}

static size_t build_response(char *buf, size_t len)
{
	return (size_t)snprintf(buf, len,
				"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
				"content-length: %zu\r\n\r\n%s",
				strlen(RSP_BODY), RSP_BODY);
}

static struct stream_table *new_table(struct seen *s, struct proto_sink *sink, uint32_t max_conns)
{
	struct stream_config cfg = { .max_conns = max_conns, .max_body = 1 << 20 };

	memset(s, 0, sizeof(*s));
	sink->message = on_message;
	sink->session_end = on_session_end;
	sink->parse_error = on_parse_error;
	sink->arg = s;
	return stream_table_new(&cfg, sink);
}

static void v4(uint8_t a[16], uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3)
{
	memset(a, 0, 16);
	a[0] = b0, a[1] = b1, a[2] = b2, a[3] = b3;
}

static void v4mapped(uint8_t a[16], uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3)
{
	memset(a, 0, 16);
	a[10] = a[11] = 0xff;
	a[12] = b0, a[13] = b1, a[14] = b2, a[15] = b3;
}

/* A server's accepted socket 10.0.0.1:3001 talking to 10.0.0.2:rport. */
static struct stream_conn_info server_info(uint16_t rport)
{
	struct stream_conn_info info = { .role = MW_ROLE_SERVER, .family = MW_FAM_TCP4,
					 .lport = 3001, .rport = rport };

	v4(info.laddr, 10, 0, 0, 1);
	v4(info.raddr, 10, 0, 0, 2);
	return info;
}

/* The client's IPv4 socket and the dual-stack server's v4-mapped IPv6 socket
 * of one connection share a flow; the server endpoint reads as IPv4. */
static void test_flow_joins_both_sockets(void **state)
{
	struct seen s;
	struct proto_sink sink;
	struct stream_table *st = new_table(&s, &sink, 16);
	struct stream_key ck = { .tgid = 100, .fd = 5, .gen = 1 };
	struct stream_key sk = { .tgid = 200, .fd = 9, .gen = 2 };
	struct stream_conn_info ci = { .role = MW_ROLE_CLIENT, .family = MW_FAM_TCP4,
				       .lport = 40000, .rport = 3001, .netns = 1, .tgid = 100 };
	struct stream_conn_info si = { .role = MW_ROLE_SERVER, .family = MW_FAM_TCP6,
				       .lport = 3001, .rport = 40000, .netns = 2, .tgid = 200 };
	char req[1024], rsp[1024];
	size_t qn = build_request(req, sizeof(req)), rn = build_response(rsp, sizeof(rsp));

	assert_non_null(st);
	v4(ci.laddr, 172, 29, 0, 3);
	v4(ci.raddr, 172, 29, 0, 2);
	v4mapped(si.laddr, 172, 29, 0, 2);
	v4mapped(si.raddr, 172, 29, 0, 3);
	stream_open(st, &ck, &ci, 1);
	stream_open(st, &sk, &si, 2);
	stream_data(st, &ck, STREAM_SEND, 0, (const uint8_t *)req, qn, 0, 10);
	stream_data(st, &sk, STREAM_RECV, 0, (const uint8_t *)req, qn, 0, 11);
	stream_data(st, &sk, STREAM_SEND, 0, (const uint8_t *)rsp, rn, 0, 20);
	stream_data(st, &ck, STREAM_RECV, 0, (const uint8_t *)rsp, rn, 0, 21);

	assert_int_equal(s.n, 4);
	assert_int_equal(s.errors, 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(s.ctx[i].flow_id, s.ctx[0].flow_id);
		assert_string_equal(s.ctx[i].server.label, "172.29.0.2:3001");
	}
	assert_int_equal(s.ctx[0].observer, MCP_OBS_CLIENT);
	assert_int_equal(s.ctx[1].observer, MCP_OBS_SERVER);
	assert_int_equal(s.msg[1].kind, JSONRPC_REQUEST);
	assert_string_equal(s.msg[1].name.s, "echo");
	assert_int_equal(s.msg[2].kind, JSONRPC_RESULT);
	assert_int_equal(s.ctx[1].ts_ns, 11);
	stream_table_free(st);
}

/* Loopback exists in every network namespace: equal 4-tuples in two
 * namespaces are two connections. */
static void test_loopback_flows_split_by_netns(void **state)
{
	struct seen s;
	struct proto_sink sink;
	struct stream_table *st = new_table(&s, &sink, 16);
	struct stream_key a = { .tgid = 1, .fd = 3, .gen = 1 }, b = { .tgid = 2, .fd = 3, .gen = 2 };
	struct stream_conn_info ia = { .role = MW_ROLE_SERVER, .family = MW_FAM_TCP4,
				       .lport = 3001, .rport = 5000, .netns = 10 };
	struct stream_conn_info ib = ia;
	char req[1024];
	size_t qn = build_request(req, sizeof(req));

	v4(ia.laddr, 127, 0, 0, 1);
	v4(ia.raddr, 127, 0, 0, 1);
	ib = ia;
	ib.netns = 11;
	stream_open(st, &a, &ia, 1);
	stream_open(st, &b, &ib, 1);
	stream_data(st, &a, STREAM_RECV, 0, (const uint8_t *)req, qn, 0, 2);
	stream_data(st, &b, STREAM_RECV, 0, (const uint8_t *)req, qn, 0, 3);
	assert_int_equal(s.n, 2);
	assert_int_not_equal(s.ctx[0].flow_id, s.ctx[1].flow_id);
	stream_table_free(st);
}

static struct stream_conn_info unix_info(uint32_t role, uint64_t own, uint64_t peer,
					 const char *path, size_t path_len)
{
	struct stream_conn_info info = { .role = role, .family = MW_FAM_UNIX };

	memcpy(info.laddr, &own, sizeof(own));
	memcpy(info.raddr, &peer, sizeof(peer));
	memcpy(info.path, path, path_len);
	info.path_len = path_len;
	return info;
}

/*
 * HTTP over a unix socket (fd >= 2): the client's and the server's socket
 * carry the same unordered identity pair, so they share a flow; both name
 * the server "unix:<path>". A third connection to the same path is another
 * flow under the same label; a socket without a peer pairs with nothing.
 */
static void test_unix_flow_and_label(void **state)
{
	struct seen s;
	struct proto_sink sink;
	struct stream_table *st = new_table(&s, &sink, 16);
	static const char path[] = "/run/mcp/files.sock"; /* with its NUL, as the kernel keeps it */
	struct stream_key ck = { .tgid = 100, .fd = 21, .gen = 1 };
	struct stream_key sk = { .tgid = 200, .fd = 17, .gen = 2 };
	struct stream_key ok = { .tgid = 300, .fd = 4, .gen = 3 };
	struct stream_key nk = { .tgid = 400, .fd = 5, .gen = 4 };
	struct stream_conn_info ci = unix_info(MW_ROLE_CLIENT, 0x1111, 0x2222, path, sizeof(path));
	struct stream_conn_info si = unix_info(MW_ROLE_SERVER, 0x2222, 0x1111, path, sizeof(path));
	struct stream_conn_info oi = unix_info(MW_ROLE_SERVER, 0x3333, 0x4444, path, sizeof(path));
	struct stream_conn_info ni = unix_info(MW_ROLE_UNKNOWN, 0x5555, 0, path, sizeof(path));
	char req[1024], rsp[1024];
	size_t qn = build_request(req, sizeof(req)), rn = build_response(rsp, sizeof(rsp));

	assert_non_null(st);
	stream_open(st, &ck, &ci, 1);
	stream_open(st, &sk, &si, 2);
	stream_open(st, &ok, &oi, 3);
	stream_open(st, &nk, &ni, 4);
	stream_data(st, &ck, STREAM_SEND, 0, (const uint8_t *)req, qn, 0, 10);
	stream_data(st, &sk, STREAM_RECV, 0, (const uint8_t *)req, qn, 0, 11);
	stream_data(st, &sk, STREAM_SEND, 0, (const uint8_t *)rsp, rn, 0, 20);
	stream_data(st, &ck, STREAM_RECV, 0, (const uint8_t *)rsp, rn, 0, 21);
	stream_data(st, &ok, STREAM_RECV, 0, (const uint8_t *)req, qn, 0, 30);
	stream_data(st, &nk, STREAM_RECV, 0, (const uint8_t *)req, qn, 0, 40);

	assert_int_equal(s.errors, 0);
	assert_int_equal(s.n, 6);
	for (int i = 0; i < 6; i++)
		assert_string_equal(s.ctx[i].server.label, "unix:/run/mcp/files.sock");
	for (int i = 1; i < 4; i++)
		assert_int_equal(s.ctx[i].flow_id, s.ctx[0].flow_id);
	assert_int_equal(s.ctx[0].observer, MCP_OBS_CLIENT);
	assert_int_equal(s.ctx[1].observer, MCP_OBS_SERVER);
	assert_int_equal(s.ctx[1].transport, MCP_TRANSPORT_STREAMABLE_HTTP);
	assert_int_not_equal(s.ctx[4].flow_id, s.ctx[0].flow_id);
	assert_int_not_equal(s.ctx[5].flow_id, s.ctx[0].flow_id);
	assert_int_not_equal(s.ctx[5].flow_id, s.ctx[4].flow_id);
	stream_table_free(st);
}

/* Labels of unix addresses: an abstract name as '@' (its trailing NUL
 * padding dropped, inner NULs as '@'), bytes outside printable ASCII as '?',
 * no address as "unix:unnamed", the longest sun_path whole. */
static void test_unix_labels(void **state)
{
	static const struct {
		const char *path;
		size_t len;
		const char *label;
	} cases[] = {
		{ "\0mcp-abstract\0\0\0\0", 17, "unix:@mcp-abstract" },
		{ "\0a\0b", 4, "unix:@a@b" },
		{ "/tmp/caf\xc3\xa9.sock", 16, "unix:/tmp/caf??.sock" },
		{ "", 0, "unix:unnamed" },
		{ "/x\0garbage", 10, "unix:/x" },
	};
	char longpath[STREAM_UNIX_PATH_MAX], longlabel[200];
	struct seen s;
	struct proto_sink sink;
	struct stream_table *st = new_table(&s, &sink, 16);
	char req[1024];
	size_t qn = build_request(req, sizeof(req));
	const size_t ncase = sizeof(cases) / sizeof(cases[0]);

	assert_non_null(st);
	for (size_t i = 0; i < ncase + 1; i++) {
		struct stream_key k = { .tgid = 10 + i, .fd = 3, .gen = i + 1 };
		struct stream_conn_info info;

		if (i < ncase) {
			info = unix_info(MW_ROLE_SERVER, 0x10 + i, 0x20 + i, cases[i].path, cases[i].len);
		} else {
			/* 107 characters and the NUL: the longest path */
			memset(longpath, 'p', sizeof(longpath) - 1);
			longpath[0] = '/';
			longpath[sizeof(longpath) - 1] = 0;
			info = unix_info(MW_ROLE_SERVER, 0x99, 0x98, longpath, sizeof(longpath));
			snprintf(longlabel, sizeof(longlabel), "unix:%s", longpath);
		}
		stream_open(st, &k, &info, 1);
		stream_data(st, &k, STREAM_RECV, 0, (const uint8_t *)req, qn, 0, 2);
	}
	assert_int_equal(s.n, ncase + 1);
	for (size_t i = 0; i < ncase; i++)
		assert_string_equal(s.ctx[i].server.label, cases[i].label);
	assert_string_equal(s.ctx[ncase].server.label, longlabel);
	stream_table_free(st);
}

/* A unix socket on fd 0 or 1 is a stdio server's end (bpf/mcpwire.bpf.c,
 * mw_stdio()): newline-delimited JSON-RPC, not HTTP. */
static void test_unix_fd0_is_stdio(void **state)
{
	struct seen s;
	struct proto_sink sink;
	struct stream_table *st = new_table(&s, &sink, 16);
	struct stream_key k = { .tgid = 77, .fd = 0, .gen = 1 };
	struct stream_conn_info info = unix_info(MW_ROLE_UNKNOWN, 0x10, 0x20, "", 0);
	static const char line[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}\n";

	assert_non_null(st);
	stream_open(st, &k, &info, 1);
	stream_data(st, &k, STREAM_RECV, 0, (const uint8_t *)line, strlen(line), 0, 2);
	assert_int_equal(s.errors, 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.ctx[0].transport, MCP_TRANSPORT_STDIO);
	assert_int_equal(s.msg[0].kind, JSONRPC_REQUEST);
	stream_table_free(st);
}

/* Bytes delivered twice (overlapping offsets) are parsed once; any split
 * of the stream by offset gives the same messages. */
static void test_overlap_trimmed_and_splits(void **state)
{
	struct seen s;
	struct proto_sink sink;
	struct stream_table *st = new_table(&s, &sink, 16);
	struct stream_key k = { .tgid = 1, .fd = 3, .gen = 1 };
	struct stream_conn_info info = server_info(5000);
	struct stream_stats stats;
	char req[1024];
	size_t qn = build_request(req, sizeof(req));

	stream_open(st, &k, &info, 1);
	/* 0..20, then 10..qn (10 bytes overlap), then all again */
	stream_data(st, &k, STREAM_RECV, 0, (const uint8_t *)req, 20, 0, 2);
	stream_data(st, &k, STREAM_RECV, 10, (const uint8_t *)req + 10, qn - 10, 0, 3);
	stream_data(st, &k, STREAM_RECV, 0, (const uint8_t *)req, qn, 0, 4);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.errors, 0);
	assert_int_equal(s.ctx[0].ts_ns, 3);
	stream_stats(st, &stats);
	assert_int_equal(stats.overlap_bytes, 10 + qn);
	assert_int_equal(stats.gaps, 0);
	stream_table_free(st);
}

/* A lost range inside a body is a counted gap: the message it hit is not
 * reported (its id may be gone), the next one on the connection is. */
static void test_gap_counted_and_resync(void **state)
{
	struct seen s;
	struct proto_sink sink;
	struct stream_table *st = new_table(&s, &sink, 16);
	struct stream_key k = { .tgid = 1, .fd = 3, .gen = 1 };
	struct stream_conn_info info = server_info(5000);
	struct stream_stats stats;
	char req[1024];
	size_t qn = build_request(req, sizeof(req));
	size_t body = qn - strlen(REQ_BODY);

	stream_open(st, &k, &info, 1);
	/* first request loses 5 bytes in its body */
	stream_data(st, &k, STREAM_RECV, 0, (const uint8_t *)req, body + 10, 0, 2);
	stream_data(st, &k, STREAM_RECV, body + 15, (const uint8_t *)req + body + 15,
		    qn - body - 15, 0, 3);
	/* second request intact */
	stream_data(st, &k, STREAM_RECV, qn, (const uint8_t *)req, qn, 0, 4);
	stream_stats(st, &stats);
	assert_int_equal(stats.gaps, 1);
	assert_int_equal(stats.gap_bytes, 5);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.ctx[0].ts_ns, 4);
	assert_string_equal(s.msg[0].method.s, "tools/call");
	stream_table_free(st);
}

/* A new generation on a reused fd is a new socket: nothing of the old
 * socket's half-parsed request leaks into it. */
static void test_generation_replaces_socket(void **state)
{
	struct seen s;
	struct proto_sink sink;
	struct stream_table *st = new_table(&s, &sink, 16);
	struct stream_key k1 = { .tgid = 1, .fd = 3, .gen = 1 }, k2 = { .tgid = 1, .fd = 3, .gen = 2 };
	struct stream_conn_info info = server_info(5000);
	struct stream_stats stats;
	char req[1024];
	size_t qn = build_request(req, sizeof(req));

	stream_open(st, &k1, &info, 1);
	stream_data(st, &k1, STREAM_RECV, 0, (const uint8_t *)req, qn / 2, 0, 2);
	/* data for gen 2 without an open: the old socket is closed implicitly */
	stream_data(st, &k2, STREAM_RECV, 0, (const uint8_t *)req, qn, 0, 3);
	assert_int_equal(s.n, 1);
	/* a close for the dead generation must not close the live one */
	stream_close(st, &k1, 4);
	stream_data(st, &k2, STREAM_RECV, qn, (const uint8_t *)req, qn, 0, 5);
	assert_int_equal(s.n, 2);
	stream_stats(st, &stats);
	assert_int_equal(stats.data_without_open, 1);
	assert_int_equal(stats.conns_opened, 2);
	stream_table_free(st);
}

/* The table is bounded: the least recently active socket goes first. */
static void test_eviction_is_lru_and_counted(void **state)
{
	struct seen s;
	struct proto_sink sink;
	struct stream_table *st = new_table(&s, &sink, 2);
	struct stream_conn_info info = server_info(5000);
	struct stream_key k[3] = { { 1, 3, 1 }, { 1, 4, 2 }, { 1, 5, 3 } };
	struct stream_stats stats;
	char req[1024];
	size_t qn = build_request(req, sizeof(req));

	stream_open(st, &k[0], &info, 1);
	info.rport = 5001;
	stream_open(st, &k[1], &info, 1);
	/* k[0] is touched, so k[1] is the LRU one */
	stream_data(st, &k[0], STREAM_RECV, 0, (const uint8_t *)req, 10, 0, 2);
	info.rport = 5002;
	stream_open(st, &k[2], &info, 3);
	stream_stats(st, &stats);
	assert_int_equal(stats.conns_evicted, 1);
	/* k[0] still has its first 10 bytes: the rest completes the request */
	stream_data(st, &k[0], STREAM_RECV, 10, (const uint8_t *)req + 10, qn - 10, 0, 4);
	assert_int_equal(s.n, 1);
	stream_table_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flow_joins_both_sockets),
		cmocka_unit_test(test_loopback_flows_split_by_netns),
		cmocka_unit_test(test_unix_flow_and_label),
		cmocka_unit_test(test_unix_labels),
		cmocka_unit_test(test_unix_fd0_is_stdio),
		cmocka_unit_test(test_overlap_trimmed_and_splits),
		cmocka_unit_test(test_gap_counted_and_resync),
		cmocka_unit_test(test_generation_replaces_socket),
		cmocka_unit_test(test_eviction_is_lru_and_counted),
	};

	return cmocka_run_group_tests_name("stream", tests, NULL, NULL);
}
