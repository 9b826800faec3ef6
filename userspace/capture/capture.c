// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live capture: bpf/mcpwire.bpf.c through its bpftool skeleton, in the
 * libbpf-tools order open → configure rodata → load → attach, and the ring
 * buffer consumer that feeds stream/.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "capture/capture.h"
#include "scope/keys.h"
#include "scope/set.h"
#include "stream/stream.h"
#include "mcpwire.bpf.h"
#include "mcpwire.skel.h"

#define CAPTURE_DEF_CAP (1u << 20)
#define CAPTURE_DEF_TAIL (64u << 10)
#define CAPTURE_DEF_RINGBUF (16u << 20)
#define CAPTURE_SWEEP_NS (5ull * 1000000000ull)
/* The BPF side wakes the poll only once 256 KiB are waiting (mw_rb_flags()
 * in mcpwire.bpf.c: a wake-up per event cost more than the capture itself),
 * so a poll never sleeps longer than this and then consumes what it finds:
 * a trickle of events is seen within this much time. */
#define CAPTURE_POLL_MS 20

struct capture {
	struct mcpwire_bpf *skel;
	struct ring_buffer *rb;
	struct stream_table *st;
	int verbose;
	uint64_t malformed;	/* ring-buffer records too short or inconsistent */
	uint64_t last_sweep_ns;
	uint64_t *percpu;	/* scratch for capture_drops(): one u64 per possible CPU */
	int ncpus;
	uint64_t sock_key[2];	/* capture_sock_id()'s key, random per run */

	/* --network/--bridge (capture_set_scope()); NULL when not scoped */
	struct scope_set *scope;     /* namespaces in scope */
	struct scope_keys *ignored;  /* connections turned away, until their close */
	uint64_t scope_filtered;

	/* Entries of the `conns` and `fdinfo` maps, set before load from
	 * cfg->max_conns (bpf_map__set_max_entries()). */
	uint32_t conns_max, fdinfo_max;
	/* Scratch for the map walks (sweep, scope grow/shrink): room for every
	 * key of the larger map, so one walk sees the whole map. */
	__u64 *keys_buf;
};

static const char *const capture_drop_names[MW_DROP__MAX] = {
	[MW_DROP_RINGBUF_FULL] = "ringbuf_full",
	[MW_DROP_READ_FAULT] = "read_fault",
	[MW_DROP_CAP_EXCEEDED] = "cap_exceeded",
	[MW_DROP_CONN_TABLE_FULL] = "conn_table_full",
	[MW_DROP_IOV_LIMIT] = "iov_limit",
	[MW_DROP_ARGS_TABLE_FULL] = "args_table_full",
	[MW_DROP_TAIL_CALL] = "tail_call",
};

uint64_t capture_malformed(const struct capture *c)
{
	return c ? c->malformed : 0;
}

const char *capture_drop_reason_name(int reason)
{
	if (reason < 0 || reason >= MW_DROP__MAX || !capture_drop_names[reason])
		return "unknown";
	return capture_drop_names[reason];
}

/* libbpf's print callback has no user pointer: the verbosity and the name of
 * the program the verifier rejected live here for the duration of a load. */
static int capture_libbpf_verbose;
static char capture_failed_prog[64];

static int capture_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];
	const char *p;
	va_list ap2;

	/* The verifier's log comes as one "%s" of up to megabytes: print it
	 * whole, the 512 bytes kept here are only for the name below. */
	va_copy(ap2, ap);
	vsnprintf(line, sizeof(line), fmt, ap);
	/* libbpf: "prog 'NAME': failed to load: -13" */
	p = strstr(line, "prog '");
	if (p && strstr(line, "failed to load")) {
		const char *q = strchr(p + 6, '\'');

		if (q && (size_t)(q - p - 6) < sizeof(capture_failed_prog))
			snprintf(capture_failed_prog, sizeof(capture_failed_prog), "%.*s",
				 (int)(q - p - 6), p + 6);
	}
	/* Without -v the caller's one-line error says it all. */
	if (capture_libbpf_verbose)
		vfprintf(stderr, fmt, ap2);
	va_end(ap2);
	return 0;
}

