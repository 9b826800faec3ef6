// SPDX-License-Identifier: GPL-2.0-only
/*
 * Messages with a hole of the capture cap (proto/tail.h): synthetic streams
 * through proto/conn and proto/stdio, a hole at many places in the large
 * value, the bytes around it split at every byte. Each case either gives the
 * message with the right kind, id and isError, marked recovered, or the
 * "gap" parse error: never a wrong message. Where both ends of the hole are
 * plainly inside the large value, the message must come out.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/conn.h"
#include "proto/http1.h"
#include "proto/stdio.h"
#include "proto/tail.h"

#define TEXT_LEN 3000

struct run {
	int msgs, gaps, errs, recovered;
	struct jsonrpc_msg last; /* last message of the holed direction */
	struct jsonrpc_msg rec;	 /* the recovered one */
	uint8_t want_dir;
	int other; /* messages of the other direction */
};

static void on_message(void *arg, const struct mcp_wire_ctx *ctx, const struct jsonrpc_msg *m)
{
	struct run *r = arg;

	if (ctx->dir != r->want_dir) {
		r->other++;
		return;
	}
	r->msgs++;
	r->recovered += m->recovered;
	r->last = *m;
	if (m->recovered)
		r->rec = *m;
}

static void on_end(void *arg, const struct mcp_wire_ctx *ctx)
{
}

static void on_error(void *arg, const struct mcp_wire_ctx *ctx, const char *reason)
{
	struct run *r = arg;

	/* stdio says too_large for a line cut by the cap, as before */
	if (!strcmp(reason, "gap") || !strcmp(reason, "too_large"))
		r->gaps++;
	else
		r->errs++;
	if (getenv("BIGMSG_DEBUG"))
		fprintf(stderr, "error %s\n", reason);
}

/* A text value with escapes and multi-byte characters among plain bytes;
 * plain[i] is set where the byte and its neighbours are plain 'x'. */
static char text[TEXT_LEN + 1];

static void make_text(void)
{
	static const char *const bits[] = { "\\\"", "\\\\", "\\n", "\\u00e9", "\\\\\\\"", "\xc3\xa4" };
	size_t n = 0;
	int k = 0;

	while (n < TEXT_LEN - 8) {
		if (n % 97 == 50) {
			const char *b = bits[k++ % 6];

			memcpy(text + n, b, strlen(b));
			n += strlen(b);
		} else {
			text[n++] = 'x';
		}
	}
	text[n] = 0;
}

/* Offset of the text inside s, and whether the bytes around o are plain. */
static int plain_at(const char *s, size_t o)
{
	for (size_t i = o - 3; i <= o + 3; i++)
		if (s[i] != 'x')
			return 0;
	return 1;
}

enum mode { M_HTTP_RESP, M_HTTP_REQ, M_STDIO };

static const char req_small[] = "POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
				"Content-Length: 58\r\n\r\n"
				"{\"method\":\"tools/call\",\"params\":{\"name\":\"b\"},\"id\":7}    ";

/*
 * Feed s with [hs, he) left out by the cap; the bytes before the hole are
 * split at a (a < hs), the ones after it at b (b >= he).
 */
static void feed(enum mode mode, const char *s, size_t n, size_t hs, size_t he, size_t a, size_t b,
		 struct run *r)
{
	static const struct proto_sink tmpl = { on_message, on_end, on_error, NULL };
	struct proto_sink sink = tmpl;
	const uint8_t *u = (const uint8_t *)s;

	memset(r, 0, sizeof(*r));
	sink.arg = r;
	if (mode == M_STDIO) {
		struct stdio_conn_params p = { .flow_id = 1, .fd = 1, .comm = "srv" };
		struct stdio_conn *c = stdio_conn_new(&p, &sink);

		r->want_dir = MCP_S2C;
		/* a first whole line, so the stream is known to be MCP */
		static const char first[] = "{\"result\":{},\"jsonrpc\":\"2.0\",\"id\":0}\n";

		stdio_conn_data(c, STREAM_SEND, (const uint8_t *)first, strlen(first), 1);
		stdio_conn_data(c, STREAM_SEND, u, a, 2);
		stdio_conn_data(c, STREAM_SEND, u + a, hs - a, 2);
		stdio_conn_gap(c, STREAM_SEND, he - hs, 1, 3);
		stdio_conn_data(c, STREAM_SEND, u + he, b - he, 3);
		stdio_conn_data(c, STREAM_SEND, u + b, n - b, 4);
		stdio_conn_free(c, 5);
		r->msgs--; /* the first line */
		return;
	}
	struct proto_conn_params p = { .flow_id = 1 };
	struct proto_conn *c = proto_conn_new(&p, &sink);
	enum stream_dir d = mode == M_HTTP_REQ ? STREAM_RECV : STREAM_SEND;

