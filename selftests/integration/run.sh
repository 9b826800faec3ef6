#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run.sh — mcpwire's integration test (make integration). Needs root.
#
# Builds a Docker-like network (netns.sh): containers "server" and "client" on
# a bridge. Runs the reference server-everything (Streamable HTTP) in "server",
# build/mcpwire on the host, a private Prometheus scraping mcpwire every second,
# and the official SDK client (client.mjs) in "client". The client's own record
# of what it sent is the ground truth; /metrics and Prometheus must equal it
# exactly (check.mjs). Prints TAP, ends with "N passed, N failed", exits non-zero
# on any failure. docs/testing.md explains each test and how to read failures.
#
# Environment:
#   MCPWIRE=path      the daemon under test (default: build/mcpwire)
#   MCPWIRE_ARGS=...  extra arguments, word-split; {bridge} becomes the
#                     test bridge, e.g. MCPWIRE_ARGS="--bridge {bridge}"
#   PROMETHEUS=path   prometheus binary (default: prometheus in PATH)
#   MIX=basic|full    client call mix (default full: adds progress and a cancelled call)
#   REPEAT=N          sessions the client runs one after another (default 2)
#   KEEP=1            keep the work directory (logs, record, metrics) at exit
#   NETNS_SUBNET_PREFIX=A.B  use A.B.0.0/16 instead of picking a free /16

set -uo pipefail

INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$INTEG_DIR/../.." && pwd)
MCPWIRE=${MCPWIRE:-$ROOT/build/mcpwire}
MIX=${MIX:-full}
REPEAT=${REPEAT:-2}
KEEP=${KEEP:-0}
SERVER_PORT=3001
SERVER_NAME="mcp-servers/everything"
SERVER_VERSION="2.0.0"
DEADLINE=$((SECONDS + ${RUN_TIMEOUT:-170}))

# shellcheck source=netns.sh
source "$INTEG_DIR/netns.sh"
# shellcheck source=lib.sh
source "$INTEG_DIR/lib.sh"

# ------------------------------------------------------------------------ TAP

T_N=0
T_PASS=0
T_FAIL=0
tap_ok() {
	T_N=$((T_N + 1)) T_PASS=$((T_PASS + 1))
	echo "ok $T_N - $*"
}
tap_not_ok() { # NAME [DIAG...]
	local name=$1 l
	shift
	T_N=$((T_N + 1)) T_FAIL=$((T_FAIL + 1))
	echo "not ok $T_N - $name"
	for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#   /'; done
}
# tap_feed FILE: numbers the "ok - " / "not ok - " lines of a helper's output.
tap_feed() {
	local line
	while IFS= read -r line; do
		case $line in
		"ok - "*) tap_ok "${line#ok - }" ;;
		"not ok - "*) tap_not_ok "${line#not ok - }" ;;
		"ok "[0-9]*" - "*) tap_ok "${line#ok * - }" ;;
		"not ok "[0-9]*" - "*) tap_not_ok "${line#not ok * - }" ;;
		1..*) ;;
		*) echo "$line" ;;
		esac
	done <"$1"
}

WORK=""
dump_logs() {
	local f
	[ -n "$WORK" ] || return 0
	for f in mcpwire.log server.log prometheus/prometheus.log client.err; do
		[ -s "$WORK/$f" ] || continue
		echo "----- $f (last 150 lines) -----" >&2
		tail -n 150 "$WORK/$f" >&2
	done
	echo "----- end of logs; work directory: $WORK$([ "$KEEP" = 1 ] || echo ' (removed; KEEP=1 keeps it)') -----" >&2
}

finish() {
	echo "1..$T_N"
	if [ "$T_FAIL" -gt 0 ]; then dump_logs; fi
	echo "$T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ]
	exit $?
}

# bail NAME DIAG...: a failure the rest of the run cannot continue past.
bail() {
	tap_not_ok "$@"
	finish
}

time_left() { [ "$SECONDS" -lt "$DEADLINE" ]; }

# ---------------------------------------------------------------- preflight

if [ "$(id -u)" != 0 ]; then
	echo "Bail out! run.sh needs root (network namespaces, eBPF)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
