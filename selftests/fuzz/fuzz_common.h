/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the libFuzzer targets (docs/fuzzing.md).
 *
 * Each target defines fuzz_<name>_one(data, size) and, unless
 * MCPWIRE_FUZZ_NO_ENTRY is defined, LLVMFuzzerTestOneInput() calling it. The
 * cmocka regression test includes the target sources with the entry left out
 * and feeds the saved crash inputs through the same function, so a crash
 * found by the fuzzer stays a test in the normal `make unit` build.
 *
 * A violated invariant goes through FUZZ_FAIL: abort() under libFuzzer (the
 * fuzzer keeps the input as a crash file), a cmocka failure in the tests.
 */
#ifndef MCPWIRE_FUZZ_COMMON_H
#define MCPWIRE_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FUZZ_FAIL
#define FUZZ_FAIL(...)                                                                             \
	do {                                                                                       \
		fprintf(stderr, "fuzz invariant: " __VA_ARGS__);                                   \
		fputc('\n', stderr);                                                               \
		abort();                                                                           \
	} while (0)
#endif

#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond))                                                                       \
			FUZZ_FAIL(__VA_ARGS__);                                                    \
	} while (0)

/*
 * In-band markers of the parser targets: the input is a byte stream in which
 * FUZZ_MARK (three bytes no real capture contains) followed by an opcode byte
 * and an argument byte is an event other than data: a gap, a reset. The
 * fuzzer finds them through the dictionaries; the seed generator writes them.
 */
#define FUZZ_MARK "\xfe\xfe\xfe"
#define FUZZ_MARK_LEN 3
#define FUZZ_OP_GAP 'G'	  /* arg: gap size class, fuzz_gap_len() */
#define FUZZ_OP_RESET 'R' /* parser-specific reset (sse_reset, jsonrpc_scan_reset) */

/* Gap sizes from one byte: small ones land inside framing, large ones past it. */
static inline uint64_t fuzz_gap_len(uint8_t b)
{
	return b & 0x80 ? (uint64_t)(b & 0x7f) << 12 : (uint64_t)b + 1;
}

/*
 * Splits the stream at its markers: calls seg(arg, data, len) for each run of
 * plain bytes and op(arg, opcode, argbyte) for each marker. A marker cut short
 * by the end of the input is plain data.
 */
static inline void fuzz_walk(const uint8_t *d, size_t n,
			     void (*seg)(void *arg, const uint8_t *d, size_t n),
			     void (*op)(void *arg, uint8_t code, uint8_t argb), void *arg)
{
	size_t start = 0, i = 0;

	while (i + FUZZ_MARK_LEN + 2 <= n) {
		if (memcmp(d + i, FUZZ_MARK, FUZZ_MARK_LEN) != 0) {
			i++;
			continue;
		}
		if (i > start)
			seg(arg, d + start, i - start);
		op(arg, d[i + FUZZ_MARK_LEN], d[i + FUZZ_MARK_LEN + 1]);
		i += FUZZ_MARK_LEN + 2;
		start = i;
	}
	if (n > start)
		seg(arg, d + start, n - start);
}

/* xorshift64*: the chunk sizes of a split run, reproducible from the input. */
static inline uint64_t fuzz_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/*
 * Feeds d in pieces: one byte at a time (mode 1), or random sizes up to 1,
 * 16 or 512 bytes (modes 2..4); mode 0 feeds it whole. The parsers promise
 * the same output for any split (design.md "Userspace"), so every target
 * runs each input whole and split and compares.
 */
static inline void fuzz_split(const uint8_t *d, size_t n, int mode, uint64_t *seed,
			      void (*feed)(void *arg, const uint8_t *d, size_t n), void *arg)
{
	static const size_t maxes[] = { 0, 1, 2, 16, 512 };

	if (mode <= 0 || mode > 4) {
		feed(arg, d, n);
		return;
	}
	while (n) {
		size_t k = mode == 1 ? 1 : 1 + fuzz_rand(seed) % maxes[mode];

		if (k > n)
			k = n;
		feed(arg, d, k);
		d += k;
		n -= k;
	}
}

/* FNV-1a over a transcript of callbacks: comparing two runs costs no memory. */
#define FUZZ_HASH_INIT 1469598103934665603ULL

static inline uint64_t fuzz_hash(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

static inline uint64_t fuzz_hash_u64(uint64_t h, uint64_t v)
{
	return fuzz_hash(h, &v, sizeof(v));
}

static inline uint64_t fuzz_hash_str(uint64_t h, const char *s)
{
	return fuzz_hash(h, s, strlen(s) + 1);
}

#endif /* MCPWIRE_FUZZ_COMMON_H */
