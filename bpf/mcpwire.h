/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Types shared by the BPF programs (mcpwire.bpf.c) and the daemon
 * (userspace/capture/). Fixed-width fields only and no includes, so the same
 * bytes mean the same thing on both sides of the ring buffer.
 *
 * Changing any struct or enum here breaks the interface between the BPF object
 * and the daemon; both are always built from one tree, never mixed.
 */
#ifndef MCPWIRE_H
#define MCPWIRE_H

/* Payload bytes carried by one data event. A syscall moving more is split into
 * several events, each with its own stream offset. */
#define MW_CHUNK_MAX 8192
#define MW_COMM_LEN 16
/* sizeof(((struct sockaddr_un *)0)->sun_path) */
#define MW_UNIX_PATH_MAX 108
/* Pipes and unix stream sockets on fd 0 and 1 are a stdio server's end;
 * unix stream sockets on other fds are traced as HTTP. */
#define MW_STDIO_FD_MAX 1

enum mw_event_type {
	MW_EV_DATA = 1,	 /* struct mw_data_event */
	MW_EV_OPEN = 2,	 /* struct mw_open_event: first sight of an MCP-candidate connection */
	MW_EV_CLOSE = 3, /* struct mw_close_event: close() of a connection that had an OPEN */
};

/* Direction of a data event relative to the observing socket. */
enum mw_dir {
	MW_DIR_RECV = 0, /* read, readv, recvfrom, recvmsg */
	MW_DIR_SEND = 1, /* write, writev, sendto, sendmsg */
};

/* How the observing socket came to be, which is also its role. */
enum mw_role {
	MW_ROLE_UNKNOWN = 0, /* open before mcpwire started; role inferred from content */
	MW_ROLE_CLIENT = 1,  /* connect() */
	MW_ROLE_SERVER = 2,  /* accept()/accept4() */
};

enum mw_family {
	MW_FAM_UNKNOWN = 0,
	MW_FAM_TCP4 = 1,
	MW_FAM_TCP6 = 2, /* includes v4-mapped addresses */
	MW_FAM_UNIX = 3,
	MW_FAM_PIPE = 4,
};

enum mw_data_flags {
	/* Bytes were left out right before this chunk because the syscall moved
	 * more than the capture cap: offset jumps over them (head + tail). */
	MW_DATA_AFTER_CAP = 1 << 0,
};

/* Every reason an event or byte can be lost. Values double as the `reason`
 * label of mcpwire_events_lost_total; keep userspace's name table in step. */
enum mw_drop_reason {
	MW_DROP_RINGBUF_FULL = 0, /* bpf_ringbuf_output failed */
	MW_DROP_READ_FAULT = 1,	  /* bpf_probe_read_user failed */
	MW_DROP_CAP_EXCEEDED = 2, /* middle of a write larger than the cap */
	MW_DROP_CONN_TABLE_FULL = 3,
	MW_DROP_IOV_LIMIT = 4,	  /* more iovecs than MW_IOV_MAX */
	MW_DROP_ARGS_TABLE_FULL = 5,
	MW_DROP_TAIL_CALL = 6,	  /* exit could not jump to the capture program */
	MW_DROP__MAX = 7,
};

#define MW_IOV_MAX 16

struct mw_event_hdr {
	__u32 type;  /* enum mw_event_type */
	__u32 tgid;  /* process */
	__u32 tid;   /* thread that made the syscall */
	__u32 fd;
	__u64 gen;   /* connection generation: a reused fd never inherits an old connection */
	__u64 ts_ns; /* bpf_ktime_get_ns(), CLOCK_MONOTONIC, at syscall exit */
};

struct mw_open_event {
	struct mw_event_hdr hdr;
	__u32 role;   /* enum mw_role */
	__u32 family; /* enum mw_family */
	__u16 lport;  /* local port, host byte order */
	__u16 rport;  /* remote port, host byte order */
	__u32 netns;  /* network namespace inode of the socket; for pipes, and unix
		       * sockets without one, of the process (--network scope) */
	/* TCP: IPv4 in the first 4 bytes, network byte order. MW_FAM_PIPE: the
	 * pipe's inode number (__u64, host order) in the first 8 bytes of both.
	 * MW_FAM_UNIX: the address of this socket's struct sock in the first 8
	 * bytes of laddr and of its peer's in raddr (0: no peer), so the two
	 * ends of one socketpair or connection carry the same unordered pair;
	 * kernel addresses, which userspace/capture/ hashes with a per-run
	 * random key before passing them on. Pipes are traced only on fd 0
	 * (reads) and fd 1 (writes), the stdio server's end; so are unix
	 * sockets on those fds, while unix sockets on any other fd are
	 * traced in both directions if they carry HTTP. */
	__u8 laddr[16];
	__u8 raddr[16];
	char comm[MW_COMM_LEN];
	/* MW_FAM_UNIX: the connection's server address (mw_unix_path()):
	 * path_len bytes of sun_path, a path with its NUL, or an abstract
	 * name starting with a NUL byte; path_len 0 when unnamed. */
	__u32 path_len;
	char path[MW_UNIX_PATH_MAX];
};

struct mw_data_event {
	struct mw_event_hdr hdr;
	__u64 offset;	   /* stream offset of data[0] in this direction, from first sight */
	__u32 len;	   /* bytes in data[] */
	__u32 syscall_len; /* bytes the whole syscall moved */
	__u32 dir;	   /* enum mw_dir */
	__u32 flags;	   /* enum mw_data_flags */
	__u8 data[MW_CHUNK_MAX];
};

struct mw_close_event {
	struct mw_event_hdr hdr;
	__u64 bytes_sent; /* totals seen on this connection */
	__u64 bytes_recv;
};

#endif /* MCPWIRE_H */
