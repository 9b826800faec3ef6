#!/usr/bin/env node
// SPDX-License-Identifier: GPL-2.0-only
//
// Compares mcpwire's call log (--log-calls FILE) with the ground-truth record
// client.mjs wrote: exactly one line per request the client sent, with the
// same method, tool and status, and the fields docs/call-log.md promises.
// Prints TAP lines without numbers ("ok - …", "not ok - …" then "#"
// diagnostics); calllog.sh numbers them.
//
//   node calllog-check.mjs --record rec.json --log calls.jsonl --endpoint IP:PORT
//        --server-name NAME --client-name NAME --client-version V
//
// Only lines whose endpoint is --endpoint are judged: mcpwire sees all MCP
// traffic on the host, and the test's server is the only one on that address.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
	options: {
		record: { type: 'string' },
		log: { type: 'string' },
		endpoint: { type: 'string' },
		'server-name': { type: 'string' },
		'client-name': { type: 'string' },
		'client-version': { type: 'string' },
	},
});
for (const k of ['record', 'log', 'endpoint', 'server-name', 'client-name', 'client-version'])
	if (!opt[k]) {
		console.error(`calllog-check.mjs: --${k} is required`);
		process.exit(2);
	}

let failed = 0;
const ok = (name) => console.log(`ok - ${name}`);
const notOk = (name, ...diag) => {
	failed++;
	console.log(`not ok - ${name}`);
	for (const d of diag) for (const l of String(d).split('\n')) console.log(`#   ${l}`);
};
const check = (cond, name, ...diag) => (cond ? ok(name) : notOk(name, ...diag));
const sorted = (o) =>
	JSON.stringify(Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1))));

const rec = JSON.parse(readFileSync(opt.record, 'utf8'));
const text = readFileSync(opt.log, 'utf8');

// 1. every line is one JSON object, the file ends with a line end
const raw = text.split('\n');
const tail = raw.pop();
const bad = [];
const all = [];
for (const [i, l] of raw.entries()) {
	try {
		const v = JSON.parse(l);
		if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
		all.push(v);
	} catch (e) {
		bad.push(`line ${i + 1}: ${e.message}: ${l.slice(0, 200)}`);
	}
}
check(bad.length === 0 && tail === '', `call log: ${raw.length} line(s), each one JSON object ending in a line end`,
	...bad.slice(0, 10), tail ? `unterminated last line: ${tail.slice(0, 200)}` : '');

const lines = all.filter((l) => l.endpoint === opt.endpoint);
const others = all.length - lines.length;
if (others) console.log(`# ${others} line(s) for other endpoints (other MCP traffic on this host), not judged`);

// 2. one line per request, by method and status
const want = {};
for (const [m, by] of Object.entries(rec.requests))
	for (const [st, n] of Object.entries(by)) if (n) want[`${m} ${st}`] = n;
const got = {};
for (const l of lines) got[`${l.method} ${l.status}`] = (got[`${l.method} ${l.status}`] ?? 0) + 1;
const nWant = Object.values(want).reduce((a, b) => a + b, 0);
check(sorted(got) === sorted(want), `call log: ${lines.length} line(s) for ${opt.endpoint}, one per request the client sent (${nWant}), by method and status`,
	`client: ${sorted(want)}`, `log:    ${sorted(got)}`);

// 3. tools/call lines by tool and status
const wantT = {};
for (const [t, by] of Object.entries(rec.tools))
	for (const [st, n] of Object.entries(by)) if (n) wantT[`${t} ${st}`] = n;
const gotT = {};
for (const l of lines.filter((x) => x.method === 'tools/call'))
	gotT[`${l.tool} ${l.status}`] = (gotT[`${l.tool} ${l.status}`] ?? 0) + 1;
check(sorted(gotT) === sorted(wantT), 'call log: tools/call lines match the client by tool and status',
	`client: ${sorted(wantT)}`, `log:    ${sorted(gotT)}`);

// 4. error codes
const wantE = {};
for (const [m, by] of Object.entries(rec.error_codes ?? {}))
	for (const [c, n] of Object.entries(by)) wantE[`${m} ${c}`] = n;
const gotE = {};
for (const l of lines.filter((x) => x.status === 'error'))
	gotE[`${l.method} ${l.error_code}`] = (gotE[`${l.method} ${l.error_code}`] ?? 0) + 1;
check(sorted(gotE) === sorted(wantE), 'call log: error_code of each error line matches the client',
	`client: ${sorted(wantE)}`, `log:    ${sorted(gotE)}`);

// 5. the fields of every line (docs/call-log.md)
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const fieldErrors = [];
const seenIds = new Set();
const t0 = Date.now() - 10 * 60 * 1000;
for (const l of lines) {
	const e = [];
	if (typeof l.time !== 'string' || !RFC3339.test(l.time)) e.push('time');
	else if (Date.parse(l.time) < t0 || Date.parse(l.time) > Date.now() + 5000) e.push(`time ${l.time} not within the run`);
	if (l.server !== opt['server-name']) e.push(`server ${JSON.stringify(l.server)}`);
	if (typeof l.duration_ms !== 'number' || l.duration_ms < 0) e.push('duration_ms');
	if (l.client?.name !== opt['client-name'] || l.client?.version !== opt['client-version']) e.push(`client ${JSON.stringify(l.client)}`);
	if (typeof l.session !== 'string' || !l.session) e.push('session');
	if (l.transport !== 'streamable_http') e.push(`transport ${l.transport}`);
	if (l.direction !== 'client_to_server') e.push(`direction ${l.direction}`);
	if (!Number.isInteger(l.id)) e.push(`id ${JSON.stringify(l.id)}`);
	if (!Number.isInteger(l.server_pid) || l.server_pid <= 0) e.push('server_pid');
	if (l.method === 'tools/call' && typeof l.tool !== 'string') e.push('tool');
	if ((l.status === 'error') !== (typeof l.error_code === 'string')) e.push('error_code');
	for (const k of ['container', 'arguments', 'result', 'error']) if (k in l) e.push(`unexpected key ${k}`);
	const key = `${l.session} ${l.id}`;
	if (seenIds.has(key)) e.push(`second line for session ${l.session} id ${l.id}`);
	seenIds.add(key);
	if (e.length) fieldErrors.push(`${e.join(', ')}: ${JSON.stringify(l)}`);
}
check(lines.length > 0 && fieldErrors.length === 0,
	`call log: every line has time, server "${opt['server-name']}", client ${opt['client-name']}/${opt['client-version']}, session, transport, id, server_pid, duration_ms; no container, no payload`,
	...fieldErrors.slice(0, 10));

// 6. the cancelled call of the full mix ends near its cancellation (~300 ms), not at the session's end
const cancelled = lines.filter((l) => l.status === 'cancelled');
if (rec.mix === 'full')
	check(cancelled.length > 0 && cancelled.every((l) => l.duration_ms >= 250 && l.duration_ms < 1500),
		`call log: ${cancelled.length} cancelled call(s), each ended by its cancellation (250..1500 ms)`,
		...cancelled.map((l) => JSON.stringify(l)));

process.exit(failed ? 1 : 0);
