// SPDX-License-Identifier: GPL-2.0-only
/*
 * capture/pcap: the offline source. Each test writes a capture file with
 * libpcap (pcap_open_dead + pcap_dump) holding the reference server's real
 * bytes (fixtures/wire-captures/streamable-http.txt) cut into TCP segments,
 * both directions, with the handshake and the FINs; then replays it into the
 * real stream → proto (→ mcp → metrics) stack and checks the messages or the
 * exposition exactly. Variants: link types (Ethernet, 802.1Q, SLL, SLL2, raw
 * IP, loopback), IPv6, sequence numbers wrapping, retransmissions, segments
 * out of order, a lost segment, a start mid-connection, a short snaplen, and
 * capture time driving request expiry.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>
#include <pcap/pcap.h>
#include <cmocka.h>

#include "captures.h"
#include "mcpwire.h"
#include "capture/pcap.h"
#include "mcp/mcp.h"
#include "metrics/metrics.h"
#include "proto/msg.h"
#include "stream/stream.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

/* ------------------------------------------------------------ the writer */

struct opts {
	int dlt;
	int v6;
	int vlan;	   /* 802.1Q tag on Ethernet */
	uint32_t seg;	   /* payload bytes per segment */
	int retransmit;	   /* every segment sent again after the next one */
	int reorder;	   /* segments of a record swapped in pairs */
	int lose_rec;	   /* record index (1-based) one segment of which is lost */
	int lose_seg;	   /* which segment of it (0-based) */
	int no_syn;	   /* the file starts after the handshakes */
	uint32_t snaplen;  /* 0: 262144 */
	uint64_t step_ns;  /* capture time between records [1 ms] */
	uint32_t isn_base; /* sequence numbers start here (wrap tests) */
};

struct conn {
	int seen;
	uint32_t cseq, sseq; /* next sequence number of client and server */
};

struct writer {
	const struct opts *o;
	pcap_t *p;
	pcap_dumper_t *d;
	uint64_t t_ns;
	struct conn conns[8];
};

#define SYN 0x02
#define ACK 0x10
#define FIN 0x01
#define PSH 0x08

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8, p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

/* Client 10.0.0.2:(40000+conn) (fd00::2), server 10.0.0.1:3001 (fd00::1). */
static void w_packet(struct writer *w, int conn, int from_client, uint32_t seq, uint8_t flags,
		     const uint8_t *data, uint32_t len)
{
	const struct conn *cn = &w->conns[conn];
	static uint8_t buf[70000];
	const struct opts *o = w->o;
	uint32_t hl = 0, ipl, snap = o->snaplen ? o->snaplen : 262144;
	uint16_t eth = o->v6 ? 0x86dd : 0x0800;
	struct pcap_pkthdr h;
	uint8_t caddr[16] = { 0 }, saddr[16] = { 0 }, *ip, *tcp;
	uint16_t cport = (uint16_t)(40000 + conn), sport = 3001;

	if (o->v6) {
		caddr[0] = saddr[0] = 0xfd;
		caddr[15] = 2, saddr[15] = 1;
	} else {
		caddr[0] = saddr[0] = 10;
		caddr[3] = 2, saddr[3] = 1;
	}
	memset(buf, 0, 64);
	switch (o->dlt) {
	case DLT_EN10MB:
		memcpy(buf, "\x02\x42\xac\x11\x00\x02\x02\x42\xac\x11\x00\x03", 12);
		if (o->vlan) {
			put16(buf + 12, 0x8100);
			put16(buf + 14, 42);
			hl = 4;
		}
		put16(buf + 12 + hl, eth);
		hl += 14;
		break;
	case DLT_LINUX_SLL:
		put16(buf, from_client ? 0 : 4); /* to us / outgoing */
		put16(buf + 2, 1);
		put16(buf + 4, 6);
		put16(buf + 14, eth);
		hl = 16;
		break;
	case DLT_LINUX_SLL2:
		put16(buf, eth);
		put32(buf + 4, 3); /* ifindex */
		put16(buf + 8, 1);
		buf[10] = from_client ? 0 : 4;
		buf[11] = 6;
		hl = 20;
		break;
	case DLT_NULL: /* host byte order: little-endian here */
		buf[0] = o->v6 ? 10 : 2;
		hl = 4;
		break;
	default: /* DLT_RAW */
		break;
	}
	ip = buf + hl;
	if (o->v6) {
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)(20 + len));
		ip[6] = 6;
		ip[7] = 64;
		memcpy(ip + 8, from_client ? caddr : saddr, 16);
		memcpy(ip + 24, from_client ? saddr : caddr, 16);
		ipl = 40;
	} else {
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(20 + 20 + len));
		put16(ip + 6, 0x4000); /* DF */
		ip[8] = 64;
		ip[9] = 6;
		memcpy(ip + 12, from_client ? caddr : saddr, 4);
		memcpy(ip + 16, from_client ? saddr : caddr, 4);
		ipl = 20;
	}
	tcp = ip + ipl;
	memset(tcp, 0, 20);
	put16(tcp, from_client ? cport : sport);
	put16(tcp + 2, from_client ? sport : cport);
	put32(tcp + 4, seq);
	/* what the peer sent so far, all of it received */
	put32(tcp + 8, (flags & ACK) ? (from_client ? cn->sseq : cn->cseq) : 0);
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	put16(tcp + 14, 65535);
	memcpy(tcp + 20, data, len);

	h.len = hl + ipl + 20 + len;
	h.caplen = h.len < snap ? h.len : snap;
	/* nanosecond file: tv_usec carries nanoseconds */
	h.ts.tv_sec = (time_t)(w->t_ns / 1000000000ull);
	h.ts.tv_usec = (suseconds_t)(w->t_ns % 1000000000ull);
	pcap_dump((u_char *)w->d, &h, buf);
	w->t_ns += 1000; /* 1 µs between packets */
}

