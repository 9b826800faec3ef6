// SPDX-License-Identifier: GPL-2.0-only
/*
 * proto/jsonrpc: the message shapes of mcp-wire.md §1/§4, batches, escapes,
 * truncation, huge skipped values, malformed input. Every input is scanned
 * whole, split at every byte position and one byte at a time, and all runs
 * must give the same messages and status.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <cmocka.h>

#include "proto/jsonrpc.h"

#define MAX_MSGS 16

struct run {
	int n;
	int feed_err;
	int end_err;
	struct jsonrpc_msg msg[MAX_MSGS];
};

static void collect(void *arg, const struct jsonrpc_msg *m)
{
	struct run *r = arg;

	if (r->n < MAX_MSGS)
		r->msg[r->n] = *m;
	r->n++;
}

/* split: 0 whole, SIZE_MAX one byte at a time, else two pieces at split */
static void scan(const char *in, size_t len, size_t split, struct run *r)
{
	struct jsonrpc_scan sc;

	memset(r, 0, sizeof(*r));
	jsonrpc_scan_init(&sc, collect, r);
	if (split == SIZE_MAX) {
		for (size_t i = 0; i < len; i++) {
			int e = jsonrpc_scan_feed(&sc, in + i, 1);

			if (e && !r->feed_err)
				r->feed_err = e;
		}
	} else if (split) {
		int e = jsonrpc_scan_feed(&sc, in, split);

		if (!e)
			e = jsonrpc_scan_feed(&sc, in + split, len - split);
		r->feed_err = e;
	} else {
		r->feed_err = jsonrpc_scan_feed(&sc, in, len);
	}
	r->end_err = jsonrpc_scan_end(&sc);
}

static void assert_same(const struct run *a, const struct run *b, size_t split)
{
	if (a->n != b->n || a->feed_err != b->feed_err || a->end_err != b->end_err)
		fail_msg("split %zu: %d msgs err %d/%d, whole: %d msgs err %d/%d", split, b->n,
			 b->feed_err, b->end_err, a->n, a->feed_err, a->end_err);
	for (int i = 0; i < a->n && i < MAX_MSGS; i++)
		if (memcmp(&a->msg[i], &b->msg[i], sizeof(a->msg[i])))
			fail_msg("split %zu: message %d differs", split, i);
}

/* Scans every way and leaves the whole-input result in *r. */
static void scan_all(const char *in, struct run *r)
{
	size_t len = strlen(in);
	struct run *o = malloc(sizeof(*o));

	assert_non_null(o);
	scan(in, len, 0, r);
	for (size_t k = 1; k < len; k++) {
		scan(in, len, k, o);
		assert_same(r, o, k);
	}
	scan(in, len, SIZE_MAX, o);
	assert_same(r, o, SIZE_MAX);
	free(o);
}

#define assert_str(ms, want) assert_string_equal((ms).s, want)
#define assert_id(id, want) assert_string_equal((id).text, want)

static void test_initialize_request_any_order(void **state)
{
	struct run r;

	scan_all("{\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\","
		 "\"capabilities\":{\"roots\":{\"listChanged\":true},\"sampling\":{}},"
		 "\"clientInfo\":{\"name\":\"wire-probe\",\"title\":\"x\",\"version\":\"0.1.0\"}},"
		 "\"jsonrpc\":\"2.0\",\"id\":0}",
		 &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.end_err, 0);
	assert_int_equal(r.msg[0].kind, JSONRPC_REQUEST);
	assert_int_equal(r.msg[0].id.type, JSONRPC_ID_NUM);
	assert_id(r.msg[0].id, "0");
	assert_str(r.msg[0].method, "initialize");
	assert_str(r.msg[0].protocol_version, "2025-11-25");
	assert_str(r.msg[0].peer_name, "wire-probe");
	assert_str(r.msg[0].peer_version, "0.1.0");
	assert_int_equal(r.msg[0].name.len, 0); /* clientInfo.name is not params.name */

	/* id first, jsonrpc last, pretty-printed with every kind of whitespace */
	scan_all(" \r\n{ \"id\" :\t\"two\" ,\n \"params\" : { \"name\" : \"echo\" } ,"
		 " \"method\" : \"tools/call\" , \"jsonrpc\" : \"2.0\" } \n",
		 &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.msg[0].kind, JSONRPC_REQUEST);
	assert_int_equal(r.msg[0].id.type, JSONRPC_ID_STR);
	assert_id(r.msg[0].id, "two");
	assert_str(r.msg[0].name, "echo");
}

