// SPDX-License-Identifier: GPL-2.0-only
/*
 * calllog/ — JSON lines for finished calls (docs/call-log.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "calllog/calllog.h"
#include "calllog/redact.h"
#include "metrics/metrics.h"

/* Compact, one line; durations keep microseconds up to 10^5 ms (jansson's
 * default of 17 digits would print 1.234 as 1.2339999999999999). */
#define CALLLOG_DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(10))

struct calllog {
	char *path;	     /* NULL for standard output */
	int fd;
	int payloads;
	int offset_fixed;    /* tests: never re-read the clock */
	int partial;	     /* a failed write left half a line in the file */
	int64_t offset_ns;   /* wall clock - CLOCK_MONOTONIC */
	char *buf;	     /* CALLLOG_BUF_SIZE bytes of whole lines */
	size_t len;
	uint32_t lines;	     /* lines in buf */
	uint64_t errors;
	uint64_t records;
	struct mcp_identity_source ident; /* attribution; lookup NULL: none */
};

static const char *const calllog_statuses[] = { "ok", "error", "cancelled", "expired", "evicted" };
static const char *const calllog_transports[] = { "streamable_http", "sse", "stdio" };
static const char *const calllog_dirs[] = { "client_to_server", "server_to_client" };
static const char *const calllog_targets[] = { NULL, "tool", "prompt", "resource" };

static int64_t calllog_clock_offset(void)
{
	struct timespec r, m;

	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m);
	return ((int64_t)r.tv_sec - m.tv_sec) * 1000000000LL + (r.tv_nsec - m.tv_nsec);
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing past U+10FFFF), 0 when there is none. */
static size_t calllog_utf8_len(const unsigned char *s)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* A JSON string of a wire string: bytes that are not UTF-8 become U+FFFD,
 * since JSON text must be UTF-8 (RFC 8259 §8.1) and jansson refuses it. */
