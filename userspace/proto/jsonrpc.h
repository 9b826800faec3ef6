/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * proto/jsonrpc — a streaming (non-DOM) JSON scanner that extracts the few
 * fields mcpwire reads from each JSON-RPC 2.0 message (struct jsonrpc_msg,
 * msg.h) without storing anything else.
 *
 * Grammar: RFC 8259 (JSON). Message shapes and classification: JSON-RPC 2.0
 * §4-§6 and shared/docs/mcp-wire.md §1: method+id = request, method alone =
 * notification, result (+id) = result, error = error, anything else invalid.
 *
 * Memory is constant: a few hundred bytes of state plus one jsonrpc_msg (and,
 * with payload capture, one JSONRPC_PAYLOAD_MAX buffer), so a 5 MiB result
 * costs no more than "{}". Any split of the input gives the same
 * messages. Top-level values may follow each other (whitespace-separated); a
 * top-level array is a batch and each element is reported separately.
 */
#ifndef MCPWIRE_PROTO_JSONRPC_H
#define MCPWIRE_PROTO_JSONRPC_H

#include <stddef.h>
#include <stdint.h>
#include "proto/msg.h"

/* Containers nested deeper than this are an error (JSONRPC_E_DEPTH). */
#define JSONRPC_MAX_DEPTH 64
/* Longest key matched, NUL included: "io.modelcontextprotocol/protocolVersion"
 * of a 2026-07-28 result's _meta (longer keys are never stored whole). */
#define JSONRPC_KEY_MAX 40

enum jsonrpc_err {
	JSONRPC_OK = 0,
	JSONRPC_E_SYNTAX = -1,	     /* a byte no JSON value can contain here */
	JSONRPC_E_DEPTH = -2,	     /* nesting beyond JSONRPC_MAX_DEPTH */
	JSONRPC_E_UNTERMINATED = -3, /* input ended inside a value */
	JSONRPC_E_EMPTY = -4,	     /* input held no value at all (only from _end) */
};

/* Called once per top-level message (per batch element); msg is valid for
 * the duration of the call. Values that are not JSON-RPC messages (a scalar,
 * an empty batch, an object without method/result/error) come as
 * JSONRPC_INVALID. */
typedef void (*jsonrpc_msg_fn)(void *arg, const struct jsonrpc_msg *msg);

/* Scanner state; embed it, do not touch the fields. */
struct jsonrpc_scan {
	jsonrpc_msg_fn fn;
	void *arg;
	int err;		/* sticky enum jsonrpc_err */
	uint8_t state;
	uint8_t depth;
	uint8_t msg_depth;	/* depth of the message object, 0 when none is open */
	uint8_t field;		/* what the value being parsed is */
	uint8_t in_batch;
	uint8_t ctx[JSONRPC_MAX_DEPTH + 1];
	uint64_t arr_bits;	/* bit d-1 set: container at depth d is an array */
	uint32_t batch_elems;
	/* string in progress */
	uint8_t str_kind;
	uint8_t str_trunc;
	uint8_t str_is_key;
	uint8_t esc_n;		/* hex digits of \uXXXX seen */
	uint16_t esc_val;
	uint16_t hi_sur;	/* pending high surrogate, 0 if none */
	uint16_t str_cap;
	uint16_t str_len;
	char *str_buf;
	char key[JSONRPC_KEY_MAX];
	/* number / literal in progress */
	uint8_t num_state;
	uint8_t num_int;	/* error.code still an exact integer */
	uint8_t num_neg;
	uint8_t num_ovf;
	uint64_t num_mag;
	const char *lit;
	uint8_t lit_i;
	uint8_t bad;		/* message has a wrong-typed field */
	uint8_t has_id, has_method, has_result, has_error;
	uint64_t values;	/* top-level values started */
	uint64_t bad_unicode;	/* lone surrogates and \u0000 replaced by U+FFFD */
	/* the payload value being captured (jsonrpc_scan_set_capture()) */
	uint8_t pl_live;	/* a payload value is being captured */
	uint8_t pl_field;	/* F_* of that value */
	uint8_t pl_depth;	/* depth it started at: it ends back there */
	uint8_t pl_trunc;
	uint32_t pl_len;
	struct jsonrpc_msg msg;
	/* after msg: a reset keeps them */
	uint8_t capture;
	char *pl_buf;		/* JSONRPC_PAYLOAD_MAX bytes, allocated at first use */
};

/* fn is called for each message found by jsonrpc_scan_feed/_end. */
void jsonrpc_scan_init(struct jsonrpc_scan *sc, jsonrpc_msg_fn fn, void *arg);

/*
 * Payload capture: with on, the raw text of params.arguments, result and
 * error is kept (up to JSONRPC_PAYLOAD_MAX bytes) and handed over in
 * jsonrpc_msg.arguments/result/error. Off (the default) costs nothing per
 * byte: the feed loop is compiled once with and once without it. The buffer
 * is allocated at the first captured value; free it with jsonrpc_scan_fini()
 * before the scanner is dropped or initialised again.
 */
void jsonrpc_scan_set_capture(struct jsonrpc_scan *sc, int on);
/* Frees what payload capture allocated; the scanner must be initialised
 * again before use. A zeroed or never-capturing scanner is fine. */
void jsonrpc_scan_fini(struct jsonrpc_scan *sc);

/* Forget everything (also a sticky error): the next byte starts a new input. */
void jsonrpc_scan_reset(struct jsonrpc_scan *sc);

/* jsonrpc_scan_reset() for another receiver: a scanner set free (after
 * jsonrpc_scan_fini(), or between inputs) serves another connection without
 * the full clear of jsonrpc_scan_init(). Capture is as set before. */
void jsonrpc_scan_rebind(struct jsonrpc_scan *sc, jsonrpc_msg_fn fn, void *arg);

/* Scan len bytes. Returns JSONRPC_OK or a negative enum jsonrpc_err; after an
 * error the scanner ignores input until reset and keeps returning it. A
 * message is reported as soon as its closing brace is read. */
int jsonrpc_scan_feed(struct jsonrpc_scan *sc, const void *data, size_t len);

/* End of input: finishes a trailing top-level number; JSONRPC_E_UNTERMINATED
 * when a value is still open, JSONRPC_E_EMPTY when no value was seen, or the
 * sticky error. Does not reset. */
int jsonrpc_scan_end(struct jsonrpc_scan *sc);

/* Static description of an enum jsonrpc_err, for logs. */
const char *jsonrpc_strerror(int err);

/* Static lower-case name of an enum jsonrpc_kind ("request", …). */
const char *jsonrpc_kind_name(int kind);

/*
 * Where a scan stands when the next bytes of its message are missing (a hole
 * left by the capture cap; proto/tail.c recovers the message from its tail).
 * Filled only when the hole is inside one value of the top-level object's
 * params, result or error member: a container at message depth 3 or deeper,
 * or a string at depth 2 that is no field mcpwire reads.
 */
struct jsonrpc_cut {
	uint8_t member;	/* 'p' params, 'r' result, 'e' error */
	uint8_t inner;	/* '[', '{' or '"': the value of that member holding the hole */
	uint8_t has_id, has_method, has_result, has_error;
	struct jsonrpc_msg msg; /* fields seen so far; kind not set */
};

/* 0 and *cut filled, or -1 when the scan stands anywhere else (between
 * messages, in a batch, in a field it reads, after an error). */
int jsonrpc_scan_cut(const struct jsonrpc_scan *sc, struct jsonrpc_cut *cut);

#endif /* MCPWIRE_PROTO_JSONRPC_H */
