// SPDX-License-Identifier: GPL-2.0-only
/*
 * The in-kernel first-bytes classifier (bpf/classify.h), compiled as plain C:
 * every verdict the BPF program can reach, and the property the probe relies
 * on — a prefix of an accepted start is never ruled out — including the body
 * of an SSE response met mid-stream.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "classify.h"

static int classify_str(const char *s)
{
	return mw_classify((const unsigned char *)s, strlen(s));
}

static void test_http_requests(void **state)
{
	static const char *const reqs[] = {
		"GET / HTTP/1.1\r\n",	"POST /mcp HTTP/1.1\r\n",   "PUT /x HTTP/1.1\r\n",
		"DELETE /mcp HTTP/1.1\r\n", "HEAD / HTTP/1.0\r\n", "OPTIONS * HTTP/1.1\r\n",
		"PATCH /a HTTP/1.1\r\n",
	};
	size_t i;

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++)
		assert_int_equal(classify_str(reqs[i]), MW_CLASS_HTTP_REQ);
}

static void test_http_responses(void **state)
{
	assert_int_equal(classify_str("HTTP/1.1 200 OK\r\n"), MW_CLASS_HTTP_RESP);
	assert_int_equal(classify_str("HTTP/1.0 501 Unsupported"), MW_CLASS_HTTP_RESP);
	/* HTTP/2 preface and lower-case methods are not HTTP/1.x. */
	assert_int_equal(classify_str("PRI * HTTP/2.0\r\n"), MW_CLASS_NOT_MCP);
	assert_int_equal(classify_str("HTTP/2 200\r\n"), MW_CLASS_NOT_MCP);
	assert_int_equal(classify_str("get / HTTP/1.1\r\n"), MW_CLASS_NOT_MCP);
	assert_int_equal(classify_str("GETX / HTTP/1.1"), MW_CLASS_NOT_MCP);
	assert_int_equal(classify_str("CONNECT a:443 HTTP/1.1"), MW_CLASS_NOT_MCP);
}

static void test_json(void **state)
{
	assert_int_equal(classify_str("{\"jsonrpc\":\"2.0\"}"), MW_CLASS_JSON);
	assert_int_equal(classify_str("[{\"jsonrpc\":\"2.0\"}]"), MW_CLASS_JSON);
	assert_int_equal(classify_str(" \t\r\n{"), MW_CLASS_JSON);
	assert_int_equal(classify_str("  x{"), MW_CLASS_NOT_MCP);
	/* JSON starting past the 16 bytes looked at is not seen. */
	assert_int_equal(classify_str("                {"), MW_CLASS_NOT_MCP);
	assert_int_equal(classify_str("               {"), MW_CLASS_JSON);
}

static void test_not_mcp(void **state)
{
	static const unsigned char tls[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01 };
	static const unsigned char nul[] = { 0, 0, 0, 0 };

	assert_int_equal(mw_classify(tls, sizeof(tls)), MW_CLASS_NOT_MCP);
	assert_int_equal(mw_classify(nul, sizeof(nul)), MW_CLASS_NOT_MCP);
	assert_int_equal(classify_str("SSH-2.0-OpenSSH_9.2"), MW_CLASS_NOT_MCP);
	assert_int_equal(classify_str("*3\r\n$3\r\nSET\r\n"), MW_CLASS_NOT_MCP);
}

/* Short first reads: any prefix of an accepted start must not be ruled out,
 * or a reader taking one byte at a time would lose the connection. */
static void test_prefixes_are_maybe(void **state)
{
	static const char *const starts[] = {
		"GET /", "POST /", "PUT /", "DELETE /", "HEAD /", "OPTIONS *", "PATCH /",
		"HTTP/1.1 200", "  {",
	};
	size_t i, n;

	for (i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		for (n = 0; n < strlen(starts[i]); n++) {
			int r = mw_classify((const unsigned char *)starts[i], n);

			assert_int_not_equal(r, MW_CLASS_NOT_MCP);
		}
	}
	assert_int_equal(mw_classify((const unsigned char *)"P", 1), MW_CLASS_MAYBE);
	assert_int_equal(mw_classify((const unsigned char *)"HTTP/1", 6), MW_CLASS_MAYBE);
	assert_int_equal(mw_classify((const unsigned char *)"X", 1), MW_CLASS_NOT_MCP);
	assert_int_equal(mw_classify((const unsigned char *)"", 0), MW_CLASS_MAYBE);
}

