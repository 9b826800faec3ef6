#!/usr/bin/env node
// SPDX-License-Identifier: GPL-2.0-only
//
// The integration tests' MCP client: the official TypeScript SDK (v1, pinned in
// package.json) over Streamable HTTP, running a known, bounded mix of calls and
// writing its own record of what went over the wire. That record is the ground
// truth that mcpwire's /metrics must equal exactly (docs/testing.md).
//
// Usage:
//   node client.mjs --url http://10.x.y.z:3001/mcp --record out.json
//        [--mix basic|full] [--repeat N] [--delay-ms MS] [--max-seconds S]
//        [--timeout-ms MS] [--quiet]
//        [--pause-file PATH [--pause-timeout S] [--hold-file PATH2] [--logging]]
//
// One iteration = one session: initialize (connect), tools/list, tools/call
// (echo x5, get-sum x3, get-tiny-image x2, get-env x1, one unknown tool),
// resources/list, prompts/list, ping x2, then DELETE (terminateSession) and
// close. --mix full adds a tools/call with progress notifications and one
// tools/call cancelled by the client (notifications/cancelled). --mix json
// (for json-server.mjs) adds a tool that throws and one returning isError,
// prompts/get and resources/read of a known and an unknown name each.
//
// The record is taken at the transport, not from the SDK's return values: each
// JSON-RPC request the client sends is remembered by id, and its status is set
// by the message that answers it (result -> ok, result.isError -> error, error
// object -> error), by an HTTP failure of the POST that carried it (error), or
// by the client's own notifications/cancelled (cancelled). That is exactly the
// contract of mcp_requests_total (design.md, "Metric contract").
//
// --pause-file PATH (one iteration only) splits the session in two, for the
// test of mcpwire joining connections that are already open: after connect()
// (initialize, notifications/initialized, and the SDK's standalone GET SSE
// stream), tools/list and the first PAUSE_AFTER_CALLS echo calls, the client
// writes its record, creates PATH.ready and waits (at most --pause-timeout S,
// default 30) until PATH exists; then it runs the rest of the mix on the same
// transport, so the same keep-alive connections and the GET stream carry it.
// The record then also has "phases": {"before": …, "after": …}, each with the
// same fields as the totals (requests, error_codes, tools, notifications,
// server_requests, http); a request belongs to the phase it was sent in (none
// is pending at the pause: "pause.pending_at_pause"). --hold-file PATH2 stops
// once more after the mix and before DELETE (PATH2.ready, then wait for
// PATH2, at most 10 s), so connections can be inspected while still open.
// It also works without --pause-file (then in every iteration: once PATH2
// exists, later ones pass straight through).
// --logging (with --pause-file) turns server-everything's simulated logging
// on (toggle-simulated-logging) just before the pause, so the standalone GET
// SSE stream is carrying notifications/message (one at once, then one every
// 5 s) while mcpwire starts; after the mix it waits, at most 6 s, until one
// has arrived after the pause, then turns it off. "pause.log_in_pause" counts
// the ones that arrived while paused (the comparison needs 0: mcpwire may or
// may not have been attached when they went by).
//
// stdio (mcp-wire.md §5):
//   node client.mjs --stdio --record out.json --mix basic|full|memory|filesystem
//        [--env KEY=VALUE]... [--fs-dir DIR] [--repeat N] ... -- COMMAND [ARGS...]
// spawns COMMAND as the server with the SDK's StdioClientTransport (each
// iteration a new server process, i.e. a new session) and ends each session
// by closing the server's stdin (client.close()). --env adds to the SDK's
// default environment (MEMORY_FILE_PATH for server-memory). Mixes basic and
// full are the everything mix above; memory exercises server-memory's
// knowledge-graph tools (create_entities, create_relations, add_observations,
// read_graph, search_nodes, open_nodes, one call failing with isError) and a
// prompts/get of a prompt it does not have (a JSON-RPC error); filesystem
// exercises server-filesystem's tools on --fs-dir (list_allowed_directories,
// list_directory, write_file, read_text_file, get_file_info, search_files,
// directory_tree, and a read outside the allowed directory: isError).
//
// --unix-socket PATH: every HTTP request goes over the unix socket at PATH
// (a server listening on a path); --url then only gives the path and the
// Host header (http://localhost/mcp). The SDK's StreamableHTTPClientTransport
// is given a fetch over node:http (unix-fetch.mjs) through its `fetch` option.
//
// --transport sse (mcp-wire.md §5, "Legacy HTTP+SSE"): the SDK's
// SSEClientTransport on --url http://HOST:PORT/sse, the 2024-11-05 transport:
// a GET stream carrying every server message, each client message a POST to
// the endpoint it names. It has no DELETE: a session ends when close() drops
// the GET stream. The default, --transport streamable, is Streamable HTTP.
//
// --server-requests (mcp-wire.md §2, §7 "Nested requests"): the client
// declares the sampling, elicitation and roots capabilities, answers
// sampling/createMessage, elicitation/create and roots/list (each after
// --answer-delay-ms, default 250, so the nesting shows in the latencies), and
// the mix adds get-roots-list, trigger-sampling-request x2 and
// trigger-elicitation-request x2 (accepted once, declined once), tools
// server-everything offers only to a client with those capabilities. Requests
// the server sends are recorded in "server_requests" (received, by method),
// "server_answers" (by the status of the client's answer: a result is ok, an
// error object is error, the server's notifications/cancelled is cancelled),
// "server_answer_error_codes" and "server_answer_ms" (per method, the ms from
// arrival to the answer being sent). "nested" maps each trigger tool to the
// method it makes the server send inside the call.
//
// --tasks (mcp-wire.md §2 "Tasks", 2025-11-25; not with --mix memory or
// filesystem): each iteration also runs server-everything's task tool
// (TASK_TOOL, 4 s of work) as a task: a tools/call with params.task, answered
// at once with result.task; while the rest of the mix runs, tasks/get, and a
// second task created and cancelled with tasks/cancel; after the mix,
// tasks/list, then tasks/result (blocks until the first task completed),
// tasks/get again, and three requests the server refuses: tasks/cancel of
// the completed task, tasks/get and tasks/result of an unknown taskId. The
// record's "task_ms" lists, per tasks/* method, the ms each request took as
// the client saw it.

