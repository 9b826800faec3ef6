#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# netdelay.sh — network time against server time (issue 4; docs/metrics.md
# "Client-side duration"). Needs root.
#
# The network of run.sh (netns.sh: containers "server" and "client" on a
# Docker-like bridge), server-everything in "server", the official SDK client
# (client.mjs) in "client", build/mcpwire on the host: mcpwire sees both ends
# of every connection. A netem qdisc on the server's host-side veth delays
# every packet towards the server by DELAY_MS (150; without netem in the
# kernel, a netfilter queue in the server's namespace does, see below). Each request then reaches
# the server at least DELAY_MS after the client sent it, so per request:
#
#   client-side duration >= DELAY_MS + server-side duration
#
# which holds however loaded the machine is (it is causality, not timing).
# Checked for each part:
#   - the counts equal the client's record exactly (check.mjs): both ends
#     seen (mcpwire_messages_deduplicated_total > 0), each request once;
#   - mcp_client_request_duration_seconds{method="tools/call"} and
#     mcp_client_tool_call_duration_seconds: one observation per answered
#     tools/call of the record, none at or below le="0.1" (every one took
#     more than the delay), and its sum exceeds the server-side sum by at
#     least DELAY_MS per call; the server-side mean stays under the delay;
#   - the call log: every answered call carries client_duration_ms, at least
#     DELAY_MS above its duration_ms.
# Parts: "streamable" (Streamable HTTP, 2 sessions) and "sse" (the legacy
# transport, whose answers come on the GET stream's connection, not on the
# POST's), each with a fresh mcpwire. The qdisc is removed at exit.
#
# Environment: MCPWIRE (binary), KEEP=1 keeps the work directory, DELAY_MS,
# NETNS_SUBNET_PREFIX=A.B as in run.sh.

set -uo pipefail

INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tap.sh
source "$INTEG_DIR/tap.sh"
tap_lock "$@"

ROOT=$(cd "$INTEG_DIR/../.." && pwd)
MCPWIRE=${MCPWIRE:-$ROOT/build/mcpwire}
KEEP=${KEEP:-0}
DELAY_MS=${DELAY_MS:-150}
HTTP_PORT=3001
SSE_PORT=3002
SERVER_NAME="mcp-servers/everything"
SERVER_VERSION="2.0.0"

# shellcheck source=netns.sh
source "$INTEG_DIR/netns.sh"
# shellcheck source=lib.sh
source "$INTEG_DIR/lib.sh"

tap_preflight netdelay.sh ip node curl ss tc iptables cc
[ -x "$MCPWIRE" ] || tap_fatal "$MCPWIRE missing: make"
# the checks below need the delay above the le="0.1" bucket bound
[ "$DELAY_MS" -gt 100 ] 2>/dev/null || tap_fatal "DELAY_MS must be above 100"

mcpw_trap_install
WORK=$(mktemp -d /tmp/mcpwire-netdelay.XXXXXX)
[ "$KEEP" = 1 ] || mcpw_on_exit "rm -rf '$WORK'"
TAP_LOGS=(mcpwire-streamable.log mcpwire-sse.log server-http.log server-sse.log client-streamable.err client-sse.err)
# the whole run is bounded: a watchdog ends it (the trap still cleans up)
(
	trap 'kill $sp 2>/dev/null; exit 0' TERM
	sleep 150 &
	sp=$!
	wait $sp && echo "# netdelay.sh: overall timeout, terminating" >&2 && kill -TERM $$
) 2>/dev/null &
WATCHDOG=$!
mcpw_on_exit "kill $WATCHDOG 2>/dev/null"

# ------------------------------------------------------ network, delay, servers

netns_up 2>"$WORK/net.err" && netns_add server 2>>"$WORK/net.err" && netns_add client 2>>"$WORK/net.err" ||
	bail "network: bridge and two containers" "$(cat "$WORK/net.err")"
SERVER_IP=${NETNS_IP[server]}
VETH=${NETNS_VETH[server]}
start_everything server "$HTTP_PORT" "$WORK/server-http.log" streamableHttp
HTTP_PID=$SERVER_PID
start_everything server "$SSE_PORT" "$WORK/server-sse.log" sse
if wait_for 20 "server-everything streamableHttp" listening server "$HTTP_PORT" &&
	wait_for 20 "server-everything sse" listening server "$SSE_PORT"; then
	ok "network $NETNS_BRIDGE: server-everything streamableHttp on $SERVER_IP:$HTTP_PORT (pid $HTTP_PID), sse on :$SSE_PORT"
