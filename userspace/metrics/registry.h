/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * metrics/registry — series storage: one family per metric name, each a
 * bounded hash table of series keyed by their label values.
 *
 * Single writer: only the pipeline thread touches families; readers see the
 * text that metrics_publish() rendered from them (metrics.h).
 */
#ifndef MCPWIRE_METRICS_REGISTRY_H
#define MCPWIRE_METRICS_REGISTRY_H

#include <stdint.h>

#define METRICS_MAX_LABELS 7
#define METRICS_NBUCKETS 18

enum metrics_type {
	METRICS_COUNTER = 0,
	METRICS_GAUGE = 1,
	METRICS_HISTOGRAM = 2,
};

/* Histogram upper bounds in seconds (design.md "Metric contract"); +Inf is
 * implicit. */
extern const double metrics_buckets[METRICS_NBUCKETS];

struct metrics_series {
	struct metrics_series *hnext; /* hash chain */
	uint32_t hash;
	uint32_t refs;	  /* holders of an info-style gauge (metrics.c) */
	double value;	  /* counter or gauge */
	double sum;	  /* histogram: sum of observations, seconds */
	uint64_t count;	  /* histogram: number of observations */
	uint64_t buckets[METRICS_NBUCKETS]; /* histogram: per bucket, not cumulative */
	const char *vals[METRICS_MAX_LABELS]; /* point into data[] */
	char data[];
};

struct metrics_family {
	const char *name; /* static strings */
	const char *help;
	uint8_t type;	  /* enum metrics_type */
	uint8_t nlabels;
	const char *labels[METRICS_MAX_LABELS];
	uint32_t nseries;
	uint32_t max_series; /* series beyond it are refused (the caller counts overflow) */
	uint32_t nbuckets;   /* hash buckets, power of two */
	struct metrics_series **table;
};

/* name, help and labels must be static strings. Returns 0 or -ENOMEM. */
int metrics_family_init(struct metrics_family *f, const char *name, const char *help,
			enum metrics_type type, uint8_t nlabels, const char *const *labels,
			uint32_t max_series);
void metrics_family_fini(struct metrics_family *f);

/* The series with these label values (f->nlabels NUL-terminated strings,
 * already sanitised), or NULL. */
struct metrics_series *metrics_family_find(const struct metrics_family *f,
					   const char *const *vals);
/* As find, creating a zeroed series when absent; NULL when the family holds
 * max_series or memory is short. Allocates only on creation. */
struct metrics_series *metrics_family_get(struct metrics_family *f, const char *const *vals);
void metrics_family_remove(struct metrics_family *f, struct metrics_series *s);

/* Adds one observation of v seconds to a histogram series: v lands in the
 * first bucket whose bound is >= v (the exposition's "le"). */
void metrics_series_observe(struct metrics_series *s, double v);

#endif /* MCPWIRE_METRICS_REGISTRY_H */
