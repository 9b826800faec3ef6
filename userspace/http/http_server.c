// SPDX-License-Identifier: GPL-2.0-only
/*
 * http/ — libmicrohttpd server for /metrics and /healthz.
 *
 * The listening socket is made here rather than by libmicrohttpd so the
 * operator's exact address is bound (IPv4, IPv6 or dual-stack wildcard) and
 * a failure can be reported as one clear line (design.md "CLI and HTTP
 * contract": port in use is an error, not a log message).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http/http_server.h"
#include "metrics/api.h"
#include "metrics/metrics.h"

/* libmicrohttpd 0.9.71 turned the handler's int result into an enum. */
#if MHD_VERSION >= 0x00097002
#define MHD_RESULT enum MHD_Result
#else
#define MHD_RESULT int
#endif

#define HTTP_SERVER_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
/* Scrapers are few; the cap keeps a flood of idle connections from pinning
 * file descriptors. */
#define HTTP_SERVER_MAX_CONNS 64
#define HTTP_SERVER_TIMEOUT_S 10
#define HTTP_SERVER_JSON "application/json"
/* The pipeline renders the API only once asked (metrics_api_want()) and
 * publishes every ~100 ms: the first request waits this long for it. */
#define HTTP_SERVER_API_WAIT_MS 1000

struct http_server {
	struct MHD_Daemon *daemon;
	struct metrics *m;
	int fd;
	uint16_t port;
	atomic_int ready; /* http_server_set_ready(): the pipeline is capturing */
};

static MHD_RESULT http_server_reply(struct MHD_Connection *conn, unsigned int status,
				    const char *body, const char *allow)
{
	struct MHD_Response *res;
	MHD_RESULT ret;

	res = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!res)
		return MHD_NO;
	MHD_add_response_header(res, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (allow)
		MHD_add_response_header(res, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(conn, status, res);
	MHD_destroy_response(res);
	return ret;
}

static void http_server_snapshot_free(void *cls)
{
	metrics_snapshot_put(cls);
}

static MHD_RESULT http_server_metrics(struct http_server *h, struct MHD_Connection *conn)
{
	struct metrics_snapshot *snap = metrics_snapshot_get(h->m);
	struct MHD_Response *res;
	MHD_RESULT ret;

	if (!snap)
		return http_server_reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "no metrics yet\n",
					 NULL);
	/* the response holds the snapshot's reference and drops it when done */
	res = MHD_create_response_from_buffer_with_free_callback_cls(
		snap->len, (void *)snap->text, http_server_snapshot_free, snap);
	if (!res) {
		metrics_snapshot_put(snap);
		return MHD_NO;
	}
	MHD_add_response_header(res, MHD_HTTP_HEADER_CONTENT_TYPE, HTTP_SERVER_CONTENT_TYPE);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, res);
	MHD_destroy_response(res);
	return ret;
}

static MHD_RESULT http_server_json(struct MHD_Connection *conn, unsigned int status, char *body,
				   size_t len)
{
	struct MHD_Response *res;
	MHD_RESULT ret;

	if (!body)
		return MHD_NO;
	res = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!res) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(res, MHD_HTTP_HEADER_CONTENT_TYPE, HTTP_SERVER_JSON);
	MHD_add_response_header(res, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(conn, status, res);
	MHD_destroy_response(res);
	return ret;
}

static MHD_RESULT http_server_json_error(struct MHD_Connection *conn, unsigned int status,
					 const char *msg)
{
	char *body = NULL;
	int n = asprintf(&body, "{\"error\":\"%s\"}", msg);

	return http_server_json(conn, status, n < 0 ? NULL : body, n < 0 ? 0 : (size_t)n);
}

/* A snapshot with the API rendered, waiting for the pipeline's next
 * publication when this is the first request in a while; NULL if none came. */
static struct metrics_snapshot *http_server_api_snapshot(struct http_server *h)
{
	struct timespec ts = { .tv_nsec = 20 * 1000000 };

	metrics_api_want(h->m);
	for (int waited = 0;; waited += 20) {
		struct metrics_snapshot *snap = metrics_snapshot_get(h->m);

		if (snap && snap->api_servers)
			return snap;
		metrics_snapshot_put(snap);
		if (waited >= HTTP_SERVER_API_WAIT_MS)
			return NULL;
		nanosleep(&ts, NULL);
	}
}

