// SPDX-License-Identifier: GPL-2.0-only
/* See mcp_msgs.h. */
#include <stdio.h>
#include <string.h>

#include "mcp_msgs.h"

void mcp_msgs_str(struct mcp_str *d, const char *s)
{
	d->len = (uint16_t)strlen(s);
	d->truncated = 0;
	snprintf(d->s, sizeof(d->s), "%s", s);
}

void mcp_msgs_id(struct jsonrpc_id *id, uint8_t type, const char *text)
{
	id->type = type;
	id->len = (uint8_t)strlen(text);
	id->truncated = 0;
	snprintf(id->text, sizeof(id->text), "%s", text);
}

struct mcp_wire_ctx mcp_msgs_ctx(uint64_t ts_ns, uint8_t dir, const char *session,
				 uint64_t exchange)
{
	struct mcp_wire_ctx c;

	memset(&c, 0, sizeof(c));
	c.ts_ns = ts_ns;
	c.dir = dir;
	c.observer = MCP_OBS_SERVER;
	c.transport = MCP_TRANSPORT_STREAMABLE_HTTP;
	c.server.family = 2; /* AF_INET */
	c.server.port = 3001;
	snprintf(c.server.label, sizeof(c.server.label), "127.0.0.1:3001");
	c.tgid = 4242;
	snprintf(c.comm, sizeof(c.comm), "node");
	snprintf(c.session, sizeof(c.session), "%s", session);
	c.exchange = exchange;
	return c;
}

void mcp_msgs_request(const struct proto_sink *sink, const struct mcp_wire_ctx *c,
		      const char *method, uint8_t id_type, const char *id, const char *name,
		      const char *uri)
{
	struct jsonrpc_msg m;

	memset(&m, 0, sizeof(m));
	m.kind = JSONRPC_REQUEST;
	mcp_msgs_id(&m.id, id_type, id);
	mcp_msgs_str(&m.method, method);
	if (name)
		mcp_msgs_str(&m.name, name);
	if (uri)
		mcp_msgs_str(&m.uri, uri);
	sink->message(sink->arg, c, &m);
}

void mcp_msgs_result(const struct proto_sink *sink, const struct mcp_wire_ctx *c,
		     uint8_t id_type, const char *id, int is_error)
{
	struct jsonrpc_msg m;

	memset(&m, 0, sizeof(m));
	m.kind = JSONRPC_RESULT;
	mcp_msgs_id(&m.id, id_type, id);
	m.is_error = (uint8_t)is_error;
	sink->message(sink->arg, c, &m);
}

void mcp_msgs_error(const struct proto_sink *sink, const struct mcp_wire_ctx *c,
		    uint8_t id_type, const char *id, int64_t code)
{
	struct jsonrpc_msg m;

	memset(&m, 0, sizeof(m));
	m.kind = JSONRPC_ERROR;
	mcp_msgs_id(&m.id, id_type, id);
	m.has_error_code = 1;
	m.error_code = code;
	sink->message(sink->arg, c, &m);
}

void mcp_msgs_notification(const struct proto_sink *sink, const struct mcp_wire_ctx *c,
			   const char *method, uint8_t cancel_type, const char *cancel_id)
{
	struct jsonrpc_msg m;

	memset(&m, 0, sizeof(m));
	m.kind = JSONRPC_NOTIFICATION;
	mcp_msgs_str(&m.method, method);
	if (cancel_id)
		mcp_msgs_id(&m.cancel_id, cancel_type, cancel_id);
	sink->message(sink->arg, c, &m);
}
