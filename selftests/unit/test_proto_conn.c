// SPDX-License-Identifier: GPL-2.0-only
/*
 * proto/conn end to end on the real captures of mcp-wire.md (wire-captures/),
 * from the server's socket and from the client's, whole, split at every byte
 * and one byte at a time; plus non-MCP HTTP, HTTP error statuses, too large
 * bodies, compressed JSON, and gaps.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <cmocka.h>

#include "proto/conn.h"
#include "captures.h"

#define MAX_REC 64
#define MAX_CONNS 8

enum { R_MSG, R_END, R_ERR };

struct rec {
	int type;
	const char *reason;
	uint8_t observer, dir, transport;
	uint16_t http_status;
	uint64_t ts, exchange;
	char session[128], new_session[128];
	struct jsonrpc_msg msg;
};

struct run {
	int n;
	struct rec rec[MAX_REC];
};

static void rec_add(struct run *r, int type, const struct mcp_wire_ctx *ctx,
		    const struct jsonrpc_msg *m, const char *reason)
{
	struct rec *x;

	if (r->n >= MAX_REC) {
		r->n++;
		return;
	}
	x = &r->rec[r->n++];
	memset(x, 0, sizeof(*x));
	x->type = type;
	x->reason = reason;
	x->observer = ctx->observer;
	x->dir = ctx->dir;
	x->transport = ctx->transport;
	x->http_status = ctx->http_status;
	x->ts = ctx->ts_ns;
	x->exchange = ctx->exchange;
	strcpy(x->session, ctx->session);
	strcpy(x->new_session, ctx->new_session);
	if (m)
		x->msg = *m;
}

static void on_message(void *arg, const struct mcp_wire_ctx *ctx, const struct jsonrpc_msg *m)
{
	rec_add(arg, R_MSG, ctx, m, NULL);
}

static void on_end(void *arg, const struct mcp_wire_ctx *ctx)
{
	rec_add(arg, R_END, ctx, NULL, NULL);
}

static void on_error(void *arg, const struct mcp_wire_ctx *ctx, const char *reason)
{
	rec_add(arg, R_ERR, ctx, NULL, reason);
}

/* Exchange ids come from a global counter: number them by first sight. */
static void run_normalise(struct run *r)
{
	uint64_t seen[MAX_REC];
	int ns = 0;

	for (int i = 0; i < r->n && i < MAX_REC; i++) {
		int j;

		for (j = 0; j < ns && seen[j] != r->rec[i].exchange; j++)
			;
		if (j == ns)
			seen[ns++] = r->rec[i].exchange;
		r->rec[i].exchange = j + 1;
	}
}

static int count(const struct run *r, int type)
{
	int n = 0;

	for (int i = 0; i < r->n && i < MAX_REC; i++)
		n += r->rec[i].type == type;
	return n;
}

static void dump(const struct run *r)
{
	for (int i = 0; i < r->n && i < MAX_REC; i++) {
		const struct rec *x = &r->rec[i];

		fprintf(stderr, "  %d: type %d %s dir %d kind %d method %s id %s status %u ex %llu\n",
			i, x->type, x->reason ? x->reason : "", x->dir, x->msg.kind, x->msg.method.s,
			x->msg.id.text, x->http_status, (unsigned long long)x->exchange);
	}
}

/*
 * Feed a capture: one proto_conn per connN, C->S bytes are STREAM_RECV of the
 * server's socket (or STREAM_SEND of the client's). split: 0 every segment
 * whole, SIZE_MAX every byte separately, else the segment holding global
 * offset split is cut there. ts is the segment's index + 1.
 */
static void feed_capture(const struct capture *cap, int client_view, size_t split, struct run *r)
{
	static const struct proto_sink sink_tmpl = { on_message, on_end, on_error, NULL };
	struct proto_sink sink = sink_tmpl;
	struct proto_conn *conns[MAX_CONNS + 1] = { 0 };
	size_t off = 0;

	memset(r, 0, sizeof(*r));
	sink.arg = r;
	for (size_t i = 0; i < cap->nsegs; i++) {
		const struct capture_seg *s = &cap->segs[i];
		enum stream_dir dir = s->c2s ^ client_view ? STREAM_RECV : STREAM_SEND;
		struct proto_conn *c;

		assert_true(s->conn <= MAX_CONNS);
		if (!conns[s->conn]) {
			struct proto_conn_params p = { .flow_id = s->conn, .max_body = 1 << 20 };

			strcpy(p.local.label, client_view ? "127.0.0.1:40000" : "127.0.0.1:3002");
			strcpy(p.remote.label, client_view ? "127.0.0.1:3002" : "127.0.0.1:40000");
			conns[s->conn] = proto_conn_new(&p, &sink);
			assert_non_null(conns[s->conn]);
		}
		c = conns[s->conn];
		if (split == SIZE_MAX) {
			for (size_t k = 0; k < s->len; k++)
				proto_conn_data(c, dir, s->data + k, 1, i + 1);
		} else if (split > off && split < off + s->len) {
			proto_conn_data(c, dir, s->data, split - off, i + 1);
			proto_conn_data(c, dir, s->data + (split - off), s->len - (split - off), i + 1);
		} else {
			proto_conn_data(c, dir, s->data, s->len, i + 1);
		}
		off += s->len;
	}
	for (int i = 0; i <= MAX_CONNS; i++)
		proto_conn_free(conns[i], 1000);
	run_normalise(r);
}

static void assert_same_run(const struct run *a, const struct run *b, size_t split)
{
	if (a->n != b->n) {
		fprintf(stderr, "whole:\n");
		dump(a);
		fprintf(stderr, "split %zu:\n", split);
		dump(b);
		fail_msg("split %zu: %d records, whole gave %d", split, b->n, a->n);
	}
	for (int i = 0; i < a->n && i < MAX_REC; i++)
		if (memcmp(&a->rec[i], &b->rec[i], sizeof(a->rec[i])))
			fail_msg("split %zu: record %d differs", split, i);
}

static size_t capture_bytes(const struct capture *cap)
{
	size_t n = 0;

	for (size_t i = 0; i < cap->nsegs; i++)
		n += cap->segs[i].len;
	return n;
}

/* Whole run in *r; every split and the byte-at-a-time run must match it. */
static void feed_capture_all(const struct capture *cap, int client_view, struct run *r)
{
	struct run *o = malloc(sizeof(*o));
	size_t total = capture_bytes(cap);

	assert_non_null(o);
	feed_capture(cap, client_view, 0, r);
	for (size_t k = 1; k < total; k++) {
		feed_capture(cap, client_view, k, o);
		assert_same_run(r, o, k);
	}
	feed_capture(cap, client_view, SIZE_MAX, o);
	assert_same_run(r, o, SIZE_MAX);
	free(o);
}

#define SID "761c9642-a672-463b-ab1b-ce9435a03ab9"

struct want {
	uint8_t dir, kind;
	const char *method, *id, *name;
	uint16_t status;
};

