/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * metrics/expo — the Prometheus text exposition format, version 0.0.4
 * (prometheus.io/docs/instrumenting/exposition_formats, "Text format
 * details"). The formatters are public so the unit tests can check each rule
 * on its own, as collectd's write_prometheus does.
 */
#ifndef MCPWIRE_METRICS_EXPO_H
#define MCPWIRE_METRICS_EXPO_H

#include <stddef.h>

#include "metrics/registry.h"

/* A growing text buffer. After an allocation failure oom is set and further
 * appends are dropped, so callers check once at the end. */
struct metrics_buf {
	char *p;
	size_t len;
	size_t cap;
	int oom;
};

void metrics_buf_init(struct metrics_buf *b);
void metrics_buf_free(struct metrics_buf *b);
void metrics_buf_append(struct metrics_buf *b, const char *s, size_t len);
void metrics_buf_puts(struct metrics_buf *b, const char *s);

/* Appends a label value escaped as the format requires inside double quotes:
 * backslash → \\, double quote → \", line feed → \n. Other bytes unchanged. */
void metrics_expo_escape_label(struct metrics_buf *b, const char *v);
/* Appends HELP text escaped per the format: backslash → \\, line feed → \n. */
void metrics_expo_escape_help(struct metrics_buf *b, const char *v);
/* Appends a sample value in Go's float syntax: integers without exponent or
 * point, other values in the shortest form that reads back exactly, and
 * "+Inf", "-Inf", "NaN". */
void metrics_expo_double(struct metrics_buf *b, double v);

/*
 * Appends one family: "# HELP" and "# TYPE" once, then its series sorted by
 * label values. Histograms get, per series, cumulative _bucket{le="…"} lines
 * for every bound and le="+Inf" (equal to _count), then _sum and _count.
 */
void metrics_expo_family(struct metrics_buf *b, const struct metrics_family *f);

#endif /* MCPWIRE_METRICS_EXPO_H */
