#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# attrib.sh — attribution of MCP servers to containers and pods (make
# integration). Needs root.
#
# The Docker-like network of run.sh (netns.sh) with three server-everything
# "containers" and a client. Each server process is also put in a cgroup laid
# out the way its runtime would (userspace/attrib/cgroup.h):
#   ctr1  cgroup v2   /system.slice/docker-<id1>.scope        (Docker, systemd driver)
#   ctr2  cgroup v1   name=systemd /docker/<id2>               (Docker, cgroupfs driver;
#                     on a host without v1 hierarchies, the same path under v2)
#   pod1  cgroup v2   /kubepods.slice/kubepods-burstable.slice/
#                     kubepods-burstable-pod<uid_>.slice/cri-containerd-<id3>.scope
# attrib-fakes.mjs answers the Docker Engine API on a unix socket (names for
# id1 and id2) and the kubelet's /pods on loopback (pod, namespace and
# container name for uid/id3); no Docker engine or kubelet runs here.
#
# Checked against the real mcpwire, the real kernel and the official SDK
# client (client.mjs):
#  - ctr2's session is joined mid-way (the client initializes and pauses
#    before mcpwire starts, as in run.sh's "joined" scenario): its server never
#    named itself in mcpwire's sight, so it is named after its container,
#    "mcp-everything-2", not "<ip>:3001";
#  - mcp_server_info carries container="mcp-everything-1" for ctr1, and
#    container="server", pod, namespace for pod1;
#  - call log lines carry the server's container (and pod, namespace);
#  - /api/v1/servers carries them too.
# Prints TAP, ends with "N passed, N failed". Cgroups, namespaces, links and
# processes it created are removed at exit.
#
# Environment: MCPWIRE=path (default build/mcpwire), KEEP=1 keeps the work
# directory, NETNS_SUBNET_PREFIX=A.B as in run.sh.

set -uo pipefail

INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$INTEG_DIR/../.." && pwd)
MCPWIRE=${MCPWIRE:-$ROOT/build/mcpwire}
KEEP=${KEEP:-0}
PORT=3001
DEADLINE=$((SECONDS + ${RUN_TIMEOUT:-150}))

# shellcheck source=tap.sh
source "$INTEG_DIR/tap.sh"
tap_lock "$@"
tap_preflight attrib.sh ip node curl ss
# shellcheck source=netns.sh
source "$INTEG_DIR/netns.sh"
# shellcheck source=lib.sh
source "$INTEG_DIR/lib.sh"

mcpw_trap_install
WORK=$(mktemp -d /tmp/mcpwire-attrib.XXXXXX)
[ "$KEEP" = 1 ] || mcpw_on_exit "rm -rf '$WORK'"
TAP_LOGS=(mcpwire.log fakes.log fakes.err server1.log server2.log server3.log client-joined.err client1.err client3.err)
(
	trap 'kill $sp 2>/dev/null; exit 0' TERM
	sleep $((DEADLINE - SECONDS + 10)) &
	sp=$!
	wait $sp && echo "# attrib.sh: overall timeout, terminating" >&2 && kill -TERM $$
) 2>/dev/null &
WATCHDOG=$!
mcpw_on_exit "kill $WATCHDOG 2>/dev/null"

hex() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n' | cut -c1-"$1"; }
ID1=$(hex 64) ID2=$(hex 64) ID3=$(hex 64)
UID3="$(hex 8)-$(hex 4)-4$(hex 3)-8$(hex 3)-$(hex 12)"
NAME1=mcp-everything-1 NAME2=mcp-everything-2
POD3=mcp-everything-7d9f8b6c5-x2x4q NS3=mcp CTR3=server

# ------------------------------------------------------------------ cgroups

# The cgroup v2 hierarchy (/sys/fs/cgroup on a unified host, often
# /sys/fs/cgroup/unified on a hybrid one) and the v1 name=systemd one.
CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
CG1=$(awk '$3 == "cgroup" && $4 ~ /(^|,)name=systemd(,|$)/ { print $2; exit }' /proc/mounts)
[ -n "$CG2" ] || tap_fatal "no cgroup v2 hierarchy mounted"

