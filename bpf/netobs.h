/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Types shared by the tc program (bpf/netobs.bpf.c) and the daemon
 * (userspace/netobs/): the maps' keys and values and the drop reasons.
 * Fixed-width fields only and no includes, like mcpwire.h.
 *
 * Vocabulary: a *flow* is one TCP connection; its *server endpoint* is the
 * address and port that sent the SYN-ACK (the side that accepted), the
 * *client* the other one. Directions are the design's client_to_server and
 * server_to_client (docs/network.md).
 */
#ifndef MCPWIRE_NETOBS_H
#define MCPWIRE_NETOBS_H

/* Histogram upper bounds of mcp_network_rtt_seconds in nanoseconds: the
 * design's buckets (design.md "Metric contract"), +Inf is bucket
 * NETOBS_NBUCKETS. userspace checks they equal metrics_buckets[]. */
#define NETOBS_NBUCKETS 18
#define NETOBS_BOUNDS_NS                                                                    \
	{ 500000ull, 1000000ull, 2500000ull, 5000000ull, 10000000ull, 20000000ull, 50000000ull, \
	  100000000ull, 200000000ull, 500000000ull, 1000000000ull, 2000000000ull,             \
	  5000000000ull, 10000000000ull, 30000000000ull, 60000000000ull, 120000000000ull,     \
	  300000000000ull }

/* Default map sizes; userspace may change them before load. */
#define NETOBS_MAX_FLOWS 16384
#define NETOBS_MAX_ENDPOINTS 4096

/* Address families, with the values of AF_INET and AF_INET6. */
#define NETOBS_AF_INET 2
#define NETOBS_AF_INET6 10

enum netobs_dir {
	NETOBS_C2S = 0, /* client_to_server */
	NETOBS_S2C = 1, /* server_to_client */
};

/* A server endpoint: key of the endpoints map. */
struct netobs_ep {
	__u8 family;	/* NETOBS_AF_INET or NETOBS_AF_INET6 */
	__u8 pad;
	__u16 port;	/* host byte order */
	__u8 addr[16];	/* network byte order; IPv4 in the first 4 bytes, rest 0 */
};

/* Totals since the endpoint entered the map, updated with atomic adds. */
struct netobs_ep_stats {
	__u64 bytes[2];	     /* by enum netobs_dir: IP packet bytes, headers included */
	__u64 packets[2];    /* by enum netobs_dir: TCP segments (a GSO packet counts its segments) */
	__u64 retransmits;   /* segments whose sequence range was already seen */
	__u64 resets;	     /* segments with RST, either direction */
	__u64 rtt_count;     /* handshake RTT samples */
	__u64 rtt_sum_ns;
	__u64 rtt_buckets[NETOBS_NBUCKETS + 1]; /* per bucket, not cumulative; last is +Inf */
	__u64 last_ns;	     /* bpf_ktime_get_ns() of the last update (CLOCK_MONOTONIC) */
};

/* Key of the flows map: always oriented server endpoint first. */
struct netobs_flow_key {
	struct netobs_ep server;
	__u8 client_addr[16];
	__u16 client_port; /* host byte order */
	__u16 pad;
};

/* netobs_flow.flags */
#define NETOBS_F_SYN 0x01	 /* SYN (without ACK) seen */
#define NETOBS_F_SYNACK 0x02	 /* SYN-ACK seen */
#define NETOBS_F_RTT_DONE 0x04	 /* the one RTT sample was taken or given up */
#define NETOBS_F_SEQ_C2S 0x08	 /* seq_end[NETOBS_C2S] is valid */
#define NETOBS_F_SEQ_S2C 0x10	 /* seq_end[NETOBS_S2C] is valid */
#define NETOBS_F_FIN_C2S 0x20
#define NETOBS_F_FIN_S2C 0x40
#define NETOBS_F_MIDSTREAM 0x80	 /* first seen after its handshake: oriented by port */
#define NETOBS_F_RST 0x100	 /* reset: kept (so the other veth still sees an owner)
				  * until userspace sweeps it */

/* Per-flow state, value of the flows map. */
struct netobs_flow {
	__u64 syn_ns;	     /* first SYN at the owner veth */
	__u64 synack_ns;     /* first SYN-ACK */
	__u64 last_ns;	     /* last segment, for userspace's sweep of idle flows */
	__u32 owner_ifindex; /* the veth that saw the flow first; others ignore it */
	__u32 seq_end[2];    /* by enum netobs_dir: highest sequence number + 1 seen */
	__u16 flags;	     /* NETOBS_F_* */
	__u8 syn_count;	     /* SYNs seen (more than 1: retransmitted) */
	__u8 synack_count;
	__u8 pad[4];
};

/* Per-CPU counters of what the tc program could not account, by reason
 * (exported as mcpwire_events_lost_total{reason="net_..."}). */
enum netobs_drop {
	NETOBS_DROP_FLOW_TABLE_FULL = 0, /* a new flow found the flows map full */
	NETOBS_DROP_EP_TABLE_FULL = 1,	 /* a new endpoint found the endpoints map full */
	NETOBS_DROP_UNPARSED = 2,	 /* TCP in IPv6 behind extension headers, truncated headers */
	NETOBS_DROP__MAX,
};

#endif /* MCPWIRE_NETOBS_H */
