// SPDX-License-Identifier: GPL-2.0-only
/*
 * nfq-delay — a fixed network delay (and optional loss) for netdelay.sh and
 * netobs.sh on kernels without sch_netem: every packet the netfilter queue
 * QUEUE hands over (iptables -j NFQUEUE, in the namespace this runs in) is
 * accepted DELAY_MS after it arrived, in arrival order. With DROP_EVERY N,
 * every Nth IPv4 TCP segment carrying payload is dropped instead: a loss the
 * sender must repair with a retransmission. Built on libnetfilter_queue (Debian's
 * libnetfilter-queue-dev), which speaks the nfnetlink_queue protocol
 * (linux/netfilter/nfnetlink_queue.h) for us.
 *
 *   nfq-delay QUEUE DELAY_MS [READY_FILE [DROP_EVERY]]
 *
 * Creates READY_FILE once bound. Runs until SIGTERM/SIGINT; packets still held
 * then are accepted at once. Bounded: at most MAX_HELD packets wait; beyond,
 * a packet is accepted without delay and counted. At exit it prints its
 * counts, and "dropped N" on a line of its own.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#define MAX_HELD 65536

static volatile sig_atomic_t stop;

struct held {
	uint32_t id; /* host byte order, as nfq_set_verdict() takes it */
	uint64_t due_ns;
};
static struct held ring[MAX_HELD];
static uint32_t head, count;
static unsigned long passed_early, delayed, verdict_errors, dropped, data_segments;
static uint64_t delay_ns;
static unsigned long drop_every;

/* An IPv4 TCP segment with payload (RFC 791 header length, RFC 9293 data
 * offset); the queue copies the first COPY_BYTES of each packet. */
#define COPY_BYTES 128
static int tcp_has_payload(const unsigned char *p, int len)
{
	unsigned ihl, tot, doff;

	if (len < 20 || (p[0] >> 4) != 4 || p[9] != 6)
		return 0;
	ihl = (p[0] & 0x0f) * 4u;
	tot = (unsigned)p[2] << 8 | p[3];
	if (ihl < 20 || (int)ihl + 13 > len)
		return 0;
	doff = (p[ihl + 12] >> 4) * 4u;
	return tot > ihl + doff;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void accept_packet(struct nfq_q_handle *qh, uint32_t id)
{
	if (nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL) < 0) {
		verdict_errors++;
		fprintf(stderr, "nfq-delay: verdict for packet %u: %s\n", id, strerror(errno));
	}
}

/* nfq_callback: called by nfq_handle_packet() once per queued packet. The
 * verdict is not given here but when the packet is due (main loop). */
static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *data)
{
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	uint32_t id;

	if (!ph)
		return 0;
	id = ntohl(ph->packet_id);
	if (drop_every) {
		unsigned char *p;
		int n = nfq_get_payload(nfa, &p);

		if (n > 0 && tcp_has_payload(p, n) && ++data_segments % drop_every == 0) {
			if (nfq_set_verdict(qh, id, NF_DROP, 0, NULL) < 0)
				verdict_errors++;
			else
				dropped++;
			return 0;
		}
	}
	if (count == MAX_HELD) {
		passed_early++;
		accept_packet(qh, id);
		return 0;
	}
	ring[(head + count++) % MAX_HELD] = (struct held){ id, now_ns() + delay_ns };
	delayed++;
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	static char buf[1 << 16] __attribute__((aligned));
	struct nfq_handle *h;
	struct nfq_q_handle *qh;
	uint16_t queue;
	int fd, one = 1;

	if (argc < 3) {
		fprintf(stderr, "usage: nfq-delay QUEUE DELAY_MS [READY_FILE [DROP_EVERY]]\n");
		return 2;
	}
	queue = (uint16_t)atoi(argv[1]);
	delay_ns = (uint64_t)atoi(argv[2]) * 1000000ull;
	if (argc > 4)
		drop_every = strtoul(argv[4], NULL, 10);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	h = nfq_open();
	if (!h) {
		fprintf(stderr, "nfq-delay: nfq_open: %s\n", strerror(errno));
		return 1;
	}
	qh = nfq_create_queue(h, queue, on_packet, NULL);
	if (!qh || nfq_set_mode(qh, drop_every ? NFQNL_COPY_PACKET : NFQNL_COPY_META,
				drop_every ? COPY_BYTES : 0) < 0) {
		fprintf(stderr, "nfq-delay: bind queue %u: %s\n", queue, strerror(errno));
		nfq_close(h);
		return 1;
	}
	fd = nfq_fd(h);
	/* ENOBUFS would only say the kernel dropped a copy: the queue's own
	 * verdicts still count */
	setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	if (argc > 3 && argv[3][0]) {
		int r = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (r >= 0)
			close(r);
	}
	while (!stop) {
		uint64_t now = now_ns();
		int timeout = -1;
		struct pollfd p = { .fd = fd, .events = POLLIN };

		while (count && ring[head].due_ns <= now) {
			accept_packet(qh, ring[head].id);
			head = (head + 1) % MAX_HELD;
			count--;
		}
		if (count)
			timeout = (int)((ring[head].due_ns - now) / 1000000ull) + 1;
		if (poll(&p, 1, timeout) <= 0)
			continue;
		for (;;) {
			ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

			if (n <= 0)
				break;
			nfq_handle_packet(h, buf, (int)n);
		}
	}
	while (count) {
		accept_packet(qh, ring[head].id);
		head = (head + 1) % MAX_HELD;
		count--;
	}
	nfq_destroy_queue(qh);
	nfq_close(h);
	fprintf(stderr, "nfq-delay: %lu packets delayed, %lu passed early (queue full), %lu verdict errors\n",
		delayed, passed_early, verdict_errors);
	fprintf(stderr, "dropped %lu\n", dropped);
	return 0;
}
