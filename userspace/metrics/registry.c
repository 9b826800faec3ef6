// SPDX-License-Identifier: GPL-2.0-only
/*
 * metrics/registry — bounded per-family series tables.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/labels.h"
#include "metrics/registry.h"

const double metrics_buckets[METRICS_NBUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2,
	0.5,	1,     2,      5,     10,   30,	  60,	120, 300,
};

int metrics_family_init(struct metrics_family *f, const char *name, const char *help,
			enum metrics_type type, uint8_t nlabels, const char *const *labels,
			uint32_t max_series)
{
	memset(f, 0, sizeof(*f));
	f->name = name;
	f->help = help;
	f->type = type;
	f->nlabels = nlabels < METRICS_MAX_LABELS ? nlabels : METRICS_MAX_LABELS;
	for (uint8_t i = 0; i < f->nlabels; i++)
		f->labels[i] = labels[i];
	f->max_series = max_series;
	f->nbuckets = 16;
	f->table = calloc(f->nbuckets, sizeof(*f->table));
	return f->table ? 0 : -ENOMEM;
}

void metrics_family_fini(struct metrics_family *f)
{
	for (uint32_t b = 0; f->table && b < f->nbuckets; b++) {
		struct metrics_series *s = f->table[b], *n;

		for (; s; s = n) {
			n = s->hnext;
			free(s);
		}
	}
	free(f->table);
	f->table = NULL;
	f->nseries = 0;
}

static uint32_t metrics_vals_hash(const struct metrics_family *f, const char *const *vals)
{
	uint32_t h = MW_HASH_INIT;

	/* the NUL separates values, so ("ab","c") and ("a","bc") differ */
	for (uint8_t i = 0; i < f->nlabels; i++)
		h = mw_hash(h, vals[i], strlen(vals[i]) + 1);
	return h;
}

static int metrics_vals_equal(const struct metrics_family *f, const struct metrics_series *s,
			      const char *const *vals)
{
	for (uint8_t i = 0; i < f->nlabels; i++)
		if (strcmp(s->vals[i], vals[i]))
			return 0;
	return 1;
}

static struct metrics_series *metrics_family_lookup(const struct metrics_family *f,
						    const char *const *vals, uint32_t h)
{
	struct metrics_series *s = f->table[h & (f->nbuckets - 1)];

	for (; s; s = s->hnext)
		if (s->hash == h && metrics_vals_equal(f, s, vals))
			return s;
	return NULL;
}

struct metrics_series *metrics_family_find(const struct metrics_family *f,
					   const char *const *vals)
{
	return metrics_family_lookup(f, vals, metrics_vals_hash(f, vals));
}

static void metrics_family_grow(struct metrics_family *f)
{
	uint32_t n = f->nbuckets * 2;
	struct metrics_series **t = calloc(n, sizeof(*t));

	/* a failed grow only lengthens the chains */
	if (!t)
		return;
	for (uint32_t b = 0; b < f->nbuckets; b++) {
		struct metrics_series *s = f->table[b], *next;

		for (; s; s = next) {
			next = s->hnext;
			s->hnext = t[s->hash & (n - 1)];
			t[s->hash & (n - 1)] = s;
		}
	}
	free(f->table);
	f->table = t;
	f->nbuckets = n;
}

struct metrics_series *metrics_family_get(struct metrics_family *f, const char *const *vals)
{
	uint32_t h = metrics_vals_hash(f, vals);
	struct metrics_series *s = metrics_family_lookup(f, vals, h);
	size_t lens[METRICS_MAX_LABELS], total = 0;
	char *p;

	if (s)
		return s;
	if (f->nseries >= f->max_series)
		return NULL;
	for (uint8_t i = 0; i < f->nlabels; i++) {
		lens[i] = strlen(vals[i]) + 1;
		total += lens[i];
	}
	s = calloc(1, sizeof(*s) + total);
	if (!s)
		return NULL;
	p = s->data;
	for (uint8_t i = 0; i < f->nlabels; i++) {
		memcpy(p, vals[i], lens[i]);
		s->vals[i] = p;
		p += lens[i];
	}
	s->hash = h;
	if (f->nseries >= f->nbuckets)
		metrics_family_grow(f);
	s->hnext = f->table[h & (f->nbuckets - 1)];
	f->table[h & (f->nbuckets - 1)] = s;
	f->nseries++;
	return s;
}

void metrics_family_remove(struct metrics_family *f, struct metrics_series *s)
{
	struct metrics_series **pp = &f->table[s->hash & (f->nbuckets - 1)];

	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == s) {
			*pp = s->hnext;
			f->nseries--;
			free(s);
			return;
		}
	}
}

void metrics_series_observe(struct metrics_series *s, double v)
{
	uint32_t i = 0;

	while (i < METRICS_NBUCKETS && v > metrics_buckets[i])
		i++;
	if (i < METRICS_NBUCKETS)
		s->buckets[i]++;
	s->count++;
	s->sum += v;
}