for bin in ip node curl ss "${PROMETHEUS:-prometheus}"; do
	command -v "$bin" >/dev/null || { echo "Bail out! $bin not found (make test-deps)"; echo "0 passed, 1 failed"; exit 1; }
done
[ -d "$INTEG_DIR/node_modules/@modelcontextprotocol/sdk" ] ||
	{ echo "Bail out! node modules missing: cd selftests/integration && npm ci"; echo "0 passed, 1 failed"; exit 1; }

mcpw_trap_install
WORK=$(mktemp -d /tmp/mcpwire-integration.XXXXXX)
[ "$KEEP" = 1 ] || mcpw_on_exit "rm -rf '$WORK'"
# A last resort against anything hanging: the whole run is bounded.
(
	trap 'kill $sp 2>/dev/null; exit 0' TERM
	sleep $((DEADLINE - SECONDS + 10)) &
	sp=$!
	wait $sp && echo "# run.sh: overall timeout, terminating" >&2 && kill -TERM $$
) 2>/dev/null &
WATCHDOG=$!
mcpw_on_exit "kill $WATCHDOG 2>/dev/null"

# ----------------------------------------------------------------- tests

# 1. the exposition parser the checks rely on
node "$INTEG_DIR/expo-selftest.mjs" >"$WORK/expo.out" 2>&1
tap_feed "$WORK/expo.out"

[ -x "$MCPWIRE" ] || bail "$MCPWIRE exists and is executable" "build it first: make"

# 2. network
if netns_up 2>"$WORK/net.err" && netns_add server 2>>"$WORK/net.err" && netns_add client 2>>"$WORK/net.err"; then
	SERVER_IP=${NETNS_IP[server]}
	tap_ok "network: bridge $NETNS_BRIDGE $NETNS_SUBNET, server ${NETNS_NS[server]} $SERVER_IP, client ${NETNS_NS[client]} ${NETNS_IP[client]}"
else
	bail "network: bridge and two containers" "$(cat "$WORK/net.err")"
fi

# 3. the MCP server
start_everything server "$SERVER_PORT" "$WORK/server.log"
if wait_for 20 "server-everything on :$SERVER_PORT" listening server "$SERVER_PORT"; then
	tap_ok "server-everything listens on $SERVER_IP:$SERVER_PORT in ${NETNS_NS[server]}"
else
	bail "server-everything listens on :$SERVER_PORT" "$(tail -n 20 "$WORK/server.log")"
fi
# reachable across the bridge (before mcpwire starts, so it sees none of this)
code=$(netns_exec client curl -sS -m 3 -o /dev/null -w '%{http_code}' "http://$SERVER_IP:$SERVER_PORT/mcp" 2>&1)
if [ "$code" = 400 ]; then
	tap_ok "client container reaches the server over the bridge (GET /mcp without session -> 400)"
else
	bail "client container reaches the server over the bridge" "expected HTTP 400, observed: $code"
fi

# 4. mcpwire
MCPWIRE_PORT=$(free_port)
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
if alive "$MCPWIRE_PID" && http_ok "$MCPWIRE_URL/healthz"; then
	tap_ok "mcpwire --listen 127.0.0.1:$MCPWIRE_PORT answers /healthz (pid $MCPWIRE_PID)"
else
	alive "$MCPWIRE_PID" || { wait "$MCPWIRE_PID"; MCPWIRE_RC=$?; }
	bail "mcpwire answers /healthz within 30 s" "mcpwire $(alive "$MCPWIRE_PID" && echo 'still running' || echo "exited with ${MCPWIRE_RC:-?}")" \
		"$(tail -n 30 "$WORK/mcpwire.log")"
fi

# 5. Prometheus
PROM_PORT=$(free_port)
PROM_URL="http://127.0.0.1:$PROM_PORT"
start_prometheus "$WORK/prometheus" "127.0.0.1:$MCPWIRE_PORT" "$PROM_PORT"
if wait_for 30 "Prometheus ready" http_ok "$PROM_URL/-/ready" && wait_for 15 "first scrape of mcpwire" prom_up_is_1 "$PROM_URL"; then
	tap_ok "Prometheus on 127.0.0.1:$PROM_PORT scrapes mcpwire every 1s (up=1)"
