/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * scope/rtnl — the rtnetlink requests scope/ makes (rtnetlink(7), netlink(7)),
 * on NETLINK_ROUTE sockets of mcpwire's own network namespace:
 *   RTM_GETLINK by name         the bridge: ifindex, kind
 *   RTM_GETLINK dump            the bridge's ports (IFLA_MASTER) and, for a
 *                               veth, the namespace id of its peer
 *                               (IFLA_LINK_NETNSID)
 *   RTM_GETNSID (NETNSA_FD)     the namespace id this namespace gave another
 *                               one, so a namespace file can be matched to
 *                               a port's peer (net/core/net_namespace.c)
 *   RTMGRP_LINK events          RTM_NEWLINK/RTM_DELLINK as ports come and go
 * The parsers take one message and do no I/O, for the unit tests.
 */
#ifndef MCPWIRE_SCOPE_RTNL_H
#define MCPWIRE_SCOPE_RTNL_H

#include <net/if.h>
#include <stddef.h>

/* What scope/ needs of one RTM_NEWLINK/RTM_DELLINK message. */
struct scope_link {
	int type;      /* RTM_NEWLINK or RTM_DELLINK */
	int ifindex;
	int master;    /* IFLA_MASTER: the bridge a port is enslaved to, 0 for none */
	int link_nsid; /* IFLA_LINK_NETNSID: namespace id of the peer (veth) or lower
			* device, in this namespace's numbering; -1 when absent,
			* i.e. the peer is in this very namespace */
	int is_bridge; /* IFLA_LINKINFO → IFLA_INFO_KIND is "bridge" */
	char name[IF_NAMESIZE]; /* IFLA_IFNAME, "" when absent */
};

/*
 * scope_rtnl_parse_link - decode the netlink message of len bytes at msg (one
 * struct nlmsghdr with its payload). Returns 0; -ENOMSG when it is not an
 * RTM_NEWLINK/RTM_DELLINK; -EINVAL when it is one but malformed (short
 * header, attribute past the end, IFLA_IFNAME without a NUL).
 */
int scope_rtnl_parse_link(const void *msg, size_t len, struct scope_link *out);

/*
 * scope_rtnl_parse_nsid - decode an RTM_NEWNSID answer into *nsid
 * (NETNSA_NSID, -1 = NETNSA_NSID_NOT_ASSIGNED). Returns 0, -ENOMSG when not
 * RTM_NEWNSID, -EINVAL when malformed or without NETNSA_NSID.
 */
int scope_rtnl_parse_nsid(const void *msg, size_t len, int *nsid);

/* A NETLINK_ROUTE socket, close-on-exec. groups: 0 for requests, RTMGRP_LINK
 * for link events (then non-blocking). Returns the fd or -errno. */
int scope_rtnl_open(unsigned int groups);

/* The link named name: 0, -ENODEV when there is none, -errno otherwise. */
int scope_rtnl_link_by_name(int fd, const char *name, struct scope_link *out);

/*
 * scope_rtnl_ports - every link whose IFLA_MASTER is master, through cb (a
 * dump filtered by the kernel on IFLA_MASTER, checked again here). cb returns
 * 0 to go on. Returns the number of ports, or -errno (-EAGAIN: the dump was
 * interrupted by a change, NLM_F_DUMP_INTR, and should be repeated).
 */
int scope_rtnl_ports(int fd, int master, int (*cb)(const struct scope_link *l, void *arg),
		     void *arg);

/* The id this namespace has for the namespace of file descriptor nsfd (an
 * open /proc/PID/ns/net or bind mount): 0 with *nsid set (-1 when none is
 * assigned), or -errno. */
int scope_rtnl_nsid(int fd, int nsfd, int *nsid);

#endif
