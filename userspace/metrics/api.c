// SPDX-License-Identifier: GPL-2.0-only
/*
 * metrics/api — /api/v1/ JSON documents (docs/api.md).
 *
 * Durations are exported as the registry keeps them: per-bucket counts, not
 * cumulative, plus the overflow above the last bound, so a client subtracts
 * two polls bucket by bucket and interpolates quantiles over the difference
 * without first undoing Prometheus' cumulative form.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "metrics/api.h"
#include "metrics/metrics.h"

#include "version.h"

#define API_NCOUNTS (METRICS_NBUCKETS + 1)
/* 15 significant digits: bounds read 0.0005, not 0.00050000000000000001,
 * and wall-clock seconds keep their milliseconds */
#define API_DUMP_PRECISION JSON_REAL_PRECISION(15)

static json_t *api_zero_counts(void)
{
	json_t *counts = json_array();

	for (int i = 0; counts && i < API_NCOUNTS; i++)
		json_array_append_new(counts, json_integer(0));
	return counts;
}

/* {"name", "calls", "ok", "errors", "cancelled", "duration": {...},
 *  "client_duration": {...}} */
static json_t *api_stat_new(const char *name)
{
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:{s:I, s:f, s:o}, s:{s:I, s:f, s:o}}", "name",
			 name, "calls", (json_int_t)0, "ok", (json_int_t)0, "errors",
			 (json_int_t)0, "cancelled", (json_int_t)0, "duration", "count",
			 (json_int_t)0, "sum", 0.0, "counts", api_zero_counts(), "client_duration",
			 "count", (json_int_t)0, "sum", 0.0, "counts", api_zero_counts());
}

static void api_add(json_t *o, const char *key, double v)
{
	json_t *cur = json_object_get(o, key);

	json_object_set_new(o, key, json_integer(json_integer_value(cur) + (json_int_t)v));
}

static void api_count_status(json_t *stat, const char *status, double v)
{
	api_add(stat, "calls", v);
	if (!strcmp(status, "ok"))
		api_add(stat, "ok", v);
	else if (!strcmp(status, "cancelled"))
		api_add(stat, "cancelled", v);
	else
		api_add(stat, "errors", v);
}

/* Adds histogram series s into stat's key ("duration", "client_duration"). */
static void api_add_hist(json_t *stat, const char *key, const struct metrics_series *s)
{
	json_t *d = json_object_get(stat, key);
	json_t *counts = json_object_get(d, "counts");
	uint64_t in_bounds = 0;

	api_add(d, "count", (double)s->count);
	json_object_set_new(d, "sum",
			    json_real(json_real_value(json_object_get(d, "sum")) + s->sum));
	for (int i = 0; i < METRICS_NBUCKETS; i++) {
		json_t *c = json_array_get(counts, i);

		json_integer_set(c, json_integer_value(c) + (json_int_t)s->buckets[i]);
		in_bounds += s->buckets[i];
	}
	json_integer_set(json_array_get(counts, METRICS_NBUCKETS),
			 json_integer_value(json_array_get(counts, METRICS_NBUCKETS)) +
			     (json_int_t)(s->count - in_bounds));
}

/* The server object for name in by_name, created with every field present so
 * clients never meet a missing key. */
static json_t *api_server(json_t *by_name, const char *name)
{
	json_t *s = json_object_get(by_name, name);

	if (s)
		return s;
	s = api_stat_new(name);
	json_object_update_new(s, json_pack("{s:n, s:n, s:n, s:n, s:n, s:n, s:I, s:I, s:I, s:I, s:n, s:{}, s:{}}",
					    "version", "protocol_version", "transport", "container",
					    "pod", "namespace", "in_flight",
					    (json_int_t)0, "sessions", (json_int_t)0,
					    "notifications", (json_int_t)0, "expired",
					    (json_int_t)0, "last_seen", "methods", "tools"));
	json_object_set_new(by_name, name, s);
	return s;
}

static json_t *api_child(json_t *server, const char *kind, const char *name)
{
	json_t *set = json_object_get(server, kind);
	json_t *c = json_object_get(set, name);

	if (!c) {
		c = api_stat_new(name);
		json_object_set_new(set, name, c);
	}
	return c;
}