static void check_streamable(const struct run *r, int client_view)
{
	static const struct want want[] = {
		{ MCP_C2S, JSONRPC_REQUEST, "initialize", "0", "", 0 },
		{ MCP_S2C, JSONRPC_RESULT, "", "0", "", 200 },
		{ MCP_C2S, JSONRPC_NOTIFICATION, "notifications/initialized", "", "", 0 },
		{ MCP_C2S, JSONRPC_REQUEST, "tools/list", "1", "", 0 },
		{ MCP_S2C, JSONRPC_RESULT, "", "1", "", 200 },
		{ MCP_C2S, JSONRPC_REQUEST, "tools/call", "2", "echo", 0 },
		{ MCP_S2C, JSONRPC_RESULT, "", "2", "", 200 },
		{ MCP_C2S, JSONRPC_REQUEST, "tools/call", "3", "no-such-tool", 0 },
		{ MCP_S2C, JSONRPC_RESULT, "", "3", "", 200 },
		{ MCP_C2S, JSONRPC_REQUEST, "tools/call", "4", "trigger-long-running-operation", 0 },
		{ MCP_S2C, JSONRPC_NOTIFICATION, "notifications/progress", "", "", 200 },
		{ MCP_S2C, JSONRPC_NOTIFICATION, "notifications/progress", "", "", 200 },
		{ MCP_S2C, JSONRPC_RESULT, "", "4", "", 200 },
		{ MCP_C2S, JSONRPC_REQUEST, "tools/call", "5", "trigger-long-running-operation", 0 },
		{ MCP_C2S, JSONRPC_NOTIFICATION, "notifications/cancelled", "", "", 0 },
	};
	const size_t nwant = sizeof(want) / sizeof(want[0]);
	size_t m = 0;

	if (count(r, R_ERR) || count(r, R_MSG) != (int)nwant || count(r, R_END) != 1) {
		dump(r);
		fail_msg("%d messages %d errors %d ends", count(r, R_MSG), count(r, R_ERR),
			 count(r, R_END));
	}
	for (int i = 0; i < r->n; i++) {
		const struct rec *x = &r->rec[i];

		assert_int_equal(x->observer, client_view ? MCP_OBS_CLIENT : MCP_OBS_SERVER);
		assert_int_equal(x->transport, MCP_TRANSPORT_STREAMABLE_HTTP);
		if (i)
			assert_string_equal(x->session, SID);
		if (x->type == R_END) {
			assert_int_equal(x->http_status, 200);
			assert_int_equal(x->ts, 24); /* the DELETE's answer, last segment */
			continue;
		}
		assert_int_equal(x->msg.kind, want[m].kind);
		assert_int_equal(x->dir, want[m].dir);
		assert_string_equal(x->msg.method.s, want[m].method);
		assert_string_equal(x->msg.id.text, want[m].id);
		assert_string_equal(x->msg.name.s, want[m].name);
		assert_int_equal(x->http_status, want[m].status);
		m++;
	}
	/* initialize: the session comes from the answer, which created it */
	assert_string_equal(r->rec[0].session, "");
	assert_string_equal(r->rec[0].msg.peer_name.s, "wire-probe");
	assert_string_equal(r->rec[0].msg.protocol_version.s, "2025-11-25");
	assert_string_equal(r->rec[1].new_session, SID);
	assert_string_equal(r->rec[1].msg.peer_name.s, "mcp-servers/everything");
	assert_string_equal(r->rec[1].msg.peer_version.s, "2.0.0");
	assert_string_equal(r->rec[1].msg.protocol_version.s, "2025-11-25");
	assert_int_equal(r->rec[1].exchange, r->rec[0].exchange);
	assert_int_equal(r->rec[1].ts, 2);
	assert_string_equal(r->rec[4].new_session, ""); /* echoed, not new */
	assert_int_equal(r->rec[8].msg.is_error, 1);	/* unknown tool */
	assert_int_equal(r->rec[6].msg.is_error, 0);
	assert_int_equal(r->rec[12].exchange, r->rec[9].exchange); /* progress on the POST stream */
	assert_string_equal(r->rec[14].msg.cancel_id.text, "5");
	assert_int_equal(r->rec[14].msg.cancel_id.type, JSONRPC_ID_NUM);
}

static void test_streamable_http(void **state)
{
	struct capture cap;
	struct run *r = malloc(sizeof(*r));

	assert_non_null(r);
	assert_int_equal(capture_load(&cap, "streamable-http.txt"), 0);
	assert_int_equal(cap.nsegs, 24);
	feed_capture_all(&cap, 0, r);
	check_streamable(r, 0);
	feed_capture(&cap, 1, 0, r);
	check_streamable(r, 1);
	capture_free(&cap);
	free(r);
}

static void test_idle_keepalive(void **state)
{
	struct capture cap;
	struct run *r = malloc(sizeof(*r));

	assert_non_null(r);
	assert_int_equal(capture_load(&cap, "idle-keepalive.txt"), 0);
	feed_capture_all(&cap, 0, r);
	/* initialize + result, initialized, logging/setLevel + result,
	 * tools/call + result, four notifications/message on the GET stream;
	 * the ": keepalive" comment gives nothing */
	if (count(r, R_ERR) || count(r, R_MSG) != 11 || count(r, R_END) != 1) {
		dump(r);
		fail_msg("keepalive capture: %d messages %d errors", count(r, R_MSG),
			 count(r, R_ERR));
	}
	for (int i = 0; i < r->n; i++)
		if (r->rec[i].type == R_MSG && r->rec[i].dir == MCP_S2C &&
		    r->rec[i].msg.kind == JSONRPC_NOTIFICATION)
			assert_string_equal(r->rec[i].msg.method.s, "notifications/message");
	capture_free(&cap);
	free(r);
}

static void test_legacy_sse(void **state)
{
	struct capture cap;
	struct run *r = malloc(sizeof(*r));

	assert_non_null(r);
	assert_int_equal(capture_load(&cap, "legacy-sse.txt"), 0);
	feed_capture_all(&cap, 0, r);
	if (count(r, R_ERR)) {
		dump(r);
		fail_msg("legacy capture: %d parse errors", count(r, R_ERR));
	}
	/* 4 POSTed messages, 4 answers/notifications on the GET stream; the
	 * endpoint event is no message, the "Accepted" bodies neither */
	assert_int_equal(count(r, R_MSG), 8);
	for (int i = 0; i < r->n; i++) {
		assert_int_equal(r->rec[i].transport, MCP_TRANSPORT_SSE);
		assert_string_equal(r->rec[i].session, "d04268ff-562e-4761-966f-9d17ec48ec61");
	}
	capture_free(&cap);
	free(r);
}

/*
 * Synthetic legacy HTTP+SSE sessions (mcp-wire.md §5) in the spellings the
 * reference captures lack. A segment list built in memory, fed like a
 * capture file: whole, split at every byte, one byte at a time, from both
 * sockets.
 */
struct syn_seg {
	int conn, c2s;
	const char *text;	/* raw bytes, or with chunk set the chunk's data */
	int chunk;
};

#define SYN_MAX 24

struct syn {
	struct capture cap;
	struct capture_seg segs[SYN_MAX];
	char *bufs[SYN_MAX];
};

static void syn_build(struct syn *y, const struct syn_seg *in, size_t n)
{
	assert_true(n <= SYN_MAX);
	memset(y, 0, sizeof(*y));
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(in[i].text);
		char *b = malloc(len + 32);

		assert_non_null(b);
		if (in[i].chunk)
			len = sprintf(b, "%zx\r\n%s\r\n", len, in[i].text);
		else
			memcpy(b, in[i].text, len);
		y->bufs[i] = b;
		y->segs[i] = (struct capture_seg){ in[i].conn, in[i].c2s, (const uint8_t *)b, len };
		if (in[i].conn > y->cap.max_conn)
			y->cap.max_conn = in[i].conn;
	}
	y->cap.segs = y->segs;
	y->cap.nsegs = n;
}

static void syn_free(struct syn *y)
{
	for (int i = 0; i < SYN_MAX; i++)
		free(y->bufs[i]);
}

/* Every record of a legacy run: transport sse, the session of the endpoint
 * event, the messages in order, and the session's end last, at ts_end. */
static void check_legacy(const struct run *r, const struct want *want, size_t nwant,
			 const char *sid, uint64_t ts_end, int client_view)
{
	size_t m = 0;

	if (count(r, R_ERR) || count(r, R_MSG) != (int)nwant || count(r, R_END) != 1 ||
	    r->rec[r->n - 1].type != R_END) {
		dump(r);
		fail_msg("%d messages (want %zu), %d errors, %d ends", count(r, R_MSG), nwant,
			 count(r, R_ERR), count(r, R_END));
	}
	for (int i = 0; i < r->n; i++) {
		const struct rec *x = &r->rec[i];

		assert_int_equal(x->transport, MCP_TRANSPORT_SSE);
		assert_string_equal(x->session, sid);
		assert_int_equal(x->observer, client_view ? MCP_OBS_CLIENT : MCP_OBS_SERVER);
		if (x->type == R_END) {
			assert_int_equal(x->ts, ts_end);
			continue;
		}
		assert_int_equal(x->msg.kind, want[m].kind);
		assert_int_equal(x->dir, want[m].dir);
		assert_string_equal(x->msg.method.s, want[m].method);
		assert_string_equal(x->msg.id.text, want[m].id);
		m++;
	}
}

