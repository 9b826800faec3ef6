// SPDX-License-Identifier: GPL-2.0-only
/*
 * mcpwire network side: one tc (clsact) program attached on ingress and
 * egress of the host end of every veth on the observed bridge
 * (userspace/netobs/tc.c). It never changes a packet and always returns
 * TC_ACT_OK; it only counts, per TCP server endpoint (the address:port that
 * sent the SYN-ACK): bytes and segments per direction, the handshake RTT,
 * retransmissions and resets (bpf/netobs_track.h, docs/network.md).
 *
 * A flow between two containers of the bridge crosses two of our veths; it is
 * counted only at the veth that saw it first (netobs_flow.owner_ifindex), so
 * each segment is counted once and the RTT is measured at one place.
 *
 * Both maps are plain hash maps of fixed size: a flow or endpoint that finds
 * its map full is not counted, and the miss is counted by reason in the
 * per-CPU drops array. Userspace deletes idle flows (userspace/netobs/).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "netobs.h"
#include "netobs_track.h"

char LICENSE[] SEC("license") = "GPL";

#define TC_ACT_OK 0
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define NETOBS_ETH_HLEN 14
#define NETOBS_IPPROTO_TCP 6
#define E2BIG 7

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NETOBS_MAX_FLOWS);
	__type(key, struct netobs_flow_key);
	__type(value, struct netobs_flow);
} netobs_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NETOBS_MAX_ENDPOINTS);
	__type(key, struct netobs_ep);
	__type(value, struct netobs_ep_stats);
} netobs_endpoints SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NETOBS_DROP__MAX);
	__type(key, __u32);
	__type(value, __u64);
} netobs_drops SEC(".maps");

static __always_inline void netobs_drop(__u32 reason)
{
	__u64 *c = bpf_map_lookup_elem(&netobs_drops, &reason);

	if (c)
		(*c)++;
}

/* The parsed TCP/IP headers of one packet. */
struct netobs_pkt {
	__u8 family;
	__u8 saddr[16], daddr[16];
	__u16 sport, dport;
	__u32 l34_hlen; /* IP + TCP header bytes */
	__u32 ip_len;	/* IP packet length per its header (0: unknown) */
	struct netobs_seg seg;
};

/* Fills p from the packet; 0 for TCP, 1 for anything else, -1 for TCP that
 * could not be parsed. */
static __always_inline int netobs_parse(struct __sk_buff *skb, struct netobs_pkt *p)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct tcphdr *th;
	__u32 thl;

	if ((void *)(eth + 1) > end)
		return 1;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		__u32 ihl;

		if ((void *)(ip + 1) > end)
			return 1;
		if (ip->protocol != NETOBS_IPPROTO_TCP)
			return 1;
		/* a later fragment has no TCP header */
		if (ip->frag_off & bpf_htons(0x1fff))
			return 1;
		ihl = ip->ihl * 4;
		if (ihl < sizeof(*ip))
			return -1;
		th = (void *)ip + ihl;
		p->family = NETOBS_AF_INET;
		__builtin_memcpy(p->saddr, &ip->saddr, 4);
		__builtin_memcpy(p->daddr, &ip->daddr, 4);
		p->ip_len = bpf_ntohs(ip->tot_len);
		p->l34_hlen = ihl;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return 1;
		if (ip6->nexthdr != NETOBS_IPPROTO_TCP) {
			/* 0 hop-by-hop, 43 routing, 44 fragment, 60 destination
			 * options: TCP may be behind them; not followed */
			if (ip6->nexthdr == 0 || ip6->nexthdr == 43 || ip6->nexthdr == 44 ||
			    ip6->nexthdr == 60)
				return -1;
			return 1;
		}
		th = (void *)(ip6 + 1);
		p->family = NETOBS_AF_INET6;
		__builtin_memcpy(p->saddr, &ip6->saddr, 16);
		__builtin_memcpy(p->daddr, &ip6->daddr, 16);
		p->ip_len = bpf_ntohs(ip6->payload_len);
		p->ip_len = p->ip_len ? p->ip_len + sizeof(*ip6) : 0;
		p->l34_hlen = sizeof(*ip6);
	} else {
		return 1;
	}
	if ((void *)(th + 1) > end)
		return -1;
	thl = th->doff * 4;
	if (thl < sizeof(*th))
		return -1;
	p->l34_hlen += thl;
	p->sport = bpf_ntohs(th->source);
	p->dport = bpf_ntohs(th->dest);
	p->seg.seq = bpf_ntohl(th->seq);
	p->seg.tcp_flags = ((__u8 *)th)[13];
	return 0;
}

