// SPDX-License-Identifier: GPL-2.0-only
/*
 * mcp/ — the proto_sink that turns JSON-RPC messages into MCP metrics.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp/client.h"
#include "mcp/dedup.h"
#include "mcp/defer.h"
#include "mcp/mcp.h"
#include "mcp/pair.h"
#include "mcp/session.h"
#include "metrics/metrics.h"

/* clientInfo of an initialize request (mcp-wire.md §4). */
struct mcp_client {
	uint8_t known;
	uint8_t truncated;
	char name[MCP_STR_MAX];
	char version[MCP_STR_MAX];
};

/* What a call record needs beyond what the metrics keep, per pending slot.
 * Only allocated with a call sink: the metrics alone do not pay for it. */
struct mcp_call_info {
	uint8_t valid;	     /* filled when the request was registered */
	uint8_t observer;    /* enum mcp_observer of the request */
	uint8_t transport;
	uint8_t target_kind; /* enum mcp_call_target */
	uint8_t truncated;
	uint32_t tgid;
	char comm[16];
	char method[MCP_STR_MAX];
	char target[MCP_STR_MAX];
	char session[sizeof(((struct mcp_wire_ctx *)0)->session)];
	char endpoint[sizeof(((struct mcp_endpoint *)0)->label)];
	struct mcp_client client;
	/* --log-payloads: params.arguments, copied (proto/ lends it only for
	 * the sink call) and kept until the call ends; in s->pl_bytes */
	char *args;
	uint32_t args_len;
	uint8_t args_trunc;
};

/* Argument texts kept for pending requests at most, in all: a bound on what
 * --log-payloads may hold however many requests are in flight (each text is
 * at most JSONRPC_PAYLOAD_MAX). Beyond it, arguments are omitted. */
#define MCP_PAYLOAD_POOL (16u << 20)

/* The clientInfo of a session, per session slot; gen tells whether it belongs
 * to the slot's current session. */
struct mcp_session_client {
	uint32_t gen;
	struct mcp_client client;
};

struct mcp_state {
	struct mcp_config cfg;
	struct metrics *m;
	struct proto_sink sink;
	struct mcp_dedup *dedup;
	struct mcp_pair pair;
	struct mcp_client_waits waits;	/* client-side waits (mcp/client.h) */
	struct mcp_defer *defer;		/* records awaiting them, with a call sink */
	struct mcp_endpoints eps;
	struct mcp_sessions sess;
	struct mcp_call_sink call_sink;
	struct mcp_call_info *calls;		/* per pending slot, with a call sink */
	struct mcp_session_client *clients;	/* per session slot, with a call sink */
	uint16_t tasks_result;			/* metrics_method("tasks/result") */
	size_t pl_bytes;			/* argument texts held (MCP_PAYLOAD_POOL) */
	const struct jsonrpc_msg *end_msg;	/* the answer being processed, for its payload */
	struct mcp_identity_source ident;	/* attribution (mcp.h), lookup NULL: none */
};

/* The scopes a message may pair in, most specific first (mcp.h). */
struct mcp_scopes {
	struct mcp_scope v[2];
	int n;
	uint32_t session; /* session slot the message belongs to, or MCP_TABLE_NONE */
};

/* stdio has neither session ids nor exchanges: the observing process talking
 * to one server command is the scope (both peers' ids count from 0 per pipe
 * pair, and the server process sees both of its pipes). */
static uint64_t mcp_proc_scope(const struct mcp_wire_ctx *ctx)
{
	const char *l = ctx->server.label;
	uint32_t h = mw_hash(MW_HASH_INIT, l, strnlen(l, sizeof(ctx->server.label)));

	return (uint64_t)ctx->tgid << 32 | h;
}

static void mcp_scopes_of(struct mcp_state *s, const struct mcp_wire_ctx *ctx,
			  struct mcp_scopes *sc)
{
	sc->n = 0;
	sc->session = MCP_TABLE_NONE;
	if (ctx->session[0]) {
		sc->session = mcp_session_get(&s->sess, ctx->server.label, ctx->session, 0,
					      ctx->ts_ns);
		sc->v[sc->n].kind = MCP_SCOPE_SESSION;
		sc->v[sc->n++].value = mcp_session_scope(&s->sess, sc->session);
	}
	if (ctx->exchange) {
		sc->v[sc->n].kind = MCP_SCOPE_EXCHANGE;
		sc->v[sc->n++].value = ctx->exchange;
	}
	if (!sc->n) {
		uint64_t proc = mcp_proc_scope(ctx);

		sc->session = mcp_session_get(&s->sess, ctx->server.label, "", proc, ctx->ts_ns);
		sc->v[sc->n].kind = MCP_SCOPE_PROC;
		sc->v[sc->n++].value = proc;
	}
}

