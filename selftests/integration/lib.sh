# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# lib.sh — process and HTTP helpers shared by run.sh and demo.sh. Sourced after
# netns.sh (uses its at-exit stack). Every wait here is bounded.

# MCPWIRE_TIME_SCALE=N (a whole number, default 1) multiplies the time bounds
# of the integration scripts (waits, budgets, client deadlines) for slow
# machines: make vmtest runs them under software emulation with N=10. It only
# stretches bounds; no result depends on it.
TIME_SCALE=${MCPWIRE_TIME_SCALE:-1}
[[ $TIME_SCALE =~ ^[1-9][0-9]{0,2}$ ]] || TIME_SCALE=1
# scaled SECONDS: SECONDS * MCPWIRE_TIME_SCALE
scaled() { echo $(($1 * TIME_SCALE)); }

# A free TCP port on 127.0.0.1 (the kernel picks it; the tiny race until our
# daemon binds it is acceptable for a test).
free_port() {
	node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# wait_for SECONDS DESCRIPTION CMD...: polls CMD every 0.2 s until it succeeds
# (SECONDS times MCPWIRE_TIME_SCALE).
wait_for() {
	local secs=$(($1 * TIME_SCALE)) what=$2 end
	shift 2
	end=$((SECONDS + secs))
	while ! "$@" >/dev/null 2>&1; do
		if [ "$SECONDS" -ge "$end" ]; then
			echo "timed out after ${secs}s waiting for $what" >&2
			return 1
		fi
		sleep 0.2
	done
}

# time_left: true until the script's DEADLINE (in $SECONDS) has passed.
time_left() { [ "$SECONDS" -lt "$DEADLINE" ]; }

# watchdog SECONDS: a last resort against anything hanging. After SECONDS the
# script gets SIGTERM (its at-exit stack still cleans up). Needs netns.sh's
# mcpw_trap_install to have run.
watchdog() {
	local secs=$1
	(
		trap 'kill $sp 2>/dev/null; exit 0' TERM
		sleep "$secs" &
		sp=$!
		wait $sp && echo "# $(basename "$0"): overall timeout after ${secs}s, terminating" >&2 && kill -TERM $$
	) 2>/dev/null &
	mcpw_on_exit "kill $! 2>/dev/null"
}

# http_ok URL: true on a 2xx answer within 2 s.
http_ok() {
	curl -fsS -m 2 -o /dev/null "$1"
}

# alive PID
alive() {
	kill -0 "$1" 2>/dev/null
}

# stop_pid PID [GRACE_SECONDS]: SIGTERM, wait (bounded), then SIGKILL. Only
# ever called with the id of a process this script started. Prints the exit
# status when it could be collected.
stop_pid() {
	local pid=$1 grace=${2:-5} i
	[ -n "$pid" ] || return 0
	alive "$pid" || { wait "$pid" 2>/dev/null; return 0; }
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < grace * 10; i++)); do
		alive "$pid" || break
		sleep 0.1
	done
	if alive "$pid"; then
		echo "pid $pid ignored SIGTERM for ${grace}s, sending SIGKILL" >&2
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
}

# Starts server-everything (Streamable HTTP, /mcp) inside container $1 on
# port $2 with a near-empty environment (its get-env tool prints it), logging
# to $3. $4 is its mode, streamableHttp by default (sse: the 2024-11-05
# transport on /sse and /message). Sets SERVER_PID.
start_everything() {
	local ctr=$1 port=$2 log=$3 mode=${4:-streamableHttp} node_bin
	node_bin=$(command -v node)
	# ip netns exec, not the netns_exec function: so that $! is the server
	# itself (ip execs env execs node), not a subshell around it.
	ip netns exec "${NETNS_NS[$ctr]}" env -i PATH=/usr/bin:/bin HOME=/nonexistent PORT="$port" \
		"$node_bin" "$INTEG_DIR/node_modules/@modelcontextprotocol/server-everything/dist/index.js" "$mode" \
		>"$log" 2>&1 </dev/null &
	SERVER_PID=$!
	mcpw_on_exit "stop_pid $SERVER_PID 3"
}

# listening CTR PORT: something listens on TCP PORT inside container CTR.
listening() {
	netns_exec "$1" ss -Hltn "sport = :$2" | grep -q LISTEN
}

# Writes a Prometheus config scraping mcpwire at $2 every second into dir $1
# and starts Prometheus on 127.0.0.1:$3. Sets PROM_PID.
start_prometheus() {
	local dir=$1 target=$2 port=$3
	mkdir -p "$dir/data"
	cat >"$dir/prometheus.yml" <<-EOF
		# written by mcpwire selftests; removed at exit
		global:
		  scrape_interval: 1s
		  scrape_timeout: 1s
		  evaluation_interval: 1s
		scrape_configs:
		  - job_name: mcpwire
		    static_configs:
		      - targets: ['$target']
	EOF
	"${PROMETHEUS:-prometheus}" --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
		--web.listen-address="127.0.0.1:$port" --storage.tsdb.retention.time=1h \
		--log.level=warn >"$dir/prometheus.log" 2>&1 </dev/null &
	PROM_PID=$!
	mcpw_on_exit "stop_pid $PROM_PID 5"
}

# prom_up_is_1 PROM_URL: Prometheus has scraped the job mcpwire successfully.
prom_up_is_1() {
	curl -fsS -m 2 "$1/api/v1/query" --data-urlencode 'query=up{job="mcpwire"}' |
		grep -q '"value":\[[0-9.]*,"1"\]'
}