CG_MADE=()
# cg_make DIR: mkdir -p, remembering each directory created (removed at exit,
# deepest first, once the processes in them are gone).
cg_make() {
	local d=$1 missing=()
	while [ ! -d "$d" ]; do missing=("$d" "${missing[@]}"); d=$(dirname "$d"); done
	for d in "${missing[@]}"; do mkdir "$d" || return 1; CG_MADE+=("$d"); done
}
cg_cleanup() {
	local i
	for ((i = ${#CG_MADE[@]} - 1; i >= 0; i--)); do rmdir "${CG_MADE[i]}" 2>/dev/null ||
		echo "# attrib.sh: could not remove cgroup ${CG_MADE[i]}" >&2; done
}
# registered first, so it runs last: after every process in them stopped
mcpw_on_exit cg_cleanup

CGDIR1=$CG2/system.slice/docker-$ID1.scope
if [ -n "$CG1" ]; then CGDIR2=$CG1/docker/$ID2; CG2_KIND="v1 name=systemd"; else CGDIR2=$CG2/docker/$ID2; CG2_KIND=v2; fi
CGDIR3=$CG2/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID3//-/_}.slice/cri-containerd-$ID3.scope
if cg_make "$CGDIR1" && cg_make "$CGDIR2" && cg_make "$CGDIR3"; then
	ok "cgroups like Docker's and the kubelet's: $CGDIR1, $CGDIR2 ($CG2_KIND), $CGDIR3"
else
	bail "cgroups created under $CG2 ${CG1:+and $CG1}"
fi

# ------------------------------------------------------------------ network

if netns_up 2>"$WORK/net.err" && netns_add ctr1 2>>"$WORK/net.err" && netns_add ctr2 2>>"$WORK/net.err" &&
	netns_add pod1 2>>"$WORK/net.err" && netns_add client 2>>"$WORK/net.err"; then
	IP1=${NETNS_IP[ctr1]} IP2=${NETNS_IP[ctr2]} IP3=${NETNS_IP[pod1]}
	ok "network: bridge $NETNS_BRIDGE, ctr1 $IP1, ctr2 $IP2, pod1 $IP3, client ${NETNS_IP[client]}"
else
	bail "network: bridge and four containers" "$(cat "$WORK/net.err")"
fi

# start_in_cgroup CTR CGDIR LOG: server-everything in container CTR, its
# process moved into CGDIR before it execs (so $! is the server itself).
start_in_cgroup() {
	local node_bin
	node_bin=$(command -v node)
	sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$2" \
		ip netns exec "${NETNS_NS[$1]}" env -i PATH=/usr/bin:/bin HOME=/nonexistent PORT="$PORT" \
		"$node_bin" "$INTEG_DIR/node_modules/@modelcontextprotocol/server-everything/dist/index.js" streamableHttp \
		>"$3" 2>&1 </dev/null &
	SERVER_PID=$!
	mcpw_on_exit "stop_pid $SERVER_PID 3"
}
start_in_cgroup ctr1 "$CGDIR1" "$WORK/server1.log"; PID1=$SERVER_PID
start_in_cgroup ctr2 "$CGDIR2" "$WORK/server2.log"; PID2=$SERVER_PID
start_in_cgroup pod1 "$CGDIR3" "$WORK/server3.log"; PID3=$SERVER_PID
if wait_for 30 "server 1" listening ctr1 $PORT && wait_for 20 "server 2" listening ctr2 $PORT &&
	wait_for 20 "server 3" listening pod1 $PORT; then
	ok "server-everything listens in ctr1, ctr2 and pod1 (pids $PID1 $PID2 $PID3)"
else
	bail "server-everything listens in the three containers" "$(tail -n 5 "$WORK"/server*.log)"
fi
if grep -q "$ID1" "/proc/$PID1/cgroup" && grep -q "$ID2" "/proc/$PID2/cgroup" && grep -q "$ID3" "/proc/$PID3/cgroup"; then
	ok "the kernel lists each server in its container's cgroup ($(grep "$ID2" "/proc/$PID2/cgroup" | head -1 | cut -c1-40)…)"
else
	bail "each server in its cgroup" "$(cat "/proc/$PID1/cgroup" "/proc/$PID2/cgroup" "/proc/$PID3/cgroup")"
fi

# ------------------------------------------------------------------ fakes

DOCKER_SOCK=$WORK/docker.sock
node "$INTEG_DIR/attrib-fakes.mjs" --docker-sock "$DOCKER_SOCK" --kubelet-port-file "$WORK/kubelet.port" \
	--log "$WORK/fakes.log" --container "$ID1=$NAME1" --container "$ID2=$NAME2" \
	--pod "$UID3=$NS3/$POD3/$CTR3/$ID3" >"$WORK/fakes.out" 2>"$WORK/fakes.err" </dev/null &
FAKES_PID=$!
mcpw_on_exit "stop_pid $FAKES_PID 3"
if wait_for 20 "fake APIs" test -s "$WORK/kubelet.port"; then
	KUBELET_URL="http://127.0.0.1:$(cat "$WORK/kubelet.port")/pods"
	ok "Docker Engine API stand-in on $DOCKER_SOCK, kubelet stand-in on $KUBELET_URL"
else
	bail "fake Docker and kubelet APIs listen" "$(cat "$WORK/fakes.err")"
fi

# ------------------------------------------------------------------ joined session on ctr2

J_PAUSE=$WORK/joined.pause
ip netns exec "${NETNS_NS[client]}" timeout 60 node "$INTEG_DIR/client.mjs" --url "http://$IP2:$PORT/mcp" \
	--record "$WORK/record-joined.json" --mix basic --repeat 1 --max-seconds 40 \
	--pause-file "$J_PAUSE" --pause-timeout 30 --quiet \
	>/dev/null 2>"$WORK/client-joined.err" </dev/null &
J_PID=$!
mcpw_on_exit "stop_pid $J_PID 3"
for ((i = 0; i < 400; i++)); do { [ -e "$J_PAUSE.ready" ] || ! alive $J_PID; } && break; sleep 0.05; done
[ -e "$J_PAUSE.ready" ] || bail "joined: the client initializes ctr2's server and pauses, before mcpwire starts" \
	"$(cat "$WORK/client-joined.err")"
ok "joined: the client initialized $IP2:$PORT and paused; no mcpwire ran meanwhile"

# ------------------------------------------------------------------ mcpwire

LOG=$WORK/calls.jsonl
MCPWIRE_PORT=$(free_port)
MCPWIRE_URL="http://127.0.0.1:$MCPWIRE_PORT"
"$MCPWIRE" --listen "127.0.0.1:$MCPWIRE_PORT" --log-calls "$LOG" --docker-socket "$DOCKER_SOCK" \
	--kubelet-url "$KUBELET_URL" >"$WORK/mcpwire.log" 2>&1 </dev/null &
MCPWIRE_PID=$!
# shellcheck disable=SC2016 # expanded at exit
mcpw_on_exit 'stop_pid "$MCPWIRE_PID" 5'
mcpwire_ready() { grep -q capturing "$WORK/mcpwire.log" && http_ok "$MCPWIRE_URL/healthz"; }
for ((i = 0; i < 600; i++)); do { mcpwire_ready || ! alive "$MCPWIRE_PID"; } && break; sleep 0.05; done
if alive "$MCPWIRE_PID" && mcpwire_ready; then
	ok "mcpwire --docker-socket $DOCKER_SOCK --kubelet-url $KUBELET_URL is capturing"
else
	bail "mcpwire is capturing within 30 s" "$(tail -n 30 "$WORK/mcpwire.log")"
fi

touch "$J_PAUSE"
for ((i = 0; i < 600; i++)); do alive $J_PID || break; sleep 0.1; done
if wait $J_PID && [ -s "$WORK/record-joined.json" ]; then
	ok "joined: the client resumed and finished its session"
else
	not_ok "joined: the client resumed and finished its session" "$(cat "$WORK/client-joined.err")"
fi

# ------------------------------------------------------------------ sessions seen whole: ctr1, pod1

run_client() { # IP RECORD ERR
	ip netns exec "${NETNS_NS[client]}" timeout 60 node "$INTEG_DIR/client.mjs" --url "http://$1:$PORT/mcp" \
		--record "$2" --mix basic --repeat 1 --max-seconds 40 --quiet >/dev/null 2>"$3" </dev/null
}
if run_client "$IP1" "$WORK/record1.json" "$WORK/client1.err" && run_client "$IP3" "$WORK/record3.json" "$WORK/client3.err"; then
	ok "client.mjs ran a session against ctr1 ($IP1) and pod1 ($IP3)"
else
	bail "client.mjs sessions against ctr1 and pod1" "$(cat "$WORK/client1.err" "$WORK/client3.err")"
fi
# the dedup window (1 s) and a flush tick
sleep 2
curl -fsS -m 5 "$MCPWIRE_URL/metrics" >"$WORK/metrics.txt"
curl -fsS -m 5 "$MCPWIRE_URL/api/v1/servers" >"$WORK/servers.json"

# ------------------------------------------------------------------ checks

node - "$WORK" "$IP1" "$IP2" "$IP3" "$PORT" "$NAME1" "$NAME2" "$CTR3" "$POD3" "$NS3" <<'JS' >"$WORK/check.out" 2>&1
const fs = require('fs');
const [work, ip1, ip2, ip3, port, name1, name2, ctr3, pod3, ns3] = process.argv.slice(2);
const ok = (c, n, ...d) => console.log(`${c ? 'ok' : 'not ok'} - ${n}${c ? '' : d.map((x) => '\n#   ' + x).join('')}`);
const series = fs.readFileSync(`${work}/metrics.txt`, 'utf8').split('\n')
	.filter((l) => l && !l.startsWith('#')).map((l) => {
		const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(l);
		const labels = {};
		if (m && m[2]) for (const x of m[2].matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)) labels[x[1]] = x[2];
		return m ? { name: m[1], labels, value: Number(m[3]) } : null;
	}).filter(Boolean);
const info = series.filter((s) => s.name === 'mcp_server_info');
const show = (a) => a.map((s) => JSON.stringify(s.labels)).join(' ') || 'none';
const has = (want) => info.some((s) => s.value === 1 && Object.entries(want).every(([k, v]) => s.labels[k] === v));

ok(has({ server_name: 'mcp-servers/everything', container: name1, pod: '', namespace: '' }),
   `mcp_server_info{server_name="mcp-servers/everything",container="${name1}"} (Docker, cgroup v2, name from the Engine API)`,
   `mcp_server_info: ${show(info)}`);
ok(has({ server_name: 'mcp-servers/everything', container: ctr3, pod: pod3, namespace: ns3 }),
   `mcp_server_info{container="${ctr3}",pod="${pod3}",namespace="${ns3}"} (kubepods cgroup, names from the kubelet)`,
   `mcp_server_info: ${show(info)}`);
ok(has({ server_name: name2, container: name2, server_version: '' }),
   `joined: mcp_server_info{server_name="${name2}",container="${name2}"}: named after its container (no initialize seen)`,
   `mcp_server_info: ${show(info)}`);

const rec = JSON.parse(fs.readFileSync(`${work}/record-joined.json`, 'utf8'));
const after = rec.phases?.after?.requests ?? {};
const want = Object.values(after).reduce((a, m) => a + Object.values(m).reduce((x, y) => x + y, 0), 0);
const req = series.filter((s) => s.name === 'mcp_requests_total');
const by = (n) => req.filter((s) => s.labels.server_name === n).reduce((a, s) => a + s.value, 0);
const named = by(name2), fallback = by(`${ip2}:${port}`);
ok(named > 0 && named + fallback === want,
   `joined: ${named} of the ${want} requests after the pause counted under server_name="${name2}" (${fallback} before the resolver answered, under "${ip2}:${port}")`,
   `container name: ${named}, ${ip2}:${port}: ${fallback}, client sent ${want}: ${JSON.stringify(after)}`);

const lines = fs.readFileSync(`${work}/calls.jsonl`, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
for (const [ip, c, pod, ns] of [[ip1, name1, undefined, undefined], [ip3, ctr3, pod3, ns3], [ip2, name2, undefined, undefined]]) {
	const mine = lines.filter((o) => o.endpoint === `${ip}:${port}`);
	/* calls that ended before the resolver thread answered carry no
	 * container (how many depends on the machine's load); from the first
	 * line that has it, every line must */
	const first = mine.findIndex((o) => o.container !== undefined);
	const bad = first < 0 ? mine : mine.slice(first).filter((o) => o.container !== c || o.pod !== pod || o.namespace !== ns);
	ok(mine.length > 2 && first >= 0 && !bad.length,
	   `call log: ${ip}:${port}: every line from the first attributed one (${first + 1} of ${mine.length}) carries container "${c}"${pod ? `, pod "${pod}", namespace "${ns}"` : ''}`,
	   `${mine.length} lines, first attributed: ${first}; first bad: ${JSON.stringify(bad[0])}`);
}
const j = lines.filter((o) => o.endpoint === `${ip2}:${port}`).at(-1);
ok(j && j.server === name2, `call log: the joined session's last call names its server "${name2}"`, JSON.stringify(j));

const api = JSON.parse(fs.readFileSync(`${work}/servers.json`, 'utf8'));
const a2 = api.servers.find((s) => s.name === name2);
ok(a2 && a2.container === name2 && a2.pod === null && a2.version === null,
   `/api/v1/servers: "${name2}" with container "${name2}", no version (never initialized in sight)`, JSON.stringify(a2));
JS
rc=$?
tap_feed "$WORK/check.out"
[ "$rc" = 0 ] || not_ok "the checks ran" "exit status $rc" "$(tail -n 20 "$WORK/check.out")"
if grep -q "docker GET /containers/$ID1/json" "$WORK/fakes.log" && grep -q "kubelet GET /pods" "$WORK/fakes.log" &&
	! grep -q "docker GET /containers/$ID3" "$WORK/fakes.log"; then
	ok "mcpwire asked Docker about the Docker containers and the kubelet about the pod ($(wc -l <"$WORK/fakes.log") API requests)"
else
	not_ok "mcpwire asked Docker about the Docker containers and the kubelet about the pod" "$(cat "$WORK/fakes.log")"
fi

# ------------------------------------------------------------------ exit
kill -TERM "$MCPWIRE_PID"
for ((i = 0; i < 50; i++)); do alive "$MCPWIRE_PID" || break; sleep 0.1; done
if wait "$MCPWIRE_PID"; then ok "mcpwire exits 0 on SIGTERM"; else not_ok "mcpwire exits 0 on SIGTERM" "$(tail -n 5 "$WORK/mcpwire.log")"; fi
MCPWIRE_PID=""
finish
