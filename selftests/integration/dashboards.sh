#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# dashboards.sh — every query of the Grafana dashboards (dashboards/*.json)
# returns data from a real Prometheus that scraped a real mcpwire watching
# real MCP traffic. Needs root.
#
# The network and processes of run.sh (netns.sh, lib.sh): server-everything
# in container "server", the SDK client (client.mjs, full mix) in "client",
# build/mcpwire on the host, a private Prometheus scraping it every second.
# DASHBOARD_RESULTS=FILE keeps each panel's latest values (docs/img/).
# Then selftests/deploy/dashboards_query.py runs each panel's query with the
# template variables substituted ($server_name -> the everything server's
# name, $__rate_interval -> 1m, $__range -> 5m) over the client's run, and
# the deploy/docker/healthcheck.sh of the image is tried on the live daemon.
# Prints TAP and "N passed, N failed".
#
# Takes /tmp/mcpwire-integ.lock for its whole run (every mcpwire sees all
# traffic on the host; concurrent tests would count each other's calls).
#
# Environment: MCPWIRE=path, PROMETHEUS=path, KEEP=1 (keep the work dir),
# NETNS_SUBNET_PREFIX=A.B (as run.sh).

set -uo pipefail

INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tap.sh
source "$INTEG_DIR/tap.sh"
tap_lock "$@"
ROOT=$(cd "$INTEG_DIR/../.." && pwd)
MCPWIRE=${MCPWIRE:-$ROOT/build/mcpwire}
KEEP=${KEEP:-0}
SERVER_PORT=3001
SERVER_NAME="mcp-servers/everything"
DEADLINE=$((SECONDS + ${RUN_TIMEOUT:-150}))

# shellcheck source=netns.sh
source "$INTEG_DIR/netns.sh"
# shellcheck source=lib.sh
source "$INTEG_DIR/lib.sh"


tap_preflight dashboards.sh ip node curl ss python3 "${PROMETHEUS:-prometheus}"

mcpw_trap_install
WORK=$(mktemp -d /tmp/mcpwire-dashboards.XXXXXX)
TAP_LOGS=(mcpwire.log server.log prometheus/prometheus.log client-1.err client-2.err)
TAP_LOG_LINES=40
[ "$KEEP" = 1 ] || mcpw_on_exit "rm -rf '$WORK'"
watchdog $((DEADLINE - SECONDS + 10))

# 1. network and server
if netns_up 2>"$WORK/net.err" && netns_add server 2>>"$WORK/net.err" && netns_add client 2>>"$WORK/net.err"; then
	SERVER_IP=${NETNS_IP[server]}
	ok "network: bridge $NETNS_BRIDGE $NETNS_SUBNET, server $SERVER_IP, client ${NETNS_IP[client]}"
else
	bail "network: bridge and two containers" "$(cat "$WORK/net.err")"
fi
start_everything server "$SERVER_PORT" "$WORK/server.log"
wait_for 20 "server-everything" listening server "$SERVER_PORT" ||
	bail "server-everything listens on :$SERVER_PORT" "$(tail -n 20 "$WORK/server.log")"
ok "server-everything listens on $SERVER_IP:$SERVER_PORT"

# 2. mcpwire (ready = "capturing" in its log and /healthz 200)
MCPWIRE_PORT=$(free_port)
MCPWIRE_URL="http://127.0.0.1:$MCPWIRE_PORT"
"$MCPWIRE" --listen "127.0.0.1:$MCPWIRE_PORT" >"$WORK/mcpwire.log" 2>&1 </dev/null &
MCPWIRE_PID=$!
mcpw_on_exit "stop_pid $MCPWIRE_PID 5"
mcpwire_ready() { grep -q capturing "$WORK/mcpwire.log" && http_ok "$MCPWIRE_URL/healthz"; }
ready_or_dead() { mcpwire_ready || ! alive "$MCPWIRE_PID"; }
wait_for 30 "mcpwire capturing" ready_or_dead
if alive "$MCPWIRE_PID" && mcpwire_ready; then
	ok "mcpwire --listen 127.0.0.1:$MCPWIRE_PORT is capturing"
else
	bail "mcpwire is capturing within 30 s" "$(tail -n 20 "$WORK/mcpwire.log")"
fi
# the image's HEALTHCHECK command, on the live daemon
if out=$("$ROOT/deploy/docker/healthcheck.sh" "$MCPWIRE_PORT" 2>&1); then
	ok "deploy/docker/healthcheck.sh $MCPWIRE_PORT: healthy (GET /healthz -> 200 over bash /dev/tcp)"
