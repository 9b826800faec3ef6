// SPDX-License-Identifier: GPL-2.0-only
/*
 * netobs/links — bridge ports followed through rtnetlink (links.h).
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "netobs/links.h"

/* Most ports followed at once; a Docker bridge holds at most a few hundred. */
#define NETOBS_LINKS_MAX 4096

struct netobs_links {
	int mon;	/* RTMGRP_LINK subscription */
	int bridge;	/* ifindex */
	char bridge_name[IF_NAMESIZE];
	netobs_link_fn fn;
	void *arg;
	int ports[NETOBS_LINKS_MAX]; /* ifindexes reported joined */
	uint32_t nports;
	uint8_t seen[NETOBS_LINKS_MAX]; /* marks during a resync dump */
	uint64_t resyncs;
	uint64_t overflow; /* ports beyond NETOBS_LINKS_MAX, not followed */
};

static int netobs_links_find(const struct netobs_links *l, int ifindex)
{
	for (uint32_t i = 0; i < l->nports; i++)
		if (l->ports[i] == ifindex)
			return (int)i;
	return -1;
}

static void netobs_links_join(struct netobs_links *l, int ifindex, const char *name)
{
	int i = netobs_links_find(l, ifindex);

	if (i >= 0) {
		l->seen[i] = 1;
		return;
	}
	if (l->nports == NETOBS_LINKS_MAX) {
		l->overflow++;
		return;
	}
	l->seen[l->nports] = 1;
	l->ports[l->nports++] = ifindex;
	l->fn(l->arg, ifindex, name, 1);
}

static void netobs_links_leave(struct netobs_links *l, int ifindex, const char *name)
{
	int i = netobs_links_find(l, ifindex);

	if (i < 0)
		return;
	l->nports--;
	l->ports[i] = l->ports[l->nports];
	l->seen[i] = l->seen[l->nports];
	l->fn(l->arg, ifindex, name, 0);
}

/* IFLA_INFO_KIND inside IFLA_LINKINFO is "veth" */
static int netobs_links_is_veth(struct rtattr *linkinfo)
{
	int len = RTA_PAYLOAD(linkinfo);

	for (struct rtattr *a = RTA_DATA(linkinfo); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == IFLA_INFO_KIND)
			return RTA_PAYLOAD(a) >= 4 && !strncmp(RTA_DATA(a), "veth", 4) &&
			       (RTA_PAYLOAD(a) == 4 || ((char *)RTA_DATA(a))[4] == '\0');
	return 0;
}

/* One RTM_NEWLINK/RTM_DELLINK message. */
static void netobs_links_msg(struct netobs_links *l, const struct nlmsghdr *nh)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(nh);
	int len = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));
	int master = 0, veth = 0;
	char name[IF_NAMESIZE] = "";

	/* the bridge's own notifications (family AF_BRIDGE: port STP state,
	 * VLANs) carry IFLA_MASTER but no IFLA_LINKINFO; membership is read
	 * from the generic (AF_UNSPEC) ones only */
	if (len < 0 || ifi->ifi_family != AF_UNSPEC)
		return;
	for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type) {
		case IFLA_MASTER:
			if (RTA_PAYLOAD(a) >= sizeof(int))
				memcpy(&master, RTA_DATA(a), sizeof(int));
			break;
		case IFLA_IFNAME:
			snprintf(name, sizeof(name), "%.*s", (int)RTA_PAYLOAD(a),
				 (const char *)RTA_DATA(a));
			break;
		case IFLA_LINKINFO:
			veth = netobs_links_is_veth(a);
			break;
		}
	}
	if (nh->nlmsg_type == RTM_NEWLINK && master == l->bridge && veth)
		netobs_links_join(l, ifi->ifi_index, name);
	else
		netobs_links_leave(l, ifi->ifi_index, name);
}

