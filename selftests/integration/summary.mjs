#!/usr/bin/env node
// SPDX-License-Identifier: GPL-2.0-only
//
// One compact snapshot of mcpwire's /metrics for the demo: per server, per
// method the ok/error/cancelled counts, the median (interpolated from the
// histogram buckets, like histogram_quantile) and the mean duration; per tool
// the call counts. With --record, the client's own totals appear beside
// mcpwire's so the two can be compared by eye.
//
//   node summary.mjs --metrics-url http://127.0.0.1:P/metrics [--record rec.json] [--clear]

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseExposition } from './expo.mjs';

const { values: opt } = parseArgs({
	options: {
		'metrics-url': { type: 'string' },
		record: { type: 'string' },
		clear: { type: 'boolean', default: false },
		title: { type: 'string', default: '' },
	},
});

function quantile(q, buckets) {
	// buckets: [[le, cumulative count]] sorted by le, ending with +Inf
	const total = buckets.at(-1)?.[1] ?? 0;
	if (!total) return NaN;
	const rank = q * total;
	let prevLe = 0;
	let prevC = 0;
	for (const [le, c] of buckets) {
		if (c >= rank) {
			if (le === Infinity) return prevLe;
			return prevLe + ((le - prevLe) * (rank - prevC)) / Math.max(c - prevC, 1e-12);
		}
		prevLe = le;
		prevC = c;
	}
	return NaN;
}

const ms = (s) => (Number.isFinite(s) ? (s * 1000).toFixed(s < 0.01 ? 2 : 1) : '-');

let text;
try {
	const r = await fetch(opt['metrics-url'], { signal: AbortSignal.timeout(2000) });
	text = await r.text();
} catch (e) {
	console.log(`(mcpwire /metrics not answering: ${e.message})`);
	process.exit(0);
}
let rec = null;
try {
	if (opt.record) rec = JSON.parse(readFileSync(opt.record, 'utf8'));
} catch {
	/* not written yet */
}

const p = parseExposition(text);
const servers = new Map();
const srv = (name) => {
	if (!servers.has(name)) servers.set(name, { methods: new Map(), tools: new Map(), info: null, inflight: 0, sessions: 0 });
	return servers.get(name);
};
const row = (m, k) => {
	if (!m.has(k)) m.set(k, { ok: 0, error: 0, cancelled: 0, buckets: [], sum: 0, count: 0 });
	return m.get(k);
};
for (const s of p.samples) {
	const l = s.labels;
	if (!l.server_name) continue;
	const S = srv(l.server_name);
	switch (s.name) {
		case 'mcp_requests_total':
			row(S.methods, l.method)[l.status] = (row(S.methods, l.method)[l.status] ?? 0) + s.value;
			break;
		case 'mcp_tool_calls_total':
			row(S.tools, l.tool_name)[l.status] = (row(S.tools, l.tool_name)[l.status] ?? 0) + s.value;
			break;
		case 'mcp_request_duration_seconds_bucket':
			row(S.methods, l.method).buckets.push([l.le === '+Inf' ? Infinity : Number(l.le), s.value]);
			break;
		case 'mcp_request_duration_seconds_sum':
			row(S.methods, l.method).sum += s.value;
			break;
		case 'mcp_request_duration_seconds_count':
			row(S.methods, l.method).count += s.value;
			break;
		case 'mcp_tool_call_duration_seconds_bucket':
			row(S.tools, l.tool_name).buckets.push([l.le === '+Inf' ? Infinity : Number(l.le), s.value]);
			break;
		case 'mcp_tool_call_duration_seconds_sum':
			row(S.tools, l.tool_name).sum += s.value;
			break;
		case 'mcp_tool_call_duration_seconds_count':
			row(S.tools, l.tool_name).count += s.value;
			break;
		case 'mcp_server_info':
			S.info = l;
			break;
		case 'mcp_requests_in_flight':
			S.inflight += s.value;
			break;
		case 'mcp_sessions_active':
			S.sessions += s.value;
			break;
	}
}

const out = [];
if (opt.clear) out.push('\x1b[H\x1b[2J');
out.push(`${opt.title}mcpwire ${opt['metrics-url']}  ${new Date().toISOString().slice(11, 19)}`);
const lost = p.samples.filter((s) => s.name === 'mcpwire_events_lost_total').reduce((a, s) => a + s.value, 0);
out.push(`events lost: ${lost}   parse problems in /metrics: ${p.problems.length}`);
if (!servers.size) out.push('(no MCP traffic seen yet)');
const num = (v) => String(Math.round(v ?? 0));
for (const [name, S] of [...servers].sort()) {
	out.push('');
	out.push(
		`server ${name}` +
			(S.info ? `  v${S.info.server_version} ${S.info.transport ?? ''} ${S.info.protocol_version ?? ''}` : '') +
			`  sessions ${num(S.sessions)}  in flight ${num(S.inflight)}`,
	);
	const client = rec && rec.server_info?.name === name ? rec : null;
	const hdr = (k) =>
		`  ${k.padEnd(32)} ${'ok'.padStart(7)} ${'error'.padStart(6)} ${'cancl'.padStart(6)} ${'p50 ms'.padStart(8)} ${'mean ms'.padStart(8)}` +
		(client ? `  ${'client ok/err/cancl'.padStart(20)}` : '');
	const line = (k, r, c) => {
		r.buckets.sort((a, b) => a[0] - b[0]);
		return (
			`  ${k.slice(0, 32).padEnd(32)} ${num(r.ok).padStart(7)} ${num(r.error).padStart(6)} ${num(r.cancelled).padStart(6)} ` +
			`${ms(quantile(0.5, r.buckets)).padStart(8)} ${ms(r.count ? r.sum / r.count : NaN).padStart(8)}` +
			(client ? `  ${(c ? `${c.ok}/${c.error}/${c.cancelled ?? 0}` : '-').padStart(20)}` : '')
		);
	};
	out.push(hdr('method'));
	for (const [k, r] of [...S.methods].sort()) out.push(line(k, r, client?.requests?.[k]));
	if (S.tools.size) {
		out.push(hdr('tool'));
		for (const [k, r] of [...S.tools].sort()) out.push(line(k, r, client?.tools?.[k]));
	}
}
if (rec) out.push('', `client: ${rec.iterations} iteration(s), ${rec.sessions} session(s), ${rec.errors.length} error(s)`);
console.log(out.join('\n'));
