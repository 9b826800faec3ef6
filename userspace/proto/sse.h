/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * proto/sse — incremental text/event-stream parser, WHATWG HTML "Server-sent
 * events" §9.2.6 (interpreting an event stream): lines end in CRLF, LF or CR
 * (a CR at the end of one feed and the LF at the start of the next are one
 * line end), ':' starts a comment, "field: value" drops one leading space, a
 * field without ':' has an empty value, an empty line dispatches the event.
 *
 * The data field is not buffered: each piece is handed to ops->data as it
 * arrives, data lines joined by "\n" (the spec's "append LF, strip the last
 * one"). The event name and id may come after the data (sse-starlette writes
 * id, event, data; others event, id, data), so the consumer keeps what it
 * derived from the data until ops->dispatch says which event it was.
 */
#ifndef MCPWIRE_PROTO_SSE_H
#define MCPWIRE_PROTO_SSE_H

#include <stddef.h>
#include <stdint.h>

#define SSE_TYPE_MAX 64
#define SSE_ID_MAX 128

struct sse_event {
	const char *type;	/* event type, "" when none was given (means "message") */
	uint8_t type_truncated;	/* longer than SSE_TYPE_MAX - 1 bytes */
	const char *last_id;	/* last event ID buffer after this event, "" if none */
	uint32_t data_lines;	/* number of data fields (>= 1) */
	uint64_t data_len;	/* bytes handed to ops->data for this event */
	uint8_t after_gap;	/* bytes of this stream were lost before this event */
};

struct sse_ops {
	/* A piece of the current event's data. */
	void (*data)(void *arg, const uint8_t *data, size_t len);
	/* An empty line ended an event that had at least one data field. Per
	 * WHATWG a lone "data:" line gives an event with empty data (the MCP
	 * priming event `id: x\ndata: \n\n`); events without any data field are
	 * not dispatched, only ops->discard is called. */
	void (*dispatch)(void *arg, const struct sse_event *ev);
	/* The data handed over since the last dispatch belongs to no event
	 * (an event without data, or one cut by a gap); may be NULL. */
	void (*discard)(void *arg);
};

/* Parser state; embed it, do not touch the fields. */
struct sse_parser {
	const struct sse_ops *ops;
	void *arg;
	uint8_t state;
	uint8_t cr;		/* last byte was CR: a following LF is part of that line end */
	uint8_t bom;		/* bytes of a leading U+FEFF matched; 0xff when past the start */
	uint8_t field;		/* field of the current line */
	uint8_t name_len;
	char name[8];
	uint8_t skip_event;	/* lost bytes: ignore everything up to the next blank line */
	uint8_t gap_seen;
	uint8_t type_trunc;
	uint16_t type_len;
	uint16_t id_len;
	uint16_t retry_len;
	uint8_t retry_bad;
	uint32_t data_lines;
	uint64_t data_len;
	uint64_t retry_acc;
	uint64_t retry_ms;	/* reconnection time from the last valid retry field */
	uint64_t events;	/* dispatched */
	uint64_t comments;
	char type[SSE_TYPE_MAX];
	char id_buf[SSE_ID_MAX];  /* id field of the current line */
	char last_id[SSE_ID_MAX];
};

void sse_init(struct sse_parser *p, const struct sse_ops *ops, void *arg);

/* A new stream (a new HTTP response): the event and last-id buffers clear. */
void sse_reset(struct sse_parser *p);

/* Parse len bytes; never fails (every byte sequence is a valid stream). */
void sse_feed(struct sse_parser *p, const void *data, size_t len);

/* Bytes were lost: the current event is dropped (ops->discard) and the
 * parser waits for the next blank line before dispatching again. */
void sse_gap(struct sse_parser *p);

/* 1 when the parser is inside the value of a data field of an event it
 * keeps: a hole of the capture cap there (proto/tail.h) leaves the line and
 * its event going on, and the caller may skip it without sse_gap(). */
int sse_in_data(const struct sse_parser *p);

/* End of stream: an unfinished event is discarded, never dispatched (WHATWG). */
void sse_end(struct sse_parser *p);

#endif /* MCPWIRE_PROTO_SSE_H */