static __always_inline void netobs_key(struct netobs_flow_key *k, const struct netobs_pkt *p,
				       int src_is_server)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->server.family = p->family;
	if (src_is_server) {
		__builtin_memcpy(k->server.addr, p->saddr, 16);
		k->server.port = p->sport;
		__builtin_memcpy(k->client_addr, p->daddr, 16);
		k->client_port = p->dport;
	} else {
		__builtin_memcpy(k->server.addr, p->daddr, 16);
		k->server.port = p->dport;
		__builtin_memcpy(k->client_addr, p->saddr, 16);
		k->client_port = p->sport;
	}
}

static __always_inline struct netobs_ep_stats *netobs_ep_get(const struct netobs_ep *ep)
{
	static const struct netobs_ep_stats zero;
	struct netobs_ep_stats *st = bpf_map_lookup_elem(&netobs_endpoints, ep);

	if (st)
		return st;
	/* -EEXIST: another CPU created it meanwhile, which is fine */
	if (bpf_map_update_elem(&netobs_endpoints, ep, &zero, BPF_NOEXIST) == -E2BIG)
		netobs_drop(NETOBS_DROP_EP_TABLE_FULL);
	return bpf_map_lookup_elem(&netobs_endpoints, ep);
}

static __always_inline int netobs_handle(struct __sk_buff *skb)
{
	struct netobs_pkt p = {};
	struct netobs_flow_key k;
	struct netobs_flow *f, nf;
	struct netobs_verdict v;
	struct netobs_ep_stats *st;
	__u32 segs, bytes;
	int rc, src_is_server;

	rc = netobs_parse(skb, &p);
	if (rc) {
		if (rc < 0)
			netobs_drop(NETOBS_DROP_UNPARSED);
		return TC_ACT_OK;
	}
	p.seg.ts_ns = bpf_ktime_get_ns();

	/* the flow in either orientation, else a new one */
	src_is_server = 0;
	netobs_key(&k, &p, 0);
	f = bpf_map_lookup_elem(&netobs_flows, &k);
	if (!f) {
		netobs_key(&k, &p, 1);
		f = bpf_map_lookup_elem(&netobs_flows, &k);
		src_is_server = 1;
	}
	if (!f) {
		src_is_server = netobs_src_is_server(p.seg.tcp_flags, p.sport, p.dport);
		netobs_key(&k, &p, src_is_server);
		p.seg.dir = src_is_server ? NETOBS_S2C : NETOBS_C2S;
		netobs_flow_init(&nf, &p.seg, skb->ifindex);
		rc = bpf_map_update_elem(&netobs_flows, &k, &nf, BPF_NOEXIST);
		if (rc == -E2BIG) {
			netobs_drop(NETOBS_DROP_FLOW_TABLE_FULL);
			return TC_ACT_OK;
		}
		f = bpf_map_lookup_elem(&netobs_flows, &k);
		if (!f)
			return TC_ACT_OK;
	}
	/* the other veth of a container-to-container flow */
	if (f->owner_ifindex != skb->ifindex)
		return TC_ACT_OK;
	p.seg.dir = src_is_server ? NETOBS_S2C : NETOBS_C2S;

	/* a GSO packet stands for gso_segs segments, each with its headers */
	segs = skb->gso_segs > 1 ? skb->gso_segs : 1;
	if (segs > 1 || !p.ip_len) {
		bytes = skb->len > NETOBS_ETH_HLEN ? skb->len - NETOBS_ETH_HLEN : 0;
		bytes += (segs - 1) * p.l34_hlen;
		p.seg.len = skb->len > NETOBS_ETH_HLEN + p.l34_hlen ?
				    skb->len - NETOBS_ETH_HLEN - p.l34_hlen : 0;
	} else {
		bytes = p.ip_len;
		p.seg.len = p.ip_len > p.l34_hlen ? p.ip_len - p.l34_hlen : 0;
	}

	netobs_track(f, &p.seg, &v);

	st = netobs_ep_get(&k.server);
	if (!st)
		return TC_ACT_OK;
	__sync_fetch_and_add(&st->bytes[p.seg.dir], bytes);
	__sync_fetch_and_add(&st->packets[p.seg.dir], segs);
	if (v.retransmit)
		__sync_fetch_and_add(&st->retransmits, 1);
	if (v.reset)
		__sync_fetch_and_add(&st->resets, 1);
	if (v.rtt_ns) {
		__u32 b = netobs_bucket(v.rtt_ns);

		if (b <= NETOBS_NBUCKETS)
			__sync_fetch_and_add(&st->rtt_buckets[b], 1);
		__sync_fetch_and_add(&st->rtt_sum_ns, v.rtt_ns);
		/* count last: userspace reads count, then buckets (docs/network.md) */
		__sync_fetch_and_add(&st->rtt_count, 1);
	}
	st->last_ns = p.seg.ts_ns;
	return TC_ACT_OK;
}

SEC("tc")
int netobs_ingress(struct __sk_buff *skb)
{
	return netobs_handle(skb);
}

SEC("tc")
int netobs_egress(struct __sk_buff *skb)
{
	return netobs_handle(skb);
}
