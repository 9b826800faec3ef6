// SPDX-License-Identifier: GPL-2.0-only
/*
 * Seed corpus for the fuzz targets, made from the real wire captures
 * (selftests/fixtures/wire-captures, mcp-wire.md) so the fuzzer starts from
 * traffic the reference servers really send instead of having to discover
 * HTTP, chunking, SSE and JSON-RPC on its own.
 *
 *   mkseeds OUTDIR
 *
 * writes OUTDIR/{http1,sse,jsonrpc,pipeline}/<capture>-<n>. The SSE and JSON
 * seeds are cut out of the captures with the real parsers (http1 de-chunks,
 * sse splits events), the pipeline seeds are pipeline_script.h scripts that
 * replay each capture as the server's sockets saw it, and with both ends of
 * every connection on this host. Nothing is committed: the seeds follow the
 * captures and the script format.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "proto/http1.h"
#include "proto/sse.h"
#include "../unit/captures.h"
#include "fuzz_common.h"
#include "pipeline_script.h"

static const char *ms_outdir;
static int ms_count;

struct ms_buf {
	uint8_t *p;
	size_t len, cap;
};

static void ms_put(struct ms_buf *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->len + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p) {
			perror("mkseeds");
			exit(1);
		}
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void ms_byte(struct ms_buf *b, uint8_t c)
{
	ms_put(b, &c, 1);
}

/* hdr: the target's leading bytes (mode, split), then the payload */
static void ms_write(const char *target, const char *name, const uint8_t *hdr, size_t hlen,
		     const void *d, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", ms_outdir, target);
	if (mkdir(path, 0755) && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s-%d", ms_outdir, target, name, ms_count++);
	f = fopen(path, "wb");
	if (!f || fwrite(hdr, 1, hlen, f) != hlen || fwrite(d, 1, n, f) != n || fclose(f)) {
		perror(path);
		exit(1);
	}
}

/* ---- bodies and events cut out with the real parsers ---- */

struct ms_cut {
	const char *name;
	int is_sse, is_json;
	struct ms_buf body;
	struct ms_buf ev;
	struct sse_parser sse;
};

static void ms_sse_data(void *arg, const uint8_t *d, size_t n)
{
	ms_put(&((struct ms_cut *)arg)->ev, d, n);
}

static void ms_sse_dispatch(void *arg, const struct sse_event *e)
{
	struct ms_cut *c = arg;
	static const uint8_t hdr[3] = { 2, 0x5a, 0xa5 };

	if (c->ev.len)
		ms_write("jsonrpc", c->name, hdr, 3, c->ev.p, c->ev.len);
	c->ev.len = 0;
}

static void ms_sse_discard(void *arg)
{
	((struct ms_cut *)arg)->ev.len = 0;
}

static const struct sse_ops ms_sse_ops = {
	.data = ms_sse_data,
	.dispatch = ms_sse_dispatch,
	.discard = ms_sse_discard,
};

static int ms_head(void *arg, const struct http1_head *h)
{
	struct ms_cut *c = arg;
	const char *ct = h->content_type.present ? h->content_type.s : "";

	c->is_sse = !strncmp(ct, "text/event-stream", 17);
	c->is_json = !strncmp(ct, "application/json", 16);
	c->body.len = 0;
	sse_reset(&c->sse);
	return HTTP1_HEAD_OK;
}

static void ms_body(void *arg, const uint8_t *d, size_t n)
{
	struct ms_cut *c = arg;

	ms_put(&c->body, d, n);
	if (c->is_sse)
		sse_feed(&c->sse, d, n);
}

static void ms_body_gap(void *arg, uint64_t n)
{
}

static void ms_done(void *arg, unsigned int flags)
{
	struct ms_cut *c = arg;
	static const uint8_t hdr[3] = { 1, 0x11, 0x22 };

	if (!c->body.len)
		return;
	if (c->is_sse)
		ms_write("sse", c->name, hdr, 3, c->body.p, c->body.len);
	else if (c->is_json)
		ms_write("jsonrpc", c->name, hdr, 3, c->body.p, c->body.len);
	c->body.len = 0;
}

static void ms_error(void *arg, const char *reason)
{
}

static const struct http1_ops ms_http_ops = {
	.head = ms_head,
	.body = ms_body,
	.body_gap = ms_body_gap,
	.done = ms_done,
	.error = ms_error,
};

static void ms_cut_stream(const char *name, int response, const uint8_t *d, size_t n)
{
	struct ms_cut c = { .name = name };
	struct http1_parser p;

	sse_init(&c.sse, &ms_sse_ops, &c);
	http1_init(&p, response ? HTTP1_RESPONSE : HTTP1_REQUEST, &ms_http_ops, &c);
	http1_feed(&p, d, n);
	http1_close(&p);
	http1_destroy(&p);
	free(c.body.p);
	free(c.ev.p);
}

/* ---- pipeline scripts ---- */

static void ms_data_op(struct ms_buf *s, int slot, int kind, const uint8_t *d, size_t n)
{
	while (n) {
		size_t k = n > 0xffff ? 0xffff : n;

		ms_byte(s, PS_OP(kind, slot, 0));
		ms_byte(s, 0); /* next offset */
		ms_byte(s, k & 0xff);
		ms_byte(s, k >> 8);
		ms_put(s, d, k);
		d += k;
		n -= k;
	}
}

/*
 * One script per capture. both: the client's socket (slot 2k+1, mirrored)
 * is on this host too and sees every message as well, so mcp/dedup has to
 * count each once.
 */
static void ms_script(const char *name, const struct capture *cap, uint8_t h0, int both)
{
	struct ms_buf s = { 0 };
	int opened[PS_SLOTS] = { 0 };

	ms_byte(&s, h0);
	ms_byte(&s, 0);
	for (size_t i = 0; i < cap->nsegs; i++) {
		const struct capture_seg *g = &cap->segs[i];
		int srv = ((g->conn - 1) % (PS_SLOTS / 2)) * 2, cli = srv + 1;

		if (!opened[srv]) {
			/* server role, TCP4, 172.29.0.2:3001 <- 172.29.0.3:40000 */
			ms_byte(&s, PS_OP(PS_OPEN, srv, 0));
			ms_byte(&s, 2 | 1 << 2);
			ms_byte(&s, 0 | 3 << 3);
			ms_byte(&s, 1 | 2 << 3);
			opened[srv] = 1;
			if (both) {
				ms_byte(&s, PS_OP(PS_OPEN, cli, 0));
				ms_byte(&s, 1 | PS_OPEN_MIRROR);
				ms_byte(&s, 0);
				ms_byte(&s, 0);
			}
		}
		if (both)
			ms_data_op(&s, cli, g->c2s ? PS_SEND : PS_RECV, g->data, g->len);
		ms_data_op(&s, srv, g->c2s ? PS_RECV : PS_SEND, g->data, g->len);
		ms_byte(&s, PS_OP(PS_TICK, 0, 0));
		ms_byte(&s, 4); /* 5 ms between syscalls */
		if (i % 4 == 3)
			ms_byte(&s, PS_OP(PS_PUBLISH, 0, 0));
	}
	for (int k = 0; k < PS_SLOTS; k++)
		if (opened[k]) {
			ms_byte(&s, PS_OP(PS_CLOSE, k, 0));
			if (both)
				ms_byte(&s, PS_OP(PS_CLOSE, k + 1, 0));
		}
	ms_byte(&s, PS_OP(PS_PUBLISH, 0, 3));
	ms_write("pipeline", name, NULL, 0, s.p, s.len);
	free(s.p);
}

static void ms_capture(const char *file)
{
	struct capture cap;
	char name[64];

	if (capture_load(&cap, file))
		exit(1);
	snprintf(name, sizeof(name), "%.*s", (int)(strcspn(file, ".")), file);
	for (int conn = 1; conn <= cap.max_conn; conn++) {
		for (int c2s = 0; c2s < 2; c2s++) {
			struct ms_buf b = { 0 };
			uint8_t hdr[3] = { (uint8_t)(!c2s | (conn % 4) << 3), (uint8_t)conn, 7 };

			for (size_t i = 0; i < cap.nsegs; i++)
				if (cap.segs[i].conn == conn && cap.segs[i].c2s == c2s)
					ms_put(&b, cap.segs[i].data, cap.segs[i].len);
			if (b.len) {
				ms_write("http1", name, hdr, 3, b.p, b.len);
				ms_cut_stream(name, !c2s, b.p, b.len);
			}
			free(b.p);
		}
	}
	ms_script(name, &cap, 0, 0);
	ms_script(name, &cap, 0, 1);
	ms_script(name, &cap, 0x07 | 1 << 3, 1);
	capture_free(&cap);
}

/* Shapes the captures lack: batches, errors, cancellation, escapes, gaps. */
static const char *const ms_json[] = {
	"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},"
	"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}]",
	"{\"jsonrpc\":\"2.0\",\"id\":\"a\\u00e9\\ud83d\\ude00\",\"error\":{\"code\":-32601,"
	"\"message\":\"Method not found\"}}",
	"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":"
	"{\"requestId\":7,\"reason\":\"x\"}}",
	"{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{\"content\":[],\"isError\":true,"
	"\"task\":{\"taskId\":\"t\"}}}\n{\"jsonrpc\":\"2.0\",\"id\":1e400,\"result\":{}}",
};

static const char ms_sse_synth[] = "\xef\xbb\xbf: comment\r\nretry: 1500\r\nevent: message\r\n"
				   "id: 1\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\ndata\rdata:x\n\n";

static const char ms_http_synth[] =
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
	"5;ext=1\r\n{\"a\":\r\n2\r\n1}\r\n0\r\nTrailer: x\r\n\r\n"
	"HTTP/1.1 204 No Content\r\n\r\n"
	"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
	"HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope"
	"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123" FUZZ_MARK "G\x20"
	"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close";

/* A JSON response compressed with zlib: gzip (wbits 31) or zlib deflate (15),
 * the two codings http1 decodes, which no capture holds. */
static void ms_compressed(int wbits, const char *coding)
{
	static const char body[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[]}}";
	static const uint8_t hdr[3] = { 1, 9, 9 };
	uint8_t z[256];
	char head[256];
	struct ms_buf b = { 0 };
	z_stream zs = { 0 };
	int hl;

	if (deflateInit2(&zs, 9, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		exit(1);
	zs.next_in = (Bytef *)body;
	zs.avail_in = sizeof(body) - 1;
	zs.next_out = z;
	zs.avail_out = sizeof(z);
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
		exit(1);
	hl = snprintf(head, sizeof(head),
		      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		      "Content-Encoding: %s\r\nContent-Length: %lu\r\n\r\n",
		      coding, zs.total_out);
	ms_put(&b, head, (size_t)hl);
	ms_put(&b, z, zs.total_out);
	ms_write("http1", coding, hdr, 3, b.p, b.len);
	deflateEnd(&zs);
	free(b.p);
}

int main(int argc, char **argv)
{
	static const char *const files[] = { "streamable-http.txt", "legacy-sse.txt",
					     "idle-keepalive.txt" };
	static const uint8_t h_json[3] = { 3, 1, 2 }, h_sse[3] = { 0, 3, 4 },
			     h_http[3] = { 1 | 2 << 3, 5, 6 };

	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds OUTDIR\n");
		return 2;
	}
	ms_outdir = argv[1];
	if (mkdir(ms_outdir, 0755) && errno != EEXIST) {
		perror(ms_outdir);
		return 1;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		ms_capture(files[i]);
	for (size_t i = 0; i < sizeof(ms_json) / sizeof(ms_json[0]); i++)
		ms_write("jsonrpc", "synth", h_json, 3, ms_json[i], strlen(ms_json[i]));
	ms_write("sse", "synth", h_sse, 3, ms_sse_synth, sizeof(ms_sse_synth) - 1);
	ms_write("http1", "synth", h_http, 3, ms_http_synth, sizeof(ms_http_synth) - 1);
	ms_compressed(31, "gzip");
	ms_compressed(15, "deflate");
	printf("  SEEDS    %d files in %s\n", ms_count, ms_outdir);
	return 0;
}
