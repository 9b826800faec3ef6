// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-socket byte streams: offsets, gaps, overlaps, and the joining of the two
 * sockets of one connection into a flow.
 *
 * Sockets are indexed by (tgid, fd). The kernel reuses both, so the capture's
 * generation number tells a new socket on a reused fd from the old one: a
 * different generation closes the old socket first (its close() was missed).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/types.h>
#include "mcpwire.h"
#include "proto/conn.h"
#include "proto/stdio.h"
#include "stream/flow.h"
#include "stream/stream.h"

struct stream_conn {
	struct stream_key key;
	struct stream_conn_info info;
	struct proto_conn *proto;
	struct stdio_conn *stdio; /* instead of proto: a stdio server's fd 0/1 */
	uint64_t flow_id;
	uint64_t next_off[2]; /* expected offset per enum stream_dir */
	int seen[2];	      /* a first chunk arrived in this direction */
	struct stream_conn *hnext; /* hash chain */
	struct stream_conn *lprev, *lnext; /* LRU list, most recent at head */
};

struct stream_table {
	struct stream_config cfg;
	const struct proto_sink *sink;
	struct stream_conn **buckets;
	uint32_t nbuckets; /* power of two */
	uint32_t nconns;
	struct stream_conn *lru_head, *lru_tail;
	struct flow_table *flows;
	struct stream_stats stats;
};

static uint32_t stream_hash(uint32_t tgid, uint32_t fd)
{
	uint64_t k = ((uint64_t)tgid << 32) | fd;

	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (uint32_t)k;
}

static struct stream_conn **stream_slot(struct stream_table *st, uint32_t tgid, uint32_t fd)
{
	struct stream_conn **pp = &st->buckets[stream_hash(tgid, fd) & (st->nbuckets - 1)];

	while (*pp && ((*pp)->key.tgid != tgid || (*pp)->key.fd != fd))
		pp = &(*pp)->hnext;
	return pp;
}

static void stream_lru_unlink(struct stream_table *st, struct stream_conn *c)
{
	if (c->lprev)
		c->lprev->lnext = c->lnext;
	else
		st->lru_head = c->lnext;
	if (c->lnext)
		c->lnext->lprev = c->lprev;
	else
		st->lru_tail = c->lprev;
	c->lprev = c->lnext = NULL;
}

static void stream_lru_push(struct stream_table *st, struct stream_conn *c)
{
	c->lnext = st->lru_head;
	c->lprev = NULL;
	if (st->lru_head)
		st->lru_head->lprev = c;
	st->lru_head = c;
	if (!st->lru_tail)
		st->lru_tail = c;
}

static void stream_touch(struct stream_table *st, struct stream_conn *c)
{
	if (st->lru_head == c)
		return;
	stream_lru_unlink(st, c);
	stream_lru_push(st, c);
}

/* Removes c from every index and frees it; the proto stack flushes first. */
static void stream_drop(struct stream_table *st, struct stream_conn *c, uint64_t ts_ns)
{
	struct stream_conn **pp = stream_slot(st, c->key.tgid, c->key.fd);

	if (*pp == c)
		*pp = c->hnext;
	stream_lru_unlink(st, c);
	proto_conn_free(c->proto, ts_ns);
	stdio_conn_free(c->stdio, ts_ns);
	flow_release(st->flows, c->flow_id);
	st->nconns--;
	free(c);
}

/*
 * "unix:" and the server's address (struct mw_open_event's path) as ss(8)
 * shows it: a path up to its NUL, an abstract name as '@' and its bytes with
 * NULs as '@', except trailing NULs (libuv, so Node, binds abstract names
 * padded with NULs to the whole sun_path); bytes outside printable ASCII
 * become '?', so the label is valid UTF-8 whatever the name holds. "unix:unnamed" when the connection
 * has no address (a socketpair handed to an HTTP server). Both ends of a
 * connection name the same address (mw_unix_path()), so the same label.
 */
