// SPDX-License-Identifier: GPL-2.0-only
/*
 * attrib/resolver — the tgid cache, its queue and the resolver thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attrib/kubelet.h"
#include "attrib/resolver.h"
#include "docker/engine.h"
#include "mcp/table.h"

#define NSEC 1000000000ULL
/* /proc/<pid>/cgroup: one line per hierarchy; a real one is well under 4 KiB */
#define CGROUP_READ_MAX (64 * 1024)

enum { ENT_QUEUED = 0, ENT_DONE = 1 };

struct ent {
	uint32_t tgid;	    /* key */
	uint8_t state;	    /* ENT_* */
	uint8_t requeued;   /* a revalidation is queued */
	uint64_t expires_ns; /* revalidate after this (DONE) */
	uint64_t starttime; /* /proc/<tgid>/stat field 22; 0 unknown */
	struct attrib_identity id;
};

/* Names per container (or per pod, for a process in no container of it). */
struct cent {
	char key[ATTRIB_ID_LEN + 1]; /* container id or pod uid; "" free */
	uint64_t expires_ns;
	uint64_t used_ns;
	char container[sizeof(((struct attrib_identity *)0)->container)];
	char pod[sizeof(((struct attrib_identity *)0)->pod)];
	char ns[sizeof(((struct attrib_identity *)0)->ns)];
};

struct attrib {
	struct attrib_config cfg;
	char proc_root[256];
	pthread_mutex_t lock;
	pthread_cond_t wake; /* work queued, resume, stop */
	pthread_cond_t idle; /* queue empty and thread waiting */
	pthread_t thread;
	int started, stop, busy, paused;
	/* guarded by lock */
	struct mcp_table t;
	struct ent *ents;
	uint32_t *queue;
	uint32_t qhead, qlen;
	struct attrib_stats st;
	/* resolver thread only */
	char buf[CGROUP_READ_MAX];
	struct cent *cents;
	struct kubelet_pods pods;
	uint64_t pods_fetched_ns; /* 0: never */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

static uint32_t tgid_hash(uint32_t tgid)
{
	return mw_hash(MW_HASH_INIT, &tgid, sizeof(tgid));
}

/* lock held */
static uint32_t ent_find(struct attrib *a, uint32_t tgid)
{
	uint32_t slot = mcp_table_first(&a->t, tgid_hash(tgid));

	for (; slot != MCP_TABLE_NONE; slot = mcp_table_next(&a->t, slot))
		if (a->ents[slot].tgid == tgid)
			return slot;
	return MCP_TABLE_NONE;
}

/* lock held */
static int enqueue(struct attrib *a, uint32_t tgid)
{
	if (a->qlen == a->cfg.queue_len) {
		a->st.queue_full++;
		return -1;
	}
	a->queue[(a->qhead + a->qlen++) % a->cfg.queue_len] = tgid;
	pthread_cond_signal(&a->wake);
	return 0;
}

int attrib_lookup(struct attrib *a, uint32_t tgid, struct attrib_identity *out)
{
	uint32_t slot;
	int known = 0;

	pthread_mutex_lock(&a->lock);
	a->st.lookups++;
	slot = ent_find(a, tgid);
	if (slot != MCP_TABLE_NONE) {
		struct ent *e = &a->ents[slot];

		mcp_table_touch(&a->t, slot);
		if (e->state == ENT_DONE) {
			*out = e->id;
			known = 1;
			if (!e->requeued && now_ns() >= e->expires_ns && !enqueue(a, tgid))
				e->requeued = 1;
		}
	} else if (a->qlen < a->cfg.queue_len) {
		if (a->t.count == a->t.cap) {
			mcp_table_remove(&a->t, mcp_table_oldest(&a->t));
			a->st.evicted++;
		}
		slot = mcp_table_insert(&a->t, tgid_hash(tgid));
		memset(&a->ents[slot], 0, sizeof(a->ents[slot]));
		a->ents[slot].tgid = tgid;
		a->ents[slot].state = ENT_QUEUED;
		enqueue(a, tgid);
	} else {
		a->st.queue_full++;
	}
	pthread_mutex_unlock(&a->lock);
	return known;
}

/* --- the resolver thread: no lock held while reading files or asking APIs --- */

/* Reads at most max - 1 bytes of a /proc file. Returns the length or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t off = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while (off < max - 1 && (n = read(fd, buf + off, max - 1 - off)) > 0)
		off += (size_t)n;
	close(fd);
	buf[off] = '\0';
	return (ssize_t)off;
}

/* Field 22 of /proc/<pid>/stat (proc(5)), after the ")" that ends comm,
 * which may itself hold spaces and parentheses. 0 when unreadable. */
static uint64_t proc_starttime(struct attrib *a, uint32_t tgid)
{
	char path[300], buf[1024], *p;
	unsigned long long v = 0;

	snprintf(path, sizeof(path), "%s/%u/stat", a->proc_root, tgid);
	if (read_small(path, buf, sizeof(buf)) <= 0 || !(p = strrchr(buf, ')')))
		return 0;
	/* state is field 3; starttime 22: skip 19 more fields */
	p++;
	for (int f = 2; f < 21 && p; f++)
		p = strchr(p + 1, ' ');
	if (p)
		sscanf(p, " %llu", &v);
	return v;
}

static struct cent *cent_find(struct attrib *a, const char *key)
{
	for (uint32_t i = 0; i < a->cfg.max_containers; i++)
		if (a->cents[i].key[0] && !strcmp(a->cents[i].key, key))
			return &a->cents[i];
	return NULL;
}

static struct cent *cent_slot(struct attrib *a, const char *key)
{
	struct cent *c = cent_find(a, key), *lru = &a->cents[0];

