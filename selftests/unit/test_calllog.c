// SPDX-License-Identifier: GPL-2.0-only
/*
 * calllog/: call records made by mcp/ from hand-built messages fed through
 * its proto_sink, written as JSON lines and parsed back with jansson; write
 * errors, rotation, standard output; and the redaction of payloads.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "calllog/calllog.h"
#include "calllog/redact.h"
#include "mcp/mcp.h"
#include "metrics/metrics.h"
#include "proto/jsonrpc.h"
#include "proto/msg.h"
#include "mcp_msgs.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define T0 (1000 * SEC)
/* T0 on the monotonic clock is 2023-11-14T22:13:20Z on the wall clock */
#define WALL_T0 1700000000ll

struct fixture {
	struct metrics *m;
	struct mcp_state *s;
	const struct proto_sink *sink;
	struct calllog *log;
	char path[64];
};

static struct fixture *fixture_new(const struct mcp_config *cfg, int payloads)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct mcp_call_sink cs;
	char err[256];
	int fd;

	assert_non_null(f);
	snprintf(f->path, sizeof(f->path), "/tmp/test_calllog.XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	close(fd);
	f->m = metrics_new(NULL);
	f->s = mcp_new(cfg, f->m);
	assert_non_null(f->s);
	f->sink = mcp_sink(f->s);
	f->log = calllog_open(f->path, payloads, err, sizeof(err));
	assert_non_null(f->log);
	calllog_set_clock_offset(f->log, WALL_T0 * (int64_t)SEC - (int64_t)T0);
	cs = calllog_sink(f->log);
	assert_int_equal(mcp_set_call_sink(f->s, &cs), 0);
	return f;
}

static int setup(void **state)
{
	*state = fixture_new(NULL, 0);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	calllog_close(f->log);
	mcp_free(f->s);
	metrics_free(f->m);
	unlink(f->path);
	free(f);
	return 0;
}

/* --- messages: thin wrappers over mcp_msgs.c --- */


static struct mcp_wire_ctx ctx_at(double ms, uint8_t dir, const char *session, uint64_t exchange)
{
	return mcp_msgs_ctx(T0 + (uint64_t)(ms * MS), dir, session, exchange);
}

static void send_msg(struct fixture *f, const struct mcp_wire_ctx *c, const struct jsonrpc_msg *m)
{
	f->sink->message(f->sink->arg, c, m);
}

static void request(struct fixture *f, const struct mcp_wire_ctx *c, const char *method,
		    uint8_t id_type, const char *id, const char *name, const char *uri)
{
	mcp_msgs_request(f->sink, c, method, id_type, id, name, uri);
}

static void result(struct fixture *f, const struct mcp_wire_ctx *c, uint8_t id_type,
		   const char *id, int is_error)
{
	mcp_msgs_result(f->sink, c, id_type, id, is_error);
}

static void error(struct fixture *f, const struct mcp_wire_ctx *c, const char *id, int64_t code)
{
	mcp_msgs_error(f->sink, c, JSONRPC_ID_NUM, id, code);
}

static void cancelled(struct fixture *f, const struct mcp_wire_ctx *c, const char *id)
{
	mcp_msgs_notification(f->sink, c, "notifications/cancelled", JSONRPC_ID_NUM, id);
}

/* initialize from clientInfo {probe, 1.0.0} on exchange 1 at 0 ms, answered
 * at 2 ms by serverInfo "everything" creating session "sess-1". */
static void initialize(struct fixture *f)
{
	struct mcp_wire_ctx c = ctx_at(0, MCP_C2S, "", 1);
	struct jsonrpc_msg m;

	memset(&m, 0, sizeof(m));
	m.kind = JSONRPC_REQUEST;
	mcp_msgs_id(&m.id, JSONRPC_ID_NUM, "0");
	mcp_msgs_str(&m.method, "initialize");
	mcp_msgs_str(&m.protocol_version, "2025-11-25");
	mcp_msgs_str(&m.peer_name, "probe");
	mcp_msgs_str(&m.peer_version, "1.0.0");
	send_msg(f, &c, &m);

	c = ctx_at(2, MCP_S2C, "", 1);
	snprintf(c.new_session, sizeof(c.new_session), "sess-1");
	memset(&m, 0, sizeof(m));
	m.kind = JSONRPC_RESULT;
	mcp_msgs_id(&m.id, JSONRPC_ID_NUM, "0");
	mcp_msgs_str(&m.protocol_version, "2025-11-25");
	mcp_msgs_str(&m.peer_name, "everything");
	mcp_msgs_str(&m.peer_version, "2.0.0");
	send_msg(f, &c, &m);
}

/* --- reading the log back --- */

/* Every line of the file, parsed: a JSON array of objects. Fails the test on
 * a line that is not one JSON object ending in '\n'. */
static json_t *read_lines(const char *path)
{
	json_t *all = json_array();
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *fp = fopen(path, "r");

	assert_non_null(fp);
	while ((n = getline(&line, &cap, fp)) > 0) {
		json_error_t e;
		json_t *v;

		if (line[n - 1] != '\n')
			fail_msg("line without its end: %s", line);
		v = json_loads(line, 0, &e);
		if (!v || !json_is_object(v))
			fail_msg("not a JSON object (%s): %s", e.text, line);
		json_array_append_new(all, v);
	}
	free(line);
	fclose(fp);
	return all;
}

static json_t *flush_and_read(struct fixture *f)
{
	assert_int_equal(calllog_flush(f->log), 0);
	return read_lines(f->path);
}

