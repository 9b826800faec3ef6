// SPDX-License-Identifier: GPL-2.0-only
/*
 * proto/conn — glue of one observed socket: HTTP/1.1 detection, the request
 * and response parsers, the FIFO pairing each response with its request on
 * the connection (RFC 9112 §9.3: responses come in request order), and the
 * body consumers (JSON body, or SSE events of JSON) feeding the JSON-RPC
 * scanner. See conn.h for the contract and mcp-wire.md §5 for the transport.
 */
#include <stdlib.h>
#include <string.h>
#include "proto/conn.h"
#include "proto/http1.h"
#include "proto/jsonrpc.h"
#include "proto/sse.h"
#include "proto/tail.h"

/* Requests awaiting their response on one connection (pipelining depth). */
#define PROTO_FIFO 8
/* JSON-RPC request ids kept inline per exchange: one but for batches
 * (2025-03-26), which are rare. A larger batch keeps the rest in overflow
 * storage (proto_exch_add_id()), so that an HTTP error refusing it answers
 * every one of its requests. */
#define PROTO_EXCH_IDS 4
/* Ids kept per exchange at most, inline and overflow together. */
#define PROTO_EXCH_IDS_MAX 1024
/* Overflow ids held by all connections at once: a bound on what large
 * batches awaiting their answer may hold (~70 bytes each). */
#define PROTO_IDS_POOL 65536u
/* Messages of one SSE event held until the event's name is known. */
#define PROTO_SSE_PENDING 8
/* First bytes of an event's data kept for non-JSON events (`endpoint`). */
#define PROTO_SSE_HEAD 256
#define PROTO_DEFAULT_MAX_BODY (16u << 20)
#define PROTO_DETECT_MAX 16
/* Idle parser states (struct proto_work) kept for reuse once released:
 * beyond it a released one goes back to malloc. Enough for the sides that
 * are mid-message at once under load; 4.3 KiB each, 14 KiB with the SSE
 * state one may carry. */
#define PROTO_WORK_SPARE 256u

enum { PROTO_UNKNOWN, PROTO_HTTP, PROTO_OTHER };

/* What one direction is doing: deciding from its first bytes, parsing HTTP,
 * or, when the first bytes were the middle of a message (a connection open
 * before mcpwire started), looking for where messages resume (join below). */
enum { PH_DETECT, PH_HTTP, PH_SCAN, PH_VERIFY };

enum { BODY_IGNORE, BODY_SNIFF, BODY_JSON, BODY_SSE };

struct proto_exch {
	uint64_t id;
	char method[HTTP1_METHOD_MAX];
	uint8_t legacy;		/* session from the query string (HTTP+SSE 2024-11-05) */
	uint8_t nids;		/* in ids[] */
	/* MCP-Protocol-Version of the request ("YYYY-MM-DD"): the version of a
	 * 2026-07-28 server, which has no initialize to state it */
	char pver[16];
	char session[128];
	/* Ids past ids[]: more[0, nmore) of more_cap allocated, owned by the
	 * FIFO slot or the response side holding the exchange (moved, never
	 * shared). ids_lost: requests past PROTO_EXCH_IDS_MAX, the pool or
	 * memory, whose ids are not kept. */
	struct jsonrpc_id *more;
	uint16_t nmore, more_cap;
	uint32_t ids_lost;
	struct jsonrpc_id ids[PROTO_EXCH_IDS];
};

/* The requests awaiting their response on one connection, 3.7 KiB: held
 * while fifo_n > 0 only (proto_fifo_get()/proto_fifo_put()), from a free
 * list like struct proto_work. */
struct proto_fifo {
	struct proto_exch e[PROTO_FIFO];
	struct proto_fifo *next;	/* on the free list */
};

struct proto_sse {
	struct sse_parser parser;
	uint8_t npending;
	uint8_t overflow;
	uint8_t too_large;
	uint16_t head_len;
	char head[PROTO_SSE_HEAD];
	struct jsonrpc_msg pending[PROTO_SSE_PENDING];
};

/*
 * The parser state of one direction while a message is in progress: the
 * HTTP/1.1 parser, the JSON-RPC scanner, the message's context and the
 * exchange it belongs to, 4.3 KiB together. A keep-alive
 * connection spends most of its life between messages, where neither holds
 * anything, so a side owns one only from its first byte to the end of the
 * message (proto_work_get()/proto_work_put()), from a free list: 10,000
 * idle connections cost their small proto_conn, not 10,000 parsers.
 */
struct proto_work {
	struct http1_parser http;
	struct jsonrpc_scan js;
	struct mcp_wire_ctx ctx;	/* of the message in progress */
	/* ctx is another connection's: reused from the free list, no head
	 * seen since (each head builds its own); proto_error() builds it */
	uint8_t ctx_stale;
	struct proto_exch ex;	/* response side: the request being answered */
	/* on the free list: the SSE state (10 KiB) its last side had, handed
	 * to the next (every SSE body starts with sse_init()) */
	struct proto_sse *sse;
	struct proto_work *next;	/* on the free list */
};

struct proto_side {
	struct proto_conn *c;
	struct proto_work *w;	/* NULL while idle between messages */
	uint8_t is_resp;
	uint8_t body;		/* BODY_* of the message in progress */
	uint8_t failed;		/* this body's JSON is lost; errors already told */
	uint8_t gap_told;
	uint8_t synthesized;	/* errors emitted from the HTTP status */
	uint8_t cap_gap;	/* the gap being handed to http1 is the capture cap's */
	uint8_t legacy_stream;	/* carries a legacy session (its endpoint event) */
	uint64_t body_bytes;
	uint64_t req_exch;	/* request side: exchange of the request in progress */
	struct proto_sse *sse;
	uint8_t phase;		/* PH_* */
	struct proto_join *jn;	/* while PH_SCAN or PH_VERIFY */
	struct tail_rec *tr;	/* a message with a hole of the cap, once one was seen */
};

struct proto_conn {
	struct proto_conn_params p;
	const struct proto_sink *sink;
	uint8_t proto;
	uint8_t req_dir;	/* enum stream_dir carrying requests */
	uint8_t mcp_seen;	/* a JSON-RPC message went over this connection */
	uint8_t det_len[2];
	uint8_t det[2][PROTO_DETECT_MAX];
	uint64_t ts;
	/* what every message context starts from (proto_ctx_base()), kept
	 * as the few bytes it is made of rather than a 456-byte template */
	uint8_t observer;	/* enum mcp_observer, once roles_known */
	uint8_t roles_known;	/* proto_start_http() ran: server endpoint known */
	uint8_t fifo_head, fifo_n;
	uint64_t fifo_evicted;
	uint64_t join_skipped;	/* bytes passed over before messages resumed */
	struct proto_fifo *fifo; /* NULL while no request awaits its response */
	struct proto_side side[2]; /* by enum stream_dir */
};

static uint64_t proto_exchange_seq;

/* The connection's part of a message context: flow, observing process,
 * transport, and once the roles are known, observer and server endpoint.
 * Every field is set, strings as empty strings (their consumers read them
 * up to the NUL), without clearing all 456 bytes: one per head. */
static void proto_ctx_base(const struct proto_conn *c, struct mcp_wire_ctx *ctx)
{
	ctx->ts_ns = 0;
	ctx->flow_id = c->p.flow_id;
	ctx->dir = 0;
	ctx->transport = MCP_TRANSPORT_STREAMABLE_HTTP;
	if (c->roles_known) {
		ctx->observer = c->observer;
		ctx->server = c->observer == MCP_OBS_SERVER ? c->p.local : c->p.remote;
	} else {
		ctx->observer = 0;
		memset(&ctx->server, 0, sizeof(ctx->server));
	}
	ctx->tgid = c->p.tgid;
	memcpy(ctx->comm, c->p.comm, sizeof(ctx->comm));
	ctx->session[0] = 0;
	ctx->new_session[0] = 0;
	ctx->exchange = 0;
	ctx->http_status = 0;
}

/* Overflow id slots allocated by all connections (PROTO_IDS_POOL). */
static uint32_t proto_ids_pooled;
/* Released parser states kept for reuse (PROTO_WORK_SPARE), and counts of
 * what the free list did: see proto_work_stats(). */
static struct proto_work *proto_work_free;
static struct proto_fifo *proto_fifo_free;
static struct proto_work_stats proto_work_st;

static const char *const proto_methods[] = {
	"GET ", "POST ", "PUT ", "DELETE ", "HEAD ", "OPTIONS ", "PATCH ", "TRACE ", "CONNECT ",
	NULL,
};

