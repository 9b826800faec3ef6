#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# http-full.sh — Streamable HTTP in full, on real bytes (mcp-wire.md §5, §8).
# Needs root.
#
# The network of run.sh (netns.sh): json-server.mjs (the official SDK's
# McpServer with enableJsonResponse: true, so every answer is one
# application/json body) in container "server", build/mcpwire on the host.
#   1. client.mjs --mix json drives it (JSON answers, the standalone GET
#      stream, 202s, DELETE, a throwing tool, isError, prompts/get and
#      resources/read with a JSON-RPC error each); /metrics must equal the
#      client's record exactly (check.mjs);
#   2. http-raw.mjs errors: POSTs carrying requests of known ids answered 400
#      (no session; bad MCP-Protocol-Version), 404, 405, 406, 415, and each
#      request of a batch of 6 refused with 400, are each one
#      error with error_code http_<status>; 4xx answers carrying no request
#      (notification-only POSTs, GET and DELETE refused with 405) count none;
#   3. http-raw.mjs v2026: the 2026-07-28 revision's stateless requests with
#      Mcp-Method/Mcp-Name headers (one =?base64?…?=) to json-server.mjs's
#      FIXTURE port, which answers in that revision's shape by hand because
#      no SDK speaks it yet: named from result._meta serverInfo, tools from
#      the headers, protocol_version from MCP-Protocol-Version; the call log
#      names the prompt and the resource from the headers too.
# Every mcpwire sees all traffic on the host, so the script runs under
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
SERVER_PORT=3002
FIXTURE_PORT=3003
SERVER_NAME="mcpwire-json-server"
SERVER_VERSION="1.2.3"
START=$SECONDS

# shellcheck source=netns.sh
source "$INTEG_DIR/netns.sh"
# shellcheck source=lib.sh
source "$INTEG_DIR/lib.sh"


tap_preflight http-full.sh ip node curl ss

mcpw_trap_install
WORK=$(mktemp -d /tmp/mcpwire-http-full.XXXXXX)
[ "$KEEP" = 1 ] || mcpw_on_exit "rm -rf '$WORK'"

netns_up 2>"$WORK/net.err" && netns_add server 2>>"$WORK/net.err" && netns_add client 2>>"$WORK/net.err" ||
	bail "network: bridge and two containers" "$(cat "$WORK/net.err")"
SERVER_IP=${NETNS_IP[server]}

# the JSON-answer SDK server on SERVER_PORT, the 2026-07-28 fixture on FIXTURE_PORT
node_bin=$(command -v node)
for spec in "$SERVER_PORT:sdk" "$FIXTURE_PORT:fixture"; do
	ip netns exec "${NETNS_NS[server]}" env -i PATH=/usr/bin:/bin HOME=/nonexistent \
		"$node_bin" "$INTEG_DIR/json-server.mjs" --port "${spec%%:*}" \
		>"$WORK/server-${spec#*:}.log" 2>&1 </dev/null &
	mcpw_on_exit "stop_pid $! 3"
done
wait_for 20 "json-server.mjs" listening server "$SERVER_PORT" && wait_for 10 "fixture" listening server "$FIXTURE_PORT" ||
	bail "json-server.mjs listens" "$(tail -n 20 "$WORK"/server-*.log)"

PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
"$MCPWIRE" --listen "127.0.0.1:$PORT" --log-calls "$WORK/calls.jsonl" >"$WORK/mcpwire.log" 2>&1 </dev/null &
MCPWIRE_PID=$!
mcpw_on_exit "stop_pid $MCPWIRE_PID 5"
mcpwire_ready() { grep -q capturing "$WORK/mcpwire.log" && http_ok "$URL/healthz"; }
wait_for 30 "mcpwire capturing" mcpwire_ready ||
	bail "mcpwire capturing on $URL" "$(tail -n 20 "$WORK/mcpwire.log")"
ok "mcpwire capturing on $URL, json-server.mjs on $SERVER_IP:$SERVER_PORT (fixture :$FIXTURE_PORT)"

# 1. the SDK client, exactly
netns_exec client timeout 40 node "$INTEG_DIR/client.mjs" --url "http://$SERVER_IP:$SERVER_PORT/mcp" \
	--record "$WORK/record.json" --mix json --repeat 2 --max-seconds 30 --quiet \
	>"$WORK/client.out" 2>"$WORK/client.err" ||
	bail "client.mjs --mix json ran" "$(cat "$WORK/client.err")" "$(node -e 'console.log(require(process.argv[1]).errors)' "$WORK/record.json" 2>&1)"
ok "client.mjs --mix json ran 2 sessions against JSON answers"
node "$INTEG_DIR/check.mjs" --record "$WORK/record.json" --metrics-url "$URL/metrics" \
	--server-name "$SERVER_NAME" --server-version "$SERVER_VERSION" \
	--settle-seconds 8 --save "$WORK/metrics.json-answers" >"$WORK/check.out" 2>&1
rc=$?
before=$T_FAIL
tap_feed "$WORK/check.out" "json: "
[ "$rc" = 0 ] || [ "$T_FAIL" != "$before" ] || not_ok "json: check.mjs ran" "$(tail -n 20 "$WORK/check.out")"

# 2. HTTP-level errors, by raw requests from the host (through the bridge:
# http-raw.mjs reads /metrics on loopback between them)
timeout 30 node "$INTEG_DIR/http-raw.mjs" errors --url "http://$SERVER_IP:$SERVER_PORT" \
	--metrics-url "$URL/metrics" --server-name "$SERVER_NAME" >"$WORK/errors.out" 2>&1
rc=$?
before=$T_FAIL
tap_feed "$WORK/errors.out" "http errors: "
[ "$rc" = 0 ] || [ "$T_FAIL" != "$before" ] || not_ok "http errors: http-raw.mjs ran" "$(tail -n 20 "$WORK/errors.out")"

# 3. 2026-07-28 stateless requests to the fixture
timeout 30 node "$INTEG_DIR/http-raw.mjs" v2026 --url "http://$SERVER_IP:$FIXTURE_PORT/mcp-2026" \
	--metrics-url "$URL/metrics" >"$WORK/v2026.out" 2>&1
rc=$?
before=$T_FAIL
tap_feed "$WORK/v2026.out" "2026-07-28: "
[ "$rc" = 0 ] || [ "$T_FAIL" != "$before" ] || not_ok "2026-07-28: http-raw.mjs ran" "$(tail -n 20 "$WORK/v2026.out")"
# prompts and resources have no label: the call log shows the header named them
calls_have() { # JQ-less: node filters the JSON lines
	node -e 'const [f, k, v] = process.argv.slice(1);
		const n = require("fs").readFileSync(f, "utf8").split("\n").filter(Boolean).map(JSON.parse)
			.filter((c) => c.server === "fixture-2026" && c[k] === v).length;
		process.exit(n === 1 ? 0 : 1)' "$WORK/calls.jsonl" "$1" "$2"
}
sleep 1.5
check "2026-07-28: call log names the prompt from Mcp-Name" calls_have prompt greet
check "2026-07-28: call log names the resource from Mcp-Name" calls_have resource mem://readme

check "mcpwire still running" alive "$MCPWIRE_PID"
ok "took $((SECONDS - START)) s"
[ "$KEEP" = 1 ] && echo "# work directory: $WORK"
finish
