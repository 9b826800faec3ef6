// SPDX-License-Identifier: GPL-2.0-only
/*
 * mcp/client — the client-side wait table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mcp/client.h"
#include "metrics/metrics.h"

/* Scopes a client-observed message (or the server's end of the same call)
 * may be keyed under, most specific first (client.h). */
struct mcp_client_scopes {
	struct mcp_scope v[3];
	int n;
};

static uint64_t mcp_client_session_hash(const struct mcp_wire_ctx *ctx)
{
	size_t ll = strnlen(ctx->server.label, sizeof(ctx->server.label));
	size_t sl = strnlen(ctx->session, sizeof(ctx->session));
	/* 64 bits from two seeds: a collision would pair two sessions' ids */
	uint32_t a = mw_hash(mw_hash(MW_HASH_INIT, ctx->server.label, ll), ctx->session, sl);
	uint32_t b = mw_hash(mw_hash(0x5bd1e995u, ctx->session, sl), ctx->server.label, ll);

	return (uint64_t)a << 32 | b;
}

static void mcp_client_scopes_of(const struct mcp_wire_ctx *ctx, struct mcp_client_scopes *sc)
{
	sc->n = 0;
	if (ctx->session[0]) {
		sc->v[sc->n].kind = MCP_SCOPE_SESSION_ID;
		sc->v[sc->n++].value = mcp_client_session_hash(ctx);
	}
	if (ctx->flow_id) {
		sc->v[sc->n].kind = MCP_SCOPE_FLOW;
		sc->v[sc->n++].value = ctx->flow_id;
	} else if (ctx->exchange) {
		/* no flow (unit tests): the exchange is one socket's alone, so
		 * only the client's own response meets it */
		sc->v[sc->n].kind = MCP_SCOPE_EXCHANGE;
		sc->v[sc->n++].value = ctx->exchange;
	}
}

static int mcp_client_id_usable(const struct jsonrpc_id *id)
{
	return id->type == JSONRPC_ID_NUM || id->type == JSONRPC_ID_STR;
}

static uint32_t mcp_client_lookup(const struct mcp_client_waits *c, const struct mcp_wire_ctx *ctx,
				  const struct jsonrpc_id *id)
{
	struct mcp_client_scopes sc;

	if (!mcp_client_id_usable(id))
		return MCP_TABLE_NONE;
	mcp_client_scopes_of(ctx, &sc);
	for (int i = 0; i < sc.n; i++) {
		uint32_t slot = mcp_pair_find(&c->pair, &sc.v[i], MCP_C2S, id);

		if (slot != MCP_TABLE_NONE)
			return slot;
	}
	return MCP_TABLE_NONE;
}

int mcp_client_init(struct mcp_client_waits *c, const struct mcp_client_config *cfg,
		    struct metrics *m, mcp_client_end_fn end, void *arg)
{
	memset(c, 0, sizeof(*c));
	c->cfg = *cfg;
	c->m = m;
	c->end = end;
	c->arg = arg;
	if (mcp_pair_init(&c->pair, cfg->max_pending ? cfg->max_pending : 1))
		return -ENOMEM;
	c->defer = calloc(c->pair.t.cap, sizeof(*c->defer));
	if (!c->defer) {
		mcp_client_fini(c);
		return -ENOMEM;
	}
	return 0;
}

void mcp_client_fini(struct mcp_client_waits *c)
{
	mcp_pair_fini(&c->pair);
	free(c->defer);
	c->defer = NULL;
}

/* Ends the wait in slot: seen with its duration, or dropped. */
static void mcp_client_drop(struct mcp_client_waits *c, uint32_t slot, int seen, uint64_t client_ns)
{
	uint64_t defer = c->defer[slot];

	c->defer[slot] = 0;
	mcp_pair_remove(&c->pair, slot);
	if (defer && c->end)
		c->end(c->arg, defer, seen, client_ns);
}

int mcp_client_wants(const struct mcp_client_waits *c, const struct mcp_wire_ctx *ctx,
		     const struct jsonrpc_msg *msg)
{
	if (ctx->observer != MCP_OBS_CLIENT)
		return 0;
	if (msg->kind == JSONRPC_REQUEST)
		return ctx->dir == MCP_C2S && mcp_client_id_usable(&msg->id);
	if (msg->kind == JSONRPC_RESULT || msg->kind == JSONRPC_ERROR)
		return ctx->dir == MCP_S2C && mcp_client_lookup(c, ctx, &msg->id) != MCP_TABLE_NONE;
	if (msg->kind == JSONRPC_NOTIFICATION)
		return ctx->dir == MCP_C2S && !strcmp(msg->method.s, "notifications/cancelled") &&
		       mcp_client_lookup(c, ctx, &msg->cancel_id) != MCP_TABLE_NONE;
	return 0;
}

