// SPDX-License-Identifier: GPL-2.0-only
/*
 * /api/v1/: the JSON documents for a known sequence of calls, read back both
 * with jansson directly (the shape docs/api.md promises) and with mcptop's
 * parser (the two sides agree); the calls ring and its since= arithmetic;
 * mcp_server_last_seen_timestamp_seconds; and the routes over real HTTP.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "http/http_server.h"
#include "mcptop/fetch.h"
#include "mcptop/model.h"
#include "metrics/api.h"
#include "metrics/labels.h"
#include "metrics/metrics.h"

/* Capture time 1 s on CLOCK_MONOTONIC is this wall-clock second. */
#define WALL0 1700000000.0
#define OFFSET_NS ((int64_t)(WALL0 * 1e9) - 1000000000LL)
#define SEC(s) ((uint64_t)((s)*1e9))

/* ping ok, tools/call echo ok and error, tools/list cancelled; one session,
 * one call in flight, serverInfo 1.2.3. */
static struct metrics *known_sequence(uint32_t *srv_out)
{
	struct metrics *m = metrics_new(NULL);
	uint32_t srv, echo;
	uint16_t call, ping, list;

	metrics_set_clock(m, OFFSET_NS);
	srv = metrics_server(m, "srv", 0);
	echo = metrics_tool(m, srv, "echo", 0);
	call = metrics_method(m, "tools/call", 0);
	ping = metrics_method(m, "ping", 0);
	list = metrics_method(m, "tools/list", 0);
	metrics_server_info_get(m, srv, "1.2.3", 0, "2025-06-18", 0, 0, NULL);
	metrics_sessions_add(m, srv, 0, 1);
	metrics_in_flight_add(m, srv, 1);

	metrics_seen(m, srv, SEC(1));
	metrics_call_done(m,
			  &(struct metrics_call){.server = srv, .method = ping, .seconds = 0.0004});
	metrics_seen(m, srv, SEC(2));
	metrics_call_done(m, &(struct metrics_call){
				 .server = srv, .method = call, .tool = echo, .seconds = 0.003});
	metrics_seen(m, srv, SEC(3));
	metrics_call_done(m, &(struct metrics_call){.server = srv,
						    .method = call,
						    .tool = echo,
						    .status = METRICS_STATUS_ERROR,
						    .err = METRICS_ERR_TOOL,
						    .seconds = 0.2});
	/* an older capture time (a held client-side copy) never moves it back */
	metrics_seen(m, srv, SEC(2.5));
	metrics_call_done(m, &(struct metrics_call){.server = srv,
						    .method = list,
						    .status = METRICS_STATUS_CANCELLED,
						    .seconds = 1.5,
						    .end_ns = SEC(4)});
	/* what the client of the echo calls waited (mcp/client.h) */
	metrics_client_call_done(m, srv, call, echo, 0.15);
	metrics_client_call_done(m, srv, call, echo, 0.3);
	*srv_out = srv;
	return m;
}

static json_int_t ival(json_t *o, const char *k)
{
	assert_true(json_is_integer(json_object_get(o, k)));
	return json_integer_value(json_object_get(o, k));
}

static json_t *by_name(json_t *arr, const char *name)
{
	size_t i;
	json_t *o;

	json_array_foreach (arr, i, o)
		if (!strcmp(json_string_value(json_object_get(o, "name")), name))
			return o;
	fail_msg("no entry named %s", name);
	return NULL;
}

