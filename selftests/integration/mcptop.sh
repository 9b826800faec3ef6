#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# mcptop.sh — mcptop against a real run. Needs root.
#
# The network of run.sh (netns.sh): server-everything in container "server",
# the SDK client (client.mjs) in "client", build/mcpwire on the host. Then:
#   1. build/mcptop -b -n 2: the server row and its tool rows carry exactly the
#      client's recorded call counts;
#   2. build/mcptop interactive inside tmux (120x40): keys j/k/arrows, Enter,
#      s, f + text, ?, Esc, a resize to 80x24 and back, q; capture-pane checks
#      the screen after each, and after q the shell prompt is back with the
#      terminal sane (stty); SIGTERM restores it the same way;
#   3. the client's wait (docs/mcptop.8 CLI P50, CLI P95): client and server
#      are both on this host, so mcpwire times each call at the client's
#      socket too; batch rows carry CLI_P95 >= P95 (each call's client wait
#      contains its server time), the screen shows the columns at 120 and
#      CLI P95 in P99's place at 80, with values while a second client runs;
#      a replay of the run's capture (--read: no client side) shows no
#      client column and "-" in batch;
#   4. mcptop with nothing at --url: as root it starts mcpwire itself; as an
#      unprivileged user it fails with one line.
# Every mcpwire sees all traffic on the host, so the whole script runs under
# flock /tmp/mcpwire-integ.lock. TAP output, "N passed, N failed" at the end.
#
# Environment: MCPWIRE, MCPTOP (binaries), KEEP=1 keeps the work directory.

set -uo pipefail

INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tap.sh
source "$INTEG_DIR/tap.sh"
tap_lock "$@"
ROOT=$(cd "$INTEG_DIR/../.." && pwd)
MCPWIRE=${MCPWIRE:-$ROOT/build/mcpwire}
MCPTOP=${MCPTOP:-$ROOT/build/mcptop}
KEEP=${KEEP:-0}
SERVER_PORT=3001
SERVER_NAME="mcp-servers/everything"

# shellcheck source=netns.sh
source "$INTEG_DIR/netns.sh"
# shellcheck source=lib.sh
source "$INTEG_DIR/lib.sh"


tap_preflight mcptop.sh ip node curl ss tmux setpriv tcpdump
[ -x "$MCPTOP" ] || tap_fatal "$MCPTOP missing: make"

mcpw_trap_install
WORK=$(mktemp -d /tmp/mcpwire-mcptop.XXXXXX)
chmod 755 "$WORK"
[ "$KEEP" = 1 ] || mcpw_on_exit "rm -rf '$WORK'"
TMUX_SOCK="mcptop-test-$$"
mcpw_on_exit "tmux -L $TMUX_SOCK kill-server 2>/dev/null"

# ------------------------------------------------------------ the real run

netns_up 2>"$WORK/net.err" && netns_add server 2>>"$WORK/net.err" && netns_add client 2>>"$WORK/net.err" ||
	bail "network: bridge and two containers" "$(cat "$WORK/net.err")"
SERVER_IP=${NETNS_IP[server]}
start_everything server "$SERVER_PORT" "$WORK/server.log"
wait_for 20 "server-everything" listening server "$SERVER_PORT" ||
	bail "server-everything listens" "$(tail -n 20 "$WORK/server.log")"

PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
"$MCPWIRE" --listen "127.0.0.1:$PORT" >"$WORK/mcpwire.log" 2>&1 </dev/null &
MCPWIRE_PID=$!
mcpw_on_exit "stop_pid $MCPWIRE_PID 5"
mcpwire_ready() { grep -q capturing "$WORK/mcpwire.log" && http_ok "$URL/healthz"; }
wait_for 30 "mcpwire capturing" mcpwire_ready ||
	bail "mcpwire capturing on $URL" "$(tail -n 20 "$WORK/mcpwire.log")"
ok "mcpwire capturing on $URL, server-everything on $SERVER_IP:$SERVER_PORT"

# the run is also recorded, for the replay without a client side (part 3)
tcpdump -i "$NETNS_BRIDGE" -w "$WORK/capture.pcap" --immediate-mode -U -s 0 "tcp port $SERVER_PORT" \
	>"$WORK/tcpdump.log" 2>&1 </dev/null &
