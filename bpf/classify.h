/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * First-bytes classifier: decides from the first bytes of a TCP connection
 * whether it may carry MCP (HTTP/1.x, bare JSON-RPC, or the body of an SSE
 * response already under way when mcpwire started) and is worth copying.
 *
 * Plain C with no includes and no BPF helpers, so the very same code runs in
 * mcpwire.bpf.c (on bytes the probe copied from the syscall buffer) and in
 * the userspace unit test (selftests/unit/test_classify.c). Loops have a
 * constant bound so the verifier can unroll them.
 */
#ifndef MCPWIRE_CLASSIFY_H
#define MCPWIRE_CLASSIFY_H

/* Bytes the probe copies for classification; "OPTIONS " is the longest token
 * and JSON may start after a few bytes of whitespace. */
#define MW_CLASSIFY_LEN 16

/* clang (the BPF compiler) unrolls; gcc builds the unit test and needs not. */
#ifdef __clang__
#define MW_UNROLL _Pragma("unroll")
#else
#define MW_UNROLL
#endif

enum mw_class {
	MW_CLASS_NOT_MCP = 0,	/* cannot be HTTP/1.x or JSON: never look again */
	MW_CLASS_HTTP_REQ = 1,	/* "GET " "POST " ... request line */
	MW_CLASS_HTTP_RESP = 2, /* "HTTP/1." status line */
	MW_CLASS_JSON = 3,	/* '{' or '[' after optional whitespace */
	MW_CLASS_MAYBE = 4,	/* too few bytes, but a prefix of one of the above */
	MW_CLASS_SSE = 5,	/* an SSE response body met mid-stream (see below) */
};

/* Result of matching buf[0, len) against token tok[0, toklen). */
#define MW_TOK_NO 0
#define MW_TOK_YES 1
#define MW_TOK_PREFIX 2 /* buf ran out while it still matched */

/* Hides x's value from clang, so a test of it stays the ordered comparison
 * written. Without it, clang turns "i >= len" into "len == i" once earlier
 * tests ruled out smaller values; the 6.1 verifier cannot prune such an
 * equality against a range (only 6.7's can), walks the impossible branch and
 * rejects the read past the buffer it guards (docs/kernels.md). */
#ifdef __bpf__
#define MW_OPAQUE(x) __asm__ volatile("" : "+r"(x))
#else
#define MW_OPAQUE(x) ((void)0)
#endif

static inline int mw_classify_token(const unsigned char *buf, unsigned int len, const char *tok,
				    unsigned int toklen)
{
	unsigned int i;

MW_UNROLL
	for (i = 0; i < 8; i++) {
		if (i >= toklen)
			return MW_TOK_YES;
		MW_OPAQUE(len);
		if (i >= len)
			return MW_TOK_PREFIX;
		if (buf[i] != (unsigned char)tok[i])
			return MW_TOK_NO;
	}
	return MW_TOK_YES;
}

static inline int mw_classify_is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static inline int mw_classify_is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* Hex digits of a chunk size: 8 is 4 GiB, more is some other hex text. */
#define MW_CHUNK_HEX_MAX 8

/*
 * In BPF the SSE check is a global function, which the verifier checks on its
 * own instead of once per path through the capture program that calls it:
 * inlined, it cost 0.7M verified instructions and seconds of load time
 * (when eight exit programs each carried the capture path; kernel 6.18). Its
 * buffer is then a pointer to a sized struct, which the probe's zeroed stack
 * array is.
 */
struct mw_classify_buf {
	unsigned char b[MW_CLASSIFY_LEN];
};

_Static_assert((MW_CLASSIFY_LEN & (MW_CLASSIFY_LEN - 1)) == 0,
	       "mw_classify_sse_field_at wraps indexes with MW_CLASSIFY_LEN - 1");

#ifdef __bpf__
#define MW_CLASSIFY_SSE __attribute__((noinline))
#else
#define MW_CLASSIFY_SSE static inline
#endif

/* An SSE field (WHATWG §9.2.6) as the MCP SDKs start events and comments
 * with. bare: the first bytes of a close-delimited body, where a comment must
 * be ": " (ts-v1 ": keepalive", sse-starlette ": ping"), since a lone ':'
 * starts every IRC line; after a chunk-size line any ':' will do. */
static inline int mw_classify_sse_field(const unsigned char *buf, unsigned int len, int bare)
{
	static const char toks[5][7] = { "event:", "data:", "id:", "retry:", ": " };
	static const unsigned char toklens[5] = { 6, 5, 3, 6, 2 };
	int maybe = 0;
	unsigned int i;

MW_UNROLL
	for (i = 0; i < 5; i++) {
		int r = mw_classify_token(buf, len, toks[i], i == 4 && !bare ? 1 : toklens[i]);

		if (r == MW_TOK_YES)
			return MW_TOK_YES;
		if (r == MW_TOK_PREFIX)
			maybe = 1;
	}
	return maybe ? MW_TOK_PREFIX : MW_TOK_NO;
}

/*
 * mw_classify_sse_field() on cb->b[off, len): global in BPF, so the verifier
 * checks it once on its own rather than once for each of the 16 offsets the
 * chunk-size line can end at (inlined, that was ~30k of the ~45k instructions
 * it processed for the capture path). The bytes [off, len) are first copied
 * to offset 0, so the match reads at offsets the verifier knows; the index
 * is masked as well, for the verifier, which does not know off + j < len
 * <= MW_CLASSIFY_LEN.
 */
