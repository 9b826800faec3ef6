#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# build-steps.sh — the steps of deploy/docker/Dockerfile, in one place, so
# that what the image runs is what CI runs (selftests/deploy/build-steps.sh
# runs the same steps in a temporary directory on the host; no Docker engine
# needed).
#
#   build-steps.sh build-deps            install what the build stage needs
#                                        (the Makefile's own `make deps`)
#   build-steps.sh build SRC DESTDIR     build SRC (a copy of the repository)
#                                        out of tree, install the daemon as
#                                        DESTDIR/usr/local/bin/mcpwire
#   build-steps.sh runtime-deps          install the runtime libraries only
#   build-steps.sh runtime-packages      print them, one per line
#
# Every step is non-interactive and fails on the first error.

set -euo pipefail

# The shared libraries build/mcpwire links (readelf -d NEEDED), by package;
# libc6 is in every Debian image. Checked against the built binary by
# selftests/deploy/build-steps.sh.
RUNTIME_PACKAGES="libbpf1 libelf1 zlib1g libmicrohttpd12 libjansson4 libpcap0.8 libcurl4"

apt_install() {
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
	rm -rf /var/lib/apt/lists/*
}

case "${1:-}" in
build-deps)
	# make is the only thing `make deps` cannot install for itself;
	# ca-certificates is not needed: nothing is fetched but Debian packages.
	command -v make >/dev/null || apt_install make
	make -C "${2:-.}" --no-print-directory deps
	;;
build)
	src=${2:?build SRC DESTDIR}
	dest=${3:?build SRC DESTDIR}
	# The image has no .git: the version is the Makefile's base version
	# unless the builder passes one (docker build --build-arg VERSION=...).
	make -C "$src" --no-print-directory -j"$(nproc)" OUTPUT="$dest/.build" \
		${VERSION:+VERSION="$VERSION"} all
	install -D -m 0755 "$dest/.build/mcpwire" "$dest/usr/local/bin/mcpwire"
	rm -rf "$dest/.build"
	"$dest/usr/local/bin/mcpwire" --version
	;;
runtime-deps)
	# shellcheck disable=SC2086 # a list on purpose
	apt_install $RUNTIME_PACKAGES
	;;
runtime-packages)
	printf '%s\n' $RUNTIME_PACKAGES
	;;
*)
	echo "usage: $0 build-deps [SRC] | build SRC DESTDIR | runtime-deps | runtime-packages" >&2
	exit 2
	;;
esac
