// SPDX-License-Identifier: GPL-2.0-only
/*
 * mcp/: pairing, status and error codes, cancellation, expiry, naming,
 * sessions and counting-once, fed through the proto_sink with hand-built
 * messages, checked on the rendered exposition.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mcp/mcp.h"
#include "metrics/metrics.h"
#include "proto/msg.h"
#include "mcp_msgs.h"

#define MS 1000000ull
#define SEC 1000000000ull
/* timestamps start here so "0 ms" is not a special value */
#define T0 (1000 * SEC)

struct fixture {
	struct metrics *m;
	struct mcp_state *s;
	const struct proto_sink *sink;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->m = metrics_new(NULL);
	f->s = mcp_new(NULL, f->m);
	f->sink = mcp_sink(f->s);
	*state = f;
	return f->m && f->s ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	mcp_free(f->s);
	metrics_free(f->m);
	free(f);
	return 0;
}

/* Thin wrappers over mcp_msgs.c in the shapes this file calls. */

/* A message seen by the server's socket of a streamable HTTP server at
 * 127.0.0.1:3001, at T0 + ms. */
static struct mcp_wire_ctx ctx_at(double ms, uint8_t dir, const char *session, uint64_t exchange)
{
	return mcp_msgs_ctx(T0 + (uint64_t)(ms * MS), dir, session, exchange);
}

static void send_msg(struct fixture *f, const struct mcp_wire_ctx *c, const struct jsonrpc_msg *m)
{
	f->sink->message(f->sink->arg, c, m);
}

static void request(struct fixture *f, const struct mcp_wire_ctx *c, const char *method,
		    uint8_t id_type, const char *id, const char *name)
{
	mcp_msgs_request(f->sink, c, method, id_type, id, name, NULL);
}

static void result(struct fixture *f, const struct mcp_wire_ctx *c, uint8_t id_type,
		   const char *id, int is_error)
{
	mcp_msgs_result(f->sink, c, id_type, id, is_error);
}

static void error(struct fixture *f, const struct mcp_wire_ctx *c, uint8_t id_type,
		  const char *id, int64_t code)
{
	mcp_msgs_error(f->sink, c, id_type, id, code);
}

static void notification(struct fixture *f, const struct mcp_wire_ctx *c, const char *method,
			 uint8_t cancel_type, const char *cancel_id)
{
	mcp_msgs_notification(f->sink, c, method, cancel_type, cancel_id);
}

static void init_result(struct fixture *f, const struct mcp_wire_ctx *c, const char *id,
			const char *name, const char *version)
{
	struct jsonrpc_msg m;

	memset(&m, 0, sizeof(m));
	m.kind = JSONRPC_RESULT;
	mcp_msgs_id(&m.id, JSONRPC_ID_NUM, id);
	mcp_msgs_str(&m.peer_name, name);
	mcp_msgs_str(&m.peer_version, version);
	mcp_msgs_str(&m.protocol_version, "2025-11-25");
	send_msg(f, c, &m);
}

static char *render(struct fixture *f)
{
	char *text = NULL;
	size_t len;

	assert_int_equal(metrics_render(f->m, &text, &len), 0);
	return text;
}

/* The value of the sample line starting with `series ` (name{labels}), or -1. */
static double value(struct fixture *f, const char *series)
{
	char *text = render(f);
	size_t n = strlen(series);
	double v = -1;

	for (const char *p = text; (p = strstr(p, series)); p++) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ') {
			v = strtod(p + n + 1, NULL);
			break;
		}
	}
	free(text);
	return v;
}

#define REQ(server, method, status)                                                         \
	"mcp_requests_total{server_name=\"" server "\",method=\"" method "\",status=\"" status \
	"\"}"
#define DUR(suffix, server, method)                                                         \
	"mcp_request_duration_seconds_" suffix "{server_name=\"" server "\",method=\"" method \
	"\"}"
#define EP "127.0.0.1:3001"
#define SESSIONS(server, transport)                                                        \
	"mcp_sessions_active{server_name=\"" server "\",transport=\"" transport "\"}"

static void assert_value(struct fixture *f, const char *series, double want)
{
	double got = value(f, series);

	if (got < want - 1e-9 || got > want + 1e-9) {
		char *text = render(f);

		fail_msg("%s = %g, want %g\n%s", series, got, want, text);
	}
}

/* No series of the exposition starts with prefix. */
static void assert_absent(struct fixture *f, const char *prefix)
{
	char *text = render(f);
	size_t n = strlen(prefix);
	int found = 0;

	for (const char *l = text; *l && !found; l = strchrnul(l, '\n') + !!*strchrnul(l, '\n'))
		found = !strncmp(l, prefix, n);
	if (found)
		fail_msg("%s present\n%s", prefix, text);
	free(text);
}

static void test_out_of_order(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c;

	c = ctx_at(0, MCP_C2S, "s1", 1);
	request(f, &c, "tools/list", JSONRPC_ID_NUM, "1", NULL);
	c = ctx_at(10, MCP_C2S, "s1", 2);
	request(f, &c, "tools/list", JSONRPC_ID_NUM, "2", NULL);
	assert_value(f, "mcp_requests_in_flight{server_name=\"" EP "\"}", 2);
	c = ctx_at(20, MCP_S2C, "s1", 2);
	result(f, &c, JSONRPC_ID_NUM, "2", 0);
	c = ctx_at(500, MCP_S2C, "s1", 1);
	result(f, &c, JSONRPC_ID_NUM, "1", 0);
	assert_value(f, REQ(EP, "tools/list", "ok"), 2);
	assert_value(f, DUR("count", EP, "tools/list"), 2);
	assert_value(f, DUR("sum", EP, "tools/list"), 0.51);
	assert_value(f,
		     "mcp_request_duration_seconds_bucket{server_name=\"" EP
		     "\",method=\"tools/list\",le=\"0.01\"}",
		     1);
	assert_value(f, "mcp_requests_in_flight{server_name=\"" EP "\"}", 0);
	assert_int_equal(mcp_pending_count(f->s), 0);
}

