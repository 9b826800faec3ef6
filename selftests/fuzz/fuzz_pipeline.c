// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the whole userspace pipeline, stream → proto → mcp →
 * metrics, driven by a script of socket events (pipeline_script.h) the way
 * the capture drives it: opens with any role, family and endpoints, data in
 * both directions at offsets that may jump forward (gaps, the capture cap) or
 * back (overlaps), closes, generations, ticks of the clock and publishes.
 *
 * Whatever the input, each published exposition must hold (design.md "Metric
 * contract", the 0.0.4 text format):
 *  - every line is a HELP, a TYPE or `name{label="value",…} value`, names
 *    and label names well-formed, values escaped (\\ \" \n only), valid
 *    UTF-8 and at most METRICS_LABEL_MAX bytes, sample values in Go syntax;
 *  - mcp_requests_in_flight and mcp_sessions_active never negative, and the
 *    in-flight gauges add up to mcp/'s pending requests;
 *  - each histogram's buckets are cumulative and end at le="+Inf" = _count;
 *  - mcp_request_duration_seconds_count{server_name,method} equals the sum
 *    over status of mcp_requests_total, and the same for tool calls;
 * and, under ASan, nothing leaks or touches memory it does not own.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>
#include "mcpwire.h"
#include "mcp/mcp.h"
#include "metrics/labels.h"
#include "metrics/metrics.h"
#include "stream/stream.h"
#include "fuzz_common.h"
#include "pipeline_script.h"

/* Inputs are small; a script longer than this is cut so a unit stays fast. */
#define FP_MAX_OPS 4096

/* ---- exposition checker ---- */

#define FP_MAX_LABELS 8

struct fp_label {
	char name[64];
	char value[METRICS_LABEL_MAX + 1];
};

struct fp_sample {
	char name[128];
	int nlabels;
	struct fp_label l[FP_MAX_LABELS];
	double v;
};

/* One (family pair, label pair) the sum invariants compare. */
struct fp_sum {
	int kind;	/* 0 requests, 1 tool calls */
	char a[METRICS_LABEL_MAX + 1], b[METRICS_LABEL_MAX + 1];
	double total;	/* sum of the counter over status */
	double count;	/* histogram _count */
	double inf;	/* histogram le="+Inf" bucket */
	double last_bucket;
	int has_count;
};

struct fp_check {
	struct fp_sum *sums;
	size_t nsums, cap;
	double in_flight;
	const char *where;
};

static int fp_utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3, cp = c & 0x07;
		else
			return 0;
		if (i + k >= n)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

static int fp_name_char(char c, int first, int colon)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':'))
		return 1;
	return !first && c >= '0' && c <= '9';
}

/* Go's strconv.ParseFloat subset Prometheus writes: [-]digits[.digits][e±digits],
 * +Inf, -Inf, NaN. */
static int fp_value(const char *s, size_t n, double *v)
{
	size_t i = 0, d = 0;
	char buf[64];

	if ((n == 4 && !memcmp(s, "+Inf", 4)) || (n == 4 && !memcmp(s, "-Inf", 4)) ||
	    (n == 3 && !memcmp(s, "NaN", 3))) {
		*v = s[0] == '+' ? __builtin_inf() : s[0] == '-' ? -__builtin_inf() : __builtin_nan("");
		return 1;
	}
	if (i < n && s[i] == '-')
		i++;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++, d++;
	if (!d)
		return 0;
	if (i < n && s[i] == '.') {
		i++, d = 0;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++, d++;
		if (!d)
			return 0;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++, d = 0;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++, d++;
		if (!d)
			return 0;
	}
	if (i != n || n >= sizeof(buf))
		return 0;
	memcpy(buf, s, n);
	buf[n] = 0;
	*v = strtod(buf, NULL);
	return 1;
}

