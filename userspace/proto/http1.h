/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * proto/http1 — incremental HTTP/1.1 message parser for one direction of a
 * connection (requests or responses), RFC 9112:
 *  - start line (§3 request-line, §4 status-line), header fields (§5) with
 *    case-insensitive names, of which only the ones mcpwire reads are kept;
 *  - message body length (§6.3): no body for 1xx/204/304 and answers to HEAD,
 *    chunked transfer coding (§7.1, extensions and trailer fields skipped),
 *    Content-Length, or until the connection closes;
 *  - keep-alive and pipelining: messages follow each other;
 *  - Content-Encoding gzip (RFC 1952) and deflate (RFC 1950 zlib, raw RFC
 *    1951 accepted too, as browsers do) decoded through zlib before the body
 *    callback.
 * Errors are reported with a reason and the parser resynchronises at the
 * next plausible message start ("HTTP/1." for responses, a known method and
 * a space for requests) instead of giving up on the connection.
 *
 * Memory per parser is fixed (about 1 KiB, plus a zlib stream allocated the
 * first time a compressed body is seen and kept for the next ones).
 */
#ifndef MCPWIRE_PROTO_HTTP1_H
#define MCPWIRE_PROTO_HTTP1_H

#include <stddef.h>
#include <stdint.h>

#define HTTP1_METHOD_MAX 16
#define HTTP1_TARGET_MAX 256
#define HTTP1_VALUE_MAX 128	/* kept header values, NUL included */
#define HTTP1_HEAD_MAX (64 * 1024) /* start line + header fields, bytes */

enum http1_mode {
	HTTP1_REQUEST = 0,
	HTTP1_RESPONSE = 1,
};

enum http1_coding {
	HTTP1_CODING_IDENTITY = 0,
	HTTP1_CODING_GZIP = 1,
	HTTP1_CODING_DEFLATE = 2,
	HTTP1_CODING_OTHER = 3, /* br, zstd, …: the body is not decoded */
};

/* A kept header value: trimmed of surrounding whitespace, truncated to
 * HTTP1_VALUE_MAX - 1 bytes (truncated set); a repeated field keeps the last. */
struct http1_value {
	uint8_t present;
	uint8_t truncated;
	uint16_t len;
	char s[HTTP1_VALUE_MAX];
};

/* Mcp-Name (2026-07-28, mcp-wire.md §8) carries a tool or prompt name or a
 * resource URI, non-ASCII ones as a =?base64?…?= encoded word: room for the
 * encoding of MCP_STR_MAX - 1 bytes (msg.h), so a name the body could hold
 * whole is never cut in the header either. */
#define HTTP1_NAME_VALUE_MAX 232

struct http1_long_value {
	uint8_t present;
	uint8_t truncated;
	uint16_t len;
	char s[HTTP1_NAME_VALUE_MAX];
};

/* The head of one message, valid during the head callback and until the
 * message completes. */
struct http1_head {
	uint8_t is_response;
	uint8_t version_minor;		/* HTTP/1.x */
	uint16_t status;		/* responses */
	char method[HTTP1_METHOD_MAX];	/* requests, as sent (case-sensitive) */
	char target[HTTP1_TARGET_MAX];	/* requests, request-target */
	uint8_t target_truncated;
	int64_t content_length;		/* -1 when absent */
	uint8_t chunked;		/* Transfer-Encoding ends in chunked */
	uint8_t coding;			/* enum http1_coding of Content-Encoding */
	struct http1_value content_type;
	struct http1_value session_id;	/* Mcp-Session-Id */
	struct http1_value protocol_version; /* Mcp-Protocol-Version */
	struct http1_value connection;
	struct http1_value transfer_encoding;
	struct http1_value content_encoding;
	struct http1_value mcp_method;	/* Mcp-Method (2026-07-28), raw */
	struct http1_long_value mcp_name; /* Mcp-Name (2026-07-28), raw */
};

/* Return values of ops->head. */
enum http1_head_action {
	HTTP1_HEAD_OK = 0,
	HTTP1_HEAD_NO_BODY = 1, /* the response answers HEAD (RFC 9112 §6.3 rule 1) */
	HTTP1_HEAD_OPAQUE = 2,	/* 101 / CONNECT 2xx: the rest is not HTTP */
};

/* Flags of ops->done. */
#define HTTP1_F_GAP 0x1		/* body bytes were missing (http1_gap) */
#define HTTP1_F_DECODE_ERR 0x2	/* the body could not be decoded */
#define HTTP1_F_CLOSED 0x4	/* the body ended with the connection */

struct http1_ops {
	/* A complete head. Returns an enum http1_head_action. */
	int (*head)(void *arg, const struct http1_head *h);
	/* Body bytes, de-chunked and decoded. */
	void (*body)(void *arg, const uint8_t *data, size_t len);
	/* nbytes of body are missing at this point (framing kept). */
	void (*body_gap)(void *arg, uint64_t nbytes);
	/* The message ended; flags HTTP1_F_*. */
	void (*done)(void *arg, unsigned int flags);
	/* Input that is not valid HTTP/1.1; reason is "http", "chunked",
	 * "decompress" or "gap". The current message, if any, is abandoned
	 * (no done) unless the reason is "decompress". */
	void (*error)(void *arg, const char *reason);
};

struct http1_stats {
	uint64_t messages;
	uint64_t errors;
	uint64_t resyncs;	/* start lines found again after an error */
	uint64_t gap_bytes_skipped; /* missing bytes absorbed inside a framed body */
};

struct z_stream_s;

