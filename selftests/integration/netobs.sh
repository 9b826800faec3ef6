#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# netobs.sh — the network side (mcpwire --bridge, userspace/netobs/,
# docs/network.md) against real MCP traffic on a Docker-like bridge. Root.
#
#   br-<12 hex> ── veth ── "slow"   server-everything :3001, every packet it
#               │                   sends held 100 ms (see "Delay" below)
#               ├─ veth ── "fast"   json-server.mjs :3002; its veth has a
#               │                   clsact qdisc and a u32 filter of "someone
#               │                   else" before mcpwire starts
#               ├─ veth ── "client" the SDK client (client.mjs)
#               └─ veth ── "late"   added while mcpwire runs, json-server.mjs
#                                   :3002 reached over IPv6 from the host (so
#                                   only its own veth sees that traffic; the
#                                   bridge is dual-stack), deleted while
#                                   mcpwire runs
#
# Asserted, from /metrics and tc(8):
#  - mcpwire attaches its two programs to every veth of the bridge.
#  - mcp_network_rtt_seconds: every handshake sample of the delayed server is
#    >= ~the delay; the undelayed server's are mostly small and below it.
#  - mcp_network_bytes_total / _packets_total of the undelayed server, per
#    direction, against tcpdump on its veth over the same traffic (bytes
#    within 10/+20 % of the IP lengths tcpdump saw, segments >= its packets).
#  - mcp_network_retransmits_total: data segments of the slow server dropped
#    after they crossed the veths (NFQUEUE in the client's INPUT, nfq-delay.c) are each
#    retransmitted and counted (>= drops); the fast server has 0.
#  - one client reset (SO_LINGER 0) is exactly one in mcp_network_resets_total,
#    though the flow crosses two of mcpwire's veths.
#  - a veth that joins during the run gets the programs and its server's
#    IPv6 traffic is counted (bytes against tcpdump, RTT samples); one
#    deleted during the run leaves mcpwire running.
#  - an endpoint never seen carrying MCP creates no series.
#  - after SIGTERM: none of mcpwire's filters left on any veth, no clsact
#    where mcpwire created it, and the pre-existing clsact with its foreign
#    filter untouched.
#
# Delay: this kernel has no sch_netem (the usual `tc qdisc add dev VETH root
# netem delay 100ms`), so the delay line is nfq-delay.c behind an iptables
# NFQUEUE rule in the slow container's OUTPUT chain: every packet the server
# sends (the SYN-ACK included) waits 100 ms. It never touches the host's
# firewall. With netem available, NETOBS_NETEM=1 uses netem on the host end
# of the slow container's veth instead.
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
DELAY_MS=100
SLOW_PORT=3001
FAST_PORT=3002
SLOW_NAME="mcp-servers/everything"
FAST_NAME="mcpwire-json-server"
NETOBS_NETEM=${NETOBS_NETEM:-0}

# shellcheck source=netns.sh
source "$INTEG_DIR/netns.sh"
# shellcheck source=lib.sh
source "$INTEG_DIR/lib.sh"

tap_preflight netobs.sh ip tc node curl ss tcpdump python3 cc
command -v iptables >/dev/null || tap_fatal "iptables not found (make test-deps)"
TAP_LOGS=(mcpwire.log slow.log fast.log late.log delay.log drop.log client-slow.err client-fast.err client-late.err)

mcpw_trap_install
WORK=$(mktemp -d /tmp/mcpwire-netobs.XXXXXX)
[ "$KEEP" = 1 ] || mcpw_on_exit "rm -rf '$WORK'"
cc -O2 -Wall -Werror -o "$WORK/nfq-delay" "$INTEG_DIR/nfq-delay.c" -lnetfilter_queue 2>"$WORK/cc.err" ||
	tap_fatal "nfq-delay.c does not build: $(cat "$WORK/cc.err")"
PY=$(command -v python3)
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
NODE=$(command -v node)

# ------------------------------------------------------------ helpers

# mval FILE SERIES: the value of one exposition line (exact series text), or
# empty when the series is absent.
mval() {
	awk -v s="$2" 'index($0, s " ") == 1 { print $NF; exit }' "$1"
}

scrape() {
	curl -fsS -m 5 -o "$1" "$MCPWIRE_URL/metrics"
}

# num X: X, or 0 when empty
num() { echo "${1:-0}"; }

