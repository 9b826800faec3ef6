// SPDX-License-Identifier: GPL-2.0-only
/*
 * Streaming JSON-RPC field extractor (RFC 8259 grammar, JSON-RPC 2.0 shapes).
 *
 * The scanner is a byte-driven state machine. Each open container remembers a
 * context saying whether its keys matter (the message object, params, result,
 * error, clientInfo, serverInfo) or not; inside an uninteresting container
 * keys and values are validated and dropped, so memory stays constant however
 * large or deep the skipped parts are.
 */
#include <stdlib.h>
#include <string.h>
#include "proto/jsonrpc.h"

enum {
	ST_TOP,		/* between top-level values */
	ST_VALUE,	/* a value must start */
	ST_ELEM_FIRST,	/* after '[': a value or ']' */
	ST_KEY_FIRST,	/* after '{': a key or '}' */
	ST_KEY,		/* after ',' in an object */
	ST_COLON,
	ST_AFTER,	/* after a value inside a container: ',' or the closer */
	ST_STR,
	ST_ESC,
	ST_U,
	ST_NUM,
	ST_LIT,
};

/* What a container's keys mean. */
enum {
	CX_SKIP,
	CX_MSG,
	CX_PARAMS,
	CX_CLIENTINFO,
	CX_RESULT,
	CX_SERVERINFO,
	CX_ERROR,
	CX_BATCH,
	CX_RESULT_META,
};

/* What the value being parsed is. */
enum {
	F_NONE,
	F_ID,
	F_METHOD,
	F_PARAMS,
	F_RESULT,
	F_ERROR,
	F_NAME,
	F_URI,
	F_REQID,
	F_TASK,
	F_PV,
	F_CLIENTINFO,
	F_SERVERINFO,
	F_PEER_NAME,
	F_PEER_VERSION,
	F_ISERROR,
	F_CODE,
	F_RESULT_META,
	F_ARGUMENTS,
};

enum { T_OBJ, T_ARR, T_STR, T_NUM, T_TRUE, T_FALSE, T_NULL };

enum { SK_SKIP, SK_KEY, SK_STR, SK_ID };

enum { N_START, N_MINUS, N_ZERO, N_INT, N_DOT, N_FRAC, N_E, N_ESIGN, N_EXP };

struct key_map {
	const char *key;
	uint8_t len;
	uint8_t field;
};

#define KEY(k, f) { k, sizeof(k) - 1, f }

static const struct key_map jsonrpc_keys_msg[] = {
	KEY("id", F_ID), KEY("method", F_METHOD), KEY("params", F_PARAMS),
	KEY("result", F_RESULT), KEY("error", F_ERROR), { NULL, 0, 0 },
};
static const struct key_map jsonrpc_keys_params[] = {
	KEY("name", F_NAME), KEY("uri", F_URI), KEY("requestId", F_REQID), KEY("task", F_TASK),
	KEY("protocolVersion", F_PV), KEY("clientInfo", F_CLIENTINFO), { NULL, 0, 0 },
};
/* With payload capture: one more key, which the common case does not look
 * for at all. */
static const struct key_map jsonrpc_keys_params_pl[] = {
	KEY("name", F_NAME), KEY("uri", F_URI), KEY("requestId", F_REQID), KEY("task", F_TASK),
	KEY("protocolVersion", F_PV), KEY("clientInfo", F_CLIENTINFO),
	KEY("arguments", F_ARGUMENTS), { NULL, 0, 0 },
};
static const struct key_map jsonrpc_keys_info[] = {
	KEY("name", F_PEER_NAME), KEY("version", F_PEER_VERSION), { NULL, 0, 0 },
};
static const struct key_map jsonrpc_keys_result[] = {
	KEY("isError", F_ISERROR), KEY("task", F_TASK), KEY("protocolVersion", F_PV),
	KEY("serverInfo", F_SERVERINFO), KEY("_meta", F_RESULT_META), { NULL, 0, 0 },
};
/* 2026-07-28 (mcp-wire.md §8): no initialize, so every result names its
 * server in result._meta; same fields as the initialize result's. */
static const struct key_map jsonrpc_keys_result_meta[] = {
	KEY("io.modelcontextprotocol/serverInfo", F_SERVERINFO),
	KEY("io.modelcontextprotocol/protocolVersion", F_PV), { NULL, 0, 0 },
};
static const struct key_map jsonrpc_keys_error[] = {
	KEY("code", F_CODE), { NULL, 0, 0 },
};

void jsonrpc_scan_init(struct jsonrpc_scan *sc, jsonrpc_msg_fn fn, void *arg)
{
	memset(sc, 0, sizeof(*sc));
	sc->fn = fn;
	sc->arg = arg;
}