static void test_ids_per_session_and_direction(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c;

	/* id 0 three times: client→server in sessions A and B, server→client in A */
	c = ctx_at(0, MCP_C2S, "A", 1);
	request(f, &c, "tools/call", JSONRPC_ID_NUM, "0", "slow");
	c = ctx_at(0, MCP_C2S, "B", 2);
	request(f, &c, "ping", JSONRPC_ID_NUM, "0", NULL);
	c = ctx_at(5, MCP_S2C, "A", 1);
	request(f, &c, "sampling/createMessage", JSONRPC_ID_NUM, "0", NULL);
	assert_int_equal(mcp_pending_count(f->s), 3);

	/* B's answer: 100 ms */
	c = ctx_at(100, MCP_S2C, "B", 2);
	result(f, &c, JSONRPC_ID_NUM, "0", 0);
	assert_value(f, REQ(EP, "ping", "ok"), 1);
	assert_value(f, DUR("sum", EP, "ping"), 0.1);
	assert_value(f, REQ(EP, "tools/call", "ok"), -1);
	/* the client answers the server's sampling request: 195 ms */
	c = ctx_at(200, MCP_C2S, "A", 3);
	result(f, &c, JSONRPC_ID_NUM, "0", 0);
	assert_value(f, REQ(EP, "sampling/createMessage", "ok"), 1);
	assert_value(f, DUR("sum", EP, "sampling/createMessage"), 0.195);
	assert_value(f, REQ(EP, "tools/call", "ok"), -1);
	/* then A's tools/call: 300 ms */
	c = ctx_at(300, MCP_S2C, "A", 1);
	result(f, &c, JSONRPC_ID_NUM, "0", 0);
	assert_value(f, REQ(EP, "tools/call", "ok"), 1);
	assert_value(f, DUR("sum", EP, "tools/call"), 0.3);
	assert_value(f,
		     "mcp_tool_calls_total{server_name=\"" EP
		     "\",tool_name=\"slow\",status=\"ok\"}",
		     1);
	/* a second answer to an id already answered is not counted */
	result(f, &c, JSONRPC_ID_NUM, "0", 0);
	assert_value(f, REQ(EP, "tools/call", "ok"), 1);
	assert_int_equal(mcp_pending_count(f->s), 0);
}

static void test_string_vs_number_id(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c = ctx_at(0, MCP_C2S, "s", 1);

	request(f, &c, "ping", JSONRPC_ID_NUM, "5", NULL);
	request(f, &c, "tools/list", JSONRPC_ID_STR, "5", NULL);
	c = ctx_at(1, MCP_S2C, "s", 1);
	result(f, &c, JSONRPC_ID_STR, "5", 0);
	assert_value(f, REQ(EP, "tools/list", "ok"), 1);
	assert_value(f, REQ(EP, "ping", "ok"), -1);
	assert_int_equal(mcp_pending_count(f->s), 1);
	result(f, &c, JSONRPC_ID_NUM, "5", 0);
	assert_value(f, REQ(EP, "ping", "ok"), 1);
}

static void test_initialize_through_exchange(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c;

	/* before initialize, the endpoint names the server */
	c = ctx_at(0, MCP_C2S, "old", 1);
	request(f, &c, "tools/list", JSONRPC_ID_NUM, "9", NULL);
	c = ctx_at(1, MCP_S2C, "old", 1);
	result(f, &c, JSONRPC_ID_NUM, "9", 0);
	assert_value(f, REQ(EP, "tools/list", "ok"), 1);

	/* no session yet: the request pairs through its exchange */
	c = ctx_at(10, MCP_C2S, "", 77);
	request(f, &c, "initialize", JSONRPC_ID_NUM, "0", NULL);
	c = ctx_at(12, MCP_S2C, "sess-1", 77);
	snprintf(c.new_session, sizeof(c.new_session), "sess-1");
	init_result(f, &c, "0", "memory-server", "0.6.3");
	assert_value(f, REQ("memory-server", "initialize", "ok"), 1);
	assert_value(f, DUR("sum", "memory-server", "initialize"), 0.002);
	assert_value(f, SESSIONS("memory-server", "streamable_http"),
		     1);
	assert_value(f,
		     "mcp_server_info{server_name=\"memory-server\",server_version=\"0.6.3\","
		     "protocol_version=\"2025-11-25\",transport=\"streamable_http\",container=\"\",pod=\"\",namespace=\"\"}",
		     1);
	/* the initialize moved to the name; the endpoint's gauge is retired */
	assert_value(f, "mcp_requests_in_flight{server_name=\"" EP "\"}", -1);
	assert_value(f, "mcp_requests_in_flight{server_name=\"memory-server\"}", 0);
	assert_int_equal(mcp_pending_count(f->s), 0);

	/* later traffic to the endpoint, any session, uses the name */
	c = ctx_at(20, MCP_C2S, "other-session", 80);
	request(f, &c, "tools/list", JSONRPC_ID_NUM, "1", NULL);
	c = ctx_at(21, MCP_S2C, "other-session", 80);
	result(f, &c, JSONRPC_ID_NUM, "1", 0);
	assert_value(f, REQ("memory-server", "tools/list", "ok"), 1);
	assert_value(f, REQ(EP, "tools/list", "ok"), 1);

	/* the server upgrades: the old info series goes away */
	c = ctx_at(30, MCP_C2S, "", 90);
	request(f, &c, "initialize", JSONRPC_ID_NUM, "0", NULL);
	c = ctx_at(31, MCP_S2C, "sess-2", 90);
	snprintf(c.new_session, sizeof(c.new_session), "sess-2");
	init_result(f, &c, "0", "memory-server", "0.7.0");
	assert_value(f,
		     "mcp_server_info{server_name=\"memory-server\",server_version=\"0.6.3\","
		     "protocol_version=\"2025-11-25\",transport=\"streamable_http\",container=\"\",pod=\"\",namespace=\"\"}",
		     -1);
	assert_value(f,
		     "mcp_server_info{server_name=\"memory-server\",server_version=\"0.7.0\","
		     "protocol_version=\"2025-11-25\",transport=\"streamable_http\",container=\"\",pod=\"\",namespace=\"\"}",
		     1);
	assert_value(f, SESSIONS("memory-server", "streamable_http"),
		     2);
}

static void test_errors(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c = ctx_at(0, MCP_C2S, "s", 1);

	request(f, &c, "tools/call", JSONRPC_ID_NUM, "1", "no-such-tool");
	request(f, &c, "prompts/get", JSONRPC_ID_NUM, "2", NULL);
	request(f, &c, "tools/list", JSONRPC_ID_NUM, "3", NULL);
	request(f, &c, "tools/list", JSONRPC_ID_NUM, "4", NULL);
	c = ctx_at(5, MCP_S2C, "s", 1);
	result(f, &c, JSONRPC_ID_NUM, "1", 1);
	error(f, &c, JSONRPC_ID_NUM, "2", -32602);
	c.http_status = 404;
	error(f, &c, JSONRPC_ID_NUM, "3", -32001);
	/* isError means nothing outside tools/call and tasks/result */
	c.http_status = 0;
	result(f, &c, JSONRPC_ID_NUM, "4", 1);

	assert_value(f, REQ(EP, "tools/call", "error"), 1);
	assert_value(f, "mcp_tool_calls_total{server_name=\"" EP
			"\",tool_name=\"no-such-tool\",status=\"error\"}",
		     1);
	assert_value(f, "mcp_request_errors_total{server_name=\"" EP
			"\",method=\"tools/call\",error_code=\"tool_error\"}",
		     1);
	assert_value(f, REQ(EP, "prompts/get", "error"), 1);
	assert_value(f, "mcp_request_errors_total{server_name=\"" EP
			"\",method=\"prompts/get\",error_code=\"-32602\"}",
		     1);
	assert_value(f, REQ(EP, "tools/list", "error"), 1);
	assert_value(f, REQ(EP, "tools/list", "ok"), 1);
	assert_value(f, "mcp_request_errors_total{server_name=\"" EP
			"\",method=\"tools/list\",error_code=\"http_404\"}",
		     1);
}