/* The object's keys are exactly those of the comma-separated list. */
static void assert_keys(const json_t *o, const char *keys)
{
	char buf[512], *save, *k;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", keys);
	for (k = strtok_r(buf, ",", &save); k; k = strtok_r(NULL, ",", &save), n++)
		if (!json_object_get(o, k)) {
			char *d = json_dumps(o, JSON_COMPACT);

			fail_msg("key %s missing in %s", k, d);
		}
	if (json_object_size(o) != n) {
		char *d = json_dumps(o, JSON_COMPACT);

		fail_msg("%zu keys, want %zu (%s): %s", json_object_size(o), n, keys, d);
	}
}

static void assert_jstr(const json_t *o, const char *key, const char *want)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || strcmp(json_string_value(v), want)) {
		char *d = json_dumps(o, JSON_COMPACT);

		fail_msg("%s: want string \"%s\" in %s", key, want, d);
	}
}

static void assert_jint(const json_t *o, const char *key, json_int_t want)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) != want) {
		char *d = json_dumps(o, JSON_COMPACT);

		fail_msg("%s: want integer %lld in %s", key, (long long)want, d);
	}
}

static void assert_jreal(const json_t *o, const char *key, double want)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_real(v) || json_real_value(v) < want - 1e-9 ||
	    json_real_value(v) > want + 1e-9) {
		char *d = json_dumps(o, JSON_COMPACT);

		fail_msg("%s: want real %g in %s", key, want, d);
	}
}

#define BASE_KEYS "time,server,method,status,duration_ms,transport,direction,id,endpoint"
#define PID_KEYS "server_pid,server_comm"

/* --- records --- */

static void test_ok_with_client_info(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c;
	json_t *lines, *o, *client;

	initialize(f);
	c = ctx_at(10, MCP_C2S, "sess-1", 2);
	request(f, &c, "tools/call", JSONRPC_ID_NUM, "1", "echo", NULL);
	c = ctx_at(15.25, MCP_S2C, "sess-1", 2);
	result(f, &c, JSONRPC_ID_NUM, "1", 0);

	lines = flush_and_read(f);
	assert_int_equal(json_array_size(lines), 2);

	/* initialize: its session is the one its answer created */
	o = json_array_get(lines, 0);
	assert_keys(o, BASE_KEYS ",client,session," PID_KEYS);
	assert_jstr(o, "time", "2023-11-14T22:13:20.000000Z");
	assert_jstr(o, "server", "everything");
	assert_jstr(o, "method", "initialize");
	assert_jstr(o, "status", "ok");
	assert_jreal(o, "duration_ms", 2);
	assert_jstr(o, "session", "sess-1");
	assert_jint(o, "id", 0);

	o = json_array_get(lines, 1);
	assert_keys(o, BASE_KEYS ",tool,client,session," PID_KEYS);
	assert_jstr(o, "time", "2023-11-14T22:13:20.010000Z");
	assert_jstr(o, "server", "everything");
	assert_jstr(o, "method", "tools/call");
	assert_jstr(o, "tool", "echo");
	assert_jstr(o, "status", "ok");
	assert_jreal(o, "duration_ms", 5.25);
	client = json_object_get(o, "client");
	assert_keys(client, "name,version");
	assert_jstr(client, "name", "probe");
	assert_jstr(client, "version", "1.0.0");
	assert_jstr(o, "session", "sess-1");
	assert_jstr(o, "transport", "streamable_http");
	assert_jstr(o, "direction", "client_to_server");
	assert_jint(o, "id", 1);
	assert_jstr(o, "endpoint", "127.0.0.1:3001");
	assert_jint(o, "server_pid", 4242);
	assert_jstr(o, "server_comm", "node");
	/* no container attribution yet: the key is absent, not null */
	assert_null(json_object_get(o, "container"));
	assert_int_equal(calllog_records(f->log), 2);
	assert_int_equal(calllog_errors(f->log), 0);
	json_decref(lines);
}

static void test_errors(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c = ctx_at(0, MCP_C2S, "s", 1);
	json_t *lines, *o;

	request(f, &c, "tools/call", JSONRPC_ID_NUM, "1", "no-such-tool", NULL);
	request(f, &c, "prompts/get", JSONRPC_ID_NUM, "2", "simple-prompt", NULL);
	request(f, &c, "resources/read", JSONRPC_ID_NUM, "3", NULL, "test://static/resource/1");
	request(f, &c, "tools/list", JSONRPC_ID_NUM, "4", NULL, NULL);
	c = ctx_at(7, MCP_S2C, "s", 1);
	result(f, &c, JSONRPC_ID_NUM, "1", 1);
	error(f, &c, "2", -32602);
	error(f, &c, "3", -32002);
	c.http_status = 404;
	error(f, &c, "4", -32001);

	lines = flush_and_read(f);
	assert_int_equal(json_array_size(lines), 4);
	o = json_array_get(lines, 0);
	assert_keys(o, BASE_KEYS ",tool,error_code,session," PID_KEYS);
	assert_jstr(o, "server", "127.0.0.1:3001"); /* no initialize seen */
	assert_jstr(o, "tool", "no-such-tool");
	assert_jstr(o, "status", "error");
	assert_jstr(o, "error_code", "tool_error");
	o = json_array_get(lines, 1);
	assert_keys(o, BASE_KEYS ",prompt,error_code,session," PID_KEYS);
	assert_jstr(o, "prompt", "simple-prompt");
	assert_jstr(o, "error_code", "-32602");
	o = json_array_get(lines, 2);
	assert_keys(o, BASE_KEYS ",resource,error_code,session," PID_KEYS);
	assert_jstr(o, "resource", "test://static/resource/1");
	assert_jstr(o, "error_code", "-32002");
	/* an HTTP error wins over the body's code, as in the metrics */
	o = json_array_get(lines, 3);
	assert_keys(o, BASE_KEYS ",error_code,session," PID_KEYS);
	assert_jstr(o, "method", "tools/list");
	assert_jstr(o, "error_code", "http_404");
	assert_jreal(o, "duration_ms", 7);
	json_decref(lines);
}

