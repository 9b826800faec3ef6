/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * netobs/tc — the tc (clsact) hooks of one veth: attach the netobs programs
 * on ingress and egress, and take away exactly what was added.
 *
 * libbpf 1.1's bpf_tc_hook_create()/bpf_tc_attach()/bpf_tc_detach()
 * (netlink, tc-bpf(8)); no tcx links, so nothing is removed by the kernel
 * when mcpwire dies (docs/network.md "Limits").
 *
 * Ownership rule: the clsact qdisc is destroyed on detach only if
 * netobs_tc_attach() created it (bpf_tc_hook_create() did not answer
 * -EEXIST). A pre-existing clsact, and every filter that is not one of the
 * two this module added (matched by handle and priority), are left alone.
 */
#ifndef MCPWIRE_NETOBS_TC_H
#define MCPWIRE_NETOBS_TC_H

#include <stdint.h>
#include <stddef.h>

struct netobs_tc_hook {
	int ifindex;
	uint8_t created_qdisc; /* clsact was created by us: destroy it on detach */
	uint8_t attached[2];   /* [0] ingress, [1] egress filter in place */
	uint32_t handle[2];    /* filter handle and priority the kernel gave ours */
	uint32_t priority[2];
};

/*
 * Creates clsact on ifindex if absent and attaches prog_fd[0] on ingress and
 * prog_fd[1] on egress (direct action). On failure undoes what it did and
 * returns a negative errno with a line in err; -ENODEV when the link vanished.
 */
int netobs_tc_attach(struct netobs_tc_hook *h, int ifindex, const int prog_fd[2], char *err,
		     size_t errlen);

/*
 * Removes our two filters, then the clsact qdisc if we created it. A link
 * already gone (its qdiscs and filters went with it) is not an error.
 * Returns 0 or the first negative errno other than ENODEV/ENOENT/EINVAL.
 */
int netobs_tc_detach(struct netobs_tc_hook *h);

#endif /* MCPWIRE_NETOBS_TC_H */
