// SPDX-License-Identifier: GPL-2.0-only
/*
 * attrib/resolver: the tgid cache and its thread, on a fake /proc tree (the
 * files the kernel would show) with a real Docker Engine API stand-in on a
 * unix socket and a real kubelet stand-in on loopback (libmicrohttpd):
 * names found once per container, cache and queue bounds with their
 * counters, pid reuse, exited processes, kubelet rate limiting.
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
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "attrib/resolver.h"

#define IDA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define IDB "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define UID "7c0b5f9e-2d1a-4c3b-9e8f-0a1b2c3d4e5f"
#define UID_ "7c0b5f9e_2d1a_4c3b_9e8f_0a1b2c3d4e5f"

struct fx {
	char dir[64];	/* fake /proc */
	char sock[100]; /* fake docker.sock */
	struct MHD_Daemon *docker, *kubelet;
	unsigned docker_hits, kubelet_hits;
	uint16_t kport;
	char kurl[64];
	char *pods;
	size_t pods_len;
};

static enum MHD_Result docker_h(void *cls, struct MHD_Connection *conn, const char *url,
				const char *method, const char *version, const char *upload_data,
				size_t *upload_size, void **req_cls)
{
	struct fx *f = cls;
	const char *body = "{\"message\":\"No such container\"}";
	unsigned status = 404;
	struct MHD_Response *r;
	enum MHD_Result ret;

	f->docker_hits++;
	if (!strcmp(url, "/containers/" IDA "/json"))
		status = 200, body = "{\"Id\":\"" IDA "\",\"Name\":\"/mcp-everything-1\"}";
	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result kubelet_h(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload_data,
				 size_t *upload_size, void **req_cls)
{
	struct fx *f = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;

	f->kubelet_hits++;
	r = MHD_create_response_from_buffer(f->pods_len, f->pods, MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(conn, 200, r);
	MHD_destroy_response(r);
	return ret;
}

static char *slurp(const char *name, size_t *len)
{
	const char *dir = getenv("MCPWIRE_FIXTURES");
	char path[512];
	FILE *fp;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "selftests/fixtures", name);
	fp = fopen(path, "r");
	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, fp) != (size_t)n)
		n = 0;
	buf[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct sockaddr_un su = { .sun_family = AF_UNIX };
	struct sockaddr_in si = { .sin_family = AF_INET };
	socklen_t sl = sizeof(si);
	int ufd, tfd;

	snprintf(f->dir, sizeof(f->dir), "/tmp/mcpwire-proc.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->sock, sizeof(f->sock), "%s/docker.sock", f->dir);
	snprintf(su.sun_path, sizeof(su.sun_path), "%s", f->sock);
	ufd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (ufd < 0 || bind(ufd, (struct sockaddr *)&su, sizeof(su)) || listen(ufd, 16))
		return -1;
	f->docker = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, docker_h, f,
				     MHD_OPTION_LISTEN_SOCKET, ufd, MHD_OPTION_END);
	si.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	tfd = socket(AF_INET, SOCK_STREAM, 0);
	if (tfd < 0 || bind(tfd, (struct sockaddr *)&si, sizeof(si)) || listen(tfd, 16) ||
	    getsockname(tfd, (struct sockaddr *)&si, &sl))
		return -1;
	snprintf(f->kurl, sizeof(f->kurl), "http://127.0.0.1:%u/pods", ntohs(si.sin_port));
	f->pods = slurp("kubelet-pods.json", &f->pods_len);
	f->kubelet = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, kubelet_h, f,
				      MHD_OPTION_LISTEN_SOCKET, tfd, MHD_OPTION_END);
	*state = f;
	return f->docker && f->kubelet && f->pods ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	MHD_stop_daemon(f->docker);
	MHD_stop_daemon(f->kubelet);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd))
		return -1;
	free(f->pods);
	free(f);
	return 0;
}