else
	bail "server-everything listens" "$(tail -n 20 "$WORK/server-http.log" "$WORK/server-sse.log")"
fi

# The delay: netem on the server's host-side veth, as on a Docker host. On
# kernels built without sch_netem (CONFIG_NET_SCH_NETEM, e.g. the project's
# build machines) the same delay of every packet towards the server comes
# from a netfilter queue inside the server's namespace (nfq-delay.c): packets
# are held DELAY_MS in userspace, then accepted in order. Either way both
# sockets stay the endpoints of one TCP connection.
# registered before they are added: a failure half-way still removes them
mcpw_on_exit "tc qdisc del dev $VETH root netem 2>/dev/null"
NFQ_RULE=(INPUT -p tcp -m multiport --dports "$HTTP_PORT,$SSE_PORT" -j NFQUEUE --queue-num 7 --queue-bypass)
NFQ_PID=""
if tc qdisc add dev "$VETH" root netem delay "${DELAY_MS}ms" 2>"$WORK/tc.err"; then
	DELAY_HOW="netem"
	ok "tc qdisc netem delay ${DELAY_MS}ms on $VETH, the server's host-side veth"
else
	DELAY_HOW="nfqueue"
	echo "# no netem here ($(cat "$WORK/tc.err")): delaying through a netfilter queue in ${NETNS_NS[server]}"
	cc -O2 -Wall -Werror -o "$WORK/nfq-delay" "$INTEG_DIR/nfq-delay.c" -lnetfilter_queue 2>"$WORK/cc.err" ||
		bail "nfq-delay.c builds" "$(cat "$WORK/cc.err")"
	ip netns exec "${NETNS_NS[server]}" "$WORK/nfq-delay" 7 "$DELAY_MS" "$WORK/nfq.ready" \
		>"$WORK/nfq-delay.log" 2>&1 </dev/null &
	NFQ_PID=$!
	mcpw_on_exit "stop_pid $NFQ_PID 3"
	wait_for 10 "nfq-delay bound" test -e "$WORK/nfq.ready" ||
		bail "nfq-delay binds queue 7" "$(cat "$WORK/nfq-delay.log")"
	mcpw_on_exit "ip netns exec ${NETNS_NS[server]} iptables -D ${NFQ_RULE[*]} 2>/dev/null"
	if ip netns exec "${NETNS_NS[server]}" iptables -I "${NFQ_RULE[@]}" 2>"$WORK/ipt.err"; then
		ok "delay ${DELAY_MS}ms on every packet towards the server (NFQUEUE in ${NETNS_NS[server]}, pid $NFQ_PID)"
	else
		bail "iptables NFQUEUE rule in ${NETNS_NS[server]}" "$(cat "$WORK/ipt.err")"
	fi
fi
TAP_LOGS+=(nfq-delay.log)

MCPWIRE_PID=""
# shellcheck disable=SC2016 # expanded at exit, when the pid is known
mcpw_on_exit 'stop_pid "$MCPWIRE_PID" 5'
# start_mcpwire PART: a TAP line; bails when not capturing within 30 s.
start_mcpwire() {
	local part=$1 log=$WORK/mcpwire-$1.log i
	MCPWIRE_PORT=$(free_port)
	MCPWIRE_URL="http://127.0.0.1:$MCPWIRE_PORT"
	"$MCPWIRE" --listen "127.0.0.1:$MCPWIRE_PORT" --log-calls "$WORK/calls-$part.jsonl" \
		>"$log" 2>&1 </dev/null &
	MCPWIRE_PID=$!
	for ((i = 0; i < 600; i++)); do
		if grep -q capturing "$log" && http_ok "$MCPWIRE_URL/healthz"; then
			ok "$part: mcpwire on 127.0.0.1:$MCPWIRE_PORT is capturing (pid $MCPWIRE_PID)"
			return 0
		fi
		alive "$MCPWIRE_PID" || break
		sleep 0.05
	done
	bail "$part: mcpwire capturing within 30 s" "$(tail -n 20 "$log")"
}
# stop_mcpwire PART: it survived the traffic and exits 0 on SIGTERM (which
# also flushes the call log).
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
# metric_sum FILE NAME LABEL_SUBSTRING...: sum of the samples of NAME (with
# labels or without) whose line holds every substring ("absent" when none).
metric_sum() {
	local f=$1 name=$2
	shift 2
	awk -v n="$name" -v want="$(printf '%s\034' "$@")" '
		BEGIN { k = split(want, w, "\034") - 1 }
		index($0, n "{") == 1 || index($0, n " ") == 1 {
			for (i = 1; i <= k; i++) if (!index($0, w[i])) next
			s += $NF; hit = 1 }
		END { print hit ? s + 0 : "absent" }' "$f"
}