# tc_ours VETH: mcpwire's programs on VETH (ingress and egress), one per line
tc_ours() {
	{ tc filter show dev "$1" ingress; tc filter show dev "$1" egress; } 2>/dev/null | grep -o ' name netobs_[a-z]*' | sed 's/ name //'
}

has_clsact() {
	tc qdisc show dev "$1" 2>/dev/null | grep -q 'qdisc clsact'
}

# pcap_sum FILE PORT: "c2s_bytes s2c_bytes c2s_packets s2c_packets" from the
# IP lengths tcpdump prints for TCP port PORT
# (IPv4: "length N)" on the header line; IPv6: "payload length: N)" plus
# the 40-byte fixed header, the addresses on the same line)
pcap_sum() {
	tcpdump -r "$1" -nn -v 2>/dev/null | awk -v port="$2" '
		/ IP6 .*payload length: [0-9]+\)/ {
			match($0, /payload length: [0-9]+\)/); len = substr($0, RSTART + 16, RLENGTH - 17) + 40
			sub(/.*payload length: [0-9]+\) /, "")
		}
		/ IP \(.* length [0-9]+\)/ { match($0, / length [0-9]+\)/); len = substr($0, RSTART + 8, RLENGTH - 9) + 0; next }
		/ > / {
			src = $1; if (src ~ /^[0-9][0-9]:/) src = $2
			n = split(src, a, "."); sp = a[n]
			if (sp == port) { sb += len; sn++ } else { cb += len; cn++ }
		}
		END { printf "%d %d %d %d\n", cb, sb, cn, sn }'
}

# start_tcpdump NAME VETH PORT: capture into $WORK/NAME.pcap; sets TCPDUMP_PID
start_tcpdump() {
	tcpdump -i "$2" -nn -U --immediate-mode -w "$WORK/$1.pcap" "tcp port $3" >"$WORK/$1.tcpdump.log" 2>&1 </dev/null &
	TCPDUMP_PID=$!
	mcpw_on_exit "stop_pid $TCPDUMP_PID 3"
	wait_for 10 "tcpdump on $2" grep -q 'listening on' "$WORK/$1.tcpdump.log"
}

stop_tcpdump() {
	sleep 0.5 # the last segments reach the capture
	kill -INT "$TCPDUMP_PID" 2>/dev/null
	wait "$TCPDUMP_PID" 2>/dev/null
}

# start_json NAME [HOST]: json-server.mjs on FAST_PORT in container NAME
start_json() {
	ip netns exec "${NETNS_NS[$1]}" env -i PATH=/usr/bin:/bin HOME=/nonexistent \
		"$NODE" "$INTEG_DIR/json-server.mjs" --port "$FAST_PORT" --host "${2:-0.0.0.0}" >"$WORK/$1.log" 2>&1 </dev/null &
	eval "JSON_PID_$1=$!"
	mcpw_on_exit "stop_pid $! 3"
	wait_for 20 "json-server.mjs in $1" listening "$1" "$FAST_PORT"
}

# client NAME URL MIX [host]: client.mjs from the client container, or
# from the host
client() {
	local in=(netns_exec client)
	[ "${4:-}" = host ] && in=()
	"${in[@]}" timeout 60 "$NODE" "$INTEG_DIR/client.mjs" --url "$2" \
		--record "$WORK/record-$1.json" --mix "$3" --repeat 2 --max-seconds 50 --quiet \
		>"$WORK/client-$1.out" 2>"$WORK/client-$1.err"
}

# ------------------------------------------------------------ network

NETNS_IPV6=1 # dual stack: the late container is reached over IPv6
netns_up 2>"$WORK/net.err" && netns_add slow 2>>"$WORK/net.err" && netns_add fast 2>>"$WORK/net.err" &&
	netns_add client 2>>"$WORK/net.err" ||
	bail "network: bridge and three containers" "$(cat "$WORK/net.err")"
BR=$NETNS_BRIDGE
V_SLOW=${NETNS_VETH[slow]} V_FAST=${NETNS_VETH[fast]} V_CLIENT=${NETNS_VETH[client]}
SLOW_IP=${NETNS_IP[slow]} FAST_IP=${NETNS_IP[fast]}
ok "network: $BR, slow $SLOW_IP ($V_SLOW), fast $FAST_IP ($V_FAST), client ${NETNS_IP[client]} ($V_CLIENT)"