static void test_initialize_result(void **state)
{
	struct run r;

	scan_all("{\"result\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{\"tools\":"
		 "{\"listChanged\":true},\"tasks\":{\"list\":{},\"requests\":{\"tools\":{\"call\":{}}}}},"
		 "\"serverInfo\":{\"name\":\"mcp-servers/everything\",\"title\":\"Everything\","
		 "\"version\":\"2.0.0\"},\"instructions\":\"# x \\\"q\\\" \\u2013\\n\"},"
		 "\"jsonrpc\":\"2.0\",\"id\":0}",
		 &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.msg[0].kind, JSONRPC_RESULT);
	assert_str(r.msg[0].peer_name, "mcp-servers/everything");
	assert_str(r.msg[0].peer_version, "2.0.0");
	assert_str(r.msg[0].protocol_version, "2025-11-25");
	assert_int_equal(r.msg[0].has_task, 0); /* capabilities.tasks is not result.task */
	assert_id(r.msg[0].id, "0");
}

/* 2026-07-28 (mcp-wire.md §8): no initialize; every result names its server
 * in result._meta. Keys elsewhere (a tool's own structuredContent, the
 * request's _meta, a nested _meta) name nothing. */
static void test_meta_server_info(void **state)
{
	struct run r;

	scan_all("{\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"hi\","
		 "\"_meta\":{\"io.modelcontextprotocol/serverInfo\":{\"name\":\"inner\"}}}],"
		 "\"structuredContent\":{\"serverInfo\":{\"name\":\"tool-data\"}},"
		 "\"_meta\":{\"io.modelcontextprotocol/related-task\":{\"taskId\":\"t\"},"
		 "\"io.modelcontextprotocol/serverInfo\":{\"name\":\"srv-2026\",\"title\":\"S\","
		 "\"version\":\"0.9.1\"},\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"},"
		 "\"isError\":true},\"jsonrpc\":\"2.0\",\"id\":4}",
		 &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.msg[0].kind, JSONRPC_RESULT);
	assert_str(r.msg[0].peer_name, "srv-2026");
	assert_str(r.msg[0].peer_version, "0.9.1");
	assert_str(r.msg[0].protocol_version, "2026-07-28");
	assert_int_equal(r.msg[0].is_error, 1);

	/* serverInfo without a version; a key one byte longer is another key */
	scan_all("{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"result\":{\"_meta\":{"
		 "\"io.modelcontextprotocol/serverInfoX\":{\"name\":\"no\"},"
		 "\"io.modelcontextprotocol/serverInfo\":{\"name\":\"s\\u00fcd\"}},\"tools\":[]}}",
		 &r);
	assert_int_equal(r.n, 1);
	assert_str(r.msg[0].peer_name, "s\xc3\xbc" "d");
	assert_int_equal(r.msg[0].peer_version.len, 0);
	assert_int_equal(r.msg[0].protocol_version.len, 0);

	/* a request's _meta (clientInfo of 2026-07-28) is not the server's */
	scan_all("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"e\","
		 "\"_meta\":{\"io.modelcontextprotocol/serverInfo\":{\"name\":\"x\"},"
		 "\"io.modelcontextprotocol/clientInfo\":{\"name\":\"c\"}}}}",
		 &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.msg[0].peer_name.len, 0);
	assert_str(r.msg[0].name, "e");
}

