// SPDX-License-Identifier: GPL-2.0-only
/*
 * Offline source: link layer → IPv4/IPv6 → TCP reassembly → stream/.
 *
 * The reassembly keeps only what stream/ cannot do itself: stream/ trims
 * overlaps and turns a jump into a gap, but has no reorder buffer (the live
 * capture's offsets come in syscall order). Here segments can arrive out of
 * order, so those ahead of the expected offset wait, bounded, for the hole
 * before them to fill.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>
#include "mcpwire.h"
#include "capture/pcap.h"
#include "stream/stream.h"

/* Link types as libpcap names them on Linux; the LINKTYPE_ values of other
 * systems that differ are mapped by libpcap already. */
#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#define ETH_P_QINQ 0x9100
#define VLAN_MAX_TAGS 4	 /* bounded walk: Q-in-Q and a little more */
#define IP6_MAX_EXTS 8	 /* extension headers walked before giving up */

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10

#define DIR_C2S 0 /* client to server: the server socket's STREAM_RECV */
#define DIR_S2C 1 /* server to client: STREAM_SEND */

/* A segment waiting for the hole before it. */
struct pr_seg {
	struct pr_seg *next;
	uint64_t off;	/* stream offset of data[0] */
	uint32_t len;	/* bytes captured */
	uint32_t full;	/* bytes the segment carried on the wire (>= len) */
	uint8_t data[];
};

struct pr_dir {
	uint32_t base;	     /* sequence number of stream offset 0 */
	uint8_t have_base;
	uint8_t fin;
	uint64_t next;	     /* offset up to which stream/ has been handed bytes */
	uint64_t fin_off;
	uint64_t cut_end;    /* end of the last segment the snaplen cut (0: none) */
	struct pr_seg *held; /* sorted by offset */
	uint64_t held_bytes;
};

/* One TCP connection. Endpoint 0 is the client's, 1 the server's. */
struct pr_conn {
	uint8_t v6;
	uint8_t addr[2][16];
	uint16_t port[2];
	uint8_t closed;	      /* RST or both FINs: later segments are stale */
	uint8_t syn_seen;     /* roles from the handshake */
	uint32_t syn_seq;     /* the client's ISN, to tell a retransmitted SYN */
	struct stream_key key;
	struct pr_dir dir[2]; /* DIR_C2S, DIR_S2C */
	struct pr_conn *hnext;
	struct pr_conn *lprev, *lnext; /* LRU, most recent at head */
};

struct pcap_replay {
	struct pcap_replay_config cfg;
	struct stream_table *st;
	pcap_t *p;
	int dlt;
	char path[256];

	/* the record read ahead by pcap_replay_open() */
	int have_first;
	struct pcap_pkthdr first_hdr;
	const uint8_t *first_data;

	uint64_t first_cap_ns; /* capture time of the first record */
	uint64_t start_ns;     /* pipeline time it maps to */
	uint64_t now_ns;       /* pipeline time of the latest record; never decreases */

	struct pr_conn **buckets;
	uint32_t nbuckets;
	uint32_t nconns;
	uint32_t next_id;
	uint64_t held_total; /* out-of-order bytes held, all connections */
	struct pr_conn *lru_head, *lru_tail;
	struct pcap_replay_stats stats;
};

/* A parsed TCP segment. */
struct pr_pkt {
	uint8_t v6;
	const uint8_t *saddr, *daddr;
	uint16_t sport, dport;
	uint32_t seq;
	uint32_t ack;
	uint8_t flags;
	const uint8_t *data;
	uint32_t len;  /* captured payload */
	uint32_t full; /* payload on the wire */
};

static const char *const pr_lost_names[PCAP_LOST__MAX] = {
	[PCAP_LOST_TRUNCATED] = "pcap_truncated",
	[PCAP_LOST_FRAGMENT] = "pcap_ip_fragment",
	[PCAP_LOST_MALFORMED] = "pcap_malformed",
	[PCAP_LOST_REORDER_OVERFLOW] = "pcap_reorder_overflow",
	[PCAP_LOST_CONN_TABLE_FULL] = "pcap_conn_table_full",
};