# someone else's clsact and filter, there before mcpwire
tc qdisc add dev "$V_FAST" clsact &&
	tc filter add dev "$V_FAST" ingress protocol all prio 7 u32 match u32 0 0 classid 1:1 ||
	bail "a foreign clsact qdisc and u32 filter on $V_FAST"
FOREIGN_BEFORE=$(tc filter show dev "$V_FAST" ingress | grep -c 'pref 7 u32')

start_everything slow "$SLOW_PORT" "$WORK/slow.log"
wait_for 20 "server-everything" listening slow "$SLOW_PORT" ||
	bail "server-everything listens in slow" "$(tail -n 20 "$WORK/slow.log")"
start_json fast || bail "json-server.mjs listens in fast" "$(tail -n 20 "$WORK/fast.log")"

# the delay line
if [ "$NETOBS_NETEM" = 1 ]; then
	tc qdisc add dev "$V_SLOW" root netem delay "${DELAY_MS}ms" limit 1000 ||
		bail "netem delay on $V_SLOW"
	mcpw_on_exit "tc qdisc del dev '$V_SLOW' root 2>/dev/null"
else
	ip netns exec "${NETNS_NS[slow]}" "$WORK/nfq-delay" 7 "$DELAY_MS" "$WORK/delay.ready" \
		>"$WORK/delay.log" 2>&1 </dev/null &
	mcpw_on_exit "stop_pid $! 3"
	wait_for 10 "nfq-delay" test -e "$WORK/delay.ready" ||
		bail "nfq-delay bound to queue 7" "$(cat "$WORK/delay.log")"
	netns_exec slow iptables -A OUTPUT -p tcp --sport "$SLOW_PORT" -j NFQUEUE --queue-num 7 --queue-bypass ||
		bail "iptables NFQUEUE rule in slow"
fi
t0=$(date +%s%N)
netns_exec client curl -sS -m 5 -o /dev/null "http://$SLOW_IP:$SLOW_PORT/mcp"
t1=$(date +%s%N)
if [ $(((t1 - t0) / 1000000)) -ge "$DELAY_MS" ]; then
	ok "the delay line holds the slow server's packets (an HTTP exchange took $(((t1 - t0) / 1000000)) ms)"
else
	bail "the delay line holds the slow server's packets" "an HTTP exchange took $(((t1 - t0) / 1000000)) ms"
fi

# ------------------------------------------------------------ mcpwire