/* GET /api/v1/...: docs/api.md. */
static MHD_RESULT http_server_api(struct http_server *h, struct MHD_Connection *conn,
				  const char *what)
{
	struct metrics_snapshot *snap;
	struct MHD_Response *res;
	MHD_RESULT ret;
	char *body;
	size_t len = 0;

	if (strcmp(what, "servers") && strcmp(what, "calls") && strcmp(what, "health"))
		return http_server_json_error(conn, MHD_HTTP_NOT_FOUND, "not found");
	snap = http_server_api_snapshot(h);
	if (!snap)
		return http_server_json_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
					      "no snapshot yet");
	if (!strcmp(what, "health")) {
		int ready = atomic_load(&h->ready);

		body = metrics_api_health_json(snap, ready, &len);
		metrics_snapshot_put(snap);
		return http_server_json(conn, ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
					body, len);
	}
	if (!strcmp(what, "calls")) {
		const char *since = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
								"since");
		unsigned long long n = 0;
		char *end = NULL;

		if (since) {
			errno = 0;
			n = strtoull(since, &end, 10);
			if (errno || end == since || *end || *since < '0' || *since > '9') {
				metrics_snapshot_put(snap);
				return http_server_json_error(conn, MHD_HTTP_BAD_REQUEST,
							      "since: expected a call sequence "
							      "number");
			}
		}
		body = metrics_api_calls_json(snap, n, &len);
		metrics_snapshot_put(snap);
		return http_server_json(conn, MHD_HTTP_OK, body, len);
	}
	/* the response holds the snapshot's reference, as /metrics does */
	res = MHD_create_response_from_buffer_with_free_callback_cls(
		snap->api_servers_len, (void *)snap->api_servers, http_server_snapshot_free, snap);
	if (!res) {
		metrics_snapshot_put(snap);
		return MHD_NO;
	}
	MHD_add_response_header(res, MHD_HTTP_HEADER_CONTENT_TYPE, HTTP_SERVER_JSON);
	MHD_add_response_header(res, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, res);
	MHD_destroy_response(res);
	return ret;
}

static MHD_RESULT http_server_handler(void *cls, struct MHD_Connection *conn, const char *url,
				      const char *method, const char *version,
				      const char *upload_data, size_t *upload_data_size,
				      void **con_cls)
{
	struct http_server *h = cls;

	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return http_server_reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
					 "method not allowed\n", "GET, HEAD");
	if (!strcmp(url, "/metrics"))
		return http_server_metrics(h, conn);
	if (!strncmp(url, "/api/v1/", 8))
		return http_server_api(h, conn, url + 8);
	if (!strcmp(url, "/healthz")) {
		if (!atomic_load(&h->ready))
			return http_server_reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
						 "starting\n", NULL);
		return http_server_reply(conn, MHD_HTTP_OK, "ok\n", NULL);
	}
	return http_server_reply(conn, MHD_HTTP_NOT_FOUND, "not found\n", NULL);
}

/* Splits "HOST:PORT", ":PORT" or "[V6]:PORT"; host is "" for the wildcard. */
static int http_server_split(const char *listen, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon, *h = listen;
	size_t n;
	char *end;
	unsigned long p;

	if (*listen == '[') {
		const char *close = strchr(listen, ']');

		if (!close || close[1] != ':')
			return -1;
		h = listen + 1;
		n = close - h;
		colon = close + 1;
		if (!n)
			return -1;
	} else {
		colon = strrchr(listen, ':');
		if (!colon || memchr(listen, ':', colon - listen))
			return -1;
		n = colon - listen;
	}
	if (n >= hostlen || !colon[1])
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno || *end || p > 65535 || colon[1] < '0' || colon[1] > '9')
		return -1;
	*port = (uint16_t)p;
	return 0;
}

/* Binds and listens on ss; on failure returns -1 with err filled. */
static int http_server_bind(const struct sockaddr_storage *ss, socklen_t sslen, int wildcard6,
			    const char *addr, uint16_t port, char *err, size_t errlen)
{
	int one = 1, zero = 0, e;
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "cannot listen on %s: %s", addr, strerror(e));
		errno = e;
		return -1;
	}
	/* lets a restart bind while old connections sit in TIME_WAIT; Linux still
	 * refuses a port another socket listens on */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, wildcard6 ? &zero : &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, sslen) == 0 && listen(fd, 64) == 0)
		return fd;
	e = errno;
	close(fd);
	if (e == EADDRINUSE)
		snprintf(err, errlen, "port %u already in use", port);
	else if (e == EADDRNOTAVAIL)
		snprintf(err, errlen, "cannot listen on %s: address not on this host", addr);
	else if (e == EACCES)
		snprintf(err, errlen, "cannot listen on %s: port %u needs privileges", addr, port);
	else
		snprintf(err, errlen, "cannot listen on %s: %s", addr, strerror(e));
	errno = e;
	return -1;
}

