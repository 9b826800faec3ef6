// SPDX-License-Identifier: GPL-2.0-only
/*
 * scope/rtnl — rtnetlink requests and message parsing (rtnetlink(7); the
 * attributes are those of include/uapi/linux/if_link.h and net_namespace.h).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "scope/rtnl.h"

/* One recv: a dump answer is split by the kernel into messages of at most a
 * page (or 32 KiB with large pages), never one larger than this. */
#define SCOPE_RTNL_BUF 65536

static int scope_rtnl_attr_u32(const struct rtattr *rta, uint32_t *v)
{
	if (RTA_PAYLOAD(rta) < sizeof(*v))
		return -EINVAL;
	memcpy(v, RTA_DATA(rta), sizeof(*v));
	return 0;
}

/* A NUL-terminated string attribute of at most size-1 characters into buf. */
static int scope_rtnl_attr_str(const struct rtattr *rta, char *buf, size_t size)
{
	size_t n = RTA_PAYLOAD(rta);
	const char *s = RTA_DATA(rta);

	if (!n || !memchr(s, '\0', n))
		return -EINVAL;
	n = strnlen(s, n);
	if (n >= size)
		return -EINVAL;
	memcpy(buf, s, n + 1);
	return 0;
}

/* Checks that the message fits len and is at least hdr bytes of payload. */
static const struct nlmsghdr *scope_rtnl_msg(const void *msg, size_t len, size_t hdr)
{
	const struct nlmsghdr *nh = msg;

	if (len < NLMSG_HDRLEN || nh->nlmsg_len < NLMSG_LENGTH(hdr) || nh->nlmsg_len > len)
		return NULL;
	return nh;
}

static int scope_rtnl_linkinfo(const struct rtattr *nest, struct scope_link *out)
{
	const struct rtattr *rta = RTA_DATA(nest);
	int rlen = (int)RTA_PAYLOAD(nest);
	char kind[16];

	for (; RTA_OK(rta, rlen); rta = RTA_NEXT(rta, rlen)) {
		if ((rta->rta_type & NLA_TYPE_MASK) != IFLA_INFO_KIND)
			continue;
		/* longer kinds exist ("ipvlan", "macsec"... all short, but
		 * any unknown one is simply not a bridge) */
		if (scope_rtnl_attr_str(rta, kind, sizeof(kind)) == 0)
			out->is_bridge = !strcmp(kind, "bridge");
	}
	return rlen >= (int)sizeof(struct rtattr) ? -EINVAL : 0;
}

int scope_rtnl_parse_link(const void *msg, size_t len, struct scope_link *out)
{
	const struct nlmsghdr *nh = msg;
	const struct ifinfomsg *ifi;
	const struct rtattr *rta;
	uint32_t v;
	int rlen;

	memset(out, 0, sizeof(*out));
	out->link_nsid = -1;
	if (len < NLMSG_HDRLEN)
		return -EINVAL;
	if (nh->nlmsg_type != RTM_NEWLINK && nh->nlmsg_type != RTM_DELLINK)
		return -ENOMSG;
	nh = scope_rtnl_msg(msg, len, sizeof(*ifi));
	if (!nh)
		return -EINVAL;
	ifi = NLMSG_DATA(nh);
	out->type = nh->nlmsg_type;
	out->ifindex = ifi->ifi_index;
	rta = IFLA_RTA(ifi);
	rlen = (int)IFLA_PAYLOAD(nh);
	for (; RTA_OK(rta, rlen); rta = RTA_NEXT(rta, rlen)) {
		switch (rta->rta_type & NLA_TYPE_MASK) {
		case IFLA_MASTER:
			if (scope_rtnl_attr_u32(rta, &v))
				return -EINVAL;
			out->master = (int)v;
			break;
		case IFLA_LINK_NETNSID:
			if (scope_rtnl_attr_u32(rta, &v))
				return -EINVAL;
			out->link_nsid = (int32_t)v;
			break;
		case IFLA_IFNAME:
			if (scope_rtnl_attr_str(rta, out->name, sizeof(out->name)))
				return -EINVAL;
			break;
		case IFLA_LINKINFO:
			if (scope_rtnl_linkinfo(rta, out))
				return -EINVAL;
			break;
		}
	}
	/* what is left must be shorter than an attribute header (padding) */
	return rlen >= (int)sizeof(struct rtattr) ? -EINVAL : 0;
}

