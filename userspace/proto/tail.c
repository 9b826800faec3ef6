// SPDX-License-Identifier: GPL-2.0-only
/*
 * Recovery of a JSON-RPC message from the head and the tail around a hole of
 * the capture cap; see tail.h for what is trusted and why.
 *
 * Reading JSON backwards is exact from a place known to be outside any
 * string (the end of the message): every '"' met outside a string closes one,
 * and the string opens at the first '"' before it that is preceded by an even
 * run of backslashes (backslashes occur only inside strings, so the whole run
 * belongs to that string). A run that reaches the hole could be longer than
 * it looks, so that is never decided.
 */
#include <stdlib.h>
#include <string.h>
#include "proto/tail.h"

enum {
	/* -1 and up: the index before a complete value (-1: it starts at 0) */
	TB_HOLE = -100,	/* the value began before the first byte kept: the hole */
	TB_BAD = -101,	/* not JSON, or nothing can be decided */
};

static int tb_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static long tb_skip_ws(const uint8_t *b, long i)
{
	while (i >= 0 && tb_ws(b[i]))
		i--;
	return i;
}

/* b[i] is a closing '"': index of its opening quote, TB_HOLE or TB_BAD. */
static long tb_str(const uint8_t *b, long i)
{
	for (long j = i - 1; j >= 0; j--) {
		long k = j;

		if (b[j] != '"')
			continue;
		while (k > 0 && b[k - 1] == '\\')
			k--;
		if (k == 0)
			return TB_BAD; /* the run may go on in the hole */
		if (!((j - k) & 1))
			return j;
	}
	return TB_HOLE;
}

/* b[i] closes a container: index of its opener, TB_HOLE (then *outer is the
 * kind of b[i]'s container) or TB_BAD. */
static long tb_container(const uint8_t *b, long i)
{
	uint64_t arr = 0; /* bit n: the container at relative depth n is an array */
	int d = 0;

	for (; i >= 0; i--) {
		uint8_t c = b[i];

		if (c == '"') {
			i = tb_str(b, i);
			if (i < 0)
				return i == TB_HOLE ? TB_HOLE : TB_BAD;
		} else if (c == '}' || c == ']') {
			if (d >= 64)
				return TB_BAD;
			arr = (arr & ~(1ULL << d)) | (uint64_t)(c == ']') << d;
			d++;
		} else if (c == '{' || c == '[') {
			if (!d || ((arr >> (d - 1)) & 1) != (c == '['))
				return TB_BAD;
			if (!--d)
				return i;
		}
	}
	return TB_HOLE;
}

static int tb_scalar_byte(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-' || c == '+' ||
	       c == '.' || c == 'E';
}

/*
 * One value ending at b[i] (no whitespace at i). Returns the index before
 * it, or TB_HOLE with *kind the kind of value the hole is in, or TB_BAD.
 */
static long tb_value(const uint8_t *b, long i, uint8_t *kind)
{
	long r;

	switch (b[i]) {
	case '"':
		*kind = '"';
		r = tb_str(b, i);
		break;
	case '}':
	case ']':
		*kind = b[i] == '}' ? '{' : '[';
		r = tb_container(b, i);
		break;
	default:
		if (!tb_scalar_byte(b[i]))
			return TB_BAD;
		while (i >= 0 && tb_scalar_byte(b[i]))
			i--;
		/* a number or literal cut by the hole is never guessed */
		return i < 0 ? TB_BAD : i;
	}
	return r < 0 ? r : r - 1;
}

/* Before a member's value at i: the colon and the key; returns the index
 * before the key, or TB_BAD. */
static long tb_key(const uint8_t *b, long i)
{
	i = tb_skip_ws(b, i);
	if (i < 0 || b[i] != ':')
		return TB_BAD;
	i = tb_skip_ws(b, i - 1);
	if (i < 0 || b[i] != '"')
		return TB_BAD;
	i = tb_str(b, i);
	return i < 0 ? TB_BAD : i - 1;
}

/*
 * Members of the object whose '}' is at b[close], backwards. Returns TB_HOLE
 * when a value runs into the hole (*inner its kind, *cut_end the index after
 * it), the index before the '{' when the object is whole, or TB_BAD.
 */
