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
# A second scenario ("joined:") then starts a fresh mcpwire while a client,
# paused mid-session (client.mjs --pause-file), holds its connections open: the
# part of the session after the pause must be counted exactly, under the
# fallback server_name "<ip>:<port>", and nothing from before it.
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
#   RUN_TIMEOUT=S     the whole run's budget (default 170)
#   MCPWIRE_TIME_SCALE=N  multiplies every time bound (lib.sh; make vmtest)

set -uo pipefail

INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tap.sh
source "$INTEG_DIR/tap.sh"
tap_lock "$@"
ROOT=$(cd "$INTEG_DIR/../.." && pwd)
MCPWIRE=${MCPWIRE:-$ROOT/build/mcpwire}
MIX=${MIX:-full}
REPEAT=${REPEAT:-2}
KEEP=${KEEP:-0}
SERVER_PORT=3001
SERVER_NAME="mcp-servers/everything"
SERVER_VERSION="2.0.0"

# shellcheck source=netns.sh
source "$INTEG_DIR/netns.sh"
# shellcheck source=lib.sh
source "$INTEG_DIR/lib.sh"
# MCPWIRE_TIME_SCALE (lib.sh) stretches this budget and every wait below.
RUN_BUDGET=$(scaled "${RUN_TIMEOUT:-170}")
DEADLINE=$((SECONDS + RUN_BUDGET))

tap_preflight run.sh ip node curl ss "${PROMETHEUS:-prometheus}"

mcpw_trap_install
WORK=$(mktemp -d /tmp/mcpwire-integration.XXXXXX)
TAP_LOGS=(mcpwire.log server.log prometheus/prometheus.log client.err mcpwire-joined.log client-joined.err)
TAP_LOG_LINES=150
[ "$KEEP" = 1 ] || mcpw_on_exit "rm -rf '$WORK'"
watchdog $((DEADLINE - SECONDS + 10))

# ----------------------------------------------------------------- tests

# 1. the exposition parser the checks rely on
node "$INTEG_DIR/expo-selftest.mjs" >"$WORK/expo.out" 2>&1
tap_feed "$WORK/expo.out"

[ -x "$MCPWIRE" ] || bail "$MCPWIRE exists and is executable" "build it first: make"

# 2. network
if netns_up 2>"$WORK/net.err" && netns_add server 2>>"$WORK/net.err" && netns_add client 2>>"$WORK/net.err"; then
	SERVER_IP=${NETNS_IP[server]}
	ok "network: bridge $NETNS_BRIDGE $NETNS_SUBNET, server ${NETNS_NS[server]} $SERVER_IP, client ${NETNS_NS[client]} ${NETNS_IP[client]}"
else
	bail "network: bridge and two containers" "$(cat "$WORK/net.err")"
fi

# 3. the MCP server
start_everything server "$SERVER_PORT" "$WORK/server.log"
if wait_for 20 "server-everything on :$SERVER_PORT" listening server "$SERVER_PORT"; then
	ok "server-everything listens on $SERVER_IP:$SERVER_PORT in ${NETNS_NS[server]}"
else
	bail "server-everything listens on :$SERVER_PORT" "$(tail -n 20 "$WORK/server.log")"
fi
# reachable across the bridge (before mcpwire starts, so it sees none of this)
code=$(netns_exec client curl -sS -m 3 -o /dev/null -w '%{http_code}' "http://$SERVER_IP:$SERVER_PORT/mcp" 2>&1)
if [ "$code" = 400 ]; then
	ok "client container reaches the server over the bridge (GET /mcp without session -> 400)"
else
	bail "client container reaches the server over the bridge" "expected HTTP 400, observed: $code"
fi

