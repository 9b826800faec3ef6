# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# lib.sh — helpers of `make bench` (bench.sh), sourced after
# selftests/integration/{netns,lib}.sh. Every wait is bounded; every process
# started here is stopped by its own pid through the at-exit stack.
#
# Raw figures go to $RUN/raw.jsonl, one JSON object per measurement
# (bench_record), and report.mjs turns them into the table and results.json.

# bench_record JSON: one measurement, appended as one line.
bench_record() {
	printf '%s\n' "$1" >>"$RUN/raw.jsonl"
}

# bench_log TEXT: progress on stderr, with the seconds since the start.
bench_log() {
	printf '[%4ds] %s\n' "$((SECONDS - BENCH_T0))" "$*" >&2
}

# fill_template IN OUT KEY=VALUE...: @KEY@ replaced by VALUE.
fill_template() {
	local in=$1 out=$2 kv sed_args=()
	shift 2
	for kv in "$@"; do sed_args+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
	sed "${sed_args[@]}" "$in" >"$out"
}

# nginx_start NAME CTR TEMPLATE KEY=VALUE...: an nginx (master + workers) in
# container CTR from the template, config and logs in $RUN; stopped (its
# master, by pid) at exit.
nginx_start() {
	local name=$1 ctr=$2 tpl=$3 pid
	shift 3
	mkdir -p "$RUN/nginx-tmp"
	fill_template "$tpl" "$RUN/nginx-$name.conf" DIR="$RUN" NAME="$name" "$@"
	ip netns exec "${NETNS_NS[$ctr]}" nginx -p "$RUN" -c "$RUN/nginx-$name.conf" \
		-e "$RUN/nginx-$name.err" >"$RUN/nginx-$name.out" 2>&1 </dev/null &
	pid=$!
	mcpw_on_exit "stop_pid $pid 5"
}

# nginx_requests CTR PORT: requests nginx has handled (stub_status), the
# query itself included.
nginx_requests() {
	netns_exec "$1" curl -fsS -m 2 "http://127.0.0.1:$2/nginx_status" | awk 'NR == 3 {print $3}'
}

# mw_start [ARGS...]: mcpwire on the host, serving on 127.0.0.1:$MW_PORT,
# log in $RUN/mcpwire-<n>.log; waits (bounded) until /healthz answers 200,
# i.e. every program is attached. Sets MW_PID.
MW_N=0
mw_start() {
	MW_N=$((MW_N + 1))
	"$MCPWIRE" --listen "127.0.0.1:$MW_PORT" "$@" >"$RUN/mcpwire-$MW_N.log" 2>&1 </dev/null &
	MW_PID=$!
	mcpw_on_exit "stop_pid $MW_PID 5"
	if ! wait_for 60 "mcpwire /healthz" http_ok "http://127.0.0.1:$MW_PORT/healthz"; then
		bench_log "mcpwire did not start: $(tail -n 5 "$RUN/mcpwire-$MW_N.log")"
		return 1
	fi
}

mw_stop() {
	stop_pid "$MW_PID" 5
	MW_PID=""
}

# mw_scrape: mcpwire's /metrics text on stdout.
mw_scrape() {
	curl -fsS -m 5 "http://127.0.0.1:$MW_PORT/metrics"
}

# metric_sum FILE NAME [REGEX]: the sum of the samples of NAME (exact family
# name, no suffix) in exposition FILE whose labels match REGEX.
metric_sum() {
	awk -v n="$2" -v re="${3:-}" '
		{ split($1, a, "{") }
		a[1] == n && (re == "" || $1 ~ re) { s += $NF }
		END { printf "%.0f\n", s }' "$1"
}