static void proto_error(struct proto_side *sd, const char *reason)
{
	struct proto_conn *c = sd->c;

	if (sd->phase == PH_VERIFY)
		return; /* not yet known to be a message boundary */
	if (sd->w->ctx_stale) {
		proto_ctx_base(c, &sd->w->ctx);
		sd->w->ctx_stale = 0;
	}
	sd->w->ctx.ts_ns = c->ts;
	if (c->sink->parse_error)
		c->sink->parse_error(c->sink->arg, &sd->w->ctx, reason);
}

static uint32_t proto_max_body(const struct proto_conn *c)
{
	return c->p.max_body ? c->p.max_body : PROTO_DEFAULT_MAX_BODY;
}

/* Case-insensitive media type check on a Content-Type value (RFC 9110 §8.3). */
static int proto_media_is(const struct http1_value *v, const char *type)
{
	size_t n = strlen(type);

	return v->present && v->len >= n && !strncasecmp(v->s, type, n) &&
	       (v->len == n || v->s[n] == ';' || v->s[n] == ' ' || v->s[n] == '\t');
}

static int proto_media_json(const struct http1_value *v)
{
	const char *semi;
	size_t n;

	if (proto_media_is(v, "application/json"))
		return 1;
	/* structured syntax suffix, RFC 6839 */
	semi = memchr(v->s, ';', v->len);
	n = semi ? (size_t)(semi - v->s) : v->len;
	while (n && (v->s[n - 1] == ' ' || v->s[n - 1] == '\t'))
		n--;
	return n > 5 && !strncasecmp(v->s + n - 5, "+json", 5);
}

/* sessionId=… (ts SDK) or session_id=… (python SDK) of a request-target. */
static int proto_query_session(const char *target, char *out, size_t outsz)
{
	const char *q = strchr(target, '?');

	while (q) {
		const char *k = q + 1, *v = NULL;
		size_t n;

		if (!strncmp(k, "sessionId=", 10))
			v = k + 10;
		else if (!strncmp(k, "session_id=", 11))
			v = k + 11;
		if (v) {
			n = strcspn(v, "&#");
			if (!n)
				return 0;
			if (n >= outsz)
				n = outsz - 1;
			memcpy(out, v, n);
			out[n] = 0;
			return 1;
		}
		q = strchr(k, '&');
	}
	return 0;
}

static void proto_copy_value(char *dst, size_t dstsz, const struct http1_value *v)
{
	size_t n = v->present ? v->len : 0;

	if (n >= dstsz)
		n = dstsz - 1;
	memcpy(dst, v->s, n);
	dst[n] = 0;
}

/*
 * 2026-07-28 (mcp-wire.md §8): a request names its tool, prompt or resource
 * in the Mcp-Name header too. The body's params.name or params.uri wins; the
 * header is used when the body has none (a client that left it out, or one
 * that sent an unreadable one), and only when Mcp-Method, if sent, agrees
 * with the body: a server rejects a mismatch (-32020), so its name is no
 * name of this call.
 */
static void proto_fill_name(struct jsonrpc_msg *m, const struct http1_head *h)
{
	struct mcp_str *dst;
	uint8_t trunc;
	int n;

	if (!strcmp(m->method.s, "tools/call") || !strcmp(m->method.s, "prompts/get"))
		dst = &m->name;
	else if (!strncmp(m->method.s, "resources/", 10))
		dst = &m->uri;
	else
		return;
	if (dst->len || dst->truncated)
		return;
	if (h->mcp_method.present &&
	    (h->mcp_method.len != m->method.len || memcmp(h->mcp_method.s, m->method.s, m->method.len)))
		return;
	n = http1_mcp_text(h->mcp_name.s, h->mcp_name.len, dst->s, sizeof(dst->s), &trunc);
	if (n < 0)
		return;
	/* a cut header value is a cut name: __other__, never a prefix */
	dst->len = n;
	dst->truncated = trunc || h->mcp_name.truncated;
}

/* A result naming its server without a protocol version (a 2026-07-28
 * result's _meta may omit it): the version the request was sent under. */
static void proto_fill_version(struct jsonrpc_msg *m, const char *pver)
{
	size_t n = strlen(pver); /* < sizeof(proto_exch.pver) */

	memcpy(m->protocol_version.s, pver, n);
	m->protocol_version.s[n] = 0;
	m->protocol_version.len = n;
}

/* Remembers the id of a request the exchange carries: inline, else in its
 * overflow storage, grown by doubling within PROTO_EXCH_IDS_MAX and the pool;
 * else counted in ids_lost. */
static void proto_exch_add_id(struct proto_exch *e, const struct jsonrpc_id *id)
{
	uint32_t cap;
	struct jsonrpc_id *n;

	if (e->nids < PROTO_EXCH_IDS) {
		e->ids[e->nids++] = *id;
		return;
	}
	if (e->nmore == e->more_cap) {
		cap = e->more_cap ? 2u * e->more_cap : 8u;
		if (cap > PROTO_EXCH_IDS_MAX - PROTO_EXCH_IDS)
			cap = PROTO_EXCH_IDS_MAX - PROTO_EXCH_IDS;
		if (cap <= e->more_cap || proto_ids_pooled + (cap - e->more_cap) > PROTO_IDS_POOL ||
		    !(n = realloc(e->more, cap * sizeof(*n)))) {
			e->ids_lost++;
			return;
		}
		proto_ids_pooled += cap - e->more_cap;
		e->more = n;
		e->more_cap = cap;
	}
	e->more[e->nmore++] = *id;
}

/* Frees the exchange's overflow ids; it keeps its other fields. */
static void proto_exch_release(struct proto_exch *e)
{
	free(e->more);
	proto_ids_pooled -= e->more_cap;
	e->more = NULL;
	e->nmore = e->more_cap = 0;
	e->ids_lost = 0;
}

/* Deliver one JSON-RPC message found in a body or event. */
static void proto_deliver(struct proto_side *sd, const struct jsonrpc_msg *m)
{
	struct proto_conn *c = sd->c;
	struct jsonrpc_msg fill;

	if (m->kind == JSONRPC_INVALID) {
		/* Valid JSON that is not JSON-RPC is some other JSON API (the
		 * Prometheus query API, a health check) unless this connection or
		 * this exchange is already known to speak MCP. */
		if (c->mcp_seen || sd->w->ctx.session[0])
			proto_error(sd, "not_jsonrpc");
		return;
	}
	c->mcp_seen = 1;
	/* the HTTP status already answered every request of the exchange */
	if (sd->synthesized && m->kind == JSONRPC_ERROR &&
	    (m->id.type == JSONRPC_ID_NULL || m->id.type == JSONRPC_ID_NONE))
		return;
	if (!sd->is_resp && m->kind == JSONRPC_REQUEST) {
		for (int i = 0; i < c->fifo_n; i++) {
			struct proto_exch *e = &c->fifo->e[(c->fifo_head + i) % PROTO_FIFO];

			if (e->id == sd->req_exch) {
				proto_exch_add_id(e, &m->id);
				break;
			}
		}
	}
	/* 2026-07-28 headers complete what the body lacks (rare: a copy) */
	if (sd->is_resp ? m->kind == JSONRPC_RESULT && sd->w->ex.pver[0] && m->peer_name.len &&
				  !m->protocol_version.len :
			  m->kind == JSONRPC_REQUEST && sd->w->http.head.mcp_name.present) {
		fill = *m;
		if (sd->is_resp)
			proto_fill_version(&fill, sd->w->ex.pver);
		else
			proto_fill_name(&fill, &sd->w->http.head);
		m = &fill;
	}
	sd->w->ctx.ts_ns = c->ts;
	if (c->sink->message)
		c->sink->message(c->sink->arg, &sd->w->ctx, m);
}

static void proto_drop_payloads(struct jsonrpc_msg *m)
{
	memset(&m->arguments, 0, sizeof(m->arguments));
	memset(&m->result, 0, sizeof(m->result));
	memset(&m->error, 0, sizeof(m->error));
}

static void proto_on_msg(void *arg, const struct jsonrpc_msg *m)
{
	struct proto_side *sd = arg;
	struct proto_sse *sse = sd->sse;

	if (sd->body != BODY_SSE) {
		proto_deliver(sd, m);
		return;
	}
	/* the event name may still follow: keep until dispatch. Payload text
	 * lives in the scanner's one buffer, which the next message of the
	 * event reuses: an earlier message kept here loses its text. */
	if (m->arguments.text || m->result.text || m->error.text)
		for (int i = 0; i < sse->npending; i++)
			proto_drop_payloads(&sse->pending[i]);
	if (sse->npending < PROTO_SSE_PENDING)
		sse->pending[sse->npending++] = *m;
	else
		sse->overflow = 1;
}

static int proto_tail_on(const struct proto_side *sd)
{
	return sd->tr && sd->tr->active;
}

/* A hole of the capture cap in the message being scanned: it may still come
 * out of its head and tail (proto/tail.h). 1 when the hole is taken in. */
