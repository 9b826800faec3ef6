// SPDX-License-Identifier: GPL-2.0-only
/*
 * metrics/ — the mcpwire metric families, label caps and snapshot
 * publication.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/api.h"
#include "metrics/expo.h"
#include "metrics/labels.h"
#include "metrics/metrics.h"
#include "metrics/registry.h"

#include "version.h"

enum {
	F_REQUESTS,
	F_TOOL_CALLS,
	F_REQUEST_ERRORS,
	F_NOTIFICATIONS,
	F_REQUEST_DURATION,
	F_TOOL_DURATION,
	F_CLIENT_REQUEST_DURATION,
	F_CLIENT_TOOL_DURATION,
	F_SERVER_INFO,
	F_SESSIONS,
	F_IN_FLIGHT,
	F_LAST_SEEN,
	F_BUILD_INFO,
	F_KERNEL_INFO,
	F_EVENTS_LOST,
	F_PARSE_ERRORS,
	F_LABEL_OVERFLOW,
	F_EXPIRED,
	F_DEDUP,
	F_EVICTIONS,
	F_CALL_LOG_ERRORS,
	F_ATTRIB_ERRORS,
	F_SCOPE_NAMESPACES,
	F_SCOPE_RESCANS,
	F_SCOPE_FILTERED,
	/* network side (userspace/netobs/, docs/network.md) */
	F_NET_RTT,
	F_NET_BYTES,
	F_NET_PACKETS,
	F_NET_RETRANSMITS,
	F_NET_RESETS,
	F_NET_UNATTRIBUTED,
	F_COUNT,
};

/* Families with few, internally chosen label values (reasons, tables) get
 * this many series at most, in case a caller passes something unexpected. */
#define METRICS_SMALL_FAMILY 64

