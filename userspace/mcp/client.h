/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mcp/client — what the client waited: the client-side request duration
 * (mcp_client_request_duration_seconds, mcp_client_tool_call_duration_seconds;
 * issue 4 "network vs server time", docs/metrics.md).
 *
 * mcp_request_duration_seconds is measured at the server's own syscalls
 * whenever the server's socket is on this host (mcp/dedup.h drops the
 * client's copies). This table times the same requests a second time, from
 * the client's copies, before dedup: the client's send of a request
 * (MCP_OBS_CLIENT, MCP_C2S request) to the client's receipt of the message
 * with its id and a result or error (MCP_OBS_CLIENT, MCP_S2C). The difference
 * between the two histograms is the network and the kernels on both sides.
 *
 *  - Only what the client's socket saw counts: a server on this host whose
 *    client is remote gives no client duration, a client on this host whose
 *    server is remote gives one equal to the server-side one (which falls
 *    back to the client's timestamps then). stdio: only the server's end of
 *    the pipes is traced, so never.
 *  - Roles come from the content (proto/conn.c: the socket that reads
 *    requests is the server's), so connections opened before mcpwire
 *    started count as soon as their roles are known.
 *  - Requests the server sends (sampling, elicitation, roots) are not timed:
 *    the client's end of those is its own processing time.
 *  - Progress notifications do not end a wait; notifications/cancelled from
 *    the client does, and a cancelled request is not observed (the client
 *    stopped waiting; its wait says nothing about the network).
 *  - Keys: (scope, id), the scope being the endpoint label and the
 *    Mcp-Session-Id or legacy sessionId when the message has one (a legacy
 *    answer comes on the GET stream's connection, not the POST's), else the
 *    flow (ctx->flow_id, never reused), else the HTTP exchange. A response is
 *    looked up under each; ids reused across sessions or connections never
 *    meet.
 *  - A response processed before its own request (the client's send syscall
 *    returned after the whole round trip) finds nothing and is not observed.
 *
 * The server-side record of a call (the call log) is completed with the
 * client's wait through mcp_client_find(): the server's end has the same
 * session or flow as the client's request.
 *
 * Bounded: max_pending slots allocated at creation, the oldest evicted when
 * full (mcpwire_table_evictions_total{table="client_pending"}), requests
 * older than timeout_ns dropped at mcp_client_tick() without a count.
 */
#ifndef MCPWIRE_MCP_CLIENT_H
#define MCPWIRE_MCP_CLIENT_H

#include <stdint.h>

#include "mcp/pair.h"
#include "proto/msg.h"

struct metrics;

/* A client wait ended: seen 1 with the client's duration, 0 when the wait
 * was dropped (expiry, eviction, cancellation). defer is what
 * mcp_client_set_defer() attached. */
typedef void (*mcp_client_end_fn)(void *arg, uint64_t defer, int seen, uint64_t client_ns);

struct mcp_client_config {
	uint32_t max_pending;
	uint64_t timeout_ns;
};

struct mcp_client_waits {
	struct mcp_client_config cfg;
	struct metrics *m;
	struct mcp_pair pair;	 /* method, tool, server, ts of each waiting request */
	uint64_t *defer;	 /* per slot: what mcp_client_set_defer() attached, 0 none */
	mcp_client_end_fn end;
	void *arg;
};

/* Returns 0 or -ENOMEM. end may be NULL (no call log). */
int mcp_client_init(struct mcp_client_waits *c, const struct mcp_client_config *cfg,
		    struct metrics *m, mcp_client_end_fn end, void *arg);
void mcp_client_fini(struct mcp_client_waits *c);

/*
 * One message seen by a client's socket (ctx->observer MCP_OBS_CLIENT),
 * before dedup. server: the server id its endpoint exports now
 * (mcp_endpoint_server()), resolved by the caller only when
 * mcp_client_wants() says so, since resolving counts label overflow.
 */
int mcp_client_wants(const struct mcp_client_waits *c, const struct mcp_wire_ctx *ctx,
		     const struct jsonrpc_msg *msg);
void mcp_client_input(struct mcp_client_waits *c, const struct mcp_wire_ctx *ctx,
		      const struct jsonrpc_msg *msg, uint32_t server);

/* The waiting request whose answer the server's socket just sent (end: the
 * server-observed response's ctx, id its id), MCP_TABLE_NONE if none. */
uint32_t mcp_client_find(const struct mcp_client_waits *c, const struct mcp_wire_ctx *end,
			 const struct jsonrpc_id *id);
/* Attaches defer (non-zero) to slot: handed to the end callback when the
 * wait ends, however it ends. */
void mcp_client_set_defer(struct mcp_client_waits *c, uint32_t slot, uint64_t defer);

/* Drops waits older than timeout_ns. */
void mcp_client_tick(struct mcp_client_waits *c, uint64_t now_ns);
static inline uint32_t mcp_client_count(const struct mcp_client_waits *c)
{
	return mcp_pair_count(&c->pair);
}

#endif /* MCPWIRE_MCP_CLIENT_H */
