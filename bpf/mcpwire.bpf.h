/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Private to the capture module: constants vmlinux.h cannot carry (it has
 * types, not macros) and the layout of the maps mcpwire.bpf.c keeps. Only
 * userspace/capture/ includes it besides the BPF program, to sweep `conns`
 * entries of processes that exited without close(). Fixed-width types only.
 */
#ifndef MCPWIRE_BPF_H
#define MCPWIRE_BPF_H

#define MW_AF_UNIX 1
#define MW_AF_INET 2
#define MW_AF_INET6 10
#define MW_SOCK_STREAM 1
#define MW_IPPROTO_TCP 6
#define MW_EINPROGRESS 115
#define MW_MSG_PEEK 0x2

#define MW_S_IFMT 00170000
#define MW_S_IFSOCK 0140000
#define MW_S_IFIFO 0010000

/* Map sizes. fdinfo is LRU: an evicted fd is simply classified again.
 * conns and fdinfo are defaults: userspace sets both from --max-conns before
 * load (capture_open()), fdinfo never below MW_FDINFO_MAX. */
#define MW_FDINFO_MAX 65536
#define MW_CONNS_MAX 65536
/* Network namespaces in scope (--network/--bridge); scope/set.h SCOPE_SET_MAX. */
#define MW_SCOPE_NETNS_MAX 4096

/* State of one fd in `fdinfo`. Everything but CANDIDATE and MCP returns after
 * the one lookup. */
enum mw_fd_state {
	MW_FD_SKIP = 1,	     /* not a kind we trace (file, UDP, unix datagram, pipe beyond fd 1) */
	MW_FD_CANDIDATE = 2, /* TCP or unix stream socket, or stdio fd, no data seen yet */
	MW_FD_MCP = 3,	     /* first bytes looked like HTTP/1.x or JSON (stdio: JSON-RPC;
			      * unix beyond fd 1: HTTP only) */
	MW_FD_NOT_MCP = 4,   /* first bytes ruled MCP out */
	/* --network/--bridge: its namespace was not in `scope_netns` when the fd
	 * was first seen. Userspace deletes these entries when the scope grows,
	 * so the fd is judged again on its next syscall. */
	MW_FD_OUT_OF_SCOPE = 5,
};

struct mw_fdinfo {
	__u32 state;  /* enum mw_fd_state */
	__u32 family; /* enum mw_family, MW_FAM_UNKNOWN for files */
};

/* One traced socket in `conns`, keyed tgid<<32|fd. */
struct mw_conn {
	__u64 gen;
	/* Identity of the fd's socket, to detect an fd reused behind our back:
	 * struct file is recycled at once (SLAB_TYPESAFE_BY_RCU), a socket inode
	 * lives in its own cache and gets a new i_ino every time. */
	__u64 inode;	    /* struct inode * */
	__u64 ino;	    /* its i_ino */
	__u64 off[2];	    /* next stream offset per enum mw_dir */
	__u32 role;	    /* enum mw_role */
	__u32 family;	    /* enum mw_family */
	__u32 state;	    /* MW_FD_CANDIDATE or MW_FD_MCP */
	__u32 open_emitted; /* an MW_EV_OPEN went out: close() must emit MW_EV_CLOSE */
	__u32 netns;
	__u16 lport, rport; /* host byte order */
	__u8 laddr[16], raddr[16];
};

/* Syscall arguments stashed at entry for the exit, one slot per thread. */
enum mw_args_kind {
	MW_ARGS_NONE = 0,    /* slot empty: nothing stashed, or the exit took it */
	MW_ARGS_BUF = 1,     /* read/write/recvfrom/sendto: buf */
	MW_ARGS_IOV = 2,     /* readv/writev, recvmsg/sendmsg via msg_iov */
	MW_ARGS_CONNECT = 3, /* connect: only the fd */
};

/* The syscall that stashed, so an exit only takes its own entry's args. */
enum mw_sys {
	MW_SYS_READ = 1,
	MW_SYS_WRITE,
	MW_SYS_READV,
	MW_SYS_WRITEV,
	MW_SYS_RECVFROM,
	MW_SYS_SENDTO,
	MW_SYS_RECVMSG,
	MW_SYS_SENDMSG,
	MW_SYS_CONNECT,
};

struct mw_args {
	__u64 ptr;    /* buffer or struct iovec array, user address */
	__u32 fd;
	__u32 iovcnt; /* MW_ARGS_IOV only */
	__u32 kind;   /* enum mw_args_kind */
	__u32 dir;    /* enum mw_dir */
	__u32 sys;    /* enum mw_sys */
	__u32 pad;
};

