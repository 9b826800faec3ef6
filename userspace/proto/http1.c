// SPDX-License-Identifier: GPL-2.0-only
/*
 * Incremental HTTP/1.1 framing (RFC 9112) with Content-Encoding decoding
 * through zlib (RFC 1950/1951/1952).
 *
 * Lines may end in CRLF or a bare LF (RFC 9112 §2.2 lets a recipient accept
 * LF alone); CRs are dropped from lines. Everything is bounded: the start
 * line is kept up to sizeof(line), header values up to HTTP1_VALUE_MAX, the
 * whole head and the trailer section up to HTTP1_HEAD_MAX.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "proto/http1.h"
#include "proto/tail.h"

enum {
	P_IDLE,		/* before a start line: stray CRLFs are skipped (§2.2) */
	P_START,
	P_HDR,
	P_LEN,
	P_CHUNK_SIZE,
	P_CHUNK_EXT,
	P_CHUNK_DATA,
	P_CHUNK_DATA_END,
	P_TRAILER,
	P_CLOSE,
	P_RESYNC,
	P_OPAQUE,
	P_CHUNK_FIND,	/* after a hole of the cap past its chunk (http1_cap_gap) */
};

enum { H_LSTART, H_NAME, H_VWS, H_VAL, H_SKIP };

enum { Z_NONE, Z_ACTIVE, Z_DONE, Z_SNIFF };

enum {
	HDR_NONE,
	HDR_CONTENT_LENGTH,
	HDR_TRANSFER_ENCODING,
	HDR_CONTENT_ENCODING,
	HDR_CONTENT_TYPE,
	HDR_SESSION_ID,
	HDR_PROTOCOL_VERSION,
	HDR_CONNECTION,
	HDR_MCP_METHOD,
	HDR_MCP_NAME,
};

/* Chunk extensions are skipped, but not forever. */
#define HTTP1_CHUNK_EXT_MAX 4096

static const char *const http1_hdr_names[] = {
	[HDR_CONTENT_LENGTH] = "content-length",
	[HDR_TRANSFER_ENCODING] = "transfer-encoding",
	[HDR_CONTENT_ENCODING] = "content-encoding",
	[HDR_CONTENT_TYPE] = "content-type",
	[HDR_SESSION_ID] = "mcp-session-id",
	[HDR_PROTOCOL_VERSION] = "mcp-protocol-version",
	[HDR_CONNECTION] = "connection",
	[HDR_MCP_METHOD] = "mcp-method",
	[HDR_MCP_NAME] = "mcp-name",
};

/*
 * Kept values are of two sizes (Mcp-Name has more room, http1.h), so the
 * places that store one do it through these, on either type.
 */
#define HTTP1_VAL_BEGIN(v) ((v)->present = 1, (v)->truncated = 0, (v)->len = 0)
#define HTTP1_VAL_PUT(v, c)                                                                  \
	do {                                                                                 \
		if ((v)->len < sizeof((v)->s) - 1)                                           \
			(v)->s[(v)->len++] = (c);                                            \
		else                                                                         \
			(v)->truncated = 1;                                                  \
	} while (0)
#define HTTP1_VAL_TRIM(v)                                                                    \
	do {                                                                                 \
		while ((v)->len && ((v)->s[(v)->len - 1] == ' ' || (v)->s[(v)->len - 1] == '\t')) \
			(v)->len--;                                                          \
		(v)->s[(v)->len] = 0;                                                        \
	} while (0)
/* The whole value [b, b + len) at once, trailing whitespace dropped. */
#define HTTP1_VAL_SET(v, b, n)                                                               \
	do {                                                                                 \
		size_t n_ = (n);                                                             \
		(v)->present = 1;                                                            \
		(v)->truncated = n_ > sizeof((v)->s) - 1;                                    \
		if ((v)->truncated)                                                          \
			n_ = sizeof((v)->s) - 1;                                             \
		while (n_ && ((b)[n_ - 1] == ' ' || (b)[n_ - 1] == '\t'))                     \
			n_--;                                                                \
		memcpy((v)->s, (b), n_);                                                     \
		(v)->s[n_] = 0;                                                              \
		(v)->len = n_;                                                               \
	} while (0)

/* Message starts looked for while resynchronising (RFC 9110 §9 methods). */
static const char *const http1_req_starts[] = {
	"GET ", "POST ", "PUT ", "DELETE ", "HEAD ", "OPTIONS ", "PATCH ", "TRACE ", NULL,
};

static const char http1_resp_start[] = "HTTP/1.";

void http1_init(struct http1_parser *p, enum http1_mode mode, const struct http1_ops *ops,
		void *arg)
{
	memset(p, 0, sizeof(*p));
	p->ops = ops;
	p->arg = arg;
	p->mode = mode;
	p->state = P_IDLE;
	p->head.content_length = -1;
}

int http1_idle(const struct http1_parser *p)
{
	return p->state == P_IDLE && !p->quiet && !p->resync;
}