static void test_servers_shape(void **state)
{
	struct metrics_snapshot *snap;
	json_t *doc, *srv, *tools, *echo, *d, *counts;
	json_error_t je;
	uint32_t id;
	struct metrics *m = known_sequence(&id);

	/* nobody asked: the API costs nothing */
	metrics_publish(m);
	snap = metrics_snapshot_get(m);
	assert_null(snap->api_servers);
	metrics_snapshot_put(snap);

	metrics_api_want(m);
	metrics_publish(m);
	snap = metrics_snapshot_get(m);
	assert_non_null(snap->api_servers);
	doc = json_loads(snap->api_servers, 0, &je);
	assert_non_null(doc);
	assert_int_equal(json_array_size(json_object_get(doc, "bounds")), METRICS_NBUCKETS);
	assert_true(json_real_value(json_array_get(json_object_get(doc, "bounds"), 0)) == 0.0005);
	assert_int_equal(json_array_size(json_object_get(doc, "servers")), 1);
	srv = json_array_get(json_object_get(doc, "servers"), 0);
	assert_string_equal(json_string_value(json_object_get(srv, "name")), "srv");
	assert_string_equal(json_string_value(json_object_get(srv, "version")), "1.2.3");
	assert_string_equal(json_string_value(json_object_get(srv, "protocol_version")),
			    "2025-06-18");
	assert_string_equal(json_string_value(json_object_get(srv, "transport")),
			    "streamable_http");
	assert_int_equal(ival(srv, "calls"), 4);
	assert_int_equal(ival(srv, "ok"), 2);
	assert_int_equal(ival(srv, "errors"), 1);
	assert_int_equal(ival(srv, "cancelled"), 1);
	assert_int_equal(ival(srv, "in_flight"), 1);
	assert_int_equal(ival(srv, "sessions"), 1);
	assert_true(json_real_value(json_object_get(srv, "last_seen")) == WALL0 + 2);
	d = json_object_get(srv, "duration");
	assert_int_equal(ival(d, "count"), 4);
	counts = json_object_get(d, "counts");
	assert_int_equal(json_array_size(counts), METRICS_NBUCKETS + 1);
	/* 0.0004 ≤ 0.0005, 0.003 ≤ 0.005, 0.2 ≤ 0.2, 1.5 ≤ 2 */
	assert_int_equal(json_integer_value(json_array_get(counts, 0)), 1);
	assert_int_equal(json_integer_value(json_array_get(counts, 3)), 1);
	assert_int_equal(json_integer_value(json_array_get(counts, 8)), 1);
	assert_int_equal(json_integer_value(json_array_get(counts, 11)), 1);
	assert_int_equal(json_array_size(json_object_get(srv, "methods")), 3);
	assert_int_equal(ival(by_name(json_object_get(srv, "methods"), "tools/call"), "calls"), 2);
	assert_int_equal(ival(by_name(json_object_get(srv, "methods"), "tools/list"), "cancelled"),
			 1);
	tools = json_object_get(srv, "tools");
	assert_int_equal(json_array_size(tools), 1);
	echo = by_name(tools, "echo");
	assert_int_equal(ival(echo, "calls"), 2);
	assert_int_equal(ival(echo, "errors"), 1);
	assert_int_equal(ival(json_object_get(echo, "duration"), "count"), 2);
	/* the client's side: per tool, per method and per server; zero where
	 * no client was seen, never a missing key */
	d = json_object_get(echo, "client_duration");
	assert_int_equal(ival(d, "count"), 2);
	assert_true(fabs(json_real_value(json_object_get(d, "sum")) - 0.45) < 1e-9);
	counts = json_object_get(d, "counts");
	assert_int_equal(json_integer_value(json_array_get(counts, 8)), 1);
	assert_int_equal(json_integer_value(json_array_get(counts, 9)), 1);
	d = json_object_get(by_name(json_object_get(srv, "methods"), "tools/call"),
			    "client_duration");
	assert_int_equal(ival(d, "count"), 2);
	assert_int_equal(ival(json_object_get(srv, "client_duration"), "count"), 2);
	d = json_object_get(by_name(json_object_get(srv, "methods"), "ping"), "client_duration");
	assert_int_equal(ival(d, "count"), 0);
	assert_int_equal(json_array_size(json_object_get(d, "counts")), METRICS_NBUCKETS + 1);
	json_decref(doc);

	/* the exposition carries the same last-seen time */
	assert_non_null(strstr(snap->text, "\nmcp_server_last_seen_timestamp_seconds{server_name="
					   "\"srv\"} 1700000002\n"));
	metrics_snapshot_put(snap);
	metrics_free(m);
}

