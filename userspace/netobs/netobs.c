// SPDX-License-Identifier: GPL-2.0-only
/*
 * netobs/ — load the tc program, follow the bridge's veths, read the maps
 * into the metrics (netobs.h).
 */
#include <errno.h>
#include <linux/types.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "mcp/mcp.h"
#include "metrics/metrics.h"
#include "metrics/registry.h"
#include "netobs/join.h"
#include "netobs/links.h"
#include "netobs/netobs.h"
#include "netobs/tc.h"
/* bpf/netobs.h; <> because "" would find netobs/netobs.h next to this file */
#include <netobs.h>
#include "netobs.skel.h"

#define NETOBS_SEC 1000000000ull
/* a finished flow (FIN both ways, or reset) is kept this long for late segments */
#define NETOBS_FIN_LINGER_NS (10 * NETOBS_SEC)
/* an endpoint map entry without traffic this long is deleted (its totals
 * were exported, or it never carried MCP) */
#define NETOBS_EP_IDLE_NS (600 * NETOBS_SEC)

struct netobs {
	struct netobs_config cfg;
	struct netobs_bpf *skel;
	struct netobs_links *links;
	struct netobs_join *join;
	int prog_fd[2];
	struct netobs_tc_hook *hooks; /* veths with our filters */
	uint32_t nhooks, cap_hooks;
	uint64_t next_read_ns;
	uint64_t *percpu;
	int ncpus;
	uint64_t attach_failures;
};

static const char *const netobs_drop_names[NETOBS_DROP__MAX] = {
	[NETOBS_DROP_FLOW_TABLE_FULL] = "net_flow_table_full",
	[NETOBS_DROP_EP_TABLE_FULL] = "net_endpoint_table_full",
	[NETOBS_DROP_UNPARSED] = "net_unparsed",
};

static void netobs_on_link(void *arg, int ifindex, const char *ifname, int joined)
{
	struct netobs *n = arg;
	char err[160];
	int rc;

	if (!joined) {
		for (uint32_t i = 0; i < n->nhooks; i++) {
			if (n->hooks[i].ifindex != ifindex)
				continue;
			/* usually the veth is gone and its hooks with it */
			netobs_tc_detach(&n->hooks[i]);
			n->hooks[i] = n->hooks[--n->nhooks];
			if (n->cfg.verbose)
				fprintf(stderr, "netobs: veth %s (ifindex %d) left the bridge\n",
					ifname, ifindex);
			return;
		}
		return;
	}
	if (n->nhooks == n->cap_hooks) {
		uint32_t cap = n->cap_hooks ? n->cap_hooks * 2 : 16;
		struct netobs_tc_hook *h = realloc(n->hooks, cap * sizeof(*h));

		if (!h) {
			n->attach_failures++;
			fprintf(stderr, "mcpwire: netobs: out of memory, veth %s not observed\n",
				ifname);
			return;
		}
		n->hooks = h;
		n->cap_hooks = cap;
	}
	rc = netobs_tc_attach(&n->hooks[n->nhooks], ifindex, n->prog_fd, err, sizeof(err));
	if (rc) {
		/* a veth deleted right after it joined is no news */
		if (rc != -ENODEV) {
			n->attach_failures++;
			fprintf(stderr, "mcpwire: netobs: veth %s: %s\n", ifname, err);
		}
		return;
	}
	if (n->cfg.verbose)
		fprintf(stderr, "netobs: attached to veth %s (ifindex %d)%s\n", ifname, ifindex,
			n->hooks[n->nhooks].created_qdisc ? ", clsact created" :
							    ", clsact already there");
	n->nhooks++;
}

int netobs_start(struct netobs **out, const char *bridge_ifname, const struct netobs_config *cfg,
		 char *err, size_t errlen)
{
	const double bounds_ns[] = NETOBS_BOUNDS_NS;
	struct netobs *n;
	int rc;

	*out = NULL;
	for (int i = 0; i < NETOBS_NBUCKETS; i++) {
		if (bounds_ns[i] != metrics_buckets[i] * 1e9) {
			snprintf(err, errlen, "netobs: RTT buckets differ from the metrics' buckets");
			return -EINVAL;
		}
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (cfg)
		n->cfg = *cfg;
	if (!n->cfg.max_flows)
		n->cfg.max_flows = NETOBS_MAX_FLOWS;
	if (!n->cfg.max_endpoints)
		n->cfg.max_endpoints = NETOBS_MAX_ENDPOINTS;
	if (!n->cfg.read_interval_ns)
		n->cfg.read_interval_ns = NETOBS_SEC;
	if (!n->cfg.unnamed_hold_ns)
		n->cfg.unnamed_hold_ns = 2 * NETOBS_SEC;
	if (!n->cfg.flow_idle_ns)
		n->cfg.flow_idle_ns = 120 * NETOBS_SEC;
	n->ncpus = libbpf_num_possible_cpus();
	n->percpu = n->ncpus > 0 ? calloc(n->ncpus, sizeof(*n->percpu)) : NULL;
	n->join = netobs_join_new(n->cfg.max_endpoints, n->cfg.unnamed_hold_ns);
	if (!n->percpu || !n->join) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}

	n->skel = netobs_bpf__open();
	if (!n->skel) {
		rc = -errno;
		snprintf(err, errlen, "cannot open the tc BPF object: %s", strerror(errno));
		goto fail;
	}
	if (bpf_map__set_max_entries(n->skel->maps.netobs_flows, n->cfg.max_flows) ||
	    bpf_map__set_max_entries(n->skel->maps.netobs_endpoints, n->cfg.max_endpoints)) {
		rc = -EINVAL;
		snprintf(err, errlen, "cannot size the tc program's maps");
		goto fail;
	}
	rc = netobs_bpf__load(n->skel);
	if (rc) {
		snprintf(err, errlen, "cannot load the tc BPF program: %s%s", strerror(-rc),
			 n->cfg.verbose ? "" : " (run with -v for the log)");
		goto fail;
	}
	n->prog_fd[0] = bpf_program__fd(n->skel->progs.netobs_ingress);
	n->prog_fd[1] = bpf_program__fd(n->skel->progs.netobs_egress);

	rc = netobs_links_open(&n->links, bridge_ifname, netobs_on_link, n, err, errlen);
	if (rc)
		goto fail;
	if (n->attach_failures) {
		snprintf(err, errlen, "cannot attach tc programs to the veths of %s (see above)",
			 bridge_ifname);
		rc = -EPERM;
		goto fail;
	}
	if (n->cfg.verbose)
		fprintf(stderr, "netobs: bridge %s (ifindex %d): %u veths observed\n",
			bridge_ifname, netobs_links_bridge_ifindex(n->links), n->nhooks);
	*out = n;
	return 0;
fail:
	netobs_stop(n);
	return rc;
}

