// SPDX-License-Identifier: GPL-2.0-only
/* Flow table: open addressing would need tombstones; flows come and go with
 * every connection, so chained buckets plus an id index are simpler. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "stream/flow.h"

struct flow_key {
	uint8_t family;
	uint8_t a[16], b[16]; /* ordered so that (a,pa) <= (b,pb) */
	uint16_t pa, pb;
	uint32_t netns;
};

struct flow {
	struct flow_key key;
	uint64_t id;
	uint32_t refs;
	struct flow *knext; /* by key */
	struct flow *inext; /* by id */
};

struct flow_table {
	struct flow **by_key, **by_id;
	uint32_t nbuckets, count, capacity;
	uint64_t next_id;
	uint64_t overflows;
};

static uint32_t flow_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (uint32_t)h;
}

static uint32_t flow_key_hash(const struct flow_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return flow_mix(h);
}

static int flow_is_loopback(const struct mcp_endpoint *ep)
{
	static const uint8_t v6lo[16] = { [15] = 1 };

	if (ep->family == AF_INET)
		return ep->addr[0] == 127;
	return memcmp(ep->addr, v6lo, 16) == 0;
}

struct flow_table *flow_table_new(uint32_t capacity)
{
	struct flow_table *ft = calloc(1, sizeof(*ft));
	uint32_t n = 64;

	if (!ft)
		return NULL;
	while (n < capacity && n < (1u << 24))
		n <<= 1;
	ft->nbuckets = n;
	ft->capacity = capacity ? capacity : 1;
	ft->next_id = 1;
	ft->by_key = calloc(n, sizeof(*ft->by_key));
	ft->by_id = calloc(n, sizeof(*ft->by_id));
	if (!ft->by_key || !ft->by_id) {
		flow_table_free(ft);
		return NULL;
	}
	return ft;
}

void flow_table_free(struct flow_table *ft)
{
	if (!ft)
		return;
	for (uint32_t i = 0; ft->by_key && i < ft->nbuckets; i++) {
		struct flow *f = ft->by_key[i];

		while (f) {
			struct flow *n = f->knext;

			free(f);
			f = n;
		}
	}
	free(ft->by_key);
	free(ft->by_id);
	free(ft);
}

uint64_t flow_acquire(struct flow_table *ft, const struct mcp_endpoint *local,
		      const struct mcp_endpoint *remote, uint32_t netns)
{
	struct flow_key k;
	struct flow **pp, *f;
	int swap;

	static const uint8_t none[16];

	if ((local->family != AF_INET && local->family != AF_INET6 && local->family != AF_UNIX) ||
	    local->family != remote->family)
		return ft->next_id++;
	/* a unix socket without a peer (or an unnamed one) has nothing to pair
	 * with; its identity is host-wide, so no netns either (stream.h) */
	if (local->family == AF_UNIX &&
	    (!memcmp(local->addr, none, 16) || !memcmp(remote->addr, none, 16)))
		return ft->next_id++;

	memset(&k, 0, sizeof(k));
	k.family = local->family;
	swap = memcmp(local->addr, remote->addr, 16);
	if (swap == 0)
		swap = (int)local->port - (int)remote->port;
	const struct mcp_endpoint *lo = swap <= 0 ? local : remote;
	const struct mcp_endpoint *hi = swap <= 0 ? remote : local;
	memcpy(k.a, lo->addr, 16);
	memcpy(k.b, hi->addr, 16);
	k.pa = lo->port;
	k.pb = hi->port;
	if (local->family != AF_UNIX && flow_is_loopback(local))
		k.netns = netns;

	pp = &ft->by_key[flow_key_hash(&k) & (ft->nbuckets - 1)];
	for (f = *pp; f; f = f->knext) {
		if (memcmp(&f->key, &k, sizeof(k)) == 0) {
			f->refs++;
			return f->id;
		}
	}
	if (ft->count >= ft->capacity) {
		ft->overflows++;
		return ft->next_id++;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		ft->overflows++;
		return ft->next_id++;
	}
	f->key = k;
	f->id = ft->next_id++;
	f->refs = 1;
	f->knext = *pp;
	*pp = f;
	f->inext = ft->by_id[flow_mix(f->id) & (ft->nbuckets - 1)];
	ft->by_id[flow_mix(f->id) & (ft->nbuckets - 1)] = f;
	ft->count++;
	return f->id;
}

void flow_release(struct flow_table *ft, uint64_t id)
{
	struct flow **ip = &ft->by_id[flow_mix(id) & (ft->nbuckets - 1)], *f, **kp;

	while (*ip && (*ip)->id != id)
		ip = &(*ip)->inext;
	f = *ip;
	if (!f || --f->refs)
		return;
	*ip = f->inext;
	kp = &ft->by_key[flow_key_hash(&f->key) & (ft->nbuckets - 1)];
	while (*kp != f)
		kp = &(*kp)->knext;
	*kp = f->knext;
	ft->count--;
	free(f);
}

uint64_t flow_table_overflows(const struct flow_table *ft)
{
	return ft->overflows;
}
