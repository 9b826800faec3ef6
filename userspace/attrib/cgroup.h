/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * attrib/cgroup — which container (and Kubernetes pod) a process runs in,
 * read from the cgroup path the kernel lists in /proc/<pid>/cgroup
 * (Documentation/admin-guide/cgroup-v2.rst "Processes"; cgroup v1 lines
 * "hierarchy-ID:controller-list:path", the v2 line "0::path").
 *
 * Container runtimes name a container's cgroup after its id; the layouts
 * recognised (the id is 64 lowercase hex digits in every one of them):
 *
 *   docker, systemd driver     /system.slice/docker-<id>.scope
 *   docker, cgroupfs driver    /docker/<id>
 *   containerd (CRI, systemd)  …/kubepods-burstable-pod<uid_>.slice/cri-containerd-<id>.scope
 *   containerd (CRI, cgroupfs) /kubepods/burstable/pod<uid>/<id>
 *   nerdctl                    /system.slice/nerdctl-<id>.scope, /<namespace>/<id>
 *   CRI-O                      …/crio-<id>.scope, …/pod<uid>/crio-<id>
 *   podman                     …/libpod-<id>.scope[/container], /libpod_parent/libpod-<id>
 *
 * Any prefix is allowed (Docker-in-Docker, kind nodes, a cgroup namespace's
 * "/../.." part): the innermost container component wins, because that is
 * the container the process itself runs in. A pod uid is taken from a
 * "pod<uid>" component under a "kubepods" one, or a "*kubepods*-pod<uid>.slice"
 * one (systemd driver, '_' for '-'), and only when it lies outside that
 * container component. conmon's cgroup (crio-conmon-, libpod-conmon-) is not
 * a container.
 *
 * Pure functions: no I/O, no allocation; unit-tested with real paths.
 */
#ifndef MCPWIRE_ATTRIB_CGROUP_H
#define MCPWIRE_ATTRIB_CGROUP_H

#include <stddef.h>
#include <stdint.h>

#define ATTRIB_ID_LEN 64      /* hex digits of a container id */
#define ATTRIB_POD_UID_MAX 36 /* a UUID with dashes; static pods' 32-hex hash fits */

enum attrib_runtime {
	ATTRIB_RT_NONE = 0, /* no container component */
	ATTRIB_RT_DOCKER,
	ATTRIB_RT_CONTAINERD,
	ATTRIB_RT_CRIO,
	ATTRIB_RT_PODMAN,
	ATTRIB_RT_UNKNOWN, /* a bare 64-hex component: docker or containerd, cgroupfs driver */
};

struct attrib_cgroup_id {
	uint8_t runtime;			 /* enum attrib_runtime */
	char id[ATTRIB_ID_LEN + 1];		 /* "" when runtime is NONE */
	char pod_uid[ATTRIB_POD_UID_MAX + 1];	 /* with dashes; "" outside Kubernetes */
};

/*
 * attrib_cgroup_path - parses one cgroup path (@len bytes, not necessarily
 * NUL-terminated, any length) into *@out. Returns 1 when a container id or a
 * pod uid was found, 0 otherwise (out zeroed).
 */
int attrib_cgroup_path(const char *path, size_t len, struct attrib_cgroup_id *out);

/*
 * attrib_cgroup_parse - parses the text of /proc/<pid>/cgroup (@len bytes).
 * Each line is "N:controllers:path"; lines that do not have that shape are
 * skipped. The result is the first line giving a container id (with the pod
 * uid of that same line), else the first giving a pod uid alone. Returns 1
 * when found, 0 otherwise.
 */
int attrib_cgroup_parse(const char *text, size_t len, struct attrib_cgroup_id *out);

/* "docker", "containerd", "cri-o", "podman", "" */
const char *attrib_runtime_name(uint8_t runtime);

#endif /* MCPWIRE_ATTRIB_CGROUP_H */
