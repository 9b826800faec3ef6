// SPDX-License-Identifier: GPL-2.0-only
/*
 * mcptop/fetch — HTTP/1.0 GET over a socket (RFC 1945): the server closes
 * the connection after the body, so no chunked decoding is needed.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mcptop/fetch.h"

/* API answers are small; a bigger one is a wrong URL, not mcpwire. */
#define FETCH_MAX_BYTES (64u << 20)

int fetch_parse_url(const char *url, struct fetch_url *u, char *err, size_t errlen)
{
	const char *p = url, *hend, *path;
	size_t n;

	memset(u, 0, sizeof(*u));
	if (strncmp(p, "http://", 7)) {
		snprintf(err, errlen, "bad URL \"%s\": expected http://HOST[:PORT]", url);
		return -1;
	}
	p += 7;
	path = strchr(p, '/');
	if (!path)
		path = p + strlen(p);
	if (*p == '[') {
		hend = memchr(p, ']', path - p);
		if (!hend)
			goto bad;
		n = hend - p - 1;
		if (!n || n >= sizeof(u->host))
			goto bad;
		memcpy(u->host, p + 1, n);
		hend++;
	} else {
		hend = memchr(p, ':', path - p);
		if (!hend)
			hend = path;
		n = hend - p;
		if (!n || n >= sizeof(u->host))
			goto bad;
		memcpy(u->host, p, n);
	}
	if (*hend == ':') {
		n = path - hend - 1;
		if (!n || n >= sizeof(u->port) || strspn(hend + 1, "0123456789") < n)
			goto bad;
		memcpy(u->port, hend + 1, n);
	} else if (hend != path) {
		goto bad;
	} else {
		strcpy(u->port, "80");
	}
	snprintf(u->base, sizeof(u->base), "%s", path);
	n = strlen(u->base);
	while (n && u->base[n - 1] == '/')
		u->base[--n] = '\0';
	return 0;
bad:
	snprintf(err, errlen, "bad URL \"%s\": expected http://HOST[:PORT]", url);
	return -1;
}

static long fetch_ms_left(const struct timespec *end)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (end->tv_sec - now.tv_sec) * 1000 + (end->tv_nsec - now.tv_nsec) / 1000000;
}

/* Waits for events on fd until end; 1 ready, 0 timeout, -1 error. */
static int fetch_wait(int fd, short events, const struct timespec *end)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	long left = fetch_ms_left(end);
	int rc;

	if (left <= 0)
		return 0;
	do
		rc = poll(&pfd, 1, (int)left);
	while (rc < 0 && errno == EINTR);
	return rc;
}

static int fetch_connect(const struct fetch_url *u, const struct timespec *end, char *err,
			 size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res = NULL, *ai;
	int fd = -1, rc, e = ECONNREFUSED;

	rc = getaddrinfo(u->host, u->port, &hints, &res);
	if (rc) {
		snprintf(err, errlen, "cannot resolve %s: %s", u->host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		socklen_t elen = sizeof(e);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			e = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		e = errno;
		if (e == EINPROGRESS) {
			rc = fetch_wait(fd, POLLOUT, end);
			if (rc > 0 && !getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) && !e)
				break;
			if (rc == 0)
				e = ETIMEDOUT;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "cannot connect to %s:%s: %s", u->host, u->port, strerror(e));
	return fd;
}

int fetch_get(const struct fetch_url *u, const char *path, int timeout_ms, char **body, size_t *len,
	      char *err, size_t errlen)
{
	struct timespec end;
	char req[1024], *buf = NULL, *hdr_end;
	size_t cap = 0, n = 0, off = 0;
	int fd, status = -1, reqlen;

	*body = NULL;
	*len = 0;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += timeout_ms / 1000;
	end.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (end.tv_nsec >= 1000000000) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000;
	}
	fd = fetch_connect(u, &end, err, errlen);
	if (fd < 0)
		return -1;
	reqlen = snprintf(req, sizeof(req),
			  "GET %s%s HTTP/1.0\r\nHost: %s:%s\r\nUser-Agent: mcptop\r\n"
			  "Accept: application/json\r\n\r\n",
			  u->base, path, u->host, u->port);
	while (off < (size_t)reqlen) {
		ssize_t w = send(fd, req + off, reqlen - off, MSG_NOSIGNAL);

		if (w > 0) {
			off += w;
		} else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (fetch_wait(fd, POLLOUT, &end) <= 0)
				goto timeout;
		} else {
			snprintf(err, errlen, "send to %s:%s: %s", u->host, u->port,
				 strerror(errno));
			goto out;
		}
	}
	for (;;) {
		ssize_t r;

		if (n + 4096 + 1 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			if (cap > FETCH_MAX_BYTES) {
				snprintf(err, errlen, "answer from %s:%s too large", u->host,
					 u->port);
				goto out;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
			buf = nb;
		}
		r = recv(fd, buf + n, cap - n - 1, 0);
		if (r > 0) {
			n += r;
		} else if (r == 0) {
			break;
		} else if (errno == EAGAIN || errno == EINTR) {
			if (fetch_wait(fd, POLLIN, &end) <= 0)
				goto timeout;
		} else {
			snprintf(err, errlen, "receive from %s:%s: %s", u->host, u->port,
				 strerror(errno));
			goto out;
		}
	}
	if (!buf)
		goto bad;
	buf[n] = '\0';
	hdr_end = strstr(buf, "\r\n\r\n");
	if (strncmp(buf, "HTTP/1.", 7) || n < 12 || !hdr_end)
		goto bad;
	status = atoi(buf + 9);
	*len = n - (hdr_end + 4 - buf);
	memmove(buf, hdr_end + 4, *len + 1);
	*body = buf;
	buf = NULL;
	goto out;
timeout:
	snprintf(err, errlen, "%s:%s did not answer within %d ms", u->host, u->port, timeout_ms);
	goto out;
bad:
	snprintf(err, errlen, "%s:%s does not speak HTTP", u->host, u->port);
out:
	free(buf);
	close(fd);
	return status;
}