void jsonrpc_scan_reset(struct jsonrpc_scan *sc)
{
	jsonrpc_msg_fn fn = sc->fn;
	void *arg = sc->arg;
	uint64_t bad_unicode = sc->bad_unicode;

	/* the message is cleared when the next one starts; capture and its
	 * buffer, after it, stay */
	memset(sc, 0, offsetof(struct jsonrpc_scan, msg));
	sc->fn = fn;
	sc->arg = arg;
	sc->bad_unicode = bad_unicode;
}

void jsonrpc_scan_rebind(struct jsonrpc_scan *sc, jsonrpc_msg_fn fn, void *arg)
{
	sc->fn = fn;
	sc->arg = arg;
	jsonrpc_scan_reset(sc);
}

void jsonrpc_scan_set_capture(struct jsonrpc_scan *sc, int on)
{
	sc->capture = !!on;
}

void jsonrpc_scan_fini(struct jsonrpc_scan *sc)
{
	free(sc->pl_buf);
	sc->pl_buf = NULL;
	sc->pl_live = 0;
}

/* A payload value starts (sc->depth is where it will end). Without memory
 * for the buffer it is reported as truncated, which the call log omits. */
static __attribute__((noinline, cold)) void jsonrpc_pl_begin(struct jsonrpc_scan *sc,
								   uint8_t field)
{
	if (sc->pl_live)
		return;
	if (!sc->pl_buf)
		sc->pl_buf = malloc(JSONRPC_PAYLOAD_MAX);
	sc->pl_live = 1;
	sc->pl_field = field;
	sc->pl_depth = sc->depth;
	sc->pl_len = 0;
	sc->pl_trunc = !sc->pl_buf;
}

static void jsonrpc_pl_put(struct jsonrpc_scan *sc, const uint8_t *b, size_t n)
{
	size_t room = JSONRPC_PAYLOAD_MAX - sc->pl_len;

	if (sc->pl_trunc || !n)
		return;
	if (n > room) {
		n = room;
		sc->pl_trunc = 1;
	}
	memcpy(sc->pl_buf + sc->pl_len, b, n);
	sc->pl_len += n;
}

/*
 * Capture mode only, between two steps of the feed loop: [from, to) is what
 * the last step consumed. A step consumes at most the first or the last byte
 * of a value together with bytes of that value, never bytes on both sides of
 * it, so while a capture is live every step's bytes belong to it. It ended
 * when the scanner is back after a value at the depth it started at.
 */
static void jsonrpc_pl_track(struct jsonrpc_scan *sc, const uint8_t *from, const uint8_t *to)
{
	struct jsonrpc_payload *pl;

	if (!sc->pl_live)
		return;
	jsonrpc_pl_put(sc, from, to - from);
	if (sc->depth != sc->pl_depth || (sc->state != ST_AFTER && sc->state != ST_TOP))
		return;
	sc->pl_live = 0;
	pl = sc->pl_field == F_ARGUMENTS ? &sc->msg.arguments :
	     sc->pl_field == F_RESULT	 ? &sc->msg.result :
					   &sc->msg.error;
	pl->text = sc->pl_buf ? sc->pl_buf : "";
	pl->len = sc->pl_len;
	pl->truncated = sc->pl_trunc;
}

const char *jsonrpc_strerror(int err)
{
	switch (err) {
	case JSONRPC_OK:
		return "ok";
	case JSONRPC_E_SYNTAX:
		return "syntax error";
	case JSONRPC_E_DEPTH:
		return "nesting too deep";
	case JSONRPC_E_UNTERMINATED:
		return "unterminated value";
	case JSONRPC_E_EMPTY:
		return "no value";
	}
	return "unknown";
}

const char *jsonrpc_kind_name(int kind)
{
	switch (kind) {
	case JSONRPC_REQUEST:
		return "request";
	case JSONRPC_NOTIFICATION:
		return "notification";
	case JSONRPC_RESULT:
		return "result";
	case JSONRPC_ERROR:
		return "error";
	}
	return "invalid";
}

static int jsonrpc_fail(struct jsonrpc_scan *sc, int err)
{
	sc->err = err;
	return err;
}

static void jsonrpc_msg_start(struct jsonrpc_scan *sc, uint8_t depth)
{
	memset(&sc->msg, 0, sizeof(sc->msg));
	sc->msg_depth = depth;
	sc->bad = 0;
	sc->has_id = sc->has_method = sc->has_result = sc->has_error = 0;
}

