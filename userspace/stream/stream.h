/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * stream/ — per-connection byte streams, the entry point of the pipeline.
 *
 * Every source (live BPF capture, pcap replay, unit-test byte streams) calls
 * these three functions. The stage orders each connection's bytes by their
 * stream offset, trims overlaps, turns missing ranges into explicit gaps and
 * hands in-order bytes to proto/ (one struct proto_conn per connection).
 * It also joins the two sockets of one TCP connection seen on this host (the
 * client's connect()ed socket and the server's accept()ed one) into a flow,
 * so later stages can count each message once.
 *
 * Single-threaded: called only from the pipeline thread.
 */
#ifndef MCPWIRE_STREAM_H
#define MCPWIRE_STREAM_H

#include <stdint.h>
#include <stddef.h>

struct proto_sink;

/* Identity of one observed socket: tgid<<32|fd is reused by the kernel, the
 * generation number is not. */
struct stream_key {
	uint32_t tgid;
	uint32_t fd;
	uint64_t gen;
};

enum stream_dir {
	STREAM_RECV = 0, /* bytes the observing process read */
	STREAM_SEND = 1, /* bytes the observing process wrote */
};

/* sizeof(((struct sockaddr_un *)0)->sun_path) */
#define STREAM_UNIX_PATH_MAX 108

/* What is known of a socket when it is first seen (mirrors struct
 * mw_open_event, without the BPF header so other sources can fill it). */
struct stream_conn_info {
	uint32_t role;	 /* enum mw_role */
	uint32_t family; /* enum mw_family */
	uint32_t netns;
	uint16_t lport, rport;	 /* host byte order */
	/* MW_FAM_UNIX: the first 8 bytes of laddr and raddr identify this
	 * socket and its peer (0: none), never a kernel address (capture/
	 * hashes them), so that both ends of one connection carry the same
	 * unordered pair; path_len bytes of path are the server's address,
	 * as in struct mw_open_event. */
	uint8_t laddr[16], raddr[16];
	uint32_t tgid;
	char comm[16];
	uint32_t path_len;
	uint8_t path[STREAM_UNIX_PATH_MAX];
};

/* Events of one socket arrive in syscall order (the kernel assigns offsets at
 * syscall exit), so a chunk past the expected offset is a gap, never early
 * data: there is no reorder buffer. */
struct stream_config {
	uint32_t max_conns; /* live sockets tracked; the least recently active is evicted beyond */
	uint32_t max_body;  /* largest message body proto/ keeps, bytes */
	uint8_t payloads;   /* proto/ captures payload text (--log-payloads) */
};

/* Counters the stage exports through metrics (see stream_stats()). */
struct stream_stats {
	uint64_t conns_opened;
	uint64_t conns_evicted;	  /* max_conns reached */
	uint64_t gaps;		  /* missing ranges handed on as gaps */
	uint64_t gap_bytes;
	uint64_t overlap_bytes;	  /* duplicated bytes trimmed */
	uint64_t data_without_open; /* data for an unknown key: connection opened implicitly */
};

struct stream_table;

/* Returns NULL on allocation failure. sink receives every connection's
 * messages; it must outlive the table. */
struct stream_table *stream_table_new(const struct stream_config *cfg, const struct proto_sink *sink);
void stream_table_free(struct stream_table *st);

/* First sight of a socket. A second open for a live key replaces it. */
void stream_open(struct stream_table *st, const struct stream_key *key,
		 const struct stream_conn_info *info, uint64_t ts_ns);

/* len bytes at stream offset `offset` (bytes since first sight, per
 * direction). Data for a key never opened opens it with an unknown role.
 * ts_ns is CLOCK_MONOTONIC. after_cap marks bytes deliberately left out just
 * before this chunk (the capture cap), as opposed to bytes lost. */
void stream_data(struct stream_table *st, const struct stream_key *key, enum stream_dir dir,
		 uint64_t offset, const uint8_t *data, size_t len, int after_cap, uint64_t ts_ns);

/* close(): flushes and forgets the socket. Unknown keys are ignored. */
void stream_close(struct stream_table *st, const struct stream_key *key, uint64_t ts_ns);

void stream_stats(const struct stream_table *st, struct stream_stats *out);

#endif /* MCPWIRE_STREAM_H */
