// SPDX-License-Identifier: GPL-2.0-only
/*
 * scope/keys — open addressing with linear probing; deletion shifts the
 * following entries of the probe run back (Knuth, TAOCP vol. 3, 6.4,
 * Algorithm R) instead of leaving tombstones.
 */
#include <errno.h>

#include "scope/keys.h"
#include "util/hash.h"

#define SCOPE_KEYS_MASK (SCOPE_KEYS_SLOTS - 1)

static uint32_t scope_keys_home(uint64_t key)
{
	return (uint32_t)mw_hash_mix(MW_HASH_INIT, key) & SCOPE_KEYS_MASK;
}

/* Slot of key, or of the empty slot ending its probe run. */
static uint32_t scope_keys_find(const struct scope_keys *k, uint64_t key)
{
	uint32_t i = scope_keys_home(key);

	while (k->slot[i].key && k->slot[i].key != key)
		i = (i + 1) & SCOPE_KEYS_MASK;
	return i;
}

int scope_keys_put(struct scope_keys *k, uint64_t key, uint64_t gen)
{
	uint32_t i = scope_keys_find(k, key);

	if (!k->slot[i].key) {
		/* one slot always stays empty, so every probe run ends */
		if (k->n >= SCOPE_KEYS_SLOTS - 1) {
			k->full++;
			return -ENOSPC;
		}
		k->slot[i].key = key;
		k->n++;
	}
	k->slot[i].gen = gen;
	return 0;
}

int scope_keys_has(const struct scope_keys *k, uint64_t key, uint64_t gen)
{
	uint32_t i = scope_keys_find(k, key);

	return k->slot[i].key == key && key && k->slot[i].gen == gen;
}

int scope_keys_del(struct scope_keys *k, uint64_t key)
{
	uint32_t i = scope_keys_find(k, key), j, home;

	if (!key || k->slot[i].key != key)
		return 0;
	j = i;
	for (;;) {
		j = (j + 1) & SCOPE_KEYS_MASK;
		if (!k->slot[j].key)
			break;
		home = scope_keys_home(k->slot[j].key);
		/* j's entry may move to the hole at i unless its home lies
		 * cyclically in (i, j] */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		k->slot[i] = k->slot[j];
		i = j;
	}
	k->slot[i].key = 0;
	k->slot[i].gen = 0;
	k->n--;
	return 1;
}
