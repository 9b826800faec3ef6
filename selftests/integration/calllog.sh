#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# calllog.sh — the call log against real traffic (make integration). Needs root.
#
# The network of run.sh (netns.sh: containers "server" and "client" on a
# bridge), server-everything (Streamable HTTP) in "server", build/mcpwire on the
# host with --log-calls FILE, and the official SDK client (client.mjs) in
# "client". The client's record is the ground truth: the log must hold exactly
# one line per request it sent, with the same method, tool, status and error
# code (calllog-check.mjs). Then the log is rotated the logrotate way (rename,
# SIGHUP): a second client run must land in the new file only. Those lines
# carry no payload key; a last run with --log-payloads must log the echo
# calls' arguments and results, redacted. Prints TAP, ends with
# "N passed, N failed", exits non-zero on any failure.
#
# mcpwire sees every MCP message on the host, and other test runs start their
# own: run it under the shared lock, e.g.
#   flock /tmp/mcpwire-integ.lock selftests/integration/calllog.sh
#
# Environment: MCPWIRE=path (default build/mcpwire), KEEP=1 keeps the work
# directory, NETNS_SUBNET_PREFIX=A.B as in run.sh.

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


tap_preflight calllog.sh ip node curl ss

mcpw_trap_install
WORK=$(mktemp -d /tmp/mcpwire-calllog.XXXXXX)
TAP_LOGS=(mcpwire.log mcpwire3.log server.log client.err client2.err client3.err)
[ "$KEEP" = 1 ] || mcpw_on_exit "rm -rf '$WORK'"
watchdog $((DEADLINE - SECONDS + 10))

[ -x "$MCPWIRE" ] || bail "$MCPWIRE exists and is executable" "build it first: make"

# 1. network and server
if netns_up 2>"$WORK/net.err" && netns_add server 2>>"$WORK/net.err" && netns_add client 2>>"$WORK/net.err"; then
	SERVER_IP=${NETNS_IP[server]}
	ok "network: bridge $NETNS_BRIDGE, server ${NETNS_NS[server]} $SERVER_IP, client ${NETNS_NS[client]} ${NETNS_IP[client]}"
else
	bail "network: bridge and two containers" "$(cat "$WORK/net.err")"
fi
start_everything server "$SERVER_PORT" "$WORK/server.log"
if wait_for 20 "server-everything on :$SERVER_PORT" listening server "$SERVER_PORT"; then
	ok "server-everything listens on $SERVER_IP:$SERVER_PORT"
else
	bail "server-everything listens on :$SERVER_PORT" "$(tail -n 20 "$WORK/server.log")"
fi

# 2. mcpwire with the call log
LOG=$WORK/calls.jsonl
MCPWIRE_PORT=$(free_port)
MCPWIRE_URL="http://127.0.0.1:$MCPWIRE_PORT"
"$MCPWIRE" --listen "127.0.0.1:$MCPWIRE_PORT" --log-calls "$LOG" >"$WORK/mcpwire.log" 2>&1 </dev/null &
MCPWIRE_PID=$!
# shellcheck disable=SC2016 # expanded at exit
mcpw_on_exit 'stop_pid "$MCPWIRE_PID" 5'
mcpwire_ready() { grep -q capturing "$WORK/mcpwire.log" && http_ok "$MCPWIRE_URL/healthz"; }
for ((i = 0; i < 600; i++)); do { mcpwire_ready || ! alive "$MCPWIRE_PID"; } && break; sleep 0.05; done
if alive "$MCPWIRE_PID" && mcpwire_ready; then
	ok "mcpwire --log-calls $LOG is capturing (pid $MCPWIRE_PID)"
else
	bail "mcpwire --log-calls is capturing within 30 s" "$(tail -n 30 "$WORK/mcpwire.log")"
fi
mode=$(stat -c %a "$LOG" 2>/dev/null)
if [ "$mode" = 640 ] || [ "$mode" = 600 ]; then
	ok "the log file exists from the start, mode $mode (0640 less the umask)"
else
	not_ok "the log file exists from the start, mode 0640 less the umask" "mode: ${mode:-no file}"
fi