/* Parses one sample line [s, e); 0 when it breaks the format. */
static int fp_parse_sample(const char *s, const char *e, struct fp_sample *out)
{
	const char *p = s;
	size_t n = 0;

	out->nlabels = 0;
	while (p < e && fp_name_char(*p, p == s, 1)) {
		if (n + 1 >= sizeof(out->name))
			return 0;
		out->name[n++] = *p++;
	}
	out->name[n] = 0;
	if (!n)
		return 0;
	if (p < e && *p == '{') {
		p++;
		while (p < e && *p != '}') {
			struct fp_label *l;
			size_t ln = 0, vn = 0;

			if (out->nlabels == FP_MAX_LABELS)
				return 0;
			l = &out->l[out->nlabels++];
			while (p < e && fp_name_char(*p, ln == 0, 0)) {
				if (ln + 1 >= sizeof(l->name))
					return 0;
				l->name[ln++] = *p++;
			}
			l->name[ln] = 0;
			if (!ln || p + 1 >= e || p[0] != '=' || p[1] != '"')
				return 0;
			p += 2;
			while (p < e && *p != '"') {
				char c = *p++;

				if (c == '\\') {
					if (p >= e)
						return 0;
					c = *p++;
					if (c == 'n')
						c = '\n';
					else if (c != '\\' && c != '"')
						return 0;
				} else if (c == '\n') {
					return 0;
				}
				if (vn >= METRICS_LABEL_MAX)
					return 0;
				l->value[vn++] = c;
			}
			if (p >= e)
				return 0;
			p++; /* closing quote */
			l->value[vn] = 0;
			if (!fp_utf8_valid((const unsigned char *)l->value, vn) ||
			    strlen(l->value) != vn)
				return 0;
			if (p < e && *p == ',')
				p++;
			else if (p < e && *p != '}')
				return 0;
		}
		if (p >= e)
			return 0;
		p++;
	}
	if (p >= e || *p != ' ')
		return 0;
	p++;
	return fp_value(p, (size_t)(e - p), &out->v);
}

static const char *fp_label(const struct fp_sample *sm, const char *name)
{
	for (int i = 0; i < sm->nlabels; i++)
		if (!strcmp(sm->l[i].name, name))
			return sm->l[i].value;
	return NULL;
}

static struct fp_sum *fp_sum_get(struct fp_check *ck, int kind, const char *a, const char *b)
{
	struct fp_sum *x;

	for (size_t i = 0; i < ck->nsums; i++) {
		x = &ck->sums[i];
		if (x->kind == kind && !strcmp(x->a, a) && !strcmp(x->b, b))
			return x;
	}
	if (ck->nsums == ck->cap) {
		size_t cap = ck->cap ? ck->cap * 2 : 64;
		struct fp_sum *n = realloc(ck->sums, cap * sizeof(*n));

		if (!n)
			abort();
		ck->sums = n;
		ck->cap = cap;
	}
	x = &ck->sums[ck->nsums++];
	memset(x, 0, sizeof(*x));
	x->kind = kind;
	x->last_bucket = -1;
	strcpy(x->a, a);
	strcpy(x->b, b);
	return x;
}

static void fp_sample_rules(struct fp_check *ck, const struct fp_sample *sm)
{
	static const char *const hist[2] = { "mcp_request_duration_seconds",
					     "mcp_tool_call_duration_seconds" };
	static const char *const second[2] = { "method", "tool_name" };
	const char *srv = fp_label(sm, "server_name");

	if (!strcmp(sm->name, "mcp_requests_in_flight")) {
		FUZZ_CHECK(sm->v >= 0, "%s: mcp_requests_in_flight{server_name=\"%s\"} = %g",
			   ck->where, srv ? srv : "?", sm->v);
		ck->in_flight += sm->v;
	} else if (!strcmp(sm->name, "mcp_sessions_active")) {
		FUZZ_CHECK(sm->v >= 0, "%s: mcp_sessions_active{server_name=\"%s\"} = %g",
			   ck->where, srv ? srv : "?", sm->v);
	} else if (!strcmp(sm->name, "mcp_requests_total") ||
		   !strcmp(sm->name, "mcp_tool_calls_total")) {
		int kind = sm->name[4] == 't';
		const char *b = fp_label(sm, second[kind]);

		FUZZ_CHECK(srv && b, "%s: %s without labels", ck->where, sm->name);
		fp_sum_get(ck, kind, srv, b)->total += sm->v;
	}
	for (int kind = 0; kind < 2; kind++) {
		size_t hl = strlen(hist[kind]);
		const char *suffix = sm->name + hl, *b;
		struct fp_sum *x;

		if (strncmp(sm->name, hist[kind], hl) != 0)
			continue;
		b = fp_label(sm, second[kind]);
		FUZZ_CHECK(srv && b, "%s: %s without labels", ck->where, sm->name);
		x = fp_sum_get(ck, kind, srv, b);
		if (!strcmp(suffix, "_bucket")) {
			const char *le = fp_label(sm, "le");

			FUZZ_CHECK(le, "%s: %s without le", ck->where, sm->name);
			FUZZ_CHECK(sm->v >= x->last_bucket, "%s: %s{%s,%s} buckets not cumulative",
				   ck->where, sm->name, srv, b);
			x->last_bucket = sm->v;
			if (!strcmp(le, "+Inf"))
				x->inf = sm->v;
		} else if (!strcmp(suffix, "_count")) {
			x->count = sm->v;
			x->has_count = 1;
		}
	}
}