static const struct metrics_family_def {
	const char *name;
	const char *help;
	uint8_t type;
	uint8_t nlabels;
	uint8_t small;
	const char *labels[METRICS_MAX_LABELS];
} metrics_defs[F_COUNT] = {
	[F_REQUESTS] = { "mcp_requests_total", "MCP requests finished, by outcome.",
			 METRICS_COUNTER, 3, 0, { "server_name", "method", "status" } },
	[F_TOOL_CALLS] = { "mcp_tool_calls_total", "MCP tools/call requests finished, by tool.",
			   METRICS_COUNTER, 3, 0, { "server_name", "tool_name", "status" } },
	[F_REQUEST_ERRORS] = { "mcp_request_errors_total",
			       "MCP requests finished with status error, by error code.",
			       METRICS_COUNTER, 3, 0, { "server_name", "method", "error_code" } },
	[F_NOTIFICATIONS] = { "mcp_notifications_total", "MCP notifications seen.",
			      METRICS_COUNTER, 3, 0, { "server_name", "method", "direction" } },
	[F_REQUEST_DURATION] = { "mcp_request_duration_seconds",
				 "Time from an MCP request to its response or cancellation.",
				 METRICS_HISTOGRAM, 2, 0, { "server_name", "method" } },
	[F_TOOL_DURATION] = { "mcp_tool_call_duration_seconds",
			      "Time from a tools/call request to its response or cancellation.",
			      METRICS_HISTOGRAM, 2, 0, { "server_name", "tool_name" } },
	[F_CLIENT_REQUEST_DURATION] = { "mcp_client_request_duration_seconds",
					"Time from an MCP request to its response, measured at the "
					"client's socket.",
					METRICS_HISTOGRAM, 2, 0, { "server_name", "method" } },
	[F_CLIENT_TOOL_DURATION] = { "mcp_client_tool_call_duration_seconds",
				     "Time from a tools/call request to its response, measured at "
				     "the client's socket.",
				     METRICS_HISTOGRAM, 2, 0, { "server_name", "tool_name" } },
	[F_SERVER_INFO] = { "mcp_server_info",
			    "MCP server identity from its initialize result, and the container, "
			    "pod and namespace its process runs in.",
			    METRICS_GAUGE, 7, 0,
			    { "server_name", "server_version", "protocol_version", "transport",
			      "container", "pod", "namespace" } },
	[F_SESSIONS] = { "mcp_sessions_active", "MCP sessions open.", METRICS_GAUGE, 2, 0,
			 { "server_name", "transport" } },
	[F_IN_FLIGHT] = { "mcp_requests_in_flight", "MCP requests awaiting a response.",
			  METRICS_GAUGE, 1, 0, { "server_name" } },
	[F_LAST_SEEN] = { "mcp_server_last_seen_timestamp_seconds",
			  "Wall-clock time of the last MCP message seen for the server, in seconds "
			  "since the epoch.",
			  METRICS_GAUGE, 1, 0, { "server_name" } },
	[F_BUILD_INFO] = { "mcpwire_build_info", "mcpwire version.", METRICS_GAUGE, 1, 1,
			   { "version" } },
	[F_KERNEL_INFO] = { "mcpwire_kernel_info",
			    "Kernel release and the features mcpwire probed on it at start-up.",
			    METRICS_GAUGE, 2, 1, { "release", "features" } },
	[F_EVENTS_LOST] = { "mcpwire_events_lost_total",
			    "Capture events the kernel side dropped, by reason.",
			    METRICS_COUNTER, 1, 1, { "reason" } },
	[F_PARSE_ERRORS] = { "mcpwire_parse_errors_total",
			     "Input the protocol parsers could not understand, by reason.",
			     METRICS_COUNTER, 1, 1, { "reason" } },
	[F_LABEL_OVERFLOW] = { "mcpwire_label_overflow_total",
			       "Label values replaced by __other__ (caps, truncation, unknown "
			       "methods), by label.",
			       METRICS_COUNTER, 1, 1, { "label" } },
	[F_EXPIRED] = { "mcpwire_requests_expired_total",
			"Requests given up on after the request timeout without a response.",
			METRICS_COUNTER, 1, 0, { "server_name" } },
	[F_DEDUP] = { "mcpwire_messages_deduplicated_total",
		      "Messages seen by both the client's and the server's socket, counted once.",
		      METRICS_COUNTER, 0, 1, { NULL } },
	[F_EVICTIONS] = { "mcpwire_table_evictions_total",
			  "Entries evicted from full bounded tables, by table.", METRICS_COUNTER, 1,
			  1, { "table" } },
	[F_CALL_LOG_ERRORS] = { "mcpwire_call_log_errors_total",
				"Call log records dropped because they could not be encoded or "
				"written.",
				METRICS_COUNTER, 0, 1, { NULL } },
	[F_ATTRIB_ERRORS] = { "mcpwire_attribution_errors_total",
			      "Process-to-container look-ups that failed, by reason.",
			      METRICS_COUNTER, 1, 1, { "reason" } },
	[F_SCOPE_NAMESPACES] = { "mcpwire_scope_namespaces",
				 "Network namespaces in scope of --network/--bridge (behind a "
				 "port of the bridge).",
				 METRICS_GAUGE, 0, 1, { NULL } },
	[F_SCOPE_RESCANS] = { "mcpwire_scope_rescans_total",
			      "Scans of the bridge's ports and namespaces, by what started them.",
			      METRICS_COUNTER, 1, 1, { "trigger" } },
	[F_SCOPE_FILTERED] = { "mcpwire_scope_connections_filtered_total",
			       "Connections left out because their network namespace was out of "
			       "scope when they opened or later left it.",
			       METRICS_COUNTER, 0, 1, { NULL } },
	[F_NET_RTT] = { "mcp_network_rtt_seconds",
			"TCP handshake round-trip time of connections to the MCP server, seen on "
			"the container network's veths.",
			METRICS_HISTOGRAM, 1, 0, { "server_name" } },
	[F_NET_BYTES] = { "mcp_network_bytes_total",
			  "IP bytes of the MCP server's TCP connections on the container network, "
			  "by direction.",
			  METRICS_COUNTER, 2, 0, { "server_name", "direction" } },
	[F_NET_PACKETS] = { "mcp_network_packets_total",
			    "TCP segments of the MCP server's connections on the container network, "
			    "by direction.",
			    METRICS_COUNTER, 2, 0, { "server_name", "direction" } },
	[F_NET_RETRANSMITS] = { "mcp_network_retransmits_total",
				"TCP segments of the MCP server's connections whose sequence range "
				"was already seen.",
				METRICS_COUNTER, 1, 0, { "server_name" } },
	[F_NET_RESETS] = { "mcp_network_resets_total",
			   "TCP segments with RST on the MCP server's connections.",
			   METRICS_COUNTER, 1, 0, { "server_name" } },
	[F_NET_UNATTRIBUTED] = { "mcpwire_network_endpoints_unattributed",
				 "TCP server endpoints on the container network not exported because "
				 "no MCP traffic was seen for them.",
				 METRICS_GAUGE, 0, 1, { NULL } },
};

static const char *const metrics_transports[] = { "streamable_http", "sse", "stdio" };
static const char *const metrics_dirs[] = { "client_to_server", "server_to_client" };
/* The fixed reason set of proto_sink.parse_error (proto/msg.h). */
static const char *const metrics_parse_reasons[] = {
	"http", "chunked", "decompress", "sse", "json", "not_jsonrpc", "too_large", "gap",
};
static const char *const metrics_statuses[] = { "ok", "error", "cancelled" };

/* Series looked up by label ids rather than label strings (see
 * metrics_get_ids); direct-mapped, a power of two. */
#define METRICS_CACHE_SIZE 256

struct metrics_cached {
	struct metrics_series *s; /* NULL: empty */
	uint32_t key[4];	  /* family, then up to three label ids */
};

struct metrics {
	struct metrics_config cfg;
	struct metrics_family fam[F_COUNT];
	struct metrics_strset servers;	   /* id 0 is METRICS_OTHER */
	struct metrics_strset tools;	   /* owner: server id */
	uint32_t *tools_per_server;	   /* indexed by server id */
	struct metrics_strset error_codes; /* owner 0 */
	uint64_t gen;			   /* bumped by every change */
	uint64_t published_gen;
	struct metrics_cached cache[METRICS_CACHE_SIZE];

	/* mcp_server_last_seen_timestamp_seconds: capture times per server id,
	 * written per message, turned into series at publication */
	uint64_t *seen_ns;
	uint64_t *seen_pub;	 /* seen_ns as last published */
	uint64_t msg_ns;	 /* the message being processed (metrics_seen) */
	int64_t clock_off_ns;	 /* CLOCK_REALTIME − CLOCK_MONOTONIC */
	int clock_pinned;
	double start_time;

