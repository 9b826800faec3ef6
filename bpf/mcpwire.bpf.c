// SPDX-License-Identifier: GPL-2.0-only
/*
 * mcpwire kernel side: syscall tracepoints that copy the payload of TCP
 * connections whose first bytes look like HTTP/1.x or JSON, of unix stream
 * sockets whose first bytes look like HTTP/1.x (Streamable HTTP on a socket
 * path), and of the stdio ends of MCP servers (pipes and unix socketpairs on
 * fd 0/1 whose first bytes look like a JSON-RPC object), into a ring buffer,
 * as (connection, direction, stream offset, bytes) events.
 *
 * Only tracepoints (tp/syscalls/...) are used: the build machines have neither
 * kprobes nor fentry. Kernel structures are read with CO-RE only.
 *
 * Per syscall on an fd, the entry probe does one `fdinfo` lookup; files, UDP
 * and unix datagram sockets, pipes other than a process's fd 0/1, and
 * connections ruled not MCP end there. An fd never
 * seen before is identified once (task->files->fdt->fd[fd]->f_inode->i_mode,
 * file->private_data->sk->__sk_common) and its verdict cached.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "mcpwire.h"
#include "mcpwire.bpf.h"
#include "classify.h"

char LICENSE[] SEC("license") = "GPL";

/* mw_classify_stdio() (mcpwire.bpf.h) returns these as plain numbers. */
_Static_assert(MW_CLASS_NOT_MCP == 0 && MW_CLASS_JSON == 3 && MW_CLASS_MAYBE == 4,
	       "mw_classify_stdio return values");
/* mw_classify_first() copies MW_CLASSIFY_LEN bytes for either check, and the
 * stdio callback masks its index with MW_STDIO_CLASSIFY_LEN - 1. */
_Static_assert(MW_CLASSIFY_LEN == MW_STDIO_CLASSIFY_LEN &&
	       (MW_STDIO_CLASSIFY_LEN & (MW_STDIO_CLASSIFY_LEN - 1)) == 0,
	       "stdio check length");

/* Knobs, set by userspace between open and load (capture.c). */
const volatile __u32 self_tgid = 0;		/* mcpwire itself: never traced */
const volatile __u32 cap_bytes = 1 << 20;	/* one syscall captured in full up to this */
const volatile __u32 tail_bytes = 64 << 10;	/* past the cap: head (cap - tail) + tail */
const volatile __u32 scope_enabled = 0;		/* --network/--bridge: see scope_netns */

/* Connection generations; only uniqueness per tgid<<32|fd matters. */
__u64 mw_next_gen = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* resized by userspace before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MW_FDINFO_MAX);
	__type(key, __u64); /* tgid<<32 | fd */
	__type(value, struct mw_fdinfo);
} fdinfo SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MW_CONNS_MAX);
	__type(key, __u64); /* tgid<<32 | fd */
	__type(value, struct mw_conn);
} conns SEC(".maps");

/*
 * Arguments a data syscall's entry stashes for its exit: task local storage,
 * one slot per thread, reused (kind MW_ARGS_NONE when empty) rather than a
 * hash entry created and deleted per syscall. On the development VM a
 * pid_tgid hash cost ~450 ns per captured syscall (update, lookup, delete),
 * this ~190 ns; the exit of a filtered syscall in a thread that never
 * stashed ends at one load (mw_exit_jump), ~20 ns less than a hash miss.
 * Kernel >= 5.12 (task storage in tracing programs), below the 5.17 that
 * bpf_loop needs anyway.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* required for local storage */
	__type(key, int);
	__type(value, struct mw_args);
} args SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MW_DROP__MAX);
	__type(key, __u32); /* enum mw_drop_reason */
	__type(value, __u64);
} drops SEC(".maps");

/* --network/--bridge (userspace/scope/): the network namespaces whose traffic
 * is reported, by inode number. Read once per connection, in mw_conn_start(). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MW_SCOPE_NETNS_MAX);
	__type(key, __u32);  /* netns inode (net->ns.inum) */
	__type(value, __u8); /* unused */
} scope_netns SEC(".maps");

static __always_inline void mw_drop(__u32 reason, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&drops, &reason);

	if (v)
		*v += n;
}

/*
 * Wake-up policy of the ring buffer. By default bpf_ringbuf_output() wakes
 * the consumer whenever it had caught up, which for a trickle of small MCP
 * messages is every event: an irq_work and a wake-up per syscall, about
 * 1.5 µs each on the development VM, more than the whole capture. Instead
 * the consumer is woken once MW_RB_WAKEUP_BYTES are waiting, and otherwise
 * finds the events on its own within CAPTURE_POLL_MS (capture.c).
 */
#define MW_RB_WAKEUP_BYTES (256 << 10)

