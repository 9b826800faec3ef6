// SPDX-License-Identifier: GPL-2.0-only
/*
 * stdio transport: the kernel's first-bytes check for pipes
 * (mw_classify_stdio), the command name of "stdio:<command>", the
 * newline-delimited JSON-RPC parser (proto/stdio) fed through stream/ whole,
 * split at every byte and one byte at a time, several messages per read,
 * "\r\n", an overlong line and a gap; and through mcp/, counting once and
 * pairing the requests read on the server's stdin with the answers written
 * on its stdout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <linux/types.h>
#include "mcpwire.h"
#include "mcpwire.bpf.h"
#include "mcp/mcp.h"
#include "metrics/metrics.h"
#include "proto/stdio.h"
#include "stream/stream.h"

#define MS 1000000ull
#define T0 (1000ull * 1000 * MS)
/* a tgid no process has (pid_max is at most 2^22): no /proc entry */
#define SRV_TGID 0x7ffffff0u
#define CLI_TGID 0x7ffffff1u

/* --- mw_classify_stdio --- */

static int cls(const char *s)
{
	return mw_classify_stdio((const unsigned char *)s, (unsigned int)strlen(s));
}

static void test_classify(void **state)
{
	(void)state;
	/* what the SDKs write first (mcp-wire.md §1) */
	assert_int_equal(cls("{\"method\":\"initialize\",\"params\""), 3);
	assert_int_equal(cls("{\"result\":{\"protocolVersion\""), 3);
	assert_int_equal(cls("{\"jsonrpc\":\"2.0\",\"id\":0,"), 3);
	assert_int_equal(cls("{\"id\":1,\"jsonrpc\":\"2.0\"}"), 3);
	assert_int_equal(cls("{\"error\":{\"code\":-32601}"), 3);
	assert_int_equal(cls("{\"params\":{},\"method\":\"x\"}"), 3);
	assert_int_equal(cls("\r\n { \"id\" : 1}"), 3);
	assert_int_equal(cls("[{\"jsonrpc\":\"2.0\"}]"), 3);
	/* other JSON and text a shell pipeline carries */
	assert_int_equal(cls("{\"status\":\"success\",\"data\""), 0);
	assert_int_equal(cls("{\"name\":\"mcpwire\"}"), 0);
	assert_int_equal(cls("{\"identity\":1}"), 0);
	assert_int_equal(cls("{\"jsonrpcx\":1}"), 0);
	assert_int_equal(cls("[1,2,3]"), 0);
	assert_int_equal(cls("{}"), 0);
	assert_int_equal(cls("GET / HTTP/1.1\r\n"), 0);
	assert_int_equal(cls("hello world\n"), 0);
	assert_int_equal(mw_classify_stdio((const unsigned char *)"\0\0\0\0", 4), 0);
	/* too few bytes to tell */
	assert_int_equal(cls(""), 4);
	assert_int_equal(cls("  "), 4);
	assert_int_equal(cls("{\"met"), 4);
	/* leading whitespace eats the 16 bytes */
	assert_int_equal(cls("              {\"id\":1}"), 0);
}

/* --- stdio_command_name --- */

static void name_of(const char *const *argv, const char *want)
{
	char buf[512], out[STDIO_CMD_MAX + 1];
	size_t n = 0;

	for (; *argv; argv++) {
		size_t l = strlen(*argv) + 1;

		memcpy(buf + n, *argv, l);
		n += l;
	}
	stdio_command_name(buf, n, out);
	assert_string_equal(out, want);
}

#define NAME_OF(want, ...) name_of((const char *const[]){ __VA_ARGS__, NULL }, want)

