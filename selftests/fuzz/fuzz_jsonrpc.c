// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the proto/jsonrpc streaming scanner on arbitrary bytes.
 *
 * Input: byte 0 picks how the split run cuts the stream, bytes 1-2 seed the
 * cut sizes, the rest is the JSON text with FUZZ_MARK resets (fuzz_common.h).
 * Scanned whole and split, the messages and the final error must be the same
 * (jsonrpc.h), and every message must keep msg.h's bounds: strings and ids
 * NUL-terminated at their length, enums in range. The error is sticky: once a
 * feed fails, every later one returns the same error until a reset.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/jsonrpc.h"
#include "fuzz_common.h"

struct fjr_run {
	struct jsonrpc_scan sc;
	uint64_t h;
	int err;	/* first error returned by a feed since the last reset */
	int split;
	uint64_t seed;
};

static void fjr_check_str(const struct mcp_str *s, const char *what)
{
	FUZZ_CHECK(s->len < MCP_STR_MAX, "jsonrpc %s len %u", what, s->len);
	FUZZ_CHECK(s->s[s->len] == 0, "jsonrpc %s not terminated at its length", what);
	/* \u0000 becomes U+FFFD and a raw NUL is a syntax error: no NUL inside */
	FUZZ_CHECK(strlen(s->s) == s->len, "jsonrpc %s strlen %zu != len %u", what, strlen(s->s),
		   s->len);
}

static void fjr_check_id(const struct jsonrpc_id *id, const char *what)
{
	FUZZ_CHECK(id->type <= JSONRPC_ID_STR, "jsonrpc %s type %u", what, id->type);
	FUZZ_CHECK(id->len < JSONRPC_ID_MAX, "jsonrpc %s len %u", what, id->len);
	FUZZ_CHECK(id->text[id->len] == 0, "jsonrpc %s not terminated at its length", what);
}

static uint64_t fjr_hash_str(uint64_t h, const struct mcp_str *s)
{
	return fuzz_hash_u64(fuzz_hash_str(h, s->s), s->truncated);
}

static uint64_t fjr_hash_id(uint64_t h, const struct jsonrpc_id *id)
{
	h = fuzz_hash_u64(h, id->type);
	h = fuzz_hash_u64(h, id->truncated);
	return fuzz_hash(h, id->text, id->len);
}

static void fjr_msg(void *arg, const struct jsonrpc_msg *m)
{
	struct fjr_run *r = arg;
	uint64_t h = r->h;

	FUZZ_CHECK(m->kind <= JSONRPC_ERROR, "jsonrpc kind %u", m->kind);
	fjr_check_id(&m->id, "id");
	fjr_check_id(&m->cancel_id, "cancel id");
	fjr_check_str(&m->method, "method");
	fjr_check_str(&m->name, "name");
	fjr_check_str(&m->uri, "uri");
	fjr_check_str(&m->protocol_version, "protocolVersion");
	fjr_check_str(&m->peer_name, "peer name");
	fjr_check_str(&m->peer_version, "peer version");
	FUZZ_CHECK(jsonrpc_kind_name(m->kind) != NULL, "jsonrpc kind without name");

	h = fuzz_hash_str(h, "MSG");
	h = fuzz_hash_u64(h, m->kind);
	h = fjr_hash_id(h, &m->id);
	h = fjr_hash_str(h, &m->method);
	h = fjr_hash_str(h, &m->name);
	h = fjr_hash_str(h, &m->uri);
	h = fjr_hash_id(h, &m->cancel_id);
	h = fuzz_hash_u64(h, m->is_error);
	h = fuzz_hash_u64(h, m->has_task);
	h = fuzz_hash_u64(h, m->has_error_code);
	h = fuzz_hash_u64(h, m->has_error_code ? (uint64_t)m->error_code : 0);
	h = fjr_hash_str(h, &m->protocol_version);
	h = fjr_hash_str(h, &m->peer_name);
	h = fjr_hash_str(h, &m->peer_version);
	r->h = h;
}

static void fjr_feed(void *arg, const uint8_t *d, size_t n)
{
	struct fjr_run *r = arg;
	int e = jsonrpc_scan_feed(&r->sc, d, n);

	FUZZ_CHECK(e <= JSONRPC_OK && e >= JSONRPC_E_UNTERMINATED, "jsonrpc feed returned %d", e);
	FUZZ_CHECK(!r->err || e == r->err, "jsonrpc error not sticky: %d then %d", r->err, e);
	if (!r->err)
		r->err = e;
}

static void fjr_seg(void *arg, const uint8_t *d, size_t n)
{
	struct fjr_run *r = arg;

	fuzz_split(d, n, r->split, &r->seed, fjr_feed, r);
}

static void fjr_op(void *arg, uint8_t code, uint8_t argb)
{
	struct fjr_run *r = arg;

	if (code == FUZZ_OP_RESET) {
		r->h = fuzz_hash_u64(fuzz_hash_str(r->h, "RESET"), (uint64_t)r->err);
		jsonrpc_scan_reset(&r->sc);
		r->err = 0;
	}
}

static uint64_t fjr_run(const uint8_t *d, size_t n, int split, uint64_t seed)
{
	struct fjr_run r = { .split = split, .seed = seed | 1, .h = FUZZ_HASH_INIT };
	int e;

	jsonrpc_scan_init(&r.sc, fjr_msg, &r);
	fuzz_walk(d, n, fjr_seg, fjr_op, &r);
	e = jsonrpc_scan_end(&r.sc);
	FUZZ_CHECK(e <= JSONRPC_OK && e >= JSONRPC_E_EMPTY, "jsonrpc end returned %d", e);
	FUZZ_CHECK(!r.err || e == r.err, "jsonrpc end %d after error %d", e, r.err);
	FUZZ_CHECK(jsonrpc_strerror(e) != NULL, "jsonrpc error without text");
	r.h = fuzz_hash_u64(r.h, (uint64_t)e);
	r.h = fuzz_hash_u64(r.h, r.sc.values);
	r.h = fuzz_hash_u64(r.h, r.sc.bad_unicode);
	return r.h;
}

int fuzz_jsonrpc_one(const uint8_t *data, size_t size)
{
	uint64_t whole, cut;
	int split;

	if (size < 3)
		return 0;
	split = 1 + data[0] % 4;
	whole = fjr_run(data + 3, size - 3, 0, 0);
	cut = fjr_run(data + 3, size - 3, split, data[1] | (uint64_t)data[2] << 8);
	FUZZ_CHECK(whole == cut, "jsonrpc transcript differs whole vs split mode %d", split);
	return 0;
}

#ifndef MCPWIRE_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_jsonrpc_one(data, size);
}
#endif