/*
 * Tasks (2025-11-25, mcp-wire.md §2, §7): a task-augmented tools/call is
 * counted when its result.task arrives, ok, under its tool, timed to the
 * task's creation; tasks/get, tasks/list, tasks/result and tasks/cancel are
 * requests of their own. A tasks/result carrying the tool's isError is an
 * error of tasks/result only: the tool's call was already counted.
 */
static void test_tasks(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c = ctx_at(0, MCP_C2S, "s", 1);
	struct jsonrpc_msg m;

	memset(&m, 0, sizeof(m));
	m.kind = JSONRPC_REQUEST;
	mcp_msgs_id(&m.id, JSONRPC_ID_NUM, "1");
	mcp_msgs_str(&m.method, "tools/call");
	mcp_msgs_str(&m.name, "simulate-research-query");
	m.has_task = 1; /* params.task {ttl} */
	send_msg(f, &c, &m);
	request(f, &c, "tools/call", JSONRPC_ID_NUM, "2", "simulate-research-query");
	c = ctx_at(20, MCP_S2C, "s", 1);
	memset(&m, 0, sizeof(m));
	m.kind = JSONRPC_RESULT;
	mcp_msgs_id(&m.id, JSONRPC_ID_NUM, "1");
	m.has_task = 1; /* result.task {taskId, status: "working"} */
	send_msg(f, &c, &m);
	m.id.text[0] = '2';
	send_msg(f, &c, &m);

	c = ctx_at(100, MCP_C2S, "s", 2);
	request(f, &c, "tasks/get", JSONRPC_ID_NUM, "3", NULL);
	request(f, &c, "tasks/list", JSONRPC_ID_NUM, "4", NULL);
	request(f, &c, "tasks/result", JSONRPC_ID_NUM, "5", NULL);
	request(f, &c, "tasks/result", JSONRPC_ID_NUM, "6", NULL);
	request(f, &c, "tasks/cancel", JSONRPC_ID_NUM, "7", NULL);
	request(f, &c, "tasks/get", JSONRPC_ID_NUM, "8", NULL);
	/* the server polls a task of the client's: its own id space */
	c = ctx_at(100, MCP_S2C, "s", 2);
	request(f, &c, "tasks/get", JSONRPC_ID_NUM, "3", NULL);
	c = ctx_at(110, MCP_C2S, "s", 3);
	result(f, &c, JSONRPC_ID_NUM, "3", 0);
	c = ctx_at(110, MCP_S2C, "s", 2);
	result(f, &c, JSONRPC_ID_NUM, "3", 0);
	/* isError means nothing in a task's status */
	result(f, &c, JSONRPC_ID_NUM, "4", 1);
	notification(f, &c, "notifications/tasks/status", 0, NULL);
	/* tasks/result blocks until the task ends: the tool failed, then one
	 * that completed */
	c = ctx_at(4100, MCP_S2C, "s", 2);
	result(f, &c, JSONRPC_ID_NUM, "5", 1);
	result(f, &c, JSONRPC_ID_NUM, "6", 0);
	/* cancelling a task in a terminal state; polling an unknown one */
	error(f, &c, JSONRPC_ID_NUM, "7", -32602);
	error(f, &c, JSONRPC_ID_NUM, "8", -32602);

	assert_int_equal(mcp_pending_count(f->s), 0);
	assert_value(f, REQ(EP, "tools/call", "ok"), 2);
	assert_value(f, REQ(EP, "tools/call", "error"), -1);
	assert_value(f, DUR("sum", EP, "tools/call"), 0.04);
	assert_value(f, "mcp_tool_calls_total{server_name=\"" EP
			"\",tool_name=\"simulate-research-query\",status=\"ok\"}",
		     2);
	assert_absent(f, "mcp_tool_calls_total{server_name=\"" EP
			 "\",tool_name=\"simulate-research-query\",status=\"error\"}");
	assert_value(f, "mcp_tool_call_duration_seconds_count{server_name=\"" EP
			"\",tool_name=\"simulate-research-query\"}",
		     2);
	assert_value(f, REQ(EP, "tasks/get", "ok"), 2);
	assert_value(f, REQ(EP, "tasks/get", "error"), 1);
	assert_value(f, REQ(EP, "tasks/list", "ok"), 1);
	assert_value(f, REQ(EP, "tasks/result", "ok"), 1);
	assert_value(f, REQ(EP, "tasks/result", "error"), 1);
	assert_value(f, "mcp_request_errors_total{server_name=\"" EP
			"\",method=\"tasks/result\",error_code=\"tool_error\"}",
		     1);
	assert_value(f, DUR("sum", EP, "tasks/result"), 8);
	assert_value(f, REQ(EP, "tasks/cancel", "error"), 1);
	assert_value(f, "mcp_request_errors_total{server_name=\"" EP
			"\",method=\"tasks/cancel\",error_code=\"-32602\"}",
		     1);
	assert_value(f, "mcp_notifications_total{server_name=\"" EP
			"\",method=\"notifications/tasks/status\",direction=\"server_to_client\"}",
		     1);
	assert_value(f, "mcp_requests_in_flight{server_name=\"" EP "\"}", 0);
}

static void test_cancel_then_late_response(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c = ctx_at(0, MCP_C2S, "s", 1);

	request(f, &c, "tools/call", JSONRPC_ID_NUM, "5", "trigger-long-running-operation");
	/* a cancel from the other direction names another request space */
	c = ctx_at(1000, MCP_S2C, "s", 1);
	notification(f, &c, "notifications/cancelled", JSONRPC_ID_NUM, "5");
	assert_int_equal(mcp_pending_count(f->s), 1);
	c = ctx_at(2000, MCP_C2S, "s", 2);
	notification(f, &c, "notifications/cancelled", JSONRPC_ID_NUM, "5");
	assert_int_equal(mcp_pending_count(f->s), 0);
	c = ctx_at(3000, MCP_S2C, "s", 1);
	result(f, &c, JSONRPC_ID_NUM, "5", 0);

	assert_value(f, REQ(EP, "tools/call", "cancelled"), 1);
	assert_value(f, REQ(EP, "tools/call", "ok"), -1);
	assert_value(f, DUR("count", EP, "tools/call"), 1);
	assert_value(f, DUR("sum", EP, "tools/call"), 2);
	assert_value(f, "mcp_tool_calls_total{server_name=\"" EP
			"\",tool_name=\"trigger-long-running-operation\",status=\"cancelled\"}",
		     1);
	assert_value(f, "mcp_notifications_total{server_name=\"" EP
			"\",method=\"notifications/cancelled\",direction=\"client_to_server\"}",
		     1);
	assert_value(f, "mcp_notifications_total{server_name=\"" EP
			"\",method=\"notifications/cancelled\",direction=\"server_to_client\"}",
		     1);
}