static int mcp_id_usable(const struct jsonrpc_id *id)
{
	return id->type == JSONRPC_ID_NUM || id->type == JSONRPC_ID_STR;
}

static uint32_t mcp_find(struct mcp_state *s, const struct mcp_scopes *sc, uint8_t dir,
			 const struct jsonrpc_id *id)
{
	if (!mcp_id_usable(id))
		return MCP_TABLE_NONE;
	for (int i = 0; i < sc->n; i++) {
		uint32_t slot = mcp_pair_find(&s->pair, &sc->v[i], dir, id);

		if (slot != MCP_TABLE_NONE)
			return slot;
	}
	return MCP_TABLE_NONE;
}

static void mcp_call_free_args(struct mcp_state *s, struct mcp_call_info *ci)
{
	if (!ci->args)
		return;
	s->pl_bytes -= ci->args_len;
	free(ci->args);
	ci->args = NULL;
}

/* Forgets a pending request without counting it as a request. */
static void mcp_drop_pending(struct mcp_state *s, uint32_t slot)
{
	metrics_in_flight_add(s->m, s->pair.ents[slot].server, -1);
	if (s->calls) {
		s->calls[slot].valid = 0;
		mcp_call_free_args(s, &s->calls[slot]);
	}
	mcp_pair_remove(&s->pair, slot);
}

static void mcp_copy_str(char *dst, size_t size, const struct mcp_str *src, uint8_t *truncated)
{
	snprintf(dst, size, "%s", src->s);
	*truncated |= src->truncated;
}

/* Fills the call info of a request just registered in slot. */
static void mcp_call_begin(struct mcp_state *s, uint32_t slot, const struct mcp_wire_ctx *ctx,
			   const struct jsonrpc_msg *msg, uint32_t sess)
{
	struct mcp_call_info *ci = &s->calls[slot];
	const struct mcp_session_client *sc;

	mcp_call_free_args(s, ci);
	memset(ci, 0, offsetof(struct mcp_call_info, method));
	ci->valid = 1;
	ci->observer = ctx->observer;
	ci->transport = ctx->transport;
	ci->tgid = ctx->tgid;
	memcpy(ci->comm, ctx->comm, sizeof(ci->comm));
	ci->comm[sizeof(ci->comm) - 1] = '\0';
	mcp_copy_str(ci->method, sizeof(ci->method), &msg->method, &ci->truncated);
	ci->target[0] = '\0';
	if (!strcmp(msg->method.s, "tools/call") || !strcmp(msg->method.s, "prompts/get")) {
		ci->target_kind = msg->method.s[0] == 't' ? MCP_CALL_TARGET_TOOL :
							    MCP_CALL_TARGET_PROMPT;
		mcp_copy_str(ci->target, sizeof(ci->target), &msg->name, &ci->truncated);
	} else if (!strncmp(msg->method.s, "resources/", 10) &&
		   (msg->uri.len || msg->uri.truncated)) {
		ci->target_kind = MCP_CALL_TARGET_RESOURCE;
		mcp_copy_str(ci->target, sizeof(ci->target), &msg->uri, &ci->truncated);
	}
	snprintf(ci->session, sizeof(ci->session), "%s", ctx->session);
	snprintf(ci->endpoint, sizeof(ci->endpoint), "%s", ctx->server.label);
	ci->client.known = 0;
	if (!strcmp(msg->method.s, "initialize") && ctx->dir == MCP_C2S &&
	    (msg->peer_name.len || msg->peer_name.truncated)) {
		/* the session it opens does not exist yet: mcp_initialized()
		 * hands this to the session when the result names it */
		ci->client.known = 1;
		ci->client.truncated = msg->peer_name.truncated || msg->peer_version.truncated;
		snprintf(ci->client.name, sizeof(ci->client.name), "%s", msg->peer_name.s);
		snprintf(ci->client.version, sizeof(ci->client.version), "%s",
			 msg->peer_version.s);
	} else if (sess != MCP_TABLE_NONE) {
		sc = &s->clients[sess];
		if (sc->client.known && sc->gen == s->sess.ents[sess].gen)
			ci->client = sc->client;
	}
	ci->args_len = 0;
	ci->args_trunc = 0;
	if (s->call_sink.payloads && msg->arguments.text) {
		uint32_t n = msg->arguments.len;

		if (s->pl_bytes + n <= MCP_PAYLOAD_POOL)
			ci->args = malloc(n ? n : 1);
		if (ci->args) {
			memcpy(ci->args, msg->arguments.text, n);
			ci->args_len = n;
			ci->args_trunc = msg->arguments.truncated;
			s->pl_bytes += n;
		} else {
			ci->args_trunc = 1; /* pool full: logged as omitted */
		}
	}
}