void http1_rebind(struct http1_parser *p, enum http1_mode mode, const struct http1_ops *ops,
		  void *arg)
{
	p->ops = ops;
	p->arg = arg;
	p->mode = mode;
}

void http1_destroy(struct http1_parser *p)
{
	free(p->find);
	p->find = NULL;
	if (p->z) {
		inflateEnd(p->z);
		free(p->z);
		p->z = NULL;
	}
}

static void http1_head_reset(struct http1_parser *p);

void http1_join_body(struct http1_parser *p, int chunked)
{
	http1_head_reset(p);
	p->head.status = 200;
	p->head.chunked = !!chunked;
	p->quiet = 0;
	p->resync = 0;
	p->zmode = Z_NONE;
	p->remaining = 0;
	p->sub = 0;
	p->state = chunked ? P_CHUNK_SIZE : P_CLOSE;
}

void http1_set_opaque(struct http1_parser *p)
{
	p->state = P_OPAQUE;
}

static void http1_enter_resync(struct http1_parser *p)
{
	p->state = P_RESYNC;
	p->win = 0;
	p->quiet = 1;
	p->flags = 0;
	p->zmode = Z_NONE;
}

static void http1_fail(struct http1_parser *p, const char *reason)
{
	if (!p->quiet) {
		p->stats.errors++;
		p->ops->error(p->arg, reason);
	}
	http1_enter_resync(p);
}

static void http1_done(struct http1_parser *p)
{
	unsigned int flags = p->flags;

	if (p->zmode == Z_ACTIVE && !(flags & HTTP1_F_GAP)) {
		/* the compressed stream never reached its end */
		p->ops->error(p->arg, "decompress");
		flags |= HTTP1_F_DECODE_ERR;
	}
	p->state = P_IDLE;
	p->flags = 0;
	p->zmode = Z_NONE;
	p->ops->done(p->arg, flags);
}

static void http1_head_reset(struct http1_parser *p)
{
	struct http1_head *h = &p->head;

	h->is_response = p->mode == HTTP1_RESPONSE;
	h->version_minor = 1;
	h->status = 0;
	h->method[0] = 0;
	h->target[0] = 0;
	h->target_truncated = 0;
	h->content_length = -1;
	h->chunked = 0;
	h->coding = HTTP1_CODING_IDENTITY;
	h->content_type.present = h->session_id.present = h->protocol_version.present = 0;
	h->connection.present = h->transfer_encoding.present = h->content_encoding.present = 0;
	h->content_type.len = h->session_id.len = h->protocol_version.len = 0;
	h->connection.len = h->transfer_encoding.len = h->content_encoding.len = 0;
	h->content_type.s[0] = h->session_id.s[0] = h->protocol_version.s[0] = 0;
	h->connection.s[0] = h->transfer_encoding.s[0] = h->content_encoding.s[0] = 0;
	h->mcp_method.present = h->mcp_name.present = 0;
	h->mcp_method.len = h->mcp_name.len = 0;
	h->mcp_method.s[0] = h->mcp_name.s[0] = 0;
	p->cl_bad = 0;
	p->head_bytes = 0;
	p->line_len = 0;
	p->line_trunc = 0;
	p->flags = 0;
	p->gap_resynced = 0;
}

