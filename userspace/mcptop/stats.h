/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mcptop/stats — the arithmetic of mcptop's columns, free of I/O so the unit
 * tests check it (selftests/unit/test_mcptop_stats.c):
 *  - rates and error ratios between two polls of monotonic counters;
 *  - quantiles from the difference of two polls of a histogram, interpolated
 *    linearly inside a bucket as Prometheus' histogram_quantile() does;
 *  - a per-row sample history (calls/s, error %, p50/p95/p99 over a window)
 *    and a sparkline of calls/s in fixed time columns.
 * A counter that goes down means the daemon restarted: the new value is then
 * the whole delta (as Prometheus' rate() treats a reset).
 */
#ifndef MCPTOP_STATS_H
#define MCPTOP_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Bucket bounds the API may send (mcpwire sends 18) plus the overflow. */
#define STATS_MAX_BOUNDS 32
#define STATS_MAX_COUNTS (STATS_MAX_BOUNDS + 1)
/* Samples kept per row; a window longer than this many polls is cut. */
#define STATS_SAMPLES 128
/* Sparkline columns kept per row. */
#define STATS_SPARK 32

/* q-quantile (0 < q < 1) of the observations counted in counts[0..nbounds]
 * (per bucket, not cumulative; counts[nbounds] above the last bound). NAN
 * when there are none. A quantile in the overflow is the last bound, as
 * histogram_quantile() answers. */
double stats_quantile(const double *bounds, int nbounds, const uint64_t *counts, double q);
/* out = cur − prev per bucket; all of cur if any bucket went down (reset). */
void stats_hist_delta(const uint64_t *cur, const uint64_t *prev, int n, uint64_t *out);
/* Counter increase between two polls, reset-aware. */
uint64_t stats_delta(uint64_t cur, uint64_t prev);
/* 100 * part / whole, NAN when whole is 0. */
double stats_pct(uint64_t part, uint64_t whole);

struct stats_sample {
	double t;	 /* seconds, the poll's time */
	uint64_t calls;	 /* cumulative */
	uint64_t errors; /* cumulative */
	uint64_t counts[STATS_MAX_COUNTS];
};

struct stats_series {
	struct stats_sample s[STATS_SAMPLES]; /* ring */
	uint32_t n, head;		      /* samples held; head: the newest */
	double spark[STATS_SPARK];	      /* calls/s per column, oldest first */
	uint32_t nspark;		      /* columns closed so far (≤ STATS_SPARK) */
	double col_t0;			      /* start of the open column */
	uint64_t col_calls;		      /* calls in the open column so far */
	double step;			      /* column width, seconds */
};

/* Values of a row; NAN where undefined (one poll only, or no calls). */
struct stats_view {
	double rate;	      /* calls/s between the last two polls */
	double err_pct;	      /* errors / calls between the last two polls, % */
	double p50, p95, p99; /* seconds, over the window (cumulative with one poll) */
	uint64_t calls;	      /* cumulative, last poll */
	uint64_t errors;
};

/* step: sparkline column width in seconds (> 0). */
void stats_series_init(struct stats_series *ser, double step);
/* Adds a poll; counts has ncounts entries. Polls must come in time order. */
void stats_series_push(struct stats_series *ser, double t, uint64_t calls, uint64_t errors,
		       const uint64_t *counts, int ncounts);
/* window: seconds the quantiles look back. */
void stats_series_view(const struct stats_series *ser, const double *bounds, int nbounds,
		       double window, struct stats_view *v);

/*
 * Renders the last width sparkline columns into out (NUL-terminated):
 * U+2581..U+2588 block characters when utf8, else " .:-=+*#"; one
 * character per column, scaled to the largest value shown; empty columns
 * (no data yet) are spaces. Returns the bytes written.
 */
size_t stats_spark(const struct stats_series *ser, int width, int utf8, char *out, size_t outlen);

/*
 * Columns of mcptop's table on a terminal W columns wide. The numbers are
 * fixed: CALLS/S (9), ERR% (7), P50 P95 [P99] (9 each), then the client's
 * wait CLI P50 / CLI P95 (9 each), INFL SESS (6 each), CALLS (9), a space;
 * the name takes what they leave (at least STATS_NAME_MIN), the sparkline
 * (spark_w + 1) only if the name keeps STATS_NAME_SPARK.
 * client_seen: some row has a client side (docs/api.md client_duration);
 * without one no client column is shown. With one, both client columns and
 * P99 when the name keeps STATS_NAME_SPARK; else (80 columns) P99 gives
 * way to CLI P95 alone, so the layout is as wide as without a client side.
 */
#define STATS_NAME_MIN 8
#define STATS_NAME_SPARK 24
struct stats_layout {
	int name;   /* name column width, the separating space included */
	int spark;  /* sparkline width; 0: not shown */
	int p99;    /* 1: the P99 column is shown */
	int client; /* 0: no client column, 1: CLI P95, 2: CLI P50 and CLI P95 */
	int width;  /* all columns together (≥ W only when W is below the minimum) */
};
void stats_layout(int W, int client_seen, int spark_w, struct stats_layout *out);

/* "0.42ms", "12ms", "1.2s", "-" for NAN: a fixed-width friendly duration. */
const char *stats_fmt_seconds(double s, char *buf, size_t len);
/* "12.3", "1.2k", "-" for NAN. */
const char *stats_fmt_rate(double r, char *buf, size_t len);

#endif /* MCPTOP_STATS_H */