static uint64_t capture_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static uint32_t capture_pow2_roundup(uint32_t v)
{
	uint32_t r = 4096;

	while (r < v && r < (1u << 31))
		r <<= 1;
	return r;
}

/* "tp/syscalls/sys_enter_dup2" → does the tracepoint exist on this kernel?
 * dup2 is missing on arm64, accept on some architectures. */
static int capture_tp_exists(const char *sec)
{
	static const char *const roots[] = { "/sys/kernel/tracing/events",
					     "/sys/kernel/debug/tracing/events" };
	char path[256];
	struct stat st;
	size_t i;

	if (strncmp(sec, "tp/", 3))
		return 1;
	for (i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", roots[i], sec + 3);
		if (stat(path, &st) == 0)
			return 1;
	}
	return 0;
}

static void capture_key(const struct mw_event_hdr *h, struct stream_key *k)
{
	k->tgid = h->tgid;
	k->fd = h->fd;
	k->gen = h->gen;
}

/* murmur3's 64-bit finalizer: a bijection, so distinct inputs stay distinct. */
static uint64_t capture_fmix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/*
 * A unix socket's identity for stream/'s flow table, from the address of its
 * struct sock (bpf/mcpwire.h, MW_FAM_UNIX): what pairs the two ends of a
 * connection must not collide while both live, and no kernel address may
 * travel further than this function (nothing downstream needs one, and
 * logs, the API or a debugger would show it). A keyed bijection does both:
 * distinct socks never share an id, and without the per-run random key the
 * id says nothing about the address. It is not a MAC; the key never leaves
 * this process. 0 (no peer) stays 0.
 */
static uint64_t capture_sock_id(const struct capture *c, uint64_t sk)
{
	if (!sk)
		return 0;
	return capture_fmix64(capture_fmix64(sk ^ c->sock_key[0]) ^ c->sock_key[1]);
}

static void capture_unix_ids(const struct capture *c, struct stream_conn_info *info)
{
	uint64_t sk;

	for (int i = 0; i < 2; i++) {
		uint8_t *a = i ? info->raddr : info->laddr;

		memcpy(&sk, a, sizeof(sk));
		sk = capture_sock_id(c, sk);
		memcpy(a, &sk, sizeof(sk));
	}
}

/* Ring-buffer callback. Sizes come from the kernel but are still checked:
 * a record that does not match its type is counted and skipped. */
