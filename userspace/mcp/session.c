// SPDX-License-Identifier: GPL-2.0-only
/*
 * mcp/session — server endpoints (naming) and sessions.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp/session.h"

/* --- endpoints --- */

int mcp_endpoints_init(struct mcp_endpoints *e, uint32_t cap, struct metrics *m)
{
	e->m = m;
	if (mcp_table_init(&e->t, cap))
		return -ENOMEM;
	e->ents = calloc(e->t.cap, sizeof(*e->ents));
	if (!e->ents) {
		mcp_table_fini(&e->t);
		return -ENOMEM;
	}
	return 0;
}

void mcp_endpoints_fini(struct mcp_endpoints *e)
{
	/* the registry may already be gone: series references die with it */
	mcp_table_fini(&e->t);
	free(e->ents);
	e->ents = NULL;
}

static uint32_t mcp_str_hash(const char *s)
{
	return mw_hash(MW_HASH_INIT, s, strlen(s));
}

uint32_t mcp_endpoint_get(struct mcp_endpoints *e, const char *label)
{
	uint32_t h = mcp_str_hash(label);
	uint32_t slot = mcp_table_first(&e->t, h);
	struct mcp_endpoint_ent *ent;

	for (; slot != MCP_TABLE_NONE; slot = mcp_table_next(&e->t, slot)) {
		if (!strcmp(e->ents[slot].label, label)) {
			mcp_table_touch(&e->t, slot);
			return slot;
		}
	}
	if (e->t.count == e->t.cap) {
		uint32_t old = mcp_table_oldest(&e->t);

		metrics_server_info_put(e->m, e->ents[old].info);
		mcp_table_remove(&e->t, old);
		metrics_table_eviction(e->m, "endpoints");
	}
	slot = mcp_table_insert(&e->t, h);
	ent = &e->ents[slot];
	memset(ent, 0, sizeof(*ent));
	snprintf(ent->label, sizeof(ent->label), "%s", label);
	snprintf(ent->name, sizeof(ent->name), "%s", label);
	return slot;
}

uint32_t mcp_endpoint_find(const struct mcp_endpoints *e, const char *label)
{
	uint32_t h = mcp_str_hash(label);

	for (uint32_t slot = mcp_table_first(&e->t, h); slot != MCP_TABLE_NONE;
	     slot = mcp_table_next(&e->t, slot))
		if (!strcmp(e->ents[slot].label, label))
			return slot;
	return MCP_TABLE_NONE;
}

uint32_t mcp_endpoint_server(struct mcp_endpoints *e, uint32_t slot)
{
	struct mcp_endpoint_ent *ent = &e->ents[slot];

	/* __other__ is not kept: each resolution to it counts as overflow */
	if (!ent->server)
		ent->server = metrics_server(e->m, ent->name, ent->name_truncated);
	return ent->server;
}

/* The endpoint's mcp_server_info from what it holds now: the initialize
 * result's values and the placement. None before either is known. */
static void mcp_endpoint_info(struct mcp_endpoints *e, uint32_t slot)
{
	struct mcp_endpoint_ent *ent = &e->ents[slot];
	struct metrics_placement where = { ent->where.container, ent->where.pod, ent->where.ns };
	struct metrics_series *info = NULL;
	uint32_t server = mcp_endpoint_server(e, slot);

	/* take the new reference first, so an unchanged series is not recreated */
	if (ent->initialized || ent->where.container[0] || ent->where.pod[0])
		info = metrics_server_info_get(e->m, server, ent->version, ent->version_truncated,
					       ent->protocol, ent->protocol_truncated,
					       ent->transport, &where);
	metrics_server_info_put(e->m, ent->info);
	ent->info = info;
}

void mcp_endpoint_initialized(struct mcp_endpoints *e, uint32_t slot, const struct mcp_str *name,
			      const struct mcp_str *version, const struct mcp_str *protocol,
			      uint8_t transport)
{
	struct mcp_endpoint_ent *ent = &e->ents[slot];
	uint32_t h1, h2;
	uint64_t h;

	h1 = mw_hash(MW_HASH_INIT, name->s, name->len + 1);
	h2 = mw_hash(h1 ^ transport, version->s, version->len + 1);
	h2 = mw_hash(h2 ^ (name->truncated | version->truncated << 1 | protocol->truncated << 2),
		      protocol->s, protocol->len + 1);
	h = (uint64_t)h1 << 32 | h2;
	if (ent->info && ent->info_hash == h)
		return;
	ent->info_hash = h;
	if (name->len || name->truncated) {
		snprintf(ent->name, sizeof(ent->name), "%s", name->s);
		ent->name_truncated = name->truncated;
		ent->named = 1;
		ent->server = 0;
	}
	ent->initialized = 1;
	ent->transport = transport;
	snprintf(ent->version, sizeof(ent->version), "%s", version->s);
	ent->version_truncated = version->truncated;
	snprintf(ent->protocol, sizeof(ent->protocol), "%s", protocol->s);
	ent->protocol_truncated = protocol->truncated;
	mcp_endpoint_info(e, slot);
}

