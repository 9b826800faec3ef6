# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# loss.sh — measurement 5 of bench.sh: the call rate up to which mcpwire loses
# nothing, and what it reports beyond.
#
# One mcpwire (--request-timeout LOSS_TIMEOUT, so a request whose answer was
# lost shows up as expired within the run), then steps of rising load on the
# canned nginx, LOSS_SECONDS each: wrk with 1 thread and 1, 4, 16 and 64
# connections, then 2 threads and 256 (nginx with one worker is saturated
# before that; the last steps show what happens at and past saturation).
# Per step, from /metrics before and after: mcpwire_events_lost_total by
# reason, mcpwire_requests_expired_total, parse errors, and the tools/call
# requests mcpwire counted for this server, beside nginx's own count
# (stub_status) and wrk's calls/s.
# A last step shows what mcpwire reports when it does fall behind: the
# 1-thread 16-connection load again, with mcpwire's process stopped
# (SIGSTOP) for LOSS_PAUSE seconds in the middle, so the ring buffer fills
# as it would under a consumer that cannot keep up.

LOSS_SECONDS=${LOSS_SECONDS:-4}
LOSS_TIMEOUT=${LOSS_TIMEOUT:-3}
LOSS_STEPS=${LOSS_STEPS:-"1:1 1:4 1:16 1:64 2:256 pause:16"}
LOSS_PAUSE=${LOSS_PAUSE:-2}

bench_loss() {
	local step t c m0 m1 n0 n1 i=0 paused wpid
	mw_start --request-timeout "$LOSS_TIMEOUT" || return 1
	sleep 1
	mw_scrape >"$RUN/metrics-loss-0.prom"
	for step in $LOSS_STEPS; do
		t=${step%%:*} c=${step#*:} paused=0
		[ "$t" = pause ] && t=1 paused=1
		i=$((i + 1))
		m0=$RUN/metrics-loss-$((i - 1)).prom
		m1=$RUN/metrics-loss-$i.prom
		n0=$(nginx_requests server "$NGINX_PORT")
		run_wrk client "http://$SERVER_IP:$NGINX_PORT/mcp" "$t" "$c" "$LOSS_SECONDS" "$RUN/wrk-loss-$i.json" MCP_UNIQUE_IDS=1 &
		wpid=$!
		if [ "$paused" = 1 ]; then
			sleep 1
			mcpw_on_exit "kill -CONT $MW_PID 2>/dev/null" # never left stopped
			kill -STOP "$MW_PID"
			sleep "$LOSS_PAUSE"
			kill -CONT "$MW_PID"
		fi
		wait "$wpid" || continue
		n1=$(nginx_requests server "$NGINX_PORT")
		sleep $((LOSS_TIMEOUT + 2)) # dedup window, then expiry of anything unanswered
		mw_scrape >"$m1"
		bench_record "$(printf '{"kind":"loss","step":%d,"paused_s":%d,"threads":%d,"conns":%d,"wrk":%s,"server_calls":%d,"mcpwire_calls":%s,"lost":%s,"lost_before":%s,"expired":%s,"expired_before":%s,"parse_errors":%s,"parse_errors_before":%s}' \
			"$i" "$((paused * LOSS_PAUSE))" "$t" "$c" "$(cat "$RUN/wrk-loss-$i.json")" "$((n1 - n0 - 1))" \
			"$(( $(metric_sum "$m1" mcp_requests_total "server_name=\"$SERVER_IP:$NGINX_PORT\",method=\"tools/call\"") - $(metric_sum "$m0" mcp_requests_total "server_name=\"$SERVER_IP:$NGINX_PORT\",method=\"tools/call\"") ))" \
			"$(metric_json "$m1" mcpwire_events_lost_total reason)" "$(metric_json "$m0" mcpwire_events_lost_total reason)" \
			"$(metric_sum "$m1" mcpwire_requests_expired_total)" "$(metric_sum "$m0" mcpwire_requests_expired_total)" \
			"$(metric_json "$m1" mcpwire_parse_errors_total reason)" "$(metric_json "$m0" mcpwire_parse_errors_total reason)")"
		bench_log "loss step $i ($t threads, $c conns$([ "$paused" = 1 ] && echo ", mcpwire stopped ${LOSS_PAUSE}s")): $(node -p 'Math.round(JSON.parse(process.argv[1]).rps)' "$(cat "$RUN/wrk-loss-$i.json")") calls/s, lost $(( $(metric_sum "$m1" mcpwire_events_lost_total) - $(metric_sum "$m0" mcpwire_events_lost_total) )), expired $(( $(metric_sum "$m1" mcpwire_requests_expired_total) - $(metric_sum "$m0" mcpwire_requests_expired_total) ))"
	done
	mw_stop
}