static void test_command_name(void **state)
{
	(void)state;
	NAME_OF("server-memory", "/usr/bin/node",
		"/srv/x/node_modules/@modelcontextprotocol/server-memory/dist/index.js");
	NAME_OF("server-filesystem", "node", "--enable-source-maps",
		"/srv/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js", "/tmp/d");
	NAME_OF("mcp-server-memory", "node", "/root/.npm/_npx/ab12/node_modules/.bin/mcp-server-memory");
	NAME_OF("server-memory", "npx", "-y", "@modelcontextprotocol/server-memory@2026.8.31");
	NAME_OF("mcp_server_git", "/usr/bin/python3.12", "-m", "mcp_server_git", "--repository", ".");
	NAME_OF("mcp-server-fetch", "uvx", "mcp-server-fetch");
	NAME_OF("weather", "uv", "run", "--with", "mcp", "python", "/home/u/weather/server.py");
	NAME_OF("my-tool", "node", "/opt/my-tool/build/index.js");
	NAME_OF("github-mcp-server", "/usr/local/bin/github-mcp-server", "stdio");
	NAME_OF("node", "node");
	NAME_OF("we_rd_name", "we$rd name");
	/* bounded */
	NAME_OF("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	{
		char out[STDIO_CMD_MAX + 1] = "x";

		stdio_command_name("", 0, out);
		assert_string_equal(out, "");
		stdio_command_name("node", 4, out); /* not NUL-terminated */
		assert_string_equal(out, "");
	}
}

/* --- the parser through stream/ --- */

#define MAX_SEEN 64

struct seen {
	int kind;
	int dir;
	int observer;
	int transport;
	uint32_t tgid;
	uint64_t ts;
	char id[JSONRPC_ID_MAX];
	char method[MCP_STR_MAX];
	char label[sizeof(((struct mcp_endpoint *)0)->label)];
};

struct rec {
	struct seen msgs[MAX_SEEN];
	int n;
	int ends;
	char errors[256];
};

static void rec_message(void *arg, const struct mcp_wire_ctx *ctx, const struct jsonrpc_msg *m)
{
	struct rec *r = arg;
	struct seen *s;

	assert_true(r->n < MAX_SEEN);
	s = &r->msgs[r->n++];
	s->kind = m->kind;
	s->dir = ctx->dir;
	s->observer = ctx->observer;
	s->transport = ctx->transport;
	s->tgid = ctx->tgid;
	s->ts = ctx->ts_ns;
	snprintf(s->id, sizeof(s->id), "%s", m->id.text);
	snprintf(s->method, sizeof(s->method), "%s", m->method.s);
	snprintf(s->label, sizeof(s->label), "%s", ctx->server.label);
	assert_string_equal(ctx->session, "");
	assert_int_equal(ctx->exchange, 0);
}

static void rec_session_end(void *arg, const struct mcp_wire_ctx *ctx)
{
	struct rec *r = arg;

	r->ends++;
}

static void rec_parse_error(void *arg, const struct mcp_wire_ctx *ctx, const char *reason)
{
	struct rec *r = arg;

	strncat(r->errors, reason, sizeof(r->errors) - strlen(r->errors) - 2);
	strcat(r->errors, ",");
}

static const struct stream_key SRV_IN = { .tgid = SRV_TGID, .fd = 0, .gen = 1 };
static const struct stream_key SRV_OUT = { .tgid = SRV_TGID, .fd = 1, .gen = 2 };

static struct stream_table *table(const struct proto_sink *sink, uint32_t max_body)
{
	struct stream_config cfg = { .max_conns = 64, .max_body = max_body };

	return stream_table_new(&cfg, sink);
}

static void open_fd(struct stream_table *st, const struct stream_key *k, uint32_t family)
{
	struct stream_conn_info info = { .family = family, .tgid = k->tgid };

	snprintf(info.comm, sizeof(info.comm), "node");
	stream_open(st, k, &info, T0);
}

/* Feeds s to one direction of k in pieces of `step` bytes (0: at `split`
 * only), each piece a syscall 1 ms after the last. */
static void feed(struct stream_table *st, const struct stream_key *k, enum stream_dir dir,
		 uint64_t *off, const char *s, size_t step, size_t split, uint64_t *ts)
{
	size_t len = strlen(s), pos = 0;

	while (pos < len) {
		size_t n = step ? step : (pos < split ? split - pos : len - pos);

		if (n > len - pos)
			n = len - pos;
		*ts += MS;
		stream_data(st, k, dir, *off, (const uint8_t *)s + pos, n, 0, *ts);
		*off += n;
		pos += n;
	}
}

