// SPDX-License-Identifier: GPL-2.0-only
/*
 * scope/ — the network namespaces behind a bridge's veth ports, kept current
 * from rtnetlink link events (scope.h explains the method).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "scope/rtnl.h"
#include "scope/scope.h"

#define SCOPE_DEF_MIN_INTERVAL_NS (200ull * 1000000ull)
#define SCOPE_DEF_PERIODIC_NS (10ull * 1000000000ull)
#define SCOPE_UNRESOLVED_PERIODIC_NS (1ull * 1000000000ull)
/* A bridge has at most BR_MAX_PORTS (1024) ports. */
#define SCOPE_PORTS_MAX 1024
/* Event datagrams read per scope_poll(): the rest waits for the next one. */
#define SCOPE_EVENTS_PER_POLL 64
#define SCOPE_DUMP_RETRIES 3

static const char *const scope_def_dirs[] = { "/run/netns", "/var/run/docker/netns", NULL };

struct scope_port {
	int ifindex;
	int nsid;      /* peer's namespace id, -1: none (not a veth, or peer here) */
	int resolved;  /* its namespace file was found in this scan */
};

struct scope {
	char bridge[IF_NAMESIZE];
	int br_ifindex; /* 0 while the bridge does not exist */
	int rtnl;	/* requests */
	int ev;		/* RTMGRP_LINK events */
	uint32_t self_netns;
	const char *proc;
	const char *const *dirs;
	uint64_t min_interval_ns, periodic_ns;
	uint64_t last_scan_ns, next_periodic_ns;
	uint64_t backoff_ns; /* periodic interval while ports are unresolved */
	int dirty;

	struct scope_port ports[SCOPE_PORTS_MAX];
	uint32_t nports, unresolved;
	struct scope_set cur, next, seen;
	struct scope_stats st;
};

const char *scope_trigger_name(int trigger)
{
	static const char *const names[SCOPE_SCAN__MAX] = { "start", "link", "periodic" };

	return trigger >= 0 && trigger < SCOPE_SCAN__MAX ? names[trigger] : "unknown";
}

static uint64_t scope_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int scope_port_cb(const struct scope_link *l, void *arg)
{
	struct scope *s = arg;

	if (s->nports >= SCOPE_PORTS_MAX)
		return 0;
	s->ports[s->nports].ifindex = l->ifindex;
	s->ports[s->nports].nsid = l->link_nsid;
	s->ports[s->nports].resolved = 0;
	s->nports++;
	return 0;
}

/* Marks the ports whose peer is namespace nsid; 1 when there was one. */
static int scope_match(struct scope *s, int nsid)
{
	int hit = 0;

	for (uint32_t i = 0; i < s->nports; i++)
		if (s->ports[i].nsid == nsid && !s->ports[i].resolved) {
			s->ports[i].resolved = 1;
			s->unresolved--;
			hit = 1;
		}
	return hit;
}

/* Looks at one namespace file: its inode, then (once per inode and scan) its
 * namespace id. */
static void scope_candidate(struct scope *s, const char *path)
{
	struct stat stt;
	int fd, nsid;

	if (stat(path, &stt) || !stt.st_ino || (uint32_t)stt.st_ino == s->self_netns)
		return;
	if (scope_set_has(&s->seen, (uint32_t)stt.st_ino))
		return;
	/* full: examine again rather than skip (costs only time) */
	scope_set_add(&s->seen, (uint32_t)stt.st_ino);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return; /* the namespace went away meanwhile */
	if (scope_rtnl_nsid(s->rtnl, fd, &nsid) == 0 && nsid >= 0 && scope_match(s, nsid))
		scope_set_add(&s->next, (uint32_t)stt.st_ino);
	close(fd);
}

/* Every entry of dir (bind mounts of namespaces), or with proc set every
 * DIR/PID/ns/net, until every port is resolved. */
static void scope_walk(struct scope *s, const char *dir, int proc)
{
	char path[512];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while (s->unresolved && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (proc) {
			if (de->d_name[0] < '1' || de->d_name[0] > '9')
				continue;
			snprintf(path, sizeof(path), "%s/%s/ns/net", dir, de->d_name);
		} else {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		}
		scope_candidate(s, path);
	}
	closedir(d);
}

