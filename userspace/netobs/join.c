// SPDX-License-Identifier: GPL-2.0-only
/*
 * netobs/join — endpoint totals to metrics deltas (join.h).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp/table.h"
#include "metrics/metrics.h"
#include "netobs/join.h"

struct netobs_join_ent {
	struct netobs_ep key;
	struct netobs_ep_stats done; /* totals already exported */
	uint64_t known_ns;	     /* first pass mcp/ knew the endpoint, 0: not yet */
	uint32_t pass;		     /* last pass that saw it in the kernel map */
};

struct netobs_join {
	struct mcp_table t;
	struct netobs_join_ent *ents;
	uint64_t hold_ns;
	uint32_t pass;
	uint32_t unattributed, unattributed_pass;
};

struct netobs_join *netobs_join_new(uint32_t max_endpoints, uint64_t hold_ns)
{
	struct netobs_join *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	if (mcp_table_init(&j->t, max_endpoints ? max_endpoints : 1)) {
		free(j);
		return NULL;
	}
	j->ents = calloc(j->t.cap, sizeof(*j->ents));
	if (!j->ents) {
		netobs_join_free(j);
		return NULL;
	}
	j->hold_ns = hold_ns;
	return j;
}

void netobs_join_free(struct netobs_join *j)
{
	if (!j)
		return;
	mcp_table_fini(&j->t);
	free(j->ents);
	free(j);
}

void netobs_ep_label(const struct netobs_ep *ep, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (ep->family == NETOBS_AF_INET6) {
		inet_ntop(AF_INET6, ep->addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ep->port);
	} else {
		inet_ntop(AF_INET, ep->addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ep->port);
	}
}

static uint32_t netobs_join_hash(const struct netobs_ep *ep)
{
	return mw_hash(MW_HASH_INIT, ep, sizeof(*ep));
}

static struct netobs_join_ent *netobs_join_get(struct netobs_join *j, const struct netobs_ep *ep)
{
	uint32_t h = netobs_join_hash(ep), slot;

	for (slot = mcp_table_first(&j->t, h); slot != MCP_TABLE_NONE;
	     slot = mcp_table_next(&j->t, slot))
		if (!memcmp(&j->ents[slot].key, ep, sizeof(*ep)))
			return &j->ents[slot];
	slot = mcp_table_insert(&j->t, h);
	if (slot == MCP_TABLE_NONE)
		return NULL;
	memset(&j->ents[slot], 0, sizeof(j->ents[slot]));
	j->ents[slot].key = *ep;
	return &j->ents[slot];
}

void netobs_join_begin(struct netobs_join *j)
{
	j->pass++;
	j->unattributed_pass = 0;
}

/* cur went below done somewhere: the kernel entry is a new one */
static int netobs_join_went_back(const struct netobs_ep_stats *cur,
				 const struct netobs_ep_stats *done)
{
	if (cur->rtt_count < done->rtt_count || cur->resets < done->resets ||
	    cur->retransmits < done->retransmits)
		return 1;
	for (int d = 0; d < 2; d++)
		if (cur->bytes[d] < done->bytes[d] || cur->packets[d] < done->packets[d])
			return 1;
	return 0;
}

int netobs_join_endpoint(struct netobs_join *j, const struct netobs_ep *ep,
			 const struct netobs_ep_stats *st, uint64_t now_ns, netobs_lookup_fn fn,
			 void *arg, struct metrics *m)
{
	struct netobs_join_ent *e = netobs_join_get(j, ep);
	struct netobs_ep_stats cur = *st;
	struct metrics_net_delta d;
	char label[80];
	uint32_t server;
	int named, any = 0;

	if (!e) {
		j->unattributed_pass++;
		return 0;
	}
	e->pass = j->pass;
	netobs_ep_label(ep, label, sizeof(label));
	if (fn(arg, label, &server, &named)) {
		e->known_ns = 0;
		j->unattributed_pass++;
		return 0;
	}
	if (!e->known_ns)
		e->known_ns = now_ns ? now_ns : 1;
	if (!named && now_ns - e->known_ns < j->hold_ns) {
		j->unattributed_pass++;
		return 0;
	}

	if (netobs_join_went_back(&cur, &e->done))
		memset(&e->done, 0, sizeof(e->done));
	/* the kernel bumps rtt_count last: a sample whose bucket is counted but
	 * not its count yet waits for the next pass, never the other way round */
	memset(&d, 0, sizeof(d));
	for (int i = 0; i < 2; i++) {
		d.bytes[i] = cur.bytes[i] - e->done.bytes[i];
		d.packets[i] = cur.packets[i] - e->done.packets[i];
		any |= d.bytes[i] || d.packets[i];
	}
	d.retransmits = cur.retransmits - e->done.retransmits;
	d.resets = cur.resets - e->done.resets;
	d.rtt_count = cur.rtt_count - e->done.rtt_count;
	any |= d.retransmits || d.resets || d.rtt_count;
	if (d.rtt_count) {
		uint64_t inb = 0;

		for (int i = 0; i < NETOBS_NBUCKETS; i++) {
			d.rtt_buckets[i] = cur.rtt_buckets[i] - e->done.rtt_buckets[i];
			inb += d.rtt_buckets[i];
		}
		inb += cur.rtt_buckets[NETOBS_NBUCKETS] - e->done.rtt_buckets[NETOBS_NBUCKETS];
		if (inb > d.rtt_count) {
			/* read between a bucket's and the count's increment: take
			 * the count, leave the excess buckets for the next pass */
			d.rtt_count = 0;
		} else {
			d.rtt_sum_s = (double)(cur.rtt_sum_ns - e->done.rtt_sum_ns) / 1e9;
			memcpy(e->done.rtt_buckets, cur.rtt_buckets, sizeof(cur.rtt_buckets));
			e->done.rtt_sum_ns = cur.rtt_sum_ns;
			e->done.rtt_count = cur.rtt_count;
		}
		if (!d.rtt_count)
			memset(d.rtt_buckets, 0, sizeof(d.rtt_buckets));
	}
	if (any)
		metrics_network_add(m, server, &d);
	memcpy(e->done.bytes, cur.bytes, sizeof(cur.bytes));
	memcpy(e->done.packets, cur.packets, sizeof(cur.packets));
	e->done.retransmits = cur.retransmits;
	e->done.resets = cur.resets;
	return 1;
}

void netobs_join_end(struct netobs_join *j, struct metrics *m)
{
	uint32_t slot = mcp_table_oldest(&j->t), next;

	for (; slot != MCP_TABLE_NONE; slot = next) {
		next = mcp_table_newer(&j->t, slot);
		if (j->ents[slot].pass != j->pass)
			mcp_table_remove(&j->t, slot);
	}
	j->unattributed = j->unattributed_pass;
	if (m)
		metrics_network_unattributed_set(m, j->unattributed);
}

uint32_t netobs_join_unattributed(const struct netobs_join *j)
{
	return j->unattributed;
}