/* tchar of RFC 9110 §5.6.2; a table because every header name byte asks */
static const uint8_t http1_tchar_tab[256] = {
	['a' ... 'z'] = 1, ['A' ... 'Z'] = 1, ['0' ... '9'] = 1,
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1,
	['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1,
	['~'] = 1,
};

static inline int http1_tchar(uint8_t c)
{
	return http1_tchar_tab[c];
}

/*
 * n >= 8 bytes at s equal the lower-case name (letters and '-') in any case.
 * Eight bytes per compare, the last word overlapping: 0x20 is OR-ed into the
 * letter positions only (bit 0x40 of the name byte tells them from '-'), so
 * only A-Z fold, and a byte that is no tchar never matches.
 */
static int http1_name_ieq(const uint8_t *s, const char *name, size_t n)
{
	uint64_t a, b;
	size_t i = 0;

	for (;;) {
		if (i + 8 > n)
			i = n - 8;
		memcpy(&a, s + i, sizeof(a));
		memcpy(&b, name + i, sizeof(b));
		if ((a | (b & 0x4040404040404040ULL) >> 1) != b)
			return 0;
		if (i + 8 >= n)
			return 1;
		i += 8;
	}
}

/* The kept header whose name is the n bytes at s, in any case, or HDR_NONE.
 * Length and first letter rule out almost every other header. */
static int http1_hdr_lookup(const uint8_t *s, size_t n)
{
	int hdr;

	switch (n) {
	case 8:
		hdr = HDR_MCP_NAME;
		break;
	case 10:
		hdr = (s[0] | 0x20) == 'm' ? HDR_MCP_METHOD : HDR_CONNECTION;
		break;
	case 12:
		hdr = HDR_CONTENT_TYPE;
		break;
	case 14:
		hdr = (s[0] | 0x20) == 'm' ? HDR_SESSION_ID : HDR_CONTENT_LENGTH;
		break;
	case 16:
		hdr = HDR_CONTENT_ENCODING;
		break;
	case 17:
		hdr = HDR_TRANSFER_ENCODING;
		break;
	case 20:
		hdr = HDR_PROTOCOL_VERSION;
		break;
	default:
		return HDR_NONE;
	}
	return http1_name_ieq(s, http1_hdr_names[hdr], n) ? hdr : HDR_NONE;
}

/* status-line = HTTP-version SP status-code SP [ reason-phrase ] (§4) */
static int http1_parse_status_line(struct http1_parser *p)
{
	const char *l = p->line;
	int st;

	if (p->line_len < 12 || memcmp(l, "HTTP/1.", 7) || l[7] < '0' || l[7] > '9' ||
	    l[8] != ' ')
		return -1;
	if (l[9] < '1' || l[9] > '5' || l[10] < '0' || l[10] > '9' || l[11] < '0' ||
	    l[11] > '9')
		return -1;
	if (p->line_len > 12 && l[12] != ' ')
		return -1;
	st = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	p->head.status = st;
	p->head.version_minor = l[7] - '0';
	return 0;
}

/* request-line = method SP request-target SP HTTP-version (§3) */
static int http1_parse_request_line(struct http1_parser *p)
{
	const char *l = p->line, *sp1, *sp2;
	size_t mlen, tlen, len = p->line_len;

	sp1 = memchr(l, ' ', len);
	if (!sp1)
		return -1;
	mlen = sp1 - l;
	if (!mlen || mlen >= HTTP1_METHOD_MAX)
		return -1;
	for (size_t i = 0; i < mlen; i++)
		if (!http1_tchar(l[i]))
			return -1;
	sp2 = memrchr(sp1 + 1, ' ', len - mlen - 1);
	if (p->line_trunc) {
		/* the version fell past the kept bytes: judge by the method */
		tlen = len - mlen - 1;
		p->head.target_truncated = 1;
	} else {
		if (!sp2 || sp2 == sp1 + 1 || len - (sp2 + 1 - l) != 8 ||
		    memcmp(sp2 + 1, "HTTP/1.", 7) || sp2[8] < '0' || sp2[8] > '9')
			return -1;
		tlen = sp2 - sp1 - 1;
		p->head.version_minor = sp2[8] - '0';
	}
	for (size_t i = 0; i < tlen; i++)
		if ((uint8_t)sp1[1 + i] <= ' ' || sp1[1 + i] == 0x7f)
			return -1;
	memcpy(p->head.method, l, mlen);
	p->head.method[mlen] = 0;
	if (tlen >= HTTP1_TARGET_MAX) {
		tlen = HTTP1_TARGET_MAX - 1;
		p->head.target_truncated = 1;
	}
	memcpy(p->head.target, sp1 + 1, tlen);
	p->head.target[tlen] = 0;
	return 0;
}

static struct http1_value *http1_hdr_value(struct http1_parser *p, int hdr)
{
	struct http1_head *h = &p->head;

	switch (hdr) {
	case HDR_TRANSFER_ENCODING:
		return &h->transfer_encoding;
	case HDR_CONTENT_ENCODING:
		return &h->content_encoding;
	case HDR_CONTENT_TYPE:
		return &h->content_type;
	case HDR_SESSION_ID:
		return &h->session_id;
	case HDR_PROTOCOL_VERSION:
		return &h->protocol_version;
	case HDR_CONNECTION:
		return &h->connection;
	case HDR_MCP_METHOD:
		return &h->mcp_method;
	}
	return NULL; /* Content-Length, and Mcp-Name (HTTP1_VAL_*) */
}

static int http1_token_eq(const char *s, size_t len, const char *tok)
{
	return strlen(tok) == len && !strncasecmp(s, tok, len);
}

/* Content-Length = 1*DIGIT (RFC 9110 §8.6); repeats must agree. */
static void http1_content_length(struct http1_parser *p, const char *s, size_t len)
{
	int64_t v = 0;

	if (!len || len > 18) {
		p->cl_bad = 1;
		return;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			p->cl_bad = 1;
			return;
		}
		v = v * 10 + (s[i] - '0');
	}
	if (p->head.content_length >= 0 && p->head.content_length != v)
		p->cl_bad = 1;
	p->head.content_length = v;
}

/* Last coding of a list ("gzip, chunked" → "chunked"), trimmed. */
static void http1_last_coding(const struct http1_value *v, const char **s, size_t *len)
{
	const char *b = v->s, *e = v->s + v->len, *c;

	c = memrchr(b, ',', v->len);
	if (c)
		b = c + 1;
	while (b < e && (*b == ' ' || *b == '\t'))
		b++;
	*s = b;
	*len = e - b;
}

static void http1_deliver(struct http1_parser *p, const uint8_t *data, size_t len);

static int http1_zsetup(struct http1_parser *p)
{
	if (!p->z) {
		p->z = calloc(1, sizeof(*p->z));
		if (!p->z)
			return -1;
		if (inflateInit2(p->z, 16 + MAX_WBITS) != Z_OK) {
			free(p->z);
			p->z = NULL;
			return -1;
		}
	}
	return 0;
}

