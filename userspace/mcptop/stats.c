// SPDX-License-Identifier: GPL-2.0-only
/*
 * mcptop/stats — rates, quantiles and sparklines from polls of the API.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mcptop/stats.h"

double stats_quantile(const double *bounds, int nbounds, const uint64_t *counts, double q)
{
	uint64_t total = 0, cum = 0;
	double rank;

	for (int i = 0; i <= nbounds; i++)
		total += counts[i];
	if (!total || nbounds <= 0 || q < 0 || q > 1)
		return NAN;
	rank = q * (double)total;
	for (int i = 0; i < nbounds; i++) {
		double lo = i ? bounds[i - 1] : 0;

		if ((double)(cum + counts[i]) >= rank && counts[i]) {
			/* linear inside the bucket: observations assumed spread evenly */
			return lo + (bounds[i] - lo) * (rank - (double)cum) / (double)counts[i];
		}
		cum += counts[i];
	}
	return bounds[nbounds - 1];
}

uint64_t stats_delta(uint64_t cur, uint64_t prev)
{
	return cur >= prev ? cur - prev : cur;
}

void stats_hist_delta(const uint64_t *cur, const uint64_t *prev, int n, uint64_t *out)
{
	int reset = 0;

	for (int i = 0; i < n; i++)
		reset |= cur[i] < prev[i];
	for (int i = 0; i < n; i++)
		out[i] = reset ? cur[i] : cur[i] - prev[i];
}

double stats_pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : NAN;
}

void stats_series_init(struct stats_series *ser, double step)
{
	memset(ser, 0, sizeof(*ser));
	ser->step = step > 0 ? step : 5;
}

static const struct stats_sample *stats_at(const struct stats_series *ser, uint32_t back)
{
	return &ser->s[(ser->head + STATS_SAMPLES - back) % STATS_SAMPLES];
}

static void stats_spark_close(struct stats_series *ser, double v)
{
	if (ser->nspark == STATS_SPARK)
		memmove(ser->spark, ser->spark + 1, (STATS_SPARK - 1) * sizeof(double));
	else
		ser->nspark++;
	ser->spark[ser->nspark - 1] = v;
}

void stats_series_push(struct stats_series *ser, double t, uint64_t calls, uint64_t errors,
		       const uint64_t *counts, int ncounts)
{
	struct stats_sample *s;
	uint64_t d = 0;

	if (ncounts > STATS_MAX_COUNTS)
		ncounts = STATS_MAX_COUNTS;
	if (ser->n) {
		d = stats_delta(calls, stats_at(ser, 0)->calls);
		/* columns that ended before this poll; a long gap gives zeros,
		 * at most a full line of them */
		for (int k = 0; t - ser->col_t0 >= ser->step && k <= STATS_SPARK; k++) {
			stats_spark_close(ser, (double)ser->col_calls / ser->step);
			ser->col_calls = 0;
			ser->col_t0 += ser->step;
		}
		if (t - ser->col_t0 >= ser->step)
			ser->col_t0 = t;
		ser->col_calls += d;
		ser->head = (ser->head + 1) % STATS_SAMPLES;
	} else {
		ser->col_t0 = t;
	}
	if (ser->n < STATS_SAMPLES)
		ser->n++;
	s = &ser->s[ser->head];
	memset(s, 0, sizeof(*s));
	s->t = t;
	s->calls = calls;
	s->errors = errors;
	memcpy(s->counts, counts, ncounts * sizeof(*counts));
}

void stats_series_view(const struct stats_series *ser, const double *bounds, int nbounds,
		       double window, struct stats_view *v)
{
	const struct stats_sample *now, *prev, *from;
	uint64_t delta[STATS_MAX_COUNTS];
	uint32_t back = 0;

	v->rate = v->err_pct = v->p50 = v->p95 = v->p99 = NAN;
	v->calls = v->errors = 0;
	if (!ser->n)
		return;
	if (nbounds > STATS_MAX_BOUNDS)
		nbounds = STATS_MAX_BOUNDS;
	now = stats_at(ser, 0);
	v->calls = now->calls;
	v->errors = now->errors;
	if (ser->n == 1) {
		memcpy(delta, now->counts, sizeof(delta));
	} else {
		uint64_t dc, de;

		prev = stats_at(ser, 1);
		dc = stats_delta(now->calls, prev->calls);
		de = stats_delta(now->errors, prev->errors);
		if (now->t > prev->t)
			v->rate = (double)dc / (now->t - prev->t);
		v->err_pct = stats_pct(de, dc);
		while (back + 1 < ser->n && now->t - stats_at(ser, back + 1)->t <= window)
			back++;
		from = stats_at(ser, back ? back : 1);
		stats_hist_delta(now->counts, from->counts, nbounds + 1, delta);
	}
	v->p50 = stats_quantile(bounds, nbounds, delta, 0.50);
	v->p95 = stats_quantile(bounds, nbounds, delta, 0.95);
	v->p99 = stats_quantile(bounds, nbounds, delta, 0.99);
}

