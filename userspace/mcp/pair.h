/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mcp/pair — requests awaiting their response, keyed by (scope, direction,
 * JSON-RPC id) (design.md "Userspace"; mcp-wire.md §1: both peers count ids
 * from 0 and ids repeat across sessions, so the id alone never pairs).
 *
 * Bounded: max_pending slots allocated at creation; a request arriving at a
 * full table evicts the oldest one. Nothing is allocated per message.
 */
#ifndef MCPWIRE_MCP_PAIR_H
#define MCPWIRE_MCP_PAIR_H

#include <stdint.h>

#include "mcp/table.h"
#include "proto/msg.h"

/* What a pairing scope is; the value's meaning depends on it. */
enum mcp_scope_kind {
	MCP_SCOPE_SESSION = 1,	/* value: session slot << 32 | generation (mcp/session.h) */
	MCP_SCOPE_EXCHANGE = 2, /* value: ctx->exchange, unique per HTTP exchange */
	MCP_SCOPE_PROC = 3,	/* value: observing tgid << 32 | hash of the stdio endpoint */
	/* mcp/client's table, whose keys both sockets of a connection agree on */
	MCP_SCOPE_SESSION_ID = 4, /* value: 64-bit hash of endpoint label and session id */
	MCP_SCOPE_FLOW = 5,	  /* value: ctx->flow_id */
};

struct mcp_scope {
	uint8_t kind; /* enum mcp_scope_kind */
	uint64_t value;
};

struct mcp_pending {
	struct mcp_scope scope;
	uint8_t dir;		/* enum mcp_dir of the request */
	struct jsonrpc_id id;
	uint64_t ts_ns;		/* request timestamp, CLOCK_MONOTONIC */
	uint32_t server;	/* server id whose in-flight gauge counts it */
	uint32_t tool;		/* tools/call: tool id */
	uint16_t method;	/* method index (metrics/labels.h) */
};

struct mcp_pair {
	struct mcp_table t;
	struct mcp_pending *ents;
};

int mcp_pair_init(struct mcp_pair *p, uint32_t max_pending);
void mcp_pair_fini(struct mcp_pair *p);

/* Slot of the request (scope, dir, id), or MCP_TABLE_NONE. */
uint32_t mcp_pair_find(const struct mcp_pair *p, const struct mcp_scope *scope, uint8_t dir,
		       const struct jsonrpc_id *id);
/* A free slot for key (scope, dir, id), key fields filled in, the rest for
 * the caller; MCP_TABLE_NONE when full (evict mcp_pair_oldest() first). */
uint32_t mcp_pair_insert(struct mcp_pair *p, const struct mcp_scope *scope, uint8_t dir,
			 const struct jsonrpc_id *id);
void mcp_pair_remove(struct mcp_pair *p, uint32_t slot);
/* The earliest registered request still pending, MCP_TABLE_NONE if none. */
static inline uint32_t mcp_pair_oldest(const struct mcp_pair *p)
{
	return mcp_table_oldest(&p->t);
}
static inline uint32_t mcp_pair_count(const struct mcp_pair *p)
{
	return p->t.count;
}

#endif /* MCPWIRE_MCP_PAIR_H */
