#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# stdio.sh — mcpwire's integration test of the stdio transport (mcp-wire.md
# §5). Needs root (eBPF); no network namespaces: the client spawns the server.
#
# For each of the reference servers server-memory, server-filesystem and
# server-everything (npm, pinned in package.json), a fresh build/mcpwire is
# started, then the official SDK client (client.mjs --stdio, the SDK's
# StdioClientTransport: the server's stdin and stdout are unix socketpairs, as
# with every Node-based MCP client) spawns the server and runs a known mix of
# calls. /metrics must equal the client's own record exactly per method, tool,
# status, error code and notification under the serverInfo.name
# ("memory-server", "secure-filesystem-server", "mcp-servers/everything"),
# with transport="stdio" on mcp_server_info: each message counted once
# although mcpwire could see both ends of each pipe, mcpwire_events_lost_total
# 0, nothing in flight, and the stdio session ended once the client closed the
# server's stdin. Prints TAP, ends with "N passed, N failed", exits non-zero on
# any failure.
#
# Every mcpwire sees all traffic on the host: run it under
# `flock /tmp/mcpwire-integ.lock` (make integration runs it after run.sh). It
# does not take the lock itself, so that a caller holding it can call it. The checks are on this
# test's server names; other server names (another stdio MCP server on the
# host) are reported as notes, not failures.
#
# Environment: MCPWIRE=path (default build/mcpwire), KEEP=1 keeps the work
# directory, MIX=basic|full for server-everything (default full).

set -uo pipefail

INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tap.sh
source "$INTEG_DIR/tap.sh"
tap_lock "$@"
ROOT=$(cd "$INTEG_DIR/../.." && pwd)
MCPWIRE=${MCPWIRE:-$ROOT/build/mcpwire}
KEEP=${KEEP:-0}
MIX=${MIX:-full}
DEADLINE=$((SECONDS + ${RUN_TIMEOUT:-150}))
MODS=$INTEG_DIR/node_modules/@modelcontextprotocol

# shellcheck source=netns.sh
source "$INTEG_DIR/netns.sh"
# shellcheck source=lib.sh
source "$INTEG_DIR/lib.sh"

tap_preflight stdio.sh node curl
for m in server-memory server-filesystem server-everything; do
	[ -d "$MODS/$m" ] || tap_fatal "node module @modelcontextprotocol/$m missing: cd selftests/integration && npm ci"
done

mcpw_trap_install
WORK=$(mktemp -d /tmp/mcpwire-stdio.XXXXXX)
TAP_LOGS=("*.log" "*.err")
TAP_LOG_LINES=60
[ "$KEEP" = 1 ] || mcpw_on_exit "rm -rf '$WORK'"
NODE=$(command -v node)

MCPWIRE_PID=""
# shellcheck disable=SC2016 # expanded at exit
mcpw_on_exit 'stop_pid "$MCPWIRE_PID" 5'

# start_mcpwire NAME: a fresh daemon for one scenario; ready means /healthz
# answers and the log says "capturing" (the programs are attached).
start_mcpwire() {
	local name=$1 log=$WORK/mcpwire-$1.log i
	MCPWIRE_PORT=$(free_port)
	MCPWIRE_URL="http://127.0.0.1:$MCPWIRE_PORT"
	"$MCPWIRE" --listen "127.0.0.1:$MCPWIRE_PORT" >"$log" 2>&1 </dev/null &
	MCPWIRE_PID=$!
	for ((i = 0; i < 600; i++)); do
		{ grep -q capturing "$log" && http_ok "$MCPWIRE_URL/healthz"; } && break
		alive "$MCPWIRE_PID" || break
		sleep 0.05
	done
	if alive "$MCPWIRE_PID" && grep -q capturing "$log"; then
		ok "$name: mcpwire on 127.0.0.1:$MCPWIRE_PORT is capturing (pid $MCPWIRE_PID)"
	else
		bail "$name: mcpwire is capturing within 30 s" "$(tail -n 20 "$log")"
	fi
}

stop_mcpwire() {
	local name=$1 rc
	if ! alive "$MCPWIRE_PID"; then
		wait "$MCPWIRE_PID"
		not_ok "$name: mcpwire still running after the test traffic" "exit status $?"
		MCPWIRE_PID=""
		return
	fi
	kill -TERM "$MCPWIRE_PID"
	for ((i = 0; i < 50; i++)); do alive "$MCPWIRE_PID" || break; sleep 0.1; done
	if alive "$MCPWIRE_PID"; then
		kill -KILL "$MCPWIRE_PID"
		wait "$MCPWIRE_PID" 2>/dev/null
		not_ok "$name: mcpwire exits within 5 s of SIGTERM"
	else
		wait "$MCPWIRE_PID"
		rc=$?
		if [ "$rc" = 0 ]; then ok "$name: mcpwire exits 0 on SIGTERM"; else not_ok "$name: mcpwire exits 0 on SIGTERM" "exit status $rc"; fi
	fi
	MCPWIRE_PID=""
}

# metric_value NAME LABELS_REGEX: the first sample's value ("" if none).
metric_value() {
	curl -fsS -m 2 "$MCPWIRE_URL/metrics" 2>/dev/null | grep -E "^$1\{[^}]*$2" | head -n 1 | awk '{print $NF}'
}
session_ended() { # SERVER_NAME
	local v
	v=$(metric_value mcp_sessions_active "server_name=\"$1\",transport=\"stdio\"")
	[ "$v" = 0 ]
}

