// SPDX-License-Identifier: GPL-2.0-only
/*
 * mcpwire daemon: kernel capture → stream → proto → mcp → metrics → HTTP.
 *
 * One pipeline thread (this one) polls the ring buffer and drives every stage;
 * libmicrohttpd's thread serves the snapshot the pipeline publishes.
 * Open → configure → load → attach, one cleanup path, exit 0 on SIGINT/SIGTERM
 * after detaching everything.
 */
#include <errno.h>
#include <getopt.h>
#include <linux/types.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mcpwire.h"
#include "attrib/kubelet.h"
#include "attrib/resolver.h"
#include "calllog/calllog.h"
#include "capture/capture.h"
#include "capture/kernel_info.h"
#include "capture/pcap.h"
#include "docker/engine.h"
#include "http/http_server.h"
#include "mcp/mcp.h"
#include "metrics/metrics.h"
#include "netobs/netobs.h"
#include "scope/resolve.h"
#include "scope/scope.h"
#include "stream/stream.h"
#include "version.h"

/* How often the pipeline publishes a metrics snapshot and runs timers. */
#define MAIN_TICK_MS 100

static volatile sig_atomic_t exiting;
static volatile sig_atomic_t reopen_log;

static void main_on_signal(int sig)
{
	exiting = 1;
}

/* SIGHUP: logrotate renamed the call log; the pipeline reopens it. */
static void main_on_hup(int sig)
{
	reopen_log = 1;
}

struct main_opts {
	const char *listen;
	int listen_set;	  /* --listen given: with --read, serve after the replay */
	const char *read; /* --read FILE: replay a capture instead of the kernel's */
	int verbose;
	double request_timeout_s;
	double dedup_window_ms;
	double session_idle_s;
	unsigned long cap_bytes;
	unsigned long max_body;
	unsigned long max_conns;
	const char *log_calls;
	int log_payloads;
	const char *network;	   /* --network NAME (Docker network) */
	const char *bridge;	   /* --bridge IFNAME */
	const char *docker_socket; /* --docker-socket PATH (attribution, --network) */
	const char *kubelet_url;   /* --kubelet-url URL; "": none, NULL: the default */
};

static void main_usage(FILE *f)
{
	fprintf(f,
		"Usage: mcpwire [OPTIONS]\n"
		"Observe MCP (Model Context Protocol) traffic on this host from the kernel\n"
		"and export Prometheus metrics. Needs root (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN).\n"
		"\n"
		"  --listen HOST:PORT       serve /metrics and /healthz here (default :9473;\n"
		"                           [::1]:PORT for IPv6)\n"
		"  --read FILE              replay a pcap/pcapng capture instead (no root), print\n"
		"                           the metrics and exit; with --listen keep serving them\n"
		"                           until SIGINT/SIGTERM (docs/replay.md)\n"
		"  --request-timeout SEC    forget requests unanswered after SEC seconds,\n"
		"                           counted in mcpwire_requests_expired_total (default 300)\n"
		"  --session-idle SEC       end sessions idle for SEC seconds (default 3600)\n"
		"  --dedup-window MS        how long a message seen only at the client's socket\n"
		"                           waits for the server's socket before it is counted\n"
		"                           (default 1000)\n"
		"  --cap-bytes N            payload captured in full per syscall; beyond it the\n"
		"                           head and the last 64 KiB are kept (default 1048576)\n"
		"  --max-body N             largest HTTP body parsed (default 16777216)\n"
		"  --max-conns N            sockets tracked at once (default 65536)\n"
		"  --log-calls FILE         append one JSON line per finished call to FILE\n"
		"                           ('-' for standard output); SIGHUP reopens it\n"
		"  --log-payloads           with --log-calls: also log argument values and\n"
		"                           results, secrets redacted (docs/call-log.md)\n"
		"  --network NAME           report only containers on Docker network NAME\n"
		"                           (its bridge looked up through the Docker Engine API)\n"
		"  --bridge IFNAME          report only network namespaces with a veth on bridge\n"
		"                           IFNAME (docs/scope.md), and measure its network\n"
		"                           with tc programs on the veths (docs/network.md)\n"
		"  --docker-socket PATH     the Docker Engine API's socket, for --network and\n"
		"                           container names (default /var/run/docker.sock)\n"
		"  --kubelet-url URL        the kubelet's pod list, for pod and namespace names\n"
		"                           (default in a cluster https://$NODE_IP:10250/pods;\n"
		"                           '' for none; docs/attribution.md)\n"
		"  -v, --verbose            log start-up details and the BPF verifier log\n"
		"  -h, --help               this text\n"
		"  -V, --version            print the version\n");
}

