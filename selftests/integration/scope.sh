#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# scope.sh — --network NAME / --bridge IFNAME (docs/scope.md). Needs root.
#
# A Docker-like network (netns.sh) with containers "a" (server-everything),
# "b" (json-server named scope-b, plus a stdio server-memory spawned by a
# client inside b) and "cl" (the HTTP clients), all on bridge br-<12 hex>.
# Outside it: a json-server named scope-host on the host's loopback, one named
# scope-outside in a namespace with no veth on the bridge, and a stdio
# server-memory on the host. A fake Docker Engine API (docker-api.mjs) on a
# unix socket answers the network lookup.
#
# mcpwire --network NAME --docker-socket SOCK must count exactly what the
# in-scope clients recorded (client.mjs), per server, and nothing of the
# others (scope-check.mjs). Then a container "c" joins the bridge while it
# runs: its server's calls are counted; its veth is deleted: later calls in it
# are not, and what was counted stays. Then the same with --bridge IFNAME, and
# the start-up errors: an unknown network, no Docker API on the socket, no
# such bridge — each one line and a non-zero exit.
#
# Environment: MCPWIRE (default build/mcpwire), KEEP=1 keeps the work
# directory, NETNS_SUBNET_PREFIX=A.B as in netns.sh.

set -uo pipefail

INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$INTEG_DIR/../.." && pwd)
MCPWIRE=${MCPWIRE:-$ROOT/build/mcpwire}
KEEP=${KEEP:-0}
DEADLINE=$((SECONDS + ${RUN_TIMEOUT:-240}))
NETWORK=mcpw-scope-net
MODS=$INTEG_DIR/node_modules/@modelcontextprotocol

# shellcheck source=tap.sh
source "$INTEG_DIR/tap.sh"
tap_lock "$@"
tap_preflight scope.sh ip node curl ss
# shellcheck source=netns.sh
source "$INTEG_DIR/netns.sh"
# shellcheck source=lib.sh
source "$INTEG_DIR/lib.sh"

NODE=$(command -v node)
TAP_LOGS=(mcpwire.log docker-api.log server-a.log server-b.log server-host.log server-outside.log server-c.log)

mcpw_trap_install
WORK=$(mktemp -d /tmp/mcpwire-scope.XXXXXX)
[ "$KEEP" = 1 ] || mcpw_on_exit "rm -rf '$WORK'"
watchdog $((DEADLINE - SECONDS + 10))

# ------------------------------------------------------------------ network

if netns_up 2>"$WORK/net.err" && netns_add a 2>>"$WORK/net.err" && netns_add b 2>>"$WORK/net.err" &&
	netns_add cl 2>>"$WORK/net.err"; then
	ok "network: bridge $NETNS_BRIDGE with containers a ${NETNS_IP[a]}, b ${NETNS_IP[b]}, cl ${NETNS_IP[cl]}"
else
	bail "network: bridge and three containers" "$(cat "$WORK/net.err")"
fi
# a namespace of its own, with no interface on the bridge (netns_down removes it)
OUT_NS="mcpw-${NETNS_RUN_ID:0:8}-outside"
if ip netns add "$OUT_NS" && ip -n "$OUT_NS" link set lo up; then
	NETNS_CREATED_NS+=("$OUT_NS")
	NETNS_NS[outside]=$OUT_NS
	ok "namespace $OUT_NS, not on the bridge"
else
	bail "namespace $OUT_NS"
fi

# ------------------------------------------------------------------ servers

# json_server CTR PORT HOST NAME LOG: json-server.mjs named NAME in container
# CTR ("host": the host's namespace).
json_server() {
	local ctr=$1 port=$2 host=$3 name=$4 log=$5 pid
	if [ "$ctr" = host ]; then
		"$NODE" "$INTEG_DIR/json-server.mjs" --port "$port" --host "$host" --name "$name" >"$log" 2>&1 </dev/null &
	else
		ip netns exec "${NETNS_NS[$ctr]}" "$NODE" "$INTEG_DIR/json-server.mjs" --port "$port" --host "$host" \
			--name "$name" >"$log" 2>&1 </dev/null &
	fi
	pid=$!
	mcpw_on_exit "stop_pid $pid 3"
	echo "$pid"
}
host_listening() { ss -Hltn "sport = :$1" | grep -q LISTEN; }

