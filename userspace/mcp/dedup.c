// SPDX-License-Identifier: GPL-2.0-only
/*
 * mcp/dedup — the counting-once hold queue.
 */
#include <stdlib.h>
#include <string.h>

#include "mcp/dedup.h"
#include "mcp/table.h"
#include "metrics/metrics.h"

enum mcp_flow_state {
	MCP_FLOW_UNDECIDED = 0, /* only client-observed messages so far, within the window */
	MCP_FLOW_CLIENT_ONLY,	/* a window passed without the server's socket */
	MCP_FLOW_SERVER,	/* the server's socket reports this flow */
};

struct mcp_flow {
	uint64_t flow_id;
	uint32_t held; /* entries of this flow in the FIFO */
	uint8_t state;
};

struct mcp_held {
	uint8_t kind;
	struct mcp_wire_ctx ctx;
	struct jsonrpc_msg msg;
	/* copies of msg's payload texts (--log-payloads), which proto/ lends
	 * only for the duration of the sink call: msg points into them */
	char *pl[3];
};

static struct jsonrpc_payload *mcp_held_payload(struct jsonrpc_msg *m, int i)
{
	return i == 0 ? &m->arguments : i == 1 ? &m->result : &m->error;
}

/* Payload texts of a message being held are copied; without memory one is
 * marked truncated (the call log then omits it rather than lose the call). */
static void mcp_held_keep_payloads(struct mcp_held *h)
{
	for (int i = 0; i < 3; i++) {
		struct jsonrpc_payload *pl = mcp_held_payload(&h->msg, i);

		h->pl[i] = NULL;
		if (!pl->text)
			continue;
		h->pl[i] = malloc(pl->len ? pl->len : 1);
		if (!h->pl[i]) {
			pl->text = "";
			pl->len = 0;
			pl->truncated = 1;
			continue;
		}
		memcpy(h->pl[i], pl->text, pl->len);
		pl->text = h->pl[i];
	}
}

static void mcp_held_free_payloads(struct mcp_held *h)
{
	for (int i = 0; i < 3; i++) {
		free(h->pl[i]);
		h->pl[i] = NULL;
	}
}

struct mcp_dedup {
	struct mcp_dedup_config cfg;
	struct metrics *m;
	mcp_dedup_release_fn release;
	void *arg;
	struct mcp_table flows_t;
	struct mcp_flow *flows;
	struct mcp_held *ring;
	uint32_t head, count;
};

struct mcp_dedup *mcp_dedup_new(const struct mcp_dedup_config *cfg, struct metrics *m,
				mcp_dedup_release_fn release, void *arg)
{
	struct mcp_dedup *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->cfg = *cfg;
	if (!d->cfg.max_flows)
		d->cfg.max_flows = 1;
	if (!d->cfg.max_held)
		d->cfg.max_held = 1;
	d->m = m;
	d->release = release;
	d->arg = arg;
	if (mcp_table_init(&d->flows_t, d->cfg.max_flows))
		goto fail;
	d->flows = calloc(d->flows_t.cap, sizeof(*d->flows));
	d->ring = calloc(d->cfg.max_held, sizeof(*d->ring));
	if (!d->flows || !d->ring)
		goto fail;
	return d;
fail:
	mcp_dedup_free(d);
	return NULL;
}

void mcp_dedup_free(struct mcp_dedup *d)
{
	if (!d)
		return;
	mcp_table_fini(&d->flows_t);
	free(d->flows);
	for (uint32_t i = 0; d->ring && i < d->count; i++)
		mcp_held_free_payloads(&d->ring[(d->head + i) % d->cfg.max_held]);
	free(d->ring);
	free(d);
}

uint32_t mcp_dedup_held(const struct mcp_dedup *d)
{
	return d->count;
}

static uint32_t mcp_flow_hash(uint64_t flow_id)
{
	return mw_hash(MW_HASH_INIT, &flow_id, sizeof(flow_id));
}

