#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# healthcheck.sh [PORT] — exit 0 when mcpwire on 127.0.0.1:PORT (default
# 9473) answers /healthz with 200, i.e. its BPF programs are attached.
# Bash's /dev/tcp only: the runtime image has no curl or wget. Used by the
# Dockerfile's HEALTHCHECK and deploy/compose/compose.yml.
port=${1:-9473}
exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
printf 'GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
IFS= read -r -t 3 status <&3 || exit 1
case $status in
"HTTP/1."[01]" 200"*) exit 0 ;;
*) echo "mcpwire /healthz: ${status%$'\r'}" >&2; exit 1 ;;
esac