/* Parses a non-negative number with optional fraction; 0 on success. */
static int main_parse_num(const char *opt, const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "mcpwire: bad value '%s' for %s (expected a number from %.15g to %.15g)\n",
			s, opt, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* Returns 0 to run, 1 to exit 0 (help/version), -1 on a bad command line. */
static int main_parse_args(int argc, char **argv, struct main_opts *o)
{
	enum { OPT_LISTEN = 256, OPT_TIMEOUT, OPT_IDLE, OPT_DEDUP, OPT_CAP, OPT_BODY, OPT_CONNS,
	       OPT_LOG_CALLS, OPT_LOG_PAYLOADS, OPT_READ, OPT_NETWORK, OPT_BRIDGE,
	       OPT_DOCKER_SOCKET, OPT_KUBELET_URL };
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "request-timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "session-idle", required_argument, NULL, OPT_IDLE },
		{ "dedup-window", required_argument, NULL, OPT_DEDUP },
		{ "cap-bytes", required_argument, NULL, OPT_CAP },
		{ "max-body", required_argument, NULL, OPT_BODY },
		{ "max-conns", required_argument, NULL, OPT_CONNS },
		{ "log-calls", required_argument, NULL, OPT_LOG_CALLS },
		{ "log-payloads", no_argument, NULL, OPT_LOG_PAYLOADS },
		{ "read", required_argument, NULL, OPT_READ },
		{ "network", required_argument, NULL, OPT_NETWORK },
		{ "bridge", required_argument, NULL, OPT_BRIDGE },
		{ "docker-socket", required_argument, NULL, OPT_DOCKER_SOCKET },
		{ "kubelet-url", required_argument, NULL, OPT_KUBELET_URL },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	double v;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vhV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_LISTEN:
			o->listen = optarg;
			o->listen_set = 1;
			break;
		case OPT_READ:
			if (!*optarg) {
				fprintf(stderr, "mcpwire: --read needs a file name\n");
				return -1;
			}
			o->read = optarg;
			break;
		case OPT_TIMEOUT:
			if (main_parse_num("--request-timeout", optarg, 0.001, 86400, &o->request_timeout_s))
				return -1;
			break;
		case OPT_IDLE:
			if (main_parse_num("--session-idle", optarg, 1, 30 * 86400, &o->session_idle_s))
				return -1;
			break;
		case OPT_DEDUP:
			if (main_parse_num("--dedup-window", optarg, 0, 60000, &o->dedup_window_ms))
				return -1;
			break;
		case OPT_CAP:
			if (main_parse_num("--cap-bytes", optarg, 128 * 1024, 64 << 20, &v))
				return -1;
			o->cap_bytes = (unsigned long)v;
			break;
		case OPT_BODY:
			if (main_parse_num("--max-body", optarg, 4096, 1 << 30, &v))
				return -1;
			o->max_body = (unsigned long)v;
			break;
		case OPT_CONNS:
			if (main_parse_num("--max-conns", optarg, 16, 1 << 22, &v))
				return -1;
			o->max_conns = (unsigned long)v;
			break;
		case OPT_LOG_CALLS:
			if (!*optarg) {
				fprintf(stderr, "mcpwire: --log-calls needs a file name or '-'\n");
				return -1;
			}
			o->log_calls = optarg;
			break;
		case OPT_LOG_PAYLOADS:
			o->log_payloads = 1;
			break;
		case OPT_NETWORK:
		case OPT_BRIDGE:
		case OPT_DOCKER_SOCKET:
			if (!*optarg) {
				fprintf(stderr, "mcpwire: %s needs a value (see --help)\n",
					c == OPT_NETWORK ? "--network" :
					c == OPT_BRIDGE ? "--bridge" : "--docker-socket");
				return -1;
			}
			*(c == OPT_NETWORK ? &o->network : c == OPT_BRIDGE ? &o->bridge :
					      &o->docker_socket) = optarg;
			break;
		case OPT_KUBELET_URL:
			if (*optarg && strncmp(optarg, "http://", 7) && strncmp(optarg, "https://", 8)) {
				fprintf(stderr, "mcpwire: bad value '%s' for --kubelet-url (expected "
						"an http:// or https:// URL, or '')\n", optarg);
				return -1;
			}
			o->kubelet_url = optarg;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'h':
			main_usage(stdout);
			return 1;
		case 'V':
			printf("mcpwire %s\n", MCPWIRE_VERSION);
			return 1;
		case ':':
			fprintf(stderr, "mcpwire: option %s needs a value (see --help)\n",
				argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "mcpwire: unknown option '%s' (see --help)\n",
				argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mcpwire: unexpected argument '%s' (see --help)\n", argv[optind]);
		return -1;
	}
	if (o->network && o->bridge) {
		fprintf(stderr, "mcpwire: --network and --bridge both name the network: give one\n");
		return -1;
	}
	if (o->read && (o->network || o->bridge)) {
		fprintf(stderr, "mcpwire: --network/--bridge scope live capture; a --read capture "
			"carries no network namespaces to scope by\n");
		return -1;
	}
	if (o->log_payloads && !o->log_calls) {
		fprintf(stderr, "mcpwire: --log-payloads needs --log-calls (see --help)\n");
		return -1;
	}
	return 0;
}

static uint64_t main_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* --- attribution (attrib/): the pipeline reads the resolver's cache --- */
static int main_identity(void *arg, uint32_t tgid, struct mcp_identity *out)
{
	struct attrib_identity id;
	char sid[13];

	if (!attrib_lookup(arg, tgid, &id))
		return 0;
	snprintf(out->container, sizeof(out->container), "%s", attrib_container_label(&id, sid));
	out->container_named = id.container[0] != '\0';
	snprintf(out->pod, sizeof(out->pod), "%s", id.pod);
	snprintf(out->ns, sizeof(out->ns), "%s", id.ns);
	return 1;
}

/* Between stream/ and mcp/: asks the resolver about every process that
 * carries MCP messages as soon as it is seen (mcp/ asks only about servers),
 * so a client's container is known by the time its first call is logged. */
struct main_prime {
	struct attrib *attrib;
	const struct proto_sink *next;
};

static void main_prime_message(void *arg, const struct mcp_wire_ctx *ctx,
			       const struct jsonrpc_msg *msg)
{
	struct main_prime *p = arg;
	struct attrib_identity id;

	if (ctx->observer == MCP_OBS_CLIENT && ctx->tgid)
		attrib_lookup(p->attrib, ctx->tgid, &id);
	p->next->message(p->next->arg, ctx, msg);
}

static void main_prime_session_end(void *arg, const struct mcp_wire_ctx *ctx)
{
	struct main_prime *p = arg;

	p->next->session_end(p->next->arg, ctx);
}

static void main_prime_parse_error(void *arg, const struct mcp_wire_ctx *ctx, const char *reason)
{
	struct main_prime *p = arg;

	p->next->parse_error(p->next->arg, ctx, reason);
}

static void main_export_attrib(struct attrib *a, struct metrics *m)
{
	struct attrib_stats as;

	if (!a)
		return;
	attrib_get_stats(a, &as);
	metrics_table_evictions_set(m, "attribution", as.evicted);
	metrics_attribution_errors_set(m, "queue_full", as.queue_full);
	metrics_attribution_errors_set(m, "proc", as.proc_errors);
	metrics_attribution_errors_set(m, "docker", as.docker_errors);
	metrics_attribution_errors_set(m, "kubelet", as.kubelet_errors);
}
/* --- end of attribution --- */

/* Kernel drop counters are totals kept per CPU, and the stages before mcp/
 * keep their own totals: export them as they are. */
static void main_export_totals(struct capture *cap, struct stream_table *st, struct metrics *m)
{
	uint64_t drops[MW_DROP__MAX];
	struct stream_stats ss;

	capture_drops(cap, drops);
	for (int i = 0; i < MW_DROP__MAX; i++)
		metrics_events_lost_set(m, capture_drop_reason_name(i), drops[i]);
	metrics_events_lost_set(m, "malformed_record", capture_malformed(cap));
	stream_stats(st, &ss);
	metrics_table_evictions_set(m, "connections", ss.conns_evicted);
}

static void main_export_scope(struct scope *sc, struct capture *cap, struct metrics *m)
{
	const char *names[SCOPE_SCAN__MAX];
	struct scope_stats ss;

	scope_stats(sc, &ss);
	for (int i = 0; i < SCOPE_SCAN__MAX; i++)
		names[i] = scope_trigger_name(i);
	metrics_scope_set(m, ss.namespaces, names, ss.rescans, SCOPE_SCAN__MAX,
			  capture_scope_filtered(cap));
}

/* The start-up line saying what this node's kernel offers and which hooks
 * were attached (docs/kernels.md), and mcpwire_kernel_info. */
static void main_report_kernel(struct capture *cap, struct metrics *m, const char *tc_bridge)
{
	struct kernel_info ki;
	char hooks[512];

	kernel_info_probe(&ki);
	capture_hooks(cap, hooks, sizeof(hooks));
	metrics_kernel_info_set(m, ki.release, ki.features_str);
	metrics_publish(m); /* in the first /metrics, which may come before a tick */
	fprintf(stderr,
		"mcpwire: kernel %s (%s; probed in %.0f ms): hooks attached: %s; tc: %s%s; "
		"kprobes, fentry, uprobes not used by this build (syscall tracepoints are its "
		"capture path)\n",
		ki.release, ki.features_str[0] ? ki.features_str : "no features", ki.probe_ms,
		hooks, tc_bridge ? "ingress and egress on the veths of " : "not attached (no --bridge or --network)",
		tc_bridge ? tc_bridge : "");
}

/* --read: the pipeline's timers run on capture time, driven by the replay. */
struct main_replay {
	struct mcp_state *mcp;
	struct calllog *calls;
};

static int main_replay_tick(void *arg, uint64_t now_ns)
{
	struct main_replay *mr = arg;

	mcp_tick(mr->mcp, now_ns);
	if (mr->calls)
		calllog_flush(mr->calls);
	return exiting;
}

static void main_export_replay(struct pcap_replay *r, struct stream_table *st, struct metrics *m,
			       struct calllog *calls)
{
	struct pcap_replay_stats ps;
	struct stream_stats ss;

	pcap_replay_stats(r, &ps);
	for (int i = 0; i < PCAP_LOST__MAX; i++)
		metrics_events_lost_set(m, pcap_replay_lost_name(i), ps.lost[i]);
	stream_stats(st, &ss);
	metrics_table_evictions_set(m, "connections", ss.conns_evicted);
	if (calls)
		metrics_call_log_errors_set(m, calllog_errors(calls));
	metrics_publish(m);
}

/*
 * --read FILE: replays it, then prints the exposition and returns, or with
 * --listen serves it (and /api/v1) until SIGINT/SIGTERM. No BPF, no root.
 */
static int main_replay(const struct main_opts *o, struct stream_table *st, struct mcp_state *mcp,
		       struct metrics *m, struct calllog *calls)
{
	struct main_replay mr = { .mcp = mcp, .calls = calls };
	struct pcap_replay_config rcfg = { .max_conns = (uint32_t)o->max_conns };
	struct http_server *http = NULL;
	struct pcap_replay *r = NULL;
	struct metrics_snapshot *snap;
	struct pcap_replay_stats ps;
	struct stream_stats ss;
	char err[256] = "";
	int rc;

	rc = pcap_replay_open(o->read, &rcfg, st, &r, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "mcpwire: %s\n", err);
		return 1;
	}
	/* exported times (last seen, the call log's) are the capture's */
	metrics_set_clock(m, pcap_replay_clock_offset(r));
	if (calls)
		calllog_set_clock_offset(calls, pcap_replay_clock_offset(r));
	if (o->listen_set) {
		http = http_server_start(o->listen, m, err, sizeof(err));
		if (!http) {
			fprintf(stderr, "mcpwire: %s\n", err);
			pcap_replay_close(r);
			return 1;
		}
	}

	rc = pcap_replay_run(r, main_replay_tick, &mr, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "mcpwire: warning: %s\n", err);
	if (calls)
		calllog_flush(calls);
	main_export_replay(r, st, m, calls);
	pcap_replay_stats(r, &ps);
	stream_stats(st, &ss);
	fprintf(stderr,
		"mcpwire: %s %s: %llu packets, %llu TCP segments, %llu connections, "
		"%llu packets not TCP, %llu gaps (%llu bytes)\n",
		rc == 1 ? "interrupted replaying" : "replayed", o->read,
		(unsigned long long)ps.packets, (unsigned long long)ps.tcp_segments,
		(unsigned long long)ps.conns, (unsigned long long)ps.not_tcp,
		(unsigned long long)ss.gaps, (unsigned long long)ss.gap_bytes);

	if (!http) {
		snap = metrics_snapshot_get(m);
		fwrite(snap->text, 1, snap->len, stdout);
		metrics_snapshot_put(snap);
		rc = fflush(stdout) ? 1 : 0;
	} else {
		http_server_set_ready(http, 1);
		fprintf(stderr, "mcpwire %s: replay done; metrics on http://%s%s/metrics\n",
			MCPWIRE_VERSION, o->listen[0] == ':' ? "0.0.0.0" : "", o->listen);
		/* nothing changes any more, but /api/v1 renders at a publication
		 * after a client asks (metrics_api_want()) */
		while (!exiting) {
			struct timespec ts = { 0, MAIN_TICK_MS * 1000000L };

			nanosleep(&ts, NULL);
			if (reopen_log) {
				reopen_log = 0;
				if (calllog_reopen(calls, err, sizeof(err)))
					fprintf(stderr, "mcpwire: %s; still writing to the old file\n",
						err);
			}
			metrics_publish(m);
		}
		rc = 0;
	}
	http_server_stop(http);
	pcap_replay_close(r);
	return rc;
}