# run_client RECORD ERR MIX REPEAT: the ground truth.
run_client() {
	netns_exec client timeout 60 node "$INTEG_DIR/client.mjs" --url "http://$SERVER_IP:$SERVER_PORT/mcp" \
		--record "$1" --mix "$3" --repeat "$4" --max-seconds 45 --quiet >/dev/null 2>"$2"
}
# check_log RECORD LOG NAME
check_log() {
	node "$INTEG_DIR/calllog-check.mjs" --record "$1" --log "$2" --endpoint "$SERVER_IP:$SERVER_PORT" \
		--server-name "$SERVER_NAME" --client-name mcpwire-selftest --client-version 1.0.0 \
		>"$WORK/$3.out" 2>&1
	local rc=$? before=$T_FAIL
	tap_feed "$WORK/$3.out"
	if [ "$rc" != 0 ] && [ "$T_FAIL" = "$before" ]; then
		not_ok "calllog-check.mjs ran ($3)" "exit status $rc:" "$(tail -n 20 "$WORK/$3.out")"
	fi
}

# 3. the client (full mix: tool errors, progress, a cancelled call), twice
if run_client "$WORK/record.json" "$WORK/client.err" full 2 && [ -s "$WORK/record.json" ]; then
	ok "client.mjs (full mix, 2 sessions) ran against http://$SERVER_IP:$SERVER_PORT/mcp"
	node -e 'const r=require(process.argv[1]); console.log("# record: requests " + JSON.stringify(r.requests))' "$WORK/record.json"
else
	bail "client.mjs ran cleanly" "$(cat "$WORK/client.err")"
fi
# the dedup window (1 s) and a flush tick (100 ms)
sleep 2
check_log "$WORK/record.json" "$LOG" first

# 4. rotation: rename, SIGHUP, a second client run goes to the new file
lines_before=$(wc -l <"$LOG")
mv "$LOG" "$LOG.1"
kill -HUP "$MCPWIRE_PID"
for ((i = 0; i < 40; i++)); do [ -e "$LOG" ] && break; sleep 0.05; done
if [ -e "$LOG" ] && alive "$MCPWIRE_PID"; then
	ok "SIGHUP after a rename: mcpwire reopened $LOG and kept running"
else
	bail "SIGHUP after a rename reopens the log" "$(tail -n 20 "$WORK/mcpwire.log")"
fi
if run_client "$WORK/record2.json" "$WORK/client2.err" basic 1 && [ -s "$WORK/record2.json" ]; then
	ok "client.mjs (basic mix, 1 session) ran after the rotation"
else
	bail "client.mjs ran cleanly after the rotation" "$(cat "$WORK/client2.err")"
fi

# 5. SIGTERM: what is still buffered is written before exit
kill -TERM "$MCPWIRE_PID"
for ((i = 0; i < 50; i++)); do alive "$MCPWIRE_PID" || break; sleep 0.1; done
if alive "$MCPWIRE_PID"; then
	not_ok "mcpwire exits within 5 s of SIGTERM"
else
	wait "$MCPWIRE_PID"
	rc=$?
	if [ "$rc" = 0 ]; then ok "mcpwire exits 0 on SIGTERM"; else not_ok "mcpwire exits 0 on SIGTERM" "exit status $rc"; fi
fi
MCPWIRE_PID=""
check_log "$WORK/record2.json" "$LOG" second
lines_after=$(wc -l <"$LOG.1")
if [ "$lines_after" = "$lines_before" ]; then
	ok "the rotated file kept its $lines_before line(s); nothing was written to it after SIGHUP"
else
	not_ok "the rotated file is left alone after SIGHUP" "$lines_before lines before, $lines_after after"
fi

