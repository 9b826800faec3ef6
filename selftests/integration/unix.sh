#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# unix.sh — Streamable HTTP over a unix domain socket (mcp-wire.md §5; a
# local MCP server listening on a path, node:http's listen('/path.sock')).
# Needs root (eBPF); no network namespaces: both ends are on this host, as
# they always are for a unix socket.
#
# json-server.mjs (the official SDK's McpServer behind its
# StreamableHTTPServerTransport) listens on a socket in the work directory;
# client.mjs --unix-socket drives it with the SDK's
# StreamableHTTPClientTransport, whose `fetch` option is given a fetch over
# node:http on that socket (unix-fetch.mjs). A fresh build/mcpwire per
# scenario:
#   json  JSON answers (enableJsonResponse), --mix json, 2 sessions;
#   sse   SSE answers (the SDK's default), the same mix;
#         for both, /metrics equals the client's record exactly (check.mjs),
#         and mcpwire_messages_deduplicated_total > 0: mcpwire saw both ends
#         of each connection and counted each message once;
#   name  raw requests (curl --unix-socket) to a server never initialized:
#         counted under the fallback server_name "unix:<path>" (and
#         "unix:@<name>" for an abstract socket) as http_400 errors, one per
#         request, including each of a batch of 6 refused as a whole.
# TAP output, "N passed, N failed" at the end; non-zero exit on any failure.
# The checks are on this test's server names; another server on the host is
# a note, not a failure.
#
# Environment: MCPWIRE=path (default build/mcpwire), KEEP=1 keeps the work
# directory.

set -uo pipefail

INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tap.sh
source "$INTEG_DIR/tap.sh"
tap_lock "$@"

ROOT=$(cd "$INTEG_DIR/../.." && pwd)
MCPWIRE=${MCPWIRE:-$ROOT/build/mcpwire}
KEEP=${KEEP:-0}
SERVER_NAME=mcpwire-json-server
SERVER_VERSION=1.2.3
START=$SECONDS

# shellcheck source=netns.sh
source "$INTEG_DIR/netns.sh"
# shellcheck source=lib.sh
source "$INTEG_DIR/lib.sh"

tap_preflight unix.sh node curl
mcpw_trap_install
WORK=$(mktemp -d /tmp/mcpwire-unix.XXXXXX)
[ "$KEEP" = 1 ] || mcpw_on_exit "rm -rf '$WORK'"
TAP_LOGS=(mcpwire-json.log mcpwire-sse.log mcpwire-name.log server-json.log server-sse.log server-name.log server-abstract.log)
NODE=$(command -v node)

MCPWIRE_PID=""
# shellcheck disable=SC2016 # expanded at exit
mcpw_on_exit 'stop_pid "$MCPWIRE_PID" 5'

# start_mcpwire NAME: a fresh daemon; ready when /healthz answers and the log
# says "capturing".
start_mcpwire() {
	local name=$1 log=$WORK/mcpwire-$1.log
	MCPWIRE_PORT=$(free_port)
	MCPWIRE_URL="http://127.0.0.1:$MCPWIRE_PORT"
	"$MCPWIRE" --listen "127.0.0.1:$MCPWIRE_PORT" >"$log" 2>&1 </dev/null &
	MCPWIRE_PID=$!
	# shellcheck disable=SC2317 # called through wait_for
	ready() { grep -q capturing "$log" && http_ok "$MCPWIRE_URL/healthz"; }
	wait_for 30 "mcpwire capturing" ready || bail "$name: mcpwire capturing" "$(tail -n 20 "$log")"
	ok "$name: mcpwire capturing on $MCPWIRE_URL (pid $MCPWIRE_PID)"
}

stop_mcpwire() {
	local name=$1 rc
	if ! alive "$MCPWIRE_PID"; then
		wait "$MCPWIRE_PID"
		not_ok "$name: mcpwire still running after the test traffic" "exit status $?"
	else
		stop_pid "$MCPWIRE_PID" 5
		rc=$?
		if [ "$rc" = 0 ]; then ok "$name: mcpwire exits 0 on SIGTERM"; else not_ok "$name: mcpwire exits 0 on SIGTERM" "exit status $rc"; fi
	fi
	MCPWIRE_PID=""
}