# scenario NAME SERVER_NAME SERVER_VERSION CLIENT_ARGS... -- COMMAND...
scenario() {
	local name=$1 sname=$2 sver=$3 rc before_fail v
	shift 3
	time_left || bail "$name: time left" "stdio.sh ran out of its ${RUN_TIMEOUT:-150}s budget"
	start_mcpwire "$name"
	timeout 60 "$NODE" "$INTEG_DIR/client.mjs" --stdio --record "$WORK/$name.json" --max-seconds 45 --quiet "$@" \
		>"$WORK/client-$name.out" 2>"$WORK/client-$name.err" </dev/null
	rc=$?
	if [ "$rc" = 0 ] && [ -s "$WORK/$name.json" ]; then
		ok "$name: client.mjs --stdio spawned the server and ran its mix"
		node -e 'const r=require(process.argv[1]);
			console.log("# record: requests " + JSON.stringify(r.requests));
			console.log("# record: tools " + JSON.stringify(r.tools) + " errors " + JSON.stringify(r.error_codes));
			console.log("# record: notifications " + JSON.stringify(r.notifications) + " serverInfo " + JSON.stringify(r.server_info))' \
			"$WORK/$name.json"
	else
		not_ok "$name: client.mjs --stdio ran cleanly" "exit status $rc" "$(tail -n 20 "$WORK/client-$name.err")" \
			"$(cat "$WORK/$name.json" 2>/dev/null)"
		stop_mcpwire "$name"
		return
	fi

	# The server exits once its stdin is closed; mcpwire ends the session
	# when the server's stdin goes (close, or the exit: swept every 5 s).
	if wait_for 12 "the stdio session of $sname to end" session_ended "$sname"; then
		ok "$name: mcp_sessions_active{server_name=\"$sname\",transport=\"stdio\"} back to 0 after the client closed the server's stdin"
	else
		not_ok "$name: mcp_sessions_active{server_name=\"$sname\",transport=\"stdio\"} back to 0 within 12 s" \
			"observed: $(curl -fsS -m 2 "$MCPWIRE_URL/metrics" | grep '^mcp_sessions_active')"
	fi
	if curl -fsS -m 2 "$MCPWIRE_URL/metrics" | grep -E "^mcp_server_info\{" | grep "server_name=\"$sname\"" | grep -q 'transport="stdio"'; then
		ok "$name: mcp_server_info{server_name=\"$sname\"} has transport=\"stdio\""
	else
		not_ok "$name: mcp_server_info{server_name=\"$sname\"} has transport=\"stdio\"" \
			"observed: $(curl -fsS -m 2 "$MCPWIRE_URL/metrics" | grep '^mcp_server_info')"
	fi

	node "$INTEG_DIR/check.mjs" --record "$WORK/$name.json" --metrics-url "$MCPWIRE_URL/metrics" \
		--server-name "$sname" --server-version "$sver" --settle-seconds 8 \
		--save "$WORK/metrics-$name.txt" >"$WORK/check-$name.out" 2>&1
	rc=$?
	before_fail=$T_FAIL
	# Another stdio MCP server on this host is not this test's failure.
	sed 's/^not ok - \(no server_name other than.*\)$/# note: \1 (another MCP server on this host?)/' \
		"$WORK/check-$name.out" >"$WORK/check-$name.tap"
	tap_feed "$WORK/check-$name.tap" "$name: "
	if [ "$rc" != 0 ] && [ "$T_FAIL" = "$before_fail" ] && ! grep -q '^# note: no server_name other than' "$WORK/check-$name.tap"; then
		not_ok "$name: check.mjs ran" "exit status $rc without a failed check:" "$(tail -n 20 "$WORK/check-$name.out")"
	fi
	# Both ends of each socketpair are on this host, but only the server's
	# fd 0/1 are traced: nothing was there to deduplicate.
	v=$(curl -fsS -m 2 "$MCPWIRE_URL/metrics" | awk '$1 == "mcpwire_messages_deduplicated_total" {print $2}')
	if [ "${v:-0}" = 0 ]; then
		ok "$name: every message seen once, at the server's end (mcpwire_messages_deduplicated_total 0)"
	else
		not_ok "$name: every message seen once, at the server's end" "mcpwire_messages_deduplicated_total $v"
	fi
	stop_mcpwire "$name"
}

MEM_FILE=$WORK/memory.jsonl
FS_DIR=$WORK/fs
mkdir -p "$FS_DIR"
echo "hello from the selftest" >"$FS_DIR/hello.txt"

scenario memory memory-server 0.6.3 --mix memory --repeat 2 --env "MEMORY_FILE_PATH=$MEM_FILE" \
	-- "$NODE" "$MODS/server-memory/dist/index.js"
scenario filesystem secure-filesystem-server 0.2.0 --mix filesystem --fs-dir "$FS_DIR" \
	-- "$NODE" "$MODS/server-filesystem/dist/index.js" "$FS_DIR"
scenario everything mcp-servers/everything 2.0.0 --mix "$MIX" \
	-- "$NODE" "$MODS/server-everything/dist/index.js" stdio

finish