static void test_expiry(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c = ctx_at(0, MCP_C2S, "s", 1);

	request(f, &c, "tools/call", JSONRPC_ID_NUM, "1", "hang");
	c = ctx_at(1000, MCP_C2S, "s", 2);
	request(f, &c, "ping", JSONRPC_ID_NUM, "2", NULL);
	mcp_tick(f->s, T0 + 299 * SEC);
	assert_int_equal(mcp_pending_count(f->s), 2);
	mcp_tick(f->s, T0 + 300 * SEC);
	assert_int_equal(mcp_pending_count(f->s), 1);
	assert_value(f, "mcpwire_requests_expired_total{server_name=\"" EP "\"}", 1);
	assert_value(f, "mcp_requests_in_flight{server_name=\"" EP "\"}", 1);
	assert_value(f, REQ(EP, "tools/call", "ok"), -1);
	assert_value(f, DUR("count", EP, "tools/call"), -1);
	/* an answer after expiry is ignored */
	c = ctx_at(300500, MCP_S2C, "s", 1);
	result(f, &c, JSONRPC_ID_NUM, "1", 0);
	assert_value(f, REQ(EP, "tools/call", "ok"), -1);
}

static void test_notifications(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c = ctx_at(0, MCP_S2C, "s", 1);

	notification(f, &c, "notifications/progress", 0, NULL);
	notification(f, &c, "notifications/progress", 0, NULL);
	notification(f, &c, "notifications/made_up", 0, NULL);
	assert_value(f, "mcp_notifications_total{server_name=\"" EP
			"\",method=\"notifications/progress\",direction=\"server_to_client\"}",
		     2);
	assert_value(f, "mcp_notifications_total{server_name=\"" EP
			"\",method=\"__other__\",direction=\"server_to_client\"}",
		     1);
	assert_value(f, "mcpwire_label_overflow_total{label=\"method\"}", 1);
}

static void test_sessions_up_down(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c;

	for (int i = 0; i < 2; i++) {
		char sid[16];

		snprintf(sid, sizeof(sid), "s%d", i);
		c = ctx_at(i, MCP_C2S, "", 10 + i);
		request(f, &c, "initialize", JSONRPC_ID_NUM, "0", NULL);
		c = ctx_at(i + 1, MCP_S2C, sid, 10 + i);
		snprintf(c.new_session, sizeof(c.new_session), "%s", sid);
		init_result(f, &c, "0", "everything", "2.0.0");
	}
	assert_value(f, SESSIONS("everything", "streamable_http"),
		     2);
	/* DELETE of s0 */
	c = ctx_at(100, MCP_C2S, "s0", 20);
	f->sink->session_end(f->sink->arg, &c);
	assert_value(f, SESSIONS("everything", "streamable_http"),
		     1);
	/* repeated end is harmless */
	f->sink->session_end(f->sink->arg, &c);
	assert_value(f, SESSIONS("everything", "streamable_http"),
		     1);
	/* s1 goes idle for an hour */
	mcp_tick(f->s, T0 + 3599 * SEC);
	assert_value(f, SESSIONS("everything", "streamable_http"),
		     1);
	mcp_tick(f->s, T0 + 3601 * SEC);
	assert_value(f, SESSIONS("everything", "streamable_http"),
		     0);
}

static void test_stdio_session(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c = ctx_at(0, MCP_C2S, "", 0);

	c.transport = MCP_TRANSPORT_STDIO;
	snprintf(c.server.label, sizeof(c.server.label), "stdio:npx");
	request(f, &c, "initialize", JSONRPC_ID_NUM, "0", NULL);
	c.dir = MCP_S2C;
	c.ts_ns += 3 * MS;
	init_result(f, &c, "0", "memory-server", "0.6.3");
	c.dir = MCP_C2S;
	request(f, &c, "tools/call", JSONRPC_ID_NUM, "1", "read_graph");
	c.dir = MCP_S2C;
	c.ts_ns += 1 * MS;
	result(f, &c, JSONRPC_ID_NUM, "1", 0);
	assert_value(f, REQ("memory-server", "initialize", "ok"), 1);
	assert_value(f, DUR("sum", "memory-server", "tools/call"), 0.001);
	assert_value(f, SESSIONS("memory-server", "stdio"), 1);
	f->sink->session_end(f->sink->arg, &c);
	assert_value(f, SESSIONS("memory-server", "stdio"), 0);
}

/* --- counting once --- */

static struct mcp_wire_ctx on_flow(struct mcp_wire_ctx c, uint64_t flow, uint8_t observer)
{
	c.flow_id = flow;
	c.observer = observer;
	return c;
}

static void test_dedup_both_observers(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c;

	/* the client's write comes first, then the server's read of it */
	c = on_flow(ctx_at(0, MCP_C2S, "s", 1), 9, MCP_OBS_CLIENT);
	request(f, &c, "tools/list", JSONRPC_ID_NUM, "1", NULL);
	c = on_flow(ctx_at(0.2, MCP_C2S, "s", 1), 9, MCP_OBS_SERVER);
	request(f, &c, "tools/list", JSONRPC_ID_NUM, "1", NULL);
	c = on_flow(ctx_at(50, MCP_S2C, "s", 1), 9, MCP_OBS_SERVER);
	result(f, &c, JSONRPC_ID_NUM, "1", 0);
	c = on_flow(ctx_at(50.3, MCP_S2C, "s", 1), 9, MCP_OBS_CLIENT);
	result(f, &c, JSONRPC_ID_NUM, "1", 0);
	/* counted at once, from the server's side */
	assert_value(f, REQ(EP, "tools/list", "ok"), 1);
	assert_value(f, DUR("sum", EP, "tools/list"), 0.0498);
	mcp_tick(f->s, T0 + 2 * SEC);
	assert_value(f, REQ(EP, "tools/list", "ok"), 1);
	assert_value(f, DUR("count", EP, "tools/list"), 1);
	assert_value(f, "mcpwire_messages_deduplicated_total", 2);
	assert_int_equal(mcp_pending_count(f->s), 0);
}

static void test_dedup_client_only(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c;

	c = on_flow(ctx_at(0, MCP_C2S, "s", 1), 10, MCP_OBS_CLIENT);
	request(f, &c, "tools/list", JSONRPC_ID_NUM, "1", NULL);
	c = on_flow(ctx_at(200, MCP_S2C, "s", 1), 10, MCP_OBS_CLIENT);
	result(f, &c, JSONRPC_ID_NUM, "1", 0);
	/* held: nothing counted yet */
	assert_value(f, REQ(EP, "tools/list", "ok"), -1);
	mcp_tick(f->s, T0 + 999 * MS);
	assert_value(f, REQ(EP, "tools/list", "ok"), -1);
	/* the request's window ends, then the response's: released in order
	 * with their own timestamps */
	mcp_tick(f->s, T0 + 1000 * MS);
	assert_int_equal(mcp_pending_count(f->s), 1);
	mcp_tick(f->s, T0 + 1200 * MS);
	assert_value(f, REQ(EP, "tools/list", "ok"), 1);
	assert_value(f, DUR("sum", EP, "tools/list"), 0.2);
	/* the flow is known client-only now: later messages pass at once */
	c = on_flow(ctx_at(1300, MCP_C2S, "s", 1), 10, MCP_OBS_CLIENT);
	request(f, &c, "tools/list", JSONRPC_ID_NUM, "2", NULL);
	c = on_flow(ctx_at(1310, MCP_S2C, "s", 1), 10, MCP_OBS_CLIENT);
	result(f, &c, JSONRPC_ID_NUM, "2", 0);
	assert_value(f, REQ(EP, "tools/list", "ok"), 2);
	assert_value(f, "mcpwire_messages_deduplicated_total", 0);
}