static __always_inline __u64 mw_rb_flags(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= MW_RB_WAKEUP_BYTES ?
		       BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline __u64 mw_min(__u64 a, __u64 b)
{
	return a < b ? a : b;
}

static __always_inline __u64 mw_key(__u32 tgid, __u32 fd)
{
	return (__u64)tgid << 32 | fd;
}

/* A stdio server's end: a pipe or unix stream socket on fd 0 or 1. A unix
 * socket on any other fd is traced as HTTP (mw_family_traced()). */
static __always_inline bool mw_stdio(__u32 family, __u64 fd)
{
	return (family == MW_FAM_PIPE || family == MW_FAM_UNIX) && fd <= MW_STDIO_FD_MAX;
}

/*
 * Kinds of fd traced. For the stdio transport only the server's end is: the
 * server reads requests on its fd 0 and writes on its fd 1 (transports.mdx),
 * whatever the client uses (pipes from Python's subprocess, unix socketpairs
 * from Node's child_process). Pipes and socketpairs never leave the host, so
 * the server's end always exists and the client's copy would only have to be
 * deduplicated; skipping it halves the copies and keeps every other pipe fd
 * (shell pipelines' fd 3+) at one lookup per syscall. Unix stream sockets on
 * other fds are candidates for HTTP (a Streamable HTTP server listening on a
 * socket path) and, like TCP, cost one lookup once their first bytes ruled
 * them out (mw_classify_first(): HTTP only, so the client's end of a stdio
 * socketpair and Node's IPC channel, which carry JSON, are ruled out too).
 */
static __always_inline bool mw_family_traced(__u32 family, __u32 fd)
{
	if (family == MW_FAM_TCP4 || family == MW_FAM_TCP6 || family == MW_FAM_UNIX)
		return true;
	return mw_stdio(family, fd);
}

/* The stdio server reads fd 0 and writes fd 1; the other way round is not
 * MCP (a socketpair on fd 0 is bidirectional, a pipe's is not). */
static __always_inline bool mw_dir_traced(__u32 family, __u64 fd, __u32 dir)
{
	if (!mw_stdio(family, fd))
		return true;
	return fd == 0 ? dir == MW_DIR_RECV : dir == MW_DIR_SEND;
}

/*
 * The current task's struct file for fd, NULL when there is none. The walk
 * to the fd array uses BTF-typed pointers (bpf_get_current_task_btf, 5.11):
 * plain loads, a fault reading as 0, instead of a bpf_probe_read_kernel()
 * call per pointer; this runs on every copied syscall (mw_conn_reused), where
 * the four calls it replaces cost ~150 ns. The array index is a variable, so
 * that element is still read with the helper.
 */
static __noinline struct file *mw_fd_file(__u32 fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = task->files->fdt;
	struct file **fds;
	struct file *f = NULL;

	if (!fdt || fd >= fdt->max_fds)
		return NULL;
	fds = fdt->fd;
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]))
		return NULL;
#ifdef MW_CORE_BREAK
	/* make vmtest-core-break only: struct file's f_ref is 6.13's (older
	 * kernels have f_count), read without bpf_core_field_exists, so on an
	 * older kernel libbpf cannot relocate it and the load must fail. */
	if (f && BPF_CORE_READ(f, f_ref.refcnt.counter) < 0)
		return NULL;
#endif
	return f;
}

/*
 * Identifies the current task's fd and, for a TCP socket, fills c's file,
 * family, ports, addresses and netns. For a pipe, laddr and raddr both hold
 * its inode number; for a unix stream socket, laddr holds its own struct
 * sock's address and raddr its peer's, so the two ends of one pipe,
 * socketpair or connection name the same unordered pair (mcpwire.h). The
 * peer's sock, not its inode: a connect()ed socket's peer is the sock
 * unix_stream_connect() made for the server, which has no struct socket
 * (so no inode) until the server accept()s it. Returns enum mw_family;
 * MW_FAM_UNKNOWN for regular files, devices, UDP, unix datagram sockets and
 * anything unreadable.
 */
static __noinline int mw_sock_identify(__u32 fd, struct mw_conn *c)
{
	struct file *f = mw_fd_file(fd);
	struct socket *sock;
	struct sock *sk;
	__u16 family, mode;
	__u64 peer_sk;
	__u32 proto;

	if (!f)
		return MW_FAM_UNKNOWN;
	c->inode = (__u64)BPF_CORE_READ(f, f_inode);
	c->ino = BPF_CORE_READ(f, f_inode, i_ino);
	mode = BPF_CORE_READ(f, f_inode, i_mode) & MW_S_IFMT;
	if (mode == MW_S_IFIFO) {
		__builtin_memcpy(c->laddr, &c->ino, sizeof(c->ino));
		__builtin_memcpy(c->raddr, &c->ino, sizeof(c->ino));
		return MW_FAM_PIPE;
	}
	if (mode != MW_S_IFSOCK)
		return MW_FAM_UNKNOWN;

	sock = BPF_CORE_READ(f, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return MW_FAM_UNKNOWN;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family == MW_AF_UNIX) {
		/* stdio over a socketpair and HTTP are byte streams;
		 * datagram unix sockets (journald, syslog) never carry them */
		if (BPF_CORE_READ(sock, type) != MW_SOCK_STREAM)
			return MW_FAM_UNKNOWN;
		/* userspace hashes both before anything else sees them */
		peer_sk = (__u64)BPF_CORE_READ((struct unix_sock *)sk, peer);
		__builtin_memcpy(c->laddr, &sk, sizeof(__u64));
		__builtin_memcpy(c->raddr, &peer_sk, sizeof(peer_sk));
		return MW_FAM_UNIX;
	}
	if (family != MW_AF_INET && family != MW_AF_INET6)
		return MW_FAM_UNKNOWN;
	if (BPF_CORE_READ(sock, type) != MW_SOCK_STREAM)
		return MW_FAM_UNKNOWN;
	/* sk_protocol was an 8-bit bitfield before 5.6 (bf9765145b85, "sock: Make
	 * sk_protocol a 16-bit value"); the probed read handles both layouts. */
	proto = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
	if (proto != MW_IPPROTO_TCP)
		return MW_FAM_UNKNOWN;

	c->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	c->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	c->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	if (family == MW_AF_INET) {
		BPF_CORE_READ_INTO((__u32 *)c->laddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)c->raddr, sk, __sk_common.skc_daddr);
		return MW_FAM_TCP4;
	}
	BPF_CORE_READ_INTO(&c->laddr, sk, __sk_common.skc_v6_rcv_saddr);
	BPF_CORE_READ_INTO(&c->raddr, sk, __sk_common.skc_v6_daddr);
	return MW_FAM_TCP6;
}

