#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run.sh — make deploy-check: every offline check of dashboards/ and deploy/.
#   rules      promtool check rules + promtool test rules (alerts.test.yml)
#   scrape     promtool check config on the scrape snippets
#   dashboards dashboards_check.py (structure, datasource variable, PromQL)
#   manifests  manifests.mjs (Kubernetes schemas, strict fields, contract)
#   compose    docker-compose config (the Compose file schema) on compose.yml
#   systemd    systemd-analyze verify deploy/systemd/mcpwire.service
#   docker     build-steps.sh (the Dockerfile's steps, run here)
#   caps       caps.sh (as root with build/mcpwire: the privileges the
#              DaemonSet and unit grant are enough, fewer are not)
# Installs what it needs from Debian and npm when missing. Prints TAP and
# "N passed, N failed"; exits non-zero on any failure.

set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT" || exit 1

N=0 PASS=0 FAIL=0
ok() { N=$((N + 1)) PASS=$((PASS + 1)); echo "ok $N - $*"; }
notok() { local n=$1 l; shift; N=$((N + 1)) FAIL=$((FAIL + 1)); echo "not ok $N - $n"; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#   /'; done; }
skip() { N=$((N + 1)); echo "ok $N - $* # SKIP"; }
# feed PREFIX CMD...: runs a TAP-printing helper, renumbers its lines
feed() {
	local p=$1 line rc before=$FAIL
	shift
	"$@" >"$TMP/feed.out" 2>&1
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok "[0-9]*" - "*"# SKIP"*) skip "$p${line#ok * - }" ;;
		"ok "[0-9]*" - "*) ok "$p${line#ok * - }" ;;
		"not ok "[0-9]*" - "*) notok "$p${line#not ok * - }" ;;
		"ok - "*) ok "$p${line#ok - }" ;;
		"not ok - "*) notok "$p${line#not ok - }" ;;
		1..*|*" passed, "*" failed"*) ;;
		*) echo "$line" ;;
		esac
	done <"$TMP/feed.out"
	[ "$rc" = 0 ] || [ "$FAIL" != "$before" ] || notok "${p}ran" "exit status $rc" "$(tail -n 10 "$TMP/feed.out")"
}

