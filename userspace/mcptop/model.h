/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mcptop/model — the /api/v1/ documents (docs/api.md) parsed with jansson
 * into plain structs. No I/O, so the unit tests feed it what mcpwire's
 * metrics/api renders and check the two sides agree.
 */
#ifndef MCPTOP_MODEL_H
#define MCPTOP_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "mcptop/stats.h"

#define MT_NAME_MAX 256

/* A server, a method of one, or a tool of one. */
struct mt_stat {
	char name[MT_NAME_MAX];
	uint64_t calls, ok, errors, cancelled;
	uint64_t count;			   /* duration observations */
	double sum;			   /* seconds */
	uint64_t counts[STATS_MAX_COUNTS]; /* per bucket, overflow last */
	/* client_duration (docs/api.md): what the clients on this host waited,
	 * same shape; client_count 0 when no client's socket was seen (or an
	 * older mcpwire without the field) */
	uint64_t client_count;
	double client_sum;
	uint64_t client_counts[STATS_MAX_COUNTS];
};

struct mt_server {
	struct mt_stat st;
	char version[64], protocol[32], transport[32];
	int64_t in_flight, sessions;
	uint64_t notifications, expired;
	double last_seen; /* wall-clock seconds; 0: never */
	struct mt_stat *methods, *tools;
	int nmethods, ntools;
};

struct mt_servers {
	double time; /* the snapshot's wall-clock seconds */
	int nbounds;
	double bounds[STATS_MAX_BOUNDS];
	struct mt_server *v;
	int n;
};

struct mt_call {
	uint64_t seq;
	double time;
	double seconds;
	char server[MT_NAME_MAX];
	char method[64];
	char tool[MT_NAME_MAX]; /* "" unless tools/call */
	char status[16];
	char code[32]; /* "" unless status is error */
};

struct mt_calls {
	uint64_t last_seq; /* give it back as since= next time */
	uint64_t missed;   /* calls the ring dropped before the client saw them */
	int reset;	   /* the daemon restarted: since was ignored */
	struct mt_call *v;
	int n;
};

/* Returns 0, or -1 with a one-line reason in err. out is replaced. */
int mt_parse_servers(const char *json, size_t len, struct mt_servers *out, char *err,
		     size_t errlen);
void mt_servers_free(struct mt_servers *s);
int mt_parse_calls(const char *json, size_t len, struct mt_calls *out, char *err, size_t errlen);
void mt_calls_free(struct mt_calls *c);

#endif /* MCPTOP_MODEL_H */
