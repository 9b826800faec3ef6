// SPDX-License-Identifier: GPL-2.0-only
/*
 * mcp/pair — the pending-request table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mcp/pair.h"

static uint32_t mcp_pair_hash(const struct mcp_scope *scope, uint8_t dir,
			      const struct jsonrpc_id *id)
{
	uint32_t h = MW_HASH_INIT;
	uint8_t len = id->len < JSONRPC_ID_MAX ? id->len : JSONRPC_ID_MAX;

	h = mw_hash(h, &scope->kind, 1);
	h = mw_hash(h, &scope->value, sizeof(scope->value));
	h = mw_hash(h, &dir, 1);
	/* type is part of the id: 5 and "5" differ (JSON-RPC 2.0 §4) */
	h = mw_hash(h, &id->type, 1);
	h = mw_hash(h, &id->truncated, 1);
	return mw_hash(h, id->text, len);
}

static int mcp_pair_match(const struct mcp_pending *e, const struct mcp_scope *scope, uint8_t dir,
			  const struct jsonrpc_id *id)
{
	return e->scope.kind == scope->kind && e->scope.value == scope->value && e->dir == dir &&
	       e->id.type == id->type && e->id.len == id->len &&
	       e->id.truncated == id->truncated && !memcmp(e->id.text, id->text, id->len);
}

int mcp_pair_init(struct mcp_pair *p, uint32_t max_pending)
{
	if (mcp_table_init(&p->t, max_pending))
		return -ENOMEM;
	/* calloc: pages are touched only as slots get used */
	p->ents = calloc(p->t.cap, sizeof(*p->ents));
	if (!p->ents) {
		mcp_table_fini(&p->t);
		return -ENOMEM;
	}
	return 0;
}

void mcp_pair_fini(struct mcp_pair *p)
{
	mcp_table_fini(&p->t);
	free(p->ents);
	p->ents = NULL;
}

uint32_t mcp_pair_find(const struct mcp_pair *p, const struct mcp_scope *scope, uint8_t dir,
		       const struct jsonrpc_id *id)
{
	uint32_t slot = mcp_table_first(&p->t, mcp_pair_hash(scope, dir, id));

	for (; slot != MCP_TABLE_NONE; slot = mcp_table_next(&p->t, slot))
		if (mcp_pair_match(&p->ents[slot], scope, dir, id))
			return slot;
	return MCP_TABLE_NONE;
}

uint32_t mcp_pair_insert(struct mcp_pair *p, const struct mcp_scope *scope, uint8_t dir,
			 const struct jsonrpc_id *id)
{
	uint32_t slot = mcp_table_insert(&p->t, mcp_pair_hash(scope, dir, id));
	struct mcp_pending *e;

	if (slot == MCP_TABLE_NONE)
		return slot;
	e = &p->ents[slot];
	memset(e, 0, sizeof(*e));
	e->scope = *scope;
	e->dir = dir;
	e->id.type = id->type;
	e->id.truncated = id->truncated;
	e->id.len = id->len < JSONRPC_ID_MAX ? id->len : JSONRPC_ID_MAX;
	memcpy(e->id.text, id->text, e->id.len);
	return slot;
}

void mcp_pair_remove(struct mcp_pair *p, uint32_t slot)
{
	mcp_table_remove(&p->t, slot);
}
