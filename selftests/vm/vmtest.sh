#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vmtest.sh — runs an mcpwire integration test inside a Debian kernel booted
# under qemu (make vmtest; docs/kernels.md). Needs root (apt-get download,
# depmod) and the build already done (make).
#
#   1. resolves KERNEL (default linux-image-amd64, a metapackage) to the real
#      versioned package, downloads it with apt-get download into build/vm/pkg/
#      (cached) and unpacks vmlinuz and modules into build/vm/<package>/;
#   2. packs an initramfs: busybox-static, selftests/vm/init, the modules the
#      guest needs (9p, virtio, overlay, veth, bridge, tc, sock_diag) in the
#      order modprobe --show-depends gives;
#   3. boots it with qemu-system-x86_64 (TCG when /dev/kvm is absent), the
#      host's / and the checkout (at its own path, so a clone under /tmp is
#      not hidden by the guest's tmpfs) shared read-only over 9p, a
#      writable share for the results;
#   4. the guest runs selftests/vm/guest.sh: sha256 of the BPF object and the
#      binaries, then VM_TEST (default selftests/integration/run.sh);
#   5. passes when the guest's test exited 0 and the sha256 sums match the
#      host's; otherwise prints the guest's console and test logs and fails.
#
# Usage: vmtest.sh [--kernel PKG] [--expect-core-break]
#   --kernel PKG          Debian kernel package (same as KERNEL=PKG)
#   --expect-core-break   invert the verdict: pass only when mcpwire's BPF fails
#                         to load in the guest (make vmtest-core-break builds
#                         it with -DMW_CORE_BREAK into VM_BUILD)
#
# Environment (all optional):
#   KERNEL=PKG            Debian kernel package (linux-image-amd64,
#                         linux-image-6.1.0-56-amd64, linux-image-cloud-amd64 ...)
#   VM_BUILD=DIR          build output to test (default build): DIR/mcpwire,
#                         DIR/mcptop, DIR/mcpwire.bpf.o
#   VM_TEST="CMD ARGS"    guest command, run from the worktree
#   VM_MEM=MiB (4096)  VM_CPUS=N (2)  VM_TIMEOUT=seconds for the whole boot (3600)
#   MCPWIRE_TIME_SCALE=N  multiplies the integration test's waits (default 10
#                         under TCG, 1 with KVM)
#   VM_ACCEL=kvm          use KVM (default tcg, software emulation)
#   VM_OUT=DIR            result directory (default build/vm/out-<package>)

set -uo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$VM_DIR/../.." && pwd)
BUILD=$ROOT/build
KERNEL=${KERNEL:-linux-image-amd64}
EXPECT_BREAK=0
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) [ $# -ge 2 ] || { echo "vmtest: --kernel needs a package name" >&2; exit 2; }; KERNEL=$2; shift 2 ;;
	--kernel=*) KERNEL=${1#--kernel=}; shift ;;
	--expect-core-break) EXPECT_BREAK=1; shift ;;
	*) echo "vmtest: unknown argument $1 (usage: vmtest.sh [--kernel PKG] [--expect-core-break])" >&2; exit 2 ;;
	esac