/* The listening socket for addr, or -1 with err filled. */
static int http_server_socket(const char *addr, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	char host[256];
	uint16_t port;
	int fd;

	if (http_server_split(addr, host, sizeof(host), &port)) {
		snprintf(err, errlen,
			 "bad listen address \"%s\": expected HOST:PORT, :PORT or [IPv6]:PORT",
			 addr);
		return -1;
	}
	memset(&ss, 0, sizeof(ss));
	if (!host[0]) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_any;
		s6->sin6_port = htons(port);
		fd = http_server_bind(&ss, sizeof(*s6), 1, addr, port, err, errlen);
		if (fd >= 0 || (errno != EAFNOSUPPORT && errno != EADDRNOTAVAIL))
			return fd;
		/* a kernel without IPv6: every interface is every IPv4 one */
		memset(&ss, 0, sizeof(ss));
		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_ANY);
		s4->sin_port = htons(port);
		return http_server_bind(&ss, sizeof(*s4), 0, addr, port, err, errlen);
	} else {
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
		struct addrinfo *res = NULL;
		char service[8];
		int rc;

		if (addr[0] == '[')
			hints.ai_flags |= AI_NUMERICHOST;
		snprintf(service, sizeof(service), "%u", port);
		rc = getaddrinfo(host, service, &hints, &res);
		if (rc || !res || res->ai_addrlen > sizeof(ss)) {
			snprintf(err, errlen, "bad listen address \"%s\": %s", addr,
				 rc ? gai_strerror(rc) : "no address");
			if (res)
				freeaddrinfo(res);
			return -1;
		}
		memcpy(&ss, res->ai_addr, res->ai_addrlen);
		fd = http_server_bind(&ss, res->ai_addrlen, 0, addr, port, err, errlen);
		freeaddrinfo(res);
		return fd;
	}
}

struct http_server *http_server_start(const char *listen_addr, struct metrics *m, char *err,
				      size_t errlen)
{
	struct http_server *h = calloc(1, sizeof(*h));
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC;

	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->m = m;
	h->fd = http_server_socket(listen_addr ? listen_addr : HTTP_SERVER_DEFAULT_LISTEN, err,
				   errlen);
	if (h->fd < 0) {
		free(h);
		return NULL;
	}
	if (getsockname(h->fd, (struct sockaddr *)&ss, &sslen) == 0) {
		if (ss.ss_family == AF_INET6) {
			h->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
			flags |= MHD_USE_IPv6;
		} else {
			h->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		}
	}
	if (MHD_is_feature_supported(MHD_FEATURE_POLL))
		flags |= MHD_USE_POLL;
	h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, http_server_handler, h,
				     MHD_OPTION_LISTEN_SOCKET, h->fd, MHD_OPTION_CONNECTION_LIMIT,
				     (unsigned int)HTTP_SERVER_MAX_CONNS,
				     MHD_OPTION_CONNECTION_TIMEOUT,
				     (unsigned int)HTTP_SERVER_TIMEOUT_S, MHD_OPTION_END);
	if (!h->daemon) {
		snprintf(err, errlen, "cannot start the HTTP server on %s",
			 listen_addr ? listen_addr : HTTP_SERVER_DEFAULT_LISTEN);
		close(h->fd);
		free(h);
		return NULL;
	}
	return h;
}

void http_server_set_ready(struct http_server *h, int ready)
{
	atomic_store(&h->ready, ready);
}

uint16_t http_server_port(const struct http_server *h)
{
	return h->port;
}

void http_server_stop(struct http_server *h)
{
	MHD_socket fd;

	if (!h)
		return;
	/* quiescing hands the listening socket back, so it is closed exactly
	 * once; if that fails, MHD_stop_daemon() closes it */
	fd = MHD_quiesce_daemon(h->daemon);
	MHD_stop_daemon(h->daemon);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	free(h);
}
