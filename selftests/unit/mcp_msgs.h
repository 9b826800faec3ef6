/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Hand-built proto/ output for the tests of mcp/ and what sits behind it
 * (test_mcp.c, test_calllog.c): a wire context as the server's socket of a
 * Streamable HTTP server at 127.0.0.1:3001 (pid 4242, "node") sees it, and
 * JSON-RPC messages delivered through a proto_sink.
 */
#ifndef MCPWIRE_SELFTESTS_MCP_MSGS_H
#define MCPWIRE_SELFTESTS_MCP_MSGS_H

#include <stdint.h>
#include "proto/msg.h"

void mcp_msgs_str(struct mcp_str *d, const char *s);
void mcp_msgs_id(struct jsonrpc_id *id, uint8_t type, const char *text);

/* ts_ns is CLOCK_MONOTONIC; session "" and exchange 0 mean none. */
struct mcp_wire_ctx mcp_msgs_ctx(uint64_t ts_ns, uint8_t dir, const char *session,
				 uint64_t exchange);

/* name and uri may be NULL. */
void mcp_msgs_request(const struct proto_sink *sink, const struct mcp_wire_ctx *c,
		      const char *method, uint8_t id_type, const char *id, const char *name,
		      const char *uri);
void mcp_msgs_result(const struct proto_sink *sink, const struct mcp_wire_ctx *c,
		     uint8_t id_type, const char *id, int is_error);
void mcp_msgs_error(const struct proto_sink *sink, const struct mcp_wire_ctx *c,
		    uint8_t id_type, const char *id, int64_t code);
/* cancel_id NULL: a notification without params.requestId. */
void mcp_msgs_notification(const struct proto_sink *sink, const struct mcp_wire_ctx *c,
			   const char *method, uint8_t cancel_type, const char *cancel_id);

#endif /* MCPWIRE_SELFTESTS_MCP_MSGS_H */