static void test_dedup_server_only(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c;

	c = on_flow(ctx_at(0, MCP_C2S, "s", 1), 11, MCP_OBS_SERVER);
	request(f, &c, "ping", JSONRPC_ID_NUM, "1", NULL);
	c = on_flow(ctx_at(1, MCP_S2C, "s", 1), 11, MCP_OBS_SERVER);
	result(f, &c, JSONRPC_ID_NUM, "1", 0);
	assert_value(f, REQ(EP, "ping", "ok"), 1);
	assert_value(f, DUR("sum", EP, "ping"), 0.001);
}

static void test_dedup_server_seen_later_in_window(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c;

	/* two client-observed messages held, then the server's socket shows up */
	c = on_flow(ctx_at(0, MCP_C2S, "s", 1), 12, MCP_OBS_CLIENT);
	request(f, &c, "ping", JSONRPC_ID_NUM, "1", NULL);
	c = on_flow(ctx_at(1, MCP_C2S, "s", 1), 12, MCP_OBS_CLIENT);
	request(f, &c, "ping", JSONRPC_ID_NUM, "2", NULL);
	c = on_flow(ctx_at(3, MCP_C2S, "s", 1), 12, MCP_OBS_SERVER);
	request(f, &c, "ping", JSONRPC_ID_NUM, "1", NULL);
	request(f, &c, "ping", JSONRPC_ID_NUM, "2", NULL);
	c = on_flow(ctx_at(4, MCP_S2C, "s", 1), 12, MCP_OBS_SERVER);
	result(f, &c, JSONRPC_ID_NUM, "1", 0);
	result(f, &c, JSONRPC_ID_NUM, "2", 0);
	c = on_flow(ctx_at(5, MCP_S2C, "s", 1), 12, MCP_OBS_CLIENT);
	result(f, &c, JSONRPC_ID_NUM, "1", 0);
	mcp_tick(f->s, T0 + 5 * SEC);
	assert_value(f, REQ(EP, "ping", "ok"), 2);
	assert_value(f, DUR("sum", EP, "ping"), 0.002);
	assert_value(f, "mcpwire_messages_deduplicated_total", 3);
	assert_value(f, "mcp_requests_in_flight{server_name=\"" EP "\"}", 0);
}

static void test_pending_bound(void **state)
{
	struct metrics *m = metrics_new(NULL);
	struct mcp_config cfg = { .max_pending = 4 };
	struct mcp_state *s = mcp_new(&cfg, m);
	struct fixture f = { m, s, mcp_sink(s) };
	struct mcp_wire_ctx c = ctx_at(0, MCP_C2S, "s", 1);

	for (int i = 0; i < 6; i++) {
		char id[16];

		snprintf(id, sizeof(id), "%d", i);
		request(&f, &c, "ping", JSONRPC_ID_NUM, id, NULL);
	}
	assert_int_equal(mcp_pending_count(s), 4);
	assert_value(&f, "mcpwire_table_evictions_total{table=\"pending\"}", 2);
	assert_value(&f, "mcp_requests_in_flight{server_name=\"" EP "\"}", 4);
	/* the two oldest are gone, the newest pair */
	c = ctx_at(1, MCP_S2C, "s", 1);
	result(&f, &c, JSONRPC_ID_NUM, "0", 0);
	result(&f, &c, JSONRPC_ID_NUM, "5", 0);
	assert_value(&f, REQ(EP, "ping", "ok"), 1);
	mcp_free(s);
	metrics_free(m);
}

/*
 * Legacy HTTP+SSE (mcp-wire.md §5): every client message is a POST on a
 * connection of its own (exchanges 20+), every server message comes on the
 * session's GET stream (exchange 10 for L, 11 for M), so pairing goes
 * through the sessionId alone. Two sessions use the same ids in both
 * directions at once. The GET stream's end (proto/conn's session_end) ends
 * the session and cancels what it left pending.
 */
static void test_legacy_sse_sessions(void **state)
{
	struct fixture *f = *state;
	static const char *const sids[] = { "L", "M" };
	struct mcp_wire_ctx c;

	for (int i = 0; i < 2; i++) {
		c = ctx_at(i, MCP_C2S, sids[i], 20 + i);
		c.transport = MCP_TRANSPORT_SSE;
		request(f, &c, "initialize", JSONRPC_ID_NUM, "0", NULL);
		c = ctx_at(i + 2, MCP_S2C, sids[i], 10 + i);
		c.transport = MCP_TRANSPORT_SSE;
		init_result(f, &c, "0", "everything", "2.0.0");
	}
	assert_value(f, SESSIONS("everything", "sse"), 2);
	assert_value(f,
		     "mcp_server_info{server_name=\"everything\",server_version=\"2.0.0\","
		     "protocol_version=\"2025-11-25\",transport=\"sse\",container=\"\",pod=\"\",namespace=\"\"}",
		     1);
	for (int i = 0; i < 2; i++) {
		/* tools/call 1, during which the server asks for a sample (its id 0) */
		c = ctx_at(10, MCP_C2S, sids[i], 30 + i);
		c.transport = MCP_TRANSPORT_SSE;
		request(f, &c, "tools/call", JSONRPC_ID_NUM, "1", "trigger-sampling-request");
		c = ctx_at(12, MCP_S2C, sids[i], 10 + i);
		c.transport = MCP_TRANSPORT_SSE;
		request(f, &c, "sampling/createMessage", JSONRPC_ID_NUM, "0", NULL);
	}
	/* M's client answers first (262 ms), on yet another connection */
	c = ctx_at(274, MCP_C2S, "M", 40);
	c.transport = MCP_TRANSPORT_SSE;
	result(f, &c, JSONRPC_ID_NUM, "0", 0);
	assert_value(f, REQ("everything", "sampling/createMessage", "ok"), 1);
	assert_value(f, DUR("sum", "everything", "sampling/createMessage"), 0.262);
	c = ctx_at(280, MCP_S2C, "M", 11);
	c.transport = MCP_TRANSPORT_SSE;
	result(f, &c, JSONRPC_ID_NUM, "1", 0);
	assert_value(f, REQ("everything", "tools/call", "ok"), 1);
	assert_value(f, DUR("sum", "everything", "tools/call"), 0.27);
	/* L's client closes its GET stream before answering */
	c = ctx_at(500, MCP_S2C, "L", 10);
	c.transport = MCP_TRANSPORT_SSE;
	f->sink->session_end(f->sink->arg, &c);
	assert_value(f, SESSIONS("everything", "sse"), 1);
	assert_value(f, REQ("everything", "sampling/createMessage", "cancelled"), 1);
	assert_value(f, REQ("everything", "tools/call", "cancelled"), 1);
	assert_value(f, "mcp_requests_in_flight{server_name=\"everything\"}", 0);
	/* the initialize answers did not pair with anything else */
	assert_value(f, REQ("everything", "initialize", "ok"), 2);
	assert_int_equal(mcp_pending_count(f->s), 0);
	c = ctx_at(600, MCP_S2C, "M", 11);
	c.transport = MCP_TRANSPORT_SSE;
	f->sink->session_end(f->sink->arg, &c);
	assert_value(f, SESSIONS("everything", "sse"), 0);
}