static int proto_tail_begin(struct proto_side *sd)
{
	if (sd->w->http.head.coding != HTTP1_CODING_IDENTITY)
		return 0; /* a compressed stream cannot go on after a hole */
	if (!sd->tr)
		sd->tr = calloc(1, sizeof(*sd->tr));
	return sd->tr && !tail_begin(sd->tr, &sd->w->js);
}

/* The message with the hole was abandoned: the gap it is. */
static void proto_tail_abort(struct proto_side *sd)
{
	if (!proto_tail_on(sd))
		return;
	tail_reset(sd->tr);
	proto_error(sd, "gap");
}

/* Its framing says it ended: the message, or the gap when it is ambiguous. */
static void proto_tail_finish(struct proto_side *sd)
{
	struct jsonrpc_msg m;

	if (tail_end(sd->tr, &m))
		proto_deliver(sd, &m);
	else
		proto_error(sd, "gap");
}

static void proto_sse_clear(struct proto_side *sd)
{
	sd->sse->npending = 0;
	sd->sse->overflow = 0;
	sd->sse->too_large = 0;
	sd->sse->head_len = 0;
	sd->body_bytes = 0;
	jsonrpc_scan_reset(&sd->w->js);
}

static void proto_sse_data(void *arg, const uint8_t *data, size_t len)
{
	struct proto_side *sd = arg;
	struct proto_sse *sse = sd->sse;
	size_t n = len;

	if (sse->head_len < PROTO_SSE_HEAD - 1) {
		if (n > PROTO_SSE_HEAD - 1u - sse->head_len)
			n = PROTO_SSE_HEAD - 1u - sse->head_len;
		memcpy(sse->head + sse->head_len, data, n);
		sse->head_len += n;
	}
	if (sse->too_large)
		return;
	if (proto_tail_on(sd)) {
		tail_feed(sd->tr, data, len);
		return;
	}
	sd->body_bytes += len;
	if (sd->body_bytes > proto_max_body(sd->c)) {
		sse->too_large = 1;
		return;
	}
	jsonrpc_scan_feed(&sd->w->js, data, len);
}

static void proto_sse_dispatch(void *arg, const struct sse_event *ev)
{
	struct proto_side *sd = arg;
	struct proto_sse *sse = sd->sse;
	int err;

	if (sd->phase == PH_VERIFY) {
		/* an event before the end of the first chunk of a joined stream
		 * may have begun before it: dropped, never guessed */
		proto_sse_clear(sd);
		return;
	}
	if (!strcmp(ev->type, "endpoint")) {
		/* legacy HTTP+SSE (2024-11-05): data is the URI to POST to, and
		 * its query carries the session of everything on this stream */
		sse->head[sse->head_len] = 0;
		if (proto_query_session(sse->head, sd->w->ctx.session, sizeof(sd->w->ctx.session))) {
			sd->w->ctx.transport = MCP_TRANSPORT_SSE;
			sd->legacy_stream = 1;
		}
	} else if (!ev->type[0] || !strcmp(ev->type, "message")) {
		if (sse->too_large) {
			proto_error(sd, "too_large");
		} else if (proto_tail_on(sd)) {
			for (int i = 0; i < sse->npending; i++)
				proto_deliver(sd, &sse->pending[i]);
			proto_tail_finish(sd);
		} else {
			err = jsonrpc_scan_end(&sd->w->js);
			for (int i = 0; i < sse->npending; i++)
				proto_deliver(sd, &sse->pending[i]);
			if (sse->overflow)
				proto_error(sd, "sse");
			/* an empty event (the 2025-11-25 priming event) is no error */
			if (err && err != JSONRPC_E_EMPTY)
				proto_error(sd, "json");
		}
	}
	/* other event types are not MCP messages */
	if (proto_tail_on(sd))
		tail_reset(sd->tr);
	proto_sse_clear(sd);
}

static void proto_sse_discard(void *arg)
{
	proto_tail_abort(arg);
	proto_sse_clear(arg);
}

static const struct sse_ops proto_sse_ops = {
	.data = proto_sse_data,
	.dispatch = proto_sse_dispatch,
	.discard = proto_sse_discard,
};

static void proto_body_start(struct proto_side *sd, uint8_t kind)
{
	proto_tail_abort(sd);
	sd->body = kind;
	sd->failed = 0;
	sd->gap_told = 0;
	sd->body_bytes = 0;
	jsonrpc_scan_reset(&sd->w->js);
	if (kind == BODY_SSE) {
		if (!sd->sse) {
			sd->sse = calloc(1, sizeof(*sd->sse));
			if (!sd->sse) {
				sd->body = BODY_IGNORE;
				proto_error(sd, "too_large");
				return;
			}
		}
		sse_init(&sd->sse->parser, &proto_sse_ops, sd);
		proto_sse_clear(sd);
	}
}

static void proto_too_large(struct proto_side *sd)
{
	proto_error(sd, "too_large");
	sd->body = BODY_IGNORE;
}

static int proto_fifo_get(struct proto_conn *c);

static void proto_fifo_push(struct proto_conn *c, const struct proto_exch *e)
{
	if (proto_fifo_get(c)) {
		/* answered, it will be unpaired like an evicted one */
		struct proto_exch lost = *e;

		proto_exch_release(&lost);
		c->fifo_evicted++;
		return;
	}
	if (c->fifo_n == PROTO_FIFO) {
		/* answers were missed: the oldest request will never pair */
		proto_exch_release(&c->fifo->e[c->fifo_head]);
		c->fifo_head = (c->fifo_head + 1) % PROTO_FIFO;
		c->fifo_n--;
		c->fifo_evicted++;
	}
	c->fifo->e[(c->fifo_head + c->fifo_n) % PROTO_FIFO] = *e;
	c->fifo_n++;
}

static int proto_req_head(void *arg, const struct http1_head *h)
{
	struct proto_side *sd = arg;
	struct proto_conn *c = sd->c;
	struct proto_exch *e = &sd->w->ex;
	uint8_t kind;

	memset(e, 0, offsetof(struct proto_exch, ids));
	e->id = ++proto_exchange_seq;
	strcpy(e->method, h->method);
	if (h->session_id.present)
		proto_copy_value(e->session, sizeof(e->session), &h->session_id);
	else
		e->legacy = proto_query_session(h->target, e->session, sizeof(e->session));
	if (h->protocol_version.present)
		proto_copy_value(e->pver, sizeof(e->pver), &h->protocol_version);
	proto_fifo_push(c, e);
	sd->req_exch = e->id;

	proto_ctx_base(c, &sd->w->ctx);
	sd->w->ctx_stale = 0;
	sd->w->ctx.dir = MCP_C2S;
	sd->w->ctx.transport = e->legacy ? MCP_TRANSPORT_SSE : MCP_TRANSPORT_STREAMABLE_HTTP;
	memcpy(sd->w->ctx.session, e->session, sizeof(e->session));
	sd->w->ctx.exchange = e->id;

	if (proto_media_json(&h->content_type))
		kind = BODY_JSON;
	else if (!h->content_type.present)
		kind = BODY_SNIFF;
	else
		kind = BODY_IGNORE;
	proto_body_start(sd, kind);
	if (kind != BODY_IGNORE && h->content_length > (int64_t)proto_max_body(c))
		proto_too_large(sd);
	return HTTP1_HEAD_OK;
}

static int proto_work_get(struct proto_side *sd);