static __always_inline void mw_hdr_fill(struct mw_event_hdr *h, __u32 type, __u64 key, __u64 gen)
{
	h->type = type;
	h->tgid = key >> 32;
	h->tid = (__u32)bpf_get_current_pid_tgid();
	h->fd = (__u32)key;
	h->gen = gen;
	h->ts_ns = bpf_ktime_get_ns();
}

static __always_inline void mw_emit_close(__u64 key, struct mw_conn *c)
{
	struct mw_close_event e = {};

	mw_hdr_fill(&e.hdr, MW_EV_CLOSE, key, c->gen);
	e.bytes_sent = c->off[MW_DIR_SEND];
	e.bytes_recv = c->off[MW_DIR_RECV];
	if (bpf_ringbuf_output(&events, &e, sizeof(e), mw_rb_flags()))
		mw_drop(MW_DROP_RINGBUF_FULL, 1);
}

/* The fd is going away (close, or dup2/dup3 over it): forget it. */
static __always_inline void mw_fd_forget(__u64 key)
{
	struct mw_conn *c;

	bpf_map_delete_elem(&fdinfo, &key);
	c = bpf_map_lookup_elem(&conns, &key);
	if (!c)
		return;
	if (c->open_emitted)
		mw_emit_close(key, c);
	bpf_map_delete_elem(&conns, &key);
}

/*
 * Scope check, once per connection: true when scoping is on and c's network
 * namespace is not in `scope_netns`. Pipes and unix sockets carry no netns of
 * their own in c; they get the current task's (the process using the fd),
 * which is what "a stdio server in a container" is scoped by.
 */
static __always_inline bool mw_scope_out(struct mw_conn *c)
{
	if (!c->netns) {
		struct task_struct *task = (struct task_struct *)bpf_get_current_task();

		c->netns = BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
	}
	return scope_enabled && !bpf_map_lookup_elem(&scope_netns, &c->netns);
}

/*
 * Starts tracking fd as a new connection with role (accept/connect), or, with
 * MW_ROLE_UNKNOWN, an fd met for the first time on a data syscall. Caches the
 * fd's verdict in `fdinfo`. Returns the fd's enum mw_family when it is a
 * candidate to copy, 0 (MW_FAM_UNKNOWN) when it is not.
 */
static __noinline __u32 mw_conn_start(__u64 key, __u32 fd, __u32 role)
{
	struct mw_fdinfo fi = {};
	struct mw_conn c = {};
	struct mw_conn *old;

	old = bpf_map_lookup_elem(&conns, &key);
	if (old && role == MW_ROLE_UNKNOWN) {
		/* fdinfo was evicted (LRU) but the connection is still live. */
		fi.state = old->state;
		fi.family = old->family;
		bpf_map_update_elem(&fdinfo, &key, &fi, BPF_ANY);
		return old->family;
	}
	if (old && old->open_emitted)
		/* Its close() was never seen (e.g. close_range); end it before the
		 * new connection reuses the fd. */
		mw_emit_close(key, old);

	fi.family = mw_sock_identify(fd, &c);
	if (!mw_family_traced(fi.family, fd)) {
		if (old)
			bpf_map_delete_elem(&conns, &key);
		fi.state = MW_FD_SKIP;
		bpf_map_update_elem(&fdinfo, &key, &fi, BPF_ANY);
		return MW_FAM_UNKNOWN;
	}
	if (mw_scope_out(&c)) {
		if (old)
			bpf_map_delete_elem(&conns, &key);
		fi.state = MW_FD_OUT_OF_SCOPE;
		bpf_map_update_elem(&fdinfo, &key, &fi, BPF_ANY);
		return MW_FAM_UNKNOWN;
	}

	c.gen = __sync_fetch_and_add(&mw_next_gen, 1) + 1;
	c.role = role;
	c.family = fi.family;
	c.state = MW_FD_CANDIDATE;
	if (bpf_map_update_elem(&conns, &key, &c, BPF_ANY)) {
		/* Not cached: the next syscall on the fd tries again. */
		mw_drop(MW_DROP_CONN_TABLE_FULL, 1);
		bpf_map_delete_elem(&fdinfo, &key);
		return MW_FAM_UNKNOWN;
	}
	fi.state = MW_FD_CANDIDATE;
	bpf_map_update_elem(&fdinfo, &key, &fi, BPF_ANY);
	return fi.family;
}

/* Entry filter: true when fd of the current process is worth stashing args
 * for, in direction dir. The common case (a known uninteresting fd) is one
 * map lookup. */
static __always_inline bool mw_fd_wanted(__u32 tgid, __u64 fd, __u32 dir)
{
	struct mw_fdinfo *fi;
	__u32 family;
	__u64 key;

	if (tgid == self_tgid || (__s32)fd < 0)
		return false;
	key = mw_key(tgid, fd);
	fi = bpf_map_lookup_elem(&fdinfo, &key);
	if (fi)
		return (fi->state == MW_FD_CANDIDATE || fi->state == MW_FD_MCP) &&
		       mw_dir_traced(fi->family, fd, dir);
	family = mw_conn_start(key, fd, MW_ROLE_UNKNOWN);
	return family && mw_dir_traced(family, fd, dir);
}

