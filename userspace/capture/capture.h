/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * capture/ — loads bpf/mcpwire.bpf.c, attaches its syscall tracepoints and
 * turns ring-buffer events into stream_open/stream_data/stream_close calls.
 *
 * Lifecycle: capture_preflight() → capture_open() → capture_poll() in a loop on
 * the pipeline thread → capture_close(). Not thread-safe; one instance per
 * process (the BPF side skips the traffic of cfg->self_tgid only).
 */
#ifndef MCPWIRE_CAPTURE_H
#define MCPWIRE_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "mcpwire.h"

struct stream_table;

/* Zero in any field selects its default. */
struct capture_config {
	/* One syscall's payload is copied in full up to cap_bytes (default 1 MiB).
	 * Past it only the first cap_bytes - tail_bytes and the last tail_bytes
	 * (default 64 KiB) are, and the skipped middle is counted as
	 * "cap_exceeded". tail_bytes must be below cap_bytes. */
	uint32_t cap_bytes, tail_bytes;
	/* Ring buffer size in bytes (default 16 MiB); rounded up to a power of
	 * two. */
	uint32_t ringbuf_bytes;
	/* Sockets tracked at once (--max-conns; default MW_CONNS_MAX): entries
	 * of the BPF `conns` map, and of `fdinfo` when above MW_FDINFO_MAX.
	 * Hash maps are preallocated: about 170 bytes of kernel memory per
	 * `conns` entry whether used or not (docs/capture.md). */
	uint32_t max_conns;
	/* Process whose own syscalls are never traced: the daemon's getpid(). */
	uint32_t self_tgid;
	/* Non-zero: libbpf and verifier output go to stderr. */
	int verbose;
	/* Non-zero (--network/--bridge): only connections of the network
	 * namespaces given to capture_set_scope() are reported; none until
	 * it is called. */
	int scoped;
};

struct capture;

/*
 * Checks the environment and turns problems into one clear line in err: not
 * root / missing CAP_BPF+CAP_PERFMON (+CAP_SYS_ADMIN where needed), no BTF at
 * /sys/kernel/btf/vmlinux, tracefs not mounted (mounted at /sys/kernel/tracing
 * when possible; the exact command otherwise). bpffs is mounted at /sys/fs/bpf
 * when missing and possible; its absence is not an error (nothing is pinned).
 * Returns 0 or -errno.
 */
int capture_preflight(char *err, size_t errlen);

/*
 * Loads and attaches every program; events go to st, which must outlive the
 * capture. Returns 0 or -errno with a one-line reason in err (a verifier
 * rejection names the program; the verifier log is printed only when
 * cfg->verbose). On success *out owns everything.
 */
int capture_open(const struct capture_config *cfg, struct stream_table *st, struct capture **out,
		 char *err, size_t errlen);

/*
 * Waits up to timeout_ms, but never more than 20 ms (the kernel side does not
 * wake the poll for every event, see capture.c), for events and dispatches
 * them; -1 means that 20 ms too.
 * Returns the number of ring-buffer records handled, or -errno (-EINTR is not
 * an error for the caller). Also, at most every few seconds, closes the
 * connections of processes that exited without close().
 */
int capture_poll(struct capture *c, int timeout_ms);

/* Totals since load, summed over CPUs, indexed by enum mw_drop_reason:
 * ringbuf_full, read_fault, iov_limit, conn_table_full, args_table_full and
 * tail_call count events; cap_exceeded counts bytes. */
void capture_drops(struct capture *c, uint64_t out[MW_DROP__MAX]);

/* Static label for a reason ("ringbuf_full", "read_fault", "cap_exceeded",
 * "conn_table_full", "iov_limit", "args_table_full", "tail_call"); "unknown"
 * otherwise. */
const char *capture_drop_reason_name(int reason);
/* Ring-buffer records userspace refused as too short or inconsistent, since
 * load: never trusted, counted instead (mcpwire_events_lost_total
 * {reason="malformed_record"}). */
uint64_t capture_malformed(const struct capture *c);

struct scope_set;

/*
 * capture_set_scope - with cfg->scoped, the network namespaces (inode
 * numbers) whose connections are reported from now on. Pushes the set into
 * the BPF map `scope_netns`, which the kernel side checks once per new
 * connection, and makes a connection's open event the userspace check (its
 * data and close follow its verdict). When namespaces joined, fds the kernel
 * side had turned away are forgotten, so their next syscall is judged again;
 * when some left, their open connections are closed in stream/ (as if the
 * process had closed them) and the kernel side stops copying them. Returns 0
 * or -errno (the userspace filter then already uses the new set).
 */
int capture_set_scope(struct capture *c, const struct scope_set *ns);

/* Connections the scope filter turned away (open events, plus open
 * connections of namespaces that left), since load. */
uint64_t capture_scope_filtered(const struct capture *c);


/* One line for the start-up log: the hooks capture_open() attached and the
 * ones it skipped, with the reason ("23 syscall tracepoints; skipped
 * sys_enter_dup2 (no such tracepoint)"). */
void capture_hooks(struct capture *c, char *buf, size_t len);
/* Detaches and frees everything (also the maps); safe on NULL. */
void capture_close(struct capture *c);

#endif /* MCPWIRE_CAPTURE_H */
