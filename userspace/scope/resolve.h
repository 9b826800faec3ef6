/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * scope/resolve — the bridge mcpwire scopes to, from the command line:
 * --bridge IFNAME as given, or --network NAME looked up through the Docker
 * Engine API (docker/engine.h: the network's bridge-name option, else "br-"
 * and the first 12 hex digits of its id).
 */
#ifndef MCPWIRE_SCOPE_RESOLVE_H
#define MCPWIRE_SCOPE_RESOLVE_H

#include <stddef.h>

/*
 * scope_resolve_bridge - exactly one of network and bridge is non-NULL;
 * docker_sock may be NULL (/var/run/docker.sock). Writes the bridge's name to
 * out (IF_NAMESIZE bytes or more). Returns 0, or -errno with one line for the
 * operator in err: an unknown network (-ENOENT), no Docker Engine API on the
 * socket (-ECONNREFUSED, naming --docker-socket and --bridge), a network of
 * another driver (-EINVAL), a bad bridge name (-EINVAL), other API failures.
 * Blocks for at most DOCKER_ENGINE_TIMEOUT_MS: call at start-up only.
 */
int scope_resolve_bridge(const char *network, const char *bridge, const char *docker_sock,
			 char *out, size_t outlen, char *err, size_t errlen);

#endif
