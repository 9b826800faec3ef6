# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# pipeline.sh — measurement 3 of bench.sh: the userspace pipeline's throughput
# on a recorded capture, against tshark on the same file.
#
# tcpdump records the server's veth while wrk posts tools/call to the canned
# nginx for PIPELINE_SECONDS (no mcpwire attached). Then, interleaved, per
# repetition:
#   mcpwire --read FILE                  the whole pipeline (pcap → stream/ →
#                                        proto/ → mcp/ → metrics/), metrics
#                                        printed at the end
#   tshark -r FILE -Y 'http or json' -T fields …
#                                        Wireshark's TCP reassembly and its
#                                        HTTP and JSON dissectors, one line
#                                        per HTTP message
# CPU time (user + sys, bash's time) of each process. Messages = the MCP messages
# mcpwire decoded (2 × calls answered + notifications), the same count for
# both: messages per second per core = messages / CPU seconds. tshark's line
# count is recorded beside it as a check that it decoded the same messages.

PIPELINE_SECONDS=${PIPELINE_SECONDS:-3}
PIPELINE_TSHARK_TIMEOUT=${PIPELINE_TSHARK_TIMEOUT:-120}

bench_pipeline() {
	local pcap=$RUN/mcp.pcap tpid rep cpu msgs lines calls
	# -B: a 256 MiB kernel buffer, so tcpdump keeps up with the load;
	# --immediate-mode -U: every packet written before SIGTERM is in the file
	tcpdump -i "${NETNS_VETH[server]}" -w "$pcap" -B 262144 --immediate-mode -U -s 0 "tcp port $NGINX_PORT" \
		>"$RUN/tcpdump.log" 2>&1 </dev/null &
	tpid=$!
	mcpw_on_exit "stop_pid $tpid 3"
	wait_for 10 "tcpdump" grep -q 'listening on' "$RUN/tcpdump.log" || { bench_log "tcpdump did not start"; return 1; }
	run_wrk client "http://$SERVER_IP:$NGINX_PORT/mcp" 1 "$NGINX_CONNS" "$PIPELINE_SECONDS" "$RUN/wrk-pcap.json"
	sleep 1
	stop_pid "$tpid" 5
	[ "$KEEP" = 1 ] || mcpw_on_exit "rm -f '$pcap'"
	bench_log "pcap: $(stat -c %s "$pcap") bytes, $(grep -o '[0-9]* packets captured' "$RUN/tcpdump.log"), $(grep -o '[0-9]* packets dropped by kernel' "$RUN/tcpdump.log")"

	for ((rep = 1; rep <= BENCH_REPS; rep++)); do
		cpu=$(cpu_times "$RUN/replay.prom" "$MCPWIRE" --read "$pcap") ||
			{ bench_log "mcpwire --read failed: $(tail -n 3 "$RUN/cpu_times.err")"; return 1; }
		calls=$(metric_sum "$RUN/replay.prom" mcp_requests_total)
		msgs=$((2 * calls + $(metric_sum "$RUN/replay.prom" mcp_notifications_total)))
		bench_record "$(printf '{"kind":"pipeline","tool":"mcpwire","rep":%d,"user_s":%s,"sys_s":%s,"messages":%d,"calls":%d,"wrk_calls":%s,"pcap_bytes":%d}' \
			"$rep" "${cpu% *}" "${cpu#* }" "$msgs" "$calls" "$(node -p 'JSON.parse(process.argv[1]).requests' "$(cat "$RUN/wrk-pcap.json")")" "$(stat -c %s "$pcap")")"
		bench_log "pipeline mcpwire #$rep: $msgs messages, cpu $cpu"
		cpu=$(cpu_times "$RUN/tshark.out" timeout "$PIPELINE_TSHARK_TIMEOUT" tshark -n -r "$pcap" -d "tcp.port==$NGINX_PORT,http" \
			-Y 'http or json' -T fields -e frame.number -e http.request.method -e http.response.code -e json.value.string) ||
			{ bench_log "tshark failed or timed out: $(tail -n 3 "$RUN/cpu_times.err")"; return 1; }
		lines=$(wc -l <"$RUN/tshark.out")
		bench_record "$(printf '{"kind":"pipeline","tool":"tshark","rep":%d,"user_s":%s,"sys_s":%s,"messages":%d,"lines":%d}' \
			"$rep" "${cpu% *}" "${cpu#* }" "$msgs" "$lines")"
		bench_log "pipeline tshark #$rep: $lines lines, cpu $cpu"
	done
}
