#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
#
# nfq-drop.py — a loss injector for netobs.sh: every packet an iptables
# NFQUEUE rule queues is accepted after --delay-ms (0 for none), except with
# --drop-every N every Nth IPv4 TCP segment that carries payload, which is
# dropped (a loss the sender must repair); "dropped K" is printed at exit.
# (nfq-delay.c is the project's plain delay line; this one reads the packets'
# headers.) Speaks nfnetlink_queue (include/uapi/linux/netfilter/
# nfnetlink_queue.h) on a raw netlink socket, standard library only. Run it
# in the namespace whose rule queues packets:
#
#   ip netns exec NS iptables -A INPUT -p tcp --sport 3001 -j NFQUEUE \
#       --queue-num 8 --queue-bypass
#   ip netns exec NS nfq-drop.py --queue 8 --delay-ms 0 --drop-every 7
#
# Prints "ready" once bound. Exits after --max-seconds, on SIGTERM, or when
# the socket fails; --queue-bypass lets packets through when it is gone.
import argparse
import collections
import select
import signal
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT, NFQNL_MSG_CONFIG = 0, 1, 2
NFQA_CFG_CMD, NFQA_CFG_PARAMS = 1, 2
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_META = 1
NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NFQA_PAYLOAD = 10
NF_DROP, NF_ACCEPT = 0, 1
NFQNL_COPY_PACKET = 2
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2


def attr(t, payload):
    n = 4 + len(payload)
    return struct.pack('=HH', n, t) + payload + b'\0' * ((4 - n % 4) % 4)


def msg(mtype, queue, attrs, seq, flags=NLM_F_REQUEST):
    body = struct.pack('=BBH', socket.AF_UNSPEC, 0, socket.htons(queue)) + b''.join(attrs)
    return struct.pack('=IHHII', 16 + len(body), (NFNL_SUBSYS_QUEUE << 8) | mtype, flags, seq, 0) + body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--queue', type=int, required=True)
    ap.add_argument('--delay-ms', type=float, required=True)
    ap.add_argument('--max-seconds', type=float, default=120)
    ap.add_argument('--drop-every', type=int, default=0)
    a = ap.parse_args()
    if not (0 <= a.delay_ms <= 5000 and 0 < a.max_seconds <= 3600):
        sys.exit('nfq-drop.py: --delay-ms 0..5000, --max-seconds 1..3600')
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((0, 0))
    seq = 1
    for m in (msg(NFQNL_MSG_CONFIG, a.queue, [attr(NFQA_CFG_CMD, struct.pack('=BxH', NFQNL_CFG_CMD_BIND, 0))], seq, NLM_F_REQUEST | NLM_F_ACK),
              msg(NFQNL_MSG_CONFIG, a.queue, [attr(NFQA_CFG_PARAMS, struct.pack('>IB', 128, NFQNL_COPY_PACKET))], seq + 1, NLM_F_REQUEST | NLM_F_ACK)):
        s.send(m)
        r = s.recv(65536)
        ln, t = struct.unpack_from('=IH', r)
        if t == NLMSG_ERROR and struct.unpack_from('=i', r, 16)[0] != 0:
            sys.exit('nfq-drop.py: nfnetlink_queue config refused: errno %d' % -struct.unpack_from('=i', r, 16)[0])
        seq += 1
    print('ready', flush=True)
    held = collections.deque()  # (release time, packet id)
    end = time.monotonic() + a.max_seconds
    delay = a.delay_ms / 1000
    data_segs = dropped = 0
    while not stop and time.monotonic() < end:
        now = time.monotonic()
        while held and held[0][0] <= now:
            _, pid = held.popleft()
            s.send(msg(NFQNL_MSG_VERDICT, a.queue, [attr(NFQA_VERDICT_HDR, struct.pack('>II', NF_ACCEPT, pid))], 0))
        timeout = max(0.0, held[0][0] - now) if held else 0.2
        try:
            r, _, _ = select.select([s], [], [], timeout)
        except InterruptedError:
            continue
        if not r:
            continue
        buf = s.recv(1 << 20)
        off = 0
        while off + 16 <= len(buf):
            ln, t = struct.unpack_from('=IH', buf, off)
            if ln < 16:
                break
            if t == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                p = off + 20  # nlmsghdr + nfgenmsg
                pid = pkt = None
                while p + 4 <= off + ln:
                    alen, atype = struct.unpack_from('=HH', buf, p)
                    if alen < 4:
                        break
                    if (atype & 0x7fff) == NFQA_PACKET_HDR:
                        pid = struct.unpack_from('>I', buf, p + 4)[0]
                    elif (atype & 0x7fff) == NFQA_PAYLOAD:
                        pkt = buf[p + 4:p + alen]
                    p += (alen + 3) & ~3
                if pid is not None and a.drop_every and tcp_payload(pkt) > 0:
                    data_segs += 1
                    if data_segs % a.drop_every == 0:
                        dropped += 1
                        s.send(msg(NFQNL_MSG_VERDICT, a.queue, [attr(NFQA_VERDICT_HDR, struct.pack('>II', NF_DROP, pid))], 0))
                        pid = None
                if pid is not None:
                    held.append((time.monotonic() + delay, pid))
            off += (ln + 3) & ~3
    # what is still held goes out now rather than waiting for the bypass
    for _, pid in held:
        s.send(msg(NFQNL_MSG_VERDICT, a.queue, [attr(NFQA_VERDICT_HDR, struct.pack('>II', NF_ACCEPT, pid))], 0))
    if a.drop_every:
        print('dropped %d' % dropped, flush=True)


def tcp_payload(pkt):
    """TCP payload bytes of an IPv4 packet (RFC 791, RFC 9293 headers), -1 if not one."""
    if not pkt or len(pkt) < 20 or pkt[0] >> 4 != 4 or pkt[9] != 6:
        return -1
    ihl = (pkt[0] & 15) * 4
    if len(pkt) < ihl + 13:
        return -1
    return struct.unpack_from('>H', pkt, 2)[0] - ihl - (pkt[ihl + 12] >> 4) * 4


if __name__ == '__main__':
    main()
