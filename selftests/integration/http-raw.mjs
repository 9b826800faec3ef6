#!/usr/bin/env node
// SPDX-License-Identifier: GPL-2.0-only
//
// Hand-made HTTP requests for http-full.sh, each checked against mcpwire's
// /metrics as a delta (before/after), exactly. Prints TAP lines without
// numbers ("ok - …", "not ok - …" + "#" diagnostics), like check.mjs.
//
//   node http-raw.mjs errors --url http://IP:PORT --metrics-url URL --server-name NAME
//        HTTP-level errors (mcp-wire.md §5) from the SDK server of
//        json-server.mjs, each POST carrying a JSON-RPC request of known id:
//        400 (no session; bad MCP-Protocol-Version), 404 (unknown session),
//        405 (PUT), 406 (Accept without text/event-stream), 415 (wrong
//        Content-Type), and a batch of 6 pings without a session (400): each
//        request must be one mcp_requests_total{status="error"} and one
//        mcp_request_errors_total{error_code="http_<status>"} of its method. Then 4xx answers that carry no request (a notification-only
//        POST, GET and DELETE refused with 405) must change no request count.
//   node http-raw.mjs v2026 --url http://IP:PORT/mcp-2026 --metrics-url URL
//        2026-07-28 stateless requests (no initialize, no session) with
//        Mcp-Method and Mcp-Name, one name as =?base64?…?=, bodies without
//        params.name/uri, to the json-server.mjs fixture (no SDK speaks
//        this revision yet). mcpwire must name the server from
//        result._meta serverInfo, the tools, prompt and resource calls from
//        the headers, and take protocol_version from MCP-Protocol-Version.

import { parseArgs } from 'node:util';
import { parseExposition, sumBy } from './expo.mjs';

const { values: opt, positionals } = parseArgs({
	allowPositionals: true,
	options: {
		url: { type: 'string' },
		'metrics-url': { type: 'string' },
		'server-name': { type: 'string' },
		'settle-seconds': { type: 'string', default: '5' },
	},
});
const MODE = positionals[0];
if (!['errors', 'v2026'].includes(MODE) || !opt.url || !opt['metrics-url']) {
	console.error('usage: http-raw.mjs errors|v2026 --url URL --metrics-url URL [--server-name NAME]');
	process.exit(2);
}