	/* the last finished calls, for /api/v1/calls */
	struct metrics_call_rec {
		uint64_t end_ns;
		double seconds;
		int64_t err_value;
		uint32_t server, tool;
		uint16_t method;
		uint8_t status, err;
	} calls[METRICS_CALLS_RING];
	uint64_t calls_seq; /* calls counted so far; call n is calls[n % RING] */

	uint64_t api_until_ns; /* metrics_api_want(): render the API until then (atomic) */

	pthread_mutex_t lock; /* guards snap */
	struct metrics_snapshot *snap;
};

static uint64_t metrics_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int64_t metrics_clock_offset(void)
{
	struct timespec rt;
	uint64_t mono = metrics_mono_ns();

	clock_gettime(CLOCK_REALTIME, &rt);
	return (int64_t)((uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec - mono);
}

static double metrics_wall(const struct metrics *m, uint64_t mono_ns)
{
	return (double)((int64_t)mono_ns + m->clock_off_ns) / 1e9;
}

static void metrics_changed(struct metrics *m)
{
	m->gen++;
}

/* The series of family fi for these values, counting refusal as overflow of
 * the whole series (only reachable past max_series). */
static struct metrics_series *metrics_get(struct metrics *m, int fi, const char *const *vals)
{
	struct metrics_series *s = metrics_family_get(&m->fam[fi], vals);

	if (!s && fi != F_LABEL_OVERFLOW)
		metrics_label_overflow(m, "series");
	return s;
}

static void metrics_counter_add(struct metrics *m, int fi, const char *const *vals, double v)
{
	struct metrics_series *s = metrics_get(m, fi, vals);

	if (s)
		s->value += v;
	metrics_changed(m);
}

/*
 * metrics_get() for the families counted on every call, keyed by the label
 * ids the strings in vals come from (one id names one string), so a hit
 * hashes and compares no string. A refused series is not cached: each
 * refusal is counted. Removing a series empties the cache (metrics_remove).
 */
static struct metrics_series *metrics_get_ids(struct metrics *m, int fi, uint32_t a, uint32_t b,
					      uint32_t c, const char *const *vals)
{
	uint32_t h = (uint32_t)fi * 0x9e3779b1u ^ a * 0x85ebca6bu ^ b * 0xc2b2ae35u ^
		     c * 0x27d4eb2fu;
	struct metrics_cached *e = &m->cache[(h ^ h >> 15) & (METRICS_CACHE_SIZE - 1)];
	struct metrics_series *s;

	if (e->s && e->key[0] == (uint32_t)fi && e->key[1] == a && e->key[2] == b &&
	    e->key[3] == c)
		return e->s;
	s = metrics_get(m, fi, vals);
	if (s) {
		e->s = s;
		e->key[0] = fi;
		e->key[1] = a;
		e->key[2] = b;
		e->key[3] = c;
	}
	return s;
}

static void metrics_remove(struct metrics *m, int fi, struct metrics_series *s)
{
	metrics_family_remove(&m->fam[fi], s);
	memset(m->cache, 0, sizeof(m->cache));
}

/* Label ids as metrics_get_ids() keys: every id that names "__other__"
 * becomes the same one. */
static uint32_t metrics_server_key(const struct metrics *m, uint32_t server)
{
	return server < m->servers.count ? server : METRICS_SERVER_OTHER;
}

static uint32_t metrics_tool_key(const struct metrics *m, uint32_t tool)
{
	return tool < m->tools.count ? tool : METRICS_TOOL_OTHER;
}

static uint32_t metrics_method_key(uint16_t method)
{
	return method < metrics_method_count() ? method : METRICS_METHOD_OTHER;
}

void metrics_label_overflow(struct metrics *m, const char *label)
{
	const char *vals[] = { label };

	metrics_counter_add(m, F_LABEL_OVERFLOW, vals, 1);
}

/* Sanitised copy of a wire string into buf, or NULL (overflow). */
static const char *metrics_clean(char buf[METRICS_LABEL_MAX + 1], const char *s, int truncated)
{
	if (truncated || metrics_label_sanitize(buf, s, strlen(s)) < 0)
		return NULL;
	return buf;
}

/*
 * The resolvers look the wire string up as it is first: every interned value
 * is already clean, and a string equal to a clean one sanitises to itself, so
 * a hit is the id sanitising would find. Only a value not seen before pays
 * for metrics_label_sanitize().
 */
uint32_t metrics_server(struct metrics *m, const char *name, int truncated)
{
	char buf[METRICS_LABEL_MAX + 1];
	const char *v;
	int64_t id;

	if (!truncated) {
		id = metrics_strset_find(&m->servers, 0, name);
		if (id > 0)
			return (uint32_t)id;
	}
	v = metrics_clean(buf, name, truncated);
	if (v && strcmp(v, METRICS_OTHER)) {
		id = metrics_strset_add(&m->servers, 0, v);
		if (id > 0)
			return (uint32_t)id;
	}
	metrics_label_overflow(m, "server_name");
	return METRICS_SERVER_OTHER;
}

uint32_t metrics_tool(struct metrics *m, uint32_t server, const char *name, int truncated)
{
	char buf[METRICS_LABEL_MAX + 1];
	const char *v;
	int64_t id;

	if (!truncated && server < m->servers.count) {
		id = metrics_strset_find(&m->tools, server, name);
		if (id >= 0)
			return (uint32_t)id;
	}
	v = metrics_clean(buf, name, truncated);
	if (v && *v && strcmp(v, METRICS_OTHER) && server < m->servers.count) {
		id = metrics_strset_find(&m->tools, server, v);
		if (id >= 0)
			return (uint32_t)id;
		if (m->tools_per_server[server] < m->cfg.max_tools_per_server) {
			id = metrics_strset_add(&m->tools, server, v);
			if (id >= 0) {
				m->tools_per_server[server]++;
				return (uint32_t)id;
			}
		}
	}
	metrics_label_overflow(m, "tool_name");
	return METRICS_TOOL_OTHER;
}

uint16_t metrics_method(struct metrics *m, const char *method, int truncated)
{
	uint16_t idx = truncated ? METRICS_METHOD_OTHER : metrics_method_index(method);

	if (idx == METRICS_METHOD_OTHER)
		metrics_label_overflow(m, "method");
	return idx;
}

const char *metrics_server_name(const struct metrics *m, uint32_t server)
{
	return server < m->servers.count ? metrics_strset_str(&m->servers, server) : METRICS_OTHER;
}

const char *metrics_tool_name(const struct metrics *m, uint32_t tool)
{
	return tool < m->tools.count ? metrics_strset_str(&m->tools, tool) : METRICS_OTHER;
}

/* The error_code label value into buf. */
static const char *metrics_error_code(struct metrics *m, const struct metrics_call *c,
				      char *buf, size_t len)
{
	switch (c->err) {
	case METRICS_ERR_TOOL:
		return "tool_error";
	case METRICS_ERR_HTTP:
		snprintf(buf, len, "http_%" PRId64, c->err_value);
		break;
	case METRICS_ERR_JSONRPC:
		snprintf(buf, len, "%" PRId64, c->err_value);
		break;
	default:
		metrics_label_overflow(m, "error_code");
		return METRICS_OTHER;
	}
	/* JSON-RPC codes are any integer a server picks: cap the distinct ones */
	if (metrics_strset_add(&m->error_codes, 0, buf) < 0) {
		metrics_label_overflow(m, "error_code");
		return METRICS_OTHER;
	}
	return buf;
}

void metrics_call_done(struct metrics *m, const struct metrics_call *c)
{
	const char *server = metrics_server_name(m, c->server);
	const char *method = metrics_method_name(c->method);
	uint8_t st = c->status <= METRICS_STATUS_CANCELLED ? c->status : METRICS_STATUS_ERROR;
	const char *status = metrics_statuses[st];

	uint32_t sk = metrics_server_key(m, c->server), mk = metrics_method_key(c->method);
	struct metrics_series *s;

	s = metrics_get_ids(m, F_REQUESTS, sk, mk, st,
			    (const char *const[]){ server, method, status });
	if (s)
		s->value += 1;
	s = metrics_get_ids(m, F_REQUEST_DURATION, sk, mk, 0,
			    (const char *const[]){ server, method });
	if (s)
		metrics_series_observe(s, c->seconds < 0 ? 0 : c->seconds);
	if (c->status == METRICS_STATUS_ERROR) {
		char buf[32];
		const char *code = metrics_error_code(m, c, buf, sizeof(buf));

		metrics_counter_add(m, F_REQUEST_ERRORS,
				    (const char *const[]){ server, method, code }, 1);
	}
	if (c->method == METRICS_METHOD_TOOLS_CALL) {
		const char *tool = metrics_tool_name(m, c->tool);
		uint32_t tk = metrics_tool_key(m, c->tool);

		s = metrics_get_ids(m, F_TOOL_CALLS, sk, tk, st,
				    (const char *const[]){ server, tool, status });
		if (s)
			s->value += 1;
		s = metrics_get_ids(m, F_TOOL_DURATION, sk, tk, 0,
				    (const char *const[]){ server, tool });
		if (s)
			metrics_series_observe(s, c->seconds < 0 ? 0 : c->seconds);
	}
	/* ids, not strings: the ring costs a copy here, names are looked up
	 * at publication (ids stay valid for the registry's lifetime) */
	m->calls[++m->calls_seq % METRICS_CALLS_RING] = (struct metrics_call_rec){
		.end_ns = c->end_ns ? c->end_ns : m->msg_ns,
		.seconds = c->seconds < 0 ? 0 : c->seconds,
		.err_value = c->err_value,
		.server = sk,
		.tool = c->method == METRICS_METHOD_TOOLS_CALL ? c->tool : METRICS_TOOL_OTHER,
		.method = c->method,
		.status = st,
		.err = c->err,
	};
	metrics_changed(m);
}

void metrics_client_call_done(struct metrics *m, uint32_t server, uint16_t method, uint32_t tool,
			      double seconds)
{
	const char *sname = metrics_server_name(m, server);
	uint32_t sk = metrics_server_key(m, server), mk = metrics_method_key(method);
	struct metrics_series *s;

	if (seconds < 0)
		seconds = 0;
	s = metrics_get_ids(m, F_CLIENT_REQUEST_DURATION, sk, mk, 0,
			    (const char *const[]){ sname, metrics_method_name(method) });
	if (s)
		metrics_series_observe(s, seconds);
	if (method == METRICS_METHOD_TOOLS_CALL) {
		uint32_t tk = metrics_tool_key(m, tool);

		s = metrics_get_ids(m, F_CLIENT_TOOL_DURATION, sk, tk, 0,
				    (const char *const[]){ sname, metrics_tool_name(m, tool) });
		if (s)
			metrics_series_observe(s, seconds);
	}
	metrics_changed(m);
}

void metrics_seen(struct metrics *m, uint32_t server, uint64_t ts_ns)
{
	m->msg_ns = ts_ns;
	server = metrics_server_key(m, server);
	/* the dedup hold releases client-side copies late, with their own
	 * (older) time: last seen never goes back */
	if (ts_ns > m->seen_ns[server]) {
		m->seen_ns[server] = ts_ns;
		metrics_changed(m);
	}
}

void metrics_notification(struct metrics *m, uint32_t server, uint16_t method, int dir)
{
	const char *vals[] = { metrics_server_name(m, server), metrics_method_name(method),
			       metrics_dirs[dir ? 1 : 0] };
	struct metrics_series *s;

	s = metrics_get_ids(m, F_NOTIFICATIONS, metrics_server_key(m, server),
			    metrics_method_key(method), dir ? 1 : 0, vals);
	if (s)
		s->value += 1;
	metrics_changed(m);
}

void metrics_in_flight_add(struct metrics *m, uint32_t server, int delta)
{
	const char *vals[] = { metrics_server_name(m, server) };
	struct metrics_series *s = metrics_get_ids(m, F_IN_FLIGHT, metrics_server_key(m, server), 0,
						   0, vals);

	if (s)
		s->value += delta;
	metrics_changed(m);
}

static const char *metrics_transport_name(int transport)
{
	return transport >= 0 && transport < 3 ? metrics_transports[transport] : METRICS_OTHER;
}

void metrics_sessions_add(struct metrics *m, uint32_t server, int transport, int delta)
{
	const char *vals[] = { metrics_server_name(m, server), metrics_transport_name(transport) };
	uint32_t tk = transport >= 0 && transport < 3 ? (uint32_t)transport : 3;
	struct metrics_series *s = metrics_get_ids(m, F_SESSIONS, metrics_server_key(m, server), tk,
						   0, vals);

	if (s)
		s->value += delta;
	metrics_changed(m);
}

void metrics_server_retire(struct metrics *m, uint32_t server)
{
	const char *name = metrics_server_name(m, server);
	struct metrics_series *se;

	se = metrics_family_find(&m->fam[F_IN_FLIGHT], (const char *const[]){ name });
	if (se && se->value == 0)
		metrics_remove(m, F_IN_FLIGHT, se);
	for (int t = 0; t < 3; t++) {
		const char *vals[] = { name, metrics_transports[t] };

		se = metrics_family_find(&m->fam[F_SESSIONS], vals);
		if (se && se->value == 0)
			metrics_remove(m, F_SESSIONS, se);
	}
	se = metrics_family_find(&m->fam[F_LAST_SEEN], (const char *const[]){ name });
	if (se)
		metrics_remove(m, F_LAST_SEEN, se);
	server = metrics_server_key(m, server);
	m->seen_ns[server] = m->seen_pub[server] = 0;
	metrics_changed(m);
}

struct metrics_series *metrics_server_info_get(struct metrics *m, uint32_t server,
					       const char *version, int version_truncated,
					       const char *protocol, int protocol_truncated,
					       int transport, const struct metrics_placement *where)
{
	char vbuf[METRICS_LABEL_MAX + 1], pbuf[METRICS_LABEL_MAX + 1];
	char cbuf[METRICS_LABEL_MAX + 1], podbuf[METRICS_LABEL_MAX + 1], nbuf[METRICS_LABEL_MAX + 1];
	const char *v = metrics_clean(vbuf, version, version_truncated);
	const char *p = metrics_clean(pbuf, protocol, protocol_truncated);
	/* names from the Docker API and the kubelet, not the wire: bounded by
	 * their own limits, cleaned all the same */
	const char *c = metrics_clean(cbuf, where ? where->container : "", 0);
	const char *pod = metrics_clean(podbuf, where ? where->pod : "", 0);
	const char *ns = metrics_clean(nbuf, where ? where->ns : "", 0);
	struct metrics_series *s;

	if (!v) {
		metrics_label_overflow(m, "server_version");
		v = METRICS_OTHER;
	}
	if (!p) {
		metrics_label_overflow(m, "protocol_version");
		p = METRICS_OTHER;
	}
	s = metrics_get(m, F_SERVER_INFO,
			(const char *const[]){ metrics_server_name(m, server), v, p,
					       metrics_transport_name(transport), c ? c : "",
					       pod ? pod : "", ns ? ns : "" });
	if (s) {
		s->refs++;
		s->value = 1;
	}
	metrics_changed(m);
	return s;
}

void metrics_server_info_put(struct metrics *m, struct metrics_series *info)
{
	if (!info || --info->refs)
		return;
	metrics_remove(m, F_SERVER_INFO, info);
	metrics_changed(m);
}

void metrics_request_expired(struct metrics *m, uint32_t server)
{
	const char *vals[] = { metrics_server_name(m, server) };

	metrics_counter_add(m, F_EXPIRED, vals, 1);
}

void metrics_deduplicated(struct metrics *m, uint64_t n)
{
	metrics_counter_add(m, F_DEDUP, NULL, (double)n);
}

void metrics_table_eviction(struct metrics *m, const char *table)
{
	const char *vals[] = { table };

	metrics_counter_add(m, F_EVICTIONS, vals, 1);
}

void metrics_table_evictions_set(struct metrics *m, const char *table, uint64_t total)
{
	const char *vals[] = { table };
	struct metrics_series *s = metrics_get(m, F_EVICTIONS, vals);

	if (s && s->value != (double)total) {
		s->value = (double)total;
		metrics_changed(m);
	}
}

void metrics_events_lost_set(struct metrics *m, const char *reason, uint64_t total)
{
	char buf[METRICS_LABEL_MAX + 1];
	const char *vals[] = { metrics_clean(buf, reason, 0) };
	struct metrics_series *s;
	uint32_t before;

	if (!vals[0])
		return;
	before = m->fam[F_EVENTS_LOST].nseries;

	s = metrics_get(m, F_EVENTS_LOST, vals);
	/* called every poll: re-render only when something moved */
	if (s && ((double)total != s->value || before != m->fam[F_EVENTS_LOST].nseries)) {
		s->value = (double)total;
		metrics_changed(m);
	}
}

void metrics_kernel_info_set(struct metrics *m, const char *release, const char *features)
{
	const char *vals[] = { release, features };
	struct metrics_series *s = metrics_get(m, F_KERNEL_INFO, vals);

	if (s && s->value != 1) {
		s->value = 1;
		metrics_changed(m);
	}
}

void metrics_call_log_errors_set(struct metrics *m, uint64_t total)
{
	uint32_t before = m->fam[F_CALL_LOG_ERRORS].nseries;
	struct metrics_series *s = metrics_get(m, F_CALL_LOG_ERRORS, NULL);

	/* called every tick: re-render only when something moved */
	if (s && (s->value != (double)total || before != m->fam[F_CALL_LOG_ERRORS].nseries)) {
		s->value = (double)total;
		metrics_changed(m);
	}
}

/* Sets a series of a small family to v; re-renders only when it moved. */
static void metrics_small_set(struct metrics *m, int fi, const char *const *vals, double v)
{
	uint32_t before = m->fam[fi].nseries;
	struct metrics_series *s = metrics_get(m, fi, vals);

	if (s && (s->value != v || before != m->fam[fi].nseries)) {
		s->value = v;
		metrics_changed(m);
	}
}

void metrics_scope_set(struct metrics *m, uint32_t namespaces, const char *const *triggers,
		       const uint64_t *rescans, int ntriggers, uint64_t filtered)
{
	char buf[METRICS_LABEL_MAX + 1];

	metrics_small_set(m, F_SCOPE_NAMESPACES, NULL, namespaces);
	for (int i = 0; i < ntriggers; i++) {
		const char *vals[] = { metrics_clean(buf, triggers[i], 0) };

		if (vals[0])
			metrics_small_set(m, F_SCOPE_RESCANS, vals, (double)rescans[i]);
	}
	metrics_small_set(m, F_SCOPE_FILTERED, NULL, (double)filtered);
}

void metrics_attribution_errors_set(struct metrics *m, const char *reason, uint64_t total)
{
	const char *vals[] = { reason };

	metrics_small_set(m, F_ATTRIB_ERRORS, vals, (double)total);
}

void metrics_parse_error(struct metrics *m, const char *reason)
{
	char buf[METRICS_LABEL_MAX + 1];
	const char *vals[] = { metrics_clean(buf, reason, 0) };

	if (vals[0])
		metrics_counter_add(m, F_PARSE_ERRORS, vals, 1);
}

_Static_assert(sizeof(((struct metrics_net_delta *)0)->rtt_buckets) / sizeof(uint64_t) ==
		       METRICS_NBUCKETS,
	       "metrics_net_delta buckets");

void metrics_network_add(struct metrics *m, uint32_t server, const struct metrics_net_delta *d)
{
	const char *name = metrics_server_name(m, server);
	struct metrics_series *s;

	for (int dir = 0; dir < 2; dir++) {
		const char *vals[] = { name, metrics_dirs[dir] };

		s = metrics_get(m, F_NET_BYTES, vals);
		if (s)
			s->value += (double)d->bytes[dir];
		s = metrics_get(m, F_NET_PACKETS, vals);
		if (s)
			s->value += (double)d->packets[dir];
	}
	s = metrics_get(m, F_NET_RETRANSMITS, (const char *const[]){ name });
	if (s)
		s->value += (double)d->retransmits;
	s = metrics_get(m, F_NET_RESETS, (const char *const[]){ name });
	if (s)
		s->value += (double)d->resets;
	s = metrics_get(m, F_NET_RTT, (const char *const[]){ name });
	if (s) {
		for (int i = 0; i < METRICS_NBUCKETS; i++)
			s->buckets[i] += d->rtt_buckets[i];
		s->count += d->rtt_count;
		s->sum += d->rtt_sum_s;
	}
	metrics_changed(m);
}

void metrics_network_unattributed_set(struct metrics *m, uint64_t endpoints)
{
	uint32_t before = m->fam[F_NET_UNATTRIBUTED].nseries;
	struct metrics_series *s = metrics_get(m, F_NET_UNATTRIBUTED, NULL);

	if (s && (s->value != (double)endpoints || before != m->fam[F_NET_UNATTRIBUTED].nseries)) {
		s->value = (double)endpoints;
		metrics_changed(m);
	}
}

int metrics_render(struct metrics *m, char **text, size_t *len)
{
	struct metrics_buf b;

	metrics_buf_init(&b);
	for (int i = 0; i < F_COUNT; i++)
		metrics_expo_family(&b, &m->fam[i]);
	if (b.oom || !b.p) {
		metrics_buf_free(&b);
		return -ENOMEM;
	}
	*text = b.p;
	*len = b.len;
	return 0;
}

void metrics_snapshot_put(struct metrics_snapshot *s)
{
	if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL))
		return;
	free((void *)s->text);
	free((void *)s->api_servers);
	free((void *)s->api_calls);
	free(s);
}

