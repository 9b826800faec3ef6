/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * metrics/ — the metric registry mcpwire exports (design.md "Metric
 * contract"; every family is listed in docs/metrics.md).
 *
 * Threads: every function here except metrics_snapshot_get() and
 * metrics_snapshot_put() belongs to the pipeline thread, which is the only
 * writer. The HTTP threads read the text that the last metrics_publish()
 * rendered, never the live tables (design.md "Userspace").
 *
 * Label values from the wire go through the resolvers below, which repair
 * UTF-8, bound lengths and apply the cardinality caps: a value past a cap, a
 * truncated wire string (struct mcp_str.truncated) or a method outside the
 * spec becomes "__other__" and bumps mcpwire_label_overflow_total{label}.
 * Resolvers count once per call, so callers resolve once per counted event.
 */
#ifndef MCPWIRE_METRICS_H
#define MCPWIRE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "metrics/labels.h"

struct metrics_config {
	uint32_t max_servers;	       /* distinct server_name values; 0 = 256 */
	uint32_t max_tools_per_server; /* distinct tool_name values per server; 0 = 512 */
	uint32_t max_error_codes;      /* distinct error_code values; 0 = 64 */
	uint32_t max_series;	       /* per family, a safety net behind the caps; 0 = 2^20 */
};

struct metrics;

/* cfg may be NULL for the defaults. NULL on allocation failure. Publishes a
 * first snapshot, so readers never see an empty exposition. */
struct metrics *metrics_new(const struct metrics_config *cfg);
void metrics_free(struct metrics *m);

/* --- label resolvers (ids stay valid for the registry's lifetime) --- */

#define METRICS_SERVER_OTHER 0u		/* server_name "__other__" */
#define METRICS_TOOL_OTHER UINT32_MAX	/* tool_name "__other__" */

/* Server id for a server_name value: serverInfo.name or the endpoint label. */
uint32_t metrics_server(struct metrics *m, const char *name, int truncated);
/* Tool id for tools/call params.name under a server id. */
uint32_t metrics_tool(struct metrics *m, uint32_t server, const char *name, int truncated);
/* Method index (labels.h) for a request or notification method. */
uint16_t metrics_method(struct metrics *m, const char *method, int truncated);
/* The label value of an id from the resolvers above. */
const char *metrics_server_name(const struct metrics *m, uint32_t server);
const char *metrics_tool_name(const struct metrics *m, uint32_t tool);
/* Counts one value of `label` replaced by "__other__" (label: static string). */
void metrics_label_overflow(struct metrics *m, const char *label);

/* --- recording --- */

enum metrics_status {
	METRICS_STATUS_OK = 0,
	METRICS_STATUS_ERROR = 1,
	METRICS_STATUS_CANCELLED = 2,
};

/* What the error_code label says for a request with status error. */
enum metrics_err {
	METRICS_ERR_JSONRPC = 0, /* err_value: error.code, label "-32602" */
	METRICS_ERR_TOOL = 1,	 /* result.isError: label "tool_error" */
	METRICS_ERR_HTTP = 2,	 /* err_value: HTTP status, label "http_404" */
	METRICS_ERR_NO_CODE = 3, /* error object without a code: label "__other__" */
};

/* One finished request: answered, errored or cancelled. */
struct metrics_call {
	uint32_t server;   /* metrics_server() */
	uint16_t method;   /* metrics_method(); METRICS_METHOD_TOOLS_CALL adds the tool series */
	uint32_t tool;	   /* metrics_tool(), tools/call only */
	uint8_t status;	   /* enum metrics_status */
	uint8_t err;	   /* enum metrics_err, read when status is METRICS_STATUS_ERROR */
	int64_t err_value;
	double seconds;	   /* end timestamp − request timestamp */
	uint64_t end_ns;   /* CLOCK_MONOTONIC end, for /api/v1/calls; 0: the time of
			    * the message last passed to metrics_seen() */
};

/* Counts c in mcp_requests_total, mcp_request_duration_seconds, for errors
 * mcp_request_errors_total, and for tools/call mcp_tool_calls_total and
 * mcp_tool_call_duration_seconds; and keeps it in the ring of the last
 * METRICS_CALLS_RING finished calls that /api/v1/calls serves. */
void metrics_call_done(struct metrics *m, const struct metrics_call *c);
/*
 * One MCP message of server was processed, ts_ns on CLOCK_MONOTONIC (the
 * message's capture time). Feeds mcp_server_last_seen_timestamp_seconds,
 * converted to wall-clock seconds at publication, and dates the calls this
 * message ends. An array store per message: the series is written at
 * metrics_publish().
 */
void metrics_seen(struct metrics *m, uint32_t server, uint64_t ts_ns);
/*
 * One request answered as the client's socket saw it (mcp/client.h): seconds
 * from the client's send of the request to its receipt of the answer, into
 * mcp_client_request_duration_seconds{server_name,method} and, for
 * METRICS_METHOD_TOOLS_CALL, mcp_client_tool_call_duration_seconds
 * {server_name,tool_name}. Ids from the resolvers; no counter moves here.
 */
void metrics_client_call_done(struct metrics *m, uint32_t server, uint16_t method, uint32_t tool,
			      double seconds);
/* mcp_notifications_total; dir is enum mcp_dir (proto/msg.h): 0 client_to_server. */
void metrics_notification(struct metrics *m, uint32_t server, uint16_t method, int dir);
/* mcp_requests_in_flight{server_name} += delta. */
/* Removes server's gauge series (mcp_requests_in_flight, mcp_sessions_active)
 * that stand at 0, and its mcp_server_last_seen_timestamp_seconds (else a
 * "server down" alert would see a phantom server fall silent). For an
 * endpoint's fallback name ("<ip>:<port>") once an initialize result names
 * the server: otherwise a phantom server would stay on every dashboard.
 * Counters are never removed. */
void metrics_server_retire(struct metrics *m, uint32_t server);
void metrics_in_flight_add(struct metrics *m, uint32_t server, int delta);
/* mcp_sessions_active{server_name,transport} += delta; transport is enum
 * mcp_transport (proto/msg.h). The series stays, at 0, once created. */
void metrics_sessions_add(struct metrics *m, uint32_t server, int transport, int delta);

/* Where a server's process runs (attrib/): label values for mcp_server_info,
 * "" when unknown. */
struct metrics_placement {
	const char *container; /* container name, or its short id */
	const char *pod;
	const char *ns;	       /* the pod's namespace */
};

/* A reference to one mcp_server_info series (value 1). Taken by each holder
 * (mcp/ takes one per server endpoint) and dropped when the holder's view
 * changes; the series disappears with its last reference, so a server that
 * upgrades stops exporting its old version. NULL when the series cannot be
 * created (family full). version and protocol come from the initialize
 * result (mcp-wire.md §4), "" when none was seen; where (NULL: nothing
 * known) gives the container, pod and namespace labels. */
struct metrics_series *metrics_server_info_get(struct metrics *m, uint32_t server,
					       const char *version, int version_truncated,
					       const char *protocol, int protocol_truncated,
					       int transport, const struct metrics_placement *where);
void metrics_server_info_put(struct metrics *m, struct metrics_series *info);

/* mcpwire_requests_expired_total{server_name}. */
void metrics_request_expired(struct metrics *m, uint32_t server);
/* mcpwire_messages_deduplicated_total += n. */
void metrics_deduplicated(struct metrics *m, uint64_t n);
/* mcpwire_table_evictions_total{table}; table is a static string. */
void metrics_table_eviction(struct metrics *m, const char *table);
/* For tables outside mcp/ that keep their own total (stream/'s sockets):
 * sets mcpwire_table_evictions_total{table} to it. */
void metrics_table_evictions_set(struct metrics *m, const char *table, uint64_t total);
/* mcpwire_events_lost_total{reason} = total: the kernel's per-CPU drop
 * counters summed by the caller; reason is one of a small fixed set. */
void metrics_events_lost_set(struct metrics *m, const char *reason, uint64_t total);
/* mcpwire_attribution_errors_total{reason} = total (attrib_get_stats());
 * reason is a static string: queue_full, proc, docker, kubelet. */
void metrics_attribution_errors_set(struct metrics *m, const char *reason, uint64_t total);
/* mcpwire_call_log_errors_total = total (calllog_errors()); the series
 * exists from the first call, so only with --log-calls. */
void metrics_call_log_errors_set(struct metrics *m, uint64_t total);
/* --network/--bridge (scope/): mcpwire_scope_namespaces = namespaces,
 * mcpwire_scope_rescans_total{trigger=triggers[i]} = rescans[i] for i <
 * ntriggers, mcpwire_scope_connections_filtered_total = filtered. The series
 * exist from the first call, so only when scoped. */
void metrics_scope_set(struct metrics *m, uint32_t namespaces, const char *const *triggers,
		       const uint64_t *rescans, int ntriggers, uint64_t filtered);

/* Sets mcpwire_kernel_info{release,features} to 1 (capture/kernel_info.h);
 * called once, after the kernel probes, in live capture only. */
void metrics_kernel_info_set(struct metrics *m, const char *release, const char *features);
/* mcpwire_parse_errors_total{reason} += 1 (reasons: proto/msg.h). */
void metrics_parse_error(struct metrics *m, const char *reason);

/* --- network side (userspace/netobs/, docs/network.md) --- */

/* What the tc program counted for one server endpoint since the last call;
 * the histogram buckets are metrics_buckets[] (registry.h), per bucket, not
 * cumulative; observations above the last bound are in rtt_count only. */
struct metrics_net_delta {
	uint64_t bytes[2];   /* by enum mcp_dir: 0 client_to_server */
	uint64_t packets[2];
	uint64_t retransmits;
	uint64_t resets;
	uint64_t rtt_count;
	double rtt_sum_s;
	uint64_t rtt_buckets[18];
};

/* Adds d to mcp_network_bytes_total, mcp_network_packets_total (both
 * directions), mcp_network_retransmits_total, mcp_network_resets_total and
 * mcp_network_rtt_seconds of server; all of them exist from the first call. */
void metrics_network_add(struct metrics *m, uint32_t server, const struct metrics_net_delta *d);
/* mcpwire_network_endpoints_unattributed = endpoints (a gauge). */
void metrics_network_unattributed_set(struct metrics *m, uint64_t endpoints);

/* --- exposition --- */

/* Finished calls kept for /api/v1/calls. */
#define METRICS_CALLS_RING 256

/* Published text, immutable and reference-counted. */
struct metrics_snapshot {
	const char *text; /* exposition format 0.0.4, NUL-terminated */
	size_t len;
	uint32_t refs;	  /* private */

	/* The JSON API (docs/api.md), rendered with the text only while a
	 * client asked for it in the last minute (metrics_api_want()): a
	 * daemon only Prometheus scrapes pays nothing for it. NULL otherwise. */
	const char *api_servers;  /* GET /api/v1/servers body */
	size_t api_servers_len;
	const char *api_calls;	  /* the ring's calls, oldest first: one JSON
				   * object each, NUL-terminated, back to back */
	uint32_t api_ncalls;
	uint64_t api_first_seq;	  /* seq of the first of them; seqs are consecutive */
	uint64_t api_last_seq;	  /* last call seq counted (0: none yet) */
	double time;		  /* wall clock at publication, seconds */
	double start_time;	  /* wall clock at metrics_new() */
	uint64_t events_lost;	  /* sum of mcpwire_events_lost_total */
	uint64_t parse_errors;	  /* sum of mcpwire_parse_errors_total */
	uint32_t nservers;	  /* server_name values seen */
};

/*
 * Renders the registry and makes it the snapshot readers get. Does nothing
 * when nothing changed since the last call, so it can run every ~100 ms; on
 * allocation failure the previous snapshot stays. Pipeline thread.
 */
void metrics_publish(struct metrics *m);
/* The latest snapshot with a reference taken; never NULL after metrics_new().
 * Any thread. */
struct metrics_snapshot *metrics_snapshot_get(struct metrics *m);
/* Drops a reference from metrics_snapshot_get(). Any thread. */
void metrics_snapshot_put(struct metrics_snapshot *s);
/* Asks for the JSON API in the snapshots of the next minute. Any thread;
 * the next metrics_publish() renders it even if nothing else changed. */
void metrics_api_want(struct metrics *m);
/* Pins CLOCK_REALTIME − CLOCK_MONOTONIC (ns) used to turn capture times
 * into wall-clock seconds; by default it is read at every publication.
 * For tests. */
void metrics_set_clock(struct metrics *m, int64_t realtime_minus_monotonic_ns);
/* Renders the live registry into a malloc()ed NUL-terminated string (tests,
 * and --once style dumps). Pipeline thread. Returns 0 or -ENOMEM. */
int metrics_render(struct metrics *m, char **text, size_t *len);

#endif /* MCPWIRE_METRICS_H */