/* The probe never passes more than MW_CLASSIFY_LEN; longer input is cut. */
static void test_len_clamped(void **state)
{
	char buf[64];

	memset(buf, ' ', sizeof(buf));
	buf[20] = '{';
	assert_int_equal(mw_classify((const unsigned char *)buf, sizeof(buf)), MW_CLASS_NOT_MCP);
}

/* An SSE response body joined mid-stream: a chunk-size line and a field, or
 * a close-delimited body's first field. */
static void test_sse_body(void **state)
{
	static const char *const yes[] = {
		"6d\r\nevent: message\nid: 1\ndata: {}\n\n\r\n",
		"d\r\n: keepalive\n\n\r\n",
		"822\r\nevent: message\n",
		"31\r\nid: 9fc4\ndata: \n\n\r\n",
		"1f\r\ndata: {\"jsonrpc\":\"2.0\"}",
		"1F\r\nretry: 1000\n\n",
		"4f;x=y\r\nevent:",
		"4f ;x\r\ndata:",
		"event: message\ndata: {}",
		"data: {\"jsonrpc\":\"2.0\"}",
		"id: 5\n",
		"retry: 3000\n",
		": ping - 2025-01-01\r\n",
		": keepalive\n\n",
	};
	static const char *const no[] = {
		"+OK\r\n",			/* Redis, POP3 */
		"-ERR unknown\r\n",
		"220 smtp.example.com ESMTP\r\n", /* hex digits, then SP and text */
		"250-PIPELINING\r\n",
		"0\r\n\r\n",			/* last chunk: nothing to follow */
		"6d\r\n\r\n",
		"6d\r\nhello: x",
		"123456789\r\ndata:",		/* 9 hex digits: no chunk size */
		"dead beef\r\n",
		":irc.example.net 001 nick :hi\r\n", /* IRC: ':' without SP */
		"\r\n6d\r\nevent: message\n",	/* byte 0 only, not after CRLF */
		"ok then",
		"data x",			/* "data" SP, not ":" */
	};
	static const unsigned char tls13[] = { 0x16, 0x03, 0x03, 0x00, 0x7a, 0x02, 0x00 };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (classify_str(yes[i]) != MW_CLASS_SSE)
			fail_msg("\"%s\": %d, SSE expected", yes[i], classify_str(yes[i]));
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (classify_str(no[i]) != MW_CLASS_NOT_MCP)
			fail_msg("\"%s\": %d, NOT_MCP expected", no[i], classify_str(no[i]));
	assert_int_equal(mw_classify(tls13, sizeof(tls13)), MW_CLASS_NOT_MCP);
	/* Node's writev: the first iovec is the chunk-size line alone */
	assert_int_equal(classify_str("6d\r\n"), MW_CLASS_MAYBE);
	assert_int_equal(classify_str("6d"), MW_CLASS_MAYBE);
	/* the field past the 16 bytes copied: still undecided, so kept */
	assert_int_equal(classify_str("1a;name=value\r\nevent:"), MW_CLASS_MAYBE);
	assert_int_equal(classify_str("0123456789abcd\r\ndata:"), MW_CLASS_NOT_MCP);
	assert_int_equal(classify_str("1234abcd\r\nda"), MW_CLASS_MAYBE);
	assert_int_equal(classify_str("1234abcd\r\ndx"), MW_CLASS_NOT_MCP);
}

/* Every prefix of an accepted SSE start is not ruled out either. */
static void test_sse_prefixes(void **state)
{
	static const char *const starts[] = {
		"6d\r\nevent: message\n", "d\r\n: keepalive\n", "4f;a=b\r\ndata: {", "event: m",
		": ping",
	};
	size_t i, n;

	for (i = 0; i < sizeof(starts) / sizeof(starts[0]); i++)
		for (n = 0; n <= strlen(starts[i]); n++)
			if (mw_classify((const unsigned char *)starts[i], n) == MW_CLASS_NOT_MCP)
				fail_msg("\"%.*s\" ruled out", (int)n, starts[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_requests),
		cmocka_unit_test(test_http_responses),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_not_mcp),
		cmocka_unit_test(test_prefixes_are_maybe),
		cmocka_unit_test(test_len_clamped),
		cmocka_unit_test(test_sse_body),
		cmocka_unit_test(test_sse_prefixes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
