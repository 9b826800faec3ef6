#!/usr/bin/env node
// SPDX-License-Identifier: GPL-2.0-only
//
// A real MCP server answering with JSON bodies (mcp-wire.md §5): the official
// TypeScript SDK (v1, pinned in package.json), McpServer behind
// StreamableHTTPServerTransport with enableJsonResponse: true, one transport
// per session, on node:http. Used by http-full.sh.
//
//   node json-server.mjs [--port 3002] [--host 0.0.0.0] [--socket PATH] [--sse]
//                        [--name SERVER_NAME]
//
// --socket PATH listens on a unix socket at PATH instead (an existing file
// there is removed first; @NAME is the abstract socket NAME); --sse answers
// POSTs with SSE streams, the SDK's default, instead of JSON bodies; --name
// sets serverInfo.name, so several of these servers can be told apart.
//
// Paths:
//   /mcp          the server: sessions, JSON answers, the standalone GET
//                 stream, DELETE; the SDK's own 400/404/406/415 answers.
//   /mcp-nostream the same sessions, but this server refuses the standalone
//                 GET stream and DELETE with 405 (both allowed by the spec).
//   /mcp-2026     FIXTURE, not an SDK server: no SDK speaks the 2026-07-28
//                 revision yet (mcp-wire.md §8), so this answers stateless
//                 requests (no initialize, no session) by hand in that
//                 revision's shape: a JSON result carrying
//                 _meta["io.modelcontextprotocol/serverInfo"], and -32020
//                 when Mcp-Method disagrees with the body. It only exists so
//                 mcpwire can be shown real 2026-07-28 bytes over a socket.
//
// Tools (mirroring server-everything's where client.mjs needs them): echo,
// get-sum, get-tiny-image, get-env, plus fail-throw (throws: McpServer turns
// it into isError), fail-iserror (returns isError: true). Prompt "greet",
// resource "mem://readme".

import { rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

const { values: opt } = parseArgs({
	options: {
		port: { type: 'string', default: '3002' },
		host: { type: 'string', default: '0.0.0.0' },
		socket: { type: 'string' },
		sse: { type: 'boolean', default: false },
		// serverInfo.name, so several of these servers can be told apart
		// in /metrics (scope.sh)
		name: { type: 'string', default: '' },
	},
});

export const NAME = 'mcpwire-json-server';
export const VERSION = '1.2.3';
const TINY_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg==';

function newServer() {
	const s = new McpServer({ name: opt.name || NAME, version: VERSION });
	const text = (t) => ({ content: [{ type: 'text', text: t }] });
	s.registerTool('echo', { inputSchema: { message: z.string() } }, async ({ message }) => text(`Echo: ${message}`));
	s.registerTool('get-sum', { inputSchema: { a: z.number(), b: z.number() } }, async ({ a, b }) => text(String(a + b)));
	s.registerTool('get-tiny-image', {}, async () => ({
		content: [{ type: 'image', data: TINY_PNG, mimeType: 'image/png' }],
	}));
	s.registerTool('get-env', {}, async () => text(JSON.stringify({ PATH: process.env.PATH ?? '' })));
	s.registerTool('fail-throw', {}, async () => {
		throw new Error('fail-throw always throws');
	});
	s.registerTool('fail-iserror', {}, async () => ({ ...text('failed on purpose'), isError: true }));
	s.registerPrompt('greet', { argsSchema: { who: z.string() } }, ({ who }) => ({
		messages: [{ role: 'user', content: { type: 'text', text: `Hello ${who}` } }],
	}));
	s.registerResource('readme', 'mem://readme', { mimeType: 'text/plain' }, async (uri) => ({
		contents: [{ uri: uri.href, text: 'json-server readme' }],
	}));
	return s;
}

const sessions = new Map(); // Mcp-Session-Id -> transport

async function sdk(req, res) {
	const sid = req.headers['mcp-session-id'];
	let t = sid ? sessions.get(sid) : undefined;
	if (!t && sid && sessions.size) {
		// an unknown id: any live session's transport answers it with the
		// SDK's own 404 "Session not found" (its id differs)
		t = sessions.values().next().value;
	}
	if (!t) {
		// A new transport for anything else without a known session: the
		// SDK itself then answers 400 (no session, not initialized) or
		// initializes a new session.
		t = new StreamableHTTPServerTransport({
			sessionIdGenerator: () => randomUUID(),
			enableJsonResponse: !opt.sse,
			onsessioninitialized: (id) => sessions.set(id, t),
		});
		t.onclose = () => t.sessionId && sessions.delete(t.sessionId);
		await newServer().connect(t);
	}
	await t.handleRequest(req, res);
}

function sendJson(res, status, obj, headers = {}) {
	const body = JSON.stringify(obj);
	res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
	res.end(body);
}

// The 2026-07-28 fixture (see the header): a hand-written answer per request.
function fixture2026(req, res, body) {
	let msg;
	try {
		msg = JSON.parse(body);
	} catch {
		return sendJson(res, 400, { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null });
	}
	if (msg.id === undefined) return res.writeHead(202).end();
	const hm = req.headers['mcp-method'];
	if (hm !== undefined && hm !== msg.method)
		return sendJson(res, 400, { jsonrpc: '2.0', id: msg.id, error: { code: -32020, message: 'Header mismatch' } });
	const meta = { 'io.modelcontextprotocol/serverInfo': { name: 'fixture-2026', version: '0.0.1' } };
	let result;
	if (msg.method === 'tools/call') result = { content: [{ type: 'text', text: 'ok' }] };
	else if (msg.method === 'prompts/get') result = { messages: [] };
	else if (msg.method === 'resources/read') result = { contents: [] };
	else result = {};
	sendJson(res, 200, { jsonrpc: '2.0', id: msg.id, result: { ...result, _meta: meta } });
}

const server = createServer((req, res) => {
	const path = new URL(req.url, 'http://x').pathname;
	const fail = (e) => {
		if (!res.headersSent) sendJson(res, 500, { jsonrpc: '2.0', error: { code: -32603, message: String(e) }, id: null });
	};
	if (path === '/mcp') return sdk(req, res).catch(fail);
	if (path === '/mcp-nostream') {
		if (req.method === 'GET' || req.method === 'DELETE')
			return sendJson(res, 405, { jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null },
				{ allow: 'POST' });
		return sdk(req, res).catch(fail);
	}
	if (path === '/mcp-2026' && req.method === 'POST') {
		let body = '';
		req.setEncoding('utf8');
		req.on('data', (d) => (body += d));
		req.on('end', () => fixture2026(req, res, body));
		return;
	}
	res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
});
if (opt.socket !== undefined) {
	if (opt.socket.startsWith('@')) server.listen('\0' + opt.socket.slice(1));
	else {
		rmSync(opt.socket, { force: true });
		server.listen(opt.socket);
	}
} else server.listen(Number(opt.port), opt.host);
const stop = () => {
	for (const t of sessions.values()) t.close().catch(() => {});
	server.close();
	setTimeout(() => process.exit(0), 200).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
