/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mcp/table — the bounded hash table under every mcp/ table (pending
 * requests, sessions, server endpoints, flows): a fixed number of slots
 * allocated once, O(1) insert/remove through chained buckets, and an age list
 * (least recently inserted or touched first) that drives eviction and expiry.
 * Keys live in the owner's entry array, indexed by slot; the owner compares
 * them while walking a bucket chain.
 *
 * Slot numbers are 0-based; MCP_TABLE_NONE means "no slot".
 */
#ifndef MCPWIRE_MCP_TABLE_H
#define MCPWIRE_MCP_TABLE_H

#include <stdint.h>

#include "util/hash.h"
#include <string.h>

#define MCP_TABLE_NONE UINT32_MAX

struct mcp_table_link {
	uint32_t hnext; /* next slot in the bucket chain (free list when unused) */
	uint32_t prev;	/* age list */
	uint32_t next;
	uint32_t hash;
};

struct mcp_table {
	uint32_t cap;	   /* slots */
	uint32_t count;	   /* slots in use */
	uint32_t mask;	   /* buckets - 1 */
	uint32_t *buckets; /* first slot of each chain */
	struct mcp_table_link *links;
	uint32_t oldest, newest; /* ends of the age list */
	uint32_t free;		 /* free-slot list through hnext */
};

/* Allocates cap slots (cap >= 1). Returns 0 or -ENOMEM. */
int mcp_table_init(struct mcp_table *t, uint32_t cap);
void mcp_table_fini(struct mcp_table *t);

/* First slot of the chain for hash, then mcp_table_next() until NONE; only
 * slots whose stored hash equals hash are returned. */
uint32_t mcp_table_first(const struct mcp_table *t, uint32_t hash);
uint32_t mcp_table_next(const struct mcp_table *t, uint32_t slot);

/* Takes a free slot for hash as the newest entry; NONE when the table is full
 * (the owner evicts mcp_table_oldest() first). */
uint32_t mcp_table_insert(struct mcp_table *t, uint32_t hash);
void mcp_table_remove(struct mcp_table *t, uint32_t slot);
/* Makes slot the newest (LRU use). */
void mcp_table_touch(struct mcp_table *t, uint32_t slot);

static inline uint32_t mcp_table_oldest(const struct mcp_table *t)
{
	return t->oldest;
}

/* The next newer slot on the age list, NONE at the end. */
static inline uint32_t mcp_table_newer(const struct mcp_table *t, uint32_t slot)
{
	return t->links[slot].next;
}

#endif /* MCPWIRE_MCP_TABLE_H */
