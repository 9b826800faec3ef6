/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mcp/defer — call records held back until the client's wait is known
 * (client_duration_ms in the call log, docs/call-log.md).
 *
 * When the server's socket answers a request whose client is on this host
 * too, the call is counted at once, but its record waits for the client's
 * receipt of the answer (mcp/client.h), at most window_ns after the answer;
 * past that it is written without the client's wait. Records are deep
 * copies (strings and payload texts), since mcp_call_record lends its
 * pointers for the duration of a call only.
 *
 * Bounded: max records in a FIFO allocated at creation; a record arriving
 * at a full FIFO sends the oldest out early, without the client's wait
 * (mcpwire_table_evictions_total{table="call_defer"}).
 */
#ifndef MCPWIRE_MCP_DEFER_H
#define MCPWIRE_MCP_DEFER_H

#include <stdint.h>

#include "mcp/mcp.h"

struct metrics;
struct mcp_defer;

struct mcp_defer *mcp_defer_new(uint32_t max, uint64_t window_ns, struct metrics *m,
				const struct mcp_call_sink *sink);
/* Sends every record still held, without the client's wait. */
void mcp_defer_free(struct mcp_defer *d);

/* Holds a copy of r until mcp_defer_done() or window_ns after now_ns.
 * Returns its token (non-zero), or 0 when r was sent at once (no memory). */
uint64_t mcp_defer_put(struct mcp_defer *d, const struct mcp_call_record *r, uint64_t now_ns);
/* The client's wait for the record with token: sends it, with the wait when
 * seen. A token already sent is ignored. */
void mcp_defer_done(struct mcp_defer *d, uint64_t token, int seen, uint64_t client_ns);
/* Sends the records whose window ended by now_ns. */
void mcp_defer_tick(struct mcp_defer *d, uint64_t now_ns);
uint32_t mcp_defer_held(const struct mcp_defer *d);

#endif /* MCPWIRE_MCP_DEFER_H */