static uint8_t jsonrpc_classify(const struct jsonrpc_scan *sc)
{
	if (sc->bad)
		return JSONRPC_INVALID;
	if (sc->has_method) {
		if (sc->has_result || sc->has_error)
			return JSONRPC_INVALID;
		if (!sc->has_id)
			return JSONRPC_NOTIFICATION;
		/* JSON-RPC 2.0 §4: a request id MUST NOT be null */
		return sc->msg.id.type == JSONRPC_ID_NULL ? JSONRPC_INVALID : JSONRPC_REQUEST;
	}
	if (sc->has_result && sc->has_error)
		return JSONRPC_INVALID;
	if (sc->has_result)
		return sc->has_id && sc->msg.id.type != JSONRPC_ID_NULL ? JSONRPC_RESULT :
									   JSONRPC_INVALID;
	if (sc->has_error)
		return JSONRPC_ERROR;
	return JSONRPC_INVALID;
}

static void jsonrpc_emit(struct jsonrpc_scan *sc)
{
	sc->msg.kind = jsonrpc_classify(sc);
	sc->msg_depth = 0;
	if (sc->fn)
		sc->fn(sc->arg, &sc->msg);
}

static void jsonrpc_emit_invalid(struct jsonrpc_scan *sc)
{
	jsonrpc_msg_start(sc, 0);
	sc->bad = 1;
	jsonrpc_emit(sc);
}

static void jsonrpc_value_end(struct jsonrpc_scan *sc)
{
	sc->field = F_NONE;
	sc->state = sc->depth ? ST_AFTER : ST_TOP;
}

/* A scalar that is a whole top-level value or batch element is no message. */
static void jsonrpc_scalar_end(struct jsonrpc_scan *sc)
{
	if (!sc->depth || sc->ctx[sc->depth] == CX_BATCH)
		jsonrpc_emit_invalid(sc);
	jsonrpc_value_end(sc);
}

static void jsonrpc_str_target(struct jsonrpc_scan *sc, uint8_t kind, char *buf, uint16_t cap)
{
	sc->str_kind = kind;
	sc->str_buf = buf;
	sc->str_cap = cap;
	sc->str_len = 0;
	sc->str_trunc = 0;
}

static void jsonrpc_id_target(struct jsonrpc_scan *sc, struct jsonrpc_id *id, uint8_t type)
{
	id->type = type;
	id->len = 0;
	id->truncated = 0;
	id->text[0] = 0;
	if (type == JSONRPC_ID_STR || type == JSONRPC_ID_NUM)
		jsonrpc_str_target(sc, SK_ID, id->text, sizeof(id->text));
}

static struct mcp_str *jsonrpc_str_field(struct jsonrpc_scan *sc, uint8_t field)
{
	switch (field) {
	case F_METHOD:
		return &sc->msg.method;
	case F_NAME:
		return &sc->msg.name;
	case F_URI:
		return &sc->msg.uri;
	case F_PV:
		return &sc->msg.protocol_version;
	case F_PEER_NAME:
		return &sc->msg.peer_name;
	case F_PEER_VERSION:
		return &sc->msg.peer_version;
	}
	return NULL;
}

/*
 * A value of type t starts for the current field: record presence and type
 * checks, and point the string/number capture at the destination. Returns
 * the context for a container value.
 */