static void w_open(struct writer *w, int conn)
{
	struct conn *c = &w->conns[conn];
	uint32_t base = w->o->isn_base;

	c->seen = 1;
	c->cseq = base + 1000u * (uint32_t)conn;
	c->sseq = base + 0x10000u * (uint32_t)conn + 7;
	if (!w->o->no_syn) {
		w_packet(w, conn, 1, c->cseq, SYN, NULL, 0);
		w_packet(w, conn, 0, c->sseq, SYN | ACK, NULL, 0);
		w_packet(w, conn, 1, c->cseq + 1, ACK, NULL, 0);
	}
	c->cseq++;
	c->sseq++;
}

struct segref {
	uint32_t seq, len;
	const uint8_t *data;
};

/* One record of the capture file as TCP segments, perturbed per opts. */
static void w_record(struct writer *w, int rec, const struct capture_seg *s)
{
	const struct opts *o = w->o;
	struct conn *c = &w->conns[s->conn];
	uint32_t *seq = s->c2s ? &c->cseq : &c->sseq;
	struct segref segs[256];
	size_t n = 0;

	if (!c->seen)
		w_open(w, s->conn);
	for (size_t off = 0; off < s->len; off += o->seg) {
		uint32_t len = s->len - off < o->seg ? (uint32_t)(s->len - off) : o->seg;

		assert_true(n < 256);
		segs[n++] = (struct segref){ *seq + (uint32_t)off, len, s->data + off };
	}
	*seq += (uint32_t)s->len;
	if (o->reorder)
		for (size_t i = 0; i + 1 < n; i += 2) {
			struct segref t = segs[i];

			segs[i] = segs[i + 1];
			segs[i + 1] = t;
		}
	for (size_t i = 0; i < n; i++) {
		if (rec == o->lose_rec && (int)i == o->lose_seg)
			continue;
		w_packet(w, s->conn, s->c2s, segs[i].seq, ACK | PSH, segs[i].data, segs[i].len);
		if (o->retransmit && i > 0)
			w_packet(w, s->conn, s->c2s, segs[i - 1].seq, ACK | PSH, segs[i - 1].data,
				 segs[i - 1].len);
	}
	if (o->retransmit && n)
		w_packet(w, s->conn, s->c2s, segs[n - 1].seq, ACK | PSH, segs[n - 1].data,
			 segs[n - 1].len);
	/* the peer's ACK: no payload, nothing to deliver */
	w_packet(w, s->conn, !s->c2s, s->c2s ? c->sseq : c->cseq, ACK, NULL, 0);
	w->t_ns += o->step_ns ? o->step_ns : 1000000;
}