static json_t *calllog_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	json_t *v = json_string(s);
	size_t n = strlen(s), o = 0;
	char *out;

	if (v)
		return v;
	out = malloc(3 * n + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t k = calllog_utf8_len(p + i);

		if (k) {
			memcpy(out + o, p + i, k);
			o += k;
			i += k;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	v = json_stringn(out, o);
	free(out);
	return v;
}

/* The id as on the wire: a JSON integer when it was one, else a string. */
static json_t *calllog_id(const struct jsonrpc_id *id)
{
	char text[JSONRPC_ID_MAX + 1];
	size_t len = id->len < JSONRPC_ID_MAX ? id->len : JSONRPC_ID_MAX;
	char *end;
	long long v;

	memcpy(text, id->text, len);
	text[len] = '\0';
	if (id->type == JSONRPC_ID_NUM && !id->truncated) {
		errno = 0;
		v = strtoll(text, &end, 10);
		if (!errno && end != text && !*end)
			return json_integer(v);
	}
	if (id->type == JSONRPC_ID_NUM || id->type == JSONRPC_ID_STR)
		return calllog_str(text);
	return json_null();
}

/* RFC 3339 UTC with microseconds. */
static void calllog_time(char *buf, size_t len, int64_t wall_ns)
{
	time_t sec = (time_t)(wall_ns / 1000000000LL);
	long us = (long)(wall_ns % 1000000000LL) / 1000;
	struct tm tm;

	if (us < 0) {
		us += 1000000;
		sec--;
	}
	gmtime_r(&sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us);
}

/* The error_code value: the vocabulary of the mcp_request_errors_total
 * label, so a line and a series can be matched, but never capped. */
static json_t *calllog_error_code(const struct mcp_call_record *r)
{
	char buf[32];

	switch (r->err) {
	case METRICS_ERR_TOOL:
		return json_string("tool_error");
	case METRICS_ERR_HTTP:
		snprintf(buf, sizeof(buf), "http_%" PRId64, r->err_value);
		return json_string(buf);
	case METRICS_ERR_JSONRPC:
		snprintf(buf, sizeof(buf), "%" PRId64, r->err_value);
		return json_string(buf);
	default:
		return json_string("no_code");
	}
}

/* Sets o[key] = v, stealing v; *bad when either is missing. */
static void calllog_set(json_t *o, const char *key, json_t *v, int *bad)
{
	if (!o || !v || json_object_set_new(o, key, v))
		*bad = 1;
}

/*
 * A payload value: parsed, redacted, logged as JSON. A cut or unparsable
 * text cannot be redacted with certainty, so it is never logged; the record
 * says why instead (key_omitted).
 */
static void calllog_payload(json_t *o, const char *key, const struct mcp_call_text *t, int *bad)
{
	char omitted[32];
	const char *why = NULL;
	json_t *v = NULL;

	if (!t->s)
		return;
	snprintf(omitted, sizeof(omitted), "%s_omitted", key);
	if (t->truncated) {
		why = "truncated";
	} else {
		v = json_loadb(t->s, t->len, JSON_DECODE_ANY, NULL);
		if (!v)
			why = "invalid";
		else if (redact_json(v) < 0)
			why = "redaction_failed";
	}
	if (why) {
		json_decref(v);
		calllog_set(o, omitted, json_string(why), bad);
		return;
	}
	calllog_set(o, key, v, bad);
}

static json_t *calllog_object(struct calllog *l, const struct mcp_call_record *r)
{
	char when[80];
	json_t *o;
	int bad = 0;
	uint8_t st = r->status <= MCP_CALL_EVICTED ? r->status : MCP_CALL_ERROR;
	uint64_t us = (r->end_ns - r->start_ns + 500) / 1000;

	calllog_time(when, sizeof(when), (int64_t)r->start_ns + l->offset_ns);
	o = json_pack("{s:s, s:o, s:o}", "time", when, "server", calllog_str(r->server),
		      "method", calllog_str(r->method));
	if (r->target_kind && r->target_kind < 4)
		calllog_set(o, calllog_targets[r->target_kind], calllog_str(r->target), &bad);
	calllog_set(o, "status", json_string(calllog_statuses[st]), &bad);
	if (st == MCP_CALL_ERROR)
		calllog_set(o, "error_code", calllog_error_code(r), &bad);
	calllog_set(o, "duration_ms", json_real((double)us / 1000.0), &bad);
	if (r->client_seen)
		calllog_set(o, "client_duration_ms",
			    json_real((double)((r->client_duration_ns + 500) / 1000) / 1000.0),
			    &bad);
	if (r->client_name)
		calllog_set(o, "client",
			    json_pack("{s:o, s:o}", "name", calllog_str(r->client_name), "version",
				      calllog_str(r->client_version ? r->client_version : "")),
			    &bad);
	if (r->session && r->session[0])
		calllog_set(o, "session", calllog_str(r->session), &bad);
	calllog_set(o, "transport",
		    json_string(r->transport < 3 ? calllog_transports[r->transport] : "unknown"),
		    &bad);
	calllog_set(o, "direction", json_string(calllog_dirs[r->dir ? 1 : 0]), &bad);
	if (r->id)
		calllog_set(o, "id", calllog_id(r->id), &bad);
	calllog_set(o, "endpoint", calllog_str(r->endpoint), &bad);
	if (r->server_pid) {
		calllog_set(o, "server_pid", json_integer(r->server_pid), &bad);
		if (r->server_comm && r->server_comm[0])
			calllog_set(o, "server_comm", calllog_str(r->server_comm), &bad);
	}
	if (r->client_pid) {
		calllog_set(o, "client_pid", json_integer(r->client_pid), &bad);
		if (r->client_comm && r->client_comm[0])
			calllog_set(o, "client_comm", calllog_str(r->client_comm), &bad);
	}
	/* where the processes run (attribution): keys only when known */
	if (l->ident.lookup) {
		static const char *const keys[2][3] = {
			{ "container", "pod", "namespace" },
			{ "client_container", "client_pod", "client_namespace" },
		};
		uint32_t pids[2] = { r->server_pid, r->client_pid };
		struct mcp_identity id;

		for (int side = 0; side < 2; side++) {
			if (!pids[side] || !l->ident.lookup(l->ident.arg, pids[side], &id))
				continue;
			if (id.container[0])
				calllog_set(o, keys[side][0], calllog_str(id.container), &bad);
			if (id.pod[0])
				calllog_set(o, keys[side][1], calllog_str(id.pod), &bad);
			if (id.ns[0])
				calllog_set(o, keys[side][2], calllog_str(id.ns), &bad);
		}
	}
	if (r->truncated)
		calllog_set(o, "truncated", json_true(), &bad);
	if (l->payloads) {
		calllog_payload(o, "arguments", &r->arguments, &bad);
		calllog_payload(o, "result", &r->result, &bad);
		calllog_payload(o, "error", &r->error, &bad);
	}
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

char *calllog_format(struct calllog *l, const struct mcp_call_record *r)
{
	json_t *o = calllog_object(l, r);
	char *s;

	if (!o)
		return NULL;
	s = json_dumps(o, CALLLOG_DUMP_FLAGS);
	json_decref(o);
	return s;
}

/* Writes len bytes holding `lines` whole lines. Lines not completely written
 * are lost and counted. */
static int calllog_write_out(struct calllog *l, const char *p, size_t len, uint32_t lines)
{
	size_t off = 0;
	uint32_t lost = 0;
	ssize_t w;

	if (!len)
		return 0;
	/* end the half line a failed write left, so the next line parses */
	if (l->partial) {
		do
			w = write(l->fd, "\n", 1);
		while (w < 0 && errno == EINTR);
		if (w == 1)
			l->partial = 0;
	}
	while (off < len) {
		w = write(l->fd, p + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int err = w < 0 ? -errno : -EIO;

			for (const char *q = p + off; (q = memchr(q, '\n', p + len - q)); q++)
				lost++;
			l->partial = off > 0 && p[off - 1] != '\n';
			l->errors += lost;
			l->records += lines - lost;
			return err;
		}
		off += (size_t)w;
	}
	l->records += lines;
	return 0;
}

int calllog_flush(struct calllog *l)
{
	int err = calllog_write_out(l, l->buf, l->len, l->lines);

	l->len = 0;
	l->lines = 0;
	if (!l->offset_fixed)
		l->offset_ns = calllog_clock_offset();
	return err;
}

void calllog_write(struct calllog *l, const struct mcp_call_record *r)
{
	json_t *o = calllog_object(l, r);
	size_t space, n;
	char *s, *line;

	if (!o) {
		l->errors++;
		return;
	}
	/* one byte kept for the line end */
	space = CALLLOG_BUF_SIZE - l->len - 1;
	n = json_dumpb(o, l->buf + l->len, space, CALLLOG_DUMP_FLAGS);
	if (n && n > space) {
		calllog_flush(l);
		space = CALLLOG_BUF_SIZE - 1;
		n = json_dumpb(o, l->buf, space, CALLLOG_DUMP_FLAGS);
	}
	if (n && n <= space) {
		l->buf[l->len + n] = '\n';
		l->len += n + 1;
		l->lines++;
	} else if (n) {
		/* larger than the whole buffer (payloads): written on its own */
		s = json_dumps(o, CALLLOG_DUMP_FLAGS);
		line = s ? realloc(s, strlen(s) + 2) : NULL;
		if (line) {
			n = strlen(line);
			line[n] = '\n';
			calllog_write_out(l, line, n + 1, 1);
			free(line);
		} else {
			free(s);
			l->errors++;
		}
	} else {
		l->errors++;
	}
	json_decref(o);
}

static void calllog_sink_call(void *arg, const struct mcp_call_record *r)
{
	calllog_write(arg, r);
}

struct mcp_call_sink calllog_sink(struct calllog *l)
{
	return (struct mcp_call_sink){
		.call = calllog_sink_call,
		.arg = l,
		.payloads = (uint8_t)l->payloads,
	};
}

static int calllog_open_fd(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);

	if (fd < 0)
		snprintf(err, errlen, "cannot open call log %s: %s", path, strerror(errno));
	return fd;
}

struct calllog *calllog_open(const char *path, int payloads, char *err, size_t errlen)
{
	struct calllog *l = calloc(1, sizeof(*l));

	if (!l || !(l->buf = malloc(CALLLOG_BUF_SIZE))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	l->payloads = payloads;
	l->offset_ns = calllog_clock_offset();
	if (!strcmp(path, "-")) {
		l->fd = STDOUT_FILENO;
		return l;
	}
	l->path = strdup(path);
	if (!l->path) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	l->fd = calllog_open_fd(path, err, errlen);
	if (l->fd < 0)
		goto fail;
	return l;
fail:
	if (l) {
		free(l->buf);
		free(l->path);
	}
	free(l);
	return NULL;
}

int calllog_reopen(struct calllog *l, char *err, size_t errlen)
{
	int fd;

	calllog_flush(l);
	if (!l->path)
		return 0;
	fd = calllog_open_fd(l->path, err, errlen);
	if (fd < 0)
		return -errno;
	close(l->fd);
	l->fd = fd;
	l->partial = 0;
	return 0;
}

void calllog_close(struct calllog *l)
{
	if (!l)
		return;
	calllog_flush(l);
	if (l->path)
		close(l->fd);
	free(l->buf);
	free(l->path);
	free(l);
}

void calllog_set_identity_source(struct calllog *l, const struct mcp_identity_source *src)
{
	if (src && src->lookup)
		l->ident = *src;
	else
		memset(&l->ident, 0, sizeof(l->ident));
}

uint64_t calllog_errors(const struct calllog *l)
{
	return l->errors;
}

uint64_t calllog_records(const struct calllog *l)
{
	return l->records;
}

void calllog_set_clock_offset(struct calllog *l, int64_t offset_ns)
{
	l->offset_ns = offset_ns;
	l->offset_fixed = 1;
}