#define api_for_each_series(f, s)                                                                  \
	for (uint32_t __b = 0; (f) && __b < (f)->nbuckets; __b++)                                  \
		for (const struct metrics_series *s = (f)->table[__b]; s; s = s->hnext)

static int api_strcmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* An object of objects → an array of them sorted by key. */
static json_t *api_sorted(json_t *obj)
{
	size_t n = json_object_size(obj), i = 0;
	const char **keys = calloc(n ? n : 1, sizeof(*keys));
	json_t *arr = json_array();
	const char *k;
	json_t *v;

	if (!keys || !arr) {
		free(keys);
		json_decref(arr);
		return NULL;
	}
	json_object_foreach (obj, k, v)
		keys[i++] = k;
	qsort(keys, n, sizeof(*keys), api_strcmp);
	for (i = 0; i < n; i++)
		json_array_append(arr, json_object_get(obj, keys[i]));
	free(keys);
	return arr;
}

char *metrics_api_render_servers(const struct metrics_api_fams *f, const char *version, double now,
				 size_t *len)
{
	json_t *by_name = json_object(), *doc = NULL, *servers, *bounds = json_array();
	char *text = NULL;
	size_t i;
	json_t *srv;

	if (!by_name || !bounds)
		goto out;
	api_for_each_series (f->requests, s) {
		srv = api_server(by_name, s->vals[0]);
		api_count_status(srv, s->vals[2], s->value);
		api_count_status(api_child(srv, "methods", s->vals[1]), s->vals[2], s->value);
	}
	api_for_each_series (f->req_duration, s) {
		srv = api_server(by_name, s->vals[0]);
		api_add_hist(srv, "duration", s);
		api_add_hist(api_child(srv, "methods", s->vals[1]), "duration", s);
	}
	api_for_each_series (f->client_req_duration, s) {
		srv = api_server(by_name, s->vals[0]);
		api_add_hist(srv, "client_duration", s);
		api_add_hist(api_child(srv, "methods", s->vals[1]), "client_duration", s);
	}
	api_for_each_series (f->client_tool_duration, s)
		api_add_hist(api_child(api_server(by_name, s->vals[0]), "tools", s->vals[1]),
			     "client_duration", s);
	api_for_each_series (f->tool_calls, s)
		api_count_status(api_child(api_server(by_name, s->vals[0]), "tools", s->vals[1]),
				 s->vals[2], s->value);
	api_for_each_series (f->tool_duration, s)
		api_add_hist(api_child(api_server(by_name, s->vals[0]), "tools", s->vals[1]),
			     "duration", s);
	api_for_each_series (f->info, s) {
		srv = api_server(by_name, s->vals[0]);
		/* several endpoints may share a name with different versions:
		 * the first in table order wins, the exposition has them all */
		/* a series made before any initialize result (attribution) has
		 * no version: it stays null */
		if (json_is_null(json_object_get(srv, "version")) && s->vals[1][0]) {
			json_object_set_new(srv, "version", json_string(s->vals[1]));
			json_object_set_new(srv, "protocol_version", json_string(s->vals[2]));
			json_object_set_new(srv, "transport", json_string(s->vals[3]));
		}
		if (json_is_null(json_object_get(srv, "transport")))
			json_object_set_new(srv, "transport", json_string(s->vals[3]));
		/* where it runs: the first series that knows it */
		for (int l = 4; l < 7; l++) {
			static const char *const keys[] = { "container", "pod", "namespace" };

			if (s->vals[l][0] && json_is_null(json_object_get(srv, keys[l - 4])))
				json_object_set_new(srv, keys[l - 4], json_string(s->vals[l]));
		}
	}
	api_for_each_series (f->sessions, s) {
		srv = api_server(by_name, s->vals[0]);
		api_add(srv, "sessions", s->value);
		if (s->value > 0 && json_is_null(json_object_get(srv, "transport")))
			json_object_set_new(srv, "transport", json_string(s->vals[1]));
	}
	api_for_each_series (f->in_flight, s)
		api_add(api_server(by_name, s->vals[0]), "in_flight", s->value);
	api_for_each_series (f->notifications, s)
		api_add(api_server(by_name, s->vals[0]), "notifications", s->value);
	api_for_each_series (f->expired, s)
		api_add(api_server(by_name, s->vals[0]), "expired", s->value);
	api_for_each_series (f->last_seen, s)
		json_object_set_new(api_server(by_name, s->vals[0]), "last_seen",
				    json_real(s->value));

	servers = api_sorted(by_name);
	if (!servers)
		goto out;
	json_array_foreach (servers, i, srv) {
		json_object_set_new(srv, "methods", api_sorted(json_object_get(srv, "methods")));
		json_object_set_new(srv, "tools", api_sorted(json_object_get(srv, "tools")));
	}
	for (i = 0; i < METRICS_NBUCKETS; i++)
		json_array_append_new(bounds, json_real(metrics_buckets[i]));
	doc = json_pack("{s:s, s:f, s:O, s:o}", "version", version, "time", now, "bounds", bounds,
			"servers", servers);
	if (doc)
		text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER | API_DUMP_PRECISION);
	if (text)
		*len = strlen(text);
