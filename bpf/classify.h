/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * First-bytes classifier: decides from the first bytes of a TCP connection
 * whether it may carry MCP (HTTP/1.x or bare JSON-RPC) and is worth copying.
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
};

/* Result of matching buf[0, len) against token tok[0, toklen). */
#define MW_TOK_NO 0
#define MW_TOK_YES 1
#define MW_TOK_PREFIX 2 /* buf ran out while it still matched */

static inline int mw_classify_token(const unsigned char *buf, unsigned int len, const char *tok,
				    unsigned int toklen)
{
	unsigned int i;

MW_UNROLL
	for (i = 0; i < 8; i++) {
		if (i >= toklen)
			return MW_TOK_YES;
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
	return maybe ? MW_CLASS_MAYBE : MW_CLASS_NOT_MCP;
}

#endif /* MCPWIRE_CLASSIFY_H */
