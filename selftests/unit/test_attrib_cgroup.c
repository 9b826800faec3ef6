// SPDX-License-Identifier: GPL-2.0-only
/*
 * attrib/cgroup: container ids and pod uids from /proc/<pid>/cgroup, on the
 * paths real runtimes write (Docker systemd and cgroupfs drivers, containerd
 * through the CRI and nerdctl, CRI-O, podman, kubelet's systemd and cgroupfs
 * drivers, kind and Docker-in-Docker nesting, cgroup namespaces), cgroup v1
 * and v2 files, and input that is not a cgroup file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "attrib/cgroup.h"

#define ID1 "3f2a9c1b7d4e5f60718293a4b5c6d7e8f9011223344556677889aabbccddeeff"
#define ID2 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UID "7c0b5f9e-2d1a-4c3b-9e8f-0a1b2c3d4e5f"
#define UID_ "7c0b5f9e_2d1a_4c3b_9e8f_0a1b2c3d4e5f"

struct sample {
	const char *path;
	uint8_t runtime;
	const char *id;
	const char *uid;
};

static const struct sample samples[] = {
	/* Docker, systemd cgroup driver (cgroup v2 default) */
	{ "/system.slice/docker-" ID1 ".scope", ATTRIB_RT_DOCKER, ID1, "" },
	/* Docker, cgroupfs driver (v1 default) */
	{ "/docker/" ID1, ATTRIB_RT_DOCKER, ID1, "" },
	/* systemd running inside the container */
	{ "/system.slice/docker-" ID1 ".scope/init.scope", ATTRIB_RT_DOCKER, ID1, "" },
	/* containerd CRI, systemd driver, burstable and besteffort pods */
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	  ".slice/cri-containerd-" ID1 ".scope",
	  ATTRIB_RT_CONTAINERD, ID1, UID },
	{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
	  ".slice/cri-containerd-" ID2 ".scope",
	  ATTRIB_RT_CONTAINERD, ID2, UID },
	/* guaranteed QoS: no QoS slice */
	{ "/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" ID1 ".scope",
	  ATTRIB_RT_CONTAINERD, ID1, UID },
	/* cgroupfs driver: bare id under pod<uid> */
	{ "/kubepods/burstable/pod" UID "/" ID1, ATTRIB_RT_UNKNOWN, ID1, UID },
	{ "/kubepods/pod" UID "/" ID2, ATTRIB_RT_UNKNOWN, ID2, UID },
	{ "/kubepods/besteffort/pod" UID "/" ID2, ATTRIB_RT_UNKNOWN, ID2, UID },
	/* static pod: the uid is a 32-hex config hash */
	{ "/kubepods/burstable/pod6a2e4b9c0d1f2e3a4b5c6d7e8f901234/" ID1, ATTRIB_RT_UNKNOWN, ID1,
	  "6a2e4b9c0d1f2e3a4b5c6d7e8f901234" },
	/* CRI-O, systemd and cgroupfs drivers */
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	  ".slice/crio-" ID1 ".scope",
	  ATTRIB_RT_CRIO, ID1, UID },
	{ "/kubepods/burstable/pod" UID "/crio-" ID1, ATTRIB_RT_CRIO, ID1, UID },
	/* CRI-O's conmon is not the container */
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	  ".slice/crio-conmon-" ID1 ".scope",
	  ATTRIB_RT_NONE, "", UID },
	/* podman: root systemd, rootless with the container sub-cgroup, cgroupfs */
	{ "/machine.slice/libpod-" ID1 ".scope", ATTRIB_RT_PODMAN, ID1, "" },
	{ "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID1
	  ".scope/container",
	  ATTRIB_RT_PODMAN, ID1, "" },
	{ "/libpod_parent/libpod-" ID2, ATTRIB_RT_PODMAN, ID2, "" },
	{ "/machine.slice/libpod-conmon-" ID1 ".scope", ATTRIB_RT_NONE, "", "" },
	/* nerdctl: systemd driver, and cgroupfs (/<namespace>/<id>) */
	{ "/system.slice/nerdctl-" ID1 ".scope", ATTRIB_RT_CONTAINERD, ID1, "" },
	{ "/default/" ID1, ATTRIB_RT_UNKNOWN, ID1, "" },
	/* kind: a node container, kubelet inside with the systemd driver */
	{ "/system.slice/docker-" ID2 ".scope/kubelet.slice/kubelet-kubepods.slice/"
	  "kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" UID_
	  ".slice/cri-containerd-" ID1 ".scope",
	  ATTRIB_RT_CONTAINERD, ID1, UID },
	/* kind on cgroup v1: cgroupfs inside the node */
	{ "/docker/" ID2 "/kubepods/burstable/pod" UID "/" ID1, ATTRIB_RT_UNKNOWN, ID1, UID },
	/* a process in the pod's cgroup but in no container of its own */
	{ "/docker/" ID2 "/kubepods/burstable/pod" UID, ATTRIB_RT_NONE, "", UID },
	/* Docker-in-Docker: the inner container is the process's */
	{ "/docker/" ID2 "/docker/" ID1, ATTRIB_RT_DOCKER, ID1, "" },
	{ "/system.slice/docker-" ID2 ".scope/system.slice/docker-" ID1 ".scope",
	  ATTRIB_RT_DOCKER, ID1, "" },
	/* seen from another cgroup namespace */
	{ "/../../system.slice/docker-" ID1 ".scope", ATTRIB_RT_DOCKER, ID1, "" },
	/* host processes */
	{ "/", ATTRIB_RT_NONE, "", "" },
	{ "/user.slice/user-1000.slice/session-3.scope", ATTRIB_RT_NONE, "", "" },
	{ "/system.slice/containerd.service", ATTRIB_RT_NONE, "", "" },
	{ "/system.slice/docker.service", ATTRIB_RT_NONE, "", "" },
	/* near misses: 63 and 65 digits, upper case, a pod outside kubepods */
	{ "/docker/" "3f2a9c1b7d4e5f60718293a4b5c6d7e8f9011223344556677889aabbccddeef",
	  ATTRIB_RT_NONE, "", "" },
	{ "/docker/" ID1 "0", ATTRIB_RT_NONE, "", "" },
	{ "/docker/3F2A9C1B7D4E5F60718293A4B5C6D7E8F9011223344556677889AABBCCDDEEFF",
	  ATTRIB_RT_NONE, "", "" },
	{ "/pod" UID "/x", ATTRIB_RT_NONE, "", "" },
	{ "/system.slice/docker-" ID1 ".scopex", ATTRIB_RT_NONE, "", "" },
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podxyz.slice",
	  ATTRIB_RT_NONE, "", "" },
	/* the memory controller line of this project's own build machine */
	{ "/process_api/65bbea543551842b83492873ad651b9c", ATTRIB_RT_NONE, "", "" },
};

