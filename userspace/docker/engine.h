/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A client of the Docker Engine API (https://docs.docker.com/engine/api/) on
 * its unix socket, for the few look-ups mcpwire makes: a network's bridge
 * (--network) and a container's name (attribution). libcurl does the HTTP;
 * jansson parses the answer.
 *
 * Calls block for at most DOCKER_ENGINE_TIMEOUT_MS: never call them from the
 * pipeline thread's per-event path; cache what they return.
 */
#ifndef MCPWIRE_DOCKER_ENGINE_H
#define MCPWIRE_DOCKER_ENGINE_H

#include <jansson.h>
#include <stddef.h>

#define DOCKER_ENGINE_SOCK "/var/run/docker.sock"
#define DOCKER_ENGINE_TIMEOUT_MS 2000
/* Larger answers are refused: a container or network inspect is a few KiB. */
#define DOCKER_ENGINE_MAX_BODY (1u << 20)

/*
 * docker_engine_get - GET @path (e.g. "/networks/NAME", unversioned so the
 * engine answers with its own API version) on the Engine API at unix socket
 * @sock (NULL: DOCKER_ENGINE_SOCK), and parse the JSON body into *@out (the
 * caller json_decref()s it).
 *
 * Returns 0 on a 2xx JSON answer; -ENOENT on 404 (no such network or
 * container); -ECONNREFUSED when nothing answers on the socket (no such file,
 * or nobody listening); -EPROTO on any other status, a body over
 * DOCKER_ENGINE_MAX_BODY or one that is not JSON; -ETIMEDOUT. @err (may be
 * NULL) receives one line saying what happened.
 */
int docker_engine_get(const char *sock, const char *path, json_t **out, char *err, size_t errlen);

/*
 * docker_network_bridge - the Linux bridge behind Docker network @name (a name
 * or id): the network's "com.docker.network.bridge.name" option when set (the
 * default "bridge" network sets it to docker0), else "br-" and the first 12
 * hex digits of its id, which is how Docker's bridge driver names it.
 * @ifname gets at most IFNAMSIZ-1 characters. Errors as docker_engine_get,
 * plus -EINVAL when the network is not of the bridge driver (overlay,
 * macvlan, host: no bridge on this host to watch).
 */
int docker_network_bridge(const char *sock, const char *name, char *ifname, size_t ifname_len,
			  char *err, size_t errlen);

/*
 * docker_container_name - the name of container @id (full or short id) as
 * `docker ps` shows it, without the leading "/" the API puts there. Errors as
 * docker_engine_get.
 */
int docker_container_name(const char *sock, const char *id, char *name, size_t name_len, char *err,
			  size_t errlen);

#endif