	if (c)
		return c;
	for (uint32_t i = 0; i < a->cfg.max_containers; i++) {
		if (!a->cents[i].key[0])
			return &a->cents[i];
		if (a->cents[i].used_ns < lru->used_ns)
			lru = &a->cents[i];
	}
	return lru;
}

/* The pod list, fetched again when it does not know key (a pod uid or
 * container id) and the last fetch is older than kubelet_interval_ns. */
static void kubelet_refresh(struct attrib *a, uint64_t now)
{
	struct kubelet_config kc = { .url = a->cfg.kubelet_url, .token = a->cfg.kubelet_token,
				     .ca = a->cfg.kubelet_ca };
	struct kubelet_pods fresh;
	char err[256] = "";
	int rc;

	if (a->pods_fetched_ns && now - a->pods_fetched_ns < a->cfg.kubelet_interval_ns)
		return;
	a->pods_fetched_ns = now;
	rc = kubelet_fetch(&kc, &fresh, err, sizeof(err));
	pthread_mutex_lock(&a->lock);
	a->st.kubelet_fetches++;
	if (rc)
		a->st.kubelet_errors++;
	pthread_mutex_unlock(&a->lock);
	if (rc) {
		/* the first failure tells the operator why; later ones are counted */
		if (a->st.kubelet_errors == 1)
			fprintf(stderr, "mcpwire: attribution: %s\n", err);
		return;
	}
	kubelet_pods_free(&a->pods);
	a->pods = fresh;
}

/* Names for a cgroup id: 1 when complete, 0 when worth asking again later. */
static int names_of(struct attrib *a, const struct attrib_cgroup_id *cg, struct attrib_identity *id,
		    uint64_t now)
{
	const char *key = cg->id[0] ? cg->id : cg->pod_uid;
	struct cent *c = cent_find(a, key);
	int complete = 1;

	if (c && now < c->expires_ns) {
		c->used_ns = now;
		snprintf(id->container, sizeof(id->container), "%s", c->container);
		snprintf(id->pod, sizeof(id->pod), "%s", c->pod);
		snprintf(id->ns, sizeof(id->ns), "%s", c->ns);
		return 1;
	}
	if (cg->pod_uid[0] && a->cfg.kubelet_url) {
		const struct kubelet_container *kc = NULL;
		const struct kubelet_pod *kp = NULL;

		for (int pass = 0; pass < 2; pass++) {
			kc = cg->id[0] ? kubelet_container_by_id(&a->pods, cg->id) : NULL;
			kp = kubelet_pod_by_uid(&a->pods, cg->pod_uid);
			if ((kc || !cg->id[0]) && kp)
				break;
			if (!pass)
				kubelet_refresh(a, now);
		}
		if (kc)
			snprintf(id->container, sizeof(id->container), "%s", kc->name);
		if (kp) {
			snprintf(id->pod, sizeof(id->pod), "%s", kp->name);
			snprintf(id->ns, sizeof(id->ns), "%s", kp->ns);
		}
		complete = kp && (kc || !cg->id[0]);
	} else if (cg->id[0] && !cg->pod_uid[0] && a->cfg.docker_socket) {
		struct stat sb;
		char err[256] = "";
		int rc = -ECONNREFUSED;

		/* no socket, no Docker: not an error worth counting */
		if (!stat(a->cfg.docker_socket, &sb))
			rc = docker_container_name(a->cfg.docker_socket, cg->id, id->container,
						   sizeof(id->container), err, sizeof(err));
		if (rc && rc != -ENOENT && rc != -ECONNREFUSED) {
			pthread_mutex_lock(&a->lock);
			a->st.docker_errors++;
			pthread_mutex_unlock(&a->lock);
		}
		/* ENOENT: a container Docker does not run (containerd, podman) */
		complete = !rc || rc == -ENOENT;
		if (rc)
			id->container[0] = '\0';
	} else {
		complete = !cg->pod_uid[0] || !a->cfg.kubelet_url;
	}
	c = cent_slot(a, key);
	snprintf(c->key, sizeof(c->key), "%s", key);
	c->used_ns = now;
	/* names change rarely (docker rename): keep them ten TTLs */
	c->expires_ns = now + (complete ? 10 * a->cfg.ttl_ns : a->cfg.retry_ns);
	snprintf(c->container, sizeof(c->container), "%s", id->container);
	snprintf(c->pod, sizeof(c->pod), "%s", id->pod);
	snprintf(c->ns, sizeof(c->ns), "%s", id->ns);
	return complete;
}

static void resolve(struct attrib *a, uint32_t tgid)
{
	struct attrib_identity id = { 0 };
	struct attrib_cgroup_id cg;
	char path[300];
	uint64_t start, now = now_ns(), prev_start = 0;
	int complete = 1, gone = 0, have_prev = 0;
	uint32_t slot;
	ssize_t n;

	start = proc_starttime(a, tgid);
	pthread_mutex_lock(&a->lock);
	slot = ent_find(a, tgid);
	if (slot != MCP_TABLE_NONE && a->ents[slot].state == ENT_DONE) {
		have_prev = 1;
		prev_start = a->ents[slot].starttime;
	}
	pthread_mutex_unlock(&a->lock);

	snprintf(path, sizeof(path), "%s/%u/cgroup", a->proc_root, tgid);
	n = read_small(path, a->buf, sizeof(a->buf));
	if (n < 0) {
		gone = n == -ENOENT || n == -ESRCH;
		if (!gone) {
			pthread_mutex_lock(&a->lock);
			a->st.proc_errors++;
			pthread_mutex_unlock(&a->lock);
		}
		complete = 0;
	} else if (attrib_cgroup_parse(a->buf, (size_t)n, &cg)) {
		id.runtime = cg.runtime;
		memcpy(id.container_id, cg.id, sizeof(cg.id));
		memcpy(id.pod_uid, cg.pod_uid, sizeof(cg.pod_uid));
		complete = names_of(a, &cg, &id, now);
	}

	pthread_mutex_lock(&a->lock);
	a->st.resolved++;
	slot = ent_find(a, tgid);
	/* evicted while we worked: the next look-up queues it again */
	if (slot != MCP_TABLE_NONE) {
		struct ent *e = &a->ents[slot];

		/* the process exited: keep what was known of it (same process) */
		if (!(n < 0 && have_prev && (gone || prev_start == start))) {
			/* a name lookup that failed now does not erase one found before
			 * for the same process */
			if (!(have_prev && prev_start == start && !complete &&
			      !strcmp(e->id.container_id, id.container_id) && e->id.container[0] &&
			      !id.container[0]))
				e->id = id;
			e->starttime = start;
		}
		e->state = ENT_DONE;
		e->requeued = 0;
		e->expires_ns = now + (complete ? a->cfg.ttl_ns : a->cfg.retry_ns);
	}
	pthread_mutex_unlock(&a->lock);
}

static void *resolver_main(void *arg)
{
	struct attrib *a = arg;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		uint32_t tgid;

		while (!a->stop && (a->paused || !a->qlen)) {
			a->busy = 0;
			pthread_cond_broadcast(&a->idle);
			pthread_cond_wait(&a->wake, &a->lock);
		}
		if (a->stop)
			break;
		a->busy = 1;
		tgid = a->queue[a->qhead];
		a->qhead = (a->qhead + 1) % a->cfg.queue_len;
		a->qlen--;
		pthread_mutex_unlock(&a->lock);
		resolve(a, tgid);
		pthread_mutex_lock(&a->lock);
	}
	a->busy = 0;
	pthread_cond_broadcast(&a->idle);
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

struct attrib *attrib_start(const struct attrib_config *cfg, char *err, size_t errlen)
{
	struct attrib *a = calloc(1, sizeof(*a));