#define PYSID "9f1c2ab37d6e4c1f8a0b5e2d4c6f8a01"

/* python-sdk's SseServerTransport behind uvicorn: the endpoint is
 * /messages/?session_id=<uuid hex>, sse-starlette ends lines with \r\n,
 * orders fields id, event, data, and pings with ": ping - <datetime>"
 * comments. The server's sampling request and the client's answer pair across
 * the GET stream and a POST connection; the stream's end ends the session. */
static void test_legacy_python_spelling(void **state)
{
	static const char post_head[] = "POST /messages/?session_id=" PYSID " HTTP/1.1\r\n"
					"host: 127.0.0.1:8000\r\ncontent-type: application/json\r\n";
	static const char accepted[] = "HTTP/1.1 202 Accepted\r\ndate: Sun, 22 Nov 2026 01:33:54 GMT\r\n"
				       "server: uvicorn\r\ncontent-length: 8\r\n\r\nAccepted";
	char init[512], inited[512], call[512], answer[512];
	const struct syn_seg in[] = {
		{ 1, 1, "GET /sse HTTP/1.1\r\nhost: 127.0.0.1:8000\r\naccept: text/event-stream\r\n"
			"cache-control: no-store\r\n\r\n", 0 },
		{ 1, 0, "HTTP/1.1 200 OK\r\ndate: Sun, 22 Nov 2026 01:33:54 GMT\r\nserver: uvicorn\r\n"
			"cache-control: no-store\r\nconnection: keep-alive\r\nx-accel-buffering: no\r\n"
			"content-type: text/event-stream; charset=utf-8\r\n"
			"Transfer-Encoding: chunked\r\n\r\n", 0 },
		{ 1, 0, "event: endpoint\r\ndata: /messages/?session_id=" PYSID "\r\n\r\n", 1 },
		{ 2, 1, init, 0 },
		{ 2, 0, accepted, 0 },
		{ 1, 0, "id: 5b0f\r\nevent: message\r\ndata: {\"jsonrpc\":\"2.0\",\"id\":0,\"result\":"
			"{\"protocolVersion\":\"2024-11-05\",\"capabilities\":{},\"serverInfo\":"
			"{\"name\":\"py-mcp\",\"version\":\"1.9.0\"}}}\r\n\r\n", 1 },
		{ 1, 0, ": ping - 2026-11-22 01:34:09.123456+00:00\r\n\r\n", 1 },
		{ 2, 1, inited, 0 },
		{ 2, 0, accepted, 0 },
		{ 3, 1, call, 0 },
		{ 3, 0, accepted, 0 },
		{ 1, 0, "id: 5b10\r\nevent: message\r\ndata: {\"jsonrpc\":\"2.0\",\"id\":0,\"method\":"
			"\"sampling/createMessage\",\"params\":{\"messages\":[],\"maxTokens\":8}}\r\n\r\n", 1 },
		{ 2, 1, answer, 0 },
		{ 2, 0, accepted, 0 },
		{ 1, 0, "id: 5b11\r\nevent: message\r\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"
			"{\"content\":[],\"isError\":false}}\r\n\r\n", 1 },
		{ 1, 0, ": ping - 2026-11-22 01:34:24.123456+00:00\r\n\r\n", 1 },
		{ 1, 0, "0\r\n\r\n", 0 },
	};
	static const struct want want[] = {
		{ MCP_C2S, JSONRPC_REQUEST, "initialize", "0", "", 0 },
		{ MCP_S2C, JSONRPC_RESULT, "", "0", "", 200 },
		{ MCP_C2S, JSONRPC_NOTIFICATION, "notifications/initialized", "", "", 0 },
		{ MCP_C2S, JSONRPC_REQUEST, "tools/call", "1", "", 0 },
		{ MCP_S2C, JSONRPC_REQUEST, "sampling/createMessage", "0", "", 200 },
		{ MCP_C2S, JSONRPC_RESULT, "", "0", "", 0 },
		{ MCP_S2C, JSONRPC_RESULT, "", "1", "", 200 },
	};
	static const char *const bodies[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
		"\"2024-11-05\",\"capabilities\":{\"sampling\":{}},\"clientInfo\":{\"name\":\"c\",\"version\":\"1\"}}}",
		"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"sample\"}}",
		"{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":{\"model\":\"m\",\"role\":\"assistant\","
		"\"content\":{\"type\":\"text\",\"text\":\"hi\"}}}",
	};
	char *const outs[] = { init, inited, call, answer };
	struct run *r = malloc(sizeof(*r));
	struct syn y;

	assert_non_null(r);
	for (int i = 0; i < 4; i++)
		snprintf(outs[i], 512, "%scontent-length: %zu\r\n\r\n%s", post_head, strlen(bodies[i]),
			 bodies[i]);
	syn_build(&y, in, sizeof(in) / sizeof(in[0]));
	for (int v = 0; v < 2; v++) {
		feed_capture_all(&y.cap, v, r);
		check_legacy(r, want, sizeof(want) / sizeof(want[0]), PYSID, y.cap.nsegs, v);
		/* the answer's POST and the request it answers: other connections */
		assert_int_not_equal(r->rec[4].exchange, r->rec[5].exchange);
		assert_string_equal(r->rec[1].msg.peer_name.s, "py-mcp");
	}
	syn_free(&y);
	free(r);
}

#define TSSID "2f6c1d3e-8a4b-4c5d-9e6f-7a8b9c0d1e2f"

/* The ts-v1 examples (src/examples/server/simpleSseServer.ts) post to
 * /messages?sessionId=, with \n line ends; the client's close cuts the
 * chunked GET stream, which ends the session when the socket closes. */
static void test_legacy_ts_examples(void **state)
{
	static const char post[] = "POST /messages?sessionId=" TSSID " HTTP/1.1\r\nhost: 127.0.0.1:3000\r\n"
				   "content-type: application/json\r\ncontent-length: 40\r\n\r\n"
				   "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"ping\"}";
	const struct syn_seg in[] = {
		{ 1, 1, "GET /sse HTTP/1.1\r\nhost: 127.0.0.1:3000\r\naccept: text/event-stream\r\n\r\n", 0 },
		{ 1, 0, "HTTP/1.1 200 OK\r\nX-Powered-By: Express\r\nContent-Type: text/event-stream\r\n"
			"Cache-Control: no-cache, no-transform\r\nConnection: keep-alive\r\n"
			"Transfer-Encoding: chunked\r\n\r\n", 0 },
		{ 1, 0, "event: endpoint\ndata: /messages?sessionId=" TSSID "\n\n", 1 },
		{ 2, 1, post, 0 },
		{ 2, 0, "HTTP/1.1 202 Accepted\r\nX-Powered-By: Express\r\nContent-Length: 8\r\n\r\nAccepted", 0 },
		{ 1, 0, "event: message\ndata: {\"result\":{},\"jsonrpc\":\"2.0\",\"id\":4}\n\n", 1 },
	};
	static const struct want want[] = {
		{ MCP_C2S, JSONRPC_REQUEST, "ping", "4", "", 0 },
		{ MCP_S2C, JSONRPC_RESULT, "", "4", "", 200 },
	};
	struct run *r = malloc(sizeof(*r));
	struct syn y;

	assert_non_null(r);
	syn_build(&y, in, sizeof(in) / sizeof(in[0]));
	for (int v = 0; v < 2; v++) {
		feed_capture_all(&y.cap, v, r);
		/* feed_capture() closes every connection at ts 1000 */
		check_legacy(r, want, sizeof(want) / sizeof(want[0]), TSSID, 1000, v);
	}
	syn_free(&y);
	free(r);
}

/* Feed two directions of a synthetic exchange from the server's socket. */
static void feed_pair(const char *req, const char *resp, size_t resp_len, uint32_t max_body,
		      struct run *r)
{
	static const struct proto_sink sink_tmpl = { on_message, on_end, on_error, NULL };
	struct proto_sink sink = sink_tmpl;
	struct proto_conn_params p = { .flow_id = 1, .max_body = max_body };
	struct proto_conn *c;

	memset(r, 0, sizeof(*r));
	sink.arg = r;
	c = proto_conn_new(&p, &sink);
	assert_non_null(c);
	proto_conn_data(c, STREAM_RECV, (const uint8_t *)req, strlen(req), 1);
	proto_conn_data(c, STREAM_SEND, (const uint8_t *)resp, resp_len, 2);
	proto_conn_free(c, 3);
}

static void test_not_mcp(void **state)
{
	static const char req[] = "GET /metrics HTTP/1.1\r\nHost: node:9100\r\n"
				  "Accept: application/openmetrics-text;version=1.0.0,text/plain\r\n"
				  "Accept-Encoding: gzip\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\n"
				   "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
				   "Content-Length: 58\r\n\r\n"
				   "# TYPE up gauge\nup 1\nprocess_cpu_seconds_total 1.5e+01\n\n\n";
	struct run r;

	feed_pair(req, resp, strlen(resp), 0, &r);
	assert_int_equal(r.n, 0);
	/* a form POST and an HTML page neither */
	feed_pair("POST /login HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
		  "Content-Length: 7\r\n\r\na=1&b=2",
		  "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\n<p>x!",
		  68, 0, &r);
	assert_int_equal(r.n, 0);
	/* a JSON API that is not JSON-RPC (Prometheus's query API) neither */
	{
		static const char api[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 30\r\n\r\n"
					  "{\"status\":\"success\",\"data\":{}}";

		feed_pair("GET /api/v1/query?query=up HTTP/1.1\r\nAccept: application/json\r\n\r\n",
			  api, strlen(api), 0, &r);
	}
	assert_int_equal(r.n, 0);
}

/* Between messages a keep-alive connection holds no parser state and no
 * request FIFO (issue #6: 10,000 idle connections cost their small
 * proto_conn only); mid-message it does, and the next message after a
 * reuse still parses. Each step is split at every byte of the request. */
static void test_idle_holds_no_parser(void **state)
{
	static const char req[] =
		"POST /mcp HTTP/1.1\r\ncontent-type: application/json\r\ncontent-length: 40\r\n\r\n"
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}";
	static const char resp[] =
		"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 36\r\n\r\n"
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}";
	static const struct proto_sink sink_tmpl = { on_message, on_end, on_error, NULL };
	struct proto_sink sink = sink_tmpl;
	struct proto_conn_params p = { .flow_id = 1 };
	struct proto_work_stats ws0, ws;
	struct proto_conn *c[2];
	struct run r;
	size_t n = strlen(req);

	memset(&r, 0, sizeof(r));
	sink.arg = &r;
	proto_work_stats(&ws0);
	for (int k = 0; k < 2; k++) {
		c[k] = proto_conn_new(&p, &sink);
		assert_non_null(c[k]);
		/* the first exchange decides the protocol of both directions */
		proto_conn_data(c[k], STREAM_RECV, (const uint8_t *)req, n, 1);
		proto_conn_data(c[k], STREAM_SEND, (const uint8_t *)resp, strlen(resp), 1);
	}
	proto_work_stats(&ws);
	assert_int_equal(ws.in_use, ws0.in_use);
	assert_int_equal(ws.fifo_in_use, ws0.fifo_in_use);
	for (size_t split = 1; split < n; split++) {
		memset(&r, 0, sizeof(r));
		for (int k = 0; k < 2; k++) {
			proto_conn_data(c[k], STREAM_RECV, (const uint8_t *)req, split, 2);
			proto_work_stats(&ws);
			/* mid-request: this side holds a parser state */
			assert_int_equal(ws.in_use, ws0.in_use + 1);
			proto_conn_data(c[k], STREAM_RECV, (const uint8_t *)req + split, n - split,
					3);
			proto_work_stats(&ws);
			assert_int_equal(ws.in_use, ws0.in_use);
			assert_int_equal(ws.fifo_in_use, ws0.fifo_in_use + 1); /* awaits its answer */
			proto_conn_data(c[k], STREAM_SEND, (const uint8_t *)resp, strlen(resp), 4);
			proto_work_stats(&ws);
			assert_int_equal(ws.in_use, ws0.in_use);
			assert_int_equal(ws.fifo_in_use, ws0.fifo_in_use);
		}
		/* both connections' request and answer were parsed */
		assert_int_equal(count(&r, R_MSG), 4);
		assert_int_equal(count(&r, R_ERR), 0);
	}
	proto_conn_free(c[0], 4);
	proto_conn_free(c[1], 4);
	proto_work_stats(&ws);
	assert_int_equal(ws.failed, ws0.failed);
	assert_true(ws.spare <= 256 && ws.fifo_spare <= 256);
}

