// SPDX-License-Identifier: GPL-2.0-only
/*
 * nfq-delay — a fixed network delay for netdelay.sh on kernels without
 * sch_netem: every packet the netfilter queue QUEUE hands over (iptables -j
 * NFQUEUE, in the namespace this runs in) is accepted DELAY_MS after it
 * arrived, in arrival order. Raw nfnetlink (linux/netfilter/nfnetlink_queue.h,
 * the protocol libnetfilter_queue wraps), so it needs no library.
 *
 *   nfq-delay QUEUE DELAY_MS [READY_FILE]
 *
 * Creates READY_FILE once bound. Runs until SIGTERM/SIGINT; packets still held
 * then are accepted at once. Bounded: at most MAX_HELD packets wait; beyond,
 * a packet is accepted without delay and counted (printed at exit).
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
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netlink.h>

#define MAX_HELD 65536

static volatile sig_atomic_t stop;
static int fd;
static uint16_t queue;
static uint32_t seq;

struct held {
	uint32_t id; /* network byte order, as the kernel sent it */
	uint64_t due_ns;
};
static struct held ring[MAX_HELD];
static uint32_t head, count;
static unsigned long passed_early, delayed;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One nfnetlink message: nlmsghdr, nfgenmsg, then one attribute. */
static int send_msg(uint16_t type, const void *attr, uint16_t attr_type, uint16_t attr_len)
{
	char buf[NLMSG_SPACE(sizeof(struct nfgenmsg)) + NLA_HDRLEN + 64];
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	struct nfgenmsg *g = NLMSG_DATA(nh);
	struct nlattr *a = (struct nlattr *)((char *)g + NLMSG_ALIGN(sizeof(*g)));
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };

	memset(buf, 0, sizeof(buf));
	nh->nlmsg_len = NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*g)) + NLA_HDRLEN + attr_len);
	nh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | type;
	nh->nlmsg_flags = NLM_F_REQUEST;
	nh->nlmsg_seq = ++seq;
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(queue);
	a->nla_type = attr_type;
	a->nla_len = NLA_HDRLEN + attr_len;
	memcpy((char *)a + NLA_HDRLEN, attr, attr_len);
	return sendto(fd, buf, nh->nlmsg_len, 0, (struct sockaddr *)&to, sizeof(to)) < 0 ? -errno : 0;
}

static void verdict(uint32_t id_be)
{
	struct nfqnl_msg_verdict_hdr v = { .verdict = htonl(NF_ACCEPT), .id = id_be };

	if (send_msg(NFQNL_MSG_VERDICT, &v, NFQA_VERDICT_HDR, sizeof(v)))
		fprintf(stderr, "nfq-delay: verdict: %s\n", strerror(errno));
}

static void on_packet(struct nlmsghdr *nh, uint64_t delay_ns)
{
	struct nfgenmsg *g = NLMSG_DATA(nh);
	int len = (int)nh->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*g)));
	struct nlattr *a = (struct nlattr *)((char *)g + NLMSG_ALIGN(sizeof(*g)));

	for (; len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= len;
	     len -= NLA_ALIGN(a->nla_len), a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len))) {
		struct nfqnl_msg_packet_hdr ph;

		if ((a->nla_type & NLA_TYPE_MASK) != NFQA_PACKET_HDR)
			continue;
		memcpy(&ph, (char *)a + NLA_HDRLEN, sizeof(ph));
		if (count == MAX_HELD) {
			passed_early++;
			verdict(ph.packet_id);
			return;
		}
		ring[(head + count++) % MAX_HELD] = (struct held){ ph.packet_id, now_ns() + delay_ns };
		delayed++;
		return;
	}
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_nl me = { .nl_family = AF_NETLINK };
	struct nfqnl_msg_config_cmd cmd = { .command = NFQNL_CFG_CMD_BIND };
	struct nfqnl_msg_config_params params = { .copy_range = 0, .copy_mode = NFQNL_COPY_META };
	static char buf[1 << 16];
	uint64_t delay_ns;
	int one = 1;

	if (argc < 3) {
		fprintf(stderr, "usage: nfq-delay QUEUE DELAY_MS [READY_FILE]\n");
		return 2;
	}
	queue = (uint16_t)atoi(argv[1]);
	delay_ns = (uint64_t)atoi(argv[2]) * 1000000ull;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER);
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me))) {
		fprintf(stderr, "nfq-delay: netlink socket: %s\n", strerror(errno));
		return 1;
	}
	/* ENOBUFS would only say the kernel dropped a copy: the queue's own
	 * verdicts still count */
	setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	if (send_msg(NFQNL_MSG_CONFIG, &cmd, NFQA_CFG_CMD, sizeof(cmd)) ||
	    send_msg(NFQNL_MSG_CONFIG, &params, NFQA_CFG_PARAMS, sizeof(params))) {
		fprintf(stderr, "nfq-delay: bind queue %u: %s\n", queue, strerror(errno));
		return 1;
	}
	if (argc > 3) {
		int r = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (r >= 0)
			close(r);
	}
	while (!stop) {
		uint64_t now = now_ns();
		int timeout = -1;
		struct pollfd p = { .fd = fd, .events = POLLIN };

		while (count && ring[head].due_ns <= now) {
			verdict(ring[head].id);
			head = (head + 1) % MAX_HELD;
			count--;
		}
		if (count)
			timeout = (int)((ring[head].due_ns - now) / 1000000ull) + 1;
		if (poll(&p, 1, timeout) <= 0)
			continue;
		for (;;) {
			ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			struct nlmsghdr *nh = (struct nlmsghdr *)buf;

			if (n <= 0)
				break;
			for (; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
				if (nh->nlmsg_type == ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET))
					on_packet(nh, delay_ns);
				else if (nh->nlmsg_type == NLMSG_ERROR) {
					struct nlmsgerr *e = NLMSG_DATA(nh);

					if (e->error)
						fprintf(stderr, "nfq-delay: netlink error %s\n",
							strerror(-e->error));
				}
			}
		}
	}
	while (count) {
		verdict(ring[head].id);
		head = (head + 1) % MAX_HELD;
		count--;
	}
	fprintf(stderr, "nfq-delay: %lu packets delayed, %lu passed early (queue full)\n", delayed,
		passed_early);
	return 0;
}