static void test_cancelled_and_expired(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c = ctx_at(0, MCP_C2S, "s", 1);
	json_t *lines, *o;

	request(f, &c, "tools/call", JSONRPC_ID_NUM, "5", "trigger-long-running-operation", NULL);
	request(f, &c, "ping", JSONRPC_ID_STR, "p-1", NULL, NULL);
	c = ctx_at(300, MCP_C2S, "s", 2);
	cancelled(f, &c, "5");
	/* the late answer makes no second record */
	c = ctx_at(400, MCP_S2C, "s", 1);
	result(f, &c, JSONRPC_ID_NUM, "5", 0);
	mcp_tick(f->s, T0 + 300 * SEC);

	lines = flush_and_read(f);
	assert_int_equal(json_array_size(lines), 2);
	o = json_array_get(lines, 0);
	assert_keys(o, BASE_KEYS ",tool,session," PID_KEYS);
	assert_jstr(o, "status", "cancelled");
	assert_jreal(o, "duration_ms", 300);
	o = json_array_get(lines, 1);
	assert_keys(o, BASE_KEYS ",session," PID_KEYS);
	assert_jstr(o, "method", "ping");
	assert_jstr(o, "status", "expired");
	assert_jstr(o, "id", "p-1");
	assert_jreal(o, "duration_ms", 300000);
	json_decref(lines);
}

static void test_session_end_and_server_request(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c;
	json_t *lines, *o;

	initialize(f);
	/* the server asks the client: direction server_to_client */
	c = ctx_at(10, MCP_S2C, "sess-1", 2);
	request(f, &c, "sampling/createMessage", JSONRPC_ID_NUM, "0", NULL, NULL);
	c = ctx_at(20, MCP_C2S, "sess-1", 3);
	request(f, &c, "tools/call", JSONRPC_ID_NUM, "1", "slow", NULL);
	c = ctx_at(30, MCP_C2S, "sess-1", 4);
	result(f, &c, JSONRPC_ID_NUM, "0", 0);
	/* DELETE answered: the pending call ends as cancelled */
	c = ctx_at(50, MCP_C2S, "sess-1", 5);
	f->sink->session_end(f->sink->arg, &c);

	lines = flush_and_read(f);
	assert_int_equal(json_array_size(lines), 3);
	o = json_array_get(lines, 1);
	assert_jstr(o, "method", "sampling/createMessage");
	assert_jstr(o, "direction", "server_to_client");
	assert_jstr(o, "status", "ok");
	assert_jstr(json_object_get(o, "client"), "name", "probe");
	o = json_array_get(lines, 2);
	assert_jstr(o, "tool", "slow");
	assert_jstr(o, "status", "cancelled");
	assert_jreal(o, "duration_ms", 30);
	json_decref(lines);
}

static void test_client_side_only(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c;
	json_t *lines, *o;

	/* a remote server: only the client's socket (pid 777) is on this host */
	c = ctx_at(0, MCP_C2S, "s", 1);
	c.observer = MCP_OBS_CLIENT;
	c.tgid = 777;
	snprintf(c.comm, sizeof(c.comm), "python3");
	request(f, &c, "tools/list", JSONRPC_ID_NUM, "1", NULL, NULL);
	c.dir = MCP_S2C;
	c.ts_ns += 4 * MS;
	result(f, &c, JSONRPC_ID_NUM, "1", 0);
	mcp_tick(f->s, T0 + 2 * SEC); /* past the dedup hold */

	lines = flush_and_read(f);
	assert_int_equal(json_array_size(lines), 1);
	o = json_array_get(lines, 0);
	/* the client's own timestamps timed it: that is also what it waited */
	assert_keys(o, BASE_KEYS ",session,client_pid,client_comm,client_duration_ms");
	assert_jint(o, "client_pid", 777);
	assert_jstr(o, "client_comm", "python3");
	assert_jreal(o, "duration_ms", 4);
	assert_jreal(o, "client_duration_ms", 4);
	json_decref(lines);
}

static void test_evicted(void **state)
{
	struct mcp_config cfg = { .max_pending = 2 };
	struct fixture *f = fixture_new(&cfg, 0);
	struct mcp_wire_ctx c = ctx_at(0, MCP_C2S, "s", 1);
	json_t *lines;

	request(f, &c, "ping", JSONRPC_ID_NUM, "1", NULL, NULL);
	request(f, &c, "ping", JSONRPC_ID_NUM, "2", NULL, NULL);
	c = ctx_at(1, MCP_C2S, "s", 1);
	request(f, &c, "ping", JSONRPC_ID_NUM, "3", NULL, NULL);
	lines = flush_and_read(f);
	assert_int_equal(json_array_size(lines), 1);
	assert_jstr(json_array_get(lines, 0), "status", "evicted");
	assert_jint(json_array_get(lines, 0), "id", 1);
	json_decref(lines);
	*state = f;
}