static int proto_resp_head(void *arg, const struct http1_head *h)
{
	struct proto_side *sd = arg;
	struct proto_conn *c = sd->c;
	struct proto_exch *e = &sd->w->ex;
	uint8_t kind = BODY_IGNORE;

	if (h->status < 200 && h->status != 101)
		return HTTP1_HEAD_OK; /* interim (1xx): the final answer follows */
	proto_exch_release(e);
	if (c->fifo_n) {
		/* moved: the slot no longer owns the overflow ids */
		*e = c->fifo->e[c->fifo_head];
		c->fifo->e[c->fifo_head].more = NULL;
		c->fifo->e[c->fifo_head].nmore = c->fifo->e[c->fifo_head].more_cap = 0;
		c->fifo_head = (c->fifo_head + 1) % PROTO_FIFO;
		c->fifo_n--;
	} else {
		/* joined mid-connection, or the request was lost */
		memset(e, 0, sizeof(*e));
		e->id = ++proto_exchange_seq;
	}
	if (h->status == 101 || (!strcmp(e->method, "CONNECT") && h->status < 300)) {
		/* the request side may be idle, its parser state given back;
		 * without memory it stays HTTP and reports what follows as such */
		if (!proto_work_get(&c->side[c->req_dir]))
			http1_set_opaque(&c->side[c->req_dir].w->http);
		return HTTP1_HEAD_OPAQUE;
	}

	proto_ctx_base(c, &sd->w->ctx);
	sd->w->ctx_stale = 0;
	sd->w->ctx.dir = MCP_S2C;
	sd->w->ctx.transport = e->legacy ? MCP_TRANSPORT_SSE : MCP_TRANSPORT_STREAMABLE_HTTP;
	sd->w->ctx.exchange = e->id;
	sd->w->ctx.http_status = h->status;
	if (e->session[0])
		memcpy(sd->w->ctx.session, e->session, sizeof(e->session));
	else
		proto_copy_value(sd->w->ctx.session, sizeof(sd->w->ctx.session), &h->session_id);
	/* ts-v1 repeats the header on every answer; only a new one is news */
	if (h->session_id.present) {
		proto_copy_value(sd->w->ctx.new_session, sizeof(sd->w->ctx.new_session), &h->session_id);
		if (!strcmp(sd->w->ctx.new_session, e->session))
			sd->w->ctx.new_session[0] = 0;
	}
	sd->synthesized = 0;

	if (!strcmp(e->method, "DELETE") && h->status < 300 && sd->w->ctx.session[0] &&
	    c->sink->session_end) {
		sd->w->ctx.ts_ns = c->ts;
		c->sink->session_end(c->sink->arg, &sd->w->ctx);
	}
	if (h->status >= 400 && (e->nids || e->ids_lost)) {
		/* the transport refused the request: each id gets an error */
		struct jsonrpc_msg m;

		memset(&m, 0, sizeof(m));
		m.kind = JSONRPC_ERROR;
		for (uint32_t i = 0; i < (uint32_t)e->nids + e->nmore; i++) {
			m.id = i < e->nids ? e->ids[i] : e->more[i - e->nids];
			sd->w->ctx.ts_ns = c->ts;
			if (c->sink->message)
				c->sink->message(c->sink->arg, &sd->w->ctx, &m);
		}
		/* past the bound: requests that stay pending (and expire) without
		 * their answer, each said here */
		for (uint32_t i = 0; i < e->ids_lost; i++)
			proto_error(sd, "too_large");
		sd->synthesized = 1;
	}
	proto_exch_release(e);
	if (!strcmp(e->method, "HEAD")) {
		sd->body = BODY_IGNORE;
		return HTTP1_HEAD_NO_BODY;
	}
	if (proto_media_is(&h->content_type, "text/event-stream"))
		kind = BODY_SSE;
	else if (proto_media_json(&h->content_type))
		kind = BODY_JSON;
	proto_body_start(sd, kind);
	if (kind == BODY_JSON && h->content_length > (int64_t)proto_max_body(c))
		proto_too_large(sd);
	return HTTP1_HEAD_OK;
}

static void proto_body(void *arg, const uint8_t *data, size_t len)
{
	struct proto_side *sd = arg;

	switch (sd->body) {
	case BODY_IGNORE:
		return;
	case BODY_SNIFF: {
		/* no Content-Type: JSON only if it looks like an object or batch */
		size_t i = 0;

		while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' ||
				   data[i] == '\n'))
			i++;
		if (i == len)
			return;
		if (data[i] != '{' && data[i] != '[') {
			sd->body = BODY_IGNORE;
			return;
		}
		sd->body = BODY_JSON;
		data += i;
		len -= i;
	}
		/* fall through */
	case BODY_JSON:
		if (sd->failed)
			return;
		if (proto_tail_on(sd)) {
			tail_feed(sd->tr, data, len);
			return;
		}
		sd->body_bytes += len;
		if (sd->body_bytes > proto_max_body(sd->c)) {
			proto_too_large(sd);
			return;
		}
		if (jsonrpc_scan_feed(&sd->w->js, data, len)) {
			sd->failed = 1;
			proto_error(sd, "json");
		}
		return;
	case BODY_SSE:
		sse_feed(&sd->sse->parser, data, len);
		return;
	}
}

static void proto_body_gap(void *arg, uint64_t nbytes)
{
	struct proto_side *sd = arg;

	if (sd->body == BODY_IGNORE)
		return;
	/* A JSON body is one message whatever chunks the hole swallowed; in an
	 * event stream a chunk boundary in the hole may hide an event
	 * boundary (the servers write one event per chunk), so that event is
	 * lost, and the framing found again after it keeps the next ones. */
	if (sd->cap_gap &&
	    ((sd->body == BODY_JSON && !sd->failed) ||
	     (sd->body == BODY_SSE && !sd->sse->too_large && !http1_gap_resynced(&sd->w->http) &&
	      sse_in_data(&sd->sse->parser))) &&
	    proto_tail_begin(sd))
		return; /* told at the message's end if it cannot be recovered */
	if (proto_tail_on(sd))
		tail_reset(sd->tr); /* bytes lost, not left out: no recovery */
	if (!sd->gap_told) {
		sd->gap_told = 1;
		proto_error(sd, "gap");
	}
	if (sd->body == BODY_SSE)
		sse_gap(&sd->sse->parser); /* later events of the stream still count */
	else
		sd->failed = 1;
}

/*
 * The GET stream of a legacy session ended. The 2024-11-05 transport has no
 * DELETE: the session lives as long as this stream (ts-v1's SSEServerTransport
 * and python's SseServerTransport drop it when the stream closes, and later
 * POSTs of its sessionId get 404), so its end is the session's end.
 */
static void proto_legacy_end(struct proto_side *sd)
{
	struct proto_conn *c = sd->c;

	sd->legacy_stream = 0;
	if (!sd->w->ctx.session[0] || !c->sink->session_end)
		return;
	sd->w->ctx.ts_ns = c->ts;
	c->sink->session_end(c->sink->arg, &sd->w->ctx);
}

static void proto_done(void *arg, unsigned int flags)
{
	struct proto_side *sd = arg;
	int err;

	switch (sd->body) {
	case BODY_JSON:
		if (proto_tail_on(sd) && !(flags & HTTP1_F_DECODE_ERR)) {
			proto_tail_finish(sd);
			break;
		}
		proto_tail_abort(sd);
		if (sd->failed || (flags & (HTTP1_F_GAP | HTTP1_F_DECODE_ERR)))
			break;
		err = jsonrpc_scan_end(&sd->w->js);
		if (err && err != JSONRPC_E_EMPTY)
			proto_error(sd, "json");
		break;
	case BODY_SSE:
		sse_end(&sd->sse->parser);
		if (sd->legacy_stream)
			proto_legacy_end(sd);
		break;
	}
	sd->body = BODY_IGNORE;
}

static void proto_http_error(void *arg, const char *reason)
{
	struct proto_side *sd = arg;

	proto_error(sd, reason);
	proto_tail_abort(sd);
	if (!strcmp(reason, "decompress")) {
		/* framing goes on, but this body's JSON is lost */
		sd->failed = 1;
		if (sd->body == BODY_SSE)
			sd->body = BODY_IGNORE;
		return;
	}
	if (sd->body == BODY_SSE)
		sse_end(&sd->sse->parser);
	sd->body = BODY_IGNORE;
}

static const struct http1_ops proto_req_ops = {
	.head = proto_req_head,
	.body = proto_body,
	.body_gap = proto_body_gap,
	.done = proto_done,
	.error = proto_http_error,
};

static const struct http1_ops proto_resp_ops = {
	.head = proto_resp_head,
	.body = proto_body,
	.body_gap = proto_body_gap,
	.done = proto_done,
	.error = proto_http_error,
};

struct proto_conn *proto_conn_new(const struct proto_conn_params *p, const struct proto_sink *sink)
{
	struct proto_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->p = *p;
	c->sink = sink;
	for (int d = 0; d < 2; d++)
		c->side[d].c = c;
	return c;
}

/* (Re)starts a side's scanner; what payload capture allocated goes first. */
static void proto_scan_init(struct proto_side *sd)
{
	jsonrpc_scan_fini(&sd->w->js);
	jsonrpc_scan_init(&sd->w->js, proto_on_msg, sd);
	jsonrpc_scan_set_capture(&sd->w->js, sd->c->p.payloads);
}

/* A parser state for sd: from the free list, or allocated. A side that gave
 * its state back did so between two messages of an HTTP connection, so it
 * gets one in that same state (expecting a start line); a side that never
 * had one gets it zeroed, as proto_conn_new() left it. */
