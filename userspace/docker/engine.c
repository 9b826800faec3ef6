// SPDX-License-Identifier: GPL-2.0-only
#include "docker/engine.h"
#include "util/curl_body.h"

#include <curl/curl.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAY(...)                                             \
	do {                                                 \
		if (err && errlen)                           \
			snprintf(err, errlen, __VA_ARGS__);  \
	} while (0)

int docker_engine_get(const char *sock, const char *path, json_t **out, char *err, size_t errlen)
{
	struct curl_body b = { .max = DOCKER_ENGINE_MAX_BODY };
	char url[512];
	long status = 0;
	json_error_t jerr;
	CURLcode rc;
	CURL *c;
	int ret = 0;

	*out = NULL;
	if (!sock)
		sock = DOCKER_ENGINE_SOCK;
	curl_body_global_init();
	c = curl_easy_init();
	if (!c) {
		SAY("docker: curl_easy_init failed");
		return -ENOMEM;
	}
	/* The host part is ignored on a unix socket; "docker" reads well in logs. */
	snprintf(url, sizeof(url), "http://docker%s", path);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)DOCKER_ENGINE_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_body_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);

	if (rc == CURLE_OPERATION_TIMEDOUT) {
		SAY("docker: %s: no answer within %d ms", sock, DOCKER_ENGINE_TIMEOUT_MS);
		ret = -ETIMEDOUT;
	} else if (rc == CURLE_WRITE_ERROR && b.too_big) {
		SAY("docker: GET %s: answer larger than %u bytes", path, DOCKER_ENGINE_MAX_BODY);
		ret = -EPROTO;
	} else if (rc == CURLE_COULDNT_CONNECT) {
		SAY("docker: cannot connect to %s (is the Docker socket mounted?)", sock);
		ret = -ECONNREFUSED;
	} else if (rc != CURLE_OK) {
		SAY("docker: GET %s on %s: %s", path, sock, curl_easy_strerror(rc));
		ret = -EPROTO;
	} else if (status == 404) {
		SAY("docker: GET %s: not found", path);
		ret = -ENOENT;
	} else if (status < 200 || status > 299) {
		SAY("docker: GET %s: HTTP %ld", path, status);
		ret = -EPROTO;
	} else if (!(*out = json_loadb(b.buf ? b.buf : "", b.len, 0, &jerr))) {
		SAY("docker: GET %s: answer is not JSON (%s)", path, jerr.text);
		ret = -EPROTO;
	}
	free(b.buf);
	return ret;
}

/* Ids and names go into a URL path: anything outside Docker's own character
 * set for them ([a-zA-Z0-9][a-zA-Z0-9_.-]*) is refused rather than escaped. */
static int bad_ref(const char *s)
{
	const char *p;

	if (!s || !*s || strlen(s) > 255)
		return 1;
	for (p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || *p == '.' || *p == '-'))
			return 1;
	return 0;
}

int docker_network_bridge(const char *sock, const char *name, char *ifname, size_t ifname_len,
			  char *err, size_t errlen)
{
	const char *driver, *opt, *id;
	char path[300];
	json_t *net;
	int ret;

	if (bad_ref(name)) {
		SAY("docker: \"%s\" is not a network name or id", name ? name : "");
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "/networks/%s", name);
	ret = docker_engine_get(sock, path, &net, err, errlen);
	if (ret)
		return ret;
	driver = json_string_value(json_object_get(net, "Driver"));
	opt = json_string_value(json_object_get(json_object_get(net, "Options"),
						"com.docker.network.bridge.name"));
	id = json_string_value(json_object_get(net, "Id"));
	if (driver && strcmp(driver, "bridge") != 0) {
		SAY("docker: network %s uses the %s driver, not bridge: no bridge to watch on this host",
		    name, driver);
		ret = -EINVAL;
	} else if (opt && *opt) {
		if (strlen(opt) >= IFNAMSIZ || strlen(opt) >= ifname_len) {
			SAY("docker: network %s: bridge name \"%s\" is too long", name, opt);
			ret = -EPROTO;
		} else {
			snprintf(ifname, ifname_len, "%s", opt);
		}
	} else if (id && strlen(id) >= 12 && ifname_len >= 16) {
		snprintf(ifname, ifname_len, "br-%.12s", id);
	} else {
		SAY("docker: network %s: answer has no Id", name);
		ret = -EPROTO;
	}
	json_decref(net);
	return ret;
}

int docker_container_name(const char *sock, const char *id, char *name, size_t name_len, char *err,
			  size_t errlen)
{
	const char *n;
	char path[300];
	json_t *c;
	int ret;

	if (bad_ref(id)) {
		SAY("docker: \"%s\" is not a container id", id ? id : "");
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "/containers/%s/json", id);
	ret = docker_engine_get(sock, path, &c, err, errlen);
	if (ret)
		return ret;
	n = json_string_value(json_object_get(c, "Name"));
	if (!n || !*n) {
		SAY("docker: container %s: answer has no Name", id);
		ret = -EPROTO;
	} else {
		snprintf(name, name_len, "%s", n[0] == '/' ? n + 1 : n);
	}
	json_decref(c);
	return ret;
}