int main(int argc, char **argv)
{
	struct main_opts o = {
		.listen = ":9473",
		.request_timeout_s = 300,
		.dedup_window_ms = 1000,
		.session_idle_s = 3600,
		.cap_bytes = 1 << 20,
		.max_body = 16 << 20,
		.max_conns = 65536,
	};
	struct metrics_config mcfg = { 0 };
	struct mcp_config pcfg = { 0 };
	struct stream_config scfg = { 0 };
	struct capture_config ccfg = { 0 };
	struct metrics *m = NULL;
	struct mcp_state *mcp = NULL;
	struct stream_table *st = NULL;
	struct http_server *http = NULL;
	struct capture *cap = NULL;
	struct calllog *calls = NULL;
	struct netobs *net = NULL;
	struct attrib *attrib = NULL;
	struct main_prime prime = { 0 };
	struct proto_sink prime_sink;
	char kubelet_url[300] = "";
	struct scope *scope = NULL;
	struct sigaction sa = { .sa_handler = main_on_signal };
	struct sigaction sa_hup = { .sa_handler = main_on_hup };
	char err[512] = "";
	/* the bridge of --network/--bridge, NULL: the whole host; also for the
	 * stages that attach to the bridge's veths */
	char scope_bridge_buf[IF_NAMESIZE] = "";
	const char *scope_bridge = NULL;
	uint64_t next_tick = 0;
	int rc;

	rc = main_parse_args(argc, argv, &o);
	if (rc)
		return rc > 0 ? 0 : 2;

	if (!o.read && capture_preflight(err, sizeof(err))) {
		fprintf(stderr, "mcpwire: %s\n", err);
		return 1;
	}

	if (o.network || o.bridge) {
		struct scope_config sc = { 0 };

		if (scope_resolve_bridge(o.network, o.bridge, o.docker_socket, scope_bridge_buf,
					 sizeof(scope_bridge_buf), err, sizeof(err))) {
			fprintf(stderr, "mcpwire: %s\n", err);
			return 1;
		}
		scope_bridge = scope_bridge_buf;
		sc.bridge = scope_bridge;
		if (scope_open(&sc, &scope, err, sizeof(err))) {
			fprintf(stderr, "mcpwire: %s%s%s%s\n", err, o.network ? " (bridge of network '" : "",
				o.network ? o.network : "", o.network ? "')" : "");
			return 1;
		}
	}

	if (o.log_calls) {
		calls = calllog_open(o.log_calls, o.log_payloads, err, sizeof(err));
		if (!calls) {
			fprintf(stderr, "mcpwire: %s\n", err);
			return 1;
		}
	}

	m = metrics_new(&mcfg);
	pcfg.request_timeout_ns = (uint64_t)(o.request_timeout_s * 1e9);
	pcfg.dedup_window_ns = (uint64_t)(o.dedup_window_ms * 1e6);
	/* a replay has one socket per connection, never a second one to wait
	 * for: 1 ns (0 is the default) releases a client-side view at once */
	if (o.read)
		pcfg.dedup_window_ns = 1;
	pcfg.session_idle_ns = (uint64_t)(o.session_idle_s * 1e9);
	mcp = m ? mcp_new(&pcfg, m) : NULL;
	scfg.max_conns = (uint32_t)o.max_conns;
	scfg.max_body = (uint32_t)o.max_body;
	scfg.payloads = o.log_payloads;
	if (mcp && calls) {
		struct mcp_call_sink cs = calllog_sink(calls);

		if (mcp_set_call_sink(mcp, &cs)) {
			mcp_free(mcp);
			mcp = NULL;
		}
	}
	/* attribution: live capture only (a replay's pids are not this host's) */
	if (mcp && !o.read) {
		struct attrib_config acfg = { .docker_socket = o.docker_socket ? o.docker_socket :
										 DOCKER_ENGINE_SOCK,
					      .kubelet_token = KUBELET_TOKEN,
					      .kubelet_ca = KUBELET_CA };

		if (o.kubelet_url)
			snprintf(kubelet_url, sizeof(kubelet_url), "%s", o.kubelet_url);
		else
			kubelet_default_url(kubelet_url, sizeof(kubelet_url));
		acfg.kubelet_url = kubelet_url[0] ? kubelet_url : NULL;
		if (access(KUBELET_CA, R_OK))
			acfg.kubelet_ca = NULL;
		if (o.verbose)
			fprintf(stderr, "mcpwire: attribution: docker socket %s, kubelet %s\n",
				acfg.docker_socket, kubelet_url[0] ? kubelet_url : "none");
		attrib = attrib_start(&acfg, err, sizeof(err));
		if (!attrib) {
			fprintf(stderr, "mcpwire: %s\n", err);
			rc = 1;
			goto cleanup;
		}
		struct mcp_identity_source src = { .lookup = main_identity, .arg = attrib };

		mcp_set_identity_source(mcp, &src);
		if (calls)
			calllog_set_identity_source(calls, &src);
		prime.attrib = attrib;
		prime.next = mcp_sink(mcp);
		prime_sink = (struct proto_sink){ .message = main_prime_message,
						  .session_end = main_prime_session_end,
						  .parse_error = main_prime_parse_error,
						  .arg = &prime };
	}
	st = mcp ? stream_table_new(&scfg, attrib ? &prime_sink : mcp_sink(mcp)) : NULL;
	if (!st) {
		fprintf(stderr, "mcpwire: out of memory\n");
		rc = 1;
		goto cleanup;
	}

	if (o.read) {
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		if (calls)
			sigaction(SIGHUP, &sa_hup, NULL);
		signal(SIGPIPE, SIG_IGN);
		rc = main_replay(&o, st, mcp, m, calls);
		goto cleanup;
	}

	/* Bind before attaching: a port in use must fail before the kernel
	 * probes cost anything. */
	http = http_server_start(o.listen, m, err, sizeof(err));
	if (!http) {
		fprintf(stderr, "mcpwire: %s\n", err);
		rc = 1;
		goto cleanup;
	}

	ccfg.cap_bytes = (uint32_t)o.cap_bytes;
	ccfg.tail_bytes = 64 * 1024;
	ccfg.ringbuf_bytes = 16 << 20;
	ccfg.max_conns = (uint32_t)o.max_conns;
	ccfg.self_tgid = (uint32_t)getpid();
	ccfg.verbose = o.verbose;
	ccfg.scoped = scope != NULL;
	rc = capture_open(&ccfg, st, &cap, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "mcpwire: %s\n", err);
		rc = 1;
		goto cleanup;
	}
	if (scope) {
		struct scope_stats ss;

		rc = capture_set_scope(cap, scope_namespaces(scope));
		if (rc)
			fprintf(stderr, "mcpwire: warning: cannot update the BPF scope map: %s\n",
				strerror(-rc));
		scope_stats(scope, &ss);
		fprintf(stderr, "mcpwire: scope: bridge %s%s%s%s, %u port(s), %u network namespace(s) "
			"in scope\n", scope_bridge, o.network ? " (Docker network " : "",
			o.network ? o.network : "", o.network ? ")" : "", ss.ports, ss.namespaces);
	}

	/* --- network side (netobs/): tc programs on the veths of the bridge
	 * of --bridge/--network --- */
	if (scope_bridge) {
		struct netobs_config ncfg = { .verbose = o.verbose };

		rc = netobs_start(&net, scope_bridge, &ncfg, err, sizeof(err));
		if (rc) {
			fprintf(stderr, "mcpwire: %s\n", err);
			rc = 1;
			goto cleanup;
		}
	}
	/* --- end of network side --- */

	main_report_kernel(cap, m, net ? scope_bridge : NULL);
	http_server_set_ready(http, 1);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (calls)
		sigaction(SIGHUP, &sa_hup, NULL);
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "mcpwire %s: capturing; metrics on http://%s%s/metrics\n",
		MCPWIRE_VERSION, o.listen[0] == ':' ? "0.0.0.0" : "", o.listen);

	while (!exiting) {
		uint64_t now;

		rc = capture_poll(cap, MAIN_TICK_MS);
		if (rc < 0 && rc != -EINTR) {
			fprintf(stderr, "mcpwire: ring buffer poll failed: %s\n", strerror(-rc));
			rc = 1;
			goto cleanup;
		}
		now = main_now_ns();
		if (reopen_log) {
			reopen_log = 0;
			if (calllog_reopen(calls, err, sizeof(err)))
				fprintf(stderr, "mcpwire: %s; still writing to the old file\n",
					err);
		}
		if (now >= next_tick) {
			/* link events wait for the tick: one recv per tick, not
			 * per ring-buffer wake-up */
			if (scope && scope_poll(scope, now) == 1) {
				rc = capture_set_scope(cap, scope_namespaces(scope));
				if (rc)
					fprintf(stderr, "mcpwire: warning: cannot update the BPF "
						"scope map: %s\n", strerror(-rc));
				if (o.verbose)
					fprintf(stderr, "mcpwire: scope: %u network namespace(s) "
						"in scope\n", scope_namespaces(scope)->n);
			}
			mcp_tick(mcp, now);
			if (calls) {
				calllog_flush(calls);
				metrics_call_log_errors_set(m, calllog_errors(calls));
			}
			main_export_totals(cap, st, m);
			netobs_poll(net, mcp, m, now); /* network side; NULL: no --bridge */
			main_export_attrib(attrib, m);
			if (scope)
				main_export_scope(scope, cap, m);
			metrics_publish(m);
			next_tick = now + MAIN_TICK_MS * 1000000ULL;
		}
	}
	/* The kernel side wakes us only past 256 KiB pending, so the last
	 * calls before SIGTERM may still be in the ring buffer: take them
	 * through the pipeline before the call log and the tables close. */
	capture_poll(cap, 0);
	rc = 0;

cleanup:
	netobs_stop(net); /* removes only the tc hooks mcpwire added */
	capture_close(cap);
	scope_close(scope);
	http_server_stop(http);
	stream_table_free(st);
	attrib_stop(attrib);
	mcp_free(mcp);
	calllog_close(calls);
	metrics_free(m);
	return rc;
}
