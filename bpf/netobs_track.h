/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The per-flow bookkeeping of the tc program, kept free of BPF helpers so the
 * unit tests run the same code (selftests/unit/test_netobs.c). The includer
 * provides __u8/__u32/__u64 (vmlinux.h in BPF, <linux/types.h> in userspace)
 * and netobs.h.
 *
 * Handshake RTT (one sample per connection, docs/network.md): the time from
 * the first SYN to the client's first ACK after the SYN-ACK, both seen at the
 * same (owner) veth. It spans both legs as that veth sees them: SYN → the
 * server's SYN-ACK (path to the server, the server's kernel, and back) and
 * SYN-ACK → the client's ACK (path to the client and back). A handshake with
 * a retransmitted SYN or SYN-ACK gives no sample (Karn's rule, RFC 6298 §3:
 * which copy was answered is ambiguous); its retransmissions are counted.
 *
 * Retransmission: a segment occupying sequence space (payload, SYN or FIN)
 * that starts before the highest sequence number already seen in its
 * direction (RFC 9293 §3.4 comparisons, modulo 2^32).
 */
#ifndef MCPWIRE_NETOBS_TRACK_H
#define MCPWIRE_NETOBS_TRACK_H

#ifndef NETOBS_INLINE
#define NETOBS_INLINE static inline __attribute__((always_inline))
#endif

/* TCP header flag bits (RFC 9293 §3.1), as in the 14th byte of the header. */
#define NETOBS_TCP_FIN 0x01
#define NETOBS_TCP_SYN 0x02
#define NETOBS_TCP_RST 0x04
#define NETOBS_TCP_ACK 0x10

/* One segment as the parser saw it. */
struct netobs_seg {
	__u64 ts_ns;
	__u32 seq;	/* host byte order */
	__u32 len;	/* payload bytes (all of a GSO packet's) */
	__u8 dir;	/* enum netobs_dir */
	__u8 tcp_flags; /* NETOBS_TCP_* */
};

/* What the segment means for the endpoint's counters. */
struct netobs_verdict {
	__u64 rtt_ns;	   /* handshake RTT sample, 0: none */
	__u8 retransmit;   /* count one retransmission */
	__u8 reset;	   /* count one reset */
};

/* a < b in sequence space */
NETOBS_INLINE int netobs_seq_before(__u32 a, __u32 b)
{
	return (__s32)(a - b) < 0;
}

/* Initial flags of a flow created at segment s, whose orientation the caller
 * chose (netobs_orient()). */
NETOBS_INLINE void netobs_flow_init(struct netobs_flow *f, const struct netobs_seg *s,
				    __u32 ifindex)
{
	__builtin_memset(f, 0, sizeof(*f));
	f->owner_ifindex = ifindex;
	f->last_ns = s->ts_ns;
	if (!(s->tcp_flags & NETOBS_TCP_SYN))
		f->flags = NETOBS_F_MIDSTREAM | NETOBS_F_RTT_DONE;
}

/* Updates f with segment s of the flow and fills v. */
NETOBS_INLINE void netobs_track(struct netobs_flow *f, const struct netobs_seg *s,
				struct netobs_verdict *v)
{
	__u16 seqbit = s->dir == NETOBS_C2S ? NETOBS_F_SEQ_C2S : NETOBS_F_SEQ_S2C;
	__u16 finbit = s->dir == NETOBS_C2S ? NETOBS_F_FIN_C2S : NETOBS_F_FIN_S2C;
	__u32 seglen = s->len, end;
	int dir = s->dir & 1;

