// SPDX-License-Identifier: GPL-2.0-only
/*
 * proto/http1: RFC 9112 framing (keep-alive, pipelining, chunked with
 * extensions and trailers, Content-Length, until close, no-body statuses,
 * HEAD), gzip/deflate bodies made with zlib here, errors and resync, gaps.
 * Each stream is parsed whole, split at every byte and one byte at a time;
 * the transcript of callbacks must be identical.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <cmocka.h>

#include "proto/http1.h"

/* A transcript: one line per callback, bodies merged per message. */
struct run {
	char log[8192];
	size_t len;
	int in_body;
	int no_body_for_head; /* answer HTTP1_HEAD_NO_BODY to every response */
};

static void logf_(struct run *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (r->len < sizeof(r->log))
		r->len += vsnprintf(r->log + r->len, sizeof(r->log) - r->len, fmt, ap);
	va_end(ap);
	if (r->len > sizeof(r->log))
		r->len = sizeof(r->log);
}

static int on_head(void *arg, const struct http1_head *h)
{
	struct run *r = arg;

	if (h->is_response)
		logf_(r, "RESP %u", h->status);
	else
		logf_(r, "REQ %s %s", h->method, h->target);
	if (h->content_length >= 0)
		logf_(r, " cl=%lld", (long long)h->content_length);
	if (h->chunked)
		logf_(r, " chunked");
	if (h->content_type.present)
		logf_(r, " ct=[%s]", h->content_type.s);
	if (h->session_id.present)
		logf_(r, " sid=[%s]", h->session_id.s);
	if (h->coding)
		logf_(r, " coding=%d", h->coding);
	logf_(r, "\n");
	r->in_body = 0;
	return r->no_body_for_head && h->is_response ? HTTP1_HEAD_NO_BODY : HTTP1_HEAD_OK;
}

static void on_body(void *arg, const uint8_t *d, size_t n)
{
	struct run *r = arg;

	if (!r->in_body)
		logf_(r, "BODY ");
	r->in_body = 1;
	logf_(r, "%.*s", (int)n, (const char *)d);
}

static void on_gap(void *arg, uint64_t n)
{
	logf_(arg, "<GAP %llu>", (unsigned long long)n);
}

static void on_done(void *arg, unsigned int flags)
{
	struct run *r = arg;

	if (r->in_body)
		logf_(r, "\n");
	r->in_body = 0;
	logf_(r, "DONE %x\n", flags);
}

static void on_error(void *arg, const char *reason)
{
	struct run *r = arg;

	if (r->in_body)
		logf_(r, "\n");
	r->in_body = 0;
	logf_(r, "ERROR %s\n", reason);
}

static const struct http1_ops ops = { on_head, on_body, on_gap, on_done, on_error };

static void parse(enum http1_mode mode, const uint8_t *in, size_t len, size_t split, int close,
		  struct run *r, int no_body)
{
	struct http1_parser p;

	memset(r, 0, sizeof(*r));
	r->no_body_for_head = no_body;
	http1_init(&p, mode, &ops, r);
	if (split == SIZE_MAX) {
		for (size_t i = 0; i < len; i++)
			http1_feed(&p, in + i, 1);
	} else if (split) {
		http1_feed(&p, in, split);
		http1_feed(&p, in + split, len - split);
	} else {
		http1_feed(&p, in, len);
	}
	if (close)
		http1_close(&p);
	http1_destroy(&p);
}

/* Parse every way; returns the whole-input transcript (static storage). */
static const char *parse_all_n(enum http1_mode mode, const void *in, size_t len, int close,
			       int no_body)
{
	static struct run r, o;

	parse(mode, in, len, 0, close, &r, no_body);
	for (size_t k = 1; k <= len; k++) {
		parse(mode, in, len, k == len ? SIZE_MAX : k, close, &o, no_body);
		if (o.len != r.len || memcmp(o.log, r.log, r.len))
			fail_msg("split %zu differs:\n--- whole\n%s--- split\n%s", k, r.log,
				 o.log);
	}
	r.log[r.len < sizeof(r.log) ? r.len : sizeof(r.log) - 1] = 0;
	return r.log;
}