/* The head is complete: decide the body length (RFC 9112 §6.3). */
static void http1_head_done(struct http1_parser *p)
{
	struct http1_head *h = &p->head;
	const char *tc;
	size_t tclen;
	int action, body = 1;

	if (p->cl_bad) {
		http1_fail(p, "http");
		return;
	}
	if (h->transfer_encoding.present) {
		http1_last_coding(&h->transfer_encoding, &tc, &tclen);
		h->chunked = http1_token_eq(tc, tclen, "chunked");
		if (!h->chunked && !h->is_response) {
			/* §6.3 rule 4: a request must end in chunked */
			http1_fail(p, "http");
			return;
		}
	}
	if (h->content_encoding.present) {
		const struct http1_value *v = &h->content_encoding;

		if (!v->len || http1_token_eq(v->s, v->len, "identity"))
			h->coding = HTTP1_CODING_IDENTITY;
		else if (http1_token_eq(v->s, v->len, "gzip") ||
			 http1_token_eq(v->s, v->len, "x-gzip"))
			h->coding = HTTP1_CODING_GZIP;
		else if (http1_token_eq(v->s, v->len, "deflate"))
			h->coding = HTTP1_CODING_DEFLATE;
		else
			h->coding = HTTP1_CODING_OTHER;
	}
	p->quiet = 0;
	if (p->resync) {
		p->resync = 0;
		p->stats.resyncs++;
	}
	p->stats.messages++;
	action = p->ops->head(p->arg, h);
	if (action == HTTP1_HEAD_OPAQUE || (h->is_response && h->status == 101)) {
		p->ops->done(p->arg, 0);
		p->state = P_OPAQUE;
		return;
	}
	if (h->is_response && (action == HTTP1_HEAD_NO_BODY || h->status < 200 ||
			       h->status == 204 || h->status == 304))
		body = 0;
	else if (h->transfer_encoding.present)
		p->state = h->chunked ? P_CHUNK_SIZE : P_CLOSE;
	else if (h->content_length > 0)
		p->state = P_LEN;
	else if (h->content_length == 0 || !h->is_response)
		body = 0;
	else
		p->state = P_CLOSE;
	if (!body) {
		http1_done(p);
		return;
	}
	p->remaining = h->content_length > 0 ? (uint64_t)h->content_length : 0;
	p->line_len = 0;
	p->zmode = Z_NONE;
	p->zpend_n = 0;
	if (h->coding == HTTP1_CODING_GZIP || h->coding == HTTP1_CODING_DEFLATE) {
		if (http1_zsetup(p)) {
			p->zmode = Z_DONE;
			p->flags |= HTTP1_F_DECODE_ERR;
			p->ops->error(p->arg, "decompress");
		} else if (h->coding == HTTP1_CODING_GZIP) {
			inflateReset2(p->z, 16 + MAX_WBITS);
			p->zmode = Z_ACTIVE;
		} else {
			p->zmode = Z_SNIFF;
		}
	} else if (h->coding == HTTP1_CODING_OTHER) {
		p->zmode = Z_DONE;
		p->flags |= HTTP1_F_DECODE_ERR;
		p->ops->error(p->arg, "decompress");
	}
	if (p->state == P_CHUNK_SIZE)
		p->sub = 0; /* hex digits read */
}

static void http1_inflate(struct http1_parser *p, const uint8_t *data, size_t len)
{
	uint8_t out[8192];
	z_stream *z = p->z;
	int ret;

	z->next_in = (Bytef *)data;
	z->avail_in = len;
	for (;;) {
		size_t produced;

		z->next_out = out;
		z->avail_out = sizeof(out);
		ret = inflate(z, Z_NO_FLUSH);
		produced = sizeof(out) - z->avail_out;
		if (produced)
			p->ops->body(p->arg, out, produced);
		if (ret == Z_STREAM_END) {
			/* bytes after the end of the stream are ignored */
			p->zmode = Z_DONE;
			return;
		}
		if (ret != Z_OK && ret != Z_BUF_ERROR) {
			p->zmode = Z_DONE;
			p->flags |= HTTP1_F_DECODE_ERR;
			p->ops->error(p->arg, "decompress");
			return;
		}
		if (!z->avail_in && z->avail_out)
			return;
		if (ret == Z_BUF_ERROR && !produced)
			return;
	}
}

