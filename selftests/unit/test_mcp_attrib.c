// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attribution as mcp/ and calllog/ use it (mcp.h "Attribution"): the
 * container, pod and namespace labels of mcp_server_info, the container's
 * name for a network server that never named itself, pending requests and
 * gauges moving with the name, serverInfo.name winning, stdio and host
 * processes left alone; the call log's container keys. The identity source
 * is a table in this file, as the resolver's cache would answer.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "calllog/calllog.h"
#include "mcp/mcp.h"
#include "metrics/metrics.h"
#include "proto/msg.h"
#include "mcp_msgs.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define T0 (1000 * SEC)
#define EP "127.0.0.1:3001"

/* What the source answers for pid 4242 (mcp_msgs' server), and how often
 * it was asked. */
struct source {
	int known;
	struct mcp_identity id;
	unsigned asked;
};

static int lookup(void *arg, uint32_t tgid, struct mcp_identity *out)
{
	struct source *s = arg;

	s->asked++;
	if (tgid != 4242 || !s->known)
		return 0;
	*out = s->id;
	return 1;
}

struct fixture {
	struct metrics *m;
	struct mcp_state *s;
	const struct proto_sink *sink;
	struct source src;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct mcp_identity_source is = { .lookup = lookup, .arg = &f->src };

	f->m = metrics_new(NULL);
	f->s = mcp_new(NULL, f->m);
	f->sink = mcp_sink(f->s);
	mcp_set_identity_source(f->s, &is);
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

static void place(struct fixture *f, const char *container, int named, const char *pod,
		  const char *ns)
{
	f->src.known = 1;
	memset(&f->src.id, 0, sizeof(f->src.id));
	snprintf(f->src.id.container, sizeof(f->src.id.container), "%s", container);
	f->src.id.container_named = (uint8_t)named;
	snprintf(f->src.id.pod, sizeof(f->src.id.pod), "%s", pod);
	snprintf(f->src.id.ns, sizeof(f->src.id.ns), "%s", ns);
}

static struct mcp_wire_ctx at(double ms, uint8_t dir)
{
	return mcp_msgs_ctx(T0 + (uint64_t)(ms * MS), dir, "S", 0);
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
	f->sink->message(f->sink->arg, c, &m);
}

static double value(struct fixture *f, const char *series)
{
	char *text = NULL;
	size_t len, n = strlen(series);
	double v = -1;

	assert_int_equal(metrics_render(f->m, &text, &len), 0);
	for (const char *p = text; (p = strstr(p, series)); p++) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ') {
			v = strtod(p + n + 1, NULL);
			break;
		}
	}
	if (v < 0 && getenv("VERBOSE"))
		fprintf(stderr, "%s\n", text);
	free(text);
	return v;
}

#define INFO(server, version, protocol, container, pod, ns)                                       \
	"mcp_server_info{server_name=\"" server "\",server_version=\"" version                    \
	"\",protocol_version=\"" protocol "\",transport=\"streamable_http\",container=\"" container \
	"\",pod=\"" pod "\",namespace=\"" ns "\"}"
#define INFLIGHT(server) "mcp_requests_in_flight{server_name=\"" server "\"}"
#define REQ(server, method, status)                                                         \
	"mcp_requests_total{server_name=\"" server "\",method=\"" method "\",status=\"" status \
	"\"}"

/* mcpwire joined mid-session: the resolver answers only after the first
 * request; the server takes its container's name from the next message on,
 * and the request pending under "<ip>:<port>" moves with it. */
