# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# kernel.sh — measurement 2 of bench.sh: kernel time of mcpwire's BPF
# programs, per invocation, for syscalls it filters out and for syscalls it
# captures.
#
# With kernel.bpf_stats_enabled=1 (restored at exit) the kernel adds up
# run_time_ns and run_cnt per program; bpftool reads them for the programs
# mcpwire holds open (found through /proc/PID/fdinfo). One mcpwire, then per
# repetition three phases of KERNEL_SECONDS each, interleaved, a snapshot
# between phases:
#   idle      no load of ours: what the rest of the host does meanwhile
#   filtered  dd bs=64 from /dev/zero to /dev/null: reads and writes on
#             character devices, which the entry programs drop after one
#             lookup (docs/capture.md)
#   captured  wrk → canned nginx: reads and writes on MCP sockets, both
#             endpoints, every byte copied to the ring buffer
# The host's background goes on in every phase, so report.mjs subtracts the
# neighbouring idle phase's counts and time (scaled to the phase's length)
# from each loaded phase before dividing: ns per invocation of the load alone.
# Per syscall = (sum of the enter and exit programs' time) / (exit program
# invocations), i.e. both tracepoints of one syscall together.

KERNEL_SECONDS=${KERNEL_SECONDS:-3}

bench_kernel() {
	local old ids rep phase t0 snap i=0
	old=$(sysctl -n kernel.bpf_stats_enabled) || return 1
	sysctl -qw kernel.bpf_stats_enabled=1 || return 1
	mcpw_on_exit "sysctl -qw kernel.bpf_stats_enabled=$old"
	mw_start || return 1
	ids=$(mw_prog_ids "$MW_PID")
	[ -n "$ids" ] || { bench_log "no BPF programs found in /proc/$MW_PID/fdinfo"; mw_stop; return 1; }
	snap=$RUN/bpf-0.json
	bpf_snapshot "$ids" "$snap"
	t0=$(date +%s%N)
	for ((rep = 1; rep <= BENCH_REPS; rep++)); do
		for phase in idle filtered captured; do
			case $phase in
			idle) sleep "$KERNEL_SECONDS" ;;
			filtered) timeout "$KERNEL_SECONDS" dd if=/dev/zero of=/dev/null bs=64 2>/dev/null ;;
			captured) run_wrk client "http://$SERVER_IP:$NGINX_PORT/mcp" 1 "$NGINX_CONNS" \
				"$KERNEL_SECONDS" "$RUN/wrk-kernel-$rep.json" ;;
			esac
			i=$((i + 1))
			bpf_snapshot "$ids" "$RUN/bpf-$i.json"
			local t1
			t1=$(date +%s%N)
			bench_record "$(printf '{"kind":"kernel","phase":"%s","rep":%d,"ns":%d,"before":%s,"after":%s}' \
				"$phase" "$rep" "$((t1 - t0))" "$(cat "$snap")" "$(cat "$RUN/bpf-$i.json")")"
			snap=$RUN/bpf-$i.json
			t0=$t1
		done
	done
	bench_log "kernel: $(node -e '
		const a = JSON.parse(require("fs").readFileSync(process.argv[1])), b = JSON.parse(require("fs").readFileSync(process.argv[2]));
		let t = 0, n = 0; for (const k in b) { t += b[k].run_time_ns - (a[k] || {run_time_ns: 0}).run_time_ns; if (k.startsWith("mw_exit")) n += b[k].run_cnt - (a[k] || {run_cnt: 0}).run_cnt; }
		console.log(`${Object.keys(b).length} programs, last phase ${n} syscalls, ${(t / Math.max(n, 1)).toFixed(0)} ns/syscall`)' "$RUN/bpf-$((i - 1)).json" "$RUN/bpf-$i.json")"
	mw_stop
	sysctl -qw kernel.bpf_stats_enabled="$old"
}
