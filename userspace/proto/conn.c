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

/* Requests awaiting their response on one connection (pipelining depth). */
#define PROTO_FIFO 8
/* JSON-RPC request ids remembered per exchange (batches are rare, 2025-03-26). */
#define PROTO_EXCH_IDS 4
/* Messages of one SSE event held until the event's name is known. */
#define PROTO_SSE_PENDING 8
/* First bytes of an event's data kept for non-JSON events (`endpoint`). */
#define PROTO_SSE_HEAD 256
#define PROTO_DEFAULT_MAX_BODY (16u << 20)
#define PROTO_DETECT_MAX 16

enum { PROTO_UNKNOWN, PROTO_HTTP, PROTO_OTHER };

enum { BODY_IGNORE, BODY_SNIFF, BODY_JSON, BODY_SSE };

struct proto_exch {
	uint64_t id;
	char method[HTTP1_METHOD_MAX];
	uint8_t legacy;		/* session from the query string (HTTP+SSE 2024-11-05) */
	uint8_t nids;
	char session[128];
	struct jsonrpc_id ids[PROTO_EXCH_IDS];
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

struct proto_side {
	struct proto_conn *c;
	uint8_t is_resp;
	uint8_t body;		/* BODY_* of the message in progress */
	uint8_t failed;		/* this body's JSON is lost; errors already told */
	uint8_t gap_told;
	uint8_t synthesized;	/* errors emitted from the HTTP status */
	uint64_t body_bytes;
	uint64_t req_exch;	/* request side: exchange of the request in progress */
	struct http1_parser http;
	struct jsonrpc_scan js;
	struct mcp_wire_ctx ctx;
	struct proto_exch ex;	/* response side: the request being answered */
	struct proto_sse *sse;
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
	struct mcp_wire_ctx base;
	uint8_t fifo_head, fifo_n;
	uint64_t fifo_evicted;
	struct proto_exch fifo[PROTO_FIFO];
	struct proto_side side[2]; /* by enum stream_dir */
};

static uint64_t proto_exchange_seq;

static const char *const proto_methods[] = {
	"GET ", "POST ", "PUT ", "DELETE ", "HEAD ", "OPTIONS ", "PATCH ", "TRACE ", "CONNECT ",
	NULL,
};

static void proto_error(struct proto_side *sd, const char *reason)
{
	struct proto_conn *c = sd->c;

	sd->ctx.ts_ns = c->ts;
	if (c->sink->parse_error)
		c->sink->parse_error(c->sink->arg, &sd->ctx, reason);
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

/* Deliver one JSON-RPC message found in a body or event. */
static void proto_deliver(struct proto_side *sd, const struct jsonrpc_msg *m)
{
	struct proto_conn *c = sd->c;

	if (m->kind == JSONRPC_INVALID) {
		/* Valid JSON that is not JSON-RPC is some other JSON API (the
		 * Prometheus query API, a health check) unless this connection or
		 * this exchange is already known to speak MCP. */
		if (c->mcp_seen || sd->ctx.session[0])
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
			struct proto_exch *e = &c->fifo[(c->fifo_head + i) % PROTO_FIFO];

			if (e->id == sd->req_exch) {
				if (e->nids < PROTO_EXCH_IDS)
					e->ids[e->nids++] = m->id;
				break;
			}
		}
	}
	sd->ctx.ts_ns = c->ts;
	if (c->sink->message)
		c->sink->message(c->sink->arg, &sd->ctx, m);
}

static void proto_on_msg(void *arg, const struct jsonrpc_msg *m)
{
	struct proto_side *sd = arg;
	struct proto_sse *sse = sd->sse;

	if (sd->body != BODY_SSE) {
		proto_deliver(sd, m);
		return;
	}
	/* the event name may still follow: keep until dispatch */
	if (sse->npending < PROTO_SSE_PENDING)
		sse->pending[sse->npending++] = *m;
	else
		sse->overflow = 1;
}

static void proto_sse_clear(struct proto_side *sd)
{
	sd->sse->npending = 0;
	sd->sse->overflow = 0;
	sd->sse->too_large = 0;
	sd->sse->head_len = 0;
	sd->body_bytes = 0;
	jsonrpc_scan_reset(&sd->js);
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
	sd->body_bytes += len;
	if (sd->body_bytes > proto_max_body(sd->c)) {
		sse->too_large = 1;
		return;
	}
	jsonrpc_scan_feed(&sd->js, data, len);
}

static void proto_sse_dispatch(void *arg, const struct sse_event *ev)
{
	struct proto_side *sd = arg;
	struct proto_sse *sse = sd->sse;
	int err;

	if (!strcmp(ev->type, "endpoint")) {
		/* legacy HTTP+SSE (2024-11-05): data is the URI to POST to, and
		 * its query carries the session of everything on this stream */
		sse->head[sse->head_len] = 0;
		if (proto_query_session(sse->head, sd->ctx.session, sizeof(sd->ctx.session)))
			sd->ctx.transport = MCP_TRANSPORT_SSE;
	} else if (!ev->type[0] || !strcmp(ev->type, "message")) {
		if (sse->too_large) {
			proto_error(sd, "too_large");
		} else {
			err = jsonrpc_scan_end(&sd->js);
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
	proto_sse_clear(sd);
}

static void proto_sse_discard(void *arg)
{
	proto_sse_clear(arg);
}

static const struct sse_ops proto_sse_ops = {
	.data = proto_sse_data,
	.dispatch = proto_sse_dispatch,
	.discard = proto_sse_discard,
};

static void proto_body_start(struct proto_side *sd, uint8_t kind)
{
	sd->body = kind;
	sd->failed = 0;
	sd->gap_told = 0;
	sd->body_bytes = 0;
	jsonrpc_scan_reset(&sd->js);
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

static void proto_fifo_push(struct proto_conn *c, const struct proto_exch *e)
{
	if (c->fifo_n == PROTO_FIFO) {
		/* answers were missed: the oldest request will never pair */
		c->fifo_head = (c->fifo_head + 1) % PROTO_FIFO;
		c->fifo_n--;
		c->fifo_evicted++;
	}
	c->fifo[(c->fifo_head + c->fifo_n) % PROTO_FIFO] = *e;
	c->fifo_n++;
}

static int proto_req_head(void *arg, const struct http1_head *h)
{
	struct proto_side *sd = arg;
	struct proto_conn *c = sd->c;
	struct proto_exch *e = &sd->ex;
	uint8_t kind;

	memset(e, 0, offsetof(struct proto_exch, ids));
	e->id = ++proto_exchange_seq;
	strcpy(e->method, h->method);
	if (h->session_id.present)
		proto_copy_value(e->session, sizeof(e->session), &h->session_id);
	else
		e->legacy = proto_query_session(h->target, e->session, sizeof(e->session));
	proto_fifo_push(c, e);
	sd->req_exch = e->id;

	sd->ctx = c->base;
	sd->ctx.dir = MCP_C2S;
	sd->ctx.transport = e->legacy ? MCP_TRANSPORT_SSE : MCP_TRANSPORT_STREAMABLE_HTTP;
	memcpy(sd->ctx.session, e->session, sizeof(e->session));
	sd->ctx.exchange = e->id;

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

static int proto_resp_head(void *arg, const struct http1_head *h)
{
	struct proto_side *sd = arg;
	struct proto_conn *c = sd->c;
	struct proto_exch *e = &sd->ex;
	uint8_t kind = BODY_IGNORE;

	if (h->status < 200 && h->status != 101)
		return HTTP1_HEAD_OK; /* interim (1xx): the final answer follows */
	if (c->fifo_n) {
		*e = c->fifo[c->fifo_head];
		c->fifo_head = (c->fifo_head + 1) % PROTO_FIFO;
		c->fifo_n--;
	} else {
		/* joined mid-connection, or the request was lost */
		memset(e, 0, sizeof(*e));
		e->id = ++proto_exchange_seq;
	}
	if (h->status == 101 || (!strcmp(e->method, "CONNECT") && h->status < 300)) {
		http1_set_opaque(&c->side[c->req_dir].http);
		return HTTP1_HEAD_OPAQUE;
	}

	sd->ctx = c->base;
	sd->ctx.dir = MCP_S2C;
	sd->ctx.transport = e->legacy ? MCP_TRANSPORT_SSE : MCP_TRANSPORT_STREAMABLE_HTTP;
	sd->ctx.exchange = e->id;
	sd->ctx.http_status = h->status;
	if (e->session[0])
		memcpy(sd->ctx.session, e->session, sizeof(e->session));
	else
		proto_copy_value(sd->ctx.session, sizeof(sd->ctx.session), &h->session_id);
	/* ts-v1 repeats the header on every answer; only a new one is news */
	if (h->session_id.present) {
		proto_copy_value(sd->ctx.new_session, sizeof(sd->ctx.new_session), &h->session_id);
		if (!strcmp(sd->ctx.new_session, e->session))
			sd->ctx.new_session[0] = 0;
	}
	sd->synthesized = 0;

	if (!strcmp(e->method, "DELETE") && h->status < 300 && sd->ctx.session[0] &&
	    c->sink->session_end) {
		sd->ctx.ts_ns = c->ts;
		c->sink->session_end(c->sink->arg, &sd->ctx);
	}
	if (h->status >= 400 && e->nids) {
		/* the transport refused the request: each id gets an error */
		struct jsonrpc_msg m;

		memset(&m, 0, sizeof(m));
		m.kind = JSONRPC_ERROR;
		for (int i = 0; i < e->nids; i++) {
			m.id = e->ids[i];
			sd->ctx.ts_ns = c->ts;
			if (c->sink->message)
				c->sink->message(c->sink->arg, &sd->ctx, &m);
		}
		sd->synthesized = 1;
	}
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
		sd->body_bytes += len;
		if (sd->body_bytes > proto_max_body(sd->c)) {
			proto_too_large(sd);
			return;
		}
		if (jsonrpc_scan_feed(&sd->js, data, len)) {
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
	if (!sd->gap_told) {
		sd->gap_told = 1;
		proto_error(sd, "gap");
	}
	if (sd->body == BODY_SSE)
		sse_gap(&sd->sse->parser); /* later events of the stream still count */
	else
		sd->failed = 1;
}

static void proto_done(void *arg, unsigned int flags)
{
	struct proto_side *sd = arg;
	int err;

	switch (sd->body) {
	case BODY_JSON:
		if (sd->failed || (flags & (HTTP1_F_GAP | HTTP1_F_DECODE_ERR)))
			break;
		err = jsonrpc_scan_end(&sd->js);
		if (err && err != JSONRPC_E_EMPTY)
			proto_error(sd, "json");
		break;
	case BODY_SSE:
		sse_end(&sd->sse->parser);
		break;
	}
	sd->body = BODY_IGNORE;
}

static void proto_http_error(void *arg, const char *reason)
{
	struct proto_side *sd = arg;

	proto_error(sd, reason);
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
	c->base.flow_id = p->flow_id;
	c->base.tgid = p->tgid;
	memcpy(c->base.comm, p->comm, sizeof(c->base.comm));
	c->base.transport = MCP_TRANSPORT_STREAMABLE_HTTP;
	for (int d = 0; d < 2; d++) {
		c->side[d].c = c;
		c->side[d].ctx = c->base;
	}
	return c;
}

/* 1 request line, 2 status line, 0 undecided, -1 not HTTP/1.x. */
static int proto_detect(const uint8_t *b, size_t n)
{
	int maybe = 0;

	if (!memcmp(b, "HTTP/1.", n < 7 ? n : 7)) {
		if (n >= 7)
			return 2;
		maybe = 1;
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

static void proto_start_http(struct proto_conn *c, enum stream_dir req_dir)
{
	enum stream_dir resp_dir = req_dir == STREAM_RECV ? STREAM_SEND : STREAM_RECV;

	c->proto = PROTO_HTTP;
	c->req_dir = req_dir;
	/* the socket that reads requests is the server's (conn.h) */
	c->base.observer = req_dir == STREAM_RECV ? MCP_OBS_SERVER : MCP_OBS_CLIENT;
	c->base.server = c->base.observer == MCP_OBS_SERVER ? c->p.local : c->p.remote;
	for (int d = 0; d < 2; d++)
		c->side[d].ctx = c->base;
	c->side[req_dir].is_resp = 0;
	c->side[resp_dir].is_resp = 1;
	http1_init(&c->side[req_dir].http, HTTP1_REQUEST, &proto_req_ops, &c->side[req_dir]);
	http1_init(&c->side[resp_dir].http, HTTP1_RESPONSE, &proto_resp_ops, &c->side[resp_dir]);
	jsonrpc_scan_init(&c->side[req_dir].js, proto_on_msg, &c->side[req_dir]);
	jsonrpc_scan_init(&c->side[resp_dir].js, proto_on_msg, &c->side[resp_dir]);
}

void proto_conn_data(struct proto_conn *c, enum stream_dir dir, const uint8_t *data, size_t len,
		     uint64_t ts_ns)
{
	c->ts = ts_ns;
	if (c->proto == PROTO_UNKNOWN && len) {
		enum stream_dir other = dir == STREAM_RECV ? STREAM_SEND : STREAM_RECV;
		size_t k = PROTO_DETECT_MAX - c->det_len[dir];
		int r;

		if (k > len)
			k = len;
		memcpy(c->det[dir] + c->det_len[dir], data, k);
		c->det_len[dir] += k;
		r = proto_detect(c->det[dir], c->det_len[dir]);
		if (r < 0) {
			/* stdio-style JSON lines come with a later issue */
			c->proto = PROTO_OTHER;
			return;
		}
		if (!r)
			return; /* k == len here: the prefix is still ambiguous */
		proto_start_http(c, r == 1 ? dir : other);
		/* the other direction's buffered bytes came first */
		http1_feed(&c->side[other].http, c->det[other], c->det_len[other]);
		http1_feed(&c->side[dir].http, c->det[dir], c->det_len[dir]);
		data += k;
		len -= k;
	}
	if (c->proto != PROTO_HTTP || !len)
		return;
	http1_feed(&c->side[dir].http, data, len);
}

void proto_conn_gap(struct proto_conn *c, enum stream_dir dir, uint64_t nbytes, int after_cap,
		    uint64_t ts_ns)
{
	c->ts = ts_ns;
	if (c->proto == PROTO_UNKNOWN) {
		/* we no longer see the start of this direction */
		c->proto = PROTO_OTHER;
		return;
	}
	if (c->proto != PROTO_HTTP || !nbytes)
		return;
	http1_gap(&c->side[dir].http, nbytes);
}

void proto_conn_free(struct proto_conn *c, uint64_t ts_ns)
{
	if (!c)
		return;
	c->ts = ts_ns;
	if (c->proto == PROTO_HTTP) {
		for (int d = 0; d < 2; d++)
			http1_close(&c->side[d].http);
		for (int d = 0; d < 2; d++)
			http1_destroy(&c->side[d].http);
	}
	for (int d = 0; d < 2; d++)
		free(c->side[d].sse);
	free(c);
}