const char *pcap_replay_lost_name(int reason)
{
	if (reason < 0 || reason >= PCAP_LOST__MAX)
		return "unknown";
	return pr_lost_names[reason];
}

static uint16_t pr_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t pr_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ------------------------------------------------------------ connections */

static uint32_t pr_hash(const struct pr_pkt *k)
{
	/* symmetric in the two endpoints: both directions find one entry */
	uint32_t alen = k->v6 ? 16 : 4, h = 2166136261u;
	uint32_t a = k->sport, b = k->dport;

	for (uint32_t i = 0; i < alen; i++) {
		a = a * 31 + k->saddr[i];
		b = b * 31 + k->daddr[i];
	}
	h ^= a ^ b;
	h *= 16777619u;
	h ^= h >> 15;
	return h;
}

/* Which endpoint of c sent k: 0 (client), 1 (server), -1 not this conn. */
static int pr_match(const struct pr_conn *c, const struct pr_pkt *k)
{
	uint32_t alen = k->v6 ? 16 : 4;

	if (c->v6 != k->v6)
		return -1;
	for (int e = 0; e < 2; e++)
		if (c->port[e] == k->sport && c->port[!e] == k->dport &&
		    !memcmp(c->addr[e], k->saddr, alen) && !memcmp(c->addr[!e], k->daddr, alen))
			return e;
	return -1;
}

static struct pr_conn **pr_slot(struct pcap_replay *r, const struct pr_pkt *k, int *sender)
{
	struct pr_conn **pp = &r->buckets[pr_hash(k) & (r->nbuckets - 1)];

	while (*pp && (*sender = pr_match(*pp, k)) < 0)
		pp = &(*pp)->hnext;
	return pp;
}

static void pr_lru_unlink(struct pcap_replay *r, struct pr_conn *c)
{
	if (c->lprev)
		c->lprev->lnext = c->lnext;
	else
		r->lru_head = c->lnext;
	if (c->lnext)
		c->lnext->lprev = c->lprev;
	else
		r->lru_tail = c->lprev;
	c->lprev = c->lnext = NULL;
}

static void pr_lru_push(struct pcap_replay *r, struct pr_conn *c)
{
	c->lnext = r->lru_head;
	c->lprev = NULL;
	if (r->lru_head)
		r->lru_head->lprev = c;
	r->lru_head = c;
	if (!r->lru_tail)
		r->lru_tail = c;
}

/* Hands one segment to stream/ at its offset. A segment right after bytes
 * the snaplen cut off says so (after_cap), as the live capture does past its
 * per-syscall cap: those bytes were left out, not lost. */
static void pr_deliver(struct pcap_replay *r, struct pr_conn *c, int d, uint64_t off,
		       const uint8_t *data, uint32_t len, uint32_t full)
{
	struct pr_dir *D = &c->dir[d];
	int after_cap = D->cut_end && off == D->cut_end;

	if (len)
		stream_data(r->st, &c->key, d == DIR_C2S ? STREAM_RECV : STREAM_SEND, off, data,
			    len, after_cap, r->now_ns);
	if (len < full)
		D->cut_end = off + full;
	if (off + full > D->next)
		D->next = off + full;
}

/* Delivers held segments that the expected offset has reached. */
static void pr_drain(struct pcap_replay *r, struct pr_conn *c, int d)
{
	struct pr_dir *D = &c->dir[d];
	struct pr_seg *s;

	while ((s = D->held) && s->off <= D->next) {
		D->held = s->next;
		D->held_bytes -= s->len;
		r->held_total -= s->len;
		pr_deliver(r, c, d, s->off, s->data, s->len, s->full);
		free(s);
	}
}

/* Gives up on every hole of direction d: what is held goes out in order, the
 * holes between becoming gaps in stream/. */