out:
	json_decref(doc);
	json_decref(bounds);
	json_decref(by_name);
	return text;
}

int metrics_api_render_call(const struct metrics_api_call *c, char **buf, size_t *len, size_t *cap)
{
	json_t *o = json_pack("{s:I, s:f, s:s, s:s, s:s?, s:s, s:s?, s:f}", "seq",
			      (json_int_t)c->seq, "time", c->time, "server", c->server, "method",
			      c->method, "tool", c->tool, "status", c->status, "error_code",
			      c->error_code, "duration_seconds", c->seconds);
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | API_DUMP_PRECISION) : NULL;
	size_t n;

	json_decref(o);
	if (!s)
		return -ENOMEM;
	n = strlen(s) + 1;
	if (*len + n > *cap) {
		size_t ncap = *cap ? *cap : 16384;
		char *nb;

		while (ncap < *len + n)
			ncap *= 2;
		nb = realloc(*buf, ncap);
		if (!nb) {
			free(s);
			return -ENOMEM;
		}
		*buf = nb;
		*cap = ncap;
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	free(s);
	return 0;
}

char *metrics_api_calls_json(const struct metrics_snapshot *s, uint64_t since, size_t *len)
{
	uint64_t missed = 0;
	const char *p = s->api_calls;
	size_t cap = 256, n = 0;
	char *out, head[256];
	int reset = 0, first = 1;

	/* a since beyond the last call: this daemon restarted, start over */
	if (since > s->api_last_seq) {
		reset = 1;
		since = 0;
	}
	if (since && s->api_ncalls && since + 1 < s->api_first_seq)
		missed = s->api_first_seq - since - 1;
	for (uint32_t i = 0; p && i < s->api_ncalls; i++) {
		size_t l = strlen(p);

		cap += l + 1;
		p += l + 1;
	}
	out = malloc(cap);
	if (!out)
		return NULL;
	n = snprintf(head, sizeof(head),
		     "{\"first_seq\":%" PRIu64 ",\"last_seq\":%" PRIu64 ",\"missed\":%" PRIu64
		     ",\"reset\":%s,\"time\":%.3f,\"calls\":[",
		     s->api_ncalls ? s->api_first_seq : s->api_last_seq + 1, s->api_last_seq,
		     missed, reset ? "true" : "false", s->time);
	memcpy(out, head, n);
	p = s->api_calls;
	for (uint32_t i = 0; p && i < s->api_ncalls; i++) {
		size_t l = strlen(p);

		if (s->api_first_seq + i > since) {
			if (!first)
				out[n++] = ',';
			memcpy(out + n, p, l);
			n += l;
			first = 0;
		}
		p += l + 1;
	}
	memcpy(out + n, "]}", 3);
	*len = n + 2;
	return out;
}

char *metrics_api_health_json(const struct metrics_snapshot *s, int ready, size_t *len)
{
	json_t *o =
	    json_pack("{s:s, s:b, s:s, s:f, s:f, s:I, s:I, s:I, s:I}", "status",
		      ready ? "ok" : "starting", "ready", ready, "version", MCPWIRE_VERSION, "time",
		      s->time, "start_time", s->start_time, "servers", (json_int_t)s->nservers,
		      "last_call_seq", (json_int_t)s->api_last_seq, "events_lost",
		      (json_int_t)s->events_lost, "parse_errors", (json_int_t)s->parse_errors);
	char *text =
	    o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | API_DUMP_PRECISION) : NULL;

	json_decref(o);
	if (text)
		*len = strlen(text);
	return text;
}