/* The current thread's stash slot, created on first use when create. */
static __always_inline struct mw_args *mw_args_slot(bool create)
{
	return bpf_task_storage_get(&args, bpf_get_current_task_btf(), NULL,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

static __always_inline void mw_stash(__u32 sys, __u32 fd, __u64 ptr, __u32 iovcnt, __u32 kind,
				     __u32 dir)
{
	struct mw_args *a = mw_args_slot(true);

	if (!a) {
		/* out of memory, or task storage busy on this CPU (a nested
		 * program): this syscall is not captured */
		mw_drop(MW_DROP_ARGS_TABLE_FULL, 1);
		return;
	}
	a->ptr = ptr;
	a->fd = fd;
	a->iovcnt = iovcnt;
	a->dir = dir;
	a->sys = sys;
	a->kind = kind;
}

static __always_inline int mw_enter_buf(__u32 sys, __u64 fd, __u64 buf, __u32 dir)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (mw_fd_wanted(pid_tgid >> 32, fd, dir))
		mw_stash(sys, fd, buf, 0, MW_ARGS_BUF, dir);
	return 0;
}

static __always_inline int mw_enter_iov(__u32 sys, __u64 fd, __u64 iov, __u64 iovcnt, __u32 dir)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (mw_fd_wanted(pid_tgid >> 32, fd, dir))
		mw_stash(sys, fd, iov, iovcnt > 0xffffffffULL ? 0 : iovcnt, MW_ARGS_IOV, dir);
	return 0;
}

static __always_inline int mw_enter_msg(__u32 sys, __u64 fd, __u64 msg, __u32 dir)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct user_msghdr mh = {};

	if (!mw_fd_wanted(pid_tgid >> 32, fd, dir))
		return 0;
	/* Unreadable msghdr: stash no iovecs, so the exit still advances the
	 * offset over the bytes moved and userspace sees the gap. */
	if (bpf_probe_read_user(&mh, sizeof(mh), (void *)msg))
		mw_drop(MW_DROP_READ_FAULT, 1);
	mw_stash(sys, fd, (__u64)mh.msg_iov, mh.msg_iovlen > 0xffffffffULL ? 0 : mh.msg_iovlen,
		 MW_ARGS_IOV, dir);
	return 0;
}

/* State of one syscall's copy loop (bpf_loop context). The syscall's bytes
 * [0, total) are captured where they fall in [0, head_end) or
 * [tail_start, total). Consecutive captured bytes, across iovecs too, are
 * gathered into one event of up to MW_CHUNK_MAX bytes. */
struct mw_emit {
	__u64 key;
	__u64 gen;
	__u64 base;	  /* stream offset of syscall byte 0 */
	__u64 total;	  /* bytes the syscall moved */
	__u64 head_end;
	__u64 tail_start;
	__u64 pos;	  /* syscall bytes consumed */
	__u64 seg_ptr;	  /* user address of byte pos */
	__u64 seg_left;	  /* bytes left in the current buffer / iovec */
	__u64 iov_ptr;	  /* struct iovec array, 0 for a single buffer */
	__u64 fill;	  /* bytes gathered in the pending event */
	__u64 chunk_pos;  /* syscall position of the pending event's data[0] */
	__u32 iovcnt;
	__u32 iov_idx;
	__u32 dir;
	__u32 flags;	  /* enum mw_data_flags owed to the next event out */
	__u32 chunk_flags; /* flags of the pending event */
	__u32 pad;
};

/*
 * Per-CPU scratch: a data event is too big for the 512-byte stack, and the
 * copy loop's state lives here rather than on the stack so the verifier sees
 * it as unknown scalars and checks mw_emit_step() once, instead of following
 * exact values through every iteration (which hit the 1M-instruction limit).
 */
struct mw_scratch {
	struct mw_emit m;
	/* mw_classify_stdio_step()'s state and input, for the same reason */
	struct mw_stdio_scan stdio;
	unsigned char stdio_b[MW_STDIO_CLASSIFY_LEN];
	__u32 stdio_n;	/* bytes in stdio_b */
	__s32 stdio_cls; /* verdict, enum mw_class */
	struct mw_data_event e;
	/* Never output: lets the verifier bound a copy to e.data + fill with
	 * fill, n <= MW_CHUNK_MAX, as it cannot prove fill + n <= MW_CHUNK_MAX. */
	__u8 spill[MW_CHUNK_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mw_scratch);
} scratch SEC(".maps");

/* Outputs the pending event, if any. */
static __always_inline void mw_flush(struct mw_emit *m, struct mw_data_event *e)
{
	__u64 fill = m->fill;

	m->fill = 0;
	if (fill == 0 || fill > MW_CHUNK_MAX)
		return;
	mw_hdr_fill(&e->hdr, MW_EV_DATA, m->key, m->gen);
	e->offset = m->base + m->chunk_pos;
	e->len = fill;
	e->syscall_len = m->total;
	e->dir = m->dir;
	e->flags = m->chunk_flags;
	if (bpf_ringbuf_output(&events, e, offsetof(struct mw_data_event, data) + fill,
			       mw_rb_flags())) {
		mw_drop(MW_DROP_RINGBUF_FULL, 1);
		return;
	}
	/* Kept until an event gets out, so the skip is never reported as loss. */
	m->flags &= ~m->chunk_flags;
}

/* Appends n bytes at seg_ptr to the pending event; n <= MW_CHUNK_MAX - fill. */
static __always_inline void mw_gather(struct mw_emit *m, struct mw_data_event *e, __u64 n)
{
	__u64 fill = m->fill;

	if (fill > MW_CHUNK_MAX || n > MW_CHUNK_MAX)
		return;
	if (fill == 0) {
		m->chunk_pos = m->pos;
		m->chunk_flags = m->flags;
	}
	if (bpf_probe_read_user(e->data + fill, n, (void *)m->seg_ptr)) {
		/* What came before goes out; the faulted range stays a gap. */
		mw_flush(m, e);
		mw_drop(MW_DROP_READ_FAULT, 1);
		return;
	}
	m->fill = fill + n;
	if (m->fill >= MW_CHUNK_MAX)
		mw_flush(m, e);
}