static uint8_t jsonrpc_field_begin(struct jsonrpc_scan *sc, uint8_t t)
{
	uint8_t f = sc->field;
	struct mcp_str *ms;

	sc->str_kind = SK_SKIP;
	switch (f) {
	case F_NONE:
		return CX_SKIP;
	case F_ID:
	case F_REQID: {
		struct jsonrpc_id *id = f == F_ID ? &sc->msg.id : &sc->msg.cancel_id;

		if (f == F_ID)
			sc->has_id = 1;
		if (t == T_STR)
			jsonrpc_id_target(sc, id, JSONRPC_ID_STR);
		else if (t == T_NUM)
			jsonrpc_id_target(sc, id, JSONRPC_ID_NUM);
		else if (t == T_NULL)
			jsonrpc_id_target(sc, id, JSONRPC_ID_NULL);
		else if (f == F_ID)
			sc->bad = 1;
		return CX_SKIP;
	}
	case F_METHOD:
		if (t != T_STR) {
			sc->bad = 1;
			return CX_SKIP;
		}
		sc->has_method = 1;
		break;
	case F_PARAMS:
		return t == T_OBJ ? CX_PARAMS : CX_SKIP;
	case F_ARGUMENTS: /* only looked for with capture on */
		jsonrpc_pl_begin(sc, f);
		return CX_SKIP;
	case F_RESULT:
		sc->has_result = 1;
		if (sc->capture)
			jsonrpc_pl_begin(sc, f);
		return t == T_OBJ ? CX_RESULT : CX_SKIP;
	case F_ERROR:
		sc->has_error = 1;
		if (sc->capture)
			jsonrpc_pl_begin(sc, f);
		return t == T_OBJ ? CX_ERROR : CX_SKIP;
	case F_CLIENTINFO:
		return t == T_OBJ ? CX_CLIENTINFO : CX_SKIP;
	case F_SERVERINFO:
		return t == T_OBJ ? CX_SERVERINFO : CX_SKIP;
	case F_RESULT_META:
		return t == T_OBJ ? CX_RESULT_META : CX_SKIP;
	case F_TASK:
		sc->msg.has_task = 1;
		return CX_SKIP;
	case F_ISERROR:
		/* mcp-wire.md §3: only a literal true marks a tool error */
		sc->msg.is_error = t == T_TRUE;
		return CX_SKIP;
	case F_CODE:
		sc->msg.has_error_code = 0;
		return CX_SKIP;
	}
	ms = jsonrpc_str_field(sc, f);
	if (ms && t == T_STR) {
		ms->len = 0;
		ms->truncated = 0;
		ms->s[0] = 0;
		jsonrpc_str_target(sc, SK_STR, ms->s, sizeof(ms->s));
	}
	return CX_SKIP;
}

/* inlined by hand: the feed loop is compiled twice (jsonrpc_feed()) and
 * GCC would stop inlining this hot step on its own */
static inline __attribute__((always_inline)) int jsonrpc_push(struct jsonrpc_scan *sc, int is_arr)
{
	uint8_t cx;

	if (sc->depth >= JSONRPC_MAX_DEPTH)
		return jsonrpc_fail(sc, JSONRPC_E_DEPTH);
	if (!sc->depth) {
		sc->values++;
		if (is_arr) {
			cx = CX_BATCH;
			sc->batch_elems = 0;
		} else {
			jsonrpc_msg_start(sc, 1);
			cx = CX_MSG;
		}
	} else if (sc->ctx[sc->depth] == CX_BATCH) {
		sc->batch_elems++;
		if (is_arr) {
			cx = CX_SKIP;
		} else {
			jsonrpc_msg_start(sc, sc->depth + 1);
			cx = CX_MSG;
		}
	} else {
		cx = jsonrpc_field_begin(sc, is_arr ? T_ARR : T_OBJ);
		if (is_arr)
			cx = CX_SKIP;
	}
	sc->depth++;
	sc->ctx[sc->depth] = cx;
	if (is_arr)
		sc->arr_bits |= 1ULL << (sc->depth - 1);
	else
		sc->arr_bits &= ~(1ULL << (sc->depth - 1));
	sc->field = F_NONE;
	sc->state = is_arr ? ST_ELEM_FIRST : ST_KEY_FIRST;
	return 0;
}

static void jsonrpc_pop(struct jsonrpc_scan *sc)
{
	uint8_t d = sc->depth, cx = sc->ctx[d];

	sc->depth--;
	if (d == sc->msg_depth)
		jsonrpc_emit(sc);
	else if (cx == CX_BATCH && !sc->batch_elems)
		jsonrpc_emit_invalid(sc); /* JSON-RPC 2.0 §6: an empty batch is invalid */
	else if (sc->depth && sc->ctx[sc->depth] == CX_BATCH)
		jsonrpc_emit_invalid(sc); /* an array as a batch element */
	jsonrpc_value_end(sc);
}

/* A scalar starts: count it when it is a top-level value or batch element. */
static void jsonrpc_scalar_begin(struct jsonrpc_scan *sc, uint8_t t)
{
	if (!sc->depth) {
		sc->values++;
		sc->str_kind = SK_SKIP;
	} else if (sc->ctx[sc->depth] == CX_BATCH) {
		sc->batch_elems++;
		sc->str_kind = SK_SKIP;
	} else {
		jsonrpc_field_begin(sc, t);
	}
}

static inline void jsonrpc_str_put(struct jsonrpc_scan *sc, const void *b, size_t n)
{
	size_t room = sc->str_cap - 1 - sc->str_len;

	if (sc->str_trunc)
		return;
	if (n > room) {
		n = room;
		sc->str_trunc = 1;
	}
	memcpy(sc->str_buf + sc->str_len, b, n);
	sc->str_len += n;
}

