// SPDX-License-Identifier: GPL-2.0-only
/*
 * attrib/kubelet: the PodList parser on a realistic kubelet /pods answer
 * (selftests/fixtures/kubelet-pods.json: init, ephemeral and waiting
 * containers, a static pod, an item without a uid), bad answers, and
 * kubelet_fetch() against a real HTTP server on loopback.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "attrib/kubelet.h"

static char *fixture_text(size_t *len)
{
	const char *dir = getenv("MCPWIRE_FIXTURES");
	char path[512];
	char *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/kubelet-pods.json", dir ? dir : "selftests/fixtures");
	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void check_fixture(const struct kubelet_pods *p)
{
	const struct kubelet_container *c;
	const struct kubelet_pod *pod;

	/* no-uid is dropped, github's waiting container has no id yet */
	assert_int_equal(p->npods, 4);
	assert_int_equal(p->nctrs, 6);
	assert_int_equal(p->dropped, 2);

	c = kubelet_container_by_id(p, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	assert_non_null(c);
	assert_string_equal(c->name, "server");
	assert_string_equal(p->pods[c->pod].name, "mcp-everything-7d9f8b6c5-x2x4q");
	assert_string_equal(p->pods[c->pod].ns, "mcp");
	c = kubelet_container_by_id(p, "1111111111111111111111111111111111111111111111111111111111111111");
	assert_non_null(c);
	assert_string_equal(c->name, "wait-config");
	c = kubelet_container_by_id(p, "6666666666666666666666666666666666666666666666666666666666666666");
	assert_non_null(c);
	assert_string_equal(c->name, "debugger-abcde");
	assert_string_equal(p->pods[c->pod].name, "debugged");
	c = kubelet_container_by_id(p, "3333333333333333333333333333333333333333333333333333333333333333");
	assert_non_null(c);
	assert_string_equal(p->pods[c->pod].ns, "kube-system");
	assert_null(kubelet_container_by_id(p, "4444444444444444444444444444444444444444444444444444444444444444"));

	pod = kubelet_pod_by_uid(p, "7c0b5f9e-2d1a-4c3b-9e8f-0a1b2c3d4e5f");
	assert_non_null(pod);
	assert_string_equal(pod->name, "mcp-everything-7d9f8b6c5-x2x4q");
	/* upper-case uids are matched as the lower-case cgroup names have them */
	pod = kubelet_pod_by_uid(p, "a1b2c3d4-0000-4000-8000-00000000000a");
	assert_non_null(pod);
	assert_string_equal(pod->name, "mcp-github-0");
	assert_string_equal(pod->ns, "tools");
	/* a static pod: the cgroup carries the config hash, so does the list */
	pod = kubelet_pod_by_uid(p, "6a2e4b9c0d1f2e3a4b5c6d7e8f901234");
	assert_non_null(pod);
	assert_string_equal(pod->name, "kube-apiserver-worker-1");
	assert_null(kubelet_pod_by_uid(p, "00000000-0000-0000-0000-000000000000"));
}

static void parse_realistic(void **state)
{
	struct kubelet_pods p;
	size_t len;
	char *text = fixture_text(&len);

	assert_int_equal(kubelet_pods_parse(text, len, &p, NULL, 0), 0);
	check_fixture(&p);
	kubelet_pods_free(&p);
	free(text);
}

static void parse_bad(void **state)
{
	static const char *const bad[] = {
		"", "{", "[]", "{}", "{\"items\":{}}", "{\"items\":\"x\"}", "null", "\xff\xfe",
	};
	struct kubelet_pods p;
	char err[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(kubelet_pods_parse(bad[i], strlen(bad[i]), &p, err, sizeof(err)),
				 -EPROTO);
		assert_true(err[0]);
		assert_int_equal(p.npods, 0);
	}
	/* wrong types inside the items are skipped, never fatal */
	const char *odd = "{\"items\":[1,\"x\",null,{\"metadata\":[]},"
			  "{\"metadata\":{\"uid\":5,\"name\":\"a\",\"namespace\":\"b\"}},"
			  "{\"metadata\":{\"uid\":\"../../etc\",\"name\":\"a\",\"namespace\":\"b\"}},"
			  "{\"metadata\":{\"uid\":\"7c0b5f9e-2d1a-4c3b-9e8f-0a1b2c3d4e5f\",\"name\":\"a\","
			  "\"namespace\":\"b\"},\"status\":{\"containerStatuses\":[7,{\"containerID\":"
			  "\"containerd://zz\"},{\"containerID\":5},{\"name\":\"n\",\"containerID\":"
			  "\"containerd:/" "/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefff\"}]}}]}";

	assert_int_equal(kubelet_pods_parse(odd, strlen(odd), &p, err, sizeof(err)), 0);
	assert_int_equal(p.npods, 1);
	assert_int_equal(p.nctrs, 0);
	assert_int_equal(p.dropped, 6 + 4);
	kubelet_pods_free(&p);
}