static void http1_deliver(struct http1_parser *p, const uint8_t *data, size_t len)
{
	if (!len)
		return;
	switch (p->zmode) {
	case Z_NONE:
		p->ops->body(p->arg, data, len);
		return;
	case Z_DONE:
		return;
	case Z_SNIFF:
		/* "deflate" is zlib (RFC 1950) by the spec, raw deflate (RFC
		 * 1951) by some servers: a zlib header is CM 8, CINFO <= 7
		 * and a multiple of 31 over its two bytes. */
		if (!p->zpend_n) {
			p->zpend = data[0];
			p->zpend_n = 1;
			data++;
			len--;
			if (!len)
				return;
		}
		{
			uint8_t b0 = p->zpend, b1 = data[0];
			int zlib = (b0 & 0x0f) == 8 && (b0 >> 4) <= 7 && ((b0 << 8) | b1) % 31 == 0;

			inflateReset2(p->z, zlib ? MAX_WBITS : -MAX_WBITS);
			p->zmode = Z_ACTIVE;
			http1_inflate(p, &p->zpend, 1);
			if (p->zmode != Z_ACTIVE)
				return;
		}
		/* fall through */
	case Z_ACTIVE:
		http1_inflate(p, data, len);
		return;
	}
}

/* Match the bytes seen while resynchronising against message starts. */
static const char *http1_resync_match(struct http1_parser *p)
{
	const char *const *s;

	if (p->mode == HTTP1_RESPONSE) {
		uint64_t pat = 0;

		for (size_t i = 0; i < sizeof(http1_resp_start) - 1; i++)
			pat = pat << 8 | (uint8_t)http1_resp_start[i];
		return (p->win & 0xffffffffffffffULL) == pat ? http1_resp_start : NULL;
	}
	for (s = http1_req_starts; *s; s++) {
		size_t n = strlen(*s);
		uint64_t pat = 0, mask = n == 8 ? ~0ULL : (1ULL << (8 * n)) - 1;

		for (size_t i = 0; i < n; i++)
			pat = pat << 8 | (uint8_t)(*s)[i];
		if ((p->win & mask) == pat)
			return *s;
	}
	return NULL;
}

static void http1_header_line_end(struct http1_parser *p)
{
	struct http1_value *v;

	if (p->hdr == HDR_NONE)
		return;
	if (p->hdr == HDR_MCP_NAME) {
		HTTP1_VAL_TRIM(&p->head.mcp_name);
		return;
	}
	v = http1_hdr_value(p, p->hdr);
	if (!v) {
		/* Content-Length is collected in line[] and checked, not kept */
		while (p->line_len && (p->line[p->line_len - 1] == ' ' ||
				       p->line[p->line_len - 1] == '\t'))
			p->line_len--;
		http1_content_length(p, p->line, p->line_trunc ? 19 : p->line_len);
		return;
	}
	HTTP1_VAL_TRIM(v);
}

static void http1_header_name_end(struct http1_parser *p)
{
	struct http1_value *v;

	p->hdr = HDR_NONE;
	if (p->name_len >= sizeof(p->name))
		return;
	p->hdr = http1_hdr_lookup((const uint8_t *)p->name, p->name_len);
	if (p->hdr == HDR_CONTENT_LENGTH) {
		p->line_len = 0;
		p->line_trunc = 0;
	} else if (p->hdr == HDR_MCP_NAME) {
		HTTP1_VAL_BEGIN(&p->head.mcp_name);
	} else if (p->hdr != HDR_NONE) {
		v = http1_hdr_value(p, p->hdr);
		HTTP1_VAL_BEGIN(v);
	}
}

static void http1_header_byte(struct http1_parser *p, uint8_t c)
{
	switch (p->sub) {
	case H_LSTART:
		if (c == '\r')
			return;
		if (c == '\n') {
			http1_head_done(p);
			return;
		}
		if (c == ' ' || c == '\t') {
			/* obs-fold (§5.2): the continuation is not kept */
			p->hdr = HDR_NONE;
			p->sub = H_SKIP;
			return;
		}
		p->name_len = 0;
		p->sub = H_NAME;
		/* fall through */
	case H_NAME:
		if (c == ':') {
			http1_header_name_end(p);
			p->sub = H_VWS;
			return;
		}
		if (!http1_tchar(c)) {
			http1_fail(p, "http");
			return;
		}
		if (p->name_len < sizeof(p->name))
			p->name[p->name_len] = c | (c >= 'A' && c <= 'Z' ? 0x20 : 0);
		if (p->name_len < UINT8_MAX)
			p->name_len++;
		return;
	case H_VWS:
		if (c == ' ' || c == '\t')
			return;
		p->sub = H_VAL;
		/* fall through */
	case H_VAL:
		if (c == '\n') {
			http1_header_line_end(p);
			p->sub = H_LSTART;
			return;
		}
		if (c == '\r' || p->hdr == HDR_NONE)
			return;
		if (p->hdr == HDR_CONTENT_LENGTH) {
			if (p->line_len < sizeof(p->line) - 1)
				p->line[p->line_len++] = c;
			else
				p->line_trunc = 1;
		} else if (p->hdr == HDR_MCP_NAME) {
			HTTP1_VAL_PUT(&p->head.mcp_name, c);
		} else {
			struct http1_value *v = http1_hdr_value(p, p->hdr);

			HTTP1_VAL_PUT(v, c);
		}
		return;
	case H_SKIP:
		if (c == '\n')
			p->sub = H_LSTART;
		return;
	}
}