static int capture_handle(void *ctx, void *data, size_t size)
{
	struct capture *c = ctx;
	const struct mw_event_hdr *h = data;
	struct stream_key key;

	if (size < sizeof(*h))
		goto malformed;
	capture_key(h, &key);
	/* out of scope: dropped here, and remembered until the close */
	if (c->scope && h->type != MW_EV_OPEN &&
	    scope_keys_has(c->ignored, (uint64_t)h->tgid << 32 | h->fd, h->gen)) {
		if (h->type == MW_EV_CLOSE)
			scope_keys_del(c->ignored, (uint64_t)h->tgid << 32 | h->fd);
		return 0;
	}
	switch (h->type) {
	case MW_EV_DATA: {
		const struct mw_data_event *e = data;
		size_t hdr = offsetof(struct mw_data_event, data);

		if (size < hdr || e->len > MW_CHUNK_MAX || size < hdr + e->len ||
		    e->dir > MW_DIR_SEND)
			goto malformed;
		stream_data(c->st, &key, e->dir == MW_DIR_SEND ? STREAM_SEND : STREAM_RECV,
			    e->offset, e->data, e->len, !!(e->flags & MW_DATA_AFTER_CAP),
			    h->ts_ns);
		return 0;
	}
	case MW_EV_OPEN: {
		const struct mw_open_event *e = data;
		struct stream_conn_info info = {};

		if (size < sizeof(*e))
			goto malformed;
		if (c->scope && !scope_set_has(c->scope, e->netns)) {
			scope_keys_put(c->ignored, (uint64_t)h->tgid << 32 | h->fd, h->gen);
			c->scope_filtered++;
			return 0;
		}
		if (c->scope) /* an older generation turned away, never closed */
			scope_keys_del(c->ignored, (uint64_t)h->tgid << 32 | h->fd);
		info.role = e->role;
		info.family = e->family;
		info.netns = e->netns;
		info.lport = e->lport;
		info.rport = e->rport;
		memcpy(info.laddr, e->laddr, sizeof(info.laddr));
		memcpy(info.raddr, e->raddr, sizeof(info.raddr));
		if (e->family == MW_FAM_UNIX) {
			capture_unix_ids(c, &info);
			info.path_len = e->path_len < sizeof(info.path) ? e->path_len :
									  sizeof(info.path);
			memcpy(info.path, e->path, info.path_len);
		}
		info.tgid = h->tgid;
		memcpy(info.comm, e->comm, sizeof(info.comm));
		info.comm[sizeof(info.comm) - 1] = '\0';
		stream_open(c->st, &key, &info, h->ts_ns);
		return 0;
	}
	case MW_EV_CLOSE:
		if (size < sizeof(struct mw_close_event))
			goto malformed;
		stream_close(c->st, &key, h->ts_ns);
		return 0;
	default:
		goto malformed;
	}
malformed:
	c->malformed++;
	if (c->verbose)
		fprintf(stderr, "capture: malformed ring buffer record (%zu bytes)\n", size);
	return 0;
}

/*
 * Processes that exit never call close() on their sockets, so their `conns`
 * entries would leak: drop the entries of dead tgids and close their streams.
 * Keys are collected first because deleting while walking restarts the walk.
 */
static void capture_sweep(struct capture *c)
{
	int conns_fd = bpf_map__fd(c->skel->maps.conns);
	int fdinfo_fd = bpf_map__fd(c->skel->maps.fdinfo);
	__u64 *dead = c->keys_buf;
	__u64 key, next, *prev = NULL;
	struct mw_conn v;
	size_t n = 0, i;

	while (n < c->conns_max && bpf_map_get_next_key(conns_fd, prev, &next) == 0) {
		pid_t tgid = next >> 32;

		if (kill(tgid, 0) && errno == ESRCH)
			dead[n++] = next;
		key = next;
		prev = &key;
	}
	for (i = 0; i < n; i++) {
		if (bpf_map_lookup_elem(conns_fd, &dead[i], &v) == 0 && v.open_emitted) {
			struct stream_key k = { .tgid = dead[i] >> 32, .fd = (uint32_t)dead[i],
						.gen = v.gen };

			stream_close(c->st, &k, capture_now_ns());
		}
		bpf_map_delete_elem(conns_fd, &dead[i]);
		bpf_map_delete_elem(fdinfo_fd, &dead[i]);
		if (c->scope)
			scope_keys_del(c->ignored, dead[i]);
	}
}