struct metrics_snapshot *metrics_snapshot_get(struct metrics *m)
{
	struct metrics_snapshot *s;

	pthread_mutex_lock(&m->lock);
	s = m->snap;
	if (s)
		__atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQ_REL);
	pthread_mutex_unlock(&m->lock);
	return s;
}

void metrics_api_want(struct metrics *m)
{
	__atomic_store_n(&m->api_until_ns, metrics_mono_ns() + 60ull * 1000000000ull,
			 __ATOMIC_RELAXED);
}

void metrics_set_clock(struct metrics *m, int64_t realtime_minus_monotonic_ns)
{
	m->clock_off_ns = realtime_minus_monotonic_ns;
	m->clock_pinned = 1;
}

/* mcp_server_last_seen_timestamp_seconds from the per-message times. */
static void metrics_seen_update(struct metrics *m)
{
	for (uint32_t id = 0; id < m->servers.count && id <= m->cfg.max_servers; id++) {
		struct metrics_series *s;

		if (m->seen_ns[id] == m->seen_pub[id])
			continue;
		s = metrics_get(m, F_LAST_SEEN,
				(const char *const[]){ metrics_server_name(m, id) });
		if (s)
			s->value = metrics_wall(m, m->seen_ns[id]);
		m->seen_pub[id] = m->seen_ns[id];
	}
}

