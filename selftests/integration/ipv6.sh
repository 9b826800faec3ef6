#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# ipv6.sh — mcpwire over IPv6, end to end. Needs root.
#
# The network of run.sh in its dual-stack mode (netns.sh, NETNS_IPV6=1): a ULA
# /64 on the bridge, server-everything (Streamable HTTP) in container "server",
# the SDK client (client.mjs) in "client" talking to http://[fdXX:…::2]:3001/mcp,
# so every MCP byte crosses AF_INET6 sockets on both ends (the client's socket
# is IPv6 because the URL is an IPv6 literal; the server's is its [::]:3001
# listener's child, carrying a native, not a v4-mapped, peer). build/mcpwire on
# the host, serving /metrics on [::1] (127.0.0.1 if the host has no ::1).
# /metrics must equal the client's record exactly (check.mjs), under
# the server_name from initialize; the fallback label "[addr]:port" for IPv6
# peers is unit-tested (selftests/unit), not here.
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
SERVER_PORT=3001
SERVER_NAME="mcp-servers/everything"
SERVER_VERSION="2.0.0"

# shellcheck source=netns.sh
source "$INTEG_DIR/netns.sh"
# shellcheck source=lib.sh
source "$INTEG_DIR/lib.sh"


tap_preflight ipv6.sh ip node curl ss
[ -e /proc/net/if_inet6 ] || tap_fatal "the kernel has no IPv6"

mcpw_trap_install
WORK=$(mktemp -d /tmp/mcpwire-ipv6.XXXXXX)
[ "$KEEP" = 1 ] || mcpw_on_exit "rm -rf '$WORK'"

# ------------------------------------------------------------ network

NETNS_IPV6=1
netns_up 2>"$WORK/net.err" && netns_add server 2>>"$WORK/net.err" && netns_add client 2>>"$WORK/net.err" ||
	bail "network: dual-stack bridge and two containers" "$(cat "$WORK/net.err")"
SERVER_IP6=${NETNS_IP6[server]}
SERVER_URL="http://[$SERVER_IP6]:$SERVER_PORT/mcp"
ok "network: bridge $NETNS_BRIDGE $NETNS_SUBNET6, server ${NETNS_NS[server]} $SERVER_IP6, client ${NETNS_NS[client]} ${NETNS_IP6[client]}"

start_everything server "$SERVER_PORT" "$WORK/server.log"
wait_for 20 "server-everything" listening server "$SERVER_PORT" ||
	bail "server-everything listens on :$SERVER_PORT" "$(tail -n 20 "$WORK/server.log")"
# the client container reaches it over IPv6 (before mcpwire starts, so it sees
# none of this); -g: the brackets are the URL's, not a curl glob
code=$(netns_exec client curl -g -sS -m 3 -o /dev/null -w '%{http_code}' "$SERVER_URL" 2>&1)
if [ "$code" = 400 ]; then
	ok "client container reaches $SERVER_URL over IPv6 (GET without session -> 400)"
else
	bail "client container reaches $SERVER_URL over IPv6" "expected HTTP 400, observed: $code"
fi

# ------------------------------------------------------------ mcpwire

# mcpwire serves /metrics on IPv6 too when the host has ::1 (free_port asks
# 127.0.0.1; a port free there is as good as free on ::1 for a test)
PORT=$(free_port)
LISTEN="127.0.0.1:$PORT"
ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/128' && LISTEN="[::1]:$PORT"
MCPWIRE_URL="http://$LISTEN"
"$MCPWIRE" --listen "$LISTEN" >"$WORK/mcpwire.log" 2>&1 </dev/null &
MCPWIRE_PID=$!
mcpw_on_exit "stop_pid $MCPWIRE_PID 5"
mcpwire_ready() { grep -q capturing "$WORK/mcpwire.log" && curl -gfsS -m 2 -o /dev/null "$MCPWIRE_URL/healthz"; }
wait_for 30 "mcpwire capturing" mcpwire_ready ||
	bail "mcpwire capturing on $MCPWIRE_URL" "$(tail -n 20 "$WORK/mcpwire.log")"
ok "mcpwire capturing on $MCPWIRE_URL (pid $MCPWIRE_PID)"

# ------------------------------------------------------------ the client

netns_exec client timeout 30 node "$INTEG_DIR/client.mjs" --url "$SERVER_URL" \
	--record "$WORK/record.json" --mix full --repeat 1 --max-seconds 20 --quiet \
	>"$WORK/client.out" 2>"$WORK/client.err"
rc=$?
if [ "$rc" = 0 ] && [ -s "$WORK/record.json" ]; then
	ok "client.mjs (full mix) ran against $SERVER_URL from ${NETNS_NS[client]}"
	node -e 'const r = require(process.argv[1]);
		console.log("# record: requests " + JSON.stringify(r.requests));
		console.log("# record: tools " + JSON.stringify(r.tools));
		console.log("# record: notifications " + JSON.stringify(r.notifications) + " serverInfo " + JSON.stringify(r.server_info))' \
		"$WORK/record.json"
else
	bail "client.mjs ran cleanly against $SERVER_URL" "exit status $rc" "$(cat "$WORK/client.err")"
fi
sleep 2 # mcpwire's 1 s dedup window

# ------------------------------------------------------------ compare

before=$T_FAIL
node "$INTEG_DIR/check.mjs" --record "$WORK/record.json" --metrics-url "$MCPWIRE_URL/metrics" \
	--server-name "$SERVER_NAME" --server-version "$SERVER_VERSION" --transport streamable_http \
	--settle-seconds 8 --save "$WORK/metrics.after" >"$WORK/check.out" 2>&1
rc=$?
tap_feed "$WORK/check.out" "ipv6: "
if [ "$rc" != 0 ] && [ "$T_FAIL" = "$before" ]; then
	not_ok "ipv6: check.mjs ran" "exit status $rc without a failed check:" "$(tail -n 20 "$WORK/check.out")"
fi

# ------------------------------------------------------------ clean stop

if alive "$MCPWIRE_PID"; then
	kill -TERM "$MCPWIRE_PID"
	for ((i = 0; i < 50; i++)); do alive "$MCPWIRE_PID" || break; sleep 0.1; done
	if alive "$MCPWIRE_PID"; then
		not_ok "mcpwire exits within 5 s of SIGTERM" "still running"
	else
		wait "$MCPWIRE_PID"
		rc=$?
		if [ "$rc" = 0 ]; then ok "mcpwire exits 0 on SIGTERM"; else not_ok "mcpwire exits 0 on SIGTERM" "exit status $rc"; fi
	fi
else
	wait "$MCPWIRE_PID"
	not_ok "mcpwire still running after the test traffic" "it exited with status $?"
fi

finish