/* /proc/<pid>/{cgroup,stat} as the kernel writes them; each file replaced
 * whole (rename), as the resolver thread may be reading it */
static void fake_proc(struct fx *f, uint32_t pid, const char *cgroup, unsigned long long start)
{
	char path[200], tmp[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%u", f->dir, pid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%u/cgroup", f->dir, pid);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fp = fopen(tmp, "w");
	assert_non_null(fp);
	fputs(cgroup, fp);
	fclose(fp);
	assert_int_equal(rename(tmp, path), 0);
	snprintf(path, sizeof(path), "%s/%u/stat", f->dir, pid);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fp = fopen(tmp, "w");
	assert_non_null(fp);
	/* a comm with a space and a ")" to trip a naive parser */
	fprintf(fp, "%u (node ) x) S 1 %u %u 0 -1 4194560 100 0 0 0 5 1 0 0 20 0 11 0 %llu "
		    "1000000 100 18446744073709551615\n", pid, pid, pid, start);
	fclose(fp);
	assert_int_equal(rename(tmp, path), 0);
}

static void gone_proc(struct fx *f, uint32_t pid)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%u/cgroup", f->dir, pid);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%u/stat", f->dir, pid);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%u", f->dir, pid);
	rmdir(path);
}

static struct attrib *start(struct fx *f, struct attrib_config *cfg)
{
	char err[128] = "";
	struct attrib *a;

	cfg->proc_root = f->dir;
	a = attrib_start(cfg, err, sizeof(err));
	if (!a)
		fail_msg("%s", err);
	return a;
}

static void resolved(struct attrib *a, uint32_t pid, struct attrib_identity *id)
{
	if (!attrib_lookup(a, pid, id)) {
		attrib_drain(a);
		assert_int_equal(attrib_lookup(a, pid, id), 1);
	}
}

static void docker_names(void **state)
{
	struct fx *f = *state;
	struct attrib_config cfg = { .docker_socket = f->sock };
	struct attrib_identity id;
	struct attrib_stats st;
	struct attrib *a;
	char buf[13];
	unsigned hits;

	fake_proc(f, 100, "0::/system.slice/docker-" IDA ".scope\n", 5);
	fake_proc(f, 101, "1:name=systemd:/docker/" IDA "\n0::/\n", 6);
	fake_proc(f, 102, "0::/user.slice/user-0.slice/session-1.scope\n", 7);
	fake_proc(f, 103, "0::/system.slice/docker-" IDB ".scope\n", 8);
	a = start(f, &cfg);
	hits = f->docker_hits;
	/* the first look-up never waits */
	assert_int_equal(attrib_lookup(a, 100, &id), 0);
	resolved(a, 100, &id);
	assert_string_equal(id.container, "mcp-everything-1");
	assert_string_equal(id.container_id, IDA);
	assert_int_equal(id.runtime, ATTRIB_RT_DOCKER);
	assert_string_equal(attrib_container_label(&id, buf), "mcp-everything-1");
	/* a second process of the same container: no second API call */
	resolved(a, 101, &id);
	assert_string_equal(id.container, "mcp-everything-1");
	assert_int_equal(f->docker_hits - hits, 1);
	/* a host process is known, with nothing in it */
	resolved(a, 102, &id);
	assert_string_equal(id.container_id, "");
	assert_string_equal(id.container, "");
	assert_string_equal(attrib_container_label(&id, buf), "");
	/* a container Docker does not know: the short id as label */
	resolved(a, 103, &id);
	assert_string_equal(id.container, "");
	assert_string_equal(attrib_container_label(&id, buf), "fedcba987654");
	/* a pid without /proc entry: known as nothing */
	resolved(a, 999, &id);
	assert_string_equal(id.container_id, "");
	attrib_get_stats(a, &st);
	assert_int_equal(st.docker_errors, 0);
	assert_int_equal(st.proc_errors, 0);
	assert_int_equal(st.evicted, 0);
	attrib_stop(a);
}