static uint64_t metrics_family_sum(const struct metrics_family *f)
{
	double sum = 0;

	for (uint32_t b = 0; b < f->nbuckets; b++)
		for (const struct metrics_series *s = f->table[b]; s; s = s->hnext)
			sum += s->value;
	return (uint64_t)sum;
}

/* The error_code label of a ring entry, as metrics_error_code() made it. */
static const char *metrics_rec_code(const struct metrics_call_rec *r, char *buf, size_t len)
{
	if (r->status != METRICS_STATUS_ERROR)
		return NULL;
	switch (r->err) {
	case METRICS_ERR_TOOL:
		return "tool_error";
	case METRICS_ERR_HTTP:
		snprintf(buf, len, "http_%" PRId64, r->err_value);
		return buf;
	case METRICS_ERR_JSONRPC:
		snprintf(buf, len, "%" PRId64, r->err_value);
		return buf;
	default:
		return METRICS_OTHER;
	}
}

/* The JSON API into s (metrics/api.h); on allocation failure s keeps NULLs
 * and readers answer 503. */
static void metrics_render_api(struct metrics *m, struct metrics_snapshot *s)
{
	const struct metrics_api_fams fams = {
		.requests = &m->fam[F_REQUESTS],
		.req_duration = &m->fam[F_REQUEST_DURATION],
		.tool_calls = &m->fam[F_TOOL_CALLS],
		.tool_duration = &m->fam[F_TOOL_DURATION],
		.client_req_duration = &m->fam[F_CLIENT_REQUEST_DURATION],
		.client_tool_duration = &m->fam[F_CLIENT_TOOL_DURATION],
		.info = &m->fam[F_SERVER_INFO],
		.sessions = &m->fam[F_SESSIONS],
		.in_flight = &m->fam[F_IN_FLIGHT],
		.last_seen = &m->fam[F_LAST_SEEN],
		.notifications = &m->fam[F_NOTIFICATIONS],
		.expired = &m->fam[F_EXPIRED],
	};
	uint64_t first = m->calls_seq > METRICS_CALLS_RING ?
				 m->calls_seq - METRICS_CALLS_RING + 1 : 1;
	char *calls = NULL, code[32];
	size_t len = 0, cap = 0;

	s->api_servers = metrics_api_render_servers(&fams, MCPWIRE_VERSION, s->time,
						    &s->api_servers_len);
	for (uint64_t seq = first; seq <= m->calls_seq; seq++) {
		const struct metrics_call_rec *r = &m->calls[seq % METRICS_CALLS_RING];
		struct metrics_api_call c = {
			.seq = seq,
			.time = metrics_wall(m, r->end_ns),
			.server = metrics_server_name(m, r->server),
			.method = metrics_method_name(r->method),
			.tool = r->method == METRICS_METHOD_TOOLS_CALL ?
					metrics_tool_name(m, r->tool) : NULL,
			.status = metrics_statuses[r->status],
			.error_code = metrics_rec_code(r, code, sizeof(code)),
			.seconds = r->seconds,
		};

		if (metrics_api_render_call(&c, &calls, &len, &cap)) {
			free(calls);
			return;
		}
	}
	s->api_calls = calls ? calls : strdup("");
	s->api_ncalls = (uint32_t)(m->calls_seq - first + 1);
	s->api_first_seq = first;
}

