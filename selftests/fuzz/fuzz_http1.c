// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: proto/http1 on arbitrary bytes, in either mode.
 *
 * Input: byte 0 picks the mode (bit 0: responses), what the head callback
 * answers (bits 1-2) and how the split run cuts the stream (bits 3-5); bytes
 * 1-2 seed the cut sizes; the rest is the stream, with FUZZ_MARK gaps
 * (fuzz_common.h). The stream is parsed whole and split: both transcripts
 * must be equal (http1.h: any split gives the same callbacks), and every head
 * must keep the bounds http1.h promises.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/http1.h"
#include "fuzz_common.h"

struct fh1_run {
	struct http1_parser p;
	uint64_t h;	/* transcript hash */
	int policy;
	int split;
	uint64_t seed;
};

static void fh1_check_value(const struct http1_value *v, const char *what)
{
	if (!v->present)
		return;
	FUZZ_CHECK(v->len < HTTP1_VALUE_MAX, "http1 %s len %u", what, v->len);
	FUZZ_CHECK(memchr(v->s, 0, HTTP1_VALUE_MAX) != NULL, "http1 %s not terminated", what);
	FUZZ_CHECK(strlen(v->s) <= v->len, "http1 %s strlen %zu > len %u", what, strlen(v->s),
		   v->len);
}

static int fh1_head(void *arg, const struct http1_head *hd)
{
	struct fh1_run *r = arg;
	uint64_t h = r->h;

	FUZZ_CHECK(memchr(hd->method, 0, sizeof(hd->method)), "http1 method not terminated");
	FUZZ_CHECK(memchr(hd->target, 0, sizeof(hd->target)), "http1 target not terminated");
	FUZZ_CHECK(hd->content_length >= -1, "http1 content_length %lld",
		   (long long)hd->content_length);
	FUZZ_CHECK(hd->coding <= HTTP1_CODING_OTHER, "http1 coding %u", hd->coding);
	FUZZ_CHECK(!hd->is_response || (hd->status >= 100 && hd->status <= 999),
		   "http1 status %u", hd->status);
	fh1_check_value(&hd->content_type, "content-type");
	fh1_check_value(&hd->session_id, "mcp-session-id");
	fh1_check_value(&hd->protocol_version, "mcp-protocol-version");
	fh1_check_value(&hd->connection, "connection");
	fh1_check_value(&hd->transfer_encoding, "transfer-encoding");
	fh1_check_value(&hd->content_encoding, "content-encoding");

	h = fuzz_hash_str(h, "HEAD");
	h = fuzz_hash_u64(h, hd->is_response);
	h = fuzz_hash_u64(h, hd->status);
	h = fuzz_hash_u64(h, hd->version_minor);
	h = fuzz_hash_str(h, hd->method);
	h = fuzz_hash_str(h, hd->target);
	h = fuzz_hash_u64(h, (uint64_t)hd->content_length);
	h = fuzz_hash_u64(h, hd->chunked);
	h = fuzz_hash_u64(h, hd->coding);
	h = fuzz_hash_str(h, hd->content_type.present ? hd->content_type.s : "-");
	h = fuzz_hash_str(h, hd->session_id.present ? hd->session_id.s : "-");
	r->h = h;

	/* Answers derived from the head alone, so both runs answer alike. */
	switch (r->policy) {
	case 1:
		return hd->is_response && (hd->status & 1) ? HTTP1_HEAD_NO_BODY : HTTP1_HEAD_OK;
	case 2:
		return !hd->is_response && !strcmp(hd->method, "CONNECT") ? HTTP1_HEAD_OPAQUE
									     : HTTP1_HEAD_OK;
	case 3:
		return hd->is_response && hd->status % 3 == 0 ? HTTP1_HEAD_NO_BODY : HTTP1_HEAD_OK;
	default:
		return HTTP1_HEAD_OK;
	}
}

/* Body bytes go into the hash without boundaries: how they were cut is free. */
static void fh1_body(void *arg, const uint8_t *d, size_t n)
{
	struct fh1_run *r = arg;

	r->h = fuzz_hash(r->h, d, n);
}

static void fh1_body_gap(void *arg, uint64_t n)
{
	struct fh1_run *r = arg;

	r->h = fuzz_hash_u64(fuzz_hash_str(r->h, "GAP"), n);
}

static void fh1_done(void *arg, unsigned int flags)
{
	struct fh1_run *r = arg;

	FUZZ_CHECK(!(flags & ~(HTTP1_F_GAP | HTTP1_F_DECODE_ERR | HTTP1_F_CLOSED)),
		   "http1 done flags %x", flags);
	r->h = fuzz_hash_u64(fuzz_hash_str(r->h, "DONE"), flags);
}

static void fh1_error(void *arg, const char *reason)
{
	struct fh1_run *r = arg;

	FUZZ_CHECK(!strcmp(reason, "http") || !strcmp(reason, "chunked") ||
			   !strcmp(reason, "decompress") || !strcmp(reason, "gap"),
		   "http1 error reason %s", reason);
	r->h = fuzz_hash_str(fuzz_hash_str(r->h, "ERR"), reason);
}

static const struct http1_ops fh1_ops = {
	.head = fh1_head,
	.body = fh1_body,
	.body_gap = fh1_body_gap,
	.done = fh1_done,
	.error = fh1_error,
};

static void fh1_feed(void *arg, const uint8_t *d, size_t n)
{
	http1_feed(&((struct fh1_run *)arg)->p, d, n);
}

static void fh1_seg(void *arg, const uint8_t *d, size_t n)
{
	struct fh1_run *r = arg;

	fuzz_split(d, n, r->split, &r->seed, fh1_feed, r);
}

static void fh1_op(void *arg, uint8_t code, uint8_t argb)
{
	struct fh1_run *r = arg;

	if (code == FUZZ_OP_GAP)
		http1_gap(&r->p, fuzz_gap_len(argb));
}

static uint64_t fh1_run(const uint8_t *d, size_t n, int mode, int policy, int split,
			uint64_t seed)
{
	struct fh1_run r = { .policy = policy, .split = split, .seed = seed | 1,
			     .h = FUZZ_HASH_INIT };

	http1_init(&r.p, mode, &fh1_ops, &r);
	fuzz_walk(d, n, fh1_seg, fh1_op, &r);
	http1_close(&r.p);
	r.h = fuzz_hash_u64(r.h, r.p.stats.messages);
	r.h = fuzz_hash_u64(r.h, r.p.stats.errors);
	r.h = fuzz_hash_u64(r.h, r.p.stats.gap_bytes_skipped);
	http1_destroy(&r.p);
	return r.h;
}

int fuzz_http1_one(const uint8_t *data, size_t size)
{
	int mode, policy, split;
	uint64_t whole, cut;

	if (size < 3)
		return 0;
	mode = data[0] & 1 ? HTTP1_RESPONSE : HTTP1_REQUEST;
	policy = (data[0] >> 1) & 3;
	split = 1 + ((data[0] >> 3) & 7) % 4;
	whole = fh1_run(data + 3, size - 3, mode, policy, 0, 0);
	cut = fh1_run(data + 3, size - 3, mode, policy, split, data[1] | (uint64_t)data[2] << 8);
	FUZZ_CHECK(whole == cut, "http1 transcript differs whole vs split mode %d", split);
	return 0;
}

#ifndef MCPWIRE_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_http1_one(data, size);
}
#endif