static struct mcp_flow *mcp_flow_find(struct mcp_dedup *d, uint64_t flow_id)
{
	uint32_t slot = mcp_table_first(&d->flows_t, mcp_flow_hash(flow_id));

	for (; slot != MCP_TABLE_NONE; slot = mcp_table_next(&d->flows_t, slot))
		if (d->flows[slot].flow_id == flow_id)
			return &d->flows[slot];
	return NULL;
}

static struct mcp_flow *mcp_flow_get(struct mcp_dedup *d, uint64_t flow_id)
{
	struct mcp_flow *f = mcp_flow_find(d, flow_id);
	uint32_t slot;

	if (f) {
		mcp_table_touch(&d->flows_t, (uint32_t)(f - d->flows));
		return f;
	}
	if (d->flows_t.count == d->flows_t.cap) {
		/* held entries of the evicted flow are released at their time:
		 * without a state they count as client-only */
		mcp_table_remove(&d->flows_t, mcp_table_oldest(&d->flows_t));
		metrics_table_eviction(d->m, "flows");
	}
	slot = mcp_table_insert(&d->flows_t, mcp_flow_hash(flow_id));
	f = &d->flows[slot];
	memset(f, 0, sizeof(*f));
	f->flow_id = flow_id;
	return f;
}

/* Takes the FIFO's oldest entry and releases or drops it. window_done: its
 * window really elapsed (as opposed to an early decision on overflow). */
static void mcp_dedup_pop(struct mcp_dedup *d, int window_done)
{
	struct mcp_held *h = &d->ring[d->head];
	struct mcp_flow *f = mcp_flow_find(d, h->ctx.flow_id);

	d->head = (d->head + 1) % d->cfg.max_held;
	d->count--;
	if (f && f->held)
		f->held--;
	if (f && f->state == MCP_FLOW_SERVER) {
		metrics_deduplicated(d->m, 1);
		mcp_held_free_payloads(h);
		return;
	}
	if (f && window_done)
		f->state = MCP_FLOW_CLIENT_ONLY;
	d->release(d->arg, h->kind, &h->ctx, h->kind == MCP_DEDUP_MESSAGE ? &h->msg : NULL);
	mcp_held_free_payloads(h);
}

int mcp_dedup_input(struct mcp_dedup *d, uint8_t kind, const struct mcp_wire_ctx *ctx,
		    const struct jsonrpc_msg *msg)
{
	struct mcp_flow *f;
	struct mcp_held *h;

	if (!ctx->flow_id)
		return 1;
	f = mcp_flow_get(d, ctx->flow_id);
	if (ctx->observer == MCP_OBS_SERVER) {
		f->state = MCP_FLOW_SERVER;
		return 1;
	}
	if (f->state == MCP_FLOW_SERVER) {
		metrics_deduplicated(d->m, 1);
		return 0;
	}
	if (f->state == MCP_FLOW_CLIENT_ONLY && !f->held)
		return 1;

	if (d->count == d->cfg.max_held) {
		metrics_table_eviction(d->m, "dedup_hold");
		/* f stays valid: popping never inserts into the flow table */
		mcp_dedup_pop(d, 0);
	}
	h = &d->ring[(d->head + d->count) % d->cfg.max_held];
	h->kind = kind;
	h->ctx = *ctx;
	if (msg)
		h->msg = *msg;
	else
		memset(&h->msg, 0, sizeof(h->msg));
	mcp_held_keep_payloads(h);
	d->count++;
	f->held++;
	return 0;
}

void mcp_dedup_tick(struct mcp_dedup *d, uint64_t now_ns)
{
	while (d->count) {
		const struct mcp_held *h = &d->ring[d->head];

		if (h->ctx.ts_ns + d->cfg.window_ns > now_ns)
			break;
		mcp_dedup_pop(d, 1);
	}
}
