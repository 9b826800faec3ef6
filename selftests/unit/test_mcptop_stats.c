// SPDX-License-Identifier: GPL-2.0-only
/*
 * mcptop/stats: the arithmetic behind mcptop's columns, on hand-computed
 * cases (Prometheus' histogram_quantile() interpolation, counter resets,
 * sparkline columns).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mcptop/stats.h"

static const double bounds[] = {1, 2, 4};

#define assert_near(a, b) assert_true(fabs((a) - (b)) < 1e-9)

static void test_quantile(void **state)
{
	uint64_t one_bucket[] = {0, 10, 0, 0};
	uint64_t first[] = {10, 0, 0, 0};
	uint64_t over[] = {0, 0, 0, 5};
	uint64_t spread[] = {50, 30, 15, 5};
	uint64_t none[] = {0, 0, 0, 0};

	/* rank 5 of 10 in (1, 2]: halfway */
	assert_near(stats_quantile(bounds, 3, one_bucket, 0.5), 1.5);
	assert_near(stats_quantile(bounds, 3, one_bucket, 0.99), 1.99);
	/* the first bucket starts at 0 */
	assert_near(stats_quantile(bounds, 3, first, 0.5), 0.5);
	/* above the last bound: the last bound, as histogram_quantile() */
	assert_near(stats_quantile(bounds, 3, over, 0.5), 4);
	/* rank 50 of 100 ends bucket 0 exactly; rank 95 ends bucket 2 */
	assert_near(stats_quantile(bounds, 3, spread, 0.5), 1);
	assert_near(stats_quantile(bounds, 3, spread, 0.95), 4);
	assert_near(stats_quantile(bounds, 3, spread, 0.9), 2 + 2 * (10.0 / 15));
	assert_true(isnan(stats_quantile(bounds, 3, none, 0.5)));
}

static void test_deltas(void **state)
{
	uint64_t prev[] = {5, 5, 5}, cur[] = {7, 5, 9}, reset[] = {1, 0, 9}, out[3];

	stats_hist_delta(cur, prev, 3, out);
	assert_int_equal(out[0], 2);
	assert_int_equal(out[1], 0);
	assert_int_equal(out[2], 4);
	/* one bucket down: the daemon restarted, the new counts are the delta */
	stats_hist_delta(reset, prev, 3, out);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[2], 9);
	assert_int_equal(stats_delta(10, 4), 6);
	assert_int_equal(stats_delta(3, 4), 3);
	assert_near(stats_pct(1, 4), 25);
	assert_true(isnan(stats_pct(0, 0)));
}

static void test_series_view(void **state)
{
	struct stats_series ser;
	struct stats_view v;
	uint64_t c0[] = {0, 0, 0, 0}, c1[] = {0, 10, 0, 0}, c2[] = {0, 10, 10, 0};

	stats_series_init(&ser, 5);
	stats_series_view(&ser, bounds, 3, 60, &v);
	assert_true(isnan(v.rate));

	stats_series_push(&ser, 100, 0, 0, c0, 4);
	stats_series_view(&ser, bounds, 3, 60, &v);
	/* one poll: no rate yet, quantiles since the start */
	assert_true(isnan(v.rate));
	assert_true(isnan(v.p50));

	stats_series_push(&ser, 102, 10, 1, c1, 4);
	stats_series_view(&ser, bounds, 3, 60, &v);
	assert_near(v.rate, 5);
	assert_near(v.err_pct, 10);
	assert_near(v.p50, 1.5);
	assert_int_equal(v.calls, 10);

	/* the window spans both deltas: 20 observations, half in (2, 4] */
	stats_series_push(&ser, 104, 20, 1, c2, 4);
	stats_series_view(&ser, bounds, 3, 60, &v);
	assert_near(v.rate, 5);
	assert_near(v.err_pct, 0);
	assert_near(v.p50, 2);
	assert_near(v.p95, 2 + 2 * (9.0 / 10));
	/* a window shorter than a poll still uses the last delta */
	stats_series_view(&ser, bounds, 3, 0.5, &v);
	assert_near(v.p50, 2 + 2 * 0.5);

	/* no calls in the last poll: rate 0, error ratio undefined */
	stats_series_push(&ser, 106, 20, 1, c2, 4);
	stats_series_view(&ser, bounds, 3, 1, &v);
	assert_near(v.rate, 0);
	assert_true(isnan(v.err_pct));
}

static void test_spark(void **state)
{
	struct stats_series ser;
	uint64_t c[4] = {0};
	char out[128];

	stats_series_init(&ser, 5);
	stats_series_push(&ser, 0, 0, 0, c, 4);
	stats_series_push(&ser, 5, 10, 0, c, 4);  /* closes [0,5): 0 calls */
	stats_series_push(&ser, 10, 30, 0, c, 4); /* closes [5,10): 10 calls, 2/s */
	stats_series_push(&ser, 15, 30, 0, c, 4); /* closes [10,15): 20 calls, 4/s */
	assert_int_equal(ser.nspark, 3);
	assert_near(ser.spark[1], 2);
	assert_near(ser.spark[2], 4);
	stats_spark(&ser, 3, 0, out, sizeof(out));
	assert_string_equal(out, ".=#");
	/* columns without data yet are blanks on the left */
	stats_spark(&ser, 5, 0, out, sizeof(out));
	assert_string_equal(out, "  .=#");
	stats_spark(&ser, 3, 1, out, sizeof(out));
	assert_string_equal(out, "\u2581\u2584\u2588");
	/* a long silence adds zero columns, never more than a line of them */
	stats_series_push(&ser, 1000, 30, 0, c, 4);
	assert_int_equal(ser.nspark, STATS_SPARK);
	assert_near(ser.spark[STATS_SPARK - 1], 0);
}

