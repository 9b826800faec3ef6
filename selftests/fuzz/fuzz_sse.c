// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: proto/sse on arbitrary bytes.
 *
 * Input: byte 0 picks how the split run cuts the stream, bytes 1-2 seed the
 * cut sizes, the rest is the event stream with FUZZ_MARK gaps and resets
 * (fuzz_common.h). Parsed whole and split, the dispatched events must be the
 * same (sse.h), and each event must agree with the data handed over for it:
 * data_len bytes, data_lines - 1 line feeds joining the lines and no CR (a
 * CR always ends a line, WHATWG §9.2.6).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/sse.h"
#include "fuzz_common.h"

struct fsse_run {
	struct sse_parser p;
	uint64_t h;
	uint64_t ev_h;	   /* hash of the current event's data so far */
	uint64_t ev_len;   /* its bytes */
	uint64_t ev_lf;	   /* its line feeds */
	int split;
	uint64_t seed;
};

static void fsse_clear(struct fsse_run *r)
{
	r->ev_h = FUZZ_HASH_INIT;
	r->ev_len = 0;
	r->ev_lf = 0;
}

static void fsse_data(void *arg, const uint8_t *d, size_t n)
{
	struct fsse_run *r = arg;

	FUZZ_CHECK(!memchr(d, '\r', n), "sse data holds a CR");
	for (size_t i = 0; i < n; i++)
		r->ev_lf += d[i] == '\n';
	r->ev_len += n;
	r->ev_h = fuzz_hash(r->ev_h, d, n);
}

static void fsse_dispatch(void *arg, const struct sse_event *ev)
{
	struct fsse_run *r = arg;
	uint64_t h = r->h;

	FUZZ_CHECK(ev->data_lines >= 1, "sse event with %u data lines", ev->data_lines);
	FUZZ_CHECK(ev->data_len == r->ev_len, "sse data_len %llu, %llu bytes handed over",
		   (unsigned long long)ev->data_len, (unsigned long long)r->ev_len);
	FUZZ_CHECK(r->ev_lf == ev->data_lines - 1, "sse %u data lines joined by %llu LFs",
		   ev->data_lines, (unsigned long long)r->ev_lf);
	FUZZ_CHECK(ev->type && strlen(ev->type) < SSE_TYPE_MAX, "sse type unbounded");
	FUZZ_CHECK(ev->last_id && strlen(ev->last_id) < SSE_ID_MAX, "sse last id unbounded");

	h = fuzz_hash_str(h, "EV");
	h = fuzz_hash_str(h, ev->type);
	h = fuzz_hash_u64(h, ev->type_truncated);
	h = fuzz_hash_str(h, ev->last_id);
	h = fuzz_hash_u64(h, ev->data_lines);
	h = fuzz_hash_u64(h, ev->after_gap);
	h = fuzz_hash_u64(h, r->ev_h);
	r->h = h;
	fsse_clear(r);
}

static void fsse_discard(void *arg)
{
	struct fsse_run *r = arg;

	r->h = fuzz_hash_u64(fuzz_hash_str(r->h, "DISCARD"), r->ev_h);
	fsse_clear(r);
}

static const struct sse_ops fsse_ops = {
	.data = fsse_data,
	.dispatch = fsse_dispatch,
	.discard = fsse_discard,
};

static void fsse_feed(void *arg, const uint8_t *d, size_t n)
{
	sse_feed(&((struct fsse_run *)arg)->p, d, n);
}

static void fsse_seg(void *arg, const uint8_t *d, size_t n)
{
	struct fsse_run *r = arg;

	fuzz_split(d, n, r->split, &r->seed, fsse_feed, r);
}

static void fsse_op(void *arg, uint8_t code, uint8_t argb)
{
	struct fsse_run *r = arg;

	if (code == FUZZ_OP_GAP) {
		sse_gap(&r->p);
	} else if (code == FUZZ_OP_RESET) {
		/* a new response: what was handed over belongs to no event */
		sse_reset(&r->p);
		r->h = fuzz_hash_str(r->h, "RESET");
		fsse_clear(r);
	}
}

static uint64_t fsse_run(const uint8_t *d, size_t n, int split, uint64_t seed)
{
	struct fsse_run r = { .split = split, .seed = seed | 1, .h = FUZZ_HASH_INIT };

	fsse_clear(&r);
	sse_init(&r.p, &fsse_ops, &r);
	fuzz_walk(d, n, fsse_seg, fsse_op, &r);
	sse_end(&r.p);
	r.h = fuzz_hash_u64(r.h, r.p.events);
	r.h = fuzz_hash_u64(r.h, r.p.comments);
	r.h = fuzz_hash_u64(r.h, r.p.retry_ms);
	return r.h;
}

int fuzz_sse_one(const uint8_t *data, size_t size)
{
	uint64_t whole, cut;
	int split;

	if (size < 3)
		return 0;
	split = 1 + data[0] % 4;
	whole = fsse_run(data + 3, size - 3, 0, 0);
	cut = fsse_run(data + 3, size - 3, split, data[1] | (uint64_t)data[2] << 8);
	FUZZ_CHECK(whole == cut, "sse transcript differs whole vs split mode %d", split);
	return 0;
}

#ifndef MCPWIRE_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_sse_one(data, size);
}
#endif