# metric_json FILE NAME LABEL: {"value of LABEL": sum, ...} for family NAME.
metric_json() {
	awk -v n="$2" -v l="$3" '
		{ split($1, a, "{") }
		a[1] == n {
			v = "?"
			if (match($1, l "=\"[^\"]*\"")) v = substr($1, RSTART + length(l) + 2, RLENGTH - length(l) - 3)
			s[v] += $NF
		}
		END { o = ""; for (k in s) o = o sprintf("%s\"%s\":%.0f", o == "" ? "" : ",", k, s[k]); printf "{%s}\n", o }' "$1"
}

# proc_cpu_ticks PID: utime + stime of PID (all its threads), in clock ticks.
proc_cpu_ticks() {
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# proc_rss_kib PID [FIELD]: VmRSS (or FIELD of /proc/PID/status, e.g.
# RssAnon: the heap, without the ring buffer's shared mapping) in KiB.
proc_rss_kib() {
	awk -v f="${2:-VmRSS}:" '$1 == f {print $2}' "/proc/$1/status"
}

# run_wrk CTR URL THREADS CONNS SECONDS OUT [ENV=VALUE...]: wrk with mcp.lua
# in container CTR; its done() writes the figures as JSON to OUT. Bounded by
# SECONDS plus a margin (timeout).
run_wrk() {
	local ctr=$1 url=$2 t=$3 c=$4 d=$5 out=$6
	shift 6
	rm -f "$out"
	ip netns exec "${NETNS_NS[$ctr]}" env WRK_JSON="$out" "$@" \
		timeout -k 5 $((d + 20)) wrk -t "$t" -c "$c" -d "${d}s" --timeout 5s -s "$BENCH_DIR/mcp.lua" "$url" \
		>"$out.txt" 2>&1 </dev/null
	[ -s "$out" ] || { bench_log "wrk failed: $(tail -n 5 "$out.txt")"; return 1; }
}

# mcp_session URL CTR: initializes an MCP session on server-everything with
# curl (initialize, then notifications/initialized) from container CTR and
# prints its Mcp-Session-Id.
mcp_session() {
	local url=$1 ctr=$2 sid
	sid=$(netns_exec "$ctr" curl -sS -m 5 -D - -o /dev/null "$url" \
		-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
		-d '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"mcpwire-bench","version":"1"}}}' |
		awk 'tolower($1) == "mcp-session-id:" {print $2}' | tr -d '\r')
	[ -n "$sid" ] || return 1
	netns_exec "$ctr" curl -sS -m 5 -o /dev/null "$url" \
		-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
		-H "Mcp-Session-Id: $sid" -H 'Mcp-Protocol-Version: 2025-06-18' \
		-d '{"jsonrpc":"2.0","method":"notifications/initialized"}' || return 1
	echo "$sid"
}

# mw_prog_ids PID: ids of the BPF programs PID holds open (its fdinfo).
mw_prog_ids() {
	grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -un | paste -sd, -
}

# bpf_snapshot IDS OUT: bpftool's JSON of those programs (run_time_ns,
# run_cnt) into OUT.
bpf_snapshot() {
	bpftool prog show --json >"$2.all" && node -e '
		const ids = new Set(process.argv[2].split(",").map(Number));
		const all = JSON.parse(require("fs").readFileSync(process.argv[1]));
		const o = {};
		for (const p of all) if (ids.has(p.id)) o[p.name] = { run_time_ns: p.run_time_ns || 0, run_cnt: p.run_cnt || 0 };
		require("fs").writeFileSync(process.argv[3], JSON.stringify(o));' "$2.all" "$1" "$2" && rm -f "$2.all"
}

# cpu_times OUT CMD...: runs CMD, stdout to OUT, prints "USER SYS": the CPU
# seconds (getrusage of the children, via bash's time, millisecond precision)
# CMD's process tree used.
cpu_times() {
	local out=$1 TIMEFORMAT='%3U %3S' rc
	shift
	{ time "$@" >"$out" 2>>"$RUN/cpu_times.err"; } 2>"$RUN/time.out"
	rc=$?
	cat "$RUN/time.out"
	return $rc
}
