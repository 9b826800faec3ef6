// SPDX-License-Identifier: GPL-2.0-only
/*
 * scope/resolve — --network NAME / --bridge IFNAME to a bridge name, with the
 * operator's one-line errors.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "docker/engine.h"
#include "scope/resolve.h"

int scope_resolve_bridge(const char *network, const char *bridge, const char *docker_sock,
			 char *out, size_t outlen, char *err, size_t errlen)
{
	const char *sock = docker_sock ? docker_sock : DOCKER_ENGINE_SOCK;
	char why[256] = "";
	int rc;

	if (bridge) {
		if (!*bridge || strlen(bridge) >= IF_NAMESIZE || strlen(bridge) >= outlen ||
		    strchr(bridge, '/') || strchr(bridge, ' ')) {
			snprintf(err, errlen,
				 "bad value '%s' for --bridge (an interface name of 1 to %d characters)",
				 bridge, IF_NAMESIZE - 1);
			return -EINVAL;
		}
		snprintf(out, outlen, "%s", bridge);
		return 0;
	}
	rc = docker_network_bridge(sock, network, out, outlen, why, sizeof(why));
	switch (rc) {
	case 0:
		return 0;
	case -ENOENT:
		snprintf(err, errlen, "no Docker network '%s' (the Docker Engine API at %s does not "
			 "know it; docker network ls lists them)", network, sock);
		break;
	case -ECONNREFUSED:
		snprintf(err, errlen, "cannot reach the Docker Engine API at %s to look up network "
			 "'%s': give its socket with --docker-socket PATH, or name the bridge with "
			 "--bridge IFNAME", sock, network);
		break;
	default:
		/* engine.c's line says what: another driver, a bad name, a timeout */
		snprintf(err, errlen, "cannot resolve Docker network '%s': %s", network, why);
		break;
	}
	return rc;
}