/*
 * Hands the record of the request in slot to the call sink. end is the
 * message that ended it (NULL for expiry and eviction), end_msg its
 * JSON-RPC message when it is the answer.
 */
static void mcp_call_end(struct mcp_state *s, uint32_t slot, uint32_t server, uint8_t status,
			 uint8_t err, int64_t err_value, uint64_t ts_ns,
			 const struct mcp_wire_ctx *end)
{
	const struct mcp_pending *e = &s->pair.ents[slot];
	const struct mcp_call_info *ci = s->calls ? &s->calls[slot] : NULL;
	struct mcp_call_record r;
	char end_comm[sizeof(end->comm)];

	if (!ci || !ci->valid || !s->call_sink.call)
		return;
	r = (struct mcp_call_record){
		.start_ns = e->ts_ns,
		.end_ns = ts_ns > e->ts_ns ? ts_ns : e->ts_ns,
		.status = status,
		.err = err,
		.err_value = err_value,
		.dir = e->dir,
		.transport = ci->transport,
		.id = &e->id,
		.server = metrics_server_name(s->m, server),
		.endpoint = ci->endpoint,
		.method = ci->method,
		.target_kind = ci->target_kind,
		.target = ci->target,
		.session = ci->session,
		.server_comm = "",
		.client_comm = "",
		.truncated = ci->truncated || (ci->client.known && ci->client.truncated),
	};
	if (s->call_sink.payloads) {
		if (ci->args || ci->args_trunc)
			r.arguments = (struct mcp_call_text){ ci->args ? ci->args : "", ci->args_len,
							      ci->args_trunc };
		if (s->end_msg && s->end_msg->result.text)
			r.result = (struct mcp_call_text){ s->end_msg->result.text,
							   s->end_msg->result.len,
							   s->end_msg->result.truncated };
		if (s->end_msg && s->end_msg->error.text)
			r.error = (struct mcp_call_text){ s->end_msg->error.text,
							  s->end_msg->error.len,
							  s->end_msg->error.truncated };
	}
	/* initialize is sent before its session exists: name the one it made */
	if (!r.session[0] && end && end->dir != e->dir)
		r.session = end->new_session[0] ? end->new_session : end->session;
	if (ci->client.known) {
		r.client_name = ci->client.name;
		r.client_version = ci->client.version;
	}
	if (ci->observer == MCP_OBS_SERVER) {
		r.server_pid = ci->tgid;
		r.server_comm = ci->comm;
	} else {
		r.client_pid = ci->tgid;
		r.client_comm = ci->comm;
	}
	/* the other side is named only if its own socket saw the end */
	if (end && end->observer != ci->observer && end->tgid) {
		memcpy(end_comm, end->comm, sizeof(end_comm));
		end_comm[sizeof(end_comm) - 1] = '\0';
		if (end->observer == MCP_OBS_SERVER) {
			r.server_pid = end->tgid;
			r.server_comm = end_comm;
		} else {
			r.client_pid = end->tgid;
			r.client_comm = end_comm;
		}
	}
	/* what the client waited: its own timestamps when they timed the call
	 * (client-only), else its copies of the same messages (mcp/client.h) */
	if (end && end->dir != e->dir && e->dir == MCP_C2S &&
	    (status == MCP_CALL_OK || status == MCP_CALL_ERROR)) {
		if (ci->observer == MCP_OBS_CLIENT && end->observer == MCP_OBS_CLIENT) {
			r.client_seen = 1;
			r.client_duration_ns = r.end_ns - r.start_ns;
		} else if (s->defer && end->observer == MCP_OBS_SERVER) {
			uint32_t cw = mcp_client_find(&s->waits, end, &e->id);
			uint64_t token;

			if (cw != MCP_TABLE_NONE) {
				token = mcp_defer_put(s->defer, &r, end->ts_ns);
				if (token) {
					mcp_client_set_defer(&s->waits, cw, token);
					return;
				}
			}
		}
	}
	s->call_sink.call(s->call_sink.arg, &r);
}