import { writeFileSync, renameSync, existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { unixFetch } from './unix-fetch.mjs';
import {
	CallToolResultSchema,
	CreateMessageRequestSchema,
	CreateTaskResultSchema,
	ElicitRequestSchema,
	ListRootsRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';

const { values: opt, positionals } = parseArgs({
	allowPositionals: true,
	options: {
		stdio: { type: 'boolean', default: false },
		env: { type: 'string', multiple: true, default: [] },
		'fs-dir': { type: 'string' },
		url: { type: 'string' },
		record: { type: 'string' },
		mix: { type: 'string', default: 'basic' },
		repeat: { type: 'string', default: '1' },
		'delay-ms': { type: 'string', default: '0' },
		'max-seconds': { type: 'string', default: '60' },
		'timeout-ms': { type: 'string', default: '10000' },
		quiet: { type: 'boolean', default: false },
		'pause-file': { type: 'string' },
		'pause-timeout': { type: 'string', default: '30' },
		'hold-file': { type: 'string' },
		logging: { type: 'boolean', default: false },
		transport: { type: 'string', default: 'streamable' },
		'server-requests': { type: 'boolean', default: false },
		'answer-delay-ms': { type: 'string', default: '250' },
		tasks: { type: 'boolean', default: false },
		'unix-socket': { type: 'string' },
	},
});

function die(msg) {
	process.stderr.write(`client.mjs: ${msg}\n`);
	process.exit(2);
}

const STDIO = opt.stdio;
if (STDIO) {
	if (opt.url || !positionals.length) die('--stdio takes no --url but a command: --stdio ... -- COMMAND [ARGS...]');
	if (!['basic', 'full', 'memory', 'filesystem'].includes(opt.mix)) die(`bad --mix ${opt.mix}`);
	if (opt.mix === 'filesystem' && !opt['fs-dir']) die('--mix filesystem needs --fs-dir');
	if (opt['pause-file'] !== undefined) die('--pause-file is for HTTP only');
} else {
	if (!opt.url) die('--url is required');
	if (!['basic', 'full', 'json'].includes(opt.mix)) die(`bad --mix ${opt.mix}`);
}
if (!['streamable', 'sse'].includes(opt.transport)) die(`bad --transport ${opt.transport}`);
const SSE = !STDIO && opt.transport === 'sse';
if (SSE && opt['pause-file'] !== undefined) die('--pause-file is for --transport streamable only');
if (opt['unix-socket'] !== undefined && (STDIO || SSE)) die('--unix-socket is for --transport streamable only');
const UNIX_FETCH = opt['unix-socket'] !== undefined ? unixFetch(opt['unix-socket']) : undefined;
const SERVER_REQUESTS = opt['server-requests'];
const TASKS = opt.tasks;
if (TASKS && (opt.mix === 'memory' || opt.mix === 'filesystem')) die('--tasks needs server-everything (--mix basic, full or json)');
const ANSWER_DELAY_MS = Number(opt['answer-delay-ms']);
if (!(ANSWER_DELAY_MS >= 0 && ANSWER_DELAY_MS <= 5000)) die('--answer-delay-ms must be 0..5000');
const STDIO_ENV = {};
for (const kv of opt.env) {
	const i = kv.indexOf('=');
	if (i < 1) die(`bad --env ${kv}`);
	STDIO_ENV[kv.slice(0, i)] = kv.slice(i + 1);
}
const REPEAT = Number(opt.repeat);
const DELAY_MS = Number(opt['delay-ms']);
const MAX_SECONDS = Number(opt['max-seconds']);
const TIMEOUT_MS = Number(opt['timeout-ms']);
for (const [k, v] of Object.entries({ REPEAT, DELAY_MS, MAX_SECONDS, TIMEOUT_MS }))
	if (!Number.isFinite(v) || v < 0) die(`bad ${k}`);
// Hard bounds: this is a test client, never an unbounded load generator.
if (REPEAT < 1 || REPEAT > 100000) die('--repeat must be 1..100000');
if (MAX_SECONDS < 1 || MAX_SECONDS > 7200) die('--max-seconds must be 1..7200');
const PAUSE_FILE = opt['pause-file'];
const PAUSE_TIMEOUT = Number(opt['pause-timeout']);
const HOLD_FILE = opt['hold-file'];
if (PAUSE_FILE !== undefined && REPEAT !== 1) die('--pause-file needs --repeat 1');
if (opt.logging && PAUSE_FILE === undefined) die('--logging needs --pause-file');
// server-everything's switch for its simulated notifications/message
const LOG_TOOL = 'toggle-simulated-logging';
if (!(PAUSE_TIMEOUT >= 1 && PAUSE_TIMEOUT <= 600)) die('--pause-timeout must be 1..600');
// With --pause-file: echo calls made before the pause (of TOOL_MIX's 5).
const PAUSE_AFTER_CALLS = 2;

// The per-tool call counts of one iteration. Tools that need no client
// capability (no sampling, elicitation or roots), checked with tools/list
// against server-everything 2026.8.31.
const TOOL_MIX = [
	['echo', 5, (i) => ({ message: `hello ${i}` })],
	['get-sum', 3, (i) => ({ a: i, b: 40 })],
	['get-tiny-image', 2, () => ({})],
	['get-env', 1, () => ({})],
];
const UNKNOWN_TOOL = 'no-such-tool';
const PROGRESS_TOOL = 'trigger-long-running-operation';
// --server-requests: tool -> [calls, the request it makes the server send
// to the client while the call runs] (server-everything 2026.8.31, tools/).
const NESTED_MIX = [
	['get-roots-list', 1, 'roots/list'],
	['trigger-sampling-request', 2, 'sampling/createMessage'],
	['trigger-elicitation-request', 2, 'elicitation/create'],
];

// --tasks: server-everything 2026.8.31's tool with execution.taskSupport
// "required" (tools/simulate-research-query.js: 4 stages of 1 s).
const TASK_TOOL = 'simulate-research-query';

const started = Date.now();
const deadline = started + MAX_SECONDS * 1000;
// The watchdog: whatever hangs, the process ends (and still writes its record).
const watchdog = setTimeout(() => {
	process.stderr.write(`client.mjs: --max-seconds ${MAX_SECONDS} hit, giving up\n`);
	finish(3);
}, MAX_SECONDS * 1000 + 15000);
watchdog.unref();

// The per-phase part of the record (the totals have the same fields).
const newCounts = () => ({
	requests: {},
	error_codes: {},
	tools: {},
	notifications: { sent: {}, received: {} },
	server_requests: {},
	server_answers: {},
	server_answer_error_codes: {},
	http: { delete: 0 },
});

const record = {
	url: STDIO ? `stdio:${positionals.join(' ')}` : opt.url,
	mix: opt.mix,
	iterations: 0,
	sessions: 0,
	server_info: null,
	protocol_version: null,
	// per method: requests the client SENT, by final status
	requests: {},
	// per method, the error_code label of each request that ended in error:
	// "tool_error" (result.isError), the JSON-RPC code, or "http_<status>"
	error_codes: {},
	// per tool name (tools/call params.name): by final status
	tools: {},
	notifications: { sent: {}, received: {} },
	transport: STDIO ? 'stdio' : SSE ? 'sse' : 'streamable_http',
	// requests the server sent to the client, by method (none unless
	// --server-requests declares capabilities), and how the client answered
	server_requests: {},
	server_answers: {},
	server_answer_error_codes: {},
	server_answer_ms: {},
	nested: SERVER_REQUESTS ? Object.fromEntries(NESTED_MIX.map(([t, , m]) => [t, m])) : {},
	task_ms: {},
	http: { delete: 0 },
	unanswered: 0,
	errors: [],
	close_noise: 0,
	elapsed_seconds: 0,
};
// With --pause-file: the phase being recorded ("before", then "after"), the
// per-phase counts, and when and how the pause happened.
let phase = null;
if (PAUSE_FILE !== undefined) {
	phase = 'before';
	record.phases = { before: newCounts(), after: newCounts() };
	record.pause = { file: PAUSE_FILE, state: 'not reached', pending_at_pause: null, waited_ms: null };
}
// The count objects an event is added to: the totals, and its phase's.
const targets = (ph) => (ph ? [record, record.phases[ph]] : [record]);

const bump = (obj, key, field) => {
	obj[key] ??= field === undefined ? 0 : { ok: 0, error: 0, cancelled: 0 };
	if (field === undefined) obj[key]++;
	else obj[key][field]++;
};

let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'])
	process.on(sig, () => {
		if (stopping) finish(130);
		stopping = true;
	});

function writeRecord() {
	record.elapsed_seconds = (Date.now() - started) / 1000;
	if (!opt.record) return;
	const tmp = `${opt.record}.tmp`;
	writeFileSync(tmp, JSON.stringify(record, null, 2) + '\n');
	renameSync(tmp, opt.record);
}

function finish(code) {
	try {
		writeRecord();
	} catch (e) {
		process.stderr.write(`client.mjs: cannot write record: ${e.message}\n`);
		code = code || 2;
	}
	process.exit(code);
}

// Wraps one transport so every JSON-RPC message in or out is seen once.
function instrument(transport) {
	const pending = new Map(); // id -> {method, tool, phase}
	const settle = (id, status, code) => {
		const p = pending.get(id);
		if (!p) return;
		pending.delete(id);
		for (const t of targets(p.phase)) {
			bump(t.requests, p.method, status);
			if (status === 'error') {
				t.error_codes[p.method] ??= {};
				bump(t.error_codes[p.method], code);
			}
			if (p.tool !== undefined) bump(t.tools, p.tool, status);
		}
	};
	// Requests the server sent (its own id space, mcp-wire.md §1), settled
	// by the client's answer or by the server's notifications/cancelled.
	const fromServer = new Map(); // id -> {method, phase, t0}
	// Messages whose POST has not completed. The SDK sends its
	// notifications/cancelled without awaiting it, and SSEClientTransport's
	// close() aborts POSTs still under way: the session's end waits for them
	// (at most 2 s), so what the record counts as sent did reach the server.
	const inflight = new Set();
	const settleServer = (id, status, code) => {
		const p = fromServer.get(id);
		if (!p) return;
		fromServer.delete(id);
		for (const t of targets(p.phase)) {
			bump(t.server_answers, p.method, status);
			if (status === 'error') {
				t.server_answer_error_codes[p.method] ??= {};
				bump(t.server_answer_error_codes[p.method], code);
			}
		}
		(record.server_answer_ms[p.method] ??= []).push(Date.now() - p.t0);
	};

	const send = transport.send.bind(transport);
	transport.send = async (msg, options) => {
		const isRequest = msg.method !== undefined && msg.id !== undefined;
		if (msg.method === undefined && msg.id !== undefined)
			settleServer(msg.id, 'error' in msg ? 'error' : 'ok', String(msg.error?.code));
		else if (isRequest)
			pending.set(msg.id, {
				method: msg.method,
				tool: msg.method === 'tools/call' ? msg.params?.name : undefined,
				phase,
			});
		else if (msg.method !== undefined) {
			for (const t of targets(phase)) bump(t.notifications.sent, msg.method);
			if (msg.method === 'notifications/cancelled') settle(msg.params?.requestId, 'cancelled');
		}
		const p = send(msg, options);
		inflight.add(p);
		try {
			return await p;
		} catch (e) {
			// The POST carrying the request failed at the HTTP level (4xx/5xx
			// or no connection): the request ends in error.
			if (isRequest) settle(msg.id, 'error', Number(e?.code) > 0 ? `http_${e.code}` : 'transport');
			throw e;
		} finally {
			inflight.delete(p);
		}
	};

	let inner;
	Object.defineProperty(transport, 'onmessage', {
		configurable: true,
		get: () => inner,
		set: (fn) => {
			inner = fn && ((msg, extra) => {
				if (msg.result?.serverInfo !== undefined && msg.result?.protocolVersion !== undefined)
					record.protocol_version = msg.result.protocolVersion; // the negotiated one
				if (msg.method !== undefined && msg.id !== undefined) {
					for (const t of targets(phase)) bump(t.server_requests, msg.method);
					fromServer.set(msg.id, { method: msg.method, phase, t0: Date.now() });
				} else if (msg.method !== undefined) {
					for (const t of targets(phase)) bump(t.notifications.received, msg.method);
					if (msg.method === 'notifications/cancelled') settleServer(msg.params?.requestId, 'cancelled');
					if (msg.method === 'notifications/message' && record.pause?.state === 'paused')
						record.pause.log_in_pause = (record.pause.log_in_pause ?? 0) + 1;
				}
				else if ('error' in msg) settle(msg.id, 'error', String(msg.error?.code));
				else if ('result' in msg)
					msg.result?.isError === true ? settle(msg.id, 'error', 'tool_error') : settle(msg.id, 'ok');
				return fn(msg, extra);
			});
		},
	});
	return { pending, fromServer, inflight };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Creates FILE.ready, then waits (polling every 20 ms, at most timeoutS) until
// FILE exists. Returns the milliseconds waited, or -1 on timeout.
async function stopAt(file, timeoutS) {
	const t0 = Date.now();
	writeFileSync(`${file}.ready`, `${process.pid}\n`);
	while (!existsSync(file)) {
		if (Date.now() - t0 > timeoutS * 1000 || stopping) return -1;
		await sleep(20);
	}
	return Date.now() - t0;
}

// The pause of --pause-file: everything sent so far has been answered (the
// calls are awaited one by one), so no request straddles it.
async function pause(pending) {
	record.pause.pending_at_pause = pending.size;
	record.pause.state = 'paused';
	record.pause.paused_at = new Date().toISOString();
	writeRecord();
	const waited = await stopAt(PAUSE_FILE, PAUSE_TIMEOUT);
	phase = 'after';
	record.pause.waited_ms = waited;
	record.pause.resumed_at = new Date().toISOString();
	record.pause.state = waited < 0 ? 'timed out' : 'resumed';
	if (waited < 0) record.errors.push(`pause: ${PAUSE_FILE} did not appear within ${PAUSE_TIMEOUT} s`);
	if (pending.size) record.errors.push(`pause: ${pending.size} request(s) pending at the pause`);
}

// A call whose JSON-RPC error is part of the mix: instrument() records it
// from the wire, so the rejection is no failure of the run.
async function expectFail(p) {
	try {
		await p;
	} catch {
		/* recorded by instrument() */
	}
}

// server-memory 2026.8.31: its knowledge-graph tools on a fresh
// MEMORY_FILE_PATH. Names carry the iteration so repeats never collide.
async function memoryMix(client, ro, n) {
	const { tools } = await client.listTools(undefined, ro);
	const names = new Set(tools.map((t) => t.name));
	for (const t of ['create_entities', 'create_relations', 'add_observations', 'read_graph', 'search_nodes', 'open_nodes'])
		if (!names.has(t)) throw new Error(`server has no tool ${t}`);
	const a = `mcpwire-a${n}`, b = `mcpwire-b${n}`;
	const call = (name, args) => client.callTool({ name, arguments: args }, undefined, ro);
	await call('create_entities', { entities: [
		{ name: a, entityType: 'selftest', observations: ['first'] },
		{ name: b, entityType: 'selftest', observations: [] },
	] });
	await call('create_relations', { relations: [{ from: a, to: b, relationType: 'observes' }] });
	await call('add_observations', { observations: [{ entityName: a, contents: ['second', 'third'] }] });
	for (let i = 0; i < 2; i++) await call('read_graph', {});
	await call('search_nodes', { query: 'mcpwire' });
	await call('search_nodes', { query: 'second' });
	await call('open_nodes', { names: [a, b] });
	// an entity that does not exist: the tool fails (isError)
	const r = await call('add_observations', { observations: [{ entityName: 'no-such-entity', contents: ['x'] }] });
	if (r.isError !== true) record.errors.push('add_observations on a missing entity did not return isError');
	// no such prompt: a JSON-RPC error on the wire
	await expectFail(client.getPrompt({ name: 'no-such-prompt' }, ro));
	await client.ping(ro);
}

// server-filesystem 2026.8.31 with --fs-dir as its one allowed directory.
async function filesystemMix(client, ro) {
	const dir = opt['fs-dir'];
	const call = (name, args) => client.callTool({ name, arguments: args }, undefined, ro);
	await client.listTools(undefined, ro);
	await call('list_allowed_directories', {});
	await call('list_directory', { path: dir });
	await call('write_file', { path: `${dir}/note.txt`, content: 'mcpwire selftest\nsecond line\n' });
	for (let i = 0; i < 2; i++) await call('read_text_file', { path: `${dir}/note.txt` });
	await call('read_text_file', { path: `${dir}/note.txt`, head: 1 });
	await call('get_file_info', { path: `${dir}/note.txt` });
	await call('search_files', { path: dir, pattern: 'note' });
	await call('directory_tree', { path: dir });
	// outside the allowed directory: access denied (isError)
	const r = await call('read_text_file', { path: '/etc/hostname' });
	if (r.isError !== true) record.errors.push('read_text_file outside the allowed directory did not return isError');
	await client.ping(ro);
}

// --server-requests: the client's side of sampling, elicitation and roots.
// Each answer waits ANSWER_DELAY_MS first (a model or a human takes time), so
// the outer tools/call must last at least that long too.
let elicitations = 0;
function answerServer(client) {
	client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
		await sleep(ANSWER_DELAY_MS);
		return {
			model: 'mcpwire-selftest-model',
			role: 'assistant',
			content: { type: 'text', text: `sampled ${req.params.messages.length} message(s)` },
			stopReason: 'endTurn',
		};
	});
	client.setRequestHandler(ElicitRequestSchema, async () => {
		await sleep(ANSWER_DELAY_MS);
		// accepted once, declined once: both are results on the wire
		return elicitations++ % 2 === 0 ? { action: 'accept', content: { name: 'mcpwire selftest' } } : { action: 'decline' };
	});
	client.setRequestHandler(ListRootsRequestSchema, async () => {
		await sleep(ANSWER_DELAY_MS);
		return { roots: [{ uri: 'file:///tmp/mcpwire-selftest', name: 'selftest' }] };
	});
}

async function nestedMix(client, ro, names) {
	if (NESTED_MIX.some(([t]) => !names.has(t))) {
		// registered on notifications/initialized: list once more
		const { tools } = await client.listTools(undefined, ro);
		for (const t of tools) names.add(t.name);
	}
	for (const [name, count] of NESTED_MIX) {
		if (!names.has(name)) throw new Error(`server has no tool ${name} (client capabilities not seen?)`);
		for (let i = 0; i < count; i++) {
			const args = name === 'trigger-sampling-request' ? { prompt: `selftest ${i}`, maxTokens: 16 } : {};
			const r = await client.callTool({ name, arguments: args }, undefined, ro);
			if (r.isError) record.errors.push(`${name}: isError ${JSON.stringify(r.content).slice(0, 200)}`);
		}
	}
}

// --tasks, before the mix: the task the end of the iteration collects, and a
// second one cancelled while it works. Returns the first one's taskId.
async function tasksStart(client, ro, n) {
	const create = async () => {
		const r = await client.request({ method: 'tools/call', params: { name: TASK_TOOL, arguments: { topic: `selftest ${n}` } } },
			CreateTaskResultSchema, { ...ro, task: { ttl: 60000 } });
		if (!r.task?.taskId) throw new Error(`${TASK_TOOL}: no result.task`);
		return r.task.taskId;
	};
	const id = await create();
	await timed('tasks/get', () => client.experimental.tasks.getTask(id, ro));
	const other = await create();
	await timed('tasks/cancel', () => client.experimental.tasks.cancelTask(other, ro));
	return id;
}

// --tasks, after the mix: the first task's outcome, and three refusals.
async function tasksEnd(client, ro, id) {
	await timed('tasks/list', () => client.experimental.tasks.listTasks(undefined, ro));
	const r = await timed('tasks/result', () => client.experimental.tasks.getTaskResult(id, CallToolResultSchema, ro));
	if (r.isError) record.errors.push(`${TASK_TOOL}: tasks/result isError`);
	const t = await timed('tasks/get', () => client.experimental.tasks.getTask(id, ro));
	if (t.status !== 'completed') record.errors.push(`${TASK_TOOL}: status ${t.status} after tasks/result`);
	// a task in a terminal state cannot be cancelled; an unknown taskId
	await expectFail(timed('tasks/cancel', () => client.experimental.tasks.cancelTask(id, ro)));
	await expectFail(timed('tasks/get', () => client.experimental.tasks.getTask('no-such-task', ro)));
	await expectFail(timed('tasks/result', () => client.experimental.tasks.getTaskResult('no-such-task', CallToolResultSchema, ro)));
}

// Runs fn, adding the ms it took to record.task_ms[method], failed or not.
async function timed(method, fn) {
	const t0 = Date.now();
	try {
		return await fn();
	} finally {
		(record.task_ms[method] ??= []).push(Date.now() - t0);
	}
}

async function iteration(n) {
	const transport = STDIO ?
		new StdioClientTransport({ command: positionals[0], args: positionals.slice(1), env: STDIO_ENV, stderr: 'inherit' }) :
		SSE ? new SSEClientTransport(new URL(opt.url)) :
		new StreamableHTTPClientTransport(new URL(opt.url), UNIX_FETCH ? { fetch: UNIX_FETCH } : undefined);
	const { pending, fromServer, inflight } = instrument(transport);
	// No capabilities: the server then has no reason to send sampling,
	// elicitation or roots requests, so every request on the wire is ours.
	// --server-requests declares them and answers what the server asks.
	const client = new Client({ name: 'mcpwire-selftest', version: '1.0.0' }, {
		capabilities: SERVER_REQUESTS ? { sampling: {}, elicitation: {}, roots: { listChanged: true } } : {},
	});
	if (SERVER_REQUESTS) answerServer(client);
	let closing = false;
	let lateProgress = 0;
	client.onerror = (e) => {
		// Once the session is being ended, streams closing and the SDK's
		// resumption attempts of them (which its aborted fetch stops before
		// any byte goes out) are expected; before that, any error counts.
		if (closing) record.close_noise++;
		// Observed with server-everything in sse mode and over stdio: the
		// last notifications/progress of a call can come after the call's
		// result, when the SDK has already dropped its token. It is on the
		// wire (notifications.received counts it, so the ground truth has
		// it); the progress check below adds it to the callbacks.
		else if (/progress notification for an unknown token/.test(e?.message ?? '')) lateProgress++;
		else record.errors.push(`onerror: ${e?.message ?? e}`);
	};
	const ro = { timeout: TIMEOUT_MS, maxTotalTimeout: TIMEOUT_MS };
	try {
		await client.connect(transport, ro);
		record.sessions++;
		record.server_info = client.getServerVersion() ?? null;
		// SSEClientTransport keeps no readable protocolVersion: the
		// initialize result already set it (instrument())
		if (!STDIO) record.protocol_version = transport.protocolVersion ?? record.protocol_version;

		if (opt.mix === 'memory' || opt.mix === 'filesystem') {
			await (opt.mix === 'memory' ? memoryMix(client, ro, n) : filesystemMix(client, ro));
			closing = true;
			return; // client.close() in finally closes the server's stdin
		}
		const { tools } = await client.listTools(undefined, ro);
		const names = new Set(tools.map((t) => t.name));
		for (const [name] of TOOL_MIX)
			if (!names.has(name)) throw new Error(`server has no tool ${name}`);
		// First thing, so the roots/list server-everything sends 350 ms
		// after initialization (server/index.js) finds the roots known and
		// the tool's own request is the one nested in its call.
		if (SERVER_REQUESTS) await nestedMix(client, ro, names);
		// the task works (4 s) while the mix runs
		const taskId = TASKS ? await tasksStart(client, ro, n) : null;

		let calls = 0;
		for (const [name, count, args] of TOOL_MIX)
			for (let i = 0; i < count; i++) {
				if (phase === 'before' && calls++ === PAUSE_AFTER_CALLS) {
					if (opt.logging) await client.callTool({ name: LOG_TOOL, arguments: {} }, undefined, ro);
					await pause(pending);
				}
				await client.callTool({ name, arguments: args(i) }, undefined, ro);
			}
		// ts-v1 McpServer answers an unknown tool with isError:true (mcp-wire.md §3).
		const r = await client.callTool({ name: UNKNOWN_TOOL, arguments: {} }, undefined, ro);
		if (r.isError !== true) record.errors.push(`${UNKNOWN_TOOL} did not return isError`);

		await client.listResources(undefined, ro);
		await client.listPrompts(undefined, ro);
		await client.ping(ro);
		await client.ping(ro);

		if (opt.mix === 'json') {
			// json-server.mjs: McpServer turns a throw into isError too
			for (const name of ['fail-throw', 'fail-iserror']) {
				const f = await client.callTool({ name, arguments: {} }, undefined, ro);
				if (f.isError !== true) record.errors.push(`${name} did not return isError`);
			}
			await client.getPrompt({ name: 'greet', arguments: { who: 'x' } }, ro);
			await expectFail(client.getPrompt({ name: 'no-such-prompt', arguments: {} }, ro));
			await client.readResource({ uri: 'mem://readme' }, ro);
			await expectFail(client.readResource({ uri: 'mem://no-such' }, ro));
		}
		if (opt.mix === 'full') {
			// Progress notifications on the POST's SSE stream must not end the call.
			let progress = 0;
			await client.callTool({ name: PROGRESS_TOOL, arguments: { duration: 0.4, steps: 4 } }, undefined, {
				...ro,
				onprogress: () => progress++,
			});
			for (const t0 = Date.now(); progress + lateProgress < 4 && Date.now() - t0 < 1000; ) await sleep(20);
			if (progress + lateProgress !== 4)
				record.errors.push(`expected 4 progress notifications, got ${progress} (+${lateProgress} after the result)`);
			record.late_progress = (record.late_progress ?? 0) + lateProgress;
			// A call the client gives up on: notifications/cancelled ends it.
			const ac = new AbortController();
			const t = setTimeout(() => ac.abort('selftest cancel'), 300);
			try {
				await client.callTool({ name: PROGRESS_TOOL, arguments: { duration: 1.5, steps: 1 } }, undefined, {
					...ro,
					signal: ac.signal,
				});
				record.errors.push('cancelled call returned a result');
			} catch {
				/* expected: aborted */
			} finally {
				clearTimeout(t);
			}
		}
		if (TASKS) await tasksEnd(client, ro, taskId);
		if (opt.logging && PAUSE_FILE !== undefined) {
			const logs = () => record.phases.after.notifications.received['notifications/message'] ?? 0;
			for (const t0 = Date.now(); !logs() && Date.now() - t0 < 6000 && !stopping; ) await sleep(50);
			if (!logs()) record.errors.push('logging: no notifications/message within 6 s after the pause');
			await client.callTool({ name: LOG_TOOL, arguments: {} }, undefined, ro);
		}
		if (HOLD_FILE !== undefined) {
			record.hold = { file: HOLD_FILE, waited_ms: await stopAt(HOLD_FILE, 10) };
			if (record.hold.waited_ms < 0) record.errors.push(`hold: ${HOLD_FILE} did not appear within 10 s`);
		}
		if (fromServer.size) {
			// an answer still being prepared (a late roots/list): let it go out
			for (const t0 = Date.now(); fromServer.size && Date.now() - t0 < 2000; ) await sleep(20);
		}
		if (inflight.size) await Promise.race([Promise.allSettled([...inflight]), sleep(2000)]);
		closing = true;
		if (!STDIO && !SSE) {
			await transport.terminateSession();
			for (const t of targets(phase)) t.http.delete++;
		}
	} catch (e) {
		record.errors.push(`iteration ${n}: ${e?.message ?? e}`);
	} finally {
		await client.close().catch(() => {});
		record.unanswered += pending.size + fromServer.size;
		pending.clear();
		fromServer.clear();
	}
}

let code = 0;
for (let n = 0; n < REPEAT && !stopping && Date.now() < deadline; n++) {
	await iteration(n);
	record.iterations++;
	if (opt.record && REPEAT > 1) writeRecord(); // the demo reads it while we run
	if (!opt.quiet && REPEAT > 1 && n % 20 === 0) process.stderr.write(`client.mjs: iteration ${n + 1}\n`);
	if (n + 1 < REPEAT && DELAY_MS > 0) await sleep(Math.min(DELAY_MS, Math.max(0, deadline - Date.now())));
}
if (record.errors.length || record.unanswered) code = 1;
record.elapsed_seconds = (Date.now() - started) / 1000;
if (!opt.quiet && !opt.record) process.stdout.write(JSON.stringify(record, null, 2) + '\n');
finish(code);