static const char *parse_all(enum http1_mode mode, const char *in, int close)
{
	return parse_all_n(mode, in, strlen(in), close, 0);
}

static void test_keepalive_pipelining(void **state)
{
	const char *t = parse_all(HTTP1_REQUEST,
		"POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
		"Mcp-Session-Id: abc\r\ncontent-length: 7\r\n\r\n{\"a\":1}"
		"GET /mcp HTTP/1.1\r\nAccept: text/event-stream\r\n\r\n"
		"\r\nDELETE /mcp HTTP/1.1\nmcp-session-id:   abc  \n\n",
		0);

	assert_string_equal(t,
		"REQ POST /mcp cl=7 ct=[application/json] sid=[abc]\nBODY {\"a\":1}\nDONE 0\n"
		"REQ GET /mcp\nDONE 0\n"
		"REQ DELETE /mcp sid=[abc]\nDONE 0\n");
}

static void test_chunked(void **state)
{
	const char *t = parse_all(HTTP1_RESPONSE,
		"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
		"31\r\nid: 9fc42dbe-bec0-4d56-adcb-095fb3695fba\ndata: \n\n\r\n"
		"5;ext=1;name=\"q\"\r\nhello\r\n"
		"A \r\n0123456789\r\n"
		"0\r\nX-Trailer: 1\r\nOther: 2\r\n\r\n"
		"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		0);

	assert_string_equal(t,
		"RESP 200 chunked ct=[text/event-stream]\n"
		"BODY id: 9fc42dbe-bec0-4d56-adcb-095fb3695fba\ndata: \n\nhello0123456789\nDONE 0\n"
		"RESP 202 chunked\nDONE 0\n");
}

static void test_no_body_statuses(void **state)
{
	const char *t = parse_all(HTTP1_RESPONSE,
		"HTTP/1.1 100 Continue\r\n\r\n"
		"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"
		"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		0);

	assert_string_equal(t, "RESP 100\nDONE 0\nRESP 204 cl=10\nDONE 0\n"
			       "RESP 304 chunked\nDONE 0\nRESP 200 cl=2\nBODY ok\nDONE 0\n");

	/* answers to HEAD: the glue says so, Content-Length is not a body */
	t = parse_all_n(HTTP1_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
			"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", 78, 0, 1);
	assert_string_equal(t, "RESP 200 cl=5\nDONE 0\nRESP 200 cl=5\nDONE 0\n");
}

static void test_until_close(void **state)
{
	const char *t = parse_all(HTTP1_RESPONSE,
		"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"id\":1,\"result\":{}}", 1);

	assert_string_equal(t, "RESP 200 ct=[application/json]\n"
			       "BODY {\"id\":1,\"result\":{}}\nDONE 4\n");
}

static size_t compress_with(int wbits, const char *in, uint8_t *out, size_t outsz)
{
	z_stream z;

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)in;
	z.avail_in = strlen(in);
	z.next_out = out;
	z.avail_out = outsz;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	deflateEnd(&z);
	return outsz - z.avail_out;
}

static void test_compressed(void **state)
{
	static const char body[] =
		"{\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"Echo: hi hi hi hi hi\"}]},"
		"\"jsonrpc\":\"2.0\",\"id\":2}";
	static const struct {
		const char *coding;
		int wbits;
		int chunked;
	} cases[] = {
		{ "gzip", 16 + MAX_WBITS, 0 },
		{ "x-gzip", 16 + MAX_WBITS, 1 },
		{ "deflate", MAX_WBITS, 0 },	/* zlib wrapper, RFC 1950 */
		{ "deflate", -MAX_WBITS, 1 },	/* raw, RFC 1951 */
	};
	uint8_t z[512], msg[2048];
	char want[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t zn = compress_with(cases[i].wbits, body, z, sizeof(z)), n;
		const char *t;

		if (cases[i].chunked) {
			n = sprintf((char *)msg, "HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\n"
				    "Transfer-Encoding: chunked\r\n\r\n%zx\r\n", cases[i].coding, zn / 2);
			memcpy(msg + n, z, zn / 2);
			n += zn / 2;
			n += sprintf((char *)msg + n, "\r\n%zx\r\n", zn - zn / 2);
			memcpy(msg + n, z + zn / 2, zn - zn / 2);
			n += zn - zn / 2;
			n += sprintf((char *)msg + n, "\r\n0\r\n\r\n");
		} else {
			n = sprintf((char *)msg, "HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\n"
				    "Content-Length: %zu\r\n\r\n", cases[i].coding, zn);
			memcpy(msg + n, z, zn);
			n += zn;
		}
		/* the zlib stream is reused by the next message */
		n += sprintf((char *)msg + n, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
		t = parse_all_n(HTTP1_RESPONSE, msg, n, 0, 0);
		snprintf(want, sizeof(want), "RESP 200%s%s coding=%d\nBODY %s\nDONE 0\n"
			 "RESP 200 cl=2\nBODY ok\nDONE 0\n",
			 cases[i].chunked ? "" : " cl=", "", cases[i].wbits == 16 + MAX_WBITS ? 1 : 2,
			 body);
		if (!cases[i].chunked) {
			snprintf(want, sizeof(want), "RESP 200 cl=%zu coding=%d\nBODY %s\nDONE 0\n"
				 "RESP 200 cl=2\nBODY ok\nDONE 0\n", zn,
				 cases[i].wbits == 16 + MAX_WBITS ? 1 : 2, body);
		} else {
			snprintf(want, sizeof(want), "RESP 200 chunked coding=%d\nBODY %s\nDONE 0\n"
				 "RESP 200 cl=2\nBODY ok\nDONE 0\n",
				 cases[i].wbits == 16 + MAX_WBITS ? 1 : 2, body);
		}
		assert_string_equal(t, want);
	}

	/* corrupt gzip: reported, framing kept */
	{
		const char *t = parse_all(HTTP1_RESPONSE,
			"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nabcd"
			"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 1\r\n\r\nx"
			"HTTP/1.1 204 No Content\r\n\r\n", 0);

		assert_string_equal(t, "RESP 200 cl=4 coding=1\nERROR decompress\nDONE 2\n"
				       "RESP 200 cl=1 coding=3\nERROR decompress\nDONE 2\n"
				       "RESP 204\nDONE 0\n");
	}
}

static void test_malformed_resync(void **state)
{
	const char *t;

	/* garbage, a bad header line, bad chunk size: each told once, then
	 * parsing resumes at the next request line */
	t = parse_all(HTTP1_REQUEST,
		"GARBAGE\r\n\r\nPOST /a HTTP/1.1\r\nContent-Length: 2\r\n\r\nok"
		"GET /b HTTP/1.1\r\nBad Header\r\n\r\nxxGET /c HTTP/1.1\r\n\r\n"
		"POST /d HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
		"POST /e HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"
		"PUT /f HTTP/1.1\r\ncontent-length: 0\r\n\r\n",
		0);
	assert_string_equal(t,
		"ERROR http\nREQ POST /a cl=2\nBODY ok\nDONE 0\n"
		"ERROR http\nREQ GET /c\nDONE 0\n"
		"REQ POST /d chunked\nERROR chunked\n"
		"ERROR http\nREQ PUT /f cl=0\nDONE 0\n");

	t = parse_all(HTTP1_RESPONSE,
		"HTTP/1.1 2x0 OK\r\n\r\nsome body HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0);
	assert_string_equal(t, "ERROR http\nRESP 200 cl=0\nDONE 0\n");
}

static void test_header_cap(void **state)
{
	size_t n = HTTP1_HEAD_MAX + 200;
	char *in = malloc(n + 200), *p = in;
	struct run r;
	struct http1_parser hp;

	assert_non_null(in);
	p += sprintf(p, "GET / HTTP/1.1\r\n");
	while ((size_t)(p - in) < n)
		p += sprintf(p, "X-Filler: %064d\r\n", 0);
	p += sprintf(p, "\r\nGET /next HTTP/1.1\r\n\r\n");
	memset(&r, 0, sizeof(r));
	http1_init(&hp, HTTP1_REQUEST, &ops, &r);
	http1_feed(&hp, in, p - in);
	http1_destroy(&hp);
	r.log[r.len] = 0;
	assert_string_equal(r.log, "ERROR http\nREQ GET /next\nDONE 0\n");
	free(in);
}

#define FEED(p, s) http1_feed(p, s, strlen(s))

static void test_gaps(void **state)
{
	struct http1_parser hp;
	struct run r;

	memset(&r, 0, sizeof(r));
	http1_init(&hp, HTTP1_RESPONSE, &ops, &r);
	/* inside a Content-Length body: skipped, framing kept */
	FEED(&hp, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab");
	http1_gap(&hp, 5);
	FEED(&hp, "xyz");
	/* inside a chunk: skipped */
	FEED(&hp, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nab");
	http1_gap(&hp, 6);
	FEED(&hp, "\r\n0\r\n\r\n");
	/* in a head: resync at the next status line */
	FEED(&hp, "HTTP/1.1 200 OK\r\nCont");
	http1_gap(&hp, 100);
	FEED(&hp, "ent: x\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n");
	http1_destroy(&hp);
	r.log[r.len] = 0;
	assert_string_equal(r.log,
		"RESP 200 cl=10\nBODY ab<GAP 5>xyz\nDONE 1\n"
		"RESP 200 chunked\nBODY ab<GAP 6>\nDONE 1\n"
		"ERROR gap\nRESP 204\nDONE 0\n");
}

/* Mcp-Method / Mcp-Name values (2026-07-28): plain ASCII or one
 * =?base64?…?= word; anything else names nothing. */
static void test_mcp_text(void **state)
{
	char out[16];
	uint8_t tr;

#define TXT(in) http1_mcp_text(in, strlen(in), out, sizeof(out), &tr)
	assert_int_equal(TXT("tools/call"), 10);
	assert_string_equal(out, "tools/call");
	assert_int_equal(TXT("=?base64?w7xiZXI=?="), 5); /* "über", padded */
	assert_string_equal(out, "\xc3\xbc" "ber");
	assert_int_equal(TXT("=?BaSe64?w7xiZXI?="), 5); /* unpadded, any case */
	assert_int_equal(TXT("=?base64?_-8?="), 2);	  /* URL-safe alphabet */
	assert_memory_equal(out, "\xff\xef", 2);
	assert_int_equal(TXT("=?base64?w7xiZX!?="), -1);  /* not base64 */
	assert_int_equal(TXT("=?base64?AA==?="), -1);	  /* a NUL */
	assert_int_equal(TXT("=?base64?w?="), -1);	  /* 6 bits: no byte */
	assert_int_equal(TXT("=?base64?" "?="), -1); /* empty */
	assert_int_equal(TXT(""), -1);
	assert_int_equal(TXT("a\tb"), -1);		  /* control byte */
	assert_int_equal(TXT("\xc3\xbc"), -1);		  /* raw non-ASCII */
	assert_int_equal(TXT("=?base64?abc"), 12);	  /* no word: plain text */
	assert_int_equal(tr, 0);
	/* 8 x "ü" is 16 bytes, 15 fit: cut after 7 whole characters */
	assert_int_equal(TXT("=?base64?w7zDvMO8w7zDvMO8w7zDvA==?="), 14);
	assert_int_equal(tr, 1);
	assert_int_equal(TXT("0123456789abcdefgh"), 15);
	assert_int_equal(tr, 1);
#undef TXT
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mcp_text),
		cmocka_unit_test(test_keepalive_pipelining),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_no_body_statuses),
		cmocka_unit_test(test_until_close),
		cmocka_unit_test(test_compressed),
		cmocka_unit_test(test_malformed_resync),
		cmocka_unit_test(test_header_cap),
		cmocka_unit_test(test_gaps),
	};

	return cmocka_run_group_tests_name("http1", tests, NULL, NULL);
}