	r->want_dir = mode == M_HTTP_REQ ? MCP_C2S : MCP_S2C;
	if (mode == M_HTTP_RESP)
		proto_conn_data(c, STREAM_RECV, (const uint8_t *)req_small, strlen(req_small), 1);
	proto_conn_data(c, d, u, a, 2);
	proto_conn_data(c, d, u + a, hs - a, 2);
	proto_conn_gap(c, d, he - hs, 1, 3);
	proto_conn_data(c, d, u + he, b - he, 3);
	proto_conn_data(c, d, u + b, n - b, 4);
	proto_conn_free(c, 5);
}

struct want {
	uint8_t kind;
	const char *id;
	uint8_t is_error;
	const char *method, *name;
	int64_t code;
	int extra; /* whole messages after the holed one, same direction */
};

/* Either the right message or the gap error; must: the message. */
static void check(const struct run *r, const struct want *w, int must, const char *what,
		  size_t hs, size_t he)
{
	if (r->recovered != 1 || r->gaps) {
		if (must || r->gaps != 1 || r->recovered || r->msgs != w->extra)
			fail_msg("%s hole [%zu,%zu): %d msgs, %d recovered, %d gaps, %d errs", what,
				 hs, he, r->msgs, r->recovered, r->gaps, r->errs);
		return;
	}
	if (r->msgs != 1 + w->extra || r->errs)
		fail_msg("%s hole [%zu,%zu): %d msgs %d errs", what, hs, he, r->msgs, r->errs);
	assert_int_equal(r->rec.kind, w->kind);
	assert_string_equal(r->rec.id.text, w->id);
	assert_int_equal(r->rec.is_error, w->is_error);
	if (w->method)
		assert_string_equal(r->rec.method.s, w->method);
	if (w->name)
		assert_string_equal(r->rec.name.s, w->name);
	if (w->code)
		assert_int_equal(r->rec.error_code, w->code);
}

/*
 * Holes over a grid of starts and ends inside the text, plus every start
 * and end within a few bytes of each escape; each split at every byte
 * within 8 of the hole.
 */
static void sweep(enum mode mode, const char *s, const struct want *w, const char *what, int step)
{
	/* the text may be cut by chunk framing: from its first run of 'x' to
	 * its last 'x' (no other value holds one) */
	size_t n = strlen(s), lo = strstr(s, "xxxx") - s, hi = strrchr(s, 'x') - s + 1;
	struct run r;
	int runs = 0, recs = 0;

	for (size_t hs = lo + 4; hs < hi - 4; hs += step) {
		for (size_t he = hs + 1; he < hi - 4; he += step + 7) {
			int must = plain_at(s, hs) && plain_at(s, he);

			for (size_t a = hs - 8; a < hs; a += (he - hs) % 3 ? 1 : 8) {
				for (size_t b = he; b < he + 8; b += (hs % 3) ? 1 : 8) {
					feed(mode, s, n, hs, he, a, b, &r);
					check(&r, w, must, what, hs, he);
					runs++;
					recs += r.recovered;
				}
			}
		}
	}
	/* most holes are plainly inside the text */
	if (runs < 100 || recs * 4 < runs * 3)
		fail_msg("%s: %d of %d recovered", what, recs, runs);
}

static char *mk(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	assert_true(vasprintf(&s, fmt, ap) > 0);
	va_end(ap);
	return s;
}

static char *http_resp_len(const char *ctype, const char *body)
{
	return mk("HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n%s", ctype,
		  strlen(body), body);
}

/* One chunk per piece of piece bytes (0: one chunk). */
static char *http_resp_chunked(const char *ctype, const char *body, size_t piece)
{
	size_t n = strlen(body), cap = n * 2 + 4096, o = 0;
	char *s = malloc(cap);

	o += sprintf(s, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n\r\n",
		     ctype);
	for (size_t i = 0; i < n;) {
		size_t k = piece && n - i > piece ? piece : n - i;

		o += sprintf(s + o, "%zx\r\n", k);
		memcpy(s + o, body + i, k);
		o += k;
		o += sprintf(s + o, "\r\n");
		i += k;
	}
	sprintf(s + o, "0\r\n\r\n");
	return s;
}

