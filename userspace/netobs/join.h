/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * netobs/join — from the tc program's per-endpoint totals to the metrics:
 * which MCP server an endpoint is, and what changed since the last read.
 * Pure logic (no BPF, no I/O), unit-tested in selftests/unit/test_netobs.c.
 *
 * Rules (docs/network.md):
 *  - An endpoint is exported under the server_name mcp/ gives its label
 *    ("<ip>:<port>", "[v6]:port", the same text as proto/msg.h's
 *    mcp_endpoint.label). An endpoint mcp/ never saw carrying MCP creates no
 *    series: its totals wait in the kernel map, are counted in
 *    mcpwire_network_endpoints_unattributed, and are exported in full if MCP
 *    traffic of that endpoint shows up later.
 *  - While mcp/ knows the endpoint only by its fallback label (no serverInfo
 *    yet), export waits hold_ns from the first sight: an initialize result
 *    normally names the server within milliseconds, and exporting before it
 *    would leave counters under "<ip>:<port>" forever. A server that never
 *    names itself is exported under the label after the hold.
 *  - The kernel's values are totals; what is added to the metrics is the
 *    increase over what was already exported. Totals that went down mean the
 *    kernel entry was deleted and created again: they count from zero.
 */
#ifndef MCPWIRE_NETOBS_JOIN_H
#define MCPWIRE_NETOBS_JOIN_H

#include <linux/types.h>
#include <stddef.h>
#include <stdint.h>

/* bpf/netobs.h; <> because "" would find netobs/netobs.h next to this file */
#include <netobs.h>

struct metrics;

/* The server id (metrics_server()) of an endpoint label: 0 with *server and
 * *named set, or negative when unknown (mcp_server_of_endpoint()'s shape). */
typedef int (*netobs_lookup_fn)(void *arg, const char *label, uint32_t *server, int *named);

struct netobs_join;

/* max_endpoints: at least the kernel map's size. NULL on allocation failure. */
struct netobs_join *netobs_join_new(uint32_t max_endpoints, uint64_t hold_ns);
void netobs_join_free(struct netobs_join *j);

/* One pass over the kernel map: netobs_join_begin(), netobs_join_endpoint()
 * for each entry, netobs_join_end() (forgets endpoints not in this pass and
 * sets mcpwire_network_endpoints_unattributed). */
void netobs_join_begin(struct netobs_join *j);
/* Exports what endpoint ep gained; returns 1 when it is attributed to a
 * server, 0 when not (yet). */
int netobs_join_endpoint(struct netobs_join *j, const struct netobs_ep *ep,
			 const struct netobs_ep_stats *st, uint64_t now_ns, netobs_lookup_fn fn,
			 void *arg, struct metrics *m);
void netobs_join_end(struct netobs_join *j, struct metrics *m);
/* Endpoints of the last pass not attributed. */
uint32_t netobs_join_unattributed(const struct netobs_join *j);

/* The endpoint's label as mcp/ names it: "10.0.0.2:3001", "[fd00::2]:3001". */
void netobs_ep_label(const struct netobs_ep *ep, char *buf, size_t len);

#endif /* MCPWIRE_NETOBS_JOIN_H */