static void pr_flush(struct pcap_replay *r, struct pr_conn *c, int d)
{
	struct pr_dir *D = &c->dir[d];
	struct pr_seg *s;

	while ((s = D->held)) {
		D->held = s->next;
		D->held_bytes -= s->len;
		r->held_total -= s->len;
		pr_deliver(r, c, d, s->off, s->data, s->len, s->full);
		free(s);
	}
}

/* The peer acknowledged everything below ack_off: holes there were received
 * by it, only the capture missed them, and no retransmission will come. */
static void pr_acked(struct pcap_replay *r, struct pr_conn *c, int d, uint64_t ack_off)
{
	struct pr_dir *D = &c->dir[d];
	struct pr_seg *s;

	while ((s = D->held) && s->off < ack_off) {
		D->held = s->next;
		D->held_bytes -= s->len;
		r->held_total -= s->len;
		pr_deliver(r, c, d, s->off, s->data, s->len, s->full);
		free(s);
		pr_drain(r, c, d);
	}
}

/* Holds a segment ahead of the expected offset; 0, or -1 when it does not
 * fit the per-direction budget. */
static int pr_hold(struct pcap_replay *r, struct pr_conn *c, int d, uint64_t off,
		   const uint8_t *data, uint32_t len, uint32_t full)
{
	struct pr_dir *D = &c->dir[d];
	struct pr_seg **pp = &D->held, *s;

	/* per direction, and for the whole table 16 directions' worth, so a
	 * capture full of lost segments cannot take unbounded memory */
	if (D->held_bytes + len > r->cfg.reorder_bytes ||
	    r->held_total + len > 16ull * r->cfg.reorder_bytes)
		return -1;
	while (*pp && (*pp)->off <= off) {
		/* the same segment again (a retransmission of a held one) */
		if ((*pp)->off == off && (*pp)->len >= len && (*pp)->full >= full)
			return 0;
		pp = &(*pp)->next;
	}
	s = malloc(sizeof(*s) + len);
	if (!s)
		return -1;
	s->off = off;
	s->len = len;
	s->full = full;
	memcpy(s->data, data, len);
	s->next = *pp;
	*pp = s;
	D->held_bytes += len;
	r->held_total += len;
	return 0;
}

static void pr_close(struct pcap_replay *r, struct pr_conn *c)
{
	if (c->closed)
		return;
	pr_flush(r, c, DIR_C2S);
	pr_flush(r, c, DIR_S2C);
	stream_close(r->st, &c->key, r->now_ns);
	c->closed = 1;
}

static void pr_free_conn(struct pcap_replay *r, struct pr_conn *c)
{
	for (int d = 0; d < 2; d++) {
		struct pr_seg *s;

		while ((s = c->dir[d].held)) {
			c->dir[d].held = s->next;
			r->held_total -= s->len;
			free(s);
		}
	}
	free(c);
}

