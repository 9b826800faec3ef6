/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * metrics/api — the JSON documents of /api/v1/ (docs/api.md), rendered with
 * jansson.
 *
 * Two sides, as for /metrics:
 *  - the pipeline thread renders /api/v1/servers and each call of the ring
 *    into the snapshot at metrics_publish() (metrics_api_render_*), from the
 *    live families;
 *  - the HTTP threads assemble /api/v1/calls and /api/v1/health from an
 *    immutable snapshot only (metrics_api_calls_json, metrics_api_health_json).
 */
#ifndef MCPWIRE_METRICS_API_H
#define MCPWIRE_METRICS_API_H

#include <stddef.h>
#include <stdint.h>

#include "metrics/registry.h"

struct metrics_snapshot;

/* The families /api/v1/servers is built from; any may be NULL. */
struct metrics_api_fams {
	const struct metrics_family *requests;	    /* server_name, method, status */
	const struct metrics_family *req_duration;  /* server_name, method */
	const struct metrics_family *tool_calls;    /* server_name, tool_name, status */
	const struct metrics_family *tool_duration; /* server_name, tool_name */
	const struct metrics_family *client_req_duration;  /* server_name, method */
	const struct metrics_family *client_tool_duration; /* server_name, tool_name */
	const struct metrics_family *info;	    /* server_name, version, protocol, transport */
	const struct metrics_family *sessions;	    /* server_name, transport */
	const struct metrics_family *in_flight;	    /* server_name */
	const struct metrics_family *last_seen;	    /* server_name */
	const struct metrics_family *notifications; /* server_name, method, direction */
	const struct metrics_family *expired;	    /* server_name */
};

/* The GET /api/v1/servers body, malloc()ed and NUL-terminated, or NULL on
 * allocation failure. now: wall-clock seconds of the snapshot. */
char *metrics_api_render_servers(const struct metrics_api_fams *f, const char *version, double now,
				 size_t *len);

/* One finished call, names resolved. */
struct metrics_api_call {
	uint64_t seq;
	double time; /* wall-clock seconds at the call's end */
	const char *server;
	const char *method;
	const char *tool;	/* NULL unless tools/call */
	const char *status;	/* ok, error, cancelled */
	const char *error_code; /* NULL unless status is error */
	double seconds;
};

/* Appends c as one compact JSON object and a NUL to *buf (grown with
 * realloc; *len and *cap track it). Returns 0 or -ENOMEM. */
int metrics_api_render_call(const struct metrics_api_call *c, char **buf, size_t *len, size_t *cap);

/*
 * GET /api/v1/calls?since=N from a snapshot: the calls with seq > since
 * (all the ring holds when since is 0), oldest first, with "first_seq",
 * "last_seq" and "missed" (calls after since that the ring no longer
 * holds). malloc()ed, or NULL on allocation failure. Any thread.
 */
char *metrics_api_calls_json(const struct metrics_snapshot *s, uint64_t since, size_t *len);
/* GET /api/v1/health from a snapshot; ready: the capture is attached. */
char *metrics_api_health_json(const struct metrics_snapshot *s, int ready, size_t *len);

#endif /* MCPWIRE_METRICS_API_H */