/* One scan into s->next. Returns 0 or -errno (the set is then unchanged). */
static int scope_scan(struct scope *s)
{
	struct scope_link br;
	int rc, tries;

	scope_set_clear(&s->next);
	scope_set_clear(&s->seen);
	s->nports = 0;
	s->unresolved = 0;
	rc = scope_rtnl_link_by_name(s->rtnl, s->bridge, &br);
	if (rc == -ENODEV || (rc == 0 && !br.is_bridge)) {
		/* removed (docker network rm): nothing in scope until a
		 * bridge of that name comes back */
		s->br_ifindex = 0;
		return 0;
	}
	if (rc)
		return rc;
	s->br_ifindex = br.ifindex;
	for (tries = 0; tries < SCOPE_DUMP_RETRIES; tries++) {
		s->nports = 0;
		rc = scope_rtnl_ports(s->rtnl, br.ifindex, scope_port_cb, s);
		if (rc != -EAGAIN)
			break;
	}
	if (rc < 0)
		return rc;
	for (uint32_t i = 0; i < s->nports; i++)
		if (s->ports[i].nsid >= 0)
			s->unresolved++;
	/* bind mounts first: Docker's and ip-netns' namespaces are all there,
	 * and they are few; /proc only for what is still missing */
	for (const char *const *d = s->dirs; *d && s->unresolved; d++)
		scope_walk(s, *d, 0);
	if (s->unresolved)
		scope_walk(s, s->proc, 1);
	return 0;
}

static int scope_rescan(struct scope *s, int trigger, uint64_t now_ns)
{
	int rc;

	s->st.rescans[trigger]++;
	s->last_scan_ns = now_ns;
	s->dirty = 0;
	rc = scope_scan(s);
	/* an unmatched port walks /proc (about 60 us per process, measured):
	 * look again soon, then less and less often while nothing changes */
	if (!s->unresolved || trigger != SCOPE_SCAN_PERIODIC)
		s->backoff_ns = SCOPE_UNRESOLVED_PERIODIC_NS;
	else if (s->backoff_ns < s->periodic_ns)
		s->backoff_ns *= 2;
	if (s->backoff_ns > s->periodic_ns)
		s->backoff_ns = s->periodic_ns;
	s->next_periodic_ns = now_ns + (s->unresolved ? s->backoff_ns : s->periodic_ns);
	if (rc) {
		s->st.errors++;
		return rc;
	}
	s->st.ports = s->nports;
	s->st.unresolved = s->unresolved;
	s->st.bridge_present = s->br_ifindex != 0;
	if (scope_set_equal(&s->cur, &s->next))
		return 0;
	s->cur = s->next;
	s->st.namespaces = s->cur.n;
	return 1;
}

/* A link event that may change the scope: anything about the bridge or one
 * of its ports, and any device leaving this namespace (RTM_DELLINK), which is
 * how a veth end moving into a container shows here. */
static int scope_event_relevant(const struct scope *s, const struct scope_link *l)
{
	if (l->type == RTM_DELLINK)
		return 1;
	if (s->br_ifindex && (l->ifindex == s->br_ifindex || l->master == s->br_ifindex))
		return 1;
	if (!s->br_ifindex && !strcmp(l->name, s->bridge))
		return 1;
	for (uint32_t i = 0; i < s->nports; i++)
		if (s->ports[i].ifindex == l->ifindex)
			return 1;
	return 0;
}

static void scope_drain(struct scope *s)
{
	static char buf[65536] __attribute__((aligned(NLMSG_ALIGNTO)));
	int i;

	for (i = 0; i < SCOPE_EVENTS_PER_POLL; i++) {
		const struct nlmsghdr *nh;
		struct scope_link l;
		ssize_t n = recv(s->ev, buf, sizeof(buf), MSG_DONTWAIT);
		int len;

		if (n < 0) {
			if (errno == ENOBUFS)
				s->dirty = 1; /* events were lost: look again */
			else if (errno == EINTR)
				continue;
			return;
		}
		len = (int)n;
		for (nh = (const struct nlmsghdr *)buf; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len))
			if (scope_rtnl_parse_link(nh, nh->nlmsg_len, &l) == 0 &&
			    scope_event_relevant(s, &l))
				s->dirty = 1;
	}
}