static void pr_unlink(struct pcap_replay *r, struct pr_conn *c)
{
	struct pr_conn **pp;
	struct pr_pkt k = { .v6 = c->v6, .saddr = c->addr[0], .daddr = c->addr[1],
			    .sport = c->port[0], .dport = c->port[1] };
	int sender;

	pp = pr_slot(r, &k, &sender);
	while (*pp && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = c->hnext;
	pr_lru_unlink(r, c);
	r->nconns--;
}

/* The client is the sender of a SYN, the receiver of a SYN-ACK. Without the
 * handshake the server is guessed from the ports (a port below the
 * ephemeral range, else the lower one); the guess only names the local side,
 * since the role stays unknown and proto/ reads it from the content. */
static struct pr_conn *pr_new_conn(struct pcap_replay *r, struct pr_conn **slot,
				   const struct pr_pkt *k, int *sender)
{
	struct stream_conn_info info;
	uint32_t alen = k->v6 ? 16 : 4;
	struct pr_conn *c;
	int client_sent;

	if (r->nconns >= r->cfg.max_conns && r->lru_tail) {
		struct pr_conn *old = r->lru_tail;

		if (!old->closed)
			r->stats.lost[PCAP_LOST_CONN_TABLE_FULL]++;
		pr_close(r, old);
		pr_unlink(r, old);
		pr_free_conn(r, old);
		slot = pr_slot(r, k, sender); /* the chain may have changed */
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	if ((k->flags & (TH_SYN | TH_ACK)) == TH_SYN)
		client_sent = 1;
	else if ((k->flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK))
		client_sent = 0;
	else if ((k->sport < 32768) != (k->dport < 32768))
		client_sent = k->dport < 32768;
	else
		client_sent = k->dport <= k->sport;
	c->v6 = k->v6;
	memcpy(c->addr[0], client_sent ? k->saddr : k->daddr, alen);
	memcpy(c->addr[1], client_sent ? k->daddr : k->saddr, alen);
	c->port[0] = client_sent ? k->sport : k->dport;
	c->port[1] = client_sent ? k->dport : k->sport;
	c->syn_seen = !!(k->flags & TH_SYN);
	r->next_id++;
	c->key.tgid = 0; /* no process: the capture names none */
	c->key.fd = r->next_id;
	c->key.gen = r->next_id;

	memset(&info, 0, sizeof(info));
	info.role = c->syn_seen ? MW_ROLE_SERVER : MW_ROLE_UNKNOWN;
	info.family = c->v6 ? MW_FAM_TCP6 : MW_FAM_TCP4;
	info.lport = c->port[1];
	info.rport = c->port[0];
	memcpy(info.laddr, c->addr[1], alen);
	memcpy(info.raddr, c->addr[0], alen);
	stream_open(r->st, &c->key, &info, r->now_ns);

	c->hnext = *slot;
	*slot = c;
	pr_lru_push(r, c);
	r->nconns++;
	r->stats.conns++;
	*sender = client_sent ? 0 : 1;
	return c;
}

/* ------------------------------------------------------------------ TCP */

static void pr_tcp(struct pcap_replay *r, const struct pr_pkt *k)
{
	struct pr_conn **slot, *c;
	struct pr_dir *D;
	uint32_t data_seq, len = k->len, full = k->full;
	const uint8_t *data = k->data;
	int sender = -1, d;
	int64_t off;

	r->stats.tcp_segments++;
	r->stats.payload_bytes += len;
	slot = pr_slot(r, k, &sender);
	c = *slot;
	/* a new SYN on a closed or other connection's 4-tuple: port reuse */
	if (c && (k->flags & (TH_SYN | TH_ACK)) == TH_SYN &&
	    (c->closed || !c->syn_seen || c->syn_seq != k->seq || sender != 0)) {
		pr_close(r, c);
		pr_unlink(r, c);
		pr_free_conn(r, c);
		slot = pr_slot(r, k, &sender);
		c = NULL;
	}
	if (c && c->closed) {
		r->stats.after_close++;
		return;
	}
	if (!c) {
		/* a bare ACK, FIN or RST of a connection never seen opens nothing */
		if (!(k->flags & TH_SYN) && !full)
			return;
		c = pr_new_conn(r, slot, k, &sender);
		if (!c)
			return;
		if ((k->flags & (TH_SYN | TH_ACK)) == TH_SYN)
			c->syn_seq = k->seq;
	} else if (r->lru_head != c) {
		pr_lru_unlink(r, c);
		pr_lru_push(r, c);
	}
	d = sender == 0 ? DIR_C2S : DIR_S2C;
	D = &c->dir[d];

	data_seq = k->seq + !!(k->flags & TH_SYN);
	if (k->flags & TH_SYN) {
		if (!D->have_base) {
			D->base = data_seq;
			D->have_base = 1;
		}
	} else if (!D->have_base) {
		/* joined mid-stream: the first byte seen is offset 0 */
		D->base = data_seq;
		D->have_base = 1;
	}
	/* 32-bit sequence space onto the 64-bit offset, relative to what was
	 * delivered: a segment is at most 2 GiB from it either way */
	off = (int64_t)D->next + (int32_t)(data_seq - D->base - (uint32_t)D->next);
	if (off < 0) {
		/* starts before the stream's first byte: keep what follows it */
		if ((uint64_t)-off >= full) {
			len = full = 0;
		} else {
			uint32_t skip = (uint32_t)-off;

			data += skip < len ? skip : len;
			len = skip < len ? len - skip : 0;
			full -= skip;
		}
		off = 0;
	}

	if (full) {
		if ((uint64_t)off <= D->next) {
			/* in order, or overlapping what went before: stream/ trims */
			pr_deliver(r, c, d, (uint64_t)off, data, len, full);
			pr_drain(r, c, d);
		} else if (pr_hold(r, c, d, (uint64_t)off, data, len, full)) {
			r->stats.lost[PCAP_LOST_REORDER_OVERFLOW]++;
			pr_flush(r, c, d);
			pr_deliver(r, c, d, (uint64_t)off, data, len, full);
			pr_drain(r, c, d);
		}
	}

	/* an acknowledgement past a hole of the other direction gives it up */
	if ((k->flags & TH_ACK) && c->dir[!d].held && c->dir[!d].have_base) {
		struct pr_dir *O = &c->dir[!d];
		int64_t ack_off = (int64_t)O->next + (int32_t)(k->ack - O->base - (uint32_t)O->next);

		if (ack_off > (int64_t)O->next)
			pr_acked(r, c, !d, (uint64_t)ack_off);
	}

	if (k->flags & TH_RST) {
		pr_close(r, c);
		return;
	}
	if ((k->flags & TH_FIN) && !D->fin) {
		D->fin = 1;
		D->fin_off = (uint64_t)off + full;
	}
	/* both sides done and every byte before their FINs in: a close() */
	if (c->dir[0].fin && c->dir[1].fin && c->dir[0].next >= c->dir[0].fin_off &&
	    c->dir[1].next >= c->dir[1].fin_off)
		pr_close(r, c);
}

/* --------------------------------------------------------- IP and below */

/* Parses TCP at p (cap bytes captured, wire bytes on the wire after the IP
 * header). */
static void pr_l4(struct pcap_replay *r, struct pr_pkt *k, const uint8_t *p, uint32_t cap,
		  uint32_t wire)
{
	uint32_t doff;

	if (cap < 20) {
		r->stats.lost[wire >= 20 ? PCAP_LOST_TRUNCATED : PCAP_LOST_MALFORMED]++;
		return;
	}
	doff = (uint32_t)(p[12] >> 4) * 4;
	if (doff < 20 || doff > wire) {
		r->stats.lost[PCAP_LOST_MALFORMED]++;
		return;
	}
	if (doff > cap) {
		r->stats.lost[PCAP_LOST_TRUNCATED]++;
		return;
	}
	k->sport = pr_be16(p);
	k->dport = pr_be16(p + 2);
	k->seq = pr_be32(p + 4);
	k->ack = pr_be32(p + 8);
	k->flags = p[13];
	k->data = p + doff;
	k->len = cap - doff;
	k->full = wire - doff;
	if (k->len < k->full)
		r->stats.lost[PCAP_LOST_TRUNCATED]++;
	pr_tcp(r, k);
}

static void pr_ipv4(struct pcap_replay *r, const uint8_t *p, uint32_t cap, uint32_t wire)
{
	struct pr_pkt k = { 0 };
	uint32_t ihl, tot;

	if (cap < 20) {
		r->stats.lost[wire >= 20 ? PCAP_LOST_TRUNCATED : PCAP_LOST_MALFORMED]++;
		return;
	}
	ihl = (uint32_t)(p[0] & 0x0f) * 4;
	tot = pr_be16(p + 2);
	/* 0: a TSO/BIG TCP super-packet, its length known only to the link */
	if (tot == 0)
		tot = wire;
	if ((p[0] >> 4) != 4 || ihl < 20 || tot < ihl || tot > wire) {
		r->stats.lost[PCAP_LOST_MALFORMED]++;
		return;
	}
	if (pr_be16(p + 6) & 0x3fff) { /* MF or a fragment offset */
		r->stats.lost[PCAP_LOST_FRAGMENT]++;
		return;
	}
	if (p[9] != 6) {
		r->stats.not_tcp++;
		return;
	}
	if (ihl > cap) {
		r->stats.lost[PCAP_LOST_TRUNCATED]++;
		return;
	}
	/* the IP length, not the frame's: Ethernet pads short frames */
	if (cap > tot)
		cap = tot;
	k.saddr = p + 12;
	k.daddr = p + 16;
	pr_l4(r, &k, p + ihl, cap - ihl, tot - ihl);
}

static void pr_ipv6(struct pcap_replay *r, const uint8_t *p, uint32_t cap, uint32_t wire)
{
	struct pr_pkt k = { .v6 = 1 };
	uint32_t off = 40, tot, plen;
	uint8_t nh;

	if (cap < 40) {
		r->stats.lost[wire >= 40 ? PCAP_LOST_TRUNCATED : PCAP_LOST_MALFORMED]++;
		return;
	}
	plen = pr_be16(p + 4);
	tot = plen ? 40 + plen : wire; /* 0: jumbogram or BIG TCP */
	if ((p[0] >> 4) != 6 || tot > wire) {
		r->stats.lost[PCAP_LOST_MALFORMED]++;
		return;
	}
	if (cap > tot)
		cap = tot;
	nh = p[6];
	for (int i = 0; nh != 6; i++) {
		if (nh == 44) {
			r->stats.lost[PCAP_LOST_FRAGMENT]++;
			return;
		}
		/* hop-by-hop, routing, destination options: skippable */
		if ((nh != 0 && nh != 43 && nh != 60) || i >= IP6_MAX_EXTS) {
			r->stats.not_tcp++;
			return;
		}
		if (off + 8 > cap) {
			r->stats.lost[off + 8 > tot ? PCAP_LOST_MALFORMED : PCAP_LOST_TRUNCATED]++;
			return;
		}
		nh = p[off];
		off += ((uint32_t)p[off + 1] + 1) * 8;
	}
	if (off > tot) {
		r->stats.lost[PCAP_LOST_MALFORMED]++;
		return;
	}
	if (off > cap) {
		r->stats.lost[PCAP_LOST_TRUNCATED]++;
		return;
	}
	k.saddr = p + 8;
	k.daddr = p + 24;
	pr_l4(r, &k, p + off, cap - off, tot - off);
}

/* An IP packet by version nibble (raw IP link types). */
static void pr_ip(struct pcap_replay *r, const uint8_t *p, uint32_t cap, uint32_t wire)
{
	if (cap < 1)
		r->stats.lost[PCAP_LOST_MALFORMED]++;
	else if ((p[0] >> 4) == 4)
		pr_ipv4(r, p, cap, wire);
	else if ((p[0] >> 4) == 6)
		pr_ipv6(r, p, cap, wire);
	else
		r->stats.not_tcp++;
}

static void pr_ethertype(struct pcap_replay *r, uint16_t type, const uint8_t *p, uint32_t cap,
			 uint32_t wire)
{
	if (type == ETH_P_IPV4)
		pr_ipv4(r, p, cap, wire);
	else if (type == ETH_P_IPV6)
		pr_ipv6(r, p, cap, wire);
	else
		r->stats.not_tcp++;
}

/* Strips the link header of one record; hl is how far the IP header starts. */
static void pr_packet(struct pcap_replay *r, const uint8_t *p, uint32_t cap, uint32_t wire)
{
	uint32_t hl, af;
	uint16_t type;

	if (cap > wire) /* never in a sane file; trust the smaller */
		cap = wire;
	switch (r->dlt) {
	case DLT_EN10MB:
		hl = 14;
		if (cap < hl)
			goto short_hdr;
		type = pr_be16(p + 12);
		for (int i = 0; type == ETH_P_8021Q || type == ETH_P_8021AD || type == ETH_P_QINQ;
		     i++) {
			if (i >= VLAN_MAX_TAGS) {
				r->stats.not_tcp++;
				return;
			}
			if (cap < hl + 4)
				goto short_hdr;
			type = pr_be16(p + hl + 2);
			hl += 4;
		}
		pr_ethertype(r, type, p + hl, cap - hl, wire - hl);
		return;
	case DLT_LINUX_SLL:
		hl = 16;
		if (cap < hl)
			goto short_hdr;
		pr_ethertype(r, pr_be16(p + 14), p + hl, cap - hl, wire - hl);
		return;
	case DLT_LINUX_SLL2:
		hl = 20;
		if (cap < hl)
			goto short_hdr;
		pr_ethertype(r, pr_be16(p), p + hl, cap - hl, wire - hl);
		return;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		pr_ip(r, p, cap, wire);
		return;
	case DLT_NULL:
	case DLT_LOOP:
		hl = 4;
		if (cap < hl)
			goto short_hdr;
		/* DLT_NULL: the writer's byte order; DLT_LOOP: network order.
		 * AF_INET is 2 everywhere; AF_INET6 is 10, 24, 28 or 30 by OS. */
		af = r->dlt == DLT_LOOP ? pr_be32(p) : (uint32_t)p[0] | (uint32_t)p[3];
		if (af == 2)
			pr_ipv4(r, p + hl, cap - hl, wire - hl);
		else if (af == 10 || af == 24 || af == 28 || af == 30)
			pr_ipv6(r, p + hl, cap - hl, wire - hl);
		else
			r->stats.not_tcp++;
		return;
	}
	return;
short_hdr:
	r->stats.lost[wire >= hl ? PCAP_LOST_TRUNCATED : PCAP_LOST_MALFORMED]++;
}

/* ------------------------------------------------------------ the file */

static int pr_dlt_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_NULL:
	case DLT_LOOP:
		return 1;
	}
	return 0;
}