static void test_invalid_utf8_and_truncation(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c = ctx_at(0, MCP_C2S, "s", 1);
	struct jsonrpc_msg m;
	json_t *lines, *o;

	memset(&m, 0, sizeof(m));
	m.kind = JSONRPC_REQUEST;
	mcp_msgs_id(&m.id, JSONRPC_ID_NUM, "1");
	mcp_msgs_str(&m.method, "tools/call");
	mcp_msgs_str(&m.name, "bad\xff\xc0name");
	m.name.truncated = 1;
	send_msg(f, &c, &m);
	c = ctx_at(1, MCP_S2C, "s", 1);
	result(f, &c, JSONRPC_ID_NUM, "1", 0);

	lines = flush_and_read(f);
	o = json_array_get(lines, 0);
	assert_jstr(o, "tool", "bad\xef\xbf\xbd\xef\xbf\xbdname");
	assert_true(json_is_true(json_object_get(o, "truncated")));
	json_decref(lines);
}

/* --- output --- */

static void test_stdout(void **state)
{
	struct mcp_call_record r = {
		.start_ns = T0,
		.end_ns = T0 + MS,
		.server = "s",
		.endpoint = "stdio:npx",
		.method = "ping",
		.target = "",
		.session = "",
		.transport = MCP_TRANSPORT_STDIO,
	};
	char path[] = "/tmp/test_calllog_stdout.XXXXXX", err[256];
	int fd = mkstemp(path), saved = dup(STDOUT_FILENO);
	struct calllog *l;
	json_t *lines;

	assert_true(fd >= 0 && saved >= 0);
	fflush(stdout);
	assert_int_equal(dup2(fd, STDOUT_FILENO), STDOUT_FILENO);
	l = calllog_open("-", 0, err, sizeof(err));
	assert_non_null(l);
	calllog_write(l, &r);
	calllog_write(l, &r);
	calllog_close(l); /* flushes, leaves fd 1 open */
	assert_int_equal(write(STDOUT_FILENO, "", 0), 0);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(fd);

	lines = read_lines(path);
	assert_int_equal(json_array_size(lines), 2);
	assert_keys(json_array_get(lines, 0), "time,server,method,status,duration_ms,transport,"
					      "direction,endpoint");
	assert_jstr(json_array_get(lines, 0), "transport", "stdio");
	json_decref(lines);
	unlink(path);
}

static void test_write_error_counted(void **state)
{
	struct mcp_call_record r = {
		.start_ns = T0, .end_ns = T0, .server = "s", .endpoint = "e",
		.method = "ping", .target = "", .session = "",
	};
	struct metrics *m = metrics_new(NULL);
	char err[256], *text = NULL;
	struct calllog *l = calllog_open("/dev/full", 0, err, sizeof(err));
	size_t len;

	assert_non_null(l);
	for (int i = 0; i < 3; i++)
		calllog_write(l, &r);
	assert_int_equal(calllog_flush(l), -ENOSPC);
	assert_int_equal(calllog_errors(l), 3);
	assert_int_equal(calllog_records(l), 0);
	/* never fatal: later records are tried (and counted) again */
	calllog_write(l, &r);
	calllog_flush(l);
	assert_int_equal(calllog_errors(l), 4);

	metrics_call_log_errors_set(m, calllog_errors(l));
	assert_int_equal(metrics_render(m, &text, &len), 0);
	assert_non_null(strstr(text, "\nmcpwire_call_log_errors_total 4\n"));
	free(text);
	calllog_close(l);
	metrics_free(m);
}

static void test_open_error(void **state)
{
	char err[256] = "";

	assert_null(calllog_open("/nonexistent-dir/calls.log", 0, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent-dir/calls.log"));
}

static void test_reopen(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c = ctx_at(0, MCP_C2S, "s", 1);
	char rotated[80], err[256];
	json_t *lines;

	request(f, &c, "ping", JSONRPC_ID_NUM, "1", NULL, NULL);
	c = ctx_at(1, MCP_S2C, "s", 1);
	result(f, &c, JSONRPC_ID_NUM, "1", 0);
	/* logrotate: rename, then SIGHUP; the buffered line goes to the old file */
	snprintf(rotated, sizeof(rotated), "%s.1", f->path);
	assert_int_equal(rename(f->path, rotated), 0);
	assert_int_equal(calllog_reopen(f->log, err, sizeof(err)), 0);
	c = ctx_at(2, MCP_C2S, "s", 1);
	request(f, &c, "ping", JSONRPC_ID_NUM, "2", NULL, NULL);
	c = ctx_at(3, MCP_S2C, "s", 1);
	result(f, &c, JSONRPC_ID_NUM, "2", 0);

	lines = flush_and_read(f);
	assert_int_equal(json_array_size(lines), 1);
	assert_jint(json_array_get(lines, 0), "id", 2);
	json_decref(lines);
	lines = read_lines(rotated);
	assert_int_equal(json_array_size(lines), 1);
	assert_jint(json_array_get(lines, 0), "id", 1);
	json_decref(lines);
	unlink(rotated);
}

static void test_buffer_full_flushes(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c;
	json_t *lines;
	char id[16];
	int n = 2000; /* ~ 250 bytes a line: several buffers */

	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "%d", i);
		c = ctx_at(i, MCP_C2S, "s", 1);
		request(f, &c, "tools/call", JSONRPC_ID_NUM, id, "echo", NULL);
		c = ctx_at(i + 0.5, MCP_S2C, "s", 1);
		result(f, &c, JSONRPC_ID_NUM, id, 0);
	}
	lines = flush_and_read(f);
	assert_int_equal(json_array_size(lines), n);
	for (int i = 0; i < n; i++)
		assert_jint(json_array_get(lines, i), "id", i);
	json_decref(lines);
}

/* --- payloads --- */