start_everything a 3001 "$WORK/server-a.log"
json_server b 3002 0.0.0.0 scope-b "$WORK/server-b.log" >/dev/null
json_server outside 3003 127.0.0.1 scope-outside "$WORK/server-outside.log" >/dev/null
HOST_PORT=$(free_port)
json_server host "$HOST_PORT" 127.0.0.1 scope-host "$WORK/server-host.log" >/dev/null
if wait_for 20 "server-everything in a" listening a 3001 && wait_for 20 "json-server in b" listening b 3002 &&
	wait_for 20 "json-server outside" listening outside 3003 && wait_for 20 "json-server on the host" host_listening "$HOST_PORT"; then
	ok "servers: everything in a :3001, scope-b in b :3002, scope-outside in $OUT_NS 127.0.0.1:3003, scope-host on the host's 127.0.0.1:$HOST_PORT"
else
	bail "servers listen" "$(tail -n 5 "$WORK"/server-*.log)"
fi

# the Docker Engine API, as far as --network needs it
DOCKER_SOCK=$WORK/docker.sock
"$NODE" "$INTEG_DIR/docker-api.mjs" --socket "$DOCKER_SOCK" --network "$NETWORK=$NETNS_RUN_ID" >"$WORK/docker-api.log" 2>&1 </dev/null &
DOCKER_PID=$!
mcpw_on_exit "stop_pid $DOCKER_PID 3"
if wait_for 10 "the fake Docker API" test -S "$DOCKER_SOCK"; then
	ok "Docker Engine API on $DOCKER_SOCK knows network $NETWORK (Id ${NETNS_RUN_ID:0:12}…, bridge $NETNS_BRIDGE)"
else
	bail "fake Docker Engine API listens" "$(cat "$WORK/docker-api.log")"
fi

# ------------------------------------------------------------------ mcpwire

MCPWIRE_PID=""
# shellcheck disable=SC2016 # expanded at exit
mcpw_on_exit 'stop_pid "$MCPWIRE_PID" 5'
# start_mcpwire LOG ARGS...: on a free port; sets MCPWIRE_PID, MCPWIRE_URL.
start_mcpwire() {
	local log=$1 i
	shift
	MCPWIRE_PORT=$(free_port)
	MCPWIRE_URL="http://127.0.0.1:$MCPWIRE_PORT"
	"$MCPWIRE" --listen "127.0.0.1:$MCPWIRE_PORT" "$@" >"$log" 2>&1 </dev/null &
	MCPWIRE_PID=$!
	for ((i = 0; i < 600; i++)); do
		{ grep -q capturing "$log" && http_ok "$MCPWIRE_URL/healthz"; } && return 0
		alive "$MCPWIRE_PID" || return 1
		sleep 0.05
	done
	return 1
}
stop_mcpwire() {
	local rc
	[ -n "$MCPWIRE_PID" ] || return 0
	if ! alive "$MCPWIRE_PID"; then
		wait "$MCPWIRE_PID"
		not_ok "$1: mcpwire still running at the end" "it exited with status $?"
	else
		kill -TERM "$MCPWIRE_PID"
		wait "$MCPWIRE_PID"
		rc=$?
		if [ "$rc" = 0 ]; then ok "$1: mcpwire exits 0 on SIGTERM"; else not_ok "$1: mcpwire exits 0 on SIGTERM" "status $rc"; fi
	fi
	MCPWIRE_PID=""
}
metric() { # NAME: the value of an unlabelled series, or of the first matching line
	curl -fsS -m 2 "$MCPWIRE_URL/metrics" | awk -v n="$1" '$1 == n {print $2; exit}'
}
metric_is() { [ "$(metric "$1")" = "$2" ]; }

# ------------------------------------------------------------------ clients