static void test_notifications_and_errors(void **state)
{
	struct run r;

	scan_all("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
		 "\"params\":{\"requestId\":5,\"reason\":\"user cancelled\"}}",
		 &r);
	assert_int_equal(r.msg[0].kind, JSONRPC_NOTIFICATION);
	assert_int_equal(r.msg[0].id.type, JSONRPC_ID_NONE);
	assert_int_equal(r.msg[0].cancel_id.type, JSONRPC_ID_NUM);
	assert_id(r.msg[0].cancel_id, "5");

	scan_all("{\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":\"abc\"}}", &r);
	assert_int_equal(r.msg[0].cancel_id.type, JSONRPC_ID_STR);
	assert_id(r.msg[0].cancel_id, "abc");

	scan_all("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32001,\"message\":\"Session not found\"},"
		 "\"id\":null}",
		 &r);
	assert_int_equal(r.msg[0].kind, JSONRPC_ERROR);
	assert_int_equal(r.msg[0].id.type, JSONRPC_ID_NULL);
	assert_int_equal(r.msg[0].has_error_code, 1);
	assert_int_equal(r.msg[0].error_code, -32001);

	/* id absent (allowed from 2025-11-25), code after data */
	scan_all("{\"error\":{\"data\":{\"code\":1},\"message\":\"m\",\"code\":-32602}}", &r);
	assert_int_equal(r.msg[0].kind, JSONRPC_ERROR);
	assert_int_equal(r.msg[0].id.type, JSONRPC_ID_NONE);
	assert_int_equal(r.msg[0].error_code, -32602);

	/* non-integer code: no code; big ids kept as written */
	scan_all("{\"error\":{\"code\":1.5},\"id\":-12345678901234567890123}", &r);
	assert_int_equal(r.msg[0].has_error_code, 0);
	assert_id(r.msg[0].id, "-12345678901234567890123");
	scan_all("{\"result\":{},\"id\":1.5e3}", &r);
	assert_int_equal(r.msg[0].kind, JSONRPC_RESULT);
	assert_id(r.msg[0].id, "1.5e3");
}

static void test_is_error_and_task(void **state)
{
	struct run r;

	scan_all("{\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"MCP error -32602: Tool "
		 "no-such-tool not found\",\"isError\":false}],\"isError\":true},"
		 "\"jsonrpc\":\"2.0\",\"id\":3}",
		 &r);
	assert_int_equal(r.msg[0].kind, JSONRPC_RESULT);
	assert_int_equal(r.msg[0].is_error, 1);

	scan_all("{\"result\":{\"isError\":\"true\"},\"id\":1}", &r);
	assert_int_equal(r.msg[0].is_error, 0);
	scan_all("{\"result\":{\"isError\":false},\"id\":1}", &r);
	assert_int_equal(r.msg[0].is_error, 0);

	scan_all("{\"result\":{\"task\":{\"taskId\":\"t1\",\"status\":\"working\"}},\"id\":1}", &r);
	assert_int_equal(r.msg[0].has_task, 1);
	scan_all("{\"method\":\"tools/call\",\"params\":{\"name\":\"x\",\"task\":{\"ttl\":100}},"
		 "\"id\":1}",
		 &r);
	assert_int_equal(r.msg[0].has_task, 1);
	assert_int_equal(r.msg[0].kind, JSONRPC_REQUEST);
}