done
# the build under test, relative to the worktree (the guest sees the same path)
VM_BUILD=${VM_BUILD:-build}
VM_BUILD=${VM_BUILD#"$ROOT"/}
VM_TEST=${VM_TEST:-selftests/integration/run.sh}
VM_MEM=${VM_MEM:-4096}
VM_CPUS=${VM_CPUS:-2}
VM_TIMEOUT=${VM_TIMEOUT:-3600}
# Modules the guest loads, with their dependencies: the 9p root, the overlay
# over it, the test network (veth, bridge), tc clsact + BPF classifier, and the
# sock_diag modules ss(8) uses.
VM_MODULES=${VM_MODULES:-"virtio_pci 9pnet_virtio 9p overlay veth bridge sch_ingress cls_bpf inet_diag tcp_diag unix_diag"}

say() { printf '  %-8s %s\n' VMTEST "$*"; }
fail() { echo "vmtest: FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "needs root (apt-get download, depmod, the guest's test runs as root)"
for bin in qemu-system-x86_64 busybox apt-get dpkg-deb depmod modprobe cpio sha256sum; do
	command -v "$bin" >/dev/null || fail "$bin not found (make vmtest-deps)"
done
# The initramfs has no libc: busybox must be busybox-static's.
case $(ldd "$(command -v busybox)" 2>&1) in
*"not a dynamic"*) ;;
*) fail "busybox is not static (apt-get install busybox-static)" ;;
esac
BINS="$VM_BUILD/mcpwire.bpf.o $VM_BUILD/mcpwire $VM_BUILD/mcptop"
for f in $BINS; do
	[ -s "$ROOT/$f" ] || fail "$f missing: make"
done

# 1. the kernel package: a metapackage depends on exactly one linux-image-X.
pkg=$KERNEL
for _ in 1 2 3; do
	case $pkg in linux-image-[0-9]*) break ;; esac
	dep=$(apt-cache depends "$pkg" 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ {print $2; exit}')
	[ -n "$dep" ] || fail "$pkg: not a Debian kernel image package apt knows (apt-cache depends $pkg)"
	pkg=$dep
done
case $pkg in linux-image-[0-9]*) ;; *) fail "$KERNEL does not resolve to a linux-image-<version> package" ;; esac
mkdir -p "$BUILD/vm/pkg"
deb=$(ls "$BUILD/vm/pkg/${pkg}"_*.deb 2>/dev/null | tail -n 1)
if [ -z "$deb" ]; then
	say "apt-get download $pkg"
	# _apt cannot write into build/: download as root (apt warns, harmless).
	(cd "$BUILD/vm/pkg" && apt-get download -q "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed') ||
		fail "apt-get download $pkg"
	deb=$(ls "$BUILD/vm/pkg/${pkg}"_*.deb 2>/dev/null | tail -n 1)
	[ -n "$deb" ] || fail "apt-get download $pkg left no .deb in build/vm/pkg"
fi
KDIR=$BUILD/vm/$pkg
if [ ! -e "$KDIR/.unpacked" ] || [ "$deb" -nt "$KDIR/.unpacked" ]; then
	say "unpack $(basename "$deb")"
	rm -rf "$KDIR" && mkdir -p "$KDIR/root"
	dpkg-deb -x "$deb" "$KDIR/root" || fail "dpkg-deb -x $deb"
	touch "$KDIR/.unpacked"
fi
kver=$(ls "$KDIR/root/lib/modules" | head -n 1)
vmlinuz=$KDIR/root/boot/vmlinuz-$kver
[ -n "$kver" ] && [ -s "$vmlinuz" ] || fail "$deb has no /boot/vmlinuz-* and /lib/modules/*"
[ -s "$KDIR/root/lib/modules/$kver/modules.dep" ] || depmod -b "$KDIR/root" "$kver" || fail "depmod $kver"

# 2. initramfs (rebuilt every run: it is small and init may have changed)
stage=$KDIR/initramfs
rm -rf "$stage" && mkdir -p "$stage"/{bin,modules,proc,sys,dev,lower,rw,newroot}
cp "$(command -v busybox)" "$stage/bin/busybox"
cp "$VM_DIR/init" "$stage/init" && chmod +x "$stage/init"
: >"$stage/modules/order"
for m in $VM_MODULES; do
	# "builtin X" lines are modules compiled in: nothing to load.
	modprobe -d "$KDIR/root" -S "$kver" --show-depends "$m" 2>/dev/null | awk '$1 == "insmod" {print $2}' ||
		fail "module $m not in $pkg"
done | awk '!seen[$0]++' | while read -r ko; do
	cp "$ko" "$stage/modules/" || exit 1
	case $ko in *.xz) unxz "$stage/modules/$(basename "$ko")" ;; *.zst) unzstd -q --rm "$stage/modules/$(basename "$ko")" ;; esac
	basename "${ko%.xz}" | sed 's/\.zst$//' >>"$stage/modules/order"
