#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench.sh — `make bench`: what mcpwire costs, measured side by side with its
# alternatives in one run on one machine (issue 6, docs/performance.md).
#
#   host: mcpwire (when attached), tcpdump, bpftool
#   br-…  ├── container "server": nginx canned MCP server :8080,
#         │                       server-everything :3001,
#         │                       nginx sidecar :8081 → :8080, :3002 → :3001
#         └── container "client": wrk (mcp.lua), conns.mjs
#
# Measurements, each a per-measurement script sourced here, each a ratio
# against a baseline taken in the same run, runs interleaved (A B A B …),
# medians of BENCH_REPS repetitions:
#   overhead.sh  wrk tools/call load: bare / mcpwire attached / sidecar proxy
#   kernel.sh    ns per BPF program invocation, filtered vs captured syscalls
#   pipeline.sh  mcpwire --read vs tshark on one recorded pcap
#   memory.sh    RSS at 10,000 connections; RSS slope over a sustained run
#   loss.sh      call-rate sweep: where mcpwire_events_lost_total leaves 0
# report.mjs prints the table (targets, PASS/MISS) and writes
# build/bench/results.json; raw figures and logs stay in build/bench/run-*/.
#
# Traffic only inside the namespaces created here; every run is bounded in
# time; everything created is removed at exit. Runs under the integration
# lock: mcpwire sees every syscall on the host, so no integration script may
# run meanwhile (nor another bench).
#
# Environment: MCPWIRE (binary), BENCH_REPS (3), BENCH_SECONDS (per run, 5),
# BENCH_ONLY="overhead kernel pipeline memory loss" (a subset), BENCH_OUT
# (build/bench), KEEP=1 (keep the pcap), BENCH_WATCHDOG (seconds, 1200: the
# whole run is stopped, and cleaned up, past it).

set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/../.." && pwd)
INTEG_DIR=$ROOT/selftests/integration
# shellcheck source=../integration/tap.sh
source "$INTEG_DIR/tap.sh"
tap_lock "$@"

MCPWIRE=${MCPWIRE:-$ROOT/build/mcpwire}
BENCH_REPS=${BENCH_REPS:-3}
BENCH_SECONDS=${BENCH_SECONDS:-5}
BENCH_ONLY=${BENCH_ONLY:-overhead kernel pipeline memory loss}
BENCH_OUT=${BENCH_OUT:-$ROOT/build/bench}
KEEP=${KEEP:-0}
NGINX_PORT=8080
NGINX_SIDECAR_PORT=8081
EVERYTHING_PORT=3001
EVERYTHING_SIDECAR_PORT=3002
# wrk connections: the canned nginx saturates with one wrk thread and a few
# dozen connections on two cores; server-everything (node) with a handful.
NGINX_CONNS=${NGINX_CONNS:-32}
EVERYTHING_CONNS=${EVERYTHING_CONNS:-8}
BENCH_T0=$SECONDS

# shellcheck source=../integration/netns.sh
source "$INTEG_DIR/netns.sh"
# shellcheck source=../integration/lib.sh
source "$INTEG_DIR/lib.sh"
# shellcheck source=lib.sh
source "$BENCH_DIR/lib.sh"

tap_preflight bench.sh ip node curl ss nginx wrk tshark tcpdump bpftool sysctl
[ -x "$MCPWIRE" ] || tap_fatal "$MCPWIRE missing: make"

mcpw_trap_install
# a last resort: every run below is bounded, the whole bench is too
watchdog "${BENCH_WATCHDOG:-1200}"
mkdir -p "$BENCH_OUT"
RUN=$BENCH_OUT/run-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$RUN" || tap_fatal "cannot create $RUN"
: >"$RUN/raw.jsonl"
# shellcheck disable=SC2034 # used by lib.sh
MW_PORT=$(free_port)

# The machine, for the report: the figures mean little without it.
bench_record "$(printf '{"kind":"machine","cpus":%d,"model":"%s","kernel":"%s","mem_mib":%d,"load1_start":"%s","mcpwire":"%s","date":"%s","reps":%d,"seconds":%d}' \
	"$(nproc)" "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo | tr -d '"')" "$(uname -r)" \
	"$(awk '/^MemTotal/ {print int($2 / 1024)}' /proc/meminfo)" "$(cut -d' ' -f1 /proc/loadavg)" \
	"$("$MCPWIRE" --version 2>&1 | head -n 1)" "$(date -u +%FT%TZ)" "$BENCH_REPS" "$BENCH_SECONDS")"

# ------------------------------------------------------------------ network

bench_log "network: bridge, containers server and client"
if ! { netns_up && netns_add server && netns_add client; }; then tap_fatal "network setup failed"; fi
# shellcheck disable=SC2034 # used by the measurement scripts
SERVER_IP=${NETNS_IP[server]}

nginx_start canned server "$BENCH_DIR/nginx-canned.conf.in" PORT="$NGINX_PORT" WORKERS=1
nginx_start sidecar server "$BENCH_DIR/nginx-sidecar.conf.in" PORT="$NGINX_SIDECAR_PORT" UPSTREAM="$NGINX_PORT" WORKERS=1
nginx_start sidecar-everything server "$BENCH_DIR/nginx-sidecar.conf.in" PORT="$EVERYTHING_SIDECAR_PORT" UPSTREAM="$EVERYTHING_PORT" WORKERS=1
start_everything server "$EVERYTHING_PORT" "$RUN/server-everything.log"
for p in $NGINX_PORT $NGINX_SIDECAR_PORT $EVERYTHING_SIDECAR_PORT $EVERYTHING_PORT; do
	wait_for 30 "port $p in container server" listening server "$p" ||
		tap_fatal "nothing listens on :$p ($(cat "$RUN"/nginx-*.err 2>/dev/null | tail -n 5))"
done

for m in $BENCH_ONLY; do
	[ -f "$BENCH_DIR/$m.sh" ] || tap_fatal "no measurement $m (BENCH_ONLY)"
	# shellcheck disable=SC1090
	source "$BENCH_DIR/$m.sh"
	bench_log "== $m"
	"bench_$m" || bench_log "$m: failed (see $RUN)"
done

bench_record "$(printf '{"kind":"total","seconds":%d,"load1_end":"%s"}' "$((SECONDS - BENCH_T0))" "$(cut -d' ' -f1 /proc/loadavg)")"
node "$BENCH_DIR/report.mjs" "$RUN/raw.jsonl" "$RUN/results.json" | tee "$RUN/table.txt"
rc=${PIPESTATUS[0]}
cp "$RUN/results.json" "$BENCH_OUT/results.json" 2>/dev/null
cp "$RUN/table.txt" "$BENCH_OUT/table.txt" 2>/dev/null
echo "figures: $BENCH_OUT/results.json, raw figures and logs: $RUN"
exit "$rc"
