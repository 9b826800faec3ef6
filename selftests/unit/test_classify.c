// SPDX-License-Identifier: GPL-2.0-only
/*
 * The in-kernel first-bytes classifier (bpf/classify.h), compiled as plain C:
 * every verdict the BPF program can reach, and the property the probe relies
 * on — a prefix of an accepted start is never ruled out.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_requests),
		cmocka_unit_test(test_http_responses),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_not_mcp),
		cmocka_unit_test(test_prefixes_are_maybe),
		cmocka_unit_test(test_len_clamped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
