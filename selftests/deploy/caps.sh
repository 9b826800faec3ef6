#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2046,SC2086 # $(caps …) and $NOBODY are word-split into setpriv options on purpose
#
# caps.sh — which privileges does mcpwire need on THIS kernel? Needs root.
#
# Starts build/mcpwire under setpriv(1) with a given user and capability set
# (bounding, inheritable, ambient, so the effective set is exactly that list),
# and, when it reaches "capturing", drives one MCP exchange over loopback
# (a tiny JSON-RPC server and client in node, both as root in another
# process) and checks that /metrics counted it: so "works" means the programs
# loaded, attached, and read other processes' syscall buffers.
#
# Prints TAP, one line per configuration; "expected" configurations must work,
# "must fail" ones must be refused. Ends with "N passed, N failed".
# Takes /tmp/mcpwire-integ.lock for its run (every mcpwire sees all host
# traffic; concurrent tests would count each other's calls).
#
# Environment: MCPWIRE=path (default build/mcpwire), KEEP=1 keeps logs.

set -uo pipefail
if [ -z "${MCPWIRE_INTEG_LOCKED:-}" ] && [ "$(id -u)" = 0 ]; then
	export MCPWIRE_INTEG_LOCKED=1
	exec flock /tmp/mcpwire-integ.lock "$0" "$@"
fi
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
MCPWIRE=${MCPWIRE:-$ROOT/build/mcpwire}
KEEP=${KEEP:-0}

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP caps.sh needs root"
	echo "0 passed, 0 failed"
	exit 0
fi
for b in setpriv node curl; do
	command -v $b >/dev/null || { echo "Bail out! $b missing"; echo "0 passed, 1 failed"; exit 1; }
done
[ -x "$MCPWIRE" ] || { echo "Bail out! $MCPWIRE missing (make)"; echo "0 passed, 1 failed"; exit 1; }

WORK=$(mktemp -d /tmp/mcpwire-caps.XXXXXX)
chmod 755 "$WORK"
# the binary must be reachable by the unprivileged uid
cp "$MCPWIRE" "$WORK/mcpwire" && chmod 755 "$WORK/mcpwire"
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	if [ "$KEEP" = 1 ]; then echo "# work directory: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# A minimal MCP server over HTTP (initialize + tools/call), and a client
# making one initialize and one tools/call with a unique tool name.
cat >"$WORK/mini.mjs" <<'JS'
import http from 'node:http';
const [mode, port, tool] = process.argv.slice(2);
if (mode === 'server') {
	http.createServer((req, res) => {
		let b = '';
		req.on('data', (c) => (b += c));
		req.on('end', () => {
			const m = JSON.parse(b);
			const result = m.method === 'initialize'
				? { protocolVersion: '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'caps-probe', version: '1.0.0' } }
				: { content: [{ type: 'text', text: 'ok' }] };
			const out = JSON.stringify({ jsonrpc: '2.0', id: m.id, result });
			res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 's1' });
			res.end(out);
		});
	}).listen(Number(port), '127.0.0.1', () => console.log('listening'));
} else {
	const post = (body) => fetch(`http://127.0.0.1:${port}/mcp`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': 's1' },
		body: JSON.stringify(body),
	}).then((r) => r.text());
	await post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' } } });
	await post({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: {} } });
}
JS

SRV_PORT=$(free_port)
node "$WORK/mini.mjs" server "$SRV_PORT" >"$WORK/server.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do grep -q listening "$WORK/server.log" && break; sleep 0.1; done