# client REC CTR URL MIX: one HTTP client session (repeat 1) from CTR.
client() {
	local rec=$1 ctr=$2 url=$3 mix=$4 rc
	local cmd=(timeout 60 "$NODE" "$INTEG_DIR/client.mjs" --url "$url" --record "$rec" --mix "$mix" --repeat 1 --max-seconds 40 --quiet)
	if [ "$ctr" = host ]; then "${cmd[@]}"; else ip netns exec "${NETNS_NS[$ctr]}" "${cmd[@]}"; fi \
		>"$rec.out" 2>"$rec.err" </dev/null
	rc=$?
	if [ "$rc" = 0 ] && [ -s "$rec" ]; then
		ok "$P: client in $ctr ran the $mix mix against $url"
	else
		not_ok "$P: client in $ctr ran against $url" "exit status $rc" "$(tail -n 10 "$rec.err")"
	fi
}
# stdio_client REC CTR: client.mjs --stdio spawning server-memory in CTR.
stdio_client() {
	local rec=$1 ctr=$2 rc
	local cmd=(timeout 60 "$NODE" "$INTEG_DIR/client.mjs" --stdio --record "$rec" --mix memory --repeat 1 --max-seconds 40
		--quiet --env "MEMORY_FILE_PATH=$WORK/memory-$ctr.jsonl" -- "$NODE" "$MODS/server-memory/dist/index.js")
	if [ "$ctr" = host ]; then "${cmd[@]}"; else ip netns exec "${NETNS_NS[$ctr]}" "${cmd[@]}"; fi \
		>"$rec.out" 2>"$rec.err" </dev/null
	rc=$?
	if [ "$rc" = 0 ] && [ -s "$rec" ]; then
		ok "$P: stdio client in $ctr ran server-memory"
	else
		not_ok "$P: stdio client in $ctr ran server-memory" "exit status $rc" "$(tail -n 10 "$rec.err")"
	fi
}
# scope_check ARGS...: scope-check.mjs against the running mcpwire, into TAP.
scope_check() {
	node "$INTEG_DIR/scope-check.mjs" --metrics-url "$MCPWIRE_URL/metrics" --label "$P" "$@" >"$WORK/check.out" 2>&1
	local rc=$? before=$T_FAIL
	tap_feed "$WORK/check.out"
	if [ "$rc" != 0 ] && [ "$T_FAIL" = "$before" ]; then not_ok "$P: scope-check.mjs ran" "$(tail -n 10 "$WORK/check.out")"; fi
}
# traffic DIR: every server once, in scope and out of it.
traffic() {
	local d=$1
	mkdir -p "$d"
	client "$d/a.json" cl "http://${NETNS_IP[a]}:3001/mcp" basic
	client "$d/b.json" cl "http://${NETNS_IP[b]}:3002/mcp" json
	stdio_client "$d/stdio-b.json" b
	client "$d/host.json" host "http://127.0.0.1:$HOST_PORT/mcp" json
	client "$d/outside.json" outside "http://127.0.0.1:3003/mcp" json
	stdio_client "$d/stdio-host.json" host
}

# ------------------------------------------ scenario 1: --network, join, leave

P=network
if start_mcpwire "$WORK/mcpwire.log" --network "$NETWORK" --docker-socket "$DOCKER_SOCK"; then
	ok "$P: mcpwire --network $NETWORK --docker-socket $DOCKER_SOCK is capturing"
else
	bail "$P: mcpwire --network $NETWORK starts" "$(cat "$WORK/mcpwire.log")"
fi
line=$(grep 'scope:' "$WORK/mcpwire.log")
if [[ $line == *"bridge $NETNS_BRIDGE (Docker network $NETWORK)"*"3 port(s), 3 network namespace(s) in scope"* ]]; then
	ok "$P: start-up line names the bridge and 3 namespaces in scope: ${line#mcpwire: }"
else
	not_ok "$P: start-up line names bridge $NETNS_BRIDGE and 3 namespaces" "observed: $line"
fi
if grep -q "GET /networks/$NETWORK" "$WORK/docker-api.log"; then
	ok "$P: mcpwire asked the Docker Engine API for /networks/$NETWORK"
else
	not_ok "$P: mcpwire asked the Docker Engine API for the network" "$(cat "$WORK/docker-api.log")"
fi
if wait_for 5 "mcpwire_scope_namespaces 3" metric_is mcpwire_scope_namespaces 3; then
	ok "$P: mcpwire_scope_namespaces 3 (a, b, cl)"
