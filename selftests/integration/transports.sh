#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# transports.sh — the legacy HTTP+SSE transport and requests the server sends
# to the client, against the real server-everything through the official SDK
# client, the client's record as ground truth (check.mjs). Needs root.
#
# The network of run.sh (netns.sh): container "server" runs server-everything
# twice, in sse mode (/sse + /message?sessionId=, mcp-wire.md §5 "Legacy
# HTTP+SSE") on 3001 and in streamableHttp mode (/mcp) on 3002; the client
# runs in container "client"; build/mcpwire on the host, a fresh one per part
# (both servers call themselves "mcp-servers/everything"):
#
#   sse:        client.mjs --transport sse --mix full --server-requests,
#               2 sessions. Every server message, answers included, comes on
#               the GET stream, while the client's messages are POSTs on other
#               TCP connections (the GET's connection is busy with its endless
#               response, and the SDK does not pipeline): pairing crosses
#               connections through the sessionId. Checked while the first
#               session is held open (mcp_sessions_active{transport="sse"} 1,
#               the client's connections) and after both ended (the counts,
#               transport="sse", sessions back to 0 when the GET streams close).
#   streamable: client.mjs --mix full --server-requests, 2 sessions: the
#               server's sampling/createMessage and elicitation/create ride
#               the SSE answer of the POSTed tools/call, the client answers
#               each with a POST of its own (202). With --tasks (mcp-wire.md
#               §2 "Tasks"): per session a task-augmented tools/call of
#               simulate-research-query (4 s of work), tasks/get, a second
#               task cancelled with tasks/cancel, tasks/list, the blocking
#               tasks/result, and three refused tasks/* requests. Besides
#               check.mjs's equality, the task's tools/call must be timed to
#               the task's creation (< 0.5 s, docs/metrics.md "Tasks") and
#               tasks/result to the client's own wait.
#
# In both, the client declares sampling, elicitation and roots and answers
# each request after 250 ms, so the checks can tell that mcpwire counted the
# server's requests with their own method and status, timed them from the
# server's request to the client's answer, and that the tools/call around
# them lasted longer (mcp-wire.md §7, "Nested requests"). server-everything
# 2026.8.31 has no tool that makes it send ping, so none is tested here.
#
# Every mcpwire sees all traffic on the host, so the whole script runs under
# flock /tmp/mcpwire-integ.lock. TAP output, "N passed, N failed" at the end.
#
# Environment: MCPWIRE (binary), KEEP=1 keeps the work directory.

set -uo pipefail

INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tap.sh
source "$INTEG_DIR/tap.sh"
tap_lock "$@"
ROOT=$(cd "$INTEG_DIR/../.." && pwd)
MCPWIRE=${MCPWIRE:-$ROOT/build/mcpwire}
KEEP=${KEEP:-0}
SSE_PORT=3001
HTTP_PORT=3002
SERVER_NAME="mcp-servers/everything"
SERVER_VERSION="2.0.0"
DEADLINE=$((SECONDS + 60))

# shellcheck source=netns.sh
source "$INTEG_DIR/netns.sh"
# shellcheck source=lib.sh
source "$INTEG_DIR/lib.sh"

tap_preflight transports.sh ip node curl ss

mcpw_trap_install
WORK=$(mktemp -d /tmp/mcpwire-transports.XXXXXX)
TAP_LOGS=("*.log" "*.err")
TAP_LOG_LINES=60
[ "$KEEP" = 1 ] || mcpw_on_exit "rm -rf '$WORK'"
watchdog 90

# ------------------------------------------------------------ network, servers

netns_up 2>"$WORK/net.err" && netns_add server 2>>"$WORK/net.err" && netns_add client 2>>"$WORK/net.err" ||
	bail "network: bridge and two containers" "$(cat "$WORK/net.err")"
SERVER_IP=${NETNS_IP[server]}
start_everything server "$SSE_PORT" "$WORK/server-sse.log" sse
start_everything server "$HTTP_PORT" "$WORK/server-http.log" streamableHttp
if wait_for 20 "server-everything sse" listening server "$SSE_PORT" &&
	wait_for 20 "server-everything streamableHttp" listening server "$HTTP_PORT"; then
	ok "network $NETNS_BRIDGE: server-everything sse on $SERVER_IP:$SSE_PORT, streamableHttp on $SERVER_IP:$HTTP_PORT"
else
	bail "server-everything listens" "$(tail -n 20 "$WORK/server-sse.log" "$WORK/server-http.log")"
fi

