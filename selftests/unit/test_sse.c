// SPDX-License-Identifier: GPL-2.0-only
/*
 * proto/sse against the WHATWG §9.2.6 rules and the streams of mcp-wire.md
 * §5 (ts-v1 and sse-starlette). Every input is parsed whole, split at every
 * byte and one byte at a time, with identical events required.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/sse.h"

#define MAX_EV 8

struct ev {
	char type[SSE_TYPE_MAX];
	char id[SSE_ID_MAX];
	char data[512];
	uint64_t data_len;
	uint32_t lines;
};

struct run {
	int n, discards;
	char cur[512];
	size_t cur_len;
	struct ev ev[MAX_EV];
};

static void on_data(void *arg, const uint8_t *d, size_t n)
{
	struct run *r = arg;

	if (r->cur_len + n < sizeof(r->cur)) {
		memcpy(r->cur + r->cur_len, d, n);
		r->cur_len += n;
	}
}

static void on_dispatch(void *arg, const struct sse_event *e)
{
	struct run *r = arg;

	if (r->n < MAX_EV) {
		struct ev *v = &r->ev[r->n];

		snprintf(v->type, sizeof(v->type), "%s", e->type);
		snprintf(v->id, sizeof(v->id), "%s", e->last_id);
		memcpy(v->data, r->cur, r->cur_len);
		v->data[r->cur_len] = 0;
		v->data_len = e->data_len;
		v->lines = e->data_lines;
	}
	r->n++;
	r->cur_len = 0;
}

static void on_discard(void *arg)
{
	struct run *r = arg;

	r->discards++;
	r->cur_len = 0;
}

static const struct sse_ops ops = { on_data, on_dispatch, on_discard };

static void parse(const char *in, size_t len, size_t split, struct run *r)
{
	struct sse_parser p;

	memset(r, 0, sizeof(*r));
	sse_init(&p, &ops, r);
	if (split == SIZE_MAX) {
		for (size_t i = 0; i < len; i++)
			sse_feed(&p, in + i, 1);
	} else if (split) {
		sse_feed(&p, in, split);
		sse_feed(&p, in + split, len - split);
	} else {
		sse_feed(&p, in, len);
	}
	sse_end(&p);
}

static void parse_all(const char *in, struct run *r)
{
	size_t len = strlen(in);
	struct run *o = malloc(sizeof(*o));

	assert_non_null(o);
	parse(in, len, 0, r);
	for (size_t k = 1; k <= len; k++) {
		parse(in, len, k == len ? SIZE_MAX : k, o);
		if (o->n != r->n || memcmp(o->ev, r->ev, sizeof(r->ev)))
			fail_msg("split %zu gives %d events, whole %d", k, o->n, r->n);
	}
	free(o);
}

static void test_line_ends(void **state)
{
	static const char *const in[] = {
		"event: message\nid: 1\ndata: {\"a\":1}\n\n",
		"event: message\r\nid: 1\r\ndata: {\"a\":1}\r\n\r\n",
		"event: message\rid: 1\rdata: {\"a\":1}\r\r",
		"event: message\r\nid: 1\rdata: {\"a\":1}\n\r\n",
	};
	struct run r;

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		parse_all(in[i], &r);
		assert_int_equal(r.n, 1);
		assert_string_equal(r.ev[0].type, "message");
		assert_string_equal(r.ev[0].id, "1");
		assert_string_equal(r.ev[0].data, "{\"a\":1}");
	}
}

/* A CR ending one read and the LF starting the next are one line end. */
static void test_split_crlf(void **state)
{
	struct sse_parser p;
	struct run r;

	memset(&r, 0, sizeof(r));
	sse_init(&p, &ops, &r);
	sse_feed(&p, "data: a\r", 8);
	sse_feed(&p, "\ndata: b\r", 9);
	sse_feed(&p, "\n\r", 2);
	sse_feed(&p, "\n", 1);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.ev[0].data, "a\nb");
	assert_int_equal(r.ev[0].lines, 2);
}

static void test_multiline_and_fields(void **state)
{
	struct run r;

	parse_all("data: line1\ndata:line2\ndata\ndata:  two spaces\n\n", &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.ev[0].data, "line1\nline2\n\n two spaces");
	assert_int_equal(r.ev[0].data_len, strlen("line1\nline2\n\n two spaces"));
	assert_int_equal(r.ev[0].lines, 4);
	assert_string_equal(r.ev[0].type, "");

	/* unknown fields and retry are ignored; the last event field wins */
	parse_all("foo: bar\nevent: a\nretry: 10\nevent: b\ndata: x\nretryx\n\n", &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.ev[0].type, "b");
	assert_string_equal(r.ev[0].data, "x");
}

static void test_comments(void **state)
{
	struct run r;

	/* ts-v1 keepalive, sse-starlette ping with \r\n */
	parse_all(": keepalive\n\n: ping - 2026-11-22 01:33:35.123456+00:00\r\n\r\n"
		  "data: {}\n: inside\ndata: []\n\n",
		  &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.ev[0].data, "{}\n[]");
}

static void test_priming_event(void **state)
{
	struct run r;

	/* WHATWG dispatches "data:" alone with empty data; no data at all
	 * dispatches nothing. The consumer sees data_len 0 and no bytes. */
	parse_all("id: 9fc42dbe-bec0-4d56-adcb-095fb3695fba\ndata: \n\nid: 7\n\n", &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.ev[0].data_len, 0);
	assert_string_equal(r.ev[0].data, "");
	assert_string_equal(r.ev[0].id, "9fc42dbe-bec0-4d56-adcb-095fb3695fba");
}

static void test_event_after_data(void **state)
{
	struct run r;

	/* sse-starlette: id, event, data; here the name even comes last */
	parse_all("id: 5\r\ndata: {\"x\":1}\r\nevent: endpoint\r\n\r\n"
		  "data: /message?sessionId=abc\nevent: endpoint\n\n",
		  &r);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.ev[0].type, "endpoint");
	assert_string_equal(r.ev[0].data, "{\"x\":1}");
	assert_string_equal(r.ev[1].type, "endpoint");
	/* the event type does not leak into the next event */
	parse_all("event: a\ndata: 1\n\ndata: 2\n\n", &r);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.ev[1].type, "");
}

static void test_bom_and_unterminated(void **state)
{
	struct run r;

	parse_all("\xef\xbb\xbf" "data: a\n\ndata: never dispatched\n", &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.ev[0].data, "a");
	assert_int_equal(r.discards, 1);
}

static void test_gap(void **state)
{
	struct sse_parser p;
	struct run r;

	memset(&r, 0, sizeof(r));
	sse_init(&p, &ops, &r);
	sse_feed(&p, "data: {\"lost", 12);
	sse_gap(&p);
	sse_feed(&p, "tail\"}\n\ndata: ok\n\n", 18);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.ev[0].data, "ok");
	assert_int_equal(r.discards, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_ends),
		cmocka_unit_test(test_split_crlf),
		cmocka_unit_test(test_multiline_and_fields),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_priming_event),
		cmocka_unit_test(test_event_after_data),
		cmocka_unit_test(test_bom_and_unterminated),
		cmocka_unit_test(test_gap),
	};

	return cmocka_run_group_tests_name("sse", tests, NULL, NULL);
}