TCPDUMP_PID=$!
mcpw_on_exit "stop_pid $TCPDUMP_PID 3"
wait_for 10 "tcpdump listening" grep -q 'listening on' "$WORK/tcpdump.log" ||
	bail "tcpdump records $NETNS_BRIDGE" "$(cat "$WORK/tcpdump.log")"

netns_exec client timeout 60 node "$INTEG_DIR/client.mjs" --url "http://$SERVER_IP:$SERVER_PORT/mcp" \
	--record "$WORK/record.json" --mix basic --repeat 1 --max-seconds 40 --quiet \
	>"$WORK/client.out" 2>"$WORK/client.err" ||
	bail "client.mjs ran" "$(cat "$WORK/client.err")"
# the truth: requests sent by status, and per tool
read -r REQ_TOTAL REQ_ERR < <(node -e 'const r=require(process.argv[1]); let t=0,e=0;
	for (const v of Object.values(r.requests)) { t += v.ok + v.error + v.cancelled; e += v.error; }
	console.log(t, e)' "$WORK/record.json")
read -r ECHO_TOTAL < <(node -e 'const v=require(process.argv[1]).tools.echo; console.log(v.ok + v.error + v.cancelled)' "$WORK/record.json")
ok "client.mjs sent $REQ_TOTAL requests ($REQ_ERR errors), $ECHO_TOTAL echo calls"
sleep 2 # mcpwire's 1 s dedup window, the last FINs
stop_pid "$TCPDUMP_PID" 3

# ------------------------------------------------------------ batch mode

"$MCPTOP" --url "$URL" -b -n 2 -d 1 --log "$WORK/mcptop-batch.log" >"$WORK/batch.out" 2>"$WORK/batch.err"
rc=$?
check "mcptop -b -n 2 exits 0" [ "$rc" = 0 ]
n_iter=$(grep -c '^mcptop ' "$WORK/batch.out")
check "mcptop -b -n 2 prints 2 snapshots (saw $n_iter)" [ "$n_iter" = 2 ]
# SERVER CALLS/S ERR% P50 P95 P99 CLI_P50 CLI_P95 INFL SESS CALLS ERRORS CANCEL
row=$(grep "^$SERVER_NAME " "$WORK/batch.out" | tail -n 1)
read -r calls errs < <(awk '{print $(NF-2), $(NF-1)}' <<<"$row")
if [ "${calls:-}" = "$REQ_TOTAL" ] && [ "${errs:-}" = "$REQ_ERR" ]; then
	ok "batch: $SERVER_NAME row has $calls calls, $errs errors = the client's record"
else
	not_ok "batch: $SERVER_NAME row has the client's counts" "expected $REQ_TOTAL calls, $REQ_ERR errors" "$(cat "$WORK/batch.out")"
fi
echo_calls=$(awk '$1 == "tool" && $2 == "echo" {v=$(NF-2)} END {print v}' "$WORK/batch.out")
check "batch: tool echo row has $ECHO_TOTAL calls (saw ${echo_calls:-none})" [ "${echo_calls:-}" = "$ECHO_TOTAL" ]
# the second snapshot has a rate (two polls): a number, not "-"
rate=$(awk '{print $(NF-11)}' <<<"$row")
check "batch: second snapshot has a calls/s value ($rate)" grep -Eq '^[0-9]+\.[0-9]$' <<<"$rate"

# the client's wait: the first snapshot's quantiles are over everything
# since mcpwire started (the second's over the 1 s between the polls: none)
# secs DURATION: mcptop's "0.42ms" / "12ms" / "1.2s" in seconds, "-" stays
secs() { awk -v d="$1" 'BEGIN { if (d ~ /ms$/) print substr(d, 1, length(d) - 2) / 1000;
	else if (d ~ /s$/) print substr(d, 1, length(d) - 1) + 0; else print "-" }'; }
first=$(grep "^$SERVER_NAME " "$WORK/batch.out" | head -n 1)
read -r p95 c95 < <(awk '{print $5, $8}' <<<"$first")
if [ "$(secs "${p95:--}")" != - ] && [ "$(secs "${c95:--}")" != - ] &&
	awk -v s="$(secs "$p95")" -v c="$(secs "$c95")" 'BEGIN { exit !(c >= s) }'; then
	ok "batch: $SERVER_NAME CLI_P95 $c95 (the client's wait) >= P95 $p95 (the server's time)"
else
	not_ok "batch: $SERVER_NAME CLI_P95 is a duration >= P95" "P95 ${p95:-?}, CLI_P95 ${c95:-?}" "$(cat "$WORK/batch.out")"
fi
echo_c95=$(awk '$1 == "tool" && $2 == "echo" {print $9; exit}' "$WORK/batch.out")
check "batch: tool echo has a CLI_P95 (${echo_c95:-none})" [ "$(secs "${echo_c95:--}")" != - ]

# ------------------------------------------------------------ interactive, tmux

LOC=C
locale -a 2>/dev/null | grep -qix 'c.utf-\?8' && LOC=C.UTF-8
tm() { tmux -L "$TMUX_SOCK" "$@"; }
pane() { tm capture-pane -p -t mt; }
# wait_pane SECONDS REGEX: polls the pane until grep -E matches
wait_pane() {
	local end=$((SECONDS + $1))
	while [ "$SECONDS" -le "$end" ]; do
		pane | grep -Eq -- "$2" && return 0
		sleep 0.2
	done
	return 1
}
# screen NAME REGEX [NOT_REGEX]: a TAP line about the pane
screen() {
	local name=$1 re=$2 not=${3:-}
	if wait_pane 5 "$re" && { [ -z "$not" ] || ! pane | grep -Eq -- "$not"; }; then
		ok "tmux: $name"
	else
		not_ok "tmux: $name" "expected /$re/${not:+ and not /$not/}; the pane:" "$(pane)"
	fi
}
sane_tty() { # FILE: stty -a output of a cooked terminal
	grep -Eq '(^|[ ;])icanon' "$1" && grep -Eq '(^|[ ;])echo([ ;]|$)' "$1" && ! grep -Eq -- '-icanon|-echo([ ;]|$)' "$1"
}

tm new-session -d -s mt -x 120 -y 40 "env -i PATH=/usr/bin:/bin HOME=/root TERM=tmux-256color LANG=$LOC PS1='READY\$ ' bash --norc --noprofile" ||
	bail "tmux session starts"
wait_pane 5 'READY\$' || bail "tmux: shell prompt" "$(pane)"
tm send-keys -t mt "$MCPTOP --url $URL -d 1 --log $WORK/mcptop.log" Enter
screen "mcptop shows the servers table" "^mcp-servers/everything +[0-9.-]+ " ""
screen "key footer" "q Quit .*Enter Detail .*s Sort:calls/s .*f Filter .*\? Help"
# the tail is newest first: the client's last calls, and its one error
screen "recent calls tail shows the client's error call" "error +tool_error +mcp-servers/everything +tools/call no-such-tool"
tm send-keys -t mt j k Down Up
screen "j/k/arrows keep the server row selected" "^mcp-servers/everything"
tm send-keys -t mt Enter
screen "Enter drills into the server" "^Server mcp-servers/everything +version 2\.0\.0"
screen "detail lists methods and tools" "^T echo +.* $ECHO_TOTAL( |$)"
screen "detail lists tools/call" "^M tools/call "
tm send-keys -t mt s
screen "s cycles the sort" "Sort:error%"
tm send-keys -t mt f e c h o Enter
screen "f filters the rows" "^T echo " "^M tools/call "
screen "the footer shows the filter" "Filter\[echo\]"
tm send-keys -t mt '?'
screen "? opens the help" "mcptop keys"
tm send-keys -t mt x
screen "any key closes the help" "^T echo " "mcptop keys"
tm resize-window -t mt -x 80 -y 24
sleep 1
screen "resize to 80x24 keeps the header" "METHOD / TOOL +CALLS/S"
screen "80 columns: CLI P95 in P99's place" "ERR% +P50 +P95 +CLI P95 +INFL +SESS +CALLS" "P99"
last=$(pane | sed -n 24p)
if grep -q "q Quit" <<<"$last"; then ok "tmux: after resize the footer is on the last line (24)"; else not_ok "tmux: footer on line 24 after resize" "$(pane)"; fi
tm resize-window -t mt -x 120 -y 40
sleep 1
last=$(pane | sed -n 40p)
if grep -q "q Quit" <<<"$last"; then ok "tmux: resize back to 120x40, footer on line 40"; else not_ok "tmux: footer on line 40 after resize back" "$(pane)"; fi
tm send-keys -t mt Escape
screen "Esc returns to the servers" "^Servers" "^Server mcp-servers"
screen "120 columns: P99 and both client columns" "P50 +P95 +P99 +CLI P50 +CLI P95 +INFL"
# a second client while the screen refreshes: the 60 s window has calls,
# timed at both ends (SERVER CALLS/S ERR% P50 P95 P99 CLI_P50 CLI_P95 ...)
# (bounded: 8 sessions, 100 ms between requests, 25 s at most; what still
# runs in the namespace at exit is killed by netns.sh)
netns_exec client timeout 30 node "$INTEG_DIR/client.mjs" --url "http://$SERVER_IP:$SERVER_PORT/mcp" \
	--record "$WORK/record2.json" --mix basic --repeat 8 --delay-ms 100 --max-seconds 25 --quiet \
	>"$WORK/client2.out" 2>"$WORK/client2.err" </dev/null &
CLIENT2_PID=$!
# cli_row: the pane's server row has durations under P95 and CLI P95
cli_row() { pane | awk -v n="$SERVER_NAME" '$1 == n && $5 ~ /s$/ && $8 ~ /s$/ {f = 1} END {exit !f}'; }
if wait_for 30 "server row with the client's wait" cli_row; then
	ok "tmux: with traffic the server row shows CLI P50/P95: $(pane | awk -v n="$SERVER_NAME" '$1 == n {print "P95", $5, "CLI P50", $7, "CLI P95", $8}')"
else
	not_ok "tmux: with traffic the server row shows CLI P95" "$(pane)"
fi
wait "$CLIENT2_PID" # the client's own bound ends it
tm send-keys -t mt q
screen "q quits to the shell prompt" 'READY\$ *$' "RECENT CALLS"
tm send-keys -t mt "stty -a > $WORK/stty.q" Enter
wait_for 5 "stty" test -s "$WORK/stty.q"
check "terminal sane after q (icanon, echo)" sane_tty "$WORK/stty.q"

# SIGTERM: the main loop sees the flag and restores the terminal
tm send-keys -t mt "clear; $MCPTOP --url $URL -d 1 --log $WORK/mcptop.log" Enter
wait_pane 5 "RECENT CALLS" || not_ok "tmux: mcptop restarted" "$(pane)"
pid=$(pgrep -P "$(tm display -p -t mt '#{pane_pid}')" -x mcptop)
if [ -n "$pid" ]; then
	kill -TERM "$pid"
	screen "SIGTERM: mcptop exits to the prompt" 'READY\$ *$' "RECENT CALLS"
	tm send-keys -t mt "stty -a > $WORK/stty.term" Enter
	wait_for 5 "stty" test -s "$WORK/stty.term"
	check "terminal sane after SIGTERM" sane_tty "$WORK/stty.term"
else
	not_ok "tmux: mcptop process found for SIGTERM" "$(pane)"
fi
if grep -q 'mcptop exits' "$WORK/mcptop.log" && ! pane | grep -q 'poll:'; then
	ok "mcptop logs to its file ($(wc -l <"$WORK/mcptop.log") lines), never to the screen"
else
	not_ok "mcptop logs to its file" "$(cat "$WORK/mcptop.log" 2>&1)"
fi
tm kill-server 2>/dev/null

# ------------------------------------------------------------ no client side
# the same run replayed (--read): each connection read as its server socket
# saw it, so no call has a client side (docs/metrics.md)
RPORT=$(free_port)
"$MCPWIRE" --read "$WORK/capture.pcap" --listen "127.0.0.1:$RPORT" >"$WORK/replay.out" 2>"$WORK/replay.err" </dev/null &
REPLAY_PID=$!
mcpw_on_exit "stop_pid $REPLAY_PID 5"
replay_ready() { curl -fsS -m 2 "http://127.0.0.1:$RPORT/api/v1/servers" 2>/dev/null | grep -q "$SERVER_NAME"; }
if wait_for 30 "replay serving" replay_ready; then
	"$MCPTOP" --url "http://127.0.0.1:$RPORT" -b -n 1 --log "$WORK/mcptop-replay.log" >"$WORK/replay-batch.out" 2>&1
	read -r p95 c50 c95 < <(grep "^$SERVER_NAME " "$WORK/replay-batch.out" | awk '{print $5, $7, $8}')
	if [ "$(secs "${p95:--}")" != - ] && [ "${c50:-}" = - ] && [ "${c95:-}" = - ]; then
		ok "replay (no client side): batch P95 $p95, CLI_P50 and CLI_P95 \"-\""
	else
		not_ok "replay (no client side): batch CLI_P50/CLI_P95 \"-\"" "$(cat "$WORK/replay-batch.out")"
	fi
	tm new-session -d -s mt -x 120 -y 40 "$MCPTOP --url http://127.0.0.1:$RPORT -d 1 --log $WORK/mcptop-replay.log" ||
		not_ok "tmux session for the replay starts"
	screen "replay (no client side): no client column, P99 kept" "^$SERVER_NAME .*" "CLI P"
	screen "replay: header without client columns" "P50 +P95 +P99 +INFL +SESS +CALLS"
	tm kill-server 2>/dev/null
else
	not_ok "mcpwire --read capture.pcap --listen serves the replay" "$(cat "$WORK/replay.err")"
fi
stop_pid "$REPLAY_PID" 5

# ------------------------------------------------------------ no daemon at --url

stop_pid "$MCPWIRE_PID" 5
FREE=$(free_port)
setpriv --reuid=65534 --regid=65534 --clear-groups "$MCPTOP" --url "http://127.0.0.1:$FREE" -b -n 1 \
	--log /dev/null >"$WORK/nobody.out" 2>"$WORK/nobody.err"
rc=$?
if [ "$rc" = 1 ] && [ "$(wc -l <"$WORK/nobody.err")" = 1 ] && grep -q "no mcpwire answers at http://127.0.0.1:$FREE" "$WORK/nobody.err"; then
	ok "not root, nothing at --url: exit 1 with one line: $(cat "$WORK/nobody.err")"
else
	not_ok "not root, nothing at --url: one-line error" "exit $rc" "$(cat "$WORK/nobody.err")"
fi
MCPTOP_MCPWIRE=$MCPWIRE timeout 60 "$MCPTOP" --url "http://127.0.0.1:$FREE" -b -n 2 -d 1 \
	--log "$WORK/spawn.log" >"$WORK/spawn.out" 2>"$WORK/spawn.err"
rc=$?
if [ "$rc" = 0 ] && grep -q "starting .*mcpwire --listen 127.0.0.1:" "$WORK/spawn.log" &&
	grep -q "^mcptop .* - http://127.0.0.1:[0-9]* - " "$WORK/spawn.out"; then
	ok "root, nothing at --url: mcptop started its own mcpwire and read it ($(grep -o 'mcpwire pid [0-9]* capturing' "$WORK/spawn.log"))"
else
	not_ok "root, nothing at --url: mcptop captures by itself" "exit $rc" "$(cat "$WORK/spawn.err")" "$(cat "$WORK/spawn.log")"
fi
spid=$(grep -o 'mcpwire pid [0-9]*' "$WORK/spawn.log" | awk '{print $3}')
sleep 0.5
if [ -n "$spid" ] && ! kill -0 "$spid" 2>/dev/null; then
	ok "the mcpwire mcptop started is gone after mcptop exits"
else
	not_ok "the started mcpwire stops with mcptop" "pid ${spid:-?} still running"
	[ -n "$spid" ] && kill -TERM "$spid" 2>/dev/null
fi

finish