static long tb_members(const uint8_t *b, long close, uint8_t *inner, long *cut_end)
{
	long i = tb_skip_ws(b, close - 1);

	if (i >= 0 && b[i] == '{')
		return i - 1; /* {} */
	for (;;) {
		long end;

		if (i < 0)
			return TB_BAD; /* the hole is between members */
		end = i + 1;
		i = tb_value(b, i, inner);
		if (i == TB_HOLE) {
			*cut_end = end;
			return TB_HOLE;
		}
		if (i == TB_BAD)
			return TB_BAD;
		i = tb_key(b, i);
		if (i == TB_BAD)
			return TB_BAD;
		i = tb_skip_ws(b, i);
		if (i < 0)
			return TB_BAD;
		if (b[i] == '{')
			return i - 1;
		if (b[i] != ',')
			return TB_BAD;
		i = tb_skip_ws(b, i - 1);
	}
}

int tail_scan(const uint8_t *buf, size_t len, uint8_t *inner, size_t *m2, size_t *m2e, size_t *m1,
	      size_t *m1e)
{
	long close1, i, cut2;

	if (!len || len > TAIL_MAX)
		return -1;
	close1 = tb_skip_ws(buf, (long)len - 1);
	if (close1 < 0 || buf[close1] != '}')
		return -1; /* a batch, or no object at the end */
	i = tb_skip_ws(buf, close1 - 1);
	for (;;) {
		long end, r;
		uint8_t k;

		if (i < 0)
			return -1;
		end = i + 1;
		if (buf[i] == '}') {
			/* params, result, error: look inside for the hole */
			r = tb_members(buf, i, inner, &cut2);
			if (r == TB_HOLE) {
				*m2 = cut2;
				*m2e = i;
				*m1 = end;
				*m1e = close1;
				return 0;
			}
			if (r == TB_BAD)
				return -1;
			i = r;
		} else {
			i = tb_value(buf, i, &k);
			if (i == TB_HOLE || i == TB_BAD)
				return -1;
		}
		i = tb_key(buf, i);
		if (i == TB_BAD)
			return -1;
		i = tb_skip_ws(buf, i);
		if (i < 0 || buf[i] != ',')
			return -1; /* '{': the whole message is here, no hole in it */
		i = tb_skip_ws(buf, i - 1);
	}
}

static void tail_str_fill(struct mcp_str *dst, const struct mcp_str *src)
{
	if (!dst->len && !dst->truncated)
		*dst = *src;
}

int tail_begin(struct tail_rec *t, const struct jsonrpc_scan *sc)
{
	if (t->active) {
		/* a second hole: the bytes since the first are not needed */
		t->len = 0;
		t->overflow = 0;
		return 0;
	}
	if (jsonrpc_scan_cut(sc, &t->head))
		return -1;
	t->active = 1;
	t->len = 0;
	t->overflow = 0;
	return 0;
}

void tail_feed(struct tail_rec *t, const uint8_t *data, size_t len)
{
	if (!t->active || t->overflow || !len)
		return;
	if (len > TAIL_MAX - t->len) {
		/*
		 * Writes below the cap after the hole are seen whole and may be
		 * MiBs: only the last bytes are needed, and a window that
		 * starts later is the same as a hole that ends later (the
		 * backward scan trusts nothing before its first byte). Halving
		 * keeps the copying linear and at least TAIL_MAX / 2 bytes.
		 */
		size_t keep = TAIL_MAX / 2;

		if (len >= keep) {
			data += len - keep;
			len = keep;
			t->len = 0;
		} else {
			size_t drop = t->len + len - keep;

			memmove(t->buf, t->buf + drop, t->len - drop);
			t->len -= drop;
		}
	}
	if (t->len + len > t->cap) {
		uint32_t cap = t->cap ? t->cap : 16384;
		uint8_t *nb;

		while (cap < t->len + len)
			cap *= 2;
		if (cap > TAIL_MAX)
			cap = TAIL_MAX;
		nb = realloc(t->buf, cap);
		if (!nb) {
			t->overflow = 1;
			return;
		}
		t->buf = nb;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, data, len);
	t->len += len;
}

void tail_reset(struct tail_rec *t)
{
	t->active = 0;
	t->overflow = 0;
	t->len = 0;
}

void tail_free(struct tail_rec *t)
{
	free(t->buf);
	t->buf = NULL;
	t->cap = 0;
	tail_reset(t);
}

