/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * proto/conn — the protocol stack of one observed socket: decides what the
 * connection speaks (HTTP/1.1 today; newline-delimited JSON for stdio later),
 * runs the incremental parsers for both directions (http1 → chunked →
 * gzip/deflate → SSE or JSON body → JSON-RPC) and reports each JSON-RPC message
 * to a proto_sink with its mcp_wire_ctx.
 *
 * The observer role (server or client socket) comes from the content: the
 * socket that receives HTTP requests is the server's, whatever accept()/
 * connect() said, so connections joined mid-stream are handled the same way.
 */
#ifndef MCPWIRE_PROTO_CONN_H
#define MCPWIRE_PROTO_CONN_H

#include <stddef.h>
#include <stdint.h>
#include "stream/stream.h"
#include "proto/msg.h"

struct proto_conn_params {
	uint64_t flow_id;
	uint32_t role; /* enum mw_role of the observing socket, a hint only */
	/* local and remote endpoint of the observing socket (label filled) */
	struct mcp_endpoint local, remote;
	uint32_t tgid;
	char comm[16];
	/* Largest message body kept for parsing, bytes; past it the message
	 * is reported as a "too_large" parse error and skipped. */
	uint32_t max_body;
	/* Capture the raw text of arguments, results and errors for the
	 * call log (jsonrpc_scan_set_capture()); off costs nothing. */
	uint8_t payloads;
};

struct proto_conn;

/* NULL on allocation failure. sink must outlive the connection. */
struct proto_conn *proto_conn_new(const struct proto_conn_params *p, const struct proto_sink *sink);

/* In-order bytes of one direction. Any split of the stream gives the same
 * messages (one byte at a time equals one large call). */
void proto_conn_data(struct proto_conn *c, enum stream_dir dir, const uint8_t *data, size_t len,
		     uint64_t ts_ns);

/* nbytes of this direction are missing. after_cap: left out on purpose by
 * the capture cap (head + tail of a huge write) rather than lost. The parsers
 * skip them when the framing says where the current message ends, and
 * otherwise resynchronise at the next message boundary they recognise. */
void proto_conn_gap(struct proto_conn *c, enum stream_dir dir, uint64_t nbytes, int after_cap,
		    uint64_t ts_ns);

/* Bytes passed over, in both directions, because they continued a message
 * whose start mcpwire never saw (a connection already open when it
 * started): expected at join time, so no parse error. */
uint64_t proto_conn_join_skipped(const struct proto_conn *c);

/* The connection closed: ends bodies delimited by close, drops the rest. */
void proto_conn_free(struct proto_conn *c, uint64_t ts_ns);

/* The parser states (HTTP/1.1 parser, JSON-RPC scanner, message context, ~4.3 KiB) and
 * request FIFOs (~3.7 KiB) that connections hold only while a message is in
 * progress or a request awaits its response, process-wide. */
struct proto_work_stats {
	uint64_t in_use;	/* held by sides now (gauge) */
	uint64_t spare;		/* released, on the free list (gauge, at most 256) */
	uint64_t fifo_in_use;	/* request FIFOs held by connections now (gauge) */
	uint64_t fifo_spare;	/* released FIFOs on their free list (gauge, at most 256) */
	uint64_t allocs;	/* malloc()s of either: the free list was empty (counter) */
	/* calls whose bytes were dropped, or requests not kept for pairing,
	 * for want of memory (counter) */
	uint64_t failed;
};

void proto_work_stats(struct proto_work_stats *out);

#endif /* MCPWIRE_PROTO_CONN_H */