static int netobs_lookup(void *arg, const char *label, uint32_t *server, int *named)
{
	return mcp_server_of_endpoint(arg, label, server, named);
}

/* One pass over the endpoints map: export, and delete long-idle entries. */
static void netobs_read_endpoints(struct netobs *n, struct mcp_state *mcp, struct metrics *m,
				  uint64_t now_ns)
{
	int fd = bpf_map__fd(n->skel->maps.netobs_endpoints);
	struct netobs_ep key, next, *prev = NULL;
	struct netobs_ep_stats st;

	netobs_join_begin(n->join);
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &st))
			continue; /* deleted meanwhile */
		netobs_join_endpoint(n->join, &key, &st, now_ns, netobs_lookup, mcp, m);
		/* its totals are exported (or it is no MCP server): a new
		 * entry counts from zero if it speaks again */
		if (st.last_ns && now_ns > st.last_ns + NETOBS_EP_IDLE_NS)
			bpf_map_delete_elem(fd, &key);
	}
	netobs_join_end(n->join, m);
}

/* Forgets flows idle for flow_idle_ns, and closed ones after a linger. */
static void netobs_sweep_flows(struct netobs *n, uint64_t now_ns)
{
	int fd = bpf_map__fd(n->skel->maps.netobs_flows);
	struct netobs_flow_key key, next, *prev = NULL;
	struct netobs_flow f;
	const uint16_t fins = NETOBS_F_FIN_C2S | NETOBS_F_FIN_S2C;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &f))
			continue;
		if (now_ns < f.last_ns)
			continue;
		if (now_ns - f.last_ns > n->cfg.flow_idle_ns ||
		    (((f.flags & fins) == fins || (f.flags & NETOBS_F_RST)) &&
		     now_ns - f.last_ns > NETOBS_FIN_LINGER_NS))
			bpf_map_delete_elem(fd, &key);
	}
}

static void netobs_export_drops(struct netobs *n, struct metrics *m)
{
	int fd = bpf_map__fd(n->skel->maps.netobs_drops);

	for (uint32_t r = 0; r < NETOBS_DROP__MAX; r++) {
		uint64_t total = 0;

		if (bpf_map_lookup_elem(fd, &r, n->percpu))
			continue;
		for (int c = 0; c < n->ncpus; c++)
			total += n->percpu[c];
		metrics_events_lost_set(m, netobs_drop_names[r], total);
	}
}

int netobs_poll(struct netobs *n, struct mcp_state *mcp, struct metrics *m, uint64_t now_ns)
{
	int rc = 0;

	if (!n)
		return 0;
	if (n->links) {
		rc = netobs_links_poll(n->links);
		if (rc) {
			fprintf(stderr, "mcpwire: netobs: cannot follow the bridge's veths any more: "
				"%s\n", strerror(-rc));
			/* keep what is attached; stop reading the dead socket */
			netobs_links_close(n->links);
			n->links = NULL;
		}
	}
	if (now_ns >= n->next_read_ns) {
		n->next_read_ns = now_ns + n->cfg.read_interval_ns;
		netobs_read_endpoints(n, mcp, m, now_ns);
		netobs_sweep_flows(n, now_ns);
		netobs_export_drops(n, m);
	}
	return rc;
}

void netobs_stop(struct netobs *n)
{
	if (!n)
		return;
	/* filters first, while the programs they point to still exist */
	for (uint32_t i = 0; i < n->nhooks; i++)
		netobs_tc_detach(&n->hooks[i]);
	free(n->hooks);
	netobs_links_close(n->links);
	netobs_bpf__destroy(n->skel);
	netobs_join_free(n->join);
	free(n->percpu);
	free(n);
}
