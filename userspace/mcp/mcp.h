/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mcp/ — from JSON-RPC messages to MCP calls: counting each message once
 * (mcp/dedup), sessions and server naming (mcp/session), request↔response
 * pairing (mcp/pair), cancellation and expiry; the results go to metrics/.
 *
 * Rules implemented (design.md "Metric contract", mcp-wire.md §1–§4, §7):
 *  - A request is registered under (scope, its direction, id). The scope is
 *    ctx->session when non-empty, else the HTTP exchange, else (stdio) the
 *    observing process with the server endpoint. A response looks its request
 *    up in the opposite direction under the session, then the exchange, which
 *    is how initialize (sent before the session exists) pairs.
 *  - Status ok; error for a JSON-RPC error, a tools/call or tasks/result
 *    result with isError, or an HTTP status >= 400; cancelled at
 *    notifications/cancelled (same direction as the request,
 *    params.requestId), after which a late response is ignored.
 *  - Tasks (2025-11-25): a task-augmented tools/call ends at its result.task,
 *    ok, timed to the task's creation; tasks/get, tasks/result, tasks/list
 *    and tasks/cancel are requests of their own. The task's outcome (the
 *    tasks/result answer) is not attributed back to the tool (metrics.md).
 *  - server_name: serverInfo.name of the endpoint's last initialize result,
 *    the endpoint label before that.
 *  - Requests pending longer than request_timeout_ns are dropped at
 *    mcp_tick() and counted only in mcpwire_requests_expired_total.
 *  - Sessions start at an initialize result (ctx->new_session, else
 *    ctx->session, else the stdio process scope) and end at
 *    proto_sink.session_end: with ctx->session set for a DELETE answered 2xx,
 *    or, with ctx->session "" and ctx->exchange 0, for a stdio connection
 *    that closed; or after session_idle_ns without traffic.
 *  - Each message is counted once when both sockets are local (mcp/dedup.h).
 *  - The client's copies of the messages also time the client's wait
 *    (mcp_client_request_duration_seconds, mcp/client.h), before dedup.
 *
 * Single-threaded: all functions run on the pipeline thread.
 */
#ifndef MCPWIRE_MCP_H
#define MCPWIRE_MCP_H

#include <stdint.h>

#include "proto/msg.h"

struct metrics;

/* Zero fields take the defaults in brackets. */
struct mcp_config {
	uint64_t request_timeout_ns; /* [300 s] pending requests older than this expire */
	uint64_t dedup_window_ns;    /* [1 s] hold time of client-observed messages */
	uint64_t session_idle_ns;    /* [1 h] sessions without traffic end */
	uint32_t max_pending;	     /* [65536] pending-request table slots */
	uint32_t max_sessions;	     /* [16384] session table slots */
	uint32_t max_servers;	     /* [1024] server endpoints remembered for naming */
	uint32_t max_flows;	     /* [16384] flows whose dedup state is kept */
	uint32_t max_held;	     /* [4096] client-observed messages held at once */
	uint32_t max_client_pending; /* [65536] requests timed at the client's socket (mcp/client.h) */
	uint32_t max_deferred;	     /* [1024] call records awaiting the client's wait (mcp/defer.h) */
};

struct mcp_state;

/* m must outlive the state. NULL on allocation failure (all tables are
 * allocated here, none later). */
struct mcp_state *mcp_new(const struct mcp_config *cfg, struct metrics *m);
/* The sink stream/ and proto/ feed; valid until mcp_free(). */
const struct proto_sink *mcp_sink(struct mcp_state *s);
/* Housekeeping, now_ns on CLOCK_MONOTONIC like ctx->ts_ns: releases held
 * messages whose dedup window ended, then expires pending requests and idle
 * sessions. Call at least every ~100 ms. */
void mcp_tick(struct mcp_state *s, uint64_t now_ns);
void mcp_free(struct mcp_state *s);

/*
 * The server behind a server endpoint label ("<ip>:<port>", "[v6]:port", as
 * proto/msg.h's struct mcp_endpoint names it), for the network side
 * (userspace/netobs/): 0 with *server (a metrics_server() id) when MCP traffic
 * of that endpoint was seen and it is still remembered, and *named = 1 when
 * its name came from a serverInfo (initialize, or a 2026-07-28 result), 0
 * while it is the fallback label. -ENOENT otherwise. Creates nothing; an
 * endpoint whose name overflowed the server cap gives METRICS_SERVER_OTHER.
 */
int mcp_server_of_endpoint(struct mcp_state *s, const char *label, uint32_t *server, int *named);

/* Requests awaiting an answer (for tests and the API). */
uint32_t mcp_pending_count(const struct mcp_state *s);
/* Requests awaiting their answer at a client's socket (mcp/client.h). */
uint32_t mcp_client_pending_count(const struct mcp_state *s);

/*
 * Call records: one per request that leaves the pending table, for the call
 * log (docs/call-log.md). mcp/ does no I/O; the receiver does.
 *
 * A record is made at the same moment the request is counted in
 * mcp_requests_total (ok, error, cancelled, including the cancellation at a
 * session's end), and also when it is given up on (expired: counted only in
 * mcpwire_requests_expired_total) or pushed out of the full table (evicted:
 * mcpwire_table_evictions_total{table="pending"}), since an operator tracing
 * a call wants to see what became of it.
 */