static const char REQS[] =
	"{\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\","
	"\"clientInfo\":{\"name\":\"c\",\"version\":\"1\"}},\"jsonrpc\":\"2.0\",\"id\":0}\n"
	"{\"method\":\"notifications/initialized\",\"jsonrpc\":\"2.0\"}\n"
	"\r\n"
	"{\"method\":\"tools/call\",\"params\":{\"name\":\"read_graph\",\"arguments\":{"
	"\"s\":\"a \\n b {\"}},\"jsonrpc\":\"2.0\",\"id\":1}\r\n"
	"{\"jsonrpc\":\"2.0\",\"id\":\"two\",\"method\":\"ping\"}\n";

/* Everything of REQS, fed whole, at every split point, one byte at a time. */
static void test_split(void **state)
{
	size_t len = strlen(REQS);

	(void)state;
	for (size_t mode = 0; mode <= len + 1; mode++) {
		struct rec r = { 0 };
		struct proto_sink sink = { rec_message, rec_session_end, rec_parse_error, &r };
		struct stream_table *st = table(&sink, 0);
		uint64_t off = 0, ts = T0;

		open_fd(st, &SRV_IN, MW_FAM_UNIX);
		if (mode == len + 1)
			feed(st, &SRV_IN, STREAM_RECV, &off, REQS, 1, 0, &ts);
		else
			feed(st, &SRV_IN, STREAM_RECV, &off, REQS, 0, mode, &ts);
		assert_int_equal(r.n, 4);
		assert_string_equal(r.msgs[0].method, "initialize");
		assert_string_equal(r.msgs[0].id, "0");
		assert_int_equal(r.msgs[0].kind, JSONRPC_REQUEST);
		assert_int_equal(r.msgs[1].kind, JSONRPC_NOTIFICATION);
		assert_string_equal(r.msgs[2].method, "tools/call");
		assert_string_equal(r.msgs[3].id, "two");
		for (int i = 0; i < 4; i++) {
			assert_int_equal(r.msgs[i].dir, MCP_C2S);
			assert_int_equal(r.msgs[i].observer, MCP_OBS_SERVER);
			assert_int_equal(r.msgs[i].transport, MCP_TRANSPORT_STDIO);
			assert_int_equal(r.msgs[i].tgid, SRV_TGID);
			/* no /proc entry: the process name */
			assert_string_equal(r.msgs[i].label, "stdio:node");
		}
		assert_string_equal(r.errors, "");
		stream_close(st, &SRV_IN, ts);
		assert_int_equal(r.ends, 1);
		stream_table_free(st);
	}
}

/* The message completes with the syscall that brings its last byte. */
static void test_timestamps(void **state)
{
	struct rec r = { 0 };
	struct proto_sink sink = { rec_message, rec_session_end, rec_parse_error, &r };
	struct stream_table *st = table(&sink, 0);
	const char *a = "{\"id\":1,\"jsonrpc\":\"2.0\",\"result\":{}}\n{\"id\":2,\"jsonrpc\"";
	const char *b = ":\"2.0\",\"result\":{}}\n";

	(void)state;
	open_fd(st, &SRV_OUT, MW_FAM_PIPE);
	stream_data(st, &SRV_OUT, STREAM_SEND, 0, (const uint8_t *)a, strlen(a), 0, T0 + 5 * MS);
	stream_data(st, &SRV_OUT, STREAM_SEND, strlen(a), (const uint8_t *)b, strlen(b), 0,
		    T0 + 9 * MS);
	/* the other direction of fd 1 is not MCP */
	stream_data(st, &SRV_OUT, STREAM_RECV, 0, (const uint8_t *)a, strlen(a), 0, T0 + 10 * MS);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.msgs[0].ts, T0 + 5 * MS);
	assert_int_equal(r.msgs[1].ts, T0 + 9 * MS);
	assert_int_equal(r.msgs[1].dir, MCP_S2C);
	/* stdout closing is no session end */
	stream_close(st, &SRV_OUT, T0 + 20 * MS);
	assert_int_equal(r.ends, 0);
	stream_table_free(st);
}

