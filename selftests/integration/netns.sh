# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash disable=SC2034
#
# netns.sh — build a container network the way Docker builds a user-defined
# bridge network, with iproute2 alone. Sourced by run.sh and demo.sh.
#
#   host                         netns mcpw-<run>-server      netns mcpw-<run>-client
#   br-<12 hex>  172.X.0.1/16    eth0 172.X.0.2/16            eth0 172.X.0.3/16
#     ├── veth<7 hex> ◄────────► (peer renamed eth0)          default via 172.X.0.1
#     └── veth<7 hex> ◄─────────────────────────────────────► (peer renamed eth0)
#
# Like Docker: the bridge is named br- plus the first 12 hex digits of a random
# network id, the host end of each veth pair is veth plus 7 hex digits, the
# container end is renamed eth0 inside the namespace and gets the next address
# of the subnet and a default route via the gateway, and lo is up. Unlike
# Docker, nothing touches the host firewall, sysctls or NAT: traffic between
# containers on one bridge needs none of them, and test traffic never leaves it.
#
# API (all names are prefixed netns_ / mcpw_):
#   mcpw_trap_install            run the at-exit stack on EXIT, INT and TERM
#   mcpw_on_exit CMD...          push a cleanup command (run last-in first-out)
#   netns_up                     create the bridge on a free /16; sets NETNS_BRIDGE,
#                                NETNS_SUBNET (e.g. 172.29.0.0/16), NETNS_GATEWAY
#   netns_add NAME               create container NAME; sets NETNS_IP[NAME],
#                                NETNS_NS[NAME] (namespace), NETNS_VETH[NAME]
#   NETNS_IPV6=1 (set before netns_up): dual stack, like a Docker network with
#                                --ipv6. The bridge also gets a random ULA /64
#                                (fdXX:XXXX:XXXX::/64, RFC 4193) and ::1 of it;
#                                each container gets the next address and a
#                                default IPv6 route via ::1. Sets NETNS_SUBNET6,
#                                NETNS_GATEWAY6 and NETNS_IP6[NAME]. Addresses
#                                are added nodad: nothing else is on the bridge
#                                to conflict with, and DAD would leave them
#                                tentative (unusable) for about a second.
#   netns_exec NAME CMD...       run CMD inside container NAME
#   netns_down                   remove exactly what netns_up/netns_add created
#                                (idempotent; netns_up registers it with mcpw_on_exit)
#   netns_list_ours              print what is currently left of this run's objects

# ---------------------------------------------------------------- at-exit stack

MCPW_EXIT_STACK=()
MCPW_EXITING=0

mcpw_on_exit() {
	MCPW_EXIT_STACK+=("$*")
}