static void no_docker_socket(void **state)
{
	struct fx *f = *state;
	struct attrib_config cfg = { .docker_socket = "/nonexistent/docker.sock" };
	struct attrib_identity id;
	struct attrib_stats st;
	struct attrib *a;
	char buf[13];

	fake_proc(f, 100, "0::/system.slice/docker-" IDA ".scope\n", 5);
	a = start(f, &cfg);
	resolved(a, 100, &id);
	assert_string_equal(id.container_id, IDA);
	assert_string_equal(attrib_container_label(&id, buf), "0123456789ab");
	attrib_get_stats(a, &st);
	assert_int_equal(st.docker_errors, 0);
	attrib_stop(a);
}

static void cache_bound(void **state)
{
	struct fx *f = *state;
	struct attrib_config cfg = { .max_procs = 8 };
	struct attrib_identity id;
	struct attrib_stats st;
	struct attrib *a;

	for (uint32_t pid = 200; pid < 220; pid++)
		fake_proc(f, pid, "0::/docker/" IDB "\n", pid);
	a = start(f, &cfg);
	for (uint32_t pid = 200; pid < 220; pid++)
		resolved(a, pid, &id);
	attrib_get_stats(a, &st);
	assert_int_equal(st.evicted, 12);
	assert_int_equal(st.resolved, 20);
	/* the 8 newest are cached, the oldest went */
	for (uint32_t pid = 212; pid < 220; pid++)
		assert_int_equal(attrib_lookup(a, pid, &id), 1);
	assert_int_equal(attrib_lookup(a, 200, &id), 0);
	attrib_drain(a);
	attrib_get_stats(a, &st);
	assert_int_equal(st.evicted, 13);
	attrib_stop(a);
}

