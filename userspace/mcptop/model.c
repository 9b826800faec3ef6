// SPDX-License-Identifier: GPL-2.0-only
/*
 * mcptop/model — parsing of /api/v1/servers and /api/v1/calls.
 *
 * Lenient on purpose: a missing or mistyped field reads as 0 or "", so an
 * older or newer mcpwire still shows what both understand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mcptop/model.h"

static void mt_str(char *dst, size_t len, json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	snprintf(dst, len, "%s", s ? s : "");
}

static uint64_t mt_uint(json_t *o, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(o, key));

	return v > 0 ? (uint64_t)v : 0;
}

/* A "duration" or "client_duration" object: count, sum, counts[]. */
static void mt_parse_hist(json_t *d, uint64_t *count, double *sum, uint64_t *counts, int nbounds)
{
	json_t *c;
	size_t i;

	*count = mt_uint(d, "count");
	*sum = json_number_value(json_object_get(d, "sum"));
	json_array_foreach (json_object_get(d, "counts"), i, c)
		if ((int)i <= nbounds && i < STATS_MAX_COUNTS)
			counts[i] = json_integer_value(c) > 0 ? json_integer_value(c) : 0;
}

static void mt_parse_stat(json_t *o, struct mt_stat *st, int nbounds)
{
	mt_str(st->name, sizeof(st->name), o, "name");
	st->calls = mt_uint(o, "calls");
	st->ok = mt_uint(o, "ok");
	st->errors = mt_uint(o, "errors");
	st->cancelled = mt_uint(o, "cancelled");
	mt_parse_hist(json_object_get(o, "duration"), &st->count, &st->sum, st->counts, nbounds);
	mt_parse_hist(json_object_get(o, "client_duration"), &st->client_count, &st->client_sum,
		      st->client_counts, nbounds);
}

static struct mt_stat *mt_parse_stats(json_t *arr, int *n, int nbounds)
{
	struct mt_stat *v;
	json_t *o;
	size_t i;

	*n = 0;
	if (!json_array_size(arr))
		return NULL;
	v = calloc(json_array_size(arr), sizeof(*v));
	if (!v)
		return NULL;
	json_array_foreach (arr, i, o)
		mt_parse_stat(o, &v[(*n)++], nbounds);
	return v;
}

void mt_servers_free(struct mt_servers *s)
{
	for (int i = 0; s->v && i < s->n; i++) {
		free(s->v[i].methods);
		free(s->v[i].tools);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

int mt_parse_servers(const char *json, size_t len, struct mt_servers *out, char *err, size_t errlen)
{
	json_error_t je;
	json_t *doc = json_loadb(json, len, 0, &je), *arr, *o;
	size_t i;

	mt_servers_free(out);
	if (!doc) {
		snprintf(err, errlen, "bad JSON from /api/v1/servers: %s (line %d)", je.text,
			 je.line);
		return -1;
	}
	arr = json_object_get(doc, "servers");
	if (!json_is_array(arr) || !json_is_array(json_object_get(doc, "bounds"))) {
		snprintf(err, errlen, "/api/v1/servers: no \"servers\" or \"bounds\" array");
		json_decref(doc);
		return -1;
	}
	out->time = json_number_value(json_object_get(doc, "time"));
	json_array_foreach (json_object_get(doc, "bounds"), i, o)
		if (i < STATS_MAX_BOUNDS)
			out->bounds[out->nbounds++] = json_number_value(o);
	out->v = calloc(json_array_size(arr) ? json_array_size(arr) : 1, sizeof(*out->v));
	if (!out->v) {
		snprintf(err, errlen, "out of memory");
		json_decref(doc);
		return -1;
	}
	json_array_foreach (arr, i, o) {
		struct mt_server *s = &out->v[out->n++];

		mt_parse_stat(o, &s->st, out->nbounds);
		mt_str(s->version, sizeof(s->version), o, "version");
		mt_str(s->protocol, sizeof(s->protocol), o, "protocol_version");
		mt_str(s->transport, sizeof(s->transport), o, "transport");
		s->in_flight = json_integer_value(json_object_get(o, "in_flight"));
		s->sessions = json_integer_value(json_object_get(o, "sessions"));
		s->notifications = mt_uint(o, "notifications");
		s->expired = mt_uint(o, "expired");
		s->last_seen = json_number_value(json_object_get(o, "last_seen"));
		s->methods =
		    mt_parse_stats(json_object_get(o, "methods"), &s->nmethods, out->nbounds);
		s->tools = mt_parse_stats(json_object_get(o, "tools"), &s->ntools, out->nbounds);
	}
	json_decref(doc);
	return 0;
}

void mt_calls_free(struct mt_calls *c)
{
	free(c->v);
	memset(c, 0, sizeof(*c));
}

int mt_parse_calls(const char *json, size_t len, struct mt_calls *out, char *err, size_t errlen)
{
	json_error_t je;
	json_t *doc = json_loadb(json, len, 0, &je), *arr, *o;
	size_t i;

	mt_calls_free(out);
	if (!doc) {
		snprintf(err, errlen, "bad JSON from /api/v1/calls: %s (line %d)", je.text,
			 je.line);
		return -1;
	}
	arr = json_object_get(doc, "calls");
	if (!json_is_array(arr)) {
		snprintf(err, errlen, "/api/v1/calls: no \"calls\" array");
		json_decref(doc);
		return -1;
	}
	out->last_seq = mt_uint(doc, "last_seq");
	out->missed = mt_uint(doc, "missed");
	out->reset = json_is_true(json_object_get(doc, "reset"));
	out->v = calloc(json_array_size(arr) ? json_array_size(arr) : 1, sizeof(*out->v));
	if (!out->v) {
		snprintf(err, errlen, "out of memory");
		json_decref(doc);
		return -1;
	}
	json_array_foreach (arr, i, o) {
		struct mt_call *c = &out->v[out->n++];

		c->seq = mt_uint(o, "seq");
		c->time = json_number_value(json_object_get(o, "time"));
		c->seconds = json_number_value(json_object_get(o, "duration_seconds"));
		mt_str(c->server, sizeof(c->server), o, "server");
		mt_str(c->method, sizeof(c->method), o, "method");
		mt_str(c->tool, sizeof(c->tool), o, "tool");
		mt_str(c->status, sizeof(c->status), o, "status");
		mt_str(c->code, sizeof(c->code), o, "error_code");
	}
	json_decref(doc);
	return 0;
}
