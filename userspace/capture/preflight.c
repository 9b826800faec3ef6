// SPDX-License-Identifier: GPL-2.0-only
/*
 * Environment checks before loading BPF: privileges, kernel BTF, tracefs and
 * bpffs. Each problem becomes one line an operator can act on.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include "capture/capture.h"

#define CAPTURE_TRACEFS "/sys/kernel/tracing"
#define CAPTURE_DEBUGFS_TRACING "/sys/kernel/debug/tracing"
#define CAPTURE_BPFFS "/sys/fs/bpf"
#define CAPTURE_BTF "/sys/kernel/btf/vmlinux"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif
#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

static int capture_has_cap(const struct __user_cap_data_struct d[2], int cap)
{
	return !!(d[cap / 32].effective & (1u << (cap % 32)));
}

/* Loading tracing programs needs CAP_BPF + CAP_PERFMON, or CAP_SYS_ADMIN. */
static int capture_check_caps(char *err, size_t errlen)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};
	int bpf_ok, perfmon_ok, admin;

	if (syscall(SYS_capget, &h, d))
		return 0; /* cannot tell: let the load itself fail with EPERM */
	admin = capture_has_cap(d, CAP_SYS_ADMIN);
	/* Before 5.8 there is no CAP_BPF/CAP_PERFMON and CAP_SYS_ADMIN covers
	 * both; it also grants them on newer kernels. */
	bpf_ok = admin || capture_has_cap(d, CAP_BPF);
	perfmon_ok = admin || capture_has_cap(d, CAP_PERFMON);
	if (bpf_ok && perfmon_ok)
		return 0;
	snprintf(err, errlen, "%s: missing %s%s%s; run as root or grant CAP_BPF and CAP_PERFMON",
		 geteuid() ? "not root" : "insufficient capabilities", bpf_ok ? "" : "CAP_BPF",
		 (!bpf_ok && !perfmon_ok) ? " and " : "", perfmon_ok ? "" : "CAP_PERFMON");
	return -EPERM;
}

static int capture_fs_is(const char *path, long magic)
{
	struct statfs s;

	return statfs(path, &s) == 0 && (long)s.f_type == magic;
}

/* Syscall tracepoints must be reachable where libbpf looks: it prefers
 * debugfs's tracing dir when that exists, else tracefs. */
static int capture_check_tracefs(char *err, size_t errlen)
{
	struct stat st;

	if (stat(CAPTURE_DEBUGFS_TRACING "/events/syscalls", &st) == 0 ||
	    stat(CAPTURE_TRACEFS "/events/syscalls", &st) == 0)
		return 0;
	if (!capture_fs_is(CAPTURE_TRACEFS, TRACEFS_MAGIC) &&
	    mount("tracefs", CAPTURE_TRACEFS, "tracefs", 0, NULL)) {
		snprintf(err, errlen,
			 "tracefs is not mounted and mounting it failed (%s); run: "
			 "mount -t tracefs tracefs " CAPTURE_TRACEFS,
			 strerror(errno));
		return -ENOENT;
	}
	if (stat(CAPTURE_TRACEFS "/events/syscalls", &st)) {
		/* tracefs is mode 0700: a non-root uid with CAP_BPF+CAP_PERFMON
		 * cannot look inside, which is not the kernel's fault */
		if (errno == EACCES) {
			snprintf(err, errlen,
				 "permission denied reading " CAPTURE_TRACEFS
				 "/events/syscalls: run as uid 0 (CAP_BPF and CAP_PERFMON "
				 "suffice) or grant CAP_DAC_READ_SEARCH");
			return -EACCES;
		}
		snprintf(err, errlen,
			 "kernel has no syscall tracepoints (" CAPTURE_TRACEFS
			 "/events/syscalls missing; needs CONFIG_FTRACE_SYSCALLS)");
		return -ENOENT;
	}
	return 0;
}

int capture_preflight(char *err, size_t errlen)
{
	int ret;

	if (errlen)
		err[0] = '\0';
	ret = capture_check_caps(err, errlen);
	if (ret)
		return ret;
	if (access(CAPTURE_BTF, R_OK)) {
		snprintf(err, errlen,
			 "no kernel BTF at " CAPTURE_BTF " (%s); needs CONFIG_DEBUG_INFO_BTF=y",
			 strerror(errno));
		return -ENOENT;
	}
	ret = capture_check_tracefs(err, errlen);
	if (ret)
		return ret;
	/* Nothing is pinned today, but operators inspect with bpftool and a
	 * later release may pin: mount it when we can, never fail on it. */
	if (!capture_fs_is(CAPTURE_BPFFS, BPF_FS_MAGIC))
		(void)mount("bpf", CAPTURE_BPFFS, "bpf", 0, NULL);
	return 0;
}
