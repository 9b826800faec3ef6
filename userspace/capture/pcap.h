/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * capture/pcap — the offline source: replays a packet capture (tcpdump's
 * pcap or pcapng, read with libpcap) into stream/, the same entry point as
 * the live BPF capture (design.md "pcap file (--read, offline)"; docs/replay.md).
 *
 * Each TCP connection becomes one stream "socket" seen from the server's side:
 * role MW_ROLE_SERVER, local address and port the server's, bytes from the
 * client STREAM_RECV and bytes to it STREAM_SEND, so mcp/ counts it as it
 * counts a server socket on this host. The client is the SYN's sender; a
 * connection whose handshake is not in the file gets MW_ROLE_UNKNOWN and
 * proto/ tells the roles from the content.
 *
 * Stream offsets are TCP sequence numbers relative to the first byte seen
 * (the SYN's, when present). Retransmitted and overlapping bytes go to
 * stream/, which trims them; segments ahead of the expected offset wait in a
 * bounded per-direction buffer and a hole that outlives it, a FIN, a RST or
 * the end of the file becomes a gap. Checksums are not checked (captures
 * taken on the sending host carry offloaded, unfilled ones).
 *
 * Times: the pipeline runs on capture time, moved onto CLOCK_MONOTONIC's
 * scale (first packet = the moment the replay opened), so request expiry,
 * session idleness and the dedup window measure capture time; the offset
 * pcap_replay_clock_offset() turns them back into the capture's wall clock.
 *
 * Single-threaded: runs on the pipeline thread, like capture/capture.h.
 */
#ifndef MCPWIRE_CAPTURE_PCAP_H
#define MCPWIRE_CAPTURE_PCAP_H

#include <stddef.h>
#include <stdint.h>

struct stream_table;

/* Zero in any field selects its default. */
struct pcap_replay_config {
	uint32_t max_conns;	/* TCP connections tracked at once [65536] */
	uint32_t reorder_bytes; /* out-of-order bytes held per direction [4 MiB] */
	uint64_t tick_ns;	/* capture time between tick callbacks [100 ms] */
};

/* Packets or bytes skipped, exported as mcpwire_events_lost_total{reason}. */
enum pcap_replay_lost {
	PCAP_LOST_TRUNCATED = 0,   /* packets cut by the snapshot length */
	PCAP_LOST_FRAGMENT,	   /* IP fragments: not reassembled */
	PCAP_LOST_MALFORMED,	   /* IP or TCP headers that do not hold together */
	PCAP_LOST_REORDER_OVERFLOW, /* holes given up on because the buffer was full */
	PCAP_LOST_CONN_TABLE_FULL, /* live connections evicted at max_conns */
	PCAP_LOST__MAX,
};

struct pcap_replay_stats {
	uint64_t packets;	/* records read */
	uint64_t tcp_segments;	/* TCP packets handled */
	uint64_t not_tcp;	/* other link, network or transport protocols: not MCP */
	uint64_t after_close;	/* segments of a connection already closed (RST, FINs) */
	uint64_t payload_bytes; /* TCP payload captured */
	uint64_t conns;		/* connections opened */
	uint64_t lost[PCAP_LOST__MAX];
};

struct pcap_replay;

/* Called every cfg.tick_ns of capture time and once at the end, with the
 * pipeline time; non-zero stops the replay (SIGINT). */
typedef int (*pcap_replay_tick_fn)(void *arg, uint64_t now_ns);

/*
 * Opens path and reads its first record. Returns 0, or -errno with one line
 * in err: the file is missing or unreadable, is not a capture, or has a link
 * type other than Ethernet (with 802.1Q/802.1ad tags), Linux cooked (SLL,
 * SLL2), raw IP, or BSD loopback (NULL, LOOP). st must outlive the replay.
 */
int pcap_replay_open(const char *path, const struct pcap_replay_config *cfg,
		     struct stream_table *st, struct pcap_replay **out, char *err, size_t errlen);

/* CLOCK_REALTIME − pipeline clock, ns: for metrics_set_clock() and
 * calllog_set_clock_offset(), so exported times are the capture's. */
int64_t pcap_replay_clock_offset(const struct pcap_replay *r);

/*
 * Replays every record. Connections closed in the file are closed in stream/;
 * at the end the held out-of-order data is flushed (as gaps) and connections
 * that had begun closing are closed, the rest stay open like sockets still
 * open. Returns 0 at the end of the file, 1 when tick asked to stop, or
 * -EIO with a line in err when the file ends in a damaged record (what came
 * before it has been replayed).
 */
int pcap_replay_run(struct pcap_replay *r, pcap_replay_tick_fn tick, void *arg, char *err,
		    size_t errlen);

void pcap_replay_stats(const struct pcap_replay *r, struct pcap_replay_stats *out);
/* "pcap_truncated", "pcap_ip_fragment", "pcap_malformed",
 * "pcap_reorder_overflow", "pcap_conn_table_full"; "unknown" otherwise. */
const char *pcap_replay_lost_name(int reason);

/* Frees everything; connections still open stay open in stream/. NULL-safe. */
void pcap_replay_close(struct pcap_replay *r);

#endif /* MCPWIRE_CAPTURE_PCAP_H */