# 4. mcpwire
MCPWIRE_ARGS=${MCPWIRE_ARGS:-}
MCPWIRE_PID=""
# shellcheck disable=SC2016 # expanded at exit, when the pid is known
mcpw_on_exit 'stop_pid "$MCPWIRE_PID" 5'
# start_mcpwire LOG: starts the daemon on a free port; sets MCPWIRE_PID,
# MCPWIRE_PORT, MCPWIRE_URL. Ready means /healthz answers AND the log says
# "capturing": mcpwire binds its HTTP port before it attaches its programs, so
# /healthz alone answers ~0.15 s before anything is captured.
start_mcpwire() {
	local log=$1
	MCPWIRE_PORT=$(free_port)
	MCPWIRE_URL="http://127.0.0.1:$MCPWIRE_PORT"
	# shellcheck disable=SC2086 # word-split on purpose
	# (MCPWIRE_SELFTEST_WORK is for fake-mcpwire.mjs; mcpwire ignores it)
	MCPWIRE_SELFTEST_WORK=$WORK "$MCPWIRE" --listen "127.0.0.1:$MCPWIRE_PORT" ${MCPWIRE_ARGS//\{bridge\}/$NETNS_BRIDGE} >"$log" 2>&1 </dev/null &
	MCPWIRE_PID=$!
}
mcpwire_ready() { grep -q capturing "$1" && http_ok "$MCPWIRE_URL/healthz"; }
ready_or_dead() { mcpwire_ready "$1" || ! alive "$MCPWIRE_PID"; }
# wait_mcpwire LOG NAME: a TAP line; bails when it is not ready within 30 s.
wait_mcpwire() {
	local log=$1 name=$2 i rc=""
	for ((i = 0; i < $(scaled 600); i++)); do ready_or_dead "$log" && break; sleep 0.05; done
	if alive "$MCPWIRE_PID" && mcpwire_ready "$log"; then
		ok "$name --listen 127.0.0.1:$MCPWIRE_PORT answers /healthz and is capturing (pid $MCPWIRE_PID)"
	else
		alive "$MCPWIRE_PID" || { wait "$MCPWIRE_PID"; rc=$?; }
		bail "$name answers /healthz and is capturing within $(scaled 30) s" "mcpwire $(alive "$MCPWIRE_PID" && echo 'still running' || echo "exited with ${rc:-?}")" \
			"$(tail -n 30 "$log")"
	fi
}
start_mcpwire "$WORK/mcpwire.log"
wait_mcpwire "$WORK/mcpwire.log" mcpwire

# 5. Prometheus
PROM_PORT=$(free_port)
PROM_URL="http://127.0.0.1:$PROM_PORT"
start_prometheus "$WORK/prometheus" "127.0.0.1:$MCPWIRE_PORT" "$PROM_PORT"
if wait_for 30 "Prometheus ready" http_ok "$PROM_URL/-/ready" && wait_for 15 "first scrape of mcpwire" prom_up_is_1 "$PROM_URL"; then
	ok "Prometheus on 127.0.0.1:$PROM_PORT scrapes mcpwire every 1s (up=1)"
else
	bail "Prometheus ready and scraping mcpwire" "$(tail -n 20 "$WORK/prometheus/prometheus.log")" \
		"$(curl -sS -m 2 "$PROM_URL/api/v1/targets" 2>&1 | head -c 600)"
fi

# 6. before any MCP traffic: HTTP to /metrics (curl, Prometheus) is not MCP
for _ in 1 2 3; do curl -fsS -m 2 "$MCPWIRE_URL/metrics" >"$WORK/metrics.before" 2>/dev/null; sleep 0.3; done
sleep 1.5 # Prometheus scrapes at least once more meanwhile
curl -fsS -m 2 "$MCPWIRE_URL/metrics" >"$WORK/metrics.before" 2>/dev/null
if ! grep -q '^mcp_[a-z_]*{' "$WORK/metrics.before"; then
	ok "no mcp_* series before the client runs, despite 4 curls and scrapes of /metrics"
else
	not_ok "no mcp_* series before the client runs" "observed:" "$(grep '^mcp_' "$WORK/metrics.before" | head -n 20)"
fi

# 7. the client: the ground truth
time_left || bail "time left for the client" "run.sh ran out of its ${RUN_BUDGET}s budget"
netns_exec client timeout "$(scaled 60)" node "$INTEG_DIR/client.mjs" --url "http://$SERVER_IP:$SERVER_PORT/mcp" \
	--record "$WORK/record.json" --mix "$MIX" --repeat "$REPEAT" --max-seconds "$(scaled 45)" \
	--timeout-ms "$(scaled 10000)" --quiet >"$WORK/client.out" 2>"$WORK/client.err"
rc=$?
if [ "$rc" = 0 ] && [ -s "$WORK/record.json" ]; then
	ok "client.mjs ($MIX mix) ran against http://$SERVER_IP:$SERVER_PORT/mcp from ${NETNS_NS[client]}"
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
	--settle-seconds "$(scaled 8)" --save "$WORK/metrics.after" >"$WORK/check.out" 2>&1
rc=$?
before_fail=$T_FAIL
tap_feed "$WORK/check.out"
if [ "$rc" != 0 ] && [ "$T_FAIL" = "$before_fail" ]; then
	not_ok "check.mjs ran" "exit status $rc without a failed check:" "$(tail -n 20 "$WORK/check.out")"
fi

# 9b. what mcpwire found on this kernel (docs/kernels.md): the start-up line
# and mcpwire_kernel_info{release,features} for the release uname(2) reports;
# every kernel that runs this test has BTF, syscall tracepoints and ring buffers
KI=$(grep -a '^mcpwire_kernel_info{' "$WORK/metrics.after" 2>/dev/null)
grep -a 'hooks attached' "$WORK/mcpwire.log" | sed 's/^/# /'
if [ "$(printf '%s\n' "$KI" | grep -c .)" = 1 ] && [[ $KI == *"release=\"$(uname -r)\""* ]] &&
	[[ $KI =~ features=\"([a-z,]*)\"\}\ 1$ ]] && [[ ,${BASH_REMATCH[1]}, == *,btf,*ringbuf,*tracepoints,* ]]; then
	ok "mcpwire_kernel_info: release $(uname -r), features ${BASH_REMATCH[1]}"
else
	not_ok "mcpwire_kernel_info is 1 with release=\"$(uname -r)\" and features listing btf,ringbuf,tracepoints" \
		"observed: ${KI:-(none)}"
fi

# 10. the daemon survived and stops cleanly
# stop_mcpwire PREFIX: TAP lines "PREFIXmcpwire still running …", "… exits 0 on SIGTERM".
stop_mcpwire() {
	local p=$1 i rc
	if alive "$MCPWIRE_PID"; then
		ok "${p}mcpwire still running after the test traffic"
		kill -TERM "$MCPWIRE_PID"
		for ((i = 0; i < $(scaled 50); i++)); do alive "$MCPWIRE_PID" || break; sleep 0.1; done
		if alive "$MCPWIRE_PID"; then
			not_ok "${p}mcpwire exits within $(scaled 5) s of SIGTERM" "still running; killing it"
			kill -KILL "$MCPWIRE_PID"
			wait "$MCPWIRE_PID" 2>/dev/null
		else
			wait "$MCPWIRE_PID"
			rc=$?
			if [ "$rc" = 0 ]; then ok "${p}mcpwire exits 0 on SIGTERM"; else not_ok "${p}mcpwire exits 0 on SIGTERM" "exit status $rc"; fi
		fi
	else
		wait "$MCPWIRE_PID"
		not_ok "${p}mcpwire still running after the test traffic" "it exited with status $?"
	fi
	MCPWIRE_PID=""
}
stop_mcpwire ""

# ------------------------------------------- scenario 2: connections already open
#
# The same server and network, a fresh mcpwire. A client connects, initializes
# and makes a few calls while no mcpwire runs, then pauses with its keep-alive
# connection and its standalone GET SSE stream open; mcpwire starts; the client
# resumes on the same transport. mcpwire must pick the open connections up on
# their next syscall and count exactly the part after the pause, under the
# fallback server_name (it never saw this session's initialize). The client
# turns server-everything's simulated logging on just before the pause, so the
# GET stream is mid-body (a chunk-size line, then an SSE event) when mcpwire
# first meets it.

# Under MCPWIRE_TIME_SCALE > 1 (make vmtest's emulated guest) mcpwire takes
# tens of seconds to load: the pause outlasts the server's 5 s keep-alive and
# its 1 s logging interval, so two premises of this scenario (a paused
# connection is reused; no notification goes by during the pause) cannot hold.
# They are then reported as TAP skips with the observation, never as passes;
# at scale 1 they are tests as before. For the same reason the simulated
# logging is left off there (a notification written while mcpwire attaches
# may be read by the client before or after the pause), and with it the check
# of notifications on the GET stream met mid-body (15b).
# premise_skip NAME DIAG...: a skip when stretched, a failure otherwise.
premise_skip() {
	local name=$1
	shift
	if [ "$TIME_SCALE" -gt 1 ]; then
		skip "$name" "premise cannot hold with MCPWIRE_TIME_SCALE=$TIME_SCALE (mcpwire loads too slowly)" "$@"
	else
		not_ok "$name" "$@"
	fi
}

J_LOGGING=--logging
[ "$TIME_SCALE" -gt 1 ] && J_LOGGING=""
J_PAUSE=$WORK/joined.pause
J_HOLD=$WORK/joined.hold
J_NAME="$SERVER_IP:$SERVER_PORT"

# ss_conns FILE: the client container's established TCP connections to the
# server, one line each: LOCAL PEER FD BYTES_SENT BYTES_RECEIVED (tcp_info).
ss_conns() {
	netns_exec client ss -HtnpiO state established "( dport = :$SERVER_PORT )" >"$1.raw" 2>&1
	awk '{ fd = "?"; bs = "?"; br = "?"
		if (match($0, /fd=[0-9]+/)) fd = substr($0, RSTART + 3, RLENGTH - 3)
		if (match($0, /bytes_sent:[0-9]+/)) bs = substr($0, RSTART + 11, RLENGTH - 11)
		if (match($0, /bytes_received:[0-9]+/)) br = substr($0, RSTART + 15, RLENGTH - 15)
		print $3, $4, fd, bs, br }' "$1.raw" >"$1"
}
# file_or_dead FILE PID: FILE exists, or PID is gone.
file_or_dead() { [ -e "$1" ] || ! alive "$2"; }
# wait_file SECONDS FILE PID: polls every 50 ms (the client's keep-alive
# connections close after ~4 s idle, so this wait must be short, not 0.2 s steps).
wait_file() {
	local i
	for ((i = 0; i < $(scaled "$1") * 20; i++)); do file_or_dead "$2" "$3" && break; sleep 0.05; done
	[ -e "$2" ]
}

time_left || bail "joined: time left for the second scenario" "run.sh ran out of its ${RUN_BUDGET}s budget"

# 11. the client, up to its pause, with no mcpwire running
alive "${MCPWIRE_PID:-}" && bail "joined: no mcpwire runs before the client pauses" "pid $MCPWIRE_PID"
# shellcheck disable=SC2086 # J_LOGGING: one word or none
ip netns exec "${NETNS_NS[client]}" timeout "$(scaled 60)" node "$INTEG_DIR/client.mjs" --url "http://$SERVER_IP:$SERVER_PORT/mcp" \
	--record "$WORK/record-joined.json" --mix full --repeat 1 --max-seconds "$(scaled 40)" --timeout-ms "$(scaled 10000)" \
	--pause-file "$J_PAUSE" --pause-timeout "$(scaled 30)" --hold-file "$J_HOLD" $J_LOGGING --quiet \
	>"$WORK/client-joined.out" 2>"$WORK/client-joined.err" </dev/null &
J_CLIENT_PID=$!
mcpw_on_exit "stop_pid $J_CLIENT_PID 3"
if wait_file 20 "$J_PAUSE.ready" "$J_CLIENT_PID"; then
	ss_conns "$WORK/ss.pause"
	ok "joined: client paused after initialize, tools/list, 2 calls and toggle-simulated-logging; $(wc -l <"$WORK/ss.pause") TCP connection(s) to $J_NAME open, no mcpwire running"
else
	bail "joined: client pauses within 20 s" "$(cat "$WORK/client-joined.err")" "$(cat "$WORK/record-joined.json" 2>/dev/null)"
fi

# 12. a fresh mcpwire, started while the client is paused
start_mcpwire "$WORK/mcpwire-joined.log"
wait_mcpwire "$WORK/mcpwire-joined.log" "joined: fresh mcpwire"
touch "$J_PAUSE"

# 13. the client resumes, finishes the mix, holds before DELETE for a look at
# its connections, then DELETEs the session and exits
if wait_file 30 "$J_HOLD.ready" "$J_CLIENT_PID"; then ss_conns "$WORK/ss.after"; else : >"$WORK/ss.after"; fi
touch "$J_HOLD"
for ((i = 0; i < $(scaled 300); i++)); do alive "$J_CLIENT_PID" || break; sleep 0.1; done
wait "$J_CLIENT_PID"
rc=$?
if [ "$rc" = 0 ] && [ -s "$WORK/record-joined.json" ]; then
	ok "joined: client.mjs (full mix after the pause) resumed on the same transport, then DELETEd its session"
	node -e 'const r=require(process.argv[1]); const b=r.phases.before, a=r.phases.after;
		console.log("# record before the pause (not for mcpwire): requests " + JSON.stringify(b.requests) + " notifications " + JSON.stringify(b.notifications));
		console.log("# record after the pause (the truth): requests " + JSON.stringify(a.requests));
		console.log("# record after the pause: tools " + JSON.stringify(a.tools));
		console.log("# record after the pause: notifications " + JSON.stringify(a.notifications) + " http " + JSON.stringify(a.http));
		console.log("# pause: " + JSON.stringify(r.pause))' "$WORK/record-joined.json"
else
	bail "joined: client.mjs resumed and finished cleanly" "exit status $rc" "$(cat "$WORK/client-joined.err")" \
		"$(cat "$WORK/record-joined.json" 2>/dev/null)"
fi

# 14. the premise: a TCP connection opened before mcpwire started carried
# requests after it (same 4-tuple, more bytes sent than at the pause)
awk -v srv="$J_NAME" '
	NR == FNR { seen[$1] = 1; fd[$1] = $3; bs[$1] = $4; br[$1] = $5; next }
	{ now[$1] = 1
	  if (!($1 in seen)) { printf "# ss: %s -> %s fd=%s opened after the pause: sent %s B, received %s B\n", $1, srv, $3, $4, $5; next }
	  d = $4 - bs[$1]
	  printf "# ss: %s -> %s fd=%s open at the pause (sent %s B, received %s B), still open after the mix: sent %s B (+%d), received %s B (+%d)%s\n",
		$1, srv, $3, bs[$1], br[$1], $4, d, $5, $5 - br[$1],
		(d > 0 ? " -> reused after mcpwire started" : ($5 > br[$1] ? " -> only received after the pause" : \
		" -> idle after the pause, no bytes either way (as the standalone GET SSE stream is when the server has nothing to send)"))
	  if (d > 0) reused++ }
	END { for (k in seen) if (!(k in now)) printf "# ss: %s -> %s fd=%s open at the pause, closed before the mix ended\n", k, srv, fd[k]
	      print "reused " reused + 0 }' "$WORK/ss.pause" "$WORK/ss.after" >"$WORK/ss.diag"
J_REUSED=$(awk '$1 == "reused" {print $2}' "$WORK/ss.diag")
if [ "${J_REUSED:-0}" -gt 0 ]; then
	ok "joined: $J_REUSED TCP connection(s) open before mcpwire started carried requests after it (ss -tnpi in ${NETNS_NS[client]})"
	grep '^# ' "$WORK/ss.diag"
else
	premise_skip "joined: a TCP connection open before mcpwire started carried requests after it (ss -tnpi in ${NETNS_NS[client]})" \
		"no connection of the pause was reused: the test then proves only new connections" \
		"$(grep '^# ' "$WORK/ss.diag" | sed 's/^# //')" "at the pause:" "$(cat "$WORK/ss.pause.raw")" "after the mix:" "$(cat "$WORK/ss.after.raw")"
fi

# 15. compare with the part after the pause (mcpwire's 1 s dedup window first)
sleep 2
node "$INTEG_DIR/check.mjs" --record "$WORK/record-joined.json" --metrics-url "$MCPWIRE_URL/metrics" \
	--phase after --server-name "$J_NAME" --absent-server "$SERVER_NAME" \
	--settle-seconds "$(scaled 8)" --save "$WORK/metrics.joined" >"$WORK/check-joined.out" 2>&1
rc=$?
before_fail=$T_FAIL
tap_feed "$WORK/check-joined.out" "joined: "
if [ "$rc" != 0 ] && [ "$T_FAIL" = "$before_fail" ]; then
	not_ok "joined: check.mjs ran" "exit status $rc without a failed check:" "$(tail -n 20 "$WORK/check-joined.out")"
fi

# 15b. the GET stream was open before mcpwire and carrying notifications: its
# first bytes seen were the middle of the SSE body (proto/conn.c "joining")
node -e 'const fs = require("fs"), r = require(process.argv[1]), name = process.argv[3];
	const got = r.phases.after.notifications.received["notifications/message"] ?? 0, inPause = r.pause.log_in_pause ?? 0;
	let m = 0;
	for (const l of fs.readFileSync(process.argv[2], "utf8").split("\n"))
		if (l.startsWith("mcp_notifications_total{") && l.includes(`server_name="${name}"`) &&
		    l.includes("method=\"notifications/message\"") && l.includes("direction=\"server_to_client\""))
			m += Number(l.split(" ").pop());
	console.log(`${got} ${m} ${inPause}`);' "$WORK/record-joined.json" "$WORK/metrics.joined" "$J_NAME" >"$WORK/joined.log" 2>&1
read -r J_LOG_GOT J_LOG_M J_LOG_PAUSE <"$WORK/joined.log"
if [ -z "$J_LOGGING" ]; then
	skip "joined: notifications/message on the GET stream open before mcpwire started are counted exactly" "no simulated logging with MCPWIRE_TIME_SCALE=$TIME_SCALE (see premise_skip)"
elif [ "${J_LOG_PAUSE:-x}" != 0 ]; then
	premise_skip "joined: no notifications/message went by while mcpwire was starting" \
		"$(cat "$WORK/joined.log")" "the client got ${J_LOG_PAUSE:-?} during the pause: mcpwire may or may not have seen them"
elif [ "${J_LOG_GOT:-0}" -ge 1 ] && [ "$J_LOG_GOT" = "$J_LOG_M" ]; then
	ok "joined: notifications/message on the GET stream open before mcpwire started: $J_LOG_GOT received after the pause = mcp_notifications_total{server_name=\"$J_NAME\",method=\"notifications/message\",direction=\"server_to_client\"} $J_LOG_M"
else
	not_ok "joined: notifications/message on the GET stream open before mcpwire started are counted exactly" \
		"received after the pause: ${J_LOG_GOT:-?}, mcp_notifications_total: ${J_LOG_M:-?}" "$(cat "$WORK/joined.log")" \
		"$(grep -a 'notifications/message\|mcpwire_parse' "$WORK/metrics.joined")"
fi

# 16. the second daemon survived and stops cleanly
stop_mcpwire "joined: "

finish