static void test_batch(void **state)
{
	struct run r;

	scan_all("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},"
		 " {\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"} ,"
		 "{\"result\":{},\"id\":\"x\"}]",
		 &r);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.msg[0].kind, JSONRPC_REQUEST);
	assert_str(r.msg[0].method, "ping");
	assert_int_equal(r.msg[1].kind, JSONRPC_NOTIFICATION);
	assert_int_equal(r.msg[2].kind, JSONRPC_RESULT);
	assert_id(r.msg[2].id, "x");

	scan_all("[]", &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.msg[0].kind, JSONRPC_INVALID);

	scan_all("[1,{\"method\":\"a\"},[2]]", &r);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.msg[0].kind, JSONRPC_INVALID);
	assert_int_equal(r.msg[1].kind, JSONRPC_NOTIFICATION);
	assert_int_equal(r.msg[2].kind, JSONRPC_INVALID);

	/* two top-level values back to back (newline-delimited) */
	scan_all("{\"method\":\"a\"}\n{\"method\":\"b\",\"id\":7}\n", &r);
	assert_int_equal(r.n, 2);
	assert_str(r.msg[1].method, "b");
}

static void test_classification(void **state)
{
	static const char *const invalid[] = {
		"{\"result\":{},\"method\":\"x\",\"id\":1}", /* both */
		"{\"result\":{}}",			      /* result without id */
		"{\"foo\":1}",
		"{\"method\":5}",
		"{\"method\":\"x\",\"id\":null}",	      /* request ids are never null */
		"{\"method\":\"x\",\"id\":{}}",
		"{\"result\":{},\"error\":{},\"id\":1}",
		"42",
		"\"str\"",
		"null",
	};
	struct run r;

	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		scan_all(invalid[i], &r);
		if (r.n != 1 || r.msg[0].kind != JSONRPC_INVALID || r.end_err)
			fail_msg("%s: %d msgs kind %d err %d", invalid[i], r.n, r.msg[0].kind,
				 r.end_err);
	}
}

static void test_unicode(void **state)
{
	struct run r;

	/* é, U+1F600 as a surrogate pair, \/ and the short escapes */
	scan_all("{\"method\":\"tools/call\",\"params\":{\"name\":\"t\\u00e9st\\ud83d\\ude00"
		 "\\/\\b\\f\\n\\r\\t\\\\\\\"\"},\"id\":1}",
		 &r);
	assert_string_equal(r.msg[0].name.s, "t\xc3\xa9st\xf0\x9f\x98\x80/\b\f\n\r\t\\\"");
	assert_int_equal(r.msg[0].name.truncated, 0);

	/* raw UTF-8 passes through; lone surrogates and \u0000 become U+FFFD */
	scan_all("{\"method\":\"x\",\"params\":{\"name\":\"\xe2\x80\x93\\ud83dA\\udc00\\u0000\"}}",
		 &r);
	assert_string_equal(r.msg[0].name.s, "\xe2\x80\x93\xef\xbf\xbd"
					     "A\xef\xbf\xbd\xef\xbf\xbd");
	/* escaped key names match too */
	scan_all("{\"m\\u0065thod\":\"x\"}", &r);
	assert_int_equal(r.msg[0].kind, JSONRPC_NOTIFICATION);
}

static void test_truncation(void **state)
{
	char in[1200], name[400];
	struct run r;

	memset(name, 'a', 300);
	name[300] = 0;
	snprintf(in, sizeof(in), "{\"method\":\"%s\",\"id\":%s1}", name,
		 "123456789012345678901234567890123456789012345678901234567890123456789");
	scan_all(in, &r);
	assert_int_equal(r.msg[0].kind, JSONRPC_REQUEST);
	assert_int_equal(r.msg[0].method.truncated, 1);
	assert_int_equal(r.msg[0].method.len, MCP_STR_MAX - 1);
	assert_int_equal(strlen(r.msg[0].method.s), MCP_STR_MAX - 1);
	assert_int_equal(r.msg[0].id.truncated, 1);
	assert_int_equal(r.msg[0].id.len, JSONRPC_ID_MAX - 1);

	/* a cut never leaves half a UTF-8 character */
	memset(name, 0, sizeof(name));
	for (int i = 0; i < 100; i++)
		memcpy(name + 3 * i, "\xe2\x80\x93", 3);
	snprintf(in, sizeof(in), "{\"method\":\"x\",\"params\":{\"name\":\"a%s\"}}", name);
	scan_all(in, &r);
	assert_int_equal(r.msg[0].name.truncated, 1);
	assert_int_equal(r.msg[0].name.len, 1 + 3 * 52);
	snprintf(in, sizeof(in), "{\"method\":\"x\",\"params\":{\"name\":\"a%s\"}}",
		 "\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013"
		 "\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013"
		 "\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013"
		 "\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013"
		 "\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013\\u2013");
	scan_all(in, &r);
	assert_int_equal(r.msg[0].name.truncated, 1);
	assert_int_equal(r.msg[0].name.len, 1 + 3 * 52);
}

