/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What proto/ hands to mcp/: one JSON-RPC message at a time, with where it was
 * seen. Plain structs with fixed-size strings, so the receiver copies nothing
 * it does not keep and no pointer outlives the call.
 *
 * Sources: JSON-RPC 2.0 (jsonrpc.org/specification), MCP 2025-11-25
 * basic/index.mdx and transports.mdx; see shared/docs/mcp-wire.md §1–§5.
 */
#ifndef MCPWIRE_PROTO_MSG_H
#define MCPWIRE_PROTO_MSG_H

#include <stdint.h>

/* Room for a 128-character tool name (the spec's SHOULD limit) plus NUL. */
#define MCP_STR_MAX 160
#define JSONRPC_ID_MAX 64

/* A string taken from the wire, JSON escapes decoded to UTF-8, NUL-terminated.
 * truncated is set when the value was longer than MCP_STR_MAX - 1 bytes;
 * s then holds its first bytes and must not be used as a label as is. */
struct mcp_str {
	uint16_t len;
	uint8_t truncated;
	char s[MCP_STR_MAX];
};

enum jsonrpc_kind {
	JSONRPC_INVALID = 0,	  /* not a JSON-RPC message (counted as a parse error upstream) */
	JSONRPC_REQUEST = 1,	  /* method + id */
	JSONRPC_NOTIFICATION = 2, /* method, no id */
	JSONRPC_RESULT = 3,	  /* result + id */
	JSONRPC_ERROR = 4,	  /* error (+ id, possibly null or absent) */
};

enum jsonrpc_id_type {
	JSONRPC_ID_NONE = 0, /* absent */
	JSONRPC_ID_NULL = 1,
	JSONRPC_ID_NUM = 2,  /* text holds the JSON number token as written */
	JSONRPC_ID_STR = 3,  /* text holds the decoded string */
};

/* Ids pair by (type, text): 5 and "5" are different ids (JSON-RPC 2.0 §4). */
struct jsonrpc_id {
	uint8_t type; /* enum jsonrpc_id_type */
	uint8_t len;
	uint8_t truncated;
	char text[JSONRPC_ID_MAX];
};

/* Longest payload text kept (struct jsonrpc_payload): enough for the
 * arguments and results an operator reads in a log line, small enough that
 * each scanner capturing one needs a single fixed buffer. */
#define JSONRPC_PAYLOAD_MAX 4096

/* Raw JSON text of a payload value, exactly as on the wire once HTTP
 * de-chunking, decompression and SSE joining are undone. Captured only when
 * the scanner was asked to (--log-payloads); text is NULL otherwise. text
 * points into the scanner and is valid for the duration of the sink call
 * only. truncated: the value was longer than JSONRPC_PAYLOAD_MAX bytes and
 * text holds its first len bytes (not valid JSON). */
struct jsonrpc_payload {
	const char *text;
	uint32_t len;
	uint8_t truncated;
};

/* The fields of one JSON-RPC message that mcpwire reads (mcp-wire.md
 * checklist step 2); everything else is skipped without being stored. */
struct jsonrpc_msg {
	uint8_t kind;		  /* enum jsonrpc_kind */
	struct jsonrpc_id id;
	struct mcp_str method;	  /* requests and notifications */
	struct mcp_str name;	  /* params.name: tools/call, prompts/get (or Mcp-Name, conn.c) */
	struct mcp_str uri;	  /* params.uri: resources/read, subscribe, … */
	struct jsonrpc_id cancel_id; /* params.requestId of notifications/cancelled */
	uint8_t is_error;	  /* result.isError === true (tool execution error) */
	uint8_t has_task;	  /* params.task or result.task present (2025-11-25 tasks) */
	/* Read from the head and tail around a hole of the capture cap
	 * (proto/tail.h): every field above is as sure as in a whole message,
	 * and mcp/ counts it as one; only its middle was not seen. */
	uint8_t recovered;
	uint8_t has_error_code;
	int64_t error_code;	  /* error.code */
	/* initialize (lifecycle.mdx): params.* on the request, result.* on the
	 * answer. A 2026-07-28 result (stateless, no initialize) carries the
	 * same in result._meta["io.modelcontextprotocol/serverInfo"] and
	 * ["…/protocolVersion"]; proto/conn fills protocol_version of a result
	 * naming its server from the request's MCP-Protocol-Version header when
	 * the body has none. */
	struct mcp_str protocol_version; /* params.protocolVersion / result.protocolVersion */
	struct mcp_str peer_name;	 /* params.clientInfo.name / result.serverInfo.name */
	struct mcp_str peer_version;	 /* params.clientInfo.version / result.serverInfo.version */
	/* With payload capture only (jsonrpc_scan_set_capture()). */
	struct jsonrpc_payload arguments; /* params.arguments */
	struct jsonrpc_payload result;	  /* result */
	struct jsonrpc_payload error;	  /* error */
};

