/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The byte-string hash of the userspace tables (mcp/'s pending requests and
 * sessions, metrics/' label sets): 32 bits, continued from h (start with
 * MW_HASH_INIT), for bucket choice only; values are not stable across builds.
 * Eight bytes per multiply, because session ids and label values are hashed
 * on every message; inline, because most keys are a few short fields.
 */
#ifndef MCPWIRE_UTIL_HASH_H
#define MCPWIRE_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define MW_HASH_INIT 2166136261u
#define MW_HASH_MUL 0x9e3779b97f4a7c15ULL

static inline uint64_t mw_hash_mix(uint64_t x, uint64_t w)
{
	x = (x ^ w) * MW_HASH_MUL;
	return x ^ (x >> 32);
}

static inline uint32_t mw_hash(uint32_t h, const void *p, size_t len)
{
	const unsigned char *b = p;
	uint64_t x = h, w;

	for (; len >= 8; b += 8, len -= 8) {
		memcpy(&w, b, sizeof(w));
		x = mw_hash_mix(x, w);
	}
	if (len) {
		w = (uint64_t)len << 56;
		for (size_t i = 0; i < len; i++)
			w |= (uint64_t)b[i] << (8 * i);
		x = mw_hash_mix(x, w);
	}
	return (uint32_t)x;
}

#endif /* MCPWIRE_UTIL_HASH_H */
