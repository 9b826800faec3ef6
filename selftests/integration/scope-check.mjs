#!/usr/bin/env node
// SPDX-License-Identifier: GPL-2.0-only
//
// scope.sh's comparison: /metrics must count exactly the calls the in-scope
// clients recorded, per server, and nothing of any other server. Prints TAP
// lines without numbers ("ok - …", "not ok - …" + "#" diagnostics).
//
//   node scope-check.mjs --metrics-url URL --expect NAME=REC.json[,REC2.json]...
//        [--absent NAME]... [--settle-seconds S] [--label TEXT]
//
// For each --expect server: mcp_requests_total by (method, status) and
// mcp_tool_calls_total by (tool_name, status) equal the sum of its records
// (client.mjs, the ground truth). No mcp_* series may carry a server_name
// outside the --expect list; each --absent name is reported on its own line.
// Waits up to --settle-seconds (default 8) for the counts to settle.

import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseExposition, sumBy } from './expo.mjs';

const { values: opt } = parseArgs({
	options: {
		'metrics-url': { type: 'string' },
		expect: { type: 'string', multiple: true, default: [] },
		absent: { type: 'string', multiple: true, default: [] },
		'settle-seconds': { type: 'string', default: '8' },
		label: { type: 'string', default: '' },
		save: { type: 'string' },
	},
});
const P = opt.label ? `${opt.label}: ` : '';

const want = new Map(); // server -> { req: Map, tools: Map }
for (const e of opt.expect) {
	const i = e.indexOf('=');
	const name = e.slice(0, i);
	const w = want.get(name) ?? { req: new Map(), tools: new Map() };
	for (const f of e.slice(i + 1).split(',')) {
		const r = JSON.parse(readFileSync(f, 'utf8'));
		const add = (m, k, n) => n && m.set(k, (m.get(k) ?? 0) + n);
		for (const src of [r.requests, r.server_answers])
			for (const [method, c] of Object.entries(src ?? {}))
				for (const st of ['ok', 'error', 'cancelled']) add(w.req, JSON.stringify([method, st]), c[st] ?? 0);
		for (const [tool, c] of Object.entries(r.tools ?? {}))
			for (const st of ['ok', 'error', 'cancelled']) add(w.tools, JSON.stringify([tool, st]), c[st] ?? 0);
	}
	want.set(name, w);
}

const nz = (m) => new Map([...m].filter(([, v]) => v !== 0));
function diff(label, e, o) {
	e = nz(e);
	o = nz(o);
	const keys = [...new Set([...e.keys(), ...o.keys()])].sort();
	const bad = keys.filter((k) => e.get(k) !== o.get(k));
	return bad.length ? [`  ${label}  expected  observed`, ...bad.map((k) => `! ${k}  ${e.get(k) ?? '-'}  ${o.get(k) ?? '-'}`)] : [];
}

async function evaluate() {
	const text = await (await fetch(opt['metrics-url'])).text();
	const parsed = parseExposition(text);
	const res = [];
	for (const [name, w] of want) {
		const only = { server_name: name };
		res.push({ name: `${P}${name}: mcp_requests_total by (method,status) equals the in-scope clients' record`,
			diag: diff('(method,status)', w.req, sumBy(parsed, 'mcp_requests_total', ['method', 'status'], only)) });
		res.push({ name: `${P}${name}: mcp_tool_calls_total by (tool_name,status) equals the record`,
			diag: diff('(tool_name,status)', w.tools, sumBy(parsed, 'mcp_tool_calls_total', ['tool_name', 'status'], only)) });
	}
	const seen = new Set();
	for (const s of parsed.samples ?? parsed)
		if (s.name?.startsWith('mcp_') && s.labels && 'server_name' in s.labels) seen.add(s.labels.server_name);
	for (const a of opt.absent)
		res.push({ name: `${P}no series of out-of-scope server ${a}`,
			diag: seen.has(a) ? [`observed: ${text.split('\n').filter((l) => l.includes(`server_name="${a}"`)).slice(0, 8).join('\n')}`] : [] });
	const others = [...seen].filter((n) => !want.has(n));
	res.push({ name: `${P}no server_name other than the in-scope ones (${[...want.keys()].join(', ')})`,
		diag: others.length ? [`others: ${others.join(', ')}`] : [] });
	return { res, text };
}

const deadline = Date.now() + Number(opt['settle-seconds']) * 1000;
let r;
for (;;) {
	r = await evaluate();
	if (r.res.every((x) => !x.diag.length) || Date.now() >= deadline) break;
	await new Promise((ok) => setTimeout(ok, 500));
}
if (opt.save) writeFileSync(opt.save, r.text);
for (const x of r.res) {
	console.log(`${x.diag.length ? 'not ok' : 'ok'} - ${x.name}`);
	for (const d of x.diag) console.log(d.split('\n').map((l) => `# ${l}`).join('\n'));
}
process.exit(r.res.some((x) => x.diag.length) ? 1 : 0);
