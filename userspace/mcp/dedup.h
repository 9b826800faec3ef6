/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mcp/dedup — counting each message once when both sockets of a connection
 * are on this host (design.md "Metric contract": each MCP message is counted
 * once; durations are measured at the server's syscalls when it is local).
 *
 * Both sockets report the same messages with the same ctx->flow_id. The
 * server socket's view wins:
 *  - a message seen by MCP_OBS_SERVER passes at once, and marks its flow as
 *    server-observed;
 *  - a message seen by MCP_OBS_CLIENT on a server-observed flow is dropped
 *    (mcpwire_messages_deduplicated_total);
 *  - otherwise it is held for window_ns. If the flow turns out to be
 *    server-observed meanwhile, it is dropped at the end of the window; if not,
 *    it is released in order with its original ctx (timestamps included) and
 *    the flow is marked client-only, after which its client messages pass at
 *    once (unless older ones of the flow are still held, to keep order).
 *  - flow_id 0 means "no flow known": passes at once.
 *
 * Bounded: max_flows flow states (LRU, mcpwire_table_evictions_total{table=
 * "flows"}) and max_held held messages in a FIFO; when the FIFO is full its
 * oldest entry is decided early (released or dropped) and counted as
 * table="dedup_hold". The FIFO's slots are allocated once.
 */
#ifndef MCPWIRE_MCP_DEDUP_H
#define MCPWIRE_MCP_DEDUP_H

#include <stdint.h>

#include "proto/msg.h"

struct metrics;

enum mcp_dedup_kind {
	MCP_DEDUP_MESSAGE = 0,	   /* proto_sink.message */
	MCP_DEDUP_SESSION_END = 1, /* proto_sink.session_end; msg unused */
};

/* Where released messages go: the same path as messages that pass at once. */
typedef void (*mcp_dedup_release_fn)(void *arg, uint8_t kind, const struct mcp_wire_ctx *ctx,
				     const struct jsonrpc_msg *msg);

struct mcp_dedup_config {
	uint64_t window_ns;
	uint32_t max_flows;
	uint32_t max_held;
};

struct mcp_dedup;

struct mcp_dedup *mcp_dedup_new(const struct mcp_dedup_config *cfg, struct metrics *m,
				mcp_dedup_release_fn release, void *arg);
void mcp_dedup_free(struct mcp_dedup *d);

/* Decides one input. Returns 1 when the caller must process it now, 0 when it
 * was held (copied) or dropped. msg may be NULL for MCP_DEDUP_SESSION_END. */
int mcp_dedup_input(struct mcp_dedup *d, uint8_t kind, const struct mcp_wire_ctx *ctx,
		    const struct jsonrpc_msg *msg);
/* Releases or drops every held entry whose window ended by now_ns. */
void mcp_dedup_tick(struct mcp_dedup *d, uint64_t now_ns);
/* Entries currently held. */
uint32_t mcp_dedup_held(const struct mcp_dedup *d);

#endif /* MCPWIRE_MCP_DEDUP_H */
