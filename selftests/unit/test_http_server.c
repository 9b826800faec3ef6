// SPDX-License-Identifier: GPL-2.0-only
/*
 * http/: a real server on loopback, queried over real sockets.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "http/http_server.h"
#include "metrics/metrics.h"

struct fixture {
	struct metrics *m;
	struct http_server *h;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256] = "";

	f->m = metrics_new(NULL);
	f->h = http_server_start("127.0.0.1:0", f->m, err, sizeof(err));
	if (!f->h)
		fprintf(stderr, "http_server_start: %s\n", err);
	*state = f;
	return f->m && f->h ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	http_server_stop(f->h);
	metrics_free(f->m);
	free(f);
	return 0;
}

/* Sends raw to family/addr:port and returns the whole answer (the server
 * closes after an HTTP/1.0 request). */
static char *http_raw(int family, const char *addr, uint16_t port, const char *raw)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct timeval tv = { .tv_sec = 5 };
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	int fd = socket(family, SOCK_STREAM, 0);
	ssize_t r;

	assert_true(fd >= 0);
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		inet_pton(AF_INET, addr, &s4->sin_addr);
		len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &s6->sin6_addr);
		len = sizeof(*s6);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(write(fd, raw, strlen(raw)), (ssize_t)strlen(raw));
	while ((r = read(fd, buf + n, cap - n - 1)) > 0) {
		n += r;
		if (n + 1 == cap)
			buf = realloc(buf, cap *= 2);
	}
	buf[n] = '\0';
	close(fd);
	return buf;
}

static char *http_get(struct fixture *f, const char *method, const char *path)
{
	char req[256];

	snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: localhost\r\n\r\n", method, path);
	return http_raw(AF_INET, "127.0.0.1", http_server_port(f->h), req);
}

/* MHD answers HTTP/1.0 requests as HTTP/1.1 (RFC 7230 §2.6 allows it). */
static int status_of(const char *res)
{
	assert_memory_equal(res, "HTTP/1.", 7);
	return atoi(res + 9);
}

static const char *body_of(const char *res)
{
	const char *b = strstr(res, "\r\n\r\n");

	assert_non_null(b);
	return b + 4;
}

static void test_metrics(void **state)
{
	struct fixture *f = *state;
	struct metrics_snapshot *snap;
	char *res;

	metrics_parse_error(f->m, "json");
	metrics_publish(f->m);
	snap = metrics_snapshot_get(f->m);
	res = http_get(f, "GET", "/metrics");
	assert_int_equal(status_of(res), 200);
	assert_non_null(strcasestr(res, "\r\nContent-Type: text/plain; version=0.0.4; "
					"charset=utf-8\r\n"));
	assert_string_equal(body_of(res), snap->text);
	assert_non_null(strstr(body_of(res), "mcpwire_parse_errors_total{reason=\"json\"} 1\n"));
	free(res);
	metrics_snapshot_put(snap);

	/* HEAD: headers only */
	res = http_get(f, "HEAD", "/metrics");
	assert_int_equal(status_of(res), 200);
	assert_string_equal(body_of(res), "");
	free(res);
}

static void test_healthz_404_405(void **state)
{
	struct fixture *f = *state;
	char *res;

	/* bound but not capturing yet: not healthy */
	res = http_get(f, "GET", "/healthz");
	assert_int_equal(status_of(res), 503);
	assert_string_equal(body_of(res), "starting\n");
	free(res);
	http_server_set_ready(f->h, 1);
	res = http_get(f, "GET", "/healthz");
	assert_int_equal(status_of(res), 200);
	assert_string_equal(body_of(res), "ok\n");
	free(res);

	res = http_get(f, "GET", "/nope");
	assert_int_equal(status_of(res), 404);
	free(res);

	res = http_get(f, "DELETE", "/metrics");
	assert_int_equal(status_of(res), 405);
	assert_non_null(strcasestr(res, "\r\nAllow: GET, HEAD\r\n"));
	free(res);

	res = http_raw(AF_INET, "127.0.0.1", http_server_port(f->h),
		       "POST /metrics HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc");
	assert_int_equal(status_of(res), 405);
	free(res);
}

static void test_port_in_use(void **state)
{
	struct fixture *f = *state;
	char addr[64], err[256] = "", want[64];
	struct http_server *h2;

	snprintf(addr, sizeof(addr), "127.0.0.1:%u", http_server_port(f->h));
	h2 = http_server_start(addr, f->m, err, sizeof(err));
	assert_null(h2);
	snprintf(want, sizeof(want), "port %u already in use", http_server_port(f->h));
	assert_string_equal(err, want);

	/* the wildcard overlaps 127.0.0.1 too */
	snprintf(addr, sizeof(addr), ":%u", http_server_port(f->h));
	h2 = http_server_start(addr, f->m, err, sizeof(err));
	assert_null(h2);
	assert_string_equal(err, want);
}

static void test_bad_addresses(void **state)
{
	static const char *const bad[] = { "nonsense", "1.2.3.4", ":", ":99999", ":12x",
					   "[::1]9473", "[]:1", "::1:9473", "1.2.3.4:" };
	struct fixture *f = *state;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_null(http_server_start(bad[i], f->m, err, sizeof(err)));
		if (strncmp(err, "bad listen address", 18))
			fail_msg("%s: %s", bad[i], err);
		assert_null(strchr(err, '\n'));
	}
	/* an address this host does not have */
	assert_null(http_server_start("192.0.2.1:0", f->m, err, sizeof(err)));
	assert_non_null(strstr(err, "192.0.2.1:0"));
}

static void test_ipv6_and_wildcard(void **state)
{
	struct fixture *f = *state;
	char err[256] = "";
	struct http_server *h = http_server_start("[::1]:0", f->m, err, sizeof(err));
	char *res;

	if (!h) {
		/* a build box without IPv6 loopback */
		print_message("skipping IPv6: %s\n", err);
	} else {
		http_server_set_ready(h, 1);
		res = http_raw(AF_INET6, "::1", http_server_port(h),
			       "GET /healthz HTTP/1.0\r\n\r\n");
		assert_int_equal(status_of(res), 200);
		free(res);
		http_server_stop(h);
	}
	/* ":0" listens on every interface, IPv4 included */
	h = http_server_start(":0", f->m, err, sizeof(err));
	assert_non_null(h);
	http_server_set_ready(h, 1);
	res = http_raw(AF_INET, "127.0.0.1", http_server_port(h), "GET /healthz HTTP/1.0\r\n\r\n");
	assert_string_equal(body_of(res), "ok\n");
	free(res);
	http_server_stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_healthz_404_405, setup, teardown),
		cmocka_unit_test_setup_teardown(test_port_in_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_and_wildcard, setup, teardown),
	};

	return cmocka_run_group_tests_name("http_server", tests, NULL, NULL);
}
