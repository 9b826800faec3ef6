#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# demo.sh — make demo: mcpwire watching live MCP traffic between containers.
#
# The same Docker-like network as run.sh: server-everything in container
# "server", a client container calling it through client.mjs in a bounded loop
# (one session with the full call mix about every 0.5 s, at most 1 hour), and
# build/mcpwire on the host. Every 2 s it prints a summary of mcpwire's
# /metrics next to the client's own counts. Ctrl-C (or DEMO_SECONDS) stops it
# and removes everything it created.
#
# Environment:
#   DEMO_SECONDS=N    stop by itself after N seconds (default 3600, the maximum)
#   MCPWIRE=path      the daemon (default build/mcpwire)
#   MCPWIRE_ARGS=...  extra arguments (word-split; {bridge} = the bridge)
#   MCPWIRE_PORT=P    where mcpwire listens on 127.0.0.1 (default: a free port)
#   MIX=basic|full    client call mix (default full)
#   DELAY_MS=MS       pause between client sessions (default 500)

set -uo pipefail

INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$INTEG_DIR/../.." && pwd)
MCPWIRE=${MCPWIRE:-$ROOT/build/mcpwire}
DEMO_SECONDS=${DEMO_SECONDS:-3600}
MIX=${MIX:-full}
DELAY_MS=${DELAY_MS:-500}
SERVER_PORT=3001

# shellcheck source=netns.sh
source "$INTEG_DIR/netns.sh"
# shellcheck source=lib.sh
source "$INTEG_DIR/lib.sh"

die() {
	echo "demo.sh: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "needs root (network namespaces, eBPF)"
[ -x "$MCPWIRE" ] || die "$MCPWIRE not found; build it first (make)"
[ -d "$INTEG_DIR/node_modules/@modelcontextprotocol/sdk" ] || die "node modules missing: make test-deps"
case $DEMO_SECONDS in '' | *[!0-9]*) die "DEMO_SECONDS must be a number of seconds" ;; esac
{ [ "$DEMO_SECONDS" -ge 1 ] && [ "$DEMO_SECONDS" -le 3600 ]; } || die "DEMO_SECONDS must be 1..3600"

mcpw_trap_install
WORK=$(mktemp -d /tmp/mcpwire-demo.XXXXXX)
mcpw_on_exit "rm -rf '$WORK'"
# shellcheck disable=SC2016
# shellcheck disable=SC2016
mcpw_on_exit 'echo "demo.sh: removed the network, processes and $WORK" >&2'

netns_up || die "cannot create the bridge"
netns_add server || die "cannot create container server"
netns_add client || die "cannot create container client"
SERVER_IP=${NETNS_IP[server]}
echo "network $NETNS_BRIDGE $NETNS_SUBNET: server ${NETNS_NS[server]} $SERVER_IP, client ${NETNS_NS[client]} ${NETNS_IP[client]}"

start_everything server "$SERVER_PORT" "$WORK/server.log"
wait_for 20 "server-everything" listening server "$SERVER_PORT" || die "server-everything did not start: $(tail -n 5 "$WORK/server.log")"

MCPWIRE_PORT=${MCPWIRE_PORT:-$(free_port)}
MCPWIRE_URL="http://127.0.0.1:$MCPWIRE_PORT"
MCPWIRE_ARGS=${MCPWIRE_ARGS:-}
# shellcheck disable=SC2086 # word-split on purpose
"$MCPWIRE" --listen "127.0.0.1:$MCPWIRE_PORT" ${MCPWIRE_ARGS//\{bridge\}/$NETNS_BRIDGE} >"$WORK/mcpwire.log" 2>&1 </dev/null &
MCPWIRE_PID=$!
# shellcheck disable=SC2016 # expanded at exit, when the pid is known
# shellcheck disable=SC2016 # expanded at exit, when the pid is known
mcpw_on_exit 'stop_pid "$MCPWIRE_PID" 5'
healthz_or_dead() { http_ok "$MCPWIRE_URL/healthz" || ! alive "$MCPWIRE_PID"; }
wait_for 30 "mcpwire /healthz" healthz_or_dead
alive "$MCPWIRE_PID" || die "mcpwire exited: $(tail -n 20 "$WORK/mcpwire.log")"
echo "mcpwire: $MCPWIRE_URL/metrics (pid $MCPWIRE_PID, log $WORK/mcpwire.log)"

# The client: bounded in count and time (DEMO_SECONDS at most one hour).
ip netns exec "${NETNS_NS[client]}" node "$INTEG_DIR/client.mjs" --url "http://$SERVER_IP:$SERVER_PORT/mcp" \
	--record "$WORK/record.json" --mix "$MIX" --repeat 7200 --delay-ms "$DELAY_MS" \
	--max-seconds "$DEMO_SECONDS" --quiet >"$WORK/client.log" 2>&1 </dev/null &
CLIENT_PID=$!
# shellcheck disable=SC2016 # expanded at exit, when the pid is known
# shellcheck disable=SC2016 # expanded at exit, when the pid is known
mcpw_on_exit 'stop_pid "$CLIENT_PID" 3'
echo "client: $MIX mix every ${DELAY_MS} ms for up to ${DEMO_SECONDS}s; Ctrl-C to stop"

clear=()
[ -t 1 ] && clear=(--clear)
end=$((SECONDS + DEMO_SECONDS))
while [ "$SECONDS" -lt "$end" ]; do
	sleep 2
	alive "$MCPWIRE_PID" || { echo "mcpwire exited:" >&2; tail -n 20 "$WORK/mcpwire.log" >&2; exit 1; }
	node "$INTEG_DIR/summary.mjs" --metrics-url "$MCPWIRE_URL/metrics" --record "$WORK/record.json" "${clear[@]}" \
		--title "mcpwire demo ($((end - SECONDS > 0 ? end - SECONDS : 0))s left, Ctrl-C to stop)  "
	[ -t 1 ] || echo "----"
	alive "$CLIENT_PID" || { echo "client finished: $(tail -n 3 "$WORK/client.log")"; break; }
done
# One last snapshot after the client stopped and mcpwire settled.
stop_pid "$CLIENT_PID" 3
sleep 2
node "$INTEG_DIR/summary.mjs" --metrics-url "$MCPWIRE_URL/metrics" --record "$WORK/record.json" --title "final: "