/* Checks one rendered exposition; pending is mcp/'s pending request count. */
static void fp_check_text(const char *text, size_t len, uint32_t pending, const char *where)
{
	struct fp_check ck = { .where = where };
	const char *p = text, *end = text + len;
	struct fp_sample *sm = malloc(sizeof(*sm));

	if (!sm)
		abort();
	FUZZ_CHECK(strlen(text) == len, "%s: NUL inside the exposition", where);
	FUZZ_CHECK(len && text[len - 1] == '\n', "%s: exposition does not end in a newline",
		   where);
	FUZZ_CHECK(fp_utf8_valid((const unsigned char *)text, len), "%s: exposition not UTF-8",
		   where);
	while (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p));

		if (!e)
			e = end;
		if (e - p >= 7 && !memcmp(p, "# HELP ", 7)) {
			/* HELP text: only \\ and \n escapes */
			for (const char *q = p + 7; q < e; q++)
				if (*q == '\\') {
					FUZZ_CHECK(q + 1 < e && (q[1] == '\\' || q[1] == 'n'),
						   "%s: bad HELP escape: %.*s", where,
						   (int)(e - p), p);
					q++;
				}
		} else if (e - p >= 7 && !memcmp(p, "# TYPE ", 7)) {
			const char *t = memchr(p + 7, ' ', (size_t)(e - p - 7));

			FUZZ_CHECK(t, "%s: bad TYPE line: %.*s", where, (int)(e - p), p);
			t++;
			FUZZ_CHECK((e - t == 7 && !memcmp(t, "counter", 7)) ||
					   (e - t == 5 && !memcmp(t, "gauge", 5)) ||
					   (e - t == 9 && !memcmp(t, "histogram", 9)),
				   "%s: bad TYPE line: %.*s", where, (int)(e - p), p);
		} else {
			FUZZ_CHECK(fp_parse_sample(p, e, sm), "%s: bad sample line: %.*s", where,
				   (int)(e - p), p);
			fp_sample_rules(&ck, sm);
		}
		p = e + 1;
	}
	for (size_t i = 0; i < ck.nsums; i++) {
		const struct fp_sum *x = &ck.sums[i];
		const char *fam = x->kind ? "mcp_tool_call" : "mcp_request";

		FUZZ_CHECK(x->has_count || x->total == 0, "%s: %s{%s,%s}: %g calls, no histogram",
			   where, fam, x->a, x->b, x->total);
		if (!x->has_count)
			continue;
		FUZZ_CHECK(x->count == x->total, "%s: %s{%s,%s}: histogram count %g, counter sum %g",
			   where, fam, x->a, x->b, x->count, x->total);
		FUZZ_CHECK(x->inf == x->count, "%s: %s{%s,%s}: +Inf bucket %g, count %g", where,
			   fam, x->a, x->b, x->inf, x->count);
	}
	FUZZ_CHECK(ck.in_flight == pending, "%s: in-flight gauges add up to %g, %u pending",
		   where, ck.in_flight, pending);
	free(ck.sums);
	free(sm);
}