size_t stats_spark(const struct stats_series *ser, int width, int utf8, char *out, size_t outlen)
{
	static const char *const blocks[] = {"\u2581", "\u2582", "\u2583", "\u2584",
					     "\u2585", "\u2586", "\u2587", "\u2588"};
	static const char ascii[] = " .:-=+*#";
	double max = 0;
	size_t n = 0;
	int pad, first;

	if (width > STATS_SPARK)
		width = STATS_SPARK;
	if (width < 0)
		width = 0;
	first = (int)ser->nspark > width ? (int)ser->nspark - width : 0;
	pad = width - ((int)ser->nspark - first);
	for (int i = first; i < (int)ser->nspark; i++)
		if (ser->spark[i] > max)
			max = ser->spark[i];
	for (int i = 0; i < width; i++) {
		const char *c;
		char a[2] = {0};

		if (i < pad) {
			c = " ";
		} else {
			double v = ser->spark[first + i - pad];
			int lvl = max > 0 ? (int)ceil(v / max * 8) - 1 : -1;

			if (utf8) {
				/* no calls at all: the lowest block, so the line stays visible */
				c = blocks[lvl < 0 ? 0 : lvl > 7 ? 7 : lvl];
			} else {
				a[0] = ascii[lvl < 0 ? 1 : lvl > 6 ? 7 : lvl + 1];
				c = a;
			}
		}
		if (n + strlen(c) + 1 > outlen)
			break;
		memcpy(out + n, c, strlen(c));
		n += strlen(c);
	}
	if (outlen)
		out[n < outlen ? n : outlen - 1] = '\0';
	return n;
}

void stats_layout(int W, int client_seen, int spark_w, struct stats_layout *out)
{
	/* CALLS/S ERR% P50 P95, INFL SESS CALLS and the trailing space */
	const int base = 9 + 7 + 9 + 9 + 6 + 6 + 9 + 1;
	int fixed;

	out->p99 = 1;
	out->client = 0;
	if (client_seen) {
		out->client = 2;
		if (W - base - 3 * 9 < STATS_NAME_SPARK) {
			out->p99 = 0;
			out->client = 1;
		}
	}
	fixed = base + 9 * (out->p99 + out->client);
	out->spark = spark_w > 0 && W - fixed - spark_w - 1 >= STATS_NAME_SPARK ? spark_w : 0;
	out->name = W - fixed - (out->spark ? out->spark + 1 : 0);
	if (out->name < STATS_NAME_MIN)
		out->name = STATS_NAME_MIN;
	out->width = out->name + fixed + (out->spark ? out->spark + 1 : 0);
}

const char *stats_fmt_seconds(double s, char *buf, size_t len)
{
	if (isnan(s))
		snprintf(buf, len, "-");
	else if (s < 0.01)
		snprintf(buf, len, "%.2fms", s * 1e3);
	else if (s < 1)
		snprintf(buf, len, "%.0fms", s * 1e3);
	else if (s < 100)
		snprintf(buf, len, "%.1fs", s);
	else
		snprintf(buf, len, "%.0fs", s);
	return buf;
}

const char *stats_fmt_rate(double r, char *buf, size_t len)
{
	if (isnan(r))
		snprintf(buf, len, "-");
	else if (r < 1000)
		snprintf(buf, len, "%.1f", r);
	else if (r < 1e6)
		snprintf(buf, len, "%.1fk", r / 1e3);
	else
		snprintf(buf, len, "%.1fM", r / 1e6);
	return buf;
}