static struct mcp_call_record payload_record(const char *args, int args_cut, const char *res)
{
	return (struct mcp_call_record){
		.start_ns = T0,
		.end_ns = T0 + MS,
		.server = "s",
		.endpoint = "e",
		.method = "tools/call",
		.target_kind = MCP_CALL_TARGET_TOOL,
		.target = "login",
		.session = "",
		.arguments = { args, args ? (uint32_t)strlen(args) : 0, (uint8_t)args_cut },
		.result = { res, res ? (uint32_t)strlen(res) : 0, 0 },
	};
}

static json_t *format(struct calllog *l, const struct mcp_call_record *r)
{
	char *s = calllog_format(l, r);
	json_t *v;

	assert_non_null(s);
	v = json_loads(s, 0, NULL);
	assert_non_null(v);
	free(s);
	return v;
}

static void test_payloads(void **state)
{
	char err[256];
	struct calllog *on = calllog_open("/dev/null", 1, err, sizeof(err));
	struct calllog *off = calllog_open("/dev/null", 0, err, sizeof(err));
	struct mcp_call_record r = payload_record("{\"user\":\"ann\",\"password\":\"hunter2\"}", 0,
						  "{\"content\":[{\"type\":\"text\",\"text\":"
						  "\"Authorization: Bearer abcdefgh12345678\"}]}");
	json_t *o, *v;
	char *d;

	o = format(on, &r);
	v = json_object_get(o, "arguments");
	assert_jstr(v, "user", "ann");
	assert_jstr(v, "password", REDACTED);
	v = json_object_get(json_array_get(json_object_get(json_object_get(o, "result"), "content"),
					   0),
			    "text");
	assert_string_equal(json_string_value(v), "Authorization: " REDACTED);
	assert_null(json_object_get(o, "error"));
	json_decref(o);

	/* without the flag, nothing of the payload */
	o = format(off, &r);
	assert_null(json_object_get(o, "arguments"));
	assert_null(json_object_get(o, "result"));
	json_decref(o);

	/* a cut text cannot be redacted with certainty: never logged */
	r = payload_record("{\"user\":\"ann\",\"pass", 1, "{\"ok\":tru");
	o = format(on, &r);
	assert_null(json_object_get(o, "arguments"));
	assert_jstr(o, "arguments_omitted", "truncated");
	assert_jstr(o, "result_omitted", "invalid");
	d = json_dumps(o, JSON_COMPACT);
	assert_null(strstr(d, "ann"));
	free(d);
	json_decref(o);

	calllog_close(on);
	calllog_close(off);
}

static void test_payload_larger_than_buffer(void **state)
{
	struct fixture *f = fixture_new(NULL, 1);
	size_t n = CALLLOG_BUF_SIZE + 1000;
	char *big = malloc(n + 16);
	struct mcp_call_record r;
	json_t *lines, *args;

	*state = f;
	snprintf(big, n + 16, "{\"x\":\"%*s\"}", (int)n, "y");
	r = payload_record(big, 0, NULL);
	calllog_write(f->log, &r);
	r = payload_record("{}", 0, NULL);
	calllog_write(f->log, &r);
	lines = flush_and_read(f);
	/* the big line went straight out, before the buffered one */
	assert_int_equal(json_array_size(lines), 2);
	args = json_object_get(json_array_get(lines, 0), "arguments");
	assert_int_equal(strlen(json_string_value(json_object_get(args, "x"))), n);
	assert_int_equal(calllog_errors(f->log), 0);
	json_decref(lines);
	free(big);
}

/* --- redaction --- */

/* From wire text to the line: proto/'s scanner captures, mcp/ keeps the
 * arguments until the answer (and held messages' texts through the dedup
 * window), calllog redacts. */
struct wire {
	struct fixture *f;
	struct mcp_wire_ctx c;
};

static void wire_msg(void *arg, const struct jsonrpc_msg *m)
{
	struct wire *w = arg;

	send_msg(w->f, &w->c, m);
}

static void wire_send(struct jsonrpc_scan *sc, struct wire *w, const char *json)
{
	/* a byte at a time, as the capture must survive any split */
	for (const char *p = json; *p; p++)
		assert_int_equal(jsonrpc_scan_feed(sc, p, 1), 0);
}

static json_t *wire_call(int payloads, uint8_t observer, const char *answer)
{
	struct fixture *f = fixture_new(NULL, payloads);
	struct jsonrpc_scan sc;
	struct wire w = { .f = f };
	json_t *lines;

	jsonrpc_scan_init(&sc, wire_msg, &w);
	jsonrpc_scan_set_capture(&sc, 1);
	w.c = ctx_at(0, MCP_C2S, "s", 1);
	w.c.observer = observer;
	w.c.flow_id = 9;
	wire_send(&sc, &w, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\","
			  "\"params\":{\"name\":\"echo\",\"arguments\":{\"password\":\"x\","
			  "\"q\":1}}}");
	w.c = ctx_at(3, MCP_S2C, "s", 1);
	w.c.observer = observer;
	w.c.flow_id = 9;
	wire_send(&sc, &w, answer);
	jsonrpc_scan_fini(&sc);
	mcp_tick(f->s, T0 + 2 * SEC); /* past the dedup hold of a client's view */
	lines = flush_and_read(f);
	calllog_close(f->log);
	mcp_free(f->s);
	metrics_free(f->m);
	unlink(f->path);
	free(f);
	return lines;
}

static void assert_jdump(const json_t *o, const char *key, const char *want)
{
	char *d = json_dumps(json_object_get(o, key), JSON_COMPACT | JSON_ENCODE_ANY);

	assert_non_null(d);
	assert_string_equal(d, want);
	free(d);
}