else
	not_ok "$P: mcpwire_scope_namespaces 3" "observed: $(metric mcpwire_scope_namespaces)"
fi

traffic "$WORK/net"
N=$WORK/net
scope_check --expect "mcp-servers/everything=$N/a.json" --expect "scope-b=$N/b.json" \
	--expect "memory-server=$N/stdio-b.json" --absent scope-host --absent scope-outside \
	--save "$WORK/metrics-net.txt"

# a container joins while mcpwire runs
time_left || bail "$P: time left" "scope.sh ran out of its ${RUN_TIMEOUT:-240}s budget"
rescans_before=$(curl -fsS -m 2 "$MCPWIRE_URL/metrics" | awk '$1 == "mcpwire_scope_rescans_total{trigger=\"link\"}" {print $2}')
if netns_add c 2>"$WORK/net-c.err"; then
	ok "$P: container c ${NETNS_IP[c]} added to $NETNS_BRIDGE while mcpwire runs"
else
	bail "$P: container c added" "$(cat "$WORK/net-c.err")"
fi
if wait_for 10 "mcpwire_scope_namespaces 4" metric_is mcpwire_scope_namespaces 4; then
	rescans=$(curl -fsS -m 2 "$MCPWIRE_URL/metrics" | awk '$1 == "mcpwire_scope_rescans_total{trigger=\"link\"}" {print $2}')
	if [ "${rescans:-0}" -gt "${rescans_before:-0}" ]; then
		ok "$P: c is in scope (mcpwire_scope_namespaces 4) after a link-event rescan ($rescans_before -> $rescans)"
	else
		not_ok "$P: c came into scope through a link event" "rescans{trigger=link}: $rescans_before -> $rescans"
	fi
else
	not_ok "$P: c is in scope within 10 s" "mcpwire_scope_namespaces $(metric mcpwire_scope_namespaces)"
fi
json_server c 3004 0.0.0.0 scope-late "$WORK/server-c.log" >/dev/null
wait_for 20 "json-server in c" listening c 3004 || not_ok "$P: json-server in c listens" "$(tail -n 5 "$WORK/server-c.log")"
client "$N/late-in.json" cl "http://${NETNS_IP[c]}:3004/mcp" json
scope_check --expect "mcp-servers/everything=$N/a.json" --expect "scope-b=$N/b.json" \
	--expect "memory-server=$N/stdio-b.json" --expect "scope-late=$N/late-in.json" \
	--absent scope-host --absent scope-outside
# a second session from inside c, over its loopback, held open after its mix
# (client.mjs --hold-file) until c has left the scope
HOLD=$WORK/late.hold
ip netns exec "${NETNS_NS[c]}" timeout 60 "$NODE" "$INTEG_DIR/client.mjs" --url "http://127.0.0.1:3004/mcp" \
	--record "$N/late-held.json" --mix json --repeat 1 --max-seconds 40 --hold-file "$HOLD" --quiet \
	>"$N/late-held.out" 2>"$N/late-held.err" </dev/null &
HELD_PID=$!
mcpw_on_exit "stop_pid $HELD_PID 3"
if wait_for 30 "the held client's mix" test -e "$HOLD.ready"; then
	ok "$P: a client inside c ran its mix over c's loopback and holds its connections open"
else
	not_ok "$P: the held client in c reaches its hold" "$(tail -n 10 "$N/late-held.err")"
fi
sleep 2 # the dedup window (1 s): the held session's last messages are counted
curl -fsS -m 2 "$MCPWIRE_URL/metrics" | grep -E '^mcp_(sessions_active|requests_in_flight)\{server_name="scope-late"' >"$WORK/late-gauges.before"

# ... and leaves: its veth is deleted, the namespace and its server stay
ip link del dev "${NETNS_VETH[c]}"
if wait_for 10 "mcpwire_scope_namespaces 3" metric_is mcpwire_scope_namespaces 3; then
	ok "$P: c left the scope when its veth was deleted (mcpwire_scope_namespaces 3)"
else
	not_ok "$P: c leaves the scope within 10 s" "mcpwire_scope_namespaces $(metric mcpwire_scope_namespaces)"