struct tail_got {
	int n;
	struct jsonrpc_msg m;
};

static void tail_on_msg(void *arg, const struct jsonrpc_msg *m)
{
	struct tail_got *g = arg;

	if (!g->n++)
		g->m = *m;
}

/*
 * The members after the hole, read forwards by the scanner the head used, as
 * {"<member>":{"":0<inner members>}<top-level members>}: the dummy first
 * member lets the inner list start with its ','.
 */
static int tail_fields(const struct tail_rec *t, size_t m2, size_t m2e, size_t m1, size_t m1e,
		       struct jsonrpc_scan *sc, struct tail_got *g)
{
	static const char *const open[] = { ['p'] = "{\"params\":{\"\":0",
					    ['r'] = "{\"result\":{\"\":0",
					    ['e'] = "{\"error\":{\"\":0" };
	const char *o = open[t->head.member];

	g->n = 0;
	jsonrpc_scan_init(sc, tail_on_msg, g);
	jsonrpc_scan_feed(sc, o, strlen(o));
	jsonrpc_scan_feed(sc, t->buf + m2, m2e - m2);
	jsonrpc_scan_feed(sc, "}", 1);
	jsonrpc_scan_feed(sc, t->buf + m1, m1e - m1);
	jsonrpc_scan_feed(sc, "}", 1);
	/* one value, and no wrong-typed field (sc->bad makes it invalid) */
	return jsonrpc_scan_end(sc) || g->n != 1 || sc->bad ? -1 : 0;
}

int tail_end(struct tail_rec *t, struct jsonrpc_msg *out)
{
	const struct jsonrpc_cut *h = &t->head;
	struct jsonrpc_scan sc;
	struct tail_got g;
	const struct jsonrpc_msg *tm = &g.m;
	size_t m2, m2e, m1, m1e;
	uint8_t inner, has_id, has_method;
	int ok = 0;

	if (!t->active || t->overflow)
		goto out;
	if (tail_scan(t->buf, t->len, &inner, &m2, &m2e, &m1, &m1e) || inner != h->inner)
		goto out;
	if (tail_fields(t, m2, m2e, m1, m1e, &sc, &g))
		goto out;
	/* a key on both sides of the hole: which one is meant is a guess */
	if ((h->has_id && sc.has_id) || (h->has_method && sc.has_method))
		goto out;
	has_id = h->has_id | sc.has_id;
	has_method = h->has_method | sc.has_method;

	*out = h->msg;
	if (sc.has_id)
		out->id = tm->id;
	if (sc.has_method)
		out->method = tm->method;
	tail_str_fill(&out->name, &tm->name);
	tail_str_fill(&out->uri, &tm->uri);
	tail_str_fill(&out->protocol_version, &tm->protocol_version);
	tail_str_fill(&out->peer_name, &tm->peer_name);
	tail_str_fill(&out->peer_version, &tm->peer_version);
	if (out->cancel_id.type == JSONRPC_ID_NONE)
		out->cancel_id = tm->cancel_id;
	out->is_error |= tm->is_error;
	out->has_task |= tm->has_task;
	if (tm->has_error_code) {
		out->has_error_code = 1;
		out->error_code = tm->error_code;
	}

	/* JSON-RPC 2.0 §4-§5, as jsonrpc.c classifies a whole message; the
	 * member holding the hole is one of params, result, error */
	out->kind = JSONRPC_INVALID;
	if (has_method) {
		if (h->member != 'p')
			goto out;
		if (!has_id)
			out->kind = JSONRPC_NOTIFICATION;
		else if (out->id.type != JSONRPC_ID_NULL)
			out->kind = JSONRPC_REQUEST;
	} else if (h->member == 'r') {
		if (has_id && out->id.type != JSONRPC_ID_NULL)
			out->kind = JSONRPC_RESULT;
	} else if (h->member == 'e') {
		out->kind = JSONRPC_ERROR;
	}
	if (out->kind == JSONRPC_INVALID || h->has_result + h->has_error > 1 ||
	    (sc.has_result && h->member != 'r') || (sc.has_error && h->member != 'e'))
		goto out;
	out->recovered = 1;
	ok = 1;
out:
	tail_reset(t);
	return ok;
}
