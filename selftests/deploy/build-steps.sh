#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2116,SC2086 # $(echo $list) joins lines into one on purpose
#
# build-steps.sh — runs the steps of deploy/docker/Dockerfile on this host,
# without a Docker engine, through the same deploy/docker/build-steps.sh the
# Dockerfile runs (make deploy-check):
#   1. the build context: the files Docker would send (git's files minus
#      Dockerfile.dockerignore), copied to a temporary directory;
#   2. every file the Dockerfile COPYs exists in that context;
#   3. `build-steps.sh build-deps` and `build-steps.sh build CTX /out` there,
#      as the build stage runs them; the binary runs (--version);
#   4. the runtime stage's packages (build-steps.sh runtime-packages) cover
#      the packages of the libraries the binary links (libc6 is in every
#      Debian image), and each is linked or a dependency of one that is;
#   5. the Dockerfile runs those steps, on Debian 12 in both stages, and
#      copies the binary from where step 3 put it.
# What this cannot show: that the image builds (no engine here) — the
# remaining difference is the base image's package state.
# Prints TAP and "N passed, N failed".

set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DF=$ROOT/deploy/docker/Dockerfile
STEPS=$ROOT/deploy/docker/build-steps.sh

N=0 PASS=0 FAIL=0
ok() { N=$((N + 1)) PASS=$((PASS + 1)); echo "ok $N - $*"; }
notok() { local n=$1 l; shift; N=$((N + 1)) FAIL=$((FAIL + 1)); echo "not ok $N - $n"; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#   /'; done; }
finish() { echo "1..$N"; echo "$PASS passed, $FAIL failed"; [ "$FAIL" = 0 ]; exit $?; }

TMP=$(mktemp -d /tmp/mcpwire-build-steps.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
CTX=$TMP/context
OUT=$TMP/out
mkdir -p "$CTX" "$OUT"

# 1. context
ignore=$(grep -v '^#' "$ROOT/deploy/docker/Dockerfile.dockerignore" | sed -e 's#^\*\*/##' -e 's#/$##' | grep -v '^$' | paste -sd'|')
(cd "$ROOT" && git ls-files -co --exclude-standard) | awk -F/ -v re="^($ignore)$" '{
	for (i = 1; i <= NF; i++) if ($i ~ re) next; print }' >"$TMP/files"
(cd "$ROOT" && while IFS= read -r f; do [ -e "$f" ] && cp --parents -p "$f" "$CTX/"; done <"$TMP/files")
if [ -f "$CTX/Makefile" ] && [ ! -e "$CTX/selftests" ] && [ ! -e "$CTX/build" ]; then
	ok "build context: $(wc -l <"$TMP/files") files (git's, minus Dockerfile.dockerignore: no build/, selftests/, node_modules)"
else
	notok "build context as Docker would send it" "$(ls "$CTX")"
fi

# 2. COPY sources
missing=""
while read -r src; do
	[ -e "$CTX/$src" ] || missing="$missing $src"
done < <(awk '$1 == "COPY" && $2 !~ /^--from/ { for (i = 2; i < NF; i++) print $i }' "$DF")
if [ -z "$missing" ]; then ok "every COPY source of the Dockerfile is in the context"; else notok "COPY sources in the context" "missing:$missing"; fi

# 3. the build stage's commands
if (cd "$CTX" && "$STEPS" build-deps "$CTX") >"$TMP/deps.log" 2>&1; then
	ok "build-steps.sh build-deps (make deps: the Makefile's BUILD_DEPS installed)"
else
	notok "build-steps.sh build-deps" "$(tail -n 20 "$TMP/deps.log")"
fi
if (cd "$CTX" && "$STEPS" build "$CTX" "$OUT") >"$TMP/build.log" 2>&1 && [ -x "$OUT/usr/local/bin/mcpwire" ]; then
	ok "build-steps.sh build CONTEXT /out: $(tail -n 1 "$TMP/build.log")"
else
	notok "build-steps.sh build CONTEXT /out" "$(tail -n 30 "$TMP/build.log")"
	finish
fi
if "$OUT/usr/local/bin/mcpwire" --help 2>&1 | grep -q -- --listen; then
	ok "the built binary runs (--help)"
else
	notok "the built binary runs (--help)"
fi

# 4. runtime packages == packages of the NEEDED libraries
needed=$(readelf -d "$OUT/usr/local/bin/mcpwire" | awk '/NEEDED/ { gsub(/[\[\]]/, "", $5); print $5 }')
pkgs=""
for lib in $needed; do
	path=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64|AArch64|=>/ { print $NF; exit }')
	real=$(readlink -f "$path")
	pkg=$(dpkg -S "$real" 2>/dev/null || dpkg -S "${real#/usr}" 2>/dev/null || dpkg -S "/usr$real" 2>/dev/null)
	pkgs="$pkgs ${pkg%%:*}"
done
have=$(echo "$pkgs" | tr ' ' '\n' | grep -v '^$' | grep -vx libc6 | sort -u)
want=$("$STEPS" runtime-packages | sort -u)
# Linked with --as-needed: a library libbpf brings (libelf) is not NEEDED by
# the binary itself, but may be listed when a linked package depends on it.
e=""
for p in $have; do echo "$want" | grep -qx "$p" || e="$e; $p (linked) is not installed by runtime-deps"; done
for p in $want; do
	echo "$have" | grep -qx "$p" && continue
	# shellcheck disable=SC2086
	apt-cache depends $have 2>/dev/null | grep -q "Depends: $p\$" ||
		e="$e; $p is installed by runtime-deps but neither linked nor a dependency of a linked package"
done
if [ -z "$e" ]; then
	ok "runtime packages $(echo $want): each linked by the binary or a dependency of one ($(echo $needed))"
else
	notok "runtime packages = what the binary links" "${e#; }" "NEEDED: $(echo $needed)"
fi

# 5. the Dockerfile runs these steps
e=""
[ "$(grep -c '^FROM debian:12' "$DF")" = 2 ] || e="$e; both stages FROM debian:12*"
grep -q '^FROM .* AS build$' "$DF" || e="$e; a stage named build"
grep -q '^RUN deploy/docker/build-steps.sh build-deps$' "$DF" || e="$e; RUN build-steps.sh build-deps"
grep -q 'build-steps.sh build /src /out$' "$DF" || e="$e; RUN build-steps.sh build /src /out"
grep -q '^RUN /usr/local/lib/mcpwire/build-steps.sh runtime-deps$' "$DF" || e="$e; RUN build-steps.sh runtime-deps"
grep -q '^COPY --from=build /out/usr/local/bin/mcpwire /usr/local/bin/mcpwire$' "$DF" || e="$e; COPY --from=build /out/usr/local/bin/mcpwire"
grep -q '^ENTRYPOINT \["/usr/local/bin/mcpwire"\]$' "$DF" || e="$e; ENTRYPOINT mcpwire"
grep -A1 '^HEALTHCHECK' "$DF" | grep -q 'healthcheck.sh' || e="$e; HEALTHCHECK healthcheck.sh"
if [ -z "$e" ]; then ok "Dockerfile: Debian 12 stages run build-steps.sh build-deps, build, runtime-deps; copies /out/usr/local/bin/mcpwire; HEALTHCHECK"; else notok "Dockerfile runs the steps tested here" "expected:${e#;}"; fi

finish