static void test_payloads_end_to_end(void **state)
{
	const char *ok = "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"content\":[{\"type\":"
			 "\"text\",\"text\":\"Echo: Authorization: Bearer abcdefghijk\"}]}}";
	const char *bad = "{\"jsonrpc\":\"2.0\",\"id\":2,\"error\":{\"code\":-32602,"
			  "\"message\":\"no\"}}";
	json_t *lines, *o;

	for (int obs = MCP_OBS_SERVER; obs <= MCP_OBS_CLIENT; obs++) {
		lines = wire_call(1, (uint8_t)obs, ok);
		assert_int_equal(json_array_size(lines), 1);
		o = json_array_get(lines, 0);
		assert_jstr(o, "tool", "echo");
		assert_jdump(o, "arguments", "{\"password\":\"[REDACTED]\",\"q\":1}");
		assert_jdump(o, "result", "{\"content\":[{\"type\":\"text\",\"text\":"
					  "\"Echo: Authorization: Bearer [REDACTED]\"}]}");
		assert_null(json_object_get(o, "error"));
		json_decref(lines);
	}
	lines = wire_call(1, MCP_OBS_SERVER, bad);
	o = json_array_get(lines, 0);
	assert_jstr(o, "status", "error");
	assert_jdump(o, "error", "{\"code\":-32602,\"message\":\"no\"}");
	assert_null(json_object_get(o, "result"));
	json_decref(lines);

	/* without --log-payloads nothing of them, even when proto/ captured */
	lines = wire_call(0, MCP_OBS_SERVER, ok);
	assert_int_equal(json_array_size(lines), 1);
	assert_keys(json_array_get(lines, 0), BASE_KEYS ",tool,session," PID_KEYS);
	json_decref(lines);
}

/* --- the client's wait (client_duration_ms) --- */

static struct mcp_wire_ctx on(double ms, uint8_t dir, uint8_t observer, uint64_t flow)
{
	struct mcp_wire_ctx c = ctx_at(ms, dir, "s", observer == MCP_OBS_CLIENT ? 50 : 5);

	c.observer = observer;
	c.flow_id = flow;
	if (observer == MCP_OBS_CLIENT) {
		c.tgid = 777;
		snprintf(c.comm, sizeof(c.comm), "python3");
	}
	return c;
}

/* Both ends on this host: the record waits for the client's receipt of the
 * answer, then carries both durations; one record per call. */
static void test_client_duration(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c;
	json_t *lines, *o;

	c = on(0, MCP_C2S, MCP_OBS_CLIENT, 9);
	request(f, &c, "tools/call", JSONRPC_ID_NUM, "4", "echo", NULL);
	c = on(0.2, MCP_C2S, MCP_OBS_SERVER, 9);
	request(f, &c, "tools/call", JSONRPC_ID_NUM, "4", "echo", NULL);
	c = on(20, MCP_S2C, MCP_OBS_SERVER, 9);
	result(f, &c, JSONRPC_ID_NUM, "4", 1);
	lines = flush_and_read(f);
	assert_int_equal(json_array_size(lines), 0);
	json_decref(lines);
	c = on(170, MCP_S2C, MCP_OBS_CLIENT, 9);
	result(f, &c, JSONRPC_ID_NUM, "4", 1);
	mcp_tick(f->s, T0 + 5 * SEC);
	lines = flush_and_read(f);
	assert_int_equal(json_array_size(lines), 1);
	o = json_array_get(lines, 0);
	assert_keys(o, BASE_KEYS ",tool,session,error_code,client_duration_ms," PID_KEYS);
	assert_jstr(o, "status", "error");
	assert_jstr(o, "error_code", "tool_error");
	assert_jreal(o, "duration_ms", 19.8);
	assert_jreal(o, "client_duration_ms", 170);
	json_decref(lines);
}

/* The client's receipt not seen within the window (its answer lost, or a
 * cancellation): the record goes out without it, once; a later answer
 * changes nothing. */
static void test_client_duration_not_seen(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c;
	json_t *lines, *o;

	c = on(0, MCP_C2S, MCP_OBS_CLIENT, 9);
	request(f, &c, "ping", JSONRPC_ID_NUM, "1", NULL, NULL);
	c = on(0.1, MCP_C2S, MCP_OBS_SERVER, 9);
	request(f, &c, "ping", JSONRPC_ID_NUM, "1", NULL, NULL);
	c = on(2, MCP_S2C, MCP_OBS_SERVER, 9);
	result(f, &c, JSONRPC_ID_NUM, "1", 0);
	mcp_tick(f->s, T0 + 1001 * MS);
	lines = flush_and_read(f);
	assert_int_equal(json_array_size(lines), 0);
	json_decref(lines);
	mcp_tick(f->s, T0 + 1002 * MS);
	lines = flush_and_read(f);
	assert_int_equal(json_array_size(lines), 1);
	o = json_array_get(lines, 0);
	assert_keys(o, BASE_KEYS ",session," PID_KEYS);
	json_decref(lines);
	c = on(1500, MCP_S2C, MCP_OBS_CLIENT, 9);
	result(f, &c, JSONRPC_ID_NUM, "1", 0);
	mcp_tick(f->s, T0 + 5 * SEC);
	lines = flush_and_read(f);
	assert_int_equal(json_array_size(lines), 1);
	json_decref(lines);

	/* cancelled by the client: the server's record is the cancellation,
	 * never deferred, and no client wait is reported */
	c = on(6000, MCP_C2S, MCP_OBS_CLIENT, 9);
	request(f, &c, "tools/call", JSONRPC_ID_NUM, "2", "slow", NULL);
	c = on(6000.1, MCP_C2S, MCP_OBS_SERVER, 9);
	request(f, &c, "tools/call", JSONRPC_ID_NUM, "2", "slow", NULL);
	c = on(6100, MCP_C2S, MCP_OBS_CLIENT, 9);
	cancelled(f, &c, "2");
	c = on(6100.1, MCP_C2S, MCP_OBS_SERVER, 9);
	cancelled(f, &c, "2");
	lines = flush_and_read(f);
	assert_int_equal(json_array_size(lines), 2);
	o = json_array_get(lines, 1);
	assert_jstr(o, "status", "cancelled");
	assert_null(json_object_get(o, "client_duration_ms"));
	json_decref(lines);
}