/* The table fits the terminal: without a client side as it always was; with
 * one, CLI P95 takes P99's place at 80 columns, both client columns and P99
 * when wide. */
static void test_layout(void **state)
{
	struct stats_layout c;

	/* 80 columns, no client side: P99, no client column, name 15 */
	stats_layout(80, 0, 20, &c);
	assert_int_equal(c.p99, 1);
	assert_int_equal(c.client, 0);
	assert_int_equal(c.spark, 0);
	assert_int_equal(c.name, 15);
	assert_int_equal(c.width, 80);
	/* 80 columns with a client side: same width and name, P99 gives way */
	stats_layout(80, 1, 20, &c);
	assert_int_equal(c.p99, 0);
	assert_int_equal(c.client, 1);
	assert_int_equal(c.name, 15);
	assert_int_equal(c.width, 80);
	/* 120 with a client side: everything; the name keeps 24 or the
	 * sparkline goes */
	stats_layout(120, 1, 20, &c);
	assert_int_equal(c.p99, 1);
	assert_int_equal(c.client, 2);
	assert_int_equal(c.spark, 0);
	assert_int_equal(c.name, 120 - 83);
	assert_int_equal(c.width, 120);
	stats_layout(140, 1, 20, &c);
	assert_int_equal(c.spark, 20);
	assert_int_equal(c.name, 140 - 83 - 21);
	assert_true(c.name >= STATS_NAME_SPARK);
	assert_int_equal(c.width, 140);
	/* 120 without: the sparkline as before */
	stats_layout(120, 0, 20, &c);
	assert_int_equal(c.spark, 20);
	assert_int_equal(c.name, 120 - 65 - 21);
	/* the switch point: both client columns from 107 on */
	stats_layout(106, 1, 20, &c);
	assert_int_equal(c.client, 1);
	stats_layout(107, 1, 20, &c);
	assert_int_equal(c.client, 2);
	assert_int_equal(c.name, STATS_NAME_SPARK);
	/* too narrow: the name keeps its minimum, the width says so */
	stats_layout(40, 1, 20, &c);
	assert_int_equal(c.name, STATS_NAME_MIN);
	assert_true(c.width > 40);
}

/* The client's wait is a second series beside the server's: its quantiles
 * come out of the same arithmetic, and a row without a client side has none. */
static void test_client_series(void **state)
{
	struct stats_series srv, cli;
	struct stats_view vs, vc;
	/* 10 calls: server all in (0, 1], clients all in (2, 4] */
	uint64_t s0[] = {0, 0, 0, 0}, s1[] = {10, 0, 0, 0};
	uint64_t c0[] = {0, 0, 0, 0}, c1[] = {0, 0, 10, 0};

	stats_series_init(&srv, 5);
	stats_series_init(&cli, 5);
	stats_series_push(&srv, 100, 0, 0, s0, 4);
	stats_series_push(&cli, 100, 0, 0, c0, 4);
	stats_series_push(&srv, 101, 10, 0, s1, 4);
	stats_series_push(&cli, 101, 10, 0, c1, 4);
	stats_series_view(&srv, bounds, 3, 60, &vs);
	stats_series_view(&cli, bounds, 3, 60, &vc);
	assert_near(vs.p50, 0.5);
	assert_near(vc.p50, 3);
	assert_near(vc.p95, 2 + 2 * 0.95);
	assert_true(vc.p50 - vs.p50 > 2);
	/* no client observations: "-" on screen */
	stats_series_init(&cli, 5);
	stats_series_push(&cli, 100, 0, 0, c0, 4);
	stats_series_push(&cli, 101, 0, 0, c0, 4);
	stats_series_view(&cli, bounds, 3, 60, &vc);
	assert_true(isnan(vc.p50) && isnan(vc.p95));
}

static void test_format(void **state)
{
	char b[16];

	assert_string_equal(stats_fmt_seconds(NAN, b, sizeof(b)), "-");
	assert_string_equal(stats_fmt_seconds(0.00042, b, sizeof(b)), "0.42ms");
	assert_string_equal(stats_fmt_seconds(0.012, b, sizeof(b)), "12ms");
	assert_string_equal(stats_fmt_seconds(1.25, b, sizeof(b)), "1.2s");
	assert_string_equal(stats_fmt_rate(NAN, b, sizeof(b)), "-");
	assert_string_equal(stats_fmt_rate(12.34, b, sizeof(b)), "12.3");
	assert_string_equal(stats_fmt_rate(1234, b, sizeof(b)), "1.2k");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_quantile),	cmocka_unit_test(test_deltas),
	    cmocka_unit_test(test_series_view), cmocka_unit_test(test_spark),
	    cmocka_unit_test(test_format),	cmocka_unit_test(test_layout),
	    cmocka_unit_test(test_client_series),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