static void stream_unix_label(char *out, size_t size, const struct stream_conn_info *info)
{
	size_t n = info->path_len < sizeof(info->path) ? info->path_len : sizeof(info->path);
	size_t o = 0;

	if (!n) {
		snprintf(out, size, "unix:unnamed");
		return;
	}
	if (info->path[0] == 0)
		while (n > 1 && info->path[n - 1] == 0)
			n--;
	o = (size_t)snprintf(out, size, "unix:");
	for (size_t i = 0; i < n && o + 1 < size; i++) {
		uint8_t ch = info->path[i];

		if (ch == 0 && info->path[0] != 0)
			break; /* a path's terminating NUL */
		out[o++] = ch == 0 ? '@' : ch < 0x20 || ch >= 0x7f ? '?' : (char)ch;
	}
	out[o] = '\0';
}

/*
 * IPv6 sockets of a dual-stack server carry IPv4 peers as ::ffff:a.b.c.d while
 * the client's own socket is plain IPv4; both must name the same endpoint.
 * A unix socket's endpoint is its identity (stream.h) under the label of the
 * connection's server address.
 */
static void stream_endpoint(struct mcp_endpoint *ep, const struct stream_conn_info *info,
			    const uint8_t addr[16], uint16_t port)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	char buf[INET6_ADDRSTRLEN];
	uint32_t family = info->family;

	memset(ep, 0, sizeof(*ep));
	ep->port = port;
	if (family == MW_FAM_UNIX) {
		ep->family = AF_UNIX;
		memcpy(ep->addr, addr, 8);
		stream_unix_label(ep->label, sizeof(ep->label), info);
		return;
	}
	if (family == MW_FAM_TCP6 && memcmp(addr, v4mapped, 12) == 0) {
		ep->family = AF_INET;
		memcpy(ep->addr, addr + 12, 4);
	} else if (family == MW_FAM_TCP6) {
		ep->family = AF_INET6;
		memcpy(ep->addr, addr, 16);
	} else if (family == MW_FAM_TCP4) {
		ep->family = AF_INET;
		memcpy(ep->addr, addr, 4);
	} else {
		snprintf(ep->label, sizeof(ep->label), "unknown");
		return;
	}
	inet_ntop(ep->family, ep->addr, buf, sizeof(buf));
	if (ep->family == AF_INET6)
		snprintf(ep->label, sizeof(ep->label), "[%s]:%u", buf, port);
	else
		snprintf(ep->label, sizeof(ep->label), "%s:%u", buf, port);
}

