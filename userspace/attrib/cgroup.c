// SPDX-License-Identifier: GPL-2.0-only
/*
 * attrib/cgroup — container id and pod uid from a cgroup path.
 */
#include <string.h>

#include "attrib/cgroup.h"

static int cg_has(const char *p, size_t n, const char *s)
{
	size_t sl = strlen(s);

	return n >= sl && !memcmp(p, s, sl);
}

static int cg_ends(const char *p, size_t n, const char *s)
{
	size_t sl = strlen(s);

	return n >= sl && !memcmp(p + n - sl, s, sl);
}

static int cg_contains(const char *p, size_t n, const char *s)
{
	size_t sl = strlen(s);

	for (size_t i = 0; i + sl <= n; i++)
		if (!memcmp(p + i, s, sl))
			return 1;
	return 0;
}

static int cg_hex64(const char *p, size_t n)
{
	if (n != ATTRIB_ID_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return 0;
	return 1;
}

/* A pod uid as the kubelet writes it into cgroup names: a UUID (dashes, or
 * underscores under the systemd driver, which reserves '-'), or the 32-hex
 * config hash static pods get. Copied with dashes. */
static int cg_pod_uid(const char *p, size_t n, char out[ATTRIB_POD_UID_MAX + 1])
{
	if (n < 32 || n > ATTRIB_POD_UID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-' || c == '_'))
			return 0;
		out[i] = c == '_' ? '-' : c;
	}
	out[n] = '\0';
	return 1;
}

static const struct {
	const char *prefix;
	uint8_t runtime;
} cg_prefixes[] = {
	{ "docker-", ATTRIB_RT_DOCKER },
	{ "cri-containerd-", ATTRIB_RT_CONTAINERD },
	{ "nerdctl-", ATTRIB_RT_CONTAINERD },
	{ "crio-", ATTRIB_RT_CRIO },
	{ "libpod-", ATTRIB_RT_PODMAN },
};

/* A container component: returns its runtime and points *id at the id. */
static uint8_t cg_container(const char *c, size_t n, const char *parent, size_t pn,
			    const char **id)
{
	if (cg_ends(c, n, ".scope"))
		n -= strlen(".scope");
	for (size_t i = 0; i < sizeof(cg_prefixes) / sizeof(cg_prefixes[0]); i++) {
		size_t pl = strlen(cg_prefixes[i].prefix);

		/* "crio-conmon-<id>" and "libpod-conmon-<id>" fail cg_hex64 */
		if (cg_has(c, n, cg_prefixes[i].prefix) && cg_hex64(c + pl, n - pl)) {
			*id = c + pl;
			return cg_prefixes[i].runtime;
		}
	}
	if (cg_hex64(c, n)) {
		*id = c;
		/* cgroupfs driver: /docker/<id> is Docker's own parent */
		if (pn == 6 && !memcmp(parent, "docker", 6))
			return ATTRIB_RT_DOCKER;
		return ATTRIB_RT_UNKNOWN;
	}
	return ATTRIB_RT_NONE;
}

/* A pod component: "pod<uid>" under a kubepods one (cgroupfs driver), or
 * "…kubepods…-pod<uid_>.slice" (systemd driver). */
static int cg_pod(const char *c, size_t n, int kubepods, char uid[ATTRIB_POD_UID_MAX + 1])
{
	if (cg_ends(c, n, ".slice")) {
		size_t m = n - strlen(".slice");

		if (!cg_contains(c, m, "kubepods"))
			return 0;
		for (size_t i = m; i >= 4; i--) {
			if (!memcmp(c + i - 4, "-pod", 4))
				return cg_pod_uid(c + i, m - i, uid);
		}
		return 0;
	}
	return kubepods && cg_has(c, n, "pod") && cg_pod_uid(c + 3, n - 3, uid);
}

int attrib_cgroup_path(const char *path, size_t len, struct attrib_cgroup_id *out)
{
	const char *parent = "", *id = NULL;
	size_t pn = 0;
	int kubepods = 0;
	char uid[ATTRIB_POD_UID_MAX + 1];

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < len;) {
		const char *c = path + i;
		const char *slash = memchr(c, '/', len - i);
		size_t n = slash ? (size_t)(slash - c) : len - i;
		uint8_t rt;

		i += n + 1;
		if (!n)
			continue;
		rt = cg_container(c, n, parent, pn, &id);
		if (rt != ATTRIB_RT_NONE) {
			out->runtime = rt;
			memcpy(out->id, id, ATTRIB_ID_LEN);
			out->id[ATTRIB_ID_LEN] = '\0';
		} else if (cg_pod(c, n, kubepods, uid)) {
			/* a container seen so far is an outer layer (a kind node) */
			out->runtime = ATTRIB_RT_NONE;
			out->id[0] = '\0';
			memcpy(out->pod_uid, uid, sizeof(uid));
		} else if (cg_contains(c, n, "kubepods")) {
			kubepods = 1;
		}
		parent = c;
		pn = n;
	}
	return out->id[0] || out->pod_uid[0];
}

int attrib_cgroup_parse(const char *text, size_t len, struct attrib_cgroup_id *out)
{
	struct attrib_cgroup_id cur, pod_only;
	int have_pod = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < len;) {
		const char *l = text + i, *nl = memchr(l, '\n', len - i);
		size_t n = nl ? (size_t)(nl - l) : len - i;
		const char *c1, *c2;
		size_t k = 0;

		i += n + 1;
		while (k < n && l[k] >= '0' && l[k] <= '9')
			k++;
		if (!k || k == n || l[k] != ':')
			continue;
		c1 = l + k;
		c2 = memchr(c1 + 1, ':', n - k - 1);
		if (!c2 || c2 + 1 >= l + n || c2[1] != '/')
			continue;
		if (!attrib_cgroup_path(c2 + 1, (size_t)(l + n - c2 - 1), &cur))
			continue;
		if (cur.id[0]) {
			*out = cur;
			return 1;
		}
		if (!have_pod) {
			pod_only = cur;
			have_pod = 1;
		}
	}
	if (have_pod)
		*out = pod_only;
	return have_pod;
}

const char *attrib_runtime_name(uint8_t runtime)
{
	switch (runtime) {
	case ATTRIB_RT_DOCKER:
		return "docker";
	case ATTRIB_RT_CONTAINERD:
		return "containerd";
	case ATTRIB_RT_CRIO:
		return "cri-o";
	case ATTRIB_RT_PODMAN:
		return "podman";
	default:
		return "";
	}
}