static void every_layout(void **state)
{
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		const struct sample *s = &samples[i];
		struct attrib_cgroup_id id;
		int found = attrib_cgroup_path(s->path, strlen(s->path), &id);

		if (id.runtime != s->runtime || strcmp(id.id, s->id) || strcmp(id.pod_uid, s->uid))
			fail_msg("%s: got runtime %u id '%s' uid '%s'", s->path, id.runtime, id.id,
				 id.pod_uid);
		assert_int_equal(found, s->id[0] || s->uid[0]);
	}
}

/* the path is not NUL-terminated and only len bytes count */
static void path_length_is_respected(void **state)
{
	const char *p = "/docker/" ID1 "/docker/" ID2;
	struct attrib_cgroup_id id;

	assert_int_equal(attrib_cgroup_path(p, strlen("/docker/" ID1), &id), 1);
	assert_string_equal(id.id, ID1);
	assert_int_equal(attrib_cgroup_path(p, strlen("/docker/" ID1) - 1, &id), 0);
}

/* cgroup v2 alone */
static void file_v2(void **state)
{
	const char *f = "0::/system.slice/docker-" ID1 ".scope\n";
	struct attrib_cgroup_id id;

	assert_int_equal(attrib_cgroup_parse(f, strlen(f), &id), 1);
	assert_int_equal(id.runtime, ATTRIB_RT_DOCKER);
	assert_string_equal(id.id, ID1);
	assert_string_equal(attrib_runtime_name(id.runtime), "docker");
}

/* cgroup v1 (Docker's cgroupfs driver on a hybrid host: the unified line is
 * "0::/" and the v1 lines carry the id) */
static void file_v1_hybrid(void **state)
{
	const char *f = "12:hugetlb:/docker/" ID1 "\n"
			"11:memory:/docker/" ID1 "\n"
			"10:cpu,cpuacct:/docker/" ID1 "\n"
			"1:name=systemd:/docker/" ID1 "\n"
			"0::/\n";
	struct attrib_cgroup_id id;

	assert_int_equal(attrib_cgroup_parse(f, strlen(f), &id), 1);
	assert_string_equal(id.id, ID1);
	assert_int_equal(id.runtime, ATTRIB_RT_DOCKER);
}