int capture_open(const struct capture_config *cfg, struct stream_table *st, struct capture **out,
		 char *err, size_t errlen)
{
	uint32_t cap = cfg->cap_bytes ? cfg->cap_bytes : CAPTURE_DEF_CAP;
	uint32_t tail = cfg->tail_bytes ? cfg->tail_bytes : CAPTURE_DEF_TAIL;
	uint32_t rbsz = capture_pow2_roundup(cfg->ringbuf_bytes ? cfg->ringbuf_bytes :
								  CAPTURE_DEF_RINGBUF);
	struct bpf_program *prog;
	struct capture *c;
	int err_ = 0;

	*out = NULL;
	if (errlen)
		err[0] = '\0';
	if (tail >= cap) {
		snprintf(err, errlen, "capture tail (%u bytes) must be below the cap (%u bytes)",
			 tail, cap);
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "capture: out of memory");
		return -ENOMEM;
	}
	c->st = st;
	c->verbose = cfg->verbose;
	if (getrandom(c->sock_key, sizeof(c->sock_key), 0) != sizeof(c->sock_key)) {
		err_ = -errno;
		snprintf(err, errlen, "capture: no random key: %s", strerror(errno));
		goto cleanup;
	}
	c->ncpus = libbpf_num_possible_cpus();
	if (c->ncpus <= 0) {
		err_ = c->ncpus ? c->ncpus : -EINVAL;
		snprintf(err, errlen, "cannot count possible CPUs: %s", strerror(-err_));
		goto cleanup;
	}
	c->percpu = calloc(c->ncpus, sizeof(*c->percpu));
	if (!c->percpu) {
		err_ = -ENOMEM;
		snprintf(err, errlen, "capture: out of memory");
		goto cleanup;
	}

	capture_libbpf_verbose = cfg->verbose;
	capture_failed_prog[0] = '\0';
	libbpf_set_print(capture_libbpf_print);

	/* open */
	c->skel = mcpwire_bpf__open();
	if (!c->skel) {
		err_ = -errno;
		snprintf(err, errlen, "cannot open BPF object: %s", strerror(errno));
		goto cleanup;
	}

	/* configure */
	c->skel->rodata->self_tgid = cfg->self_tgid;
	c->skel->rodata->cap_bytes = cap;
	c->skel->rodata->tail_bytes = tail;
	c->skel->rodata->scope_enabled = !!cfg->scoped;
	if (cfg->scoped) {
		c->scope = calloc(1, sizeof(*c->scope));
		c->ignored = calloc(1, sizeof(*c->ignored));
		if (!c->scope || !c->ignored) {
			err_ = -ENOMEM;
			snprintf(err, errlen, "capture: out of memory");
			goto cleanup;
		}
	}
	/* One `conns` entry per tracked socket; `fdinfo` also holds the
	 * verdicts of fds that are not connections, so it never gets fewer
	 * than MW_FDINFO_MAX. Both are preallocated by the kernel. */
	c->conns_max = cfg->max_conns ? cfg->max_conns : MW_CONNS_MAX;
	c->fdinfo_max = c->conns_max > MW_FDINFO_MAX ? c->conns_max : MW_FDINFO_MAX;
	c->keys_buf = calloc(c->fdinfo_max, sizeof(*c->keys_buf));
	if (!c->keys_buf) {
		err_ = -ENOMEM;
		snprintf(err, errlen, "capture: out of memory");
		goto cleanup;
	}
	err_ = bpf_map__set_max_entries(c->skel->maps.conns, c->conns_max);
	if (!err_)
		err_ = bpf_map__set_max_entries(c->skel->maps.fdinfo, c->fdinfo_max);
	if (err_) {
		snprintf(err, errlen, "cannot size the connection maps to %u entries: %s",
			 c->conns_max, strerror(-err_));
		goto cleanup;
	}
	err_ = bpf_map__set_max_entries(c->skel->maps.events, rbsz);
	if (err_) {
		snprintf(err, errlen, "cannot size the ring buffer to %u bytes: %s", rbsz,
			 strerror(-err_));
		goto cleanup;
	}
	bpf_object__for_each_program(prog, c->skel->obj) {
		if (!capture_tp_exists(bpf_program__section_name(prog))) {
			if (cfg->verbose)
				fprintf(stderr, "capture: no tracepoint %s, %s not loaded\n",
					bpf_program__section_name(prog), bpf_program__name(prog));
			bpf_program__set_autoload(prog, false);
		}
	}

	/* load */
	err_ = mcpwire_bpf__load(c->skel);
	if (err_) {
		if (capture_failed_prog[0])
			snprintf(err, errlen,
				 "verifier rejected BPF program %s: %s%s", capture_failed_prog,
				 strerror(-err_), cfg->verbose ? "" : " (run with -v for the log)");
		else
			snprintf(err, errlen, "cannot load BPF programs: %s", strerror(-err_));
		goto cleanup;
	}

	/* attach */
	err_ = mcpwire_bpf__attach(c->skel);
	if (err_) {
		snprintf(err, errlen, "cannot attach syscall tracepoints: %s", strerror(-err_));
		goto cleanup;
	}

	c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.events), capture_handle, c, NULL);
	if (!c->rb) {
		err_ = -errno;
		snprintf(err, errlen, "cannot open the ring buffer: %s", strerror(errno));
		goto cleanup;
	}
	c->last_sweep_ns = capture_now_ns();
	*out = c;
	return 0;

