// SPDX-License-Identifier: GPL-2.0-only
/*
 * attrib/kubelet — the kubelet's pod list: parse, index, fetch.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attrib/kubelet.h"
#include "util/curl_body.h"

#define SAY(...)                                            \
	do {                                                \
		if (err && errlen)                          \
			snprintf(err, errlen, __VA_ARGS__); \
	} while (0)

/* Copies a JSON string member that fits in n bytes (NUL included); 0 when
 * absent, empty or too long. */
static int kl_str(json_t *o, const char *key, char *dst, size_t n)
{
	const char *s = json_string_value(json_object_get(o, key));
	size_t l = s ? strlen(s) : 0;

	if (!l || l >= n)
		return 0;
	memcpy(dst, s, l + 1);
	return 1;
}

static void kl_statuses(struct kubelet_pods *out, json_t *arr, uint32_t pod)
{
	size_t i;
	json_t *st;

	if (!json_is_array(arr))
		return;
	json_array_foreach (arr, i, st) {
		const char *cid = json_string_value(json_object_get(st, "containerID"));
		const char *sep = cid ? strstr(cid, "://") : NULL;
		struct kubelet_container *c;
		struct attrib_cgroup_id probe;
		char path[80];

		if (out->nctrs >= KUBELET_MAX_CONTAINERS || !sep || strlen(sep + 3) != ATTRIB_ID_LEN) {
			out->dropped++;
			continue;
		}
		/* the same 64-hex rule as the cgroup side, so both keys agree */
		snprintf(path, sizeof(path), "/%s", sep + 3);
		if (!attrib_cgroup_path(path, strlen(path), &probe) || !probe.id[0]) {
			out->dropped++;
			continue;
		}
		c = &out->ctrs[out->nctrs];
		memset(c, 0, sizeof(*c));
		if (!kl_str(st, "name", c->name, sizeof(c->name))) {
			out->dropped++;
			continue;
		}
		memcpy(c->id, probe.id, sizeof(c->id));
		c->pod = pod;
		out->nctrs++;
	}
}

int kubelet_pods_parse(const char *text, size_t len, struct kubelet_pods *out, char *err,
		       size_t errlen)
{
	json_error_t jerr;
	json_t *root, *items, *item;
	size_t i, n;

	memset(out, 0, sizeof(*out));
	root = json_loadb(text, len, 0, &jerr);
	if (!root) {
		SAY("kubelet: pod list is not JSON (%s)", jerr.text);
		return -EPROTO;
	}
	items = json_object_get(root, "items");
	if (!json_is_array(items)) {
		SAY("kubelet: pod list has no items array");
		json_decref(root);
		return -EPROTO;
	}
	n = json_array_size(items);
	out->pods = calloc(n < KUBELET_MAX_PODS ? n + 1 : KUBELET_MAX_PODS, sizeof(*out->pods));
	out->ctrs = calloc(KUBELET_MAX_CONTAINERS, sizeof(*out->ctrs));
	if (!out->pods || !out->ctrs) {
		json_decref(root);
		kubelet_pods_free(out);
		SAY("kubelet: out of memory");
		return -ENOMEM;
	}
	json_array_foreach (items, i, item) {
		json_t *md = json_object_get(item, "metadata");
		json_t *st = json_object_get(item, "status");
		struct kubelet_pod *p = &out->pods[out->npods];
		struct attrib_cgroup_id probe;
		char path[64];

		if (out->npods >= KUBELET_MAX_PODS) {
			out->dropped++;
			continue;
		}
		memset(p, 0, sizeof(*p));
		if (!kl_str(md, "uid", p->uid, sizeof(p->uid)) ||
		    !kl_str(md, "name", p->name, sizeof(p->name)) ||
		    !kl_str(md, "namespace", p->ns, sizeof(p->ns))) {
			out->dropped++;
			continue;
		}
		/* normalise the uid as attrib/cgroup does (lower-case hex, dashes) */
		for (char *u = p->uid; *u; u++)
			*u = (char)tolower((unsigned char)*u);
		snprintf(path, sizeof(path), "/kubepods/pod%s", p->uid);
		if (!attrib_cgroup_path(path, strlen(path), &probe) || !probe.pod_uid[0]) {
			out->dropped++;
			continue;
		}
		memcpy(p->uid, probe.pod_uid, sizeof(p->uid));
		kl_statuses(out, json_object_get(st, "containerStatuses"), out->npods);
		kl_statuses(out, json_object_get(st, "initContainerStatuses"), out->npods);
		kl_statuses(out, json_object_get(st, "ephemeralContainerStatuses"), out->npods);
		out->npods++;
	}
	json_decref(root);
	return 0;
}

