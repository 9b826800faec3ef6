/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * scope/keys — the connections the scope filter turned away, so that their
 * data and close events are dropped too (stream/ would otherwise open a key it
 * never saw opened, with an unknown role). Keyed like the BPF `conns` map,
 * tgid<<32 | fd, plus the connection generation: a reused fd with a new
 * generation is a new connection and is judged again. Pure: no I/O.
 *
 * Fixed capacity, open addressing with linear probing and backward-shift
 * deletion (no tombstones, so lookups stay short however long it runs).
 */
#ifndef MCPWIRE_SCOPE_KEYS_H
#define MCPWIRE_SCOPE_KEYS_H

#include <stdint.h>

/* Twice the BPF `conns` map at its default size (MW_CONNS_MAX, --max-conns):
 * every entry here is a live entry there, so the table stays at most half
 * full (a larger --max-conns can fill it: puts are then refused and counted).
 * 2 MiB, allocated only with --network/--bridge. */
#define SCOPE_KEYS_SLOTS 131072

struct scope_keys {
	struct {
		uint64_t key; /* 0: empty (tgid is never 0) */
		uint64_t gen;
	} slot[SCOPE_KEYS_SLOTS];
	uint32_t n;
	uint64_t full; /* puts refused because the table was full */
};

/* Remembers (key, gen), replacing an older generation of key. Returns 0, or
 * -ENOSPC when full (counted in k->full). */
int scope_keys_put(struct scope_keys *k, uint64_t key, uint64_t gen);

/* 1 when (key, gen) was put and not deleted. */
int scope_keys_has(const struct scope_keys *k, uint64_t key, uint64_t gen);

/* Forgets key whatever its generation; 1 when it was there. */
int scope_keys_del(struct scope_keys *k, uint64_t key);

#endif