/* ---- the script ---- */

struct fp_slot {
	uint64_t gen;
	uint64_t off[2];
	int open;
	struct stream_conn_info info;
};

struct fp_state {
	struct metrics *m;
	struct mcp_state *mcp;
	struct stream_table *st;
	struct fp_slot slot[PS_SLOTS];
	uint64_t now;
};

static struct stream_key fp_key(const struct fp_state *s, int slot)
{
	/* two processes, four fds each: slots 2k and 2k+1 can be the two ends */
	struct stream_key k = { .tgid = 100 + (uint32_t)(slot & 1), .fd = 10 + (uint32_t)slot,
				.gen = s->slot[slot].gen };

	return k;
}

static void fp_publish(struct fp_state *s, int render)
{
	struct metrics_snapshot *snap;
	struct stream_stats ss;

	if (s->st) {
		stream_stats(s->st, &ss);
		metrics_table_evictions_set(s->m, "connections", ss.conns_evicted);
	}
	metrics_publish(s->m);
	snap = metrics_snapshot_get(s->m);
	FUZZ_CHECK(snap && snap->text, "no snapshot");
	/* for reading a crash input: what the exposition said before the check */
	if (getenv("MCPWIRE_FUZZ_DUMP"))
		fprintf(stderr, "--- snapshot\n%s", snap->text);
	fp_check_text(snap->text, snap->len, mcp_pending_count(s->mcp), "snapshot");
	metrics_snapshot_put(snap);
	if (render) {
		char *text = NULL;
		size_t len = 0;

		if (metrics_render(s->m, &text, &len) == 0) {
			fp_check_text(text, len, mcp_pending_count(s->mcp), "render");
			free(text);
		}
	}
}

static void fp_open(struct fp_state *s, int slot, uint8_t a, uint8_t p, uint8_t e)
{
	struct fp_slot *sl = &s->slot[slot];
	struct stream_conn_info *in = &sl->info;
	struct stream_key k;

	memset(in, 0, sizeof(*in));
	in->role = a & 3;
	in->family = (a >> 2) & 7;
	if (a & PS_OPEN_MIRROR) {
		const struct stream_conn_info *peer = &s->slot[slot ^ 1].info;

		in->family = peer->family;
		in->lport = peer->rport;
		in->rport = peer->lport;
		memcpy(in->laddr, peer->raddr, 16);
		memcpy(in->raddr, peer->laddr, 16);
	} else {
		in->lport = PS_PORTS[p & 7];
		in->rport = PS_PORTS[(p >> 3) & 7];
		memcpy(in->laddr, PS_ADDRS[e & 7], 16);
		memcpy(in->raddr, PS_ADDRS[(e >> 3) & 7], 16);
	}
	in->netns = 4026531840u;
	in->tgid = 100 + (uint32_t)(slot & 1);
	memcpy(in->comm, slot & 1 ? "node" : "python3", slot & 1 ? 5 : 8);
	if (a & PS_OPEN_NEWGEN)
		sl->gen++;
	sl->off[0] = sl->off[1] = 0;
	sl->open = 1;
	k = fp_key(s, slot);
	stream_open(s->st, &k, in, s->now);
}

/* Returns the bytes consumed after the op byte, or 0 when the input ends. */
static size_t fp_data(struct fp_state *s, int slot, int dir, int after_cap_bit,
		      const uint8_t *d, size_t n)
{
	struct fp_slot *sl = &s->slot[slot];
	struct stream_key k = fp_key(s, slot);
	size_t used, len;
	uint64_t j = 0, off;
	uint8_t f;
	int after_cap;

	if (n < 3)
		return 0;
	f = d[0];
	len = d[1] | (size_t)d[2] << 8;
	used = 3;
	if (f & 3) {
		if (n < 4)
			return 0;
		j = (uint64_t)d[3] << PS_SHIFT[(f >> 2) & 3];
		used = 4;
	}
	after_cap = (f & 0x10) || after_cap_bit;
	if (len > n - used)
		len = n - used;
	off = sl->off[dir];
	switch (f & 3) {
	case 1:
		off += j + 1;
		break;
	case 2:
		off = j > off ? 0 : off - j;
		break;
	case 3:
		off = j;
		break;
	}
	stream_data(s->st, &k, dir ? STREAM_SEND : STREAM_RECV, off, d + used, len, after_cap,
		    s->now);
	/* what the kernel would number next: offsets only grow there, but a
	 * jump back (a duplicate) must not move the expectation back */
	if (off + len > sl->off[dir])
		sl->off[dir] = off + len;
	return used + len;
}