enum mcp_dir {
	MCP_C2S = 0, /* client_to_server */
	MCP_S2C = 1, /* server_to_client */
};

enum mcp_transport {
	MCP_TRANSPORT_STREAMABLE_HTTP = 0, /* label "streamable_http" */
	MCP_TRANSPORT_SSE = 1,		   /* legacy HTTP+SSE, label "sse" */
	MCP_TRANSPORT_STDIO = 2,	   /* label "stdio" */
};

/* Which of the two sockets of a connection saw the message. */
enum mcp_observer {
	MCP_OBS_SERVER = 0, /* the server's socket: reads requests, writes answers */
	MCP_OBS_CLIENT = 1,
};

/* A server endpoint; label is the fallback server_name: "<ip>:<port>"
 * ("[v6]:port" for IPv6), "unix:<path>" ("unix:@name" for an abstract
 * socket, "unix:unnamed") or "stdio:<command>". */
struct mcp_endpoint {
	uint8_t family;	 /* AF_INET, AF_INET6, AF_UNIX, or 0 for stdio */
	uint16_t port;	 /* host byte order; 0 for AF_UNIX */
	uint8_t addr[16]; /* AF_UNIX: the socket's identity (stream.h), not an address */
	char label[120];  /* room for "unix:" and a whole 108-byte sun_path */
};

/* Where and when a message was seen. */
struct mcp_wire_ctx {
	uint64_t ts_ns;	   /* CLOCK_MONOTONIC of the syscall that completed the message */
	uint64_t flow_id;  /* same for both sockets of one connection; never reused */
	uint8_t observer;  /* enum mcp_observer */
	uint8_t dir;	   /* enum mcp_dir */
	uint8_t transport; /* enum mcp_transport */
	struct mcp_endpoint server;
	uint32_t tgid;	   /* observing process */
	char comm[16];
	/* Pairing scope (design.md "Userspace"): the Mcp-Session-Id sent with the
	 * HTTP request that carried or solicited the message; when the request had
	 * none, the one set on its response (initialize creates the session);
	 * the legacy transport's sessionId; "" when none is known. */
	char session[128];
	/* Mcp-Session-Id set by this HTTP response ("" if none): a session the
	 * server just created. */
	char new_session[128];
	/* Unique id of the HTTP exchange (request + its response) that carried
	 * the message, 0 outside HTTP. A response on the stream of a POST pairs
	 * with the POST's request through it when there is no session yet. */
	uint64_t exchange;
	uint16_t http_status; /* status of the response carrying the message; 0 in requests */
};

/* Receiver of proto/'s output. All callbacks run on the pipeline thread;
 * pointers are valid for the duration of the call only. */
struct proto_sink {
	/* One JSON-RPC message (each element of a batch separately). For an HTTP
	 * error status (>= 400) answering a request, proto/ emits one
	 * JSONRPC_ERROR per request id of that exchange with ctx->http_status
	 * set, instead of the body's id-null error object. */
	void (*message)(void *arg, const struct mcp_wire_ctx *ctx, const struct jsonrpc_msg *msg);
	/* A DELETE of ctx->session was answered 2xx, or the GET stream of a
	 * legacy HTTP+SSE session ended (that transport has no DELETE): the
	 * session ended. */
	void (*session_end)(void *arg, const struct mcp_wire_ctx *ctx);
	/* Input that could not be understood. reason is a static string from a
	 * small fixed set (the mcpwire_parse_errors_total reason label):
	 * "http", "chunked", "decompress", "sse", "json", "not_jsonrpc",
	 * "too_large", "gap". */
	void (*parse_error)(void *arg, const struct mcp_wire_ctx *ctx, const char *reason);
	void *arg;
};

#endif /* MCPWIRE_PROTO_MSG_H */
