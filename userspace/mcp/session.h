/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mcp/session — MCP sessions and server naming.
 *
 * Server endpoints: ctx->server.label ("<ip>:<port>", "[v6]:port",
 * "stdio:<command>") → the server_name to export, which is serverInfo.name
 * from the last initialize result seen for that endpoint (mcp-wire.md §4),
 * the label itself until then (design.md "Metric contract"). Each endpoint
 * also holds its mcp_server_info series.
 *
 * Sessions: (server endpoint, Mcp-Session-Id or legacy sessionId), or for
 * stdio (no session id, no HTTP exchange) the observing process's scope. A
 * session is tracked as soon as traffic names it, because it scopes request
 * ids; it counts in mcp_sessions_active only from the initialize result that
 * created it until session_end, idle expiry or eviction.
 *
 * Both tables are bounded with LRU eviction, counted in
 * mcpwire_table_evictions_total{table="endpoints"|"sessions"}.
 */
#ifndef MCPWIRE_MCP_SESSION_H
#define MCPWIRE_MCP_SESSION_H

#include <stdint.h>

#include "mcp/mcp.h"
#include "mcp/table.h"
#include "metrics/metrics.h"
#include "proto/msg.h"

struct mcp_endpoint_ent {
	char label[sizeof(((struct mcp_endpoint *)0)->label)]; /* key */
	char name[MCP_STR_MAX];	     /* server_name source */
	uint8_t name_truncated;	     /* serverInfo.name did not fit: exported as __other__ */
	/* metrics_server() of name once it gave a real id (0: ask again). Ids
	 * are never reused, so it stays right until the name changes. */
	uint32_t server;
	struct metrics_series *info; /* this endpoint's mcp_server_info reference */
	/* hash of what info was made from: a 2026-07-28 server states its
	 * serverInfo in every result, and an unchanged one costs no more */
	uint64_t info_hash;
	/* --- attribution (mcp_endpoint_placed) --- */
	uint8_t named;		     /* name is serverInfo.name */
	uint8_t initialized;	     /* version, protocol, transport below are set */
	uint8_t version_truncated, protocol_truncated, transport;
	char version[MCP_STR_MAX];   /* of the last initialize result */
	char protocol[MCP_STR_MAX];
	uint32_t placed_tgid;	     /* process the identity is of; 0: not asked yet */
	uint64_t placed_ns;	     /* ctx->ts_ns of that answer */
	struct mcp_identity where;
};

struct mcp_endpoints {
	struct mcp_table t;
	struct mcp_endpoint_ent *ents;
	struct metrics *m;
};

int mcp_endpoints_init(struct mcp_endpoints *e, uint32_t cap, struct metrics *m);
void mcp_endpoints_fini(struct mcp_endpoints *e);
/* Slot for a server endpoint label, created (evicting the least recently used
 * endpoint when full) and marked used. Never MCP_TABLE_NONE. */
uint32_t mcp_endpoint_get(struct mcp_endpoints *e, const char *label);
/* Slot of a server endpoint label, MCP_TABLE_NONE when absent; neither
 * creates nor marks used. */
uint32_t mcp_endpoint_find(const struct mcp_endpoints *e, const char *label);
/* The server id to count this endpoint's traffic under (resolves the name
 * through metrics_server(), so overflow is counted per call). */
uint32_t mcp_endpoint_server(struct mcp_endpoints *e, uint32_t slot);
/* Records an initialize result for the endpoint: the server's name (if
 * non-empty), version and protocol version, on transport. Replaces the
 * endpoint's mcp_server_info series. */
void mcp_endpoint_initialized(struct mcp_endpoints *e, uint32_t slot, const struct mcp_str *name,
			      const struct mcp_str *version, const struct mcp_str *protocol,
			      uint8_t transport);

/* Records where the endpoint's server process runs (mcp.h "Attribution"):
 * refreshes its mcp_server_info (creating one for a server that has not
 * named itself, when a container or pod is known) and, for a network
 * endpoint not named by serverInfo, takes the container's name. Returns 1
 * when the endpoint's server_name changed. */
int mcp_endpoint_placed(struct mcp_endpoints *e, uint32_t slot, const struct mcp_identity *where,
			int network, uint8_t transport);

struct mcp_session {
	char label[sizeof(((struct mcp_endpoint *)0)->label)]; /* key: server endpoint */
	char sid[sizeof(((struct mcp_wire_ctx *)0)->session)]; /* key; "" for a process scope */
	uint64_t proc;	 /* key: MCP_SCOPE_PROC value when sid is "" */
	uint32_t gen;	 /* distinguishes successive users of a slot */
	uint64_t last_ns; /* latest message timestamp */
	uint8_t active;	 /* counted in mcp_sessions_active */
	uint8_t transport;
	uint32_t server; /* server id the active count went to */
};

struct mcp_sessions {
	struct mcp_table t;
	struct mcp_session *ents;
	uint32_t gen;
	struct metrics *m;
};

int mcp_sessions_init(struct mcp_sessions *s, uint32_t cap, struct metrics *m);
void mcp_sessions_fini(struct mcp_sessions *s);
/* The session (label, sid, proc), created when absent (evicting the least
 * recently used when full), last_ns raised to ts_ns. Never MCP_TABLE_NONE. */
uint32_t mcp_session_get(struct mcp_sessions *s, const char *label, const char *sid,
			 uint64_t proc, uint64_t ts_ns);
uint32_t mcp_session_find(const struct mcp_sessions *s, const char *label, const char *sid,
			  uint64_t proc);
/* Counts the session in mcp_sessions_active{server, transport} if it is not yet. */
void mcp_session_start(struct mcp_sessions *s, uint32_t slot, uint32_t server, uint8_t transport);
/* Forgets the session, leaving mcp_sessions_active if it was counted. */
void mcp_session_end(struct mcp_sessions *s, uint32_t slot);
/* Ends every session without traffic for idle_ns before now_ns. */
void mcp_sessions_expire(struct mcp_sessions *s, uint64_t now_ns, uint64_t idle_ns);
/* The pairing scope value of a session slot. */
static inline uint64_t mcp_session_scope(const struct mcp_sessions *s, uint32_t slot)
{
	return (uint64_t)slot << 32 | s->ents[slot].gen;
}

#endif /* MCPWIRE_MCP_SESSION_H */