/* One step of the copy: load the next iovec, skip the middle past the cap, or
 * gather up to MW_CHUNK_MAX bytes. Returns 1 to stop. */
static long mw_emit_step(__u32 i, void *ctx)
{
	__u32 zero = 0;
	struct mw_scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	struct mw_emit *m;
	struct iovec v;
	__u64 n;

	if (!s)
		return 1;
	m = &s->m;

	if (m->pos >= m->total)
		return 1;
	if (m->seg_left == 0) {
		if (m->iov_idx >= m->iovcnt)
			return 1;
		if (m->iov_idx >= MW_IOV_MAX) {
			/* Reached limit of supported iovecs: the rest is a gap. */
			mw_drop(MW_DROP_IOV_LIMIT, 1);
			return 1;
		}
		if (bpf_probe_read_user(&v, sizeof(v),
					(void *)(m->iov_ptr + m->iov_idx * sizeof(struct iovec)))) {
			mw_drop(MW_DROP_READ_FAULT, 1);
			return 1;
		}
		m->iov_idx++;
		m->seg_ptr = (__u64)v.iov_base;
		/* recv*: only the first ret bytes were filled. */
		m->seg_left = mw_min(v.iov_len, m->total - m->pos);
		return 0;
	}
	if (m->pos >= m->head_end && m->pos < m->tail_start) {
		mw_flush(m, &s->e);
		n = mw_min(m->seg_left, m->tail_start - m->pos);
		m->flags |= MW_DATA_AFTER_CAP;
	} else {
		n = m->pos < m->head_end ? m->head_end - m->pos : m->total - m->pos;
		n = mw_min(mw_min(n, m->seg_left), MW_CHUNK_MAX - m->fill);
		mw_gather(m, &s->e, n);
	}
	m->pos += n;
	m->seg_ptr += n;
	m->seg_left -= n;
	return 0;
}

/* One byte of the stdio check (mcpwire.bpf.h). Returns 1 to stop. */
static long mw_classify_stdio_cb(__u32 i, void *ctx)
{
	__u32 zero = 0;
	struct mw_scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	int r;

	if (!s)
		return 1;
	if (i >= s->stdio_n) {
		s->stdio_cls = i < MW_STDIO_CLASSIFY_LEN ? MW_CLASS_MAYBE : MW_CLASS_NOT_MCP;
		return 1;
	}
	r = mw_classify_stdio_step(&s->stdio, s->stdio_b[i & (MW_STDIO_CLASSIFY_LEN - 1)]);
	if (r == MW_STDIO_MORE)
		return 0;
	s->stdio_cls = r;
	return 1;
}

/* mw_classify_stdio(b, n) through bpf_loop (see mcpwire.bpf.h for why). */
static __always_inline int mw_classify_stdio_bpf(const unsigned char *b, __u64 n)
{
	__u32 zero = 0;
	struct mw_scratch *s = bpf_map_lookup_elem(&scratch, &zero);

	if (!s)
		return MW_CLASS_NOT_MCP;
	__builtin_memset(&s->stdio, 0, sizeof(s->stdio));
	__builtin_memcpy(s->stdio_b, b, MW_STDIO_CLASSIFY_LEN);
	s->stdio_n = n;
	/* 16 bytes without a verdict, or n == 16 and all were matched */
	s->stdio_cls = MW_CLASS_NOT_MCP;
	bpf_loop(MW_STDIO_CLASSIFY_LEN + 1, mw_classify_stdio_cb, NULL, 0);
	return s->stdio_cls;
}

/*
 * Global, not static: the verifier checks a global function once, on its own,
 * instead of along every path of the capture program that reaches it.
 * Inlined, the unrolled byte loops of the classifiers took mcpwire's load
 * time from 0.15 s to 4.5 s.
 */
__noinline int mw_classify_http_buf(const struct mw_classify_buf *cb, unsigned int n)
{
	if (!cb)
		return MW_CLASS_NOT_MCP;
	return mw_classify(cb->b, n);
}

/* Classifies a candidate on its first data. Returns true when the connection
 * is (now) MCP; false drops it for good, or for this syscall on a fault. */
static __noinline bool mw_classify_first(__u64 key, struct mw_conn *c, struct mw_args *a,
					 __u64 ret)
{
	unsigned char b[MW_CLASSIFY_LEN] = {};
	struct mw_fdinfo fi = {};
	struct iovec v = {};
	__u64 src = a->ptr, n = ret;
	int cls;

	if (a->kind == MW_ARGS_IOV) {
		/* The first iovec only: HTTP and JSON writers put the start of a
		 * message in one buffer. */
		if (a->iovcnt == 0 || bpf_probe_read_user(&v, sizeof(v), (void *)a->ptr))
			return false;
		src = (__u64)v.iov_base;
		n = mw_min(v.iov_len, ret);
	}
	n = mw_min(n, MW_CLASSIFY_LEN);
	if (n && bpf_probe_read_user(b, n, (void *)src)) {
		mw_drop(MW_DROP_READ_FAULT, 1);
		return false;
	}
	cls = mw_stdio(c->family, a->fd) ?
		      mw_classify_stdio_bpf(b, n) :
		      mw_classify_http_buf((const struct mw_classify_buf *)b, (unsigned int)n);
	/* A unix socket beyond fd 0/1 carries MCP as HTTP only: bare JSON there
	 * is a stdio client's end (the server's end is traced) or Node's IPC
	 * channel, never worth copying. */
	if (cls == MW_CLASS_JSON && c->family == MW_FAM_UNIX && !mw_stdio(c->family, a->fd))
		cls = MW_CLASS_NOT_MCP;
	fi.family = c->family;
	if (cls == MW_CLASS_NOT_MCP) {
		fi.state = MW_FD_NOT_MCP;
		bpf_map_update_elem(&fdinfo, &key, &fi, BPF_ANY);
		bpf_map_delete_elem(&conns, &key);
		return false;
	}
	c->state = MW_FD_MCP;
	fi.state = MW_FD_MCP;
	bpf_map_update_elem(&fdinfo, &key, &fi, BPF_ANY);
	return true;
}

