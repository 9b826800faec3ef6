# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# memory.sh — measurement 4 of bench.sh: mcpwire's resident memory.
#
# 1. RSS (VmRSS) idle after start-up, then with MEMORY_CONNS (10,000)
#    concurrent keep-alive MCP connections open: conns.mjs in the client
#    container opens them against the canned nginx (16,000 worker
#    connections), each answered one ping, all held open while RSS is read.
#    mcpwire tracks both ends of each (client and server socket on this
#    host). Its count of answered pings for that server is recorded beside
#    the client's, so the connections were seen, not just open.
# 2. RSS over a sustained run at load, in a new mcpwire: wrk with a unique JSON-RPC id per call
#    (so pairing and dedup tables see new keys all the time) against the
#    canned nginx for SUSTAIN_SECONDS, RSS sampled every SUSTAIN_STEP
#    seconds; report.mjs fits a line through the samples after the first
#    third (tables filling up) and quotes the slope.

MEMORY_CONNS=${MEMORY_CONNS:-10000}
SUSTAIN_SECONDS=${SUSTAIN_SECONDS:-30}
SUSTAIN_STEP=${SUSTAIN_STEP:-3}

# conns_settled PID: conns.mjs has them all open, or has exited.
conns_settled() {
	[ -e "$RUN/conns.ready" ] || ! alive "$1"
}

bench_memory() {
	local rss_idle rss_open anon_idle anon_open hwm cpid pings rc samples=() s
	mw_start || return 1
	sleep 2
	rss_idle=$(proc_rss_kib "$MW_PID")
	anon_idle=$(proc_rss_kib "$MW_PID" RssAnon)
	rm -f "$RUN/conns.ready" "$RUN/conns.hold"
	ip netns exec "${NETNS_NS[client]}" bash -c 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"' conns \
		node "$BENCH_DIR/conns.mjs" --url "http://$SERVER_IP:$NGINX_PORT/mcp" --count "$MEMORY_CONNS" \
		--ready-file "$RUN/conns.ready" --hold-file "$RUN/conns.hold" --max-seconds 90 \
		>"$RUN/conns.log" 2>&1 </dev/null &
	cpid=$!
	mcpw_on_exit "stop_pid $cpid 5"
	if ! wait_for 100 "$MEMORY_CONNS connections" conns_settled "$cpid" || [ ! -e "$RUN/conns.ready" ]; then
		bench_log "conns.mjs: $(tail -n 3 "$RUN/conns.log")"
		stop_pid "$cpid" 3
		mw_stop
		return 1
	fi
	sleep 2 # dedup window, snapshot
	rss_open=$(proc_rss_kib "$MW_PID")
	anon_open=$(proc_rss_kib "$MW_PID" RssAnon)
	mw_scrape >"$RUN/metrics-memory.prom"
	pings=$(metric_sum "$RUN/metrics-memory.prom" mcp_requests_total "server_name=\"$SERVER_IP:$NGINX_PORT\",method=\"ping\"")
	touch "$RUN/conns.hold"
	wait "$cpid"
	rc=$?
	hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$MW_PID/status")
	bench_record "$(printf '{"kind":"memory","conns":%d,"answered":%d,"client_rc":%d,"mcpwire_pings":%s,"rss_idle_kib":%d,"rss_open_kib":%d,"anon_idle_kib":%d,"anon_open_kib":%d,"hwm_kib":%d,"conns_log":"%s"}' \
		"$MEMORY_CONNS" "$(cat "$RUN/conns.ready")" "$rc" "${pings:-0}" "$rss_idle" "$rss_open" "$anon_idle" "$anon_open" "$hwm" "$(head -n 1 "$RUN/conns.log")")"
	bench_log "memory: idle $rss_idle KiB, $MEMORY_CONNS connections open $rss_open KiB ($(head -n 1 "$RUN/conns.log"); mcpwire counted $pings pings)"
	mw_stop

	# a fresh mcpwire: the slope of this load alone
	mw_start || return 1
	sleep 1

	# sustained load, RSS sampled meanwhile
	run_wrk client "http://$SERVER_IP:$NGINX_PORT/mcp" 1 "$NGINX_CONNS" "$SUSTAIN_SECONDS" "$RUN/wrk-sustain.json" MCP_UNIQUE_IDS=1 &
	local wpid=$! t0=$SECONDS
	mcpw_on_exit "stop_pid $wpid 5"
	while alive "$wpid" && [ $((SECONDS - t0)) -le $((SUSTAIN_SECONDS + 25)) ]; do
		s=$(proc_rss_kib "$MW_PID")
		samples+=("[$(awk -v t="$(date +%s.%N)" 'BEGIN {printf "%.2f", t}'),$s]")
		sleep "$SUSTAIN_STEP"
	done
	wait "$wpid"
	sleep 2
	mw_scrape >"$RUN/metrics-sustain.prom"
	bench_record "$(printf '{"kind":"sustain","seconds":%d,"wrk":%s,"mcpwire_calls":%s,"samples":[%s]}' \
		"$SUSTAIN_SECONDS" "$(cat "$RUN/wrk-sustain.json" 2>/dev/null || echo null)" \
		"$(metric_sum "$RUN/metrics-sustain.prom" mcp_requests_total "server_name=\"$SERVER_IP:$NGINX_PORT\",method=\"tools/call\"")" \
		"$(IFS=,; echo "${samples[*]}")")"
	bench_log "sustain: RSS samples (KiB) $(printf '%s ' "${samples[@]}" | sed 's/\[[0-9.]*,//g; s/\]//g')"
	mw_stop
}