static void joined_named_by_container(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c;

	c = at(0, MCP_C2S);
	mcp_msgs_request(f->sink, &c, "tools/call", JSONRPC_ID_NUM, "7", "echo", NULL);
	assert_int_equal(f->src.asked, 1);
	assert_float_equal(value(f, INFLIGHT(EP)), 1, 0);
	place(f, "mcp-everything-1", 1, "", "");
	c = at(1, MCP_C2S);
	mcp_msgs_request(f->sink, &c, "ping", JSONRPC_ID_NUM, "8", NULL, NULL);
	assert_float_equal(value(f, INFLIGHT("mcp-everything-1")), 2, 0);
	/* the fallback's gauge, at 0, is retired */
	assert_float_equal(value(f, INFLIGHT(EP)), -1, 0);
	c = at(5, MCP_S2C);
	mcp_msgs_result(f->sink, &c, JSONRPC_ID_NUM, "7", 0);
	mcp_msgs_result(f->sink, &c, JSONRPC_ID_NUM, "8", 0);
	assert_float_equal(value(f, REQ("mcp-everything-1", "tools/call", "ok")), 1, 0);
	assert_float_equal(value(f, REQ("mcp-everything-1", "ping", "ok")), 1, 0);
	assert_float_equal(value(f, INFO("mcp-everything-1", "", "", "mcp-everything-1", "", "")), 1, 0);
	/* once known, the same process is not asked again for a while */
	assert_int_equal(f->src.asked, 2);
	c = at(5000 + 1, MCP_C2S);
	mcp_msgs_request(f->sink, &c, "ping", JSONRPC_ID_NUM, "9", NULL, NULL);
	assert_int_equal(f->src.asked, 3);
}

/* serverInfo.name beats the container's name; the info series then has
 * both the version and the container. */
static void initialize_wins_over_container(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c;

	place(f, "mcp-everything-1", 1, "", "");
	c = at(0, MCP_C2S);
	mcp_msgs_request(f->sink, &c, "initialize", JSONRPC_ID_NUM, "0", NULL, NULL);
	assert_float_equal(value(f, INFLIGHT("mcp-everything-1")), 1, 0);
	c = at(2, MCP_S2C);
	init_result(f, &c, "0", "mcp-servers/everything", "2.0.0");
	assert_float_equal(value(f, REQ("mcp-servers/everything", "initialize", "ok")), 1, 0);
	assert_float_equal(value(f, INFO("mcp-servers/everything", "2.0.0", "2025-11-25",
					 "mcp-everything-1", "", "")), 1, 0);
	/* the container's name stood in for the address: retired like it */
	assert_float_equal(value(f, INFLIGHT("mcp-everything-1")), -1, 0);
	assert_float_equal(value(f, INFO("mcp-everything-1", "", "", "mcp-everything-1", "", "")), -1, 0);
}

/* Named first, placed later (a pod whose names the kubelet gave after a
 * retry): the info series gains the labels, the name stays. */
static void placed_after_initialize(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c;

	c = at(0, MCP_C2S);
	mcp_msgs_request(f->sink, &c, "initialize", JSONRPC_ID_NUM, "0", NULL, NULL);
	c = at(2, MCP_S2C);
	init_result(f, &c, "0", "named", "1.0");
	assert_float_equal(value(f, INFO("named", "1.0", "2025-11-25", "", "", "")), 1, 0);
	place(f, "0123456789ab", 0, "", "");
	c = at(3, MCP_C2S);
	mcp_msgs_request(f->sink, &c, "ping", JSONRPC_ID_NUM, "1", NULL, NULL);
	assert_float_equal(value(f, INFO("named", "1.0", "2025-11-25", "0123456789ab", "", "")), 1, 0);
	assert_float_equal(value(f, INFO("named", "1.0", "2025-11-25", "", "", "")), -1, 0);
	/* the kubelet answers later: rechecked after MCP_IDENTITY_RECHECK_NS */
	place(f, "server", 1, "mcp-everything-7d9f8b6c5-x2x4q", "mcp");
	c = at(4, MCP_C2S);
	mcp_msgs_request(f->sink, &c, "ping", JSONRPC_ID_NUM, "2", NULL, NULL);
	assert_float_equal(value(f, INFO("named", "1.0", "2025-11-25", "0123456789ab", "", "")), 1, 0);
	c = at(6000, MCP_C2S);
	mcp_msgs_request(f->sink, &c, "ping", JSONRPC_ID_NUM, "3", NULL, NULL);
	assert_float_equal(value(f, INFO("named", "1.0", "2025-11-25", "0123456789ab", "", "")), -1, 0);
	assert_float_equal(value(f, INFO("named", "1.0", "2025-11-25", "server",
					 "mcp-everything-7d9f8b6c5-x2x4q", "mcp")), 1, 0);
	assert_float_equal(value(f, INFLIGHT("named")), 3, 0);
	assert_float_equal(value(f, INFLIGHT("server")), -1, 0);
}

/* A short id is a label, never a name; a host process changes nothing; a
 * stdio server keeps "stdio:<command>" (one container runs several). */