/*
 * The address a unix stream connection is known by: the path (or abstract
 * name) its server bound, into e->path and e->path_len (0 when there is
 * none: a socketpair, or an unnamed socket). An accept()ed socket shares its
 * listener's address (unix_stream_connect() gives the new sock otheru->addr),
 * and a connect()ing socket seldom binds one of its own, so the server's
 * name is one end's own address and the other end's peer's: own first, but
 * the peer's first for a connect()ed socket, whose own address, if it bound
 * one, would name the client. own and peer are struct sock addresses from
 * mw_sock_identify(). Global so the verifier checks it once, not in every
 * exit program.
 */
__noinline int mw_unix_path(struct mw_open_event *e, __u64 own, __u64 peer)
{
	struct unix_address *addr = NULL;
	__u64 first, second;
	__u32 len;

	if (!e)
		return 0;
	first = e->role == MW_ROLE_CLIENT ? peer : own;
	second = e->role == MW_ROLE_CLIENT ? own : peer;
	if (first)
		addr = BPF_CORE_READ((struct unix_sock *)first, addr);
	if (!addr && second)
		addr = BPF_CORE_READ((struct unix_sock *)second, addr);
	if (!addr)
		return 0;
	/* len counts sun_family too, and a path's terminating NUL */
	len = BPF_CORE_READ(addr, len);
	if (len <= sizeof(__u16))
		return 0;
	len -= sizeof(__u16);
	if (len > MW_UNIX_PATH_MAX)
		len = MW_UNIX_PATH_MAX;
	if (bpf_core_read(e->path, len, &addr->name[0].sun_path))
		return 0;
	e->path_len = len;
	return len;
}

static __noinline void mw_emit_open(__u64 key, struct mw_conn *c)
{
	struct mw_open_event e = {};

	mw_hdr_fill(&e.hdr, MW_EV_OPEN, key, c->gen);
	e.role = c->role;
	e.family = c->family;
	e.lport = c->lport;
	e.rport = c->rport;
	e.netns = c->netns;
	__builtin_memcpy(e.laddr, c->laddr, sizeof(e.laddr));
	__builtin_memcpy(e.raddr, c->raddr, sizeof(e.raddr));
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	if (c->family == MW_FAM_UNIX)
		mw_unix_path(&e, *(__u64 *)c->laddr, *(__u64 *)c->raddr);
	if (bpf_ringbuf_output(&events, &e, sizeof(e), mw_rb_flags()))
		/* Data still flows; userspace opens the key implicitly. */
		mw_drop(MW_DROP_RINGBUF_FULL, 1);
}

/* True when fd no longer refers to the socket c was made for. */
static __noinline bool mw_conn_reused(struct mw_conn *c, __u32 fd)
{
	struct file *f = mw_fd_file(fd);
	struct inode *inode;

	if (!f)
		return true;
	inode = BPF_CORE_READ(f, f_inode);
	return (__u64)inode != c->inode || BPF_CORE_READ(inode, i_ino) != c->ino;
}

/*
 * What a data syscall's exit does when its entry stashed arguments: classify
 * a candidate on its first bytes, emit OPEN once, and copy the bytes moved
 * into DATA events. Runs in mw_exit_capture only, the one program the eight
 * exit programs tail-call, so the verifier checks it once per load.
 */
static __always_inline int mw_exit_data(long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct mw_scratch *s;
	struct mw_args *ap, a;
	struct mw_conn *c;
	struct mw_emit *m;
	__u32 zero = 0, family;
	__u64 key;

	ap = mw_args_slot(false);
	if (!ap || ap->kind == MW_ARGS_NONE)
		return 0; /* emptied since mw_exit_jump looked */
	a = *ap;
	ap->kind = MW_ARGS_NONE;
	if (ret <= 0)
		return 0;

	key = mw_key(pid_tgid >> 32, a.fd);
	c = bpf_map_lookup_elem(&conns, &key);
	if (!c)
		return 0; /* closed by another thread meanwhile */
	if (mw_conn_reused(c, a.fd)) {
		/* The fd was closed without close() (exec of a CLOEXEC fd,
		 * close_range, io_uring) and reused: end the old connection and
		 * judge the new file afresh. */
		mw_fd_forget(key);
		family = mw_conn_start(key, a.fd, MW_ROLE_UNKNOWN);
		if (!family || !mw_dir_traced(family, a.fd, a.dir))
			return 0;
		c = bpf_map_lookup_elem(&conns, &key);
		if (!c)
			return 0;
	}
	if (c->state == MW_FD_CANDIDATE && !mw_classify_first(key, c, &a, ret))
		return 0;
	if (!c->open_emitted && __sync_val_compare_and_swap(&c->open_emitted, 0, 1) == 0)
		mw_emit_open(key, c);

	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;
	m = &s->m;
	__builtin_memset(m, 0, sizeof(*m));
	m->key = key;
	m->gen = c->gen;
	m->dir = a.dir & 1;
	m->total = ret;
	/* Reserve the stream range first: lost chunks keep their offsets. */
	m->base = __sync_fetch_and_add(&c->off[m->dir], m->total);
	if (m->total > cap_bytes) {
		m->head_end = cap_bytes - tail_bytes;
		m->tail_start = m->total - tail_bytes;
		mw_drop(MW_DROP_CAP_EXCEEDED, m->total - cap_bytes);
	} else {
		m->head_end = m->total;
		m->tail_start = m->total;
	}
	if (a.kind == MW_ARGS_BUF) {
		m->seg_ptr = a.ptr;
		m->seg_left = m->total;
	} else {
		m->iov_ptr = a.ptr;
		m->iovcnt = a.iovcnt;
	}
	bpf_loop(cap_bytes / MW_CHUNK_MAX + 4 * MW_IOV_MAX + 4, mw_emit_step, NULL, 0);
	mw_flush(m, &s->e);
	return 0;
}

