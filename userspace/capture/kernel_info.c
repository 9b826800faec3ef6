// SPDX-License-Identifier: GPL-2.0-only
/*
 * capture/kernel_info — start-up probes of the running kernel (kernel_info.h).
 *
 * The BPF probes are libbpf's own (libbpf_probe_bpf_prog_type,
 * libbpf_probe_bpf_map_type: they load a trivial program or create a tiny map
 * and report whether the kernel accepted it). fentry has no such probe: a
 * two-instruction BPF_PROG_TYPE_TRACING program is loaded against
 * bpf_fentry_test1 (the kernel's own test target in net/bpf/test_run.c) and
 * attached, since some kernels load it and refuse the attach (or, like this
 * project's build machines, refuse the load with EPERM).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "capture/kernel_info.h"

static const char *const kernel_feature_names[KF__MAX] = {
	[KF_BTF] = "btf",	      [KF_FENTRY] = "fentry", [KF_KPROBES] = "kprobes",
	[KF_RINGBUF] = "ringbuf",     [KF_TC] = "tc",	      [KF_TRACEPOINTS] = "tracepoints",
	[KF_UPROBES] = "uprobes",
};

const char *kernel_feature_name(int f)
{
	return f >= 0 && f < KF__MAX ? kernel_feature_names[f] : "unknown";
}

/* The probes' failures are the expected outcome on many kernels. */
static int kernel_info_silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static int kernel_info_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Either the perf event source (what libbpf attaches through) or the legacy
 * tracefs control file. */
static int kernel_info_probe_events(const char *kind)
{
	char p[128];

	snprintf(p, sizeof(p), "/sys/bus/event_source/devices/%s/type", kind);
	if (kernel_info_exists(p))
		return 1;
	snprintf(p, sizeof(p), "/sys/kernel/tracing/%s_events", kind);
	if (kernel_info_exists(p))
		return 1;
	snprintf(p, sizeof(p), "/sys/kernel/debug/tracing/%s_events", kind);
	return kernel_info_exists(p);
}

static int kernel_info_probe_fentry(void)
{
	static const char *const targets[] = { "bpf_fentry_test1", "do_sys_openat2" };
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FENTRY);
	struct btf *vmlinux;
	int id = -1, prog, link, ok = 0;
	size_t i;

	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		return 0;
	for (i = 0; i < sizeof(targets) / sizeof(targets[0]) && id < 0; i++)
		id = btf__find_by_name_kind(vmlinux, targets[i], BTF_KIND_FUNC);
	btf__free(vmlinux);
	if (id < 0)
		return 0;
	opts.attach_btf_id = (__u32)id;
	prog = bpf_prog_load(BPF_PROG_TYPE_TRACING, "mw_probe_fentry", "GPL", insns,
			     sizeof(insns) / sizeof(insns[0]), &opts);
	if (prog < 0)
		return 0;
	link = bpf_link_create(prog, 0, BPF_TRACE_FENTRY, NULL);
	if (link >= 0) {
		ok = 1;
		close(link);
	}
	close(prog);
	return ok;
}

void kernel_info_probe(struct kernel_info *ki)
{
	libbpf_print_fn_t prev = libbpf_set_print(kernel_info_silent);
	struct timespec t0, t1;
	struct utsname u;
	size_t off = 0;
	int f;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(ki, 0, sizeof(*ki));
	if (uname(&u) == 0)
		snprintf(ki->release, sizeof(ki->release), "%s", u.release);

	if (access("/sys/kernel/btf/vmlinux", R_OK) == 0)
		ki->features |= 1u << KF_BTF;
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACEPOINT, NULL) == 1 &&
	    (kernel_info_exists("/sys/kernel/tracing/events/syscalls") ||
	     kernel_info_exists("/sys/kernel/debug/tracing/events/syscalls")))
		ki->features |= 1u << KF_TRACEPOINTS;
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 1)
		ki->features |= 1u << KF_RINGBUF;
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SCHED_CLS, NULL) == 1)
		ki->features |= 1u << KF_TC;
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_KPROBE, NULL) == 1 &&
	    kernel_info_probe_events("kprobe"))
		ki->features |= 1u << KF_KPROBES;
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_KPROBE, NULL) == 1 &&
	    kernel_info_probe_events("uprobe"))
		ki->features |= 1u << KF_UPROBES;
	if ((ki->features & (1u << KF_BTF)) && kernel_info_probe_fentry())
		ki->features |= 1u << KF_FENTRY;

	for (f = 0; f < KF__MAX; f++) {
		if (!(ki->features & (1u << f)))
			continue;
		off += (size_t)snprintf(ki->features_str + off, sizeof(ki->features_str) - off,
					"%s%s", off ? "," : "", kernel_feature_names[f]);
	}
	libbpf_set_print(prev);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ki->probe_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
}