static void test_malformed(void **state)
{
	static const struct {
		const char *in;
		int err;
	} cases[] = {
		{ "{\"id\":1,", JSONRPC_E_UNTERMINATED },
		{ "{\"id\":1x}", JSONRPC_E_SYNTAX },
		{ "{\"a\":tru}", JSONRPC_E_SYNTAX },
		{ "{\"method\":\"x\" \"id\":1}", JSONRPC_E_SYNTAX },
		{ "{\"s\":\"\\q\"}", JSONRPC_E_SYNTAX },
		{ "{\"s\":\"\\u12g4\"}", JSONRPC_E_SYNTAX },
		{ "{\"s\":\"a\nb\"}", JSONRPC_E_SYNTAX },
		{ "{\"s\":\"abc", JSONRPC_E_UNTERMINATED },
		{ "{]", JSONRPC_E_SYNTAX },
		{ "{\"a\":[1,]}", JSONRPC_E_SYNTAX },
		{ "{\"a\":01}", JSONRPC_E_SYNTAX },
		{ "{\"a\":-}", JSONRPC_E_SYNTAX },
		{ "{\"a\":1.}", JSONRPC_E_SYNTAX },
		{ "{\"a\":1e}", JSONRPC_E_SYNTAX },
		{ "{1:2}", JSONRPC_E_SYNTAX },
		{ "/message?sessionId=x", JSONRPC_E_SYNTAX },
		{ "", JSONRPC_E_EMPTY },
		{ " \n ", JSONRPC_E_EMPTY },
		{ "{\"a\":[1,2", JSONRPC_E_UNTERMINATED },
	};
	struct run r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		scan_all(cases[i].in, &r);
		if (r.end_err != cases[i].err || r.n)
			fail_msg("case %zu %s: err %d (%s) msgs %d, want %d", i, cases[i].in,
				 r.end_err, jsonrpc_strerror(r.end_err), r.n, cases[i].err);
	}
}

static void test_depth(void **state)
{
	char in[400];
	struct run r;
	int n = 0;

	/* 64 levels are fine, 65 are not */
	n += sprintf(in + n, "{\"result\":");
	for (int i = 0; i < 62; i++)
		in[n++] = '[';
	for (int i = 0; i < 62; i++)
		in[n++] = ']';
	sprintf(in + n, ",\"id\":1}");
	scan_all(in, &r);
	assert_int_equal(r.end_err, 0);
	assert_int_equal(r.msg[0].kind, JSONRPC_RESULT);

	n = sprintf(in, "{\"result\":");
	for (int i = 0; i < 64; i++)
		in[n++] = '[';
	in[n] = 0;
	scan_all(in, &r);
	assert_int_equal(r.end_err, JSONRPC_E_DEPTH);
	assert_int_equal(r.n, 0);
}

