# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# tap.sh — what every integration script starts with: one lock for all of
# them, the preflight checks, and TAP output ending in "N passed, N failed".
#
# Every mcpwire sees all traffic on the host, so two scripts running at once
# would count each other's calls: each script re-executes itself under
# flock(1) on one lock file before it does anything else.
#
#   INTEG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
#   source "$INTEG_DIR/tap.sh"
#   tap_lock "$@"                       # re-exec under the lock (once)
#   tap_preflight NAME ip node curl     # root, commands, node modules
#   TAP_LOGS=(mcpwire.log server.log)   # tailed from $WORK on failure
#   ok "name"; not_ok "name" "diagnostic line" ...; tap_feed FILE [PREFIX]
#   finish                              # plan, counts, exit status
#
# A script may define tap_on_fail(), called by finish when something failed,
# for diagnostics beyond the files in TAP_LOGS.

TAP_LOCK_FILE=${TAP_LOCK_FILE:-/tmp/mcpwire-integ.lock}
T_N=0 T_PASS=0 T_FAIL=0 T_SKIP=0
TAP_LOGS=()
TAP_LOG_LINES=${TAP_LOG_LINES:-100}

# tap_lock "$@": runs the calling script again under the lock, with the same
# arguments, unless it already holds it. Root only: a non-root run fails in
# tap_preflight with a clear line instead of waiting on root's lock file.
tap_lock() {
	if [ -z "${MCPWIRE_INTEG_LOCKED:-}" ] && [ "$(id -u)" = 0 ] && ! tap_lock_held_above; then
		exec env MCPWIRE_INTEG_LOCKED=1 flock "$TAP_LOCK_FILE" "$0" "$@"
	fi
}

# tap_lock_held_above: true when a process above this one already holds the
# lock (someone ran `flock /tmp/mcpwire-integ.lock script.sh` by hand, or a
# target wraps a whole sequence of scripts): taking it again would wait for
# ever on our own parent. /proc/locks names the holder's pid and the file's
# inode.
tap_lock_held_above() {
	local ino holders p
	ino=$(stat -c %i "$TAP_LOCK_FILE" 2>/dev/null) || return 1
	holders=" $(awk -v ino="$ino" '$2 == "FLOCK" { n = split($6, f, ":"); if (f[n] == ino) printf "%s ", $5 }' /proc/locks)"
	[ "$holders" != " " ] || return 1
	p=$PPID
	while [ -n "$p" ] && [ "$p" -gt 1 ]; do
		case $holders in *" $p "*) return 0 ;; esac
		p=$(ps -o ppid= -p "$p" 2>/dev/null | tr -d ' ')
	done
	return 1
}

# tap_fatal MESSAGE: a run that cannot start; counts as one failure.
tap_fatal() {
	echo "Bail out! $*"
	echo "0 passed, 1 failed"
	exit 1
}

# tap_preflight NAME CMD...: root, the listed commands, and the SDK's node
# modules when node is among them.
tap_preflight() {
	local name=$1 bin
	shift
	[ "$(id -u)" = 0 ] || tap_fatal "$name needs root (network namespaces, eBPF)"
	for bin in "$@"; do
		command -v "$bin" >/dev/null || tap_fatal "$bin not found (make test-deps)"
		if [ "$bin" = node ] && [ ! -d "$INTEG_DIR/node_modules/@modelcontextprotocol/sdk" ]; then
			tap_fatal "node modules missing: cd selftests/integration && npm ci"
		fi
	done
	[ -z "${MCPWIRE:-}" ] || [ -x "$MCPWIRE" ] || tap_fatal "$MCPWIRE missing: make"
}

ok() {
	T_N=$((T_N + 1)) T_PASS=$((T_PASS + 1))
	echo "ok $T_N - $*"
}

# skip NAME REASON [DIAG...]: a check whose premise does not hold in this run
# (TAP's "# SKIP"); counted apart, neither passed nor failed.
skip() {
	local name=$1 reason=$2 l
	shift 2
	T_N=$((T_N + 1)) T_SKIP=$((T_SKIP + 1))
	echo "ok $T_N - $name # SKIP $reason"
	for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#   /'; done
}

# not_ok NAME [DIAG...]: each DIAG is printed as a TAP comment under it.
not_ok() {
	local name=$1 l
	shift
	T_N=$((T_N + 1)) T_FAIL=$((T_FAIL + 1))
	echo "not ok $T_N - $name"
	for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#   /'; done
}

# check NAME CMD...: ok when CMD succeeds. CMD runs in this shell, so it may
# set variables for later steps.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi
}

# tap_feed FILE [PREFIX]: renumbers the "ok - " / "not ok - " (or numbered)
# lines of a helper's output into this script's plan, PREFIX before each
# name; other lines pass through, the helper's own plan line is dropped.
tap_feed() {
	local line p=${2:-}
	while IFS= read -r line; do
		case $line in
		"ok - "*) ok "$p${line#ok - }" ;;
		"not ok - "*) not_ok "$p${line#not ok - }" ;;
		"ok "[0-9]*" - "*) ok "$p${line#ok * - }" ;;
		"not ok "[0-9]*" - "*) not_ok "$p${line#not ok * - }" ;;
		1..*) ;;
		*) echo "$line" ;;
		esac
	done <"$1"
}

# tap_dump_logs: the last lines of each non-empty file TAP_LOGS names, on
# stderr. Entries are paths or glob patterns, relative to $WORK unless
# absolute.
tap_dump_logs() {
	local f p
	for f in "${TAP_LOGS[@]}"; do
		case $f in /*) ;; *) [ -n "${WORK:-}" ] || continue; f=$WORK/$f ;; esac
		for p in $f; do
			[ -s "$p" ] || continue
			echo "----- ${p#"${WORK:-}"/} (last $TAP_LOG_LINES lines) -----" >&2
			tail -n "$TAP_LOG_LINES" "$p" >&2
		done
	done
	if [ -n "${WORK:-}" ]; then
		echo "----- work directory: $WORK$([ "${KEEP:-0}" = 1 ] || echo ' (removed at exit; KEEP=1 keeps it)') -----" >&2
	fi
}

finish() {
	echo "1..$T_N"
	if [ "$T_FAIL" -gt 0 ]; then
		tap_dump_logs
		if declare -F tap_on_fail >/dev/null; then tap_on_fail; fi
	fi
	echo "$T_PASS passed, $T_FAIL failed$([ "$T_SKIP" = 0 ] || echo ", $T_SKIP skipped")"
	[ "$T_FAIL" -eq 0 ]
	exit $?
}

# bail NAME [DIAG...]: a failure the rest of the run cannot continue past.
bail() {
	not_ok "$@"
	finish
}