/* --- kubelet_fetch against a real HTTP server --- */

struct srv {
	struct MHD_Daemon *d;
	uint16_t port;
	char *pods;
	size_t pods_len;
	char auth[256];
};

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
			       const char *method, const char *version, const char *upload_data,
			       size_t *upload_size, void **req_cls)
{
	struct srv *s = cls;
	const char *a = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	unsigned status = 200;
	struct MHD_Response *r;
	enum MHD_Result ret;
	const char *body = "{}";
	size_t len;

	snprintf(s->auth, sizeof(s->auth), "%s", a ? a : "");
	if (!strcmp(url, "/pods"))
		body = s->pods;
	else if (!strcmp(url, "/forbidden"))
		status = 403, body = "Forbidden (user=system:serviceaccount:mcpwire:mcpwire, verb=get, resource=nodes, subresource=proxy)";
	else if (!strcmp(url, "/text"))
		body = "not json";
	else
		status = 404, body = "404 page not found";
	len = body == s->pods ? s->pods_len : strlen(body);
	r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static int setup(void **state)
{
	struct srv *s = calloc(1, sizeof(*s));
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl))
		return -1;
	s->port = ntohs(sa.sin_port);
	s->pods = fixture_text(&s->pods_len);
	s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handler, s,
				MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_END);
	*state = s;
	return s->d ? 0 : -1;
}

static int teardown(void **state)
{
	struct srv *s = *state;

	MHD_stop_daemon(s->d);
	free(s->pods);
	free(s);
	return 0;
}

static void fetch_pods(void **state)
{
	struct srv *s = *state;
	char url[128], tok[] = "/tmp/mcpwire-kubelet-token.XXXXXX", err[256] = "";
	struct kubelet_config cfg = { .url = url, .token = tok };
	struct kubelet_pods p;
	int fd = mkstemp(tok);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "secret-token\n", 13), 13);
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/pods", s->port);
	assert_int_equal(kubelet_fetch(&cfg, &p, err, sizeof(err)), 0);
	check_fixture(&p);
	kubelet_pods_free(&p);
	/* the bearer token never goes out over cleartext http */
	assert_string_equal(s->auth, "");
	unlink(tok);
}

static void fetch_errors(void **state)
{
	struct srv *s = *state;
	char url[128], err[256] = "";
	struct kubelet_config cfg = { .url = url };
	struct kubelet_pods p;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/forbidden", s->port);
	assert_int_equal(kubelet_fetch(&cfg, &p, err, sizeof(err)), -EACCES);
	assert_non_null(strstr(err, "nodes/proxy"));
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/text", s->port);
	assert_int_equal(kubelet_fetch(&cfg, &p, err, sizeof(err)), -EPROTO);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/nope", s->port);
	assert_int_equal(kubelet_fetch(&cfg, &p, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "404"));
	/* a port nobody listens on: bound, not listening */
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/pods", ntohs(sa.sin_port));
	assert_int_equal(kubelet_fetch(&cfg, &p, err, sizeof(err)), -ECONNREFUSED);
	close(fd);
	/* only http and https */
	snprintf(url, sizeof(url), "file:///etc/passwd");
	assert_int_equal(kubelet_fetch(&cfg, &p, err, sizeof(err)), -EPROTO);
}

static void default_url(void **state)
{
	char buf[128];

	unsetenv("KUBERNETES_SERVICE_HOST");
	setenv("NODE_NAME", "worker-1", 1);
	assert_int_equal(kubelet_default_url(buf, sizeof(buf)), 0);
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	assert_int_equal(kubelet_default_url(buf, sizeof(buf)), 1);
	assert_string_equal(buf, "https://worker-1:10250/pods");
	setenv("NODE_IP", "fd00::5", 1);
	assert_int_equal(kubelet_default_url(buf, sizeof(buf)), 1);
	assert_string_equal(buf, "https://[fd00::5]:10250/pods");
	setenv("NODE_IP", "10.0.0.5", 1);
	assert_int_equal(kubelet_default_url(buf, sizeof(buf)), 1);
	assert_string_equal(buf, "https://10.0.0.5:10250/pods");
	unsetenv("NODE_IP");
	unsetenv("NODE_NAME");
	assert_int_equal(kubelet_default_url(buf, sizeof(buf)), 0);
	unsetenv("KUBERNETES_SERVICE_HOST");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_realistic),
		cmocka_unit_test(parse_bad),
		cmocka_unit_test(fetch_pods),
		cmocka_unit_test(fetch_errors),
		cmocka_unit_test(default_url),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