static const char ev8[] = "event: message\ndata: {\"result\":{},\"jsonrpc\":\"2.0\",\"id\":8}\n\n";

static const struct want w_tsv1 = { JSONRPC_RESULT, "7", 1, NULL, NULL, 0, 0 };

static char *body_tsv1(void)
{
	return mk("{\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"%s\"}],\"isError\":true},"
		  "\"jsonrpc\":\"2.0\",\"id\":7}",
		  text);
}

static void test_content_length_tsv1(void **state)
{
	char *b = body_tsv1(), *s = http_resp_len("application/json", b);

	sweep(M_HTTP_RESP, s, &w_tsv1, "content-length", 61);
	free(b);
	free(s);
}

static void test_python_order(void **state)
{
	static const struct want w = { JSONRPC_RESULT, "9", 0, NULL, NULL, 0, 0 };
	char *b = mk("{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{\"_meta\":{},\"content\":[{\"type\":"
		     "\"text\",\"text\":\"%s\"}],\"structuredContent\":null,\"isError\":false}}",
		     text);
	char *s = http_resp_len("application/json", b);

	sweep(M_HTTP_RESP, s, &w, "python", 113);
	free(b);
	free(s);
}

static void test_request(void **state)
{
	static const struct want w = { JSONRPC_REQUEST, "3", 0, "tools/call", "big", 0, 0 };
	char *b = mk("{\"method\":\"tools/call\",\"params\":{\"name\":\"big\",\"arguments\":{\"data\":"
		     "\"%s\"},\"_meta\":{\"progressToken\":3}},\"jsonrpc\":\"2.0\",\"id\":3}",
		     text);
	char *s = mk("POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\n\r\n%s",
		     strlen(b), b);

	sweep(M_HTTP_REQ, s, &w, "request", 89);
	free(b);
	free(s);
}

static void test_error_message(void **state)
{
	static const struct want w = { JSONRPC_ERROR, "4", 0, NULL, NULL, -32603, 0 };
	char *b = mk("{\"jsonrpc\":\"2.0\",\"id\":4,\"error\":{\"code\":-32603,\"message\":\"%s\"}}",
		     text);
	char *s = http_resp_len("application/json", b);

	sweep(M_HTTP_RESP, s, &w, "error", 131);
	free(b);
	free(s);
}

/* ts-v1 Streamable HTTP: one SSE event per chunk; a later event must count. */
static void test_sse_chunked(void **state)
{
	char *b = body_tsv1();
	char *ev = mk("event: message\ndata: %s\n\n", b);
	char *s1 = http_resp_chunked("text/event-stream", ev, 0);
	char *s;
	struct want w = w_tsv1;

	/* the last chunk stays: drop "0\r\n\r\n" to add one more event */
	s1[strlen(s1) - 5] = 0;
	s = mk("%s%zx\r\n%s\r\n0\r\n\r\n", s1, strlen(ev8), ev8);
	w.extra = 1;
	sweep(M_HTTP_RESP, s, &w, "sse", 71);
	/* and the holed one alone */
	w.extra = 0;
	free(s);
	s = http_resp_chunked("text/event-stream", ev, 0);
	sweep(M_HTTP_RESP, s, &w, "sse-alone", 97);
	free(b);
	free(ev);
	free(s1);
	free(s);
}

/* application/json in many chunks: the hole swallows chunk-size lines and
 * the framing is found again in the tail. */
static void test_json_many_chunks(void **state)
{
	char *b = body_tsv1();

	for (size_t piece = 37; piece < 2000; piece = piece * 3 + 1) {
		char *s = http_resp_chunked("application/json", b, piece);

		sweep(M_HTTP_RESP, s, &w_tsv1, "chunked-json", 83);
		free(s);
	}
	free(b);
}

/* SSE events in separate chunks: a hole over a chunk boundary may cover an
 * event boundary, so that event is a gap, but the stream goes on. */
