// SPDX-License-Identifier: GPL-2.0-only
/*
 * metrics/expo — text exposition format 0.0.4 rendering.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/expo.h"

void metrics_buf_init(struct metrics_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void metrics_buf_free(struct metrics_buf *b)
{
	free(b->p);
	metrics_buf_init(b);
}

void metrics_buf_append(struct metrics_buf *b, const char *s, size_t len)
{
	if (b->oom)
		return;
	if (b->len + len + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 4096;
		char *np;

		while (ncap < b->len + len + 1)
			ncap *= 2;
		np = realloc(b->p, ncap);
		if (!np) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, len);
	b->len += len;
	b->p[b->len] = '\0';
}

void metrics_buf_puts(struct metrics_buf *b, const char *s)
{
	metrics_buf_append(b, s, strlen(s));
}

static void metrics_expo_escape(struct metrics_buf *b, const char *v, int quote)
{
	const char *run = v;

	for (; *v; v++) {
		const char *esc = NULL;

		if (*v == '\\')
			esc = "\\\\";
		else if (*v == '\n')
			esc = "\\n";
		else if (*v == '"' && quote)
			esc = "\\\"";
		if (!esc)
			continue;
		metrics_buf_append(b, run, v - run);
		metrics_buf_append(b, esc, 2);
		run = v + 1;
	}
	metrics_buf_append(b, run, v - run);
}

void metrics_expo_escape_label(struct metrics_buf *b, const char *v)
{
	metrics_expo_escape(b, v, 1);
}

void metrics_expo_escape_help(struct metrics_buf *b, const char *v)
{
	metrics_expo_escape(b, v, 0);
}

/* Formats v into s (at least 40 bytes) as metrics_expo_double() appends it. */
static void metrics_expo_fmt_double(char *s, size_t n, double v)
{
	if (isnan(v)) {
		snprintf(s, n, "NaN");
	} else if (isinf(v)) {
		snprintf(s, n, v > 0 ? "+Inf" : "-Inf");
	} else if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(s, n, "%.0f", v);
	} else {
		snprintf(s, n, "%.15g", v);
		if (strtod(s, NULL) != v)
			snprintf(s, n, "%.17g", v);
	}
}

void metrics_expo_double(struct metrics_buf *b, double v)
{
	char s[40];

	metrics_expo_fmt_double(s, sizeof(s), v);
	metrics_buf_puts(b, s);
}

static int metrics_series_cmp(const void *a, const void *b, void *arg)
{
	const struct metrics_series *x = *(struct metrics_series *const *)a;
	const struct metrics_series *y = *(struct metrics_series *const *)b;
	const struct metrics_family *f = arg;

	for (uint8_t i = 0; i < f->nlabels; i++) {
		int c = strcmp(x->vals[i], y->vals[i]);

		if (c)
			return c;
	}
	return 0;
}

/* name + suffix + {labels[, le="…"]} + " " */
static void metrics_expo_head(struct metrics_buf *b, const struct metrics_family *f,
			      const struct metrics_series *s, const char *suffix, const char *le)
{
	metrics_buf_puts(b, f->name);
	metrics_buf_puts(b, suffix);
	if (f->nlabels || le) {
		metrics_buf_puts(b, "{");
		for (uint8_t i = 0; i < f->nlabels; i++) {
			if (i)
				metrics_buf_puts(b, ",");
			metrics_buf_puts(b, f->labels[i]);
			metrics_buf_puts(b, "=\"");
			metrics_expo_escape_label(b, s->vals[i]);
			metrics_buf_puts(b, "\"");
		}
		if (le) {
			metrics_buf_puts(b, f->nlabels ? ",le=\"" : "le=\"");
			metrics_buf_puts(b, le);
			metrics_buf_puts(b, "\"");
		}
		metrics_buf_puts(b, "}");
	}
	metrics_buf_puts(b, " ");
}

static void metrics_expo_u64(struct metrics_buf *b, uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRIu64, v);
	metrics_buf_puts(b, s);
}

static void metrics_expo_histogram(struct metrics_buf *b, const struct metrics_family *f,
				   const struct metrics_series *s)
{
	uint64_t cum = 0;

	for (uint32_t i = 0; i < METRICS_NBUCKETS; i++) {
		char le[40];

		metrics_expo_fmt_double(le, sizeof(le), metrics_buckets[i]);
		cum += s->buckets[i];
		metrics_expo_head(b, f, s, "_bucket", le);
		metrics_expo_u64(b, cum);
		metrics_buf_puts(b, "\n");
	}
	metrics_expo_head(b, f, s, "_bucket", "+Inf");
	metrics_expo_u64(b, s->count);
	metrics_buf_puts(b, "\n");
	metrics_expo_head(b, f, s, "_sum", NULL);
	metrics_expo_double(b, s->sum);
	metrics_buf_puts(b, "\n");
	metrics_expo_head(b, f, s, "_count", NULL);
	metrics_expo_u64(b, s->count);
	metrics_buf_puts(b, "\n");
}

void metrics_expo_family(struct metrics_buf *b, const struct metrics_family *f)
{
	static const char *const types[] = { "counter", "gauge", "histogram" };
	struct metrics_series **v = NULL;
	uint32_t n = 0;

	metrics_buf_puts(b, "# HELP ");
	metrics_buf_puts(b, f->name);
	metrics_buf_puts(b, " ");
	metrics_expo_escape_help(b, f->help);
	metrics_buf_puts(b, "\n# TYPE ");
	metrics_buf_puts(b, f->name);
	metrics_buf_puts(b, " ");
	metrics_buf_puts(b, types[f->type]);
	metrics_buf_puts(b, "\n");
	if (!f->nseries)
		return;

	v = malloc(f->nseries * sizeof(*v));
	if (!v) {
		b->oom = 1;
		return;
	}
	for (uint32_t i = 0; i < f->nbuckets; i++)
		for (struct metrics_series *s = f->table[i]; s; s = s->hnext)
			v[n++] = s;
	qsort_r(v, n, sizeof(*v), metrics_series_cmp, (void *)f);
	for (uint32_t i = 0; i < n; i++) {
		if (f->type == METRICS_HISTOGRAM) {
			metrics_expo_histogram(b, f, v[i]);
			continue;
		}
		metrics_expo_head(b, f, v[i], "", NULL);
		metrics_expo_double(b, v[i]->value);
		metrics_buf_puts(b, "\n");
	}
	free(v);
}
