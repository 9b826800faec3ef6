// SPDX-License-Identifier: GPL-2.0-only
/*
 * scope/set — sorted array of namespace inodes: the scope of one bridge is a
 * few dozen namespaces and changes rarely, while the open-event filter looks
 * one up per new connection, so lookups get the binary search and inserts pay
 * the shift.
 */
#include <errno.h>
#include <string.h>

#include "scope/set.h"

/* Index of the first element >= ino. */
static uint32_t scope_set_lower(const struct scope_set *s, uint32_t ino)
{
	uint32_t lo = 0, hi = s->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (s->v[mid] < ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int scope_set_add(struct scope_set *s, uint32_t ino)
{
	uint32_t i;

	if (!ino)
		return -EINVAL;
	i = scope_set_lower(s, ino);
	if (i < s->n && s->v[i] == ino)
		return 0;
	if (s->n >= SCOPE_SET_MAX)
		return -ENOSPC;
	memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof(s->v[0]));
	s->v[i] = ino;
	s->n++;
	return 1;
}

int scope_set_has(const struct scope_set *s, uint32_t ino)
{
	uint32_t i = scope_set_lower(s, ino);

	return i < s->n && s->v[i] == ino;
}

int scope_set_equal(const struct scope_set *a, const struct scope_set *b)
{
	return a->n == b->n && !memcmp(a->v, b->v, a->n * sizeof(a->v[0]));
}

size_t scope_set_diff(const struct scope_set *old, const struct scope_set *new_,
		      void (*cb)(uint32_t ino, int joined, void *arg), void *arg)
{
	size_t calls = 0;
	uint32_t i;

	for (i = 0; i < new_->n; i++)
		if (!scope_set_has(old, new_->v[i])) {
			cb(new_->v[i], 1, arg);
			calls++;
		}
	for (i = 0; i < old->n; i++)
		if (!scope_set_has(new_, old->v[i])) {
			cb(old->v[i], 0, arg);
			calls++;
		}
	return calls;
}