static void queue_bound(void **state)
{
	struct fx *f = *state;
	struct attrib_config cfg = { .queue_len = 4, .paused = 1 };
	struct attrib_identity id;
	struct attrib_stats st;
	struct attrib *a;

	for (uint32_t pid = 300; pid < 310; pid++)
		fake_proc(f, pid, "0::/docker/" IDB "\n", pid);
	a = start(f, &cfg);
	for (uint32_t pid = 300; pid < 310; pid++)
		assert_int_equal(attrib_lookup(a, pid, &id), 0);
	attrib_get_stats(a, &st);
	assert_int_equal(st.queue_full, 6);
	/* asking again while queued costs nothing more */
	assert_int_equal(attrib_lookup(a, 300, &id), 0);
	attrib_get_stats(a, &st);
	assert_int_equal(st.queue_full, 6);
	attrib_resume(a);
	attrib_drain(a);
	for (uint32_t pid = 300; pid < 304; pid++)
		assert_int_equal(attrib_lookup(a, pid, &id), 1);
	/* the ones refused are queued at their next look-up */
	assert_int_equal(attrib_lookup(a, 305, &id), 0);
	attrib_drain(a);
	assert_int_equal(attrib_lookup(a, 305, &id), 1);
	assert_string_equal(id.container_id, IDB);
	attrib_stop(a);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void pid_reuse_and_exit(void **state)
{
	struct fx *f = *state;
	struct attrib_config cfg = { .docker_socket = f->sock, .ttl_ns = 1000000 };
	struct attrib_identity id;
	struct attrib *a;

	fake_proc(f, 400, "0::/system.slice/docker-" IDA ".scope\n", 50);
	a = start(f, &cfg);
	resolved(a, 400, &id);
	assert_string_equal(id.container, "mcp-everything-1");
	/* a revalidation the look-up above may have queued ends first */
	attrib_drain(a);
	/* the pid now belongs to another process in another container */
	fake_proc(f, 400, "0::/system.slice/docker-" IDB ".scope\n", 60);
	sleep_ms(5);
	/* past the TTL: the old answer is served while it is revalidated */
	assert_int_equal(attrib_lookup(a, 400, &id), 1);
	assert_string_equal(id.container_id, IDA);
	attrib_drain(a);
	assert_int_equal(attrib_lookup(a, 400, &id), 1);
	assert_string_equal(id.container_id, IDB);
	/* the process exits: what was known of it stays */
	gone_proc(f, 400);
	sleep_ms(5);
	assert_int_equal(attrib_lookup(a, 400, &id), 1);
	attrib_drain(a);
	assert_int_equal(attrib_lookup(a, 400, &id), 1);
	assert_string_equal(id.container_id, IDB);
	attrib_stop(a);
}

static void kubelet_pods(void **state)
{
	struct fx *f = *state;
	struct attrib_config cfg = { .kubelet_url = f->kurl, .docker_socket = f->sock,
				     .kubelet_interval_ns = 3600ULL * 1000000000ULL };
	struct attrib_identity id;
	struct attrib_stats st;
	struct attrib *a;
	unsigned hits = f->kubelet_hits, dhits = f->docker_hits;

	fake_proc(f, 500, "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
			  ".slice/cri-containerd-" IDA ".scope\n", 1);
	fake_proc(f, 501, "5:pids:/kubepods/burstable/pod" UID "/2222222222222222222222222222222222222222222222222222222222222222\n", 2);
	fake_proc(f, 502, "0::/kubepods/besteffort/pod00000000-1111-2222-3333-444444444444/" IDB "\n", 3);
	fake_proc(f, 503, "0::/kubepods/besteffort/pod00000000-1111-2222-3333-555555555555/" IDB "\n", 4);
	a = start(f, &cfg);
	resolved(a, 500, &id);
	assert_string_equal(id.container, "server");
	assert_string_equal(id.pod, "mcp-everything-7d9f8b6c5-x2x4q");
	assert_string_equal(id.ns, "mcp");
	assert_string_equal(id.pod_uid, UID);
	resolved(a, 501, &id);
	assert_string_equal(id.container, "log-shipper");
	assert_string_equal(id.ns, "mcp");
	assert_int_equal(f->kubelet_hits - hits, 1);
	/* an unknown pod would ask the kubelet again, but at most once per interval */
	resolved(a, 502, &id);
	assert_string_equal(id.pod, "");
	assert_string_equal(id.container_id, IDB);
	resolved(a, 503, &id);
	assert_int_equal(f->kubelet_hits - hits, 1);
	/* pods are never looked up in Docker */
	assert_int_equal(f->docker_hits, dhits);
	attrib_get_stats(a, &st);
	assert_int_equal(st.kubelet_fetches, 1);
	assert_int_equal(st.kubelet_errors, 0);
	attrib_stop(a);

	/* past the interval, an unknown pod fetches the list again; a known one not */
	cfg.kubelet_interval_ns = 1000000;
	a = start(f, &cfg);
	resolved(a, 500, &id);
	sleep_ms(5);
	resolved(a, 501, &id);
	assert_int_equal(f->kubelet_hits - hits, 2);
	resolved(a, 502, &id);
	assert_int_equal(f->kubelet_hits - hits, 3);
	attrib_get_stats(a, &st);
	assert_int_equal(st.kubelet_fetches, 2);
	attrib_stop(a);

	/* no kubelet: pod uid and container id, no names, an error counted */
	cfg.kubelet_url = "http://127.0.0.1:1/pods";
	a = start(f, &cfg);
	resolved(a, 500, &id);
	assert_string_equal(id.pod_uid, UID);
	assert_string_equal(id.pod, "");
	attrib_get_stats(a, &st);
	assert_int_equal(st.kubelet_errors, 1);
	attrib_stop(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(docker_names),
		cmocka_unit_test(no_docker_socket),
		cmocka_unit_test(cache_bound),
		cmocka_unit_test(queue_bound),
		cmocka_unit_test(pid_reuse_and_exit),
		cmocka_unit_test(kubelet_pods),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