/* A 5 MiB result with deep nesting: scanned in 64 KiB pieces, no memory. */
static void test_huge_result(void **state)
{
	const size_t big = 5u << 20;
	char *in = malloc(big + 4096);
	struct jsonrpc_scan sc;
	struct run r;
	struct mallinfo2 before, after;
	size_t n = 0;
	int err = 0;

	assert_non_null(in);
	n += sprintf(in + n, "{\"result\":{\"content\":[");
	while (n < big) {
		n += sprintf(in + n, "{\"type\":\"text\",\"text\":\"");
		memset(in + n, 'x', 4000);
		n += 4000;
		n += sprintf(in + n, "\\n\\u00e9\",\"nested\":[[[[{\"a\":[1,2.5e3,true,null]}]]]]},");
	}
	n += sprintf(in + n, "{}],\"isError\":true},\"jsonrpc\":\"2.0\",\"id\":42}");

	memset(&r, 0, sizeof(r));
	jsonrpc_scan_init(&sc, collect, &r);
	before = mallinfo2();
	for (size_t off = 0; off < n && !err; off += 65536)
		err = jsonrpc_scan_feed(&sc, in + off, n - off < 65536 ? n - off : 65536);
	assert_int_equal(jsonrpc_scan_end(&sc), 0);
	after = mallinfo2();
	assert_int_equal(err, 0);
	assert_int_equal(after.uordblks, before.uordblks);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.msg[0].kind, JSONRPC_RESULT);
	assert_int_equal(r.msg[0].is_error, 1);
	assert_string_equal(r.msg[0].id.text, "42");
	free(in);
}

/* Payload capture: what each message's payloads held, copied during the
 * callback (the text is valid only then). */
struct pl_got {
	int n;
	struct {
		uint8_t kind;
		int has[3];
		uint8_t trunc[3];
		uint32_t len[3];
		char text[3][JSONRPC_PAYLOAD_MAX + 1];
	} m[4];
};

static void pl_collect(void *arg, const struct jsonrpc_msg *msg)
{
	struct pl_got *g = arg;
	const struct jsonrpc_payload *pl[3] = { &msg->arguments, &msg->result, &msg->error };

	if (g->n >= 4)
		return;
	g->m[g->n].kind = msg->kind;
	for (int i = 0; i < 3; i++) {
		g->m[g->n].has[i] = pl[i]->text != NULL;
		if (!pl[i]->text)
			continue;
		g->m[g->n].trunc[i] = pl[i]->truncated;
		g->m[g->n].len[i] = pl[i]->len;
		memcpy(g->m[g->n].text[i], pl[i]->text, pl[i]->len);
		g->m[g->n].text[i][pl[i]->len] = 0;
	}
	g->n++;
}

/* Feeds in at split (0: whole, SIZE_MAX: a byte at a time). */
static void pl_scan(const char *in, size_t len, size_t split, int capture, struct pl_got *g)
{
	struct jsonrpc_scan sc;

	memset(g, 0, sizeof(*g));
	jsonrpc_scan_init(&sc, pl_collect, g);
	jsonrpc_scan_set_capture(&sc, capture);
	if (split == SIZE_MAX) {
		for (size_t i = 0; i < len; i++)
			assert_int_equal(jsonrpc_scan_feed(&sc, in + i, 1), 0);
	} else {
		assert_int_equal(jsonrpc_scan_feed(&sc, in, split), 0);
		assert_int_equal(jsonrpc_scan_feed(&sc, in + split, len - split), 0);
	}
	assert_int_equal(jsonrpc_scan_end(&sc), 0);
	jsonrpc_scan_fini(&sc);
}

/* Every split gives the raw text of the value exactly, whitespace and
 * escapes included; 'a' arguments, 'r' result, 'e' error. */
