/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * capture/kernel_info — what the running kernel offers mcpwire, probed once at
 * start-up: the release (uname(2)) and a fixed set of features, exported as
 * mcpwire_kernel_info{release,features} and printed in the start-up line, so
 * an operator sees what a node supports (docs/kernels.md).
 */
#ifndef MCPWIRE_KERNEL_INFO_H
#define MCPWIRE_KERNEL_INFO_H

#include <stddef.h>

/* Feature bits, in the (alphabetical) order of the exported list. */
enum kernel_feature {
	KF_BTF,		/* /sys/kernel/btf/vmlinux readable: CO-RE works */
	KF_FENTRY,	/* a BPF_TRACE_FENTRY program loads and attaches */
	KF_KPROBES,	/* the kprobe perf event source (or kprobe_events) exists */
	KF_RINGBUF,	/* BPF_MAP_TYPE_RINGBUF can be created */
	KF_TC,		/* BPF_PROG_TYPE_SCHED_CLS programs load */
	KF_TRACEPOINTS, /* tracepoint programs load and tracefs has syscalls events */
	KF_UPROBES,	/* the uprobe perf event source (or uprobe_events) exists */
	KF__MAX,
};

struct kernel_info {
	char release[65];	/* utsname.release, "" when uname failed */
	unsigned int features;	/* 1 << enum kernel_feature */
	char features_str[96];	/* "btf,ringbuf,tracepoints": sorted, comma-separated */
	double probe_ms;	/* wall time the probes took */
};

/*
 * Fills ki. Each probe is cheap (a file test, or loading one two-instruction
 * program; fentry also parses the vmlinux BTF once, tens of ms). Needs the
 * privileges mcpwire runs with; without them the BPF probes just come out
 * absent. Never fails.
 */
void kernel_info_probe(struct kernel_info *ki);

/* Static name of feature f ("btf", "fentry", ...), "unknown" out of range. */
const char *kernel_feature_name(int f);

#endif /* MCPWIRE_KERNEL_INFO_H */
