// SPDX-License-Identifier: GPL-2.0-only
/*
 * Userspace cost per MCP message through the whole pipeline the live capture
 * drives: stream → proto (HTTP/1.1, chunked, SSE, JSON-RPC) → mcp (dedup,
 * pairing, sessions) → metrics, with a snapshot published every 100 ms of
 * virtual time. Not a test: prints figures (make microbench).
 *
 * The traffic is what server-everything and the ts-v1 client put on the wire
 * (mcp-wire.md §5): keep-alive POSTs with a JSON tools/call, each answered
 * 200 text/event-stream, chunked, one SSE event per chunk, seen from the
 * server's accepted socket as the kernel delivers it (one event per syscall).
 */
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mcpwire.h"
#include "mcp/mcp.h"
#include "metrics/metrics.h"
#include "stream/stream.h"

#define BENCH_CONNS 16
/* Distinct request/response pairs generated before the clock starts, so the
 * timed loop measures the pipeline and not snprintf. Ids run from
 * BENCH_ID_BASE: six digits, like most ids of a long run, and an id comes back
 * only long after its call ended, as on a real session. */
#define BENCH_RING 1024
#define BENCH_ID_BASE 100000
#define BENCH_MSG_MAX 1024

static double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t bench_request(char *buf, size_t n, unsigned long id)
{
	char body[256];
	int bl = snprintf(body, sizeof(body),
			  "{\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":"
			  "{\"message\":\"hello\"},\"_meta\":{\"progressToken\":%lu}},"
			  "\"jsonrpc\":\"2.0\",\"id\":%lu}",
			  id, id);

	return (size_t)snprintf(buf, n,
				"POST /mcp HTTP/1.1\r\nhost: 172.29.0.2:3001\r\n"
				"connection: keep-alive\r\ncontent-type: application/json\r\n"
				"accept: application/json, text/event-stream\r\n"
				"mcp-session-id: 761c9642-a672-463b-ab1b-ce9435a03ab9\r\n"
				"mcp-protocol-version: 2025-11-25\r\n"
				"content-length: %d\r\n\r\n%s",
				bl, body);
}

static size_t bench_response(char *buf, size_t n, unsigned long id)
{
	char ev[512];
	int el = snprintf(ev, sizeof(ev),
			  "event: message\nid: b44bd318-35d0-42a4-bbdf-b6aeac4a30b1\n"
			  "data: {\"result\":{\"content\":[{\"type\":\"text\",\"text\":"
			  "\"Echo: hello\"}]},\"jsonrpc\":\"2.0\",\"id\":%lu}\n\n",
			  id);

	return (size_t)snprintf(buf, n,
				"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
				"cache-control: no-cache, no-transform\r\n"
				"mcp-session-id: 761c9642-a672-463b-ab1b-ce9435a03ab9\r\n"
				"Transfer-Encoding: chunked\r\n\r\n"
				"%x\r\n%s\r\n0\r\n\r\n",
				el, ev);
}

int main(int argc, char **argv)
{
	unsigned long calls = argc > 1 ? strtoul(argv[1], NULL, 10) : 500000;
	struct stream_config scfg = { .max_conns = 1024, .max_body = 16 << 20 };
	struct metrics *m = metrics_new(NULL);
	struct mcp_state *mcp = mcp_new(NULL, m);
	struct stream_table *st = stream_table_new(&scfg, mcp_sink(mcp));
	struct stream_key keys[BENCH_CONNS];
	uint64_t off[BENCH_CONNS][2] = { { 0 } };
	uint64_t ts = 1000000000ULL, next_pub = 0;
	static char req[BENCH_RING][BENCH_MSG_MAX], rsp[BENCH_RING][BENCH_MSG_MAX];
	size_t reqn[BENCH_RING], rspn[BENCH_RING];
	unsigned long bytes = 0;
	double t0, t1;

	if (!st)
		return 1;
	for (int i = 0; i < BENCH_CONNS; i++) {
		struct stream_conn_info info = { .role = MW_ROLE_SERVER, .family = MW_FAM_TCP4,
						 .lport = 3001, .rport = (uint16_t)(40000 + i) };

		info.laddr[0] = 172, info.laddr[1] = 29, info.laddr[3] = 2;
		info.raddr[0] = 172, info.raddr[1] = 29, info.raddr[3] = 3;
		keys[i] = (struct stream_key){ .tgid = 100, .fd = (uint32_t)(10 + i), .gen = (uint64_t)i + 1 };
		stream_open(st, &keys[i], &info, ts);
	}

	for (int i = 0; i < BENCH_RING; i++) {
		reqn[i] = bench_request(req[i], BENCH_MSG_MAX, BENCH_ID_BASE + i);
		rspn[i] = bench_response(rsp[i], BENCH_MSG_MAX, BENCH_ID_BASE + i);
	}

	t0 = bench_now();
	for (unsigned long id = 0; id < calls; id++) {
		int c = (int)(id % BENCH_CONNS), r = (int)(id % BENCH_RING);
		size_t qn = reqn[r], rn = rspn[r];

		ts += 20000; /* 20 µs of virtual time per call */
		stream_data(st, &keys[c], STREAM_RECV, off[c][0], (const uint8_t *)req[r], qn, 0,
			    ts);
		off[c][0] += qn;
		ts += 30000;
		stream_data(st, &keys[c], STREAM_SEND, off[c][1], (const uint8_t *)rsp[r], rn, 0,
			    ts);
		off[c][1] += rn;
		bytes += qn + rn;
		if (ts >= next_pub) {
			mcp_tick(mcp, ts);
			metrics_publish(m);
			next_pub = ts + 100000000ULL;
		}
	}
	t1 = bench_now();
	metrics_publish(m);

	printf("pipeline: %lu calls (%lu messages, %.1f MiB) in %.3f s\n", calls, 2 * calls,
	       bytes / 1048576.0, t1 - t0);
	printf("pipeline: %.0f ns per message, %.2f M messages/s on one core\n",
	       (t1 - t0) * 1e9 / (2.0 * calls), 2.0 * calls / (t1 - t0) / 1e6);
	printf("pipeline: pending after run %u (must be 0)\n", mcp_pending_count(mcp));

	stream_table_free(st);
	mcp_free(mcp);
	metrics_free(m);
	return 0;
}
