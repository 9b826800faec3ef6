// SPDX-License-Identifier: GPL-2.0-only
/*
 * mcp/defer — the FIFO of call records awaiting the client's wait.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp/defer.h"
#include "metrics/metrics.h"

struct mcp_defer_rec {
	uint64_t token;	 /* 0: sent (or never used) */
	uint64_t due_ns;
	struct mcp_call_record r;
	struct jsonrpc_id id;
	char server[METRICS_LABEL_MAX + 1];
	char endpoint[sizeof(((struct mcp_endpoint *)0)->label)];
	char method[MCP_STR_MAX];
	char target[MCP_STR_MAX];
	char session[sizeof(((struct mcp_wire_ctx *)0)->session)];
	char client_name[MCP_STR_MAX];
	char client_version[MCP_STR_MAX];
	char server_comm[16];
	char client_comm[16];
	char *pl[3]; /* arguments, result, error texts */
};

struct mcp_defer {
	struct mcp_defer_rec *ring;
	uint32_t cap, head, count;
	uint64_t next_token;
	uint64_t window_ns;
	struct metrics *m;
	struct mcp_call_sink sink;
};

struct mcp_defer *mcp_defer_new(uint32_t max, uint64_t window_ns, struct metrics *m,
				const struct mcp_call_sink *sink)
{
	struct mcp_defer *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->cap = max ? max : 1;
	/* calloc: pages are touched only as records get held */
	d->ring = calloc(d->cap, sizeof(*d->ring));
	if (!d->ring) {
		free(d);
		return NULL;
	}
	d->next_token = 1;
	d->window_ns = window_ns;
	d->m = m;
	d->sink = *sink;
	return d;
}

static const char *mcp_defer_str(char *dst, size_t size, const char *src)
{
	if (!src)
		return NULL;
	snprintf(dst, size, "%s", src);
	return dst;
}

static void mcp_defer_text(struct mcp_call_text *t, char **keep)
{
	*keep = NULL;
	if (!t->s)
		return;
	*keep = malloc(t->len ? t->len : 1);
	if (!*keep) {
		/* no room: the log omits it rather than lose the call */
		*t = (struct mcp_call_text){ "", 0, 1 };
		return;
	}
	memcpy(*keep, t->s, t->len);
	t->s = *keep;
}

static void mcp_defer_send(struct mcp_defer *d, struct mcp_defer_rec *x, int seen,
			   uint64_t client_ns)
{
	x->token = 0;
	x->r.client_seen = (uint8_t)seen;
	x->r.client_duration_ns = seen ? client_ns : 0;
	if (d->sink.call)
		d->sink.call(d->sink.arg, &x->r);
	for (int i = 0; i < 3; i++) {
		free(x->pl[i]);
		x->pl[i] = NULL;
	}
}

/* Takes the FIFO's oldest entry off, sending it if not sent yet. */
static void mcp_defer_pop(struct mcp_defer *d)
{
	struct mcp_defer_rec *x = &d->ring[d->head];

	if (x->token)
		mcp_defer_send(d, x, 0, 0);
	d->head = (d->head + 1) % d->cap;
	d->count--;
}

uint64_t mcp_defer_put(struct mcp_defer *d, const struct mcp_call_record *r, uint64_t now_ns)
{
	struct mcp_defer_rec *x;

	if (d->count == d->cap) {
		/* an entry already sent frees its place without a count */
		if (d->ring[d->head].token)
			metrics_table_eviction(d->m, "call_defer");
		mcp_defer_pop(d);
	}
	x = &d->ring[(d->head + d->count) % d->cap];
	x->r = *r;
	if (r->id) {
		x->id = *r->id;
		x->r.id = &x->id;
	}
	x->r.server = mcp_defer_str(x->server, sizeof(x->server), r->server);
	x->r.endpoint = mcp_defer_str(x->endpoint, sizeof(x->endpoint), r->endpoint);
	x->r.method = mcp_defer_str(x->method, sizeof(x->method), r->method);
	x->r.target = mcp_defer_str(x->target, sizeof(x->target), r->target);
	x->r.session = mcp_defer_str(x->session, sizeof(x->session), r->session);
	x->r.client_name = mcp_defer_str(x->client_name, sizeof(x->client_name), r->client_name);
	x->r.client_version =
		mcp_defer_str(x->client_version, sizeof(x->client_version), r->client_version);
	x->r.server_comm = mcp_defer_str(x->server_comm, sizeof(x->server_comm), r->server_comm);
	x->r.client_comm = mcp_defer_str(x->client_comm, sizeof(x->client_comm), r->client_comm);
	mcp_defer_text(&x->r.arguments, &x->pl[0]);
	mcp_defer_text(&x->r.result, &x->pl[1]);
	mcp_defer_text(&x->r.error, &x->pl[2]);
	x->due_ns = now_ns + d->window_ns;
	x->token = d->next_token++;
	d->count++;
	return x->token;
}

void mcp_defer_done(struct mcp_defer *d, uint64_t token, int seen, uint64_t client_ns)
{
	/* the FIFO's tail advances by one slot per put, so the put numbered
	 * token sits at (token - 1) % cap while it is held */
	struct mcp_defer_rec *x = &d->ring[(token - 1) % d->cap];

	if (!token || x->token != token)
		return;
	mcp_defer_send(d, x, seen, client_ns);
	/* records sent early leave the FIFO when they reach its head */
	while (d->count && !d->ring[d->head].token)
		mcp_defer_pop(d);
}

void mcp_defer_tick(struct mcp_defer *d, uint64_t now_ns)
{
	while (d->count && (!d->ring[d->head].token || d->ring[d->head].due_ns <= now_ns))
		mcp_defer_pop(d);
}

uint32_t mcp_defer_held(const struct mcp_defer *d)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < d->count; i++)
		n += !!d->ring[(d->head + i) % d->cap].token;
	return n;
}

void mcp_defer_free(struct mcp_defer *d)
{
	if (!d)
		return;
	while (d->count)
		mcp_defer_pop(d);
	free(d->ring);
	free(d);
}