/* Handles every message in buf; 1 at NLMSG_DONE. */
static int netobs_links_parse(struct netobs_links *l, const char *buf, ssize_t n)
{
	for (const struct nlmsghdr *nh = (const void *)buf; NLMSG_OK(nh, n);
	     nh = NLMSG_NEXT(nh, n)) {
		if (nh->nlmsg_type == NLMSG_DONE)
			return 1;
		if (nh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(nh);

			return e->error ? e->error : 1;
		}
		if (nh->nlmsg_type == RTM_NEWLINK || nh->nlmsg_type == RTM_DELLINK)
			netobs_links_msg(l, nh);
	}
	return 0;
}

/*
 * Dumps all links on a socket of its own (so the dump never interleaves with
 * multicast events), joins the ports found and, on a resync, reports as left
 * the ports no longer there.
 */
static int netobs_links_dump(struct netobs_links *l)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.ifi = { .ifi_family = AF_UNSPEC },
	};
	static char buf[32768] __attribute__((aligned(4)));
	int fd, rc = 0;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, sizeof(req), 0) < 0) {
		rc = -errno;
		goto out;
	}
	memset(l->seen, 0, sizeof(l->seen));
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		rc = netobs_links_parse(l, buf, n);
		if (rc < 0)
			goto out;
		if (rc == 1)
			break;
	}
	rc = 0;
	for (uint32_t i = 0; i < l->nports;) {
		if (!l->seen[i])
			netobs_links_leave(l, l->ports[i], "");
		else
			i++;
	}
out:
	close(fd);
	return rc;
}

int netobs_links_poll(struct netobs_links *l)
{
	static char buf[32768] __attribute__((aligned(4)));

	for (;;) {
		ssize_t n = recv(l->mon, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == ENOBUFS) {
				/* events were lost: start over from the kernel's view */
				int rc;

				l->resyncs++;
				rc = netobs_links_dump(l);
				if (rc)
					return rc;
				continue;
			}
			return -errno;
		}
		if (n == 0)
			return 0;
		/* marks are only meaningful inside a dump */
		for (uint32_t i = 0; i < l->nports; i++)
			l->seen[i] = 1;
		netobs_links_parse(l, buf, n);
	}
}

int netobs_links_open(struct netobs_links **out, const char *bridge_ifname, netobs_link_fn fn,
		      void *arg, char *err, size_t errlen)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	struct netobs_links *l;
	char path[64 + IF_NAMESIZE];
	int rc;

	*out = NULL;
	if (!bridge_ifname[0] || strlen(bridge_ifname) >= IF_NAMESIZE) {
		snprintf(err, errlen, "bad bridge name '%s'", bridge_ifname);
		return -EINVAL;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	l->fn = fn;
	l->arg = arg;
	l->mon = -1;
	snprintf(l->bridge_name, sizeof(l->bridge_name), "%s", bridge_ifname);
	l->bridge = (int)if_nametoindex(bridge_ifname);
	if (!l->bridge) {
		snprintf(err, errlen, "no network interface named '%s' (--bridge)", bridge_ifname);
		rc = -ENODEV;
		goto fail;
	}
	snprintf(path, sizeof(path), "/sys/class/net/%s/bridge", bridge_ifname);
	if (access(path, F_OK)) {
		snprintf(err, errlen, "'%s' is not a bridge (--bridge)", bridge_ifname);
		rc = -EINVAL;
		goto fail;
	}
	/* subscribe before the dump, so no change falls between the two */
	l->mon = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (l->mon < 0 || bind(l->mon, (struct sockaddr *)&sa, sizeof(sa))) {
		rc = -errno;
		snprintf(err, errlen, "cannot subscribe to rtnetlink link events: %s",
			 strerror(errno));
		goto fail;
	}
	rc = netobs_links_dump(l);
	if (rc) {
		snprintf(err, errlen, "cannot list network links: %s", strerror(-rc));
		goto fail;
	}
	*out = l;
	return 0;
fail:
	netobs_links_close(l);
	return rc;
}

int netobs_links_bridge_ifindex(const struct netobs_links *l)
{
	return l->bridge;
}

uint64_t netobs_links_resyncs(const struct netobs_links *l)
{
	return l->resyncs;
}

void netobs_links_close(struct netobs_links *l)
{
	if (!l)
		return;
	if (l->mon >= 0)
		close(l->mon);
	free(l);
}