static void pl_check(const char *in, int which, const char *want)
{
	int i = which == 'a' ? 0 : which == 'r' ? 1 : 2;
	size_t len = strlen(in);
	struct pl_got *g = malloc(sizeof(*g));

	assert_non_null(g);
	for (size_t k = 0; k <= len + 1; k++) {
		pl_scan(in, len, k == len + 1 ? SIZE_MAX : k, 1, g);
		assert_int_equal(g->n, 1);
		assert_true(g->m[0].has[i]);
		assert_int_equal(g->m[0].trunc[i], 0);
		assert_string_equal(g->m[0].text[i], want);
		for (int o = 0; o < 3; o++)
			if (o != i)
				assert_false(g->m[0].has[o]);
	}
	/* off: nothing is kept */
	pl_scan(in, len, 0, 0, g);
	assert_int_equal(g->n, 1);
	assert_false(g->m[0].has[0] || g->m[0].has[1] || g->m[0].has[2]);
	free(g);
}

static void test_payload_capture(void **state)
{
	pl_check("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\","
		 "\"arguments\" : { \"password\":\"x\",\"q\":1,\"s\":\"a\\\"}\\u00e9\",\"l\":[1, {}]} ,"
		 "\"_meta\":{\"progressToken\":1}}}",
		 'a', "{ \"password\":\"x\",\"q\":1,\"s\":\"a\\\"}\\u00e9\",\"l\":[1, {}]}");
	pl_check("{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"content\":[{\"type\":\"text\","
		 "\"text\":\"Echo: hi\"}],\"isError\":false}}",
		 'r', "{\"content\":[{\"type\":\"text\",\"text\":\"Echo: hi\"}],\"isError\":false}");
	pl_check("{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32602,\"message\":\"bad\"}}",
		 'e', "{\"code\":-32602,\"message\":\"bad\"}");
	/* scalars end where the scanner only sees the next byte */
	pl_check("{\"id\":1,\"result\":-12.5e3}", 'r', "-12.5e3");
	pl_check("{\"id\":1,\"result\":\"x\\\\\"}", 'r', "\"x\\\\\"");
	pl_check("{\"id\":1,\"result\":null}", 'r', "null");
	pl_check("{\"id\":1,\"method\":\"prompts/get\",\"params\":{\"arguments\":[]}}", 'a', "[]");
}

static void test_payload_batch_and_truncation(void **state)
{
	const char *b = "[{\"id\":1,\"result\":{\"a\":1}},{\"id\":2,\"result\":[2]}]";
	struct pl_got *g = malloc(sizeof(*g));
	size_t n = 0, len;
	char *in = malloc(3 * JSONRPC_PAYLOAD_MAX);

	assert_non_null(g);
	assert_non_null(in);
	pl_scan(b, strlen(b), SIZE_MAX, 1, g);
	assert_int_equal(g->n, 2);
	assert_string_equal(g->m[0].text[1], "{\"a\":1}");
	assert_string_equal(g->m[1].text[1], "[2]");

	/* exactly the cap fits; one byte more is cut at the cap */
	for (int extra = 0; extra < 2; extra++) {
		n = sprintf(in, "{\"id\":1,\"result\":\"");
		len = JSONRPC_PAYLOAD_MAX - 2 + extra;
		memset(in + n, 'x', len);
		n += len;
		n += sprintf(in + n, "\"}");
		for (size_t split = 1; split < n; split += 997) {
			pl_scan(in, n, split, 1, g);
			assert_int_equal(g->n, 1);
			assert_int_equal(g->m[0].trunc[1], extra);
			assert_int_equal(g->m[0].len[1], JSONRPC_PAYLOAD_MAX);
			assert_memory_equal(g->m[0].text[1], in + 17, JSONRPC_PAYLOAD_MAX);
		}
	}
	free(in);
	free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_payload_capture),
		cmocka_unit_test(test_payload_batch_and_truncation),
		cmocka_unit_test(test_initialize_request_any_order),
		cmocka_unit_test(test_initialize_result),
		cmocka_unit_test(test_meta_server_info),
		cmocka_unit_test(test_notifications_and_errors),
		cmocka_unit_test(test_is_error_and_task),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_classification),
		cmocka_unit_test(test_unicode),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_huge_result),
	};

	return cmocka_run_group_tests_name("jsonrpc", tests, NULL, NULL);
}
