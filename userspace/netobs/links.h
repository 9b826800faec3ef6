/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * netobs/links — the veths that are ports of one bridge, followed through
 * rtnetlink (rtnetlink(7)): a RTM_GETLINK dump at start, then the
 * RTMGRP_LINK multicast group. A link is a port of the bridge when its
 * IFLA_MASTER is the bridge's ifindex, and a veth when its
 * IFLA_LINKINFO/IFLA_INFO_KIND is "veth" (how Docker connects a container).
 *
 * Events are reported as changes of membership: "joined" once when a veth
 * becomes a port (or is one at start), "left" when it is deleted
 * (RTM_DELLINK), moves to another master or loses it. When the kernel drops
 * events (ENOBUFS on the multicast socket), the whole set is dumped again and
 * compared, so no change is missed.
 */
#ifndef MCPWIRE_NETOBS_LINKS_H
#define MCPWIRE_NETOBS_LINKS_H

#include <stddef.h>
#include <stdint.h>

/* joined: 1 the veth became a port of the bridge, 0 it left (or vanished). */
typedef void (*netobs_link_fn)(void *arg, int ifindex, const char *ifname, int joined);

struct netobs_links;

/*
 * Resolves bridge_ifname (must exist and be a bridge), subscribes to link
 * events, and reports every veth already on it through fn. Returns 0 or a
 * negative errno with a line in err.
 */
int netobs_links_open(struct netobs_links **out, const char *bridge_ifname, netobs_link_fn fn,
		      void *arg, char *err, size_t errlen);
/* Reads the pending events without blocking and reports the changes.
 * Returns 0, or a negative errno when the netlink socket failed. */
int netobs_links_poll(struct netobs_links *l);
int netobs_links_bridge_ifindex(const struct netobs_links *l);
/* Event losses (ENOBUFS) recovered by a new dump; for the logs. */
uint64_t netobs_links_resyncs(const struct netobs_links *l);
void netobs_links_close(struct netobs_links *l);

#endif /* MCPWIRE_NETOBS_LINKS_H */
