#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bigmsg.sh — tool results of several MiB, counted exactly. Needs root.
#
# The network of run.sh (netns.sh): bigmsg.mjs's SDK server in container
# "server", its SDK client in "client", build/mcpwire on the host. Each tool
# result is MIB MiB (5 by default), far above the capture cap, so mcpwire
# keeps only its head and last 64 KiB and must read the id and isError from
# the tail (docs/capture.md, proto/tail.h). Three runs, each with its own
# mcpwire:
#   1. default --cap-bytes (1 MiB), SSE answers;
#   2. --cap-bytes 131072, SSE answers (Node may write 5 MiB in several
#      writes below 1 MiB each: the small cap makes sure there is a hole);
#   3. --cap-bytes 131072, application/json answers (enableJsonResponse).
# In each: mcp_requests_total and mcp_tool_calls_total equal the client's
# record (ok, and error for the isError results), nothing is in flight,
# no "gap" parse error, and mcpwire_events_lost_total{reason="cap_exceeded"}
# shows the bytes left out.
# Every mcpwire sees all traffic on the host, so the whole script runs under
# flock /tmp/mcpwire-integ.lock. TAP output, "N passed, N failed" at the end.
#
# Environment: MCPWIRE (binary), MIB, KEEP=1 keeps the work directory.

set -uo pipefail

INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tap.sh
source "$INTEG_DIR/tap.sh"
tap_lock "$@"
ROOT=$(cd "$INTEG_DIR/../.." && pwd)
MCPWIRE=${MCPWIRE:-$ROOT/build/mcpwire}
KEEP=${KEEP:-0}
MIB=${MIB:-5}
SERVER_PORT=3002
N_BIG=3 N_ERR=2 N_SMALL=3

# shellcheck source=netns.sh
source "$INTEG_DIR/netns.sh"
# shellcheck source=lib.sh
source "$INTEG_DIR/lib.sh"


tap_preflight bigmsg.sh ip node curl ss

mcpw_trap_install
WORK=$(mktemp -d /tmp/mcpwire-bigmsg.XXXXXX)
chmod 755 "$WORK"
[ "$KEEP" = 1 ] || mcpw_on_exit "rm -rf '$WORK'"

netns_up 2>"$WORK/net.err" && netns_add server 2>>"$WORK/net.err" && netns_add client 2>>"$WORK/net.err" ||
	bail "network: bridge and two containers" "$(cat "$WORK/net.err")"
SERVER_IP=${NETNS_IP[server]}

# metric FILE NAME LABELS: the value of the sample NAME{...} whose label set
# contains every label=value pair of LABELS (comma-separated), summed; 0 if none
metric() {
	awk -v name="$2" -v want="$3" '
		BEGIN { n = split(want, w, ",") }
		index($0, name "{") == 1 {
			for (i = 1; i <= n; i++) if (index($0, w[i]) == 0) next
			s += $NF
		}
		END { printf "%d\n", s }' "$1"
}

# expect NAME GOT WANT: on a mismatch, what mcpwire lost and refused (a
# gap error with ringbuf_full events is a real loss, not a cap hole)
expect() {
	if [ "$2" = "$3" ]; then
		ok "$1 = $3"
	else
		not_ok "$1" "got $2, want $3" "$(grep -hE '^mcpwire_(events_lost|parse_errors|stream_gap)[a-z_]*\{' "$m" 2>/dev/null)"
	fi
}