MW_CLASSIFY_SSE int mw_classify_sse_field_at(const struct mw_classify_buf *cb, unsigned int off,
					     unsigned int len, int bare)
{
	struct mw_classify_buf t = { { 0 } };
	const unsigned char *b;
	unsigned int j;

	if (!cb) /* the verifier's view of a global function's pointer */
		return MW_TOK_NO;
	if (len > MW_CLASSIFY_LEN)
		len = MW_CLASSIFY_LEN;
	if (off >= len)
		return off == len ? MW_TOK_PREFIX : MW_TOK_NO; /* as for no bytes */
	b = cb->b;
MW_UNROLL
	for (j = 0; j < MW_CLASSIFY_LEN; j++) {
		if (off + j >= len)
			break;
		t.b[j] = b[(off + j) & (MW_CLASSIFY_LEN - 1)];
	}
	return mw_classify_sse_field(t.b, len - off, bare);
}

/*
 * The body of a text/event-stream response joined mid-stream (a connection
 * open before mcpwire started: Streamable HTTP's GET stream or a POST's SSE
 * answer, the legacy GET /sse stream). Servers write one event per HTTP chunk
 * (mcp-wire.md §5), so a write or a read starts with a chunk-size line: hex
 * digits, an optional extension (BWS ";" ...), CRLF, then an SSE field; a
 * close-delimited body starts with the field itself.
 *
 * Returns MW_CLASS_SSE, MW_CLASS_MAYBE when the bytes end while still
 * matching (the first iovec of Node's writev is just "6d\r\n"), or
 * MW_CLASS_NOT_MCP. Only byte 0 is looked at: a first read that starts inside
 * a chunk is not searched for the next chunk-size line (docs/capture.md).
 * The loop leaves at the CR, so the field is matched at an offset the
 * verifier knows.
 */
MW_CLASSIFY_SSE int mw_classify_sse(const struct mw_classify_buf *cb, unsigned int len)
{
	const unsigned char *buf;
	unsigned int i, st = 0; /* 0 hex digits, 1 BWS after them, 2 extension */
	int r;

	if (!cb) /* the verifier's view of a global function's pointer */
		return MW_CLASS_NOT_MCP;
	buf = cb->b;
	if (len > MW_CLASSIFY_LEN)
		len = MW_CLASSIFY_LEN;
	r = mw_classify_sse_field(buf, len, 1);
	if (r != MW_TOK_NO)
		return r == MW_TOK_YES ? MW_CLASS_SSE : MW_CLASS_MAYBE;

MW_UNROLL
	for (i = 0; i < MW_CLASSIFY_LEN; i++) {
		unsigned char c;

		if (i >= len)
			return MW_CLASS_MAYBE; /* still inside the chunk-size line */
		c = buf[i];
		if (c == '\r' && i > 0)
			break;
		if (st == 0 && mw_classify_is_hex(c)) {
			/* digits only so far: i of them */
			if (i >= MW_CHUNK_HEX_MAX)
				return MW_CLASS_NOT_MCP;
		} else if (i > 0 && st < 2 && (c == ' ' || c == '\t')) {
			st = 1;
		} else if (i > 0 && st < 2 && c == ';') {
			st = 2;
		} else if (st != 2 || c < 0x20 || c == 0x7f) {
			/* chunk-ext is tokens and quoted strings: no CTLs */
			return MW_CLASS_NOT_MCP;
		}
	}
	if (i + 2 >= MW_CLASSIFY_LEN || i + 1 >= len)
		return MW_CLASS_MAYBE; /* the LF or the field is past the bytes */
	if (buf[i + 1] != '\n')
		return MW_CLASS_NOT_MCP;
	r = mw_classify_sse_field_at(cb, i + 2, len, 0);
	return r == MW_TOK_YES ? MW_CLASS_SSE : r == MW_TOK_PREFIX ? MW_CLASS_MAYBE : MW_CLASS_NOT_MCP;
}

/*
 * Classifies the first len bytes (at most MW_CLASSIFY_LEN are looked at) of a
 * connection's first data, in either direction. Returns enum mw_class.
 * Method list per RFC 9110 §9 minus CONNECT/TRACE, which MCP never uses.
 */
static inline int mw_classify(const unsigned char *buf, unsigned int len)
{
	/* Tokens padded to one stride so the table is a flat constant array. */
	static const char toks[8][9] = {
		"GET ", "POST ", "PUT ", "DELETE ", "HEAD ", "OPTIONS ", "PATCH ", "HTTP/1.",
	};
	static const unsigned char toklens[8] = { 4, 5, 4, 7, 5, 8, 6, 7 };
	int maybe = 0;
	unsigned int i;

	if (len > MW_CLASSIFY_LEN)
		len = MW_CLASSIFY_LEN;
	if (len == 0)
		return MW_CLASS_MAYBE;

MW_UNROLL
	for (i = 0; i < 8; i++) {
		int r = mw_classify_token(buf, len, toks[i], toklens[i]);

		if (r == MW_TOK_YES)
			return i == 7 ? MW_CLASS_HTTP_RESP : MW_CLASS_HTTP_REQ;
		if (r == MW_TOK_PREFIX)
			maybe = 1;
	}

MW_UNROLL
	for (i = 0; i < MW_CLASSIFY_LEN; i++) {
		if (i >= len)
			/* Only whitespace so far: JSON may still follow. */
			return MW_CLASS_MAYBE;
		if (buf[i] == '{' || buf[i] == '[')
			return MW_CLASS_JSON;
		if (!mw_classify_is_space(buf[i]))
			break;
	}
	if (maybe)
		return MW_CLASS_MAYBE;
	/* buf is the probe's MW_CLASSIFY_LEN-byte array; no more than len
	 * bytes are read */
	return mw_classify_sse((const struct mw_classify_buf *)buf, len);
}

#endif /* MCPWIRE_CLASSIFY_H */