static void short_id_host_and_stdio(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c;

	place(f, "0123456789ab", 0, "", "");
	c = at(0, MCP_C2S);
	mcp_msgs_request(f->sink, &c, "ping", JSONRPC_ID_NUM, "1", NULL, NULL);
	assert_float_equal(value(f, INFLIGHT(EP)), 1, 0);
	assert_float_equal(value(f, INFO(EP, "", "", "0123456789ab", "", "")), 1, 0);

	place(f, "", 0, "", "");
	c = at(6000, MCP_C2S);
	mcp_msgs_request(f->sink, &c, "ping", JSONRPC_ID_NUM, "2", NULL, NULL);
	/* back on the host: no series made of nothing */
	assert_float_equal(value(f, INFO(EP, "", "", "0123456789ab", "", "")), -1, 0);
	assert_float_equal(value(f, INFO(EP, "", "", "", "", "")), -1, 0);

	place(f, "tools-box", 1, "", "");
	c = at(7000, MCP_C2S);
	c.transport = MCP_TRANSPORT_STDIO;
	c.server.family = 0;
	c.session[0] = '\0';
	snprintf(c.server.label, sizeof(c.server.label), "stdio:npx");
	mcp_msgs_request(f->sink, &c, "ping", JSONRPC_ID_NUM, "3", NULL, NULL);
	assert_float_equal(value(f, "mcp_requests_in_flight{server_name=\"stdio:npx\"}"), 1, 0);
	assert_float_equal(value(f, "mcp_requests_in_flight{server_name=\"tools-box\"}"), -1, 0);
}

/* Only the server's own socket says which process is the server. */
static void client_side_not_asked(void **state)
{
	struct fixture *f = *state;
	struct mcp_wire_ctx c = at(0, MCP_C2S);

	place(f, "mcp-everything-1", 1, "", "");
	c.observer = MCP_OBS_CLIENT;
	mcp_msgs_request(f->sink, &c, "ping", JSONRPC_ID_NUM, "1", NULL, NULL);
	assert_int_equal(f->src.asked, 0);
}

/* The call log: container keys for the server and the client process,
 * only when known. */
static void calllog_keys(void **state)
{
	struct source src = { 0 };
	struct mcp_identity_source is = { .lookup = lookup, .arg = &src };
	struct mcp_call_record r = {
		.start_ns = T0, .end_ns = T0 + MS, .server = "s", .endpoint = EP,
		.method = "ping", .target = "", .session = "",
		.server_pid = 4242, .server_comm = "node",
	};
	char err[128];
	struct calllog *l = calllog_open("/dev/null", 0, err, sizeof(err));
	json_t *o;
	char *s;

	assert_non_null(l);
	s = calllog_format(l, &r);
	assert_null(strstr(s, "container"));
	free(s);
	calllog_set_identity_source(l, &is);
	s = calllog_format(l, &r);
	assert_null(strstr(s, "container"));
	free(s);
	src.known = 1;
	snprintf(src.id.container, sizeof(src.id.container), "server");
	snprintf(src.id.pod, sizeof(src.id.pod), "p-1");
	snprintf(src.id.ns, sizeof(src.id.ns), "mcp");
	s = calllog_format(l, &r);
	o = json_loads(s, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(o, "container")), "server");
	assert_string_equal(json_string_value(json_object_get(o, "pod")), "p-1");
	assert_string_equal(json_string_value(json_object_get(o, "namespace")), "mcp");
	assert_null(json_object_get(o, "client_container"));
	json_decref(o);
	free(s);
	/* the client's process, when only the client is on this host */
	r.server_pid = 0;
	r.client_pid = 4242;
	r.client_comm = "node";
	src.id.pod[0] = src.id.ns[0] = '\0';
	s = calllog_format(l, &r);
	o = json_loads(s, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(o, "client_container")), "server");
	assert_null(json_object_get(o, "client_pod"));
	assert_null(json_object_get(o, "container"));
	json_decref(o);
	free(s);
	calllog_close(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(joined_named_by_container, setup, teardown),
		cmocka_unit_test_setup_teardown(initialize_wins_over_container, setup, teardown),
		cmocka_unit_test_setup_teardown(placed_after_initialize, setup, teardown),
		cmocka_unit_test_setup_teardown(short_id_host_and_stdio, setup, teardown),
		cmocka_unit_test_setup_teardown(client_side_not_asked, setup, teardown),
		cmocka_unit_test(calllog_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