int scope_rtnl_parse_nsid(const void *msg, size_t len, int *nsid)
{
	const struct nlmsghdr *nh = msg;
	const struct rtattr *rta;
	uint32_t v;
	int rlen, found = 0;

	if (len < NLMSG_HDRLEN)
		return -EINVAL;
	if (nh->nlmsg_type != RTM_NEWNSID)
		return -ENOMSG;
	nh = scope_rtnl_msg(msg, len, sizeof(struct rtgenmsg));
	if (!nh)
		return -EINVAL;
	rta = (const struct rtattr *)((const char *)NLMSG_DATA(nh) +
				      NLMSG_ALIGN(sizeof(struct rtgenmsg)));
	rlen = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(NLMSG_ALIGN(sizeof(struct rtgenmsg)));
	for (; RTA_OK(rta, rlen); rta = RTA_NEXT(rta, rlen)) {
		if ((rta->rta_type & NLA_TYPE_MASK) != NETNSA_NSID)
			continue;
		if (scope_rtnl_attr_u32(rta, &v))
			return -EINVAL;
		*nsid = (int32_t)v;
		found = 1;
	}
	if (rlen >= (int)sizeof(struct rtattr) || !found)
		return -EINVAL;
	return 0;
}

int scope_rtnl_open(unsigned int groups)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = groups };
	int fd, rcvbuf = 1 << 20;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | (groups ? SOCK_NONBLOCK : 0),
		    NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (groups)
		/* a burst of containers starting must not overflow it; if it
		 * does, ENOBUFS makes the caller rescan anyway */
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

/*
 * Sends the request at req (nlmsg_seq is set here) and hands every answer
 * message to cb until the answer ends: NLMSG_DONE for a dump, the single
 * message otherwise, or an NLMSG_ERROR (its errno returned; 0 is an ACK).
 * Returns 0, -EAGAIN when a dump was interrupted, or -errno.
 */
static int scope_rtnl_xfer(int fd, struct nlmsghdr *req,
			   int (*cb)(const struct nlmsghdr *nh, size_t len, void *arg), void *arg)
{
	static __thread uint32_t seq;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	static __thread char buf[SCOPE_RTNL_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
	int intr = 0, rc = 0;

	req->nlmsg_seq = ++seq;
	if (sendto(fd, req, req->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	for (;;) {
		struct sockaddr_nl from;
		socklen_t fromlen = sizeof(from);
		const struct nlmsghdr *nh;
		ssize_t n;
		int len;

		n = recvfrom(fd, buf, sizeof(buf), MSG_TRUNC, (struct sockaddr *)&from, &fromlen);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if ((size_t)n > sizeof(buf))
			return -EMSGSIZE;
		if (from.nl_pid != 0)
			continue; /* not from the kernel */
		len = (int)n;
		for (nh = (const struct nlmsghdr *)buf; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_seq != req->nlmsg_seq)
				continue; /* a late answer to an earlier request */
			if (nh->nlmsg_flags & NLM_F_DUMP_INTR)
				intr = 1;
			if (nh->nlmsg_type == NLMSG_DONE)
				return rc ? rc : intr ? -EAGAIN : 0;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);

				if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return -EPROTO;
				return e->error ? e->error : rc;
			}
			if (!rc && cb)
				rc = cb(nh, nh->nlmsg_len, arg);
			if (!(nh->nlmsg_flags & NLM_F_MULTI))
				return rc;
		}
	}
}

struct scope_rtnl_one {
	struct scope_link *out;
	int found;
};

static int scope_rtnl_one_cb(const struct nlmsghdr *nh, size_t len, void *arg)
{
	struct scope_rtnl_one *o = arg;

	if (scope_rtnl_parse_link(nh, len, o->out) == 0)
		o->found = 1;
	return 0;
}