/* The ts-v1 client aborting a call and then terminating the session can put
 * the DELETE on the wire before its notifications/cancelled (seen in the
 * integration test): the session's end must end the call as cancelled, and
 * the late notification must not count it again. */
static void test_session_end_cancels_pending(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c;

	c = ctx_at(0, MCP_C2S, "S", 1);
	request(f, &c, "tools/call", JSONRPC_ID_NUM, "19", "trigger-long-running-operation");
	c = ctx_at(1, MCP_C2S, "T", 2);
	request(f, &c, "tools/call", JSONRPC_ID_NUM, "19", "other-session");
	c = ctx_at(300, MCP_S2C, "S", 3);
	f->sink->session_end(f->sink->arg, &c);
	assert_value(f, REQ(EP, "tools/call", "cancelled"), 1);
	assert_value(f,
		     "mcp_tool_calls_total{server_name=\"" EP
		     "\",tool_name=\"trigger-long-running-operation\",status=\"cancelled\"}",
		     1);
	assert_value(f, DUR("sum", EP, "tools/call"), 0.3);
	/* session T's request with the same id is untouched */
	assert_int_equal(mcp_pending_count(f->s), 1);
	assert_value(f, "mcp_requests_in_flight{server_name=\"" EP "\"}", 1);
	c = ctx_at(301, MCP_C2S, "S", 4);
	notification(f, &c, "notifications/cancelled", JSONRPC_ID_NUM, "19");
	assert_value(f, REQ(EP, "tools/call", "cancelled"), 1);
}

/* Before initialize names the server, its requests count under the endpoint;
 * once named, nothing may stay behind under "<ip>:<port>" (a phantom server
 * on every dashboard), and requests pending across the naming finish under
 * the new name. */
static void test_naming_retires_fallback_series(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c;

	c = ctx_at(0, MCP_C2S, "", 7);
	request(f, &c, "initialize", JSONRPC_ID_NUM, "0", NULL);
	assert_value(f, "mcp_requests_in_flight{server_name=\"" EP "\"}", 1);
	c = ctx_at(5, MCP_S2C, "", 7);
	snprintf(c.new_session, sizeof(c.new_session), "N");
	init_result(f, &c, "0", "named", "1.0");
	assert_value(f, REQ("named", "initialize", "ok"), 1);
	assert_value(f, "mcp_requests_in_flight{server_name=\"named\"}", 0);
	assert_value(f, "mcp_requests_in_flight{server_name=\"" EP "\"}", -1);
	assert_value(f, SESSIONS("named", "streamable_http"), 1);
}

/* A request already pending when the name arrives moves with it. */
static void test_naming_moves_pending(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c;

	c = ctx_at(0, MCP_C2S, "old", 1);
	request(f, &c, "tools/call", JSONRPC_ID_NUM, "3", "echo");
	c = ctx_at(1, MCP_C2S, "", 2);
	request(f, &c, "initialize", JSONRPC_ID_NUM, "0", NULL);
	c = ctx_at(2, MCP_S2C, "", 2);
	snprintf(c.new_session, sizeof(c.new_session), "new");
	init_result(f, &c, "0", "named", "1.0");
	assert_value(f, "mcp_requests_in_flight{server_name=\"named\"}", 1);
	assert_value(f, "mcp_requests_in_flight{server_name=\"" EP "\"}", -1);
	c = ctx_at(10, MCP_S2C, "old", 1);
	result(f, &c, JSONRPC_ID_NUM, "3", 0);
	assert_value(f,
		     "mcp_tool_calls_total{server_name=\"named\",tool_name=\"echo\",status=\"ok\"}",
		     1);
	assert_value(f, "mcp_requests_in_flight{server_name=\"named\"}", 0);
}

/* 2026-07-28: stateless, no initialize, no session. The server is named by
 * result._meta serverInfo (proto/ fills protocol_version from the request's
 * MCP-Protocol-Version when the _meta has none); the same info again in every
 * result changes nothing, a new version replaces the series. */
static void test_stateless_2026_naming(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c;
	struct jsonrpc_msg m;

	c = ctx_at(0, MCP_C2S, "", 1);
	request(f, &c, "tools/call", JSONRPC_ID_NUM, "0", "echo");
	assert_value(f, "mcp_requests_in_flight{server_name=\"" EP "\"}", 1);
	memset(&m, 0, sizeof(m));
	m.kind = JSONRPC_RESULT;
	mcp_msgs_id(&m.id, JSONRPC_ID_NUM, "0");
	mcp_msgs_str(&m.peer_name, "srv-2026");
	mcp_msgs_str(&m.peer_version, "0.9");
	mcp_msgs_str(&m.protocol_version, "2026-07-28");
	c = ctx_at(3, MCP_S2C, "", 1);
	send_msg(f, &c, &m);
	assert_value(f, REQ("srv-2026", "tools/call", "ok"), 1);
	assert_value(f,
		     "mcp_tool_calls_total{server_name=\"srv-2026\",tool_name=\"echo\",status=\"ok\"}",
		     1);
	assert_value(f,
		     "mcp_server_info{server_name=\"srv-2026\",server_version=\"0.9\","
		     "protocol_version=\"2026-07-28\",transport=\"streamable_http\",container=\"\",pod=\"\",namespace=\"\"}",
		     1);
	assert_value(f, "mcp_requests_in_flight{server_name=\"srv-2026\"}", 0);
	/* the next call counts under the name from its start */
	for (int i = 1; i <= 3; i++) {
		char id[8];

		snprintf(id, sizeof(id), "%d", i);
		c = ctx_at(10 * i, MCP_C2S, "", 1 + i);
		request(f, &c, "tools/call", JSONRPC_ID_NUM, id, "echo");
		mcp_msgs_id(&m.id, JSONRPC_ID_NUM, id);
		if (i == 3)
			mcp_msgs_str(&m.peer_version, "1.0");
		c = ctx_at(10 * i + 1, MCP_S2C, "", 1 + i);
		send_msg(f, &c, &m);
	}
	assert_value(f, REQ("srv-2026", "tools/call", "ok"), 4);
	assert_absent(f, "mcp_server_info{server_name=\"srv-2026\",server_version=\"0.9\"");
	assert_value(f,
		     "mcp_server_info{server_name=\"srv-2026\",server_version=\"1.0\","
		     "protocol_version=\"2026-07-28\",transport=\"streamable_http\",container=\"\",pod=\"\",namespace=\"\"}",
		     1);
	/* no session was made */
	assert_absent(f, "mcp_sessions_active{server_name=\"srv-2026\"");
}

/* --- the client's wait (mcp/client.h) --- */

#define CDUR(suffix, server, method)                                                        \
	"mcp_client_request_duration_seconds_" suffix "{server_name=\"" server "\",method=\"" \
	method "\"}"
#define CTOOL(suffix, server, tool)                                                         \
	"mcp_client_tool_call_duration_seconds_" suffix "{server_name=\"" server "\",tool_name=\"" \
	tool "\"}"