_mcpw_run_exit_stack() {
	local i
	for ((i = ${#MCPW_EXIT_STACK[@]} - 1; i >= 0; i--)); do
		eval "${MCPW_EXIT_STACK[i]}" || true
	done
	MCPW_EXIT_STACK=()
}

_mcpw_exit_trap() {
	local rc=$?
	[ "$MCPW_EXITING" = 1 ] && return
	MCPW_EXITING=1
	set +e
	_mcpw_run_exit_stack
	exit "$rc"
}

_mcpw_signal_trap() {
	local sig=$1 rc=$2
	[ "$MCPW_EXITING" = 1 ] && exit "$rc"
	MCPW_EXITING=1
	set +e
	printf '\n%s: caught SIG%s, cleaning up\n' "${0##*/}" "$sig" >&2
	_mcpw_run_exit_stack
	trap - EXIT
	exit "$rc"
}

mcpw_trap_install() {
	trap _mcpw_exit_trap EXIT
	trap '_mcpw_signal_trap INT 130' INT
	trap '_mcpw_signal_trap TERM 143' TERM
}

# --------------------------------------------------------------------- network

NETNS_RUN_ID=""
NETNS_BRIDGE=""
NETNS_SUBNET=""
NETNS_GATEWAY=""
NETNS_PREFIX=""
NETNS_NEXT_HOST=2
NETNS_CREATED_NS=()
NETNS_CREATED_LINKS=()
NETNS_IPV6=${NETNS_IPV6:-0}
NETNS_PREFIX6=""
NETNS_SUBNET6=""
NETNS_GATEWAY6=""
declare -gA NETNS_IP=() NETNS_NS=() NETNS_VETH=() NETNS_IP6=()

_netns_hex() { # N: N random lower-case hex digits
	od -An -N32 -tx1 /dev/urandom | tr -d ' \n' | cut -c1-"$1"
}

_netns_ip2int() { # dotted quad (missing octets are 0) -> integer
	local IFS=. o=(0 0 0 0) i=0 x
	for x in $1; do o[i]=$x; i=$((i + 1)); done
	echo $(((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]))
}

# True if A.B.0.0/16 (argument "A.B") overlaps no address and no route on the
# host, other than the default route.
_netns_prefix_free() {
	local net m len mask dst
	net=$(_netns_ip2int "$1.0.0")
	while read -r dst; do
		[ "$dst" = default ] && continue
		len=${dst#*/}
		[ "$len" = "$dst" ] && len=32
		m=$((len < 16 ? len : 16))
		mask=$(((0xffffffff << (32 - m)) & 0xffffffff))
		[ "$m" = 0 ] && mask=0
		if [ $(($(_netns_ip2int "${dst%/*}") & mask)) = $((net & mask)) ]; then return 1; fi
	done < <({ ip -4 route show table all type unicast; ip -4 route show table all type local; } 2>/dev/null |
		awk '{print ($1 == "local" || $1 == "unicast") ? $2 : $1}';
		ip -4 -o addr show | awk '{print $4}')
	return 0
}

# A random ULA /64 prefix ("fdXX:XXXX:XXXX::", RFC 4193: fd plus a 40-bit
# random global id, subnet 0) that no address or route on the host is in.
_netns_prefix6() {
	local h p i
	for i in 1 2 3 4 5; do
		h=$(_netns_hex 10)
		p="fd${h:0:2}:${h:2:4}:${h:6:4}:"
		if ! { ip -6 route show table all; ip -6 -o addr show; } 2>/dev/null | grep -qi -- "$p"; then
			echo "$p:"
			return 0
		fi
	done
	return 1
}

netns_up() {
	local want=${NETNS_SUBNET_PREFIX:-} cands p
	if [ -n "$NETNS_BRIDGE" ]; then echo "netns_up: already up ($NETNS_BRIDGE)" >&2; return 1; fi
	if [ -n "$want" ]; then
		cands=$want
	else
		# Docker takes 172.17-31 first; take the top of that range, then
		# 10.2xx, to keep out of a real Docker's way on developer machines.
		cands="172.29 172.30 172.31 172.28 10.213 10.214 10.215"
	fi
	for p in $cands; do
		if _netns_prefix_free "$p"; then NETNS_PREFIX=$p; break; fi
	done
	if [ -z "$NETNS_PREFIX" ]; then
		echo "netns_up: no free /16 among: $cands (set NETNS_SUBNET_PREFIX=A.B)" >&2
		return 1
	fi
	NETNS_RUN_ID=$(_netns_hex 64)
	NETNS_BRIDGE="br-${NETNS_RUN_ID:0:12}"
	NETNS_SUBNET="$NETNS_PREFIX.0.0/16"
	NETNS_GATEWAY="$NETNS_PREFIX.0.1"
	mcpw_on_exit netns_down

	ip link add name "$NETNS_BRIDGE" type bridge || return 1
	NETNS_CREATED_LINKS+=("$NETNS_BRIDGE")
	ip addr add "$NETNS_GATEWAY/16" brd + dev "$NETNS_BRIDGE" || return 1
	if [ "$NETNS_IPV6" = 1 ]; then
		NETNS_PREFIX6=$(_netns_prefix6) || { echo "netns_up: no free ULA /64" >&2; return 1; }
		NETNS_SUBNET6="$NETNS_PREFIX6/64"
		NETNS_GATEWAY6="${NETNS_PREFIX6}1"
		ip -6 addr add "$NETNS_GATEWAY6/64" dev "$NETNS_BRIDGE" nodad || return 1
	fi
	ip link set "$NETNS_BRIDGE" up || return 1
}

netns_add() {
	local name=$1 ns veth peer ip
	if [ -z "$NETNS_BRIDGE" ]; then echo "netns_add: netns_up first" >&2; return 1; fi
	if [ -n "${NETNS_NS[$name]:-}" ]; then echo "netns_add: $name exists" >&2; return 1; fi
	if [ "$NETNS_NEXT_HOST" -gt 250 ]; then echo "netns_add: too many containers" >&2; return 1; fi
	ns="mcpw-${NETNS_RUN_ID:0:8}-$name"
	veth="veth$(_netns_hex 7)"
	peer="vp$(_netns_hex 10)" # temporary name of the container end
	ip="$NETNS_PREFIX.0.$NETNS_NEXT_HOST"
	NETNS_NEXT_HOST=$((NETNS_NEXT_HOST + 1))

	ip netns add "$ns" || return 1
	NETNS_CREATED_NS+=("$ns")
	NETNS_NS[$name]=$ns
	ip link add name "$veth" type veth peer name "$peer" || return 1
	NETNS_CREATED_LINKS+=("$veth")
	NETNS_VETH[$name]=$veth
	ip link set "$veth" master "$NETNS_BRIDGE" || return 1
	ip link set "$veth" up || return 1
	ip link set "$peer" netns "$ns" || return 1
	ip -n "$ns" link set "$peer" name eth0 || return 1
	ip -n "$ns" addr add "$ip/16" brd + dev eth0 || return 1
	ip -n "$ns" link set eth0 up || return 1
	ip -n "$ns" link set lo up || return 1
	ip -n "$ns" route add default via "$NETNS_GATEWAY" dev eth0 || return 1
	NETNS_IP[$name]=$ip
	if [ "$NETNS_IPV6" = 1 ]; then
		# the same host number as the IPv4 address, in hex as IPv6 writes it
		ip="$NETNS_PREFIX6$(printf '%x' "${ip##*.}")"
		ip -n "$ns" -6 addr add "$ip/64" dev eth0 nodad || return 1
		ip -n "$ns" -6 route add default via "$NETNS_GATEWAY6" dev eth0 || return 1
		NETNS_IP6[$name]=$ip
	fi
}

netns_exec() {
	local name=$1
	shift
	ip netns exec "${NETNS_NS[$name]}" "$@"
}

# Kills what still runs in one of our namespaces (processes the test started
# there), then removes links, namespaces and the bridge, each only if this run
# created it. Safe to call twice.
netns_down() {
	local ns pid l i
	for ns in "${NETNS_CREATED_NS[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null; done
	done
	for ns in "${NETNS_CREATED_NS[@]}"; do
		for i in 1 2 3 4 5 6 7 8 9 10; do
			[ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
			sleep 0.2
		done
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
	done
	# veths first (deleting one end deletes both), then the bridge
	for ((i = ${#NETNS_CREATED_LINKS[@]} - 1; i >= 0; i--)); do
		l=${NETNS_CREATED_LINKS[i]}
		ip link show dev "$l" >/dev/null 2>&1 && ip link del dev "$l" 2>/dev/null
	done
	for ns in "${NETNS_CREATED_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	NETNS_CREATED_LINKS=()
	NETNS_CREATED_NS=()
	NETNS_BRIDGE=""
	return 0
}

netns_list_ours() {
	local ns l
	for ns in "${NETNS_CREATED_NS[@]}"; do ip netns list | awk '{print $1}' | grep -qx "$ns" && echo "netns $ns"; done
	for l in "${NETNS_CREATED_LINKS[@]}"; do ip link show dev "$l" >/dev/null 2>&1 && echo "link $l"; done
	return 0
}
