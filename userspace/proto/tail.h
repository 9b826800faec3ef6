/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * proto/tail — a JSON-RPC message whose middle the capture cap left out.
 *
 * One syscall larger than --cap-bytes keeps its head and its last 64 KiB
 * (docs/capture.md). When the framing says where the message ends
 * (Content-Length, chunks, an SSE event, a stdio line), the head and the
 * tail together still hold what mcpwire reads: the SDKs write the small
 * top-level members around the one large one (params, result or error).
 * ts-v1 writes responses as {"result":{…,"isError":true},"jsonrpc":"2.0",
 * "id":N} and requests as {"method":…,"params":{"name":…,…},"jsonrpc":"2.0",
 * "id":N}; the python SDK puts "id" first and "isError" last in result.
 *
 * The head is what the forward scanner saw (jsonrpc_scan_cut()); the tail is
 * read backwards from the end of the message, over at most TAIL_MAX bytes,
 * down to the value the hole is in. A message is reported only when both ends
 * agree on where the hole is: inside one value of the member the head left
 * open (params, result or error), which must be an object on the tail side
 * too, and, one level down, the same kind of value (array, object or string)
 * on both sides. Everything else (a hole between members, a backslash run
 * touching the hole, a field both ends claim, a batch) is ambiguous and gives
 * no message. What cannot be seen stays an assumption: if that member had
 * two large values of the same kind with a field between them, the hole
 * would hide the field.
 */
#ifndef MCPWIRE_PROTO_TAIL_H
#define MCPWIRE_PROTO_TAIL_H

#include <stddef.h>
#include <stdint.h>
#include "proto/jsonrpc.h"

/* Bytes after the hole kept for the backward scan: the last TAIL_MAX / 2 to
 * TAIL_MAX of them, more than the capture's 64 KiB tail (writes below the
 * cap that follow are seen whole; only their end is kept). */
#define TAIL_MAX (256u * 1024)

struct tail_rec {
	uint8_t active;		/* a hole is open in the current message */
	uint8_t overflow;	/* no memory for the tail: not recoverable */
	uint32_t len, cap;
	uint8_t *buf;
	struct jsonrpc_cut head;
};

/* A hole of the cap opens in the message sc is scanning. Returns 0 when the
 * message may still be recovered (again 0 for a second hole in the same
 * message: the two count as one), -1 when not (nothing changed). */
int tail_begin(struct tail_rec *t, const struct jsonrpc_scan *sc);

/* Bytes after the hole, in order, up to the end of the message. */
void tail_feed(struct tail_rec *t, const uint8_t *data, size_t len);

/* The framing says the message ended with the bytes fed. 1 and *out filled
 * (kind set, recovered = 1) when both ends agree, 0 when ambiguous. The
 * record is cleared either way. */
int tail_end(struct tail_rec *t, struct jsonrpc_msg *out);

/* Forget the hole (the message was abandoned); keeps the buffer. */
void tail_reset(struct tail_rec *t);

void tail_free(struct tail_rec *t);

/* The backward scan alone, for tests: buf holds the last bytes of a message
 * and begins right after a hole. 0 when it ends an object whose first
 * incomplete top-level value is an object; then *inner is the kind ('[',
 * '{', '"') of the value holding the hole one level down, and the complete
 * members after those two values are [*m2, *m2e) (one level down) and
 * [*m1, *m1e) (top level), each starting with ',' or empty. -1 otherwise. */
int tail_scan(const uint8_t *buf, size_t len, uint8_t *inner, size_t *m2, size_t *m2e, size_t *m1,
	      size_t *m1e);

#endif /* MCPWIRE_PROTO_TAIL_H */