# start_server NAME SOCKET [ARGS...]: json-server.mjs on a unix socket.
start_server() {
	local name=$1 sock=$2
	shift 2
	"$NODE" "$INTEG_DIR/json-server.mjs" --socket "$sock" "$@" >"$WORK/server-$name.log" 2>&1 </dev/null &
	mcpw_on_exit "stop_pid $! 3"
	# shellcheck disable=SC2317 # called through wait_for
	sock_up() { curl -sS -m 2 --unix-socket "$sock" -o /dev/null http://localhost/nothing; }
	if [ "${sock#@}" != "$sock" ]; then
		sock_up() { [ "$(abstract_post "${sock#@}" GET '')" != 0 ]; }
	fi
	wait_for 20 "json-server.mjs on $sock" sock_up || bail "$name: json-server.mjs listens on $sock" "$(tail -n 20 "$WORK/server-$name.log")"
}

# abstract_post NAME METHOD BODY: the status of a request to /mcp on the
# abstract socket NAME, through node:http, which (libuv) pads abstract names
# with NULs to the whole sun_path as json-server.mjs's listen() did; curl's
# --abstract-unix-socket does not, so could not reach it.
abstract_post() {
	"$NODE" -e 'const [name, method, body] = process.argv.slice(1);
		const r = require("http").request({ socketPath: "\0" + name, path: "/mcp", method,
			headers: { "content-type": "application/json", accept: "application/json, text/event-stream" } },
			(res) => { console.log(res.statusCode); res.resume(); });
		r.on("error", () => console.log(0));
		r.end(body || undefined);' "$@"
}

# metric NAME LABELS: the value of the series NAME{LABELS} exactly, "" if absent.
metric() {
	curl -fsS -m 2 "$MCPWIRE_URL/metrics" | awk -v s="$1{$2}" 'index($0, s " ") == 1 {print $NF}'
}

# expect_metric TEST NAME LABELS VALUE: one TAP line.
expect_metric() {
	local v
	v=$(metric "$2" "$3")
	if [ "$v" = "$4" ]; then ok "$1: $2{$3} = $4"; else not_ok "$1: $2{$3} = $4" "observed: ${v:-absent}" \
		"$(curl -fsS -m 2 "$MCPWIRE_URL/metrics" | grep -E "^$2\{")"; fi
}

dedup_seen() { # both ends seen: some client-side copies were dropped
	local v
	v=$(curl -fsS -m 2 "$MCPWIRE_URL/metrics" | awk '$1 == "mcpwire_messages_deduplicated_total" {print $2}')
	if [ "${v:-0}" -gt 0 ]; then
		ok "$1: both ends of each unix connection seen, client copies deduplicated (mcpwire_messages_deduplicated_total $v)"
	else
		not_ok "$1: both ends of each unix connection seen and deduplicated" "mcpwire_messages_deduplicated_total ${v:-absent}"
	fi
}

# sdk_scenario NAME [SERVER_ARGS...]: the SDK client, exactly.
sdk_scenario() {
	local name=$1 sock=$WORK/$1.sock rc before line
	shift
	start_mcpwire "$name"
	start_server "$name" "$sock" "$@"
	timeout 60 "$NODE" "$INTEG_DIR/client.mjs" --unix-socket "$sock" --url http://localhost/mcp \
		--record "$WORK/$name.json" --mix json --repeat 2 --max-seconds 45 --quiet \
		>"$WORK/client-$name.out" 2>"$WORK/client-$name.err" </dev/null
	rc=$?
	if [ "$rc" = 0 ] && [ -s "$WORK/$name.json" ]; then
		ok "$name: client.mjs --unix-socket ran 2 sessions over $sock"
	else
		not_ok "$name: client.mjs --unix-socket ran cleanly" "exit status $rc" "$(tail -n 20 "$WORK/client-$name.err")" \
			"$(cat "$WORK/$name.json" 2>/dev/null)"
		stop_mcpwire "$name"
		return
	fi
	# past mcp/'s 1 s hold: check.mjs judges as soon as the counts equal
	# the record, so a client-side copy counted twice must be out by then
	sleep 2.5
	node "$INTEG_DIR/check.mjs" --record "$WORK/$name.json" --metrics-url "$MCPWIRE_URL/metrics" \
		--server-name "$SERVER_NAME" --server-version "$SERVER_VERSION" --transport streamable_http \
		--settle-seconds 8 --save "$WORK/metrics-$name.txt" >"$WORK/check-$name.out" 2>&1
	rc=$?
	before=$T_FAIL
	# "no server_name other than" is about the whole host, which this test
	# does not own: a note
	grep -v '^not ok - no server_name other than' "$WORK/check-$name.out" >"$WORK/check-$name.tap"
	tap_feed "$WORK/check-$name.tap" "$name: "
	while IFS= read -r line; do echo "# note: $name: ${line#not ok - } (another MCP server on this host?)"; done \
		< <(grep '^not ok - no server_name other than' "$WORK/check-$name.out")
	[ "$rc" = 0 ] || [ "$T_FAIL" != "$before" ] || grep -q '^not ok - no server_name other than' "$WORK/check-$name.out" ||
		not_ok "$name: check.mjs ran" "exit status $rc" "$(tail -n 20 "$WORK/check-$name.out")"
	dedup_seen "$name"
	stop_mcpwire "$name"
}

sdk_scenario json
sdk_scenario sse --sse

# name: never initialized, so the fallback name; raw requests, so the ids are known
NAME_SOCK=$WORK/name.sock
ABSTRACT=mcpwire-unix-$$
start_mcpwire name
start_server name "$NAME_SOCK"
start_server abstract "@$ABSTRACT"
post() { # CURL_SOCKET_ARGS... -- BODY: a POST with no session, the status on stdout
	local body=${*: -1}
	curl -sS -m 5 -o /dev/null -w '%{http_code}' "${@:1:$#-1}" -X POST http://localhost/mcp \
		-H 'content-type: application/json' -H 'accept: application/json, text/event-stream' --data "$body"
}
st=$(post --unix-socket "$NAME_SOCK" '{"jsonrpc":"2.0","id":1,"method":"tools/list"}')
st2=$(post --unix-socket "$NAME_SOCK" '[{"jsonrpc":"2.0","id":11,"method":"tools/list"},{"jsonrpc":"2.0","id":12,"method":"tools/list"},{"jsonrpc":"2.0","id":13,"method":"tools/list"},{"jsonrpc":"2.0","id":14,"method":"prompts/list"},{"jsonrpc":"2.0","id":15,"method":"prompts/list"},{"jsonrpc":"2.0","id":16,"method":"ping"}]')
st3=$(abstract_post "$ABSTRACT" POST '{"jsonrpc":"2.0","id":"a","method":"ping"}')
if [ "$st" = 400 ] && [ "$st2" = 400 ] && [ "$st3" = 400 ]; then
	ok "name: the SDK refused the uninitialized requests with 400 (single, batch of 6, abstract socket)"
else
	not_ok "name: the SDK refuses uninitialized requests with 400" "statuses $st, $st2, $st3"
fi
sleep 3 # past mcp/'s 1 s deduplication window
L="unix:$NAME_SOCK"
expect_metric name mcp_requests_total "server_name=\"$L\",method=\"tools/list\",status=\"error\"" 4
expect_metric name mcp_requests_total "server_name=\"$L\",method=\"prompts/list\",status=\"error\"" 2
expect_metric name mcp_requests_total "server_name=\"$L\",method=\"ping\",status=\"error\"" 1
expect_metric name mcp_request_errors_total "server_name=\"$L\",method=\"tools/list\",error_code=\"http_400\"" 4
expect_metric name mcp_request_errors_total "server_name=\"$L\",method=\"prompts/list\",error_code=\"http_400\"" 2
expect_metric name mcp_request_errors_total "server_name=\"$L\",method=\"ping\",error_code=\"http_400\"" 1
expect_metric name mcp_requests_total "server_name=\"unix:@$ABSTRACT\",method=\"ping\",status=\"error\"" 1
expect_metric name mcp_request_errors_total "server_name=\"unix:@$ABSTRACT\",method=\"ping\",error_code=\"http_400\"" 1
n=$(curl -fsS -m 2 "$MCPWIRE_URL/metrics" | grep -E '^mcp_requests_total\{' | grep -cE "server_name=\"($L|unix:@$ABSTRACT)\"")
if [ "$n" = 4 ]; then ok "name: no other mcp_requests_total series for these two servers"; else
	not_ok "name: no other mcp_requests_total series for these two servers" "$(curl -fsS -m 2 "$MCPWIRE_URL/metrics" | grep -E '^mcp_requests_total\{')"; fi
# every request of the batch was answered, none left to expire
expect_metric name mcp_requests_in_flight "server_name=\"$L\"" 0
dedup_seen name
stop_mcpwire name

ok "took $((SECONDS - START)) s"
[ "$KEEP" = 1 ] && echo "# work directory: $WORK"
finish