/* mcptop's parser reads what metrics/api renders. */
static void test_mcptop_reads_it(void **state)
{
	struct mt_servers s = {0};
	struct metrics_snapshot *snap;
	char err[256];
	uint32_t id;
	struct metrics *m = known_sequence(&id);
	const struct mt_server *v;

	metrics_api_want(m);
	metrics_publish(m);
	snap = metrics_snapshot_get(m);
	assert_int_equal(
	    mt_parse_servers(snap->api_servers, snap->api_servers_len, &s, err, sizeof(err)), 0);
	assert_int_equal(s.nbounds, METRICS_NBUCKETS);
	assert_int_equal(s.n, 1);
	v = &s.v[0];
	assert_string_equal(v->st.name, "srv");
	assert_int_equal(v->st.calls, 4);
	assert_int_equal(v->st.errors, 1);
	assert_int_equal(v->st.count, 4);
	assert_int_equal(v->st.counts[11], 1);
	assert_int_equal(v->in_flight, 1);
	assert_int_equal(v->ntools, 1);
	assert_string_equal(v->tools[0].name, "echo");
	assert_int_equal(v->nmethods, 3);
	/* client_duration: the clients' wait, per server, method and tool;
	 * 0 where none was seen */
	assert_int_equal(v->st.client_count, 2);
	assert_int_equal(v->tools[0].client_count, 2);
	assert_true(fabs(v->tools[0].client_sum - 0.45) < 1e-9);
	assert_int_equal(v->tools[0].client_counts[8], 1);
	assert_int_equal(v->tools[0].client_counts[9], 1);
	for (int i = 0; i < v->nmethods; i++)
		assert_int_equal(v->methods[i].client_count,
				 strcmp(v->methods[i].name, "tools/call") ? 0 : 2);
	/* p50 of the four: rank 2 is the call in (0.0025, 0.005] */
	assert_true(fabs(stats_quantile(s.bounds, s.nbounds, v->st.counts, 0.5) - 0.005) < 1e-9);
	mt_servers_free(&s);
	assert_int_equal(mt_parse_servers("{", 1, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bad JSON"));
	metrics_snapshot_put(snap);
	metrics_free(m);
}

static void test_calls_ring(void **state)
{
	struct metrics_snapshot *snap;
	struct mt_calls c = {0};
	char err[256], *text;
	size_t len;
	uint32_t id;
	struct metrics *m = known_sequence(&id);

	metrics_api_want(m);
	metrics_publish(m);
	snap = metrics_snapshot_get(m);
	text = metrics_api_calls_json(snap, 0, &len);
	assert_int_equal(mt_parse_calls(text, len, &c, err, sizeof(err)), 0);
	assert_int_equal(c.n, 4);
	assert_int_equal(c.last_seq, 4);
	assert_int_equal(c.v[0].seq, 1);
	assert_string_equal(c.v[0].method, "ping");
	assert_string_equal(c.v[0].tool, "");
	assert_true(c.v[0].time == WALL0);
	assert_string_equal(c.v[2].tool, "echo");
	assert_string_equal(c.v[2].status, "error");
	assert_string_equal(c.v[2].code, "tool_error");
	assert_true(c.v[2].seconds == 0.2);
	/* end_ns given: its own time, not the last message's */
	assert_true(c.v[3].time == WALL0 + 3);
	assert_string_equal(c.v[3].status, "cancelled");
	free(text);

	text = metrics_api_calls_json(snap, 2, &len);
	assert_int_equal(mt_parse_calls(text, len, &c, err, sizeof(err)), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.v[0].seq, 3);
	assert_int_equal(c.missed, 0);
	free(text);

	text = metrics_api_calls_json(snap, 4, &len);
	assert_int_equal(mt_parse_calls(text, len, &c, err, sizeof(err)), 0);
	assert_int_equal(c.n, 0);
	assert_false(c.reset);
	free(text);

	/* a since from before a restart */
	text = metrics_api_calls_json(snap, 99, &len);
	assert_int_equal(mt_parse_calls(text, len, &c, err, sizeof(err)), 0);
	assert_true(c.reset);
	assert_int_equal(c.n, 4);
	free(text);
	metrics_snapshot_put(snap);

	/* the ring keeps the last METRICS_CALLS_RING; older ones are "missed" */
	for (int i = 0; i < 300; i++)
		metrics_call_done(m, &(struct metrics_call){.server = id, .method = 1});
	metrics_publish(m);
	snap = metrics_snapshot_get(m);
	assert_int_equal(snap->api_ncalls, METRICS_CALLS_RING);
	assert_int_equal(snap->api_first_seq, 304 - METRICS_CALLS_RING + 1);
	text = metrics_api_calls_json(snap, 10, &len);
	assert_int_equal(mt_parse_calls(text, len, &c, err, sizeof(err)), 0);
	assert_int_equal(c.n, METRICS_CALLS_RING);
	assert_int_equal(c.missed, 304 - METRICS_CALLS_RING - 10);
	assert_int_equal(c.last_seq, 304);
	free(text);
	mt_calls_free(&c);
	metrics_snapshot_put(snap);
	metrics_free(m);
}

static void test_last_seen_retire(void **state)
{
	struct metrics_snapshot *snap;
	uint32_t id;
	struct metrics *m = known_sequence(&id);
	uint32_t ep = metrics_server(m, "10.0.0.2:3001", 0);

	metrics_seen(m, ep, SEC(5));
	metrics_publish(m);
	snap = metrics_snapshot_get(m);
	assert_non_null(strstr(snap->text, "mcp_server_last_seen_timestamp_seconds{server_name="
					   "\"10.0.0.2:3001\"} 1700000004\n"));
	metrics_snapshot_put(snap);
	/* the endpoint got its name: no phantom server left to look silent */
	metrics_server_retire(m, ep);
	metrics_publish(m);
	snap = metrics_snapshot_get(m);
	assert_null(strstr(snap->text, "server_name=\"10.0.0.2:3001\"} 17"));
	assert_non_null(strstr(snap->text, "{server_name=\"srv\"} 1700000002\n"));
	metrics_snapshot_put(snap);
	metrics_free(m);
}

static void test_http_routes(void **state)
{
	struct fetch_url u;
	struct http_server *h;
	char err[256], url[64], *body;
	size_t len;
	uint32_t id;
	struct metrics *m = known_sequence(&id);

	h = http_server_start("127.0.0.1:0", m, err, sizeof(err));
	assert_non_null(h);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", http_server_port(h));
	assert_int_equal(fetch_parse_url(url, &u, err, sizeof(err)), 0);
	/* no pipeline thread here: publish as it would after the first ask */
	metrics_api_want(m);
	metrics_publish(m);

	assert_int_equal(fetch_get(&u, "/api/v1/servers", 2000, &body, &len, err, sizeof(err)),
			 200);
	assert_non_null(strstr(body, "\"name\":\"srv\""));
	free(body);
	assert_int_equal(
	    fetch_get(&u, "/api/v1/calls?since=3", 2000, &body, &len, err, sizeof(err)), 200);
	assert_non_null(strstr(body, "\"seq\":4"));
	assert_null(strstr(body, "\"seq\":3"));
	free(body);
	assert_int_equal(
	    fetch_get(&u, "/api/v1/calls?since=x", 2000, &body, &len, err, sizeof(err)), 400);
	free(body);
	assert_int_equal(fetch_get(&u, "/api/v1/nope", 2000, &body, &len, err, sizeof(err)), 404);
	assert_non_null(strstr(body, "\"error\""));
	free(body);
	/* health follows readiness like /healthz */
	assert_int_equal(fetch_get(&u, "/api/v1/health", 2000, &body, &len, err, sizeof(err)), 503);
	assert_non_null(strstr(body, "\"status\":\"starting\""));
	free(body);
	http_server_set_ready(h, 1);
	assert_int_equal(fetch_get(&u, "/api/v1/health", 2000, &body, &len, err, sizeof(err)), 200);
	assert_non_null(strstr(body, "\"status\":\"ok\""));
	assert_non_null(strstr(body, "\"last_call_seq\":4"));
	free(body);
	http_server_stop(h);

	/* mcptop's client: a closed port is a one-line error, not a hang */
	assert_int_equal(fetch_get(&u, "/api/v1/health", 500, &body, &len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot connect"));
	assert_int_equal(fetch_parse_url("https://x", &u, err, sizeof(err)), -1);
	assert_int_equal(fetch_parse_url("http://[::1]:9473/p/", &u, err, sizeof(err)), 0);
	assert_string_equal(u.host, "::1");
	assert_string_equal(u.port, "9473");
	assert_string_equal(u.base, "/p");
	metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_servers_shape), cmocka_unit_test(test_mcptop_reads_it),
	    cmocka_unit_test(test_calls_ring),	  cmocka_unit_test(test_last_seen_retire),
	    cmocka_unit_test(test_http_routes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
