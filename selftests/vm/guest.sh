#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# guest.sh OUT — the vmtest guest's test run, started by selftests/vm/init in
# a chroot of the host's root file system (overlaid by tmpfs). OUT is the
# writable share back to the host; this script leaves there:
#   guest.sha256  sha256 of the BPF object and the binaries as the guest sees them
#   kernel.txt    uname -r and what the guest kernel offers (BTF, tracefs, ...)
#   tap.log       the integration test's TAP output
#   mcpwire.log   mcpwire's own log from that run (its start-up lines)
#   verifier.log  when mcpwire could not load its BPF: its -v output (libbpf's
#                 relocations and the verifier's log)
#   rc            the test's exit status (written last: no rc = the guest died)
# OUT/env (written by vmtest.sh) sets REPO, BINS (the files to hash),
# MCPWIRE (the daemon under test), VM_TEST and MCPWIRE_TIME_SCALE.

set -u
OUT=$1
# shellcheck source=/dev/null
source "$OUT/env"
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
export MCPWIRE_TIME_SCALE MCPWIRE
cd "$REPO" || { echo 97 >"$OUT/rc"; exit 97; }
hostname vmtest 2>/dev/null
ip link set lo up

{
	echo "release $(uname -r)"
	echo "machine $(uname -m) cpus $(nproc) mem_kib $(awk '/MemTotal/ {print $2}' /proc/meminfo)"
	for f in /sys/kernel/btf/vmlinux /sys/kernel/tracing/events/syscalls /sys/fs/bpf /sys/fs/cgroup/cgroup.controllers; do
		if [ -e "$f" ]; then echo "present $f"; else echo "missing $f"; fi
	done
} | tee "$OUT/kernel.txt"

# The same files as on the host: the guest reads them through 9p.
# shellcheck disable=SC2086 # a list
sha256sum $BINS | tee "$OUT/guest.sha256"

start=$SECONDS
# KEEP=1: the work directory stays in the guest's tmpfs, for mcpwire.log below.
# shellcheck disable=SC2086 # VM_TEST may carry arguments
KEEP=1 $VM_TEST 2>&1 | tee "$OUT/tap.log"
rc=${PIPESTATUS[0]}
echo "# vmtest: $VM_TEST exited with $rc after $((SECONDS - start)) s" | tee -a "$OUT/tap.log"
for d in /tmp/mcpwire-integration.*; do
	[ -d "$d" ] || continue
	for f in mcpwire.log mcpwire-joined.log server.log prometheus/prometheus.log client.err; do
		[ -s "$d/$f" ] && { echo "----- $f"; cat "$d/$f"; }
	done
done >"$OUT/mcpwire.log" 2>&1
if grep -aq 'mcpwire: verifier rejected\|mcpwire: cannot load BPF' "$OUT/mcpwire.log"; then
	echo "# vmtest: mcpwire could not load its BPF; its -v output is in $OUT/verifier.log"
	timeout 600 "$MCPWIRE" -v --listen 127.0.0.1:9472 >"$OUT/verifier.log" 2>&1 </dev/null
	grep -a 'failed to resolve CO-RE relocation\|substituting insn\|verifier rejected' "$OUT/verifier.log" | head -n 5
fi
echo "$rc" >"$OUT/rc"