	if (!a)
		goto nomem;
	a->cfg = *cfg;
	if (!a->cfg.max_procs)
		a->cfg.max_procs = 4096;
	if (!a->cfg.max_containers)
		a->cfg.max_containers = 1024;
	if (!a->cfg.queue_len)
		a->cfg.queue_len = 1024;
	if (!a->cfg.ttl_ns)
		a->cfg.ttl_ns = 30 * NSEC;
	if (!a->cfg.retry_ns)
		a->cfg.retry_ns = 10 * NSEC;
	if (!a->cfg.kubelet_interval_ns)
		a->cfg.kubelet_interval_ns = 10 * NSEC;
	snprintf(a->proc_root, sizeof(a->proc_root), "%s", cfg->proc_root ? cfg->proc_root : "/proc");
	a->paused = cfg->paused;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->wake, NULL);
	pthread_cond_init(&a->idle, NULL);
	if (mcp_table_init(&a->t, a->cfg.max_procs))
		goto nomem;
	a->ents = calloc(a->cfg.max_procs, sizeof(*a->ents));
	a->queue = calloc(a->cfg.queue_len, sizeof(*a->queue));
	a->cents = calloc(a->cfg.max_containers, sizeof(*a->cents));
	if (!a->ents || !a->queue || !a->cents)
		goto nomem;
	if (pthread_create(&a->thread, NULL, resolver_main, a)) {
		snprintf(err, errlen, "attribution: cannot start the resolver thread");
		attrib_stop(a);
		return NULL;
	}
	a->started = 1;
	return a;
nomem:
	snprintf(err, errlen, "attribution: out of memory");
	attrib_stop(a);
	return NULL;
}