/* Writes the whole capture file; returns its path (static buffer). */
static const char *write_pcap(const struct opts *o)
{
	static char path[64];
	struct capture cap;
	struct writer w = { .o = o, .t_ns = 1700000000ull * 1000000000ull };
	int fd;

	strcpy(path, "/tmp/mcpwire-test-pcap.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(capture_load(&cap, "streamable-http.txt"), 0);
	w.p = pcap_open_dead_with_tstamp_precision(o->dlt, 262144, PCAP_TSTAMP_PRECISION_NANO);
	assert_non_null(w.p);
	w.d = pcap_dump_open(w.p, path);
	assert_non_null(w.d);
	for (size_t i = 0; i < cap.nsegs; i++)
		w_record(&w, (int)i + 1, &cap.segs[i]);
	/* orderly close of every connection: client FIN, server FIN */
	for (int i = 0; i < 8; i++) {
		struct conn *c = &w.conns[i];

		if (!c->seen)
			continue;
		w_packet(&w, i, 1, c->cseq, FIN | ACK, NULL, 0);
		w_packet(&w, i, 0, c->sseq, FIN | ACK, NULL, 0);
		w_packet(&w, i, 1, c->cseq + 1, ACK, NULL, 0);
	}
	pcap_dump_close(w.d);
	pcap_close(w.p);
	capture_free(&cap);
	return path;
}

/* ------------------------------------------------------------ the reader */

#define MAX_SEEN 64

struct seen {
	int n, errors, ends, client_view;
	struct mcp_wire_ctx ctx[MAX_SEEN];
	struct jsonrpc_msg msg[MAX_SEEN];
	const char *reasons[MAX_SEEN];
};

static void on_message(void *arg, const struct mcp_wire_ctx *ctx, const struct jsonrpc_msg *msg)
{
	struct seen *s = arg;

	if (s->n < MAX_SEEN) {
		s->ctx[s->n] = *ctx;
		s->msg[s->n] = *msg;
	}
	if (ctx->observer != MCP_OBS_SERVER)
		s->client_view++;
	s->n++;
}

static void on_session_end(void *arg, const struct mcp_wire_ctx *ctx)
{
	((struct seen *)arg)->ends++;
}

static void on_parse_error(void *arg, const struct mcp_wire_ctx *ctx, const char *reason)
{
	struct seen *s = arg;

	if (s->errors < MAX_SEEN)
		s->reasons[s->errors] = reason;
	s->errors++;
}

struct result {
	struct seen seen;
	struct pcap_replay_stats ps;
	struct stream_stats ss;
};

/* Replays path into stream → proto → a recording sink. */
static void replay(const char *path, struct result *res)
{
	struct stream_config scfg = { .max_conns = 64, .max_body = 1 << 20 };
	struct pcap_replay_config rcfg = { 0 };
	struct proto_sink sink = { on_message, on_session_end, on_parse_error, &res->seen };
	struct pcap_replay *r;
	struct stream_table *st;
	char err[256];

	memset(res, 0, sizeof(*res));
	st = stream_table_new(&scfg, &sink);
	assert_non_null(st);
	if (pcap_replay_open(path, &rcfg, st, &r, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(pcap_replay_run(r, NULL, NULL, err, sizeof(err)), 0);
	pcap_replay_stats(r, &res->ps);
	stream_stats(st, &res->ss);
	pcap_replay_close(r);
	stream_table_free(st);
	unlink(path);
}

struct want {
	uint8_t dir, kind;
	const char *method, *id;
};

/* The messages of streamable-http.txt (test_proto_conn.c check_streamable). */
static const struct want WANT[] = {
	{ MCP_C2S, JSONRPC_REQUEST, "initialize", "0" },
	{ MCP_S2C, JSONRPC_RESULT, "", "0" },
	{ MCP_C2S, JSONRPC_NOTIFICATION, "notifications/initialized", "" },
	{ MCP_C2S, JSONRPC_REQUEST, "tools/list", "1" },
	{ MCP_S2C, JSONRPC_RESULT, "", "1" },
	{ MCP_C2S, JSONRPC_REQUEST, "tools/call", "2" },
	{ MCP_S2C, JSONRPC_RESULT, "", "2" },
	{ MCP_C2S, JSONRPC_REQUEST, "tools/call", "3" },
	{ MCP_S2C, JSONRPC_RESULT, "", "3" },
	{ MCP_C2S, JSONRPC_REQUEST, "tools/call", "4" },
	{ MCP_S2C, JSONRPC_NOTIFICATION, "notifications/progress", "" },
	{ MCP_S2C, JSONRPC_NOTIFICATION, "notifications/progress", "" },
	{ MCP_S2C, JSONRPC_RESULT, "", "4" },
	{ MCP_C2S, JSONRPC_REQUEST, "tools/call", "5" },
	{ MCP_C2S, JSONRPC_NOTIFICATION, "notifications/cancelled", "" },
};
#define NWANT (sizeof(WANT) / sizeof(WANT[0]))

static void dump(const struct seen *s)
{
	for (int i = 0; i < s->n && i < MAX_SEEN; i++)
		fprintf(stderr, "  %2d dir %d kind %d method '%s' id '%s' obs %d server %s\n", i,
			s->ctx[i].dir, s->msg[i].kind, s->msg[i].method.s, s->msg[i].id.text,
			s->ctx[i].observer, s->ctx[i].server.label);
	for (int i = 0; i < s->errors && i < MAX_SEEN; i++)
		fprintf(stderr, "  parse error %s\n", s->reasons[i]);
}

/* Exactly WANT minus the entries in skip (indexes, -1 ends), all seen from
 * the server's socket, server endpoint as expected. */
static void check_messages(const struct result *res, const char *server, const int *skip)
{
	const struct seen *s = &res->seen;
	int m = 0;

	for (size_t i = 0; i < NWANT; i++) {
		int skipped = 0;

		for (const int *k = skip; k && *k >= 0; k++)
			skipped |= *k == (int)i;
		if (skipped)
			continue;
		if (m >= s->n || s->ctx[m].dir != WANT[i].dir || s->msg[m].kind != WANT[i].kind ||
		    strcmp(s->msg[m].method.s, WANT[i].method) ||
		    strcmp(s->msg[m].id.text, WANT[i].id) ||
		    strcmp(s->ctx[m].server.label, server)) {
			dump(s);
			fail_msg("message %d differs from want[%zu] %s %s", m, i, WANT[i].method,
				 WANT[i].id);
		}
		m++;
	}
	if (m != s->n) {
		dump(s);
		fail_msg("%d messages, want %d", s->n, m);
	}
	assert_int_equal(s->client_view, 0);
}

static const struct opts BASE = { .dlt = DLT_EN10MB, .seg = 1448 };

/* ---------------------------------------------------------------- tests */

static void test_ethernet_in_order(void **state)
{
	struct result res;

	replay(write_pcap(&BASE), &res);
	check_messages(&res, "10.0.0.1:3001", NULL);
	assert_int_equal(res.seen.errors, 0);
	assert_int_equal(res.seen.ends, 1);
	assert_int_equal(res.ps.conns, 3);
	assert_int_equal(res.ss.conns_opened, 3);
	assert_int_equal(res.ss.gaps, 0);
	assert_int_equal(res.ss.overlap_bytes, 0);
	for (int i = 0; i < PCAP_LOST__MAX; i++)
		assert_int_equal(res.ps.lost[i], 0);
	assert_int_equal(res.ps.not_tcp, 0);
}

/* 802.1Q, small segments, every one sent twice, pairs swapped, and sequence
 * numbers wrapping past 2^32 in the middle. */
static void test_vlan_retransmit_reorder_wrap(void **state)
{
	struct opts o = BASE;
	struct result res;

	o.vlan = 1;
	o.seg = 97;
	o.retransmit = 1;
	o.reorder = 1;
	o.isn_base = 0xfffff000u;
	replay(write_pcap(&o), &res);
	check_messages(&res, "10.0.0.1:3001", NULL);
	assert_int_equal(res.seen.errors, 0);
	assert_int_equal(res.seen.ends, 1);
	assert_int_equal(res.ss.gaps, 0);
	assert_true(res.ss.overlap_bytes > 0); /* trimmed by stream/ */
	for (int i = 0; i < PCAP_LOST__MAX; i++)
		assert_int_equal(res.ps.lost[i], 0);
}

static void test_sll_sll2_ipv6_raw_null(void **state)
{
	static const int dlts[] = { DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_NULL };
	struct result res;

	for (size_t i = 0; i < sizeof(dlts) / sizeof(dlts[0]); i++)
		for (int v6 = 0; v6 < 2; v6++) {
			struct opts o = BASE;

			o.dlt = dlts[i];
			o.v6 = v6;
			o.seg = 512;
			o.reorder = v6;
			replay(write_pcap(&o), &res);
			check_messages(&res, v6 ? "[fd00::1]:3001" : "10.0.0.1:3001", NULL);
			assert_int_equal(res.seen.errors, 0);
			assert_int_equal(res.ss.gaps, 0);
		}
}

/* One segment of record 8 (conn3 S->C, the SSE answer to tools/list, 8223
 * bytes) never captured: a gap of exactly its size, the one message in it
 * lost, everything else intact. */
static void test_lost_segment_is_a_gap(void **state)
{
	static const int skip[] = { 4, -1 };
	struct opts o = BASE;
	struct result res;

	o.seg = 1000;
	o.lose_rec = 8;
	o.lose_seg = 3;
	replay(write_pcap(&o), &res);
	assert_int_equal(res.ss.gaps, 1);
	assert_int_equal(res.ss.gap_bytes, 1000);
	check_messages(&res, "10.0.0.1:3001", skip);
	assert_int_equal(res.seen.errors, 1);
	assert_string_equal(res.seen.reasons[0], "gap");
}

/* The file starts after the handshakes: roles from the content, the server
 * side guessed from the ports, the same messages. */
static void test_mid_stream_start(void **state)
{
	struct opts o = BASE;
	struct result res;

	o.no_syn = 1;
	o.seg = 700;
	replay(write_pcap(&o), &res);
	check_messages(&res, "10.0.0.1:3001", NULL);
	assert_int_equal(res.seen.errors, 0);
	assert_int_equal(res.ps.conns, 3);
}

/* tcpdump -s 300: every longer segment cut; each counted, and the bytes cut
 * are holes left out on purpose (after_cap), not gaps. */
static void test_snaplen_truncated(void **state)
{
	struct opts o = BASE;
	struct result res;

	o.snaplen = 300;
	replay(write_pcap(&o), &res);
	assert_true(res.ps.lost[PCAP_LOST_TRUNCATED] > 0);
	assert_int_equal(res.ss.gaps, 0);
	assert_true(res.seen.n < (int)NWANT);
}

/* A file that is no capture, a missing one, an unsupported link type. */
static void test_open_errors(void **state)
{
	struct stream_config scfg = { .max_conns = 4, .max_body = 4096 };
	struct pcap_replay_config rcfg = { 0 };
	struct proto_sink sink = { on_message, on_session_end, on_parse_error, NULL };
	struct stream_table *st = stream_table_new(&scfg, &sink);
	char path[] = "/tmp/mcpwire-test-pcap.XXXXXX", err[256];
	struct pcap_replay *r;
	pcap_dumper_t *d;
	pcap_t *p;
	int fd;

	assert_int_not_equal(pcap_replay_open("/nonexistent/x.pcap", &rcfg, st, &r, err,
					      sizeof(err)), 0);
	assert_non_null(strstr(err, "No such file"));
	fd = mkstemp(path);
	assert_int_equal(write(fd, "hello, not a capture\n", 21), 21);
	close(fd);
	assert_int_not_equal(pcap_replay_open(path, &rcfg, st, &r, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "not a pcap"));
	p = pcap_open_dead(DLT_IEEE802_11, 65535);
	d = pcap_dump_open(p, path);
	pcap_dump_close(d);
	pcap_close(p);
	assert_int_not_equal(pcap_replay_open(path, &rcfg, st, &r, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "unsupported link type IEEE802_11"));
	unlink(path);
	stream_table_free(st);
}

/* ------------------------------------------------- the whole pipeline */

struct pipe {
	struct metrics *m;
	struct mcp_state *mcp;
	struct stream_table *st;
};

static int tick(void *arg, uint64_t now_ns)
{
	mcp_tick(((struct pipe *)arg)->mcp, now_ns);
	return 0;
}

static char *run_pipeline(const struct opts *o, uint64_t request_timeout_ns)
{
	struct stream_config scfg = { .max_conns = 64, .max_body = 1 << 20 };
	struct mcp_config pcfg = { .request_timeout_ns = request_timeout_ns, .dedup_window_ns = 1 };
	struct pcap_replay_config rcfg = { 0 };
	const char *path = write_pcap(o);
	struct pcap_replay *r;
	struct pipe pp;
	char err[256], *text;
	size_t len;

	pp.m = metrics_new(NULL);
	pp.mcp = mcp_new(&pcfg, pp.m);
	pp.st = stream_table_new(&scfg, mcp_sink(pp.mcp));
	assert_non_null(pp.st);
	if (pcap_replay_open(path, &rcfg, pp.st, &r, err, sizeof(err)))
		fail_msg("%s", err);
	metrics_set_clock(pp.m, pcap_replay_clock_offset(r));
	assert_int_equal(pcap_replay_run(r, tick, &pp, err, sizeof(err)), 0);
	assert_int_equal(metrics_render(pp.m, &text, &len), 0);
	pcap_replay_close(r);
	stream_table_free(pp.st);
	mcp_free(pp.mcp);
	metrics_free(pp.m);
	unlink(path);
	return text;
}

static double value(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; (p = strstr(p, series)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

/* Sum of every sample of a family. */
static double family_sum(const char *text, const char *name)
{
	size_t n = strlen(name);
	double sum = 0;

	for (const char *l = text; *l; l = strchrnul(l, '\n') + !!*strchrnul(l, '\n'))
		if (!strncmp(l, name, n) && (l[n] == '{' || l[n] == ' '))
			sum += strtod(strchr(l + n, ' ') + 1, NULL);
	return sum;
}

#define S "server_name=\"mcp-servers/everything\""
#define REQ(method, status) "mcp_requests_total{" S ",method=\"" method "\",status=\"" status "\"}"

static void assert_series(const char *text, const char *series, double want)
{
	double got = value(text, series);

	if (got != want)
		fail_msg("%s = %g, want %g\n%s", series, got, want, text);
}

static void test_pipeline_metrics(void **state)
{
	struct opts o = BASE;
	char *text;

	o.vlan = 1;
	o.seg = 200;
	o.retransmit = 1;
	o.reorder = 1;
	text = run_pipeline(&o, 300ull * 1000000000ull);
	assert_series(text, REQ("initialize", "ok"), 1);
	assert_series(text, REQ("tools/list", "ok"), 1);
	assert_series(text, REQ("tools/call", "ok"), 2);
	assert_series(text, REQ("tools/call", "error"), 1);
	assert_series(text, REQ("tools/call", "cancelled"), 1);
	assert_true(family_sum(text, "mcp_requests_total") == 6);
	assert_true(family_sum(text, "mcp_requests_in_flight") == 0);
	assert_true(family_sum(text, "mcpwire_requests_expired_total") == 0);
	assert_true(family_sum(text, "mcpwire_messages_deduplicated_total") == 0);
	assert_true(family_sum(text, "mcp_notifications_total") == 4);
	assert_series(text, "mcp_notifications_total{" S ",method=\"notifications/progress\","
			    "direction=\"server_to_client\"}", 2);
	/* durations are capture time: each answer came one 1 ms step later */
	assert_series(text, "mcp_request_duration_seconds_count{" S ",method=\"tools/list\"}", 1);
	assert_series(text,
		      "mcp_request_duration_seconds_bucket{" S ",method=\"tools/list\",le=\"0.001\"}",
		      0);
	assert_series(text,
		      "mcp_request_duration_seconds_bucket{" S ",method=\"tools/list\",le=\"0.0025\"}",
		      1);
	free(text);
}

/* Two capture seconds between records and a 1 s request timeout: every
 * request expires before its answer, by capture time, however fast the
 * replay runs. */
static void test_capture_time_drives_expiry(void **state)
{
	struct opts o = BASE;
	char *text;

	o.step_ns = 2000000000ull;
	text = run_pipeline(&o, 1000000000ull);
	if (family_sum(text, "mcpwire_requests_expired_total") != 6 ||
	    family_sum(text, "mcp_requests_total") != 0)
		fail_msg("want 6 expired, 0 counted\n%s", text);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ethernet_in_order),
		cmocka_unit_test(test_vlan_retransmit_reorder_wrap),
		cmocka_unit_test(test_sll_sll2_ipv6_raw_null),
		cmocka_unit_test(test_lost_segment_is_a_gap),
		cmocka_unit_test(test_mid_stream_start),
		cmocka_unit_test(test_snaplen_truncated),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_pipeline_metrics),
		cmocka_unit_test(test_capture_time_drives_expiry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