static int proto_work_get(struct proto_side *sd)
{
	struct proto_conn *c = sd->c;
	struct proto_work *w = proto_work_free;
	int reuse = 0;

	if (sd->w)
		return 0;
	if (w) {
		proto_work_free = w->next;
		proto_work_st.spare--;
		reuse = 1;
		if (!sd->sse)
			sd->sse = w->sse;
		else
			free(w->sse);
		w->sse = NULL;
	} else {
		w = malloc(sizeof(*w));
		if (!w) {
			proto_work_st.failed++;
			return -1;
		}
		proto_work_st.allocs++;
		w->sse = NULL;
	}
	proto_work_st.in_use++;
	sd->w = w;
	if (c->proto == PROTO_HTTP && sd->phase == PH_HTTP) {
		enum http1_mode mode = sd->is_resp ? HTTP1_RESPONSE : HTTP1_REQUEST;
		const struct http1_ops *ops = sd->is_resp ? &proto_resp_ops : &proto_req_ops;

		/* a state from the free list was idle when given back */
		if (reuse) {
			http1_rebind(&w->http, mode, ops, sd);
			jsonrpc_scan_rebind(&w->js, proto_on_msg, sd);
			/* the next head builds ctx; only an error before
			 * it needs one (proto_error()) */
			w->ctx_stale = 1;
			jsonrpc_scan_set_capture(&w->js, c->p.payloads);
			return 0;
		}
		http1_init(&w->http, mode, ops, sd);
		jsonrpc_scan_init(&w->js, proto_on_msg, sd);
		memset(&w->ex, 0, sizeof(w->ex));
		jsonrpc_scan_set_capture(&w->js, c->p.payloads);
	} else {
		if (reuse)
			http1_destroy(&w->http);
		memset(w, 0, sizeof(*w));
	}
	proto_ctx_base(c, &w->ctx);
	w->ctx_stale = 0;
	return 0;
}

static void proto_work_free_one(struct proto_work *w)
{
	http1_destroy(&w->http);
	jsonrpc_scan_fini(&w->js);
	proto_exch_release(&w->ex);
	free(w->sse);
	free(w);
}

/* Gives sd's parser state back when it holds nothing: an HTTP side between
 * messages (http1_idle()) with no cut message being tracked (tail) and no
 * legacy session whose end needs its context. Joining sides, opaque streams
 * (101/CONNECT) and SSE streams keep theirs. Its SSE state, if any, goes
 * along. */
static void proto_work_put(struct proto_side *sd)
{
	struct proto_work *w = sd->w;

	if (!w || sd->c->proto != PROTO_HTTP || sd->phase != PH_HTTP || sd->tr ||
	    sd->legacy_stream || !http1_idle(&w->http))
		return;
	w->sse = sd->sse;
	sd->sse = NULL;
	/* its zlib stream stays for the next user (http1_rebind()) */
	jsonrpc_scan_fini(&w->js);
	proto_exch_release(&w->ex);
	sd->w = NULL;
	proto_work_st.in_use--;
	if (proto_work_st.spare >= PROTO_WORK_SPARE) {
		proto_work_free_one(w);
		return;
	}
	w->next = proto_work_free;
	proto_work_free = w;
	proto_work_st.spare++;
}

static int proto_fifo_get(struct proto_conn *c)
{
	struct proto_fifo *f = proto_fifo_free;

	if (c->fifo)
		return 0;
	if (f) {
		proto_fifo_free = f->next;
		proto_work_st.fifo_spare--;
	} else {
		f = malloc(sizeof(*f));
		if (!f) {
			proto_work_st.failed++;
			return -1;
		}
		proto_work_st.allocs++;
	}
	proto_work_st.fifo_in_use++;
	c->fifo = f;
	c->fifo_head = 0;
	return 0;
}

/* Gives the FIFO back once no request awaits its response. */
static void proto_fifo_put(struct proto_conn *c)
{
	struct proto_fifo *f = c->fifo;

	if (!f || c->fifo_n)
		return;
	c->fifo = NULL;
	proto_work_st.fifo_in_use--;
	if (proto_work_st.fifo_spare >= PROTO_WORK_SPARE) {
		free(f);
		return;
	}
	f->next = proto_fifo_free;
	proto_fifo_free = f;
	proto_work_st.fifo_spare++;
}

/* The sides that need a parser state for one call on dir: dir's, and the
 * other's too until both parse HTTP (detection and joining set up both
 * directions, proto_start_http()). A 101 reaching into the request side gets
 * it there (proto_resp_head()). */
static int proto_work_hold(struct proto_conn *c, enum stream_dir dir)
{
	if (c->proto == PROTO_HTTP && c->side[dir].phase == PH_HTTP)
		return proto_work_get(&c->side[dir]);
	return proto_work_get(&c->side[0]) || proto_work_get(&c->side[1]) ? -1 : 0;
}

static void proto_work_release(struct proto_conn *c)
{
	proto_work_put(&c->side[0]);
	proto_work_put(&c->side[1]);
	proto_fifo_put(c);
}

void proto_work_stats(struct proto_work_stats *out)
{
	*out = proto_work_st;
}

/* keep: a direction already parsing (a joined SSE body, set up by
 * proto_join_accept()), or -1. */
static void proto_start_http(struct proto_conn *c, enum stream_dir req_dir, int keep)
{
	enum stream_dir resp_dir = req_dir == STREAM_RECV ? STREAM_SEND : STREAM_RECV;

	c->proto = PROTO_HTTP;
	c->req_dir = req_dir;
	/* the socket that reads requests is the server's (conn.h) */
	c->observer = req_dir == STREAM_RECV ? MCP_OBS_SERVER : MCP_OBS_CLIENT;
	c->roles_known = 1;
	c->side[req_dir].is_resp = 0;
	c->side[resp_dir].is_resp = 1;
	for (int d = 0; d < 2; d++) {
		struct proto_side *sd = &c->side[d];

		if (d == keep)
			continue;
		proto_ctx_base(c, &sd->w->ctx);
	sd->w->ctx_stale = 0;
		http1_init(&sd->w->http, d == (int)req_dir ? HTTP1_REQUEST : HTTP1_RESPONSE,
			   d == (int)req_dir ? &proto_req_ops : &proto_resp_ops, sd);
		proto_scan_init(sd);
	}
}

/*
 * Joining a connection mid-stream.
 *
 * A socket that was open before mcpwire started is met on its next syscall,
 * usually in the middle of a message. A direction whose first bytes are not
 * a start line is scanned, byte by byte with a fixed amount of state, for the
 * first place where messages resume, and only what follows is reported: the
 * bytes before it belong to a message whose start was never seen. They are
 * counted (proto_conn_join_skipped) but are no parse error: joining a
 * connection mid-message is expected, not a fault of the peers.
 *
 * The places recognised:
 *  - a start line: a method and SP on the request side, "HTTP/1." on the
 *    response side, checked to the end of the line and the first header
 *    name and colon (every HTTP/1.1 request has Host:, every response from
 *    the MCP SDKs has header fields) before the parser takes over. A JSON
 *    body cannot hold a raw line end, and the SSE data line that quotes a
 *    status line is followed by a blank line or another SSE field, so a
 *    start line quoted inside a body is not taken for one;
 *  - on the response side, a chunk of an SSE body: CRLF, a chunk-size line
 *    (hex digits, optional extension), CRLF, an SSE field ("event:",
 *    "data:", "id:", "retry:", ':'). The servers write one event per chunk
 *    (mcp-wire.md §5), so a chunk that starts with a field starts an event.
 *    At the very first byte the leading CRLF is not needed: a read or write
 *    begins at a chunk boundary. That first chunk is trusted only once its
 *    announced size is seen to end exactly at CRLF right after a blank line
 *    (the end of an event): a first read that began inside the chunk-size
 *    line ("d\r\n" of "6d\r\n") announces fewer bytes and fails the check.
 *    Its event is held back until then (its last two bytes, the blank line,
 *    are fed only after the check), and an event dispatched before the end
 *    of that chunk is dropped;
 *  - a close-delimited SSE body (no chunking): an SSE field at the first
 *    byte only. A line start is not an event start, so that first event is
 *    skipped; it is trusted once every line up to a blank one starts with an
 *    SSE field and the line after the blank one does too (": 54" then a
 *    blank line is the end of a head joined at a colon, followed by a body),
 *    and events count from that field on.
 * Events and messages found this way have no session ("": unknown), dir S2C,
 * exchange 0; the socket that receives the stream is the client's.
 */
#define JOIN_LINE_MAX 512	/* start line + first header name, bytes */
#define JOIN_EXT_MAX 256	/* chunk extension bytes */
#define JOIN_HEX_MAX 15		/* chunk-size digits (< 2^60) */

enum { WANT_REQ = 1, WANT_RESP = 2 };

/* chunk-size line matcher states */
enum { CS_SKIP, CS_CR, CS_LS, CS_HEX, CS_BWS, CS_EXT, CS_CR2, CS_FIELD };

/* start line candidate states */
enum { C_NONE, C_TARGET, C_VER, C_VDIGIT, C_SP1, C_CODE, C_AFTER_CODE, C_REASON, C_LF,
       C_HNAME };

/* what a byte completed */
enum { J_NONE, J_REQ, J_RESP, J_CHUNK, J_BARE };