int mcp_endpoint_placed(struct mcp_endpoints *e, uint32_t slot, const struct mcp_identity *where,
			int network, uint8_t transport)
{
	struct mcp_endpoint_ent *ent = &e->ents[slot];
	int renamed = 0;

	if (!memcmp(&ent->where, where, sizeof(*where)))
		return 0;
	ent->where = *where;
	if (!ent->initialized)
		ent->transport = transport;
	/* the container's name beats "<ip>:<port>", never serverInfo.name */
	if (!ent->named && network && where->container_named && where->container[0] &&
	    strcmp(ent->name, where->container)) {
		snprintf(ent->name, sizeof(ent->name), "%s", where->container);
		ent->name_truncated = 0;
		ent->server = 0;
		renamed = 1;
	}
	mcp_endpoint_info(e, slot);
	return renamed;
}

/* --- sessions --- */

int mcp_sessions_init(struct mcp_sessions *s, uint32_t cap, struct metrics *m)
{
	s->m = m;
	s->gen = 0;
	if (mcp_table_init(&s->t, cap))
		return -ENOMEM;
	s->ents = calloc(s->t.cap, sizeof(*s->ents));
	if (!s->ents) {
		mcp_table_fini(&s->t);
		return -ENOMEM;
	}
	return 0;
}

void mcp_sessions_fini(struct mcp_sessions *s)
{
	mcp_table_fini(&s->t);
	free(s->ents);
	s->ents = NULL;
}

static uint32_t mcp_session_hash(const char *label, const char *sid, uint64_t proc)
{
	uint32_t h = mw_hash(MW_HASH_INIT, label, strlen(label) + 1);

	h = mw_hash(h, sid, strlen(sid) + 1);
	return mw_hash(h, &proc, sizeof(proc));
}

static uint32_t mcp_session_lookup(const struct mcp_sessions *s, uint32_t h, const char *label,
				   const char *sid, uint64_t proc)
{
	uint32_t slot = mcp_table_first(&s->t, h);

	for (; slot != MCP_TABLE_NONE; slot = mcp_table_next(&s->t, slot)) {
		const struct mcp_session *e = &s->ents[slot];

		if (e->proc == proc && !strcmp(e->sid, sid) && !strcmp(e->label, label))
			return slot;
	}
	return MCP_TABLE_NONE;
}

uint32_t mcp_session_find(const struct mcp_sessions *s, const char *label, const char *sid,
			  uint64_t proc)
{
	return mcp_session_lookup(s, mcp_session_hash(label, sid, proc), label, sid, proc);
}

uint32_t mcp_session_get(struct mcp_sessions *s, const char *label, const char *sid,
			 uint64_t proc, uint64_t ts_ns)
{
	uint32_t h = mcp_session_hash(label, sid, proc);
	uint32_t slot = mcp_session_lookup(s, h, label, sid, proc);
	struct mcp_session *e;

	if (slot == MCP_TABLE_NONE) {
		if (s->t.count == s->t.cap) {
			mcp_session_end(s, mcp_table_oldest(&s->t));
			metrics_table_eviction(s->m, "sessions");
		}
		slot = mcp_table_insert(&s->t, h);
		e = &s->ents[slot];
		memset(e, 0, sizeof(*e));
		snprintf(e->label, sizeof(e->label), "%s", label);
		snprintf(e->sid, sizeof(e->sid), "%s", sid);
		e->proc = proc;
		/* pending requests of the slot's previous session must not match */
		e->gen = ++s->gen;
	}
	e = &s->ents[slot];
	if (ts_ns > e->last_ns)
		e->last_ns = ts_ns;
	mcp_table_touch(&s->t, slot);
	return slot;
}

void mcp_session_start(struct mcp_sessions *s, uint32_t slot, uint32_t server, uint8_t transport)
{
	struct mcp_session *e = &s->ents[slot];

	if (e->active)
		return;
	e->active = 1;
	e->server = server;
	e->transport = transport;
	metrics_sessions_add(s->m, server, transport, 1);
}

void mcp_session_end(struct mcp_sessions *s, uint32_t slot)
{
	struct mcp_session *e = &s->ents[slot];

	if (e->active)
		metrics_sessions_add(s->m, e->server, e->transport, -1);
	e->active = 0;
	mcp_table_remove(&s->t, slot);
}

void mcp_sessions_expire(struct mcp_sessions *s, uint64_t now_ns, uint64_t idle_ns)
{
	uint32_t slot;

	/* the age list is in order of use, so the idle ones are at its head */
	while ((slot = mcp_table_oldest(&s->t)) != MCP_TABLE_NONE) {
		if (s->ents[slot].last_ns + idle_ns > now_ns)
			break;
		mcp_session_end(s, slot);
	}
}