static void test_sse_hole_over_chunks(void **state)
{
	char *b = body_tsv1();
	char *ev = mk("event: message\ndata: %s\n\n", b);
	char *s = mk("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
		     "Transfer-Encoding: chunked\r\n\r\n%zx\r\n%s\r\n%zx\r\n%s\r\n"
		     "%zx\r\n%s\r\n"
		     "0\r\n\r\n",
		     strlen(ev), ev, strlen(ev), ev, strlen(ev8), ev8);
	size_t n = strlen(s), h1 = strstr(s, text) - s + 100;
	size_t h2 = strstr(s + h1, text) - s + 100;
	struct run r;

	for (size_t a = h1 - 8; a < h1; a++) {
		feed(M_HTTP_RESP, s, n, h1, h2, a, h2 + 3, &r);
		assert_int_equal(r.recovered, 0);
		assert_int_equal(r.gaps, 1);
		assert_int_equal(r.msgs, 1); /* id 8 */
		assert_string_equal(r.last.id.text, "8");
	}
	free(b);
	free(ev);
	free(s);
}

static void test_stdio_line(void **state)
{
	char *b = body_tsv1(), *s = mk("%s\n{\"result\":{},\"jsonrpc\":\"2.0\",\"id\":8}\n", b);
	struct want w = w_tsv1;

	w.extra = 1;
	sweep(M_STDIO, s, &w, "stdio", 67);
	free(b);
	free(s);
}

/* Cases that must stay a gap: a hole from an array into an object (two
 * values of result), a result without any id, a batch, gzip. */
static void test_ambiguous(void **state)
{
	char *b1 = mk("{\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"%s\"}],"
		      "\"structuredContent\":{\"v\":\"%s\"}},\"jsonrpc\":\"2.0\",\"id\":7}",
		      text, text);
	char *b2 = mk("{\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"%s\"}]},"
		      "\"jsonrpc\":\"2.0\"}",
		      text);
	char *b3 = mk("[{\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"%s\"}]},"
		      "\"jsonrpc\":\"2.0\",\"id\":7}]",
		      text);
	char *bodies[] = { b1, b2, b3 };
	struct run r;

	for (int k = 0; k < 3; k++) {
		char *s = http_resp_len("application/json", bodies[k]);
		size_t n = strlen(s), lo = strstr(s, text) - s;
		size_t he = k ? lo + 2000 : (size_t)(strrchr(s, 'x') - s) - 100;

		feed(M_HTTP_RESP, s, n, lo + 100, he, lo + 50, he + 1, &r);
		assert_int_equal(r.recovered, 0);
		assert_int_equal(r.msgs, 0);
		assert_int_equal(r.gaps, 1);
		free(s);
		free(bodies[k]);
	}
}