out=$("$MCPWIRE" --bridge "nonexistent0" --listen 127.0.0.1:0 2>&1 </dev/null)
rc=$?
if [ "$rc" != 0 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && printf '%s' "$out" | grep -q "nonexistent0"; then
	ok "--bridge with no such interface: one line, exit $rc ($out)"
else
	not_ok "--bridge with no such interface: one line, non-zero exit" "exit $rc" "$out"
fi

PORT=$(free_port)
MCPWIRE_URL="http://127.0.0.1:$PORT"
"$MCPWIRE" --listen "127.0.0.1:$PORT" --bridge "$BR" -v >"$WORK/mcpwire.log" 2>&1 </dev/null &
MCPWIRE_PID=$!
mcpw_on_exit "stop_pid $MCPWIRE_PID 5"
mcpwire_ready() { grep -q capturing "$WORK/mcpwire.log" && http_ok "$MCPWIRE_URL/healthz"; }
wait_for 60 "mcpwire capturing" mcpwire_ready ||
	bail "mcpwire --bridge $BR capturing" "$(tail -n 20 "$WORK/mcpwire.log")"
ok "mcpwire --bridge $BR capturing (pid $MCPWIRE_PID)"

missing=""
for v in "$V_SLOW" "$V_FAST" "$V_CLIENT"; do
	[ "$(tc_ours "$v" | sort | tr '\n' ' ')" = "netobs_egress netobs_ingress " ] || missing="$missing $v"
done
if [ -z "$missing" ]; then
	ok "netobs_ingress and netobs_egress on each of the 3 veths"
else
	not_ok "netobs_ingress and netobs_egress on each of the 3 veths" "missing on:$missing" \
		"$(for v in $missing; do tc filter show dev "$v" ingress; tc filter show dev "$v" egress; done)"
fi

# ------------------------------------------------------------ traffic

# TCP traffic that is not MCP, to an endpoint mcp/ never sees: no series
netns_exec fast "$PY" -c 'import socket,sys
s=socket.socket(); s.bind(("0.0.0.0",7070)); s.listen(4); c,_=s.accept(); c.sendall(b"hello\n"*100); c.close()' &
NOTMCP_PID=$!
mcpw_on_exit "stop_pid $NOTMCP_PID 2"
wait_for 10 "plain TCP listener" listening fast 7070
netns_exec client "$PY" -c 'import socket,sys
s=socket.create_connection((sys.argv[1],7070),timeout=5); s.sendall(b"x"*500)
while s.recv(65536): pass' "$FAST_IP"
wait "$NOTMCP_PID" 2>/dev/null

# losses after the veths (in the client's INPUT), so the server's
# retransmissions cross them twice
ip netns exec "${NETNS_NS[client]}" "$WORK/nfq-delay" 8 0 "$WORK/drop.ready" 7 \
	>"$WORK/drop.log" 2>&1 </dev/null &
DROP_PID=$!
mcpw_on_exit "stop_pid $DROP_PID 3"
wait_for 10 "nfq-delay (drop every 7th)" test -e "$WORK/drop.ready" ||
	bail "nfq-delay bound to queue 8" "$(cat "$WORK/drop.log")"
netns_exec client iptables -A INPUT -p tcp --sport "$SLOW_PORT" -j NFQUEUE --queue-num 8 --queue-bypass ||
	bail "iptables NFQUEUE rule in client"

start_tcpdump fast "$V_FAST" "$FAST_PORT" || bail "tcpdump on $V_FAST"
client slow "http://$SLOW_IP:$SLOW_PORT/mcp" basic ||
	bail "client.mjs (basic) against the slow server" "$(tail -n 20 "$WORK/client-slow.err")"
netns_exec client iptables -D INPUT -p tcp --sport "$SLOW_PORT" -j NFQUEUE --queue-num 8 --queue-bypass
stop_pid "$DROP_PID" 3
wait_for 5 "nfq-delay's drop count" grep -q '^dropped' "$WORK/drop.log"
DROPPED=$(sed -n 's/^dropped //p' "$WORK/drop.log")
client fast "http://$FAST_IP:$FAST_PORT/mcp" json ||
	bail "client.mjs (json) against the fast server" "$(tail -n 20 "$WORK/client-fast.err")"
stop_tcpdump
ok "client.mjs ran twice against each server from the client container"
sleep 4 # two reads of the endpoint map, past the 2 s wait for a serverInfo
scrape "$WORK/m1" || bail "GET /metrics" "$(tail -n 20 "$WORK/mcpwire.log")"

# RTT
rtt() { num "$(mval "$WORK/$1" "mcp_network_rtt_seconds_$2")"; }
s_cnt=$(rtt m1 "count{server_name=\"$SLOW_NAME\"}")
s_sum=$(rtt m1 "sum{server_name=\"$SLOW_NAME\"}")
s_fast=$(rtt m1 "bucket{server_name=\"$SLOW_NAME\",le=\"0.05\"}")
f_cnt=$(rtt m1 "count{server_name=\"$FAST_NAME\"}")
f_sum=$(rtt m1 "sum{server_name=\"$FAST_NAME\"}")
f_fast=$(rtt m1 "bucket{server_name=\"$FAST_NAME\",le=\"0.05\"}")
echo "# rtt: slow count $s_cnt sum $s_sum (<= 50 ms: $s_fast), fast count $f_cnt sum $f_sum (<= 50 ms: $f_fast)"
if [ "$s_cnt" -ge 1 ] && [ "$s_fast" = 0 ] &&
	awk -v s="$s_sum" -v c="$s_cnt" -v d="$DELAY_MS" 'BEGIN { exit !(s / c >= 0.9 * d / 1000) }'; then
	ok "rtt: $s_cnt handshake samples of the delayed server, none <= 50 ms, mean >= 0.9 x ${DELAY_MS} ms"
else
	not_ok "rtt: the delayed server's handshake samples are >= ~${DELAY_MS} ms" \
		"$(grep "mcp_network_rtt_seconds.*$SLOW_NAME" "$WORK/m1")"
fi
# not a timing bound on a loaded machine: most handshakes without the delay
# line stay far below it
if [ "$f_cnt" -ge 1 ] && [ $((f_fast * 2)) -ge "$f_cnt" ] &&
	awk -v fs="$f_sum" -v fc="$f_cnt" -v ss="$s_sum" -v sc="$s_cnt" 'BEGIN { exit !(sc > 0 && fs / fc < ss / sc) }'; then
	ok "rtt: $f_cnt samples of the undelayed server, $f_fast of them <= 50 ms, mean below the delayed one's"
else
	not_ok "rtt: the undelayed server's samples are small" "$(grep "mcp_network_rtt_seconds.*$FAST_NAME" "$WORK/m1")"
fi

# bytes and packets against tcpdump on the fast server's veth
read -r cb sb cn sn < <(pcap_sum "$WORK/fast.pcap" "$FAST_PORT")
dir_check() { # DIR PCAP_BYTES PCAP_PACKETS
	local b p
	b=$(num "$(mval "$WORK/m1" "mcp_network_bytes_total{server_name=\"$FAST_NAME\",direction=\"$1\"}")")
	p=$(num "$(mval "$WORK/m1" "mcp_network_packets_total{server_name=\"$FAST_NAME\",direction=\"$1\"}")")
	if [ "$2" -gt 0 ] && awk -v b="$b" -v t="$2" -v p="$p" -v tp="$3" \
		'BEGIN { exit !(b >= 0.9 * t && b <= 1.2 * t && p >= tp && p > 0) }'; then
		ok "bytes/packets $1: $b bytes, $p segments; tcpdump on $V_FAST: $2 bytes, $3 packets"
	else
		not_ok "bytes/packets $1 match tcpdump on $V_FAST" "mcpwire: $b bytes, $p segments" \
			"tcpdump: $2 bytes, $3 packets"
	fi
}
dir_check client_to_server "$cb" "$cn"
dir_check server_to_client "$sb" "$sn"

# retransmissions
s_re=$(num "$(mval "$WORK/m1" "mcp_network_retransmits_total{server_name=\"$SLOW_NAME\"}")")
f_re=$(mval "$WORK/m1" "mcp_network_retransmits_total{server_name=\"$FAST_NAME\"}")
if [ "${DROPPED:-0}" -ge 1 ] && [ "$s_re" -ge "$DROPPED" ] && [ "$f_re" = 0 ]; then
	ok "retransmits: $s_re for the slow server ($DROPPED segments dropped past its veth), 0 for the fast one"
else
	not_ok "retransmits: every segment dropped past the veth is retransmitted and counted" \
		"dropped: ${DROPPED:-?}; retransmits: slow $s_re, fast ${f_re:-absent}"
fi

n7070=$(grep -c ':7070' "$WORK/m1")
unattr=$(num "$(mval "$WORK/m1" mcpwire_network_endpoints_unattributed)")
if [ "$n7070" = 0 ] && [ "$unattr" -ge 1 ]; then
	ok "no series for the plain TCP endpoint $FAST_IP:7070; mcpwire_network_endpoints_unattributed $unattr"
else
	not_ok "no series for an endpoint that never carried MCP" "$(grep ':7070\|unattributed' "$WORK/m1")"
fi

# ------------------------------------------------------------ reset

r0=$(num "$(mval "$WORK/m1" "mcp_network_resets_total{server_name=\"$FAST_NAME\"}")")
netns_exec client "$PY" -c 'import socket,struct,sys,time
s=socket.create_connection((sys.argv[1],int(sys.argv[2])),timeout=5)
s.sendall(b"POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{")
time.sleep(0.3)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); s.close()' "$FAST_IP" "$FAST_PORT" ||
	not_ok "a client resets its connection to the fast server"
sleep 2.5
scrape "$WORK/m2"
r1=$(num "$(mval "$WORK/m2" "mcp_network_resets_total{server_name=\"$FAST_NAME\"}")")
if [ $((r1 - r0)) = 1 ]; then
	ok "resets: one client reset counted once ($r0 -> $r1), though its flow crosses two veths"
else
	not_ok "resets: one client reset counted once" "mcp_network_resets_total{server_name=\"$FAST_NAME\"}: $r0 -> $r1"
fi

# ------------------------------------------------------------ a veth joins, another leaves

stop_pid "$JSON_PID_fast" 3
netns_add late 2>"$WORK/net-late.err" || bail "container late added during the run" "$(cat "$WORK/net-late.err")"
V_LATE=${NETNS_VETH[late]} LATE_IP6=${NETNS_IP6[late]}
start_json late :: || bail "json-server.mjs listens in late" "$(tail -n 20 "$WORK/late.log")"
if wait_for 10 "mcpwire on $V_LATE" test "$(tc_ours "$V_LATE" | wc -l)" = 2; then
	ok "the veth $V_LATE that joined during the run got both programs"
else
	not_ok "the veth $V_LATE that joined during the run got both programs" "$(tc filter show dev "$V_LATE" ingress)"
fi
scrape "$WORK/m3"
b0=$(num "$(mval "$WORK/m3" "mcp_network_bytes_total{server_name=\"$FAST_NAME\",direction=\"server_to_client\"}")")
start_tcpdump late "$V_LATE" "$FAST_PORT" || bail "tcpdump on $V_LATE"
# from the host: only the late veth sees this traffic
client late "http://[$LATE_IP6]:$FAST_PORT/mcp" json host ||
	bail "client.mjs (json) against the late server" "$(tail -n 20 "$WORK/client-late.err")"
stop_tcpdump
sleep 4
scrape "$WORK/m4"
b1=$(num "$(mval "$WORK/m4" "mcp_network_bytes_total{server_name=\"$FAST_NAME\",direction=\"server_to_client\"}")")
read -r _ lsb _ _ < <(pcap_sum "$WORK/late.pcap" "$FAST_PORT")
if [ "$lsb" -gt 0 ] && awk -v d="$((b1 - b0))" -v t="$lsb" 'BEGIN { exit !(d >= 0.9 * t && d <= 1.2 * t) }'; then
	ok "the late server's IPv6 traffic is counted: +$((b1 - b0)) bytes server_to_client, tcpdump $lsb"
else
	not_ok "the late server's IPv6 traffic is counted" "+$((b1 - b0)) bytes server_to_client, tcpdump on $V_LATE: $lsb"
fi
l_cnt=$(rtt m4 "count{server_name=\"$FAST_NAME\"}")
if [ "$l_cnt" -gt "$f_cnt" ]; then
	ok "rtt: the late server's IPv6 handshakes are sampled ($f_cnt -> $l_cnt)"
else
	not_ok "rtt: the late server's IPv6 handshakes are sampled" "count $f_cnt -> $l_cnt"
fi

ip link del dev "$V_LATE"
sleep 1
if alive "$MCPWIRE_PID" && http_ok "$MCPWIRE_URL/healthz" && grep -q "veth .*left the bridge" "$WORK/mcpwire.log"; then
	ok "mcpwire keeps running when a veth it observes is deleted"
else
	not_ok "mcpwire keeps running when a veth it observes is deleted" "$(tail -n 5 "$WORK/mcpwire.log")"
fi

# ------------------------------------------------------------ exit

kill -TERM "$MCPWIRE_PID"
for ((i = 0; i < 100; i++)); do alive "$MCPWIRE_PID" || break; sleep 0.1; done
if alive "$MCPWIRE_PID"; then
	not_ok "mcpwire exits within 10 s of SIGTERM"
else
	wait "$MCPWIRE_PID"
	rc=$?
	[ "$rc" = 0 ] && ok "mcpwire exits 0 on SIGTERM" || not_ok "mcpwire exits 0 on SIGTERM" "exit status $rc"
fi

left=""
for v in "$V_SLOW" "$V_FAST" "$V_CLIENT"; do
	[ -z "$(tc_ours "$v")" ] || left="$left $v"
done
[ -z "$left" ] && ok "no netobs filter left on any veth" ||
	not_ok "no netobs filter left on any veth" "left on:$left"
if ! has_clsact "$V_SLOW" && ! has_clsact "$V_CLIENT"; then
	ok "the clsact qdiscs mcpwire created are gone"
else
	not_ok "the clsact qdiscs mcpwire created are gone" "$(tc qdisc show dev "$V_SLOW"; tc qdisc show dev "$V_CLIENT")"
fi
foreign=$(tc filter show dev "$V_FAST" ingress | grep -c 'pref 7 u32')
if has_clsact "$V_FAST" && [ "$foreign" = "$FOREIGN_BEFORE" ] && [ "$foreign" -ge 1 ]; then
	ok "the pre-existing clsact on $V_FAST and its foreign u32 filter are untouched"
else
	not_ok "the pre-existing clsact on $V_FAST and its foreign u32 filter are untouched" \
		"$(tc qdisc show dev "$V_FAST"; tc filter show dev "$V_FAST" ingress)"
fi

finish