/* A client wait a deferred record was waiting for ended (mcp/client.h). */
static void mcp_client_ended(void *arg, uint64_t token, int seen, uint64_t client_ns)
{
	struct mcp_state *s = arg;

	if (s->defer)
		mcp_defer_done(s->defer, token, seen, client_ns);
}

/* Counts a finished request under server (the name known at its end). */
static void mcp_finish(struct mcp_state *s, uint32_t slot, uint32_t server, uint8_t status,
		       uint8_t err, int64_t err_value, const struct mcp_wire_ctx *end)
{
	const struct mcp_pending *e = &s->pair.ents[slot];
	uint64_t ts_ns = end->ts_ns;
	struct metrics_call c = {
		.server = server,
		.method = e->method,
		.tool = e->tool,
		.status = status,
		.err = err,
		.err_value = err_value,
		.seconds = ts_ns > e->ts_ns ? (double)(ts_ns - e->ts_ns) / 1e9 : 0,
	};

	metrics_call_done(s->m, &c);
	mcp_call_end(s, slot, server, status, err, err_value, ts_ns, end);
	mcp_drop_pending(s, slot);
}

static void mcp_request(struct mcp_state *s, const struct mcp_wire_ctx *ctx,
			const struct jsonrpc_msg *msg, uint32_t ep, const struct mcp_scopes *sc)
{
	uint32_t server, slot;
	struct mcp_pending *e;

	if (!mcp_id_usable(&msg->id))
		return;
	server = mcp_endpoint_server(&s->eps, ep);
	/* an id reused while pending (a retransmission): the newer one counts */
	slot = mcp_pair_find(&s->pair, &sc->v[0], ctx->dir, &msg->id);
	if (slot != MCP_TABLE_NONE)
		mcp_drop_pending(s, slot);
	if (mcp_pair_count(&s->pair) == s->pair.t.cap) {
		uint32_t old = mcp_pair_oldest(&s->pair);

		mcp_call_end(s, old, s->pair.ents[old].server, MCP_CALL_EVICTED, 0, 0, ctx->ts_ns,
			     NULL);
		mcp_drop_pending(s, old);
		metrics_table_eviction(s->m, "pending");
	}
	slot = mcp_pair_insert(&s->pair, &sc->v[0], ctx->dir, &msg->id);
	e = &s->pair.ents[slot];
	e->ts_ns = ctx->ts_ns;
	e->server = server;
	e->method = metrics_method(s->m, msg->method.s, msg->method.truncated);
	e->tool = e->method == METRICS_METHOD_TOOLS_CALL ?
			  metrics_tool(s->m, server, msg->name.s, msg->name.truncated) :
			  METRICS_TOOL_OTHER;
	metrics_in_flight_add(s->m, server, 1);
	if (s->calls)
		mcp_call_begin(s, slot, ctx, msg, sc->session);
}

static void mcp_notification(struct mcp_state *s, const struct mcp_wire_ctx *ctx,
			     const struct jsonrpc_msg *msg, uint32_t ep,
			     const struct mcp_scopes *sc)
{
	uint32_t server = mcp_endpoint_server(&s->eps, ep);
	uint16_t method = metrics_method(s->m, msg->method.s, msg->method.truncated);
	uint32_t slot;

	metrics_notification(s->m, server, method, ctx->dir);
	if (method != METRICS_METHOD_CANCELLED)
		return;
	/* cancellation.mdx: it names a request "previously issued in the same
	 * direction"; the request ends here, a late response is ignored */
	slot = mcp_find(s, sc, ctx->dir, &msg->cancel_id);
	if (slot != MCP_TABLE_NONE)
		mcp_finish(s, slot, server, METRICS_STATUS_CANCELLED, 0, 0, ctx);
}

