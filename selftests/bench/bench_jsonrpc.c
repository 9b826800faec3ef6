// SPDX-License-Identifier: GPL-2.0-only
/*
 * Cost of proto/jsonrpc per small message (not a test: prints figures).
 * Build and run: make microbench
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "proto/jsonrpc.h"

static unsigned long bench_msgs;

static void bench_count(void *arg, const struct jsonrpc_msg *m)
{
	bench_msgs += m->kind != JSONRPC_INVALID;
}

static double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void bench_one(const char *label, const char *msg, unsigned long iters)
{
	struct jsonrpc_scan sc;
	size_t len = strlen(msg);
	double t0, t1;

	jsonrpc_scan_init(&sc, bench_count, NULL);
	bench_msgs = 0;
	t0 = bench_now();
	for (unsigned long i = 0; i < iters; i++) {
		jsonrpc_scan_reset(&sc);
		jsonrpc_scan_feed(&sc, msg, len);
		jsonrpc_scan_end(&sc);
	}
	t1 = bench_now();
	printf("%-28s %4zu B  %7.1f ns/msg  %6.2f ns/B  (%lu msgs)\n", label, len,
	       (t1 - t0) * 1e9 / iters, (t1 - t0) * 1e9 / iters / len, bench_msgs);
}

int main(void)
{
	bench_one("tools/call request",
		  "{\"method\":\"tools/call\",\"params\":{\"name\":\"trigger-long-running-operation\","
		  "\"arguments\":{\"duration\":1,\"steps\":2},\"_meta\":{\"progressToken\":4}},"
		  "\"jsonrpc\":\"2.0\",\"id\":4}",
		  2000000);
	bench_one("tools/call result",
		  "{\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"Long running operation "
		  "completed. Duration: 1 seconds, Steps: 2.\"}]},\"jsonrpc\":\"2.0\",\"id\":4}",
		  2000000);
	bench_one("progress notification",
		  "{\"method\":\"notifications/progress\",\"params\":{\"progress\":1,\"total\":2,"
		  "\"progressToken\":4},\"jsonrpc\":\"2.0\"}",
		  2000000);
	bench_one("initialize request",
		  "{\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\","
		  "\"capabilities\":{},\"clientInfo\":{\"name\":\"wire-probe\",\"version\":\"0.1.0\"}},"
		  "\"jsonrpc\":\"2.0\",\"id\":0}",
		  2000000);
	return 0;
}