static const char *const join_fields[] = { "event:", "data:", "id:", "retry:", ":" };
/* A close-delimited body must start a comment with ": " (": keepalive",
 * ": ping"), as bpf/classify.h does. */
static const char *const join_bare_fields[] = { "event:", "data:", "id:", "retry:", ": " };
#define JOIN_NFIELDS 5

struct proto_join {
	uint8_t want;		/* WANT_*: which starts this direction may carry */
	/* chunk-size line + field */
	uint8_t cs;
	uint8_t ndig;
	uint8_t fpos, fmask;
	uint16_t extn;
	uint64_t size;
	/* field at the very first byte (close-delimited body) */
	uint8_t bpos, bmask;
	/* start line candidate */
	uint8_t cst;
	uint8_t vpos;
	uint16_t n;		/* bytes in the current candidate part */
	uint16_t clen;
	uint64_t win;		/* last 8 bytes */
	char line[JOIN_LINE_MAX];
	/* PH_VERIFY: the first chunk of a joined SSE body */
	uint64_t pos;		/* data bytes of the chunk seen */
	uint64_t chunk;		/* its size */
	uint8_t crlf;		/* bytes of the CRLF after its data seen */
	uint8_t held[2];	/* its last two data bytes, fed once it is trusted */
	uint32_t tail;		/* its last four data bytes */
	uint8_t bare;		/* checking a close-delimited body instead */
	uint8_t bv, bvcr;	/* BV_* line state of that check, CR just seen */
	uint8_t lpos, lmask;	/* field matcher of its current line */
	uint8_t next;		/* that line follows a blank line */
	uint64_t vbytes;	/* bytes taken by the check */
};

enum { BV_LS, BV_FIELD, BV_REST, BV_NEXT };

/* One byte of the lines of a close-delimited SSE body met at its first byte,
 * up to the first blank line and the field starting the next event: 1 when
 * that field is complete, -1 when a line is no SSE field (": 54" then a
 * blank line is the end of a head joined at a colon), 0 meanwhile. */
static int join_bare_byte(struct proto_join *j, uint8_t c);

static const char *const join_req_starts[] = {
	"GET ", "POST ", "PUT ", "DELETE ", "HEAD ", "OPTIONS ", "PATCH ", "TRACE ", NULL,
};

