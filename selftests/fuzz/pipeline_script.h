/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The little language fuzz_pipeline reads: socket events for stream/, ticks
 * and publishes. Shared by the target and the seed generator (mkseeds.c),
 * which turns the wire captures into scripts the fuzzer then mutates.
 *
 * Header, 2 bytes:
 *   h0 bit 0     tiny mcp/ tables (2 slots each: eviction everywhere)
 *      bit 1     max_body 512 bytes (too_large), else 1 MiB
 *      bit 2     metrics caps of 3 servers, 3 tools, 3 error codes
 *      bits 3-4  stream max_conns 2, 4, 8 or 64
 *   h1           reserved (0)
 * Then ops until the input ends; op byte b: kind = b & 7, slot = (b >> 3) & 7,
 * x = b >> 6:
 *   OPEN   a p e  role = a & 3, family = (a >> 2) & 7, a & 0x20 new generation,
 *                 a & 0x40 mirror: the endpoints of slot ^ 1 swapped (the
 *                 other socket of the same connection, both ends local);
 *                 p: local port index p & 7, remote (p >> 3) & 7 (PS_PORTS);
 *                 e: local address index e & 7, remote (e >> 3) & 7 (PS_ADDRS)
 *   RECV / SEND   f lo hi [j] data[lo | hi << 8]
 *                 f & 3: 0 next offset, 1 skip (j + 1) << s, 2 back j << s,
 *                 3 absolute j << s, with s = PS_SHIFT[(f >> 2) & 3];
 *                 f & 0x10 after_cap; j present when f & 3 != 0
 *   DATA   same as RECV/SEND with the direction in x & 1
 *   CLOSE
 *   TICK   t      now += ((t & 63) + 1) * PS_TICK_NS[t >> 6]; mcp_tick()
 *   PUBLISH       metrics_publish(), snapshot checked (x == 3: metrics_render too)
 *   SLEEP         now += (slot + 1) * 1 ms
 * Every op also advances now by 1 µs. A length past the input is cut to it.
 */
#ifndef MCPWIRE_FUZZ_PIPELINE_SCRIPT_H
#define MCPWIRE_FUZZ_PIPELINE_SCRIPT_H

enum {
	PS_OPEN = 0,
	PS_RECV = 1,
	PS_SEND = 2,
	PS_DATA = 3,
	PS_CLOSE = 4,
	PS_TICK = 5,
	PS_PUBLISH = 6,
	PS_SLEEP = 7,
};

#define PS_SLOTS 8
#define PS_OP(kind, slot, x) ((unsigned char)((kind) | (slot) << 3 | (x) << 6))

/* role and family values past the enums on purpose: the wire of a future
 * BPF object or a corrupt record may carry them. */
#define PS_OPEN_MIRROR 0x40
#define PS_OPEN_NEWGEN 0x20

static const unsigned short PS_PORTS[8] = { 3001, 3002, 8080, 40000, 40001, 0, 65535, 443 };
/* IPv4 in the first four bytes for TCP4 sockets, as mw_open_event has them */
static const unsigned char PS_ADDRS[8][16] = {
	{ 127, 0, 0, 1 },
	{ 172, 29, 0, 2 },
	{ 172, 29, 0, 3 },
	{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 172, 29, 0, 2 },
	{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
	{ 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
	{ 0 },
	{ 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255 },
};
static const unsigned char PS_SHIFT[4] = { 0, 6, 12, 20 };
/* 1 ms, 100 ms, 10 s, 1000 s: reaches the dedup window (1 s), the request
 * timeout (300 s) and the session idle time (1 h) */
static const unsigned long long PS_TICK_NS[4] = { 1000000ULL, 100000000ULL, 10000000000ULL,
					       1000000000000ULL };

#endif /* MCPWIRE_FUZZ_PIPELINE_SCRIPT_H */