N=0 PASS=0 FAIL=0
ok() { N=$((N + 1)) PASS=$((PASS + 1)); echo "ok $N - $*"; }
notok() { local n=$1; shift; N=$((N + 1)) FAIL=$((FAIL + 1)); echo "not ok $N - $n"; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#   /'; done; }

# try NAME EXPECT(works|refused) WRAPPER... : runs WRAPPER... mcpwire --listen ...
try() {
	local name=$1 expect=$2 port log pid i state tool got
	shift 2
	port=$(free_port)
	log="$WORK/$N.log"
	tool="probe_$N"
	"$@" "$WORK/mcpwire" --listen "127.0.0.1:$port" >"$log" 2>&1 </dev/null &
	pid=$!
	PIDS+=("$pid")
	state=timeout
	for ((i = 0; i < 300; i++)); do
		if ! kill -0 $pid 2>/dev/null; then state=exited; break; fi
		if grep -q capturing "$log" && curl -fsS -m 1 -o /dev/null "http://127.0.0.1:$port/healthz"; then state=capturing; break; fi
		sleep 0.1
	done
	got=""
	if [ $state = capturing ]; then
		node "$WORK/mini.mjs" client "$SRV_PORT" "$tool" >/dev/null 2>&1
		for ((i = 0; i < 40; i++)); do
			got=$(curl -fsS -m 1 "http://127.0.0.1:$port/metrics" | grep "^mcp_tool_calls_total{.*tool_name=\"$tool\"" || true)
			[ -n "$got" ] && break
			sleep 0.1
		done
		[ -n "$got" ] && state=counted
	fi
	# never wait unbounded on a daemon that did not come up or ignores TERM
	kill -TERM $pid 2>/dev/null
	for ((i = 0; i < 50; i++)); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null
	local why
	why=$(grep -v '^$' "$log" | tail -n 1)
	case "$expect:$state" in
	works:counted) ok "$name: capturing, and counted a tools/call between two other processes" ;;
	refused:exited) ok "$name: refused as expected ($why)" ;;
	works:*) notok "$name: expected to capture and count" "state: $state" "$(tail -n 5 "$log")" ;;
	refused:*) notok "$name: expected to be refused" "state: $state" "$(tail -n 5 "$log")" ;;
	esac
	echo "# $name -> $state"
}

NOBODY="--reuid=65534 --regid=65534 --clear-groups"
caps() { echo "--inh-caps=-all,$1 --ambient-caps=-all,$1 --bounding-set=-all,$1"; }

# shellcheck disable=SC2046
try "uid 0, all capabilities (plain root)" works env
# the DaemonSet's and the systemd unit's set: uid 0 owns tracefs (mode 0700)
try "uid 0, CAP_BPF+CAP_PERFMON only" works setpriv $(caps +bpf,+perfmon)
# a non-root uid cannot enter /sys/kernel/tracing (0700 root) to read the
# tracepoint ids libbpf attaches by, whatever its BPF capabilities
try "uid 65534, CAP_BPF+CAP_PERFMON only" refused setpriv $NOBODY $(caps +bpf,+perfmon)
try "uid 65534, CAP_BPF+CAP_PERFMON+CAP_DAC_READ_SEARCH" works setpriv $NOBODY $(caps +bpf,+perfmon,+dac_read_search)
try "uid 0, CAP_SYS_ADMIN only (pre-5.8 style)" works setpriv $(caps +sys_admin)
try "uid 0, CAP_BPF only" refused setpriv $(caps +bpf)
try "uid 0, CAP_PERFMON only" refused setpriv $(caps +perfmon)
try "uid 65534, no capabilities" refused setpriv $NOBODY $(caps -all)
# The sandbox of deploy/systemd/mcpwire.service and of the DaemonSet, as far
# as it can be reproduced without systemd as PID 1 or a container runtime: a
# private mount namespace where every mount is read-only (ProtectSystem=strict,
# ProtectKernelTunables, readOnlyRootFilesystem, read-only tracefs and BTF),
# no_new_privs (NoNewPrivileges, allowPrivilegeEscalation: false), uid 0 with
# CAP_BPF and CAP_PERFMON only.
cat >"$WORK/sandbox.sh" <<'SH'
#!/bin/bash
mount --make-rprivate / || exit 1
awk '{print $5}' /proc/self/mountinfo | while read -r m; do
	mount -o remount,bind,ro "$m" 2>/dev/null
done
grep -q ' / [^ ]* ro' /proc/self/mountinfo || { echo "sandbox: / not read-only" >&2; exit 1; }
exec "$@"
SH
chmod 755 "$WORK/sandbox.sh"
try "uid 0, CAP_BPF+CAP_PERFMON, no_new_privs, every mount read-only (the unit's and DaemonSet's sandbox)" works \
	unshare --mount "$WORK/sandbox.sh" setpriv --no-new-privs $(caps +bpf,+perfmon)


echo "1..$N"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
