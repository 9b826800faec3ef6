# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# overhead.sh — measurement 1 of bench.sh: what the traced server loses.
#
# For each target (the canned nginx; server-everything over Streamable HTTP,
# one session initialized first and shared by all of wrk's connections), in
# each repetition, three runs of BENCH_SECONDS in this order (interleaved, so
# drift in the machine's load hits all three alike):
#   bare     wrk → server, nothing attached
#   mcpwire  the same, mcpwire started before and stopped after the run
#   sidecar  wrk → nginx reverse proxy in the server's namespace → server
# Recorded per run: wrk's calls/s, p50, p99, completed calls; with mcpwire,
# its CPU seconds (utime + stime from /proc/PID/stat, from just before wrk
# starts until its calls are counted) and the tools/call requests it counted
# in /metrics; for the canned nginx also nginx's own count of requests
# answered (stub_status). wrk counts only the answers it read before its
# clock stopped, and drops up to one call per connection still in flight:
# the server answers those and mcpwire counts them, so mcpwire's count must
# equal nginx's exactly and be wrk's plus at most CONNS.
# BENCH_MCPWIRE_B=BINARY adds a fourth configuration, mcpwire_b: the same as
# mcpwire with another build, interleaved with the rest (before/after
# figures of a change). Both also record mcpwire's context switches
# (voluntary_ctxt_switches: its wake-ups).
# BENCH_PERF=1: perf record -g on mcpwire during the first mcpwire run of
# each target (perf-<target>.data in the run directory), for profiling.


# overhead_run TARGET CONFIG REP URL CONNS [ENV=VALUE...]
overhead_run() {
	local target=$1 cfg=$2 rep=$3 url=$4 conns=$5 port out cpu0=0 cpu1=0 calls=null nginx0=0 nginx1=0 srv=null
	local attach=0 cs0=0 cs1=0 bin=$MCPWIRE
	shift 5
	port=${url##*:}
	port=${port%%/*}
	out=$RUN/wrk-$target-$cfg-$rep.json
	case $cfg in mcpwire) attach=1 ;; mcpwire_b) attach=1 bin=$BENCH_MCPWIRE_B ;; esac
	if [ "$attach" = 1 ]; then
		MCPWIRE=$bin mw_start || return 1
		sleep 0.5 # let start-up finish its work on sockets already open
		cpu0=$(proc_cpu_ticks "$MW_PID")
		cs0=$(proc_rss_kib "$MW_PID" voluntary_ctxt_switches)
	fi
	[ "$target" = nginx ] && nginx0=$(nginx_requests server "$NGINX_PORT")
	local perf_pid=""
	if [ "$attach" = 1 ] && [ -n "${BENCH_PERF:-}" ] && [ "$rep" = 1 ]; then
		perf record -q -F 999 -g -o "$RUN/perf-$target.data" -p "$MW_PID" -- sleep "$BENCH_SECONDS" \
			>"$RUN/perf-$target.log" 2>&1 </dev/null &
		perf_pid=$!
	fi
	run_wrk client "$url" 1 "$conns" "$BENCH_SECONDS" "$out" "$@" || { [ "$attach" = 1 ] && mw_stop; return 1; }
	[ -z "$perf_pid" ] || wait "$perf_pid"
	[ "$target" = nginx ] && nginx1=$(nginx_requests server "$NGINX_PORT") &&
		srv=$((nginx1 - nginx0 - 1)) # the first stub_status query is counted in nginx1
	if [ "$attach" = 1 ]; then
		sleep 2 # dedup window (1 s) and the next snapshot
		cpu1=$(proc_cpu_ticks "$MW_PID")
		cs1=$(proc_rss_kib "$MW_PID" voluntary_ctxt_switches)
		mw_scrape >"$RUN/metrics-$target-$rep.prom"
		# only this server's: other MCP traffic on the host is seen too
		calls=$(metric_sum "$RUN/metrics-$target-$rep.prom" mcp_requests_total "server_name=\"$SERVER_IP:$port\",method=\"tools/call\"")
		mw_stop
	fi
	bench_record "$(printf '{"kind":"overhead","target":"%s","config":"%s","rep":%d,"conns":%d,"wrk":%s,"mcpwire_cpu_s":%s,"mcpwire_wakeups":%d,"mcpwire_calls":%s,"server_calls":%s}' \
		"$target" "$cfg" "$rep" "$conns" "$(cat "$out")" \
		"$(awk -v a="$cpu0" -v b="$cpu1" -v t="$(getconf CLK_TCK)" 'BEGIN {print (b - a) / t}')" "$((cs1 - cs0))" "$calls" "$srv")"
	bench_log "overhead $target $cfg #$rep: $(node -e 'const w = JSON.parse(process.argv[1]); console.log(`${Math.round(w.rps)} calls/s, p50 ${w.p50_us} µs, p99 ${w.p99_us} µs, ${w.requests} calls`)' "$(cat "$out")")$([ "$calls" = null ] || echo ", mcpwire counted $calls")$([ "$srv" = null ] || echo ", nginx answered $srv")"
}

bench_overhead() {
	local rep cfg sid url_n url_e
	url_n="http://$SERVER_IP:$NGINX_PORT/mcp"
	url_e="http://$SERVER_IP:$EVERYTHING_PORT/mcp"
	sid=$(mcp_session "$url_e" client) || { bench_log "server-everything: no session"; return 1; }
	bench_log "server-everything session $sid"
	# warm-up: node's JIT, nginx's and the kernel's caches
	run_wrk client "$url_n" 1 "$NGINX_CONNS" 2 "$RUN/wrk-warmup-n.json"
	run_wrk client "$url_e" 1 "$EVERYTHING_CONNS" 5 "$RUN/wrk-warmup-e.json" MCP_SESSION="$sid" MCP_UNIQUE_IDS=1
	for ((rep = 1; rep <= BENCH_REPS; rep++)); do
		for cfg in bare mcpwire sidecar ${BENCH_MCPWIRE_B:+mcpwire_b}; do
			local port_n=$NGINX_PORT port_e=$EVERYTHING_PORT
			[ "$cfg" = sidecar ] && port_n=$NGINX_SIDECAR_PORT port_e=$EVERYTHING_SIDECAR_PORT
			overhead_run nginx "$cfg" "$rep" "http://$SERVER_IP:$port_n/mcp" "$NGINX_CONNS"
			overhead_run everything "$cfg" "$rep" "http://$SERVER_IP:$port_e/mcp" "$EVERYTHING_CONNS" \
				MCP_SESSION="$sid" MCP_UNIQUE_IDS=1
		done
	done
}