enum mcp_call_status {
	MCP_CALL_OK = 0,	/* same values as enum metrics_status */
	MCP_CALL_ERROR = 1,
	MCP_CALL_CANCELLED = 2,
	MCP_CALL_EXPIRED = 3,
	MCP_CALL_EVICTED = 4,
};

/* What params.name / params.uri named (mcp-wire.md §3). */
enum mcp_call_target {
	MCP_CALL_TARGET_NONE = 0,
	MCP_CALL_TARGET_TOOL = 1,     /* tools/call params.name */
	MCP_CALL_TARGET_PROMPT = 2,   /* prompts/get params.name */
	MCP_CALL_TARGET_RESOURCE = 3, /* resources/{read,subscribe,unsubscribe} params.uri */
};

/* Raw JSON text of a payload value, as proto/ captured it. */
struct mcp_call_text {
	const char *s;	   /* NULL: not captured */
	uint32_t len;
	uint8_t truncated; /* s holds only the first len bytes of the value */
};

/* Pointers are valid for the duration of the callback only. Strings come from
 * the wire, NUL-terminated, and are not guaranteed to be valid UTF-8. */
struct mcp_call_record {
	uint64_t start_ns;	 /* the request, CLOCK_MONOTONIC like ctx->ts_ns */
	uint64_t end_ns;	 /* its answer, cancellation, session end, expiry or eviction */
	/* What the client waited, from its send of the request to its receipt
	 * of the answer, at the client's socket (mcp/client.h); client_seen 0:
	 * not known (client not on this host, not answered, or its receipt not
	 * seen within the dedup window of the server's answer). */
	uint8_t client_seen;
	uint64_t client_duration_ns;
	uint8_t status;		 /* enum mcp_call_status */
	uint8_t err;		 /* enum metrics_err, when status is MCP_CALL_ERROR */
	int64_t err_value;	 /* error.code or the HTTP status, per err */
	uint8_t dir;		 /* enum mcp_dir of the request */
	uint8_t transport;	 /* enum mcp_transport */
	const struct jsonrpc_id *id;
	const char *server;	 /* server_name as exported in the metrics */
	const char *endpoint;	 /* ctx->server.label: "<ip>:<port>", "stdio:<command>" */
	const char *method;	 /* as on the wire, even when the metrics say __other__ */
	uint8_t target_kind;	 /* enum mcp_call_target */
	const char *target;	 /* tool or prompt name, resource uri; "" for none */
	const char *session;	 /* Mcp-Session-Id or legacy sessionId; "" for none */
	const char *client_name; /* the session's initialize clientInfo; NULL: not seen */
	const char *client_version;
	uint32_t server_pid;	 /* process seen on the server's side; 0: not on this host */
	uint32_t client_pid;	 /* on the client's side; 0 unless only the client is local */
	const char *server_comm; /* "" when the pid is 0 */
	const char *client_comm;
	uint8_t truncated;	 /* a wire string above was cut at MCP_STR_MAX - 1 bytes */
	/* Only with mcp_call_sink.payloads, when proto/ captured them
	 * (stream_config.payloads). truncated with an empty s: mcp/ had no room
	 * left to keep the arguments until the answer (docs/call-log.md). */
	struct mcp_call_text arguments; /* request params.arguments */
	struct mcp_call_text result;	/* response result */
	struct mcp_call_text error;	/* response error object */
};

struct mcp_call_sink {
	void (*call)(void *arg, const struct mcp_call_record *r);
	void *arg;
	uint8_t payloads; /* fill the payload texts when they are available */
};

/*
 * Sends a record of every finished call to sink (NULL: stop). Allocates, once,
 * what a record needs beyond the metrics for each pending-request and session
 * slot, so set it before traffic flows: requests already pending when it is
 * set get no record. Returns 0 or -ENOMEM.
 */
int mcp_set_call_sink(struct mcp_state *s, const struct mcp_call_sink *sink);

/*
 * Attribution: where a server's process runs (docs/attribution.md). mcp/
 * asks for the process seen at the server's socket (ctx->tgid with
 * observer MCP_OBS_SERVER) when it first sees it and every
 * MCP_IDENTITY_RECHECK_NS of traffic after, and puts the answer on the
 * endpoint's mcp_server_info (container, pod, namespace labels). A network
 * (or unix-socket) endpoint whose server never named itself in an initialize
 * result mcpwire saw is named after its container (when the container has a
 * name) instead of "<ip>:<port>"; stdio servers keep "stdio:<command>", as one container
 * often runs several.
 */
#define MCP_IDENTITY_RECHECK_NS (5ULL * 1000000000ULL)

struct mcp_identity {
	char container[128]; /* label value: the container's name, or its short id */
	uint8_t container_named; /* container is a name (usable as server_name) */
	char pod[254];
	char ns[64];
};

struct mcp_identity_source {
	/* Non-blocking (called on the pipeline thread per message of a server
	 * not yet placed): 1 and *out filled when known (all "" for a host
	 * process), 0 when not yet. */
	int (*lookup)(void *arg, uint32_t tgid, struct mcp_identity *out);
	void *arg;
};

/* Sets the identity source (NULL: none, the default). */
void mcp_set_identity_source(struct mcp_state *s, const struct mcp_identity_source *src);

#endif /* MCPWIRE_MCP_H */