TMP=$(mktemp -d /tmp/mcpwire-deploy-check.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# --------------------------------------------------------------- deps
need=""
command -v promtool >/dev/null || need="$need prometheus"
command -v systemd-analyze >/dev/null || need="$need systemd"
/usr/bin/python3 -c 'import kubernetes' 2>/dev/null || need="$need python3-kubernetes"
command -v docker-compose >/dev/null || need="$need docker-compose"
command -v node >/dev/null && command -v npm >/dev/null || need="$need nodejs npm"
if [ -n "$need" ]; then
	if [ "$(id -u)" = 0 ]; then
		echo "# installing:$need"
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
	else
		echo "Bail out! missing Debian packages:$need (run as root, or apt-get install them)"
		echo "0 passed, 1 failed"
		exit 1
	fi
fi
if [ ! -d "$HERE/node_modules/kubernetes-models" ]; then
	(cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) >"$TMP/npm.log" 2>&1 ||
		{ echo "Bail out! npm ci in selftests/deploy failed"; tail -n 20 "$TMP/npm.log"; echo "0 passed, 1 failed"; exit 1; }
fi

# -------------------------------------------------------------- rules
if out=$(promtool check rules deploy/prometheus/mcpwire-alerts.yml 2>&1); then
	ok "promtool check rules deploy/prometheus/mcpwire-alerts.yml: $(echo "$out" | grep -o '[0-9]* rules found')"
else
	notok "promtool check rules deploy/prometheus/mcpwire-alerts.yml" "$out"
fi
if out=$(cd selftests/deploy && promtool test rules alerts.test.yml 2>&1); then
	ok "promtool test rules selftests/deploy/alerts.test.yml: every alert fires where it should and not on its near misses"
else
	notok "promtool test rules selftests/deploy/alerts.test.yml" "$out"
fi

# ------------------------------------------------------------- scrape
mkdir -p "$TMP/prom"
cp deploy/prometheus/mcpwire-alerts.yml "$TMP/prom/"
cp deploy/prometheus/scrape-static.yml "$TMP/prom/"
if out=$(promtool check config "$TMP/prom/scrape-static.yml" 2>&1); then
	ok "promtool check config deploy/prometheus/scrape-static.yml (with its rule file)"
else
	notok "promtool check config deploy/prometheus/scrape-static.yml" "$out"
fi
# Debian's Prometheus is built without Kubernetes service discovery: check
# everything else of the job (relabelling, intervals) with the SD block
# replaced by a static target; the SD block is checked by manifests.mjs.
awk '/^    kubernetes_sd_configs:/ { print "    static_configs: [{targets: [\"sd-replaced-for-check:9473\"]}]"; skip = 1; next }
	skip && /^    [a-z]/ { skip = 0 } !skip' deploy/prometheus/scrape-kubernetes.yml >"$TMP/prom/scrape-kubernetes.yml"
if ! grep -q kubernetes_sd_configs "$TMP/prom/scrape-kubernetes.yml" && out=$(promtool check config "$TMP/prom/scrape-kubernetes.yml" 2>&1); then
	ok "promtool check config deploy/prometheus/scrape-kubernetes.yml (relabelling; kubernetes_sd_configs replaced: Debian's promtool has no Kubernetes SD)"
else
	notok "promtool check config deploy/prometheus/scrape-kubernetes.yml" "$out"
fi

# --------------------------------------------------------- dashboards
feed "dashboards: " python3 selftests/deploy/dashboards_check.py

# ---------------------------------------------------------- manifests
feed "kubernetes: " node selftests/deploy/manifests.mjs

# ------------------------------------------------------------ compose
# docker-compose 1.29 (Debian 12) validates against the Compose schema
# without an engine; it predates the top-level `name:`, dropped for the check.
mkdir -p "$TMP/compose/deploy/compose" && cp -r deploy/prometheus deploy/docker "$TMP/compose/deploy/"
grep -v '^name:' deploy/compose/compose.yml >"$TMP/compose/deploy/compose/compose.yml"
if out=$(docker-compose -f "$TMP/compose/deploy/compose/compose.yml" --profile prometheus config -q 2>&1); then
	ok "docker-compose config: deploy/compose/compose.yml valid against the Compose schema"
else
	notok "docker-compose config: deploy/compose/compose.yml" "$out"
fi
sed 's/^    privileged: true/    privilegd: true/' "$TMP/compose/deploy/compose/compose.yml" >"$TMP/compose/deploy/compose/bad.yml"
if ! docker-compose -f "$TMP/compose/deploy/compose/bad.yml" config -q >/dev/null 2>&1; then
	ok "docker-compose config rejects a misspelt key (privilegd), so the check above means something"
else
	notok "docker-compose config rejects a misspelt key"
fi
e=""
for k in 'pid: host' 'network_mode: host' 'privileged: true' '/sys/kernel/btf:/sys/kernel/btf:ro' \
	'/sys/kernel/tracing:/sys/kernel/tracing' '/sys/fs/bpf:/sys/fs/bpf' '/var/run/docker.sock:/var/run/docker.sock:ro' \
	'external: true' 'host.docker.internal:host-gateway'; do
	grep -qF -- "$k" deploy/compose/compose.yml || e="$e; $k"
done
if [ -z "$e" ]; then ok "compose.yml: host PID and network, privileged, BTF/tracefs/bpffs/docker.sock mounts, external network, Prometheus via host-gateway"; else notok "compose.yml has the host container's settings" "missing:${e#;}"; fi

# ------------------------------------------------------------ systemd
# verify checks that ExecStart exists and that man:mcpwire(8) resolves: point
# them at the built binary (or /bin/true) and at docs/mcpwire.8.
mkdir -p "$TMP/sd/man/man8"
ln -s "$ROOT/docs/mcpwire.8" "$TMP/sd/man/man8/mcpwire.8"
bin=$ROOT/build/mcpwire
[ -x "$bin" ] || bin=/bin/true
sed "s#^ExecStart=/usr/local/bin/mcpwire#ExecStart=$bin#" deploy/systemd/mcpwire.service >"$TMP/sd/mcpwire.service"
# systemd-analyze exits 0 on unknown keys and bad values; any output fails
out=$(MANPATH=$TMP/sd/man systemd-analyze verify "$TMP/sd/mcpwire.service" 2>&1)
if [ $? = 0 ] && [ -z "$out" ]; then
	ok "systemd-analyze verify deploy/systemd/mcpwire.service: no warning"
else
	notok "systemd-analyze verify deploy/systemd/mcpwire.service" "$out"
fi
sed 's/^ProtectSystem=strict/ProtectSytem=strict/' "$TMP/sd/mcpwire.service" >"$TMP/sd/bad.service"
if [ -n "$(MANPATH=$TMP/sd/man systemd-analyze verify "$TMP/sd/bad.service" 2>&1)" ]; then
	ok "systemd-analyze verify flags a misspelt directive (ProtectSytem), so the check above means something"
else
	notok "systemd-analyze verify flags a misspelt directive"
fi
e=""
for k in 'CapabilityBoundingSet=CAP_BPF CAP_PERFMON' 'AmbientCapabilities=CAP_BPF CAP_PERFMON' 'NoNewPrivileges=yes' \
	'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' 'ProtectKernelTunables=yes'; do
	grep -qx -- "$k" deploy/systemd/mcpwire.service || e="$e; $k"
done
if [ -z "$e" ]; then ok "mcpwire.service: CAP_BPF+CAP_PERFMON only (the set caps.sh proves), NoNewPrivileges, ProtectSystem=strict, ProtectHome, PrivateTmp"; else notok "mcpwire.service hardening" "missing:${e#;}"; fi

# ------------------------------------------------------------- docker
feed "docker: " selftests/deploy/build-steps.sh

# --------------------------------------------------------------- caps
if [ "$(id -u)" = 0 ] && [ -x build/mcpwire ]; then
	feed "capabilities: " timeout 300 selftests/deploy/caps.sh
else
	skip "capabilities: caps.sh needs root and build/mcpwire"
fi

echo "1..$N"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