/* A held record keeps its own copies of what proto/ lent: the server's
 * scanner is gone by the time the client's receipt sends the record. */
static void test_client_duration_payloads(void **state)
{
	struct fixture *f = fixture_new(NULL, 1);
	struct jsonrpc_scan srv, cli;
	struct wire ws = { .f = f }, wc = { .f = f };
	const char *req = "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":"
			  "{\"name\":\"echo\",\"arguments\":{\"password\":\"x\",\"q\":1}}}";
	const char *ans = "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"content\":[{\"type\":"
			  "\"text\",\"text\":\"hi\"}]}}";
	json_t *lines, *o;

	*state = f;
	jsonrpc_scan_init(&srv, wire_msg, &ws);
	jsonrpc_scan_set_capture(&srv, 1);
	jsonrpc_scan_init(&cli, wire_msg, &wc);
	jsonrpc_scan_set_capture(&cli, 1);
	wc.c = on(0, MCP_C2S, MCP_OBS_CLIENT, 9);
	wire_send(&cli, &wc, req);
	ws.c = on(0.1, MCP_C2S, MCP_OBS_SERVER, 9);
	wire_send(&srv, &ws, req);
	ws.c = on(3, MCP_S2C, MCP_OBS_SERVER, 9);
	wire_send(&srv, &ws, ans);
	jsonrpc_scan_fini(&srv);
	wc.c = on(153, MCP_S2C, MCP_OBS_CLIENT, 9);
	wire_send(&cli, &wc, ans);
	jsonrpc_scan_fini(&cli);
	lines = flush_and_read(f);
	assert_int_equal(json_array_size(lines), 1);
	o = json_array_get(lines, 0);
	assert_jreal(o, "duration_ms", 2.9);
	assert_jreal(o, "client_duration_ms", 153);
	assert_jdump(o, "arguments", "{\"password\":\"[REDACTED]\",\"q\":1}");
	assert_jdump(o, "result", "{\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}");
	json_decref(lines);
}

/* Records held at once are bounded: the oldest goes out early, counted. */
static void test_client_duration_defer_bound(void **state)
{
	struct mcp_config cfg = { .max_deferred = 2 };
	struct fixture *f = fixture_new(&cfg, 0);
	struct mcp_wire_ctx c;
	json_t *lines;
	char *text = NULL;
	size_t len;

	*state = f;
	for (int i = 0; i < 3; i++) {
		char id[8];

		snprintf(id, sizeof(id), "%d", i);
		c = on(i, MCP_C2S, MCP_OBS_CLIENT, 9);
		request(f, &c, "ping", JSONRPC_ID_NUM, id, NULL, NULL);
		c = on(i + 0.1, MCP_C2S, MCP_OBS_SERVER, 9);
		request(f, &c, "ping", JSONRPC_ID_NUM, id, NULL, NULL);
		c = on(i + 0.5, MCP_S2C, MCP_OBS_SERVER, 9);
		result(f, &c, JSONRPC_ID_NUM, id, 0);
	}
	lines = flush_and_read(f);
	assert_int_equal(json_array_size(lines), 1);
	assert_null(json_object_get(json_array_get(lines, 0), "client_duration_ms"));
	json_decref(lines);
	assert_int_equal(metrics_render(f->m, &text, &len), 0);
	assert_non_null(strstr(text, "mcpwire_table_evictions_total{table=\"call_defer\"} 1\n"));
	free(text);
	/* the waits themselves are still timed, and the held records complete */
	for (int i = 0; i < 3; i++) {
		char id[8];

		snprintf(id, sizeof(id), "%d", i);
		c = on(i + 10, MCP_S2C, MCP_OBS_CLIENT, 9);
		result(f, &c, JSONRPC_ID_NUM, id, 0);
	}
	lines = flush_and_read(f);
	assert_int_equal(json_array_size(lines), 3);
	assert_jreal(json_array_get(lines, 1), "client_duration_ms", 10);
	assert_jreal(json_array_get(lines, 2), "client_duration_ms", 10);
	json_decref(lines);
}

static void test_redact_keys(void **state)
{
	static const char *const secret[] = {
		"password", "Password", "PASSWD", "secret", "token", "api_key", "apiKey",
		"API-KEY", "x-api-key", "X_Api_Key", "access_token", "accessToken",
		"refresh_token", "authorization", "Authorization", "cookie", "Set-Cookie",
		"private_key", "privateKey", "client_secret", "credential", "credentials",
		"session", "GITHUB_TOKEN", "db.password",
	};
	static const char *const plain[] = {
		"user", "max_tokens", "maxTokens", "sessionId", "name", "passage", "tokens", "",
		"secretary", "cookies",
	};

	for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
		if (!redact_key_is_secret(secret[i], strlen(secret[i])))
			fail_msg("%s should be secret", secret[i]);
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if (redact_key_is_secret(plain[i], strlen(plain[i])))
			fail_msg("%s should not be secret", plain[i]);
}