# 6. payloads: none without --log-payloads; with it, the echo calls' arguments
# and results, redacted (check_payloads prints TAP lines)
check_payloads() { # LOG WANT(0|1)
	node - "$1" "$2" <<'JS'
const fs = require('fs');
const [log, want] = [process.argv[2], process.argv[3] === '1'];
const lines = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const pk = /^(arguments|result|error)(_omitted)?$/;
const secret = /(^session$|password$|passwd$|secret$|token$|apikey$|privatekey$|secretkey$|accesskey$|credentials?$|cookie$|authorization$)/;
const ok = (c, n, d) => console.log(`${c ? 'ok' : 'not ok'} - calllog: ${n}${c ? '' : '\n# ' + d}`);
if (!want) {
	const bad = lines.filter((o) => Object.keys(o).some((k) => pk.test(k)));
	ok(lines.length && !bad.length, `without --log-payloads no payload key in ${lines.length} lines`,
	   JSON.stringify(bad[0]));
	process.exit(0);
}
const echo = lines.filter((o) => o.tool === 'echo' && o.status === 'ok');
const good = echo.filter((o) => /^hello \d+$/.test(o.arguments?.message ?? '') &&
	o.result?.content?.[0]?.text === `Echo: ${o.arguments.message}`);
ok(echo.length >= 5 && good.length === echo.length,
   `--log-payloads: ${good.length}/${echo.length} echo calls carry arguments and result`, JSON.stringify(echo[0]));
/* secrets under well-known keys never reach the file, at any depth, also
 * inside JSON strings (get-env returns the server's environment as one) */
const leaks = [];
const walk = (v, path) => {
	if (typeof v === 'string' && /^\s*[[{]/.test(v)) {
		try { walk(JSON.parse(v), path + '<json>'); } catch { /* prose */ }
	} else if (v && typeof v === 'object') {
		for (const [k, x] of Object.entries(v)) {
			if (secret.test(k.toLowerCase().replace(/[-_. ]/g, '')) && x !== '[REDACTED]')
				leaks.push(`${path}.${k}`);
			walk(x, `${path}.${k}`);
		}
	}
};
for (const o of lines)
	for (const k of ['arguments', 'result', 'error'])
		if (k in o) walk(o[k], `${o.method}#${o.id}.${k}`);
const env = lines.find((o) => o.tool === 'get-env');
ok(!leaks.length && env && ('result' in env || env.result_omitted === 'truncated'),
   `--log-payloads: values under secret keys redacted (get-env: ${env && ('result' in env ? 'logged' : 'omitted, over 4 KiB')})`,
   leaks.slice(0, 5).join(' ') || JSON.stringify(env));
JS
}
# payloads_tap LOG WANT NAME: check_payloads, a crash of it failing the test
payloads_tap() {
	check_payloads "$1" "$2" >"$WORK/$3.out" 2>&1
	local rc=$?
	tap_feed "$WORK/$3.out"
	if [ "$rc" != 0 ] || ! grep -q '^\(not \)\?ok - ' "$WORK/$3.out"; then
		not_ok "payload check ran ($3)" "exit status $rc:" "$(tail -n 20 "$WORK/$3.out")"
	fi
}
payloads_tap "$LOG.1" 0 payloads0

LOG3=$WORK/calls-payloads.jsonl
"$MCPWIRE" --listen "127.0.0.1:$MCPWIRE_PORT" --log-calls "$LOG3" --log-payloads \
	>"$WORK/mcpwire3.log" 2>&1 </dev/null &
MCPWIRE_PID=$!
for ((i = 0; i < 600; i++)); do
	{ { grep -q capturing "$WORK/mcpwire3.log" && http_ok "$MCPWIRE_URL/healthz"; } || ! alive "$MCPWIRE_PID"; } && break
	sleep 0.05
done
if alive "$MCPWIRE_PID" && grep -q capturing "$WORK/mcpwire3.log"; then
	ok "mcpwire --log-calls --log-payloads is capturing (pid $MCPWIRE_PID)"
else
	bail "mcpwire --log-payloads is capturing within 30 s" "$(tail -n 30 "$WORK/mcpwire3.log")"
fi
if run_client "$WORK/record3.json" "$WORK/client3.err" basic 1 && [ -s "$WORK/record3.json" ]; then
	ok "client.mjs (basic mix, 1 session) ran with --log-payloads"
else
	bail "client.mjs ran cleanly with --log-payloads" "$(cat "$WORK/client3.err")"
fi
kill -TERM "$MCPWIRE_PID"
for ((i = 0; i < 50; i++)); do alive "$MCPWIRE_PID" || break; sleep 0.1; done
wait "$MCPWIRE_PID" 2>/dev/null
MCPWIRE_PID=""
payloads_tap "$LOG3" 1 payloads1

finish