fi
v=$(metric mcpwire_scope_connections_filtered_total)
if [ "${v:-0}" -gt 0 ]; then
	ok "$P: the held client's open connections were dropped when c left (mcpwire_scope_connections_filtered_total $v)"
else
	not_ok "$P: the held client's open connections are dropped when c leaves" "mcpwire_scope_connections_filtered_total ${v:-none}"
fi
touch "$HOLD" # the held client ends its session (DELETE) out of scope
wait "$HELD_PID" || not_ok "$P: the held client in c finished" "$(tail -n 10 "$N/late-held.err")"
curl -fsS -m 2 "$MCPWIRE_URL/metrics" | grep -E '^mcp_(sessions_active|requests_in_flight)\{server_name="scope-late"' >"$WORK/late-gauges.after"
echo "# scope-late gauges while held: $(tr '\n' ' ' <"$WORK/late-gauges.before")"
echo "# scope-late gauges after c left: $(tr '\n' ' ' <"$WORK/late-gauges.after")"
# only loopback is left in c: client and server both there
client "$N/late-out.json" c "http://127.0.0.1:3004/mcp" json
scope_check --expect "mcp-servers/everything=$N/a.json" --expect "scope-b=$N/b.json" \
	--expect "memory-server=$N/stdio-b.json" --expect "scope-late=$N/late-in.json,$N/late-held.json" \
	--absent scope-host --absent scope-outside --save "$WORK/metrics-net-final.txt"
stop_mcpwire "$P"

# ------------------------------------------------------- scenario 2: --bridge

time_left || bail "bridge: time left" "scope.sh ran out of its ${RUN_TIMEOUT:-240}s budget"
P=bridge
if start_mcpwire "$WORK/mcpwire-bridge.log" --bridge "$NETNS_BRIDGE"; then
	ok "$P: mcpwire --bridge $NETNS_BRIDGE is capturing: $(grep 'scope:' "$WORK/mcpwire-bridge.log")"
else
	bail "$P: mcpwire --bridge starts" "$(cat "$WORK/mcpwire-bridge.log")"
fi
traffic "$WORK/br"
B=$WORK/br
scope_check --expect "mcp-servers/everything=$B/a.json" --expect "scope-b=$B/b.json" \
	--expect "memory-server=$B/stdio-b.json" --absent scope-host --absent scope-outside --absent scope-late \
	--save "$WORK/metrics-bridge.txt"
stop_mcpwire "$P"

# ------------------------------------------------------- start-up errors

# one_line_error NAME ARGS...: non-zero exit, exactly one line on stderr.
one_line_error() {
	local name=$1 rc lines
	shift
	timeout 20 "$MCPWIRE" --listen "127.0.0.1:$(free_port)" "$@" >"$WORK/err.out" 2>"$WORK/err.err" </dev/null
	rc=$?
	lines=$(wc -l <"$WORK/err.err")
	if [ "$rc" != 0 ] && [ "$rc" != 124 ] && [ "$lines" = 1 ] && grep -q -- "$EXPECT" "$WORK/err.err"; then
		ok "errors: $name: exit $rc, one line: $(cat "$WORK/err.err")"
	else
		not_ok "errors: $name: non-zero exit and one line mentioning '$EXPECT'" "exit $rc, $lines line(s):" "$(cat "$WORK/err.err")"
	fi
}
EXPECT="no-such-net" one_line_error "unknown network" --network no-such-net --docker-socket "$DOCKER_SOCK"
EXPECT="--docker-socket" one_line_error "no Docker API on the socket" --network "$NETWORK" --docker-socket "$WORK/nothing.sock"
EXPECT="br-nosuch0" one_line_error "no such bridge" --bridge br-nosuch0
EXPECT="not a bridge" one_line_error "--bridge on an interface that is not a bridge" --bridge lo
EXPECT="give one" one_line_error "--network and --bridge together" --network "$NETWORK" --bridge "$NETNS_BRIDGE"
EXPECT="--read" one_line_error "--bridge with --read" --bridge "$NETNS_BRIDGE" --read "$WORK/none.pcap"

finish
