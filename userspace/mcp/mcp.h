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
 *  - Status ok; error for a JSON-RPC error, a tools/call result with isError,
 *    or an HTTP status >= 400; cancelled at notifications/cancelled (same
 *    direction as the request, params.requestId), after which a late
 *    response is ignored.
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

/* Requests awaiting an answer (for tests and the API). */
uint32_t mcp_pending_count(const struct mcp_state *s);

#endif /* MCPWIRE_MCP_H */