/* An initialize result (lifecycle.mdx): names the endpoint, sets its
 * mcp_server_info, and starts the session it created. */
/* Requests pending under the endpoint's old name move to its new one, so the
 * in-flight gauge of the old name can drop to 0 and be retired. */
static void mcp_rename_pending(struct mcp_state *s, uint32_t from, uint32_t to)
{
	uint32_t slot = mcp_pair_oldest(&s->pair);

	for (; slot != MCP_TABLE_NONE; slot = mcp_table_newer(&s->pair.t, slot)) {
		struct mcp_pending *e = &s->pair.ents[slot];

		if (e->server != from)
			continue;
		metrics_in_flight_add(s->m, from, -1);
		metrics_in_flight_add(s->m, to, 1);
		e->server = to;
		if (e->method == METRICS_METHOD_TOOLS_CALL && e->tool != METRICS_TOOL_OTHER)
			e->tool = metrics_tool(s->m, to, metrics_tool_name(s->m, e->tool), 0);
	}
}

static void mcp_initialized(struct mcp_state *s, const struct mcp_wire_ctx *ctx,
			    const struct jsonrpc_msg *msg, uint32_t ep,
			    const struct mcp_scopes *sc, uint32_t req)
{
	uint32_t sess = MCP_TABLE_NONE;
	uint32_t before = mcp_endpoint_server(&s->eps, ep), after;

	mcp_endpoint_initialized(&s->eps, ep, &msg->peer_name, &msg->peer_version,
				 &msg->protocol_version, ctx->transport);
	after = mcp_endpoint_server(&s->eps, ep);
	if (after != before) {
		mcp_rename_pending(s, before, after);
		/* only the fallback name is this endpoint's alone to retire (or
		 * its container's name, which stood in for it: attribution) */
		if (!strcmp(metrics_server_name(s->m, before), ctx->server.label) ||
		    (s->eps.ents[ep].where.container_named &&
		     !strcmp(metrics_server_name(s->m, before), s->eps.ents[ep].where.container)))
			metrics_server_retire(s->m, before);
	}
	if (ctx->new_session[0])
		sess = mcp_session_get(&s->sess, ctx->server.label, ctx->new_session, 0,
				       ctx->ts_ns);
	else if (sc->session != MCP_TABLE_NONE)
		sess = sc->session;
	if (sess != MCP_TABLE_NONE)
		mcp_session_start(&s->sess, sess, mcp_endpoint_server(&s->eps, ep),
				  ctx->transport);
	/* the session's clientInfo, for the records of its later calls */
	if (sess != MCP_TABLE_NONE && req != MCP_TABLE_NONE && s->calls && s->calls[req].valid &&
	    s->calls[req].client.known) {
		s->clients[sess].gen = s->sess.ents[sess].gen;
		s->clients[sess].client = s->calls[req].client;
	}
}

static void mcp_response(struct mcp_state *s, const struct mcp_wire_ctx *ctx,
			 const struct jsonrpc_msg *msg, uint32_t ep, const struct mcp_scopes *sc)
{
	uint32_t slot = mcp_find(s, sc, ctx->dir ^ 1, &msg->id);
	uint8_t status = METRICS_STATUS_OK, err = 0;
	int64_t err_value = 0;
	uint16_t method = slot != MCP_TABLE_NONE ? s->pair.ents[slot].method : 0;

	/* a serverInfo is the mark of an initialize result even when mcpwire
	 * missed the request; a 2026-07-28 server, which has no initialize,
	 * names itself in every result's _meta (jsonrpc.c reads both) */
	if (ctx->dir == MCP_S2C && msg->kind == JSONRPC_RESULT &&
	    (method == METRICS_METHOD_INITIALIZE || msg->peer_name.len || msg->peer_name.truncated))
		mcp_initialized(s, ctx, msg, ep, sc, slot);
	if (slot == MCP_TABLE_NONE)
		return;

	if (ctx->http_status >= 400) {
		status = METRICS_STATUS_ERROR;
		err = METRICS_ERR_HTTP;
		err_value = ctx->http_status;
	} else if (msg->kind == JSONRPC_ERROR) {
		status = METRICS_STATUS_ERROR;
		err = msg->has_error_code ? METRICS_ERR_JSONRPC : METRICS_ERR_NO_CODE;
		err_value = msg->error_code;
	} else if (msg->is_error &&
		   (method == METRICS_METHOD_TOOLS_CALL || method == s->tasks_result)) {
		/* a task-augmented tools/call is answered at once with result.task
		 * (counted ok: the task was created); the tool's CallToolResult,
		 * isError included, comes back later as the tasks/result answer */
		status = METRICS_STATUS_ERROR;
		err = METRICS_ERR_TOOL;
	}
	s->end_msg = msg; /* its payload goes into the call record */
	mcp_finish(s, slot, mcp_endpoint_server(&s->eps, ep), status, err, err_value, ctx);
	s->end_msg = NULL;
}

