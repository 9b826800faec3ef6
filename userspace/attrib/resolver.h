/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * attrib/resolver — process → container identity (container id and name,
 * Kubernetes pod and namespace), for labels and the call log.
 *
 * The pipeline thread asks with attrib_lookup(), which never blocks on I/O:
 * it reads a cache keyed by tgid under a mutex, and on a miss queues the
 * tgid for the resolver thread and answers "not yet". The resolver thread
 * reads /proc/<tgid>/cgroup (attrib/cgroup.h) and /proc/<tgid>/stat, then
 * asks the Docker Engine API (docker/engine.h) for the container's name, or
 * the kubelet's pod list (attrib/kubelet.h) when the cgroup names a pod, and
 * stores the answer. Names are cached per container as well, so the many
 * processes of one container cost one API call.
 *
 * Bounds: max_procs cache entries with LRU eviction (attrib_stats.evicted),
 * queue_len queued tgids (a lookup that finds the queue full is answered
 * "not yet" and counted in queue_full; the next lookup tries again).
 *
 * Pid reuse: an entry is revalidated ttl_ns after it was resolved (the old
 * answer is served meanwhile): when the process's start time in
 * /proc/<tgid>/stat changed, the pid now belongs to another process and the
 * identity is resolved anew. A pid reused within ttl_ns keeps the previous
 * process's identity until then. Entries of processes that exited are kept
 * (a call that ends after its server exited still gets its container) until
 * evicted. An answer still missing a name (Docker or the kubelet did not
 * answer, the kubelet was asked too recently) is retried after retry_ns.
 */
#ifndef MCPWIRE_ATTRIB_RESOLVER_H
#define MCPWIRE_ATTRIB_RESOLVER_H

#include <stddef.h>
#include <stdint.h>

#include "attrib/cgroup.h"

/* "" for every string that is not known. */
struct attrib_identity {
	uint8_t runtime;		       /* enum attrib_runtime */
	char container_id[ATTRIB_ID_LEN + 1];  /* 64 hex; "" outside containers */
	char container[128];		       /* Docker's name, or the pod's container name */
	char pod[254];
	char ns[64];			       /* the pod's namespace */
	char pod_uid[ATTRIB_POD_UID_MAX + 1];
};

/* Zero fields take the defaults in brackets. */
struct attrib_config {
	const char *proc_root;	    /* ["/proc"] */
	const char *docker_socket;  /* NULL: no Docker look-ups */
	const char *kubelet_url;    /* NULL: no kubelet look-ups */
	const char *kubelet_token;  /* bearer token file, https only */
	const char *kubelet_ca;	    /* CA bundle for https */
	uint32_t max_procs;	    /* [4096] cached processes */
	uint32_t max_containers;    /* [1024] cached container names */
	uint32_t queue_len;	    /* [1024] tgids waiting for the resolver thread */
	uint64_t ttl_ns;	    /* [30 s] revalidate a process's entry after this */
	uint64_t retry_ns;	    /* [10 s] retry a name that was not found */
	uint64_t kubelet_interval_ns; /* [10 s] at most one pod-list fetch per interval */
	int paused;		    /* tests: the thread waits for attrib_resume() */
};

/* Totals since start (counters). */
struct attrib_stats {
	uint64_t lookups;	/* attrib_lookup() calls */
	uint64_t resolved;	/* processes resolved by the thread */
	uint64_t evicted;	/* cache entries pushed out (mcpwire_table_evictions_total) */
	uint64_t queue_full;	/* misses not queued: queue full */
	uint64_t proc_errors;	/* /proc/<tgid>/cgroup unreadable (not: process gone) */
	uint64_t docker_errors; /* Engine API failures other than "no such container" */
	uint64_t kubelet_errors;
	uint64_t kubelet_fetches;
};

struct attrib;

/* Starts the resolver thread. NULL with a reason in err on failure. */
struct attrib *attrib_start(const struct attrib_config *cfg, char *err, size_t errlen);
/* Stops the thread (waits for a look-up in progress, at most the Docker or
 * kubelet timeout) and frees everything. NULL is a no-op. */
void attrib_stop(struct attrib *a);

/*
 * attrib_lookup - the identity of process @tgid, copied to *@out. Returns 1
 * when known (the strings may all be empty: a host process), 0 when not yet
 * (queued, or the queue was full). Never blocks on I/O; thread-safe.
 */
int attrib_lookup(struct attrib *a, uint32_t tgid, struct attrib_identity *out);

void attrib_get_stats(struct attrib *a, struct attrib_stats *st);

/* Tests: lets a paused thread run; waits until the queue is empty and the
 * thread idle. */
void attrib_resume(struct attrib *a);
void attrib_drain(struct attrib *a);

/* The container label value: the name, else the first 12 digits of the id
 * (as `docker ps` shows it), else "". */
const char *attrib_container_label(const struct attrib_identity *id, char buf[13]);

#endif /* MCPWIRE_ATTRIB_RESOLVER_H */