static struct stream_conn *stream_create(struct stream_table *st, const struct stream_key *key,
					 const struct stream_conn_info *info, uint64_t ts_ns)
{
	struct proto_conn_params p;
	struct stream_conn *c;

	if (st->nconns >= st->cfg.max_conns && st->lru_tail) {
		st->stats.conns_evicted++;
		stream_drop(st, st->lru_tail, ts_ns);
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->key = *key;
	c->info = *info;

	memset(&p, 0, sizeof(p));
	p.role = info->role;
	p.tgid = info->tgid ? info->tgid : key->tgid;
	memcpy(p.comm, info->comm, sizeof(p.comm));
	p.comm[sizeof(p.comm) - 1] = '\0';
	p.max_body = st->cfg.max_body;
	p.payloads = st->cfg.payloads;
	stream_endpoint(&p.local, info, info->laddr, info->lport);
	stream_endpoint(&p.remote, info, info->raddr, info->rport);
	c->flow_id = flow_acquire(st->flows, &p.local, &p.remote, info->netns);
	p.flow_id = c->flow_id;

	/* the BPF side's rule (mw_stdio()): a unix socket beyond fd 1 is HTTP */
	if (info->family == MW_FAM_PIPE ||
	    (info->family == MW_FAM_UNIX && key->fd <= MW_STDIO_FD_MAX)) {
		struct stdio_conn_params sp = { .flow_id = p.flow_id, .tgid = p.tgid,
						.fd = key->fd, .max_body = p.max_body,
						.payloads = p.payloads };

		memcpy(sp.comm, p.comm, sizeof(sp.comm));
		c->stdio = stdio_conn_new(&sp, st->sink);
	} else
		c->proto = proto_conn_new(&p, st->sink);
	if (!c->proto && !c->stdio) {
		flow_release(st->flows, c->flow_id);
		free(c);
		return NULL;
	}
	c->hnext = NULL;
	*stream_slot(st, key->tgid, key->fd) = c;
	stream_lru_push(st, c);
	st->nconns++;
	st->stats.conns_opened++;
	return c;
}

struct stream_table *stream_table_new(const struct stream_config *cfg, const struct proto_sink *sink)
{
	struct stream_table *st = calloc(1, sizeof(*st));
	uint32_t n = 64;

	if (!st)
		return NULL;
	st->cfg = *cfg;
	if (!st->cfg.max_conns)
		st->cfg.max_conns = 1;
	while (n < st->cfg.max_conns && n < (1u << 24))
		n <<= 1;
	st->nbuckets = n;
	st->sink = sink;
	st->buckets = calloc(n, sizeof(*st->buckets));
	st->flows = flow_table_new(st->cfg.max_conns);
	if (!st->buckets || !st->flows) {
		stream_table_free(st);
		return NULL;
	}
	return st;
}

void stream_table_free(struct stream_table *st)
{
	if (!st)
		return;
	while (st->lru_head)
		stream_drop(st, st->lru_head, 0);
	flow_table_free(st->flows);
	free(st->buckets);
	free(st);
}

void stream_open(struct stream_table *st, const struct stream_key *key,
		 const struct stream_conn_info *info, uint64_t ts_ns)
{
	struct stream_conn *old = *stream_slot(st, key->tgid, key->fd);

	if (old)
		stream_drop(st, old, ts_ns);
	stream_create(st, key, info, ts_ns);
}

void stream_data(struct stream_table *st, const struct stream_key *key, enum stream_dir dir,
		 uint64_t offset, const uint8_t *data, size_t len, int after_cap, uint64_t ts_ns)
{
	struct stream_conn *c = *stream_slot(st, key->tgid, key->fd);
	uint64_t expected;

	if ((unsigned)dir > STREAM_SEND)
		return;
	if (c && c->key.gen != key->gen) {
		stream_drop(st, c, ts_ns);
		c = NULL;
	}
	if (!c) {
		struct stream_conn_info info = { .tgid = key->tgid };

		st->stats.data_without_open++;
		c = stream_create(st, key, &info, ts_ns);
		if (!c)
			return;
	}
	stream_touch(st, c);

	/* The first chunk of a direction defines where the stream starts: a
	 * socket joined mid-connection starts at whatever offset it has. */
	if (!c->seen[dir]) {
		c->seen[dir] = 1;
		c->next_off[dir] = offset;
	}
	expected = c->next_off[dir];
	if (offset < expected) {
		uint64_t dup = expected - offset;

		if (dup >= len) {
			st->stats.overlap_bytes += len;
			return;
		}
		st->stats.overlap_bytes += dup;
		data += dup;
		len -= dup;
		offset = expected;
	} else if (offset > expected) {
		if (!after_cap) {
			st->stats.gaps++;
			st->stats.gap_bytes += offset - expected;
		}
		if (c->stdio)
			stdio_conn_gap(c->stdio, dir, offset - expected, after_cap, ts_ns);
		else
			proto_conn_gap(c->proto, dir, offset - expected, after_cap, ts_ns);
	}
	c->next_off[dir] = offset + len;
	if (len && c->stdio)
		stdio_conn_data(c->stdio, dir, data, len, ts_ns);
	else if (len)
		proto_conn_data(c->proto, dir, data, len, ts_ns);
}

void stream_close(struct stream_table *st, const struct stream_key *key, uint64_t ts_ns)
{
	struct stream_conn *c = *stream_slot(st, key->tgid, key->fd);

	if (c && c->key.gen == key->gen)
		stream_drop(st, c, ts_ns);
}

void stream_stats(const struct stream_table *st, struct stream_stats *out)
{
	*out = st->stats;
}