cleanup:
	capture_close(c);
	return err_ ? err_ : -EINVAL;
}

/*
 * Under load, waking up per event costs more than handling it: the kernel
 * wakes the consumer whenever a record is submitted while the consumer has
 * read everything before it (bpf_ringbuf_commit(), kernel/bpf/ringbuf.c), so
 * a consumer that keeps up is woken, and switched to and from, once per few
 * events, and the irq_work and wake-up are charged to the traced process.
 * The BPF side therefore asks for a wake-up only past 256 KiB pending
 * (mw_rb_flags()), and this poll sleeps at most CAPTURE_POLL_MS, then drains
 * what it finds as one batch. Cost: up to CAPTURE_POLL_MS more latency per
 * event (the dedup window is 1 s).
 */
int capture_poll(struct capture *c, int timeout_ms)
{
	uint64_t now;
	int n;

	if (timeout_ms < 0 || timeout_ms > CAPTURE_POLL_MS)
		timeout_ms = CAPTURE_POLL_MS;
	n = ring_buffer__poll(c->rb, timeout_ms);
	if (n >= 0) {
		/* a poll that timed out consumed nothing */
		int more = ring_buffer__consume(c->rb);

		n = more < 0 ? more : n + more;
	}
	now = capture_now_ns();
	if (now - c->last_sweep_ns >= CAPTURE_SWEEP_NS) {
		c->last_sweep_ns = now;
		capture_sweep(c);
	}
	return n;
}

void capture_drops(struct capture *c, uint64_t out[MW_DROP__MAX])
{
	int fd = bpf_map__fd(c->skel->maps.drops);
	__u32 r;
	int i;

	for (r = 0; r < MW_DROP__MAX; r++) {
		out[r] = 0;
		if (bpf_map_lookup_elem(fd, &r, c->percpu))
			continue;
		for (i = 0; i < c->ncpus; i++)
			out[r] += c->percpu[i];
	}
}

/* Scope grew: fds the kernel side turned away are forgotten, so each is
 * judged again against the new scope on its next syscall. Keys are collected
 * first: deleting while walking restarts the walk. */
static void capture_scope_grow(struct capture *c)
{
	int fdinfo_fd = bpf_map__fd(c->skel->maps.fdinfo);
	__u64 key, next, *prev = NULL;
	struct mw_fdinfo fi;
	size_t n = 0, i;

	while (n < c->fdinfo_max && bpf_map_get_next_key(fdinfo_fd, prev, &next) == 0) {
		if (bpf_map_lookup_elem(fdinfo_fd, &next, &fi) == 0 &&
		    fi.state == MW_FD_OUT_OF_SCOPE)
			c->keys_buf[n++] = next;
		key = next;
		prev = &key;
	}
	for (i = 0; i < n; i++)
		bpf_map_delete_elem(fdinfo_fd, &c->keys_buf[i]);
}

/* Scope shrank: connections of namespaces that left are closed in stream/
 * (sessions and in-flight requests end as on a close) and ignored until their
 * real close; the kernel side stops copying them (the `conns` entry stays, so
 * the close still comes). */