/*
 * One whole header line [s, nl] at line start, the common case of a head that
 * arrived in one piece: the same result as http1_header_byte() over each of
 * its bytes, without the per-byte calls. Returns the bytes consumed, or 0 to
 * leave a line the fast path does not handle to the byte state machine:
 * one cut by the end of the buffer, one that would cross HTTP1_HEAD_MAX, an
 * invalid name (the error must come at the same byte) or obs-fold, a kept
 * value with a CR inside.
 */
static size_t http1_header_line(struct http1_parser *p, const uint8_t *s, const uint8_t *end)
{
	const uint8_t *nl = memchr(s, '\n', end - s), *ve, *c, *v;
	struct http1_value *val;
	size_t n, len;
	int hdr;

	if (!nl)
		return 0;
	n = nl + 1 - s;
	if (p->head_bytes + n > HTTP1_HEAD_MAX)
		return 0;
	ve = nl > s && nl[-1] == '\r' ? nl - 1 : nl;
	if (ve == s) {
		p->head_bytes += n;
		http1_head_done(p);
		return n;
	}
	c = memchr(s, ':', ve - s);
	if (!c)
		return 0;
	hdr = http1_hdr_lookup(s, c - s);
	/* a kept name is all tchars; any other must be checked */
	for (const uint8_t *t = s; hdr == HDR_NONE && t < c; t++)
		if (!http1_tchar_tab[*t])
			return 0;
	v = c + 1;
	if (hdr != HDR_NONE) {
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		if (memchr(v, '\r', ve - v))
			return 0;
	}
	p->head_bytes += n;
	p->hdr = HDR_NONE;
	len = ve - v;
	if (hdr == HDR_CONTENT_LENGTH) {
		if (len > sizeof(p->line) - 1) {
			/* as the byte path, which keeps sizeof(line) - 1 bytes */
			http1_content_length(p, (const char *)v, 19);
			return n;
		}
		while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
			len--;
		http1_content_length(p, (const char *)v, len);
	} else if (hdr == HDR_MCP_NAME) {
		HTTP1_VAL_SET(&p->head.mcp_name, v, len);
	} else if (hdr != HDR_NONE) {
		val = http1_hdr_value(p, hdr);
		HTTP1_VAL_SET(val, v, len);
	}
	return n;
}

static void http1_start_line_end(struct http1_parser *p)
{
	int ret;

	while (p->line_len && p->line[p->line_len - 1] == '\r')
		p->line_len--;
	p->line[p->line_len] = 0;
	if (p->mode == HTTP1_RESPONSE)
		ret = http1_parse_status_line(p);
	else
		ret = http1_parse_request_line(p);
	if (ret) {
		http1_fail(p, "http");
		return;
	}
	/* a well-formed start line is no false positive of the resync scan:
	 * errors in its header section are reported again */
	p->quiet = 0;
	p->state = P_HDR;
	p->sub = H_LSTART;
}

static void http1_chunk_size_end(struct http1_parser *p)
{
	if (!p->sub) {
		http1_fail(p, "chunked");
		return;
	}
	if (!p->remaining) {
		p->state = P_TRAILER;
		p->sub = 0; /* at line start */
		p->trailer_bytes = 0;
	} else {
		p->state = P_CHUNK_DATA;
	}
}

static int http1_hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

long http1_find_chunk_line(const uint8_t *buf, size_t len, uint32_t *from, size_t *data_end)
{
	size_t undecided = len;

	for (size_t q = *from; q < len; q++) {
		size_t de, i = q, nd = 0;
		uint64_t sz = 0;

		if (q == 0 || (q == 1 && buf[0] == '\n'))
			de = 0; /* the hole ended at the line, or in its CRLF */
		else if (q >= 2 && buf[q - 1] == '\n' && buf[q - 2] == '\r')
			de = q - 2;
		else
			continue;
		while (i < len && http1_hexval(buf[i]) >= 0 && nd <= 16) {
			sz = sz << 4 | http1_hexval(buf[i]);
			nd++;
			i++;
		}
		if (i == len)
			goto wait;
		if (!nd || nd > 16)
			continue;
		if (buf[i] == ';' || buf[i] == ' ' || buf[i] == '\t') {
			while (i < len && buf[i] != '\r' && buf[i] != '\n' && i - q < 4096)
				i++;
			if (i == len)
				goto wait;
		}
		if (buf[i] != '\r')
			continue;
		if (i + 1 >= len)
			goto wait;
		if (buf[i + 1] != '\n')
			continue;
		i += 2;
		if (!sz) {
			*data_end = de;
			return q;
		}
		if (sz > TAIL_MAX || i + sz + 3 > TAIL_MAX)
			continue; /* a size no held bytes can confirm */
		if (i + sz + 3 > len)
			goto wait;
		if (buf[i + sz] == '\r' && buf[i + sz + 1] == '\n' && http1_hexval(buf[i + sz + 2]) >= 0) {
			*data_end = de;
			return q;
		}
		continue;
wait:
		/* a later line that checks out is taken meanwhile: the one
		 * at the start may be hex-looking data cut by the hole */
		if (undecided == len)
			undecided = q;
	}
	*from = undecided;
	return -1;
}