	v->rtt_ns = 0;
	v->retransmit = 0;
	v->reset = 0;
	/* a SYN that is not a copy of this flow's (another initial sequence
	 * number, or the 4-tuple reused after a close or reset): a new
	 * connection */
	if ((s->tcp_flags & (NETOBS_TCP_SYN | NETOBS_TCP_ACK | NETOBS_TCP_RST)) == NETOBS_TCP_SYN &&
	    dir == NETOBS_C2S &&
	    (f->flags & (NETOBS_F_SEQ_C2S | NETOBS_F_SEQ_S2C | NETOBS_F_RST | NETOBS_F_MIDSTREAM)) &&
	    !((f->flags & (NETOBS_F_SYN | NETOBS_F_SEQ_C2S)) == (NETOBS_F_SYN | NETOBS_F_SEQ_C2S) &&
	      s->seq + 1 == f->seq_end[NETOBS_C2S] &&
	      !(f->flags & (NETOBS_F_FIN_C2S | NETOBS_F_RST))))
		netobs_flow_init(f, s, f->owner_ifindex);
	f->last_ns = s->ts_ns;
	if (s->tcp_flags & NETOBS_TCP_RST) {
		f->flags |= NETOBS_F_RST;
		v->reset = 1;
		return;
	}
	if (s->tcp_flags & NETOBS_TCP_SYN)
		seglen++;
	if (s->tcp_flags & NETOBS_TCP_FIN) {
		seglen++;
		f->flags |= finbit;
	}

	if ((s->tcp_flags & (NETOBS_TCP_SYN | NETOBS_TCP_ACK)) == NETOBS_TCP_SYN &&
	    dir == NETOBS_C2S) {
		if (!(f->flags & NETOBS_F_SYN))
			f->syn_ns = s->ts_ns;
		f->flags |= NETOBS_F_SYN;
		if (f->syn_count < 255)
			f->syn_count++;
	} else if ((s->tcp_flags & (NETOBS_TCP_SYN | NETOBS_TCP_ACK)) ==
			   (NETOBS_TCP_SYN | NETOBS_TCP_ACK) &&
		   dir == NETOBS_S2C) {
		if (!(f->flags & NETOBS_F_SYNACK))
			f->synack_ns = s->ts_ns;
		f->flags |= NETOBS_F_SYNACK;
		if (f->synack_count < 255)
			f->synack_count++;
	} else if (dir == NETOBS_C2S && (s->tcp_flags & NETOBS_TCP_ACK) &&
		   (f->flags & (NETOBS_F_SYN | NETOBS_F_SYNACK | NETOBS_F_RTT_DONE)) ==
			   (NETOBS_F_SYN | NETOBS_F_SYNACK)) {
		/* the client's first ACK after the SYN-ACK completes the handshake */
		f->flags |= NETOBS_F_RTT_DONE;
		if (f->syn_count == 1 && f->synack_count == 1 && s->ts_ns > f->syn_ns)
			v->rtt_ns = s->ts_ns - f->syn_ns;
	}

	if (!seglen)
		return;
	end = s->seq + seglen;
	if (!(f->flags & seqbit)) {
		f->flags |= seqbit;
		f->seq_end[dir] = end;
		return;
	}
	if (netobs_seq_before(s->seq, f->seq_end[dir]))
		v->retransmit = 1;
	if (netobs_seq_before(f->seq_end[dir], end))
		f->seq_end[dir] = end;
}

/*
 * Which end of a segment is the server, for a flow not in the map yet:
 * returns 1 when the source is the server. A SYN goes to the server, a
 * SYN-ACK comes from it; a flow first seen mid-stream (started before
 * mcpwire) is guessed from the ports: the lower one is the server's
 * (listening ports are below the ephemeral range on Linux's defaults,
 * 32768-60999). Ties: the destination.
 */
NETOBS_INLINE int netobs_src_is_server(__u8 tcp_flags, __u16 sport, __u16 dport)
{
	if (tcp_flags & NETOBS_TCP_SYN)
		return !!(tcp_flags & NETOBS_TCP_ACK);
	return sport < dport;
}

/* Index of the histogram bucket of an RTT sample (NETOBS_NBUCKETS: +Inf). */
NETOBS_INLINE __u32 netobs_bucket(__u64 ns)
{
	const __u64 bounds[NETOBS_NBUCKETS] = NETOBS_BOUNDS_NS;
	__u32 i;

	for (i = 0; i < NETOBS_NBUCKETS; i++)
		if (ns <= bounds[i])
			return i;
	return NETOBS_NBUCKETS;
}

#endif /* MCPWIRE_NETOBS_TRACK_H */