/* On a connection that speaks MCP, JSON that is not JSON-RPC is an error. */
static void test_not_jsonrpc_on_mcp(void **state)
{
	static const char req[] =
		"POST /mcp HTTP/1.1\r\ncontent-type: application/json\r\ncontent-length: 40\r\n\r\n"
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}"
		"POST /mcp HTTP/1.1\r\ncontent-type: application/json\r\ncontent-length: 13\r\n\r\n"
		"{\"hello\":\"x\"}";
	struct run r;

	feed_pair(req, "", 0, 0, &r);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.rec[0].type, R_MSG);
	assert_int_equal(r.rec[1].type, R_ERR);
	assert_string_equal(r.rec[1].reason, "not_jsonrpc");
}

static void test_http_error_status(void **state)
{
	static const char req[] = "POST /mcp HTTP/1.1\r\ncontent-type: application/json\r\n"
				  "mcp-session-id: gone\r\ncontent-length: 46\r\n\r\n"
				  "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\"}";
	static const char resp[] = "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
				   "Content-Length: 82\r\n\r\n"
				   "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32001,"
				   "\"message\":\"Session not found\"},\"id\":null}";
	struct run r;

	feed_pair(req, resp, strlen(resp), 0, &r);
	if (r.n != 2)
		dump(&r);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.rec[0].type, R_MSG);
	assert_int_equal(r.rec[0].msg.kind, JSONRPC_REQUEST);
	assert_int_equal(r.rec[1].type, R_MSG);
	assert_int_equal(r.rec[1].msg.kind, JSONRPC_ERROR);
	assert_int_equal(r.rec[1].msg.id.type, JSONRPC_ID_NUM);
	assert_string_equal(r.rec[1].msg.id.text, "7");
	assert_int_equal(r.rec[1].http_status, 404);
	assert_int_equal(r.rec[1].dir, MCP_S2C);
	assert_string_equal(r.rec[1].session, "gone");
	assert_int_equal(r.rec[1].exchange, r.rec[0].exchange);

	/* a 400 to a notification: nothing to answer, the body error stays */
	feed_pair("POST /mcp HTTP/1.1\r\ncontent-type: application/json\r\ncontent-length: 44\r\n"
		  "\r\n{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"}",
		  "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
		  "Content-Length: 51\r\n\r\n{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32000},\"id\":null}",
		  131, 0, &r);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.rec[1].msg.kind, JSONRPC_ERROR);
	assert_int_equal(r.rec[1].msg.error_code, -32000);
	assert_int_equal(r.rec[1].http_status, 400);
}

/*
 * Batches (2025-03-26; ts-v1's HTTP server still takes them, mcp-wire.md §1)
 * with string and number ids: each element is its own message, in order,
 * with its id's type kept ("a" is no 2). A batch refused with an HTTP status
 * gets one error per request id of the batch, string ids included.
 */
