// SPDX-License-Identifier: GPL-2.0-only
/*
 * metrics/labels — label value hygiene and the bounded interner behind the
 * cardinality caps.
 */
#include <stdlib.h>
#include <string.h>

#include "metrics/labels.h"

/* mcp-wire.md §2 (schema 2025-11-25 Client* and Server* unions, the tasks methods included)
 * and §8 (2026-07-28). The first entries are pinned by the enum in labels.h. */
#define M(s) { s, sizeof(s) - 1 }

static const struct metrics_method_def {
	const char *name;
	uint8_t len;
} metrics_methods[] = {
	M(METRICS_OTHER),
	M("initialize"),
	M("ping"),
	M("tools/call"),
	M("notifications/cancelled"),
	M("tools/list"),
	M("resources/list"),
	M("resources/templates/list"),
	M("resources/read"),
	M("resources/subscribe"),
	M("resources/unsubscribe"),
	M("prompts/list"),
	M("prompts/get"),
	M("completion/complete"),
	M("logging/setLevel"),
	M("sampling/createMessage"),
	M("elicitation/create"),
	M("roots/list"),
	M("tasks/get"),
	M("tasks/result"),
	M("tasks/list"),
	M("tasks/cancel"),
	M("server/discover"),
	M("subscriptions/listen"),
	M("notifications/initialized"),
	M("notifications/progress"),
	M("notifications/message"),
	M("notifications/resources/updated"),
	M("notifications/resources/list_changed"),
	M("notifications/tools/list_changed"),
	M("notifications/prompts/list_changed"),
	M("notifications/roots/list_changed"),
	M("notifications/tasks/status"),
	M("notifications/elicitation/complete"),
	M("notifications/subscriptions/acknowledged"),
};

#undef M

#define METRICS_NMETHODS (sizeof(metrics_methods) / sizeof(metrics_methods[0]))

uint16_t metrics_method_index(const char *method)
{
	size_t len = strlen(method);

	/* the length rules out all but a few before a compare */
	for (uint16_t i = 1; i < METRICS_NMETHODS; i++)
		if (metrics_methods[i].len == len && !memcmp(method, metrics_methods[i].name, len))
			return i;
	return METRICS_METHOD_OTHER;
}

const char *metrics_method_name(uint16_t idx)
{
	return idx < METRICS_NMETHODS ? metrics_methods[idx].name : METRICS_OTHER;
}

uint16_t metrics_method_count(void)
{
	return METRICS_NMETHODS;
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629 §4 table), 0 if
 * the bytes there are not one. */
static size_t metrics_utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;

		return n >= 3 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;

		return n >= 4 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 &&
				       (p[3] & 0xc0) == 0x80 ?
			       4 :
			       0;
	}
	return 0;
}

int metrics_label_sanitize(char dst[METRICS_LABEL_MAX + 1], const char *src, size_t len)
{
	static const char replacement[] = "\xef\xbf\xbd";
	const unsigned char *p = (const unsigned char *)src;
	size_t i = 0, o = 0;

	while (i < len) {
		size_t n = p[i] ? metrics_utf8_seq(p + i, len - i) : 0;
		const char *from = src + i;
		size_t take = n;

		if (!p[i])
			return -1;
		if (!n) {
			from = replacement;
			take = 3;
			n = 1;
		}
		if (o + take > METRICS_LABEL_MAX)
			return -1;
		memcpy(dst + o, from, take);
		o += take;
		i += n;
	}
	dst[o] = '\0';
	return (int)o;
}

static uint32_t metrics_strset_hash(uint32_t owner, const char *s)
{
	return mw_hash(mw_hash(MW_HASH_INIT, &owner, sizeof(owner)), s, strlen(s));
}

void metrics_strset_init(struct metrics_strset *set, uint32_t limit)
{
	memset(set, 0, sizeof(*set));
	set->limit = limit;
}

void metrics_strset_fini(struct metrics_strset *set)
{
	for (uint32_t i = 0; i < set->count; i++)
		free(set->ents[i].s);
	free(set->ents);
	free(set->buckets);
	memset(set, 0, sizeof(*set));
}

int64_t metrics_strset_find(const struct metrics_strset *set, uint32_t owner, const char *s)
{
	uint32_t h;

	if (!set->nbuckets)
		return -1;
	h = metrics_strset_hash(owner, s);
	for (uint32_t e = set->buckets[h & (set->nbuckets - 1)]; e; e = set->ents[e - 1].next) {
		const struct metrics_strset_ent *ent = &set->ents[e - 1];

		if (ent->hash == h && ent->owner == owner && !strcmp(ent->s, s))
			return e - 1;
	}
	return -1;
}

/* Doubles the bucket array once entries outnumber buckets. */
static int metrics_strset_rehash(struct metrics_strset *set)
{
	uint32_t n = set->nbuckets ? set->nbuckets * 2 : 64;
	uint32_t *b = calloc(n, sizeof(*b));

	if (!b)
		return -1;
	for (uint32_t i = 0; i < set->count; i++) {
		uint32_t slot = set->ents[i].hash & (n - 1);

		set->ents[i].next = b[slot];
		b[slot] = i + 1;
	}
	free(set->buckets);
	set->buckets = b;
	set->nbuckets = n;
	return 0;
}

int64_t metrics_strset_add(struct metrics_strset *set, uint32_t owner, const char *s)
{
	int64_t id = metrics_strset_find(set, owner, s);
	struct metrics_strset_ent *ent;
	uint32_t slot;

	if (id >= 0)
		return id;
	if (set->count >= set->limit)
		return -1;
	if (set->count == set->cap) {
		uint32_t ncap = set->cap ? set->cap * 2 : 16;
		struct metrics_strset_ent *ne = realloc(set->ents, ncap * sizeof(*ne));

		if (!ne)
			return -1;
		set->ents = ne;
		set->cap = ncap;
	}
	if (set->count >= set->nbuckets && metrics_strset_rehash(set))
		return -1;
	ent = &set->ents[set->count];
	ent->s = strdup(s);
	if (!ent->s)
		return -1;
	ent->owner = owner;
	ent->hash = metrics_strset_hash(owner, s);
	slot = ent->hash & (set->nbuckets - 1);
	ent->next = set->buckets[slot];
	set->buckets[slot] = set->count + 1;
	return set->count++;
}