MCPWIRE_PID=""
# shellcheck disable=SC2016 # expanded at exit, when the pid is known
mcpw_on_exit 'stop_pid "$MCPWIRE_PID" 5'
# start_mcpwire LOG NAME: a TAP line; bails when not capturing within 30 s.
start_mcpwire() {
	local log=$1 i
	MCPWIRE_PORT=$(free_port)
	MCPWIRE_URL="http://127.0.0.1:$MCPWIRE_PORT"
	"$MCPWIRE" --listen "127.0.0.1:$MCPWIRE_PORT" >"$log" 2>&1 </dev/null &
	MCPWIRE_PID=$!
	for ((i = 0; i < 600; i++)); do
		if grep -q capturing "$log" && http_ok "$MCPWIRE_URL/healthz"; then
			ok "$2: mcpwire on 127.0.0.1:$MCPWIRE_PORT is capturing (pid $MCPWIRE_PID)"
			return 0
		fi
		alive "$MCPWIRE_PID" || break
		sleep 0.05
	done
	bail "$2: mcpwire capturing within 30 s" "$(tail -n 20 "$log")"
}
# stop_mcpwire NAME: TAP lines: it survived the traffic and exits 0 on SIGTERM.
stop_mcpwire() {
	local rc
	if ! alive "$MCPWIRE_PID"; then
		wait "$MCPWIRE_PID"
		not_ok "$1: mcpwire still running after the traffic" "exited with status $?"
	else
		stop_pid "$MCPWIRE_PID" 5
		rc=$?
		if [ "$rc" = 0 ]; then ok "$1: mcpwire still running after the traffic, exits 0 on SIGTERM"; else
			not_ok "$1: mcpwire exits 0 on SIGTERM" "exit status $rc"; fi
	fi
	MCPWIRE_PID=""
}
# metric_sum FILE NAME LABEL_SUBSTRING...: sum of the samples of NAME whose
# line holds every substring.
metric_sum() {
	local f=$1 name=$2
	shift 2
	awk -v n="$name" -v want="$(printf '%s\034' "$@")" '
		BEGIN { k = split(want, w, "\034") - 1 }
		index($0, n "{") == 1 { for (i = 1; i <= k; i++) if (!index($0, w[i])) next; s += $NF; hit = 1 }
		END { print hit ? s + 0 : "absent" }' "$f"
}
# run_check PART RECORD TRANSPORT: check.mjs against the record, numbered here
run_check() {
	local part=$1 rc before=$T_FAIL
	node "$INTEG_DIR/check.mjs" --record "$2" --metrics-url "$MCPWIRE_URL/metrics" \
		--server-name "$SERVER_NAME" --server-version "$SERVER_VERSION" --transport "$3" \
		--settle-seconds 8 --save "$WORK/metrics.$part" >"$WORK/check-$part.out" 2>&1
	rc=$?
	tap_feed "$WORK/check-$part.out" "$part: "
	if [ "$rc" != 0 ] && [ "$T_FAIL" = "$before" ]; then
		not_ok "$part: check.mjs ran" "exit status $rc without a failed check:" "$(tail -n 20 "$WORK/check-$part.out")"
	fi
}
# print_record FILE: the ground truth as # lines
print_record() {
	node -e 'const r = require(process.argv[1]);
		console.log("# record: requests " + JSON.stringify(r.requests));
		console.log("# record: server_answers " + JSON.stringify(r.server_answers) + " answer ms " + JSON.stringify(r.server_answer_ms));
		console.log("# record: tools " + JSON.stringify(r.tools));
		console.log("# record: notifications " + JSON.stringify(r.notifications) + (r.late_progress ? ` (${r.late_progress} progress after its result)` : ""))' "$1"
}