/* Whole UTF-8 sequences only, so a truncated value never ends mid-character. */
static void jsonrpc_put_cp(struct jsonrpc_scan *sc, uint32_t cp)
{
	uint8_t b[4];
	size_t n;

	if (sc->str_kind == SK_SKIP || sc->str_trunc)
		return;
	if (cp < 0x80) {
		b[0] = cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = 0xc0 | (cp >> 6);
		b[1] = 0x80 | (cp & 0x3f);
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = 0xe0 | (cp >> 12);
		b[1] = 0x80 | ((cp >> 6) & 0x3f);
		b[2] = 0x80 | (cp & 0x3f);
		n = 3;
	} else {
		b[0] = 0xf0 | (cp >> 18);
		b[1] = 0x80 | ((cp >> 12) & 0x3f);
		b[2] = 0x80 | ((cp >> 6) & 0x3f);
		b[3] = 0x80 | (cp & 0x3f);
		n = 4;
	}
	if (sc->str_len + n > (size_t)sc->str_cap - 1) {
		sc->str_trunc = 1; /* nothing more is stored after a cut */
		return;
	}
	memcpy(sc->str_buf + sc->str_len, b, n);
	sc->str_len += n;
}

static void jsonrpc_flush_surrogate(struct jsonrpc_scan *sc)
{
	if (sc->hi_sur) {
		sc->hi_sur = 0;
		sc->bad_unicode++;
		jsonrpc_put_cp(sc, 0xfffd);
	}
}

/* One \uXXXX code unit; RFC 8259 §7 encodes non-BMP characters as pairs. */
static void jsonrpc_str_unit(struct jsonrpc_scan *sc, uint16_t u)
{
	if (sc->hi_sur) {
		if (u >= 0xdc00 && u <= 0xdfff) {
			uint32_t cp = 0x10000 + ((uint32_t)(sc->hi_sur - 0xd800) << 10) + (u - 0xdc00);

			sc->hi_sur = 0;
			jsonrpc_put_cp(sc, cp);
			return;
		}
		jsonrpc_flush_surrogate(sc);
	}
	if (u >= 0xd800 && u <= 0xdbff) {
		sc->hi_sur = u;
		return;
	}
	if ((u >= 0xdc00 && u <= 0xdfff) || !u) {
		/* a NUL would cut the C string a label is made from */
		sc->bad_unicode++;
		u = 0xfffd;
	}
	jsonrpc_put_cp(sc, u);
}

/* Drop a trailing incomplete UTF-8 sequence left by a cut of raw bytes. */
static uint16_t jsonrpc_utf8_trim(const char *s, uint16_t len)
{
	uint16_t i = len, need;
	uint8_t c;

	while (i > 0 && ((uint8_t)s[i - 1] & 0xc0) == 0x80 && len - i < 3)
		i--;
	if (!i)
		return len;
	c = s[i - 1];
	if (c < 0x80)
		return len;
	need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	return len - (i - 1) < need ? i - 1 : len;
}

static void jsonrpc_resolve_key(struct jsonrpc_scan *sc)
{
	const struct key_map *m;

	sc->field = F_NONE;
	if (sc->str_kind != SK_KEY || sc->str_trunc)
		return;
	switch (sc->ctx[sc->depth]) {
	case CX_MSG:
		m = jsonrpc_keys_msg;
		break;
	case CX_PARAMS:
		m = sc->capture ? jsonrpc_keys_params_pl : jsonrpc_keys_params;
		break;
	case CX_CLIENTINFO:
	case CX_SERVERINFO:
		m = jsonrpc_keys_info;
		break;
	case CX_RESULT:
		m = jsonrpc_keys_result;
		break;
	case CX_ERROR:
		m = jsonrpc_keys_error;
		break;
	case CX_RESULT_META:
		m = jsonrpc_keys_result_meta;
		break;
	default:
		return;
	}
	/* most keys are told apart by their length alone */
	for (; m->key; m++) {
		if (m->len == sc->str_len && !memcmp(m->key, sc->key, m->len)) {
			sc->field = m->field;
			return;
		}
	}
}

static void jsonrpc_str_end(struct jsonrpc_scan *sc, int is_key)
{
	jsonrpc_flush_surrogate(sc);
	if (is_key) {
		jsonrpc_resolve_key(sc);
		sc->str_kind = SK_SKIP;
		sc->state = ST_COLON;
		return;
	}
	if (sc->str_kind == SK_STR || sc->str_kind == SK_ID) {
		uint16_t len = sc->str_len;

		if (sc->str_trunc)
			len = jsonrpc_utf8_trim(sc->str_buf, len);
		sc->str_buf[len] = 0;
		if (sc->str_kind == SK_STR) {
			struct mcp_str *ms = (struct mcp_str *)(sc->str_buf -
							       offsetof(struct mcp_str, s));
			ms->len = len;
			ms->truncated = sc->str_trunc;
		} else {
			struct jsonrpc_id *id = (struct jsonrpc_id *)(sc->str_buf -
								      offsetof(struct jsonrpc_id, text));
			id->len = len;
			id->truncated = sc->str_trunc;
		}
	}
	sc->str_kind = SK_SKIP;
	jsonrpc_scalar_end(sc);
}