done
(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$KDIR/initramfs.cpio.gz" || fail "cpio"

# 3. results share and what the guest runs
OUT=${VM_OUT:-$BUILD/vm/out-$pkg$([ "$EXPECT_BREAK" = 1 ] && echo -core-break)}
rm -rf "$OUT" && mkdir -p "$OUT"
# TCG by default: this project's machines have a /dev/kvm that cannot run a
# guest (qemu aborts setting MSRs, or the guest never prints). VM_ACCEL=kvm
# where KVM really works.
if [ "${VM_ACCEL:-tcg}" = kvm ]; then accel=kvm cpu=host scale_default=1; else accel=tcg,thread=multi cpu=max scale_default=10; fi
MCPWIRE_TIME_SCALE=${MCPWIRE_TIME_SCALE:-$scale_default}
# shellcheck disable=SC2086 # BINS is a list
(cd "$ROOT" && sha256sum $BINS) >"$OUT/host.sha256"
cat >"$OUT/env" <<-EOT
	REPO='$ROOT'
	BINS='$BINS'
	MCPWIRE='$ROOT/$VM_BUILD/mcpwire'
	VM_TEST='$VM_TEST'
	MCPWIRE_TIME_SCALE='$MCPWIRE_TIME_SCALE'
EOT

say "boot $pkg ($kver) under qemu ($accel, $VM_CPUS cpus, $VM_MEM MiB), $VM_TEST, MCPWIRE_TIME_SCALE=$MCPWIRE_TIME_SCALE"
say "console: $OUT/console.log"
t0=$SECONDS
timeout --foreground -k 10 "$VM_TIMEOUT" qemu-system-x86_64 \
	-accel "$accel" -cpu "$cpu" -smp "$VM_CPUS" -m "$VM_MEM" \
	-nodefaults -no-user-config -display none -no-reboot \
	-kernel "$vmlinuz" -initrd "$KDIR/initramfs.cpio.gz" \
	-append "console=ttyS0 panic=-1 oops=panic loglevel=4 vmtest.repo=$ROOT vmtest.out=$OUT" \
	-serial "file:$OUT/console.log" \
	-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
	-virtfs "local,path=$ROOT,mount_tag=hostrepo,security_model=none,readonly=on,multidevs=remap" \
	-virtfs "local,path=$OUT,mount_tag=vmout,security_model=none" \
	</dev/null >"$OUT/qemu.log" 2>&1
qrc=$?
elapsed=$((SECONDS - t0))
echo "$elapsed" >"$OUT/seconds"

# 4. verdict
show_logs() {
	echo "----- guest console ($OUT/console.log, last 200 lines) -----" >&2
	tail -n 200 "$OUT/console.log" >&2
	[ -s "$OUT/qemu.log" ] && { echo "----- qemu -----" >&2; cat "$OUT/qemu.log" >&2; }
	[ -s "$OUT/mcpwire.log" ] && { echo "----- guest test logs ($OUT/mcpwire.log, last 150 lines) -----" >&2; tail -n 150 "$OUT/mcpwire.log" >&2; }
}
[ "$qrc" = 124 ] && { show_logs; fail "the guest did not finish within VM_TIMEOUT=${VM_TIMEOUT}s"; }
[ "$qrc" = 0 ] || { show_logs; fail "qemu exited with $qrc"; }
[ -s "$OUT/rc" ] || { show_logs; fail "the guest left no test result (boot failure or crash; see the console above)"; }
say "guest kernel: $(cat "$OUT/kernel.txt" 2>/dev/null | tr '\n' ';')"
if ! cmp -s "$OUT/host.sha256" "$OUT/guest.sha256"; then
	show_logs
	diff "$OUT/host.sha256" "$OUT/guest.sha256" >&2
	fail "the guest's BPF object or binaries differ from the host's"
fi
sed 's/^/  sha256   /' "$OUT/guest.sha256"
say "the guest ran the host's files (sha256 above, same on both sides)"
grep -a '^mcpwire.*\(hooks attached\|capturing\|verifier\|cannot\)' "$OUT/mcpwire.log" | sed 's/^/  guest    /'
rc=$(cat "$OUT/rc")
if [ "$EXPECT_BREAK" = 1 ]; then
	# The break must surface as mcpwire refusing to start because libbpf
	# could not relocate the read (it poisons the instruction and the
	# verifier names the relocation), not as any other failure.
	if [ "$rc" != 0 ] && grep -aq 'failed to resolve CO-RE relocation' "$OUT/verifier.log" 2>/dev/null; then
		grep -ah 'failed to resolve CO-RE relocation\|^mcpwire: verifier rejected' "$OUT/verifier.log" | head -n 3 | sed 's/^/  guest    /'
		say "PASS: the CO-RE break made mcpwire fail to load on $pkg ($kver), as it must (${elapsed}s)"
		exit 0
	fi
	show_logs
	fail "the CO-RE break build was expected to fail to load on $pkg ($kver); test exit status $rc"
fi
if [ "$rc" != 0 ]; then
	show_logs
	grep -a -A6 '^not ok' "$OUT/tap.log" >&2
	fail "$VM_TEST exited with $rc in the guest ($(grep -a -c '^not ok' "$OUT/tap.log") not ok; $OUT/tap.log)"
fi
say "PASS on $pkg ($kver): $(grep -a -E '^[0-9]+ passed, [0-9]+ failed' "$OUT/tap.log" | tr '\n' ' ')in ${elapsed}s (boot to power-off)"