/* --- attribution (mcp.h): where the server's process runs --- */
static void mcp_place(struct mcp_state *s, const struct mcp_wire_ctx *ctx, uint32_t ep)
{
	struct mcp_endpoint_ent *ent = &s->eps.ents[ep];
	struct mcp_identity where;
	uint32_t before, after;

	if (ctx->observer != MCP_OBS_SERVER || !ctx->tgid ||
	    (ent->placed_tgid == ctx->tgid && ctx->ts_ns - ent->placed_ns < MCP_IDENTITY_RECHECK_NS))
		return;
	memset(&where, 0, sizeof(where));
	if (!s->ident.lookup(s->ident.arg, ctx->tgid, &where))
		return; /* not known yet: asked again at the next message */
	ent->placed_tgid = ctx->tgid;
	ent->placed_ns = ctx->ts_ns;
	before = mcp_endpoint_server(&s->eps, ep);
	if (!mcp_endpoint_placed(&s->eps, ep, &where, ctx->server.family != 0, ctx->transport))
		return;
	after = mcp_endpoint_server(&s->eps, ep);
	if (after != before) {
		mcp_rename_pending(s, before, after);
		if (!strcmp(metrics_server_name(s->m, before), ctx->server.label))
			metrics_server_retire(s->m, before);
	}
}

void mcp_set_identity_source(struct mcp_state *s, const struct mcp_identity_source *src)
{
	if (src && src->lookup)
		s->ident = *src;
	else
		memset(&s->ident, 0, sizeof(s->ident));
}
/* --- end of attribution --- */

static void mcp_process(struct mcp_state *s, const struct mcp_wire_ctx *ctx,
			const struct jsonrpc_msg *msg)
{
	uint32_t ep = mcp_endpoint_get(&s->eps, ctx->server.label);
	struct mcp_scopes sc;

	if (s->ident.lookup)
		mcp_place(s, ctx, ep);

	/* last-seen time, and the end time of the calls this message ends */
	metrics_seen(s->m, mcp_endpoint_server(&s->eps, ep), ctx->ts_ns);
	mcp_scopes_of(s, ctx, &sc);
	switch (msg->kind) {
	case JSONRPC_REQUEST:
		mcp_request(s, ctx, msg, ep, &sc);
		break;
	case JSONRPC_NOTIFICATION:
		mcp_notification(s, ctx, msg, ep, &sc);
		break;
	case JSONRPC_RESULT:
	case JSONRPC_ERROR:
		mcp_response(s, ctx, msg, ep, &sc);
		break;
	default:
		break;
	}
}

/*
 * A session that ends (DELETE answered, stdio closed) can no longer answer its
 * pending requests: they end here as cancelled. A client that aborts a call
 * and then terminates the session may put the DELETE on the wire before its
 * notifications/cancelled (seen with the ts-v1 client); the server then
 * rejects the late notification, and the request must not stay in flight.
 */
static void mcp_cancel_session_pending(struct mcp_state *s, uint32_t sess, uint32_t server,
				       const struct mcp_wire_ctx *ctx)
{
	uint64_t scope = mcp_session_scope(&s->sess, sess);
	const struct mcp_session *se = &s->sess.ents[sess];
	uint32_t slot = mcp_pair_oldest(&s->pair), next;

	for (; slot != MCP_TABLE_NONE; slot = next) {
		const struct mcp_pending *e = &s->pair.ents[slot];

		next = mcp_table_newer(&s->pair.t, slot);
		/* a stdio session's requests are under its process scope */
		if ((e->scope.kind == MCP_SCOPE_SESSION && e->scope.value == scope) ||
		    (e->scope.kind == MCP_SCOPE_PROC && !se->sid[0] && e->scope.value == se->proc))
			mcp_finish(s, slot, server, METRICS_STATUS_CANCELLED, 0, 0, ctx);
	}
}