static int join_hex(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

static void join_reset(struct proto_join *j, int at_start)
{
	uint8_t want = j->want;

	memset(j, 0, offsetof(struct proto_join, line));
	j->want = want;
	j->cs = at_start ? CS_LS : CS_SKIP;
	j->bmask = at_start ? (1u << JOIN_NFIELDS) - 1 : 0;
}

/* A field matcher step: mask of the fields still matching after byte c at
 * position pos; *done set when one is complete. */
static uint8_t join_field_step(const char *const *fields, uint8_t mask, uint8_t pos, uint8_t c,
			       int *done)
{
	for (int t = 0; t < JOIN_NFIELDS; t++) {
		if (!(mask & (1u << t)))
			continue;
		if (!fields[t][pos] || fields[t][pos] != (char)c)
			mask &= ~(1u << t);
		else if (!fields[t][pos + 1])
			*done = 1;
	}
	return mask;
}

static int join_chunk_byte(struct proto_join *j, uint8_t c)
{
	int d, done = 0;

again:
	switch (j->cs) {
	case CS_SKIP:
		if (c == '\r')
			j->cs = CS_CR;
		return J_NONE;
	case CS_CR:
		if (c == '\n') {
			j->cs = CS_LS;
			j->ndig = 0;
			j->size = 0;
		} else if (c != '\r') {
			j->cs = CS_SKIP;
		}
		return J_NONE;
	case CS_LS:
	case CS_HEX:
		if (!j->ndig && (c == '\r' || c == '\n')) {
			/* the CRLF ending the previous chunk, met at the first
			 * byte or part way through */
			j->cs = c == '\r' ? CS_CR : CS_LS;
			return J_NONE;
		}
		d = join_hex(c);
		if (d >= 0 && j->ndig < JOIN_HEX_MAX) {
			j->size = j->size << 4 | d;
			j->ndig++;
			j->cs = CS_HEX;
			return J_NONE;
		}
		if (d < 0 && j->ndig) {
			if (c == ' ' || c == '\t') {
				j->cs = CS_BWS;
				return J_NONE;
			}
			if (c == ';') {
				j->cs = CS_EXT;
				j->extn = 0;
				return J_NONE;
			}
			if (c == '\r') {
				j->cs = CS_CR2;
				return J_NONE;
			}
		}
		break;
	case CS_BWS:
		if (c == ' ' || c == '\t')
			return J_NONE;
		if (c == ';') {
			j->cs = CS_EXT;
			j->extn = 0;
			return J_NONE;
		}
		if (c == '\r') {
			j->cs = CS_CR2;
			return J_NONE;
		}
		break;
	case CS_EXT:
		if (c == '\r') {
			j->cs = CS_CR2;
			return J_NONE;
		}
		if ((c >= 0x20 || c == '\t') && c != 0x7f && ++j->extn <= JOIN_EXT_MAX)
			return J_NONE;
		break;
	case CS_CR2:
		if (c == '\n') {
			j->cs = CS_FIELD;
			j->fpos = 0;
			j->fmask = (1u << JOIN_NFIELDS) - 1;
			return J_NONE;
		}
		break;
	case CS_FIELD:
		j->fmask = join_field_step(join_fields, j->fmask, j->fpos, c, &done);
		j->fpos++;
		if (done) {
			j->cs = CS_SKIP;
			/* the chunk must hold at least the field and a blank line */
			return j->size >= j->fpos + 2u ? J_CHUNK : J_NONE;
		}
		if (j->fmask)
			return J_NONE;
		break;
	}
	/* no longer a candidate: c may start the next one */
	if (j->cs == CS_SKIP)
		return J_NONE;
	j->cs = CS_SKIP;
	goto again;
}

static int join_tchar(uint8_t c)
{
	return c > ' ' && c < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", c);
}

/* One byte of an open start line candidate; 1 when the candidate is done,
 * -1 when it failed, 0 when it goes on. */
static int join_cand_byte(struct proto_join *j, uint8_t c)
{
	if (j->clen >= JOIN_LINE_MAX)
		return -1;
	j->line[j->clen++] = c;
	switch (j->cst) {
	case C_TARGET:
		/* '"' is no URI character (RFC 3986): the end of a JSON string */
		if (c > ' ' && c != 0x7f && c != '"') {
			j->n++;
			return 0;
		}
		if (c == ' ' && j->n) {
			j->cst = C_VER;
			j->vpos = 0;
			return 0;
		}
		return -1;
	case C_VER:
		if (j->vpos < 7) {
			return c == (uint8_t)"HTTP/1."[j->vpos++] ? 0 : -1;
		}
		if (c < '0' || c > '9')
			return -1;
		j->cst = C_AFTER_CODE; /* then CRLF, no reason phrase */
		j->vpos = 1;
		return 0;
	case C_VDIGIT:
		if (c < '0' || c > '9')
			return -1;
		j->cst = C_SP1;
		return 0;
	case C_SP1:
		if (c != ' ')
			return -1;
		j->cst = C_CODE;
		j->n = 0;
		return 0;
	case C_CODE:
		if (c < (j->n ? '0' : '1') || c > (j->n ? '9' : '5'))
			return -1;
		if (++j->n == 3) {
			j->cst = C_AFTER_CODE;
			j->vpos = 0;
		}
		return 0;
	case C_AFTER_CODE:
		if (c == ' ' && !j->vpos) {
			j->cst = C_REASON;
			return 0;
		}
		/* fall through */
	case C_REASON:
		if (c == '\r') {
			j->cst = C_LF;
			return 0;
		}
		if (c == '\n') {
			j->cst = C_HNAME;
			j->n = 0;
			return 0;
		}
		/* the reason phrases servers send ("OK", "Accepted", "Not
		 * Found") have no JSON punctuation; a JSON string quoting a
		 * status line ends in '"' */
		if (j->cst == C_REASON && (c >= 0x20 || c == '\t') && c != 0x7f &&
		    !strchr("\"{}[]", c))
			return 0;
		return -1;
	case C_LF:
		if (c != '\n')
			return -1;
		j->cst = C_HNAME;
		j->n = 0;
		return 0;
	case C_HNAME:
		if (join_tchar(c)) {
			j->n++;
			return 0;
		}
		return c == ':' && j->n ? 1 : -1;
	}
	return -1;
}

/* A start token ending at the last byte of the window, or NULL. */
static const char *join_token(const struct proto_join *j)
{
	static uint64_t pat[8], mask[8];
	uint8_t last = j->win & 0xff;

	/* every token ends in SP or '.': most bytes stop here */
	if (last == '.' && (j->want & WANT_RESP) &&
	    (j->win & 0xffffffffffffffULL) == 0x485454502f312eULL) /* "HTTP/1." */
		return "HTTP/1.";
	if (last != ' ' || !(j->want & WANT_REQ))
		return NULL;
	if (!mask[0]) {
		for (int i = 0; join_req_starts[i]; i++) {
			size_t n = strlen(join_req_starts[i]);

			mask[i] = n == 8 ? ~0ULL : (1ULL << (8 * n)) - 1;
			for (size_t k = 0; k < n; k++)
				pat[i] = pat[i] << 8 | (uint8_t)join_req_starts[i][k];
		}
	}
	for (int i = 0; join_req_starts[i]; i++)
		if ((j->win & mask[i]) == pat[i])
			return join_req_starts[i];
	return NULL;
}

/* One byte of a direction being scanned: J_* of what it completed. */
static int join_byte(struct proto_join *j, uint8_t c)
{
	int r, found = J_NONE, done = 0;

	j->win = j->win << 8 | c;
	if (j->bmask) {
		j->bmask = join_field_step(join_bare_fields, j->bmask, j->bpos++, c, &done);
		if (done) {
			j->bmask = 0;
			if (j->want & WANT_RESP)
				return J_BARE;
		}
	}
	if (j->want & WANT_RESP)
		found = join_chunk_byte(j, c);
	if (j->cst != C_NONE) {
		r = join_cand_byte(j, c);
		if (r > 0)
			return j->line[0] == 'H' && j->line[1] == 'T' && j->line[4] == '/' ?
				       J_RESP : J_REQ;
		if (r < 0)
			j->cst = C_NONE;
	}
	if (found != J_NONE)
		return found;
	if (j->cst == C_NONE) {
		const char *t = join_token(j);

		if (t) {
			j->clen = strlen(t);
			memcpy(j->line, t, j->clen);
			j->n = 0;
			j->cst = t[0] == 'H' && t[1] == 'T' ? C_VDIGIT : C_TARGET;
		}
	}
	return J_NONE;
}

static int join_bare_byte(struct proto_join *j, uint8_t c)
{
	int done = 0;

	if (j->bvcr) {
		j->bvcr = 0;
		if (c == '\n')
			return 0; /* the LF of a CRLF */
	}
	switch (j->bv) {
	case BV_LS:
	case BV_NEXT:
		if (c == '\r' || c == '\n') {
			j->bvcr = c == '\r';
			j->bv = BV_NEXT; /* a blank line: the next event follows */
			return 0;
		}
		j->next = j->bv == BV_NEXT;
		j->bv = BV_FIELD;
		j->lpos = 0;
		j->lmask = (1u << JOIN_NFIELDS) - 1;
		/* fall through */
	case BV_FIELD:
		j->lmask = join_field_step(join_fields, j->lmask, j->lpos++, c, &done);
		if (done && j->next)
			return 1;
		if (done)
			j->bv = BV_REST;
		else if (!j->lmask)
			return -1;
		return 0;
	}
	if (c == '\r' || c == '\n') {
		j->bvcr = c == '\r';
		j->bv = BV_LS;
	}
	return 0;
}

static int proto_side_want(const struct proto_conn *c, enum stream_dir dir)
{
	if (c->proto != PROTO_HTTP)
		return WANT_REQ | WANT_RESP;
	return dir == c->req_dir ? WANT_REQ : WANT_RESP;
}

static void proto_join_start(struct proto_conn *c, enum stream_dir dir, int at_start)
{
	struct proto_side *sd = &c->side[dir];

	sd->phase = PH_SCAN;
	if (!sd->jn)
		sd->jn = malloc(sizeof(*sd->jn));
	if (!sd->jn)
		return; /* this direction is ignored */
	sd->jn->want = proto_side_want(c, dir);
	join_reset(sd->jn, at_start);
}

static void proto_join_end(struct proto_side *sd)
{
	free(sd->jn);
	sd->jn = NULL;
	sd->phase = PH_HTTP;
}

/* The roles are known now: a direction still scanning looks for its kind
 * of start only. */
static void proto_roles_known(struct proto_conn *c, enum stream_dir req_dir, int keep)
{
	if (c->proto != PROTO_HTTP)
		proto_start_http(c, req_dir, keep);
	for (int d = 0; d < 2; d++)
		if (c->side[d].jn)
			c->side[d].jn->want = proto_side_want(c, d);
}

/* The response side may resume inside an SSE body whose head was not seen:
 * parse it while it is checked. The roles may still be unknown. */
static void proto_join_body(struct proto_side *sd)
{
	struct proto_conn *c = sd->c;

	if (c->proto != PROTO_HTTP)
		proto_scan_init(sd);
	proto_exch_release(&sd->w->ex);
	memset(&sd->w->ex, 0, sizeof(sd->w->ex));
	proto_ctx_base(c, &sd->w->ctx);
	sd->w->ctx_stale = 0;
	sd->w->ctx.dir = MCP_S2C;
	sd->w->ctx.transport = MCP_TRANSPORT_STREAMABLE_HTTP;
	sd->w->ctx.exchange = 0;
	sd->w->ctx.http_status = 200; /* an event stream is a 2xx answer */
	sd->synthesized = 0;
	proto_body_start(sd, BODY_SSE);
}

/* The joined SSE body checked out: this direction is the response side and
 * the HTTP parser takes over inside the body. */
static void proto_join_accept(struct proto_conn *c, enum stream_dir dir, int chunked)
{
	enum stream_dir other = dir == STREAM_RECV ? STREAM_SEND : STREAM_RECV;
	struct proto_side *sd = &c->side[dir];

	proto_roles_known(c, other, dir);
	sd->w->ctx.observer = c->observer;
	sd->w->ctx.server = c->observer == MCP_OBS_SERVER ? c->p.local : c->p.remote;
	http1_init(&sd->w->http, HTTP1_RESPONSE, &proto_resp_ops, sd);
	http1_join_body(&sd->w->http, chunked);
	sd->phase = PH_HTTP;
}

/* ... or did not: back to scanning, roles as they were. */
static void proto_join_reject(struct proto_conn *c, struct proto_side *sd)
{
	struct proto_join *j = sd->jn;

	c->join_skipped += j->vbytes;
	if (sd->body == BODY_SSE) {
		sse_end(&sd->sse->parser);
		proto_sse_clear(sd);
	}
	sd->body = BODY_IGNORE;
	sd->phase = PH_SCAN;
}

static void proto_side_feed(struct proto_conn *c, enum stream_dir dir, const uint8_t *data,
			    size_t len);

/* PH_SCAN: returns the bytes consumed; the phase may have changed. */
static size_t proto_join_scan(struct proto_conn *c, enum stream_dir dir, const uint8_t *data,
			      size_t len)
{
	enum stream_dir other = dir == STREAM_RECV ? STREAM_SEND : STREAM_RECV;
	struct proto_side *sd = &c->side[dir];
	struct proto_join *j = sd->jn;
	uint8_t lead[8];
	size_t i, n;

	if (!j)
		return len;
	for (i = 0; i < len; i++) {
		int r = join_byte(j, data[i]);

		if (r == J_NONE)
			continue;
		if ((r == J_REQ && !(j->want & WANT_REQ)) || (r == J_RESP && !(j->want & WANT_RESP)))
			continue; /* a candidate from before the roles were known */
		i++;
		c->join_skipped += i; /* less what is fed again below */
		switch (r) {
		case J_REQ:
		case J_RESP:
			proto_roles_known(c, r == J_REQ ? dir : other, -1);
			c->join_skipped -= j->clen;
			http1_init(&sd->w->http, r == J_REQ ? HTTP1_REQUEST : HTTP1_RESPONSE,
				   r == J_REQ ? &proto_req_ops : &proto_resp_ops, sd);
			/* j->line dies with j: the parser copies what it keeps */
			http1_feed(&sd->w->http, j->line, j->clen);
			proto_join_end(sd);
			return i;
		case J_CHUNK:
			n = j->fpos;
			for (size_t k = 0; k < n; k++)
				lead[k] = j->win >> (8 * (n - 1 - k));
			c->join_skipped -= n;
			proto_join_body(sd);
			sd->phase = PH_VERIFY;
			j->bare = 0;
			j->chunk = j->size;
			j->pos = 0;
			j->crlf = 0;
			j->tail = 0;
			j->vbytes = 0;
			proto_side_feed(c, dir, lead, n);
			return i;
		case J_BARE:
			/* a line start is not an event start: the lines up to
			 * the first blank one must all be SSE fields, and events
			 * count from there on */
			sd->phase = PH_VERIFY;
			j->bare = 1;
			j->bv = BV_REST;
			j->bvcr = 0;
			j->vbytes = 0;
			return i;
		}
	}
	c->join_skipped += len;
	return len;
}

/* PH_VERIFY: the first chunk of a joined SSE body, trusted once its size
 * ends at CRLF right after a blank line. Returns the bytes consumed. */
static size_t proto_join_verify(struct proto_conn *c, enum stream_dir dir, const uint8_t *data,
				size_t len)
{
	struct proto_side *sd = &c->side[dir];
	struct proto_join *j = sd->jn;
	size_t used = 0;

	if (j->bare) {
		while (used < len) {
			uint8_t b = data[used++];
			int r;

			join_byte(j, b);
			j->vbytes++;
			r = join_bare_byte(j, b);
			if (r > 0) {
				uint8_t lead[8];
				size_t n = j->lpos;

				for (size_t k = 0; k < n; k++)
					lead[k] = j->win >> (8 * (n - 1 - k));
				c->join_skipped += j->vbytes - n;
				proto_join_body(sd);
				proto_join_accept(c, dir, 0);
				proto_join_end(sd);
				http1_feed(&sd->w->http, lead, n);
				return used;
			}
			if (r < 0) {
				proto_join_reject(c, sd);
				return used;
			}
		}
		return used;
	}
	while (used < len) {
		uint8_t b;

		if (j->pos < j->chunk) {
			size_t n = len - used, lim = j->chunk - 2, m;

			if (n > j->chunk - j->pos)
				n = j->chunk - j->pos;
			/* the scanner sees every byte, to go on if this fails */
			for (size_t k = 0; k < n; k++) {
				join_byte(j, data[used + k]);
				j->tail = j->tail << 8 | data[used + k];
				if (j->pos + k >= lim)
					j->held[j->pos + k - lim] = data[used + k];
			}
			if (j->pos < lim) {
				m = lim - j->pos < n ? lim - j->pos : n;
				proto_body(sd, data + used, m);
			}
			j->pos += n;
			j->vbytes += n;
			used += n;
			continue;
		}
		b = data[used++];
		j->vbytes++;
		join_byte(j, b);
		if (!j->crlf && b == '\r') {
			j->crlf = 1;
			continue;
		}
		if (j->crlf && b == '\n' &&
		    ((j->tail & 0xffff) == 0x0a0a || (j->tail & 0xffff) == 0x0d0d ||
		     j->tail == 0x0d0a0d0a)) {
			proto_join_accept(c, dir, 1);
			proto_body(sd, j->held, 2);
			proto_join_end(sd);
			return used;
		}
		/* not a chunk boundary after all */
		proto_join_reject(c, sd);
		return used;
	}
	return used;
}

/* 1 request line, 2 status line, 0 undecided, -1 not HTTP/1.x. */
static int proto_detect(const uint8_t *b, size_t n)
{
	int maybe = 0;

	/* "HTTP/1.1 " and not the version ending a request line met from
	 * its middle */
	if (!memcmp(b, "HTTP/1.", n < 7 ? n : 7)) {
		if (n < 9)
			maybe = 1;
		else if (b[7] >= '0' && b[7] <= '9' && b[8] == ' ')
			return 2;
	}
	for (const char *const *m = proto_methods; *m; m++) {
		size_t ml = strlen(*m);

		if (!memcmp(b, *m, n < ml ? n : ml)) {
			if (n >= ml)
				return 1;
			maybe = 1;
		}
	}
	return maybe ? 0 : -1;
}

/* PH_DETECT: the first bytes of a direction. Returns the bytes consumed. */
static size_t proto_detect_feed(struct proto_conn *c, enum stream_dir dir, const uint8_t *data,
				size_t len)
{
	enum stream_dir other = dir == STREAM_RECV ? STREAM_SEND : STREAM_RECV;
	struct proto_side *sd = &c->side[dir];
	size_t k = PROTO_DETECT_MAX - c->det_len[dir];
	uint8_t det[PROTO_DETECT_MAX];
	int r, want = proto_side_want(c, dir);

	if (k > len)
		k = len;
	memcpy(c->det[dir] + c->det_len[dir], data, k);
	c->det_len[dir] += k;
	r = proto_detect(c->det[dir], c->det_len[dir]);
	if ((r == 1 && !(want & WANT_REQ)) || (r == 2 && !(want & WANT_RESP)))
		r = -1;
	if (!r)
		return k; /* k == len here: the prefix is still ambiguous */
	memcpy(det, c->det[dir], c->det_len[dir]);
	if (r > 0) {
		proto_roles_known(c, r == 1 ? dir : other, -1);
		sd->phase = PH_HTTP;
	} else {
		/* the middle of a message: mcpwire joined a connection
		 * already under way */
		proto_join_start(c, dir, 1);
	}
	proto_side_feed(c, dir, det, c->det_len[dir]);
	return k;
}

static void proto_side_feed(struct proto_conn *c, enum stream_dir dir, const uint8_t *data,
			    size_t len)
{
	struct proto_side *sd = &c->side[dir];

	while (len) {
		size_t n;

		switch (sd->phase) {
		case PH_HTTP:
			http1_feed(&sd->w->http, data, len);
			return;
		case PH_DETECT:
			n = proto_detect_feed(c, dir, data, len);
			break;
		case PH_SCAN:
			n = proto_join_scan(c, dir, data, len);
			break;
		default:
			n = proto_join_verify(c, dir, data, len);
			break;
		}
		data += n;
		len -= n;
	}
}

void proto_conn_data(struct proto_conn *c, enum stream_dir dir, const uint8_t *data, size_t len,
		     uint64_t ts_ns)
{
	c->ts = ts_ns;
	if (proto_work_hold(c, dir))
		return; /* counted in proto_work_stats().failed */
	proto_side_feed(c, dir, data, len);
	proto_work_release(c);
}

static void proto_side_gap(struct proto_conn *c, struct proto_side *sd, enum stream_dir dir,
			   uint64_t nbytes, int after_cap);

void proto_conn_gap(struct proto_conn *c, enum stream_dir dir, uint64_t nbytes, int after_cap,
		    uint64_t ts_ns)
{
	struct proto_side *sd = &c->side[dir];

	c->ts = ts_ns;
	if (!nbytes)
		return;
	if (proto_work_hold(c, dir))
		return;
	proto_side_gap(c, sd, dir, nbytes, after_cap);
	proto_work_release(c);
}

static void proto_side_gap(struct proto_conn *c, struct proto_side *sd, enum stream_dir dir,
			   uint64_t nbytes, int after_cap)
{
	switch (sd->phase) {
	case PH_HTTP:
		sd->cap_gap = !!after_cap;
		if (after_cap)
			http1_cap_gap(&sd->w->http, nbytes);
		else
			http1_gap(&sd->w->http, nbytes);
		sd->cap_gap = 0;
		return;
	case PH_VERIFY:
		sse_end(&sd->sse->parser);
		proto_sse_clear(sd);
		sd->body = BODY_IGNORE;
		/* fall through */
	case PH_DETECT:
		/* we no longer see where this direction's message started */
		c->det_len[dir] = 0;
		proto_join_start(c, dir, 0);
		return;
	case PH_SCAN:
		if (sd->jn)
			join_reset(sd->jn, 0);
		return;
	}
}

uint64_t proto_conn_join_skipped(const struct proto_conn *c)
{
	return c->join_skipped;
}

void proto_conn_free(struct proto_conn *c, uint64_t ts_ns)
{
	if (!c)
		return;
	c->ts = ts_ns;
	if (c->proto == PROTO_HTTP) {
		/* the close ends bodies delimited by it, whose callbacks may
		 * reach either side; without memory, idle sides have none */
		proto_work_get(&c->side[0]);
		proto_work_get(&c->side[1]);
		for (int d = 0; d < 2; d++)
			if (c->side[d].phase == PH_HTTP && c->side[d].w)
				http1_close(&c->side[d].w->http);
		/* a chunked legacy stream cut by the close ends its session too;
		 * so does its eviction from stream/'s table: the stream's later
		 * events would no longer carry the session, nothing could pair */
		for (int d = 0; d < 2; d++)
			if (c->side[d].legacy_stream)
				proto_legacy_end(&c->side[d]);
	}
	for (int d = 0; d < 2; d++) {
		proto_tail_abort(&c->side[d]); /* a message cut and never ended */
		if (c->side[d].tr)
			tail_free(c->side[d].tr);
		free(c->side[d].tr);
		free(c->side[d].sse);
		free(c->side[d].jn);
		if (c->side[d].w) {
			proto_work_free_one(c->side[d].w);
			proto_work_st.in_use--;
		}
	}
	for (int i = 0; i < c->fifo_n; i++)
		proto_exch_release(&c->fifo->e[(c->fifo_head + i) % PROTO_FIFO]);
	if (c->fifo) {
		free(c->fifo);
		proto_work_st.fifo_in_use--;
	}
	free(c);
}