int scope_rtnl_link_by_name(int fd, const char *name, struct scope_link *out)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
		char attrs[RTA_SPACE(IF_NAMESIZE)];
	} req = {
		.nh.nlmsg_type = RTM_GETLINK,
		.nh.nlmsg_flags = NLM_F_REQUEST,
		.ifi.ifi_family = AF_UNSPEC,
	};
	struct scope_rtnl_one o = { .out = out };
	struct rtattr *rta = (struct rtattr *)req.attrs;
	size_t n = strlen(name);
	int rc;

	if (!n || n >= IF_NAMESIZE)
		return -ENODEV;
	rta->rta_type = IFLA_IFNAME;
	rta->rta_len = RTA_LENGTH(n + 1);
	memcpy(RTA_DATA(rta), name, n + 1);
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifi)) + RTA_SPACE(n + 1);
	rc = scope_rtnl_xfer(fd, &req.nh, scope_rtnl_one_cb, &o);
	if (rc)
		return rc;
	return o.found ? 0 : -ENODEV;
}

struct scope_rtnl_ports {
	int master;
	int count;
	int (*cb)(const struct scope_link *l, void *arg);
	void *arg;
};

static int scope_rtnl_ports_cb(const struct nlmsghdr *nh, size_t len, void *arg)
{
	struct scope_rtnl_ports *p = arg;
	struct scope_link l;

	if (scope_rtnl_parse_link(nh, len, &l) || l.master != p->master)
		return 0;
	p->count++;
	return p->cb(&l, p->arg);
}

int scope_rtnl_ports(int fd, int master, int (*cb)(const struct scope_link *l, void *arg),
		     void *arg)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
		char attrs[RTA_SPACE(sizeof(uint32_t))];
	} req = {
		.nh.nlmsg_len = sizeof(req),
		.nh.nlmsg_type = RTM_GETLINK,
		.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		.ifi.ifi_family = AF_UNSPEC,
	};
	struct scope_rtnl_ports p = { .master = master, .cb = cb, .arg = arg };
	struct rtattr *rta = (struct rtattr *)req.attrs;
	uint32_t m = (uint32_t)master;
	int rc;

	/* the kernel filters the dump on IFLA_MASTER (rtnl_dump_ifinfo) */
	rta->rta_type = IFLA_MASTER;
	rta->rta_len = RTA_LENGTH(sizeof(m));
	memcpy(RTA_DATA(rta), &m, sizeof(m));
	rc = scope_rtnl_xfer(fd, &req.nh, scope_rtnl_ports_cb, &p);
	return rc ? rc : p.count;
}

struct scope_rtnl_nsid_ans {
	int nsid;
	int found;
};

static int scope_rtnl_nsid_cb(const struct nlmsghdr *nh, size_t len, void *arg)
{
	struct scope_rtnl_nsid_ans *a = arg;

	if (scope_rtnl_parse_nsid(nh, len, &a->nsid) == 0)
		a->found = 1;
	return 0;
}

int scope_rtnl_nsid(int fd, int nsfd, int *nsid)
{
	struct {
		struct nlmsghdr nh;
		struct rtgenmsg g;
		char pad[NLMSG_ALIGN(sizeof(struct rtgenmsg)) - sizeof(struct rtgenmsg)];
		char attrs[RTA_SPACE(sizeof(uint32_t))];
	} req = {
		.nh.nlmsg_len = sizeof(req),
		.nh.nlmsg_type = RTM_GETNSID,
		.nh.nlmsg_flags = NLM_F_REQUEST,
		.g.rtgen_family = AF_UNSPEC,
	};
	struct scope_rtnl_nsid_ans a = { .nsid = -1 };
	struct rtattr *rta = (struct rtattr *)req.attrs;
	uint32_t v = (uint32_t)nsfd;
	int rc;

	rta->rta_type = NETNSA_FD;
	rta->rta_len = RTA_LENGTH(sizeof(v));
	memcpy(RTA_DATA(rta), &v, sizeof(v));
	rc = scope_rtnl_xfer(fd, &req.nh, scope_rtnl_nsid_cb, &a);
	if (rc)
		return rc;
	if (!a.found)
		return -EPROTO;
	*nsid = a.nsid;
	return 0;
}
