/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mcptop/fetch — a minimal HTTP/1.0 GET client for mcpwire's API: plain
 * http:// only (mcpwire serves nothing else), one request per connection,
 * every step bounded by a timeout so the screen never hangs on a stuck
 * daemon.
 */
#ifndef MCPTOP_FETCH_H
#define MCPTOP_FETCH_H

#include <stddef.h>

struct fetch_url {
	char host[256];
	char port[8];
	char base[256]; /* path prefix without the trailing '/', may be "" */
};

/* "http://HOST[:PORT][/PREFIX]", HOST may be "[v6]". 0 or -1 with err set. */
int fetch_parse_url(const char *url, struct fetch_url *u, char *err, size_t errlen);
/* GETs base + path. Returns the HTTP status (body in *body, malloc()ed,
 * NUL-terminated, *len bytes), or -1 with err set (connection refused, ...). */
int fetch_get(const struct fetch_url *u, const char *path, int timeout_ms, char **body, size_t *len,
	      char *err, size_t errlen);

#endif /* MCPTOP_FETCH_H */
