/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * proto/stdio — the MCP stdio transport (mcp-wire.md §5): newline-delimited
 * JSON-RPC on the server's stdin and stdout, seen at the server's own fds.
 *
 * The capture traces pipes and unix socketpairs only on fd 0 (reads) and
 * fd 1 (writes) of a process (bpf/mcpwire.bpf.c, mw_family_traced()): the
 * stdio server reads requests on its stdin and writes answers on its stdout
 * (transports.mdx), whatever the client is (Python's subprocess gives pipes,
 * Node's child_process unix socketpairs). So every message is seen once, at
 * the server's syscalls: bytes read on fd 0 are client_to_server, bytes
 * written on fd 1 server_to_client, observer MCP_OBS_SERVER. The pairing
 * scope is the server process (ctx->tgid, the same on both fds) with the
 * endpoint label, which mcp/ uses when session is "" and exchange 0.
 * An fd other than 0/1 (another source, or a client's end) is ignored: its
 * bytes are the server end's bytes again.
 *
 * Framing: one message per line; "\r\n" is tolerated (the JSON scanner skips
 * the '\r'), empty lines are ignored, a line longer than max_body is a
 * "too_large" parse error and skipped to its '\n', and after a gap (lost
 * bytes) the rest of the line is skipped: parsing resumes at the next '\n'.
 * Any split of the stream gives the same messages.
 *
 * Pipes carry much else that may start like JSON-RPC (a jq pipeline): until
 * the stream has carried one JSON-RPC message, lines that are not JSON-RPC are
 * not parse errors, and after STDIO_GIVE_UP such lines the stream is ignored.
 *
 * The server endpoint label is "stdio:<command>", the command taken from
 * /proc/<tgid>/cmdline (the script or package name for node, python, npx,
 * uvx, …: "stdio:server-memory"), else the process name.
 */
#ifndef MCPWIRE_PROTO_STDIO_H
#define MCPWIRE_PROTO_STDIO_H

#include <stddef.h>
#include <stdint.h>
#include "stream/stream.h"
#include "proto/msg.h"

/* Lines that are not JSON-RPC before the first one that is, then ignored. */
#define STDIO_GIVE_UP 16
/* Longest command name kept in the label, bytes. */
#define STDIO_CMD_MAX 48

struct stdio_conn_params {
	uint64_t flow_id;
	uint32_t tgid;
	uint32_t fd;	  /* 0: the server's stdin, 1: its stdout */
	char comm[16];
	uint32_t max_body; /* longest line kept for parsing, bytes (0: 16 MiB) */
	uint8_t payloads;  /* capture payload text (proto_conn_params.payloads) */
};

struct stdio_conn;

/* NULL on allocation failure. sink must outlive the connection. Reads
 * /proc/<tgid>/cmdline (cached per process) for the label. */
struct stdio_conn *stdio_conn_new(const struct stdio_conn_params *p, const struct proto_sink *sink);

/* In-order bytes of one direction of the fd. */
void stdio_conn_data(struct stdio_conn *c, enum stream_dir dir, const uint8_t *data, size_t len,
		     uint64_t ts_ns);

/* nbytes of this direction are missing: the line in progress is lost, unless
 * after_cap (left out by the capture cap) and its message comes out of the
 * head and the tail once its '\n' arrives (proto/tail.h). */
void stdio_conn_gap(struct stdio_conn *c, enum stream_dir dir, uint64_t nbytes, int after_cap,
		    uint64_t ts_ns);

/* The fd closed (or its process exited). For the server's stdin that ends the
 * stdio session (proto_sink.session_end, session "" and exchange 0). A last
 * line without its '\n' is dropped: ts-v1 and py end every message with one.
 * Safe on NULL. */
void stdio_conn_free(struct stdio_conn *c, uint64_t ts_ns);

/*
 * The command name for "stdio:<command>" from a NUL-separated argv (the bytes
 * of /proc/<pid>/cmdline, len of them): the program's base name, or for an
 * interpreter or runner (node, python3, npx, uvx, …) the script's or
 * package's name: ".../node_modules/@scope/server-memory/dist/index.js" and
 * "npx -y @scope/server-memory@1.0" give "server-memory", "python3 -m
 * mcp_server_git" gives "mcp_server_git". Bytes outside [A-Za-z0-9._+@-] become
 * '_', and at most STDIO_CMD_MAX bytes are kept. Writes "" when argv gives
 * nothing. out must hold STDIO_CMD_MAX + 1 bytes.
 */
void stdio_command_name(const char *argv, size_t len, char *out);

#endif /* MCPWIRE_PROTO_STDIO_H */