/*
 * The eight data exits share one program. Each exit program is a filter that
 * tail-calls mw_exit_capture when its entry stashed arguments: a tail call
 * keeps the tracepoint context (ctx->ret) and the verifier checks the capture
 * path once, in mw_exit_capture, instead of once in every exit program (eight
 * times ~220k processed instructions, 2.5 s of start-up on kernel 6.18).
 * Tail calls only join programs of one type: these are all tracepoints.
 * The slot is filled by libbpf at load, from the initializer below.
 */
int mw_exit_capture(struct trace_event_raw_sys_exit *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32)); /* no BTF key type: prog arrays refuse one */
	__array(values, int (void *));
} exit_progs SEC(".maps") = {
	.values = { [0] = (void *)&mw_exit_capture },
};

/* SEC("tp") without a tracepoint name: loaded, never attached. */
SEC("tp")
int mw_exit_capture(struct trace_event_raw_sys_exit *ctx)
{
	return mw_exit_data(ctx->ret);
}

/*
 * Body of the eight data exit programs: a syscall whose entry stashed
 * nothing (every syscall on a filtered fd) ends at the one `args` look-up.
 * The stash must be this syscall's: one left by an exit that never ran (a
 * syscall entered between the attach of its entry and of its exit program)
 * is dropped rather than applied to another syscall's result.
 */
static __always_inline int mw_exit_jump(void *ctx, __u32 sys)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct mw_args *a;

	/* A thread that never stashed has no local storage at all (unless
	 * another BPF tool gave it some): one load instead of a helper call. */
	if (!task->bpf_storage)
		return 0;
	a = bpf_task_storage_get(&args, task, NULL, 0);
	if (!a || a->kind == MW_ARGS_NONE)
		return 0;
	if (a->sys != sys) {
		a->kind = MW_ARGS_NONE;
		return 0;
	}
	bpf_tail_call(ctx, &exit_progs, 0);
	/* Reached only when the jump failed (empty slot): the bytes are lost. */
	a->kind = MW_ARGS_NONE;
	mw_drop(MW_DROP_TAIL_CALL, 1);
	return 0;
}

/* ssize_t read(int fd, void *buf, size_t count); */
SEC("tp/syscalls/sys_enter_read")
int mw_enter_read(struct trace_event_raw_sys_enter *ctx)
{
	return mw_enter_buf(MW_SYS_READ, ctx->args[0], ctx->args[1], MW_DIR_RECV);
}

SEC("tp/syscalls/sys_exit_read")
int mw_exit_read(struct trace_event_raw_sys_exit *ctx)
{
	return mw_exit_jump(ctx, MW_SYS_READ);
}

/* ssize_t write(int fd, const void *buf, size_t count); */
SEC("tp/syscalls/sys_enter_write")
int mw_enter_write(struct trace_event_raw_sys_enter *ctx)
{
	return mw_enter_buf(MW_SYS_WRITE, ctx->args[0], ctx->args[1], MW_DIR_SEND);
}

SEC("tp/syscalls/sys_exit_write")
int mw_exit_write(struct trace_event_raw_sys_exit *ctx)
{
	return mw_exit_jump(ctx, MW_SYS_WRITE);
}

/* ssize_t readv(int fd, const struct iovec *iov, int iovcnt); */
SEC("tp/syscalls/sys_enter_readv")
int mw_enter_readv(struct trace_event_raw_sys_enter *ctx)
{
	return mw_enter_iov(MW_SYS_READV, ctx->args[0], ctx->args[1], ctx->args[2], MW_DIR_RECV);
}

SEC("tp/syscalls/sys_exit_readv")
int mw_exit_readv(struct trace_event_raw_sys_exit *ctx)
{
	return mw_exit_jump(ctx, MW_SYS_READV);
}

/* ssize_t writev(int fd, const struct iovec *iov, int iovcnt); */
SEC("tp/syscalls/sys_enter_writev")
int mw_enter_writev(struct trace_event_raw_sys_enter *ctx)
{
	return mw_enter_iov(MW_SYS_WRITEV, ctx->args[0], ctx->args[1], ctx->args[2], MW_DIR_SEND);
}

SEC("tp/syscalls/sys_exit_writev")
int mw_exit_writev(struct trace_event_raw_sys_exit *ctx)
{
	return mw_exit_jump(ctx, MW_SYS_WRITEV);
}

/* ssize_t recvfrom(int sockfd, void *buf, size_t len, int flags,
 *                  struct sockaddr *src_addr, socklen_t *addrlen); */
SEC("tp/syscalls/sys_enter_recvfrom")
int mw_enter_recvfrom(struct trace_event_raw_sys_enter *ctx)
{
	/* MSG_PEEK leaves the bytes for the next read: copying them now would
	 * count them twice. */
	if (ctx->args[3] & MW_MSG_PEEK)
		return 0;
	return mw_enter_buf(MW_SYS_RECVFROM, ctx->args[0], ctx->args[1], MW_DIR_RECV);
}