# check_tasks RECORD METRICS: the --tasks flow ran as planned (2 sessions),
# and mcpwire timed the task's tools/call to its creation and tasks/result to
# the client's wait (check.mjs has compared the counts with the record).
check_tasks() {
	local want got tool='simulate-research-query' sum cnt rs
	want='{"tasks/get":{"ok":4,"error":2,"cancelled":0},"tasks/cancel":{"ok":2,"error":2,"cancelled":0},"tasks/list":{"ok":2,"error":0,"cancelled":0},"tasks/result":{"ok":2,"error":2,"cancelled":0},"tool":{"ok":4,"error":0,"cancelled":0}}'
	got=$(node -e 'const r = require(process.argv[1]), q = r.requests, o = {};
		for (const m of ["tasks/get", "tasks/cancel", "tasks/list", "tasks/result"]) o[m] = q[m];
		o.tool = r.tools[process.argv[2]];
		console.log(JSON.stringify(o))' "$1" "$tool")
	if [ "$got" = "$want" ]; then
		ok "streamable: the client's record holds the task flow $got"
	else
		not_ok "streamable: the client's record holds the task flow" "want $want" "got  $got"
	fi
	sum=$(metric_sum "$2" mcp_tool_call_duration_seconds_sum "tool_name=\"$tool\"")
	cnt=$(metric_sum "$2" mcp_tool_call_duration_seconds_count "tool_name=\"$tool\"")
	if [ "$cnt" = 4 ] && awk -v s="$sum" 'BEGIN { exit !(s / 4 < 0.5) }'; then
		ok "streamable: $tool timed to the task's creation: 4 calls, ${sum} s in all"
	else
		not_ok "streamable: $tool timed to the task's creation (4 calls, < 0.5 s each)" "count $cnt, sum $sum"
	fi
	# mcpwire times at the server's syscalls, inside the client's own wait
	rs=$(node -e 'const r = require(process.argv[1]);
		console.log((r.task_ms["tasks/result"] ?? []).reduce((a, b) => a + b, 0) / 1000)' "$1")
	sum=$(metric_sum "$2" mcp_request_duration_seconds_sum 'method="tasks/result"')
	if awk -v s="$sum" -v c="$rs" 'BEGIN { exit !(c > 1 && s <= c + 0.01 && s >= c - 0.2) }'; then
		ok "streamable: tasks/result timed to the task's end: ${sum} s, the client waited ${rs} s"
	else
		not_ok "streamable: tasks/result timed within 0.2 s under the client's wait (> 1 s)" "mcpwire $sum s, client $rs s"
	fi
}

# ---------------------------------------------------------- part 1: legacy SSE

start_mcpwire "$WORK/mcpwire-sse.log" sse
HOLD=$WORK/sse.hold
ip netns exec "${NETNS_NS[client]}" timeout 50 node "$INTEG_DIR/client.mjs" --transport sse \
	--url "http://$SERVER_IP:$SSE_PORT/sse" --record "$WORK/record-sse.json" --mix full --server-requests \
	--repeat 2 --max-seconds 35 --hold-file "$HOLD" --quiet >"$WORK/client-sse.out" 2>"$WORK/client-sse.err" </dev/null &
CLIENT_PID=$!
mcpw_on_exit "stop_pid $CLIENT_PID 3"
for ((i = 0; i < 400; i++)); do [ -e "$HOLD.ready" ] || ! alive "$CLIENT_PID" && break; sleep 0.05; done
if [ -e "$HOLD.ready" ]; then
	# the first session, its mix done, still open: its GET stream and the
	# connection(s) of its POSTs
	netns_exec client ss -Htn state established "( dport = :$SSE_PORT )" >"$WORK/ss.sse" 2>&1
	NCONN=$(wc -l <"$WORK/ss.sse")
	if [ "$NCONN" -ge 2 ]; then
		ok "sse: first session held open on $NCONN TCP connections to :$SSE_PORT (the GET stream, the POSTs on others)"
	else
		not_ok "sse: the held session uses the GET stream and other connections for its POSTs" "$(cat "$WORK/ss.sse")"
	fi
	sleep 0.3
	curl -fsS -m 2 "$MCPWIRE_URL/metrics" >"$WORK/metrics.sse-held" 2>/dev/null
	v=$(metric_sum "$WORK/metrics.sse-held" mcp_sessions_active "server_name=\"$SERVER_NAME\"" 'transport="sse"')
	if [ "$v" = 1 ]; then
		ok "sse: mcp_sessions_active{server_name=\"$SERVER_NAME\",transport=\"sse\"} = 1 while the session is open"
	else
		not_ok "sse: mcp_sessions_active{transport=\"sse\"} = 1 while the session is open" "observed $v:" \
			"$(grep -a '^mcp_sessions_active\|^mcp_server_info' "$WORK/metrics.sse-held")"
	fi
else
	not_ok "sse: client held its first session open" "$(cat "$WORK/client-sse.err")"
fi
touch "$HOLD"
for ((i = 0; i < 400; i++)); do alive "$CLIENT_PID" || break; sleep 0.1; done
wait "$CLIENT_PID"
rc=$?
if [ "$rc" = 0 ] && [ -s "$WORK/record-sse.json" ]; then
	ok "sse: client.mjs --transport sse (full mix, server requests answered, 2 sessions) ran against http://$SERVER_IP:$SSE_PORT/sse"
	print_record "$WORK/record-sse.json"
else
	bail "sse: client.mjs ran cleanly" "exit status $rc" "$(cat "$WORK/client-sse.err")" "$(cat "$WORK/record-sse.json" 2>/dev/null)"
fi
sleep 1.5 # mcpwire's 1 s dedup window, and the GET streams' close
run_check sse "$WORK/record-sse.json" sse
stop_mcpwire sse

# ----------------------------------------- part 2: server requests, Streamable HTTP

time_left || bail "streamable: time left" "transports.sh ran out of its 60 s budget"
start_mcpwire "$WORK/mcpwire-http.log" streamable
netns_exec client timeout 40 node "$INTEG_DIR/client.mjs" --url "http://$SERVER_IP:$HTTP_PORT/mcp" \
	--record "$WORK/record-http.json" --mix full --server-requests --tasks --repeat 2 --max-seconds 30 --quiet \
	>"$WORK/client-http.out" 2>"$WORK/client-http.err" </dev/null
rc=$?
if [ "$rc" = 0 ] && [ -s "$WORK/record-http.json" ]; then
	ok "streamable: client.mjs (full mix, server requests answered, tasks, 2 sessions) ran against http://$SERVER_IP:$HTTP_PORT/mcp"
	print_record "$WORK/record-http.json"
else
	bail "streamable: client.mjs ran cleanly" "exit status $rc" "$(cat "$WORK/client-http.err")" "$(cat "$WORK/record-http.json" 2>/dev/null)"
fi
sleep 1.5
run_check streamable "$WORK/record-http.json" streamable_http
check_tasks "$WORK/record-http.json" "$WORK/metrics.streamable"
stop_mcpwire streamable

finish