void metrics_publish(struct metrics *m)
{
	struct metrics_snapshot *s, *old;
	char *text;
	size_t len;
	int api;

	api = metrics_mono_ns() < __atomic_load_n(&m->api_until_ns, __ATOMIC_RELAXED);
	if (m->snap && m->gen == m->published_gen && (!api || m->snap->api_servers))
		return;
	s = calloc(1, sizeof(*s));
	if (!s)
		return;
	if (!m->clock_pinned)
		m->clock_off_ns = metrics_clock_offset();
	metrics_seen_update(m);
	if (metrics_render(m, &text, &len)) {
		free(s);
		return;
	}
	s->text = text;
	s->len = len;
	s->refs = 1; /* the registry's own */
	s->time = metrics_wall(m, metrics_mono_ns());
	s->start_time = m->start_time;
	s->api_last_seq = m->calls_seq;
	s->events_lost = metrics_family_sum(&m->fam[F_EVENTS_LOST]);
	s->parse_errors = metrics_family_sum(&m->fam[F_PARSE_ERRORS]);
	s->nservers = m->servers.count - 1; /* without __other__ */
	if (api)
		metrics_render_api(m, s);
	pthread_mutex_lock(&m->lock);
	old = m->snap;
	m->snap = s;
	pthread_mutex_unlock(&m->lock);
	m->published_gen = m->gen;
	metrics_snapshot_put(old);
}

