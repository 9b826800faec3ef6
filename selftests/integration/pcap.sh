#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# pcap.sh — mcpwire --read against a real capture. Needs root (network
# namespaces, tcpdump); mcpwire itself runs unprivileged-style: no BPF.
#
# The network of run.sh (netns.sh): server-everything in container "server",
# the SDK client (client.mjs, full mix) in "client". tcpdump records the
# bridge while the client runs; no mcpwire is attached. Then:
#   1. build/mcpwire --read capture.pcap exits 0 and prints an exposition that
#      equals the client's record exactly (check.mjs, served to it as /metrics);
#   2. --read with --listen serves the same exposition until SIGTERM, exit 0;
#   3. a missing file and a file that is no capture fail with one line, exit 1.
# The replay's time and messages/s are printed as a diagnostic
# (docs/performance.md "Offline replay").
#
# Runs under flock /tmp/mcpwire-integ.lock like the other scripts (a live
# mcpwire of another script would see this traffic too, harmlessly, but the
# bridge names and ports are best not raced). TAP, "N passed, N failed".
#
# Environment: MCPWIRE (binary), KEEP=1 keeps the work directory,
# REPEAT=N sessions (default 1: the script must stay under a minute).

set -uo pipefail

INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tap.sh
source "$INTEG_DIR/tap.sh"
tap_lock "$@"
ROOT=$(cd "$INTEG_DIR/../.." && pwd)
MCPWIRE=${MCPWIRE:-$ROOT/build/mcpwire}
KEEP=${KEEP:-0}
REPEAT=${REPEAT:-1}
SERVER_PORT=3001
SERVER_NAME="mcp-servers/everything"
SERVER_VERSION="2.0.0"

# shellcheck source=netns.sh
source "$INTEG_DIR/netns.sh"
# shellcheck source=lib.sh
source "$INTEG_DIR/lib.sh"


tap_preflight pcap.sh ip node curl ss tcpdump

mcpw_trap_install
WORK=$(mktemp -d /tmp/mcpwire-pcap.XXXXXX)
[ "$KEEP" = 1 ] || mcpw_on_exit "rm -rf '$WORK'"

# ------------------------------------------------------------ record

if netns_up 2>"$WORK/net.err" && netns_add server 2>>"$WORK/net.err" && netns_add client 2>>"$WORK/net.err"; then
	SERVER_IP=${NETNS_IP[server]}
	ok "network: bridge $NETNS_BRIDGE, server $SERVER_IP, client ${NETNS_IP[client]}"
else
	bail "network: bridge and two containers" "$(cat "$WORK/net.err")"
fi
start_everything server "$SERVER_PORT" "$WORK/server.log"
wait_for 20 "server-everything" listening server "$SERVER_PORT" ||
	bail "server-everything listens on :$SERVER_PORT" "$(tail -n 20 "$WORK/server.log")"

# --immediate-mode and -U: each packet read and written at once (by default
# libpcap hands them over in blocks, up to a second late, and SIGTERM loses
# the block in flight); -s 0: whole packets; the filter keeps ARP and the
# like out (they would only be counted as not TCP).
tcpdump -i "$NETNS_BRIDGE" -w "$WORK/capture.pcap" --immediate-mode -U -s 0 "tcp port $SERVER_PORT" \
	>"$WORK/tcpdump.log" 2>&1 </dev/null &
TCPDUMP_PID=$!
mcpw_on_exit "stop_pid $TCPDUMP_PID 3"
if wait_for 10 "tcpdump listening" grep -q 'listening on' "$WORK/tcpdump.log"; then
	ok "tcpdump records $NETNS_BRIDGE (pid $TCPDUMP_PID)"
else
	bail "tcpdump records $NETNS_BRIDGE" "$(cat "$WORK/tcpdump.log")"
fi

netns_exec client timeout 60 node "$INTEG_DIR/client.mjs" --url "http://$SERVER_IP:$SERVER_PORT/mcp" \
	--record "$WORK/record.json" --mix full --repeat "$REPEAT" --max-seconds 40 --quiet \
	>"$WORK/client.out" 2>"$WORK/client.err"
rc=$?
sleep 1 # the last FINs
stop_pid "$TCPDUMP_PID" 3
if [ "$rc" = 0 ] && [ -s "$WORK/record.json" ] && [ -s "$WORK/capture.pcap" ]; then
	ok "client.mjs (full mix, $REPEAT sessions) ran; capture $(stat -c %s "$WORK/capture.pcap") bytes ($(grep -o '[0-9]* packets captured' "$WORK/tcpdump.log"), $(grep -o '[0-9]* packets received by filter' "$WORK/tcpdump.log"))"
else
	bail "client.mjs ran and tcpdump recorded it" "client exit status $rc" "$(tail -n 20 "$WORK/client.err")" "$(cat "$WORK/tcpdump.log")"
fi

# ------------------------------------------------------------ replay

start=$(date +%s%N)
"$MCPWIRE" --read "$WORK/capture.pcap" >"$WORK/printed.prom" 2>"$WORK/replay.err"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
if [ "$rc" = 0 ] && grep -q '^mcpwire_build_info' "$WORK/printed.prom"; then
	ok "mcpwire --read capture.pcap exits 0 and prints the exposition ($(wc -l <"$WORK/printed.prom") lines, ${ms} ms)"
	sed 's/^/# /' "$WORK/replay.err"