static void jsonrpc_num_end(struct jsonrpc_scan *sc)
{
	if (sc->field == F_CODE && sc->num_int && !sc->num_ovf) {
		uint64_t lim = sc->num_neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;

		if (sc->num_mag <= lim) {
			sc->msg.has_error_code = 1;
			sc->msg.error_code = sc->num_neg ? (int64_t)(0 - sc->num_mag) :
							   (int64_t)sc->num_mag;
		}
	}
	if (sc->str_kind == SK_ID)
		jsonrpc_str_end(sc, 0);
	else
		jsonrpc_scalar_end(sc);
}

static int jsonrpc_num_can_end(uint8_t ns)
{
	return ns == N_ZERO || ns == N_INT || ns == N_FRAC || ns == N_EXP;
}

#define JSONRPC_ONES 0x0101010101010101ULL
#define JSONRPC_HIGHS 0x8080808080808080ULL

/* Bytes of v (a little-endian load) that are 0 get their top bit set; the
 * lowest flagged byte is always a real one (borrows only run upwards). */
static inline uint64_t jsonrpc_zero_bytes(uint64_t v)
{
	return (v - JSONRPC_ONES) & ~v & JSONRPC_HIGHS;
}

/*
 * First byte at or after p that ends a run of plain string bytes: '"', '\\'
 * or a control character (RFC 8259 §7), or end. Eight bytes per step, since
 * string bytes are most of a message.
 */
static inline const uint8_t *jsonrpc_str_span(const uint8_t *p, const uint8_t *end)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	while (end - p >= 8) {
		uint64_t v, hit;

		memcpy(&v, p, sizeof(v));
		hit = jsonrpc_zero_bytes(v ^ ('"' * JSONRPC_ONES)) |
		      jsonrpc_zero_bytes(v ^ ('\\' * JSONRPC_ONES)) |
		      ((v - 0x20 * JSONRPC_ONES) & ~v & JSONRPC_HIGHS);
		if (hit)
			return p + (__builtin_ctzll(hit) >> 3);
		p += 8;
	}
#endif
	while (p < end && *p != '"' && *p != '\\' && *p >= 0x20)
		p++;
	return p;
}

/*
 * The feed loop, inlined twice: cap is a constant, so without payload
 * capture the per-step bookkeeping of jsonrpc_pl_track() is compiled out.
 */