SEC("tp/syscalls/sys_exit_recvfrom")
int mw_exit_recvfrom(struct trace_event_raw_sys_exit *ctx)
{
	return mw_exit_jump(ctx, MW_SYS_RECVFROM);
}

/* ssize_t sendto(int sockfd, const void *buf, size_t len, int flags,
 *                const struct sockaddr *dest_addr, socklen_t addrlen); */
SEC("tp/syscalls/sys_enter_sendto")
int mw_enter_sendto(struct trace_event_raw_sys_enter *ctx)
{
	return mw_enter_buf(MW_SYS_SENDTO, ctx->args[0], ctx->args[1], MW_DIR_SEND);
}

SEC("tp/syscalls/sys_exit_sendto")
int mw_exit_sendto(struct trace_event_raw_sys_exit *ctx)
{
	return mw_exit_jump(ctx, MW_SYS_SENDTO);
}

/* ssize_t recvmsg(int sockfd, struct msghdr *msg, int flags); */
SEC("tp/syscalls/sys_enter_recvmsg")
int mw_enter_recvmsg(struct trace_event_raw_sys_enter *ctx)
{
	if (ctx->args[2] & MW_MSG_PEEK)
		return 0;
	return mw_enter_msg(MW_SYS_RECVMSG, ctx->args[0], ctx->args[1], MW_DIR_RECV);
}

SEC("tp/syscalls/sys_exit_recvmsg")
int mw_exit_recvmsg(struct trace_event_raw_sys_exit *ctx)
{
	return mw_exit_jump(ctx, MW_SYS_RECVMSG);
}

/* ssize_t sendmsg(int sockfd, const struct msghdr *msg, int flags); */
SEC("tp/syscalls/sys_enter_sendmsg")
int mw_enter_sendmsg(struct trace_event_raw_sys_enter *ctx)
{
	return mw_enter_msg(MW_SYS_SENDMSG, ctx->args[0], ctx->args[1], MW_DIR_SEND);
}

SEC("tp/syscalls/sys_exit_sendmsg")
int mw_exit_sendmsg(struct trace_event_raw_sys_exit *ctx)
{
	return mw_exit_jump(ctx, MW_SYS_SENDMSG);
}

/*
 * accept/accept4 need no entry probe: the new fd is the return value and the
 * peer address is read from the socket itself, not from the user's sockaddr.
 */
static __always_inline int mw_accepted(long ret)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (ret < 0 || tgid == self_tgid)
		return 0;
	mw_conn_start(mw_key(tgid, ret), ret, MW_ROLE_SERVER);
	return 0;
}

/* int accept(int sockfd, struct sockaddr *addr, socklen_t *addrlen); */
SEC("tp/syscalls/sys_exit_accept")
int mw_exit_accept(struct trace_event_raw_sys_exit *ctx)
{
	return mw_accepted(ctx->ret);
}

/* int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags); */
SEC("tp/syscalls/sys_exit_accept4")
int mw_exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
	return mw_accepted(ctx->ret);
}

/* int connect(int sockfd, const struct sockaddr *addr, socklen_t addrlen); */
SEC("tp/syscalls/sys_enter_connect")
int mw_enter_connect(struct trace_event_raw_sys_enter *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if ((pid_tgid >> 32) == self_tgid || (__s32)ctx->args[0] < 0)
		return 0;
	mw_stash(MW_SYS_CONNECT, ctx->args[0], 0, 0, MW_ARGS_CONNECT, 0);
	return 0;
}

SEC("tp/syscalls/sys_exit_connect")
int mw_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct mw_args *ap = mw_args_slot(false);
	__u32 fd;

	if (!ap || ap->kind == MW_ARGS_NONE)
		return 0; /* missed entry */
	fd = ap->fd;
	ap->kind = MW_ARGS_NONE;
	if (ap->sys != MW_SYS_CONNECT)
		return 0;
	/* A non-blocking connect is still ours: the role is known now and the
	 * 4-tuple is set before the SYN goes out. */
	if (ctx->ret != 0 && ctx->ret != -MW_EINPROGRESS)
		return 0;
	mw_conn_start(mw_key(pid_tgid >> 32, fd), fd, MW_ROLE_CLIENT);
	return 0;
}

/* int close(int fd); */
SEC("tp/syscalls/sys_enter_close")
int mw_enter_close(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (tgid == self_tgid || (__s32)ctx->args[0] < 0)
		return 0;
	mw_fd_forget(mw_key(tgid, ctx->args[0]));
	return 0;
}

/*
 * dup2/dup3 close newfd silently; without these a reused fd would keep the
 * old verdict. x86 has dup2, arm64 only dup3: userspace skips programs whose
 * tracepoint does not exist.
 */

/* int dup2(int oldfd, int newfd); */
SEC("tp/syscalls/sys_enter_dup2")
int mw_enter_dup2(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (tgid == self_tgid || (__s32)ctx->args[1] < 0 || ctx->args[0] == ctx->args[1])
		return 0;
	mw_fd_forget(mw_key(tgid, ctx->args[1]));
	return 0;
}

/* int dup3(int oldfd, int newfd, int flags); */
SEC("tp/syscalls/sys_enter_dup3")
int mw_enter_dup3(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (tgid == self_tgid || (__s32)ctx->args[1] < 0 || ctx->args[0] == ctx->args[1])
		return 0;
	mw_fd_forget(mw_key(tgid, ctx->args[1]));
	return 0;
}