static void test_batch_string_ids(void **state)
{
	static const char req[] =
		"POST /mcp HTTP/1.1\r\ncontent-type: application/json\r\nmcp-session-id: b\r\n"
		"content-length: 136\r\n\r\n"
		"[{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"tools/list\"},"
		"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"},"
		"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}]";
	static const char resp[] = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
				   "content-length: 87\r\n\r\n"
				   "[{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}},"
				   "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"result\":{\"tools\":[]}}]";
	static const char req2[] =
		"POST /mcp HTTP/1.1\r\ncontent-type: application/json\r\nmcp-session-id: b\r\n"
		"content-length: 85\r\n\r\n"
		"[{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"ping\"},"
		"{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\"}]";
	static const char resp2[] = "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n"
				    "content-length: 51\r\n\r\n"
				    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32000},\"id\":null}";
	struct run r;

	assert_int_equal(strlen(req) - (strstr(req, "\r\n\r\n") + 4 - req), 136);
	assert_int_equal(strlen(resp) - (strstr(resp, "\r\n\r\n") + 4 - resp), 87);
	assert_int_equal(strlen(req2) - (strstr(req2, "\r\n\r\n") + 4 - req2), 85);
	feed_pair(req, resp, strlen(resp), 0, &r);
	if (r.n != 5 || count(&r, R_ERR))
		dump(&r);
	assert_int_equal(r.n, 5);
	assert_int_equal(r.rec[0].msg.kind, JSONRPC_REQUEST);
	assert_int_equal(r.rec[0].msg.id.type, JSONRPC_ID_STR);
	assert_string_equal(r.rec[0].msg.id.text, "a");
	assert_int_equal(r.rec[1].msg.kind, JSONRPC_NOTIFICATION);
	assert_int_equal(r.rec[2].msg.id.type, JSONRPC_ID_NUM);
	assert_string_equal(r.rec[2].msg.id.text, "2");
	assert_int_equal(r.rec[3].msg.kind, JSONRPC_RESULT);
	assert_int_equal(r.rec[3].msg.id.type, JSONRPC_ID_NUM);
	assert_int_equal(r.rec[4].msg.id.type, JSONRPC_ID_STR);
	assert_string_equal(r.rec[4].msg.id.text, "a");
	for (int i = 0; i < 5; i++) {
		assert_string_equal(r.rec[i].session, "b");
		assert_int_equal(r.rec[i].exchange, r.rec[0].exchange);
		assert_int_equal(r.rec[i].dir, i < 3 ? MCP_C2S : MCP_S2C);
	}

	feed_pair(req2, resp2, strlen(resp2), 0, &r);
	if (r.n != 4 || count(&r, R_ERR))
		dump(&r);
	assert_int_equal(r.n, 4);
	for (int i = 2; i < 4; i++) {
		assert_int_equal(r.rec[i].msg.kind, JSONRPC_ERROR);
		assert_int_equal(r.rec[i].http_status, 400);
		assert_int_equal(r.rec[i].msg.id.type, r.rec[i - 2].msg.id.type);
		assert_string_equal(r.rec[i].msg.id.text, r.rec[i - 2].msg.id.text);
	}
	assert_int_equal(r.rec[2].msg.id.type, JSONRPC_ID_STR);
}

/*
 * Builds a POST of a batch of n requests (ids alternate "s<i>" and <i>) and
 * the answer to it: a 400 refusing it, or with ok a 200 carrying one result
 * per id. Both into heap strings the caller frees.
 */
static void batch_pair(int n, int ok, char **req, char **resp)
{
	size_t cap = 64 + (size_t)n * 64, len = 0;
	char *body = malloc(cap), *rbody = malloc(cap);
	size_t rlen = 0;

	assert_non_null(body);
	assert_non_null(rbody);
	body[len++] = '[';
	rbody[rlen++] = '[';
	for (int i = 0; i < n; i++) {
		char id[16];

		if (i % 2)
			snprintf(id, sizeof(id), "%d", i);
		else
			snprintf(id, sizeof(id), "\"s%d\"", i);
		len += snprintf(body + len, cap - len, "%s{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"ping\"}",
				i ? "," : "", id);
		rlen += snprintf(rbody + rlen, cap - rlen, "%s{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{}}",
				 i ? "," : "", id);
	}
	body[len++] = ']';
	body[len] = 0;
	rbody[rlen++] = ']';
	rbody[rlen] = 0;
	assert_true(asprintf(req, "POST /mcp HTTP/1.1\r\ncontent-type: application/json\r\n"
			     "mcp-session-id: big\r\ncontent-length: %zu\r\n\r\n%s", len, body) > 0);
	if (ok)
		assert_true(asprintf(resp, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
				     "content-length: %zu\r\n\r\n%s", rlen, rbody) > 0);
	else
		assert_true(asprintf(resp, "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n"
				     "content-length: 51\r\n\r\n"
				     "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32000},\"id\":null}") > 0);
	free(body);
	free(rbody);
}

/* What a run of many messages reduces to: kinds, and whether each error
 * answers the next unanswered request of its exchange, in order. */
struct tally {
	int requests, results, errors, http_errors, too_large, other;
	int bad_order;	/* an error whose id is not that request's */
	int next;	/* not compared: the rest is bookkeeping */
	struct {
		uint64_t exchange;
		struct jsonrpc_id id;
		int answered;
	} req[2100];
	int nreq;
};

static void tally_message(void *arg, const struct mcp_wire_ctx *ctx, const struct jsonrpc_msg *m)
{
	struct tally *t = arg;

	if (m->kind == JSONRPC_REQUEST) {
		if (t->nreq < (int)(sizeof(t->req) / sizeof(t->req[0]))) {
			t->req[t->nreq].exchange = ctx->exchange;
			t->req[t->nreq++].id = m->id;
		}
		t->requests++;
	} else if (m->kind == JSONRPC_RESULT) {
		t->results++;
	} else if (m->kind == JSONRPC_ERROR) {
		t->errors++;
		int i = 0;

		if (ctx->http_status == 400)
			t->http_errors++;
		while (i < t->nreq && (t->req[i].answered || t->req[i].exchange != ctx->exchange))
			i++;
		if (i == t->nreq || t->req[i].id.type != m->id.type ||
		    strcmp(t->req[i].id.text, m->id.text))
			t->bad_order++;
		else
			t->req[i].answered = 1;
	} else {
		t->other++;
	}
}

static void tally_error(void *arg, const struct mcp_wire_ctx *ctx, const char *reason)
{
	struct tally *t = arg;

	(void)ctx;
	if (!strcmp(reason, "too_large"))
		t->too_large++;
	else
		t->other++;
}

/* The streams reqs and resps (both NUL-terminated) on one connection: whole
 * (split 0), cut at global offset split, or one byte at a time (SIZE_MAX). */
static void feed_tally(const char *reqs, const char *resps, size_t split, struct tally *t)
{
	struct proto_sink sink = { tally_message, NULL, tally_error, t };
	struct proto_conn_params p = { .flow_id = 1 };
	const char *seg[2] = { reqs, resps };
	struct proto_conn *c;

	memset(t, 0, sizeof(*t));
	c = proto_conn_new(&p, &sink);
	assert_non_null(c);
	for (int i = 0, off = 0; i < 2; i++) {
		enum stream_dir dir = i ? STREAM_SEND : STREAM_RECV;
		size_t n = strlen(seg[i]);
		const uint8_t *b = (const uint8_t *)seg[i];

		if (split == SIZE_MAX) {
			for (size_t k = 0; k < n; k++)
				proto_conn_data(c, dir, b + k, 1, i + 1);
		} else if (split > (size_t)off && split < off + n) {
			proto_conn_data(c, dir, b, split - off, i + 1);
			proto_conn_data(c, dir, b + (split - off), n - (split - off), i + 1);
		} else {
			proto_conn_data(c, dir, b, n, i + 1);
		}
		off += n;
	}
	proto_conn_free(c, 3);
}

/*
 * A batch of more requests than an exchange keeps inline (PROTO_EXCH_IDS, 4)
 * refused with an HTTP 400: every request of it gets its http_<status>
 * error, in order, none left to expire. Pipelined: a refused batch of 21, an
 * answered batch of 9 (its ids are freed unused), a refused batch of 6;
 * whole, split at every byte, one byte at a time.
 */
