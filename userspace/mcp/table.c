// SPDX-License-Identifier: GPL-2.0-only
/*
 * mcp/table — fixed-capacity chained hash table with an age list.
 */
#include <errno.h>
#include <stdlib.h>

#include "mcp/table.h"

int mcp_table_init(struct mcp_table *t, uint32_t cap)
{
	uint32_t nb = 1;

	if (!cap)
		cap = 1;
	/* one bucket per slot keeps chains short at full load */
	while (nb < cap && nb < (1u << 31))
		nb <<= 1;
	t->cap = cap;
	t->count = 0;
	t->mask = nb - 1;
	t->buckets = malloc((size_t)nb * sizeof(*t->buckets));
	t->links = malloc((size_t)cap * sizeof(*t->links));
	if (!t->buckets || !t->links) {
		mcp_table_fini(t);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < nb; i++)
		t->buckets[i] = MCP_TABLE_NONE;
	for (uint32_t i = 0; i < cap; i++)
		t->links[i].hnext = i + 1 < cap ? i + 1 : MCP_TABLE_NONE;
	t->free = 0;
	t->oldest = t->newest = MCP_TABLE_NONE;
	return 0;
}

void mcp_table_fini(struct mcp_table *t)
{
	free(t->buckets);
	free(t->links);
	t->buckets = NULL;
	t->links = NULL;
	t->cap = t->count = 0;
}

uint32_t mcp_table_next(const struct mcp_table *t, uint32_t slot)
{
	uint32_t hash = t->links[slot].hash;

	for (slot = t->links[slot].hnext; slot != MCP_TABLE_NONE; slot = t->links[slot].hnext)
		if (t->links[slot].hash == hash)
			return slot;
	return MCP_TABLE_NONE;
}

uint32_t mcp_table_first(const struct mcp_table *t, uint32_t hash)
{
	uint32_t slot = t->buckets[hash & t->mask];

	for (; slot != MCP_TABLE_NONE; slot = t->links[slot].hnext)
		if (t->links[slot].hash == hash)
			return slot;
	return MCP_TABLE_NONE;
}

static void mcp_table_unlink_age(struct mcp_table *t, uint32_t slot)
{
	struct mcp_table_link *l = &t->links[slot];

	if (l->prev != MCP_TABLE_NONE)
		t->links[l->prev].next = l->next;
	else
		t->oldest = l->next;
	if (l->next != MCP_TABLE_NONE)
		t->links[l->next].prev = l->prev;
	else
		t->newest = l->prev;
}

static void mcp_table_link_newest(struct mcp_table *t, uint32_t slot)
{
	struct mcp_table_link *l = &t->links[slot];

	l->prev = t->newest;
	l->next = MCP_TABLE_NONE;
	if (t->newest != MCP_TABLE_NONE)
		t->links[t->newest].next = slot;
	else
		t->oldest = slot;
	t->newest = slot;
}

uint32_t mcp_table_insert(struct mcp_table *t, uint32_t hash)
{
	uint32_t slot = t->free, b = hash & t->mask;

	if (slot == MCP_TABLE_NONE)
		return MCP_TABLE_NONE;
	t->free = t->links[slot].hnext;
	t->links[slot].hash = hash;
	t->links[slot].hnext = t->buckets[b];
	t->buckets[b] = slot;
	mcp_table_link_newest(t, slot);
	t->count++;
	return slot;
}

void mcp_table_remove(struct mcp_table *t, uint32_t slot)
{
	uint32_t *pp = &t->buckets[t->links[slot].hash & t->mask];

	while (*pp != MCP_TABLE_NONE && *pp != slot)
		pp = &t->links[*pp].hnext;
	if (*pp == MCP_TABLE_NONE)
		return;
	*pp = t->links[slot].hnext;
	mcp_table_unlink_age(t, slot);
	t->links[slot].hnext = t->free;
	t->free = slot;
	t->count--;
}

void mcp_table_touch(struct mcp_table *t, uint32_t slot)
{
	if (t->newest == slot)
		return;
	mcp_table_unlink_age(t, slot);
	mcp_table_link_newest(t, slot);
}