else
	not_ok "deploy/docker/healthcheck.sh reports the running mcpwire healthy" "$out"
fi
if ! "$ROOT/deploy/docker/healthcheck.sh" "$(free_port)" 2>/dev/null; then
	ok "deploy/docker/healthcheck.sh on a port nobody listens on: unhealthy"
else
	not_ok "deploy/docker/healthcheck.sh on a port nobody listens on: unhealthy" "it said healthy"
fi

# 3. Prometheus
PROM_PORT=$(free_port)
PROM_URL="http://127.0.0.1:$PROM_PORT"
start_prometheus "$WORK/prometheus" "127.0.0.1:$MCPWIRE_PORT" "$PROM_PORT"
if wait_for 30 "Prometheus ready" http_ok "$PROM_URL/-/ready" && wait_for 15 "first scrape" prom_up_is_1 "$PROM_URL"; then
	ok "Prometheus on 127.0.0.1:$PROM_PORT scrapes mcpwire every 1s (up=1)"
else
	bail "Prometheus ready and scraping mcpwire" "$(tail -n 20 "$WORK/prometheus/prometheus.log")"
fi

# 4. traffic: the full mix, twice (errors, progress, a cancelled call,
# sessions). increase() cannot see a series' first increment (it starts at 1
# when mcpwire creates it), so the second run starts only once Prometheus has
# scraped the first run's series, its tool-error one included: otherwise a
# ratio such as errors/calls of a tool that only fails is 0/0 by timing.
prom_has_tool_errors() {
	curl -fsS -m 2 "$1/api/v1/query" \
		--data-urlencode 'query=mcp_tool_calls_total{job="mcpwire",status="error"}' |
		grep -q '"value":\['
}
START=$(date +%s)
rc=0
for run in 1 2; do
	netns_exec client timeout 60 node "$INTEG_DIR/client.mjs" --url "http://$SERVER_IP:$SERVER_PORT/mcp" \
		--record "$WORK/record-$run.json" --mix full --repeat 1 --max-seconds 45 --quiet \
		>"$WORK/client-$run.out" 2>"$WORK/client-$run.err" || rc=$?
	[ "$rc" = 0 ] || break
	# the 1 s dedup window, then a scrape that holds the series
	[ "$run" = 2 ] || wait_for 15 "Prometheus has the first run's series" \
		prom_has_tool_errors "$PROM_URL" || rc=1
done
if [ "$rc" = 0 ]; then
	ok "client.mjs (full mix, 2 sessions, a scrape between them) ran against $SERVER_NAME"
else
	bail "client.mjs ran cleanly" "exit status $rc" "$(tail -n 20 "$WORK"/client-*.err)"
fi
# a session left open, so sessions_active and the per-transport series are
# non-zero while the queries run (client.mjs DELETEs each of its sessions)
netns_exec client timeout 60 node "$INTEG_DIR/client.mjs" --url "http://$SERVER_IP:$SERVER_PORT/mcp" \
	--record "$WORK/record-open.json" --mix basic --repeat 1 --max-seconds 30 \
	--pause-file "$WORK/open.pause" --pause-timeout 30 --quiet >"$WORK/client-open.out" 2>"$WORK/client-open.err" </dev/null &
OPEN_PID=$!
mcpw_on_exit "touch '$WORK/open.pause'; stop_pid $OPEN_PID 3"
wait_for 20 "paused client" test -e "$WORK/open.pause.ready" ||
	not_ok "a second client holds a session open" "$(tail -n 20 "$WORK/client-open.err")"
# mcpwire's 1 s dedup window, then a few more scrapes
sleep 4
END=$(date +%s)
time_left || bail "time left for the queries" "ran out of the ${RUN_TIMEOUT:-150}s budget"

# 5. every panel query
python3 "$ROOT/selftests/deploy/dashboards_query.py" --prom "$PROM_URL" --server-name "$SERVER_NAME" \
	--start "$START" --end "$END" --rate-interval 1m --range 5m \
	--results "${DASHBOARD_RESULTS:-$WORK/results.txt}" >"$WORK/queries.out" 2>&1
rc=$?
before=$T_FAIL
while IFS= read -r line; do
	case $line in
	"ok - "*) ok "${line#ok - }" ;;
	"not ok - "*) not_ok "${line#not ok - }" ;;
	*) echo "$line" ;;
	esac
done <"$WORK/queries.out"
[ "$rc" = 0 ] || [ "$T_FAIL" != "$before" ] || not_ok "dashboards_query.py ran" "exit $rc: $(tail -n 5 "$WORK/queries.out")"

touch "$WORK/open.pause"
finish