static void mcp_process_session_end(struct mcp_state *s, const struct mcp_wire_ctx *ctx)
{
	uint32_t slot = MCP_TABLE_NONE;

	if (ctx->session[0])
		slot = mcp_session_find(&s->sess, ctx->server.label, ctx->session, 0);
	else if (!ctx->exchange)
		slot = mcp_session_find(&s->sess, ctx->server.label, "", mcp_proc_scope(ctx));
	if (slot == MCP_TABLE_NONE)
		return;
	mcp_cancel_session_pending(s, slot, mcp_endpoint_server(&s->eps,
				   mcp_endpoint_get(&s->eps, ctx->server.label)), ctx);
	mcp_session_end(&s->sess, slot);
}

static void mcp_release(void *arg, uint8_t kind, const struct mcp_wire_ctx *ctx,
			const struct jsonrpc_msg *msg)
{
	struct mcp_state *s = arg;

	if (kind == MCP_DEDUP_SESSION_END)
		mcp_process_session_end(s, ctx);
	else
		mcp_process(s, ctx, msg);
}

static void mcp_sink_message(void *arg, const struct mcp_wire_ctx *ctx,
			     const struct jsonrpc_msg *msg)
{
	struct mcp_state *s = arg;

	/* the client's copies time the client's wait before dedup drops them */
	if (mcp_client_wants(&s->waits, ctx, msg))
		mcp_client_input(&s->waits, ctx, msg,
				 mcp_endpoint_server(&s->eps,
						     mcp_endpoint_get(&s->eps, ctx->server.label)));
	if (mcp_dedup_input(s->dedup, MCP_DEDUP_MESSAGE, ctx, msg))
		mcp_process(s, ctx, msg);
}

static void mcp_sink_session_end(void *arg, const struct mcp_wire_ctx *ctx)
{
	struct mcp_state *s = arg;

	if (mcp_dedup_input(s->dedup, MCP_DEDUP_SESSION_END, ctx, NULL))
		mcp_process_session_end(s, ctx);
}

static void mcp_sink_parse_error(void *arg, const struct mcp_wire_ctx *ctx, const char *reason)
{
	struct mcp_state *s = arg;

	metrics_parse_error(s->m, reason);
}

struct mcp_state *mcp_new(const struct mcp_config *cfg, struct metrics *m)
{
	struct mcp_state *s = calloc(1, sizeof(*s));
	struct mcp_dedup_config dc;
	struct mcp_client_config cc;

	if (!s)
		return NULL;
	if (cfg)
		s->cfg = *cfg;
	if (!s->cfg.request_timeout_ns)
		s->cfg.request_timeout_ns = 300ull * 1000000000ull;
	if (!s->cfg.dedup_window_ns)
		s->cfg.dedup_window_ns = 1000000000ull;
	if (!s->cfg.session_idle_ns)
		s->cfg.session_idle_ns = 3600ull * 1000000000ull;
	if (!s->cfg.max_pending)
		s->cfg.max_pending = 65536;
	if (!s->cfg.max_sessions)
		s->cfg.max_sessions = 16384;
	if (!s->cfg.max_servers)
		s->cfg.max_servers = 1024;
	if (!s->cfg.max_flows)
		s->cfg.max_flows = 16384;
	if (!s->cfg.max_held)
		s->cfg.max_held = 4096;
	if (!s->cfg.max_client_pending)
		s->cfg.max_client_pending = 65536;
	if (!s->cfg.max_deferred)
		s->cfg.max_deferred = 1024;
	s->m = m;
	s->tasks_result = metrics_method(m, "tasks/result", 0);
	s->sink = (struct proto_sink){
		.message = mcp_sink_message,
		.session_end = mcp_sink_session_end,
		.parse_error = mcp_sink_parse_error,
		.arg = s,
	};
	dc = (struct mcp_dedup_config){
		.window_ns = s->cfg.dedup_window_ns,
		.max_flows = s->cfg.max_flows,
		.max_held = s->cfg.max_held,
	};
	cc = (struct mcp_client_config){
		.max_pending = s->cfg.max_client_pending,
		.timeout_ns = s->cfg.request_timeout_ns,
	};
	s->dedup = mcp_dedup_new(&dc, m, mcp_release, s);
	if (!s->dedup || mcp_pair_init(&s->pair, s->cfg.max_pending) ||
	    mcp_client_init(&s->waits, &cc, m, mcp_client_ended, s) ||
	    mcp_endpoints_init(&s->eps, s->cfg.max_servers, m) ||
	    mcp_sessions_init(&s->sess, s->cfg.max_sessions, m)) {
		mcp_free(s);
		return NULL;
	}
	return s;
}

