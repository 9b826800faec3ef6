/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * http/ — the scrape endpoint (design.md "CLI and HTTP contract"), on
 * libmicrohttpd with its own polling thread, modelled on collectd's
 * write_prometheus:
 *   GET /metrics   the last published metrics snapshot, text exposition
 *                  format 0.0.4, "Content-Type: text/plain; version=0.0.4;
 *                  charset=utf-8"
 *   GET /healthz   200 "ok\n" once http_server_set_ready(h, 1), 503 "starting\n"
 *                  before: the socket is bound before the BPF programs are
 *                  attached (a port in use must fail first), and a probe or a
 *                  test must not take a bound port for a capturing daemon
 *   GET /api/v1/servers, /api/v1/calls?since=N, /api/v1/health
 *                  the JSON API mcptop reads (docs/api.md, metrics/api.h),
 *                  "Content-Type: application/json"; unknown /api/v1/ paths
 *                  404 with a JSON error
 *   anything else  404; methods other than GET and HEAD get 405
 * The server threads only read snapshots (metrics_snapshot_get()), never the
 * pipeline's live tables.
 */
#ifndef MCPWIRE_HTTP_SERVER_H
#define MCPWIRE_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

struct metrics;
struct http_server;

#define HTTP_SERVER_DEFAULT_LISTEN ":9473"

/*
 * Starts serving on listen_addr (NULL: HTTP_SERVER_DEFAULT_LISTEN):
 * "HOST:PORT" (an IPv4 literal or a host name, bound to its first
 * address), "[IPv6]:PORT", or ":PORT" for every
 * interface (IPv6 dual-stack, IPv4 only when the host has no IPv6). PORT 0
 * takes an ephemeral port (see http_server_port()). m must outlive the server.
 *
 * Returns NULL on failure with a one-line message in err, for example
 * "port 9473 already in use" or "bad listen address "x": expected HOST:PORT,
 * :PORT or [IPv6]:PORT".
 */
struct http_server *http_server_start(const char *listen_addr, struct metrics *m, char *err,
				      size_t errlen);
/* Marks the daemon ready (or not) for /healthz; any thread. */
void http_server_set_ready(struct http_server *h, int ready);
/* The port actually bound, host byte order. */
uint16_t http_server_port(const struct http_server *h);
/* Stops the thread, closes the socket, frees h (NULL is allowed). */
void http_server_stop(struct http_server *h);

#endif /* MCPWIRE_HTTP_SERVER_H */