# one_run TAG CAP_BYTES SERVER_FLAGS
one_run() {
	local tag=$1 cap=$2 sflags=$3 port url pid spid dir=$WORK/$1 m rec st lost
	mkdir -p "$dir"
	chmod 755 "$dir"
	ip netns exec "${NETNS_NS[server]}" env -i PATH=/usr/bin:/bin HOME=/nonexistent \
		"$(command -v node)" "$INTEG_DIR/bigmsg.mjs" server --port "$SERVER_PORT" $sflags \
		>"$dir/server.log" 2>&1 </dev/null &
	spid=$!
	mcpw_on_exit "stop_pid $spid 3"
	wait_for 20 "bigmsg server" listening server "$SERVER_PORT" ||
		{ not_ok "$tag: bigmsg server listens" "$(tail -n 20 "$dir/server.log")"; stop_pid "$spid" 3; return; }

	port=$(free_port)
	url="http://127.0.0.1:$port"
	"$MCPWIRE" --listen "127.0.0.1:$port" ${cap:+--cap-bytes "$cap"} >"$dir/mcpwire.log" 2>&1 </dev/null &
	pid=$!
	mcpw_on_exit "stop_pid $pid 5"
	mcpwire_ready() { grep -q capturing "$dir/mcpwire.log" && http_ok "$url/healthz"; }
	if ! wait_for 30 "mcpwire capturing" mcpwire_ready; then
		not_ok "$tag: mcpwire capturing" "$(tail -n 20 "$dir/mcpwire.log")"
		stop_pid "$pid" 5
		stop_pid "$spid" 3
		return
	fi
	ok "$tag: mcpwire capturing (cap ${cap:-default}), server on $SERVER_IP:$SERVER_PORT"

	if ! netns_exec client timeout 120 node "$INTEG_DIR/bigmsg.mjs" client \
		--url "http://$SERVER_IP:$SERVER_PORT/mcp" --record "$dir/record.json" --mib "$MIB" \
		--big "$N_BIG" --errors "$N_ERR" --small "$N_SMALL" >"$dir/client.out" 2>"$dir/client.err"; then
		not_ok "$tag: client ran" "$(cat "$dir/client.err")"
	else
		ok "$tag: client: $N_BIG x big, $N_ERR x big-error ($MIB MiB each), $N_SMALL x small"
	fi
	sleep 2 # mcpwire's 1 s dedup window
	curl -fsS -m 5 "$url/metrics" >"$dir/metrics" 2>"$dir/curl.err" ||
		not_ok "$tag: GET /metrics" "$(cat "$dir/curl.err")"
	m=$dir/metrics
	rec=$dir/record.json
	for st in ok error; do
		expect "$tag: mcp_requests_total{method=tools/call,status=$st}" \
			"$(metric "$m" mcp_requests_total "server_name=\"bigmsg\",method=\"tools/call\",status=\"$st\"")" \
			"$(node -e 'const r=require(process.argv[1]); console.log(r.requests["tools/call"][process.argv[2]])' "$rec" "$st" 2>/dev/null)"
	done
	for t in big big-error small; do
		for st in ok error; do
			expect "$tag: mcp_tool_calls_total{tool_name=$t,status=$st}" \
				"$(metric "$m" mcp_tool_calls_total "server_name=\"bigmsg\",tool_name=\"$t\",status=\"$st\"")" \
				"$(node -e 'const r=require(process.argv[1]); console.log(r.tools[process.argv[2]][process.argv[3]])' "$rec" "$t" "$st" 2>/dev/null)"
		done
	done
	expect "$tag: mcp_requests_in_flight{server_name=bigmsg}" \
		"$(metric "$m" mcp_requests_in_flight 'server_name="bigmsg"')" 0
	expect "$tag: mcpwire_parse_errors_total{reason=gap}" \
		"$(metric "$m" mcpwire_parse_errors_total 'reason="gap"')" 0
	lost=$(metric "$m" mcpwire_events_lost_total 'reason="cap_exceeded"')
	if [ "$lost" -gt 0 ]; then
		ok "$tag: mcpwire_events_lost_total{reason=cap_exceeded} = $lost bytes left out"
	else
		not_ok "$tag: cap_exceeded bytes counted" "got $lost: no write was above the cap" \
			"$(grep -E '^mcpwire_(events_lost|parse_errors)' "$m")"
	fi
	stop_pid "$pid" 5
	stop_pid "$spid" 3
	wait_for 10 "port $SERVER_PORT free" eval '! listening server '"$SERVER_PORT"
}

one_run default-cap-sse "" ""
one_run cap128k-sse 131072 ""
one_run cap128k-json 131072 --json
finish