static void test_too_large_and_gap(void **state)
{
	struct rec r = { 0 };
	struct proto_sink sink = { rec_message, rec_session_end, rec_parse_error, &r };
	struct stream_table *st = table(&sink, 64);
	char big[200];
	uint64_t off = 0, ts = T0;
	const char *ok1 = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n";
	const char *ok2 = "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\n";

	(void)state;
	open_fd(st, &SRV_IN, MW_FAM_PIPE);
	feed(st, &SRV_IN, STREAM_RECV, &off, ok1, 0, 0, &ts);
	/* a 150-byte line with max_body 64, split over reads */
	memset(big, 0, sizeof(big));
	strcpy(big, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"x\":\"");
	memset(big + strlen(big), 'a', 150 - strlen(big));
	strcat(big, "\"}}\n");
	feed(st, &SRV_IN, STREAM_RECV, &off, big, 7, 0, &ts);
	feed(st, &SRV_IN, STREAM_RECV, &off, ok2, 0, 0, &ts);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.msgs[1].id, "2");
	assert_string_equal(r.errors, "too_large,");

	/* lost bytes in the middle of a line: the rest of it is skipped, the
	 * next line parses */
	feed(st, &SRV_IN, STREAM_RECV, &off, "{\"jsonrpc\":\"2.0\",\"id\":3,", 0, 0, &ts);
	off += 10;
	feed(st, &SRV_IN, STREAM_RECV, &off, "\"method\":\"ping\"}\n", 0, 0, &ts);
	feed(st, &SRV_IN, STREAM_RECV, &off, ok1, 0, 0, &ts);
	assert_int_equal(r.n, 3);
	assert_string_equal(r.msgs[2].id, "1");
	assert_string_equal(r.errors, "too_large,gap,");

	/* a line that is not JSON on a stream known to carry MCP */
	feed(st, &SRV_IN, STREAM_RECV, &off, "oops\n{\"x\":1}\n", 0, 0, &ts);
	assert_string_equal(r.errors, "too_large,gap,json,not_jsonrpc,");
	stream_table_free(st);
}

/* A pipe that carries other JSON lines is neither counted nor an error, and
 * is given up on. */
static void test_not_mcp(void **state)
{
	struct rec r = { 0 };
	struct proto_sink sink = { rec_message, rec_session_end, rec_parse_error, &r };
	struct stream_table *st = table(&sink, 0);
	uint64_t off = 0, ts = T0;

	(void)state;
	open_fd(st, &SRV_OUT, MW_FAM_PIPE);
	for (int i = 0; i < 2 * STDIO_GIVE_UP; i++)
		feed(st, &SRV_OUT, STREAM_SEND, &off, "{\"id\":1,\"name\":\"x\"}\nplain text\n", 0, 0,
		     &ts);
	/* after giving up, even JSON-RPC is not looked at */
	feed(st, &SRV_OUT, STREAM_SEND, &off, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n", 0, 0,
	     &ts);
	assert_int_equal(r.n, 0);
	assert_string_equal(r.errors, "");
	stream_close(st, &SRV_OUT, ts);
	assert_int_equal(r.ends, 0);
	stream_table_free(st);
}

/* --- through mcp/: once, paired across the two fds --- */

static double value(struct metrics *m, const char *series)
{
	char *text = NULL;
	size_t len, n = strlen(series);
	double v = -1;

	assert_int_equal(metrics_render(m, &text, &len), 0);
	for (const char *p = text; (p = strstr(p, series)); p++) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ') {
			v = strtod(p + n + 1, NULL);
			break;
		}
	}
	free(text);
	return v;
}

#define SRV "server_name=\"memory-server\""