let failed = 0;
const ok = (name) => console.log(`ok - ${name}`);
const notOk = (name, ...diag) => {
	failed++;
	console.log(`not ok - ${name}`);
	for (const d of diag) for (const l of String(d).split('\n')) console.log(`#   ${l}`);
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function metrics() {
	const r = await fetch(opt['metrics-url'], { signal: AbortSignal.timeout(3000) });
	return parseExposition(await r.text());
}
const sumOf = (p, name, match) => [...sumBy(p, name, [], match).values()].reduce((a, b) => a + b, 0);

// The counts wanted, as deltas of (metric, labels) → value.
function delta(before, after, name, match) {
	return sumOf(after, name, match) - sumOf(before, name, match);
}

// Waits (bounded) until every expected delta is reached, then checks all
// exactly: a delta above the expectation is as wrong as one below.
async function settleAndCheck(before, wants) {
	const until = Date.now() + Number(opt['settle-seconds']) * 1000;
	let after;
	for (;;) {
		after = await metrics();
		if (wants.every((w) => delta(before, after, w.name, w.match) >= w.want) || Date.now() > until) break;
		await sleep(200);
	}
	await sleep(300); // anything extra arrives too
	after = await metrics();
	for (const w of wants) {
		const got = delta(before, after, w.name, w.match);
		if (got === w.want) ok(`${w.what}: ${w.want}`);
		else notOk(`${w.what}: ${w.want}`, `got ${got} for ${w.name} ${JSON.stringify(w.match)}`);
	}
	return after;
}

const H_JSON = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
async function post(url, headers, body, method = 'POST') {
	const r = await fetch(url, {
		method,
		headers,
		body: body === undefined ? undefined : JSON.stringify(body),
		signal: AbortSignal.timeout(5000),
	});
	return { status: r.status, headers: r.headers, text: await r.text() };
}

async function errors() {
	const S = opt['server-name'];
	const base = opt.url.replace(/\/$/, '');
	const mcp = `${base}/mcp`;
	// a real session to hold a valid id
	const init = await post(mcp, H_JSON, {
		jsonrpc: '2.0',
		id: 0,
		method: 'initialize',
		params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'http-raw', version: '1' } },
	});
	const sid = init.headers.get('mcp-session-id');
	if (init.status !== 200 || !sid) return notOk('initialize for a session', `status ${init.status}`, init.text);
	await post(mcp, { ...H_JSON, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
		{ jsonrpc: '2.0', method: 'notifications/initialized' });
	await sleep(300);

	const rq = (id, method, params = {}) => ({ jsonrpc: '2.0', id, method, params });
	const cases = [
		{ what: 'no Mcp-Session-Id', status: 400, method: 'tools/list', url: mcp, headers: H_JSON, body: rq(101, 'tools/list') },
		{ what: 'bad MCP-Protocol-Version', status: 400, method: 'tools/call', url: mcp,
		  headers: { ...H_JSON, 'mcp-session-id': sid, 'mcp-protocol-version': '1999-01-01' },
		  body: rq(102, 'tools/call', { name: 'echo', arguments: { message: 'x' } }) },
		{ what: 'unknown session', status: 404, method: 'tools/call', url: mcp,
		  headers: { ...H_JSON, 'mcp-session-id': 'no-such-session', 'mcp-protocol-version': '2025-11-25' },
		  body: rq('s-103', 'tools/call', { name: 'echo', arguments: { message: 'x' } }) },
		{ what: 'PUT', status: 405, method: 'ping', url: mcp, verb: 'PUT',
		  headers: { ...H_JSON, 'mcp-session-id': sid }, body: rq(104, 'ping') },
		{ what: 'Accept without text/event-stream', status: 406, method: 'prompts/list', url: mcp,
		  headers: { 'content-type': 'application/json', accept: 'application/json', 'mcp-session-id': sid },
		  body: rq(105, 'prompts/list') },
		{ what: 'Content-Type text/plain+json (JSON by RFC 6839, not application/json for the SDK)', status: 415, method: 'resources/list', url: mcp,
		  headers: { 'content-type': 'text/plain+json', accept: 'application/json, text/event-stream', 'mcp-session-id': sid },
		  body: rq(106, 'resources/list') },
		// more requests than an exchange keeps inline (proto/conn.c)
		{ what: 'batch of 6 without Mcp-Session-Id', status: 400, method: 'ping', n: 6, url: mcp, headers: H_JSON,
		  body: [111, 112, 113, 114, 115, 116].map((id) => rq(id, 'ping')) },
	];
	const before = await metrics();
	const wants = [];
	const perCode = new Map();
	for (const c of cases) {
		const r = await post(c.url, c.headers, c.body, c.verb);
		if (r.status !== c.status) notOk(`server answers ${c.what} with ${c.status}`, `got ${r.status}: ${r.text}`);
		else ok(`server answers ${c.what} with ${c.status} (${r.text.slice(0, 60)})`);
		const k = `${c.method}|http_${c.status}`;
		perCode.set(k, (perCode.get(k) ?? 0) + (c.n ?? 1));
	}
	const methods = new Map();
	for (const c of cases) methods.set(c.method, (methods.get(c.method) ?? 0) + (c.n ?? 1));
	for (const [k, n] of perCode) {
		const [method, code] = k.split('|');
		wants.push({ what: `mcp_request_errors_total ${method} ${code}`, want: n, name: 'mcp_request_errors_total',
			match: { server_name: S, method, error_code: code } });
	}
	for (const [method, n] of methods)
		wants.push({ what: `mcp_requests_total ${method} error`, want: n, name: 'mcp_requests_total',
			match: { server_name: S, method, status: 'error' } });
	wants.push({ what: 'no request counted ok by the errors', want: 0, name: 'mcp_requests_total',
		match: { server_name: S, status: 'ok' } });
	wants.push({ what: 'error codes are all http_*', want: cases.reduce((a, c) => a + (c.n ?? 1), 0), name: 'mcp_request_errors_total',
		match: { server_name: S } });
	wants.push({ what: 'nothing left in flight', want: 0, name: 'mcp_requests_in_flight', match: { server_name: S } });
	const mid = await settleAndCheck(before, wants);

	// 4xx answers with no request in them: nothing may be invented
	const none = [
		{ what: 'notification without session', status: 400, url: mcp, headers: H_JSON,
		  body: { jsonrpc: '2.0', method: 'notifications/initialized' } },
		{ what: 'notification with Content-Type text/plain', status: 415, url: mcp,
		  headers: { ...H_JSON, 'content-type': 'text/plain', 'mcp-session-id': sid },
		  body: { jsonrpc: '2.0', method: 'notifications/roots/list_changed' } },
		{ what: 'GET stream refused', status: 405, url: `${base}/mcp-nostream`, verb: 'GET',
		  headers: { accept: 'text/event-stream', 'mcp-session-id': sid } },
		{ what: 'DELETE refused', status: 405, url: `${base}/mcp-nostream`, verb: 'DELETE',
		  headers: { 'mcp-session-id': sid } },
	];
	for (const c of none) {
		const r = await post(c.url, c.headers, c.body, c.verb);
		if (r.status !== c.status) notOk(`server answers ${c.what} with ${c.status}`, `got ${r.status}: ${r.text}`);
		else ok(`server answers ${c.what} with ${c.status}`);
	}
	await settleAndCheck(mid, [
		{ what: '4xx without a request adds no request', want: 0, name: 'mcp_requests_total', match: { server_name: S } },
		{ what: '4xx without a request adds no error', want: 0, name: 'mcp_request_errors_total', match: { server_name: S } },
	]);
	// the session ends
	await post(mcp, { 'mcp-session-id': sid }, undefined, 'DELETE');
}

