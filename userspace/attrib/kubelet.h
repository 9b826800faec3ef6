/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * attrib/kubelet — the kubelet's list of the pods on its node (GET /pods on
 * its authenticated port, 10250), for the names behind the pod uids and
 * container ids that attrib/cgroup reads from /proc.
 *
 * The answer is a v1 PodList (https://kubernetes.io/docs/reference/
 * kubernetes-api/workload-resources/pod-v1/): items[].metadata.{uid,name,
 * namespace} and items[].status.{containerStatuses,initContainerStatuses,
 * ephemeralContainerStatuses}[].{name,containerID}, containerID being
 * "<runtime>://<id>" (containerd://, cri-o://, docker://).
 *
 * kubelet_fetch() blocks (at most KUBELET_TIMEOUT_MS): call it from the
 * resolver thread only.
 */
#ifndef MCPWIRE_ATTRIB_KUBELET_H
#define MCPWIRE_ATTRIB_KUBELET_H

#include <stddef.h>
#include <stdint.h>

#include "attrib/cgroup.h"

#define KUBELET_TIMEOUT_MS 5000
#define KUBELET_MAX_BODY (64u << 20) /* 110 pods (the default per-node cap) are ~1 MiB */
#define KUBELET_MAX_PODS 4096	     /* more are ignored, counted in kubelet_pods.dropped */
#define KUBELET_MAX_CONTAINERS 16384
#define KUBELET_TOKEN "/var/run/secrets/kubernetes.io/serviceaccount/token"
#define KUBELET_CA "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"

/* Kubernetes limits: names of pods are DNS subdomains (253), namespaces and
 * containers DNS labels (63). Longer values from the wire are skipped. */
struct kubelet_pod {
	char uid[ATTRIB_POD_UID_MAX + 1];
	char name[254];
	char ns[64];
};

struct kubelet_container {
	char id[ATTRIB_ID_LEN + 1];
	char name[64];
	uint32_t pod; /* index into kubelet_pods.pods */
};

struct kubelet_pods {
	struct kubelet_pod *pods;
	uint32_t npods;
	struct kubelet_container *ctrs;
	uint32_t nctrs;
	uint32_t dropped; /* items or statuses over the limits or malformed */
};

/*
 * kubelet_pods_parse - parses a PodList JSON text (@len bytes) into *@out
 * (allocated; kubelet_pods_free() it). Items without a uid, a name or a
 * namespace, and statuses without a 64-hex containerID (a container not
 * started yet) are skipped and counted in out->dropped. Returns 0, -EPROTO
 * when the text is not a JSON object with an items array (@err says why),
 * or -ENOMEM.
 */
int kubelet_pods_parse(const char *json, size_t len, struct kubelet_pods *out, char *err,
		       size_t errlen);
void kubelet_pods_free(struct kubelet_pods *p);

/* Look-ups (linear: a node runs at most a few hundred pods). NULL: absent. */
const struct kubelet_pod *kubelet_pod_by_uid(const struct kubelet_pods *p, const char *uid);
const struct kubelet_container *kubelet_container_by_id(const struct kubelet_pods *p,
							const char *id);

struct kubelet_config {
	const char *url;   /* e.g. "https://10.0.0.5:10250/pods" */
	const char *token; /* bearer token file (sent over https only); NULL: none */
	const char *ca;	   /* CA bundle for https; NULL: the system's */
};

/*
 * kubelet_fetch - GETs cfg->url and parses the answer into *@out. Returns 0;
 * -ETIMEDOUT; -ECONNREFUSED when nothing answers; -EACCES on 401/403 (the
 * service account lacks nodes/proxy); -EPROTO on any other failure (TLS,
 * status, body over KUBELET_MAX_BODY, not a PodList); -ENOMEM. @err gets one
 * line.
 */
int kubelet_fetch(const struct kubelet_config *cfg, struct kubelet_pods *out, char *err,
		  size_t errlen);

/*
 * kubelet_default_url - the URL to use inside a cluster (KUBERNETES_SERVICE_HOST
 * set): https://$NODE_IP:10250/pods, else https://$NODE_NAME:10250/pods (both
 * from the downward API, deploy/kubernetes/daemonset.yaml). Returns 1 with
 * @buf filled, 0 outside a cluster or without either variable.
 */
int kubelet_default_url(char *buf, size_t len);

#endif /* MCPWIRE_ATTRIB_KUBELET_H */