static void test_batch_refused_large(void **state)
{
	char *q[3], *a[3], *reqs, *resps;
	struct tally *t = malloc(sizeof(*t)), *o = malloc(sizeof(*o));
	size_t total;

	(void)state;
	assert_non_null(t);
	assert_non_null(o);
	batch_pair(21, 0, &q[0], &a[0]);
	batch_pair(9, 1, &q[1], &a[1]);
	batch_pair(6, 0, &q[2], &a[2]);
	assert_true(asprintf(&reqs, "%s%s%s", q[0], q[1], q[2]) > 0);
	assert_true(asprintf(&resps, "%s%s%s", a[0], a[1], a[2]) > 0);
	feed_tally(reqs, resps, 0, t);
	if (t->requests != 36 || t->errors != 27 || t->http_errors != 27 || t->results != 9 ||
	    t->bad_order || t->too_large || t->other)
		fail_msg("requests %d results %d errors %d (http %d) out of order %d too_large %d other %d",
			 t->requests, t->results, t->errors, t->http_errors, t->bad_order,
			 t->too_large, t->other);
	total = strlen(reqs) + strlen(resps);
	for (size_t k = 1; k <= total; k++) {
		feed_tally(reqs, resps, k == total ? SIZE_MAX : k, o);
		if (memcmp(&o->requests, &t->requests, offsetof(struct tally, next)))
			fail_msg("split %zu: requests %d results %d errors %d", k, o->requests,
				 o->results, o->errors);
	}
	for (int i = 0; i < 3; i++) {
		free(q[i]);
		free(a[i]);
	}
	free(reqs);
	free(resps);
	free(t);
	free(o);
}

/*
 * Past the bound (PROTO_EXCH_IDS_MAX, 1024 ids per exchange), a refused
 * batch's requests whose ids were not kept are each a too_large parse error,
 * never silently left to expire.
 */
static void test_batch_refused_past_bound(void **state)
{
	struct tally *t = malloc(sizeof(*t));
	char *q, *a;

	(void)state;
	assert_non_null(t);
	batch_pair(1027, 0, &q, &a);
	feed_tally(q, a, 0, t);
	if (t->requests != 1027 || t->errors != 1024 || t->http_errors != 1024 ||
	    t->too_large != 3 || t->bad_order || t->other)
		fail_msg("requests %d errors %d (http %d) too_large %d out of order %d other %d",
			 t->requests, t->errors, t->http_errors, t->too_large, t->bad_order,
			 t->other);
	free(q);
	free(a);
	free(t);
}

/*
 * 2026-07-28 (mcp-wire.md §8), synthetic: no SDK speaks it yet. Stateless
 * POSTs with Mcp-Method and Mcp-Name (plain and =?base64?…?=), JSON answers
 * naming the server in result._meta. The header names a call whose body has
 * no params.name/uri; the body's name wins; a header contradicting the
 * body's method or a bad encoded word names nothing. The result's protocol
 * version comes from the request's MCP-Protocol-Version when its _meta has
 * none. Pipelined on one connection, whole and split at every byte.
 */
#define R26(method, name, body)                                                              \
	"POST /mcp HTTP/1.1\r\nHost: s\r\ncontent-type: application/json\r\n"                 \
	"accept: application/json, text/event-stream\r\nmcp-protocol-version: 2026-07-28\r\n" \
	method name "content-length: " body
#define A26(len, body)                                                                       \
	"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: " len           \
	"\r\n\r\n" body

static const char req26[] =
	R26("Mcp-Method: tools/call\r\n", "MCP-NAME: =?base64?w7xiZXJwcsO8ZmVu?=\r\n",
	    "72\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"arguments\":{}}}")
	R26("mcp-method: resources/read\r\n", "mcp-name: =?BASE64?ZmlsZTovLy90bXAvw6QudHh0?=  \r\n",
	    "62\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"resources/read\",\"params\":{}}")
	R26("mcp-method: tools/call\r\n", "mcp-name: other\r\n",
	    "71\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\"}}")
	R26("mcp-method: prompts/get\r\n", "mcp-name: greet\r\n",
	    "72\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"arguments\":{}}}")
	R26("", "mcp-name: =?base64?!!!?=\r\n",
	    "59\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"prompts/get\",\"params\":{}}")
	R26("", "mcp-name: greet\r\n",
	    "59\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"prompts/get\",\"params\":{}}");

#define META26 "\"_meta\":{\"io.modelcontextprotocol/serverInfo\":{\"name\":\"srv-2026\",\"version\":\"0.9\"}}"
static const char resp26[] =
	A26("131", "{\"result\":{\"content\":[]," META26 "},\"jsonrpc\":\"2.0\",\"id\":1}")
	A26("132", "{\"result\":{\"contents\":[]," META26 "},\"jsonrpc\":\"2.0\",\"id\":2}")
	A26("170", "{\"result\":{\"content\":[],\"_meta\":{\"io.modelcontextprotocol/serverInfo\":"
		   "{\"name\":\"srv-2026\"},\"io.modelcontextprotocol/protocolVersion\":\"2026-01-01\"}},"
		   "\"jsonrpc\":\"2.0\",\"id\":3}")
	A26("75", "{\"jsonrpc\":\"2.0\",\"id\":4,\"error\":{\"code\":-32020,\"message\":\"HeaderMismatch\"}}")
	A26("49", "{\"result\":{\"messages\":[]},\"jsonrpc\":\"2.0\",\"id\":5}")
	A26("49", "{\"result\":{\"messages\":[]},\"jsonrpc\":\"2.0\",\"id\":6}");

static void feed26(size_t split, struct run *r)
{
	static const struct proto_sink sink_tmpl = { on_message, on_end, on_error, NULL };
	struct proto_sink sink = sink_tmpl;
	struct proto_conn_params p = { .flow_id = 1 };
	size_t nq = strlen(req26), na = strlen(resp26);
	struct proto_conn *c;

	memset(r, 0, sizeof(*r));
	sink.arg = r;
	c = proto_conn_new(&p, &sink);
	assert_non_null(c);
	if (split == SIZE_MAX) {
		for (size_t k = 0; k < nq; k++)
			proto_conn_data(c, STREAM_RECV, (const uint8_t *)req26 + k, 1, 1);
		for (size_t k = 0; k < na; k++)
			proto_conn_data(c, STREAM_SEND, (const uint8_t *)resp26 + k, 1, 2);
	} else if (split < nq) {
		proto_conn_data(c, STREAM_RECV, (const uint8_t *)req26, split, 1);
		proto_conn_data(c, STREAM_RECV, (const uint8_t *)req26 + split, nq - split, 1);
		proto_conn_data(c, STREAM_SEND, (const uint8_t *)resp26, na, 2);
	} else {
		split -= nq;
		proto_conn_data(c, STREAM_RECV, (const uint8_t *)req26, nq, 1);
		proto_conn_data(c, STREAM_SEND, (const uint8_t *)resp26, split, 2);
		proto_conn_data(c, STREAM_SEND, (const uint8_t *)resp26 + split, na - split, 2);
	}
	proto_conn_free(c, 3);
	run_normalise(r);
}

static void test_2026_headers(void **state)
{
	static const struct {
		const char *name, *uri, *pv;
	} want[12] = {
		{ "\xc3\xbc" "berpr\xc3\xbc" "fen", "", "" }, { "", "", "2026-07-28" },
		{ "", "file:///tmp/\xc3\xa4.txt", "" },	      { "", "", "2026-07-28" },
		{ "echo", "", "" },			      { "", "", "2026-01-01" },
		{ "", "", "" },				      { "", "", "" },
		{ "", "", "" },				      { "", "", "" },
		{ "greet", "", "" },			      { "", "", "" },
	};
	struct run *r = malloc(sizeof(*r)), *o = malloc(sizeof(*o));
	size_t total = strlen(req26) + strlen(resp26);

	assert_non_null(r);
	assert_non_null(o);
	feed26(0, r);
	if (r->n != 12 || count(r, R_MSG) != 12)
		dump(r);
	assert_int_equal(r->n, 12);
	for (int i = 0; i < 12; i++) {
		const struct rec *x = &r->rec[i];

		/* requests, then their answers in order */
		assert_int_equal(x->dir, i < 6 ? MCP_C2S : MCP_S2C);
	}
	for (int i = 0; i < 6; i++) {
		const struct rec *q = &r->rec[i], *a = &r->rec[6 + i];

		assert_int_equal(q->msg.kind, JSONRPC_REQUEST);
		assert_string_equal(q->msg.name.s, want[2 * i].name);
		assert_int_equal(q->msg.name.len, strlen(want[2 * i].name));
		assert_int_equal(q->msg.name.truncated, 0);
		assert_string_equal(q->msg.uri.s, want[2 * i].uri);
		assert_int_equal(a->exchange, q->exchange);
		assert_string_equal(a->session, "");
		assert_string_equal(a->msg.protocol_version.s, want[2 * i + 1].pv);
		if (i < 3)
			assert_string_equal(a->msg.peer_name.s, "srv-2026");
	}
	assert_string_equal(r->rec[6].msg.peer_version.s, "0.9");
	assert_int_equal(r->rec[9].msg.kind, JSONRPC_ERROR);
	for (size_t k = 1; k < total; k++) {
		feed26(k, o);
		assert_same_run(r, o, k);
	}
	feed26(SIZE_MAX, o);
	assert_same_run(r, o, SIZE_MAX);
	free(o);
	free(r);
}

