// SPDX-License-Identifier: GPL-2.0-only
/*
 * metrics/: exposition format rules, label hygiene, cardinality caps and
 * snapshot publication.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics/expo.h"
#include "metrics/labels.h"
#include "metrics/metrics.h"

#include "version.h"

static char *render(struct metrics *m)
{
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(metrics_render(m, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	return text;
}

/* 1 when text holds exactly this line. */
static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

static void assert_line(const char *text, const char *line)
{
	if (!has_line(text, line))
		fail_msg("missing line: %s\n--- in ---\n%s", line, text);
}

static int count_str(const char *text, const char *s)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, s)); p += strlen(s))
		n++;
	return n;
}

static void test_escape_label(void **state)
{
	struct metrics_buf b;

	metrics_buf_init(&b);
	metrics_expo_escape_label(&b, "a\\b\"c\nd");
	assert_string_equal(b.p, "a\\\\b\\\"c\\nd");
	metrics_buf_free(&b);

	/* HELP text keeps quotes as they are */
	metrics_buf_init(&b);
	metrics_expo_escape_help(&b, "say \"hi\"\\\n");
	assert_string_equal(b.p, "say \"hi\"\\\\\\n");
	metrics_buf_free(&b);
}

static void test_double_format(void **state)
{
	const struct {
		double v;
		const char *s;
	} cases[] = {
		{ 0, "0" },
		{ 3, "3" },
		{ 0.0005, "0.0005" },
		{ 0.1, "0.1" },
		{ 300, "300" },
		{ 1.0 / 0.0, "+Inf" },
		{ -1.0 / 0.0, "-Inf" },
		{ 0.30000000000000004, "0.30000000000000004" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct metrics_buf b;

		metrics_buf_init(&b);
		metrics_expo_double(&b, cases[i].v);
		assert_string_equal(b.p, cases[i].s);
		metrics_buf_free(&b);
	}
}

static void test_sanitize_utf8(void **state)
{
	char out[METRICS_LABEL_MAX + 1];
	char big[METRICS_LABEL_MAX + 2];

	/* valid multibyte text is kept */
	assert_int_equal(metrics_label_sanitize(out, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
						14),
			 14);
	assert_string_equal(out, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	/* stray bytes, an overlong '/', a surrogate, a truncated sequence, > U+10FFFF */
	assert_true(metrics_label_sanitize(out, "\xff", 1) > 0);
	assert_string_equal(out, "\xef\xbf\xbd");
	assert_true(metrics_label_sanitize(out, "\xc0\xaf", 2) > 0);
	assert_string_equal(out, "\xef\xbf\xbd\xef\xbf\xbd");
	assert_true(metrics_label_sanitize(out, "\xed\xa0\x80", 3) > 0);
	assert_string_equal(out, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	assert_true(metrics_label_sanitize(out, "a\xe2\x82", 3) > 0);
	assert_string_equal(out, "a\xef\xbf\xbd\xef\xbf\xbd");
	assert_true(metrics_label_sanitize(out, "\xf4\x90\x80\x80", 4) > 0);
	assert_int_equal(strlen(out), 12);
	/* too long, and an embedded NUL, are refused rather than cut */
	memset(big, 'x', sizeof(big));
	assert_int_equal(metrics_label_sanitize(out, big, METRICS_LABEL_MAX), METRICS_LABEL_MAX);
	assert_int_equal(metrics_label_sanitize(out, big, METRICS_LABEL_MAX + 1), -1);
	assert_int_equal(metrics_label_sanitize(out, "a\0b", 3), -1);
	/* 86 invalid bytes grow to 258 bytes of U+FFFD: over the bound */
	memset(big, 0xff, 86);
	assert_int_equal(metrics_label_sanitize(out, big, 86), -1);
}

static void test_hostile_label_rendered(void **state)
{
	struct metrics *m = metrics_new(NULL);
	uint32_t s = metrics_server(m, "ev\"il\\ser\nver\xff", 0);
	struct metrics_call c = { .server = s, .method = METRICS_METHOD_PING, .seconds = 0.001 };
	char *text;

	metrics_call_done(m, &c);
	text = render(m);
	assert_line(text, "mcp_requests_total{server_name=\"ev\\\"il\\\\ser\\nver\xef\xbf\xbd\","
			  "method=\"ping\",status=\"ok\"} 1");
	free(text);
	metrics_free(m);
}

static void test_help_type_once(void **state)
{
	static const char *const families[] = {
		"mcp_requests_total",	     "mcp_tool_calls_total",
		"mcp_request_errors_total",   "mcp_notifications_total",
		"mcp_request_duration_seconds", "mcp_tool_call_duration_seconds",
		"mcp_server_info",	     "mcp_sessions_active",
		"mcp_requests_in_flight",     "mcpwire_build_info",
		"mcpwire_events_lost_total",  "mcpwire_parse_errors_total",
	};
	struct metrics *m = metrics_new(NULL);
	char *text, needle[128];

	for (int i = 0; i < 3; i++) {
		char name[16];
		uint32_t s;

		snprintf(name, sizeof(name), "srv%d", i);
		s = metrics_server(m, name, 0);
		for (uint16_t meth = 1; meth < 4; meth++) {
			struct metrics_call c = { .server = s,
						  .method = meth,
						  .tool = metrics_tool(m, s, "echo", 0),
						  .status = METRICS_STATUS_ERROR,
						  .err = METRICS_ERR_JSONRPC,
						  .err_value = -32602 - i,
						  .seconds = 0.01 * i };

			metrics_call_done(m, &c);
		}
		metrics_notification(m, s, metrics_method(m, "notifications/progress", 0), i & 1);
		metrics_sessions_add(m, s, i, 1);
		metrics_in_flight_add(m, s, 2);
		metrics_server_info_get(m, s, "1.0", 0, "2025-11-25", 0, 0, NULL);
	}
	metrics_events_lost_set(m, "ringbuf_full", 7);
	metrics_events_lost_set(m, "read_fault", 1);
	metrics_parse_error(m, "json");
	metrics_parse_error(m, "sse");
	text = render(m);
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		snprintf(needle, sizeof(needle), "# HELP %s ", families[i]);
		assert_int_equal(count_str(text, needle), 1);
		snprintf(needle, sizeof(needle), "# TYPE %s ", families[i]);
		assert_int_equal(count_str(text, needle), 1);
	}
	assert_line(text, "# TYPE mcp_request_duration_seconds histogram");
	assert_line(text, "# TYPE mcp_requests_total counter");
	assert_line(text, "# TYPE mcp_sessions_active gauge");
	assert_line(text, "mcp_request_errors_total{server_name=\"srv1\",method=\"tools/call\","
			  "error_code=\"-32603\"} 1");
	assert_line(text, "mcp_tool_calls_total{server_name=\"srv2\",tool_name=\"echo\","
			  "status=\"error\"} 1");
	assert_line(text, "mcp_notifications_total{server_name=\"srv1\","
			  "method=\"notifications/progress\",direction=\"server_to_client\"} 1");
	assert_line(text, "mcp_sessions_active{server_name=\"srv2\",transport=\"stdio\"} 1");
	assert_line(text, "mcp_requests_in_flight{server_name=\"srv0\"} 2");
	assert_line(text, "mcp_server_info{server_name=\"srv0\",server_version=\"1.0\","
			  "protocol_version=\"2025-11-25\",transport=\"streamable_http\",container=\"\",pod=\"\",namespace=\"\"} 1");
	assert_line(text, "mcpwire_build_info{version=\"" MCPWIRE_VERSION "\"} 1");
	assert_line(text, "mcpwire_events_lost_total{reason=\"ringbuf_full\"} 7");
	assert_line(text, "mcpwire_parse_errors_total{reason=\"json\"} 1");
	assert_line(text, "mcpwire_messages_deduplicated_total 0");
	/* every sample line belongs to the family announced last */
	{
		char fam[128] = "";
		const char *p = text;

		while (*p) {
			const char *nl = strchr(p, '\n');

			if (!strncmp(p, "# TYPE ", 7)) {
				sscanf(p + 7, "%127s", fam);
			} else if (*p != '#') {
				assert_true(fam[0]);
				assert_memory_equal(p, fam, strlen(fam));
			}
			p = nl + 1;
		}
	}
	free(text);
	metrics_free(m);
}

static void test_histogram(void **state)
{
	static const double obs[] = { 0.0005, 0.003, 0.7, 400, 0.0001 };
	struct metrics *m = metrics_new(NULL);
	uint32_t s = metrics_server(m, "h", 0);
	char *text;
	uint64_t prev = 0;
	int nb = 0;

	for (size_t i = 0; i < sizeof(obs) / sizeof(obs[0]); i++) {
		struct metrics_call c = { .server = s,
					  .method = METRICS_METHOD_TOOLS_CALL,
					  .tool = metrics_tool(m, s, "t", 0),
					  .seconds = obs[i] };

		metrics_call_done(m, &c);
	}
	text = render(m);
	/* the bound is inclusive (le), and counts are cumulative */
	assert_line(text, "mcp_request_duration_seconds_bucket{server_name=\"h\","
			  "method=\"tools/call\",le=\"0.0005\"} 2");
	assert_line(text, "mcp_request_duration_seconds_bucket{server_name=\"h\","
			  "method=\"tools/call\",le=\"0.0025\"} 2");
	assert_line(text, "mcp_request_duration_seconds_bucket{server_name=\"h\","
			  "method=\"tools/call\",le=\"0.005\"} 3");
	assert_line(text, "mcp_request_duration_seconds_bucket{server_name=\"h\","
			  "method=\"tools/call\",le=\"1\"} 4");
	assert_line(text, "mcp_request_duration_seconds_bucket{server_name=\"h\","
			  "method=\"tools/call\",le=\"300\"} 4");
	assert_line(text, "mcp_request_duration_seconds_bucket{server_name=\"h\","
			  "method=\"tools/call\",le=\"+Inf\"} 5");
	assert_line(text, "mcp_request_duration_seconds_count{server_name=\"h\","
			  "method=\"tools/call\"} 5");
	assert_line(text, "mcp_request_duration_seconds_sum{server_name=\"h\","
			  "method=\"tools/call\"} 400.7036");
	assert_line(text, "mcp_tool_call_duration_seconds_count{server_name=\"h\","
			  "tool_name=\"t\"} 5");
	assert_line(text, "mcp_requests_total{server_name=\"h\",method=\"tools/call\","
			  "status=\"ok\"} 5");
	/* all 19 bucket lines, in the contract's order, never decreasing */
	{
		static const char *const les[] = {
			"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.02", "0.05",
			"0.1",	  "0.2",   "0.5",    "1",     "2",    "5",    "10",
			"30",	  "60",	   "120",    "300",   "+Inf",
		};
		const char *prefix = "mcp_request_duration_seconds_bucket{";
		const char *p = text;

		while ((p = strstr(p, prefix))) {
			const char *le = strstr(p, "le=\"");
			unsigned long long v;

			assert_non_null(le);
			assert_memory_equal(le + 4, les[nb], strlen(les[nb]));
			v = strtoull(strchr(le, ' ') + 1, NULL, 10);
			assert_true(v >= prev);
			prev = v;
			nb++;
			p++;
		}
		assert_int_equal(nb, 19);
	}
	free(text);
	metrics_free(m);
}

static void test_caps(void **state)
{
	struct metrics_config cfg = { .max_servers = 2, .max_tools_per_server = 2 };
	struct metrics *m = metrics_new(&cfg);
	uint32_t a = metrics_server(m, "a", 0), b = metrics_server(m, "b", 0);
	char *text;

	assert_int_not_equal(a, METRICS_SERVER_OTHER);
	assert_int_not_equal(b, METRICS_SERVER_OTHER);
	assert_int_equal(metrics_server(m, "a", 0), a);
	assert_int_equal(metrics_server(m, "c", 0), METRICS_SERVER_OTHER);
	assert_string_equal(metrics_server_name(m, METRICS_SERVER_OTHER), "__other__");
	/* a truncated wire string is never used as a label */
	assert_int_equal(metrics_server(m, "a", 1), METRICS_SERVER_OTHER);

	assert_int_not_equal(metrics_tool(m, a, "t1", 0), METRICS_TOOL_OTHER);
	assert_int_not_equal(metrics_tool(m, a, "t2", 0), METRICS_TOOL_OTHER);
	assert_int_equal(metrics_tool(m, a, "t3", 0), METRICS_TOOL_OTHER);
	/* the cap is per server */
	assert_int_not_equal(metrics_tool(m, b, "t3", 0), METRICS_TOOL_OTHER);
	assert_string_equal(metrics_tool_name(m, metrics_tool(m, b, "t3", 0)), "t3");
	assert_string_equal(metrics_tool_name(m, METRICS_TOOL_OTHER), "__other__");

	assert_int_equal(metrics_method(m, "tools/call", 0), METRICS_METHOD_TOOLS_CALL);
	assert_int_equal(metrics_method(m, "tasks/get", 0) != METRICS_METHOD_OTHER, 1);
	assert_int_equal(metrics_method(m, "server/discover", 0) != METRICS_METHOD_OTHER, 1);
	assert_int_equal(metrics_method(m, "subscriptions/listen", 0) != METRICS_METHOD_OTHER, 1);
	assert_int_equal(metrics_method(m, "tools/call", 1), METRICS_METHOD_OTHER);
	assert_int_equal(metrics_method(m, "x/evil", 0), METRICS_METHOD_OTHER);

	{
		struct metrics_call c = { .server = METRICS_SERVER_OTHER,
					  .method = METRICS_METHOD_OTHER,
					  .seconds = 1 };

		metrics_call_done(m, &c);
	}
	text = render(m);
	assert_line(text, "mcpwire_label_overflow_total{label=\"server_name\"} 2");
	assert_line(text, "mcpwire_label_overflow_total{label=\"tool_name\"} 1");
	assert_line(text, "mcpwire_label_overflow_total{label=\"method\"} 2");
	assert_line(text, "mcp_requests_total{server_name=\"__other__\",method=\"__other__\","
			  "status=\"ok\"} 1");
	free(text);
	metrics_free(m);
}

static void test_error_code_cap(void **state)
{
	struct metrics_config cfg = { .max_error_codes = 2 };
	struct metrics *m = metrics_new(&cfg);
	uint32_t s = metrics_server(m, "s", 0);
	char *text;

	for (int i = 0; i < 3; i++) {
		struct metrics_call c = { .server = s, .method = METRICS_METHOD_PING,
					  .status = METRICS_STATUS_ERROR,
					  .err = METRICS_ERR_JSONRPC, .err_value = -1 - i };

		metrics_call_done(m, &c);
	}
	{
		struct metrics_call c = { .server = s, .method = METRICS_METHOD_PING,
					  .status = METRICS_STATUS_ERROR, .err = METRICS_ERR_TOOL };

		metrics_call_done(m, &c);
	}
	text = render(m);
	assert_line(text, "mcp_request_errors_total{server_name=\"s\",method=\"ping\","
			  "error_code=\"-1\"} 1");
	assert_line(text, "mcp_request_errors_total{server_name=\"s\",method=\"ping\","
			  "error_code=\"__other__\"} 1");
	assert_line(text, "mcp_request_errors_total{server_name=\"s\",method=\"ping\","
			  "error_code=\"tool_error\"} 1");
	assert_line(text, "mcpwire_label_overflow_total{label=\"error_code\"} 1");
	free(text);
	metrics_free(m);
}

static void test_server_info_removal(void **state)
{
	struct metrics *m = metrics_new(NULL);
	uint32_t s = metrics_server(m, "mem", 0);
	struct metrics_series *v1 = metrics_server_info_get(m, s, "1", 0, "2025-06-18", 0, 2, NULL);
	struct metrics_series *v1b = metrics_server_info_get(m, s, "1", 0, "2025-06-18", 0, 2, NULL);
	struct metrics_series *v2;
	char *text;

	assert_ptr_equal(v1, v1b);
	metrics_server_info_put(m, v1);
	text = render(m);
	assert_line(text, "mcp_server_info{server_name=\"mem\",server_version=\"1\","
			  "protocol_version=\"2025-06-18\",transport=\"stdio\",container=\"\",pod=\"\",namespace=\"\"} 1");
	free(text);
	v2 = metrics_server_info_get(m, s, "2", 0, "2025-11-25", 0, 2, NULL);
	metrics_server_info_put(m, v1b);
	text = render(m);
	assert_null(strstr(text, "server_version=\"1\""));
	assert_line(text, "mcp_server_info{server_name=\"mem\",server_version=\"2\","
			  "protocol_version=\"2025-11-25\",transport=\"stdio\",container=\"\",pod=\"\",namespace=\"\"} 1");
	free(text);
	metrics_server_info_put(m, v2);
	text = render(m);
	assert_null(strstr(text, "mcp_server_info{"));
	free(text);
	metrics_free(m);
}

static void test_publish_snapshot(void **state)
{
	struct metrics *m = metrics_new(NULL);
	struct metrics_snapshot *a, *b, *c;

	a = metrics_snapshot_get(m);
	assert_non_null(a);
	assert_non_null(strstr(a->text, "mcpwire_build_info{"));
	/* every parse-error reason exists from the start, at 0 */
	assert_non_null(strstr(a->text, "mcpwire_parse_errors_total{reason=\"json\"} 0\n"));
	assert_non_null(strstr(a->text, "mcpwire_parse_errors_total{reason=\"gap\"} 0\n"));
	/* nothing changed: publish keeps the same snapshot */
	metrics_publish(m);
	b = metrics_snapshot_get(m);
	assert_ptr_equal(a, b);
	metrics_snapshot_put(b);

	metrics_parse_error(m, "json");
	/* live changes are invisible to readers until published */
	b = metrics_snapshot_get(m);
	assert_ptr_equal(a, b);
	metrics_snapshot_put(b);
	metrics_publish(m);
	c = metrics_snapshot_get(m);
	assert_ptr_not_equal(a, c);
	assert_non_null(strstr(c->text, "mcpwire_parse_errors_total{reason=\"json\"} 1\n"));
	assert_int_equal(strlen(c->text), c->len);
	/* the reader's old snapshot stays valid after the swap */
	assert_non_null(strstr(a->text, "mcpwire_parse_errors_total{reason=\"json\"} 0\n"));
	metrics_snapshot_put(a);
	metrics_free(m);
	/* and this one outlives the registry */
	assert_non_null(strstr(c->text, "# TYPE mcp_requests_total counter"));
	metrics_snapshot_put(c);
}

static void test_gauges_and_lost(void **state)
{
	struct metrics *m = metrics_new(NULL);
	uint32_t s = metrics_server(m, "g", 0);
	char *text;

	metrics_sessions_add(m, s, 1, 1);
	metrics_sessions_add(m, s, 1, 1);
	metrics_sessions_add(m, s, 1, -2);
	metrics_in_flight_add(m, s, 1);
	metrics_in_flight_add(m, s, -1);
	metrics_events_lost_set(m, "ringbuf_full", 3);
	metrics_events_lost_set(m, "ringbuf_full", 10);
	metrics_deduplicated(m, 4);
	metrics_table_eviction(m, "pending");
	metrics_request_expired(m, s);
	text = render(m);
	assert_line(text, "mcp_sessions_active{server_name=\"g\",transport=\"sse\"} 0");
	assert_line(text, "mcp_requests_in_flight{server_name=\"g\"} 0");
	assert_line(text, "mcpwire_events_lost_total{reason=\"ringbuf_full\"} 10");
	assert_line(text, "mcpwire_messages_deduplicated_total 4");
	assert_line(text, "mcpwire_table_evictions_total{table=\"pending\"} 1");
	assert_line(text, "mcpwire_requests_expired_total{server_name=\"g\"} 1");
	free(text);
	metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_label),
		cmocka_unit_test(test_double_format),
		cmocka_unit_test(test_sanitize_utf8),
		cmocka_unit_test(test_hostile_label_rendered),
		cmocka_unit_test(test_help_type_once),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_error_code_cap),
		cmocka_unit_test(test_server_info_removal),
		cmocka_unit_test(test_publish_snapshot),
		cmocka_unit_test(test_gauges_and_lost),
	};

	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