/* Redacts the JSON text in and compares it, compact, with want. */
static void assert_redacted(const char *in, const char *want, int replaced)
{
	json_t *v = json_loads(in, JSON_DECODE_ANY, NULL);
	char *got;
	int n;

	assert_non_null(v);
	n = redact_json(v);
	got = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (strcmp(got, want) || n != replaced)
		fail_msg("redact %s\n got %s (%d)\nwant %s (%d)", in, got, n, want, replaced);
	free(got);
	json_decref(v);
}

static void test_redact_json(void **state)
{
	/* nested objects and arrays; non-string secret values */
	assert_redacted("{\"a\":{\"b\":[{\"Token\":123},{\"ok\":1,\"api_key\":{\"k\":\"v\"}}]},"
			"\"password\":null,\"secret\":[1,2],\"n\":5}",
			"{\"a\":{\"b\":[{\"Token\":\"[REDACTED]\"},"
			"{\"ok\":1,\"api_key\":\"[REDACTED]\"}]},"
			"\"password\":\"[REDACTED]\",\"secret\":\"[REDACTED]\",\"n\":5}",
			4);
	/* nothing secret: unchanged */
	assert_redacted("{\"message\":\"hello\",\"max_tokens\":100,\"list\":[\"a\",true]}",
			"{\"message\":\"hello\",\"max_tokens\":100,\"list\":[\"a\",true]}", 0);
	/* header arrays, as fetch-like tools take them */
	assert_redacted("{\"headers\":[\"Accept: */*\",\"authorization: Bearer xyz.abc-123_def\","
			"\"Cookie: a=b; c=d\"]}",
			"{\"headers\":[\"Accept: */*\",\"authorization: [REDACTED]\","
			"\"Cookie: [REDACTED]\"]}",
			2);
	/* header objects: by key */
	assert_redacted("{\"headers\":{\"X-API-Key\":\"k1\",\"Content-Type\":\"a/b\"}}",
			"{\"headers\":{\"X-API-Key\":\"[REDACTED]\",\"Content-Type\":\"a/b\"}}", 1);
	/* a top-level string */
	assert_redacted("\"Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig\"", "\"Bearer [REDACTED]\"", 1);
	/* JSON inside a string (tool results carry JSON.stringify()ed data) */
#define Q "\\\""
	assert_redacted("{\"text\":\"{" Q "env" Q ":{" Q "OPENAI_API_KEY" Q ":" Q "sk-1" Q ","
			Q "HOME" Q ":" Q "/root" Q "}}\"}",
			"{\"text\":\"{" Q "env" Q ":{" Q "OPENAI_API_KEY" Q ":" Q "[REDACTED]" Q ","
			Q "HOME" Q ":" Q "/root" Q "}}\"}",
			1);
#undef Q
}

static void assert_text(const char *in, const char *want)
{
	size_t len = 0;
	int oom = 0;
	char *got = redact_text(in, strlen(in), &len, &oom);

	assert_false(oom);
	if (!want) {
		if (got)
			fail_msg("redact_text(%s) = %s, want unchanged", in, got);
		return;
	}
	if (!got || strcmp(got, want) || len != strlen(want))
		fail_msg("redact_text(%s)\n got %s\nwant %s", in, got ? got : "(unchanged)", want);
	free(got);
}

static void test_redact_text(void **state)
{
	assert_text("Bearer abcdefgh", "Bearer " REDACTED);
	assert_text("curl -H 'Authorization: bearer abc.def.ghi' x",
		    "curl -H 'Authorization: bearer " REDACTED "' x");
	assert_text("GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Basic dXNlcjpwYXNz\r\n\r\n",
		    "GET / HTTP/1.1\r\nHost: a\r\nAuthorization: " REDACTED "\r\n\r\n");
	assert_text("use Basic dXNlcjpwYXNz here", "use Basic " REDACTED " here");
	assert_text("PATH=/bin\nAWS_SECRET_ACCESS_KEY=abc\nGITHUB_TOKEN=ghp_x\nHOME=/root",
		    "PATH=/bin\nAWS_SECRET_ACCESS_KEY=" REDACTED "\nGITHUB_TOKEN=" REDACTED
		    "\nHOME=/root");
	assert_text("  password : hunter2", "  password : " REDACTED);
	/* prose is left alone */
	assert_text("the bearer of good news", NULL);
	assert_text("a basic example of Basic usage", NULL);
	assert_text("token:", NULL);
	assert_text("https://example.com/a?b=c", NULL);
	assert_text("", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ok_with_client_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancelled_and_expired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_end_and_server_request, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_client_side_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_duration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_duration_not_seen, setup, teardown),
		cmocka_unit_test_teardown(test_client_duration_payloads, teardown),
		cmocka_unit_test_teardown(test_client_duration_defer_bound, teardown),
		cmocka_unit_test_teardown(test_evicted, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_utf8_and_truncation, setup, teardown),
		cmocka_unit_test(test_stdout),
		cmocka_unit_test(test_write_error_counted),
		cmocka_unit_test(test_open_error),
		cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buffer_full_flushes, setup, teardown),
		cmocka_unit_test(test_payloads),
		cmocka_unit_test_teardown(test_payload_larger_than_buffer, teardown),
		cmocka_unit_test(test_payloads_end_to_end),
		cmocka_unit_test(test_redact_keys),
		cmocka_unit_test(test_redact_json),
		cmocka_unit_test(test_redact_text),
	};

	return cmocka_run_group_tests_name("calllog", tests, NULL, NULL);
}