static uint64_t pr_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Capture time of a record in ns since the epoch, whatever the file's
 * precision (opened with nanosecond precision requested). */
static uint64_t pr_cap_ns(const struct pcap_pkthdr *h)
{
	return (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
}

int pcap_replay_open(const char *path, const struct pcap_replay_config *cfg,
		     struct stream_table *st, struct pcap_replay **out, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	struct pcap_replay *r;
	struct pcap_pkthdr *h;
	const uint8_t *data;
	struct stat sb;
	uint32_t n = 64;
	int rc;

	*out = NULL;
	/* libpcap's own messages for these are long and vary by version */
	if (stat(path, &sb)) {
		rc = -errno;
		snprintf(err, errlen, "--read %s: %s", path, strerror(errno));
		return rc;
	}
	if (S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "--read %s: is a directory", path);
		return -EISDIR;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->cfg = *cfg;
	if (!r->cfg.max_conns)
		r->cfg.max_conns = 65536;
	if (!r->cfg.reorder_bytes)
		r->cfg.reorder_bytes = 4 << 20;
	if (!r->cfg.tick_ns)
		r->cfg.tick_ns = 100000000ull;
	r->st = st;
	snprintf(r->path, sizeof(r->path), "%s", path);
	while (n < r->cfg.max_conns && n < (1u << 24))
		n <<= 1;
	r->nbuckets = n;
	r->buckets = calloc(n, sizeof(*r->buckets));
	if (!r->buckets) {
		pcap_replay_close(r);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}

	r->p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (!r->p) {
		pcap_replay_close(r);
		if (access(path, R_OK)) {
			snprintf(err, errlen, "--read %s: %s", path, strerror(errno));
			return -EACCES;
		}
		snprintf(err, errlen, "--read %s: not a pcap or pcapng capture (%s)", path, perr);
		return -EINVAL;
	}
	r->dlt = pcap_datalink(r->p);
	if (!pr_dlt_supported(r->dlt)) {
		const char *name = pcap_datalink_val_to_name(r->dlt);

		snprintf(err, errlen,
			 "--read %s: unsupported link type %s (%d); supported: EN10MB, "
			 "LINUX_SLL, LINUX_SLL2, RAW, NULL, LOOP",
			 path, name ? name : "unknown", r->dlt);
		pcap_replay_close(r);
		return -EPROTONOSUPPORT;
	}

	r->start_ns = r->now_ns = pr_mono_ns();
	rc = pcap_next_ex(r->p, &h, &data);
	if (rc == 1) {
		r->have_first = 1;
		r->first_hdr = *h;
		r->first_data = data;
		r->first_cap_ns = pr_cap_ns(h);
	} else if (rc == PCAP_ERROR) {
		snprintf(err, errlen, "--read %s: %s", path, pcap_geterr(r->p));
		pcap_replay_close(r);
		return -EIO;
	} else {
		/* empty: exported times fall back to the wall clock now */
		struct timespec rt;

		clock_gettime(CLOCK_REALTIME, &rt);
		r->first_cap_ns = (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec;
	}
	*out = r;
	return 0;
}

int64_t pcap_replay_clock_offset(const struct pcap_replay *r)
{
	return (int64_t)(r->first_cap_ns - r->start_ns);
}

int pcap_replay_run(struct pcap_replay *r, pcap_replay_tick_fn tick, void *arg, char *err,
		    size_t errlen)
{
	uint64_t next_tick = r->start_ns + r->cfg.tick_ns;
	struct pcap_pkthdr *h;
	const uint8_t *data;
	int rc = 0, res;

	for (;;) {
		uint64_t cap_ns, ts;

		if (r->have_first) {
			/* the read-ahead record: libpcap's buffer is still ours
			 * until the next pcap_next_ex() */
			r->have_first = 0;
			h = &r->first_hdr;
			data = r->first_data;
			res = 1;
		} else {
			res = pcap_next_ex(r->p, &h, &data);
		}
		if (res == PCAP_ERROR_BREAK)
			break;
		if (res == PCAP_ERROR) {
			snprintf(err, errlen, "--read %s: %s; replayed up to it", r->path,
				 pcap_geterr(r->p));
			rc = -EIO;
			break;
		}
		if (res != 1)
			continue;
		r->stats.packets++;
		/* capture time onto the pipeline's scale; a record stamped
		 * before the previous one (several capture queues) does not
		 * move time back */
		cap_ns = pr_cap_ns(h);
		ts = cap_ns >= r->first_cap_ns ? r->start_ns + (cap_ns - r->first_cap_ns) : 0;
		if (ts > r->now_ns)
			r->now_ns = ts;
		/* timers first, as in the live loop where they run while time
		 * passes: a request must expire before an answer that came
		 * too late */
		if (tick && r->now_ns >= next_tick) {
			next_tick = r->now_ns + r->cfg.tick_ns;
			if (tick(arg, r->now_ns)) {
				rc = 1;
				break;
			}
		}
		pr_packet(r, data, h->caplen, h->len);
	}
	if (rc != 1) {
		/* the file is over: holes will not fill any more */
		for (struct pr_conn *c = r->lru_head; c; c = c->lnext) {
			if (c->closed)
				continue;
			if (c->dir[0].fin || c->dir[1].fin) {
				pr_close(r, c);
			} else {
				pr_flush(r, c, DIR_C2S);
				pr_flush(r, c, DIR_S2C);
			}
		}
		/* just past the last record, so that whatever it left held for
		 * a dedup window of 1 ns (main.c) is released */
		if (tick && tick(arg, r->now_ns + 1))
			rc = rc ? rc : 1;
	}
	return rc;
}

void pcap_replay_stats(const struct pcap_replay *r, struct pcap_replay_stats *out)
{
	*out = r->stats;
}

void pcap_replay_close(struct pcap_replay *r)
{
	struct pr_conn *c;

	if (!r)
		return;
	while ((c = r->lru_head)) {
		pr_lru_unlink(r, c);
		pr_free_conn(r, c);
	}
	free(r->buckets);
	if (r->p)
		pcap_close(r->p);
	free(r);
}