/* v1 with a Kubernetes pod, the last line without a newline */
static void file_v1_kubepods(void **state)
{
	const char *f = "5:pids:/kubepods/burstable/pod" UID "/" ID2 "\n"
			"1:name=systemd:/kubepods/burstable/pod" UID "/" ID2;
	struct attrib_cgroup_id id;

	assert_int_equal(attrib_cgroup_parse(f, strlen(f), &id), 1);
	assert_string_equal(id.id, ID2);
	assert_string_equal(id.pod_uid, UID);
}

/* a line with a pod alone does not hide a later line with the container */
static void file_container_line_wins(void **state)
{
	const char *f = "3:cpu:/kubepods/burstable/pod" UID "\n"
			"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
			".slice/cri-containerd-" ID1 ".scope\n";
	struct attrib_cgroup_id id;

	assert_int_equal(attrib_cgroup_parse(f, strlen(f), &id), 1);
	assert_string_equal(id.id, ID1);
	assert_string_equal(id.pod_uid, UID);

	f = "3:cpu:/kubepods/burstable/pod" UID "\n0::/\n";
	assert_int_equal(attrib_cgroup_parse(f, strlen(f), &id), 1);
	assert_string_equal(id.id, "");
	assert_string_equal(id.pod_uid, UID);
}

/* garbage: lines without the N:controllers:path shape are skipped */
static void file_garbage(void **state)
{
	static const char *const bad[] = {
		"",
		"\n\n\n",
		"docker/" ID1 "\n",		       /* no fields */
		"x:memory:/docker/" ID1 "\n",	       /* hierarchy not a number */
		":memory:/docker/" ID1 "\n",	       /* empty hierarchy */
		"0:/docker/" ID1 "\n",		       /* one colon */
		"0::docker/" ID1 "\n",		       /* relative path */
		"0::\n",			       /* empty path */
		"0:",				       /* cut short */
		"\0\0\0\0",
	};
	struct attrib_cgroup_id id;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = i == sizeof(bad) / sizeof(bad[0]) - 1 ? 4 : strlen(bad[i]);

		assert_int_equal(attrib_cgroup_parse(bad[i], n, &id), 0);
		assert_string_equal(id.id, "");
		assert_string_equal(id.pod_uid, "");
	}
	/* garbage around a good line */
	const char *f = "junk\n\xff\xfe:::\n0::/system.slice/docker-" ID1 ".scope\nmore junk";

	assert_int_equal(attrib_cgroup_parse(f, strlen(f), &id), 1);
	assert_string_equal(id.id, ID1);
}

/* hostile lines: megabytes of path, huge components, thousands of levels */
static void file_hostile_long(void **state)
{
	size_t n = 4 << 20, off;
	char *f = malloc(n + 256);
	struct attrib_cgroup_id id;

	assert_non_null(f);
	/* one component of 4 MiB of hex digits */
	memcpy(f, "0::/docker/", 11);
	memset(f + 11, 'a', n - 11);
	assert_int_equal(attrib_cgroup_parse(f, n, &id), 0);
	/* a million levels, the container innermost */
	off = 0;
	off += (size_t)sprintf(f, "0::");
	while (off + 2 + 80 < n)
		off += (size_t)sprintf(f + off, "/a");
	off += (size_t)sprintf(f + off, "/docker-" ID1 ".scope\n");
	assert_int_equal(attrib_cgroup_parse(f, off, &id), 1);
	assert_string_equal(id.id, ID1);
	/* a pod component whose uid runs on for megabytes */
	off = (size_t)sprintf(f, "0::/kubepods/pod");
	memset(f + off, 'b', n - off);
	assert_int_equal(attrib_cgroup_parse(f, n, &id), 0);
	off = (size_t)sprintf(f, "0::/kubepods.slice/kubepods-pod");
	memset(f + off, '_', n - off - 6);
	memcpy(f + n - 6, ".slice", 6);
	assert_int_equal(attrib_cgroup_parse(f, n, &id), 0);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_layout),
		cmocka_unit_test(path_length_is_respected),
		cmocka_unit_test(file_v2),
		cmocka_unit_test(file_v1_hybrid),
		cmocka_unit_test(file_v1_kubepods),
		cmocka_unit_test(file_container_line_wins),
		cmocka_unit_test(file_garbage),
		cmocka_unit_test(file_hostile_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