static void capture_scope_shrink(struct capture *c)
{
	int conns_fd = bpf_map__fd(c->skel->maps.conns);
	int fdinfo_fd = bpf_map__fd(c->skel->maps.fdinfo);
	__u64 key, next, *prev = NULL;
	struct mw_conn v;
	size_t n = 0, i;

	while (n < c->conns_max && bpf_map_get_next_key(conns_fd, prev, &next) == 0) {
		if (bpf_map_lookup_elem(conns_fd, &next, &v) == 0 &&
		    !scope_set_has(c->scope, v.netns))
			c->keys_buf[n++] = next;
		key = next;
		prev = &key;
	}
	for (i = 0; i < n; i++) {
		struct mw_fdinfo fi = { .state = MW_FD_OUT_OF_SCOPE };
		struct stream_key k = { .tgid = c->keys_buf[i] >> 32,
					.fd = (uint32_t)c->keys_buf[i] };

		if (bpf_map_lookup_elem(conns_fd, &c->keys_buf[i], &v))
			continue; /* closed meanwhile */
		fi.family = v.family;
		bpf_map_update_elem(fdinfo_fd, &c->keys_buf[i], &fi, BPF_ANY);
		if (!v.open_emitted)
			continue; /* its open event will meet the userspace filter */
		k.gen = v.gen;
		if (scope_keys_has(c->ignored, c->keys_buf[i], v.gen))
			continue;
		stream_close(c->st, &k, capture_now_ns());
		scope_keys_put(c->ignored, c->keys_buf[i], v.gen);
		c->scope_filtered++;
	}
}

struct capture_scope_diff {
	int map_fd;
	int joined, left, err;
};

static void capture_scope_apply(uint32_t ino, int joined, void *arg)
{
	struct capture_scope_diff *d = arg;
	__u8 one = 1;
	int rc;

	if (joined) {
		d->joined++;
		rc = bpf_map_update_elem(d->map_fd, &ino, &one, BPF_ANY);
	} else {
		d->left++;
		rc = bpf_map_delete_elem(d->map_fd, &ino);
		if (rc && errno == ENOENT)
			rc = 0;
	}
	if (rc && !d->err)
		d->err = -errno;
}

int capture_set_scope(struct capture *c, const struct scope_set *ns)
{
	struct capture_scope_diff d = { .map_fd = bpf_map__fd(c->skel->maps.scope_netns) };

	if (!c->scope)
		return -EINVAL;
	scope_set_diff(c->scope, ns, capture_scope_apply, &d);
	*c->scope = *ns;
	if (d.left)
		capture_scope_shrink(c);
	if (d.joined)
		capture_scope_grow(c);
	return d.err;
}

uint64_t capture_scope_filtered(const struct capture *c)
{
	return c->scope_filtered;
}

void capture_hooks(struct capture *c, char *buf, size_t len)
{
	struct bpf_program *prog;
	size_t off;
	int n = 0, skipped = 0;

	bpf_object__for_each_program(prog, c->skel->obj)
		n += bpf_program__autoload(prog);
	off = (size_t)snprintf(buf, len, "%d syscall tracepoints", n);
	/* capture_open() leaves out exactly the tracepoints tracefs lacks */
	bpf_object__for_each_program(prog, c->skel->obj) {
		const char *sec = bpf_program__section_name(prog);

		if (bpf_program__autoload(prog) || off >= len)
			continue;
		if (!strncmp(sec, "tp/syscalls/", 12))
			sec += 12;
		off += (size_t)snprintf(buf + off, len - off, "%s%s", skipped++ ? ", " : "; skipped ",
					sec);
	}
	if (skipped && off < len)
		snprintf(buf + off, len - off, " (no such tracepoint on this kernel)");
}

void capture_close(struct capture *c)
{
	if (!c)
		return;
	ring_buffer__free(c->rb);
	mcpwire_bpf__destroy(c->skel);
	free(c->percpu);
	free(c->scope);
	free(c->ignored);
	free(c->keys_buf);
	free(c);
}
