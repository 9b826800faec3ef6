// SPDX-License-Identifier: GPL-2.0-only
/*
 * docker/engine: the Engine API client against a real HTTP server on a unix
 * socket (libmicrohttpd, answering the shapes of the Engine API's network and
 * container inspect), as the daemon's socket would.
 */
#include <errno.h>
#include <microhttpd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "docker/engine.h"

struct fixture {
	char dir[64];
	char sock[108];
	struct MHD_Daemon *d;
	int fd;
	unsigned hits;
};

static const char *route(const char *url, unsigned *status)
{
	*status = 200;
	if (!strcmp(url, "/networks/ai-challenge-network"))
		return "{\"Name\":\"ai-challenge-network\",\"Id\":\"3f2a9c1b7d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff\","
		       "\"Driver\":\"bridge\",\"Options\":{}}";
	if (!strcmp(url, "/networks/bridge"))
		return "{\"Name\":\"bridge\",\"Id\":\"aaaabbbbccccdddd\",\"Driver\":\"bridge\","
		       "\"Options\":{\"com.docker.network.bridge.name\":\"docker0\"}}";
	if (!strcmp(url, "/networks/ovl"))
		return "{\"Name\":\"ovl\",\"Id\":\"0123456789abcdef\",\"Driver\":\"overlay\"}";
	if (!strcmp(url, "/networks/longname"))
		return "{\"Name\":\"longname\",\"Id\":\"0123456789abcdef\",\"Driver\":\"bridge\","
		       "\"Options\":{\"com.docker.network.bridge.name\":\"a-bridge-name-over-15\"}}";
	if (!strcmp(url, "/containers/4b1d/json"))
		return "{\"Id\":\"4b1d\",\"Name\":\"/mcp-everything-1\",\"Config\":{}}";
	if (!strcmp(url, "/containers/broken/json"))
		return "{\"Id\":";
	if (!strcmp(url, "/containers/huge/json"))
		return NULL; /* built by the handler */
	*status = 404;
	return "{\"message\":\"No such object\"}";
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
			       const char *method, const char *version, const char *upload_data,
			       size_t *upload_size, void **req_cls)
{
	struct fixture *f = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	unsigned status;
	const char *body = route(url, &status);

	f->hits++;
	if (!body) {
		size_t n = DOCKER_ENGINE_MAX_BODY + 100;
		char *big = malloc(n);

		memset(big, ' ', n);
		big[0] = '{';
		big[n - 1] = '}';
		r = MHD_create_response_from_buffer(n, big, MHD_RESPMEM_MUST_FREE);
	} else {
		r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	}
	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(f->dir, sizeof(f->dir), "/tmp/mcpwire-docker.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->sock, sizeof(f->sock), "%s/docker.sock", f->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->sock);
	f->fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (f->fd < 0 || bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(f->fd, 16))
		return -1;
	f->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handler, f,
				MHD_OPTION_LISTEN_SOCKET, f->fd, MHD_OPTION_END);
	*state = f;
	return f->d ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	MHD_stop_daemon(f->d);
	close(f->fd);
	unlink(f->sock);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void network_without_bridge_option_is_br_and_id(void **state)
{
	struct fixture *f = *state;
	char ifname[16], err[256] = "";

	assert_int_equal(docker_network_bridge(f->sock, "ai-challenge-network", ifname, sizeof(ifname),
					       err, sizeof(err)), 0);
	assert_string_equal(ifname, "br-3f2a9c1b7d4e");
}

static void network_bridge_option_wins(void **state)
{
	struct fixture *f = *state;
	char ifname[16];

	assert_int_equal(docker_network_bridge(f->sock, "bridge", ifname, sizeof(ifname), NULL, 0), 0);
	assert_string_equal(ifname, "docker0");
}

static void network_errors(void **state)
{
	struct fixture *f = *state;
	char ifname[16], err[256] = "";
	unsigned before = f->hits;

	assert_int_equal(docker_network_bridge(f->sock, "nope", ifname, sizeof(ifname), err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "not found"));
	assert_int_equal(docker_network_bridge(f->sock, "ovl", ifname, sizeof(ifname), err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "overlay"));
	assert_int_equal(docker_network_bridge(f->sock, "longname", ifname, sizeof(ifname), err,
					       sizeof(err)), -EPROTO);
	/* A name that would change the request path never reaches the engine. */
	assert_int_equal(docker_network_bridge(f->sock, "../containers/4b1d/json", ifname,
					       sizeof(ifname), err, sizeof(err)), -EINVAL);
	assert_int_equal(docker_network_bridge(f->sock, "a b", ifname, sizeof(ifname), NULL, 0), -EINVAL);
	assert_int_equal(f->hits, before + 3);
}

static void container_name_drops_the_slash(void **state)
{
	struct fixture *f = *state;
	char name[64];

	assert_int_equal(docker_container_name(f->sock, "4b1d", name, sizeof(name), NULL, 0), 0);
	assert_string_equal(name, "mcp-everything-1");
}

static void container_bad_answers(void **state)
{
	struct fixture *f = *state;
	char name[64], err[256] = "";

	assert_int_equal(docker_container_name(f->sock, "broken", name, sizeof(name), err, sizeof(err)),
			 -EPROTO);
	assert_non_null(strstr(err, "not JSON"));
	assert_int_equal(docker_container_name(f->sock, "huge", name, sizeof(name), err, sizeof(err)),
			 -EPROTO);
	assert_non_null(strstr(err, "larger than"));
	assert_int_equal(docker_container_name(f->sock, "gone", name, sizeof(name), NULL, 0), -ENOENT);
}

static void no_engine_is_refused(void **state)
{
	char name[64], err[256] = "";

	assert_int_equal(docker_container_name("/nonexistent/docker.sock", "4b1d", name, sizeof(name),
					       err, sizeof(err)), -ECONNREFUSED);
	assert_non_null(strstr(err, "/nonexistent/docker.sock"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(network_without_bridge_option_is_br_and_id),
		cmocka_unit_test(network_bridge_option_wins),
		cmocka_unit_test(network_errors),
		cmocka_unit_test(container_name_drops_the_slash),
		cmocka_unit_test(container_bad_answers),
		cmocka_unit_test(no_engine_is_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