/*
 * P_CHUNK_FIND: bytes after a hole that swallowed chunk framing are data of
 * some chunk up to a chunk-size line that http1_find_chunk_line() trusts. They are
 * held until it decides; then the data goes to the body and the rest is
 * parsed as usual from that line. Returns the bytes consumed.
 */
static size_t http1_chunk_find(struct http1_parser *p, const uint8_t *s, size_t len)
{
	size_t n = len, data_end;
	long q;

	if (n > TAIL_MAX - p->find_len)
		n = TAIL_MAX - p->find_len;
	if (!p->find) {
		p->find = malloc(TAIL_MAX);
		if (!p->find) {
			http1_fail(p, "chunked");
			return len;
		}
	}
	memcpy(p->find + p->find_len, s, n);
	p->find_len += n;
	q = http1_find_chunk_line(p->find, p->find_len, &p->find_from, &data_end);
	if (q == -1) {
		if (p->find_len == TAIL_MAX)
			http1_fail(p, "chunked");
		return n;
	}
	if (q < 0) {
		http1_fail(p, "chunked");
		return n;
	}
	http1_deliver(p, p->find, data_end);
	p->state = P_CHUNK_SIZE;
	p->sub = 0;
	p->remaining = 0;
	/* the held bytes from the chunk-size line on, parsed as usual (no
	 * hole can come in between, so find is not written meanwhile) */
	http1_feed(p, p->find + q, p->find_len - (size_t)q);
	p->find_len = 0;
	return n;
}

void http1_feed(struct http1_parser *p, const void *data, size_t len)
{
	const uint8_t *s = data, *end = s + len;

	while (s < end) {
		uint8_t c = *s;
		size_t n;

		switch (p->state) {
		case P_OPAQUE:
			return;
		case P_IDLE:
			if (c == '\r' || c == '\n') {
				s++;
				break;
			}
			http1_head_reset(p);
			p->state = P_START;
			/* fall through */
		case P_START: {
			const uint8_t *nl = memchr(s, '\n', end - s);
			const uint8_t *stop = nl ? nl : end;

			n = stop - s;
			p->head_bytes += n + !!nl;
			if (p->line_len + n > sizeof(p->line) - 1) {
				p->line_trunc = 1;
				memcpy(p->line + p->line_len, s, sizeof(p->line) - 1 - p->line_len);
				p->line_len = sizeof(p->line) - 1;
			} else {
				memcpy(p->line + p->line_len, s, n);
				p->line_len += n;
			}
			s = nl ? nl + 1 : end;
			if (p->head_bytes > HTTP1_HEAD_MAX)
				http1_fail(p, "http");
			else if (nl)
				http1_start_line_end(p);
			break;
		}
		case P_HDR:
			if (p->sub == H_LSTART) {
				n = http1_header_line(p, s, end);
				if (n) {
					s += n;
					break;
				}
			}
			s++;
			if (++p->head_bytes > HTTP1_HEAD_MAX) {
				http1_fail(p, "http");
				break;
			}
			http1_header_byte(p, c);
			break;
		case P_LEN:
			n = end - s;
			if (n > p->remaining)
				n = p->remaining;
			p->remaining -= n;
			http1_deliver(p, s, n);
			s += n;
			if (!p->remaining)
				http1_done(p);
			break;
		case P_CHUNK_SIZE: {
			int d = -1;

			s++;
			if (c >= '0' && c <= '9')
				d = c - '0';
			else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
				d = (c | 0x20) - 'a' + 10;
			if (d >= 0) {
				if (p->remaining >> 56) {
					http1_fail(p, "chunked");
					break;
				}
				p->remaining = p->remaining << 4 | d;
				if (p->sub < UINT8_MAX)
					p->sub++;
			} else if (c == ';' || c == ' ' || c == '\t') {
				p->state = P_CHUNK_EXT;
				p->trailer_bytes = 0;
			} else if (c == '\n') {
				http1_chunk_size_end(p);
			} else if (c != '\r') {
				http1_fail(p, "chunked");
			}
			break;
		}
		case P_CHUNK_EXT:
			s++;
			if (c == '\n')
				http1_chunk_size_end(p);
			else if (++p->trailer_bytes > HTTP1_CHUNK_EXT_MAX)
				http1_fail(p, "chunked");
			break;
		case P_CHUNK_DATA:
			n = end - s;
			if (n > p->remaining)
				n = p->remaining;
			p->remaining -= n;
			http1_deliver(p, s, n);
			s += n;
			if (!p->remaining)
				p->state = P_CHUNK_DATA_END;
			break;
		case P_CHUNK_DATA_END:
			s++;
			if (c == '\n') {
				p->state = P_CHUNK_SIZE;
				p->sub = 0;
			} else if (c != '\r') {
				http1_fail(p, "chunked");
			}
			break;
		case P_TRAILER:
			/* trailer fields (§7.1.2) are skipped; sub: 0 at line start */
			s++;
			if (++p->trailer_bytes > HTTP1_HEAD_MAX) {
				http1_fail(p, "chunked");
				break;
			}
			if (c == '\n') {
				if (!p->sub)
					http1_done(p);
				p->sub = 0;
			} else if (c != '\r') {
				p->sub = 1;
			}
			break;
		case P_CLOSE:
			http1_deliver(p, s, end - s);
			s = end;
			break;
		case P_CHUNK_FIND:
			n = http1_chunk_find(p, s, end - s);
			s += n;
			break;
		case P_RESYNC: {
			const char *m;

			s++;
			p->win = p->win << 8 | c;
			m = http1_resync_match(p);
			if (m) {
				http1_head_reset(p);
				p->resync = 1;
				p->line_len = strlen(m);
				memcpy(p->line, m, p->line_len);
				p->head_bytes = p->line_len;
				p->state = P_START;
			}
			break;
		}
		}
	}
}