/* Parser state; embed it, do not touch the fields. */
struct http1_parser {
	const struct http1_ops *ops;
	void *arg;
	uint8_t mode;		/* enum http1_mode */
	uint8_t state;
	uint8_t sub;		/* header / chunk sub-state */
	uint8_t resync;		/* looking for a message start after an error */
	uint8_t quiet;		/* a candidate start line failing is not a new error */
	uint8_t cr;
	uint8_t zmode;		/* 0 none, 1 active, 2 failed/ended, 3 deflate sniffing */
	uint8_t zpend_n;
	uint8_t zpend;
	uint8_t hdr;		/* index of the header field being read */
	uint8_t name_len;
	char name[24];
	uint16_t line_len;
	uint8_t line_trunc;
	char line[HTTP1_METHOD_MAX + HTTP1_TARGET_MAX + 32];
	uint8_t cl_bad;
	uint32_t head_bytes;
	uint32_t trailer_bytes;
	uint64_t remaining;	/* Content-Length left, or of the current chunk */
	unsigned int flags;	/* HTTP1_F_* of the message in progress */
	uint64_t win;		/* last bytes seen while resynchronising */
	struct http1_head head;
	struct z_stream_s *z;
	struct http1_stats stats;
	/* after a hole of the cap that ended past its chunk (http1_cap_gap) */
	uint8_t gap_resynced;	/* chunk boundaries of this body were in the hole */
	uint32_t find_len;	/* bytes held while looking for the chunk framing */
	uint32_t find_from;	/* first candidate position not yet ruled out */
	uint8_t *find;
};

/* ops and arg are kept; the parser starts expecting a start line. */
void http1_init(struct http1_parser *p, enum http1_mode mode, const struct http1_ops *ops,
		void *arg);

/* 1 between messages: nothing of a message is held (no start line begun, no
 * body, not resynchronising), so the parser may be dropped and later
 * replaced by a fresh http1_init() of the same mode without any change in
 * what it reports. */
int http1_idle(const struct http1_parser *p);

/* An idle parser (http1_idle()) goes on for another connection or
 * direction: what a parser keeps between messages (its zlib stream, for
 * reuse) stays, the next message starts from scratch as it would on a parser
 * from http1_init(). Cheaper than http1_destroy() + http1_init(): no 2 KiB
 * clear per message. */
void http1_rebind(struct http1_parser *p, enum http1_mode mode, const struct http1_ops *ops,
		  void *arg);

/* Frees the zlib stream. */
void http1_destroy(struct http1_parser *p);

/* Parse len in-order bytes. Callbacks run from inside. */
void http1_feed(struct http1_parser *p, const void *data, size_t len);

/* nbytes are missing. Inside a Content-Length or chunk body that is long
 * enough, or a body delimited by close, they are skipped (ops->body_gap, the
 * message gets HTTP1_F_GAP); anywhere else the message is abandoned with
 * ops->error("gap") and the parser resynchronises. */
void http1_gap(struct http1_parser *p, uint64_t nbytes);

/* The same for bytes the capture cap left out of one large write: their
 * length is exact, so a hole that runs past the end of the current chunk
 * keeps the message (ops->body_gap) and the chunk framing is found again in
 * the bytes after it (a chunk-size line whose size leads to the next one;
 * http1_find_chunk_line() below); until then they are held, at most
 * TAIL_MAX. http1_gap_resynced() then tells that chunk boundaries, and so
 * whatever they delimited, were inside the hole. */
void http1_cap_gap(struct http1_parser *p, uint64_t nbytes);
int http1_gap_resynced(const struct http1_parser *p);

/*
 * Chunked framing after a hole that swallowed chunk-size lines: buf begins
 * inside some chunk's data, its CRLF, or at a chunk-size line. A candidate is a chunk-size line at the start of buf or
 * after CRLF: 1 to 16 hex digits, an optional extension, CRLF. It is trusted
 * when it is the last chunk (size 0), or when its size leads exactly to CRLF
 * and the first hex digit of the next size line: a hex-only line inside JSON
 * or SSE data is rare, one whose number also lands on the next chunk
 * boundary is not met by chance. Returns the index of the line (*data_end:
 * where the data before it ends), or -1 while none is trusted. The earliest
 * line that checks out is taken even when one before it is still undecided
 * (hex-looking data right after the hole); sizes past TAIL_MAX, which no held
 * bytes can confirm, are never trusted.
 * *from is where the next call resumes (0 at the first).
 */
long http1_find_chunk_line(const uint8_t *buf, size_t len, uint32_t *from, size_t *data_end);

/* The connection closed: completes a body delimited by close. */
void http1_close(struct http1_parser *p);

/*
 * Start inside the body of a response whose head was never seen (mcpwire
 * started while it was under way; proto/conn.c found where its framing
 * resumes): at a chunk-size line when chunked, else a body delimited by
 * close. The head reads as a 200 with no kept header fields; no ops->head.
 */
void http1_join_body(struct http1_parser *p, int chunked);

/* Stop parsing: the connection no longer speaks HTTP (after 101). */
void http1_set_opaque(struct http1_parser *p);

/*
 * The text of an Mcp-Method or Mcp-Name value (2026-07-28 streamable-http):
 * printable ASCII as is, or one encoded word "=?base64?B64?=" (the prefix's
 * letters in any case, standard or URL-safe alphabet, padding optional)
 * decoded. At most outsz - 1 bytes and a NUL go to out, never a partial
 * UTF-8 sequence; *truncated tells whether more would have followed.
 * Returns the length written, or -1 for a value that names nothing (empty,
 * bad base64, control bytes or NUL in the result): the body's name is then
 * all there is.
 */
int http1_mcp_text(const char *s, size_t len, char *out, size_t outsz, uint8_t *truncated);

#endif /* MCPWIRE_PROTO_HTTP1_H */