static void mcp_client_request(struct mcp_client_waits *c, const struct mcp_wire_ctx *ctx,
			       const struct jsonrpc_msg *msg, uint32_t server)
{
	struct mcp_client_scopes sc;
	struct mcp_pending *e;
	uint32_t slot;

	mcp_client_scopes_of(ctx, &sc);
	if (!sc.n)
		return;
	/* an id reused while waiting: the newer request is the one answered */
	slot = mcp_pair_find(&c->pair, &sc.v[0], MCP_C2S, &msg->id);
	if (slot != MCP_TABLE_NONE)
		mcp_client_drop(c, slot, 0, 0);
	if (mcp_pair_count(&c->pair) == c->pair.t.cap) {
		mcp_client_drop(c, mcp_pair_oldest(&c->pair), 0, 0);
		metrics_table_eviction(c->m, "client_pending");
	}
	slot = mcp_pair_insert(&c->pair, &sc.v[0], MCP_C2S, &msg->id);
	e = &c->pair.ents[slot];
	e->ts_ns = ctx->ts_ns;
	e->server = server;
	/* the index without counting: the server side's copy of this request
	 * is the one mcpwire_label_overflow_total counts */
	e->method = msg->method.truncated ? METRICS_METHOD_OTHER :
					    metrics_method_index(msg->method.s);
	e->tool = e->method == METRICS_METHOD_TOOLS_CALL ?
			  metrics_tool(c->m, server, msg->name.s, msg->name.truncated) :
			  METRICS_TOOL_OTHER;
}

static void mcp_client_response(struct mcp_client_waits *c, const struct mcp_wire_ctx *ctx,
				const struct jsonrpc_msg *msg, uint32_t server)
{
	uint32_t slot = mcp_client_lookup(c, ctx, &msg->id);
	const struct mcp_pending *e;
	uint64_t ns;
	uint32_t tool;

	if (slot == MCP_TABLE_NONE)
		return;
	e = &c->pair.ents[slot];
	ns = ctx->ts_ns > e->ts_ns ? ctx->ts_ns - e->ts_ns : 0;
	tool = e->tool;
	/* named by its initialize result meanwhile: the tool moves with it,
	 * as mcp.c moves pending requests */
	if (server != e->server && e->method == METRICS_METHOD_TOOLS_CALL &&
	    tool != METRICS_TOOL_OTHER)
		tool = metrics_tool(c->m, server, metrics_tool_name(c->m, tool), 0);
	metrics_client_call_done(c->m, server, e->method, tool, (double)ns / 1e9);
	mcp_client_drop(c, slot, 1, ns);
}

void mcp_client_input(struct mcp_client_waits *c, const struct mcp_wire_ctx *ctx,
		      const struct jsonrpc_msg *msg, uint32_t server)
{
	uint32_t slot;

	switch (msg->kind) {
	case JSONRPC_REQUEST:
		if (ctx->observer == MCP_OBS_CLIENT && ctx->dir == MCP_C2S &&
		    mcp_client_id_usable(&msg->id))
			mcp_client_request(c, ctx, msg, server);
		break;
	case JSONRPC_RESULT:
	case JSONRPC_ERROR:
		if (ctx->observer == MCP_OBS_CLIENT && ctx->dir == MCP_S2C)
			mcp_client_response(c, ctx, msg, server);
		break;
	case JSONRPC_NOTIFICATION:
		/* the client gave up on it: no wait to report */
		if (ctx->observer == MCP_OBS_CLIENT && ctx->dir == MCP_C2S &&
		    !strcmp(msg->method.s, "notifications/cancelled")) {
			slot = mcp_client_lookup(c, ctx, &msg->cancel_id);
			if (slot != MCP_TABLE_NONE)
				mcp_client_drop(c, slot, 0, 0);
		}
		break;
	default:
		break;
	}
}

uint32_t mcp_client_find(const struct mcp_client_waits *c, const struct mcp_wire_ctx *end,
			 const struct jsonrpc_id *id)
{
	return mcp_client_lookup(c, end, id);
}

void mcp_client_set_defer(struct mcp_client_waits *c, uint32_t slot, uint64_t defer)
{
	c->defer[slot] = defer;
}

void mcp_client_tick(struct mcp_client_waits *c, uint64_t now_ns)
{
	uint32_t slot;

	while ((slot = mcp_pair_oldest(&c->pair)) != MCP_TABLE_NONE &&
	       c->pair.ents[slot].ts_ns + c->cfg.timeout_ns <= now_ns)
		mcp_client_drop(c, slot, 0, 0);
}