static inline __attribute__((always_inline)) int
jsonrpc_feed(struct jsonrpc_scan *sc, const uint8_t *p, const uint8_t *end, const int cap)
{
	const uint8_t *q = p;
	uint8_t c;

	while (p < end) {
		if (cap) {
			jsonrpc_pl_track(sc, q, p);
			q = p;
		}
		switch (sc->state) {
		case ST_TOP:
		case ST_VALUE:
		case ST_ELEM_FIRST:
			c = *p;
			if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
				p++;
				break;
			}
			if (sc->state == ST_ELEM_FIRST && c == ']') {
				p++;
				jsonrpc_pop(sc);
				break;
			}
			p++;
			switch (c) {
			case '{':
			case '[':
				if (jsonrpc_push(sc, c == '['))
					return sc->err;
				break;
			case '"':
				jsonrpc_scalar_begin(sc, T_STR);
				sc->esc_n = 0;
				sc->hi_sur = 0;
				sc->str_is_key = 0;
				sc->state = ST_STR;
				break;
			case '-':
			case '0' ... '9':
				jsonrpc_scalar_begin(sc, T_NUM);
				sc->num_state = N_START;
				sc->num_int = 1;
				sc->num_neg = 0;
				sc->num_ovf = 0;
				sc->num_mag = 0;
				sc->state = ST_NUM;
				p--; /* the number state reads it */
				break;
			case 't':
				jsonrpc_scalar_begin(sc, T_TRUE);
				sc->lit = "true";
				sc->lit_i = 1;
				sc->state = ST_LIT;
				break;
			case 'f':
				jsonrpc_scalar_begin(sc, T_FALSE);
				sc->lit = "false";
				sc->lit_i = 1;
				sc->state = ST_LIT;
				break;
			case 'n':
				jsonrpc_scalar_begin(sc, T_NULL);
				sc->lit = "null";
				sc->lit_i = 1;
				sc->state = ST_LIT;
				break;
			default:
				return jsonrpc_fail(sc, JSONRPC_E_SYNTAX);
			}
			break;
		case ST_KEY_FIRST:
		case ST_KEY:
			c = *p++;
			if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
				break;
			if (c == '}' && sc->state == ST_KEY_FIRST) {
				jsonrpc_pop(sc);
				break;
			}
			if (c != '"')
				return jsonrpc_fail(sc, JSONRPC_E_SYNTAX);
			if (sc->ctx[sc->depth] != CX_SKIP)
				jsonrpc_str_target(sc, SK_KEY, sc->key, sizeof(sc->key));
			else
				sc->str_kind = SK_SKIP;
			sc->hi_sur = 0;
			sc->str_is_key = 1;
			sc->state = ST_STR;
			break;
		case ST_COLON:
			c = *p++;
			if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
				break;
			if (c != ':')
				return jsonrpc_fail(sc, JSONRPC_E_SYNTAX);
			sc->state = ST_VALUE;
			break;
		case ST_AFTER: {
			int is_arr = (sc->arr_bits >> (sc->depth - 1)) & 1;

			c = *p++;
			if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
				break;
			if (c == ',')
				sc->state = is_arr ? ST_VALUE : ST_KEY;
			else if ((c == '}' && !is_arr) || (c == ']' && is_arr))
				jsonrpc_pop(sc);
			else
				return jsonrpc_fail(sc, JSONRPC_E_SYNTAX);
			break;
		}
		case ST_STR: {
			const uint8_t *s = p;

			p = jsonrpc_str_span(p, end);
			if (p > s && sc->str_kind != SK_SKIP) {
				jsonrpc_flush_surrogate(sc);
				jsonrpc_str_put(sc, s, p - s);
			} else if (p > s) {
				sc->hi_sur = 0;
			}
			if (p == end)
				break;
			c = *p++;
			if (c == '"')
				jsonrpc_str_end(sc, sc->str_is_key);
			else if (c == '\\')
				sc->state = ST_ESC;
			else
				return jsonrpc_fail(sc, JSONRPC_E_SYNTAX); /* raw control char */
			break;
		}
		case ST_ESC:
			c = *p++;
			sc->state = ST_STR;
			switch (c) {
			case '"':
			case '\\':
			case '/':
				break;
			case 'b':
				c = '\b';
				break;
			case 'f':
				c = '\f';
				break;
			case 'n':
				c = '\n';
				break;
			case 'r':
				c = '\r';
				break;
			case 't':
				c = '\t';
				break;
			case 'u':
				sc->esc_n = 0;
				sc->esc_val = 0;
				sc->state = ST_U;
				continue;
			default:
				return jsonrpc_fail(sc, JSONRPC_E_SYNTAX);
			}
			jsonrpc_flush_surrogate(sc);
			jsonrpc_put_cp(sc, c);
			break;
		case ST_U:
			c = *p++;
			if (c >= '0' && c <= '9')
				c -= '0';
			else if (c >= 'a' && c <= 'f')
				c -= 'a' - 10;
			else if (c >= 'A' && c <= 'F')
				c -= 'A' - 10;
			else
				return jsonrpc_fail(sc, JSONRPC_E_SYNTAX);
			sc->esc_val = sc->esc_val << 4 | c;
			if (++sc->esc_n == 4) {
				sc->state = ST_STR;
				if (sc->str_kind != SK_SKIP)
					jsonrpc_str_unit(sc, sc->esc_val);
			}
			break;
		case ST_NUM:
			c = *p;
			switch (sc->num_state) {
			case N_START:
				if (c == '-') {
					sc->num_neg = 1;
					sc->num_state = N_MINUS;
				} else {
					sc->num_state = c == '0' ? N_ZERO : N_INT;
					sc->num_mag = c - '0';
				}
				break;
			case N_MINUS:
				if (c < '0' || c > '9')
					return jsonrpc_fail(sc, JSONRPC_E_SYNTAX);
				sc->num_state = c == '0' ? N_ZERO : N_INT;
				sc->num_mag = c - '0';
				break;
			case N_INT:
				if (c >= '0' && c <= '9') {
					if (sc->num_mag > (UINT64_MAX - 9) / 10)
						sc->num_ovf = 1;
					sc->num_mag = sc->num_mag * 10 + (c - '0');
					break;
				}
				/* fall through */
			case N_ZERO:
				if (c == '.') {
					sc->num_state = N_DOT;
					sc->num_int = 0;
				} else if (c == 'e' || c == 'E') {
					sc->num_state = N_E;
					sc->num_int = 0;
				} else {
					jsonrpc_num_end(sc);
					continue;
				}
				break;
			case N_DOT:
				if (c < '0' || c > '9')
					return jsonrpc_fail(sc, JSONRPC_E_SYNTAX);
				sc->num_state = N_FRAC;
				break;
			case N_FRAC:
				if (c >= '0' && c <= '9')
					break;
				if (c == 'e' || c == 'E') {
					sc->num_state = N_E;
					break;
				}
				jsonrpc_num_end(sc);
				continue;
			case N_E:
				if (c == '+' || c == '-') {
					sc->num_state = N_ESIGN;
					break;
				}
				/* fall through */
			case N_ESIGN:
				if (c < '0' || c > '9')
					return jsonrpc_fail(sc, JSONRPC_E_SYNTAX);
				sc->num_state = N_EXP;
				break;
			case N_EXP:
				if (c >= '0' && c <= '9')
					break;
				jsonrpc_num_end(sc);
				continue;
			}
			if (sc->str_kind == SK_ID)
				jsonrpc_str_put(sc, p, 1);
			p++;
			break;
		case ST_LIT:
			c = *p++;
			if (c != (uint8_t)sc->lit[sc->lit_i])
				return jsonrpc_fail(sc, JSONRPC_E_SYNTAX);
			if (!sc->lit[++sc->lit_i])
				jsonrpc_scalar_end(sc);
			break;
		}
	}
	if (cap)
		jsonrpc_pl_track(sc, q, p);
	return 0;
}