int fuzz_pipeline_one(const uint8_t *data, size_t size)
{
	static const uint32_t conns[4] = { 2, 4, 8, 64 };
	struct stream_config scfg = { 0 };
	struct metrics_config mcfg = { 0 };
	struct mcp_config pcfg = { 0 };
	struct fp_state s;
	size_t i = 2;
	int ops = 0;

	if (size < 2)
		return 0;
	memset(&s, 0, sizeof(s));
	s.now = 1000000000ULL;
	if (data[0] & 1) {
		pcfg.max_pending = pcfg.max_sessions = pcfg.max_servers = 2;
		pcfg.max_flows = pcfg.max_held = 2;
	} else {
		/* small enough that a unit allocates little, big enough for the captures */
		pcfg.max_pending = 64;
		pcfg.max_sessions = 32;
		pcfg.max_servers = 16;
		pcfg.max_flows = 32;
		pcfg.max_held = 32;
	}
	scfg.max_body = data[0] & 2 ? 512 : 1 << 20;
	if (data[0] & 4)
		mcfg.max_servers = mcfg.max_tools_per_server = mcfg.max_error_codes = 3;
	scfg.max_conns = conns[(data[0] >> 3) & 3];

	s.m = metrics_new(&mcfg);
	s.mcp = s.m ? mcp_new(&pcfg, s.m) : NULL;
	s.st = s.mcp ? stream_table_new(&scfg, mcp_sink(s.mcp)) : NULL;
	if (!s.st)
		abort();

	while (i < size && ops++ < FP_MAX_OPS) {
		uint8_t b = data[i++];
		int kind = b & 7, slot = (b >> 3) & 7, x = b >> 6;
		size_t used = 0;

		s.now += 1000;
		switch (kind) {
		case PS_OPEN:
			if (size - i < 3) {
				i = size;
				break;
			}
			fp_open(&s, slot, data[i], data[i + 1], data[i + 2]);
			used = 3;
			break;
		case PS_RECV:
		case PS_SEND:
		case PS_DATA:
			used = fp_data(&s, slot, kind == PS_DATA ? x & 1 : kind == PS_SEND,
				       kind == PS_DATA ? x >> 1 : 0, data + i, size - i);
			if (!used)
				i = size;
			break;
		case PS_CLOSE: {
			struct stream_key k = fp_key(&s, slot);

			stream_close(s.st, &k, s.now);
			s.slot[slot].open = 0;
			break;
		}
		case PS_TICK:
			if (i >= size)
				break;
			s.now += (uint64_t)((data[i] & 63) + 1) * PS_TICK_NS[data[i] >> 6];
			used = 1;
			mcp_tick(s.mcp, s.now);
			break;
		case PS_PUBLISH:
			fp_publish(&s, x == 3);
			break;
		case PS_SLEEP:
			s.now += (uint64_t)(slot + 1) * 1000000ULL;
			break;
		}
		i += used;
	}
	mcp_tick(s.mcp, s.now + 1000);
	fp_publish(&s, 1);
	/* closes flush bodies delimited by close and stdio session ends */
	stream_table_free(s.st);
	s.st = NULL;
	mcp_tick(s.mcp, s.now + 2000);
	fp_publish(&s, 0);
	mcp_free(s.mcp);
	metrics_free(s.m);
	return 0;
}

#ifndef MCPWIRE_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_pipeline_one(data, size);
}
#endif
