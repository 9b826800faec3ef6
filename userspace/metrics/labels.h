/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * metrics/labels — turning wire strings into label values that are safe to
 * export: the spec's fixed method set, UTF-8 repair, length bounds, and a
 * bounded string interner used for the per-label cardinality caps
 * (design.md "Metric contract": label values come from the wire, so they are
 * bounded).
 */
#ifndef MCPWIRE_METRICS_LABELS_H
#define MCPWIRE_METRICS_LABELS_H

#include <stddef.h>
#include <stdint.h>

#include "util/hash.h"
#include <string.h>

/* The value every capped label falls back to. */
#define METRICS_OTHER "__other__"

/* Longest label value exported, in bytes, after UTF-8 repair. Longer values
 * are overflow (METRICS_OTHER), never cut, so two names never merge silently. */
#define METRICS_LABEL_MAX 255

/* Index 0 is METRICS_OTHER: any method outside mcp-wire.md §2 (2024-11-05 ..
 * 2025-11-25, the tasks methods included) plus 2026-07-28's server/discover,
 * subscriptions/listen and notifications/subscriptions/acknowledged. */
#define METRICS_METHOD_OTHER 0
enum {
	METRICS_METHOD_INITIALIZE = 1,
	METRICS_METHOD_PING,
	METRICS_METHOD_TOOLS_CALL,
	METRICS_METHOD_CANCELLED, /* notifications/cancelled */
};

/* Method index for a method string (NUL-terminated), METRICS_METHOD_OTHER when
 * it is not one of the spec's. */
uint16_t metrics_method_index(const char *method);
/* Name for an index from metrics_method_index(); METRICS_OTHER when out of range. */
const char *metrics_method_name(uint16_t idx);
/* Number of indexes, METRICS_METHOD_OTHER included. */
uint16_t metrics_method_count(void);

/*
 * Copies the len bytes at src into dst as valid UTF-8: every byte that does
 * not start a well-formed sequence (RFC 3629: no overlongs, no surrogates,
 * nothing past U+10FFFF) becomes U+FFFD. dst must hold METRICS_LABEL_MAX + 1
 * bytes. Returns the length written (NUL-terminated), or -1 when the result
 * would exceed METRICS_LABEL_MAX bytes or src holds a NUL byte.
 */
int metrics_label_sanitize(char dst[METRICS_LABEL_MAX + 1], const char *src, size_t len);

/*
 * A bounded interner of (owner, string) pairs: ids are dense, assigned in
 * order from 0 and never reused, so callers can index side arrays by them.
 * Storage grows only when a new value is added (never per lookup).
 */
struct metrics_strset {
	uint32_t limit;	   /* most entries ever held */
	uint32_t count;
	uint32_t nbuckets; /* power of two */
	uint32_t cap;	   /* allocated entries */
	uint32_t *buckets; /* head entry id + 1, 0 = empty */
	struct metrics_strset_ent {
		char *s;
		uint32_t owner;
		uint32_t hash;
		uint32_t next; /* entry id + 1 */
	} *ents;
};

void metrics_strset_init(struct metrics_strset *set, uint32_t limit);
void metrics_strset_fini(struct metrics_strset *set);
/* Id of (owner, s) or -1. */
int64_t metrics_strset_find(const struct metrics_strset *set, uint32_t owner, const char *s);
/* Id of (owner, s), added when absent; -1 when the set is at its limit or
 * out of memory. */
int64_t metrics_strset_add(struct metrics_strset *set, uint32_t owner, const char *s);
static inline const char *metrics_strset_str(const struct metrics_strset *set, uint32_t id)
{
	return set->ents[id].s;
}

#endif /* MCPWIRE_METRICS_LABELS_H */