async function v2026() {
	const url = opt.url;
	const h = (method, name) => ({
		'content-type': 'application/json',
		accept: 'application/json, text/event-stream',
		'mcp-protocol-version': '2026-07-28',
		'mcp-method': method,
		...(name !== undefined ? { 'mcp-name': name } : {}),
	});
	const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28',
		'io.modelcontextprotocol/clientInfo': { name: 'http-raw', version: '1' } };
	const b64 = (s) => `=?base64?${Buffer.from(s, 'utf8').toString('base64')}?=`;
	const UNAME = 'überprüfen';
	const calls = [
		// body without params.name: the header names it
		[h('tools/call', b64(UNAME)), { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { arguments: {}, _meta: meta } }],
		[h('tools/call', b64(UNAME)), { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { arguments: {}, _meta: meta } }],
		[h('tools/call', 'plain-tool'), { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { arguments: {}, _meta: meta } }],
		// the body's name wins over the header's
		[h('tools/call', 'header-name'), { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'body-name', arguments: {}, _meta: meta } }],
		[h('prompts/get', 'greet'), { jsonrpc: '2.0', id: 5, method: 'prompts/get', params: { _meta: meta } }],
		[h('resources/read', 'mem://readme'), { jsonrpc: '2.0', id: 6, method: 'resources/read', params: { _meta: meta } }],
		[h('server/discover'), { jsonrpc: '2.0', id: 7, method: 'server/discover', params: { _meta: meta } }],
		// Mcp-Method disagrees with the body: -32020, and the header names nothing
		[h('prompts/get', 'mismatch'), { jsonrpc: '2.0', id: 8, method: 'tools/call', params: { arguments: {}, _meta: meta } }],
	];
	const before = await metrics();
	for (const [headers, body] of calls) {
		const r = await post(url, headers, body);
		const want = body.id === 8 ? 400 : 200;
		if (r.status !== want) notOk(`fixture answers id ${body.id} with ${want}`, `got ${r.status}: ${r.text}`);
	}
	ok(`${calls.length} stateless 2026-07-28 requests sent`);
	const S = 'fixture-2026';
	const tool = (t, st = 'ok') => ({ what: `tool ${t} ${st}`, name: 'mcp_tool_calls_total',
		match: { server_name: S, tool_name: t, status: st } });
	await settleAndCheck(before, [
		{ ...tool(UNAME), want: 2 },
		{ ...tool('plain-tool'), want: 1 },
		{ ...tool('body-name'), want: 1 },
		{ ...tool('header-name'), want: 0 },
		{ ...tool('mismatch', 'error'), want: 0 },
		// the mismatched call has no name mcpwire may trust: __other__
		{ ...tool('__other__', 'error'), want: 1 },
		{ what: 'tools/call ok', want: 4, name: 'mcp_requests_total', match: { server_name: S, method: 'tools/call', status: 'ok' } },
		{ what: 'tools/call error (HeaderMismatch in a 400)', want: 1, name: 'mcp_request_errors_total',
		  match: { server_name: S, method: 'tools/call', error_code: 'http_400' } },
		{ what: 'prompts/get ok', want: 1, name: 'mcp_requests_total', match: { server_name: S, method: 'prompts/get', status: 'ok' } },
		{ what: 'resources/read ok', want: 1, name: 'mcp_requests_total', match: { server_name: S, method: 'resources/read', status: 'ok' } },
		{ what: 'server/discover ok', want: 1, name: 'mcp_requests_total', match: { server_name: S, method: 'server/discover', status: 'ok' } },
		{ what: 'all 8 requests under the _meta name', want: 8, name: 'mcp_requests_total', match: { server_name: S } },
		{ what: 'mcp_server_info from _meta + MCP-Protocol-Version', want: 1, name: 'mcp_server_info',
		  match: { server_name: S, server_version: '0.0.1', protocol_version: '2026-07-28', transport: 'streamable_http' } },
		{ what: 'no session (stateless)', want: 0, name: 'mcp_sessions_active', match: { server_name: S } },
	]);
}

try {
	await (MODE === 'errors' ? errors() : v2026());
} catch (e) {
	notOk(`http-raw.mjs ${MODE} ran`, e?.stack ?? e);
}
process.exit(failed ? 1 : 0);