static void test_mcp_once_and_paired(void **state)
{
	struct metrics *m = metrics_new(NULL);
	struct mcp_state *s = mcp_new(NULL, m);
	struct stream_table *st = table(mcp_sink(s), 0);
	/* the client's ends of the two socketpairs, if a source reported them */
	const struct stream_key cli_out = { .tgid = CLI_TGID, .fd = 21, .gen = 3 };
	const struct stream_key cli_in = { .tgid = CLI_TGID, .fd = 23, .gen = 4 };
	const char *init = "{\"method\":\"initialize\",\"params\":{},\"jsonrpc\":\"2.0\",\"id\":0}\n";
	/* after the result, and in one read with the next request */
	const char *inited = "{\"method\":\"notifications/initialized\",\"jsonrpc\":\"2.0\"}\n"
			     "{\"method\":\"tools/call\",\"params\":{\"name\":\"read_graph\"},"
			     "\"jsonrpc\":\"2.0\",\"id\":1}\n";
	const char *init_res = "{\"result\":{\"protocolVersion\":\"2025-11-25\",\"serverInfo\":{"
			       "\"name\":\"memory-server\",\"version\":\"0.6.3\"}},\"jsonrpc\":\"2.0\","
			       "\"id\":0}\n";
	const char *call_res = "{\"result\":{\"content\":[]},\"jsonrpc\":\"2.0\",\"id\":1}\n";
	uint64_t in = 0, out = 0;

	(void)state;
	assert_non_null(st);
	open_fd(st, &SRV_IN, MW_FAM_UNIX);
	open_fd(st, &SRV_OUT, MW_FAM_UNIX);
	open_fd(st, &cli_out, MW_FAM_UNIX);
	open_fd(st, &cli_in, MW_FAM_UNIX);

#define WRITE(k, dir, offp, s, ms)                                                         \
	do {                                                                               \
		stream_data(st, &(k), dir, *(offp), (const uint8_t *)(s), strlen(s), 0,   \
			    T0 + (ms) * MS);                                               \
	} while (0)
	/* client writes (t), server reads (t+1), server answers (t+3), client
	 * reads (t+4): both ends of both pipes carry the same bytes */
	{
		uint64_t co = 0, ci = 0;

		WRITE(cli_out, STREAM_SEND, &co, init, 0);
		WRITE(SRV_IN, STREAM_RECV, &in, init, 1);
		in += strlen(init);
		co += strlen(init);
		WRITE(SRV_OUT, STREAM_SEND, &out, init_res, 3);
		WRITE(cli_in, STREAM_RECV, &ci, init_res, 4);
		out += strlen(init_res);
		ci += strlen(init_res);
		WRITE(cli_out, STREAM_SEND, &co, inited, 10);
		WRITE(SRV_IN, STREAM_RECV, &in, inited, 11);
		in += strlen(inited);
		WRITE(cli_in, STREAM_RECV, &ci, call_res, 16);
		WRITE(SRV_OUT, STREAM_SEND, &out, call_res, 15);
	}
	mcp_tick(s, T0 + 5000 * MS);
	assert_int_equal((int)value(m, "mcp_requests_total{" SRV ",method=\"initialize\",status=\"ok\"}"), 1);
	assert_int_equal((int)value(m, "mcp_requests_total{" SRV ",method=\"tools/call\",status=\"ok\"}"), 1);
	assert_int_equal((int)value(m, "mcp_notifications_total{" SRV
				     ",method=\"notifications/initialized\",direction=\"client_to_server\"}"), 1);
	/* measured at the server's syscalls: read at 11 ms, write at 15 ms */
	assert_true(value(m, "mcp_request_duration_seconds_sum{" SRV ",method=\"tools/call\"}") > 0.0039);
	assert_true(value(m, "mcp_request_duration_seconds_sum{" SRV ",method=\"tools/call\"}") < 0.0041);
	assert_int_equal((int)value(m, "mcp_requests_in_flight{" SRV "}"), 0);
	assert_int_equal((int)value(m, "mcp_sessions_active{" SRV ",transport=\"stdio\"}"), 1);
	assert_int_equal((int)value(m, "mcpwire_messages_deduplicated_total"), 0);
	assert_int_equal(mcp_pending_count(s), 0);

	/* a request the server never answers ends as cancelled when the client
	 * closes the server's stdin */
	WRITE(SRV_IN, STREAM_RECV, &in, "{\"method\":\"ping\",\"jsonrpc\":\"2.0\",\"id\":2}\n", 20);
	assert_int_equal(mcp_pending_count(s), 1);
	stream_close(st, &SRV_IN, T0 + 30 * MS);
	assert_int_equal((int)value(m, "mcp_sessions_active{" SRV ",transport=\"stdio\"}"), 0);
	assert_int_equal((int)value(m, "mcp_requests_total{" SRV ",method=\"ping\",status=\"cancelled\"}"), 1);
	assert_int_equal(mcp_pending_count(s), 0);
#undef WRITE
	stream_table_free(st);
	mcp_free(s);
	metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_command_name),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_too_large_and_gap),
		cmocka_unit_test(test_not_mcp),
		cmocka_unit_test(test_mcp_once_and_paired),
	};

	return cmocka_run_group_tests_name("stdio", tests, NULL, NULL);
}
