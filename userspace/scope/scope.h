/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * scope/ — which network namespaces are "on the network" of --network NAME or
 * --bridge IFNAME: those holding the container end of a veth whose host end is
 * a port of the bridge. mcpwire reports only the MCP traffic of processes in
 * these namespaces (docs/scope.md).
 *
 * How: in mcpwire's own namespace (the host's), an RTM_GETLINK dump lists the
 * bridge's ports (IFLA_MASTER) and, for each veth, its peer's namespace id
 * (IFLA_LINK_NETNSID, an id this namespace gives the other one). Namespace
 * files — the bind mounts under /run/netns and /var/run/docker/netns, then
 * /proc/PID/ns/net — are asked their id with RTM_GETNSID (NETNSA_FD) until
 * every port's peer is found; the result is the set of their inode numbers,
 * which the BPF side compares with a socket's sk->__sk_common.skc_net->ns.inum.
 * The bridge itself lives in the host's namespace, which is therefore never
 * in scope (nor is any namespace a veth port does not lead to).
 *
 * It follows changes: RTM_NEWLINK/RTM_DELLINK events of the bridge, its ports
 * and any device leaving the namespace (a veth end moving into a container)
 * trigger a rescan, at most one per min_interval; a periodic rescan catches
 * what no link event announces.
 *
 * Single-threaded: called from the pipeline thread.
 */
#ifndef MCPWIRE_SCOPE_H
#define MCPWIRE_SCOPE_H

#include <stddef.h>
#include <stdint.h>

#include "scope/set.h"

/* Zero/NULL fields select the defaults. */
struct scope_config {
	const char *bridge;	  /* interface name of the bridge (required) */
	uint64_t min_interval_ns; /* between two rescans (default 200 ms) */
	uint64_t periodic_ns;	  /* rescan this often anyway (default 10 s; while a
				   * port's peer namespace is not found, after 1 s,
				   * then doubling up to this) */
	const char *proc;	  /* procfs root (default /proc) */
	/* directories of namespace bind mounts, NULL-terminated (default
	 * /run/netns, /var/run/docker/netns) */
	const char *const *netns_dirs;
};

/* What started a rescan: the label of mcpwire_scope_rescans_total. */
enum scope_trigger {
	SCOPE_SCAN_START = 0,
	SCOPE_SCAN_LINK = 1,	 /* an rtnetlink link event */
	SCOPE_SCAN_PERIODIC = 2, /* the timer */
	SCOPE_SCAN__MAX = 3,
};

struct scope_stats {
	uint32_t namespaces;	/* in scope now */
	uint32_t ports;		/* bridge ports at the last scan */
	uint32_t unresolved;	/* ports whose peer namespace was not found */
	int bridge_present;	/* the bridge existed at the last scan */
	uint64_t rescans[SCOPE_SCAN__MAX];
	uint64_t errors;	/* scans that failed (netlink errors); the old set stays */
};

struct scope;

/*
 * scope_open - resolves the bridge and makes the first scan. Returns 0, or
 * -ENODEV (no such interface) / -EINVAL (it is not a bridge) / -errno with one
 * line in err.
 */
int scope_open(const struct scope_config *cfg, struct scope **out, char *err, size_t errlen);

/*
 * scope_poll - reads pending link events (non-blocking, bounded) and rescans
 * when one was relevant or the periodic rescan is due, within the rate limit.
 * now_ns is CLOCK_MONOTONIC. Returns 1 when the set of namespaces changed, 0
 * otherwise.
 */
int scope_poll(struct scope *s, uint64_t now_ns);

/* The namespaces in scope (inode numbers, ascending); valid until the next
 * scope_poll(). */
const struct scope_set *scope_namespaces(const struct scope *s);

const char *scope_bridge(const struct scope *s);
void scope_stats(const struct scope *s, struct scope_stats *out);
const char *scope_trigger_name(int trigger); /* "start", "link", "periodic" */

/* Safe on NULL. */
void scope_close(struct scope *s);

#endif