const struct proto_sink *mcp_sink(struct mcp_state *s)
{
	return &s->sink;
}

void mcp_tick(struct mcp_state *s, uint64_t now_ns)
{
	uint32_t slot;

	/* released responses must meet their requests before those expire */
	mcp_dedup_tick(s->dedup, now_ns);
	while ((slot = mcp_pair_oldest(&s->pair)) != MCP_TABLE_NONE) {
		const struct mcp_pending *e = &s->pair.ents[slot];

		if (e->ts_ns + s->cfg.request_timeout_ns > now_ns)
			break;
		metrics_request_expired(s->m, e->server);
		mcp_call_end(s, slot, e->server, MCP_CALL_EXPIRED, 0, 0, now_ns, NULL);
		mcp_drop_pending(s, slot);
	}
	mcp_sessions_expire(&s->sess, now_ns, s->cfg.session_idle_ns);
	mcp_client_tick(&s->waits, now_ns);
	if (s->defer)
		mcp_defer_tick(s->defer, now_ns);
}

int mcp_server_of_endpoint(struct mcp_state *s, const char *label, uint32_t *server, int *named)
{
	uint32_t slot = mcp_endpoint_find(&s->eps, label);
	const struct mcp_endpoint_ent *ent;

	if (slot == MCP_TABLE_NONE)
		return -ENOENT;
	ent = &s->eps.ents[slot];
	/* every message resolves its endpoint at once (mcp_process), so 0
	 * here is a name the server cap refused: already counted there */
	*server = ent->server ? ent->server : METRICS_SERVER_OTHER;
	*named = ent->info != NULL || strcmp(ent->name, ent->label) != 0;
	return 0;
}

uint32_t mcp_pending_count(const struct mcp_state *s)
{
	return mcp_pair_count(&s->pair);
}

uint32_t mcp_client_pending_count(const struct mcp_state *s)
{
	return mcp_client_count(&s->waits);
}

int mcp_set_call_sink(struct mcp_state *s, const struct mcp_call_sink *sink)
{
	if (!sink || !sink->call) {
		memset(&s->call_sink, 0, sizeof(s->call_sink));
		mcp_defer_free(s->defer); /* what it held goes to the old sink */
		s->defer = NULL;
		memset(s->waits.defer, 0, s->waits.pair.t.cap * sizeof(*s->waits.defer));
		return 0;
	}
	/* calloc: pages are touched only as slots get used, and the pending
	 * table reuses its most recently freed slot first */
	if (!s->calls)
		s->calls = calloc(s->pair.t.cap, sizeof(*s->calls));
	if (!s->clients)
		s->clients = calloc(s->sess.t.cap, sizeof(*s->clients));
	if (!s->calls || !s->clients)
		return -ENOMEM;
	s->call_sink = *sink;
	/* tokens of the old FIFO must not meet records of the new one */
	memset(s->waits.defer, 0, s->waits.pair.t.cap * sizeof(*s->waits.defer));
	mcp_defer_free(s->defer);
	s->defer = mcp_defer_new(s->cfg.max_deferred, s->cfg.dedup_window_ns, s->m, sink);
	return s->defer ? 0 : -ENOMEM;
}

void mcp_free(struct mcp_state *s)
{
	if (!s)
		return;
	/* held records go out first, without the waits they did not see end */
	mcp_defer_free(s->defer);
	mcp_client_fini(&s->waits);
	mcp_dedup_free(s->dedup);
	/* before the pair table forgets its size */
	for (uint32_t i = 0; s->calls && i < s->pair.t.cap; i++)
		free(s->calls[i].args);
	mcp_pair_fini(&s->pair);
	mcp_endpoints_fini(&s->eps);
	mcp_sessions_fini(&s->sess);
	free(s->calls);
	free(s->clients);
	free(s);
}