void kubelet_pods_free(struct kubelet_pods *p)
{
	free(p->pods);
	free(p->ctrs);
	memset(p, 0, sizeof(*p));
}

const struct kubelet_pod *kubelet_pod_by_uid(const struct kubelet_pods *p, const char *uid)
{
	for (uint32_t i = 0; i < p->npods; i++)
		if (!strcmp(p->pods[i].uid, uid))
			return &p->pods[i];
	return NULL;
}

const struct kubelet_container *kubelet_container_by_id(const struct kubelet_pods *p,
							const char *id)
{
	for (uint32_t i = 0; i < p->nctrs; i++)
		if (!strcmp(p->ctrs[i].id, id))
			return &p->ctrs[i];
	return NULL;
}

/* The service-account token, trimmed; "" when unreadable. */
static void kl_token(const char *path, char *buf, size_t len)
{
	FILE *f = path ? fopen(path, "re") : NULL;
	size_t n = 0;

	buf[0] = '\0';
	if (!f)
		return;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = '\0';
}

int kubelet_fetch(const struct kubelet_config *cfg, struct kubelet_pods *out, char *err,
		  size_t errlen)
{
	struct curl_body b = { .max = KUBELET_MAX_BODY };
	struct curl_slist *hdrs = NULL;
	char token[8192], auth[8300];
	long status = 0;
	CURLcode rc;
	CURL *c;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	curl_body_global_init();
	c = curl_easy_init();
	if (!c) {
		SAY("kubelet: curl_easy_init failed");
		return -ENOMEM;
	}
	curl_easy_setopt(c, CURLOPT_URL, cfg->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)KUBELET_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_body_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	/* the token is a credential: never on a cleartext connection */
	if (!strncmp(cfg->url, "https://", 8)) {
		kl_token(cfg->token, token, sizeof(token));
		if (token[0]) {
			snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
			hdrs = curl_slist_append(hdrs, auth);
			curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
		}
		if (cfg->ca)
			curl_easy_setopt(c, CURLOPT_CAINFO, cfg->ca);
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	memset(token, 0, sizeof(token));
	memset(auth, 0, sizeof(auth));

	if (rc == CURLE_OPERATION_TIMEDOUT) {
		SAY("kubelet: %s: no answer within %d ms", cfg->url, KUBELET_TIMEOUT_MS);
		ret = -ETIMEDOUT;
	} else if (rc == CURLE_WRITE_ERROR && b.too_big) {
		SAY("kubelet: %s: answer larger than %u bytes", cfg->url, KUBELET_MAX_BODY);
		ret = -EPROTO;
	} else if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST) {
		SAY("kubelet: cannot connect to %s", cfg->url);
		ret = -ECONNREFUSED;
	} else if (rc != CURLE_OK) {
		SAY("kubelet: GET %s: %s", cfg->url, curl_easy_strerror(rc));
		ret = -EPROTO;
	} else if (status == 401 || status == 403) {
		SAY("kubelet: GET %s: HTTP %ld (may the service account get nodes/proxy?)",
		    cfg->url, status);
		ret = -EACCES;
	} else if (status < 200 || status > 299) {
		SAY("kubelet: GET %s: HTTP %ld", cfg->url, status);
		ret = -EPROTO;
	} else {
		ret = kubelet_pods_parse(b.buf ? b.buf : "", b.len, out, err, errlen);
	}
	free(b.buf);
	return ret;
}

int kubelet_default_url(char *buf, size_t len)
{
	const char *ip = getenv("NODE_IP"), *node = getenv("NODE_NAME");
	const char *host = ip && *ip ? ip : node && *node ? node : NULL;

	if (!getenv("KUBERNETES_SERVICE_HOST") || !host)
		return 0;
	/* an IPv6 node address needs brackets in a URL */
	if (strchr(host, ':'))
		snprintf(buf, len, "https://[%s]:10250/pods", host);
	else
		snprintf(buf, len, "https://%s:10250/pods", host);
	return 1;
}
