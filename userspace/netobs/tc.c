// SPDX-License-Identifier: GPL-2.0-only
/*
 * netobs/tc — attach and detach the tc programs of one veth (tc.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "netobs/tc.h"

static const enum bpf_tc_attach_point netobs_tc_points[2] = { BPF_TC_INGRESS, BPF_TC_EGRESS };

/* errors meaning "the link, its qdisc or our filter is already gone" */
static int netobs_tc_gone(int rc)
{
	return rc == -ENODEV || rc == -ENOENT || rc == -EINVAL || rc == -ENXIO;
}

int netobs_tc_detach(struct netobs_tc_hook *h)
{
	int first = 0, rc;

	for (int i = 0; i < 2; i++) {
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = h->ifindex,
				    .attach_point = netobs_tc_points[i]);
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = h->handle[i],
				    .priority = h->priority[i]);

		if (!h->attached[i])
			continue;
		rc = bpf_tc_detach(&hook, &opts);
		if (rc && !netobs_tc_gone(rc) && !first)
			first = rc;
		h->attached[i] = 0;
	}
	if (h->created_qdisc) {
		/* both points at once: that is what deletes the clsact qdisc */
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = h->ifindex,
				    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

		rc = bpf_tc_hook_destroy(&hook);
		if (rc && !netobs_tc_gone(rc) && !first)
			first = rc;
		h->created_qdisc = 0;
	}
	return first;
}

int netobs_tc_attach(struct netobs_tc_hook *h, int ifindex, const int prog_fd[2], char *err,
		     size_t errlen)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, qdisc, .ifindex = ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	int rc;

	memset(h, 0, sizeof(*h));
	h->ifindex = ifindex;
	rc = bpf_tc_hook_create(&qdisc);
	if (rc == 0) {
		h->created_qdisc = 1;
	} else if (rc != -EEXIST) {
		snprintf(err, errlen, "cannot create clsact qdisc on ifindex %d: %s", ifindex,
			 strerror(-rc));
		return rc;
	}
	for (int i = 0; i < 2; i++) {
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
				    .attach_point = netobs_tc_points[i]);
		/* handle and priority 0: the kernel picks free ones, and libbpf
		 * reports them back, so detach removes this filter and no other */
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd[i]);

		rc = bpf_tc_attach(&hook, &opts);
		if (rc) {
			snprintf(err, errlen, "cannot attach tc %s program on ifindex %d: %s",
				 i ? "egress" : "ingress", ifindex, strerror(-rc));
			netobs_tc_detach(h);
			return rc;
		}
		h->attached[i] = 1;
		h->handle[i] = opts.handle;
		h->priority[i] = opts.priority;
	}
	return 0;
}