struct metrics *metrics_new(const struct metrics_config *cfg)
{
	struct metrics *m = calloc(1, sizeof(*m));
	uint32_t max_series;

	if (!m)
		return NULL;
	if (cfg)
		m->cfg = *cfg;
	if (!m->cfg.max_servers)
		m->cfg.max_servers = 256;
	if (!m->cfg.max_tools_per_server)
		m->cfg.max_tools_per_server = 512;
	if (!m->cfg.max_error_codes)
		m->cfg.max_error_codes = 64;
	if (!m->cfg.max_series)
		m->cfg.max_series = 1u << 20;
	max_series = m->cfg.max_series;
	pthread_mutex_init(&m->lock, NULL);
	for (int i = 0; i < F_COUNT; i++) {
		const struct metrics_family_def *d = &metrics_defs[i];

		if (metrics_family_init(&m->fam[i], d->name, d->help, d->type, d->nlabels,
					d->labels, d->small ? METRICS_SMALL_FAMILY : max_series))
			goto fail;
	}
	/* + 1: the __other__ entry, id 0, does not use up a server slot */
	metrics_strset_init(&m->servers, m->cfg.max_servers + 1);
	metrics_strset_init(&m->tools, UINT32_MAX - 1);
	metrics_strset_init(&m->error_codes, m->cfg.max_error_codes);
	m->tools_per_server = calloc(m->cfg.max_servers + 1, sizeof(*m->tools_per_server));
	m->seen_ns = calloc(m->cfg.max_servers + 1, sizeof(*m->seen_ns));
	m->seen_pub = calloc(m->cfg.max_servers + 1, sizeof(*m->seen_pub));
	m->clock_off_ns = metrics_clock_offset();
	m->start_time = metrics_wall(m, metrics_mono_ns());
	if (!m->tools_per_server || !m->seen_ns || !m->seen_pub ||
	    metrics_strset_add(&m->servers, 0, METRICS_OTHER) != 0)
		goto fail;

	metrics_counter_add(m, F_BUILD_INFO, (const char *const[]){ MCPWIRE_VERSION }, 1);
	/* label-less counters exist from the start, as a client library's would */
	metrics_counter_add(m, F_DEDUP, NULL, 0);
	/* every parse-error reason of proto/msg.h from the start, at 0, so a
	 * rate() or a dashboard panel has a series before the first error */
	for (size_t i = 0; i < sizeof(metrics_parse_reasons) / sizeof(*metrics_parse_reasons); i++)
		metrics_counter_add(m, F_PARSE_ERRORS, &metrics_parse_reasons[i], 0);
	metrics_publish(m);
	if (!m->snap)
		goto fail;
	return m;
fail:
	metrics_free(m);
	return NULL;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	for (int i = 0; i < F_COUNT; i++)
		metrics_family_fini(&m->fam[i]);
	metrics_strset_fini(&m->servers);
	metrics_strset_fini(&m->tools);
	metrics_strset_fini(&m->error_codes);
	free(m->tools_per_server);
	free(m->seen_ns);
	free(m->seen_pub);
	metrics_snapshot_put(m->snap);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