static void test_gzip_stays_gap(void **state)
{
	/* not real gzip: the hole is refused before a byte is decoded */
	static const char s[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
				"Content-Encoding: gzip\r\nContent-Length: 4000\r\n\r\n";
	struct proto_sink sink = { on_message, on_end, on_error, NULL };
	struct proto_conn_params p = { .flow_id = 1 };
	struct proto_conn *c;
	struct run r;

	memset(&r, 0, sizeof(r));
	r.want_dir = MCP_S2C;
	sink.arg = &r;
	c = proto_conn_new(&p, &sink);
	proto_conn_data(c, STREAM_RECV, (const uint8_t *)req_small, strlen(req_small), 1);
	proto_conn_data(c, STREAM_SEND, (const uint8_t *)s, strlen(s), 2);
	proto_conn_gap(c, STREAM_SEND, 4000, 1, 3);
	proto_conn_free(c, 4);
	assert_int_equal(r.recovered, 0);
	assert_int_equal(r.gaps, 1);
}

/* A hole near the start, then MiBs seen whole (writes below the cap) before
 * the end: only the last bytes are kept, and that is enough. */
static void test_long_after_hole(void **state)
{
	size_t big = 3u << 20, n;
	char *t = malloc(big + 1), *b, *s, *ev;
	struct proto_sink sink = { on_message, on_end, on_error, NULL };
	struct proto_conn_params p = { .flow_id = 1 };
	struct proto_conn *c;
	struct run r;
	size_t lo;

	for (size_t i = 0; i < big; i++)
		t[i] = i % 101 == 7 ? '"' : 'x';
	for (size_t i = 6; i < big; i += 101)
		t[i] = '\\';
	t[big] = 0;
	b = mk("{\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"%s\"}],\"isError\":true},"
	       "\"jsonrpc\":\"2.0\",\"id\":7}",
	       t);
	ev = mk("event: message\ndata: %s\n\n", b);
	s = http_resp_chunked("text/event-stream", ev, 0);
	n = strlen(s);
	lo = strstr(s, "xxxx") - s;
	memset(&r, 0, sizeof(r));
	r.want_dir = MCP_S2C;
	sink.arg = &r;
	c = proto_conn_new(&p, &sink);
	proto_conn_data(c, STREAM_RECV, (const uint8_t *)req_small, strlen(req_small), 1);
	proto_conn_data(c, STREAM_SEND, (const uint8_t *)s, lo + 10, 2);
	proto_conn_gap(c, STREAM_SEND, 100, 1, 3);
	for (size_t o = lo + 110; o < n; o += 8192)
		proto_conn_data(c, STREAM_SEND, (const uint8_t *)s + o, n - o < 8192 ? n - o : 8192, 4);
	proto_conn_free(c, 5);
	assert_int_equal(r.gaps, 0);
	assert_int_equal(r.recovered, 1);
	assert_string_equal(r.rec.id.text, "7");
	assert_int_equal(r.rec.is_error, 1);
	free(t);
	free(b);
	free(ev);
	free(s);
}

/* The backward reader alone on hand-made tails. */
static void test_tail_scan(void **state)
{
	static const struct {
		const char *tail;
		int ok;
		uint8_t inner;
	} cases[] = {
		{ "xx\"}],\"isError\":true},\"jsonrpc\":\"2.0\",\"id\":7}", 1, '[' },
		{ "xx\"},\"id\":\"a\\\"}\"}", 1, '"' },
		{ "xx\",\"code\":1},\"id\":4}  \n", 1, '"' },
		/* a quote met from outside strings closes one, whatever is before */
		{ "\"}],\"isError\":true},\"id\":7}", 1, '[' },
		{ "\\\\\"}],\"isError\":true},\"id\":7}", 1, '[' },
		/* inside a string, a quote whose backslash run reaches the hole */
		{ "\"xx\"},\"id\":7}", 0, 0 },
		{ "\\\"xx\"},\"id\":7}", 0, 0 },
		{ "a\\\\\"}],\"isError\":true},\"id\":7}", 1, '[' }, /* an even run seen whole */
		{ ",\"isError\":true},\"id\":7}", 0, 0 },	     /* between members */
		{ "12},\"id\":7}", 0, 0 },			     /* a number cut */
		{ "xx\"}]}]", 0, 0 },				     /* a batch */
		{ "xx\",{\"a\":1]},\"id\":7}", 0, 0 },		     /* brackets do not match */
		{ "xx\"}]}", 0, 0 },				     /* no top-level object closes */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t m2, m2e, m1, m1e;
		uint8_t inner = 0;
		int r = tail_scan((const uint8_t *)cases[i].tail, strlen(cases[i].tail), &inner, &m2,
				  &m2e, &m1, &m1e);

		if ((r == 0) != cases[i].ok)
			fail_msg("case %zu: %d", i, r);
		if (!r)
			assert_int_equal(inner, cases[i].inner);
	}
}

static void test_chunk_find(void **state)
{
	static const struct {
		const char *s;
		long want;
		size_t de;
	} cases[] = {
		{ "abc\r\n3\r\nxyz\r\n0\r\n\r\n", 5, 3 },
		{ "\n3\r\nxyz\r\n0\r\n\r\n", 1, 0 },
		{ "3\r\nxyz\r\n0\r\n\r\n", 0, 0 },
		{ "ab\r\n2\r\nxyz\r\n0\r\n\r\n", 12, 10 }, /* "2" leads nowhere */
		{ "ab\r\n3\r\nxy", -1, 0 },				/* undecided yet */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t from = 0;
		size_t de = 99;
		long q = http1_find_chunk_line((const uint8_t *)cases[i].s, strlen(cases[i].s), &from, &de);

		if (q != cases[i].want || (q >= 0 && de != cases[i].de))
			fail_msg("case %zu: %ld de %zu", i, q, de);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tail_scan),
		cmocka_unit_test(test_chunk_find),
		cmocka_unit_test(test_content_length_tsv1),
		cmocka_unit_test(test_python_order),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_error_message),
		cmocka_unit_test(test_sse_chunked),
		cmocka_unit_test(test_json_many_chunks),
		cmocka_unit_test(test_sse_hole_over_chunks),
		cmocka_unit_test(test_stdio_line),
		cmocka_unit_test(test_ambiguous),
		cmocka_unit_test(test_long_after_hole),
		cmocka_unit_test(test_gzip_stays_gap),
	};

	make_text();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