#define TOOLDUR(suffix, server, tool)                                                       \
	"mcp_tool_call_duration_seconds_" suffix "{server_name=\"" server "\",tool_name=\"" \
	tool "\"}"

/* One message of flow, seen by observer at T0 + ms; the client's socket has
 * exchanges of its own (100+), as proto/conn numbers them per socket. */
static struct mcp_wire_ctx seen(double ms, uint8_t dir, const char *session, uint64_t flow,
				uint8_t observer)
{
	return on_flow(ctx_at(ms, dir, session, observer == MCP_OBS_CLIENT ? 100 + flow : flow),
		       flow, observer);
}

/*
 * A server with 150 ms of network delay on its answers: the client sends at
 * 0, the server reads at 0.2 and answers at 20, the client reads at 170. The
 * server-side histogram keeps the server's 19.8 ms, the client-side one has
 * the client's 170 ms, each request is counted once.
 */
static void test_client_duration_both_ends(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c;

	c = seen(0, MCP_C2S, "s", 20, MCP_OBS_CLIENT);
	request(f, &c, "tools/call", JSONRPC_ID_NUM, "7", "echo");
	c = seen(0.2, MCP_C2S, "s", 20, MCP_OBS_SERVER);
	request(f, &c, "tools/call", JSONRPC_ID_NUM, "7", "echo");
	/* a progress notification does not end either wait */
	c = seen(10, MCP_S2C, "s", 20, MCP_OBS_SERVER);
	notification(f, &c, "notifications/progress", 0, NULL);
	c = seen(160, MCP_S2C, "s", 20, MCP_OBS_CLIENT);
	notification(f, &c, "notifications/progress", 0, NULL);
	assert_int_equal(mcp_client_pending_count(f->s), 1);
	c = seen(20, MCP_S2C, "s", 20, MCP_OBS_SERVER);
	result(f, &c, JSONRPC_ID_NUM, "7", 0);
	assert_value(f, DUR("sum", EP, "tools/call"), 0.0198);
	assert_absent(f, "mcp_client_request_duration_seconds");
	c = seen(170, MCP_S2C, "s", 20, MCP_OBS_CLIENT);
	result(f, &c, JSONRPC_ID_NUM, "7", 0);
	assert_value(f, CDUR("sum", EP, "tools/call"), 0.17);
	assert_value(f, CDUR("count", EP, "tools/call"), 1);
	assert_value(f, CTOOL("sum", EP, "echo"), 0.17);
	assert_value(f, CTOOL("count", EP, "echo"), 1);
	/* 0.17 s: above le="0.1", inside le="0.2" */
	assert_value(f, "mcp_client_request_duration_seconds_bucket{server_name=\"" EP
			"\",method=\"tools/call\",le=\"0.1\"}", 0);
	assert_value(f, "mcp_client_request_duration_seconds_bucket{server_name=\"" EP
			"\",method=\"tools/call\",le=\"0.2\"}", 1);
	mcp_tick(f->s, T0 + 5 * SEC);
	assert_value(f, REQ(EP, "tools/call", "ok"), 1);
	assert_value(f, "mcp_tool_calls_total{server_name=\"" EP
			"\",tool_name=\"echo\",status=\"ok\"}", 1);
	assert_value(f, DUR("count", EP, "tools/call"), 1);
	assert_value(f, DUR("sum", EP, "tools/call"), 0.0198);
	assert_value(f, TOOLDUR("sum", EP, "echo"), 0.0198);
	assert_value(f, CDUR("count", EP, "tools/call"), 1);
	assert_value(f, "mcp_notifications_total{server_name=\"" EP
			"\",method=\"notifications/progress\",direction=\"server_to_client\"}", 1);
	assert_value(f, "mcpwire_messages_deduplicated_total", 3);
	assert_int_equal(mcp_pending_count(f->s), 0);
	assert_int_equal(mcp_client_pending_count(f->s), 0);
}

/*
 * The ring buffer does not order events of different CPUs strictly: here the
 * server's read comes before the client's write, and the client's read of
 * the answer before the server's write of it. Counts stay exact, each
 * histogram keeps its own socket's timestamps.
 */
static void test_client_duration_reordered(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c;

	c = seen(0.2, MCP_C2S, "s", 21, MCP_OBS_SERVER);
	request(f, &c, "resources/list", JSONRPC_ID_STR, "a", NULL);
	c = seen(0, MCP_C2S, "s", 21, MCP_OBS_CLIENT);
	request(f, &c, "resources/list", JSONRPC_ID_STR, "a", NULL);
	c = seen(30.5, MCP_S2C, "s", 21, MCP_OBS_CLIENT);
	error(f, &c, JSONRPC_ID_STR, "a", -32601);
	c = seen(30, MCP_S2C, "s", 21, MCP_OBS_SERVER);
	error(f, &c, JSONRPC_ID_STR, "a", -32601);
	mcp_tick(f->s, T0 + 5 * SEC);
	assert_value(f, REQ(EP, "resources/list", "error"), 1);
	assert_value(f, DUR("count", EP, "resources/list"), 1);
	assert_value(f, DUR("sum", EP, "resources/list"), 0.0298);
	/* an error answer ends the client's wait as a result does */
	assert_value(f, CDUR("count", EP, "resources/list"), 1);
	assert_value(f, CDUR("sum", EP, "resources/list"), 0.0305);
	assert_value(f, "mcp_request_errors_total{server_name=\"" EP
			"\",method=\"resources/list\",error_code=\"-32601\"}", 1);
}

/* Only the server on this host: no client series. Only the client: both
 * histograms are the client's view, equal. */
static void test_client_duration_one_end(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c;

	c = seen(0, MCP_C2S, "s", 22, MCP_OBS_SERVER);
	request(f, &c, "ping", JSONRPC_ID_NUM, "1", NULL);
	c = seen(2, MCP_S2C, "s", 22, MCP_OBS_SERVER);
	result(f, &c, JSONRPC_ID_NUM, "1", 0);
	mcp_tick(f->s, T0 + 5 * SEC);
	assert_value(f, REQ(EP, "ping", "ok"), 1);
	assert_absent(f, "mcp_client_request_duration_seconds");

	c = seen(6000, MCP_C2S, "s", 23, MCP_OBS_CLIENT);
	request(f, &c, "prompts/list", JSONRPC_ID_NUM, "1", NULL);
	c = seen(6040, MCP_S2C, "s", 23, MCP_OBS_CLIENT);
	result(f, &c, JSONRPC_ID_NUM, "1", 0);
	mcp_tick(f->s, T0 + 10 * SEC);
	assert_value(f, REQ(EP, "prompts/list", "ok"), 1);
	assert_value(f, DUR("sum", EP, "prompts/list"), 0.04);
	assert_value(f, CDUR("sum", EP, "prompts/list"), 0.04);
	assert_value(f, CDUR("count", EP, "prompts/list"), 1);
	assert_absent(f, "mcp_client_request_duration_seconds_count{server_name=\"" EP
			 "\",method=\"ping\"}");
}

/* Cancelled by the client: counted once as cancelled, not observed as a
 * client wait; a late answer changes nothing. */