void attrib_stop(struct attrib *a)
{
	if (!a)
		return;
	if (a->started) {
		pthread_mutex_lock(&a->lock);
		a->stop = 1;
		pthread_cond_signal(&a->wake);
		pthread_mutex_unlock(&a->lock);
		pthread_join(a->thread, NULL);
	}
	kubelet_pods_free(&a->pods);
	mcp_table_fini(&a->t);
	free(a->ents);
	free(a->queue);
	free(a->cents);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->wake);
	pthread_cond_destroy(&a->idle);
	free(a);
}

void attrib_get_stats(struct attrib *a, struct attrib_stats *st)
{
	pthread_mutex_lock(&a->lock);
	*st = a->st;
	pthread_mutex_unlock(&a->lock);
}

void attrib_resume(struct attrib *a)
{
	pthread_mutex_lock(&a->lock);
	a->paused = 0;
	pthread_cond_signal(&a->wake);
	pthread_mutex_unlock(&a->lock);
}

void attrib_drain(struct attrib *a)
{
	pthread_mutex_lock(&a->lock);
	while (!a->paused && (a->qlen || a->busy))
		pthread_cond_wait(&a->idle, &a->lock);
	pthread_mutex_unlock(&a->lock);
}

const char *attrib_container_label(const struct attrib_identity *id, char buf[13])
{
	if (id->container[0])
		return id->container;
	snprintf(buf, 13, "%.12s", id->container_id);
	return buf;
}