int scope_poll(struct scope *s, uint64_t now_ns)
{
	scope_drain(s);
	if (now_ns - s->last_scan_ns < s->min_interval_ns)
		return 0;
	if (s->dirty)
		return scope_rescan(s, SCOPE_SCAN_LINK, now_ns) == 1;
	if (now_ns >= s->next_periodic_ns)
		return scope_rescan(s, SCOPE_SCAN_PERIODIC, now_ns) == 1;
	return 0;
}

int scope_open(const struct scope_config *cfg, struct scope **out, char *err, size_t errlen)
{
	struct scope_link br;
	struct stat stt;
	struct scope *s;
	int rc;

	*out = NULL;
	if (!cfg->bridge || !*cfg->bridge || strlen(cfg->bridge) >= IF_NAMESIZE) {
		snprintf(err, errlen, "bad bridge name '%s' (at most %d characters)",
			 cfg->bridge ? cfg->bridge : "", IF_NAMESIZE - 1);
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "scope: out of memory");
		return -ENOMEM;
	}
	s->rtnl = s->ev = -1;
	snprintf(s->bridge, sizeof(s->bridge), "%s", cfg->bridge);
	s->proc = cfg->proc ? cfg->proc : "/proc";
	s->dirs = cfg->netns_dirs ? cfg->netns_dirs : scope_def_dirs;
	s->min_interval_ns = cfg->min_interval_ns ? cfg->min_interval_ns : SCOPE_DEF_MIN_INTERVAL_NS;
	s->periodic_ns = cfg->periodic_ns ? cfg->periodic_ns : SCOPE_DEF_PERIODIC_NS;
	{
		char self[64];

		snprintf(self, sizeof(self), "%s/self/ns/net", s->proc);
		if (stat(self, &stt) == 0)
			s->self_netns = (uint32_t)stt.st_ino;
	}

	/* events first: nothing that happens during the first scan is missed */
	rc = s->ev = scope_rtnl_open(RTMGRP_LINK);
	if (rc >= 0)
		rc = s->rtnl = scope_rtnl_open(0);
	if (rc < 0) {
		snprintf(err, errlen, "cannot open an rtnetlink socket: %s", strerror(-rc));
		goto fail;
	}
	rc = scope_rtnl_link_by_name(s->rtnl, s->bridge, &br);
	if (rc == -ENODEV) {
		snprintf(err, errlen, "no network interface '%s' on this host (ip link show type bridge)",
			 s->bridge);
		goto fail;
	}
	if (rc) {
		snprintf(err, errlen, "cannot look up interface '%s': %s", s->bridge, strerror(-rc));
		goto fail;
	}
	if (!br.is_bridge) {
		rc = -EINVAL;
		snprintf(err, errlen, "interface '%s' is not a bridge (ip link show type bridge)",
			 s->bridge);
		goto fail;
	}
	rc = scope_rescan(s, SCOPE_SCAN_START, scope_now_ns());
	if (rc < 0) {
		snprintf(err, errlen, "cannot list the ports of bridge '%s': %s", s->bridge,
			 strerror(-rc));
		goto fail;
	}
	s->st.namespaces = s->cur.n;
	*out = s;
	return 0;
fail:
	scope_close(s);
	return rc < 0 ? rc : -EINVAL;
}

const struct scope_set *scope_namespaces(const struct scope *s)
{
	return &s->cur;
}

const char *scope_bridge(const struct scope *s)
{
	return s->bridge;
}

void scope_stats(const struct scope *s, struct scope_stats *out)
{
	*out = s->st;
	out->namespaces = s->cur.n;
}

void scope_close(struct scope *s)
{
	if (!s)
		return;
	if (s->ev >= 0)
		close(s->ev);
	if (s->rtnl >= 0)
		close(s->rtnl);
	free(s);
}