void http1_gap(struct http1_parser *p, uint64_t nbytes)
{
	switch (p->state) {
	case P_OPAQUE:
	case P_RESYNC:
		return;
	case P_CLOSE:
		break;
	case P_LEN:
	case P_CHUNK_DATA:
		if (nbytes <= p->remaining)
			break;
		/* fall through */
	default:
		http1_fail(p, "gap");
		return;
	}
	p->stats.gap_bytes_skipped += nbytes;
	p->flags |= HTTP1_F_GAP;
	if (p->zmode != Z_NONE)
		p->zmode = Z_DONE; /* a compressed stream cannot continue after a hole */
	p->ops->body_gap(p->arg, nbytes);
	if (p->state == P_CLOSE)
		return;
	p->remaining -= nbytes;
	if (p->remaining)
		return;
	if (p->state == P_LEN)
		http1_done(p);
	else
		p->state = P_CHUNK_DATA_END;
}

void http1_cap_gap(struct http1_parser *p, uint64_t nbytes)
{
	if (p->state != P_CHUNK_DATA || nbytes <= p->remaining) {
		http1_gap(p, nbytes);
		return;
	}
	p->stats.gap_bytes_skipped += nbytes;
	p->flags |= HTTP1_F_GAP;
	p->gap_resynced = 1;
	if (p->zmode != Z_NONE)
		p->zmode = Z_DONE;
	p->ops->body_gap(p->arg, nbytes);
	if (p->state != P_CHUNK_DATA)
		return; /* the consumer gave up on the connection */
	p->state = P_CHUNK_FIND;
	p->remaining = 0;
	p->find_len = 0;
	p->find_from = 0;
}

int http1_gap_resynced(const struct http1_parser *p)
{
	return p->gap_resynced;
}

void http1_close(struct http1_parser *p)
{
	if (p->state == P_CLOSE) {
		p->flags |= HTTP1_F_CLOSED;
		http1_done(p);
	}
}

static int http1_b64_val(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int http1_mcp_text(const char *s, size_t len, char *out, size_t outsz, uint8_t *truncated)
{
	static const char pre[] = "=?base64?";
	const size_t plen = sizeof(pre) - 1;
	size_t n = 0, cut;
	uint32_t acc = 0;
	int bits = 0;

	*truncated = 0;
	if (!outsz)
		return -1;
	out[0] = 0;
	if (len >= plen + 2 && !strncasecmp(s, pre, plen) && s[len - 2] == '?' && s[len - 1] == '=') {
		const uint8_t *b = (const uint8_t *)s + plen, *e = (const uint8_t *)s + len - 2;

		while (e > b && e[-1] == '=')
			e--; /* padding */
		for (; b < e; b++) {
			int v = http1_b64_val(*b);
			uint8_t c;

			if (v < 0)
				return -1;
			acc = acc << 6 | v;
			bits += 6;
			if (bits < 8)
				continue;
			bits -= 8;
			c = acc >> bits;
			if (c < 0x20 || c == 0x7f)
				return -1; /* a name has no control characters */
			if (n < outsz - 1)
				out[n++] = c;
			else
				*truncated = 1;
		}
		/* leftover bits of a well-formed word are zero padding (RFC 4648 §3.5) */
		if (bits >= 6)
			return -1;
	} else {
		for (size_t i = 0; i < len; i++) {
			uint8_t c = s[i];

			/* field values are visible ASCII (RFC 9110 §5.5); raw
			 * non-ASCII is what the encoded word exists for */
			if (c < 0x20 || c >= 0x7f)
				return -1;
			if (n < outsz - 1)
				out[n++] = c;
			else
				*truncated = 1;
		}
	}
	if (*truncated) {
		/* drop a UTF-8 sequence the cut left incomplete */
		cut = n;
		while (cut && ((uint8_t)out[cut - 1] & 0xc0) == 0x80 && n - cut < 3)
			cut--;
		if (cut && (uint8_t)out[cut - 1] >= 0xc0) {
			uint8_t lead = out[cut - 1];
			size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;

			if (n - (cut - 1) < need)
				n = cut - 1;
		}
	}
	out[n] = 0;
	return n ? (int)n : -1;
}
