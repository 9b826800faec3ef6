/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * netobs/ — the network side of mcpwire (design.md "Data flow": tc clsact on
 * the network's veths; issue #4; docs/network.md).
 *
 * netobs_start() loads bpf/netobs.bpf.c and attaches it on ingress and egress
 * of the host end of every veth on the bridge, and follows veths that join or
 * leave the bridge (netobs/links). netobs_poll() applies those changes and
 * turns the per-endpoint totals into the mcp_network_* metrics, joined to
 * server names through mcp/ (netobs/join). netobs_stop() removes every tc
 * filter it added and every clsact qdisc it created, nothing else
 * (netobs/tc).
 *
 * Threads: everything runs on the pipeline thread; the metrics reach the HTTP
 * threads through the snapshot metrics_publish() renders.
 */
#ifndef MCPWIRE_NETOBS_NETOBS_H
#define MCPWIRE_NETOBS_NETOBS_H

#include <stddef.h>
#include <stdint.h>

struct mcp_state;
struct metrics;
struct netobs;

/* Zero fields take the defaults in brackets. */
struct netobs_config {
	uint32_t max_flows;	  /* [16384] TCP connections tracked at once */
	uint32_t max_endpoints;	  /* [4096] server endpoints counted */
	uint64_t read_interval_ns; /* [1 s] how often the endpoint map is read */
	uint64_t unnamed_hold_ns; /* [2 s] netobs/join.h: wait for a serverInfo */
	uint64_t flow_idle_ns;	  /* [120 s] flows without a segment are forgotten */
	int verbose;		  /* log attach and detach of each veth on stderr */
};

/*
 * Loads the tc program and attaches it to the veths of bridge_ifname. cfg may
 * be NULL. Returns 0, or a negative errno with one line in err (no such
 * bridge, not a bridge, BPF load or tc attach refused); on failure nothing is
 * left attached.
 */
int netobs_start(struct netobs **out, const char *bridge_ifname, const struct netobs_config *cfg,
		 char *err, size_t errlen);

/*
 * Follows veth changes (attaching to new ones, forgetting vanished ones), and
 * every read_interval_ns reads the endpoint map into m: mcp_network_* per
 * server (names from mcp), mcpwire_network_endpoints_unattributed and the
 * kernel's losses as mcpwire_events_lost_total{reason="net_*"}. now_ns is
 * CLOCK_MONOTONIC. Call every ~100 ms from the pipeline thread. Returns 0 or
 * a negative errno when link events can no longer be followed (the bridge
 * stays instrumented as it was).
 */
int netobs_poll(struct netobs *n, struct mcp_state *mcp, struct metrics *m, uint64_t now_ns);

/* Detaches from every veth (removing only what netobs added) and frees n.
 * NULL is a no-op. */
void netobs_stop(struct netobs *n);

#endif /* MCPWIRE_NETOBS_NETOBS_H */