# run_part PART TRANSPORT URL CLIENT_ARGS...: one mcpwire, one client run, the checks.
run_part() {
	local part=$1 transport=$2 url=$3 rc before m n cs cc ss sc c01 tc tcnt sel
	shift 3
	start_mcpwire "$part"
	netns_exec client timeout 90 node "$INTEG_DIR/client.mjs" --url "$url" \
		--record "$WORK/record-$part.json" --mix basic --max-seconds 80 --quiet "$@" \
		>"$WORK/client-$part.out" 2>"$WORK/client-$part.err" </dev/null
	rc=$?
	if [ "$rc" = 0 ] && [ -s "$WORK/record-$part.json" ]; then
		ok "$part: client.mjs $* (basic mix) ran against $url through the delay"
		node -e 'const r = require(process.argv[1]);
			console.log("# record: requests " + JSON.stringify(r.requests) + " in " + r.elapsed_seconds + " s")' \
			"$WORK/record-$part.json"
	else
		not_ok "$part: client.mjs ran cleanly" "exit status $rc" "$(cat "$WORK/client-$part.err")"
		stop_mcpwire "$part"
		return
	fi
	sleep 1.5 # mcpwire's 1 s dedup window and the held call records

	# the counts: exactly the client's record, each request once
	before=$T_FAIL
	node "$INTEG_DIR/check.mjs" --record "$WORK/record-$part.json" --metrics-url "$MCPWIRE_URL/metrics" \
		--server-name "$SERVER_NAME" --server-version "$SERVER_VERSION" --transport "$transport" \
		--settle-seconds 8 --save "$WORK/metrics.$part" >"$WORK/check-$part.out" 2>&1
	rc=$?
	tap_feed "$WORK/check-$part.out" "$part: "
	if [ "$rc" != 0 ] && [ "$T_FAIL" = "$before" ]; then
		not_ok "$part: check.mjs ran" "exit status $rc without a failed check:" "$(tail -n 20 "$WORK/check-$part.out")"
	fi
	m=$WORK/metrics.$part
	curl -fsS -m 2 "$MCPWIRE_URL/metrics" >"$m" 2>/dev/null
	n=$(metric_sum "$m" mcpwire_messages_deduplicated_total)
	if [ "$n" != absent ] && [ "$n" -gt 0 ]; then
		ok "$part: both ends seen: $n client-side copies counted once (mcpwire_messages_deduplicated_total)"
	else
		not_ok "$part: both ends seen (mcpwire_messages_deduplicated_total > 0)" "observed $n"
	fi

	# tools/call, both sides
	tc=$(node -e 'const q = require(process.argv[1]).requests["tools/call"] ?? {};
		console.log((q.ok ?? 0) + (q.error ?? 0))' "$WORK/record-$part.json")
	sel=("server_name=\"$SERVER_NAME\"" 'method="tools/call"')
	cc=$(metric_sum "$m" mcp_client_request_duration_seconds_count "${sel[@]}")
	cs=$(metric_sum "$m" mcp_client_request_duration_seconds_sum "${sel[@]}")
	c01=$(metric_sum "$m" mcp_client_request_duration_seconds_bucket "${sel[@]}" 'le="0.1"')
	sc=$(metric_sum "$m" mcp_request_duration_seconds_count "${sel[@]}")
	ss=$(metric_sum "$m" mcp_request_duration_seconds_sum "${sel[@]}")
	echo "# $part: tools/call answered per the record $tc; client side count $cc sum $cs (<= 0.1 s: $c01); server side count $sc sum $ss"
	if [ "$cc" = "$tc" ] && [ "$sc" = "$tc" ] && [ "$tc" -gt 0 ]; then
		ok "$part: tools/call timed once on each side: $tc client-side and $tc server-side observations, as the record"
	else
		not_ok "$part: tools/call timed once on each side, as the record ($tc)" "client-side count $cc, server-side count $sc"
	fi
	if [ "$c01" = 0 ]; then
		ok "$part: every client-side tools/call duration is above 0.1 s (the delay is ${DELAY_MS} ms)"
	else
		not_ok "$part: every client-side tools/call duration is above 0.1 s" "le=\"0.1\" bucket holds $c01" \
			"$(grep -a '^mcp_client_request_duration_seconds_bucket.*tools/call' "$m")"
	fi
	if awk -v c="$cs" -v s="$ss" -v n="$tc" -v d="$DELAY_MS" 'BEGIN { exit !(n > 0 && c - s >= n * (d - 1) / 1000) }'; then
		ok "$part: client-side sum exceeds the server-side sum by >= ${DELAY_MS} ms per call ($cs s vs $ss s, $tc calls)"
	else
		not_ok "$part: client-side sum exceeds the server-side sum by >= ${DELAY_MS} ms per call" "client $cs s, server $ss s, $tc calls"
	fi
	if awk -v s="$ss" -v n="$tc" -v d="$DELAY_MS" 'BEGIN { exit !(n > 0 && s / n < d / 1000) }'; then
		ok "$part: server-side tools/call mean stays below the delay ($ss s over $tc calls)"
	else
		not_ok "$part: server-side tools/call mean stays below the delay" "server $ss s over $tc calls"
	fi
	tcnt=$(node -e 'const t = require(process.argv[1]).tools.echo ?? {};
		console.log((t.ok ?? 0) + (t.error ?? 0))' "$WORK/record-$part.json")
	n=$(metric_sum "$m" mcp_client_tool_call_duration_seconds_count "server_name=\"$SERVER_NAME\"" 'tool_name="echo"')
	if [ "$n" = "$tcnt" ] && [ "$tcnt" -gt 0 ]; then
		ok "$part: mcp_client_tool_call_duration_seconds{tool_name=\"echo\"} counts the record's $tcnt echo calls"
	else
		not_ok "$part: mcp_client_tool_call_duration_seconds{tool_name=\"echo\"} counts the record's echo calls" \
			"want $tcnt, observed $n"
	fi

	stop_mcpwire "$part"
	# the call log: each answered call with its client wait, above the delay
	node -e '
		const fs = require("fs"), d = Number(process.argv[2]);
		const lines = fs.readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map(JSON.parse);
		const answered = lines.filter((l) => l.status === "ok" || l.status === "error");
		const bad = answered.filter((l) => !(l.client_duration_ms - l.duration_ms >= d - 1));
		console.log(`# ${answered.length} answered calls logged, ${bad.length} without client_duration_ms >= duration_ms + ${d}`);
		for (const l of bad.slice(0, 5)) console.log("# " + JSON.stringify(l));
		process.exit(answered.length > 0 && bad.length === 0 ? 0 : 1);' \
		"$WORK/calls-$part.jsonl" "$DELAY_MS" >"$WORK/calllog-$part.out" 2>&1
	rc=$?
	if [ "$rc" = 0 ]; then
		ok "$part: call log: every answered call has client_duration_ms >= duration_ms + ${DELAY_MS}"
		cat "$WORK/calllog-$part.out"
	else
		not_ok "$part: call log: every answered call has client_duration_ms >= duration_ms + ${DELAY_MS}" \
			"$(cat "$WORK/calllog-$part.out")"
	fi
}

run_part streamable streamable_http "http://$SERVER_IP:$HTTP_PORT/mcp" --repeat 2
run_part sse sse "http://$SERVER_IP:$SSE_PORT/sse" --transport sse --repeat 1

# the delay goes, and nothing of it stays behind
if [ "$DELAY_HOW" = netem ]; then
	tc qdisc del dev "$VETH" root 2>"$WORK/tc.err" && ! tc qdisc show dev "$VETH" | grep -q netem &&
		ok "netem qdisc removed from $VETH" || not_ok "netem qdisc removed from $VETH" "$(cat "$WORK/tc.err")"
else
	ip netns exec "${NETNS_NS[server]}" iptables -D "${NFQ_RULE[@]}" 2>"$WORK/ipt.err"
	stop_pid "$NFQ_PID" 3
	if ! ip netns exec "${NETNS_NS[server]}" iptables -S INPUT | grep -q NFQUEUE && ! alive "$NFQ_PID"; then
		ok "NFQUEUE rule and nfq-delay removed ($(tail -n 1 "$WORK/nfq-delay.log"))"
	else
		not_ok "NFQUEUE rule and nfq-delay removed" "$(cat "$WORK/ipt.err")"
	fi
fi
finish