/*
 * First-bytes check for the stdio transport (pipes and unix socketpairs on a
 * process's fd 0/1), stricter than classify.h's because pipes are everywhere
 * and most carry text: a JSON-RPC message is an object (or, 2025-03-26 only,
 * a batch of objects) whose first key is one the SDKs write first:
 * ts-v1 "method"/"result"/"error" (then "jsonrpc" and "id" last), python
 * "jsonrpc", others "id" or "params" (mcp-wire.md §1). So
 *   ws* [ '[' ws* ] '{' ws* '"' key '"'
 * with key one of those six. That rules out the JSON a shell pipeline carries
 * from curl or jq ({"status":…, {"name":…) at the cost of 16 bytes.
 *
 * Plain C, shared with the unit test (selftests/unit/test_stdio.c), as one
 * step per byte: the BPF side runs mw_classify_stdio_step() as a bpf_loop
 * callback on state kept in a map value, so the verifier checks one step
 * once with the state unknown. Unrolled over 16 bytes with the state in
 * registers, the verifier followed every (position, state, key length)
 * combination separately: ~160k of the ~220k instructions it processed for
 * the capture path. Userspace loops with mw_classify_stdio().
 */
#define MW_STDIO_CLASSIFY_LEN 16

enum mw_stdio_state {
	MW_STDIO_START = 0, /* before '{' or '[' */
	MW_STDIO_BATCH = 1, /* after '[', before '{' */
	MW_STDIO_OBJ = 2,   /* after '{', before the first key's '"' */
	MW_STDIO_KEY = 3,   /* inside the first key */
};

/* Returned by mw_classify_stdio_step() while it needs more bytes. */
#define MW_STDIO_MORE (-1)

struct mw_stdio_scan {
	unsigned long long key; /* key bytes so far, packed big-endian */
	unsigned int st;	/* enum mw_stdio_state */
	unsigned int klen;	/* bytes in key */
};

/* Feeds one byte to s (zeroed before the first). Returns MW_STDIO_MORE, or
 * the verdict: 3 (MW_CLASS_JSON) or 0 (MW_CLASS_NOT_MCP). */
static inline int mw_classify_stdio_step(struct mw_stdio_scan *s, unsigned char c)
{
	/* keys packed big-endian into a u64, as the loop collects them */
	const unsigned long long k_jsonrpc = 0x6a736f6e727063ULL, k_method = 0x6d6574686f64ULL,
				 k_result = 0x726573756c74ULL, k_params = 0x706172616d73ULL,
				 k_error = 0x6572726f72ULL, k_id = 0x6964ULL;
	int ws = c == ' ' || c == '\t' || c == '\r' || c == '\n';
	unsigned long long key;

	switch (s->st) {
	case MW_STDIO_START:
		if (c == '{')
			s->st = MW_STDIO_OBJ;
		else if (c == '[')
			s->st = MW_STDIO_BATCH;
		else if (!ws)
			return 0; /* MW_CLASS_NOT_MCP */
		return MW_STDIO_MORE;
	case MW_STDIO_BATCH:
		if (c == '{')
			s->st = MW_STDIO_OBJ;
		else if (!ws)
			return 0;
		return MW_STDIO_MORE;
	case MW_STDIO_OBJ:
		if (c == '"')
			s->st = MW_STDIO_KEY;
		else if (!ws)
			return 0;
		return MW_STDIO_MORE;
	case MW_STDIO_KEY:
		key = s->key;
		if (c == '"')
			return key == k_jsonrpc || key == k_method || key == k_result ||
			       key == k_params || key == k_error || key == k_id ?
				       3 /* MW_CLASS_JSON */ : 0;
		if (++s->klen > 7)
			return 0;
		s->key = key << 8 | c;
		return MW_STDIO_MORE;
	default:
		return 0;
	}
}

/* The check on b[0, n): 3 (MW_CLASS_JSON), 4 (MW_CLASS_MAYBE) when the bytes
 * ran out while still matching, 0 (MW_CLASS_NOT_MCP). */
static inline int mw_classify_stdio(const unsigned char *b, unsigned int n)
{
	struct mw_stdio_scan s = { 0, MW_STDIO_START, 0 };
	unsigned int i;
	int r;

	if (n > MW_STDIO_CLASSIFY_LEN)
		n = MW_STDIO_CLASSIFY_LEN;
	for (i = 0; i < n; i++) {
		r = mw_classify_stdio_step(&s, b[i]);
		if (r != MW_STDIO_MORE)
			return r;
	}
	return n < MW_STDIO_CLASSIFY_LEN ? 4 /* MW_CLASS_MAYBE */ : 0;
}

#endif /* MCPWIRE_BPF_H */