else
	not_ok "mcpwire --read capture.pcap exits 0 and prints the exposition" "exit status $rc" "$(cat "$WORK/replay.err")"
fi
# messages seen: requests and their answers, notifications
node -e 'const t = require("fs").readFileSync(process.argv[1], "utf8"); let n = 0;
	for (const l of t.split("\n")) {
		if (l.startsWith("mcp_requests_total{")) n += 2 * Number(l.split(" ").pop());
		if (l.startsWith("mcp_notifications_total{")) n += Number(l.split(" ").pop());
	}
	console.log(`# replay: ${n} MCP messages in ${process.argv[2]} ms (whole process, one run)`);' \
	"$WORK/printed.prom" "$ms"

# check.mjs reads /metrics over HTTP: serve it the printed text as mcpwire would
SERVE_PORT=$(free_port)
node -e 'const fs = require("fs"), body = fs.readFileSync(process.argv[1]);
	require("http").createServer((q, s) => { s.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }); s.end(body); })
		.listen(Number(process.argv[2]), "127.0.0.1");' "$WORK/printed.prom" "$SERVE_PORT" &
SERVE_PID=$!
mcpw_on_exit "stop_pid $SERVE_PID 2"
wait_for 10 "file server" http_ok "http://127.0.0.1:$SERVE_PORT/metrics"
node "$INTEG_DIR/check.mjs" --record "$WORK/record.json" --metrics-url "http://127.0.0.1:$SERVE_PORT/metrics" \
	--server-name "$SERVER_NAME" --server-version "$SERVER_VERSION" --settle-seconds 0 \
	>"$WORK/check.out" 2>&1
rc=$?
before=$T_FAIL
tap_feed "$WORK/check.out"
if [ "$rc" != 0 ] && [ "$T_FAIL" = "$before" ]; then
	not_ok "check.mjs ran" "exit status $rc" "$(tail -n 20 "$WORK/check.out")"
fi
stop_pid "$SERVE_PID" 2

# ------------------------------------------------------- --read --listen

LPORT=$(free_port)
"$MCPWIRE" --read "$WORK/capture.pcap" --listen "127.0.0.1:$LPORT" >"$WORK/listen.out" 2>"$WORK/listen.err" </dev/null &
LPID=$!
mcpw_on_exit "stop_pid $LPID 3"
if wait_for 15 "replay done" grep -q 'replay done' "$WORK/listen.err" && http_ok "http://127.0.0.1:$LPORT/healthz"; then
	curl -fsS -m 2 "http://127.0.0.1:$LPORT/metrics" >"$WORK/served.prom"
	if diff <(grep '^mcp_' "$WORK/printed.prom") <(grep '^mcp_' "$WORK/served.prom") >"$WORK/served.diff"; then
		ok "--read --listen serves the same mcp_* series after the replay ($(grep -c '^mcp_' "$WORK/served.prom") samples), nothing on stdout: $(wc -c <"$WORK/listen.out") bytes"
	else
		not_ok "--read --listen serves the same mcp_* series as --read prints" "$(head -n 20 "$WORK/served.diff")"
	fi
	kill -TERM "$LPID"
	for ((i = 0; i < 50; i++)); do alive "$LPID" || break; sleep 0.1; done
	if alive "$LPID"; then
		not_ok "--read --listen exits on SIGTERM within 5 s"
	else
		wait "$LPID"
		rc=$?
		if [ "$rc" = 0 ]; then ok "--read --listen exits 0 on SIGTERM"; else not_ok "--read --listen exits 0 on SIGTERM" "exit status $rc"; fi
	fi
else
	not_ok "--read --listen finishes the replay and answers /healthz" "$(cat "$WORK/listen.err")"
fi

# ------------------------------------------------------------ errors

"$MCPWIRE" --read "$WORK/nonexistent.pcap" >"$WORK/e1.out" 2>"$WORK/e1.err"
rc=$?
if [ "$rc" = 1 ] && [ "$(wc -l <"$WORK/e1.err")" = 1 ] && grep -q 'No such file' "$WORK/e1.err" && [ ! -s "$WORK/e1.out" ]; then
	ok "--read of a missing file: exit 1, one line: $(cat "$WORK/e1.err")"
else
	not_ok "--read of a missing file: exit 1, one line" "exit $rc" "$(cat "$WORK/e1.err")"
fi
"$MCPWIRE" --read "$WORK/record.json" >"$WORK/e2.out" 2>"$WORK/e2.err"
rc=$?
if [ "$rc" = 1 ] && [ "$(wc -l <"$WORK/e2.err")" = 1 ] && grep -q 'not a pcap' "$WORK/e2.err" && [ ! -s "$WORK/e2.out" ]; then
	ok "--read of a file that is no capture: exit 1, one line: $(cat "$WORK/e2.err")"
else
	not_ok "--read of a file that is no capture: exit 1, one line" "exit $rc" "$(cat "$WORK/e2.err")"
fi

finish
