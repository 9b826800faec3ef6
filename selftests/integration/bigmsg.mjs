#!/usr/bin/env node
// SPDX-License-Identifier: GPL-2.0-only
//
// Huge tool results for bigmsg.sh, with the official TypeScript SDK (v1).
//
//   node bigmsg.mjs server --port P [--json]
//     an McpServer "bigmsg" over Streamable HTTP (stateful; SSE answers, or
//     application/json ones with --json) with three tools: big {mib} returns
//     a text of mib MiB, big-error {mib} the same with isError: true, small
//     returns "ok". The text has quotes, backslashes, newlines and non-ASCII,
//     so the JSON around the capture's hole is full of escapes.
//
//   node bigmsg.mjs client --url URL --record FILE [--mib M] [--big N]
//        [--errors N] [--small N]
//     connects, lists the tools, calls big N times, big-error N times and
//     small N times, checks each result's length, ends the session (DELETE),
//     and writes what it sent and what came back: the ground truth that
//     mcpwire's counters must equal.

import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const { values: opt, positionals } = parseArgs({
	allowPositionals: true,
	options: {
		port: { type: 'string', default: '3002' },
		json: { type: 'boolean', default: false },
		url: { type: 'string' },
		record: { type: 'string' },
		mib: { type: 'string', default: '5' },
		big: { type: 'string', default: '3' },
		errors: { type: 'string', default: '2' },
		small: { type: 'string', default: '3' },
	},
});

const PIECE = 'abc "quoted" back\\slash line\nnext \u00e9\u4e2d tab\t';

function bigText(mib) {
	const n = Math.round(mib * 1024 * 1024);
	return PIECE.repeat(Math.ceil(n / PIECE.length)).slice(0, n);
}

function makeServer() {
	const s = new McpServer({ name: 'bigmsg', version: '1.0.0' });
	s.tool('big', { mib: z.number() }, async ({ mib }) => ({
		content: [{ type: 'text', text: bigText(mib) }],
	}));
	s.tool('big-error', { mib: z.number() }, async ({ mib }) => ({
		content: [{ type: 'text', text: bigText(mib) }],
		isError: true,
	}));
	s.tool('small', {}, async () => ({ content: [{ type: 'text', text: 'ok' }] }));
	return s;
}

async function server() {
	const transports = {};

	http.createServer(async (req, res) => {
		const sid = req.headers['mcp-session-id'];
		let t = sid ? transports[sid] : undefined;

		if (!t) {
			if (sid || req.method !== 'POST') {
				res.writeHead(404).end();
				return;
			}
			t = new StreamableHTTPServerTransport({
				sessionIdGenerator: () => randomUUID(),
				enableJsonResponse: opt.json,
				onsessioninitialized: (id) => {
					transports[id] = t;
				},
			});
			t.onclose = () => {
				if (t.sessionId) delete transports[t.sessionId];
			};
			await makeServer().connect(t);
		}
		await t.handleRequest(req, res);
	}).listen(Number(opt.port), '0.0.0.0');
}

async function client() {
	const mib = Number(opt.mib);
	const want = bigText(mib).length;
	const rec = { requests: {}, tools: {} };
	const count = (m, st) => {
		rec.requests[m] ??= { ok: 0, error: 0 };
		rec.requests[m][st]++;
	};
	const c = new Client({ name: 'bigmsg-client', version: '1.0.0' });
	const t = new StreamableHTTPClientTransport(new URL(opt.url));

	await c.connect(t);
	count('initialize', 'ok');
	await c.listTools();
	count('tools/list', 'ok');
	const plan = [
		['big', Number(opt.big), { mib }],
		['big-error', Number(opt.errors), { mib }],
		['small', Number(opt.small), {}],
	];
	for (const [name, n, args] of plan) {
		rec.tools[name] = { ok: 0, error: 0 };
		for (let i = 0; i < n; i++) {
			const r = await c.callTool({ name, arguments: args }, undefined, { timeout: 120000 });
			const st = r.isError ? 'error' : 'ok';
			const len = r.content[0].text.length;

			if (name !== 'small' && len !== want)
				throw new Error(`${name}: ${len} characters, want ${want}`);
			rec.tools[name][st]++;
			count('tools/call', st);
		}
	}
	await t.terminateSession();
	await c.close();
	writeFileSync(opt.record, JSON.stringify(rec, null, 1));
}

if (positionals[0] === 'server') {
	await server();
} else if (positionals[0] === 'client') {
	await client();
} else {
	console.error('usage: bigmsg.mjs server|client …');
	process.exit(2);
}