static void test_too_large_and_gzip(void **state)
{
	char resp[1024];
	uint8_t z[512];
	const char *json = "{\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"hello hello\"}]},"
			   "\"jsonrpc\":\"2.0\",\"id\":1}";
	static const char req[] = "POST /mcp HTTP/1.1\r\ncontent-type: application/json\r\n"
				  "content-length: 46\r\n\r\n"
				  "{\"method\":\"tools/list\",\"jsonrpc\":\"2.0\",\"id\":1}";
	z_stream zs;
	size_t n, zn;
	struct run r;

	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	zs.next_in = (Bytef *)json;
	zs.avail_in = strlen(json);
	zs.next_out = z;
	zs.avail_out = sizeof(z);
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	zn = sizeof(z) - zs.avail_out;
	deflateEnd(&zs);
	n = sprintf(resp, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		    "Content-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n", zn);
	memcpy(resp + n, z, zn);
	n += zn;

	feed_pair(req, resp, n, 0, &r);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.rec[1].msg.kind, JSONRPC_RESULT);
	assert_string_equal(r.rec[1].msg.id.text, "1");

	/* 60 bytes allowed: the request fits, the decoded answer does not */
	feed_pair(req, resp, n, 60, &r);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.rec[1].type, R_ERR);
	assert_string_equal(r.rec[1].reason, "too_large");
}

static void test_gap_in_body(void **state)
{
	static const struct proto_sink sink_tmpl = { on_message, on_end, on_error, NULL };
	struct proto_sink sink = sink_tmpl;
	struct proto_conn_params p = { .flow_id = 1 };
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
				   "Transfer-Encoding: chunked\r\n\r\n";
	static const char ev[] = "event: message\ndata: {\"method\":\"notifications/message\"}\n\n";
	char chunk[128];
	struct proto_conn *c;
	struct run r;

	memset(&r, 0, sizeof(r));
	sink.arg = &r;
	c = proto_conn_new(&p, &sink);
	proto_conn_data(c, STREAM_RECV, (const uint8_t *)"GET /mcp HTTP/1.1\r\n\r\n", 21, 1);
	proto_conn_data(c, STREAM_SEND, (const uint8_t *)head, strlen(head), 2);
	snprintf(chunk, sizeof(chunk), "%zx\r\n%s\r\n", strlen(ev), ev);
	proto_conn_data(c, STREAM_SEND, (const uint8_t *)chunk, 30, 3);
	proto_conn_gap(c, STREAM_SEND, 10, 0, 4); /* inside the chunk: framing kept */
	proto_conn_data(c, STREAM_SEND, (const uint8_t *)chunk + 40, strlen(chunk) - 40, 5);
	proto_conn_data(c, STREAM_SEND, (const uint8_t *)chunk, strlen(chunk), 6);
	proto_conn_free(c, 7);
	if (r.n != 2)
		dump(&r);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.rec[0].type, R_ERR);
	assert_string_equal(r.rec[0].reason, "gap");
	assert_int_equal(r.rec[1].type, R_MSG);
	assert_int_equal(r.rec[1].ts, 6);
}

/*
 * Joining mid-stream: mcpwire starts while connections are open, so the
 * first bytes of a direction can be anywhere in a message. Each direction of
 * each connection of the captures is fed alone from every offset k; what
 * comes out must be exactly the messages whose container starts at or after
 * k: the chunk of an SSE event with JSON data (one event per chunk, as the
 * SDKs write), or the start line of a message with a JSON body. Never a
 * partial one, never one twice, no parse error.
 */
#define MAX_UNITS 64

/* One direction of connection conn, segments back to back. */
static uint8_t *stream_of(const struct capture *cap, int conn, int c2s, size_t *len)
{
	uint8_t *b = malloc(capture_bytes(cap) + 1);
	size_t n = 0;

	assert_non_null(b);
	for (size_t i = 0; i < cap->nsegs; i++) {
		if (cap->segs[i].conn != conn || cap->segs[i].c2s != c2s)
			continue;
		memcpy(b + n, cap->segs[i].data, cap->segs[i].len);
		n += cap->segs[i].len;
	}
	*len = n;
	return b;
}

static const uint8_t *find(const uint8_t *s, size_t n, const char *pat)
{
	return memmem(s, n, pat, strlen(pat));
}

/* Header value of name (lower case, with ": ") in head [s, s + n), or NULL. */
static const char *head_field(const uint8_t *s, size_t n, const char *name)
{
	for (size_t i = 0; i + strlen(name) < n; i++)
		if (!strncasecmp((const char *)s + i, name, strlen(name)) && i && s[i - 1] == '\n')
			return (const char *)s + i + strlen(name);
	return NULL;
}

/* Offsets where the messages of an HTTP/1.1 stream start (see above). */
static int msg_starts(const uint8_t *s, size_t n, size_t *pos)
{
	size_t i = 0;
	int k = 0;

	while (i < n) {
		const uint8_t *he = find(s + i, n - i, "\r\n\r\n");
		const char *te, *cl;
		size_t start = i, hend;

		assert_non_null(he);
		hend = he + 4 - s;
		te = head_field(s + i, hend - i, "transfer-encoding: ");
		cl = head_field(s + i, hend - i, "content-length: ");
		i = hend;
		if (te && !strncasecmp(te, "chunked", 7)) {
			for (;;) {
				size_t p = i, size = strtoul((const char *)s + i, NULL, 16), q;
				const uint8_t *e = find(s + i, n - i, "\r\n");

				if (!e || e + 2 + size > s + n)
					return k; /* the capture ends inside the stream */
				q = e + 2 - s;
				if (!size) {
					i = q + 2;
					break;
				}
				if (find(s + q, size, "data: {") || find(s + q, size, "data: ["))
					pos[k++] = p;
				i = q + size + 2;
			}
		} else if (cl) {
			size_t l = strtoul(cl, NULL, 10);

			if (l && (s[i] == '{' || s[i] == '['))
				pos[k++] = start;
			i += l;
		}
		assert_true(k < MAX_UNITS);
	}
	assert_int_equal(i, n);
	return k;
}

/* Feed s[k, n) as direction dir of a fresh connection; split as in
 * feed_capture (0 whole, SIZE_MAX byte by byte, else cut at that offset). */
static void feed_join(const uint8_t *s, size_t n, size_t k, enum stream_dir dir, size_t split,
		      struct run *r)
{
	static const struct proto_sink sink_tmpl = { on_message, on_end, on_error, NULL };
	struct proto_sink sink = sink_tmpl;
	struct proto_conn_params p = { .flow_id = 1, .max_body = 1 << 20 };
	struct proto_conn *c;

