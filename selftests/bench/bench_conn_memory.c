// SPDX-License-Identifier: GPL-2.0-only
/*
 * Heap bytes per idle keep-alive MCP connection in the userspace pipeline
 * (stream → proto → mcp → metrics), the unit-level figure behind `make
 * bench`'s memory measurement (docs/performance.md, issue #6). Not a test:
 * prints figures (make microbench).
 *
 * Like conns.mjs against the canned nginx, every connection POSTs one JSON-RPC
 * ping and reads its JSON answer, then stays open and idle. Both ends are on
 * the host there, so each connection is two sockets here: the server's
 * accepted one and the client's connected one, each seeing the same bytes in
 * its own directions. In-use bytes come from glibc's allocator (mallinfo2():
 * uordblks + hblkhd), measured before the first open and after the last
 * answer.
 *
 *   bench_conn_memory [CONNECTIONS]   (default 10000)
 */
#include <linux/types.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcpwire.h"
#include "mcp/mcp.h"
#include "metrics/metrics.h"
#include "proto/conn.h"
#include "stream/stream.h"

/* Absent from builds before parser states were pooled: the same source
 * measures both (before/after figures). */
void proto_work_stats(struct proto_work_stats *out) __attribute__((weak));

static size_t bench_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static size_t bench_request(char *buf, size_t n, unsigned long id)
{
	char body[64];
	int bl = snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":%lu,\"method\":\"ping\"}",
			  id);

	return (size_t)snprintf(buf, n,
				"POST /mcp HTTP/1.1\r\nHost: 10.0.0.1:8080\r\n"
				"Content-Type: application/json\r\n"
				"Accept: application/json, text/event-stream\r\nX-Mcp-Id: %lu\r\n"
				"Content-Length: %d\r\n\r\n%s",
				id, bl, body);
}

static size_t bench_response(char *buf, size_t n, unsigned long id)
{
	char body[64];
	int bl = snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":%lu,\"result\":{}}", id);

	return (size_t)snprintf(buf, n,
				"HTTP/1.1 200 OK\r\nServer: nginx\r\n"
				"Content-Type: application/json\r\nContent-Length: %d\r\n"
				"Connection: keep-alive\r\n\r\n%s",
				bl, body);
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
	struct stream_config scfg = { .max_conns = 65536, .max_body = 16 << 20 };
	struct metrics *m = metrics_new(NULL);
	struct mcp_state *mcp = mcp_new(NULL, m);
	struct stream_table *st;
	uint64_t ts = 1000000000ULL;
	size_t before, after;
	char req[512], rsp[512];

	if (!m || !mcp)
		return 1;
	before = bench_in_use();
	st = stream_table_new(&scfg, mcp_sink(mcp));
	if (!st)
		return 1;
	for (unsigned long i = 0; i < n; i++) {
		uint16_t cport = (uint16_t)(20000 + i % 40000);
		struct stream_conn_info srv = { .role = MW_ROLE_SERVER, .family = MW_FAM_TCP4,
						.lport = 8080, .rport = cport };
		struct stream_conn_info cli = { .role = MW_ROLE_CLIENT, .family = MW_FAM_TCP4,
						.lport = cport, .rport = 8080 };
		struct stream_key ks = { .tgid = 100, .fd = (uint32_t)(10 + i), .gen = 2 * i + 1 };
		struct stream_key kc = { .tgid = 200, .fd = (uint32_t)(10 + i), .gen = 2 * i + 2 };
		size_t qn = bench_request(req, sizeof(req), i + 1);
		size_t rn = bench_response(rsp, sizeof(rsp), i + 1);

		srv.laddr[0] = cli.raddr[0] = 10, srv.laddr[3] = cli.raddr[3] = 1;
		srv.raddr[0] = cli.laddr[0] = 10, srv.raddr[3] = cli.laddr[3] = 2;
		srv.raddr[2] = cli.laddr[2] = (uint8_t)(i / 40000);
		stream_open(st, &ks, &srv, ts);
		stream_open(st, &kc, &cli, ts);
		ts += 10000;
		stream_data(st, &kc, STREAM_SEND, 0, (const uint8_t *)req, qn, 0, ts);
		stream_data(st, &ks, STREAM_RECV, 0, (const uint8_t *)req, qn, 0, ts + 1000);
		ts += 50000;
		stream_data(st, &ks, STREAM_SEND, 0, (const uint8_t *)rsp, rn, 0, ts);
		stream_data(st, &kc, STREAM_RECV, 0, (const uint8_t *)rsp, rn, 0, ts + 1000);
		if (i % 1000 == 999) {
			mcp_tick(mcp, ts);
			metrics_publish(m);
		}
	}
	ts += 2000000000ULL; /* past the dedup window: nothing waits any more */
	mcp_tick(mcp, ts);
	metrics_publish(m);
	after = bench_in_use();

	printf("conn_memory: %lu connections (%lu sockets) open and idle after one ping each\n", n,
	       2 * n);
	printf("conn_memory: %.1f MiB heap in use, %.0f bytes per connection, %.0f per socket\n",
	       (after - before) / 1048576.0, (double)(after - before) / n,
	       (double)(after - before) / (2.0 * n));
	printf("conn_memory: pending requests after run %u (must be 0)\n", mcp_pending_count(mcp));
	if (proto_work_stats) {
		struct proto_work_stats ws;

		proto_work_stats(&ws);
		printf("conn_memory: parser states held %llu, spare %llu, allocated %llu, failed %llu\n",
		       (unsigned long long)ws.in_use, (unsigned long long)ws.spare,
		       (unsigned long long)ws.allocs, (unsigned long long)ws.failed);
	}

	stream_table_free(st);
	mcp_free(mcp);
	metrics_free(m);
	return 0;
}
