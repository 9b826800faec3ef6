/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Flows: one id for both sockets of a connection whose two ends are on this
 * host (the client's connect()ed socket and the server's accept()ed one), so
 * mcp/ can count each message once (design.md, "Metric contract").
 *
 * The key is the unordered pair of endpoints. Network namespaces are only
 * part of it for loopback, where every namespace has the same addresses; a
 * bridged connection's two ends sit in different namespaces by design. A
 * unix connection's endpoints are the identities of its two socks (stream.h),
 * unique on the host while both live, so no namespace is needed.
 */
#ifndef MCPWIRE_STREAM_FLOW_H
#define MCPWIRE_STREAM_FLOW_H

#include <stdint.h>
#include "proto/msg.h"

struct flow_table;

/* capacity: live flows; beyond it a socket gets a flow of its own (counted in
 * flow_table_overflows) rather than evicting a joined one. */
struct flow_table *flow_table_new(uint32_t capacity);
void flow_table_free(struct flow_table *ft);

/* Returns the flow id for a socket with these endpoints, creating the flow
 * if needed, and takes a reference. Sockets without addresses (unknown
 * family, a unix socket without a peer) always get a fresh id. Ids start at 1 and are never reused. */
uint64_t flow_acquire(struct flow_table *ft, const struct mcp_endpoint *local,
		      const struct mcp_endpoint *remote, uint32_t netns);

/* Drops a reference; the flow is forgotten with its last socket. */
void flow_release(struct flow_table *ft, uint64_t id);

uint64_t flow_table_overflows(const struct flow_table *ft);

#endif /* MCPWIRE_STREAM_FLOW_H */