	memset(r, 0, sizeof(*r));
	sink.arg = r;
	strcpy(p.local.label, "127.0.0.1:3002");
	strcpy(p.remote.label, "127.0.0.1:40000");
	c = proto_conn_new(&p, &sink);
	assert_non_null(c);
	if (split == SIZE_MAX) {
		for (size_t i = k; i < n; i++)
			proto_conn_data(c, dir, s + i, 1, 1);
	} else if (split > k && split < n) {
		proto_conn_data(c, dir, s + k, split - k, 1);
		proto_conn_data(c, dir, s + split, n - split, 1);
	} else {
		proto_conn_data(c, dir, s + k, n - k, 1);
	}
	proto_conn_free(c, 2);
	/* a legacy GET stream seen from its endpoint event on ends its session
	 * when the connection closes: no message, and only with that session */
	if (r->n && r->n <= MAX_REC && r->rec[r->n - 1].type == R_END &&
	    r->rec[r->n - 1].transport == MCP_TRANSPORT_SSE && r->rec[r->n - 1].session[0])
		r->n--;
	run_normalise(r);
}

static void check_join(const struct run *ref, const size_t *pos, int nunits, size_t k,
		       const struct run *r, int c2s, enum stream_dir dir, const char *what)
{
	int m = 0;

	for (int u = 0; u < nunits; u++) {
		const struct rec *w = &ref->rec[u], *x = &r->rec[m];

		if (pos[u] < k)
			continue;
		if (m >= r->n || x->type != R_MSG || x->msg.kind != w->msg.kind ||
		    strcmp(x->msg.method.s, w->msg.method.s) || strcmp(x->msg.id.text, w->msg.id.text)) {
			fprintf(stderr, "reference:\n");
			dump(ref);
			fprintf(stderr, "joined at %zu:\n", k);
			dump(r);
			fail_msg("%s: joined at %zu: record %d is not message %d (at %zu)", what, k, m,
				 u, pos[u]);
		}
		assert_int_equal(x->dir, c2s ? MCP_C2S : MCP_S2C);
		/* the socket that reads requests or sends answers is the server's */
		assert_int_equal(x->observer, (dir == STREAM_RECV) == !!c2s ? MCP_OBS_SERVER :
									      MCP_OBS_CLIENT);
		m++;
	}
	if (m != r->n) {
		dump(r);
		fail_msg("%s: joined at %zu: %d records, %d expected", what, k, r->n, m);
	}
}

static void join_capture(const char *file)
{
	struct capture cap;
	struct run *ref = malloc(sizeof(*ref)), *r = malloc(sizeof(*r)), *o = malloc(sizeof(*o));
	size_t pos[MAX_UNITS];

	assert_true(ref && r && o);
	assert_int_equal(capture_load(&cap, file), 0);
	for (int conn = 1; conn <= cap.max_conn; conn++) {
		for (int c2s = 0; c2s < 2; c2s++) {
			size_t n;
			uint8_t *s = stream_of(&cap, conn, c2s, &n);
			int nunits = n ? msg_starts(s, n, pos) : 0;
			char what[96];

			snprintf(what, sizeof(what), "%s conn%d %s", file, conn, c2s ? "C->S" : "S->C");
			for (int v = 0; v < 2; v++) {
				enum stream_dir dir = v ? STREAM_RECV : STREAM_SEND;

				/* from the start: the reference, one record per unit */
				feed_join(s, n, 0, dir, 0, ref);
				if (ref->n != nunits || count(ref, R_MSG) != nunits) {
					dump(ref);
					fail_msg("%s: %d records, %d message starts", what, ref->n,
						 nunits);
				}
				for (size_t k = 0; k < n; k++) {
					feed_join(s, n, k, dir, 0, r);
					check_join(ref, pos, nunits, k, r, c2s, dir, what);
					/* byte by byte: a sample of the offsets */
					if (k % 97)
						continue;
					feed_join(s, n, k, dir, SIZE_MAX, o);
					assert_same_run(r, o, SIZE_MAX);
				}
			}
			free(s);
		}
	}
	capture_free(&cap);
	free(ref);
	free(r);
	free(o);
}

static void test_join_streamable_http(void **state)
{
	join_capture("streamable-http.txt");
}

static void test_join_idle_keepalive(void **state)
{
	join_capture("idle-keepalive.txt");
}

static void test_join_legacy_sse(void **state)
{
	join_capture("legacy-sse.txt");
}

/* The GET stream of idle-keepalive (conn1), joined at a chunk-size line, in
 * the middle of one, in the middle of a chunk and at a ": keepalive" chunk:
 * the same messages for every split of what follows. */
static void test_join_splits(void **state)
{
	struct capture cap;
	struct run *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	const uint8_t *ka;
	size_t n, ks[4];
	uint8_t *s;

	assert_true(a && b);
	assert_int_equal(capture_load(&cap, "idle-keepalive.txt"), 0);
	s = stream_of(&cap, 1, 0, &n);
	ka = find(s, n, "\r\nd\r\n: keepalive");
	assert_non_null(ka);
	ks[0] = ka + 2 - s;			/* "d\r\n: keepalive\n\n\r\n" */
	ks[1] = ks[0] + 18;			/* "df\r\nevent: message\n…" */
	ks[2] = ks[1] + 1;			/* inside its chunk-size line */
	ks[3] = ks[1] + 20;			/* inside its chunk */
	assert_memory_equal(s + ks[1], "df\r\nevent:", 10);
	for (int i = 0; i < 4; i++) {
		feed_join(s, n, ks[i], STREAM_RECV, 0, a);
		/* the notification after the keepalive, unless joined inside it */
		assert_int_equal(count(a, R_MSG), i < 2);
		assert_int_equal(count(a, R_ERR), 0);
		for (size_t split = ks[i] + 1; split < n; split++) {
			feed_join(s, n, ks[i], STREAM_RECV, split, b);
			assert_same_run(a, b, split);
		}
	}
	free(s);
	capture_free(&cap);
	free(a);
	free(b);
}

/* A start line quoted in a body is not taken for one, and skipping is no
 * parse error. */
static void test_join_quoted_start(void **state)
{
	static const char req[] =
		"\"text\":\"curl -X POST /x HTTP/1.1\"}}\r\n"
		"HTTP/1.1 200 OK\"}}"
		"POST /mcp HTTP/1.1\r\nhost: a\r\ncontent-type: application/json\r\n"
		"content-length: 40\r\n\r\n"
		"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}";
	static const char resp[] =
		"ata: {\"x\":\"HTTP/1.1 200 OK\"}\n\n\r\n"
		"3b\r\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}\n\n\r\n"
		"0\r\n\r\n";
	struct run r;

	feed_join((const uint8_t *)req, strlen(req), 0, STREAM_RECV, 0, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.rec[0].msg.kind, JSONRPC_REQUEST);
	assert_string_equal(r.rec[0].msg.id.text, "7");
	feed_join((const uint8_t *)resp, strlen(resp), 0, STREAM_RECV, 0, &r);
	if (r.n != 1)
		dump(&r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.rec[0].msg.kind, JSONRPC_RESULT);
	assert_int_equal(r.rec[0].observer, MCP_OBS_CLIENT);
	assert_int_equal(r.rec[0].exchange, 1);
	assert_string_equal(r.rec[0].session, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_streamable_http),
		cmocka_unit_test(test_idle_keepalive),
		cmocka_unit_test(test_idle_holds_no_parser),
		cmocka_unit_test(test_legacy_sse),
		cmocka_unit_test(test_legacy_python_spelling),
		cmocka_unit_test(test_legacy_ts_examples),
		cmocka_unit_test(test_not_mcp),
		cmocka_unit_test(test_http_error_status),
		cmocka_unit_test(test_batch_string_ids),
		cmocka_unit_test(test_batch_refused_large),
		cmocka_unit_test(test_batch_refused_past_bound),
		cmocka_unit_test(test_2026_headers),
		cmocka_unit_test(test_not_jsonrpc_on_mcp),
		cmocka_unit_test(test_too_large_and_gzip),
		cmocka_unit_test(test_gap_in_body),
		cmocka_unit_test(test_join_streamable_http),
		cmocka_unit_test(test_join_idle_keepalive),
		cmocka_unit_test(test_join_legacy_sse),
		cmocka_unit_test(test_join_splits),
		cmocka_unit_test(test_join_quoted_start),
	};

	return cmocka_run_group_tests_name("proto_conn", tests, NULL, NULL);
}