/* Two functions rather than two inlined copies in one: in one, the copy
 * that capture does not use still slows the common one down. */
static __attribute__((noinline)) int jsonrpc_feed_plain(struct jsonrpc_scan *sc,
							const uint8_t *p, const uint8_t *end)
{
	return jsonrpc_feed(sc, p, end, 0);
}

static __attribute__((noinline)) int jsonrpc_feed_capture(struct jsonrpc_scan *sc,
							  const uint8_t *p, const uint8_t *end)
{
	return jsonrpc_feed(sc, p, end, 1);
}

int jsonrpc_scan_feed(struct jsonrpc_scan *sc, const void *data, size_t len)
{
	const uint8_t *p = data;

	if (sc->err)
		return sc->err;
	if (sc->capture)
		return jsonrpc_feed_capture(sc, p, p + len);
	return jsonrpc_feed_plain(sc, p, p + len);
}

int jsonrpc_scan_end(struct jsonrpc_scan *sc)
{
	if (sc->err)
		return sc->err;
	if (sc->state == ST_NUM && !sc->depth && jsonrpc_num_can_end(sc->num_state))
		jsonrpc_num_end(sc);
	if (sc->state != ST_TOP || sc->depth)
		return JSONRPC_E_UNTERMINATED;
	if (!sc->values)
		return JSONRPC_E_EMPTY;
	return 0;
}

int jsonrpc_scan_cut(const struct jsonrpc_scan *sc, struct jsonrpc_cut *cut)
{
	uint8_t d = sc->depth;

	if (sc->err || sc->msg_depth != 1 || sc->bad || d < 2)
		return -1;
	switch (sc->ctx[2]) {
	case CX_PARAMS:
		cut->member = 'p';
		break;
	case CX_RESULT:
		cut->member = 'r';
		break;
	case CX_ERROR:
		cut->member = 'e';
		break;
	default:
		return -1;
	}
	if (d == 2) {
		/* a string value no key of ours names (error.message) */
		if ((sc->state != ST_STR && sc->state != ST_ESC && sc->state != ST_U) ||
		    sc->str_is_key || sc->str_kind != SK_SKIP)
			return -1;
		cut->inner = '"';
	} else {
		/* inside clientInfo, serverInfo or _meta a field may be cut */
		for (uint8_t i = 3; i <= d; i++)
			if (sc->ctx[i] != CX_SKIP)
				return -1;
		cut->inner = (sc->arr_bits >> 2) & 1 ? '[' : '{';
	}
	cut->has_id = sc->has_id;
	cut->has_method = sc->has_method;
	cut->has_result = sc->has_result;
	cut->has_error = sc->has_error;
	cut->msg = sc->msg;
	/* payload text lives in the scanner and will not outlast the hole */
	memset(&cut->msg.arguments, 0, sizeof(cut->msg.arguments));
	memset(&cut->msg.result, 0, sizeof(cut->msg.result));
	memset(&cut->msg.error, 0, sizeof(cut->msg.error));
	return 0;
}