static void test_client_duration_cancelled(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c;

	c = seen(0, MCP_C2S, "s", 24, MCP_OBS_CLIENT);
	request(f, &c, "tools/call", JSONRPC_ID_NUM, "3", "slow");
	c = seen(0.1, MCP_C2S, "s", 24, MCP_OBS_SERVER);
	request(f, &c, "tools/call", JSONRPC_ID_NUM, "3", "slow");
	c = seen(500, MCP_C2S, "s", 24, MCP_OBS_CLIENT);
	notification(f, &c, "notifications/cancelled", JSONRPC_ID_NUM, "3");
	c = seen(500.1, MCP_C2S, "s", 24, MCP_OBS_SERVER);
	notification(f, &c, "notifications/cancelled", JSONRPC_ID_NUM, "3");
	assert_int_equal(mcp_client_pending_count(f->s), 0);
	c = seen(600, MCP_S2C, "s", 24, MCP_OBS_SERVER);
	result(f, &c, JSONRPC_ID_NUM, "3", 0);
	c = seen(600.2, MCP_S2C, "s", 24, MCP_OBS_CLIENT);
	result(f, &c, JSONRPC_ID_NUM, "3", 0);
	mcp_tick(f->s, T0 + 5 * SEC);
	assert_value(f, REQ(EP, "tools/call", "cancelled"), 1);
	assert_value(f, REQ(EP, "tools/call", "ok"), -1);
	assert_absent(f, "mcp_client_request_duration_seconds");
	assert_absent(f, "mcp_client_tool_call_duration_seconds");
}

/*
 * Ids repeat across sessions and connections: two sessions, each on its own
 * connection, send id 1 at once; legacy HTTP+SSE answers on the GET stream's
 * connection (flow 27) while the request went on a POST connection (flow 26),
 * so only the sessionId pairs them.
 */
static void test_client_duration_ids_per_session(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c;

	c = seen(0, MCP_C2S, "A", 25, MCP_OBS_CLIENT);
	request(f, &c, "tools/list", JSONRPC_ID_NUM, "1", NULL);
	c = seen(1, MCP_C2S, "B", 26, MCP_OBS_CLIENT);
	c.transport = MCP_TRANSPORT_SSE;
	request(f, &c, "tools/list", JSONRPC_ID_NUM, "1", NULL);
	/* B's answer first, on its GET stream */
	c = seen(11, MCP_S2C, "B", 27, MCP_OBS_CLIENT);
	c.transport = MCP_TRANSPORT_SSE;
	result(f, &c, JSONRPC_ID_NUM, "1", 0);
	assert_value(f, CDUR("sum", EP, "tools/list"), 0.01);
	c = seen(100, MCP_S2C, "A", 25, MCP_OBS_CLIENT);
	result(f, &c, JSONRPC_ID_NUM, "1", 0);
	assert_value(f, CDUR("count", EP, "tools/list"), 2);
	assert_value(f, CDUR("sum", EP, "tools/list"), 0.11);
	/* a session-less stateless request pairs through its connection */
	c = seen(200, MCP_C2S, "", 28, MCP_OBS_CLIENT);
	request(f, &c, "tools/list", JSONRPC_ID_NUM, "1", NULL);
	c = seen(201, MCP_C2S, "", 29, MCP_OBS_CLIENT);
	request(f, &c, "tools/list", JSONRPC_ID_NUM, "1", NULL);
	c = seen(203, MCP_S2C, "", 29, MCP_OBS_CLIENT);
	result(f, &c, JSONRPC_ID_NUM, "1", 0);
	assert_value(f, CDUR("sum", EP, "tools/list"), 0.112);
	assert_int_equal(mcp_client_pending_count(f->s), 1);
}

/* initialize goes out before its session exists: it pairs through its
 * connection, and the answer that names the server moves the call there. */
static void test_client_duration_initialize(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c;

	c = seen(0, MCP_C2S, "", 30, MCP_OBS_CLIENT);
	request(f, &c, "initialize", JSONRPC_ID_NUM, "0", NULL);
	c = seen(0.1, MCP_C2S, "", 30, MCP_OBS_SERVER);
	request(f, &c, "initialize", JSONRPC_ID_NUM, "0", NULL);
	c = seen(3, MCP_S2C, "S1", 30, MCP_OBS_SERVER);
	snprintf(c.new_session, sizeof(c.new_session), "S1");
	init_result(f, &c, "0", "everything", "2.0.0");
	c = seen(9, MCP_S2C, "S1", 30, MCP_OBS_CLIENT);
	snprintf(c.new_session, sizeof(c.new_session), "S1");
	init_result(f, &c, "0", "everything", "2.0.0");
	assert_value(f, REQ("everything", "initialize", "ok"), 1);
	assert_value(f, DUR("sum", "everything", "initialize"), 0.0029);
	assert_value(f, CDUR("sum", "everything", "initialize"), 0.009);
}

/* The wait table is bounded: the oldest wait goes, counted. */
static void test_client_pending_bound(void **state)
{
	struct metrics *m = metrics_new(NULL);
	struct mcp_config cfg = { .max_client_pending = 2 };
	struct mcp_state *s = mcp_new(&cfg, m);
	struct fixture f = { m, s, mcp_sink(s) };
	struct mcp_wire_ctx c;

	(void)state;
	for (int i = 0; i < 3; i++) {
		char id[16];

		snprintf(id, sizeof(id), "%d", i);
		c = seen(i, MCP_C2S, "s", 31, MCP_OBS_CLIENT);
		request(&f, &c, "ping", JSONRPC_ID_NUM, id, NULL);
	}
	assert_int_equal(mcp_client_pending_count(s), 2);
	assert_value(&f, "mcpwire_table_evictions_total{table=\"client_pending\"}", 1);
	c = seen(10, MCP_S2C, "s", 31, MCP_OBS_CLIENT);
	result(&f, &c, JSONRPC_ID_NUM, "0", 0);
	result(&f, &c, JSONRPC_ID_NUM, "2", 0);
	assert_value(&f, CDUR("count", EP, "ping"), 1);
	assert_value(&f, CDUR("sum", EP, "ping"), 0.008);
	/* waits past the request timeout are dropped */
	mcp_tick(s, T0 + 400 * SEC);
	assert_int_equal(mcp_client_pending_count(s), 0);
	mcp_free(s);
	metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_out_of_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ids_per_session_and_direction, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_string_vs_number_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_initialize_through_exchange, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stateless_2026_naming, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tasks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_then_late_response, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notifications, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sessions_up_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stdio_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dedup_both_observers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dedup_client_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dedup_server_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dedup_server_seen_later_in_window, setup,
						teardown),
		cmocka_unit_test(test_pending_bound),
		cmocka_unit_test_setup_teardown(test_session_end_cancels_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_legacy_sse_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_naming_retires_fallback_series, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_naming_moves_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_duration_both_ends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_duration_reordered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_duration_one_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_duration_cancelled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_duration_ids_per_session, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_client_duration_initialize, setup, teardown),
		cmocka_unit_test(test_client_pending_bound),
	};

	return cmocka_run_group_tests_name("mcp", tests, NULL, NULL);
}