else
	bail "Prometheus ready and scraping mcpwire" "$(tail -n 20 "$WORK/prometheus/prometheus.log")" \
		"$(curl -sS -m 2 "$PROM_URL/api/v1/targets" 2>&1 | head -c 600)"
fi

# 6. before any MCP traffic: HTTP to /metrics (curl, Prometheus) is not MCP
for _ in 1 2 3; do curl -fsS -m 2 "$MCPWIRE_URL/metrics" >"$WORK/metrics.before" 2>/dev/null; sleep 0.3; done
sleep 1.5 # Prometheus scrapes at least once more meanwhile
curl -fsS -m 2 "$MCPWIRE_URL/metrics" >"$WORK/metrics.before" 2>/dev/null
if ! grep -q '^mcp_[a-z_]*{' "$WORK/metrics.before"; then
	tap_ok "no mcp_* series before the client runs, despite 4 curls and scrapes of /metrics"
else
	tap_not_ok "no mcp_* series before the client runs" "observed:" "$(grep '^mcp_' "$WORK/metrics.before" | head -n 20)"
fi

# 7. the client: the ground truth
time_left || bail "time left for the client" "run.sh ran out of its ${RUN_TIMEOUT:-170}s budget"
netns_exec client timeout 60 node "$INTEG_DIR/client.mjs" --url "http://$SERVER_IP:$SERVER_PORT/mcp" \
	--record "$WORK/record.json" --mix "$MIX" --repeat "$REPEAT" --max-seconds 45 --quiet >"$WORK/client.out" 2>"$WORK/client.err"
rc=$?
if [ "$rc" = 0 ] && [ -s "$WORK/record.json" ]; then
	tap_ok "client.mjs ($MIX mix) ran against http://$SERVER_IP:$SERVER_PORT/mcp from ${NETNS_NS[client]}"
	node -e 'const r=require(process.argv[1]);
		console.log("# record: requests " + JSON.stringify(r.requests));
		console.log("# record: tools " + JSON.stringify(r.tools));
		console.log("# record: notifications " + JSON.stringify(r.notifications) + " serverInfo " + JSON.stringify(r.server_info))' \
		"$WORK/record.json"
else
	bail "client.mjs ran cleanly" "exit status $rc" "$(cat "$WORK/client.err")" "$(cat "$WORK/record.json" 2>/dev/null)"
fi

# 8. let mcpwire finish (its 1 s dedup window) and Prometheus scrape twice
sleep 2
curl -fsS -m 2 "$MCPWIRE_URL/metrics" >/dev/null 2>&1 # more non-MCP HTTP while traffic is fresh
sleep 2

# 9. compare
node "$INTEG_DIR/check.mjs" --record "$WORK/record.json" --metrics-url "$MCPWIRE_URL/metrics" \
	--server-name "$SERVER_NAME" --server-version "$SERVER_VERSION" --prom-url "$PROM_URL" \
	--settle-seconds 8 --save "$WORK/metrics.after" >"$WORK/check.out" 2>&1
rc=$?
before_fail=$T_FAIL
tap_feed "$WORK/check.out"
if [ "$rc" != 0 ] && [ "$T_FAIL" = "$before_fail" ]; then
	tap_not_ok "check.mjs ran" "exit status $rc without a failed check:" "$(tail -n 20 "$WORK/check.out")"
fi

# 10. the daemon survived and stops cleanly
if alive "$MCPWIRE_PID"; then
	tap_ok "mcpwire still running after the test traffic"
	kill -TERM "$MCPWIRE_PID"
	for ((i = 0; i < 50; i++)); do alive "$MCPWIRE_PID" || break; sleep 0.1; done
	if alive "$MCPWIRE_PID"; then
		tap_not_ok "mcpwire exits within 5 s of SIGTERM" "still running; killing it"
		kill -KILL "$MCPWIRE_PID"
		wait "$MCPWIRE_PID" 2>/dev/null
	else
		wait "$MCPWIRE_PID"
		rc=$?
		if [ "$rc" = 0 ]; then tap_ok "mcpwire exits 0 on SIGTERM"; else tap_not_ok "mcpwire exits 0 on SIGTERM" "exit status $rc"; fi
	fi
else
	wait "$MCPWIRE_PID"
	tap_not_ok "mcpwire still running after the test traffic" "it exited with status $?"
fi

finish
